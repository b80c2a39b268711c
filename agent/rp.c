// SPDX-License-Identifier: GPL-2.0
/*
 * rp.c: one relying-party exchange, as rp.h says.  Owns the exchange's
 * state; calls proto, binder, appraise, clockstore, getrandom(2), log.
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/crypto.h>

#include "log.h"
#include "rp.h"

static int fresh_nonce(uint8_t nonce[KATT_NONCE_LEN])
{
	size_t got = 0;

	while (got < KATT_NONCE_LEN) {
		ssize_t n = getrandom(nonce + got, KATT_NONCE_LEN - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EIO;
		got += n;
	}
	return 0;
}

long katt_rp_challenge(struct katt_rp_exchange *ex,
		       const struct katt_rp_policy *policy,
		       struct katt_clock_store *clocks, uint32_t rid,
		       uint8_t *out, size_t cap)
{
	struct katt_msg m = { .version = KATT_PROTO_VERSION,
			      .type = KATT_MSG_CHALLENGE };
	struct katt_challenge *c = &m.challenge;
	long len;

	if (ex->open)
		katt_rp_exchange_end(ex, clocks);
	memset(ex, 0, sizeof(*ex));
	c->rid = rid;
	if (fresh_nonce(c->nonce))
		return -EIO;
	c->ntypes = 1;
	c->types[0] = KATT_EV_TPM2_QUOTE;
	c->has_sel = policy->sel.nbanks > 0;
	c->sel = policy->sel;
	len = katt_msg_encode(&m, out, cap);
	if (len < 0)
		return len;
	ex->challenge = *c;
	/* the counters this Evidence is held to are those of now */
	ex->mark = katt_clock_mark(clocks);
	ex->open = true;
	return len;
}

long katt_rp_verdict(struct katt_rp_exchange *ex,
		     const struct katt_rp_policy *policy,
		     struct katt_clock_store *clocks,
		     const struct katt_binding *b, const struct katt_msg *ev,
		     struct katt_appraisal *res, uint8_t *out, size_t cap)
{
	struct katt_appraisal_ctx ctx = {
		.policy = policy,
		.challenge = &ex->challenge,
		.clocks = clocks,
		.mark = ex->mark,
	};
	struct katt_msg v = { .version = KATT_PROTO_VERSION,
			      .type = KATT_MSG_VERDICT };
	long len;

	if (!ex->open || ev->type != KATT_MSG_EVIDENCE ||
	    ev->evidence.rid != ex->challenge.rid ||
	    ev->version != KATT_PROTO_VERSION)
		return -EPROTO;
	if (katt_binder_rp(b, ex->challenge.nonce, ctx.binder)) {
		memset(res, 0, sizeof(*res));
		res->reason = KATT_REASON_VERIFIER_UNAVAILABLE;
		katt_text_set(&res->text, "verifier-unavailable: the binder could not be computed");
	} else {
		katt_appraise(&ctx, &ev->evidence.cmw, res);
	}
	OPENSSL_cleanse(ctx.binder, sizeof(ctx.binder));

	v.verdict.rid = ex->challenge.rid;
	v.verdict.result = res->reason ? KATT_RESULT_FAIL : KATT_RESULT_PASS;
	v.verdict.reason = res->reason;
	v.verdict.has_text = true;
	v.verdict.text = res->text;
	len = katt_msg_encode(&v, out, cap);
	katt_rp_exchange_end(ex, clocks);
	return len;
}

void katt_rp_exchange_end(struct katt_rp_exchange *ex,
			  struct katt_clock_store *clocks)
{
	if (ex->open)
		katt_clock_unmark(clocks, ex->mark);
	ex->open = false;
}
