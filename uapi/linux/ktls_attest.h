/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/*
 * ktls-attest: attestation-gated kernel TLS, user API.
 *
 * An application opts a TCP socket in with
 *	setsockopt(fd, SOL_TCP, TCP_ULP, KTLS_ATTEST_ULP_NAME, ...)
 * before (or instead of) setting TCP_ULP "tls"; kTLS is then installed
 * underneath the gate with the usual TCP_ULP "tls" and SOL_TLS options.
 * From the first kTLS key on, no application record moves until the
 * socket's attestation verdict is "pass".  See Documentation/user-api.rst.
 *
 * The generic netlink family (agent, verdicts, arming by fd, listing,
 * monitoring) is in <linux/ktls_attest_netlink.h>, generated from
 * Documentation/netlink/specs/ktls_attest.yaml; the enums of socket states,
 * roles, reasons and policy flags used below are defined there.
 */
#ifndef _UAPI_LINUX_KTLS_ATTEST_H
#define _UAPI_LINUX_KTLS_ATTEST_H

#include <linux/types.h>
#include <linux/ktls_attest_netlink.h>

/* Name of the TCP upper layer protocol that arms a socket. */
#define KTLS_ATTEST_ULP_NAME	"attest"

/*
 * Socket option level of the options below.  Not a protocol number: the
 * module's setsockopt/getsockopt take this level before the socket's
 * protocols see it.  Chosen far from the kernel's SOL_* numbers.
 */
#define SOL_KTLS_ATTEST		0x4b41

/* int, enum ktls_attest_role flags; until the first kTLS key */
#define KTLS_ATTEST_ROLE	1
/* struct ktls_attest_policy; until the first kTLS key */
#define KTLS_ATTEST_POLICY	2
/* struct ktls_attest_status; getsockopt only */
#define KTLS_ATTEST_STATUS	3
/* no value; setsockopt only: start a new round, wait for its verdict */
#define KTLS_ATTEST_REATTEST	4

/* Round deadline when the policy names none, and its bounds. */
#define KTLS_ATTEST_TIMEOUT_MS_DEFAULT	10000
#define KTLS_ATTEST_TIMEOUT_MS_MIN	100
#define KTLS_ATTEST_TIMEOUT_MS_MAX	600000

/*
 * TLS inner content type of attestation records.  Only the kernel sends and
 * receives records of this type; userspace gets EPERM for trying.
 */
#define KTLS_ATTEST_RECORD_TYPE	0x3f

struct ktls_attest_policy {
	__u32 timeout_ms;	/* deadline of each round; 0: the default */
	__u32 flags;		/* enum ktls_attest_policy_flags */
};

#define KTLS_ATTEST_REASON_TEXT_MAX	128

struct ktls_attest_status {
	__u32 state;		/* enum ktls_attest_state */
	__u32 role;		/* enum ktls_attest_role flags */
	__u32 reason;		/* enum ktls_attest_reason of the last change */
	__u32 round;		/* current or last round, from 1; 0: none yet */
	__u64 cookie;		/* SO_COOKIE, as the netlink family names it */
	__u64 pass_time_ns;	/* CLOCK_REALTIME of the last pass; 0: never */
	char reason_text[KTLS_ATTEST_REASON_TEXT_MAX];	/* NUL-terminated */
};

#endif /* _UAPI_LINUX_KTLS_ATTEST_H */
