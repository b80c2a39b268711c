/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small helpers shared by the ktls-attest selftests: loopback TCP pairs,
 * fixed test keys for kTLS, record-type cmsgs, /proc/net/tls_stat and the
 * module reference count.
 *
 * Nothing here knows about the kselftest harness: functions return 0 (or a
 * count) on success and a negative errno on failure, and the tests assert.
 */
#ifndef KTLS_SELFTEST_LIB_H
#define KTLS_SELFTEST_LIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <linux/tls.h>

#ifndef SOL_TLS
#define SOL_TLS			282
#endif
#ifndef TCP_ULP
#define TCP_ULP			31
#endif

#define TLS_MAX_PAYLOAD		16384
#define TLS_RECORD_TYPE_ALERT	21
#define TLS_RECORD_TYPE_DATA	23

#define KTLS_ATTEST_MODULE	"ktls_attest"

/* One direction's kTLS parameters, as passed to SOL_TLS TLS_TX / TLS_RX. */
struct ktls_crypto {
	union {
		struct tls_crypto_info info;
		struct tls12_crypto_info_aes_gcm_128 gcm128;
		struct tls12_crypto_info_aes_gcm_256 gcm256;
		struct tls12_crypto_info_chacha20_poly1305 chacha;
	};
	socklen_t len;
};

/*
 * Fixed test keys. @key_set picks one of several distinct key/iv/salt
 * patterns so that the two directions of a connection use different keys
 * (a TX/RX mix-up then fails to decrypt). @rec_seq is the first record
 * sequence number.
 */
int ktls_crypto_init(struct ktls_crypto *c, uint16_t version, uint16_t cipher,
		     unsigned int key_set, uint64_t rec_seq);
uint64_t ktls_crypto_rec_seq(const struct ktls_crypto *c);

/* Loopback address of @family (127.0.0.1 or ::1) with port @port. */
socklen_t ktls_loopback(int family, uint16_t port,
			struct sockaddr_storage *ss);

/* Reads up to @size - 1 bytes of @path into @buf, NUL-terminated: the
 * length, or -errno.
 */
ssize_t ktls_read_file(const char *path, char *buf, size_t size);

/* Listening socket on loopback, ephemeral port; its address in @ss. */
int ktls_listen(int family, int backlog, struct sockaddr_storage *ss,
		socklen_t *len);
/* The same with TCP_ULP @ulp set before listen() (the module arms a
 * listener only then).  Returns the fd or -errno.
 */
int ktls_listen_ulp(int family, int backlog, const char *ulp,
		    struct sockaddr_storage *ss, socklen_t *len);
/* Blocking connect of a new socket of @family to @ss. Returns the fd. */
int ktls_connect(int family, const struct sockaddr_storage *ss, socklen_t len);
/* Connected loopback pair: *cfd from connect(), *sfd from accept(). */
int ktls_tcp_pair(int family, int *cfd, int *sfd);

int ktls_set_ulp(int fd, const char *name);
int ktls_get_ulp(int fd, char *name, size_t size);
/* TCP_ULP "tls", then TLS_TX @tx and TLS_RX @rx (either may be NULL). */
int ktls_install(int fd, const struct ktls_crypto *tx,
		 const struct ktls_crypto *rx);
/* The same with TLS_RX set before TLS_TX. */
int ktls_install_rx_first(int fd, const struct ktls_crypto *tx,
			  const struct ktls_crypto *rx);
/* getsockopt(SOL_TLS, @optname) into @out, sized like @like. */
int ktls_get_crypto(int fd, int optname, const struct ktls_crypto *like,
		    struct ktls_crypto *out);

/* Deterministic test pattern; different seeds give different bytes. */
void ktls_fill(void *buf, size_t len, uint32_t seed);
/* Offset of the first differing byte, or -1 if equal. */
ssize_t ktls_first_diff(const void *a, const void *b, size_t len);

/* Loops until all of @len is sent / received. Returns @len or -errno. */
ssize_t ktls_send_all(int fd, const void *buf, size_t len, int flags);
/* Returns the bytes read (short only at EOF) or -errno. */
ssize_t ktls_recv_all(int fd, void *buf, size_t len, int flags);

/*
 * Fork a child that sends @len bytes of @buf on @fd in chunks of @chunk
 * bytes (0: all at once), sleeping @delay_ms before each chunk, then exits
 * 0 on success or with an errno value. The child dies by SIGALRM after 20 s
 * so a failing test cannot leave it behind forever.
 */
pid_t ktls_spawn_sender(int fd, const void *buf, size_t len, size_t chunk,
			unsigned int delay_ms);
/* Like ktls_spawn_sender but with sendfile() from @in_fd, offset 0. */
pid_t ktls_spawn_sendfile(int fd, int in_fd, size_t len);
/* waitpid(); returns the child's exit status, or -1 if it did not exit. */
int ktls_wait_child(pid_t pid);

/* sendmsg with a TLS_SET_RECORD_TYPE cmsg. */
ssize_t ktls_send_record(int fd, uint8_t type, const void *buf, size_t len,
			 int flags);
/*
 * recvmsg with room for a TLS_GET_RECORD_TYPE cmsg; *type is set to the
 * record type, or 0 if no such cmsg came back.
 */
ssize_t ktls_recv_record(int fd, uint8_t *type, void *buf, size_t len,
			 int flags);

/* A counter from /proc/net/tls_stat; 0 for all if tls is not loaded. */
int ktls_stat(const char *name, long long *val);

/* /sys/module/@mod/refcnt, or -ENOENT if the module is not loaded. */
long ktls_module_refcnt(const char *mod);
/* Polls until the refcnt equals @expect (RCU-deferred frees); 0 or -ETIME. */
int ktls_wait_refcnt(const char *mod, long expect, unsigned int timeout_ms,
		     long *last);
/*
 * The refcnt once it has not changed for @quiet_ms (a socket closed just
 * before still holds its reference for an RCU grace period), giving up
 * after @timeout_ms. For a baseline; negative errno if not loaded.
 */
long ktls_settled_refcnt(const char *mod, unsigned int quiet_ms,
			 unsigned int timeout_ms);
/* Whether the ULP @name is registered (net.ipv4.tcp_available_ulp). */
bool ktls_ulp_available(const char *name);

void ktls_msleep(unsigned int ms);

#endif /* KTLS_SELFTEST_LIB_H */
