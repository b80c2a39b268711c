// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of the whole tpm2-quote path against a real software TPM:
 * the RP's Challenge (agent/rp.c), the attester's Evidence from swtpm
 * (agent/attester.c), the RP's appraisal (agent/appraise.c) and its
 * Verdict; every test starts its own swtpm (unix sockets, a throwaway
 * state directory, tpm2-tss's swtpm TCTI), with an ECC and an RSA AK.
 * Built with AddressSanitizer and UBSan.
 *
 * Every genuine quote passes and is also verified by tpm2-tools'
 * tpm2_checkquote with the same nonce, PCRs and AK.  Then each attack
 * reaches the check that must stop it, with real quotes:
 *
 * - an unknown AK, the AK of another TPM, an unrestricted TPM key that
 *   signs a forged TPMS_ATTEST with TPM2_Sign            [3, 2]
 * - Evidence replayed from an earlier exchange, relayed from another
 *   connection, reflected back to its maker              [1]
 * - a Challenge that asked for other PCRs than were quoted, sha1 values
 *   sent as sha256 ones, an unsigned PCR map that lies   [4, 6]
 * - a PCR extended since the reference values were taken [7]
 * - counters raised in the state directory, a swtpm state put back from
 *   a snapshot; and the counters a TPM Restart, Resume and Reset give,
 *   which pass; quotes of many Challenges appraised out of order [9]
 *
 * and a corpus of mutated quotes (bit flips of the signature and of the
 * TPMS_ATTEST, its magic, type, selection, digest and clock changed,
 * trailing bytes, PCR maps with a value changed, a PCR too many or too
 * few, another AK public, random bytes of the tpm2-quote value), each
 * refused by the RP, and by tpm2_checkquote too wherever it can judge.
 * tpm2_checkquote's limits are shown where they bite: it accepts sha1
 * values labelled sha256, a key without the restricted attribute, and
 * knows nothing of what was asked, of reference values or of counters.
 *
 * Without swtpm every test is skipped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_tctildr.h>

#include "kselftest_harness.h"

#include "appraise.h"
#include "attester.h"
#include "binder.h"
#include "checkquote.h"
#include "clockstore.h"
#include "proto.h"
#include "rp.h"
#include "swtpm.h"
#include "tpm_crypto.h"

#define SHA1		TPM2_ALG_SHA1
#define SHA256		TPM2_ALG_SHA256

/* The 6.1 harness runs the body after a SKIP in the setup. */
#define READY()		do { if (self->skip) return; } while (0)

/* One exchange, from the RP's Challenge to its appraisal. */
struct round {
	struct katt_rp_exchange ex;
	uint8_t chbuf[512];
	long chlen;
	struct katt_msg ch;		/* the Challenge as the attester reads it */
	uint8_t evbuf[KATT_MSG_MAX];
	long evlen;
	struct katt_msg ev;		/* the Evidence as the RP reads it */
	struct katt_tpm2_quote q;	/* its value, pointing into evbuf */
	struct katt_appraisal res;
};

/*
 * One TPM state and one AK of each type, made once per run (RSA key
 * generation takes swtpm up to seconds) and copied by each test: a TPM of
 * the same seeds, on which the kept AKs load.
 */
static char tmpl[64];
static int tmpl_status = -1;	/* 0 made, -2 no swtpm */
static pid_t tmpl_owner;

static void __attribute__((constructor)) make_template(void)
{
	static const TPMI_ALG_PUBLIC types[] = { TPM2_ALG_ECC, TPM2_ALG_RSA };
	struct katt_attester_config cfg = { 0 };
	struct katt_attester *a = NULL;
	char dir[128];
	struct swtpm t;
	unsigned int i;
	int ret;

	strcpy(tmpl, "/tmp/katt-tmpl.XXXXXX");
	if (!mkdtemp(tmpl))
		return;
	tmpl_owner = getpid();
	ret = swtpm_start(&t);
	if (ret) {
		tmpl_status = ret;
		return;
	}
	cfg.tcti = t.tcti;
	cfg.default_sel.nbanks = 1;
	cfg.default_sel.bank[0].alg = SHA256;
	cfg.default_sel.bank[0].pcrs = 1;
	for (i = 0; i < 2; i++) {
		snprintf(dir, sizeof(dir), "%s/ak-%#06x", tmpl, types[i]);
		cfg.state_dir = dir;
		cfg.ak_type = types[i];
		if (katt_attester_open(&cfg, &a))
			goto out;
		katt_attester_close(a);
	}
	swtpm_stop(&t);
	snprintf(dir, sizeof(dir), "%s/tpm", tmpl);
	if (swtpm_save_state(&t, dir))
		goto out;
	tmpl_status = 0;
out:
	swtpm_destroy(&t);
}

static void __attribute__((destructor)) drop_template(void)
{
	if (tmpl[0] && getpid() == tmpl_owner)
		run_cmd("rm -rf '%s'", tmpl);
}

FIXTURE(quote) {
	bool skip;
	struct swtpm tpm;
	char att_state[64];
	char rp_state[64];
	char work[64];
	struct katt_attester_config cfg;
	struct katt_attester *a;
	struct katt_clock_store *clocks;
	struct katt_ak_pin pin;
	struct katt_reference refs[4];
	struct katt_rp_policy policy;
	struct katt_binding att_b;	/* the attester: the TLS client */
	struct katt_binding rp_b;	/* the RP: the TLS server */
	struct round r;
};

FIXTURE_VARIANT(quote) {
	TPMI_ALG_PUBLIC ak_type;
};

FIXTURE_VARIANT_ADD(quote, ecc) {
	.ak_type = TPM2_ALG_ECC,
};

FIXTURE_VARIANT_ADD(quote, rsa) {
	.ak_type = TPM2_ALG_RSA,
};

static void bindings(struct katt_binding *att, struct katt_binding *rp,
		     uint8_t exporter_seed)
{
	unsigned int i;

	memset(att, 0, sizeof(*att));
	memset(rp, 0, sizeof(*rp));
	for (i = 0; i < 32; i++) {
		att->exporter[i] = rp->exporter[i] = exporter_seed + i;
		att->local_key[i] = rp->peer_key[i] = 0xa0 + i;
		att->peer_key[i] = rp->local_key[i] = 0x10 + i;
	}
	att->has_local_key = att->has_peer_key = true;
	rp->has_local_key = rp->has_peer_key = true;
	rp->tls_server = true;
}

FIXTURE_SETUP(quote)
{
	int ret;

	self->a = NULL;
	self->clocks = NULL;
	self->skip = false;
	self->att_state[0] = '\0';
	if (tmpl_status == -2) {
		self->skip = true;
		SKIP(return, "swtpm is not installed");
	}
	ASSERT_EQ(0, tmpl_status) TH_LOG("the TPM template could not be made");
	{
		char state[128];

		snprintf(state, sizeof(state), "%s/tpm", tmpl);
		ret = swtpm_start_from(&self->tpm, state);
	}
	ASSERT_EQ(0, ret);
	strcpy(self->att_state, "/tmp/katt-att.XXXXXX");
	strcpy(self->rp_state, "/tmp/katt-rp.XXXXXX");
	strcpy(self->work, "/tmp/katt-work.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->att_state));
	ASSERT_NE(NULL, mkdtemp(self->rp_state));
	ASSERT_NE(NULL, mkdtemp(self->work));
	/* the AK made once, kept in this attester's state directory */
	ASSERT_EQ(0, run_cmd("cp '%s'/ak-%#06x/ak.* '%s'/", tmpl,
			     variant->ak_type, self->att_state));

	memset(&self->cfg, 0, sizeof(self->cfg));
	self->cfg.tcti = self->tpm.tcti;
	self->cfg.state_dir = self->att_state;
	self->cfg.ak_type = variant->ak_type;
	self->cfg.default_sel.nbanks = 1;
	self->cfg.default_sel.bank[0].alg = SHA256;
	self->cfg.default_sel.bank[0].pcrs = 0xff;
	ASSERT_EQ(0, katt_attester_open(&self->cfg, &self->a));
	ASSERT_EQ(0, katt_clock_store_open(self->rp_state, &self->clocks));

	/* the RP's policy: this AK by its Name, sha256 PCRs 0-7 and 16 */
	self->pin.by_name = true;
	self->pin.name = katt_attester_ak(self->a)->name;
	memset(&self->policy, 0, sizeof(self->policy));
	self->policy.aks = &self->pin;
	self->policy.naks = 1;
	self->policy.sel.nbanks = 1;
	self->policy.sel.bank[0].alg = SHA256;
	self->policy.sel.bank[0].pcrs = 0xff | 1u << 16;
	bindings(&self->att_b, &self->rp_b, 0);
}

FIXTURE_TEARDOWN(quote)
{
	katt_attester_close(self->a);
	katt_clock_store_close(self->clocks);
	swtpm_destroy(&self->tpm);
	if (self->att_state[0])
		run_cmd("rm -rf '%s' '%s' '%s'", self->att_state, self->rp_state,
			self->work);
}

/* The RP sends a Challenge for round id @rid; the attester reads it. */
#define CHALLENGE(r, rid)						\
	do {								\
		struct katt_decode_err _e;				\
									\
		(r)->chlen = katt_rp_challenge(&(r)->ex, &self->policy,	\
					       self->clocks, (rid),	\
					       (r)->chbuf,		\
					       sizeof((r)->chbuf));	\
		ASSERT_LT(0, (r)->chlen);				\
		ASSERT_EQ(0, katt_msg_decode((r)->chbuf, (r)->chlen,	\
					     &(r)->ch, &_e))		\
			TH_LOG("%s", _e.why);				\
	} while (0)

/* The attester answers (r)->ch on binding @b with Evidence; the RP reads it. */
#define ATTEST(r, b)							\
	do {								\
		enum katt_msg_type _t;					\
		struct katt_decode_err _e;				\
		char _why[160];						\
									\
		(r)->evlen = katt_attester_answer(self->a, &(r)->ch, (b), \
						  (r)->evbuf,		\
						  sizeof((r)->evbuf), &_t); \
		ASSERT_LT(0, (r)->evlen);				\
		ASSERT_EQ(KATT_MSG_EVIDENCE, _t);			\
		ASSERT_EQ(0, katt_msg_decode((r)->evbuf, (r)->evlen,	\
					     &(r)->ev, &_e))		\
			TH_LOG("%s", _e.why);				\
		ASSERT_EQ(0, katt_tpm2_quote_decode((r)->ev.evidence.cmw.value, \
						    (r)->ev.evidence.cmw.value_len, \
						    &(r)->q, _why,	\
						    sizeof(_why)))	\
			TH_LOG("%s", _why);				\
	} while (0)

/* The binder the RP expects in round @r. */
static void rp_binder(FIXTURE_DATA(quote) *self, const struct round *r,
		      uint8_t out[32])
{
	katt_binder_rp(&self->rp_b, r->ex.challenge.nonce, out);
}

/* Appraises @cmw for the open exchange of @r, which stays open. */
static unsigned int appraise_cmw(FIXTURE_DATA(quote) *self, struct round *r,
				 const struct katt_cmw *cmw)
{
	struct katt_appraisal_ctx ctx = {
		.policy = &self->policy,
		.challenge = &r->ex.challenge,
		.clocks = self->clocks,
		.mark = r->ex.mark,
	};

	rp_binder(self, r, ctx.binder);
	katt_appraise(&ctx, cmw, &r->res);
	return r->res.reason;
}

/* The RP's Verdict on (r)->ev: its reason; the exchange closes. */
#define VERDICT(r)							\
	({								\
		static uint8_t _v[512];					\
		long _n = katt_rp_verdict(&(r)->ex, &self->policy,	\
					  self->clocks, &self->rp_b,	\
					  &(r)->ev, &(r)->res, _v,	\
					  sizeof(_v));			\
		ASSERT_LT(0, _n) TH_LOG("katt_rp_verdict: %ld", _n);	\
		(r)->res.reason;					\
	})

/* tpm2_checkquote on the value @q with the binder of round @r. */
static int checkquote(FIXTURE_DATA(quote) *self, const struct round *r,
		      const struct katt_tpm2_quote *q)
{
	uint8_t binder[32];

	rp_binder(self, r, binder);
	return checkquote_value(self->work, q, binder, 32);
}

/* A full round that must pass, judged by tpm2_checkquote too. */
#define GENUINE_ROUND(r, rid)						\
	do {								\
		CHALLENGE((r), (rid));					\
		ATTEST((r), &self->att_b);				\
		EXPECT_EQ(0, checkquote(self, (r), &(r)->q))		\
			checkquote_show(self->work);			\
		EXPECT_EQ(0, VERDICT(r)) TH_LOG("check %u: %s",		\
						(r)->res.check,		\
						(r)->res.text.s);	\
	} while (0)

/*
 * TPM2_Shutdown(STATE) on a connection of its own, after the attester has
 * let go of the TPM (it flushes its AK when it closes).
 */
static int shutdown_state(const char *tcti_conf)
{
	TSS2_TCTI_CONTEXT *tcti = NULL;
	ESYS_CONTEXT *esys = NULL;
	TSS2_RC rc;

	rc = Tss2_TctiLdr_Initialize(tcti_conf, &tcti);
	if (rc)
		return -1;
	rc = Esys_Initialize(&esys, tcti, NULL);
	if (!rc)
		rc = Esys_Shutdown(esys, ESYS_TR_NONE, ESYS_TR_NONE,
				   ESYS_TR_NONE, TPM2_SU_STATE);
	Esys_Finalize(&esys);
	Tss2_TctiLdr_Finalize(&tcti);
	return rc ? -1 : 0;
}

/*
 * Restarts the attester on a TPM started again with @startup, after an
 * orderly TPM2_Shutdown(STATE) if @orderly.
 */
#define RESTART_TPM(startup, orderly)					\
	do {								\
		katt_attester_close(self->a);				\
		self->a = NULL;						\
		if (orderly)						\
			ASSERT_EQ(0, shutdown_state(self->tpm.tcti));	\
		swtpm_stop(&self->tpm);					\
		ASSERT_EQ(0, swtpm_resume(&self->tpm, (startup)));	\
		ASSERT_EQ(0, katt_attester_open(&self->cfg, &self->a));	\
	} while (0)

/* --- genuine quotes ------------------------------------------------------ */

TEST_F(quote, genuine_rounds_pass)
{
	struct katt_counters prev = { 0 };
	uint32_t rid;

	READY();
	for (rid = 1; rid <= 5; rid++) {
		GENUINE_ROUND(&self->r, rid);
		EXPECT_EQ(rid, self->r.ev.evidence.rid);
		EXPECT_LE(0, katt_counters_cmp(&self->r.res.counters, &prev));
		prev = self->r.res.counters;
		EXPECT_EQ(1, self->r.res.quoted.nbanks);
		EXPECT_EQ(0xff | 1u << 16, self->r.res.quoted.bank[0].pcrs);
	}
	/* the counters as the RP recorded them: the last quote's */
	{
		struct katt_counters c;

		ASSERT_EQ(0, katt_clock_floor(self->clocks, &self->pin.name,
					      katt_clock_mark(self->clocks), &c));
		EXPECT_EQ(0, katt_counters_cmp(&c, &prev));
	}
}

/* The TLS server attesting to a client RP: the other role byte. */
TEST_F(quote, genuine_server_attests)
{
	READY();
	self->att_b.tls_server = true;
	self->rp_b.tls_server = false;
	GENUINE_ROUND(&self->r, 1);
	/* without key hashes too (no certificate at either end) */
	self->att_b.has_local_key = self->rp_b.has_peer_key = false;
	GENUINE_ROUND(&self->r, 2);
}

/* Every bank and PCR swtpm has: 96 values in one quote. */
TEST_F(quote, genuine_every_bank)
{
	unsigned int i;

	READY();
	self->policy.sel.nbanks = 4;
	for (i = 0; i < 4; i++)
		self->policy.sel.bank[i].pcrs = 0xffffff;
	self->policy.sel.bank[0].alg = SHA1;
	self->policy.sel.bank[1].alg = SHA256;
	self->policy.sel.bank[2].alg = TPM2_ALG_SHA384;
	self->policy.sel.bank[3].alg = TPM2_ALG_SHA512;
	GENUINE_ROUND(&self->r, 1);
	EXPECT_EQ(4, self->r.res.quoted.nbanks);
}

/* --- the AK ---------------------------------------------------------------- */

TEST_F(quote, unknown_ak)
{
	READY();
	self->pin.name.name[5] ^= 1;
	CHALLENGE(&self->r, 1);
	ATTEST(&self->r, &self->att_b);
	EXPECT_EQ(KATT_REASON_UNTRUSTED_KEY, VERDICT(&self->r))
		TH_LOG("%s", self->r.res.text.s);
	/* pinned by the SHA-256 of its key instead: trusted */
	{
		EVP_PKEY *pkey;

		ASSERT_EQ(0, katt_tpm_pkey(&katt_attester_ak(self->a)->pub.publicArea,
					   &pkey));
		ASSERT_EQ(0, katt_pkey_spki_sha256(pkey, self->pin.spki_sha256));
		EVP_PKEY_free(pkey);
		self->pin.by_name = false;
		GENUINE_ROUND(&self->r, 2);
	}
}

/*
 * Another TPM's AK: its own quote is not trusted; its quote sent with this
 * TPM's AK public does not verify.
 */
TEST_F(quote, ak_of_another_tpm)
{
	struct katt_attester_config cfg = self->cfg;
	struct katt_attester *other = NULL;
	char state[] = "/tmp/katt-att2.XXXXXX";
	struct katt_tpm2_quote q;
	static uint8_t value[KATT_MSG_MAX];
	struct katt_cmw cmw;
	struct swtpm tpm2;
	long n;

	READY();
	ASSERT_EQ(0, swtpm_start(&tpm2));
	ASSERT_NE(NULL, mkdtemp(state));
	cfg.tcti = tpm2.tcti;
	cfg.state_dir = state;
	cfg.ak_type = TPM2_ALG_ECC;	/* quicker to make; the type does not matter */
	ASSERT_EQ(0, katt_attester_open(&cfg, &other));

	CHALLENGE(&self->r, 1);
	{
		enum katt_msg_type t;
		struct katt_decode_err e;
		char why[160];

		self->r.evlen = katt_attester_answer(other, &self->r.ch, &self->att_b,
						     self->r.evbuf,
						     sizeof(self->r.evbuf), &t);
		ASSERT_EQ(KATT_MSG_EVIDENCE, t);
		ASSERT_EQ(0, katt_msg_decode(self->r.evbuf, self->r.evlen,
					     &self->r.ev, &e));
		ASSERT_EQ(0, katt_tpm2_quote_decode(self->r.ev.evidence.cmw.value,
						    self->r.ev.evidence.cmw.value_len,
						    &self->r.q, why, sizeof(why)));
	}
	/* genuine for tpm2_checkquote, with its own AK */
	EXPECT_EQ(0, checkquote(self, &self->r, &self->r.q))
		checkquote_show(self->work);
	EXPECT_EQ(KATT_REASON_UNTRUSTED_KEY,
		  appraise_cmw(self, &self->r, &self->r.ev.evidence.cmw))
		TH_LOG("%s", self->r.res.text.s);

	/* the same quote under the trusted AK's public */
	q = self->r.q;
	q.ak_pub.p = katt_attester_ak(self->a)->pub_blob;
	q.ak_pub.len = katt_attester_ak(self->a)->pub_blob_len;
	n = katt_tpm2_quote_encode(&q, value, sizeof(value));
	ASSERT_LT(0, n);
	cmw = self->r.ev.evidence.cmw;
	cmw.value = value;
	cmw.value_len = n;
	EXPECT_EQ(KATT_REASON_BAD_SIGNATURE, appraise_cmw(self, &self->r, &cmw))
		TH_LOG("%s", self->r.res.text.s);
	EXPECT_NE(0, checkquote(self, &self->r, &q));

	katt_rp_exchange_end(&self->r.ex, self->clocks);
	katt_attester_close(other);
	swtpm_destroy(&tpm2);
	run_cmd("rm -rf '%s'", state);
}

/*
 * An unrestricted signing key of the TPM can sign any digest, so a forged
 * TPMS_ATTEST too (here: the PCR values it likes, the right binder).
 * Pinned by mistake, it is still refused for what it is.
 */
TEST_F(quote, unrestricted_key_forges)
{
	TPM2B_PUBLIC tmpl = {
		.publicArea = {
			.type = TPM2_ALG_ECC,
			.nameAlg = SHA256,
			.objectAttributes = TPMA_OBJECT_SIGN_ENCRYPT |
					    TPMA_OBJECT_FIXEDTPM |
					    TPMA_OBJECT_FIXEDPARENT |
					    TPMA_OBJECT_SENSITIVEDATAORIGIN |
					    TPMA_OBJECT_USERWITHAUTH,
			.parameters.eccDetail = {
				.symmetric.algorithm = TPM2_ALG_NULL,
				.scheme = { .scheme = TPM2_ALG_ECDSA,
					    .details.ecdsa.hashAlg = SHA256 },
				.curveID = TPM2_ECC_NIST_P256,
				.kdf.scheme = TPM2_ALG_NULL,
			},
		},
	};
	TPMT_TK_HASHCHECK none = { .tag = TPM2_ST_HASHCHECK,
				   .hierarchy = TPM2_RH_NULL };
	TPMT_SIG_SCHEME scheme = { .scheme = TPM2_ALG_NULL };
	TPM2B_SENSITIVE_CREATE sens = { 0 };
	TPM2B_DATA outside = { 0 };
	TPML_PCR_SELECTION nopcr = { 0 };
	ESYS_CONTEXT *esys = katt_attester_tpm(self->a)->esys;
	static uint8_t attest[2048], sig[1024], pub[1024], value[KATT_MSG_MAX];
	TPM2B_PUBLIC *out_pub = NULL;
	TPMT_SIGNATURE *signature = NULL;
	struct katt_tpm2_quote q;
	struct katt_cmw cmw;
	TPM2B_DIGEST digest = { .size = 32 };
	TPMS_ATTEST info = { 0 };
	ESYS_TR key;
	size_t off = 0, alen, slen, plen;
	unsigned int dlen;
	long n;

	READY();
	ASSERT_EQ(0, Esys_CreatePrimary(esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD,
					ESYS_TR_NONE, ESYS_TR_NONE, &sens, &tmpl,
					&outside, &nopcr, &key, &out_pub, NULL,
					NULL, NULL));
	CHALLENGE(&self->r, 1);
	ATTEST(&self->r, &self->att_b);
	/* the genuine quote's TPMS_ATTEST, made to say what the forger likes */
	ASSERT_EQ(0, Tss2_MU_TPMS_ATTEST_Unmarshal(self->r.q.attest.p,
						   self->r.q.attest.len, &off,
						   &info));
	info.clockInfo.clock += 1000000;
	off = 0;
	ASSERT_EQ(0, Tss2_MU_TPMS_ATTEST_Marshal(&info, attest, sizeof(attest), &off));
	alen = off;
	ASSERT_EQ(1, EVP_Digest(attest, alen, digest.buffer, &dlen, EVP_sha256(), NULL));
	ASSERT_EQ(0, Esys_Sign(esys, key, ESYS_TR_PASSWORD, ESYS_TR_NONE,
			       ESYS_TR_NONE, &digest, &scheme, &none, &signature));
	off = 0;
	ASSERT_EQ(0, Tss2_MU_TPMT_SIGNATURE_Marshal(signature, sig, sizeof(sig), &off));
	slen = off;
	off = 0;
	ASSERT_EQ(0, Tss2_MU_TPM2B_PUBLIC_Marshal(out_pub, pub, sizeof(pub), &off));
	plen = off;
	Esys_FlushContext(esys, key);

	q = self->r.q;
	q.attest.p = attest;
	q.attest.len = alen;
	q.sig.p = sig;
	q.sig.len = slen;
	q.ak_pub.p = pub;
	q.ak_pub.len = plen;
	n = katt_tpm2_quote_encode(&q, value, sizeof(value));
	ASSERT_LT(0, n);
	cmw = self->r.ev.evidence.cmw;
	cmw.value = value;
	cmw.value_len = n;
	/* pinned by mistake: still not a restricted signing key */
	ASSERT_EQ(0, katt_tpm_name(&out_pub->publicArea, &self->pin.name));
	EXPECT_EQ(KATT_REASON_UNTRUSTED_KEY, appraise_cmw(self, &self->r, &cmw))
		TH_LOG("%s", self->r.res.text.s);
	EXPECT_NE(NULL, strstr(self->r.res.text.s, "restricted"));
	/* tpm2_checkquote 5.4 does not look at the key's attributes */
	EXPECT_EQ(0, checkquote(self, &self->r, &q))
		TH_LOG("tpm2_checkquote refused a quote of an unrestricted key: it checks attributes now");
	Esys_Free(out_pub);
	Esys_Free(signature);
	katt_rp_exchange_end(&self->r.ex, self->clocks);
}

/* --- the binder ------------------------------------------------------------ */

/* Evidence of an earlier exchange, sent again: another nonce. */
TEST_F(quote, replayed)
{
	struct round *old = calloc(1, sizeof(*old));

	READY();
	ASSERT_NE(NULL, old);
	GENUINE_ROUND(old, 1);
	CHALLENGE(&self->r, 2);
	self->r.ev = old->ev;
	self->r.ev.evidence.rid = 2;
	EXPECT_EQ(KATT_REASON_BINDER_MISMATCH, VERDICT(&self->r))
		TH_LOG("%s", self->r.res.text.s);
	EXPECT_NE(0, checkquote(self, &self->r, &old->q));
	free(old);
}

/*
 * Evidence made on another connection (another exporter) for the same
 * nonce: what a host relaying the Challenge to an honest attester gets.
 */
TEST_F(quote, relayed)
{
	struct katt_binding other_att, other_rp;

	READY();
	bindings(&other_att, &other_rp, 0x33);
	CHALLENGE(&self->r, 1);
	ATTEST(&self->r, &other_att);
	EXPECT_NE(0, checkquote(self, &self->r, &self->r.q));
	EXPECT_EQ(KATT_REASON_BINDER_MISMATCH, VERDICT(&self->r))
		TH_LOG("%s", self->r.res.text.s);
}

/*
 * Reflected: in a mutual connection the peer sends this end a Challenge
 * with this end's own nonce and returns the Evidence it gets as its own.
 * That Evidence carries this end's own TLS role.
 */
TEST_F(quote, reflected)
{
	struct katt_binding self_attests = self->rp_b;

	READY();
	self_attests.has_local_key = self_attests.has_peer_key = false;
	self->rp_b.has_local_key = self->rp_b.has_peer_key = false;
	CHALLENGE(&self->r, 1);
	/* this end (the RP, the TLS server) quotes as an attester */
	ATTEST(&self->r, &self_attests);
	EXPECT_EQ(KATT_REASON_BINDER_MISMATCH, VERDICT(&self->r))
		TH_LOG("%s", self->r.res.text.s);
}

/* --- the selection and the PCR map ------------------------------------- */

/* A Challenge that asked for more PCRs than the attester quoted. */
TEST_F(quote, selection_not_what_was_asked)
{
	READY();
	CHALLENGE(&self->r, 1);
	/* the attester quotes sha256 PCRs 0-7 only */
	self->r.ch.challenge.sel.bank[0].pcrs = 0xff;
	ATTEST(&self->r, &self->att_b);
	/* a genuine quote, for tpm2_checkquote, which cannot know what was asked */
	EXPECT_EQ(0, checkquote(self, &self->r, &self->r.q));
	EXPECT_EQ(KATT_REASON_MALFORMED_EVIDENCE, VERDICT(&self->r))
		TH_LOG("%s", self->r.res.text.s);
	EXPECT_NE(NULL, strstr(self->r.res.text.s, "sha256:16"))
		TH_LOG("%s", self->r.res.text.s);
}

/*
 * sha1 PCRs 0-7 quoted (160 bytes of values), sent as sha256 PCRs 0-4
 * (160 bytes): the digest is the same.  tpm2_checkquote 5.4, given the
 * sha256 labels, accepts it; the RP compares the selections.
 */
TEST_F(quote, sha1_values_labelled_sha256)
{
	static uint8_t value[KATT_MSG_MAX], raw[160];
	struct katt_tpm2_quote q;
	struct katt_cmw cmw;
	unsigned int i;
	long n;

	READY();
	CHALLENGE(&self->r, 1);
	self->r.ch.challenge.sel.bank[0].alg = SHA1;
	self->r.ch.challenge.sel.bank[0].pcrs = 0xff;
	ATTEST(&self->r, &self->att_b);
	q = self->r.q;
	ASSERT_EQ(SHA1, q.pcrs.bank[0].alg);
	for (i = 0; i < 8; i++)
		memcpy(raw + 20 * i, q.pcrs.bank[0].value[i], 20);
	q.pcrs.bank[0].alg = SHA256;
	q.pcrs.bank[0].pcrs = 0x1f;
	q.pcrs.bank[0].size = 32;
	for (i = 0; i < KATT_PCR_COUNT; i++)
		q.pcrs.bank[0].value[i] = i < 5 ? raw + 32 * i : NULL;
	n = katt_tpm2_quote_encode(&q, value, sizeof(value));
	ASSERT_LT(0, n);
	cmw = self->r.ev.evidence.cmw;
	cmw.value = value;
	cmw.value_len = n;
	EXPECT_EQ(0, checkquote(self, &self->r, &q))
		TH_LOG("tpm2_checkquote refused sha1 values labelled sha256: it compares selections now");
	/* asked for sha256 0-7: not covered */
	EXPECT_EQ(KATT_REASON_MALFORMED_EVIDENCE, appraise_cmw(self, &self->r, &cmw))
		TH_LOG("%s", self->r.res.text.s);
	/* nothing asked for: the map is still not what was quoted */
	self->r.ex.challenge.has_sel = false;
	EXPECT_EQ(KATT_REASON_MALFORMED_EVIDENCE, appraise_cmw(self, &self->r, &cmw))
		TH_LOG("%s", self->r.res.text.s);
	katt_rp_exchange_end(&self->r.ex, self->clocks);
}

/* An unsigned PCR map that lies about one value. */
TEST_F(quote, pcr_map_lies)
{
	static uint8_t value[KATT_MSG_MAX], fake[64];
	struct katt_tpm2_quote q;
	struct katt_cmw cmw;
	long n;

	READY();
	CHALLENGE(&self->r, 1);
	ATTEST(&self->r, &self->att_b);
	q = self->r.q;
	memcpy(fake, q.pcrs.bank[0].value[16], 32);
	fake[0] ^= 0x80;
	q.pcrs.bank[0].value[16] = fake;
	n = katt_tpm2_quote_encode(&q, value, sizeof(value));
	ASSERT_LT(0, n);
	cmw = self->r.ev.evidence.cmw;
	cmw.value = value;
	cmw.value_len = n;
	EXPECT_EQ(KATT_REASON_PCR_DIGEST_MISMATCH, appraise_cmw(self, &self->r, &cmw))
		TH_LOG("%s", self->r.res.text.s);
	EXPECT_NE(0, checkquote(self, &self->r, &q));
	katt_rp_exchange_end(&self->r.ex, self->clocks);
}

/* --- reference values ------------------------------------------------------ */

/* Reads sha256 PCR @pcr of the attester's TPM. */
static int read_pcr(FIXTURE_DATA(quote) *self, unsigned int pcr, uint8_t out[32])
{
	struct katt_pcr_sel s = {
		.nbanks = 1, .bank = { { .alg = SHA256, .pcrs = 1u << pcr } },
	};
	static struct katt_pcr_read r;
	TPML_PCR_SELECTION sel;

	katt_pcr_sel_to_tpml(&s, &sel);
	if (katt_tpm_pcr_read(katt_attester_tpm(self->a), &sel, &r))
		return -1;
	memcpy(out, r.value[0][pcr], 32);
	return 0;
}

/*
 * Reference values taken from this TPM's PCRs pass; a PCR extended
 * afterwards fails the next round, and the reason names it.
 */
TEST_F(quote, pcr_extended_since_reference)
{
	TPML_DIGEST_VALUES v = {
		.count = 1, .digests = { { .hashAlg = TPM2_ALG_SHA256 } },
	};
	ESYS_CONTEXT *esys;
	unsigned int i;

	READY();
	for (i = 0; i < 2; i++) {
		struct katt_reference *r = &self->refs[i];

		memset(r, 0, sizeof(*r));
		r->alg = SHA256;
		r->pcr = i ? 16 : 0;
		r->size = 32;
		r->nvalues = 1;
		ASSERT_EQ(0, read_pcr(self, r->pcr, r->value[0]));
	}
	self->policy.refs = self->refs;
	self->policy.nrefs = 2;
	GENUINE_ROUND(&self->r, 1);

	esys = katt_attester_tpm(self->a)->esys;
	v.digests[0].digest.sha256[0] = 0x5a;
	ASSERT_EQ(0, Esys_PCR_Extend(esys, ESYS_TR_PCR16, ESYS_TR_PASSWORD,
				     ESYS_TR_NONE, ESYS_TR_NONE, &v));
	CHALLENGE(&self->r, 2);
	ATTEST(&self->r, &self->att_b);
	/* the quote itself is genuine: tpm2_checkquote knows no reference */
	EXPECT_EQ(0, checkquote(self, &self->r, &self->r.q));
	EXPECT_EQ(KATT_REASON_REFERENCE_MISMATCH, VERDICT(&self->r))
		TH_LOG("%s", self->r.res.text.s);
	EXPECT_NE(NULL, strstr(self->r.res.text.s, "PCR sha256:16 is "))
		TH_LOG("%s", self->r.res.text.s);
	EXPECT_EQ(6, self->r.res.check);
}

/* --- the counters ------------------------------------------------------ */

/* Counters raised in the RP's state directory: the next genuine quote is below. */
TEST_F(quote, counters_raised_in_state_dir)
{
	char name[KATT_CLOCK_FILE_MAX];
	struct katt_counters c;

	READY();
	GENUINE_ROUND(&self->r, 1);
	c = self->r.res.counters;
	katt_clock_store_close(self->clocks);
	katt_clock_file(&self->pin.name, name, sizeof(name));
	ASSERT_EQ(0, run_cmd("echo '{\"resetCount\": %u, \"restartCount\": 0, \"clock\": 0}' > '%s/%s'",
			     c.reset + 1, self->rp_state, name));
	ASSERT_EQ(0, katt_clock_store_open(self->rp_state, &self->clocks));
	CHALLENGE(&self->r, 2);
	ATTEST(&self->r, &self->att_b);
	EXPECT_EQ(0, checkquote(self, &self->r, &self->r.q));
	EXPECT_EQ(KATT_REASON_COUNTER_REGRESSION, VERDICT(&self->r))
		TH_LOG("%s", self->r.res.text.s);

	/* and a clock raised within the same resetCount and restartCount */
	katt_clock_store_close(self->clocks);
	ASSERT_EQ(0, run_cmd("echo '{\"resetCount\": %u, \"restartCount\": %u, \"clock\": %llu}' > '%s/%s'",
			     c.reset, c.restart,
			     (unsigned long long)c.clock + 3600000,
			     self->rp_state, name));
	ASSERT_EQ(0, katt_clock_store_open(self->rp_state, &self->clocks));
	CHALLENGE(&self->r, 3);
	ATTEST(&self->r, &self->att_b);
	EXPECT_EQ(KATT_REASON_COUNTER_REGRESSION, VERDICT(&self->r))
		TH_LOG("%s", self->r.res.text.s);
	EXPECT_NE(NULL, strstr(self->r.res.text.s, "clock"));
}

/*
 * A TPM rolled back: its state copied away, two TPM Resets later put back.
 * The AK (the same seed) still loads and signs; its resetCount is below
 * what the RP accepted.
 */
TEST_F(quote, tpm_state_restored_from_snapshot)
{
	char snap[] = "/tmp/katt-snap.XXXXXX";
	uint32_t reset;

	READY();
	ASSERT_NE(NULL, mkdtemp(snap));
	GENUINE_ROUND(&self->r, 1);
	reset = self->r.res.counters.reset;
	katt_attester_close(self->a);
	self->a = NULL;
	swtpm_stop(&self->tpm);
	ASSERT_EQ(0, swtpm_save_state(&self->tpm, snap));
	ASSERT_EQ(0, swtpm_resume(&self->tpm, NULL));
	ASSERT_EQ(0, katt_attester_open(&self->cfg, &self->a));
	GENUINE_ROUND(&self->r, 2);
	EXPECT_EQ(reset + 1, self->r.res.counters.reset);
	RESTART_TPM(NULL, false);
	GENUINE_ROUND(&self->r, 3);
	EXPECT_EQ(reset + 2, self->r.res.counters.reset);

	katt_attester_close(self->a);
	self->a = NULL;
	swtpm_stop(&self->tpm);
	ASSERT_EQ(0, swtpm_load_state(&self->tpm, snap));
	ASSERT_EQ(0, swtpm_resume(&self->tpm, NULL));
	ASSERT_EQ(0, katt_attester_open(&self->cfg, &self->a));
	CHALLENGE(&self->r, 4);
	ATTEST(&self->r, &self->att_b);
	EXPECT_EQ(0, checkquote(self, &self->r, &self->r.q));
	EXPECT_EQ(KATT_REASON_COUNTER_REGRESSION, VERDICT(&self->r))
		TH_LOG("%s", self->r.res.text.s);
	EXPECT_EQ(reset + 1, self->r.res.counters.reset);
	run_cmd("rm -rf '%s'", snap);
}

/* What a TPM Restart, Resume and Reset do to the counters passes. */
TEST_F(quote, tpm_restart_resume_reset_pass)
{
	struct katt_counters c0, c;

	READY();
	GENUINE_ROUND(&self->r, 1);
	c0 = self->r.res.counters;
	/* Restart: Shutdown(STATE), Startup(CLEAR) */
	RESTART_TPM("clear", true);
	GENUINE_ROUND(&self->r, 2);
	c = self->r.res.counters;
	EXPECT_EQ(c0.reset, c.reset);
	EXPECT_EQ(c0.restart + 1, c.restart);
	/* Resume: Shutdown(STATE), Startup(STATE) */
	RESTART_TPM("state", true);
	GENUINE_ROUND(&self->r, 3);
	EXPECT_EQ(c0.restart + 2, self->r.res.counters.restart);
	/* Reset: no orderly shutdown */
	RESTART_TPM(NULL, false);
	GENUINE_ROUND(&self->r, 4);
	EXPECT_EQ(c0.reset + 1, self->r.res.counters.reset);
	EXPECT_EQ(0, self->r.res.counters.restart);
}

/*
 * Many connections challenged at once, their quotes made in one order and
 * appraised in the reverse: each is held to the counters of its own
 * Challenge, so every one passes.
 */
TEST_F(quote, concurrent_challenges_any_order)
{
	enum { N = 8 };
	struct round *r = calloc(N, sizeof(*r));
	int i;

	READY();
	ASSERT_NE(NULL, r);
	GENUINE_ROUND(&r[0], 100);
	for (i = 0; i < N; i++)
		CHALLENGE(&r[i], i + 1);
	for (i = 0; i < N; i++)
		ATTEST(&r[i], &self->att_b);
	for (i = N - 1; i >= 0; i--) {
		EXPECT_EQ(0, VERDICT(&r[i])) TH_LOG("round %d: %s", i + 1,
						     r[i].res.text.s);
		if (i < N - 1)
			EXPECT_GE(0, katt_counters_cmp(&r[i].res.counters,
						       &r[i + 1].res.counters));
	}
	free(r);
}

/* --- a corpus of mutated quotes ------------------------------------------ */

enum field { F_ATTEST, F_SIG };

/* Appraises @q (a variant of round r's value); returns the reason. */
static unsigned int appraise_value(FIXTURE_DATA(quote) *self,
				   const struct katt_tpm2_quote *q)
{
	static uint8_t value[KATT_MSG_MAX];
	struct katt_cmw cmw = self->r.ev.evidence.cmw;
	long n = katt_tpm2_quote_encode(q, value, sizeof(value));

	if (n < 0)
		return 1000;
	cmw.value = value;
	cmw.value_len = n;
	return appraise_cmw(self, &self->r, &cmw);
}

/* Expects @q refused with @reason, and by tpm2_checkquote too. */
#define EXPECT_MUTANT(q, reason, what)					\
	do {								\
		unsigned int _got = appraise_value(self, (q));		\
									\
		EXPECT_EQ((reason), _got) TH_LOG("%s: %s", (what),	\
						 self->r.res.text.s);	\
		EXPECT_NE(0, checkquote(self, &self->r, (q)))		\
			TH_LOG("%s: tpm2_checkquote accepted it", (what)); \
		n_mutants++;						\
	} while (0)

TEST_F(quote, corpus_of_mutated_quotes)
{
	static uint8_t attest[2048], sig[1024], fake[64], value[KATT_MSG_MAX];
	struct katt_tpm2_quote q, genuine;
	unsigned int n_mutants = 0, bit, i, refused = 0;
	TPMS_ATTEST info, m;
	size_t off = 0;
	char what[64];

	READY();
	CHALLENGE(&self->r, 1);
	ATTEST(&self->r, &self->att_b);
	genuine = self->r.q;
	ASSERT_EQ(0, appraise_value(self, &genuine)) TH_LOG("%s", self->r.res.text.s);
	/* the genuine one passed and moved the counters: a new exchange */
	katt_rp_exchange_end(&self->r.ex, self->clocks);
	CHALLENGE(&self->r, 2);
	ATTEST(&self->r, &self->att_b);
	genuine = self->r.q;
	ASSERT_EQ(0, Tss2_MU_TPMS_ATTEST_Unmarshal(genuine.attest.p,
						   genuine.attest.len, &off, &info));

	/* bit flips of the signature and of the TPMS_ATTEST */
	for (bit = 3; bit < genuine.sig.len * 8; bit += genuine.sig.len / 2 + 1) {
		q = genuine;
		memcpy(sig, genuine.sig.p, genuine.sig.len);
		sig[bit / 8] ^= 1u << (bit % 8);
		q.sig.p = sig;
		snprintf(what, sizeof(what), "signature bit %u", bit);
		/* a flipped scheme or size may not even unmarshal: still 2 */
		EXPECT_MUTANT(&q, KATT_REASON_BAD_SIGNATURE, what);
	}
	for (bit = 5; bit < genuine.attest.len * 8; bit += genuine.attest.len / 2 + 1) {
		q = genuine;
		memcpy(attest, genuine.attest.p, genuine.attest.len);
		attest[bit / 8] ^= 1u << (bit % 8);
		q.attest.p = attest;
		snprintf(what, sizeof(what), "attest bit %u", bit);
		EXPECT_MUTANT(&q, KATT_REASON_BAD_SIGNATURE, what);
	}

	/* each field of the TPMS_ATTEST changed (the signature no longer covers it) */
	for (i = 0; i < 6; i++) {
		static const char *const names[] = {
			"bad magic", "wrong type", "selection mismatch",
			"digest mismatch", "clock rollback", "resetCount rollback",
		};

		m = info;
		switch (i) {
		case 0:
			m.magic ^= 1;
			break;
		case 1:
			m.type = TPM2_ST_ATTEST_TIME;
			memset(&m.attested, 0, sizeof(m.attested));
			break;
		case 2:
			m.attested.quote.pcrSelect.pcrSelections[0].pcrSelect[0] ^= 0x80;
			break;
		case 3:
			m.attested.quote.pcrDigest.buffer[5] ^= 1;
			break;
		case 4:
			m.clockInfo.clock -= 1;
			break;
		case 5:
			m.clockInfo.resetCount -= 1;
			break;
		}
		off = 0;
		ASSERT_EQ(0, Tss2_MU_TPMS_ATTEST_Marshal(&m, attest, sizeof(attest), &off));
		q = genuine;
		q.attest.p = attest;
		q.attest.len = off;
		EXPECT_MUTANT(&q, KATT_REASON_BAD_SIGNATURE, names[i]);
	}

	/* trailing bytes after the TPMS_ATTEST, and after the signature */
	q = genuine;
	memcpy(attest, genuine.attest.p, genuine.attest.len);
	attest[genuine.attest.len] = 0;
	q.attest.p = attest;
	q.attest.len++;
	EXPECT_MUTANT(&q, KATT_REASON_BAD_SIGNATURE, "attest trailing byte");
	q = genuine;
	memcpy(sig, genuine.sig.p, genuine.sig.len);
	sig[genuine.sig.len] = 0;
	q.sig.p = sig;
	q.sig.len++;
	/* tpm2_checkquote reads the signature it needs and ignores the rest */
	EXPECT_EQ(KATT_REASON_BAD_SIGNATURE, appraise_value(self, &q))
		TH_LOG("%s", self->r.res.text.s);
	n_mutants++;

	/* the unsigned PCR map: a value changed, a PCR too few, one too many */
	q = genuine;
	memcpy(fake, genuine.pcrs.bank[0].value[3], 32);
	fake[31] ^= 1;
	q.pcrs.bank[0].value[3] = fake;
	EXPECT_MUTANT(&q, KATT_REASON_PCR_DIGEST_MISMATCH, "PCR value changed");
	q = genuine;
	q.pcrs.bank[0].pcrs &= ~1u;
	EXPECT_MUTANT(&q, KATT_REASON_MALFORMED_EVIDENCE, "PCR 0 left out");
	q = genuine;
	q.pcrs.bank[0].pcrs |= 1u << 20;
	q.pcrs.bank[0].value[20] = genuine.pcrs.bank[0].value[0];
	EXPECT_MUTANT(&q, KATT_REASON_MALFORMED_EVIDENCE, "PCR 20 added");

	/* another AK public (a fresh one, of another TPM's making) */
	{
		TPM2B_PUBLIC other = katt_attester_ak(self->a)->pub;
		uint8_t blob[sizeof(TPM2B_PUBLIC)];

		if (other.publicArea.type == TPM2_ALG_ECC)
			other.publicArea.unique.ecc.x.buffer[3] ^= 1;
		else
			other.publicArea.unique.rsa.buffer[3] ^= 1;
		off = 0;
		other.size = 0;
		ASSERT_EQ(0, Tss2_MU_TPM2B_PUBLIC_Marshal(&other, blob, sizeof(blob), &off));
		q = genuine;
		q.ak_pub.p = blob;
		q.ak_pub.len = off;
		EXPECT_MUTANT(&q, KATT_REASON_UNTRUSTED_KEY, "another AK public");
	}

	/* random bytes of the encoded value: never a pass */
	{
		long n = katt_tpm2_quote_encode(&genuine, value, sizeof(value));
		struct katt_cmw cmw = self->r.ev.evidence.cmw;
		unsigned int seed = 11, k;
		static uint8_t mut[KATT_MSG_MAX];

		ASSERT_LT(0, n);
		cmw.value = mut;
		cmw.value_len = n;
		for (i = 0; i < 300; i++) {
			memcpy(mut, value, n);
			for (k = 0; k <= i % 3; k++)
				mut[rand_r(&seed) % n] ^= 1u << (rand_r(&seed) % 8);
			if (!memcmp(mut, value, n))
				continue;
			EXPECT_NE(0, appraise_cmw(self, &self->r, &cmw))
				TH_LOG("mutation %u passed", i);
			refused++;
		}
	}
	TH_LOG("%u structured mutants refused by both, %u random ones by the RP",
	       n_mutants, refused);
	/* and the genuine one still passes after all that */
	EXPECT_EQ(0, appraise_value(self, &genuine)) TH_LOG("%s", self->r.res.text.s);
	EXPECT_EQ(0, checkquote(self, &self->r, &genuine));
	katt_rp_exchange_end(&self->r.ex, self->clocks);
}

TEST_HARNESS_MAIN
