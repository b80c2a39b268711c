// SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause)
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/specs/ktls_attest.yaml */
/* nlspec-gen kernel source */

#include <net/netlink.h>
#include <net/genetlink.h>

#include "netlink_gen.h"

#include <linux/ktls_attest_netlink.h>

static struct netlink_range_validation ktls_attest_sock_timeout_ms_range = {
	.min	= 100,
	.max	= 600000,
};

static struct netlink_range_validation ktls_attest_sock_msg_data_range = {
	.min	= 1,
	.max	= 32768,
};

/* KTLS_ATTEST_CMD_SOCK_ARM - do */
static const struct nla_policy ktls_attest_sock_arm_nl_policy[KTLS_ATTEST_A_SOCK_MAX + 1] = {
	[KTLS_ATTEST_A_SOCK_FD] = { .type = NLA_S32, },
	[KTLS_ATTEST_A_SOCK_ROLE] = NLA_POLICY_MASK(NLA_U32, 0x3),
	[KTLS_ATTEST_A_SOCK_TIMEOUT_MS] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &ktls_attest_sock_timeout_ms_range),
	[KTLS_ATTEST_A_SOCK_POLICY_FLAGS] = NLA_POLICY_MASK(NLA_U32, 0x3),
};

/* KTLS_ATTEST_CMD_SOCK_VERDICT - do */
static const struct nla_policy ktls_attest_sock_verdict_nl_policy[KTLS_ATTEST_A_SOCK_MAX + 1] = {
	[KTLS_ATTEST_A_SOCK_COOKIE] = { .type = NLA_U64, },
	[KTLS_ATTEST_A_SOCK_VERDICT] = NLA_POLICY_RANGE(NLA_U32, 1, 3),
	[KTLS_ATTEST_A_SOCK_REASON_TEXT] = { .type = NLA_NUL_STRING, .len = 127, },
	[KTLS_ATTEST_A_SOCK_ROUND] = NLA_POLICY_MIN(NLA_U32, 1),
};

/* KTLS_ATTEST_CMD_SOCK_REATTEST - do */
static const struct nla_policy ktls_attest_sock_reattest_nl_policy[KTLS_ATTEST_A_SOCK_MAX + 1] = {
	[KTLS_ATTEST_A_SOCK_COOKIE] = { .type = NLA_U64, },
};

/* KTLS_ATTEST_CMD_SOCK_GET - do and dump (one policy per command in Linux 6.1) */
static const struct nla_policy ktls_attest_sock_get_nl_policy[KTLS_ATTEST_A_SOCK_MAX + 1] = {
	[KTLS_ATTEST_A_SOCK_COOKIE] = { .type = NLA_U64, },
};

/* KTLS_ATTEST_CMD_MSG_SEND - do */
static const struct nla_policy ktls_attest_msg_send_nl_policy[KTLS_ATTEST_A_SOCK_MAX + 1] = {
	[KTLS_ATTEST_A_SOCK_COOKIE] = { .type = NLA_U64, },
	[KTLS_ATTEST_A_SOCK_MSG_DATA] =
		NLA_POLICY_FULL_RANGE(NLA_BINARY, &ktls_attest_sock_msg_data_range),
};

/* Ops table for ktls_attest */
const struct genl_ops ktls_attest_nl_ops[7] = {
	{
		.cmd		= KTLS_ATTEST_CMD_AGENT_REGISTER,
		.doit		= ktls_attest_nl_agent_register_doit,
		.flags		= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd		= KTLS_ATTEST_CMD_AGENT_UNREGISTER,
		.doit		= ktls_attest_nl_agent_unregister_doit,
		.flags		= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd		= KTLS_ATTEST_CMD_SOCK_ARM,
		.doit		= ktls_attest_nl_sock_arm_doit,
		.policy		= ktls_attest_sock_arm_nl_policy,
		.maxattr	= KTLS_ATTEST_A_SOCK_MAX,
	},
	{
		.cmd		= KTLS_ATTEST_CMD_SOCK_VERDICT,
		.doit		= ktls_attest_nl_sock_verdict_doit,
		.policy		= ktls_attest_sock_verdict_nl_policy,
		.maxattr	= KTLS_ATTEST_A_SOCK_MAX,
	},
	{
		.cmd		= KTLS_ATTEST_CMD_SOCK_REATTEST,
		.doit		= ktls_attest_nl_sock_reattest_doit,
		.policy		= ktls_attest_sock_reattest_nl_policy,
		.maxattr	= KTLS_ATTEST_A_SOCK_MAX,
		.flags		= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd		= KTLS_ATTEST_CMD_SOCK_GET,
		.doit		= ktls_attest_nl_sock_get_doit,
		.dumpit		= ktls_attest_nl_sock_get_dumpit,
		.policy		= ktls_attest_sock_get_nl_policy,
		.maxattr	= KTLS_ATTEST_A_SOCK_MAX,
	},
	{
		.cmd		= KTLS_ATTEST_CMD_MSG_SEND,
		.doit		= ktls_attest_nl_msg_send_doit,
		.policy		= ktls_attest_msg_send_nl_policy,
		.maxattr	= KTLS_ATTEST_A_SOCK_MAX,
	},
};

const struct genl_multicast_group ktls_attest_nl_mcgrps[1] = {
	[KTLS_ATTEST_NLGRP_MONITOR] = { .name = KTLS_ATTEST_MCGRP_MONITOR, },
};
