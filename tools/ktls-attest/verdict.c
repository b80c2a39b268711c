// SPDX-License-Identifier: GPL-2.0
/*
 * The operator's verdicts and re-attestation:
 *
 *	ktls-attest pass COOKIE [round ROUND] [TEXT]
 *	ktls-attest fail COOKIE [round ROUND] [TEXT]
 *	ktls-attest revoke COOKIE [TEXT]
 *	ktls-attest reattest COOKIE
 *
 * pass and fail are for the round under way: without "round", the tool
 * asks the kernel which one that is.  A verdict that finds no round under
 * way any more (another verdict, a deadline, a new round, the socket
 * closed) came too late; the tool says so, with the kernel's message and
 * the socket's state now, and exits 1.  Nothing is printed on success.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "filter.h"
#include "ktls-attest.h"

struct verdict_cmd {
	const char *name;
	uint32_t verdict;	/* enum ktls_attest_verdict */
	const char *usage;
};

static const struct verdict_cmd pass_cmd = {
	"pass", KTLS_ATTEST_VERDICT_PASS, "pass COOKIE [round ROUND] [TEXT]",
};
static const struct verdict_cmd fail_cmd = {
	"fail", KTLS_ATTEST_VERDICT_FAIL, "fail COOKIE [round ROUND] [TEXT]",
};
static const struct verdict_cmd revoke_cmd = {
	"revoke", KTLS_ATTEST_VERDICT_REVOKE, "revoke COOKIE [TEXT]",
};

#define REATTEST_USAGE	"reattest COOKIE"

static bool in_round(uint32_t state)
{
	return state == KTLS_ATTEST_STATE_PENDING ||
	       state == KTLS_ATTEST_STATE_REATTESTING;
}

/* COOKIE [round ROUND] [TEXT]; 0 or KATT_EXIT_USAGE. */
static int parse_args(const struct verdict_cmd *cmd, int argc, char **argv,
		      uint64_t *cookie, uint32_t *round, const char **text)
{
	uint64_t v;
	int i = 1;

	if (i >= argc)
		return log_usage(cmd->usage, "%s: which socket? (its COOKIE, as show lists it)",
				 cmd->name);
	if (cli_parse_cookie(argv[i], cookie))
		return log_usage(cmd->usage, "%s: \"%s\" is not a socket cookie (a number from 1)",
				 cmd->name, argv[i]);
	i++;
	if (cmd->verdict != KTLS_ATTEST_VERDICT_REVOKE && i < argc &&
	    !strcmp(argv[i], "round")) {
		if (i + 1 >= argc)
			return log_usage(cmd->usage, "%s: round: needs a value",
					 cmd->name);
		if (cli_parse_uint(argv[i + 1], 1, UINT32_MAX, &v))
			return log_usage(cmd->usage, "%s: round: \"%s\" is not a round number (from 1)",
					 cmd->name, argv[i + 1]);
		*round = v;
		i += 2;
	}
	if (i < argc)
		*text = argv[i++];
	if (i < argc)
		return log_usage(cmd->usage, "%s: unexpected \"%s\" (quote a TEXT of several words)",
				 cmd->name, argv[i]);
	if (*text && strlen(*text) > KTLS_ATTEST_REASON_TEXT_MAX - 1)
		return log_usage(cmd->usage, "%s: TEXT is %zu bytes long, more than %d",
				 cmd->name, strlen(*text),
				 KTLS_ATTEST_REASON_TEXT_MAX - 1);
	return 0;
}

/*
 * What the socket is now, after a refused verdict: ", the socket is now
 * passed (round 2)"; *round_now is its round (0 if it is gone).
 */
static const char *now_state(struct cli_nl *nl, uint64_t cookie,
			     uint32_t *round_now, char *buf, size_t len)
{
	char name[32];
	struct cli_sock s;

	*round_now = 0;
	if (cli_nl_get(nl, cookie, &s)) {
		snprintf(buf, len, ", and the socket is gone");
		return buf;
	}
	*round_now = s.round;
	snprintf(buf, len, ", the socket is now %s (round %u)",
		 cli_name_or_number(ktls_attest_state_names, s.state, name,
				    sizeof(name)), s.round);
	return buf;
}

/* Says why the kernel refused @cmd's verdict (@err), and when too late. */
static void verdict_refused(struct cli_nl *nl, const struct verdict_cmd *cmd,
			    uint64_t cookie, uint32_t round, bool seen,
			    int err)
{
	char kernel[sizeof("(kernel: )") + 256], now[128];
	uint32_t round_now;

	/* the extack goes before the next request replaces it */
	snprintf(kernel, sizeof(kernel), "(kernel: %s)",
		 cli_kernel_says(nl, err));
	switch (err) {
	case -ESTALE:
		now_state(nl, cookie, &round_now, now, sizeof(now));
		if (round_now && round_now < round)
			log_err("%s %" PRIu64 ": round %u has not begun%s %s",
				cmd->name, cookie, round, now, kernel);
		else
			log_err("%s %" PRIu64 ": too late: round %u is over%s %s",
				cmd->name, cookie, round, now, kernel);
		return;
	case -EINVAL:
		log_err("%s %" PRIu64 ": too late: no attestation round is under way any more%s %s",
			cmd->name, cookie,
			now_state(nl, cookie, &round_now, now, sizeof(now)),
			kernel);
		return;
	case -ENOENT:
		if (seen)
			log_err("%s %" PRIu64 ": too late: the socket is gone %s",
				cmd->name, cookie, kernel);
		else
			log_err("%s %" PRIu64 ": no such socket (closed, or never armed) %s",
				cmd->name, cookie, kernel);
		return;
	case -EALREADY:
		log_err("%s %" PRIu64 ": already revoked or failed %s",
			cmd->name, cookie, kernel);
		return;
	case -EKEYREJECTED:
		log_err("%s %" PRIu64 ": not passed: the socket failed closed %s",
			cmd->name, cookie, kernel);
		return;
	case -EPERM:
		log_err("%s %" PRIu64 ": not permitted: verdicts need CAP_NET_ADMIN or the agent's socket %s",
			cmd->name, cookie, kernel);
		return;
	}
	log_err("%s %" PRIu64 ": refused %s", cmd->name, cookie, kernel);
}

/* No round under way when the tool looked: too early or too late. */
static void no_round(const struct verdict_cmd *cmd, const struct cli_sock *s)
{
	char name[32];

	if (s->state == KTLS_ATTEST_STATE_ARMED) {
		log_err("%s %" PRIu64 ": no attestation round yet: the socket has no kTLS key (state armed)",
			cmd->name, s->cookie);
		return;
	}
	log_err("%s %" PRIu64 ": too late: no attestation round is under way, the socket is %s (round %u)",
		cmd->name, s->cookie,
		cli_name_or_number(ktls_attest_state_names, s->state, name,
				   sizeof(name)), s->round);
}

static int verdict_main(const struct verdict_cmd *cmd, int argc,
			char **argv)
{
	struct cli_nl *nl = NULL;
	const char *text = NULL;
	uint32_t round = 0;
	struct cli_sock s;
	uint64_t cookie;
	bool seen = false;
	int ret, err;

	ret = parse_args(cmd, argc, argv, &cookie, &round, &text);
	if (ret)
		return ret;

	ret = KATT_EXIT_FAIL;
	nl = cli_open_family();
	if (!nl)
		goto out;
	if (cmd->verdict != KTLS_ATTEST_VERDICT_REVOKE && !round) {
		err = cli_nl_get(nl, cookie, &s);
		if (err) {
			log_err("%s %" PRIu64 ": %s", cmd->name, cookie,
				cli_kernel_says(nl, err));
			goto out;
		}
		if (!in_round(s.state)) {
			no_round(cmd, &s);
			goto out;
		}
		round = s.round;
		seen = true;
	}
	err = cli_nl_verdict(nl, cookie, round, cmd->verdict, text);
	if (err) {
		verdict_refused(nl, cmd, cookie, round, seen, err);
		goto out;
	}
	ret = KATT_EXIT_OK;

out:
	cli_nl_close(nl);
	return ret;
}

int pass_main(int argc, char **argv)
{
	return verdict_main(&pass_cmd, argc, argv);
}

int fail_main(int argc, char **argv)
{
	return verdict_main(&fail_cmd, argc, argv);
}

int revoke_main(int argc, char **argv)
{
	return verdict_main(&revoke_cmd, argc, argv);
}

int reattest_main(int argc, char **argv)
{
	struct cli_nl *nl = NULL;
	uint64_t cookie;
	int ret, err;

	if (argc < 2)
		return log_usage(REATTEST_USAGE, "reattest: which socket? (its COOKIE, as show lists it)");
	if (cli_parse_cookie(argv[1], &cookie))
		return log_usage(REATTEST_USAGE, "reattest: \"%s\" is not a socket cookie (a number from 1)",
				 argv[1]);
	if (argc > 2)
		return log_usage(REATTEST_USAGE, "reattest: unexpected \"%s\"",
				 argv[2]);

	ret = KATT_EXIT_FAIL;
	nl = cli_open_family();
	if (!nl)
		goto out;
	err = cli_nl_reattest(nl, cookie);
	if (err == -EPERM && !cli_nl_extack(nl)[0]) {
		log_err("reattest %" PRIu64 ": not permitted: re-attestation needs CAP_NET_ADMIN",
			cookie);
		goto out;
	}
	if (err) {
		log_err("reattest %" PRIu64 ": refused (kernel: %s)", cookie,
			cli_kernel_says(nl, err));
		goto out;
	}
	ret = KATT_EXIT_OK;

out:
	cli_nl_close(nl);
	return ret;
}
