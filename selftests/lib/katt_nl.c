// SPDX-License-Identifier: GPL-2.0
/*
 * A small client of the "ktls_attest" generic netlink family. See katt_nl.h.
 *
 * libnl builds the requests, resolves the family and parses attributes;
 * answers are read here, from the raw socket, so that events which arrive
 * in the middle of a request are queued instead of upsetting libnl's
 * sequence checks.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <netlink/attr.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "katt_nl.h"

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK		11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK		10
#endif
#ifndef SOL_NETLINK
#define SOL_NETLINK		270
#endif

/* A datagram: the largest is a msg-recv of KTLS_ATTEST_MSG_MAX bytes. */
#define KATT_NL_BUF		(128 * 1024)
/*
 * Send buffer: a msg-send of KTLS_ATTEST_MSG_MAX bytes is one datagram of
 * a little more, and netlink refuses (EMSGSIZE) a datagram larger than the
 * send buffer, which libnl sets to 32 KiB.
 */
#define KATT_NL_SNDBUF		(256 * 1024)
/* A request's answer comes at once; this only bounds a kernel bug. */
#define KATT_NL_REPLY_MS	5000
/* After an overrun, how long a request still waits for its answer. */
#define KATT_NL_LOST_MS		1000

struct katt_nl {
	struct nl_sock *sk;
	int fd;
	int family;
	int mcgrp;
	uint32_t portid;
	char extack[KATT_NL_EXTACK_MAX];
	bool overrun;
	/* queued events: q[qhead..qlen) */
	struct katt_nl_event *q;
	size_t qhead, qlen, qcap;
	unsigned char *buf;
};

typedef int (*katt_nl_reply_fn)(struct nlmsghdr *nlh, void *arg);

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int nle_errno(int nle)
{
	switch (-nle) {
	case NLE_OBJ_NOTFOUND:
		return -ENOENT;
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_PERM:
		return -EPERM;
	case NLE_BUSY:
		return -EBUSY;
	default:
		return -EIO;
	}
}

static int set_sndbuf(int fd, int bytes)
{
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes,
		       sizeof(bytes)) &&
	    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes)))
		return -errno;
	return 0;
}

int katt_nl_open(struct katt_nl **nlp)
{
	return katt_nl_open_as(nlp, 0, NULL);
}

int katt_nl_open_as(struct katt_nl **nlp, uint32_t port,
		    const struct katt_nl *like)
{
	struct katt_nl *nl;
	int one = 1, ret;

	*nlp = NULL;
	nl = calloc(1, sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	nl->buf = malloc(KATT_NL_BUF);
	nl->sk = nl_socket_alloc();
	if (!nl->buf || !nl->sk) {
		ret = -ENOMEM;
		goto err;
	}
	if (port)
		nl_socket_set_local_port(nl->sk, port);
	ret = genl_connect(nl->sk);
	if (ret < 0) {
		ret = nle_errno(ret);
		goto err;
	}
	nl->fd = nl_socket_get_fd(nl->sk);
	nl->portid = nl_socket_get_local_port(nl->sk);

	if (like) {
		nl->family = like->family;
		nl->mcgrp = like->mcgrp;
		goto out_opts;
	}
	nl->family = genl_ctrl_resolve(nl->sk, KTLS_ATTEST_FAMILY_NAME);
	if (nl->family < 0) {
		ret = nle_errno(nl->family);
		goto err;
	}
	nl->mcgrp = genl_ctrl_resolve_grp(nl->sk, KTLS_ATTEST_FAMILY_NAME,
					  KTLS_ATTEST_MCGRP_MONITOR);
	if (nl->mcgrp < 0) {
		ret = nle_errno(nl->mcgrp);
		goto err;
	}
out_opts:
	/* error messages, and no copy of the request in each ack */
	if (setsockopt(nl->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one,
		       sizeof(one)) ||
	    setsockopt(nl->fd, SOL_NETLINK, NETLINK_CAP_ACK, &one,
		       sizeof(one))) {
		ret = -errno;
		goto err;
	}
	ret = set_sndbuf(nl->fd, KATT_NL_SNDBUF);
	if (ret)
		goto err;
	*nlp = nl;
	return 0;

err:
	katt_nl_close(nl);
	return ret;
}

void katt_nl_close(struct katt_nl *nl)
{
	if (!nl)
		return;
	if (nl->sk)
		nl_socket_free(nl->sk);
	while (nl->qhead < nl->qlen)
		katt_nl_event_release(&nl->q[nl->qhead++]);
	free(nl->buf);
	free(nl->q);
	free(nl);
}

int katt_nl_fd(const struct katt_nl *nl)
{
	return nl->fd;
}

uint32_t katt_nl_portid(const struct katt_nl *nl)
{
	return nl->portid;
}

int katt_nl_family_id(const struct katt_nl *nl)
{
	return nl->family;
}

int katt_nl_set_rcvbuf(struct katt_nl *nl, int bytes)
{
	if (setsockopt(nl->fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes,
		       sizeof(bytes)) &&
	    setsockopt(nl->fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes)))
		return -errno;
	return 0;
}

const char *katt_nl_extack(const struct katt_nl *nl)
{
	return nl->extack;
}

const char *katt_nl_state_name(uint32_t state)
{
	static const char *const names[] = {
		[KTLS_ATTEST_STATE_ARMED] = "armed",
		[KTLS_ATTEST_STATE_PENDING] = "pending",
		[KTLS_ATTEST_STATE_PASSED] = "passed",
		[KTLS_ATTEST_STATE_REATTESTING] = "reattesting",
		[KTLS_ATTEST_STATE_REVOKED] = "revoked",
		[KTLS_ATTEST_STATE_FAILED] = "failed",
	};

	if (state < sizeof(names) / sizeof(names[0]) && names[state])
		return names[state];
	return "?";
}

/* --- parsing ------------------------------------------------------------ */

static bool attr_ok(struct nlattr *a, int len)
{
	return a && nla_len(a) == len;
}

static int parse_sock(struct nlmsghdr *nlh, struct katt_nl_sock *s)
{
	struct nlattr *tb[KTLS_ATTEST_A_SOCK_MAX + 1];
	struct nlattr *a;
	int i, ret;

	memset(s, 0, sizeof(*s));
	ret = genlmsg_parse(nlh, 0, tb, KTLS_ATTEST_A_SOCK_MAX, NULL);
	if (ret < 0)
		return -EINVAL;

#define U64(attr, field)						\
	do {								\
		if (attr_ok(tb[attr], 8)) {				\
			s->field = nla_get_u64(tb[attr]);		\
			s->present |= 1ULL << (attr);			\
		}							\
	} while (0)
#define U32(attr, field)						\
	do {								\
		if (attr_ok(tb[attr], 4)) {				\
			s->field = nla_get_u32(tb[attr]);		\
			s->present |= 1ULL << (attr);			\
		}							\
	} while (0)
#define BE16(attr, field)						\
	do {								\
		if (attr_ok(tb[attr], 2)) {				\
			s->field = ntohs(nla_get_u16(tb[attr]));	\
			s->present |= 1ULL << (attr);			\
		}							\
	} while (0)
#define BIN(attr, field)						\
	do {								\
		if (attr_ok(tb[attr], sizeof(s->field))) {		\
			memcpy(s->field, nla_data(tb[attr]),		\
			       sizeof(s->field));			\
			s->present |= 1ULL << (attr);			\
		}							\
	} while (0)

	U64(KTLS_ATTEST_A_SOCK_COOKIE, cookie);
	U32(KTLS_ATTEST_A_SOCK_ROLE, role);
	U32(KTLS_ATTEST_A_SOCK_STATE, state);
	U32(KTLS_ATTEST_A_SOCK_REASON, reason);
	U32(KTLS_ATTEST_A_SOCK_TIMEOUT_MS, timeout_ms);
	U32(KTLS_ATTEST_A_SOCK_POLICY_FLAGS, policy_flags);
	U32(KTLS_ATTEST_A_SOCK_ROUND, round);
	if (attr_ok(tb[KTLS_ATTEST_A_SOCK_FAMILY], 2)) {
		s->family = nla_get_u16(tb[KTLS_ATTEST_A_SOCK_FAMILY]);
		s->present |= 1ULL << KTLS_ATTEST_A_SOCK_FAMILY;
	}
	BE16(KTLS_ATTEST_A_SOCK_SPORT, sport);
	BE16(KTLS_ATTEST_A_SOCK_DPORT, dport);
	U64(KTLS_ATTEST_A_SOCK_ARMED_TIME, armed_time);
	U64(KTLS_ATTEST_A_SOCK_PASS_TIME, pass_time);
	U64(KTLS_ATTEST_A_SOCK_TX_BYTES, tx_bytes);
	U64(KTLS_ATTEST_A_SOCK_RX_BYTES, rx_bytes);
	U64(KTLS_ATTEST_A_SOCK_TX_HELD, tx_held);
	U64(KTLS_ATTEST_A_SOCK_RX_HELD, rx_held);

	a = tb[KTLS_ATTEST_A_SOCK_SADDR];
	if (a && (nla_len(a) == 4 || nla_len(a) == 16)) {
		s->saddr_len = nla_len(a);
		memcpy(s->saddr, nla_data(a), s->saddr_len);
		s->present |= 1ULL << KTLS_ATTEST_A_SOCK_SADDR;
	}
	a = tb[KTLS_ATTEST_A_SOCK_DADDR];
	if (a && (nla_len(a) == 4 || nla_len(a) == 16)) {
		s->daddr_len = nla_len(a);
		memcpy(s->daddr, nla_data(a), s->daddr_len);
		s->present |= 1ULL << KTLS_ATTEST_A_SOCK_DADDR;
	}
	U32(KTLS_ATTEST_A_SOCK_MSG_LEN, msg_len);
	U32(KTLS_ATTEST_A_SOCK_BINDING_FLAGS, binding_flags);
	BIN(KTLS_ATTEST_A_SOCK_BINDING_EXPORTER, binding_exporter);
	BIN(KTLS_ATTEST_A_SOCK_BINDING_LOCAL_KEY, binding_local_key);
	BIN(KTLS_ATTEST_A_SOCK_BINDING_PEER_KEY, binding_peer_key);
	/* may repeat: parse_msg() reads every piece */
	if (tb[KTLS_ATTEST_A_SOCK_MSG_DATA])
		s->present |= 1ULL << KTLS_ATTEST_A_SOCK_MSG_DATA;

	a = tb[KTLS_ATTEST_A_SOCK_REASON_TEXT];
	if (a && nla_len(a) >= 1 && nla_len(a) <= KTLS_ATTEST_REASON_TEXT_MAX &&
	    ((char *)nla_data(a))[nla_len(a) - 1] == '\0') {
		memcpy(s->reason_text, nla_data(a), nla_len(a));
		s->present |= 1ULL << KTLS_ATTEST_A_SOCK_REASON_TEXT;
	}
#undef U64
#undef U32
#undef BE16
#undef BIN

	for (i = 1; i <= KTLS_ATTEST_A_SOCK_MAX; i++)
		if (tb[i] && !(s->present & (1ULL << i)))
			return -EINVAL;	/* malformed attribute */
	return 0;
}

/*
 * The msg-data pieces of a msg-recv, in order, into ev->msg.  A piece
 * outside 1..KATT_NL_MSG_PIECE bytes is kept as it came: the tests judge.
 */
static int parse_msg(struct nlmsghdr *nlh, struct katt_nl_event *ev)
{
	struct nlattr *head = genlmsg_attrdata(nlmsg_data(nlh), 0);
	int len = genlmsg_attrlen(nlmsg_data(nlh), 0), rem;
	struct nlattr *a;
	size_t total = 0;

	nla_for_each_attr(a, head, len, rem)
		if (nla_type(a) == KTLS_ATTEST_A_SOCK_MSG_DATA)
			total += nla_len(a);
	ev->msg = malloc(total ? total : 1);
	if (!ev->msg)
		return -ENOMEM;
	nla_for_each_attr(a, head, len, rem) {
		if (nla_type(a) != KTLS_ATTEST_A_SOCK_MSG_DATA)
			continue;
		memcpy(ev->msg + ev->msg_size, nla_data(a), nla_len(a));
		ev->msg_size += nla_len(a);
		ev->msg_pieces++;
	}
	return 0;
}

/* Extack TLVs of an NLMSG_ERROR or NLMSG_DONE message. */
static void parse_extack(struct katt_nl *nl, struct nlmsghdr *nlh,
			 size_t offset)
{
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	struct nlattr *attrs;
	int len;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (nlh->nlmsg_len < NLMSG_HDRLEN + NLMSG_ALIGN(offset))
		return;
	attrs = (struct nlattr *)((char *)NLMSG_DATA(nlh) + NLMSG_ALIGN(offset));
	len = nlh->nlmsg_len - NLMSG_HDRLEN - NLMSG_ALIGN(offset);
	if (nla_parse(tb, NLMSGERR_ATTR_MAX, attrs, len, NULL))
		return;
	if (tb[NLMSGERR_ATTR_MSG] && nla_len(tb[NLMSGERR_ATTR_MSG]) > 0) {
		snprintf(nl->extack, sizeof(nl->extack), "%.*s",
			 nla_len(tb[NLMSGERR_ATTR_MSG]),
			 (char *)nla_data(tb[NLMSGERR_ATTR_MSG]));
	}
}

/* A message that is not the answer to the request under way. */
static void queue_event(struct katt_nl *nl, struct nlmsghdr *nlh,
			bool multicast)
{
	struct genlmsghdr *g;
	struct katt_nl_event *ev;

	if (nlh->nlmsg_type != nl->family ||
	    nlh->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN)
		return;
	g = NLMSG_DATA(nlh);
	if (g->cmd != KTLS_ATTEST_CMD_ROUND_START &&
	    g->cmd != KTLS_ATTEST_CMD_MSG_RECV &&
	    g->cmd != KTLS_ATTEST_CMD_STATE_CHANGE)
		return;

	if (nl->qhead && nl->qhead == nl->qlen)
		nl->qhead = nl->qlen = 0;
	if (nl->qlen == nl->qcap) {
		size_t cap = nl->qcap ? 2 * nl->qcap : 64;
		struct katt_nl_event *q = realloc(nl->q, cap * sizeof(*q));

		if (!q) {
			nl->overrun = true;
			return;
		}
		nl->q = q;
		nl->qcap = cap;
	}
	ev = &nl->q[nl->qlen];
	memset(ev, 0, sizeof(*ev));
	ev->cmd = g->cmd;
	ev->nl_pid = nlh->nlmsg_pid;
	ev->multicast = multicast;
	if (parse_sock(nlh, &ev->sock))
		return;		/* dropped: the test sees no such event */
	if (g->cmd == KTLS_ATTEST_CMD_MSG_RECV && parse_msg(nlh, ev)) {
		nl->overrun = true;	/* lost, as if the kernel dropped it */
		return;
	}
	nl->qlen++;
}

/*
 * Reads one datagram within @timeout_ms (-1: forever) into nl->buf.
 * Returns its length, -ETIMEDOUT, or -errno (-ENOBUFS: events lost).
 */
static ssize_t recv_one(struct katt_nl *nl, int timeout_ms, bool *multicast)
{
	struct sockaddr_nl sa;
	struct iovec iov = { .iov_base = nl->buf, .iov_len = KATT_NL_BUF };
	struct msghdr msg = {
		.msg_name = &sa,
		.msg_namelen = sizeof(sa),
		.msg_iov = &iov,
		.msg_iovlen = 1,
	};
	struct pollfd pfd = { .fd = nl->fd, .events = POLLIN };
	ssize_t n;
	int ret;

	do {
		ret = poll(&pfd, 1, timeout_ms);
	} while (ret < 0 && errno == EINTR);
	if (ret < 0)
		return -errno;
	if (!ret)
		return -ETIMEDOUT;
	do {
		n = recvmsg(nl->fd, &msg, MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN ? -ETIMEDOUT : -errno;
	if (msg.msg_flags & MSG_TRUNC)
		return -EMSGSIZE;
	*multicast = sa.nl_groups != 0;
	return n;
}

/*
 * Sends @msg (freed) and reads up to its ack (do) or NLMSG_DONE (dump),
 * handing each reply message to @fn and queueing events.
 */
static int request(struct katt_nl *nl, struct nl_msg *msg,
		   katt_nl_reply_fn fn, void *arg)
{
	long long deadline = now_ms() + KATT_NL_REPLY_MS;
	struct nlmsghdr *nlh;
	bool multicast, dump, lost = false;
	uint32_t seq;
	ssize_t n;
	int ret, left;

	nl->extack[0] = '\0';
	dump = nlmsg_hdr(msg)->nlmsg_flags & NLM_F_DUMP;
	ret = nl_send_auto(nl->sk, msg);
	seq = nlmsg_hdr(msg)->nlmsg_seq;
	nlmsg_free(msg);
	if (ret < 0)
		return nle_errno(ret);

	for (;;) {
		left = deadline - now_ms();
		n = recv_one(nl, left > 0 ? left : 0, &multicast);
		if (n == -ENOBUFS) {
			/* the answer may be among what was lost */
			nl->overrun = lost = true;
			if (deadline > now_ms() + KATT_NL_LOST_MS)
				deadline = now_ms() + KATT_NL_LOST_MS;
			continue;
		}
		if (n == -ETIMEDOUT && lost)
			return -ENOBUFS;
		if (n < 0)
			return n;
		for (nlh = (struct nlmsghdr *)nl->buf; NLMSG_OK(nlh, n);
		     nlh = NLMSG_NEXT(nlh, n)) {
			if (nlh->nlmsg_seq != seq || nlh->nlmsg_pid != nl->portid) {
				queue_event(nl, nlh, multicast);
				continue;
			}
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(nlh);
				size_t off = sizeof(*e);

				if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
					return -EPROTO;
				if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
					off += e->msg.nlmsg_len - NLMSG_HDRLEN;
				parse_extack(nl, nlh, off);
				/* a dump is answered by NLMSG_DONE instead */
				if (e->error || !dump)
					return e->error;
				continue;
			}
			if (nlh->nlmsg_type == NLMSG_DONE) {
				int err = 0;

				if (nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(int)))
					memcpy(&err, NLMSG_DATA(nlh), sizeof(err));
				parse_extack(nl, nlh, sizeof(int));
				return err;
			}
			if (nlh->nlmsg_type == nl->family && fn) {
				ret = fn(nlh, arg);
				if (ret)
					return ret;
			}
		}
	}
}

static struct nl_msg *new_msg(struct katt_nl *nl, uint8_t cmd, int flags)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0,
			 flags, cmd, KTLS_ATTEST_FAMILY_VERSION)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/* --- requests ----------------------------------------------------------- */

static int simple(struct katt_nl *nl, uint8_t cmd)
{
	struct nl_msg *msg = new_msg(nl, cmd, 0);

	if (!msg)
		return -ENOMEM;
	return request(nl, msg, NULL, NULL);
}

int katt_nl_agent_register(struct katt_nl *nl)
{
	return simple(nl, KTLS_ATTEST_CMD_AGENT_REGISTER);
}

int katt_nl_agent_unregister(struct katt_nl *nl)
{
	return simple(nl, KTLS_ATTEST_CMD_AGENT_UNREGISTER);
}

int katt_nl_verdict(struct katt_nl *nl, uint64_t cookie, uint32_t round,
		    uint32_t verdict, const char *text)
{
	struct nl_msg *msg = new_msg(nl, KTLS_ATTEST_CMD_SOCK_VERDICT, 0);

	if (!msg)
		return -ENOMEM;
	if ((cookie && nla_put_u64(msg, KTLS_ATTEST_A_SOCK_COOKIE, cookie)) ||
	    (round && nla_put_u32(msg, KTLS_ATTEST_A_SOCK_ROUND, round)) ||
	    (verdict &&
	     nla_put_u32(msg, KTLS_ATTEST_A_SOCK_VERDICT, verdict)) ||
	    (text && nla_put_string(msg, KTLS_ATTEST_A_SOCK_REASON_TEXT, text))) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return request(nl, msg, NULL, NULL);
}

int katt_nl_pass_socket(int fd, const char *text)
{
	struct ktls_attest_status st;
	socklen_t len = sizeof(st);
	struct katt_nl *nl;
	int ret;

	/* not armed: TCP's own answer to a foreign option level */
	if (getsockopt(fd, SOL_KTLS_ATTEST, KTLS_ATTEST_STATUS, &st, &len))
		return errno == EOPNOTSUPP || errno == ENOPROTOOPT ? 0 : -errno;
	if (st.state != KTLS_ATTEST_STATE_PENDING &&
	    st.state != KTLS_ATTEST_STATE_REATTESTING)
		return 0;
	ret = katt_nl_open(&nl);
	if (ret)
		return ret;
	ret = katt_nl_verdict(nl, st.cookie, st.round,
			      KTLS_ATTEST_VERDICT_PASS, text);
	katt_nl_close(nl);
	return ret;
}

int katt_nl_reattest(struct katt_nl *nl, uint64_t cookie)
{
	struct nl_msg *msg = new_msg(nl, KTLS_ATTEST_CMD_SOCK_REATTEST, 0);

	if (!msg)
		return -ENOMEM;
	if (cookie && nla_put_u64(msg, KTLS_ATTEST_A_SOCK_COOKIE, cookie)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return request(nl, msg, NULL, NULL);
}

static int one_sock(struct nlmsghdr *nlh, void *arg)
{
	struct katt_nl_sock *out = arg;

	return parse_sock(nlh, out) ? -EPROTO : 0;
}

int katt_nl_arm(struct katt_nl *nl, int fd, const struct katt_nl_arm *opt,
		uint64_t *cookie, uint32_t *state)
{
	struct nl_msg *msg = new_msg(nl, KTLS_ATTEST_CMD_SOCK_ARM, 0);
	struct katt_nl_sock reply;
	int ret;

	if (!msg)
		return -ENOMEM;
	if (nla_put_s32(msg, KTLS_ATTEST_A_SOCK_FD, fd) ||
	    (opt && opt->role &&
	     nla_put_u32(msg, KTLS_ATTEST_A_SOCK_ROLE, opt->role)) ||
	    (opt && opt->timeout_ms &&
	     nla_put_u32(msg, KTLS_ATTEST_A_SOCK_TIMEOUT_MS, opt->timeout_ms)) ||
	    (opt && opt->policy_flags &&
	     nla_put_u32(msg, KTLS_ATTEST_A_SOCK_POLICY_FLAGS,
			 opt->policy_flags))) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	memset(&reply, 0, sizeof(reply));
	ret = request(nl, msg, one_sock, &reply);
	if (ret)
		return ret;
	if (!KATT_NL_HAS(&reply, KTLS_ATTEST_A_SOCK_COOKIE) ||
	    !KATT_NL_HAS(&reply, KTLS_ATTEST_A_SOCK_STATE))
		return -EPROTO;
	if (cookie)
		*cookie = reply.cookie;
	if (state)
		*state = reply.state;
	return 0;
}

int katt_nl_arm_nofd(struct katt_nl *nl)
{
	struct nl_msg *msg = new_msg(nl, KTLS_ATTEST_CMD_SOCK_ARM, 0);

	if (!msg)
		return -ENOMEM;
	return request(nl, msg, NULL, NULL);
}

int katt_nl_get(struct katt_nl *nl, uint64_t cookie, struct katt_nl_sock *out)
{
	struct nl_msg *msg = new_msg(nl, KTLS_ATTEST_CMD_SOCK_GET, 0);
	int ret;

	if (!msg)
		return -ENOMEM;
	if (cookie && nla_put_u64(msg, KTLS_ATTEST_A_SOCK_COOKIE, cookie)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	memset(out, 0, sizeof(*out));
	ret = request(nl, msg, one_sock, out);
	if (!ret && !KATT_NL_HAS(out, KTLS_ATTEST_A_SOCK_COOKIE))
		return -EPROTO;
	return ret;
}

struct dump_acc {
	struct katt_nl_sock *v;
	size_t n, cap;
};

static int dump_one(struct nlmsghdr *nlh, void *arg)
{
	struct dump_acc *acc = arg;

	if (acc->n == acc->cap) {
		size_t cap = acc->cap ? 2 * acc->cap : 64;
		struct katt_nl_sock *v = realloc(acc->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		acc->v = v;
		acc->cap = cap;
	}
	if (parse_sock(nlh, &acc->v[acc->n]))
		return -EPROTO;
	acc->n++;
	return 0;
}

int katt_nl_dump(struct katt_nl *nl, struct katt_nl_sock **out, size_t *n)
{
	struct nl_msg *msg = new_msg(nl, KTLS_ATTEST_CMD_SOCK_GET, NLM_F_DUMP);
	struct dump_acc acc = { 0 };
	int ret;

	*out = NULL;
	*n = 0;
	if (!msg)
		return -ENOMEM;
	ret = request(nl, msg, dump_one, &acc);
	if (ret) {
		free(acc.v);
		return ret;
	}
	*out = acc.v;
	*n = acc.n;
	return 0;
}

const struct katt_nl_sock *katt_nl_find(const struct katt_nl_sock *v,
					size_t n, uint64_t cookie)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].cookie == cookie)
			return &v[i];
	return NULL;
}

/* --- events ------------------------------------------------------------- */

int katt_nl_monitor(struct katt_nl *nl)
{
	int ret = nl_socket_add_membership(nl->sk, nl->mcgrp);

	return ret < 0 ? nle_errno(ret) : 0;
}

int katt_nl_monitor_leave(struct katt_nl *nl)
{
	int ret = nl_socket_drop_membership(nl->sk, nl->mcgrp);

	return ret < 0 ? nle_errno(ret) : 0;
}

/* Reads what arrives within @timeout_ms into the queue. */
static int fill_queue(struct katt_nl *nl, int timeout_ms)
{
	struct nlmsghdr *nlh;
	bool multicast;
	ssize_t n;

	n = recv_one(nl, timeout_ms, &multicast);
	if (n == -ENOBUFS) {
		nl->overrun = true;
		return 0;
	}
	if (n < 0)
		return n;
	for (nlh = (struct nlmsghdr *)nl->buf; NLMSG_OK(nlh, n);
	     nlh = NLMSG_NEXT(nlh, n))
		queue_event(nl, nlh, multicast);
	return 0;
}

int katt_nl_wait_event(struct katt_nl *nl, struct katt_nl_event *ev,
		       int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	int ret, left;

	for (;;) {
		if (nl->overrun) {
			nl->overrun = false;
			return -ENOBUFS;
		}
		if (nl->qhead < nl->qlen) {
			*ev = nl->q[nl->qhead++];
			return 0;
		}
		left = deadline - now_ms();
		ret = fill_queue(nl, left > 0 ? left : 0);
		if (ret)
			return ret;
	}
}

int katt_nl_wait_event_for(struct katt_nl *nl, uint8_t cmd, uint64_t cookie,
			   uint32_t state, struct katt_nl_event *ev,
			   int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	int ret, left;

	for (;;) {
		left = deadline - now_ms();
		ret = katt_nl_wait_event(nl, ev, left > 0 ? left : 0);
		if (ret)
			return ret;
		if ((cmd && ev->cmd != cmd) ||
		    (cookie && ev->sock.cookie != cookie) ||
		    (state && ev->sock.state != state)) {
			katt_nl_event_release(ev);
			continue;
		}
		return 0;
	}
}

int katt_nl_drain(struct katt_nl *nl)
{
	int count;

	while (fill_queue(nl, 0) == 0)
		;
	count = nl->qlen - nl->qhead;
	while (nl->qhead < nl->qlen)
		katt_nl_event_release(&nl->q[nl->qhead++]);
	nl->qhead = nl->qlen = 0;
	nl->overrun = false;
	return count;
}

void katt_nl_event_release(struct katt_nl_event *ev)
{
	free(ev->msg);
	ev->msg = NULL;
	ev->msg_size = 0;
	ev->msg_pieces = 0;
}

/* --- attestation messages ------------------------------------------------ */

int katt_nl_msg_send_pieces(struct katt_nl *nl, uint64_t cookie,
			    const void *buf, size_t len, size_t piece)
{
	size_t n, off, npieces;
	struct nl_msg *msg;

	if (!piece || piece > KATT_NL_MSG_PIECE)
		return -EINVAL;
	npieces = (len + piece - 1) / piece;
	msg = nlmsg_alloc_size(len + npieces * NLA_HDRLEN + 4096);
	if (!msg)
		return -ENOMEM;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0, 0,
			 KTLS_ATTEST_CMD_MSG_SEND, KTLS_ATTEST_FAMILY_VERSION) ||
	    (cookie && nla_put_u64(msg, KTLS_ATTEST_A_SOCK_COOKIE, cookie)))
		goto too_big;
	for (off = 0; off < len; off += n) {
		n = len - off < piece ? len - off : piece;
		if (nla_put(msg, KTLS_ATTEST_A_SOCK_MSG_DATA, n,
			    (const char *)buf + off))
			goto too_big;
	}
	return request(nl, msg, NULL, NULL);

too_big:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

int katt_nl_msg_send(struct katt_nl *nl, uint64_t cookie, const void *buf,
		     size_t len)
{
	return katt_nl_msg_send_pieces(nl, cookie, buf, len,
				       KATT_NL_MSG_PIECE);
}
