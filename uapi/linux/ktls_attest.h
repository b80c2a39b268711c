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
/* struct ktls_attest_binding; setsockopt only, once */
#define KTLS_ATTEST_BINDING	5

/* Round deadline when the policy names none, and its bounds. */
#define KTLS_ATTEST_TIMEOUT_MS_DEFAULT	10000
#define KTLS_ATTEST_TIMEOUT_MS_MIN	100
#define KTLS_ATTEST_TIMEOUT_MS_MAX	600000

/*
 * TLS inner content type of attestation records.  Only the kernel sends and
 * receives records of this type; userspace gets EPERM for trying.
 */
#define KTLS_ATTEST_RECORD_TYPE	0x3f

/*
 * The connection binding, from the application's TLS stack:
 * exporter = TLS-Exporter(KTLS_ATTEST_EXPORTER_LABEL, "", 32), and where
 * the application has them, SHA-256 of the local and of the peer's TLS
 * public key (SubjectPublicKeyInfo, DER), flagged in @flags, and which end
 * of the TLS connection this socket is (the binder's role byte needs it).  The kernel
 * gives it to the registered agent of the socket's namespace only, and
 * wipes it when the socket goes.  See Documentation/protocol.rst.
 */
#define KTLS_ATTEST_EXPORTER_LABEL	"EXPORTER-ktls-attest"
#define KTLS_ATTEST_EXPORTER_LEN	32
#define KTLS_ATTEST_KEY_HASH_LEN	32

#define KTLS_ATTEST_BINDING_LOCAL_KEY	0x1	/* local_key_sha256 is set */
#define KTLS_ATTEST_BINDING_PEER_KEY	0x2	/* peer_key_sha256 is set */
#define KTLS_ATTEST_BINDING_TLS_SERVER	0x4	/* this end is the TLS server */
/*
 * The application verified the peer's certificate (a chain to a trust
 * anchor it accepts); only with KTLS_ATTEST_BINDING_PEER_KEY.  A peer key
 * hash alone says which key the peer used, not that anyone checked it.
 */
#define KTLS_ATTEST_BINDING_PEER_VERIFIED	0x8

struct ktls_attest_binding {
	__u32 flags;		/* KTLS_ATTEST_BINDING_* */
	__u32 reserved;		/* 0 */
	__u8 exporter[KTLS_ATTEST_EXPORTER_LEN];
	__u8 local_key_sha256[KTLS_ATTEST_KEY_HASH_LEN];
	__u8 peer_key_sha256[KTLS_ATTEST_KEY_HASH_LEN];
};

/*
 * Framing of attestation messages on records of KTLS_ATTEST_RECORD_TYPE.
 * A message of 1 to KTLS_ATTEST_MSG_MAX bytes is split into fragments; each
 * record carries one header and one fragment of 0 to
 * KTLS_ATTEST_FRAG_MAX bytes.  All integers are big-endian.
 */
#define KTLS_ATTEST_MSG_MAX		65536
#define KTLS_ATTEST_FRAME_VERSION	1
#define KTLS_ATTEST_FRAME_FIRST		0x01	/* first fragment of a message */
#define KTLS_ATTEST_FRAME_LAST		0x02	/* last fragment of a message */

struct ktls_attest_frame {
	__u8 version;		/* KTLS_ATTEST_FRAME_VERSION */
	__u8 flags;		/* KTLS_ATTEST_FRAME_FIRST, _LAST */
	__be16 frag_len;	/* bytes of fragment after this header */
	__be32 msg_len;		/* bytes of the whole message */
};

/* 2^14, the TLS record plaintext limit, less the header */
#define KTLS_ATTEST_FRAG_MAX	(16384 - 8)

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
