// SPDX-License-Identifier: GPL-2.0
/*
 * ktls-attest: the life of an armed socket's state, and the module's
 * watch over which tables the socket runs on.
 *
 * Owns struct katt_sock's allocation, its attachment to the socket
 * (sk_user_data, the chained destructor, the top table), the socket
 * references of its works, the guards around an installation (tls, or a
 * kTLS key), the check that the socket still runs on the module's tables
 * (and the fail-closed abort when it does not), and arming a socket that
 * already has kTLS.  Calls table.c, gate.c (init and the fail-closed
 * state change), relay.c (init, free) and agent.c (the namespace's list).
 *
 * Life: the state is allocated when the socket is armed and released by
 * the socket's destructor (katt_sock_destruct(), chained in front of
 * inet_sock_destruct()), so nothing that holds the socket can see it go:
 * an application's call holds the socket's file; timers and works hold a
 * socket reference while pending; netlink takes one (katt_sock_tryget()).
 * The destructor may run in softirq or an RCU callback: it cancels
 * nothing (nothing is pending) and frees after a grace period.
 *
 * Where a thread can still reach tls's own tables (the windows of the
 * hand-over and of each key, documented in Documentation/security.rst),
 * the module notices at its next look at the socket: right after each of
 * its own installations, at the socket's next wake-up (data, ACK space,
 * state change: the wait-queue entry), at every timer and work of the
 * socket, at tls's pass-through of other options, and from a watchdog
 * that runs from the hand-over until both keys are in.  It then fails the
 * socket closed (reason bypass) and aborts the connection.
 */

#include <linux/module.h>
#include <linux/slab.h>
#include <linux/sock_diag.h>
#include <net/inet_common.h>
#include <net/inet_connection_sock.h>
#include <net/ipv6.h>
#include <net/tls.h>

#include "ktls_attest.h"

/* The watchdog's first look after an installation, and its period. */
#define KATT_WATCH_FIRST_MS	10
#define KATT_WATCH_PERIOD_MS	200

static void katt_check_work(struct work_struct *work);
static void katt_abort_work(struct work_struct *work);

/**
 * katt_sock_alloc - allocate the state of a socket being armed
 * @sk: the socket
 * @base: the wrapper table of its plain TCP proto
 * @gfp: allocation flags (atomic when cloning in softirq)
 */
struct katt_sock *katt_sock_alloc(struct sock *sk, struct katt_table *base,
				  gfp_t gfp)
{
	struct katt_sock *ks;
	u32 cookie[2];

	ks = kzalloc(sizeof(*ks), gfp);
	if (!ks)
		return NULL;
	ks->sk = sk;
	ks->base = base;
	INIT_LIST_HEAD(&ks->net_node);
	atomic_set(&ks->inner_calls, 0);
	INIT_DELAYED_WORK(&ks->check_work, katt_check_work);
	INIT_WORK(&ks->abort_work, katt_abort_work);
	katt_relay_init(ks);
	/* generates the cookie if the socket has none yet */
	sock_diag_save_cookie(sk, cookie);
	ks->cookie = (u64)cookie[1] << 32 | cookie[0];
	return ks;
}

static void katt_sock_free_rcu(struct rcu_head *head)
{
	struct katt_sock *ks = container_of(head, struct katt_sock, rcu);
	bool module_ref = ks->module_ref;

	katt_relay_free(ks);
	memzero_explicit(&ks->binding, sizeof(ks->binding));
	kfree(ks);
	/* rcu_barrier() in module exit waits for the rest of this function */
	if (module_ref)
		module_put(THIS_MODULE);
}

/**
 * katt_sock_free - free a state after an RCU grace period
 * @ks: the state, not (or no longer) attached to its socket
 *
 * Any context.  Takes it off its namespace's list first.
 */
void katt_sock_free(struct katt_sock *ks)
{
	katt_net_del(ks);
	call_rcu(&ks->rcu, katt_sock_free_rcu);
}

/*
 * The destructor TCP gives a socket of @sk's family: the only one the
 * module chains (arming is refused for a socket whose destructor is
 * another subsystem's).
 */
katt_destruct_t katt_sock_orig_destruct(const struct sock *sk)
{
#if IS_ENABLED(CONFIG_IPV6)
	if (sk->sk_family == AF_INET6)
		return inet6_sock_destruct;
#endif
	return inet_sock_destruct;
}

/*
 * The socket is being freed: every reference is gone, and so every call,
 * timer and work that could use the state.  Any context.
 */
void katt_sock_destruct(struct sock *sk)
{
	struct katt_sock *ks = katt_sk(sk);

	katt_sock_orig_destruct(sk)(sk);
	if (!ks)	/* a child whose state could not be allocated */
		return;
	WARN_ON_ONCE(ks->rx_wait_added || timer_pending(&ks->deadline));
	katt_sock_free(ks);
}

/**
 * katt_sock_publish_locked - put the socket on the table of its inner pair
 * @ks: socket state
 *
 * Under lock_sock().  Wraps whatever sk->sk_prot and sock->ops are now
 * (plain TCP, or one of tls's tables).
 *
 * Return: 0, or -ENOMEM (the socket stays as it is).
 */
int katt_sock_publish_locked(struct katt_sock *ks)
{
	struct sock *sk = ks->sk;
	struct proto *inner = READ_ONCE(sk->sk_prot);
	struct katt_table *t;
	struct module *pin = NULL;

	sock_owned_by_me(sk);
	if (katt_table_of(sk))
		return 0;
	if (!katt_proto_is_base(sk, inner))
		pin = inet_csk(sk)->icsk_ulp_ops->owner;
	t = katt_table_get(inner, READ_ONCE(sk->sk_socket->ops), pin);
	if (!t)
		return -ENOMEM;
	katt_sock_set_table_locked(sk, t);
	return 0;
}

/**
 * katt_sock_set_table_locked - put a socket on a table
 * @sk: the socket, locked (or not yet visible to anyone)
 * @t: the table
 *
 * Lockless callers load sk->sk_prot and sock->ops: each store publishes a
 * table that was complete before it (release), and sock->ops goes first,
 * as tls's update_sk_prot() orders them too.
 */
void katt_sock_set_table_locked(struct sock *sk, struct katt_table *t)
{
	/* pairs with the address dependency of the lockless loads */
	smp_store_release(&sk->sk_socket->ops, &t->ops);
	/* likewise */
	smp_store_release(&sk->sk_prot, &t->proto);
}

/**
 * katt_sock_attach_locked - attach a new state to its socket
 * @ks: the state, gate initialised
 * @t: the table to put the socket on (NULL: the one of its inner pair)
 *
 * Under lock_sock(); the socket has its struct socket.  Refuses a socket
 * whose sk_user_data is taken (KCM, sockmap) or whose destructor is not
 * TCP's own.
 *
 * Return: 0; -EBUSY, -EOPNOTSUPP or -ENOMEM, the socket untouched.
 */
int katt_sock_attach_locked(struct katt_sock *ks, struct katt_table *t)
{
	struct sock *sk = ks->sk;
	int err = 0;

	sock_owned_by_me(sk);
	write_lock_bh(&sk->sk_callback_lock);
	if (sk->sk_user_data)
		err = -EBUSY;
	else if (sk->sk_destruct != katt_sock_orig_destruct(sk))
		err = -EOPNOTSUPP;
	else
		__rcu_assign_sk_user_data_with_flags(sk, ks, SK_USER_DATA_NOCOPY);
	write_unlock_bh(&sk->sk_callback_lock);
	if (err)
		return err;

	if (t) {
		katt_sock_set_table_locked(sk, t);
	} else {
		err = katt_sock_publish_locked(ks);
		if (err)
			goto out_detach;
	}
	sk->sk_destruct = katt_sock_destruct;
	katt_net_add(ks);
	katt_relay_attach_locked(ks);
	return 0;

out_detach:
	write_lock_bh(&sk->sk_callback_lock);
	__rcu_assign_sk_user_data_with_flags(sk, NULL, 0);
	write_unlock_bh(&sk->sk_callback_lock);
	return err;
}

/**
 * katt_sock_attach_child - attach a new state to a child being cloned
 * @ks: the state, gate initialised from the listener's
 *
 * In softirq, the child locked and not yet visible to anyone.  It runs on
 * its listener's (plain TCP) table and destructor already.
 */
void katt_sock_attach_child(struct katt_sock *ks)
{
	__rcu_assign_sk_user_data_with_flags(ks->sk, ks, SK_USER_DATA_NOCOPY);
	katt_net_add(ks);
}

/**
 * katt_sock_tryget - take a reference on a state's socket
 * @ks: a state found on its namespace's list (under its lock)
 *
 * Return: false if the socket is already on its way to being freed.
 */
bool katt_sock_tryget(struct katt_sock *ks)
{
	return refcount_inc_not_zero(&ks->sk->sk_refcnt);
}

/* Drop a reference taken with katt_sock_tryget().  Not under katt_net.lock. */
void katt_sock_put(struct katt_sock *ks)
{
	sock_put(ks->sk);
}

/**
 * katt_sock_queue - queue one of the socket's works
 * @ks: socket state; the caller holds the socket
 * @work: the work
 * @delay: in jiffies
 *
 * A queued work holds a socket reference, dropped when it has run (or by
 * katt_sock_cancel()).  Nothing is queued once the socket is closing.
 * Under ks->lock or not, any context but hardirq.
 *
 * Return: true if it was queued (now or already).
 */
bool katt_sock_queue(struct katt_sock *ks, struct delayed_work *work,
		     unsigned long delay)
{
	if (READ_ONCE(ks->dead))
		return false;
	sock_hold(ks->sk);
	/* already pending: it holds a reference of its own */
	if (mod_delayed_work(katt_wq, work, delay))
		__sock_put(ks->sk);
	return true;
}

/* Cancel a work of the socket and drop its reference.  Process context. */
void katt_sock_cancel(struct katt_sock *ks, struct delayed_work *work)
{
	if (cancel_delayed_work_sync(work))
		sock_put(ks->sk);
}

/**
 * katt_handover_begin - the module is about to install tls or a key
 * @ks: socket state
 *
 * New calls of the application wait until katt_handover_end().  Refused
 * while another installation runs, or while an application call is inside
 * an inner function the installation would replace under it (a send that
 * waits in plain TCP for buffer space would otherwise go on writing
 * plaintext after the key).
 *
 * Return: 0, or -EBUSY.
 */
int katt_handover_begin(struct katt_sock *ks)
{
	int err = 0;

	spin_lock_bh(&ks->lock);
	if (ks->installing)
		err = -EBUSY;
	else
		WRITE_ONCE(ks->installing, true);
	spin_unlock_bh(&ks->lock);
	if (err)
		return err;

	/* pairs with katt_inner_enter(): either sees the other */
	smp_mb();
	if (atomic_read(&ks->inner_calls)) {
		katt_handover_end(ks);
		return -EBUSY;
	}
	return 0;
}

/* The installation of katt_handover_begin() is over: waiting calls go on. */
void katt_handover_end(struct katt_sock *ks)
{
	WRITE_ONCE(ks->installing, false);
	katt_gate_wake(ks);
}

/**
 * katt_inner_enter - an application call goes into an inner function
 * @ks: socket state
 *
 * From the slow paths (the only way in while a direction has no key),
 * after the gate let the call through.  The caller re-checks
 * ks->installing afterwards and leaves again if it is set.
 */
void katt_inner_enter(struct katt_sock *ks)
{
	atomic_inc(&ks->inner_calls);
	/* pairs with katt_handover_begin() */
	smp_mb__after_atomic();
}

void katt_inner_leave(struct katt_sock *ks)
{
	atomic_dec(&ks->inner_calls);
}

/* tls holds the socket's ULP slot. */
bool katt_sk_is_tls(const struct sock *sk)
{
	const struct tcp_ulp_ops *ops = inet_csk(sk)->icsk_ulp_ops;

	return ops && !strcmp(ops->name, "tls") && inet_csk(sk)->icsk_ulp_data;
}

/* Which kTLS keys the socket has (tls holds the ULP slot). */
void katt_sk_keys(struct sock *sk, bool *tx, bool *rx)
{
	struct tls_context *ctx;

	*tx = false;
	*rx = false;
	if (!katt_sk_is_tls(sk))
		return;
	ctx = tls_get_ctx(sk);
	*tx = ctx->tx_conf != TLS_BASE;
	*rx = ctx->rx_conf != TLS_BASE;
}

/* kTLS's next transmit record sequence number. */
static u64 katt_tls_tx_seq(struct tls_context *ctx)
{
	return be64_to_cpup((const __be64 *)ctx->tx.rec_seq);
}

/* The sequence number the application's TLS_TX started kTLS at. */
static u64 katt_tls_tx_seq_start(struct tls_context *ctx)
{
	const unsigned char *seq;

	switch (ctx->crypto_send.info.cipher_type) {
	case TLS_CIPHER_AES_GCM_128:
		seq = ctx->crypto_send.aes_gcm_128.rec_seq;
		break;
	case TLS_CIPHER_AES_GCM_256:
		seq = ctx->crypto_send.aes_gcm_256.rec_seq;
		break;
	case TLS_CIPHER_CHACHA20_POLY1305:
		seq = ctx->crypto_send.chacha20_poly1305.rec_seq;
		break;
	default:
		return katt_tls_tx_seq(ctx);
	}
	return be64_to_cpup((const __be64 *)seq);
}

/**
 * katt_sock_tx_seq_locked - the socket has its kTLS transmit key now
 * @ks: socket state
 * @in_use: the key was in use before the socket was armed (by fd)
 *
 * Under lock_sock().  Takes the record sequence number the key started at
 * (from the application's crypto_info, not tls's counter: a thread may
 * have sent through tls's own table before the module looked), so that
 * katt_sock_check_locked() can count what went out while held.  A socket
 * armed by fd over a key in use starts from tls's counter.
 */
void katt_sock_tx_seq_locked(struct katt_sock *ks, bool in_use)
{
	struct sock *sk = ks->sk;
	struct tls_context *ctx;
	bool tx, rx;

	sock_owned_by_me(sk);
	katt_sk_keys(sk, &tx, &rx);
	if (ks->tx_seq_valid || !tx)
		return;
	ctx = tls_get_ctx(sk);
	ks->tx_seq0 = in_use ? katt_tls_tx_seq(ctx) : katt_tls_tx_seq_start(ctx);
	WRITE_ONCE(ks->tx_seq_valid, true);
}

/**
 * katt_sock_tx_ahead_locked - records went out that the module did not send
 * @ks: socket state, under lock_sock(), the socket held since @tx_seq0
 */
bool katt_sock_tx_ahead_locked(struct katt_sock *ks)
{
	struct sock *sk = ks->sk;

	if (!READ_ONCE(ks->tx_seq_valid) || !katt_sk_is_tls(sk))
		return false;
	return katt_tls_tx_seq(tls_get_ctx(sk)) - ks->tx_seq0 >
	       (u64)atomic64_read(&ks->tx_recs);
}

/*
 * Does the socket run as the module expects?  Under lock_sock(), no
 * installation of the module's under way.  Returns NULL, or what is wrong.
 */
static const char *katt_sock_check_locked(struct katt_sock *ks)
{
	struct sock *sk = ks->sk;
	struct tls_context *ctx;
	bool tx, rx;

	sock_owned_by_me(sk);
	if (inet_csk(sk)->icsk_ulp_ops == &katt_ulp_ops)
		return katt_table_of(sk) == ks->base ? NULL :
		       "the socket left the module's tables";
	if (!katt_sk_is_tls(sk))
		return "another upper layer protocol took the socket";
	if (!katt_table_of(sk))
		return "a kTLS call went around the gate";
	ctx = tls_get_ctx(sk);
	if (ctx->sk_proto != katt_under_proto(sk))
		return "the socket left the module's tables under kTLS";
	katt_sk_keys(sk, &tx, &rx);
	if (tx != READ_ONCE(ks->has_tx) || rx != READ_ONCE(ks->has_rx))
		return "a kTLS key was installed around the gate";
	/* held in the first round: only the module's own records go out */
	if (READ_ONCE(ks->state) == KTLS_ATTEST_STATE_PENDING &&
	    katt_sock_tx_ahead_locked(ks))
		return "application records went out around the gate";
	return NULL;
}

/*
 * Look at the socket now, unless it is closing, failed, or the module
 * installs something on it.  Returns what is wrong, or NULL; *again (if
 * given) whether the watchdog is to look again later: until both keys are
 * in, a key can still go in around the module; while the first round
 * holds, a send that loaded tls's own table before the module's went back
 * on can still go out.
 */
static const char *katt_sock_look(struct katt_sock *ks, bool *again)
{
	struct sock *sk = ks->sk;
	const char *what = NULL;

	lock_sock(sk);
	if (!READ_ONCE(ks->dead) && !READ_ONCE(ks->installing) &&
	    !katt_gate_terminal_err(ks)) {
		what = katt_sock_check_locked(ks);
		if (again)
			*again = !what && katt_sk_is_tls(sk) &&
				 (!(READ_ONCE(ks->has_tx) && READ_ONCE(ks->has_rx)) ||
				  READ_ONCE(ks->state) == KTLS_ATTEST_STATE_PENDING);
	}
	release_sock(sk);
	return what;
}

/**
 * katt_sock_check - look at the socket's tables now
 * @ks: socket state; the caller holds the socket, process context, no lock
 *
 * Fails the socket closed if it does not run as the module expects.
 *
 * Return: true if it did not (the socket is failed now).
 */
bool katt_sock_check(struct katt_sock *ks)
{
	const char *what = katt_sock_look(ks, NULL);

	if (what)
		katt_sock_bypassed(ks, what);
	return !!what;
}

/* The watchdog, and the look others ask for.  Holds a socket reference. */
static void katt_check_work(struct work_struct *work)
{
	struct katt_sock *ks = container_of(to_delayed_work(work),
					    struct katt_sock, check_work);
	bool again = false;
	const char *what;

	what = katt_sock_look(ks, &again);
	if (what)
		katt_sock_bypassed(ks, what);
	else if (again)
		katt_sock_watch(ks, msecs_to_jiffies(KATT_WATCH_PERIOD_MS));
	sock_put(ks->sk);
}

/**
 * katt_sock_watch - look at the socket's tables after @delay
 * @ks: socket state; the caller holds the socket
 * @delay: in jiffies (0: as soon as possible)
 *
 * Any context but hardirq.
 */
void katt_sock_watch(struct katt_sock *ks, unsigned long delay)
{
	katt_sock_queue(ks, &ks->check_work, delay);
}

/* Holds the socket reference katt_abort_async() took for it. */
static void katt_abort_work(struct work_struct *work)
{
	struct katt_sock *ks = container_of(work, struct katt_sock, abort_work);

	tcp_abort(ks->sk, READ_ONCE(ks->abort_err));
	sock_put(ks->sk);
}

/*
 * Abort the connection from process context, once (the first error wins).
 * The work is the state's own, so this cannot fail for want of memory: a
 * socket that runs on tls's own tables is stopped only by the abort.  It
 * runs after close too: the connection then ends with a reset as well.
 */
static void katt_abort_async(struct katt_sock *ks, int err)
{
	if (cmpxchg(&ks->abort_err, 0, err))
		return;
	sock_hold(ks->sk);
	queue_work(katt_wq, &ks->abort_work);
}

/**
 * katt_sock_reset_async - abort a revoked socket's connection (RST)
 * @ks: socket state; the caller holds the socket
 *
 * Any context.
 */
void katt_sock_reset_async(struct katt_sock *ks)
{
	katt_abort_async(ks, ECONNRESET);
}

/**
 * katt_sock_bypassed - a call reached kTLS around the gate: fail closed
 * @ks: socket state; the caller holds the socket
 * @what: what was found, for the reason text
 *
 * The socket is FAILED (or REVOKED if it had passed) with reason bypass,
 * whatever its policy, and its connection is aborted.  Process context or
 * softirq.
 */
void katt_sock_bypassed(struct katt_sock *ks, const char *what)
{
	net_warn_ratelimited("ktls_attest: socket %llu: %s: connection aborted\n",
			     ks->cookie, what);
	katt_gate_fail(ks, KTLS_ATTEST_REASON_BYPASS, what);
	katt_abort_async(ks, ECONNABORTED);
}

/**
 * katt_sock_arm_keyed - arm a socket that already has kTLS (netlink)
 * @sk: the socket, locked, in the caller's namespace
 * @role: enum ktls_attest_role flags, 0 for the default
 * @timeout_ms: round deadline, 0 for the default
 * @policy_flags: enum ktls_attest_policy_flags
 * @ksp: out: the state
 * @extack: for the error message
 *
 * The same core as the ULP: the state goes in sk_user_data, the socket on
 * the table of the tls table it runs on, tls's context's sk_proto on the
 * under table.  A keyed socket is held from the moment the table is in.
 *
 * Return: 0; -EEXIST if armed already; -EINVAL without kTLS, with
 * TLS_RX_EXPECT_NO_PAD, or a bad role; -EOPNOTSUPP if something else sits
 * below tls (sockmap) or owns the socket's user data; -ENOMEM.
 */
int katt_sock_arm_keyed(struct sock *sk, u32 role, u32 timeout_ms,
			u32 policy_flags, struct katt_sock **ksp,
			struct netlink_ext_ack *extack)
{
	const struct tcp_ulp_ops *ulp = inet_csk(sk)->icsk_ulp_ops;
	struct tls_context *ctx;
	struct katt_sock *ks;
	bool tx, rx;
	int err;

	sock_owned_by_me(sk);
	if (katt_sk(sk) || katt_table_of(sk)) {
		NL_SET_ERR_MSG(extack, "socket is already armed");
		return -EEXIST;
	}
	if (!katt_sk_is_tls(sk)) {
		NL_SET_ERR_MSG(extack,
			       "socket has no kTLS (set TCP_ULP \"attest\" before \"tls\" instead)");
		return -EINVAL;
	}
	ctx = tls_get_ctx(sk);
	if (ctx->rx_no_pad) {
		NL_SET_ERR_MSG(extack,
			       "socket has TLS_RX_EXPECT_NO_PAD, which can hand an attestation record to the application");
		return -EINVAL;
	}
	if (!katt_proto_is_base(sk, ctx->sk_proto)) {
		NL_SET_ERR_MSG(extack, "something else sits below kTLS on this socket");
		return -EOPNOTSUPP;
	}
	/* no base table: our ULP never holds this socket's slot */
	ks = katt_sock_alloc(sk, NULL, GFP_KERNEL);
	if (!ks)
		return -ENOMEM;
	katt_gate_init(ks, NULL);
	if (role)
		ks->role = role;
	if (timeout_ms)
		ks->timeout_ms = timeout_ms;
	ks->policy_flags = policy_flags;
	/* a keyed socket is held from the moment the wrappers are in */
	katt_sk_keys(sk, &tx, &rx);
	if (tx || rx)
		katt_gate_keys_coming(ks);

	err = katt_sock_attach_locked(ks, NULL);
	if (err) {
		if (err == -EBUSY || err == -EOPNOTSUPP)
			NL_SET_ERR_MSG(extack, "another subsystem owns this socket");
		kfree(ks);
		return err;
	}
	ulp->update(sk, katt_under_proto(sk), ctx->sk_write_space);
	/* records before arming were the application's to send */
	katt_sock_tx_seq_locked(ks, true);
	/* the socket's module reference; no ULP slot of ours to hold it */
	__module_get(THIS_MODULE);
	ks->module_ref = true;
	*ksp = ks;
	return 0;
}
