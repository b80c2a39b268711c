// SPDX-License-Identifier: GPL-2.0
/*
 * ktls-attest, the operator's tool, against real armed sockets.
 *
 * Each test runs in a network namespace of its own, so that the tool sees
 * exactly the test's sockets.  The tool (build/ktls-attest, or $KATT_CLI)
 * is run as a separate program; its -j JSON is parsed with jansson and
 * compared field by field with what the sockets say about themselves
 * (KTLS_ATTEST_STATUS, KTLS_ATTEST_POLICY, getsockname/getpeername) and
 * with what the test did to them (bytes moved, calls held).  Verdicts and
 * re-attestation through the tool must change the sockets' states; late
 * verdicts must fail with exit status 1 and say so; monitor must print
 * every state change and end cleanly on SIGINT and SIGTERM.
 *
 * Without the module every test SKIPs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <linux/ktls_attest.h>
#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/socket.h>
#include <linux/tls.h>

#include "kselftest_harness.h"
#include "lib/katt_harness.h"
#include "lib/katt_nl.h"
#include "lib/katt_test.h"
#include "lib/ktls.h"

#define PASS		KTLS_ATTEST_VERDICT_PASS
#define FAIL		KTLS_ATTEST_VERDICT_FAIL
#define REVOKE		KTLS_ATTEST_VERDICT_REVOKE
#define NR_PAIRS	8
/* Long enough that no round of a test runs out under TCG. */
#define LONG_TIMEOUT_MS	KTLS_ATTEST_TIMEOUT_MS_MAX
/* How long the tool may take; it is killed after this. */
#define CLI_MS		10000
#define OUT_MAX		(256 * 1024)

/* The spec's names, written out here: the tool is checked against them. */
static const char *const state_names[] = {
	[KTLS_ATTEST_STATE_ARMED] = "armed",
	[KTLS_ATTEST_STATE_PENDING] = "pending",
	[KTLS_ATTEST_STATE_PASSED] = "passed",
	[KTLS_ATTEST_STATE_REATTESTING] = "reattesting",
	[KTLS_ATTEST_STATE_REVOKED] = "revoked",
	[KTLS_ATTEST_STATE_FAILED] = "failed",
};
static const char *const reason_names[] = {
	[KTLS_ATTEST_REASON_NONE] = "none",
	[KTLS_ATTEST_REASON_VERDICT] = "verdict",
	[KTLS_ATTEST_REASON_OPERATOR] = "operator",
	[KTLS_ATTEST_REASON_TIMEOUT] = "timeout",
	[KTLS_ATTEST_REASON_PROTOCOL] = "protocol",
	[KTLS_ATTEST_REASON_BYPASS] = "bypass",
};

/* Every key of a socket in "show -j": one per attribute of the dump. */
static const char *const sock_keys[] = {
	"cookie", "role", "state", "reason", "reason_text", "timeout_ms",
	"policy_flags", "round", "family", "saddr", "daddr", "sport", "dport",
	"armed_time", "pass_time", "tx_bytes", "rx_bytes", "tx_held",
	"rx_held",
};

FIXTURE(cli)
{
	bool skip;
	int kmsg;
	struct katt_nl *nl;	/* an operator: root, not the agent */
	struct katt_pair pr[NR_PAIRS];
};

static const struct ktls_attest_policy long_policy = {
	.timeout_ms = LONG_TIMEOUT_MS,
};

static const struct katt_pair_opts v4 = {
	.family = AF_INET,
	.version = TLS_1_3_VERSION,
	.cipher = TLS_CIPHER_AES_GCM_128,
	.policy = &long_policy,
};

FIXTURE_SETUP(cli)
{
	KATT_FIXTURE_START(self, self->pr, NR_PAIRS);
	/* a namespace of its own: the tool sees this test's sockets only */
	katt_nl_close(self->nl);
	self->nl = NULL;
	ASSERT_EQ(0, unshare(CLONE_NEWNET)) TH_LOG("unshare: %s",
						   strerror(errno));
	ASSERT_EQ(0, katt_lo_up());
	ASSERT_EQ(0, katt_nl_open(&self->nl));
}

FIXTURE_TEARDOWN(cli)
{
	katt_fixture_end(_metadata, self->pr, NR_PAIRS, self->nl, self->kmsg);
}

/* --- running the tool ----------------------------------------------------- */

struct cli_run {
	int status;		/* exit status; -1 if it did not exit */
	char out[OUT_MAX];
	char err[OUT_MAX];
};

static const char *cli_path(void)
{
	const char *p = getenv("KATT_CLI");

	return p && *p ? p : "build/ktls-attest";
}

/* The child: drops to nobody if asked, then becomes the tool. */
static void cli_exec(char **argv, bool nobody, int out, int err)
{
	if (dup2(out, 1) < 0 || dup2(err, 2) < 0)
		_exit(126);
	if (nobody && (setgroups(0, NULL) || setgid(65534) || setuid(65534)))
		_exit(126);
	execv(argv[0], argv);
	_exit(127);
}

static void drain(int *fd, char *buf, size_t *len)
{
	ssize_t n = read(*fd, buf + *len, OUT_MAX - 1 - *len);

	if (n <= 0) {
		close(*fd);
		*fd = -1;
		return;
	}
	*len += n;
	buf[*len] = '\0';
}

/* Runs the tool with the NULL-terminated arguments @args; 0 or -errno. */
static int cli_runv(struct cli_run *r, bool nobody, const char *const *args)
{
	char *argv[32];
	size_t olen = 0, elen = 0;
	int po[2], pe[2], i, status;
	long long deadline;
	pid_t pid;

	argv[0] = (char *)cli_path();
	for (i = 0; args[i] && i < 30; i++)
		argv[i + 1] = (char *)args[i];
	argv[i + 1] = NULL;
	r->status = -1;
	r->out[0] = r->err[0] = '\0';
	if (pipe2(po, O_CLOEXEC) || pipe2(pe, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid)
		cli_exec(argv, nobody, po[1], pe[1]);
	close(po[1]);
	close(pe[1]);
	deadline = katt_now_ms() + CLI_MS;
	while (po[0] >= 0 || pe[0] >= 0) {
		struct pollfd pfd[2] = {
			{ .fd = po[0], .events = POLLIN },
			{ .fd = pe[0], .events = POLLIN },
		};
		long long left = deadline - katt_now_ms();

		if (left <= 0 || poll(pfd, 2, left) <= 0)
			break;
		if (pfd[0].revents)
			drain(&po[0], r->out, &olen);
		if (pfd[1].revents)
			drain(&pe[0], r->err, &elen);
	}
	if (po[0] >= 0 || pe[0] >= 0)
		kill(pid, SIGKILL);
	if (po[0] >= 0)
		close(po[0]);
	if (pe[0] >= 0)
		close(pe[0]);
	if (waitpid(pid, &status, 0) == pid && WIFEXITED(status))
		r->status = WEXITSTATUS(status);
	return 0;
}

#define CLI_ARGS(...)	((const char *const[]){ __VA_ARGS__, NULL })
/* The tool's run with those arguments, into *r; asserts it ran. */
#define RUN(r, ...)							\
	ASSERT_EQ(0, cli_runv((r), false, CLI_ARGS(__VA_ARGS__)))
#define RUN_NOBODY(r, ...)						\
	ASSERT_EQ(0, cli_runv((r), true, CLI_ARGS(__VA_ARGS__)))

/* Exit status @status, and stderr empty when it is 0. */
#define EXPECT_STATUS(r, st)						\
	do {								\
		EXPECT_EQ(st, (r)->status)				\
			TH_LOG("exit %d, stderr: %s", (r)->status,	\
			       (r)->err);				\
		if ((st) == 0)						\
			EXPECT_STREQ("", (r)->err);			\
	} while (0)

static const char *u64s(uint64_t v, char *buf)
{
	sprintf(buf, "%llu", (unsigned long long)v);
	return buf;
}

/* "show -j [args]" parsed: a JSON array, or NULL after a failed assert. */
static json_t *show_json(struct __test_metadata *_metadata,
			 struct cli_run *r, const char *const *filter)
{
	const char *args[24] = { "-j", "show" };
	json_error_t jerr;
	json_t *j;
	int i;

	for (i = 0; filter && filter[i] && i < 20; i++)
		args[i + 2] = filter[i];
	args[i + 2] = NULL;
	EXPECT_EQ(0, cli_runv(r, false, args));
	EXPECT_EQ(0, r->status) TH_LOG("show -j: exit %d, stderr: %s",
				       r->status, r->err);
	EXPECT_STREQ("", r->err);
	j = json_loads(r->out, 0, &jerr);
	EXPECT_NE(NULL, j) TH_LOG("show -j: not JSON (%s): %s", jerr.text,
				  r->out);
	if (j && !json_is_array(j)) {
		EXPECT_TRUE(json_is_array(j)) TH_LOG("show -j: not an array");
		json_decref(j);
		return NULL;
	}
	return j;
}

static json_t *find_cookie(json_t *array, uint64_t cookie)
{
	json_t *o;
	size_t i;

	json_array_foreach(array, i, o)
		if ((uint64_t)json_integer_value(json_object_get(o, "cookie")) ==
		    cookie)
			return o;
	return NULL;
}

static long long jint(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? json_integer_value(v) : -1;
}

static const char *jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : "(not a string)";
}

/* The names of a flags array, joined by ',' ("" for none). */
static const char *jflags(json_t *o, const char *key, char *buf, size_t len)
{
	json_t *a = json_object_get(o, key), *v;
	size_t i, used = 0;

	buf[0] = '\0';
	if (!json_is_array(a))
		return "(not an array)";
	json_array_foreach(a, i, v)
		used += snprintf(buf + used, len - used, "%s%s", i ? "," : "",
				 json_is_string(v) ? json_string_value(v) :
				 "(not a name)");
	return buf;
}

static const char *role_text(uint32_t role)
{
	switch (role) {
	case KTLS_ATTEST_ROLE_ATTESTER:
		return "attester";
	case KTLS_ATTEST_ROLE_RELYING_PARTY:
		return "relying-party";
	case KTLS_ATTEST_ROLE_ATTESTER | KTLS_ATTEST_ROLE_RELYING_PARTY:
		return "attester,relying-party";
	}
	return "?";
}

static const char *policy_text(uint32_t flags)
{
	switch (flags) {
	case 0:
		return "";
	case KTLS_ATTEST_POLICY_FLAGS_HOLD_REATTEST:
		return "hold-reattest";
	case KTLS_ATTEST_POLICY_FLAGS_RESET_ON_REVOKE:
		return "reset-on-revoke";
	}
	return "hold-reattest,reset-on-revoke";
}

/* What the test did to a socket, for the counters. */
struct expect_io {
	uint64_t tx_bytes, rx_bytes, tx_held, rx_held;
	long long armed_after_ns, armed_before_ns;
};

/*
 * The tool's JSON object of @pp's gated end, field by field, against the
 * socket's own view of itself and against @io.
 */
static void expect_sock(struct __test_metadata *_metadata, json_t *o,
			struct katt_pair *pp, const struct expect_io *io)
{
	struct sockaddr_storage ls, ps;
	struct ktls_attest_policy pol;
	struct ktls_attest_status st;
	char lbuf[INET6_ADDRSTRLEN], pbuf[INET6_ADDRSTRLEN], fb[128];
	socklen_t len;
	size_t i;
	int lport, pport;

	ASSERT_NE(NULL, o) TH_LOG("socket %llu is not in the output",
				  (unsigned long long)pp->cookie);
	ASSERT_EQ(0, katt_status(pp->g, &st));
	len = sizeof(pol);
	ASSERT_EQ(0, getsockopt(pp->g, SOL_KTLS_ATTEST, KTLS_ATTEST_POLICY,
				&pol, &len));
	len = sizeof(ls);
	ASSERT_EQ(0, getsockname(pp->g, (struct sockaddr *)&ls, &len));
	len = sizeof(ps);
	ASSERT_EQ(0, getpeername(pp->g, (struct sockaddr *)&ps, &len));
	if (pp->family == AF_INET6) {
		struct sockaddr_in6 *l = (void *)&ls, *p = (void *)&ps;

		inet_ntop(AF_INET6, &l->sin6_addr, lbuf, sizeof(lbuf));
		inet_ntop(AF_INET6, &p->sin6_addr, pbuf, sizeof(pbuf));
		lport = ntohs(l->sin6_port);
		pport = ntohs(p->sin6_port);
	} else {
		struct sockaddr_in *l = (void *)&ls, *p = (void *)&ps;

		inet_ntop(AF_INET, &l->sin_addr, lbuf, sizeof(lbuf));
		inet_ntop(AF_INET, &p->sin_addr, pbuf, sizeof(pbuf));
		lport = ntohs(l->sin_port);
		pport = ntohs(p->sin_port);
	}

	/* every field of the dump, and nothing else */
	EXPECT_EQ(sizeof(sock_keys) / sizeof(sock_keys[0]), json_object_size(o));
	for (i = 0; i < sizeof(sock_keys) / sizeof(sock_keys[0]); i++)
		EXPECT_NE(NULL, json_object_get(o, sock_keys[i]))
			TH_LOG("no \"%s\"", sock_keys[i]);

	EXPECT_EQ(st.cookie, (uint64_t)jint(o, "cookie"));
	EXPECT_STREQ(state_names[st.state], jstr(o, "state"));
	EXPECT_STREQ(reason_names[st.reason], jstr(o, "reason"));
	EXPECT_STREQ(st.reason_text, jstr(o, "reason_text"));
	EXPECT_EQ(st.round, jint(o, "round"));
	EXPECT_STREQ(role_text(st.role), jflags(o, "role", fb, sizeof(fb)));
	EXPECT_EQ(pol.timeout_ms, jint(o, "timeout_ms"));
	EXPECT_STREQ(policy_text(pol.flags),
		     jflags(o, "policy_flags", fb, sizeof(fb)));
	EXPECT_EQ(st.pass_time_ns, (uint64_t)jint(o, "pass_time"));
	EXPECT_STREQ(pp->family == AF_INET6 ? "inet6" : "inet",
		     jstr(o, "family"));
	EXPECT_STREQ(lbuf, jstr(o, "saddr"));
	EXPECT_STREQ(pbuf, jstr(o, "daddr"));
	EXPECT_EQ(lport, jint(o, "sport"));
	EXPECT_EQ(pport, jint(o, "dport"));
	if (io) {
		EXPECT_EQ(io->tx_bytes, (uint64_t)jint(o, "tx_bytes"));
		EXPECT_EQ(io->rx_bytes, (uint64_t)jint(o, "rx_bytes"));
		EXPECT_EQ(io->tx_held, (uint64_t)jint(o, "tx_held"));
		EXPECT_EQ(io->rx_held, (uint64_t)jint(o, "rx_held"));
		EXPECT_LE(io->armed_after_ns, jint(o, "armed_time"));
		EXPECT_GE(io->armed_before_ns, jint(o, "armed_time"));
	}
}

/* A pair opened now, its arming time bracketed in @io (may be NULL). */
static void open_pair(struct __test_metadata *_metadata, struct katt_pair *pp,
		      const struct katt_pair_opts *o, struct expect_io *io)
{
	long long t0 = katt_realtime_ns();

	katt_open_pair(_metadata, pp, o);
	if (io) {
		memset(io, 0, sizeof(*io));
		io->armed_after_ns = t0;
		io->armed_before_ns = katt_realtime_ns();
	}
}

/* --- show ------------------------------------------------------------------ */

TEST_F(cli, show_empty)
{
	struct cli_run *r = calloc(1, sizeof(*r));
	json_t *j;

	READY();
	ASSERT_NE(NULL, r);
	j = show_json(_metadata, r, NULL);
	ASSERT_NE(NULL, j);
	EXPECT_EQ(0, json_array_size(j));
	json_decref(j);
	/* no command is show; nothing to show is no output */
	RUN(r, "show");
	EXPECT_STATUS(r, 0);
	EXPECT_STREQ("", r->out);
	ASSERT_EQ(0, cli_runv(r, false, (const char *const[]){ NULL }));
	EXPECT_STATUS(r, 0);
	EXPECT_STREQ("", r->out);
	free(r);
}

/* Sockets in every state, and what happened to them, in one dump. */
TEST_F(cli, show_states)
{
	struct ktls_attest_policy held = {
		.timeout_ms = 5000,
		.flags = KTLS_ATTEST_POLICY_FLAGS_HOLD_REATTEST |
			 KTLS_ATTEST_POLICY_FLAGS_RESET_ON_REVOKE,
	};
	struct katt_pair_opts armed = v4, pending = v4, mutual6 = v4;
	struct cli_run *r = calloc(1, sizeof(*r));
	struct expect_io io[NR_PAIRS];
	struct katt_pair *pr = self->pr;
	char tx[3000], rx[3000];
	json_t *j;
	int i;

	READY();
	ASSERT_NE(NULL, r);
	armed.no_keys = true;
	pending.role = KTLS_ATTEST_ROLE_ATTESTER;
	pending.policy = &held;
	mutual6.family = AF_INET6;
	mutual6.role = KTLS_ATTEST_ROLE_ATTESTER |
		       KTLS_ATTEST_ROLE_RELYING_PARTY;
	ktls_fill(tx, sizeof(tx), 1);

	/* 0 armed; 1 pending, held three times one way and once the other */
	open_pair(_metadata, &pr[0], &armed, &io[0]);
	open_pair(_metadata, &pr[1], &pending, &io[1]);
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(-1, send(pr[1].g, tx, 10, MSG_DONTWAIT));
		EXPECT_EQ(EAGAIN, errno);
	}
	EXPECT_EQ(-1, recv(pr[1].g, rx, 10, MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	io[1].tx_held = 3;
	io[1].rx_held = 1;

	/* 2 passed, with data both ways */
	open_pair(_metadata, &pr[2], &v4, &io[2]);
	katt_verdict(_metadata, self->nl, &pr[2], PASS, "looks good");
	ASSERT_EQ(3000, ktls_send_all(pr[2].g, tx, 3000, 0));
	ASSERT_EQ(3000, katt_pair_peer_recv(&pr[2], rx, 3000));
	ASSERT_EQ(1200, ktls_send_all(pr[2].p, tx, 1200, 0));
	ASSERT_EQ(1200, ktls_recv_all(pr[2].g, rx, 1200, 0));
	io[2].tx_bytes = 3000;
	io[2].rx_bytes = 1200;

	/* 3 failed with a reason; 4 revoked after a pass; 5 re-attesting */
	open_pair(_metadata, &pr[3], &v4, &io[3]);
	katt_verdict(_metadata, self->nl, &pr[3], FAIL, "PCR 7 mismatch");
	open_pair(_metadata, &pr[4], &v4, &io[4]);
	katt_verdict(_metadata, self->nl, &pr[4], PASS, NULL);
	katt_verdict(_metadata, self->nl, &pr[4], REVOKE, "key compromised");
	open_pair(_metadata, &pr[5], &v4, &io[5]);
	katt_verdict(_metadata, self->nl, &pr[5], PASS, "first");
	ASSERT_EQ(0, katt_nl_reattest(self->nl, pr[5].cookie));
	katt_expect_state(_metadata, pr[5].g, KTLS_ATTEST_STATE_REATTESTING,
			  2);

	/* 6 IPv6, both roles, passed; 7 plain kTLS: not listed */
	open_pair(_metadata, &pr[6], &mutual6, &io[6]);
	katt_verdict(_metadata, self->nl, &pr[6], PASS, NULL);
	armed = v4;
	armed.no_arm = true;
	armed.policy = NULL;
	katt_open_pair(_metadata, &pr[7], &armed);

	j = show_json(_metadata, r, NULL);
	ASSERT_NE(NULL, j);
	EXPECT_EQ(7, json_array_size(j));
	for (i = 0; i < 7; i++)
		expect_sock(_metadata, find_cookie(j, pr[i].cookie), &pr[i],
			    &io[i]);
	EXPECT_EQ(NULL, find_cookie(j, pr[7].cookie));
	json_decref(j);

	/* -p is the same JSON, indented */
	RUN(r, "-p", "show", "cookie", "0");
	EXPECT_STATUS(r, 2);
	{
		char ck[24];
		json_t *one;

		RUN(r, "-p", "show", "cookie", u64s(pr[3].cookie, ck));
		EXPECT_STATUS(r, 0);
		EXPECT_NE(NULL, strstr(r->out, "\n  {\n    \"cookie\": "));
		one = json_loads(r->out, 0, NULL);
		ASSERT_NE(NULL, one);
		EXPECT_EQ(1, json_array_size(one));
		expect_sock(_metadata, json_array_get(one, 0), &pr[3],
			    &io[3]);
		json_decref(one);
	}
	free(r);
}

/* Does @text have the line @line? */
static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p;

	for (p = text; (p = strstr(p, line)); p += n)
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' || !p[n]))
			return true;
	return false;
}

/* A line "  KEY: YYYY-MM-DD HH:MM:SS ZONE (WHEN)" in @text. */
static bool has_date(const char *text, const char *key)
{
	char pat[64], zone[16], when[64];
	const char *p;
	int y, mo, d, h, mi, s;

	snprintf(pat, sizeof(pat), "\n  %s: ", key);
	p = strstr(text, pat);
	if (!p)
		return false;
	p += strlen(pat);
	if (sscanf(p, "%4d-%2d-%2d %2d:%2d:%2d %15s (%63[^)])", &y, &mo, &d,
		   &h, &mi, &s, zone, when) != 8)
		return false;
	return !strcmp(when, "just now") ||
	       (strlen(when) > 4 && !strcmp(when + strlen(when) - 4, " ago"));
}

#define EXPECT_LINE(text, ...)						\
	do {								\
		char _l[512];						\
									\
		snprintf(_l, sizeof(_l), __VA_ARGS__);			\
		EXPECT_TRUE(has_line(text, _l))				\
			TH_LOG("no line \"%s\" in:\n%s", _l, text);	\
	} while (0)

/* The text output: one block per socket, every field, text escaped. */
TEST_F(cli, show_text)
{
	struct katt_pair_opts armed = v4, six = v4;
	struct cli_run *r = calloc(1, sizeof(*r));
	struct katt_pair *pr = self->pr;
	struct sockaddr_in l, p;
	socklen_t len;
	char tx[2000], rx[2000], ck[24];

	READY();
	ASSERT_NE(NULL, r);
	armed.no_keys = true;
	six.family = AF_INET6;
	ktls_fill(tx, sizeof(tx), 2);
	katt_open_pair(_metadata, &pr[0], &v4);
	/* a verdict's text is anyone's: quotes, a newline, an escape */
	katt_verdict(_metadata, self->nl, &pr[0], PASS,
		     "ok \"fine\"\n\033[2J\\");
	ASSERT_EQ(2000, ktls_send_all(pr[0].p, tx, 2000, 0));
	ASSERT_EQ(2000, ktls_recv_all(pr[0].g, rx, 2000, 0));
	ASSERT_EQ(5, ktls_send_all(pr[0].g, tx, 5, 0));
	katt_open_pair(_metadata, &pr[1], &armed);
	katt_open_pair(_metadata, &pr[2], &six);
	EXPECT_EQ(-1, send(pr[2].g, tx, 1, MSG_DONTWAIT));

	RUN(r, "show", "cookie", u64s(pr[0].cookie, ck));
	EXPECT_STATUS(r, 0);
	len = sizeof(l);
	ASSERT_EQ(0, getsockname(pr[0].g, (struct sockaddr *)&l, &len));
	len = sizeof(p);
	ASSERT_EQ(0, getpeername(pr[0].g, (struct sockaddr *)&p, &len));
	EXPECT_LINE(r->out, "cookie: %s", ck);
	EXPECT_LINE(r->out, "  state: passed");
	EXPECT_LINE(r->out, "  round: 1");
	EXPECT_LINE(r->out, "  role: relying-party");
	EXPECT_LINE(r->out, "  local: 127.0.0.1:%u", ntohs(l.sin_port));
	EXPECT_LINE(r->out, "  peer: 127.0.0.1:%u", ntohs(p.sin_port));
	EXPECT_LINE(r->out, "  reason: operator (an administrator's verdict)");
	EXPECT_LINE(r->out,
		    "  verdict text: \"ok \\\"fine\\\"\\x0a\\x1b[2J\\\\\"");
	EXPECT_EQ(NULL, strchr(r->out, '\033'));
	EXPECT_LINE(r->out, "  round timeout: %u ms", LONG_TIMEOUT_MS);
	EXPECT_LINE(r->out, "  policy: none");
	EXPECT_LINE(r->out, "  held: 0 sends, 0 receives");
	EXPECT_LINE(r->out, "  transfer: 1.95 KiB received, 5 B sent");
	/* "2024-05-01 12:00:03 UTC (just now)" or "(... ago)" */
	EXPECT_TRUE(has_date(r->out, "armed")) TH_LOG("%s", r->out);
	EXPECT_TRUE(has_date(r->out, "last pass")) TH_LOG("%s", r->out);

	/* all three, one block each, separated by an empty line */
	RUN(r, "show");
	EXPECT_STATUS(r, 0);
	EXPECT_LINE(r->out, "cookie: %s", u64s(pr[1].cookie, ck));
	EXPECT_LINE(r->out, "  state: armed");
	EXPECT_LINE(r->out, "  round: none yet");
	EXPECT_LINE(r->out, "  last pass: never");
	EXPECT_LINE(r->out, "  reason: none (no verdict in this round yet)");
	EXPECT_LINE(r->out, "  state: pending");
	EXPECT_LINE(r->out, "  held: 1 send, 0 receives");
	EXPECT_TRUE(strstr(r->out, "  local: [::1]:") != NULL);
	EXPECT_TRUE(strstr(r->out, "\n\ncookie: ") != NULL);
	free(r);
}

/* The number of sockets "show -j FILTER..." lists, -1 on failure. */
static int count_shown(struct __test_metadata *_metadata, struct cli_run *r,
		       const char *const *filter)
{
	json_t *j = show_json(_metadata, r, filter);
	int n;

	if (!j)
		return -1;
	n = json_array_size(j);
	json_decref(j);
	return n;
}

TEST_F(cli, show_filter)
{
	struct katt_pair_opts armed = v4, att6 = v4;
	struct cli_run *r = calloc(1, sizeof(*r));
	struct katt_pair *pr = self->pr;
	struct sockaddr_in l;
	socklen_t len = sizeof(l);
	char ck[24], port[8];
	json_t *j;

	READY();
	ASSERT_NE(NULL, r);
	armed.no_keys = true;
	att6.family = AF_INET6;
	att6.role = KTLS_ATTEST_ROLE_ATTESTER;
	katt_open_pair(_metadata, &pr[0], &armed);
	katt_open_pair(_metadata, &pr[1], &v4);		/* pending */
	katt_open_pair(_metadata, &pr[2], &v4);
	katt_verdict(_metadata, self->nl, &pr[2], PASS, NULL);
	katt_open_pair(_metadata, &pr[3], &v4);
	katt_verdict(_metadata, self->nl, &pr[3], FAIL, NULL);
	katt_open_pair(_metadata, &pr[4], &att6);	/* pending */

	EXPECT_EQ(5, count_shown(_metadata, r, NULL));
	EXPECT_EQ(2, count_shown(_metadata, r, CLI_ARGS("state", "pending")));
	EXPECT_EQ(3, count_shown(_metadata, r,
				 CLI_ARGS("state", "pending", "state",
					  "passed")));
	EXPECT_EQ(1, count_shown(_metadata, r,
				 CLI_ARGS("state", "pending", "role",
					  "attester")));
	EXPECT_EQ(4, count_shown(_metadata, r,
				 CLI_ARGS("role", "relying-party")));
	EXPECT_EQ(2, count_shown(_metadata, r, CLI_ARGS("reason", "operator")));
	EXPECT_EQ(0, count_shown(_metadata, r, CLI_ARGS("reason", "timeout")));
	EXPECT_EQ(4, count_shown(_metadata, r, CLI_ARGS("src", "127.0.0.1")));
	EXPECT_EQ(1, count_shown(_metadata, r, CLI_ARGS("dst", "::1")));
	EXPECT_EQ(0, count_shown(_metadata, r, CLI_ARGS("dst", "10.1.2.3")));
	ASSERT_EQ(0, getsockname(pr[2].g, (struct sockaddr *)&l, &len));
	snprintf(port, sizeof(port), "%u", ntohs(l.sin_port));
	j = show_json(_metadata, r, CLI_ARGS("sport", port));
	ASSERT_NE(NULL, j);
	ASSERT_EQ(1, json_array_size(j));
	expect_sock(_metadata, json_array_get(j, 0), &pr[2], NULL);
	json_decref(j);

	/* a cookie names one socket; with another keyword it must match it */
	EXPECT_EQ(1, count_shown(_metadata, r,
				 CLI_ARGS("cookie", u64s(pr[3].cookie, ck))));
	EXPECT_EQ(0, count_shown(_metadata, r,
				 CLI_ARGS("cookie", ck, "state", "passed")));
	RUN(r, "show", "cookie", u64s(pr[4].cookie + 1000000, ck));
	EXPECT_STATUS(r, 1);
	EXPECT_STREQ("", r->out);
	EXPECT_NE(NULL, strstr(r->err, "no armed socket with this cookie"))
		TH_LOG("stderr: %s", r->err);
	free(r);
}

/* --- verdicts ---------------------------------------------------------------- */

TEST_F(cli, pass)
{
	struct cli_run *r = calloc(1, sizeof(*r));
	struct katt_pair *a = &self->pr[0];
	struct ktls_attest_status st;
	char tx[100], rx[100], ck[24];

	READY();
	ASSERT_NE(NULL, r);
	ktls_fill(tx, sizeof(tx), 3);
	katt_open_pair(_metadata, a, &v4);
	EXPECT_EQ(-1, send(a->g, tx, 10, MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);

	RUN(r, "pass", u64s(a->cookie, ck), "measured boot ok");
	EXPECT_STATUS(r, 0);
	EXPECT_STREQ("", r->out);
	ASSERT_EQ(0, katt_status(a->g, &st));
	EXPECT_EQ(KTLS_ATTEST_STATE_PASSED, st.state);
	EXPECT_EQ(1, st.round);
	EXPECT_EQ(KTLS_ATTEST_REASON_OPERATOR, st.reason);
	EXPECT_STREQ("measured boot ok", st.reason_text);
	EXPECT_NE(0, st.pass_time_ns);
	/* and data moves */
	ASSERT_EQ(100, ktls_send_all(a->g, tx, 100, 0));
	ASSERT_EQ(100, katt_pair_peer_recv(a, rx, 100));
	EXPECT_EQ(-1, ktls_first_diff(tx, rx, 100));
	free(r);
}

TEST_F(cli, fail_and_revoke)
{
	struct cli_run *r = calloc(1, sizeof(*r));
	struct katt_pair *pr = self->pr;
	struct ktls_attest_status st;
	char ck[24];

	READY();
	ASSERT_NE(NULL, r);

	/* a failed first round: failed */
	katt_open_pair(_metadata, &pr[0], &v4);
	RUN(r, "fail", u64s(pr[0].cookie, ck), "PCR 7 mismatch");
	EXPECT_STATUS(r, 0);
	ASSERT_EQ(0, katt_status(pr[0].g, &st));
	EXPECT_EQ(KTLS_ATTEST_STATE_FAILED, st.state);
	EXPECT_STREQ("PCR 7 mismatch", st.reason_text);
	EXPECT_EQ(-1, send(pr[0].g, "x", 1, MSG_DONTWAIT));
	EXPECT_EQ(EKEYREJECTED, errno);

	/* a failed later round: revoked */
	katt_open_pair(_metadata, &pr[1], &v4);
	katt_verdict(_metadata, self->nl, &pr[1], PASS, NULL);
	ASSERT_EQ(0, katt_nl_reattest(self->nl, pr[1].cookie));
	RUN(r, "fail", u64s(pr[1].cookie, ck));
	EXPECT_STATUS(r, 0);
	ASSERT_EQ(0, katt_status(pr[1].g, &st));
	EXPECT_EQ(KTLS_ATTEST_STATE_REVOKED, st.state);
	EXPECT_EQ(2, st.round);
	EXPECT_STREQ("", st.reason_text);

	/* revoke, in a passed state; again: already */
	katt_open_pair(_metadata, &pr[2], &v4);
	katt_verdict(_metadata, self->nl, &pr[2], PASS, NULL);
	RUN(r, "revoke", u64s(pr[2].cookie, ck), "key compromised");
	EXPECT_STATUS(r, 0);
	ASSERT_EQ(0, katt_status(pr[2].g, &st));
	EXPECT_EQ(KTLS_ATTEST_STATE_REVOKED, st.state);
	EXPECT_EQ(KTLS_ATTEST_REASON_OPERATOR, st.reason);
	EXPECT_STREQ("key compromised", st.reason_text);
	EXPECT_EQ(-1, send(pr[2].g, "x", 1, MSG_DONTWAIT));
	EXPECT_EQ(EKEYREVOKED, errno);
	RUN(r, "revoke", ck);
	EXPECT_STATUS(r, 1);
	EXPECT_NE(NULL, strstr(r->err, "already revoked or failed"))
		TH_LOG("stderr: %s", r->err);

	/* revoke a pending one */
	katt_open_pair(_metadata, &pr[3], &v4);
	RUN(r, "revoke", u64s(pr[3].cookie, ck));
	EXPECT_STATUS(r, 0);
	katt_expect_state(_metadata, pr[3].g, KTLS_ATTEST_STATE_REVOKED, 1);
	free(r);
}

TEST_F(cli, reattest)
{
	struct katt_pair_opts armed = v4;
	struct cli_run *r = calloc(1, sizeof(*r));
	struct katt_pair *pr = self->pr;
	struct ktls_attest_status st;
	char ck[24];

	READY();
	ASSERT_NE(NULL, r);
	armed.no_keys = true;
	katt_open_pair(_metadata, &pr[0], &v4);
	katt_verdict(_metadata, self->nl, &pr[0], PASS, NULL);

	RUN(r, "reattest", u64s(pr[0].cookie, ck));
	EXPECT_STATUS(r, 0);
	EXPECT_STREQ("", r->out);
	katt_expect_state(_metadata, pr[0].g, KTLS_ATTEST_STATE_REATTESTING,
			  2);
	/* pass finds round 2 itself */
	RUN(r, "pass", ck, "again");
	EXPECT_STATUS(r, 0);
	ASSERT_EQ(0, katt_status(pr[0].g, &st));
	EXPECT_EQ(KTLS_ATTEST_STATE_PASSED, st.state);
	EXPECT_EQ(2, st.round);
	/* the same with the round named */
	RUN(r, "reattest", ck);
	EXPECT_STATUS(r, 0);
	RUN(r, "pass", ck, "round", "3", "third");
	EXPECT_STATUS(r, 0);
	ASSERT_EQ(0, katt_status(pr[0].g, &st));
	EXPECT_EQ(KTLS_ATTEST_STATE_PASSED, st.state);
	EXPECT_EQ(3, st.round);
	EXPECT_STREQ("third", st.reason_text);

	/* refused: no key yet; failed; no such socket */
	katt_open_pair(_metadata, &pr[1], &armed);
	RUN(r, "reattest", u64s(pr[1].cookie, ck));
	EXPECT_STATUS(r, 1);
	EXPECT_NE(NULL, strstr(r->err, "(kernel: socket has no kTLS key yet)"))
		TH_LOG("stderr: %s", r->err);
	katt_open_pair(_metadata, &pr[2], &v4);
	katt_verdict(_metadata, self->nl, &pr[2], FAIL, NULL);
	RUN(r, "reattest", u64s(pr[2].cookie, ck));
	EXPECT_STATUS(r, 1);
	EXPECT_NE(NULL, strstr(r->err, "revoked or failed"))
		TH_LOG("stderr: %s", r->err);
	RUN(r, "reattest", u64s(pr[2].cookie + 1000000, ck));
	EXPECT_STATUS(r, 1);
	EXPECT_NE(NULL, strstr(r->err, "no armed socket with this cookie"))
		TH_LOG("stderr: %s", r->err);
	free(r);
}

/* Waits until the kernel knows @cookie no more. */
static int wait_gone(struct katt_nl *nl, uint64_t cookie)
{
	long long deadline = katt_now_ms() + WAKE_MS;
	struct katt_nl_sock s;

	while (katt_nl_get(nl, cookie, &s) != -ENOENT) {
		if (katt_now_ms() > deadline)
			return -ETIMEDOUT;
		usleep(10000);
	}
	return 0;
}

/* Verdicts that come too late (or too early) fail, exit 1, and say why. */
TEST_F(cli, too_late)
{
	struct katt_pair_opts armed = v4;
	struct cli_run *r = calloc(1, sizeof(*r));
	struct katt_pair *pr = self->pr;
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	struct ktls_attest_status st;
	uint64_t gone;
	char ck[24];

	READY();
	ASSERT_NE(NULL, r);
	armed.no_keys = true;

	/* passed already: no round under way */
	katt_open_pair(_metadata, &pr[0], &v4);
	katt_verdict(_metadata, self->nl, &pr[0], PASS, "first");
	RUN(r, "pass", u64s(pr[0].cookie, ck), "second");
	EXPECT_STATUS(r, 1);
	EXPECT_NE(NULL, strstr(r->err, "too late: no attestation round is under way, the socket is passed (round 1)"))
		TH_LOG("stderr: %s", r->err);
	RUN(r, "fail", ck);
	EXPECT_STATUS(r, 1);
	EXPECT_NE(NULL, strstr(r->err, "too late")) TH_LOG("stderr: %s",
							  r->err);
	ASSERT_EQ(0, katt_status(pr[0].g, &st));
	EXPECT_EQ(KTLS_ATTEST_STATE_PASSED, st.state);
	EXPECT_STREQ("first", st.reason_text);

	/* round 1 is over: round 2 is under way (the kernel says ESTALE) */
	ASSERT_EQ(0, katt_nl_reattest(self->nl, pr[0].cookie));
	RUN(r, "pass", ck, "round", "1");
	EXPECT_STATUS(r, 1);
	EXPECT_NE(NULL, strstr(r->err, "too late: round 1 is over, the socket is now reattesting (round 2) (kernel: verdict is not for the socket's current round)"))
		TH_LOG("stderr: %s", r->err);
	RUN(r, "fail", ck, "round", "5");
	EXPECT_STATUS(r, 1);
	EXPECT_NE(NULL, strstr(r->err, "round 5 has not begun"))
		TH_LOG("stderr: %s", r->err);
	katt_expect_state(_metadata, pr[0].g, KTLS_ATTEST_STATE_REATTESTING,
			  2);

	/* a round with a named number after the verdict: no round */
	katt_verdict(_metadata, self->nl, &pr[0], FAIL, NULL);
	RUN(r, "pass", ck, "round", "2");
	EXPECT_STATUS(r, 1);
	EXPECT_NE(NULL, strstr(r->err, "too late: no attestation round is under way any more, the socket is now revoked (round 2) (kernel: "))
		TH_LOG("stderr: %s", r->err);
	katt_expect_state(_metadata, pr[0].g, KTLS_ATTEST_STATE_REVOKED, 2);

	/* failed: too late as well */
	katt_open_pair(_metadata, &pr[1], &v4);
	katt_verdict(_metadata, self->nl, &pr[1], FAIL, NULL);
	RUN(r, "pass", u64s(pr[1].cookie, ck));
	EXPECT_STATUS(r, 1);
	EXPECT_NE(NULL, strstr(r->err, "too late: no attestation round is under way, the socket is failed (round 1)"))
		TH_LOG("stderr: %s", r->err);

	/* too early: no key yet */
	katt_open_pair(_metadata, &pr[2], &armed);
	RUN(r, "pass", u64s(pr[2].cookie, ck));
	EXPECT_STATUS(r, 1);
	EXPECT_NE(NULL, strstr(r->err, "no attestation round yet"))
		TH_LOG("stderr: %s", r->err);
	katt_expect_state(_metadata, pr[2].g, KTLS_ATTEST_STATE_ARMED, 0);

	/* the socket is gone */
	katt_open_pair(_metadata, &pr[3], &v4);
	gone = pr[3].cookie;
	ASSERT_EQ(0, setsockopt(pr[3].g, SOL_SOCKET, SO_LINGER, &lg,
				sizeof(lg)));
	katt_pair_close(&pr[3]);
	ASSERT_EQ(0, wait_gone(self->nl, gone));
	RUN(r, "pass", u64s(gone, ck));
	EXPECT_STATUS(r, 1);
	EXPECT_NE(NULL, strstr(r->err, "no armed socket with this cookie"))
		TH_LOG("stderr: %s", r->err);
	RUN(r, "pass", ck, "round", "1");
	EXPECT_STATUS(r, 1);
	EXPECT_NE(NULL, strstr(r->err, "no such socket"))
		TH_LOG("stderr: %s", r->err);
	RUN(r, "revoke", ck);
	EXPECT_STATUS(r, 1);
	EXPECT_NE(NULL, strstr(r->err, "no such socket"))
		TH_LOG("stderr: %s", r->err);
	free(r);
}

/* Anyone may look; only an administrator gives verdicts. */
TEST_F(cli, unprivileged)
{
	struct cli_run *r = calloc(1, sizeof(*r));
	struct katt_pair *a = &self->pr[0];
	json_t *j;
	char ck[24];

	READY();
	ASSERT_NE(NULL, r);
	katt_open_pair(_metadata, a, &v4);
	RUN_NOBODY(r, "-j", "show");
	EXPECT_STATUS(r, 0);
	j = json_loads(r->out, 0, NULL);
	ASSERT_NE(NULL, j);
	expect_sock(_metadata, find_cookie(j, a->cookie), a, NULL);
	json_decref(j);

	RUN_NOBODY(r, "pass", u64s(a->cookie, ck));
	EXPECT_STATUS(r, 1);
	EXPECT_NE(NULL, strstr(r->err, "not permitted"))
		TH_LOG("stderr: %s", r->err);
	EXPECT_NE(NULL, strstr(r->err, "(kernel: only the registered agent or CAP_NET_ADMIN may give verdicts)"))
		TH_LOG("stderr: %s", r->err);
	RUN_NOBODY(r, "revoke", ck);
	EXPECT_STATUS(r, 1);
	RUN_NOBODY(r, "reattest", ck);
	EXPECT_STATUS(r, 1);
	EXPECT_NE(NULL, strstr(r->err, "needs CAP_NET_ADMIN"))
		TH_LOG("stderr: %s", r->err);
	katt_expect_state(_metadata, a->g, KTLS_ATTEST_STATE_PENDING, 1);
	free(r);
}

/* --- monitor ----------------------------------------------------------------- */

/* A monitor running in the background, its stdout read line by line. */
struct monitor {
	pid_t pid;
	int out;
	size_t len;
	char buf[OUT_MAX];
};

static int monitor_start(struct monitor *m, const char *const *args)
{
	char *argv[16];
	int po[2], i;

	argv[0] = (char *)cli_path();
	for (i = 0; args[i] && i < 14; i++)
		argv[i + 1] = (char *)args[i];
	argv[i + 1] = NULL;
	m->len = 0;
	if (pipe2(po, O_CLOEXEC))
		return -errno;
	m->pid = fork();
	if (m->pid < 0)
		return -errno;
	if (!m->pid)
		cli_exec(argv, false, po[1], 2);
	close(po[1]);
	m->out = po[0];
	return 0;
}

/* The next line (without its newline) within @ms; 0 or -ETIMEDOUT. */
static int monitor_line(struct monitor *m, char *line, size_t size, int ms)
{
	long long deadline = katt_now_ms() + ms;
	char *nl;
	ssize_t n;

	for (;;) {
		nl = memchr(m->buf, '\n', m->len);
		if (nl) {
			size_t l = nl - m->buf;

			snprintf(line, size, "%.*s", (int)l, m->buf);
			memmove(m->buf, nl + 1, m->len - l - 1);
			m->len -= l + 1;
			return 0;
		}
		struct pollfd pfd = { .fd = m->out, .events = POLLIN };
		long long left = deadline - katt_now_ms();

		if (left <= 0 || poll(&pfd, 1, left) <= 0)
			return -ETIMEDOUT;
		n = read(m->out, m->buf + m->len, sizeof(m->buf) - 1 - m->len);
		if (n <= 0)
			return -EPIPE;
		m->len += n;
	}
}

/* Sends @sig; the exit status if it exits within WAKE_MS, else -1. */
static int monitor_stop(struct monitor *m, int sig)
{
	long long deadline = katt_now_ms() + WAKE_MS;
	int status;

	kill(m->pid, sig);
	while (waitpid(m->pid, &status, WNOHANG) == 0) {
		if (katt_now_ms() > deadline) {
			kill(m->pid, SIGKILL);
			waitpid(m->pid, &status, 0);
			close(m->out);
			return -1;
		}
		usleep(10000);
	}
	close(m->out);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/*
 * Waits until @n netlink sockets of this namespace are in the monitor
 * group: /proc/net/netlink shows each socket's first 32 groups.  Only the
 * tools started by the test join it, so then they are all listening.
 */
static void monitors_joined(struct __test_metadata *_metadata, int n)
{
	long long deadline = katt_now_ms() + WAKE_MS;
	struct nl_sock *sk = nl_socket_alloc();
	unsigned int groups;
	int grp, proto, count;
	char line[512];
	FILE *f;

	ASSERT_NE(NULL, sk);
	ASSERT_EQ(0, genl_connect(sk));
	grp = genl_ctrl_resolve_grp(sk, KTLS_ATTEST_FAMILY_NAME,
				    KTLS_ATTEST_MCGRP_MONITOR);
	nl_socket_free(sk);
	ASSERT_GT(grp, 0);
	ASSERT_LE(grp, 32) TH_LOG("group id %d: /proc/net/netlink shows 32",
				  grp);
	for (;;) {
		f = fopen("/proc/net/netlink", "r");
		ASSERT_NE(NULL, f);
		count = 0;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "%*s %d %*d %x", &proto, &groups) == 2 &&
			    proto == NETLINK_GENERIC &&
			    (groups & (1U << (grp - 1))))
				count++;
		fclose(f);
		if (count >= n)
			return;
		ASSERT_LT(katt_now_ms(), deadline)
			TH_LOG("%d of %d monitors joined the group", count, n);
		usleep(10000);
	}
}

/* The next line is the change of @cookie to @state in @round for @reason. */
static void expect_text_event(struct __test_metadata *_metadata,
			      struct monitor *m, uint64_t cookie,
			      const char *state, uint32_t round,
			      const char *reason)
{
	char line[4096], want[256], ck[24];
	int ret, y, mo, d, h, mi, sec, ms, n = 0;

	ret = monitor_line(m, line, sizeof(line), WAKE_MS);
	ASSERT_EQ(0, ret) TH_LOG("no event %s: %s", state, strerror(-ret));
	snprintf(want, sizeof(want), "cookie %s state %s round %u reason %s",
		 u64s(cookie, ck), state, round, reason);
	/* "YYYY-MM-DD HH:MM:SS.mmm " then the fields */
	ASSERT_EQ(7, sscanf(line, "%4d-%2d-%2d %2d:%2d:%2d.%3d %n", &y, &mo,
			    &d, &h, &mi, &sec, &ms, &n)) TH_LOG("line: %s",
								line);
	EXPECT_EQ(24, n) TH_LOG("line: %s", line);
	EXPECT_STREQ(want, line + n) TH_LOG("line: %s", line);
}

static void expect_json_event(struct __test_metadata *_metadata,
			      struct monitor *m, uint64_t cookie,
			      const char *state, uint32_t round,
			      const char *reason, long long after_ns)
{
	char line[4096];
	json_t *j;
	int ret;

	ret = monitor_line(m, line, sizeof(line), WAKE_MS);
	ASSERT_EQ(0, ret) TH_LOG("no event %s: %s", state, strerror(-ret));
	j = json_loads(line, 0, NULL);
	ASSERT_NE(NULL, j) TH_LOG("not JSON: %s", line);
	EXPECT_EQ(5, json_object_size(j)) TH_LOG("line: %s", line);
	EXPECT_EQ(cookie, (uint64_t)jint(j, "cookie"));
	EXPECT_STREQ(state, jstr(j, "state"));
	EXPECT_EQ(round, jint(j, "round"));
	EXPECT_STREQ(reason, jstr(j, "reason"));
	EXPECT_LE(after_ns, jint(j, "time"));
	EXPECT_GE(katt_realtime_ns(), jint(j, "time"));
	json_decref(j);
}

TEST_F(cli, monitor)
{
	struct monitor *m = calloc(1, sizeof(*m));
	struct katt_pair_opts armed = v4;
	struct katt_pair *a = &self->pr[1];
	char line[256], ck[24];

	READY();
	ASSERT_NE(NULL, m);
	armed.no_keys = true;
	ASSERT_EQ(0, monitor_start(m, CLI_ARGS("monitor")));
	monitors_joined(_metadata, 1);

	katt_open_pair(_metadata, a, &armed);
	ASSERT_EQ(0, katt_pair_keys(a));
	expect_text_event(_metadata, m, a->cookie, "pending", 1, "none");
	katt_verdict(_metadata, self->nl, a, PASS, NULL);
	expect_text_event(_metadata, m, a->cookie, "passed", 1, "operator");
	ASSERT_EQ(0, katt_nl_reattest(self->nl, a->cookie));
	expect_text_event(_metadata, m, a->cookie, "reattesting", 2, "none");
	katt_verdict(_metadata, self->nl, a, FAIL, NULL);
	expect_text_event(_metadata, m, a->cookie, "revoked", 2, "operator");
	katt_open_pair(_metadata, &self->pr[2], &v4);
	expect_text_event(_metadata, m, self->pr[2].cookie, "pending", 1,
			  "none");
	/* changes made through the tool itself */
	{
		struct cli_run *r = calloc(1, sizeof(*r));

		ASSERT_NE(NULL, r);
		RUN(r, "fail", u64s(self->pr[2].cookie, ck), "no");
		EXPECT_STATUS(r, 0);
		free(r);
	}
	expect_text_event(_metadata, m, self->pr[2].cookie, "failed", 1,
			  "operator");
	EXPECT_EQ(-ETIMEDOUT, monitor_line(m, line, sizeof(line), HOLD_MS));
	EXPECT_EQ(0, monitor_stop(m, SIGINT));
	free(m);
}

TEST_F(cli, monitor_json_filter)
{
	struct monitor *m = calloc(1, sizeof(*m)), *f = calloc(1, sizeof(*f));
	struct katt_pair *a = &self->pr[1], *b = &self->pr[2];
	char line[256], ck[24];
	long long t0;

	READY();
	ASSERT_TRUE(m && f);
	ASSERT_EQ(0, monitor_start(m, CLI_ARGS("-j", "monitor")));
	monitors_joined(_metadata, 1);

	t0 = katt_realtime_ns();
	katt_open_pair(_metadata, a, &v4);
	expect_json_event(_metadata, m, a->cookie, "pending", 1, "none", t0);
	katt_open_pair(_metadata, b, &v4);
	expect_json_event(_metadata, m, b->cookie, "pending", 1, "none", t0);

	/* a second monitor for b's revocation only */
	ASSERT_EQ(0, monitor_start(f, CLI_ARGS("-j", "monitor", "cookie",
					       u64s(b->cookie, ck), "state",
					       "revoked")));
	monitors_joined(_metadata, 2);

	katt_verdict(_metadata, self->nl, a, PASS, NULL);
	expect_json_event(_metadata, m, a->cookie, "passed", 1, "operator",
			  t0);
	katt_verdict(_metadata, self->nl, b, PASS, NULL);
	expect_json_event(_metadata, m, b->cookie, "passed", 1, "operator",
			  t0);
	katt_verdict(_metadata, self->nl, b, REVOKE, NULL);
	expect_json_event(_metadata, m, b->cookie, "revoked", 1, "operator",
			  t0);
	expect_json_event(_metadata, f, b->cookie, "revoked", 1, "operator",
			  t0);
	EXPECT_EQ(-ETIMEDOUT, monitor_line(f, line, sizeof(line), HOLD_MS));
	EXPECT_EQ(-ETIMEDOUT, monitor_line(m, line, sizeof(line), HOLD_MS));

	EXPECT_EQ(0, monitor_stop(m, SIGTERM));
	EXPECT_EQ(0, monitor_stop(f, SIGINT));
	free(m);
	free(f);
}

TEST_HARNESS_MAIN
