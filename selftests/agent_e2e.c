// SPDX-License-Identifier: GPL-2.0
/*
 * ktls-attestd end to end, in the test VM: two hosts, each with its own
 * TPM and its own agent, attesting inside real kTLS connections made with
 * libktls-attest, and a hostile attester (katt-evil) whose every trick must
 * fail closed with its reason.
 *
 *   +------------- ns[0]: host A -------------+       +------------- ns[1]: host B -------------+
 *   | ktls-attestd A  (or katt-evil)          |       |                        ktls-attestd B   |
 *   |   TPM: the VM's /dev/tpmrm0 (tpm-tis)   +-veth--+   TPM: swtpm behind the vTPM proxy,   |
 *   | the client sockets (this test)          |       |   /dev/tpmrmN  (lib/vtpm.h)           |
 *   | 10.99.0.1                               |       | the server sockets (this test) 10.99.0.2|
 *   +-----------------------------------------+       +-----------------------------------------+
 *
 * Made once for the suite, before the first test (the VM runs under TCG:
 * every exec and every TPM key costs): the second TPM, the certificates
 * (mutual TLS, both verified: the policies' "peers": "verified"), each
 * host's configuration and state directory in the guest's /tmp (or
 * $KATT_E2E_DIR; KATT_E2E_KEEP=1 keeps them), and each
 * host's enrolment (ktls-attestd enroll -o: the AK's Name and the current
 * PCR values) written into the other host's policy, which also pins
 * katt-evil's unrestricted forging key by Name, so that the appraisal's
 * restricted-key check itself is reached.  The policies quote sha256 PCRs
 * 0, 1, 7 and 16 (16, the debug PCR, is the one a test extends and then
 * resets).
 *
 * Tests: data held until the appraisal, then passed, the states PENDING
 * then PASSED (KTLS_ATTEST_STATUS and ktls-attest -j show), no byte before
 * the pass; mutual attestation; re-attestation from either end, then a
 * PCR extended on the attester failing the next round with a reason that
 * names it at both ends; many connections at once (KATT_E2E_CONNS, default
 * 100), each passed with its own verdict; a clock rollback (counters
 * raised in the RP's state directory, and a third TPM restored from a
 * state snapshot); peers that are not ktls-attest at
 * all (openssl s_client, s_server): the deadline; agents SIGKILLed mid-round
 * on either side: the deadline, then new agents pass new rounds.  And every
 * attack of katt-evil's (selftests/katt_evil.c), with the RP's kernel
 * status and the Verdict or Error katt-evil received both saying why.
 *
 * Needs root, the module, swtpm, tpm_vtpm_proxy, tpm2-tools and openssl;
 * without the module or ktls-attestd every test SKIPs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <linux/ktls_attest.h>
#include <openssl/ssl.h>

#include "kselftest_harness.h"
#include "ktls-attest.h"
#include "lib/katt_certs.h"
#include "lib/katt_netns.h"
#include "lib/katt_peer.h"
#include "lib/katt_test.h"
#include "lib/vtpm.h"

#define PORT		4433
#define SERVER_IP	"10.99.0.2"
#define PCRS		"sha256:0,1,7,16"
#define START_MS	30000	/* an agent's start: exec, TPM, AK */
#define ROUND_MS	20000	/* one connection's round deadline */
#define SHORT_MS	4000	/* a round that is to time out */

#define ATTESTER	KTLS_ATTEST_ROLE_ATTESTER
#define RP		KTLS_ATTEST_ROLE_RELYING_PARTY
#define BOTH		(ATTESTER | RP)

/* --- the world: made once, before the tests --------------------------------- */

/* the repository's path is at most this long */
#define ROOT_MAX	1024

struct host {
	char dir[ROOT_MAX + 64];
	char config[ROOT_MAX + 96];
	char state[ROOT_MAX + 96];
	char policy[ROOT_MAX + 96];
	char tcti[64];
	char ak[2 * 68 + 1];		/* its AK's Name, hex */
};

static struct world {
	const char *skip;		/* why every test skips; NULL: none */
	char root[ROOT_MAX];		/* the repository */
	char dir[ROOT_MAX + 32];	/* /tmp/katt-e2e.XXXXXX */
	char daemon[ROOT_MAX + 32], evil[ROOT_MAX + 32], cli[ROOT_MAX + 32];
	pid_t owner;
	struct vtpm vtpm;
	bool vtpm_ok;			/* the second TPM runs (W.skip or not) */
	struct host h[2];		/* A: ns[0], /dev/tpmrm0; B: ns[1], the vTPM */
	struct katt_ident ca, srv, cli_id;
	char forger[2 * 68 + 1];	/* katt-evil's forging key on A's TPM */
} W;

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return st == -1 || !WIFEXITED(st) ? -1 : WEXITSTATUS(st);
}

/* The first line @cmd prints, into @out. */
static int sh_line(char *out, size_t len, const char *cmd)
{
	FILE *f = popen(cmd, "r");
	int st;

	out[0] = '\0';
	if (!f)
		return -1;
	if (!fgets(out, len, f))
		out[0] = '\0';
	st = pclose(f);
	out[strcspn(out, "\n")] = '\0';
	return st == 0 && out[0] ? 0 : -1;
}

static int write_json(const char *path, json_t *j)
{
	int ret = json_dump_file(j, path, JSON_INDENT(2));

	json_decref(j);
	return ret ? -1 : 0;
}

/* config.json of host @i, with the state directory @state, policy @policy. */
static int write_config(const struct host *h, const char *path,
			const char *state, const char *policy)
{
	return write_json(path, json_pack("{s:s, s:s, s:s, s:s, s:[], s:s}",
					  "tcti", h->tcti, "state_dir", state,
					  "policy", policy, "ak_type", "ecc",
					  "event_logs", "log", "stderr"));
}

/*
 * Host @i's policy: it attests with PCRS to verified peers, and as RP
 * takes what the other host's enrolment says (its AK, its PCR values),
 * plus the forging key pinned by mistake.
 */
static int write_policy(int i)
{
	char path[PATH_MAX + 32];
	json_error_t jerr;
	json_t *en, *rp, *aks, *pol;

	snprintf(path, sizeof(path), "%s/enrolled.json", W.h[!i].dir);
	en = json_load_file(path, 0, &jerr);
	if (!en) {
		fprintf(stderr, "# %s: %s\n", path, jerr.text);
		return -1;
	}
	rp = json_object_get(en, "relying_party");
	aks = json_object_get(rp, "aks");
	if (!json_is_array(aks) ||
	    json_array_append_new(aks, json_pack("{s:s}", "name", W.forger))) {
		fprintf(stderr, "# %s: no relying_party.aks\n", path);
		json_decref(en);
		return -1;
	}
	pol = json_pack("{s:{s:s, s:s}, s:O}", "attester", "peers", "verified",
			"pcrs", PCRS, "relying_party", rp);
	json_decref(en);
	return write_json(W.h[i].policy, pol);
}

/* The AK Name of an enrolment file, from relying_party.aks[0].name. */
static int enrolled_ak(int i)
{
	char path[PATH_MAX + 32];
	json_t *en, *name;
	int ret = -1;

	snprintf(path, sizeof(path), "%s/enrolled.json", W.h[i].dir);
	en = json_load_file(path, 0, NULL);
	name = json_array_get(json_object_get(json_object_get(en, "relying_party"),
					      "aks"), 0);
	name = json_object_get(name, "name");
	if (json_is_string(name) && json_string_length(name) < sizeof(W.h[i].ak)) {
		strcpy(W.h[i].ak, json_string_value(name));
		ret = 0;
	}
	json_decref(en);
	return ret;
}

static const char *world_make_(void)
{
	static char why[ROOT_MAX + 128];
	char *slash, path[2 * ROOT_MAX];
	ssize_t n;
	int i;

	n = readlink("/proc/self/exe", W.root, sizeof(W.root) - 64);
	if (n <= 0)
		return "no /proc/self/exe";
	W.root[n] = '\0';
	/* build/selftests/agent_e2e */
	for (i = 0; i < 3; i++) {
		slash = strrchr(W.root, '/');
		if (!slash)
			return "where is the repository?";
		*slash = '\0';
	}
	snprintf(W.daemon, sizeof(W.daemon), "%s/build/ktls-attestd", W.root);
	snprintf(W.evil, sizeof(W.evil), "%s/build/selftests/katt-evil", W.root);
	snprintf(W.cli, sizeof(W.cli), "%s/build/ktls-attest", W.root);
	if (!katt_module_loaded())
		return "module " KTLS_ATTEST_MODULE " not loaded";
	if (geteuid())
		return "needs root";
	/* the guest's build/ is read-only: its own /tmp, or $KATT_E2E_DIR */
	snprintf(W.dir, sizeof(W.dir), "%s/katt-e2e.XXXXXX",
		 getenv("KATT_E2E_DIR") ?: "/tmp");
	if (!mkdtemp(W.dir))
		return "mkdtemp failed (KATT_E2E_DIR?)";
	W.owner = getpid();

	/* the second TPM */
	snprintf(path, sizeof(path), "%s/vtpm", W.dir);
	if (vtpm_start(&W.vtpm, path))
		return "the second TPM (swtpm behind the vTPM proxy) did not start";
	W.vtpm_ok = true;
	if (access(W.daemon, X_OK))
		return "build/ktls-attestd is not built";
	strcpy(W.h[0].tcti, "device:/dev/tpmrm0");
	snprintf(W.h[1].tcti, sizeof(W.h[1].tcti), "%s", W.vtpm.tcti);

	/* certificates: mutual TLS, both ends verified */
	if (katt_ident_make(&W.ca, "ktls-attest e2e CA", NULL) ||
	    katt_ident_make(&W.srv, "host-b", &W.ca) ||
	    katt_ident_make(&W.cli_id, "host-a", &W.ca) ||
	    katt_ident_write(&W.ca, W.dir, "ca") ||
	    katt_ident_write(&W.srv, W.dir, "server") ||
	    katt_ident_write(&W.cli_id, W.dir, "client"))
		return "certificates";

	snprintf(path, sizeof(path), "'%s' -T device:/dev/tpmrm0 --forger-name",
		 W.evil);
	if (sh_line(W.forger, sizeof(W.forger), path))
		return "katt-evil --forger-name failed";

	/* each host: config, a first policy, its enrolment for the other */
	for (i = 0; i < 2; i++) {
		struct host *h = &W.h[i];

		/*
		 * PCR 16, which a test extends and resets afterwards, starts
		 * from its reset value here too, whatever the suites before
		 * this one in the same boot did with the VM's TPM (tpm_basic
		 * extends it).
		 */
		if (sh("tpm2_pcrreset -T '%s' 16 >/dev/null 2>&1", h->tcti))
			return "tpm2_pcrreset 16 failed";

		snprintf(h->dir, sizeof(h->dir), "%s/%c", W.dir, 'A' + i);
		snprintf(h->config, sizeof(h->config), "%s/config.json", h->dir);
		snprintf(h->state, sizeof(h->state), "%s/state", h->dir);
		snprintf(h->policy, sizeof(h->policy), "%s/policy.json", h->dir);
		if (mkdir(h->dir, 0700) || mkdir(h->state, 0700) ||
		    write_config(h, h->config, h->state, h->policy) ||
		    write_json(h->policy, json_pack("{s:{s:s}}", "attester",
						    "pcrs", PCRS)))
			return "host directories";
		if (sh("'%s' enroll -c '%s' --pcrs " PCRS " -o '%s/enrolled.json' > '%s/enroll.out' 2>&1",
		       W.daemon, h->config, h->dir, h->dir)) {
			snprintf(why, sizeof(why), "ktls-attestd enroll failed, see %s/enroll.out",
				 h->dir);
			return why;
		}
		if (enrolled_ak(i))
			return "no AK Name in the enrolment";
	}
	for (i = 0; i < 2; i++)
		if (write_policy(i))
			return "policies";
	return NULL;
}

static void __attribute__((constructor)) world_make(void)
{
	signal(SIGPIPE, SIG_IGN);
	W.skip = world_make_();
	if (W.skip && W.owner)
		fprintf(stderr, "# agent_e2e: %s (files in %s)\n", W.skip, W.dir);
}

static void __attribute__((destructor)) world_drop(void)
{
	if (getpid() != W.owner)
		return;
	vtpm_stop(&W.vtpm);
	katt_ident_free(&W.ca);
	katt_ident_free(&W.srv);
	katt_ident_free(&W.cli_id);
	/* kept when KATT_E2E_KEEP is set, for a person to look at */
	if (W.dir[0] && !getenv("KATT_E2E_KEEP"))
		sh("rm -rf '%s'", W.dir);
}

/* --- one test's environment --------------------------------------------------- */

struct daemon {
	struct katt_peer p;
	char err[PATH_MAX + 32];
	unsigned int starts;
};

struct evil {
	struct katt_peer p;
	char out[65536];	/* everything it printed */
	size_t len;
};

struct env {
	bool skip;
	struct katt_netns net;
	struct daemon d[2];
	struct evil ev;
	struct katt_peer plain;	/* openssl s_client / s_server */
	SSL_CTX *cctx, *sctx;
	int lfd;
	bool pcr16_dirty;	/* PCR 16 of A's TPM to reset */
	char scratch[ROOT_MAX + 64];	/* a directory of this test */
};

struct conn {
	int cfd, sfd;
	SSL *c, *s;
	struct ktls_attest *kc, *ks;
};

static SSL_CTX *tls_ctx(bool server, bool mtls)
{
	SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() :
				   TLS_client_method());
	const struct katt_ident *id = server ? &W.srv : &W.cli_id;

	if (!ctx)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	if (server || mtls) {
		SSL_CTX_use_certificate(ctx, id->cert);
		SSL_CTX_use_PrivateKey(ctx, id->key);
	}
	if (!server || mtls) {
		X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), W.ca.cert);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
				   (server ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
				   NULL);
	}
	return ctx;
}

static void env_setup(struct __test_metadata *_metadata, struct env *e,
		      bool mtls)
{
	static unsigned int seq;
	int i;

	memset(e, 0, sizeof(*e));
	e->net = (struct katt_netns)KATT_NETNS_INIT;
	e->lfd = -1;
	e->plain = (struct katt_peer)KATT_PEER_INIT;
	e->ev.p = (struct katt_peer)KATT_PEER_INIT;
	for (i = 0; i < 2; i++)
		e->d[i].p = (struct katt_peer)KATT_PEER_INIT;
	if (W.skip) {
		e->skip = true;
		SKIP(return, "%s", W.skip);
	}
	ASSERT_EQ(0, katt_netns_pair(&e->net));
	e->cctx = tls_ctx(false, mtls);
	e->sctx = tls_ctx(true, mtls);
	ASSERT_TRUE(e->cctx && e->sctx);
	snprintf(e->scratch, sizeof(e->scratch), "%s/t%d.%u", W.dir, getpid(),
		 seq++);
	ASSERT_EQ(0, mkdir(e->scratch, 0700));
}

static void env_teardown(struct env *e)
{
	int i;

	katt_peer_kill(&e->plain);
	katt_peer_kill(&e->ev.p);
	for (i = 0; i < 2; i++)
		katt_peer_kill(&e->d[i].p);
	if (e->lfd >= 0)
		close(e->lfd);
	SSL_CTX_free(e->cctx);
	SSL_CTX_free(e->sctx);
	katt_netns_close(&e->net);
	if (e->pcr16_dirty &&
	    sh("tpm2_pcrreset -T '%s' 16 >/dev/null 2>&1", W.h[0].tcti))
		fprintf(stderr, "# PCR 16 of host A could not be reset\n");
}

/* --- agents --------------------------------------------------------------------- */

static const char *daemon_log(struct daemon *d)
{
	static char buf[16384];

	return katt_peer_stderr(&d->p, buf, sizeof(buf));
}

/*
 * Until @p's stderr says "ready", it exits (it is not reaped: katt_peer_*
 * does that) or @timeout_ms pass.  0, -ECHILD or -ETIMEDOUT.
 */
static int wait_ready(struct katt_peer *p, int timeout_ms)
{
	long long end = katt_now_ms() + timeout_ms;
	siginfo_t si;

	do {
		char buf[4096];

		if (strstr(katt_peer_stderr(p, buf, sizeof(buf)), ": ready: "))
			return 0;
		memset(&si, 0, sizeof(si));
		if (!waitid(P_PID, p->pid, &si, WEXITED | WNOHANG | WNOWAIT) &&
		    si.si_pid == p->pid)
			return -ECHILD;
		poll(NULL, 0, 20);
	} while (katt_now_ms() < end);
	return -ETIMEDOUT;
}

/* ktls-attestd of host @i in ns[@i], with @config (NULL: the host's). */
static void daemon_start_ak(struct __test_metadata *_metadata, struct env *e,
			    int i, const char *config, const char *ak)
{
	struct daemon *d = &e->d[i];
	char *argv[] = { W.daemon, "-c", (char *)(config ? config : W.h[i].config),
			 /* KATT_E2E_VERBOSE=1: -v, =2: -vv */
			 getenv("KATT_E2E_VERBOSE") ?
			 (atoi(getenv("KATT_E2E_VERBOSE")) > 1 ? "-vv" : "-v") :
			 NULL, NULL };
	int ret;

	/* a file of its own: the last run's "ready" is not this one's */
	snprintf(d->err, sizeof(d->err), "%s/ktls-attestd-%c.%u.err",
		 e->scratch, 'A' + i, d->starts++);
	ASSERT_EQ(0, katt_peer_start_in(&d->p, argv, NULL, d->err,
					e->net.ns[i]));
	ret = wait_ready(&d->p, START_MS);
	ASSERT_EQ(0, ret) TH_LOG("ktls-attestd %c not ready: %s", 'A' + i,
				 daemon_log(d));
	EXPECT_NE(NULL, strstr(daemon_log(d), ak))
		TH_LOG("the ready line does not name AK %s: %s", ak,
		       daemon_log(d));
}

static void daemon_start(struct __test_metadata *_metadata, struct env *e,
			 int i, const char *config)
{
	daemon_start_ak(_metadata, e, i, config, W.h[i].ak);
}

/* katt-evil in ns[0] on host A's TPM and AK, in @mode, with @extra args. */
static void evil_start(struct __test_metadata *_metadata, struct env *e,
		       const char *mode, const char *const *extra)
{
	char err[PATH_MAX + 32], *argv[16];
	long long end = katt_now_ms() + START_MS;
	int n = 0;

	argv[n++] = W.evil;
	argv[n++] = "-T";
	argv[n++] = W.h[0].tcti;
	argv[n++] = "-s";
	argv[n++] = W.h[0].state;
	while (extra && *extra && n < 13)
		argv[n++] = (char *)*extra++;
	argv[n++] = (char *)mode;
	argv[n] = NULL;
	snprintf(err, sizeof(err), "%s/katt-evil.err", e->scratch);
	ASSERT_EQ(0, katt_peer_start_in(&e->ev.p, argv, NULL, err, e->net.ns[0]));
	while (!strstr(e->ev.out, "ready ") && katt_now_ms() < end) {
		struct pollfd pfd = { .fd = e->ev.p.out, .events = POLLIN };
		ssize_t r;

		if (poll(&pfd, 1, 100) != 1)
			continue;
		r = read(e->ev.p.out, e->ev.out + e->ev.len,
			 sizeof(e->ev.out) - 1 - e->ev.len);
		if (r <= 0)
			break;
		e->ev.len += r;
		e->ev.out[e->ev.len] = '\0';
	}
	ASSERT_NE(NULL, strstr(e->ev.out, "ready "))
		TH_LOG("katt-evil %s not ready: %s", mode,
		       katt_peer_stderr(&e->ev.p, err, sizeof(err)));
}

/*
 * The line katt-evil printed that starts with @what and names @cookie,
 * waiting up to @timeout_ms; copied into @line.  0 or -ETIMEDOUT.
 */
static int evil_line(struct evil *ev, const char *what, uint64_t cookie,
		     char *line, size_t len, int timeout_ms)
{
	long long end = katt_now_ms() + timeout_ms;
	char key[96];

	snprintf(key, sizeof(key), "%s cookie=%llu ", what,
		 (unsigned long long)cookie);
	for (;;) {
		char *p = ev->out;
		struct pollfd pfd = { .fd = ev->p.out, .events = POLLIN };
		int left;
		ssize_t r;

		while ((p = strstr(p, key))) {
			if (p == ev->out || p[-1] == '\n') {
				size_t n = strcspn(p, "\n");

				if (p[n] == '\n') {
					snprintf(line, len, "%.*s", (int)n, p);
					return 0;
				}
			}
			p++;
		}
		left = end - katt_now_ms();
		if (left <= 0 || poll(&pfd, 1, left) != 1)
			return -ETIMEDOUT;
		r = read(ev->p.out, ev->out + ev->len,
			 sizeof(ev->out) - 1 - ev->len);
		if (r <= 0)
			return -ETIMEDOUT;
		ev->len += r;
		ev->out[ev->len] = '\0';
	}
}

/* --- connections ------------------------------------------------------------------ */

/* The listener of host B, armed with @role and @timeout_ms. */
static void listen_b(struct __test_metadata *_metadata, struct env *e,
		     uint32_t role, uint32_t timeout_ms)
{
	struct sockaddr_storage ss;
	socklen_t sl = katt_netns_addr(1, AF_INET, PORT, &ss);
	int one = 1;

	ASSERT_EQ(0, katt_netns_enter(&e->net, 1));
	e->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_EQ(0, katt_netns_enter(&e->net, -1));
	ASSERT_LE(0, e->lfd);
	setsockopt(e->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	ASSERT_EQ(0, bind(e->lfd, (struct sockaddr *)&ss, sl));
	ASSERT_EQ(0, ktls_attest_arm(e->lfd, role, timeout_ms, 0))
		TH_LOG("%s", ktls_attest_strerror(NULL));
	ASSERT_EQ(0, listen(e->lfd, 1024));
}

/* A TCP connection from ns[0] to the listener, accepted; non-blocking. */
static void tcp_pair(struct __test_metadata *_metadata, struct env *e,
		     struct conn *c)
{
	struct sockaddr_storage ss;
	socklen_t sl = katt_netns_addr(1, AF_INET, PORT, &ss);

	c->sfd = -1;
	ASSERT_EQ(0, katt_netns_enter(&e->net, 0));
	c->cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_EQ(0, katt_netns_enter(&e->net, -1));
	ASSERT_LE(0, c->cfd);
	ASSERT_EQ(0, connect(c->cfd, (struct sockaddr *)&ss, sl))
		TH_LOG("connect: %s", strerror(errno));
	c->sfd = accept4(e->lfd, NULL, NULL, SOCK_CLOEXEC);
	ASSERT_LE(0, c->sfd);
	ASSERT_EQ(0, katt_set_nonblock(c->cfd, true));
	ASSERT_EQ(0, katt_set_nonblock(c->sfd, true));
}

/*
 * A bound connection, client in ns[0] with @crole, server through the
 * listener; TLS handshake done, not moved.
 */
static void conn_open(struct __test_metadata *_metadata, struct env *e,
		      struct conn *c, uint32_t crole, uint32_t timeout_ms)
{
	struct ktls_attest_opts co = {
		.mode = KTLS_ATTEST_MODE_BOUND, .role = crole,
		.timeout_ms = timeout_ms,
	};
	struct ktls_attest_opts so = { .mode = KTLS_ATTEST_MODE_BOUND };
	long long end = katt_now_ms() + 30000;
	int rc = 0, rs = 0;

	memset(c, 0, sizeof(*c));
	c->cfd = c->sfd = -1;
	tcp_pair(_metadata, e, c);
	c->c = SSL_new(e->cctx);
	c->s = SSL_new(e->sctx);
	ASSERT_TRUE(c->c && c->s);
	SSL_set_fd(c->c, c->cfd);
	SSL_set_fd(c->s, c->sfd);
	SSL_set_connect_state(c->c);
	SSL_set_accept_state(c->s);
	ASSERT_EQ(0, ktls_attest_prepare(c->c, &co, &c->kc))
		TH_LOG("%s", ktls_attest_strerror(NULL));
	ASSERT_EQ(0, ktls_attest_prepare(c->s, &so, &c->ks))
		TH_LOG("%s", ktls_attest_strerror(NULL));
	while ((rc != 1 || rs != 1) && katt_now_ms() < end) {
		if (rc != 1)
			rc = SSL_do_handshake(c->c);
		if (rs != 1)
			rs = SSL_do_handshake(c->s);
		if (rc != 1 || rs != 1)
			poll(NULL, 0, 1);
	}
	ASSERT_EQ(1, rc);
	ASSERT_EQ(1, rs);
}

static void conn_move(struct __test_metadata *_metadata, struct conn *c)
{
	ASSERT_EQ(0, ktls_attest_move(c->kc)) TH_LOG("%s", ktls_attest_strerror(c->kc));
	ASSERT_EQ(0, ktls_attest_move(c->ks)) TH_LOG("%s", ktls_attest_strerror(c->ks));
}

static void conn_close(struct conn *c)
{
	SSL_free(c->c);
	SSL_free(c->s);
	if (c->cfd >= 0)
		close(c->cfd);
	if (c->sfd >= 0)
		close(c->sfd);
	memset(c, 0, sizeof(*c));
	c->cfd = c->sfd = -1;
}

static struct ktls_attest_status status_of(struct ktls_attest *ka)
{
	struct ktls_attest_status st;

	memset(&st, 0, sizeof(st));
	if (ktls_attest_status(ka, &st))
		st.state = 0;
	return st;
}

/* Until @ka's round @round ends in PASSED, FAILED or REVOKED. */
static struct ktls_attest_status wait_end(struct ktls_attest *ka,
					  uint32_t round, int timeout_ms)
{
	long long end = katt_now_ms() + timeout_ms;
	struct ktls_attest_status st;

	for (;;) {
		st = status_of(ka);
		if (st.round >= round &&
		    (st.state == KTLS_ATTEST_STATE_PASSED ||
		     st.state == KTLS_ATTEST_STATE_FAILED ||
		     st.state == KTLS_ATTEST_STATE_REVOKED))
			return st;
		if (katt_now_ms() >= end)
			return st;
		ktls_attest_wait(ka, 50);
		poll(NULL, 0, 5);
	}
}

#define EXPECT_STATE(st, want_state, want_reason)				\
	do {									\
		EXPECT_EQ(want_state, (st).state)				\
			TH_LOG("state %s, reason %u, \"%s\"",			\
			       ktls_attest_state_name((st).state),		\
			       (st).reason, (st).reason_text);			\
		EXPECT_EQ(want_reason, (st).reason)				\
			TH_LOG("reason %u, \"%s\"", (st).reason,		\
			       (st).reason_text);				\
	} while (0)

/* `ktls-attest -j show` in ns[@i]: the "state" and "reason_text" of @cookie. */
static int cli_show(struct env *e, int i, uint64_t cookie, char *state,
		    char *text, size_t len)
{
	char cmd[PATH_MAX + 64], buf[65536];
	json_t *arr, *s;
	size_t n = 0, k;
	FILE *f;
	int ret = -ENOENT;

	snprintf(cmd, sizeof(cmd), "'%s' -j show", W.cli);
	if (katt_netns_enter(&e->net, i))
		return -EIO;
	f = popen(cmd, "r");
	katt_netns_enter(&e->net, -1);
	if (!f)
		return -EIO;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	pclose(f);
	arr = json_loads(buf, 0, NULL);
	json_array_foreach(arr, k, s) {
		json_t *c = json_object_get(s, "cookie");

		if (!json_is_integer(c) || (uint64_t)json_integer_value(c) != cookie)
			continue;
		snprintf(state, len, "%s",
			 json_string_value(json_object_get(s, "state")) ?: "");
		snprintf(text, len, "%s",
			 json_string_value(json_object_get(s, "reason_text")) ?: "");
		ret = 0;
	}
	json_decref(arr);
	return ret;
}

/* --- the second TPM ---------------------------------------------------------------- */

/* tpm2-tools work on it, from another network namespace too. */
TEST(vtpm_second_tpm)
{
	pid_t pid;
	int st;

	if (!W.vtpm_ok)
		SKIP(return, "%s", W.skip);
	EXPECT_NE(0, strcmp(W.vtpm.rm, "/dev/tpmrm0"));
	EXPECT_EQ(0, access(W.vtpm.dev, F_OK));
	EXPECT_EQ(0, sh("tpm2_getcap -T '%s' properties-fixed | grep -q TPM2_PT_MANUFACTURER",
			W.vtpm.tcti));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (unshare(CLONE_NEWNET))
			_exit(2);
		_exit(sh("tpm2_pcrread -T '%s' sha256:16 | grep -q ': 0x0000'",
			 W.vtpm.tcti));
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_TRUE(WIFEXITED(st) && !WEXITSTATUS(st))
		TH_LOG("tpm2_pcrread in another namespace: status %#x", st);
	/* two TPMs, two AKs */
	if (!W.skip)
		EXPECT_NE(0, strcmp(W.h[0].ak, W.h[1].ak));
}

/* --- genuine rounds ----------------------------------------------------------------- */

FIXTURE(e2e)
{
	struct env e;
};

FIXTURE_SETUP(e2e)
{
	env_setup(_metadata, &self->e, true);
}

FIXTURE_TEARDOWN(e2e)
{
	env_teardown(&self->e);
}

#define E2E_READY()	do { if (self->e.skip) return; } while (0)

struct sender {
	struct ktls_attest *ka;
	const char *msg;
	ssize_t ret;
	long long done_ms;
};

static void *send_blocking(void *arg)
{
	struct sender *s = arg;

	s->ret = ktls_attest_send(s->ka, s->msg, strlen(s->msg), 0);
	s->done_ms = katt_now_ms();
	return NULL;
}

/*
 * Host A attests to host B: the data B's application sent at once is held
 * until B's agent has appraised A's quote and A's agent has the passing
 * Verdict; then it flows.
 */
TEST_F_TIMEOUT(e2e, held_until_appraisal_then_flows, 180)
{
	static const char msg[] = "hello from B, after the appraisal";
	struct ktls_attest_status sc, ss;
	struct sender snd = { .msg = msg };
	struct env *e = &self->e;
	char state[256], text[256], buf[128];
	bool pending_seen = false;
	long long t0, t1, end, a_pass_ms = 0, b_pass_ms = 0;
	struct conn c;
	pthread_t th;
	ssize_t n = -EAGAIN;

	E2E_READY();
	daemon_start(_metadata, e, 0, NULL);
	daemon_start(_metadata, e, 1, NULL);
	listen_b(_metadata, e, RP, ROUND_MS);
	conn_open(_metadata, e, &c, ATTESTER, ROUND_MS);
	t0 = katt_now_ms();
	conn_move(_metadata, &c);
	sc = status_of(c.kc);
	ss = status_of(c.ks);
	EXPECT_STATE(sc, KTLS_ATTEST_STATE_PENDING, KTLS_ATTEST_REASON_NONE);
	EXPECT_STATE(ss, KTLS_ATTEST_STATE_PENDING, KTLS_ATTEST_REASON_NONE);
	EXPECT_EQ(1, sc.round);
	EXPECT_EQ(1, ss.round);

	/* B's application sends at once; its gate holds the send */
	ASSERT_EQ(0, katt_set_nonblock(c.sfd, false));
	snd.ka = c.ks;
	ASSERT_EQ(0, pthread_create(&th, NULL, send_blocking, &snd));
	end = katt_now_ms() + ROUND_MS + 5000;
	while (katt_now_ms() < end) {
		struct ktls_attest_status before = status_of(c.kc);

		if (before.state == KTLS_ATTEST_STATE_PENDING)
			pending_seen = true;
		else if (!a_pass_ms)
			a_pass_ms = katt_now_ms();
		if (!b_pass_ms &&
		    status_of(c.ks).state == KTLS_ATTEST_STATE_PASSED)
			b_pass_ms = katt_now_ms();
		n = ktls_attest_recv(c.kc, buf, sizeof(buf) - 1, MSG_DONTWAIT);
		if (n != -EAGAIN)
			break;
		poll(NULL, 0, 10);
	}
	t1 = katt_now_ms();
	pthread_join(th, NULL);
	ASSERT_EQ((ssize_t)strlen(msg), n) TH_LOG("recv: %s; A: %s; B: %s",
		strerror(n < 0 ? -n : 0), daemon_log(&e->d[0]),
		daemon_log(&e->d[1]));
	buf[n] = '\0';
	EXPECT_STREQ(msg, buf);
	/* A read while it was held: nothing came */
	EXPECT_TRUE(pending_seen) TH_LOG("the round passed before A could read");
	EXPECT_EQ((ssize_t)strlen(msg), snd.ret);
	/* the first byte came after both passes */
	sc = status_of(c.kc);
	ss = status_of(c.ks);
	EXPECT_STATE(sc, KTLS_ATTEST_STATE_PASSED, KTLS_ATTEST_REASON_VERDICT);
	EXPECT_STATE(ss, KTLS_ATTEST_STATE_PASSED, KTLS_ATTEST_REASON_VERDICT);
	EXPECT_NE(0, ss.pass_time_ns);
	/* B's held send returned at B's pass */
	printf("# round 1, from the move: B passed at %lld ms, its held send returned at %lld ms, A passed at %lld ms, A's first byte at %lld ms\n",
	       b_pass_ms ? b_pass_ms - t0 : -1, snd.done_ms - t0,
	       a_pass_ms ? a_pass_ms - t0 : -1, t1 - t0);
	fflush(stdout);
	/* B's text names A's AK and the PCRs; A's, B's Verdict */
	EXPECT_NE(NULL, strstr(ss.reason_text, W.h[0].ak)) TH_LOG("%s", ss.reason_text);
	EXPECT_NE(NULL, strstr(ss.reason_text, PCRS)) TH_LOG("%s", ss.reason_text);
	EXPECT_NE(NULL, strstr(sc.reason_text, "peer's verdict: pass"))
		TH_LOG("%s", sc.reason_text);
	ASSERT_EQ(0, cli_show(e, 1, ss.cookie, state, text, sizeof(state)));
	EXPECT_STREQ("passed", state);
	EXPECT_STREQ(ss.reason_text, text);
	/* and back */
	ASSERT_EQ(0, katt_set_nonblock(c.cfd, false));
	ASSERT_EQ(4, ktls_attest_send(c.kc, "pong", 4, 0));
	ASSERT_EQ(0, katt_set_nonblock(c.sfd, true));
	end = katt_now_ms() + 5000;
	do {
		n = ktls_attest_recv(c.ks, buf, sizeof(buf), MSG_DONTWAIT);
	} while (n == -EAGAIN && katt_now_ms() < end && !poll(NULL, 0, 10));
	EXPECT_EQ(4, n);
	/* each agent logged its verdict */
	EXPECT_NE(NULL, strstr(daemon_log(&e->d[1]), ": pass (AK"))
		TH_LOG("%s", daemon_log(&e->d[1]));
	conn_close(&c);
}

/* Both attest, both appraise: each socket passes on both exchanges. */
TEST_F_TIMEOUT(e2e, mutual, 180)
{
	struct ktls_attest_status sc, ss;
	struct env *e = &self->e;
	struct conn c;

	E2E_READY();
	daemon_start(_metadata, e, 0, NULL);
	daemon_start(_metadata, e, 1, NULL);
	listen_b(_metadata, e, BOTH, ROUND_MS);
	conn_open(_metadata, e, &c, BOTH, ROUND_MS);
	conn_move(_metadata, &c);
	sc = wait_end(c.kc, 1, ROUND_MS + 5000);
	ss = wait_end(c.ks, 1, ROUND_MS + 5000);
	EXPECT_STATE(sc, KTLS_ATTEST_STATE_PASSED, KTLS_ATTEST_REASON_VERDICT);
	EXPECT_STATE(ss, KTLS_ATTEST_STATE_PASSED, KTLS_ATTEST_REASON_VERDICT);
	/* A appraised B's AK, B appraised A's; each heard the other's pass */
	EXPECT_NE(NULL, strstr(sc.reason_text, W.h[1].ak)) TH_LOG("%s", sc.reason_text);
	EXPECT_NE(NULL, strstr(ss.reason_text, W.h[0].ak)) TH_LOG("%s", ss.reason_text);
	EXPECT_NE(NULL, strstr(sc.reason_text, "peer's verdict: pass"))
		TH_LOG("%s", sc.reason_text);
	EXPECT_NE(NULL, strstr(ss.reason_text, "peer's verdict: pass"))
		TH_LOG("%s", ss.reason_text);
	conn_close(&c);
}

/*
 * Rounds after the first, started by either end's application or its
 * operator, pass; then a PCR extended on the attester fails the next one,
 * named at the RP and, from the Verdict, at the attester.
 */
TEST_F_TIMEOUT(e2e, reattest_then_pcr_extended, 240)
{
	struct ktls_attest_status sc, ss;
	struct env *e = &self->e;
	struct conn c;
	int ret;

	E2E_READY();
	daemon_start(_metadata, e, 0, NULL);
	daemon_start(_metadata, e, 1, NULL);
	listen_b(_metadata, e, RP, ROUND_MS);
	conn_open(_metadata, e, &c, ATTESTER, ROUND_MS);
	conn_move(_metadata, &c);
	ss = wait_end(c.ks, 1, ROUND_MS + 5000);
	EXPECT_STATE(ss, KTLS_ATTEST_STATE_PASSED, KTLS_ATTEST_REASON_VERDICT);
	sc = wait_end(c.kc, 1, 5000);
	EXPECT_STATE(sc, KTLS_ATTEST_STATE_PASSED, KTLS_ATTEST_REASON_VERDICT);

	/* round 2: the RP's application asks (KTLS_ATTEST_REATTEST) */
	ASSERT_EQ(0, katt_set_nonblock(c.sfd, false));
	ret = ktls_attest_reattest(c.ks, ROUND_MS + 5000);
	EXPECT_EQ(0, ret) TH_LOG("%s; B: %s", ktls_attest_strerror(c.ks),
				 daemon_log(&e->d[1]));
	ss = status_of(c.ks);
	EXPECT_EQ(2, ss.round);
	EXPECT_STATE(ss, KTLS_ATTEST_STATE_PASSED, KTLS_ATTEST_REASON_VERDICT);
	sc = wait_end(c.kc, 2, 5000);
	EXPECT_STATE(sc, KTLS_ATTEST_STATE_PASSED, KTLS_ATTEST_REASON_VERDICT);

	/* round 3: A's operator asks (ktls-attest reattest): a Request */
	ASSERT_EQ(0, katt_netns_enter(&e->net, 0));
	ret = sh("'%s' reattest %llu", W.cli,
		 (unsigned long long)status_of(c.kc).cookie);
	ASSERT_EQ(0, katt_netns_enter(&e->net, -1));
	EXPECT_EQ(0, ret);
	sc = wait_end(c.kc, 3, ROUND_MS + 5000);
	EXPECT_EQ(3, sc.round);
	EXPECT_STATE(sc, KTLS_ATTEST_STATE_PASSED, KTLS_ATTEST_REASON_VERDICT);
	ss = wait_end(c.ks, 3, 5000);
	EXPECT_EQ(3, ss.round);
	EXPECT_STATE(ss, KTLS_ATTEST_STATE_PASSED, KTLS_ATTEST_REASON_VERDICT);

	/* PCR 16 of A's TPM changes: round 4 fails, naming it */
	e->pcr16_dirty = true;
	ASSERT_EQ(0, sh("tpm2_pcrextend -T '%s' 16:sha256=%064x",
			W.h[0].tcti, 1));
	ret = ktls_attest_reattest(c.ks, ROUND_MS + 5000);
	EXPECT_EQ(-EKEYREVOKED, ret) TH_LOG("%s", ktls_attest_strerror(c.ks));
	ss = status_of(c.ks);
	EXPECT_EQ(4, ss.round);
	EXPECT_STATE(ss, KTLS_ATTEST_STATE_REVOKED, KTLS_ATTEST_REASON_VERDICT);
	EXPECT_EQ(0, strncmp(ss.reason_text,
			     "reference-mismatch: PCR sha256:16 is ", 37))
		TH_LOG("%s", ss.reason_text);
	sc = wait_end(c.kc, 4, 5000);
	EXPECT_STATE(sc, KTLS_ATTEST_STATE_REVOKED, KTLS_ATTEST_REASON_VERDICT);
	EXPECT_NE(NULL, strstr(sc.reason_text,
			       "reason 7 reference-mismatch: PCR sha256:16"))
		TH_LOG("%s", sc.reason_text);
	conn_close(&c);
}

/*
 * Many connections at once (KATT_E2E_CONNS, default 100; the heavy
 * variant 1000): every handshake first, then every move, so that every
 * round starts within a moment and A's one TPM quotes them all in a row.
 */
TEST_F_TIMEOUT(e2e, many_at_once, 900)
{
	const char *env = getenv("KATT_E2E_CONNS");
	unsigned int n = env ? atoi(env) : 100, i, passed = 0;
	uint32_t deadline;
	struct env *e = &self->e;
	struct conn *c;
	long long t0, t1;

	E2E_READY();
	ASSERT_LT(0, n);
	/* a quote takes about 0.1 to 0.3 s on swtpm under TCG: three times that */
	deadline = getenv("KATT_E2E_DEADLINE_MS") ?
		   (uint32_t)atoi(getenv("KATT_E2E_DEADLINE_MS")) :
		   30000 + n * 600;
	if (deadline > KTLS_ATTEST_TIMEOUT_MS_MAX)
		deadline = KTLS_ATTEST_TIMEOUT_MS_MAX;
	ASSERT_EQ(0, katt_raise_nofile(4 * n + 64));
	c = calloc(n, sizeof(*c));
	ASSERT_NE(NULL, c);
	daemon_start(_metadata, e, 0, NULL);
	daemon_start(_metadata, e, 1, NULL);
	listen_b(_metadata, e, RP, deadline);
	for (i = 0; i < n; i++)
		conn_open(_metadata, e, &c[i], ATTESTER, deadline);
	t0 = katt_now_ms();
	for (i = 0; i < n; i++)
		conn_move(_metadata, &c[i]);
	for (i = 0; i < n; i++) {
		struct ktls_attest_status ss, sc;

		ss = wait_end(c[i].ks, 1, deadline + 5000);
		sc = wait_end(c[i].kc, 1, 5000);
		if (ss.state == KTLS_ATTEST_STATE_PASSED &&
		    sc.state == KTLS_ATTEST_STATE_PASSED &&
		    strstr(ss.reason_text, W.h[0].ak) &&
		    strstr(sc.reason_text, "peer's verdict: pass"))
			passed++;
		else
			TH_LOG("connection %u: B %s \"%s\", A %s \"%s\"", i,
			       ktls_attest_state_name(ss.state), ss.reason_text,
			       ktls_attest_state_name(sc.state), sc.reason_text);
	}
	t1 = katt_now_ms();
	EXPECT_EQ(n, passed);
	printf("# %u connections: all rounds ended %lld ms after the first move (deadline %u ms)\n",
	       n, t1 - t0, deadline);
	fflush(stdout);
	for (i = 0; i < n; i++)
		conn_close(&c[i]);
	free(c);
}

/* The RP's stored counters for A's AK raised: A's genuine quote goes back. */
TEST_F_TIMEOUT(e2e, clock_rollback, 240)
{
	char state[PATH_MAX + 32], config[PATH_MAX + 32], file[PATH_MAX + 192];
	struct ktls_attest_status ss, sc;
	struct env *e = &self->e;
	json_t *j;
	struct conn c;

	E2E_READY();
	/* B on a state directory of its own, first with A's genuine quote */
	snprintf(state, sizeof(state), "%s/B-state", e->scratch);
	snprintf(config, sizeof(config), "%s/B-config.json", e->scratch);
	ASSERT_EQ(0, sh("cp -a '%s' '%s'", W.h[1].state, state));
	ASSERT_EQ(0, write_config(&W.h[1], config, state, W.h[1].policy));
	daemon_start(_metadata, e, 0, NULL);
	daemon_start(_metadata, e, 1, config);
	listen_b(_metadata, e, RP, ROUND_MS);
	conn_open(_metadata, e, &c, ATTESTER, ROUND_MS);
	conn_move(_metadata, &c);
	ss = wait_end(c.ks, 1, ROUND_MS + 5000);
	EXPECT_STATE(ss, KTLS_ATTEST_STATE_PASSED, KTLS_ATTEST_REASON_VERDICT);
	conn_close(&c);

	/* stopped; what B remembers of A's TPM made to be from its future */
	kill(e->d[1].p.pid, SIGTERM);
	EXPECT_EQ(0, katt_peer_wait(&e->d[1].p, 10000)) TH_LOG("%s", daemon_log(&e->d[1]));
	snprintf(file, sizeof(file), "%s/counters-%s", state, W.h[0].ak);
	j = json_load_file(file, 0, NULL);
	ASSERT_NE(NULL, j) TH_LOG("no %s", file);
	ASSERT_EQ(0, json_object_set_new(j, "resetCount",
		json_integer(json_integer_value(json_object_get(j, "resetCount")) + 1000)));
	ASSERT_EQ(0, write_json(file, j));
	daemon_start(_metadata, e, 1, config);
	conn_open(_metadata, e, &c, ATTESTER, ROUND_MS);
	conn_move(_metadata, &c);
	ss = wait_end(c.ks, 1, ROUND_MS + 5000);
	sc = wait_end(c.kc, 1, 5000);
	EXPECT_STATE(ss, KTLS_ATTEST_STATE_FAILED, KTLS_ATTEST_REASON_VERDICT);
	EXPECT_EQ(0, strncmp(ss.reason_text, "counter-regression: resetCount", 30))
		TH_LOG("%s", ss.reason_text);
	EXPECT_STATE(sc, KTLS_ATTEST_STATE_FAILED, KTLS_ATTEST_REASON_VERDICT);
	EXPECT_NE(NULL, strstr(sc.reason_text, "reason 9 counter-regression"))
		TH_LOG("%s", sc.reason_text);
	conn_close(&c);
}

/*
 * A TPM rolled back: host C (ns[1]) attests to A with a third TPM, whose
 * state is put back to a snapshot after A accepted a quote of it.  Both
 * starts are a TPM Reset to the same resetCount, and the restored TPM's
 * clock is behind the one A saw: "counter-regression" at A, and at C
 * from A's Verdict.
 */
TEST_F_TIMEOUT(e2e, clock_rollback_tpm_snapshot, 300)
{
	char tpmdir[PATH_MAX], snap[PATH_MAX], cdir[PATH_MAX];
	char cconf[PATH_MAX + 16], cpol[PATH_MAX + 16], cstate[PATH_MAX + 16];
	char aconf[PATH_MAX + 16], apol[PATH_MAX + 16], astate[PATH_MAX + 16];
	char en[PATH_MAX + 16];
	struct ktls_attest_status ss, sc;
	struct env *e = &self->e;
	struct host hc = { 0 };
	struct vtpm vt = { 0 };
	json_t *j, *rp;
	struct conn c;

	E2E_READY();
	snprintf(tpmdir, sizeof(tpmdir), "%s/C-tpm", e->scratch);
	snprintf(snap, sizeof(snap), "%s/C-snapshot", e->scratch);
	snprintf(cdir, sizeof(cdir), "%s/C", e->scratch);
	snprintf(cconf, sizeof(cconf), "%s/config.json", cdir);
	snprintf(cpol, sizeof(cpol), "%s/policy.json", cdir);
	snprintf(cstate, sizeof(cstate), "%s/state", cdir);
	snprintf(en, sizeof(en), "%s/enrolled.json", cdir);
	snprintf(aconf, sizeof(aconf), "%s/A-config.json", e->scratch);
	snprintf(apol, sizeof(apol), "%s/A-policy.json", e->scratch);
	snprintf(astate, sizeof(astate), "%s/A-state", e->scratch);

	/* C: its TPM, its AK, enrolled with A */
	ASSERT_EQ(0, vtpm_start(&vt, tpmdir));
	ASSERT_EQ(0, mkdir(cdir, 0700));
	ASSERT_EQ(0, mkdir(cstate, 0700));
	snprintf(hc.tcti, sizeof(hc.tcti), "%s", vt.tcti);
	ASSERT_EQ(0, write_config(&hc, cconf, cstate, cpol));
	ASSERT_EQ(0, write_json(cpol, json_pack("{s:{s:s, s:s}}", "attester",
					       "peers", "verified", "pcrs", PCRS)));
	ASSERT_EQ(0, sh("'%s' enroll -c '%s' --pcrs " PCRS " -o '%s' > '%s/enroll.out' 2>&1",
			W.daemon, cconf, en, cdir));
	j = json_load_file(en, 0, NULL);
	rp = json_object_get(j, "relying_party");
	ASSERT_NE(NULL, rp);
	strcpy(hc.ak, json_string_value(json_object_get(
		json_array_get(json_object_get(rp, "aks"), 0), "name")) ?: "");
	ASSERT_EQ(0, write_json(apol, json_pack("{s:O}", "relying_party", rp)));
	json_decref(j);
	ASSERT_EQ(0, sh("cp -a '%s' '%s'", W.h[0].state, astate));
	ASSERT_EQ(0, write_config(&W.h[0], aconf, astate, apol));

	/* the snapshot, taken stopped; then a first run that lasts */
	vtpm_stop(&vt);
	ASSERT_EQ(0, sh("cp -a '%s' '%s'", tpmdir, snap));
	ASSERT_EQ(0, vtpm_start(&vt, tpmdir));
	snprintf(hc.tcti, sizeof(hc.tcti), "%s", vt.tcti);
	ASSERT_EQ(0, write_config(&hc, cconf, cstate, cpol));
	daemon_start(_metadata, e, 0, aconf);
	daemon_start_ak(_metadata, e, 1, cconf, hc.ak);
	listen_b(_metadata, e, ATTESTER, ROUND_MS);
	poll(NULL, 0, 8000);	/* C's clock runs ahead of the restored one's */
	conn_open(_metadata, e, &c, RP, ROUND_MS);
	conn_move(_metadata, &c);
	sc = wait_end(c.kc, 1, ROUND_MS + 5000);
	ss = wait_end(c.ks, 1, 5000);
	EXPECT_STATE(sc, KTLS_ATTEST_STATE_PASSED, KTLS_ATTEST_REASON_VERDICT);
	EXPECT_STATE(ss, KTLS_ATTEST_STATE_PASSED, KTLS_ATTEST_REASON_VERDICT);
	EXPECT_NE(NULL, strstr(sc.reason_text, hc.ak)) TH_LOG("%s", sc.reason_text);
	conn_close(&c);

	/* C's TPM put back to the snapshot, started again at once */
	katt_peer_kill(&e->d[1].p);
	vtpm_stop(&vt);
	ASSERT_EQ(0, sh("rm -rf '%s' && cp -a '%s' '%s'", tpmdir, snap, tpmdir));
	ASSERT_EQ(0, vtpm_start(&vt, tpmdir));
	snprintf(hc.tcti, sizeof(hc.tcti), "%s", vt.tcti);
	ASSERT_EQ(0, write_config(&hc, cconf, cstate, cpol));
	daemon_start_ak(_metadata, e, 1, cconf, hc.ak);
	conn_open(_metadata, e, &c, RP, ROUND_MS);
	conn_move(_metadata, &c);
	sc = wait_end(c.kc, 1, ROUND_MS + 5000);
	ss = wait_end(c.ks, 1, 5000);
	EXPECT_STATE(sc, KTLS_ATTEST_STATE_FAILED, KTLS_ATTEST_REASON_VERDICT);
	EXPECT_EQ(0, strncmp(sc.reason_text, "counter-regression: clock", 25))
		TH_LOG("%s", sc.reason_text);
	EXPECT_STATE(ss, KTLS_ATTEST_STATE_FAILED, KTLS_ATTEST_REASON_VERDICT);
	EXPECT_NE(NULL, strstr(ss.reason_text, "reason 9 counter-regression"))
		TH_LOG("%s", ss.reason_text);
	conn_close(&c);
	katt_peer_kill(&e->d[1].p);
	vtpm_stop(&vt);
}

/* --- peers that are not ktls-attest ------------------------------------------------- */

static void plain_start(struct __test_metadata *_metadata, struct env *e,
			bool server)
{
	char ca[PATH_MAX + 16], cert[PATH_MAX + 16], key[PATH_MAX + 16];
	char err[PATH_MAX + 32];
	char *sv[] = { "openssl", "s_server", "-4", "-accept", "4433",
		       "-naccept", "1", "-cert", cert, "-key", key, "-quiet",
		       NULL };
	char *cv[] = { "openssl", "s_client", "-connect", SERVER_IP ":4433",
		       "-CAfile", ca, "-quiet", NULL };
	int ret;

	snprintf(ca, sizeof(ca), "%s/ca.pem", W.dir);
	snprintf(cert, sizeof(cert), "%s/server.pem", W.dir);
	snprintf(key, sizeof(key), "%s/server.key", W.dir);
	snprintf(err, sizeof(err), "%s/openssl.err", e->scratch);
	ASSERT_EQ(0, katt_peer_start_in(&e->plain, server ? sv : cv, NULL, err,
					e->net.ns[server ? 1 : 0]));
	if (server) {
		ASSERT_EQ(0, katt_netns_enter(&e->net, 1));
		ret = katt_wait_listen(PORT, START_MS);
		ASSERT_EQ(0, katt_netns_enter(&e->net, -1));
		ASSERT_EQ(0, ret);
	}
}

/* One end of ours, handshaken with the plain peer and moved. */
static void one_end(struct __test_metadata *_metadata, SSL *ssl, int fd,
		    struct ktls_attest_opts *o, struct ktls_attest **ka)
{
	long long end = katt_now_ms() + 30000;
	int r = 0;

	ASSERT_EQ(0, katt_set_nonblock(fd, true));
	SSL_set_fd(ssl, fd);
	ASSERT_EQ(0, ktls_attest_prepare(ssl, o, ka))
		TH_LOG("%s", ktls_attest_strerror(NULL));
	while (r != 1 && katt_now_ms() < end) {
		r = SSL_do_handshake(ssl);
		if (r != 1)
			poll(NULL, 0, 5);
	}
	ASSERT_EQ(1, r);
	ASSERT_EQ(0, ktls_attest_move(*ka)) TH_LOG("%s", ktls_attest_strerror(*ka));
}

FIXTURE(plain)
{
	struct env e;
};

FIXTURE_SETUP(plain)
{
	env_setup(_metadata, &self->e, false);
}

FIXTURE_TEARDOWN(plain)
{
	env_teardown(&self->e);
}

/*
 * B challenges openssl s_client, which never answers: held (PENDING, also
 * for ktls-attest -j show), then the deadline.
 */
TEST_F_TIMEOUT(plain, s_client_times_out, 120)
{
	struct ktls_attest_opts o = { .mode = KTLS_ATTEST_MODE_BOUND };
	char state[256], text[256];
	struct ktls_attest_status st;
	struct ktls_attest *ka;
	struct env *e = &self->e;
	SSL *ssl;
	int fd;

	if (e->skip)
		return;
	daemon_start(_metadata, e, 1, NULL);
	listen_b(_metadata, e, RP, SHORT_MS);
	plain_start(_metadata, e, false);
	fd = accept4(e->lfd, NULL, NULL, SOCK_CLOEXEC);
	ASSERT_LE(0, fd);
	ssl = SSL_new(e->sctx);
	SSL_set_accept_state(ssl);
	one_end(_metadata, ssl, fd, &o, &ka);
	/* held, as the operator's CLI shows it */
	ASSERT_EQ(0, cli_show(e, 1, status_of(ka).cookie, state, text,
			      sizeof(state)));
	EXPECT_STREQ("pending", state);
	EXPECT_EQ(-EKEYREJECTED, ktls_attest_wait(ka, SHORT_MS + 5000));
	st = status_of(ka);
	EXPECT_STATE(st, KTLS_ATTEST_STATE_FAILED, KTLS_ATTEST_REASON_TIMEOUT);
	ASSERT_EQ(0, cli_show(e, 1, st.cookie, state, text, sizeof(state)));
	EXPECT_STREQ("failed", state);
	SSL_free(ssl);
	close(fd);
}

/* A attests to openssl s_server, which never challenges: the deadline. */
TEST_F_TIMEOUT(plain, s_server_times_out, 120)
{
	struct ktls_attest_opts o = {
		.mode = KTLS_ATTEST_MODE_BOUND, .role = ATTESTER,
		.timeout_ms = SHORT_MS,
	};
	struct sockaddr_storage ss;
	socklen_t sl = katt_netns_addr(1, AF_INET, PORT, &ss);
	struct ktls_attest_status st;
	struct ktls_attest *ka;
	struct env *e = &self->e;
	SSL *ssl;
	int fd;

	if (e->skip)
		return;
	daemon_start(_metadata, e, 0, NULL);
	plain_start(_metadata, e, true);
	ASSERT_EQ(0, katt_netns_enter(&e->net, 0));
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_EQ(0, katt_netns_enter(&e->net, -1));
	ASSERT_EQ(0, connect(fd, (struct sockaddr *)&ss, sl));
	ssl = SSL_new(e->cctx);
	SSL_set_connect_state(ssl);
	one_end(_metadata, ssl, fd, &o, &ka);
	EXPECT_EQ(-EKEYREJECTED, ktls_attest_wait(ka, SHORT_MS + 5000));
	st = status_of(ka);
	EXPECT_STATE(st, KTLS_ATTEST_STATE_FAILED, KTLS_ATTEST_REASON_TIMEOUT);
	SSL_free(ssl);
	close(fd);
}

/* --- agents killed mid-round ----------------------------------------------------------- */

/*
 * SIGKILL of the agent of host @i while the round is under way, before it
 * answered (A: the Challenge; B: the round-start): the round fails at the
 * deadline at both ends; a new agent takes the next connection, which
 * passes.
 */
static void killed_mid_round(struct __test_metadata *_metadata, struct env *e,
			     int i)
{
	struct ktls_attest_status sc, ss;
	struct conn c;

	daemon_start(_metadata, e, 0, NULL);
	daemon_start(_metadata, e, 1, NULL);
	listen_b(_metadata, e, RP, SHORT_MS);
	conn_open(_metadata, e, &c, ATTESTER, SHORT_MS);
	/*
	 * Stopped first, so that it cannot have answered (a quote takes
	 * some 30 ms): the round starts while it is registered, and its
	 * events wait in its socket when it dies.
	 */
	ASSERT_EQ(0, kill(e->d[i].p.pid, SIGSTOP));
	conn_move(_metadata, &c);
	poll(NULL, 0, 200);
	katt_peer_kill(&e->d[i].p);
	sc = wait_end(c.kc, 1, SHORT_MS + 5000);
	ss = wait_end(c.ks, 1, SHORT_MS + 5000);
	EXPECT_STATE(i ? ss : sc, KTLS_ATTEST_STATE_FAILED,
		     KTLS_ATTEST_REASON_TIMEOUT);
	/* the other end fails too: its agent times out or hears nothing */
	EXPECT_EQ(KTLS_ATTEST_STATE_FAILED, (i ? sc : ss).state)
		TH_LOG("%s \"%s\"", ktls_attest_state_name((i ? sc : ss).state),
		       (i ? sc : ss).reason_text);
	conn_close(&c);

	daemon_start(_metadata, e, i, NULL);
	conn_open(_metadata, e, &c, ATTESTER, ROUND_MS);
	conn_move(_metadata, &c);
	ss = wait_end(c.ks, 1, ROUND_MS + 5000);
	sc = wait_end(c.kc, 1, 5000);
	EXPECT_STATE(ss, KTLS_ATTEST_STATE_PASSED, KTLS_ATTEST_REASON_VERDICT);
	EXPECT_STATE(sc, KTLS_ATTEST_STATE_PASSED, KTLS_ATTEST_REASON_VERDICT);
	conn_close(&c);
}

TEST_F_TIMEOUT(e2e, attester_killed_mid_round, 180)
{
	E2E_READY();
	killed_mid_round(_metadata, &self->e, 0);
}

TEST_F_TIMEOUT(e2e, rp_killed_mid_round, 180)
{
	E2E_READY();
	killed_mid_round(_metadata, &self->e, 1);
}

/* --- attacks ------------------------------------------------------------------------------ */

enum outcome {
	PASS = 1,	/* the control: katt-evil honest */
	VERDICT,	/* a failing Verdict with @reason */
	ERROR,		/* an Error with @code from the RP */
	PEER_ERROR,	/* katt-evil's own Error: the RP fails, says nothing */
	TIMEOUT,	/* nothing: the deadline */
};

FIXTURE(attack)
{
	struct env e;
};

FIXTURE_VARIANT(attack)
{
	const char *mode;
	enum outcome outcome;
	unsigned int reason;		/* VERDICT: the reason; ERROR: the code */
	const char *text;		/* the RP's kernel reason text starts so */
	const char *also;		/* and has this in it (NULL: nothing) */
	unsigned int conns;		/* relay 2 at once; replay 2 in a row */
	bool other_tpm;
	bool other_ak;
};

FIXTURE_VARIANT_ADD(attack, honest)
{
	.mode = "honest", .outcome = PASS, .conns = 1,
};

FIXTURE_VARIANT_ADD(attack, replayed)
{
	.mode = "replay", .outcome = VERDICT, .reason = 1, .conns = 2,
	.text = "binder-mismatch:",
};

FIXTURE_VARIANT_ADD(attack, relayed)
{
	.mode = "relay", .outcome = VERDICT, .reason = 1, .conns = 2,
	.text = "binder-mismatch:",
};

FIXTURE_VARIANT_ADD(attack, reflected)
{
	.mode = "reflect", .outcome = VERDICT, .reason = 1, .conns = 1,
	.text = "binder-mismatch:",
};

FIXTURE_VARIANT_ADD(attack, wrong_nonce)
{
	.mode = "wrong-nonce", .outcome = VERDICT, .reason = 1, .conns = 1,
	.text = "binder-mismatch:",
};

FIXTURE_VARIANT_ADD(attack, unknown_ak)
{
	.mode = "unknown-ak", .outcome = VERDICT, .reason = 3, .conns = 1,
	.text = "untrusted-key:", .also = "not pinned", .other_ak = true,
};

FIXTURE_VARIANT_ADD(attack, ak_of_another_tpm)
{
	.mode = "ak-other-tpm", .outcome = VERDICT, .reason = 2, .conns = 1,
	.text = "bad-signature:", .other_tpm = true,
};

FIXTURE_VARIANT_ADD(attack, unrestricted_key_forges)
{
	.mode = "forge-unrestricted", .outcome = VERDICT, .reason = 3,
	.conns = 1, .text = "untrusted-key:",
	.also = "is not a restricted signing key",
};

FIXTURE_VARIANT_ADD(attack, other_pcrs_quoted)
{
	.mode = "other-pcrs", .outcome = VERDICT, .reason = 4, .conns = 1,
	.text = "malformed-evidence: the quote does not cover PCR sha256:",
};

FIXTURE_VARIANT_ADD(attack, sha1_bank_as_sha256)
{
	.mode = "sha1-as-sha256", .outcome = VERDICT, .reason = 4, .conns = 1,
	.text = "malformed-evidence:",
};

FIXTURE_VARIANT_ADD(attack, cannot_attest_downgrade)
{
	.mode = "cannot-attest", .outcome = PEER_ERROR, .conns = 1,
	.text = "peer's Error: code 2 cannot-attest",
};

FIXTURE_VARIANT_ADD(attack, garbage)
{
	.mode = "garbage", .outcome = ERROR, .reason = 3, .conns = 1,
	.text = "sent Error 3 malformed:",
};

FIXTURE_VARIANT_ADD(attack, truncated_cbor)
{
	.mode = "truncated", .outcome = ERROR, .reason = 3, .conns = 1,
	.text = "sent Error 3 malformed:",
};

FIXTURE_VARIANT_ADD(attack, oversized_cbor)
{
	.mode = "oversized", .outcome = ERROR, .reason = 3, .conns = 1,
	.text = "sent Error 3 malformed:",
};

FIXTURE_VARIANT_ADD(attack, unexpected_verdict_first)
{
	.mode = "verdict-first", .outcome = ERROR, .reason = 4, .conns = 1,
	.text = "sent Error 4 unexpected-message:",
};

FIXTURE_VARIANT_ADD(attack, silent)
{
	.mode = "silent", .outcome = TIMEOUT, .conns = 1,
};

FIXTURE_SETUP(attack)
{
	env_setup(_metadata, &self->e, true);
}

FIXTURE_TEARDOWN(attack)
{
	env_teardown(&self->e);
}

/* The value of "key=" in @line, up to the next space (text: to the end). */
static const char *field(const char *line, const char *key, char *out,
			 size_t len)
{
	char k[32];
	const char *p;

	snprintf(k, sizeof(k), " %s=", key);
	p = strstr(line, k);
	out[0] = '\0';
	if (!p)
		return out;
	p += strlen(k);
	snprintf(out, len, "%.*s", (int)(strcmp(key, "text") ?
					   strcspn(p, " ") : strlen(p)), p);
	return out;
}

/* The RP's kernel text and what katt-evil was told agree (the kernel cuts). */
static bool same_text(const char *kernel, const char *told)
{
	size_t n = strlen(kernel) < strlen(told) ? strlen(kernel) : strlen(told);

	return n > 8 && !strncmp(kernel, told, n);
}

TEST_F_TIMEOUT(attack, fails_closed, 120)
{
	const uint32_t deadline = variant->outcome == TIMEOUT ? SHORT_MS :
				  ROUND_MS;
	char other[ROOT_MAX + 96], line[1024], v[512];
	const char *extra[5] = { NULL };
	struct env *e = &self->e;
	struct conn c[2];
	unsigned int i;

	if (e->skip)
		return;
	snprintf(other, sizeof(other), "%s/other-ak", e->scratch);
	if (variant->other_ak || variant->other_tpm) {
		extra[0] = "--other-state";
		extra[1] = other;
	}
	if (variant->other_tpm) {
		extra[2] = "--other-tcti";
		extra[3] = W.h[1].tcti;
	}
	daemon_start(_metadata, e, 1, NULL);
	evil_start(_metadata, e, variant->mode, extra);
	listen_b(_metadata, e, RP, deadline);
	for (i = 0; i < variant->conns; i++) {
		/* replay: the first connection's round passes before the second */
		conn_open(_metadata, e, &c[i], ATTESTER, deadline);
		conn_move(_metadata, &c[i]);
		if (!strcmp(variant->mode, "replay") && !i) {
			struct ktls_attest_status st = wait_end(c[0].ks, 1, deadline + 5000);

			ASSERT_EQ(KTLS_ATTEST_STATE_PASSED, st.state)
				TH_LOG("the replayed connection's own round: %s \"%s\"",
				       ktls_attest_state_name(st.state), st.reason_text);
		}
	}
	for (i = !strcmp(variant->mode, "replay"); i < variant->conns; i++) {
		struct ktls_attest_status ss = wait_end(c[i].ks, 1, deadline + 5000);
		struct ktls_attest_status sc = wait_end(c[i].kc, 1, 5000);
		uint64_t cookie = sc.cookie;

		switch (variant->outcome) {
		case PASS:
			EXPECT_STATE(ss, KTLS_ATTEST_STATE_PASSED, KTLS_ATTEST_REASON_VERDICT);
			EXPECT_STATE(sc, KTLS_ATTEST_STATE_PASSED, KTLS_ATTEST_REASON_VERDICT);
			ASSERT_EQ(0, evil_line(&e->ev, "verdict", cookie, line,
					       sizeof(line), 5000)) TH_LOG("%s", e->ev.out);
			EXPECT_STREQ("pass", field(line, "result", v, sizeof(v)));
			/* how long katt-evil took to make its Evidence */
			if (!evil_line(&e->ev, "sent", cookie, line, sizeof(line), 0)) {
				printf("# a quote (Evidence made by katt-evil): %s ms\n",
				       field(line, "ms", v, sizeof(v)));
				fflush(stdout);
			}
			break;
		case VERDICT:
			EXPECT_STATE(ss, KTLS_ATTEST_STATE_FAILED, KTLS_ATTEST_REASON_VERDICT);
			ASSERT_EQ(0, evil_line(&e->ev, "verdict", cookie, line,
					       sizeof(line), 5000)) TH_LOG("%s", e->ev.out);
			EXPECT_STREQ("fail", field(line, "result", v, sizeof(v)));
			EXPECT_EQ(variant->reason,
				  atoi(field(line, "reason", v, sizeof(v)))) TH_LOG("%s", line);
			EXPECT_TRUE(same_text(ss.reason_text, field(line, "text", v, sizeof(v))))
				TH_LOG("kernel \"%s\", Verdict \"%s\"", ss.reason_text, v);
			break;
		case ERROR:
			EXPECT_STATE(ss, KTLS_ATTEST_STATE_FAILED, KTLS_ATTEST_REASON_VERDICT);
			ASSERT_EQ(0, evil_line(&e->ev, "error", cookie, line,
					       sizeof(line), 5000)) TH_LOG("%s", e->ev.out);
			EXPECT_EQ(variant->reason,
				  atoi(field(line, "code", v, sizeof(v)))) TH_LOG("%s", line);
			/* "sent Error 3 malformed: WHY", the Error's text WHY */
			field(line, "text", v, sizeof(v));
			EXPECT_TRUE(strchr(ss.reason_text, ':') &&
				    same_text(strchr(ss.reason_text, ':') + 2, v))
				TH_LOG("kernel \"%s\", Error \"%s\"", ss.reason_text, v);
			break;
		case PEER_ERROR:
			EXPECT_STATE(ss, KTLS_ATTEST_STATE_FAILED, KTLS_ATTEST_REASON_VERDICT);
			/* an Error is not answered */
			EXPECT_NE(0, evil_line(&e->ev, "verdict", cookie, line,
					       sizeof(line), 500));
			EXPECT_NE(0, evil_line(&e->ev, "error", cookie, line,
					       sizeof(line), 0));
			break;
		case TIMEOUT:
			EXPECT_STATE(ss, KTLS_ATTEST_STATE_FAILED, KTLS_ATTEST_REASON_TIMEOUT);
			break;
		}
		if (variant->text)
			EXPECT_EQ(0, strncmp(ss.reason_text, variant->text,
					     strlen(variant->text)))
				TH_LOG("RP's kernel: \"%s\", expected \"%s...\"",
				       ss.reason_text, variant->text);
		if (variant->also)
			EXPECT_NE(NULL, strstr(ss.reason_text, variant->also))
				TH_LOG("RP's kernel: \"%s\"", ss.reason_text);
		/* the hostile end fails too: nothing of it passes */
		if (variant->outcome != PASS)
			EXPECT_NE(KTLS_ATTEST_STATE_PASSED, sc.state);
	}
	for (i = 0; i < variant->conns; i++)
		conn_close(&c[i]);
}

TEST_HARNESS_MAIN
