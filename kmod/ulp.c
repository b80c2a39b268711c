// SPDX-License-Identifier: GPL-2.0
/*
 * ktls-attest: the TCP upper layer protocol "attest" that arms a socket,
 * and the hand-over of the socket's one ULP slot to "tls".
 *
 * Owns katt_ulp_ops (init, clone, release) and katt_swap_to_tls().  Calls
 * table.c, sock.c (the state's life, the installation guards, the check)
 * and gate.c (init).
 */

#include <linux/module.h>
#include <net/inet_connection_sock.h>
#include <net/inet_common.h>
#include <net/ipv6.h>
#include <net/tcp.h>
#include <net/tls.h>
#include <net/transp_v6.h>

#include "ktls_attest.h"

/* setsockopt(TCP_ULP, "attest"), under lock_sock() */
static int katt_ulp_init(struct sock *sk)
{
	struct socket *sock = sk->sk_socket;
	struct katt_table *base;
	struct katt_sock *ks;
	int err;

	/*
	 * Only an application's plain TCP socket: nothing stacked on it yet
	 * (its ops are then inet(6)_stream_ops, which tls builds on too).
	 */
	if (!sock || !katt_proto_is_base(sk, READ_ONCE(sk->sk_prot)))
		return -EOPNOTSUPP;
	/* armed before (tls took the slot meanwhile, or is taking it) */
	if (katt_sk(sk))
		return -EEXIST;
	/*
	 * A listener's fields are copied to each new child without a lock:
	 * arming changes them, so it comes before listen().
	 */
	if (sk->sk_state == TCP_LISTEN)
		return -EINVAL;

	base = katt_table_get(READ_ONCE(sk->sk_prot), READ_ONCE(sock->ops),
			      NULL);
	if (!base)
		return -ENOMEM;
	ks = katt_sock_alloc(sk, base, GFP_KERNEL);
	if (!ks)
		return -ENOMEM;
	katt_gate_init(ks, NULL);
	err = katt_sock_attach_locked(ks, base);
	if (err)
		goto out_free;
	return 0;

out_free:
	kfree(ks);
	return err;
}

/*
 * The socket is being destroyed while our ULP holds its slot (a socket
 * that never got kTLS, or a child never accepted); the slot's module
 * reference goes right after this.  The state lives on until the
 * socket's destructor: it takes a reference of its own.
 */
static void katt_ulp_release(struct sock *sk)
{
	struct katt_sock *ks = katt_sk(sk);

	if (!ks || ks->module_ref)
		return;
	__module_get(THIS_MODULE);
	ks->module_ref = true;
}

/*
 * A listener's child is being created, in softirq, the child locked.
 * sk_clone_lock() copied the listener's table (plain TCP wrapped, the
 * same for every socket of the family) into sk_prot and sk_prot_creator,
 * its destructor, but not its state (SK_USER_DATA_NOCOPY): give the child
 * a state of its own.
 */
static void katt_ulp_clone(const struct request_sock *req, struct sock *newsk,
			   const gfp_t priority)
{
	struct katt_table *t = katt_table_of(newsk);
	struct katt_sock *parent = NULL, *ks = NULL;
	struct sock *listener = req->rsk_listener;

	/* the child's ULP slot needs a reference: inet_clone_ulp() takes none */
	__module_get(THIS_MODULE);

	if (WARN_ON_ONCE(!t))
		return;
	/* sk_prot_free() uses the creator, after the module may be gone */
	newsk->sk_prot_creator = t->inner;

	if (listener)
		parent = katt_sk(listener);
	if (parent)
		ks = katt_sock_alloc(newsk, parent->base, priority);
	if (!ks) {
		/* refused at accept() time; never reaches the application */
		newsk->sk_destruct = katt_sock_orig_destruct(newsk);
		WRITE_ONCE(newsk->sk_prot, t->inner);
		return;
	}
	katt_gate_init(ks, parent);
	katt_sock_attach_child(ks);
}

struct tcp_ulp_ops katt_ulp_ops __read_mostly = {
	.name		= KTLS_ATTEST_ULP_NAME,
	.owner		= THIS_MODULE,
	.init		= katt_ulp_init,
	.release	= katt_ulp_release,
	.clone		= katt_ulp_clone,
};

/*
 * After tls's init, under lock_sock(): put the module below tls and on
 * top of its tables.  Returns NULL, or what is wrong (the socket is to
 * fail closed).
 */
static const char *katt_after_tls_locked(struct katt_sock *ks)
{
	struct sock *sk = ks->sk;
	struct tls_context *ctx = tls_get_ctx(sk);
	bool tx, rx;

	if (!katt_proto_is_base(sk, ctx->sk_proto))
		return "something went below kTLS during the hand-over";
	/* tls's own hook for the layer below it (sockmap uses it too) */
	inet_csk(sk)->icsk_ulp_ops->update(sk, katt_under_proto(sk),
					   ctx->sk_write_space);
	katt_sk_keys(sk, &tx, &rx);
	if (tx || rx)
		return "a kTLS key was installed around the gate";
	if (katt_sock_publish_locked(ks))
		return "no memory to wrap kTLS's tables";
	return NULL;
}

/**
 * katt_swap_to_tls - install kTLS underneath an armed socket
 * @ks: the socket's state
 *
 * Runs for setsockopt(TCP_ULP, "tls") on an armed socket, without the socket
 * lock.  tls must be installed on the plain TCP proto and ops: it copies
 * them into its global tables (tls_build_proto() would rebuild those for
 * every kTLS socket if it saw one of ours) and it needs the ULP slot,
 * which is ours.  So the socket is unwrapped and the slot emptied, the
 * plain setsockopt installs tls (tcp_set_ulp() is not exported; the plain
 * setsockopt takes the socket lock itself), and the module goes below tls
 * (ctx->sk_proto) and on top of its tables.  If tls refuses, the slot is
 * taken back.
 *
 * Between the two lock sections another thread of the same application can
 * reach plain TCP or tls directly; calls through the module's tables wait
 * (ks->installing) or get EBUSY.  What a thread that reached tls can do
 * is found by the checks of sock.c and fails the socket closed.
 *
 * Return: 0, or the error of the plain setsockopt; -EBUSY while another
 * installation runs or an application call is inside plain TCP;
 * -ENOTCONN if the socket is not connected; -EEXIST if tls is there.
 */
int katt_swap_to_tls(struct katt_sock *ks)
{
	static const char tls_name[] = "tls";
	struct sock *sk = ks->sk;
	struct inet_connection_sock *icsk = inet_csk(sk);
	struct katt_table *t = ks->base;
	const char *what = NULL;
	int err;

	err = katt_handover_begin(ks);
	if (err)
		return err;

	lock_sock(sk);
	if (icsk->icsk_ulp_ops != &katt_ulp_ops) {
		err = -EEXIST;
		goto out_unlock;
	}
	/* as tls's own init would: before anything changes */
	if (sk->sk_state != TCP_ESTABLISHED) {
		err = -ENOTCONN;
		goto out_unlock;
	}
	if (WARN_ON_ONCE(katt_table_of(sk) != t)) {
		err = -EBUSY;
		goto out_unlock;
	}
	WRITE_ONCE(sk->sk_prot, t->inner);
	WRITE_ONCE(sk->sk_socket->ops, t->inner_ops);
	icsk->icsk_ulp_ops = NULL;
	release_sock(sk);

	err = t->inner->setsockopt(sk, SOL_TCP, TCP_ULP,
				   KERNEL_SOCKPTR((void *)tls_name),
				   sizeof(tls_name));

	lock_sock(sk);
	if (!icsk->icsk_ulp_ops) {
		/* tls refused: the slot and its module reference are ours */
		icsk->icsk_ulp_ops = &katt_ulp_ops;
		katt_sock_set_table_locked(sk, t);
	} else if (katt_sk_is_tls(sk)) {
		/* the slot is tls's (ours, or a racing thread's, installed
		 * it): our slot's module reference moves to the state
		 */
		ks->module_ref = true;
		what = katt_after_tls_locked(ks);
	} else {
		ks->module_ref = true;
		what = "another upper layer protocol took the socket";
	}
out_unlock:
	release_sock(sk);
	katt_handover_end(ks);

	if (what)
		katt_sock_bypassed(ks, what);
	else if (!err)
		katt_sock_watch(ks, msecs_to_jiffies(10));
	return err;
}
