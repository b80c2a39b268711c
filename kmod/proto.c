// SPDX-License-Identifier: GPL-2.0
/*
 * ktls-attest: the per-socket proto and proto_ops wrappers.
 *
 * The wrappers sit on top of whatever the socket has underneath (plain TCP,
 * or tls once it is installed) and are rebuilt each time tls replaces its
 * tables; see the object model in ktls_attest.h.
 */

#include <linux/module.h>
#include <linux/slab.h>
#include <net/inet_connection_sock.h>

#include "ktls_attest.h"

static int katt_setsockopt(struct sock *sk, int level, int optname,
			   sockptr_t optval, unsigned int optlen);
static int katt_accept(struct socket *sock, struct socket *newsock,
		       int flags, bool kern);

/**
 * katt_sock_alloc - allocate the state of a socket being armed
 * @sk: the socket
 * @base: its plain TCP proto
 * @base_ops: its plain stream proto_ops
 * @gfp: allocation flags (atomic when cloning in softirq)
 */
struct katt_sock *katt_sock_alloc(struct sock *sk, struct proto *base,
				  const struct proto_ops *base_ops, gfp_t gfp)
{
	struct katt_sock *ks;

	ks = kzalloc(sizeof(*ks), gfp);
	if (!ks)
		return NULL;
	ks->sk = sk;
	ks->base = base;
	ks->base_ops = base_ops;
	return ks;
}

static void katt_sock_free_rcu(struct rcu_head *head)
{
	struct katt_sock *ks = container_of(head, struct katt_sock, rcu);
	bool module_ref = ks->module_ref;

	kfree(ks);
	if (module_ref)
		module_put(THIS_MODULE);
}

/**
 * katt_sock_free - free a socket's state after an RCU grace period
 * @ks: the state; the socket must no longer point at any of its slots
 *
 * Threads that loaded sk->sk_prot before it was switched away may still be
 * dispatching through one of the slots; the grace period covers them.
 */
void katt_sock_free(struct katt_sock *ks)
{
	call_rcu(&ks->rcu, katt_sock_free_rcu);
}

/**
 * katt_wrap_install_locked - wrap the socket's current inner tables
 * @ks: socket state
 * @inner: the proto to wrap
 * @inner_ops: the proto_ops to wrap
 *
 * Publishes a slot that wraps @inner / @inner_ops in sk->sk_prot and, if the
 * socket has a struct socket, in sock->ops.  The caller holds lock_sock(),
 * or owns the socket exclusively (a child being cloned).
 *
 * Return: 0, or -EOVERFLOW if the socket met more distinct inner tables than
 * tls can produce (a bug: WARNs once).
 */
int katt_wrap_install_locked(struct katt_sock *ks, struct proto *inner,
			     const struct proto_ops *inner_ops)
{
	struct sock *sk = ks->sk;
	struct katt_wrap *w;
	unsigned int i;

	for (i = 0; i < ks->nwraps; i++) {
		w = &ks->wraps[i];
		if (w->inner == inner && w->inner_ops == inner_ops)
			goto publish;
	}

	if (WARN_ON_ONCE(ks->nwraps == KATT_WRAP_SLOTS))
		return -EOVERFLOW;

	w = &ks->wraps[ks->nwraps++];
	w->proto = *inner;
	w->proto.close = katt_close;
	w->proto.setsockopt = katt_setsockopt;
	/* sockmap would replace sk_prot under us: refuse it up front */
	w->proto.psock_update_sk_prot = NULL;

	w->ops = *inner_ops;
	w->ops.accept = katt_accept;

	w->inner = inner;
	w->inner_ops = inner_ops;
	w->ks = ks;

publish:
	if (sk->sk_socket) {
		/* the slot is complete before anyone can reach it */
		smp_store_release(&sk->sk_socket->ops, &w->ops);
	}
	/* likewise */
	smp_store_release(&sk->sk_prot, &w->proto);
	return 0;
}

/*
 * tls has just replaced sk_prot and sock->ops (TLS_TX, TLS_RX): wrap the
 * new tables.  Should that ever fail (a bug, see KATT_WRAP_SLOTS) the socket
 * is left on tls's tables without the module on top, so it is aborted
 * rather than left running; its state is leaked, not freed, as other
 * threads may still be inside our wrappers with it.
 */
static int katt_rewrap(struct katt_sock *ks)
{
	struct sock *sk = ks->sk;
	int err = 0;

	lock_sock(sk);
	if (!katt_wrap_of(sk))
		err = katt_wrap_install_locked(ks, READ_ONCE(sk->sk_prot),
					       READ_ONCE(sk->sk_socket->ops));
	release_sock(sk);

	if (err)
		tcp_abort(sk, ECONNABORTED);
	return err;
}

static bool katt_ulp_name_is_tls(sockptr_t optval, unsigned int optlen)
{
	char name[TCP_ULP_NAME_MAX];
	long len;

	len = strncpy_from_sockptr(name, optval,
				   min_t(long, TCP_ULP_NAME_MAX - 1, optlen));
	if (len < 0)
		return false;
	name[len] = '\0';
	return !strcmp(name, "tls");
}

static int katt_setsockopt(struct sock *sk, int level, int optname,
			   sockptr_t optval, unsigned int optlen)
{
	struct katt_wrap *w = katt_wrap_of(sk);
	int err, rewrap_err;

	/* another thread of the app is switching this socket to kTLS */
	if (unlikely(!w))
		return -EBUSY;

	if (level == SOL_TCP && optname == TCP_ULP &&
	    katt_ulp_name_is_tls(optval, optlen))
		return katt_swap_to_tls(w->ks);

	err = w->inner->setsockopt(sk, level, optname, optval, optlen);
	if (level != SOL_TLS)
		return err;

	rewrap_err = katt_rewrap(w->ks);
	return err ? err : rewrap_err;
}

/**
 * katt_close - proto close of an armed socket
 * @sk: socket
 * @timeout: linger timeout
 *
 * Unwraps the socket and closes it through the inner proto.  If our ULP
 * still holds the slot, the ULP release callback runs when the socket is
 * destroyed (possibly inside the inner close) and frees the state; the
 * sockets stays on our (still valid) tables until then.  Otherwise the
 * state is freed here.
 */
void katt_close(struct sock *sk, long timeout)
{
	struct katt_wrap *w = katt_wrap_of(sk);
	struct proto *inner;
	struct katt_sock *ks;
	bool ulp_is_ours;

	/* close runs after every other call on the file: nothing swaps now */
	if (WARN_ON_ONCE(!w)) {
		READ_ONCE(sk->sk_prot)->close(sk, timeout);
		return;
	}

	ks = w->ks;
	inner = w->inner;

	lock_sock(sk);
	/* sampled before the inner close: release() may run inside it */
	ulp_is_ours = inet_csk(sk)->icsk_ulp_ops == &katt_ulp_ops;
	if (!ulp_is_ours) {
		WRITE_ONCE(sk->sk_prot, inner);
		if (sk->sk_socket)
			WRITE_ONCE(sk->sk_socket->ops, w->inner_ops);
	}
	release_sock(sk);

	inner->close(sk, timeout);

	if (!ulp_is_ours)
		katt_sock_free(ks);
}

/*
 * accept() on an armed listener: the child was armed by the ULP clone
 * callback with its own state, but do_accept() gave the new struct socket
 * the listener's ops.  Point it at the child's own wrapper.  A child whose
 * state could not be allocated in softirq is refused here, never handed to
 * the application unarmed.
 */
static int katt_accept(struct socket *sock, struct socket *newsock,
		       int flags, bool kern)
{
	struct katt_wrap *w = katt_wrap_of(sock->sk);
	struct katt_wrap *cw;
	int err;

	if (unlikely(!w))
		return -EBUSY;

	err = w->inner_ops->accept(sock, newsock, flags, kern);
	if (err)
		return err;

	cw = katt_wrap_of(newsock->sk);
	if (!cw) {
		net_warn_ratelimited("ktls_attest: accepted connection dropped: no memory to arm it\n");
		return -ENOMEM;
	}
	WRITE_ONCE(newsock->ops, &cw->ops);
	return 0;
}
