// SPDX-License-Identifier: GPL-2.0
/*
 * ktls-attest: the TCP upper layer protocol "attest" that arms a socket,
 * and the hand-over of the socket's one ULP slot to "tls".
 */

#include <linux/module.h>
#include <net/inet_connection_sock.h>
#include <net/tcp.h>
#include <net/transp_v6.h>

#include <linux/ktls_attest.h>

#include "ktls_attest.h"

/* Callers own the socket: lock_sock(), its destruction, or its cloning. */
static struct katt_sock *katt_ulp_data(const struct sock *sk)
{
	return rcu_dereference_protected(inet_csk(sk)->icsk_ulp_data, true);
}

static struct proto *katt_base_proto(const struct sock *sk)
{
	return sk->sk_family == AF_INET6 ? &tcpv6_prot : &tcp_prot;
}

/* setsockopt(TCP_ULP, "attest"), under lock_sock() */
static int katt_ulp_init(struct sock *sk)
{
	struct proto *base = READ_ONCE(sk->sk_prot);
	struct socket *sock = sk->sk_socket;
	struct katt_sock *ks;
	int err;

	/* only an application's plain TCP socket: nothing stacked on it yet */
	if (!sock || base != katt_base_proto(sk))
		return -EOPNOTSUPP;

	ks = katt_sock_alloc(sk, base, READ_ONCE(sock->ops), GFP_KERNEL);
	if (!ks)
		return -ENOMEM;

	katt_gate_init(ks, NULL);
	err = katt_wrap_install_locked(ks, base, ks->base_ops);
	if (err)
		goto out_free;
	rcu_assign_pointer(inet_csk(sk)->icsk_ulp_data, ks);
	katt_relay_attach(ks);
	katt_net_add(ks);
	return 0;

out_free:
	katt_sock_free(ks);
	return err;
}

/*
 * The socket is being destroyed while our ULP holds its slot: a closed
 * socket that never got kTLS, or a child that was never accepted.
 */
static void katt_ulp_release(struct sock *sk)
{
	struct katt_sock *ks = katt_ulp_data(sk);

	if (!ks)	/* a child whose state could not be allocated */
		return;
	/* only sockets with a kTLS key have deadlines and relay work, and tls
	 * holds their slot; close took the relay off the wait queue
	 */
	WARN_ON_ONCE(timer_pending(&ks->deadline) || ks->rx_wait_added);
	rcu_assign_pointer(inet_csk(sk)->icsk_ulp_data, NULL);
	WRITE_ONCE(sk->sk_prot, ks->base);
	katt_sock_free(ks);
}

/*
 * A listener's child is being created, in softirq.  sk_clone_lock() copied
 * the listener's sk_prot (a wrapper of the listener's state, which goes away
 * with the listener) into sk_prot and sk_prot_creator, and the listener's
 * ULP data: give the child its own state, wrapping the plain proto.
 */
static void katt_ulp_clone(const struct request_sock *req, struct sock *newsk,
			   const gfp_t priority)
{
	struct katt_sock *parent = katt_ulp_data(newsk);
	struct proto *base = katt_base_proto(newsk);
	struct katt_sock *ks;

	/* the child's ULP slot needs a reference: inet_clone_ulp() takes none */
	__module_get(THIS_MODULE);

	newsk->sk_prot_creator = base;
	WRITE_ONCE(newsk->sk_prot, base);
	rcu_assign_pointer(inet_csk(newsk)->icsk_ulp_data, NULL);

	/* without state (or a listener already torn down) the child is
	 * refused at accept() time; it never reaches the application unarmed
	 */
	if (!parent)
		return;
	ks = katt_sock_alloc(newsk, base, parent->base_ops, priority);
	if (!ks)
		return;
	katt_gate_init(ks, parent);
	if (katt_wrap_install_locked(ks, base, ks->base_ops)) {
		katt_sock_free(ks);
		return;
	}
	rcu_assign_pointer(inet_csk(newsk)->icsk_ulp_data, ks);
	katt_net_add(ks);
}

struct tcp_ulp_ops katt_ulp_ops __read_mostly = {
	.name		= KTLS_ATTEST_ULP_NAME,
	.owner		= THIS_MODULE,
	.init		= katt_ulp_init,
	.release	= katt_ulp_release,
	.clone		= katt_ulp_clone,
};

/**
 * katt_swap_to_tls - install kTLS underneath an armed socket
 * @ks: the socket's state
 *
 * Runs for setsockopt(TCP_ULP, "tls") on an armed socket, without the socket
 * lock.  tls must be installed on the plain TCP proto and ops: it copies
 * them into its global tables (tls_build_proto() would rebuild those for
 * every kTLS socket if it saw our per-socket copy) and it needs the ULP
 * slot, which is ours.  So the socket is unwrapped and the slot emptied,
 * the plain setsockopt installs tls (tcp_set_ulp() is not exported; the
 * plain setsockopt takes the socket lock itself), and whatever tls
 * installed is wrapped.  If tls refuses, the slot is taken back.
 *
 * Between the two lock sections another thread of the same application can
 * reach plain TCP or tls directly.  The module protects a cooperating
 * application from its peer, not from itself (Documentation/security.rst).
 *
 * Return: 0, or the error of the plain setsockopt (-ENOTCONN if the socket
 * is not connected, -EEXIST if tls is already installed).
 */
int katt_swap_to_tls(struct katt_sock *ks)
{
	static const char tls_name[] = "tls";
	struct sock *sk = ks->sk;
	struct inet_connection_sock *icsk = inet_csk(sk);
	int err, wrap_err;

	lock_sock(sk);
	if (icsk->icsk_ulp_ops != &katt_ulp_ops) {
		release_sock(sk);
		return -EEXIST;
	}
	WRITE_ONCE(sk->sk_prot, ks->base);
	WRITE_ONCE(sk->sk_socket->ops, ks->base_ops);
	rcu_assign_pointer(icsk->icsk_ulp_data, NULL);
	icsk->icsk_ulp_ops = NULL;
	release_sock(sk);

	err = ks->base->setsockopt(sk, SOL_TCP, TCP_ULP,
				   KERNEL_SOCKPTR((void *)tls_name),
				   sizeof(tls_name));

	lock_sock(sk);
	if (icsk->icsk_ulp_ops == &katt_ulp_ops) {
		/* another thread armed the socket again meanwhile: it wins */
		release_sock(sk);
		module_put(THIS_MODULE);
		katt_gate_teardown(ks);
		katt_relay_stop(ks);
		katt_sock_free(ks);
		return err ? err : -EBUSY;
	}
	if (!icsk->icsk_ulp_ops) {
		/* tls refused: the slot and its module reference are ours */
		icsk->icsk_ulp_ops = &katt_ulp_ops;
		rcu_assign_pointer(icsk->icsk_ulp_data, ks);
	} else {
		/* the slot is tls's: our slot's module reference moves to ks */
		ks->module_ref = true;
	}
	wrap_err = katt_wrap_install_locked(ks, READ_ONCE(sk->sk_prot),
					    READ_ONCE(sk->sk_socket->ops));
	release_sock(sk);

	/* a bug (WARNed): see katt_rewrap() */
	if (wrap_err)
		tcp_abort(sk, ECONNABORTED);
	return err ? err : wrap_err;
}
