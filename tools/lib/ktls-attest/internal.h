/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * libktls-attest internals, shared by its files and its unit tests; not
 * installed.  Prototypes grouped by file.
 */
#ifndef KTLS_ATTEST_LIB_INTERNAL_H
#define KTLS_ATTEST_LIB_INTERNAL_H

#include <stdarg.h>
#include <sys/socket.h>

#include <linux/tls.h>
#include <openssl/evp.h>

#include "ktls-attest.h"

#ifndef SOL_TLS
#define SOL_TLS			282
#endif
#ifndef TCP_ULP
#define TCP_ULP			31
#endif

#define KATT_ERR_MAX		256
/* TLS record content types, handshake message types, alerts */
#define KATT_REC_ALERT		21
#define KATT_REC_HANDSHAKE	22
#define KATT_REC_DATA		23
#define KATT_HS_NEW_SESSION_TICKET	4
#define KATT_HS_CERTIFICATE	11
#define KATT_HS_FINISHED	20
#define KATT_HS_KEY_UPDATE	24
#define KATT_ALERT_WARNING	1
#define KATT_ALERT_FATAL	2
#define KATT_ALERT_CLOSE_NOTIFY	0
#define KATT_ALERT_INTERNAL_ERROR	80
#define KATT_ALERT_USER_CANCELED	90
/* a control record: at most 2^14 bytes of plaintext */
#define KATT_CTL_MAX		16384

/* One direction's kTLS parameters, as SOL_TLS TLS_TX / TLS_RX take them. */
struct katt_crypto {
	union {
		struct tls_crypto_info info;
		struct tls12_crypto_info_aes_gcm_128 gcm128;
		struct tls12_crypto_info_aes_gcm_256 gcm256;
		struct tls12_crypto_info_chacha20_poly1305 chacha;
	};
	socklen_t len;
};

struct ktls_attest {
	SSL *ssl;
	int fd;
	enum ktls_attest_mode mode;
	unsigned int flags;
	uint32_t role, timeout_ms, policy_flags;
	ktls_attest_msg_cb app_msg_cb;
	void *app_msg_cb_arg;

	/*
	 * What the callbacks saw during the handshake.  Secrets from the
	 * keylog callback: *_secret of this end's write (tx) and read (rx)
	 * direction, wiped by the move and by the free.
	 */
	unsigned char tx_secret[EVP_MAX_MD_SIZE];
	unsigned char rx_secret[EVP_MAX_MD_SIZE];
	size_t tx_secret_len, rx_secret_len;
	bool keylog_mismatch;		/* a line for another client random */
	/*
	 * From the message callback: records written (read) after this end's
	 * (the peer's) Finished, i.e. under the application traffic keys:
	 * the first kTLS sequence number of each direction.
	 */
	bool tx_live, rx_live;
	uint64_t tx_records, rx_records;
	uint64_t records_seen;		/* any record header at all */
	bool app_data;			/* application data after Finished */
	bool key_update;		/* a KeyUpdate either way */
	bool cert_sent, cert_received;	/* non-empty Certificate messages */

	/* after the move */
	bool moved;
	bool broken;			/* kTLS half installed, KeyUpdate, ... */
	int broken_err;
	bool peer_closed;		/* close_notify came */
	bool tx_closed;			/* close_notify (or a fatal alert) sent */
	uint32_t binding_flags;
	char err[KATT_ERR_MAX];
	unsigned char ctl[KATT_CTL_MAX];
};

/* error.c */
int katt_err(struct ktls_attest *ka, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The message of the last OpenSSL error, or "" (the queue is cleared). */
const char *katt_ssl_reason(char *buf, size_t size);

/* keys.c */
/* HKDF-Expand-Label(@secret, @label, "", @out_len) via TLS13-KDF. */
int katt_expand_label(const EVP_MD *md, const unsigned char *secret,
		      size_t secret_len, const char *label,
		      unsigned char *out, size_t out_len);
/*
 * kTLS parameters of one direction of TLS 1.3 cipher suite @suite
 * (0x1301, 0x1302, 0x1303) from its traffic secret, first record @seq.
 * -EOPNOTSUPP for a suite kTLS does not take.  The caller wipes @c.
 */
int katt_crypto_from_secret(uint16_t suite, const EVP_MD *md,
			    const unsigned char *secret, size_t secret_len,
			    uint64_t seq, struct katt_crypto *c);
const char *katt_suite_name(uint16_t suite);

/* prepare.c */
int katt_ex_index(void);
/* Parses a keylog line into @ka (the callback's work; for the tests too). */
void katt_keylog_line(struct ktls_attest *ka, const SSL *ssl,
		      const char *line);
void katt_msg_seen(struct ktls_attest *ka, int write_p, int content_type,
		   const void *buf, size_t len);

/* move.c */
/*
 * The checks of ktls_attest_move() and the kTLS parameters it would
 * install, without installing anything: for the unit tests.
 */
int katt_move_plan(struct ktls_attest *ka, struct katt_crypto *tx,
		   struct katt_crypto *rx);
/* Is @fd armed?  1, 0, or a negative errno. */
int katt_is_armed(int fd);

/* binding.c */
int katt_binding_make(struct ktls_attest *ka, struct ktls_attest_binding *b);

/* nl.c */
/* sock-arm of this process's socket @fd over netlink; its cookie. */
int katt_nl_sock_arm(struct ktls_attest *ka, int fd, uint32_t role,
		     uint32_t timeout_ms, uint32_t policy_flags,
		     uint64_t *cookie);

#endif /* KTLS_ATTEST_LIB_INTERNAL_H */
