/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ak.h: the attester's attestation key (AK), created once and kept.
 *
 * The AK is a restricted signing key (ECC NIST P-256 with ECDSA-SHA256 by
 * default, RSA-2048 with RSASSA-SHA256 as an option) in the endorsement
 * hierarchy: TPM 2.0 obfuscates resetCount and restartCount in the quotes
 * of keys in the owner or null hierarchy, and the RP's clock check needs
 * them.  Its parent is a primary storage key of the endorsement hierarchy,
 * made again from its fixed template on every start (the same seed gives
 * the same key); the AK itself is kept as the blobs TPM2_Create returned,
 * marshalled with tss2-mu in the state directory: ak.pub (TPM2B_PUBLIC, the
 * tpm2-tools "tss" format) and ak.priv (TPM2B_PRIVATE, wrapped by the
 * parent, useless without this TPM).  Neither a saved context (a transient
 * object's saved context fails its integrity check after a TPM Reset, that
 * is after every reboot) nor a persistent handle (owner authorization, NV
 * space shared by every user of the TPM) would serve as well.
 *
 * Owns: the AK's handle in the ESAPI context, ak.pub and ak.priv.  Calls:
 * tss2-esys, tss2-mu, statedir, tpm_crypto (the Name), log.
 */
#ifndef KATT_AGENT_AK_H
#define KATT_AGENT_AK_H

#include <tss2/tss2_esys.h>

#include "tpm.h"

#define KATT_AK_PUB_FILE	"ak.pub"
#define KATT_AK_PRIV_FILE	"ak.priv"

struct katt_ak {
	ESYS_TR handle;
	TPM2B_PUBLIC pub;
	/* pub, marshalled as sent in Evidence (key 5) */
	uint8_t pub_blob[sizeof(TPM2B_PUBLIC)];
	size_t pub_blob_len;
	TPM2B_NAME name;
};

/*
 * Loads the AK kept in @state_dir, or creates it there if there is none.
 * @type is TPM2_ALG_ECC or TPM2_ALG_RSA (for a new AK; an existing one of
 * the other type is an error: -EEXIST).  @eh_auth is the endorsement
 * hierarchy's authorization (NULL: empty).  Returns 0 or a negative errno,
 * logged: -EKEYREJECTED if the kept AK is not this TPM's (another TPM, or
 * its endorsement seed changed), -EIO for other TPM errors.
 */
int katt_ak_open(struct katt_tpm *tpm, const char *state_dir, TPMI_ALG_PUBLIC type,
		 const char *eh_auth, struct katt_ak *ak);
void katt_ak_close(struct katt_tpm *tpm, struct katt_ak *ak);

#endif /* KATT_AGENT_AK_H */
