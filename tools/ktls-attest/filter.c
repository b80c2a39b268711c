// SPDX-License-Identifier: GPL-2.0
/* The FILTER of filter.h, and the number parsers of the command line. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "filter.h"
#include "log.h"

int cli_parse_uint(const char *text, uint64_t min, uint64_t max,
		   uint64_t *value)
{
	unsigned long long v;
	char *end;

	/* strtoull takes spaces, signs and "0x": only digits here */
	if (text[0] < '0' || text[0] > '9')
		return -1;
	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*value = v;
	return 0;
}

int cli_parse_cookie(const char *text, uint64_t *cookie)
{
	return cli_parse_uint(text, 1, UINT64_MAX, cookie);
}

static int parse_addr(const char *text, struct cli_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, text, a->addr) == 1)
		a->family = AF_INET;
	else if (inet_pton(AF_INET6, text, a->addr) == 1)
		a->family = AF_INET6;
	else
		return -1;
	a->set = true;
	return 0;
}

/* "armed, pending, ..." of a name table, for an error message. */
static const char *choices(const struct ktls_attest_name *names, char *buf,
			   size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (; names->name; names++)
		used += snprintf(buf + used, used < len ? len - used : 0,
				 "%s%s", used ? ", " : "", names->name);
	return buf;
}

/* One keyword that takes a name of @names, ORed into @bits. */
static int parse_name(const char *usage, const char *key, const char *value,
		      const struct ktls_attest_name *names, bool value_bits,
		      uint32_t *bits)
{
	unsigned int v;
	char buf[256];

	if (cli_value(names, value, &v))
		return log_usage(usage, "%s: unknown %s \"%s\" (one of: %s)",
				 key, key, value,
				 choices(names, buf, sizeof(buf)));
	*bits |= value_bits ? 1U << v : v;
	return 0;
}

int cli_filter_parse(struct cli_filter *f, int argc, char **argv,
		     unsigned int flags, const char *usage)
{
	static const char *const event_keys[] = { "cookie", "state",
						  "reason", NULL };
	static const char *const all_keys[] = { "cookie", "state", "reason",
						"role", "src", "dst", "sport",
						"dport", NULL };
	const char *const *keys = flags & CLI_FILTER_EVENT ? event_keys :
				  all_keys;
	const char *key, *value;
	uint64_t port;
	int i, k, ret;

	memset(f, 0, sizeof(*f));
	f->sport = f->dport = -1;
	for (i = 0; i < argc; i += 2) {
		key = argv[i];
		for (k = 0; keys[k] && strcmp(keys[k], key); k++)
			;
		if (!keys[k]) {
			for (k = 0; all_keys[k] && strcmp(all_keys[k], key);
			     k++)
				;
			if (all_keys[k])
				return log_usage(usage, "%s: a state change event carries only cookie, state and reason",
						 key);
			if (key[0] == '-')
				return log_usage(usage, "unknown keyword \"%s\" (options go before the command: %s %s ...)",
						 key, KATT_PROG, key);
			return log_usage(usage, "unknown keyword \"%s\"", key);
		}
		if (i + 1 >= argc)
			return log_usage(usage, "%s: needs a value", key);
		value = argv[i + 1];

		if (!strcmp(key, "cookie")) {
			if (f->has_cookie)
				return log_usage(usage, "cookie: given twice");
			if (cli_parse_cookie(value, &f->cookie))
				return log_usage(usage, "cookie: \"%s\" is not a socket cookie (a number from 1)",
						 value);
			f->has_cookie = true;
		} else if (!strcmp(key, "state")) {
			ret = parse_name(usage, key, value,
					 ktls_attest_state_names, true,
					 &f->states);
			if (ret)
				return ret;
		} else if (!strcmp(key, "reason")) {
			ret = parse_name(usage, key, value,
					 ktls_attest_reason_names, true,
					 &f->reasons);
			if (ret)
				return ret;
		} else if (!strcmp(key, "role")) {
			ret = parse_name(usage, key, value,
					 ktls_attest_role_names, false,
					 &f->roles);
			if (ret)
				return ret;
		} else if (!strcmp(key, "src") || !strcmp(key, "dst")) {
			struct cli_addr *a = key[0] == 's' ? &f->src : &f->dst;

			if (a->set)
				return log_usage(usage, "%s: given twice", key);
			if (parse_addr(value, a))
				return log_usage(usage, "%s: \"%s\" is not an IPv4 or IPv6 address",
						 key, value);
		} else {
			int *p = key[0] == 's' ? &f->sport : &f->dport;

			if (*p >= 0)
				return log_usage(usage, "%s: given twice", key);
			if (cli_parse_uint(value, 0, 65535, &port))
				return log_usage(usage, "%s: \"%s\" is not a port (0 to 65535)",
						 key, value);
			*p = port;
		}
	}
	return 0;
}

static bool addr_match(const struct cli_addr *a, const uint8_t *addr,
		       uint8_t len)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (!a->set)
		return true;
	if (a->family == AF_INET6)
		return len == 16 && !memcmp(addr, a->addr, 16);
	if (len == 4)
		return !memcmp(addr, a->addr, 4);
	return len == 16 && !memcmp(addr, mapped, 12) &&
	       !memcmp(addr + 12, a->addr, 4);
}

/* A value of 32 or more matches no bit: only "any" takes it. */
static bool bit_match(uint32_t bits, uint32_t value)
{
	return !bits || (value < 32 && (bits & (1U << value)));
}

bool cli_filter_match(const struct cli_filter *f, const struct cli_sock *s)
{
	return (!f->has_cookie || s->cookie == f->cookie) &&
	       bit_match(f->states, s->state) &&
	       bit_match(f->reasons, s->reason) &&
	       (!f->roles || (s->role & f->roles)) &&
	       addr_match(&f->src, s->saddr, s->saddr_len) &&
	       addr_match(&f->dst, s->daddr, s->daddr_len) &&
	       (f->sport < 0 || s->sport == f->sport) &&
	       (f->dport < 0 || s->dport == f->dport);
}
