// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * After the handshake: the move onto kTLS.
 *
 * Everything that can refuse is checked before the first kTLS option is
 * set, so that a refused connection stays usable through OpenSSL.  The
 * kTLS keys are the application traffic keys of RFC 8446 section 7.3,
 * from the secrets the keylog callback saw; the first record sequence
 * number of each direction is the number of records OpenSSL wrote (read)
 * under them (prepare.c counts them).  The order on the socket: TCP_ULP
 * "tls", TLS_TX, TLS_RX (the gate holds data from the first key on), the
 * binding last (the first round starts once keys and binding are in).
 */
#include <errno.h>
#include <string.h>

#include <netinet/tcp.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include "internal.h"

static int katt_wipe(struct ktls_attest *ka)
{
	OPENSSL_cleanse(ka->tx_secret, sizeof(ka->tx_secret));
	OPENSSL_cleanse(ka->rx_secret, sizeof(ka->rx_secret));
	ka->tx_secret_len = ka->rx_secret_len = 0;
	return 0;
}

/* The checks, in the order a person would fix them. */
static int katt_move_check(struct ktls_attest *ka)
{
	SSL *ssl = ka->ssl;

	if (ka->moved)
		return katt_err(ka, -EALREADY, "the connection is on kTLS already");
	if (ka->mode == KTLS_ATTEST_MODE_USERSPACE)
		return katt_err(ka, -EINVAL,
				"the connection was prepared for userspace only");
	if (!SSL_is_init_finished(ssl))
		return katt_err(ka, -EINPROGRESS,
				"the TLS handshake is not finished");
	if (SSL_version(ssl) != TLS1_3_VERSION)
		return katt_err(ka, -EPROTONOSUPPORT,
				"the connection is %s: the move needs TLS 1.3",
				SSL_get_version(ssl));
	if (!katt_suite_name(SSL_CIPHER_get_protocol_id(SSL_get_current_cipher(ssl))))
		return katt_err(ka, -EOPNOTSUPP,
				"kTLS does not take the cipher suite %s",
				SSL_CIPHER_get_name(SSL_get_current_cipher(ssl)));
	if (SSL_get_read_ahead(ssl))
		return katt_err(ka, -EINVAL,
				"read-ahead is on: OpenSSL may have read records that kTLS would then miss");
	if (SSL_has_pending(ssl))
		return katt_err(ka, -EBUSY,
				"OpenSSL holds bytes it read and the program did not: kTLS would miss them");
	if (BIO_wpending(SSL_get_wbio(ssl)) > 0)
		return katt_err(ka, -EBUSY,
				"OpenSSL has bytes that are not written yet");
	if (ka->key_update)
		return katt_err(ka, -EKEYEXPIRED,
				"a KeyUpdate went by in OpenSSL: the traffic secrets are stale");
	if (ka->app_data)
		return katt_err(ka, -EBUSY,
				"application data was read or written through OpenSSL after the handshake");
	if (ka->keylog_mismatch || !ka->tx_secret_len || !ka->rx_secret_len)
		return katt_err(ka, -ENOKEY,
				"no traffic secrets from the keylog callback (was the SSL_CTX's keylog callback replaced after ktls_attest_prepare()?)");
	if (!(ka->flags & KTLS_ATTEST_F_NO_MSG_CALLBACK) &&
	    (!ka->records_seen || !ka->tx_live || !ka->rx_live))
		return katt_err(ka, -ENOMSG,
				"the message callback saw no handshake (was it replaced after ktls_attest_prepare()?)");
	if ((ka->flags & KTLS_ATTEST_F_NO_MSG_CALLBACK) && SSL_is_server(ssl) &&
	    SSL_get_num_tickets(ssl))
		return katt_err(ka, -EINVAL,
				"without the message callback a server must send no tickets (num_tickets is %zu)",
				SSL_get_num_tickets(ssl));
	return 0;
}

/* Both directions' parameters; @tx NULL: OpenSSL installed TX itself. */
static int katt_derive(struct ktls_attest *ka, struct katt_crypto *tx,
		       struct katt_crypto *rx)
{
	const SSL_CIPHER *c = SSL_get_current_cipher(ka->ssl);
	uint16_t suite = SSL_CIPHER_get_protocol_id(c);
	const EVP_MD *md = SSL_CIPHER_get_handshake_digest(c);
	int ret = 0;

	if (!md)
		return katt_err(ka, -EINVAL, "no digest for %s",
				SSL_CIPHER_get_name(c));
	if (tx)
		ret = katt_crypto_from_secret(suite, md, ka->tx_secret,
					      ka->tx_secret_len,
					      ka->tx_records, tx);
	if (!ret)
		ret = katt_crypto_from_secret(suite, md, ka->rx_secret,
					      ka->rx_secret_len,
					      ka->rx_records, rx);
	if (ret)
		return katt_err(ka, ret, "cannot derive the kTLS keys: %s",
				strerror(-ret));
	return 0;
}

int katt_move_plan(struct ktls_attest *ka, struct katt_crypto *tx,
		   struct katt_crypto *rx)
{
	int ret = katt_move_check(ka);

	return ret ? ret : katt_derive(ka, tx, rx);
}

static int katt_broken(struct ktls_attest *ka, int err)
{
	ka->broken = true;
	ka->broken_err = err;
	return err;
}

static int katt_setsockopt_key(struct ktls_attest *ka, int dir,
			       const struct katt_crypto *c)
{
	if (!setsockopt(ka->fd, SOL_TLS, dir, &c->info, c->len))
		return 0;
	return katt_err(ka, -errno, "cannot install the kTLS %s key: %s",
			dir == TLS_TX ? "transmit" : "receive",
			strerror(errno));
}

int ktls_attest_move(struct ktls_attest *ka)
{
	struct katt_crypto tx, rx;
	struct ktls_attest_binding b;
	bool tx_in;
	int armed, ret;

	if (ka->mode == KTLS_ATTEST_MODE_USERSPACE)
		return 0;
	ret = katt_move_check(ka);
	if (ret)
		return ret;
	/* OpenSSL's own kTLS (SSL_OP_ENABLE_KTLS) put TLS_TX in already */
	tx_in = BIO_get_ktls_send(SSL_get_wbio(ka->ssl));
	if (BIO_get_ktls_recv(SSL_get_rbio(ka->ssl)))
		return katt_err(ka, -EOPNOTSUPP,
				"OpenSSL installed a kTLS receive key itself, which OpenSSL 3.0 does not for TLS 1.3");
	armed = katt_is_armed(ka->fd);
	if (armed < 0)
		return katt_err(ka, armed,
				"cannot read the socket's attestation status: %s",
				strerror(-armed));
	ret = katt_derive(ka, tx_in ? NULL : &tx, &rx);
	if (ret)
		goto out_wipe;

	/* nothing on the socket changed yet: a failure here leaves it usable */
	if (!tx_in && setsockopt(ka->fd, SOL_TCP, TCP_ULP, "tls", sizeof("tls"))) {
		ret = katt_err(ka, -errno,
			       errno == ENOENT ?
			       "cannot install kTLS: the tls module is not loaded" :
			       "cannot install kTLS (TCP_ULP \"tls\"): %s",
			       strerror(errno));
		goto out_wipe;
	}
	if (!tx_in) {
		ret = katt_setsockopt_key(ka, TLS_TX, &tx);
		if (ret)
			goto out_wipe;	/* no key yet: OpenSSL still works */
	}
	/* from here on OpenSSL can no longer write on this connection */
	SSL_set_quiet_shutdown(ka->ssl, 1);
	ret = katt_setsockopt_key(ka, TLS_RX, &rx);
	if (ret)
		goto out_broken;
	if (!armed) {
		uint64_t cookie;

		ret = katt_nl_sock_arm(ka, ka->fd, ka->role, ka->timeout_ms,
				       ka->policy_flags, &cookie);
		if (ret)
			goto out_broken;
	}
	if (ka->mode == KTLS_ATTEST_MODE_BOUND) {
		ret = katt_binding_make(ka, &b);
		if (!ret && setsockopt(ka->fd, SOL_KTLS_ATTEST,
				       KTLS_ATTEST_BINDING, &b, sizeof(b)))
			ret = katt_err(ka, -errno,
				       "cannot set the connection binding: %s",
				       strerror(errno));
		if (!ret)
			ka->binding_flags = b.flags;
		OPENSSL_cleanse(&b, sizeof(b));
		if (ret)
			goto out_broken;
	}
	ka->moved = true;
	ka->err[0] = '\0';
	katt_wipe(ka);
	goto out_wipe;

out_broken:
	katt_broken(ka, ret);
	katt_wipe(ka);
out_wipe:
	/* a refused move keeps the secrets (for a retry) until SSL_free() */
	OPENSSL_cleanse(&tx, sizeof(tx));
	OPENSSL_cleanse(&rx, sizeof(rx));
	return ret;
}

int ktls_attest_fd(const struct ktls_attest *ka)
{
	return ka->fd;
}

SSL *ktls_attest_ssl(const struct ktls_attest *ka)
{
	return ka->ssl;
}

enum ktls_attest_mode ktls_attest_get_mode(const struct ktls_attest *ka)
{
	return ka->mode;
}

bool ktls_attest_moved(const struct ktls_attest *ka)
{
	return ka->moved;
}

uint32_t ktls_attest_binding_flags(const struct ktls_attest *ka)
{
	return ka->binding_flags;
}
