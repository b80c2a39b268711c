// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of the relying party's appraisal (agent/appraise.c,
 * clockstore.c, rp.c), built with AddressSanitizer and UBSan, on quotes
 * forged in software (selftests/lib/forge.c): an OpenSSL key whose public
 * area claims to be a restricted signing key and that the policy pins,
 * signing TPMS_ATTEST structures built field by field.  A TPM's AK would
 * never sign them; that is what lets each check after the signature be
 * reached on its own, with inputs that pass every check before it:
 *
 *   0 the CMW (type offered, ind, value)   [5, 4]
 *   1 the AK (pinned, restricted signing)  [3]
 *   2 the signature                        [2]
 *   3 TPMS_ATTEST magic, type, leftovers   [4]
 *   4 extraData = the binder; a reflected quote  [1]
 *   5 pcrSelect against what was asked and the PCRs map; the digest  [4, 6]
 *   6 reference values                     [7]
 *   7 the counters, as of the Challenge    [9]
 *
 * and, when two checks fail, the earlier one's reason.  Then the counter
 * store on its own (order, marks, persistence, a raised or garbled file)
 * and the RP's exchange (Challenge out, Verdict back).  Quotes of a real
 * TPM are agent_quote's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tss2/tss2_mu.h>

#include "kselftest_harness.h"

#include "appraise.h"
#include "binder.h"
#include "clockstore.h"
#include "forge.h"
#include "proto.h"
#include "rp.h"
#include "swtpm.h"
#include "tpm_crypto.h"

#define SHA1		TPM2_ALG_SHA1
#define SHA256		TPM2_ALG_SHA256

FIXTURE(rp) {
	struct forge_key ak;
	struct katt_ak_pin pin;
	struct katt_reference ref;
	struct katt_rp_policy policy;
	struct forge_pcrs pcrs;
	struct katt_challenge ch;
	struct katt_binding binding;
	char state[64];
	struct katt_clock_store *clocks;
	struct katt_appraisal_ctx ctx;
	TPMS_ATTEST a;
	struct forged f;
};

FIXTURE_SETUP(rp)
{
	unsigned int i;

	ASSERT_EQ(0, forge_key_new(&self->ak, FORGE_AK_ATTRS));
	self->pin.by_name = true;
	self->pin.name = self->ak.name;
	memset(&self->policy, 0, sizeof(self->policy));
	self->policy.aks = &self->pin;
	self->policy.naks = 1;
	self->policy.sel.nbanks = 1;
	self->policy.sel.bank[0].alg = SHA256;
	self->policy.sel.bank[0].pcrs = 0xff;
	forge_pcrs_init(&self->pcrs);

	memset(&self->ch, 0, sizeof(self->ch));
	self->ch.rid = 7;
	for (i = 0; i < 32; i++)
		self->ch.nonce[i] = 0xc0 + i;
	self->ch.ntypes = 1;
	self->ch.types[0] = KATT_EV_TPM2_QUOTE;
	self->ch.has_sel = true;
	self->ch.sel = self->policy.sel;

	/* this RP is the TLS server; its peer, the client, attests */
	memset(&self->binding, 0, sizeof(self->binding));
	for (i = 0; i < 32; i++) {
		self->binding.exporter[i] = i;
		self->binding.peer_key[i] = 0x50 + i;
		self->binding.local_key[i] = 0x70 + i;
	}
	self->binding.has_peer_key = self->binding.has_local_key = true;
	self->binding.tls_server = true;

	strcpy(self->state, "/tmp/katt-rp.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->state));
	ASSERT_EQ(0, katt_clock_store_open(self->state, &self->clocks));
	self->ctx.policy = &self->policy;
	self->ctx.challenge = &self->ch;
	ASSERT_EQ(0, katt_binder_rp(&self->binding, self->ch.nonce,
				    self->ctx.binder));
	self->ctx.clocks = self->clocks;
	self->ctx.mark = katt_clock_mark(self->clocks);

	forge_attest_quote(&self->a, self->ctx.binder, &self->pcrs, 5, 0, 100000);
	ASSERT_EQ(0, forge_all(&self->f, &self->a, &self->ak, &self->pcrs.values));
}

FIXTURE_TEARDOWN(rp)
{
	katt_clock_store_close(self->clocks);
	forge_key_free(&self->ak);
	if (self->state[0])
		run_cmd("rm -rf '%s'", self->state);
}

/* Signs and wraps self->a again, with the PCR map @map. */
#define REFORGE(map)							\
	ASSERT_EQ(0, forge_all(&self->f, &self->a, &self->ak, (map)))

/* Appraises self->f; expects @reason from check @check. */
#define EXPECT_VERDICT(reason_, check_)					\
	do {								\
		struct katt_appraisal _r;				\
									\
		katt_appraise(&self->ctx, &self->f.cmw, &_r);		\
		EXPECT_EQ((reason_), _r.reason) TH_LOG("check %u: %s",	\
						       _r.check, _r.text.s); \
		if ((reason_))						\
			EXPECT_EQ((check_), _r.check)			\
				TH_LOG("%s", _r.text.s);		\
		EXPECT_GE(KATT_TEXT_MAX, _r.text.len);			\
	} while (0)

/* Expects the text of the appraisal of self->f to contain @want. */
#define EXPECT_TEXT(want)						\
	do {								\
		struct katt_appraisal _r;				\
									\
		katt_appraise(&self->ctx, &self->f.cmw, &_r);		\
		EXPECT_NE(NULL, strstr(_r.text.s, (want)))		\
			TH_LOG("\"%s\" not in \"%s\"", (want), _r.text.s); \
	} while (0)

/* --- the forged quote passes, as a genuine one would -------------------- */

TEST_F(rp, pass)
{
	struct katt_appraisal r;
	struct katt_counters c;

	katt_appraise(&self->ctx, &self->f.cmw, &r);
	EXPECT_EQ(0, r.reason) TH_LOG("%s", r.text.s);
	EXPECT_EQ(7, r.check);
	EXPECT_TRUE(r.have_ak);
	EXPECT_EQ(0, memcmp(r.ak_name.name, self->ak.name.name, self->ak.name.size));
	EXPECT_EQ(5, r.counters.reset);
	EXPECT_EQ(100000, r.counters.clock);
	EXPECT_EQ(1, r.quoted.nbanks);
	EXPECT_EQ(0xff, r.quoted.bank[0].pcrs);
	EXPECT_NE(NULL, strstr(r.text.s, "pass")) TH_LOG("%s", r.text.s);
	/* its counters are now the AK's floor for later Challenges */
	ASSERT_EQ(0, katt_clock_floor(self->clocks, &self->ak.name,
				      katt_clock_mark(self->clocks), &c));
	EXPECT_EQ(5, c.reset);
	EXPECT_EQ(100000, c.clock);
}

/* --- 0: the CMW ------------------------------------------------------------ */

TEST_F(rp, cmw_type_not_offered)
{
	static const char ear[] =
		"application/eat+cwt; eat_profile=\"tag:github.com,2023:veraison/ear\"";

	self->f.cmw.type = "application/cbor";
	self->f.cmw.type_len = strlen(self->f.cmw.type);
	EXPECT_VERDICT(KATT_REASON_TYPE_NOT_OFFERED, 0);
	/* a type of the table, not offered */
	self->f.cmw.type = ear;
	self->f.cmw.type_len = strlen(ear);
	EXPECT_VERDICT(KATT_REASON_TYPE_NOT_OFFERED, 0);
	/* the media type must match byte for byte */
	self->f.cmw.type = KATT_MEDIA_TPM2_QUOTE " ";
	self->f.cmw.type_len = strlen(self->f.cmw.type);
	EXPECT_VERDICT(KATT_REASON_TYPE_NOT_OFFERED, 0);
	self->f.cmw.type = "APPLICATION/vnd.ktls-attest.tpm2-quote+cbor";
	EXPECT_VERDICT(KATT_REASON_TYPE_NOT_OFFERED, 0);
	/* offered, but not one this RP appraises */
	self->ch.ntypes = 2;
	self->ch.types[1] = KATT_EV_EAR_CWT;
	self->f.cmw.type = ear;
	self->f.cmw.type_len = strlen(ear);
	EXPECT_VERDICT(KATT_REASON_VERIFIER_UNAVAILABLE, 0);
}

TEST_F(rp, cmw_ind_and_value)
{
	self->f.cmw.ind = KATT_CMW_IND_RESULT;
	EXPECT_VERDICT(KATT_REASON_MALFORMED_EVIDENCE, 0);
	self->f.cmw.has_ind = false;
	EXPECT_VERDICT(0, 0);
	/* a value that is no tpm2-quote, or breaks its encoding */
	self->f.cmw.value = (const uint8_t *)"\xa1\x01\x41\x00";
	self->f.cmw.value_len = 4;
	EXPECT_VERDICT(KATT_REASON_MALFORMED_EVIDENCE, 0);
	self->f.value[self->f.value_len] = 0;
	self->f.cmw.value = self->f.value;
	self->f.cmw.value_len = self->f.value_len + 1;
	EXPECT_VERDICT(KATT_REASON_MALFORMED_EVIDENCE, 0);
	EXPECT_TEXT("after the item");
}

/* --- 1: the AK --------------------------------------------------------------- */

TEST_F(rp, ak_not_pinned)
{
	struct forge_key other;

	ASSERT_EQ(0, forge_key_new(&other, FORGE_AK_ATTRS));
	self->pin.name = other.name;
	EXPECT_VERDICT(KATT_REASON_UNTRUSTED_KEY, 1);
	EXPECT_TEXT("not pinned");
	/* nothing pinned at all */
	self->policy.naks = 0;
	EXPECT_VERDICT(KATT_REASON_UNTRUSTED_KEY, 1);
	/* pinned by its key instead of its Name */
	self->policy.naks = 1;
	self->pin.by_name = false;
	memcpy(self->pin.spki_sha256, self->ak.spki_sha256, 32);
	EXPECT_VERDICT(0, 0);
	memcpy(self->pin.spki_sha256, other.spki_sha256, 32);
	EXPECT_VERDICT(KATT_REASON_UNTRUSTED_KEY, 1);
	forge_key_free(&other);
}

/*
 * An AK public that claims other attributes has another Name: not pinned.
 * Pinned by its key, the attributes it claims are what is checked.
 */
TEST_F(rp, ak_not_restricted_signing)
{
	static const TPMA_OBJECT bad[] = {
		FORGE_AK_ATTRS & ~TPMA_OBJECT_RESTRICTED,
		FORGE_AK_ATTRS & ~TPMA_OBJECT_SIGN_ENCRYPT,
		FORGE_AK_ATTRS & ~TPMA_OBJECT_FIXEDTPM,
		FORGE_AK_ATTRS & ~TPMA_OBJECT_FIXEDPARENT,
		FORGE_AK_ATTRS | TPMA_OBJECT_DECRYPT,
	};
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		self->ak.pub.publicArea.objectAttributes = bad[i];
		ASSERT_EQ(0, forge_key_update(&self->ak));
		REFORGE(&self->pcrs.values);
		self->pin.by_name = true;
		EXPECT_VERDICT(KATT_REASON_UNTRUSTED_KEY, 1);
		EXPECT_TEXT("not pinned");
		self->pin.name = self->ak.name;
		EXPECT_VERDICT(KATT_REASON_UNTRUSTED_KEY, 1);
		EXPECT_TEXT("not a restricted signing key");
		self->pin.by_name = false;
		memcpy(self->pin.spki_sha256, self->ak.spki_sha256, 32);
		EXPECT_VERDICT(KATT_REASON_UNTRUSTED_KEY, 1);
		EXPECT_TEXT("not a restricted signing key");
	}
}

TEST_F(rp, ak_public_malformed)
{
	uint8_t blob[sizeof(self->ak.pub_blob) + 1];
	size_t len = self->ak.pub_len;

	/* a byte after the TPM2B_PUBLIC */
	memcpy(blob, self->ak.pub_blob, len);
	blob[len] = 0;
	memcpy(self->ak.pub_blob, blob, len + 1);
	self->ak.pub_len = len + 1;
	REFORGE(&self->pcrs.values);
	EXPECT_VERDICT(KATT_REASON_UNTRUSTED_KEY, 1);
	EXPECT_TEXT("does not unmarshal");
	/* a size that says more than there is */
	self->ak.pub_len = len;
	self->ak.pub_blob[1]++;
	REFORGE(&self->pcrs.values);
	EXPECT_VERDICT(KATT_REASON_UNTRUSTED_KEY, 1);
	/* a weak nameAlg */
	ASSERT_EQ(0, forge_key_update(&self->ak));
	self->ak.pub.publicArea.nameAlg = SHA1;
	ASSERT_EQ(0, forge_key_update(&self->ak));
	self->pin.name = self->ak.name;
	REFORGE(&self->pcrs.values);
	EXPECT_VERDICT(KATT_REASON_UNTRUSTED_KEY, 1);
	EXPECT_TEXT("nameAlg");
}

/* Only AK certificates: this RP trusts no certificate issuer yet. */
TEST_F(rp, ak_certificates_only)
{
	long n;

	self->f.q.ak_pub.len = 0;
	self->f.q.ncerts = 1;
	self->f.q.cert[0].p = (const uint8_t *)"\x30\x03\x02\x01\x01";
	self->f.q.cert[0].len = 5;
	n = katt_tpm2_quote_encode(&self->f.q, self->f.value, sizeof(self->f.value));
	ASSERT_LT(0, n);
	self->f.cmw.value_len = n;
	EXPECT_VERDICT(KATT_REASON_UNTRUSTED_KEY, 1);
	EXPECT_TEXT("certificate");
}

/* --- 2: the signature --------------------------------------------------- */

TEST_F(rp, signature)
{
	struct forge_key other;
	TPMT_SIGNATURE sig;
	size_t off = 0;

	/* every bit of the signature matters */
	for (unsigned int bit = 0; bit < self->f.sig_len * 8; bit += 13) {
		REFORGE(&self->pcrs.values);
		self->f.sig[bit / 8] ^= 1u << (bit % 8);
		ASSERT_EQ(0, forge_value(&self->f, &self->ak, &self->pcrs.values));
		EXPECT_VERDICT(KATT_REASON_BAD_SIGNATURE, 2);
	}
	/* signed by another key than the AK sent */
	ASSERT_EQ(0, forge_key_new(&other, FORGE_AK_ATTRS));
	ASSERT_EQ(0, forge_marshal(&self->f, &self->a));
	ASSERT_EQ(0, forge_sign(&self->f, &other, SHA256));
	ASSERT_EQ(0, forge_value(&self->f, &self->ak, &self->pcrs.values));
	EXPECT_VERDICT(KATT_REASON_BAD_SIGNATURE, 2);
	forge_key_free(&other);
	/* a hash other than the AK's scheme's, and SHA-1 */
	ASSERT_EQ(0, forge_sign(&self->f, &self->ak, TPM2_ALG_SHA384));
	ASSERT_EQ(0, forge_value(&self->f, &self->ak, &self->pcrs.values));
	EXPECT_VERDICT(KATT_REASON_BAD_SIGNATURE, 2);
	EXPECT_TEXT("not the AK's own");
	self->ak.pub.publicArea.parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
	ASSERT_EQ(0, forge_key_update(&self->ak));
	self->pin.name = self->ak.name;
	ASSERT_EQ(0, forge_value(&self->f, &self->ak, &self->pcrs.values));
	/*
	 * A key without a scheme of its own may sign with SHA-384; the RP
	 * then hashes the PCRs with SHA-384 too, as TPM2_Quote does, and
	 * this SHA-256 pcrDigest no longer matches.
	 */
	EXPECT_VERDICT(KATT_REASON_PCR_DIGEST_MISMATCH, 5);
	ASSERT_EQ(0, forge_sign(&self->f, &self->ak, SHA1));
	ASSERT_EQ(0, forge_value(&self->f, &self->ak, &self->pcrs.values));
	EXPECT_VERDICT(KATT_REASON_BAD_SIGNATURE, 2);
	EXPECT_TEXT("SHA-256");
	/* a scheme that does not fit an ECC key */
	ASSERT_EQ(0, forge_sign(&self->f, &self->ak, SHA256));
	ASSERT_EQ(0, Tss2_MU_TPMT_SIGNATURE_Unmarshal(self->f.sig, self->f.sig_len,
						      &off, &sig));
	sig.sigAlg = TPM2_ALG_SM2;
	off = 0;
	ASSERT_EQ(0, Tss2_MU_TPMT_SIGNATURE_Marshal(&sig, self->f.sig,
						    sizeof(self->f.sig), &off));
	self->f.sig_len = off;
	ASSERT_EQ(0, forge_value(&self->f, &self->ak, &self->pcrs.values));
	EXPECT_VERDICT(KATT_REASON_BAD_SIGNATURE, 2);
	/* bytes after the TPMT_SIGNATURE */
	ASSERT_EQ(0, forge_sign(&self->f, &self->ak, SHA256));
	self->f.sig[self->f.sig_len++] = 0;
	ASSERT_EQ(0, forge_value(&self->f, &self->ak, &self->pcrs.values));
	EXPECT_VERDICT(KATT_REASON_BAD_SIGNATURE, 2);
	EXPECT_TEXT("unmarshal");
}

/* --- 3: TPMS_ATTEST --------------------------------------------------------- */

TEST_F(rp, attest_magic_type_leftovers)
{
	self->a.magic = 0xff544348;
	REFORGE(&self->pcrs.values);
	EXPECT_VERDICT(KATT_REASON_MALFORMED_EVIDENCE, 3);
	EXPECT_TEXT("magic");

	/* a certify structure, validly signed, is no quote */
	self->a.magic = TPM2_GENERATED_VALUE;
	self->a.type = TPM2_ST_ATTEST_CERTIFY;
	memset(&self->a.attested, 0, sizeof(self->a.attested));
	self->a.attested.certify.name.size = 2;
	REFORGE(&self->pcrs.values);
	EXPECT_VERDICT(KATT_REASON_MALFORMED_EVIDENCE, 3);
	EXPECT_TEXT("type 0x8017");

	/* trailing bytes, signed too */
	forge_attest_quote(&self->a, self->ctx.binder, &self->pcrs, 5, 0, 100000);
	ASSERT_EQ(0, forge_marshal(&self->f, &self->a));
	self->f.attest[self->f.attest_len++] = 0;
	ASSERT_EQ(0, forge_sign(&self->f, &self->ak, SHA256));
	ASSERT_EQ(0, forge_value(&self->f, &self->ak, &self->pcrs.values));
	EXPECT_VERDICT(KATT_REASON_MALFORMED_EVIDENCE, 3);
	EXPECT_TEXT("after the TPMS_ATTEST");

	/* truncated, and a type no TPMS_ATTEST has */
	ASSERT_EQ(0, forge_marshal(&self->f, &self->a));
	self->f.attest_len -= 3;
	ASSERT_EQ(0, forge_sign(&self->f, &self->ak, SHA256));
	ASSERT_EQ(0, forge_value(&self->f, &self->ak, &self->pcrs.values));
	EXPECT_VERDICT(KATT_REASON_MALFORMED_EVIDENCE, 3);
	ASSERT_EQ(0, forge_marshal(&self->f, &self->a));
	self->f.attest[4] = 0x12;
	self->f.attest[5] = 0x34;
	ASSERT_EQ(0, forge_sign(&self->f, &self->ak, SHA256));
	ASSERT_EQ(0, forge_value(&self->f, &self->ak, &self->pcrs.values));
	EXPECT_VERDICT(KATT_REASON_MALFORMED_EVIDENCE, 3);
	EXPECT_TEXT("unmarshal");
}

/* --- 4: the binder -------------------------------------------------------- */

TEST_F(rp, binder)
{
	uint8_t b[32];

	/* another nonce, another connection, no key hash */
	self->a.extraData.buffer[0] ^= 1;
	REFORGE(&self->pcrs.values);
	EXPECT_VERDICT(KATT_REASON_BINDER_MISMATCH, 4);
	self->a.extraData.size = 20;
	REFORGE(&self->pcrs.values);
	EXPECT_VERDICT(KATT_REASON_BINDER_MISMATCH, 4);
	self->a.extraData.size = 0;
	REFORGE(&self->pcrs.values);
	EXPECT_VERDICT(KATT_REASON_BINDER_MISMATCH, 4);

	/* the binder the attester's own end would have computed: right */
	{
		struct katt_binding peer = self->binding;

		peer.tls_server = false;
		memcpy(peer.local_key, self->binding.peer_key, 32);
		ASSERT_EQ(0, katt_binder_attester(&peer, self->ch.nonce, b));
		EXPECT_EQ(0, memcmp(b, self->ctx.binder, 32));
		/* its key hash left out by its application: wrong */
		peer.has_local_key = false;
		ASSERT_EQ(0, katt_binder_attester(&peer, self->ch.nonce, b));
		memcpy(self->a.extraData.buffer, b, 32);
		self->a.extraData.size = 32;
		REFORGE(&self->pcrs.values);
		EXPECT_VERDICT(KATT_REASON_BINDER_MISMATCH, 4);
	}

	/*
	 * Reflected: the RP's own Evidence, made for the same exporter and
	 * nonce as attester (its own TLS role), handed back to it.
	 */
	self->binding.has_local_key = false;
	self->binding.has_peer_key = false;
	ASSERT_EQ(0, katt_binder_rp(&self->binding, self->ch.nonce,
				    self->ctx.binder));
	ASSERT_EQ(0, katt_binder_attester(&self->binding, self->ch.nonce, b));
	memcpy(self->a.extraData.buffer, b, 32);
	REFORGE(&self->pcrs.values);
	EXPECT_VERDICT(KATT_REASON_BINDER_MISMATCH, 4);
	/* the same without the role byte's difference would pass */
	memcpy(self->a.extraData.buffer, self->ctx.binder, 32);
	REFORGE(&self->pcrs.values);
	EXPECT_VERDICT(0, 0);
}

/* --- 5: the selection, the map, the digest --------------------------------- */

/* A Challenge that asked for other PCRs than the quote's. */
TEST_F(rp, selection_not_covered)
{
	self->ch.sel.bank[0].pcrs = 0x1ff;
	EXPECT_VERDICT(KATT_REASON_MALFORMED_EVIDENCE, 5);
	EXPECT_TEXT("sha256:8");
	self->ch.sel.bank[0].pcrs = 0xff;
	self->ch.sel.nbanks = 2;
	self->ch.sel.bank[1].alg = SHA1;
	self->ch.sel.bank[1].pcrs = 1;
	EXPECT_VERDICT(KATT_REASON_MALFORMED_EVIDENCE, 5);
	EXPECT_TEXT("sha1:0");
	/* asked for less than quoted: fine */
	self->ch.sel.nbanks = 1;
	self->ch.sel.bank[0].pcrs = 0x81;
	EXPECT_VERDICT(0, 0);
	/* nothing asked for: the policy's reference values decide */
	self->ch.has_sel = false;
	EXPECT_VERDICT(0, 0);
}

/*
 * A quote of sha1 PCRs 0-7 whose values are sent as sha256 PCRs 0-4 (the
 * same 160 bytes, so the digest matches): refused, the selections differ.
 */
TEST_F(rp, selection_masquerade)
{
	struct forge_pcrs sha1, label;
	uint8_t raw[160];
	unsigned int i;

	memset(&sha1, 0, sizeof(sha1));
	forge_pcrs_bank(&sha1, SHA1, 0xff, 0x30);
	forge_attest_quote(&self->a, self->ctx.binder, &sha1, 5, 0, 100000);
	for (i = 0; i < 8; i++)
		memcpy(raw + 20 * i, sha1.store[0][i], 20);
	memset(&label, 0, sizeof(label));
	forge_pcrs_bank(&label, SHA256, 0x1f, 0);
	for (i = 0; i < 5; i++)
		memcpy(label.store[0][i], raw + 32 * i, 32);
	REFORGE(&label.values);
	EXPECT_VERDICT(KATT_REASON_MALFORMED_EVIDENCE, 5);
	/* with nothing asked for, the map still has to be what was quoted */
	self->ch.has_sel = false;
	EXPECT_VERDICT(KATT_REASON_MALFORMED_EVIDENCE, 5);
	EXPECT_TEXT("not in the PCRs map");
	/* and the genuine labels pass the map check */
	REFORGE(&sha1.values);
	EXPECT_VERDICT(0, 0);
}

TEST_F(rp, map_not_the_quoted_pcrs)
{
	struct forge_pcrs more = self->pcrs;
	struct katt_pcr_values map = self->pcrs.values;

	/* a PCR missing from the map */
	map.bank[0].pcrs &= ~0x80u;
	REFORGE(&map);
	EXPECT_VERDICT(KATT_REASON_MALFORMED_EVIDENCE, 5);
	EXPECT_TEXT("sha256:7 is not in the PCRs map");
	/* a PCR in the map that was not quoted */
	forge_pcrs_bank(&more, SHA256, 0x1ff, 0);
	REFORGE(&more.values);
	EXPECT_VERDICT(KATT_REASON_MALFORMED_EVIDENCE, 5);
	EXPECT_TEXT("sha256:8 of the PCRs map was not quoted");
	/* a bank in the map that was not quoted */
	forge_pcrs_bank(&more, SHA256, 0xff, 0);
	forge_pcrs_bank(&more, SHA1, 1, 0);
	REFORGE(&more.values);
	EXPECT_VERDICT(KATT_REASON_MALFORMED_EVIDENCE, 5);
	EXPECT_TEXT("sha1:0");
}

TEST_F(rp, pcr_select_malformed)
{
	TPMS_PCR_SELECTION *s = self->a.attested.quote.pcrSelect.pcrSelections;

	/* the same bank twice (the TPM accepts it; the map cannot say it) */
	self->a.attested.quote.pcrSelect.count = 2;
	s[1] = s[0];
	REFORGE(&self->pcrs.values);
	EXPECT_VERDICT(KATT_REASON_MALFORMED_EVIDENCE, 5);
	EXPECT_TEXT("twice");
	/* a PCR above 23 */
	self->a.attested.quote.pcrSelect.count = 1;
	s[0].sizeofSelect = 4;
	s[0].pcrSelect[3] = 0x80;
	REFORGE(&self->pcrs.values);
	EXPECT_VERDICT(KATT_REASON_MALFORMED_EVIDENCE, 5);
	EXPECT_TEXT("PCR 31");
	/* an empty bank is no bank */
	s[0].pcrSelect[3] = 0;
	self->a.attested.quote.pcrSelect.count = 2;
	s[1].hash = SHA1;
	s[1].sizeofSelect = 3;
	memset(s[1].pcrSelect, 0, sizeof(s[1].pcrSelect));
	REFORGE(&self->pcrs.values);
	EXPECT_VERDICT(0, 0);
}

/* An unsigned PCR map that lies: the digest no longer matches. */
TEST_F(rp, pcr_values_lie)
{
	self->pcrs.store[0][7][31] ^= 1;
	ASSERT_EQ(0, forge_value(&self->f, &self->ak, &self->pcrs.values));
	EXPECT_VERDICT(KATT_REASON_PCR_DIGEST_MISMATCH, 5);
	/* or the digest itself is wrong, and signed */
	self->pcrs.store[0][7][31] ^= 1;
	self->a.attested.quote.pcrDigest.buffer[0] ^= 1;
	REFORGE(&self->pcrs.values);
	EXPECT_VERDICT(KATT_REASON_PCR_DIGEST_MISMATCH, 5);
	/* two values swapped: the order of the concatenation counts */
	self->a.attested.quote.pcrDigest.buffer[0] ^= 1;
	memset(self->pcrs.store[0][0], 0xaa, 32);
	memset(self->pcrs.store[0][1], 0xbb, 32);
	forge_attest_quote(&self->a, self->ctx.binder, &self->pcrs, 5, 0, 100000);
	memset(self->pcrs.store[0][0], 0xbb, 32);
	memset(self->pcrs.store[0][1], 0xaa, 32);
	REFORGE(&self->pcrs.values);
	EXPECT_VERDICT(KATT_REASON_PCR_DIGEST_MISMATCH, 5);
}

/* --- 6: reference values ---------------------------------------------------- */

TEST_F(rp, reference_values)
{
	struct katt_reference *r = &self->ref;

	memset(r, 0, sizeof(*r));
	r->alg = SHA256;
	r->pcr = 7;
	r->size = 32;
	r->nvalues = 1;
	memset(r->value[0], 7, 32);	/* forge_pcrs_init's value of PCR 7 */
	self->policy.refs = r;
	self->policy.nrefs = 1;
	EXPECT_VERDICT(0, 0);
	/* another value */
	r->value[0][0] = 0x42;
	EXPECT_VERDICT(KATT_REASON_REFERENCE_MISMATCH, 6);
	EXPECT_TEXT("PCR sha256:7 is 0707070707070707..., policy expects 4207070707070707...");
	/* one of several accepted values */
	r->nvalues = 3;
	memset(r->value[1], 1, 32);
	memset(r->value[2], 7, 32);
	EXPECT_VERDICT(0, 0);
	r->value[2][0] = 0;
	EXPECT_VERDICT(KATT_REASON_REFERENCE_MISMATCH, 6);
	EXPECT_TEXT("or 2 other values");
	/* a PCR the policy names that the quote does not hold */
	r->nvalues = 1;
	r->pcr = 9;
	EXPECT_VERDICT(KATT_REASON_REFERENCE_MISMATCH, 6);
	EXPECT_TEXT("sha256:9, which the policy names, was not quoted");
	r->pcr = 7;
	r->alg = SHA1;
	EXPECT_VERDICT(KATT_REASON_REFERENCE_MISMATCH, 6);
}

/* --- 7: the counters ------------------------------------------------------- */

/* Appraises a quote with these counters, for the mark @mark. */
static unsigned int with_counters(FIXTURE_DATA(rp) *self, uint64_t mark,
				  uint32_t reset, uint32_t restart,
				  uint64_t clock)
{
	struct katt_appraisal r;

	forge_attest_quote(&self->a, self->ctx.binder, &self->pcrs, reset,
			   restart, clock);
	if (forge_all(&self->f, &self->a, &self->ak, &self->pcrs.values))
		return 1000;
	self->ctx.mark = mark;
	katt_appraise(&self->ctx, &self->f.cmw, &r);
	return r.reason;
}

TEST_F(rp, counters_order)
{
	uint64_t m;

	/* the AK's first quote: anything */
	m = katt_clock_mark(self->clocks);
	EXPECT_EQ(0, with_counters(self, m, 5, 2, 1000));
	/* clock back within the same resetCount and restartCount: refused */
	m = katt_clock_mark(self->clocks);
	EXPECT_EQ(KATT_REASON_COUNTER_REGRESSION, with_counters(self, m, 5, 2, 999));
	/* the same counters again (within one millisecond): fine */
	EXPECT_EQ(0, with_counters(self, m, 5, 2, 1000));
	/* a TPM Restart: restartCount up, clock back, fine */
	m = katt_clock_mark(self->clocks);
	EXPECT_EQ(0, with_counters(self, m, 5, 3, 10));
	/* restartCount back: refused, whatever the clock */
	m = katt_clock_mark(self->clocks);
	EXPECT_EQ(KATT_REASON_COUNTER_REGRESSION, with_counters(self, m, 5, 2, 99999));
	/* a TPM Reset: resetCount up, restartCount 0, clock back: fine */
	m = katt_clock_mark(self->clocks);
	EXPECT_EQ(0, with_counters(self, m, 6, 0, 5));
	/* resetCount back: refused, whatever restartCount and clock */
	m = katt_clock_mark(self->clocks);
	EXPECT_EQ(KATT_REASON_COUNTER_REGRESSION, with_counters(self, m, 5, 9, 1u << 30));
	EXPECT_TEXT("resetCount 5 is below 6");
}

/*
 * Quotes for connections challenged at once arrive in any order: each is
 * held to the counters as they were when its own Challenge went out.
 */
TEST_F(rp, counters_as_of_the_challenge)
{
	uint64_t m1, m2, m3;

	m1 = katt_clock_mark(self->clocks);
	EXPECT_EQ(0, with_counters(self, m1, 1, 0, 100));
	/* Challenges 2 and 3 go out; the attester quotes 2 first, then 3 */
	m2 = katt_clock_mark(self->clocks);
	m3 = katt_clock_mark(self->clocks);
	/* 3's quote arrives first and is accepted */
	EXPECT_EQ(0, with_counters(self, m3, 1, 0, 300));
	/* 2's quote, older than 3's, is still newer than what 2 was held to */
	EXPECT_EQ(0, with_counters(self, m2, 1, 0, 200));
	/* but not older than what was accepted before Challenge 2 */
	EXPECT_EQ(KATT_REASON_COUNTER_REGRESSION, with_counters(self, m2, 1, 0, 99));
	katt_clock_unmark(self->clocks, m1);
	katt_clock_unmark(self->clocks, m2);
	katt_clock_unmark(self->clocks, m3);
	/* a Challenge sent now is held to the highest: 300 */
	m1 = katt_clock_mark(self->clocks);
	EXPECT_EQ(KATT_REASON_COUNTER_REGRESSION, with_counters(self, m1, 1, 0, 250));
	EXPECT_EQ(0, with_counters(self, m1, 1, 0, 301));
}

/* The highest counters survive the agent: a new store reads them back. */
TEST_F(rp, counters_persist)
{
	char name[KATT_CLOCK_FILE_MAX];
	uint64_t m;

	m = katt_clock_mark(self->clocks);
	EXPECT_EQ(0, with_counters(self, m, 3, 1, 5000));
	katt_clock_store_close(self->clocks);
	ASSERT_EQ(0, katt_clock_store_open(self->state, &self->clocks));
	self->ctx.clocks = self->clocks;
	m = katt_clock_mark(self->clocks);
	EXPECT_EQ(KATT_REASON_COUNTER_REGRESSION, with_counters(self, m, 3, 1, 4999));
	EXPECT_EQ(0, with_counters(self, m, 3, 1, 5000));
	katt_clock_file(&self->ak.name, name, sizeof(name));
	EXPECT_EQ(0, run_cmd("grep -q '\"clock\": *5000' '%s/%s'", self->state, name));
}

/* Counters raised in the state directory: the next quote is below them. */
TEST_F(rp, counters_raised_in_state_dir)
{
	char name[KATT_CLOCK_FILE_MAX];
	uint64_t m;

	katt_clock_file(&self->ak.name, name, sizeof(name));
	ASSERT_EQ(0, run_cmd("echo '{\"resetCount\": 5, \"restartCount\": 0, \"clock\": 100001}' > '%s/%s'",
			     self->state, name));
	m = katt_clock_mark(self->clocks);
	EXPECT_EQ(KATT_REASON_COUNTER_REGRESSION, with_counters(self, m, 5, 0, 100000));
	EXPECT_EQ(0, with_counters(self, m, 5, 0, 100001));
}

/* A file that cannot be read fails closed, reason 11. */
TEST_F(rp, counters_file_garbled)
{
	static const char *const bad[] = {
		"garbage",
		"{\"resetCount\": 1, \"restartCount\": 0}",
		"{\"resetCount\": -1, \"restartCount\": 0, \"clock\": 1}",
		"{\"resetCount\": 4294967296, \"restartCount\": 0, \"clock\": 1}",
		"{\"resetCount\": 1, \"restartCount\": 0, \"clock\": 1, \"x\": 1}",
		"{\"resetCount\": 1, \"resetCount\": 2, \"restartCount\": 0, \"clock\": 1}",
		"{\"resetCount\": \"1\", \"restartCount\": 0, \"clock\": 1}",
	};
	char name[KATT_CLOCK_FILE_MAX];
	unsigned int i;

	katt_clock_file(&self->ak.name, name, sizeof(name));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		katt_clock_store_close(self->clocks);
		ASSERT_EQ(0, run_cmd("echo '%s' > '%s/%s'", bad[i], self->state, name));
		ASSERT_EQ(0, katt_clock_store_open(self->state, &self->clocks));
		self->ctx.clocks = self->clocks;
		EXPECT_EQ(KATT_REASON_VERIFIER_UNAVAILABLE,
			  with_counters(self, katt_clock_mark(self->clocks), 5, 0, 1))
			TH_LOG("%s", bad[i]);
	}
}

/* --- which reason wins: the earlier check ------------------------------------ */

TEST_F(rp, first_failing_check_decides)
{
	struct forge_key other;

	/* a wrong binder and a lying PCR map: the binder's */
	self->a.extraData.buffer[3] ^= 1;
	REFORGE(&self->pcrs.values);
	self->pcrs.store[0][1][0] ^= 1;
	ASSERT_EQ(0, forge_value(&self->f, &self->ak, &self->pcrs.values));
	EXPECT_VERDICT(KATT_REASON_BINDER_MISMATCH, 4);
	/* and a broken signature before them: the signature's */
	self->f.sig[self->f.sig_len - 1] ^= 1;
	ASSERT_EQ(0, forge_value(&self->f, &self->ak, &self->pcrs.values));
	EXPECT_VERDICT(KATT_REASON_BAD_SIGNATURE, 2);
	/* and an AK not pinned before all: the AK's */
	ASSERT_EQ(0, forge_key_new(&other, FORGE_AK_ATTRS));
	self->pin.name = other.name;
	EXPECT_VERDICT(KATT_REASON_UNTRUSTED_KEY, 1);
	forge_key_free(&other);
	/* a bad magic and a counter regression: the magic's */
	self->pin.name = self->ak.name;
	EXPECT_EQ(0, with_counters(self, katt_clock_mark(self->clocks), 9, 0, 9));
	self->ctx.mark = katt_clock_mark(self->clocks);
	forge_attest_quote(&self->a, self->ctx.binder, &self->pcrs, 1, 0, 1);
	self->a.magic = 0;
	REFORGE(&self->pcrs.values);
	EXPECT_VERDICT(KATT_REASON_MALFORMED_EVIDENCE, 3);
	/* a reference mismatch and a counter regression: the reference's */
	self->a.magic = TPM2_GENERATED_VALUE;
	REFORGE(&self->pcrs.values);
	EXPECT_VERDICT(KATT_REASON_COUNTER_REGRESSION, 7);
	memset(&self->ref, 0, sizeof(self->ref));
	self->ref.alg = SHA256;
	self->ref.pcr = 0;
	self->ref.size = 32;
	self->ref.nvalues = 1;
	self->ref.value[0][0] = 1;	/* PCR 0's value is all zeros */
	self->policy.refs = &self->ref;
	self->policy.nrefs = 1;
	EXPECT_VERDICT(KATT_REASON_REFERENCE_MISMATCH, 6);
}

/* --- the exchange: Challenge out, Verdict back ------------------------------- */

TEST_F(rp, exchange)
{
	static uint8_t buf[KATT_MSG_MAX];
	struct katt_rp_exchange ex = { 0 }, ex2 = { 0 };
	struct katt_decode_err e;
	struct katt_appraisal r;
	struct katt_msg m, ev;
	long n;

	n = katt_rp_challenge(&ex, &self->policy, self->clocks, 12, buf, sizeof(buf));
	ASSERT_LT(0, n);
	ASSERT_EQ(0, katt_msg_decode(buf, n, &m, &e)) TH_LOG("%s", e.why);
	ASSERT_EQ(KATT_MSG_CHALLENGE, m.type);
	EXPECT_EQ(12, m.challenge.rid);
	EXPECT_EQ(1, m.challenge.ntypes);
	EXPECT_EQ(KATT_EV_TPM2_QUOTE, m.challenge.types[0]);
	EXPECT_TRUE(m.challenge.has_sel);
	EXPECT_EQ(0xff, m.challenge.sel.bank[0].pcrs);
	EXPECT_TRUE(ex.open);
	/* a fresh nonce each time */
	ASSERT_LT(0, katt_rp_challenge(&ex2, &self->policy, self->clocks, 13, buf,
				       sizeof(buf)));
	EXPECT_NE(0, memcmp(ex.challenge.nonce, ex2.challenge.nonce, 32));
	katt_rp_exchange_end(&ex2, self->clocks);
	EXPECT_FALSE(ex2.open);

	/* the peer's Evidence, bound to this Challenge */
	ASSERT_EQ(0, katt_binder_rp(&self->binding, ex.challenge.nonce,
				    self->ctx.binder));
	forge_attest_quote(&self->a, self->ctx.binder, &self->pcrs, 1, 0, 1);
	REFORGE(&self->pcrs.values);
	memset(&ev, 0, sizeof(ev));
	ev.version = 1;
	ev.type = KATT_MSG_EVIDENCE;
	ev.evidence.rid = 99;
	ev.evidence.cmw = self->f.cmw;
	/* another round id: unexpected, the exchange stays open */
	EXPECT_EQ(-EPROTO, katt_rp_verdict(&ex, &self->policy, self->clocks,
					   &self->binding, &ev, &r, buf, sizeof(buf)));
	EXPECT_TRUE(ex.open);
	ev.evidence.rid = 12;
	n = katt_rp_verdict(&ex, &self->policy, self->clocks, &self->binding, &ev,
			    &r, buf, sizeof(buf));
	ASSERT_LT(0, n);
	EXPECT_EQ(0, r.reason) TH_LOG("%s", r.text.s);
	EXPECT_FALSE(ex.open);
	ASSERT_EQ(0, katt_msg_decode(buf, n, &m, &e)) TH_LOG("%s", e.why);
	ASSERT_EQ(KATT_MSG_VERDICT, m.type);
	EXPECT_EQ(12, m.verdict.rid);
	EXPECT_EQ(KATT_RESULT_PASS, m.verdict.result);
	EXPECT_EQ(0, m.verdict.reason);
	/* twice: no exchange open any more */
	EXPECT_EQ(-EPROTO, katt_rp_verdict(&ex, &self->policy, self->clocks,
					   &self->binding, &ev, &r, buf, sizeof(buf)));

	/* a failing Verdict carries the reason and its text */
	ASSERT_LT(0, katt_rp_challenge(&ex, &self->policy, self->clocks, 14, buf,
				       sizeof(buf)));
	ev.evidence.rid = 14;
	n = katt_rp_verdict(&ex, &self->policy, self->clocks, &self->binding, &ev,
			    &r, buf, sizeof(buf));
	ASSERT_LT(0, n);
	EXPECT_EQ(KATT_REASON_BINDER_MISMATCH, r.reason);
	ASSERT_EQ(0, katt_msg_decode(buf, n, &m, &e)) TH_LOG("%s", e.why);
	EXPECT_EQ(KATT_RESULT_FAIL, m.verdict.result);
	EXPECT_EQ(KATT_REASON_BINDER_MISMATCH, m.verdict.reason);
	EXPECT_TRUE(m.verdict.has_text);
	EXPECT_NE(NULL, strstr(m.verdict.text.s, "binder")) TH_LOG("%s", m.verdict.text.s);
}

/* No selection in the policy: the Challenge carries none. */
TEST_F(rp, challenge_without_selection)
{
	static uint8_t buf[KATT_MSG_MAX];
	struct katt_rp_exchange ex = { 0 };
	struct katt_decode_err e;
	struct katt_msg m;
	long n;

	self->policy.sel.nbanks = 0;
	n = katt_rp_challenge(&ex, &self->policy, self->clocks, 1, buf, sizeof(buf));
	ASSERT_LT(0, n);
	ASSERT_EQ(0, katt_msg_decode(buf, n, &m, &e));
	EXPECT_FALSE(m.challenge.has_sel);
	katt_rp_exchange_end(&ex, self->clocks);
}

/* --- the counter store on its own ------------------------------------------ */

TEST(counters_compare)
{
	struct katt_counters a = { 1, 0, 100 }, b;

	b = a;
	EXPECT_EQ(0, katt_counters_cmp(&a, &b));
	b.clock = 99;
	EXPECT_LT(0, katt_counters_cmp(&a, &b));
	b.restart = 1;
	EXPECT_GT(0, katt_counters_cmp(&a, &b));
	b.restart = 0;
	b.reset = 2;
	b.clock = 0;
	EXPECT_GT(0, katt_counters_cmp(&a, &b));
	b.reset = 0;
	b.clock = UINT64_MAX;
	EXPECT_LT(0, katt_counters_cmp(&a, &b));
}

/* Histories shrink back to one entry once no Challenge is open. */
TEST(counters_marks)
{
	char dir[] = "/tmp/katt-clock.XXXXXX";
	struct katt_clock_store *s;
	TPM2B_NAME ak = { .size = 34, .name = { 0, 0x0b, 1, 2, 3 } };
	struct katt_counters c = { 1, 0, 0 }, f;
	uint64_t m[100];
	unsigned int i;

	ASSERT_NE(NULL, mkdtemp(dir));
	ASSERT_EQ(0, katt_clock_store_open(dir, &s));
	EXPECT_EQ(-ENOENT, katt_clock_floor(s, &ak, katt_clock_mark(s), &f));
	/* 100 Challenges out, each quote accepted as it comes */
	for (i = 0; i < 100; i++)
		m[i] = katt_clock_mark(s);
	for (i = 0; i < 100; i++) {
		c.clock = 10 * (i + 1);
		ASSERT_EQ(0, katt_clock_accept(s, &ak, &c));
	}
	/* every one of them is held to what was known when it went out */
	for (i = 0; i < 100; i++)
		EXPECT_EQ(-ENOENT, katt_clock_floor(s, &ak, m[i], &f));
	for (i = 0; i < 100; i++)
		katt_clock_unmark(s, m[i]);
	ASSERT_EQ(0, katt_clock_floor(s, &ak, katt_clock_mark(s), &f));
	EXPECT_EQ(1000, f.clock);
	/* a lower one changes nothing, on disk or in memory */
	c.clock = 5;
	EXPECT_EQ(0, katt_clock_accept(s, &ak, &c));
	ASSERT_EQ(0, katt_clock_floor(s, &ak, katt_clock_mark(s), &f));
	EXPECT_EQ(1000, f.clock);
	/* unmarking what was never marked is harmless */
	katt_clock_unmark(s, 123456);
	katt_clock_store_close(s);
	run_cmd("rm -rf '%s'", dir);
}

TEST_HARNESS_MAIN
