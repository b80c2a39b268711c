/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Which sockets a command is about: the FILTER of "show" and "monitor".
 *
 *	cookie COOKIE		that socket only
 *	state STATE		armed, pending, passed, reattesting, revoked,
 *				failed
 *	reason REASON		none, verdict, operator, timeout, protocol,
 *				bypass
 *	role ROLE		attester, relying-party: sockets with that
 *				role (a mutual socket has both)
 *	src ADDR, dst ADDR	local or peer address, IPv4 or IPv6 (an IPv4
 *				address also matches its IPv4-mapped IPv6 form)
 *	sport PORT, dport PORT	local or peer port
 *
 * Keywords and values are matched exactly.  Sockets must match every
 * keyword given; state, reason and role may be given more than once, and
 * then match any of their values.
 */
#ifndef KTLS_ATTEST_CLI_FILTER_H
#define KTLS_ATTEST_CLI_FILTER_H

#include <stdbool.h>
#include <stdint.h>

#include "sock.h"

struct cli_addr {
	bool set;
	int family;
	uint8_t addr[16];
};

struct cli_filter {
	bool has_cookie;
	uint64_t cookie;
	uint32_t states;	/* bit 1 << state; 0: any */
	uint32_t reasons;	/* bit 1 << reason; 0: any */
	uint32_t roles;		/* role flags, any of; 0: any */
	struct cli_addr src, dst;
	int sport, dport;	/* -1: any */
};

/* The keywords the events of the monitor group can be matched on. */
#define CLI_FILTER_EVENT	(1U << 0)

/*
 * Parses the FILTER words of @argv (all @argc of them) for the command
 * whose usage line is @usage.  @flags CLI_FILTER_EVENT allows only the
 * keywords an event carries (cookie, state, reason).  Returns 0, or
 * KATT_EXIT_USAGE after saying what is wrong.
 */
int cli_filter_parse(struct cli_filter *f, int argc, char **argv,
		     unsigned int flags, const char *usage);
bool cli_filter_match(const struct cli_filter *f, const struct cli_sock *s);

/*
 * A cookie: a decimal number from 1 to 2^64 - 1, nothing else (no sign,
 * no spaces, no 0x).  0 if @text is one, -1 if not.
 */
int cli_parse_cookie(const char *text, uint64_t *cookie);
/* A decimal number from @min to @max, nothing else. */
int cli_parse_uint(const char *text, uint64_t min, uint64_t max,
		   uint64_t *value);

#endif /* KTLS_ATTEST_CLI_FILTER_H */
