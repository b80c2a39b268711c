// SPDX-License-Identifier: GPL-2.0
/*
 * tpm.c: the ESAPI connection and PCR reads of tpm.h, after tpm2-tss's
 * ESAPI examples (test/integration/esys-*.int.c) and tpm2-tools' PCR
 * reading (lib/pcr.c: PCR_Read returns at most 8 digests a call).
 *
 * Owns: the TCTI and ESYS contexts.  Calls: tss2-tctildr, tss2-esys,
 * tss2-rc, log.
 */
#include <errno.h>
#include <string.h>

#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include "log.h"
#include "tpm.h"

/* PCR_Read is retried this often when the PCRs change between calls. */
#define PCR_READ_TRIES	3

int katt_tpm_fail(TSS2_RC rc, const char *what)
{
	katt_err("TPM: %s: %s", what, Tss2_RC_Decode(rc));
	return -EIO;
}

int katt_tpm_open(struct katt_tpm *tpm, const char *tcti_conf)
{
	TPMS_CAPABILITY_DATA *cap = NULL;
	TPMI_YES_NO more;
	TSS2_RC rc;

	memset(tpm, 0, sizeof(*tpm));
	if (!tcti_conf)
		tcti_conf = KATT_TPM_DEFAULT_TCTI;
	rc = Tss2_TctiLdr_Initialize(tcti_conf, &tpm->tcti);
	if (rc) {
		katt_err("TPM: TCTI \"%s\": %s", tcti_conf, Tss2_RC_Decode(rc));
		return -EIO;
	}
	rc = Esys_Initialize(&tpm->esys, tpm->tcti, NULL);
	if (rc) {
		katt_tpm_fail(rc, "Esys_Initialize");
		goto out_tcti;
	}
	rc = Esys_GetCapability(tpm->esys, ESYS_TR_NONE, ESYS_TR_NONE,
				ESYS_TR_NONE, TPM2_CAP_PCRS, 0, 1, &more, &cap);
	if (rc) {
		katt_tpm_fail(rc, "GetCapability(PCRS)");
		goto out_esys;
	}
	tpm->banks = cap->data.assignedPCR;
	Esys_Free(cap);
	katt_debug("TPM: connected through \"%s\", %u PCR banks", tcti_conf,
		   tpm->banks.count);
	return 0;

out_esys:
	Esys_Finalize(&tpm->esys);
out_tcti:
	Tss2_TctiLdr_Finalize(&tpm->tcti);
	return -EIO;
}

void katt_tpm_close(struct katt_tpm *tpm)
{
	if (tpm->esys)
		Esys_Finalize(&tpm->esys);
	if (tpm->tcti)
		Tss2_TctiLdr_Finalize(&tpm->tcti);
}

static const TPMS_PCR_SELECTION *allocated(const struct katt_tpm *tpm,
					   TPMI_ALG_HASH alg)
{
	UINT32 i;

	for (i = 0; i < tpm->banks.count; i++)
		if (tpm->banks.pcrSelections[i].hash == alg)
			return &tpm->banks.pcrSelections[i];
	return NULL;
}

bool katt_tpm_can_quote(const struct katt_tpm *tpm,
			const TPML_PCR_SELECTION *sel, TPMI_ALG_HASH *bad_alg)
{
	UINT32 i, b;

	for (i = 0; i < sel->count; i++) {
		const TPMS_PCR_SELECTION *want = &sel->pcrSelections[i];
		const TPMS_PCR_SELECTION *have = allocated(tpm, want->hash);

		for (b = 0; b < want->sizeofSelect; b++) {
			uint8_t bits = want->pcrSelect[b];

			if (!bits)
				continue;
			if (!have || b >= have->sizeofSelect ||
			    (bits & ~have->pcrSelect[b])) {
				*bad_alg = want->hash;
				return false;
			}
		}
	}
	return true;
}

static int bank_index(const TPML_PCR_SELECTION *sel, TPMI_ALG_HASH alg)
{
	UINT32 i;

	for (i = 0; i < sel->count; i++)
		if (sel->pcrSelections[i].hash == alg)
			return i;
	return -1;
}

static bool empty(const TPML_PCR_SELECTION *sel)
{
	UINT32 i, b;

	for (i = 0; i < sel->count; i++)
		for (b = 0; b < sel->pcrSelections[i].sizeofSelect; b++)
			if (sel->pcrSelections[i].pcrSelect[b])
				return false;
	return true;
}

/* One pass: every PCR of @sel, or -EAGAIN if the counter moved. */
static int pcr_read_once(struct katt_tpm *tpm, const TPML_PCR_SELECTION *sel,
			 struct katt_pcr_read *out)
{
	TPML_PCR_SELECTION left = *sel;
	bool first = true;

	out->sel = *sel;
	while (!empty(&left)) {
		TPML_PCR_SELECTION *got = NULL;
		TPML_DIGEST *values = NULL;
		UINT32 counter, i, v = 0;
		unsigned int p;
		TSS2_RC rc;
		int b, ret = 0;

		rc = Esys_PCR_Read(tpm->esys, ESYS_TR_NONE, ESYS_TR_NONE,
				   ESYS_TR_NONE, &left, &counter, &got, &values);
		if (rc)
			return katt_tpm_fail(rc, "PCR_Read");
		if (!first && counter != out->update_counter)
			ret = -EAGAIN;
		out->update_counter = counter;
		first = false;
		if (empty(got))
			ret = -ENOENT;
		/* the values come in the order of @got: banks, then PCRs */
		for (i = 0; !ret && i < got->count; i++) {
			TPMS_PCR_SELECTION *g = &got->pcrSelections[i];
			TPMS_PCR_SELECTION *l;

			b = bank_index(sel, g->hash);
			if (b < 0 || bank_index(&left, g->hash) < 0) {
				ret = -EIO;
				break;
			}
			l = &left.pcrSelections[bank_index(&left, g->hash)];
			for (p = 0; p < g->sizeofSelect * 8u; p++) {
				if (!(g->pcrSelect[p / 8] & (1u << (p % 8))))
					continue;
				if (p >= KATT_PCR_COUNT || v >= values->count ||
				    values->digests[v].size > KATT_DIGEST_MAX ||
				    !(l->pcrSelect[p / 8] & (1u << (p % 8)))) {
					ret = -EIO;
					break;
				}
				out->size[b] = values->digests[v].size;
				memcpy(out->value[b][p], values->digests[v].buffer,
				       values->digests[v].size);
				l->pcrSelect[p / 8] &= ~(1u << (p % 8));
				v++;
			}
		}
		Esys_Free(got);
		Esys_Free(values);
		if (ret == -EIO)
			katt_err("TPM: PCR_Read returned values that were not asked for");
		if (ret)
			return ret;
	}
	return 0;
}

int katt_tpm_pcr_read(struct katt_tpm *tpm, const TPML_PCR_SELECTION *sel,
		      struct katt_pcr_read *out)
{
	int tries, ret = -EAGAIN;

	if (sel->count > KATT_PCR_BANKS_MAX)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	for (tries = 0; tries < PCR_READ_TRIES && ret == -EAGAIN; tries++)
		ret = pcr_read_once(tpm, sel, out);
	if (ret == -ENOENT)
		katt_err("TPM: PCR_Read did not return every PCR selected");
	return ret;
}

void katt_pcr_read_values(const struct katt_pcr_read *r,
			  struct katt_pcr_values *v)
{
	unsigned int i, p;

	memset(v, 0, sizeof(*v));
	for (i = 0; i < r->sel.count && i < KATT_PCR_BANKS_MAX; i++) {
		const TPMS_PCR_SELECTION *s = &r->sel.pcrSelections[i];

		v->bank[i].alg = s->hash;
		v->bank[i].size = r->size[i];
		for (p = 0; p < KATT_PCR_COUNT && p < s->sizeofSelect * 8u; p++) {
			if (!(s->pcrSelect[p / 8] & (1u << (p % 8))))
				continue;
			v->bank[i].pcrs |= 1u << p;
			v->bank[i].value[p] = r->value[i][p];
		}
	}
	v->nbanks = i;
}
