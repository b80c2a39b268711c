// SPDX-License-Identifier: GPL-2.0
/*
 * ktls-attest: races of the local application against the module (GitHub
 * issue "Kernel: memory-safe whatever local processes do").  Several
 * threads of one process hit the same armed socket at once: TCP_ULP "tls"
 * against other socket options, kTLS keys against sends, a key or an
 * upper layer protocol against a sender blocked inside TCP, sock-arm by
 * fd against kTLS, a second "attest" during the swap to "tls", an armed
 * listener against TCP_ULP "tls" while connections arrive, and closes
 * against the round deadline.
 *
 * How: each test loops for KATT_RACE_MS (environment; default 3000 ms;
 * KATT_RACE_ONLY=PREFIX runs only the tests whose name starts so)
 * over fresh loopback pairs (lib/katt_test.h: the connect() end G is armed,
 * its peer P is plain kTLS), starts its pthreads together at a barrier,
 * joins them, and checks what the application can see afterwards: the
 * error codes of the racing calls, TCP_ULP, KTLS_ATTEST_STATUS, whether the
 * gate holds (a non-blocking send gives EAGAIN) and what reached the peer's
 * TCP socket.  Sockets are closed with SO_LINGER {1, 0} so that they are
 * destroyed at once.  Every test runs in its own network namespace; after
 * it the module's reference count is back at its value before the test and
 * a sock-get dump of the namespace is empty.  Use of freed memory mostly
 * shows only in the kernel log: run under slub_debug=FZPU (selftests/check
 * does), where tools/vm/run and the fixture's kernel log check catch it.
 *
 * Needs root and 2 CPUs to be worth much.  Without the module every test
 * SKIPs.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <linux/ktls_attest.h>
#include <linux/tcp.h>
#include <linux/tls.h>

#include "kselftest_harness.h"
#include "lib/katt_harness.h"
#include "lib/katt_nl.h"
#include "lib/katt_test.h"
#include "lib/ktls.h"

#define ULP_ATTEST	KTLS_ATTEST_ULP_NAME
#define PASS		KTLS_ATTEST_VERDICT_PASS
#define ST_ARMED	KTLS_ATTEST_STATE_ARMED
#define ST_PENDING	KTLS_ATTEST_STATE_PENDING
#define ST_FAILED	KTLS_ATTEST_STATE_FAILED
#define BYPASS		KTLS_ATTEST_REASON_BYPASS

#define RACE_MS_DEFAULT	3000
#define RACE_MIN	24	/* rounds (sockets) at least */
#define RACE_GRACE_MS	20000
#define REFCNT_MS	5000
#define BLOCKED_MS	5000	/* for a sender to block in the kernel */
#define JOIN_MS		10000	/* for a racing thread to return */
#define BYPASS_MS	1000	/* a detected bypass fails the socket by then */
#define SOL_TLS_UNKNOWN	9999
#define BIG_SEND	(1 << 20)	/* more than the buffers of a pair */
#define SMALL_SNDBUF	32768
#define MAX_THREADS	8
#define NR_PAIRS	24
#define MAX_FDS		300
#define CHECK_EVERY	16	/* full data check on every 16th socket */
#define LOG_MAX		5	/* failures logged per test */

static const struct katt_pair_opts v4 = {
	.family = AF_INET,
	.version = TLS_1_3_VERSION,
	.cipher = TLS_CIPHER_AES_GCM_128,
	.no_keys = true,
};

FIXTURE(race)
{
	bool skip;
	int kmsg;
	long base;
	struct katt_nl *nl;
	struct katt_pair pr[NR_PAIRS];
	int fds[MAX_FDS];	/* more sockets of a test, closed at the end */
};

static unsigned int race_ms(void)
{
	const char *s = getenv("KATT_RACE_MS");
	long v = s ? strtol(s, NULL, 10) : 0;

	return v > 0 && v < 600000 ? v : RACE_MS_DEFAULT;
}

/*
 * Another round: until @end, but at least RACE_MIN rounds (the first ones
 * are slow under TCG) unless that takes RACE_GRACE_MS more.
 */
static bool race_more(long long end, unsigned long iters)
{
	long long now = katt_now_ms();

	return (now < end || iters < RACE_MIN) && now < end + RACE_GRACE_MS;
}

static void close_now(int *fd)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };

	if (*fd < 0)
		return;
	setsockopt(*fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(*fd);
	*fd = -1;
}

static void pair_close_now(struct katt_pair *pp)
{
	close_now(&pp->g);
	close_now(&pp->p);
}

static int warm_up(void)
{
	struct ktls_crypto k;
	int c, p, ret;

	ret = ktls_crypto_init(&k, v4.version, v4.cipher, 0, 0);
	if (!ret)
		ret = ktls_tcp_pair(AF_INET, &c, &p);
	if (ret)
		return ret;
	ret = ktls_install(c, &k, &k);
	close_now(&c);
	close_now(&p);
	return ret;
}

FIXTURE_SETUP(race)
{
	int i;

	const char *only = getenv("KATT_RACE_ONLY");

	for (i = 0; i < MAX_FDS; i++)
		self->fds[i] = -1;
	self->base = -1;
	self->kmsg = -1;
	if (only && *only && strncmp(_metadata->name, only, strlen(only))) {
		self->skip = true;
		SKIP(return, "KATT_RACE_ONLY=%s", only);
	}
	/* a namespace of its own: its dump lists this test's sockets only */
	ASSERT_EQ(0, unshare(CLONE_NEWNET)) TH_LOG("unshare: %s",
						   strerror(errno));
	ASSERT_EQ(0, katt_lo_up());
	KATT_FIXTURE_START(self, self->pr, NR_PAIRS);
	/* the first kTLS key loads the cipher modules: not in the timed loop */
	ASSERT_EQ(0, warm_up());
	self->base = ktls_settled_refcnt(MOD, 50, REFCNT_MS);
	ASSERT_GE(self->base, 0);
}

FIXTURE_TEARDOWN(race)
{
	struct katt_nl_sock *v = NULL;
	size_t n = 0;
	long last;
	int i, ret;

	for (i = 0; i < NR_PAIRS; i++)
		pair_close_now(&self->pr[i]);
	for (i = 0; i < MAX_FDS; i++)
		close_now(&self->fds[i]);
	if (!self->skip && self->base >= 0 && self->nl) {
		EXPECT_EQ(0, ktls_wait_refcnt(MOD, self->base, REFCNT_MS,
					      &last))
			TH_LOG("module refcnt %ld after the test, %ld before",
			       last, self->base);
		ret = katt_nl_dump(self->nl, &v, &n);
		EXPECT_EQ(0, ret) TH_LOG("dump: %s", strerror(-ret));
		EXPECT_EQ(0, n) TH_LOG("dump lists %zu socket(s) of the test, first %s",
				       n, n ? katt_nl_state_name(v[0].state) :
				       "");
		free(v);
	}
	katt_fixture_end(_metadata, self->pr, NR_PAIRS, self->nl, self->kmsg);
}

/* --- threads started together ---------------------------------------------- */

struct crew;

struct crew_job {
	struct crew *c;
	void *(*fn)(void *arg);
	void *arg;
};

struct crew {
	int n;
	pthread_t t[MAX_THREADS];
	pthread_barrier_t go;
	struct crew_job job[MAX_THREADS];
};

static void *crew_thread(void *p)
{
	struct crew_job *job = p;

	pthread_barrier_wait(&job->c->go);
	return job->fn(job->arg);
}

/* Starts @n threads running fn[i](arg); they wait for crew_go(). */
static int crew_start(struct crew *c, int n, void *(*const fn[])(void *),
		      void *arg)
{
	int i, ret;

	c->n = 0;
	ret = pthread_barrier_init(&c->go, NULL, n + 1);
	if (ret)
		return -ret;
	for (i = 0; i < n; i++) {
		c->job[i].c = c;
		c->job[i].fn = fn[i];
		c->job[i].arg = arg;
		ret = pthread_create(&c->t[i], NULL, crew_thread, &c->job[i]);
		if (ret) {
			/* never started: nothing will wait for them */
			return -ret;
		}
		c->n++;
	}
	return 0;
}

static void crew_go(struct crew *c)
{
	pthread_barrier_wait(&c->go);
}

/* 0 once all threads returned, -ETIMEDOUT if one is still running. */
static int crew_join(struct crew *c, unsigned int ms)
{
	struct timespec ts;
	int i, ret = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	for (i = 0; i < c->n; i++)
		if (pthread_timedjoin_np(c->t[i], NULL, &ts))
			ret = -ETIMEDOUT;
	if (!ret)
		pthread_barrier_destroy(&c->go);
	return ret;
}

#define CREW_START(c, fns, arg)						\
	ASSERT_EQ(0, crew_start((c), sizeof(fns) / sizeof((fns)[0]),	\
				(fns), (arg)))

#define CREW_JOIN(c)							\
	ASSERT_EQ(0, crew_join((c), JOIN_MS))				\
		TH_LOG("a racing thread did not return within %d ms",	\
		       JOIN_MS)

/* --- blocked callers --------------------------------------------------------- */

static pid_t gettid_(void)
{
	return syscall(SYS_gettid);
}

/*
 * Thread @tid sleeps in system call @nr: /proc/self/task/TID/syscall names
 * it and the task's state is S.
 */
static bool task_sleeps_in(pid_t tid, long nr)
{
	char path[64], buf[512], *p;

	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", tid);
	if (ktls_read_file(path, buf, sizeof(buf)) <= 0)
		return false;
	if (strtol(buf, &p, 10) != nr || p == buf)
		return false;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	if (ktls_read_file(path, buf, sizeof(buf)) <= 0)
		return false;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] == 'S';
}

struct sender {
	int fd;
	const char *buf;
	size_t len;
	atomic_int tid;
	atomic_bool done;
	ssize_t ret;		/* bytes sent or -errno */
};

static void *sender_thread(void *arg)
{
	struct sender *s = arg;
	ssize_t n;

	atomic_store(&s->tid, gettid_());
	n = send(s->fd, s->buf, s->len, MSG_NOSIGNAL);
	s->ret = n < 0 ? -errno : n;
	atomic_store(&s->done, true);
	return NULL;
}

/* Until the sender sleeps inside send(): 0, or -ETIME / -ECHILD (returned). */
static int sender_wait_blocked(struct sender *s, unsigned int ms)
{
	long long end = katt_now_ms() + ms;

	for (;;) {
		if (atomic_load(&s->done))
			return -ECHILD;
		if (atomic_load(&s->tid) &&
		    task_sleeps_in(atomic_load(&s->tid), SYS_sendto))
			return 0;
		if (katt_now_ms() > end)
			return -ETIME;
		ktls_msleep(2);
	}
}

/* --- checks ------------------------------------------------------------------ */

static int setsockopt_err(int fd, int level, int opt, const void *v,
			  socklen_t len)
{
	return setsockopt(fd, level, opt, v, len) ? -errno : 0;
}

static int set_key(int fd, int dir, const struct ktls_crypto *c)
{
	return setsockopt_err(fd, SOL_TLS, dir, &c->info, c->len);
}

/* A non-blocking send is held (EAGAIN): 0, or what it gave instead. */
static ssize_t held_send(int fd)
{
	ssize_t n = send(fd, "x", 1, MSG_DONTWAIT | MSG_NOSIGNAL);

	return n < 0 ? (errno == EAGAIN ? 0 : -errno) : n;
}

static bool has_ulp(int fd, const char *name)
{
	char ulp[32];

	return !ktls_get_ulp(fd, ulp, sizeof(ulp)) && !strcmp(ulp, name);
}

static const char *ulp_of(int fd, char *buf, size_t len)
{
	int ret = ktls_get_ulp(fd, buf, len);

	if (ret)
		snprintf(buf, len, "(%s)", strerror(-ret));
	else if (!*buf)
		snprintf(buf, len, "(none)");
	return buf;
}

/*
 * FAILED by BYPASS within BYPASS_MS: the module noticed a call around the
 * gate.  Returns true if so; logs what the socket is instead.
 */
static bool failed_bypass(struct __test_metadata *_metadata, int fd,
			  const char *what)
{
	struct ktls_attest_status st;
	int ret;

	katt_wait_state(fd, ST_FAILED, BYPASS_MS);
	ret = katt_status(fd, &st);
	if (!ret && st.state == ST_FAILED && st.reason == BYPASS)
		return true;
	TH_LOG("%s: not FAILED by bypass within %d ms: %s, reason %u (%s)",
	       what, BYPASS_MS, ret ? strerror(-ret) :
	       katt_nl_state_name(st.state), ret ? 0 : st.reason,
	       ret ? "" : st.reason_text);
	return false;
}

/*
 * The socket has a key: PENDING with the gate held (round >= 1), or FAILED
 * by BYPASS.  Returns false, logged, otherwise.
 */
static bool pending_or_bypass(struct __test_metadata *_metadata, int fd,
			      const char *what)
{
	struct ktls_attest_status st;
	ssize_t held;
	int ret;

	ret = katt_status(fd, &st);
	if (ret) {
		TH_LOG("%s: KTLS_ATTEST_STATUS: %s", what, strerror(-ret));
		return false;
	}
	if (st.state == ST_FAILED)
		return failed_bypass(_metadata, fd, what);
	if (st.state != ST_PENDING || st.round < 1) {
		TH_LOG("%s: %s round %u with a kTLS key, expected PENDING",
		       what, katt_nl_state_name(st.state), st.round);
		return false;
	}
	held = held_send(fd);
	if (held) {
		TH_LOG("%s: PENDING but a non-blocking send gave %zd (%s)",
		       what, held, katt_err(held));
		return false;
	}
	return true;
}

/* The pair's keys on the peer; a pass; G -> P byte-exact. */
static void pass_and_move(struct __test_metadata *_metadata,
			  struct katt_nl *nl, struct katt_pair *pp)
{
	char tx[300], rx[300];

	katt_verdict(_metadata, nl, pp, PASS, "race test");
	ASSERT_EQ(0, katt_wait_state(pp->g, KTLS_ATTEST_STATE_PASSED, WAKE_MS));
	ktls_fill(tx, sizeof(tx), pp->cookie);
	ASSERT_EQ(sizeof(tx), ktls_send_all(pp->g, tx, sizeof(tx), 0));
	ASSERT_EQ(sizeof(rx), katt_pair_peer_recv(pp, rx, sizeof(rx)));
	EXPECT_EQ(-1, ktls_first_diff(tx, rx, sizeof(tx)));
}

#define LOOP_FAIL(cnt, ...)						\
	do {								\
		if ((cnt)++ < LOG_MAX)					\
			TH_LOG(__VA_ARGS__);				\
	} while (0)

/* --- F1 ---------------------------------------------------------------------- */

struct f1 {
	int fd;
	atomic_bool swapped;
	int swap_ret;
	unsigned long calls, odd;
	int odd_ret;
};

static void *f1_sol_tls(void *arg)
{
	struct f1 *r = arg;
	int v = 0, ret;

	do {
		ret = setsockopt_err(r->fd, SOL_TLS, SOL_TLS_UNKNOWN, &v,
				     sizeof(v));
		r->calls++;
		if (ret != -ENOPROTOOPT && ret != -EBUSY) {
			r->odd++;
			r->odd_ret = ret;
		}
	} while (!atomic_load(&r->swapped));
	return NULL;
}

static void *f1_swap(void *arg)
{
	struct f1 *r = arg;

	r->swap_ret = ktls_set_ulp(r->fd, "tls");
	atomic_store(&r->swapped, true);
	return NULL;
}

/*
 * F1: setsockopt(SOL_TLS, unknown) from one thread while another swaps the
 * armed socket to "tls": no crash; afterwards the ULP is "tls" and the
 * socket is an armed kTLS socket (keys go in, PENDING, held, passes and
 * moves data), or the swap failed with EBUSY and the socket is still armed.
 */
TEST_F_TIMEOUT(race, f1_sol_tls_during_swap, 120)
{
	void *(*const fns[])(void *) = { f1_sol_tls, f1_swap };
	long long end = katt_now_ms() + race_ms();
	unsigned long iters = 0, busy = 0, calls = 0;
	struct katt_pair *pp = &self->pr[0];
	unsigned int bad = 0;
	char ulp[32];

	READY();
	while (race_more(end, iters) && !bad) {
		struct f1 r = { 0 };
		struct crew c;

		katt_open_pair(_metadata, pp, &v4);
		r.fd = pp->g;
		CREW_START(&c, fns, &r);
		crew_go(&c);
		CREW_JOIN(&c);
		calls += r.calls;

		if (r.odd)
			LOOP_FAIL(bad, "socket %lu: setsockopt(SOL_TLS, %d) gave %s",
				  iters, SOL_TLS_UNKNOWN, katt_err(r.odd_ret));
		if (r.swap_ret == -EBUSY) {
			busy++;
			if (!has_ulp(pp->g, ULP_ATTEST))
				LOOP_FAIL(bad, "socket %lu: swap EBUSY, ULP %s",
					  iters, ulp_of(pp->g, ulp, sizeof(ulp)));
			katt_expect_state(_metadata, pp->g, ST_ARMED, 0);
		} else if (r.swap_ret) {
			LOOP_FAIL(bad, "socket %lu: TCP_ULP tls: %s", iters,
				  katt_err(r.swap_ret));
		} else if (!has_ulp(pp->g, "tls")) {
			LOOP_FAIL(bad, "socket %lu: swapped, ULP %s", iters,
				  ulp_of(pp->g, ulp, sizeof(ulp)));
		} else {
			EXPECT_EQ(0, set_key(pp->g, TLS_TX, &pp->g2p));
			EXPECT_EQ(0, set_key(pp->g, TLS_RX, &pp->p2g));
			if (!pending_or_bypass(_metadata, pp->g, "keyed"))
				bad++;
			else if (!(iters % CHECK_EVERY))
				pass_and_move(_metadata, self->nl, pp);
		}
		if (!_metadata->passed)
			bad++;
		pair_close_now(pp);
		iters++;
	}
	TH_LOG("%lu sockets, %lu swaps EBUSY, %lu SOL_TLS calls", iters,
	       busy, calls);
	EXPECT_EQ(0, bad);
}

/* --- F2 ---------------------------------------------------------------------- */

#define F2_BLK		32
#define F2_MAX_BLK	512
#define F2_EXTRA	64	/* sends after both keys are in */
#define TLS_CT_APPDATA	0x17	/* outer type of every TLS 1.3 record */

struct f2 {
	struct katt_pair *pp;
	atomic_bool tx_done, keyed;
	int tx_ret, rx_ret;
	int first_after;	/* first block whose send began after TLS_TX */
	int sent;		/* blocks sent whole */
	bool short_send;
	int err;		/* the send error that stopped the sender */
};

/* Block @seq: "PLN:" and 8 hex digits, then 'x': never a TLS header. */
static void f2_block(char *b, int seq)
{
	memset(b, 'x', F2_BLK);
	snprintf(b, F2_BLK, "PLN:%08x", seq);
	b[12] = 'x';
}

static int set_key_retry(int fd, int dir, const struct ktls_crypto *c)
{
	long long end = katt_now_ms() + 1000;
	int ret;

	do
		ret = set_key(fd, dir, c);
	while (ret == -EBUSY && katt_now_ms() < end);
	return ret;
}

static void *f2_keys(void *arg)
{
	struct f2 *r = arg;

	r->tx_ret = set_key_retry(r->pp->g, TLS_TX, &r->pp->g2p);
	atomic_store(&r->tx_done, true);
	r->rx_ret = r->tx_ret ? r->tx_ret :
		    set_key_retry(r->pp->g, TLS_RX, &r->pp->p2g);
	atomic_store(&r->keyed, true);
	return NULL;
}

static void *f2_sender(void *arg)
{
	struct f2 *r = arg;
	int seq = 0, extra = 0;
	char b[F2_BLK];
	ssize_t n;

	r->first_after = -1;
	while (seq < F2_MAX_BLK && extra < F2_EXTRA) {
		if (r->first_after < 0 && atomic_load(&r->tx_done))
			r->first_after = seq;
		if (atomic_load(&r->keyed))
			extra++;
		f2_block(b, seq);
		n = send(r->pp->g, b, F2_BLK, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n == F2_BLK) {
			seq++;
			continue;
		}
		if (n > 0) {
			r->short_send = true;
			break;
		}
		if (errno != EAGAIN) {
			r->err = errno;
			break;
		}
	}
	r->sent = seq;
	return NULL;
}

/*
 * What reached the peer's TCP socket (plain: it has no RX key): *record if
 * a TLS record came, *max_seq the last plain block.  -EPROTO for bytes
 * that are neither.
 */
static int f2_parse(const unsigned char *buf, size_t len, bool *record,
		    int *max_seq)
{
	size_t pos = 0;
	char hex[9];
	int seq;

	*record = false;
	*max_seq = -1;
	while (pos < len) {
		if (buf[pos] == TLS_CT_APPDATA) {
			*record = true;
			return 0;
		}
		if (memcmp(buf + pos, "PLN:", len - pos < 4 ? len - pos : 4))
			return -EPROTO;
		if (len - pos < F2_BLK)
			return 0;	/* the end of a short send */
		memcpy(hex, buf + pos + 4, 8);
		hex[8] = '\0';
		seq = strtol(hex, NULL, 16);
		if (seq > *max_seq)
			*max_seq = seq;
		pos += F2_BLK;
	}
	return 0;
}

/* All the peer's plain TCP socket has, once it has what G sent. */
static ssize_t peer_raw(struct katt_pair *pp, unsigned char *buf, size_t len)
{
	long long sent = katt_tcp_bytes_sent(pp->g);
	size_t got = 0;
	ssize_t n;

	if (sent > 0)
		katt_wait_bytes_received(pp->p, sent, 1000);
	while (got < len) {
		n = recv(pp->p, buf + got, len - got, MSG_DONTWAIT);
		if (n <= 0)
			break;
		got += n;
	}
	return got;
}

/*
 * F2: non-blocking sends race TLS_TX and TLS_RX on an armed socket with
 * "tls" installed: the peer gets no application data from a socket that
 * is not PASSED (no TLS record; no plain block whose send began after
 * TLS_TX returned), unless the socket then fails with reason BYPASS within
 * 1 s; and the socket ends PENDING with the gate held.
 */
TEST_F_TIMEOUT(race, f2_send_during_keys, 120)
{
	void *(*const fns[])(void *) = { f2_keys, f2_sender };
	long long end = katt_now_ms() + race_ms();
	static unsigned char raw[F2_MAX_BLK * F2_BLK + 65536];
	unsigned long iters = 0, before = 0, bypass = 0;
	struct katt_pair *pp = &self->pr[0];
	unsigned int bad = 0;

	READY();
	while (race_more(end, iters) && !bad) {
		struct f2 r = { .pp = pp };
		bool record, leak;
		int max_seq, ret;
		struct crew c;
		ssize_t n;

		katt_open_pair(_metadata, pp, &v4);
		ASSERT_EQ(0, ktls_set_ulp(pp->g, "tls"));
		CREW_START(&c, fns, &r);
		crew_go(&c);
		CREW_JOIN(&c);

		n = peer_raw(pp, raw, sizeof(raw));
		ret = f2_parse(raw, n, &record, &max_seq);
		leak = record || (r.first_after >= 0 &&
				  max_seq >= r.first_after);
		if (r.first_after > 0)
			before++;
		if (ret) {
			LOOP_FAIL(bad, "socket %lu: the peer got %zd bytes that are neither plain blocks nor records",
				  iters, n);
		} else if (leak) {
			if (failed_bypass(_metadata, pp->g, "leaked"))
				bypass++;
			else
				LOOP_FAIL(bad, "socket %lu: the peer got %s from a socket that is not PASSED (TLS_TX in before block %d)",
					  iters, record ? "a TLS record" :
					  "plain data sent after TLS_TX",
					  r.first_after);
		} else if (r.tx_ret || r.rx_ret) {
			if (!failed_bypass(_metadata, pp->g, "key refused"))
				LOOP_FAIL(bad, "socket %lu: TLS_TX %s, TLS_RX %s",
					  iters, katt_err(r.tx_ret),
					  katt_err(r.rx_ret));
		} else if (!pending_or_bypass(_metadata, pp->g, "keyed")) {
			bad++;
		}
		pair_close_now(pp);
		iters++;
	}
	TH_LOG("%lu sockets, %lu with plain sends before TLS_TX, %lu failed by bypass",
	       iters, before, bypass);
	EXPECT_EQ(0, bad);
}

struct f2b {
	struct katt_pair *pp;
	atomic_bool swapped;
	int swap_ret;
	int tx_ret, rx_ret;	/* the last attempt; 1: none */
	unsigned long tries;
};

static void *f2b_swap(void *arg)
{
	struct f2b *r = arg;

	r->swap_ret = ktls_set_ulp(r->pp->g, "tls");
	atomic_store(&r->swapped, true);
	return NULL;
}

static void *f2b_keys(void *arg)
{
	struct f2b *r = arg;

	do {
		r->tries++;
		r->tx_ret = set_key(r->pp->g, TLS_TX, &r->pp->g2p);
		if (!r->tx_ret) {
			r->rx_ret = set_key(r->pp->g, TLS_RX, &r->pp->p2g);
			break;
		}
	} while (!atomic_load(&r->swapped));
	return NULL;
}

static bool key_err_ok(int ret)
{
	return ret == 1 || !ret || ret == -EBUSY || ret == -EEXIST ||
	       ret == -ENOPROTOOPT;
}

/*
 * F2: TLS_TX / TLS_RX from a second thread during the TCP_ULP "tls" swap:
 * the socket is never ARMED with a kTLS key.  It is PENDING with the gate
 * held, or the key setsockopts failed (EBUSY, or EEXIST / ENOPROTOOPT as
 * plain TCP or tls would say), or it FAILED by BYPASS.
 */
TEST_F_TIMEOUT(race, f2_keys_during_swap, 120)
{
	void *(*const fns[])(void *) = { f2b_swap, f2b_keys };
	long long end = katt_now_ms() + race_ms();
	unsigned long iters = 0, keyed = 0, busy = 0;
	struct katt_pair *pp = &self->pr[0];
	struct ktls_attest_status st;
	struct ktls_crypto got;
	unsigned int bad = 0;
	int ret;

	READY();
	while (race_more(end, iters) && !bad) {
		struct f2b r = { .pp = pp, .tx_ret = 1, .rx_ret = 1 };
		struct crew c;

		katt_open_pair(_metadata, pp, &v4);
		CREW_START(&c, fns, &r);
		crew_go(&c);
		CREW_JOIN(&c);

		if (r.swap_ret == -EBUSY)
			busy++;
		else if (r.swap_ret)
			LOOP_FAIL(bad, "socket %lu: TCP_ULP tls: %s", iters,
				  katt_err(r.swap_ret));
		if (!key_err_ok(r.tx_ret) || !key_err_ok(r.rx_ret))
			LOOP_FAIL(bad, "socket %lu: TLS_TX %s, TLS_RX %s",
				  iters, katt_err(r.tx_ret),
				  katt_err(r.rx_ret));
		ret = katt_status(pp->g, &st);
		if (ret) {
			LOOP_FAIL(bad, "socket %lu: STATUS: %s", iters,
				  strerror(-ret));
		} else if (!r.tx_ret || !r.rx_ret || st.state != ST_ARMED) {
			keyed++;
			if (!pending_or_bypass(_metadata, pp->g, "keyed in the swap"))
				LOOP_FAIL(bad, "socket %lu: TLS_TX %s, TLS_RX %s, swap %s",
					  iters, katt_err(r.tx_ret),
					  katt_err(r.rx_ret),
					  katt_err(r.swap_ret));
		} else if (!ktls_get_crypto(pp->g, TLS_TX, &pp->g2p, &got) ||
			   !ktls_get_crypto(pp->g, TLS_RX, &pp->p2g, &got)) {
			LOOP_FAIL(bad, "socket %lu: ARMED with a kTLS key (TLS_TX %s, swap %s)",
				  iters, katt_err(r.tx_ret),
				  katt_err(r.swap_ret));
		}
		pair_close_now(pp);
		iters++;
	}
	TH_LOG("%lu sockets, %lu keyed in the swap, %lu swaps EBUSY", iters,
	       keyed, busy);
	EXPECT_EQ(0, bad);
}

/* --- F3 ---------------------------------------------------------------------- */

/*
 * A sender blocked in plain TCP on an ARMED socket (the peer does not
 * read); meanwhile TLS_TX (after TCP_ULP "tls"), or with @ulp TCP_ULP
 * "tls" itself, fails with EBUSY and the socket stays ARMED; once the peer
 * drains and the send returns, it succeeds and TLS_TX makes it PENDING.
 */
static void f3_run(struct __test_metadata *_metadata,
		   FIXTURE_DATA(race) *self, bool ulp)
{
	void *(*const fns[])(void *) = { sender_thread };
	struct katt_pair *pp = &self->pr[0];
	int sndbuf = SMALL_SNDBUF, ret;
	char *tx, *rx;
	struct sender s;
	struct crew c;
	char name[32];

	tx = malloc(BIG_SEND);
	rx = malloc(BIG_SEND);
	ASSERT_TRUE(tx && rx);
	ktls_fill(tx, BIG_SEND, 3);

	katt_open_pair(_metadata, pp, &v4);
	if (!ulp)
		ASSERT_EQ(0, ktls_set_ulp(pp->g, "tls"));
	ASSERT_EQ(0, setsockopt(pp->g, SOL_SOCKET, SO_SNDBUF, &sndbuf,
				sizeof(sndbuf)));
	memset(&s, 0, sizeof(s));
	s.fd = pp->g;
	s.buf = tx;
	s.len = BIG_SEND;
	CREW_START(&c, fns, &s);
	crew_go(&c);
	ret = sender_wait_blocked(&s, BLOCKED_MS);
	ASSERT_EQ(0, ret) TH_LOG("the sender did not block: %s, sent %zd",
				 strerror(-ret), s.ret);

	if (ulp) {
		ret = ktls_set_ulp(pp->g, "tls");
		EXPECT_EQ(-EBUSY, ret) TH_LOG("TCP_ULP tls with a send blocked inside: %s",
					      katt_err(ret));
		EXPECT_TRUE(has_ulp(pp->g, ULP_ATTEST))
			TH_LOG("ULP %s", ulp_of(pp->g, name, sizeof(name)));
	} else {
		ret = set_key(pp->g, TLS_TX, &pp->g2p);
		EXPECT_EQ(-EBUSY, ret) TH_LOG("TLS_TX with a send blocked inside: %s",
					      katt_err(ret));
	}
	katt_expect_state(_metadata, pp->g, ST_ARMED, 0);
	EXPECT_FALSE(atomic_load(&s.done));

	/* the peer drains: the send completes, all of it plain */
	EXPECT_EQ(BIG_SEND, ktls_recv_all(pp->p, rx, BIG_SEND, 0));
	CREW_JOIN(&c);
	EXPECT_EQ(BIG_SEND, s.ret) TH_LOG("send: %s", katt_err(s.ret));
	EXPECT_EQ(-1, ktls_first_diff(tx, rx, BIG_SEND))
		TH_LOG("the peer did not get the plain bytes that were sent");

	if (ulp) {
		if (ret)
			EXPECT_EQ(0, ktls_set_ulp(pp->g, "tls"));
		EXPECT_EQ(0, set_key(pp->g, TLS_TX, &pp->g2p));
	} else if (ret) {
		EXPECT_EQ(0, set_key(pp->g, TLS_TX, &pp->g2p));
	}
	EXPECT_TRUE(pending_or_bypass(_metadata, pp->g, "after the send"));
	pair_close_now(pp);
	free(tx);
	free(rx);
}

/* F3: TLS_TX while a send is blocked in plain TCP on the ARMED socket. */
TEST_F_TIMEOUT(race, f3_key_while_send_blocked, 120)
{
	int i;

	READY();
	for (i = 0; i < 3 && _metadata->passed; i++)
		f3_run(_metadata, self, false);
}

/* F3: TCP_ULP "tls" while a send is blocked in plain TCP. */
TEST_F_TIMEOUT(race, f3_ulp_while_send_blocked, 120)
{
	int i;

	READY();
	for (i = 0; i < 3 && _metadata->passed; i++)
		f3_run(_metadata, self, true);
}

/* --- F4 ---------------------------------------------------------------------- */

#define F4_SWEEP_US	1500	/* TLS_RX starts 0..1.5 ms after the barrier */

struct f4 {
	struct katt_pair *pp;
	unsigned int delay_us;
	atomic_bool stop;
	int rx_ret;
	unsigned long tries;
};

static void *f4_rx(void *arg)
{
	struct f4 *r = arg;
	struct timespec t0, t;

	/* a sweep over the time sock-arm takes, not a synchronisation */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do
		clock_gettime(CLOCK_MONOTONIC, &t);
	while ((t.tv_sec - t0.tv_sec) * 1000000L +
	       (t.tv_nsec - t0.tv_nsec) / 1000 < (long)r->delay_us);
	do {
		r->tries++;
		r->rx_ret = set_key(r->pp->g, TLS_RX, &r->pp->p2g);
	} while (r->rx_ret && !atomic_load(&r->stop));
	return NULL;
}

/*
 * F4: sock-arm by fd of a kTLS socket (TLS_TX in, no RX) while one thread
 * is blocked in a large send inside kTLS and another sets TLS_RX:
 * afterwards KTLS_ATTEST_STATUS works (never EOPNOTSUPP on an armed
 * socket) and the socket is PENDING with the gate held, or FAILED by
 * BYPASS.  After close nothing is left (the fixture's refcount and dump
 * checks).
 */
TEST_F_TIMEOUT(race, f4_arm_by_fd_during_rx_key, 120)
{
	void *(*const send_fn[])(void *) = { sender_thread };
	void *(*const rx_fn[])(void *) = { f4_rx };
	struct katt_pair_opts o = v4;
	long long end = katt_now_ms() + race_ms();
	unsigned long iters = 0, busy = 0, rx_first = 0;
	struct katt_pair *pp = &self->pr[0];
	int sndbuf = SMALL_SNDBUF, ret;
	unsigned int bad = 0;
	char *tx;

	READY();
	tx = malloc(BIG_SEND);
	ASSERT_NE(NULL, tx);
	ktls_fill(tx, BIG_SEND, 4);
	o.no_arm = true;
	while (race_more(end, iters) && !bad) {
		struct f4 r = { .pp = pp,
				.delay_us = (iters * 97) % F4_SWEEP_US };
		struct sender s = { 0 };
		struct crew cs, cr;
		uint64_t cookie;
		uint32_t state;

		katt_open_pair(_metadata, pp, &o);
		ASSERT_EQ(0, ktls_install(pp->g, &pp->g2p, NULL));
		ASSERT_EQ(0, setsockopt(pp->g, SOL_SOCKET, SO_SNDBUF, &sndbuf,
					sizeof(sndbuf)));
		s.fd = pp->g;
		s.buf = tx;
		s.len = BIG_SEND;
		CREW_START(&cs, send_fn, &s);
		crew_go(&cs);
		ret = sender_wait_blocked(&s, BLOCKED_MS);
		ASSERT_EQ(0, ret) TH_LOG("the kTLS sender did not block: %s",
					 strerror(-ret));
		CREW_START(&cr, rx_fn, &r);
		crew_go(&cr);
		ret = katt_nl_arm(self->nl, pp->g, NULL, &cookie, &state);
		atomic_store(&r.stop, true);
		CREW_JOIN(&cr);
		if (!r.rx_ret && r.tries == 1)
			rx_first++;

		if (ret == -EBUSY) {
			busy++;
		} else if (ret) {
			LOOP_FAIL(bad, "socket %lu: sock-arm: %s (%s)", iters,
				  strerror(-ret), katt_nl_extack(self->nl));
		} else if (!pending_or_bypass(_metadata, pp->g,
					      "armed by fd")) {
			LOOP_FAIL(bad, "socket %lu: TLS_RX %s after %lu tries, arm state %s",
				  iters, katt_err(r.rx_ret), r.tries,
				  katt_nl_state_name(state));
		}

		/* wake the sender: shutdown, then the peer resets */
		shutdown(pp->g, SHUT_RDWR);
		close_now(&pp->p);
		CREW_JOIN(&cs);
		pair_close_now(pp);
		iters++;
	}
	free(tx);
	TH_LOG("%lu sockets, %lu arms EBUSY, %lu TLS_RX at the first try",
	       iters, busy, rx_first);
	EXPECT_EQ(0, bad);
}

/* --- F5 ---------------------------------------------------------------------- */

struct f5 {
	int fd;
	atomic_bool swapped, stop;
	int swap_ret;
	unsigned long rearms, rearm_ok, rearm_odd;
	int rearm_odd_ret;
	atomic_ulong recvs;
	unsigned long recv_odd;
	ssize_t recv_odd_ret;
};

static void *f5_swap(void *arg)
{
	struct f5 *r = arg;

	r->swap_ret = ktls_set_ulp(r->fd, "tls");
	atomic_store(&r->swapped, true);
	return NULL;
}

static void *f5_rearm(void *arg)
{
	struct f5 *r = arg;
	int ret;

	do {
		ret = ktls_set_ulp(r->fd, ULP_ATTEST);
		r->rearms++;
		if (!ret) {
			r->rearm_ok++;
		} else if (ret != -EEXIST) {
			r->rearm_odd++;
			r->rearm_odd_ret = ret;
		}
	} while (!atomic_load(&r->swapped));
	return NULL;
}

static void *f5_recv(void *arg)
{
	struct f5 *r = arg;
	char b[16];
	ssize_t n;

	do {
		n = recv(r->fd, b, sizeof(b), 0);
		atomic_fetch_add(&r->recvs, 1);
		if (n >= 0 || errno != EAGAIN) {
			r->recv_odd++;
			r->recv_odd_ret = n < 0 ? -errno : n;
		}
	} while (!atomic_load(&r->stop));
	return NULL;
}

/*
 * F5: TCP_ULP "attest" again from one thread while another swaps to "tls"
 * and a third sits in recv() (SO_RCVTIMEO 50 ms, looping): the second
 * "attest" always fails with EEXIST, recv() only times out, and the socket
 * stays usable.  A use after free shows in the kernel log (slub_debug).
 */
TEST_F_TIMEOUT(race, f5_rearm_during_swap, 120)
{
	void *(*const fns[])(void *) = { f5_swap, f5_rearm, f5_recv };
	struct timeval tv = { .tv_usec = 50000 };
	/* slow rounds: each waits for a recv() timeout */
	long long end = katt_now_ms() + 2 * race_ms();
	unsigned long iters = 0, busy = 0;
	struct katt_pair *pp = &self->pr[0];
	unsigned int bad = 0;
	char ulp[32];

	READY();
	while (race_more(end, iters) && !bad) {
		struct f5 r = { 0 };
		long long until;
		struct crew c;

		katt_open_pair(_metadata, pp, &v4);
		ASSERT_EQ(0, setsockopt(pp->g, SOL_SOCKET, SO_RCVTIMEO, &tv,
					sizeof(tv)));
		r.fd = pp->g;
		CREW_START(&c, fns, &r);
		crew_go(&c);
		/* the recv() under way during the swap is the last one */
		until = katt_now_ms() + BLOCKED_MS;
		while (!atomic_load(&r.swapped) && katt_now_ms() < until)
			ktls_msleep(1);
		atomic_store(&r.stop, true);
		CREW_JOIN(&c);

		if (r.rearm_ok || r.rearm_odd)
			LOOP_FAIL(bad, "socket %lu: a second attest: %lu of %lu succeeded, %lu failed otherwise (%s)",
				  iters, r.rearm_ok, r.rearms, r.rearm_odd,
				  katt_err(r.rearm_odd_ret));
		if (r.recv_odd)
			LOOP_FAIL(bad, "socket %lu: recv() gave %zd (%s), not EAGAIN",
				  iters, r.recv_odd_ret,
				  katt_err(r.recv_odd_ret));
		if (r.swap_ret == -EBUSY)
			busy++;
		else if (r.swap_ret)
			LOOP_FAIL(bad, "socket %lu: TCP_ULP tls: %s", iters,
				  katt_err(r.swap_ret));
		if (!has_ulp(pp->g, r.swap_ret ? ULP_ATTEST : "tls"))
			LOOP_FAIL(bad, "socket %lu: swap %s, ULP %s", iters,
				  katt_err(r.swap_ret),
				  ulp_of(pp->g, ulp, sizeof(ulp)));
		katt_expect_state(_metadata, pp->g, ST_ARMED, 0);
		if (!_metadata->passed)
			bad++;
		pair_close_now(pp);
		iters++;
	}
	TH_LOG("%lu sockets, %lu swaps EBUSY", iters, busy);
	EXPECT_EQ(0, bad);
}

/* --- F6 ---------------------------------------------------------------------- */

#define F6_MAX		128
#define F6_CLIENT	0		/* self->fds[0..F6_MAX): clients */
#define F6_CHILD	F6_MAX		/* self->fds[F6_MAX..2 F6_MAX): children */

struct f6 {
	FIXTURE_DATA(race) *self;
	struct sockaddr_storage ss;
	socklen_t len;
	long long end;
	atomic_int connected;
	atomic_bool done;
	int err;
};

static void *f6_connector(void *arg)
{
	struct timeval tv = { .tv_sec = KATT_PEER_TIMEO_MS / 1000 };
	struct f6 *r = arg;
	int fd, n;

	for (n = 0; n < F6_MAX && katt_now_ms() < r->end; n++) {
		/* SO_SNDTIMEO bounds connect() too: a lost SYN fails */
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 ||
		    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ||
		    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
		    connect(fd, (struct sockaddr *)&r->ss, r->len)) {
			r->err = -errno;
			if (fd >= 0)
				close(fd);
			break;
		}
		r->self->fds[F6_CLIENT + n] = fd;
		atomic_store(&r->connected, n + 1);
	}
	atomic_store(&r->done, true);
	return NULL;
}

static uint16_t port_of(int fd, bool peer)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	if (peer ? getpeername(fd, (struct sockaddr *)&sin, &len) :
		   getsockname(fd, (struct sockaddr *)&sin, &len))
		return 0;
	return ntohs(sin.sin_port);
}

/*
 * F6: an armed listener ("attest" set before listen()) while connections
 * arrive from a thread and the main thread tries TCP_ULP "tls" on it
 * (ENOTCONN every time) and accepts: every child is armed and works
 * (keys make it PENDING; every CHECK_EVERY-th passes and moves data), and
 * the module's references come back once all are closed.
 */
TEST_F_TIMEOUT(race, f6_listener_swap_during_accept, 120)
{
	void *(*const fns[])(void *) = { f6_connector };
	struct f6 r = { .self = self };
	struct katt_pair *pp = &self->pr[0];
	int lfd, ret, i, j, nchild = 0, tries = 0, odd = 0, odd_ret = 0;
	struct katt_pair_opts o = v4;
	unsigned int bad = 0;
	struct crew c;
	char ulp[32];

	READY();
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ASSERT_GE(lfd, 0);
	self->fds[MAX_FDS - 1] = lfd;
	r.len = ktls_loopback(AF_INET, 0, &r.ss);
	ASSERT_EQ(0, bind(lfd, (struct sockaddr *)&r.ss, r.len));
	ASSERT_EQ(0, ktls_set_ulp(lfd, ULP_ATTEST));
	ASSERT_EQ(0, listen(lfd, F6_MAX));
	ASSERT_EQ(0, getsockname(lfd, (struct sockaddr *)&r.ss, &r.len));

	r.end = katt_now_ms() + race_ms();
	CREW_START(&c, fns, &r);
	crew_go(&c);
	while (nchild < F6_MAX &&
	       (!atomic_load(&r.done) || nchild < atomic_load(&r.connected)) &&
	       katt_now_ms() < r.end + BLOCKED_MS) {
		int child;

		ret = ktls_set_ulp(lfd, "tls");
		tries++;
		if (ret != -ENOTCONN) {
			odd++;
			odd_ret = ret;
		}
		child = accept(lfd, NULL, NULL);
		if (child < 0) {
			if (errno != EAGAIN)
				LOOP_FAIL(bad, "accept: %s", strerror(errno));
			continue;
		}
		self->fds[F6_CHILD + nchild++] = child;
		if (!has_ulp(child, ULP_ATTEST))
			LOOP_FAIL(bad, "child %d: ULP %s, not attest", nchild,
				  ulp_of(child, ulp, sizeof(ulp)));
	}
	CREW_JOIN(&c);
	EXPECT_EQ(0, r.err) TH_LOG("connect: %s", katt_err(r.err));
	EXPECT_EQ(0, odd) TH_LOG("TCP_ULP tls on the listener: %d of %d tries not ENOTCONN (%s)",
				 odd, tries, katt_err(odd_ret));
	EXPECT_EQ(atomic_load(&r.connected), nchild);
	EXPECT_TRUE(has_ulp(lfd, ULP_ATTEST))
		TH_LOG("listener ULP %s", ulp_of(lfd, ulp, sizeof(ulp)));

	/* every child is an armed socket that works */
	o.no_keys = false;
	for (i = 0; i < nchild && !bad; i++) {
		int *child = &self->fds[F6_CHILD + i];
		uint16_t port = port_of(*child, true);

		for (j = 0; j < nchild; j++)
			if (self->fds[F6_CLIENT + j] >= 0 &&
			    port_of(self->fds[F6_CLIENT + j], false) == port)
				break;
		ASSERT_LT(j, nchild) TH_LOG("no client for child %d", i);
		ret = katt_pair_adopt(pp, *child, self->fds[F6_CLIENT + j], &o);
		*child = -1;
		self->fds[F6_CLIENT + j] = -1;
		ASSERT_EQ(0, ret) TH_LOG("child %d: keys: %s", i,
					 strerror(-ret));
		if (!pending_or_bypass(_metadata, pp->g, "child with keys"))
			bad++;
		else if (!(i % CHECK_EVERY))
			pass_and_move(_metadata, self->nl, pp);
		pair_close_now(pp);
	}
	TH_LOG("%d children, %d TCP_ULP tls tries", nchild, tries);
	EXPECT_EQ(0, bad);
	close_now(&self->fds[MAX_FDS - 1]);
}

/* --- F7 ---------------------------------------------------------------------- */

#define F7_BATCH	8
#define F7_CLOSE_STEP_MS 20	/* closes spread over 0..140 ms */
#define F7_DEADLINE_MS	100
#define F7_FRESH	4	/* of each kind: armed, pending, plain */
#define F7_QUIET_MS	1000

struct f7 {
	int fd;
	atomic_bool closing;
	unsigned long recvs;
};

static void *f7_recv(void *arg)
{
	struct f7 *r = arg;
	char b[16];
	ssize_t n;

	/* the last call may meet the close, or a closed fd: EBADF */
	do {
		n = recv(r->fd, b, sizeof(b), 0);
		r->recvs++;
	} while (!atomic_load(&r->closing));
	return n < 0 ? NULL : r;
}

/*
 * F7: a use of a freed socket shows only by its effect.  Batches of
 * pairs with a 100 ms round deadline, a thread in recv() on each, are
 * closed at 0..140 ms, around their deadline; then fresh armed (ARMED and
 * PENDING) and plain sockets see for 1 s no socket error, no state change
 * (STATUS and the monitor group) and no wake-up (epoll).
 */
TEST_F_TIMEOUT(race, f7_fresh_sockets_after_deadline_races, 120)
{
	void *(*const fns[])(void *) = { f7_recv };
	struct ktls_attest_policy pol = { .timeout_ms = F7_DEADLINE_MS };
	struct timeval tv = { .tv_usec = 50000 };
	struct katt_pair_opts o = v4, oa = v4, op = v4, on = v4;
	struct katt_pair *fresh = &self->pr[F7_BATCH];
	long long end = katt_now_ms() + race_ms(), t0;
	int i, k, ep, nev, err, ret, left;
	struct epoll_event ev[8];
	struct katt_nl_event mev;
	unsigned long batches = 0;
	struct ktls_attest_status st;
	socklen_t len;
	long last;

	READY();
	o.policy = &pol;
	o.no_keys = false;
	while (race_more(end, batches * F7_BATCH)) {
		struct f7 r[F7_BATCH];
		struct crew c[F7_BATCH];

		for (i = 0; i < F7_BATCH; i++) {
			katt_open_pair(_metadata, &self->pr[i], &o);
			ASSERT_EQ(0, setsockopt(self->pr[i].g, SOL_SOCKET,
						SO_RCVTIMEO, &tv, sizeof(tv)));
			memset(&r[i], 0, sizeof(r[i]));
			r[i].fd = self->pr[i].g;
		}
		t0 = katt_now_ms();
		for (i = 0; i < F7_BATCH; i++) {
			CREW_START(&c[i], fns, &r[i]);
			crew_go(&c[i]);
		}
		for (i = 0; i < F7_BATCH; i++) {
			/* spread over the deadline, not a synchronisation */
			while (katt_now_ms() < t0 + i * F7_CLOSE_STEP_MS)
				ktls_msleep(1);
			atomic_store(&r[i].closing, true);
			pair_close_now(&self->pr[i]);
		}
		for (i = 0; i < F7_BATCH; i++)
			CREW_JOIN(&c[i]);
		batches++;
	}
	EXPECT_EQ(0, ktls_wait_refcnt(MOD, self->base, REFCNT_MS, &last))
		TH_LOG("refcnt %ld after the racing sockets, %ld before", last,
		       self->base);

	/* fresh sockets: ARMED, PENDING (default deadline), plain kTLS */
	ASSERT_EQ(0, katt_nl_monitor(self->nl));
	oa.no_keys = true;
	op.no_keys = false;
	on.no_arm = true;
	on.no_keys = false;
	ep = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_GE(ep, 0);
	self->fds[0] = ep;
	for (k = 0; k < 3 * F7_FRESH; k++) {
		struct katt_pair *pp = &fresh[k];
		struct epoll_event e = { .events = EPOLLIN | EPOLLRDHUP |
						   EPOLLPRI };

		katt_open_pair(_metadata, pp, k < F7_FRESH ? &oa :
			       k < 2 * F7_FRESH ? &op : &on);
		e.data.u32 = k;
		ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, pp->g, &e));
		e.data.u32 = 100 + k;
		ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, pp->p, &e));
	}
	/* their own state changes (PENDING) are not what this looks for */
	katt_nl_drain(self->nl);
	t0 = katt_now_ms();
	while ((left = F7_QUIET_MS - (katt_now_ms() - t0)) > 0) {
		nev = epoll_wait(ep, ev, 8, left);
		ASSERT_GE(nev, 0);
		for (i = 0; i < nev; i++)
			EXPECT_EQ(0, ev[i].events)
				TH_LOG("fresh %s %u woke: events 0x%x",
				       ev[i].data.u32 >= 100 ? "peer" : "socket",
				       ev[i].data.u32 % 100, ev[i].events);
		if (nev)
			break;
	}
	for (k = 0; k < 3 * F7_FRESH; k++) {
		struct katt_pair *pp = &fresh[k];

		for (i = 0; i < 2; i++) {
			err = -1;
			len = sizeof(err);
			ASSERT_EQ(0, getsockopt(i ? pp->p : pp->g, SOL_SOCKET,
						SO_ERROR, &err, &len));
			EXPECT_EQ(0, err) TH_LOG("fresh %s %d: SO_ERROR %s",
						 i ? "peer" : "socket", k,
						 strerror(err));
		}
		if (k < 2 * F7_FRESH) {
			ASSERT_EQ(0, katt_status(pp->g, &st));
			EXPECT_EQ(k < F7_FRESH ? ST_ARMED : ST_PENDING,
				  st.state) TH_LOG("fresh socket %d: %s", k,
						   katt_nl_state_name(st.state));
			EXPECT_EQ(k < F7_FRESH ? 0 : 1, st.round);
			if (k >= F7_FRESH)
				EXPECT_EQ(0, held_send(pp->g));
		} else {
			EXPECT_EQ(-EOPNOTSUPP, katt_status(pp->g, &st))
				TH_LOG("plain socket %d looks armed", k);
		}
	}
	while ((ret = katt_nl_wait_event(self->nl, &mev, 0)) != -ETIMEDOUT) {
		ASSERT_EQ(0, ret) TH_LOG("monitor: %s", strerror(-ret));
		for (k = 0; k < 3 * F7_FRESH; k++)
			EXPECT_NE(fresh[k].cookie, mev.sock.cookie)
				TH_LOG("fresh socket %d: state change to %s",
				       k, katt_nl_state_name(mev.sock.state));
		katt_nl_event_release(&mev);
	}
	TH_LOG("%lu batches of %d sockets", batches, F7_BATCH);
}

/* --- F8 ---------------------------------------------------------------------- */

struct f8 {
	int fd;
	uint64_t cookie;
	struct katt_nl *nl;	/* the operator thread's own */
	atomic_bool stop;
	unsigned long nl_calls, nl_odd, opt_calls, opt_odd;
	int nl_odd_ret, opt_odd_ret;
};

/* What netlink may answer about a socket that is closing or gone. */
static bool f8_nl_ok(int ret)
{
	return !ret || ret == -ENOENT || ret == -EINVAL || ret == -ESTALE ||
	       ret == -EALREADY || ret == -EKEYREVOKED ||
	       ret == -EKEYREJECTED;
}

/* An operator acting on the socket by cookie, as fast as it can. */
static void *f8_operator(void *arg)
{
	struct f8 *r = arg;
	struct katt_nl_sock st;
	struct katt_nl_sock *v;
	size_t n;
	int i = 0, ret;

	do {
		switch (i++ % 5) {
		case 0:
			ret = katt_nl_get(r->nl, r->cookie, &st);
			break;
		case 1:
			v = NULL;
			ret = katt_nl_dump(r->nl, &v, &n);
			free(v);
			break;
		case 2:
			ret = katt_nl_verdict(r->nl, r->cookie, 1, PASS, "f8");
			break;
		case 3:
			ret = katt_nl_reattest(r->nl, r->cookie);
			break;
		default:
			ret = katt_nl_verdict(r->nl, r->cookie, 0,
					      KTLS_ATTEST_VERDICT_REVOKE, "f8");
			break;
		}
		r->nl_calls++;
		if (!f8_nl_ok(ret)) {
			r->nl_odd++;
			r->nl_odd_ret = ret;
		}
	} while (!atomic_load(&r->stop));
	return NULL;
}

/* The application reading its status until the file is gone. */
static void *f8_status(void *arg)
{
	struct f8 *r = arg;
	struct ktls_attest_status st;
	int ret;

	do {
		ret = katt_status(r->fd, &st);
		r->opt_calls++;
		if (ret && ret != -EBADF) {
			r->opt_odd++;
			r->opt_odd_ret = ret;
		}
	} while (!atomic_load(&r->stop));
	return NULL;
}

/*
 * Netlink lookups and the application's own calls while the socket is
 * closed under them: sock-get, the dump, verdicts and re-attestation by
 * cookie from an operator, KTLS_ATTEST_STATUS from the application, and
 * close() (SO_LINGER 0: the socket is freed at once) from the main
 * thread at a point that moves each round.  Nothing may crash or use the
 * freed socket (slub_debug), and the answers are the documented ones.
 */
TEST_F_TIMEOUT(race, f8_netlink_during_close, 120)
{
	void *(*const fns[])(void *) = { f8_operator, f8_status };
	long long end = katt_now_ms() + race_ms();
	struct katt_pair_opts o = v4;
	struct katt_nl *op = NULL;
	unsigned long iters = 0;
	unsigned int bad = 0;

	READY();
	ASSERT_EQ(0, katt_nl_open(&op));
	o.no_keys = false;
	while (race_more(end, iters) && !bad) {
		struct f8 r = { 0 };
		struct crew c;

		katt_open_pair(_metadata, &self->pr[0], &o);
		r.fd = self->pr[0].g;
		r.cookie = self->pr[0].cookie;
		r.nl = op;
		CREW_START(&c, fns, &r);
		crew_go(&c);
		/* spread over the first milliseconds, not a synchronisation */
		ktls_msleep(iters % 4);
		close_now(&self->pr[0].g);
		ktls_msleep(1);
		atomic_store(&r.stop, true);
		CREW_JOIN(&c);
		close_now(&self->pr[0].p);

		if (r.nl_odd)
			LOOP_FAIL(bad, "socket %lu: netlink answered %s (%lu of %lu calls)",
				  iters, katt_err(r.nl_odd_ret), r.nl_odd,
				  r.nl_calls);
		if (r.opt_odd)
			LOOP_FAIL(bad, "socket %lu: KTLS_ATTEST_STATUS gave %s (%lu of %lu calls)",
				  iters, katt_err(r.opt_odd_ret), r.opt_odd,
				  r.opt_calls);
		iters++;
	}
	katt_nl_close(op);
	TH_LOG("%lu sockets", iters);
	EXPECT_EQ(0, bad);
}

TEST_HARNESS_MAIN
