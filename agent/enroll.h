/* SPDX-License-Identifier: GPL-2.0 */
/*
 * enroll.h: "ktls-attestd enroll", the enrolment of this host for a peer
 * (Documentation/agent-config.rst, "Enrolment"): opens the TPM and the AK
 * as the daemon would (creating the AK if there is none), prints the AK's
 * Name, the SHA-256 of its key's SubjectPublicKeyInfo and its public key,
 * and with -o writes a policy file for the PEER that pins this AK and
 * takes this host's current PCR values as the reference.
 *
 * Owns: the TPM connection and the AK while it runs, the policy file it
 * writes.  Calls: config, tpm, ak, tpm_crypto, jansson, OpenSSL, log.
 */
#ifndef KATT_AGENT_ENROLL_H
#define KATT_AGENT_ENROLL_H

/*
 * argv[0] is "enroll"; options -c CONFIG, --pcrs SEL, -o FILE, -j, -h.
 * Returns the exit status: 0 done, 1 runtime failure, 2 usage error.
 */
int katt_enroll_main(int argc, char **argv);

#endif /* KATT_AGENT_ENROLL_H */
