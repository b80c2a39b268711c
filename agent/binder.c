// SPDX-License-Identifier: GPL-2.0
/*
 * binder.c: the binder of binder.h.  Owns nothing; calls OpenSSL (EVP
 * SHA-256 and OPENSSL_cleanse for the exporter-bearing input).
 */
#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "binder.h"

#define LABEL_LEN	(sizeof(KATT_BINDER_LABEL) - 1)
#define INPUT_LEN	(LABEL_LEN + 1 + KATT_EXPORTER_LEN + 32 + KATT_KEY_HASH_LEN)

int katt_binder(uint8_t role, const uint8_t exporter[KATT_EXPORTER_LEN],
		const uint8_t nonce[32], const uint8_t *key_hash,
		uint8_t out[KATT_BINDER_LEN])
{
	uint8_t in[INPUT_LEN], *p = in;
	unsigned int len = 0;
	int ok;

	memcpy(p, KATT_BINDER_LABEL, LABEL_LEN);
	p += LABEL_LEN;
	*p++ = role;
	memcpy(p, exporter, KATT_EXPORTER_LEN);
	p += KATT_EXPORTER_LEN;
	memcpy(p, nonce, 32);
	p += 32;
	if (key_hash)
		memcpy(p, key_hash, KATT_KEY_HASH_LEN);
	else
		memset(p, 0, KATT_KEY_HASH_LEN);

	ok = EVP_Digest(in, sizeof(in), out, &len, EVP_sha256(), NULL);
	/* the exporter is a secret of the connection */
	OPENSSL_cleanse(in, sizeof(in));
	if (!ok || len != KATT_BINDER_LEN) {
		OPENSSL_cleanse(out, KATT_BINDER_LEN);
		return -EIO;
	}
	return 0;
}

int katt_binder_attester(const struct katt_binding *b, const uint8_t nonce[32],
			 uint8_t out[KATT_BINDER_LEN])
{
	return katt_binder(b->tls_server ? KATT_ROLE_SERVER_ATTESTS :
					   KATT_ROLE_CLIENT_ATTESTS,
			   b->exporter, nonce,
			   b->has_local_key ? b->local_key : NULL, out);
}

int katt_binder_rp(const struct katt_binding *b, const uint8_t nonce[32],
		   uint8_t out[KATT_BINDER_LEN])
{
	/* the peer attests: its TLS role is the opposite of ours */
	return katt_binder(b->tls_server ? KATT_ROLE_CLIENT_ATTESTS :
					   KATT_ROLE_SERVER_ATTESTS,
			   b->exporter, nonce,
			   b->has_peer_key ? b->peer_key : NULL, out);
}

void katt_binding_wipe(struct katt_binding *b)
{
	OPENSSL_cleanse(b, sizeof(*b));
}
