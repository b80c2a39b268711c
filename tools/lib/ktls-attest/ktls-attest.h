/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * libktls-attest: an OpenSSL 3 TLS 1.3 connection onto an attestation-gated
 * kTLS socket, with one call before the handshake and one after it.
 *
 *	SSL_set_fd(ssl, fd);
 *	ktls_attest_prepare(ssl, &opts, &ka);	// before the handshake
 *	SSL_do_handshake(ssl);			// or SSL_accept/SSL_connect
 *	ktls_attest_move(ka);			// kTLS keys, binding
 *	ktls_attest_wait(ka, 10000);		// the verdict
 *	ktls_attest_send(ka, ...); ktls_attest_recv(ka, ...);
 *	ktls_attest_close(ka);			// close_notify
 *	SSL_free(ssl);				// frees ka too
 *
 * Every function that can fail returns 0 (or a count) on success and a
 * negative errno on failure, and leaves one sentence saying what failed in
 * ktls_attest_strerror().  Documentation/lib.rst has every function and
 * every error.
 */
#ifndef KTLS_ATTEST_LIB_H
#define KTLS_ATTEST_LIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/ssl.h>
#include <linux/ktls_attest.h>

#ifdef __cplusplus
extern "C" {
#endif

/* How a connection runs (Documentation/lib.rst, "Modes"). */
enum ktls_attest_mode {
	/*
	 * OpenSSL in userspace, no kTLS, no gate: the library's I/O calls go
	 * to SSL_read()/SSL_write().  The baseline, and the mode for a peer
	 * that is not to be attested at all.
	 */
	KTLS_ATTEST_MODE_USERSPACE = 1,
	/*
	 * kTLS under the gate, no binding: the kernel holds the data until a
	 * verdict from an operator or from an agent that attests out of band.
	 * The peer need not run ktls-attest.
	 */
	KTLS_ATTEST_MODE_GATED,
	/*
	 * kTLS under the gate with the connection binding: attestation inside
	 * the connection, so both ends run ktls-attest.
	 */
	KTLS_ATTEST_MODE_BOUND,
};

/* struct ktls_attest_opts.flags */
/* A server sends no NewSessionTickets (SSL_set_num_tickets(ssl, 0)). */
#define KTLS_ATTEST_F_NO_TICKETS	0x1
/*
 * Leave the SSL's message callback to the program (which then cannot
 * chain it through opts.msg_cb).  Implies KTLS_ATTEST_F_NO_TICKETS, and
 * the library can then not check that nothing was read or written after
 * the handshake; not with KTLS_ATTEST_MODE_BOUND.
 */
#define KTLS_ATTEST_F_NO_MSG_CALLBACK	0x2
/*
 * Leave SSL_OP_ENABLE_KTLS as the program (or openssl.cnf) set it, and do
 * not arm the socket before the handshake: OpenSSL then installs TLS_TX
 * itself, and ktls_attest_move() installs TLS_RX and arms the socket by
 * file descriptor over netlink.
 */
#define KTLS_ATTEST_F_OPENSSL_KTLS	0x4

/* The program's own message callback, as SSL_set_msg_callback() takes it. */
typedef void (*ktls_attest_msg_cb)(int write_p, int version, int content_type,
				   const void *buf, size_t len, SSL *ssl,
				   void *arg);

struct ktls_attest_opts {
	enum ktls_attest_mode mode;
	unsigned int flags;		/* KTLS_ATTEST_F_* */
	uint32_t role;			/* enum ktls_attest_role flags; 0: the
					 * socket's (relying party, or an armed
					 * listener's) */
	uint32_t timeout_ms;		/* round deadline; 0: the socket's */
	uint32_t policy_flags;		/* enum ktls_attest_policy_flags */
	ktls_attest_msg_cb msg_cb;	/* chained; NULL: none */
	void *msg_cb_arg;
};

/* One connection; belongs to its SSL and goes with SSL_free(). */
struct ktls_attest;

/* --- before the handshake ------------------------------------------------ */

/*
 * Chains the library's keylog callback in front of @ctx's own (once per
 * SSL_CTX; ktls_attest_prepare() does it for the SSL's context).  Call it
 * for every SSL_CTX a connection may switch to (SNI).
 */
int ktls_attest_ctx_prepare(SSL_CTX *ctx);

/*
 * Prepares @ssl, whose file descriptor is set (SSL_set_fd) and whose
 * handshake has not begun, for the move: chains the keylog and message
 * callbacks, clears SSL_OP_ENABLE_KTLS, and in the gated modes arms the
 * socket (TCP_ULP "attest", role, policy) unless it is armed already.
 * *@kap is valid until SSL_free(@ssl).
 */
int ktls_attest_prepare(SSL *ssl, const struct ktls_attest_opts *opts,
			struct ktls_attest **kap);

/*
 * Arms socket @fd (TCP_ULP "attest") with @role, @timeout_ms and
 * @policy_flags (0: the default of each): a listener before listen(), so
 * that every accepted socket is armed, or a socket before its handshake.
 */
int ktls_attest_arm(int fd, uint32_t role, uint32_t timeout_ms,
		    uint32_t policy_flags);

/* --- after the handshake ------------------------------------------------- */

/*
 * Moves the connection onto kTLS: checks it may move, derives both
 * directions' keys from the traffic secrets, installs TLS_TX and TLS_RX,
 * arms the socket by fd if it was not armed, sets the binding
 * (KTLS_ATTEST_MODE_BOUND), wipes the secrets.  Nothing to do in
 * KTLS_ATTEST_MODE_USERSPACE.  If it refuses (before any kTLS option was
 * set), the connection is left usable in userspace through OpenSSL.
 */
int ktls_attest_move(struct ktls_attest *ka);

/*
 * Waits up to @timeout_ms (-1: without limit, 0: not at all) until the
 * gate lets data through.  0 once it does; -EAGAIN (@timeout_ms 0) or
 * -ETIMEDOUT while held; -EKEYREJECTED or -EKEYREVOKED when the socket
 * failed or was revoked.  Never starts a round.  Pollable: poll() on
 * ktls_attest_fd() for POLLIN | POLLOUT wakes on every state change.
 */
int ktls_attest_wait(struct ktls_attest *ka, int timeout_ms);

/*
 * Asks for a new attestation round and waits up to @timeout_ms (-1:
 * without limit) for its verdict: before a high-impact operation.
 * 0: passed; -EKEYREVOKED: failed (the connection is revoked);
 * -ETIMEDOUT; -EINPROGRESS on a non-blocking socket (the round runs).
 */
int ktls_attest_reattest(struct ktls_attest *ka, int timeout_ms);

/* KTLS_ATTEST_STATUS of the connection's socket. */
int ktls_attest_status(struct ktls_attest *ka, struct ktls_attest_status *st);

/*
 * One sentence saying what state the armed socket @fd is in and why, for
 * a person: "the peer's attestation failed: ...", "no verdict within
 * 10 s", ...  Returns its length, or a negative errno (-ENOPROTOOPT: not
 * armed).
 */
int ktls_attest_explain(int fd, char *buf, size_t size);

/* --- data ----------------------------------------------------------------- */

/* send() of application data (SSL_write() in userspace mode). */
ssize_t ktls_attest_send(struct ktls_attest *ka, const void *buf, size_t len,
			 int flags);
/*
 * Application data, through recvmsg() with the record type: skips
 * NewSessionTickets; 0 on close_notify; -EKEYEXPIRED on a KeyUpdate
 * (Linux 6.1 kTLS cannot follow one); -ECONNRESET on another alert;
 * -ECONNABORTED when the peer closed TCP without close_notify.  @flags:
 * 0 or MSG_DONTWAIT.
 */
ssize_t ktls_attest_recv(struct ktls_attest *ka, void *buf, size_t len,
			 int flags);
/* Sends close_notify (SSL_shutdown() in userspace mode). */
int ktls_attest_close(struct ktls_attest *ka);

/* --- about a connection --------------------------------------------------- */

int ktls_attest_fd(const struct ktls_attest *ka);
SSL *ktls_attest_ssl(const struct ktls_attest *ka);
enum ktls_attest_mode ktls_attest_get_mode(const struct ktls_attest *ka);
/* The connection runs on kTLS (ktls_attest_move() succeeded). */
bool ktls_attest_moved(const struct ktls_attest *ka);
/* The KTLS_ATTEST_BINDING_* flags of the binding that was set; 0: none. */
uint32_t ktls_attest_binding_flags(const struct ktls_attest *ka);
/*
 * The last error of @ka, one sentence; with @ka NULL the last error of
 * the calling thread (for calls without a connection, and a failed
 * ktls_attest_prepare()).  "" if none.
 */
const char *ktls_attest_strerror(const struct ktls_attest *ka);

/* "userspace", "gated", "bound"; and back (a negative errno if unknown). */
const char *ktls_attest_mode_name(enum ktls_attest_mode mode);
int ktls_attest_mode_from_name(const char *name);
/* "armed", "pending", ...; "?" if unknown. */
const char *ktls_attest_state_name(uint32_t state);

#ifdef __cplusplus
}
#endif

#endif /* KTLS_ATTEST_LIB_H */
