// SPDX-License-Identifier: GPL-2.0
/*
 * The tool's client of the "ktls_attest" generic netlink family, on
 * libnl-genl-3: libnl builds the requests, receives, checks sequence
 * numbers and parses attributes with the policy generated from the
 * family's specification (ktls_attest_nl_gen.c); this file adds the
 * extack messages, which libnl does not read.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/netlink.h>
#include <netlink/attr.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "nl.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK		270
#endif
/* Room for bursts of events: a state change is about 60 bytes. */
#define MONITOR_RCVBUF		(1024 * 1024)

struct cli_nl {
	struct nl_sock *sk;
	int family;
	char extack[256];
};

/* What a request's callbacks share. */
struct request {
	struct cli_nl *nl;
	uint8_t cmd;		/* of the messages @fn is for */
	cli_sock_fn fn;
	void *arg;
	bool done;
	int err;
};

/* libnl's own errors (local ones: the kernel's come as errnos). */
static int nle_errno(int nle)
{
	switch (nle < 0 ? -nle : nle) {
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_PERM:
		return -EPERM;
	case NLE_AGAIN:
		return -EAGAIN;
	case NLE_OBJ_NOTFOUND:
		return -ENOENT;
	case NLE_MSG_TRUNC:
		return -EMSGSIZE;
	case NLE_INVAL:
	case NLE_RANGE:
	case NLE_SEQ_MISMATCH:
	case NLE_MSG_OVERFLOW:
	case NLE_MSG_TOOSHORT:
	case NLE_PARSE_ERR:
		return -EPROTO;
	default:
		return -EIO;
	}
}

int cli_nl_open(struct cli_nl **nlp)
{
	struct cli_nl *nl;
	int one = 1, ret;

	*nlp = NULL;
	nl = calloc(1, sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	ret = -ENOMEM;
	nl->sk = nl_socket_alloc();
	if (!nl->sk)
		goto out_free;
	ret = genl_connect(nl->sk);
	if (ret < 0) {
		ret = nle_errno(ret);
		goto out_free;
	}
	/* replies of any size: libnl peeks at each datagram's length */
	nl_socket_enable_msg_peek(nl->sk);
	/* error messages, and no copy of the request in each error */
	if (setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_EXT_ACK,
		       &one, sizeof(one)) ||
	    setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_CAP_ACK,
		       &one, sizeof(one))) {
		ret = -errno;
		goto out_free;
	}
	nl->family = genl_ctrl_resolve(nl->sk, KTLS_ATTEST_FAMILY_NAME);
	if (nl->family < 0) {
		ret = nle_errno(nl->family);
		goto out_free;
	}
	*nlp = nl;
	return 0;

out_free:
	cli_nl_close(nl);
	return ret;
}

void cli_nl_close(struct cli_nl *nl)
{
	if (!nl)
		return;
	nl_socket_free(nl->sk);
	free(nl);
}

const char *cli_nl_extack(const struct cli_nl *nl)
{
	return nl->extack;
}

int cli_nl_fd(const struct cli_nl *nl)
{
	return nl_socket_get_fd(nl->sk);
}

/* The extack message in the attributes after @offset bytes of payload. */
static void take_extack(struct cli_nl *nl, struct nlmsghdr *nlh,
			size_t offset)
{
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	int len;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	len = (int)nlh->nlmsg_len - NLMSG_HDRLEN - (int)NLMSG_ALIGN(offset);
	if (len <= 0)
		return;
	if (nla_parse(tb, NLMSGERR_ATTR_MAX,
		      (struct nlattr *)((char *)nlmsg_data(nlh) +
					NLMSG_ALIGN(offset)), len, NULL) < 0 ||
	    !tb[NLMSGERR_ATTR_MSG])
		return;
	snprintf(nl->extack, sizeof(nl->extack), "%.*s",
		 (int)strnlen(nla_data(tb[NLMSGERR_ATTR_MSG]),
			      nla_len(tb[NLMSGERR_ATTR_MSG])),
		 (char *)nla_data(tb[NLMSGERR_ATTR_MSG]));
}

static int on_error(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg)
{
	/* libnl hands over the payload: the header is just before it */
	struct nlmsghdr *nlh = (struct nlmsghdr *)((char *)e - NLMSG_HDRLEN);
	struct request *req = arg;
	size_t offset = sizeof(*e);

	(void)who;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		offset += e->msg.nlmsg_len - NLMSG_HDRLEN;
	take_extack(req->nl, nlh, offset);
	req->err = e->error;
	req->done = true;
	return NL_STOP;
}

static int on_ack(struct nl_msg *msg, void *arg)
{
	struct request *req = arg;

	(void)msg;
	req->done = true;
	return NL_STOP;
}

/* The end of a dump: its payload is the dump's error, then extack. */
static int on_finish(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct request *req = arg;
	int err = 0;

	if (nlmsg_datalen(nlh) >= (int)sizeof(err))
		memcpy(&err, nlmsg_data(nlh), sizeof(err));
	if (err < 0) {
		take_extack(req->nl, nlh, sizeof(err));
		req->err = err;
	}
	req->done = true;
	return NL_STOP;
}

static int on_valid(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[KTLS_ATTEST_A_SOCK_MAX + 1];
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct request *req = arg;
	struct cli_sock s;
	int ret;

	if (nlh->nlmsg_type != req->nl->family ||
	    !genlmsg_valid_hdr(nlh, 0) ||
	    genlmsg_hdr(nlh)->cmd != req->cmd || !req->fn)
		return NL_SKIP;
	if (genlmsg_parse(nlh, 0, tb, KTLS_ATTEST_A_SOCK_MAX,
			  ktls_attest_sock_policy) < 0 ||
	    cli_sock_from_attrs(&s, tb)) {
		req->err = -EPROTO;
		req->done = true;
		return NL_STOP;
	}
	ret = req->fn(&s, req->arg);
	if (ret) {
		req->err = ret;
		req->done = true;
		return NL_STOP;
	}
	return NL_OK;
}

static struct nl_cb *request_cb(struct request *req)
{
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);

	if (!cb)
		return NULL;
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, req);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_ack, req);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, on_finish, req);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, req);
	return cb;
}

/* Sends @msg (freed here) and reads its answer: its ack, error or dump. */
static int request(struct cli_nl *nl, struct nl_msg *msg, cli_sock_fn fn,
		   void *arg)
{
	struct request req = {
		.nl = nl,
		.cmd = KTLS_ATTEST_CMD_SOCK_GET,
		.fn = fn,
		.arg = arg,
	};
	struct nl_cb *cb = request_cb(&req);
	int ret;

	nl->extack[0] = '\0';
	if (!cb) {
		ret = -ENOMEM;
		goto out_free_msg;
	}
	ret = nl_send_auto(nl->sk, msg);
	if (ret < 0) {
		ret = nle_errno(ret);
		goto out_put_cb;
	}
	while (!req.done) {
		ret = nl_recvmsgs(nl->sk, cb);
		if (ret < 0 && !req.done) {
			ret = nle_errno(ret);
			goto out_put_cb;
		}
	}
	ret = req.err;

out_put_cb:
	nl_cb_put(cb);
out_free_msg:
	nlmsg_free(msg);
	return ret;
}

static struct nl_msg *new_request(struct cli_nl *nl, uint8_t cmd, int flags)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0, flags,
			 cmd, KTLS_ATTEST_FAMILY_VERSION)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

static int copy_one(const struct cli_sock *s, void *arg)
{
	*(struct cli_sock *)arg = *s;
	return 0;
}

int cli_nl_get(struct cli_nl *nl, uint64_t cookie, struct cli_sock *out)
{
	struct nl_msg *msg = new_request(nl, KTLS_ATTEST_CMD_SOCK_GET, 0);
	int ret;

	if (!msg)
		return -ENOMEM;
	if (nla_put_u64(msg, KTLS_ATTEST_A_SOCK_COOKIE, cookie) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	memset(out, 0, sizeof(*out));
	ret = request(nl, msg, copy_one, out);
	if (!ret && !CLI_SOCK_HAS(out, KTLS_ATTEST_A_SOCK_COOKIE))
		return -EPROTO;	/* acked without a reply */
	return ret;
}

int cli_nl_dump(struct cli_nl *nl, cli_sock_fn fn, void *arg)
{
	struct nl_msg *msg = new_request(nl, KTLS_ATTEST_CMD_SOCK_GET,
					 NLM_F_DUMP);

	if (!msg)
		return -ENOMEM;
	return request(nl, msg, fn, arg);
}

int cli_nl_verdict(struct cli_nl *nl, uint64_t cookie, uint32_t round,
		   uint32_t verdict, const char *text)
{
	struct nl_msg *msg = new_request(nl, KTLS_ATTEST_CMD_SOCK_VERDICT, 0);

	if (!msg)
		return -ENOMEM;
	if (nla_put_u64(msg, KTLS_ATTEST_A_SOCK_COOKIE, cookie) < 0 ||
	    nla_put_u32(msg, KTLS_ATTEST_A_SOCK_VERDICT, verdict) < 0 ||
	    (round && nla_put_u32(msg, KTLS_ATTEST_A_SOCK_ROUND, round) < 0) ||
	    (text && nla_put_string(msg, KTLS_ATTEST_A_SOCK_REASON_TEXT,
				    text) < 0)) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	return request(nl, msg, NULL, NULL);
}

int cli_nl_reattest(struct cli_nl *nl, uint64_t cookie)
{
	struct nl_msg *msg = new_request(nl, KTLS_ATTEST_CMD_SOCK_REATTEST, 0);

	if (!msg)
		return -ENOMEM;
	if (nla_put_u64(msg, KTLS_ATTEST_A_SOCK_COOKIE, cookie) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	return request(nl, msg, NULL, NULL);
}

/* --- the monitor group ---------------------------------------------------- */

int cli_nl_monitor_join(struct cli_nl *nl)
{
	int grp, ret, bytes = MONITOR_RCVBUF;

	grp = genl_ctrl_resolve_grp(nl->sk, KTLS_ATTEST_FAMILY_NAME,
				    KTLS_ATTEST_MCGRP_MONITOR);
	if (grp < 0)
		return nle_errno(grp);
	/* events come unasked: never wait (cli_nl_monitor_read polls) */
	ret = nl_socket_set_nonblocking(nl->sk);
	if (ret < 0)
		return nle_errno(ret);
	if (setsockopt(cli_nl_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &bytes,
		       sizeof(bytes)) &&
	    setsockopt(cli_nl_fd(nl), SOL_SOCKET, SO_RCVBUF, &bytes,
		       sizeof(bytes)))
		return -errno;
	ret = nl_socket_add_membership(nl->sk, grp);
	return ret < 0 ? nle_errno(ret) : 0;
}

static int any_seq(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_OK;
}

int cli_nl_monitor_read(struct cli_nl *nl, cli_sock_fn fn, void *arg)
{
	struct request req = {
		.nl = nl,
		.cmd = KTLS_ATTEST_CMD_STATE_CHANGE,
		.fn = fn,
		.arg = arg,
	};
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
	int ret;

	if (!cb)
		return -ENOMEM;
	/* events come unasked: no sequence numbers to check */
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, any_seq, NULL);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, &req);
	for (;;) {
		ret = nl_recvmsgs(nl->sk, cb);
		if (req.err) {
			ret = req.err;
			break;
		}
		if (ret == -NLE_AGAIN) {
			ret = 0;
			break;
		}
		if (ret < 0) {
			/* libnl reports the overrun's ENOBUFS as NLE_NOMEM */
			ret = ret == -NLE_NOMEM ? -ENOBUFS : nle_errno(ret);
			break;
		}
	}
	nl_cb_put(cb);
	return ret;
}
