/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ktls-attest, the operator's tool: what the subcommands share.
 *
 * Each subcommand is one *_main(argc, argv), called with argv[0] its own
 * name and the words after it; it returns the exit status (log.h).
 */
#ifndef KTLS_ATTEST_CLI_H
#define KTLS_ATTEST_CLI_H

#include <stdbool.h>

#include <jansson.h>

#include "log.h"
#include "nl.h"

/* The options before the subcommand. */
struct cli_options {
	bool json;		/* -j: JSON instead of text */
	bool pretty;		/* -p: JSON indented */
};

extern struct cli_options cli_opts;

int show_main(int argc, char **argv);
int monitor_main(int argc, char **argv);
int pass_main(int argc, char **argv);
int fail_main(int argc, char **argv);
int revoke_main(int argc, char **argv);
int reattest_main(int argc, char **argv);

/*
 * Opens the netlink family, or says why not (the module not loaded, ...):
 * NULL then.
 */
struct cli_nl *cli_open_family(void);
/*
 * Prints @j (a reference taken) on stdout, as -p asks, and a newline;
 * flushed.  0, or -1 after saying why not.
 */
int cli_print_json(json_t *j);
/*
 * "KERNEL MESSAGE" (the extack of the last request) if the kernel sent
 * one, else strerror(-err).
 */
const char *cli_kernel_says(const struct cli_nl *nl, int err);

#endif /* KTLS_ATTEST_CLI_H */
