// SPDX-License-Identifier: GPL-2.0
/*
 * attester.c: the attester role of attester.h.
 *
 * Owns: the TPM connection, the AK, the configuration it was given (its
 * strings stay the caller's) and the buffers of one answer.  Calls: tpm,
 * ak, binder, proto, tpm_crypto, config (katt_pcr_sel_format), tss2-esys,
 * tss2-mu, log.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <tss2/tss2_mu.h>

#include "attester.h"
#include "config.h"
#include "log.h"
#include "tpm_crypto.h"

struct katt_attester {
	struct katt_attester_config cfg;
	struct katt_tpm tpm;
	struct katt_ak ak;
	struct katt_quote quote;
	uint8_t value[KATT_MSG_MAX];
	uint8_t log[KATT_QUOTE_LOGS_MAX][KATT_MSG_MAX];
};

int katt_attester_open(const struct katt_attester_config *cfg,
		       struct katt_attester **out)
{
	struct katt_attester *a;
	int ret;

	*out = NULL;
	if (!cfg->state_dir || !cfg->default_sel.nbanks) {
		katt_err("attester: a state directory and a default PCR selection are needed");
		return -EINVAL;
	}
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->cfg = *cfg;
	if (!a->cfg.ak_type)
		a->cfg.ak_type = TPM2_ALG_ECC;
	ret = katt_tpm_open(&a->tpm, cfg->tcti);
	if (ret)
		goto out_free;
	ret = katt_ak_open(&a->tpm, cfg->state_dir, a->cfg.ak_type,
			   cfg->eh_auth, &a->ak);
	if (ret)
		goto out_tpm;
	*out = a;
	return 0;

out_tpm:
	katt_tpm_close(&a->tpm);
out_free:
	free(a);
	return ret;
}

void katt_attester_close(struct katt_attester *a)
{
	if (!a)
		return;
	katt_ak_close(&a->tpm, &a->ak);
	katt_tpm_close(&a->tpm);
	free(a);
}

const struct katt_ak *katt_attester_ak(const struct katt_attester *a)
{
	return &a->ak;
}

struct katt_tpm *katt_attester_tpm(struct katt_attester *a)
{
	return &a->tpm;
}

/* Whether every PCR of @want is in @got. */
static bool covers(const TPML_PCR_SELECTION *got, const TPML_PCR_SELECTION *want)
{
	UINT32 i, k, b;

	for (i = 0; i < want->count; i++) {
		const TPMS_PCR_SELECTION *w = &want->pcrSelections[i];

		for (b = 0; b < w->sizeofSelect; b++) {
			uint8_t bits = w->pcrSelect[b];

			for (k = 0; bits && k < got->count; k++)
				if (got->pcrSelections[k].hash == w->hash &&
				    b < got->pcrSelections[k].sizeofSelect)
					bits &= ~got->pcrSelections[k].pcrSelect[b];
			if (bits)
				return false;
		}
	}
	return true;
}

/* One TPM2_Quote and the PCR values under it; -ESTALE if they differ. */
static int quote_once(struct katt_attester *a, const TPM2B_DATA *qd,
		      const TPML_PCR_SELECTION *sel, struct katt_quote *q)
{
	TPMT_SIG_SCHEME scheme = { .scheme = TPM2_ALG_NULL };
	struct katt_pcr_values values;
	TPMT_SIGNATURE *sig = NULL;
	TPM2B_ATTEST *attest = NULL;
	uint8_t digest[KATT_DIGEST_MAX];
	TPMS_ATTEST info;
	size_t off = 0;
	TSS2_RC rc;
	int ret, n;

	/* the AK's own scheme (TPM2_ALG_NULL): ECDSA or RSASSA, SHA-256 */
	rc = Esys_Quote(a->tpm.esys, a->ak.handle, ESYS_TR_PASSWORD,
			ESYS_TR_NONE, ESYS_TR_NONE, qd, &scheme, sel, &attest,
			&sig);
	if (rc)
		return katt_tpm_fail(rc, "Quote");
	ret = -EIO;
	if (attest->size > sizeof(q->attest) ||
	    Tss2_MU_TPMS_ATTEST_Unmarshal(attest->attestationData, attest->size,
					  &off, &info) || off != attest->size ||
	    info.type != TPM2_ST_ATTEST_QUOTE) {
		katt_err("TPM: Quote returned no quote");
		goto out;
	}
	if (!covers(&info.attested.quote.pcrSelect, sel)) {
		katt_err("TPM: Quote did not quote every PCR asked for");
		ret = -EOPNOTSUPP;
		goto out;
	}
	memcpy(q->attest, attest->attestationData, attest->size);
	q->attest_len = attest->size;
	off = 0;
	if (Tss2_MU_TPMT_SIGNATURE_Marshal(sig, q->sig, sizeof(q->sig), &off))
		goto out;
	q->sig_len = off;

	/* the values of exactly what the TPM quoted, checked against it */
	ret = katt_tpm_pcr_read(&a->tpm, &info.attested.quote.pcrSelect,
				&q->pcrs);
	if (ret == -EAGAIN)
		ret = -ESTALE;
	if (ret)
		goto out;
	katt_pcr_read_values(&q->pcrs, &values);
	n = katt_pcr_digest(katt_tpm_sig_hash(sig),
			    &info.attested.quote.pcrSelect, &values, digest,
			    NULL, NULL);
	if (n < 0) {
		ret = -EIO;
		goto out;
	}
	ret = n == info.attested.quote.pcrDigest.size &&
	      !memcmp(digest, info.attested.quote.pcrDigest.buffer, n) ?
	      0 : -ESTALE;
out:
	Esys_Free(attest);
	Esys_Free(sig);
	return ret;
}

int katt_attester_quote(struct katt_attester *a,
			const uint8_t binder[KATT_BINDER_LEN],
			const TPML_PCR_SELECTION *sel, struct katt_quote *q)
{
	TPM2B_DATA qd = { .size = KATT_BINDER_LEN };
	TPMI_ALG_HASH bad;
	int ret = -ESTALE;

	if (sel->count > KATT_PCR_BANKS_MAX ||
	    !katt_tpm_can_quote(&a->tpm, sel, &bad))
		return -EOPNOTSUPP;
	memcpy(qd.buffer, binder, KATT_BINDER_LEN);
	memset(q, 0, sizeof(*q));
	while (ret == -ESTALE && q->attempts < KATT_QUOTE_TRIES) {
		q->attempts++;
		ret = quote_once(a, &qd, sel, q);
		if (ret == -ESTALE)
			katt_info("attester: a PCR changed during quote %u, quoting again",
				  q->attempts);
	}
	return ret == -ESTALE ? -EAGAIN : ret;
}

long katt_attester_value(const struct katt_attester *a,
			 const struct katt_quote *q,
			 const struct katt_tpm2_quote *logs, uint8_t *buf,
			 size_t cap)
{
	struct katt_pcr_values all;
	struct katt_tpm2_quote v = { 0 };
	unsigned int i;

	katt_pcr_read_values(&q->pcrs, &all);
	/* banks of the quote with no PCR selected have no entry */
	for (i = 0; i < all.nbanks; i++)
		if (all.bank[i].pcrs)
			v.pcrs.bank[v.pcrs.nbanks++] = all.bank[i];
	v.attest.p = q->attest;
	v.attest.len = q->attest_len;
	v.sig.p = q->sig;
	v.sig.len = q->sig_len;
	v.ak_pub.p = a->ak.pub_blob;
	v.ak_pub.len = a->ak.pub_blob_len;
	if (logs) {
		v.nlogs = logs->nlogs;
		memcpy(v.log, logs->log, sizeof(v.log));
	}
	return katt_tpm2_quote_encode(&v, buf, cap);
}

/* Reads a log file, at most KATT_MSG_MAX bytes; -EFBIG if larger. */
static long read_log(const char *path, uint8_t *buf)
{
	size_t len = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* securityfs files have no size: read to the end */
	while (len < KATT_MSG_MAX) {
		n = read(fd, buf + len, KATT_MSG_MAX - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
	}
	if (len == KATT_MSG_MAX) {
		uint8_t extra;

		if (read(fd, &extra, 1) > 0)
			len = (size_t)-1;
	}
	close(fd);
	return len == (size_t)-1 ? -EFBIG : (long)len;
}

static long write_error(uint8_t *out, size_t cap, const struct katt_msg *ch,
			unsigned int code, const char *text,
			enum katt_msg_type *reply)
{
	struct katt_msg m = {
		.version = ch->version,
		.type = KATT_MSG_ERROR,
		.error = {
			.code = code,
			.has_rid = true,
			.rid = ch->challenge.rid,
			.has_text = true,
			.has_in_reply_to = true,
			.in_reply_to = KATT_MSG_CHALLENGE,
		},
	};

	katt_text_set(&m.error.text, "%s", text);
	katt_info("attester: round id %u: Error %u (%s): %s",
		  ch->challenge.rid, code, katt_error_name(code), text);
	*reply = KATT_MSG_ERROR;
	return katt_msg_encode(&m, out, cap);
}

static bool offers_tpm2_quote(const struct katt_challenge *c)
{
	unsigned int i;

	for (i = 0; i < c->ntypes; i++)
		if (c->types[i] == KATT_EV_TPM2_QUOTE)
			return true;
	return false;
}

long katt_attester_answer(struct katt_attester *a, const struct katt_msg *ch,
			  const struct katt_binding *b, uint8_t *out, size_t cap,
			  enum katt_msg_type *reply)
{
	const struct katt_challenge *c = &ch->challenge;
	struct katt_tpm2_quote logs = { 0 };
	uint8_t binder[KATT_BINDER_LEN];
	TPML_PCR_SELECTION sel;
	struct katt_msg ev;
	unsigned int i, keep;
	char text[KATT_TEXT_MAX + 1];
	long vlen, len;
	int ret;

	if (ch->type != KATT_MSG_CHALLENGE)
		return -EINVAL;
	if (!offers_tpm2_quote(c))
		return write_error(out, cap, ch, KATT_ERR_CANNOT_ATTEST,
				   "no evidence type this attester produces (it produces 1, tpm2-quote)",
				   reply);
	katt_pcr_sel_to_tpml(c->has_sel ? &c->sel : &a->cfg.default_sel, &sel);

	ret = katt_binder_attester(b, c->nonce, binder);
	if (!ret)
		ret = katt_attester_quote(a, binder, &sel, &a->quote);
	OPENSSL_cleanse(binder, sizeof(binder));
	if (ret == -EOPNOTSUPP) {
		TPMI_ALG_HASH bad = 0;
		const char *name;

		katt_tpm_can_quote(&a->tpm, &sel, &bad);
		name = katt_hash_alg_name(bad);
		if (name)
			snprintf(text, sizeof(text), "the PCR selection cannot be quoted: bank %s is not allocated on this TPM",
				 name);
		else
			snprintf(text, sizeof(text), "the PCR selection cannot be quoted: bank %#06x is not allocated on this TPM",
				 bad);
		return write_error(out, cap, ch, KATT_ERR_CANNOT_ATTEST, text,
				   reply);
	}
	if (ret == -EAGAIN)
		return write_error(out, cap, ch, KATT_ERR_INTERNAL,
				   "the PCRs changed during three quotes", reply);
	if (ret)
		return write_error(out, cap, ch, KATT_ERR_INTERNAL,
				   "TPM error while quoting", reply);

	/* the logs, each read afresh (they grow) */
	for (i = 0; i < KATT_QUOTE_LOGS_MAX; i++) {
		long n;

		if (!a->cfg.log_path[i])
			continue;
		n = read_log(a->cfg.log_path[i], a->log[logs.nlogs]);
		if (n < 0) {
			katt_info("attester: log %s left out: %s",
				  a->cfg.log_path[i], strerror(-n));
			continue;
		}
		logs.log[logs.nlogs].format = a->cfg.log_format[i];
		logs.log[logs.nlogs].data.p = a->log[logs.nlogs];
		logs.log[logs.nlogs].data.len = n;
		logs.nlogs++;
	}

	/* with every log, then leaving out the last, until it fits */
	for (keep = logs.nlogs + 1; keep-- > 0;) {
		logs.nlogs = keep;
		vlen = katt_attester_value(a, &a->quote, &logs, a->value,
					   sizeof(a->value));
		if (vlen == -EMSGSIZE)
			continue;
		if (vlen < 0)
			break;
		memset(&ev, 0, sizeof(ev));
		ev.version = ch->version;
		ev.type = KATT_MSG_EVIDENCE;
		ev.evidence.rid = c->rid;
		ev.evidence.cmw.type = KATT_MEDIA_TPM2_QUOTE;
		ev.evidence.cmw.type_len = strlen(KATT_MEDIA_TPM2_QUOTE);
		ev.evidence.cmw.value = a->value;
		ev.evidence.cmw.value_len = vlen;
		ev.evidence.cmw.has_ind = true;
		ev.evidence.cmw.ind = KATT_CMW_IND_EVIDENCE;
		len = katt_msg_encode(&ev, out,
				      cap < KATT_EVIDENCE_MAX ? cap :
				      KATT_EVIDENCE_MAX);
		if (len == -EMSGSIZE)
			continue;
		if (len < 0)
			break;
		if (katt_log_enabled(KATT_LOG_INFO)) {
			const TPM2B_NAME *n = &a->ak.name;
			char name[2 * sizeof(n->name) + 1];
			char pcrs[160];

			katt_hex(n->name, n->size, name);
			katt_pcr_sel_format(c->has_sel ? &c->sel :
					    &a->cfg.default_sel, pcrs,
					    sizeof(pcrs));
			/* the start as tools/demo and tools/bench read it */
			katt_info("attester: round id %u: Evidence of %ld bytes (%u logs, quote %u): %s quoted with AK %.16s...",
				  c->rid, len, keep, a->quote.attempts, pcrs,
				  name);
		}
		*reply = KATT_MSG_EVIDENCE;
		return len;
	}
	return write_error(out, cap, ch, KATT_ERR_INTERNAL,
			   "the Evidence does not fit in a message", reply);
}
