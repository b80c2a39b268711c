// SPDX-License-Identifier: GPL-2.0
/*
 * log.c: the logging facade of log.h.  Owns the process-wide destination
 * and verbosity; calls stdio and syslog only.
 */
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

static const char *log_ident = "ktls-attestd";
static bool log_syslog;
static bool log_stamp;
static enum katt_log_level log_max = KATT_LOG_NOTICE;

static const char *const level_name[] = {
	[KATT_LOG_ERR]		= "error: ",
	[KATT_LOG_WARN]		= "warning: ",
	[KATT_LOG_NOTICE]	= "",
	[KATT_LOG_INFO]		= "",
	[KATT_LOG_DEBUG]	= "debug: ",
};

static const int level_syslog[] = {
	[KATT_LOG_ERR]		= LOG_ERR,
	[KATT_LOG_WARN]		= LOG_WARNING,
	[KATT_LOG_NOTICE]	= LOG_NOTICE,
	[KATT_LOG_INFO]		= LOG_INFO,
	[KATT_LOG_DEBUG]	= LOG_DEBUG,
};

void katt_log_open(const char *ident, bool use_syslog, int verbosity)
{
	log_ident = ident;
	log_syslog = use_syslog;
	if (verbosity <= 0)
		log_max = KATT_LOG_NOTICE;
	else if (verbosity == 1)
		log_max = KATT_LOG_INFO;
	else
		log_max = KATT_LOG_DEBUG;
	if (use_syslog)
		openlog(ident, LOG_PID, LOG_DAEMON);
}

void katt_log_close(void)
{
	if (log_syslog)
		closelog();
	log_syslog = false;
}

void katt_log_timestamps(bool on)
{
	log_stamp = on;
}

bool katt_log_enabled(enum katt_log_level level)
{
	return level <= log_max;
}

/*
 * Control characters become \xHH: messages quote what peers sent (an
 * Error's text, a Verdict's), and a newline in it must not start a line
 * that looks like the agent's own ("... round 1: pass").
 */
static void log_escape(const char *in, char *out, size_t cap)
{
	size_t o = 0;

	for (; *in && o + 5 < cap; in++) {
		unsigned char c = *in;

		if (c < 0x20 || c == 0x7f)
			o += snprintf(out + o, cap - o, "\\x%02x", c);
		else
			out[o++] = c;
	}
	out[o] = '\0';
}

void katt_log(enum katt_log_level level, const char *fmt, ...)
{
	struct timespec ts;
	char raw[512], line[4 * sizeof(raw)];
	va_list ap;

	if (level > log_max || level < KATT_LOG_ERR)
		return;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	log_escape(raw, line, sizeof(line));
	if (log_syslog)
		syslog(level_syslog[level], "%s", line);
	else if (log_stamp && !clock_gettime(CLOCK_MONOTONIC, &ts))
		fprintf(stderr, "%lld.%06ld %s: %s%s\n", (long long)ts.tv_sec,
			ts.tv_nsec / 1000, log_ident, level_name[level], line);
	else
		fprintf(stderr, "%s: %s%s\n", log_ident, level_name[level],
			line);
}
