// SPDX-License-Identifier: GPL-2.0
/*
 * libktls-attest against real OpenSSL peers, on real kTLS.
 *
 *   +---------------------- one network namespace per test ----------------------+
 *   |  this test: OpenSSL + libktls-attest  <--TCP 127.0.0.1:4433-->  openssl      |
 *   |  (gated kTLS after ktls_attest_move)                     s_server / s_client |
 *   |  operator verdicts over netlink; katt-agent for the bound mode             |
 *   +----------------------------------------------------------------------------+
 *
 * Fixtures:
 *  peers  (variants: library as client or server, each TLS 1.3 cipher,
 *         0 or 2 tickets): the library's end gated without a binding and
 *         passed by an operator verdict; single bytes and 10 MiB both ways,
 *         every byte compared; close_notify seen by the peer as a clean
 *         shutdown (exit status 0, no "unexpected eof");
 *  bound  (variants: certificates and verification): both ends use the
 *         library; the exporters agree, the binding flags are right on
 *         each side, and the round-start events carry exactly that binding
 *         (the selftests' katt-agent reports them);
 *  one:   userspace mode; OpenSSL's own kTLS (SSL_OP_ENABLE_KTLS, and
 *         openssl.cnf Options = KTLS), cleared or kept (then TX is
 *         OpenSSL's and the socket is armed by fd); TLS 1.2, pending data
 *         and read-ahead refused with the connection still working in
 *         userspace; a KeyUpdate from either peer failing cleanly; the
 *         wait, its timeout and the error sentences; re-attestation.
 *
 * Needs root, the tls and ktls_attest modules and openssl(1); without the
 * module every test SKIPs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/ktls_attest.h>
#include <linux/tls.h>
#include <openssl/conf.h>
#include <openssl/ssl.h>

#include "kselftest_harness.h"
#include "ktls-attest.h"
#include "lib/katt_agentctl.h"
#include "lib/katt_certs.h"
#include "lib/katt_nl.h"
#include "lib/katt_peer.h"
#include "lib/katt_test.h"
#include "lib/ktls.h"

#define PORT		4433
#define BULK		(10 << 20)
#define SMALL		(1 << 20)
#define START_MS	20000	/* an exec of openssl under TCG is slow */
#define XFER_MS		120000
#define EXIT_MS		20000

#define AES128		"TLS_AES_128_GCM_SHA256"
#define AES256		"TLS_AES_256_GCM_SHA384"
#define CHACHA		"TLS_CHACHA20_POLY1305_SHA256"

/* --- the environment of a test -------------------------------------------- */

struct env {
	bool skip;
	long long t0;
	char dir[64];
	struct katt_ident ca, srv, cli;
	struct katt_peer peer;
	SSL_CTX *ctx;
	SSL *ssl;
	struct ktls_attest *ka;
	int fd, lfd;
	uint8_t *a, *b;		/* test patterns */
};

/* How the library's end is made. */
struct lib_opts {
	bool server;		/* accept() from s_client; else connect() */
	const char *suites;	/* NULL: OpenSSL's defaults */
	int tickets;		/* server: num_tickets; -1: OpenSSL's */
	bool tls12;		/* allow TLS 1.2 */
	bool verify;		/* verify the peer against the test CA */
	bool cert;		/* a client: present the client certificate */
	bool ask_cert;		/* a server: ask for a client certificate */
	bool ktls_option;	/* SSL_OP_ENABLE_KTLS on the SSL_CTX */
	bool read_ahead;
	struct ktls_attest_opts ka;	/* mode 0: gated */
};

static void env_setup(struct __test_metadata *_metadata, struct env *e)
{
	memset(e, 0, sizeof(*e));
	e->t0 = katt_now_ms();
	e->fd = e->lfd = -1;
	e->peer = (struct katt_peer)KATT_PEER_INIT;
	if (!katt_module_loaded()) {
		e->skip = true;
		SKIP(return, "module %s not loaded", KTLS_ATTEST_MODULE);
	}
	signal(SIGPIPE, SIG_IGN);
	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	ASSERT_EQ(0, katt_lo_up());
	strcpy(e->dir, "/tmp/katt-lib.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(e->dir));
	ASSERT_EQ(0, katt_ident_make(&e->ca, "ktls-attest test CA", NULL));
	ASSERT_EQ(0, katt_ident_make(&e->srv, "localhost", &e->ca));
	ASSERT_EQ(0, katt_ident_make(&e->cli, "client", &e->ca));
	ASSERT_EQ(0, katt_ident_write(&e->ca, e->dir, "ca"));
	ASSERT_EQ(0, katt_ident_write(&e->srv, e->dir, "server"));
	ASSERT_EQ(0, katt_ident_write(&e->cli, e->dir, "client"));
}

static void env_conn_close(struct env *e)
{
	katt_peer_kill(&e->peer);
	SSL_free(e->ssl);
	SSL_CTX_free(e->ctx);
	e->ssl = NULL;
	e->ctx = NULL;
	e->ka = NULL;
	if (e->fd >= 0)
		close(e->fd);
	if (e->lfd >= 0)
		close(e->lfd);
	e->fd = e->lfd = -1;
}

static void env_teardown(struct env *e)
{
	char cmd[128];

	if (!e->skip)
		printf("# %lld ms\n", katt_now_ms() - e->t0);
	env_conn_close(e);
	katt_ident_free(&e->ca);
	katt_ident_free(&e->srv);
	katt_ident_free(&e->cli);
	free(e->a);
	free(e->b);
	if (e->dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", e->dir);
		if (system(cmd))
			perror("rm");
	}
}

static const char *peer_err(struct env *e)
{
	static char buf[2048];

	return katt_peer_stderr(&e->peer, buf, sizeof(buf));
}

/* --- the OpenSSL peer -------------------------------------------------------- */

struct argv {
	char *v[48];
	int n;
	char store[48][160];
};

static void arg(struct argv *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void arg(struct argv *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->store[a->n], sizeof(a->store[0]), fmt, ap);
	va_end(ap);
	a->v[a->n] = a->store[a->n];
	a->v[++a->n] = NULL;
}

/* What the OpenSSL peer is asked for, besides the library's options. */
struct peer_opts {
	bool interactive;	/* no -quiet: its k command works */
	const char *conf;	/* OPENSSL_CONF */
};

/* openssl s_server or s_client, the other end of @lo. */
static void peer_start(struct __test_metadata *_metadata, struct env *e,
		       const struct lib_opts *lo, const struct peer_opts *po)
{
	char err_path[128], confenv[160];
	char *envp[2] = { NULL, NULL };
	struct argv a = { .n = 0 };

	arg(&a, "openssl");
	if (lo->server) {
		arg(&a, "s_client");
		arg(&a, "-connect");
		arg(&a, "127.0.0.1:%d", PORT);
		arg(&a, "-servername");
		arg(&a, "localhost");
		arg(&a, "-CAfile");
		arg(&a, "%s", e->ca.cert_path);
		if (lo->ask_cert) {
			arg(&a, "-cert");
			arg(&a, "%s", e->cli.cert_path);
			arg(&a, "-key");
			arg(&a, "%s", e->cli.key_path);
		}
	} else {
		arg(&a, "s_server");
		arg(&a, "-4");
		arg(&a, "-accept");
		arg(&a, "%d", PORT);
		arg(&a, "-naccept");
		arg(&a, "1");
		arg(&a, "-cert");
		arg(&a, "%s", e->srv.cert_path);
		arg(&a, "-key");
		arg(&a, "%s", e->srv.key_path);
		if (lo->tickets >= 0) {
			arg(&a, "-num_tickets");
			arg(&a, "%d", lo->tickets);
		}
		if (lo->cert) {
			arg(&a, "-Verify");
			arg(&a, "1");
			arg(&a, "-CAfile");
			arg(&a, "%s", e->ca.cert_path);
		}
		if (lo->tls12) {
			arg(&a, "-tls1_2");
		}
	}
	if (lo->suites) {
		arg(&a, "-ciphersuites");
		arg(&a, "%s", lo->suites);
	}
	if (!po || !po->interactive)
		arg(&a, "-quiet");
	if (po && po->conf) {
		snprintf(confenv, sizeof(confenv), "OPENSSL_CONF=%s", po->conf);
		envp[0] = confenv;
	}
	snprintf(err_path, sizeof(err_path), "%s/peer.err", e->dir);
	ASSERT_EQ(0, katt_peer_start(&e->peer, a.v, envp, err_path));
}

/* --- the library's end ---------------------------------------------------- */

static SSL_CTX *lib_ctx(struct __test_metadata *_metadata, struct env *e,
			const struct lib_opts *lo)
{
	SSL_CTX *ctx = SSL_CTX_new(lo->server ? TLS_server_method() :
				   TLS_client_method());

	if (!ctx)
		return NULL;
	if (!lo->tls12)
		SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	if (lo->suites)
		EXPECT_EQ(1, SSL_CTX_set_ciphersuites(ctx, lo->suites));
	if (lo->server || lo->cert) {
		struct katt_ident *id = lo->server ? &e->srv : &e->cli;

		EXPECT_EQ(1, SSL_CTX_use_certificate(ctx, id->cert));
		EXPECT_EQ(1, SSL_CTX_use_PrivateKey(ctx, id->key));
	}
	if (lo->server && lo->tickets >= 0)
		SSL_CTX_set_num_tickets(ctx, lo->tickets);
	/* a client verifies the server; a server asks for a client's */
	if (lo->server ? lo->ask_cert : lo->verify) {
		X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), e->ca.cert);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
				   (lo->server ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
				   NULL);
	}
	if (lo->ktls_option)
		SSL_CTX_set_options(ctx, SSL_OP_ENABLE_KTLS);
	return ctx;
}

static int set_timeo(int fd, int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000,
			      .tv_usec = (ms % 1000) * 1000 };

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)))
		return -errno;
	return 0;
}

static struct ktls_attest_opts lib_ka_opts(const struct lib_opts *lo)
{
	struct ktls_attest_opts o = lo->ka;

	if (!o.mode)
		o.mode = KTLS_ATTEST_MODE_GATED;
	return o;
}

/*
 * The library's end of a connection with an OpenSSL peer, up to the end
 * of the handshake: prepared, not moved.  The peer is started here.
 */
static void lib_open(struct __test_metadata *_metadata, struct env *e,
		     const struct lib_opts *lo, const struct peer_opts *po)
{
	struct ktls_attest_opts ko = lib_ka_opts(lo);
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(PORT),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	struct pollfd pfd;
	int one = 1, ret;

	e->ctx = lib_ctx(_metadata, e, lo);
	ASSERT_NE(NULL, e->ctx);
	if (lo->server) {
		e->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		ASSERT_LE(0, e->lfd);
		setsockopt(e->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		ASSERT_EQ(0, bind(e->lfd, (struct sockaddr *)&sin, sizeof(sin)));
		/* an armed listener: the accepted socket is armed */
		if (ko.mode != KTLS_ATTEST_MODE_USERSPACE &&
		    !(ko.flags & KTLS_ATTEST_F_OPENSSL_KTLS))
			ASSERT_EQ(0, ktls_attest_arm(e->lfd, ko.role,
						     ko.timeout_ms,
						     ko.policy_flags))
				TH_LOG("%s", ktls_attest_strerror(NULL));
		ASSERT_EQ(0, listen(e->lfd, 1));
		peer_start(_metadata, e, lo, po);
		pfd.fd = e->lfd;
		pfd.events = POLLIN;
		ASSERT_EQ(1, poll(&pfd, 1, START_MS))
			TH_LOG("s_client did not connect: %s", peer_err(e));
		e->fd = accept4(e->lfd, NULL, NULL, SOCK_CLOEXEC);
		ASSERT_LE(0, e->fd);
	} else {
		peer_start(_metadata, e, lo, po);
		ASSERT_EQ(0, katt_wait_listen(PORT, START_MS))
			TH_LOG("s_server does not listen: %s", peer_err(e));
		e->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		ASSERT_LE(0, e->fd);
		ASSERT_EQ(0, connect(e->fd, (struct sockaddr *)&sin,
				     sizeof(sin)));
	}
	ASSERT_EQ(0, set_timeo(e->fd, 20000));
	e->ssl = SSL_new(e->ctx);
	ASSERT_NE(NULL, e->ssl);
	ASSERT_EQ(1, SSL_set_fd(e->ssl, e->fd));
	if (!lo->server)
		SSL_set_tlsext_host_name(e->ssl, "localhost");
	if (lo->read_ahead)
		SSL_set_read_ahead(e->ssl, 1);
	ret = ktls_attest_prepare(e->ssl, &ko, &e->ka);
	ASSERT_EQ(0, ret) TH_LOG("prepare: %s", ktls_attest_strerror(NULL));
	ret = lo->server ? SSL_accept(e->ssl) : SSL_connect(e->ssl);
	ASSERT_EQ(1, ret) TH_LOG("handshake: %d; peer: %s",
				 SSL_get_error(e->ssl, ret), peer_err(e));
}

static void expect_state(struct __test_metadata *_metadata, int fd,
			 uint32_t state)
{
	struct ktls_attest_status st;

	ASSERT_EQ(0, katt_status(fd, &st));
	EXPECT_EQ(state, st.state) TH_LOG("state %s, expected %s (%s)",
					  katt_nl_state_name(st.state),
					  katt_nl_state_name(state),
					  st.reason_text);
}

/* Move, held, operator pass, open. */
static void lib_move_pass(struct __test_metadata *_metadata, struct env *e)
{
	int ret;

	ret = ktls_attest_move(e->ka);
	ASSERT_EQ(0, ret) TH_LOG("move: %s", ktls_attest_strerror(e->ka));
	ASSERT_TRUE(ktls_attest_moved(e->ka));
	expect_state(_metadata, e->fd, KTLS_ATTEST_STATE_PENDING);
	EXPECT_EQ(-EAGAIN, ktls_attest_wait(e->ka, 0));
	EXPECT_NE(NULL, strstr(ktls_attest_strerror(e->ka), "held"))
		TH_LOG("%s", ktls_attest_strerror(e->ka));
	ASSERT_EQ(0, katt_nl_pass_socket(e->fd, "lib_openssl operator"));
	ASSERT_EQ(0, ktls_attest_wait(e->ka, 5000))
		TH_LOG("%s", ktls_attest_strerror(e->ka));
	expect_state(_metadata, e->fd, KTLS_ATTEST_STATE_PASSED);
}

/* @lib_len bytes of pattern a from offset @off, @peer_len of b. */
static void xfer_at(struct __test_metadata *_metadata, struct env *e,
		    size_t off, size_t lib_len, size_t peer_len, size_t chunk)
{
	struct katt_xfer x = {
		.ka = e->ka, .peer = &e->peer,
		.lib_tx = e->a + off, .lib_tx_len = lib_len,
		.peer_tx = e->b + off, .peer_tx_len = peer_len,
		.chunk = chunk,
	};

	ASSERT_EQ(0, katt_xfer_run(&x, XFER_MS))
		TH_LOG("%s; peer: %s", x.why, peer_err(e));
	EXPECT_EQ(lib_len, x.peer_got);
	EXPECT_EQ(peer_len, x.lib_got);
}

static void xfer(struct __test_metadata *_metadata, struct env *e,
		 size_t lib_len, size_t peer_len, size_t chunk)
{
	xfer_at(_metadata, e, 0, lib_len, peer_len, chunk);
}

static void patterns(struct __test_metadata *_metadata, struct env *e,
		     size_t len)
{
	e->a = malloc(len);
	e->b = malloc(len);
	ASSERT_TRUE(e->a && e->b);
	ktls_fill(e->a, len, 1);
	ktls_fill(e->b, len, 2);
}

static void nonblock(struct __test_metadata *_metadata, int fd)
{
	ASSERT_EQ(0, katt_set_nonblock(fd, true));
}

/*
 * close_notify from the library; the peer ends cleanly.  s_client answers
 * with its own close_notify (the library's receive then gives 0); s_server
 * marks it sent without sending it and closes the socket.
 */
static void lib_close(struct __test_metadata *_metadata, struct env *e,
		      const struct lib_opts *lo)
{
	const char *err;
	char c;
	ssize_t n;
	int ret;

	ASSERT_EQ(0, katt_set_nonblock(e->fd, false));
	ASSERT_EQ(0, ktls_attest_close(e->ka))
		TH_LOG("%s", ktls_attest_strerror(e->ka));
	n = ktls_attest_recv(e->ka, &c, 1, 0);
	if (lo->server) {
		EXPECT_EQ(0, n) TH_LOG("after close_notify: %s",
				       ktls_attest_strerror(e->ka));
	} else {
		EXPECT_TRUE(n == 0 || n == -ECONNABORTED)
			TH_LOG("%zd %s", n, ktls_attest_strerror(e->ka));
	}
	ret = katt_peer_wait(&e->peer, EXIT_MS);
	err = peer_err(e);
	EXPECT_EQ(0, ret) TH_LOG("peer exit %d: %s", ret, err);
	EXPECT_EQ(NULL, strstr(err, "unexpected eof")) TH_LOG("%s", err);
	EXPECT_EQ(NULL, strstr(err, ":error:")) TH_LOG("%s", err);
}

/* --- peers: each cipher, each side, tickets 0 and 2 ------------------------------- */

FIXTURE(peers)
{
	struct env e;
};

FIXTURE_VARIANT(peers)
{
	bool server;
	const char *suites;
	int tickets;
	uint16_t cipher;
};

#define PEERS_VARIANT(name, srv, suite, t, c)				\
	FIXTURE_VARIANT_ADD(peers, name)				\
	{								\
		.server = srv, .suites = suite, .tickets = t,		\
		.cipher = c,						\
	}

PEERS_VARIANT(client_aes128_tickets0, false, AES128, 0, TLS_CIPHER_AES_GCM_128);
PEERS_VARIANT(client_aes128_tickets2, false, AES128, 2, TLS_CIPHER_AES_GCM_128);
PEERS_VARIANT(client_aes256_tickets0, false, AES256, 0, TLS_CIPHER_AES_GCM_256);
PEERS_VARIANT(client_aes256_tickets2, false, AES256, 2, TLS_CIPHER_AES_GCM_256);
PEERS_VARIANT(client_chacha_tickets0, false, CHACHA, 0, TLS_CIPHER_CHACHA20_POLY1305);
PEERS_VARIANT(client_chacha_tickets2, false, CHACHA, 2, TLS_CIPHER_CHACHA20_POLY1305);
PEERS_VARIANT(server_aes128_tickets0, true, AES128, 0, TLS_CIPHER_AES_GCM_128);
PEERS_VARIANT(server_aes128_tickets2, true, AES128, 2, TLS_CIPHER_AES_GCM_128);
PEERS_VARIANT(server_aes256_tickets0, true, AES256, 0, TLS_CIPHER_AES_GCM_256);
PEERS_VARIANT(server_aes256_tickets2, true, AES256, 2, TLS_CIPHER_AES_GCM_256);
PEERS_VARIANT(server_chacha_tickets0, true, CHACHA, 0, TLS_CIPHER_CHACHA20_POLY1305);
PEERS_VARIANT(server_chacha_tickets2, true, CHACHA, 2, TLS_CIPHER_CHACHA20_POLY1305);

FIXTURE_SETUP(peers)
{
	env_setup(_metadata, &self->e);
}

FIXTURE_TEARDOWN(peers)
{
	env_teardown(&self->e);
}

TEST_F_TIMEOUT(peers, single_bytes_and_10mib, 600)
{
	const struct lib_opts lo = {
		.server = variant->server, .suites = variant->suites,
		.tickets = variant->tickets, .verify = true,
	};
	struct env *e = &self->e;
	char ulp[16];
	int i;

	if (e->skip)
		return;
	patterns(_metadata, e, BULK);
	lib_open(_metadata, e, &lo, NULL);
	lib_move_pass(_metadata, e);
	ASSERT_EQ(0, ktls_get_ulp(e->fd, ulp, sizeof(ulp)));
	EXPECT_STREQ("tls", ulp);
	EXPECT_EQ(variant->cipher, katt_ktls_cipher(e->fd, TLS_TX));
	EXPECT_EQ(variant->cipher, katt_ktls_cipher(e->fd, TLS_RX));
	EXPECT_EQ(0, ktls_attest_binding_flags(e->ka));
	nonblock(_metadata, e->fd);
	/* one byte each way, three times, each its own record */
	for (i = 0; i < 3; i++)
		xfer_at(_metadata, e, i, 1, 1, 1);
	xfer(_metadata, e, BULK, BULK, 0);
	lib_close(_metadata, e, &lo);
}

/* --- bound: both ends use the library ----------------------------------------- */

FIXTURE(bound)
{
	struct env e;
	struct katt_agent ag;
	SSL_CTX *sctx;
	SSL *s;
	struct ktls_attest *ks;
	int sfd;
};

FIXTURE_VARIANT(bound)
{
	bool client_verifies;
	bool mutual;		/* client certificate, verified */
	uint32_t server_flags, client_flags;
};

#define L KTLS_ATTEST_BINDING_LOCAL_KEY
#define P KTLS_ATTEST_BINDING_PEER_KEY
#define V KTLS_ATTEST_BINDING_PEER_VERIFIED
#define S KTLS_ATTEST_BINDING_TLS_SERVER

FIXTURE_VARIANT_ADD(bound, server_cert_unverified)
{
	.server_flags = L | S, .client_flags = P,
};

FIXTURE_VARIANT_ADD(bound, server_cert_verified)
{
	.client_verifies = true,
	.server_flags = L | S, .client_flags = P | V,
};

FIXTURE_VARIANT_ADD(bound, mutual_tls)
{
	.client_verifies = true, .mutual = true,
	.server_flags = L | P | V | S, .client_flags = L | P | V,
};

FIXTURE_SETUP(bound)
{
	self->sfd = -1;
	self->ag.fd = -1;
	env_setup(_metadata, &self->e);
}

FIXTURE_TEARDOWN(bound)
{
	SSL_free(self->s);
	SSL_CTX_free(self->sctx);
	if (self->sfd >= 0)
		close(self->sfd);
	katt_agent_kill(&self->ag);
	env_teardown(&self->e);
}

/* The round-start of @cookie carries @flags and the expected binding. */
static void expect_binding(struct __test_metadata *_metadata,
			   struct katt_agent *ag, uint64_t cookie,
			   uint32_t flags, const uint8_t *exporter,
			   const uint8_t *local, const uint8_t *peer)
{
	struct katt_agent_ev ev;
	int ret;

	ret = katt_agent_next(ag, cookie, &ev, 10000);
	ASSERT_EQ(0, ret) TH_LOG("no event for %llu: %s",
				 (unsigned long long)cookie, strerror(-ret));
	ASSERT_EQ(KATT_AGENT_ROUND, ev.kind);
	EXPECT_EQ(1, ev.round);
	EXPECT_EQ(KTLS_ATTEST_STATE_PENDING, ev.state);
	ASSERT_TRUE(ev.has_bflags);
	EXPECT_EQ(flags, ev.bflags);
	ASSERT_TRUE(ev.has_exporter);
	EXPECT_EQ(0, memcmp(exporter, ev.exporter, 32));
	EXPECT_EQ(!!(flags & L), ev.has_local);
	EXPECT_EQ(!!(flags & P), ev.has_peer);
	if (ev.has_local)
		EXPECT_EQ(0, memcmp(local, ev.local, 32));
	if (ev.has_peer)
		EXPECT_EQ(0, memcmp(peer, ev.peer, 32));
	katt_agent_ev_release(&ev);
}

TEST_F_TIMEOUT(bound, exporter_flags_round_start, 120)
{
	const struct lib_opts clo = {
		.verify = variant->client_verifies, .cert = variant->mutual,
		.tickets = 2,
		.ka = { .mode = KTLS_ATTEST_MODE_BOUND },
	};
	const struct lib_opts slo = {
		.server = true, .ask_cert = variant->mutual, .tickets = 2,
	};
	struct ktls_attest_opts ko = { .mode = KTLS_ATTEST_MODE_BOUND };
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(PORT),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	uint8_t exporter[32], srv_key[32], cli_key[32], buf[64];
	uint64_t ccookie, scookie;
	struct env *e = &self->e;
	int lfd, rs = 0, rc = 0, i, ret;

	if (e->skip)
		return;
	ret = katt_agent_start(&self->ag, katt_agent_path(), -1);
	ASSERT_EQ(0, ret) TH_LOG("katt-agent: %s", strerror(-ret));

	/* both ends here: the server armed through its listener */
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, bind(lfd, (struct sockaddr *)&sin, sizeof(sin)));
	ASSERT_EQ(0, ktls_attest_arm(lfd, 0, 0, 0));
	ASSERT_EQ(0, listen(lfd, 1));
	e->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_EQ(0, connect(e->fd, (struct sockaddr *)&sin, sizeof(sin)));
	self->sfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	close(lfd);
	ASSERT_LE(0, self->sfd);
	nonblock(_metadata, e->fd);
	nonblock(_metadata, self->sfd);

	e->ctx = lib_ctx(_metadata, e, &clo);
	self->sctx = lib_ctx(_metadata, e, &slo);
	e->ssl = SSL_new(e->ctx);
	self->s = SSL_new(self->sctx);
	ASSERT_TRUE(e->ssl && self->s);
	SSL_set_fd(e->ssl, e->fd);
	SSL_set_fd(self->s, self->sfd);
	SSL_set_connect_state(e->ssl);
	SSL_set_accept_state(self->s);
	ASSERT_EQ(0, ktls_attest_prepare(e->ssl, &ko, &e->ka))
		TH_LOG("%s", ktls_attest_strerror(NULL));
	ASSERT_EQ(0, ktls_attest_prepare(self->s, &ko, &self->ks))
		TH_LOG("%s", ktls_attest_strerror(NULL));
	for (i = 0; i < 2000 && (rs != 1 || rc != 1); i++) {
		if (rc != 1)
			rc = SSL_do_handshake(e->ssl);
		if (rs != 1)
			rs = SSL_do_handshake(self->s);
		if (rs != 1 || rc != 1)
			poll(NULL, 0, 1);
	}
	ASSERT_EQ(1, rc);
	ASSERT_EQ(1, rs);
	ASSERT_EQ(0, ktls_attest_move(e->ka)) TH_LOG("%s", ktls_attest_strerror(e->ka));
	ASSERT_EQ(0, ktls_attest_move(self->ks))
		TH_LOG("%s", ktls_attest_strerror(self->ks));
	EXPECT_EQ(variant->client_flags, ktls_attest_binding_flags(e->ka));
	EXPECT_EQ(variant->server_flags, ktls_attest_binding_flags(self->ks));

	/* what the test computes on its own: OpenSSL still exports */
	ASSERT_EQ(1, SSL_export_keying_material(e->ssl, exporter, 32,
						KTLS_ATTEST_EXPORTER_LABEL,
						strlen(KTLS_ATTEST_EXPORTER_LABEL),
						(const unsigned char *)"", 0, 1));
	ASSERT_EQ(1, SSL_export_keying_material(self->s, buf, 32,
						KTLS_ATTEST_EXPORTER_LABEL,
						strlen(KTLS_ATTEST_EXPORTER_LABEL),
						NULL, 0, 0));
	EXPECT_EQ(0, memcmp(exporter, buf, 32)) TH_LOG("the exporters differ");
	ASSERT_EQ(0, katt_spki_sha256(e->srv.cert, srv_key));
	ASSERT_EQ(0, katt_spki_sha256(e->cli.cert, cli_key));
	ccookie = katt_sock_cookie(e->fd);
	scookie = katt_sock_cookie(self->sfd);
	expect_binding(_metadata, &self->ag, ccookie, variant->client_flags,
		       exporter, cli_key, srv_key);
	expect_binding(_metadata, &self->ag, scookie, variant->server_flags,
		       exporter, srv_key, cli_key);

	/* the agent passes both; data flows, the server's tickets skipped */
	ASSERT_EQ(0, katt_agent_verdict(&self->ag, ccookie, 1, "pass"));
	ASSERT_EQ(0, katt_agent_verdict(&self->ag, scookie, 1, "pass"));
	ASSERT_EQ(0, ktls_attest_wait(e->ka, 5000));
	ASSERT_EQ(0, ktls_attest_wait(self->ks, 5000));
	ASSERT_EQ(0, katt_set_nonblock(e->fd, false));
	ASSERT_EQ(0, katt_set_nonblock(self->sfd, false));
	ASSERT_EQ(0, set_timeo(e->fd, 5000));
	ASSERT_EQ(0, set_timeo(self->sfd, 5000));
	ASSERT_EQ(5, ktls_attest_send(self->ks, "hello", 5, 0));
	ASSERT_EQ(5, ktls_attest_recv(e->ka, buf, sizeof(buf), 0))
		TH_LOG("%s", ktls_attest_strerror(e->ka));
	EXPECT_EQ(0, memcmp(buf, "hello", 5));
	ASSERT_EQ(3, ktls_attest_send(e->ka, "bye", 3, 0));
	ASSERT_EQ(3, ktls_attest_recv(self->ks, buf, sizeof(buf), 0));
	ASSERT_EQ(0, ktls_attest_close(e->ka));
	EXPECT_EQ(0, ktls_attest_recv(self->ks, buf, sizeof(buf), 0))
		TH_LOG("close_notify: %s", ktls_attest_strerror(self->ks));
}

/* --- one: the rest ------------------------------------------------------------ */

FIXTURE(one)
{
	struct env e;
};

FIXTURE_SETUP(one)
{
	env_setup(_metadata, &self->e);
}

FIXTURE_TEARDOWN(one)
{
	env_teardown(&self->e);
}

#define ONE_READY()				\
	do {					\
		if (self->e.skip)		\
			return;			\
	} while (0)

/* Userspace mode: the library's calls are OpenSSL's; no kTLS, no gate. */
TEST_F_TIMEOUT(one, userspace_mode, 180)
{
	const struct lib_opts lo = {
		.tickets = 2, .ka = { .mode = KTLS_ATTEST_MODE_USERSPACE },
	};
	struct env *e = &self->e;
	char ulp[16];

	ONE_READY();
	patterns(_metadata, e, SMALL);
	lib_open(_metadata, e, &lo, NULL);
	ASSERT_EQ(0, ktls_attest_move(e->ka));
	EXPECT_FALSE(ktls_attest_moved(e->ka));
	EXPECT_EQ(0, ktls_attest_wait(e->ka, 0));
	ASSERT_EQ(0, ktls_get_ulp(e->fd, ulp, sizeof(ulp)));
	EXPECT_STREQ("", ulp);
	nonblock(_metadata, e->fd);
	xfer(_metadata, e, SMALL, SMALL, 0);
	lib_close(_metadata, e, &lo);
}

/*
 * SSL_OP_ENABLE_KTLS set by the program: prepare clears it, OpenSSL
 * installs nothing, the library installs both keys (and the server's
 * tickets are not held by the gate).
 */
static void ktls_option_cleared(struct __test_metadata *_metadata,
				struct env *e, bool server)
{
	const struct lib_opts lo = {
		.server = server, .tickets = 2, .ktls_option = true,
	};

	patterns(_metadata, e, SMALL);
	lib_open(_metadata, e, &lo, NULL);
	EXPECT_FALSE(SSL_get_options(e->ssl) & SSL_OP_ENABLE_KTLS);
	EXPECT_FALSE(BIO_get_ktls_send(SSL_get_wbio(e->ssl)));
	expect_state(_metadata, e->fd, KTLS_ATTEST_STATE_ARMED);
	lib_move_pass(_metadata, e);
	nonblock(_metadata, e->fd);
	xfer(_metadata, e, SMALL, SMALL, 0);
	lib_close(_metadata, e, &lo);
}

TEST_F_TIMEOUT(one, openssl_ktls_cleared_client, 180)
{
	ONE_READY();
	ktls_option_cleared(_metadata, &self->e, false);
}

TEST_F_TIMEOUT(one, openssl_ktls_cleared_server, 180)
{
	ONE_READY();
	ktls_option_cleared(_metadata, &self->e, true);
}

/*
 * KTLS_ATTEST_F_OPENSSL_KTLS: OpenSSL installs TLS_TX itself (a server's
 * tickets go out through kTLS); the socket is not armed before the move,
 * which installs RX and arms it by fd.
 */
static void ktls_tx_by_openssl(struct __test_metadata *_metadata,
			       struct env *e, bool server, bool by_option,
			       const char *peer_conf)
{
	struct lib_opts lo = {
		.server = server, .tickets = 2, .ktls_option = by_option,
		.ka = {
			.mode = KTLS_ATTEST_MODE_GATED,
			.flags = KTLS_ATTEST_F_OPENSSL_KTLS,
			.role = KTLS_ATTEST_ROLE_RELYING_PARTY |
				KTLS_ATTEST_ROLE_ATTESTER,
			.timeout_ms = 30000,
		},
	};
	const struct peer_opts po = { .conf = peer_conf };
	struct ktls_attest_status st;
	char ulp[16];

	patterns(_metadata, e, SMALL);
	lib_open(_metadata, e, &lo, &po);
	ASSERT_TRUE(BIO_get_ktls_send(SSL_get_wbio(e->ssl)))
		TH_LOG("OpenSSL did not install kTLS TX itself");
	ASSERT_EQ(0, ktls_get_ulp(e->fd, ulp, sizeof(ulp)));
	EXPECT_STREQ("tls", ulp);
	EXPECT_EQ(-EOPNOTSUPP, katt_status(e->fd, &st))
		TH_LOG("armed before the move");
	lib_move_pass(_metadata, e);
	/* armed by fd with the role and the policy asked for */
	ASSERT_EQ(0, katt_status(e->fd, &st));
	EXPECT_EQ(KTLS_ATTEST_ROLE_RELYING_PARTY | KTLS_ATTEST_ROLE_ATTESTER,
		  st.role);
	nonblock(_metadata, e->fd);
	xfer(_metadata, e, SMALL, SMALL, 0);
	lib_close(_metadata, e, &lo);
}

TEST_F_TIMEOUT(one, openssl_ktls_tx_client, 180)
{
	ONE_READY();
	ktls_tx_by_openssl(_metadata, &self->e, false, true, NULL);
}

TEST_F_TIMEOUT(one, openssl_ktls_tx_server, 180)
{
	ONE_READY();
	ktls_tx_by_openssl(_metadata, &self->e, true, true, NULL);
}

/* System-wide: openssl.cnf with Options = KTLS, here and at the peer. */
static void write_ktls_conf(struct __test_metadata *_metadata,
			    struct env *e, char *path, size_t size)
{
	FILE *f;

	snprintf(path, size, "%s/openssl-ktls.cnf", e->dir);
	f = fopen(path, "w");
	ASSERT_NE(NULL, f);
	fprintf(f, "openssl_conf = openssl_init\n\n[openssl_init]\n"
		"ssl_conf = ssl_module\n\n[ssl_module]\n"
		"system_default = ktls_system\n\n[ktls_system]\n"
		"Options = KTLS\n");
	ASSERT_EQ(0, fclose(f));
	/* what OpenSSL does at start-up with OPENSSL_CONF=path */
	ASSERT_LT(0, CONF_modules_load_file(path, NULL, 0));
}

TEST_F_TIMEOUT(one, openssl_cnf_ktls, 180)
{
	const struct lib_opts lo = { .tickets = 2 };
	struct env *e = &self->e;
	char conf[128];
	SSL_CTX *probe;

	ONE_READY();
	write_ktls_conf(_metadata, e, conf, sizeof(conf));
	probe = SSL_CTX_new(TLS_client_method());
	ASSERT_TRUE(SSL_CTX_get_options(probe) & SSL_OP_ENABLE_KTLS)
		TH_LOG("the configuration did not turn kTLS on");
	SSL_CTX_free(probe);

	/* cleared by prepare: the library installs both keys */
	patterns(_metadata, e, SMALL);
	lib_open(_metadata, e, &lo, &(struct peer_opts){ .conf = conf });
	EXPECT_FALSE(BIO_get_ktls_send(SSL_get_wbio(e->ssl)));
	lib_move_pass(_metadata, e);
	nonblock(_metadata, e->fd);
	xfer(_metadata, e, SMALL, SMALL, 0);
	lib_close(_metadata, e, &lo);
	env_conn_close(e);

	/* kept (KTLS_ATTEST_F_OPENSSL_KTLS): TX is OpenSSL's */
	ktls_tx_by_openssl(_metadata, e, true, false, conf);
}

/* Refused before touching the socket; OpenSSL still carries the data. */
static void expect_userspace_works(struct __test_metadata *_metadata,
				   struct env *e)
{
	char buf[64] = "";
	int n;

	ASSERT_EQ(5, SSL_write(e->ssl, "ping\n", 5));
	ASSERT_EQ(0, katt_peer_expect(&e->peer, "ping\n", buf, sizeof(buf),
				      10000)) TH_LOG("peer got \"%s\"", buf);
	ASSERT_EQ(5, write(e->peer.in, "pong\n", 5));
	n = SSL_read(e->ssl, buf, sizeof(buf));
	ASSERT_EQ(5, n);
	EXPECT_EQ(0, memcmp(buf, "pong\n", 5));
	expect_state(_metadata, e->fd, KTLS_ATTEST_STATE_ARMED);
}

TEST_F_TIMEOUT(one, refuse_tls12, 180)
{
	const struct lib_opts lo = { .tls12 = true, .tickets = -1 };
	struct env *e = &self->e;

	ONE_READY();
	lib_open(_metadata, e, &lo, NULL);
	ASSERT_EQ(TLS1_2_VERSION, SSL_version(e->ssl));
	EXPECT_EQ(-EPROTONOSUPPORT, ktls_attest_move(e->ka));
	EXPECT_NE(NULL, strstr(ktls_attest_strerror(e->ka), "TLS 1.3"));
	EXPECT_FALSE(ktls_attest_moved(e->ka));
	expect_userspace_works(_metadata, e);
}

TEST_F_TIMEOUT(one, refuse_pending_data, 180)
{
	const struct lib_opts lo = { .server = true, .tickets = 0 };
	struct env *e = &self->e;
	char c, buf[64] = "";

	ONE_READY();
	lib_open(_metadata, e, &lo, NULL);
	/* s_client sends a record; the program reads one byte of it */
	ASSERT_EQ(7, write(e->peer.in, "abcdef\n", 7));
	ASSERT_EQ(1, SSL_read(e->ssl, &c, 1));
	EXPECT_EQ(-EBUSY, ktls_attest_move(e->ka));
	EXPECT_NE(NULL, strstr(ktls_attest_strerror(e->ka), "holds bytes"))
		TH_LOG("%s", ktls_attest_strerror(e->ka));
	ASSERT_EQ(6, SSL_read(e->ssl, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "bcdef\n", 6));
	/* and now that data went through OpenSSL it cannot move at all */
	EXPECT_EQ(-EBUSY, ktls_attest_move(e->ka));
	expect_userspace_works(_metadata, e);
}

TEST_F_TIMEOUT(one, refuse_read_ahead, 180)
{
	const struct lib_opts lo = {
		.server = true, .tickets = 2, .read_ahead = true,
	};
	struct env *e = &self->e;

	ONE_READY();
	lib_open(_metadata, e, &lo, NULL);
	EXPECT_EQ(-EINVAL, ktls_attest_move(e->ka));
	EXPECT_NE(NULL, strstr(ktls_attest_strerror(e->ka), "read-ahead"));
	expect_userspace_works(_metadata, e);
}

/*
 * The peer's KeyUpdate (its k command): what came before is delivered,
 * then a clean error, for good; nothing after it (the peer's new key) is
 * ever handed out.
 */
static void key_update(struct __test_metadata *_metadata, struct env *e,
		       bool server)
{
	const struct lib_opts lo = { .server = server, .tickets = 2 };
	const struct peer_opts po = { .interactive = true };
	char buf[256];
	ssize_t n;
	int i;

	lib_open(_metadata, e, &lo, &po);
	lib_move_pass(_metadata, e);
	ASSERT_EQ(7, write(e->peer.in, "before\n", 7));
	n = ktls_attest_recv(e->ka, buf, sizeof(buf), 0);
	ASSERT_EQ(7, n) TH_LOG("%zd: %s", n, ktls_attest_strerror(e->ka));
	EXPECT_EQ(0, memcmp(buf, "before\n", 7));
	ASSERT_EQ(2, write(e->peer.in, "k\n", 2));
	ASSERT_EQ(6, write(e->peer.in, "after\n", 6));
	n = ktls_attest_recv(e->ka, buf, sizeof(buf), 0);
	ASSERT_EQ(-EKEYEXPIRED, n) TH_LOG("%zd: %s", n,
					  ktls_attest_strerror(e->ka));
	EXPECT_NE(NULL, strstr(ktls_attest_strerror(e->ka), "KeyUpdate"))
		TH_LOG("%s", ktls_attest_strerror(e->ka));
	for (i = 0; i < 3; i++)
		EXPECT_EQ(-EKEYEXPIRED, ktls_attest_recv(e->ka, buf, sizeof(buf),
							 MSG_DONTWAIT));
	EXPECT_EQ(-EKEYEXPIRED, ktls_attest_send(e->ka, "x", 1, 0));
	/* the peer was told (a fatal alert) and ends */
	katt_peer_wait(&e->peer, EXIT_MS);
	EXPECT_NE(NULL, strstr(peer_err(e), "internal error"))
		TH_LOG("peer: %s", peer_err(e));
}

TEST_F_TIMEOUT(one, key_update_from_s_server, 180)
{
	ONE_READY();
	key_update(_metadata, &self->e, false);
}

TEST_F_TIMEOUT(one, key_update_from_s_client, 180)
{
	ONE_READY();
	key_update(_metadata, &self->e, true);
}

/* The wait and its sentences: held, timed out, failed, revoked. */
TEST_F_TIMEOUT(one, wait_timeout_and_verdicts, 180)
{
	struct lib_opts lo = {
		.tickets = 0,
		.ka = { .mode = KTLS_ATTEST_MODE_GATED, .timeout_ms = 1500 },
	};
	struct env *e = &self->e;
	struct ktls_attest_status st;
	struct katt_nl *nl;
	long long t0;
	char buf[8];

	ONE_READY();
	/* no verdict: -ETIMEDOUT while it runs, then the round fails */
	lib_open(_metadata, e, &lo, NULL);
	ASSERT_EQ(0, ktls_attest_move(e->ka));
	t0 = katt_now_ms();
	EXPECT_EQ(-ETIMEDOUT, ktls_attest_wait(e->ka, 200));
	EXPECT_LE(180, katt_now_ms() - t0);
	EXPECT_EQ(-EKEYREJECTED, ktls_attest_wait(e->ka, 20000));
	EXPECT_STREQ("no verdict within 1.5 s (round 1); the connection was refused",
		     ktls_attest_strerror(e->ka));
	EXPECT_EQ(-EKEYREJECTED, ktls_attest_recv(e->ka, buf, sizeof(buf), 0));
	EXPECT_NE(NULL, strstr(ktls_attest_strerror(e->ka), "no verdict within"));
	env_conn_close(e);

	/* an operator's fail, with its text */
	lo.ka.timeout_ms = 0;
	lib_open(_metadata, e, &lo, NULL);
	ASSERT_EQ(0, ktls_attest_move(e->ka));
	ASSERT_EQ(0, katt_nl_open(&nl));
	ASSERT_EQ(0, katt_status(e->fd, &st));
	ASSERT_EQ(0, katt_nl_verdict(nl, st.cookie, st.round,
				     KTLS_ATTEST_VERDICT_FAIL,
				     "PCR 7 is not the reference value"));
	EXPECT_EQ(-EKEYREJECTED, ktls_attest_wait(e->ka, 5000));
	EXPECT_STREQ("refused by an operator: PCR 7 is not the reference value",
		     ktls_attest_strerror(e->ka));
	EXPECT_EQ(-EKEYREJECTED, ktls_attest_send(e->ka, "x", 1, 0));
	env_conn_close(e);

	/* passed, then revoked: the data calls say so */
	lib_open(_metadata, e, &lo, NULL);
	lib_move_pass(_metadata, e);
	ASSERT_EQ(0, katt_status(e->fd, &st));
	ASSERT_EQ(0, katt_nl_verdict(nl, st.cookie, 0,
				     KTLS_ATTEST_VERDICT_REVOKE, "key leaked"));
	EXPECT_EQ(-EKEYREVOKED, ktls_attest_recv(e->ka, buf, sizeof(buf), 0));
	EXPECT_STREQ("revoked by an operator: key leaked",
		     ktls_attest_strerror(e->ka));
	EXPECT_EQ(-EKEYREVOKED, ktls_attest_wait(e->ka, 0));
	katt_nl_close(nl);
}

/* A child that gives the next re-attestation round @verdict. */
static pid_t verdict_later(int fd, uint32_t verdict)
{
	struct ktls_attest_status st;
	struct katt_nl *nl;
	pid_t pid = fork();
	int i;

	if (pid)
		return pid;
	alarm(20);
	for (i = 0; i < 2000; i++) {
		if (!katt_status(fd, &st) &&
		    st.state == KTLS_ATTEST_STATE_REATTESTING)
			break;
		ktls_msleep(5);
	}
	if (katt_nl_open(&nl) ||
	    katt_nl_verdict(nl, st.cookie, st.round, verdict, "second look"))
		_exit(1);
	_exit(0);
}

TEST_F_TIMEOUT(one, reattest, 180)
{
	const struct lib_opts lo = { .tickets = 2 };
	struct env *e = &self->e;
	pid_t pid;

	ONE_READY();
	lib_open(_metadata, e, &lo, NULL);
	lib_move_pass(_metadata, e);
	pid = verdict_later(e->fd, KTLS_ATTEST_VERDICT_PASS);
	EXPECT_EQ(0, ktls_attest_reattest(e->ka, 10000))
		TH_LOG("%s", ktls_attest_strerror(e->ka));
	EXPECT_EQ(0, ktls_wait_child(pid));
	expect_state(_metadata, e->fd, KTLS_ATTEST_STATE_PASSED);
	/* no verdict: the library's own deadline */
	EXPECT_EQ(-ETIMEDOUT, ktls_attest_reattest(e->ka, 300));
	expect_state(_metadata, e->fd, KTLS_ATTEST_STATE_REATTESTING);
	pid = verdict_later(e->fd, KTLS_ATTEST_VERDICT_FAIL);
	EXPECT_EQ(-EKEYREVOKED, ktls_attest_reattest(e->ka, 10000));
	EXPECT_STREQ("revoked by an operator: second look",
		     ktls_attest_strerror(e->ka));
	EXPECT_EQ(0, ktls_wait_child(pid));
}

TEST_HARNESS_MAIN
