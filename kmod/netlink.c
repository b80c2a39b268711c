// SPDX-License-Identifier: GPL-2.0
/*
 * ktls-attest: the generic netlink family, per-namespace state, the agent
 * registration, and the notifications.
 *
 * Threading: handlers run in process context in parallel
 * (parallel_ops); they find sockets on their namespace's list under
 * katt_net.lock and act on them with that lock held, so a socket cannot be
 * freed under them: katt_sock_free() takes the socket off the list first.
 * Lock order: katt_net.lock, then katt_net.agent_lock, then katt_sock.lock.
 * Notifications may be sent from the deadline timer (softirq), so they
 * never sleep (GFP_ATOMIC, unicast without waiting).  Work that needs
 * process context or has to wait for the agent to read (reset on revoke,
 * announcing rounds) goes to the module's workqueue.
 *
 * Secrets: events for the agent (round-start with the binding, msg-recv)
 * go only to the registered agent of the socket's own namespace, by
 * unicast; the monitor multicast group gets state changes only.
 */

#include <linux/file.h>
#include <linux/net.h>
#include <linux/netlink.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <net/genetlink.h>
#include <net/ipv6.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/tls.h>

#include "ktls_attest.h"
#include "netlink_gen.h"

static unsigned int katt_net_id __read_mostly;
static struct genl_family katt_genl_family;

struct katt_net *katt_net(const struct net *net)
{
	return net_generic(net, katt_net_id);
}

void katt_net_add(struct katt_sock *ks)
{
	struct katt_net *kn = katt_net(sock_net(ks->sk));

	ks->net = kn;
	spin_lock_bh(&kn->lock);
	list_add_tail(&ks->net_node, &kn->socks);
	spin_unlock_bh(&kn->lock);
}

void katt_net_del(struct katt_sock *ks)
{
	struct katt_net *kn = ks->net;

	if (!kn)
		return;
	spin_lock_bh(&kn->lock);
	list_del_init(&ks->net_node);
	spin_unlock_bh(&kn->lock);
}

/* Under kn->lock. */
static struct katt_sock *katt_lookup_locked(struct katt_net *kn, u64 cookie)
{
	struct katt_sock *ks;

	lockdep_assert_held(&kn->lock);
	list_for_each_entry(ks, &kn->socks, net_node)
		if (ks->cookie == cookie)
			return ks;
	return NULL;
}

/* --- messages ----------------------------------------------------------- */

static int katt_put_addrs(struct sk_buff *skb, struct sock *sk)
{
	const struct inet_sock *inet = inet_sk(sk);

	if (nla_put_u16(skb, KTLS_ATTEST_A_SOCK_FAMILY, sk->sk_family) ||
	    nla_put_be16(skb, KTLS_ATTEST_A_SOCK_SPORT, inet->inet_sport) ||
	    nla_put_be16(skb, KTLS_ATTEST_A_SOCK_DPORT, inet->inet_dport))
		return -EMSGSIZE;
#if IS_ENABLED(CONFIG_IPV6)
	if (sk->sk_family == AF_INET6)
		return nla_put_in6_addr(skb, KTLS_ATTEST_A_SOCK_SADDR,
					&sk->sk_v6_rcv_saddr) ||
		       nla_put_in6_addr(skb, KTLS_ATTEST_A_SOCK_DADDR,
					&sk->sk_v6_daddr) ? -EMSGSIZE : 0;
#endif
	return nla_put_in_addr(skb, KTLS_ATTEST_A_SOCK_SADDR,
			       inet->inet_rcv_saddr) ||
	       nla_put_in_addr(skb, KTLS_ATTEST_A_SOCK_DADDR,
			       inet->inet_daddr) ? -EMSGSIZE : 0;
}

/* Everything sock-get reports.  Under kn->lock or with ks otherwise held. */
static int katt_fill_sock(struct sk_buff *skb, struct katt_sock *ks)
{
	struct ktls_attest_status st;
	u32 timeout_ms, flags;

	katt_gate_fill_status(ks, &st);
	spin_lock_bh(&ks->lock);
	timeout_ms = ks->timeout_ms;
	flags = ks->policy_flags;
	spin_unlock_bh(&ks->lock);

	if (nla_put_u64_64bit(skb, KTLS_ATTEST_A_SOCK_COOKIE, ks->cookie,
			      KTLS_ATTEST_A_SOCK_PAD) ||
	    nla_put_u32(skb, KTLS_ATTEST_A_SOCK_ROLE, st.role) ||
	    nla_put_u32(skb, KTLS_ATTEST_A_SOCK_STATE, st.state) ||
	    nla_put_u32(skb, KTLS_ATTEST_A_SOCK_REASON, st.reason) ||
	    nla_put_string(skb, KTLS_ATTEST_A_SOCK_REASON_TEXT, st.reason_text) ||
	    nla_put_u32(skb, KTLS_ATTEST_A_SOCK_TIMEOUT_MS, timeout_ms) ||
	    nla_put_u32(skb, KTLS_ATTEST_A_SOCK_POLICY_FLAGS, flags) ||
	    nla_put_u32(skb, KTLS_ATTEST_A_SOCK_ROUND, st.round) ||
	    katt_put_addrs(skb, ks->sk) ||
	    nla_put_u64_64bit(skb, KTLS_ATTEST_A_SOCK_ARMED_TIME,
			      ks->armed_time, KTLS_ATTEST_A_SOCK_PAD) ||
	    nla_put_u64_64bit(skb, KTLS_ATTEST_A_SOCK_PASS_TIME,
			      st.pass_time_ns, KTLS_ATTEST_A_SOCK_PAD) ||
	    nla_put_u64_64bit(skb, KTLS_ATTEST_A_SOCK_TX_BYTES,
			      atomic64_read(&ks->tx_bytes),
			      KTLS_ATTEST_A_SOCK_PAD) ||
	    nla_put_u64_64bit(skb, KTLS_ATTEST_A_SOCK_RX_BYTES,
			      atomic64_read(&ks->rx_bytes),
			      KTLS_ATTEST_A_SOCK_PAD) ||
	    nla_put_u64_64bit(skb, KTLS_ATTEST_A_SOCK_TX_HELD,
			      atomic64_read(&ks->tx_held),
			      KTLS_ATTEST_A_SOCK_PAD) ||
	    nla_put_u64_64bit(skb, KTLS_ATTEST_A_SOCK_RX_HELD,
			      atomic64_read(&ks->rx_held),
			      KTLS_ATTEST_A_SOCK_PAD))
		return -EMSGSIZE;
	return 0;
}

/* Sizes of the events: they are small, and many may be queued at once. */
static size_t katt_addrs_size(void)
{
	return nla_total_size(sizeof(u16)) +		/* family */
	       2 * nla_total_size(sizeof(__be16)) +	/* ports */
	       2 * nla_total_size(sizeof(struct in6_addr));
}

static size_t katt_state_msg_size(void)
{
	return nla_total_size_64bit(sizeof(u64)) +	/* cookie */
	       3 * nla_total_size(sizeof(u32));		/* state, reason, round */
}

static size_t katt_round_msg_size(void)
{
	return nla_total_size_64bit(sizeof(u64)) +	/* cookie */
	       6 * nla_total_size(sizeof(u32)) +	/* round .. binding */
	       katt_addrs_size() +
	       3 * nla_total_size(KTLS_ATTEST_EXPORTER_LEN);	/* binding */
}

static int katt_put_binding(struct sk_buff *skb,
			    const struct ktls_attest_binding *b)
{
	if (nla_put_u32(skb, KTLS_ATTEST_A_SOCK_BINDING_FLAGS, b->flags) ||
	    nla_put(skb, KTLS_ATTEST_A_SOCK_BINDING_EXPORTER,
		    sizeof(b->exporter), b->exporter))
		return -EMSGSIZE;
	if ((b->flags & KTLS_ATTEST_BINDING_LOCAL_KEY) &&
	    nla_put(skb, KTLS_ATTEST_A_SOCK_BINDING_LOCAL_KEY,
		    sizeof(b->local_key_sha256), b->local_key_sha256))
		return -EMSGSIZE;
	if ((b->flags & KTLS_ATTEST_BINDING_PEER_KEY) &&
	    nla_put(skb, KTLS_ATTEST_A_SOCK_BINDING_PEER_KEY,
		    sizeof(b->peer_key_sha256), b->peer_key_sha256))
		return -EMSGSIZE;
	return 0;
}

/**
 * katt_notify_state - tell the monitor group of a socket's state change
 * @ks: the socket's state
 *
 * Any context.  A listener that does not keep up loses events (ENOBUFS)
 * and reads the states with sock-get.
 */
void katt_notify_state(struct katt_sock *ks)
{
	struct net *net = sock_net(ks->sk);
	struct ktls_attest_status st;
	struct sk_buff *skb;
	void *hdr;

	if (!genl_has_listeners(&katt_genl_family, net,
				KTLS_ATTEST_NLGRP_MONITOR))
		return;

	katt_gate_fill_status(ks, &st);
	skb = genlmsg_new(katt_state_msg_size(), GFP_ATOMIC);
	if (!skb)
		return;
	hdr = genlmsg_put(skb, 0, 0, &katt_genl_family, 0,
			  KTLS_ATTEST_CMD_STATE_CHANGE);
	if (!hdr ||
	    nla_put_u64_64bit(skb, KTLS_ATTEST_A_SOCK_COOKIE, ks->cookie,
			      KTLS_ATTEST_A_SOCK_PAD) ||
	    nla_put_u32(skb, KTLS_ATTEST_A_SOCK_STATE, st.state) ||
	    nla_put_u32(skb, KTLS_ATTEST_A_SOCK_REASON, st.reason) ||
	    nla_put_u32(skb, KTLS_ATTEST_A_SOCK_ROUND, st.round)) {
		nlmsg_free(skb);
		return;
	}
	genlmsg_end(skb, hdr);
	genlmsg_multicast_netns(&katt_genl_family, net, skb, 0,
				KTLS_ATTEST_NLGRP_MONITOR, GFP_ATOMIC);
}

static struct sk_buff *katt_round_msg(struct katt_sock *ks, u32 *round)
{
	struct ktls_attest_binding binding;
	struct ktls_attest_status st;
	struct sk_buff *skb = NULL;
	u32 timeout_ms, flags;
	void *hdr;

	katt_gate_fill_status(ks, &st);
	spin_lock_bh(&ks->lock);
	timeout_ms = ks->timeout_ms;
	flags = ks->policy_flags;
	binding = ks->binding;
	spin_unlock_bh(&ks->lock);

	skb = genlmsg_new(katt_round_msg_size(), GFP_ATOMIC);
	if (!skb)
		goto out_wipe;
	hdr = genlmsg_put(skb, 0, 0, &katt_genl_family, 0,
			  KTLS_ATTEST_CMD_ROUND_START);
	if (!hdr ||
	    nla_put_u64_64bit(skb, KTLS_ATTEST_A_SOCK_COOKIE, ks->cookie,
			      KTLS_ATTEST_A_SOCK_PAD) ||
	    nla_put_u32(skb, KTLS_ATTEST_A_SOCK_ROUND, st.round) ||
	    nla_put_u32(skb, KTLS_ATTEST_A_SOCK_ROLE, st.role) ||
	    nla_put_u32(skb, KTLS_ATTEST_A_SOCK_STATE, st.state) ||
	    nla_put_u32(skb, KTLS_ATTEST_A_SOCK_TIMEOUT_MS, timeout_ms) ||
	    nla_put_u32(skb, KTLS_ATTEST_A_SOCK_POLICY_FLAGS, flags) ||
	    katt_put_addrs(skb, ks->sk) ||
	    katt_put_binding(skb, &binding)) {
		nlmsg_free(skb);
		skb = NULL;
		goto out_wipe;
	}
	genlmsg_end(skb, hdr);
	*round = st.round;
out_wipe:
	memzero_explicit(&binding, sizeof(binding));
	return skb;
}

/*
 * Events for the agent are flow controlled: one is sent only while the
 * agent's receive buffer has room for it and for the answers to the
 * agent's own requests, so the kernel never overruns the agent (which
 * would lose events and could lose the answer to its registration).
 * Rounds not announced for want of room are announced by
 * katt_announce_work() once the agent has read.
 */
#define KATT_AGENT_HEADROOM	(16 * 1024)
#define KATT_ANNOUNCE_RETRY_MS	10

static bool katt_agent_has_room(struct sock *agent)
{
	return atomic_read(&agent->sk_rmem_alloc) + KATT_AGENT_HEADROOM <=
	       READ_ONCE(agent->sk_rcvbuf);
}

/*
 * Room for an event of @truesize too.  A message larger than the agent's
 * whole receive buffer goes once the agent has read everything else
 * (netlink takes it then), so it is late rather than never delivered.
 */
static bool katt_agent_has_room_for(struct sock *agent, unsigned int truesize)
{
	int rmem = atomic_read(&agent->sk_rmem_alloc);

	return !rmem || rmem + truesize + KATT_AGENT_HEADROOM <=
			READ_ONCE(agent->sk_rcvbuf);
}

/* Tell the agent of @ks's current round.  Under kn->agent_lock. */
static int katt_announce_locked(struct katt_net *kn, struct katt_sock *ks)
{
	struct sk_buff *skb;
	u32 round;
	int err;

	lockdep_assert_held(&kn->agent_lock);
	if (!kn->agent_sk)
		return -ENOTCONN;
	/* told once both keys and the binding are in (katt_round_ready()) */
	if (!katt_round_ready(ks))
		return 0;
	if (!katt_agent_has_room(kn->agent_sk))
		return -EAGAIN;
	skb = katt_round_msg(ks, &round);
	if (!skb)
		return -ENOMEM;
	err = genlmsg_unicast(kn->net, skb, kn->agent_portid);
	if (!err)
		ks->told_round = round;
	return err;
}

static bool katt_announce_retry(int err)
{
	return err == -EAGAIN || err == -ENOMEM;
}

/**
 * katt_notify_round - tell the registered agent that a round started
 * @ks: the socket's state
 *
 * Any context.  Without an agent the round waits for one until its
 * deadline; an agent that registers is told of every waiting socket.
 */
void katt_notify_round(struct katt_sock *ks)
{
	struct katt_net *kn = ks->net;
	int err;

	spin_lock_bh(&kn->agent_lock);
	err = katt_announce_locked(kn, ks);
	spin_unlock_bh(&kn->agent_lock);

	if (katt_announce_retry(err))
		mod_delayed_work(katt_wq, &kn->announce_work,
				 msecs_to_jiffies(KATT_ANNOUNCE_RETRY_MS));
}

/* Received messages: pieces of at most this much per attribute. */
#define KATT_MSG_PIECE	32768

static struct sk_buff *katt_msg_recv_skb(struct katt_sock *ks,
					 const struct katt_msg *m)
{
	size_t size = nla_total_size_64bit(sizeof(u64)) +
		      2 * nla_total_size(sizeof(u32)) +
		      m->len / KATT_MSG_PIECE * nla_total_size(KATT_MSG_PIECE);
	struct sk_buff *skb;
	u32 off, piece;
	void *hdr;

	if (m->len % KATT_MSG_PIECE)
		size += nla_total_size(m->len % KATT_MSG_PIECE);

	skb = genlmsg_new(size, GFP_KERNEL);
	if (!skb)
		return NULL;
	hdr = genlmsg_put(skb, 0, 0, &katt_genl_family, 0,
			  KTLS_ATTEST_CMD_MSG_RECV);
	if (!hdr ||
	    nla_put_u64_64bit(skb, KTLS_ATTEST_A_SOCK_COOKIE, ks->cookie,
			      KTLS_ATTEST_A_SOCK_PAD) ||
	    nla_put_u32(skb, KTLS_ATTEST_A_SOCK_ROUND, m->round) ||
	    nla_put_u32(skb, KTLS_ATTEST_A_SOCK_MSG_LEN, m->len))
		goto out_free;
	for (off = 0; off < m->len; off += piece) {
		piece = min_t(u32, m->len - off, KATT_MSG_PIECE);
		if (nla_put(skb, KTLS_ATTEST_A_SOCK_MSG_DATA, piece,
			    m->data + off))
			goto out_free;
	}
	genlmsg_end(skb, hdr);
	return skb;

out_free:
	nlmsg_free(skb);
	return NULL;
}

/**
 * katt_agent_deliver - hand a received attestation message to the agent
 * @ks: the socket's state
 * @m: the message
 *
 * Process context.  Only after the agent was told of the message's round,
 * and flow controlled like the announcements.
 *
 * Return: 0 when sent; -EAGAIN to try again shortly (no room, no memory,
 * round not told yet); -ENOTCONN without an agent (its registration kicks
 * the socket).
 */
int katt_agent_deliver(struct katt_sock *ks, struct katt_msg *m)
{
	struct katt_net *kn = ks->net;
	struct sk_buff *skb;
	int err;

	if (!READ_ONCE(kn->agent_portid))
		return -ENOTCONN;
	skb = katt_msg_recv_skb(ks, m);
	if (!skb)
		return -EAGAIN;

	spin_lock_bh(&kn->agent_lock);
	if (!kn->agent_sk) {
		err = -ENOTCONN;
	} else if (ks->told_round < m->round) {
		/* the round-start goes first; its announcement is under way */
		err = -EAGAIN;
	} else if (!katt_agent_has_room_for(kn->agent_sk, skb->truesize)) {
		err = -EAGAIN;
	} else {
		err = genlmsg_unicast(kn->net, skb, kn->agent_portid);
		skb = NULL;
		if (err == -ENOBUFS)
			err = -EAGAIN;
	}
	spin_unlock_bh(&kn->agent_lock);
	if (skb)
		nlmsg_free(skb);
	return err;
}

/*
 * Announce every round under way that the agent has not been told of, and
 * let sockets with received messages hand them over.
 */
static void katt_announce_work(struct work_struct *work)
{
	struct katt_net *kn = container_of(to_delayed_work(work),
					   struct katt_net, announce_work);
	struct katt_sock *ks;
	int err = 0;
	u8 state;

	spin_lock_bh(&kn->lock);
	spin_lock(&kn->agent_lock);
	list_for_each_entry(ks, &kn->socks, net_node) {
		if (kn->agent_sk && !list_empty_careful(&ks->ready))
			katt_relay_kick(ks);
		state = READ_ONCE(ks->state);
		if (!katt_state_in_round(state) ||
		    ks->told_round == READ_ONCE(ks->round))
			continue;
		err = katt_announce_locked(kn, ks);
		if (err)
			break;
	}
	spin_unlock(&kn->agent_lock);
	spin_unlock_bh(&kn->lock);

	if (katt_announce_retry(err))
		queue_delayed_work(katt_wq, &kn->announce_work,
				   msecs_to_jiffies(KATT_ANNOUNCE_RETRY_MS));
}

/* Take the agent away; its socket reference is the caller's to put. */
static struct sock *katt_agent_clear_locked(struct katt_net *kn)
{
	struct sock *old = kn->agent_sk;

	lockdep_assert_held(&kn->agent_lock);
	kn->agent_sk = NULL;
	WRITE_ONCE(kn->agent_portid, 0);
	return old;
}

struct katt_reset {
	struct work_struct work;
	struct sock *sk;
};

static void katt_reset_work(struct work_struct *work)
{
	struct katt_reset *r = container_of(work, struct katt_reset, work);

	tcp_abort(r->sk, ECONNRESET);
	sock_put(r->sk);
	kfree(r);
}

/**
 * katt_reset_async - abort a revoked socket's connection (RST)
 * @sk: the socket
 *
 * Any context.  If there is no memory for it the connection stays up, but
 * revoked: nothing moves on it any more.
 */
void katt_reset_async(struct sock *sk)
{
	struct katt_reset *r = kmalloc(sizeof(*r), GFP_ATOMIC);

	if (!r)
		return;
	sock_hold(sk);
	r->sk = sk;
	INIT_WORK(&r->work, katt_reset_work);
	queue_work(katt_wq, &r->work);
}

/* --- handlers ----------------------------------------------------------- */

int ktls_attest_nl_agent_register_doit(struct sk_buff *skb,
				       struct genl_info *info)
{
	struct katt_net *kn = katt_net(genl_info_net(info));
	struct katt_sock *ks;

	spin_lock_bh(&kn->lock);
	spin_lock(&kn->agent_lock);
	if (kn->agent_sk) {
		spin_unlock(&kn->agent_lock);
		spin_unlock_bh(&kn->lock);
		NL_SET_ERR_MSG(info->extack,
			       "an agent is already registered in this network namespace");
		return -EBUSY;
	}
	sock_hold(NETLINK_CB(skb).sk);
	kn->agent_sk = NETLINK_CB(skb).sk;
	WRITE_ONCE(kn->agent_portid, info->snd_portid);
	/* the new agent has been told of nothing */
	list_for_each_entry(ks, &kn->socks, net_node)
		ks->told_round = 0;
	spin_unlock(&kn->agent_lock);
	spin_unlock_bh(&kn->lock);

	mod_delayed_work(katt_wq, &kn->announce_work, 0);
	return 0;
}

int ktls_attest_nl_agent_unregister_doit(struct sk_buff *skb,
					 struct genl_info *info)
{
	struct katt_net *kn = katt_net(genl_info_net(info));
	struct sock *old = NULL;

	spin_lock_bh(&kn->agent_lock);
	if (kn->agent_sk && kn->agent_portid == info->snd_portid)
		old = katt_agent_clear_locked(kn);
	spin_unlock_bh(&kn->agent_lock);

	if (!old) {
		NL_SET_ERR_MSG(info->extack,
			       "the caller is not the registered agent");
		return -ENOENT;
	}
	sock_put(old);
	return 0;
}

/* The agent's netlink socket went away: it is no longer registered. */
static int katt_netlink_event(struct notifier_block *nb, unsigned long event,
			      void *ptr)
{
	struct netlink_notify *n = ptr;
	struct sock *old = NULL;
	struct katt_net *kn;

	if (event != NETLINK_URELEASE || n->protocol != NETLINK_GENERIC)
		return NOTIFY_DONE;

	kn = katt_net(n->net);
	spin_lock_bh(&kn->agent_lock);
	if (kn->agent_sk && kn->agent_portid == n->portid)
		old = katt_agent_clear_locked(kn);
	spin_unlock_bh(&kn->agent_lock);
	if (old)
		sock_put(old);
	return NOTIFY_DONE;
}

static struct notifier_block katt_netlink_notifier = {
	.notifier_call = katt_netlink_event,
};

/*
 * Arm a socket that already has kTLS.  The socket is locked and in the
 * caller's namespace.
 */
static int katt_arm_locked(struct sock *sk, struct genl_info *info,
			   struct katt_sock **ksp)
{
	struct inet_connection_sock *icsk = inet_csk(sk);
	struct nlattr **tb = info->attrs;
	struct tls_context *ctx;
	struct katt_sock *ks;
	bool tx, rx;
	int err;

	if (katt_wrap_of(sk)) {
		NL_SET_ERR_MSG(info->extack, "socket is already armed");
		return -EEXIST;
	}
	if (!icsk->icsk_ulp_ops || strcmp(icsk->icsk_ulp_ops->name, "tls") ||
	    !icsk->icsk_ulp_data) {
		NL_SET_ERR_MSG(info->extack,
			       "socket has no kTLS (set TCP_ULP \"attest\" before \"tls\" instead)");
		return -EINVAL;
	}
	if (tb[KTLS_ATTEST_A_SOCK_ROLE] && !nla_get_u32(tb[KTLS_ATTEST_A_SOCK_ROLE])) {
		NL_SET_ERR_MSG_ATTR(info->extack, tb[KTLS_ATTEST_A_SOCK_ROLE],
				    "a role needs at least one flag");
		return -EINVAL;
	}
	ctx = tls_get_ctx(sk);

	ks = katt_sock_alloc(sk, ctx->sk_proto, NULL, GFP_KERNEL);
	if (!ks)
		return -ENOMEM;
	katt_gate_init(ks, NULL);
	/* a keyed socket is held from the moment the wrappers are in */
	katt_sk_keys(sk, &tx, &rx);
	if (tx || rx)
		katt_gate_keys_coming(ks);
	if (tb[KTLS_ATTEST_A_SOCK_ROLE])
		ks->role = nla_get_u32(tb[KTLS_ATTEST_A_SOCK_ROLE]);
	if (tb[KTLS_ATTEST_A_SOCK_TIMEOUT_MS])
		ks->timeout_ms = nla_get_u32(tb[KTLS_ATTEST_A_SOCK_TIMEOUT_MS]);
	if (tb[KTLS_ATTEST_A_SOCK_POLICY_FLAGS])
		ks->policy_flags = nla_get_u32(tb[KTLS_ATTEST_A_SOCK_POLICY_FLAGS]);

	err = katt_wrap_install_locked(ks, READ_ONCE(sk->sk_prot),
				       READ_ONCE(sk->sk_socket->ops));
	if (err) {
		kfree(ks);
		return err;
	}
	/* the socket's module reference; no ULP slot of ours to hold it */
	__module_get(THIS_MODULE);
	ks->module_ref = true;
	katt_relay_attach(ks);
	katt_net_add(ks);
	*ksp = ks;
	return 0;
}

int ktls_attest_nl_sock_arm_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct net *net = genl_info_net(info);
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

	lock_sock(sock->sk);
	err = katt_arm_locked(sock->sk, info, &ks);
	release_sock(sock->sk);
	if (err)
		goto out_free_reply;

	/* a socket with a key is held from now on: its first round starts */
	katt_sk_keys(sock->sk, &tx, &rx);
	katt_gate_keys_done(ks, tx, rx);

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
	u32 agent = READ_ONCE(kn->agent_portid);

	if (agent && agent == info->snd_portid) {
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

	spin_lock_bh(&kn->lock);
	ks = katt_lookup_locked(kn, nla_get_u64(tb[KTLS_ATTEST_A_SOCK_COOKIE]));
	if (ks)
		err = katt_gate_verdict(ks, round, verdict, reason, text,
					info->extack);
	spin_unlock_bh(&kn->lock);
	return ks ? err : katt_cookie_missing(info);
}

int ktls_attest_nl_sock_reattest_doit(struct sk_buff *skb,
				      struct genl_info *info)
{
	struct katt_net *kn = katt_net(genl_info_net(info));
	struct katt_sock *ks;
	int err = 0;

	if (GENL_REQ_ATTR_CHECK(info, KTLS_ATTEST_A_SOCK_COOKIE))
		return -EINVAL;

	spin_lock_bh(&kn->lock);
	ks = katt_lookup_locked(kn,
				nla_get_u64(info->attrs[KTLS_ATTEST_A_SOCK_COOKIE]));
	if (ks)
		err = katt_gate_reattest(ks, info->extack);
	spin_unlock_bh(&kn->lock);
	return ks ? err : katt_cookie_missing(info);
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
	u32 agent;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, KTLS_ATTEST_A_SOCK_COOKIE) ||
	    GENL_REQ_ATTR_CHECK(info, KTLS_ATTEST_A_SOCK_MSG_DATA))
		return -EINVAL;
	/* only the agent the peer's messages go to speaks for this host */
	agent = READ_ONCE(kn->agent_portid);
	if (!agent || agent != info->snd_portid) {
		NL_SET_ERR_MSG(info->extack,
			       "only the registered agent may send attestation messages");
		return -EPERM;
	}

	m = katt_msg_from_request(info);
	if (IS_ERR(m))
		return PTR_ERR(m);

	spin_lock_bh(&kn->lock);
	ks = katt_lookup_locked(kn,
				nla_get_u64(info->attrs[KTLS_ATTEST_A_SOCK_COOKIE]));
	err = ks ? katt_relay_send(ks, m, info->extack) : -ENOENT;
	spin_unlock_bh(&kn->lock);
	if (err)
		kvfree_sensitive(m, struct_size(m, data, m->len));
	return ks ? err : katt_cookie_missing(info);
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

	spin_lock_bh(&kn->lock);
	ks = katt_lookup_locked(kn,
				nla_get_u64(info->attrs[KTLS_ATTEST_A_SOCK_COOKIE]));
	if (ks)
		err = katt_fill_sock(reply, ks);
	spin_unlock_bh(&kn->lock);
	if (!ks) {
		err = katt_cookie_missing(info);
		goto out_free_reply;
	}
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

static struct genl_family katt_genl_family __ro_after_init = {
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

static int __net_init katt_net_init(struct net *net)
{
	struct katt_net *kn = katt_net(net);

	kn->net = net;
	spin_lock_init(&kn->lock);
	INIT_LIST_HEAD(&kn->socks);
	spin_lock_init(&kn->agent_lock);
	INIT_DELAYED_WORK(&kn->announce_work, katt_announce_work);
	return 0;
}

/*
 * Armed sockets are an application's: each holds a reference on its
 * namespace, so none is left when the namespace goes.  An agent can be
 * (the module is being unloaded under a running agent).
 */
static void __net_exit katt_net_exit(struct net *net)
{
	struct katt_net *kn = katt_net(net);

	cancel_delayed_work_sync(&kn->announce_work);
	WARN_ON_ONCE(!list_empty(&kn->socks));
	if (kn->agent_sk)
		sock_put(kn->agent_sk);
}

static struct pernet_operations katt_net_ops = {
	.init	= katt_net_init,
	.exit	= katt_net_exit,
	.id	= &katt_net_id,
	.size	= sizeof(struct katt_net),
};

int __init katt_netlink_init(void)
{
	int err;

	err = register_pernet_subsys(&katt_net_ops);
	if (err)
		return err;
	err = netlink_register_notifier(&katt_netlink_notifier);
	if (err)
		goto out_unregister_pernet;
	err = genl_register_family(&katt_genl_family);
	if (err)
		goto out_unregister_notifier;
	return 0;

out_unregister_notifier:
	netlink_unregister_notifier(&katt_netlink_notifier);
out_unregister_pernet:
	unregister_pernet_subsys(&katt_net_ops);
	return err;
}

void katt_netlink_exit(void)
{
	genl_unregister_family(&katt_genl_family);
	netlink_unregister_notifier(&katt_netlink_notifier);
	unregister_pernet_subsys(&katt_net_ops);
}
