// SPDX-License-Identifier: GPL-2.0
/*
 * What the example programs share. See common.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "common.h"

static const char *log_prog = "ktls-attest";
static enum log_level log_max = LOG_NOTICE;

void log_init(const char *prog, enum log_level level)
{
	log_prog = prog;
	log_max = level;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (level > log_max)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* one write per message: lines of two processes do not mix */
	fprintf(stderr, "%s: %s\n", log_prog, msg);
	fflush(stderr);
}

static int log_ssl_line(const char *str, size_t len, void *u)
{
	(void)u;
	while (len && (str[len - 1] == '\n'))
		len--;
	log_debug("openssl: %.*s", (int)len, str);
	return 1;
}

void log_ssl_errors(void)
{
	ERR_print_errors_cb(log_ssl_line, NULL);
}

long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

/* --- options ------------------------------------------------------------------- */

int parse_mode(struct conn_opts *o, const char *arg)
{
	int m = ktls_attest_mode_from_name(arg);

	if (m < 0) {
		log_error("%s", ktls_attest_strerror(NULL));
		return -1;
	}
	o->mode = m;
	return 0;
}

int parse_role(struct conn_opts *o, const char *arg)
{
	if (!strcmp(arg, "attester"))
		o->role = KTLS_ATTEST_ROLE_ATTESTER;
	else if (!strcmp(arg, "relying-party"))
		o->role = KTLS_ATTEST_ROLE_RELYING_PARTY;
	else if (!strcmp(arg, "both"))
		o->role = KTLS_ATTEST_ROLE_ATTESTER |
			  KTLS_ATTEST_ROLE_RELYING_PARTY;
	else {
		log_error("unknown role \"%s\" (attester, relying-party or both)",
			  arg);
		return -1;
	}
	return 0;
}

int parse_ms(const char *what, const char *arg, uint32_t min, uint32_t max,
	     uint32_t *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno || end == arg || *end || v < min || v > max) {
		log_error("%s: \"%s\" is not a number of milliseconds from %u to %u",
			  what, arg, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

int parse_size(const char *what, const char *arg, uint64_t *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (!errno && end != arg) {
		if (*end == 'K' || *end == 'k')
			v <<= 10, end++;
		else if (*end == 'M')
			v <<= 20, end++;
		else if (*end == 'G')
			v <<= 30, end++;
	}
	if (errno || end == arg || *end) {
		log_error("%s: \"%s\" is not a size (bytes, or with K, M, G)",
			  what, arg);
		return -1;
	}
	*out = v;
	return 0;
}

int parse_conn_opt(struct conn_opts *o, enum log_level *level, int opt,
		   const char *arg)
{
	uint32_t v;

	switch (opt) {
	case 'c':
		o->cert = arg;
		break;
	case 'k':
		o->key = arg;
		break;
	case 'C':
		o->ca = arg;
		break;
	case 'm':
		return parse_mode(o, arg) ? -1 : 1;
	case 'r':
		return parse_role(o, arg) ? -1 : 1;
	case 't':
		return parse_ms("--round-timeout", arg,
				KTLS_ATTEST_TIMEOUT_MS_MIN,
				KTLS_ATTEST_TIMEOUT_MS_MAX,
				&o->round_timeout_ms) ? -1 : 1;
	case 'w':
		if (parse_ms("--wait", arg, 0, INT32_MAX, &v))
			return -1;
		o->wait_ms = v;
		break;
	case OPT_HOLD_REATTEST:
		o->policy_flags |= KTLS_ATTEST_POLICY_FLAGS_HOLD_REATTEST;
		break;
	case OPT_RESET_ON_REVOKE:
		o->policy_flags |= KTLS_ATTEST_POLICY_FLAGS_RESET_ON_REVOKE;
		break;
	case OPT_CIPHERSUITES:
		o->ciphersuites = arg;
		break;
	case OPT_OPENSSL_KTLS:
		o->openssl_ktls = true;
		break;
	case 'v':
		if (*level < LOG_DEBUG)
			(*level)++;
		break;
	case 'q':
		*level = LOG_ERROR;
		break;
	default:
		return 0;
	}
	return 1;
}

SSL_CTX *tls_context(const struct conn_opts *o, bool server)
{
	SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() :
				   TLS_client_method());

	if (!ctx) {
		log_error("cannot make a TLS context");
		return NULL;
	}
	/* kTLS takes the move only for TLS 1.3; userspace takes 1.2 too */
	if (o->mode != KTLS_ATTEST_MODE_USERSPACE)
		SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	if (o->ciphersuites && !SSL_CTX_set_ciphersuites(ctx, o->ciphersuites)) {
		log_error("bad cipher suites \"%s\"", o->ciphersuites);
		goto err;
	}
	if (o->cert) {
		if (SSL_CTX_use_certificate_chain_file(ctx, o->cert) != 1) {
			log_error("cannot use the certificate %s", o->cert);
			goto err;
		}
		if (SSL_CTX_use_PrivateKey_file(ctx, o->key ? o->key : o->cert,
						SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_check_private_key(ctx) != 1) {
			log_error("cannot use the key %s for %s",
				  o->key ? o->key : o->cert, o->cert);
			goto err;
		}
	}
	if (o->ca) {
		if (SSL_CTX_load_verify_locations(ctx, o->ca, NULL) != 1) {
			log_error("cannot load the CA certificate %s", o->ca);
			goto err;
		}
		/* a server asks for a client certificate and needs one */
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
				   (server ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
				   NULL);
	}
	if (server && o->tickets >= 0)
		SSL_CTX_set_num_tickets(ctx, o->tickets);
	if (o->openssl_ktls)
		SSL_CTX_set_options(ctx, SSL_OP_ENABLE_KTLS);
	return ctx;

err:
	log_ssl_errors();
	SSL_CTX_free(ctx);
	return NULL;
}

/* --- attestation ---------------------------------------------------------------- */

bool attest_failed(struct ktls_attest *ka, int err)
{
	if (err == -EKEYREVOKED || err == -EKEYREJECTED) {
		log_error("%s: %s", err == -EKEYREVOKED ? "revoked" : "failed",
			  ktls_attest_strerror(ka));
		return true;
	}
	return false;
}

int attest_wait(struct ktls_attest *ka, int wait_ms)
{
	struct ktls_attest_status st;
	char why[256];
	int ret;

	if (ktls_attest_get_mode(ka) == KTLS_ATTEST_MODE_USERSPACE)
		return 0;
	ret = ktls_attest_wait(ka, 0);
	if (ret == -EAGAIN && !ktls_attest_status(ka, &st)) {
		ktls_attest_explain(ktls_attest_fd(ka), why, sizeof(why));
		log_notice("%s; socket cookie %" PRIu64, why, (uint64_t)st.cookie);
		ret = ktls_attest_wait(ka, wait_ms);
	}
	if (!ret) {
		ktls_attest_explain(ktls_attest_fd(ka), why, sizeof(why));
		log_notice("%s", why);
		return 0;
	}
	if (!attest_failed(ka, ret))
		log_error("%s", ktls_attest_strerror(ka));
	return ret;
}

int attest_again(struct ktls_attest *ka, const char *what, int wait_ms)
{
	struct ktls_attest_status st;
	char why[256];
	int ret;

	if (!ktls_attest_moved(ka)) {
		log_notice("re-attestation before \"%s\": not on kTLS (%s mode), skipped",
			   what, ktls_attest_mode_name(ktls_attest_get_mode(ka)));
		return 0;
	}
	if (!ktls_attest_status(ka, &st))
		log_notice("re-attesting before \"%s\" (round %u); socket cookie %" PRIu64,
			   what, st.round + 1, (uint64_t)st.cookie);
	ret = ktls_attest_reattest(ka, wait_ms);
	if (!ret) {
		ktls_attest_explain(ktls_attest_fd(ka), why, sizeof(why));
		log_notice("%s", why);
		return 0;
	}
	if (!attest_failed(ka, ret))
		log_error("re-attestation: %s", ktls_attest_strerror(ka));
	return ret;
}

static void peer_name(SSL *ssl, char *buf, size_t size)
{
	X509 *cert = SSL_get0_peer_certificate(ssl);

	if (!cert) {
		snprintf(buf, size, "no certificate");
		return;
	}
	buf[0] = '\0';
	X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName,
				  buf, size);
}

void describe_tls(SSL *ssl, struct ktls_attest *ka, const char *peer)
{
	uint32_t f = ktls_attest_binding_flags(ka);
	char name[128];

	peer_name(ssl, name, sizeof(name));
	log_info("%s: %s, %s, peer certificate: %s%s", peer,
		 SSL_get_version(ssl),
		 SSL_CIPHER_get_name(SSL_get_current_cipher(ssl)), name,
		 SSL_get0_peer_certificate(ssl) ?
		 (SSL_get_verify_result(ssl) == X509_V_OK &&
		  (SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER) ?
		  " (verified)" : " (not verified)") : "");
	if (ktls_attest_moved(ka))
		log_info("on kTLS, %s mode%s%s%s%s",
			 ktls_attest_mode_name(ktls_attest_get_mode(ka)),
			 f ? "; binding:" : "",
			 f & KTLS_ATTEST_BINDING_LOCAL_KEY ? " local key" : "",
			 f & KTLS_ATTEST_BINDING_PEER_KEY ? " peer key" : "",
			 f & KTLS_ATTEST_BINDING_PEER_VERIFIED ?
			 " (peer verified)" : "");
	else
		log_info("in userspace (OpenSSL), no attestation");
}

/* --- line I/O ------------------------------------------------------------------- */

static ssize_t conn_fill(struct conn *c)
{
	ssize_t n;

	if (c->start == c->end)
		c->start = c->end = 0;
	if (c->end == sizeof(c->buf))
		return -EMSGSIZE;
	n = ktls_attest_recv(c->ka, c->buf + c->end, sizeof(c->buf) - c->end,
			     0);
	if (n > 0) {
		if (!c->first_byte_us)
			c->first_byte_us = now_us();
		c->end += n;
	}
	return n;
}

ssize_t conn_read_line(struct conn *c, char *line, size_t size)
{
	unsigned char *nl;
	size_t len;
	ssize_t n;

	for (;;) {
		nl = memchr(c->buf + c->start, '\n', c->end - c->start);
		if (nl) {
			len = nl - (c->buf + c->start);
			if (len >= size)
				return -EMSGSIZE;
			memcpy(line, c->buf + c->start, len);
			c->start += len + 1;
			line[len] = '\0';
			if (len && line[len - 1] == '\r')
				line[len - 1] = '\0';
			return 1;
		}
		if (c->end - c->start >= size)
			return -EMSGSIZE;
		if (c->start) {
			memmove(c->buf, c->buf + c->start, c->end - c->start);
			c->end -= c->start;
			c->start = 0;
		}
		n = conn_fill(c);
		if (n < 0)
			return n;
		if (!n)
			return c->end == c->start ? 0 : -EPIPE;
	}
}

int conn_read_exact(struct conn *c, void *buf, size_t len)
{
	size_t take;
	ssize_t n;

	while (len) {
		if (c->start == c->end) {
			n = conn_fill(c);
			if (n < 0)
				return n;
			if (!n)
				return -EPIPE;
		}
		take = c->end - c->start < len ? c->end - c->start : len;
		if (buf) {
			memcpy(buf, c->buf + c->start, take);
			buf = (char *)buf + take;
		}
		c->start += take;
		len -= take;
	}
	return 0;
}

int conn_write_all(struct conn *c, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len) {
		n = ktls_attest_send(c->ka, p, len, 0);
		if (n == -EINTR)
			continue;
		if (n < 0)
			return n;
		p += n;
		len -= n;
	}
	return 0;
}

int conn_printf(struct conn *c, const char *fmt, ...)
{
	char line[LINE_MAX_LEN + 64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line))
		return -EMSGSIZE;
	return conn_write_all(c, line, n);
}

void pattern_fill(uint8_t *buf, size_t len, uint64_t off)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = pattern_byte(off + i);
}

long long pattern_check(const uint8_t *buf, size_t len, uint64_t off)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (buf[i] != pattern_byte(off + i))
			return i;
	return -1;
}
