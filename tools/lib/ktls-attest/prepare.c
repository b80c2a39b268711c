// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Before the handshake: what OpenSSL 3.0 lets a library see of it.
 *
 * OpenSSL 3.0 gives the TLS 1.3 traffic secrets only to the keylog
 * callback, which belongs to the SSL_CTX; the library's callback goes in
 * front of the program's own (kept in the SSL_CTX's ex_data) and passes
 * every line on.  The connection's state (struct ktls_attest) hangs off
 * the SSL's ex_data and is freed with the SSL.
 *
 * The message callback (per SSL; OpenSSL has no getter for it, so the
 * program hands its own over in ktls_attest_opts to be chained) counts
 * the records each end wrote and read after its Finished: they are the
 * first kTLS record sequence numbers (a server's NewSessionTickets,
 * written inside SSL_do_handshake(), are the usual ones), and it sees
 * application data or a KeyUpdate that would make the move wrong.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/tcp.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include "internal.h"

#define KATT_CLIENT_RANDOM_LEN	32

struct katt_ctx_data {
	SSL_CTX_keylog_cb_func app_keylog;
};

static int katt_ssl_index = -1, katt_ctx_index = -1;
static pthread_once_t katt_once = PTHREAD_ONCE_INIT;

static void katt_free(struct ktls_attest *ka)
{
	if (!ka)
		return;
	OPENSSL_cleanse(ka, sizeof(*ka));
	free(ka);
}

static void katt_ssl_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad,
			  int idx, long argl, void *argp)
{
	(void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
	katt_free(ptr);
}

/* SSL_dup(): the copy has no state of its own (prepare it anew). */
static int katt_ssl_dup(CRYPTO_EX_DATA *to, const CRYPTO_EX_DATA *from,
			void **from_d, int idx, long argl, void *argp)
{
	(void)to, (void)from, (void)idx, (void)argl, (void)argp;
	*from_d = NULL;
	return 1;
}

static void katt_ctx_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad,
			  int idx, long argl, void *argp)
{
	(void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
	free(ptr);
}

static int katt_ctx_dup(CRYPTO_EX_DATA *to, const CRYPTO_EX_DATA *from,
			void **from_d, int idx, long argl, void *argp)
{
	(void)to, (void)from, (void)idx, (void)argl, (void)argp;
	*from_d = NULL;
	return 1;
}

static void katt_init_once(void)
{
	katt_ssl_index = SSL_get_ex_new_index(0, (void *)"ktls-attest", NULL,
					      katt_ssl_dup, katt_ssl_free);
	katt_ctx_index = SSL_CTX_get_ex_new_index(0, (void *)"ktls-attest",
						  NULL, katt_ctx_dup,
						  katt_ctx_free);
}

int katt_ex_index(void)
{
	pthread_once(&katt_once, katt_init_once);
	return katt_ssl_index;
}

/* --- keylog --------------------------------------------------------------- */

static bool katt_label_is(const char *line, size_t len, const char *label)
{
	return len == strlen(label) && !memcmp(line, label, len);
}

void katt_keylog_line(struct ktls_attest *ka, const SSL *ssl,
		      const char *line)
{
	unsigned char cr[KATT_CLIENT_RANDOM_LEN], mine[KATT_CLIENT_RANDOM_LEN];
	char cr_hex[2 * KATT_CLIENT_RANDOM_LEN + 1];
	const char *sp1, *sp2;
	unsigned char *dst;
	size_t len, *dst_len;
	bool client;

	sp1 = strchr(line, ' ');
	if (!sp1)
		return;
	if (katt_label_is(line, sp1 - line, "CLIENT_TRAFFIC_SECRET_0"))
		client = true;
	else if (katt_label_is(line, sp1 - line, "SERVER_TRAFFIC_SECRET_0"))
		client = false;
	else
		return;
	sp2 = strchr(sp1 + 1, ' ');
	if (!sp2 || sp2 - sp1 - 1 != (ptrdiff_t)sizeof(cr_hex) - 1)
		return;
	memcpy(cr_hex, sp1 + 1, sizeof(cr_hex) - 1);
	cr_hex[sizeof(cr_hex) - 1] = '\0';
	if (!OPENSSL_hexstr2buf_ex(cr, sizeof(cr), &len, cr_hex, '\0') ||
	    len != sizeof(cr) ||
	    SSL_get_client_random(ssl, mine, sizeof(mine)) != sizeof(mine) ||
	    memcmp(cr, mine, sizeof(cr))) {
		ka->keylog_mismatch = true;
		return;
	}
	/* the client's secret protects what the client writes */
	if (client != !!SSL_is_server(ssl)) {
		dst = ka->tx_secret;
		dst_len = &ka->tx_secret_len;
	} else {
		dst = ka->rx_secret;
		dst_len = &ka->rx_secret_len;
	}
	if (!OPENSSL_hexstr2buf_ex(dst, EVP_MAX_MD_SIZE, dst_len, sp2 + 1,
				   '\0')) {
		OPENSSL_cleanse(dst, EVP_MAX_MD_SIZE);
		*dst_len = 0;
	}
}

static void katt_keylog(const SSL *ssl, const char *line)
{
	struct katt_ctx_data *cd;
	struct ktls_attest *ka;

	ka = SSL_get_ex_data(ssl, katt_ex_index());
	if (ka)
		katt_keylog_line(ka, ssl, line);
	cd = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), katt_ctx_index);
	if (cd && cd->app_keylog)
		cd->app_keylog(ssl, line);
}

int ktls_attest_ctx_prepare(SSL_CTX *ctx)
{
	struct katt_ctx_data *cd;

	katt_ex_index();
	if (katt_ssl_index < 0 || katt_ctx_index < 0)
		return katt_err(NULL, -ENOMEM, "no OpenSSL ex_data index");
	if (SSL_CTX_get_keylog_callback(ctx) == katt_keylog)
		return 0;
	cd = SSL_CTX_get_ex_data(ctx, katt_ctx_index);
	if (!cd) {
		cd = calloc(1, sizeof(*cd));
		if (!cd || !SSL_CTX_set_ex_data(ctx, katt_ctx_index, cd)) {
			free(cd);
			return katt_err(NULL, -ENOMEM,
					"out of memory preparing the SSL_CTX");
		}
	}
	cd->app_keylog = SSL_CTX_get_keylog_callback(ctx);
	SSL_CTX_set_keylog_callback(ctx, katt_keylog);
	return 0;
}

/* --- message callback ------------------------------------------------------ */

static uint32_t katt_u24(const unsigned char *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

/* A TLS 1.3 Certificate message with a non-empty certificate_list? */
static bool katt_cert_nonempty(const unsigned char *p, size_t len)
{
	size_t ctx_len;

	/* type, u24 length, u8 context length, context, u24 list length */
	if (len < 5)
		return false;
	ctx_len = p[4];
	if (len < 5 + ctx_len + 3)
		return false;
	return katt_u24(p + 5 + ctx_len) > 0;
}

void katt_msg_seen(struct ktls_attest *ka, int write_p, int content_type,
		   const void *buf, size_t len)
{
	const unsigned char *p = buf;
	bool live = write_p ? ka->tx_live : ka->rx_live;

	switch (content_type) {
	case SSL3_RT_HEADER:
		ka->records_seen++;
		if (live && write_p)
			ka->tx_records++;
		else if (live)
			ka->rx_records++;
		break;
	case SSL3_RT_INNER_CONTENT_TYPE:
		if (live && len == 1 && p[0] == KATT_REC_DATA)
			ka->app_data = true;
		break;
	case SSL3_RT_HANDSHAKE:
		if (!len)
			break;
		switch (p[0]) {
		case SSL3_MT_FINISHED:
			/* the last record under the handshake keys */
			if (write_p)
				ka->tx_live = true;
			else
				ka->rx_live = true;
			break;
		case SSL3_MT_KEY_UPDATE:
			ka->key_update = true;
			break;
		case SSL3_MT_CERTIFICATE:
			if (!katt_cert_nonempty(p, len))
				break;
			if (write_p)
				ka->cert_sent = true;
			else
				ka->cert_received = true;
			break;
		}
		break;
	}
}

static void katt_msg_cb(int write_p, int version, int content_type,
			const void *buf, size_t len, SSL *ssl, void *arg)
{
	struct ktls_attest *ka = arg;

	katt_msg_seen(ka, write_p, content_type, buf, len);
	if (ka->app_msg_cb)
		ka->app_msg_cb(write_p, version, content_type, buf, len, ssl,
			       ka->app_msg_cb_arg);
}

/* --- arming ---------------------------------------------------------------- */

int katt_is_armed(int fd)
{
	struct ktls_attest_status st;
	socklen_t len = sizeof(st);

	if (!getsockopt(fd, SOL_KTLS_ATTEST, KTLS_ATTEST_STATUS, &st, &len))
		return 1;
	/* TCP's own answer to an option level it does not know */
	if (errno == EOPNOTSUPP || errno == ENOPROTOOPT)
		return 0;
	return -errno;
}

/* Role and policy of an armed socket, where asked for. */
static int katt_set_role_policy(struct ktls_attest *ka, int fd, uint32_t role,
				uint32_t timeout_ms, uint32_t policy_flags)
{
	struct ktls_attest_policy pol = {
		.timeout_ms = timeout_ms,
		.flags = policy_flags,
	};
	int r = role;

	if (role && setsockopt(fd, SOL_KTLS_ATTEST, KTLS_ATTEST_ROLE, &r,
			       sizeof(r)))
		return katt_err(ka, -errno, "cannot set the attestation role %u: %s",
				role, strerror(errno));
	if ((timeout_ms || policy_flags) &&
	    setsockopt(fd, SOL_KTLS_ATTEST, KTLS_ATTEST_POLICY, &pol,
		       sizeof(pol)))
		return katt_err(ka, -errno,
				"cannot set the attestation policy (deadline %u ms, flags %#x): %s",
				timeout_ms, policy_flags, strerror(errno));
	return 0;
}

static int katt_arm_fd(struct ktls_attest *ka, int fd, uint32_t role,
		       uint32_t timeout_ms, uint32_t policy_flags)
{
	int armed = katt_is_armed(fd);

	if (armed < 0)
		return katt_err(ka, armed, "cannot read the socket's attestation status: %s",
				strerror(-armed));
	if (!armed && setsockopt(fd, SOL_TCP, TCP_ULP, KTLS_ATTEST_ULP_NAME,
				 sizeof(KTLS_ATTEST_ULP_NAME))) {
		int err = -errno;

		if (err == -ENOENT)
			return katt_err(ka, err,
					"cannot arm the socket: the ktls_attest module is not loaded");
		return katt_err(ka, err, "cannot arm the socket (TCP_ULP \"%s\"): %s",
				KTLS_ATTEST_ULP_NAME, strerror(-err));
	}
	return katt_set_role_policy(ka, fd, role, timeout_ms, policy_flags);
}

int ktls_attest_arm(int fd, uint32_t role, uint32_t timeout_ms,
		    uint32_t policy_flags)
{
	return katt_arm_fd(NULL, fd, role, timeout_ms, policy_flags);
}

/* --- prepare --------------------------------------------------------------- */

static int katt_check_opts(const struct ktls_attest_opts *o)
{
	const unsigned int known = KTLS_ATTEST_F_NO_TICKETS |
				   KTLS_ATTEST_F_NO_MSG_CALLBACK |
				   KTLS_ATTEST_F_OPENSSL_KTLS;

	if (o->mode < KTLS_ATTEST_MODE_USERSPACE ||
	    o->mode > KTLS_ATTEST_MODE_BOUND)
		return katt_err(NULL, -EINVAL, "unknown mode %d", o->mode);
	if (o->flags & ~known)
		return katt_err(NULL, -EINVAL, "unknown flags %#x",
				o->flags & ~known);
	if ((o->flags & KTLS_ATTEST_F_NO_MSG_CALLBACK) &&
	    o->mode == KTLS_ATTEST_MODE_BOUND)
		return katt_err(NULL, -EINVAL,
				"the bound mode needs the message callback (it tells which certificates were sent)");
	if ((o->flags & KTLS_ATTEST_F_NO_MSG_CALLBACK) && o->msg_cb)
		return katt_err(NULL, -EINVAL,
				"a message callback to chain, but KTLS_ATTEST_F_NO_MSG_CALLBACK");
	return 0;
}

/* A socket BIO both ways, on one fd: kTLS sees what OpenSSL would. */
static int katt_check_bio(SSL *ssl)
{
	BIO *r = SSL_get_rbio(ssl), *w = SSL_get_wbio(ssl);

	if (!r || !w || SSL_get_rfd(ssl) < 0)
		return katt_err(NULL, -EBADF,
				"the SSL has no socket (SSL_set_fd first)");
	if (BIO_method_type(r) != BIO_TYPE_SOCKET ||
	    BIO_method_type(w) != BIO_TYPE_SOCKET ||
	    SSL_get_rfd(ssl) != SSL_get_wfd(ssl))
		return katt_err(NULL, -EINVAL,
				"the SSL's BIOs are not one plain socket BIO (SSL_set_fd): kTLS would not see what they buffer");
	return 0;
}

int ktls_attest_prepare(SSL *ssl, const struct ktls_attest_opts *opts,
			struct ktls_attest **kap)
{
	struct ktls_attest *ka;
	int ret;

	*kap = NULL;
	ret = katt_check_opts(opts);
	if (ret)
		return ret;
	if (!SSL_in_before(ssl))
		return katt_err(NULL, -EALREADY,
				"the handshake has begun: prepare before it");
	if (SSL_get_ex_data(ssl, katt_ex_index()))
		return katt_err(NULL, -EALREADY, "this SSL is prepared already");
	if (opts->mode != KTLS_ATTEST_MODE_USERSPACE) {
		ret = katt_check_bio(ssl);
		if (ret)
			return ret;
	}
	ret = ktls_attest_ctx_prepare(SSL_get_SSL_CTX(ssl));
	if (ret)
		return ret;

	ka = calloc(1, sizeof(*ka));
	if (!ka)
		return katt_err(NULL, -ENOMEM, "out of memory");
	ka->ssl = ssl;
	ka->fd = SSL_get_fd(ssl);
	ka->mode = opts->mode;
	ka->flags = opts->flags;
	ka->role = opts->role;
	ka->timeout_ms = opts->timeout_ms;
	ka->policy_flags = opts->policy_flags;
	ka->app_msg_cb = opts->msg_cb;
	ka->app_msg_cb_arg = opts->msg_cb_arg;
	if (!SSL_set_ex_data(ssl, katt_ssl_index, ka)) {
		katt_free(ka);
		return katt_err(NULL, -ENOMEM, "out of memory (SSL ex_data)");
	}
	/* from here on @ka belongs to @ssl */
	if (ka->mode == KTLS_ATTEST_MODE_USERSPACE)
		goto out;

	if (ka->flags & KTLS_ATTEST_F_NO_MSG_CALLBACK) {
		/* the program's callback and its argument stay as they are */
		ka->flags |= KTLS_ATTEST_F_NO_TICKETS;
	} else {
		SSL_set_msg_callback(ssl, katt_msg_cb);
		SSL_set_msg_callback_arg(ssl, ka);
	}
	if ((ka->flags & KTLS_ATTEST_F_NO_TICKETS) &&
	    !SSL_set_num_tickets(ssl, 0)) {
		ret = katt_err(ka, -EINVAL, "SSL_set_num_tickets(0) failed");
		goto out_err;
	}
	if (!(ka->flags & KTLS_ATTEST_F_OPENSSL_KTLS)) {
		/*
		 * OpenSSL would install TLS_TX at its key change, inside the
		 * handshake: an armed socket would then hold what OpenSSL
		 * still writes there (a server's NewSessionTickets).
		 */
		SSL_clear_options(ssl, SSL_OP_ENABLE_KTLS);
		ret = katt_arm_fd(ka, ka->fd, ka->role, ka->timeout_ms,
				  ka->policy_flags);
		if (ret)
			goto out_err;
	}
out:
	*kap = ka;
	return 0;

out_err:
	if (!(ka->flags & KTLS_ATTEST_F_NO_MSG_CALLBACK)) {
		SSL_set_msg_callback(ssl, NULL);
		SSL_set_msg_callback_arg(ssl, NULL);
	}
	SSL_set_ex_data(ssl, katt_ssl_index, NULL);
	katt_free(ka);
	return ret;
}
