// SPDX-License-Identifier: GPL-2.0
/*
 * session.c: the per-socket, per-round state machine of both roles
 * (session.h; Documentation/protocol.rst, "Exchanges").
 *
 * Each rule of "Agent rules" is marked where it is applied.  Once a local
 * verdict is queued (pass or fail) the session is decided: what still
 * arrives is logged and dropped, since the kernel's round is over.
 *
 * Owns: the sessions' outboxes.  Calls: proto, rp, binder, tpm_crypto
 * (hex), config (katt_pcr_sel_format), log; no I/O.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include <linux/ktls_attest.h>
#include <linux/ktls_attest_netlink.h>

#include "log.h"
#include "session.h"
#include "tpm_crypto.h"

/* What the sending of a message means to the session (action tag). */
enum send_tag {
	TAG_NONE,
	TAG_CHALLENGE,		/* the RP's exchange is open */
	TAG_EVIDENCE,		/* the attester's Evidence is out */
	TAG_PASS_VERDICT,	/* the RP's passing Verdict is out */
	TAG_FAILING,		/* an Error or failing Verdict: fail follows */
};

/* --- policy references -------------------------------------------------- */

struct katt_policy_ref *katt_policy_ref_new(struct katt_policy *p,
					    void (*free_fn)(struct katt_policy *))
{
	struct katt_policy_ref *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->p = p;
	r->refs = 1;
	r->free = free_fn;
	return r;
}

struct katt_policy_ref *katt_policy_ref_get(struct katt_policy_ref *r)
{
	r->refs++;
	return r;
}

void katt_policy_ref_put(struct katt_policy_ref *r)
{
	if (!r || --r->refs)
		return;
	if (r->free)
		r->free(r->p);
	free(r);
}

/* --- helpers ------------------------------------------------------------- */

/* snprintf() that may cut: texts for people are cut, never refused. */
static void textf(char *out, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void textf(char *out, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, len, fmt, ap);
	va_end(ap);
}

/* Whether every PCR of @sel is in @allow. */
static bool sel_within(const struct katt_pcr_sel *sel,
		       const struct katt_pcr_sel *allow)
{
	unsigned int b, a;

	for (b = 0; b < sel->nbanks; b++) {
		uint32_t ok = 0;

		for (a = 0; a < allow->nbanks; a++)
			if (allow->bank[a].alg == sel->bank[b].alg)
				ok |= allow->bank[a].pcrs;
		if (sel->bank[b].pcrs & ~ok)
			return false;
	}
	return true;
}

static const char *role_name(uint32_t role)
{
	switch (role & (KTLS_ATTEST_ROLE_ATTESTER |
			KTLS_ATTEST_ROLE_RELYING_PARTY)) {
	case KTLS_ATTEST_ROLE_ATTESTER:
		return "attester";
	case KTLS_ATTEST_ROLE_RELYING_PARTY:
		return "relying party";
	case KTLS_ATTEST_ROLE_ATTESTER | KTLS_ATTEST_ROLE_RELYING_PARTY:
		return "mutual";
	default:
		return "no role";
	}
}

/* --- the outbox ---------------------------------------------------------- */

static struct katt_action *push(struct katt_session *s,
				enum katt_action_kind kind)
{
	struct katt_action *a;

	if (s->count == KATT_OUTBOX_MAX)
		return NULL;
	a = &s->outbox[(s->head + s->count) % KATT_OUTBOX_MAX];
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	s->count++;
	return a;
}

static void action_free(struct katt_action *a)
{
	free(a->msg);
	a->msg = NULL;
	if (a->job)
		katt_quote_job_free(a->job);
	a->job = NULL;
}

static void pop(struct katt_session *s)
{
	if (!s->count)
		return;
	action_free(&s->outbox[s->head]);
	s->head = (s->head + 1) % KATT_OUTBOX_MAX;
	s->count--;
}

static void fail(struct katt_session *s, struct katt_sess_ctx *ctx,
		 const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Queues a copy of @msg (@len bytes) to send. */
static int queue_send(struct katt_session *s, const uint8_t *msg, size_t len,
		      enum katt_msg_type type, unsigned int tag)
{
	struct katt_action *a;
	uint8_t *copy = malloc(len);

	if (!copy)
		return -ENOMEM;
	a = push(s, KATT_ACT_SEND);
	if (!a) {
		free(copy);
		return -ENOSPC;
	}
	memcpy(copy, msg, len);
	a->msg = copy;
	a->len = len;
	a->msg_type = type;
	a->tag = tag;
	return 0;
}

/* Encodes and queues @m. */
static int queue_msg(struct katt_session *s, const struct katt_msg *m,
		     unsigned int tag)
{
	uint8_t *buf = malloc(KATT_MSG_MAX);
	long len;
	int ret;

	if (!buf)
		return -ENOMEM;
	len = katt_msg_encode(m, buf, KATT_MSG_MAX);
	ret = len < 0 ? (int)len : queue_send(s, buf, len, m->type, tag);
	free(buf);
	return ret;
}

static void queue_verdict(struct katt_session *s, bool pass,
			  const char *text)
{
	struct katt_action *a;
	struct katt_text t;

	s->decided = true;
	a = push(s, KATT_ACT_VERDICT);
	if (!a) {
		/* cannot happen: a round queues at most 7 actions */
		katt_err("cookie %#" PRIx64 " round %u: outbox full, verdict lost",
			 s->ri.cookie, s->ri.round);
		return;
	}
	a->pass = pass;
	katt_text_set(&t, "%s", text);
	memcpy(a->text, t.s, t.len + 1);
	snprintf(a->log, sizeof(a->log), "%s", text);
}

/*
 * Fails the round with @fmt as the reason text, after what is queued (the
 * Error or the failing Verdict that says why, if the caller queued one).
 */
static void fail(struct katt_session *s, struct katt_sess_ctx *ctx,
		 const char *fmt, ...)
{
	char text[KATT_LOG_TEXT_MAX];
	va_list ap;

	if (s->decided)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (s->rp.open)
		katt_rp_exchange_end(&s->rp, ctx->clocks);
	queue_verdict(s, false, text);
}

/*
 * Sends an Error with @code and @text in reply to a message of @type
 * (0: none) with round id @rid (0: none), then fails the round with
 * @text.
 */
static void error_and_fail(struct katt_session *s, struct katt_sess_ctx *ctx,
			   unsigned int code, uint64_t version, uint64_t type,
			   uint32_t rid, const char *text)
{
	struct katt_msg m = { .type = KATT_MSG_ERROR };
	struct katt_error *e = &m.error;
	int ret;

	if (s->decided)
		return;
	m.version = code == KATT_ERR_UNSUPPORTED_VERSION || !version ?
		    KATT_PROTO_VERSION : version;
	e->code = code;
	if (rid) {
		e->has_rid = true;
		e->rid = rid;
	}
	if (type) {
		e->has_in_reply_to = true;
		e->in_reply_to = type;
	}
	if (code == KATT_ERR_UNSUPPORTED_VERSION) {
		e->nversions = 1;
		e->versions[0] = KATT_PROTO_VERSION;
	}
	e->has_text = true;
	katt_text_set(&e->text, "%s", text);
	ret = queue_msg(s, &m, TAG_FAILING);
	if (ret)
		katt_err("cookie %#" PRIx64 " round %u: Error %u not sent: %s",
			 s->ri.cookie, s->ri.round, code, strerror(-ret));
	fail(s, ctx, "sent Error %u %s: %s", code, katt_error_name(code),
	     text);
}

/* The local pass, once every exchange of the round has passed. */
static void maybe_pass(struct katt_session *s)
{
	char text[KATT_LOG_TEXT_MAX];

	if (s->decided)
		return;
	if (s->rp_stage != KATT_RP_NONE && s->rp_stage != KATT_RP_PASSED)
		return;
	if (s->at_stage != KATT_AT_NONE && s->at_stage != KATT_AT_PASSED)
		return;
	if (s->rp_stage == KATT_RP_NONE && s->at_stage == KATT_AT_NONE)
		return;
	if (s->rp_stage == KATT_RP_PASSED && s->at_stage == KATT_AT_PASSED)
		textf(text, sizeof(text), "%s; peer's verdict: pass",
			 s->pass_text);
	else if (s->rp_stage == KATT_RP_PASSED)
		snprintf(text, sizeof(text), "%s", s->pass_text);
	else
		snprintf(text, sizeof(text), "peer's verdict: pass");
	queue_verdict(s, true, text);
}

/* --- round start ---------------------------------------------------------- */

int katt_session_start(struct katt_session *s, struct katt_sess_ctx *ctx,
		       const struct katt_round_info *ri,
		       struct katt_policy_ref *pol)
{
	const struct katt_policy *p = pol->p;
	uint8_t *buf;
	long len;
	int ret = 0;

	memset(s, 0, sizeof(*s));
	s->ri = *ri;
	s->pol = katt_policy_ref_get(pol);
	s->rp_stage = ri->role & KTLS_ATTEST_ROLE_RELYING_PARTY ?
		      KATT_RP_QUEUED : KATT_RP_NONE;
	s->at_stage = ri->role & KTLS_ATTEST_ROLE_ATTESTER ?
		      KATT_AT_WAIT : KATT_AT_NONE;
	katt_info("cookie %#" PRIx64 " round %u: %s, %s", ri->cookie,
		  ri->round, ri->state == KTLS_ATTEST_STATE_REATTESTING ?
		  "re-attestation" : "first round", role_name(ri->role));

	if (s->rp_stage == KATT_RP_NONE && s->at_stage == KATT_AT_NONE) {
		fail(s, ctx, "the socket has neither role");
		return 0;
	}

	/* rule 2: an attester-only end asks for a Challenge in later rounds */
	if (s->rp_stage == KATT_RP_NONE &&
	    ri->state == KTLS_ATTEST_STATE_REATTESTING) {
		struct katt_msg m = { .version = KATT_PROTO_VERSION,
				      .type = KATT_MSG_REQUEST };

		ret = queue_msg(s, &m, TAG_NONE);
		if (ret)
			fail(s, ctx, "internal: the Request could not be made: %s",
			     strerror(-ret));
		return ret == -ENOMEM ? ret : 0;
	}
	if (s->rp_stage == KATT_RP_NONE)
		return 0;

	/* rule 1: the RP sends one Challenge, round id = the kernel's round */
	if (!p->rp) {
		error_and_fail(s, ctx, KATT_ERR_INTERNAL, KATT_PROTO_VERSION, 0,
			       0, "this host has no relying-party policy");
		return 0;
	}
	buf = malloc(KATT_MSG_MAX);
	if (!buf) {
		fail(s, ctx, "internal: out of memory");
		return -ENOMEM;
	}
	len = katt_rp_challenge(&s->rp, &p->rp_policy, ctx->clocks, ri->round,
				buf, KATT_MSG_MAX);
	if (len < 0) {
		error_and_fail(s, ctx, KATT_ERR_INTERNAL, KATT_PROTO_VERSION, 0,
			       0, "the Challenge could not be made");
	} else {
		ret = queue_send(s, buf, len, KATT_MSG_CHALLENGE,
				 TAG_CHALLENGE);
		if (ret)
			fail(s, ctx, "internal: the Challenge could not be queued: %s",
			     strerror(-ret));
	}
	free(buf);
	return ret == -ENOMEM ? ret : 0;
}

/* --- messages received ----------------------------------------------------- */

/* Rule 3: a Challenge. */
static void on_challenge(struct katt_session *s, struct katt_sess_ctx *ctx,
			 const struct katt_msg *m)
{
	const struct katt_challenge *c = &m->challenge;
	const struct katt_policy *p = s->pol->p;
	struct katt_quote_job *job;
	struct katt_action *a;
	char want[160], allow[160], text[KATT_LOG_TEXT_MAX];

	if (s->at_stage == KATT_AT_NONE) {
		error_and_fail(s, ctx, KATT_ERR_CANNOT_ATTEST, m->version,
			       m->type, c->rid,
			       "this socket has no attester role");
		return;
	}
	if (s->at_stage != KATT_AT_WAIT && s->at_stage != KATT_AT_PASSED) {
		snprintf(text, sizeof(text),
			 "a Challenge (round id %u) while the exchange of round id %u is open",
			 c->rid, s->at_rid);
		error_and_fail(s, ctx, KATT_ERR_UNEXPECTED, m->version, m->type,
			       c->rid, text);
		return;
	}
	if (!p->attester) {
		error_and_fail(s, ctx, KATT_ERR_CANNOT_ATTEST, m->version,
			       m->type, c->rid,
			       "this host has no attester policy");
		return;
	}
	if (p->peers == KATT_PEERS_VERIFIED &&
	    !(s->ri.binding_flags & KTLS_ATTEST_BINDING_PEER_VERIFIED)) {
		error_and_fail(s, ctx, KATT_ERR_CANNOT_ATTEST, m->version,
			       m->type, c->rid,
			       "this host attests only to peers whose certificate it verified (no PEER_VERIFIED)");
		return;
	}
	if (c->has_sel && !sel_within(&c->sel, &p->allow_sel)) {
		katt_pcr_sel_format(&c->sel, want, sizeof(want));
		katt_pcr_sel_format(&p->allow_sel, allow, sizeof(allow));
		textf(text, sizeof(text), "PCRs %s asked, the policy allows only %s", want,
			 allow);
		error_and_fail(s, ctx, KATT_ERR_CANNOT_ATTEST, m->version,
			       m->type, c->rid, text);
		return;
	}
	if (!c->has_sel && !p->default_sel.nbanks) {
		error_and_fail(s, ctx, KATT_ERR_CANNOT_ATTEST, m->version,
			       m->type, c->rid,
			       "no PCR selection asked and none in the policy");
		return;
	}

	job = calloc(1, sizeof(*job));
	a = job ? push(s, KATT_ACT_QUOTE) : NULL;
	if (!a) {
		free(job);
		error_and_fail(s, ctx, KATT_ERR_INTERNAL, m->version, m->type,
			       c->rid, "internal: out of memory");
		return;
	}
	job->id = ++ctx->next_job;
	job->cookie = s->ri.cookie;
	job->round = s->ri.round;
	job->challenge = *m;
	if (!c->has_sel) {
		job->challenge.challenge.has_sel = true;
		job->challenge.challenge.sel = p->default_sel;
	}
	job->binding = s->ri.binding;
	a->job = job;
	s->job_id = job->id;
	s->at_rid = c->rid;
	s->at_stage = KATT_AT_QUOTING;
}

/* Rule 4: Evidence. */
static void on_evidence(struct katt_session *s, struct katt_sess_ctx *ctx,
			const struct katt_msg *m)
{
	const struct katt_policy *p = s->pol->p;
	struct katt_appraisal res;
	char text[KATT_LOG_TEXT_MAX], sel[160], name[2 * sizeof(TPMU_NAME) + 1];
	uint8_t *buf;
	long len;

	if (s->rp_stage != KATT_RP_OPEN || !p->rp) {
		error_and_fail(s, ctx, KATT_ERR_UNEXPECTED, m->version, m->type,
			       m->evidence.rid,
			       s->rp_stage == KATT_RP_NONE ?
			       "Evidence, but this socket has no relying-party role" :
			       "Evidence without an open Challenge");
		return;
	}
	if (m->evidence.rid != s->rp.challenge.rid) {
		snprintf(text, sizeof(text),
			 "Evidence for round id %u, the open Challenge is round id %u",
			 m->evidence.rid, s->rp.challenge.rid);
		error_and_fail(s, ctx, KATT_ERR_UNEXPECTED, m->version, m->type,
			       m->evidence.rid, text);
		return;
	}
	buf = malloc(KATT_MSG_MAX);
	if (!buf) {
		error_and_fail(s, ctx, KATT_ERR_INTERNAL, m->version, m->type,
			       m->evidence.rid, "internal: out of memory");
		return;
	}
	len = katt_rp_verdict(&s->rp, &p->rp_policy, ctx->clocks,
			      &s->ri.binding, m, &res, buf, KATT_MSG_MAX);
	if (len < 0) {
		free(buf);
		error_and_fail(s, ctx, len == -EPROTO ? KATT_ERR_UNEXPECTED :
			       KATT_ERR_INTERNAL, m->version, m->type,
			       m->evidence.rid,
			       len == -EPROTO ? "Evidence not of the open exchange" :
			       "internal: the Verdict could not be made");
		return;
	}
	if (!res.reason && p->valid_for) {
		/* rp.c leaves "valid for" out: the policy's, with a pass */
		struct katt_msg v;
		struct katt_decode_err err;

		if (!katt_msg_decode(buf, len, &v, &err)) {
			v.verdict.valid_for = p->valid_for;
			len = katt_msg_encode(&v, buf, KATT_MSG_MAX);
		} else {
			len = -EINVAL;
		}
		if (len < 0) {
			free(buf);
			error_and_fail(s, ctx, KATT_ERR_INTERNAL, m->version,
				       m->type, m->evidence.rid,
				       "internal: the Verdict could not be made");
			return;
		}
	}
	if (res.reason) {
		queue_send(s, buf, len, KATT_MSG_VERDICT, TAG_FAILING);
		free(buf);
		fail(s, ctx, "%s", res.text.s);
		return;
	}
	katt_hex(res.ak_name.name, res.ak_name.size, name);
	katt_pcr_sel_format(&res.quoted, sel, sizeof(sel));
	textf(s->pass_text, sizeof(s->pass_text), "AK %s, %s", name, sel);
	if (queue_send(s, buf, len, KATT_MSG_VERDICT, TAG_PASS_VERDICT))
		fail(s, ctx, "internal: the Verdict could not be queued");
	else
		s->rp_stage = KATT_RP_VERDICT;
	free(buf);
}

/* Rule 5: a Verdict. */
static void on_verdict(struct katt_session *s, struct katt_sess_ctx *ctx,
		       const struct katt_msg *m)
{
	const struct katt_verdict *v = &m->verdict;
	const char *name = katt_reason_name(v->reason);
	char text[KATT_LOG_TEXT_MAX];

	if (s->at_stage != KATT_AT_SENT) {
		error_and_fail(s, ctx, KATT_ERR_UNEXPECTED, m->version, m->type,
			       v->rid,
			       s->at_stage == KATT_AT_NONE ?
			       "a Verdict, but this socket has no attester role" :
			       "a Verdict, but no Evidence was sent");
		return;
	}
	if (v->rid != s->at_rid) {
		snprintf(text, sizeof(text),
			 "a Verdict for round id %u, the Evidence sent is round id %u",
			 v->rid, s->at_rid);
		error_and_fail(s, ctx, KATT_ERR_UNEXPECTED, m->version, m->type,
			       v->rid, text);
		return;
	}
	if (v->result == KATT_RESULT_PASS) {
		s->at_stage = KATT_AT_PASSED;
		maybe_pass(s);
		return;
	}
	/* the RP's text starts with the reason's name: do not say it twice */
	if (v->has_text && name && !strncmp(v->text.s, name, strlen(name)))
		fail(s, ctx, "peer's verdict: fail, reason %" PRIu64 " %s",
		     v->reason, v->text.s);
	else if (v->has_text)
		fail(s, ctx, "peer's verdict: fail, reason %" PRIu64 " %s: %s",
		     v->reason, name ? name : "?", v->text.s);
	else
		fail(s, ctx, "peer's verdict: fail, reason %" PRIu64 " %s",
		     v->reason, name ? name : "?");
}

void katt_session_recv(struct katt_session *s, struct katt_sess_ctx *ctx,
		       const uint8_t *buf, size_t len)
{
	struct katt_decode_err err;
	struct katt_msg *m;
	int ret;

	if (s->decided) {
		katt_info("cookie %#" PRIx64 " round %u: a message after the round's verdict, ignored",
			  s->ri.cookie, s->ri.round);
		return;
	}
	m = malloc(sizeof(*m));
	if (!m) {
		error_and_fail(s, ctx, KATT_ERR_INTERNAL, 0, 0, 0,
			       "internal: out of memory");
		return;
	}
	ret = katt_msg_decode(buf, len, m, &err);
	if (ret == -EBADMSG) {
		katt_info("cookie %#" PRIx64 " round %u: message of %zu bytes refused: %s",
			  s->ri.cookie, s->ri.round, len, err.why);
		if (err.has_type && err.type == KATT_MSG_ERROR)
			/* an Error is never answered (rule 7 all the same) */
			fail(s, ctx, "peer's Error is malformed: %s", err.why);
		else
			error_and_fail(s, ctx, err.code, err.version,
				       err.has_type ? err.type : 0,
				       err.has_rid ? err.rid : 0, err.why);
		goto out;
	}
	if (ret) {
		error_and_fail(s, ctx, KATT_ERR_INTERNAL, 0, 0, 0,
			       "internal: the message could not be decoded");
		goto out;
	}
	katt_debug("cookie %#" PRIx64 " round %u: %s received",
		   s->ri.cookie, s->ri.round, katt_msg_type_name(m->type));

	switch (m->type) {
	case KATT_MSG_CHALLENGE:
		on_challenge(s, ctx, m);
		break;
	case KATT_MSG_EVIDENCE:
		on_evidence(s, ctx, m);
		break;
	case KATT_MSG_VERDICT:
		on_verdict(s, ctx, m);
		break;
	case KATT_MSG_REQUEST:
		/* rule 6: the RP's kernel started this round; rule 1 applied */
		if (s->rp_stage == KATT_RP_NONE)
			error_and_fail(s, ctx, KATT_ERR_UNEXPECTED, m->version,
				       m->type, 0,
				       "a Request, but this socket has no relying-party role");
		break;
	case KATT_MSG_ERROR: {
		const struct katt_error *e = &m->error;
		const char *name = katt_error_name(e->code);

		/* rule 7 */
		fail(s, ctx, "peer's Error: code %" PRIu64 " %s%s%s",
		     e->code, name ? name : "?", e->has_text ? ": " : "",
		     e->has_text ? e->text.s : "");
		break;
	}
	}
out:
	free(m);
}

/* --- the TPM worker's answer ---------------------------------------------- */

void katt_session_quoted(struct katt_session *s, struct katt_sess_ctx *ctx,
			 uint64_t id, const uint8_t *msg, long len,
			 enum katt_msg_type type)
{
	if (s->decided || s->at_stage != KATT_AT_QUOTING || id != s->job_id) {
		katt_debug("cookie %#" PRIx64 " round %u: quote of job %" PRIu64 " no longer wanted",
			   s->ri.cookie, s->ri.round, id);
		return;
	}
	if (len < 0) {
		error_and_fail(s, ctx, KATT_ERR_INTERNAL, KATT_PROTO_VERSION,
			       KATT_MSG_CHALLENGE, s->at_rid,
			       "internal: no answer could be made");
		return;
	}
	if (type == KATT_MSG_EVIDENCE) {
		if (queue_send(s, msg, len, type, TAG_EVIDENCE)) {
			fail(s, ctx, "internal: the Evidence could not be queued");
			return;
		}
		s->at_stage = KATT_AT_QUEUED;
		return;
	}
	/* an Error (2 or 6) that the attester wrote: send it, then fail */
	{
		struct katt_decode_err err;
		struct katt_msg m;
		char text[KATT_LOG_TEXT_MAX] = "cannot attest";

		if (!katt_msg_decode(msg, len, &m, &err) &&
		    m.type == KATT_MSG_ERROR)
			snprintf(text, sizeof(text), "sent Error %" PRIu64 " %s: %s",
				 m.error.code, katt_error_name(m.error.code) ?: "?",
				 m.error.has_text ? m.error.text.s : "");
		if (queue_send(s, msg, len, KATT_MSG_ERROR, TAG_FAILING))
			katt_err("cookie %#" PRIx64 " round %u: the Error could not be queued",
				 s->ri.cookie, s->ri.round);
		fail(s, ctx, "%s", text);
	}
}

void katt_session_abort(struct katt_session *s, struct katt_sess_ctx *ctx,
			const char *text)
{
	error_and_fail(s, ctx, KATT_ERR_INTERNAL, KATT_PROTO_VERSION, 0, 0,
		       text);
}

/* --- carrying out ---------------------------------------------------------- */

struct katt_action *katt_session_action(struct katt_session *s)
{
	if (!s->count || s->blocked)
		return NULL;
	return &s->outbox[s->head];
}

void katt_session_done(struct katt_session *s, struct katt_sess_ctx *ctx,
		       int err)
{
	struct katt_action *a;
	unsigned int tag;
	enum katt_msg_type type;

	if (!s->count)
		return;
	a = &s->outbox[s->head];
	if (a->kind != KATT_ACT_SEND) {
		pop(s);
		return;
	}
	if (err == -ENOBUFS) {
		/* the kernel's queue for this socket is full: later */
		s->blocked = true;
		s->retries++;
		return;
	}
	tag = a->tag;
	type = a->msg_type;
	pop(s);
	if (err) {
		/* a message that did not go: the round cannot pass */
		if (tag == TAG_FAILING)
			return;		/* the failing verdict follows */
		while (s->count)
			pop(s);
		s->decided = false;
		if (s->rp.open)
			katt_rp_exchange_end(&s->rp, ctx->clocks);
		fail(s, ctx, "the %s could not be sent: %s",
		     katt_msg_type_name(type), strerror(-err));
		return;
	}
	switch (tag) {
	case TAG_CHALLENGE:
		if (s->rp_stage == KATT_RP_QUEUED)
			s->rp_stage = KATT_RP_OPEN;
		break;
	case TAG_EVIDENCE:
		if (s->at_stage == KATT_AT_QUEUED)
			s->at_stage = KATT_AT_SENT;
		break;
	case TAG_PASS_VERDICT:
		if (s->rp_stage == KATT_RP_VERDICT) {
			s->rp_stage = KATT_RP_PASSED;
			maybe_pass(s);
		}
		break;
	default:
		break;
	}
}

void katt_session_retry(struct katt_session *s)
{
	s->blocked = false;
}

bool katt_session_finished(const struct katt_session *s)
{
	return s->decided && !s->count;
}

void katt_session_end(struct katt_session *s, struct katt_sess_ctx *ctx)
{
	while (s->count)
		pop(s);
	if (s->rp.open)
		katt_rp_exchange_end(&s->rp, ctx->clocks);
	katt_binding_wipe(&s->ri.binding);
	katt_policy_ref_put(s->pol);
	s->pol = NULL;
}

void katt_quote_job_free(struct katt_quote_job *job)
{
	if (!job)
		return;
	katt_binding_wipe(&job->binding);
	OPENSSL_cleanse(job, sizeof(*job));
	free(job);
}
