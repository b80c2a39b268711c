// SPDX-License-Identifier: GPL-2.0
/*
 * The TPM the test VM gives the guest (swtpm behind tpm-tis, through the
 * kernel's resource manager /dev/tpmrm0) does what TPM 2.0 specifies for
 * the commands attestation rests on: GetRandom, PCR_Read and PCR_Extend.
 *
 * The TCTI is "device:/dev/tpmrm0" unless TPM2TOOLS_TCTI names another
 * (the variable tpm2-tools read, e.g. "swtpm:port=2321"); without it and
 * without /dev/tpmrm0 every test is skipped.
 */

#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include "kselftest_harness.h"

#define TPM_DEVICE	"/dev/tpmrm0"
#define RANDOM_BYTES	32
#define SHA256_BYTES	32
/* PCR 16 is the debug PCR: resettable, extendable at locality 0. */
#define DEBUG_PCR	16

/*
 * The 6.1 harness runs a test's body after a SKIP() in its setup (newer ones
 * do not), so each body returns at once when esys is NULL.
 */
FIXTURE(tpm) {
	TSS2_TCTI_CONTEXT *tcti;
	ESYS_CONTEXT *esys;
};

FIXTURE_SETUP(tpm)
{
	const char *conf = getenv("TPM2TOOLS_TCTI");
	TSS2_RC rc;

	if (!conf) {
		if (access(TPM_DEVICE, F_OK))
			SKIP(return, "no %s: no TPM 2.0 in this kernel or machine",
			     TPM_DEVICE);
		conf = "device:" TPM_DEVICE;
	}
	rc = Tss2_TctiLdr_Initialize(conf, &self->tcti);
	ASSERT_EQ(TSS2_RC_SUCCESS, rc)
		TH_LOG("TCTI \"%s\": %s", conf, Tss2_RC_Decode(rc));
	rc = Esys_Initialize(&self->esys, self->tcti, NULL);
	ASSERT_EQ(TSS2_RC_SUCCESS, rc)
		TH_LOG("Esys_Initialize: %s", Tss2_RC_Decode(rc));
}

FIXTURE_TEARDOWN(tpm)
{
	Esys_Finalize(&self->esys);
	if (self->tcti)
		Tss2_TctiLdr_Finalize(&self->tcti);
}

/* Reads the SHA-256 bank's value of one PCR into @value. */
static void pcr_read_sha256(struct __test_metadata *_metadata,
			    ESYS_CONTEXT *esys, unsigned int pcr,
			    BYTE value[SHA256_BYTES])
{
	TPML_PCR_SELECTION sel = {
		.count = 1,
		.pcrSelections[0] = {
			.hash = TPM2_ALG_SHA256,
			.sizeofSelect = 3,
		},
	};
	TPML_PCR_SELECTION *sel_out = NULL;
	TPML_DIGEST *values = NULL;
	UINT32 update_counter;
	TSS2_RC rc;

	sel.pcrSelections[0].pcrSelect[pcr / 8] = 1 << (pcr % 8);
	rc = Esys_PCR_Read(esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
			   &sel, &update_counter, &sel_out, &values);
	ASSERT_EQ(TSS2_RC_SUCCESS, rc)
		TH_LOG("PCR_Read of sha256 PCR %u: %s", pcr, Tss2_RC_Decode(rc));
	ASSERT_EQ(1, values->count)
		TH_LOG("PCR_Read of sha256 PCR %u gave %u values", pcr,
		       values->count);
	ASSERT_EQ(SHA256_BYTES, values->digests[0].size);
	memcpy(value, values->digests[0].buffer, SHA256_BYTES);
	Esys_Free(sel_out);
	Esys_Free(values);
}

TEST_F(tpm, get_random)
{
	TPM2B_DIGEST *first = NULL, *second = NULL;
	TSS2_RC rc;

	if (!self->esys)
		return;
	rc = Esys_GetRandom(self->esys, ESYS_TR_NONE, ESYS_TR_NONE,
			    ESYS_TR_NONE, RANDOM_BYTES, &first);
	ASSERT_EQ(TSS2_RC_SUCCESS, rc)
		TH_LOG("GetRandom(%d): %s", RANDOM_BYTES, Tss2_RC_Decode(rc));
	ASSERT_EQ(RANDOM_BYTES, first->size);
	rc = Esys_GetRandom(self->esys, ESYS_TR_NONE, ESYS_TR_NONE,
			    ESYS_TR_NONE, RANDOM_BYTES, &second);
	ASSERT_EQ(TSS2_RC_SUCCESS, rc)
		TH_LOG("second GetRandom(%d): %s", RANDOM_BYTES,
		       Tss2_RC_Decode(rc));
	ASSERT_EQ(RANDOM_BYTES, second->size);
	EXPECT_NE(0, memcmp(first->buffer, second->buffer, RANDOM_BYTES))
		TH_LOG("two GetRandom calls returned the same %d bytes",
		       RANDOM_BYTES);
	Esys_Free(first);
	Esys_Free(second);
}

TEST_F(tpm, pcr_read_sha256_0_7)
{
	TPML_PCR_SELECTION sel = {
		.count = 1,
		.pcrSelections[0] = {
			.hash = TPM2_ALG_SHA256,
			.sizeofSelect = 3,
			.pcrSelect = { 0xff, 0x00, 0x00 },
		},
	};
	TPML_PCR_SELECTION *sel_out = NULL;
	TPML_DIGEST *values = NULL;
	UINT32 update_counter, i;
	TSS2_RC rc;

	if (!self->esys)
		return;
	rc = Esys_PCR_Read(self->esys, ESYS_TR_NONE, ESYS_TR_NONE,
			   ESYS_TR_NONE, &sel, &update_counter, &sel_out,
			   &values);
	ASSERT_EQ(TSS2_RC_SUCCESS, rc)
		TH_LOG("PCR_Read of sha256 PCRs 0-7: %s", Tss2_RC_Decode(rc));
	ASSERT_EQ(1, sel_out->count);
	EXPECT_EQ(TPM2_ALG_SHA256, sel_out->pcrSelections[0].hash);
	EXPECT_EQ(0xff, sel_out->pcrSelections[0].pcrSelect[0])
		TH_LOG("TPM selected %#x of PCRs 0-7 (no sha256 bank?)",
		       sel_out->pcrSelections[0].pcrSelect[0]);
	ASSERT_EQ(8, values->count);
	for (i = 0; i < values->count; i++)
		EXPECT_EQ(SHA256_BYTES, values->digests[i].size)
			TH_LOG("PCR %u", i);
	Esys_Free(sel_out);
	Esys_Free(values);
}

TEST_F(tpm, pcr_extend_sha256)
{
	static const char label[] = "ktls-attest selftests/tpm_basic";
	TPML_DIGEST_VALUES digests = {
		.count = 1,
		.digests[0].hashAlg = TPM2_ALG_SHA256,
	};
	BYTE *digest = digests.digests[0].digest.sha256;
	BYTE old_and_digest[2 * SHA256_BYTES];
	BYTE expected[SHA256_BYTES], value[SHA256_BYTES];
	char hex_value[2 * SHA256_BYTES + 1];
	char hex_expected[2 * SHA256_BYTES + 1];
	TSS2_RC rc;

	if (!self->esys)
		return;
	ASSERT_EQ(1, EVP_Digest(label, strlen(label), digest, NULL,
				EVP_sha256(), NULL));
	pcr_read_sha256(_metadata, self->esys, DEBUG_PCR, old_and_digest);
	rc = Esys_PCR_Extend(self->esys, ESYS_TR_PCR0 + DEBUG_PCR,
			     ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
			     &digests);
	ASSERT_EQ(TSS2_RC_SUCCESS, rc)
		TH_LOG("PCR_Extend of PCR %d: %s", DEBUG_PCR,
		       Tss2_RC_Decode(rc));
	pcr_read_sha256(_metadata, self->esys, DEBUG_PCR, value);

	/* TPM2_PCR_Extend: new = SHA256(old || digest) for the sha256 bank */
	memcpy(old_and_digest + SHA256_BYTES, digest, SHA256_BYTES);
	ASSERT_EQ(1, EVP_Digest(old_and_digest, sizeof(old_and_digest),
				expected, NULL, EVP_sha256(), NULL));
	EXPECT_EQ(0, memcmp(value, expected, SHA256_BYTES)) {
		OPENSSL_buf2hexstr_ex(hex_value, sizeof(hex_value), NULL,
				      value, SHA256_BYTES, '\0');
		OPENSSL_buf2hexstr_ex(hex_expected, sizeof(hex_expected), NULL,
				      expected, SHA256_BYTES, '\0');
		TH_LOG("PCR %d is %s, SHA256(old || digest) is %s", DEBUG_PCR,
		       hex_value, hex_expected);
	}
}

TEST_HARNESS_MAIN
