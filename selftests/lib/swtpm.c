// SPDX-License-Identifier: GPL-2.0
/* The software TPM of swtpm.h. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "swtpm.h"

int run_cmd(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static bool can_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	if (fd < 0)
		return false;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ok = !connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	return ok;
}

int swtpm_resume(struct swtpm *t, const char *startup)
{
	char server[128], ctrl[128], state[128], flags[64], sock[96];
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int i, null;

	snprintf(sock, sizeof(sock), "%s/tpm", t->dir);
	snprintf(server, sizeof(server), "type=unixio,path=%s", sock);
	snprintf(ctrl, sizeof(ctrl), "type=unixio,path=%s.ctrl", sock);
	snprintf(state, sizeof(state), "dir=%s", t->dir);
	snprintf(flags, sizeof(flags), "not-need-init,startup-%s",
		 startup ? startup : "clear");
	unlink(sock);
	t->pid = fork();
	if (t->pid < 0)
		return -1;
	if (!t->pid) {
		/* the TPM goes with the test that started it */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
		}
		execlp("swtpm", "swtpm", "socket", "--tpm2", "--server", server,
		       "--ctrl", ctrl, "--tpmstate", state, "--flags", flags,
		       (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 500; i++) {
		int st;

		if (can_connect(sock))
			return 0;
		if (waitpid(t->pid, &st, WNOHANG) == t->pid) {
			t->pid = 0;
			fprintf(stderr, "swtpm exited at start (status %d)\n",
				WIFEXITED(st) ? WEXITSTATUS(st) : -1);
			return WIFEXITED(st) && WEXITSTATUS(st) == 127 ? -2 : -1;
		}
		nanosleep(&ts, NULL);
	}
	fprintf(stderr, "swtpm did not open %s in 5 s\n", sock);
	swtpm_stop(t);
	return -1;
}

static int make_dir(struct swtpm *t)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->dir, sizeof(t->dir), "/tmp/katt-swtpm.XXXXXX");
	if (!mkdtemp(t->dir)) {
		perror("mkdtemp");
		t->dir[0] = '\0';
		return -1;
	}
	snprintf(t->tcti, sizeof(t->tcti), "swtpm:path=%s/tpm", t->dir);
	return 0;
}

int swtpm_start_from(struct swtpm *t, const char *state_dir)
{
	if (make_dir(t))
		return -1;
	if (swtpm_load_state(t, state_dir))
		return -1;
	return swtpm_resume(t, NULL);
}

int swtpm_start(struct swtpm *t)
{
	if (make_dir(t))
		return -1;
	return swtpm_resume(t, NULL);
}

void swtpm_stop(struct swtpm *t)
{
	if (t->pid > 0) {
		kill(t->pid, SIGTERM);
		waitpid(t->pid, NULL, 0);
	}
	t->pid = 0;
}

void swtpm_destroy(struct swtpm *t)
{
	swtpm_stop(t);
	if (t->dir[0])
		run_cmd("rm -rf '%s'", t->dir);
	t->dir[0] = '\0';
}

int swtpm_save_state(const struct swtpm *t, const char *dir)
{
	return run_cmd("mkdir -p '%s' && cp -p '%s'/tpm2-* '%s'/", dir, t->dir,
		       dir);
}

int swtpm_load_state(const struct swtpm *t, const char *dir)
{
	return run_cmd("rm -f '%s'/tpm2-* && cp -p '%s'/tpm2-* '%s'/", t->dir,
		       dir, t->dir);
}
