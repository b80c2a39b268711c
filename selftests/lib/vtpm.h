/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A second TPM in the test VM: swtpm (chardev --vtpm-proxy --tpm2) behind
 * the kernel's vTPM proxy (tpm_vtpm_proxy), which gives it a real device
 * node, /dev/tpmN and its resource manager /dev/tpmrmN, next to the VM's
 * own TPM.  Unlike swtpm on a socket, a device node works the same from
 * every network namespace, and tpm2-tss's device TCTI can poll it.
 *
 * swtpm is started with startup-clear (it sends TPM2_Startup itself: every
 * start is a TPM Reset), its state in a directory of the caller's, and it
 * dies with the thread that started it (PR_SET_PDEATHSIG).  The device's
 * number is the one swtpm prints ("New TPM device: /dev/tpm1 ...").
 *
 * Like lib/ktls.h, nothing here knows the kselftest harness: 0 on success,
 * a negative errno on failure (-ENOENT: no swtpm or no tpm_vtpm_proxy),
 * with a message on stderr.
 */
#ifndef KATT_VTPM_SELFTEST_LIB_H
#define KATT_VTPM_SELFTEST_LIB_H

#include <limits.h>
#include <sys/types.h>

struct vtpm {
	char state[PATH_MAX];	/* swtpm's --tpmstate dir */
	char dev[32];		/* /dev/tpmN */
	char rm[32];		/* /dev/tpmrmN, the resource manager */
	char tcti[48];		/* "device:/dev/tpmrmN" */
	pid_t pid;		/* 0: not running */
};

#define VTPM_START_MS	20000

/*
 * Loads tpm_vtpm_proxy if needed, starts swtpm on the state in
 * @state_dir (made if missing; an empty one is a new TPM) and waits until
 * the TPM answers on its resource manager's node.
 */
int vtpm_start(struct vtpm *t, const char *state_dir);
/* SIGTERM (swtpm saves its state), reaped; its device nodes go away. */
void vtpm_stop(struct vtpm *t);

#endif /* KATT_VTPM_SELFTEST_LIB_H */
