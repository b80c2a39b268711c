/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one way ktls-attest talks to people about problems: every message
 * goes to standard error as "ktls-attest: ...", one line each.
 *
 *	log_err()	something failed; the command will exit 1
 *	log_warn()	something is odd, the command goes on
 *	log_usage()	the command line is wrong: the message, then the
 *			usage of the command; returns KATT_EXIT_USAGE (2)
 */
#ifndef KTLS_ATTEST_CLI_LOG_H
#define KTLS_ATTEST_CLI_LOG_H

#define KATT_PROG		"ktls-attest"

/* Exit statuses, as the man page documents them. */
#define KATT_EXIT_OK		0
#define KATT_EXIT_FAIL		1
#define KATT_EXIT_USAGE		2

void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * @usage is the usage line of the command ("show [FILTER]"), printed as
 * "usage: ktls-attest show [FILTER]" after the message.
 */
int log_usage(const char *usage, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif /* KTLS_ATTEST_CLI_LOG_H */
