// SPDX-License-Identifier: GPL-2.0
/*
 * ktls-attest: the shared wrapper tables.
 *
 * Owns every proto and proto_ops the module puts on a socket:
 *
 * - top tables (struct katt_table), one per inner (proto, proto_ops) pair
 *   an armed socket has run on: plain TCP v4/v6, and each of tls's
 *   [ip][tx][rx] tables.  Built on first use, in process context, under
 *   katt_tables_mutex; immutable once published; freed at module exit, when
 *   no socket is armed (each holds a module reference).  A table that
 *   copies tls's function pointers holds a reference on tls, so that tls
 *   cannot be unloaded and loaded again at another address under it.
 * - under tables, one per IP version: plain TCP with close, setsockopt
 *   and getsockopt replaced, for a tls context's sk_proto (tls's hook for
 *   the layer below it, the one sockmap uses), so that tls's close and its
 *   pass-through options reach the module on every tls table.
 *
 * Calls nothing of the module but the addresses of proto.c's wrappers.
 */

#include <linux/list.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <net/inet_common.h>
#include <net/ipv6.h>
#include <net/tcp.h>
#include <net/transp_v6.h>

#include "ktls_attest.h"

static DEFINE_MUTEX(katt_tables_mutex);	/* protects the next field */
static LIST_HEAD(katt_tables);

enum { KATT_V4, KATT_V6, KATT_NR_IP };
static struct proto katt_under[KATT_NR_IP] __ro_after_init;

static void katt_table_fill(struct katt_table *t, struct proto *inner,
			    const struct proto_ops *inner_ops)
{
	t->proto = *inner;
	t->proto.close = katt_close;
	t->proto.setsockopt = katt_setsockopt;
	t->proto.getsockopt = katt_getsockopt;
	t->proto.sendmsg = katt_sendmsg;
	t->proto.recvmsg = katt_recvmsg;
	if (inner->sendpage)
		t->proto.sendpage = katt_sendpage;
	if (inner->splice_eof)
		t->proto.splice_eof = katt_splice_eof;
	/* sockmap would replace sk_prot under us: refuse it up front */
	t->proto.psock_update_sk_prot = NULL;

	t->ops = *inner_ops;
	t->ops.poll = katt_poll;
	t->ops.shutdown = katt_shutdown;
	t->ops.accept = katt_accept;
	if (inner_ops->splice_read)
		t->ops.splice_read = katt_splice_read;
	if (inner_ops->sendpage_locked)
		t->ops.sendpage_locked = katt_sendpage_locked;
	if (inner_ops->splice_eof)
		t->ops.splice_eof = katt_ops_splice_eof;

	t->inner = inner;
	t->inner_ops = inner_ops;
}

/**
 * katt_table_get - the wrapper table of an inner pair
 * @inner: the proto to wrap
 * @inner_ops: the proto_ops to wrap
 * @pin: the module @inner belongs to (tls), or NULL for plain TCP
 *
 * Process context.  The table lives until module exit.
 *
 * Return: the table, or NULL without memory or if @pin is going away.
 */
struct katt_table *katt_table_get(struct proto *inner,
				  const struct proto_ops *inner_ops,
				  struct module *pin)
{
	struct katt_table *t;

	mutex_lock(&katt_tables_mutex);
	list_for_each_entry(t, &katt_tables, node)
		if (t->inner == inner && t->inner_ops == inner_ops)
			goto out_unlock;

	t = kzalloc(sizeof(*t), GFP_KERNEL);
	if (!t)
		goto out_unlock;
	if (pin && !try_module_get(pin)) {
		kfree(t);
		t = NULL;
		goto out_unlock;
	}
	katt_table_fill(t, inner, inner_ops);
	t->pin = pin;
	list_add(&t->node, &katt_tables);
out_unlock:
	mutex_unlock(&katt_tables_mutex);
	return t;
}

/* The under table of @sk's IP version. */
struct proto *katt_under_proto(const struct sock *sk)
{
	return &katt_under[sk->sk_family == AF_INET6 ? KATT_V6 : KATT_V4];
}

/* @prot is the plain TCP proto of @sk's family. */
bool katt_proto_is_base(const struct sock *sk, const struct proto *prot)
{
	return prot == (sk->sk_family == AF_INET6 ? &tcpv6_prot : &tcp_prot);
}

static void katt_under_fill(struct proto *p, const struct proto *base)
{
	*p = *base;
	p->close = katt_under_close;
	p->setsockopt = katt_under_setsockopt;
	p->getsockopt = katt_under_getsockopt;
	p->psock_update_sk_prot = NULL;
}

int __init katt_table_init(void)
{
	katt_under_fill(&katt_under[KATT_V4], &tcp_prot);
	katt_under_fill(&katt_under[KATT_V6], &tcpv6_prot);
	return 0;
}

/* No socket is armed: each holds a module reference. */
void katt_table_exit(void)
{
	struct katt_table *t, *tmp;

	list_for_each_entry_safe(t, tmp, &katt_tables, node) {
		list_del(&t->node);
		if (t->pin)
			module_put(t->pin);
		kfree(t);
	}
}
