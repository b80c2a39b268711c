/* SPDX-License-Identifier: GPL-2.0 */
/*
 * session.h: one armed socket's current round, as its agent sees it: the
 * agent rules and the local-verdict rules of Documentation/protocol.rst,
 * "Exchanges", for the attester role, the relying-party role and both
 * (mutual attestation, one exchange per direction).
 *
 * Pure: a session does no I/O.  It is fed what the kernel said (the
 * round-start, each msg-recv, the results of the actions it asked for, a
 * quote made by the TPM worker) and answers with actions, in order, in its
 * outbox: send this message (msg-send), quote this Challenge (a job for the
 * TPM worker), give this verdict (sock-verdict).  The loop carries out the
 * head action and reports its result with katt_session_done(); the next
 * action waits for that, so that a local pass never precedes the Verdict
 * on the wire and a failing verdict follows the Error or Verdict that
 * says why.  A msg-send refused with ENOBUFS (the kernel's 64 KiB of
 * unsent messages per socket) leaves the action at the head, to be retried
 * (katt_session_retry()): no message, and so no Verdict, is lost.
 *
 * A round's session uses the policy it started with until it ends, even if
 * the daemon loaded another meanwhile (struct katt_policy_ref).
 *
 * Owns: the session's outbox (the messages it encoded), its binding copy
 * (wiped on the end), the RP exchange of the round.  Calls: proto, rp
 * (appraise, clockstore), binder, log.
 */
#ifndef KATT_AGENT_SESSION_H
#define KATT_AGENT_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "binder.h"
#include "config.h"
#include "proto.h"
#include "rp.h"

/* A loaded policy, shared by the rounds that started under it. */
struct katt_policy_ref {
	struct katt_policy *p;
	unsigned int refs;
	void (*free)(struct katt_policy *p);	/* at the last put */
};

struct katt_policy_ref *katt_policy_ref_new(struct katt_policy *p,
					    void (*free)(struct katt_policy *));
struct katt_policy_ref *katt_policy_ref_get(struct katt_policy_ref *r);
void katt_policy_ref_put(struct katt_policy_ref *r);

/* What the daemon shares between sessions. */
struct katt_sess_ctx {
	struct katt_clock_store *clocks;	/* the RP's counters per AK */
	uint64_t next_job;			/* quote job ids */
};

/* What round-start says about the socket and its round. */
struct katt_round_info {
	uint64_t cookie;
	uint32_t round;			/* the kernel's round number */
	uint32_t role;			/* KTLS_ATTEST_ROLE_* flags */
	uint32_t state;			/* KTLS_ATTEST_STATE_PENDING or _REATTESTING */
	uint32_t binding_flags;		/* KTLS_ATTEST_BINDING_* */
	struct katt_binding binding;
};

/* A Challenge for the TPM worker to answer (attester.h). */
struct katt_quote_job {
	uint64_t id;
	uint64_t cookie;
	uint32_t round;
	struct katt_msg challenge;	/* its selection filled in */
	struct katt_binding binding;	/* a copy, wiped with the job */
};

enum katt_action_kind {
	KATT_ACT_SEND = 1,	/* msg-send @msg */
	KATT_ACT_QUOTE,		/* hand @job to the TPM worker */
	KATT_ACT_VERDICT,	/* sock-verdict @pass with @text */
};

#define KATT_LOG_TEXT_MAX	256

struct katt_action {
	enum katt_action_kind kind;
	/* SEND */
	enum katt_msg_type msg_type;
	uint8_t *msg;
	size_t len;
	unsigned int tag;		/* what its sending means (session.c) */
	/* QUOTE: the loop takes it (sets it NULL) */
	struct katt_quote_job *job;
	/* VERDICT */
	bool pass;
	char text[KATT_TEXT_MAX + 1];	/* the kernel's reason-text */
	char log[KATT_LOG_TEXT_MAX];	/* the notice line's reason */
};

#define KATT_OUTBOX_MAX		8

enum katt_rp_stage {
	KATT_RP_NONE,		/* no RP role in this round */
	KATT_RP_QUEUED,		/* Challenge in the outbox */
	KATT_RP_OPEN,		/* Challenge sent, Evidence awaited */
	KATT_RP_VERDICT,	/* passing Verdict in the outbox */
	KATT_RP_PASSED,		/* passing Verdict sent */
};

enum katt_at_stage {
	KATT_AT_NONE,		/* no attester role in this round */
	KATT_AT_WAIT,		/* Challenge awaited */
	KATT_AT_QUOTING,	/* job with the TPM worker */
	KATT_AT_QUEUED,		/* Evidence in the outbox */
	KATT_AT_SENT,		/* Evidence sent, Verdict awaited */
	KATT_AT_PASSED,		/* passing Verdict received */
};

struct katt_session {
	struct katt_round_info ri;
	struct katt_policy_ref *pol;
	/* the relying party's exchange */
	enum katt_rp_stage rp_stage;
	struct katt_rp_exchange rp;
	char pass_text[KATT_LOG_TEXT_MAX];	/* AK and PCRs appraised */
	/* the attester's exchange */
	enum katt_at_stage at_stage;
	uint32_t at_rid;
	uint64_t job_id;
	/* a local verdict is in the outbox: nothing else happens */
	bool decided;
	/* the head action waits for katt_session_retry() (ENOBUFS) */
	bool blocked;
	unsigned int retries;
	unsigned int head, count;
	struct katt_action outbox[KATT_OUTBOX_MAX];
	/* the loop's */
	uint64_t expires_ms;
	struct katt_session *next;
};

/*
 * Starts the session of a round (rules 1 and 2): the Challenge of the RP
 * role, the Request of an attester-only end in a REATTESTING round.
 * Takes a reference on @pol.  Returns 0 or -ENOMEM.
 */
int katt_session_start(struct katt_session *s, struct katt_sess_ctx *ctx,
		       const struct katt_round_info *ri,
		       struct katt_policy_ref *pol);

/* A message of the peer (msg-recv of this round): rules 3 to 7. */
void katt_session_recv(struct katt_session *s, struct katt_sess_ctx *ctx,
		       const uint8_t *buf, size_t len);

/*
 * The TPM worker's answer to job @id: the Evidence or Error @msg of @len
 * bytes (@type says which), or @len < 0 if it could write neither.
 */
void katt_session_quoted(struct katt_session *s, struct katt_sess_ctx *ctx,
			 uint64_t id, const uint8_t *msg, long len,
			 enum katt_msg_type type);

/*
 * Fails the round for a local reason @text (an event of the kernel that
 * cannot be used, the daemon's own failure): an Error 6 to the peer, then
 * the failing verdict.
 */
void katt_session_abort(struct katt_session *s, struct katt_sess_ctx *ctx,
			const char *text);

/* The action to carry out now, or NULL (none, or blocked). */
struct katt_action *katt_session_action(struct katt_session *s);

/*
 * The head action was carried out with result @err (0 or a negative errno
 * of msg-send or sock-verdict).  -ENOBUFS of a msg-send keeps it at the
 * head and blocks the session until katt_session_retry().
 */
void katt_session_done(struct katt_session *s, struct katt_sess_ctx *ctx,
		       int err);
void katt_session_retry(struct katt_session *s);

/* Its local verdict is given and nothing is left to do. */
bool katt_session_finished(const struct katt_session *s);

/*
 * Ends the session (the round is over, the socket is gone, the daemon
 * stops): frees the outbox, closes an open RP exchange, wipes the binding,
 * drops the policy.
 */
void katt_session_end(struct katt_session *s, struct katt_sess_ctx *ctx);

/* Frees a job (wiping its binding). */
void katt_quote_job_free(struct katt_quote_job *job);

#endif /* KATT_AGENT_SESSION_H */
