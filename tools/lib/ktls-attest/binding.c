// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The connection binding (Documentation/protocol.rst, "The binder"):
 * TLS-Exporter("EXPORTER-ktls-attest", "", 32), the SHA-256 of each end's
 * DER SubjectPublicKeyInfo where that end sent a certificate in this
 * handshake, the TLS server flag, and whether this end verified the peer's
 * certificate.
 *
 * "Sent in this handshake" matters: SSL_get_certificate() names a client's
 * configured certificate even when the server asked for none, and
 * SSL_get0_peer_certificate() a resumed session's, neither of which the
 * peer's application hashes; the message callback saw the Certificate
 * messages themselves (prepare.c).
 */
#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "internal.h"

static int katt_spki_sha256(struct ktls_attest *ka, X509 *cert,
			    unsigned char out[KTLS_ATTEST_KEY_HASH_LEN],
			    const char *whose)
{
	X509_PUBKEY *spki = X509_get_X509_PUBKEY(cert);
	unsigned char *der = NULL;
	unsigned int md_len = 0;
	int len, ok;

	/*
	 * The certificate's own SubjectPublicKeyInfo, as it was signed:
	 * i2d_PUBKEY() would encode the key again through OpenSSL 3's
	 * encoders, which costs 20 ms under TCG (benchmarks.rst) for the
	 * same bytes.
	 */
	if (!spki || !X509_get0_pubkey(cert))
		return katt_err(ka, -EINVAL, "%s certificate has no usable public key",
				whose);
	len = i2d_X509_PUBKEY(spki, &der);
	if (len <= 0)
		return katt_err(ka, -ENOMEM, "cannot encode %s public key",
				whose);
	ok = EVP_Digest(der, len, out, &md_len, EVP_sha256(), NULL);
	OPENSSL_free(der);
	if (!ok || md_len != KTLS_ATTEST_KEY_HASH_LEN)
		return katt_err(ka, -EINVAL, "cannot hash %s public key",
				whose);
	return 0;
}

int katt_binding_make(struct ktls_attest *ka, struct ktls_attest_binding *b)
{
	SSL *ssl = ka->ssl;
	X509 *cert;
	int ret;

	memset(b, 0, sizeof(*b));
	if (SSL_is_server(ssl))
		b->flags |= KTLS_ATTEST_BINDING_TLS_SERVER;
	if (SSL_export_keying_material(ssl, b->exporter, sizeof(b->exporter),
				       KTLS_ATTEST_EXPORTER_LABEL,
				       strlen(KTLS_ATTEST_EXPORTER_LABEL),
				       (const unsigned char *)"", 0, 1) != 1)
		return katt_err(ka, -EINVAL, "the TLS exporter failed");

	cert = SSL_get_certificate(ssl);
	if (ka->cert_sent && cert) {
		ret = katt_spki_sha256(ka, cert, b->local_key_sha256,
				       "this end's");
		if (ret)
			goto out_wipe;
		b->flags |= KTLS_ATTEST_BINDING_LOCAL_KEY;
	}
	cert = SSL_get0_peer_certificate(ssl);
	if (ka->cert_received && cert) {
		ret = katt_spki_sha256(ka, cert, b->peer_key_sha256,
				       "the peer's");
		if (ret)
			goto out_wipe;
		b->flags |= KTLS_ATTEST_BINDING_PEER_KEY;
		if ((SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER) &&
		    SSL_get_verify_result(ssl) == X509_V_OK)
			b->flags |= KTLS_ATTEST_BINDING_PEER_VERIFIED;
	}
	return 0;

out_wipe:
	OPENSSL_cleanse(b, sizeof(*b));
	return ret;
}
