// SPDX-License-Identifier: GPL-2.0
/* The message functions of log.h. */
#include <stdarg.h>
#include <stdio.h>

#include "log.h"

static void vlog(const char *what, const char *fmt, va_list ap)
{
	/* a message is one line, whatever stdout does meanwhile */
	fflush(stdout);
	fprintf(stderr, "%s: %s", KATT_PROG, what);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void log_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("warning: ", fmt, ap);
	va_end(ap);
}

int log_usage(const char *usage, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
	fprintf(stderr, "usage: %s %s\n", KATT_PROG, usage);
	return KATT_EXIT_USAGE;
}
