// SPDX-License-Identifier: GPL-2.0
/*
 * The test's end of katt-agent. See katt_agentctl.h and the protocol at
 * the top of selftests/katt_agent.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "katt_agentctl.h"

#define READ_CHUNK	(64 * 1024)

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

const char *katt_agent_path(void)
{
	static char path[PATH_MAX];
	const char *env = getenv("KATT_AGENT");
	char *slash;
	ssize_t n;

	if (env && *env)
		return env;
	n = readlink("/proc/self/exe", path, sizeof(path) - 16);
	if (n <= 0)
		return "katt-agent";
	path[n] = '\0';
	slash = strrchr(path, '/');
	strcpy(slash ? slash + 1 : path, "katt-agent");
	return path;
}

const char *katt_agent_kind_name(enum katt_agent_kind kind)
{
	switch (kind) {
	case KATT_AGENT_ROUND:
		return "round";
	case KATT_AGENT_MSG:
		return "msg";
	case KATT_AGENT_ECHO:
		return "echo";
	case KATT_AGENT_LOST:
		return "lost";
	}
	return "?";
}

bool katt_agent_running(const struct katt_agent *a)
{
	return a->pid > 0;
}

void katt_agent_ev_release(struct katt_agent_ev *ev)
{
	free(ev->data);
	ev->data = NULL;
	ev->data_len = 0;
}

/* --- parsing one line --------------------------------------------------- */

static int unhex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* @hex into @out of exactly @len bytes. */
static int hex_fixed(const char *hex, uint8_t *out, size_t len)
{
	size_t i;

	if (strlen(hex) != 2 * len)
		return -EPROTO;
	for (i = 0; i < len; i++) {
		int hi = unhex(hex[2 * i]), lo = unhex(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EPROTO;
		out[i] = hi << 4 | lo;
	}
	return 0;
}

static int hex_alloc(const char *hex, struct katt_agent_ev *ev)
{
	size_t len = strlen(hex) / 2;

	if (strlen(hex) % 2)
		return -EPROTO;
	ev->data = malloc(len ? len : 1);
	if (!ev->data)
		return -ENOMEM;
	ev->data_len = len;
	return hex_fixed(hex, ev->data, len);
}

static int parse_field(struct katt_agent_ev *ev, const char *key,
		       const char *val)
{
	static const struct {
		const char *key;
		size_t off;
	} u32s[] = {
#define F(k, f) { k, offsetof(struct katt_agent_ev, f) }
		F("round", round), F("state", state), F("role", role),
		F("timeout", timeout_ms), F("flags", flags),
		F("family", family), F("sport", sport), F("dport", dport),
		F("len", len), F("pieces", pieces),
#undef F
	};
	unsigned int i;

	if (!strcmp(key, "cookie")) {
		ev->cookie = strtoull(val, NULL, 10);
		return 0;
	}
	if (!strcmp(key, "ret")) {
		ev->ret = atoi(val);
		return 0;
	}
	if (!strcmp(key, "bflags")) {
		ev->has_bflags = true;
		ev->bflags = strtoul(val, NULL, 10);
		return 0;
	}
	if (!strcmp(key, "exporter")) {
		ev->has_exporter = true;
		return hex_fixed(val, ev->exporter, sizeof(ev->exporter));
	}
	if (!strcmp(key, "local")) {
		ev->has_local = true;
		return hex_fixed(val, ev->local, sizeof(ev->local));
	}
	if (!strcmp(key, "peer")) {
		ev->has_peer = true;
		return hex_fixed(val, ev->peer, sizeof(ev->peer));
	}
	if (!strcmp(key, "data"))
		return hex_alloc(val, ev);
	for (i = 0; i < sizeof(u32s) / sizeof(u32s[0]); i++) {
		if (strcmp(key, u32s[i].key))
			continue;
		*(uint32_t *)((char *)ev + u32s[i].off) = strtoul(val, NULL, 10);
		return 0;
	}
	return 0;	/* a field this side does not know */
}

static int parse_event(char *line, struct katt_agent_ev *ev)
{
	char *save, *tok = strtok_r(line, " ", &save);
	int ret = 0;

	memset(ev, 0, sizeof(*ev));
	if (!tok)
		return -EPROTO;
	if (!strcmp(tok, "round"))
		ev->kind = KATT_AGENT_ROUND;
	else if (!strcmp(tok, "msg"))
		ev->kind = KATT_AGENT_MSG;
	else if (!strcmp(tok, "echo"))
		ev->kind = KATT_AGENT_ECHO;
	else if (!strcmp(tok, "lost"))
		ev->kind = KATT_AGENT_LOST;
	else
		return -EPROTO;
	while (!ret && (tok = strtok_r(NULL, " ", &save))) {
		char *eq = strchr(tok, '=');

		if (!eq)
			continue;
		*eq = '\0';
		ret = parse_field(ev, tok, eq + 1);
	}
	if (ret)
		katt_agent_ev_release(ev);
	return ret;
}

static int queue_event(struct katt_agent *a, char *line)
{
	struct katt_agent_ev ev;
	int ret;

	ret = parse_event(line, &ev);
	if (ret) {
		fprintf(stderr, "# katt-agent: unparsable line\n");
		return ret;
	}
	if (a->qlen == a->qcap) {
		size_t cap = a->qcap ? 2 * a->qcap : 32;
		struct katt_agent_ev *q = realloc(a->q, cap * sizeof(*q));

		if (!q) {
			katt_agent_ev_release(&ev);
			return -ENOMEM;
		}
		a->q = q;
		a->qcap = cap;
	}
	a->q[a->qlen++] = ev;
	return 0;
}

/* --- reading lines ------------------------------------------------------- */

/* The line at the head of a->in, if whole: NUL-terminated, its length. */
static size_t head_line(struct katt_agent *a)
{
	char *nl = memchr(a->in, '\n', a->in_len);

	if (!nl)
		return 0;
	*nl = '\0';
	return nl - a->in + 1;
}

static bool is_answer(const char *line)
{
	return !strcmp(line, "ok") || !strncmp(line, "err ", 4) ||
	       !strncmp(line, "ready ", 6) || !strncmp(line, "error ", 6);
}

/* Reads more from the agent within @timeout_ms: 0, -ETIMEDOUT, -EPIPE. */
static int read_more(struct katt_agent *a, int timeout_ms)
{
	struct pollfd pfd = { .fd = a->fd, .events = POLLIN };
	ssize_t n;
	int r;

	if (a->pid <= 0 || a->fd < 0)
		return -EPIPE;
	if (a->in_cap - a->in_len < READ_CHUNK) {
		char *p = realloc(a->in, a->in_cap + 2 * READ_CHUNK);

		if (!p)
			return -ENOMEM;
		a->in = p;
		a->in_cap += 2 * READ_CHUNK;
	}
	do {
		r = poll(&pfd, 1, timeout_ms);
	} while (r < 0 && errno == EINTR);
	if (r <= 0)
		return -ETIMEDOUT;
	do {
		n = read(a->fd, a->in + a->in_len, a->in_cap - a->in_len);
	} while (n < 0 && errno == EINTR);
	if (n <= 0)
		return -EPIPE;
	a->in_len += n;
	return 0;
}

/*
 * Queues the events among the lines read, and reads more within
 * @timeout_ms until an answer to a command comes (returned; it lives in
 * a->in until the next call) or, if @any, until at least one event was
 * queued (NULL, *ret 0).  *ret is otherwise -ETIMEDOUT or -EPIPE.
 */
static char *pump(struct katt_agent *a, int timeout_ms, bool any, int *ret)
{
	long long end = now_ms() + timeout_ms, left;
	size_t len, queued = 0;

	/* drop the answer handed out last time */
	memmove(a->in, a->in + a->in_used, a->in_len - a->in_used);
	a->in_len -= a->in_used;
	a->in_used = 0;
	for (;;) {
		while ((len = head_line(a))) {
			if (is_answer(a->in)) {
				a->in_used = len;
				*ret = 0;
				return a->in;
			}
			if (!queue_event(a, a->in))
				queued++;
			memmove(a->in, a->in + len, a->in_len - len);
			a->in_len -= len;
		}
		*ret = 0;
		if (any && queued)
			return NULL;
		left = end - now_ms();
		*ret = read_more(a, left > 0 ? (int)left : 0);
		if (*ret)
			return NULL;
	}
}

/* --- life ----------------------------------------------------------------- */

static void child_exec(int sock, const char *path, int netns_fd)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (netns_fd >= 0 && setns(netns_fd, CLONE_NEWNET)) {
		dprintf(sock, "error register %d setns\n", errno);
		_exit(1);
	}
	if (dup2(sock, STDIN_FILENO) < 0 || dup2(sock, STDOUT_FILENO) < 0)
		_exit(1);
	close_range(3, ~0U, 0);
	signal(SIGALRM, SIG_DFL);
	alarm(0);
	execl(path, path, (char *)NULL);
	dprintf(STDOUT_FILENO, "error register %d exec %s\n", errno, path);
	_exit(1);
}

int katt_agent_start(struct katt_agent *a, const char *path, int netns_fd)
{
	int sv[2], ret;
	char *line;
	pid_t pid;

	memset(a, 0, sizeof(*a));
	a->fd = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -errno;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		close(sv[0]);
		close(sv[1]);
		return ret;
	}
	if (!pid)
		child_exec(sv[1], path, netns_fd);
	close(sv[1]);
	a->pid = pid;
	a->fd = sv[0];

	line = pump(a, KATT_AGENT_START_MS, false, &ret);
	if (!line) {
		katt_agent_kill(a);
		return ret;
	}
	if (!strncmp(line, "ready portid=", 13)) {
		a->portid = strtoul(line + 13, NULL, 10);
		return 0;
	}
	ret = -(int)strtol(line + strlen("error register "), NULL, 10);
	snprintf(a->extack, sizeof(a->extack), "%s", line);
	katt_agent_kill(a);
	return ret ? ret : -EPROTO;
}

void katt_agent_kill(struct katt_agent *a)
{
	size_t i;

	if (a->pid > 0) {
		kill(a->pid, SIGKILL);
		while (waitpid(a->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	a->pid = 0;
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
	for (i = 0; i < a->qlen; i++)
		katt_agent_ev_release(&a->q[i]);
	free(a->q);
	free(a->in);
	a->q = NULL;
	a->in = NULL;
	a->qlen = a->qcap = a->in_len = a->in_cap = a->in_used = 0;
}

/* --- commands ------------------------------------------------------------- */

static int write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EPIPE;
		p += n;
		len -= n;
	}
	return 0;
}

int katt_agent_cmd(struct katt_agent *a, const char *fmt, ...)
{
	char cmd[512], *line;
	va_list ap;
	int n, ret;

	if (a->pid <= 0)
		return -EPIPE;
	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof(cmd) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= (int)sizeof(cmd) - 1)
		return -EINVAL;
	cmd[n++] = '\n';
	ret = write_all(a->fd, cmd, n);
	if (ret)
		return ret;
	line = pump(a, KATT_AGENT_CMD_MS, false, &ret);
	if (!line)
		return ret;
	a->extack[0] = '\0';
	if (!strcmp(line, "ok"))
		return 0;
	if (strncmp(line, "err ", 4))
		return -EPROTO;
	ret = -(int)strtol(line + 4, &line, 10);
	snprintf(a->extack, sizeof(a->extack), "%s",
		 *line == ' ' ? line + 1 : line);
	return ret ? ret : -EPROTO;
}

const char *katt_agent_extack(const struct katt_agent *a)
{
	return a->extack;
}

int katt_agent_send(struct katt_agent *a, uint64_t cookie, size_t len,
		    uint32_t seed)
{
	return katt_agent_cmd(a, "send %llu %zu %u", (unsigned long long)cookie,
			      len, seed);
}

int katt_agent_verdict(struct katt_agent *a, uint64_t cookie, uint32_t round,
		       const char *verdict)
{
	return katt_agent_cmd(a, "verdict %llu %u %s",
			      (unsigned long long)cookie, round, verdict);
}

int katt_agent_echo(struct katt_agent *a, bool on)
{
	return katt_agent_cmd(a, "echo %s", on ? "on" : "off");
}

/* --- events --------------------------------------------------------------- */

static bool take_queued(struct katt_agent *a, uint64_t cookie,
			struct katt_agent_ev *ev)
{
	size_t i;

	for (i = 0; i < a->qlen; i++) {
		if (cookie && a->q[i].cookie != cookie &&
		    a->q[i].kind != KATT_AGENT_LOST)
			continue;
		*ev = a->q[i];
		memmove(&a->q[i], &a->q[i + 1],
			(a->qlen - i - 1) * sizeof(*ev));
		a->qlen--;
		return true;
	}
	return false;
}

int katt_agent_next(struct katt_agent *a, uint64_t cookie,
		    struct katt_agent_ev *ev, int timeout_ms)
{
	long long end = now_ms() + timeout_ms;
	long long left;
	int ret;

	for (;;) {
		if (take_queued(a, cookie, ev))
			return 0;
		left = end - now_ms();
		if (left < 0)
			return -ETIMEDOUT;
		/* an answer here would be out of turn: there is no command */
		if (pump(a, (int)left, true, &ret))
			return -EPROTO;
		if (ret && ret != -ETIMEDOUT)
			return ret;
	}
}
