// SPDX-License-Identifier: GPL-2.0
/*
 * ktls-attest: the "ktls_attest" generic netlink family.
 *
 * The agent registration (one per network namespace, EBUSY for a second,
 * ended by closing its socket, CAP_NET_ADMIN only), round-start events by
 * unicast to the agent alone (also for sockets that waited before it
 * registered), verdicts and their errors, who may give them (the agent,
 * CAP_NET_ADMIN; not an unprivileged process, not another namespace),
 * arming by fd, sock-get, the monitor group, sock-reattest, and the module
 * reference of each armed socket.
 *
 * Without the module every test SKIPs.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
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
#define NR_PAIRS	6
#define REFCNT_MS	3000
#define QUIET_MS	100	/* an event that should not come */

#define ROUND_START	KTLS_ATTEST_CMD_ROUND_START
#define STATE_CHANGE	KTLS_ATTEST_CMD_STATE_CHANGE

FIXTURE(nl)
{
	bool skip;
	int kmsg;
	long base;
	struct katt_nl *nl;	/* an operator: root, not the agent */
	struct katt_pair pr[NR_PAIRS];
	struct katt_caller c[2];
};

/* with a binding: the agent is told of rounds once keys and binding are in */
static const struct katt_pair_opts v4 = {
	.family = AF_INET,
	.version = TLS_1_3_VERSION,
	.binding = true,
	.cipher = TLS_CIPHER_AES_GCM_128,
};

FIXTURE_SETUP(nl)
{
	KATT_FIXTURE_START(self, self->pr, NR_PAIRS);
	self->base = ktls_settled_refcnt(MOD, 50, REFCNT_MS);
	ASSERT_GE(self->base, 0);
}

FIXTURE_TEARDOWN(nl)
{
	int i;

	for (i = 0; i < 2; i++)
		katt_caller_free(&self->c[i]);
	katt_fixture_end(_metadata, self->pr, NR_PAIRS, self->nl, self->kmsg);
}

static struct katt_nl *nl_open(struct __test_metadata *_metadata)
{
	struct katt_nl *nl = NULL;
	int ret = katt_nl_open(&nl);

	EXPECT_EQ(0, ret) TH_LOG("netlink: %s", strerror(-ret));
	return nl;
}

static void expect_refcnt(struct __test_metadata *_metadata, long expect)
{
	long last;

	EXPECT_EQ(0, ktls_wait_refcnt(MOD, expect, REFCNT_MS, &last))
		TH_LOG("module refcnt %ld, expected %ld", last, expect);
}

/* No event (of @cmd, 0 any) for @cookie (0 any) comes within QUIET_MS. */
static void expect_no_event(struct __test_metadata *_metadata,
			    struct katt_nl *nl, uint8_t cmd, uint64_t cookie)
{
	struct katt_nl_event ev;
	int ret;

	ret = katt_nl_wait_event_for(nl, cmd, cookie, 0, &ev, QUIET_MS);
	EXPECT_EQ(-ETIMEDOUT, ret) TH_LOG("unexpected event %u for %llu",
					  ev.cmd,
					  (unsigned long long)ev.sock.cookie);
}

static void expect_addrs(struct __test_metadata *_metadata,
			 struct katt_pair *pp, const struct katt_nl_sock *s)
{
	struct sockaddr_storage ls, ps;
	socklen_t sl = sizeof(ls);

	ASSERT_EQ(0, getsockname(pp->g, (struct sockaddr *)&ls, &sl));
	sl = sizeof(ps);
	ASSERT_EQ(0, getpeername(pp->g, (struct sockaddr *)&ps, &sl));
	EXPECT_EQ(pp->family, s->family);
	if (pp->family == AF_INET6) {
		struct sockaddr_in6 *l = (void *)&ls, *p = (void *)&ps;

		ASSERT_EQ(16, s->saddr_len);
		ASSERT_EQ(16, s->daddr_len);
		EXPECT_EQ(0, memcmp(&l->sin6_addr, s->saddr, 16));
		EXPECT_EQ(0, memcmp(&p->sin6_addr, s->daddr, 16));
		EXPECT_EQ(ntohs(l->sin6_port), s->sport);
		EXPECT_EQ(ntohs(p->sin6_port), s->dport);
	} else {
		struct sockaddr_in *l = (void *)&ls, *p = (void *)&ps;

		ASSERT_EQ(4, s->saddr_len);
		ASSERT_EQ(4, s->daddr_len);
		EXPECT_EQ(0, memcmp(&l->sin_addr, s->saddr, 4));
		EXPECT_EQ(0, memcmp(&p->sin_addr, s->daddr, 4));
		EXPECT_EQ(ntohs(l->sin_port), s->sport);
		EXPECT_EQ(ntohs(p->sin_port), s->dport);
	}
}

TEST_F(nl, agent_register)
{
	struct katt_nl *a, *b;

	READY();
	a = nl_open(_metadata);
	b = nl_open(_metadata);
	ASSERT_TRUE(a && b);

	EXPECT_EQ(0, katt_nl_agent_register(a));
	EXPECT_EQ(-EBUSY, katt_nl_agent_register(b));
	EXPECT_STRNE("", katt_nl_extack(b));
	EXPECT_EQ(-EBUSY, katt_nl_agent_register(self->nl));
	/* only the agent ends its own registration */
	EXPECT_EQ(-ENOENT, katt_nl_agent_unregister(b));
	EXPECT_EQ(0, katt_nl_agent_unregister(a));
	EXPECT_EQ(0, katt_nl_agent_register(b));
	EXPECT_EQ(-EBUSY, katt_nl_agent_register(a));

	/* closing the agent's socket ends the registration */
	katt_nl_close(b);
	EXPECT_EQ(0, katt_nl_agent_register(a));
	b = nl_open(_metadata);
	ASSERT_NE(NULL, b);
	EXPECT_EQ(-EBUSY, katt_nl_agent_register(b));
	katt_nl_close(a);
	EXPECT_EQ(0, katt_nl_agent_register(b));
	katt_nl_close(b);
}

/* What an unprivileged process gets, in a forked child. */
struct unpriv_result {
	int dropped;		/* uid 65534, no capabilities */
	int open;
	int reg, unreg, pass, fail, revoke, reattest;
	int userns;		/* 0: tried in a new user namespace too */
	int ns_reg, ns_pass, ns_revoke;
};

static void unpriv_child(struct unpriv_result *r, uint64_t cookie)
{
	struct katt_nl *nl;

	r->dropped = setgroups(0, NULL) || setgid(65534) || setuid(65534) ?
		     -errno : 0;
	if (r->dropped)
		_exit(1);
	r->open = katt_nl_open(&nl);
	if (r->open)
		_exit(1);
	r->reg = katt_nl_agent_register(nl);
	r->unreg = katt_nl_agent_unregister(nl);
	r->pass = katt_nl_verdict(nl, cookie, 1, PASS, "unprivileged");
	r->fail = katt_nl_verdict(nl, cookie, 1, FAIL, "unprivileged");
	r->revoke = katt_nl_verdict(nl, cookie, 0, REVOKE, "unprivileged");
	r->reattest = katt_nl_reattest(nl, cookie);
	katt_nl_close(nl);

	/* all capabilities, but in a user namespace that owns nothing here */
	r->userns = unshare(CLONE_NEWUSER) ? -errno : 0;
	if (r->userns || katt_nl_open(&nl))
		_exit(0);
	r->ns_reg = katt_nl_agent_register(nl);
	r->ns_pass = katt_nl_verdict(nl, cookie, 1, PASS, "userns");
	r->ns_revoke = katt_nl_verdict(nl, cookie, 0, REVOKE, "userns");
	katt_nl_close(nl);
	_exit(0);
}

TEST_F(nl, unprivileged)
{
	struct unpriv_result *r;
	pid_t pid;
	int status;

	READY();
	katt_open_pair(_metadata, &self->pr[0], &v4);
	r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, r);
	memset(r, 0x7f, sizeof(*r));

	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		alarm(10);
		unpriv_child(r, self->pr[0].cookie);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, r->dropped);
	ASSERT_EQ(0, r->open) TH_LOG("unprivileged netlink: %s",
				     strerror(-r->open));
	EXPECT_EQ(-EPERM, r->reg);
	EXPECT_EQ(-EPERM, r->unreg);
	EXPECT_EQ(-EPERM, r->pass);
	EXPECT_EQ(-EPERM, r->fail);
	EXPECT_EQ(-EPERM, r->revoke);
	EXPECT_EQ(-EPERM, r->reattest);
	if (r->userns) {
		TH_LOG("no user namespace (%s): that part not run",
		       strerror(-r->userns));
	} else {
		EXPECT_EQ(-EPERM, r->ns_reg);
		EXPECT_EQ(-EPERM, r->ns_pass);
		EXPECT_EQ(-EPERM, r->ns_revoke);
	}
	katt_expect_state(_metadata, self->pr[0].g, KTLS_ATTEST_STATE_PENDING,
			  1);
	katt_expect_peer_got(_metadata, &self->pr[0], 0);
	munmap(r, sizeof(*r));
}

/* What a process that took a dying agent's port id got, shared. */
struct impostor_result {
	volatile uint32_t port;		/* the agent's port id */
	volatile int agent_ready, go, bound;
	int dropped, pass, send, events, ev_cmd;
};

#define IMPOSTOR_ROUNDS	12
#define IMPOSTOR_MS	4000
#define IMPOSTOR_BIND_MS 2000
#define IMPOSTOR_PAIRS	(NR_PAIRS - 1)	/* pairs whose rounds it could hear */

static void agent_child(struct impostor_result *r)
{
	struct katt_nl *nl;

	if (katt_nl_open(&nl) || katt_nl_agent_register(nl))
		_exit(1);
	r->port = katt_nl_portid(nl);
	r->agent_ready = 1;
	while (!r->go)
		;
	/* the process's end closes its netlink socket */
	_exit(0);
}

static void impostor_child(struct impostor_result *r, const struct katt_nl *like,
			   uint64_t cookie)
{
	long long until;
	struct katt_nl_event ev;
	struct katt_nl *nl = NULL;

	r->dropped = setgroups(0, NULL) || setgid(65534) || setuid(65534) ?
		     -errno : 0;
	if (r->dropped)
		_exit(1);
	while (!r->go)
		;
	until = katt_now_ms() + IMPOSTOR_BIND_MS;
	while (katt_nl_open_as(&nl, r->port, like))
		if (katt_now_ms() > until)
			_exit(0);
	r->bound = 1;
	/* at once: the agent's registration may still stand */
	r->pass = katt_nl_verdict(nl, cookie, 1, PASS, "impostor");
	r->send = katt_nl_msg_send(nl, cookie, "x", 1);
	while (!katt_nl_wait_event(nl, &ev, QUIET_MS)) {
		r->events++;
		r->ev_cmd = ev.cmd;
		katt_nl_event_release(&ev);
	}
	katt_nl_close(nl);
	_exit(0);
}

/*
 * The agent's netlink socket closes; an unprivileged process binds its
 * port id as soon as it is free (before the registration ends) and speaks
 * as the agent, and listens for what the kernel sends the agent (rounds
 * whose binding comes in at that moment).  It is never taken for the
 * agent (EPERM) and never gets an event.
 */
TEST_F(nl, agent_port_impostor)
{
	struct katt_pair_opts nobind = v4;
	long long end = katt_now_ms() + IMPOSTOR_MS;
	struct impostor_result *r;
	int i, k, bound = 0, status;
	pid_t agent, imp;

	READY();
	nobind.binding = false;
	r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, r);
	for (i = 0; i < IMPOSTOR_ROUNDS && katt_now_ms() < end; i++) {
		memset(r, 0, sizeof(*r));
		katt_open_pair(_metadata, &self->pr[0], &v4);
		for (k = 1; k <= IMPOSTOR_PAIRS; k++)
			katt_open_pair(_metadata, &self->pr[k], &nobind);

		agent = fork();
		ASSERT_GE(agent, 0);
		if (!agent) {
			alarm(10);
			agent_child(r);
		}
		while (!r->agent_ready && waitpid(agent, &status, WNOHANG) == 0)
			;
		ASSERT_TRUE(r->agent_ready);
		imp = fork();
		ASSERT_GE(imp, 0);
		if (!imp) {
			alarm(10);
			impostor_child(r, self->nl, self->pr[0].cookie);
		}
		r->go = 1;
		/* rounds that become ready now are announced to the agent */
		for (k = 1; k <= IMPOSTOR_PAIRS; k++)
			katt_set_binding(self->pr[k].g, k,
					 KTLS_ATTEST_BINDING_LOCAL_KEY);
		ASSERT_EQ(agent, waitpid(agent, &status, 0));
		ASSERT_EQ(imp, waitpid(imp, &status, 0));
		ASSERT_EQ(0, r->dropped);
		if (r->bound) {
			bound++;
			EXPECT_EQ(-EPERM, r->pass)
				TH_LOG("round %d: the impostor's pass: %s", i,
				       strerror(-r->pass));
			EXPECT_EQ(-EPERM, r->send)
				TH_LOG("round %d: the impostor's msg-send: %s",
				       i, strerror(-r->send));
			EXPECT_EQ(0, r->events)
				TH_LOG("round %d: the impostor got %d event(s), cmd %d",
				       i, r->events, r->ev_cmd);
		}
		katt_expect_state(_metadata, self->pr[0].g,
				  KTLS_ATTEST_STATE_PENDING, 1);
		for (k = 0; k <= IMPOSTOR_PAIRS; k++)
			katt_pair_close(&self->pr[k]);
		if (!_metadata->passed)
			break;
	}
	TH_LOG("%d rounds, the port taken in %d", i, bound);
	EXPECT_LT(0, bound);
	munmap(r, sizeof(*r));
}

static void expect_round_start(struct __test_metadata *_metadata,
			       struct katt_nl *agent, struct katt_pair *pp,
			       uint32_t round, uint32_t state, uint32_t role,
			       uint32_t timeout_ms)
{
	struct katt_nl_event ev;
	int ret;

	ret = katt_nl_wait_event_for(agent, ROUND_START, pp->cookie, 0, &ev,
				     WAKE_MS);
	ASSERT_EQ(0, ret) TH_LOG("no round-start for %llu: %s",
				 (unsigned long long)pp->cookie,
				 strerror(-ret));
	EXPECT_FALSE(ev.multicast);
	EXPECT_EQ(0, ev.nl_pid);
	EXPECT_EQ(round, ev.sock.round);
	EXPECT_EQ(state, ev.sock.state);
	EXPECT_EQ(role, ev.sock.role);
	EXPECT_EQ(timeout_ms, ev.sock.timeout_ms);
	EXPECT_TRUE(KATT_NL_HAS(&ev.sock, KTLS_ATTEST_A_SOCK_ROLE));
	EXPECT_TRUE(KATT_NL_HAS(&ev.sock, KTLS_ATTEST_A_SOCK_TIMEOUT_MS));
	expect_addrs(_metadata, pp, &ev.sock);
	if (pp->binding) {
		struct ktls_attest_binding b;

		/* what katt_pair_keys() set */
		katt_binding_fill(&b, 0, KTLS_ATTEST_BINDING_LOCAL_KEY |
				  KTLS_ATTEST_BINDING_PEER_KEY);
		EXPECT_EQ(b.flags, ev.sock.binding_flags);
		EXPECT_EQ(0, memcmp(b.exporter, ev.sock.binding_exporter,
				    sizeof(b.exporter)));
		EXPECT_EQ(0, memcmp(b.local_key_sha256,
				    ev.sock.binding_local_key,
				    sizeof(b.local_key_sha256)));
		EXPECT_EQ(0, memcmp(b.peer_key_sha256,
				    ev.sock.binding_peer_key,
				    sizeof(b.peer_key_sha256)));
	}
}

/* Round-start goes to the agent alone; the agent's verdicts count. */
TEST_F(nl, round_start_unicast)
{
	struct katt_pair_opts o6 = v4;
	struct katt_nl *agent, *mon, *other;
	struct ktls_attest_status st;
	struct katt_nl_event ev;
	int i;

	READY();
	agent = nl_open(_metadata);
	mon = nl_open(_metadata);
	other = nl_open(_metadata);
	ASSERT_TRUE(agent && mon && other);
	ASSERT_EQ(0, katt_nl_agent_register(agent));
	ASSERT_EQ(0, katt_nl_monitor(mon));

	o6.family = AF_INET6;
	katt_open_pair(_metadata, &self->pr[0], &v4);
	katt_open_pair(_metadata, &self->pr[1], &o6);
	for (i = 0; i < 2; i++)
		expect_round_start(_metadata, agent, &self->pr[i], 1,
				   KTLS_ATTEST_STATE_PENDING,
				   KTLS_ATTEST_ROLE_RELYING_PARTY,
				   KTLS_ATTEST_TIMEOUT_MS_DEFAULT);
	/* the monitor sees the state change, never the round */
	ASSERT_EQ(0, katt_nl_wait_event_for(mon, STATE_CHANGE,
					    self->pr[0].cookie,
					    KTLS_ATTEST_STATE_PENDING, &ev,
					    WAKE_MS));
	EXPECT_TRUE(ev.multicast);
	expect_no_event(_metadata, mon, ROUND_START, 0);
	expect_no_event(_metadata, other, 0, 0);
	expect_no_event(_metadata, self->nl, 0, 0);

	/* a verdict of the agent is a verdict, not an operator's */
	ASSERT_EQ(0, katt_nl_verdict(agent, self->pr[0].cookie, 1, PASS,
				     "agent says pass"));
	ASSERT_EQ(0, katt_status(self->pr[0].g, &st));
	EXPECT_EQ(KTLS_ATTEST_STATE_PASSED, st.state);
	EXPECT_EQ(KTLS_ATTEST_REASON_VERDICT, st.reason);
	EXPECT_STREQ("agent says pass", st.reason_text);
	ASSERT_EQ(0, katt_nl_wait_event_for(mon, STATE_CHANGE,
					    self->pr[0].cookie,
					    KTLS_ATTEST_STATE_PASSED, &ev,
					    WAKE_MS));
	EXPECT_EQ(KTLS_ATTEST_REASON_VERDICT, ev.sock.reason);
	/* the agent is not in the monitor group */
	expect_no_event(_metadata, agent, STATE_CHANGE, 0);

	katt_verdict(_metadata, self->nl, &self->pr[1], FAIL, NULL);
	ASSERT_EQ(0, katt_status(self->pr[1].g, &st));
	EXPECT_EQ(KTLS_ATTEST_STATE_FAILED, st.state);
	EXPECT_EQ(KTLS_ATTEST_REASON_OPERATOR, st.reason);

	katt_nl_close(agent);
	katt_nl_close(mon);
	katt_nl_close(other);
}

/* An agent that registers is told of every socket already waiting. */
TEST_F(nl, late_agent)
{
	struct katt_pair_opts armed = v4;
	struct katt_nl *a, *b;
	bool seen[NR_PAIRS] = { false };
	struct katt_nl_event ev;
	int i, n;

	READY();
	armed.no_keys = true;
	for (i = 0; i < 3; i++)
		katt_open_pair(_metadata, &self->pr[i], &v4);	/* pending */
	katt_open_pair(_metadata, &self->pr[3], &v4);
	katt_verdict(_metadata, self->nl, &self->pr[3], PASS, NULL);
	katt_open_pair(_metadata, &self->pr[4], &armed);
	katt_open_pair(_metadata, &self->pr[5], &v4);
	katt_verdict(_metadata, self->nl, &self->pr[5], FAIL, NULL);

	a = nl_open(_metadata);
	ASSERT_NE(NULL, a);
	ASSERT_EQ(0, katt_nl_agent_register(a));
	for (n = 0; katt_nl_wait_event_for(a, ROUND_START, 0, 0, &ev,
					   QUIET_MS * 3) == 0; n++) {
		for (i = 0; i < NR_PAIRS; i++) {
			if (ev.sock.cookie != self->pr[i].cookie)
				continue;
			EXPECT_FALSE(seen[i]);
			seen[i] = true;
			EXPECT_EQ(1, ev.sock.round);
			EXPECT_EQ(KTLS_ATTEST_STATE_PENDING, ev.sock.state);
			expect_addrs(_metadata, &self->pr[i], &ev.sock);
		}
	}
	for (i = 0; i < NR_PAIRS; i++) {
		EXPECT_EQ(i < 3, seen[i]) TH_LOG("pair %d: round-start %s", i,
						 seen[i] ? "sent" : "missing");
	}

	/* a new round is told at once */
	ASSERT_EQ(0, katt_nl_reattest(self->nl, self->pr[3].cookie));
	expect_round_start(_metadata, a, &self->pr[3], 2,
			   KTLS_ATTEST_STATE_REATTESTING,
			   KTLS_ATTEST_ROLE_RELYING_PARTY,
			   KTLS_ATTEST_TIMEOUT_MS_DEFAULT);

	/* the next agent, after the first one's socket closed */
	b = nl_open(_metadata);
	ASSERT_NE(NULL, b);
	EXPECT_EQ(-EBUSY, katt_nl_agent_register(b));
	katt_nl_close(a);
	ASSERT_EQ(0, katt_nl_agent_register(b));
	for (i = 0; i < 3; i++)
		expect_round_start(_metadata, b, &self->pr[i], 1,
				   KTLS_ATTEST_STATE_PENDING,
				   KTLS_ATTEST_ROLE_RELYING_PARTY,
				   KTLS_ATTEST_TIMEOUT_MS_DEFAULT);
	expect_round_start(_metadata, b, &self->pr[3], 2,
			   KTLS_ATTEST_STATE_REATTESTING,
			   KTLS_ATTEST_ROLE_RELYING_PARTY,
			   KTLS_ATTEST_TIMEOUT_MS_DEFAULT);
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(0, katt_nl_verdict(b, self->pr[i].cookie, 1, PASS,
					     NULL));
	}
	EXPECT_EQ(0, katt_nl_verdict(b, self->pr[3].cookie, 2, PASS, NULL));
	for (i = 0; i < 4; i++)
		katt_expect_state(_metadata, self->pr[i].g,
				  KTLS_ATTEST_STATE_PASSED, 0);
	katt_nl_close(b);
}

/*
 * Many sockets wait when an agent registers, more round-starts than its
 * socket's default receive buffer holds: the agent still gets the answer
 * to its registration, and whatever it missed (ENOBUFS) it finds in a dump.
 */
#define LATE_MANY	200

TEST_F(nl, late_agent_many)
{
	struct katt_pair *pr = calloc(LATE_MANY, sizeof(*pr));
	struct katt_nl_sock *v;
	struct katt_nl_event ev;
	struct katt_nl *a;
	int i, ret, got = 0, lost = 0;
	size_t n;

	READY();
	ASSERT_NE(NULL, pr);
	ASSERT_EQ(0, katt_raise_nofile(2 * LATE_MANY + 64));
	for (i = 0; i < LATE_MANY; i++)
		katt_open_pair(_metadata, &pr[i], &v4);
	a = nl_open(_metadata);
	ASSERT_NE(NULL, a);
	ret = katt_nl_agent_register(a);
	EXPECT_EQ(0, ret) TH_LOG("agent-register with %d sockets waiting: %s",
				 LATE_MANY, katt_err(ret));
	for (;;) {
		ret = katt_nl_wait_event(a, &ev, QUIET_MS * 3);
		if (ret == -ENOBUFS) {
			lost++;
			continue;
		}
		if (ret)
			break;
		if (ev.cmd == ROUND_START)
			got++;
	}
	TH_LOG("%d round-starts, %d overruns", got, lost);
	if (!lost)
		EXPECT_EQ(LATE_MANY, got);
	/* the registration holds, and the dump lists every waiting socket */
	EXPECT_EQ(-EBUSY, katt_nl_agent_register(self->nl));
	ASSERT_EQ(0, katt_nl_dump(a, &v, &n));
	for (i = 0; i < LATE_MANY; i++) {
		const struct katt_nl_sock *e = katt_nl_find(v, n, pr[i].cookie);

		ASSERT_NE(NULL, e);
		EXPECT_EQ(KTLS_ATTEST_STATE_PENDING, e->state);
		EXPECT_EQ(0, katt_nl_verdict(a, e->cookie, e->round, PASS,
					     NULL));
	}
	free(v);
	for (i = 0; i < LATE_MANY; i++) {
		katt_expect_state(_metadata, pr[i].g, KTLS_ATTEST_STATE_PASSED,
				  1);
		katt_pair_close(&pr[i]);
	}
	katt_nl_close(a);
	free(pr);
}

TEST_F(nl, verdict_errors)
{
	struct katt_pair_opts armed = v4;
	struct katt_pair *a = &self->pr[0];
	struct ktls_attest_status st;
	char text[200];
	char buf[10];
	int ret;

	READY();
	armed.no_keys = true;
	katt_open_pair(_metadata, a, &v4);

	ret = katt_nl_verdict(self->nl, a->cookie + 1000000, 1, PASS, NULL);
	EXPECT_EQ(-ENOENT, ret);
	EXPECT_STRNE("", katt_nl_extack(self->nl));
	EXPECT_EQ(-EINVAL, katt_nl_verdict(self->nl, 0, 1, PASS, NULL));
	EXPECT_EQ(-EINVAL, katt_nl_verdict(self->nl, a->cookie, 1, 0, NULL));
	EXPECT_EQ(-EINVAL, katt_nl_verdict(self->nl, a->cookie, 0, PASS,
					   NULL));
	EXPECT_EQ(-EINVAL, katt_nl_verdict(self->nl, a->cookie, 0, FAIL,
					   NULL));
	ret = katt_nl_verdict(self->nl, a->cookie, 2, PASS, NULL);
	EXPECT_EQ(-ESTALE, ret);
	EXPECT_STRNE("", katt_nl_extack(self->nl));
	ret = katt_nl_verdict(self->nl, a->cookie, 1, 4, NULL);
	EXPECT_TRUE(ret == -EINVAL || ret == -ERANGE) TH_LOG("verdict 4: %s",
							    katt_err(ret));
	memset(text, 'x', sizeof(text));
	text[sizeof(text) - 1] = '\0';
	ret = katt_nl_verdict(self->nl, a->cookie, 1, PASS, text);
	EXPECT_TRUE(ret == -EINVAL || ret == -ERANGE)
		TH_LOG("199-character reason: %s", katt_err(ret));
	katt_expect_state(_metadata, a->g, KTLS_ATTEST_STATE_PENDING, 1);

	/* the longest reason text there is */
	text[KTLS_ATTEST_REASON_TEXT_MAX - 1] = '\0';
	ASSERT_EQ(0, katt_nl_verdict(self->nl, a->cookie, 1, PASS, text));
	ASSERT_EQ(0, katt_status(a->g, &st));
	EXPECT_STREQ(text, st.reason_text);
	/* no round under way */
	EXPECT_EQ(-EINVAL, katt_nl_verdict(self->nl, a->cookie, 1, PASS, NULL));
	EXPECT_EQ(-EINVAL, katt_nl_verdict(self->nl, a->cookie, 1, FAIL, NULL));
	EXPECT_EQ(0, katt_nl_verdict(self->nl, a->cookie, 0, REVOKE, "out"));
	ret = katt_nl_verdict(self->nl, a->cookie, 0, REVOKE, NULL);
	EXPECT_EQ(-EALREADY, ret);
	EXPECT_EQ(-EINVAL, katt_nl_verdict(self->nl, a->cookie, 1, PASS, NULL));
	katt_expect_state(_metadata, a->g, KTLS_ATTEST_STATE_REVOKED, 1);

	katt_open_pair(_metadata, &self->pr[1], &v4);
	katt_verdict(_metadata, self->nl, &self->pr[1], FAIL, NULL);
	EXPECT_EQ(-EALREADY, katt_nl_verdict(self->nl, self->pr[1].cookie, 0,
					     REVOKE, NULL));
	EXPECT_EQ(-EINVAL, katt_nl_verdict(self->nl, self->pr[1].cookie, 1,
					   PASS, NULL));
	katt_expect_state(_metadata, self->pr[1].g, KTLS_ATTEST_STATE_FAILED,
			  1);

	/* before the keys: no round; revoke stays revoked with keys */
	katt_open_pair(_metadata, &self->pr[2], &armed);
	EXPECT_EQ(-EINVAL, katt_nl_verdict(self->nl, self->pr[2].cookie, 1,
					   PASS, NULL));
	EXPECT_EQ(0, katt_nl_verdict(self->nl, self->pr[2].cookie, 0, REVOKE,
				     NULL));
	katt_guard(GUARD_MS);
	EXPECT_EQ(-1, send(self->pr[2].g, buf, sizeof(buf), MSG_NOSIGNAL));
	EXPECT_EQ(EKEYREVOKED, errno);
	katt_guard_off();
	/* a revoked socket refuses a binding (EKEYREVOKED): keys only */
	self->pr[2].binding = false;
	ASSERT_EQ(0, katt_pair_keys(&self->pr[2]));
	EXPECT_EQ(-EKEYREVOKED, katt_set_binding(self->pr[2].g, 0, 0));
	katt_expect_state(_metadata, self->pr[2].g, KTLS_ATTEST_STATE_REVOKED,
			  0);
	katt_guard(GUARD_MS);
	EXPECT_EQ(-1, send(self->pr[2].g, buf, sizeof(buf), MSG_NOSIGNAL));
	EXPECT_EQ(EKEYREVOKED, errno);
	katt_guard_off();
	katt_expect_peer_got(_metadata, &self->pr[2], 0);
}

/* What another network namespace sees, in a forked child. */
struct netns_result {
	int unshare, open;
	int pass, revoke, reattest, get, dump, dump_n, arm, reg;
	int pair, own_pass;
	uint64_t cookie;	/* of the child's own gated socket */
};

TEST_F(nl, other_netns)
{
	struct katt_pair_opts plain = v4;
	struct katt_nl *agent;
	struct netns_result *r;
	struct katt_nl_sock s;
	int go[2], ready[2];
	pid_t pid;
	char c;

	READY();
	plain.no_arm = true;
	katt_open_pair(_metadata, &self->pr[0], &v4);
	katt_open_pair(_metadata, &self->pr[1], &plain);
	agent = nl_open(_metadata);
	ASSERT_NE(NULL, agent);
	ASSERT_EQ(0, katt_nl_agent_register(agent));
	r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, r);
	memset(r, 0x7f, sizeof(*r));
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(ready));

	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		uint64_t ck = self->pr[0].cookie;
		struct katt_nl_sock *v;
		struct katt_pair mine;
		struct katt_nl *nl;
		size_t n;

		alarm(15);
		close(go[1]);
		close(ready[0]);
		r->unshare = unshare(CLONE_NEWNET) ? -errno : 0;
		if (r->unshare || katt_lo_up())
			_exit(1);
		r->open = katt_nl_open(&nl);
		if (r->open)
			_exit(1);
		r->pass = katt_nl_verdict(nl, ck, 1, PASS, "other netns");
		r->revoke = katt_nl_verdict(nl, ck, 0, REVOKE, "other netns");
		r->reattest = katt_nl_reattest(nl, ck);
		r->get = katt_nl_get(nl, ck, &s);
		r->dump = katt_nl_dump(nl, &v, &n);
		r->dump_n = n;
		free(v);
		/* a socket of the parent's namespace, by fd */
		r->arm = katt_nl_arm(nl, self->pr[1].g, NULL, NULL, NULL);
		/* this namespace has its own agent */
		r->reg = katt_nl_agent_register(nl);
		r->pair = katt_pair_open(&mine, &v4);
		r->cookie = mine.cookie;
		r->own_pass = katt_nl_verdict(nl, mine.cookie, 1, PASS, NULL);
		close(ready[1]);
		read(go[0], &c, 1);	/* until the parent tried */
		_exit(0);
	}
	close(ready[1]);
	close(go[0]);
	EXPECT_EQ(0, read(ready[0], &c, 1));
	EXPECT_EQ(0, r->unshare);
	ASSERT_EQ(0, r->open);
	EXPECT_EQ(-ENOENT, r->pass);
	EXPECT_EQ(-ENOENT, r->revoke);
	EXPECT_EQ(-ENOENT, r->reattest);
	EXPECT_EQ(-ENOENT, r->get);
	EXPECT_EQ(0, r->dump);
	EXPECT_EQ(0, r->dump_n);
	EXPECT_EQ(-EINVAL, r->arm);
	EXPECT_EQ(0, r->reg);
	ASSERT_EQ(0, r->pair);
	EXPECT_EQ(0, r->own_pass);

	/* and from here, the child's socket does not exist */
	EXPECT_EQ(-ENOENT, katt_nl_verdict(self->nl, r->cookie, 1, PASS, NULL));
	EXPECT_EQ(-ENOENT, katt_nl_verdict(agent, r->cookie, 1, PASS, NULL));
	EXPECT_EQ(-ENOENT, katt_nl_get(self->nl, r->cookie, &s));
	expect_no_event(_metadata, agent, ROUND_START, r->cookie);
	close(go[1]);
	waitpid(pid, NULL, 0);
	close(ready[0]);

	katt_expect_state(_metadata, self->pr[0].g, KTLS_ATTEST_STATE_PENDING,
			  1);
	EXPECT_EQ(-ENOENT, katt_nl_get(self->nl, self->pr[1].cookie, &s));
	katt_nl_close(agent);
	munmap(r, sizeof(*r));
}

TEST_F(nl, arm_by_fd)
{
	struct katt_pair_opts plain = v4;
	struct katt_nl_arm opt = {
		.role = KTLS_ATTEST_ROLE_ATTESTER,
		.timeout_ms = 5000,
		.policy_flags = KTLS_ATTEST_POLICY_FLAGS_HOLD_REATTEST,
	};
	struct katt_call call = { .path = KP_RECV, .len = 1000 };
	struct katt_pair *a = &self->pr[0];
	struct ktls_attest_policy pol;
	struct ktls_attest_status st;
	struct katt_nl *agent, *mon;
	struct katt_nl_event ev;
	char tx[1000], rx[1000];
	uint64_t cookie;
	uint32_t state;
	socklen_t len;
	int ret;

	READY();
	plain.no_arm = true;
	katt_open_pair(_metadata, a, &plain);
	agent = nl_open(_metadata);
	mon = nl_open(_metadata);
	ASSERT_TRUE(agent && mon);
	ASSERT_EQ(0, katt_nl_agent_register(agent));
	ASSERT_EQ(0, katt_nl_monitor(mon));
	ktls_fill(tx, sizeof(tx), 800);

	/* plain kTLS moves data; then it is armed, and held at once */
	ASSERT_EQ(10, ktls_send_all(a->p, tx, 10, 0));
	ASSERT_EQ(10, ktls_recv_all(a->g, rx, 10, 0));
	ret = katt_nl_arm(self->nl, a->g, &opt, &cookie, &state);
	ASSERT_EQ(0, ret) TH_LOG("sock-arm: %s (%s)", strerror(-ret),
				 katt_nl_extack(self->nl));
	EXPECT_EQ(a->cookie, cookie);
	EXPECT_EQ(KTLS_ATTEST_STATE_PENDING, state);
	expect_refcnt(_metadata, self->base + 1);

	ASSERT_EQ(0, katt_status(a->g, &st));
	EXPECT_EQ(KTLS_ATTEST_STATE_PENDING, st.state);
	EXPECT_EQ(KTLS_ATTEST_ROLE_ATTESTER, st.role);
	EXPECT_EQ(1, st.round);
	EXPECT_EQ(cookie, st.cookie);
	len = sizeof(pol);
	ASSERT_EQ(0, getsockopt(a->g, SOL_KTLS_ATTEST, KTLS_ATTEST_POLICY,
				&pol, &len));
	EXPECT_EQ(5000, pol.timeout_ms);
	EXPECT_EQ(KTLS_ATTEST_POLICY_FLAGS_HOLD_REATTEST, pol.flags);
	/* the agent is told once the binding is in, too */
	expect_no_event(_metadata, agent, ROUND_START, cookie);
	ASSERT_EQ(0, katt_set_binding(a->g, 0, KTLS_ATTEST_BINDING_LOCAL_KEY |
				      KTLS_ATTEST_BINDING_PEER_KEY));
	a->binding = true;
	expect_round_start(_metadata, agent, a, 1, KTLS_ATTEST_STATE_PENDING,
			   KTLS_ATTEST_ROLE_ATTESTER, 5000);
	ASSERT_EQ(0, katt_nl_wait_event_for(mon, STATE_CHANGE, cookie,
					    KTLS_ATTEST_STATE_PENDING, &ev,
					    WAKE_MS));

	/*
	 * held; with the binding the kernel reads the peer's records: its
	 * attestation message goes to the agent, its data waits for the app
	 */
	ASSERT_EQ(0, katt_peer_send_msg(a->p, "hello", 5));
	ASSERT_EQ(1000, ktls_send_all(a->p, tx, 1000, 0));
	ASSERT_EQ(0, katt_nl_wait_event_for(agent, KTLS_ATTEST_CMD_MSG_RECV,
					    cookie, 0, &ev, WAKE_MS));
	EXPECT_EQ(5, ev.msg_size);
	EXPECT_EQ(0, memcmp("hello", ev.msg, 5));
	katt_nl_event_release(&ev);
	EXPECT_EQ(-1, send(a->g, tx, 100, MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(-1, recv(a->g, rx, 100, MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	call.fd = a->g;
	katt_start(_metadata, &self->c[0], &call);
	ktls_msleep(HOLD_MS);
	EXPECT_TRUE(katt_caller_blocked(&self->c[0]));
	katt_expect_peer_got(_metadata, a, 0);
	EXPECT_EQ(-EEXIST, katt_nl_arm(self->nl, a->g, NULL, NULL, NULL));

	/* the agent passes it */
	ASSERT_EQ(0, katt_nl_verdict(agent, cookie, 1, PASS, NULL));
	katt_reap(_metadata, &self->c[0], "recv");
	EXPECT_EQ(1000, self->c[0].res->ret);
	EXPECT_EQ(-1, ktls_first_diff(tx, self->c[0].res->data, 1000));
	ASSERT_EQ(1000, ktls_send_all(a->g, tx, 1000, 0));
	ASSERT_EQ(1000, katt_pair_peer_recv(a, rx, 1000));
	EXPECT_EQ(-1, ktls_first_diff(tx, rx, 1000));
	EXPECT_EQ(-EEXIST, katt_nl_arm(self->nl, a->g, NULL, NULL, NULL));

	katt_pair_close(a);
	expect_refcnt(_metadata, self->base);
	katt_nl_close(agent);
	katt_nl_close(mon);
}

TEST_F(nl, arm_errors)
{
	struct katt_pair_opts armed = v4, plain = v4;
	struct katt_nl_arm bad;
	struct sockaddr_storage ss;
	struct ktls_crypto tx;
	socklen_t sl;
	uint32_t state;
	uint64_t cookie;
	int fd, lfd, c, s, p[2], ret;

	READY();
	armed.no_keys = true;
	plain.no_arm = true;

	/* plain TCP, connected, listening, unconnected; UDP; unix; a pipe */
	ASSERT_EQ(0, ktls_tcp_pair(AF_INET, &c, &s));
	ret = katt_nl_arm(self->nl, c, NULL, NULL, NULL);
	EXPECT_EQ(-EINVAL, ret);
	EXPECT_STRNE("", katt_nl_extack(self->nl));
	lfd = ktls_listen(AF_INET, 1, &ss, &sl);
	ASSERT_GE(lfd, 0);
	EXPECT_EQ(-EINVAL, katt_nl_arm(self->nl, lfd, NULL, NULL, NULL));
	close(lfd);
	fd = socket(AF_INET6, SOCK_STREAM, 0);
	EXPECT_EQ(-EINVAL, katt_nl_arm(self->nl, fd, NULL, NULL, NULL));
	close(fd);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	EXPECT_EQ(-EINVAL, katt_nl_arm(self->nl, fd, NULL, NULL, NULL));
	close(fd);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	EXPECT_EQ(-EINVAL, katt_nl_arm(self->nl, fd, NULL, NULL, NULL));
	close(fd);
	ASSERT_EQ(0, pipe(p));
	EXPECT_EQ(-ENOTSOCK, katt_nl_arm(self->nl, p[0], NULL, NULL, NULL));
	close(p[0]);
	close(p[1]);
	EXPECT_EQ(-EBADF, katt_nl_arm(self->nl, 100000, NULL, NULL, NULL));
	EXPECT_EQ(-EINVAL, katt_nl_arm_nofd(self->nl));

	/* armed already: through the ULP, before and after the keys */
	katt_open_pair(_metadata, &self->pr[0], &armed);
	EXPECT_EQ(-EEXIST, katt_nl_arm(self->nl, self->pr[0].g, NULL, NULL,
				       NULL));
	ASSERT_EQ(0, katt_pair_keys(&self->pr[0]));
	EXPECT_EQ(-EEXIST, katt_nl_arm(self->nl, self->pr[0].g, NULL, NULL,
				       NULL));

	/* attributes out of range */
	katt_open_pair(_metadata, &self->pr[1], &plain);
	memset(&bad, 0, sizeof(bad));
	bad.timeout_ms = KTLS_ATTEST_TIMEOUT_MS_MIN - 1;
	EXPECT_GT(0, katt_nl_arm(self->nl, self->pr[1].g, &bad, NULL, NULL));
	bad.timeout_ms = KTLS_ATTEST_TIMEOUT_MS_MAX + 1;
	EXPECT_GT(0, katt_nl_arm(self->nl, self->pr[1].g, &bad, NULL, NULL));
	memset(&bad, 0, sizeof(bad));
	bad.role = 4;
	EXPECT_GT(0, katt_nl_arm(self->nl, self->pr[1].g, &bad, NULL, NULL));
	memset(&bad, 0, sizeof(bad));
	bad.policy_flags = 4;
	EXPECT_GT(0, katt_nl_arm(self->nl, self->pr[1].g, &bad, NULL, NULL));
	/* none of that armed anything */
	expect_refcnt(_metadata, self->base + 1);
	EXPECT_EQ(10, ktls_send_all(self->pr[1].g, "0123456789", 10, 0));

	/* TCP_ULP "tls" without keys: armed, and held from the first key */
	ASSERT_EQ(0, ktls_set_ulp(s, "tls"));
	ret = katt_nl_arm(self->nl, s, NULL, &cookie, &state);
	ASSERT_EQ(0, ret) TH_LOG("sock-arm: %s (%s)", strerror(-ret),
				 katt_nl_extack(self->nl));
	EXPECT_EQ(KTLS_ATTEST_STATE_ARMED, state);
	expect_refcnt(_metadata, self->base + 2);
	ASSERT_EQ(0, ktls_crypto_init(&tx, TLS_1_3_VERSION,
				      TLS_CIPHER_AES_GCM_128, 0, 0));
	ASSERT_EQ(0, setsockopt(s, SOL_TLS, TLS_TX, &tx.info, tx.len));
	katt_expect_state(_metadata, s, KTLS_ATTEST_STATE_PENDING, 1);
	EXPECT_EQ(-1, send(s, "x", 1, MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(0, katt_tcp_bytes_received(c));
	close(c);
	close(s);
	katt_pair_close(&self->pr[0]);
	katt_pair_close(&self->pr[1]);
	expect_refcnt(_metadata, self->base);
}

/*
 * A kTLS socket whose receive decrypts in place (TLS_RX_EXPECT_NO_PAD)
 * could hand an attestation record to the application: not armed.
 */
TEST_F(nl, arm_no_pad)
{
	struct katt_pair_opts plain = v4;
	int one = 1, ret;

	READY();
	plain.no_arm = true;
	katt_open_pair(_metadata, &self->pr[0], &plain);
	ASSERT_EQ(0, setsockopt(self->pr[0].g, SOL_TLS, TLS_RX_EXPECT_NO_PAD,
				&one, sizeof(one)));
	ret = katt_nl_arm(self->nl, self->pr[0].g, NULL, NULL, NULL);
	EXPECT_EQ(-EINVAL, ret);
	EXPECT_STRNE("", katt_nl_extack(self->nl));
	expect_refcnt(_metadata, self->base);
	{
		struct katt_nl_sock st;

		EXPECT_EQ(-ENOENT, katt_nl_get(self->nl, self->pr[0].cookie, &st));
	}
	/* still plain kTLS */
	ASSERT_EQ(10, ktls_send_all(self->pr[0].p, "0123456789", 10, 0));
	katt_pair_close(&self->pr[0]);
}

TEST_F(nl, get_errors)
{
	struct katt_pair_opts plain = v4;
	struct katt_nl_sock s;

	READY();
	plain.no_arm = true;
	katt_open_pair(_metadata, &self->pr[0], &v4);
	katt_open_pair(_metadata, &self->pr[1], &plain);
	EXPECT_EQ(0, katt_nl_get(self->nl, self->pr[0].cookie, &s));
	EXPECT_EQ(-EINVAL, katt_nl_get(self->nl, 0, &s));
	EXPECT_EQ(-ENOENT, katt_nl_get(self->nl, self->pr[0].cookie + 1000000,
				       &s));
	EXPECT_STRNE("", katt_nl_extack(self->nl));
	/* a kTLS socket that is not armed */
	EXPECT_EQ(-ENOENT, katt_nl_get(self->nl, self->pr[1].cookie, &s));
	EXPECT_EQ(-ENOENT, katt_nl_reattest(self->nl, self->pr[1].cookie));
	EXPECT_EQ(-EINVAL, katt_nl_reattest(self->nl, 0));
	EXPECT_EQ(-ENOENT, katt_nl_verdict(self->nl, self->pr[1].cookie, 0,
					   REVOKE, NULL));
}

static void expect_change(struct __test_metadata *_metadata,
			  struct katt_nl *mon, uint64_t cookie,
			  uint32_t state, uint32_t reason, uint32_t round)
{
	struct katt_nl_event ev;
	int ret;

	ret = katt_nl_wait_event(mon, &ev, WAKE_MS);
	ASSERT_EQ(0, ret) TH_LOG("no state change to %s: %s",
				 katt_nl_state_name(state), strerror(-ret));
	EXPECT_EQ(STATE_CHANGE, ev.cmd);
	EXPECT_TRUE(ev.multicast);
	EXPECT_EQ(cookie, ev.sock.cookie);
	EXPECT_EQ(state, ev.sock.state) TH_LOG("state %s, expected %s",
					       katt_nl_state_name(ev.sock.state),
					       katt_nl_state_name(state));
	EXPECT_EQ(reason, ev.sock.reason);
	EXPECT_EQ(round, ev.sock.round);
	EXPECT_EQ((1ULL << KTLS_ATTEST_A_SOCK_COOKIE) |
		  (1ULL << KTLS_ATTEST_A_SOCK_STATE) |
		  (1ULL << KTLS_ATTEST_A_SOCK_REASON) |
		  (1ULL << KTLS_ATTEST_A_SOCK_ROUND), ev.sock.present);
}

TEST_F(nl, monitor)
{
	struct katt_pair_opts armed = v4;
	struct katt_pair *a = &self->pr[0];
	struct katt_nl *mon;
	uint64_t ck;

	READY();
	armed.no_keys = true;
	mon = nl_open(_metadata);
	ASSERT_NE(NULL, mon);
	ASSERT_EQ(0, katt_nl_monitor(mon));
	katt_open_pair(_metadata, a, &armed);
	ck = a->cookie;

	ASSERT_EQ(0, katt_pair_keys(a));
	expect_change(_metadata, mon, ck, KTLS_ATTEST_STATE_PENDING,
		      KTLS_ATTEST_REASON_NONE, 1);
	katt_verdict(_metadata, self->nl, a, PASS, NULL);
	expect_change(_metadata, mon, ck, KTLS_ATTEST_STATE_PASSED,
		      KTLS_ATTEST_REASON_OPERATOR, 1);
	ASSERT_EQ(0, katt_nl_reattest(self->nl, ck));
	expect_change(_metadata, mon, ck, KTLS_ATTEST_STATE_REATTESTING,
		      KTLS_ATTEST_REASON_NONE, 2);
	katt_verdict(_metadata, self->nl, a, PASS, NULL);
	expect_change(_metadata, mon, ck, KTLS_ATTEST_STATE_PASSED,
		      KTLS_ATTEST_REASON_OPERATOR, 2);
	ASSERT_EQ(0, katt_nl_reattest(self->nl, ck));
	expect_change(_metadata, mon, ck, KTLS_ATTEST_STATE_REATTESTING,
		      KTLS_ATTEST_REASON_NONE, 3);
	katt_verdict(_metadata, self->nl, a, FAIL, NULL);
	expect_change(_metadata, mon, ck, KTLS_ATTEST_STATE_REVOKED,
		      KTLS_ATTEST_REASON_OPERATOR, 3);
	expect_no_event(_metadata, mon, 0, 0);

	/* a first round that fails, and one revoked */
	katt_open_pair(_metadata, &self->pr[1], &v4);
	expect_change(_metadata, mon, self->pr[1].cookie,
		      KTLS_ATTEST_STATE_PENDING, KTLS_ATTEST_REASON_NONE, 1);
	katt_verdict(_metadata, self->nl, &self->pr[1], FAIL, NULL);
	expect_change(_metadata, mon, self->pr[1].cookie,
		      KTLS_ATTEST_STATE_FAILED, KTLS_ATTEST_REASON_OPERATOR, 1);
	katt_open_pair(_metadata, &self->pr[2], &v4);
	expect_change(_metadata, mon, self->pr[2].cookie,
		      KTLS_ATTEST_STATE_PENDING, KTLS_ATTEST_REASON_NONE, 1);
	katt_verdict(_metadata, self->nl, &self->pr[2], REVOKE, NULL);
	expect_change(_metadata, mon, self->pr[2].cookie,
		      KTLS_ATTEST_STATE_REVOKED, KTLS_ATTEST_REASON_OPERATOR,
		      1);

	/* after leaving the group, nothing */
	ASSERT_EQ(0, katt_nl_monitor_leave(mon));
	katt_open_pair(_metadata, &self->pr[3], &v4);
	expect_no_event(_metadata, mon, 0, 0);
	katt_nl_close(mon);
}

TEST_F(nl, reattest_netlink)
{
	struct katt_pair_opts armed = v4;
	struct katt_pair *a = &self->pr[0];
	struct ktls_attest_status st0, st;
	struct katt_nl *agent;
	char tx[500], rx[500];

	READY();
	armed.no_keys = true;
	agent = nl_open(_metadata);
	ASSERT_NE(NULL, agent);
	ASSERT_EQ(0, katt_nl_agent_register(agent));
	katt_open_pair(_metadata, a, &v4);
	expect_round_start(_metadata, agent, a, 1, KTLS_ATTEST_STATE_PENDING,
			   KTLS_ATTEST_ROLE_RELYING_PARTY,
			   KTLS_ATTEST_TIMEOUT_MS_DEFAULT);
	/* a round under way is joined, not restarted */
	EXPECT_EQ(0, katt_nl_reattest(self->nl, a->cookie));
	katt_expect_state(_metadata, a->g, KTLS_ATTEST_STATE_PENDING, 1);
	expect_no_event(_metadata, agent, ROUND_START, a->cookie);
	ASSERT_EQ(0, katt_nl_verdict(agent, a->cookie, 1, PASS, NULL));
	ASSERT_EQ(0, katt_status(a->g, &st0));

	ASSERT_EQ(0, katt_nl_reattest(self->nl, a->cookie));
	katt_expect_state(_metadata, a->g, KTLS_ATTEST_STATE_REATTESTING, 2);
	expect_round_start(_metadata, agent, a, 2,
			   KTLS_ATTEST_STATE_REATTESTING,
			   KTLS_ATTEST_ROLE_RELYING_PARTY,
			   KTLS_ATTEST_TIMEOUT_MS_DEFAULT);
	EXPECT_EQ(0, katt_nl_reattest(self->nl, a->cookie));
	katt_expect_state(_metadata, a->g, KTLS_ATTEST_STATE_REATTESTING, 2);
	expect_no_event(_metadata, agent, ROUND_START, a->cookie);

	/* without hold-reattest, records flow during the round */
	ktls_fill(tx, sizeof(tx), 801);
	katt_guard(GUARD_MS);
	ASSERT_EQ(500, ktls_send_all(a->g, tx, 500, 0));
	ASSERT_EQ(500, katt_pair_peer_recv(a, rx, 500));
	EXPECT_EQ(-1, ktls_first_diff(tx, rx, 500));
	ASSERT_EQ(500, ktls_send_all(a->p, tx, 500, 0));
	ASSERT_EQ(500, ktls_recv_all(a->g, rx, 500, 0));
	katt_guard_off();
	EXPECT_EQ(-1, ktls_first_diff(tx, rx, 500));

	EXPECT_EQ(-ESTALE, katt_nl_verdict(agent, a->cookie, 1, PASS, NULL));
	ASSERT_EQ(0, katt_nl_verdict(agent, a->cookie, 2, PASS, "again"));
	ASSERT_EQ(0, katt_status(a->g, &st));
	EXPECT_EQ(KTLS_ATTEST_STATE_PASSED, st.state);
	EXPECT_EQ(2, st.round);
	EXPECT_EQ(KTLS_ATTEST_REASON_VERDICT, st.reason);
	EXPECT_LT(st0.pass_time_ns, st.pass_time_ns);

	/* the states where there is nothing to re-attest */
	katt_open_pair(_metadata, &self->pr[1], &v4);
	katt_verdict(_metadata, self->nl, &self->pr[1], FAIL, NULL);
	EXPECT_EQ(-EKEYREJECTED, katt_nl_reattest(self->nl,
						  self->pr[1].cookie));
	katt_open_pair(_metadata, &self->pr[2], &v4);
	katt_verdict(_metadata, self->nl, &self->pr[2], REVOKE, NULL);
	EXPECT_EQ(-EKEYREVOKED, katt_nl_reattest(self->nl,
						 self->pr[2].cookie));
	katt_open_pair(_metadata, &self->pr[3], &armed);
	EXPECT_EQ(-EINVAL, katt_nl_reattest(self->nl, self->pr[3].cookie));
	EXPECT_EQ(-ENOENT, katt_nl_reattest(self->nl, a->cookie + 1000000));
	katt_nl_close(agent);
}

/* One module reference per armed socket, whatever its state. */
TEST_F(nl, refcnt)
{
	struct katt_pair_opts armed = v4, plain = v4;
	int i, ret;

	READY();
	armed.no_keys = true;
	plain.no_arm = true;
	katt_open_pair(_metadata, &self->pr[0], &armed);
	katt_open_pair(_metadata, &self->pr[1], &v4);
	katt_open_pair(_metadata, &self->pr[2], &v4);
	katt_verdict(_metadata, self->nl, &self->pr[2], PASS, NULL);
	katt_open_pair(_metadata, &self->pr[3], &v4);
	katt_verdict(_metadata, self->nl, &self->pr[3], FAIL, NULL);
	katt_open_pair(_metadata, &self->pr[4], &v4);
	katt_verdict(_metadata, self->nl, &self->pr[4], REVOKE, NULL);
	katt_open_pair(_metadata, &self->pr[5], &plain);
	expect_refcnt(_metadata, self->base + 5);
	ret = katt_nl_arm(self->nl, self->pr[5].g, NULL, NULL, NULL);
	ASSERT_EQ(0, ret) TH_LOG("sock-arm: %s", strerror(-ret));
	expect_refcnt(_metadata, self->base + 6);
	for (i = 0; i < NR_PAIRS; i++) {
		katt_pair_close(&self->pr[i]);
		expect_refcnt(_metadata, self->base + 5 - i);
	}
}

TEST_HARNESS_MAIN
