/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the example programs ktls-attest-server and ktls-attest-client
 * share: the logging facade, the options every connection takes, the TLS
 * context, the attestation state as a person reads it, line I/O over a
 * libktls-attest connection, and the test pattern of upload/download.
 */
#ifndef KATT_EXAMPLES_COMMON_H
#define KATT_EXAMPLES_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "ktls-attest.h"

/* --- logging: the one facade of both programs ------------------------------ */

enum log_level { LOG_ERROR, LOG_NOTICE, LOG_INFO, LOG_DEBUG };

/* Messages at or below @level go to stderr as "PROG: message". */
void log_init(const char *prog, enum log_level level);
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
#define log_error(...)	log_msg(LOG_ERROR, __VA_ARGS__)
#define log_notice(...)	log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_DEBUG, __VA_ARGS__)
/* The OpenSSL error queue, one line each at LOG_DEBUG, then cleared. */
void log_ssl_errors(void);

/* --- exit status ------------------------------------------------------------ */

#define EXIT_USAGE	2	/* a usage error */
#define EXIT_SETUP	1	/* certificates, sockets, TLS */
#define EXIT_ATTEST	3	/* attestation failed, timed out or revoked */

/* --- the options of a connection -------------------------------------------- */

struct conn_opts {
	const char *cert, *key;		/* our certificate and key (PEM) */
	const char *ca;			/* verify the peer against this CA */
	const char *ciphersuites;
	enum ktls_attest_mode mode;
	uint32_t role;			/* 0: the kernel's default */
	uint32_t round_timeout_ms;	/* 0: the kernel's default */
	uint32_t policy_flags;
	int wait_ms;			/* for a verdict; -1: the round's own */
	int tickets;			/* server: -1 OpenSSL's default */
	bool openssl_ktls;		/* KTLS_ATTEST_F_OPENSSL_KTLS */
};

#define CONN_OPTS_INIT { .mode = KTLS_ATTEST_MODE_GATED, .wait_ms = -1, \
			 .tickets = -1 }

/*
 * Parses a value of the options the programs share into @o: "mode",
 * "role", "round-timeout", ... (see the man pages).  0, or -1 after
 * saying what is wrong.
 */
int parse_mode(struct conn_opts *o, const char *arg);
int parse_role(struct conn_opts *o, const char *arg);
int parse_ms(const char *what, const char *arg, uint32_t min, uint32_t max,
	     uint32_t *out);
int parse_size(const char *what, const char *arg, uint64_t *out);

/* getopt values of the long-only options both programs have */
enum {
	OPT_HOLD_REATTEST = 0x100,
	OPT_RESET_ON_REVOKE,
	OPT_CIPHERSUITES,
	OPT_OPENSSL_KTLS,
	OPT_PROGRAM,		/* each program's own start here */
};

/*
 * One option that both programs take (-c -k -C -m -r -t -w -v -q and the
 * OPT_ ones above), into @o and the verbosity @level.  1 if @opt was one
 * of them, 0 if not, -1 after saying what is wrong with @arg.
 */
int parse_conn_opt(struct conn_opts *o, enum log_level *level, int opt,
		   const char *arg);

/* The TLS context of @o; NULL after saying why. */
SSL_CTX *tls_context(const struct conn_opts *o, bool server);

/* --- attestation ---------------------------------------------------------- */

/*
 * After ktls_attest_move(): says that the connection is held (with its
 * socket cookie and round, for an operator), waits for the verdict, and
 * says what it was.  0 when data may flow; otherwise the error, said.
 */
int attest_wait(struct ktls_attest *ka, int wait_ms);
/* Re-attestation before @what: said, waited for, said.  0 if passed. */
int attest_again(struct ktls_attest *ka, const char *what, int wait_ms);
/* One line about the connection: TLS version, suite, peer, binding. */
void describe_tls(SSL *ssl, struct ktls_attest *ka, const char *peer);
/* The failure of a data call, in words; true if it was the gate's. */
bool attest_failed(struct ktls_attest *ka, int err);

/* --- line I/O over a connection --------------------------------------------- */

#define LINE_MAX_LEN	4096

struct conn {
	struct ktls_attest *ka;
	unsigned char buf[16384];
	size_t start, end;
	long long first_byte_us;	/* when the first byte came; 0: not yet */
};

/*
 * One line without its newline (or CR LF) into @line, NUL-terminated: 1;
 * 0 at the end of the stream (close_notify) with no partial line; a
 * negative errno (-EMSGSIZE for a line longer than @size - 1, -EPIPE for
 * a stream that ends inside a line).
 */
ssize_t conn_read_line(struct conn *c, char *line, size_t size);
/* Exactly @len bytes (NULL @buf: discard them): 0 or a negative errno. */
int conn_read_exact(struct conn *c, void *buf, size_t len);
int conn_write_all(struct conn *c, const void *buf, size_t len);
int conn_printf(struct conn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Byte @off of the upload/download pattern. */
static inline uint8_t pattern_byte(uint64_t off)
{
	return (uint8_t)(off * 131 + (off >> 13) + 7);
}

void pattern_fill(uint8_t *buf, size_t len, uint64_t off);
/* Index of the first byte of @buf that is not the pattern at @off, or -1. */
long long pattern_check(const uint8_t *buf, size_t len, uint64_t off);

long long now_us(void);

#endif /* KATT_EXAMPLES_COMMON_H */
