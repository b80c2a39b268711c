/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ktls-attest: internal declarations shared by the module's files.
 *
 * Object model
 * ------------
 * Each armed socket owns one struct katt_sock.  The socket's sk->sk_prot and
 * sock->ops point at a per-socket copy of whatever proto and proto_ops the
 * socket had underneath (plain TCP first, then each of tls's tables), with
 * the operations this module intercepts replaced.  A wrapper finds its state
 * with container_of() on sk->sk_prot: no lookup on the data path.
 *
 * tls replaces sk_prot and sock->ops on TCP_ULP "tls" and on each of
 * TLS_TX and TLS_RX.  Every time, the module builds a new copy ("wrap")
 * around the new inner tables in a fresh slot and publishes it; a slot that
 * has been published is never written again, so a thread that read an older
 * sk_prot still calls through a consistent table.  A socket meets at most
 * KATT_WRAP_SLOTS distinct inner tables in its life: plain TCP, then tls's
 * BASE/BASE, then one with TX or RX installed, then both (each of TLS_TX and
 * TLS_RX succeeds at most once, and a failed option leaves tls's tables as
 * they were).  A wrap whose inner tables are already wrapped by an earlier
 * slot reuses that slot.
 *
 * Lifetime and module references
 * ------------------------------
 * Every armed socket holds exactly one module reference, so rmmod is
 * refused while any socket is armed and the module's refcnt counts them.
 * While our ULP holds the socket's ULP slot, that is the slot's own
 * reference (taken by tcp_set_ulp(), or by our clone callback, and dropped
 * by tcp_cleanup_ulp()).  When the slot is handed over to tls the
 * reference moves to the katt_sock (@module_ref), which drops it in its RCU
 * callback.  Module exit waits for pending callbacks with rcu_barrier().
 *
 * The katt_sock is freed (after an RCU grace period) by the ULP release
 * callback if our ULP still holds the slot when the socket is destroyed, or
 * by our close() wrapper once tls holds the slot.
 */
#ifndef _KTLS_ATTEST_H
#define _KTLS_ATTEST_H

#include <linux/mutex.h>
#include <linux/net.h>
#include <linux/rcupdate.h>
#include <linux/spinlock.h>
#include <linux/timer.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <net/genetlink.h>
#include <net/sock.h>
#include <net/tcp.h>

#include <linux/ktls_attest.h>

#define KATT_WRAP_SLOTS 4

/* struct katt_sock.local_shutdown bits */
#define KATT_SHUT_RD	1
#define KATT_SHUT_WR	2

/* Bounds of the relay (Documentation/protocol.rst) */
#define KATT_RXQ_MAX_BYTES	(64 * 1024)	/* records kept for the app */
#define KATT_RXQ_MAX_RECS	64		/* entries: a record, or a run of
						 * data records read at once
						 */
#define KATT_READY_MAX_BYTES	(2 * KTLS_ATTEST_MSG_MAX) /* for the agent */
#define KATT_TXQ_MAX_BYTES	KTLS_ATTEST_MSG_MAX	/* unsent, per socket */

enum katt_wait_for {
	KATT_WAIT_SEND,
	KATT_WAIT_RECV,
	KATT_WAIT_ROUND,
};

struct katt_sock;

/**
 * struct katt_msg - an attestation message queued in the kernel
 * @node: in katt_sock.txq (to send) or katt_sock.ready (for the agent)
 * @round: the round it arrived in (received messages)
 * @len: its length
 * @off: bytes of it sent so far (messages to send)
 * @data: the message
 */
struct katt_msg {
	struct list_head node;
	u32 round;
	u32 len;
	u32 off;
	u8 data[];
};

/**
 * struct katt_rec - a record kept for the application while held
 * @node: in katt_sock.rxq
 * @type: its TLS record type
 * @len: bytes of payload
 * @off: bytes of it the application has read
 * @data: the payload
 */
struct katt_rec {
	struct list_head node;
	u8 type;
	u32 len;
	u32 off;
	u8 data[];
};

/**
 * struct katt_wrap - one generation of a socket's wrapped proto and ops
 * @proto: copy of @inner with the intercepted operations replaced
 * @ops: copy of @inner_ops with the intercepted operations replaced
 * @inner: the proto that was in sk->sk_prot when this slot was built
 * @inner_ops: the proto_ops that were in sock->ops when this slot was built
 * @ks: the socket state this slot belongs to
 *
 * Written once, before it is published in sk->sk_prot; read-only after.
 */
struct katt_wrap {
	struct proto proto;
	struct proto_ops ops;
	struct proto *inner;
	const struct proto_ops *inner_ops;
	struct katt_sock *ks;
};

/**
 * struct katt_sock - per-socket state of an armed socket
 * @sk: the socket
 * @net: its network namespace's state
 * @base: the plain TCP proto (tcp_prot or tcpv6_prot) under everything
 * @base_ops: the plain stream proto_ops under everything
 * @cookie: the socket's cookie (SO_COOKIE)
 * @net_node: in katt_net.socks
 * @open: the state lets records through (PASSED, or REATTESTING without
 *	hold); what the gate's waits and poll look at
 * @tx_open: application sends go straight to kTLS: @open, and no
 *	attestation message waits to be sent ahead of them; the send paths'
 *	one branch
 * @rx_open: application receives go straight to kTLS: @open, and no record
 *	kept for the application waits in @rxq; the receive paths' one branch
 * @lock: protects the gate fields below it
 * @state: enum ktls_attest_state
 * @role: enum ktls_attest_role flags
 * @policy_flags: enum ktls_attest_policy_flags
 * @timeout_ms: deadline of each round
 * @round: current or last round, from 1
 * @timer_round: the round @deadline was armed for
 * @told_round: the last round the registered agent was told of
 * @rx_mutex: serializes the kernel's own reads of records (the receive
 *	worker and applications' slow paths) and protects the fields after it
 * @rxq: records kept for the application (struct katt_rec)
 * @rxq_bytes, @rxq_recs: their payload bytes and number
 * @rx_asm: the attestation message being reassembled, or NULL
 * @peer_spoke: an attestation record arrived from the peer (ever)
 * @ready: received messages for the agent (struct katt_msg); under @lock
 * @ready_bytes: their size; under @lock
 * @rx_wait: on the socket's wait queue: data arrival kicks @rx_work
 * @rx_wait_added: @rx_wait is on the wait queue (lock_sock or owner)
 * @rx_idle: on a passed socket, lets @rx_work look at records the
 *	application leaves unread
 * @rx_work: the kernel's reader: takes attestation records, keeps others
 *	while held, hands messages to the agent
 * @tx_work: writes @txq as records
 * @reason: enum ktls_attest_reason of the last state change
 * @reason_text: free text of the last verdict
 * @local_shutdown: the application shut the socket down (SHUT_RD bit 0,
 *	SHUT_WR bit 1): wakes and ends waits in the gate
 * @dead: the socket is closing: no new timer, no new work
 * @has_tx, @has_rx: kTLS keys installed
 * @has_binding: @binding is set (once)
 * @binding: the connection binding; a secret, wiped on free
 * @txq: attestation messages to send (struct katt_msg)
 * @txq_bytes: bytes in @txq not yet sent
 * @armed_time: CLOCK_REALTIME ns when armed
 * @pass_time: CLOCK_REALTIME ns of the last pass, 0 never
 * @deadline: fails the round closed when it expires
 * @tx_bytes, @rx_bytes: bytes moved through the gate (statistics)
 * @tx_held, @rx_held: calls that found the gate closed (statistics)
 * @nwraps: number of slots of @wraps in use
 * @module_ref: this state holds the socket's module reference (the ULP
 *	slot was handed over to tls)
 * @rcu: for the deferred free
 * @wraps: the wrapper generations, see struct katt_wrap
 */
struct katt_sock {
	struct sock *sk;
	struct katt_net *net;
	struct proto *base;
	const struct proto_ops *base_ops;
	u64 cookie;
	struct list_head net_node;

	bool open;
	bool tx_open;
	bool rx_open;

	spinlock_t lock;	/* protects the fields up to @deadline */
	u8 state;
	u8 role;
	u8 reason;
	u8 local_shutdown;
	bool dead;
	bool has_tx;
	bool has_rx;
	bool has_binding;
	struct ktls_attest_binding binding;
	struct list_head txq;
	u32 txq_bytes;
	struct list_head ready;
	u32 ready_bytes;
	u32 policy_flags;
	u32 timeout_ms;
	u32 round;
	u32 timer_round;
	u64 armed_time;
	u64 pass_time;
	char reason_text[KTLS_ATTEST_REASON_TEXT_MAX];
	struct timer_list deadline;

	/* protected by katt_net.agent_lock */
	u32 told_round;

	struct mutex rx_mutex;	/* protects the fields up to @peer_spoke */
	struct list_head rxq;
	u32 rxq_bytes;
	u32 rxq_recs;
	struct katt_msg *rx_asm;
	bool peer_spoke;

	struct wait_queue_entry rx_wait;
	bool rx_wait_added;
	struct timer_list rx_idle;
	struct delayed_work rx_work;
	struct delayed_work tx_work;

	atomic64_t tx_bytes;
	atomic64_t rx_bytes;
	atomic64_t tx_held;
	atomic64_t rx_held;

	/* protected by lock_sock(sk), or owned by the cloning context */
	unsigned int nwraps;
	bool module_ref;

	struct rcu_head rcu;
	struct katt_wrap wraps[KATT_WRAP_SLOTS];
};

/**
 * struct katt_net - per network namespace state
 * @net: the namespace
 * @lock: protects @socks
 * @socks: armed sockets of the namespace (struct katt_sock.net_node)
 * @agent_lock: protects @agent_portid and @agent_sk; nests inside @lock
 * @agent_portid: netlink port of the registered agent; 0 none
 * @agent_sk: the agent's netlink socket (a reference is held), for flow
 *	control of the events it is sent
 * @announce_work: announces rounds the agent has not been told of yet
 */
struct katt_net {
	struct net *net;
	spinlock_t lock;	/* protects the next field */
	struct list_head socks;
	spinlock_t agent_lock;	/* protects the next 2 fields */
	u32 agent_portid;
	struct sock *agent_sk;
	struct delayed_work announce_work;
};

/* main.c */
extern struct workqueue_struct *katt_wq;

/* ulp.c */
extern struct tcp_ulp_ops katt_ulp_ops;
int katt_swap_to_tls(struct katt_sock *ks);

/* proto.c */
void katt_close(struct sock *sk, long timeout);
struct katt_sock *katt_sock_alloc(struct sock *sk, struct proto *base,
				  const struct proto_ops *base_ops, gfp_t gfp);
void katt_sock_free(struct katt_sock *ks);
int katt_wrap_install_locked(struct katt_sock *ks, struct proto *inner,
			     const struct proto_ops *inner_ops);
void katt_sk_keys(struct sock *sk, bool *tx, bool *rx);

/* gate.c */
void katt_gate_init(struct katt_sock *ks, struct katt_sock *parent);
void katt_gate_update_open_locked(struct katt_sock *ks);
void katt_gate_wake(struct katt_sock *ks);
void katt_gate_protocol_error(struct katt_sock *ks, const char *what, int err);
bool katt_gate_peer_message(struct katt_sock *ks, u32 *round);
bool katt_round_ready(struct katt_sock *ks);
void katt_gate_keys_coming(struct katt_sock *ks);
void katt_gate_keys_done(struct katt_sock *ks, bool tx, bool rx);
int katt_gate_set_binding(struct katt_sock *ks,
			  const struct ktls_attest_binding *b);
int katt_gate_verdict(struct katt_sock *ks, u32 round, u32 verdict,
		      u8 reason, const char *text, struct netlink_ext_ack *extack);
int katt_gate_reattest(struct katt_sock *ks, struct netlink_ext_ack *extack);
int katt_gate_wait(struct katt_sock *ks, enum katt_wait_for what, long *timeo);
int katt_gate_wait_recv(struct katt_sock *ks, long *timeo);
void katt_gate_shutdown(struct katt_sock *ks, int how);
void katt_gate_teardown(struct katt_sock *ks);
void katt_gate_fill_status(struct katt_sock *ks,
			   struct ktls_attest_status *st);

/* relay.c */
void katt_relay_init(struct katt_sock *ks);
void katt_relay_attach(struct katt_sock *ks);
void katt_relay_stop(struct katt_sock *ks);
void katt_relay_free(struct katt_sock *ks);
void katt_relay_kick(struct katt_sock *ks);
void katt_relay_round(struct katt_sock *ks);
int katt_relay_send(struct katt_sock *ks, struct katt_msg *m,
		    struct netlink_ext_ack *extack);
int katt_relay_recvmsg(struct katt_sock *ks, struct sock *sk,
		       struct msghdr *msg, size_t len, int flags,
		       int *addr_len);
int katt_relay_take_head(struct katt_sock *ks);
__poll_t katt_relay_poll(struct katt_sock *ks);

/* sockopt.c */
int katt_sockopt_set(struct katt_sock *ks, int optname, sockptr_t optval,
		     unsigned int optlen);
int katt_sockopt_get(struct katt_sock *ks, int optname, char __user *optval,
		     int __user *optlen);

/* netlink.c */
int katt_netlink_init(void);
void katt_netlink_exit(void);
struct katt_net *katt_net(const struct net *net);
void katt_net_add(struct katt_sock *ks);
void katt_net_del(struct katt_sock *ks);
void katt_notify_state(struct katt_sock *ks);
void katt_notify_round(struct katt_sock *ks);
int katt_agent_deliver(struct katt_sock *ks, struct katt_msg *m);
void katt_reset_async(struct sock *sk);

static inline bool katt_state_terminal(u8 state)
{
	return state == KTLS_ATTEST_STATE_REVOKED ||
	       state == KTLS_ATTEST_STATE_FAILED;
}

static inline bool katt_state_in_round(u8 state)
{
	return state == KTLS_ATTEST_STATE_PENDING ||
	       state == KTLS_ATTEST_STATE_REATTESTING;
}

/* The error every call gets on a revoked or failed socket. */
static inline int katt_state_errno(u8 state)
{
	return state == KTLS_ATTEST_STATE_FAILED ? -EKEYREJECTED : -EKEYREVOKED;
}

/* -EKEYREVOKED or -EKEYREJECTED if @ks is revoked or failed, else 0. */
static inline int katt_gate_terminal_err(const struct katt_sock *ks)
{
	u8 state = READ_ONCE(ks->state);

	return katt_state_terminal(state) ? katt_state_errno(state) : 0;
}

/**
 * katt_wrap_of - the wrapper slot a socket is currently wrapped with
 * @sk: socket
 *
 * Returns NULL if sk->sk_prot is not one of this module's copies: the
 * socket was never armed, or another thread of the application is in the
 * middle of switching it to kTLS.
 */
static inline struct katt_wrap *katt_wrap_of(const struct sock *sk)
{
	struct proto *prot = READ_ONCE(sk->sk_prot);

	if (prot->close != katt_close)
		return NULL;
	return container_of(prot, struct katt_wrap, proto);
}

#endif /* _KTLS_ATTEST_H */
