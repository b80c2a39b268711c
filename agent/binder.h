/* SPDX-License-Identifier: GPL-2.0 */
/*
 * binder.h: the binder of Documentation/protocol.rst, "The binder":
 *
 *	SHA-256("ktls-attest binder v1" || role || exporter || nonce || key_hash)
 *
 * and the connection's binding it is computed from, as the kernel's
 * round-start gives it to the agent.  The attester computes it with its own
 * TLS role and its local key hash, the RP with its peer's role and its peer
 * key hash: both get the same 32 bytes for the same exchange.
 *
 * Owns: nothing (the binding belongs to the caller, who wipes it with
 * katt_binding_wipe()).  Calls: OpenSSL's EVP digest.
 */
#ifndef KATT_AGENT_BINDER_H
#define KATT_AGENT_BINDER_H

#include <stdbool.h>
#include <stdint.h>

#define KATT_BINDER_LEN		32
#define KATT_EXPORTER_LEN	32
#define KATT_KEY_HASH_LEN	32
#define KATT_BINDER_LABEL	"ktls-attest binder v1"

#define KATT_ROLE_CLIENT_ATTESTS	0x01
#define KATT_ROLE_SERVER_ATTESTS	0x02

/* A connection's binding (KTLS_ATTEST_BINDING, from round-start). */
struct katt_binding {
	uint8_t exporter[KATT_EXPORTER_LEN];
	bool has_local_key;
	uint8_t local_key[KATT_KEY_HASH_LEN];
	bool has_peer_key;
	uint8_t peer_key[KATT_KEY_HASH_LEN];
	bool tls_server;	/* KTLS_ATTEST_BINDING_TLS_SERVER */
};

/*
 * The binder from its inputs; @key_hash NULL means 32 zero bytes.  Returns
 * 0 or -EIO (OpenSSL failed).
 */
int katt_binder(uint8_t role, const uint8_t exporter[KATT_EXPORTER_LEN],
		const uint8_t nonce[32], const uint8_t *key_hash,
		uint8_t out[KATT_BINDER_LEN]);

/* The binder this end quotes over when it attests. */
int katt_binder_attester(const struct katt_binding *b, const uint8_t nonce[32],
			 uint8_t out[KATT_BINDER_LEN]);
/* The binder this end expects in its peer's Evidence. */
int katt_binder_rp(const struct katt_binding *b, const uint8_t nonce[32],
		   uint8_t out[KATT_BINDER_LEN]);

void katt_binding_wipe(struct katt_binding *b);

#endif /* KATT_AGENT_BINDER_H */
