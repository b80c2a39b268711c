// SPDX-License-Identifier: GPL-2.0
/*
 * ktls-attest: the generic netlink family's operations.
 *
 * Owns the op handlers and the family (its policies and op table are
 * generated from Documentation/netlink/specs/ktls_attest.yaml into
 * netlink_gen.c).  Calls agent.c (registration, lookups, sock-get's
 * attributes), sock.c (arming by fd), gate.c (verdicts, re-attestation)
 * and relay.c (msg-send).
 *
 * Threading: handlers run in process context in parallel (parallel_ops).
 * A socket found by cookie is referenced (katt_net_get()) while a handler
 * acts on it, so it cannot be freed under the handler.
 */

#include <linux/file.h>
#include <linux/net.h>
#include <linux/netlink.h>
#include <linux/slab.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>

#include "ktls_attest.h"
#include "netlink_gen.h"

/* An optional u32 attribute, 0 when absent. */
static u32 katt_nla_u32(const struct nlattr *nla)
{
	return nla ? nla_get_u32(nla) : 0;
}

int ktls_attest_nl_agent_register_doit(struct sk_buff *skb,
				       struct genl_info *info)
{
	return katt_agent_register(katt_net(genl_info_net(info)),
				   NETLINK_CB(skb).sk, info->snd_portid,
				   info->extack);
}

int ktls_attest_nl_agent_unregister_doit(struct sk_buff *skb,
					 struct genl_info *info)
{
	return katt_agent_unregister(katt_net(genl_info_net(info)),
				     NETLINK_CB(skb).sk, info->extack);
}

/* Arm a socket that already has kTLS, by the caller's file descriptor. */
int ktls_attest_nl_sock_arm_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct net *net = genl_info_net(info);
	struct nlattr **tb = info->attrs;
	struct katt_sock *ks = NULL;
	struct sk_buff *reply;
	struct socket *sock;
	struct ktls_attest_status st;
	bool tx, rx;
	void *hdr;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, KTLS_ATTEST_A_SOCK_FD))
		return -EINVAL;

	sock = sockfd_lookup(nla_get_s32(info->attrs[KTLS_ATTEST_A_SOCK_FD]),
			     &err);
	if (!sock) {
		NL_SET_ERR_MSG_ATTR(info->extack,
				    info->attrs[KTLS_ATTEST_A_SOCK_FD],
				    "not a socket of the caller");
		return err;
	}
	err = -EINVAL;
	if (sock->type != SOCK_STREAM || !sock->sk ||
	    sock->sk->sk_protocol != IPPROTO_TCP ||
	    (sock->sk->sk_family != AF_INET &&
	     sock->sk->sk_family != AF_INET6)) {
		NL_SET_ERR_MSG_ATTR(info->extack,
				    info->attrs[KTLS_ATTEST_A_SOCK_FD],
				    "not a TCP socket");
		goto out_put_sock;
	}
	if (!net_eq(sock_net(sock->sk), net)) {
		NL_SET_ERR_MSG_ATTR(info->extack,
				    info->attrs[KTLS_ATTEST_A_SOCK_FD],
				    "socket is in another network namespace");
		goto out_put_sock;
	}

	reply = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	err = -ENOMEM;
	if (!reply)
		goto out_put_sock;

	if (tb[KTLS_ATTEST_A_SOCK_ROLE] && !nla_get_u32(tb[KTLS_ATTEST_A_SOCK_ROLE])) {
		NL_SET_ERR_MSG_ATTR(info->extack, tb[KTLS_ATTEST_A_SOCK_ROLE],
				    "a role needs at least one flag");
		err = -EINVAL;
		goto out_free_reply;
	}
	lock_sock(sock->sk);
	err = katt_sock_arm_keyed(sock->sk,
				  katt_nla_u32(tb[KTLS_ATTEST_A_SOCK_ROLE]),
				  katt_nla_u32(tb[KTLS_ATTEST_A_SOCK_TIMEOUT_MS]),
				  katt_nla_u32(tb[KTLS_ATTEST_A_SOCK_POLICY_FLAGS]),
				  &ks, info->extack);
	release_sock(sock->sk);
	if (err)
		goto out_free_reply;

	/* a socket with a key is held from now on: its first round starts */
	katt_sk_keys(sock->sk, &tx, &rx);
	katt_gate_keys_done(ks, tx, rx);
	/* a thread already inside tls may install a key around us */
	katt_sock_watch(ks, msecs_to_jiffies(10));

	katt_gate_fill_status(ks, &st);
	hdr = genlmsg_put_reply(reply, info, &katt_genl_family, 0,
				KTLS_ATTEST_CMD_SOCK_ARM);
	err = -EMSGSIZE;
	if (!hdr ||
	    nla_put_u64_64bit(reply, KTLS_ATTEST_A_SOCK_COOKIE, st.cookie,
			      KTLS_ATTEST_A_SOCK_PAD) ||
	    nla_put_u32(reply, KTLS_ATTEST_A_SOCK_STATE, st.state))
		goto out_free_reply;
	genlmsg_end(reply, hdr);
	sockfd_put(sock);
	return genlmsg_reply(reply, info);

out_free_reply:
	nlmsg_free(reply);
out_put_sock:
	sockfd_put(sock);
	return err;
}

/* The caller may give verdicts: the registered agent, or an administrator. */
static int katt_verdict_reason(struct sk_buff *skb, struct genl_info *info,
			       struct katt_net *kn, u8 *reason)
{
	if (katt_agent_is(kn, NETLINK_CB(skb).sk)) {
		*reason = KTLS_ATTEST_REASON_VERDICT;
		return 0;
	}
	if (netlink_ns_capable(skb, kn->net->user_ns, CAP_NET_ADMIN)) {
		*reason = KTLS_ATTEST_REASON_OPERATOR;
		return 0;
	}
	NL_SET_ERR_MSG(info->extack,
		       "only the registered agent or CAP_NET_ADMIN may give verdicts");
	return -EPERM;
}

static int katt_cookie_missing(struct genl_info *info)
{
	NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[KTLS_ATTEST_A_SOCK_COOKIE],
			    "no armed socket with this cookie in this network namespace");
	return -ENOENT;
}

int ktls_attest_nl_sock_verdict_doit(struct sk_buff *skb,
				     struct genl_info *info)
{
	struct katt_net *kn = katt_net(genl_info_net(info));
	struct nlattr **tb = info->attrs;
	const char *text = NULL;
	struct katt_sock *ks;
	u32 verdict, round = 0;
	u8 reason;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, KTLS_ATTEST_A_SOCK_COOKIE) ||
	    GENL_REQ_ATTR_CHECK(info, KTLS_ATTEST_A_SOCK_VERDICT))
		return -EINVAL;
	verdict = nla_get_u32(tb[KTLS_ATTEST_A_SOCK_VERDICT]);
	if (verdict != KTLS_ATTEST_VERDICT_REVOKE &&
	    GENL_REQ_ATTR_CHECK(info, KTLS_ATTEST_A_SOCK_ROUND))
		return -EINVAL;
	if (tb[KTLS_ATTEST_A_SOCK_ROUND])
		round = nla_get_u32(tb[KTLS_ATTEST_A_SOCK_ROUND]);
	if (tb[KTLS_ATTEST_A_SOCK_REASON_TEXT])
		text = nla_data(tb[KTLS_ATTEST_A_SOCK_REASON_TEXT]);

	err = katt_verdict_reason(skb, info, kn, &reason);
	if (err)
		return err;

	ks = katt_net_get(kn, nla_get_u64(tb[KTLS_ATTEST_A_SOCK_COOKIE]));
	if (!ks)
		return katt_cookie_missing(info);
	/* a socket passes only if nothing went around its gate meanwhile */
	if (verdict == KTLS_ATTEST_VERDICT_PASS && katt_sock_check(ks)) {
		NL_SET_ERR_MSG(info->extack,
			       "a call went around the gate: the socket failed closed");
		katt_sock_put(ks);
		return -EKEYREJECTED;
	}
	err = katt_gate_verdict(ks, round, verdict, reason, text, info->extack);
	katt_sock_put(ks);
	return err;
}

int ktls_attest_nl_sock_reattest_doit(struct sk_buff *skb,
				      struct genl_info *info)
{
	struct katt_net *kn = katt_net(genl_info_net(info));
	struct katt_sock *ks;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, KTLS_ATTEST_A_SOCK_COOKIE))
		return -EINVAL;

	ks = katt_net_get(kn, nla_get_u64(info->attrs[KTLS_ATTEST_A_SOCK_COOKIE]));
	if (!ks)
		return katt_cookie_missing(info);
	err = katt_gate_reattest(ks, info->extack);
	katt_sock_put(ks);
	return err;
}

/* The message of a msg-send request: its msg-data pieces, concatenated. */
static struct katt_msg *katt_msg_from_request(struct genl_info *info)
{
	const struct nlattr *nla;
	struct katt_msg *m;
	size_t len = 0;
	int rem;

	nlmsg_for_each_attr(nla, info->nlhdr, GENL_HDRLEN, rem)
		if (nla_type(nla) == KTLS_ATTEST_A_SOCK_MSG_DATA)
			len += nla_len(nla);
	if (len > KTLS_ATTEST_MSG_MAX) {
		NL_SET_ERR_MSG(info->extack,
			       "attestation message longer than KTLS_ATTEST_MSG_MAX bytes");
		return ERR_PTR(-EMSGSIZE);
	}

	m = kvmalloc(struct_size(m, data, len), GFP_KERNEL);
	if (!m)
		return ERR_PTR(-ENOMEM);
	m->len = len;
	m->round = 0;
	len = 0;
	nlmsg_for_each_attr(nla, info->nlhdr, GENL_HDRLEN, rem)
		if (nla_type(nla) == KTLS_ATTEST_A_SOCK_MSG_DATA) {
			memcpy(m->data + len, nla_data(nla), nla_len(nla));
			len += nla_len(nla);
		}
	return m;
}

int ktls_attest_nl_msg_send_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct katt_net *kn = katt_net(genl_info_net(info));
	struct katt_sock *ks;
	struct katt_msg *m;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, KTLS_ATTEST_A_SOCK_COOKIE) ||
	    GENL_REQ_ATTR_CHECK(info, KTLS_ATTEST_A_SOCK_MSG_DATA))
		return -EINVAL;
	/* only the agent the peer's messages go to speaks for this host */
	if (!katt_agent_is(kn, NETLINK_CB(skb).sk)) {
		NL_SET_ERR_MSG(info->extack,
			       "only the registered agent may send attestation messages");
		return -EPERM;
	}

	m = katt_msg_from_request(info);
	if (IS_ERR(m))
		return PTR_ERR(m);

	ks = katt_net_get(kn, nla_get_u64(info->attrs[KTLS_ATTEST_A_SOCK_COOKIE]));
	if (!ks) {
		kvfree_sensitive(m, struct_size(m, data, m->len));
		return katt_cookie_missing(info);
	}
	err = katt_relay_send(ks, m, info->extack);
	katt_sock_put(ks);
	if (err)
		kvfree_sensitive(m, struct_size(m, data, m->len));
	return err;
}

int ktls_attest_nl_sock_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct katt_net *kn = katt_net(genl_info_net(info));
	struct katt_sock *ks;
	struct sk_buff *reply;
	void *hdr;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, KTLS_ATTEST_A_SOCK_COOKIE))
		return -EINVAL;

	reply = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!reply)
		return -ENOMEM;
	hdr = genlmsg_put_reply(reply, info, &katt_genl_family, 0,
				KTLS_ATTEST_CMD_SOCK_GET);
	err = -EMSGSIZE;
	if (!hdr)
		goto out_free_reply;

	ks = katt_net_get(kn, nla_get_u64(info->attrs[KTLS_ATTEST_A_SOCK_COOKIE]));
	if (!ks) {
		err = katt_cookie_missing(info);
		goto out_free_reply;
	}
	err = katt_fill_sock(reply, ks);
	katt_sock_put(ks);
	if (err)
		goto out_free_reply;

	genlmsg_end(reply, hdr);
	return genlmsg_reply(reply, info);

out_free_reply:
	nlmsg_free(reply);
	return err;
}

/* cb->args[0]: how many sockets of the list earlier parts of the dump had */
int ktls_attest_nl_sock_get_dumpit(struct sk_buff *skb,
				   struct netlink_callback *cb)
{
	struct katt_net *kn = katt_net(sock_net(skb->sk));
	long skip = cb->args[0], idx = 0;
	struct katt_sock *ks;
	void *hdr;
	int err = 0;

	spin_lock_bh(&kn->lock);
	list_for_each_entry(ks, &kn->socks, net_node) {
		if (idx++ < skip)
			continue;
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &katt_genl_family,
				  NLM_F_MULTI, KTLS_ATTEST_CMD_SOCK_GET);
		if (!hdr) {
			err = -EMSGSIZE;
			break;
		}
		err = katt_fill_sock(skb, ks);
		if (err) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
	}
	spin_unlock_bh(&kn->lock);

	if (err) {
		idx--;
		/* not even one socket fits: a real error */
		if (idx == skip)
			return err;
	}
	cb->args[0] = idx;
	return skb->len;
}

/* --- family and namespaces ---------------------------------------------- */

struct genl_family katt_genl_family __ro_after_init = {
	.name		= KTLS_ATTEST_FAMILY_NAME,
	.version	= KTLS_ATTEST_FAMILY_VERSION,
	.netnsok	= true,
	.parallel_ops	= true,
	.module		= THIS_MODULE,
	.ops		= ktls_attest_nl_ops,
	.n_ops		= ARRAY_SIZE(ktls_attest_nl_ops),
	.mcgrps		= ktls_attest_nl_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(ktls_attest_nl_mcgrps),
};

int __init katt_netlink_init(void)
{
	return genl_register_family(&katt_genl_family);
}

void katt_netlink_exit(void)
{
	genl_unregister_family(&katt_genl_family);
}
