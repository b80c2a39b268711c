// SPDX-License-Identifier: GPL-2.0
/*
 * ktls-attestd in the test VM, a first smoke test: an attester daemon and
 * a relying-party daemon in two network namespaces, both on the VM's TPM
 * (/dev/tpmrm0, each with its own AK in its own state directory), and the
 * example programs in bound mode between them, mutual TLS:
 *
 *   +----------- ns[0] ------------+        +----------- ns[1] ------------+
 *   | ktls-attest-client           |        |           ktls-attest-server |
 *   |   --role attester            +--veth--+      (relying party)         |
 *   | ktls-attestd (attester)      |        |        ktls-attestd (RP)     |
 *   +------------------------------+        +------------------------------+
 *
 * Checked: the connection passes on a real quote (the RP's notice names
 * the attester's AK and the PCRs, the attester's the peer's verdict), the
 * client's command is answered only after its pass; a second daemon in a
 * namespace that has one refuses to start and says why; SIGHUP with a
 * policy whose reference value for PCR 7 is wrong makes the next
 * connection fail with a reason naming that PCR, at both ends; SIGTERM
 * ends each daemon with status 0 and its registration with it; both roles
 * at both ends (mutual) pass only with both exchanges.
 *
 * (The two-TPM end-to-end suite and the attacks are selftests/agent_e2e.c.)
 * Needs root, the module and /dev/tpmrm0; without them every test SKIPs.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/ktls_attest.h>
#include <linux/ktls_attest_netlink.h>
#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>

#include "kselftest_harness.h"
#include "lib/katt_netns.h"
#include "lib/katt_nl.h"
#include "lib/katt_peer.h"
#include "lib/katt_test.h"

#include "proto.h"
#include "tpm.h"
#include "tpm_crypto.h"

#define PORT		"4433"
#define SERVER_IP	"10.99.0.2"
#define START_MS	60000
#define EXIT_MS		60000
#define TCTI		"device:/dev/tpmrm0"

FIXTURE(daemon) {
	bool skip;
	char dir[64];
	char bin[PATH_MAX];		/* build/ */
	struct katt_netns net;
	struct katt_peer d[2];		/* the daemons: attester, RP */
	struct katt_peer extra;		/* a second daemon */
	struct katt_peer srv, cli;
	char ak[2 * sizeof(TPMU_NAME) + 1];	/* the attester's AK */
	char pcr7[2 * KATT_DIGEST_MAX + 1];	/* its sha256 PCR 7 */
};

static const char *stderr_of(struct katt_peer *p)
{
	static char buf[16384];

	return katt_peer_stderr(p, buf, sizeof(buf));
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fputs(text, f);
	return fclose(f) ? -errno : 0;
}

/* The config of daemon @i (0 attester, 1 RP) in dir/@i/. */
static int write_config(const char *dir, int i)
{
	char path[128], text[512];

	snprintf(path, sizeof(path), "%s/%d", dir, i);
	if (mkdir(path, 0700))
		return -errno;
	snprintf(path, sizeof(path), "%s/%d/config.json", dir, i);
	snprintf(text, sizeof(text),
		 "{\"tcti\": \"" TCTI "\", \"state_dir\": \"%s/%d/state\","
		 " \"policy\": \"policy.json\"}\n", dir, i);
	return write_file(path, text);
}

/* The RP's policy: this AK, sha256:0,1,7, PCR 7 = @pcr7. */
static int write_rp_policy(const char *dir, const char *ak, const char *pcr7)
{
	char path[128], text[1024];

	snprintf(path, sizeof(path), "%s/1/policy.json", dir);
	snprintf(text, sizeof(text),
		 "{\"relying_party\": {\"aks\": [{\"name\": \"%s\"}],"
		 " \"pcrs\": \"sha256:0,1,7\","
		 " \"reference\": {\"sha256\": {\"7\": [\"%s\"]}}}}\n",
		 ak, pcr7);
	return write_file(path, text);
}

/* The daemon ktls-attestd -v -c dir/@i/config.json in ns[@ns] as @p. */
static int start_daemon(FIXTURE_DATA(daemon) *self, struct katt_peer *p,
			int i, int ns, const char *err_name)
{
	char exe[PATH_MAX + 32], cfg[128], err[128];
	char *argv[] = { exe, "-v", "-c", cfg, NULL };

	snprintf(exe, sizeof(exe), "%s/ktls-attestd", self->bin);
	snprintf(cfg, sizeof(cfg), "%s/%d/config.json", self->dir, i);
	snprintf(err, sizeof(err), "%s/%s", self->dir, err_name);
	return katt_peer_start_in(p, argv, NULL, err, self->net.ns[ns]);
}

/* Reads sha256 PCR 7 of the VM's TPM as hex. */
static int read_pcr7(char *out)
{
	struct katt_pcr_read *r = calloc(1, sizeof(*r));
	TPML_PCR_SELECTION sel = { .count = 1 };
	struct katt_tpm tpm;
	int ret;

	if (!r)
		return -ENOMEM;
	sel.pcrSelections[0].hash = TPM2_ALG_SHA256;
	sel.pcrSelections[0].sizeofSelect = 3;
	sel.pcrSelections[0].pcrSelect[0] = 1 << 7;
	ret = katt_tpm_open(&tpm, TCTI);
	if (!ret) {
		ret = katt_tpm_pcr_read(&tpm, &sel, r);
		katt_tpm_close(&tpm);
	}
	if (!ret)
		katt_hex(r->value[0][7], r->size[0], out);
	free(r);
	return ret;
}

FIXTURE_SETUP(daemon)
{
	const char *err, *p;
	char *slash;
	ssize_t n;
	int i;

	self->skip = false;
	self->net = (struct katt_netns)KATT_NETNS_INIT;
	for (i = 0; i < 2; i++)
		self->d[i] = (struct katt_peer)KATT_PEER_INIT;
	self->extra = self->srv = self->cli = (struct katt_peer)KATT_PEER_INIT;
	self->dir[0] = '\0';
	if (!katt_module_loaded()) {
		self->skip = true;
		SKIP(return, "module %s not loaded", KTLS_ATTEST_MODULE);
	}
	if (access("/dev/tpmrm0", R_OK | W_OK)) {
		self->skip = true;
		SKIP(return, "no /dev/tpmrm0");
	}
	signal(SIGPIPE, SIG_IGN);
	n = readlink("/proc/self/exe", self->bin, sizeof(self->bin) - 32);
	ASSERT_LT(0, n);
	self->bin[n] = '\0';
	slash = strrchr(self->bin, '/');
	ASSERT_NE(NULL, slash);
	strcpy(slash, "/..");
	ASSERT_EQ(0, katt_netns_pair(&self->net));
	strcpy(self->dir, "/tmp/katt-d.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	{
		char cmd[PATH_MAX * 2];

		snprintf(cmd, sizeof(cmd),
			 "%s/../tools/examples/ktls-attest-certs --ip " SERVER_IP
			 " %s >/dev/null", self->bin, self->dir);
		ASSERT_EQ(0, system(cmd));
	}
	ASSERT_EQ(0, read_pcr7(self->pcr7));

	/* the attester: any verified peer, sha256:0,1,7 by default */
	ASSERT_EQ(0, write_config(self->dir, 0));
	ASSERT_EQ(0, write_config(self->dir, 1));
	{
		char path[128];

		snprintf(path, sizeof(path), "%s/0/policy.json", self->dir);
		ASSERT_EQ(0, write_file(path,
			"{\"attester\": {\"peers\": \"verified\", \"pcrs\": \"sha256:0,1,7\"}}\n"));
	}
	ASSERT_EQ(0, start_daemon(self, &self->d[0], 0, 0, "d0.err"));
	ASSERT_EQ(0, katt_peer_wait_stderr(&self->d[0], "ready", START_MS))
		TH_LOG("attester daemon: %s", stderr_of(&self->d[0]));
	/* "ready: agent of netns N, AK <name>, policy P" */
	err = stderr_of(&self->d[0]);
	p = strstr(err, ", AK ");
	ASSERT_NE(NULL, p);
	p += 5;
	for (i = 0; p[i] && p[i] != ',' && i < (int)sizeof(self->ak) - 1; i++)
		self->ak[i] = p[i];
	self->ak[i] = '\0';
	ASSERT_EQ(68, strlen(self->ak)) TH_LOG("AK \"%s\"", self->ak);

	/* the RP: that AK, sha256:0,1,7, PCR 7 as it is now */
	ASSERT_EQ(0, write_rp_policy(self->dir, self->ak, self->pcr7));
	ASSERT_EQ(0, start_daemon(self, &self->d[1], 1, 1, "d1.err"));
	ASSERT_EQ(0, katt_peer_wait_stderr(&self->d[1], "ready", START_MS))
		TH_LOG("RP daemon: %s", stderr_of(&self->d[1]));
}

FIXTURE_TEARDOWN(daemon)
{
	char cmd[128];
	int i;

	katt_peer_kill(&self->cli);
	katt_peer_kill(&self->srv);
	katt_peer_kill(&self->extra);
	for (i = 0; i < 2; i++)
		katt_peer_kill(&self->d[i]);
	katt_netns_close(&self->net);
	if (self->dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", self->dir);
		if (system(cmd))
			perror("rm");
	}
}

#define D_READY()	do { if (self->skip) return; } while (0)

/* One connection: the server (RP) in ns[1], the client (attester) in ns[0]. */
static void connection(struct __test_metadata *_metadata,
		       FIXTURE_DATA(daemon) *self, const char *tag,
		       const char *srole, const char *crole)
{
	char exe[PATH_MAX + 64], cert[128], key[128], ca[128], err[128];
	char *sargv[] = {
		exe, "--once", "-v", "--mode", "bound", "--round-timeout",
		"30000", "--client-ca", ca, "--cert", cert, "--key", key,
		"--role", (char *)srole, SERVER_IP, PORT, NULL,
	};
	int ret;

	katt_peer_kill(&self->srv);
	katt_peer_kill(&self->cli);
	self->srv = self->cli = (struct katt_peer)KATT_PEER_INIT;
	snprintf(exe, sizeof(exe), "%s/tools/ktls-attest-server", self->bin);
	snprintf(ca, sizeof(ca), "%s/ca.pem", self->dir);
	snprintf(cert, sizeof(cert), "%s/server.pem", self->dir);
	snprintf(key, sizeof(key), "%s/server.key", self->dir);
	snprintf(err, sizeof(err), "%s/server-%s.err", self->dir, tag);
	ASSERT_EQ(0, katt_peer_start_in(&self->srv, sargv, NULL, err,
					self->net.ns[1]));
	ASSERT_EQ(0, katt_netns_enter(&self->net, 1));
	ret = katt_wait_listen(4433, START_MS);
	ASSERT_EQ(0, katt_netns_enter(&self->net, -1));
	ASSERT_EQ(0, ret) TH_LOG("server: %s", stderr_of(&self->srv));
	{
		char *cargv[] = {
			exe, "-v", "--ca", ca, "--mode", "bound",
			"--round-timeout", "30000", "--cert", cert, "--key",
			key, "--role", (char *)crole, SERVER_IP, PORT, "status",
			"quit", NULL,
		};

		snprintf(exe, sizeof(exe), "%s/tools/ktls-attest-client",
			 self->bin);
		snprintf(cert, sizeof(cert), "%s/client.pem", self->dir);
		snprintf(key, sizeof(key), "%s/client.key", self->dir);
		snprintf(err, sizeof(err), "%s/client-%s.err", self->dir, tag);
		ASSERT_EQ(0, katt_peer_start_in(&self->cli, cargv, NULL, err,
						self->net.ns[0]));
		katt_peer_close_in(&self->cli);
	}
}

static long ms_between(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) * 1000 +
	       (b->tv_nsec - a->tv_nsec) / 1000000;
}

static const char *output_of(struct katt_peer *p, int timeout_ms)
{
	static char buf[16384];

	buf[0] = '\0';
	katt_peer_expect(p, "\x01never", buf, sizeof(buf), timeout_ms);
	return buf;
}

TEST_F_TIMEOUT(daemon, pass_then_policy_reload_fails, 600)
{
	struct timespec t0, t1, t2, t3;
	const char *out, *err, *passed, *bye;
	char want[256];

	D_READY();
	/* a real quote of the attester, appraised by the RP: both pass */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	connection(_metadata, self, "1", "relying-party", "attester");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	EXPECT_EQ(0, katt_peer_wait_stderr(&self->d[1], "round 1: pass (",
					   EXIT_MS));
	clock_gettime(CLOCK_MONOTONIC, &t2);
	out = output_of(&self->cli, EXIT_MS);
	EXPECT_EQ(0, katt_peer_wait(&self->cli, EXIT_MS))
		TH_LOG("client: %s", stderr_of(&self->cli));
	clock_gettime(CLOCK_MONOTONIC, &t3);
	/* under TCG: the programs' start dominates */
	ksft_print_msg("server listening: %ld ms; client started to the RP's pass: %ld ms; to the client's exit: %ld ms\n",
		       ms_between(&t0, &t1), ms_between(&t1, &t2),
		       ms_between(&t1, &t3));
	/* the pass, then the answers of the commands */
	passed = strstr(out, "passed: attestation round 1 passed");
	bye = strstr(out, "bye");
	EXPECT_NE(NULL, passed) TH_LOG("client said: %s", out);
	EXPECT_NE(NULL, bye) TH_LOG("client said: %s", out);
	EXPECT_TRUE(passed && bye && passed < bye);
	EXPECT_EQ(0, katt_peer_wait(&self->srv, EXIT_MS))
		TH_LOG("server: %s", stderr_of(&self->srv));
	snprintf(want, sizeof(want), "round 1: pass (AK %s, sha256:0,1,7)",
		 self->ak);
	EXPECT_EQ(0, katt_peer_wait_stderr(&self->d[1], want, 5000))
		TH_LOG("RP daemon: %s", stderr_of(&self->d[1]));
	EXPECT_EQ(0, katt_peer_wait_stderr(&self->d[0],
					   "round 1: pass (peer's verdict: pass)",
					   5000))
		TH_LOG("attester daemon: %s", stderr_of(&self->d[0]));

	/* SIGHUP: PCR 7 now expected to be something else */
	ASSERT_EQ(0, write_rp_policy(self->dir, self->ak,
		"00000000000000000000000000000000000000000000000000000000000000ff"));
	ASSERT_EQ(0, kill(self->d[1].pid, SIGHUP));
	ASSERT_EQ(0, katt_peer_wait_stderr(&self->d[1], "reloaded", 10000))
		TH_LOG("RP daemon: %s", stderr_of(&self->d[1]));
	connection(_metadata, self, "2", "relying-party", "attester");
	output_of(&self->cli, EXIT_MS);
	EXPECT_NE(0, katt_peer_wait(&self->cli, EXIT_MS));
	katt_peer_wait(&self->srv, EXIT_MS);
	EXPECT_EQ(0, katt_peer_wait_stderr(&self->d[1],
			"round 1: fail: reference-mismatch: PCR sha256:7", 10000))
		TH_LOG("RP daemon: %s", stderr_of(&self->d[1]));
	EXPECT_EQ(0, katt_peer_wait_stderr(&self->d[0],
			"round 1: fail: peer's verdict: fail, reason 7 reference-mismatch: PCR sha256:7",
			10000))
		TH_LOG("attester daemon: %s", stderr_of(&self->d[0]));
	err = stderr_of(&self->cli);
	EXPECT_NE(NULL, strstr(err, "PCR sha256:7")) TH_LOG("client: %s", err);
}

TEST_F_TIMEOUT(daemon, second_agent_refused_sigterm_unregisters, 300)
{
	struct katt_nl *nl;
	int i, ret;

	D_READY();
	/* another daemon in the attester's namespace */
	ASSERT_EQ(0, start_daemon(self, &self->extra, 0, 0,
				  "extra.err"));
	EXPECT_EQ(1, katt_peer_wait(&self->extra, EXIT_MS));
	EXPECT_NE(NULL, strstr(stderr_of(&self->extra),
			       "another agent is registered in this network namespace"))
		TH_LOG("%s", stderr_of(&self->extra));

	/* SIGTERM: exit 0, and the namespace has no agent any more */
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, kill(self->d[i].pid, SIGTERM));
		EXPECT_EQ(0, katt_peer_wait(&self->d[i], EXIT_MS))
			TH_LOG("daemon %d: %s", i, stderr_of(&self->d[i]));
		ASSERT_EQ(0, katt_netns_enter(&self->net, i));
		ret = katt_nl_open(&nl);
		ASSERT_EQ(0, katt_netns_enter(&self->net, -1));
		ASSERT_EQ(0, ret);
		EXPECT_EQ(0, katt_nl_agent_register(nl))
			TH_LOG("%s", katt_nl_extack(nl));
		katt_nl_close(nl);
	}
}

/* Both roles at both ends: each daemon attests and appraises. */
TEST_F_TIMEOUT(daemon, mutual, 300)
{
	char path[128], text[1024], ak1[sizeof(self->ak)], want[256];
	const char *err, *p;
	int i;

	D_READY();
	err = stderr_of(&self->d[1]);
	p = strstr(err, ", AK ");
	ASSERT_NE(NULL, p);
	for (p += 5, i = 0; p[i] && p[i] != ',' && i < (int)sizeof(ak1) - 1;
	     i++)
		ak1[i] = p[i];
	ak1[i] = '\0';
	/* each pins the other's AK; both attest to verified peers */
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%d/policy.json", self->dir, i);
		snprintf(text, sizeof(text),
			 "{\"attester\": {\"peers\": \"verified\", \"pcrs\": \"sha256:0,1,7\"},"
			 " \"relying_party\": {\"aks\": [{\"name\": \"%s\"}],"
			 " \"pcrs\": \"sha256:0,1,7\","
			 " \"reference\": {\"sha256\": {\"7\": [\"%s\"]}}}}\n",
			 i ? self->ak : ak1, self->pcr7);
		ASSERT_EQ(0, write_file(path, text));
		ASSERT_EQ(0, kill(self->d[i].pid, SIGHUP));
		ASSERT_EQ(0, katt_peer_wait_stderr(&self->d[i], "reloaded",
						   10000))
			TH_LOG("daemon %d: %s", i, stderr_of(&self->d[i]));
	}
	connection(_metadata, self, "m", "both", "both");
	EXPECT_NE(NULL, strstr(output_of(&self->cli, EXIT_MS),
			       "passed: attestation round 1 passed"));
	EXPECT_EQ(0, katt_peer_wait(&self->cli, EXIT_MS))
		TH_LOG("client: %s", stderr_of(&self->cli));
	EXPECT_EQ(0, katt_peer_wait(&self->srv, EXIT_MS))
		TH_LOG("server: %s", stderr_of(&self->srv));
	for (i = 0; i < 2; i++) {
		snprintf(want, sizeof(want),
			 "round 1: pass (AK %s, sha256:0,1,7; peer's verdict: pass)",
			 i ? self->ak : ak1);
		EXPECT_EQ(0, katt_peer_wait_stderr(&self->d[i], want, 5000))
			TH_LOG("daemon %d: %s", i, stderr_of(&self->d[i]));
	}
}

/* The netlink port of @pid's generic netlink socket, or 0. */
static uint32_t genl_portid_of(pid_t pid)
{
	char path[64], line[256], link[64];
	unsigned long inode;
	unsigned int eth, portid = 0;
	struct dirent *de;
	FILE *f;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/net/netlink", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (!portid && fgets(line, sizeof(line), f)) {
		unsigned int pt;

		/* sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode */
		if (sscanf(line, "%*s %u %u %*s %*s %*s %*s %*s %*s %lu", &eth,
			   &pt, &inode) != 3 || eth != NETLINK_GENERIC)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
		d = opendir(path);
		if (!d)
			break;
		while ((de = readdir(d))) {
			char want[48], fd[320];
			ssize_t n;

			snprintf(fd, sizeof(fd), "%s/%s", path, de->d_name);
			n = readlink(fd, link, sizeof(link) - 1);
			if (n <= 0)
				continue;
			link[n] = '\0';
			snprintf(want, sizeof(want), "socket:[%lu]", inode);
			if (!strcmp(link, want)) {
				portid = pt;
				break;
			}
		}
		closedir(d);
	}
	fclose(f);
	return portid;
}

/*
 * A process with CAP_NET_ADMIN in the agent's namespace can unicast to the
 * agent's netlink socket.  A round-start and a Challenge it makes up must
 * not make the agent quote over a binder of its choosing: only the kernel
 * (port 0) speaks for the kernel.
 */
TEST_F_TIMEOUT(daemon, forged_events_dropped, 120)
{
	uint8_t chal[512], bin[32];
	struct katt_msg m = { .version = 1, .type = KATT_MSG_CHALLENGE };
	struct nl_sock *sk;
	struct nl_msg *msg;
	uint32_t portid;
	int fam, i;
	long len;

	D_READY();
	portid = genl_portid_of(self->d[0].pid);
	ASSERT_NE(0, portid);
	m.challenge.rid = 1;
	m.challenge.ntypes = 1;
	m.challenge.types[0] = KATT_EV_TPM2_QUOTE;
	memset(m.challenge.nonce, 0x5a, sizeof(m.challenge.nonce));
	len = katt_msg_encode(&m, chal, sizeof(chal));
	ASSERT_LT(0, len);
	memset(bin, 0xa5, sizeof(bin));

	ASSERT_EQ(0, katt_netns_enter(&self->net, 0));
	sk = nl_socket_alloc();
	ASSERT_NE(NULL, sk);
	ASSERT_EQ(0, genl_connect(sk));
	fam = genl_ctrl_resolve(sk, KTLS_ATTEST_FAMILY_NAME);
	ASSERT_LT(0, fam);
	nl_socket_set_peer_port(sk, portid);
	for (i = 0; i < 2; i++) {
		msg = nlmsg_alloc();
		ASSERT_NE(NULL, msg);
		ASSERT_NE(NULL, genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, fam,
					    0, 0, i ? KTLS_ATTEST_CMD_MSG_RECV :
					    KTLS_ATTEST_CMD_ROUND_START,
					    KTLS_ATTEST_FAMILY_VERSION));
		nla_put_u64(msg, KTLS_ATTEST_A_SOCK_COOKIE, 0x7777);
		nla_put_u32(msg, KTLS_ATTEST_A_SOCK_ROUND, 1);
		if (!i) {
			nla_put_u32(msg, KTLS_ATTEST_A_SOCK_ROLE,
				    KTLS_ATTEST_ROLE_ATTESTER);
			nla_put_u32(msg, KTLS_ATTEST_A_SOCK_STATE,
				    KTLS_ATTEST_STATE_PENDING);
			nla_put_u32(msg, KTLS_ATTEST_A_SOCK_TIMEOUT_MS, 10000);
			nla_put_u32(msg, KTLS_ATTEST_A_SOCK_BINDING_FLAGS,
				    KTLS_ATTEST_BINDING_LOCAL_KEY |
				    KTLS_ATTEST_BINDING_PEER_KEY |
				    KTLS_ATTEST_BINDING_PEER_VERIFIED);
			nla_put(msg, KTLS_ATTEST_A_SOCK_BINDING_EXPORTER, 32, bin);
			nla_put(msg, KTLS_ATTEST_A_SOCK_BINDING_LOCAL_KEY, 32, bin);
			nla_put(msg, KTLS_ATTEST_A_SOCK_BINDING_PEER_KEY, 32, bin);
		} else {
			nla_put_u32(msg, KTLS_ATTEST_A_SOCK_MSG_LEN, len);
			nla_put(msg, KTLS_ATTEST_A_SOCK_MSG_DATA, len, chal);
		}
		/* root may unicast to another netlink socket */
		EXPECT_LT(0, nl_send_auto(sk, msg));
		nlmsg_free(msg);
	}
	nl_socket_free(sk);
	ASSERT_EQ(0, katt_netns_enter(&self->net, -1));

	EXPECT_EQ(0, katt_peer_wait_stderr(&self->d[0],
					   "not from the kernel: dropped", 10000))
		TH_LOG("%s", stderr_of(&self->d[0]));
	/* the TPM worker answers in well under a second */
	sleep(2);
	EXPECT_EQ(NULL, strstr(stderr_of(&self->d[0]), "cookie 0x7777"))
		TH_LOG("%s", stderr_of(&self->d[0]));
	EXPECT_EQ(NULL, strstr(stderr_of(&self->d[0]), "Evidence of"))
		TH_LOG("%s", stderr_of(&self->d[0]));
}

TEST_HARNESS_MAIN
