/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Programs at the other end of a test connection (openssl s_server and
 * s_client, the example programs): started with their standard input and
 * output on pipes and their standard error in a file; and a transfer
 * engine that moves two byte streams at once through a library connection
 * and such a program, comparing every byte.
 *
 * Like lib/ktls.h, nothing here knows the kselftest harness: 0 on
 * success, a negative errno on failure.
 */
#ifndef KATT_PEER_SELFTEST_LIB_H
#define KATT_PEER_SELFTEST_LIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct ktls_attest;

struct katt_peer {
	pid_t pid;		/* 0: not running (reaped) */
	int in, out;		/* its stdin (we write), its stdout (we read) */
	int status;		/* waitpid() status once reaped */
	char err_path[256];	/* its stderr */
};

#define KATT_PEER_INIT { .in = -1, .out = -1 }

/*
 * Starts @argv[0] (searched in PATH) with @envp added to the environment
 * (NULL-terminated "VAR=VALUE" strings, or NULL); its stderr goes to
 * @err_path.  It dies with the calling process (PR_SET_PDEATHSIG).
 */
int katt_peer_start(struct katt_peer *p, char *const argv[],
		    char *const envp[], const char *err_path);
/* The same in the network namespace @netns_fd (-1: the caller's). */
int katt_peer_start_in(struct katt_peer *p, char *const argv[],
		       char *const envp[], const char *err_path, int netns_fd);
/* Until its stderr has @want in it, or @timeout_ms; 0 or -ETIMEDOUT. */
int katt_peer_wait_stderr(struct katt_peer *p, const char *want,
			  int timeout_ms);
/* Waits up to @timeout_ms for its exit; its exit status, or -ETIMEDOUT
 * (then it is killed) or -ECHILD (killed by a signal).
 */
int katt_peer_wait(struct katt_peer *p, int timeout_ms);
void katt_peer_kill(struct katt_peer *p);
void katt_peer_close_in(struct katt_peer *p);
/* The first @size - 1 bytes of its stderr so far, NUL-terminated. */
const char *katt_peer_stderr(struct katt_peer *p, char *buf, size_t size);
/*
 * Reads its stdout until @want (a string) has come or @timeout_ms passed;
 * what came is kept in @buf (NUL-terminated).  0 or -ETIMEDOUT.
 */
int katt_peer_expect(struct katt_peer *p, const char *want, char *buf,
		     size_t size, int timeout_ms);

/* Until a TCP socket of this namespace listens on @port; 0 or -ETIMEDOUT. */
int katt_wait_listen(uint16_t port, int timeout_ms);

/*
 * Two streams at once: @lib_tx from the library connection @ka to the
 * program (which prints what it receives on its stdout), and @peer_tx
 * typed into the program's stdin and received by @ka.  The library's
 * socket must be non-blocking.  Every byte is compared; the first
 * difference, or whatever else went wrong, is in @why.
 */
struct katt_xfer {
	struct ktls_attest *ka;
	struct katt_peer *peer;
	const uint8_t *lib_tx, *peer_tx;
	size_t lib_tx_len, peer_tx_len;
	size_t chunk;		/* largest write each way; 0: 64 KiB */
	/* results */
	size_t lib_sent, lib_got, peer_sent, peer_got;
	char why[256];
};

int katt_xfer_run(struct katt_xfer *x, int timeout_ms);

/* The record type of the library socket's kTLS TX or RX (SOL_TLS), or -errno. */
int katt_ktls_cipher(int fd, int dir);

#endif /* KATT_PEER_SELFTEST_LIB_H */
