// SPDX-License-Identifier: GPL-2.0
/*
 * ktls-attest monitor [FILTER]: one line for each state change the
 * kernel multicasts to the monitor group,
 *
 *	2024-05-01 12:00:04.123 cookie 4097 state passed round 1 reason operator
 *
 * (the time is when the event was read), or with -j one JSON object a
 * line.  Runs until SIGINT or SIGTERM, then exits 0.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "filter.h"
#include "ktls-attest.h"

#define MONITOR_USAGE	"monitor [cookie COOKIE] [state STATE] [reason REASON]"

static volatile sig_atomic_t monitor_stop;

static void on_stop_signal(int sig)
{
	monitor_stop = sig;
}

static const char *event_time(uint64_t t_ns, char *buf, size_t len)
{
	time_t t = t_ns / 1000000000;
	struct tm tm;
	size_t n = 0;

	if (localtime_r(&t, &tm))
		n = strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
	if (!n)
		n = snprintf(buf, len, "%lld", (long long)t);
	snprintf(buf + n, n < len ? len - n : 0, ".%03u",
		 (unsigned int)(t_ns / 1000000 % 1000));
	return buf;
}

static int print_json_event(const struct cli_sock *s, uint64_t now_ns)
{
	json_t *o = json_object(), *fields = cli_sock_json(s);
	int ret = -ENOMEM;

	if (!o || !fields ||
	    json_object_set_new(o, "time", json_integer(now_ns)) ||
	    json_object_update(o, fields))
		goto out;
	ret = cli_print_json(o) ? -EIO : 0;
out:
	json_decref(fields);
	json_decref(o);
	return ret;
}

static int print_event(const struct cli_sock *s, void *arg)
{
	const struct cli_filter *filter = arg;
	uint64_t now_ns = cli_now_ns();
	char t[64], buf[32];

	if (!cli_filter_match(filter, s))
		return 0;
	if (cli_opts.json)
		return print_json_event(s, now_ns);
	printf("%s cookie %" PRIu64, event_time(now_ns, t, sizeof(t)),
	       s->cookie);
	if (CLI_SOCK_HAS(s, KTLS_ATTEST_A_SOCK_STATE))
		printf(" state %s", cli_name_or_number(ktls_attest_state_names,
						       s->state, buf,
						       sizeof(buf)));
	if (CLI_SOCK_HAS(s, KTLS_ATTEST_A_SOCK_ROUND))
		printf(" round %u", s->round);
	if (CLI_SOCK_HAS(s, KTLS_ATTEST_A_SOCK_REASON))
		printf(" reason %s",
		       cli_name_or_number(ktls_attest_reason_names, s->reason,
					  buf, sizeof(buf)));
	putchar('\n');
	if (fflush(stdout)) {
		log_err("cannot write the output: %s", strerror(errno));
		return -EIO;
	}
	return 0;
}

/*
 * SIGINT and SIGTERM are blocked but while the monitor waits, so that
 * one that comes between a check of monitor_stop and the wait still ends
 * the wait (ppoll unblocks them atomically).  *wait_mask: the mask to
 * wait with.
 */
static int catch_stop_signals(sigset_t *wait_mask)
{
	struct sigaction sa;
	sigset_t block;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &block, wait_mask) ||
	    sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL))
		return -errno;
	sigdelset(wait_mask, SIGINT);
	sigdelset(wait_mask, SIGTERM);
	return 0;
}

int monitor_main(int argc, char **argv)
{
	struct cli_nl *nl = NULL;
	struct cli_filter filter;
	struct pollfd pfd;
	sigset_t wait_mask;
	int ret, err;

	ret = cli_filter_parse(&filter, argc - 1, argv + 1, CLI_FILTER_EVENT,
			       MONITOR_USAGE);
	if (ret)
		return ret;

	ret = KATT_EXIT_FAIL;
	err = catch_stop_signals(&wait_mask);
	if (err) {
		log_err("monitor: cannot catch SIGINT and SIGTERM: %s",
			strerror(-err));
		goto out;
	}
	nl = cli_open_family();
	if (!nl)
		goto out;
	err = cli_nl_monitor_join(nl);
	if (err) {
		log_err("monitor: cannot join the \"%s\" group: %s",
			KTLS_ATTEST_MCGRP_MONITOR, strerror(-err));
		goto out;
	}

	pfd.fd = cli_nl_fd(nl);
	pfd.events = POLLIN;
	while (!monitor_stop) {
		if (ppoll(&pfd, 1, NULL, &wait_mask) < 0) {
			if (errno == EINTR)
				continue;
			log_err("monitor: poll: %s", strerror(errno));
			goto out;
		}
		err = cli_nl_monitor_read(nl, print_event, &filter);
		if (err == -ENOBUFS) {
			log_warn("monitor: state changes were lost: the kernel had more for this socket than its buffer holds");
		} else if (err == -EPROTO) {
			log_warn("monitor: skipped a message this tool cannot read");
		} else if (err) {
			if (err != -EIO)
				log_err("monitor: %s", strerror(-err));
			goto out;
		}
	}
	ret = KATT_EXIT_OK;

out:
	cli_nl_close(nl);
	return ret;
}
