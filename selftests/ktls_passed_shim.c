// SPDX-License-Identifier: GPL-2.0
/*
 * ktls_passed_shim.so: an LD_PRELOAD shim that runs an unmodified kTLS
 * program (the kernel's own tools/testing/selftests/net/tls.c, see
 * selftests/ksft-tls) with every one of its TCP sockets armed by
 * ktls-attest and passed by an operator verdict, so that each of its tests
 * exercises kTLS through a passed gate instead of plain kTLS.
 *
 * What it wraps, on AF_INET and AF_INET6 TCP sockets only (anything else,
 * the shim's own netlink sockets included, goes straight through):
 *
 * listen(), connect()
 *	First setsockopt(SOL_TCP, TCP_ULP, "attest"), then the real call.  A
 *	listener must be armed before listen() (the module refuses later: a
 *	listener's fields are copied to each new child without a lock); the
 *	children it accepts are armed by the module itself, so accept() needs
 *	nothing.  Client sockets are armed at connect(), not at socket(): a
 *	socket that never connects or listens never carries data through the
 *	gate (tls.c's non_established sets TCP_ULP "tls" on one and expects
 *	kTLS's own ENOTCONN).  EEXIST is accepted only if the socket is armed
 *	already (KTLS_ATTEST_STATUS answers): tls.c's shutdown_reuse calls
 *	listen() and connect() again on a socket it shut down.
 *
 * setsockopt(SOL_TCP, TCP_ULP, "tls")
 *	After it succeeded, the socket must be armed: kTLS went in under the
 *	gate, not around it (a key-less kTLS socket is still a test of kTLS).
 *
 * setsockopt(SOL_TLS, TLS_TX or TLS_RX)
 *	After the real call, the state decides.  PENDING (the first key is
 *	in, either direction): an operator verdict "pass" for the socket's
 *	cookie and round over the ktls_attest generic netlink family, then
 *	KTLS_ATTEST_STATUS must say PASSED before the call returns.  So a
 *	socket that only ever gets one key (tls.c's fixture keys TX on one
 *	end and RX on the other) is passed all the same, and the second key
 *	and any rekey find it PASSED already.  ARMED: only if the call failed
 *	(no key went in).  Every other answer aborts.  The call's own return
 *	value and errno are what the program sees.
 *
 * The verdict comes from a netlink socket opened for it and closed after
 * (as an administrator: the test runs as root), never one kept open: the
 * tests fork() children that share every descriptor, and two processes
 * reading one netlink socket would take each other's answers.  The shim
 * keeps no other state, so a forked child or grandchild works as its
 * parent does.  At load it checks that the family is there (the module is
 * loaded).
 *
 * Anything that does not go as described (arming refused, a keyed or
 * kTLS socket that is not armed, a verdict refused, a state other than
 * PASSED after the pass) prints "ktls_passed_shim: FATAL: ..." on standard
 * error and abort()s that process: the test fails ("terminated by
 * assertion" in the harness), and selftests/ksft-tls fails any test whose
 * output has that line, listed or not.  The run can never silently test
 * plain kTLS.  A socket that the shim passed and that a later key call
 * finds revoked (the module took the pass back: a finding, which a test
 * that only looks at the call's errno would not see) ends the process the
 * same way with "ktls_passed_shim: REVOKED: ...": that test fails as any
 * other, and may be an expected failure of selftests/ksft-tls.expect.
 */
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/ktls_attest.h>
#include <linux/tls.h>

#include "lib/katt_nl.h"

#ifndef SOL_TLS
#define SOL_TLS		282
#endif
#ifndef TCP_ULP
#define TCP_ULP		31
#endif

#define SHIM		"ktls_passed_shim"
#define SHIM_EXPORT	__attribute__((visibility("default")))

static int (*real_listen)(int, int);
static int (*real_connect)(int, const struct sockaddr *, socklen_t);
static int (*real_setsockopt)(int, int, int, const void *, socklen_t);

/*
 * Ends this process with a message: "FATAL" when the shim could not do
 * its work (the test would not run through a passed gate), "REVOKED" when
 * the module revoked a socket the shim had passed (a finding the test
 * itself may not notice).
 */
static void __attribute__((noreturn, format(printf, 2, 0)))
die(const char *kind, const char *fmt, va_list ap)
{
	fflush(stdout);
	fprintf(stderr, SHIM ": %s: ", kind);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	abort();
}

static void __attribute__((noreturn, format(printf, 1, 2)))
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	die("FATAL", fmt, ap);
}

static void __attribute__((noreturn, format(printf, 1, 2)))
revoked(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	die("REVOKED", fmt, ap);
}

static void *real(const char *name)
{
	void *fn;

	dlerror();
	fn = dlsym(RTLD_NEXT, name);
	if (!fn)
		fatal("dlsym(%s): %s", name, dlerror());
	return fn;
}

static void __attribute__((constructor)) shim_init(void)
{
	struct katt_nl *nl;
	int ret;

	real_listen = real("listen");
	real_connect = real("connect");
	real_setsockopt = real("setsockopt");

	ret = katt_nl_open(&nl);
	if (ret)
		fatal("generic netlink family %s: %s (is the module loaded?)",
		      KTLS_ATTEST_FAMILY_NAME, strerror(-ret));
	katt_nl_close(nl);
}

/* An AF_INET or AF_INET6 TCP socket (not: not a socket, or another kind). */
static bool is_tcp(int fd)
{
	int domain, proto;
	socklen_t len;

	len = sizeof(domain);
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) ||
	    (domain != AF_INET && domain != AF_INET6))
		return false;
	len = sizeof(proto);
	return !getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) &&
	       proto == IPPROTO_TCP;
}

/*
 * KTLS_ATTEST_STATUS of @fd: 0, or -EOPNOTSUPP if the socket is not armed
 * (TCP's own answer to the foreign level: EOPNOTSUPP for IPv4,
 * ENOPROTOOPT for IPv6), or another -errno.
 */
static int status(int fd, struct ktls_attest_status *st)
{
	socklen_t len = sizeof(*st);

	if (!getsockopt(fd, SOL_KTLS_ATTEST, KTLS_ATTEST_STATUS, st, &len))
		return 0;
	if (errno == EOPNOTSUPP || errno == ENOPROTOOPT)
		return -EOPNOTSUPP;
	return -errno;
}

static const char *reason_name(uint32_t reason)
{
	static const char *const names[] = {
		[KTLS_ATTEST_REASON_NONE] = "none",
		[KTLS_ATTEST_REASON_VERDICT] = "verdict",
		[KTLS_ATTEST_REASON_OPERATOR] = "operator",
		[KTLS_ATTEST_REASON_TIMEOUT] = "timeout",
		[KTLS_ATTEST_REASON_PROTOCOL] = "protocol",
		[KTLS_ATTEST_REASON_BYPASS] = "bypass",
	};

	if (reason < sizeof(names) / sizeof(names[0]) && names[reason])
		return names[reason];
	return "?";
}

static void must_be_armed(int fd, const char *what)
{
	struct ktls_attest_status st;
	int ret = status(fd, &st);

	if (ret == -EOPNOTSUPP)
		fatal("%s: fd %d is not armed", what, fd);
	if (ret)
		fatal("%s: KTLS_ATTEST_STATUS on fd %d: %s", what, fd,
		      strerror(-ret));
}

/* TCP_ULP "attest" on @fd, which is about to listen or connect. */
static void arm(int fd, const char *what)
{
	if (!real_setsockopt(fd, SOL_TCP, TCP_ULP, KTLS_ATTEST_ULP_NAME,
			     sizeof(KTLS_ATTEST_ULP_NAME))) {
		must_be_armed(fd, what);
		return;
	}
	if (errno != EEXIST)
		fatal("%s: TCP_ULP \"%s\" on fd %d: %s", what,
		      KTLS_ATTEST_ULP_NAME, fd, strerror(errno));
	/* a ULP already: ours (armed before), or kTLS around the gate */
	must_be_armed(fd, what);
}

SHIM_EXPORT int listen(int fd, int backlog)
{
	if (is_tcp(fd))
		arm(fd, "listen()");
	return real_listen(fd, backlog);
}

SHIM_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	if (is_tcp(fd))
		arm(fd, "connect()");
	return real_connect(fd, addr, len);
}

/* The operator's pass for the round under way on @fd, checked. */
static void pass(int fd, const struct ktls_attest_status *st,
		 const char *what)
{
	struct ktls_attest_status after;
	struct katt_nl *nl;
	int ret;

	ret = katt_nl_open(&nl);
	if (ret)
		fatal("%s: netlink: %s", what, strerror(-ret));
	ret = katt_nl_verdict(nl, st->cookie, st->round,
			      KTLS_ATTEST_VERDICT_PASS, SHIM);
	if (ret)
		fatal("%s: pass verdict for fd %d (cookie %llu, round %u): %s (%s)",
		      what, fd, (unsigned long long)st->cookie, st->round,
		      strerror(-ret), katt_nl_extack(nl));
	katt_nl_close(nl);

	ret = status(fd, &after);
	if (ret)
		fatal("%s: KTLS_ATTEST_STATUS on fd %d after the pass: %s",
		      what, fd, strerror(-ret));
	if (after.state != KTLS_ATTEST_STATE_PASSED)
		fatal("%s: fd %d is %s after the pass, not passed (reason %s: \"%s\")",
		      what, fd, katt_nl_state_name(after.state),
		      reason_name(after.reason), after.reason_text);
}

/* After a kTLS key on @fd went in (@ok) or not: pass it, or check it. */
static void after_key(int fd, bool ok, const char *what)
{
	struct ktls_attest_status st;
	int ret = status(fd, &st);

	if (ret == -EOPNOTSUPP)
		fatal("%s: fd %d is not armed", what, fd);
	if (ret)
		fatal("%s: KTLS_ATTEST_STATUS on fd %d: %s", what, fd,
		      strerror(-ret));
	switch (st.state) {
	case KTLS_ATTEST_STATE_PENDING:
		if (!ok)
			fatal("%s failed (%s) but fd %d is pending", what,
			      strerror(errno), fd);
		pass(fd, &st, what);
		return;
	case KTLS_ATTEST_STATE_PASSED:
		return;
	case KTLS_ATTEST_STATE_ARMED:
		if (!ok)
			return;
		fatal("%s succeeded but fd %d is still armed, not pending",
		      what, fd);
	case KTLS_ATTEST_STATE_REVOKED:
		/* only ever from passed: the shim passed it, the module took it back */
		revoked("%s %s (%s): fd %d is revoked, reason %s: \"%s\"",
			what, ok ? "succeeded" : "failed",
			ok ? "no error" : strerror(errno), fd,
			reason_name(st.reason), st.reason_text);
	default:
		fatal("%s %s (%s): fd %d is %s, reason %s: \"%s\"", what,
		      ok ? "succeeded" : "failed",
		      ok ? "no error" : strerror(errno), fd,
		      katt_nl_state_name(st.state), reason_name(st.reason),
		      st.reason_text);
	}
}

SHIM_EXPORT int setsockopt(int fd, int level, int name, const void *val,
			   socklen_t len)
{
	bool ulp_tls, key;
	const char *what;
	int ret, err;

	ret = real_setsockopt(fd, level, name, val, len);
	err = errno;

	/* the kernel takes the name up to @len bytes or a NUL */
	ulp_tls = level == SOL_TCP && name == TCP_ULP && val && len >= 3 &&
		  !strncmp(val, "tls", len);
	key = level == SOL_TLS && (name == TLS_TX || name == TLS_RX);
	if ((!ulp_tls && !key) || !is_tcp(fd))
		return ret;

	if (ulp_tls) {
		if (!ret)
			must_be_armed(fd, "TCP_ULP \"tls\"");
	} else {
		what = name == TLS_TX ? "TLS_TX" : "TLS_RX";
		errno = err;
		after_key(fd, !ret, what);
	}
	errno = err;
	return ret;
}
