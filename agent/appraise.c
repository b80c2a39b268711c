// SPDX-License-Identifier: GPL-2.0
/*
 * appraise.c: the checks of appraise.h, after tpm2-tools' tpm2_checkquote
 * (tools/misc/tpm2_checkquote.c) and beyond it: the quote's own pcrSelect
 * is held to what was asked and to the PCRs sent, the AK to the policy and
 * its attributes, the counters to what was accepted before.
 *
 * Owns: nothing.  Calls: proto, tpm_crypto, clockstore, tss2-mu, log.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <tss2/tss2_mu.h>

#include "appraise.h"
#include "log.h"
#include "tpm_crypto.h"

/* the attributes of protocol.rst's check 1 */
#define AK_MUST		(TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT | \
			 TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT)
/* bytes of a Name or a digest shown in a reason text */
#define SHOWN		8

/* "sha256", or the number of an algorithm without a name here. */
static const char *alg_name(uint16_t alg, char buf[8])
{
	const char *n = katt_hash_alg_name(alg);

	if (n)
		return n;
	snprintf(buf, 8, "%#06x", alg);
	return buf;
}

static void shown_hex(const uint8_t *p, size_t len, char out[2 * SHOWN + 1])
{
	katt_hex(p, len < SHOWN ? len : SHOWN, out);
}

/* --- 0: the CMW ------------------------------------------------------------ */

unsigned int katt_check_cmw(const struct katt_cmw *cmw,
			    const struct katt_challenge *ch,
			    struct katt_tpm2_quote *q, struct katt_text *why)
{
	char reason[160];
	unsigned int i, offered = 0;

	for (i = 0; i < ch->ntypes; i++) {
		const char *media = katt_evidence_media_type(ch->types[i]);

		if (media && strlen(media) == cmw->type_len &&
		    !memcmp(media, cmw->type, cmw->type_len)) {
			offered = ch->types[i];
			break;
		}
	}
	if (!offered) {
		katt_text_set(why, "type-not-offered: CMW type \"%.*s\" is not one the Challenge offered",
			      (int)(cmw->type_len > 60 ? 60 : cmw->type_len),
			      cmw->type);
		return KATT_REASON_TYPE_NOT_OFFERED;
	}
	if (offered != KATT_EV_TPM2_QUOTE) {
		katt_text_set(why, "verifier-unavailable: this RP appraises tpm2-quote only, not type %u",
			      offered);
		return KATT_REASON_VERIFIER_UNAVAILABLE;
	}
	if (cmw->has_ind && cmw->ind != KATT_CMW_IND_EVIDENCE) {
		katt_text_set(why, "malformed-evidence: CMW ind %llu, not %d (Evidence)",
			      (unsigned long long)cmw->ind, KATT_CMW_IND_EVIDENCE);
		return KATT_REASON_MALFORMED_EVIDENCE;
	}
	if (katt_tpm2_quote_decode(cmw->value, cmw->value_len, q, reason,
				   sizeof(reason))) {
		katt_text_set(why, "malformed-evidence: tpm2-quote: %s", reason);
		return KATT_REASON_MALFORMED_EVIDENCE;
	}
	return 0;
}

/* --- 1: the AK ------------------------------------------------------------- */

static bool pinned(const struct katt_rp_policy *p, const TPM2B_PUBLIC *pub,
		   const TPM2B_NAME *name, int *err)
{
	uint8_t spki[32];
	bool have_spki = false;
	EVP_PKEY *pkey;
	size_t i;

	*err = 0;
	for (i = 0; i < p->naks; i++) {
		const struct katt_ak_pin *pin = &p->aks[i];

		if (pin->by_name) {
			if (pin->name.size == name->size &&
			    !memcmp(pin->name.name, name->name, name->size))
				return true;
			continue;
		}
		if (!have_spki) {
			*err = katt_tpm_pkey(&pub->publicArea, &pkey);
			if (*err)
				return false;
			*err = katt_pkey_spki_sha256(pkey, spki);
			EVP_PKEY_free(pkey);
			if (*err)
				return false;
			have_spki = true;
		}
		if (!memcmp(pin->spki_sha256, spki, sizeof(spki)))
			return true;
	}
	return false;
}

unsigned int katt_check_ak(const struct katt_tpm2_quote *q,
			   const struct katt_rp_policy *p, TPM2B_PUBLIC *pub,
			   TPM2B_NAME *name, struct katt_text *why)
{
	TPMA_OBJECT attrs;
	char hex[2 * SHOWN + 1];
	size_t off = 0;
	int err;

	if (!q->ak_pub.len) {
		katt_text_set(why, "untrusted-key: no AK public (key 5); this RP trusts no AK certificate issuer");
		return KATT_REASON_UNTRUSTED_KEY;
	}
	/* tss2-mu refuses to unmarshal a TPM2B_PUBLIC into a non-zero size */
	memset(pub, 0, sizeof(*pub));
	if (Tss2_MU_TPM2B_PUBLIC_Unmarshal(q->ak_pub.p, q->ak_pub.len, &off, pub) ||
	    off != q->ak_pub.len) {
		katt_text_set(why, "untrusted-key: the AK public does not unmarshal as a TPM2B_PUBLIC");
		return KATT_REASON_UNTRUSTED_KEY;
	}
	if (pub->publicArea.nameAlg != TPM2_ALG_SHA256 &&
	    pub->publicArea.nameAlg != TPM2_ALG_SHA384 &&
	    pub->publicArea.nameAlg != TPM2_ALG_SHA512) {
		katt_text_set(why, "untrusted-key: AK nameAlg %#06x is not SHA-256, SHA-384 or SHA-512",
			      pub->publicArea.nameAlg);
		return KATT_REASON_UNTRUSTED_KEY;
	}
	if (katt_tpm_name(&pub->publicArea, name)) {
		katt_text_set(why, "verifier-unavailable: the AK's Name could not be computed");
		return KATT_REASON_VERIFIER_UNAVAILABLE;
	}
	shown_hex(name->name, name->size, hex);
	if (!pinned(p, pub, name, &err)) {
		if (err == -EIO) {
			katt_text_set(why, "verifier-unavailable: the AK's key could not be read");
			return KATT_REASON_VERIFIER_UNAVAILABLE;
		}
		katt_text_set(why, "untrusted-key: AK %s... is not pinned by the policy%s",
			      hex, err ? " (its key is unusable)" : "");
		return KATT_REASON_UNTRUSTED_KEY;
	}
	attrs = pub->publicArea.objectAttributes;
	if ((pub->publicArea.type != TPM2_ALG_ECC &&
	     pub->publicArea.type != TPM2_ALG_RSA) ||
	    (attrs & AK_MUST) != AK_MUST || (attrs & TPMA_OBJECT_DECRYPT)) {
		katt_text_set(why, "untrusted-key: AK %s... is not a restricted signing key (type %#06x, attributes %#010x)",
			      hex, pub->publicArea.type, attrs);
		return KATT_REASON_UNTRUSTED_KEY;
	}
	return 0;
}

/* --- 2: the signature ------------------------------------------------------ */

unsigned int katt_check_signature(const TPM2B_PUBLIC *pub,
				  const struct katt_tpm2_quote *q,
				  TPMI_ALG_HASH *sig_hash,
				  struct katt_text *why)
{
	TPMT_SIGNATURE sig;
	char reason[160];
	size_t off = 0;
	int ret;

	if (Tss2_MU_TPMT_SIGNATURE_Unmarshal(q->sig.p, q->sig.len, &off, &sig) ||
	    off != q->sig.len) {
		katt_text_set(why, "bad-signature: the signature does not unmarshal as a TPMT_SIGNATURE");
		return KATT_REASON_BAD_SIGNATURE;
	}
	ret = katt_tpm_verify(&pub->publicArea, &sig, q->attest.p, q->attest.len,
			      reason, sizeof(reason));
	if (ret == -EBADMSG) {
		katt_text_set(why, "bad-signature: %s", reason);
		return KATT_REASON_BAD_SIGNATURE;
	}
	if (ret) {
		katt_text_set(why, "verifier-unavailable: the signature could not be checked (%s)",
			      strerror(-ret));
		return KATT_REASON_VERIFIER_UNAVAILABLE;
	}
	*sig_hash = katt_tpm_sig_hash(&sig);
	return 0;
}

/* --- 3: TPMS_ATTEST -------------------------------------------------------- */

unsigned int katt_check_attest(const struct katt_tpm2_quote *q,
			       TPMS_ATTEST *attest, struct katt_text *why)
{
	size_t off = 0;

	if (Tss2_MU_TPMS_ATTEST_Unmarshal(q->attest.p, q->attest.len, &off,
					  attest)) {
		katt_text_set(why, "malformed-evidence: attest does not unmarshal as a TPMS_ATTEST");
		return KATT_REASON_MALFORMED_EVIDENCE;
	}
	if (off != q->attest.len) {
		katt_text_set(why, "malformed-evidence: %zu bytes after the TPMS_ATTEST",
			      q->attest.len - off);
		return KATT_REASON_MALFORMED_EVIDENCE;
	}
	if (attest->magic != TPM2_GENERATED_VALUE) {
		katt_text_set(why, "malformed-evidence: TPMS_ATTEST magic %#010x, not TPM_GENERATED_VALUE",
			      attest->magic);
		return KATT_REASON_MALFORMED_EVIDENCE;
	}
	if (attest->type != TPM2_ST_ATTEST_QUOTE) {
		katt_text_set(why, "malformed-evidence: TPMS_ATTEST type %#06x, not TPM_ST_ATTEST_QUOTE",
			      attest->type);
		return KATT_REASON_MALFORMED_EVIDENCE;
	}
	return 0;
}

/* --- 4: the binder --------------------------------------------------------- */

unsigned int katt_check_binder(const TPMS_ATTEST *attest,
			       const uint8_t binder[KATT_BINDER_LEN],
			       struct katt_text *why)
{
	if (attest->extraData.size != KATT_BINDER_LEN ||
	    memcmp(attest->extraData.buffer, binder, KATT_BINDER_LEN)) {
		katt_text_set(why, "binder-mismatch: extraData is not this exchange's binder (connection, nonce, role or key)");
		return KATT_REASON_BINDER_MISMATCH;
	}
	return 0;
}

/* --- 5: the PCR selection and digest --------------------------------------- */

/* The lowest PCR of @pcrs. */
static unsigned int first_pcr(uint32_t pcrs)
{
	return __builtin_ctz(pcrs);
}

static const struct katt_pcr_sel *quote_banks(const TPML_PCR_SELECTION *sel,
					      struct katt_pcr_sel *out,
					      struct katt_text *why,
					      unsigned int *reason)
{
	char b[8];
	unsigned int i, k, p;

	/* at most 4 banks with PCRs fit in a PCRs map; empty ones do not count */
	memset(out, 0, sizeof(*out));
	for (i = 0; i < sel->count; i++) {
		const TPMS_PCR_SELECTION *s = &sel->pcrSelections[i];
		uint32_t pcrs = 0;

		for (p = 0; p < s->sizeofSelect * 8u; p++) {
			if (!(s->pcrSelect[p / 8] & (1u << (p % 8))))
				continue;
			if (p >= KATT_PCR_COUNT) {
				katt_text_set(why, "malformed-evidence: the quote selects PCR %u of %s",
					      p, alg_name(s->hash, b));
				*reason = KATT_REASON_MALFORMED_EVIDENCE;
				return NULL;
			}
			pcrs |= 1u << p;
		}
		for (k = 0; k < i; k++) {
			if (sel->pcrSelections[k].hash == s->hash) {
				katt_text_set(why, "malformed-evidence: the quote selects bank %s twice",
					      alg_name(s->hash, b));
				*reason = KATT_REASON_MALFORMED_EVIDENCE;
				return NULL;
			}
		}
		if (!pcrs)
			continue;
		if (out->nbanks == KATT_PCR_BANKS_MAX) {
			katt_text_set(why, "malformed-evidence: the quote selects more than %d banks",
				      KATT_PCR_BANKS_MAX);
			*reason = KATT_REASON_MALFORMED_EVIDENCE;
			return NULL;
		}
		out->bank[out->nbanks].alg = s->hash;
		out->bank[out->nbanks].pcrs = pcrs;
		out->nbanks++;
	}
	return out;
}

static uint32_t pcrs_of(const struct katt_pcr_sel *sel, uint16_t alg)
{
	unsigned int i;

	for (i = 0; i < sel->nbanks; i++)
		if (sel->bank[i].alg == alg)
			return sel->bank[i].pcrs;
	return 0;
}

static uint32_t map_pcrs(const struct katt_pcr_values *map, uint16_t alg)
{
	unsigned int i;

	for (i = 0; i < map->nbanks; i++)
		if (map->bank[i].alg == alg)
			return map->bank[i].pcrs;
	return 0;
}

unsigned int katt_check_pcrs(const TPMS_ATTEST *attest,
			     const struct katt_challenge *ch,
			     const struct katt_pcr_values *map,
			     TPMI_ALG_HASH sig_hash, struct katt_text *why)
{
	const TPMS_QUOTE_INFO *qi = &attest->attested.quote;
	uint8_t digest[KATT_DIGEST_MAX];
	struct katt_pcr_sel quoted;
	unsigned int i, reason = 0;
	uint32_t miss;
	char b[8];
	int n;

	if (!quote_banks(&qi->pcrSelect, &quoted, why, &reason))
		return reason;
	/* what was asked for is quoted */
	for (i = 0; ch->has_sel && i < ch->sel.nbanks; i++) {
		miss = ch->sel.bank[i].pcrs & ~pcrs_of(&quoted, ch->sel.bank[i].alg);
		if (miss) {
			katt_text_set(why, "malformed-evidence: the quote does not cover PCR %s:%u, asked for",
				      alg_name(ch->sel.bank[i].alg, b),
				      first_pcr(miss));
			return KATT_REASON_MALFORMED_EVIDENCE;
		}
	}
	/* the PCRs map holds exactly what was quoted */
	for (i = 0; i < quoted.nbanks; i++) {
		miss = quoted.bank[i].pcrs & ~map_pcrs(map, quoted.bank[i].alg);
		if (miss) {
			katt_text_set(why, "malformed-evidence: quoted PCR %s:%u is not in the PCRs map",
				      alg_name(quoted.bank[i].alg, b),
				      first_pcr(miss));
			return KATT_REASON_MALFORMED_EVIDENCE;
		}
	}
	for (i = 0; i < map->nbanks; i++) {
		miss = map->bank[i].pcrs & ~pcrs_of(&quoted, map->bank[i].alg);
		if (miss) {
			katt_text_set(why, "malformed-evidence: PCR %s:%u of the PCRs map was not quoted",
				      alg_name(map->bank[i].alg, b),
				      first_pcr(miss));
			return KATT_REASON_MALFORMED_EVIDENCE;
		}
	}
	/* and their values hash to pcrDigest */
	n = katt_pcr_digest(sig_hash, &qi->pcrSelect, map, digest, NULL, NULL);
	if (n < 0) {
		katt_text_set(why, "verifier-unavailable: the PCR digest could not be computed");
		return KATT_REASON_VERIFIER_UNAVAILABLE;
	}
	if (n != qi->pcrDigest.size || memcmp(digest, qi->pcrDigest.buffer, n)) {
		katt_text_set(why, "pcr-digest-mismatch: the PCR values sent do not hash to the quote's pcrDigest");
		return KATT_REASON_PCR_DIGEST_MISMATCH;
	}
	return 0;
}

/* --- 6: reference values --------------------------------------------------- */

unsigned int katt_check_reference(const struct katt_pcr_values *map,
				  const struct katt_rp_policy *p,
				  struct katt_text *why)
{
	char b[8], got[2 * SHOWN + 1], want[2 * SHOWN + 1];
	size_t i, k, v;

	for (i = 0; i < p->nrefs; i++) {
		const struct katt_reference *r = &p->refs[i];
		const uint8_t *value = NULL;
		unsigned int size = 0;

		for (k = 0; k < map->nbanks; k++) {
			if (map->bank[k].alg == r->alg && r->pcr < KATT_PCR_COUNT &&
			    (map->bank[k].pcrs & (1u << r->pcr))) {
				value = map->bank[k].value[r->pcr];
				size = map->bank[k].size;
			}
		}
		if (!value) {
			katt_text_set(why, "reference-mismatch: PCR %s:%u, which the policy names, was not quoted",
				      alg_name(r->alg, b), r->pcr);
			return KATT_REASON_REFERENCE_MISMATCH;
		}
		for (v = 0; v < r->nvalues; v++)
			if (size == r->size && !memcmp(value, r->value[v], size))
				break;
		if (v == r->nvalues) {
			shown_hex(value, size, got);
			shown_hex(r->value[0], r->size, want);
			if (r->nvalues > 1)
				katt_text_set(why, "reference-mismatch: PCR %s:%u is %s..., policy expects %s... or %u other values",
					      alg_name(r->alg, b), r->pcr, got,
					      want, r->nvalues - 1);
			else
				katt_text_set(why, "reference-mismatch: PCR %s:%u is %s..., policy expects %s...",
					      alg_name(r->alg, b), r->pcr, got,
					      want);
			return KATT_REASON_REFERENCE_MISMATCH;
		}
	}
	return 0;
}

/* --- 7: the counters ------------------------------------------------------- */

unsigned int katt_check_counters(struct katt_clock_store *clocks,
				 const TPM2B_NAME *ak, uint64_t mark,
				 const TPMS_CLOCK_INFO *ci,
				 struct katt_text *why)
{
	struct katt_counters q = {
		.reset = ci->resetCount,
		.restart = ci->restartCount,
		.clock = ci->clock,
	}, floor;
	int ret;

	ret = katt_clock_floor(clocks, ak, mark, &floor);
	if (ret == -ENOENT)
		return 0;
	if (ret) {
		katt_text_set(why, "verifier-unavailable: the RP cannot read its record of this AK's counters");
		return KATT_REASON_VERIFIER_UNAVAILABLE;
	}
	if (katt_counters_cmp(&q, &floor) >= 0)
		return 0;
	if (q.reset < floor.reset)
		katt_text_set(why, "counter-regression: resetCount %u is below %u, accepted before",
			      q.reset, floor.reset);
	else if (q.restart < floor.restart)
		katt_text_set(why, "counter-regression: restartCount %u is below %u, accepted before (resetCount %u)",
			      q.restart, floor.restart, q.reset);
	else
		katt_text_set(why, "counter-regression: clock %llu is below %llu, accepted before (resetCount %u, restartCount %u)",
			      (unsigned long long)q.clock,
			      (unsigned long long)floor.clock, q.reset,
			      q.restart);
	return KATT_REASON_COUNTER_REGRESSION;
}

/* --- all of them ------------------------------------------------------------ */

#define DECIDE(n, expr)							\
	do {								\
		res->check = (n);					\
		res->reason = (expr);					\
		if (res->reason)					\
			return;						\
	} while (0)

static void appraise(const struct katt_appraisal_ctx *ctx,
		     const struct katt_cmw *cmw, struct katt_appraisal *res)
{
	struct katt_tpm2_quote q;
	TPMI_ALG_HASH sig_hash = TPM2_ALG_NULL;
	TPMS_ATTEST attest;
	TPM2B_PUBLIC pub;
	char hex[2 * SHOWN + 1];
	int ret;

	DECIDE(0, katt_check_cmw(cmw, ctx->challenge, &q, &res->text));
	DECIDE(1, katt_check_ak(&q, ctx->policy, &pub, &res->ak_name,
				&res->text));
	res->have_ak = true;
	DECIDE(2, katt_check_signature(&pub, &q, &sig_hash, &res->text));
	DECIDE(3, katt_check_attest(&q, &attest, &res->text));
	res->have_attest = true;
	res->counters.reset = attest.clockInfo.resetCount;
	res->counters.restart = attest.clockInfo.restartCount;
	res->counters.clock = attest.clockInfo.clock;
	DECIDE(4, katt_check_binder(&attest, ctx->binder, &res->text));
	DECIDE(5, katt_check_pcrs(&attest, ctx->challenge, &q.pcrs, sig_hash,
				  &res->text));
	katt_pcr_sel_from_tpml(&attest.attested.quote.pcrSelect, &res->quoted);
	DECIDE(6, katt_check_reference(&q.pcrs, ctx->policy, &res->text));
	DECIDE(7, katt_check_counters(ctx->clocks, &res->ak_name, ctx->mark,
				      &attest.clockInfo, &res->text));

	/* a pass: the AK's highest counters move up to this quote's */
	ret = katt_clock_accept(ctx->clocks, &res->ak_name, &res->counters);
	if (ret) {
		res->reason = KATT_REASON_VERIFIER_UNAVAILABLE;
		katt_text_set(&res->text, "verifier-unavailable: the RP could not record the AK's counters");
		return;
	}
	shown_hex(res->ak_name.name, res->ak_name.size, hex);
	katt_text_set(&res->text, "pass: AK %s..., resetCount %u, restartCount %u, clock %llu",
		      hex, res->counters.reset, res->counters.restart,
		      (unsigned long long)res->counters.clock);
}

void katt_appraise(const struct katt_appraisal_ctx *ctx,
		   const struct katt_cmw *cmw, struct katt_appraisal *res)
{
	memset(res, 0, sizeof(*res));
	appraise(ctx, cmw, res);
	if (res->reason)
		katt_info("RP: round id %u: check %u failed: %s",
			  ctx->challenge->rid, res->check, res->text.s);
	else
		katt_info("RP: round id %u: %s", ctx->challenge->rid,
			  res->text.s);
}
