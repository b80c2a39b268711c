// SPDX-License-Identifier: GPL-2.0
/*
 * ktls-attest-server: an example server on libktls-attest.  It listens on
 * an armed socket (every accepted connection is gated), does the TLS
 * handshake with OpenSSL, moves the connection onto kTLS, waits for the
 * attestation verdict and answers line-based commands:
 *
 *   ping            pong
 *   echo TEXT       TEXT
 *   status          the connection's attestation state, one sentence
 *   time            the server's clock (UTC, ISO 8601)
 *   upload N        reads N bytes of the test pattern: "ok N"
 *   download N      "data N", then N bytes of the test pattern
 *   help            the commands
 *   quit            "bye", then close_notify
 *
 * Each connection is served by a process of its own (--once: by this one).
 * See Documentation/man/ktls-attest-server.1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define PROG		"ktls-attest-server"
#define XFER_CHUNK	(256 * 1024)
#define XFER_MAX	(1ULL << 40)

enum {
	OPT_TICKETS = OPT_PROGRAM,
};

static const struct option long_opts[] = {
	{ "cert",		required_argument, NULL, 'c' },
	{ "key",		required_argument, NULL, 'k' },
	{ "client-ca",		required_argument, NULL, 'C' },
	{ "mode",		required_argument, NULL, 'm' },
	{ "role",		required_argument, NULL, 'r' },
	{ "round-timeout",	required_argument, NULL, 't' },
	{ "hold-reattest",	no_argument,	   NULL, OPT_HOLD_REATTEST },
	{ "reset-on-revoke",	no_argument,	   NULL, OPT_RESET_ON_REVOKE },
	{ "wait",		required_argument, NULL, 'w' },
	{ "tickets",		required_argument, NULL, OPT_TICKETS },
	{ "ciphersuites",	required_argument, NULL, OPT_CIPHERSUITES },
	{ "openssl-ktls",	no_argument,	   NULL, OPT_OPENSSL_KTLS },
	{ "once",		no_argument,	   NULL, '1' },
	{ "verbose",		no_argument,	   NULL, 'v' },
	{ "quiet",		no_argument,	   NULL, 'q' },
	{ "help",		no_argument,	   NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static void usage(FILE *f)
{
	fprintf(f,
"usage: " PROG " [OPTIONS] [ADDRESS] PORT\n"
"\n"
"Serves line-based commands (ping, echo, status, time, upload, download,\n"
"help, quit) over TLS 1.3 moved onto attestation-gated kTLS.\n"
"\n"
"  -c, --cert FILE         certificate (PEM, with its chain); required\n"
"  -k, --key FILE          its private key (PEM; default: in --cert)\n"
"  -C, --client-ca FILE    ask for a client certificate, verify it against FILE\n"
"  -m, --mode MODE         userspace, gated (default) or bound\n"
"  -r, --role ROLE         attester, relying-party (the kernel's default) or both\n"
"  -t, --round-timeout MS  deadline of each attestation round (default 10000)\n"
"      --hold-reattest     hold data during re-attestation rounds too\n"
"      --reset-on-revoke   abort the TCP connection when it is revoked\n"
"  -w, --wait MS           give up waiting for a verdict after MS\n"
"                          (default: the round's deadline decides)\n"
"      --tickets N         NewSessionTickets to send (default: OpenSSL's, 2)\n"
"      --ciphersuites LIST TLS 1.3 cipher suites (OpenSSL syntax)\n"
"      --openssl-ktls      let OpenSSL install kTLS TX itself; the socket is\n"
"                          armed by fd after the handshake\n"
"  -1, --once              serve one connection, exit with its status\n"
"  -v, --verbose           say more (twice: debug)\n"
"  -q, --quiet             errors only\n"
"  -h, --help              this help\n"
"\n"
"Exit status: 0; 1 setup or connection error; 2 usage error; 3 attestation\n"
"failed, timed out or was revoked (with --once).\n");
}

struct server {
	struct conn_opts o;
	SSL_CTX *ctx;
	bool once;
};

static const char *const help_text =
	"commands: ping, echo TEXT, status, time, upload N, download N, help, quit";

/* --- commands ------------------------------------------------------------------ */

static int cmd_upload(struct conn *c, const char *arg)
{
	static uint8_t buf[XFER_CHUNK];
	uint64_t n, off = 0;
	size_t take;
	long long bad;
	int ret;

	if (parse_size("upload", arg, &n) || n > XFER_MAX)
		return conn_printf(c, "error: upload N (bytes)\n");
	while (off < n) {
		take = n - off < sizeof(buf) ? n - off : sizeof(buf);
		ret = conn_read_exact(c, buf, take);
		if (ret)
			return ret;
		bad = pattern_check(buf, take, off);
		if (bad >= 0) {
			log_error("upload: byte %" PRIu64 " is not the test pattern",
				  off + (uint64_t)bad);
			return conn_printf(c, "error: byte %" PRIu64 " is wrong\n",
					   off + (uint64_t)bad) ?: -EBADMSG;
		}
		off += take;
	}
	return conn_printf(c, "ok %" PRIu64 "\n", n);
}

static int cmd_download(struct conn *c, const char *arg)
{
	static uint8_t buf[XFER_CHUNK];
	uint64_t n, off = 0;
	size_t take;
	int ret;

	if (parse_size("download", arg, &n) || n > XFER_MAX)
		return conn_printf(c, "error: download N (bytes)\n");
	ret = conn_printf(c, "data %" PRIu64 "\n", n);
	while (!ret && off < n) {
		take = n - off < sizeof(buf) ? n - off : sizeof(buf);
		pattern_fill(buf, take, off);
		ret = conn_write_all(c, buf, take);
		off += take;
	}
	return ret;
}

static int cmd_status(struct conn *c)
{
	char why[256];

	if (!ktls_attest_moved(c->ka))
		return conn_printf(c, "userspace: no attestation\n");
	if (ktls_attest_explain(ktls_attest_fd(c->ka), why, sizeof(why)) < 0)
		snprintf(why, sizeof(why), "unknown: %s",
			 ktls_attest_strerror(c->ka));
	return conn_printf(c, "%s\n", why);
}

static int cmd_time(struct conn *c)
{
	char buf[64];
	time_t t = time(NULL);
	struct tm tm;

	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
	return conn_printf(c, "%s\n", buf);
}

/* One command; 1 after quit. */
static int command(struct conn *c, char *line)
{
	char *arg = strchr(line, ' ');
	int ret;

	if (arg)
		*arg++ = '\0';
	else
		arg = line + strlen(line);
	log_debug("command \"%s\" \"%s\"", line, arg);
	if (!strcmp(line, "ping"))
		return conn_printf(c, "pong\n");
	if (!strcmp(line, "echo"))
		return conn_printf(c, "%s\n", arg);
	if (!strcmp(line, "status"))
		return cmd_status(c);
	if (!strcmp(line, "time"))
		return cmd_time(c);
	if (!strcmp(line, "upload"))
		return cmd_upload(c, arg);
	if (!strcmp(line, "download"))
		return cmd_download(c, arg);
	if (!strcmp(line, "help"))
		return conn_printf(c, "%s\n", help_text);
	if (!strcmp(line, "quit")) {
		ret = conn_printf(c, "bye\n");
		return ret ? ret : 1;
	}
	return conn_printf(c, "error: unknown command \"%s\" (try help)\n",
			   line);
}

/* --- a connection ---------------------------------------------------------------- */

static int serve(struct server *s, int fd, const char *peer)
{
	struct ktls_attest_opts ko = {
		.mode = s->o.mode,
		.flags = s->o.openssl_ktls ? KTLS_ATTEST_F_OPENSSL_KTLS : 0,
		.role = s->o.role,
		.timeout_ms = s->o.round_timeout_ms,
		.policy_flags = s->o.policy_flags,
	};
	char line[LINE_MAX_LEN];
	struct conn *c = NULL;
	struct ktls_attest *ka;
	int ret, status = EXIT_SETUP;
	SSL *ssl;
	ssize_t n;

	ssl = SSL_new(s->ctx);
	if (!ssl || !SSL_set_fd(ssl, fd)) {
		log_error("%s: out of memory", peer);
		goto out;
	}
	ret = ktls_attest_prepare(ssl, &ko, &ka);
	if (ret) {
		log_error("%s: %s", peer, ktls_attest_strerror(NULL));
		goto out;
	}
	ret = SSL_accept(ssl);
	if (ret != 1) {
		log_error("%s: TLS handshake failed", peer);
		log_ssl_errors();
		goto out;
	}
	ret = ktls_attest_move(ka);
	if (ret) {
		log_error("%s: cannot move the connection onto kTLS: %s", peer,
			  ktls_attest_strerror(ka));
		goto out;
	}
	describe_tls(ssl, ka, peer);
	c = calloc(1, sizeof(*c));
	if (!c) {
		log_error("%s: out of memory", peer);
		goto out;
	}
	c->ka = ka;
	if (attest_wait(ka, s->o.wait_ms)) {
		status = EXIT_ATTEST;
		goto out;
	}
	for (;;) {
		n = conn_read_line(c, line, sizeof(line));
		if (!n) {
			log_info("%s: the client closed the connection", peer);
			status = 0;
			break;
		}
		if (n < 0) {
			status = attest_failed(ka, n) ? EXIT_ATTEST : EXIT_SETUP;
			if (status == EXIT_SETUP)
				log_error("%s: %s", peer,
					  n == -EMSGSIZE ? "a command line too long" :
					  ktls_attest_strerror(ka));
			break;
		}
		if (!line[0])
			continue;
		ret = command(c, line);
		if (ret == 1) {
			log_info("%s: quit", peer);
			status = 0;
			break;
		}
		if (ret < 0) {
			status = attest_failed(ka, ret) ? EXIT_ATTEST : EXIT_SETUP;
			if (status == EXIT_SETUP)
				log_error("%s: %s", peer, ktls_attest_strerror(ka));
			break;
		}
	}
	if (status != EXIT_ATTEST)
		ktls_attest_close(ka);
out:
	free(c);
	SSL_free(ssl);
	close(fd);
	return status;
}

/* --- listening -------------------------------------------------------------------- */

static int listen_on(const struct server *s, const char *addr,
		     const char *port)
{
	struct addrinfo hints = {
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_PASSIVE,
	}, *res, *ai;
	int fd = -1, one = 1, zero = 0, ret;

	ret = getaddrinfo(addr, port, &hints, &res);
	if (ret) {
		log_error("%s port %s: %s", addr ? addr : "any address", port,
			  gai_strerror(ret));
		return -1;
	}
	/* without ADDRESS: IPv6 and IPv4 on one socket where there is IPv6 */
	for (ai = res; ai; ai = ai->ai_next)
		if (!addr && ai->ai_family == AF_INET6)
			break;
	if (!ai)
		ai = res;
	for (; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (ai->ai_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero,
				   sizeof(zero));
		if (!bind(fd, ai->ai_addr, ai->ai_addrlen))
			break;
		log_debug("bind: %s", strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		log_error("cannot bind to %s port %s: %s",
			  addr ? addr : "any address", port, strerror(errno));
		return -1;
	}
	/* an armed listener: every accepted socket is armed */
	if (s->o.mode != KTLS_ATTEST_MODE_USERSPACE && !s->o.openssl_ktls &&
	    ktls_attest_arm(fd, s->o.role, s->o.round_timeout_ms,
			    s->o.policy_flags)) {
		log_error("%s", ktls_attest_strerror(NULL));
		close(fd);
		return -1;
	}
	if (listen(fd, 64)) {
		log_error("listen: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void peer_string(const struct sockaddr_storage *ss, char *buf,
			size_t size)
{
	char host[INET6_ADDRSTRLEN], serv[16];

	if (getnameinfo((const struct sockaddr *)ss, sizeof(*ss), host,
			sizeof(host), serv, sizeof(serv),
			NI_NUMERICHOST | NI_NUMERICSERV))
		snprintf(buf, size, "?");
	else if (strchr(host, ':'))
		snprintf(buf, size, "[%s]:%s", host, serv);
	else
		snprintf(buf, size, "%s:%s", host, serv);
}

static int parse_args(struct server *s, int argc, char **argv,
		      const char **addr, const char **port)
{
	enum log_level level = LOG_NOTICE;
	uint32_t v;
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "c:k:C:m:r:t:w:1vqh", long_opts,
				  NULL)) != -1) {
		ret = parse_conn_opt(&s->o, &level, opt, optarg);
		if (ret < 0)
			return -1;
		if (ret)
			continue;
		switch (opt) {
		case OPT_TICKETS:
			if (parse_ms("--tickets", optarg, 0, 16, &v))
				return -1;
			s->o.tickets = v;
			break;
		case '1':
			s->once = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	log_init(PROG, level);
	argc -= optind;
	argv += optind;
	if (argc < 1 || argc > 2) {
		log_error("give [ADDRESS] PORT; try --help");
		return -1;
	}
	*addr = argc == 2 ? argv[0] : NULL;
	*port = argv[argc - 1];
	if (!s->o.cert) {
		log_error("--cert is required; try --help");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct server s = { .o = CONN_OPTS_INIT };
	struct sockaddr_storage ss;
	const char *addr, *port;
	char peer[80];
	socklen_t len;
	int lfd, fd, status;
	pid_t pid;

	log_init(PROG, LOG_NOTICE);
	if (parse_args(&s, argc, argv, &addr, &port))
		return EXIT_USAGE;
	signal(SIGPIPE, SIG_IGN);
	s.ctx = tls_context(&s.o, true);
	if (!s.ctx)
		return EXIT_SETUP;
	lfd = listen_on(&s, addr, port);
	if (lfd < 0)
		return EXIT_SETUP;
	log_notice("listening on %s port %s, %s mode%s", addr ? addr : "any address",
		   port, ktls_attest_mode_name(s.o.mode),
		   s.o.ca ? ", client certificates required" : "");
	if (!s.once)
		signal(SIGCHLD, SIG_IGN);	/* children reap themselves */

	for (;;) {
		len = sizeof(ss);
		fd = accept4(lfd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED ||
			    errno == ENOMEM)
				continue;
			log_error("accept: %s", strerror(errno));
			return EXIT_SETUP;
		}
		peer_string(&ss, peer, sizeof(peer));
		log_notice("%s: connected", peer);
		if (s.once) {
			close(lfd);
			status = serve(&s, fd, peer);
			SSL_CTX_free(s.ctx);
			return status;
		}
		pid = fork();
		if (pid < 0) {
			log_error("fork: %s", strerror(errno));
			close(fd);
			continue;
		}
		if (!pid) {
			close(lfd);
			_exit(serve(&s, fd, peer));
		}
		close(fd);
	}
}
