// SPDX-License-Identifier: GPL-2.0
/*
 * An armed socket: from netlink attributes into struct cli_sock, and from
 * there into text for people and JSON for programs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <wchar.h>
#include <wctype.h>

#include <netlink/attr.h>

#include "sock.h"

#define A(name)		KTLS_ATTEST_A_SOCK_##name

/* Marks @attr present if it came; the policy has checked its length. */
static bool take(struct cli_sock *s, struct nlattr **tb, int attr)
{
	if (!tb[attr])
		return false;
	s->present |= 1ULL << attr;
	return true;
}

static int take_addr(struct cli_sock *s, struct nlattr **tb, int attr,
		     uint8_t *addr, uint8_t *len)
{
	if (!take(s, tb, attr))
		return 0;
	if (nla_len(tb[attr]) != 4 && nla_len(tb[attr]) != 16)
		return -EPROTO;
	*len = nla_len(tb[attr]);
	memcpy(addr, nla_data(tb[attr]), *len);
	return 0;
}

int cli_sock_from_attrs(struct cli_sock *s, struct nlattr **tb)
{
	memset(s, 0, sizeof(*s));
	if (take(s, tb, A(COOKIE)))
		s->cookie = nla_get_u64(tb[A(COOKIE)]);
	if (take(s, tb, A(ROLE)))
		s->role = nla_get_u32(tb[A(ROLE)]);
	if (take(s, tb, A(STATE)))
		s->state = nla_get_u32(tb[A(STATE)]);
	if (take(s, tb, A(REASON)))
		s->reason = nla_get_u32(tb[A(REASON)]);
	if (take(s, tb, A(REASON_TEXT)))
		nla_strlcpy(s->reason_text, tb[A(REASON_TEXT)],
			    sizeof(s->reason_text));
	if (take(s, tb, A(TIMEOUT_MS)))
		s->timeout_ms = nla_get_u32(tb[A(TIMEOUT_MS)]);
	if (take(s, tb, A(POLICY_FLAGS)))
		s->policy_flags = nla_get_u32(tb[A(POLICY_FLAGS)]);
	if (take(s, tb, A(ROUND)))
		s->round = nla_get_u32(tb[A(ROUND)]);
	if (take(s, tb, A(FAMILY)))
		s->family = nla_get_u16(tb[A(FAMILY)]);
	if (take(s, tb, A(SPORT)))
		s->sport = ntohs(nla_get_u16(tb[A(SPORT)]));
	if (take(s, tb, A(DPORT)))
		s->dport = ntohs(nla_get_u16(tb[A(DPORT)]));
	if (take(s, tb, A(ARMED_TIME)))
		s->armed_time = nla_get_u64(tb[A(ARMED_TIME)]);
	if (take(s, tb, A(PASS_TIME)))
		s->pass_time = nla_get_u64(tb[A(PASS_TIME)]);
	if (take(s, tb, A(TX_BYTES)))
		s->tx_bytes = nla_get_u64(tb[A(TX_BYTES)]);
	if (take(s, tb, A(RX_BYTES)))
		s->rx_bytes = nla_get_u64(tb[A(RX_BYTES)]);
	if (take(s, tb, A(TX_HELD)))
		s->tx_held = nla_get_u64(tb[A(TX_HELD)]);
	if (take(s, tb, A(RX_HELD)))
		s->rx_held = nla_get_u64(tb[A(RX_HELD)]);
	if (take_addr(s, tb, A(SADDR), s->saddr, &s->saddr_len) ||
	    take_addr(s, tb, A(DADDR), s->daddr, &s->daddr_len))
		return -EPROTO;
	return 0;
}

/* --- names ---------------------------------------------------------------- */

const char *cli_name(const struct ktls_attest_name *names, unsigned int value)
{
	for (; names->name; names++)
		if (names->value == value)
			return names->name;
	return NULL;
}

int cli_value(const struct ktls_attest_name *names, const char *name,
	      unsigned int *value)
{
	for (; names->name; names++) {
		if (!strcmp(names->name, name)) {
			*value = names->value;
			return 0;
		}
	}
	return -1;
}

const char *cli_name_or_number(const struct ktls_attest_name *names,
			       unsigned int value, char *buf, size_t len)
{
	const char *name = cli_name(names, value);

	if (name)
		return name;
	snprintf(buf, len, "unknown (%u)", value);
	return buf;
}

const char *cli_flags(const struct ktls_attest_name *names, uint32_t flags,
		      char *buf, size_t len)
{
	const struct ktls_attest_name *n;
	size_t used = 0;

	buf[0] = '\0';
	if (!flags)
		return "none";
	for (n = names; n->name; n++) {
		if (!(flags & n->value))
			continue;
		used += snprintf(buf + used, used < len ? len - used : 0,
				 "%s%s", used ? ", " : "", n->name);
		flags &= ~n->value;
	}
	if (flags)
		snprintf(buf + used, used < len ? len - used : 0, "%s%#x",
			 used ? ", " : "", flags);
	return buf;
}

const char *cli_reason_meaning(uint32_t reason)
{
	switch (reason) {
	case KTLS_ATTEST_REASON_NONE:
		return "no verdict in this round yet";
	case KTLS_ATTEST_REASON_VERDICT:
		return "the attestation agent's verdict";
	case KTLS_ATTEST_REASON_OPERATOR:
		return "an administrator's verdict";
	case KTLS_ATTEST_REASON_TIMEOUT:
		return "the round's deadline passed without a verdict";
	case KTLS_ATTEST_REASON_PROTOCOL:
		return "the peer broke the attestation protocol";
	case KTLS_ATTEST_REASON_BYPASS:
		return "a call of the application went around the gate";
	}
	return NULL;
}

/* --- text for people ------------------------------------------------------- */

static int addr_family(uint16_t family, uint8_t len)
{
	if (family == AF_INET || family == AF_INET6)
		return family;
	return len == 4 ? AF_INET : AF_INET6;
}

static const char *addr_text(const struct cli_sock *s, bool local,
			     char *buf, size_t len)
{
	const uint8_t *addr = local ? s->saddr : s->daddr;
	uint8_t alen = local ? s->saddr_len : s->daddr_len;
	int af = addr_family(s->family, alen);

	if (!CLI_SOCK_HAS(s, local ? A(SADDR) : A(DADDR)) || (af == AF_INET) != (alen == 4) ||
	    !inet_ntop(af, addr, buf, len))
		return NULL;
	return buf;
}

const char *cli_sock_endpoint(const struct cli_sock *s, bool local,
			      char *buf, size_t len)
{
	char addr[INET6_ADDRSTRLEN];
	int attr = local ? A(SPORT) : A(DPORT);

	if (!addr_text(s, local, addr, sizeof(addr)) ||
	    !(s->present & (1ULL << attr)))
		return "?";
	snprintf(buf, len, strchr(addr, ':') ? "[%s]:%u" : "%s:%u", addr,
		 local ? s->sport : s->dport);
	return buf;
}

const char *cli_escape(const char *in, char *buf, size_t len)
{
	size_t rem = strlen(in), used = 0, n;
	char esc[8];
	mbstate_t mbs;
	wchar_t wc;

	memset(&mbs, 0, sizeof(mbs));
	while (rem) {
		n = mbrtowc(&wc, in, rem, &mbs);
		if (n == (size_t)-1 || n == (size_t)-2 || n == 0 ||
		    !iswprint(wc) || wc == L'\\' || wc == L'"') {
			/* one byte, escaped */
			if (*in == '\\' || *in == '"')
				snprintf(esc, sizeof(esc), "\\%c", *in);
			else
				snprintf(esc, sizeof(esc), "\\x%02x",
					 (unsigned char)*in);
			memset(&mbs, 0, sizeof(mbs));
			n = 1;
		} else {
			snprintf(esc, sizeof(esc), "%.*s", (int)n, in);
		}
		if (used + strlen(esc) + 1 > len)
			break;
		memcpy(buf + used, esc, strlen(esc));
		used += strlen(esc);
		in += n;
		rem -= n;
	}
	if (len)
		buf[used] = '\0';
	return buf;
}

const char *cli_ago(uint64_t t_ns, uint64_t now_ns, char *buf, size_t len)
{
	static const struct {
		const char *name;
		uint64_t seconds;
	} units[] = {
		{ "year", 365 * 24 * 3600ULL },
		{ "day", 24 * 3600 },
		{ "hour", 3600 },
		{ "minute", 60 },
		{ "second", 1 },
	};
	bool future = t_ns > now_ns;
	uint64_t left = (future ? t_ns - now_ns : now_ns - t_ns) / 1000000000;
	bool first = true;
	size_t used = 0, i;

	if (!left)
		return "just now";
	used += snprintf(buf, len, "%s", future ? "in " : "");
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		uint64_t n = left / units[i].seconds;

		if (!n)
			continue;
		left -= n * units[i].seconds;
		used += snprintf(buf + used, used < len ? len - used : 0,
				 "%s%" PRIu64 " %s%s", first ? "" : ", ",
				 n, units[i].name, n == 1 ? "" : "s");
		first = false;
	}
	if (!future)
		snprintf(buf + used, used < len ? len - used : 0, " ago");
	return buf;
}

const char *cli_date(uint64_t t_ns, char *buf, size_t len)
{
	time_t t = t_ns / 1000000000;
	struct tm tm;

	if (!localtime_r(&t, &tm) ||
	    !strftime(buf, len, "%Y-%m-%d %H:%M:%S %Z", &tm))
		snprintf(buf, len, "%" PRIu64 " ns", t_ns);
	return buf;
}

const char *cli_bytes(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = bytes;
	size_t i;

	if (bytes < 1024) {
		snprintf(buf, len, "%" PRIu64 " B", bytes);
		return buf;
	}
	for (i = 0; i < 3 && v >= 1024.0 * 1024.0; i++)
		v /= 1024.0;
	snprintf(buf, len, "%.2f %s", v / 1024.0, units[i]);
	return buf;
}

uint64_t cli_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void print_time(const char *key, uint64_t t_ns, uint64_t now_ns)
{
	char date[64], ago[128];

	if (!t_ns) {
		printf("  %s: never\n", key);
		return;
	}
	printf("  %s: %s (%s)\n", key, cli_date(t_ns, date, sizeof(date)),
	       cli_ago(t_ns, now_ns, ago, sizeof(ago)));
}

static const char *plural(uint64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

void cli_sock_print(const struct cli_sock *s, uint64_t now_ns)
{
	char buf[4 * KTLS_ATTEST_REASON_TEXT_MAX + 1], b2[32];
	const char *meaning;

	printf("cookie: %" PRIu64 "\n", s->cookie);
	if (CLI_SOCK_HAS(s, A(STATE)))
		printf("  state: %s\n",
		       cli_name_or_number(ktls_attest_state_names, s->state,
					  buf, sizeof(buf)));
	if (CLI_SOCK_HAS(s, A(ROUND))) {
		if (s->round)
			printf("  round: %u\n", s->round);
		else
			printf("  round: none yet\n");
	}
	if (CLI_SOCK_HAS(s, A(ROLE)))
		printf("  role: %s\n", cli_flags(ktls_attest_role_names,
						 s->role, buf, sizeof(buf)));
	printf("  local: %s\n", cli_sock_endpoint(s, true, buf, sizeof(buf)));
	printf("  peer: %s\n", cli_sock_endpoint(s, false, buf, sizeof(buf)));
	if (CLI_SOCK_HAS(s, A(REASON))) {
		meaning = cli_reason_meaning(s->reason);
		printf("  reason: %s%s%s%s\n",
		       cli_name_or_number(ktls_attest_reason_names, s->reason,
					  buf, sizeof(buf)),
		       meaning ? " (" : "", meaning ? meaning : "",
		       meaning ? ")" : "");
	}
	if (CLI_SOCK_HAS(s, A(REASON_TEXT)) && s->reason_text[0])
		printf("  verdict text: \"%s\"\n",
		       cli_escape(s->reason_text, buf, sizeof(buf)));
	if (CLI_SOCK_HAS(s, A(ARMED_TIME)))
		print_time("armed", s->armed_time, now_ns);
	if (CLI_SOCK_HAS(s, A(PASS_TIME)))
		print_time("last pass", s->pass_time, now_ns);
	if (CLI_SOCK_HAS(s, A(TIMEOUT_MS)))
		printf("  round timeout: %u ms\n", s->timeout_ms);
	if (CLI_SOCK_HAS(s, A(POLICY_FLAGS)))
		printf("  policy: %s\n",
		       cli_flags(ktls_attest_policy_flags_names,
				 s->policy_flags, buf, sizeof(buf)));
	if (CLI_SOCK_HAS(s, A(TX_HELD)) && CLI_SOCK_HAS(s, A(RX_HELD)))
		printf("  held: %" PRIu64 " %s, %" PRIu64 " %s\n",
		       s->tx_held, plural(s->tx_held, "send", "sends"),
		       s->rx_held, plural(s->rx_held, "receive", "receives"));
	if (CLI_SOCK_HAS(s, A(TX_BYTES)) && CLI_SOCK_HAS(s, A(RX_BYTES)))
		printf("  transfer: %s received, %s sent\n",
		       cli_bytes(s->rx_bytes, buf, sizeof(buf)),
		       cli_bytes(s->tx_bytes, b2, sizeof(b2)));
}

/* --- JSON ------------------------------------------------------------------ */

/* Counters and times fit a json_int_t (long long) for centuries. */
static json_t *json_u64(uint64_t v)
{
	return v <= INT64_MAX ? json_integer((json_int_t)v) : json_real(v);
}

static json_t *json_enum(const struct ktls_attest_name *names, uint32_t v)
{
	const char *name = cli_name(names, v);

	return name ? json_string(name) : json_integer(v);
}

static json_t *json_flags(const struct ktls_attest_name *names, uint32_t v)
{
	json_t *a = json_array();
	uint32_t bit;

	if (!a)
		return NULL;
	for (; names->name; names++) {
		if (!(v & names->value))
			continue;
		v &= ~names->value;
		if (json_array_append_new(a, json_string(names->name)))
			goto err;
	}
	for (bit = 1; v; bit <<= 1) {
		if (!(v & bit))
			continue;
		v &= ~bit;
		if (json_array_append_new(a, json_integer(bit)))
			goto err;
	}
	return a;

err:
	json_decref(a);
	return NULL;
}

json_t *cli_json_text(const char *text)
{
	char buf[4 * KTLS_ATTEST_REASON_TEXT_MAX + 1];
	json_t *j = json_string(text);
	size_t i, used = 0;

	if (j)
		return j;
	/* not UTF-8: bytes outside ASCII as \xHH, the rest as it is */
	for (i = 0; text[i] && used + 5 <= sizeof(buf); i++) {
		if ((unsigned char)text[i] < 0x80)
			buf[used++] = text[i];
		else
			used += snprintf(buf + used, sizeof(buf) - used,
					 "\\x%02x", (unsigned char)text[i]);
	}
	buf[used] = '\0';
	return json_string(buf);
}

static json_t *json_addr(const struct cli_sock *s, bool local)
{
	char buf[INET6_ADDRSTRLEN];
	const char *text = addr_text(s, local, buf, sizeof(buf));

	return text ? json_string(text) : json_null();
}

json_t *cli_sock_json(const struct cli_sock *s)
{
	json_t *o = json_object();
	int err = 0;

	if (!o)
		return NULL;
#define PUT(attr, key, value)						\
	do {								\
		if (CLI_SOCK_HAS(s, A(attr)))				\
			err |= json_object_set_new(o, key, value);	\
	} while (0)
	PUT(COOKIE, "cookie", json_u64(s->cookie));
	PUT(ROLE, "role", json_flags(ktls_attest_role_names, s->role));
	PUT(STATE, "state", json_enum(ktls_attest_state_names, s->state));
	PUT(REASON, "reason", json_enum(ktls_attest_reason_names, s->reason));
	PUT(REASON_TEXT, "reason_text", cli_json_text(s->reason_text));
	PUT(TIMEOUT_MS, "timeout_ms", json_integer(s->timeout_ms));
	PUT(POLICY_FLAGS, "policy_flags",
	    json_flags(ktls_attest_policy_flags_names, s->policy_flags));
	PUT(ROUND, "round", json_integer(s->round));
	PUT(FAMILY, "family",
	    s->family == AF_INET ? json_string("inet") :
	    s->family == AF_INET6 ? json_string("inet6") :
	    json_integer(s->family));
	PUT(SADDR, "saddr", json_addr(s, true));
	PUT(DADDR, "daddr", json_addr(s, false));
	PUT(SPORT, "sport", json_integer(s->sport));
	PUT(DPORT, "dport", json_integer(s->dport));
	PUT(ARMED_TIME, "armed_time", json_u64(s->armed_time));
	PUT(PASS_TIME, "pass_time", json_u64(s->pass_time));
	PUT(TX_BYTES, "tx_bytes", json_u64(s->tx_bytes));
	PUT(RX_BYTES, "rx_bytes", json_u64(s->rx_bytes));
	PUT(TX_HELD, "tx_held", json_u64(s->tx_held));
	PUT(RX_HELD, "rx_held", json_u64(s->rx_held));
#undef PUT
	if (err) {
		json_decref(o);
		return NULL;
	}
	return o;
}
