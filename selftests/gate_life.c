// SPDX-License-Identifier: GPL-2.0
/*
 * ktls-attest: the life of gated sockets beyond one round.
 *
 * Listener inheritance (children inherit role and policy; children never
 * accepted give their module references back when the listener closes),
 * rmmod while callers are blocked in the gate (refused; shutdown() then
 * wakes them), a network namespace torn down with live gated sockets,
 * re-attestation through the socket option (blocks until the verdict; the
 * agent sees round 2; hold-reattest; fail; O_NONBLOCK; SO_SNDTIMEO; signals;
 * the round's deadline), reset-on-revoke, and 1000 gated pairs released at
 * once.
 *
 * Needs root.  Without the module every test SKIPs.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/ktls_attest.h>
#include <linux/tcp.h>
#include <linux/tls.h>

#include "kselftest_harness.h"
#include "lib/katt_harness.h"
#include "lib/katt_nl.h"
#include "lib/katt_test.h"
#include "lib/ktls.h"

#define PASS		KTLS_ATTEST_VERDICT_PASS
#define FAIL		KTLS_ATTEST_VERDICT_FAIL
#define REVOKE		KTLS_ATTEST_VERDICT_REVOKE
#define ROUND_START	KTLS_ATTEST_CMD_ROUND_START
#define NR_PAIRS	4
#define NR_CALLERS	4
#define REFCNT_MS	5000
#define MANY		1000

FIXTURE(life)
{
	bool skip;
	int kmsg;
	long base;
	struct katt_nl *nl;	/* an operator */
	struct katt_nl *agent;
	struct katt_pair pr[NR_PAIRS];
	struct katt_caller c[NR_CALLERS];
};

/* with a binding: the agent is told of rounds once keys and binding are in */
static const struct katt_pair_opts v4 = {
	.family = AF_INET,
	.version = TLS_1_3_VERSION,
	.binding = true,
	.cipher = TLS_CIPHER_AES_GCM_256,
};

/*
 * Without one: the socket is gated by verdicts alone, and the kernel leaves
 * its records in kTLS while held (no in-band transport): a peer that sends
 * data ahead of any attestation message is not a protocol violation here.
 */
static const struct katt_pair_opts v4_gate = {
	.family = AF_INET,
	.version = TLS_1_3_VERSION,
	.cipher = TLS_CIPHER_AES_GCM_256,
};

FIXTURE_SETUP(life)
{
	KATT_FIXTURE_START(self, self->pr, NR_PAIRS);
	ASSERT_EQ(0, katt_nl_open(&self->agent));
	ASSERT_EQ(0, katt_nl_agent_register(self->agent));
	self->base = ktls_settled_refcnt(MOD, 50, REFCNT_MS);
	ASSERT_GE(self->base, 0);
}

FIXTURE_TEARDOWN(life)
{
	int i;

	for (i = 0; i < NR_CALLERS; i++)
		katt_caller_free(&self->c[i]);
	katt_nl_close(self->agent);
	katt_fixture_end(_metadata, self->pr, NR_PAIRS, self->nl, self->kmsg);
}

static void expect_refcnt(struct __test_metadata *_metadata, long expect)
{
	long last;

	EXPECT_EQ(0, ktls_wait_refcnt(MOD, expect, REFCNT_MS, &last))
		TH_LOG("module refcnt %ld, expected %ld", last, expect);
}

/* The agent is told of round @round of @pp and passes or fails it. */
static void agent_round(struct __test_metadata *_metadata,
			FIXTURE_DATA(life) *self, struct katt_pair *pp,
			uint32_t round, uint32_t verdict)
{
	struct katt_nl_event ev;
	int ret;

	ret = katt_nl_wait_event_for(self->agent, ROUND_START, pp->cookie, 0,
				     &ev, WAKE_MS);
	ASSERT_EQ(0, ret) TH_LOG("agent: no round %u: %s", round,
				 strerror(-ret));
	EXPECT_EQ(round, ev.sock.round);
	EXPECT_EQ(round == 1 ? KTLS_ATTEST_STATE_PENDING :
		  KTLS_ATTEST_STATE_REATTESTING, ev.sock.state);
	if (!verdict)
		return;
	ret = katt_nl_verdict(self->agent, pp->cookie, round, verdict, NULL);
	ASSERT_EQ(0, ret) TH_LOG("agent verdict: %s (%s)", strerror(-ret),
				 katt_nl_extack(self->agent));
}

static int att_int(int fd, int opt)
{
	socklen_t len = sizeof(int);
	int v = -1;

	if (getsockopt(fd, SOL_KTLS_ATTEST, opt, &v, &len))
		return -errno;
	return v;
}

TEST_F(life, listener_inheritance)
{
	struct ktls_attest_policy pol = {
		.timeout_ms = 5000,
		.flags = KTLS_ATTEST_POLICY_FLAGS_HOLD_REATTEST,
	}, got;
	int role = KTLS_ATTEST_ROLE_ATTESTER | KTLS_ATTEST_ROLE_RELYING_PARTY;
	struct katt_pair_opts o = v4;
	struct katt_pair *a = &self->pr[0];
	struct ktls_attest_status st;
	struct sockaddr_storage ss;
	struct katt_nl_sock s;
	char ulp[32], tx[2000], rx[2000];
	socklen_t sl, len;
	int lfd, c, g, ret;

	READY();
	lfd = ktls_listen_ulp(AF_INET6, 4, KTLS_ATTEST_ULP_NAME, &ss, &sl);
	ASSERT_GE(lfd, 0);
	ASSERT_EQ(0, setsockopt(lfd, SOL_KTLS_ATTEST, KTLS_ATTEST_ROLE, &role,
				sizeof(role)));
	ASSERT_EQ(0, setsockopt(lfd, SOL_KTLS_ATTEST, KTLS_ATTEST_POLICY, &pol,
				sizeof(pol)));
	expect_refcnt(_metadata, self->base + 1);

	c = ktls_connect(AF_INET6, &ss, sl);
	ASSERT_GE(c, 0);
	g = accept(lfd, NULL, NULL);
	ASSERT_GE(g, 0);
	expect_refcnt(_metadata, self->base + 2);

	ASSERT_EQ(0, ktls_get_ulp(g, ulp, sizeof(ulp)));
	EXPECT_STREQ(KTLS_ATTEST_ULP_NAME, ulp);
	EXPECT_EQ(role, att_int(g, KTLS_ATTEST_ROLE));
	len = sizeof(got);
	ASSERT_EQ(0, getsockopt(g, SOL_KTLS_ATTEST, KTLS_ATTEST_POLICY, &got,
				&len));
	EXPECT_EQ(pol.timeout_ms, got.timeout_ms);
	EXPECT_EQ(pol.flags, got.flags);
	ASSERT_EQ(0, katt_status(g, &st));
	EXPECT_EQ(KTLS_ATTEST_STATE_ARMED, st.state);
	EXPECT_EQ(0, st.round);
	EXPECT_EQ(katt_sock_cookie(g), st.cookie);
	EXPECT_NE(katt_sock_cookie(lfd), st.cookie);

	/* the child is a gated socket of its own */
	o.family = AF_INET6;
	ret = katt_pair_adopt(a, g, c, &o);
	ASSERT_EQ(0, ret) TH_LOG("keys on the child: %s", strerror(-ret));
	katt_expect_state(_metadata, a->g, KTLS_ATTEST_STATE_PENDING, 1);
	ASSERT_EQ(0, katt_nl_get(self->nl, a->cookie, &s));
	EXPECT_EQ(role, s.role);
	EXPECT_EQ(pol.timeout_ms, s.timeout_ms);
	EXPECT_EQ(pol.flags, s.policy_flags);
	EXPECT_EQ(AF_INET6, s.family);
	EXPECT_EQ(ntohs(((struct sockaddr_in6 *)&ss)->sin6_port), s.sport);
	ktls_fill(tx, sizeof(tx), 900);
	EXPECT_EQ(-1, send(a->g, tx, 10, MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	agent_round(_metadata, self, a, 1, PASS);
	ASSERT_EQ(2000, ktls_send_all(a->g, tx, 2000, 0));
	ASSERT_EQ(2000, katt_pair_peer_recv(a, rx, 2000));
	EXPECT_EQ(-1, ktls_first_diff(tx, rx, 2000));
	ASSERT_EQ(2000, ktls_send_all(a->p, tx, 2000, 0));
	ASSERT_EQ(2000, ktls_recv_all(a->g, rx, 2000, 0));
	EXPECT_EQ(-1, ktls_first_diff(tx, rx, 2000));

	/* the listener itself never had keys */
	ASSERT_EQ(0, katt_status(lfd, &st));
	EXPECT_EQ(KTLS_ATTEST_STATE_ARMED, st.state);
	katt_pair_close(a);
	expect_refcnt(_metadata, self->base + 1);
	close(lfd);
	expect_refcnt(_metadata, self->base);
}

/* An IPv4 connection to a dual-stack IPv6 listener: a v4-mapped child. */
TEST_F(life, listener_v4mapped)
{
	struct katt_pair_opts o = v4;
	struct katt_pair *a = &self->pr[0];
	struct sockaddr_in6 l6 = {
		.sin6_family = AF_INET6,
		.sin6_addr = IN6ADDR_ANY_INIT,
	};
	struct sockaddr_storage ss;
	struct katt_nl_sock s;
	socklen_t sl = sizeof(l6);
	char tx[1000], rx[1000];
	int lfd, c, g, off = 0, ret;

	READY();
	lfd = socket(AF_INET6, SOCK_STREAM, 0);
	ASSERT_GE(lfd, 0);
	ASSERT_EQ(0, setsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &off,
				sizeof(off)));
	ASSERT_EQ(0, bind(lfd, (struct sockaddr *)&l6, sizeof(l6)));
	ASSERT_EQ(0, ktls_set_ulp(lfd, KTLS_ATTEST_ULP_NAME));
	ASSERT_EQ(0, listen(lfd, 4));
	ASSERT_EQ(0, getsockname(lfd, (struct sockaddr *)&l6, &sl));

	sl = ktls_loopback(AF_INET, ntohs(l6.sin6_port), &ss);
	c = ktls_connect(AF_INET, &ss, sl);
	ASSERT_GE(c, 0);
	g = accept(lfd, NULL, NULL);
	ASSERT_GE(g, 0);
	close(lfd);
	katt_expect_state(_metadata, g, KTLS_ATTEST_STATE_ARMED, 0);

	o.family = AF_INET6;
	ret = katt_pair_adopt(a, g, c, &o);
	ASSERT_EQ(0, ret) TH_LOG("keys on the v4-mapped child: %s",
				 strerror(-ret));
	katt_expect_state(_metadata, a->g, KTLS_ATTEST_STATE_PENDING, 1);
	ASSERT_EQ(0, katt_nl_get(self->nl, a->cookie, &s));
	EXPECT_EQ(AF_INET6, s.family);
	ASSERT_EQ(16, s.daddr_len);
	/* ::ffff:127.0.0.1 */
	EXPECT_EQ(0, memcmp(s.daddr, "\0\0\0\0\0\0\0\0\0\0\xff\xff\x7f\0\0\x01",
			    16));
	ktls_fill(tx, sizeof(tx), 906);
	EXPECT_EQ(-1, send(a->g, tx, 10, MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	katt_expect_peer_got(_metadata, a, 0);
	agent_round(_metadata, self, a, 1, PASS);
	ASSERT_EQ(1000, ktls_send_all(a->g, tx, 1000, 0));
	ASSERT_EQ(1000, katt_pair_peer_recv(a, rx, 1000));
	EXPECT_EQ(-1, ktls_first_diff(tx, rx, 1000));
	ASSERT_EQ(1000, ktls_send_all(a->p, tx, 1000, 0));
	ASSERT_EQ(1000, ktls_recv_all(a->g, rx, 1000, 0));
	EXPECT_EQ(-1, ktls_first_diff(tx, rx, 1000));
	katt_pair_close(a);
	expect_refcnt(_metadata, self->base);
}

TEST_F(life, unaccepted_children)
{
	struct sockaddr_storage ss, cs;
	struct katt_nl_sock *v;
	uint16_t lport;
	int lfd, c[4], i;
	socklen_t sl;
	size_t n, j, found;

	READY();
	lfd = ktls_listen_ulp(AF_INET, 8, KTLS_ATTEST_ULP_NAME, &ss, &sl);
	ASSERT_GE(lfd, 0);
	lport = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	for (i = 0; i < 4; i++) {
		c[i] = ktls_connect(AF_INET, &ss, sl);
		ASSERT_GE(c[i], 0);
	}
	/* one reference for the listener, one for each child */
	expect_refcnt(_metadata, self->base + 5);

	ASSERT_EQ(0, katt_nl_dump(self->nl, &v, &n));
	for (i = 0, found = 0; i < 4; i++) {
		socklen_t csl = sizeof(cs);

		ASSERT_EQ(0, getsockname(c[i], (struct sockaddr *)&cs, &csl));
		for (j = 0; j < n; j++) {
			if (v[j].sport != lport ||
			    v[j].dport != ntohs(((struct sockaddr_in *)&cs)->sin_port))
				continue;
			EXPECT_EQ(KTLS_ATTEST_STATE_ARMED, v[j].state);
			found++;
		}
	}
	EXPECT_EQ(4, found);
	free(v);

	/* the listener goes, and its children that nobody accepted */
	close(lfd);
	expect_refcnt(_metadata, self->base);
	ASSERT_EQ(0, katt_nl_dump(self->nl, &v, &n));
	for (j = 0; j < n; j++)
		EXPECT_NE(lport, v[j].sport);
	free(v);
	for (i = 0; i < 4; i++)
		close(c[i]);
}

static bool module_live(void)
{
	char buf[16] = "";
	int fd = open("/sys/module/" MOD "/initstate", O_RDONLY);

	if (fd < 0)
		return false;
	read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return !strncmp(buf, "live", 4);
}

TEST_F(life, rmmod_blocked)
{
	struct katt_pair *a = &self->pr[0];
	char tx[1000];
	struct katt_call calls[3] = {
		{ .path = KP_RECV, .len = 1000 },
		{ .path = KP_SEND, .buf = tx, .len = 1000 },
		{ .path = KP_POLL },
	};
	int i;

	READY();
	katt_open_pair(_metadata, a, &v4_gate);
	ktls_fill(tx, sizeof(tx), 901);
	ASSERT_EQ(1000, ktls_send_all(a->p, tx, 1000, 0));
	for (i = 0; i < 3; i++) {
		calls[i].fd = a->g;
		katt_start(_metadata, &self->c[i], &calls[i]);
	}
	ktls_msleep(HOLD_MS);

	EXPECT_EQ(-1, syscall(SYS_delete_module, MOD, O_NONBLOCK));
	EXPECT_TRUE(errno == EWOULDBLOCK || errno == EAGAIN)
		TH_LOG("delete_module: %s, expected EWOULDBLOCK",
		       strerror(errno));
	ASSERT_TRUE(module_live());
	for (i = 0; i < 3; i++)
		EXPECT_TRUE(katt_caller_blocked(&self->c[i]));
	katt_expect_state(_metadata, a->g, KTLS_ATTEST_STATE_PENDING, 1);

	ASSERT_EQ(0, shutdown(a->g, SHUT_RDWR));
	for (i = 0; i < 3; i++)
		katt_reap(_metadata, &self->c[i], katt_path_name(calls[i].path));
	EXPECT_EQ(0, self->c[0].res->ret);
	EXPECT_EQ(-EPIPE, self->c[1].res->ret);
	EXPECT_TRUE(self->c[2].res->ret & POLLIN);
	EXPECT_EQ(1, katt_tcp_bytes_received(a->p));	/* the FIN */
	katt_pair_close(a);
	expect_refcnt(_metadata, self->base);
	EXPECT_TRUE(module_live());
}

/*
 * In a new network namespace: gated sockets in every state, callers
 * blocked in the gate, an agent and a monitor.  Returns the number of
 * armed sockets through @wfd, then waits to be killed.
 */
static void netns_child(int wfd)
{
	struct katt_pair_opts armed = v4_gate, plain = v4_gate;
	struct katt_pair pr[6];
	struct katt_caller c[2];
	struct katt_nl *nl, *agent, *mon;
	struct sockaddr_storage ss;
	struct katt_call call = { .path = KP_RECV, .len = 100 };
	char tx[100] = "";
	int lfd, cl[2], i, n = 0;
	socklen_t sl;

	setpgid(0, 0);
	if (unshare(CLONE_NEWNET) || katt_lo_up() || katt_nl_open(&nl) ||
	    katt_nl_open(&agent) || katt_nl_open(&mon) ||
	    katt_nl_agent_register(agent) || katt_nl_monitor(mon))
		_exit(1);
	armed.no_keys = true;
	plain.no_arm = true;

	for (i = 0; i < 5; i++) {
		if (katt_pair_open(&pr[i], i == 4 ? &armed : &v4_gate))
			_exit(2);
		n++;
	}
	/* 0, 1 pending with callers, 2 passed, 3 re-attesting, 4 armed */
	call.fd = pr[0].g;
	if (katt_caller_start(&c[0], &call))
		_exit(3);
	call.path = KP_SEND;
	call.fd = pr[1].g;
	call.buf = tx;
	if (katt_caller_start(&c[1], &call))
		_exit(3);
	if (katt_nl_verdict(nl, pr[2].cookie, 1, PASS, NULL) ||
	    katt_nl_verdict(nl, pr[3].cookie, 1, PASS, NULL) ||
	    katt_nl_reattest(nl, pr[3].cookie))
		_exit(4);
	/* 5 armed by fd */
	if (katt_pair_open(&pr[5], &plain) ||
	    katt_nl_arm(nl, pr[5].g, NULL, NULL, NULL))
		_exit(5);
	n++;
	/* a listener with two children nobody accepts */
	lfd = ktls_listen_ulp(AF_INET, 4, KTLS_ATTEST_ULP_NAME, &ss, &sl);
	if (lfd < 0)
		_exit(6);
	n++;
	for (i = 0; i < 2; i++) {
		cl[i] = ktls_connect(AF_INET, &ss, sl);
		if (cl[i] < 0)
			_exit(7);
		n++;
	}
	katt_caller_settle(&c[0], 0);
	katt_caller_settle(&c[1], 0);
	if (write(wfd, &n, sizeof(n)) != sizeof(n))
		_exit(8);
	for (;;)
		pause();
}

TEST_F(life, netns_teardown)
{
	int p[2], n = 0, status;
	pid_t pid;

	READY();
	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		close(p[0]);
		alarm(20);
		netns_child(p[1]);
	}
	close(p[1]);
	EXPECT_EQ(sizeof(n), read(p[0], &n, sizeof(n)));
	close(p[0]);
	ASSERT_EQ(9, n);
	expect_refcnt(_metadata, self->base + n);

	/* the child, its callers, its sockets, its namespace */
	ASSERT_EQ(0, kill(-pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	expect_refcnt(_metadata, self->base);
	/* give the namespace's cleanup work time to run and to complain */
	ktls_msleep(500);
	EXPECT_TRUE(module_live());
}

/* Starts a re-attestation with the socket option, in a child. */
static void reattest_start(struct __test_metadata *_metadata,
			   struct katt_caller *c, struct katt_pair *pp,
			   int sig)
{
	struct katt_call call = {
		.path = KP_REATTEST, .fd = pp->g, .sig = sig,
	};

	katt_start(_metadata, c, &call);
	ktls_msleep(20);
	EXPECT_TRUE(katt_caller_blocked(c));
}

static void pending_passed(struct __test_metadata *_metadata,
			   FIXTURE_DATA(life) *self, struct katt_pair *pp,
			   const struct katt_pair_opts *o)
{
	katt_open_pair(_metadata, pp, o);
	agent_round(_metadata, self, pp, 1, PASS);
	katt_expect_state(_metadata, pp->g, KTLS_ATTEST_STATE_PASSED, 1);
}

TEST_F(life, reattest)
{
	struct katt_pair *a = &self->pr[0];
	char tx[1000], rx[1000];

	READY();
	pending_passed(_metadata, self, a, &v4);
	reattest_start(_metadata, &self->c[0], a, 0);
	agent_round(_metadata, self, a, 2, 0);
	katt_expect_state(_metadata, a->g, KTLS_ATTEST_STATE_REATTESTING, 2);

	/* records flow meanwhile (no hold-reattest) */
	ktls_fill(tx, sizeof(tx), 902);
	katt_guard(GUARD_MS);
	ASSERT_EQ(1000, ktls_send_all(a->g, tx, 1000, 0));
	ASSERT_EQ(1000, katt_pair_peer_recv(a, rx, 1000));
	EXPECT_EQ(-1, ktls_first_diff(tx, rx, 1000));
	ASSERT_EQ(1000, ktls_send_all(a->p, tx, 1000, 0));
	ASSERT_EQ(1000, ktls_recv_all(a->g, rx, 1000, 0));
	katt_guard_off();
	EXPECT_EQ(-1, ktls_first_diff(tx, rx, 1000));
	EXPECT_TRUE(katt_caller_blocked(&self->c[0]));

	ASSERT_EQ(0, katt_nl_verdict(self->agent, a->cookie, 2, PASS, NULL));
	katt_reap(_metadata, &self->c[0], "reattest");
	EXPECT_EQ(0, self->c[0].res->ret) TH_LOG("reattest: %s",
						 katt_err(self->c[0].res->ret));
	katt_expect_state(_metadata, a->g, KTLS_ATTEST_STATE_PASSED, 2);

	/* on a pending socket it joins the first round */
	katt_open_pair(_metadata, &self->pr[1], &v4);
	reattest_start(_metadata, &self->c[1], &self->pr[1], 0);
	agent_round(_metadata, self, &self->pr[1], 1, PASS);
	katt_reap(_metadata, &self->c[1], "reattest on pending");
	EXPECT_EQ(0, self->c[1].res->ret);
	katt_expect_state(_metadata, self->pr[1].g, KTLS_ATTEST_STATE_PASSED, 1);
}

TEST_F(life, reattest_hold)
{
	struct ktls_attest_policy pol = {
		.flags = KTLS_ATTEST_POLICY_FLAGS_HOLD_REATTEST,
	};
	struct katt_pair_opts o = v4;
	struct katt_pair *a = &self->pr[0];
	char tx[1000], in[500], rx[1000];
	struct katt_call scall = { .path = KP_SEND, .buf = tx, .len = 1000 };
	struct katt_call rcall = { .path = KP_RECV, .len = 500 };
	long long got;

	READY();
	o.policy = &pol;
	pending_passed(_metadata, self, a, &o);
	ktls_fill(tx, sizeof(tx), 903);
	ktls_fill(in, sizeof(in), 904);
	ASSERT_EQ(100, ktls_send_all(a->g, tx, 100, 0));
	ASSERT_EQ(100, katt_pair_peer_recv(a, rx, 100));
	got = katt_tcp_bytes_received(a->p);

	reattest_start(_metadata, &self->c[0], a, 0);
	agent_round(_metadata, self, a, 2, 0);
	ASSERT_EQ(500, ktls_send_all(a->p, in, 500, 0));
	ASSERT_EQ(0, katt_wait_bytes_received(a->g, 500, WAKE_MS));
	/* held again, like a first round */
	EXPECT_EQ(-1, send(a->g, tx, 10, MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(-1, recv(a->g, rx, 10, MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(0, katt_path_io(KP_POLL, a->g, NULL, 0, 0, 0) &
		     (POLLIN | POLLOUT | POLLERR));
	scall.fd = rcall.fd = a->g;
	katt_start(_metadata, &self->c[1], &scall);
	katt_start(_metadata, &self->c[2], &rcall);
	ktls_msleep(HOLD_MS);
	EXPECT_TRUE(katt_caller_blocked(&self->c[0]));
	EXPECT_TRUE(katt_caller_blocked(&self->c[1]));
	EXPECT_TRUE(katt_caller_blocked(&self->c[2]));
	katt_expect_peer_got(_metadata, a, got);

	ASSERT_EQ(0, katt_nl_verdict(self->agent, a->cookie, 2, PASS, NULL));
	katt_reap(_metadata, &self->c[0], "reattest");
	katt_reap(_metadata, &self->c[1], "send");
	katt_reap(_metadata, &self->c[2], "recv");
	EXPECT_EQ(0, self->c[0].res->ret);
	EXPECT_EQ(1000, self->c[1].res->ret);
	EXPECT_EQ(500, self->c[2].res->ret);
	EXPECT_EQ(-1, ktls_first_diff(in, self->c[2].res->data, 500));
	ASSERT_EQ(1000, katt_pair_peer_recv(a, rx, 1000));
	EXPECT_EQ(-1, ktls_first_diff(tx, rx, 1000));
}

TEST_F(life, reattest_fail)
{
	struct ktls_attest_policy pol = {
		.flags = KTLS_ATTEST_POLICY_FLAGS_HOLD_REATTEST,
	};
	struct katt_pair_opts o = v4;
	struct katt_pair *a = &self->pr[0];
	struct katt_call rcall = { .path = KP_RECV, .len = 100 };
	struct ktls_attest_status st;
	char buf[100];

	READY();
	o.policy = &pol;
	pending_passed(_metadata, self, a, &o);
	reattest_start(_metadata, &self->c[0], a, 0);
	rcall.fd = a->g;
	katt_start(_metadata, &self->c[1], &rcall);
	agent_round(_metadata, self, a, 2, FAIL);
	katt_reap(_metadata, &self->c[0], "reattest");
	katt_reap(_metadata, &self->c[1], "recv");
	EXPECT_EQ(-EKEYREVOKED, self->c[0].res->ret)
		TH_LOG("reattest: %s", katt_err(self->c[0].res->ret));
	EXPECT_EQ(-EKEYREVOKED, self->c[1].res->ret);
	ASSERT_EQ(0, katt_status(a->g, &st));
	EXPECT_EQ(KTLS_ATTEST_STATE_REVOKED, st.state);
	EXPECT_EQ(KTLS_ATTEST_REASON_VERDICT, st.reason);
	EXPECT_EQ(2, st.round);

	katt_guard(GUARD_MS);
	EXPECT_EQ(-1, setsockopt(a->g, SOL_KTLS_ATTEST, KTLS_ATTEST_REATTEST,
				 NULL, 0));
	EXPECT_EQ(EKEYREVOKED, errno);
	EXPECT_EQ(-1, send(a->g, buf, sizeof(buf), MSG_NOSIGNAL));
	EXPECT_EQ(EKEYREVOKED, errno);
	katt_guard_off();

	/* and after a failed first round */
	katt_open_pair(_metadata, &self->pr[1], &v4);
	agent_round(_metadata, self, &self->pr[1], 1, FAIL);
	EXPECT_EQ(-1, setsockopt(self->pr[1].g, SOL_KTLS_ATTEST,
				 KTLS_ATTEST_REATTEST, NULL, 0));
	EXPECT_EQ(EKEYREJECTED, errno);
}

TEST_F(life, reattest_nonblock)
{
	struct katt_pair *a = &self->pr[0];
	long long t0, dt;
	struct timeval tv = { .tv_usec = 200000 };

	READY();
	pending_passed(_metadata, self, a, &v4);
	ASSERT_EQ(0, katt_set_nonblock(a->g, true));
	EXPECT_EQ(-1, setsockopt(a->g, SOL_KTLS_ATTEST, KTLS_ATTEST_REATTEST,
				 NULL, 0));
	EXPECT_EQ(EINPROGRESS, errno);
	agent_round(_metadata, self, a, 2, 0);
	katt_expect_state(_metadata, a->g, KTLS_ATTEST_STATE_REATTESTING, 2);
	/* again: joins the round */
	EXPECT_EQ(-1, setsockopt(a->g, SOL_KTLS_ATTEST, KTLS_ATTEST_REATTEST,
				 NULL, 0));
	EXPECT_EQ(EINPROGRESS, errno);
	katt_expect_state(_metadata, a->g, KTLS_ATTEST_STATE_REATTESTING, 2);
	ASSERT_EQ(0, katt_set_nonblock(a->g, false));

	/* SO_SNDTIMEO bounds the wait */
	ASSERT_EQ(0, setsockopt(a->g, SOL_SOCKET, SO_SNDTIMEO, &tv,
				sizeof(tv)));
	t0 = katt_now_ms();
	katt_guard(GUARD_MS);
	EXPECT_EQ(-1, setsockopt(a->g, SOL_KTLS_ATTEST, KTLS_ATTEST_REATTEST,
				 NULL, 0));
	EXPECT_EQ(EAGAIN, errno);
	katt_guard_off();
	dt = katt_now_ms() - t0;
	EXPECT_GE(dt, 190);
	katt_expect_state(_metadata, a->g, KTLS_ATTEST_STATE_REATTESTING, 2);
	ASSERT_EQ(0, katt_nl_verdict(self->agent, a->cookie, 2, PASS, NULL));
	katt_expect_state(_metadata, a->g, KTLS_ATTEST_STATE_PASSED, 2);
}

TEST_F(life, reattest_signal)
{
	struct katt_pair *a = &self->pr[0];

	READY();
	pending_passed(_metadata, self, a, &v4);
	reattest_start(_metadata, &self->c[0], a, SIGUSR1);
	agent_round(_metadata, self, a, 2, 0);
	kill(self->c[0].pid, SIGUSR1);
	katt_reap(_metadata, &self->c[0], "reattest");
	EXPECT_EQ(-EINTR, self->c[0].res->ret)
		TH_LOG("reattest: %s", katt_err(self->c[0].res->ret));
	/* the round goes on without the caller */
	katt_expect_state(_metadata, a->g, KTLS_ATTEST_STATE_REATTESTING, 2);
	ASSERT_EQ(0, katt_nl_verdict(self->agent, a->cookie, 2, PASS, NULL));
	katt_expect_state(_metadata, a->g, KTLS_ATTEST_STATE_PASSED, 2);
}

TEST_F(life, reattest_deadline)
{
	struct ktls_attest_policy pol = { .timeout_ms = 300 };
	struct katt_pair_opts o = v4;
	struct katt_pair *a = &self->pr[0];
	struct ktls_attest_status st;
	long long dt;

	READY();
	o.policy = &pol;
	pending_passed(_metadata, self, a, &o);
	reattest_start(_metadata, &self->c[0], a, 0);
	agent_round(_metadata, self, a, 2, 0);
	katt_reap(_metadata, &self->c[0], "reattest across the deadline");
	dt = self->c[0].res->t_end_ms - self->c[0].res->t_start_ms;
	EXPECT_EQ(-EKEYREVOKED, self->c[0].res->ret)
		TH_LOG("reattest: %s", katt_err(self->c[0].res->ret));
	EXPECT_GE(dt, 300 - 10);	/* a jiffy early at most */
	EXPECT_LT(dt, 3000);
	ASSERT_EQ(0, katt_status(a->g, &st));
	EXPECT_EQ(KTLS_ATTEST_STATE_REVOKED, st.state);
	EXPECT_EQ(KTLS_ATTEST_REASON_TIMEOUT, st.reason);
	EXPECT_EQ(2, st.round);
	EXPECT_EQ(-EINVAL, katt_nl_verdict(self->agent, a->cookie, 2, PASS,
					   NULL));
}

/* The peer's receive fails with ECONNRESET within WAKE_MS. */
static void expect_reset(struct __test_metadata *_metadata,
			 struct katt_pair *pp)
{
	char buf[16];
	ssize_t n;

	n = recv(pp->p, buf, sizeof(buf), 0);
	EXPECT_EQ(-1, n);
	EXPECT_EQ(ECONNRESET, errno) TH_LOG("peer: %zd, %s", n,
					    strerror(errno));
}

TEST_F(life, reset_on_revoke)
{
	struct ktls_attest_policy pol = {
		.flags = KTLS_ATTEST_POLICY_FLAGS_RESET_ON_REVOKE,
	}, short_pol = {
		.timeout_ms = 200,
		.flags = KTLS_ATTEST_POLICY_FLAGS_RESET_ON_REVOKE,
	};
	struct katt_pair_opts o = v4, o_short = v4;
	struct katt_pair *a = &self->pr[0];
	char tx[100], rx[100];

	READY();
	o.policy = &pol;
	o_short.policy = &short_pol;

	/* revoked after a pass: reset */
	pending_passed(_metadata, self, a, &o);
	ktls_fill(tx, sizeof(tx), 905);
	ASSERT_EQ(100, ktls_send_all(a->g, tx, 100, 0));
	ASSERT_EQ(100, katt_pair_peer_recv(a, rx, 100));
	katt_verdict(_metadata, self->nl, a, REVOKE, NULL);
	expect_reset(_metadata, a);
	katt_guard(GUARD_MS);
	EXPECT_EQ(-1, send(a->g, tx, 10, MSG_NOSIGNAL));
	EXPECT_EQ(EKEYREVOKED, errno);
	EXPECT_EQ(-1, recv(a->g, rx, 10, 0));
	EXPECT_EQ(EKEYREVOKED, errno);
	katt_guard_off();

	/* a failed first round: reset */
	katt_open_pair(_metadata, &self->pr[1], &o);
	agent_round(_metadata, self, &self->pr[1], 1, FAIL);
	expect_reset(_metadata, &self->pr[1]);

	/* a first round past its deadline: reset */
	katt_open_pair(_metadata, &self->pr[2], &o_short);
	expect_reset(_metadata, &self->pr[2]);
	katt_expect_state(_metadata, self->pr[2].g, KTLS_ATTEST_STATE_FAILED,
			  1);

	/* without the flag the connection stays up */
	pending_passed(_metadata, self, &self->pr[3], &v4);
	katt_verdict(_metadata, self->nl, &self->pr[3], REVOKE, NULL);
	ktls_msleep(50);
	EXPECT_EQ(-1, recv(self->pr[3].p, rx, sizeof(rx), MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(0, katt_inq(self->pr[3].p));
}

/* 1000 gated pairs, held together and released together. */
TEST_F_TIMEOUT(life, many_sockets, 120)
{
	struct katt_pair_opts o = v4;
	struct katt_pair *pr;
	struct epoll_event *evs;
	struct katt_nl_sock *v;
	const struct katt_nl_sock *e;
	struct sockaddr_storage ss;
	int lfd, i, n, ret, epfd;
	long long t0;
	char tx[1000], rx[1000];
	socklen_t sl;
	size_t dn;

	READY();
	ASSERT_EQ(0, katt_raise_nofile(2 * MANY + 64));
	pr = calloc(MANY, sizeof(*pr));
	evs = calloc(MANY, sizeof(*evs));
	ASSERT_TRUE(pr && evs);
	lfd = ktls_listen(AF_INET, MANY, &ss, &sl);
	ASSERT_GE(lfd, 0);
	epfd = epoll_create1(0);
	ASSERT_GE(epfd, 0);
	/* no agent: 1000 round-starts are not what this is about */
	katt_nl_close(self->agent);
	self->agent = NULL;

	t0 = katt_now_ms();
	for (i = 0; i < MANY; i++) {
		int g, p;

		g = ktls_connect(AF_INET, &ss, sl);
		ASSERT_GE(g, 0) TH_LOG("connection %d: %s", i, strerror(-g));
		p = accept(lfd, NULL, NULL);
		ASSERT_GE(p, 0);
		ASSERT_EQ(0, ktls_set_ulp(g, KTLS_ATTEST_ULP_NAME));
		ret = katt_pair_adopt(&pr[i], g, p, &o);
		ASSERT_EQ(0, ret) TH_LOG("pair %d: %s", i, strerror(-ret));
		evs[0].events = EPOLLIN | EPOLLOUT;
		evs[0].data.u32 = i;
		ASSERT_EQ(0, epoll_ctl(epfd, EPOLL_CTL_ADD, pr[i].g, &evs[0]));
	}
	TH_LOG("%d gated pairs in %lld ms", MANY, katt_now_ms() - t0);
	close(lfd);
	expect_refcnt(_metadata, self->base + MANY);

	/* held, all of them */
	EXPECT_EQ(0, epoll_wait(epfd, evs, MANY, 0));
	ASSERT_EQ(0, katt_nl_dump(self->nl, &v, &dn));
	EXPECT_LE(MANY, dn);
	for (i = 0; i < MANY; i++) {
		e = katt_nl_find(v, dn, pr[i].cookie);
		ASSERT_NE(NULL, e) TH_LOG("pair %d not in the dump", i);
		EXPECT_EQ(KTLS_ATTEST_STATE_PENDING, e->state);
	}

	/* pass every pending socket the dump lists */
	t0 = katt_now_ms();
	for (n = 0; n < (int)dn; n++) {
		if (v[n].state != KTLS_ATTEST_STATE_PENDING)
			continue;
		ret = katt_nl_verdict(self->nl, v[n].cookie, v[n].round, PASS,
				      NULL);
		ASSERT_EQ(0, ret) TH_LOG("verdict: %s", strerror(-ret));
	}
	TH_LOG("%zu verdicts in %lld ms", dn, katt_now_ms() - t0);
	free(v);

	/* released, all of them: writable at once */
	for (n = 0; n < MANY;) {
		ret = epoll_wait(epfd, evs, MANY, 1000);
		ASSERT_GT(ret, 0) TH_LOG("only %d of %d sockets writable", n,
					 MANY);
		for (i = 0; i < ret; i++)
			EXPECT_TRUE(evs[i].events & EPOLLOUT);
		n += ret;
		if (ret == MANY)
			break;
	}
	EXPECT_EQ(MANY, n);
	ASSERT_EQ(0, katt_nl_dump(self->nl, &v, &dn));
	for (i = 0; i < MANY; i++) {
		e = katt_nl_find(v, dn, pr[i].cookie);
		ASSERT_NE(NULL, e);
		EXPECT_EQ(KTLS_ATTEST_STATE_PASSED, e->state);
	}
	free(v);

	/* data moves on a sample */
	for (i = 0; i < MANY; i += MANY / 10) {
		ktls_fill(tx, sizeof(tx), 1000 + i);
		ASSERT_EQ(1000, ktls_send_all(pr[i].g, tx, 1000, 0));
		ASSERT_EQ(1000, katt_pair_peer_recv(&pr[i], rx, 1000));
		EXPECT_EQ(-1, ktls_first_diff(tx, rx, 1000));
		ASSERT_EQ(1000, ktls_send_all(pr[i].p, tx, 1000, 0));
		ASSERT_EQ(1000, ktls_recv_all(pr[i].g, rx, 1000, 0));
		EXPECT_EQ(-1, ktls_first_diff(tx, rx, 1000));
	}

	close(epfd);
	for (i = 0; i < MANY; i++)
		katt_pair_close(&pr[i]);
	expect_refcnt(_metadata, self->base);
	free(pr);
	free(evs);
}

TEST_HARNESS_MAIN
