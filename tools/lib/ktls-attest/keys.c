// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The TLS 1.3 key schedule's last step (RFC 8446, section 7.3): a traffic
 * secret to the key and iv of one direction, by HKDF-Expand-Label through
 * OpenSSL's own "TLS13-KDF", and from them the kernel's crypto_info.
 *
 * kTLS builds a TLS 1.3 record's nonce as the 12-byte iv XOR the record
 * sequence number, like RFC 8446 section 5.3; for AES-GCM it takes that
 * iv as salt (4 bytes) || iv (8 bytes), for ChaCha20-Poly1305 as iv (12
 * bytes), and the first sequence number as rec_seq, big-endian.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "internal.h"

#define KATT_TLS13_IV_LEN	12
#define KATT_SUITE_AES_128_GCM	0x1301
#define KATT_SUITE_AES_256_GCM	0x1302
#define KATT_SUITE_CHACHA20	0x1303

int katt_expand_label(const EVP_MD *md, const unsigned char *secret,
		      size_t secret_len, const char *label,
		      unsigned char *out, size_t out_len)
{
	static const char prefix[] = "tls13 ";
	int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
	OSSL_PARAM params[6], *p = params;
	EVP_KDF_CTX *kctx;
	EVP_KDF *kdf;
	int ret;

	kdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_TLS1_3_KDF, NULL);
	if (!kdf)
		return -ENOSYS;
	kctx = EVP_KDF_CTX_new(kdf);
	EVP_KDF_free(kdf);
	if (!kctx)
		return -ENOMEM;
	*p++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
						(char *)EVP_MD_get0_name(md), 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
						 (unsigned char *)secret,
						 secret_len);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PREFIX,
						 (char *)prefix,
						 sizeof(prefix) - 1);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_LABEL,
						 (char *)label, strlen(label));
	*p = OSSL_PARAM_construct_end();
	ret = EVP_KDF_derive(kctx, out, out_len, params) > 0 ? 0 : -EINVAL;
	EVP_KDF_CTX_free(kctx);
	return ret;
}

const char *katt_suite_name(uint16_t suite)
{
	switch (suite) {
	case KATT_SUITE_AES_128_GCM:
		return "TLS_AES_128_GCM_SHA256";
	case KATT_SUITE_AES_256_GCM:
		return "TLS_AES_256_GCM_SHA384";
	case KATT_SUITE_CHACHA20:
		return "TLS_CHACHA20_POLY1305_SHA256";
	}
	return NULL;
}

int katt_crypto_from_secret(uint16_t suite, const EVP_MD *md,
			    const unsigned char *secret, size_t secret_len,
			    uint64_t seq, struct katt_crypto *c)
{
	unsigned char key[32], iv[KATT_TLS13_IV_LEN];
	uint64_t be_seq = htobe64(seq);
	size_t key_len;
	int ret;

	memset(c, 0, sizeof(*c));
	switch (suite) {
	case KATT_SUITE_AES_128_GCM:
		key_len = TLS_CIPHER_AES_GCM_128_KEY_SIZE;
		break;
	case KATT_SUITE_AES_256_GCM:
		key_len = TLS_CIPHER_AES_GCM_256_KEY_SIZE;
		break;
	case KATT_SUITE_CHACHA20:
		key_len = TLS_CIPHER_CHACHA20_POLY1305_KEY_SIZE;
		break;
	default:
		return -EOPNOTSUPP;
	}
	ret = katt_expand_label(md, secret, secret_len, "key", key, key_len);
	if (!ret)
		ret = katt_expand_label(md, secret, secret_len, "iv", iv,
					sizeof(iv));
	if (ret)
		goto out_wipe;

	c->info.version = TLS_1_3_VERSION;
	switch (suite) {
	case KATT_SUITE_AES_128_GCM:
		c->info.cipher_type = TLS_CIPHER_AES_GCM_128;
		c->len = sizeof(c->gcm128);
		memcpy(c->gcm128.key, key, key_len);
		memcpy(c->gcm128.salt, iv, TLS_CIPHER_AES_GCM_128_SALT_SIZE);
		memcpy(c->gcm128.iv, iv + TLS_CIPHER_AES_GCM_128_SALT_SIZE,
		       TLS_CIPHER_AES_GCM_128_IV_SIZE);
		memcpy(c->gcm128.rec_seq, &be_seq, sizeof(be_seq));
		break;
	case KATT_SUITE_AES_256_GCM:
		c->info.cipher_type = TLS_CIPHER_AES_GCM_256;
		c->len = sizeof(c->gcm256);
		memcpy(c->gcm256.key, key, key_len);
		memcpy(c->gcm256.salt, iv, TLS_CIPHER_AES_GCM_256_SALT_SIZE);
		memcpy(c->gcm256.iv, iv + TLS_CIPHER_AES_GCM_256_SALT_SIZE,
		       TLS_CIPHER_AES_GCM_256_IV_SIZE);
		memcpy(c->gcm256.rec_seq, &be_seq, sizeof(be_seq));
		break;
	default:
		c->info.cipher_type = TLS_CIPHER_CHACHA20_POLY1305;
		c->len = sizeof(c->chacha);
		memcpy(c->chacha.key, key, key_len);
		memcpy(c->chacha.iv, iv, TLS_CIPHER_CHACHA20_POLY1305_IV_SIZE);
		memcpy(c->chacha.rec_seq, &be_seq, sizeof(be_seq));
		break;
	}
out_wipe:
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(iv, sizeof(iv));
	return ret;
}
