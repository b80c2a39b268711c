/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the gate selftests (gate, gate_netlink, gate_life): gated
 * loopback pairs, every data path as one call, blocked callers in child
 * processes, the peer's view of the wire, and the kernel log.
 *
 * A gated pair is a loopback TCP connection whose gated end G (the
 * connect() end unless asked otherwise) is armed with TCP_ULP "attest" and
 * keyed with kTLS in both directions; its peer P is plain kTLS with only its
 * TX key at first, so that until P's RX key goes in, anything G sent sits in
 * P's plain TCP receive queue (SIOCINQ) and in P's tcpi_bytes_received.
 *
 * Like lib/ktls.h, nothing here knows the kselftest harness: 0 or a count
 * on success, a negative errno on failure.
 */
#ifndef KATT_TEST_SELFTEST_LIB_H
#define KATT_TEST_SELFTEST_LIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/ktls_attest.h>

#include "ktls.h"

/* The data paths of the matrix, and the re-attestation sockopt. */
enum katt_path {
	KP_SEND,
	KP_SENDTO,
	KP_SENDMSG,
	KP_SENDFILE,
	KP_SPLICE_IN,
	KP_RECV,
	KP_RECVFROM,
	KP_RECVMSG,
	KP_PEEK,
	KP_WAITALL,
	KP_SPLICE_OUT,
	KP_POLL,
	KP_SELECT,
	KP_EPOLL,
	KP_REATTEST,
	KP_NR
};

const char *katt_path_name(enum katt_path p);
bool katt_path_is_send(enum katt_path p);
bool katt_path_is_recv(enum katt_path p);
bool katt_path_is_poll(enum katt_path p);
/* The path takes MSG_* flags (MSG_DONTWAIT). */
bool katt_path_has_flags(enum katt_path p);

/*
 * One call of @p on @fd.  Send paths send all @len bytes of @buf (looping
 * while calls make progress); receive paths fill @buf with @len bytes
 * (PEEK: one MSG_PEEK call; WAITALL: one MSG_WAITALL call; RECVMSG checks
 * the record type cmsg is application data, else -EPROTO); poll paths wait
 * up to @timeout_ms (-1 forever) for POLLIN|POLLOUT and return the revents
 * (select: POLLIN/POLLOUT for readable/writable); REATTEST returns 0.
 * @flags are added to the MSG_* flags of the call.  Returns the bytes
 * moved, or a negative errno of the first call that failed; EINTR is not
 * retried.
 */
ssize_t katt_path_io(enum katt_path p, int fd, void *buf, size_t len,
		     int flags, int timeout_ms);

/* O_NONBLOCK on or off. */
int katt_set_nonblock(int fd, bool on);

/* --- gated pairs --------------------------------------------------------- */

struct katt_pair_opts {
	int family;
	uint16_t version;
	uint16_t cipher;
	int role;				/* 0: the default */
	const struct ktls_attest_policy *policy;	/* NULL: the default */
	bool no_keys;				/* stop in ARMED */
	bool no_arm;				/* plain kTLS on both ends */
	bool binding;				/* KTLS_ATTEST_BINDING after the keys */
};

struct katt_pair {
	int g;			/* gated end */
	int p;			/* peer: TX key; RX key once p_rx */
	int family;
	bool p_rx;
	bool binding;		/* katt_pair_keys() sets the binding too */
	uint64_t cookie;	/* SO_COOKIE of g */
	struct ktls_crypto g2p, p2g;
};

#define KATT_PAIR_INIT { .g = -1, .p = -1 }

/* Peer sockets get SO_RCVTIMEO/SO_SNDTIMEO of this, so peer I/O is bounded. */
#define KATT_PEER_TIMEO_MS	5000

int katt_pair_open(struct katt_pair *pp, const struct katt_pair_opts *o);
/*
 * The same for a connected pair made elsewhere (an accepted child as @g):
 * role, policy and keys as katt_pair_open(), but @g is not armed here.
 * Takes the fds (closed on failure).
 */
int katt_pair_adopt(struct katt_pair *pp, int g, int p,
		    const struct katt_pair_opts *o);
/*
 * The gated end's keys (TX then RX), for a pair opened with no_keys; and
 * its binding (katt_set_binding(), seed 0), if the pair was opened with it.
 */
int katt_pair_keys(struct katt_pair *pp);
/*
 * KTLS_ATTEST_BINDING on @fd: exporter bytes seed, seed+1, ...; the local
 * key hash 0x40+seed.. if @flags has KTLS_ATTEST_BINDING_LOCAL_KEY, the
 * peer's 0x80+seed.. with KTLS_ATTEST_BINDING_PEER_KEY.  0 or -errno.
 */
int katt_set_binding(int fd, uint8_t seed, uint32_t flags);
void katt_binding_fill(struct ktls_attest_binding *b, uint8_t seed,
		       uint32_t flags);
/*
 * A peer that is plain kTLS sends attestation message @msg the way the
 * module frames it (records of KTLS_ATTEST_RECORD_TYPE).  0 or -errno.
 */
int katt_peer_send_msg(int fd, const void *msg, size_t len);
/* The peer's RX key (once). */
int katt_pair_peer_rx(struct katt_pair *pp);
void katt_pair_close(struct katt_pair *pp);
/* The peer reads exactly @len bytes (RX key first). */
ssize_t katt_pair_peer_recv(struct katt_pair *pp, void *buf, size_t len);

uint64_t katt_sock_cookie(int fd);
int katt_status(int fd, struct ktls_attest_status *st);
/* Polls STATUS until @state (or @timeout_ms). 0 or -ETIME. */
int katt_wait_state(int fd, uint32_t state, unsigned int timeout_ms);
/* tcpi_bytes_received / tcpi_bytes_sent of @fd, or a negative errno. */
long long katt_tcp_bytes_received(int fd);
long long katt_tcp_bytes_sent(int fd);
/* Until tcpi_bytes_received(@fd) >= @min; 0 or -ETIME. */
int katt_wait_bytes_received(int fd, long long min, unsigned int timeout_ms);
/* SIOCINQ / SIOCOUTQ. */
int katt_inq(int fd);
int katt_outq(int fd);

/* --- blocked callers ----------------------------------------------------- */

struct katt_call_result {
	volatile int started;
	volatile int done;
	volatile int signals;		/* how often the handler ran */
	ssize_t ret;			/* as katt_path_io() */
	long long t_start_ms, t_end_ms;	/* CLOCK_MONOTONIC */
	unsigned char data[];		/* what a receive path got */
};

struct katt_caller {
	pid_t pid;		/* 0: none */
	bool reaped;
	int status;		/* waitpid() status once reaped */
	size_t cap;
	struct katt_call_result *res;	/* shared with the child */
};

struct katt_call {
	enum katt_path path;
	int fd;
	const void *buf;	/* send paths: the bytes to send */
	size_t len;
	int flags;
	int timeout_ms;		/* poll paths; 0 means forever here */
	int sig;		/* install a handler for this signal */
	bool sa_restart;	/* ... with SA_RESTART */
};

/* Children die by SIGALRM after this, so no test leaves one behind. */
#define KATT_CALLER_ALARM_S	20

/*
 * Forks a child that makes @call and records the result.  The child keeps
 * only stdio and @call->fd open, so that the test can close everything else.
 */
int katt_caller_start(struct katt_caller *c, const struct katt_call *call);
/* The child has started its call and neither returned nor died. */
bool katt_caller_blocked(struct katt_caller *c);
/* Waits for the child's exit; -ETIMEDOUT (child killed) or -ECHILD if it
 * died without a result.
 */
int katt_caller_wait(struct katt_caller *c, unsigned int timeout_ms);
/* Waits until the child has entered its call (and @extra_ms more). */
int katt_caller_settle(struct katt_caller *c, unsigned int extra_ms);
void katt_caller_kill(struct katt_caller *c);
void katt_caller_free(struct katt_caller *c);

/* --- direct calls with a guard -------------------------------------------- */

/*
 * Arms a one-shot ITIMER_REAL whose SIGALRM (no SA_RESTART) interrupts a
 * call that blocks by mistake: it then fails with EINTR instead of hanging.
 */
void katt_guard(unsigned int ms);
void katt_guard_off(void);

/* --- kernel log, module, misc ---------------------------------------------- */

/* /dev/kmsg positioned at its end, or a negative errno. */
int katt_kmsg_open(void);
/*
 * Reads the records since katt_kmsg_open(); returns how many look like a
 * kernel warning, bug or leak, the first one in @first.
 */
int katt_kmsg_bad(int fd, char *first, size_t len);

/* Brings lo up (in a new network namespace). */
int katt_lo_up(void);
bool katt_module_loaded(void);
long long katt_now_ms(void);
long long katt_realtime_ns(void);
int katt_raise_nofile(unsigned long n);

#endif /* KATT_TEST_SELFTEST_LIB_H */
