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

void katt_log(enum katt_log_level level, const char *fmt, ...)
{
	struct timespec ts;
	char line[512];
	va_list ap;

	if (level > log_max || level < KATT_LOG_ERR)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (log_syslog)
		syslog(level_syslog[level], "%s", line);
	else if (log_stamp && !clock_gettime(CLOCK_MONOTONIC, &ts))
		fprintf(stderr, "%lld.%06ld %s: %s%s\n", (long long)ts.tv_sec,
			ts.tv_nsec / 1000, log_ident, level_name[level], line);
	else
		fprintf(stderr, "%s: %s%s\n", log_ident, level_name[level],
			line);
}
