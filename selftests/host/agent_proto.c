// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of the agent's protocol code (agent/cbor_reader.c,
 * cbor_writer.c, proto.c, binder.c), built with AddressSanitizer and UBSan:
 * the examples and test vectors of Documentation/protocol.rst byte for
 * byte, round trips of every message, and every malformed form the
 * encoding rules and the field tables refuse (garbage, truncated and
 * oversized input, declared counts larger than the input, duplicate keys,
 * indefinite lengths, tags, trailing bytes, wrong types, bounds, unknown
 * types and versions), each with the Error code it must be answered with.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"

#include "binder.h"
#include "cbor_reader.h"
#include "cbor_writer.h"
#include "proto.h"

/* --- helpers --------------------------------------------------------------- */

/* Bytes from hex digits; spaces and newlines between them are ignored. */
static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	unsigned int v;

	while (*s) {
		if (*s == ' ' || *s == '\n') {
			s++;
			continue;
		}
		if (sscanf(s, "%2x", &v) != 1 || n == cap)
			abort();
		out[n++] = v;
		s += 2;
	}
	return n;
}

static void seq(uint8_t *p, size_t n, uint8_t first)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = first + i;
}

/* Decodes the hex message @h; expects it malformed, answered with @c. */
#define EXPECT_REFUSED(h, c)						\
	do {								\
		static uint8_t _b[4096];				\
		struct katt_decode_err _e;				\
		struct katt_msg _m;					\
		size_t _n = unhex((h), _b, sizeof(_b));			\
		int _r = katt_msg_decode(_b, _n, &_m, &_e);		\
									\
		EXPECT_EQ(-EBADMSG, _r) TH_LOG("accepted: %s", (h));	\
		EXPECT_EQ((c), _e.code) TH_LOG("%s: %s", (h), _e.why);	\
		EXPECT_NE(0, _e.why[0]) TH_LOG("no reason for %s", (h)); \
	} while (0)

#define EXPECT_DECODES(h, msg)						\
	do {								\
		static uint8_t _b[4096];				\
		struct katt_decode_err _e;				\
		size_t _n = unhex((h), _b, sizeof(_b));			\
		int _r = katt_msg_decode(_b, _n, (msg), &_e);		\
									\
		EXPECT_EQ(0, _r) TH_LOG("%s: %s", (h), _e.why);		\
	} while (0)

/* The Challenge of protocol.rst's example, in diagnostic order. */
#define DOC_CHALLENGE							\
	"a6 00 01 01 01 02 01 03 58 20 20 21 22 23 24 25 26 27 28 29"	\
	"2a 2b 2c 2d 2e 2f 30 31 32 33 34 35 36 37 38 39 3a 3b 3c 3d"	\
	"3e 3f 04 81 01 05 a1 0b 88 00 01 02 03 04 05 06 07"

/* A 32-byte nonce of 0x20..0x3f as CBOR: 58 20 ... */
#define NONCE_HEX							\
	"58 20 20 21 22 23 24 25 26 27 28 29 2a 2b 2c 2d 2e 2f 30 31"	\
	"32 33 34 35 36 37 38 39 3a 3b 3c 3d 3e 3f"

#define MEDIA_HEX							\
	"78 2b 61 70 70 6c 69 63 61 74 69 6f 6e 2f 76 6e 64 2e 6b 74 6c"	\
	"73 2d 61 74 74 65 73 74 2e 74 70 6d 32 2d 71 75 6f 74 65 2b 63"	\
	"62 6f 72"

/* --- the binder ------------------------------------------------------------- */

TEST(binder_test_vectors)
{
	uint8_t exporter[32], nonce[32], key[32], out[32], want[32];

	seq(exporter, 32, 0x00);
	seq(nonce, 32, 0x20);
	seq(key, 32, 0x40);
	ASSERT_EQ(0, katt_binder(KATT_ROLE_SERVER_ATTESTS, exporter, nonce,
				 key, out));
	unhex("2f6eff845faf639d1cf77c9002f84216de3744e02b5519752a82be1e62f8b9f3",
	      want, 32);
	EXPECT_EQ(0, memcmp(out, want, 32));
	ASSERT_EQ(0, katt_binder(KATT_ROLE_CLIENT_ATTESTS, exporter, nonce,
				 NULL, out));
	unhex("44bd0d047b6b099b6a6f7250b163c31a592a00d69c72053696ff43b88222fbc1",
	      want, 32);
	EXPECT_EQ(0, memcmp(out, want, 32));
}

/* Both ends of one connection compute the same binder per direction. */
TEST(binder_ends_agree)
{
	struct katt_binding client = { 0 }, server = { 0 };
	uint8_t nonce[32], a[32], b[32];

	seq(client.exporter, 32, 7);
	memcpy(server.exporter, client.exporter, 32);
	seq(nonce, 32, 0x90);
	server.tls_server = true;
	client.has_local_key = server.has_peer_key = true;
	seq(client.local_key, 32, 0x11);
	memcpy(server.peer_key, client.local_key, 32);
	server.has_local_key = client.has_peer_key = true;
	seq(server.local_key, 32, 0x55);
	memcpy(client.peer_key, server.local_key, 32);

	/* the client attests to the server */
	ASSERT_EQ(0, katt_binder_attester(&client, nonce, a));
	ASSERT_EQ(0, katt_binder_rp(&server, nonce, b));
	EXPECT_EQ(0, memcmp(a, b, 32));
	/* the server attests to the client */
	ASSERT_EQ(0, katt_binder_attester(&server, nonce, a));
	ASSERT_EQ(0, katt_binder_rp(&client, nonce, b));
	EXPECT_EQ(0, memcmp(a, b, 32));
	/* a reflected quote: the client's own Evidence back to it */
	ASSERT_EQ(0, katt_binder_attester(&client, nonce, a));
	EXPECT_NE(0, memcmp(a, b, 32));
	/* without key hashes the role byte still separates directions */
	client.has_local_key = client.has_peer_key = false;
	server.has_local_key = server.has_peer_key = false;
	ASSERT_EQ(0, katt_binder_attester(&client, nonce, a));
	ASSERT_EQ(0, katt_binder_attester(&server, nonce, b));
	EXPECT_NE(0, memcmp(a, b, 32));
	katt_binding_wipe(&client);
	EXPECT_EQ(0, client.exporter[1]);
}

/* --- protocol.rst's examples ---------------------------------------------- */

TEST(doc_challenge_example)
{
	uint8_t want[64], out[64];
	struct katt_msg m, e = { .version = 1, .type = KATT_MSG_CHALLENGE };
	size_t n = unhex(DOC_CHALLENGE, want, sizeof(want));
	struct katt_challenge *c = &m.challenge;

	ASSERT_EQ(57, n);
	EXPECT_DECODES(DOC_CHALLENGE, &m);
	EXPECT_EQ(KATT_MSG_CHALLENGE, m.type);
	EXPECT_EQ(1, c->rid);
	EXPECT_EQ(0x20, c->nonce[0]);
	EXPECT_EQ(0x3f, c->nonce[31]);
	EXPECT_EQ(1, c->ntypes);
	EXPECT_EQ(KATT_EV_TPM2_QUOTE, c->types[0]);
	ASSERT_TRUE(c->has_sel);
	EXPECT_EQ(1, c->sel.nbanks);
	EXPECT_EQ(0x000b, c->sel.bank[0].alg);
	EXPECT_EQ(0xff, c->sel.bank[0].pcrs);

	e.challenge = *c;
	ASSERT_EQ(57, katt_msg_encode(&e, out, sizeof(out)));
	EXPECT_EQ(0, memcmp(want, out, 57));
}

TEST(doc_verdict_request_error_examples)
{
	struct katt_msg m = { .version = 1, .type = KATT_MSG_VERDICT };
	uint8_t out[128], want[128];
	size_t n;

	m.verdict.rid = 1;
	m.verdict.result = KATT_RESULT_PASS;
	n = unhex("a4 00 01 01 03 02 01 07 01", want, sizeof(want));
	ASSERT_EQ(9, katt_msg_encode(&m, out, sizeof(out)));
	EXPECT_EQ(0, memcmp(want, out, n));

	memset(&m, 0, sizeof(m));
	m.version = 1;
	m.type = KATT_MSG_REQUEST;
	n = unhex("a2 00 01 01 05", want, sizeof(want));
	ASSERT_EQ(5, katt_msg_encode(&m, out, sizeof(out)));
	EXPECT_EQ(0, memcmp(want, out, n));
	EXPECT_DECODES("a2 00 01 01 05", &m);
	EXPECT_EQ(KATT_MSG_REQUEST, m.type);

	/* {0: 1, 1: 4, 2: 1, 11: 2, 9: "no acceptable evidence type", 13: 1} */
	EXPECT_DECODES("a6 00 01 01 04 02 01 0b 02 09 78 1b"
		       "6e 6f 20 61 63 63 65 70 74 61 62 6c 65 20 65 76 69 64"
		       "65 6e 63 65 20 74 79 70 65 0d 01", &m);
	EXPECT_EQ(KATT_MSG_ERROR, m.type);
	EXPECT_EQ(KATT_ERR_CANNOT_ATTEST, m.error.code);
	EXPECT_TRUE(m.error.has_rid);
	EXPECT_EQ(1, m.error.rid);
	EXPECT_STREQ("no acceptable evidence type", m.error.text.s);
	EXPECT_TRUE(m.error.has_in_reply_to);
	EXPECT_EQ(KATT_MSG_CHALLENGE, m.error.in_reply_to);
}

/* --- round trips -------------------------------------------------------- */

/* Encodes @in, decodes the result into @out, and checks the length. */
#define ROUND_TRIP(in, out)						\
	do {								\
		static uint8_t _b[KATT_MSG_MAX];			\
		struct katt_decode_err _e;				\
		long _n = katt_msg_encode((in), _b, sizeof(_b));	\
									\
		ASSERT_LT(0, _n) TH_LOG("encode: %ld", _n);		\
		ASSERT_EQ(0, katt_msg_decode(_b, _n, (out), &_e))	\
			TH_LOG("decode: %s", _e.why);			\
		EXPECT_EQ((in)->type, (out)->type);			\
		EXPECT_EQ((in)->version, (out)->version);		\
	} while (0)

static bool same_challenge(const struct katt_challenge *a,
			   const struct katt_challenge *b)
{
	unsigned int i;

	if (a->rid != b->rid || memcmp(a->nonce, b->nonce, 32) ||
	    a->ntypes != b->ntypes || memcmp(a->types, b->types, a->ntypes) ||
	    a->has_sel != b->has_sel)
		return false;
	if (!a->has_sel)
		return true;
	if (a->sel.nbanks != b->sel.nbanks)
		return false;
	for (i = 0; i < a->sel.nbanks; i++)
		if (a->sel.bank[i].alg != b->sel.bank[i].alg ||
		    a->sel.bank[i].pcrs != b->sel.bank[i].pcrs)
			return false;
	return true;
}

TEST(round_trip_challenge)
{
	struct katt_msg in = { .version = 1, .type = KATT_MSG_CHALLENGE }, out;
	struct katt_challenge *c = &in.challenge;

	c->rid = UINT32_MAX;
	seq(c->nonce, 32, 0xa0);
	c->ntypes = KATT_TYPES_MAX;
	for (unsigned int i = 0; i < KATT_TYPES_MAX; i++)
		c->types[i] = 255 - i;
	c->has_sel = true;
	c->sel.nbanks = 4;
	c->sel.bank[0].alg = 0x000b;
	c->sel.bank[0].pcrs = 0xffffff;
	c->sel.bank[1].alg = 0x0004;
	c->sel.bank[1].pcrs = 1u << 23;
	c->sel.bank[2].alg = 0x000c;
	c->sel.bank[2].pcrs = 0x800001;
	c->sel.bank[3].alg = 0x0027;
	c->sel.bank[3].pcrs = 0x10;
	ROUND_TRIP(&in, &out);
	EXPECT_TRUE(same_challenge(c, &out.challenge));

	c->has_sel = false;
	memset(&c->sel, 0, sizeof(c->sel));
	c->ntypes = 1;
	c->rid = 1;
	ROUND_TRIP(&in, &out);
	EXPECT_TRUE(same_challenge(c, &out.challenge));
}

TEST(round_trip_evidence)
{
	static uint8_t value[KATT_MSG_MAX - 100];
	struct katt_msg in = { .version = 1, .type = KATT_MSG_EVIDENCE }, out;
	struct katt_cmw *cmw = &in.evidence.cmw;

	seq(value, sizeof(value), 3);
	in.evidence.rid = 77;
	cmw->type = KATT_MEDIA_TPM2_QUOTE;
	cmw->type_len = strlen(cmw->type);
	cmw->value = value;
	cmw->value_len = sizeof(value);
	cmw->has_ind = true;
	cmw->ind = KATT_CMW_IND_EVIDENCE;
	ROUND_TRIP(&in, &out);
	EXPECT_EQ(77, out.evidence.rid);
	EXPECT_EQ(cmw->type_len, out.evidence.cmw.type_len);
	EXPECT_EQ(0, memcmp(cmw->type, out.evidence.cmw.type, cmw->type_len));
	EXPECT_EQ(sizeof(value), out.evidence.cmw.value_len);
	EXPECT_TRUE(out.evidence.cmw.has_ind);
	EXPECT_EQ(4, out.evidence.cmw.ind);

	cmw->has_ind = false;
	cmw->value_len = 1;
	ROUND_TRIP(&in, &out);
	EXPECT_FALSE(out.evidence.cmw.has_ind);
	EXPECT_EQ(1, out.evidence.cmw.value_len);

	/* a whole message is at most 65536 bytes */
	{
		static uint8_t big[KATT_MSG_MAX], buf[KATT_MSG_MAX + 64];

		cmw->value = big;
		cmw->value_len = sizeof(big);
		EXPECT_EQ(-EMSGSIZE, katt_msg_encode(&in, buf, sizeof(buf)));
	}
}

TEST(round_trip_verdict)
{
	struct katt_msg in = { .version = 1, .type = KATT_MSG_VERDICT }, out;
	struct katt_verdict *v = &in.verdict;

	v->rid = 5;
	v->result = KATT_RESULT_FAIL;
	v->reason = KATT_REASON_REFERENCE_MISMATCH;
	v->has_text = true;
	katt_text_set(&v->text, "PCR sha256:7 is %s, policy expects %s",
		      "00112233", "44556677");
	ROUND_TRIP(&in, &out);
	EXPECT_EQ(5, out.verdict.rid);
	EXPECT_EQ(KATT_RESULT_FAIL, out.verdict.result);
	EXPECT_EQ(7, out.verdict.reason);
	EXPECT_STREQ(v->text.s, out.verdict.text.s);
	EXPECT_EQ(0, out.verdict.valid_for);

	v->result = KATT_RESULT_PASS;
	v->reason = 0;
	v->has_text = false;
	v->valid_for = 3600;
	ROUND_TRIP(&in, &out);
	EXPECT_EQ(KATT_RESULT_PASS, out.verdict.result);
	EXPECT_EQ(3600, out.verdict.valid_for);
	EXPECT_FALSE(out.verdict.has_text);

	/* what the table forbids is never written */
	v->reason = 3;
	EXPECT_EQ(-EINVAL, katt_msg_encode(&in, (uint8_t[64]){ 0 }, 64));
	v->reason = 0;
	v->result = 3;
	EXPECT_EQ(-EINVAL, katt_msg_encode(&in, (uint8_t[64]){ 0 }, 64));
	v->result = 1;
	v->rid = 0;
	EXPECT_EQ(-EINVAL, katt_msg_encode(&in, (uint8_t[64]){ 0 }, 64));
	/* and what does not fit is not written either */
	v->rid = 1;
	EXPECT_EQ(-EMSGSIZE, katt_msg_encode(&in, (uint8_t[8]){ 0 }, 8));
}

TEST(round_trip_error)
{
	struct katt_msg in = { .version = 1, .type = KATT_MSG_ERROR }, out;
	struct katt_error *e = &in.error;

	e->code = KATT_ERR_UNSUPPORTED_VERSION;
	e->nversions = KATT_VERSIONS_MAX;
	for (unsigned int i = 0; i < KATT_VERSIONS_MAX; i++)
		e->versions[i] = i + 1;
	e->has_rid = true;
	e->rid = 9;
	e->has_in_reply_to = true;
	e->in_reply_to = KATT_MSG_CHALLENGE;
	e->has_text = true;
	katt_text_set(&e->text, "%s", "version 2 is not supported: caf\xc3\xa9");
	ROUND_TRIP(&in, &out);
	EXPECT_EQ(e->code, out.error.code);
	EXPECT_EQ(e->nversions, out.error.nversions);
	EXPECT_EQ(0, memcmp(e->versions, out.error.versions,
			    sizeof(e->versions)));
	EXPECT_TRUE(out.error.has_rid);
	EXPECT_EQ(9, out.error.rid);
	EXPECT_TRUE(out.error.has_in_reply_to);
	EXPECT_EQ(KATT_MSG_CHALLENGE, out.error.in_reply_to);
	EXPECT_EQ(e->text.len, out.error.text.len);
	EXPECT_STREQ(e->text.s, out.error.text.s);

	memset(e, 0, sizeof(*e));
	e->code = KATT_ERR_INTERNAL;
	ROUND_TRIP(&in, &out);
	EXPECT_EQ(6, out.error.code);
	EXPECT_FALSE(out.error.has_rid);
	EXPECT_EQ(0, out.error.nversions);

	/* code 1 needs its versions */
	e->code = KATT_ERR_UNSUPPORTED_VERSION;
	EXPECT_EQ(-EINVAL, katt_msg_encode(&in, (uint8_t[64]){ 0 }, 64));
}

/* Texts are cut at a character boundary, never inside a UTF-8 sequence. */
TEST(text_cut_at_character)
{
	struct katt_text t;
	char s[200];

	memset(s, 'a', 126);
	strcpy(s + 126, "\xc3\xa9zzz");		/* U+00E9 over bytes 127 and 128 */
	katt_text_set(&t, "%s", s);
	EXPECT_EQ(126, t.len);
	strcpy(s + 125, "\xc3\xa9zzz");
	katt_text_set(&t, "%s", s);
	EXPECT_EQ(127, t.len);
	EXPECT_EQ('\xa9', t.s[126]);
}

static void fill_quote(struct katt_tpm2_quote *q, uint8_t *blob, size_t blen)
{
	static uint8_t pcr[64];
	unsigned int i;

	memset(q, 0, sizeof(*q));
	seq(blob, blen, 1);
	seq(pcr, sizeof(pcr), 0x80);
	q->attest.p = blob;
	q->attest.len = 145;
	q->sig.p = blob + 1;
	q->sig.len = 72;
	q->ak_pub.p = blob + 2;
	q->ak_pub.len = 90;
	q->pcrs.nbanks = 2;
	q->pcrs.bank[0].alg = 0x000b;
	q->pcrs.bank[0].pcrs = 0xff;
	q->pcrs.bank[0].size = 32;
	for (i = 0; i < 8; i++)
		q->pcrs.bank[0].value[i] = pcr + i;
	q->pcrs.bank[1].alg = 0x0004;
	q->pcrs.bank[1].pcrs = 1u << 23 | 1;
	q->pcrs.bank[1].size = 20;
	q->pcrs.bank[1].value[0] = pcr;
	q->pcrs.bank[1].value[23] = pcr + 23;
}

TEST(round_trip_tpm2_quote)
{
	static uint8_t blob[9000], buf[KATT_MSG_MAX];
	struct katt_tpm2_quote q, out;
	char why[160];
	long n;

	fill_quote(&q, blob, sizeof(blob));
	q.ncerts = 2;
	q.cert[0].p = blob;
	q.cert[0].len = KATT_QUOTE_CERT_MAX;
	q.cert[1].p = blob + 3;
	q.cert[1].len = 1;
	q.nlogs = 2;
	q.log[0].format = KATT_LOG_FORMAT_IMA;
	q.log[0].data.p = blob;
	q.log[0].data.len = 8000;
	q.log[1].format = KATT_LOG_FORMAT_TCG;
	q.log[1].data.p = blob;
	q.log[1].data.len = 0;
	n = katt_tpm2_quote_encode(&q, buf, sizeof(buf));
	ASSERT_LT(0, n);
	ASSERT_EQ(0, katt_tpm2_quote_decode(buf, n, &out, why, sizeof(why)))
		TH_LOG("%s", why);
	EXPECT_EQ(145, out.attest.len);
	EXPECT_EQ(0, memcmp(out.attest.p, blob, 145));
	EXPECT_EQ(72, out.sig.len);
	EXPECT_EQ(0, memcmp(out.sig.p, blob + 1, 72));
	EXPECT_EQ(90, out.ak_pub.len);
	ASSERT_EQ(2, out.pcrs.nbanks);
	EXPECT_EQ(0x000b, out.pcrs.bank[0].alg);
	EXPECT_EQ(0xff, out.pcrs.bank[0].pcrs);
	EXPECT_EQ(32, out.pcrs.bank[0].size);
	EXPECT_EQ(0, memcmp(out.pcrs.bank[0].value[7], q.pcrs.bank[0].value[7], 32));
	EXPECT_EQ(0x0004, out.pcrs.bank[1].alg);
	EXPECT_EQ(1u << 23 | 1, out.pcrs.bank[1].pcrs);
	EXPECT_EQ(0, memcmp(out.pcrs.bank[1].value[23], q.pcrs.bank[1].value[23], 20));
	EXPECT_EQ(2, out.ncerts);
	EXPECT_EQ(KATT_QUOTE_CERT_MAX, out.cert[0].len);
	EXPECT_EQ(2, out.nlogs);
	EXPECT_EQ(KATT_LOG_FORMAT_IMA, out.log[0].format);
	EXPECT_EQ(8000, out.log[0].data.len);
	EXPECT_EQ(0, out.log[1].data.len);

	/* only the AK public, no certificates or logs */
	fill_quote(&q, blob, sizeof(blob));
	n = katt_tpm2_quote_encode(&q, buf, sizeof(buf));
	ASSERT_LT(0, n);
	ASSERT_EQ(0, katt_tpm2_quote_decode(buf, n, &out, why, sizeof(why)))
		TH_LOG("%s", why);
	EXPECT_EQ(0, out.ncerts);
	EXPECT_EQ(0, out.nlogs);

	/* the encoder refuses what the table forbids */
	q.ak_pub.len = 0;
	EXPECT_EQ(-EINVAL, katt_tpm2_quote_encode(&q, buf, sizeof(buf)));
	fill_quote(&q, blob, sizeof(blob));
	q.attest.len = KATT_QUOTE_BLOB_MAX + 1;
	EXPECT_EQ(-EINVAL, katt_tpm2_quote_encode(&q, buf, sizeof(buf)));
	fill_quote(&q, blob, sizeof(blob));
	q.pcrs.bank[1].alg = 0x000b;
	EXPECT_EQ(-EINVAL, katt_tpm2_quote_encode(&q, buf, sizeof(buf)));
	fill_quote(&q, blob, sizeof(blob));
	EXPECT_EQ(-EMSGSIZE, katt_tpm2_quote_encode(&q, buf, 100));
}

/* --- what the encoding rules refuse, in any message ------------------------ */

/*
 * A Request {0: 1, 1: 5} carrying one more key, 20, whose value is @v:
 * ignored values are held to the encoding rules too.
 */
#define REQ_WITH(v)	"a3 00 01 01 05 14 " v

TEST(encoding_accepted)
{
	struct katt_msg m;

	/* unknown keys are ignored, with their values, nested or not */
	EXPECT_DECODES(REQ_WITH("a2 01 82 40 60 02 a1 03 80"), &m);
	EXPECT_EQ(KATT_MSG_REQUEST, m.type);
	/* keys in any order, integers and lengths not in their shortest form */
	EXPECT_DECODES("a2 18 01 19 00 05 1b 00 00 00 00 00 00 00 00 1a 00 00 00 01", &m);
	EXPECT_EQ(KATT_MSG_REQUEST, m.type);
	EXPECT_DECODES(REQ_WITH("59 00 02 aa bb"), &m);
	EXPECT_DECODES(REQ_WITH("78 03 61 62 63"), &m);
	/* valid UTF-8, a NUL included */
	EXPECT_DECODES(REQ_WITH("66 63 61 66 c3 a9 00"), &m);
	EXPECT_DECODES(REQ_WITH("64 f0 9f 98 80"), &m);
	/* 8 levels of maps and arrays: the outer map and 7 inside it */
	EXPECT_DECODES(REQ_WITH("81 81 81 81 81 81 81 00"), &m);
	EXPECT_DECODES(REQ_WITH("81 81 81 81 81 81 a1 00 00"), &m);
	/* 64 entries in an ignored array; 127 bytes of text */
	{
		char h[1024] = REQ_WITH("98 40"), *p = h + strlen(h);

		for (int i = 0; i < 64; i++)
			p += sprintf(p, " 00");
		EXPECT_DECODES(h, &m);
		strcpy(h, REQ_WITH("78 7f"));
		p = h + strlen(h);
		for (int i = 0; i < 127; i++)
			p += sprintf(p, " 61");
		EXPECT_DECODES(h, &m);
	}
}

TEST(garbage)
{
	static const char *const cases[] = {
		"",			/* nothing */
		"00",			/* not a map */
		"41 00",
		"80",
		"ff",			/* a break alone */
		"1c",			/* reserved additional information */
		"5c 00",
		"7f",			/* indefinite text, then nothing */
		"a1 00",		/* a map missing its value */
		"de ad be ef",
	};
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		EXPECT_REFUSED(cases[i], KATT_ERR_MALFORMED);
}

/* Random bytes: decoded or refused, never a crash (ASan/UBSan watch). */
TEST(garbage_random)
{
	static uint8_t buf[512];
	struct katt_decode_err e;
	struct katt_msg m;
	unsigned int seed = 1, i, j, len, ok = 0;

	for (i = 0; i < 20000; i++) {
		len = 1 + rand_r(&seed) % sizeof(buf);
		for (j = 0; j < len; j++)
			buf[j] = rand_r(&seed);
		/* most runs start as a map, to get past the first byte */
		if (i % 4)
			buf[0] = 0xa0 | (rand_r(&seed) % 8);
		if (!katt_msg_decode(buf, len, &m, &e))
			ok++;
		else
			ASSERT_NE(0, e.why[0]);
	}
	TH_LOG("%u of 20000 random inputs decoded", ok);
}

/*
 * Valid messages with one to four bytes changed: decoded or refused with a
 * reason, never a crash or a read outside the input.
 */
TEST(mutated_messages)
{
	static const char *const valid[] = {
		DOC_CHALLENGE,
		"a4 00 01 01 02 02 01 06 83 " MEDIA_HEX " 41 00 04",
		"a6 00 01 01 03 02 01 07 02 08 07 09 62 61 62",
		"a6 00 01 01 04 02 01 0b 01 0c 82 01 02 0d 01",
	};
	unsigned int seed = 7, i, k, n, decoded = 0, runs = 0;
	struct katt_decode_err e;
	struct katt_msg m;
	uint8_t orig[128], b[128];
	size_t len;

	for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		len = unhex(valid[i], orig, sizeof(orig));
		ASSERT_EQ(0, katt_msg_decode(orig, len, &m, &e)) TH_LOG("%s", e.why);
		for (n = 0; n < 5000; n++, runs++) {
			memcpy(b, orig, len);
			for (k = 0; k <= n % 4; k++)
				b[rand_r(&seed) % len] = rand_r(&seed);
			if (!katt_msg_decode(b, len, &m, &e))
				decoded++;
			else
				ASSERT_NE(0, e.why[0]);
		}
	}
	TH_LOG("%u of %u mutated messages still decoded", decoded, runs);
}

/* Every proper prefix of a valid message is refused. */
TEST(truncated)
{
	uint8_t b[64];
	size_t n = unhex(DOC_CHALLENGE, b, sizeof(b)), i;
	struct katt_decode_err e;
	struct katt_msg m;

	for (i = 0; i < n; i++) {
		EXPECT_EQ(-EBADMSG, katt_msg_decode(b, i, &m, &e))
			TH_LOG("prefix of %zu bytes accepted", i);
		EXPECT_EQ(KATT_ERR_MALFORMED, e.code);
	}
	EXPECT_EQ(0, katt_msg_decode(b, n, &m, &e));
}

TEST(trailing_bytes)
{
	EXPECT_REFUSED(DOC_CHALLENGE "00", KATT_ERR_MALFORMED);
	EXPECT_REFUSED("a2 00 01 01 05 a2 00 01 01 05", KATT_ERR_MALFORMED);
	EXPECT_REFUSED("a2 00 01 01 05 ff", KATT_ERR_MALFORMED);
}

/*
 * Declared counts and lengths beyond the bytes that follow are refused
 * before anything is allocated for them (libcbor's cbor_load would
 * allocate from the count).
 */
TEST(oversized_declarations)
{
	/* a map of 2^32 pairs, of 2^64 - 1 pairs, an array of 2^31 entries */
	EXPECT_REFUSED("bb 00 00 00 01 00 00 00 00", KATT_ERR_MALFORMED);
	EXPECT_REFUSED("bb ff ff ff ff ff ff ff ff", KATT_ERR_MALFORMED);
	EXPECT_REFUSED(REQ_WITH("9a 80 00 00 00"), KATT_ERR_MALFORMED);
	/* 64 entries allowed, but not with 10 bytes left */
	EXPECT_REFUSED(REQ_WITH("98 40 00 00 00 00 00 00 00 00 00 00"),
		       KATT_ERR_MALFORMED);
	/* 3 pairs need 6 bytes at least */
	EXPECT_REFUSED(REQ_WITH("a3 00 00 00 00 00"), KATT_ERR_MALFORMED);
	/* byte and text strings longer than the input */
	EXPECT_REFUSED(REQ_WITH("5b 7f ff ff ff ff ff ff ff 00"), KATT_ERR_MALFORMED);
	EXPECT_REFUSED(REQ_WITH("5b ff ff ff ff ff ff ff ff 00"), KATT_ERR_MALFORMED);
	EXPECT_REFUSED(REQ_WITH("5a 00 01 00 00 00"), KATT_ERR_MALFORMED);
	EXPECT_REFUSED(REQ_WITH("7a ff ff ff ff 61"), KATT_ERR_MALFORMED);
	/* more entries than 64, with the bytes for them */
	{
		char h[1024] = REQ_WITH("98 41"), *p = h + strlen(h);

		for (int i = 0; i < 65; i++)
			p += sprintf(p, " 00");
		EXPECT_REFUSED(h, KATT_ERR_MALFORMED);
		/* a text string of 128 bytes */
		strcpy(h, REQ_WITH("78 80"));
		p = h + strlen(h);
		for (int i = 0; i < 128; i++)
			p += sprintf(p, " 61");
		EXPECT_REFUSED(h, KATT_ERR_MALFORMED);
	}
	/* a message larger than 65536 bytes, whatever it holds */
	{
		static uint8_t big[KATT_MSG_MAX + 1];
		struct katt_decode_err e;
		struct katt_msg m;

		big[0] = 0xa0;
		EXPECT_EQ(-EBADMSG, katt_msg_decode(big, sizeof(big), &m, &e));
		EXPECT_EQ(KATT_ERR_MALFORMED, e.code);
	}
}

TEST(duplicate_keys)
{
	EXPECT_REFUSED("a3 00 01 01 05 00 01", KATT_ERR_MALFORMED);
	EXPECT_REFUSED("a3 00 01 01 05 18 01 05", KATT_ERR_MALFORMED);
	/* in an ignored value */
	EXPECT_REFUSED(REQ_WITH("a2 07 00 07 01"), KATT_ERR_MALFORMED);
	/* in a nested map, after a nested value */
	EXPECT_REFUSED(REQ_WITH("a3 01 a1 02 00 03 00 01 00"), KATT_ERR_MALFORMED);
	/* the same key in two different maps is fine */
	{
		struct katt_msg m;

		EXPECT_DECODES(REQ_WITH("82 a1 01 00 a1 01 00"), &m);
	}
	/* a PCR selection naming the same bank twice */
	EXPECT_REFUSED("a6 00 01 01 01 02 01 03 " NONCE_HEX " 04 81 01"
		       "05 a2 0b 81 00 0b 81 01", KATT_ERR_MALFORMED);
}

TEST(indefinite_lengths)
{
	EXPECT_REFUSED("bf 00 01 01 05 ff", KATT_ERR_MALFORMED);
	EXPECT_REFUSED(REQ_WITH("9f 00 ff"), KATT_ERR_MALFORMED);
	EXPECT_REFUSED(REQ_WITH("5f 41 00 ff"), KATT_ERR_MALFORMED);
	EXPECT_REFUSED(REQ_WITH("7f 61 61 ff"), KATT_ERR_MALFORMED);
	EXPECT_REFUSED(REQ_WITH("a1 00 bf ff"), KATT_ERR_MALFORMED);
}

TEST(tags)
{
	EXPECT_REFUSED("d8 18 a2 00 01 01 05", KATT_ERR_MALFORMED);
	EXPECT_REFUSED("c0 a2 00 01 01 05", KATT_ERR_MALFORMED);
	EXPECT_REFUSED(REQ_WITH("c2 41 01"), KATT_ERR_MALFORMED);
	EXPECT_REFUSED(REQ_WITH("d9 d9 f7 00"), KATT_ERR_MALFORMED);
	/* a tagged nonce in a Challenge */
	EXPECT_REFUSED("a5 00 01 01 01 02 01 03 d8 40 " NONCE_HEX " 04 81 01",
		       KATT_ERR_MALFORMED);
}

TEST(other_major_types)
{
	/* negative integers, floats, simple values */
	EXPECT_REFUSED(REQ_WITH("20"), KATT_ERR_MALFORMED);
	EXPECT_REFUSED(REQ_WITH("3b 00 00 00 00 00 00 00 01"), KATT_ERR_MALFORMED);
	EXPECT_REFUSED(REQ_WITH("f9 3c 00"), KATT_ERR_MALFORMED);
	EXPECT_REFUSED(REQ_WITH("fa 3f 80 00 00"), KATT_ERR_MALFORMED);
	EXPECT_REFUSED(REQ_WITH("fb 3f f0 00 00 00 00 00 00"), KATT_ERR_MALFORMED);
	EXPECT_REFUSED(REQ_WITH("f4"), KATT_ERR_MALFORMED);
	EXPECT_REFUSED(REQ_WITH("f5"), KATT_ERR_MALFORMED);
	EXPECT_REFUSED(REQ_WITH("f6"), KATT_ERR_MALFORMED);
	EXPECT_REFUSED(REQ_WITH("f7"), KATT_ERR_MALFORMED);
	EXPECT_REFUSED(REQ_WITH("e0"), KATT_ERR_MALFORMED);
	EXPECT_REFUSED(REQ_WITH("f8 20"), KATT_ERR_MALFORMED);
	/* map keys that are not unsigned integers */
	EXPECT_REFUSED("a3 00 01 01 05 61 61 00", KATT_ERR_MALFORMED);
	EXPECT_REFUSED("a3 00 01 01 05 41 00 00", KATT_ERR_MALFORMED);
	EXPECT_REFUSED("a3 00 01 01 05 20 00", KATT_ERR_MALFORMED);
	EXPECT_REFUSED(REQ_WITH("a1 80 00"), KATT_ERR_MALFORMED);
}

TEST(depth)
{
	/* an array at level 9 */
	EXPECT_REFUSED(REQ_WITH("81 81 81 81 81 81 81 80"), KATT_ERR_MALFORMED);
	EXPECT_REFUSED(REQ_WITH("81 81 81 81 81 81 81 a0"), KATT_ERR_MALFORMED);
	EXPECT_REFUSED(REQ_WITH("81 81 81 81 81 81 81 81 81 81 81 81 00"),
		       KATT_ERR_MALFORMED);
}

TEST(text_not_utf8)
{
	EXPECT_REFUSED(REQ_WITH("61 80"), KATT_ERR_MALFORMED);	/* continuation */
	EXPECT_REFUSED(REQ_WITH("62 c0 80"), KATT_ERR_MALFORMED);	/* overlong NUL */
	EXPECT_REFUSED(REQ_WITH("63 e0 80 80"), KATT_ERR_MALFORMED);	/* overlong */
	EXPECT_REFUSED(REQ_WITH("63 ed a0 80"), KATT_ERR_MALFORMED);	/* surrogate */
	EXPECT_REFUSED(REQ_WITH("64 f4 90 80 80"), KATT_ERR_MALFORMED); /* > U+10FFFF */
	EXPECT_REFUSED(REQ_WITH("62 c3 28"), KATT_ERR_MALFORMED);
	EXPECT_REFUSED(REQ_WITH("61 ff"), KATT_ERR_MALFORMED);
	/* in a Verdict's text */
	EXPECT_REFUSED("a5 00 01 01 03 02 01 07 01 09 61 fe", KATT_ERR_MALFORMED);
}

/* --- versions and types ------------------------------------------------------- */

TEST(unknown_types)
{
	uint8_t b[16];
	struct katt_decode_err e;
	struct katt_msg m;
	size_t n;

	EXPECT_REFUSED("a2 00 01 01 06", KATT_ERR_UNSUPPORTED_TYPE);
	EXPECT_REFUSED("a2 00 01 01 00", KATT_ERR_UNSUPPORTED_TYPE);
	EXPECT_REFUSED("a2 00 01 01 19 03 e8", KATT_ERR_UNSUPPORTED_TYPE);
	/* what the Error answering it says: its type, and its round id */
	n = unhex("a3 00 01 01 18 63 02 1a 00 01 00 00", b, sizeof(b));
	EXPECT_EQ(-EBADMSG, katt_msg_decode(b, n, &m, &e));
	EXPECT_EQ(KATT_ERR_UNSUPPORTED_TYPE, e.code);
	EXPECT_TRUE(e.has_type);
	EXPECT_EQ(99, e.type);
	EXPECT_TRUE(e.has_rid);
	EXPECT_EQ(65536, e.rid);
	EXPECT_EQ(1, e.version);
	/* no type, or not a number: malformed */
	EXPECT_REFUSED("a1 00 01", KATT_ERR_MALFORMED);
	EXPECT_REFUSED("a2 00 01 01 41 01", KATT_ERR_MALFORMED);
}

TEST(versions)
{
	uint8_t b[64];
	struct katt_decode_err e;
	struct katt_msg m;
	size_t n;

	/* a version-2 Challenge is answered with Error 1 */
	n = unhex("a6 00 02 01 01 02 07 03 " NONCE_HEX " 04 81 01 05 00", b,
		  sizeof(b));
	EXPECT_EQ(-EBADMSG, katt_msg_decode(b, n, &m, &e));
	EXPECT_EQ(KATT_ERR_UNSUPPORTED_VERSION, e.code);
	EXPECT_EQ(2, e.version);
	EXPECT_TRUE(e.has_rid);
	EXPECT_EQ(7, e.rid);
	EXPECT_EQ(KATT_MSG_CHALLENGE, e.type);
	/* version 0 and a version-2 message of an unknown type too */
	EXPECT_REFUSED("a2 00 00 01 05", KATT_ERR_UNSUPPORTED_VERSION);
	EXPECT_REFUSED("a2 00 02 01 09", KATT_ERR_UNSUPPORTED_VERSION);
	/* an Error is read in any version (its keys keep their meaning) */
	EXPECT_DECODES("a4 00 03 01 04 0b 01 0c 82 02 03", &m);
	EXPECT_EQ(KATT_MSG_ERROR, m.type);
	EXPECT_EQ(3, m.version);
	EXPECT_EQ(2, m.error.nversions);
	EXPECT_EQ(3, m.error.versions[1]);
	/* no version, or not a number */
	EXPECT_REFUSED("a1 01 05", KATT_ERR_MALFORMED);
	EXPECT_REFUSED("a2 00 61 31 01 05", KATT_ERR_MALFORMED);
}

/* --- field tables ----------------------------------------------------------- */

#define CH_HEAD		"00 01 01 01 02 01 03 " NONCE_HEX

TEST(challenge_fields)
{
	struct katt_msg m;

	EXPECT_DECODES("a5 " CH_HEAD " 04 81 01", &m);
	EXPECT_FALSE(m.challenge.has_sel);
	/* missing fields */
	EXPECT_REFUSED("a4 " CH_HEAD, KATT_ERR_MALFORMED);
	EXPECT_REFUSED("a4 00 01 01 01 02 01 04 81 01", KATT_ERR_MALFORMED);
	EXPECT_REFUSED("a4 00 01 01 01 03 " NONCE_HEX " 04 81 01", KATT_ERR_MALFORMED);
	/* round id out of bounds, or not a number */
	EXPECT_REFUSED("a5 00 01 01 01 02 00 03 " NONCE_HEX " 04 81 01",
		       KATT_ERR_MALFORMED);
	EXPECT_REFUSED("a5 00 01 01 01 02 1b 00 00 00 01 00 00 00 00 03 " NONCE_HEX
		       " 04 81 01", KATT_ERR_MALFORMED);
	EXPECT_REFUSED("a5 00 01 01 01 02 41 01 03 " NONCE_HEX " 04 81 01",
		       KATT_ERR_MALFORMED);
	/* nonce: 31 or 33 bytes, a text string */
	EXPECT_REFUSED("a5 00 01 01 01 02 01 03 58 1f"
		       " 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
		       " 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 04 81 01",
		       KATT_ERR_MALFORMED);
	EXPECT_REFUSED("a5 00 01 01 01 02 01 03 58 21"
		       " 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
		       " 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 04 81 01",
		       KATT_ERR_MALFORMED);
	EXPECT_REFUSED("a5 00 01 01 01 02 01 03 61 61 04 81 01", KATT_ERR_MALFORMED);
	/* types: none, 17, 0, 256, twice, not an array */
	EXPECT_REFUSED("a5 " CH_HEAD " 04 80", KATT_ERR_MALFORMED);
	EXPECT_REFUSED("a5 " CH_HEAD " 04 91 01 02 03 04 05 06 07 08 09 0a 0b 0c"
		       " 0d 0e 0f 10 11", KATT_ERR_MALFORMED);
	EXPECT_REFUSED("a5 " CH_HEAD " 04 81 00", KATT_ERR_MALFORMED);
	EXPECT_REFUSED("a5 " CH_HEAD " 04 81 19 01 00", KATT_ERR_MALFORMED);
	EXPECT_REFUSED("a5 " CH_HEAD " 04 82 01 01", KATT_ERR_MALFORMED);
	EXPECT_REFUSED("a5 " CH_HEAD " 04 01", KATT_ERR_MALFORMED);
	EXPECT_REFUSED("a5 " CH_HEAD " 04 81 41 01", KATT_ERR_MALFORMED);
	/* PCR selection: no bank, 5 banks, no PCR, PCR 24, not ascending,
	 * twice, 25 entries, a bank above 0xffff, not a map, not an array */
	EXPECT_REFUSED("a6 " CH_HEAD " 04 81 01 05 a0", KATT_ERR_MALFORMED);
	EXPECT_REFUSED("a6 " CH_HEAD " 04 81 01 05 a5 01 81 00 02 81 00 03 81 00"
		       " 04 81 00 05 81 00", KATT_ERR_MALFORMED);
	EXPECT_REFUSED("a6 " CH_HEAD " 04 81 01 05 a1 0b 80", KATT_ERR_MALFORMED);
	EXPECT_REFUSED("a6 " CH_HEAD " 04 81 01 05 a1 0b 81 18 18", KATT_ERR_MALFORMED);
	EXPECT_REFUSED("a6 " CH_HEAD " 04 81 01 05 a1 0b 82 01 00", KATT_ERR_MALFORMED);
	EXPECT_REFUSED("a6 " CH_HEAD " 04 81 01 05 a1 0b 82 01 01", KATT_ERR_MALFORMED);
	EXPECT_REFUSED("a6 " CH_HEAD " 04 81 01 05 a1 0b 98 19 00 01 02 03 04 05 06"
		       " 07 08 09 0a 0b 0c 0d 0e 0f 10 11 12 13 14 15 16 17 17",
		       KATT_ERR_MALFORMED);
	EXPECT_REFUSED("a6 " CH_HEAD " 04 81 01 05 a1 1a 00 01 00 00 81 00",
		       KATT_ERR_MALFORMED);
	EXPECT_REFUSED("a6 " CH_HEAD " 04 81 01 05 81 0b", KATT_ERR_MALFORMED);
	EXPECT_REFUSED("a6 " CH_HEAD " 04 81 01 05 a1 0b 00", KATT_ERR_MALFORMED);
	EXPECT_REFUSED("a6 " CH_HEAD " 04 81 01 05 a1 0b 81 41 00", KATT_ERR_MALFORMED);
	/* all 24 PCRs of 4 banks is fine */
	EXPECT_DECODES("a6 " CH_HEAD " 04 81 01 05 a4"
		       " 04 98 18 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10 11 12 13 14 15 16 17"
		       " 0b 98 18 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10 11 12 13 14 15 16 17"
		       " 0c 98 18 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10 11 12 13 14 15 16 17"
		       " 0d 98 18 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10 11 12 13 14 15 16 17",
		       &m);
	EXPECT_EQ(4, m.challenge.sel.nbanks);
	EXPECT_EQ(0xffffff, m.challenge.sel.bank[3].pcrs);
	EXPECT_EQ(0x000d, m.challenge.sel.bank[3].alg);
}

TEST(evidence_fields)
{
	struct katt_msg m;

	EXPECT_DECODES("a4 00 01 01 02 02 01 06 83 " MEDIA_HEX " 41 00 04", &m);
	EXPECT_EQ(KATT_MSG_EVIDENCE, m.type);
	EXPECT_EQ(strlen(KATT_MEDIA_TPM2_QUOTE), m.evidence.cmw.type_len);
	EXPECT_EQ(0, memcmp(KATT_MEDIA_TPM2_QUOTE, m.evidence.cmw.type,
			    m.evidence.cmw.type_len));
	EXPECT_DECODES("a4 00 01 01 02 02 01 06 82 " MEDIA_HEX " 41 00", &m);
	/* a CoAP Content-Format number is no type; any text is one here */
	EXPECT_REFUSED("a4 00 01 01 02 02 01 06 82 19 27 10 41 00", KATT_ERR_MALFORMED);
	EXPECT_DECODES("a4 00 01 01 02 02 01 06 82 61 78 41 00", &m);
	/* no evidence, no round id, a CMW of 1 or 4 entries, an empty value,
	 * a value that is text, an ind that is not a number, not an array */
	EXPECT_REFUSED("a3 00 01 01 02 02 01", KATT_ERR_MALFORMED);
	EXPECT_REFUSED("a3 00 01 01 02 06 82 61 78 41 00", KATT_ERR_MALFORMED);
	EXPECT_REFUSED("a4 00 01 01 02 02 01 06 81 61 78", KATT_ERR_MALFORMED);
	EXPECT_REFUSED("a4 00 01 01 02 02 01 06 84 61 78 41 00 04 00", KATT_ERR_MALFORMED);
	EXPECT_REFUSED("a4 00 01 01 02 02 01 06 82 61 78 40", KATT_ERR_MALFORMED);
	EXPECT_REFUSED("a4 00 01 01 02 02 01 06 82 61 78 61 00", KATT_ERR_MALFORMED);
	EXPECT_REFUSED("a4 00 01 01 02 02 01 06 83 61 78 41 00 41 04", KATT_ERR_MALFORMED);
	EXPECT_REFUSED("a4 00 01 01 02 02 01 06 a1 00 00", KATT_ERR_MALFORMED);
	/* the value's own contents are the appraisal's (protocol.rst: a
	 * Verdict with reason 4, not an Error): any bytes decode here */
	EXPECT_DECODES("a4 00 01 01 02 02 01 06 82 " MEDIA_HEX " 43 ff ff ff", &m);
}

TEST(verdict_fields)
{
	struct katt_msg m;

	EXPECT_DECODES("a5 00 01 01 03 02 01 07 02 08 07", &m);
	EXPECT_EQ(KATT_RESULT_FAIL, m.verdict.result);
	EXPECT_EQ(7, m.verdict.reason);
	/* a reason this code does not know is still a fail */
	EXPECT_DECODES("a5 00 01 01 03 02 01 07 02 08 19 01 00", &m);
	EXPECT_EQ(256, m.verdict.reason);
	/* pass with reason 0 */
	EXPECT_DECODES("a5 00 01 01 03 02 01 07 01 08 00", &m);
	EXPECT_DECODES("a6 00 01 01 03 02 01 07 01 09 60 0a 01", &m);
	EXPECT_EQ(1, m.verdict.valid_for);
	EXPECT_TRUE(m.verdict.has_text);
	EXPECT_EQ(0, m.verdict.text.len);
	/* result 0 or 3, missing, fail without reason, pass with one,
	 * no round id, valid for 0 or 2^32, text as bytes */
	EXPECT_REFUSED("a4 00 01 01 03 02 01 07 00", KATT_ERR_MALFORMED);
	EXPECT_REFUSED("a4 00 01 01 03 02 01 07 03", KATT_ERR_MALFORMED);
	EXPECT_REFUSED("a3 00 01 01 03 02 01", KATT_ERR_MALFORMED);
	EXPECT_REFUSED("a4 00 01 01 03 02 01 07 02", KATT_ERR_MALFORMED);
	EXPECT_REFUSED("a5 00 01 01 03 02 01 07 01 08 01", KATT_ERR_MALFORMED);
	EXPECT_REFUSED("a3 00 01 01 03 07 01", KATT_ERR_MALFORMED);
	EXPECT_REFUSED("a5 00 01 01 03 02 01 07 01 0a 00", KATT_ERR_MALFORMED);
	EXPECT_REFUSED("a5 00 01 01 03 02 01 07 01 0a 1b 00 00 00 01 00 00 00 00",
		       KATT_ERR_MALFORMED);
	EXPECT_REFUSED("a5 00 01 01 03 02 01 07 01 09 41 61", KATT_ERR_MALFORMED);
}

TEST(error_fields)
{
	struct katt_msg m;

	EXPECT_DECODES("a3 00 01 01 04 0b 06", &m);
	EXPECT_EQ(6, m.error.code);
	EXPECT_FALSE(m.error.has_rid);
	/* a code this code does not know is still an Error */
	EXPECT_DECODES("a3 00 01 01 04 0b 18 63", &m);
	/* no code, code 1 without versions, 0 or 9 versions, round id 0,
	 * a version that is not a number, in reply to as text */
	EXPECT_REFUSED("a2 00 01 01 04", KATT_ERR_MALFORMED);
	EXPECT_REFUSED("a3 00 01 01 04 0b 01", KATT_ERR_MALFORMED);
	EXPECT_REFUSED("a4 00 01 01 04 0b 01 0c 80", KATT_ERR_MALFORMED);
	EXPECT_REFUSED("a4 00 01 01 04 0b 01 0c 89 01 01 01 01 01 01 01 01 01",
		       KATT_ERR_MALFORMED);
	EXPECT_REFUSED("a4 00 01 01 04 0b 03 02 00", KATT_ERR_MALFORMED);
	EXPECT_REFUSED("a4 00 01 01 04 0b 01 0c 81 61 31", KATT_ERR_MALFORMED);
	EXPECT_REFUSED("a4 00 01 01 04 0b 03 0d 61 31", KATT_ERR_MALFORMED);
}

/* A malformed message still tells its round id and type when they are readable. */
TEST(malformed_reports_what_it_can)
{
	uint8_t b[64];
	struct katt_decode_err e;
	struct katt_msg m;
	size_t n;

	/* an Evidence for round 12 without its CMW */
	n = unhex("a3 00 01 01 02 02 0c", b, sizeof(b));
	EXPECT_EQ(-EBADMSG, katt_msg_decode(b, n, &m, &e));
	EXPECT_EQ(KATT_ERR_MALFORMED, e.code);
	EXPECT_TRUE(e.has_type);
	EXPECT_EQ(KATT_MSG_EVIDENCE, e.type);
	EXPECT_TRUE(e.has_rid);
	EXPECT_EQ(12, e.rid);
	/* a malformed Error: the caller must not answer it (type 4) */
	n = unhex("a2 00 01 01 04", b, sizeof(b));
	EXPECT_EQ(-EBADMSG, katt_msg_decode(b, n, &m, &e));
	EXPECT_EQ(KATT_MSG_ERROR, e.type);
	/* bytes that are no CBOR at all: nothing known */
	n = unhex("ff ff", b, sizeof(b));
	EXPECT_EQ(-EBADMSG, katt_msg_decode(b, n, &m, &e));
	EXPECT_FALSE(e.has_type);
	EXPECT_FALSE(e.has_rid);
}

/* --- the tpm2-quote value -------------------------------------------------- */

#define EXPECT_QUOTE_REFUSED(h)						\
	do {								\
		static uint8_t _b[4096];				\
		struct katt_tpm2_quote _q;				\
		char _why[160] = "";					\
		size_t _n = unhex((h), _b, sizeof(_b));			\
									\
		EXPECT_EQ(-EBADMSG, katt_tpm2_quote_decode(_b, _n, &_q,	\
							   _why,	\
							   sizeof(_why))) \
			TH_LOG("accepted: %s", (h));			\
		EXPECT_NE(0, _why[0]);					\
	} while (0)

/* attest h'01', signature h'02', AK public h'05' */
#define Q_BLOBS		"01 41 01 02 41 02 05 41 05"
/* PCRs {11: {0: 32 bytes}} */
#define Q_PCRS		"03 a1 0b a1 00 58 20 00 00 00 00 00 00 00 00 00 00"	\
			" 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"	\
			" 00 00 00 00 00 00"

TEST(tpm2_quote_fields)
{
	uint8_t b[4096];
	struct katt_tpm2_quote q;
	char why[160];
	size_t n;

	n = unhex("a4 " Q_BLOBS " " Q_PCRS, b, sizeof(b));
	ASSERT_EQ(0, katt_tpm2_quote_decode(b, n, &q, why, sizeof(why)))
		TH_LOG("%s", why);
	EXPECT_EQ(1, q.pcrs.nbanks);
	EXPECT_EQ(1, q.pcrs.bank[0].pcrs);
	/* an unknown bank: 20 to 64 bytes */
	n = unhex("a4 " Q_BLOBS " 03 a1 19 01 00 a1 00 54 00 00 00 00 00 00 00 00 00"
		  " 00 00 00 00 00 00 00 00 00 00 00", b, sizeof(b));
	EXPECT_EQ(0, katt_tpm2_quote_decode(b, n, &q, why, sizeof(why)))
		TH_LOG("%s", why);

	/* the encoding rules hold inside too: trailing bytes, a tag,
	 * indefinite lengths, a key twice */
	EXPECT_QUOTE_REFUSED("a4 " Q_BLOBS " " Q_PCRS " 00");
	EXPECT_QUOTE_REFUSED("d8 18 a4 " Q_BLOBS " " Q_PCRS);
	EXPECT_QUOTE_REFUSED("bf " Q_BLOBS " " Q_PCRS " ff");
	EXPECT_QUOTE_REFUSED("a5 " Q_BLOBS " " Q_PCRS " 01 41 01");
	/* missing attest, signature, PCRs; neither certificates nor public */
	EXPECT_QUOTE_REFUSED("a3 02 41 02 05 41 05 " Q_PCRS);
	EXPECT_QUOTE_REFUSED("a3 01 41 01 05 41 05 " Q_PCRS);
	EXPECT_QUOTE_REFUSED("a3 " Q_BLOBS);
	EXPECT_QUOTE_REFUSED("a3 01 41 01 02 41 02 " Q_PCRS);
	/* empty or oversized blobs, wrong types */
	EXPECT_QUOTE_REFUSED("a4 01 40 02 41 02 05 41 05 " Q_PCRS);
	EXPECT_QUOTE_REFUSED("a4 01 41 01 02 41 02 05 40 " Q_PCRS);
	EXPECT_QUOTE_REFUSED("a4 01 61 01 02 41 02 05 41 05 " Q_PCRS);
	EXPECT_QUOTE_REFUSED("a4 01 01 02 41 02 05 41 05 " Q_PCRS);
	/* PCRs: a sha256 value of 20 bytes, PCR 24, no banks, an empty
	 * bank, a value as text, an unknown bank of 19 bytes, a bank above
	 * 0xffff */
	EXPECT_QUOTE_REFUSED("a4 " Q_BLOBS " 03 a1 0b a1 00 54 00 00 00 00 00 00 00"
			     " 00 00 00 00 00 00 00 00 00 00 00 00 00");
	EXPECT_QUOTE_REFUSED("a4 " Q_BLOBS " 03 a1 04 a1 18 18 54 00 00 00 00 00 00"
			     " 00 00 00 00 00 00 00 00 00 00 00 00 00 00");
	EXPECT_QUOTE_REFUSED("a4 " Q_BLOBS " 03 a0");
	EXPECT_QUOTE_REFUSED("a4 " Q_BLOBS " 03 a1 0b a0");
	EXPECT_QUOTE_REFUSED("a4 " Q_BLOBS " 03 a1 04 a1 00 74 00 00 00 00 00 00 00"
			     " 00 00 00 00 00 00 00 00 00 00 00 00 00");
	EXPECT_QUOTE_REFUSED("a4 " Q_BLOBS " 03 a1 19 01 00 a1 00 53 00 00 00 00 00"
			     " 00 00 00 00 00 00 00 00 00 00 00 00 00 00");
	EXPECT_QUOTE_REFUSED("a4 " Q_BLOBS " 03 a1 1a 00 01 00 00 a1 00 54 00 00 00"
			     " 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00");
	EXPECT_QUOTE_REFUSED("a4 " Q_BLOBS " 03 81 00");
	/* AK certificates: none, five, an empty one, not bytes */
	EXPECT_QUOTE_REFUSED("a5 " Q_BLOBS " " Q_PCRS " 04 80");
	EXPECT_QUOTE_REFUSED("a5 " Q_BLOBS " " Q_PCRS " 04 85 41 00 41 00 41 00 41 00 41 00");
	EXPECT_QUOTE_REFUSED("a5 " Q_BLOBS " " Q_PCRS " 04 81 40");
	EXPECT_QUOTE_REFUSED("a5 " Q_BLOBS " " Q_PCRS " 04 81 61 00");
	/* logs: none, three, format 3, two of one format, not a pair */
	EXPECT_QUOTE_REFUSED("a5 " Q_BLOBS " " Q_PCRS " 06 80");
	EXPECT_QUOTE_REFUSED("a5 " Q_BLOBS " " Q_PCRS " 06 83 82 01 40 82 02 40 82 01 40");
	EXPECT_QUOTE_REFUSED("a5 " Q_BLOBS " " Q_PCRS " 06 81 82 03 40");
	EXPECT_QUOTE_REFUSED("a5 " Q_BLOBS " " Q_PCRS " 06 82 82 01 40 82 01 40");
	EXPECT_QUOTE_REFUSED("a5 " Q_BLOBS " " Q_PCRS " 06 81 81 01");
	EXPECT_QUOTE_REFUSED("a5 " Q_BLOBS " " Q_PCRS " 06 81 82 01 60");
	EXPECT_QUOTE_REFUSED("a5 " Q_BLOBS " " Q_PCRS " 06 81 01");
	/* not a map */
	EXPECT_QUOTE_REFUSED("41 00");
}

/* --- the reader itself ---------------------------------------------------- */

TEST(reader_tree)
{
	uint8_t b[64];
	struct katt_cbor_doc doc;
	char why[128];
	size_t n;
	int v;

	/* {1: [h'aa', "b", {}], 2: 7} */
	n = unhex("a2 01 83 41 aa 61 62 a0 02 07", b, sizeof(b));
	ASSERT_EQ(0, katt_cbor_parse(b, n, &doc, why, sizeof(why))) TH_LOG("%s", why);
	ASSERT_EQ(8, doc.nitems);
	EXPECT_EQ(8, doc.items[0].end);
	v = katt_cbor_map_get(&doc, 0, 1);
	ASSERT_EQ(2, v);
	EXPECT_EQ(KATT_CBOR_ARRAY, doc.items[v].type);
	EXPECT_EQ(3, doc.items[v].count);
	EXPECT_EQ(6, doc.items[v].end);
	EXPECT_EQ(KATT_CBOR_BSTR, doc.items[3].type);
	EXPECT_EQ(0xaa, doc.items[3].str[0]);
	EXPECT_EQ(KATT_CBOR_MAP, doc.items[5].type);
	v = katt_cbor_map_get(&doc, 0, 2);
	ASSERT_EQ(7, v);
	EXPECT_EQ(7, doc.items[v].uint);
	EXPECT_EQ(-1, katt_cbor_map_get(&doc, 0, 3));
	EXPECT_EQ(-1, katt_cbor_map_get(&doc, 2, 0));
	katt_cbor_free(&doc);

	/* a top-level scalar parses; deciding it is no message is proto's */
	n = unhex("1b ff ff ff ff ff ff ff ff", b, sizeof(b));
	ASSERT_EQ(0, katt_cbor_parse(b, n, &doc, why, sizeof(why)));
	EXPECT_EQ(UINT64_MAX, doc.items[0].uint);
	katt_cbor_free(&doc);
}

TEST(writer_overflow)
{
	struct katt_cbor_writer w;
	uint8_t b[4];

	katt_cbor_writer_init(&w, b, sizeof(b));
	katt_cbor_put_uint(&w, 1);
	katt_cbor_put_bstr(&w, "abc", 3);
	EXPECT_EQ(-EMSGSIZE, katt_cbor_writer_end(&w));
	katt_cbor_writer_init(&w, b, sizeof(b));
	katt_cbor_put_uint(&w, 0x10000);
	EXPECT_EQ(-EMSGSIZE, katt_cbor_writer_end(&w));
	katt_cbor_writer_init(&w, b, sizeof(b));
	katt_cbor_put_uint(&w, 0x1000);
	katt_cbor_put_uint(&w, 1);
	EXPECT_EQ(4, katt_cbor_writer_end(&w));
	EXPECT_EQ(0x19, b[0]);
}

TEST_HARNESS_MAIN
