// SPDX-License-Identifier: GPL-2.0
/*
 * gate-bench: what a passed ktls-attest gate costs next to plain kTLS.
 *
 * Every measurement runs on loopback TCP pairs in two modes:
 *
 *   plain  TCP_ULP "tls" and the kTLS keys on both ends;
 *   gated  TCP_ULP "attest" first on both ends, then the same kTLS keys,
 *          then a "pass" verdict for each end over generic netlink.
 *
 * Tests (-t):
 *
 *   tput   bulk transfer with -s byte sends (16 KiB: full records), MB/s
 *   rec    stream of -m byte sends, each its own record, records/s
 *   rtt    ping-pong of one -m byte record each way, microseconds
 *   ttfb   first kTLS key to the peer's first received byte, the verdicts
 *          given at once (gated) or none needed (plain), microseconds;
 *          split into key install, verdicts and the first byte's trip
 *   mem    slab memory per socket: -k sockets keyed (and passed) at once,
 *          /proc/meminfo Slab and /proc/slabinfo before and after
 *
 * Made for a noisy, slow, emulated machine:
 *
 * - all threads run on one CPU (-P: not), so that the tests measure CPU
 *   cost, not how soon the host schedules the other vCPU for a wake-up;
 * - one warm-up repetition is not counted;
 * - within a repetition the modes alternate: streaming tests in slices of
 *   -l ms (plain, gated, gated, plain, ...; see stream_test()), ttfb
 *   sample by sample, and the mode that goes first alternates too;
 * - reported are the median and the range of each mode over the
 *   repetitions, and for the comparison the median of the ratios
 *   gated / plain of measurements taken next to each other (a slice and
 *   its neighbour, two neighbouring ttfb samples), which shared the same
 *   moments of host load, with a 95% confidence interval of that median.
 *
 * Needs root (verdicts need CAP_NET_ADMIN, slabinfo is root-only), the tls
 * module and ktls_attest loaded.  Exit status: 0, 1 if a measurement could
 * not be taken, 2 for a usage error.
 */
#include <errno.h>
#include <glob.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <linux/ktls_attest.h>

#include "katt_nl.h"
#include "ktls.h"

#define BENCH_MAX_REPS		100
#define BENCH_RECV_BUF		(256 * 1024)
#define BENCH_MAX_CACHES	1024
#define BENCH_TOP_CACHES	5

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define __printf(a, b)		__attribute__((format(printf, a, b)))
#define __noreturn		__attribute__((noreturn))

enum mode { M_PLAIN, M_GATED, M_NR };

static const char *const mode_name[M_NR] = { "plain", "gated" };

enum test {
	T_TPUT,
	T_REC,
	T_RTT,
	T_TTFB,
	T_MEM,
	T_NR
};

static const char *const test_name[T_NR] = {
	"tput", "rec", "rtt", "ttfb", "mem"
};

/* Rows of the report. */
enum row {
	R_TPUT,
	R_REC,
	R_RTT,
	R_TTFB,
	R_TTFB_KEYS,
	R_TTFB_VERDICT,
	R_TTFB_DATA,
	R_MEM_SLAB,
	R_MEM_OBJS,
	R_MEM_1K,
	R_MEM_4K,
	R_NR
};

struct row_info {
	const char *name;
	const char *unit;
	enum test test;
	bool higher_better;
	bool no_ratio;		/* plain kTLS has no such step */
};

#define ROW(n, u, t, hb, nr) \
	{ .name = n, .unit = u, .test = t, .higher_better = hb, .no_ratio = nr }

static const struct row_info rows[R_NR] = {
	[R_TPUT] = ROW("throughput", "MB/s", T_TPUT, true, false),
	[R_REC] = ROW("small_records", "rec/s", T_REC, true, false),
	[R_RTT] = ROW("rtt", "us", T_RTT, false, false),
	[R_TTFB] = ROW("ttfb", "us", T_TTFB, false, false),
	[R_TTFB_KEYS] = ROW("ttfb.keys", "us", T_TTFB, false, false),
	[R_TTFB_VERDICT] = ROW("ttfb.verdict", "us", T_TTFB, false, true),
	[R_TTFB_DATA] = ROW("ttfb.first_byte", "us", T_TTFB, false, false),
	[R_MEM_SLAB] = ROW("mem.slab", "B/sock", T_MEM, false, false),
	[R_MEM_OBJS] = ROW("mem.slab_objs", "B/sock", T_MEM, false, false),
	[R_MEM_1K] = ROW("mem.kmalloc-1k", "obj/sock", T_MEM, false, false),
	[R_MEM_4K] = ROW("mem.kmalloc-4k", "obj/sock", T_MEM, false, false),
};

struct config {
	unsigned int reps;
	size_t bulk_size;
	size_t small_size;
	unsigned int window_ms;
	unsigned int slice_ms;
	unsigned int ttfb_samples;
	unsigned int mem_socks;
	unsigned int mem_reps;
	uint16_t version;
	uint16_t cipher;
	const char *cipher_name;
	const char *crypto_alg;		/* the AEAD tls allocates */
	const char *version_name;
	unsigned int tests;		/* bit per enum test */
	int cpu;			/* pinned to; -1: not */
	bool json;
};

static struct config cfg = {
	.reps = 15,
	.bulk_size = TLS_MAX_PAYLOAD,
	.small_size = 64,
	.window_ms = 1000,
	.slice_ms = 100,
	.ttfb_samples = 20,
	.mem_socks = 1000,
	.mem_reps = 3,
	.version = TLS_1_3_VERSION,
	.cipher = TLS_CIPHER_AES_GCM_128,
	.cipher_name = "aes-gcm-128",
	.crypto_alg = "gcm(aes)",
	.version_name = "1.3",
	.tests = (1u << T_NR) - 1,
	.cpu = 0,
};

/* One value per counted repetition, per row and mode. */
static double results[R_NR][M_NR][BENCH_MAX_REPS];

/* Repetitions that measure @r: the memory test runs in the first few. */
static unsigned int row_reps(enum row r)
{
	if (rows[r].test == T_MEM && cfg.mem_reps < cfg.reps)
		return cfg.mem_reps;
	return cfg.reps;
}

/*
 * Ratios gated / plain of measurements taken next to each other: slices of
 * a streaming test, samples of ttfb, repetitions of mem; pooled over the
 * repetitions.
 */
struct ratios {
	double *v;
	unsigned int n, cap;
};

static struct ratios pairs[R_NR];

static void pair_add(enum row r, double plain, double gated)
{
	struct ratios *p = &pairs[r];

	if (!(plain > 0))
		return;
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 256;
		p->v = realloc(p->v, p->cap * sizeof(*p->v));
		if (!p->v) {
			fprintf(stderr, "gate-bench: out of memory\n");
			exit(1);
		}
	}
	p->v[p->n++] = gated / plain;
}

/* Slab caches that grew, summed over the repetitions: bytes per socket. */
struct cache_growth {
	char name[64];
	double bytes[M_NR];
};

static struct cache_growth growth[BENCH_MAX_CACHES];
static unsigned int ngrowth;

static struct katt_nl *nl;
static struct ktls_crypto c2s, s2c;	/* client to server, and back */
static char *sbuf, *rbuf;

static const char *prog = "gate-bench";
static struct utsname uts;
static char crypto_driver[128] = "?";

static void __noreturn __printf(1, 2) die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void __printf(1, 2) progress(const char *fmt, ...)
{
	va_list ap;

	if (cfg.json)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(const double *v, size_t n)
{
	double *s;
	double r;

	if (!n)
		return NAN;
	s = malloc(n * sizeof(*s));
	if (!s)
		die("out of memory");
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	r = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	free(s);
	return r;
}

/* --- pairs --------------------------------------------------------------- */

struct pair {
	int c;			/* connect() end */
	int s;			/* accept() end */
};

static void set_int(int fd, int level, int opt, int val, const char *what)
{
	if (setsockopt(fd, level, opt, &val, sizeof(val)))
		die("setsockopt(%s): %s", what, strerror(errno));
}

/* A TCP pair with TCP_ULP "attest" on both ends in gated mode. */
static void pair_tcp(struct pair *p, enum mode m)
{
	int ret;

	ret = ktls_tcp_pair(AF_INET, &p->c, &p->s);
	if (ret)
		die("loopback TCP pair: %s", strerror(-ret));
	if (m != M_GATED)
		return;
	ret = ktls_set_ulp(p->c, KTLS_ATTEST_ULP_NAME);
	if (!ret)
		ret = ktls_set_ulp(p->s, KTLS_ATTEST_ULP_NAME);
	if (ret)
		die("TCP_ULP \"%s\": %s%s", KTLS_ATTEST_ULP_NAME,
		    strerror(-ret),
		    ret == -ENOENT ? " (is ktls_attest loaded?)" : "");
}

static void set_keys(int fd, const struct ktls_crypto *tx,
		     const struct ktls_crypto *rx)
{
	if (setsockopt(fd, SOL_TLS, TLS_TX, &tx->info, tx->len))
		die("TLS_TX (%s): %s", cfg.cipher_name, strerror(errno));
	if (setsockopt(fd, SOL_TLS, TLS_RX, &rx->info, rx->len))
		die("TLS_RX (%s): %s", cfg.cipher_name, strerror(errno));
}

static void set_tls_ulp(struct pair *p)
{
	int ret = ktls_set_ulp(p->c, "tls");

	if (!ret)
		ret = ktls_set_ulp(p->s, "tls");
	if (ret)
		die("TCP_ULP \"tls\": %s%s", strerror(-ret),
		    ret == -ENOENT ? " (is tls loaded?)" : "");
}

static void status(int fd, struct ktls_attest_status *st)
{
	socklen_t len = sizeof(*st);

	if (getsockopt(fd, SOL_KTLS_ATTEST, KTLS_ATTEST_STATUS, st, &len))
		die("getsockopt(KTLS_ATTEST_STATUS): %s", strerror(errno));
}

/* The verdict "pass" for the current round of @fd. */
static void pass(int fd)
{
	struct ktls_attest_status st;
	int ret;

	status(fd, &st);
	ret = katt_nl_verdict(nl, st.cookie, st.round,
			      KTLS_ATTEST_VERDICT_PASS, NULL);
	if (ret)
		die("sock-verdict pass (cookie %llu, round %u): %s%s%s",
		    (unsigned long long)st.cookie, st.round, strerror(-ret),
		    *katt_nl_extack(nl) ? ": " : "", katt_nl_extack(nl));
}

static void check_passed(int fd)
{
	struct ktls_attest_status st;

	status(fd, &st);
	if (st.state != KTLS_ATTEST_STATE_PASSED)
		die("socket is %s after the verdict, not passed",
		    katt_nl_state_name(st.state));
}

/* A keyed pair; passed on both ends in gated mode. */
static void pair_open(struct pair *p, enum mode m)
{
	pair_tcp(p, m);
	set_tls_ulp(p);
	set_keys(p->c, &c2s, &s2c);
	set_keys(p->s, &s2c, &c2s);
	if (m != M_GATED)
		return;
	pass(p->c);
	pass(p->s);
	check_passed(p->c);
	check_passed(p->s);
}

static void pair_close(struct pair *p)
{
	close(p->c);
	close(p->s);
}

/* --- streaming: tput, rec, rtt ------------------------------------------- */

/*
 * A streaming test measures the two modes in alternating slices of -l ms:
 * plain, gated, gated, plain, plain, gated, ...  Host load on an emulated
 * machine comes in bursts; slices of a tenth of a second put both modes in
 * the same bursts.  Each slice of tput and rec has a connection of its own
 * that is opened for it and streams only during it (a connection whose
 * sender was paused between slices came back several times slower under
 * TCG, in both modes alike); the echo of rtt keeps one connection per mode,
 * idle between its slices.  Each slice starts with a short warm-up that is
 * not counted.
 */

struct stream {
	struct pair p;
	pthread_t thread;
	int stop;
	size_t size;		/* bytes per send; 0: an echo server */
	int err;
};

static void start_thread(pthread_t *t, void *(*fn)(void *), void *arg)
{
	int ret = pthread_create(t, NULL, fn, arg);

	if (ret)
		die("pthread_create: %s", strerror(ret));
}

static void *sender_main(void *arg)
{
	struct stream *st = arg;
	ssize_t n;

	while (!__atomic_load_n(&st->stop, __ATOMIC_RELAXED)) {
		n = send(st->p.c, sbuf, st->size, MSG_NOSIGNAL);
		if (n < 0 && errno != EINTR) {
			st->err = errno;
			break;
		}
	}
	shutdown(st->p.c, SHUT_WR);
	return NULL;
}

/* Echoes -m byte messages on the server end until EOF. */
static void *echo_main(void *arg)
{
	struct stream *st = arg;
	char buf[TLS_MAX_PAYLOAD];
	ssize_t n;

	for (;;) {
		n = ktls_recv_all(st->p.s, buf, cfg.small_size, 0);
		if (n <= 0) {
			st->err = n < 0 ? -n : 0;
			break;
		}
		n = ktls_send_all(st->p.s, buf, n, MSG_NOSIGNAL);
		if (n < 0) {
			st->err = -n;
			break;
		}
	}
	return NULL;
}

/* A pair of @m with a sender of @size byte sends running, or an echo (0). */
static void stream_open(struct stream *st, enum mode m, size_t size)
{
	memset(st, 0, sizeof(*st));
	pair_open(&st->p, m);
	st->size = size;
	if (size) {
		start_thread(&st->thread, sender_main, st);
		return;
	}
	set_int(st->p.c, IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY");
	set_int(st->p.s, IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY");
	start_thread(&st->thread, echo_main, st);
}

static ssize_t recv_some(int fd, char *buf, size_t len)
{
	ssize_t n;

	do {
		n = recv(fd, buf, len, 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		die("recv: %s", strerror(errno));
	return n;
}

/* Stops the sender (taking in what it sent) or the echo, and closes. */
static void stream_close(struct stream *st, enum mode m)
{
	if (st->size) {
		__atomic_store_n(&st->stop, 1, __ATOMIC_RELAXED);
		while (recv_some(st->p.s, rbuf, BENCH_RECV_BUF) > 0)
			;
	} else {
		shutdown(st->p.c, SHUT_WR);
	}
	pthread_join(st->thread, NULL);
	if (st->err)
		die("%s %s: %s", mode_name[m], st->size ? "sender" : "echo",
		    strerror(st->err));
	pair_close(&st->p);
}

static double slice_warmup_us(void)
{
	double w = cfg.slice_ms * 200.0;	/* a fifth of the slice */

	return w < 20e3 ? 20e3 : w;
}

static void ping(int fd)
{
	ssize_t n;

	n = ktls_send_all(fd, sbuf, cfg.small_size, MSG_NOSIGNAL);
	if (n >= 0)
		n = ktls_recv_all(fd, rbuf, cfg.small_size, 0);
	if (n != (ssize_t)cfg.small_size)
		die("ping-pong: %s", n < 0 ? strerror(-n) : "short read");
}

/*
 * A slice of the echo @st: returns the median round trip.  Each round trip
 * is timed on its own: on a loaded host the emulated CPU stops now and then
 * for milliseconds, which a median of short intervals skips and a total
 * would not.
 */
static double rtt_slice(struct stream *st)
{
	static double *trip;
	static size_t cap;
	double t0, t, end;
	size_t n = 0;

	end = now_us() + slice_warmup_us();
	while (now_us() < end)
		ping(st->p.c);
	end = now_us() + cfg.slice_ms * 1e3;
	t = now_us();
	do {
		t0 = t;
		ping(st->p.c);
		t = now_us();
		if (n == cap) {
			cap = cap ? 2 * cap : 4096;
			trip = realloc(trip, cap * sizeof(*trip));
			if (!trip)
				die("out of memory");
		}
		trip[n++] = t - t0;
	} while (t < end);
	return median(trip, n);
}

/* A slice of a new @m connection with @size byte sends: bytes per second. */
static double send_slice(enum mode m, size_t size)
{
	double t0, t, end, bytes = 0;
	struct stream st;
	ssize_t n;

	stream_open(&st, m, size);
	end = now_us() + slice_warmup_us();
	while (now_us() < end)
		if (recv_some(st.p.s, rbuf, BENCH_RECV_BUF) == 0)
			die("%s sender stopped", mode_name[m]);
	t0 = now_us();
	end = t0 + cfg.slice_ms * 1e3;
	do {
		n = recv_some(st.p.s, rbuf, BENCH_RECV_BUF);
		if (n == 0)
			die("%s sender stopped", mode_name[m]);
		bytes += n;
		t = now_us();
	} while (t < end);
	stream_close(&st, m);
	return bytes / ((t - t0) / 1e6);
}

/*
 * Both modes of a streaming test, in alternating slices, @first in the
 * first: @size byte sends, or the echo for @size 0.  Returns the mean over
 * the slices of each mode in @out (bytes per second, or microseconds per
 * round trip), and adds the ratio of each pair of neighbouring slices to
 * row @r if @counted.
 */
static void stream_test(size_t size, enum mode first, double out[M_NR],
			enum row r, bool counted)
{
	unsigned int nslices, i, k;
	struct stream echo[M_NR];
	double v[M_NR];
	enum mode m;

	nslices = cfg.window_ms / cfg.slice_ms;
	if (!nslices)
		nslices = 1;
	for (m = 0; m < M_NR; m++)
		out[m] = 0;
	for (k = 0; !size && k < M_NR; k++) {
		m = (first + k) % M_NR;
		stream_open(&echo[m], m, 0);
	}
	for (i = 0; i < nslices; i++) {
		for (k = 0; k < M_NR; k++) {
			/* ABBA: the mode that goes first alternates */
			m = (first + k + i) % M_NR;
			v[m] = size ? send_slice(m, size) : rtt_slice(&echo[m]);
			out[m] += v[m] / nslices;
		}
		if (counted)
			pair_add(r, v[M_PLAIN], v[M_GATED]);
	}
	for (k = 0; !size && k < M_NR; k++) {
		m = (first + k) % M_NR;
		stream_close(&echo[m], m);
	}
}

/* --- time to first byte -------------------------------------------------- */

struct ttfb {
	double total, keys, verdict, data;
};

/*
 * From the first TLS_TX to the server's receiving the client's first small
 * record.  TCP_ULP "tls" (and "attest") are set before the clock starts:
 * they are the same in both modes and precede the first key.
 */
static void ttfb_sample(enum mode m, struct ttfb *r)
{
	double t0, t1, t2, t3;
	struct pair p;
	ssize_t n;

	pair_tcp(&p, m);
	set_tls_ulp(&p);

	t0 = now_us();
	set_keys(p.c, &c2s, &s2c);
	set_keys(p.s, &s2c, &c2s);
	t1 = now_us();
	if (m == M_GATED) {
		pass(p.c);
		pass(p.s);
	}
	t2 = now_us();
	n = ktls_send_all(p.c, sbuf, cfg.small_size, MSG_NOSIGNAL);
	if (n >= 0)
		n = ktls_recv_all(p.s, rbuf, 1, 0);
	t3 = now_us();
	if (n != 1)
		die("first byte: %s", n < 0 ? strerror(-n) : "short read");

	if (m == M_GATED) {
		check_passed(p.c);
		check_passed(p.s);
	}
	pair_close(&p);
	r->total = t3 - t0;
	r->keys = t1 - t0;
	r->verdict = t2 - t1;
	r->data = t3 - t2;
}

/*
 * ttfb_samples of each mode, interleaved; per-mode medians in @out; the
 * ratios of neighbouring samples go to the ttfb rows if @counted.
 */
static void ttfb_trial(enum mode first, struct ttfb out[M_NR], bool counted)
{
	unsigned int n = cfg.ttfb_samples, i, k;
	double *v[M_NR][4];
	struct ttfb r;
	enum mode m;

	for (m = 0; m < M_NR; m++)
		for (k = 0; k < 4; k++) {
			v[m][k] = calloc(n, sizeof(double));
			if (!v[m][k])
				die("out of memory");
		}
	for (i = 0; i < n; i++) {
		for (k = 0; k < M_NR; k++) {
			/* alternate which mode goes first, sample by sample */
			m = (first + i + k) % M_NR;
			ttfb_sample(m, &r);
			v[m][0][i] = r.total;
			v[m][1][i] = r.keys;
			v[m][2][i] = r.verdict;
			v[m][3][i] = r.data;
		}
		if (!counted)
			continue;
		pair_add(R_TTFB, v[M_PLAIN][0][i], v[M_GATED][0][i]);
		pair_add(R_TTFB_KEYS, v[M_PLAIN][1][i], v[M_GATED][1][i]);
		pair_add(R_TTFB_DATA, v[M_PLAIN][3][i], v[M_GATED][3][i]);
	}
	for (m = 0; m < M_NR; m++) {
		out[m].total = median(v[m][0], n);
		out[m].keys = median(v[m][1], n);
		out[m].verdict = median(v[m][2], n);
		out[m].data = median(v[m][3], n);
		for (k = 0; k < 4; k++)
			free(v[m][k]);
	}
}

/* --- memory -------------------------------------------------------------- */

struct slab_cache {
	char name[64];
	unsigned long active;
	unsigned long objsize;
};

struct slab_snap {
	long long slab_kb;		/* /proc/meminfo Slab */
	unsigned int n;
	struct slab_cache c[BENCH_MAX_CACHES];
};

static long long meminfo_kb(const char *key)
{
	char line[256];
	size_t klen = strlen(key);
	long long v = -1;
	FILE *f;

	f = fopen("/proc/meminfo", "r");
	if (!f)
		die("/proc/meminfo: %s", strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			v = atoll(line + klen + 1);
			break;
		}
	fclose(f);
	if (v < 0)
		die("/proc/meminfo has no %s", key);
	return v;
}

static void slab_read(struct slab_snap *s)
{
	char line[512];
	FILE *f;

	s->n = 0;
	s->slab_kb = meminfo_kb("Slab");
	f = fopen("/proc/slabinfo", "r");
	if (!f)
		die("/proc/slabinfo: %s (the mem test needs root)",
		    strerror(errno));
	while (fgets(line, sizeof(line), f) && s->n < BENCH_MAX_CACHES) {
		struct slab_cache *c = &s->c[s->n];

		if (line[0] == '#' || !strncmp(line, "slabinfo", 8))
			continue;
		if (sscanf(line, "%63s %lu %*u %lu", c->name, &c->active,
			   &c->objsize) == 3)
			s->n++;
	}
	fclose(f);
}

static const struct slab_cache *slab_find(const struct slab_snap *s,
					  const char *name)
{
	unsigned int i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->c[i].name, name))
			return &s->c[i];
	return NULL;
}

static double slab_bytes(const struct slab_snap *s)
{
	double b = 0;
	unsigned int i;

	for (i = 0; i < s->n; i++)
		b += (double)s->c[i].active * s->c[i].objsize;
	return b;
}

static double slab_active(const struct slab_snap *s, const char *name)
{
	const struct slab_cache *c = slab_find(s, name);

	return c ? c->active : 0;
}

/* Hands empty slabs back (SLUB), so that Slab in meminfo follows use. */
static void slab_shrink(void)
{
	glob_t g;
	ssize_t n;
	size_t i;
	int fd;

	if (glob("/sys/kernel/slab/*/shrink", 0, NULL, &g))
		return;
	for (i = 0; i < g.gl_pathc; i++) {
		fd = open(g.gl_pathv[i], O_WRONLY);
		if (fd < 0)
			continue;
		/* best effort: a cache that cannot shrink stays as it is */
		n = write(fd, "1", 1);
		(void)n;
		close(fd);
	}
	globfree(&g);
}

/*
 * Waits until closed sockets of the previous trial are gone: their last
 * frees come after RCU grace periods.  Stable: the slab objects in use
 * moved less than 16 KiB over 3 polls 100 ms apart (at most 5 s).
 */
static void slab_settle(struct slab_snap *tmp)
{
	double last, cur;
	int quiet = 0, i;

	slab_read(tmp);
	last = slab_bytes(tmp);
	for (i = 0; i < 50 && quiet < 3; i++) {
		usleep(100 * 1000);
		slab_read(tmp);
		cur = slab_bytes(tmp);
		quiet = fabs(cur - last) < 16384 ? quiet + 1 : 0;
		last = cur;
	}
}

static void growth_add(const char *name, enum mode m, double bytes)
{
	unsigned int i;

	for (i = 0; i < ngrowth; i++)
		if (!strcmp(growth[i].name, name))
			break;
	if (i == ngrowth) {
		if (ngrowth == BENCH_MAX_CACHES)
			return;
		snprintf(growth[i].name, sizeof(growth[i].name), "%s", name);
		ngrowth++;
	}
	growth[i].bytes[m] += bytes;
}

static struct slab_snap snap_before, snap_after;

/* -k sockets (k/2 pairs) keyed, and passed in gated mode, all at once. */
static void mem_trial(enum mode m, unsigned int rep)
{
	unsigned int npairs = cfg.mem_socks / 2, i;
	double per = cfg.mem_socks;
	const struct slab_cache *b;
	struct pair *p;

	p = calloc(npairs, sizeof(*p));
	if (!p)
		die("out of memory");

	slab_shrink();
	slab_settle(&snap_before);
	slab_read(&snap_before);
	for (i = 0; i < npairs; i++)
		pair_open(&p[i], m);
	slab_read(&snap_after);
	for (i = 0; i < npairs; i++)
		pair_close(&p[i]);
	free(p);

	results[R_MEM_SLAB][m][rep] =
		(snap_after.slab_kb - snap_before.slab_kb) * 1024.0 / per;
	results[R_MEM_OBJS][m][rep] =
		(slab_bytes(&snap_after) - slab_bytes(&snap_before)) / per;
	results[R_MEM_1K][m][rep] = (slab_active(&snap_after, "kmalloc-1k") -
				     slab_active(&snap_before, "kmalloc-1k")) /
				    per;
	results[R_MEM_4K][m][rep] = (slab_active(&snap_after, "kmalloc-4k") -
				     slab_active(&snap_before, "kmalloc-4k")) /
				    per;
	for (i = 0; i < snap_after.n; i++) {
		const struct slab_cache *a = &snap_after.c[i];
		double d;

		b = slab_find(&snap_before, a->name);
		d = ((double)a->active - (b ? b->active : 0)) * a->objsize;
		if (d != 0)
			growth_add(a->name, m, d / per / row_reps(R_MEM_SLAB));
	}
}

/*
 * The driver of the highest priority for the cipher's AEAD in /proc/crypto,
 * which is what tls got: the absolute numbers depend much on it.
 */
static void find_crypto_driver(void)
{
	char line[256], name[128] = "", driver[128] = "", *v;
	long prio = -1, best = -1;
	FILE *f;

	f = fopen("/proc/crypto", "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		v = strstr(line, ": ");
		if (!v)
			continue;
		v += 2;
		if (!strncmp(line, "name ", 5)) {
			snprintf(name, sizeof(name), "%s", v);
			driver[0] = '\0';
			prio = -1;
		} else if (!strncmp(line, "driver ", 7)) {
			snprintf(driver, sizeof(driver), "%s", v);
		} else if (!strncmp(line, "priority ", 9)) {
			prio = atol(v);
			if (!strcmp(name, cfg.crypto_alg) && prio > best) {
				best = prio;
				snprintf(crypto_driver, sizeof(crypto_driver),
					 "%s", driver);
			}
		}
	}
	fclose(f);
}

/* --- the run ------------------------------------------------------------- */

static bool want(enum test t)
{
	return cfg.tests & (1u << t);
}

/* Both modes of a streaming test; records the results. */
static void stream_pair(enum test t, enum mode first, unsigned int rep,
			bool counted)
{
	double v[M_NR];
	enum mode m;

	switch (t) {
	case T_TPUT:
		stream_test(cfg.bulk_size, first, v, R_TPUT, counted);
		for (m = 0; counted && m < M_NR; m++)
			results[R_TPUT][m][rep] = v[m] / 1e6;
		break;
	case T_REC:
		stream_test(cfg.small_size, first, v, R_REC, counted);
		for (m = 0; counted && m < M_NR; m++)
			results[R_REC][m][rep] = v[m] / cfg.small_size;
		break;
	default:
		stream_test(0, first, v, R_RTT, counted);
		for (m = 0; counted && m < M_NR; m++)
			results[R_RTT][m][rep] = v[m];
		break;
	}
}

/*
 * One repetition: every selected test, both modes, @first first.  The
 * warm-up repetition (@counted false) only runs them, all but mem (the
 * memory test does not depend on timing).
 */
static void run_rep(unsigned int rep, bool counted)
{
	enum mode first = rep % 2 ? M_GATED : M_PLAIN;
	struct ttfb tt[M_NR];
	double t0 = now_us();
	unsigned int k;
	enum mode m;
	enum test t;
	enum row r;

	if (counted)
		progress("rep %u/%u (%s first):", rep + 1, cfg.reps,
			 mode_name[first]);
	else
		progress("warm-up:");

	for (t = T_TPUT; t <= T_RTT; t++) {
		if (!want(t))
			continue;
		stream_pair(t, first, rep, counted);
		progress(" %s", test_name[t]);
	}
	if (want(T_TTFB)) {
		ttfb_trial(first, tt, counted);
		for (m = 0; counted && m < M_NR; m++) {
			results[R_TTFB][m][rep] = tt[m].total;
			results[R_TTFB_KEYS][m][rep] = tt[m].keys;
			results[R_TTFB_VERDICT][m][rep] = tt[m].verdict;
			results[R_TTFB_DATA][m][rep] = tt[m].data;
		}
		progress(" ttfb");
	}
	if (want(T_MEM) && counted && rep < row_reps(R_MEM_SLAB)) {
		for (k = 0; k < M_NR; k++)
			mem_trial((first + k) % M_NR, rep);
		for (r = R_MEM_SLAB; r <= R_MEM_4K; r++)
			pair_add(r, results[r][M_PLAIN][rep],
				 results[r][M_GATED][rep]);
		progress(" mem");
	}
	progress(" (%.1f s)\n", (now_us() - t0) / 1e6);
}

/* --- report -------------------------------------------------------------- */

struct summary {
	double med[M_NR], min[M_NR], max[M_NR];
	double ratio;			/* median gated / median plain */
	/* the ratios of neighbouring measurements (pairs[]) */
	double pr_med, pr_lo, pr_hi;	/* median, its 95% interval */
	double pr_q1, pr_q3;		/* quartiles */
	unsigned int npairs;
	bool has_ratio;
};

static void range(const double *v, unsigned int n, double *lo, double *hi)
{
	unsigned int i;

	*lo = v[0];
	*hi = v[0];
	for (i = 1; i < n; i++) {
		*lo = fmin(*lo, v[i]);
		*hi = fmax(*hi, v[i]);
	}
}

static double at(const double *sorted, unsigned int n, double pos)
{
	if (pos < 0)
		pos = 0;
	if (pos > n - 1)
		pos = n - 1;
	return sorted[(unsigned int)pos];
}

static void summarize(enum row r, struct summary *s)
{
	unsigned int n = row_reps(r), np = pairs[r].n;
	double h, *v;
	enum mode m;

	for (m = 0; m < M_NR; m++) {
		s->med[m] = median(results[r][m], n);
		range(results[r][m], n, &s->min[m], &s->max[m]);
	}
	/* no ratio for a quantity plain kTLS does not have (verdicts) */
	s->has_ratio = !rows[r].no_ratio && np && s->med[M_PLAIN] > 0;
	s->npairs = np;
	if (!s->has_ratio)
		return;
	s->ratio = s->med[M_GATED] / s->med[M_PLAIN];
	v = pairs[r].v;
	qsort(v, np, sizeof(*v), cmp_double);
	s->pr_med = median(v, np);
	/* order statistics around the median: a 95% confidence interval */
	h = 0.98 * sqrt(np);
	s->pr_lo = at(v, np, floor(np / 2.0 - h));
	s->pr_hi = at(v, np, ceil(np / 2.0 + h) - 1);
	s->pr_q1 = at(v, np, floor((np - 1) * 0.25));
	s->pr_q3 = at(v, np, ceil((np - 1) * 0.75));
}

/* Three significant digits, in a field of @w. */
static void put_num(char *buf, size_t len, double v)
{
	double a = fabs(v);

	if (a >= 1000 || a == 0)
		snprintf(buf, len, "%.0f", v);
	else if (a >= 100)
		snprintf(buf, len, "%.1f", v);
	else if (a >= 10)
		snprintf(buf, len, "%.2f", v);
	else
		snprintf(buf, len, "%.3f", v);
}

static void put_cell(char *buf, size_t len, const struct summary *s,
		     enum mode m)
{
	char a[24], b[24], c[24];

	put_num(a, sizeof(a), s->med[m]);
	put_num(b, sizeof(b), s->min[m]);
	put_num(c, sizeof(c), s->max[m]);
	snprintf(buf, len, "%s [%s..%s]", a, b, c);
}

static int cmp_growth(const void *a, const void *b)
{
	const struct cache_growth *x = a, *y = b;
	double dx = fabs(x->bytes[M_GATED] - x->bytes[M_PLAIN]);
	double dy = fabs(y->bytes[M_GATED] - y->bytes[M_PLAIN]);

	return dx < dy ? 1 : dx > dy ? -1 : 0;
}

static void print_table(void)
{
	char pl[96], ga[96];
	struct summary s;
	unsigned int i;
	enum row r;

	printf("gate-bench: TLS %s %s, loopback, both ends of each connection armed and passed (gated) or plain kTLS\n",
	       cfg.version_name, cfg.cipher_name);
	printf("kernel %s %s, %ld CPUs, ", uts.release, uts.machine,
	       sysconf(_SC_NPROCESSORS_ONLN));
	if (cfg.cpu >= 0)
		printf("all threads on CPU %d", cfg.cpu);
	else
		printf("threads not pinned");
	printf(", %s: %s\n", cfg.crypto_alg, crypto_driver);
	printf("%u repetitions after 1 warm-up; %u ms per mode in slices of %u ms; bulk sends %zu B, small records %zu B; ttfb %u samples/rep; mem %u sockets in %u reps\n",
	       cfg.reps, cfg.window_ms, cfg.slice_ms, cfg.bulk_size,
	       cfg.small_size, cfg.ttfb_samples, cfg.mem_socks,
	       row_reps(R_MEM_SLAB));
	printf("plain, gated: median [min..max] over the repetitions\n");
	printf("gated/plain: median [95%% confidence interval] of the ratios of neighbouring slices (tput, rec, rtt), samples (ttfb) or repetitions (mem); n ratios\n\n");
	printf("%-16s %-8s %-28s %-28s %s\n", "test", "unit",
	       "plain", "gated", "gated/plain");
	for (r = 0; r < R_NR; r++) {
		if (!want(rows[r].test))
			continue;
		summarize(r, &s);
		put_cell(pl, sizeof(pl), &s, M_PLAIN);
		put_cell(ga, sizeof(ga), &s, M_GATED);
		if (s.has_ratio)
			printf("%-16s %-8s %-28s %-28s %.3f [%.3f..%.3f] n=%u\n",
			       rows[r].name, rows[r].unit, pl, ga, s.pr_med,
			       s.pr_lo, s.pr_hi, s.npairs);
		else
			printf("%-16s %-8s %-28s %-28s -\n", rows[r].name,
			       rows[r].unit, pl, ga);
	}
	if (!want(T_MEM) || !ngrowth)
		return;
	qsort(growth, ngrowth, sizeof(growth[0]), cmp_growth);
	printf("\nslab caches that differ most, bytes per socket (mean over repetitions):\n");
	printf("%-24s %10s %10s %10s\n", "cache", "plain", "gated", "diff");
	for (i = 0; i < ngrowth && i < BENCH_TOP_CACHES; i++)
		printf("%-24s %10.0f %10.0f %+10.0f\n", growth[i].name,
		       growth[i].bytes[M_PLAIN], growth[i].bytes[M_GATED],
		       growth[i].bytes[M_GATED] - growth[i].bytes[M_PLAIN]);
}

static void json_num(double v)
{
	if (isfinite(v))
		printf("%.6g", v);
	else
		printf("null");
}

static void print_json(void)
{
	struct summary s;
	unsigned int i;
	bool first = true;
	enum mode m;
	enum row r;

	printf("{\"tool\":\"gate-bench\",\"kernel\":\"%s\",\"cpus\":%ld,\"pinned_cpu\":%d,",
	       uts.release, sysconf(_SC_NPROCESSORS_ONLN), cfg.cpu);
	printf("\"tls_version\":\"%s\",\"cipher\":\"%s\",\"crypto_driver\":\"%s\",",
	       cfg.version_name, cfg.cipher_name, crypto_driver);
	printf("\"reps\":%u,\"warmup_reps\":1,\"window_ms\":%u,\"slice_ms\":%u,\"bulk_size\":%zu,\"small_size\":%zu,\"ttfb_samples\":%u,\"mem_socks\":%u,\"mem_reps\":%u,",
	       cfg.reps, cfg.window_ms, cfg.slice_ms, cfg.bulk_size,
	       cfg.small_size, cfg.ttfb_samples, cfg.mem_socks,
	       row_reps(R_MEM_SLAB));
	printf("\"results\":[");
	for (r = 0; r < R_NR; r++) {
		if (!want(rows[r].test))
			continue;
		summarize(r, &s);
		printf("%s{\"name\":\"%s\",\"unit\":\"%s\",\"higher_is_better\":%s",
		       first ? "" : ",", rows[r].name, rows[r].unit,
		       rows[r].higher_better ? "true" : "false");
		first = false;
		for (m = 0; m < M_NR; m++) {
			printf(",\"%s\":{\"median\":", mode_name[m]);
			json_num(s.med[m]);
			printf(",\"min\":");
			json_num(s.min[m]);
			printf(",\"max\":");
			json_num(s.max[m]);
			printf(",\"samples\":[");
			for (i = 0; i < row_reps(r); i++) {
				printf("%s", i ? "," : "");
				json_num(results[r][m][i]);
			}
			printf("]}");
		}
		if (s.has_ratio) {
			printf(",\"ratio_of_medians\":");
			json_num(s.ratio);
			printf(",\"ratio\":{\"n\":%u,\"median\":", s.npairs);
			json_num(s.pr_med);
			printf(",\"ci95\":[");
			json_num(s.pr_lo);
			printf(",");
			json_num(s.pr_hi);
			printf("],\"quartiles\":[");
			json_num(s.pr_q1);
			printf(",");
			json_num(s.pr_q3);
			printf("]}");
		} else {
			printf(",\"ratio_of_medians\":null,\"ratio\":null");
		}
		printf("}");
	}
	printf("]");
	if (want(T_MEM)) {
		qsort(growth, ngrowth, sizeof(growth[0]), cmp_growth);
		printf(",\"mem_caches\":[");
		for (i = 0; i < ngrowth && i < BENCH_TOP_CACHES; i++) {
			printf("%s{\"cache\":\"%s\",\"plain\":", i ? "," : "",
			       growth[i].name);
			json_num(growth[i].bytes[M_PLAIN]);
			printf(",\"gated\":");
			json_num(growth[i].bytes[M_GATED]);
			printf("}");
		}
		printf("]");
	}
	printf("}\n");
}

/* --- options ------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s [-j] [-n REPS] [-s SIZE] [-m SIZE] [-c CIPHER] [-V VERSION]\n"
		"       %*s [-d MS] [-l MS] [-P] [-T SAMPLES] [-k SOCKETS] [-M REPS]\n"
		"       %*s [-t TESTS]\n"
		"\n"
		"Compares plain kTLS with ktls-attest gated kTLS after a pass verdict,\n"
		"over loopback; needs root, tls and ktls_attest loaded.\n"
		"\n"
		"  -n REPS      repetitions counted, after one warm-up (default 15, max %d)\n"
		"  -s SIZE      send size of the throughput test (default 16384: full\n"
		"               records; K and M suffixes)\n"
		"  -m SIZE      small record size: record rate, ping-pong, first byte\n"
		"               (default 64, 1..16384)\n"
		"  -c CIPHER    aes-gcm-128 (default), aes-gcm-256, chacha20-poly1305\n"
		"  -V VERSION   TLS version, 1.3 (default) or 1.2\n"
		"  -d MS        time each mode is measured per repetition in the\n"
		"               streaming tests (default 1000)\n"
		"  -l MS        length of the alternating slices of a streaming test\n"
		"               (default 100)\n"
		"  -P           do not pin all threads to one CPU (default: pinned to\n"
		"               the last CPU the process may use)\n"
		"  -T SAMPLES   time-to-first-byte samples per mode and repetition\n"
		"               (default 20)\n"
		"  -k SOCKETS   sockets open at once in the memory test (default 1000,\n"
		"               even)\n"
		"  -M REPS      repetitions that run the memory test, the first ones\n"
		"               (default 3; it does not depend on timing)\n"
		"  -t TESTS     comma-separated subset of tput,rec,rtt,ttfb,mem\n"
		"               (default all)\n"
		"  -j           JSON on standard output, no progress on standard error\n"
		"  -h           this help\n",
		prog, (int)strlen(prog), "", (int)strlen(prog), "",
		BENCH_MAX_REPS);
}

static void __noreturn __printf(1, 2) usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "; try %s -h\n", prog);
	exit(2);
}

/* A decimal number with an optional K or M suffix, in [@min, @max]. */
static unsigned long parse_num(int opt, const char *arg, unsigned long min,
			       unsigned long max, bool suffix)
{
	unsigned long long v;
	char *end;

	errno = 0;
	if (arg[0] < '0' || arg[0] > '9')
		goto bad;
	v = strtoull(arg, &end, 10);
	if (errno)
		goto bad;
	if (suffix && (*end == 'K' || *end == 'k') && v <= ULONG_MAX / 1024) {
		v *= 1024;
		end++;
	} else if (suffix && (*end == 'M' || *end == 'm') &&
		   v <= ULONG_MAX / (1024 * 1024)) {
		v *= 1024 * 1024;
		end++;
	}
	if (*end || v < min || v > max)
		goto bad;
	return v;
bad:
	usage_error("-%c: '%s' is not a number in %lu..%lu", opt, arg, min,
		    max);
}

static void parse_cipher(const char *arg)
{
	static const struct {
		const char *name;
		uint16_t cipher;
		const char *alg;
	} ciphers[] = {
		{ "aes-gcm-128", TLS_CIPHER_AES_GCM_128, "gcm(aes)" },
		{ "aes-gcm-256", TLS_CIPHER_AES_GCM_256, "gcm(aes)" },
		{ "chacha20-poly1305", TLS_CIPHER_CHACHA20_POLY1305,
		  "rfc7539(chacha20,poly1305)" },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ciphers); i++)
		if (!strcmp(arg, ciphers[i].name)) {
			cfg.cipher = ciphers[i].cipher;
			cfg.cipher_name = ciphers[i].name;
			cfg.crypto_alg = ciphers[i].alg;
			return;
		}
	usage_error("-c: unknown cipher '%s' (aes-gcm-128, aes-gcm-256, chacha20-poly1305)",
		    arg);
}

static void parse_tests(const char *arg)
{
	char *copy = strdup(arg), *tok, *save;
	unsigned int t;

	if (!copy)
		die("out of memory");
	cfg.tests = 0;
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		for (t = 0; t < T_NR; t++)
			if (!strcmp(tok, test_name[t]))
				break;
		if (t == T_NR)
			usage_error("-t: unknown test '%s' (tput, rec, rtt, ttfb, mem)",
				    tok);
		cfg.tests |= 1u << t;
	}
	free(copy);
	if (!cfg.tests)
		usage_error("-t: no test named");
}

static void parse_args(int argc, char **argv)
{
	int opt;

	while ((opt = getopt(argc, argv, ":jn:s:m:c:V:d:l:T:k:M:Pt:h")) != -1) {
		switch (opt) {
		case 'j':
			cfg.json = true;
			break;
		case 'n':
			cfg.reps = parse_num(opt, optarg, 1, BENCH_MAX_REPS,
					     false);
			break;
		case 's':
			cfg.bulk_size = parse_num(opt, optarg, 1, 1 << 20,
						  true);
			break;
		case 'm':
			cfg.small_size = parse_num(opt, optarg, 1,
						   TLS_MAX_PAYLOAD, true);
			break;
		case 'c':
			parse_cipher(optarg);
			break;
		case 'V':
			if (!strcmp(optarg, "1.3"))
				cfg.version = TLS_1_3_VERSION;
			else if (!strcmp(optarg, "1.2"))
				cfg.version = TLS_1_2_VERSION;
			else
				usage_error("-V: TLS version '%s': 1.2 or 1.3",
					    optarg);
			cfg.version_name = optarg;
			break;
		case 'd':
			cfg.window_ms = parse_num(opt, optarg, 50, 60000,
						  false);
			break;
		case 'l':
			cfg.slice_ms = parse_num(opt, optarg, 10, 60000,
						 false);
			break;
		case 'P':
			cfg.cpu = -1;
			break;
		case 'T':
			cfg.ttfb_samples = parse_num(opt, optarg, 1, 10000,
						     false);
			break;
		case 'k':
			cfg.mem_socks = parse_num(opt, optarg, 2, 20000,
						  false);
			if (cfg.mem_socks % 2)
				usage_error("-k: %u is odd (sockets come in pairs)",
					    cfg.mem_socks);
			break;
		case 'M':
			cfg.mem_reps = parse_num(opt, optarg, 1, BENCH_MAX_REPS,
						 false);
			break;
		case 't':
			parse_tests(optarg);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case ':':
			usage_error("option -%c needs an argument", optopt);
		default:
			usage_error("unknown option -%c", optopt);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (cfg.slice_ms > cfg.window_ms)
		usage_error("-l %u is longer than the window, -d %u",
			    cfg.slice_ms, cfg.window_ms);
}

/*
 * Every thread on one CPU, so that a send and the wake-up of its receiver
 * do not wait for the host to schedule another vCPU (milliseconds on an
 * emulated machine): each test then measures CPU cost.
 */
static void pin_one_cpu(void)
{
	cpu_set_t set;
	int cpu;

	if (sched_getaffinity(0, sizeof(set), &set))
		die("sched_getaffinity: %s", strerror(errno));
	for (cpu = CPU_SETSIZE - 1; cpu > 0 && !CPU_ISSET(cpu, &set); cpu--)
		;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity: %s", strerror(errno));
	cfg.cpu = cpu;
}

/* Room for -k sockets plus a few. */
static void raise_nofile(void)
{
	rlim_t need = cfg.mem_socks + 64;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		die("getrlimit: %s", strerror(errno));
	if (rl.rlim_cur >= need)
		return;
	if (rl.rlim_max < need)
		rl.rlim_max = need;
	rl.rlim_cur = need;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		die("cannot allow %llu open files for -k %u: %s",
		    (unsigned long long)need, cfg.mem_socks, strerror(errno));
}

int main(int argc, char **argv)
{
	unsigned int rep;
	int ret;

	parse_args(argc, argv);
	uname(&uts);

	if (want(T_MEM))
		raise_nofile();
	if (cfg.cpu >= 0)
		pin_one_cpu();
	ret = ktls_crypto_init(&c2s, cfg.version, cfg.cipher, 0, 0);
	if (!ret)
		ret = ktls_crypto_init(&s2c, cfg.version, cfg.cipher, 1, 0);
	if (ret)
		die("kTLS keys: %s", strerror(-ret));
	sbuf = malloc(cfg.bulk_size > TLS_MAX_PAYLOAD ? cfg.bulk_size :
		      TLS_MAX_PAYLOAD);
	rbuf = malloc(BENCH_RECV_BUF);
	if (!sbuf || !rbuf)
		die("out of memory");
	ktls_fill(sbuf, cfg.bulk_size > TLS_MAX_PAYLOAD ? cfg.bulk_size :
		  TLS_MAX_PAYLOAD, 1);

	ret = katt_nl_open(&nl);
	if (ret)
		die("generic netlink family %s: %s%s", KTLS_ATTEST_FAMILY_NAME,
		    strerror(-ret),
		    ret == -ENOENT ? " (is ktls_attest loaded?)" : "");

	run_rep(0, false);
	find_crypto_driver();
	for (rep = 0; rep < cfg.reps; rep++)
		run_rep(rep, true);

	if (cfg.json)
		print_json();
	else
		print_table();
	katt_nl_close(nl);
	return 0;
}
