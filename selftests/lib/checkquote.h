/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tpm2-tools' tpm2_checkquote as an independent judge of the agent's
 * quotes: the parts of a tpm2-quote value written to files in the formats
 * tpm2-tools reads (TPM2B_PUBLIC and TPMT_SIGNATURE in its "tss" format,
 * the TPMS_ATTEST as tpm2_quote --message writes it, and the PCRs as
 * tpm2_pcrread --output writes them: a TPML_PCR_SELECTION, then the values
 * in TPML_DIGESTs of at most 8, little-endian), then the tool run on them.
 *
 * Its limits (tpm2-tools 5.4, Debian 12):
 * - It hashes the values it is given in the order of the selection it is
 *   given and compares that with pcrDigest; it never compares the quote's
 *   own pcrSelect with that selection.  Quoted sha1 values labelled
 *   sha256 therefore pass: the RP must compare the selections itself.
 * - Its --pcr-list form (raw values in the order of a list) loses every
 *   8th value of a bank (the count of a TPML_DIGEST stops at 7), so a
 *   bank of 8 PCRs or more never verifies that way; hence the
 *   tpm2_pcrread form here.
 */
#ifndef KATT_CHECKQUOTE_SELFTEST_LIB_H
#define KATT_CHECKQUOTE_SELFTEST_LIB_H

#include <stddef.h>
#include <stdint.h>

#include <tss2/tss2_tpm2_types.h>

#include "proto.h"

/*
 * Runs tpm2_checkquote in @dir (which exists) on these parts: the PCR
 * values @values labelled with the selection @label, --qualification
 * @qual (@qlen bytes).  Returns its exit status (0: it verified), or -1 if
 * it could not be run; what it said goes to @dir/out.
 */
int checkquote_run(const char *dir, const struct katt_blob *ak_pub,
		   const struct katt_blob *attest, const struct katt_blob *sig,
		   const TPML_PCR_SELECTION *label,
		   const struct katt_pcr_values *values, const uint8_t *qual,
		   size_t qlen);

/*
 * The same for a decoded tpm2-quote value, its PCR map labelled as it is
 * (banks in the map's order, PCRs ascending).
 */
int checkquote_value(const char *dir, const struct katt_tpm2_quote *v,
		     const uint8_t *qual, size_t qlen);

/* Prints what the last run in @dir said, as "# " comment lines. */
void checkquote_show(const char *dir);

#endif /* KATT_CHECKQUOTE_SELFTEST_LIB_H */
