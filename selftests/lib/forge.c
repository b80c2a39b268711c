// SPDX-License-Identifier: GPL-2.0
/* Quotes forged in software: see forge.h. */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/x509.h>
#include <tss2/tss2_mu.h>

#include "forge.h"
#include "tpm_crypto.h"

int forge_key_update(struct forge_key *k)
{
	size_t off = 0;

	if (Tss2_MU_TPM2B_PUBLIC_Marshal(&k->pub, k->pub_blob, sizeof(k->pub_blob),
					 &off))
		return -1;
	k->pub_len = off;
	return katt_tpm_name(&k->pub.publicArea, &k->name) ? -1 : 0;
}

int forge_key_new(struct forge_key *k, TPMA_OBJECT attrs)
{
	TPMT_PUBLIC *p = &k->pub.publicArea;
	uint8_t point[65];
	size_t len = 0;

	memset(k, 0, sizeof(*k));
	k->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (!k->pkey ||
	    !EVP_PKEY_get_octet_string_param(k->pkey, OSSL_PKEY_PARAM_PUB_KEY,
					     point, sizeof(point), &len) ||
	    len != 65 || point[0] != 4)
		return -1;
	p->type = TPM2_ALG_ECC;
	p->nameAlg = TPM2_ALG_SHA256;
	p->objectAttributes = attrs;
	p->parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
	p->parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
	p->parameters.eccDetail.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
	p->parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
	p->parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
	p->unique.ecc.x.size = 32;
	memcpy(p->unique.ecc.x.buffer, point + 1, 32);
	p->unique.ecc.y.size = 32;
	memcpy(p->unique.ecc.y.buffer, point + 33, 32);
	if (katt_pkey_spki_sha256(k->pkey, k->spki_sha256))
		return -1;
	return forge_key_update(k);
}

void forge_key_free(struct forge_key *k)
{
	EVP_PKEY_free(k->pkey);
	k->pkey = NULL;
}

static int bank_of(struct forge_pcrs *p, uint16_t alg)
{
	unsigned int i;

	for (i = 0; i < p->values.nbanks; i++)
		if (p->values.bank[i].alg == alg)
			return i;
	if (p->values.nbanks == KATT_PCR_BANKS_MAX)
		return -1;
	p->values.bank[p->values.nbanks].alg = alg;
	p->sel.pcrSelections[p->sel.count].hash = alg;
	p->sel.pcrSelections[p->sel.count].sizeofSelect = 3;
	p->sel.count++;
	return p->values.nbanks++;
}

void forge_pcrs_bank(struct forge_pcrs *p, uint16_t alg, uint32_t pcrs,
		     uint8_t fill)
{
	int b = bank_of(p, alg);
	unsigned int i, size = katt_hash_alg_size(alg);

	if (b < 0)
		return;
	p->values.bank[b].pcrs = pcrs;
	p->values.bank[b].size = size;
	p->sel.pcrSelections[b].pcrSelect[0] = pcrs;
	p->sel.pcrSelections[b].pcrSelect[1] = pcrs >> 8;
	p->sel.pcrSelections[b].pcrSelect[2] = pcrs >> 16;
	for (i = 0; i < KATT_PCR_COUNT; i++) {
		memset(p->store[b][i], fill + i, size);
		p->values.bank[b].value[i] = (pcrs & (1u << i)) ? p->store[b][i] :
					     NULL;
	}
}

void forge_pcrs_init(struct forge_pcrs *p)
{
	memset(p, 0, sizeof(*p));
	forge_pcrs_bank(p, TPM2_ALG_SHA256, 0xff, 0);
}

void forge_attest_quote(TPMS_ATTEST *a, const uint8_t binder[32],
			const struct forge_pcrs *p, uint32_t reset,
			uint32_t restart, uint64_t clock)
{
	uint8_t digest[KATT_DIGEST_MAX];
	int n;

	memset(a, 0, sizeof(*a));
	a->magic = TPM2_GENERATED_VALUE;
	a->type = TPM2_ST_ATTEST_QUOTE;
	a->qualifiedSigner.size = 34;
	a->qualifiedSigner.name[1] = TPM2_ALG_SHA256;
	a->extraData.size = 32;
	memcpy(a->extraData.buffer, binder, 32);
	a->clockInfo.clock = clock;
	a->clockInfo.resetCount = reset;
	a->clockInfo.restartCount = restart;
	a->clockInfo.safe = TPM2_YES;
	a->firmwareVersion = 0x2019061900000000ULL;
	a->attested.quote.pcrSelect = p->sel;
	n = katt_pcr_digest(TPM2_ALG_SHA256, &p->sel, &p->values, digest, NULL,
			    NULL);
	if (n > 0) {
		a->attested.quote.pcrDigest.size = n;
		memcpy(a->attested.quote.pcrDigest.buffer, digest, n);
	}
}

int forge_marshal(struct forged *f, const TPMS_ATTEST *a)
{
	size_t off = 0;

	if (Tss2_MU_TPMS_ATTEST_Marshal(a, f->attest, sizeof(f->attest), &off))
		return -1;
	f->attest_len = off;
	return 0;
}

int forge_sign(struct forged *f, const struct forge_key *k, TPMI_ALG_HASH hash)
{
	const EVP_MD *md = katt_tpm_md(hash);
	TPMT_SIGNATURE sig = { .sigAlg = TPM2_ALG_ECDSA };
	unsigned char der[128];
	const unsigned char *p = der;
	const BIGNUM *r, *s;
	size_t derlen = sizeof(der), off = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	ECDSA_SIG *es;
	int ok;

	ok = ctx && md &&
	     EVP_DigestSignInit(ctx, NULL, md, NULL, k->pkey) == 1 &&
	     EVP_DigestSign(ctx, der, &derlen, f->attest, f->attest_len) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return -1;
	es = d2i_ECDSA_SIG(NULL, &p, derlen);
	if (!es)
		return -1;
	ECDSA_SIG_get0(es, &r, &s);
	sig.signature.ecdsa.hash = hash;
	sig.signature.ecdsa.signatureR.size = BN_bn2binpad(r,
		sig.signature.ecdsa.signatureR.buffer, 32);
	sig.signature.ecdsa.signatureS.size = BN_bn2binpad(s,
		sig.signature.ecdsa.signatureS.buffer, 32);
	ECDSA_SIG_free(es);
	if (Tss2_MU_TPMT_SIGNATURE_Marshal(&sig, f->sig, sizeof(f->sig), &off))
		return -1;
	f->sig_len = off;
	return 0;
}

int forge_value(struct forged *f, const struct forge_key *k,
		const struct katt_pcr_values *map)
{
	long n;

	memset(&f->q, 0, sizeof(f->q));
	f->q.attest.p = f->attest;
	f->q.attest.len = f->attest_len;
	f->q.sig.p = f->sig;
	f->q.sig.len = f->sig_len;
	f->q.pcrs = *map;
	f->q.ak_pub.p = k->pub_blob;
	f->q.ak_pub.len = k->pub_len;
	n = katt_tpm2_quote_encode(&f->q, f->value, sizeof(f->value));
	if (n < 0)
		return -1;
	f->value_len = n;
	f->cmw.type = KATT_MEDIA_TPM2_QUOTE;
	f->cmw.type_len = strlen(KATT_MEDIA_TPM2_QUOTE);
	f->cmw.value = f->value;
	f->cmw.value_len = n;
	f->cmw.has_ind = true;
	f->cmw.ind = KATT_CMW_IND_EVIDENCE;
	return 0;
}

int forge_all(struct forged *f, const TPMS_ATTEST *a,
	      const struct forge_key *k, const struct katt_pcr_values *map)
{
	if (forge_marshal(f, a) || forge_sign(f, k, TPM2_ALG_SHA256))
		return -1;
	return forge_value(f, k, map);
}
