/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A software TPM for host tests: swtpm (socket --tpm2) on unix sockets in
 * a throwaway directory, reached through tpm2-tss's swtpm TCTI
 * ("swtpm:path=DIR/tpm").  Started with startup-clear, so every start is a
 * TPM Reset (resetCount + 1); its state can be copied away and put back
 * (a TPM rolled back to an earlier snapshot).
 */
#ifndef KATT_SWTPM_SELFTEST_LIB_H
#define KATT_SWTPM_SELFTEST_LIB_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

struct swtpm {
	char dir[64];		/* the state, and the sockets */
	char tcti[128];		/* for Tss2_TctiLdr_Initialize */
	pid_t pid;
};

/*
 * Makes a new state directory and starts swtpm on it.  0, or -1 with a
 * message on stderr (no swtpm installed: -2).
 */
int swtpm_start(struct swtpm *t);
/*
 * The same on a copy of the state in @state_dir (of a stopped TPM): a TPM
 * with the same seeds, so the AKs made on the original load on it.
 */
int swtpm_start_from(struct swtpm *t, const char *state_dir);
/* Starts it again on its state (after swtpm_stop()): a TPM Reset. */
int swtpm_resume(struct swtpm *t, const char *startup);
/* Stops the process (SIGTERM, then waits). */
void swtpm_stop(struct swtpm *t);
/* Stops it and removes its directory. */
void swtpm_destroy(struct swtpm *t);
/* Copies the state (of a stopped TPM) to or from @dir. */
int swtpm_save_state(const struct swtpm *t, const char *dir);
int swtpm_load_state(const struct swtpm *t, const char *dir);

/* Runs a shell command line; returns its exit status (-1 if it died). */
int run_cmd(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* KATT_SWTPM_SELFTEST_LIB_H */
