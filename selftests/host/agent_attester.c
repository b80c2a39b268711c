// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of the agent's attester role (agent/attester.c, ak.c,
 * tpm.c) against a real software TPM that each test starts for itself
 * (swtpm on unix sockets in a throwaway directory, through tpm2-tss's
 * swtpm TCTI), built with AddressSanitizer and UBSan.
 *
 * The attestation key: created once in the state directory and loaded
 * from it afterwards (the same Name, after a TPM Reset too), ECC by
 * default and RSA on request, refused when it belongs to another TPM or is
 * not of the configured type.  The answers to Challenges: Evidence exactly
 * as protocol.rst's tpm2-quote says (CMW type and ind, the AK public, the
 * binder in extraData, the PCR map holding exactly what was quoted), each
 * verified by tpm2-tools' tpm2_checkquote with the same nonce, PCRs and
 * AK; Errors for what cannot be quoted; quotes taken while another
 * connection extends the quoted PCR (quoted again until the values match,
 * or Error 6); event logs sent only when they fit.
 *
 * Without swtpm every test is skipped.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_tctildr.h>

#include "kselftest_harness.h"

#include "attester.h"
#include "binder.h"
#include "checkquote.h"
#include "proto.h"
#include "swtpm.h"
#include "tpm_crypto.h"

#define SHA1		0x0004
#define SHA256		0x000b
#define SHA384		0x000c
#define SHA512		0x000d
#define SM3		0x0012

/* The 6.1 harness runs the body after a SKIP in the setup. */
#define READY()		do { if (self->skip) return; } while (0)

static const struct katt_pcr_sel sha256_0_7 = {
	.nbanks = 1,
	.bank = { { .alg = SHA256, .pcrs = 0xff } },
};

static void binding(struct katt_binding *b, bool server)
{
	unsigned int i;

	memset(b, 0, sizeof(*b));
	for (i = 0; i < 32; i++) {
		b->exporter[i] = i;
		b->local_key[i] = 0x40 + i;
		b->peer_key[i] = 0x80 + i;
	}
	b->has_local_key = b->has_peer_key = true;
	b->tls_server = server;
}

static void challenge(struct katt_msg *m, uint32_t rid,
		      const struct katt_pcr_sel *sel)
{
	unsigned int i;

	memset(m, 0, sizeof(*m));
	m->version = 1;
	m->type = KATT_MSG_CHALLENGE;
	m->challenge.rid = rid;
	for (i = 0; i < 32; i++)
		m->challenge.nonce[i] = rid * 7 + i;
	m->challenge.ntypes = 1;
	m->challenge.types[0] = KATT_EV_TPM2_QUOTE;
	if (sel) {
		m->challenge.has_sel = true;
		m->challenge.sel = *sel;
	}
}

static char *make_dir(char *tmpl)
{
	return mkdtemp(tmpl);
}

FIXTURE(att) {
	bool skip;
	struct swtpm tpm;
	char state[64];
	char work[64];
	struct katt_attester_config cfg;
	struct katt_attester *a;
	uint8_t out[KATT_MSG_MAX];
};

FIXTURE_SETUP(att)
{
	int ret;

	self->a = NULL;
	self->skip = false;
	ret = swtpm_start(&self->tpm);
	if (ret == -2) {
		self->skip = true;
		SKIP(return, "swtpm is not installed");
	}
	ASSERT_EQ(0, ret);
	strcpy(self->state, "/tmp/katt-state.XXXXXX");
	strcpy(self->work, "/tmp/katt-work.XXXXXX");
	ASSERT_NE(NULL, make_dir(self->state));
	ASSERT_NE(NULL, make_dir(self->work));
	memset(&self->cfg, 0, sizeof(self->cfg));
	self->cfg.tcti = self->tpm.tcti;
	self->cfg.state_dir = self->state;
	self->cfg.default_sel = sha256_0_7;
	ASSERT_EQ(0, katt_attester_open(&self->cfg, &self->a));
}

FIXTURE_TEARDOWN(att)
{
	katt_attester_close(self->a);
	swtpm_destroy(&self->tpm);
	if (self->state[0])
		run_cmd("rm -rf '%s' '%s'", self->state, self->work);
}

/*
 * Decodes the Evidence in @buf into @m and its tpm2-quote value into @q,
 * and checks the envelope: type, round id, CMW type and ind.
 */
#define DECODE_EVIDENCE(buf, len, want_rid, m, q)				\
	do {								\
		struct katt_decode_err _e;				\
		char _why[160];						\
									\
		ASSERT_EQ(0, katt_msg_decode((buf), (len), (m), &_e))	\
			TH_LOG("%s", _e.why);				\
		ASSERT_EQ(KATT_MSG_EVIDENCE, (m)->type);		\
		EXPECT_EQ((want_rid), (m)->evidence.rid);		\
		EXPECT_EQ(1, (m)->version);				\
		ASSERT_EQ(strlen(KATT_MEDIA_TPM2_QUOTE),		\
			  (m)->evidence.cmw.type_len);			\
		EXPECT_EQ(0, memcmp(KATT_MEDIA_TPM2_QUOTE,		\
				    (m)->evidence.cmw.type,		\
				    (m)->evidence.cmw.type_len));	\
		EXPECT_TRUE((m)->evidence.cmw.has_ind);			\
		EXPECT_EQ(KATT_CMW_IND_EVIDENCE, (m)->evidence.cmw.ind); \
		ASSERT_EQ(0, katt_tpm2_quote_decode((m)->evidence.cmw.value, \
						    (m)->evidence.cmw.value_len, \
						    (q), _why, sizeof(_why))) \
			TH_LOG("%s", _why);				\
	} while (0)

/* The TPMS_ATTEST of a quote value. */
static int attest_of(const struct katt_tpm2_quote *q, TPMS_ATTEST *info)
{
	size_t off = 0;

	if (Tss2_MU_TPMS_ATTEST_Unmarshal(q->attest.p, q->attest.len, &off, info))
		return -1;
	return off == q->attest.len ? 0 : -1;
}

/* Whether the PCR map of @q holds exactly the PCRs of @sel, in its order. */
static bool map_is(const struct katt_tpm2_quote *q, const TPML_PCR_SELECTION *sel)
{
	struct katt_pcr_sel s;
	unsigned int i, n = 0;

	if (katt_pcr_sel_from_tpml(sel, &s))
		return false;
	for (i = 0; i < s.nbanks; i++) {
		if (!s.bank[i].pcrs)
			continue;
		if (n >= q->pcrs.nbanks || q->pcrs.bank[n].alg != s.bank[i].alg ||
		    q->pcrs.bank[n].pcrs != s.bank[i].pcrs)
			return false;
		n++;
	}
	return n == q->pcrs.nbanks;
}

/* --- the attestation key ------------------------------------------------ */

TEST_F(att, ak_created_once_and_kept)
{
	uint8_t pub1[1024], priv1[2048], pub2[1024], priv2[2048];
	char path[128];
	TPM2B_NAME name;
	struct stat st;
	long n1, n2, m1, m2;
	FILE *f;

	READY();
	name = katt_attester_ak(self->a)->name;
	EXPECT_EQ(TPM2_ALG_ECC, katt_attester_ak(self->a)->pub.publicArea.type);
	EXPECT_EQ(34, name.size);
	snprintf(path, sizeof(path), "%s/ak.priv", self->state);
	ASSERT_EQ(0, stat(path, &st));
	EXPECT_EQ(0600, st.st_mode & 0777);
	snprintf(path, sizeof(path), "%s/ak.pub", self->state);
	ASSERT_EQ(0, stat(path, &st));
	f = fopen(path, "rb");
	ASSERT_NE(NULL, f);
	n1 = fread(pub1, 1, sizeof(pub1), f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/ak.priv", self->state);
	f = fopen(path, "rb");
	ASSERT_NE(NULL, f);
	m1 = fread(priv1, 1, sizeof(priv1), f);
	fclose(f);

	/* the same AK after the agent restarts, and after a TPM Reset */
	katt_attester_close(self->a);
	self->a = NULL;
	swtpm_stop(&self->tpm);
	ASSERT_EQ(0, swtpm_resume(&self->tpm, NULL));
	ASSERT_EQ(0, katt_attester_open(&self->cfg, &self->a));
	EXPECT_EQ(name.size, katt_attester_ak(self->a)->name.size);
	EXPECT_EQ(0, memcmp(name.name, katt_attester_ak(self->a)->name.name,
			    name.size));
	snprintf(path, sizeof(path), "%s/ak.pub", self->state);
	f = fopen(path, "rb");
	ASSERT_NE(NULL, f);
	n2 = fread(pub2, 1, sizeof(pub2), f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/ak.priv", self->state);
	f = fopen(path, "rb");
	ASSERT_NE(NULL, f);
	m2 = fread(priv2, 1, sizeof(priv2), f);
	fclose(f);
	EXPECT_EQ(n1, n2);
	EXPECT_EQ(0, memcmp(pub1, pub2, n1));
	EXPECT_EQ(m1, m2);
	EXPECT_EQ(0, memcmp(priv1, priv2, m1));

	/* what Evidence carries is the file's content */
	EXPECT_EQ(n1, katt_attester_ak(self->a)->pub_blob_len);
	EXPECT_EQ(0, memcmp(pub1, katt_attester_ak(self->a)->pub_blob, n1));
}

TEST_F(att, ak_attributes)
{
	const TPMT_PUBLIC *p;

	READY();
	p = &katt_attester_ak(self->a)->pub.publicArea;
	EXPECT_TRUE(p->objectAttributes & TPMA_OBJECT_RESTRICTED);
	EXPECT_TRUE(p->objectAttributes & TPMA_OBJECT_SIGN_ENCRYPT);
	EXPECT_TRUE(p->objectAttributes & TPMA_OBJECT_FIXEDTPM);
	EXPECT_TRUE(p->objectAttributes & TPMA_OBJECT_FIXEDPARENT);
	EXPECT_FALSE(p->objectAttributes & TPMA_OBJECT_DECRYPT);
	EXPECT_EQ(TPM2_ALG_ECDSA, p->parameters.eccDetail.scheme.scheme);
	EXPECT_EQ(TPM2_ALG_SHA256,
		  p->parameters.eccDetail.scheme.details.ecdsa.hashAlg);
	EXPECT_EQ(TPM2_ECC_NIST_P256, p->parameters.eccDetail.curveID);
}

TEST_F(att, ak_of_other_type_refused)
{
	struct katt_attester *b = NULL;
	struct katt_attester_config cfg = self->cfg;

	READY();
	katt_attester_close(self->a);
	self->a = NULL;
	cfg.ak_type = TPM2_ALG_RSA;
	EXPECT_EQ(-EEXIST, katt_attester_open(&cfg, &b));
	EXPECT_EQ(NULL, b);
}

/* The AK kept for one TPM does not load on another. */
TEST_F(att, ak_of_another_tpm_refused)
{
	struct katt_attester_config cfg = self->cfg;
	struct katt_attester *b = NULL;
	struct swtpm other;

	READY();
	ASSERT_EQ(0, swtpm_start(&other));
	cfg.tcti = other.tcti;
	EXPECT_EQ(-EKEYREJECTED, katt_attester_open(&cfg, &b));
	EXPECT_EQ(NULL, b);
	swtpm_destroy(&other);
}

/* A state directory that is a file, or cannot be made. */
TEST_F(att, state_dir_unusable)
{
	struct katt_attester_config cfg = self->cfg;
	struct katt_attester *b = NULL;
	char path[128];

	READY();
	snprintf(path, sizeof(path), "%s/ak.pub", self->state);
	cfg.state_dir = path;
	EXPECT_EQ(-ENOTDIR, katt_attester_open(&cfg, &b));
	cfg.state_dir = "/nonexistent/katt/state";
	EXPECT_EQ(-ENOENT, katt_attester_open(&cfg, &b));
	/* a garbled ak.pub is refused, not replaced */
	ASSERT_EQ(0, run_cmd("echo garbage > '%s/ak.pub'", self->state));
	cfg.state_dir = self->state;
	EXPECT_EQ(-EINVAL, katt_attester_open(&cfg, &b));
}

TEST(ak_rsa)
{
	struct katt_attester_config cfg = { .default_sel = sha256_0_7,
					    .ak_type = TPM2_ALG_RSA };
	static uint8_t out[KATT_MSG_MAX];
	char state[] = "/tmp/katt-state.XXXXXX", work[] = "/tmp/katt-work.XXXXXX";
	struct katt_attester *a = NULL;
	enum katt_msg_type reply;
	struct katt_tpm2_quote q;
	struct katt_binding b;
	uint8_t binder[32];
	struct katt_msg ch, m;
	struct swtpm tpm;
	TPMS_ATTEST info;
	long len;
	int ret;

	ret = swtpm_start(&tpm);
	if (ret == -2)
		SKIP(return, "swtpm is not installed");
	ASSERT_EQ(0, ret);
	ASSERT_NE(NULL, make_dir(state));
	ASSERT_NE(NULL, make_dir(work));
	cfg.tcti = tpm.tcti;
	cfg.state_dir = state;
	ASSERT_EQ(0, katt_attester_open(&cfg, &a));
	EXPECT_EQ(TPM2_ALG_RSA, katt_attester_ak(a)->pub.publicArea.type);
	EXPECT_EQ(2048, katt_attester_ak(a)->pub.publicArea.parameters.rsaDetail.keyBits);

	binding(&b, true);
	challenge(&ch, 3, NULL);
	len = katt_attester_answer(a, &ch, &b, out, sizeof(out), &reply);
	ASSERT_LT(0, len);
	ASSERT_EQ(KATT_MSG_EVIDENCE, reply);
	DECODE_EVIDENCE(out, len, 3, &m, &q);
	ASSERT_EQ(0, attest_of(&q, &info));
	ASSERT_EQ(0, katt_binder_attester(&b, ch.challenge.nonce, binder));
	EXPECT_EQ(0, checkquote_value(work, &q, binder, 32))
		checkquote_show(work);
	katt_attester_close(a);
	swtpm_destroy(&tpm);
	run_cmd("rm -rf '%s' '%s'", state, work);
}

/* --- Evidence ------------------------------------------------------------- */

TEST_F(att, evidence_as_specified)
{
	struct katt_pcr_sel sel = {
		.nbanks = 2,
		.bank = { { .alg = SHA256, .pcrs = 0xff },
			  { .alg = SHA1, .pcrs = 1u << 23 | 1 } },
	};
	enum katt_msg_type reply;
	struct katt_tpm2_quote q;
	uint8_t binder[32];
	struct katt_binding b;
	struct katt_msg ch, m;
	TPMS_ATTEST info;
	TPM2B_PUBLIC pub = { 0 };
	size_t off = 0;
	long len;

	READY();
	binding(&b, false);
	challenge(&ch, 41, &sel);
	len = katt_attester_answer(self->a, &ch, &b, self->out,
				   sizeof(self->out), &reply);
	ASSERT_LT(0, len);
	ASSERT_EQ(KATT_MSG_EVIDENCE, reply);
	EXPECT_GE(KATT_EVIDENCE_MAX, len);
	DECODE_EVIDENCE(self->out, len, 41, &m, &q);

	/* the AK public, as kept */
	ASSERT_EQ(0, Tss2_MU_TPM2B_PUBLIC_Unmarshal(q.ak_pub.p, q.ak_pub.len,
						    &off, &pub));
	EXPECT_EQ(q.ak_pub.len, off);
	EXPECT_EQ(0, memcmp(q.ak_pub.p, katt_attester_ak(self->a)->pub_blob,
			    q.ak_pub.len));
	EXPECT_EQ(0, q.ncerts);
	EXPECT_EQ(0, q.nlogs);

	/* the quote: the binder in extraData, exactly the PCRs asked for */
	ASSERT_EQ(0, attest_of(&q, &info));
	EXPECT_EQ(TPM2_GENERATED_VALUE, info.magic);
	EXPECT_EQ(TPM2_ST_ATTEST_QUOTE, info.type);
	ASSERT_EQ(0, katt_binder_attester(&b, ch.challenge.nonce, binder));
	ASSERT_EQ(32, info.extraData.size);
	EXPECT_EQ(0, memcmp(binder, info.extraData.buffer, 32));
	EXPECT_TRUE(map_is(&q, &info.attested.quote.pcrSelect));
	ASSERT_EQ(2, q.pcrs.nbanks);
	EXPECT_EQ(SHA256, q.pcrs.bank[0].alg);
	EXPECT_EQ(0xff, q.pcrs.bank[0].pcrs);
	EXPECT_EQ(SHA1, q.pcrs.bank[1].alg);
	EXPECT_EQ(1u << 23 | 1, q.pcrs.bank[1].pcrs);

	/* and tpm2-tools agrees, with the same nonce, PCRs and AK */
	EXPECT_EQ(0, checkquote_value(self->work, &q, binder, 32))
		checkquote_show(self->work);
	/* a wrong nonce it refuses */
	binder[0] ^= 1;
	EXPECT_NE(0, checkquote_value(self->work, &q, binder, 32));
}

/* Without a PCR selection in the Challenge, the configured default. */
TEST_F(att, default_selection)
{
	enum katt_msg_type reply;
	struct katt_tpm2_quote q;
	struct katt_binding b;
	uint8_t binder[32];
	struct katt_msg ch, m;
	long len;

	READY();
	binding(&b, true);
	challenge(&ch, 1, NULL);
	len = katt_attester_answer(self->a, &ch, &b, self->out,
				   sizeof(self->out), &reply);
	ASSERT_LT(0, len);
	ASSERT_EQ(KATT_MSG_EVIDENCE, reply);
	DECODE_EVIDENCE(self->out, len, 1, &m, &q);
	ASSERT_EQ(1, q.pcrs.nbanks);
	EXPECT_EQ(SHA256, q.pcrs.bank[0].alg);
	EXPECT_EQ(0xff, q.pcrs.bank[0].pcrs);
	ASSERT_EQ(0, katt_binder_attester(&b, ch.challenge.nonce, binder));
	EXPECT_EQ(0, checkquote_value(self->work, &q, binder, 32))
		checkquote_show(self->work);
}

/* Every bank swtpm allocates, all 24 PCRs each: 96 values in one quote. */
TEST_F(att, every_bank)
{
	struct katt_pcr_sel sel = {
		.nbanks = 4,
		.bank = { { .alg = SHA1, .pcrs = 0xffffff },
			  { .alg = SHA256, .pcrs = 0xffffff },
			  { .alg = SHA384, .pcrs = 0xffffff },
			  { .alg = SHA512, .pcrs = 0xffffff } },
	};
	enum katt_msg_type reply;
	struct katt_tpm2_quote q;
	struct katt_binding b;
	uint8_t binder[32];
	struct katt_msg ch, m;
	long len;

	READY();
	binding(&b, true);
	challenge(&ch, 2, &sel);
	len = katt_attester_answer(self->a, &ch, &b, self->out,
				   sizeof(self->out), &reply);
	ASSERT_LT(0, len);
	ASSERT_EQ(KATT_MSG_EVIDENCE, reply);
	DECODE_EVIDENCE(self->out, len, 2, &m, &q);
	ASSERT_EQ(4, q.pcrs.nbanks);
	EXPECT_EQ(64, q.pcrs.bank[3].size);
	ASSERT_EQ(0, katt_binder_attester(&b, ch.challenge.nonce, binder));
	EXPECT_EQ(0, checkquote_value(self->work, &q, binder, 32))
		checkquote_show(self->work);
}

/* The binder follows the TLS role: the server's quote is not the client's. */
TEST_F(att, binder_follows_role)
{
	struct katt_binding server, client;
	TPMS_ATTEST si, ci;
	struct katt_quote q;
	uint8_t bs[32], bc[32];
	TPML_PCR_SELECTION sel;
	size_t off;

	READY();
	binding(&server, true);
	binding(&client, false);
	katt_pcr_sel_to_tpml(&sha256_0_7, &sel);
	ASSERT_EQ(0, katt_binder_attester(&server, (uint8_t[32]){ 1 }, bs));
	ASSERT_EQ(0, katt_binder_attester(&client, (uint8_t[32]){ 1 }, bc));
	EXPECT_NE(0, memcmp(bs, bc, 32));
	ASSERT_EQ(0, katt_attester_quote(self->a, bs, &sel, &q));
	off = 0;
	ASSERT_EQ(0, Tss2_MU_TPMS_ATTEST_Unmarshal(q.attest, q.attest_len, &off, &si));
	ASSERT_EQ(0, katt_attester_quote(self->a, bc, &sel, &q));
	off = 0;
	ASSERT_EQ(0, Tss2_MU_TPMS_ATTEST_Unmarshal(q.attest, q.attest_len, &off, &ci));
	EXPECT_EQ(0, memcmp(si.extraData.buffer, bs, 32));
	EXPECT_EQ(0, memcmp(ci.extraData.buffer, bc, 32));
	EXPECT_EQ(1, q.attempts);
}

/* --- Errors ---------------------------------------------------------------- */

/* Answers @ch; expects an Error @code for round @rid, and returns its text. */
#define EXPECT_ERROR(ch, want_code, text)					\
	do {								\
		enum katt_msg_type _r;					\
		struct katt_decode_err _e;				\
		struct katt_binding _b;					\
		struct katt_msg _m;					\
		long _n;						\
									\
		binding(&_b, true);					\
		_n = katt_attester_answer(self->a, (ch), &_b, self->out, \
					  sizeof(self->out), &_r);	\
		ASSERT_LT(0, _n);					\
		ASSERT_EQ(KATT_MSG_ERROR, _r);				\
		ASSERT_EQ(0, katt_msg_decode(self->out, _n, &_m, &_e));	\
		ASSERT_EQ(KATT_MSG_ERROR, _m.type);			\
		EXPECT_EQ((want_code), _m.error.code);		\
		EXPECT_TRUE(_m.error.has_rid);				\
		EXPECT_EQ((ch)->challenge.rid, _m.error.rid);		\
		EXPECT_TRUE(_m.error.has_in_reply_to);			\
		EXPECT_EQ(KATT_MSG_CHALLENGE, _m.error.in_reply_to);	\
		EXPECT_TRUE(_m.error.has_text);				\
		snprintf((text), sizeof(text), "%s", _m.error.text.s);	\
	} while (0)

TEST_F(att, cannot_attest)
{
	struct katt_pcr_sel sel = { .nbanks = 2 };
	struct katt_msg ch;
	char text[128];

	READY();
	/* no evidence type this attester produces */
	challenge(&ch, 9, NULL);
	ch.challenge.ntypes = 2;
	ch.challenge.types[0] = KATT_EV_EAR_CWT;
	ch.challenge.types[1] = 200;
	EXPECT_ERROR(&ch, KATT_ERR_CANNOT_ATTEST, text);
	EXPECT_NE(NULL, strstr(text, "evidence type")) TH_LOG("%s", text);

	/* a bank swtpm has not allocated (SM3), or one nobody knows */
	sel.bank[0].alg = SHA256;
	sel.bank[0].pcrs = 1;
	sel.bank[1].alg = SM3;
	sel.bank[1].pcrs = 1;
	challenge(&ch, 10, &sel);
	EXPECT_ERROR(&ch, KATT_ERR_CANNOT_ATTEST, text);
	EXPECT_NE(NULL, strstr(text, "sm3_256")) TH_LOG("%s", text);
	sel.bank[1].alg = 0x0027;
	challenge(&ch, 11, &sel);
	EXPECT_ERROR(&ch, KATT_ERR_CANNOT_ATTEST, text);
	EXPECT_NE(NULL, strstr(text, "0x0027")) TH_LOG("%s", text);
}

/* A TPM that went away: Error 6, internal. */
TEST_F(att, tpm_gone)
{
	struct katt_msg ch;
	char text[128];

	READY();
	swtpm_stop(&self->tpm);
	challenge(&ch, 12, NULL);
	EXPECT_ERROR(&ch, KATT_ERR_INTERNAL, text);
	EXPECT_NE(NULL, strstr(text, "TPM")) TH_LOG("%s", text);
}

/* --- PCRs that change while being quoted -------------------------------- */

struct extender {
	const char *tcti;
	volatile bool stop;
	unsigned int extends;
};

/* Extends PCR 16 (sha256) over its own TPM connection until told to stop. */
static void *extend_loop(void *arg)
{
	struct extender *x = arg;
	TPML_DIGEST_VALUES v = {
		.count = 1,
		.digests = { { .hashAlg = TPM2_ALG_SHA256 } },
	};
	TSS2_TCTI_CONTEXT *tcti = NULL;
	ESYS_CONTEXT *esys = NULL;
	ESYS_TR pcr16 = ESYS_TR_PCR16;

	if (Tss2_TctiLdr_Initialize(x->tcti, &tcti) ||
	    Esys_Initialize(&esys, tcti, NULL))
		return NULL;
	while (!x->stop) {
		v.digests[0].digest.sha256[0]++;
		if (Esys_PCR_Extend(esys, pcr16, ESYS_TR_PASSWORD, ESYS_TR_NONE,
				    ESYS_TR_NONE, &v))
			break;
		x->extends++;
	}
	Esys_Finalize(&esys);
	Tss2_TctiLdr_Finalize(&tcti);
	return NULL;
}

/*
 * Quotes of PCR 16 while another connection extends it without pause:
 * each quote either comes with values that hash to its digest (quoted
 * again as often as it took) or fails with -EAGAIN after three quotes;
 * none carries values the quote did not sign.
 */
TEST_F(att, pcr_race_quotes_again)
{
	struct katt_pcr_sel s16 = {
		.nbanks = 1, .bank = { { .alg = SHA256, .pcrs = 1u << 16 } },
	};
	struct extender x = { .tcti = self->tpm.tcti };
	unsigned int i, ok = 0, again = 0, requoted = 0;
	struct katt_pcr_values values;
	TPML_PCR_SELECTION sel;
	struct katt_quote q;
	uint8_t binder[32] = { 5 };
	pthread_t th;
	int ret;

	READY();
	katt_pcr_sel_to_tpml(&s16, &sel);
	ASSERT_EQ(0, pthread_create(&th, NULL, extend_loop, &x));
	for (i = 0; i < 12; i++) {
		ret = katt_attester_quote(self->a, binder, &sel, &q);
		ASSERT_TRUE(ret == 0 || ret == -EAGAIN) TH_LOG("quote: %d", ret);
		if (ret == -EAGAIN) {
			again++;
			continue;
		}
		ok++;
		if (q.attempts > 1)
			requoted++;
		/* what is sent verifies */
		{
			struct katt_tpm2_quote v = {
				.attest = { q.attest, q.attest_len },
				.sig = { q.sig, q.sig_len },
				.ak_pub = { katt_attester_ak(self->a)->pub_blob,
					    katt_attester_ak(self->a)->pub_blob_len },
			};

			katt_pcr_read_values(&q.pcrs, &values);
			v.pcrs = values;
			EXPECT_EQ(0, checkquote_value(self->work, &v, binder, 32))
				TH_LOG("quote %u (attempt %u) does not verify",
				       i, q.attempts);
		}
	}
	x.stop = true;
	pthread_join(th, NULL);
	TH_LOG("%u extends; %u quotes verified (%u quoted again), %u gave up",
	       x.extends, ok, requoted, again);
	EXPECT_LT(0, x.extends);
	/* the extender raced the attester at least once */
	EXPECT_LT(0, requoted + again);
}

/* --- event logs --------------------------------------------------------- */

static void write_bytes(const char *path, size_t len, uint8_t fill)
{
	FILE *f = fopen(path, "wb");

	while (f && len--)
		fputc(fill, f);
	if (f)
		fclose(f);
}

TEST_F(att, logs_when_they_fit)
{
	char small[128], big[128], half[128];
	struct katt_attester_config cfg = self->cfg;
	enum katt_msg_type reply;
	struct katt_tpm2_quote q;
	struct katt_binding b;
	struct katt_msg ch, m;
	long len;

	READY();
	katt_attester_close(self->a);
	self->a = NULL;
	snprintf(small, sizeof(small), "%s/tcg.log", self->work);
	snprintf(big, sizeof(big), "%s/ima.log", self->work);
	snprintf(half, sizeof(half), "%s/ima-half.log", self->work);
	write_bytes(small, 3000, 0x11);
	write_bytes(big, KATT_MSG_MAX + 1, 0x22);
	write_bytes(half, KATT_MSG_MAX - 4000, 0x33);
	binding(&b, true);

	/* both fit */
	cfg.log_path[0] = small;
	cfg.log_format[0] = KATT_LOG_FORMAT_TCG;
	cfg.log_path[1] = NULL;
	ASSERT_EQ(0, katt_attester_open(&cfg, &self->a));
	challenge(&ch, 1, NULL);
	len = katt_attester_answer(self->a, &ch, &b, self->out,
				   sizeof(self->out), &reply);
	ASSERT_EQ(KATT_MSG_EVIDENCE, reply);
	DECODE_EVIDENCE(self->out, len, 1, &m, &q);
	ASSERT_EQ(1, q.nlogs);
	EXPECT_EQ(KATT_LOG_FORMAT_TCG, q.log[0].format);
	EXPECT_EQ(3000, q.log[0].data.len);
	EXPECT_EQ(0x11, q.log[0].data.p[2999]);
	katt_attester_close(self->a);

	/* one larger than a message: left out, the other goes */
	cfg.log_path[1] = big;
	cfg.log_format[1] = KATT_LOG_FORMAT_IMA;
	ASSERT_EQ(0, katt_attester_open(&cfg, &self->a));
	len = katt_attester_answer(self->a, &ch, &b, self->out,
				   sizeof(self->out), &reply);
	ASSERT_EQ(KATT_MSG_EVIDENCE, reply);
	DECODE_EVIDENCE(self->out, len, 1, &m, &q);
	ASSERT_EQ(1, q.nlogs);
	EXPECT_EQ(KATT_LOG_FORMAT_TCG, q.log[0].format);
	katt_attester_close(self->a);

	/* two that do not fit together: the second is left out */
	cfg.log_path[1] = half;
	ASSERT_EQ(0, katt_attester_open(&cfg, &self->a));
	len = katt_attester_answer(self->a, &ch, &b, self->out,
				   sizeof(self->out), &reply);
	ASSERT_EQ(KATT_MSG_EVIDENCE, reply);
	EXPECT_GE(KATT_EVIDENCE_MAX, len);
	DECODE_EVIDENCE(self->out, len, 1, &m, &q);
	ASSERT_EQ(1, q.nlogs);
	EXPECT_EQ(3000, q.log[0].data.len);

	/* alone, the large one fits */
	katt_attester_close(self->a);
	cfg.log_path[0] = NULL;
	ASSERT_EQ(0, katt_attester_open(&cfg, &self->a));
	len = katt_attester_answer(self->a, &ch, &b, self->out,
				   sizeof(self->out), &reply);
	ASSERT_EQ(KATT_MSG_EVIDENCE, reply);
	EXPECT_GE(KATT_EVIDENCE_MAX, len);
	DECODE_EVIDENCE(self->out, len, 1, &m, &q);
	ASSERT_EQ(1, q.nlogs);
	EXPECT_EQ(KATT_LOG_FORMAT_IMA, q.log[0].format);
	EXPECT_EQ(KATT_MSG_MAX - 4000, q.log[0].data.len);
}

TEST_HARNESS_MAIN
