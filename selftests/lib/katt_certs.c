// SPDX-License-Identifier: GPL-2.0
/*
 * Test certificates. See katt_certs.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "katt_certs.h"

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ext)
		return -EINVAL;
	ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -EINVAL;
}

int katt_ident_make(struct katt_ident *id, const char *cn,
		    const struct katt_ident *issuer)
{
	static long serial = 1;
	char san[300];
	X509_NAME *name;
	int ret;

	memset(id, 0, sizeof(*id));
	id->key = EVP_EC_gen("P-256");
	id->cert = X509_new();
	if (!id->key || !id->cert)
		return -ENOMEM;
	X509_set_version(id->cert, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(id->cert),
			 (long)getpid() * 1000 + serial++);
	X509_gmtime_adj(X509_getm_notBefore(id->cert), -3600);
	X509_gmtime_adj(X509_getm_notAfter(id->cert), 7 * 24 * 3600);
	X509_set_pubkey(id->cert, id->key);
	name = X509_get_subject_name(id->cert);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				   (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(id->cert, issuer ?
			     X509_get_subject_name(issuer->cert) : name);
	if (issuer) {
		snprintf(san, sizeof(san), "DNS:%s,IP:127.0.0.1", cn);
		ret = add_ext(id->cert, issuer->cert, NID_basic_constraints,
			      "critical,CA:FALSE") ?:
		      add_ext(id->cert, issuer->cert, NID_subject_alt_name, san);
	} else {
		ret = add_ext(id->cert, id->cert, NID_basic_constraints,
			      "critical,CA:TRUE") ?:
		      add_ext(id->cert, id->cert, NID_key_usage,
			      "critical,keyCertSign,cRLSign");
	}
	if (ret)
		return ret;
	if (!X509_sign(id->cert, issuer ? issuer->key : id->key, EVP_sha256()))
		return -EINVAL;
	return 0;
}

int katt_ident_write(struct katt_ident *id, const char *dir, const char *name)
{
	FILE *f;
	int ok;

	snprintf(id->cert_path, sizeof(id->cert_path), "%s/%s.pem", dir, name);
	snprintf(id->key_path, sizeof(id->key_path), "%s/%s.key", dir, name);
	f = fopen(id->cert_path, "w");
	if (!f)
		return -errno;
	ok = PEM_write_X509(f, id->cert);
	if (fclose(f) || !ok)
		return -EIO;
	f = fopen(id->key_path, "w");
	if (!f)
		return -errno;
	ok = PEM_write_PrivateKey(f, id->key, NULL, NULL, 0, NULL, NULL);
	if (fclose(f) || !ok)
		return -EIO;
	return 0;
}

void katt_ident_free(struct katt_ident *id)
{
	EVP_PKEY_free(id->key);
	X509_free(id->cert);
	id->key = NULL;
	id->cert = NULL;
}

int katt_spki_sha256(X509 *cert, unsigned char out[32])
{
	unsigned char *der = NULL;
	unsigned int len = 0;
	int n, ok;

	n = i2d_PUBKEY(X509_get0_pubkey(cert), &der);
	if (n <= 0)
		return -EINVAL;
	ok = EVP_Digest(der, n, out, &len, EVP_sha256(), NULL);
	OPENSSL_free(der);
	return ok && len == 32 ? 0 : -EINVAL;
}
