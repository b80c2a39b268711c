// SPDX-License-Identifier: GPL-2.0
/* tpm2_checkquote on the agent's quotes: see checkquote.h. */
#include <endian.h>
#include <stdio.h>
#include <string.h>

#include "checkquote.h"
#include "swtpm.h"

static int write_file(const char *dir, const char *name, const void *p,
		      size_t len)
{
	char path[256];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f)
		return -1;
	ok = fwrite(p, 1, len, f) == len;
	return fclose(f) || !ok ? -1 : 0;
}


/*
 * tpm2_pcrread's --output form: the selection, a UINT32 count, then that
 * many TPML_DIGESTs; the values of @label's PCRs, in its order, are taken
 * bank by bank from @values (bank i of the label from bank i of @values).
 */
static int write_pcrs(const char *dir, const TPML_PCR_SELECTION *label,
		      const struct katt_pcr_values *values)
{
	static TPML_DIGEST lists[32];
	TPML_PCR_SELECTION sel = *label;
	char path[256];
	uint32_t nlists = 0, count, i, p;
	FILE *f;
	int ok;

	memset(lists, 0, sizeof(lists));
	for (i = 0; i < label->count && i < values->nbanks; i++) {
		const TPMS_PCR_SELECTION *s = &label->pcrSelections[i];

		for (p = 0; p < s->sizeofSelect * 8u && p < KATT_PCR_COUNT; p++) {
			TPML_DIGEST *l;

			if (!(s->pcrSelect[p / 8] & (1u << (p % 8))))
				continue;
			if (nlists && lists[nlists - 1].count < 8)
				l = &lists[nlists - 1];
			else if (nlists < 32)
				l = &lists[nlists++];
			else
				return -1;
			if (!values->bank[i].value[p])
				return -1;
			l->digests[l->count].size = htole16(values->bank[i].size);
			memcpy(l->digests[l->count].buffer, values->bank[i].value[p],
			       values->bank[i].size);
			l->count++;
		}
	}
	for (i = 0; i < nlists; i++)
		lists[i].count = htole32(lists[i].count);
	for (i = 0; i < sel.count; i++)
		sel.pcrSelections[i].hash = htole16(sel.pcrSelections[i].hash);
	sel.count = htole32(sel.count);
	count = htole32(nlists);

	snprintf(path, sizeof(path), "%s/quote.pcrs", dir);
	f = fopen(path, "wb");
	if (!f)
		return -1;
	ok = fwrite(&sel, sizeof(sel), 1, f) == 1 &&
	     fwrite(&count, sizeof(count), 1, f) == 1 &&
	     (!nlists || fwrite(lists, sizeof(lists[0]), nlists, f) == nlists);
	return fclose(f) || !ok ? -1 : 0;
}

int checkquote_run(const char *dir, const struct katt_blob *ak_pub,
		   const struct katt_blob *attest, const struct katt_blob *sig,
		   const TPML_PCR_SELECTION *label,
		   const struct katt_pcr_values *values, const uint8_t *qual,
		   size_t qlen)
{
	char hex[2 * 64 + 1];
	size_t i;

	if (qlen > 64)
		return -1;
	for (i = 0; i < qlen; i++)
		sprintf(hex + 2 * i, "%02x", qual[i]);
	hex[2 * qlen] = '\0';
	if (write_file(dir, "ak.pub", ak_pub->p, ak_pub->len) ||
	    write_file(dir, "quote.msg", attest->p, attest->len) ||
	    write_file(dir, "quote.sig", sig->p, sig->len) ||
	    write_pcrs(dir, label, values))
		return -1;
	return run_cmd("cd '%s' && tpm2_checkquote -u ak.pub -m quote.msg -s quote.sig"
		       " -f quote.pcrs -q '%s' > out 2>&1", dir, hex);
}

int checkquote_value(const char *dir, const struct katt_tpm2_quote *v,
		     const uint8_t *qual, size_t qlen)
{
	TPML_PCR_SELECTION label = { .count = v->pcrs.nbanks };
	unsigned int i;

	for (i = 0; i < v->pcrs.nbanks; i++) {
		label.pcrSelections[i].hash = v->pcrs.bank[i].alg;
		label.pcrSelections[i].sizeofSelect = 3;
		label.pcrSelections[i].pcrSelect[0] = v->pcrs.bank[i].pcrs;
		label.pcrSelections[i].pcrSelect[1] = v->pcrs.bank[i].pcrs >> 8;
		label.pcrSelections[i].pcrSelect[2] = v->pcrs.bank[i].pcrs >> 16;
	}
	return checkquote_run(dir, &v->ak_pub, &v->attest, &v->sig, &label,
			      &v->pcrs, qual, qlen);
}

void checkquote_show(const char *dir)
{
	run_cmd("sed 's/^/# tpm2_checkquote: /' '%s/out' >&2", dir);
}
