/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/*
 * ktls-attest: attestation-gated kernel TLS, user API.
 *
 * An application opts a TCP socket in with
 *	setsockopt(fd, SOL_TCP, TCP_ULP, KTLS_ATTEST_ULP_NAME, ...)
 * before (or instead of) setting TCP_ULP "tls"; kTLS is then installed
 * underneath the gate with the usual TCP_ULP "tls" and SOL_TLS options.
 * See Documentation/user-api.rst.
 */
#ifndef _UAPI_LINUX_KTLS_ATTEST_H
#define _UAPI_LINUX_KTLS_ATTEST_H

/* Name of the TCP upper layer protocol that arms a socket. */
#define KTLS_ATTEST_ULP_NAME	"attest"

#endif /* _UAPI_LINUX_KTLS_ATTEST_H */
