/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Quotes forged in software, for the appraisal's tests: an ECC P-256 key
 * made with OpenSSL whose TPM2B_PUBLIC claims whatever attributes the test
 * wants (restricted signing, like a TPM's AK), and TPMS_ATTEST structures
 * built field by field, marshalled with tss2-mu and signed with that key.
 * A policy that pins such a key lets every check after the signature be
 * reached with inputs the signature covers (a TPM's restricted key would
 * never sign them: that is the point of check 1).
 */
#ifndef KATT_FORGE_SELFTEST_LIB_H
#define KATT_FORGE_SELFTEST_LIB_H

#include <openssl/evp.h>
#include <tss2/tss2_tpm2_types.h>

#include "proto.h"

#define FORGE_AK_ATTRS	(TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT | \
			 TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |	 \
			 TPMA_OBJECT_SENSITIVEDATAORIGIN |			 \
			 TPMA_OBJECT_USERWITHAUTH)

struct forge_key {
	EVP_PKEY *pkey;
	TPM2B_PUBLIC pub;
	uint8_t pub_blob[sizeof(TPM2B_PUBLIC)];
	size_t pub_len;
	TPM2B_NAME name;
	uint8_t spki_sha256[32];
};

/* A new P-256 key claiming @attrs, scheme ECDSA-SHA256.  0 or -1. */
int forge_key_new(struct forge_key *k, TPMA_OBJECT attrs);
/* Re-marshals pub_blob and the Name after a change to @k->pub. */
int forge_key_update(struct forge_key *k);
void forge_key_free(struct forge_key *k);

/* A PCR selection and values to quote: sha256 PCRs 0-7, value[i][0] = i. */
struct forge_pcrs {
	TPML_PCR_SELECTION sel;
	struct katt_pcr_values values;
	uint8_t store[KATT_PCR_BANKS_MAX][KATT_PCR_COUNT][KATT_DIGEST_MAX];
};

void forge_pcrs_init(struct forge_pcrs *p);
/* Adds (or replaces) bank @alg with the PCRs @pcrs, each filled with @fill+i. */
void forge_pcrs_bank(struct forge_pcrs *p, uint16_t alg, uint32_t pcrs,
		     uint8_t fill);

/*
 * A TPMS_ATTEST of a quote of @p's selection and values (pcrDigest with
 * SHA-256) with @binder as extraData and the counters given.
 */
void forge_attest_quote(TPMS_ATTEST *a, const uint8_t binder[32],
			const struct forge_pcrs *p, uint32_t reset,
			uint32_t restart, uint64_t clock);

/* The quote to sign and send, built from its parts. */
struct forged {
	uint8_t attest[2048];
	size_t attest_len;
	uint8_t sig[1024];
	size_t sig_len;
	struct katt_tpm2_quote q;	/* points into this, the key, the PCRs */
	uint8_t value[16384];
	size_t value_len;
	struct katt_cmw cmw;		/* the CMW of an Evidence, to appraise */
};

/* Marshals @a (0 or -1). */
int forge_marshal(struct forged *f, const TPMS_ATTEST *a);
/* Signs f->attest with @k: ECDSA over @hash, as a marshalled TPMT_SIGNATURE. */
int forge_sign(struct forged *f, const struct forge_key *k, TPMI_ALG_HASH hash);
/*
 * The tpm2-quote value and its CMW: attest, signature, the PCR map of
 * @map, the AK public of @k.  0 or -1.
 */
int forge_value(struct forged *f, const struct forge_key *k,
		const struct katt_pcr_values *map);
/* All three for @a. */
int forge_all(struct forged *f, const TPMS_ATTEST *a,
	      const struct forge_key *k, const struct katt_pcr_values *map);

#endif /* KATT_FORGE_SELFTEST_LIB_H */
