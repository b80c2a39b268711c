// SPDX-License-Identifier: GPL-2.0
/*
 * ktls-attest: the operator's tool for attestation-gated kTLS sockets.
 *
 *	ktls-attest [-j] [-p] [COMMAND [ARGUMENTS]]
 *
 * A table of subcommands, one *_main() each; no command means "show".
 * Commands and keywords are matched exactly.  Exit status 0 on success,
 * 1 when something failed, 2 for a usage error (log.h).
 * Documentation/man/ktls-attest.8 is the manual.
 */
#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "ktls-attest.h"

#define MAIN_USAGE	"[-j] [-p] [COMMAND [ARGUMENTS]] (try: " KATT_PROG " help)"

struct cli_options cli_opts;

static int help_main(int argc, char **argv);

static const struct subcommand {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *args;
	const char *what;
} subcommands[] = {
	{ "show", show_main, "[FILTER]",
	  "list the armed sockets of this namespace" },
	{ "monitor", monitor_main, "[FILTER]",
	  "print state changes as they happen" },
	{ "pass", pass_main, "COOKIE [round ROUND] [TEXT]",
	  "pass the round under way" },
	{ "fail", fail_main, "COOKIE [round ROUND] [TEXT]",
	  "fail the round under way" },
	{ "revoke", revoke_main, "COOKIE [TEXT]",
	  "revoke the socket, whatever its state" },
	{ "reattest", reattest_main, "COOKIE",
	  "start a new round on a passed socket" },
	{ "help", help_main, "", "print this help" },
};

#define N_SUBCOMMANDS	(sizeof(subcommands) / sizeof(subcommands[0]))

static void print_names(const char *what, const struct ktls_attest_name *n)
{
	printf("  %s:", what);
	for (; n->name; n++)
		printf(" %s%s", n->name, n[1].name ? "," : "");
	putchar('\n');
}

static int help_main(int argc, char **argv)
{
	size_t i;

	if (argc > 1)
		return log_usage("help", "help: takes no arguments");
	(void)argv;
	printf("usage: %s [-j] [-p] [COMMAND [ARGUMENTS]]\n\n", KATT_PROG);
	printf("Commands (none: show):\n");
	for (i = 0; i < N_SUBCOMMANDS; i++) {
		const struct subcommand *c = &subcommands[i];
		int w = (int)(strlen(c->name) + strlen(c->args) + 1);

		printf("  %s %s%*s%s\n", c->name, c->args, w < 34 ? 34 - w : 1,
		       "", c->what);
	}
	printf("\nFILTER: keywords that must all match (state, reason and role may\n"
	       "repeat, then any of their values matches); monitor takes cookie,\n"
	       "state and reason:\n"
	       "  cookie COOKIE  state STATE  reason REASON  role ROLE\n"
	       "  src ADDR  dst ADDR  sport PORT  dport PORT\n");
	print_names("STATE", ktls_attest_state_names);
	print_names("REASON", ktls_attest_reason_names);
	print_names("ROLE", ktls_attest_role_names);
	printf("\nCOOKIE is the socket's cookie (SO_COOKIE), as show lists it.\n"
	       "pass and fail find the round under way themselves; \"round ROUND\"\n"
	       "gives the verdict only if that round is still under way.  A failed\n"
	       "first round leaves the socket failed, a later one revoked.  monitor\n"
	       "runs until SIGINT or SIGTERM.  TEXT (at most %d bytes) is kept\n"
	       "with the verdict, for people.\n",
	       KTLS_ATTEST_REASON_TEXT_MAX - 1);
	printf("\nOptions:\n"
	       "  -j, --json    JSON: show prints an array, monitor one object a line\n"
	       "  -p, --pretty  indented JSON\n"
	       "  -h, --help    print this help\n"
	       "\nExit status: 0 success, 1 failure, 2 usage error.\n");
	return KATT_EXIT_OK;
}

struct cli_nl *cli_open_family(void)
{
	struct cli_nl *nl;
	int err = cli_nl_open(&nl);

	if (!err)
		return nl;
	if (err == -ENOENT)
		log_err("the kernel has no \"%s\" netlink family: is the module ktls_attest loaded?",
			KTLS_ATTEST_FAMILY_NAME);
	else
		log_err("cannot open the \"%s\" netlink family: %s",
			KTLS_ATTEST_FAMILY_NAME, strerror(-err));
	return NULL;
}

int cli_print_json(json_t *j)
{
	size_t flags = cli_opts.pretty ? JSON_INDENT(2) : JSON_COMPACT;

	if (json_dumpf(j, stdout, flags) || putchar('\n') == EOF ||
	    fflush(stdout)) {
		log_err("cannot write the output: %s", strerror(errno));
		return -1;
	}
	return 0;
}

const char *cli_kernel_says(const struct cli_nl *nl, int err)
{
	if (cli_nl_extack(nl)[0])
		return cli_nl_extack(nl);
	if (err == -EPROTO)
		return "the kernel sent a message this tool cannot read";
	return strerror(-err);
}

int main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "pretty", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static char *show_argv[] = { "show", NULL };
	int c, ret;
	size_t i;

	setlocale(LC_CTYPE, "");
	setlocale(LC_TIME, "");
	opterr = 0;
	/* "+": options end at the command; its arguments are its own */
	while ((c = getopt_long(argc, argv, "+jph", long_opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			cli_opts.json = true;
			break;
		case 'p':
			cli_opts.json = cli_opts.pretty = true;
			break;
		case 'h':
			return help_main(1, argv);
		default:
			if (optopt)
				return log_usage(MAIN_USAGE,
						 "unknown option \"-%c\"",
						 optopt);
			return log_usage(MAIN_USAGE, "unknown option \"%s\"",
					 argv[optind - 1]);
		}
	}
	argc -= optind;
	argv += optind;

	if (!argc) {
		ret = show_main(1, show_argv);
		goto out;
	}
	for (i = 0; i < N_SUBCOMMANDS; i++)
		if (!strcmp(argv[0], subcommands[i].name))
			break;
	if (i == N_SUBCOMMANDS)
		return log_usage(MAIN_USAGE, "unknown command \"%s\"", argv[0]);
	ret = subcommands[i].main(argc, argv);

out:
	/* what stdout could not write is a failure too */
	if (fflush(stdout) || ferror(stdout)) {
		log_err("cannot write the output: %s", strerror(errno));
		return KATT_EXIT_FAIL;
	}
	return ret;
}
