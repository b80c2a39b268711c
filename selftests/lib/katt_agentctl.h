/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The test's end of katt-agent (selftests/katt_agent.c): starts the agent in
 * a network namespace, sends it commands and waits for their answers, and
 * hands out the events it reports, per socket cookie and in order.
 *
 * An event for another cookie than the one asked for stays queued: a test
 * can follow several sockets of one agent independently, and "the next
 * event of this socket" is exact (nothing in between is skipped).
 *
 * Like lib/ktls.h, nothing here knows the kselftest harness: 0 on success,
 * a negative errno on failure (-ETIMEDOUT: nothing within the time given;
 * -EPIPE: the agent is gone).
 */
#ifndef KATT_AGENTCTL_SELFTEST_LIB_H
#define KATT_AGENTCTL_SELFTEST_LIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/ktls_attest.h>

enum katt_agent_kind {
	KATT_AGENT_ROUND = 1,	/* round-start */
	KATT_AGENT_MSG,		/* msg-recv */
	KATT_AGENT_ECHO,	/* the agent echoed a message */
	KATT_AGENT_LOST,	/* the kernel dropped events */
};

struct katt_agent_ev {
	enum katt_agent_kind kind;
	uint64_t cookie;
	uint32_t round, state, role, timeout_ms, flags;
	uint32_t family, sport, dport;
	uint32_t len;		/* msg: msg-len; echo: bytes echoed */
	uint32_t pieces;	/* msg: msg-data attributes */
	int ret;		/* echo: errno of the msg-send, 0 if sent */
	bool has_bflags, has_exporter, has_local, has_peer;
	uint32_t bflags;	/* round: binding-flags */
	uint8_t exporter[KTLS_ATTEST_EXPORTER_LEN];
	uint8_t local[KTLS_ATTEST_KEY_HASH_LEN];
	uint8_t peer[KTLS_ATTEST_KEY_HASH_LEN];
	unsigned char *data;	/* msg: the message; malloc()ed */
	size_t data_len;
};

struct katt_agent {
	pid_t pid;		/* 0: not running */
	int fd;			/* commands out, lines in */
	uint32_t portid;
	char *in;		/* bytes read, not yet taken */
	size_t in_len, in_cap;
	size_t in_used;		/* the answer handed out last */
	struct katt_agent_ev *q;	/* events not yet taken */
	size_t qlen, qcap;
	char extack[256];	/* of the last "err" answer */
};

/* How long the agent may take to start (an exec under TCG is slow). */
#define KATT_AGENT_START_MS	20000
/* How long a command may take to be answered. */
#define KATT_AGENT_CMD_MS	10000

/* The katt-agent next to the running program, or $KATT_AGENT. */
const char *katt_agent_path(void);

/*
 * Starts @path in the network namespace @netns_fd (-1: the caller's) and
 * waits for its registration: 0, or the kernel's error for it.
 */
int katt_agent_start(struct katt_agent *a, const char *path, int netns_fd);
/* SIGKILL, reaped; queued events dropped.  Nothing if not running. */
void katt_agent_kill(struct katt_agent *a);
bool katt_agent_running(const struct katt_agent *a);

/* One command line (no newline); its answer: 0, or -errno of "err". */
int katt_agent_cmd(struct katt_agent *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Extack text of the last "err" answer. */
const char *katt_agent_extack(const struct katt_agent *a);

int katt_agent_send(struct katt_agent *a, uint64_t cookie, size_t len,
		    uint32_t seed);
int katt_agent_verdict(struct katt_agent *a, uint64_t cookie, uint32_t round,
		       const char *verdict);
int katt_agent_echo(struct katt_agent *a, bool on);

/*
 * The next event for @cookie (0: any), queued or arriving within
 * @timeout_ms (0: only what is there).  Release it with
 * katt_agent_ev_release().
 */
int katt_agent_next(struct katt_agent *a, uint64_t cookie,
		    struct katt_agent_ev *ev, int timeout_ms);
void katt_agent_ev_release(struct katt_agent_ev *ev);
const char *katt_agent_kind_name(enum katt_agent_kind kind);

#endif /* KATT_AGENTCTL_SELFTEST_LIB_H */
