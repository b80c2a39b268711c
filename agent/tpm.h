/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tpm.h: the agent's TPM 2.0, through tpm2-tss's ESAPI: one connection
 * made from a TCTI configuration string (tctildr: "device:/dev/tpmrm0",
 * the kernel's resource manager, by default; "swtpm:path=..." for tests),
 * the PCR banks the TPM has allocated, and PCR reads of any selection.
 *
 * Not thread-safe: one thread uses a struct katt_tpm at a time (ESAPI
 * contexts are not shared).
 *
 * Owns: the TCTI and ESYS contexts.  Calls: tss2-tctildr, tss2-esys,
 * tss2-rc (error texts), log.
 */
#ifndef KATT_AGENT_TPM_H
#define KATT_AGENT_TPM_H

#include <tss2/tss2_esys.h>

#include "proto.h"

#define KATT_TPM_DEFAULT_TCTI	"device:/dev/tpmrm0"

struct katt_tpm {
	TSS2_TCTI_CONTEXT *tcti;
	ESYS_CONTEXT *esys;
	/* the allocated PCR banks and their PCRs */
	TPML_PCR_SELECTION banks;
};

/* PCR values as read: bank i of @sel holds @sel's bank i. */
struct katt_pcr_read {
	TPML_PCR_SELECTION sel;
	UINT32 update_counter;
	unsigned int size[KATT_PCR_BANKS_MAX];
	uint8_t value[KATT_PCR_BANKS_MAX][KATT_PCR_COUNT][KATT_DIGEST_MAX];
};

/*
 * Connects to the TPM of @tcti_conf (NULL: KATT_TPM_DEFAULT_TCTI).
 * Returns 0 or -EIO (logged, with the TSS's reason).
 */
int katt_tpm_open(struct katt_tpm *tpm, const char *tcti_conf);
void katt_tpm_close(struct katt_tpm *tpm);

/*
 * Logs "@what: <TSS reason>" and returns -EIO.  @rc must not be success.
 */
int katt_tpm_fail(TSS2_RC rc, const char *what);

/*
 * Whether every PCR of @sel is in an allocated bank of the TPM; if not,
 * @bad_alg names the first bank that is not.
 */
bool katt_tpm_can_quote(const struct katt_tpm *tpm,
			const TPML_PCR_SELECTION *sel, TPMI_ALG_HASH *bad_alg);

/*
 * Reads every PCR of @sel (in as many PCR_Read calls as it takes, each
 * returning at most 8 values), all under one pcrUpdateCounter.  Returns 0,
 * -EAGAIN (the PCRs kept changing between the calls), -ENOENT (the TPM did
 * not return a selected PCR) or -EIO.
 */
int katt_tpm_pcr_read(struct katt_tpm *tpm, const TPML_PCR_SELECTION *sel,
		      struct katt_pcr_read *out);

/* A struct katt_pcr_values pointing into @r. */
void katt_pcr_read_values(const struct katt_pcr_read *r,
			  struct katt_pcr_values *v);

#endif /* KATT_AGENT_TPM_H */
