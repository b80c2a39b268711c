// SPDX-License-Identifier: GPL-2.0
/*
 * clockstore.c: the per-AK counters of clockstore.h.
 *
 * Each AK has a history of (stamp, counters), stamps ascending and
 * counters never decreasing: entry k is the AK's highest as of its stamp.
 * The floor for a mark is the last entry stamped before the mark; entries
 * loaded from disk have stamp 0, before every mark.  A history keeps only
 * the entries some open mark can still see, so it holds one entry when no
 * Challenge is open.
 *
 * Owns: its memory and the counters-* files.  Calls: statedir, jansson,
 * tpm_crypto (hex), log.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "clockstore.h"
#include "log.h"
#include "statedir.h"
#include "tpm_crypto.h"

#define FILE_PREFIX	"counters-"
#define FILE_MAX	4096

struct stamped {
	uint64_t stamp;
	struct katt_counters c;
};

struct ak_entry {
	struct ak_entry *next;
	TPM2B_NAME name;
	struct stamped *hist;
	size_t nhist, cap;
};

struct katt_clock_store {
	char dir[PATH_MAX];
	uint64_t now;		/* the last stamp or mark given */
	uint64_t *marks;	/* open marks, ascending */
	size_t nmarks, cap;
	struct ak_entry *aks;
};

int katt_counters_cmp(const struct katt_counters *a,
		      const struct katt_counters *b)
{
	if (a->reset != b->reset)
		return a->reset < b->reset ? -1 : 1;
	if (a->restart != b->restart)
		return a->restart < b->restart ? -1 : 1;
	if (a->clock != b->clock)
		return a->clock < b->clock ? -1 : 1;
	return 0;
}

int katt_clock_store_open(const char *state_dir, struct katt_clock_store **out)
{
	struct katt_clock_store *s;
	int ret;

	*out = NULL;
	ret = katt_state_prepare(state_dir);
	if (ret)
		return ret;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	if (snprintf(s->dir, sizeof(s->dir), "%s", state_dir) >=
	    (int)sizeof(s->dir)) {
		free(s);
		return -ENAMETOOLONG;
	}
	*out = s;
	return 0;
}

void katt_clock_store_close(struct katt_clock_store *s)
{
	struct ak_entry *e, *next;

	if (!s)
		return;
	for (e = s->aks; e; e = next) {
		next = e->next;
		free(e->hist);
		free(e);
	}
	free(s->marks);
	free(s);
}

uint64_t katt_clock_mark(struct katt_clock_store *s)
{
	uint64_t *m;

	if (s->nmarks == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;

		m = realloc(s->marks, cap * sizeof(*m));
		if (!m) {
			/*
			 * Without room for the mark, the exchange is compared
			 * with everything accepted until its Evidence comes:
			 * stricter, never looser.
			 */
			return UINT64_MAX;
		}
		s->marks = m;
		s->cap = cap;
	}
	s->marks[s->nmarks++] = ++s->now;
	return s->now;
}

/* The oldest open mark, or one past every stamp when none is open. */
static uint64_t oldest_mark(const struct katt_clock_store *s)
{
	return s->nmarks ? s->marks[0] : s->now + 1;
}

/* Drops what no open mark can see: all but the last entry before it. */
static void prune(const struct katt_clock_store *s, struct ak_entry *e)
{
	uint64_t oldest = oldest_mark(s);
	size_t k = 0;

	while (k + 1 < e->nhist && e->hist[k + 1].stamp < oldest)
		k++;
	if (k) {
		memmove(e->hist, e->hist + k, (e->nhist - k) * sizeof(*e->hist));
		e->nhist -= k;
	}
}

void katt_clock_unmark(struct katt_clock_store *s, uint64_t mark)
{
	struct ak_entry *e;
	size_t i;

	for (i = 0; i < s->nmarks; i++)
		if (s->marks[i] == mark)
			break;
	if (i == s->nmarks)
		return;
	memmove(s->marks + i, s->marks + i + 1,
		(s->nmarks - i - 1) * sizeof(*s->marks));
	s->nmarks--;
	for (e = s->aks; e; e = e->next)
		prune(s, e);
}

void katt_clock_file(const TPM2B_NAME *ak, char *out, size_t len)
{
	char hex[2 * sizeof(ak->name) + 1];

	katt_hex(ak->name, ak->size, hex);
	snprintf(out, len, FILE_PREFIX "%s", hex);
}

static bool same_name(const TPM2B_NAME *a, const TPM2B_NAME *b)
{
	return a->size == b->size && !memcmp(a->name, b->name, a->size);
}

static int push(struct ak_entry *e, uint64_t stamp, const struct katt_counters *c)
{
	struct stamped *h;

	if (e->nhist == e->cap) {
		size_t cap = e->cap ? 2 * e->cap : 4;

		h = realloc(e->hist, cap * sizeof(*h));
		if (!h)
			return -ENOMEM;
		e->hist = h;
		e->cap = cap;
	}
	e->hist[e->nhist].stamp = stamp;
	e->hist[e->nhist].c = *c;
	e->nhist++;
	return 0;
}

/* Reads the AK's file into @e: 0 (also when there is none) or -EIO. */
static int load(struct katt_clock_store *s, struct ak_entry *e)
{
	char name[KATT_CLOCK_FILE_MAX], buf[FILE_MAX];
	json_int_t reset, restart, clock;
	struct katt_counters c;
	json_error_t jerr;
	json_t *j;
	long n;
	int ret = -EIO;

	katt_clock_file(&e->name, name, sizeof(name));
	n = katt_state_read(s->dir, name, buf, sizeof(buf));
	if (n == -ENOENT)
		return 0;
	if (n < 0) {
		katt_err("RP: counters %s/%s: %s", s->dir, name, strerror(-n));
		return -EIO;
	}
	j = json_loadb(buf, n, JSON_REJECT_DUPLICATES, &jerr);
	if (!j) {
		katt_err("RP: counters %s/%s: %s", s->dir, name, jerr.text);
		return -EIO;
	}
	if (json_unpack_ex(j, &jerr, JSON_STRICT, "{s:I, s:I, s:I}",
			   "resetCount", &reset, "restartCount", &restart,
			   "clock", &clock)) {
		katt_err("RP: counters %s/%s: %s", s->dir, name, jerr.text);
		goto out;
	}
	if (reset < 0 || reset > UINT32_MAX || restart < 0 ||
	    restart > UINT32_MAX || clock < 0) {
		katt_err("RP: counters %s/%s: a value out of range", s->dir, name);
		goto out;
	}
	c.reset = reset;
	c.restart = restart;
	c.clock = clock;
	ret = push(e, 0, &c);
out:
	json_decref(j);
	return ret;
}

/* The AK's entry, loaded from disk the first time. */
static int entry(struct katt_clock_store *s, const TPM2B_NAME *ak,
		 struct ak_entry **out)
{
	struct ak_entry *e;
	int ret;

	for (e = s->aks; e; e = e->next) {
		if (same_name(&e->name, ak)) {
			*out = e;
			return 0;
		}
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->name = *ak;
	ret = load(s, e);
	if (ret) {
		free(e->hist);
		free(e);
		return ret;
	}
	e->next = s->aks;
	s->aks = e;
	*out = e;
	return 0;
}

int katt_clock_floor(struct katt_clock_store *s, const TPM2B_NAME *ak,
		     uint64_t mark, struct katt_counters *floor)
{
	struct ak_entry *e;
	size_t k;
	int ret;

	ret = entry(s, ak, &e);
	if (ret)
		return ret == -ENOMEM ? ret : -EIO;
	for (k = e->nhist; k-- > 0;) {
		if (e->hist[k].stamp < mark) {
			*floor = e->hist[k].c;
			return 0;
		}
	}
	return -ENOENT;
}

static int save(struct katt_clock_store *s, const TPM2B_NAME *ak,
		const struct katt_counters *c)
{
	char name[KATT_CLOCK_FILE_MAX], *text;
	json_t *j;
	int ret;

	j = json_pack("{s:I, s:I, s:I}", "resetCount", (json_int_t)c->reset,
		      "restartCount", (json_int_t)c->restart,
		      "clock", (json_int_t)c->clock);
	if (!j)
		return -ENOMEM;
	text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!text)
		return -ENOMEM;
	katt_clock_file(ak, name, sizeof(name));
	ret = katt_state_write(s->dir, name, text, strlen(text));
	free(text);
	if (ret)
		katt_err("RP: counters %s/%s: %s", s->dir, name, strerror(-ret));
	return ret;
}

int katt_clock_accept(struct katt_clock_store *s, const TPM2B_NAME *ak,
		      const struct katt_counters *c)
{
	struct ak_entry *e;
	int ret;

	if (c->clock > INT64_MAX)
		return -ERANGE;
	ret = entry(s, ak, &e);
	if (ret)
		return ret;
	if (e->nhist && katt_counters_cmp(c, &e->hist[e->nhist - 1].c) <= 0)
		return 0;
	ret = save(s, ak, c);
	if (ret)
		return ret;
	ret = push(e, ++s->now, c);
	if (!ret)
		prune(s, e);
	return ret;
}
