/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ktls-attest: internal declarations shared by the module's files.
 *
 * Object model
 * ------------
 * An armed socket runs on one of the module's wrapper tables (struct
 * katt_table, table.c): a copy of whatever proto and proto_ops the socket
 * has underneath (plain TCP v4/v6, or one of tls's [ip][tx][rx] tables)
 * with the intercepted operations replaced.  Tables are built once per
 * inner pair, immutable once published, shared by every armed socket, and
 * freed only at module exit; a wrapper finds the inner functions through
 * container_of() on sk->sk_prot.  Under tls, the socket's tls context
 * points (ctx->sk_proto, tls's own hook for what lies below it, set
 * through the tls ULP's update callback) at an "under" table: tls's close,
 * and its setsockopt/getsockopt of other levels, come back to the module
 * whatever tables the socket runs on.
 *
 * The per-socket state (struct katt_sock, sock.c) is found through
 * sk->sk_user_data (tagged SK_USER_DATA_NOCOPY: accepted children do not
 * inherit it), and every lookup checks that it belongs to that socket.
 * Its life is the socket's: it is released by the socket's destructor
 * (sk->sk_destruct, chained), after the last reference to the socket, so
 * no wrapper call, timer or work can still be inside when it goes.
 * Timers and works hold a socket reference while they are pending;
 * netlink lookups take one with refcount_inc_not_zero().
 *
 * Module references
 * -----------------
 * An armed socket holds exactly one.  While our ULP has the socket's ULP
 * slot, that is the slot's own (taken by tcp_set_ulp(), or by the clone
 * callback); when the slot goes to tls, or when the slot is released as
 * the socket is destroyed, the reference moves to the state
 * (@module_ref), which drops it in the RCU callback that frees it.
 * Module exit waits for those callbacks (rcu_barrier()); the tables of
 * tls's that the module has wrapped pin tls (one reference per table).
 *
 * Files and whom they call (nothing calls "up" this list except through
 * the gate's event interface, struct katt_gate_events):
 *   main.c     init/exit; wires the gate's events to the agent and relay
 *   table.c    the shared wrapper tables (calls nothing)
 *   proto.c    the wrappers: data paths, options, close, accept
 *   ulp.c      ULP "attest" and the hand-over of the slot to tls
 *   sock.c     the state's life, arming, bypass detection, abort
 *   gate.c     the state machine, its deadline and waits
 *   relay.c    attestation records in and out of the connection
 *   agent.c    namespaces, the agent's registration, events to it
 *   netlink.c  the generic netlink operations
 *   sockopt.c  SOL_KTLS_ATTEST options
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

/* struct katt_sock.local_shutdown bits */
#define KATT_SHUT_RD	1
#define KATT_SHUT_WR	2

/*
 * TLS record plaintext limit: also what one inner call of an application's
 * send or receive moves at most, so that the gate is looked at between
 * records (proto.c, relay.c).
 */
#define KATT_REC_MAX		16384

/* Bounds of the relay (Documentation/protocol.rst) */
#define KATT_RXQ_MAX_BYTES	(64 * 1024)	/* records kept for the app */
#define KATT_RXQ_MAX_RECS	64		/* entries: a record, or a run of
						 * data records read at once
						 */
#define KATT_READY_MAX_BYTES	(2 * KTLS_ATTEST_MSG_MAX) /* for the agent */
#define KATT_TXQ_MAX_BYTES	KTLS_ATTEST_MSG_MAX	/* unsent, per socket */

/* struct katt_sock.end: a revoked or failed socket's end (relay.c) */
#define KATT_END_NONE		0
#define KATT_END_FLUSH		1	/* sending what was queued before */
#define KATT_END_DONE		2	/* error set, reset asked for */

enum katt_wait_for {
	KATT_WAIT_SEND,
	KATT_WAIT_RECV,
	KATT_WAIT_ROUND,
	KATT_WAIT_DATA,
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
 * struct katt_table - a shared wrapper table
 * @proto: copy of @inner with the intercepted operations replaced
 * @ops: copy of @inner_ops with the intercepted operations replaced
 * @inner: the proto it wraps
 * @inner_ops: the proto_ops it wraps
 * @pin: the module whose tables it copies (tls), referenced while the
 *	table exists; NULL for plain TCP
 * @node: in the module's list of tables
 *
 * Written once, before it is published in any socket; read-only after,
 * until module exit.
 */
struct katt_table {
	struct proto proto;
	struct proto_ops ops;
	struct proto *inner;
	const struct proto_ops *inner_ops;
	struct module *pin;
	struct list_head node;
};

/**
 * struct katt_sock - per-socket state of an armed socket
 * @sk: the socket (not a reference: the state lives as long as it does)
 * @net: its network namespace's state
 * @base: the wrapper table of its plain TCP proto and ops (NULL for a
 *	socket armed by fd: our ULP never holds its slot)
 * @cookie: the socket's cookie (SO_COOKIE)
 * @net_node: in katt_net.socks
 * @open: the state lets records through (ARMED, PASSED, or REATTESTING
 *	without hold); what the gate's waits and poll look at
 * @tx_open: application sends go straight to kTLS: @open, a kTLS
 *	transmit key, and no attestation message waits to be sent ahead of
 *	them; the send paths' one branch
 * @rx_open: application receives go straight to kTLS: @open, a kTLS
 *	receive key, and no record kept for the application waits in @rxq;
 *	the receive paths' one branch
 * @installing: a key, or tls itself, is being installed by the module:
 *	calls wait, and no other installation starts
 * @inner_calls: application calls inside an inner function from the slow
 *	paths (the only way in while a direction has no key): a key is not
 *	installed under them
 * @lock: protects the gate fields below it
 * @state: enum ktls_attest_state
 * @role: enum ktls_attest_role flags
 * @reason: enum ktls_attest_reason of the last state change
 * @local_shutdown: the application shut the socket down (KATT_SHUT_*)
 * @dead: the socket is closing: no new timer, no new work
 * @has_tx, @has_rx: kTLS keys installed through the module
 * @has_binding: @binding is set (once)
 * @module_ref: this state holds the socket's module reference
 * @binding: the connection binding; a secret, wiped on free
 * @txq: attestation messages to send (struct katt_msg)
 * @txq_bytes: bytes in @txq not yet sent
 * @ready: received messages for the agent (struct katt_msg)
 * @ready_bytes: their size
 * @end: KATT_END_*: how far the relay has ended a revoked or failed socket
 * @end_reset: ... and whether it aborts the connection when done
 * @flush_end: until when (jiffies) it tries to send what @txq holds
 * @policy_flags: enum ktls_attest_policy_flags
 * @timeout_ms: deadline of each round
 * @round: current or last round, from 1
 * @timer_round: the round @deadline was armed for
 * @armed_time: CLOCK_REALTIME ns when armed
 * @pass_time: CLOCK_REALTIME ns of the last pass, 0 never
 * @reason_text: free text of the last verdict
 * @deadline: fails the round closed when it expires (holds a socket
 *	reference while pending)
 * @told_round: the last round the registered agent was told of; under
 *	katt_net.agent_lock
 * @rx_mutex: serializes the kernel's own reads of records (the receive
 *	worker and applications' slow paths) and protects the fields after it
 * @rxq: records kept for the application (struct katt_rec)
 * @rxq_bytes, @rxq_recs: their payload bytes and number
 * @rx_asm: the attestation message being reassembled, or NULL
 * @peer_spoke: an attestation record arrived from the peer (ever)
 * @rx_wait: on the socket's wait queue: data arrival kicks @rx_work
 * @rx_wait_added: @rx_wait is on the wait queue; under lock_sock()
 * @rx_work: the kernel's reader: takes attestation records, keeps others
 *	while held, hands messages to the agent
 * @tx_work: writes @txq as records
 * @check_work: checks that the socket still runs on the module's tables
 *	and fails it closed if not (after each installation, then while keys
 *	are missing, and on request of the wait-queue entry)
 * @abort_work: aborts the connection (a bypass, or a reset on revoke);
 *	queued once, with a socket reference
 * @abort_err: the error it aborts with; set once (0: not asked for)
 * @tx_bytes, @rx_bytes: bytes moved through the gate (statistics)
 * @tx_held, @rx_held: calls that found the gate closed (statistics)
 * @tx_seq0: the TLS record sequence number kTLS's transmit key started at
 *	(under lock_sock(); valid once @tx_seq_valid)
 * @tx_recs: records the module has sent (or is sending) since: while the
 *	first round holds the socket, kTLS's sequence number may not be
 *	ahead of @tx_seq0 + @tx_recs, or an application record went out
 *	around the gate
 * @tx_seq_valid: @tx_seq0 is set
 * @rcu: for the deferred free
 *
 * Works hold a socket reference while queued (katt_sock_queue()).
 */
struct katt_sock {
	struct sock *sk;
	struct katt_net *net;
	struct katt_table *base;
	u64 cookie;
	struct list_head net_node;

	bool open;
	bool tx_open;
	bool rx_open;
	bool installing;
	atomic_t inner_calls;

	spinlock_t lock;	/* protects the fields up to @deadline */
	u8 state;
	u8 role;
	u8 reason;
	u8 local_shutdown;
	bool dead;
	bool has_tx;
	bool has_rx;
	bool has_binding;
	bool module_ref;
	struct ktls_attest_binding binding;
	struct list_head txq;
	u32 txq_bytes;
	struct list_head ready;
	u32 ready_bytes;
	u8 end;
	bool end_reset;
	unsigned long flush_end;
	u32 policy_flags;
	u32 timeout_ms;
	u32 round;
	u32 timer_round;
	u64 armed_time;
	u64 pass_time;
	char reason_text[KTLS_ATTEST_REASON_TEXT_MAX];
	struct timer_list deadline;

	u32 told_round;

	struct mutex rx_mutex;	/* protects the fields up to @peer_spoke */
	struct list_head rxq;
	u32 rxq_bytes;
	u32 rxq_recs;
	struct katt_msg *rx_asm;
	bool peer_spoke;

	struct wait_queue_entry rx_wait;
	bool rx_wait_added;
	struct delayed_work rx_work;
	struct delayed_work tx_work;
	struct delayed_work check_work;
	struct work_struct abort_work;
	int abort_err;

	atomic64_t tx_bytes;
	atomic64_t rx_bytes;
	atomic64_t tx_held;
	atomic64_t rx_held;

	u64 tx_seq0;
	atomic64_t tx_recs;
	bool tx_seq_valid;

	struct rcu_head rcu;
};

/**
 * struct katt_net - per network namespace state
 * @net: the namespace
 * @lock: protects @socks
 * @socks: armed sockets of the namespace (struct katt_sock.net_node); a
 *	state is on it until its socket's destructor, so the socket's memory
 *	is valid under @lock (its refcount may be 0: take a reference with
 *	katt_sock_tryget() before acting on it)
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

/* What the gate's state machine reports (struct katt_gate_events). */
#define KATT_EV_STATE	0x1	/* the state changed */
#define KATT_EV_ROUND	0x2	/* a round started, or what it needs came */
#define KATT_EV_END	0x4	/* revoked or failed: the relay ends it */
#define KATT_EV_RESET	0x8	/* ... and the connection is to be aborted */

/**
 * struct katt_gate_events - who listens to the gate
 * @changed: called after a change, outside the gate's locks, in any
 *	context but hardirq, with KATT_EV_* bits; the socket is referenced
 */
struct katt_gate_events {
	void (*changed)(struct katt_sock *ks, unsigned int what);
};

/* main.c */
extern struct workqueue_struct *katt_wq;

/* table.c */
int katt_table_init(void);
void katt_table_exit(void);
struct katt_table *katt_table_get(struct proto *inner,
				  const struct proto_ops *inner_ops,
				  struct module *pin);
struct proto *katt_under_proto(const struct sock *sk);
bool katt_proto_is_base(const struct sock *sk, const struct proto *prot);

/* proto.c: the functions the tables point at */
void katt_close(struct sock *sk, long timeout);
void katt_under_close(struct sock *sk, long timeout);
int katt_setsockopt(struct sock *sk, int level, int optname,
		    sockptr_t optval, unsigned int optlen);
int katt_getsockopt(struct sock *sk, int level, int optname,
		    char __user *optval, int __user *optlen);
int katt_under_setsockopt(struct sock *sk, int level, int optname,
			  sockptr_t optval, unsigned int optlen);
int katt_under_getsockopt(struct sock *sk, int level, int optname,
			  char __user *optval, int __user *optlen);
int katt_sendmsg(struct sock *sk, struct msghdr *msg, size_t size);
int katt_recvmsg(struct sock *sk, struct msghdr *msg, size_t len,
		 int flags, int *addr_len);
int katt_sendpage(struct sock *sk, struct page *page, int offset,
		  size_t size, int flags);
void katt_splice_eof(struct socket *sock);
__poll_t katt_poll(struct file *file, struct socket *sock,
		   struct poll_table_struct *wait);
ssize_t katt_splice_read(struct socket *sock, loff_t *ppos,
			 struct pipe_inode_info *pipe, size_t len,
			 unsigned int flags);
int katt_sendpage_locked(struct sock *sk, struct page *page,
			 int offset, size_t size, int flags);
void katt_ops_splice_eof(struct socket *sock);
int katt_shutdown(struct socket *sock, int how);
int katt_accept(struct socket *sock, struct socket *newsock,
		int flags, bool kern);

/* ulp.c */
extern struct tcp_ulp_ops katt_ulp_ops;
int katt_swap_to_tls(struct katt_sock *ks);

/* sock.c */
struct katt_sock *katt_sock_alloc(struct sock *sk, struct katt_table *base,
				  gfp_t gfp);
void katt_sock_free(struct katt_sock *ks);
int katt_sock_attach_locked(struct katt_sock *ks, struct katt_table *t);
void katt_sock_attach_child(struct katt_sock *ks);
void katt_sock_destruct(struct sock *sk);
typedef void (*katt_destruct_t)(struct sock *sk);
katt_destruct_t katt_sock_orig_destruct(const struct sock *sk);
bool katt_sock_tryget(struct katt_sock *ks);
void katt_sock_put(struct katt_sock *ks);
bool katt_sock_queue(struct katt_sock *ks, struct delayed_work *work,
		     unsigned long delay);
void katt_sock_cancel(struct katt_sock *ks, struct delayed_work *work);
int katt_handover_begin(struct katt_sock *ks);
void katt_handover_end(struct katt_sock *ks);
void katt_inner_enter(struct katt_sock *ks);
void katt_inner_leave(struct katt_sock *ks);
int katt_sock_publish_locked(struct katt_sock *ks);
void katt_sock_set_table_locked(struct sock *sk, struct katt_table *t);
void katt_sk_keys(struct sock *sk, bool *tx, bool *rx);
bool katt_sk_is_tls(const struct sock *sk);
void katt_sock_watch(struct katt_sock *ks, unsigned long delay);
void katt_sock_bypassed(struct katt_sock *ks, const char *what);
bool katt_sock_check(struct katt_sock *ks);
void katt_sock_tx_seq_locked(struct katt_sock *ks, bool in_use);
bool katt_sock_tx_ahead_locked(struct katt_sock *ks);
void katt_sock_reset_async(struct katt_sock *ks);
int katt_sock_arm_keyed(struct sock *sk, u32 role, u32 timeout_ms,
			u32 policy_flags, struct katt_sock **ksp,
			struct netlink_ext_ack *extack);

/* gate.c */
void katt_gate_set_events(const struct katt_gate_events *ev);
void katt_gate_init(struct katt_sock *ks, struct katt_sock *parent);
void katt_gate_update_open_locked(struct katt_sock *ks);
void katt_gate_wake(struct katt_sock *ks);
void katt_gate_report_error(struct katt_sock *ks);
void katt_gate_protocol_error(struct katt_sock *ks, const char *what, int err);
void katt_gate_fail(struct katt_sock *ks, u8 reason, const char *what);
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
bool katt_gate_recv_ready(struct katt_sock *ks);
u8 katt_gate_shutdown(struct katt_sock *ks, int how);
void katt_gate_shutdown_undo(struct katt_sock *ks, u8 old);
void katt_gate_teardown(struct katt_sock *ks);
void katt_gate_fill_status(struct katt_sock *ks,
			   struct ktls_attest_status *st);

/* relay.c */
void katt_relay_init(struct katt_sock *ks);
void katt_relay_attach_locked(struct katt_sock *ks);
void katt_relay_detach_locked(struct katt_sock *ks);
void katt_relay_stop(struct katt_sock *ks);
void katt_relay_free(struct katt_sock *ks);
void katt_relay_kick(struct katt_sock *ks);
void katt_relay_round(struct katt_sock *ks);
void katt_relay_end(struct katt_sock *ks, bool reset);
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

/* agent.c */
int katt_agent_init(void);
void katt_agent_exit(void);
struct katt_net *katt_net(const struct net *net);
void katt_net_add(struct katt_sock *ks);
void katt_net_del(struct katt_sock *ks);
struct katt_sock *katt_net_get(struct katt_net *kn, u64 cookie);
void katt_notify_state(struct katt_sock *ks);
void katt_notify_round(struct katt_sock *ks);
int katt_agent_deliver(struct katt_sock *ks, struct katt_msg *m);
int katt_agent_register(struct katt_net *kn, struct sock *nlsk, u32 portid,
			struct netlink_ext_ack *extack);
int katt_agent_unregister(struct katt_net *kn, struct sock *nlsk,
			  struct netlink_ext_ack *extack);
bool katt_agent_is(struct katt_net *kn, struct sock *nlsk);
int katt_fill_sock(struct sk_buff *skb, struct katt_sock *ks);

/* netlink.c */
extern struct genl_family katt_genl_family;
int katt_netlink_init(void);
void katt_netlink_exit(void);

static inline bool katt_state_terminal(u8 state)
{
	return state == KTLS_ATTEST_STATE_REVOKED ||
	       state == KTLS_ATTEST_STATE_FAILED;
}

/* Not yet passed: only the module's records may have gone out. */
static inline bool katt_state_before_pass(u8 state)
{
	return state == KTLS_ATTEST_STATE_ARMED ||
	       state == KTLS_ATTEST_STATE_PENDING;
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

/*
 * An application send may go into the inner sendmsg now: the gate is open
 * and nothing of the agent waits to go out first (there is no transmit
 * queue without a transmit key), and the module installs nothing.
 */
static inline bool katt_gate_send_may(const struct katt_sock *ks)
{
	if (READ_ONCE(ks->installing))
		return false;
	return READ_ONCE(ks->tx_open) ||
	       (READ_ONCE(ks->open) && !READ_ONCE(ks->has_tx));
}

/* Likewise for a receive (the relay serves what the gate kept first). */
static inline bool katt_gate_recv_may(const struct katt_sock *ks)
{
	return !READ_ONCE(ks->installing) && READ_ONCE(ks->open);
}

/**
 * katt_sk - the state of an armed socket
 * @sk: a socket the caller holds (a file reference, a socket reference,
 *	or the socket's own destruction)
 *
 * Return: the state, or NULL if the socket was never armed (or its
 * sk_user_data is someone else's).
 */
static inline struct katt_sock *katt_sk(const struct sock *sk)
{
	uintptr_t v = (uintptr_t)READ_ONCE(sk->sk_user_data);
	struct katt_sock *ks;

	if ((v & ~SK_USER_DATA_PTRMASK) != SK_USER_DATA_NOCOPY)
		return NULL;
	ks = (struct katt_sock *)(v & SK_USER_DATA_PTRMASK);
	return ks && ks->sk == sk ? ks : NULL;
}

/**
 * katt_table_of - the wrapper table a socket currently runs on
 * @sk: socket
 *
 * Return: NULL if sk->sk_prot is not one of the module's top tables: the
 * socket was never armed, it is being handed to tls at this moment, or a
 * thread went around the gate (see sock.c).
 */
static inline struct katt_table *katt_table_of(const struct sock *sk)
{
	struct proto *prot = READ_ONCE(sk->sk_prot);

	if (prot->close != katt_close)
		return NULL;
	return container_of(prot, struct katt_table, proto);
}

/**
 * katt_sk_on_table - the state of a socket running on a top table
 * @sk: the socket, held as for katt_sk()
 *
 * The data paths' lookup.  A socket on one of the module's top tables was
 * put there by the module after its state went in sk_user_data, which is
 * never taken away: the owner checks of katt_sk() hold by construction
 * (a child being cloned runs on its listener's table without a state, but
 * no call can reach it before the clone callback).
 */
static inline struct katt_sock *katt_sk_on_table(const struct sock *sk)
{
	return (struct katt_sock *)((uintptr_t)READ_ONCE(sk->sk_user_data) &
				    SK_USER_DATA_PTRMASK);
}

#endif /* _KTLS_ATTEST_H */
