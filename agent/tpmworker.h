/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tpmworker.h: the thread that owns the TPM.  A quote takes 50 to 200 ms on
 * a hardware TPM (more on an emulated one, and many queue up when many
 * connections start at once), and tpm2-tss's swtpm TCTI cannot be polled:
 * so the event loop never calls the TPM itself.  It hands the worker jobs
 * (a Challenge and a copy of the connection's binding, session.h), and the
 * worker answers each with the Evidence or the Error that
 * katt_attester_answer() writes, in the order the jobs came, and writes to
 * an eventfd that the loop polls.
 *
 * Owns: the struct katt_attester once started (no other thread touches it
 * until katt_tpmworker_stop() has joined the worker), the two queues and
 * the eventfd.  Calls: attester, pthread, eventfd(2), log.
 */
#ifndef KATT_AGENT_TPMWORKER_H
#define KATT_AGENT_TPMWORKER_H

#include <stdint.h>

#include "attester.h"
#include "session.h"

struct katt_tpmworker;

/* The answer to one job. */
struct katt_quote_result {
	uint64_t id;
	uint64_t cookie;
	uint32_t round;
	enum katt_msg_type type;	/* KATT_MSG_EVIDENCE or _ERROR */
	long len;			/* < 0: neither could be written */
	uint8_t *msg;			/* @len bytes, malloc'd */
	struct katt_quote_result *next;
};

/*
 * Starts the worker on @a, which it owns from now on.  Returns 0 or a
 * negative errno.
 */
int katt_tpmworker_start(struct katt_attester *a, struct katt_tpmworker **out);

/* The eventfd that becomes readable when results are waiting. */
int katt_tpmworker_fd(const struct katt_tpmworker *w);

/*
 * Queues @job (the worker frees it); never blocks.  Without memory for it,
 * the job is answered at once with a result of length -ENOMEM.
 */
void katt_tpmworker_submit(struct katt_tpmworker *w,
			   struct katt_quote_job *job);

/*
 * Takes every result waiting (reading the eventfd), oldest first, as a
 * list the caller frees with katt_quote_result_free().
 */
struct katt_quote_result *katt_tpmworker_results(struct katt_tpmworker *w);
void katt_quote_result_free(struct katt_quote_result *r);

/* Jobs not yet taken by the worker (for the logs). */
unsigned int katt_tpmworker_backlog(struct katt_tpmworker *w);

/*
 * Stops the worker after the job under way (the others are dropped),
 * joins it and returns the attester to the caller.
 */
struct katt_attester *katt_tpmworker_stop(struct katt_tpmworker *w);

#endif /* KATT_AGENT_TPMWORKER_H */
