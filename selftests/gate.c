// SPDX-License-Identifier: GPL-2.0
/*
 * ktls-attest: the kernel gate.  From the first kTLS key on, no application
 * data moves on an armed socket until the verdict "pass"; after "fail" or
 * "revoke" none moves again.
 *
 * Fixture "gate" runs over TLS 1.2/1.3 x AES-GCM-128/256, ChaCha20-Poly1305
 * x IPv4/IPv6 and opens three gated pairs A, B, C in state PENDING (see
 * lib/katt_test.h: the connect() end is gated; its peer has only its TX key
 * until it reads, so whatever the gated end sent sits in the peer's plain
 * TCP queue).  One test per data path (send, sendto, sendmsg, sendfile,
 * splice into the socket, recv, recvfrom, recvmsg, MSG_PEEK, MSG_WAITALL,
 * splice out, poll, select, epoll), each:
 *   PENDING  a call that may not wait gets EAGAIN; a blocking caller on each
 *            of A, B, C stays blocked and the peers receive nothing;
 *   verdicts A pass, B fail, C revoke: A's caller completes byte-exact, B's
 *            fails EKEYREJECTED, C's EKEYREVOKED (poll: ready / error);
 *   PASSED   on A the path moves data at once, byte-exact;
 *   REVOKED  A revoked: every call fails EKEYREVOKED at once, B's
 *            EKEYREJECTED, and no byte reaches a peer.
 * Plus status and sock-get/dump contents per variant.
 *
 * Fixture "one" (TLS 1.3, AES-GCM-128, IPv4) covers the semantics around
 * it: SO_RCVTIMEO/SO_SNDTIMEO, signals, shutdown(), the attestation record
 * type, TCP_REPAIR and TCP_ZEROCOPY_RECEIVE, socket option errors, the
 * round deadline.
 *
 * Without the module every test SKIPs.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <linux/ktls_attest.h>
#include <linux/tcp.h>
#include <linux/tls.h>

#include "kselftest_harness.h"
#include "lib/katt_harness.h"
#include "lib/katt_nl.h"
#include "lib/katt_test.h"
#include "lib/ktls.h"

#define NR_PAIRS	3
#define SEND_LEN	20000	/* two records */
#define RECV_LEN	6000	/* one record: MSG_PEEK sees all of it */
#define POLL_LEN	100

#define PASS		KTLS_ATTEST_VERDICT_PASS
#define FAIL		KTLS_ATTEST_VERDICT_FAIL
#define REVOKE		KTLS_ATTEST_VERDICT_REVOKE

FIXTURE(gate)
{
	bool skip;
	int kmsg;
	long long t0_ns;
	struct katt_nl *nl;
	struct katt_pair pr[NR_PAIRS];
	struct katt_caller c[NR_PAIRS];
};

FIXTURE_VARIANT(gate)
{
	uint16_t version;
	uint16_t cipher;
	int family;
};

#define GATE_VARIANT(vname, ver, cname, ciph, fname, fam)		\
	FIXTURE_VARIANT_ADD(gate, vname##_##cname##_##fname)		\
	{								\
		.version = ver,						\
		.cipher = ciph,						\
		.family = fam,						\
	}

#define GATE_FAMILIES(vname, ver, cname, ciph)				\
	GATE_VARIANT(vname, ver, cname, ciph, ipv4, AF_INET);		\
	GATE_VARIANT(vname, ver, cname, ciph, ipv6, AF_INET6)

#define GATE_CIPHERS(vname, ver)					\
	GATE_FAMILIES(vname, ver, aes128, TLS_CIPHER_AES_GCM_128);	\
	GATE_FAMILIES(vname, ver, aes256, TLS_CIPHER_AES_GCM_256);	\
	GATE_FAMILIES(vname, ver, chacha, TLS_CIPHER_CHACHA20_POLY1305)

GATE_CIPHERS(tls12, TLS_1_2_VERSION);
GATE_CIPHERS(tls13, TLS_1_3_VERSION);

FIXTURE_SETUP(gate)
{
	struct katt_pair_opts o = {
		.family = variant->family,
		.version = variant->version,
		.cipher = variant->cipher,
	};
	int i;

	KATT_FIXTURE_START(self, self->pr, NR_PAIRS);
	self->t0_ns = katt_realtime_ns();
	for (i = 0; i < NR_PAIRS; i++) {
		katt_open_pair(_metadata, &self->pr[i], &o);
		katt_expect_state(_metadata, self->pr[i].g,
				  KTLS_ATTEST_STATE_PENDING, 1);
	}
}

FIXTURE_TEARDOWN(gate)
{
	int i;

	for (i = 0; i < NR_PAIRS; i++)
		katt_caller_free(&self->c[i]);
	katt_fixture_end(_metadata, self->pr, NR_PAIRS, self->nl, self->kmsg);
}

/* Calls on @fd that may not wait (MSG_DONTWAIT, O_NONBLOCK) give @err. */
static void expect_nowait(struct __test_metadata *_metadata,
			  enum katt_path p, int fd, void *buf, size_t len,
			  ssize_t err)
{
	ssize_t ret;

	katt_guard(GUARD_MS);
	if (katt_path_has_flags(p)) {
		ret = katt_path_io(p, fd, buf, len, MSG_DONTWAIT, 0);
		EXPECT_EQ(err, ret) TH_LOG("%s MSG_DONTWAIT: %zd (%s)",
					   katt_path_name(p), ret,
					   katt_err(ret));
	}
	ASSERT_EQ(0, katt_set_nonblock(fd, true));
	ret = katt_path_io(p, fd, buf, len, 0, 0);
	EXPECT_EQ(err, ret) TH_LOG("%s O_NONBLOCK: %zd (%s)",
				   katt_path_name(p), ret, katt_err(ret));
	ASSERT_EQ(0, katt_set_nonblock(fd, false));
	katt_guard_off();
}

/* A blocking call on @fd fails with @err at once. */
static void expect_fails(struct __test_metadata *_metadata, enum katt_path p,
			 int fd, void *buf, size_t len, ssize_t err)
{
	ssize_t ret;

	katt_guard(GUARD_MS);
	ret = katt_path_io(p, fd, buf, len, 0, katt_path_is_poll(p) ? -1 : 0);
	katt_guard_off();
	EXPECT_EQ(err, ret) TH_LOG("%s: %zd (%s)", katt_path_name(p), ret,
				   katt_err(ret));
	expect_nowait(_metadata, p, fd, buf, len, err);
}

/* One blocked caller of @p on each pair; they stay blocked. */
static void block_all(struct __test_metadata *_metadata,
		      FIXTURE_DATA(gate) *self, enum katt_path p,
		      char **tx, size_t len)
{
	struct katt_call call = { .path = p, .len = len };
	int i;

	for (i = 0; i < NR_PAIRS; i++) {
		call.fd = self->pr[i].g;
		call.buf = tx ? tx[i] : NULL;
		katt_start(_metadata, &self->c[i], &call);
	}
	ktls_msleep(HOLD_MS);
	for (i = 0; i < NR_PAIRS; i++) {
		EXPECT_TRUE(katt_caller_blocked(&self->c[i]))
			TH_LOG("%s on pending pair %d returned %zd (%s)",
			       katt_path_name(p), i, self->c[i].res->ret,
			       katt_err(self->c[i].res->ret));
		katt_expect_state(_metadata, self->pr[i].g,
				  KTLS_ATTEST_STATE_PENDING, 1);
	}
}

/* A passes, B fails, C is revoked; their callers wake. */
static void verdicts_and_wake(struct __test_metadata *_metadata,
			      FIXTURE_DATA(gate) *self)
{
	int i;

	katt_verdict(_metadata, self->nl, &self->pr[0], PASS, "pass A");
	katt_verdict(_metadata, self->nl, &self->pr[1], FAIL, "fail B");
	katt_verdict(_metadata, self->nl, &self->pr[2], REVOKE, "revoke C");
	for (i = 0; i < NR_PAIRS; i++)
		katt_reap(_metadata, &self->c[i], "after the verdict");
	katt_expect_state(_metadata, self->pr[0].g, KTLS_ATTEST_STATE_PASSED, 1);
	katt_expect_state(_metadata, self->pr[1].g, KTLS_ATTEST_STATE_FAILED, 1);
	katt_expect_state(_metadata, self->pr[2].g, KTLS_ATTEST_STATE_REVOKED, 1);
}

static char *pattern(size_t len, uint32_t seed)
{
	char *p = malloc(len);

	if (p)
		ktls_fill(p, len, seed);
	return p;
}

static void send_path(struct __test_metadata *_metadata,
		      FIXTURE_DATA(gate) *self, enum katt_path p)
{
	struct katt_pair *a = &self->pr[0], *b = &self->pr[1],
			 *c = &self->pr[2];
	const size_t len = SEND_LEN;
	char *tx[NR_PAIRS], *rx = malloc(len);
	long long sent;
	ssize_t ret;
	int i;

	ASSERT_NE(NULL, rx);
	for (i = 0; i < NR_PAIRS; i++) {
		tx[i] = pattern(len, 100 + i);
		ASSERT_NE(NULL, tx[i]);
	}

	/* PENDING */
	expect_nowait(_metadata, p, a->g, tx[0], len, -EAGAIN);
	block_all(_metadata, self, p, tx, len);
	for (i = 0; i < NR_PAIRS; i++)
		katt_expect_peer_got(_metadata, &self->pr[i], 0);

	verdicts_and_wake(_metadata, self);
	ret = self->c[0].res->ret;
	EXPECT_EQ((ssize_t)len, ret) TH_LOG("woken %s on passed A: %s",
					    katt_path_name(p), katt_err(ret));
	EXPECT_EQ(-EKEYREJECTED, self->c[1].res->ret);
	EXPECT_EQ(-EKEYREVOKED, self->c[2].res->ret);
	ASSERT_EQ((ssize_t)len, katt_pair_peer_recv(a, rx, len));
	EXPECT_EQ(-1, ktls_first_diff(tx[0], rx, len));

	/* PASSED: moves at once */
	ktls_fill(tx[0], len, 200);
	katt_guard(GUARD_MS);
	ret = katt_path_io(p, a->g, tx[0], len, 0, 0);
	katt_guard_off();
	EXPECT_EQ((ssize_t)len, ret) TH_LOG("%s on passed A: %s",
					    katt_path_name(p), katt_err(ret));
	ASSERT_EQ((ssize_t)len, katt_pair_peer_recv(a, rx, len));
	EXPECT_EQ(-1, ktls_first_diff(tx[0], rx, len));
	if (katt_path_has_flags(p)) {
		EXPECT_EQ(POLL_LEN, katt_path_io(p, a->g, tx[1], POLL_LEN,
						 MSG_DONTWAIT, 0));
		ASSERT_EQ(POLL_LEN, katt_pair_peer_recv(a, rx, POLL_LEN));
		EXPECT_EQ(-1, ktls_first_diff(tx[1], rx, POLL_LEN));
	}

	/* REVOKED, FAILED: nothing moves any more */
	sent = katt_tcp_bytes_received(a->p);
	katt_verdict(_metadata, self->nl, a, REVOKE, "revoke A");
	expect_fails(_metadata, p, a->g, tx[0], len, -EKEYREVOKED);
	expect_fails(_metadata, p, b->g, tx[1], len, -EKEYREJECTED);
	expect_fails(_metadata, p, c->g, tx[2], len, -EKEYREVOKED);
	ktls_msleep(10);
	katt_expect_peer_got(_metadata, a, sent);
	katt_expect_peer_got(_metadata, b, 0);
	katt_expect_peer_got(_metadata, c, 0);

	for (i = 0; i < NR_PAIRS; i++)
		free(tx[i]);
	free(rx);
}

static void recv_path(struct __test_metadata *_metadata,
		      FIXTURE_DATA(gate) *self, enum katt_path p)
{
	struct katt_pair *a = &self->pr[0], *b = &self->pr[1],
			 *c = &self->pr[2];
	const size_t len = RECV_LEN, half = RECV_LEN / 2;
	size_t first = p == KP_WAITALL ? half : len;
	char *tx[NR_PAIRS], *rx = malloc(len);
	ssize_t ret;
	int i;

	ASSERT_NE(NULL, rx);
	for (i = 0; i < NR_PAIRS; i++) {
		tx[i] = pattern(len, 300 + i);
		ASSERT_NE(NULL, tx[i]);
		ASSERT_EQ((ssize_t)first,
			  ktls_send_all(self->pr[i].p, tx[i], first, 0));
		ASSERT_EQ(0, katt_wait_bytes_received(self->pr[i].g, first,
						      WAKE_MS));
	}

	/* PENDING: the record is there, but held */
	expect_nowait(_metadata, p, a->g, rx, len, -EAGAIN);
	block_all(_metadata, self, p, NULL, len);

	katt_verdict(_metadata, self->nl, a, PASS, "pass A");
	katt_verdict(_metadata, self->nl, b, FAIL, "fail B");
	katt_verdict(_metadata, self->nl, c, REVOKE, "revoke C");
	if (p == KP_WAITALL) {
		/* woken, it waits for the rest like plain kTLS */
		ktls_msleep(20);
		EXPECT_TRUE(katt_caller_blocked(&self->c[0]));
		ASSERT_EQ((ssize_t)(len - half),
			  ktls_send_all(a->p, tx[0] + half, len - half, 0));
	}
	for (i = 0; i < NR_PAIRS; i++)
		katt_reap(_metadata, &self->c[i], "after the verdict");
	ret = self->c[0].res->ret;
	EXPECT_EQ((ssize_t)len, ret) TH_LOG("woken %s on passed A: %s",
					    katt_path_name(p), katt_err(ret));
	EXPECT_EQ(-1, ktls_first_diff(tx[0], self->c[0].res->data, len));
	EXPECT_EQ(-EKEYREJECTED, self->c[1].res->ret);
	EXPECT_EQ(-EKEYREVOKED, self->c[2].res->ret);
	if (p == KP_PEEK) {
		/* peeking consumed nothing */
		memset(rx, 0, len);
		ASSERT_EQ((ssize_t)len, ktls_recv_all(a->g, rx, len, 0));
		EXPECT_EQ(-1, ktls_first_diff(tx[0], rx, len));
	}

	/* PASSED: moves at once */
	ktls_fill(tx[0], len, 400);
	ASSERT_EQ((ssize_t)len, ktls_send_all(a->p, tx[0], len, 0));
	memset(rx, 0, len);
	katt_guard(GUARD_MS);
	ret = katt_path_io(p, a->g, rx, len, 0, 0);
	katt_guard_off();
	EXPECT_EQ((ssize_t)len, ret) TH_LOG("%s on passed A: %s",
					    katt_path_name(p), katt_err(ret));
	EXPECT_EQ(-1, ktls_first_diff(tx[0], rx, len));
	if (p == KP_PEEK)
		ASSERT_EQ((ssize_t)len, ktls_recv_all(a->g, rx, len, 0));

	/* REVOKED, FAILED: queued records stay where they are */
	ASSERT_EQ((ssize_t)len, ktls_send_all(a->p, tx[0], len, 0));
	katt_verdict(_metadata, self->nl, a, REVOKE, "revoke A");
	expect_fails(_metadata, p, a->g, rx, len, -EKEYREVOKED);
	expect_fails(_metadata, p, b->g, rx, len, -EKEYREJECTED);
	expect_fails(_metadata, p, c->g, rx, len, -EKEYREVOKED);

	for (i = 0; i < NR_PAIRS; i++)
		free(tx[i]);
	free(rx);
}

#define RW	(POLLIN | POLLOUT)
#define ERW	(POLLERR | POLLIN | POLLOUT)

static void poll_path(struct __test_metadata *_metadata,
		      FIXTURE_DATA(gate) *self, enum katt_path p)
{
	struct katt_pair *a = &self->pr[0];
	/* select has no error set: errors show as readable and writable */
	const int err_mask = p == KP_SELECT ? RW : ERW;
	char tx[POLL_LEN], rx[POLL_LEN];
	ssize_t ret;
	int i;

	ktls_fill(tx, sizeof(tx), 500);
	for (i = 0; i < NR_PAIRS; i++) {
		ASSERT_EQ(POLL_LEN, ktls_send_all(self->pr[i].p, tx, POLL_LEN,
						  0));
		ASSERT_EQ(0, katt_wait_bytes_received(self->pr[i].g, POLL_LEN,
						      WAKE_MS));
	}

	/* PENDING: a record to read and room to write, but neither shows */
	ret = katt_path_io(p, a->g, NULL, 0, 0, 0);
	EXPECT_EQ(0, ret & ERW) TH_LOG("%s on pending: %#zx",
				       katt_path_name(p), ret);
	block_all(_metadata, self, p, NULL, 0);

	katt_verdict(_metadata, self->nl, a, PASS, "pass A");
	katt_verdict(_metadata, self->nl, &self->pr[1], FAIL, "fail B");
	katt_verdict(_metadata, self->nl, &self->pr[2], REVOKE, "revoke C");
	for (i = 0; i < NR_PAIRS; i++)
		katt_reap(_metadata, &self->c[i], "after the verdict");
	EXPECT_EQ(RW, self->c[0].res->ret & ERW)
		TH_LOG("%s woken on pass: %#zx", katt_path_name(p),
		       self->c[0].res->ret);
	EXPECT_EQ(err_mask, self->c[1].res->ret & ERW)
		TH_LOG("%s woken on fail: %#zx", katt_path_name(p),
		       self->c[1].res->ret);
	EXPECT_EQ(err_mask, self->c[2].res->ret & ERW)
		TH_LOG("%s woken on revoke: %#zx", katt_path_name(p),
		       self->c[2].res->ret);

	/* PASSED: readiness is plain kTLS's */
	EXPECT_EQ(RW, katt_path_io(p, a->g, NULL, 0, 0, 0) & ERW);
	katt_guard(GUARD_MS);
	ASSERT_EQ(POLL_LEN, ktls_recv_all(a->g, rx, POLL_LEN, 0));
	katt_guard_off();
	EXPECT_EQ(-1, ktls_first_diff(tx, rx, POLL_LEN));
	EXPECT_EQ(POLLOUT, katt_path_io(p, a->g, NULL, 0, 0, 0) & ERW);

	/* REVOKED, FAILED: calls fail at once, so they show as ready */
	ASSERT_EQ(POLL_LEN, ktls_send_all(a->p, tx, POLL_LEN, 0));
	katt_verdict(_metadata, self->nl, a, REVOKE, "revoke A");
	for (i = 0; i < NR_PAIRS; i++) {
		ret = katt_path_io(p, self->pr[i].g, NULL, 0, 0, 0);
		EXPECT_EQ(err_mask, ret & ERW) TH_LOG("%s on pair %d: %#zx",
						      katt_path_name(p), i,
						      ret);
		ret = katt_path_io(p, self->pr[i].g, NULL, 0, 0, 1000);
		EXPECT_EQ(err_mask, ret & ERW);
	}
	katt_guard(GUARD_MS);
	EXPECT_EQ(-EKEYREVOKED, katt_path_io(KP_RECV, a->g, rx, POLL_LEN, 0, 0));
	katt_guard_off();
}

#define PATH_TEST(name, kind, path)					\
	TEST_F(gate, name)						\
	{								\
		READY();						\
		kind##_path(_metadata, self, path);			\
	}

PATH_TEST(send, send, KP_SEND)
PATH_TEST(sendto, send, KP_SENDTO)
PATH_TEST(sendmsg, send, KP_SENDMSG)
PATH_TEST(sendfile, send, KP_SENDFILE)
PATH_TEST(splice_in, send, KP_SPLICE_IN)
PATH_TEST(recv, recv, KP_RECV)
PATH_TEST(recvfrom, recv, KP_RECVFROM)
PATH_TEST(recvmsg, recv, KP_RECVMSG)
PATH_TEST(recv_peek, recv, KP_PEEK)
PATH_TEST(recv_waitall, recv, KP_WAITALL)
PATH_TEST(splice_out, recv, KP_SPLICE_OUT)
PATH_TEST(poll, poll, KP_POLL)
PATH_TEST(select, poll, KP_SELECT)
PATH_TEST(epoll, poll, KP_EPOLL)

static void expect_addr(struct __test_metadata *_metadata, int family,
			const struct sockaddr_storage *ss, const uint8_t *addr,
			uint8_t addr_len, uint16_t port)
{
	if (family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)ss;

		ASSERT_EQ(16, addr_len);
		EXPECT_EQ(0, memcmp(&sin6->sin6_addr, addr, 16));
		EXPECT_EQ(ntohs(sin6->sin6_port), port);
	} else {
		const struct sockaddr_in *sin = (const void *)ss;

		ASSERT_EQ(4, addr_len);
		EXPECT_EQ(0, memcmp(&sin->sin_addr, addr, 4));
		EXPECT_EQ(ntohs(sin->sin_port), port);
	}
}

/* sock-get and the dump entry of @pp agree with the socket itself. */
static void expect_sock(struct __test_metadata *_metadata, int family,
			struct katt_pair *pp, const struct katt_nl_sock *s)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int attr;

	for (attr = KTLS_ATTEST_A_SOCK_COOKIE; attr <= KTLS_ATTEST_A_SOCK_RX_HELD;
	     attr++) {
		if (attr == KTLS_ATTEST_A_SOCK_FD ||
		    attr == KTLS_ATTEST_A_SOCK_VERDICT)
			continue;
		EXPECT_TRUE(KATT_NL_HAS(s, attr))
			TH_LOG("sock-get reply without attribute %d", attr);
	}
	EXPECT_EQ(pp->cookie, s->cookie);
	EXPECT_EQ(KTLS_ATTEST_ROLE_RELYING_PARTY, s->role);
	EXPECT_EQ(KTLS_ATTEST_TIMEOUT_MS_DEFAULT, s->timeout_ms);
	EXPECT_EQ(0, s->policy_flags);
	EXPECT_EQ(family, s->family);
	sl = sizeof(ss);
	ASSERT_EQ(0, getsockname(pp->g, (struct sockaddr *)&ss, &sl));
	expect_addr(_metadata, family, &ss, s->saddr, s->saddr_len, s->sport);
	sl = sizeof(ss);
	ASSERT_EQ(0, getpeername(pp->g, (struct sockaddr *)&ss, &sl));
	expect_addr(_metadata, family, &ss, s->daddr, s->daddr_len, s->dport);
}

TEST_F(gate, status_and_dump)
{
	struct katt_pair *a = &self->pr[0];
	struct ktls_attest_status st;
	struct katt_nl_sock s, *v;
	const struct katt_nl_sock *e;
	long long t_pass0, t_pass1;
	char tx[3000], rx[3000];
	size_t n;
	int i;

	READY();
	/* PENDING, as getsockopt and sock-get tell it */
	ASSERT_EQ(0, katt_status(a->g, &st));
	EXPECT_EQ(KTLS_ATTEST_STATE_PENDING, st.state);
	EXPECT_EQ(KTLS_ATTEST_ROLE_RELYING_PARTY, st.role);
	EXPECT_EQ(KTLS_ATTEST_REASON_NONE, st.reason);
	EXPECT_EQ(1, st.round);
	EXPECT_NE(0, a->cookie);
	EXPECT_EQ(a->cookie, st.cookie);
	EXPECT_EQ(0, st.pass_time_ns);
	EXPECT_STREQ("", st.reason_text);

	ASSERT_EQ(0, katt_nl_get(self->nl, a->cookie, &s));
	expect_sock(_metadata, variant->family, a, &s);
	EXPECT_EQ(KTLS_ATTEST_STATE_PENDING, s.state);
	EXPECT_EQ(KTLS_ATTEST_REASON_NONE, s.reason);
	EXPECT_STREQ("", s.reason_text);
	EXPECT_EQ(1, s.round);
	EXPECT_LE(self->t0_ns, (long long)s.armed_time);
	EXPECT_GE(katt_realtime_ns(), (long long)s.armed_time);
	EXPECT_EQ(0, s.pass_time);
	EXPECT_EQ(0, s.tx_bytes);
	EXPECT_EQ(0, s.rx_bytes);
	EXPECT_EQ(0, s.tx_held);
	EXPECT_EQ(0, s.rx_held);

	/* held calls are counted */
	EXPECT_EQ(-1, send(a->g, tx, 10, MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(-1, recv(a->g, rx, 10, MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, katt_nl_get(self->nl, a->cookie, &s));
	EXPECT_EQ(1, s.tx_held);
	EXPECT_EQ(1, s.rx_held);
	EXPECT_EQ(0, s.tx_bytes);
	EXPECT_EQ(0, s.rx_bytes);

	t_pass0 = katt_realtime_ns();
	katt_verdict(_metadata, self->nl, a, PASS, "measurements match");
	t_pass1 = katt_realtime_ns();
	ASSERT_EQ(0, katt_status(a->g, &st));
	EXPECT_EQ(KTLS_ATTEST_STATE_PASSED, st.state);
	EXPECT_EQ(KTLS_ATTEST_REASON_OPERATOR, st.reason);
	EXPECT_STREQ("measurements match", st.reason_text);
	EXPECT_LE(t_pass0, (long long)st.pass_time_ns);
	EXPECT_GE(t_pass1, (long long)st.pass_time_ns);

	/* counters move with the data */
	ktls_fill(tx, sizeof(tx), 600);
	ASSERT_EQ(1000, ktls_send_all(a->g, tx, 1000, 0));
	ASSERT_EQ(1000, katt_pair_peer_recv(a, rx, 1000));
	ASSERT_EQ(3000, ktls_send_all(a->p, tx, 3000, 0));
	ASSERT_EQ(3000, ktls_recv_all(a->g, rx, 3000, 0));
	EXPECT_EQ(-1, ktls_first_diff(tx, rx, 3000));

	ASSERT_EQ(0, katt_nl_get(self->nl, a->cookie, &s));
	expect_sock(_metadata, variant->family, a, &s);
	EXPECT_EQ(KTLS_ATTEST_STATE_PASSED, s.state);
	EXPECT_EQ(KTLS_ATTEST_REASON_OPERATOR, s.reason);
	EXPECT_STREQ("measurements match", s.reason_text);
	EXPECT_EQ(st.pass_time_ns, s.pass_time);
	EXPECT_EQ(1000, s.tx_bytes);
	EXPECT_EQ(3000, s.rx_bytes);
	EXPECT_EQ(1, s.tx_held);
	EXPECT_EQ(1, s.rx_held);

	/* the dump has every pair, with the same contents */
	ASSERT_EQ(0, katt_nl_dump(self->nl, &v, &n));
	for (i = 0; i < NR_PAIRS; i++) {
		e = katt_nl_find(v, n, self->pr[i].cookie);
		ASSERT_NE(NULL, e) TH_LOG("pair %d not in the dump", i);
		expect_sock(_metadata, variant->family, &self->pr[i], e);
		EXPECT_EQ(i ? KTLS_ATTEST_STATE_PENDING :
			  KTLS_ATTEST_STATE_PASSED, e->state);
	}
	e = katt_nl_find(v, n, a->cookie);
	EXPECT_EQ(s.armed_time, e->armed_time);
	EXPECT_EQ(s.pass_time, e->pass_time);
	EXPECT_EQ(s.tx_bytes, e->tx_bytes);
	EXPECT_EQ(s.rx_bytes, e->rx_bytes);
	free(v);
}

/* --- semantics on one configuration ------------------------------------------ */

FIXTURE(one)
{
	bool skip;
	int kmsg;
	struct katt_nl *nl;
	struct katt_pair pr;
	struct katt_caller c[6];
};

static const struct katt_pair_opts one_opts = {
	.family = AF_INET,
	.version = TLS_1_3_VERSION,
	.cipher = TLS_CIPHER_AES_GCM_128,
};

FIXTURE_SETUP(one)
{
	KATT_FIXTURE_START(self, &self->pr, 1);
}

FIXTURE_TEARDOWN(one)
{
	unsigned int i;

	for (i = 0; i < sizeof(self->c) / sizeof(self->c[0]); i++)
		katt_caller_free(&self->c[i]);
	katt_fixture_end(_metadata, &self->pr, 1, self->nl, self->kmsg);
}

static void set_timeo(struct __test_metadata *_metadata, int fd, int opt,
		      unsigned int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000,
			      .tv_usec = (ms % 1000) * 1000 };

	ASSERT_EQ(0, setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv)));
}

/* A blocking call of @p gives EAGAIN after the socket timeout of @ms. */
static void expect_timeo(struct __test_metadata *_metadata, int fd,
			 enum katt_path p, void *buf, size_t len,
			 unsigned int ms)
{
	long long t0, dt;
	ssize_t ret;

	t0 = katt_now_ms();
	katt_guard(GUARD_MS);
	ret = katt_path_io(p, fd, buf, len, 0, 0);
	katt_guard_off();
	dt = katt_now_ms() - t0;
	EXPECT_EQ(-EAGAIN, ret) TH_LOG("%s with a %u ms timeout: %s",
				       katt_path_name(p), ms, katt_err(ret));
	EXPECT_GE(dt, ms - 10) TH_LOG("%s returned after %lld ms",
				      katt_path_name(p), dt);
	EXPECT_LT(dt, GUARD_MS);
}

TEST_F(one, rcvtimeo)
{
	char tx[500], rx[500];

	READY();
	katt_open_pair(_metadata, &self->pr, &one_opts);
	ktls_fill(tx, sizeof(tx), 700);
	ASSERT_EQ(500, ktls_send_all(self->pr.p, tx, 500, 0));
	ASSERT_EQ(0, katt_wait_bytes_received(self->pr.g, 500, WAKE_MS));
	set_timeo(_metadata, self->pr.g, SO_RCVTIMEO, 200);
	expect_timeo(_metadata, self->pr.g, KP_RECV, rx, 500, 200);
	expect_timeo(_metadata, self->pr.g, KP_RECVMSG, rx, 500, 200);
	expect_timeo(_metadata, self->pr.g, KP_SPLICE_OUT, rx, 500, 200);
	katt_expect_state(_metadata, self->pr.g, KTLS_ATTEST_STATE_PENDING, 1);

	/* nothing was lost meanwhile */
	katt_verdict(_metadata, self->nl, &self->pr, PASS, NULL);
	ASSERT_EQ(500, ktls_recv_all(self->pr.g, rx, 500, 0));
	EXPECT_EQ(-1, ktls_first_diff(tx, rx, 500));
}

TEST_F(one, sndtimeo)
{
	char tx[500], rx[500];

	READY();
	katt_open_pair(_metadata, &self->pr, &one_opts);
	ktls_fill(tx, sizeof(tx), 701);
	set_timeo(_metadata, self->pr.g, SO_SNDTIMEO, 200);
	expect_timeo(_metadata, self->pr.g, KP_SEND, tx, 500, 200);
	expect_timeo(_metadata, self->pr.g, KP_SENDFILE, tx, 500, 200);
	expect_timeo(_metadata, self->pr.g, KP_SPLICE_IN, tx, 500, 200);
	katt_expect_peer_got(_metadata, &self->pr, 0);

	katt_verdict(_metadata, self->nl, &self->pr, PASS, NULL);
	ASSERT_EQ(500, ktls_send_all(self->pr.g, tx, 500, 0));
	ASSERT_EQ(500, katt_pair_peer_recv(&self->pr, rx, 500));
	EXPECT_EQ(-1, ktls_first_diff(tx, rx, 500));
}

/* A signal ends a wait in the gate with EINTR (no SA_RESTART). */
TEST_F(one, signal_eintr)
{
	static const enum katt_path paths[] = {
		KP_RECV, KP_SEND, KP_SENDFILE, KP_SPLICE_OUT, KP_SPLICE_IN,
		KP_POLL,
	};
	char tx[1000];
	unsigned int i;

	READY();
	katt_open_pair(_metadata, &self->pr, &one_opts);
	ktls_fill(tx, sizeof(tx), 702);
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct katt_call call = {
			.path = paths[i],
			.fd = self->pr.g,
			.buf = katt_path_is_send(paths[i]) ? tx : NULL,
			.len = sizeof(tx),
			.sig = SIGUSR1,
		};

		katt_start(_metadata, &self->c[i], &call);
	}
	ktls_msleep(HOLD_MS);
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		ASSERT_TRUE(katt_caller_blocked(&self->c[i]))
			TH_LOG("%s on a pending socket returned",
			       katt_path_name(paths[i]));
		kill(self->c[i].pid, SIGUSR1);
	}
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		katt_reap(_metadata, &self->c[i], katt_path_name(paths[i]));
		EXPECT_EQ(-EINTR, self->c[i].res->ret)
			TH_LOG("%s after a signal: %zd (%s)",
			       katt_path_name(paths[i]), self->c[i].res->ret,
			       katt_err(self->c[i].res->ret));
		EXPECT_EQ(1, self->c[i].res->signals);
	}
	katt_expect_state(_metadata, self->pr.g, KTLS_ATTEST_STATE_PENDING, 1);
	katt_expect_peer_got(_metadata, &self->pr, 0);
}

/* With SA_RESTART the wait goes on after the handler, then the verdict. */
TEST_F(one, signal_restart)
{
	char tx[1000], rx[1000];
	struct katt_call rcall = {
		.path = KP_RECV, .len = sizeof(tx), .sig = SIGUSR1,
		.sa_restart = true,
	};
	struct katt_call scall = {
		.path = KP_SEND, .buf = tx, .len = sizeof(tx), .sig = SIGUSR1,
		.sa_restart = true,
	};

	READY();
	katt_open_pair(_metadata, &self->pr, &one_opts);
	ktls_fill(tx, sizeof(tx), 703);
	ASSERT_EQ(1000, ktls_send_all(self->pr.p, tx, 1000, 0));
	rcall.fd = scall.fd = self->pr.g;
	katt_start(_metadata, &self->c[0], &rcall);
	katt_start(_metadata, &self->c[1], &scall);
	ktls_msleep(HOLD_MS);
	kill(self->c[0].pid, SIGUSR1);
	kill(self->c[1].pid, SIGUSR1);
	ktls_msleep(HOLD_MS);
	EXPECT_EQ(1, self->c[0].res->signals);
	EXPECT_EQ(1, self->c[1].res->signals);
	EXPECT_TRUE(katt_caller_blocked(&self->c[0]));
	EXPECT_TRUE(katt_caller_blocked(&self->c[1]));
	katt_expect_peer_got(_metadata, &self->pr, 0);

	katt_verdict(_metadata, self->nl, &self->pr, PASS, NULL);
	katt_reap(_metadata, &self->c[0], "recv");
	katt_reap(_metadata, &self->c[1], "send");
	EXPECT_EQ(1000, self->c[0].res->ret);
	EXPECT_EQ(-1, ktls_first_diff(tx, self->c[0].res->data, 1000));
	EXPECT_EQ(1000, self->c[1].res->ret);
	ASSERT_EQ(1000, katt_pair_peer_recv(&self->pr, rx, 1000));
	EXPECT_EQ(-1, ktls_first_diff(tx, rx, 1000));
}

/* shutdown() wakes callers held in the gate: recv 0, send EPIPE. */
TEST_F(one, shutdown_wakes)
{
	char tx[1000], rx[16];
	struct katt_call rcall = { .path = KP_RECV, .len = sizeof(tx) };
	struct katt_call pcall = { .path = KP_POLL };
	struct katt_call scall = { .path = KP_SEND, .buf = tx,
				   .len = sizeof(tx) };
	ssize_t ret;

	READY();
	katt_open_pair(_metadata, &self->pr, &one_opts);
	ktls_fill(tx, sizeof(tx), 704);
	ASSERT_EQ(1000, ktls_send_all(self->pr.p, tx, 1000, 0));
	rcall.fd = pcall.fd = scall.fd = self->pr.g;
	katt_start(_metadata, &self->c[0], &rcall);
	katt_start(_metadata, &self->c[1], &pcall);
	katt_start(_metadata, &self->c[2], &scall);
	ktls_msleep(HOLD_MS);
	ASSERT_TRUE(katt_caller_blocked(&self->c[0]));
	ASSERT_TRUE(katt_caller_blocked(&self->c[1]));
	ASSERT_TRUE(katt_caller_blocked(&self->c[2]));

	ASSERT_EQ(0, shutdown(self->pr.g, SHUT_RD));
	katt_reap(_metadata, &self->c[0], "recv after shutdown(SHUT_RD)");
	EXPECT_EQ(0, self->c[0].res->ret) TH_LOG("recv: %s",
						 katt_err(self->c[0].res->ret));
	katt_reap(_metadata, &self->c[1], "poll after shutdown(SHUT_RD)");
	EXPECT_TRUE(self->c[1].res->ret & POLLIN);
	EXPECT_FALSE(self->c[1].res->ret & POLLOUT);
	/* and a new receive returns 0 at once; send still waits */
	katt_guard(GUARD_MS);
	EXPECT_EQ(0, recv(self->pr.g, rx, sizeof(rx), 0));
	katt_guard_off();
	EXPECT_TRUE(katt_caller_blocked(&self->c[2]));

	ASSERT_EQ(0, shutdown(self->pr.g, SHUT_WR));
	katt_reap(_metadata, &self->c[2], "send after shutdown(SHUT_WR)");
	EXPECT_EQ(-EPIPE, self->c[2].res->ret)
		TH_LOG("send: %s", katt_err(self->c[2].res->ret));
	katt_guard(GUARD_MS);
	ret = send(self->pr.g, tx, 10, MSG_NOSIGNAL);
	katt_guard_off();
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EPIPE, errno);

	/* the peer saw the FIN (one sequence number) and not one byte */
	EXPECT_EQ(1, katt_tcp_bytes_received(self->pr.p));
	EXPECT_EQ(0, katt_inq(self->pr.p));
	EXPECT_EQ(0, recv(self->pr.p, rx, sizeof(rx), 0));
	katt_expect_state(_metadata, self->pr.g, KTLS_ATTEST_STATE_PENDING, 1);
}

/*
 * Keys installed while callers wait in the gate: woken, they must go
 * through the kTLS that is there now, never the plain TCP that was there
 * when they started (plaintext out, ciphertext in).
 */
TEST_F(one, keys_while_blocked)
{
	struct katt_pair_opts o = one_opts;
	struct katt_pair pr[4];
	char tx[4][1000], rx[1000];
	struct katt_call call = { .len = 1000 };
	long long got;
	int i;

	READY();
	o.no_keys = true;
	for (i = 0; i < 4; i++) {
		katt_open_pair(_metadata, &pr[i], &o);
		ASSERT_EQ(0, ktls_set_ulp(pr[i].g, "tls"));
		ktls_fill(tx[i], sizeof(tx[i]), 710 + i);
	}
	/* 0, 1: only a TX key; the peer's record waits to be read */
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, setsockopt(pr[i].g, SOL_TLS, TLS_TX,
					&pr[i].g2p.info, pr[i].g2p.len));
		ASSERT_EQ(1000, ktls_send_all(pr[i].p, tx[i], 1000, 0));
		ASSERT_EQ(0, katt_wait_bytes_received(pr[i].g, 1000, WAKE_MS));
		call.path = i ? KP_SPLICE_OUT : KP_RECV;
		call.fd = pr[i].g;
		call.buf = NULL;
		katt_start(_metadata, &self->c[i], &call);
	}
	/* 2, 3: only an RX key */
	for (i = 2; i < 4; i++) {
		ASSERT_EQ(0, setsockopt(pr[i].g, SOL_TLS, TLS_RX,
					&pr[i].p2g.info, pr[i].p2g.len));
		call.path = i == 2 ? KP_SEND : KP_SENDFILE;
		call.fd = pr[i].g;
		call.buf = tx[i];
		katt_start(_metadata, &self->c[i], &call);
	}
	ktls_msleep(HOLD_MS);
	for (i = 0; i < 4; i++) {
		EXPECT_TRUE(katt_caller_blocked(&self->c[i]));
		katt_expect_state(_metadata, pr[i].g, KTLS_ATTEST_STATE_PENDING,
				  1);
	}

	/* the other key, then the verdict */
	for (i = 0; i < 4; i++) {
		const struct ktls_crypto *k = i < 2 ? &pr[i].p2g : &pr[i].g2p;

		ASSERT_EQ(0, setsockopt(pr[i].g, SOL_TLS, i < 2 ? TLS_RX : TLS_TX,
					&k->info, k->len));
		katt_expect_state(_metadata, pr[i].g, KTLS_ATTEST_STATE_PENDING,
				  1);
		katt_expect_peer_got(_metadata, &pr[i], 0);
		katt_verdict(_metadata, self->nl, &pr[i], PASS, NULL);
	}
	for (i = 0; i < 4; i++) {
		katt_reap(_metadata, &self->c[i],
			  katt_path_name(i == 0 ? KP_RECV : i == 1 ?
					 KP_SPLICE_OUT : i == 2 ? KP_SEND :
					 KP_SENDFILE));
		EXPECT_EQ(1000, self->c[i].res->ret)
			TH_LOG("caller %d: %s", i, katt_err(self->c[i].res->ret));
	}
	/* plaintext came in decrypted */
	for (i = 0; i < 2; i++)
		EXPECT_EQ(-1, ktls_first_diff(tx[i], self->c[i].res->data,
					      1000));
	/* and went out encrypted: a record is longer than its plaintext */
	for (i = 2; i < 4; i++) {
		got = katt_tcp_bytes_received(pr[i].p);
		EXPECT_LT(1000, got) TH_LOG("pair %d: %lld bytes on the wire", i,
					    got);
		ASSERT_EQ(1000, katt_pair_peer_recv(&pr[i], rx, 1000));
		EXPECT_EQ(-1, ktls_first_diff(tx[i], rx, 1000));
	}
	for (i = 0; i < 4; i++)
		katt_pair_close(&pr[i]);
}

/*
 * Before its keys an armed socket is plain TCP to the application: a
 * recvmsg() with a cmsg buffer (timestamps here) reads the bytes, and a
 * shutdown() that TCP refuses leaves no mark on the gate.
 */
TEST_F(one, armed_is_tcp)
{
	struct katt_pair_opts o = one_opts;
	char cbuf[CMSG_SPACE(sizeof(struct timeval)) * 2], rx[64];
	struct iovec iov = { .iov_base = rx, .iov_len = sizeof(rx) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct sockaddr_storage ss;
	int one = 1, lfd, g, p;
	struct katt_pair pr;
	socklen_t sl;
	ssize_t ret;

	READY();
	o.no_keys = true;
	katt_open_pair(_metadata, &self->pr, &o);
	ASSERT_EQ(0, setsockopt(self->pr.g, SOL_SOCKET, SO_TIMESTAMP, &one,
				sizeof(one)));
	ASSERT_EQ(5, send(self->pr.p, "hello", 5, 0));
	ASSERT_EQ(0, katt_wait_bytes_received(self->pr.g, 5, WAKE_MS));
	katt_guard(GUARD_MS);
	ret = recvmsg(self->pr.g, &msg, MSG_DONTWAIT);
	katt_guard_off();
	/* the peer has a TX key: its bytes are a record, read as TCP */
	EXPECT_LT(5, ret) TH_LOG("recvmsg with a cmsg buffer: %s",
				 katt_err(ret < 0 ? -errno : ret));
	katt_expect_state(_metadata, self->pr.g, KTLS_ATTEST_STATE_ARMED, 0);

	/* shutdown() of an unconnected armed socket fails ... */
	g = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_GE(g, 0);
	ASSERT_EQ(0, ktls_set_ulp(g, KTLS_ATTEST_ULP_NAME));
	EXPECT_EQ(-1, shutdown(g, SHUT_RD));
	EXPECT_EQ(ENOTCONN, errno);
	/* ... and a held receive later still waits */
	lfd = ktls_listen(AF_INET, 1, &ss, &sl);
	ASSERT_GE(lfd, 0);
	ASSERT_EQ(0, connect(g, (struct sockaddr *)&ss, sl));
	p = accept(lfd, NULL, NULL);
	ASSERT_GE(p, 0);
	close(lfd);
	ASSERT_EQ(0, katt_pair_adopt(&pr, g, p, &one_opts));
	katt_expect_state(_metadata, g, KTLS_ATTEST_STATE_PENDING, 1);
	EXPECT_EQ(-1, recv(g, rx, sizeof(rx), MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	katt_pair_close(&pr);
}

/*
 * A TLS 1.3 AES-GCM-128 record of @type with @len bytes (0: an empty one,
 * which kTLS does not send) sealed with @c at sequence number @seq, into
 * @out.  Returns its length on the wire, or -1.
 */
static int seal13(const struct ktls_crypto *c, uint64_t seq, uint8_t type,
		  const void *pt, size_t len, uint8_t *out)
{
	uint8_t nonce[12], inner[64];
	size_t n = len + 1;
	EVP_CIPHER_CTX *x;
	int i, l, ok;

	if (len >= sizeof(inner))
		return -1;
	memcpy(nonce, c->gcm128.salt, 4);
	memcpy(nonce + 4, c->gcm128.iv, 8);
	for (i = 0; i < 8; i++)
		nonce[11 - i] ^= (seq >> (8 * i)) & 0xff;
	memcpy(inner, pt, len);
	inner[len] = type;
	out[0] = 0x17;
	out[1] = 0x03;
	out[2] = 0x03;
	out[3] = (n + 16) >> 8;
	out[4] = (n + 16) & 0xff;
	x = EVP_CIPHER_CTX_new();
	ok = x && EVP_EncryptInit_ex(x, EVP_aes_128_gcm(), NULL, c->gcm128.key,
				     nonce) &&
	     EVP_EncryptUpdate(x, NULL, &l, out, 5) &&
	     EVP_EncryptUpdate(x, out + 5, &l, inner, n) &&
	     EVP_EncryptFinal_ex(x, out + 5 + n, &l) &&
	     EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_GET_TAG, 16, out + 5 + n);
	EVP_CIPHER_CTX_free(x);
	return ok ? (int)(5 + n + 16) : -1;
}

/*
 * Empty records from the peer (TLS 1.3 allows them, of every type): an
 * empty attestation record is a protocol violation, never handed to the
 * application, whether it comes while held (the kernel reads) or once
 * passed (with or without cmsg space); an empty data record before the
 * peer's first attestation record is data.  The peer is a plain TCP
 * socket that seals its records itself.
 */
TEST_F(one, empty_records)
{
	static const struct {
		const char *name;
		bool pass, binding, cmsg;
		uint8_t type;
	} cases[] = {
		{ "passed, empty attestation record, cmsg read", true, false, true,
		  KTLS_ATTEST_RECORD_TYPE },
		{ "passed, empty attestation record, plain read", true, false, false,
		  KTLS_ATTEST_RECORD_TYPE },
		{ "held, empty attestation record", false, true, false,
		  KTLS_ATTEST_RECORD_TYPE },
		{ "held, empty data record first", false, true, false,
		  TLS_RECORD_TYPE_DATA },
	};
	struct ktls_crypto g2p, p2g;
	struct ktls_attest_status st;
	uint8_t rec[2][128], buf[64];
	char cbuf[CMSG_SPACE(sizeof(uint8_t))];
	unsigned int i;
	int g, p, n0, n1;
	ssize_t ret;

	READY();
	ASSERT_EQ(0, ktls_crypto_init(&g2p, TLS_1_3_VERSION,
				      TLS_CIPHER_AES_GCM_128, 0, 0));
	ASSERT_EQ(0, ktls_crypto_init(&p2g, TLS_1_3_VERSION,
				      TLS_CIPHER_AES_GCM_128, 1, 0));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
		struct msghdr msg = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
		};

		ASSERT_EQ(0, ktls_tcp_pair(AF_INET, &g, &p));
		ASSERT_EQ(0, ktls_set_ulp(g, KTLS_ATTEST_ULP_NAME));
		ASSERT_EQ(0, ktls_install(g, &g2p, &p2g));
		if (cases[i].binding)
			ASSERT_EQ(0, katt_set_binding(g, 1, 0));
		if (cases[i].pass)
			ASSERT_EQ(0, katt_nl_pass_socket(g, "empty_records"));

		n0 = seal13(&p2g, 0, cases[i].type, "", 0, rec[0]);
		n1 = seal13(&p2g, 1, TLS_RECORD_TYPE_DATA, "hi", 2, rec[1]);
		ASSERT_LT(0, n0);
		ASSERT_LT(0, n1);
		ASSERT_EQ(n0, send(p, rec[0], n0, 0));
		ASSERT_EQ(n1, send(p, rec[1], n1, 0));

		if (cases[i].pass) {
			ASSERT_EQ(0, katt_wait_bytes_received(g, n0 + n1,
							      WAKE_MS));
			katt_guard(GUARD_MS);
			ret = cases[i].cmsg ? recvmsg(g, &msg, 0) :
			      recv(g, buf, sizeof(buf), 0);
			katt_guard_off();
			EXPECT_EQ(-1, ret) TH_LOG("%s: the read returned %zd",
						  cases[i].name, ret);
			EXPECT_EQ(EKEYREVOKED, errno)
				TH_LOG("%s: %s", cases[i].name,
				       strerror(errno));
		}
		EXPECT_EQ(0, katt_wait_state(g, cases[i].pass ?
					     KTLS_ATTEST_STATE_REVOKED :
					     KTLS_ATTEST_STATE_FAILED,
					     WAKE_MS))
			TH_LOG("%s: not failed closed", cases[i].name);
		ASSERT_EQ(0, katt_status(g, &st));
		EXPECT_EQ(KTLS_ATTEST_REASON_PROTOCOL, st.reason)
			TH_LOG("%s: reason %u (%s)", cases[i].name, st.reason,
			       st.reason_text);
		close(g);
		close(p);
	}
}

/* A reset from the peer ends waits in the gate with ECONNRESET. */
TEST_F(one, peer_reset_wakes)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	struct katt_call rcall = { .path = KP_RECV, .len = 100 };
	char tx[100] = "";
	struct katt_call scall = { .path = KP_SEND, .buf = tx, .len = 100 };
	struct katt_pair pr2;

	READY();
	katt_open_pair(_metadata, &self->pr, &one_opts);
	katt_open_pair(_metadata, &pr2, &one_opts);
	rcall.fd = self->pr.g;
	scall.fd = pr2.g;
	katt_start(_metadata, &self->c[0], &rcall);
	katt_start(_metadata, &self->c[1], &scall);
	ktls_msleep(HOLD_MS);
	ASSERT_TRUE(katt_caller_blocked(&self->c[0]));
	ASSERT_TRUE(katt_caller_blocked(&self->c[1]));

	ASSERT_EQ(0, setsockopt(self->pr.p, SOL_SOCKET, SO_LINGER, &lg,
				sizeof(lg)));
	ASSERT_EQ(0, setsockopt(pr2.p, SOL_SOCKET, SO_LINGER, &lg,
				sizeof(lg)));
	close(self->pr.p);
	self->pr.p = -1;
	close(pr2.p);
	pr2.p = -1;
	katt_reap(_metadata, &self->c[0], "recv after a reset");
	katt_reap(_metadata, &self->c[1], "send after a reset");
	EXPECT_EQ(-ECONNRESET, self->c[0].res->ret)
		TH_LOG("recv: %s", katt_err(self->c[0].res->ret));
	EXPECT_TRUE(self->c[1].res->ret == -ECONNRESET ||
		    self->c[1].res->ret == -EPIPE)
		TH_LOG("send: %s", katt_err(self->c[1].res->ret));
	katt_expect_state(_metadata, self->pr.g, KTLS_ATTEST_STATE_PENDING, 1);
	katt_pair_close(&pr2);
}

/*
 * Calls that passed the open gate and wait inside kTLS (for data, for
 * buffer space) wake on a revoke with its error, and nothing the peer
 * sends after the verdict reaches them.
 */
TEST_F(one, revoke_wakes_passed)
{
	struct katt_call rcall = { .path = KP_RECV, .len = 100 };
	char tx[100], rx[100];
	int err = 0;
	socklen_t len = sizeof(err);

	READY();
	katt_open_pair(_metadata, &self->pr, &one_opts);
	katt_verdict(_metadata, self->nl, &self->pr, PASS, "pass");
	ktls_fill(tx, sizeof(tx), 931);
	rcall.fd = self->pr.g;
	katt_start(_metadata, &self->c[0], &rcall);
	ktls_msleep(HOLD_MS);
	ASSERT_TRUE(katt_caller_blocked(&self->c[0]));

	katt_verdict(_metadata, self->nl, &self->pr, REVOKE, "revoke");
	katt_reap(_metadata, &self->c[0], "recv inside kTLS after a revoke");
	EXPECT_EQ(-EKEYREVOKED, self->c[0].res->ret)
		TH_LOG("recv: %s", katt_err(self->c[0].res->ret));

	/* data after the verdict stays in the socket */
	ASSERT_EQ(100, ktls_send_all(self->pr.p, tx, 100, 0));
	ASSERT_EQ(0, katt_wait_bytes_received(self->pr.g, 100, WAKE_MS));
	EXPECT_EQ(-1, recv(self->pr.g, rx, sizeof(rx), MSG_DONTWAIT));
	EXPECT_EQ(EKEYREVOKED, errno);
	EXPECT_EQ(-1, recv(self->pr.g, rx, sizeof(rx), 0));
	EXPECT_EQ(EKEYREVOKED, errno);
	/* the reason is the socket's error, once */
	ASSERT_EQ(0, getsockopt(self->pr.g, SOL_SOCKET, SO_ERROR, &err,
				&len));
	EXPECT_TRUE(err == 0 || err == EKEYREVOKED) TH_LOG("SO_ERROR %d", err);
}

/* Userspace may never send a record of the attestation type. */
TEST_F(one, record_type)
{
	const unsigned char alert[2] = { 1, 0 };	/* close_notify */
	char buf[64];
	uint8_t type;

	READY();
	katt_open_pair(_metadata, &self->pr, &one_opts);
	ktls_fill(buf, sizeof(buf), 705);

	katt_guard(GUARD_MS);
	EXPECT_EQ(-EPERM, ktls_send_record(self->pr.g, KTLS_ATTEST_RECORD_TYPE,
					   buf, sizeof(buf), 0));
	EXPECT_EQ(-EPERM, ktls_send_record(self->pr.g, KTLS_ATTEST_RECORD_TYPE,
					   buf, sizeof(buf), MSG_DONTWAIT));
	/* other control records are held like data */
	EXPECT_EQ(-EAGAIN, ktls_send_record(self->pr.g, TLS_RECORD_TYPE_ALERT,
					    alert, sizeof(alert),
					    MSG_DONTWAIT));
	katt_guard_off();
	katt_expect_peer_got(_metadata, &self->pr, 0);

	katt_verdict(_metadata, self->nl, &self->pr, PASS, NULL);
	katt_guard(GUARD_MS);
	EXPECT_EQ(-EPERM, ktls_send_record(self->pr.g, KTLS_ATTEST_RECORD_TYPE,
					   buf, sizeof(buf), 0));
	katt_guard_off();
	katt_expect_peer_got(_metadata, &self->pr, 0);
	/* an alert goes, as on plain kTLS */
	ASSERT_EQ(sizeof(alert),
		  ktls_send_record(self->pr.g, TLS_RECORD_TYPE_ALERT, alert,
				   sizeof(alert), 0));
	ASSERT_EQ(0, katt_pair_peer_rx(&self->pr));
	EXPECT_EQ(sizeof(alert), ktls_recv_record(self->pr.p, &type, buf,
						  sizeof(buf), 0));
	EXPECT_EQ(TLS_RECORD_TYPE_ALERT, type);

	katt_verdict(_metadata, self->nl, &self->pr, REVOKE, NULL);
	EXPECT_EQ(-EPERM, ktls_send_record(self->pr.g, KTLS_ATTEST_RECORD_TYPE,
					   buf, sizeof(buf), 0));
}

static int tcp_opt(int fd, int opt, int val)
{
	return setsockopt(fd, IPPROTO_TCP, opt, &val, sizeof(val)) ? -errno : 0;
}

static void expect_bypass_refused(struct __test_metadata *_metadata, int fd)
{
	struct tcp_zerocopy_receive zc;
	struct tcp_repair_window rw;
	socklen_t len;

	EXPECT_EQ(-EPERM, tcp_opt(fd, TCP_REPAIR, TCP_REPAIR_ON));
	EXPECT_EQ(-EPERM, tcp_opt(fd, TCP_REPAIR_QUEUE, TCP_RECV_QUEUE));
	EXPECT_EQ(-EPERM, tcp_opt(fd, TCP_QUEUE_SEQ, 0));
	memset(&zc, 0, sizeof(zc));
	len = sizeof(zc);
	EXPECT_EQ(-1, getsockopt(fd, IPPROTO_TCP, TCP_ZEROCOPY_RECEIVE, &zc,
				 &len));
	EXPECT_EQ(EPERM, errno);
	len = sizeof(rw);
	EXPECT_EQ(-1, getsockopt(fd, IPPROTO_TCP, TCP_REPAIR_WINDOW, &rw,
				 &len));
	EXPECT_EQ(EPERM, errno);
}

/* TCP repair and zerocopy receive reach around the gate: refused. */
TEST_F(one, tcp_bypass)
{
	READY();
	katt_open_pair(_metadata, &self->pr, &one_opts);
	expect_bypass_refused(_metadata, self->pr.g);
	katt_expect_state(_metadata, self->pr.g, KTLS_ATTEST_STATE_PENDING, 1);
	katt_expect_peer_got(_metadata, &self->pr, 0);
	katt_verdict(_metadata, self->nl, &self->pr, FAIL, NULL);
	expect_bypass_refused(_metadata, self->pr.g);
}

static int att_set(int fd, int opt, const void *val, socklen_t len)
{
	return setsockopt(fd, SOL_KTLS_ATTEST, opt, val, len) ? -errno : 0;
}

static int att_get(int fd, int opt, void *val, socklen_t *len)
{
	return getsockopt(fd, SOL_KTLS_ATTEST, opt, val, len) ? -errno : 0;
}

TEST_F(one, sockopts)
{
	struct katt_pair_opts o = one_opts;
	struct ktls_attest_policy pol, got;
	struct {
		struct ktls_attest_status st;
		char more[16];
	} big;
	struct ktls_attest_status st;
	int role, bad_roles[] = { 0, 4, 8, -1 };
	long long lval = 1;
	socklen_t len;
	unsigned int i;

	READY();
	o.no_keys = true;
	katt_open_pair(_metadata, &self->pr, &o);

	/* ARMED: defaults */
	ASSERT_EQ(0, katt_status(self->pr.g, &st));
	EXPECT_EQ(KTLS_ATTEST_STATE_ARMED, st.state);
	EXPECT_EQ(0, st.round);
	EXPECT_EQ(self->pr.cookie, st.cookie);
	EXPECT_EQ(KTLS_ATTEST_ROLE_RELYING_PARTY, st.role);
	len = sizeof(role);
	ASSERT_EQ(0, att_get(self->pr.g, KTLS_ATTEST_ROLE, &role, &len));
	EXPECT_EQ(KTLS_ATTEST_ROLE_RELYING_PARTY, role);
	len = sizeof(got);
	ASSERT_EQ(0, att_get(self->pr.g, KTLS_ATTEST_POLICY, &got, &len));
	EXPECT_EQ(KTLS_ATTEST_TIMEOUT_MS_DEFAULT, got.timeout_ms);
	EXPECT_EQ(0, got.flags);

	/* role */
	for (i = 0; i < sizeof(bad_roles) / sizeof(bad_roles[0]); i++) {
		EXPECT_EQ(-EINVAL, att_set(self->pr.g, KTLS_ATTEST_ROLE,
					   &bad_roles[i], sizeof(int)))
			TH_LOG("role %#x", bad_roles[i]);
	}
	role = KTLS_ATTEST_ROLE_ATTESTER;
	EXPECT_EQ(-EINVAL, att_set(self->pr.g, KTLS_ATTEST_ROLE, &role, 2));
	EXPECT_EQ(-EINVAL, att_set(self->pr.g, KTLS_ATTEST_ROLE, &lval,
				   sizeof(lval)));
	EXPECT_EQ(-EINVAL, att_set(self->pr.g, KTLS_ATTEST_ROLE, NULL, 0));
	for (role = 1; role <= 3; role++) {
		int r;

		EXPECT_EQ(0, att_set(self->pr.g, KTLS_ATTEST_ROLE, &role,
				     sizeof(role)));
		len = sizeof(r);
		ASSERT_EQ(0, att_get(self->pr.g, KTLS_ATTEST_ROLE, &r, &len));
		EXPECT_EQ(role, r);
		EXPECT_EQ(sizeof(int), len);
	}

	/* policy */
	pol.flags = 0;
	pol.timeout_ms = KTLS_ATTEST_TIMEOUT_MS_MIN - 1;
	EXPECT_EQ(-EINVAL, att_set(self->pr.g, KTLS_ATTEST_POLICY, &pol,
				   sizeof(pol)));
	pol.timeout_ms = KTLS_ATTEST_TIMEOUT_MS_MAX + 1;
	EXPECT_EQ(-EINVAL, att_set(self->pr.g, KTLS_ATTEST_POLICY, &pol,
				   sizeof(pol)));
	pol.timeout_ms = 1000;
	pol.flags = 4;
	EXPECT_EQ(-EINVAL, att_set(self->pr.g, KTLS_ATTEST_POLICY, &pol,
				   sizeof(pol)));
	pol.flags = 0;
	EXPECT_EQ(-EINVAL, att_set(self->pr.g, KTLS_ATTEST_POLICY, &pol,
				   sizeof(pol) - 1));
	EXPECT_EQ(-EINVAL, att_set(self->pr.g, KTLS_ATTEST_POLICY, &big,
				   sizeof(pol) + 4));
	pol.timeout_ms = KTLS_ATTEST_TIMEOUT_MS_MIN;
	EXPECT_EQ(0, att_set(self->pr.g, KTLS_ATTEST_POLICY, &pol,
			     sizeof(pol)));
	pol.timeout_ms = KTLS_ATTEST_TIMEOUT_MS_MAX;
	pol.flags = KTLS_ATTEST_POLICY_FLAGS_HOLD_REATTEST |
		    KTLS_ATTEST_POLICY_FLAGS_RESET_ON_REVOKE;
	EXPECT_EQ(0, att_set(self->pr.g, KTLS_ATTEST_POLICY, &pol,
			     sizeof(pol)));
	len = sizeof(got);
	ASSERT_EQ(0, att_get(self->pr.g, KTLS_ATTEST_POLICY, &got, &len));
	EXPECT_EQ(KTLS_ATTEST_TIMEOUT_MS_MAX, got.timeout_ms);
	EXPECT_EQ(pol.flags, got.flags);
	pol.timeout_ms = 0;	/* the default */
	pol.flags = 0;
	EXPECT_EQ(0, att_set(self->pr.g, KTLS_ATTEST_POLICY, &pol,
			     sizeof(pol)));
	len = sizeof(got);
	ASSERT_EQ(0, att_get(self->pr.g, KTLS_ATTEST_POLICY, &got, &len));
	EXPECT_EQ(KTLS_ATTEST_TIMEOUT_MS_DEFAULT, got.timeout_ms);

	/* status: too short, exact, longer */
	len = sizeof(st) - 1;
	EXPECT_EQ(-EINVAL, att_get(self->pr.g, KTLS_ATTEST_STATUS, &st, &len));
	len = 0;
	EXPECT_EQ(-EINVAL, att_get(self->pr.g, KTLS_ATTEST_STATUS, &st, &len));
	len = sizeof(big);
	EXPECT_EQ(0, att_get(self->pr.g, KTLS_ATTEST_STATUS, &big, &len));
	EXPECT_EQ(sizeof(st), len);
	EXPECT_EQ(self->pr.cookie, big.st.cookie);

	/* unknown options and wrong directions */
	EXPECT_EQ(-ENOPROTOOPT, att_set(self->pr.g, 99, &role, sizeof(role)));
	len = sizeof(role);
	EXPECT_EQ(-ENOPROTOOPT, att_get(self->pr.g, 99, &role, &len));
	EXPECT_EQ(-ENOPROTOOPT, att_set(self->pr.g, KTLS_ATTEST_STATUS, &st,
					sizeof(st)));
	len = sizeof(role);
	EXPECT_EQ(-ENOPROTOOPT, att_get(self->pr.g, KTLS_ATTEST_REATTEST,
					&role, &len));
	/* re-attestation needs keys */
	EXPECT_EQ(-EINVAL, att_set(self->pr.g, KTLS_ATTEST_REATTEST, NULL, 0));
	/* an unarmed socket knows nothing of the level */
	EXPECT_EQ(-ENOPROTOOPT, att_set(self->pr.p, KTLS_ATTEST_ROLE, &role,
					sizeof(role)));

	/* PENDING: role and policy are fixed */
	ASSERT_EQ(0, katt_pair_keys(&self->pr));
	katt_expect_state(_metadata, self->pr.g, KTLS_ATTEST_STATE_PENDING, 1);
	role = KTLS_ATTEST_ROLE_ATTESTER;
	EXPECT_EQ(-EBUSY, att_set(self->pr.g, KTLS_ATTEST_ROLE, &role,
				  sizeof(role)));
	pol.timeout_ms = 1000;
	EXPECT_EQ(-EBUSY, att_set(self->pr.g, KTLS_ATTEST_POLICY, &pol,
				  sizeof(pol)));
	/* bad values are still bad values */
	role = 0;
	EXPECT_EQ(-EINVAL, att_set(self->pr.g, KTLS_ATTEST_ROLE, &role,
				   sizeof(role)));
	len = sizeof(role);
	ASSERT_EQ(0, att_get(self->pr.g, KTLS_ATTEST_ROLE, &role, &len));
	EXPECT_EQ(3, role);
}

/* No verdict before the deadline: the first round fails closed. */
TEST_F(one, deadline)
{
	struct ktls_attest_policy pol = { .timeout_ms = 200 };
	struct katt_pair_opts o = one_opts;
	struct katt_call call = { .path = KP_RECV, .len = 100 };
	struct ktls_attest_status st;
	struct katt_nl_event ev;
	struct katt_nl *mon;
	long long t0, dt;
	char buf[100];

	READY();
	ASSERT_EQ(0, katt_nl_open(&mon));
	ASSERT_EQ(0, katt_nl_monitor(mon));
	o.policy = &pol;
	o.no_keys = true;
	katt_open_pair(_metadata, &self->pr, &o);
	call.fd = self->pr.g;

	t0 = katt_now_ms();
	ASSERT_EQ(0, katt_pair_keys(&self->pr));
	katt_start(_metadata, &self->c[0], &call);
	katt_reap(_metadata, &self->c[0], "recv across the deadline");
	dt = katt_now_ms() - t0;
	EXPECT_EQ(-EKEYREJECTED, self->c[0].res->ret)
		TH_LOG("recv: %s", katt_err(self->c[0].res->ret));
	EXPECT_GE(dt, 200 - 10) TH_LOG("failed after %lld ms", dt);
	EXPECT_LT(dt, 2000) TH_LOG("failed after %lld ms", dt);

	ASSERT_EQ(0, katt_status(self->pr.g, &st));
	EXPECT_EQ(KTLS_ATTEST_STATE_FAILED, st.state);
	EXPECT_EQ(KTLS_ATTEST_REASON_TIMEOUT, st.reason);
	EXPECT_EQ(1, st.round);
	EXPECT_NE(0, strlen(st.reason_text));

	ASSERT_EQ(0, katt_nl_wait_event_for(mon, KTLS_ATTEST_CMD_STATE_CHANGE,
					    self->pr.cookie,
					    KTLS_ATTEST_STATE_FAILED, &ev,
					    WAKE_MS));
	EXPECT_EQ(KTLS_ATTEST_REASON_TIMEOUT, ev.sock.reason);
	EXPECT_EQ(1, ev.sock.round);

	/* fails closed: every path, no verdict can change it */
	katt_guard(GUARD_MS);
	EXPECT_EQ(-1, send(self->pr.g, buf, sizeof(buf), 0));
	EXPECT_EQ(EKEYREJECTED, errno);
	katt_guard_off();
	EXPECT_EQ(-EINVAL, katt_nl_verdict(self->nl, self->pr.cookie, 1,
					   PASS, NULL));
	katt_expect_peer_got(_metadata, &self->pr, 0);
	katt_nl_close(mon);
}

TEST_HARNESS_MAIN
