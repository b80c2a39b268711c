// SPDX-License-Identifier: GPL-2.0
/*
 * katt-agent: the attestation agent of the selftests.  It registers as the
 * agent of its network namespace, reports what the kernel tells it (round
 * start, attestation messages) and does what it is told (send messages,
 * give verdicts), nothing of its own accord: the test decides.
 *
 * Why a program and not a library call in the test: the agent's
 * registration belongs to its netlink socket, and the tests need agents
 * that die (SIGKILL mid-round, with everything the kernel holds for them)
 * and come back as new processes; a separate program on the public netlink
 * API is exactly what a real agent is to the kernel, and one can drive it
 * by hand in the test VM (ip netns exec NS build/selftests/katt-agent).
 *
 * Protocol: lines of text; commands on stdin, everything else on stdout.
 * It runs in the network namespace it was started in.
 *
 *   ready portid=N                      registered (first line), or
 *   error register ERRNO TEXT           not registered; exits 1
 *
 * Commands, each answered by one line "ok" or "err ERRNO EXTACK...":
 *   echo on|off                 echo each message back on its socket
 *   send COOKIE LEN SEED [PIECE]  a message of LEN bytes of the pattern
 *                               ktls_fill(SEED), in msg-data pieces of
 *                               PIECE bytes (default 32768); LEN 0 sends
 *                               no msg-data
 *   verdict COOKIE ROUND pass|fail|revoke [TEXT]
 *   unregister                  agent-unregister
 *   quit                        exits 0 (so does end of input)
 *
 * Events, at any time between answers:
 *   round cookie=N round=N state=N role=N timeout=N flags=N family=N
 *         sport=N dport=N [bflags=N] [exporter=HEX] [local=HEX] [peer=HEX]
 *   msg cookie=N round=N len=N pieces=N data=HEX
 *   echo cookie=N len=N ret=ERRNO       the echo of a message was sent
 *   lost                                the kernel dropped events (ENOBUFS)
 * Attributes the kernel left out are left out of the line.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/ktls_attest.h>

#include "lib/katt_nl.h"
#include "lib/ktls.h"

/* The kernel sends msg-recv only while this has room for it + 16 KiB. */
#define AGENT_RCVBUF	(1024 * 1024)
#define LINE_MAX_IN	4096

struct agent {
	struct katt_nl *nl;
	bool echo;
	char in[LINE_MAX_IN];
	size_t in_len;
	char *out;		/* the line being built */
	size_t out_len, out_cap;
};

/* --- output --------------------------------------------------------------- */

static void out_reserve(struct agent *a, size_t more)
{
	size_t cap = a->out_cap ? a->out_cap : 256;
	char *p;

	if (a->out_len + more + 1 <= a->out_cap)
		return;
	while (cap < a->out_len + more + 1)
		cap *= 2;
	p = realloc(a->out, cap);
	if (!p) {
		fprintf(stderr, "katt-agent: out of memory\n");
		exit(1);
	}
	a->out = p;
	a->out_cap = cap;
}

static void out_fmt(struct agent *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void out_fmt(struct agent *a, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	out_reserve(a, n);
	va_start(ap, fmt);
	vsnprintf(a->out + a->out_len, n + 1, fmt, ap);
	va_end(ap);
	a->out_len += n;
}

static void out_hex(struct agent *a, const char *key, const uint8_t *p,
		    size_t len)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	out_fmt(a, " %s=", key);
	out_reserve(a, 2 * len);
	for (i = 0; i < len; i++) {
		a->out[a->out_len++] = digits[p[i] >> 4];
		a->out[a->out_len++] = digits[p[i] & 15];
	}
	a->out[a->out_len] = '\0';
}

/* Writes the line built so far, with its newline. */
static void out_line(struct agent *a)
{
	size_t done = 0;
	ssize_t n;

	out_fmt(a, "\n");
	while (done < a->out_len) {
		n = write(STDOUT_FILENO, a->out + done, a->out_len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			exit(1);	/* the test went away */
		done += n;
	}
	a->out_len = 0;
}

static void reply(struct agent *a, int ret)
{
	if (!ret)
		out_fmt(a, "ok");
	else
		out_fmt(a, "err %d %s", -ret, katt_nl_extack(a->nl));
	out_line(a);
}

/* --- events --------------------------------------------------------------- */

static void report_round(struct agent *a, const struct katt_nl_sock *s)
{
	out_fmt(a, "round cookie=%" PRIu64 " round=%u state=%u role=%u",
		s->cookie, s->round, s->state, s->role);
	out_fmt(a, " timeout=%u flags=%u family=%u sport=%u dport=%u",
		s->timeout_ms, s->policy_flags, s->family, s->sport, s->dport);
	if (KATT_NL_HAS(s, KTLS_ATTEST_A_SOCK_BINDING_FLAGS))
		out_fmt(a, " bflags=%u", s->binding_flags);
	if (KATT_NL_HAS(s, KTLS_ATTEST_A_SOCK_BINDING_EXPORTER))
		out_hex(a, "exporter", s->binding_exporter,
			sizeof(s->binding_exporter));
	if (KATT_NL_HAS(s, KTLS_ATTEST_A_SOCK_BINDING_LOCAL_KEY))
		out_hex(a, "local", s->binding_local_key,
			sizeof(s->binding_local_key));
	if (KATT_NL_HAS(s, KTLS_ATTEST_A_SOCK_BINDING_PEER_KEY))
		out_hex(a, "peer", s->binding_peer_key,
			sizeof(s->binding_peer_key));
	out_line(a);
}

static void report_msg(struct agent *a, const struct katt_nl_event *ev)
{
	int ret;

	out_fmt(a, "msg cookie=%" PRIu64 " round=%u len=%u pieces=%u",
		ev->sock.cookie, ev->sock.round, ev->sock.msg_len,
		ev->msg_pieces);
	out_hex(a, "data", ev->msg, ev->msg_size);
	out_line(a);
	if (!a->echo)
		return;
	ret = katt_nl_msg_send(a->nl, ev->sock.cookie, ev->msg, ev->msg_size);
	out_fmt(a, "echo cookie=%" PRIu64 " len=%zu ret=%d", ev->sock.cookie,
		ev->msg_size, -ret);
	out_line(a);
}

/* Everything the kernel sent that is here already. */
static void pump_events(struct agent *a)
{
	struct katt_nl_event ev;
	int ret;

	for (;;) {
		ret = katt_nl_wait_event(a->nl, &ev, 0);
		if (ret == -ENOBUFS) {
			out_fmt(a, "lost");
			out_line(a);
			continue;
		}
		if (ret)
			return;
		if (ev.cmd == KTLS_ATTEST_CMD_ROUND_START)
			report_round(a, &ev.sock);
		else if (ev.cmd == KTLS_ATTEST_CMD_MSG_RECV)
			report_msg(a, &ev);
		katt_nl_event_release(&ev);
	}
}

/* --- commands ------------------------------------------------------------- */

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!s)
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || *end ? -EINVAL : 0;
}

static int cmd_send(struct agent *a, char **save)
{
	uint64_t cookie, len, seed, piece = KATT_NL_MSG_PIECE;
	const char *p;
	void *buf;
	int ret;

	if (parse_u64(strtok_r(NULL, " ", save), &cookie) ||
	    parse_u64(strtok_r(NULL, " ", save), &len) ||
	    parse_u64(strtok_r(NULL, " ", save), &seed) || len > 1 << 20)
		return -EINVAL;
	p = strtok_r(NULL, " ", save);
	if (p && parse_u64(p, &piece))
		return -EINVAL;
	buf = malloc(len ? len : 1);
	if (!buf)
		return -ENOMEM;
	ktls_fill(buf, len, seed);
	ret = katt_nl_msg_send_pieces(a->nl, cookie, buf, len, piece);
	free(buf);
	return ret;
}

static int cmd_verdict(struct agent *a, char **save)
{
	uint64_t cookie, round;
	const char *v, *text;
	uint32_t verdict;

	if (parse_u64(strtok_r(NULL, " ", save), &cookie) ||
	    parse_u64(strtok_r(NULL, " ", save), &round))
		return -EINVAL;
	v = strtok_r(NULL, " ", save);
	if (!v)
		return -EINVAL;
	if (!strcmp(v, "pass"))
		verdict = KTLS_ATTEST_VERDICT_PASS;
	else if (!strcmp(v, "fail"))
		verdict = KTLS_ATTEST_VERDICT_FAIL;
	else if (!strcmp(v, "revoke"))
		verdict = KTLS_ATTEST_VERDICT_REVOKE;
	else
		return -EINVAL;
	text = strtok_r(NULL, "", save);
	return katt_nl_verdict(a->nl, cookie, round, verdict, text);
}

/* One command line; false for quit. */
static bool command(struct agent *a, char *line)
{
	char *save, *cmd = strtok_r(line, " ", &save);
	int ret;

	if (!cmd)
		return true;
	if (!strcmp(cmd, "quit"))
		return false;
	if (!strcmp(cmd, "echo")) {
		const char *v = strtok_r(NULL, " ", &save);

		ret = v && (!strcmp(v, "on") || !strcmp(v, "off")) ? 0 :
		      -EINVAL;
		if (!ret)
			a->echo = !strcmp(v, "on");
	} else if (!strcmp(cmd, "send")) {
		ret = cmd_send(a, &save);
	} else if (!strcmp(cmd, "verdict")) {
		ret = cmd_verdict(a, &save);
	} else if (!strcmp(cmd, "unregister")) {
		ret = katt_nl_agent_unregister(a->nl);
	} else {
		ret = -EINVAL;
	}
	reply(a, ret);
	return true;
}

/* Reads what stdin has; runs each whole line.  false at the end. */
static bool read_commands(struct agent *a)
{
	char *nl;
	ssize_t n;

	n = read(STDIN_FILENO, a->in + a->in_len, sizeof(a->in) - a->in_len);
	if (n < 0 && errno == EINTR)
		return true;
	if (n <= 0)
		return false;
	a->in_len += n;
	while ((nl = memchr(a->in, '\n', a->in_len))) {
		size_t len = nl - a->in + 1;

		*nl = '\0';
		if (!command(a, a->in))
			return false;
		memmove(a->in, a->in + len, a->in_len - len);
		a->in_len -= len;
	}
	if (a->in_len == sizeof(a->in)) {
		fprintf(stderr, "katt-agent: command line too long\n");
		return false;
	}
	return true;
}

static int start(struct agent *a)
{
	int ret;

	ret = katt_nl_open(&a->nl);
	if (!ret)
		ret = katt_nl_set_rcvbuf(a->nl, AGENT_RCVBUF);
	if (!ret)
		ret = katt_nl_agent_register(a->nl);
	if (ret) {
		out_fmt(a, "error register %d %s", -ret,
			a->nl ? katt_nl_extack(a->nl) : "");
		out_line(a);
		return ret;
	}
	out_fmt(a, "ready portid=%u", katt_nl_portid(a->nl));
	out_line(a);
	return 0;
}

int main(void)
{
	struct agent a = { 0 };
	struct pollfd pfd[2];

	signal(SIGPIPE, SIG_IGN);
	if (start(&a))
		return 1;
	pfd[0].fd = STDIN_FILENO;
	pfd[0].events = POLLIN;
	pfd[1].fd = katt_nl_fd(a.nl);
	pfd[1].events = POLLIN;
	for (;;) {
		/* events read while a request waited for its answer */
		pump_events(&a);
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[0].revents && !read_commands(&a))
			break;
	}
	katt_nl_close(a.nl);
	free(a.out);
	return 0;
}
