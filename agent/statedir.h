/* SPDX-License-Identifier: GPL-2.0 */
/*
 * statedir.h: the agent's state directory (e.g. /var/lib/ktls-attestd):
 * small files written whole and atomically (a temporary file, fsync,
 * rename, fsync of the directory), so that a crash leaves the old content
 * or the new, never a mix.  It holds the attestation key's blobs (ak.c)
 * and, for the RP, the highest TPM counters accepted per AK (clockstore.c).
 *
 * Owns: the files it writes (mode 0600) and the directory (mode 0700, made
 * if missing).  Calls: POSIX file I/O only.
 */
#ifndef KATT_AGENT_STATEDIR_H
#define KATT_AGENT_STATEDIR_H

#include <stddef.h>
#include <stdint.h>

/* Makes @dir (one level) if it is missing.  0 or a negative errno. */
int katt_state_prepare(const char *dir);

/*
 * Reads the whole file @name of @dir, at most @cap bytes, into @buf.
 * Returns its length, -ENOENT, -EFBIG (larger than @cap) or another
 * negative errno.
 */
long katt_state_read(const char *dir, const char *name, void *buf, size_t cap);

/* Replaces the file @name of @dir by @len bytes at @buf, atomically. */
int katt_state_write(const char *dir, const char *name, const void *buf,
		     size_t len);

/* Writes all @len bytes of @buf to @fd (EINTR retried).  0 or -errno. */
int katt_write_all(int fd, const void *buf, size_t len);

/* Removes @name from @dir; a missing file is no error. */
int katt_state_remove(const char *dir, const char *name);

#endif /* KATT_AGENT_STATEDIR_H */
