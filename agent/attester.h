/* SPDX-License-Identifier: GPL-2.0 */
/*
 * attester.h: the attester role (Documentation/protocol.rst, "tpm2-quote",
 * the attester's steps): on a Challenge, TPM2_Quote with the AK over the
 * Challenge's PCR selection (or the configured default) with the binder as
 * qualifyingData, the selected PCRs read and checked against the quote's
 * pcrDigest (quoting again, at most three times, if a PCR changed in
 * between), the tpm2-quote value with the AK public and the event logs if
 * they fit, CMW-wrapped in the Evidence; or the Error that says why not.
 *
 * The binding and the Challenge come from the caller, which takes them
 * only from its own kernel's round-start and msg-recv for one socket: this
 * code offers no other way to have something quoted, and quotes nothing
 * but a binder it computes itself.
 *
 * Owns: the TPM connection and the AK (through tpm.h and ak.h), and the
 * buffers of one answer.  Calls: tpm, ak, binder, proto, tpm_crypto,
 * tss2-esys, tss2-mu, log.
 */
#ifndef KATT_AGENT_ATTESTER_H
#define KATT_AGENT_ATTESTER_H

#include "ak.h"
#include "binder.h"
#include "proto.h"
#include "tpm.h"

/*
 * Evidence is kept to this many bytes, so that a Verdict (or a Challenge)
 * this agent sends on the same socket still fits behind it in the kernel's
 * 64 KiB of unsent messages per socket (msg-send's ENOBUFS).
 */
#define KATT_EVIDENCE_MAX	(KATT_MSG_MAX - 1024)
/* TPM2_Quote is tried this often when the PCRs change under it */
#define KATT_QUOTE_TRIES	3

struct katt_attester_config {
	const char *tcti;		/* NULL: KATT_TPM_DEFAULT_TCTI */
	const char *state_dir;
	TPMI_ALG_PUBLIC ak_type;	/* TPM2_ALG_ECC (0 too) or _RSA */
	const char *eh_auth;		/* endorsement auth; NULL: empty */
	/* what is quoted when a Challenge has no PCR selection */
	struct katt_pcr_sel default_sel;
	/* event logs sent when they fit; NULL: none */
	const char *log_path[KATT_QUOTE_LOGS_MAX];
	unsigned int log_format[KATT_QUOTE_LOGS_MAX];
};

struct katt_attester;

/* A quote as TPM2_Quote made it, and the PCR values of its pcrSelect. */
struct katt_quote {
	uint8_t attest[sizeof(TPMS_ATTEST)];	/* TPMS_ATTEST, marshalled */
	size_t attest_len;
	uint8_t sig[sizeof(TPMT_SIGNATURE)];	/* TPMT_SIGNATURE, marshalled */
	size_t sig_len;
	struct katt_pcr_read pcrs;
	unsigned int attempts;
};

/* Connects to the TPM and loads (or creates) the AK.  0 or -errno, logged. */
int katt_attester_open(const struct katt_attester_config *cfg,
		       struct katt_attester **out);
void katt_attester_close(struct katt_attester *a);

const struct katt_ak *katt_attester_ak(const struct katt_attester *a);
struct katt_tpm *katt_attester_tpm(struct katt_attester *a);

/*
 * Quotes @sel with qualifyingData @binder and reads the quoted PCRs.
 * Returns 0, -EOPNOTSUPP (@sel names a bank or PCR the TPM has not
 * allocated), -EAGAIN (the PCRs changed during KATT_QUOTE_TRIES quotes) or
 * -EIO (logged).
 */
int katt_attester_quote(struct katt_attester *a,
			const uint8_t binder[KATT_BINDER_LEN],
			const TPML_PCR_SELECTION *sel, struct katt_quote *q);

/*
 * The tpm2-quote value of @q (AK public, and the logs of @logs, @nlogs of
 * them, which the caller has cut to fit).  Returns its length or -errno.
 */
long katt_attester_value(const struct katt_attester *a,
			 const struct katt_quote *q,
			 const struct katt_tpm2_quote *logs, uint8_t *buf,
			 size_t cap);

/*
 * Answers the decoded Challenge @ch received on the connection of binding
 * @b: writes into @out (at least KATT_MSG_MAX bytes) the Evidence, or the
 * Error (code 2 or 6, with a reason text) when it cannot, and sets
 * *@reply to the type written.  Returns the message's length, or a
 * negative errno if not even an Error could be written.
 */
long katt_attester_answer(struct katt_attester *a, const struct katt_msg *ch,
			  const struct katt_binding *b, uint8_t *out, size_t cap,
			  enum katt_msg_type *reply);

#endif /* KATT_AGENT_ATTESTER_H */
