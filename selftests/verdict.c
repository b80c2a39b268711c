// SPDX-License-Identifier: GPL-2.0
/*
 * ktls-attest: what a verdict stops, measured (Documentation/user-api.rst,
 * "What a verdict stops").
 *
 * Send side: a large blocking send under way while the peer does not read,
 * with another thread reading SO_ERROR in a loop (an event loop does, and
 * it clears the socket's error); then a revoke, or a held re-attestation;
 * then the peer drains.  The bytes the gated end's TCP takes after the
 * verdict (the peer's raw count plus the gated end's SIOCOUTQ, before and
 * after) may be at most the one record the send is in.  After a pass the
 * held send completes, every byte.
 *
 * Receive side: a read blocked in every receive path while a re-attestation
 * holds the socket gets nothing of what the peer sends meanwhile, and all of
 * it after the pass; a large MSG_WAITALL read under way while the peer
 * streams, with SO_ERROR read in a loop, returns at most one record's worth
 * of what the peer sent after the revoke (each 4 KiB unit carries its send
 * time).
 *
 * Attestation messages the agent queued before a failing verdict still
 * reach the peer when the send buffer frees up (and an application record
 * left open with MSG_MORE goes ahead of them, the counted residue); the
 * socket's error is set once they went.
 *
 * Needs root.  Without the module every test SKIPs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/ktls_attest.h>
#include <linux/tls.h>

#include "kselftest_harness.h"
#include "lib/katt_harness.h"
#include "lib/katt_nl.h"
#include "lib/katt_test.h"
#include "lib/ktls.h"

#define PASS		KTLS_ATTEST_VERDICT_PASS
#define FAIL		KTLS_ATTEST_VERDICT_FAIL
#define REVOKE		KTLS_ATTEST_VERDICT_REVOKE
#define HOLD		KTLS_ATTEST_POLICY_FLAGS_HOLD_REATTEST

/* One TLS 1.3 record: 16 KiB of plaintext, header, type byte, GCM tag. */
#define REC_PLAIN	16384
#define REC_WIRE	(REC_PLAIN + 5 + 1 + 16)
#define BIG		(8 << 20)
#define UNIT		4096
#define QUIET_MS	300

FIXTURE(verdict)
{
	bool skip;
	int kmsg;
	struct katt_nl *nl;	/* an operator */
	struct katt_pair pr[1];
	struct katt_caller c;
};

FIXTURE_SETUP(verdict)
{
	memset(&self->c, 0, sizeof(self->c));
	KATT_FIXTURE_START(self, self->pr, 1);
}

FIXTURE_TEARDOWN(verdict)
{
	katt_caller_kill(&self->c);
	katt_caller_free(&self->c);
	katt_fixture_end(_metadata, self->pr, 1, self->nl, self->kmsg);
}

static void open_passed(struct __test_metadata *_metadata,
			struct katt_nl *nl, struct katt_pair *pp, uint32_t flags)
{
	struct ktls_attest_policy pol = { .flags = flags };
	struct katt_pair_opts o = {
		.family = AF_INET,
		.version = TLS_1_3_VERSION,
		.cipher = TLS_CIPHER_AES_GCM_128,
		.policy = &pol,
	};

	katt_open_pair(_metadata, pp, &o);
	katt_verdict(_metadata, nl, pp, PASS, NULL);
	katt_expect_state(_metadata, pp->g, KTLS_ATTEST_STATE_PASSED, 1);
}

/* Bytes the gated end's TCP has taken: what the peer got, and what waits. */
static long long taken(struct katt_pair *pp)
{
	return katt_tcp_bytes_received(pp->p) + katt_outq(pp->g);
}

/* Waits until @fd's TCP send queue stops growing (the sender is blocked). */
static int outq_settle(int fd)
{
	int last = -1, n, i;

	for (i = 0; i < 200; i++) {
		ktls_msleep(50);
		n = katt_outq(fd);
		if (n > 0 && n == last)
			return n;
		last = n;
	}
	return -ETIME;
}

/*
 * The peer (kTLS receive) reads until nothing comes for QUIET_MS, into
 * @buf from @*got on (up to @cap), or discarding it if @buf is NULL.
 */
static void drain(int fd, char *buf, size_t cap, size_t *got)
{
	static char sink[1 << 16];
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;

	while (poll(&pfd, 1, QUIET_MS) == 1) {
		if (buf)
			n = recv(fd, buf + *got, cap - *got, MSG_DONTWAIT);
		else
			n = recv(fd, sink, sizeof(sink), MSG_DONTWAIT);
		if (n <= 0)
			break;
		if (buf)
			*got += n;
	}
}

struct sender {
	int fd;
	const char *buf;
	size_t len;
	ssize_t ret;
	int err;
};

static void *sender_main(void *arg)
{
	struct sender *s = arg;

	s->ret = send(s->fd, s->buf, s->len, MSG_NOSIGNAL);
	s->err = s->ret < 0 ? errno : 0;
	return NULL;
}

struct soerr {
	int fd;
	atomic_bool stop;
	long reads, nonzero;
};

/* An event loop's SO_ERROR read, as fast as it goes: clears sk_err. */
static void *soerr_main(void *arg)
{
	struct soerr *e = arg;

	while (!atomic_load(&e->stop)) {
		int v = 0;
		socklen_t l = sizeof(v);

		if (!getsockopt(e->fd, SOL_SOCKET, SO_ERROR, &v, &l)) {
			e->reads++;
			e->nonzero += !!v;
		}
	}
	return NULL;
}

/*
 * A large send blocked by a peer that does not read; the verdict; then the
 * peer drains.  Returns the bytes TCP took after the verdict.
 */
static long long blocked_send_then(struct __test_metadata *_metadata,
				   FIXTURE_DATA(verdict) *self,
				   struct sender *s, struct soerr *e,
				   pthread_t *st, pthread_t *et, bool revoke,
				   char *got, size_t *ngot)
{
	struct katt_pair *pp = &self->pr[0];
	long long before, after;

	if (katt_pair_peer_rx(pp))
		return -EIO;

	s->fd = pp->g;
	s->len = BIG;
	s->buf = malloc(BIG);
	if (!s->buf)
		return -ENOMEM;
	ktls_fill((void *)s->buf, BIG, 7);
	e->fd = pp->g;
	atomic_init(&e->stop, false);
	if (pthread_create(st, NULL, sender_main, s) ||
	    pthread_create(et, NULL, soerr_main, e))
		return -EAGAIN;
	if (outq_settle(pp->g) < 0)
		return -ETIME;
	if (revoke) {
		katt_verdict(_metadata, self->nl, pp, REVOKE, "test revoke");
	} else {
		EXPECT_EQ(0, katt_nl_reattest(self->nl, pp->cookie));
		katt_expect_state(_metadata, pp->g,
				  KTLS_ATTEST_STATE_REATTESTING, 2);
	}
	before = taken(pp);
	drain(pp->p, got, BIG, ngot);
	after = taken(pp);
	TH_LOG("bytes TCP took after the verdict: %lld (bound %d); SO_ERROR read %ld times, %ld set",
	       after - before, REC_WIRE, e->reads, e->nonzero);
	return after - before;
}

/*
 * Revoke under a large send, while SO_ERROR is read in a loop: at most the
 * record in progress goes after it, and the send ends with a partial count
 * or the reason.
 */
TEST_F(verdict, tx_revoke_large_send_soerror)
{
	struct sender s = {};
	struct soerr e = {};
	pthread_t st, et;
	long long after;

	READY();
	open_passed(_metadata, self->nl, &self->pr[0], 0);
	after = blocked_send_then(_metadata, self, &s, &e, &st, &et, true,
				  NULL, NULL);
	ASSERT_GE(after, 0);
	EXPECT_LE(after, REC_WIRE);

	pthread_join(st, NULL);
	atomic_store(&e.stop, true);
	pthread_join(et, NULL);
	EXPECT_TRUE(s.ret > 0 ? s.ret < BIG : s.err == EKEYREVOKED)
		TH_LOG("send returned %zd (%s)", s.ret, strerror(s.err));
	EXPECT_EQ(-1, send(self->pr[0].g, "x", 1, MSG_NOSIGNAL));
	EXPECT_EQ(EKEYREVOKED, errno);
	free((void *)s.buf);
}

/*
 * A held re-attestation under a large send: at most the record in progress
 * goes while held; after the pass the send completes, all of it.
 */
TEST_F(verdict, tx_hold_large_send)
{
	struct katt_pair *pp = &self->pr[0];
	struct sender s = {};
	struct soerr e = {};
	pthread_t st, et;
	long long after;
	size_t ngot = 0;
	char *got;

	READY();
	open_passed(_metadata, self->nl, &self->pr[0], HOLD);
	got = malloc(BIG);
	ASSERT_NE(NULL, got);
	after = blocked_send_then(_metadata, self, &s, &e, &st, &et, false,
				  got, &ngot);
	ASSERT_GE(after, 0);
	EXPECT_LE(after, REC_WIRE);
	atomic_store(&e.stop, true);
	pthread_join(et, NULL);

	/* the pass: the rest goes, and the peer decrypts every byte */
	katt_verdict(_metadata, self->nl, pp, PASS, NULL);
	EXPECT_EQ(BIG - ngot, ktls_recv_all(pp->p, got + ngot, BIG - ngot, 0));
	pthread_join(st, NULL);
	EXPECT_EQ(BIG, s.ret) TH_LOG("send: %s", strerror(s.err));
	EXPECT_EQ(-1, ktls_first_diff(s.buf, got, BIG));
	free(got);
	free((void *)s.buf);
}

/* A read blocked in each receive path. */
FIXTURE(reader)
{
	bool skip;
	int kmsg;
	struct katt_nl *nl;	/* an operator */
	struct katt_pair pr[1];
	struct katt_caller c;
};

FIXTURE_VARIANT(reader)
{
	enum katt_path path;
};

FIXTURE_VARIANT_ADD(reader, recv) { .path = KP_RECV };
FIXTURE_VARIANT_ADD(reader, recvmsg) { .path = KP_RECVMSG };
FIXTURE_VARIANT_ADD(reader, waitall) { .path = KP_WAITALL };
FIXTURE_VARIANT_ADD(reader, peek) { .path = KP_PEEK };
FIXTURE_VARIANT_ADD(reader, splice) { .path = KP_SPLICE_OUT };

FIXTURE_SETUP(reader)
{
	memset(&self->c, 0, sizeof(self->c));
	KATT_FIXTURE_START(self, self->pr, 1);
}

FIXTURE_TEARDOWN(reader)
{
	katt_caller_kill(&self->c);
	katt_caller_free(&self->c);
	katt_fixture_end(_metadata, self->pr, 1, self->nl, self->kmsg);
}

/* Nothing sent during a held round reaches a blocked read; all of it after. */
TEST_F(reader, hold)
{
	struct katt_pair *pp = &self->pr[0];
	static const char msg[] = "sent while the round holds the socket";
	struct katt_call call = {
		.path = variant->path,
		.len = sizeof(msg),
	};

	READY();
	open_passed(_metadata, self->nl, &self->pr[0], HOLD);
	call.fd = pp->g;
	katt_start(_metadata, &self->c, &call);
	ASSERT_TRUE(katt_caller_blocked(&self->c));

	EXPECT_EQ(0, katt_nl_reattest(self->nl, pp->cookie));
	ASSERT_EQ(sizeof(msg), ktls_send_all(pp->p, msg, sizeof(msg), 0));
	ktls_msleep(3 * HOLD_MS);
	EXPECT_TRUE(katt_caller_blocked(&self->c))
		TH_LOG("%s returned %zd during the held round",
		       katt_path_name(variant->path), self->c.res->ret);

	katt_verdict(_metadata, self->nl, pp, PASS, NULL);
	katt_reap(_metadata, &self->c, "after the pass");
	EXPECT_EQ(sizeof(msg), self->c.res->ret)
		TH_LOG("%s: %s", katt_path_name(variant->path),
		       katt_err(self->c.res->ret));
	EXPECT_EQ(0, memcmp(self->c.res->data, msg, sizeof(msg)));
}

/*
 * The same for a revoke, while SO_ERROR is read in a loop: the read fails
 * with the reason, never with the data.
 */
TEST_F(reader, revoke)
{
	struct katt_pair *pp = &self->pr[0];
	static const char msg[] = "sent after the revoke";
	struct katt_call call = {
		.path = variant->path,
		.len = sizeof(msg),
	};
	struct soerr e = {};
	pthread_t et;

	READY();
	open_passed(_metadata, self->nl, &self->pr[0], 0);
	call.fd = pp->g;
	katt_start(_metadata, &self->c, &call);
	ASSERT_TRUE(katt_caller_blocked(&self->c));

	/* an event loop clears the socket's error as soon as it is set */
	e.fd = pp->g;
	atomic_init(&e.stop, false);
	ASSERT_EQ(0, pthread_create(&et, NULL, soerr_main, &e));
	katt_verdict(_metadata, self->nl, pp, REVOKE, NULL);
	ASSERT_EQ(sizeof(msg), ktls_send_all(pp->p, msg, sizeof(msg), 0));
	katt_reap(_metadata, &self->c, "after the revoke");
	atomic_store(&e.stop, true);
	pthread_join(et, NULL);
	EXPECT_EQ(-EKEYREVOKED, self->c.res->ret)
		TH_LOG("%s: %zd %s", katt_path_name(variant->path),
		       self->c.res->ret, katt_err(self->c.res->ret));
}

struct streamer {
	int fd;
	atomic_bool stop;
	long long sent;
};

static long long mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The peer streams 4 KiB units, each starting with its send time. */
static void *streamer_main(void *arg)
{
	struct streamer *s = arg;
	char unit[UNIT];

	memset(unit, 0x5a, sizeof(unit));
	while (!atomic_load(&s->stop)) {
		long long t = mono_ns();

		memcpy(unit, &t, sizeof(t));
		if (ktls_send_all(s->fd, unit, sizeof(unit), MSG_NOSIGNAL) !=
		    sizeof(unit))
			break;
		s->sent += sizeof(unit);
	}
	return NULL;
}

struct revoker {
	struct katt_nl *nl;
	uint64_t cookie;
	atomic_llong t_end;	/* CLOCK_MONOTONIC ns when the verdict was in */
	int ret;
};

static void *revoker_main(void *arg)
{
	struct revoker *r = arg;

	ktls_msleep(100);
	r->ret = katt_nl_verdict(r->nl, r->cookie, 0, REVOKE, NULL);
	atomic_store(&r->t_end, mono_ns());
	return NULL;
}

/*
 * Large MSG_WAITALL reads under way while the peer streams and SO_ERROR is
 * read in a loop; then a revoke.  Of what the peer sent after the verdict,
 * at most one record's worth (plus a unit's slack) reaches the application.
 */
TEST_F(verdict, rx_revoke_reader_streaming)
{
	struct katt_pair *pp = &self->pr[0];
	const size_t len = 1 << 20;
	struct streamer str = {};
	struct revoker rv = {};
	struct soerr e = {};
	pthread_t tt, et, rt;
	long long late = 0, total = 0;
	char *buf;
	ssize_t n;
	size_t off;

	READY();
	open_passed(_metadata, self->nl, &self->pr[0], 0);
	buf = malloc(len);
	ASSERT_NE(NULL, buf);
	str.fd = pp->p;
	atomic_init(&str.stop, false);
	e.fd = pp->g;
	atomic_init(&e.stop, false);
	rv.nl = self->nl;
	rv.cookie = pp->cookie;
	ASSERT_EQ(0, pthread_create(&tt, NULL, streamer_main, &str));
	ASSERT_EQ(0, pthread_create(&et, NULL, soerr_main, &e));
	ASSERT_EQ(0, pthread_create(&rt, NULL, revoker_main, &rv));

	/* whole units (len is one) until the reads fail */
	for (;;) {
		n = recv(pp->g, buf, len, MSG_WAITALL);
		if (n <= 0)
			break;
		total += n;
		for (off = 0; off + sizeof(long long) <= (size_t)n; off += UNIT) {
			long long t;

			memcpy(&t, buf + off, sizeof(t));
			if (atomic_load(&rv.t_end) && t > atomic_load(&rv.t_end))
				late += UNIT;
		}
		if (n % UNIT)
			break;	/* the read the verdict cut short */
	}
	pthread_join(rt, NULL);
	EXPECT_EQ(0, rv.ret);
	if (n > 0)	/* the next one fails */
		n = recv(pp->g, buf, len, MSG_WAITALL);
	EXPECT_EQ(-1, n);
	EXPECT_EQ(EKEYREVOKED, errno);
	atomic_store(&str.stop, true);
	atomic_store(&e.stop, true);
	pthread_join(et, NULL);
	shutdown(pp->p, SHUT_RDWR);
	pthread_join(tt, NULL);
	TH_LOG("read %lld bytes; %lld sent after the verdict reached the application (bound %d)",
	       total, late, REC_PLAIN + UNIT);
	EXPECT_LE(late, REC_PLAIN + UNIT);
	free(buf);
}

/* Fills the gated end's TCP with application data; returns the bytes. */
static long long fill_tcp(int fd)
{
	static char buf[1 << 14];
	long long total = 0;
	ssize_t n;

	memset(buf, 0x33, sizeof(buf));
	for (;;) {
		n = send(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n <= 0)
			break;
		total += n;
	}
	return n < 0 && errno == EAGAIN ? total : -errno;
}

static int so_error(int fd)
{
	int v = -1;
	socklen_t l = sizeof(v);

	return getsockopt(fd, SOL_SOCKET, SO_ERROR, &v, &l) ? -errno : v;
}

/*
 * Reads what the gated end sent after @data bytes of application data:
 * returns the type of the next record and its payload in @rec.
 */
static ssize_t peer_skip_data_then_record(struct katt_pair *pp,
					  long long data, uint8_t *type,
					  void *rec, size_t len)
{
	static char buf[1 << 14];
	ssize_t n;

	while (data > 0) {
		n = ktls_recv_record(pp->p, type, buf,
				     data < (long long)sizeof(buf) ?
				     (size_t)data : sizeof(buf), 0);
		if (n <= 0 || *type != TLS_RECORD_TYPE_DATA)
			return n < 0 ? n : -EPROTO;
		data -= n;
	}
	n = ktls_recv_record(pp->p, type, rec, len, 0);
	return n;
}

/*
 * The agent queued a message while the send buffer was full, then revoked:
 * the message still reaches the peer when it reads (after the data already
 * queued), and the socket's error is set only once it went.
 */
TEST_F(verdict, end_flushes_queued_message)
{
	struct katt_pair *pp = &self->pr[0];
	struct ktls_attest_frame f;
	uint8_t msg[1000], rec[sizeof(f) + sizeof(msg)], type = 0;
	long long data;
	ssize_t n;

	READY();
	ASSERT_EQ(0, katt_nl_agent_register(self->nl));
	open_passed(_metadata, self->nl, &self->pr[0], 0);
	data = fill_tcp(pp->g);
	ASSERT_GT(data, 0);
	ktls_fill(msg, sizeof(msg), 3);
	ASSERT_EQ(0, katt_nl_msg_send(self->nl, pp->cookie, msg, sizeof(msg)));
	katt_verdict(_metadata, self->nl, pp, REVOKE, "revoked with a message queued");
	/* the message waits for space: the error is not set yet */
	EXPECT_EQ(0, so_error(pp->g));
	EXPECT_EQ(-1, send(pp->g, "x", 1, MSG_DONTWAIT | MSG_NOSIGNAL));
	EXPECT_EQ(EKEYREVOKED, errno);

	ASSERT_EQ(0, katt_pair_peer_rx(pp));
	n = peer_skip_data_then_record(pp, data, &type, rec, sizeof(rec));
	ASSERT_EQ((ssize_t)sizeof(rec), n) TH_LOG("%s", katt_err(n));
	EXPECT_EQ(KTLS_ATTEST_RECORD_TYPE, type);
	memcpy(&f, rec, sizeof(f));
	EXPECT_EQ(sizeof(msg), ntohl(f.msg_len));
	EXPECT_EQ(0, memcmp(rec + sizeof(f), msg, sizeof(msg)));

	/* then the error, at once */
	ktls_msleep(3 * HOLD_MS);
	EXPECT_EQ(EKEYREVOKED, so_error(pp->g));
}

/*
 * The same while the peer never reads: the flush gives up after its bound
 * (KATT_FLUSH_MS, 500 ms), the error is set, the message is dropped.
 */
TEST_F(verdict, end_flush_bounded)
{
	struct katt_pair *pp = &self->pr[0];
	uint8_t msg[1000], buf[1 << 14], type = 0;
	long long data, t0;
	int err = 0;
	ssize_t n;

	READY();
	ASSERT_EQ(0, katt_nl_agent_register(self->nl));
	open_passed(_metadata, self->nl, &self->pr[0], 0);
	data = fill_tcp(pp->g);
	ASSERT_GT(data, 0);
	ktls_fill(msg, sizeof(msg), 4);
	ASSERT_EQ(0, katt_nl_msg_send(self->nl, pp->cookie, msg, sizeof(msg)));
	t0 = katt_now_ms();
	katt_verdict(_metadata, self->nl, pp, REVOKE, NULL);
	while (katt_now_ms() - t0 < WAKE_MS) {
		err = so_error(pp->g);
		if (err)
			break;
		ktls_msleep(20);
	}
	EXPECT_EQ(EKEYREVOKED, err);
	TH_LOG("error set %lld ms after the verdict", katt_now_ms() - t0);
	EXPECT_GE(katt_now_ms() - t0, 400);

	/* what was in TCP arrives; no attestation record after it */
	ASSERT_EQ(0, katt_pair_peer_rx(pp));
	while (data > 0) {
		n = ktls_recv_record(pp->p, &type, buf, sizeof(buf), 0);
		ASSERT_GT(n, 0);
		ASSERT_EQ(TLS_RECORD_TYPE_DATA, type);
		data -= n;
	}
	EXPECT_EQ(0, data);
	EXPECT_EQ(-EAGAIN, ktls_recv_record(pp->p, &type, buf, sizeof(buf),
					    MSG_DONTWAIT));
}

/*
 * An application record left open with MSG_MORE: with nothing queued for
 * the peer, a revoke means it never goes.
 */
TEST_F(verdict, end_open_record_never_sent)
{
	struct katt_pair *pp = &self->pr[0];
	long long before;

	READY();
	open_passed(_metadata, self->nl, &self->pr[0], 0);
	before = katt_tcp_bytes_received(pp->p);
	ASSERT_EQ(100, send(pp->g, pp, 100, MSG_MORE));
	katt_verdict(_metadata, self->nl, pp, REVOKE, NULL);
	ktls_msleep(3 * HOLD_MS);
	EXPECT_EQ(-1, send(pp->g, "x", 1, MSG_NOSIGNAL));
	EXPECT_EQ(EKEYREVOKED, errno);
	EXPECT_EQ(before, katt_tcp_bytes_received(pp->p));
	/* closed: the peer's TCP gets the end of the stream, nothing before */
	close(pp->g);
	pp->g = -1;
	EXPECT_EQ(0, recv(pp->p, self->pr, 1, 0));
}

/*
 * A key call on a passed socket that has sent data (an attempt at a rekey,
 * which 6.1 kTLS refuses with EBUSY) is refused as on plain kTLS and the
 * socket goes on: it is not taken for records sent around the gate.
 * (Found by the kernel's tls.c, rekey_fail, through the gate.)
 */
TEST_F(verdict, rekey_attempt_after_data)
{
	struct katt_pair *pp = &self->pr[0];
	char buf[100];

	READY();
	open_passed(_metadata, self->nl, pp, 0);
	ASSERT_EQ(0, katt_pair_peer_rx(pp));
	ASSERT_EQ(100, ktls_send_all(pp->g, pp, 100, 0));
	ASSERT_EQ(100, ktls_recv_all(pp->p, buf, 100, 0));
	EXPECT_EQ(-1, setsockopt(pp->g, SOL_TLS, TLS_TX, &pp->g2p.info,
				 pp->g2p.len));
	EXPECT_EQ(EBUSY, errno);
	ktls_msleep(3 * HOLD_MS);
	katt_expect_state(_metadata, pp->g, KTLS_ATTEST_STATE_PASSED, 1);
	ASSERT_EQ(100, ktls_send_all(pp->g, buf, 100, 0));
	EXPECT_EQ(100, ktls_recv_all(pp->p, buf, 100, 0));
}

TEST_HARNESS_MAIN
