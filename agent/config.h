/* SPDX-License-Identifier: GPL-2.0 */
/*
 * config.h: ktls-attestd's two files, read with jansson
 * (Documentation/agent.rst, "Configuration" and "Policy"):
 *
 *  - the configuration (default /etc/ktls-attestd/config.json): where the
 *    TPM, the state directory and the policy are, the AK's type, the event
 *    logs; read once at start;
 *  - the policy (its path in the configuration): what this host as
 *    attester gives to whom, and what it as relying party asks for and
 *    accepts; read at start and again on SIGHUP.  A policy that does not
 *    load on SIGHUP is logged and the one in force stays.
 *
 * Unknown keys, wrong types, values out of range, duplicate keys and
 * trailing data are errors: each says the file, the line and column when
 * jansson gives them, and the JSON path of the field ("relying_party.aks[1]
 * .name: not 34 bytes of hex").
 *
 * Owns: the structures it fills (freed with the _free functions; a policy is
 * immutable once loaded, so the daemon swaps the pointer on reload and frees
 * the old one when no round uses it).  Calls: jansson, log.
 */
#ifndef KATT_AGENT_CONFIG_H
#define KATT_AGENT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include <tss2/tss2_tpm2_types.h>

#include "appraise.h"
#include "proto.h"

#define KATT_CONFIG_DEFAULT	"/etc/ktls-attestd/config.json"
#define KATT_STATE_DIR_DEFAULT	"/var/lib/ktls-attestd"
#define KATT_POLICY_DEFAULT	"/etc/ktls-attestd/policy.json"

struct katt_config {
	char *path;			/* the file it came from */
	char *tcti;			/* "tcti"; NULL: KATT_TPM_DEFAULT_TCTI */
	char *state_dir;		/* "state_dir" */
	char *policy_path;		/* "policy", relative to the config's dir */
	TPMI_ALG_PUBLIC ak_type;	/* "ak_type": "ecc" (default) or "rsa" */
	char *eh_auth;			/* "endorsement_auth"; NULL: empty */
	unsigned int nlogs;		/* "event_logs": [{"path", "format"}] */
	char *log_path[KATT_QUOTE_LOGS_MAX];
	unsigned int log_format[KATT_QUOTE_LOGS_MAX];	/* "tcg" / "ima" */
	bool use_syslog;		/* "log": "stderr" (default) / "syslog" */
};

/* To whom this host's Evidence goes ("attester.peers"). */
enum katt_peer_rule {
	KATT_PEERS_VERIFIED,	/* "verified" (default): only to a peer whose
				 * certificate this host verified (binding
				 * flag PEER_VERIFIED) */
	KATT_PEERS_ANY,		/* "any": to every peer */
};

struct katt_policy {
	char *path;
	/* attester */
	bool attester;			/* "attester" present */
	enum katt_peer_rule peers;
	/* quoted when a Challenge has no selection ("attester.pcrs") */
	struct katt_pcr_sel default_sel;
	/*
	 * A Challenge may ask only for PCRs within this ("attester.allow_pcrs";
	 * default: default_sel); asking for more gets Error 2.
	 */
	struct katt_pcr_sel allow_sel;
	/* relying party */
	bool rp;			/* "relying_party" present */
	struct katt_rp_policy rp_policy;	/* points into the arrays below */
	struct katt_ak_pin *aks;	/* "relying_party.aks" */
	size_t naks;
	struct katt_reference *refs;	/* "relying_party.reference" */
	size_t nrefs;
	unsigned int valid_for;		/* "relying_party.valid_for" (s); 0 */
};

/*
 * Reads the configuration @path.  Returns 0 or a negative errno, the reason
 * logged: -ENOENT, -EINVAL (a field, named), -ENOMEM.
 */
int katt_config_load(const char *path, struct katt_config **out);
void katt_config_free(struct katt_config *c);

/* Reads the policy @path.  Returns 0 or a negative errno, logged. */
int katt_policy_load(const char *path, struct katt_policy **out);
void katt_policy_free(struct katt_policy *p);

/*
 * Parses a PCR selection as people write it: "sha256:0,1,7+sha1:0" (banks
 * joined by '+', PCRs 0 to 23 by ',' or ranges "0-7").  0 or -EINVAL.
 */
int katt_pcr_sel_parse(const char *s, struct katt_pcr_sel *sel);
/* The opposite: "sha256:0,1,7"; @out of at least 160 bytes. */
void katt_pcr_sel_format(const struct katt_pcr_sel *sel, char *out, size_t len);

#endif /* KATT_AGENT_CONFIG_H */
