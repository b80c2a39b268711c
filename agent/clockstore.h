/* SPDX-License-Identifier: GPL-2.0 */
/*
 * clockstore.h: the RP's memory of each AK's TPM counters, for check 7 of
 * the tpm2-quote appraisal (Documentation/protocol.rst).
 *
 * Counters (resetCount, restartCount, clock) are ordered by resetCount,
 * then restartCount, then clock: clock is compared only within the same
 * resetCount and restartCount (a TPM Reset may set clock back after a power
 * loss, and raises resetCount).  For each AK the store keeps the highest
 * counters of the quotes it accepted, in memory and in the state directory
 * (one file per AK, "counters-<Name in hex>", JSON), so that they hold
 * across agent restarts.
 *
 * A quote is compared with the AK's counters as they were when its
 * Challenge was sent, not as they are when it arrives: the quotes one
 * attester makes for many connections at once arrive in any order, and a
 * genuine quote made after its Challenge was sent is never below anything
 * accepted before that.  katt_clock_mark() takes a mark when a Challenge
 * goes out; katt_clock_floor() answers for that mark; each accept is
 * stamped, and the stamps older than the oldest open mark are dropped.
 *
 * Not thread-safe: one thread owns a store.
 *
 * Owns: its memory and the counters-* files.  Calls: statedir, jansson,
 * tpm_crypto (hex), log.
 */
#ifndef KATT_AGENT_CLOCKSTORE_H
#define KATT_AGENT_CLOCKSTORE_H

#include <stdbool.h>
#include <stdint.h>

#include <tss2/tss2_tpm2_types.h>

struct katt_counters {
	uint32_t reset;		/* resetCount */
	uint32_t restart;	/* restartCount */
	uint64_t clock;		/* clock, ms */
};

struct katt_clock_store;

/* < 0, 0 or > 0 as @a is lower, the same or higher than @b. */
int katt_counters_cmp(const struct katt_counters *a,
		      const struct katt_counters *b);

/* A store on @state_dir (made if missing).  0 or a negative errno. */
int katt_clock_store_open(const char *state_dir, struct katt_clock_store **out);
void katt_clock_store_close(struct katt_clock_store *s);

/* A mark for a Challenge that goes out now; never 0. */
uint64_t katt_clock_mark(struct katt_clock_store *s);
/* The exchange of @mark is over (Verdict sent, Error, deadline). */
void katt_clock_unmark(struct katt_clock_store *s, uint64_t mark);

/*
 * The highest counters accepted for @ak before @mark was taken (in this
 * run or, from the state directory, before it).  Returns 0, -ENOENT (none:
 * the AK's first quote) or -EIO (its file cannot be read: fail closed).
 */
int katt_clock_floor(struct katt_clock_store *s, const TPM2B_NAME *ak,
		     uint64_t mark, struct katt_counters *floor);

/*
 * Records accepted counters: the AK's highest becomes the higher of it and
 * @c, in memory and, if it changed, on disk.  0 or a negative errno (the
 * file could not be written).
 */
int katt_clock_accept(struct katt_clock_store *s, const TPM2B_NAME *ak,
		      const struct katt_counters *c);

/* The name of the file of @ak in the state directory, and its size. */
#define KATT_CLOCK_FILE_MAX	(sizeof("counters-") + 2 * sizeof(TPMU_NAME))
void katt_clock_file(const TPM2B_NAME *ak, char *out, size_t len);

#endif /* KATT_AGENT_CLOCKSTORE_H */
