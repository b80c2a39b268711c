// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Arming a kTLS socket by file descriptor (sock-arm of the generic netlink
 * family, Documentation/netlink.rst), for a connection on which OpenSSL
 * installed TLS_TX itself.  libnl-genl builds the request and parses the
 * answer; the kernel's extack message goes into the error.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/netlink.h>
#include <netlink/attr.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "internal.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK		270
#endif
#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK		11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK		10
#endif

struct katt_nl_req {
	int status;		/* 1: waiting; 0 done; < 0 the kernel's error */
	uint64_t cookie;
	bool has_cookie;
	char extack[128];
};

static int katt_nl_reply(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[KTLS_ATTEST_A_SOCK_MAX + 1];
	struct katt_nl_req *req = arg;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, KTLS_ATTEST_A_SOCK_MAX,
			  NULL) < 0)
		return NL_SKIP;
	if (tb[KTLS_ATTEST_A_SOCK_COOKIE] &&
	    nla_len(tb[KTLS_ATTEST_A_SOCK_COOKIE]) == 8) {
		req->cookie = nla_get_u64(tb[KTLS_ATTEST_A_SOCK_COOKIE]);
		req->has_cookie = true;
	}
	return NL_OK;
}

static int katt_nl_error(struct sockaddr_nl *nla, struct nlmsgerr *e,
			 void *arg)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)e - 1;
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	struct katt_nl_req *req = arg;
	size_t off = NLMSG_HDRLEN + sizeof(*e);

	(void)nla;
	req->status = e->error ? e->error : -EPROTO;
	/* NETLINK_CAP_ACK: no copy of the request before the TLVs */
	if ((nlh->nlmsg_flags & NLM_F_ACK_TLVS) && nlh->nlmsg_len > off &&
	    !nla_parse(tb, NLMSGERR_ATTR_MAX,
		       (struct nlattr *)((char *)nlh + off),
		       nlh->nlmsg_len - off, NULL) &&
	    tb[NLMSGERR_ATTR_MSG])
		snprintf(req->extack, sizeof(req->extack), "%.*s",
			 nla_len(tb[NLMSGERR_ATTR_MSG]),
			 (char *)nla_data(tb[NLMSGERR_ATTR_MSG]));
	return NL_STOP;
}

static int katt_nl_ack(struct nl_msg *msg, void *arg)
{
	struct katt_nl_req *req = arg;

	(void)msg;
	req->status = 0;
	return NL_STOP;
}

int katt_nl_sock_arm(struct ktls_attest *ka, int fd, uint32_t role,
		     uint32_t timeout_ms, uint32_t policy_flags,
		     uint64_t *cookie)
{
	struct katt_nl_req req = { .status = 1 };
	struct nl_msg *msg = NULL;
	struct nl_cb *cb = NULL;
	struct nl_sock *sk;
	int family, one = 1, ret;

	sk = nl_socket_alloc();
	if (!sk)
		return katt_err(ka, -ENOMEM, "out of memory (netlink)");
	if (genl_connect(sk) < 0) {
		ret = katt_err(ka, -EIO, "cannot open a generic netlink socket");
		goto out_free;
	}
	family = genl_ctrl_resolve(sk, KTLS_ATTEST_FAMILY_NAME);
	if (family < 0) {
		ret = katt_err(ka, -ENOENT,
			       "no netlink family %s: the ktls_attest module is not loaded",
			       KTLS_ATTEST_FAMILY_NAME);
		goto out_free;
	}
	setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_EXT_ACK, &one,
		   sizeof(one));
	setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_CAP_ACK, &one,
		   sizeof(one));
	msg = nlmsg_alloc();
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!msg || !cb ||
	    !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, 0,
			 KTLS_ATTEST_CMD_SOCK_ARM, KTLS_ATTEST_FAMILY_VERSION) ||
	    nla_put_s32(msg, KTLS_ATTEST_A_SOCK_FD, fd) ||
	    (role && nla_put_u32(msg, KTLS_ATTEST_A_SOCK_ROLE, role)) ||
	    (timeout_ms &&
	     nla_put_u32(msg, KTLS_ATTEST_A_SOCK_TIMEOUT_MS, timeout_ms)) ||
	    (policy_flags &&
	     nla_put_u32(msg, KTLS_ATTEST_A_SOCK_POLICY_FLAGS, policy_flags))) {
		ret = katt_err(ka, -ENOMEM, "out of memory (netlink)");
		goto out_free;
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, katt_nl_reply, &req);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, katt_nl_ack, &req);
	nl_cb_err(cb, NL_CB_CUSTOM, katt_nl_error, &req);
	if (nl_send_auto(sk, msg) < 0) {
		ret = katt_err(ka, -EIO, "cannot send the netlink request");
		goto out_free;
	}
	while (req.status > 0)
		if (nl_recvmsgs(sk, cb) < 0 && req.status > 0)
			req.status = -EIO;
	ret = req.status;
	if (ret) {
		katt_err(ka, ret, "cannot arm the socket by fd over netlink: %s%s%s",
			 strerror(-ret), req.extack[0] ? ": " : "", req.extack);
		goto out_free;
	}
	if (!req.has_cookie) {
		ret = katt_err(ka, -EPROTO, "sock-arm answered without a cookie");
		goto out_free;
	}
	*cookie = req.cookie;
out_free:
	nlmsg_free(msg);
	nl_cb_put(cb);
	nl_socket_free(sk);
	return ret;
}
