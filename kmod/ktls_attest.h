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

#include <linux/net.h>
#include <linux/rcupdate.h>
#include <net/sock.h>
#include <net/tcp.h>

#define KATT_WRAP_SLOTS 4

struct katt_sock;

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
 * @base: the plain TCP proto (tcp_prot or tcpv6_prot) under everything
 * @base_ops: the plain stream proto_ops under everything
 * @nwraps: number of slots of @wraps in use
 * @module_ref: this state holds the socket's module reference (the ULP
 *	slot was handed over to tls)
 * @rcu: for the deferred free
 * @wraps: the wrapper generations, see struct katt_wrap
 */
struct katt_sock {
	struct sock *sk;
	struct proto *base;
	const struct proto_ops *base_ops;

	/* protected by lock_sock(sk), or owned by the cloning context */
	unsigned int nwraps;
	bool module_ref;

	struct rcu_head rcu;
	struct katt_wrap wraps[KATT_WRAP_SLOTS];
};

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
