/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Test certificates made in the test itself with OpenSSL: a CA, and
 * P-256 end-entity certificates it signs (or self-signed ones), kept in
 * memory and, for programs such as openssl s_server, written as PEM files.
 *
 * Like lib/ktls.h, nothing here knows the kselftest harness: 0 on
 * success, a negative errno on failure.
 */
#ifndef KATT_CERTS_SELFTEST_LIB_H
#define KATT_CERTS_SELFTEST_LIB_H

#include <openssl/evp.h>
#include <openssl/x509.h>

struct katt_ident {
	EVP_PKEY *key;
	X509 *cert;
	char cert_path[256];	/* after katt_ident_write() */
	char key_path[256];
};

/*
 * A new key and a certificate for it with common name @cn (and
 * subjectAltName DNS:@cn, IP:127.0.0.1 for an end entity), signed by
 * @issuer, or a self-signed CA when @issuer is NULL.
 */
int katt_ident_make(struct katt_ident *id, const char *cn,
		    const struct katt_ident *issuer);
/* DIR/NAME.pem and DIR/NAME.key */
int katt_ident_write(struct katt_ident *id, const char *dir, const char *name);
void katt_ident_free(struct katt_ident *id);
/* SHA-256 of the certificate's DER SubjectPublicKeyInfo. */
int katt_spki_sha256(X509 *cert, unsigned char out[32]);

#endif /* KATT_CERTS_SELFTEST_LIB_H */
