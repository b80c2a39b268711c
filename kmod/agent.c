// SPDX-License-Identifier: GPL-2.0
/*
 * ktls-attest: network namespaces, the agent's registration, and what
 * the kernel tells the agent and the monitor group.
 *
 * Owns struct katt_net (per namespace: its armed sockets, its registered
 * agent), the flow-controlled unicast of events to the agent (round-start
 * with the binding, msg-recv), the announcements of rounds the agent was
 * not told of yet, the monitor group's state changes, and the end of a
 * registration when the agent's netlink socket goes.  Calls gate.c (the
 * status of a socket) and sock.c (references); the op handlers of
 * netlink.c call it.
 *
 * Threading: any context but hardirq (notifications come from the
 * deadline timer too), so nothing here sleeps (GFP_ATOMIC, unicast
 * without waiting) except katt_agent_deliver() (process context).  Lock
 * order: katt_net.lock, then katt_net.agent_lock, then katt_sock.lock.  A
 * socket is on its namespace's list until its destructor, so its memory is
 * valid under katt_net.lock even if it is being freed: whoever acts on it
 * beyond reading takes a reference first (katt_net_get()).
 *
 * Secrets: events for the agent (round-start with the binding, msg-recv)
 * go only to the registered agent of the socket's own namespace, by
 * unicast; the monitor multicast group gets state changes only.
 */

#include <linux/net.h>
#include <linux/netlink.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <net/genetlink.h>
#include <net/ipv6.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "ktls_attest.h"
#include "netlink_gen.h"

static unsigned int katt_net_id __read_mostly;

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

/**
 * katt_net_get - find an armed socket of the namespace by cookie
 * @kn: the namespace
 * @cookie: its SO_COOKIE
 *
 * Return: the state, its socket referenced (katt_sock_put() when done), or
 * NULL if there is none or it is being freed.
 */
struct katt_sock *katt_net_get(struct katt_net *kn, u64 cookie)
{
	struct katt_sock *ks;

	spin_lock_bh(&kn->lock);
	list_for_each_entry(ks, &kn->socks, net_node)
		if (ks->cookie == cookie)
			goto found;
	ks = NULL;
found:
	if (ks && !katt_sock_tryget(ks))
		ks = NULL;
	spin_unlock_bh(&kn->lock);
	return ks;
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

/* Everything sock-get reports.  Under kn->lock or with the socket held. */
int katt_fill_sock(struct sk_buff *skb, struct katt_sock *ks)
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

/*
 * The registered agent's socket is still the agent: events go out by port
 * id, and a closing netlink socket frees its port id (netlink_remove())
 * before the NETLINK_URELEASE notifier ends the registration, so another
 * process could bind the port meanwhile.  sock_orphan() marks the socket
 * dead right after netlink_remove(), in the same netlink_release(): only
 * a send that comes between those two calls, to a port rebound in that
 * instant, can still reach another socket.  Under kn->agent_lock.
 */
static bool katt_agent_alive_locked(struct katt_net *kn)
{
	lockdep_assert_held(&kn->agent_lock);
	return kn->agent_sk && !sock_flag(kn->agent_sk, SOCK_DEAD);
}

/* Tell the agent of @ks's current round.  Under kn->agent_lock. */
static int katt_announce_locked(struct katt_net *kn, struct katt_sock *ks)
{
	struct sk_buff *skb;
	u32 round;
	int err;

	lockdep_assert_held(&kn->agent_lock);
	if (!katt_agent_alive_locked(kn))
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
	if (!katt_agent_alive_locked(kn)) {
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
 * Announce every round under way that the agent has not been told of.
 * (Sockets with received messages offer them again by themselves.)  The
 * sockets are only read, under kn->lock: no reference is needed.
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

/**
 * katt_agent_register - a netlink socket becomes the namespace's agent
 * @kn: the namespace
 * @nlsk: the caller's netlink socket
 * @portid: its port id
 * @extack: for the error message
 *
 * A registration whose socket is closing (its notifier not run yet) is
 * taken over.
 *
 * Return: 0, or -EBUSY if the namespace has an agent.
 */
int katt_agent_register(struct katt_net *kn, struct sock *nlsk, u32 portid,
			struct netlink_ext_ack *extack)
{
	struct sock *old = NULL;
	struct katt_sock *ks;

	spin_lock_bh(&kn->lock);
	spin_lock(&kn->agent_lock);
	if (kn->agent_sk && !katt_agent_alive_locked(kn))
		old = katt_agent_clear_locked(kn);
	if (kn->agent_sk) {
		spin_unlock(&kn->agent_lock);
		spin_unlock_bh(&kn->lock);
		NL_SET_ERR_MSG(extack,
			       "an agent is already registered in this network namespace");
		return -EBUSY;
	}
	sock_hold(nlsk);
	kn->agent_sk = nlsk;
	WRITE_ONCE(kn->agent_portid, portid);
	/* the new agent has been told of nothing */
	list_for_each_entry(ks, &kn->socks, net_node)
		ks->told_round = 0;
	spin_unlock(&kn->agent_lock);
	spin_unlock_bh(&kn->lock);

	if (old)
		sock_put(old);
	mod_delayed_work(katt_wq, &kn->announce_work, 0);
	return 0;
}

/**
 * katt_agent_unregister - the agent leaves
 * @kn: the namespace
 * @nlsk: the caller's netlink socket
 * @extack: for the error message
 *
 * Return: 0, or -ENOENT if the caller is not the registered agent.
 */
int katt_agent_unregister(struct katt_net *kn, struct sock *nlsk,
			  struct netlink_ext_ack *extack)
{
	struct sock *old = NULL;

	spin_lock_bh(&kn->agent_lock);
	if (nlsk && kn->agent_sk == nlsk)
		old = katt_agent_clear_locked(kn);
	spin_unlock_bh(&kn->agent_lock);

	if (!old) {
		NL_SET_ERR_MSG(extack, "the caller is not the registered agent");
		return -ENOENT;
	}
	sock_put(old);
	return 0;
}

/*
 * The caller is the registered agent: its request came from the agent's
 * own netlink socket (NETLINK_CB(skb).sk), not merely from its port id,
 * which another process can bind once the agent's socket is closing.
 * The registration holds a reference: the socket's memory cannot be a
 * new socket meanwhile.
 */
bool katt_agent_is(struct katt_net *kn, struct sock *nlsk)
{
	bool ret;

	spin_lock_bh(&kn->agent_lock);
	ret = nlsk && kn->agent_sk == nlsk && katt_agent_alive_locked(kn);
	spin_unlock_bh(&kn->agent_lock);
	return ret;
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

int __init katt_agent_init(void)
{
	int err;

	err = register_pernet_subsys(&katt_net_ops);
	if (err)
		return err;
	err = netlink_register_notifier(&katt_netlink_notifier);
	if (err)
		goto out_unregister_pernet;
	return 0;

out_unregister_pernet:
	unregister_pernet_subsys(&katt_net_ops);
	return err;
}

void katt_agent_exit(void)
{
	netlink_unregister_notifier(&katt_netlink_notifier);
	unregister_pernet_subsys(&katt_net_ops);
}
