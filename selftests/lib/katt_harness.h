/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Asserting helpers shared by the gate selftests.  Include after
 * kselftest_harness.h: they take the harness's _metadata and ASSERT/EXPECT.
 */
#ifndef KATT_HARNESS_SELFTEST_LIB_H
#define KATT_HARNESS_SELFTEST_LIB_H

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <linux/ktls_attest.h>

#include "katt_nl.h"
#include "katt_test.h"

#define MOD		KTLS_ATTEST_MODULE
/* How long a check waits for something that must not happen. */
#define HOLD_MS		80
/* How long a woken caller may take to return (TCG is slow). */
#define WAKE_MS		5000
/* Direct calls that must not block are interrupted after this. */
#define GUARD_MS	3000

#define SKIP_IF_NO_MODULE(self)						\
	do {								\
		if (!katt_module_loaded()) {				\
			(self)->skip = true;				\
			SKIP(return, "module %s not loaded", MOD);	\
		}							\
	} while (0)

/* The 6.1 harness runs the body after a SKIP in the setup. */
#define READY()	do { if (self->skip) return; } while (0)

/*
 * How every gate fixture starts: its @npairs pairs at @pr closed, a skip
 * without the module, the kernel log watched (self->kmsg) and a netlink
 * socket in self->nl.  katt_fixture_end() undoes it.
 */
#define KATT_FIXTURE_START(self, pr, npairs)				\
	do {								\
		struct katt_pair *_pr = (pr);				\
		int _i, _ret;						\
									\
		(self)->kmsg = -1;					\
		for (_i = 0; _i < (npairs); _i++)			\
			_pr[_i].g = _pr[_i].p = -1;			\
		SKIP_IF_NO_MODULE(self);				\
		(self)->kmsg = katt_kmsg_open();			\
		_ret = katt_nl_open(&(self)->nl);			\
		ASSERT_EQ(0, _ret) TH_LOG("netlink family: %s",		\
					  strerror(-_ret));		\
	} while (0)

static inline const char *katt_err(ssize_t ret)
{
	return ret < 0 ? strerror(-ret) : "no error";
}

static inline void katt_open_pair(struct __test_metadata *_metadata,
				  struct katt_pair *pp,
				  const struct katt_pair_opts *o)
{
	int ret = katt_pair_open(pp, o);

	ASSERT_EQ(0, ret) TH_LOG("gated pair: %s", strerror(-ret));
}

static inline void katt_expect_state(struct __test_metadata *_metadata,
				     int fd, uint32_t state, uint32_t round)
{
	struct ktls_attest_status st;

	ASSERT_EQ(0, katt_status(fd, &st));
	EXPECT_EQ(state, st.state) TH_LOG("state %s, expected %s",
					  katt_nl_state_name(st.state),
					  katt_nl_state_name(state));
	if (round)
		EXPECT_EQ(round, st.round);
}

/* A verdict for the socket's current round, given by @nl. */
static inline void katt_verdict(struct __test_metadata *_metadata,
				struct katt_nl *nl, struct katt_pair *pp,
				uint32_t verdict, const char *text)
{
	struct ktls_attest_status st;
	int ret;

	ASSERT_EQ(0, katt_status(pp->g, &st));
	ret = katt_nl_verdict(nl, pp->cookie,
			      verdict == KTLS_ATTEST_VERDICT_REVOKE ? 0 :
			      st.round, verdict, text);
	ASSERT_EQ(0, ret) TH_LOG("verdict %u on a %s socket: %s (%s)",
				 verdict, katt_nl_state_name(st.state),
				 strerror(-ret), katt_nl_extack(nl));
}

/* Nothing of the gated end's data reached the peer's TCP socket. */
static inline void katt_expect_peer_got(struct __test_metadata *_metadata,
					struct katt_pair *pp, long long bytes)
{
	EXPECT_EQ(bytes, katt_tcp_bytes_received(pp->p))
		TH_LOG("peer's TCP received bytes from a held socket");
	if (!pp->p_rx && !bytes)
		EXPECT_EQ(0, katt_inq(pp->p));
}

static inline void katt_start(struct __test_metadata *_metadata,
			      struct katt_caller *c,
			      const struct katt_call *call)
{
	int ret = katt_caller_start(c, call);

	ASSERT_EQ(0, ret) TH_LOG("fork: %s", strerror(-ret));
	ASSERT_EQ(0, katt_caller_settle(c, 0));
}

/* The caller returned (woken) within WAKE_MS. */
static inline void katt_reap(struct __test_metadata *_metadata,
			     struct katt_caller *c, const char *what)
{
	int ret = katt_caller_wait(c, WAKE_MS);

	ASSERT_EQ(0, ret) TH_LOG("%s: caller %s", what,
				 ret == -ETIMEDOUT ? "still blocked" :
				 "died");
}

static inline void katt_check_kmsg(struct __test_metadata *_metadata, int fd)
{
	char first[256];
	int bad;

	bad = katt_kmsg_bad(fd, first, sizeof(first));
	if (bad)
		TH_LOG("kernel log: %d bad line(s), first: %s", bad, first);
	EXPECT_EQ(0, bad);
}

/* The end of KATT_FIXTURE_START(): pairs and netlink closed, log checked. */
static inline void katt_fixture_end(struct __test_metadata *_metadata,
				    struct katt_pair *pr, int npairs,
				    struct katt_nl *nl, int kmsg)
{
	int i;

	for (i = 0; i < npairs; i++)
		katt_pair_close(&pr[i]);
	katt_nl_close(nl);
	if (kmsg >= 0) {
		katt_check_kmsg(_metadata, kmsg);
		close(kmsg);
	}
}

#endif /* KATT_HARNESS_SELFTEST_LIB_H */
