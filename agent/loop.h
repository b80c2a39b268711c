/* SPDX-License-Identifier: GPL-2.0 */
/*
 * loop.h: ktls-attestd's one event loop (the model is described at the top
 * of loop.c).
 *
 * Owns: the io_uring, the signalfd, the timerfd, the sessions and the
 * policy in force.  Calls: agent_nl, session, tpmworker, config (policy
 * reload), log.
 */
#ifndef KATT_AGENT_LOOP_H
#define KATT_AGENT_LOOP_H

#include "agent_nl.h"
#include "clockstore.h"
#include "config.h"
#include "tpmworker.h"

struct katt_loop;

struct katt_loop_args {
	struct katt_agent_nl *nl;		/* registered */
	struct katt_tpmworker *worker;
	struct katt_clock_store *clocks;
	struct katt_policy *policy;		/* the loop owns it from now */
	const char *policy_path;		/* reloaded from on SIGHUP */
	int sfd;				/* katt_loop_signals()'s */
};

/*
 * Sets the loop up: SIGHUP, SIGTERM and SIGINT blocked and read from a
 * signalfd (call before any other thread starts, so that they inherit the
 * mask); returns the signalfd or a negative errno.  katt_loop_new() sets
 * the io_uring up: 0 or a negative errno, logged.
 */
int katt_loop_signals(void);
int katt_loop_new(const struct katt_loop_args *args, struct katt_loop **out);

/*
 * Runs until SIGTERM or SIGINT (0), or a failure of the loop itself
 * (negative errno, logged).
 */
int katt_loop_run(struct katt_loop *l);

/* Ends every session and frees the loop (not the parts of its args). */
void katt_loop_free(struct katt_loop *l);

#endif /* KATT_AGENT_LOOP_H */
