// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The gate as a program sees it: waiting for the verdict, re-attestation,
 * the status, and one sentence about a failure.
 *
 * The wait never starts a round: it reads KTLS_ATTEST_STATUS and sleeps in
 * poll(), which reports neither POLLIN nor POLLOUT while the gate holds the
 * socket and wakes on every state change (Documentation/user-api.rst).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "internal.h"

static long long katt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int katt_get_status(int fd, struct ktls_attest_status *st)
{
	socklen_t len = sizeof(*st);

	if (getsockopt(fd, SOL_KTLS_ATTEST, KTLS_ATTEST_STATUS, st, &len))
		return errno == EOPNOTSUPP ? -ENOPROTOOPT : -errno;
	return 0;
}

int ktls_attest_status(struct ktls_attest *ka, struct ktls_attest_status *st)
{
	int ret = katt_get_status(ka->fd, st);

	if (ret == -ENOPROTOOPT)
		return katt_err(ka, ret, "the socket is not armed");
	if (ret)
		return katt_err(ka, ret, "KTLS_ATTEST_STATUS: %s",
				strerror(-ret));
	return 0;
}

static int katt_policy_timeout(int fd)
{
	struct ktls_attest_policy pol;
	socklen_t len = sizeof(pol);

	if (getsockopt(fd, SOL_KTLS_ATTEST, KTLS_ATTEST_POLICY, &pol, &len) ||
	    !pol.timeout_ms)
		return KTLS_ATTEST_TIMEOUT_MS_DEFAULT;
	return pol.timeout_ms;
}

static bool katt_held_reattest(int fd)
{
	struct ktls_attest_policy pol;
	socklen_t len = sizeof(pol);

	return !getsockopt(fd, SOL_KTLS_ATTEST, KTLS_ATTEST_POLICY, &pol,
			   &len) &&
	       (pol.flags & KTLS_ATTEST_POLICY_FLAGS_HOLD_REATTEST);
}

/* "10 s", "2.5 s", "300 ms" */
static void katt_fmt_ms(char *buf, size_t size, unsigned int ms)
{
	if (ms < 1000)
		snprintf(buf, size, "%u ms", ms);
	else if (ms % 1000)
		snprintf(buf, size, "%u.%u s", ms / 1000, ms % 1000 / 100);
	else
		snprintf(buf, size, "%u s", ms / 1000);
}

int ktls_attest_explain(int fd, char *buf, size_t size)
{
	struct ktls_attest_status st;
	const char *text, *sep, *end;
	char t[32];
	bool revoked;
	int ret;

	ret = katt_get_status(fd, &st);
	if (ret)
		return ret;
	st.reason_text[sizeof(st.reason_text) - 1] = '\0';
	text = st.reason_text;
	sep = text[0] ? ": " : "";
	revoked = st.state == KTLS_ATTEST_STATE_REVOKED;
	katt_fmt_ms(t, sizeof(t), katt_policy_timeout(fd));

	switch (st.state) {
	case KTLS_ATTEST_STATE_ARMED:
		return snprintf(buf, size, "armed; kTLS is not installed yet");
	case KTLS_ATTEST_STATE_PENDING:
		return snprintf(buf, size,
				"held: waiting for the verdict of attestation round %u (deadline %s)",
				st.round, t);
	case KTLS_ATTEST_STATE_PASSED:
		return snprintf(buf, size, "passed: attestation round %u passed%s%s",
				st.round, sep, text);
	case KTLS_ATTEST_STATE_REATTESTING:
		return snprintf(buf, size,
				"re-attesting: round %u under way (deadline %s)",
				st.round, t);
	case KTLS_ATTEST_STATE_REVOKED:
	case KTLS_ATTEST_STATE_FAILED:
		break;
	default:
		return snprintf(buf, size, "in unknown state %u", st.state);
	}

	end = revoked ? "; the connection is revoked" :
			"; the connection was refused";
	switch (st.reason) {
	case KTLS_ATTEST_REASON_TIMEOUT:
		return snprintf(buf, size, "no verdict within %s (round %u)%s",
				t, st.round, end);
	case KTLS_ATTEST_REASON_VERDICT:
		if (st.role == KTLS_ATTEST_ROLE_RELYING_PARTY)
			return snprintf(buf, size, "the peer's attestation failed%s%s%s",
					sep, text, end);
		if (st.role == KTLS_ATTEST_ROLE_ATTESTER)
			return snprintf(buf, size,
					"this host's evidence was refused by the peer%s%s%s",
					sep, text, end);
		return snprintf(buf, size, "attestation failed%s%s%s", sep,
				text, end);
	case KTLS_ATTEST_REASON_OPERATOR:
		return snprintf(buf, size, "%s by an operator%s%s",
				revoked ? "revoked" : "refused", sep, text);
	case KTLS_ATTEST_REASON_PROTOCOL:
		return snprintf(buf, size,
				"the peer broke the attestation protocol%s%s%s",
				sep, text, end);
	case KTLS_ATTEST_REASON_BYPASS:
		return snprintf(buf, size,
				"a call of this program reached kTLS around the gate; the connection was aborted");
	default:
		return snprintf(buf, size, "attestation %s%s%s",
				revoked ? "revoked" : "failed", sep, text);
	}
}

/* 0: data may flow; 1: held; or the terminal error. */
static int katt_gate_state(struct ktls_attest *ka)
{
	struct ktls_attest_status st;
	char why[KATT_ERR_MAX];
	int ret;

	ret = ktls_attest_status(ka, &st);
	if (ret)
		return ret;
	switch (st.state) {
	case KTLS_ATTEST_STATE_PASSED:
		return 0;
	case KTLS_ATTEST_STATE_REATTESTING:
		return katt_held_reattest(ka->fd);
	case KTLS_ATTEST_STATE_ARMED:
	case KTLS_ATTEST_STATE_PENDING:
		return 1;
	case KTLS_ATTEST_STATE_FAILED:
		ret = -EKEYREJECTED;
		break;
	default:
		ret = -EKEYREVOKED;
		break;
	}
	ktls_attest_explain(ka->fd, why, sizeof(why));
	return katt_err(ka, ret, "%s", why);
}

int ktls_attest_wait(struct ktls_attest *ka, int timeout_ms)
{
	long long deadline = katt_now_ms() + timeout_ms;
	struct pollfd pfd = { .fd = ka->fd, .events = POLLIN | POLLOUT };
	char why[KATT_ERR_MAX];
	int left, ret;

	if (ka->mode == KTLS_ATTEST_MODE_USERSPACE)
		return 0;
	if (!ka->moved)
		return katt_err(ka, -ENOTCONN,
				"the connection was not moved onto kTLS (ktls_attest_move)");
	for (;;) {
		ret = katt_gate_state(ka);
		if (ret <= 0)
			return ret;
		left = timeout_ms < 0 ? -1 : (int)(deadline - katt_now_ms());
		if (timeout_ms >= 0 && left <= 0) {
			ktls_attest_explain(ka->fd, why, sizeof(why));
			return katt_err(ka, timeout_ms ? -ETIMEDOUT : -EAGAIN,
					"%s", why);
		}
		ret = poll(&pfd, 1, left);
		if (ret < 0 && errno != EINTR)
			return katt_err(ka, -errno, "poll: %s", strerror(errno));
		/*
		 * Ready, yet held: the peer closed or reset the connection
		 * (poll reports that while the gate holds data) or a state
		 * change raced.  The verdict still decides; look again a
		 * little later instead of spinning.
		 */
		if (ret > 0 && katt_gate_state(ka) == 1)
			poll(NULL, 0, left < 0 || left > 20 ? 20 : left);
	}
}

int ktls_attest_reattest(struct ktls_attest *ka, int timeout_ms)
{
	struct timeval tv = { 0 }, old;
	socklen_t len = sizeof(old);
	int ret, err;

	if (!ka->moved)
		return katt_err(ka, -ENOTCONN,
				"the connection is not on kTLS: nothing to re-attest");
	if (timeout_ms > 0) {
		tv.tv_sec = timeout_ms / 1000;
		tv.tv_usec = (timeout_ms % 1000) * 1000;
	}
	/* the option waits at most SO_SNDTIMEO */
	if (getsockopt(ka->fd, SOL_SOCKET, SO_SNDTIMEO, &old, &len) ||
	    setsockopt(ka->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)))
		return katt_err(ka, -errno, "SO_SNDTIMEO: %s", strerror(errno));
	ret = setsockopt(ka->fd, SOL_KTLS_ATTEST, KTLS_ATTEST_REATTEST, NULL, 0);
	err = errno;
	setsockopt(ka->fd, SOL_SOCKET, SO_SNDTIMEO, &old, sizeof(old));
	if (!ret)
		return 0;
	switch (err) {
	case EAGAIN:
		return katt_err(ka, -ETIMEDOUT,
				"no verdict on the re-attestation within %d ms",
				timeout_ms);
	case EINPROGRESS:
		return katt_err(ka, -EINPROGRESS,
				"re-attestation started (the socket is non-blocking)");
	case EKEYREVOKED:
	case EKEYREJECTED: {
		char why[KATT_ERR_MAX];

		ktls_attest_explain(ka->fd, why, sizeof(why));
		return katt_err(ka, -err, "%s", why);
	}
	default:
		return katt_err(ka, -err, "re-attestation failed: %s",
				strerror(err));
	}
}
