/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An armed socket as the kernel reports it (sock-get, its dump, and the
 * state-change events of the monitor group), and how it is written for
 * people and as JSON.
 */
#ifndef KTLS_ATTEST_CLI_SOCK_H
#define KTLS_ATTEST_CLI_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <linux/ktls_attest.h>

#include "ktls_attest_nl_gen.h"

struct nlattr;

/* Bit @attr (KTLS_ATTEST_A_SOCK_*) of struct cli_sock.present. */
#define CLI_SOCK_HAS(s, attr)	(!!((s)->present & (1ULL << (attr))))

struct cli_sock {
	uint64_t present;		/* the attributes that came */
	uint64_t cookie;
	uint32_t role;			/* enum ktls_attest_role flags */
	uint32_t state;			/* enum ktls_attest_state */
	uint32_t reason;		/* enum ktls_attest_reason */
	uint32_t timeout_ms;
	uint32_t policy_flags;		/* enum ktls_attest_policy_flags */
	uint32_t round;			/* 0: none yet */
	uint16_t family;		/* AF_INET, AF_INET6 */
	uint16_t sport, dport;		/* host byte order */
	uint8_t saddr_len, daddr_len;	/* 4 or 16 */
	uint8_t saddr[16], daddr[16];
	uint64_t armed_time;		/* CLOCK_REALTIME ns */
	uint64_t pass_time;		/* CLOCK_REALTIME ns; 0: never */
	uint64_t tx_bytes, rx_bytes;
	uint64_t tx_held, rx_held;
	char reason_text[KTLS_ATTEST_REASON_TEXT_MAX];
};

/*
 * Fills @s from attributes parsed with ktls_attest_sock_policy (tb has
 * KTLS_ATTEST_A_SOCK_MAX + 1 entries).  -EPROTO if one is malformed in a
 * way the policy cannot say (an address neither 4 nor 16 bytes long).
 */
int cli_sock_from_attrs(struct cli_sock *s, struct nlattr **tb);

/* The spec's name of @value in @names, or NULL if it has none. */
const char *cli_name(const struct ktls_attest_name *names, unsigned int value);
/* The value named exactly @name; 0 if found, -1 if not. */
int cli_value(const struct ktls_attest_name *names, const char *name,
	      unsigned int *value);
/* "name" or "unknown (N)", into @buf. */
const char *cli_name_or_number(const struct ktls_attest_name *names,
			       unsigned int value, char *buf, size_t len);
/* Flag names joined by ", " ("none" for 0; unknown bits as 0x...). */
const char *cli_flags(const struct ktls_attest_name *names, uint32_t flags,
		      char *buf, size_t len);
/* What a reason means, for people; NULL for a reason this tool lacks. */
const char *cli_reason_meaning(uint32_t reason);

/* "1.2.3.4:80" or "[::1]:80"; "?" if the address did not come. */
const char *cli_sock_endpoint(const struct cli_sock *s, bool local,
			      char *buf, size_t len);
/*
 * @in with everything that is not a printable character of the current
 * locale, and backslash and double quote, written as \xHH (\\, \"):
 * text from the kernel (the verdict's free text) is safe on a terminal.
 */
const char *cli_escape(const char *in, char *buf, size_t len);
/*
 * @t_ns (CLOCK_REALTIME ns) relative to @now_ns for people:
 * "1 hour, 2 minutes, 3 seconds ago", "just now", "in 5 seconds".
 */
const char *cli_ago(uint64_t t_ns, uint64_t now_ns, char *buf, size_t len);
/* "2024-05-01 12:00:03 UTC" in local time. */
const char *cli_date(uint64_t t_ns, char *buf, size_t len);
/* "999 B", "1.50 KiB", "2.00 MiB", ... */
const char *cli_bytes(uint64_t bytes, char *buf, size_t len);
uint64_t cli_now_ns(void);

/* Writes @s for people, as a block of "  key: value" lines. */
void cli_sock_print(const struct cli_sock *s, uint64_t now_ns);
/*
 * @s as a JSON object: every attribute that came, under its spec name with
 * '-' as '_'; enums by name (a number if unknown), flags as arrays of
 * names, addresses as text.  NULL if out of memory.
 */
json_t *cli_sock_json(const struct cli_sock *s);
/* A string for JSON: @text, or its escaped form if it is not UTF-8. */
json_t *cli_json_text(const char *text);

#endif /* KTLS_ATTEST_CLI_SOCK_H */
