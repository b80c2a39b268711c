// SPDX-License-Identifier: GPL-2.0
/*
 * ktls-attest-client: an example client on libktls-attest.  It connects,
 * does the TLS handshake with OpenSSL, moves the connection onto kTLS,
 * waits for the attestation verdict, sends commands (from its arguments,
 * or lines of its standard input) and prints the server's answers.  With
 * --reattest-before CMD it asks for fresh attestation before every CMD.
 * With --stats it writes its timings as JSON (for tools/bench).
 *
 * See Documentation/man/ktls-attest-client.1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/x509v3.h>

#include "common.h"

#define PROG		"ktls-attest-client"
#define MAX_REATTEST	16
#define XFER_CHUNK	(256 * 1024)

enum {
	OPT_REPEAT = OPT_PROGRAM,
	OPT_STATS,
	OPT_NO_DELAY,
};

static const struct option long_opts[] = {
	{ "cert",		required_argument, NULL, 'c' },
	{ "key",		required_argument, NULL, 'k' },
	{ "ca",			required_argument, NULL, 'C' },
	{ "servername",		required_argument, NULL, 'n' },
	{ "mode",		required_argument, NULL, 'm' },
	{ "role",		required_argument, NULL, 'r' },
	{ "round-timeout",	required_argument, NULL, 't' },
	{ "hold-reattest",	no_argument,	   NULL, OPT_HOLD_REATTEST },
	{ "reset-on-revoke",	no_argument,	   NULL, OPT_RESET_ON_REVOKE },
	{ "wait",		required_argument, NULL, 'w' },
	{ "reattest-before",	required_argument, NULL, 'R' },
	{ "ciphersuites",	required_argument, NULL, OPT_CIPHERSUITES },
	{ "openssl-ktls",	no_argument,	   NULL, OPT_OPENSSL_KTLS },
	{ "repeat",		required_argument, NULL, OPT_REPEAT },
	{ "stats",		required_argument, NULL, OPT_STATS },
	{ "verbose",		no_argument,	   NULL, 'v' },
	{ "quiet",		no_argument,	   NULL, 'q' },
	{ "help",		no_argument,	   NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static void usage(FILE *f)
{
	fprintf(f,
"usage: " PROG " [OPTIONS] HOST PORT [COMMAND...]\n"
"\n"
"Sends each COMMAND (or, without any, each line of standard input) to a\n"
"ktls-attest-server over TLS 1.3 moved onto attestation-gated kTLS, and\n"
"prints the answers.\n"
"\n"
"  -c, --cert FILE          client certificate (PEM, with its chain)\n"
"  -k, --key FILE           its private key (PEM; default: in --cert)\n"
"  -C, --ca FILE            verify the server's certificate against FILE\n"
"  -n, --servername NAME    name to ask for and check (default: HOST)\n"
"  -m, --mode MODE          userspace, gated (default) or bound\n"
"  -r, --role ROLE          attester, relying-party (the kernel's default) or both\n"
"  -t, --round-timeout MS   deadline of each attestation round (default 10000)\n"
"      --hold-reattest      hold data during re-attestation rounds too\n"
"      --reset-on-revoke    abort the TCP connection when it is revoked\n"
"  -w, --wait MS            give up waiting for a verdict after MS\n"
"                           (default: the round's deadline decides)\n"
"  -R, --reattest-before CMD  ask for fresh attestation before each command\n"
"                           CMD (its first word); repeatable\n"
"      --ciphersuites LIST  TLS 1.3 cipher suites (OpenSSL syntax)\n"
"      --openssl-ktls       let OpenSSL install kTLS TX itself; the socket is\n"
"                           armed by fd after the handshake\n"
"      --repeat N           send the commands N times\n"
"      --stats FILE         write the timings as JSON to FILE (- : stdout)\n"
"  -v, --verbose            say more (twice: debug)\n"
"  -q, --quiet              errors only\n"
"  -h, --help               this help\n"
"\n"
"Exit status: 0; 1 setup, connection or server error; 2 usage error;\n"
"3 attestation failed, timed out or was revoked.\n");
}

struct client {
	struct conn_opts o;
	const char *host, *port, *servername, *stats;
	const char *reattest[MAX_REATTEST];
	int nreattest;
	unsigned long repeat;
	char **cmds;
	int ncmds;
	json_t *timings;	/* --stats: one {"cmd", "us"} per command */
};

static bool wants_reattest(const struct client *cl, const char *line)
{
	size_t len = strcspn(line, " ");
	int i;

	for (i = 0; i < cl->nreattest; i++)
		if (strlen(cl->reattest[i]) == len &&
		    !strncmp(cl->reattest[i], line, len))
			return true;
	return false;
}

/* --- one command and its answer -------------------------------------------------- */

static int upload(struct conn *c, uint64_t n)
{
	static uint8_t buf[XFER_CHUNK];
	uint64_t off = 0;
	size_t take;
	int ret;

	while (off < n) {
		take = n - off < sizeof(buf) ? n - off : sizeof(buf);
		pattern_fill(buf, take, off);
		ret = conn_write_all(c, buf, take);
		if (ret)
			return ret;
		off += take;
	}
	return 0;
}

static int download(struct conn *c, uint64_t n)
{
	static uint8_t buf[XFER_CHUNK];
	uint64_t off = 0;
	long long bad;
	size_t take;
	int ret;

	while (off < n) {
		take = n - off < sizeof(buf) ? n - off : sizeof(buf);
		ret = conn_read_exact(c, buf, take);
		if (ret)
			return ret;
		bad = pattern_check(buf, take, off);
		if (bad >= 0) {
			log_error("download: byte %" PRIu64 " is not the test pattern",
				  off + (uint64_t)bad);
			return -EBADMSG;
		}
		off += take;
	}
	return 0;
}

/* Sends @line, prints the answer.  0, or the exit status to end with. */
static int command(struct client *cl, struct conn *c, const char *line)
{
	char answer[LINE_MAX_LEN];
	uint64_t n = 0, got;
	long long t0;
	ssize_t r;
	int ret;

	if (wants_reattest(cl, line) &&
	    attest_again(c->ka, line, cl->o.wait_ms))
		return EXIT_ATTEST;
	t0 = now_us();
	ret = conn_printf(c, "%s\n", line);
	if (!ret && !strncmp(line, "upload ", 7)) {
		if (parse_size("upload", line + 7, &n))
			return EXIT_USAGE;
		ret = upload(c, n);
	}
	if (ret)
		goto out_err;
	r = conn_read_line(c, answer, sizeof(answer));
	if (r <= 0) {
		ret = r ? r : -EPIPE;
		goto out_err;
	}
	if (!strncmp(line, "download ", 9) &&
	    sscanf(answer, "data %" SCNu64, &got) == 1) {
		ret = download(c, got);
		if (ret)
			goto out_err;
	}
	if (cl->timings)
		json_array_append_new(cl->timings,
				      json_pack("{s:s, s:I}", "cmd", line,
						"us", (json_int_t)(now_us() - t0)));
	printf("%s\n", answer);
	fflush(stdout);
	if (!strncmp(answer, "error:", 6))
		return EXIT_SETUP;
	return 0;

out_err:
	if (attest_failed(c->ka, ret))
		return EXIT_ATTEST;
	if (ret == -EPIPE)
		log_error("the server closed the connection");
	else if (ret != -EBADMSG)
		log_error("%s", ktls_attest_strerror(c->ka));
	return EXIT_SETUP;
}

/* --- connecting ------------------------------------------------------------------ */

static int connect_to(const char *host, const char *port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	int fd = -1, ret, one = 1;

	ret = getaddrinfo(host, port, &hints, &res);
	if (ret) {
		log_error("%s port %s: %s", host, port, gai_strerror(ret));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		if (!connect(fd, ai->ai_addr, ai->ai_addrlen))
			break;
		ret = errno;
		close(fd);
		fd = -1;
		errno = ret;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		log_error("cannot connect to %s port %s: %s", host, port,
			  strerror(errno));
		return -1;
	}
	/* one command line, one answer: no Nagle wait in between */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* The server's name (or address) is checked with its certificate. */
static int check_name(SSL *ssl, const char *name)
{
	X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);
	struct in6_addr a6;
	struct in_addr a4;

	if (inet_pton(AF_INET, name, &a4) == 1 ||
	    inet_pton(AF_INET6, name, &a6) == 1)
		return X509_VERIFY_PARAM_set1_ip_asc(vp, name) == 1 ? 0 : -1;
	if (!SSL_set_tlsext_host_name(ssl, name))
		return -1;
	return X509_VERIFY_PARAM_set1_host(vp, name, 0) == 1 ? 0 : -1;
}

static int run(struct client *cl, SSL_CTX *ctx)
{
	struct ktls_attest_opts ko = {
		.mode = cl->o.mode,
		.flags = cl->o.openssl_ktls ? KTLS_ATTEST_F_OPENSSL_KTLS : 0,
		.role = cl->o.role,
		.timeout_ms = cl->o.round_timeout_ms,
		.policy_flags = cl->o.policy_flags,
	};
	long long t_connect, t_hs0, t_hs1, t_move, t_verdict;
	char line[LINE_MAX_LEN], peer[300];
	const char *name = cl->servername ? cl->servername : cl->host;
	struct conn *c = NULL;
	struct ktls_attest *ka;
	int fd, ret, status = EXIT_SETUP;
	unsigned long rep;
	SSL *ssl = NULL;
	int i;

	t_connect = now_us();
	fd = connect_to(cl->host, cl->port);
	if (fd < 0)
		return EXIT_SETUP;
	snprintf(peer, sizeof(peer), "%s port %s", cl->host, cl->port);
	ssl = SSL_new(ctx);
	if (!ssl || !SSL_set_fd(ssl, fd) || check_name(ssl, name)) {
		log_error("cannot set up TLS for %s", name);
		goto out;
	}
	ret = ktls_attest_prepare(ssl, &ko, &ka);
	if (ret) {
		log_error("%s", ktls_attest_strerror(NULL));
		goto out;
	}
	t_hs0 = now_us();
	ret = SSL_connect(ssl);
	t_hs1 = now_us();
	if (ret != 1) {
		if (SSL_get_verify_result(ssl) != X509_V_OK)
			log_error("%s: the server's certificate: %s", peer,
				  X509_verify_cert_error_string(SSL_get_verify_result(ssl)));
		else
			log_error("%s: TLS handshake failed", peer);
		log_ssl_errors();
		goto out;
	}
	ret = ktls_attest_move(ka);
	t_move = now_us();
	if (ret) {
		log_error("cannot move the connection onto kTLS: %s",
			  ktls_attest_strerror(ka));
		goto out;
	}
	describe_tls(ssl, ka, peer);
	c = calloc(1, sizeof(*c));
	if (!c)
		goto out;
	c->ka = ka;
	if (attest_wait(ka, cl->o.wait_ms)) {
		status = EXIT_ATTEST;
		goto out;
	}
	t_verdict = now_us();

	status = 0;
	for (rep = 0; !status && rep < cl->repeat; rep++) {
		if (cl->ncmds) {
			for (i = 0; !status && i < cl->ncmds; i++)
				status = command(cl, c, cl->cmds[i]);
			continue;
		}
		while (!status && fgets(line, sizeof(line), stdin)) {
			line[strcspn(line, "\r\n")] = '\0';
			if (line[0])
				status = command(cl, c, line);
		}
	}
	if (status != EXIT_ATTEST)
		ktls_attest_close(ka);
	if (cl->timings) {
		json_t *j = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:O}",
				      "mode", ktls_attest_mode_name(cl->o.mode),
				      "start_us", (json_int_t)t_connect,
				      "connect_us", (json_int_t)(t_hs0 - t_connect),
				      "handshake_us", (json_int_t)(t_hs1 - t_hs0),
				      "move_us", (json_int_t)(t_move - t_hs1),
				      "verdict_us", (json_int_t)(t_verdict - t_move),
				      "first_byte_us", (json_int_t)(c->first_byte_us ?
						c->first_byte_us - t_hs1 : -1),
				      "commands", cl->timings);

		if (!j || (strcmp(cl->stats, "-") ?
			   json_dump_file(j, cl->stats, JSON_COMPACT) :
			   json_dumpf(j, stdout, JSON_COMPACT))) {
			log_error("cannot write the statistics to %s", cl->stats);
			status = status ? status : EXIT_SETUP;
		}
		if (!strcmp(cl->stats, "-"))
			putchar('\n');
		json_decref(j);
	}
out:
	free(c);
	SSL_free(ssl);
	close(fd);
	return status;
}

static int parse_args(struct client *cl, int argc, char **argv)
{
	enum log_level level = LOG_NOTICE;
	uint64_t n;
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "+c:k:C:n:m:r:t:w:R:vqh",
				  long_opts, NULL)) != -1) {
		ret = parse_conn_opt(&cl->o, &level, opt, optarg);
		if (ret < 0)
			return -1;
		if (ret)
			continue;
		switch (opt) {
		case 'n':
			cl->servername = optarg;
			break;
		case 'R':
			if (cl->nreattest == MAX_REATTEST) {
				log_error("at most %d --reattest-before", MAX_REATTEST);
				return -1;
			}
			cl->reattest[cl->nreattest++] = optarg;
			break;
		case OPT_REPEAT:
			if (parse_size("--repeat", optarg, &n) || !n) {
				log_error("--repeat: a count from 1");
				return -1;
			}
			cl->repeat = n;
			break;
		case OPT_STATS:
			cl->stats = optarg;
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
	if (argc - optind < 2) {
		log_error("give HOST PORT [COMMAND...]; try --help");
		return -1;
	}
	cl->host = argv[optind];
	cl->port = argv[optind + 1];
	cl->cmds = argv + optind + 2;
	cl->ncmds = argc - optind - 2;
	if (cl->o.key && !cl->o.cert) {
		log_error("--key without --cert");
		return -1;
	}
	if (cl->repeat > 1 && !cl->ncmds) {
		log_error("--repeat needs commands on the command line");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct client cl = { .o = CONN_OPTS_INIT, .repeat = 1 };
	SSL_CTX *ctx;
	int status;

	log_init(PROG, LOG_NOTICE);
	if (parse_args(&cl, argc, argv))
		return EXIT_USAGE;
	signal(SIGPIPE, SIG_IGN);
	if (cl.stats) {
		cl.timings = json_array();
		if (!cl.timings)
			return EXIT_SETUP;
	}
	ctx = tls_context(&cl.o, false);
	if (!ctx)
		return EXIT_SETUP;
	status = run(&cl, ctx);
	json_decref(cl.timings);
	SSL_CTX_free(ctx);
	return status;
}
