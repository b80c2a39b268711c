// SPDX-License-Identifier: GPL-2.0
/*
 * ak.c: the attestation key of ak.h: templates, creation under the
 * endorsement hierarchy, and the blobs kept in the state directory.
 *
 * Owns: the AK's ESAPI handle, ak.pub and ak.priv.  Calls: tss2-esys,
 * tss2-mu, statedir, tpm_crypto, log.
 */
#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>

#include "ak.h"
#include "log.h"
#include "statedir.h"
#include "tpm_crypto.h"

#define AK_ATTRS	(TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT |	\
			 TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |	\
			 TPMA_OBJECT_SENSITIVEDATAORIGIN |			\
			 TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_NODA)

/*
 * The parent: an ECC P-256 storage key (restricted decrypt, AES-128-CFB)
 * of the endorsement hierarchy, with the zero-filled unique field of the
 * TCG's storage key templates.
 */
static const TPM2B_PUBLIC parent_template = {
	.publicArea = {
		.type = TPM2_ALG_ECC,
		.nameAlg = TPM2_ALG_SHA256,
		.objectAttributes = TPMA_OBJECT_RESTRICTED |
				    TPMA_OBJECT_DECRYPT |
				    TPMA_OBJECT_FIXEDTPM |
				    TPMA_OBJECT_FIXEDPARENT |
				    TPMA_OBJECT_SENSITIVEDATAORIGIN |
				    TPMA_OBJECT_USERWITHAUTH |
				    TPMA_OBJECT_NODA,
		.parameters.eccDetail = {
			.symmetric = {
				.algorithm = TPM2_ALG_AES,
				.keyBits.aes = 128,
				.mode.aes = TPM2_ALG_CFB,
			},
			.scheme.scheme = TPM2_ALG_NULL,
			.curveID = TPM2_ECC_NIST_P256,
			.kdf.scheme = TPM2_ALG_NULL,
		},
		.unique.ecc = {
			.x.size = 32,
			.y.size = 32,
		},
	},
};

static const TPM2B_PUBLIC ak_template_ecc = {
	.publicArea = {
		.type = TPM2_ALG_ECC,
		.nameAlg = TPM2_ALG_SHA256,
		.objectAttributes = AK_ATTRS,
		.parameters.eccDetail = {
			.symmetric.algorithm = TPM2_ALG_NULL,
			.scheme = {
				.scheme = TPM2_ALG_ECDSA,
				.details.ecdsa.hashAlg = TPM2_ALG_SHA256,
			},
			.curveID = TPM2_ECC_NIST_P256,
			.kdf.scheme = TPM2_ALG_NULL,
		},
	},
};

static const TPM2B_PUBLIC ak_template_rsa = {
	.publicArea = {
		.type = TPM2_ALG_RSA,
		.nameAlg = TPM2_ALG_SHA256,
		.objectAttributes = AK_ATTRS,
		.parameters.rsaDetail = {
			.symmetric.algorithm = TPM2_ALG_NULL,
			.scheme = {
				.scheme = TPM2_ALG_RSASSA,
				.details.rsassa.hashAlg = TPM2_ALG_SHA256,
			},
			.keyBits = 2048,
			.exponent = 0,
		},
	},
};

/* @rc is the TPM's format-one error @err, whatever its parameter number */
static bool tpm_fmt1(TSS2_RC rc, TSS2_RC err)
{
	return !(rc & TSS2_RC_LAYER_MASK) && (rc & TPM2_RC_FMT1) &&
	       (rc & 0x3f) == (err & 0x3f);
}

static const char *type_name(TPMI_ALG_PUBLIC type)
{
	return type == TPM2_ALG_ECC ? "ECC" : type == TPM2_ALG_RSA ? "RSA" :
	       "unknown";
}

static int set_eh_auth(struct katt_tpm *tpm, const char *eh_auth)
{
	TPM2B_AUTH auth = { 0 };
	size_t len = eh_auth ? strlen(eh_auth) : 0;
	TSS2_RC rc;

	if (len > sizeof(auth.buffer))
		return -EINVAL;
	auth.size = len;
	memcpy(auth.buffer, eh_auth ? eh_auth : "", len);
	rc = Esys_TR_SetAuth(tpm->esys, ESYS_TR_RH_ENDORSEMENT, &auth);
	OPENSSL_cleanse(&auth, sizeof(auth));
	return rc ? katt_tpm_fail(rc, "TR_SetAuth(endorsement)") : 0;
}

static int create_parent(struct katt_tpm *tpm, ESYS_TR *parent)
{
	TPM2B_SENSITIVE_CREATE sens = { 0 };
	TPM2B_DATA outside = { 0 };
	TPML_PCR_SELECTION none = { 0 };
	TSS2_RC rc;

	rc = Esys_CreatePrimary(tpm->esys, ESYS_TR_RH_ENDORSEMENT,
				ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
				&sens, &parent_template, &outside, &none,
				parent, NULL, NULL, NULL, NULL);
	return rc ? katt_tpm_fail(rc, "CreatePrimary(endorsement, AK parent)") : 0;
}

/* Reads ak.pub and ak.priv; -ENOENT if there is no complete AK. */
static int load_blobs(const char *dir, TPM2B_PUBLIC *pub, TPM2B_PRIVATE *priv)
{
	uint8_t buf[sizeof(TPM2B_PUBLIC) + sizeof(TPM2B_PRIVATE)];
	size_t off = 0;
	long n;

	/* ak.pub is written last: without it, ak.priv is a leftover */
	n = katt_state_read(dir, KATT_AK_PUB_FILE, buf, sizeof(buf));
	if (n == -ENOENT)
		return -ENOENT;
	if (n < 0)
		goto out_read;
	/* tss2-mu refuses to unmarshal a TPM2B_PUBLIC into a non-zero size */
	memset(pub, 0, sizeof(*pub));
	if (Tss2_MU_TPM2B_PUBLIC_Unmarshal(buf, n, &off, pub) || off != (size_t)n)
		goto out_bad;
	n = katt_state_read(dir, KATT_AK_PRIV_FILE, buf, sizeof(buf));
	if (n < 0)
		goto out_read;
	off = 0;
	memset(priv, 0, sizeof(*priv));
	if (Tss2_MU_TPM2B_PRIVATE_Unmarshal(buf, n, &off, priv) || off != (size_t)n)
		goto out_bad;
	return 0;

out_read:
	katt_err("AK: reading %s: %s", dir, strerror(-n));
	return n;
out_bad:
	katt_err("AK: %s/%s or %s is not a marshalled TPM2B: move them away to make a new AK",
		 dir, KATT_AK_PUB_FILE, KATT_AK_PRIV_FILE);
	return -EINVAL;
}

static int save_blobs(const char *dir, const TPM2B_PUBLIC *pub,
		      const TPM2B_PRIVATE *priv)
{
	uint8_t buf[sizeof(TPM2B_PUBLIC) + sizeof(TPM2B_PRIVATE)];
	size_t off = 0;
	int ret;

	if (Tss2_MU_TPM2B_PRIVATE_Marshal(priv, buf, sizeof(buf), &off))
		return -EINVAL;
	ret = katt_state_write(dir, KATT_AK_PRIV_FILE, buf, off);
	if (ret)
		goto out;
	off = 0;
	if (Tss2_MU_TPM2B_PUBLIC_Marshal(pub, buf, sizeof(buf), &off))
		return -EINVAL;
	ret = katt_state_write(dir, KATT_AK_PUB_FILE, buf, off);
out:
	if (ret)
		katt_err("AK: writing it to %s: %s", dir, strerror(-ret));
	return ret;
}

static int create_ak(struct katt_tpm *tpm, ESYS_TR parent, TPMI_ALG_PUBLIC type,
		     TPM2B_PUBLIC *pub, TPM2B_PRIVATE *priv)
{
	TPM2B_SENSITIVE_CREATE sens = { 0 };
	TPM2B_PRIVATE *out_priv = NULL;
	TPM2B_PUBLIC *out_pub = NULL;
	TPM2B_DATA outside = { 0 };
	TPML_PCR_SELECTION none = { 0 };
	TSS2_RC rc;

	rc = Esys_Create(tpm->esys, parent, ESYS_TR_PASSWORD, ESYS_TR_NONE,
			 ESYS_TR_NONE, &sens,
			 type == TPM2_ALG_RSA ? &ak_template_rsa : &ak_template_ecc,
			 &outside, &none, &out_priv, &out_pub, NULL, NULL, NULL);
	if (rc)
		return katt_tpm_fail(rc, "Create(AK)");
	*pub = *out_pub;
	*priv = *out_priv;
	Esys_Free(out_pub);
	Esys_Free(out_priv);
	return 0;
}

int katt_ak_open(struct katt_tpm *tpm, const char *state_dir, TPMI_ALG_PUBLIC type,
		 const char *eh_auth, struct katt_ak *ak)
{
	TPM2B_NAME *name = NULL, computed;
	TPM2B_PRIVATE priv;
	ESYS_TR parent = ESYS_TR_NONE;
	bool created = false;
	size_t off = 0;
	TSS2_RC rc;
	int ret;

	memset(ak, 0, sizeof(*ak));
	ak->handle = ESYS_TR_NONE;
	if (type != TPM2_ALG_ECC && type != TPM2_ALG_RSA)
		return -EINVAL;
	ret = katt_state_prepare(state_dir);
	if (ret) {
		katt_err("AK: state directory %s: %s", state_dir, strerror(-ret));
		return ret;
	}
	ret = set_eh_auth(tpm, eh_auth);
	if (!ret)
		ret = create_parent(tpm, &parent);
	if (ret)
		return ret;

	ret = load_blobs(state_dir, &ak->pub, &priv);
	if (ret == -ENOENT) {
		ret = create_ak(tpm, parent, type, &ak->pub, &priv);
		if (!ret)
			ret = save_blobs(state_dir, &ak->pub, &priv);
		created = !ret;
	} else if (!ret && ak->pub.publicArea.type != type) {
		katt_err("AK: %s holds an %s AK, the configuration asks for %s: move %s and %s away to make a new one",
			 state_dir, type_name(ak->pub.publicArea.type),
			 type_name(type), KATT_AK_PUB_FILE, KATT_AK_PRIV_FILE);
		ret = -EEXIST;
	}
	if (ret)
		goto out_parent;

	rc = Esys_Load(tpm->esys, parent, ESYS_TR_PASSWORD, ESYS_TR_NONE,
		       ESYS_TR_NONE, &priv, &ak->pub, &ak->handle);
	if (rc) {
		if (tpm_fmt1(rc, TPM2_RC_INTEGRITY) ||
		    tpm_fmt1(rc, TPM2_RC_BINDING)) {
			katt_err("AK: the AK in %s was not made by this TPM (or its endorsement seed changed): %s; move %s and %s away to make a new one",
				 state_dir, Tss2_RC_Decode(rc),
				 KATT_AK_PUB_FILE, KATT_AK_PRIV_FILE);
			ret = -EKEYREJECTED;
		} else {
			ret = katt_tpm_fail(rc, "Load(AK)");
		}
		ak->handle = ESYS_TR_NONE;
		goto out_parent;
	}
	rc = Esys_TR_GetName(tpm->esys, ak->handle, &name);
	if (rc) {
		ret = katt_tpm_fail(rc, "TR_GetName(AK)");
		goto out_ak;
	}
	/* the Name the RP computes from the public area sent in Evidence */
	ret = katt_tpm_name(&ak->pub.publicArea, &computed);
	if (!ret && (computed.size != name->size ||
		     memcmp(computed.name, name->name, name->size))) {
		katt_err("AK: the TPM's Name of the AK is not the Name of its public area");
		ret = -EIO;
	}
	if (ret)
		goto out_ak;
	ak->name = *name;
	if (Tss2_MU_TPM2B_PUBLIC_Marshal(&ak->pub, ak->pub_blob,
					 sizeof(ak->pub_blob), &off)) {
		ret = -EIO;
		goto out_ak;
	}
	ak->pub_blob_len = off;
	katt_notice("AK: %s %s AK in %s", created ? "created a new" : "loaded the",
		    type_name(ak->pub.publicArea.type), state_dir);
	goto out_parent;

out_ak:
	Esys_FlushContext(tpm->esys, ak->handle);
	ak->handle = ESYS_TR_NONE;
out_parent:
	Esys_Free(name);
	OPENSSL_cleanse(&priv, sizeof(priv));
	/* the AK stays loaded; its parent is needed only to load it */
	rc = Esys_FlushContext(tpm->esys, parent);
	if (rc)
		katt_tpm_fail(rc, "FlushContext(AK parent)");
	return ret;
}

void katt_ak_close(struct katt_tpm *tpm, struct katt_ak *ak)
{
	if (ak->handle != ESYS_TR_NONE && tpm->esys)
		Esys_FlushContext(tpm->esys, ak->handle);
	ak->handle = ESYS_TR_NONE;
}
