/* SPDX-License-Identifier: GPL-2.0 */
/*
 * log.h: the one way ktls-attestd talks to people.  Every message of the
 * agent goes through katt_log(): one line, with a level, to standard error
 * ("ktls-attestd: error: ...") or to syslog (LOG_DAEMON).  Messages above
 * the verbosity are dropped before they are formatted.  Control characters
 * in a message (a peer's text it quotes) are written as \xHH, so that a
 * message is always one line.
 *
 * Owns: the destination and the verbosity (process-wide; set once at start,
 * before any thread exists).  Calls: stdio and syslog only.
 */
#ifndef KATT_AGENT_LOG_H
#define KATT_AGENT_LOG_H

#include <stdbool.h>

enum katt_log_level {
	KATT_LOG_ERR,		/* something failed */
	KATT_LOG_WARN,		/* something is odd; the agent goes on */
	KATT_LOG_NOTICE,	/* normal but significant: verdicts, start, stop */
	KATT_LOG_INFO,		/* what the agent does (-v) */
	KATT_LOG_DEBUG,		/* how it does it (-vv) */
};

/*
 * @ident names the program in every line.  @verbosity 0 logs notices and
 * above, 1 adds info, 2 and more add debug.  Before any call the agent logs
 * notices and above to standard error as "ktls-attestd".
 */
void katt_log_open(const char *ident, bool use_syslog, int verbosity);
void katt_log_close(void);
/*
 * @on: prefix each line on standard error with the CLOCK_MONOTONIC time in
 * seconds ("1234.567890 ktls-attestd: ..."), so that the lines of agents
 * and programs on one host can be put on one timeline (tools/bench).  Not
 * for syslog, which stamps its own.  Set it at start, with katt_log_open().
 */
void katt_log_timestamps(bool on);
bool katt_log_enabled(enum katt_log_level level);

void katt_log(enum katt_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define katt_err(...)		katt_log(KATT_LOG_ERR, __VA_ARGS__)
#define katt_warn(...)		katt_log(KATT_LOG_WARN, __VA_ARGS__)
#define katt_notice(...)	katt_log(KATT_LOG_NOTICE, __VA_ARGS__)
#define katt_info(...)		katt_log(KATT_LOG_INFO, __VA_ARGS__)
#define katt_debug(...)		katt_log(KATT_LOG_DEBUG, __VA_ARGS__)

#endif /* KATT_AGENT_LOG_H */
