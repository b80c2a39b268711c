// SPDX-License-Identifier: GPL-2.0
/*
 * Programs at the other end of a test connection. See katt_peer.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/tls.h>

#include "ktls-attest.h"
#include "katt_peer.h"

#ifndef SOL_TLS
#define SOL_TLS		282
#endif
#define XFER_BUF	(64 * 1024)

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int katt_peer_start(struct katt_peer *p, char *const argv[],
		    char *const envp[], const char *err_path)
{
	return katt_peer_start_in(p, argv, envp, err_path, -1);
}

int katt_peer_start_in(struct katt_peer *p, char *const argv[],
		       char *const envp[], const char *err_path, int netns_fd)
{
	int in[2], out[2], err, i;
	pid_t pid;

	p->pid = 0;
	p->in = p->out = -1;
	snprintf(p->err_path, sizeof(p->err_path), "%s", err_path);
	if (pipe2(in, O_CLOEXEC))
		return -errno;
	if (pipe2(out, O_CLOEXEC)) {
		err = -errno;
		close(in[0]);
		close(in[1]);
		return err;
	}
	pid = fork();
	if (pid < 0) {
		err = -errno;
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		return err;
	}
	if (!pid) {
		int efd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (netns_fd >= 0 && setns(netns_fd, CLONE_NEWNET))
			_exit(125);
		if (efd < 0 || dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 ||
		    dup2(efd, 2) < 0)
			_exit(126);
		for (i = 0; envp && envp[i]; i++)
			putenv(envp[i]);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	/* never block on a program that is busy writing to us */
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	p->pid = pid;
	p->in = in[1];
	p->out = out[0];
	return 0;
}

static void reap(struct katt_peer *p, int status)
{
	p->status = status;
	p->pid = 0;
}

int katt_peer_wait(struct katt_peer *p, int timeout_ms)
{
	long long end = now_ms() + timeout_ms;
	int status;
	pid_t r;

	if (!p->pid)
		goto out;
	for (;;) {
		r = waitpid(p->pid, &status, WNOHANG);
		if (r == p->pid) {
			reap(p, status);
			break;
		}
		if (r < 0)
			return -errno;
		if (now_ms() >= end) {
			katt_peer_kill(p);
			return -ETIMEDOUT;
		}
		poll(NULL, 0, 10);
	}
out:
	if (!WIFEXITED(p->status))
		return -ECHILD;
	return WEXITSTATUS(p->status);
}

void katt_peer_kill(struct katt_peer *p)
{
	int status;

	if (p->pid) {
		kill(p->pid, SIGKILL);
		if (waitpid(p->pid, &status, 0) == p->pid)
			reap(p, status);
		p->pid = 0;
	}
	katt_peer_close_in(p);
	if (p->out >= 0)
		close(p->out);
	p->out = -1;
}

void katt_peer_close_in(struct katt_peer *p)
{
	if (p->in >= 0)
		close(p->in);
	p->in = -1;
}

const char *katt_peer_stderr(struct katt_peer *p, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	buf[0] = '\0';
	fd = open(p->err_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return buf;
	n = read(fd, buf, size - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

int katt_peer_wait_stderr(struct katt_peer *p, const char *want,
			  int timeout_ms)
{
	long long end = now_ms() + timeout_ms;
	char buf[8192];

	do {
		if (strstr(katt_peer_stderr(p, buf, sizeof(buf)), want))
			return 0;
		poll(NULL, 0, 20);
	} while (now_ms() < end);
	return -ETIMEDOUT;
}

int katt_peer_expect(struct katt_peer *p, const char *want, char *buf,
		     size_t size, int timeout_ms)
{
	long long end = now_ms() + timeout_ms;
	struct pollfd pfd = { .fd = p->out, .events = POLLIN };
	size_t len = strlen(buf);
	ssize_t n;
	int left;

	for (;;) {
		if (strstr(buf, want))
			return 0;
		if (len + 1 >= size)
			return -ETIMEDOUT;
		left = end - now_ms();
		/* what is there already is read even at the deadline */
		if (poll(&pfd, 1, left > 0 ? left : 0) <= 0) {
			if (now_ms() >= end)
				return -ETIMEDOUT;
			continue;
		}
		n = read(p->out, buf + len, size - 1 - len);
		if (n < 0 && errno == EAGAIN)
			continue;
		if (n <= 0)
			return n ? -errno : -EPIPE;
		len += n;
		buf[len] = '\0';
	}
}

int katt_wait_listen(uint16_t port, int timeout_ms)
{
	long long end = now_ms() + timeout_ms;
	unsigned int lport, st;
	char line[256];
	bool found;
	FILE *f;
	static const char *const files[] = { "/proc/net/tcp", "/proc/net/tcp6" };
	int i;

	do {
		found = false;
		for (i = 0; i < 2 && !found; i++) {
			f = fopen(files[i], "r");
			if (!f)
				continue;
			/* "  N: LOCALADDR:PORT REMADDR:PORT ST ...", 0A: listen */
			while (!found && fgets(line, sizeof(line), f))
				found = sscanf(line, " %*u: %*x:%x %*x:%*x %x",
					       &lport, &st) == 2 &&
					lport == port && st == 0x0a;
			fclose(f);
		}
		if (found)
			return 0;
		poll(NULL, 0, 20);
	} while (now_ms() < end);
	return -ETIMEDOUT;
}

static int first_diff(const uint8_t *a, const uint8_t *b, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (a[i] != b[i])
			return i;
	return -1;
}

int katt_xfer_run(struct katt_xfer *x, int timeout_ms)
{
	long long end = now_ms() + timeout_ms;
	size_t chunk = x->chunk ? x->chunk : XFER_BUF, n;
	int fd = ktls_attest_fd(x->ka);
	uint8_t *buf;
	struct pollfd pfd[3];
	ssize_t r;
	int d, left;

	buf = malloc(XFER_BUF);
	if (!buf)
		return -ENOMEM;
	x->lib_sent = x->lib_got = x->peer_sent = x->peer_got = 0;
	x->why[0] = '\0';
	while (x->lib_got < x->peer_tx_len || x->peer_got < x->lib_tx_len) {
		left = end - now_ms();
		if (left <= 0) {
			snprintf(x->why, sizeof(x->why),
				 "timeout: library sent %zu/%zu, program got %zu; program sent %zu/%zu, library got %zu",
				 x->lib_sent, x->lib_tx_len, x->peer_got,
				 x->peer_sent, x->peer_tx_len, x->lib_got);
			goto out_err;
		}
		pfd[0].fd = fd;
		pfd[0].events = POLLIN |
				(x->lib_sent < x->lib_tx_len ? POLLOUT : 0);
		pfd[1].fd = x->peer_sent < x->peer_tx_len ? x->peer->in : -1;
		pfd[1].events = POLLOUT;
		pfd[2].fd = x->peer->out;
		pfd[2].events = POLLIN;
		if (poll(pfd, 3, left) < 0 && errno != EINTR) {
			snprintf(x->why, sizeof(x->why), "poll: %s",
				 strerror(errno));
			goto out_err;
		}
		if (pfd[0].revents & (POLLIN | POLLERR | POLLHUP)) {
			/* everything that is there, OpenSSL's buffer too */
			for (;;) {
				r = ktls_attest_recv(x->ka, buf, XFER_BUF,
						     MSG_DONTWAIT);
				if (r == -EAGAIN)
					break;
				if (r <= 0) {
					snprintf(x->why, sizeof(x->why),
						 "library receive after %zu bytes: %zd (%s)",
						 x->lib_got, r,
						 ktls_attest_strerror(x->ka));
					goto out_err;
				}
				if ((size_t)r > x->peer_tx_len - x->lib_got) {
					snprintf(x->why, sizeof(x->why),
						 "library received %zu bytes, %zu were sent",
						 x->lib_got + r, x->peer_tx_len);
					goto out_err;
				}
				d = first_diff(buf, x->peer_tx + x->lib_got, r);
				if (d >= 0) {
					snprintf(x->why, sizeof(x->why),
						 "library received a wrong byte at offset %zu",
						 x->lib_got + d);
					goto out_err;
				}
				x->lib_got += r;
			}
		}
		if ((pfd[0].revents & POLLOUT) && x->lib_sent < x->lib_tx_len) {
			n = x->lib_tx_len - x->lib_sent;
			r = ktls_attest_send(x->ka, x->lib_tx + x->lib_sent,
					     n < chunk ? n : chunk, MSG_DONTWAIT);
			if (r < 0 && r != -EAGAIN) {
				snprintf(x->why, sizeof(x->why),
					 "library send after %zu bytes: %s",
					 x->lib_sent, ktls_attest_strerror(x->ka));
				goto out_err;
			}
			if (r > 0)
				x->lib_sent += r;
		}
		if (pfd[1].revents & (POLLOUT | POLLERR)) {
			n = x->peer_tx_len - x->peer_sent;
			r = write(x->peer->in, x->peer_tx + x->peer_sent,
				  n < chunk ? n : chunk);
			if (r < 0 && errno != EAGAIN && errno != EINTR) {
				snprintf(x->why, sizeof(x->why),
					 "writing to the program: %s",
					 strerror(errno));
				goto out_err;
			}
			if (r > 0)
				x->peer_sent += r;
		}
		if (pfd[2].revents & (POLLIN | POLLHUP)) {
			r = read(x->peer->out, buf, XFER_BUF);
			if (r < 0 && errno == EAGAIN)
				continue;
			if (r <= 0) {
				snprintf(x->why, sizeof(x->why),
					 "the program's output ended after %zu bytes",
					 x->peer_got);
				goto out_err;
			}
			if ((size_t)r > x->lib_tx_len - x->peer_got) {
				snprintf(x->why, sizeof(x->why),
					 "the program printed %zu bytes, %zu were sent",
					 x->peer_got + r, x->lib_tx_len);
				goto out_err;
			}
			d = first_diff(buf, x->lib_tx + x->peer_got, r);
			if (d >= 0) {
				snprintf(x->why, sizeof(x->why),
					 "the program received a wrong byte at offset %zu",
					 x->peer_got + d);
				goto out_err;
			}
			x->peer_got += r;
		}
	}
	free(buf);
	return 0;

out_err:
	free(buf);
	return -EIO;
}

int katt_ktls_cipher(int fd, int dir)
{
	struct tls_crypto_info ci;	/* version and cipher only */
	socklen_t len = sizeof(ci);

	memset(&ci, 0, sizeof(ci));
	if (getsockopt(fd, SOL_TLS, dir, &ci, &len))
		return -errno;
	return ci.cipher_type;
}
