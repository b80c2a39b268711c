/* SPDX-License-Identifier: GPL-2.0 */
/*
 * agent_nl.h: ktls-attestd's side of the "ktls_attest" generic netlink
 * family (Documentation/netlink.rst), on libnl-genl-3.
 *
 *  - at start: the family resolved and probed (CTRL_CMD_GETFAMILY: its
 *    version, its highest attribute, its operations, the monitor group),
 *    refused with a message that says what differs; a receive buffer of at
 *    least 1 MiB and a send buffer for a 64 KiB msg-send; agent-register,
 *    refused with a clear message when another agent is registered; the
 *    monitor group joined (state-change: sockets that ended);
 *  - events, parsed with the policy generated from the spec
 *    (ktls_attest_nl_gen.c): round-start (with the binding), msg-recv (its
 *    msg-data pieces concatenated and checked against msg-len),
 *    state-change;
 *  - requests: msg-send (the message in msg-data pieces of at most 32768
 *    bytes), sock-verdict (reason-text cut to 127 bytes), agent-unregister.
 *
 * One socket does everything: the kernel takes msg-send and sock-verdict
 * only from the registered agent's socket.  A request is sent and its ack
 * read at once: generic netlink runs the request in the sender's sendmsg()
 * and queues the ack before that returns, so the wait is for bytes already
 * there.  Events read meanwhile are queued, in order, for
 * katt_agent_nl_next().
 *
 * Owns: the netlink socket, the event queue.  Calls: libnl-3, libnl-genl-3,
 * log.
 */
#ifndef KATT_AGENT_NL_H
#define KATT_AGENT_NL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "binder.h"

/* The receive buffer the agent asks for (and at least wants). */
#define KATT_NL_RCVBUF		(4 * 1024 * 1024)
#define KATT_NL_RCVBUF_MIN	(1024 * 1024)
#define KATT_NL_PIECE		32768

struct katt_agent_nl;

/* One event of the kernel. */
struct katt_nl_ev {
	uint8_t cmd;			/* KTLS_ATTEST_CMD_* */
	uint64_t cookie;
	uint32_t round;
	uint32_t role;
	uint32_t state;
	uint32_t reason;
	uint32_t timeout_ms;
	uint32_t binding_flags;
	bool has_binding;		/* binding-exporter was there */
	struct katt_binding binding;	/* secret: wiped by _release */
	uint8_t *msg;			/* msg-recv: the whole message */
	size_t msg_len;
	char bad[128];			/* non-empty: the event is unusable */
};

/*
 * Opens the socket and probes the family.  Returns 0, or a negative errno
 * with the reason logged: -ENOENT (the module is not loaded), -EPROTO (the
 * family's version or attributes do not fit this agent), another errno.
 */
int katt_agent_nl_open(struct katt_agent_nl **out);
void katt_agent_nl_close(struct katt_agent_nl *nl);
int katt_agent_nl_fd(const struct katt_agent_nl *nl);

/* agent-register and the monitor group; the reason logged. */
int katt_agent_nl_register(struct katt_agent_nl *nl);
int katt_agent_nl_unregister(struct katt_agent_nl *nl);

/*
 * Reads what the socket holds, without blocking, into the event queue.
 * Returns 0, -ENOBUFS (the kernel dropped messages: the socket overran;
 * logged), or another negative errno.
 */
int katt_agent_nl_recv(struct katt_agent_nl *nl);
/* Takes the oldest queued event; false if none. */
bool katt_agent_nl_next(struct katt_agent_nl *nl, struct katt_nl_ev *ev);
void katt_nl_ev_release(struct katt_nl_ev *ev);

/* msg-send.  0 or the kernel's negative errno (-ENOBUFS: try later). */
int katt_agent_nl_msg_send(struct katt_agent_nl *nl, uint64_t cookie,
			   const uint8_t *msg, size_t len);
/* sock-verdict pass or fail, @text cut to 127 bytes.  0 or -errno. */
int katt_agent_nl_verdict(struct katt_agent_nl *nl, uint64_t cookie,
			  uint32_t round, bool pass, const char *text);

/* The extack message of the last request, or "". */
const char *katt_agent_nl_extack(const struct katt_agent_nl *nl);

#endif /* KATT_AGENT_NL_H */
