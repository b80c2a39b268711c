// SPDX-License-Identifier: GPL-2.0
/*
 * ktls-attest: the "attest" ULP stacked over kTLS must move data exactly as
 * plain kTLS does.
 *
 * Fixture "stack" builds a loopback TCP pair, keys kTLS in both directions
 * and runs every test over TLS 1.2/1.3 x AES-GCM-128/256, ChaCha20-Poly1305
 * x IPv4/IPv6 x three stackings:
 *   plain   both ends plain kTLS (the control),
 *   attest  both ends TCP_ULP "attest", then "tls" underneath it,
 *   mixed   only the connecting end attested (the wire format is untouched).
 * The client keys TLS_TX first, the server TLS_RX first.
 * A failure in an attest/mixed variant whose plain twin passes is a module
 * bug. Without the module loaded the attest/mixed variants SKIP.
 *
 * The plain TEST()s at the end cover the ULP life cycle: listener
 * inheritance, children never accepted, error codes, IPV6_ADDRFORM, records
 * queued before the receive key, forged records, and the module reference
 * each armed socket holds (/sys/module/ktls_attest/refcnt, released an RCU
 * grace period after close).
 *
 * The gate is not under test here (selftests/gate*.c are): an armed socket
 * gets its pass verdict as soon as its keys are in, so from then on it must
 * behave as plain kTLS.
 *
 * Sockets are loopback pairs in the caller's network namespace; the tests
 * read /proc/net/tls_stat and the module's refcnt as deltas, so nothing else
 * may create kTLS or armed sockets while they run.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/ktls_attest.h>
#include <linux/tls.h>

#include "kselftest_harness.h"
#include "lib/katt_nl.h"
#include "lib/ktls.h"

#define ULP_ATTEST	KTLS_ATTEST_ULP_NAME
#define MOD		KTLS_ATTEST_MODULE
#define LARGE_LEN	(200 * 1024)
#define REFCNT_WAIT_MS	2000

/* The gate is another suite's: pass the socket's first round at once. */
static int pass_gate(int fd)
{
	return katt_nl_pass_socket(fd, "stacking test");
}

/* ktls_install() and ktls_install_rx_first(), then the gate's pass */
static int stack_install(int fd, const struct ktls_crypto *tx,
			 const struct ktls_crypto *rx)
{
	int ret = ktls_install(fd, tx, rx);

	return ret ? ret : pass_gate(fd);
}

static int stack_install_rx_first(int fd, const struct ktls_crypto *tx,
				  const struct ktls_crypto *rx)
{
	int ret = ktls_install_rx_first(fd, tx, rx);

	return ret ? ret : pass_gate(fd);
}

enum stack_mode {
	STACK_PLAIN,
	STACK_ATTEST,
	STACK_MIXED,
};

/* Client-to-server keys start at record 0, server-to-client at 2 (tickets). */
#define C2S_KEYS	0
#define S2C_KEYS	1
#define C2S_SEQ		0
#define S2C_SEQ		2

static const char *const stat_names[] = {
	"TlsCurrTxSw", "TlsCurrRxSw", "TlsTxSw", "TlsRxSw",
};

#define NR_STATS	ARRAY_SIZE(stat_names)

FIXTURE(stack)
{
	int cfd;		/* connect() end */
	int sfd;		/* accept() end */
	pid_t child;		/* helper sender, killed in teardown */
	bool skip;		/* setup SKIPped: the 6.1 harness runs the body */
	struct ktls_crypto c2s, s2c;
	long long stat0[NR_STATS];
};

FIXTURE_VARIANT(stack)
{
	uint16_t version;
	uint16_t cipher;
	int family;
	enum stack_mode mode;
};

#define STACK_VARIANT(vname, ver, cname, ciph, fname, fam, mname, md)	\
	FIXTURE_VARIANT_ADD(stack, vname##_##cname##_##fname##_##mname)	\
	{								\
		.version = ver,						\
		.cipher = ciph,						\
		.family = fam,						\
		.mode = md,						\
	}

#define STACK_MODES(vname, ver, cname, ciph, fname, fam)		\
	STACK_VARIANT(vname, ver, cname, ciph, fname, fam, plain,	\
		      STACK_PLAIN);					\
	STACK_VARIANT(vname, ver, cname, ciph, fname, fam, attest,	\
		      STACK_ATTEST);					\
	STACK_VARIANT(vname, ver, cname, ciph, fname, fam, mixed,	\
		      STACK_MIXED)

#define STACK_FAMILIES(vname, ver, cname, ciph)				\
	STACK_MODES(vname, ver, cname, ciph, ipv4, AF_INET);		\
	STACK_MODES(vname, ver, cname, ciph, ipv6, AF_INET6)

#define STACK_CIPHERS(vname, ver)					\
	STACK_FAMILIES(vname, ver, aes128, TLS_CIPHER_AES_GCM_128);	\
	STACK_FAMILIES(vname, ver, aes256, TLS_CIPHER_AES_GCM_256);	\
	STACK_FAMILIES(vname, ver, chacha, TLS_CIPHER_CHACHA20_POLY1305)

STACK_CIPHERS(tls12, TLS_1_2_VERSION);
STACK_CIPHERS(tls13, TLS_1_3_VERSION);

static void read_stats(struct __test_metadata *_metadata, long long *val)
{
	unsigned int i;

	/* braces: the TH_LOG handler is a statement of its own */
	for (i = 0; i < NR_STATS; i++) {
		ASSERT_EQ(0, ktls_stat(stat_names[i], &val[i]))
			TH_LOG("/proc/net/tls_stat: no %s", stat_names[i]);
	}
}

static bool module_loaded(void)
{
	return ktls_module_refcnt(MOD) >= 0;
}

/*
 * Opt @fd in. Returns false (after SKIP) if the module is not loaded: then
 * TCP_ULP "attest" fails with ENOENT, which is what an application sees.
 * ENOENT while the module is loaded is a failure.
 */
static bool arm(struct __test_metadata *_metadata, int fd)
{
	char ulp[32];
	int ret;

	ret = ktls_set_ulp(fd, ULP_ATTEST);
	if (ret == -ENOENT && !module_loaded()) {
		SKIP(return false,
		     "module %s not loaded: TCP_ULP \"%s\" gives ENOENT",
		     MOD, ULP_ATTEST);
	}
	ASSERT_EQ(0, ret) TH_LOG("TCP_ULP \"%s\": %s", ULP_ATTEST,
				 strerror(-ret));
	ASSERT_EQ(0, ktls_get_ulp(fd, ulp, sizeof(ulp)));
	EXPECT_STREQ(ULP_ATTEST, ulp);
	return true;
}

FIXTURE_SETUP(stack)
{
	bool arm_c = variant->mode != STACK_PLAIN;
	bool arm_s = variant->mode == STACK_ATTEST;
	int ret;

	self->cfd = -1;
	self->sfd = -1;
	self->child = 0;

	ASSERT_EQ(0, ktls_crypto_init(&self->c2s, variant->version,
				      variant->cipher, C2S_KEYS, C2S_SEQ));
	ASSERT_EQ(0, ktls_crypto_init(&self->s2c, variant->version,
				      variant->cipher, S2C_KEYS, S2C_SEQ));

	/*
	 * Without the module each TCP_ULP "attest" would also run modprobe
	 * (request_module) in vain: slow under TCG, so look first.
	 */
	if (arm_c && !module_loaded()) {
		self->skip = true;
		SKIP(return, "module %s not loaded", MOD);
	}

	read_stats(_metadata, self->stat0);

	ret = ktls_tcp_pair(variant->family, &self->cfd, &self->sfd);
	ASSERT_EQ(0, ret) TH_LOG("loopback pair: %s", strerror(-ret));

	if ((arm_c && !arm(_metadata, self->cfd)) ||
	    (arm_s && !arm(_metadata, self->sfd))) {
		self->skip = true;
		return;
	}

	ret = stack_install(self->cfd, &self->c2s, &self->s2c);
	ASSERT_EQ(0, ret) TH_LOG("client kTLS: %s", strerror(-ret));
	/* the other key order on this end: each SOL_TLS option re-wraps */
	ret = stack_install_rx_first(self->sfd, &self->s2c, &self->c2s);
	ASSERT_EQ(0, ret) TH_LOG("server kTLS: %s", strerror(-ret));
}

FIXTURE_TEARDOWN(stack)
{
	if (self->child > 0) {
		kill(self->child, SIGKILL);
		waitpid(self->child, NULL, 0);
	}
	if (self->cfd >= 0)
		close(self->cfd);
	if (self->sfd >= 0)
		close(self->sfd);
}

#define STACK_READY() do { if (self->skip) return; } while (0)

/* End @dir of the fixture: 0 sends on the client, 1 on the server. */
#define TX_FD(dir)	((dir) ? self->sfd : self->cfd)
#define RX_FD(dir)	((dir) ? self->cfd : self->sfd)

static void reap(struct __test_metadata *_metadata, pid_t *child)
{
	int status = ktls_wait_child(*child);

	*child = 0;
	ASSERT_EQ(0, status) TH_LOG("sender child: %s",
				    status > 0 ? strerror(status) : "killed");
}

/*
 * sendfile() of @len bytes of pattern @seed from memfd @mfd in direction
 * @dir, by a forked sender; the receiver gets them byte-exact in @rx.
 */
static void sendfile_dir(struct __test_metadata *_metadata,
			 FIXTURE_DATA(stack) *self, int dir, int mfd,
			 char *tx, char *rx, size_t len, uint32_t seed)
{
	ktls_fill(tx, len, seed);
	ASSERT_EQ(len, pwrite(mfd, tx, len, 0));
	memset(rx, 0, len);
	self->child = ktls_spawn_sendfile(TX_FD(dir), mfd, len);
	ASSERT_GT(self->child, 0);
	ASSERT_EQ((ssize_t)len, ktls_recv_all(RX_FD(dir), rx, len, 0));
	reap(_metadata, &self->child);
	EXPECT_EQ(-1, ktls_first_diff(tx, rx, len));
}

/* Moves @len bytes in direction @dir with a forked sender; byte-exact. */
static void transfer(struct __test_metadata *_metadata,
		     FIXTURE_DATA(stack) *self, int dir, size_t len,
		     uint32_t seed)
{
	char *tx = malloc(len), *rx = malloc(len);
	ssize_t n;

	ASSERT_NE(NULL, tx);
	ASSERT_NE(NULL, rx);
	ktls_fill(tx, len, seed);

	self->child = ktls_spawn_sender(TX_FD(dir), tx, len, 0, 0);
	ASSERT_GT(self->child, 0);
	n = ktls_recv_all(RX_FD(dir), rx, len, 0);
	ASSERT_EQ((ssize_t)len, n) TH_LOG("dir %d len %zu: recv %zd", dir,
					   len, n);
	reap(_metadata, &self->child);
	EXPECT_EQ(-1, ktls_first_diff(tx, rx, len));
	free(tx);
	free(rx);
}

TEST_F(stack, ulp_name)
{
	char ulp[32];

	STACK_READY();
	ASSERT_EQ(0, ktls_get_ulp(self->cfd, ulp, sizeof(ulp)));
	EXPECT_STREQ("tls", ulp);
	ASSERT_EQ(0, ktls_get_ulp(self->sfd, ulp, sizeof(ulp)));
	EXPECT_STREQ("tls", ulp);
}

/*
 * What getsockopt(SOL_TLS) must return once @records records went through:
 * the rec_seq advanced and, for TLS 1.2 ciphers with an explicit nonce,
 * the iv too (net/tls advances both).
 */
static void expect_crypto(struct __test_metadata *_metadata, int fd,
			  int optname, const struct ktls_crypto *want,
			  unsigned int records)
{
	struct ktls_crypto got, exp = *want;
	uint64_t be, iv;

	be = htobe64(ktls_crypto_rec_seq(want) + records);
	/* rec_seq is the last field of each tls12_crypto_info_* struct */
	memcpy((char *)&exp.info + exp.len - sizeof(be), &be, sizeof(be));
	_Static_assert(offsetof(struct tls12_crypto_info_aes_gcm_128, iv) ==
		       offsetof(struct tls12_crypto_info_aes_gcm_256, iv),
		       "GCM iv offsets differ");
	if (exp.info.version == TLS_1_2_VERSION &&
	    exp.info.cipher_type != TLS_CIPHER_CHACHA20_POLY1305) {
		/* the 8-byte iv follows the header in both GCM structs */
		memcpy(&iv, exp.gcm128.iv, sizeof(iv));
		iv = htobe64(be64toh(iv) + records);
		memcpy(exp.gcm128.iv, &iv, sizeof(iv));
	}

	ASSERT_EQ(0, ktls_get_crypto(fd, optname, want, &got));
	ASSERT_EQ(want->len, got.len);
	EXPECT_EQ(-1, ktls_first_diff(&exp.info, &got.info, exp.len))
		TH_LOG("getsockopt(SOL_TLS, %s) differs",
		       optname == TLS_TX ? "TLS_TX" : "TLS_RX");
}

TEST_F(stack, crypto_info)
{
	char buf[64];

	STACK_READY();
	expect_crypto(_metadata, self->cfd, TLS_TX, &self->c2s, 0);
	expect_crypto(_metadata, self->cfd, TLS_RX, &self->s2c, 0);
	expect_crypto(_metadata, self->sfd, TLS_TX, &self->s2c, 0);
	expect_crypto(_metadata, self->sfd, TLS_RX, &self->c2s, 0);

	/* one record each way advances each sequence number by one */
	ktls_fill(buf, sizeof(buf), 1);
	ASSERT_EQ(sizeof(buf), send(self->cfd, buf, sizeof(buf), 0));
	ASSERT_EQ(sizeof(buf), recv(self->sfd, buf, sizeof(buf), MSG_WAITALL));
	ASSERT_EQ(sizeof(buf), send(self->sfd, buf, sizeof(buf), 0));
	ASSERT_EQ(sizeof(buf), recv(self->cfd, buf, sizeof(buf), MSG_WAITALL));
	expect_crypto(_metadata, self->cfd, TLS_TX, &self->c2s, 1);
	expect_crypto(_metadata, self->cfd, TLS_RX, &self->s2c, 1);
	expect_crypto(_metadata, self->sfd, TLS_TX, &self->s2c, 1);
	expect_crypto(_metadata, self->sfd, TLS_RX, &self->c2s, 1);
}

TEST_F(stack, small)
{
	char tx[100], rx[sizeof(tx)];
	int dir;

	STACK_READY();
	ktls_fill(tx, sizeof(tx), 2);
	for (dir = 0; dir < 2; dir++) {
		/* one byte, then a short message */
		ASSERT_EQ(1, send(TX_FD(dir), tx, 1, 0));
		ASSERT_EQ(1, recv(RX_FD(dir), rx, sizeof(rx), 0));
		EXPECT_EQ(tx[0], rx[0]);
		ASSERT_EQ(sizeof(tx), send(TX_FD(dir), tx, sizeof(tx), 0));
		ASSERT_EQ(sizeof(rx), ktls_recv_all(RX_FD(dir), rx,
						    sizeof(rx), 0));
		EXPECT_EQ(-1, ktls_first_diff(tx, rx, sizeof(tx)));
	}
}

TEST_F(stack, records)
{
	static const size_t sizes[] = {
		TLS_MAX_PAYLOAD, TLS_MAX_PAYLOAD + 1, LARGE_LEN,
	};
	unsigned int i;
	int dir;

	STACK_READY();
	for (i = 0; i < ARRAY_SIZE(sizes); i++)
		for (dir = 0; dir < 2; dir++)
			transfer(_metadata, self, dir, sizes[i], 10 * i + dir);
}

TEST_F(stack, peek_then_read)
{
	char first[100], second[5000], all[sizeof(first) + sizeof(second)];
	char rx[sizeof(all)];
	int dir;

	STACK_READY();
	ktls_fill(first, sizeof(first), 3);
	ktls_fill(second, sizeof(second), 4);
	memcpy(all, first, sizeof(first));
	memcpy(all + sizeof(first), second, sizeof(second));

	for (dir = 0; dir < 2; dir++) {
		/* two sends without MSG_MORE: two records */
		ASSERT_EQ(sizeof(first),
			  send(TX_FD(dir), first, sizeof(first), 0));
		ASSERT_EQ(sizeof(second),
			  send(TX_FD(dir), second, sizeof(second), 0));

		memset(rx, 0, sizeof(rx));
		ASSERT_EQ(10, recv(RX_FD(dir), rx, 10, MSG_PEEK));
		EXPECT_EQ(-1, ktls_first_diff(first, rx, 10));
		memset(rx, 0, sizeof(rx));
		ASSERT_EQ(sizeof(first),
			  recv(RX_FD(dir), rx, sizeof(first), MSG_PEEK));
		EXPECT_EQ(-1, ktls_first_diff(first, rx, sizeof(first)));
		/* MSG_WAITALL lets the peek cross into the next record */
		memset(rx, 0, sizeof(rx));
		ASSERT_EQ(sizeof(all), recv(RX_FD(dir), rx, sizeof(all),
					    MSG_PEEK | MSG_WAITALL));
		EXPECT_EQ(-1, ktls_first_diff(all, rx, sizeof(all)));

		/* peeking consumed nothing */
		memset(rx, 0, sizeof(rx));
		ASSERT_EQ(sizeof(all), recv(RX_FD(dir), rx, sizeof(all),
					    MSG_WAITALL));
		EXPECT_EQ(-1, ktls_first_diff(all, rx, sizeof(all)));
		EXPECT_EQ(-1, recv(RX_FD(dir), rx, sizeof(rx), MSG_DONTWAIT));
		EXPECT_EQ(EAGAIN, errno);
	}
}

TEST_F(stack, waitall)
{
	enum { CHUNK = 4000, NR_CHUNKS = 3 };
	const size_t len = CHUNK * NR_CHUNKS;
	char tx[CHUNK * NR_CHUNKS], rx[CHUNK * NR_CHUNKS];
	int dir;

	STACK_READY();
	for (dir = 0; dir < 2; dir++) {
		ktls_fill(tx, len, 5 + dir);
		memset(rx, 0, len);
		/* the chunks arrive 10 ms apart: recv must wait for all */
		self->child = ktls_spawn_sender(TX_FD(dir), tx, len, CHUNK, 10);
		ASSERT_GT(self->child, 0);
		ASSERT_EQ(len, recv(RX_FD(dir), rx, len, MSG_WAITALL));
		reap(_metadata, &self->child);
		EXPECT_EQ(-1, ktls_first_diff(tx, rx, len));
	}
}

TEST_F(stack, sendfile)
{
	const size_t len = 100 * 1024 + 7;
	char *tx = malloc(len), *rx = malloc(len);
	int dir, mfd;

	STACK_READY();
	ASSERT_NE(NULL, tx);
	ASSERT_NE(NULL, rx);
	mfd = memfd_create("ktls-sendfile", 0);
	ASSERT_GE(mfd, 0);

	for (dir = 0; dir < 2; dir++) {
		sendfile_dir(_metadata, self, dir, mfd, tx, rx, len, 7 + dir);
	}
	close(mfd);
	free(tx);
	free(rx);
}

/* Reads exactly @len bytes out of a pipe. */
static void drain_pipe(struct __test_metadata *_metadata, int pfd, char *buf,
		       size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = read(pfd, buf + got, len - got);
		ASSERT_GT(n, 0);
		got += n;
	}
}

TEST_F(stack, splice_to_pipe)
{
	/* two full records and a short one; fits the 64 KiB pipe */
	const size_t len = 2 * TLS_MAX_PAYLOAD + 100;
	char tx[2 * TLS_MAX_PAYLOAD + 100], rx[2 * TLS_MAX_PAYLOAD + 100];
	size_t got;
	ssize_t n;
	int dir, p[2];

	STACK_READY();
	ASSERT_EQ(0, pipe(p));
	for (dir = 0; dir < 2; dir++) {
		ktls_fill(tx, len, 9 + dir);
		memset(rx, 0, len);
		ASSERT_EQ((ssize_t)len, ktls_send_all(TX_FD(dir), tx, len, 0));
		for (got = 0; got < len; got += n) {
			n = splice(RX_FD(dir), NULL, p[1], NULL, len - got, 0);
			ASSERT_GT(n, 0) TH_LOG("splice at %zu: %s", got,
					       strerror(errno));
			drain_pipe(_metadata, p[0], rx + got, n);
		}
		EXPECT_EQ(-1, ktls_first_diff(tx, rx, len));
	}
	close(p[0]);
	close(p[1]);
}

TEST_F(stack, splice_from_pipe)
{
	const size_t len = 40000;
	char tx[40000], rx[40000];
	size_t put;
	ssize_t n;
	int dir, p[2];

	STACK_READY();
	ASSERT_EQ(0, pipe(p));
	for (dir = 0; dir < 2; dir++) {
		ktls_fill(tx, len, 11 + dir);
		memset(rx, 0, len);
		ASSERT_EQ((ssize_t)len, write(p[1], tx, len));
		for (put = 0; put < len; put += n) {
			n = splice(p[0], NULL, TX_FD(dir), NULL, len - put, 0);
			ASSERT_GT(n, 0) TH_LOG("splice at %zu: %s", put,
					       strerror(errno));
		}
		ASSERT_EQ((ssize_t)len, ktls_recv_all(RX_FD(dir), rx, len, 0));
		EXPECT_EQ(-1, ktls_first_diff(tx, rx, len));
	}
	close(p[0]);
	close(p[1]);
}

TEST_F(stack, control_record)
{
	static const char before[] = "before the alert";
	static const char after[] = "after the alert";
	const unsigned char alert[2] = { 1, 0 };	/* warning, close_notify */
	char rx[64];
	uint8_t type;
	int dir;

	STACK_READY();
	for (dir = 0; dir < 2; dir++) {
		ASSERT_EQ(sizeof(before),
			  send(TX_FD(dir), before, sizeof(before), 0));
		ASSERT_EQ(sizeof(alert),
			  ktls_send_record(TX_FD(dir), TLS_RECORD_TYPE_ALERT,
					   alert, sizeof(alert), 0));
		ASSERT_EQ(sizeof(after),
			  send(TX_FD(dir), after, sizeof(after), 0));

		/* a data read stops at the record type boundary */
		memset(rx, 0, sizeof(rx));
		ASSERT_EQ(sizeof(before), recv(RX_FD(dir), rx, sizeof(rx), 0));
		EXPECT_STREQ(before, rx);

		/* no room for the cmsg: EIO, and the record stays queued */
		EXPECT_EQ(-1, recv(RX_FD(dir), rx, sizeof(rx), 0));
		EXPECT_EQ(EIO, errno);

		memset(rx, 0, sizeof(rx));
		ASSERT_EQ(sizeof(alert),
			  ktls_recv_record(RX_FD(dir), &type, rx, sizeof(rx),
					   0));
		EXPECT_EQ(TLS_RECORD_TYPE_ALERT, type);
		EXPECT_EQ(-1, ktls_first_diff(alert, rx, sizeof(alert)));

		memset(rx, 0, sizeof(rx));
		ASSERT_EQ(sizeof(after),
			  ktls_recv_record(RX_FD(dir), &type, rx, sizeof(rx),
					   0));
		EXPECT_EQ(TLS_RECORD_TYPE_DATA, type);
		EXPECT_STREQ(after, rx);
	}
}

TEST_F(stack, poll)
{
	struct pollfd pfd[2] = {
		{ .fd = self->cfd, .events = POLLIN | POLLOUT },
		{ .fd = self->sfd, .events = POLLIN | POLLOUT },
	};
	char tx[500], rx[sizeof(tx)];
	int dir;

	STACK_READY();
	/* idle: writable, not readable */
	ASSERT_EQ(2, poll(pfd, 2, 0));
	EXPECT_EQ(POLLOUT, pfd[0].revents);
	EXPECT_EQ(POLLOUT, pfd[1].revents);

	for (dir = 0; dir < 2; dir++) {
		struct pollfd in = { .fd = RX_FD(dir), .events = POLLIN };

		ktls_fill(tx, sizeof(tx), 13 + dir);
		EXPECT_EQ(0, poll(&in, 1, 10));
		/* readable only once the record arrives, 20 ms from now */
		self->child = ktls_spawn_sender(TX_FD(dir), tx, sizeof(tx),
						0, 20);
		ASSERT_GT(self->child, 0);
		ASSERT_EQ(1, poll(&in, 1, 5000));
		EXPECT_EQ(POLLIN, in.revents);
		reap(_metadata, &self->child);
		ASSERT_EQ(sizeof(rx), recv(RX_FD(dir), rx, sizeof(rx),
					   MSG_DONTWAIT));
		EXPECT_EQ(-1, ktls_first_diff(tx, rx, sizeof(tx)));
		/* drained: not readable again */
		EXPECT_EQ(0, poll(&in, 1, 0));
	}
}

TEST_F(stack, nonblocking_empty)
{
	const struct timeval tmo = { .tv_usec = 30000 };
	char rx[16];
	int dir, fl;

	STACK_READY();
	for (dir = 0; dir < 2; dir++) {
		EXPECT_EQ(-1, recv(RX_FD(dir), rx, sizeof(rx), MSG_DONTWAIT));
		EXPECT_EQ(EAGAIN, errno);

		fl = fcntl(RX_FD(dir), F_GETFL);
		ASSERT_EQ(0, fcntl(RX_FD(dir), F_SETFL, fl | O_NONBLOCK));
		EXPECT_EQ(-1, recv(RX_FD(dir), rx, sizeof(rx), 0));
		EXPECT_EQ(EAGAIN, errno);
		ASSERT_EQ(0, fcntl(RX_FD(dir), F_SETFL, fl));

		/* a blocking read on an empty socket honours SO_RCVTIMEO */
		ASSERT_EQ(0, setsockopt(RX_FD(dir), SOL_SOCKET, SO_RCVTIMEO,
					&tmo, sizeof(tmo)));
		EXPECT_EQ(-1, recv(RX_FD(dir), rx, sizeof(rx), 0));
		EXPECT_EQ(EAGAIN, errno);
	}
}

TEST_F(stack, msg_more)
{
	char tx[3000], rx[sizeof(tx)];
	int dir;

	STACK_READY();
	for (dir = 0; dir < 2; dir++) {
		ktls_fill(tx, sizeof(tx), 15 + dir);
		/* MSG_MORE keeps the record open: nothing to read yet */
		ASSERT_EQ(1000, send(TX_FD(dir), tx, 1000, MSG_MORE));
		EXPECT_EQ(-1, recv(RX_FD(dir), rx, sizeof(rx), MSG_DONTWAIT));
		EXPECT_EQ(EAGAIN, errno);
		ASSERT_EQ(2000, send(TX_FD(dir), tx + 1000, 2000, 0));
		/* one record: a single read returns all of it */
		ASSERT_EQ(sizeof(rx), recv(RX_FD(dir), rx, sizeof(rx), 0));
		EXPECT_EQ(-1, ktls_first_diff(tx, rx, sizeof(tx)));
	}
}

TEST_F(stack, scatter_gather)
{
	char tx[3][700], rx[2][1050];
	struct iovec txv[3], rxv[2];
	struct msghdr msg;
	unsigned int i;
	int dir;

	STACK_READY();
	for (i = 0; i < 3; i++) {
		ktls_fill(tx[i], sizeof(tx[i]), 17 + i);
		txv[i].iov_base = tx[i];
		txv[i].iov_len = sizeof(tx[i]);
	}
	for (dir = 0; dir < 2; dir++) {
		memset(rx, 0, sizeof(rx));
		for (i = 0; i < 2; i++) {
			rxv[i].iov_base = rx[i];
			rxv[i].iov_len = sizeof(rx[i]);
		}
		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = txv;
		msg.msg_iovlen = 3;
		ASSERT_EQ(sizeof(tx), sendmsg(TX_FD(dir), &msg, 0));
		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = rxv;
		msg.msg_iovlen = 2;
		ASSERT_EQ(sizeof(rx), recvmsg(RX_FD(dir), &msg, MSG_WAITALL));
		EXPECT_EQ(-1, ktls_first_diff(tx, rx, sizeof(tx)));
	}
}

TEST_F(stack, tls_sockopts)
{
	const bool tls13 = variant->version == TLS_1_3_VERSION;
	const bool arm_c = variant->mode != STACK_PLAIN;
	const bool arm_s = variant->mode == STACK_ATTEST;
	const size_t len = 40000;
	unsigned int one = 1, val;
	char *tx = malloc(len), *rx = malloc(len);
	socklen_t vlen;
	int dir, mfd, ret;

	STACK_READY();
	ASSERT_NE(NULL, tx);
	ASSERT_NE(NULL, rx);
	for (dir = 0; dir < 2; dir++) {
		/* the keys are in: setting them again is refused */
		EXPECT_EQ(-1, setsockopt(TX_FD(dir), SOL_TLS, TLS_TX,
					 &self->c2s.info, self->c2s.len));
		EXPECT_EQ(EBUSY, errno);
		EXPECT_EQ(-1, setsockopt(TX_FD(dir), SOL_TLS, TLS_RX,
					 &self->c2s.info, self->c2s.len));
		EXPECT_EQ(EBUSY, errno);

		ASSERT_EQ(0, setsockopt(TX_FD(dir), SOL_TLS,
					TLS_TX_ZEROCOPY_RO, &one, sizeof(one)));
		val = 0;
		vlen = sizeof(val);
		ASSERT_EQ(0, getsockopt(TX_FD(dir), SOL_TLS,
					TLS_TX_ZEROCOPY_RO, &val, &vlen));
		EXPECT_EQ(1, val);

		/* TLS 1.3 only: lets the receiver decrypt in place; refused
		 * on an armed socket, where it would decrypt an attestation
		 * record into the application's buffer before its type is known
		 */
		ret = setsockopt(RX_FD(dir), SOL_TLS, TLS_RX_EXPECT_NO_PAD,
				 &one, sizeof(one));
		if (dir ? arm_c : arm_s) {
			EXPECT_EQ(-1, ret);
			EXPECT_EQ(EOPNOTSUPP, errno);
			val = 1;
			vlen = sizeof(val);
			ret = getsockopt(RX_FD(dir), SOL_TLS,
					 TLS_RX_EXPECT_NO_PAD, &val, &vlen);
			if (tls13) {
				ASSERT_EQ(0, ret);
				EXPECT_EQ(0, val);
				/* turning it off, as it is, is fine */
				val = 0;
				EXPECT_EQ(0, setsockopt(RX_FD(dir), SOL_TLS,
							TLS_RX_EXPECT_NO_PAD,
							&val, sizeof(val)));
			}
		} else if (tls13) {
			EXPECT_EQ(0, ret);
			val = 0;
			vlen = sizeof(val);
			ASSERT_EQ(0, getsockopt(RX_FD(dir), SOL_TLS,
						TLS_RX_EXPECT_NO_PAD, &val,
						&vlen));
			EXPECT_EQ(1, val);
		} else {
			EXPECT_EQ(-1, ret);
			EXPECT_EQ(EINVAL, errno);
		}
	}

	/* zero-copy sendfile out, in-place decrypt in */
	mfd = memfd_create("ktls-zc", 0);
	ASSERT_GE(mfd, 0);
	for (dir = 0; dir < 2; dir++) {
		sendfile_dir(_metadata, self, dir, mfd, tx, rx, len, 19 + dir);

		ASSERT_EQ((ssize_t)len, ktls_send_all(TX_FD(dir), tx, len, 0));
		ASSERT_EQ((ssize_t)len, ktls_recv_all(RX_FD(dir), rx, len, 0));
		EXPECT_EQ(-1, ktls_first_diff(tx, rx, len));
	}
	close(mfd);
	free(tx);
	free(rx);
}

TEST_F(stack, shutdown_wr)
{
	static const char last[] = "last words";
	static const char reply[] = "reply after half-close";
	char rx[64];

	STACK_READY();
	ASSERT_EQ(sizeof(last), send(self->cfd, last, sizeof(last), 0));
	ASSERT_EQ(0, shutdown(self->cfd, SHUT_WR));

	memset(rx, 0, sizeof(rx));
	ASSERT_EQ(sizeof(last), recv(self->sfd, rx, sizeof(rx), 0));
	EXPECT_STREQ(last, rx);
	EXPECT_EQ(0, recv(self->sfd, rx, sizeof(rx), 0));

	/* the other direction still works */
	ASSERT_EQ(sizeof(reply), send(self->sfd, reply, sizeof(reply), 0));
	memset(rx, 0, sizeof(rx));
	ASSERT_EQ(sizeof(reply), recv(self->cfd, rx, sizeof(rx), 0));
	EXPECT_STREQ(reply, rx);

	ASSERT_EQ(0, shutdown(self->sfd, SHUT_WR));
	EXPECT_EQ(0, recv(self->cfd, rx, sizeof(rx), 0));
}

/* kTLS counters, and the module references of the armed ends */
TEST_F(stack, tls_stat)
{
	long long now[NR_STATS];
	unsigned int i, waited;
	long refs, now_refs = -1;
	int armed;

	STACK_READY();
	/* both ends have software TX and RX */
	read_stats(_metadata, now);
	for (i = 0; i < NR_STATS; i++) {
		EXPECT_EQ(self->stat0[i] + 2, now[i])
			TH_LOG("%s: %lld before, %lld now", stat_names[i],
			       self->stat0[i], now[i]);
	}

	refs = ktls_module_refcnt(MOD);
	close(self->cfd);
	close(self->sfd);
	self->cfd = -1;
	self->sfd = -1;

	/*
	 * Closing releases each armed socket's module reference (after an
	 * RCU grace period). "At most": a previous test's may go too.
	 */
	if (variant->mode != STACK_PLAIN) {
		armed = variant->mode == STACK_ATTEST ? 2 : 1;
		for (waited = 0; waited < REFCNT_WAIT_MS; waited += 10) {
			now_refs = ktls_module_refcnt(MOD);
			if (now_refs <= refs - armed)
				break;
			ktls_msleep(10);
		}
		EXPECT_LE(now_refs, refs - armed)
			TH_LOG("%s refcnt %ld after close, %ld before",
			       MOD, now_refs, refs);
	}

	/* the current counts drop back, the totals stay */
	for (waited = 0;; waited += 10) {
		read_stats(_metadata, now);
		if ((now[0] == self->stat0[0] && now[1] == self->stat0[1]) ||
		    waited >= 1000)
			break;
		ktls_msleep(10);
	}
	EXPECT_EQ(self->stat0[0], now[0]);
	EXPECT_EQ(self->stat0[1], now[1]);
	EXPECT_EQ(self->stat0[2] + 2, now[2]);
	EXPECT_EQ(self->stat0[3] + 2, now[3]);
}

/* ---- ULP life cycle, not per variant ---------------------------------- */

/* Skips without the module; else sets @base to the settled refcnt. */
#define REQUIRE_MODULE(base) do {					\
	if (!module_loaded())						\
		SKIP(return, "module %s not loaded", MOD);		\
	ASSERT_TRUE(ktls_ulp_available(ULP_ATTEST));			\
	base = ktls_settled_refcnt(MOD, 100, REFCNT_WAIT_MS);		\
	ASSERT_GE(base, 0);						\
} while (0)

#define EXPECT_REFCNT(want) do {					\
	long __want = (want), __last;					\
	EXPECT_EQ(0, ktls_wait_refcnt(MOD, __want, REFCNT_WAIT_MS,	\
				      &__last))				\
		TH_LOG("%s refcnt %ld, expected %ld", MOD, __last,	\
		       __want);						\
} while (0)

#define EXPECT_ULP(fd, name) do {					\
	char __ulp[32];							\
	ASSERT_EQ(0, ktls_get_ulp(fd, __ulp, sizeof(__ulp)));		\
	EXPECT_STREQ(name, __ulp);					\
} while (0)

/* Keys @cfd and @sfd as client and server and checks data both ways. */
static void key_and_talk(struct __test_metadata *_metadata, int cfd, int sfd,
			 unsigned int seed)
{
	struct ktls_crypto c2s, s2c;
	char tx[20000], rx[sizeof(tx)];

	ASSERT_EQ(0, ktls_crypto_init(&c2s, TLS_1_3_VERSION,
				      TLS_CIPHER_AES_GCM_128, C2S_KEYS,
				      C2S_SEQ));
	ASSERT_EQ(0, ktls_crypto_init(&s2c, TLS_1_3_VERSION,
				      TLS_CIPHER_AES_GCM_128, S2C_KEYS,
				      S2C_SEQ));
	ASSERT_EQ(0, stack_install(cfd, &c2s, &s2c));
	ASSERT_EQ(0, stack_install(sfd, &s2c, &c2s));
	EXPECT_ULP(cfd, "tls");
	EXPECT_ULP(sfd, "tls");

	ktls_fill(tx, sizeof(tx), seed);
	ASSERT_EQ(sizeof(tx), ktls_send_all(cfd, tx, sizeof(tx), 0));
	ASSERT_EQ(sizeof(rx), ktls_recv_all(sfd, rx, sizeof(rx), 0));
	EXPECT_EQ(-1, ktls_first_diff(tx, rx, sizeof(tx)));

	ktls_fill(tx, sizeof(tx), seed + 1);
	ASSERT_EQ(sizeof(tx), ktls_send_all(sfd, tx, sizeof(tx), 0));
	ASSERT_EQ(sizeof(rx), ktls_recv_all(cfd, rx, sizeof(rx), 0));
	EXPECT_EQ(-1, ktls_first_diff(tx, rx, sizeof(tx)));
}

TEST(listener_inheritance)
{
	static const int families[] = { AF_INET, AF_INET6 };
	struct pollfd pfd = { .events = POLLIN };
	struct sockaddr_storage ss;
	int lfd, c[2], a[2], i, f;
	char buf[16];
	socklen_t len;
	long base;

	REQUIRE_MODULE(base);

	for (f = 0; f < 2; f++) {
		lfd = ktls_listen_ulp(families[f], 4, ULP_ATTEST, &ss, &len);
		ASSERT_GE(lfd, 0);
		EXPECT_ULP(lfd, ULP_ATTEST);
		EXPECT_REFCNT(base + 1);

		/* the armed listener still polls and accepts as usual */
		pfd.fd = lfd;
		EXPECT_EQ(0, poll(&pfd, 1, 0));
		ASSERT_EQ(0, fcntl(lfd, F_SETFL, O_NONBLOCK));
		EXPECT_EQ(-1, accept(lfd, NULL, NULL));
		EXPECT_EQ(EAGAIN, errno);
		ASSERT_EQ(0, fcntl(lfd, F_SETFL, 0));

		for (i = 0; i < 2; i++) {
			c[i] = ktls_connect(families[f], &ss, len);
			ASSERT_GE(c[i], 0);
			ASSERT_EQ(1, poll(&pfd, 1, 5000));
			/* the second child comes out non-blocking */
			a[i] = accept4(lfd, NULL, NULL, i ? SOCK_NONBLOCK : 0);
			ASSERT_GE(a[i], 0);
			EXPECT_ULP(a[i], ULP_ATTEST);
			/* the client was never armed */
			EXPECT_ULP(c[i], "");
		}
		EXPECT_REFCNT(base + 3);
		EXPECT_EQ(-1, recv(a[1], buf, sizeof(buf), 0));
		EXPECT_EQ(EAGAIN, errno);
		ASSERT_EQ(0, fcntl(a[1], F_SETFL, 0));

		/* each child swaps to tls under a plain kTLS client */
		for (i = 0; i < 2; i++)
			key_and_talk(_metadata, c[i], a[i], 20 + i);
		EXPECT_REFCNT(base + 3);

		close(a[0]);
		EXPECT_REFCNT(base + 2);
		close(a[1]);
		EXPECT_REFCNT(base + 1);
		close(lfd);
		EXPECT_REFCNT(base);
		close(c[0]);
		close(c[1]);
	}
}

TEST(unaccepted_children)
{
	enum { NR_CLIENTS = 16 };
	struct sockaddr_storage ss;
	int lfd, c[NR_CLIENTS], i;
	socklen_t len;
	long base;

	REQUIRE_MODULE(base);

	lfd = ktls_listen_ulp(AF_INET, NR_CLIENTS, ULP_ATTEST, &ss, &len);
	ASSERT_GE(lfd, 0);
	for (i = 0; i < NR_CLIENTS; i++) {
		c[i] = ktls_connect(AF_INET, &ss, len);
		ASSERT_GE(c[i], 0);
	}
	/* the listener and every child in its accept queue */
	EXPECT_REFCNT(base + 1 + NR_CLIENTS);

	close(lfd);
	EXPECT_REFCNT(base);
	for (i = 0; i < NR_CLIENTS; i++)
		close(c[i]);
}

TEST(tls_on_attest_listener)
{
	struct sockaddr_storage ss;
	int lfd, cfd, afd;
	socklen_t len;
	long base;

	REQUIRE_MODULE(base);

	/* control: plain kTLS refuses a listener the same way */
	lfd = ktls_listen(AF_INET, 4, &ss, &len);
	ASSERT_GE(lfd, 0);
	EXPECT_EQ(-ENOTCONN, ktls_set_ulp(lfd, "tls"));
	close(lfd);

	/* a socket that listens already is not armed: its children are
	 * cloned from it without a lock
	 */
	lfd = ktls_listen(AF_INET, 4, &ss, &len);
	ASSERT_GE(lfd, 0);
	EXPECT_EQ(-EINVAL, ktls_set_ulp(lfd, ULP_ATTEST));
	EXPECT_ULP(lfd, "");
	close(lfd);

	lfd = ktls_listen_ulp(AF_INET, 4, ULP_ATTEST, &ss, &len);
	ASSERT_GE(lfd, 0);
	EXPECT_EQ(-ENOTCONN, ktls_set_ulp(lfd, "tls"));
	EXPECT_ULP(lfd, ULP_ATTEST);
	EXPECT_REFCNT(base + 1);

	cfd = ktls_connect(AF_INET, &ss, len);
	ASSERT_GE(cfd, 0);
	afd = accept(lfd, NULL, NULL);
	ASSERT_GE(afd, 0);
	EXPECT_ULP(afd, ULP_ATTEST);
	EXPECT_REFCNT(base + 2);
	key_and_talk(_metadata, cfd, afd, 30);

	close(afd);
	close(cfd);
	close(lfd);
	EXPECT_REFCNT(base);
}

TEST(attest_twice)
{
	int cfd, sfd;
	long base;

	REQUIRE_MODULE(base);

	ASSERT_EQ(0, ktls_tcp_pair(AF_INET, &cfd, &sfd));
	ASSERT_EQ(0, ktls_set_ulp(cfd, ULP_ATTEST));
	EXPECT_EQ(-EEXIST, ktls_set_ulp(cfd, ULP_ATTEST));
	EXPECT_ULP(cfd, ULP_ATTEST);
	/* one reference, not two */
	EXPECT_REFCNT(base + 1);
	key_and_talk(_metadata, cfd, sfd, 40);

	close(cfd);
	close(sfd);
	EXPECT_REFCNT(base);
}

TEST(attest_after_tls)
{
	int cfd, sfd;
	long base;

	REQUIRE_MODULE(base);

	/* plain tls first: the slot is taken */
	ASSERT_EQ(0, ktls_tcp_pair(AF_INET, &cfd, &sfd));
	ASSERT_EQ(0, ktls_set_ulp(cfd, "tls"));
	EXPECT_EQ(-EEXIST, ktls_set_ulp(cfd, ULP_ATTEST));
	EXPECT_EQ(-EEXIST, ktls_set_ulp(cfd, "tls"));
	EXPECT_ULP(cfd, "tls");
	EXPECT_REFCNT(base);
	close(cfd);
	close(sfd);

	/* attest, then tls under it: neither can be set again */
	ASSERT_EQ(0, ktls_tcp_pair(AF_INET, &cfd, &sfd));
	ASSERT_EQ(0, ktls_set_ulp(cfd, ULP_ATTEST));
	ASSERT_EQ(0, ktls_set_ulp(cfd, "tls"));
	EXPECT_EQ(-EEXIST, ktls_set_ulp(cfd, ULP_ATTEST));
	EXPECT_EQ(-EEXIST, ktls_set_ulp(cfd, "tls"));
	EXPECT_ULP(cfd, "tls");
	EXPECT_REFCNT(base + 1);

	/* the refused options changed nothing: it still keys and talks */
	{
		struct ktls_crypto c2s, s2c;
		char tx[3000], rx[sizeof(tx)];

		ASSERT_EQ(0, ktls_crypto_init(&c2s, TLS_1_2_VERSION,
					      TLS_CIPHER_AES_GCM_256,
					      C2S_KEYS, C2S_SEQ));
		ASSERT_EQ(0, ktls_crypto_init(&s2c, TLS_1_2_VERSION,
					      TLS_CIPHER_AES_GCM_256,
					      S2C_KEYS, S2C_SEQ));
		ASSERT_EQ(0, setsockopt(cfd, SOL_TLS, TLS_TX, &c2s.info,
					c2s.len));
		ASSERT_EQ(0, setsockopt(cfd, SOL_TLS, TLS_RX, &s2c.info,
					s2c.len));
		ASSERT_EQ(0, pass_gate(cfd));
		ASSERT_EQ(0, stack_install(sfd, &s2c, &c2s));
		ktls_fill(tx, sizeof(tx), 50);
		ASSERT_EQ(sizeof(tx), send(cfd, tx, sizeof(tx), 0));
		ASSERT_EQ(sizeof(rx), ktls_recv_all(sfd, rx, sizeof(rx), 0));
		EXPECT_EQ(-1, ktls_first_diff(tx, rx, sizeof(tx)));
		ASSERT_EQ(sizeof(tx), send(sfd, tx, sizeof(tx), 0));
		ASSERT_EQ(sizeof(rx), ktls_recv_all(cfd, rx, sizeof(rx), 0));
		EXPECT_EQ(-1, ktls_first_diff(tx, rx, sizeof(tx)));
	}

	close(cfd);
	close(sfd);
	EXPECT_REFCNT(base);
}

TEST(close_before_switch)
{
	char tx[4000], rx[sizeof(tx)];
	int cfd, sfd;
	long base;

	REQUIRE_MODULE(base);

	ASSERT_EQ(0, ktls_tcp_pair(AF_INET6, &cfd, &sfd));
	ASSERT_EQ(0, ktls_set_ulp(cfd, ULP_ATTEST));
	ASSERT_EQ(0, ktls_set_ulp(sfd, ULP_ATTEST));
	EXPECT_REFCNT(base + 2);

	/* before any key nothing is held: these are the handshake bytes */
	ktls_fill(tx, sizeof(tx), 60);
	ASSERT_EQ(sizeof(tx), send(cfd, tx, sizeof(tx), 0));
	ASSERT_EQ(sizeof(rx), ktls_recv_all(sfd, rx, sizeof(rx), 0));
	EXPECT_EQ(-1, ktls_first_diff(tx, rx, sizeof(tx)));
	ASSERT_EQ(sizeof(tx), send(sfd, tx, sizeof(tx), 0));
	ASSERT_EQ(sizeof(rx), ktls_recv_all(cfd, rx, sizeof(rx), 0));
	EXPECT_EQ(-1, ktls_first_diff(tx, rx, sizeof(tx)));

	close(cfd);
	EXPECT_REFCNT(base + 1);
	close(sfd);
	EXPECT_REFCNT(base);
}

/* A v6 socket connected to a v4-mapped address, and its v4 peer. */
static void mapped_pair(struct __test_metadata *_metadata, int *v6fd,
			int *v4fd)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 mapped = { .sin6_family = AF_INET6 };
	socklen_t len;
	int lfd;

	lfd = ktls_listen(AF_INET, 1, &ss, &len);
	ASSERT_GE(lfd, 0);
	mapped.sin6_port = ((struct sockaddr_in *)&ss)->sin_port;
	ASSERT_EQ(1, inet_pton(AF_INET6, "::ffff:127.0.0.1",
			       &mapped.sin6_addr));
	*v6fd = socket(AF_INET6, SOCK_STREAM, 0);
	ASSERT_GE(*v6fd, 0);
	ASSERT_EQ(0, connect(*v6fd, (struct sockaddr *)&mapped,
			     sizeof(mapped)));
	*v4fd = accept(lfd, NULL, NULL);
	ASSERT_GE(*v4fd, 0);
	close(lfd);
}

TEST(ipv6_addrform)
{
	int v6fd, v4fd, pf_inet = AF_INET;
	long base;

	REQUIRE_MODULE(base);

	/* control: on an unarmed socket IPV6_ADDRFORM works */
	mapped_pair(_metadata, &v6fd, &v4fd);
	EXPECT_EQ(0, setsockopt(v6fd, IPPROTO_IPV6, IPV6_ADDRFORM, &pf_inet,
				sizeof(pf_inet)));
	close(v6fd);
	close(v4fd);

	mapped_pair(_metadata, &v6fd, &v4fd);
	ASSERT_EQ(0, ktls_set_ulp(v6fd, ULP_ATTEST));
	EXPECT_REFCNT(base + 1);
	EXPECT_EQ(-1, setsockopt(v6fd, IPPROTO_IPV6, IPV6_ADDRFORM, &pf_inet,
				 sizeof(pf_inet)));
	EXPECT_EQ(EBUSY, errno);
	EXPECT_ULP(v6fd, ULP_ATTEST);

	key_and_talk(_metadata, v6fd, v4fd, 70);
	EXPECT_EQ(-1, setsockopt(v6fd, IPPROTO_IPV6, IPV6_ADDRFORM, &pf_inet,
				 sizeof(pf_inet)));
	EXPECT_EQ(EBUSY, errno);
	EXPECT_REFCNT(base + 1);

	close(v6fd);
	close(v4fd);
	EXPECT_REFCNT(base);
}

/*
 * The peer may send records right after its Finished, before this end has
 * its keys: kTLS picks them up from the TCP queue once TLS_RX is set.
 */
TEST(records_before_rx_key)
{
	const size_t sizes[] = { 100, TLS_MAX_PAYLOAD + 1, 5000 };
	char tx[100 + TLS_MAX_PAYLOAD + 1 + 5000], rx[sizeof(tx)];
	struct ktls_crypto c2s, s2c;
	size_t off;
	unsigned int i;
	int cfd, sfd, armed;
	long base;

	REQUIRE_MODULE(base);
	ASSERT_EQ(0, ktls_crypto_init(&c2s, TLS_1_3_VERSION,
				      TLS_CIPHER_AES_GCM_256, C2S_KEYS,
				      C2S_SEQ));
	ASSERT_EQ(0, ktls_crypto_init(&s2c, TLS_1_3_VERSION,
				      TLS_CIPHER_AES_GCM_256, S2C_KEYS,
				      S2C_SEQ));

	/* plain first (the control), then with the receiver armed */
	for (armed = 0; armed < 2; armed++) {
		ASSERT_EQ(0, ktls_tcp_pair(AF_INET, &cfd, &sfd));
		if (armed) {
			ASSERT_EQ(0, ktls_set_ulp(sfd, ULP_ATTEST));
		}
		ASSERT_EQ(0, stack_install(cfd, &c2s, &s2c));

		ktls_fill(tx, sizeof(tx), 80 + armed);
		for (i = 0, off = 0; i < 3; off += sizes[i++]) {
			ASSERT_EQ((ssize_t)sizes[i],
				  ktls_send_all(cfd, tx + off, sizes[i], 0));
		}
		ktls_msleep(20);	/* let them all land on the receiver */

		ASSERT_EQ(0, stack_install(sfd, &s2c, &c2s));
		EXPECT_ULP(sfd, "tls");
		ASSERT_EQ(sizeof(rx), ktls_recv_all(sfd, rx, sizeof(rx), 0));
		EXPECT_EQ(-1, ktls_first_diff(tx, rx, sizeof(tx)));
		EXPECT_REFCNT(base + armed);

		close(cfd);
		close(sfd);
		EXPECT_REFCNT(base);
	}
}

/* A forged record fails authentication the same way under the gate. */
TEST(bad_record)
{
	/* application_data, TLS 1.2 legacy version, 40 bytes of junk */
	unsigned char forged[5 + 40] = { 23, 3, 3, 0, 40 };
	struct ktls_crypto c2s, s2c;
	char rx[64];
	int cfd, sfd, armed;
	long base;

	REQUIRE_MODULE(base);
	ASSERT_EQ(0, ktls_crypto_init(&c2s, TLS_1_2_VERSION,
				      TLS_CIPHER_AES_GCM_128, C2S_KEYS,
				      C2S_SEQ));
	ASSERT_EQ(0, ktls_crypto_init(&s2c, TLS_1_2_VERSION,
				      TLS_CIPHER_AES_GCM_128, S2C_KEYS,
				      S2C_SEQ));
	ktls_fill(forged + 5, sizeof(forged) - 5, 90);

	for (armed = 0; armed < 2; armed++) {
		/* the client stays plain TCP and writes raw bytes */
		ASSERT_EQ(0, ktls_tcp_pair(AF_INET, &cfd, &sfd));
		if (armed) {
			ASSERT_EQ(0, ktls_set_ulp(sfd, ULP_ATTEST));
		}
		ASSERT_EQ(0, stack_install(sfd, &s2c, &c2s));
		ASSERT_EQ(sizeof(forged),
			  send(cfd, forged, sizeof(forged), 0));
		EXPECT_EQ(-1, recv(sfd, rx, sizeof(rx), 0));
		EXPECT_EQ(EBADMSG, errno);
		EXPECT_REFCNT(base + armed);
		close(cfd);
		close(sfd);
		EXPECT_REFCNT(base);
	}
}

TEST(many_sockets)
{
	enum { NR_PAIRS = 200 };
	int c[NR_PAIRS], s[NR_PAIRS], i;
	struct ktls_crypto c2s, s2c;
	struct sockaddr_storage ss;
	char tx[64], rx[64];
	socklen_t len;
	long base;
	int lfd;

	REQUIRE_MODULE(base);
	ASSERT_EQ(0, ktls_crypto_init(&c2s, TLS_1_2_VERSION,
				      TLS_CIPHER_CHACHA20_POLY1305,
				      C2S_KEYS, C2S_SEQ));
	ASSERT_EQ(0, ktls_crypto_init(&s2c, TLS_1_2_VERSION,
				      TLS_CIPHER_CHACHA20_POLY1305,
				      S2C_KEYS, S2C_SEQ));

	lfd = ktls_listen(AF_INET, 16, &ss, &len);
	ASSERT_GE(lfd, 0);
	for (i = 0; i < NR_PAIRS; i++) {
		c[i] = ktls_connect(AF_INET, &ss, len);
		ASSERT_GE(c[i], 0);
		s[i] = accept(lfd, NULL, NULL);
		ASSERT_GE(s[i], 0);
		ASSERT_EQ(0, ktls_set_ulp(c[i], ULP_ATTEST));
		ASSERT_EQ(0, ktls_set_ulp(s[i], ULP_ATTEST));
	}
	close(lfd);
	EXPECT_REFCNT(base + 2 * NR_PAIRS);

	/* half of them go on to kTLS and move a record, half stay armed */
	for (i = 0; i < NR_PAIRS; i += 2) {
		ASSERT_EQ(0, stack_install(c[i], &c2s, &s2c));
		ASSERT_EQ(0, stack_install(s[i], &s2c, &c2s));
	}
	for (i = 0; i < NR_PAIRS; i++) {
		ktls_fill(tx, sizeof(tx), 100 + i);
		ASSERT_EQ(sizeof(tx), send(c[i], tx, sizeof(tx), 0));
		ASSERT_EQ(sizeof(rx), ktls_recv_all(s[i], rx, sizeof(rx), 0));
		ASSERT_EQ(-1, ktls_first_diff(tx, rx, sizeof(tx)));
	}
	EXPECT_REFCNT(base + 2 * NR_PAIRS);

	for (i = 0; i < NR_PAIRS; i++) {
		close(c[i]);
		close(s[i]);
	}
	EXPECT_REFCNT(base);
}

TEST_HARNESS_MAIN
