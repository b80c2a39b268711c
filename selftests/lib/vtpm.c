// SPDX-License-Identifier: GPL-2.0
/*
 * The second TPM of vtpm.h: swtpm behind the vTPM proxy.
 *
 * swtpm's standard output and error go to swtpm.log in its state
 * directory (a file, not a pipe: swtpm keeps writing to it after the
 * start, and a closed pipe would kill it), where the device name is read.
 * The TPM is ready when TPM2_GetRandom on the resource manager's node is
 * answered with success: startup-clear has run.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vtpm.h"

#define VTPMX		"/dev/vtpmx"
#define DEV_LINE	"New TPM device: /dev/tpm"

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int load_proxy(void)
{
	if (!access(VTPMX, R_OK | W_OK))
		return 0;
	if (system("modprobe tpm_vtpm_proxy") || access(VTPMX, R_OK | W_OK)) {
		fprintf(stderr, "vtpm: no %s (modprobe tpm_vtpm_proxy failed)\n",
			VTPMX);
		return -ENOENT;
	}
	return 0;
}

/* The N of "New TPM device: /dev/tpmN" in @log; -EAGAIN until it is there. */
static int device_number(const char *log)
{
	char buf[4096], *p;
	ssize_t n;
	int fd;

	fd = open(log, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -EAGAIN;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EAGAIN;
	buf[n] = '\0';
	p = strstr(buf, DEV_LINE);
	if (!p || !strchr(p, '\n'))
		return -EAGAIN;
	return atoi(p + strlen(DEV_LINE));
}

/* TPM2_GetRandom(8) on @path: 0 once the TPM answers it with success. */
static int tpm_answers(const char *path)
{
	static const unsigned char cmd[] = {
		0x80, 0x01, 0x00, 0x00, 0x00, 0x0c,	/* no sessions, 12 bytes */
		0x00, 0x00, 0x01, 0x7b,			/* TPM2_CC_GetRandom */
		0x00, 0x08,
	};
	unsigned char rsp[64];
	struct pollfd pfd;
	ssize_t n;
	int fd, ret = -EAGAIN;

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -EAGAIN;
	if (write(fd, cmd, sizeof(cmd)) != (ssize_t)sizeof(cmd))
		goto out;
	pfd.fd = fd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 5000) != 1)
		goto out;
	n = read(fd, rsp, sizeof(rsp));
	/* tag, size, responseCode 0 */
	if (n >= 10 && !rsp[6] && !rsp[7] && !rsp[8] && !rsp[9])
		ret = 0;
out:
	close(fd);
	return ret;
}

int vtpm_start(struct vtpm *t, const char *state_dir)
{
	char log[PATH_MAX + 16], state[PATH_MAX + 8];
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	long long deadline;
	int ret, num = -EAGAIN, fd, st;

	memset(t, 0, sizeof(*t));
	ret = load_proxy();
	if (ret)
		return ret;
	snprintf(t->state, sizeof(t->state), "%s", state_dir);
	if (mkdir(t->state, 0700) && errno != EEXIST) {
		ret = -errno;
		fprintf(stderr, "vtpm: mkdir %s: %s\n", t->state, strerror(errno));
		return ret;
	}
	snprintf(log, sizeof(log), "%s/swtpm.log", t->state);
	snprintf(state, sizeof(state), "dir=%s", t->state);
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		fprintf(stderr, "vtpm: %s: %s\n", log, strerror(errno));
		return ret;
	}
	t->pid = fork();
	if (t->pid < 0) {
		ret = -errno;
		close(fd);
		t->pid = 0;
		return ret;
	}
	if (!t->pid) {
		/* the TPM goes with the test that started it */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(fd, 1);
		dup2(fd, 2);
		execlp("swtpm", "swtpm", "chardev", "--vtpm-proxy", "--tpm2",
		       "--tpmstate", state, "--flags", "startup-clear",
		       (char *)NULL);
		_exit(127);
	}
	close(fd);

	deadline = mono_ms() + VTPM_START_MS;
	while (mono_ms() < deadline) {
		if (waitpid(t->pid, &st, WNOHANG) == t->pid) {
			t->pid = 0;
			fprintf(stderr, "vtpm: swtpm exited at start (status %d), see %s\n",
				WIFEXITED(st) ? WEXITSTATUS(st) : -1, log);
			return WIFEXITED(st) && WEXITSTATUS(st) == 127 ?
			       -ENOENT : -EIO;
		}
		if (num < 0) {
			num = device_number(log);
			if (num >= 0) {
				snprintf(t->dev, sizeof(t->dev), "/dev/tpm%d", num);
				snprintf(t->rm, sizeof(t->rm), "/dev/tpmrm%d", num);
				snprintf(t->tcti, sizeof(t->tcti), "device:%s",
					 t->rm);
			}
		}
		if (num >= 0 && !tpm_answers(t->rm))
			return 0;
		nanosleep(&ts, NULL);
	}
	fprintf(stderr, "vtpm: no TPM answering within %d ms (device %s), see %s\n",
		VTPM_START_MS, num >= 0 ? t->rm : "not named", log);
	vtpm_stop(t);
	return -ETIMEDOUT;
}

void vtpm_stop(struct vtpm *t)
{
	if (t->pid > 0) {
		kill(t->pid, SIGTERM);
		waitpid(t->pid, NULL, 0);
	}
	t->pid = 0;
}
