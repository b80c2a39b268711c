// SPDX-License-Identifier: GPL-2.0
/*
 * ktls-attest: attestation-gated kernel TLS.
 *
 * Module init and exit, and the wiring of the gate's events to those who
 * listen: the monitor group and the registered agent (agent.c), the
 * record relay (relay.c), the connection's reset (sock.c).  The design is
 * in Documentation/overview.rst; the object model in ktls_attest.h.
 */

#include <linux/module.h>
#include <linux/workqueue.h>
#include <net/tcp.h>

#include <linux/ktls_attest.h>

#include "ktls_attest.h"

struct workqueue_struct *katt_wq;

static void katt_gate_changed(struct katt_sock *ks, unsigned int what)
{
	if (what & KATT_EV_STATE)
		katt_notify_state(ks);
	if (what & KATT_EV_ROUND) {
		katt_notify_round(ks);
		katt_relay_round(ks);
	}
	/* queued attestation messages go out first; then error, reset */
	if (what & KATT_EV_END)
		katt_relay_end(ks, what & KATT_EV_RESET);
}

static const struct katt_gate_events katt_events = {
	.changed	= katt_gate_changed,
};

/* Order: what armed sockets need exists before the ULP can arm one. */
static int __init katt_module_init(void)
{
	int err;

	katt_gate_set_events(&katt_events);
	err = katt_table_init();
	if (err)
		return err;

	katt_wq = alloc_workqueue("ktls_attest", 0, 0);
	if (!katt_wq)
		return -ENOMEM;

	err = katt_agent_init();
	if (err)
		goto out_destroy_wq;
	err = katt_netlink_init();
	if (err)
		goto out_agent_exit;

	err = tcp_register_ulp(&katt_ulp_ops);
	if (err) {
		pr_err("ktls_attest: cannot register TCP ULP \"%s\": %d\n",
		       katt_ulp_ops.name, err);
		goto out_netlink_exit;
	}
	return 0;

out_netlink_exit:
	katt_netlink_exit();
out_agent_exit:
	katt_agent_exit();
out_destroy_wq:
	destroy_workqueue(katt_wq);
	return err;
}

/*
 * No socket is armed here: each holds a module reference until the RCU
 * callback that frees its state, which rcu_barrier() waits for.
 */
static void __exit katt_module_exit(void)
{
	tcp_unregister_ulp(&katt_ulp_ops);
	katt_netlink_exit();
	katt_agent_exit();
	rcu_barrier();
	destroy_workqueue(katt_wq);
	katt_table_exit();
}

module_init(katt_module_init);
module_exit(katt_module_exit);

MODULE_DESCRIPTION("Attestation-gated kernel TLS");
MODULE_LICENSE("GPL");
MODULE_ALIAS_TCP_ULP(KTLS_ATTEST_ULP_NAME);
MODULE_ALIAS_GENL_FAMILY(KTLS_ATTEST_FAMILY_NAME);
