// SPDX-License-Identifier: GPL-2.0
/*
 * proto.c: decoding and encoding of the messages of proto.h, field table by
 * field table (Documentation/protocol.rst, "Messages" and "tpm2-quote").
 *
 * Owns: no state.  Calls: cbor_reader (strict parse into a tree),
 * cbor_writer (libcbor's encoders), jansson (UTF-8 check of texts we send).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cbor_reader.h"
#include "cbor_writer.h"
#include "proto.h"

#define RID_MAX		UINT32_MAX

/* --- names ---------------------------------------------------------------- */

static const struct {
	uint16_t alg;
	unsigned int size;
	const char *name;
} hash_algs[] = {
	{ 0x0004, 20, "sha1" },
	{ 0x000b, 32, "sha256" },
	{ 0x000c, 48, "sha384" },
	{ 0x000d, 64, "sha512" },
	{ 0x0012, 32, "sm3_256" },
};

unsigned int katt_hash_alg_size(uint16_t alg)
{
	size_t i;

	for (i = 0; i < sizeof(hash_algs) / sizeof(hash_algs[0]); i++)
		if (hash_algs[i].alg == alg)
			return hash_algs[i].size;
	return 0;
}

const char *katt_hash_alg_name(uint16_t alg)
{
	size_t i;

	for (i = 0; i < sizeof(hash_algs) / sizeof(hash_algs[0]); i++)
		if (hash_algs[i].alg == alg)
			return hash_algs[i].name;
	return NULL;
}

const char *katt_evidence_media_type(unsigned int type)
{
	switch (type) {
	case KATT_EV_TPM2_QUOTE:
		return KATT_MEDIA_TPM2_QUOTE;
	case KATT_EV_EAR_CWT:
		return "application/eat+cwt; eat_profile=\"tag:github.com,2023:veraison/ear\"";
	case KATT_EV_EAR_JWT:
		return "application/eat+jwt; eat_profile=\"tag:github.com,2023:veraison/ear\"";
	}
	return NULL;
}

const char *katt_reason_name(uint64_t reason)
{
	static const char *const names[] = {
		"none", "binder-mismatch", "bad-signature", "untrusted-key",
		"malformed-evidence", "type-not-offered",
		"pcr-digest-mismatch", "reference-mismatch", "log-mismatch",
		"counter-regression", "result-not-affirming",
		"verifier-unavailable", "policy",
	};

	return reason < sizeof(names) / sizeof(names[0]) ? names[reason] :
	       "unknown";
}

const char *katt_error_name(uint64_t code)
{
	static const char *const names[] = {
		"?", "unsupported-version", "cannot-attest", "malformed",
		"unexpected-message", "unsupported-message-type", "internal",
	};

	return code && code < sizeof(names) / sizeof(names[0]) ? names[code] :
	       "unknown";
}

const char *katt_msg_type_name(uint64_t type)
{
	static const char *const names[] = {
		"?", "Challenge", "Evidence", "Verdict", "Error", "Request",
	};

	return type && type < sizeof(names) / sizeof(names[0]) ? names[type] :
	       "unknown";
}

void katt_text_set(struct katt_text *t, const char *fmt, ...)
{
	char buf[512];
	size_t len;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	len = strlen(buf);
	if (len > KATT_TEXT_MAX) {
		len = KATT_TEXT_MAX;
		/* back to the start of a UTF-8 sequence */
		while (len && ((unsigned char)buf[len] & 0xc0) == 0x80)
			len--;
	}
	memcpy(t->s, buf, len);
	t->s[len] = '\0';
	t->len = len;
}

/* --- decoding --------------------------------------------------------------- */

struct dec {
	const struct katt_cbor_doc *doc;
	char *why;
	size_t whylen;
};

static int bad(struct dec *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int bad(struct dec *d, const char *fmt, ...)
{
	va_list ap;

	if (d->why && d->whylen) {
		va_start(ap, fmt);
		vsnprintf(d->why, d->whylen, fmt, ap);
		va_end(ap);
	}
	return -EBADMSG;
}

static const struct katt_cbor_item *item(const struct dec *d, int i)
{
	return &d->doc->items[i];
}

/*
 * The value of @key in @map as *@out (-1 if absent and not @required),
 * checked to be of @type.
 */
static int field(struct dec *d, uint32_t map, uint64_t key, bool required,
		 enum katt_cbor_type type, const char *name, int *out)
{
	int i = katt_cbor_map_get(d->doc, map, key);

	*out = i;
	if (i < 0)
		return required ? bad(d, "%s (key %llu) missing", name,
				      (unsigned long long)key) : 0;
	if (item(d, i)->type != type)
		return bad(d, "%s (key %llu) is a %s, not a %s", name,
			   (unsigned long long)key,
			   katt_cbor_type_name(item(d, i)->type),
			   katt_cbor_type_name(type));
	return 0;
}

static int uint_field(struct dec *d, uint32_t map, uint64_t key, bool required,
		      uint64_t min, uint64_t max, const char *name,
		      bool *present, uint64_t *v)
{
	int i, ret;

	ret = field(d, map, key, required, KATT_CBOR_UINT, name, &i);
	if (ret)
		return ret;
	if (present)
		*present = i >= 0;
	if (i < 0)
		return 0;
	*v = item(d, i)->uint;
	if (*v < min || *v > max)
		return bad(d, "%s (key %llu) is %llu, not %llu to %llu", name,
			   (unsigned long long)key, (unsigned long long)*v,
			   (unsigned long long)min, (unsigned long long)max);
	return 0;
}

static int text_field(struct dec *d, uint32_t map, bool *present,
		      struct katt_text *t)
{
	int i, ret;

	ret = field(d, map, KATT_KEY_TEXT, false, KATT_CBOR_TSTR, "text", &i);
	if (ret)
		return ret;
	*present = i >= 0;
	if (i < 0)
		return 0;
	/* the reader bounds and checks every text string */
	t->len = item(d, i)->len;
	memcpy(t->s, item(d, i)->str, t->len);
	t->s[t->len] = '\0';
	return 0;
}

static int rid_field(struct dec *d, uint32_t map, bool required,
		     bool *present, uint32_t *rid)
{
	uint64_t v = 0;
	int ret;

	ret = uint_field(d, map, KATT_KEY_RID, required, 1, RID_MAX,
			 "round id", present, &v);
	*rid = v;
	return ret;
}

/* An array at @arr of @min to @max entries. */
static int array_bounds(struct dec *d, int arr, unsigned int min,
			unsigned int max, const char *name)
{
	uint32_t n = item(d, arr)->count;

	if (n < min || n > max)
		return bad(d, "%s has %u entries, not %u to %u", name, n, min,
			   max);
	return 0;
}

static int decode_pcr_sel(struct dec *d, int map, struct katt_pcr_sel *sel)
{
	uint32_t n = item(d, map)->count, i, k;
	int j = map + 1;

	if (n < 1 || n > KATT_PCR_BANKS_MAX)
		return bad(d, "PCR selection has %u banks, not 1 to %d", n,
			   KATT_PCR_BANKS_MAX);
	sel->nbanks = n;
	for (i = 0; i < n; i++) {
		const struct katt_cbor_item *key = item(d, j);
		int arr = katt_cbor_next(d->doc, j);
		int e;

		if (key->uint > 0xffff)
			return bad(d, "PCR selection: bank %llu is no TPM_ALG_ID",
				   (unsigned long long)key->uint);
		sel->bank[i].alg = key->uint;
		sel->bank[i].pcrs = 0;
		if (item(d, arr)->type != KATT_CBOR_ARRAY)
			return bad(d, "PCR selection of bank %#06x is a %s, not an array",
				   sel->bank[i].alg,
				   katt_cbor_type_name(item(d, arr)->type));
		if (array_bounds(d, arr, 1, KATT_PCR_COUNT, "a bank's PCR selection"))
			return -EBADMSG;
		e = arr + 1;
		for (k = 0; k < item(d, arr)->count; k++) {
			const struct katt_cbor_item *pcr = item(d, e);

			if (pcr->type != KATT_CBOR_UINT || pcr->uint >= KATT_PCR_COUNT)
				return bad(d, "PCR selection of bank %#06x: entry %u is not a PCR index 0 to 23",
					   sel->bank[i].alg, k);
			if (sel->bank[i].pcrs >> pcr->uint)
				return bad(d, "PCR selection of bank %#06x: PCR %llu not in ascending order or twice",
					   sel->bank[i].alg,
					   (unsigned long long)pcr->uint);
			sel->bank[i].pcrs |= 1u << pcr->uint;
			e = katt_cbor_next(d->doc, e);
		}
		j = katt_cbor_next(d->doc, arr);
	}
	return 0;
}

static int decode_challenge(struct dec *d, struct katt_challenge *c)
{
	uint32_t i;
	int nonce, types, sel, e, ret;

	ret = rid_field(d, 0, true, NULL, &c->rid);
	if (ret)
		return ret;
	ret = field(d, 0, KATT_KEY_NONCE, true, KATT_CBOR_BSTR, "nonce", &nonce);
	if (ret)
		return ret;
	if (item(d, nonce)->len != KATT_NONCE_LEN)
		return bad(d, "nonce of %zu bytes, not %d", item(d, nonce)->len,
			   KATT_NONCE_LEN);
	memcpy(c->nonce, item(d, nonce)->str, KATT_NONCE_LEN);

	ret = field(d, 0, KATT_KEY_TYPES, true, KATT_CBOR_ARRAY, "types", &types);
	if (ret)
		return ret;
	if (array_bounds(d, types, 1, KATT_TYPES_MAX, "types"))
		return -EBADMSG;
	c->ntypes = item(d, types)->count;
	e = types + 1;
	for (i = 0; i < c->ntypes; i++) {
		const struct katt_cbor_item *t = item(d, e);
		uint32_t k;

		if (t->type != KATT_CBOR_UINT || t->uint < 1 || t->uint > 255)
			return bad(d, "types: entry %u is not an evidence type 1 to 255",
				   i);
		c->types[i] = t->uint;
		for (k = 0; k < i; k++)
			if (c->types[k] == c->types[i])
				return bad(d, "types: %u twice", c->types[i]);
		e = katt_cbor_next(d->doc, e);
	}

	ret = field(d, 0, KATT_KEY_PCRS, false, KATT_CBOR_MAP, "PCR selection",
		    &sel);
	if (ret)
		return ret;
	c->has_sel = sel >= 0;
	if (sel >= 0)
		return decode_pcr_sel(d, sel, &c->sel);
	return 0;
}

static int decode_evidence(struct dec *d, struct katt_evidence *ev)
{
	struct katt_cmw *cmw = &ev->cmw;
	int arr, e, ret;

	ret = rid_field(d, 0, true, NULL, &ev->rid);
	if (ret)
		return ret;
	ret = field(d, 0, KATT_KEY_EVIDENCE, true, KATT_CBOR_ARRAY, "evidence",
		    &arr);
	if (ret)
		return ret;
	if (array_bounds(d, arr, 2, 3, "the CMW record"))
		return -EBADMSG;
	e = arr + 1;
	if (item(d, e)->type != KATT_CBOR_TSTR)
		return bad(d, "CMW type is a %s, not a text string",
			   katt_cbor_type_name(item(d, e)->type));
	cmw->type = (const char *)item(d, e)->str;
	cmw->type_len = item(d, e)->len;
	e = katt_cbor_next(d->doc, e);
	if (item(d, e)->type != KATT_CBOR_BSTR)
		return bad(d, "CMW value is a %s, not a byte string",
			   katt_cbor_type_name(item(d, e)->type));
	if (!item(d, e)->len)
		return bad(d, "CMW value is empty");
	cmw->value = item(d, e)->str;
	cmw->value_len = item(d, e)->len;
	cmw->has_ind = item(d, arr)->count == 3;
	if (cmw->has_ind) {
		e = katt_cbor_next(d->doc, e);
		if (item(d, e)->type != KATT_CBOR_UINT)
			return bad(d, "CMW ind is a %s, not an unsigned integer",
				   katt_cbor_type_name(item(d, e)->type));
		cmw->ind = item(d, e)->uint;
	}
	return 0;
}

static int decode_verdict(struct dec *d, struct katt_verdict *v)
{
	bool has_reason, has_valid;
	uint64_t result = 0, valid = 0;
	int ret;

	ret = rid_field(d, 0, true, NULL, &v->rid);
	if (!ret)
		ret = uint_field(d, 0, KATT_KEY_RESULT, true, KATT_RESULT_PASS,
				 KATT_RESULT_FAIL, "result", NULL, &result);
	if (!ret)
		ret = uint_field(d, 0, KATT_KEY_REASON, false, 0, UINT64_MAX,
				 "reason", &has_reason, &v->reason);
	if (!ret)
		ret = text_field(d, 0, &v->has_text, &v->text);
	if (!ret)
		ret = uint_field(d, 0, KATT_KEY_VALID_FOR, false, 1, UINT32_MAX,
				 "valid for", &has_valid, &valid);
	if (ret)
		return ret;
	v->result = result;
	v->valid_for = has_valid ? valid : 0;
	if (!has_reason)
		v->reason = 0;
	if (result == KATT_RESULT_FAIL && !has_reason)
		return bad(d, "a failing Verdict without a reason");
	if (result == KATT_RESULT_PASS && v->reason)
		return bad(d, "a passing Verdict with reason %llu",
			   (unsigned long long)v->reason);
	return 0;
}

static int decode_error(struct dec *d, struct katt_error *er)
{
	int vers, e, ret;
	uint32_t i;

	ret = uint_field(d, 0, KATT_KEY_CODE, true, 0, UINT64_MAX, "code",
			 NULL, &er->code);
	if (!ret)
		ret = rid_field(d, 0, false, &er->has_rid, &er->rid);
	if (!ret)
		ret = text_field(d, 0, &er->has_text, &er->text);
	if (!ret)
		ret = uint_field(d, 0, KATT_KEY_IN_REPLY_TO, false, 0,
				 UINT64_MAX, "in reply to",
				 &er->has_in_reply_to, &er->in_reply_to);
	if (!ret)
		ret = field(d, 0, KATT_KEY_VERSIONS,
			    er->code == KATT_ERR_UNSUPPORTED_VERSION,
			    KATT_CBOR_ARRAY, "versions", &vers);
	if (ret)
		return ret;
	er->nversions = 0;
	if (vers < 0)
		return 0;
	if (array_bounds(d, vers, 1, KATT_VERSIONS_MAX, "versions"))
		return -EBADMSG;
	er->nversions = item(d, vers)->count;
	e = vers + 1;
	for (i = 0; i < er->nversions; i++) {
		if (item(d, e)->type != KATT_CBOR_UINT)
			return bad(d, "versions: entry %u is not an unsigned integer",
				   i);
		er->versions[i] = item(d, e)->uint;
		e = katt_cbor_next(d->doc, e);
	}
	return 0;
}

int katt_msg_decode(const uint8_t *buf, size_t len, struct katt_msg *msg,
		    struct katt_decode_err *err)
{
	struct katt_cbor_doc doc;
	struct dec d = { .doc = &doc, .why = err->why,
			 .whylen = sizeof(err->why) };
	uint64_t v;
	int i, ret;

	memset(msg, 0, sizeof(*msg));
	memset(err, 0, sizeof(*err));
	err->code = KATT_ERR_MALFORMED;
	err->version = KATT_PROTO_VERSION;
	if (len > KATT_MSG_MAX) {
		snprintf(err->why, sizeof(err->why),
			 "message of %zu bytes (at most %d)", len, KATT_MSG_MAX);
		return -EBADMSG;
	}
	ret = katt_cbor_parse(buf, len, &doc, err->why, sizeof(err->why));
	if (ret)
		return ret;
	if (doc.items[0].type != KATT_CBOR_MAP) {
		ret = bad(&d, "the message is a %s, not a map",
			  katt_cbor_type_name(doc.items[0].type));
		goto out;
	}

	/* what an Error answering it can say, when readable */
	i = katt_cbor_map_get(&doc, 0, KATT_KEY_TYPE);
	if (i >= 0 && doc.items[i].type == KATT_CBOR_UINT) {
		err->has_type = true;
		err->type = doc.items[i].uint;
	}
	i = katt_cbor_map_get(&doc, 0, KATT_KEY_RID);
	if (i >= 0 && doc.items[i].type == KATT_CBOR_UINT &&
	    doc.items[i].uint >= 1 && doc.items[i].uint <= RID_MAX) {
		err->has_rid = true;
		err->rid = doc.items[i].uint;
	}

	ret = uint_field(&d, 0, KATT_KEY_VERSION, true, 0, UINT64_MAX,
			 "version", NULL, &msg->version);
	if (!ret)
		ret = uint_field(&d, 0, KATT_KEY_TYPE, true, 0, UINT64_MAX,
				 "type", NULL, &v);
	if (ret)
		goto out;
	/* Keys 0, 1, 2, 9, 11, 12 and 13 of an Error mean the same in every version */
	if (msg->version != KATT_PROTO_VERSION && v != KATT_MSG_ERROR) {
		err->code = KATT_ERR_UNSUPPORTED_VERSION;
		err->version = msg->version;
		ret = bad(&d, "message version %llu (this agent supports %d)",
			  (unsigned long long)msg->version, KATT_PROTO_VERSION);
		goto out;
	}
	err->version = msg->version;
	if (v < KATT_MSG_CHALLENGE || v > KATT_MSG_REQUEST) {
		err->code = KATT_ERR_UNSUPPORTED_TYPE;
		ret = bad(&d, "message type %llu", (unsigned long long)v);
		goto out;
	}
	msg->type = v;
	switch (msg->type) {
	case KATT_MSG_CHALLENGE:
		ret = decode_challenge(&d, &msg->challenge);
		break;
	case KATT_MSG_EVIDENCE:
		ret = decode_evidence(&d, &msg->evidence);
		break;
	case KATT_MSG_VERDICT:
		ret = decode_verdict(&d, &msg->verdict);
		break;
	case KATT_MSG_ERROR:
		ret = decode_error(&d, &msg->error);
		break;
	case KATT_MSG_REQUEST:
		break;
	}
out:
	katt_cbor_free(&doc);
	if (ret)
		memset(msg, 0, sizeof(*msg));
	return ret;
}

/* --- tpm2-quote ----------------------------------------------------------- */

static int blob_field(struct dec *d, uint64_t key, bool required, size_t max,
		      const char *name, struct katt_blob *b)
{
	int i, ret;

	ret = field(d, 0, key, required, KATT_CBOR_BSTR, name, &i);
	if (ret)
		return ret;
	b->p = NULL;
	b->len = 0;
	if (i < 0)
		return 0;
	if (item(d, i)->len < 1 || item(d, i)->len > max)
		return bad(d, "%s of %zu bytes, not 1 to %zu", name,
			   item(d, i)->len, max);
	b->p = item(d, i)->str;
	b->len = item(d, i)->len;
	return 0;
}

static int decode_pcr_values(struct dec *d, int map, struct katt_pcr_values *pv)
{
	uint32_t n = item(d, map)->count, i, k;
	int j = map + 1;

	if (n < 1 || n > KATT_PCR_BANKS_MAX)
		return bad(d, "PCRs: %u banks, not 1 to %d", n,
			   KATT_PCR_BANKS_MAX);
	pv->nbanks = n;
	for (i = 0; i < n; i++) {
		int bank = katt_cbor_next(d->doc, j), e;
		uint64_t alg = item(d, j)->uint;
		unsigned int size;

		if (alg > 0xffff)
			return bad(d, "PCRs: bank %llu is no TPM_ALG_ID",
				   (unsigned long long)alg);
		pv->bank[i].alg = alg;
		pv->bank[i].pcrs = 0;
		pv->bank[i].size = 0;
		if (item(d, bank)->type != KATT_CBOR_MAP)
			return bad(d, "PCRs of bank %#06x are a %s, not a map",
				   (unsigned int)alg,
				   katt_cbor_type_name(item(d, bank)->type));
		if (item(d, bank)->count < 1 ||
		    item(d, bank)->count > KATT_PCR_COUNT)
			return bad(d, "PCRs of bank %#06x: %u entries, not 1 to %d",
				   (unsigned int)alg, item(d, bank)->count,
				   KATT_PCR_COUNT);
		size = katt_hash_alg_size(alg);
		e = bank + 1;
		for (k = 0; k < item(d, bank)->count; k++) {
			uint64_t pcr = item(d, e)->uint;
			int val = katt_cbor_next(d->doc, e);
			size_t len = item(d, val)->len;

			if (pcr >= KATT_PCR_COUNT)
				return bad(d, "PCRs of bank %#06x: PCR %llu is not 0 to 23",
					   (unsigned int)alg,
					   (unsigned long long)pcr);
			if (item(d, val)->type != KATT_CBOR_BSTR)
				return bad(d, "PCR %#06x:%llu is a %s, not a byte string",
					   (unsigned int)alg,
					   (unsigned long long)pcr,
					   katt_cbor_type_name(item(d, val)->type));
			if (size ? len != size : len < 20 || len > KATT_DIGEST_MAX)
				return bad(d, "PCR %#06x:%llu has %zu bytes, not the bank's digest size",
					   (unsigned int)alg,
					   (unsigned long long)pcr, len);
			if (pv->bank[i].size && len != pv->bank[i].size)
				return bad(d, "PCRs of bank %#06x have different sizes",
					   (unsigned int)alg);
			pv->bank[i].size = len;
			/* the reader refused a key twice */
			pv->bank[i].pcrs |= 1u << pcr;
			pv->bank[i].value[pcr] = item(d, val)->str;
			e = katt_cbor_next(d->doc, val);
		}
		j = katt_cbor_next(d->doc, bank);
	}
	return 0;
}

int katt_tpm2_quote_decode(const uint8_t *buf, size_t len,
			   struct katt_tpm2_quote *q, char *why, size_t whylen)
{
	struct katt_cbor_doc doc;
	struct dec d = { .doc = &doc, .why = why, .whylen = whylen };
	int pcrs, certs, logs, e, ret;
	uint32_t i;

	memset(q, 0, sizeof(*q));
	ret = katt_cbor_parse(buf, len, &doc, why, whylen);
	if (ret)
		return ret;
	if (doc.items[0].type != KATT_CBOR_MAP) {
		ret = bad(&d, "tpm2-quote is a %s, not a map",
			  katt_cbor_type_name(doc.items[0].type));
		goto out;
	}
	ret = blob_field(&d, KATT_QKEY_ATTEST, true, KATT_QUOTE_BLOB_MAX,
			 "attest", &q->attest);
	if (!ret)
		ret = blob_field(&d, KATT_QKEY_SIGNATURE, true,
				 KATT_QUOTE_BLOB_MAX, "signature", &q->sig);
	if (!ret)
		ret = blob_field(&d, KATT_QKEY_AK_PUBLIC, false,
				 KATT_QUOTE_BLOB_MAX, "AK public", &q->ak_pub);
	if (!ret)
		ret = field(&d, 0, KATT_QKEY_PCRS, true, KATT_CBOR_MAP, "PCRs",
			    &pcrs);
	if (!ret)
		ret = decode_pcr_values(&d, pcrs, &q->pcrs);
	if (!ret)
		ret = field(&d, 0, KATT_QKEY_AK_CERTS, false, KATT_CBOR_ARRAY,
			    "AK certificates", &certs);
	if (ret)
		goto out;
	if (certs >= 0) {
		ret = array_bounds(&d, certs, 1, KATT_QUOTE_CERTS_MAX,
				   "AK certificates");
		if (ret)
			goto out;
		q->ncerts = doc.items[certs].count;
		e = certs + 1;
		for (i = 0; i < q->ncerts; i++) {
			if (doc.items[e].type != KATT_CBOR_BSTR ||
			    doc.items[e].len < 1 ||
			    doc.items[e].len > KATT_QUOTE_CERT_MAX) {
				ret = bad(&d, "AK certificate %u is not a byte string of 1 to %d bytes",
					  i, KATT_QUOTE_CERT_MAX);
				goto out;
			}
			q->cert[i].p = doc.items[e].str;
			q->cert[i].len = doc.items[e].len;
			e = katt_cbor_next(&doc, e);
		}
	}
	if (!q->ncerts && !q->ak_pub.len) {
		ret = bad(&d, "neither AK certificates (key 4) nor AK public (key 5)");
		goto out;
	}

	ret = field(&d, 0, KATT_QKEY_LOGS, false, KATT_CBOR_ARRAY, "logs", &logs);
	if (ret || logs < 0)
		goto out;
	ret = array_bounds(&d, logs, 1, KATT_QUOTE_LOGS_MAX, "logs");
	if (ret)
		goto out;
	q->nlogs = doc.items[logs].count;
	e = logs + 1;
	for (i = 0; i < q->nlogs; i++) {
		const struct katt_cbor_item *fmt, *data;

		if (doc.items[e].type != KATT_CBOR_ARRAY ||
		    doc.items[e].count != 2) {
			ret = bad(&d, "log %u is not [1 or 2, byte string]", i);
			goto out;
		}
		fmt = &doc.items[e + 1];
		data = &doc.items[katt_cbor_next(&doc, e + 1)];
		if (fmt->type != KATT_CBOR_UINT ||
		    (fmt->uint != KATT_LOG_FORMAT_TCG &&
		     fmt->uint != KATT_LOG_FORMAT_IMA) ||
		    data->type != KATT_CBOR_BSTR) {
			ret = bad(&d, "log %u is not [1 or 2, byte string]", i);
			goto out;
		}
		if (i && q->log[0].format == fmt->uint) {
			ret = bad(&d, "two logs of format %llu",
				  (unsigned long long)fmt->uint);
			goto out;
		}
		q->log[i].format = fmt->uint;
		q->log[i].data.p = data->str;
		q->log[i].data.len = data->len;
		e = katt_cbor_next(&doc, e);
	}
out:
	katt_cbor_free(&doc);
	if (ret)
		memset(q, 0, sizeof(*q));
	return ret;
}

/* --- encoding ------------------------------------------------------------- */

static bool text_ok(const struct katt_text *t)
{
	json_t *s;

	if (t->len > KATT_TEXT_MAX)
		return false;
	if (!t->len)
		return true;
	s = json_stringn(t->s, t->len);
	if (!s)
		return false;
	json_decref(s);
	return true;
}

static bool sel_ok(const struct katt_pcr_sel *sel)
{
	unsigned int i, k;

	if (sel->nbanks < 1 || sel->nbanks > KATT_PCR_BANKS_MAX)
		return false;
	for (i = 0; i < sel->nbanks; i++) {
		if (!sel->bank[i].pcrs || sel->bank[i].pcrs >> KATT_PCR_COUNT)
			return false;
		for (k = 0; k < i; k++)
			if (sel->bank[k].alg == sel->bank[i].alg)
				return false;
	}
	return true;
}

static void put_pcr_sel(struct katt_cbor_writer *w, const struct katt_pcr_sel *sel)
{
	unsigned int i, p;

	katt_cbor_put_map(w, sel->nbanks);
	for (i = 0; i < sel->nbanks; i++) {
		katt_cbor_put_uint(w, sel->bank[i].alg);
		katt_cbor_put_array(w, __builtin_popcount(sel->bank[i].pcrs));
		for (p = 0; p < KATT_PCR_COUNT; p++)
			if (sel->bank[i].pcrs & (1u << p))
				katt_cbor_put_uint(w, p);
	}
}

static int encode_challenge(struct katt_cbor_writer *w,
			    const struct katt_challenge *c)
{
	unsigned int i, k;

	if (!c->rid || c->ntypes < 1 || c->ntypes > KATT_TYPES_MAX)
		return -EINVAL;
	for (i = 0; i < c->ntypes; i++) {
		if (!c->types[i])
			return -EINVAL;
		for (k = 0; k < i; k++)
			if (c->types[k] == c->types[i])
				return -EINVAL;
	}
	if (c->has_sel && !sel_ok(&c->sel))
		return -EINVAL;
	katt_cbor_put_map(w, 5 + c->has_sel);
	katt_cbor_put_uint(w, KATT_KEY_VERSION);
	katt_cbor_put_uint(w, KATT_PROTO_VERSION);
	katt_cbor_put_uint(w, KATT_KEY_TYPE);
	katt_cbor_put_uint(w, KATT_MSG_CHALLENGE);
	katt_cbor_put_uint(w, KATT_KEY_RID);
	katt_cbor_put_uint(w, c->rid);
	katt_cbor_put_uint(w, KATT_KEY_NONCE);
	katt_cbor_put_bstr(w, c->nonce, KATT_NONCE_LEN);
	katt_cbor_put_uint(w, KATT_KEY_TYPES);
	katt_cbor_put_array(w, c->ntypes);
	for (i = 0; i < c->ntypes; i++)
		katt_cbor_put_uint(w, c->types[i]);
	if (c->has_sel) {
		katt_cbor_put_uint(w, KATT_KEY_PCRS);
		put_pcr_sel(w, &c->sel);
	}
	return 0;
}

static int encode_evidence(struct katt_cbor_writer *w, uint64_t version,
			   const struct katt_evidence *ev)
{
	const struct katt_cmw *cmw = &ev->cmw;
	struct katt_text t;

	if (!ev->rid || !cmw->type || cmw->type_len > KATT_TEXT_MAX ||
	    !cmw->value || !cmw->value_len)
		return -EINVAL;
	t.len = cmw->type_len;
	memcpy(t.s, cmw->type, t.len);
	if (!text_ok(&t))
		return -EINVAL;
	katt_cbor_put_map(w, 4);
	katt_cbor_put_uint(w, KATT_KEY_VERSION);
	katt_cbor_put_uint(w, version);
	katt_cbor_put_uint(w, KATT_KEY_TYPE);
	katt_cbor_put_uint(w, KATT_MSG_EVIDENCE);
	katt_cbor_put_uint(w, KATT_KEY_RID);
	katt_cbor_put_uint(w, ev->rid);
	katt_cbor_put_uint(w, KATT_KEY_EVIDENCE);
	katt_cbor_put_array(w, cmw->has_ind ? 3 : 2);
	katt_cbor_put_tstr(w, cmw->type, cmw->type_len);
	katt_cbor_put_bstr(w, cmw->value, cmw->value_len);
	if (cmw->has_ind)
		katt_cbor_put_uint(w, cmw->ind);
	return 0;
}

static int encode_verdict(struct katt_cbor_writer *w, uint64_t version,
			  const struct katt_verdict *v)
{
	bool fail = v->result == KATT_RESULT_FAIL;

	if (!v->rid || (v->result != KATT_RESULT_PASS && !fail) ||
	    (!fail && v->reason) || (v->has_text && !text_ok(&v->text)))
		return -EINVAL;
	katt_cbor_put_map(w, 4 + fail + v->has_text + !!v->valid_for);
	katt_cbor_put_uint(w, KATT_KEY_VERSION);
	katt_cbor_put_uint(w, version);
	katt_cbor_put_uint(w, KATT_KEY_TYPE);
	katt_cbor_put_uint(w, KATT_MSG_VERDICT);
	katt_cbor_put_uint(w, KATT_KEY_RID);
	katt_cbor_put_uint(w, v->rid);
	katt_cbor_put_uint(w, KATT_KEY_RESULT);
	katt_cbor_put_uint(w, v->result);
	if (fail) {
		katt_cbor_put_uint(w, KATT_KEY_REASON);
		katt_cbor_put_uint(w, v->reason);
	}
	if (v->has_text) {
		katt_cbor_put_uint(w, KATT_KEY_TEXT);
		katt_cbor_put_tstr(w, v->text.s, v->text.len);
	}
	if (v->valid_for) {
		katt_cbor_put_uint(w, KATT_KEY_VALID_FOR);
		katt_cbor_put_uint(w, v->valid_for);
	}
	return 0;
}

static int encode_error(struct katt_cbor_writer *w, uint64_t version,
			const struct katt_error *e)
{
	unsigned int i;

	if ((e->has_rid && !e->rid) || (e->has_text && !text_ok(&e->text)) ||
	    e->nversions > KATT_VERSIONS_MAX ||
	    (e->code == KATT_ERR_UNSUPPORTED_VERSION &&
	     (!e->nversions || version != KATT_PROTO_VERSION)))
		return -EINVAL;
	katt_cbor_put_map(w, 3 + e->has_rid + e->has_text + !!e->nversions +
			  e->has_in_reply_to);
	katt_cbor_put_uint(w, KATT_KEY_VERSION);
	katt_cbor_put_uint(w, version);
	katt_cbor_put_uint(w, KATT_KEY_TYPE);
	katt_cbor_put_uint(w, KATT_MSG_ERROR);
	if (e->has_rid) {
		katt_cbor_put_uint(w, KATT_KEY_RID);
		katt_cbor_put_uint(w, e->rid);
	}
	if (e->has_text) {
		katt_cbor_put_uint(w, KATT_KEY_TEXT);
		katt_cbor_put_tstr(w, e->text.s, e->text.len);
	}
	katt_cbor_put_uint(w, KATT_KEY_CODE);
	katt_cbor_put_uint(w, e->code);
	if (e->nversions) {
		katt_cbor_put_uint(w, KATT_KEY_VERSIONS);
		katt_cbor_put_array(w, e->nversions);
		for (i = 0; i < e->nversions; i++)
			katt_cbor_put_uint(w, e->versions[i]);
	}
	if (e->has_in_reply_to) {
		katt_cbor_put_uint(w, KATT_KEY_IN_REPLY_TO);
		katt_cbor_put_uint(w, e->in_reply_to);
	}
	return 0;
}

long katt_msg_encode(const struct katt_msg *msg, uint8_t *buf, size_t cap)
{
	struct katt_cbor_writer w;
	long len;
	int ret;

	if (cap > KATT_MSG_MAX)
		cap = KATT_MSG_MAX;
	katt_cbor_writer_init(&w, buf, cap);
	switch (msg->type) {
	case KATT_MSG_CHALLENGE:
		ret = msg->version == KATT_PROTO_VERSION ?
		      encode_challenge(&w, &msg->challenge) : -EINVAL;
		break;
	case KATT_MSG_EVIDENCE:
		ret = encode_evidence(&w, msg->version, &msg->evidence);
		break;
	case KATT_MSG_VERDICT:
		ret = encode_verdict(&w, msg->version, &msg->verdict);
		break;
	case KATT_MSG_ERROR:
		ret = encode_error(&w, msg->version, &msg->error);
		break;
	case KATT_MSG_REQUEST:
		katt_cbor_put_map(&w, 2);
		katt_cbor_put_uint(&w, KATT_KEY_VERSION);
		katt_cbor_put_uint(&w, msg->version);
		katt_cbor_put_uint(&w, KATT_KEY_TYPE);
		katt_cbor_put_uint(&w, KATT_MSG_REQUEST);
		ret = 0;
		break;
	default:
		ret = -EINVAL;
	}
	if (ret)
		return ret;
	len = katt_cbor_writer_end(&w);
	return len;
}

static bool blob_ok(const struct katt_blob *b, size_t max)
{
	return b->p && b->len >= 1 && b->len <= max;
}

long katt_tpm2_quote_encode(const struct katt_tpm2_quote *q, uint8_t *buf,
			    size_t cap)
{
	const struct katt_pcr_values *pv = &q->pcrs;
	struct katt_cbor_writer w;
	unsigned int i, k, p;

	if (!blob_ok(&q->attest, KATT_QUOTE_BLOB_MAX) ||
	    !blob_ok(&q->sig, KATT_QUOTE_BLOB_MAX) ||
	    (q->ak_pub.len && !blob_ok(&q->ak_pub, KATT_QUOTE_BLOB_MAX)) ||
	    (!q->ak_pub.len && !q->ncerts) ||
	    q->ncerts > KATT_QUOTE_CERTS_MAX || q->nlogs > KATT_QUOTE_LOGS_MAX ||
	    pv->nbanks < 1 || pv->nbanks > KATT_PCR_BANKS_MAX)
		return -EINVAL;
	for (i = 0; i < q->ncerts; i++)
		if (!blob_ok(&q->cert[i], KATT_QUOTE_CERT_MAX))
			return -EINVAL;
	for (i = 0; i < pv->nbanks; i++) {
		if (!pv->bank[i].pcrs || pv->bank[i].pcrs >> KATT_PCR_COUNT ||
		    pv->bank[i].size < 20 || pv->bank[i].size > KATT_DIGEST_MAX)
			return -EINVAL;
		for (k = 0; k < i; k++)
			if (pv->bank[k].alg == pv->bank[i].alg)
				return -EINVAL;
	}
	if (q->nlogs == 2 && q->log[0].format == q->log[1].format)
		return -EINVAL;

	katt_cbor_writer_init(&w, buf, cap);
	katt_cbor_put_map(&w, 3 + !!q->ncerts + !!q->ak_pub.len + !!q->nlogs);
	katt_cbor_put_uint(&w, KATT_QKEY_ATTEST);
	katt_cbor_put_bstr(&w, q->attest.p, q->attest.len);
	katt_cbor_put_uint(&w, KATT_QKEY_SIGNATURE);
	katt_cbor_put_bstr(&w, q->sig.p, q->sig.len);
	katt_cbor_put_uint(&w, KATT_QKEY_PCRS);
	katt_cbor_put_map(&w, pv->nbanks);
	for (i = 0; i < pv->nbanks; i++) {
		katt_cbor_put_uint(&w, pv->bank[i].alg);
		katt_cbor_put_map(&w, __builtin_popcount(pv->bank[i].pcrs));
		for (p = 0; p < KATT_PCR_COUNT; p++) {
			if (!(pv->bank[i].pcrs & (1u << p)))
				continue;
			if (!pv->bank[i].value[p])
				return -EINVAL;
			katt_cbor_put_uint(&w, p);
			katt_cbor_put_bstr(&w, pv->bank[i].value[p],
					   pv->bank[i].size);
		}
	}
	if (q->ncerts) {
		katt_cbor_put_uint(&w, KATT_QKEY_AK_CERTS);
		katt_cbor_put_array(&w, q->ncerts);
		for (i = 0; i < q->ncerts; i++)
			katt_cbor_put_bstr(&w, q->cert[i].p, q->cert[i].len);
	}
	if (q->ak_pub.len) {
		katt_cbor_put_uint(&w, KATT_QKEY_AK_PUBLIC);
		katt_cbor_put_bstr(&w, q->ak_pub.p, q->ak_pub.len);
	}
	if (q->nlogs) {
		katt_cbor_put_uint(&w, KATT_QKEY_LOGS);
		katt_cbor_put_array(&w, q->nlogs);
		for (i = 0; i < q->nlogs; i++) {
			if (q->log[i].format != KATT_LOG_FORMAT_TCG &&
			    q->log[i].format != KATT_LOG_FORMAT_IMA)
				return -EINVAL;
			katt_cbor_put_array(&w, 2);
			katt_cbor_put_uint(&w, q->log[i].format);
			katt_cbor_put_bstr(&w, q->log[i].data.p,
					   q->log[i].data.len);
		}
	}
	return katt_cbor_writer_end(&w);
}
