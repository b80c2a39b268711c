// SPDX-License-Identifier: GPL-2.0
/*
 * tpm_crypto.c: the TPM structures of tpm_crypto.h through OpenSSL, after
 * tpm2-tools' tpm2_checkquote (tools/misc/tpm2_checkquote.c) and its
 * lib/tpm2_openssl.c: the public area becomes an EVP_PKEY, the
 * TPMT_SIGNATURE a signature OpenSSL verifies over the digest of the
 * message.  Owns nothing; calls tss2-mu and OpenSSL.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <tss2/tss2_mu.h>

#include "tpm_crypto.h"

const EVP_MD *katt_tpm_md(TPMI_ALG_HASH alg)
{
	switch (alg) {
	case TPM2_ALG_SHA1:
		return EVP_sha1();
	case TPM2_ALG_SHA256:
		return EVP_sha256();
	case TPM2_ALG_SHA384:
		return EVP_sha384();
	case TPM2_ALG_SHA512:
		return EVP_sha512();
	}
	return NULL;
}

int katt_tpm_name(const TPMT_PUBLIC *pub, TPM2B_NAME *name)
{
	uint8_t buf[sizeof(TPMT_PUBLIC)];
	const EVP_MD *md = katt_tpm_md(pub->nameAlg);
	unsigned int len = 0;
	size_t off = 0;

	if (!md)
		return -EINVAL;
	if (Tss2_MU_TPMT_PUBLIC_Marshal(pub, buf, sizeof(buf), &off))
		return -EINVAL;
	name->name[0] = pub->nameAlg >> 8;
	name->name[1] = pub->nameAlg & 0xff;
	if (!EVP_Digest(buf, off, name->name + 2, &len, md, NULL))
		return -EIO;
	name->size = 2 + len;
	return 0;
}

static int ecc_pkey(const TPMT_PUBLIC *pub, EVP_PKEY **pkey)
{
	const TPMS_ECC_POINT *pt = &pub->unique.ecc;
	uint8_t point[1 + 2 * 66];
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	const char *group;
	size_t size;
	int ret = -EIO;

	switch (pub->parameters.eccDetail.curveID) {
	case TPM2_ECC_NIST_P256:
		group = SN_X9_62_prime256v1;
		size = 32;
		break;
	case TPM2_ECC_NIST_P384:
		group = SN_secp384r1;
		size = 48;
		break;
	case TPM2_ECC_NIST_P521:
		group = SN_secp521r1;
		size = 66;
		break;
	default:
		return -EOPNOTSUPP;
	}
	if (pt->x.size > size || pt->y.size > size)
		return -EINVAL;
	/* the uncompressed point, coordinates left-padded to the field size */
	memset(point, 0, sizeof(point));
	point[0] = POINT_CONVERSION_UNCOMPRESSED;
	memcpy(point + 1 + size - pt->x.size, pt->x.buffer, pt->x.size);
	memcpy(point + 1 + 2 * size - pt->y.size, pt->y.buffer, pt->y.size);

	bld = OSSL_PARAM_BLD_new();
	if (!bld ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
					     group, 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
					      point, 1 + 2 * size))
		goto out;
	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) <= 0)
		goto out;
	/* an invalid point (not on the curve) fails here */
	ret = EVP_PKEY_fromdata(ctx, pkey, EVP_PKEY_PUBLIC_KEY, params) > 0 ?
	      0 : -EINVAL;
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return ret;
}

static int rsa_pkey(const TPMT_PUBLIC *pub, EVP_PKEY **pkey)
{
	const TPM2B_PUBLIC_KEY_RSA *n = &pub->unique.rsa;
	UINT32 exp = pub->parameters.rsaDetail.exponent;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	BIGNUM *bn_n = NULL, *bn_e = NULL;
	int ret = -EIO;

	if (!n->size || n->size * 8 != pub->parameters.rsaDetail.keyBits)
		return -EINVAL;
	bn_n = BN_bin2bn(n->buffer, n->size, NULL);
	bn_e = BN_new();
	bld = OSSL_PARAM_BLD_new();
	if (!bn_n || !bn_e || !bld ||
	    !BN_set_word(bn_e, exp ? exp : 65537) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e))
		goto out;
	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) <= 0)
		goto out;
	ret = EVP_PKEY_fromdata(ctx, pkey, EVP_PKEY_PUBLIC_KEY, params) > 0 ?
	      0 : -EINVAL;
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn_n);
	BN_free(bn_e);
	return ret;
}

int katt_tpm_pkey(const TPMT_PUBLIC *pub, EVP_PKEY **pkey)
{
	*pkey = NULL;
	switch (pub->type) {
	case TPM2_ALG_ECC:
		return ecc_pkey(pub, pkey);
	case TPM2_ALG_RSA:
		return rsa_pkey(pub, pkey);
	}
	return -EOPNOTSUPP;
}

int katt_pkey_spki_sha256(EVP_PKEY *pkey, uint8_t out[32])
{
	unsigned char *der = NULL;
	unsigned int len = 0;
	int n, ok;

	n = i2d_PUBKEY(pkey, &der);
	if (n <= 0)
		return -EIO;
	ok = EVP_Digest(der, n, out, &len, EVP_sha256(), NULL);
	OPENSSL_free(der);
	return ok && len == 32 ? 0 : -EIO;
}

TPMI_ALG_HASH katt_tpm_sig_hash(const TPMT_SIGNATURE *sig)
{
	switch (sig->sigAlg) {
	case TPM2_ALG_ECDSA:
		return sig->signature.ecdsa.hash;
	case TPM2_ALG_RSASSA:
		return sig->signature.rsassa.hash;
	case TPM2_ALG_RSAPSS:
		return sig->signature.rsapss.hash;
	}
	return TPM2_ALG_NULL;
}

static int refuse(char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int refuse(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why && whylen) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return -EBADMSG;
}

/* The key's own scheme, TPM2_ALG_NULL if it leaves it to the caller. */
static void key_scheme(const TPMT_PUBLIC *pub, TPM2_ALG_ID *scheme,
		       TPMI_ALG_HASH *hash)
{
	if (pub->type == TPM2_ALG_ECC) {
		*scheme = pub->parameters.eccDetail.scheme.scheme;
		*hash = pub->parameters.eccDetail.scheme.details.anySig.hashAlg;
	} else {
		*scheme = pub->parameters.rsaDetail.scheme.scheme;
		*hash = pub->parameters.rsaDetail.scheme.details.anySig.hashAlg;
	}
}

/* The signature in the form OpenSSL verifies, in @der (freed by caller). */
static int sig_bytes(const TPMT_SIGNATURE *sig, unsigned char **der,
		     size_t *len)
{
	const TPMS_SIGNATURE_ECDSA *ec = &sig->signature.ecdsa;
	ECDSA_SIG *es;
	BIGNUM *r, *s;
	int n;

	if (sig->sigAlg != TPM2_ALG_ECDSA) {
		const TPM2B_PUBLIC_KEY_RSA *rs = &sig->signature.rsassa.sig;

		*der = OPENSSL_memdup(rs->buffer, rs->size);
		*len = rs->size;
		return *der || !rs->size ? 0 : -EIO;
	}
	es = ECDSA_SIG_new();
	r = BN_bin2bn(ec->signatureR.buffer, ec->signatureR.size, NULL);
	s = BN_bin2bn(ec->signatureS.buffer, ec->signatureS.size, NULL);
	if (!es || !r || !s || !ECDSA_SIG_set0(es, r, s)) {
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(es);
		return -EIO;
	}
	*der = NULL;
	n = i2d_ECDSA_SIG(es, der);
	ECDSA_SIG_free(es);
	if (n <= 0)
		return -EIO;
	*len = n;
	return 0;
}

int katt_tpm_verify(const TPMT_PUBLIC *pub, const TPMT_SIGNATURE *sig,
		    const uint8_t *msg, size_t len, char *why, size_t whylen)
{
	TPMI_ALG_HASH halg = katt_tpm_sig_hash(sig), khash;
	uint8_t digest[EVP_MAX_MD_SIZE];
	unsigned char *sigbuf = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	unsigned int dlen = 0;
	const EVP_MD *md;
	TPM2_ALG_ID kscheme;
	size_t siglen = 0;
	int ret, ok;

	if (pub->type == TPM2_ALG_ECC ? sig->sigAlg != TPM2_ALG_ECDSA :
	    pub->type != TPM2_ALG_RSA || (sig->sigAlg != TPM2_ALG_RSASSA &&
					  sig->sigAlg != TPM2_ALG_RSAPSS))
		return refuse(why, whylen, "signature scheme %#06x does not fit the AK (type %#06x)",
			      sig->sigAlg, pub->type);
	key_scheme(pub, &kscheme, &khash);
	if (kscheme != TPM2_ALG_NULL && (kscheme != sig->sigAlg || khash != halg))
		return refuse(why, whylen, "signature scheme %#06x/%#06x is not the AK's own (%#06x/%#06x)",
			      sig->sigAlg, halg, kscheme, khash);
	if (halg != TPM2_ALG_SHA256 && halg != TPM2_ALG_SHA384 &&
	    halg != TPM2_ALG_SHA512)
		return refuse(why, whylen, "signature hash %#06x is not SHA-256, SHA-384 or SHA-512",
			      halg);
	md = katt_tpm_md(halg);
	if (!EVP_Digest(msg, len, digest, &dlen, md, NULL))
		return -EIO;

	ret = katt_tpm_pkey(pub, &pkey);
	if (ret)
		return ret == -EIO ? ret :
		       refuse(why, whylen, "the AK's public key is unusable");
	ret = sig_bytes(sig, &sigbuf, &siglen);
	if (ret)
		goto out;
	ret = -EIO;
	ctx = EVP_PKEY_CTX_new(pkey, NULL);
	if (!ctx || EVP_PKEY_verify_init(ctx) <= 0 ||
	    EVP_PKEY_CTX_set_signature_md(ctx, md) <= 0)
		goto out;
	if (sig->sigAlg == TPM2_ALG_RSASSA &&
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0)
		goto out;
	if (sig->sigAlg == TPM2_ALG_RSAPSS &&
	    (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
	     EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_AUTO) <= 0))
		goto out;
	ok = EVP_PKEY_verify(ctx, sigbuf, siglen, digest, dlen);
	ret = ok == 1 ? 0 :
	      refuse(why, whylen, "the signature does not verify with the AK");
out:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	OPENSSL_free(sigbuf);
	return ret;
}

static int find_bank(const struct katt_pcr_values *v, uint16_t alg)
{
	unsigned int i;

	for (i = 0; i < v->nbanks; i++)
		if (v->bank[i].alg == alg)
			return i;
	return -1;
}

int katt_pcr_digest(TPMI_ALG_HASH alg, const TPML_PCR_SELECTION *sel,
		    const struct katt_pcr_values *values,
		    uint8_t out[KATT_DIGEST_MAX], uint16_t *missing_alg,
		    unsigned int *missing_pcr)
{
	const EVP_MD *md = katt_tpm_md(alg);
	unsigned int i, p, len = 0;
	EVP_MD_CTX *ctx;
	int ret = -EIO;

	if (!md || sel->count > TPM2_NUM_PCR_BANKS)
		return -EINVAL;
	ctx = EVP_MD_CTX_new();
	if (!ctx || !EVP_DigestInit_ex(ctx, md, NULL))
		goto out;
	for (i = 0; i < sel->count; i++) {
		const TPMS_PCR_SELECTION *s = &sel->pcrSelections[i];
		int b = find_bank(values, s->hash);

		if (s->sizeofSelect > sizeof(s->pcrSelect)) {
			ret = -EINVAL;
			goto out;
		}
		for (p = 0; p < s->sizeofSelect * 8u; p++) {
			if (!(s->pcrSelect[p / 8] & (1u << (p % 8))))
				continue;
			if (b < 0 || p >= KATT_PCR_COUNT ||
			    !(values->bank[b].pcrs & (1u << p))) {
				if (missing_alg)
					*missing_alg = s->hash;
				if (missing_pcr)
					*missing_pcr = p;
				ret = -ENOENT;
				goto out;
			}
			if (!EVP_DigestUpdate(ctx, values->bank[b].value[p],
					      values->bank[b].size))
				goto out;
		}
	}
	if (!EVP_DigestFinal_ex(ctx, out, &len))
		goto out;
	ret = len;
out:
	EVP_MD_CTX_free(ctx);
	return ret;
}

void katt_pcr_sel_to_tpml(const struct katt_pcr_sel *sel,
			  TPML_PCR_SELECTION *tpml)
{
	unsigned int i;

	memset(tpml, 0, sizeof(*tpml));
	tpml->count = sel->nbanks;
	for (i = 0; i < sel->nbanks; i++) {
		TPMS_PCR_SELECTION *s = &tpml->pcrSelections[i];

		s->hash = sel->bank[i].alg;
		s->sizeofSelect = 3;
		s->pcrSelect[0] = sel->bank[i].pcrs;
		s->pcrSelect[1] = sel->bank[i].pcrs >> 8;
		s->pcrSelect[2] = sel->bank[i].pcrs >> 16;
	}
}

int katt_pcr_sel_from_tpml(const TPML_PCR_SELECTION *tpml,
			   struct katt_pcr_sel *sel)
{
	unsigned int i, k, p;

	memset(sel, 0, sizeof(*sel));
	if (tpml->count > KATT_PCR_BANKS_MAX)
		return -EINVAL;
	for (i = 0; i < tpml->count; i++) {
		const TPMS_PCR_SELECTION *s = &tpml->pcrSelections[i];
		uint32_t pcrs = 0;

		if (s->sizeofSelect > sizeof(s->pcrSelect))
			return -EINVAL;
		for (p = 0; p < s->sizeofSelect * 8u; p++) {
			if (!(s->pcrSelect[p / 8] & (1u << (p % 8))))
				continue;
			if (p >= KATT_PCR_COUNT)
				return -EINVAL;
			pcrs |= 1u << p;
		}
		for (k = 0; k < i; k++)
			if (sel->bank[k].alg == s->hash)
				return -EINVAL;
		sel->bank[i].alg = s->hash;
		sel->bank[i].pcrs = pcrs;
	}
	sel->nbanks = tpml->count;
	return 0;
}

void katt_hex(const uint8_t *p, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * len] = '\0';
}
