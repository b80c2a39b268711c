// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the ktls-attest tool's own code, on the host, built with
 * AddressSanitizer and UBSan (make: build/asan/cli_unit): the parsers of
 * the command line (cookies, numbers, FILTER), the parsing of the
 * kernel's attributes with the policy generated from the specification
 * (real netlink messages built with libnl), and what is written for
 * people and as JSON, escaping included.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include "kselftest_harness.h"

#include "filter.h"
#include "log.h"
#include "sock.h"

#define A(name)		KTLS_ATTEST_A_SOCK_##name
#define USAGE		"test [FILTER]"
#define NS		1000000000ULL

/* --- numbers ---------------------------------------------------------------- */

TEST(cookie)
{
	uint64_t c = 0;

	EXPECT_EQ(0, cli_parse_cookie("1", &c));
	EXPECT_EQ(1, c);
	EXPECT_EQ(0, cli_parse_cookie("4097", &c));
	EXPECT_EQ(4097, c);
	EXPECT_EQ(0, cli_parse_cookie("18446744073709551615", &c));
	EXPECT_EQ(UINT64_MAX, c);
	EXPECT_EQ(0, cli_parse_cookie("007", &c));
	EXPECT_EQ(7, c);

	c = 42;
	EXPECT_EQ(-1, cli_parse_cookie("0", &c));
	EXPECT_EQ(-1, cli_parse_cookie("", &c));
	EXPECT_EQ(-1, cli_parse_cookie("-1", &c));
	EXPECT_EQ(-1, cli_parse_cookie("+1", &c));
	EXPECT_EQ(-1, cli_parse_cookie(" 1", &c));
	EXPECT_EQ(-1, cli_parse_cookie("1 ", &c));
	EXPECT_EQ(-1, cli_parse_cookie("0x10", &c));
	EXPECT_EQ(-1, cli_parse_cookie("1e3", &c));
	EXPECT_EQ(-1, cli_parse_cookie("18446744073709551616", &c));
	EXPECT_EQ(-1, cli_parse_cookie("99999999999999999999999", &c));
	EXPECT_EQ(42, c);
}

TEST(uint_bounds)
{
	uint64_t v;

	EXPECT_EQ(0, cli_parse_uint("0", 0, 65535, &v));
	EXPECT_EQ(0, v);
	EXPECT_EQ(0, cli_parse_uint("65535", 0, 65535, &v));
	EXPECT_EQ(65535, v);
	EXPECT_EQ(-1, cli_parse_uint("65536", 0, 65535, &v));
	EXPECT_EQ(-1, cli_parse_uint("0", 1, 10, &v));
	EXPECT_EQ(0, cli_parse_uint("4294967295", 1, UINT32_MAX, &v));
	EXPECT_EQ(-1, cli_parse_uint("4294967296", 1, UINT32_MAX, &v));
}

/* --- FILTER ---------------------------------------------------------------- */

/* cli_filter_parse() of the words, NULL-terminated. */
static int parse(struct cli_filter *f, unsigned int flags, char **words)
{
	int n = 0;

	while (words[n])
		n++;
	return cli_filter_parse(f, n, words, flags, USAGE);
}

#define WORDS(...)	((char *[]){ __VA_ARGS__, NULL })

TEST(filter_ok)
{
	struct cli_filter f;

	ASSERT_EQ(0, parse(&f, 0, (char *[]){ NULL }));
	EXPECT_FALSE(f.has_cookie);
	EXPECT_EQ(0, f.states);
	EXPECT_EQ(-1, f.sport);
	EXPECT_EQ(-1, f.dport);

	ASSERT_EQ(0, parse(&f, 0, WORDS("cookie", "12", "state", "pending",
					"state", "reattesting", "reason",
					"timeout", "role", "attester", "src",
					"10.0.0.1", "dst", "fe80::1", "sport",
					"443", "dport", "0")));
	EXPECT_TRUE(f.has_cookie);
	EXPECT_EQ(12, f.cookie);
	EXPECT_EQ((1U << KTLS_ATTEST_STATE_PENDING) |
		  (1U << KTLS_ATTEST_STATE_REATTESTING), f.states);
	EXPECT_EQ(1U << KTLS_ATTEST_REASON_TIMEOUT, f.reasons);
	EXPECT_EQ(KTLS_ATTEST_ROLE_ATTESTER, f.roles);
	EXPECT_TRUE(f.src.set);
	EXPECT_EQ(AF_INET, f.src.family);
	EXPECT_EQ(AF_INET6, f.dst.family);
	EXPECT_EQ(443, f.sport);
	EXPECT_EQ(0, f.dport);

	/* the monitor's keywords */
	ASSERT_EQ(0, parse(&f, CLI_FILTER_EVENT,
			   WORDS("cookie", "1", "state", "revoked", "reason",
				 "none")));
	EXPECT_EQ(1U << KTLS_ATTEST_REASON_NONE, f.reasons);
}

TEST(filter_usage_errors)
{
	struct cli_filter f;
	int saved = dup(2), null = open("/dev/null", O_WRONLY);

	/* the messages themselves are the shell test's: here, only statuses */
	ASSERT_GE(null, 0);
	dup2(null, 2);
#define BAD(flags, ...)							\
	EXPECT_EQ(KATT_EXIT_USAGE, parse(&f, flags, WORDS(__VA_ARGS__)))
	BAD(0, "bogus", "1");
	BAD(0, "State", "pending");
	BAD(0, "state");
	BAD(0, "state", "Pending");
	BAD(0, "state", "pend");
	BAD(0, "state", "pending ");
	BAD(0, "state", "pass");
	BAD(0, "reason", "agent");
	BAD(0, "role", "both");
	BAD(0, "role", "relying_party");
	BAD(0, "cookie", "0");
	BAD(0, "cookie", "x");
	BAD(0, "cookie", "1", "cookie", "2");
	BAD(0, "src", "10.0.0.256");
	BAD(0, "src", "10.0.0.1", "src", "10.0.0.2");
	BAD(0, "dst", "localhost");
	BAD(0, "sport", "65536");
	BAD(0, "dport", "-1");
	BAD(0, "sport", "1", "sport", "2");
	BAD(0, "-j");
	BAD(CLI_FILTER_EVENT, "role", "attester");
	BAD(CLI_FILTER_EVENT, "src", "10.0.0.1");
	BAD(CLI_FILTER_EVENT, "sport", "1");
#undef BAD
	dup2(saved, 2);
	close(saved);
	close(null);
}

static void fill_sock(struct cli_sock *s)
{
	memset(s, 0, sizeof(*s));
	s->present = ~0ULL;
	s->cookie = 4097;
	s->role = KTLS_ATTEST_ROLE_RELYING_PARTY;
	s->state = KTLS_ATTEST_STATE_PASSED;
	s->reason = KTLS_ATTEST_REASON_OPERATOR;
	strcpy(s->reason_text, "all good");
	s->timeout_ms = 10000;
	s->policy_flags = KTLS_ATTEST_POLICY_FLAGS_HOLD_REATTEST;
	s->round = 2;
	s->family = AF_INET;
	s->saddr_len = s->daddr_len = 4;
	inet_pton(AF_INET, "10.0.0.1", s->saddr);
	inet_pton(AF_INET, "10.0.0.2", s->daddr);
	s->sport = 443;
	s->dport = 51234;
	s->armed_time = 1700000000 * NS;
	s->pass_time = 1700000080 * NS + 5;
	s->tx_bytes = 1536;
	s->rx_bytes = 3 * 1024 * 1024;
	s->tx_held = 1;
	s->rx_held = 2;
}

TEST(filter_match)
{
	struct cli_filter f;
	struct cli_sock s;

	fill_sock(&s);
#define MATCH(want, ...)						\
	do {								\
		ASSERT_EQ(0, parse(&f, 0, WORDS(__VA_ARGS__)));		\
		EXPECT_EQ(want, cli_filter_match(&f, &s));		\
	} while (0)
	MATCH(true, "cookie", "4097");
	MATCH(false, "cookie", "4098");
	MATCH(true, "state", "passed");
	MATCH(false, "state", "pending");
	MATCH(true, "state", "pending", "state", "passed");
	MATCH(true, "reason", "operator");
	MATCH(false, "reason", "verdict");
	MATCH(true, "role", "relying-party");
	MATCH(false, "role", "attester");
	MATCH(true, "src", "10.0.0.1", "dst", "10.0.0.2");
	MATCH(false, "src", "10.0.0.2");
	MATCH(false, "src", "::ffff:10.0.0.1");
	MATCH(true, "sport", "443", "dport", "51234");
	MATCH(false, "sport", "444");
	MATCH(false, "state", "passed", "sport", "444");

	/* both roles: either keyword matches */
	s.role |= KTLS_ATTEST_ROLE_ATTESTER;
	MATCH(true, "role", "attester");
	MATCH(true, "role", "relying-party");

	/* an IPv6 socket: an IPv4 address matches its mapped form only */
	s.family = AF_INET6;
	s.saddr_len = 16;
	inet_pton(AF_INET6, "::ffff:10.0.0.1", s.saddr);
	MATCH(true, "src", "10.0.0.1");
	MATCH(true, "src", "::ffff:10.0.0.1");
	MATCH(false, "src", "10.0.0.2");
	inet_pton(AF_INET6, "2001:db8::1", s.saddr);
	MATCH(true, "src", "2001:db8::1");
	MATCH(false, "src", "2001:db8::2");
	MATCH(false, "src", "10.0.0.1");

	/* a state this tool does not know matches "any" only */
	s.state = 77;
	MATCH(true, "cookie", "4097");
	MATCH(false, "state", "passed");
#undef MATCH
}

/* --- names -------------------------------------------------------------------- */

TEST(names)
{
	unsigned int v = 0;
	char buf[64];

	EXPECT_STREQ("reattesting", cli_name(ktls_attest_state_names,
					     KTLS_ATTEST_STATE_REATTESTING));
	EXPECT_EQ(NULL, cli_name(ktls_attest_state_names, 0));
	EXPECT_EQ(NULL, cli_name(ktls_attest_state_names, 7));
	EXPECT_STREQ("none", cli_name(ktls_attest_reason_names, 0));
	EXPECT_EQ(0, cli_value(ktls_attest_reason_names, "bypass", &v));
	EXPECT_EQ(KTLS_ATTEST_REASON_BYPASS, v);
	EXPECT_EQ(-1, cli_value(ktls_attest_reason_names, "Bypass", &v));
	EXPECT_EQ(-1, cli_value(ktls_attest_reason_names, "", &v));
	EXPECT_STREQ("unknown (9)",
		     cli_name_or_number(ktls_attest_state_names, 9, buf,
					sizeof(buf)));
	EXPECT_STREQ("none", cli_flags(ktls_attest_role_names, 0, buf,
				       sizeof(buf)));
	EXPECT_STREQ("attester, relying-party",
		     cli_flags(ktls_attest_role_names, 3, buf, sizeof(buf)));
	EXPECT_STREQ("relying-party, 0x8",
		     cli_flags(ktls_attest_role_names, 0xa, buf, sizeof(buf)));
	/* a short buffer truncates, never overflows */
	EXPECT_STREQ("attes", cli_flags(ktls_attest_role_names, 3, buf, 6));
	EXPECT_NE(NULL, cli_reason_meaning(KTLS_ATTEST_REASON_TIMEOUT));
	EXPECT_EQ(NULL, cli_reason_meaning(99));
}

/* --- text for people ---------------------------------------------------------- */

TEST(escape)
{
	char buf[4 * KTLS_ATTEST_REASON_TEXT_MAX + 1], small[8];

	ASSERT_NE(NULL, setlocale(LC_CTYPE, "C.UTF-8"));
	EXPECT_STREQ("plain text", cli_escape("plain text", buf, sizeof(buf)));
	EXPECT_STREQ("h\xc3\xa9llo", cli_escape("h\xc3\xa9llo", buf,
						sizeof(buf)));
	EXPECT_STREQ("\\x1b[2J", cli_escape("\033[2J", buf, sizeof(buf)));
	EXPECT_STREQ("a\\x0ab\\x09c", cli_escape("a\nb\tc", buf, sizeof(buf)));
	EXPECT_STREQ("say \\\"hi\\\" \\\\", cli_escape("say \"hi\" \\", buf,
						       sizeof(buf)));
	/* not UTF-8; a C1 control (CSI); DEL */
	EXPECT_STREQ("\\xff\\xc3(", cli_escape("\xff\xc3(", buf, sizeof(buf)));
	EXPECT_STREQ("\\xc2\\x9b", cli_escape("\xc2\x9b", buf, sizeof(buf)));
	EXPECT_STREQ("\\x7f", cli_escape("\x7f", buf, sizeof(buf)));
	/* the worst case fits the buffer the tool uses */
	{
		char in[KTLS_ATTEST_REASON_TEXT_MAX];

		memset(in, 0x01, sizeof(in) - 1);
		in[sizeof(in) - 1] = '\0';
		EXPECT_EQ(4 * (sizeof(in) - 1),
			  strlen(cli_escape(in, buf, sizeof(buf))));
	}
	/* and a short one truncates whole escapes */
	EXPECT_STREQ("ab\\x01", cli_escape("ab\001\001", small, sizeof(small)));
	EXPECT_STREQ("a\\x01", cli_escape("a\001\001", small, 7));
	EXPECT_STREQ("abcdefg", cli_escape("abcdefgh", small, sizeof(small)));
	setlocale(LC_CTYPE, "C");
	EXPECT_STREQ("h\\xc3\\xa9llo", cli_escape("h\xc3\xa9llo", buf,
						  sizeof(buf)));
}

TEST(ago)
{
	uint64_t now = 1700000000 * NS;
	char buf[128];

	EXPECT_STREQ("just now", cli_ago(now, now, buf, sizeof(buf)));
	EXPECT_STREQ("just now", cli_ago(now - NS + 1, now, buf, sizeof(buf)));
	EXPECT_STREQ("1 second ago", cli_ago(now - NS, now, buf, sizeof(buf)));
	EXPECT_STREQ("1 minute, 1 second ago",
		     cli_ago(now - 61 * NS, now, buf, sizeof(buf)));
	EXPECT_STREQ("2 days, 5 seconds ago",
		     cli_ago(now - (2 * 86400 + 5) * NS, now, buf,
			     sizeof(buf)));
	EXPECT_STREQ("1 year, 1 day, 1 hour, 1 minute, 1 second ago",
		     cli_ago(now - (365 * 86400ULL + 86400 + 3661) * NS, now,
			     buf, sizeof(buf)));
	EXPECT_STREQ("in 5 seconds", cli_ago(now + 5 * NS, now, buf,
					     sizeof(buf)));
	EXPECT_STREQ("in 2 hours", cli_ago(now + 7200 * NS, now, buf,
					   sizeof(buf)));
	/* a short buffer truncates */
	EXPECT_STREQ("1 min", cli_ago(now - 61 * NS, now, buf, 6));
}

TEST(bytes)
{
	char buf[32];

	EXPECT_STREQ("0 B", cli_bytes(0, buf, sizeof(buf)));
	EXPECT_STREQ("1023 B", cli_bytes(1023, buf, sizeof(buf)));
	EXPECT_STREQ("1.00 KiB", cli_bytes(1024, buf, sizeof(buf)));
	EXPECT_STREQ("1.50 KiB", cli_bytes(1536, buf, sizeof(buf)));
	EXPECT_STREQ("1024.00 KiB", cli_bytes(1024 * 1024 - 1, buf,
					      sizeof(buf)));
	EXPECT_STREQ("2.00 MiB", cli_bytes(2 << 20, buf, sizeof(buf)));
	EXPECT_STREQ("3.00 GiB", cli_bytes(3ULL << 30, buf, sizeof(buf)));
	EXPECT_STREQ("5.00 TiB", cli_bytes(5ULL << 40, buf, sizeof(buf)));
	EXPECT_STREQ("16777216.00 TiB", cli_bytes(UINT64_MAX, buf,
						  sizeof(buf)));
}

TEST(endpoint)
{
	struct cli_sock s;
	char buf[64];

	fill_sock(&s);
	EXPECT_STREQ("10.0.0.1:443", cli_sock_endpoint(&s, true, buf,
						       sizeof(buf)));
	EXPECT_STREQ("10.0.0.2:51234", cli_sock_endpoint(&s, false, buf,
							 sizeof(buf)));
	s.family = AF_INET6;
	s.daddr_len = 16;
	inet_pton(AF_INET6, "2001:db8::2", s.daddr);
	EXPECT_STREQ("[2001:db8::2]:51234",
		     cli_sock_endpoint(&s, false, buf, sizeof(buf)));
	/* a length that does not go with the family, a missing port */
	EXPECT_STREQ("?", cli_sock_endpoint(&s, true, buf, sizeof(buf)));
	s.present &= ~(1ULL << A(DPORT));
	EXPECT_STREQ("?", cli_sock_endpoint(&s, false, buf, sizeof(buf)));
}

/* What cli_sock_print() writes, in @buf. */
static void print_to(const struct cli_sock *s, uint64_t now, char *buf,
		     size_t len)
{
	FILE *f = tmpfile();
	int saved = dup(1);
	size_t n;

	fflush(stdout);
	dup2(fileno(f), 1);
	cli_sock_print(s, now);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	rewind(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

TEST(print)
{
	char out[4096];
	struct cli_sock s;

	setenv("TZ", "UTC", 1);
	tzset();
	ASSERT_NE(NULL, setlocale(LC_CTYPE, "C.UTF-8"));
	fill_sock(&s);
	strcpy(s.reason_text, "ok \"x\"\n");
	print_to(&s, 1700000090 * NS + 5, out, sizeof(out));
	EXPECT_STREQ("cookie: 4097\n"
		     "  state: passed\n"
		     "  round: 2\n"
		     "  role: relying-party\n"
		     "  local: 10.0.0.1:443\n"
		     "  peer: 10.0.0.2:51234\n"
		     "  reason: operator (an administrator's verdict)\n"
		     "  verdict text: \"ok \\\"x\\\"\\x0a\"\n"
		     "  armed: 2023-11-14 22:13:20 UTC (1 minute, 30 seconds ago)\n"
		     "  last pass: 2023-11-14 22:14:40 UTC (10 seconds ago)\n"
		     "  round timeout: 10000 ms\n"
		     "  policy: hold-reattest\n"
		     "  held: 1 send, 2 receives\n"
		     "  transfer: 3.00 MiB received, 1.50 KiB sent\n", out);

	/* armed, never passed, a state and reason from a newer module */
	s.state = 42;
	s.reason = 43;
	s.round = 0;
	s.pass_time = 0;
	s.reason_text[0] = '\0';
	s.policy_flags = 0;
	s.role = 0x10;
	s.present &= ~(1ULL << A(SADDR));
	print_to(&s, 1700000090 * NS + 5, out, sizeof(out));
	EXPECT_NE(NULL, strstr(out, "  state: unknown (42)\n"));
	EXPECT_NE(NULL, strstr(out, "  reason: unknown (43)\n"));
	EXPECT_NE(NULL, strstr(out, "  round: none yet\n"));
	EXPECT_NE(NULL, strstr(out, "  last pass: never\n"));
	EXPECT_NE(NULL, strstr(out, "  policy: none\n"));
	EXPECT_NE(NULL, strstr(out, "  role: 0x10\n"));
	EXPECT_NE(NULL, strstr(out, "  local: ?\n"));
	EXPECT_EQ(NULL, strstr(out, "verdict text"));

	/* only what came is printed */
	s.present = 1ULL << A(COOKIE);
	print_to(&s, 1700000090 * NS + 5, out, sizeof(out));
	EXPECT_STREQ("cookie: 4097\n  local: ?\n  peer: ?\n", out);
}

/* --- JSON ----------------------------------------------------------------------- */

TEST(json_all_fields)
{
	static const char *const keys[] = {
		"cookie", "role", "state", "reason", "reason_text",
		"timeout_ms", "policy_flags", "round", "family", "saddr",
		"daddr", "sport", "dport", "armed_time", "pass_time",
		"tx_bytes", "rx_bytes", "tx_held", "rx_held",
	};
	struct cli_sock s;
	json_t *o;
	char *text;
	size_t i;

	fill_sock(&s);
	o = cli_sock_json(&s);
	ASSERT_NE(NULL, o);
	EXPECT_EQ(sizeof(keys) / sizeof(keys[0]), json_object_size(o));
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		EXPECT_STREQ(keys[i], json_object_get(o, keys[i]) ? keys[i] :
			     "(missing)");
	text = json_dumps(o, JSON_COMPACT);
	ASSERT_NE(NULL, text);
	EXPECT_STREQ("{\"cookie\":4097,\"role\":[\"relying-party\"],"
		     "\"state\":\"passed\",\"reason\":\"operator\","
		     "\"reason_text\":\"all good\",\"timeout_ms\":10000,"
		     "\"policy_flags\":[\"hold-reattest\"],\"round\":2,"
		     "\"family\":\"inet\",\"saddr\":\"10.0.0.1\","
		     "\"daddr\":\"10.0.0.2\",\"sport\":443,\"dport\":51234,"
		     "\"armed_time\":1700000000000000000,"
		     "\"pass_time\":1700000080000000005,\"tx_bytes\":1536,"
		     "\"rx_bytes\":3145728,\"tx_held\":1,\"rx_held\":2}", text);
	free(text);
	json_decref(o);
}

TEST(json_unknown_and_absent)
{
	struct cli_sock s;
	json_t *o, *role;

	fill_sock(&s);
	s.state = 42;
	s.reason = 43;
	s.role = KTLS_ATTEST_ROLE_ATTESTER | 0x8 | 0x20;
	s.policy_flags = 0;
	s.family = 99;
	s.present &= ~((1ULL << A(DADDR)) | (1ULL << A(TX_HELD)));
	/* not UTF-8: written escaped, still a JSON string */
	strcpy(s.reason_text, "bad \xff\xfe byte");
	o = cli_sock_json(&s);
	ASSERT_NE(NULL, o);
	EXPECT_EQ(42, json_integer_value(json_object_get(o, "state")));
	EXPECT_EQ(43, json_integer_value(json_object_get(o, "reason")));
	role = json_object_get(o, "role");
	ASSERT_EQ(3, json_array_size(role));
	EXPECT_STREQ("attester", json_string_value(json_array_get(role, 0)));
	EXPECT_EQ(8, json_integer_value(json_array_get(role, 1)));
	EXPECT_EQ(32, json_integer_value(json_array_get(role, 2)));
	EXPECT_EQ(0, json_array_size(json_object_get(o, "policy_flags")));
	EXPECT_EQ(99, json_integer_value(json_object_get(o, "family")));
	/* an unknown family: the address by its length */
	EXPECT_STREQ("10.0.0.1", json_string_value(json_object_get(o,
								   "saddr")));
	EXPECT_EQ(NULL, json_object_get(o, "daddr"));
	EXPECT_EQ(NULL, json_object_get(o, "tx_held"));
	EXPECT_STREQ("bad \\xff\\xfe byte",
		     json_string_value(json_object_get(o, "reason_text")));
	json_decref(o);

	/* UTF-8 and control characters stay as they are: jansson escapes */
	o = cli_json_text("h\xc3\xa9 \n\033");
	ASSERT_NE(NULL, o);
	EXPECT_STREQ("h\xc3\xa9 \n\033", json_string_value(o));
	json_decref(o);
}

/* --- the kernel's attributes, through the generated policy ----------------- */

/* A sock-get reply built with libnl, parsed as nl.c parses one. */
static int parse_msg(struct nl_msg *msg, struct cli_sock *s)
{
	struct nlattr *tb[KTLS_ATTEST_A_SOCK_MAX + 1];
	int ret;

	ret = genlmsg_parse(nlmsg_hdr(msg), 0, tb, KTLS_ATTEST_A_SOCK_MAX,
			    ktls_attest_sock_policy);
	if (ret < 0)
		return ret;
	return cli_sock_from_attrs(s, tb);
}

static struct nl_msg *new_msg(void)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (msg && !genlmsg_put(msg, 0, 0, 0x20, 0, 0,
				KTLS_ATTEST_CMD_SOCK_GET, 1)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

TEST(attrs)
{
	uint8_t a4[4] = { 192, 0, 2, 1 }, a16[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	struct nl_msg *msg = new_msg();
	struct cli_sock s;

	ASSERT_NE(NULL, msg);
	ASSERT_EQ(0, nla_put_u64(msg, A(COOKIE), 77));
	ASSERT_EQ(0, nla_put_u32(msg, A(ROLE), 3));
	ASSERT_EQ(0, nla_put_u32(msg, A(STATE), KTLS_ATTEST_STATE_FAILED));
	ASSERT_EQ(0, nla_put_u32(msg, A(REASON), KTLS_ATTEST_REASON_BYPASS));
	ASSERT_EQ(0, nla_put_string(msg, A(REASON_TEXT), "why"));
	ASSERT_EQ(0, nla_put_u32(msg, A(ROUND), 1));
	ASSERT_EQ(0, nla_put_u16(msg, A(FAMILY), AF_INET6));
	ASSERT_EQ(0, nla_put(msg, A(SADDR), 16, a16));
	ASSERT_EQ(0, nla_put(msg, A(DADDR), 16, a16));
	ASSERT_EQ(0, nla_put_u16(msg, A(SPORT), htons(8443)));
	ASSERT_EQ(0, nla_put_u16(msg, A(DPORT), htons(1)));
	ASSERT_EQ(0, nla_put_u64(msg, A(TX_BYTES), 1ULL << 40));
	/* an attribute this tool does not know yet is left alone */
	ASSERT_EQ(0, nla_put_u32(msg, KTLS_ATTEST_A_SOCK_MAX + 5, 1));
	ASSERT_EQ(0, parse_msg(msg, &s));
	EXPECT_EQ(77, s.cookie);
	EXPECT_EQ(3, s.role);
	EXPECT_EQ(KTLS_ATTEST_STATE_FAILED, s.state);
	EXPECT_EQ(KTLS_ATTEST_REASON_BYPASS, s.reason);
	EXPECT_STREQ("why", s.reason_text);
	EXPECT_EQ(8443, s.sport);
	EXPECT_EQ(1, s.dport);
	EXPECT_EQ(16, s.saddr_len);
	EXPECT_EQ(1ULL << 40, s.tx_bytes);
	EXPECT_TRUE(CLI_SOCK_HAS(&s, A(TX_BYTES)));
	EXPECT_FALSE(CLI_SOCK_HAS(&s, A(RX_BYTES)));
	EXPECT_FALSE(CLI_SOCK_HAS(&s, A(TIMEOUT_MS)));
	nlmsg_free(msg);

	msg = new_msg();
	ASSERT_NE(NULL, msg);
	ASSERT_EQ(0, nla_put(msg, A(SADDR), 4, a4));
	ASSERT_EQ(0, parse_msg(msg, &s));
	EXPECT_EQ(4, s.saddr_len);
	EXPECT_EQ(0, memcmp(a4, s.saddr, 4));
	nlmsg_free(msg);
}

/* One malformed attribute: the whole message is refused. */
static int parse_one_bad(int attr, const void *data, int len)
{
	struct nl_msg *msg = new_msg();
	struct cli_sock s;
	int ret;

	if (!msg)
		return 0;
	if (nla_put_u64(msg, A(COOKIE), 1) || nla_put(msg, attr, len, data)) {
		nlmsg_free(msg);
		return 0;
	}
	ret = parse_msg(msg, &s);
	nlmsg_free(msg);
	return ret;
}

TEST(attrs_malformed)
{
	uint8_t b[32] = { 0 };

	EXPECT_GT(0, parse_one_bad(A(STATE), b, 8));		/* u32, 8 bytes */
	EXPECT_GT(0, parse_one_bad(A(STATE), b, 2));
	EXPECT_GT(0, parse_one_bad(A(COOKIE), b, 4));		/* u64, 4 bytes */
	EXPECT_GT(0, parse_one_bad(A(SPORT), b, 4));		/* u16, 4 bytes */
	EXPECT_GT(0, parse_one_bad(A(SADDR), b, 3));
	EXPECT_GT(0, parse_one_bad(A(SADDR), b, 17));
	EXPECT_GT(0, parse_one_bad(A(DADDR), b, 5));		/* 4..16, not 4 or 16 */
	EXPECT_GT(0, parse_one_bad(A(REASON_TEXT), "abc", 3));	/* no NUL */
	{
		char long_text[200];

		memset(long_text, 'x', sizeof(long_text));
		long_text[sizeof(long_text) - 1] = '\0';
		EXPECT_GT(0, parse_one_bad(A(REASON_TEXT), long_text,
					   sizeof(long_text)));
	}
	EXPECT_EQ(0, parse_one_bad(A(REASON_TEXT), "", 1));
	EXPECT_EQ(0, parse_one_bad(A(SADDR), b, 16));
}

TEST_HARNESS_MAIN
