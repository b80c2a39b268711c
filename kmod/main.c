// SPDX-License-Identifier: GPL-2.0
/*
 * ktls-attest: attestation-gated kernel TLS.
 *
 * Module init and exit.  The design is in Documentation/overview.rst; the
 * object model in ktls_attest.h.
 */

#include <linux/module.h>
#include <net/tcp.h>

#include <linux/ktls_attest.h>

#include "ktls_attest.h"

static int __init katt_module_init(void)
{
	int err;

	err = tcp_register_ulp(&katt_ulp_ops);
	if (err)
		pr_err("ktls_attest: cannot register TCP ULP \"%s\": %d\n",
		       katt_ulp_ops.name, err);
	return err;
}

static void __exit katt_module_exit(void)
{
	tcp_unregister_ulp(&katt_ulp_ops);
	/* socket states are freed by RCU callbacks in this module's text */
	rcu_barrier();
}

module_init(katt_module_init);
module_exit(katt_module_exit);

MODULE_DESCRIPTION("Attestation-gated kernel TLS");
MODULE_LICENSE("GPL");
MODULE_ALIAS_TCP_ULP(KTLS_ATTEST_ULP_NAME);
