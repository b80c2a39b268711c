/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tpm_crypto.h: TPM 2.0 structures seen through OpenSSL, for both roles:
 * the Name of a public area, its key as an EVP_PKEY (and the SHA-256 of
 * that key's SubjectPublicKeyInfo), a TPMT_SIGNATURE verified over a
 * message, and the digest of PCR values over a selection as TPM2_Quote
 * computes pcrDigest.  No TPM is involved: everything here runs on data.
 *
 * Owns: nothing.  Calls: tss2-mu (marshalling), OpenSSL (digests, keys,
 * signature verification).
 */
#ifndef KATT_AGENT_TPM_CRYPTO_H
#define KATT_AGENT_TPM_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <tss2/tss2_tpm2_types.h>

#include "proto.h"

/* The OpenSSL digest of a TPM hash algorithm, or NULL. */
const EVP_MD *katt_tpm_md(TPMI_ALG_HASH alg);

/* The Name of @pub: nameAlg || H_nameAlg(TPMT_PUBLIC).  0 or -EINVAL/-EIO. */
int katt_tpm_name(const TPMT_PUBLIC *pub, TPM2B_NAME *name);

/*
 * The public key of @pub (RSA or ECC on NIST P-256, P-384 or P-521) as an
 * EVP_PKEY, which the caller frees.  0, -EOPNOTSUPP (another type or
 * curve), -EINVAL or -EIO.
 */
int katt_tpm_pkey(const TPMT_PUBLIC *pub, EVP_PKEY **pkey);

/* SHA-256 of the DER SubjectPublicKeyInfo of @pkey.  0 or -EIO. */
int katt_pkey_spki_sha256(EVP_PKEY *pkey, uint8_t out[32]);

/*
 * Verifies @sig over @msg with the key of @pub.  The scheme must fit the
 * key (ECDSA for ECC keys, RSASSA or RSAPSS for RSA ones) and be the key's
 * own if the key has one; the hash must be SHA-256, SHA-384 or SHA-512.
 * Returns 0 if it verifies, -EBADMSG if it does not (with @why), -EIO.
 */
int katt_tpm_verify(const TPMT_PUBLIC *pub, const TPMT_SIGNATURE *sig,
		    const uint8_t *msg, size_t len, char *why, size_t whylen);

/* The hash algorithm of a signature, TPM2_ALG_NULL if it has none. */
TPMI_ALG_HASH katt_tpm_sig_hash(const TPMT_SIGNATURE *sig);

/*
 * The digest TPM2_Quote puts in pcrDigest: H_@alg of the values of the PCRs
 * of @sel, banks in @sel's order, PCR indexes ascending.  Returns its size,
 * -ENOENT if @values lacks a value of @sel (@missing_alg/@missing_pcr say
 * which, when not NULL), -EINVAL or -EIO.
 */
int katt_pcr_digest(TPMI_ALG_HASH alg, const TPML_PCR_SELECTION *sel,
		    const struct katt_pcr_values *values,
		    uint8_t out[KATT_DIGEST_MAX], uint16_t *missing_alg,
		    unsigned int *missing_pcr);

/* katt_pcr_sel (the protocol's) to and from TPML_PCR_SELECTION. */
void katt_pcr_sel_to_tpml(const struct katt_pcr_sel *sel,
			  TPML_PCR_SELECTION *tpml);
/* -EINVAL if @tpml selects a PCR above 23 or names a bank twice */
int katt_pcr_sel_from_tpml(const TPML_PCR_SELECTION *tpml,
			   struct katt_pcr_sel *sel);

/* Lower-case hex of @len bytes into @out (2 * @len + 1 bytes). */
void katt_hex(const uint8_t *p, size_t len, char *out);

#endif /* KATT_AGENT_TPM_CRYPTO_H */
