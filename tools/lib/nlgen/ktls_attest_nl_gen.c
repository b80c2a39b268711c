// SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause)
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/specs/ktls_attest.yaml */
/* nlspec-gen user source */

#include "ktls_attest_nl_gen.h"

const struct ktls_attest_name ktls_attest_state_names[7] = {
	{ KTLS_ATTEST_STATE_ARMED, "armed" },
	{ KTLS_ATTEST_STATE_PENDING, "pending" },
	{ KTLS_ATTEST_STATE_PASSED, "passed" },
	{ KTLS_ATTEST_STATE_REATTESTING, "reattesting" },
	{ KTLS_ATTEST_STATE_REVOKED, "revoked" },
	{ KTLS_ATTEST_STATE_FAILED, "failed" },
	{ 0, NULL },
};

const struct ktls_attest_name ktls_attest_role_names[3] = {
	{ KTLS_ATTEST_ROLE_ATTESTER, "attester" },
	{ KTLS_ATTEST_ROLE_RELYING_PARTY, "relying-party" },
	{ 0, NULL },
};

const struct ktls_attest_name ktls_attest_verdict_names[4] = {
	{ KTLS_ATTEST_VERDICT_PASS, "pass" },
	{ KTLS_ATTEST_VERDICT_FAIL, "fail" },
	{ KTLS_ATTEST_VERDICT_REVOKE, "revoke" },
	{ 0, NULL },
};

const struct ktls_attest_name ktls_attest_reason_names[7] = {
	{ KTLS_ATTEST_REASON_NONE, "none" },
	{ KTLS_ATTEST_REASON_VERDICT, "verdict" },
	{ KTLS_ATTEST_REASON_OPERATOR, "operator" },
	{ KTLS_ATTEST_REASON_TIMEOUT, "timeout" },
	{ KTLS_ATTEST_REASON_PROTOCOL, "protocol" },
	{ KTLS_ATTEST_REASON_BYPASS, "bypass" },
	{ 0, NULL },
};

const struct ktls_attest_name ktls_attest_policy_flags_names[3] = {
	{ KTLS_ATTEST_POLICY_FLAGS_HOLD_REATTEST, "hold-reattest" },
	{ KTLS_ATTEST_POLICY_FLAGS_RESET_ON_REVOKE, "reset-on-revoke" },
	{ 0, NULL },
};

const struct nla_policy ktls_attest_sock_policy[KTLS_ATTEST_A_SOCK_MAX + 1] = {
	[KTLS_ATTEST_A_SOCK_PAD] = { .type = NLA_UNSPEC },
	[KTLS_ATTEST_A_SOCK_COOKIE] = { .type = NLA_U64, .minlen = 8, .maxlen = 8 },
	[KTLS_ATTEST_A_SOCK_FD] = { .type = NLA_S32, .minlen = 4, .maxlen = 4 },
	[KTLS_ATTEST_A_SOCK_ROLE] = { .type = NLA_U32, .minlen = 4, .maxlen = 4 },
	[KTLS_ATTEST_A_SOCK_STATE] = { .type = NLA_U32, .minlen = 4, .maxlen = 4 },
	[KTLS_ATTEST_A_SOCK_VERDICT] = { .type = NLA_U32, .minlen = 4, .maxlen = 4 },
	[KTLS_ATTEST_A_SOCK_REASON] = { .type = NLA_U32, .minlen = 4, .maxlen = 4 },
	[KTLS_ATTEST_A_SOCK_REASON_TEXT] = { .type = NLA_STRING, .maxlen = 128 },
	[KTLS_ATTEST_A_SOCK_TIMEOUT_MS] = { .type = NLA_U32, .minlen = 4, .maxlen = 4 },
	[KTLS_ATTEST_A_SOCK_POLICY_FLAGS] = { .type = NLA_U32, .minlen = 4, .maxlen = 4 },
	[KTLS_ATTEST_A_SOCK_ROUND] = { .type = NLA_U32, .minlen = 4, .maxlen = 4 },
	[KTLS_ATTEST_A_SOCK_FAMILY] = { .type = NLA_U16, .minlen = 2, .maxlen = 2 },
	[KTLS_ATTEST_A_SOCK_SADDR] = { .type = NLA_UNSPEC, .minlen = 4, .maxlen = 16 },
	[KTLS_ATTEST_A_SOCK_DADDR] = { .type = NLA_UNSPEC, .minlen = 4, .maxlen = 16 },
	[KTLS_ATTEST_A_SOCK_SPORT] = { .type = NLA_U16, .minlen = 2, .maxlen = 2 },
	[KTLS_ATTEST_A_SOCK_DPORT] = { .type = NLA_U16, .minlen = 2, .maxlen = 2 },
	[KTLS_ATTEST_A_SOCK_ARMED_TIME] = { .type = NLA_U64, .minlen = 8, .maxlen = 8 },
	[KTLS_ATTEST_A_SOCK_PASS_TIME] = { .type = NLA_U64, .minlen = 8, .maxlen = 8 },
	[KTLS_ATTEST_A_SOCK_TX_BYTES] = { .type = NLA_U64, .minlen = 8, .maxlen = 8 },
	[KTLS_ATTEST_A_SOCK_RX_BYTES] = { .type = NLA_U64, .minlen = 8, .maxlen = 8 },
	[KTLS_ATTEST_A_SOCK_TX_HELD] = { .type = NLA_U64, .minlen = 8, .maxlen = 8 },
	[KTLS_ATTEST_A_SOCK_RX_HELD] = { .type = NLA_U64, .minlen = 8, .maxlen = 8 },
	[KTLS_ATTEST_A_SOCK_BINDING_EXPORTER] = { .type = NLA_UNSPEC, .minlen = 32, .maxlen = 32 },
	[KTLS_ATTEST_A_SOCK_BINDING_LOCAL_KEY] = { .type = NLA_UNSPEC, .minlen = 32, .maxlen = 32 },
	[KTLS_ATTEST_A_SOCK_BINDING_PEER_KEY] = { .type = NLA_UNSPEC, .minlen = 32, .maxlen = 32 },
	[KTLS_ATTEST_A_SOCK_BINDING_FLAGS] = { .type = NLA_U32, .minlen = 4, .maxlen = 4 },
	[KTLS_ATTEST_A_SOCK_MSG_DATA] = { .type = NLA_UNSPEC, .minlen = 1, .maxlen = 32768 },
	[KTLS_ATTEST_A_SOCK_MSG_LEN] = { .type = NLA_U32, .minlen = 4, .maxlen = 4 },
};
