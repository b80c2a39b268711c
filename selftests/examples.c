// SPDX-License-Identifier: GPL-2.0
/*
 * The example programs, as a person runs them (README), in two network
 * namespaces, on real kTLS:
 *
 *   +----------- ns[0] ------------+        +----------- ns[1] ------------+
 *   | ktls-attest-client           |        |           ktls-attest-server |
 *   |   (or openssl s_client)      +--veth--+      (or openssl s_server)   |
 *   | 10.99.0.1     operator nl[0] |        | nl[1]          10.99.0.2     |
 *   +------------------------------+        +------------------------------+
 *
 * Certificates from tools/examples/ktls-attest-certs.  Verdicts come from
 * an "operator" (this test, over netlink, as the ktls-attest CLI will) or,
 * in the bound mode, from the selftests' katt-agent in each namespace.
 * Checked: the answers byte for byte, the client's first command waiting
 * for the verdicts, the messages for held, passed, failed and revoked,
 * --reattest-before, revocation ending both programs with a clear error
 * and exit status 3, a bound end facing a peer that cannot attest, and a
 * gated end talking to a plain OpenSSL peer.
 *
 * Needs root and the module; without it every test SKIPs.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/ktls_attest.h>

#include "kselftest_harness.h"
#include "lib/katt_agentctl.h"
#include "lib/katt_netns.h"
#include "lib/katt_nl.h"
#include "lib/katt_peer.h"
#include "lib/katt_test.h"

#define PORT		"4433"
#define SERVER_IP	"10.99.0.2"
#define START_MS	20000
#define EXIT_MS		30000
#define EV_MS		30000

#define PASS		KTLS_ATTEST_VERDICT_PASS
#define FAIL		KTLS_ATTEST_VERDICT_FAIL
#define REVOKE		KTLS_ATTEST_VERDICT_REVOKE

struct env {
	bool skip;
	char dir[64];
	char bin[PATH_MAX];		/* build/tools/ */
	struct katt_netns net;
	struct katt_nl *nl[2];		/* an operator in each namespace */
	struct katt_peer srv, cli;
	struct katt_agent ag[2];
};

static void env_setup(struct __test_metadata *_metadata, struct env *e)
{
	char cmd[PATH_MAX + 128], *slash;
	ssize_t n;
	int i, ret;

	memset(e, 0, sizeof(*e));
	e->net = (struct katt_netns)KATT_NETNS_INIT;
	e->srv = e->cli = (struct katt_peer)KATT_PEER_INIT;
	e->ag[0].fd = e->ag[1].fd = -1;
	if (!katt_module_loaded()) {
		e->skip = true;
		SKIP(return, "module %s not loaded", KTLS_ATTEST_MODULE);
	}
	signal(SIGPIPE, SIG_IGN);
	n = readlink("/proc/self/exe", e->bin, sizeof(e->bin) - 32);
	ASSERT_LT(0, n);
	e->bin[n] = '\0';
	slash = strrchr(e->bin, '/');
	ASSERT_NE(NULL, slash);
	strcpy(slash, "/../tools");
	ASSERT_EQ(0, katt_netns_pair(&e->net));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, katt_netns_enter(&e->net, i));
		ret = katt_nl_open(&e->nl[i]);
		ASSERT_EQ(0, katt_netns_enter(&e->net, -1));
		ASSERT_EQ(0, ret);
		ASSERT_EQ(0, katt_nl_monitor(e->nl[i]));
	}
	strcpy(e->dir, "/tmp/katt-ex.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(e->dir));
	/* the certificate script, as the README has it */
	snprintf(cmd, sizeof(cmd),
		 "%s/../../tools/examples/ktls-attest-certs --ip " SERVER_IP
		 " %s >/dev/null", e->bin, e->dir);
	ASSERT_EQ(0, system(cmd));
}

static void env_teardown(struct env *e)
{
	char cmd[128];
	int i;

	katt_peer_kill(&e->cli);
	katt_peer_kill(&e->srv);
	for (i = 0; i < 2; i++) {
		katt_agent_kill(&e->ag[i]);
		katt_nl_close(e->nl[i]);
	}
	katt_netns_close(&e->net);
	if (e->dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", e->dir);
		if (system(cmd))
			perror("rm");
	}
}

/* --- programs ------------------------------------------------------------------ */

struct args {
	char *v[64];
	int n;
};

/* (the copies live as long as the test process: a few bytes) */
static void add(struct args *a, const char *s)
{
	if (a->n < 63) {
		a->v[a->n] = strdup(s);
		a->v[++a->n] = NULL;
	}
}

/* NULL-terminated lists of strings into @a. */
static void addv(struct args *a, const char *const *list)
{
	while (list && *list)
		add(a, *list++);
}

static const char *stderr_of(struct katt_peer *p)
{
	static char buf[8192];

	return katt_peer_stderr(p, buf, sizeof(buf));
}

/* ktls-attest-server --once in ns[1], with @opts; listening on return. */
static void server_start(struct __test_metadata *_metadata, struct env *e,
			 const char *const *opts)
{
	char path[PATH_MAX + 32], err[128];
	struct args a = { .n = 0 };
	int ret;

	snprintf(path, sizeof(path), "%s/ktls-attest-server", e->bin);
	add(&a, path);
	add(&a, "--once");
	add(&a, "-v");
	snprintf(path, sizeof(path), "%s/server.pem", e->dir);
	add(&a, "--cert");
	add(&a, path);
	snprintf(path, sizeof(path), "%s/server.key", e->dir);
	add(&a, "--key");
	add(&a, path);
	addv(&a, opts);
	add(&a, SERVER_IP);
	add(&a, PORT);
	snprintf(err, sizeof(err), "%s/server.err", e->dir);
	ASSERT_EQ(0, katt_peer_start_in(&e->srv, a.v, NULL, err,
					e->net.ns[1]));
	ASSERT_EQ(0, katt_netns_enter(&e->net, 1));
	ret = katt_wait_listen(4433, START_MS);
	ASSERT_EQ(0, katt_netns_enter(&e->net, -1));
	ASSERT_EQ(0, ret) TH_LOG("the server does not listen: %s",
				 stderr_of(&e->srv));
}

/* ktls-attest-client in ns[0] with @opts and @cmds (NULL: stdin). */
static void client_start(struct __test_metadata *_metadata, struct env *e,
			 const char *const *opts, const char *const *cmds)
{
	char path[PATH_MAX + 32], err[128];
	struct args a = { .n = 0 };

	snprintf(path, sizeof(path), "%s/ktls-attest-client", e->bin);
	add(&a, path);
	add(&a, "-v");
	snprintf(path, sizeof(path), "%s/ca.pem", e->dir);
	add(&a, "--ca");
	add(&a, path);
	addv(&a, opts);
	add(&a, SERVER_IP);
	add(&a, PORT);
	addv(&a, cmds);
	snprintf(err, sizeof(err), "%s/client.err", e->dir);
	ASSERT_EQ(0, katt_peer_start_in(&e->cli, a.v, NULL, err,
					e->net.ns[0]));
	if (cmds)
		katt_peer_close_in(&e->cli);
}

/* openssl s_server -quiet in ns[1], or s_client in ns[0]. */
static void openssl_start(struct __test_metadata *_metadata, struct env *e,
			  bool server)
{
	char path[PATH_MAX + 32], err[128];
	struct args a = { .n = 0 };
	int ret;

	add(&a, "openssl");
	if (server) {
		add(&a, "s_server");
		add(&a, "-4");
		add(&a, "-accept");
		add(&a, PORT);
		add(&a, "-naccept");
		add(&a, "1");
		snprintf(path, sizeof(path), "%s/server.pem", e->dir);
		add(&a, "-cert");
		add(&a, path);
		snprintf(path, sizeof(path), "%s/server.key", e->dir);
		add(&a, "-key");
		add(&a, path);
	} else {
		add(&a, "s_client");
		add(&a, "-connect");
		add(&a, SERVER_IP ":" PORT);
		snprintf(path, sizeof(path), "%s/ca.pem", e->dir);
		add(&a, "-CAfile");
		add(&a, path);
	}
	add(&a, "-quiet");
	snprintf(err, sizeof(err), "%s/openssl.err", e->dir);
	ASSERT_EQ(0, katt_peer_start_in(server ? &e->srv : &e->cli, a.v, NULL,
					err, e->net.ns[server ? 1 : 0]));
	if (server) {
		ASSERT_EQ(0, katt_netns_enter(&e->net, 1));
		ret = katt_wait_listen(4433, START_MS);
		ASSERT_EQ(0, katt_netns_enter(&e->net, -1));
		ASSERT_EQ(0, ret);
	}
}

/* What @p printed on stdout until it ended (or @timeout_ms). */
static const char *output_of(struct katt_peer *p, int timeout_ms)
{
	static char buf[16384];

	buf[0] = '\0';
	katt_peer_expect(p, "\x01never", buf, sizeof(buf), timeout_ms);
	return buf;
}

static int exit_of(struct katt_peer *p)
{
	return katt_peer_wait(p, EXIT_MS);
}

/* --- the operator ------------------------------------------------------------------ */

/*
 * The next socket of ns[@i] to enter @state (PENDING: a first round;
 * REATTESTING); its cookie and round.
 */
static void next_round(struct __test_metadata *_metadata, struct env *e,
		       int i, uint32_t state, uint64_t *cookie,
		       uint32_t *round)
{
	struct katt_nl_event ev;
	int ret;

	ret = katt_nl_wait_event_for(e->nl[i], KTLS_ATTEST_CMD_STATE_CHANGE,
				     0, state, &ev, EV_MS);
	ASSERT_EQ(0, ret) TH_LOG("ns[%d]: no socket became %s: %s", i,
				 katt_nl_state_name(state), strerror(-ret));
	*cookie = ev.sock.cookie;
	*round = ev.sock.round;
	katt_nl_event_release(&ev);
}

static void verdict(struct __test_metadata *_metadata, struct env *e, int i,
		    uint64_t cookie, uint32_t round, uint32_t v,
		    const char *text)
{
	int ret = katt_nl_verdict(e->nl[i], cookie, v == REVOKE ? 0 : round,
				  v, text);

	ASSERT_EQ(0, ret) TH_LOG("verdict %u in ns[%d]: %s (%s)", v, i,
				 strerror(-ret), katt_nl_extack(e->nl[i]));
}

/* Both first rounds: held until the test says so, then passed. */
static void pass_both(struct __test_metadata *_metadata, struct env *e,
		      uint64_t cookie[2])
{
	uint32_t round[2];
	int i;

	for (i = 0; i < 2; i++)
		next_round(_metadata, e, i, KTLS_ATTEST_STATE_PENDING,
			   &cookie[i], &round[i]);
	/* held: the client's first command has no answer yet */
	ktls_msleep(300);
	EXPECT_STREQ("", output_of(&e->cli, 0));
	for (i = 0; i < 2; i++)
		verdict(_metadata, e, i, cookie[i], round[i], PASS,
			"checked by the test operator");
}

FIXTURE(ex)
{
	struct env e;
};

FIXTURE_SETUP(ex)
{
	env_setup(_metadata, &self->e);
}

FIXTURE_TEARDOWN(ex)
{
	env_teardown(&self->e);
}

#define EX_READY()				\
	do {					\
		if (self->e.skip)		\
			return;			\
	} while (0)

#define GATED	"--mode", "gated", "--round-timeout", "20000"

/* The README's walk-through: held, passed by the operator, answers. */
TEST_F_TIMEOUT(ex, gated_operator_verdicts, 180)
{
	static const char *const sopts[] = { GATED, NULL };
	static const char *const copts[] = { GATED, NULL };
	static const char *const cmds[] = {
		"ping", "echo two  spaces", "download 1M", "upload 1M",
		"status", "quit", NULL,
	};
	struct env *e = &self->e;
	uint64_t cookie[2];
	const char *out, *err;

	EX_READY();
	server_start(_metadata, e, sopts);
	client_start(_metadata, e, copts, cmds);
	pass_both(_metadata, e, cookie);
	out = output_of(&e->cli, EXIT_MS);
	EXPECT_STREQ("pong\ntwo  spaces\ndata 1048576\nok 1048576\n"
		     "passed: attestation round 1 passed: checked by the test operator\n"
		     "bye\n", out);
	EXPECT_EQ(0, exit_of(&e->cli)) TH_LOG("%s", stderr_of(&e->cli));
	EXPECT_EQ(0, exit_of(&e->srv)) TH_LOG("%s", stderr_of(&e->srv));
	err = stderr_of(&e->cli);
	EXPECT_NE(NULL, strstr(err, "held: waiting for the verdict of attestation round 1 (deadline 20 s); socket cookie"))
		TH_LOG("%s", err);
	EXPECT_NE(NULL, strstr(err, "passed: attestation round 1 passed: checked by the test operator"))
		TH_LOG("%s", err);
	EXPECT_NE(NULL, strstr(err, "peer certificate: localhost (verified)"));
	EXPECT_NE(NULL, strstr(err, "on kTLS, gated mode"));
	err = stderr_of(&e->srv);
	EXPECT_NE(NULL, strstr(err, "held: waiting for the verdict")) TH_LOG("%s", err);
	EXPECT_NE(NULL, strstr(err, "quit")) TH_LOG("%s", err);
}

/* Both ends bound, mutual TLS; each namespace's agent gives the verdicts. */
TEST_F_TIMEOUT(ex, bound_agents_mutual_tls, 180)
{
	char ca[128], cert[128], key[128];
	const char *sopts[] = { "--mode", "bound", "--client-ca", ca, NULL };
	const char *copts[] = {
		"--mode", "bound", "--cert", cert, "--key", key,
		"--role", "attester", NULL,
	};
	static const char *const cmds[] = { "status", "quit", NULL };
	struct katt_agent_ev ev;
	struct env *e = &self->e;
	const char *err;
	int i, ret;

	EX_READY();
	snprintf(ca, sizeof(ca), "%s/ca.pem", e->dir);
	snprintf(cert, sizeof(cert), "%s/client.pem", e->dir);
	snprintf(key, sizeof(key), "%s/client.key", e->dir);
	for (i = 0; i < 2; i++) {
		ret = katt_agent_start(&e->ag[i], katt_agent_path(),
				       e->net.ns[i]);
		ASSERT_EQ(0, ret) TH_LOG("katt-agent %d: %s", i, strerror(-ret));
	}
	server_start(_metadata, e, sopts);
	client_start(_metadata, e, copts, cmds);
	/*
	 * The server's pass first: a bound end that is held takes data
	 * before the peer's attestation as a protocol violation.
	 */
	for (i = 1; i >= 0; i--) {
		ret = katt_agent_next(&e->ag[i], 0, &ev, EV_MS);
		ASSERT_EQ(0, ret) TH_LOG("agent %d: no round-start", i);
		ASSERT_EQ(KATT_AGENT_ROUND, ev.kind);
		/* mutual TLS, both verified; the server is the TLS server */
		EXPECT_EQ(KTLS_ATTEST_BINDING_LOCAL_KEY |
			  KTLS_ATTEST_BINDING_PEER_KEY |
			  KTLS_ATTEST_BINDING_PEER_VERIFIED |
			  (i ? KTLS_ATTEST_BINDING_TLS_SERVER : 0), ev.bflags);
		EXPECT_EQ(i ? KTLS_ATTEST_ROLE_RELYING_PARTY :
			  KTLS_ATTEST_ROLE_ATTESTER, ev.role);
		ASSERT_EQ(0, katt_agent_verdict(&e->ag[i], ev.cookie, ev.round,
						"pass"));
		katt_agent_ev_release(&ev);
	}
	EXPECT_STREQ("passed: attestation round 1 passed\nbye\n",
		     output_of(&e->cli, EXIT_MS));
	EXPECT_EQ(0, exit_of(&e->cli)) TH_LOG("%s", stderr_of(&e->cli));
	EXPECT_EQ(0, exit_of(&e->srv)) TH_LOG("%s", stderr_of(&e->srv));
	err = stderr_of(&e->srv);
	EXPECT_NE(NULL, strstr(err, "peer certificate: ktls-attest-client (verified)"))
		TH_LOG("%s", err);
	EXPECT_NE(NULL, strstr(err, "binding: local key peer key (peer verified)"))
		TH_LOG("%s", err);
}

/* --reattest-before: a fresh round before the command, passed or failed. */
static void reattest_before(struct __test_metadata *_metadata, struct env *e,
			    uint32_t second)
{
	static const char *const sopts[] = { GATED, NULL };
	static const char *const copts[] = {
		GATED, "--reattest-before", "download", NULL,
	};
	static const char *const cmds[] = {
		"ping", "download 1000", "ping", NULL,
	};
	uint64_t cookie[2], c2;
	uint32_t round;
	const char *err;

	server_start(_metadata, e, sopts);
	client_start(_metadata, e, copts, cmds);
	pass_both(_metadata, e, cookie);
	next_round(_metadata, e, 0, KTLS_ATTEST_STATE_REATTESTING, &c2, &round);
	EXPECT_EQ(cookie[0], c2);
	EXPECT_EQ(2, round);
	/* the command waits for it */
	ktls_msleep(300);
	EXPECT_STREQ("pong\n", output_of(&e->cli, 0));
	verdict(_metadata, e, 0, c2, round, second, "second look");
	err = stderr_of(&e->cli);
	if (second == PASS) {
		EXPECT_STREQ("data 1000\npong\n", output_of(&e->cli, EXIT_MS));
		EXPECT_EQ(0, exit_of(&e->cli));
		err = stderr_of(&e->cli);
		EXPECT_NE(NULL, strstr(err, "passed: attestation round 2 passed: second look"))
			TH_LOG("%s", err);
	} else {
		EXPECT_EQ(3, exit_of(&e->cli));
		EXPECT_STREQ("", output_of(&e->cli, 0));
		err = stderr_of(&e->cli);
		EXPECT_NE(NULL, strstr(err, "revoked: revoked by an operator: second look"))
			TH_LOG("%s", err);
	}
	EXPECT_NE(NULL, strstr(err, "re-attesting before \"download 1000\" (round 2)"))
		TH_LOG("%s", err);
}

TEST_F_TIMEOUT(ex, reattest_before_passed, 180)
{
	EX_READY();
	reattest_before(_metadata, &self->e, PASS);
}

TEST_F_TIMEOUT(ex, reattest_before_failed, 180)
{
	EX_READY();
	reattest_before(_metadata, &self->e, FAIL);
}

/*
 * Revoked on each side while the connection is open: both programs end
 * with a clear error and exit status 3.
 */
TEST_F_TIMEOUT(ex, revoke_ends_both, 180)
{
	static const char *const sopts[] = { GATED, NULL };
	static const char *const copts[] = { GATED, NULL };
	struct env *e = &self->e;
	char out[256] = "";
	uint64_t cookie[2];
	int i;

	EX_READY();
	server_start(_metadata, e, sopts);
	client_start(_metadata, e, copts, NULL);
	ASSERT_EQ(5, write(e->cli.in, "ping\n", 5));
	pass_both(_metadata, e, cookie);
	ASSERT_EQ(0, katt_peer_expect(&e->cli, "pong\n", out, sizeof(out),
				      EXIT_MS)) TH_LOG("%s", stderr_of(&e->cli));
	for (i = 0; i < 2; i++)
		verdict(_metadata, e, i, cookie[i], 0, REVOKE, "host compromised");
	/* the server was waiting for a command: it ends at once */
	EXPECT_EQ(3, exit_of(&e->srv));
	EXPECT_NE(NULL, strstr(stderr_of(&e->srv),
			       "revoked: revoked by an operator: host compromised"))
		TH_LOG("%s", stderr_of(&e->srv));
	/* the client at its next command */
	ASSERT_EQ(5, write(e->cli.in, "ping\n", 5));
	EXPECT_EQ(3, exit_of(&e->cli));
	EXPECT_NE(NULL, strstr(stderr_of(&e->cli),
			       "revoked: revoked by an operator: host compromised"))
		TH_LOG("%s", stderr_of(&e->cli));
}

/* The first round's deadline, with nobody to give a verdict. */
TEST_F_TIMEOUT(ex, no_verdict_in_time, 180)
{
	static const char *const sopts[] = {
		"--mode", "gated", "--round-timeout", "1500", NULL,
	};
	static const char *const copts[] = {
		"--mode", "gated", "--round-timeout", "2000", NULL,
	};
	static const char *const cmds[] = { "ping", NULL };
	struct env *e = &self->e;

	EX_READY();
	server_start(_metadata, e, sopts);
	client_start(_metadata, e, copts, cmds);
	EXPECT_EQ(3, exit_of(&e->cli));
	EXPECT_NE(NULL, strstr(stderr_of(&e->cli),
			       "failed: no verdict within 2 s (round 1); the connection was refused"))
		TH_LOG("%s", stderr_of(&e->cli));
	EXPECT_EQ(3, exit_of(&e->srv));
	EXPECT_NE(NULL, strstr(stderr_of(&e->srv), "no verdict within 1.5 s"))
		TH_LOG("%s", stderr_of(&e->srv));
}

/*
 * One end asks for attestation inside the connection, the other is plain
 * OpenSSL and cannot answer: the asking end fails clearly.
 */
TEST_F_TIMEOUT(ex, bound_client_plain_s_server, 180)
{
	static const char *const copts[] = {
		"--mode", "bound", "--round-timeout", "2000", NULL,
	};
	static const char *const cmds[] = { "ping", NULL };
	struct env *e = &self->e;

	EX_READY();
	openssl_start(_metadata, e, true);
	client_start(_metadata, e, copts, cmds);
	EXPECT_EQ(3, exit_of(&e->cli));
	EXPECT_NE(NULL, strstr(stderr_of(&e->cli), "failed: no verdict within 2 s"))
		TH_LOG("%s", stderr_of(&e->cli));
}

TEST_F_TIMEOUT(ex, bound_server_plain_s_client, 180)
{
	static const char *const sopts[] = {
		"--mode", "bound", "--round-timeout", "2000", NULL,
	};
	struct env *e = &self->e;

	EX_READY();
	server_start(_metadata, e, sopts);
	openssl_start(_metadata, e, false);
	EXPECT_EQ(3, exit_of(&e->srv));
	EXPECT_NE(NULL, strstr(stderr_of(&e->srv), "failed: no verdict within 2 s"))
		TH_LOG("%s", stderr_of(&e->srv));
}

/*
 * Gated without a binding, a peer that does not run ktls-attest: plain
 * openssl s_server, with the operator's pass on the client's side.
 */
TEST_F_TIMEOUT(ex, gated_client_plain_s_server, 180)
{
	static const char *const copts[] = { GATED, NULL };
	struct env *e = &self->e;
	char got[256] = "";
	uint64_t cookie;
	uint32_t round;

	EX_READY();
	openssl_start(_metadata, e, true);
	client_start(_metadata, e, copts, NULL);
	next_round(_metadata, e, 0, KTLS_ATTEST_STATE_PENDING, &cookie, &round);
	verdict(_metadata, e, 0, cookie, round, PASS, "plain peer accepted");
	ASSERT_EQ(5, write(e->cli.in, "ping\n", 5));
	ASSERT_EQ(0, katt_peer_expect(&e->srv, "ping\n", got, sizeof(got),
				      EXIT_MS)) TH_LOG("s_server got \"%s\"", got);
	ASSERT_EQ(5, write(e->srv.in, "pong\n", 5));
	got[0] = '\0';
	ASSERT_EQ(0, katt_peer_expect(&e->cli, "pong\n", got, sizeof(got),
				      EXIT_MS)) TH_LOG("%s", stderr_of(&e->cli));
	katt_peer_close_in(&e->cli);
	EXPECT_EQ(0, exit_of(&e->cli)) TH_LOG("%s", stderr_of(&e->cli));
	EXPECT_EQ(0, exit_of(&e->srv));
}

TEST_HARNESS_MAIN
