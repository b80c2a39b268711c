// SPDX-License-Identifier: GPL-2.0
/*
 * ktls-attest: the in-band attestation transport, between two hosts.
 *
 *   +----------- ns[0] ------------+        +----------- ns[1] ------------+
 *   | katt-agent ag[0]             |        |             katt-agent ag[1] |
 *   |      | netlink               |        |               netlink |      |
 *   | [kernel] fd[0] connect() ----+--veth--+---- accept() fd[1] [kernel]  |
 *   +------------------------------+        +------------------------------+
 *
 * Each namespace has its own agent (selftests/katt_agent.c, a program on
 * the netlink API that the test drives line by line), each end of a
 * connection is gated (TCP_ULP "attest") or a plain kTLS socket.  A plain
 * kTLS end plays the peer that the kernel's own sender never is: it reads
 * the records the kernel wrote, and it writes hand-built (good or broken)
 * records of type KTLS_ATTEST_RECORD_TYPE with TLS_SET_RECORD_TYPE.
 *
 * Fixtures:
 *  relay  (variants: TLS version, cipher, address family): messages from
 *         agent to agent both ways, byte for byte, at and around the
 *         record boundaries; the records the kernel writes; application
 *         data streams with attestation messages injected (re-attestation
 *         while passed), read with recv, recvmsg and MSG_PEEK;
 *  xport  (TLS 1.3, AES-GCM-128, IPv4): the binding option, when round-start
 *         comes, msg-send errors and who may send, the send queue limit and
 *         ordering, handshake records ahead of attestation, application
 *         data too early, the bounded receive queue (reading stops when it
 *         is full), sockets without a binding, valid fragmentations, broken
 *         framing after the pass (revoked), HOLD_REATTEST rounds, agents
 *         absent, killed and restarted, messages waiting for an agent;
 *  frame  (one variant per malformation): the peer breaks the framing;
 *         the round fails with reason protocol and nothing reaches the app.
 *
 * The behaviour tested is Documentation/protocol.rst's.  Waits are polls
 * with deadlines; the only fixed waits are for events that must not come
 * (QUIET_MS, HOLD_MS).
 *
 * Needs root, and the module loaded; without the module every test SKIPs.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/ktls_attest.h>
#include <linux/tls.h>

#include "kselftest_harness.h"
#include "lib/katt_agentctl.h"
#include "lib/katt_harness.h"
#include "lib/katt_netns.h"
#include "lib/katt_nl.h"
#include "lib/katt_test.h"
#include "lib/ktls.h"

#define REC_ATTEST	KTLS_ATTEST_RECORD_TYPE
#define REC_HANDSHAKE	22
#define REC_DATA	TLS_RECORD_TYPE_DATA
#define HDR		((int)sizeof(struct ktls_attest_frame))
#define FRAG_MAX	KTLS_ATTEST_FRAG_MAX
#define MSG_MAX		KTLS_ATTEST_MSG_MAX
#define FIRST		KTLS_ATTEST_FRAME_FIRST
#define LAST		KTLS_ATTEST_FRAME_LAST

#define ST_PENDING	KTLS_ATTEST_STATE_PENDING
#define ST_PASSED	KTLS_ATTEST_STATE_PASSED
#define ST_REATTESTING	KTLS_ATTEST_STATE_REATTESTING
#define ST_FAILED	KTLS_ATTEST_STATE_FAILED
#define ST_REVOKED	KTLS_ATTEST_STATE_REVOKED

/* How long an event that must not come is waited for. */
#define QUIET_MS	300
/* Socket timeouts of every end: no test hangs on a socket. */
#define END_TIMEO_MS	5000
/* A record buffer: the largest plaintext and some. */
#define REC_BUF		(TLS_MAX_PAYLOAD + 256)
#define NR_CONN		6

/* --- the environment of a test -------------------------------------------- */

struct conn {
	int fd[2];			/* fd[i] lives in ns[i] */
	bool gated[2];
	uint64_t cookie[2];
	struct ktls_crypto key[2];	/* TX key of fd[i] = RX key of fd[!i] */
	struct ktls_attest_binding bind[2];
};

/* How one end of a connection is made; all zero: gated, keyed, bound. */
struct end_opts {
	bool plain;		/* kTLS only, never "attest" */
	bool no_keys;
	bool no_binding;
	uint32_t role;		/* 0: the default */
	uint32_t timeout_ms;	/* 0: the default */
	uint32_t policy_flags;
	int sndbuf, rcvbuf;	/* 0: the default; before connect */
};

struct env {
	bool skip;
	int kmsg;
	int family;
	uint16_t version, cipher;
	unsigned int nconn;		/* connections made: binding seeds */
	struct katt_netns net;
	struct katt_agent ag[2];
	struct conn c[NR_CONN];
};

static const struct end_opts gated_end, plain_end = { .plain = true };

#define AGENT0		0x1
#define AGENT1		0x2

static void env_setup(struct __test_metadata *_metadata, struct env *e,
		      int family, uint16_t version, uint16_t cipher,
		      unsigned int agents)
{
	int i, ret;

	e->kmsg = -1;
	e->net = (struct katt_netns)KATT_NETNS_INIT;
	for (i = 0; i < NR_CONN; i++)
		e->c[i].fd[0] = e->c[i].fd[1] = -1;
	for (i = 0; i < 2; i++)
		e->ag[i].fd = -1;
	e->family = family;
	e->version = version;
	e->cipher = cipher;
	if (!katt_module_loaded()) {
		e->skip = true;
		SKIP(return, "module %s not loaded", MOD);
	}
	e->kmsg = katt_kmsg_open();
	ret = katt_netns_pair(&e->net);
	ASSERT_EQ(0, ret) TH_LOG("two namespaces and a veth: %s",
				 strerror(-ret));
	for (i = 0; i < 2; i++) {
		if (!(agents & (1u << i)))
			continue;
		ret = katt_agent_start(&e->ag[i], katt_agent_path(),
				       e->net.ns[i]);
		ASSERT_EQ(0, ret) TH_LOG("agent of ns[%d] (%s): %s (%s)", i,
					 katt_agent_path(), strerror(-ret),
					 katt_agent_extack(&e->ag[i]));
	}
}

static void conn_close(struct conn *c)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (c->fd[i] >= 0)
			close(c->fd[i]);
		c->fd[i] = -1;
	}
}

static void env_teardown(struct __test_metadata *_metadata, struct env *e)
{
	int i;

	for (i = 0; i < 2; i++)
		katt_agent_kill(&e->ag[i]);
	for (i = 0; i < NR_CONN; i++)
		conn_close(&e->c[i]);
	katt_netns_close(&e->net);
	if (e->kmsg >= 0) {
		katt_check_kmsg(_metadata, e->kmsg);
		close(e->kmsg);
	}
}

/* the fixtures keep their state in an env */
#undef READY
#define READY()	do { if (self->e.skip) return; } while (0)

/* --- connections ---------------------------------------------------------- */

static int set_int(int fd, int level, int opt, int val)
{
	return setsockopt(fd, level, opt, &val, sizeof(val)) ? -errno : 0;
}

static int set_timeo(int fd)
{
	struct timeval tv = { .tv_sec = END_TIMEO_MS / 1000,
			      .tv_usec = (END_TIMEO_MS % 1000) * 1000 };

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)))
		return -errno;
	return 0;
}

static int set_bufs(int fd, const struct end_opts *o)
{
	int ret = 0;

	if (o->sndbuf)
		ret = set_int(fd, SOL_SOCKET, SO_SNDBUF, o->sndbuf);
	if (!ret && o->rcvbuf)
		ret = set_int(fd, SOL_SOCKET, SO_RCVBUF, o->rcvbuf);
	return ret;
}

static int set_binding(int fd, const struct ktls_attest_binding *b)
{
	if (setsockopt(fd, SOL_KTLS_ATTEST, KTLS_ATTEST_BINDING, b,
		       sizeof(*b)))
		return -errno;
	return 0;
}

/* Arms end @i, sets its role and policy (not its keys). */
static int end_prepare(struct conn *c, int i, const struct end_opts *o)
{
	struct ktls_attest_policy pol = {
		.timeout_ms = o->timeout_ms,
		.flags = o->policy_flags,
	};
	int ret;

	ret = set_timeo(c->fd[i]);
	if (ret || o->plain)
		return ret;
	ret = ktls_set_ulp(c->fd[i], KTLS_ATTEST_ULP_NAME);
	if (!ret && o->role)
		ret = set_int(c->fd[i], SOL_KTLS_ATTEST, KTLS_ATTEST_ROLE,
			      o->role);
	if (!ret && (pol.timeout_ms || pol.flags) &&
	    setsockopt(c->fd[i], SOL_KTLS_ATTEST, KTLS_ATTEST_POLICY, &pol,
		       sizeof(pol)))
		ret = -errno;
	c->gated[i] = !ret;
	return ret;
}

/*
 * Both ends share the exporter; each end's local key is the other's peer;
 * the accepting end is the TLS server, and the connecting end verified
 * its certificate (so every round-start check covers PEER_VERIFIED too).
 */
static void conn_binding(struct env *e, struct conn *c)
{
	uint32_t seed = 1000 * ++e->nconn;
	int i;

	for (i = 0; i < 2; i++) {
		struct ktls_attest_binding *b = &c->bind[i];

		memset(b, 0, sizeof(*b));
		b->flags = KTLS_ATTEST_BINDING_LOCAL_KEY |
			   KTLS_ATTEST_BINDING_PEER_KEY |
			   (i ? KTLS_ATTEST_BINDING_TLS_SERVER :
				KTLS_ATTEST_BINDING_PEER_VERIFIED);
		ktls_fill(b->exporter, sizeof(b->exporter), seed);
		ktls_fill(b->local_key_sha256, sizeof(b->local_key_sha256),
			  seed + 1 + i);
		ktls_fill(b->peer_key_sha256, sizeof(b->peer_key_sha256),
			  seed + 2 - i);
	}
}

/* TCP from ns[0] to ns[1] over the veth; fd[1] is the accepted end. */
static void conn_connect(struct __test_metadata *_metadata, struct env *e,
			 struct conn *c, const struct end_opts *o)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int lfd;

	ASSERT_EQ(0, katt_netns_enter(&e->net, 1));
	lfd = socket(e->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_GE(lfd, 0);
	ASSERT_EQ(0, set_bufs(lfd, &o[1]));
	sl = katt_netns_addr(1, e->family, 0, &ss);
	ASSERT_EQ(0, bind(lfd, (struct sockaddr *)&ss, sl))
		TH_LOG("bind: %s", strerror(errno));
	ASSERT_EQ(0, listen(lfd, 1));
	ASSERT_EQ(0, getsockname(lfd, (struct sockaddr *)&ss, &sl));

	ASSERT_EQ(0, katt_netns_enter(&e->net, 0));
	c->fd[0] = socket(e->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_GE(c->fd[0], 0);
	ASSERT_EQ(0, set_bufs(c->fd[0], &o[0]));
	ASSERT_EQ(0, connect(c->fd[0], (struct sockaddr *)&ss, sl))
		TH_LOG("connect over the veth: %s", strerror(errno));
	c->fd[1] = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	ASSERT_GE(c->fd[1], 0);
	close(lfd);
	ASSERT_EQ(0, katt_netns_enter(&e->net, -1));
}

/* A connection made as @o[0] and @o[1] say. */
static void conn_open(struct __test_metadata *_metadata, struct env *e,
		      struct conn *c, const struct end_opts *o0,
		      const struct end_opts *o1)
{
	const struct end_opts o[2] = { *o0, *o1 };
	int i, ret;

	memset(c, 0, sizeof(*c));
	c->fd[0] = c->fd[1] = -1;
	conn_binding(e, c);
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, ktls_crypto_init(&c->key[i], e->version,
					      e->cipher, i, 0));
	conn_connect(_metadata, e, c, o);
	for (i = 0; i < 2; i++) {
		ret = end_prepare(c, i, &o[i]);
		ASSERT_EQ(0, ret) TH_LOG("end %d: %s", i, strerror(-ret));
		c->cookie[i] = katt_sock_cookie(c->fd[i]);
	}
	for (i = 0; i < 2; i++) {
		if (o[i].no_keys)
			continue;
		ret = ktls_install(c->fd[i], &c->key[i], &c->key[!i]);
		ASSERT_EQ(0, ret) TH_LOG("keys of end %d: %s", i,
					 strerror(-ret));
	}
	for (i = 0; i < 2; i++) {
		if (!c->gated[i] || o[i].no_binding)
			continue;
		ret = set_binding(c->fd[i], &c->bind[i]);
		ASSERT_EQ(0, ret) TH_LOG("binding of end %d: %s", i,
					 strerror(-ret));
	}
}

static void expect_state(struct __test_metadata *_metadata, int fd,
			 uint32_t state, uint32_t reason)
{
	struct ktls_attest_status st;

	ASSERT_EQ(0, katt_status(fd, &st));
	EXPECT_EQ(state, st.state) TH_LOG("state %s, expected %s (%s)",
					  katt_nl_state_name(st.state),
					  katt_nl_state_name(state),
					  st.reason_text);
	EXPECT_EQ(reason, st.reason) TH_LOG("reason %u, expected %u (%s)",
					    st.reason, reason, st.reason_text);
}

/* The round of @fd fails, for @reason, within @ms. */
static void expect_fails(struct __test_metadata *_metadata, int fd,
			 uint32_t state, uint32_t reason, unsigned int ms)
{
	struct ktls_attest_status st;

	katt_wait_state(fd, state, ms);
	ASSERT_EQ(0, katt_status(fd, &st));
	ASSERT_EQ(state, st.state) TH_LOG("still %s after %u ms, expected %s",
					  katt_nl_state_name(st.state), ms,
					  katt_nl_state_name(state));
	EXPECT_EQ(reason, st.reason) TH_LOG("reason %u (%s), expected %u",
					    st.reason, st.reason_text, reason);
	if (reason == KTLS_ATTEST_REASON_PROTOCOL)
		EXPECT_STRNE("", st.reason_text);
}

/* Nothing for the application of a failed or revoked @fd. */
static void expect_app_refused(struct __test_metadata *_metadata, int fd,
			       int err)
{
	char buf[64];

	katt_guard(GUARD_MS);
	EXPECT_EQ(-1, recv(fd, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(err, errno) TH_LOG("recv: %s", strerror(errno));
	katt_guard_off();
}

/* --- the agents ----------------------------------------------------------- */

static void next_event(struct __test_metadata *_metadata, struct katt_agent *a,
		       uint64_t cookie, struct katt_agent_ev *ev,
		       enum katt_agent_kind kind)
{
	int ret = katt_agent_next(a, cookie, ev, WAKE_MS);

	ASSERT_EQ(0, ret) TH_LOG("agent: no %s event for %llu: %s",
				 katt_agent_kind_name(kind),
				 (unsigned long long)cookie, strerror(-ret));
	if (ev->kind != kind)
		katt_agent_ev_release(ev);
	ASSERT_EQ(kind, ev->kind) TH_LOG("agent: %s event for %llu, expected %s",
					 katt_agent_kind_name(ev->kind),
					 (unsigned long long)cookie,
					 katt_agent_kind_name(kind));
}

/*
 * The next event of end @i of @c at its agent is round-start @round, with
 * the binding of that end; the event in *@out if not NULL.
 */
static void expect_round_ev(struct __test_metadata *_metadata, struct env *e,
			    struct conn *c, int i, uint32_t round,
			    uint32_t state, struct katt_agent_ev *out)
{
	const struct ktls_attest_binding *b = &c->bind[i];
	struct katt_agent_ev ev;

	next_event(_metadata, &e->ag[i], c->cookie[i], &ev, KATT_AGENT_ROUND);
	if (out)
		*out = ev;
	EXPECT_EQ(round, ev.round);
	EXPECT_EQ(state, ev.state) TH_LOG("round-start in state %s",
					  katt_nl_state_name(ev.state));
	ASSERT_TRUE(ev.has_exporter) TH_LOG("round-start without binding");
	EXPECT_TRUE(ev.has_bflags) TH_LOG("round-start without binding-flags");
	EXPECT_EQ(b->flags, ev.bflags);
	EXPECT_EQ(0, memcmp(b->exporter, ev.exporter, sizeof(ev.exporter)));
	EXPECT_EQ(!!(b->flags & KTLS_ATTEST_BINDING_LOCAL_KEY), ev.has_local);
	EXPECT_EQ(!!(b->flags & KTLS_ATTEST_BINDING_PEER_KEY), ev.has_peer);
	if (ev.has_local)
		EXPECT_EQ(0, memcmp(b->local_key_sha256, ev.local,
				    sizeof(ev.local)));
	if (ev.has_peer)
		EXPECT_EQ(0, memcmp(b->peer_key_sha256, ev.peer,
				    sizeof(ev.peer)));
}

static void expect_round(struct __test_metadata *_metadata, struct env *e,
			 struct conn *c, int i, uint32_t round, uint32_t state)
{
	expect_round_ev(_metadata, e, c, i, round, state, NULL);
}

/* The next event of @cookie at @a is the message ktls_fill(@len, @seed). */
static void expect_msg(struct __test_metadata *_metadata, struct katt_agent *a,
		       uint64_t cookie, uint32_t round, size_t len,
		       uint32_t seed)
{
	struct katt_agent_ev ev;
	unsigned char *want;
	ssize_t diff = -2;

	next_event(_metadata, a, cookie, &ev, KATT_AGENT_MSG);
	want = malloc(len);
	if (want) {
		ktls_fill(want, len, seed);
		if (ev.data_len == len)
			diff = ktls_first_diff(want, ev.data, len);
	}
	EXPECT_EQ(len, ev.len) TH_LOG("msg-len %u, sent %zu", ev.len, len);
	EXPECT_EQ(len, ev.data_len) TH_LOG("msg-data: %zu bytes, sent %zu",
					   ev.data_len, len);
	EXPECT_EQ(-1, diff) TH_LOG("message of %zu bytes differs at %zd",
				   len, diff);
	if (round)
		EXPECT_EQ(round, ev.round);
	free(want);
	katt_agent_ev_release(&ev);
}

/* No event for @cookie at @a within QUIET_MS. */
static void expect_quiet(struct __test_metadata *_metadata,
			 struct katt_agent *a, uint64_t cookie,
			 const char *when)
{
	struct katt_agent_ev ev = { 0 };
	int ret = katt_agent_next(a, cookie, &ev, QUIET_MS);

	if (!ret)
		katt_agent_ev_release(&ev);
	EXPECT_EQ(-ETIMEDOUT, ret) TH_LOG("%s: unexpected %s event (round %u)",
					  when, katt_agent_kind_name(ev.kind),
					  ev.round);
}

static void agent_send(struct __test_metadata *_metadata,
		       struct katt_agent *a, uint64_t cookie, size_t len,
		       uint32_t seed)
{
	int ret = katt_agent_send(a, cookie, len, seed);

	ASSERT_EQ(0, ret) TH_LOG("msg-send of %zu bytes: %s (%s)", len,
				 strerror(-ret), katt_agent_extack(a));
}

static void agent_verdict(struct __test_metadata *_metadata,
			  struct katt_agent *a, uint64_t cookie,
			  uint32_t round, const char *verdict)
{
	int ret = katt_agent_verdict(a, cookie, round, verdict);

	ASSERT_EQ(0, ret) TH_LOG("verdict %s on round %u: %s (%s)", verdict,
				 round, strerror(-ret), katt_agent_extack(a));
}

/*
 * First round of a connection gated at both ends: each agent is told of
 * its round, sends one message, gets the other's, and passes.
 */
static void conn_attest(struct __test_metadata *_metadata, struct env *e,
			struct conn *c)
{
	int i;

	for (i = 0; i < 2; i++)
		expect_round(_metadata, e, c, i, 1, ST_PENDING);
	for (i = 0; i < 2; i++) {
		agent_send(_metadata, &e->ag[i], c->cookie[i], 700 + i, 70 + i);
		expect_msg(_metadata, &e->ag[!i], c->cookie[!i], 1, 700 + i,
			   70 + i);
	}
	for (i = 0; i < 2; i++) {
		agent_verdict(_metadata, &e->ag[i], c->cookie[i], 1, "pass");
		expect_state(_metadata, c->fd[i], ST_PASSED,
			     KTLS_ATTEST_REASON_VERDICT);
	}
}

/* @len bytes from fd[@from] arrive at fd[!@from] unchanged. */
static void expect_data_flows(struct __test_metadata *_metadata,
			      struct conn *c, int from, size_t len,
			      uint32_t seed)
{
	unsigned char *tx = malloc(len), *rx = malloc(len);
	ssize_t n;

	ASSERT_TRUE(tx && rx);
	ktls_fill(tx, len, seed);
	n = ktls_send_all(c->fd[from], tx, len, MSG_NOSIGNAL);
	EXPECT_EQ((ssize_t)len, n) TH_LOG("send: %s", katt_err(n));
	n = ktls_recv_all(c->fd[!from], rx, len, 0);
	EXPECT_EQ((ssize_t)len, n) TH_LOG("recv: %s", katt_err(n));
	if (n == (ssize_t)len)
		EXPECT_EQ(-1, ktls_first_diff(tx, rx, len));
	free(tx);
	free(rx);
}

/* --- the plain peer: records by hand -------------------------------------- */

static void frame_put(unsigned char *p, uint8_t version, uint8_t flags,
		      uint16_t frag_len, uint32_t msg_len)
{
	struct ktls_attest_frame f = {
		.version = version,
		.flags = flags,
		.frag_len = htons(frag_len),
		.msg_len = htonl(msg_len),
	};

	memcpy(p, &f, sizeof(f));
}

/*
 * One attestation record: a header saying @version, @flags, @frag_len and
 * @msg_len, then @plen bytes of @payload; only the first @rec_len bytes of
 * that if @rec_len is not negative.
 */
static ssize_t peer_frame(int fd, uint8_t version, uint8_t flags,
			  uint16_t frag_len, uint32_t msg_len,
			  const void *payload, size_t plen, ssize_t rec_len)
{
	unsigned char rec[REC_BUF];

	if (HDR + plen > sizeof(rec))
		return -EMSGSIZE;
	frame_put(rec, version, flags, frag_len, msg_len);
	memcpy(rec + HDR, payload, plen);
	return ktls_send_record(fd, REC_ATTEST, rec,
				rec_len < 0 ? HDR + plen : (size_t)rec_len, 0);
}

/* A message @buf of @len bytes, in fragments of @frag bytes. */
static void peer_send_msg(struct __test_metadata *_metadata, int fd,
			  const void *buf, size_t len, size_t frag)
{
	const unsigned char *p = buf;
	size_t off = 0, n;
	uint8_t flags;
	ssize_t ret;

	do {
		n = len - off < frag ? len - off : frag;
		flags = (off ? 0 : FIRST) | (off + n == len ? LAST : 0);
		ret = peer_frame(fd, KTLS_ATTEST_FRAME_VERSION, flags, n, len,
				 p + off, n, -1);
		ASSERT_EQ((ssize_t)(HDR + n), ret)
			TH_LOG("peer: attestation record: %s", katt_err(ret));
		off += n;
	} while (off < len);
}

static void peer_send_seed(struct __test_metadata *_metadata, int fd,
			   size_t len, uint32_t seed)
{
	unsigned char *buf = malloc(len);

	ASSERT_NE(NULL, buf);
	ktls_fill(buf, len, seed);
	peer_send_msg(_metadata, fd, buf, len, FRAG_MAX);
	free(buf);
}

static void peer_send_type(struct __test_metadata *_metadata, int fd,
			   uint8_t type, size_t len, uint32_t seed)
{
	unsigned char buf[REC_BUF];
	ssize_t ret;

	ASSERT_GE(sizeof(buf), len);
	ktls_fill(buf, len, seed);
	ret = ktls_send_record(fd, type, buf, len, 0);
	ASSERT_EQ((ssize_t)len, ret) TH_LOG("peer: record of type %u: %s",
					    type, katt_err(ret));
}

/*
 * The peer reads one whole attestation message the kernel wrote, checking
 * the framing of each record as the kernel must write it: FIRST on the
 * first, LAST on the last, full fragments but the last, msg_len in every
 * header.  Returns its length; *nrec the records it took.
 */
static size_t peer_recv_msg(struct __test_metadata *_metadata, int fd,
			    unsigned char *msg, size_t cap, int *nrec)
{
	struct ktls_attest_frame f;
	unsigned char rec[REC_BUF];
	size_t got = 0, msg_len = 0, frag;
	uint8_t type;
	ssize_t n;

	for (*nrec = 0;; (*nrec)++) {
		n = ktls_recv_record(fd, &type, rec, sizeof(rec), 0);
		ASSERT_LE(HDR, n) TH_LOG("peer: record %d: %s", *nrec,
					 katt_err(n));
		ASSERT_EQ(REC_ATTEST, type) TH_LOG("peer: record of type %u",
						   type);
		memcpy(&f, rec, HDR);
		frag = ntohs(f.frag_len);
		if (!*nrec)
			msg_len = ntohl(f.msg_len);
		ASSERT_EQ(KTLS_ATTEST_FRAME_VERSION, f.version);
		ASSERT_EQ(msg_len, ntohl(f.msg_len));
		ASSERT_EQ((size_t)n - HDR, frag)
			TH_LOG("frag_len %zu in a record of %zd", frag, n);
		ASSERT_EQ(!*nrec, !!(f.flags & FIRST));
		ASSERT_EQ(0, f.flags & ~(FIRST | LAST));
		ASSERT_GE(cap, got + frag);
		memcpy(msg + got, rec + HDR, frag);
		got += frag;
		if (f.flags & LAST)
			break;
		ASSERT_EQ(FRAG_MAX, frag) TH_LOG("a short fragment not LAST");
	}
	(*nrec)++;
	ASSERT_EQ(msg_len, got);
	return got;
}

/* The peer reads @len bytes of application data of pattern @seed. */
static void peer_recv_data(struct __test_metadata *_metadata, int fd,
			   size_t len, uint32_t seed)
{
	unsigned char *want = malloc(len), *got = malloc(len);
	size_t done = 0;
	uint8_t type;
	ssize_t n;

	ASSERT_TRUE(want && got);
	ktls_fill(want, len, seed);
	while (done < len) {
		n = ktls_recv_record(fd, &type, got + done, len - done, 0);
		ASSERT_LT(0, n) TH_LOG("peer: data at %zu: %s", done,
				       katt_err(n));
		ASSERT_EQ(REC_DATA, type) TH_LOG("peer: type %u at %zu", type,
						 done);
		done += n;
	}
	EXPECT_EQ(-1, ktls_first_diff(want, got, len));
	free(want);
	free(got);
}

/* The gated end's application reads one record: its type and bytes. */
static void expect_app_record(struct __test_metadata *_metadata, int fd,
			      uint8_t type, size_t len, uint32_t seed,
			      int flags)
{
	unsigned char want[REC_BUF], got[REC_BUF];
	uint8_t t;
	ssize_t n;

	ktls_fill(want, len, seed);
	katt_guard(GUARD_MS);
	n = ktls_recv_record(fd, &t, got, sizeof(got), flags);
	katt_guard_off();
	ASSERT_EQ((ssize_t)len, n) TH_LOG("app: record of %zu bytes: %s",
					  len, katt_err(n));
	EXPECT_EQ(type, t);
	EXPECT_EQ(-1, ktls_first_diff(want, got, len));
}

/* The gated end's application reads @len bytes of data, pattern @seed. */
static void expect_app_data(struct __test_metadata *_metadata, int fd,
			    size_t len, uint32_t seed)
{
	unsigned char *want = malloc(len), *got = malloc(len);
	size_t done = 0;
	uint8_t t;
	ssize_t n;

	ASSERT_TRUE(want && got);
	ktls_fill(want, len, seed);
	while (done < len) {
		n = ktls_recv_record(fd, &t, got + done, len - done, 0);
		ASSERT_LT(0, n) TH_LOG("app: data at %zu: %s", done,
				       katt_err(n));
		ASSERT_EQ(REC_DATA, t) TH_LOG("app: record type %u", t);
		done += n;
	}
	EXPECT_EQ(-1, ktls_first_diff(want, got, len));
	free(want);
	free(got);
}

/* ==== relay: agent to agent, over every TLS variant ======================= */

FIXTURE(relay)
{
	struct env e;
};

FIXTURE_VARIANT(relay)
{
	int family;
	uint16_t version;
	uint16_t cipher;
};

FIXTURE_VARIANT_ADD(relay, tls13_aes_gcm_128)
{
	.family = AF_INET,
	.version = TLS_1_3_VERSION,
	.cipher = TLS_CIPHER_AES_GCM_128,
};

FIXTURE_VARIANT_ADD(relay, tls13_aes_gcm_256_ipv6)
{
	.family = AF_INET6,
	.version = TLS_1_3_VERSION,
	.cipher = TLS_CIPHER_AES_GCM_256,
};

FIXTURE_VARIANT_ADD(relay, tls13_chacha20_poly1305)
{
	.family = AF_INET,
	.version = TLS_1_3_VERSION,
	.cipher = TLS_CIPHER_CHACHA20_POLY1305,
};

FIXTURE_VARIANT_ADD(relay, tls12_aes_gcm_128)
{
	.family = AF_INET,
	.version = TLS_1_2_VERSION,
	.cipher = TLS_CIPHER_AES_GCM_128,
};

FIXTURE_SETUP(relay)
{
	env_setup(_metadata, &self->e, variant->family, variant->version,
		  variant->cipher, AGENT0 | AGENT1);
}

FIXTURE_TEARDOWN(relay)
{
	env_teardown(_metadata, &self->e);
}

/* Message sizes at and around the record boundaries. */
static const size_t edge_sizes[] = {
	1, FRAG_MAX - 1, FRAG_MAX, FRAG_MAX + 1,
	2 * FRAG_MAX, 2 * FRAG_MAX + 1, MSG_MAX,
};

#define NR_EDGE	(sizeof(edge_sizes) / sizeof(edge_sizes[0]))

static void expect_echo(struct __test_metadata *_metadata,
			struct katt_agent *a, uint64_t cookie, size_t len)
{
	struct katt_agent_ev ev;

	next_event(_metadata, a, cookie, &ev, KATT_AGENT_ECHO);
	EXPECT_EQ(0, ev.ret) TH_LOG("echo of %zu bytes: %s", len,
				    strerror(ev.ret));
	EXPECT_EQ(len, ev.len);
}

/* Agent 0 to agent 1 and back (echo), then agent 1 on its own; pass. */
TEST_F(relay, both_ways)
{
	struct env *e = &self->e;
	struct conn *c = &e->c[0];
	int i;

	READY();
	conn_open(_metadata, e, c, &gated_end, &gated_end);
	for (i = 0; i < 2; i++)
		expect_round(_metadata, e, c, i, 1, ST_PENDING);
	ASSERT_EQ(0, katt_agent_echo(&e->ag[1], true));
	agent_send(_metadata, &e->ag[0], c->cookie[0], 1000, 11);
	expect_msg(_metadata, &e->ag[1], c->cookie[1], 1, 1000, 11);
	expect_echo(_metadata, &e->ag[1], c->cookie[1], 1000);
	expect_msg(_metadata, &e->ag[0], c->cookie[0], 1, 1000, 11);
	ASSERT_EQ(0, katt_agent_echo(&e->ag[1], false));
	agent_send(_metadata, &e->ag[1], c->cookie[1], 3000, 12);
	expect_msg(_metadata, &e->ag[0], c->cookie[0], 1, 3000, 12);
	for (i = 0; i < 2; i++)
		expect_quiet(_metadata, &e->ag[i], c->cookie[i], "relayed");

	/* held until each end's own agent passes it */
	katt_guard(GUARD_MS);
	EXPECT_EQ(-1, send(c->fd[0], "x", 1, MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	katt_guard_off();
	for (i = 0; i < 2; i++) {
		agent_verdict(_metadata, &e->ag[i], c->cookie[i], 1, "pass");
		expect_state(_metadata, c->fd[i], ST_PASSED,
			     KTLS_ATTEST_REASON_VERDICT);
	}
	expect_data_flows(_metadata, c, 0, 5000, 13);
	expect_data_flows(_metadata, c, 1, 7000, 14);
}

/* Every edge size, there (agent 0 to 1) and back (echo): byte for byte. */
TEST_F(relay, message_sizes)
{
	struct env *e = &self->e;
	struct conn *c = &e->c[0];
	unsigned int k;
	int i, ret;

	READY();
	conn_open(_metadata, e, c, &gated_end, &gated_end);
	for (i = 0; i < 2; i++)
		expect_round(_metadata, e, c, i, 1, ST_PENDING);
	ASSERT_EQ(0, katt_agent_echo(&e->ag[1], true));
	for (k = 0; k < NR_EDGE; k++) {
		agent_send(_metadata, &e->ag[0], c->cookie[0], edge_sizes[k],
			   20 + k);
		expect_msg(_metadata, &e->ag[1], c->cookie[1], 1,
			   edge_sizes[k], 20 + k);
		expect_echo(_metadata, &e->ag[1], c->cookie[1], edge_sizes[k]);
		expect_msg(_metadata, &e->ag[0], c->cookie[0], 1,
			   edge_sizes[k], 20 + k);
	}
	ret = katt_agent_send(&e->ag[0], c->cookie[0], MSG_MAX + 1, 30);
	EXPECT_EQ(-EMSGSIZE, ret) TH_LOG("msg-send of %d bytes: %s", MSG_MAX + 1,
					 katt_err(ret));
	expect_quiet(_metadata, &e->ag[1], c->cookie[1], "after EMSGSIZE");
	for (i = 0; i < 2; i++)
		agent_verdict(_metadata, &e->ag[i], c->cookie[i], 1, "pass");
	expect_data_flows(_metadata, c, 0, 20000, 31);
	expect_data_flows(_metadata, c, 1, 20000, 32);
}

/* The records the kernel writes, as a plain kTLS peer reads them. */
TEST_F(relay, wire_format)
{
	struct env *e = &self->e;
	struct conn *c = &e->c[0];
	unsigned char *want, *got;
	unsigned int k;
	int nrec;
	size_t n;

	READY();
	want = malloc(MSG_MAX);
	got = malloc(MSG_MAX);
	ASSERT_TRUE(want && got);
	conn_open(_metadata, e, c, &gated_end, &plain_end);
	expect_round(_metadata, e, c, 0, 1, ST_PENDING);
	for (k = 0; k < NR_EDGE; k++) {
		agent_send(_metadata, &e->ag[0], c->cookie[0], edge_sizes[k],
			   40 + k);
		n = peer_recv_msg(_metadata, c->fd[1], got, MSG_MAX, &nrec);
		ASSERT_EQ(edge_sizes[k], n);
		EXPECT_EQ((int)((n + FRAG_MAX - 1) / FRAG_MAX), nrec)
			TH_LOG("%zu bytes in %d records", n, nrec);
		ktls_fill(want, n, 40 + k);
		EXPECT_EQ(-1, ktls_first_diff(want, got, n));
	}
	/* application data only after the pass, behind the messages */
	katt_guard(GUARD_MS);
	EXPECT_EQ(-1, send(c->fd[0], "x", 1, MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	katt_guard_off();
	agent_verdict(_metadata, &e->ag[0], c->cookie[0], 1, "pass");
	agent_send(_metadata, &e->ag[0], c->cookie[0], 100, 50);
	ktls_fill(want, 3000, 51);
	ASSERT_EQ(3000, ktls_send_all(c->fd[0], want, 3000, MSG_NOSIGNAL));
	n = peer_recv_msg(_metadata, c->fd[1], got, MSG_MAX, &nrec);
	EXPECT_EQ(100, n);
	peer_recv_data(_metadata, c->fd[1], 3000, 51);
	free(want);
	free(got);
}

/* --- application data with attestation messages in it ------------------- */

enum read_mode { READ_RECV, READ_RECVMSG, READ_PEEK };

struct stream_res {
	ssize_t got;		/* bytes read, or -errno of the failed call */
	int bad_type;		/* a record type other than data (cmsg) */
	ssize_t peek_diff;	/* where a read differed from its peek; -1 */
	unsigned char data[];
};

#define STREAM_CHUNKS	6
#define STREAM_CHUNK	6000
#define STREAM_LEN	(STREAM_CHUNKS * STREAM_CHUNK)
#define STREAM_SEED	4242

/* Injected after each chunk but the last. */
static const size_t stream_msgs[STREAM_CHUNKS - 1] = {
	1, FRAG_MAX + 1, 300, MSG_MAX, 2000,
};

/* Reads of these sizes, in turn, straddle every record boundary. */
static const size_t read_sizes[] = {
	1, 100, 4096, 7001, TLS_MAX_PAYLOAD, 20000, 333,
};

static ssize_t read_recvmsg(int fd, unsigned char *buf, size_t len,
			    struct stream_res *r)
{
	uint8_t type;
	ssize_t n;

	n = ktls_recv_record(fd, &type, buf, len, 0);
	if (n > 0 && type != REC_DATA)
		r->bad_type = type;
	return n;
}

static ssize_t read_peek(int fd, unsigned char *buf, size_t len,
			 struct stream_res *r)
{
	static unsigned char peek[20000];
	ssize_t n, m;

	n = recv(fd, peek, len, MSG_PEEK);
	if (n <= 0)
		return n < 0 ? -errno : 0;
	m = recv(fd, buf, n, 0);
	if (m < 0)
		return -errno;
	if (m != n && r->peek_diff < 0)
		r->peek_diff = m;
	n = ktls_first_diff(peek, buf, m);
	if (n >= 0 && r->peek_diff < 0)
		r->peek_diff = n;
	return m;
}

static void stream_reader(int fd, enum read_mode mode, struct stream_res *r)
{
	size_t done = 0, i = 0, len;
	ssize_t n;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	alarm(KATT_CALLER_ALARM_S);
	while (done < STREAM_LEN) {
		len = read_sizes[i++ % (sizeof(read_sizes) /
					sizeof(read_sizes[0]))];
		if (len > STREAM_LEN - done)
			len = STREAM_LEN - done;
		if (mode == READ_RECV) {
			n = recv(fd, r->data + done, len, 0);
			n = n < 0 ? -errno : n;
		} else if (mode == READ_RECVMSG) {
			n = read_recvmsg(fd, r->data + done, len, r);
		} else {
			n = read_peek(fd, r->data + done, len, r);
		}
		if (n <= 0) {
			r->got = n < 0 ? n : (ssize_t)done;
			_exit(0);
		}
		done += n;
	}
	r->got = done;
	_exit(0);
}

/*
 * Both ends passed; end 0 streams a known pattern, its agent injecting a
 * message between chunks (re-attestation while passed); end 1's
 * application reads the stream while it arrives, in @mode.  It must get
 * the pattern byte for byte; its agent gets round 2, then the messages.
 */
static void stream_test(struct __test_metadata *_metadata, struct env *e,
			enum read_mode mode)
{
	struct conn *c = &e->c[0];
	size_t size = sizeof(struct stream_res) + STREAM_LEN;
	unsigned char *pattern;
	struct stream_res *r;
	ssize_t n;
	pid_t pid;
	int k;

	conn_open(_metadata, e, c, &gated_end, &gated_end);
	conn_attest(_metadata, e, c);
	pattern = malloc(STREAM_LEN);
	ASSERT_NE(NULL, pattern);
	ktls_fill(pattern, STREAM_LEN, STREAM_SEED);
	r = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		 -1, 0);
	ASSERT_NE(MAP_FAILED, r);
	r->got = -EINPROGRESS;
	r->peek_diff = -1;

	fflush(stdout);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid)
		stream_reader(c->fd[1], mode, r);
	for (k = 0; k < STREAM_CHUNKS; k++) {
		n = ktls_send_all(c->fd[0], pattern + k * STREAM_CHUNK,
				  STREAM_CHUNK, MSG_NOSIGNAL);
		EXPECT_EQ(STREAM_CHUNK, n) TH_LOG("chunk %d: %s", k,
						  katt_err(n));
		if (k < STREAM_CHUNKS - 1)
			agent_send(_metadata, &e->ag[0], c->cookie[0],
				   stream_msgs[k], 300 + k);
	}
	ASSERT_EQ(0, ktls_wait_child(pid));
	EXPECT_EQ(STREAM_LEN, r->got) TH_LOG("the application read: %s",
					     katt_err(r->got));
	EXPECT_EQ(0, r->bad_type) TH_LOG("the application got a record of type %d",
					 r->bad_type);
	EXPECT_EQ(-1, r->peek_diff) TH_LOG("a read differed from its peek at %zd",
					   r->peek_diff);
	if (r->got > 0)
		EXPECT_EQ(-1, ktls_first_diff(pattern, r->data, r->got))
			TH_LOG("stream differs at byte %zd",
			       ktls_first_diff(pattern, r->data, r->got));

	/* a message on a passed socket starts a round, then is delivered */
	expect_round(_metadata, e, c, 1, 2, ST_REATTESTING);
	for (k = 0; k < STREAM_CHUNKS - 1; k++)
		expect_msg(_metadata, &e->ag[1], c->cookie[1], 2,
			   stream_msgs[k], 300 + k);
	agent_verdict(_metadata, &e->ag[1], c->cookie[1], 2, "pass");
	expect_state(_metadata, c->fd[1], ST_PASSED, KTLS_ATTEST_REASON_VERDICT);
	expect_data_flows(_metadata, c, 0, 1000, 60);
	expect_data_flows(_metadata, c, 1, 1000, 61);
	munmap(r, size);
	free(pattern);
}

TEST_F(relay, stream_recv)
{
	READY();
	stream_test(_metadata, &self->e, READ_RECV);
}

TEST_F(relay, stream_recvmsg)
{
	READY();
	stream_test(_metadata, &self->e, READ_RECVMSG);
}

TEST_F(relay, stream_peek)
{
	READY();
	stream_test(_metadata, &self->e, READ_PEEK);
}

/* ==== xport: the transport's rules (TLS 1.3, AES-GCM-128, IPv4) =========== */

FIXTURE(xport)
{
	struct env e;
};

FIXTURE_SETUP(xport)
{
	env_setup(_metadata, &self->e, AF_INET, TLS_1_3_VERSION,
		  TLS_CIPHER_AES_GCM_128, AGENT0 | AGENT1);
}

FIXTURE_TEARDOWN(xport)
{
	env_teardown(_metadata, &self->e);
}

/* A netlink client (not an agent) in ns[@i]. */
static struct katt_nl *nl_in(struct __test_metadata *_metadata,
			     struct env *e, int i)
{
	struct katt_nl *nl = NULL;
	int ret;

	ASSERT_EQ(0, katt_netns_enter(&e->net, i));
	ret = katt_nl_open(&nl);
	ASSERT_EQ(0, katt_netns_enter(&e->net, -1));
	ASSERT_EQ(0, ret) TH_LOG("netlink in ns[%d]: %s", i, strerror(-ret));
	return nl;
}

static void op_verdict(struct __test_metadata *_metadata, struct katt_nl *nl,
		       uint64_t cookie, uint32_t round, uint32_t verdict)
{
	int ret = katt_nl_verdict(nl, cookie, round, verdict, "operator");

	ASSERT_EQ(0, ret) TH_LOG("operator verdict %u: %s (%s)", verdict,
				 strerror(-ret), katt_nl_extack(nl));
}

static int binding_errno(int fd, const void *b, socklen_t len)
{
	return setsockopt(fd, SOL_KTLS_ATTEST, KTLS_ATTEST_BINDING, b, len) ?
	       errno : 0;
}

/* Sizes, flags, reserved, once, write-only, and the states that refuse. */
TEST_F(xport, binding_option)
{
	const struct end_opts armed = { .no_keys = true, .no_binding = true };
	const struct end_opts unbound = { .no_binding = true };
	struct env *e = &self->e;
	struct ktls_attest_binding b, bad, exp_only;
	unsigned char big[sizeof(b) + 8];
	struct katt_nl *op;
	socklen_t len;
	int fd, i;

	READY();
	conn_open(_metadata, e, &e->c[0], &armed, &plain_end);
	fd = e->c[0].fd[0];
	b = e->c[0].bind[0];
	memset(big, 0, sizeof(big));
	memcpy(big, &b, sizeof(b));
	EXPECT_EQ(EINVAL, binding_errno(fd, &b, sizeof(b) - 1));
	EXPECT_EQ(EINVAL, binding_errno(fd, big, sizeof(b) + 1));
	EXPECT_EQ(EINVAL, binding_errno(fd, &b, 0));
	bad = b;
	bad.flags |= 0x10;
	EXPECT_EQ(EINVAL, binding_errno(fd, &bad, sizeof(bad)));
	/* a verified peer without a peer key */
	bad = b;
	bad.flags = KTLS_ATTEST_BINDING_LOCAL_KEY |
		    KTLS_ATTEST_BINDING_PEER_VERIFIED;
	memset(bad.peer_key_sha256, 0, sizeof(bad.peer_key_sha256));
	EXPECT_EQ(EINVAL, binding_errno(fd, &bad, sizeof(bad)));
	bad.flags = KTLS_ATTEST_BINDING_PEER_VERIFIED;
	memset(bad.local_key_sha256, 0, sizeof(bad.local_key_sha256));
	EXPECT_EQ(EINVAL, binding_errno(fd, &bad, sizeof(bad)));
	bad.flags = b.flags | 0x80000000;
	EXPECT_EQ(EINVAL, binding_errno(fd, &bad, sizeof(bad)));
	bad = b;
	bad.reserved = 1;
	EXPECT_EQ(EINVAL, binding_errno(fd, &bad, sizeof(bad)));
	bad = b;
	bad.flags = KTLS_ATTEST_BINDING_PEER_KEY;	/* local hash set */
	EXPECT_EQ(EINVAL, binding_errno(fd, &bad, sizeof(bad)));
	bad = b;
	bad.flags = KTLS_ATTEST_BINDING_LOCAL_KEY;	/* peer hash set */
	EXPECT_EQ(EINVAL, binding_errno(fd, &bad, sizeof(bad)));
	len = sizeof(bad);
	EXPECT_EQ(-1, getsockopt(fd, SOL_KTLS_ATTEST, KTLS_ATTEST_BINDING,
				 &bad, &len));
	EXPECT_EQ(ENOPROTOOPT, errno);

	/* once, in ARMED; still a secret afterwards */
	EXPECT_EQ(0, binding_errno(fd, &b, sizeof(b)));
	EXPECT_EQ(EALREADY, binding_errno(fd, &b, sizeof(b)));
	len = sizeof(bad);
	EXPECT_EQ(-1, getsockopt(fd, SOL_KTLS_ATTEST, KTLS_ATTEST_BINDING,
				 &bad, &len));
	EXPECT_EQ(ENOPROTOOPT, errno);
	expect_state(_metadata, fd, KTLS_ATTEST_STATE_ARMED,
		     KTLS_ATTEST_REASON_NONE);

	/* PENDING: the exporter alone (zero hashes, no flags) */
	for (i = 1; i < 5; i++)
		conn_open(_metadata, e, &e->c[i], &unbound, &plain_end);
	memset(&exp_only, 0, sizeof(exp_only));
	memcpy(exp_only.exporter, b.exporter, sizeof(exp_only.exporter));
	EXPECT_EQ(0, binding_errno(e->c[1].fd[0], &exp_only,
				   sizeof(exp_only)));

	/* PASSED, REVOKED, FAILED (by an operator, without a round-start) */
	op = nl_in(_metadata, e, 0);
	op_verdict(_metadata, op, e->c[2].cookie[0], 1, KTLS_ATTEST_VERDICT_PASS);
	EXPECT_EQ(0, binding_errno(e->c[2].fd[0], &b, sizeof(b)));
	op_verdict(_metadata, op, e->c[3].cookie[0], 0,
		   KTLS_ATTEST_VERDICT_REVOKE);
	EXPECT_EQ(EKEYREVOKED, binding_errno(e->c[3].fd[0], &b, sizeof(b)));
	op_verdict(_metadata, op, e->c[4].cookie[0], 1, KTLS_ATTEST_VERDICT_FAIL);
	EXPECT_EQ(EKEYREJECTED, binding_errno(e->c[4].fd[0], &b, sizeof(b)));
	katt_nl_close(op);
}

static void expect_ports(struct __test_metadata *_metadata, int fd,
			 const struct katt_agent_ev *ev)
{
	struct sockaddr_in ls, ps;
	socklen_t sl = sizeof(ls);

	ASSERT_EQ(0, getsockname(fd, (struct sockaddr *)&ls, &sl));
	sl = sizeof(ps);
	ASSERT_EQ(0, getpeername(fd, (struct sockaddr *)&ps, &sl));
	EXPECT_EQ(AF_INET, ev->family);
	EXPECT_EQ(ntohs(ls.sin_port), ev->sport);
	EXPECT_EQ(ntohs(ps.sin_port), ev->dport);
}

static void set_key(struct __test_metadata *_metadata, struct conn *c,
		    int i, int dir)
{
	const struct ktls_crypto *k = dir == TLS_TX ? &c->key[i] : &c->key[!i];

	ASSERT_EQ(0, setsockopt(c->fd[i], SOL_TLS, dir, &k->info, k->len))
		TH_LOG("%s key: %s", dir == TLS_TX ? "TX" : "RX",
		       strerror(errno));
}

/* Round-start only once both keys and the binding are in, in any order. */
TEST_F(xport, round_start_needs_keys_and_binding)
{
	struct end_opts o = {
		.no_keys = true, .no_binding = true,
		.role = KTLS_ATTEST_ROLE_ATTESTER, .timeout_ms = 7000,
		.policy_flags = KTLS_ATTEST_POLICY_FLAGS_HOLD_REATTEST,
	};
	struct env *e = &self->e;
	struct katt_agent *ag = &e->ag[0];
	struct conn *c = e->c;
	struct katt_agent_ev ev;

	READY();
	/* keys, then the binding */
	conn_open(_metadata, e, &c[0], &o, &plain_end);
	ASSERT_EQ(0, ktls_set_ulp(c[0].fd[0], "tls"));
	set_key(_metadata, &c[0], 0, TLS_TX);
	expect_state(_metadata, c[0].fd[0], ST_PENDING, KTLS_ATTEST_REASON_NONE);
	expect_quiet(_metadata, ag, c[0].cookie[0], "TX key only");
	set_key(_metadata, &c[0], 0, TLS_RX);
	expect_quiet(_metadata, ag, c[0].cookie[0], "keys, no binding");
	ASSERT_EQ(0, set_binding(c[0].fd[0], &c[0].bind[0]));
	expect_round_ev(_metadata, e, &c[0], 0, 1, ST_PENDING, &ev);
	EXPECT_EQ(KTLS_ATTEST_ROLE_ATTESTER, ev.role);
	EXPECT_EQ(7000, ev.timeout_ms);
	EXPECT_EQ(KTLS_ATTEST_POLICY_FLAGS_HOLD_REATTEST, ev.flags);
	expect_ports(_metadata, c[0].fd[0], &ev);

	/* the exporter alone, while armed; then TX, then RX */
	o.role = 0;
	o.timeout_ms = 0;
	o.policy_flags = 0;
	conn_open(_metadata, e, &c[1], &o, &plain_end);
	memset(&c[1].bind[0], 0, offsetof(struct ktls_attest_binding,
					  exporter));
	memset(c[1].bind[0].local_key_sha256, 0, 2 * KTLS_ATTEST_KEY_HASH_LEN);
	ASSERT_EQ(0, set_binding(c[1].fd[0], &c[1].bind[0]));
	expect_quiet(_metadata, ag, c[1].cookie[0], "binding, no keys");
	ASSERT_EQ(0, ktls_set_ulp(c[1].fd[0], "tls"));
	set_key(_metadata, &c[1], 0, TLS_TX);
	expect_quiet(_metadata, ag, c[1].cookie[0], "binding and TX key");
	set_key(_metadata, &c[1], 0, TLS_RX);
	expect_round_ev(_metadata, e, &c[1], 0, 1, ST_PENDING, &ev);
	EXPECT_EQ(KTLS_ATTEST_ROLE_RELYING_PARTY, ev.role);
	EXPECT_EQ(KTLS_ATTEST_TIMEOUT_MS_DEFAULT, ev.timeout_ms);
	EXPECT_EQ(0, ev.flags);

	/* the local key hash only, as the TLS server; RX before TX */
	conn_open(_metadata, e, &c[2], &o, &plain_end);
	c[2].bind[0].flags = KTLS_ATTEST_BINDING_LOCAL_KEY |
			     KTLS_ATTEST_BINDING_TLS_SERVER;
	memset(c[2].bind[0].peer_key_sha256, 0, KTLS_ATTEST_KEY_HASH_LEN);
	ASSERT_EQ(0, set_binding(c[2].fd[0], &c[2].bind[0]));
	ASSERT_EQ(0, ktls_set_ulp(c[2].fd[0], "tls"));
	set_key(_metadata, &c[2], 0, TLS_RX);
	expect_quiet(_metadata, ag, c[2].cookie[0], "binding and RX key");
	set_key(_metadata, &c[2], 0, TLS_TX);
	expect_round(_metadata, e, &c[2], 0, 1, ST_PENDING);
	expect_quiet(_metadata, ag, 0, "one round-start each");
}

/*
 * PEER_VERIFIED reaches the agent as it was set, with or without the
 * other flags, and a binding without it has none.
 */
TEST_F(xport, peer_verified_flag)
{
	static const uint32_t flags[] = {
		KTLS_ATTEST_BINDING_PEER_KEY | KTLS_ATTEST_BINDING_PEER_VERIFIED,
		KTLS_ATTEST_BINDING_LOCAL_KEY | KTLS_ATTEST_BINDING_PEER_KEY |
			KTLS_ATTEST_BINDING_PEER_VERIFIED |
			KTLS_ATTEST_BINDING_TLS_SERVER,
		KTLS_ATTEST_BINDING_PEER_KEY,
	};
	const struct end_opts o = { .no_binding = true };
	struct env *e = &self->e;
	struct katt_agent_ev ev;
	unsigned int i;

	READY();
	for (i = 0; i < ARRAY_SIZE(flags); i++) {
		struct conn *c = &e->c[i];

		conn_open(_metadata, e, c, &o, &plain_end);
		c->bind[0].flags = flags[i];
		if (!(flags[i] & KTLS_ATTEST_BINDING_LOCAL_KEY))
			memset(c->bind[0].local_key_sha256, 0,
			       KTLS_ATTEST_KEY_HASH_LEN);
		ASSERT_EQ(0, set_binding(c->fd[0], &c->bind[0]));
		expect_round_ev(_metadata, e, c, 0, 1, ST_PENDING, &ev);
		EXPECT_EQ(flags[i], ev.bflags);
		EXPECT_EQ(!!(flags[i] & KTLS_ATTEST_BINDING_PEER_VERIFIED),
			  !!(ev.bflags & KTLS_ATTEST_BINDING_PEER_VERIFIED));
	}
}

/* The errors of msg-send, from the registered agent; nothing goes out. */
TEST_F(xport, msg_send_errors)
{
	const struct end_opts armed = { .no_keys = true };
	const struct end_opts plain_both = { .plain = true };
	struct env *e = &self->e;
	struct katt_agent *ag = &e->ag[0];
	struct conn *c = e->c;
	int nrec, ret;
	unsigned char msg[8];

	READY();
	conn_open(_metadata, e, &c[0], &gated_end, &plain_end);
	conn_open(_metadata, e, &c[1], &plain_both, &plain_end);
	EXPECT_EQ(-ENOENT, katt_agent_send(ag, c[0].cookie[0] + 1000000, 1, 1));
	EXPECT_EQ(-ENOENT, katt_agent_send(ag, c[1].cookie[0], 1, 1))
		TH_LOG("a kTLS socket that is not armed");
	EXPECT_EQ(-EINVAL, katt_agent_send(ag, c[0].cookie[0], 0, 1))
		TH_LOG("no msg-data");
	ret = katt_agent_send(ag, c[0].cookie[0], MSG_MAX + 1, 1);
	EXPECT_EQ(-EMSGSIZE, ret) TH_LOG("%d bytes: %s", MSG_MAX + 1,
					 katt_err(ret));
	ktls_msleep(HOLD_MS);
	EXPECT_EQ(0, katt_tcp_bytes_received(c[0].fd[1]))
		TH_LOG("a refused msg-send sent something");
	agent_send(_metadata, ag, c[0].cookie[0], 1, 1);
	EXPECT_EQ(1, peer_recv_msg(_metadata, c[0].fd[1], msg, sizeof(msg),
				   &nrec));

	/* no TX key: armed; then the RX key alone */
	conn_open(_metadata, e, &c[2], &armed, &plain_end);
	EXPECT_EQ(-ENOTCONN, katt_agent_send(ag, c[2].cookie[0], 1, 1));
	conn_open(_metadata, e, &c[3], &armed, &plain_end);
	ASSERT_EQ(0, ktls_set_ulp(c[3].fd[0], "tls"));
	set_key(_metadata, &c[3], 0, TLS_RX);
	EXPECT_EQ(-ENOTCONN, katt_agent_send(ag, c[3].cookie[0], 1, 1));

	/* revoked, failed */
	conn_open(_metadata, e, &c[4], &gated_end, &plain_end);
	agent_verdict(_metadata, ag, c[4].cookie[0], 0, "revoke");
	EXPECT_EQ(-EKEYREVOKED, katt_agent_send(ag, c[4].cookie[0], 1, 1));
	conn_open(_metadata, e, &c[5], &gated_end, &plain_end);
	agent_verdict(_metadata, ag, c[5].cookie[0], 1, "fail");
	EXPECT_EQ(-EKEYREJECTED, katt_agent_send(ag, c[5].cookie[0], 1, 1));

	/* the send side shut down */
	ASSERT_EQ(0, shutdown(c[0].fd[0], SHUT_WR));
	EXPECT_EQ(-EPIPE, katt_agent_send(ag, c[0].cookie[0], 1, 1));
}

/* What a process that is not the agent gets, in a forked child. */
struct not_agent_result {
	int dropped, open, send;
};

/* Only the registered agent of the socket's namespace may send. */
TEST_F(xport, msg_send_not_agent)
{
	struct env *e = &self->e;
	struct conn *c = &e->c[0];
	struct not_agent_result *r;
	struct katt_nl *nl;
	pid_t pid;
	int ret;

	READY();
	conn_open(_metadata, e, c, &gated_end, &plain_end);
	expect_round(_metadata, e, c, 0, 1, ST_PENDING);

	/* root, CAP_NET_ADMIN, in the socket's namespace: not the agent */
	nl = nl_in(_metadata, e, 0);
	ret = katt_nl_msg_send(nl, c->cookie[0], "x", 1);
	EXPECT_EQ(-EPERM, ret) TH_LOG("msg-send by root: %s", katt_err(ret));
	EXPECT_STRNE("", katt_nl_extack(nl));
	katt_nl_close(nl);

	/* unprivileged */
	r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, r);
	memset(r, 0x7f, sizeof(*r));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		alarm(10);
		if (katt_netns_enter(&e->net, 0))
			_exit(1);
		r->dropped = setgroups(0, NULL) || setgid(65534) ||
			     setuid(65534) ? -errno : 0;
		r->open = r->dropped ? -1 : katt_nl_open(&nl);
		if (r->open)
			_exit(1);
		r->send = katt_nl_msg_send(nl, c->cookie[0], "x", 1);
		_exit(0);
	}
	ASSERT_EQ(0, ktls_wait_child(pid));
	ASSERT_EQ(0, r->dropped);
	ASSERT_EQ(0, r->open);
	EXPECT_EQ(-EPERM, r->send);
	munmap(r, sizeof(*r));

	/* the agent of the other namespace: no such socket there */
	EXPECT_EQ(-ENOENT, katt_agent_send(&e->ag[1], c->cookie[0], 1, 1));
	ktls_msleep(HOLD_MS);
	EXPECT_EQ(0, katt_tcp_bytes_received(c->fd[1]));
}

/*
 * More than KTLS_ATTEST_MSG_MAX bytes queued unsent: ENOBUFS.  Meanwhile
 * the application's sends are held, and its data goes out behind every
 * queued message.
 */
#define QUEUE_TRIES	16

TEST_F(xport, msg_send_queue_full)
{
	const struct end_opts small_tx = { .sndbuf = 4096 };
	const struct end_opts small_rx = { .plain = true, .rcvbuf = 4096 };
	struct katt_call call = { .path = KP_SEND, .len = 1000 };
	struct env *e = &self->e;
	struct conn *c = &e->c[0];
	struct katt_caller caller = { 0 };
	unsigned char *got, *want, data[1000];
	int k, nok = 0, ret = 0, nrec;
	size_t n;

	READY();
	got = malloc(MSG_MAX);
	want = malloc(MSG_MAX);
	ASSERT_TRUE(got && want);
	conn_open(_metadata, e, c, &small_tx, &small_rx);
	expect_round(_metadata, e, c, 0, 1, ST_PENDING);
	agent_verdict(_metadata, &e->ag[0], c->cookie[0], 1, "pass");
	for (nok = 0; nok < QUEUE_TRIES; nok++) {
		ret = katt_agent_send(&e->ag[0], c->cookie[0], MSG_MAX,
				      500 + nok);
		if (ret)
			break;
	}
	ASSERT_EQ(-ENOBUFS, ret) TH_LOG("after %d messages of %d bytes: %s",
					nok, MSG_MAX, katt_err(ret));
	EXPECT_LT(0, nok);

	/* the application's data waits behind the queue */
	katt_guard(GUARD_MS);
	EXPECT_EQ(-1, send(c->fd[0], data, 10, MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno)
		TH_LOG("send while messages are queued: %s", strerror(errno));
	katt_guard_off();
	ktls_fill(data, sizeof(data), 599);
	call.fd = c->fd[0];
	call.buf = data;
	ret = katt_caller_start(&caller, &call);
	ASSERT_EQ(0, ret);

	for (k = 0; k < nok; k++) {
		n = peer_recv_msg(_metadata, c->fd[1], got, MSG_MAX, &nrec);
		ASSERT_EQ(MSG_MAX, n);
		ktls_fill(want, MSG_MAX, 500 + k);
		EXPECT_EQ(-1, ktls_first_diff(want, got, MSG_MAX))
			TH_LOG("message %d", k);
	}
	peer_recv_data(_metadata, c->fd[1], 1000, 599);
	ret = katt_caller_wait(&caller, WAKE_MS);
	EXPECT_EQ(0, ret);
	if (!ret)
		EXPECT_EQ(1000, caller.res->ret);
	katt_caller_free(&caller);
	free(want);
	free(got);
}

/* Records from the plain end 0 to the gated end 1 are read while held. */
static void open_peer_to_gated(struct __test_metadata *_metadata,
			       struct env *e, struct conn *c)
{
	conn_open(_metadata, e, c, &plain_end, &gated_end);
	expect_round(_metadata, e, c, 1, 1, ST_PENDING);
}

/* Until the kernel took in all that the peer sent (0 in SIOCINQ). */
static void expect_read_in(struct __test_metadata *_metadata, struct conn *c)
{
	long long sent = katt_tcp_bytes_sent(c->fd[0]);
	long long end = katt_now_ms() + WAKE_MS;

	EXPECT_EQ(0, katt_wait_bytes_received(c->fd[1], sent, WAKE_MS));
	while (katt_inq(c->fd[1]) > 0 && katt_now_ms() < end)
		ktls_msleep(5);
	EXPECT_EQ(0, katt_inq(c->fd[1]))
		TH_LOG("the held socket left records unread in TCP");
}

/* Handshake records ahead of the attestation message, data after it. */
TEST_F(xport, handshake_records_queued)
{
	struct env *e = &self->e;
	struct conn *c = &e->c[0];
	char buf[16];

	READY();
	open_peer_to_gated(_metadata, e, c);
	peer_send_type(_metadata, c->fd[0], REC_HANDSHAKE, 200, 901);
	peer_send_type(_metadata, c->fd[0], REC_HANDSHAKE, 300, 902);
	peer_send_seed(_metadata, c->fd[0], 1000, 903);
	peer_send_type(_metadata, c->fd[0], REC_DATA, 2000, 904);
	expect_msg(_metadata, &e->ag[1], c->cookie[1], 1, 1000, 903);
	expect_read_in(_metadata, c);
	expect_state(_metadata, c->fd[1], ST_PENDING, KTLS_ATTEST_REASON_NONE);
	katt_guard(GUARD_MS);
	EXPECT_EQ(-1, recv(c->fd[1], buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	katt_guard_off();

	agent_verdict(_metadata, &e->ag[1], c->cookie[1], 1, "pass");
	expect_app_record(_metadata, c->fd[1], REC_HANDSHAKE, 200, 901, 0);
	expect_app_record(_metadata, c->fd[1], REC_HANDSHAKE, 300, 902, 0);
	expect_app_data(_metadata, c->fd[1], 2000, 904);
}

/* As on plain kTLS: EIO without cmsg room, MSG_PEEK with it. */
TEST_F(xport, handshake_records_recv)
{
	struct env *e = &self->e;
	struct conn *c = &e->c[0];
	unsigned char want[1500], got[1500];
	int i;

	READY();
	open_peer_to_gated(_metadata, e, c);
	peer_send_type(_metadata, c->fd[0], REC_HANDSHAKE, 200, 911);
	peer_send_seed(_metadata, c->fd[0], 500, 912);
	peer_send_type(_metadata, c->fd[0], REC_DATA, 1500, 913);
	expect_msg(_metadata, &e->ag[1], c->cookie[1], 1, 500, 912);
	agent_verdict(_metadata, &e->ag[1], c->cookie[1], 1, "pass");
	for (i = 0; i < 2; i++) {
		katt_guard(GUARD_MS);
		EXPECT_EQ(-1, recv(c->fd[1], got, sizeof(got), 0));
		EXPECT_EQ(EIO, errno) TH_LOG("plain recv of a handshake record: %s",
					     strerror(errno));
		katt_guard_off();
	}
	expect_app_record(_metadata, c->fd[1], REC_HANDSHAKE, 200, 911,
			  MSG_PEEK);
	expect_app_record(_metadata, c->fd[1], REC_HANDSHAKE, 200, 911, 0);
	ktls_fill(want, sizeof(want), 913);
	katt_guard(GUARD_MS);
	EXPECT_EQ(1500, ktls_recv_all(c->fd[1], got, sizeof(got), 0));
	katt_guard_off();
	EXPECT_EQ(-1, ktls_first_diff(want, got, sizeof(got)));
}

/* Application data before the peer's first attestation record. */
TEST_F(xport, data_before_attestation)
{
	struct env *e = &self->e;
	int i;

	READY();
	for (i = 0; i < 2; i++) {
		struct conn *c = &e->c[i];

		open_peer_to_gated(_metadata, e, c);
		if (i)
			peer_send_type(_metadata, c->fd[0], REC_HANDSHAKE, 100,
				       920);
		peer_send_type(_metadata, c->fd[0], REC_DATA, 100, 921);
		expect_fails(_metadata, c->fd[1], ST_FAILED,
			     KTLS_ATTEST_REASON_PROTOCOL, WAKE_MS);
		expect_quiet(_metadata, &e->ag[1], c->cookie[1],
			     "data first");
		expect_app_refused(_metadata, c->fd[1], EKEYREJECTED);
	}
}

/* A pair whose peer has spoken: its first message reached the agent. */
static void open_spoken(struct __test_metadata *_metadata, struct env *e,
			struct conn *c, uint32_t seed)
{
	open_peer_to_gated(_metadata, e, c);
	peer_send_seed(_metadata, c->fd[0], 100, seed);
	expect_msg(_metadata, &e->ag[1], c->cookie[1], 1, 100, seed);
}

/*
 * The peer's second message (50 bytes, @seed) comes behind what the test
 * sent ahead of it: the agent gets it in round 1 if that fitted the
 * receive queue (@fits), else the kernel stopped reading before it.
 * Nothing fails either way; then the agent passes round 1.
 */
static void second_msg_behind(struct __test_metadata *_metadata,
			      struct env *e, struct conn *c, bool fits,
			      uint32_t seed)
{
	peer_send_seed(_metadata, c->fd[0], 50, seed);
	if (fits) {
		expect_msg(_metadata, &e->ag[1], c->cookie[1], 1, 50, seed);
		expect_read_in(_metadata, c);
	} else {
		long long sent = katt_tcp_bytes_sent(c->fd[0]);

		EXPECT_EQ(0, katt_wait_bytes_received(c->fd[1], sent, WAKE_MS));
		expect_quiet(_metadata, &e->ag[1], c->cookie[1],
			     "a message behind a full receive queue");
	}
	expect_state(_metadata, c->fd[1], ST_PENDING, KTLS_ATTEST_REASON_NONE);
	agent_verdict(_metadata, &e->ag[1], c->cookie[1], 1, "pass");
}

/*
 * The application has read what came before the second message (@seed)
 * and reads on: the message is taken out, as the start of round 2, and
 * the read returns the data byte behind it.
 */
static void second_msg_on_read(struct __test_metadata *_metadata,
			       struct env *e, struct conn *c, uint32_t seed)
{
	struct katt_call call = { .path = KP_RECV, .len = 1, .fd = c->fd[1] };
	struct katt_caller reader = { 0 };

	katt_start(_metadata, &reader, &call);
	expect_round(_metadata, e, c, 1, 2, ST_REATTESTING);
	expect_msg(_metadata, &e->ag[1], c->cookie[1], 2, 50, seed);
	peer_send_type(_metadata, c->fd[0], REC_DATA, 1, seed + 1);
	katt_reap(_metadata, &reader, "recv after the message");
	EXPECT_EQ(1, reader.res->ret);
	katt_caller_free(&reader);
}

/*
 * The receive queue while held (protocol.rst, "Ordering on the wire"): at
 * most 64 KiB of record payload and 64 records; when it is full the kernel
 * stops reading, and what follows waits in kTLS and TCP.  The peer sends
 * an attestation message, @nrec data records of @rec_len bytes and one of
 * @last_len if not 0, then a second message.  Whether or not the data fit
 * (@fits), nothing fails; the application reads all of it, in order, after
 * the pass.  The second message reaches the agent while held if the data
 * fit; if not, only once the application has read the data before it and
 * reads on (then as the start of round 2).
 */
static void rx_queue_case(struct __test_metadata *_metadata, struct env *e,
			  struct conn *c, int nrec, size_t rec_len,
			  size_t last_len, bool fits)
{
	size_t total = nrec * rec_len + last_len, off = 0;
	unsigned char *data = malloc(total);
	ssize_t ret;
	int k;

	ASSERT_NE(NULL, data);
	ktls_fill(data, total, 930);
	open_spoken(_metadata, e, c, 931);
	for (k = 0; k <= nrec; k++, off += rec_len) {
		size_t n = k < nrec ? rec_len : last_len;

		if (!n)
			break;
		ret = ktls_send_record(c->fd[0], REC_DATA, data + off, n, 0);
		ASSERT_EQ((ssize_t)n, ret) TH_LOG("peer: record %d: %s", k,
						  katt_err(ret));
	}
	second_msg_behind(_metadata, e, c, fits, 932);
	expect_app_data(_metadata, c->fd[1], total, 930);
	if (!fits)
		second_msg_on_read(_metadata, e, c, 932);
	free(data);
}

/*
 * The record bound counts the queue's entries: each record that is not
 * data is one (consecutive data records that kTLS returns in one read share
 * one, and the byte bound covers them).  @nrec one-byte handshake records
 * ahead of an attestation message: 64 fit, and the message is read in
 * round 1; with a 65th the kernel stops reading before the message.
 */
static void rx_queue_recs_case(struct __test_metadata *_metadata,
			       struct env *e, struct conn *c, int nrec,
			       bool fits)
{
	unsigned char b, buf[16];
	uint8_t type;
	ssize_t ret;
	int k;

	open_spoken(_metadata, e, c, 936);
	for (k = 0; k < nrec; k++) {
		b = k;
		ret = ktls_send_record(c->fd[0], REC_HANDSHAKE, &b, 1, 0);
		ASSERT_EQ(1, ret) TH_LOG("peer: record %d: %s", k,
					 katt_err(ret));
	}
	second_msg_behind(_metadata, e, c, fits, 937);

	/* each record as kTLS gives it: one per read, its type in a cmsg */
	katt_guard(GUARD_MS);
	for (k = 0; k < nrec; k++) {
		type = 0;
		ret = ktls_recv_record(c->fd[1], &type, buf, sizeof(buf), 0);
		ASSERT_EQ(1, ret) TH_LOG("record %d: %s", k, katt_err(ret));
		EXPECT_EQ(REC_HANDSHAKE, type);
		EXPECT_EQ(k, buf[0]);
	}
	katt_guard_off();
	if (!fits)
		second_msg_on_read(_metadata, e, c, 937);
}

TEST_F(xport, rx_queue_64_records)
{
	READY();
	rx_queue_recs_case(_metadata, &self->e, &self->e.c[0], 64, true);
	rx_queue_recs_case(_metadata, &self->e, &self->e.c[1], 65, false);
}

TEST_F(xport, rx_queue_64_kib)
{
	READY();
	rx_queue_case(_metadata, &self->e, &self->e.c[0], 4, TLS_MAX_PAYLOAD,
		      0, true);
	rx_queue_case(_metadata, &self->e, &self->e.c[1], 4, TLS_MAX_PAYLOAD,
		      1, false);
}

/*
 * Records that came while the socket had no binding are read as soon as it
 * gets one: the peer's message reaches the agent, after the round-start.
 */
TEST_F(xport, binding_late_reads)
{
	const struct end_opts unbound = { .no_binding = true };
	struct env *e = &self->e;
	struct conn *c = &e->c[0];

	READY();
	conn_open(_metadata, e, c, &plain_end, &unbound);
	peer_send_seed(_metadata, c->fd[0], 700, 939);
	EXPECT_EQ(0, katt_wait_bytes_received(c->fd[1],
					      katt_tcp_bytes_sent(c->fd[0]),
					      WAKE_MS));
	expect_quiet(_metadata, &e->ag[1], c->cookie[1], "no binding yet");
	ASSERT_EQ(0, set_binding(c->fd[1], &c->bind[1]));
	expect_round(_metadata, e, c, 1, 1, ST_PENDING);
	expect_msg(_metadata, &e->ag[1], c->cookie[1], 1, 700, 939);
	expect_state(_metadata, c->fd[1], ST_PENDING, KTLS_ATTEST_REASON_NONE);
}

/* Without a binding the kernel reads nothing while held: no violation. */
TEST_F(xport, no_binding_not_read)
{
	const struct end_opts unbound = { .no_binding = true };
	struct env *e = &self->e;
	struct conn *c = &e->c[0];
	struct katt_nl *op;

	READY();
	conn_open(_metadata, e, c, &plain_end, &unbound);
	peer_send_type(_metadata, c->fd[0], REC_DATA, 300, 935);
	EXPECT_EQ(0, katt_wait_bytes_received(c->fd[1], 300, WAKE_MS));
	expect_quiet(_metadata, &e->ag[1], c->cookie[1], "no binding");
	/* read while held, data first would have failed it */
	expect_state(_metadata, c->fd[1], ST_PENDING, KTLS_ATTEST_REASON_NONE);
	op = nl_in(_metadata, e, 1);
	op_verdict(_metadata, op, c->cookie[1], 1, KTLS_ATTEST_VERDICT_PASS);
	katt_nl_close(op);
	expect_app_data(_metadata, c->fd[1], 300, 935);
}

/*
 * Broken framing after the pass revokes the socket (reason protocol); the
 * application's read that meets the broken record fails with EKEYREVOKED,
 * with (@cmsg) or without room for a record type.
 */
static void violation_case(struct __test_metadata *_metadata, struct env *e,
			   struct conn *c, bool cmsg)
{
	unsigned char buf[100];
	uint8_t type;
	ssize_t ret;
	int i;

	open_peer_to_gated(_metadata, e, c);
	peer_send_seed(_metadata, c->fd[0], 64, 980);
	expect_msg(_metadata, &e->ag[1], c->cookie[1], 1, 64, 980);
	agent_verdict(_metadata, &e->ag[1], c->cookie[1], 1, "pass");
	peer_send_type(_metadata, c->fd[0], REC_DATA, sizeof(buf), 981);
	ret = peer_frame(c->fd[0], 2, FIRST | LAST, 10, 10, buf, 10, -1);
	ASSERT_EQ(HDR + 10, ret);
	peer_send_type(_metadata, c->fd[0], REC_DATA, sizeof(buf), 982);
	expect_app_data(_metadata, c->fd[1], sizeof(buf), 981);
	for (i = 0; i < 2; i++) {
		katt_guard(GUARD_MS);
		if (cmsg)
			ret = ktls_recv_record(c->fd[1], &type, buf,
					       sizeof(buf), 0);
		else
			ret = recv(c->fd[1], buf, sizeof(buf), 0) < 0 ?
			      -errno : 0;
		katt_guard_off();
		EXPECT_EQ(-EKEYREVOKED, ret)
			TH_LOG("%s %d over a broken record: %s",
			       cmsg ? "recvmsg" : "recv", i + 1, katt_err(ret));
	}
	expect_fails(_metadata, c->fd[1], ST_REVOKED,
		     KTLS_ATTEST_REASON_PROTOCOL, WAKE_MS);
}

TEST_F(xport, violation_after_pass)
{
	READY();
	violation_case(_metadata, &self->e, &self->e.c[0], false);
	violation_case(_metadata, &self->e, &self->e.c[1], true);
}

/*
 * HOLD_REATTEST: a message on a passed socket starts round 2, and the
 * data behind it waits (read by the kernel) until that round passes.
 */
TEST_F(xport, reattest_held)
{
	const struct end_opts hold = {
		.policy_flags = KTLS_ATTEST_POLICY_FLAGS_HOLD_REATTEST,
	};
	struct katt_call call = { .path = KP_RECV, .len = 700 };
	struct env *e = &self->e;
	struct conn *c = &e->c[0];
	struct katt_caller reader = { 0 };
	unsigned char want[700];

	READY();
	conn_open(_metadata, e, c, &plain_end, &hold);
	expect_round(_metadata, e, c, 1, 1, ST_PENDING);
	peer_send_seed(_metadata, c->fd[0], 64, 985);
	expect_msg(_metadata, &e->ag[1], c->cookie[1], 1, 64, 985);
	agent_verdict(_metadata, &e->ag[1], c->cookie[1], 1, "pass");

	call.fd = c->fd[1];
	katt_start(_metadata, &reader, &call);
	peer_send_seed(_metadata, c->fd[0], 200, 986);
	peer_send_type(_metadata, c->fd[0], REC_DATA, sizeof(want), 987);
	expect_round(_metadata, e, c, 1, 2, ST_REATTESTING);
	expect_msg(_metadata, &e->ag[1], c->cookie[1], 2, 200, 986);
	ktls_msleep(HOLD_MS);
	EXPECT_TRUE(katt_caller_blocked(&reader))
		TH_LOG("data moved during a held re-attestation");
	agent_verdict(_metadata, &e->ag[1], c->cookie[1], 2, "pass");
	katt_reap(_metadata, &reader, "recv after round 2 passed");
	EXPECT_EQ(sizeof(want), reader.res->ret);
	ktls_fill(want, sizeof(want), 987);
	EXPECT_EQ(-1, ktls_first_diff(want, reader.res->data, sizeof(want)));
	katt_caller_free(&reader);
}

/*
 * A passed socket whose application is not reading: an attestation
 * message from the peer at the head of the stream reaches the agent all
 * the same (a re-attestation challenge must not wait for the application),
 * and the application's data around it is untouched.
 */
TEST_F(xport, idle_app_message)
{
	struct env *e = &self->e;
	struct conn *c = &e->c[0];

	READY();
	open_peer_to_gated(_metadata, e, c);
	peer_send_seed(_metadata, c->fd[0], 64, 990);
	expect_msg(_metadata, &e->ag[1], c->cookie[1], 1, 64, 990);
	agent_verdict(_metadata, &e->ag[1], c->cookie[1], 1, "pass");
	expect_state(_metadata, c->fd[1], ST_PASSED, KTLS_ATTEST_REASON_VERDICT);
	peer_send_type(_metadata, c->fd[0], REC_DATA, 300, 991);
	expect_app_data(_metadata, c->fd[1], 300, 991);

	/* nobody reads c->fd[1] from here on */
	peer_send_seed(_metadata, c->fd[0], 5000, 992);
	expect_round(_metadata, e, c, 1, 2, ST_REATTESTING);
	expect_msg(_metadata, &e->ag[1], c->cookie[1], 2, 5000, 992);
	agent_verdict(_metadata, &e->ag[1], c->cookie[1], 2, "pass");
	expect_state(_metadata, c->fd[1], ST_PASSED, KTLS_ATTEST_REASON_VERDICT);

	/* data behind it is the application's, whole */
	peer_send_type(_metadata, c->fd[0], REC_DATA, 400, 993);
	expect_app_data(_metadata, c->fd[1], 400, 993);
}

/* A message in fragments of @frags bytes each (0 allowed), in order. */
static void peer_send_frags(struct __test_metadata *_metadata, int fd,
			    const unsigned char *msg, uint32_t len,
			    const uint16_t *frags, int nfrags)
{
	uint32_t off = 0;
	ssize_t ret;
	int k;

	for (k = 0; k < nfrags; k++) {
		uint8_t flags = (k ? 0 : FIRST) | (k == nfrags - 1 ? LAST : 0);

		ret = peer_frame(fd, KTLS_ATTEST_FRAME_VERSION, flags,
				 frags[k], len, msg + off, frags[k], -1);
		ASSERT_EQ(HDR + frags[k], ret);
		off += frags[k];
	}
	ASSERT_EQ(len, off);
}

/* Fragmentations the kernel never writes but must take. */
TEST_F(xport, peer_fragments)
{
	static const uint16_t zeros[] = { 0, 100, 0, 200 };
	uint16_t ones[20];
	struct env *e = &self->e;
	struct conn *c = &e->c[0];
	unsigned char *msg;
	int k;

	READY();
	msg = malloc(MSG_MAX);
	ASSERT_NE(NULL, msg);
	open_peer_to_gated(_metadata, e, c);
	ktls_fill(msg, 300, 941);
	peer_send_frags(_metadata, c->fd[0], msg, 300, zeros, 4);
	for (k = 0; k < 20; k++)
		ones[k] = 1;
	ktls_fill(msg, 20, 942);
	peer_send_frags(_metadata, c->fd[0], msg, 20, ones, 20);
	ktls_fill(msg, FRAG_MAX, 943);
	peer_send_msg(_metadata, c->fd[0], msg, FRAG_MAX, FRAG_MAX);
	ktls_fill(msg, MSG_MAX, 944);
	peer_send_msg(_metadata, c->fd[0], msg, MSG_MAX, 1000);
	expect_msg(_metadata, &e->ag[1], c->cookie[1], 1, 300, 941);
	expect_msg(_metadata, &e->ag[1], c->cookie[1], 1, 20, 942);
	expect_msg(_metadata, &e->ag[1], c->cookie[1], 1, FRAG_MAX, 943);
	expect_msg(_metadata, &e->ag[1], c->cookie[1], 1, MSG_MAX, 944);
	agent_verdict(_metadata, &e->ag[1], c->cookie[1], 1, "pass");

	/* once passed: data, a message (a new round), data */
	peer_send_type(_metadata, c->fd[0], REC_DATA, 500, 945);
	peer_send_seed(_metadata, c->fd[0], 50, 946);
	peer_send_type(_metadata, c->fd[0], REC_DATA, 600, 947);
	expect_app_data(_metadata, c->fd[1], 500, 945);
	expect_app_data(_metadata, c->fd[1], 600, 947);
	expect_round(_metadata, e, c, 1, 2, ST_REATTESTING);
	expect_msg(_metadata, &e->ag[1], c->cookie[1], 2, 50, 946);
	free(msg);
}

/* The application cannot write attestation records, nor opt out of typing. */
TEST_F(xport, app_record_type_refused)
{
	struct env *e = &self->e;
	struct conn *c = &e->c[0];
	int i, one = 1;
	ssize_t ret;

	READY();
	conn_open(_metadata, e, c, &gated_end, &plain_end);
	expect_round(_metadata, e, c, 0, 1, ST_PENDING);
	for (i = 0; i < 2; i++) {
		katt_guard(GUARD_MS);
		ret = ktls_send_record(c->fd[0], REC_ATTEST, "x", 1,
				       MSG_DONTWAIT);
		katt_guard_off();
		EXPECT_EQ(-EPERM, ret) TH_LOG("%s: TLS_SET_RECORD_TYPE 0x3f: %s",
					      i ? "passed" : "pending",
					      katt_err(ret));
		EXPECT_EQ(-1, setsockopt(c->fd[0], SOL_TLS,
					 TLS_RX_EXPECT_NO_PAD, &one,
					 sizeof(one)));
		EXPECT_EQ(EOPNOTSUPP, errno);
		if (!i)
			agent_verdict(_metadata, &e->ag[0], c->cookie[0], 1,
				      "pass");
	}
	ktls_msleep(HOLD_MS);
	EXPECT_EQ(0, katt_tcp_bytes_received(c->fd[1]));
}

/* --- agents away -------------------------------------------------------- */

/*
 * Still waiting (PENDING) when checked before the deadline, which runs
 * from the first key (after @t0); then failed closed, reason timeout.
 */
static void expect_deadline(struct __test_metadata *_metadata, int fd,
			    long long t0, unsigned int timeout_ms)
{
	struct ktls_attest_status st;
	long long before = katt_now_ms(), left;

	ASSERT_EQ(0, katt_status(fd, &st));
	if (before < t0 + timeout_ms)
		EXPECT_EQ(ST_PENDING, st.state) TH_LOG("%s %lld ms before the deadline",
						       katt_nl_state_name(st.state),
						       t0 + timeout_ms - before);
	left = t0 + timeout_ms + WAKE_MS - katt_now_ms();
	expect_fails(_metadata, fd, ST_FAILED, KTLS_ATTEST_REASON_TIMEOUT,
		     left > 0 ? left : 0);
	expect_app_refused(_metadata, fd, EKEYREJECTED);
}

#define SHORT_MS	3000

TEST_F(xport, agent_absent)
{
	const struct end_opts short_end = { .timeout_ms = SHORT_MS };
	struct env *e = &self->e;
	struct conn *c = &e->c[0];
	long long t0;

	READY();
	katt_agent_kill(&e->ag[1]);
	t0 = katt_now_ms();
	conn_open(_metadata, e, c, &gated_end, &short_end);
	expect_round(_metadata, e, c, 0, 1, ST_PENDING);
	agent_send(_metadata, &e->ag[0], c->cookie[0], 100, 950);
	expect_deadline(_metadata, c->fd[1], t0, SHORT_MS);
}

/*
 * Messages wait in the kernel for an agent, up to 128 KiB per socket
 * (protocol.rst); more is a protocol violation.  The agent that comes
 * later gets the round, then the messages that waited, in order.
 */
TEST_F(xport, agent_backlog)
{
	struct env *e = &self->e;
	struct conn *c = e->c;
	long long sent;
	int i;

	READY();
	katt_agent_kill(&e->ag[1]);
	for (i = 0; i < 2; i++) {
		conn_open(_metadata, e, &c[i], &plain_end, &gated_end);
		peer_send_seed(_metadata, c[i].fd[0], MSG_MAX, 970);
		peer_send_seed(_metadata, c[i].fd[0], MSG_MAX, 971);
		if (i)
			peer_send_seed(_metadata, c[i].fd[0], 1, 972);
	}
	expect_fails(_metadata, c[1].fd[1], ST_FAILED,
		     KTLS_ATTEST_REASON_PROTOCOL, WAKE_MS);
	sent = katt_tcp_bytes_sent(c[0].fd[0]);
	EXPECT_EQ(0, katt_wait_bytes_received(c[0].fd[1], sent, WAKE_MS));
	ktls_msleep(HOLD_MS);
	expect_state(_metadata, c[0].fd[1], ST_PENDING, KTLS_ATTEST_REASON_NONE);

	ASSERT_EQ(0, katt_agent_start(&e->ag[1], katt_agent_path(),
				      e->net.ns[1]));
	expect_round(_metadata, e, &c[0], 1, 1, ST_PENDING);
	expect_msg(_metadata, &e->ag[1], c[0].cookie[1], 1, MSG_MAX, 970);
	expect_msg(_metadata, &e->ag[1], c[0].cookie[1], 1, MSG_MAX, 971);
	expect_quiet(_metadata, &e->ag[1], c[1].cookie[1], "a failed socket");
}

TEST_F(xport, agent_killed_mid_round)
{
	const struct end_opts short_end = { .timeout_ms = SHORT_MS };
	struct env *e = &self->e;
	struct conn *c = &e->c[0];
	long long t0;

	READY();
	t0 = katt_now_ms();
	conn_open(_metadata, e, c, &gated_end, &short_end);
	expect_round(_metadata, e, c, 0, 1, ST_PENDING);
	expect_round(_metadata, e, c, 1, 1, ST_PENDING);
	agent_send(_metadata, &e->ag[0], c->cookie[0], 100, 951);
	expect_msg(_metadata, &e->ag[1], c->cookie[1], 1, 100, 951);
	katt_agent_kill(&e->ag[1]);
	expect_deadline(_metadata, c->fd[1], t0, SHORT_MS);
}

/* A new agent is told of the waiting socket, then of its pending message. */
TEST_F(xport, agent_restarted)
{
	const struct end_opts long_end = { .timeout_ms = 30000 };
	struct env *e = &self->e;
	struct conn *c = &e->c[0];
	int i, ret;

	READY();
	conn_open(_metadata, e, c, &long_end, &long_end);
	for (i = 0; i < 2; i++)
		expect_round(_metadata, e, c, i, 1, ST_PENDING);
	katt_agent_kill(&e->ag[1]);
	agent_send(_metadata, &e->ag[0], c->cookie[0], 5000, 952);
	/* the message is in at end 1 before its next agent comes */
	EXPECT_EQ(0, katt_wait_bytes_received(c->fd[1], 5000 + HDR, WAKE_MS));
	expect_state(_metadata, c->fd[1], ST_PENDING, KTLS_ATTEST_REASON_NONE);

	ret = katt_agent_start(&e->ag[1], katt_agent_path(), e->net.ns[1]);
	ASSERT_EQ(0, ret) TH_LOG("new agent: %s", strerror(-ret));
	expect_round(_metadata, e, c, 1, 1, ST_PENDING);
	expect_msg(_metadata, &e->ag[1], c->cookie[1], 1, 5000, 952);
	agent_send(_metadata, &e->ag[1], c->cookie[1], 600, 953);
	expect_msg(_metadata, &e->ag[0], c->cookie[0], 1, 600, 953);
	for (i = 0; i < 2; i++) {
		agent_verdict(_metadata, &e->ag[i], c->cookie[i], 1, "pass");
		expect_state(_metadata, c->fd[i], ST_PASSED,
			     KTLS_ATTEST_REASON_VERDICT);
	}
	expect_data_flows(_metadata, c, 0, 3000, 954);
	expect_data_flows(_metadata, c, 1, 3000, 955);
}

/* ==== frame: a peer that breaks the framing =============================== */

/* One record of the peer: header fields, payload bytes, or a short record. */
struct bad_rec {
	uint8_t version, flags;
	uint16_t frag_len;
	uint32_t msg_len;
	uint16_t payload;	/* bytes after the header */
	int16_t rec_len;	/* > 0: only this many bytes of the record */
};

#define V1		KTLS_ATTEST_FRAME_VERSION
#define MAX_BAD_RECS	3

FIXTURE(frame)
{
	struct env e;
};

FIXTURE_VARIANT(frame)
{
	struct bad_rec recs[MAX_BAD_RECS];
	int nrec;
	bool fin;		/* the peer's FIN after the records */
};

FIXTURE_VARIANT_ADD(frame, version_2)
{
	.recs = { { 2, FIRST | LAST, 10, 10, 10, 0 } }, .nrec = 1,
};

FIXTURE_VARIANT_ADD(frame, version_0)
{
	.recs = { { 0, FIRST | LAST, 10, 10, 10, 0 } }, .nrec = 1,
};

FIXTURE_VARIANT_ADD(frame, unknown_flag)
{
	.recs = { { V1, FIRST | LAST | 0x04, 10, 10, 10, 0 } }, .nrec = 1,
};

FIXTURE_VARIANT_ADD(frame, record_shorter_than_header)
{
	.recs = { { V1, FIRST | LAST, 10, 10, 10, 5 } }, .nrec = 1,
};

FIXTURE_VARIANT_ADD(frame, frag_len_over_record)
{
	.recs = { { V1, FIRST | LAST, 20, 20, 10, 0 } }, .nrec = 1,
};

FIXTURE_VARIANT_ADD(frame, frag_len_under_record)
{
	.recs = { { V1, FIRST | LAST, 5, 10, 10, 0 } }, .nrec = 1,
};

FIXTURE_VARIANT_ADD(frame, msg_len_zero)
{
	.recs = { { V1, FIRST | LAST, 0, 0, 0, 0 } }, .nrec = 1,
};

FIXTURE_VARIANT_ADD(frame, msg_len_oversize)
{
	.recs = { { V1, FIRST, 100, MSG_MAX + 1, 100, 0 } }, .nrec = 1,
};

FIXTURE_VARIANT_ADD(frame, more_than_msg_len)
{
	.recs = { { V1, FIRST | LAST, 20, 10, 20, 0 } }, .nrec = 1,
};

FIXTURE_VARIANT_ADD(frame, more_than_msg_len_across)
{
	.recs = { { V1, FIRST, 100, 150, 100, 0 },
		  { V1, LAST, 100, 150, 100, 0 } }, .nrec = 2,
};

FIXTURE_VARIANT_ADD(frame, interleaved_first)
{
	.recs = { { V1, FIRST, 100, 200, 100, 0 },
		  { V1, FIRST, 100, 200, 100, 0 } }, .nrec = 2,
};

FIXTURE_VARIANT_ADD(frame, middle_without_first)
{
	.recs = { { V1, 0, 100, 200, 100, 0 } }, .nrec = 1,
};

FIXTURE_VARIANT_ADD(frame, last_without_first)
{
	.recs = { { V1, LAST, 100, 200, 100, 0 } }, .nrec = 1,
};

FIXTURE_VARIANT_ADD(frame, msg_len_changes)
{
	.recs = { { V1, FIRST, 100, 200, 100, 0 },
		  { V1, LAST, 100, 300, 100, 0 } }, .nrec = 2,
};

FIXTURE_VARIANT_ADD(frame, truncated_last)
{
	.recs = { { V1, FIRST, 100, 200, 100, 0 },
		  { V1, LAST, 50, 200, 50, 0 } }, .nrec = 2,
};

FIXTURE_VARIANT_ADD(frame, fin_mid_message)
{
	.recs = { { V1, FIRST, 100, 200, 100, 0 } }, .nrec = 1, .fin = true,
};

FIXTURE_SETUP(frame)
{
	env_setup(_metadata, &self->e, AF_INET, TLS_1_3_VERSION,
		  TLS_CIPHER_AES_GCM_128, AGENT1);
}

FIXTURE_TEARDOWN(frame)
{
	env_teardown(_metadata, &self->e);
}

/*
 * A whole good message first (delivered), then the broken records: the
 * round fails for the protocol, the agent gets nothing more, and the
 * application nothing at all.
 */
TEST_F(frame, refused)
{
	struct env *e = &self->e;
	struct conn *c = &e->c[0];
	unsigned char payload[256];
	ssize_t ret, len;
	int k;

	READY();
	open_peer_to_gated(_metadata, e, c);
	peer_send_seed(_metadata, c->fd[0], 64, 960);
	expect_msg(_metadata, &e->ag[1], c->cookie[1], 1, 64, 960);
	ktls_fill(payload, sizeof(payload), 961);
	for (k = 0; k < variant->nrec; k++) {
		const struct bad_rec *r = &variant->recs[k];

		len = r->rec_len > 0 ? r->rec_len : HDR + r->payload;
		ret = peer_frame(c->fd[0], r->version, r->flags, r->frag_len,
				 r->msg_len, payload, r->payload,
				 r->rec_len > 0 ? r->rec_len : -1);
		ASSERT_EQ(len, ret) TH_LOG("peer: record %d: %s", k,
					   katt_err(ret));
	}
	if (variant->fin)
		ASSERT_EQ(0, shutdown(c->fd[0], SHUT_WR));
	expect_fails(_metadata, c->fd[1], ST_FAILED,
		     KTLS_ATTEST_REASON_PROTOCOL, WAKE_MS);
	expect_quiet(_metadata, &e->ag[1], c->cookie[1], "broken framing");
	expect_app_refused(_metadata, c->fd[1], EKEYREJECTED);
}

TEST_HARNESS_MAIN
