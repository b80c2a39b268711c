// SPDX-License-Identifier: GPL-2.0
/*
 * katt-autopass: an operator who passes every round at once.  For the
 * library benchmark only (tools/bench/lib-bench): it joins the monitor
 * group of its network namespace and answers every state change to
 * pending or reattesting with an operator "pass" verdict for that round.
 * The ktls-attest command-line tool is what a person uses instead.
 *
 * usage: katt-autopass   (runs until killed; prints "ready" when joined,
 *                         and at exit how many verdicts it gave)
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <linux/ktls_attest.h>

#include "katt_nl.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(void)
{
	struct katt_nl_event ev;
	struct katt_nl *nl;
	unsigned long passed = 0, late = 0;
	int ret;

	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	ret = katt_nl_open(&nl);
	if (!ret)
		ret = katt_nl_set_rcvbuf(nl, 4 << 20);
	if (!ret)
		ret = katt_nl_monitor(nl);
	if (ret) {
		fprintf(stderr, "katt-autopass: %s\n", strerror(-ret));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		ret = katt_nl_wait_event(nl, &ev, 200);
		if (ret == -ETIMEDOUT || ret == -EINTR)
			continue;
		if (ret == -ENOBUFS) {
			fprintf(stderr, "katt-autopass: events lost\n");
			continue;
		}
		if (ret) {
			fprintf(stderr, "katt-autopass: %s\n", strerror(-ret));
			break;
		}
		if (ev.cmd == KTLS_ATTEST_CMD_STATE_CHANGE &&
		    (ev.sock.state == KTLS_ATTEST_STATE_PENDING ||
		     ev.sock.state == KTLS_ATTEST_STATE_REATTESTING)) {
			ret = katt_nl_verdict(nl, ev.sock.cookie, ev.sock.round,
					      KTLS_ATTEST_VERDICT_PASS,
					      "katt-autopass");
			if (!ret)
				passed++;
			else
				late++;	/* gone or already decided */
		}
		katt_nl_event_release(&ev);
	}
	fprintf(stderr, "katt-autopass: %lu passed, %lu too late\n", passed,
		late);
	katt_nl_close(nl);
	return 0;
}
