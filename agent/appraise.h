/* SPDX-License-Identifier: GPL-2.0 */
/*
 * appraise.h: the relying party's appraisal of tpm2-quote Evidence, in the
 * order of Documentation/protocol.rst, "tpm2-quote", each check with its
 * Verdict reason; the first check that fails decides.
 *
 *  0. the CMW: its type one the Challenge offered [5], its ind that of an
 *     Evidence kind [4], its value a tpm2-quote by the encoding rules and
 *     the field table [4];
 *  1. the AK trusted: its public area unmarshals (nothing left over), is
 *     pinned by the policy (by Name, or by the SHA-256 of its public key's
 *     SubjectPublicKeyInfo), and is a restricted signing key [3];
 *  2. the signature, a TPMT_SIGNATURE, verifies over attest with the AK,
 *     with OpenSSL [2];
 *  3. attest unmarshals as a TPMS_ATTEST with nothing left over, its magic
 *     is TPM_GENERATED_VALUE and its type TPM_ST_ATTEST_QUOTE [4];
 *  4. extraData is the binder the RP computes [1];
 *  5. pcrSelect names no bank twice and no PCR above 23, covers the
 *     Challenge's selection, and is exactly the PCRs map's PCRs [4]; their
 *     values hash (with the signature's hash) to pcrDigest [6];
 *  6. the values match the policy's reference values [7];
 *  7. clockInfo does not go back for this AK (clockstore.h) [9].
 *
 * A failure of the RP itself (OpenSSL, the counters' files) gives reason
 * 11.  The checks are exported one by one so that tests can reach each
 * with inputs that pass the ones before it.
 *
 * Owns: nothing.  Calls: proto, tpm_crypto, clockstore, tss2-mu, OpenSSL
 * (through tpm_crypto), log.
 */
#ifndef KATT_AGENT_APPRAISE_H
#define KATT_AGENT_APPRAISE_H

#include <tss2/tss2_tpm2_types.h>

#include "binder.h"
#include "clockstore.h"
#include "proto.h"

/* A trusted AK: its Name, or the SHA-256 of its key's SubjectPublicKeyInfo. */
struct katt_ak_pin {
	bool by_name;
	TPM2B_NAME name;
	uint8_t spki_sha256[32];
};

#define KATT_REF_VALUES_MAX	8

/* The values one PCR may have. */
struct katt_reference {
	uint16_t alg;
	unsigned int pcr;
	unsigned int nvalues;
	unsigned int size;
	uint8_t value[KATT_REF_VALUES_MAX][KATT_DIGEST_MAX];
};

/* What the RP asks for and accepts (the policy file comes later). */
struct katt_rp_policy {
	const struct katt_ak_pin *aks;
	size_t naks;
	/* asked for in every Challenge; nbanks 0: no selection sent */
	struct katt_pcr_sel sel;
	const struct katt_reference *refs;
	size_t nrefs;
};

/* The exchange being appraised. */
struct katt_appraisal_ctx {
	const struct katt_rp_policy *policy;
	const struct katt_challenge *challenge;	/* as sent */
	uint8_t binder[KATT_BINDER_LEN];	/* as the RP computes it */
	struct katt_clock_store *clocks;
	uint64_t mark;				/* taken when it was sent */
};

struct katt_appraisal {
	unsigned int reason;		/* enum katt_reason; 0: pass */
	unsigned int check;		/* the check that decided, 0 to 7 */
	struct katt_text text;		/* for people: what, which, why */
	/* what was learnt, as far as the checks went */
	bool have_ak;
	TPM2B_NAME ak_name;
	bool have_attest;
	struct katt_counters counters;
	struct katt_pcr_sel quoted;
};

/*
 * Appraises the CMW of an Evidence; always fills @res (reason 0: pass)
 * and, on a pass, records the quote's counters in ctx->clocks.
 */
void katt_appraise(const struct katt_appraisal_ctx *ctx,
		   const struct katt_cmw *cmw, struct katt_appraisal *res);

/*
 * The checks one by one: each returns 0 or the reason, with @why set on a
 * failure.
 */
unsigned int katt_check_cmw(const struct katt_cmw *cmw,
			    const struct katt_challenge *ch,
			    struct katt_tpm2_quote *q, struct katt_text *why);
unsigned int katt_check_ak(const struct katt_tpm2_quote *q,
			   const struct katt_rp_policy *p, TPM2B_PUBLIC *pub,
			   TPM2B_NAME *name, struct katt_text *why);
unsigned int katt_check_signature(const TPM2B_PUBLIC *pub,
				  const struct katt_tpm2_quote *q,
				  TPMI_ALG_HASH *sig_hash,
				  struct katt_text *why);
unsigned int katt_check_attest(const struct katt_tpm2_quote *q,
			       TPMS_ATTEST *attest, struct katt_text *why);
unsigned int katt_check_binder(const TPMS_ATTEST *attest,
			       const uint8_t binder[KATT_BINDER_LEN],
			       struct katt_text *why);
unsigned int katt_check_pcrs(const TPMS_ATTEST *attest,
			     const struct katt_challenge *ch,
			     const struct katt_pcr_values *map,
			     TPMI_ALG_HASH sig_hash, struct katt_text *why);
unsigned int katt_check_reference(const struct katt_pcr_values *map,
				  const struct katt_rp_policy *p,
				  struct katt_text *why);
unsigned int katt_check_counters(struct katt_clock_store *clocks,
				 const TPM2B_NAME *ak, uint64_t mark,
				 const TPMS_CLOCK_INFO *ci,
				 struct katt_text *why);

#endif /* KATT_AGENT_APPRAISE_H */
