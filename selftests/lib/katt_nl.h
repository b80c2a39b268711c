/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small client of the "ktls_attest" generic netlink family for the
 * selftests, on libnl-genl-3 (pkg-config libnl-genl-3.0).
 *
 * Every call returns 0 (or a count) on success and a negative errno on
 * failure: the kernel's error for a refused request, -ENOENT if the family
 * is not registered, -ETIMEDOUT when a wait runs out, -ENOBUFS when the
 * socket overran (messages lost) and the answer to a request never came.
 * The extack message of the last refused request stays available from
 * katt_nl_extack() for asserts and diagnostics.
 *
 * Requests and events share one socket: an event (round-start and msg-recv
 * for the registered agent, state-change for monitor subscribers) that
 * arrives while a request waits for its answer is queued and handed out by
 * katt_nl_wait_event() later, in order.
 *
 * Nothing here knows about the kselftest harness.
 */
#ifndef KATT_NL_SELFTEST_LIB_H
#define KATT_NL_SELFTEST_LIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/ktls_attest.h>

#define KATT_NL_EXTACK_MAX	256

struct katt_nl;

/* Bit @attr (KTLS_ATTEST_A_SOCK_*) of struct katt_nl_sock.present. */
#define KATT_NL_HAS(s, attr)	(!!((s)->present & (1ULL << (attr))))

/* One socket as sock-get, the events and sock-arm report it. */
struct katt_nl_sock {
	uint64_t present;		/* attributes present, KATT_NL_HAS() */
	uint64_t cookie;
	uint32_t role;
	uint32_t state;
	uint32_t reason;
	uint32_t timeout_ms;
	uint32_t policy_flags;
	uint32_t round;
	uint16_t family;
	uint16_t sport;			/* host byte order */
	uint16_t dport;			/* host byte order */
	uint8_t saddr_len;		/* 4 or 16 */
	uint8_t daddr_len;
	uint8_t saddr[16];
	uint8_t daddr[16];
	uint64_t armed_time;
	uint64_t pass_time;
	uint64_t tx_bytes;
	uint64_t rx_bytes;
	uint64_t tx_held;
	uint64_t rx_held;
	uint32_t msg_len;		/* msg-recv: the length it announces */
	char reason_text[KTLS_ATTEST_REASON_TEXT_MAX];
	/* round-start: the connection binding */
	uint32_t binding_flags;		/* round-start: KTLS_ATTEST_BINDING_* */
	uint8_t binding_exporter[KTLS_ATTEST_EXPORTER_LEN];
	uint8_t binding_local_key[KTLS_ATTEST_KEY_HASH_LEN];
	uint8_t binding_peer_key[KTLS_ATTEST_KEY_HASH_LEN];
};

struct katt_nl_event {
	uint8_t cmd;			/* KTLS_ATTEST_CMD_ROUND_START, ... */
	uint32_t nl_pid;		/* sender port in the netlink header */
	bool multicast;			/* came to a multicast group */
	struct katt_nl_sock sock;
	/*
	 * msg-recv: the msg-data pieces concatenated (NULL otherwise), and
	 * how many pieces there were.  malloc()ed; whoever gets the event
	 * from katt_nl_wait_event() owns it: katt_nl_event_release().
	 */
	unsigned char *msg;
	size_t msg_size;
	unsigned int msg_pieces;
};

/* Optional attributes of sock-arm; 0 leaves one out. */
struct katt_nl_arm {
	uint32_t role;
	uint32_t timeout_ms;
	uint32_t policy_flags;
};

/* Resolves the family and its monitor group; -ENOENT without the module. */
int katt_nl_open(struct katt_nl **nlp);
/*
 * The same, bound to port id @port (0: any) and, if @like is given, with
 * its family and group ids instead of asking the kernel: the first
 * request can go at once.  -EADDRINUSE while another socket has @port.
 */
int katt_nl_open_as(struct katt_nl **nlp, uint32_t port,
		    const struct katt_nl *like);
void katt_nl_close(struct katt_nl *nl);
int katt_nl_fd(const struct katt_nl *nl);
uint32_t katt_nl_portid(const struct katt_nl *nl);
int katt_nl_family_id(const struct katt_nl *nl);
/* Receive buffer of the socket (SO_RCVBUF(FORCE)), for many events. */
int katt_nl_set_rcvbuf(struct katt_nl *nl, int bytes);

/* Extack message of the last refused request; "" if none came. */
const char *katt_nl_extack(const struct katt_nl *nl);

int katt_nl_agent_register(struct katt_nl *nl);
int katt_nl_agent_unregister(struct katt_nl *nl);

/*
 * sock-verdict.  0 leaves an attribute out (cookies and rounds start at 1,
 * verdicts at 1), @text NULL too; out-of-range values are sent as given.
 */
int katt_nl_verdict(struct katt_nl *nl, uint64_t cookie, uint32_t round,
		    uint32_t verdict, const char *text);
int katt_nl_reattest(struct katt_nl *nl, uint64_t cookie);
/*
 * For suites that do not test the gate: give the round under way on socket
 * @fd a pass verdict as an administrator (its own netlink socket).  0 also
 * for a socket that is not armed or has no round under way.
 */
int katt_nl_pass_socket(int fd, const char *text);
/* sock-arm of the caller's @fd; the reply's cookie and state (either NULL). */
int katt_nl_arm(struct katt_nl *nl, int fd, const struct katt_nl_arm *opt,
		uint64_t *cookie, uint32_t *state);
/* sock-arm without the fd attribute (a malformed request). */
int katt_nl_arm_nofd(struct katt_nl *nl);
int katt_nl_get(struct katt_nl *nl, uint64_t cookie, struct katt_nl_sock *out);
/* sock-get dump: *out is malloc()ed (free() it), *n entries. */
int katt_nl_dump(struct katt_nl *nl, struct katt_nl_sock **out, size_t *n);
/* Looks @cookie up in a dump; NULL if absent. */
const struct katt_nl_sock *katt_nl_find(const struct katt_nl_sock *v,
					size_t n, uint64_t cookie);

/* Joins the monitor multicast group. */
int katt_nl_monitor(struct katt_nl *nl);
/* Leaves it. */
int katt_nl_monitor_leave(struct katt_nl *nl);
/*
 * The next event, queued or arriving within @timeout_ms (0: only what is
 * there already).  -ETIMEDOUT if none; -ENOBUFS if the kernel dropped some.
 */
int katt_nl_wait_event(struct katt_nl *nl, struct katt_nl_event *ev,
		       int timeout_ms);
/*
 * The next event with command @cmd (0: any) for @cookie (0: any) and, if
 * @state is not 0, that state; others are dropped.  -ETIMEDOUT if none
 * came within @timeout_ms overall.
 */
int katt_nl_wait_event_for(struct katt_nl *nl, uint8_t cmd, uint64_t cookie,
			   uint32_t state, struct katt_nl_event *ev,
			   int timeout_ms);
/* Drops queued and pending events; returns how many. */
int katt_nl_drain(struct katt_nl *nl);
/* Frees what an event owns (its message); the event may be reused. */
void katt_nl_event_release(struct katt_nl_event *ev);

/*
 * msg-send of the @len bytes at @buf on the socket @cookie (0 leaves the
 * cookie out), as msg-data pieces of KATT_NL_MSG_PIECE bytes (the last one
 * shorter); @len 0 sends no msg-data at all.  The lengths are not checked
 * here: a message over KTLS_ATTEST_MSG_MAX goes to the kernel as it is.
 */
#define KATT_NL_MSG_PIECE	32768
int katt_nl_msg_send(struct katt_nl *nl, uint64_t cookie, const void *buf,
		     size_t len);
/* The same in pieces of @piece bytes (1 to KATT_NL_MSG_PIECE). */
int katt_nl_msg_send_pieces(struct katt_nl *nl, uint64_t cookie,
			    const void *buf, size_t len, size_t piece);

const char *katt_nl_state_name(uint32_t state);

#endif /* KATT_NL_SELFTEST_LIB_H */
