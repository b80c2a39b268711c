/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/specs/ktls_attest.yaml */
/* nlspec-gen user header */

#ifndef _KTLS_ATTEST_NL_GEN_H
#define _KTLS_ATTEST_NL_GEN_H

#include <netlink/attr.h>

#include <linux/ktls_attest_netlink.h>

/* A value of a definition and its name in the spec. */
struct ktls_attest_name {
	unsigned int value;
	const char *name;
};

/* enum ktls_attest_state: its names in spec order, then { 0, NULL }. */
extern const struct ktls_attest_name ktls_attest_state_names[7];
/* flags ktls_attest_role: its names in spec order, then { 0, NULL }. */
extern const struct ktls_attest_name ktls_attest_role_names[3];
/* enum ktls_attest_verdict: its names in spec order, then { 0, NULL }. */
extern const struct ktls_attest_name ktls_attest_verdict_names[4];
/* enum ktls_attest_reason: its names in spec order, then { 0, NULL }. */
extern const struct ktls_attest_name ktls_attest_reason_names[7];
/* flags ktls_attest_policy_flags: its names in spec order, then { 0, NULL }. */
extern const struct ktls_attest_name ktls_attest_policy_flags_names[3];

/* nla_parse() policy of the sock set: the length of every attribute. */
extern const struct nla_policy ktls_attest_sock_policy[KTLS_ATTEST_A_SOCK_MAX + 1];

#endif /* _KTLS_ATTEST_NL_GEN_H */
