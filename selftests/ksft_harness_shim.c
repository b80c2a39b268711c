// SPDX-License-Identifier: GPL-2.0
/*
 * ksft_harness_shim.so: an LD_PRELOAD shim that gives a kselftest harness
 * program of Linux 6.1 two things later harnesses have and 6.1's lacks
 * (it takes no options and no environment): leaving tests out by name,
 * and another per-test timeout.  selftests/ksft-tls runs the kernel's
 * tls.c with it, to leave out the tests that fail on Debian's 6.1 kernel
 * by themselves (selftests/ksft-tls.expect), to run subsets, and to give
 * each test the time it needs under QEMU's TCG.
 *
 *	KSFT_SKIP	test names (FIXTURE.VARIANT.TEST, FIXTURE.TEST for
 *			a fixture without variants, global.TEST for a TEST()),
 *			separated by white space: these do not run
 *	KSFT_VARIANTS	variant names, separated by white space: if set and
 *			not empty, a test of a fixture with variants runs only
 *			in these (tests without variants run)
 *	KSFT_ONLY	fnmatch(3) patterns, separated by white space: if
 *			set and not empty, only tests whose name matches one
 *			of them run
 *	KSFT_TIMEOUT	seconds: if set, every test's timeout instead of
 *			its own (TEST_TIMEOUT_DEFAULT, 30 s, for all of
 *			tls.c's: its multi-process tests move 72 MB, which
 *			takes 5 to 30 s under TCG)
 *
 * How: the harness announces each test on standard output,
 * ksft_print_msg(" RUN           %s%s%s.%s ...\n", fixture, ".", variant,
 * test) (which the compiler makes a vfprintf(stdout, ...)), then fork()s
 * the child that runs it, and then, in the parent, arms alarm(timeout)
 * and waits.  The shim reads the name from that call; for a test that is
 * not to run, it makes the next fork() of that process end its child at
 * once with status 255, the harness's own code for a skipped test (the
 * harness reports "ok N # SKIP" and goes on), and the alarm() of the
 * process that announced the test gets KSFT_TIMEOUT.  A test's own
 * fork()s come after, in the child, and are left alone; so are the
 * child's alarm()s and every other output.  If the harness's message ever
 * changes, nothing is left out, which selftests/ksft-tls notices (a listed
 * test that does not report SKIP fails there).
 */
#include <dlfcn.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#define SHIM		"ksft_harness_shim"
#define SHIM_EXPORT	__attribute__((visibility("default")))

/* kselftest_harness.h of 6.1, __run_test() */
#define HARNESS_RUN_FMT	" RUN           %s%s%s.%s ...\n"

static int (*real_vfprintf)(FILE *, const char *, va_list);
static pid_t (*real_fork)(void);
static unsigned int (*real_alarm)(unsigned int);

/* the process that runs the tests: the one that announces them */
static pid_t harness_pid;
/* the test announced last leaves out its fork()'s child */
static bool leave_out;
static char leave_out_name[256];

static void *real(const char *name)
{
	void *fn = dlsym(RTLD_NEXT, name);

	if (!fn) {
		fprintf(stderr, SHIM ": dlsym(%s) failed\n", name);
		abort();
	}
	return fn;
}

static void __attribute__((constructor)) shim_init(void)
{
	real_vfprintf = real("vfprintf");
	real_fork = real("fork");
	real_alarm = real("alarm");
}

/* An environment variable that is set and not empty, or NULL. */
static const char *env(const char *var)
{
	const char *val = getenv(var);

	return val && *val ? val : NULL;
}

/* @name is one of the words of @list (exactly, or as fnmatch patterns). */
static bool in_list(const char *list, const char *name, bool patterns)
{
	char word[256];
	size_t n;

	while (*list) {
		list += strspn(list, " \t\n");
		n = strcspn(list, " \t\n");
		if (!n)
			break;
		if (n < sizeof(word)) {
			memcpy(word, list, n);
			word[n] = '\0';
			if (patterns ? !fnmatch(word, name, 0) :
				       !strcmp(word, name))
				return true;
		}
		list += n;
	}
	return false;
}

static bool runs(const char *name, const char *variant)
{
	const char *skip = env("KSFT_SKIP");
	const char *variants = env("KSFT_VARIANTS");
	const char *only = env("KSFT_ONLY");

	if (skip && in_list(skip, name, false))
		return false;
	if (variants && *variant && !in_list(variants, variant, false))
		return false;
	return !only || in_list(only, name, true);
}

SHIM_EXPORT int vfprintf(FILE *stream, const char *fmt, va_list ap)
{
	const char *fixture, *dot, *variant, *test;
	va_list args;

	if (stream == stdout && !strcmp(fmt, HARNESS_RUN_FMT)) {
		va_copy(args, ap);
		fixture = va_arg(args, const char *);
		dot = va_arg(args, const char *);
		variant = va_arg(args, const char *);
		test = va_arg(args, const char *);
		va_end(args);
		snprintf(leave_out_name, sizeof(leave_out_name), "%s%s%s.%s",
			 fixture, dot, variant, test);
		leave_out = !runs(leave_out_name, variant);
		harness_pid = getpid();
	}
	return real_vfprintf(stream, fmt, ap);
}

SHIM_EXPORT pid_t fork(void)
{
	bool out = leave_out;
	pid_t pid;

	leave_out = false;
	pid = real_fork();
	if (pid == 0 && out) {
		dprintf(STDERR_FILENO, "# %s: left out (" SHIM ")\n",
			leave_out_name);
		_exit(255);
	}
	return pid;
}

SHIM_EXPORT unsigned int alarm(unsigned int seconds)
{
	const char *timeout = env("KSFT_TIMEOUT");

	if (seconds && timeout && getpid() == harness_pid)
		seconds = strtoul(timeout, NULL, 10) ?: seconds;
	return real_alarm(seconds);
}
