// SPDX-License-Identifier: GPL-2.0
/*
 * agent_nl.c: the daemon's netlink socket (agent_nl.h).  libnl builds
 * every request and parses every attribute (with the generated policy);
 * datagrams are read here from the socket so that events arriving while a
 * request waits for its ack are queued rather than lost to libnl's
 * sequence checks.
 *
 * Owns: the socket and the queue.  Calls: libnl-3, libnl-genl-3, log.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <netlink/attr.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include <openssl/crypto.h>

#include <linux/ktls_attest.h>

#include "agent_nl.h"
#include "ktls_attest_nl_gen.h"
#include "log.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK		270
#endif

/* The largest datagram: a msg-recv of 65536 bytes in two pieces. */
#define NL_BUF			(256 * 1024)
/* A msg-send of 65536 bytes is one datagram a little larger. */
#define NL_SNDBUF		(256 * 1024)
/* An ack is queued before sendmsg() returns; this bounds a lost one. */
#define NL_ACK_MS		2000
/* The highest attribute and the operations this agent uses. */
#define NEED_MAXATTR		KTLS_ATTEST_A_SOCK_MSG_LEN

/* The operations this agent calls, and the attributes it sends them. */
static const struct {
	uint8_t cmd;
	const char *name;
	uint64_t attrs;		/* bit n: attribute n */
} need_ops[] = {
	{ KTLS_ATTEST_CMD_AGENT_REGISTER, "agent-register", 0 },
	{ KTLS_ATTEST_CMD_AGENT_UNREGISTER, "agent-unregister", 0 },
	{ KTLS_ATTEST_CMD_SOCK_VERDICT, "sock-verdict",
	  1ULL << KTLS_ATTEST_A_SOCK_COOKIE | 1ULL << KTLS_ATTEST_A_SOCK_ROUND |
	  1ULL << KTLS_ATTEST_A_SOCK_VERDICT |
	  1ULL << KTLS_ATTEST_A_SOCK_REASON_TEXT },
	{ KTLS_ATTEST_CMD_MSG_SEND, "msg-send",
	  1ULL << KTLS_ATTEST_A_SOCK_COOKIE |
	  1ULL << KTLS_ATTEST_A_SOCK_MSG_DATA },
};

static const char *attr_name(unsigned int attr)
{
	switch (attr) {
	case KTLS_ATTEST_A_SOCK_COOKIE:
		return "cookie";
	case KTLS_ATTEST_A_SOCK_ROUND:
		return "round";
	case KTLS_ATTEST_A_SOCK_VERDICT:
		return "verdict";
	case KTLS_ATTEST_A_SOCK_REASON_TEXT:
		return "reason-text";
	case KTLS_ATTEST_A_SOCK_MSG_DATA:
		return "msg-data";
	default:
		return "?";
	}
}

struct ev_node {
	struct katt_nl_ev ev;
	struct ev_node *next;
};

struct katt_agent_nl {
	struct nl_sock *sk;
	int fd;
	uint32_t portid;
	int family;
	int mcgrp;
	bool overrun;
	char extack[256];
	uint8_t *buf;
	struct ev_node *q, **q_tail;
};

typedef int (*reply_fn)(struct nlmsghdr *nlh, void *arg);

static int nle_errno(int nle)
{
	switch (nle < 0 ? -nle : nle) {
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

/* --- events ---------------------------------------------------------------- */

static void parse_sock(struct nlattr **tb, struct katt_nl_ev *ev)
{
	struct katt_binding *b = &ev->binding;

	if (tb[KTLS_ATTEST_A_SOCK_COOKIE])
		ev->cookie = nla_get_u64(tb[KTLS_ATTEST_A_SOCK_COOKIE]);
	if (tb[KTLS_ATTEST_A_SOCK_ROUND])
		ev->round = nla_get_u32(tb[KTLS_ATTEST_A_SOCK_ROUND]);
	if (tb[KTLS_ATTEST_A_SOCK_ROLE])
		ev->role = nla_get_u32(tb[KTLS_ATTEST_A_SOCK_ROLE]);
	if (tb[KTLS_ATTEST_A_SOCK_STATE])
		ev->state = nla_get_u32(tb[KTLS_ATTEST_A_SOCK_STATE]);
	if (tb[KTLS_ATTEST_A_SOCK_REASON])
		ev->reason = nla_get_u32(tb[KTLS_ATTEST_A_SOCK_REASON]);
	if (tb[KTLS_ATTEST_A_SOCK_TIMEOUT_MS])
		ev->timeout_ms = nla_get_u32(tb[KTLS_ATTEST_A_SOCK_TIMEOUT_MS]);
	if (tb[KTLS_ATTEST_A_SOCK_BINDING_FLAGS])
		ev->binding_flags =
			nla_get_u32(tb[KTLS_ATTEST_A_SOCK_BINDING_FLAGS]);
	/* the policy checked each binary's length: exactly 32 bytes */
	if (tb[KTLS_ATTEST_A_SOCK_BINDING_EXPORTER]) {
		memcpy(b->exporter, nla_data(tb[KTLS_ATTEST_A_SOCK_BINDING_EXPORTER]),
		       KATT_EXPORTER_LEN);
		ev->has_binding = true;
	}
	if (tb[KTLS_ATTEST_A_SOCK_BINDING_LOCAL_KEY]) {
		memcpy(b->local_key,
		       nla_data(tb[KTLS_ATTEST_A_SOCK_BINDING_LOCAL_KEY]),
		       KATT_KEY_HASH_LEN);
		b->has_local_key = true;
	}
	if (tb[KTLS_ATTEST_A_SOCK_BINDING_PEER_KEY]) {
		memcpy(b->peer_key,
		       nla_data(tb[KTLS_ATTEST_A_SOCK_BINDING_PEER_KEY]),
		       KATT_KEY_HASH_LEN);
		b->has_peer_key = true;
	}
	b->tls_server = ev->binding_flags & KTLS_ATTEST_BINDING_TLS_SERVER;
}

/* The msg-data pieces, in order, checked against msg-len. */
static void parse_msg(struct nlmsghdr *nlh, struct nlattr **tb,
		      struct katt_nl_ev *ev)
{
	struct nlattr *head = genlmsg_attrdata(nlmsg_data(nlh), 0), *a;
	int len = genlmsg_attrlen(nlmsg_data(nlh), 0), rem;
	size_t total = 0, want;

	if (!tb[KTLS_ATTEST_A_SOCK_MSG_LEN]) {
		snprintf(ev->bad, sizeof(ev->bad), "msg-recv without msg-len");
		return;
	}
	want = nla_get_u32(tb[KTLS_ATTEST_A_SOCK_MSG_LEN]);
	nla_for_each_attr(a, head, len, rem)
		if (nla_type(a) == KTLS_ATTEST_A_SOCK_MSG_DATA)
			total += nla_len(a);
	if (!total || total != want || total > KTLS_ATTEST_MSG_MAX) {
		snprintf(ev->bad, sizeof(ev->bad),
			 "msg-recv of %zu bytes in pieces, msg-len %zu", total,
			 want);
		return;
	}
	ev->msg = malloc(total);
	if (!ev->msg) {
		snprintf(ev->bad, sizeof(ev->bad), "out of memory");
		return;
	}
	nla_for_each_attr(a, head, len, rem) {
		if (nla_type(a) != KTLS_ATTEST_A_SOCK_MSG_DATA)
			continue;
		memcpy(ev->msg + ev->msg_len, nla_data(a), nla_len(a));
		ev->msg_len += nla_len(a);
	}
}

/* A message that is not the answer to the request under way. */
static void queue_event(struct katt_agent_nl *nl, struct nlmsghdr *nlh)
{
	struct nlattr *tb[KTLS_ATTEST_A_SOCK_MAX + 1];
	struct genlmsghdr *g;
	struct ev_node *n;

	if (nlh->nlmsg_type != nl->family ||
	    nlh->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN)
		return;
	g = nlmsg_data(nlh);
	if (g->cmd != KTLS_ATTEST_CMD_ROUND_START &&
	    g->cmd != KTLS_ATTEST_CMD_MSG_RECV &&
	    g->cmd != KTLS_ATTEST_CMD_STATE_CHANGE)
		return;
	n = calloc(1, sizeof(*n));
	if (!n) {
		katt_err("netlink: out of memory, an event is lost");
		nl->overrun = true;
		return;
	}
	n->ev.cmd = g->cmd;
	if (genlmsg_parse(nlh, 0, tb, KTLS_ATTEST_A_SOCK_MAX,
			  (struct nla_policy *)ktls_attest_sock_policy) < 0) {
		snprintf(n->ev.bad, sizeof(n->ev.bad),
			 "an attribute of the wrong size");
	} else {
		parse_sock(tb, &n->ev);
		if (!tb[KTLS_ATTEST_A_SOCK_COOKIE])
			snprintf(n->ev.bad, sizeof(n->ev.bad), "no cookie");
		else if (g->cmd == KTLS_ATTEST_CMD_MSG_RECV)
			parse_msg(nlh, tb, &n->ev);
	}
	*nl->q_tail = n;
	nl->q_tail = &n->next;
}

bool katt_agent_nl_next(struct katt_agent_nl *nl, struct katt_nl_ev *ev)
{
	struct ev_node *n = nl->q;

	if (!n)
		return false;
	nl->q = n->next;
	if (!nl->q)
		nl->q_tail = &nl->q;
	*ev = n->ev;
	OPENSSL_cleanse(&n->ev.binding, sizeof(n->ev.binding));
	free(n);
	return true;
}

void katt_nl_ev_release(struct katt_nl_ev *ev)
{
	katt_binding_wipe(&ev->binding);
	free(ev->msg);
	ev->msg = NULL;
	ev->msg_len = 0;
}

/* --- reading --------------------------------------------------------------- */

/*
 * One datagram into nl->buf within @timeout_ms (0: only if there is one).
 * Returns its length, -EAGAIN (none), -ENOBUFS (overrun) or -errno.
 */
static ssize_t recv_one(struct katt_agent_nl *nl, int timeout_ms)
{
	struct pollfd pfd = { .fd = nl->fd, .events = POLLIN };
	struct sockaddr_nl from;
	socklen_t fromlen;
	ssize_t n;
	int ret;

again:
	if (timeout_ms) {
		do {
			ret = poll(&pfd, 1, timeout_ms);
		} while (ret < 0 && errno == EINTR);
		if (ret < 0)
			return -errno;
		if (!ret)
			return -EAGAIN;
	}
	do {
		fromlen = sizeof(from);
		n = recvfrom(nl->fd, nl->buf, NL_BUF, MSG_DONTWAIT | MSG_TRUNC,
			     (struct sockaddr *)&from, &fromlen);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	/*
	 * Only the kernel speaks for the kernel: a process with
	 * CAP_NET_ADMIN in this namespace may unicast to this socket, and a
	 * round-start it made up would have the attester quote over a binder
	 * of its choosing.  Its datagrams are dropped unread.
	 */
	if (fromlen < sizeof(from) || from.nl_family != AF_NETLINK ||
	    from.nl_pid) {
		katt_warn("netlink: a datagram of %zd bytes from port %u, not from the kernel: dropped",
			  n, fromlen >= sizeof(from) ? from.nl_pid : 0);
		goto again;
	}
	if (n > NL_BUF) {
		katt_err("netlink: a datagram of %zd bytes, more than %d", n,
			 NL_BUF);
		return -EMSGSIZE;
	}
	return n;
}

int katt_agent_nl_recv(struct katt_agent_nl *nl)
{
	struct nlmsghdr *nlh;
	int ret = 0;
	ssize_t n;

	for (;;) {
		n = recv_one(nl, 0);
		if (n == -EAGAIN)
			break;
		if (n == -ENOBUFS) {
			ret = -ENOBUFS;
			continue;
		}
		if (n == -EMSGSIZE)
			continue;
		if (n < 0)
			return n;
		for (nlh = (struct nlmsghdr *)nl->buf; nlmsg_ok(nlh, n);
		     nlh = nlmsg_next(nlh, (int *)&n))
			queue_event(nl, nlh);
	}
	if (nl->overrun) {
		nl->overrun = false;
		ret = -ENOBUFS;
	}
	return ret;
}

/* The extack message of an NLMSG_ERROR. */
static void take_extack(struct katt_agent_nl *nl, struct nlmsghdr *nlh)
{
	struct nlmsgerr *e = nlmsg_data(nlh);
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	size_t off = sizeof(*e);
	int len;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	len = (int)nlh->nlmsg_len - NLMSG_HDRLEN - (int)NLMSG_ALIGN(off);
	if (len <= 0 ||
	    nla_parse(tb, NLMSGERR_ATTR_MAX,
		      (struct nlattr *)((char *)e + NLMSG_ALIGN(off)), len,
		      NULL) < 0 || !tb[NLMSGERR_ATTR_MSG])
		return;
	snprintf(nl->extack, sizeof(nl->extack), "%.*s",
		 (int)strnlen(nla_data(tb[NLMSGERR_ATTR_MSG]),
			      nla_len(tb[NLMSGERR_ATTR_MSG])),
		 (char *)nla_data(tb[NLMSGERR_ATTR_MSG]));
}

/*
 * Sends @msg (freed) with an ack requested and reads up to the ack,
 * handing replies of @family to @fn and queueing events.
 */
static int request(struct katt_agent_nl *nl, struct nl_msg *msg, int family,
		   reply_fn fn, void *arg)
{
	bool dump = nlmsg_hdr(msg)->nlmsg_flags & NLM_F_DUMP;
	struct nlmsghdr *nlh;
	uint32_t seq;
	int ret;
	ssize_t n;

	nl->extack[0] = '\0';
	nlmsg_hdr(msg)->nlmsg_flags |= NLM_F_ACK;
	ret = nl_send_auto(nl->sk, msg);
	seq = nlmsg_hdr(msg)->nlmsg_seq;
	nlmsg_free(msg);
	if (ret < 0)
		return nle_errno(ret);
	for (;;) {
		n = recv_one(nl, NL_ACK_MS);
		if (n == -ENOBUFS) {
			nl->overrun = true;
			continue;
		}
		if (n == -EAGAIN) {
			/* only an overrun loses an ack */
			katt_err("netlink: no answer to request %u in %d ms",
				 seq, NL_ACK_MS);
			return -ETIMEDOUT;
		}
		if (n < 0)
			return n;
		for (nlh = (struct nlmsghdr *)nl->buf; nlmsg_ok(nlh, n);
		     nlh = nlmsg_next(nlh, (int *)&n)) {
			if (nlh->nlmsg_seq != seq ||
			    nlh->nlmsg_pid != nl->portid) {
				queue_event(nl, nlh);
				continue;
			}
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = nlmsg_data(nlh);

				if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
					return -EPROTO;
				take_extack(nl, nlh);
				/* a dump ends with NLMSG_DONE instead */
				if (e->error || !dump)
					return e->error;
				continue;
			}
			if (nlh->nlmsg_type == NLMSG_DONE) {
				int derr = 0;

				if (nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(derr)))
					memcpy(&derr, nlmsg_data(nlh),
					       sizeof(derr));
				return derr;
			}
			if (nlh->nlmsg_type == family && fn) {
				ret = fn(nlh, arg);
				if (ret)
					return ret;
			}
		}
	}
}

static struct nl_msg *new_msg(struct katt_agent_nl *nl, uint8_t cmd)
{
	struct nl_msg *msg = nlmsg_alloc_size(KTLS_ATTEST_MSG_MAX + 4096);

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0, 0,
			 cmd, KTLS_ATTEST_FAMILY_VERSION)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/* --- the family's probe ---------------------------------------------------- */

struct probe {
	bool found;
	int id;
	uint32_t version;
	uint32_t maxattr;
	uint32_t ops[KTLS_ATTEST_CMD_MAX + 1];	/* flags, by command */
	bool has_op[KTLS_ATTEST_CMD_MAX + 1];
	int mcgrp;
};

static int probe_reply(struct nlmsghdr *nlh, void *arg)
{
	struct nlattr *tb[CTRL_ATTR_MAX + 1], *a;
	struct probe *p = arg;
	int rem;

	if (genlmsg_parse(nlh, 0, tb, CTRL_ATTR_MAX, NULL) < 0)
		return -EPROTO;
	if (!tb[CTRL_ATTR_FAMILY_ID] || !tb[CTRL_ATTR_VERSION] ||
	    !tb[CTRL_ATTR_MAXATTR])
		return -EPROTO;
	p->found = true;
	p->id = nla_get_u16(tb[CTRL_ATTR_FAMILY_ID]);
	p->version = nla_get_u32(tb[CTRL_ATTR_VERSION]);
	p->maxattr = nla_get_u32(tb[CTRL_ATTR_MAXATTR]);
	if (tb[CTRL_ATTR_OPS]) {
		nla_for_each_nested(a, tb[CTRL_ATTR_OPS], rem) {
			struct nlattr *op[CTRL_ATTR_OP_MAX + 1];
			uint32_t id;

			if (nla_parse_nested(op, CTRL_ATTR_OP_MAX, a, NULL) < 0 ||
			    !op[CTRL_ATTR_OP_ID])
				continue;
			id = nla_get_u32(op[CTRL_ATTR_OP_ID]);
			if (id <= KTLS_ATTEST_CMD_MAX)
				p->has_op[id] = true;
		}
	}
	if (tb[CTRL_ATTR_MCAST_GROUPS]) {
		nla_for_each_nested(a, tb[CTRL_ATTR_MCAST_GROUPS], rem) {
			struct nlattr *g[CTRL_ATTR_MCAST_GRP_MAX + 1];

			if (nla_parse_nested(g, CTRL_ATTR_MCAST_GRP_MAX, a,
					     NULL) < 0 ||
			    !g[CTRL_ATTR_MCAST_GRP_NAME] ||
			    !g[CTRL_ATTR_MCAST_GRP_ID])
				continue;
			if (!strcmp(nla_get_string(g[CTRL_ATTR_MCAST_GRP_NAME]),
				    KTLS_ATTEST_MCGRP_MONITOR))
				p->mcgrp = nla_get_u32(g[CTRL_ATTR_MCAST_GRP_ID]);
		}
	}
	return 0;
}

/* The attributes that a GETPOLICY dump of one operation lists. */
static int policy_reply(struct nlmsghdr *nlh, void *arg)
{
	struct nlattr *tb[CTRL_ATTR_MAX + 1], *pol, *attr;
	uint64_t *attrs = arg;
	int rem, rem2;

	if (genlmsg_parse(nlh, 0, tb, CTRL_ATTR_MAX, NULL) < 0)
		return -EPROTO;
	if (!tb[CTRL_ATTR_POLICY])
		return 0;
	/* policy index => attribute type => its properties */
	nla_for_each_nested(pol, tb[CTRL_ATTR_POLICY], rem)
		nla_for_each_nested(attr, pol, rem2)
			if (nla_type(attr) < 64)
				*attrs |= 1ULL << nla_type(attr);
	return 0;
}

static int probe_op_policy(struct katt_agent_nl *nl, int family, uint8_t cmd,
			   uint64_t *attrs)
{
	struct nl_msg *msg = nlmsg_alloc();

	*attrs = 0;
	if (!msg)
		return -ENOMEM;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, GENL_ID_CTRL, 0,
			 NLM_F_DUMP, CTRL_CMD_GETPOLICY, 1) ||
	    nla_put_u16(msg, CTRL_ATTR_FAMILY_ID, family) ||
	    nla_put_u32(msg, CTRL_ATTR_OP, cmd)) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	return request(nl, msg, GENL_ID_CTRL, policy_reply, attrs);
}

static int probe_family(struct katt_agent_nl *nl)
{
	struct probe p = { .mcgrp = -1 };
	struct nl_msg *msg = nlmsg_alloc();
	unsigned int i;
	int ret;

	if (!msg)
		return -ENOMEM;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, GENL_ID_CTRL, 0, 0,
			 CTRL_CMD_GETFAMILY, 1) ||
	    nla_put_string(msg, CTRL_ATTR_FAMILY_NAME,
			   KTLS_ATTEST_FAMILY_NAME)) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	ret = request(nl, msg, GENL_ID_CTRL, probe_reply, &p);
	if (ret == -ENOENT || (!ret && !p.found)) {
		katt_err("the kernel has no %s netlink family: is the module loaded? (modprobe tls; insmod ktls_attest.ko)",
			 KTLS_ATTEST_FAMILY_NAME);
		return -ENOENT;
	}
	if (ret) {
		katt_err("netlink: %s family not probed: %s",
			 KTLS_ATTEST_FAMILY_NAME, strerror(-ret));
		return ret;
	}
	if (p.version != KTLS_ATTEST_FAMILY_VERSION) {
		katt_err("kernel module speaks %s version %u, this agent needs %u",
			 KTLS_ATTEST_FAMILY_NAME, p.version,
			 KTLS_ATTEST_FAMILY_VERSION);
		return -EPROTO;
	}
	/* a family-wide maxattr (0 with policies per operation) */
	if (p.maxattr && p.maxattr < NEED_MAXATTR) {
		katt_err("kernel module's %s family has attributes up to %u, this agent needs %u (msg-len)",
			 KTLS_ATTEST_FAMILY_NAME, p.maxattr, NEED_MAXATTR);
		return -EPROTO;
	}
	for (i = 0; i < sizeof(need_ops) / sizeof(need_ops[0]); i++) {
		if (!p.has_op[need_ops[i].cmd]) {
			katt_err("kernel module's %s family lacks the operation %s that this agent needs",
				 KTLS_ATTEST_FAMILY_NAME, need_ops[i].name);
			return -EPROTO;
		}
	}
	/* the attributes of each operation this agent sends them */
	for (i = 0; i < sizeof(need_ops) / sizeof(need_ops[0]); i++) {
		uint64_t have, missing;
		unsigned int a;

		if (!need_ops[i].attrs)
			continue;
		ret = probe_op_policy(nl, p.id, need_ops[i].cmd, &have);
		if (ret) {
			katt_err("netlink: the policy of %s not probed: %s",
				 need_ops[i].name, strerror(-ret));
			return ret;
		}
		missing = need_ops[i].attrs & ~have;
		if (!missing)
			continue;
		for (a = 0; !(missing & (1ULL << a)); a++)
			;
		katt_err("kernel module's %s operation %s does not take the attribute %s that this agent sends",
			 KTLS_ATTEST_FAMILY_NAME, need_ops[i].name,
			 attr_name(a));
		return -EPROTO;
	}
	if (p.mcgrp < 0) {
		katt_err("kernel module's %s family has no %s group",
			 KTLS_ATTEST_FAMILY_NAME, KTLS_ATTEST_MCGRP_MONITOR);
		return -EPROTO;
	}
	nl->family = p.id;
	nl->mcgrp = p.mcgrp;
	katt_debug("netlink: family %s id %d version %u, %u attributes, monitor group %d",
		   KTLS_ATTEST_FAMILY_NAME, p.id, p.version, p.maxattr,
		   p.mcgrp);
	return 0;
}

/* --- the socket ------------------------------------------------------------- */

static int set_buf(int fd, int force, int plain, int bytes)
{
	if (setsockopt(fd, SOL_SOCKET, force, &bytes, sizeof(bytes)) &&
	    setsockopt(fd, SOL_SOCKET, plain, &bytes, sizeof(bytes)))
		return -errno;
	return 0;
}

int katt_agent_nl_open(struct katt_agent_nl **out)
{
	struct katt_agent_nl *nl;
	socklen_t olen;
	int one = 1, ret, got = 0;

	*out = NULL;
	nl = calloc(1, sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	nl->q_tail = &nl->q;
	nl->buf = malloc(NL_BUF);
	nl->sk = nl_socket_alloc();
	if (!nl->buf || !nl->sk) {
		ret = -ENOMEM;
		goto out_close;
	}
	ret = genl_connect(nl->sk);
	if (ret < 0) {
		ret = nle_errno(ret);
		katt_err("netlink: no generic netlink socket: %s",
			 strerror(-ret));
		goto out_close;
	}
	nl->fd = nl_socket_get_fd(nl->sk);
	nl->portid = nl_socket_get_local_port(nl->sk);
	if (setsockopt(nl->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one,
		       sizeof(one)) ||
	    setsockopt(nl->fd, SOL_NETLINK, NETLINK_CAP_ACK, &one,
		       sizeof(one))) {
		ret = -errno;
		katt_err("netlink: socket options: %s", strerror(-ret));
		goto out_close;
	}
	ret = set_buf(nl->fd, SO_SNDBUFFORCE, SO_SNDBUF, NL_SNDBUF);
	if (!ret)
		ret = set_buf(nl->fd, SO_RCVBUFFORCE, SO_RCVBUF,
			      KATT_NL_RCVBUF);
	if (ret) {
		katt_err("netlink: socket buffers: %s", strerror(-ret));
		goto out_close;
	}
	olen = sizeof(got);
	getsockopt(nl->fd, SOL_SOCKET, SO_RCVBUF, &got, &olen);
	if (got < KATT_NL_RCVBUF_MIN)
		katt_warn("netlink: receive buffer of %d bytes, less than %d (CAP_NET_ADMIN raises it): events wait in the kernel longer",
			  got, KATT_NL_RCVBUF_MIN);
	ret = probe_family(nl);
	if (ret)
		goto out_close;
	*out = nl;
	return 0;

out_close:
	katt_agent_nl_close(nl);
	return ret;
}

void katt_agent_nl_close(struct katt_agent_nl *nl)
{
	struct katt_nl_ev ev;

	if (!nl)
		return;
	while (katt_agent_nl_next(nl, &ev))
		katt_nl_ev_release(&ev);
	if (nl->sk)
		nl_socket_free(nl->sk);
	free(nl->buf);
	free(nl);
}

int katt_agent_nl_fd(const struct katt_agent_nl *nl)
{
	return nl->fd;
}

const char *katt_agent_nl_extack(const struct katt_agent_nl *nl)
{
	return nl->extack;
}

int katt_agent_nl_register(struct katt_agent_nl *nl)
{
	struct nl_msg *msg = new_msg(nl, KTLS_ATTEST_CMD_AGENT_REGISTER);
	int ret;

	if (!msg)
		return -ENOMEM;
	ret = request(nl, msg, nl->family, NULL, NULL);
	if (ret == -EBUSY || ret == -EEXIST) {
		katt_err("another agent is registered in this network namespace");
		return ret;
	}
	if (ret == -EPERM) {
		katt_err("agent-register refused: the agent needs CAP_NET_ADMIN in its network namespace");
		return ret;
	}
	if (ret) {
		katt_err("agent-register: %s%s%s", strerror(-ret),
			 nl->extack[0] ? ": " : "", nl->extack);
		return ret;
	}
	ret = nl_socket_add_membership(nl->sk, nl->mcgrp);
	if (ret < 0) {
		ret = nle_errno(ret);
		katt_err("netlink: the monitor group cannot be joined: %s",
			 strerror(-ret));
		return ret;
	}
	return 0;
}

int katt_agent_nl_unregister(struct katt_agent_nl *nl)
{
	struct nl_msg *msg = new_msg(nl, KTLS_ATTEST_CMD_AGENT_UNREGISTER);

	if (!msg)
		return -ENOMEM;
	return request(nl, msg, nl->family, NULL, NULL);
}

int katt_agent_nl_msg_send(struct katt_agent_nl *nl, uint64_t cookie,
			   const uint8_t *buf, size_t len)
{
	struct nl_msg *msg;
	size_t off, n;

	if (!len || len > KTLS_ATTEST_MSG_MAX)
		return -EMSGSIZE;
	msg = new_msg(nl, KTLS_ATTEST_CMD_MSG_SEND);
	if (!msg)
		return -ENOMEM;
	if (nla_put_u64(msg, KTLS_ATTEST_A_SOCK_COOKIE, cookie))
		goto out_too_big;
	for (off = 0; off < len; off += n) {
		n = len - off < KATT_NL_PIECE ? len - off : KATT_NL_PIECE;
		if (nla_put(msg, KTLS_ATTEST_A_SOCK_MSG_DATA, n, buf + off))
			goto out_too_big;
	}
	return request(nl, msg, nl->family, NULL, NULL);

out_too_big:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

int katt_agent_nl_verdict(struct katt_agent_nl *nl, uint64_t cookie,
			  uint32_t round, bool pass, const char *text)
{
	struct nl_msg *msg = new_msg(nl, KTLS_ATTEST_CMD_SOCK_VERDICT);
	char cut[KTLS_ATTEST_REASON_TEXT_MAX];
	size_t len = strlen(text);

	if (!msg)
		return -ENOMEM;
	/* 127 bytes and the NUL, cut at the start of a UTF-8 sequence */
	if (len > sizeof(cut) - 1) {
		len = sizeof(cut) - 1;
		while (len && ((unsigned char)text[len] & 0xc0) == 0x80)
			len--;
	}
	memcpy(cut, text, len);
	cut[len] = '\0';
	if (nla_put_u64(msg, KTLS_ATTEST_A_SOCK_COOKIE, cookie) ||
	    nla_put_u32(msg, KTLS_ATTEST_A_SOCK_ROUND, round) ||
	    nla_put_u32(msg, KTLS_ATTEST_A_SOCK_VERDICT,
			pass ? KTLS_ATTEST_VERDICT_PASS :
			KTLS_ATTEST_VERDICT_FAIL) ||
	    nla_put_string(msg, KTLS_ATTEST_A_SOCK_REASON_TEXT, cut)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return request(nl, msg, nl->family, NULL, NULL);
}
