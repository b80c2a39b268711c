/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The "ktls_attest" generic netlink family, as the command-line tool uses
 * it (libnl-genl-3).  Every call returns 0 on success or a negative errno:
 * the kernel's answer to a refused request (its extack message, if it sent
 * one, stays in cli_nl_extack() until the next request), -ENOENT from
 * cli_nl_open() when the family is not registered (the module is not
 * loaded), -EPROTO for a message this tool cannot read.
 */
#ifndef KTLS_ATTEST_CLI_NL_H
#define KTLS_ATTEST_CLI_NL_H

#include <stdint.h>

#include "sock.h"

struct cli_nl;

/* Called for each socket of a dump or event; non-zero stops (and is returned). */
typedef int (*cli_sock_fn)(const struct cli_sock *s, void *arg);

int cli_nl_open(struct cli_nl **nlp);
void cli_nl_close(struct cli_nl *nl);
/* The extack message of the last refused request, "" if none came. */
const char *cli_nl_extack(const struct cli_nl *nl);

/* sock-get of one socket; -ENOENT if no armed socket has @cookie. */
int cli_nl_get(struct cli_nl *nl, uint64_t cookie, struct cli_sock *out);
/* sock-get dump: @fn for every armed socket of the namespace. */
int cli_nl_dump(struct cli_nl *nl, cli_sock_fn fn, void *arg);
/* sock-verdict; @round 0 and @text NULL leave the attribute out. */
int cli_nl_verdict(struct cli_nl *nl, uint64_t cookie, uint32_t round,
		   uint32_t verdict, const char *text);
int cli_nl_reattest(struct cli_nl *nl, uint64_t cookie);

/*
 * Joins the monitor group.  From then on the socket is for events only:
 * poll cli_nl_fd() and call cli_nl_monitor_read().
 */
int cli_nl_monitor_join(struct cli_nl *nl);
int cli_nl_fd(const struct cli_nl *nl);
/*
 * Reads the events that are there without waiting, @fn for each
 * state-change (only cookie, state, reason and round are present).
 * -ENOBUFS if the kernel dropped events (the socket's buffer was full):
 * the ones after it are read on the next call.
 */
int cli_nl_monitor_read(struct cli_nl *nl, cli_sock_fn fn, void *arg);

#endif /* KTLS_ATTEST_CLI_NL_H */
