/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/specs/ktls_attest.yaml */
/* nlspec-gen uapi header */

/*
 * Control of attestation-gated kTLS sockets: the attestation agent of a network
 * namespace registers, is told of every socket that waits for an attestation
 * round, and gives verdicts; tools arm sockets by fd, list them, and watch
 * state changes.
 */

#ifndef _UAPI_LINUX_KTLS_ATTEST_NETLINK_H
#define _UAPI_LINUX_KTLS_ATTEST_NETLINK_H

#define KTLS_ATTEST_FAMILY_NAME		"ktls_attest"
#define KTLS_ATTEST_FAMILY_VERSION	1

/**
 * enum ktls_attest_state - Gate state of an armed socket.
 * @KTLS_ATTEST_STATE_ARMED: Opted in, no kTLS key yet; the TLS handshake
 *   passes.
 * @KTLS_ATTEST_STATE_PENDING: Keys installed, first round under way; data held.
 * @KTLS_ATTEST_STATE_PASSED: The last round passed; records flow.
 * @KTLS_ATTEST_STATE_REATTESTING: A new round is under way; records held or
 *   flowing, per policy.
 * @KTLS_ATTEST_STATE_REVOKED: Terminal. A later round failed or the socket was
 *   revoked.
 * @KTLS_ATTEST_STATE_FAILED: Terminal. The first round failed.
 */
enum ktls_attest_state {
	KTLS_ATTEST_STATE_ARMED = 1,
	KTLS_ATTEST_STATE_PENDING,
	KTLS_ATTEST_STATE_PASSED,
	KTLS_ATTEST_STATE_REATTESTING,
	KTLS_ATTEST_STATE_REVOKED,
	KTLS_ATTEST_STATE_FAILED,
};

/**
 * enum ktls_attest_role - Which side of the connection proves its state.
 * @KTLS_ATTEST_ROLE_ATTESTER: This host attests to the peer.
 * @KTLS_ATTEST_ROLE_RELYING_PARTY: The peer attests to this host.
 */
enum ktls_attest_role {
	KTLS_ATTEST_ROLE_ATTESTER = 1,
	KTLS_ATTEST_ROLE_RELYING_PARTY = 2,
};

/**
 * enum ktls_attest_verdict - What the agent or an administrator decided about a
 *   round.
 * @KTLS_ATTEST_VERDICT_PASS: The round passed.
 * @KTLS_ATTEST_VERDICT_FAIL: The round failed: a first round ends in failed, a
 *   later one in revoked.
 * @KTLS_ATTEST_VERDICT_REVOKE: Revoke the socket now, whatever its state.
 */
enum ktls_attest_verdict {
	KTLS_ATTEST_VERDICT_PASS = 1,
	KTLS_ATTEST_VERDICT_FAIL,
	KTLS_ATTEST_VERDICT_REVOKE,
};

/**
 * enum ktls_attest_reason - Why a socket left a state.
 * @KTLS_ATTEST_REASON_NONE: No state change yet, or a new round started.
 * @KTLS_ATTEST_REASON_VERDICT: A verdict of the registered agent.
 * @KTLS_ATTEST_REASON_OPERATOR: A verdict or re-attestation request of an
 *   administrator.
 * @KTLS_ATTEST_REASON_TIMEOUT: The round's deadline passed without a verdict.
 * @KTLS_ATTEST_REASON_PROTOCOL: The peer broke the transport protocol: a
 *   malformed, oversized, truncated or interleaved attestation message,
 *   application data before its first attestation message in the first round,
 *   or more attestation messages than the agent can be given; or an attestation
 *   record could not be sent.
 * @KTLS_ATTEST_REASON_BYPASS: A call of the local application reached kTLS
 *   around the gate: a key or upper layer protocol was installed, or tls's own
 *   tables were used, by a thread racing the module's own installation. The
 *   connection is aborted.
 */
enum ktls_attest_reason {
	KTLS_ATTEST_REASON_NONE,
	KTLS_ATTEST_REASON_VERDICT,
	KTLS_ATTEST_REASON_OPERATOR,
	KTLS_ATTEST_REASON_TIMEOUT,
	KTLS_ATTEST_REASON_PROTOCOL,
	KTLS_ATTEST_REASON_BYPASS,
};

/**
 * enum ktls_attest_policy_flags - Per-socket policy switches.
 * @KTLS_ATTEST_POLICY_FLAGS_HOLD_REATTEST: Hold records during re-attestation
 *   rounds too.
 * @KTLS_ATTEST_POLICY_FLAGS_RESET_ON_REVOKE: Abort the TCP connection (RST)
 *   when the socket is revoked.
 */
enum ktls_attest_policy_flags {
	KTLS_ATTEST_POLICY_FLAGS_HOLD_REATTEST = 1,
	KTLS_ATTEST_POLICY_FLAGS_RESET_ON_REVOKE = 2,
};

/*
 * Attributes of the sock set.
 * @KTLS_ATTEST_A_SOCK_PAD: pad
 * @KTLS_ATTEST_A_SOCK_COOKIE: u64; Socket cookie (SO_COOKIE) within the
 *   caller's network namespace.
 * @KTLS_ATTEST_A_SOCK_FD: s32; A socket file descriptor of the calling process.
 * @KTLS_ATTEST_A_SOCK_ROLE: u32, flags of enum ktls_attest_role; Which side
 *   proves its state; at least one flag.
 * @KTLS_ATTEST_A_SOCK_STATE: u32, a value of enum ktls_attest_state; Gate state
 *   of the socket.
 * @KTLS_ATTEST_A_SOCK_VERDICT: u32, a value of enum ktls_attest_verdict; The
 *   verdict given.
 * @KTLS_ATTEST_A_SOCK_REASON: u32, a value of enum ktls_attest_reason; Why the
 *   socket entered its current state.
 * @KTLS_ATTEST_A_SOCK_REASON_TEXT: string, 0..127 characters; Free text of the
 *   last verdict, for people.
 * @KTLS_ATTEST_A_SOCK_TIMEOUT_MS: u32, 100..600000; Deadline of each
 *   attestation round.
 * @KTLS_ATTEST_A_SOCK_POLICY_FLAGS: u32, flags of enum
 *   ktls_attest_policy_flags; Policy switches of the socket.
 * @KTLS_ATTEST_A_SOCK_ROUND: u32, 1..; Number of the current or last round,
 *   from 1.
 * @KTLS_ATTEST_A_SOCK_FAMILY: u16; Address family of the socket, AF_INET or
 *   AF_INET6.
 * @KTLS_ATTEST_A_SOCK_SADDR: binary, 4..16 bytes; Local address, 4 or 16 bytes.
 * @KTLS_ATTEST_A_SOCK_DADDR: binary, 4..16 bytes; Peer address, 4 or 16 bytes.
 * @KTLS_ATTEST_A_SOCK_SPORT: u16, big-endian; Local port.
 * @KTLS_ATTEST_A_SOCK_DPORT: u16, big-endian; Peer port.
 * @KTLS_ATTEST_A_SOCK_ARMED_TIME: u64; When the socket was armed,
 *   CLOCK_REALTIME nanoseconds.
 * @KTLS_ATTEST_A_SOCK_PASS_TIME: u64; When the last round passed,
 *   CLOCK_REALTIME nanoseconds; 0 never.
 * @KTLS_ATTEST_A_SOCK_TX_BYTES: u64; Application bytes sent through the gate.
 * @KTLS_ATTEST_A_SOCK_RX_BYTES: u64; Application bytes received through the
 *   gate.
 * @KTLS_ATTEST_A_SOCK_TX_HELD: u64; Send calls that found the gate closed
 *   (waited or EAGAIN).
 * @KTLS_ATTEST_A_SOCK_RX_HELD: u64; Receive calls that found the gate closed
 *   (waited or EAGAIN).
 * @KTLS_ATTEST_A_SOCK_BINDING_EXPORTER: binary, 32..32 bytes;
 *   TLS-Exporter("EXPORTER-ktls-attest", "", 32) of the connection, as the
 *   application set it (KTLS_ATTEST_BINDING). Secret.
 * @KTLS_ATTEST_A_SOCK_BINDING_LOCAL_KEY: binary, 32..32 bytes; SHA-256 of the
 *   local TLS public key, if the application gave it.
 * @KTLS_ATTEST_A_SOCK_BINDING_PEER_KEY: binary, 32..32 bytes; SHA-256 of the
 *   peer's TLS public key, if the application gave it.
 * @KTLS_ATTEST_A_SOCK_BINDING_FLAGS: u32; KTLS_ATTEST_BINDING_* flags of the
 *   binding: which key hashes are given, whether this end is the TLS server,
 *   and whether the application verified the peer's certificate (PEER_VERIFIED,
 *   only with PEER_KEY).
 * @KTLS_ATTEST_A_SOCK_MSG_DATA: binary, 1..32768 bytes, may repeat; A piece of
 *   an attestation message; the message is the concatenation of the pieces, in
 *   order, 1 to 65536 bytes in all.
 * @KTLS_ATTEST_A_SOCK_MSG_LEN: u32; Length of the whole attestation message.
 */
enum {
	KTLS_ATTEST_A_SOCK_PAD = 1,
	KTLS_ATTEST_A_SOCK_COOKIE,
	KTLS_ATTEST_A_SOCK_FD,
	KTLS_ATTEST_A_SOCK_ROLE,
	KTLS_ATTEST_A_SOCK_STATE,
	KTLS_ATTEST_A_SOCK_VERDICT,
	KTLS_ATTEST_A_SOCK_REASON,
	KTLS_ATTEST_A_SOCK_REASON_TEXT,
	KTLS_ATTEST_A_SOCK_TIMEOUT_MS,
	KTLS_ATTEST_A_SOCK_POLICY_FLAGS,
	KTLS_ATTEST_A_SOCK_ROUND,
	KTLS_ATTEST_A_SOCK_FAMILY,
	KTLS_ATTEST_A_SOCK_SADDR,
	KTLS_ATTEST_A_SOCK_DADDR,
	KTLS_ATTEST_A_SOCK_SPORT,
	KTLS_ATTEST_A_SOCK_DPORT,
	KTLS_ATTEST_A_SOCK_ARMED_TIME,
	KTLS_ATTEST_A_SOCK_PASS_TIME,
	KTLS_ATTEST_A_SOCK_TX_BYTES,
	KTLS_ATTEST_A_SOCK_RX_BYTES,
	KTLS_ATTEST_A_SOCK_TX_HELD,
	KTLS_ATTEST_A_SOCK_RX_HELD,
	KTLS_ATTEST_A_SOCK_BINDING_EXPORTER,
	KTLS_ATTEST_A_SOCK_BINDING_LOCAL_KEY,
	KTLS_ATTEST_A_SOCK_BINDING_PEER_KEY,
	KTLS_ATTEST_A_SOCK_BINDING_FLAGS,
	KTLS_ATTEST_A_SOCK_MSG_DATA,
	KTLS_ATTEST_A_SOCK_MSG_LEN,

	__KTLS_ATTEST_A_SOCK_MAX,
	KTLS_ATTEST_A_SOCK_MAX = (__KTLS_ATTEST_A_SOCK_MAX - 1)
};

/*
 * Commands.
 * @KTLS_ATTEST_CMD_AGENT_REGISTER: do; Register the calling netlink socket as
 *   the attestation agent of the caller's network namespace. Refused while
 *   another agent is registered; the registration ends when that socket closes.
 * @KTLS_ATTEST_CMD_AGENT_UNREGISTER: do; End the caller's own agent
 *   registration.
 * @KTLS_ATTEST_CMD_SOCK_ARM: do; Arm a socket that already has kTLS, by file
 *   descriptor: it is held (pending) at once and its first round starts.
 * @KTLS_ATTEST_CMD_SOCK_VERDICT: do; Verdict for a socket's current round. Only
 *   the registered agent of the socket's namespace, or a caller with
 *   CAP_NET_ADMIN over it.
 * @KTLS_ATTEST_CMD_SOCK_REATTEST: do; Start a new round for a passed socket
 *   (administrator).
 * @KTLS_ATTEST_CMD_SOCK_GET: do, dump; One armed socket by cookie, or all of
 *   the caller's namespace (the dump ignores a cookie).
 * @KTLS_ATTEST_CMD_ROUND_START: event; To the registered agent only (unicast):
 *   a round started on a socket that has both kTLS keys and its binding.
 * @KTLS_ATTEST_CMD_MSG_SEND: do; Send an attestation message on a socket
 *   (registered agent only). The message is queued whole and goes out as
 *   records of the attestation type ahead of any later application data.
 * @KTLS_ATTEST_CMD_MSG_RECV: event; To the registered agent only (unicast): a
 *   whole attestation message arrived on a socket. Always after the round-start
 *   of its round.
 * @KTLS_ATTEST_CMD_STATE_CHANGE: event to multicast group monitor; A socket
 *   changed state (multicast to the monitor group).
 */
enum {
	KTLS_ATTEST_CMD_AGENT_REGISTER = 1,
	KTLS_ATTEST_CMD_AGENT_UNREGISTER,
	KTLS_ATTEST_CMD_SOCK_ARM,
	KTLS_ATTEST_CMD_SOCK_VERDICT,
	KTLS_ATTEST_CMD_SOCK_REATTEST,
	KTLS_ATTEST_CMD_SOCK_GET,
	KTLS_ATTEST_CMD_ROUND_START,
	KTLS_ATTEST_CMD_MSG_SEND,
	KTLS_ATTEST_CMD_MSG_RECV,
	KTLS_ATTEST_CMD_STATE_CHANGE,

	__KTLS_ATTEST_CMD_MAX,
	KTLS_ATTEST_CMD_MAX = (__KTLS_ATTEST_CMD_MAX - 1)
};

#define KTLS_ATTEST_MCGRP_MONITOR	"monitor"

#endif /* _UAPI_LINUX_KTLS_ATTEST_NETLINK_H */
