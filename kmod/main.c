// SPDX-License-Identifier: GPL-2.0
/*
 * ktls-attest: attestation-gated kernel TLS.
 *
 * Module init and exit.  The design is in Documentation/overview.rst; the
 * object model in ktls_attest.h.
 */

#include <linux/module.h>
#include <linux/workqueue.h>
#include <net/tcp.h>

#include <linux/ktls_attest.h>

#include "ktls_attest.h"

struct workqueue_struct *katt_wq;

/* Order: what armed sockets need exists before the ULP can arm one. */
static int __init katt_module_init(void)
{
	int err;

	katt_wq = alloc_workqueue("ktls_attest", 0, 0);
	if (!katt_wq)
		return -ENOMEM;

	err = katt_netlink_init();
	if (err)
		goto out_destroy_wq;

	err = tcp_register_ulp(&katt_ulp_ops);
	if (err) {
		pr_err("ktls_attest: cannot register TCP ULP \"%s\": %d\n",
		       katt_ulp_ops.name, err);
		goto out_netlink_exit;
	}
	return 0;

out_netlink_exit:
	katt_netlink_exit();
out_destroy_wq:
	destroy_workqueue(katt_wq);
	return err;
}

/* No socket is armed here: each holds a module reference. */
static void __exit katt_module_exit(void)
{
	tcp_unregister_ulp(&katt_ulp_ops);
	katt_netlink_exit();
	/* socket states are freed by RCU callbacks in this module's text */
	rcu_barrier();
	destroy_workqueue(katt_wq);
}

module_init(katt_module_init);
module_exit(katt_module_exit);

MODULE_DESCRIPTION("Attestation-gated kernel TLS");
MODULE_LICENSE("GPL");
MODULE_ALIAS_TCP_ULP(KTLS_ATTEST_ULP_NAME);
MODULE_ALIAS_GENL_FAMILY(KTLS_ATTEST_FAMILY_NAME);
