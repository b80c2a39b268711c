/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/specs/ktls_attest.yaml */
/* nlspec-gen kernel header */

#ifndef _KTLS_ATTEST_NETLINK_GEN_H
#define _KTLS_ATTEST_NETLINK_GEN_H

#include <net/netlink.h>
#include <net/genetlink.h>

#include <linux/ktls_attest_netlink.h>

int ktls_attest_nl_agent_register_doit(struct sk_buff *skb,
				       struct genl_info *info);
int ktls_attest_nl_agent_unregister_doit(struct sk_buff *skb,
					 struct genl_info *info);
int ktls_attest_nl_sock_arm_doit(struct sk_buff *skb, struct genl_info *info);
int ktls_attest_nl_sock_verdict_doit(struct sk_buff *skb,
				     struct genl_info *info);
int ktls_attest_nl_sock_reattest_doit(struct sk_buff *skb,
				      struct genl_info *info);
int ktls_attest_nl_sock_get_doit(struct sk_buff *skb, struct genl_info *info);
int ktls_attest_nl_sock_get_dumpit(struct sk_buff *skb,
				   struct netlink_callback *cb);
int ktls_attest_nl_msg_send_doit(struct sk_buff *skb, struct genl_info *info);

enum {
	KTLS_ATTEST_NLGRP_MONITOR,
};

extern const struct genl_ops ktls_attest_nl_ops[7];
extern const struct genl_multicast_group ktls_attest_nl_mcgrps[1];

#endif /* _KTLS_ATTEST_NETLINK_GEN_H */
