// SPDX-License-Identifier: GPL-2.0
/*
 * ktls-attest: the per-socket proto and proto_ops wrappers.
 *
 * The wrappers sit on top of whatever the socket has underneath (plain TCP,
 * or tls once it is installed) and are rebuilt each time tls replaces its
 * tables; see the object model in ktls_attest.h.  Every path that moves
 * application data or reports readiness goes through the gate:
 *
 *   proto:  sendmsg, recvmsg, sendpage (sendfile, splice into the socket),
 *           splice_eof, setsockopt, getsockopt, close
 *   ops:    poll, splice_read (splice out of the socket), sendpage_locked,
 *           splice_eof, shutdown, accept
 *
 * read_sock stays tcp_read_sock even under tls: it reads raw TCP bytes and
 * has kernel callers only.  When the gate is open, each data path costs one
 * branch on ks->open; everything else is out of line.
 */

#include <linux/module.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/sock_diag.h>
#include <linux/splice.h>
#include <net/inet_common.h>
#include <net/inet_connection_sock.h>
#include <net/tls.h>

#include "ktls_attest.h"

static int katt_setsockopt(struct sock *sk, int level, int optname,
			   sockptr_t optval, unsigned int optlen);
static int katt_getsockopt(struct sock *sk, int level, int optname,
			   char __user *optval, int __user *optlen);
static int katt_sendmsg(struct sock *sk, struct msghdr *msg, size_t size);
static int katt_recvmsg(struct sock *sk, struct msghdr *msg, size_t len,
			int flags, int *addr_len);
static int katt_sendpage(struct sock *sk, struct page *page, int offset,
			 size_t size, int flags);
static void katt_splice_eof(struct socket *sock);
static __poll_t katt_poll(struct file *file, struct socket *sock,
			  struct poll_table_struct *wait);
static ssize_t katt_splice_read(struct socket *sock, loff_t *ppos,
				struct pipe_inode_info *pipe, size_t len,
				unsigned int flags);
static int katt_sendpage_locked(struct sock *sk, struct page *page,
				int offset, size_t size, int flags);
static void katt_ops_splice_eof(struct socket *sock);
static int katt_shutdown(struct socket *sock, int how);
static int katt_accept(struct socket *sock, struct socket *newsock,
		       int flags, bool kern);

/**
 * katt_sock_alloc - allocate the state of a socket being armed
 * @sk: the socket
 * @base: its plain TCP proto
 * @base_ops: its plain stream proto_ops (NULL when armed over kTLS by fd)
 * @gfp: allocation flags (atomic when cloning in softirq)
 */
struct katt_sock *katt_sock_alloc(struct sock *sk, struct proto *base,
				  const struct proto_ops *base_ops, gfp_t gfp)
{
	struct katt_sock *ks;
	u32 cookie[2];

	ks = kzalloc(sizeof(*ks), gfp);
	if (!ks)
		return NULL;
	ks->sk = sk;
	ks->base = base;
	ks->base_ops = base_ops;
	INIT_LIST_HEAD(&ks->net_node);
	katt_relay_init(ks);
	/* generates the cookie if the socket has none yet */
	sock_diag_save_cookie(sk, cookie);
	ks->cookie = (u64)cookie[1] << 32 | cookie[0];
	return ks;
}

static void katt_sock_free_rcu(struct rcu_head *head)
{
	struct katt_sock *ks = container_of(head, struct katt_sock, rcu);
	bool module_ref = ks->module_ref;

	katt_relay_free(ks);
	memzero_explicit(&ks->binding, sizeof(ks->binding));
	kfree(ks);
	if (module_ref)
		module_put(THIS_MODULE);
}

/**
 * katt_sock_free - free a socket's state after an RCU grace period
 * @ks: the state; the socket must no longer point at any of its slots
 *
 * Takes the state off its namespace's list.  Threads that loaded
 * sk->sk_prot before it was switched away may still be dispatching through
 * one of the slots; the grace period covers them.  Any context; a deadline
 * timer must not be pending (katt_gate_teardown()).
 */
void katt_sock_free(struct katt_sock *ks)
{
	katt_net_del(ks);
	call_rcu(&ks->rcu, katt_sock_free_rcu);
}

/**
 * katt_wrap_install_locked - wrap the socket's current inner tables
 * @ks: socket state
 * @inner: the proto to wrap
 * @inner_ops: the proto_ops to wrap
 *
 * Publishes a slot that wraps @inner / @inner_ops in sk->sk_prot and, if the
 * socket has a struct socket, in sock->ops.  The caller holds lock_sock(),
 * or owns the socket exclusively (a child being cloned).
 *
 * Return: 0, or -EOVERFLOW if the socket met more distinct inner tables than
 * tls can produce (a bug: WARNs once).
 */
int katt_wrap_install_locked(struct katt_sock *ks, struct proto *inner,
			     const struct proto_ops *inner_ops)
{
	struct sock *sk = ks->sk;
	struct katt_wrap *w;
	unsigned int i;

	for (i = 0; i < ks->nwraps; i++) {
		w = &ks->wraps[i];
		if (w->inner == inner && w->inner_ops == inner_ops)
			goto publish;
	}

	if (WARN_ON_ONCE(ks->nwraps == KATT_WRAP_SLOTS))
		return -EOVERFLOW;

	w = &ks->wraps[ks->nwraps++];
	w->proto = *inner;
	w->proto.close = katt_close;
	w->proto.setsockopt = katt_setsockopt;
	w->proto.getsockopt = katt_getsockopt;
	w->proto.sendmsg = katt_sendmsg;
	w->proto.recvmsg = katt_recvmsg;
	if (inner->sendpage)
		w->proto.sendpage = katt_sendpage;
	if (inner->splice_eof)
		w->proto.splice_eof = katt_splice_eof;
	/* sockmap would replace sk_prot under us: refuse it up front */
	w->proto.psock_update_sk_prot = NULL;

	w->ops = *inner_ops;
	w->ops.poll = katt_poll;
	w->ops.shutdown = katt_shutdown;
	w->ops.accept = katt_accept;
	if (inner_ops->splice_read)
		w->ops.splice_read = katt_splice_read;
	if (inner_ops->sendpage_locked)
		w->ops.sendpage_locked = katt_sendpage_locked;
	if (inner_ops->splice_eof)
		w->ops.splice_eof = katt_ops_splice_eof;

	w->inner = inner;
	w->inner_ops = inner_ops;
	w->ks = ks;

publish:
	if (sk->sk_socket) {
		/* the slot is complete before anyone can reach it */
		smp_store_release(&sk->sk_socket->ops, &w->ops);
	}
	/* likewise */
	smp_store_release(&sk->sk_prot, &w->proto);
	return 0;
}

/* Which kTLS keys the socket has (tls holds the ULP slot). */
void katt_sk_keys(struct sock *sk, bool *tx, bool *rx)
{
	struct inet_connection_sock *icsk = inet_csk(sk);
	struct tls_context *ctx;

	*tx = false;
	*rx = false;
	if (!icsk->icsk_ulp_ops || strcmp(icsk->icsk_ulp_ops->name, "tls") ||
	    !icsk->icsk_ulp_data)
		return;
	ctx = tls_get_ctx(sk);
	*tx = ctx->tx_conf != TLS_BASE;
	*rx = ctx->rx_conf != TLS_BASE;
}

/*
 * tls has just replaced sk_prot and sock->ops (TLS_TX, TLS_RX): wrap the
 * new tables.  Should that ever fail (a bug, see KATT_WRAP_SLOTS) the socket
 * is left on tls's tables without the module on top, so it is aborted
 * rather than left running; its state is leaked, not freed, as other
 * threads may still be inside our wrappers with it.
 */
static int katt_rewrap(struct katt_sock *ks)
{
	struct sock *sk = ks->sk;
	int err = 0;

	lock_sock(sk);
	if (!katt_wrap_of(sk))
		err = katt_wrap_install_locked(ks, READ_ONCE(sk->sk_prot),
					       READ_ONCE(sk->sk_socket->ops));
	release_sock(sk);

	if (err)
		tcp_abort(sk, ECONNABORTED);
	return err;
}

static bool katt_ulp_name_is_tls(sockptr_t optval, unsigned int optlen)
{
	char name[TCP_ULP_NAME_MAX];
	long len;

	len = strncpy_from_sockptr(name, optval,
				   min_t(long, TCP_ULP_NAME_MAX - 1, optlen));
	if (len < 0)
		return false;
	name[len] = '\0';
	return !strcmp(name, "tls");
}

/* SOL_TLS TLS_TX / TLS_RX: the first key closes the gate. */
static int katt_set_key(struct katt_wrap *w, struct sock *sk, int optname,
			sockptr_t optval, unsigned int optlen)
{
	struct katt_sock *ks = w->ks;
	int err, rewrap_err;
	bool tx, rx;

	katt_gate_keys_coming(ks);
	err = w->inner->setsockopt(sk, SOL_TLS, optname, optval, optlen);
	rewrap_err = katt_rewrap(ks);
	katt_sk_keys(sk, &tx, &rx);
	katt_gate_keys_done(ks, tx, rx);
	return err ? err : rewrap_err;
}

static bool katt_tcp_bypass(int level, int optname)
{
	if (level != SOL_TCP)
		return false;
	return optname == TCP_REPAIR || optname == TCP_REPAIR_QUEUE ||
	       optname == TCP_QUEUE_SEQ || optname == TCP_REPAIR_OPTIONS ||
	       optname == TCP_REPAIR_WINDOW || optname == TCP_ZEROCOPY_RECEIVE;
}

static int katt_setsockopt(struct sock *sk, int level, int optname,
			   sockptr_t optval, unsigned int optlen)
{
	struct katt_wrap *w = katt_wrap_of(sk);
	int err;

	/* another thread of the app is switching this socket to kTLS */
	if (unlikely(!w))
		return -EBUSY;

	if (level == SOL_KTLS_ATTEST)
		return katt_sockopt_set(w->ks, optname, optval, optlen);

	if (level == SOL_TCP && optname == TCP_ULP &&
	    katt_ulp_name_is_tls(optval, optlen))
		return katt_swap_to_tls(w->ks);

	if (level == SOL_TLS && (optname == TLS_TX || optname == TLS_RX))
		return katt_set_key(w, sk, optname, optval, optlen);

	/*
	 * Its zero-copy decryption writes a TLS 1.3 record's plaintext to the
	 * application's buffer before the record's type is known: an
	 * attestation record's too.
	 */
	if (level == SOL_TLS && optname == TLS_RX_EXPECT_NO_PAD)
		return -EOPNOTSUPP;

	/* TCP repair reads and writes the raw queues around the gate */
	if (katt_tcp_bypass(level, optname) && !READ_ONCE(w->ks->open))
		return -EPERM;

	err = w->inner->setsockopt(sk, level, optname, optval, optlen);
	if (level == SOL_TLS) {
		int rewrap_err = katt_rewrap(w->ks);

		err = err ? err : rewrap_err;
	}
	return err;
}

static int katt_getsockopt(struct sock *sk, int level, int optname,
			   char __user *optval, int __user *optlen)
{
	struct katt_wrap *w = katt_wrap_of(sk);

	if (unlikely(!w))
		return -EBUSY;

	if (level == SOL_KTLS_ATTEST)
		return katt_sockopt_get(w->ks, optname, optval, optlen);

	/* zerocopy receive maps the raw TCP queue around the gate */
	if (katt_tcp_bypass(level, optname) && !READ_ONCE(w->ks->open))
		return -EPERM;

	return w->inner->getsockopt(sk, level, optname, optval, optlen);
}

/* Userspace may not send records of the attestation type. */
static int katt_check_cmsg(struct msghdr *msg)
{
	struct cmsghdr *cmsg;

	for_each_cmsghdr(cmsg, msg) {
		if (!CMSG_OK(msg, cmsg))
			return -EINVAL;
		if (cmsg->cmsg_level == SOL_TLS &&
		    cmsg->cmsg_type == TLS_SET_RECORD_TYPE &&
		    cmsg->cmsg_len >= CMSG_LEN(sizeof(unsigned char)) &&
		    *(unsigned char *)CMSG_DATA(cmsg) == KTLS_ATTEST_RECORD_TYPE)
			return -EPERM;
	}
	return 0;
}

/*
 * Wait for the gate of a send.  Returns 0 with the now current wrapper in
 * *wp (keys may have been installed while we waited), or an error.
 */
static int katt_send_wait(struct katt_sock *ks, struct sock *sk, int flags,
			  struct katt_wrap **wp)
{
	long timeo = sock_sndtimeo(sk, flags & MSG_DONTWAIT);
	int err;

	atomic64_inc(&ks->tx_held);
	err = katt_gate_wait(ks, KATT_WAIT_SEND, &timeo);
	if (err == -EPIPE)
		return sk_stream_error(sk, flags, err);
	if (err)
		return err;
	*wp = katt_wrap_of(sk);
	return *wp ? 0 : -EBUSY;
}

static noinline int katt_sendmsg_slow(struct katt_wrap *w, struct sock *sk,
				      struct msghdr *msg, size_t size)
{
	struct katt_sock *ks = w->ks;
	int ret;

	ret = katt_check_cmsg(msg);
	if (ret)
		return ret;
	if (!READ_ONCE(ks->tx_open)) {
		ret = katt_send_wait(ks, sk, msg->msg_flags, &w);
		if (ret)
			return ret;
	}
	ret = w->inner->sendmsg(sk, msg, size);
	atomic64_add(max(ret, 0), &ks->tx_bytes);
	return ret;
}

static int katt_sendmsg(struct sock *sk, struct msghdr *msg, size_t size)
{
	struct katt_wrap *w = katt_wrap_of(sk);
	int ret;

	if (unlikely(!w))
		return -EBUSY;
	/* cmsgs are checked for the attestation record type */
	if (unlikely(!READ_ONCE(w->ks->tx_open) || msg->msg_controllen))
		return katt_sendmsg_slow(w, sk, msg, size);
	ret = w->inner->sendmsg(sk, msg, size);
	atomic64_add(max(ret, 0), &w->ks->tx_bytes);
	return ret;
}

static noinline int katt_sendpage_slow(struct katt_wrap *w, struct sock *sk,
				       struct page *page, int offset,
				       size_t size, int flags)
{
	int ret;

	ret = katt_send_wait(w->ks, sk, flags, &w);
	if (ret)
		return ret;
	ret = w->inner->sendpage(sk, page, offset, size, flags);
	atomic64_add(max(ret, 0), &w->ks->tx_bytes);
	return ret;
}

static int katt_sendpage(struct sock *sk, struct page *page, int offset,
			 size_t size, int flags)
{
	struct katt_wrap *w = katt_wrap_of(sk);
	int ret;

	if (unlikely(!w))
		return -EBUSY;
	if (unlikely(!READ_ONCE(w->ks->tx_open)))
		return katt_sendpage_slow(w, sk, page, offset, size, flags);
	ret = w->inner->sendpage(sk, page, offset, size, flags);
	atomic64_add(max(ret, 0), &w->ks->tx_bytes);
	return ret;
}

/* Kernel callers under lock_sock(): they cannot wait. */
static int katt_sendpage_locked(struct sock *sk, struct page *page,
				int offset, size_t size, int flags)
{
	struct katt_wrap *w = katt_wrap_of(sk);

	if (unlikely(!w || !READ_ONCE(w->ks->tx_open)))
		return -EAGAIN;
	return w->inner_ops->sendpage_locked(sk, page, offset, size, flags);
}

/* splice_eof pushes tls's open record: nothing may go while held */
static void katt_splice_eof(struct socket *sock)
{
	struct katt_wrap *w = katt_wrap_of(sock->sk);

	if (likely(w && READ_ONCE(w->ks->tx_open)))
		w->inner->splice_eof(sock);
}

static void katt_ops_splice_eof(struct socket *sock)
{
	struct katt_wrap *w = katt_wrap_of(sock->sk);

	if (likely(w && READ_ONCE(w->ks->tx_open)))
		w->inner_ops->splice_eof(sock);
}

/*
 * Wait for the gate of a receive that kTLS cannot serve directly (splice).
 * Returns 0 with the current wrapper in *wp, 1 if the receive is to return
 * 0 (shut down), or an error.
 */
static int katt_recv_wait(struct katt_sock *ks, struct sock *sk, long timeo,
			  struct katt_wrap **wp)
{
	int err = katt_gate_wait_recv(ks, &timeo);

	if (err)
		return err;
	*wp = katt_wrap_of(sk);
	return *wp ? 0 : -EBUSY;
}

/*
 * Held, records kept for the application, a cmsg buffer that could be
 * handed an attestation record, or kTLS stopped at a non-data record: the
 * relay serves it (relay.c).
 */
static noinline int katt_recvmsg_slow(struct katt_sock *ks, struct sock *sk,
				      struct msghdr *msg, size_t len,
				      int flags, int *addr_len)
{
	int ret;

	ret = katt_relay_recvmsg(ks, sk, msg, len, flags, addr_len);
	atomic64_add(max(ret, 0), &ks->rx_bytes);
	return ret;
}

static int katt_recvmsg(struct sock *sk, struct msghdr *msg, size_t len,
			int flags, int *addr_len)
{
	struct katt_wrap *w = katt_wrap_of(sk);
	int ret;

	if (unlikely(!w))
		return -EBUSY;
	if (unlikely(!READ_ONCE(w->ks->rx_open) || msg->msg_controllen))
		return katt_recvmsg_slow(w->ks, sk, msg, len, flags, addr_len);
	ret = w->inner->recvmsg(sk, msg, len, flags, addr_len);
	/*
	 * A non-data record at the head: maybe an attestation record.  The
	 * slow path reads again rather than trusting this result: the
	 * receive worker may have taken the record out meanwhile.
	 */
	if (unlikely(ret == -EIO))
		return katt_recvmsg_slow(w->ks, sk, msg, len, flags, addr_len);
	atomic64_add(max(ret, 0), &w->ks->rx_bytes);
	return ret;
}

/*
 * Records kept while held are read with recv/recvmsg; kTLS's splice_read
 * refuses non-data records with EINVAL, and so does this for kept ones.
 */
static noinline ssize_t katt_splice_read_slow(struct katt_wrap *w,
					      struct socket *sock,
					      loff_t *ppos,
					      struct pipe_inode_info *pipe,
					      size_t len, unsigned int flags)
{
	bool nonblock = (flags & SPLICE_F_NONBLOCK) ||
			(sock->file->f_flags & O_NONBLOCK);
	struct katt_sock *ks = w->ks;
	struct sock *sk = sock->sk;
	ssize_t ret;

	for (;;) {
		if (!READ_ONCE(ks->open)) {
			ret = katt_recv_wait(ks, sk, sock_rcvtimeo(sk, nonblock),
					     &w);
			if (ret)
				return ret > 0 ? 0 : ret;
		}
		if (READ_ONCE(ks->rxq_recs))
			return -EINVAL;
		ret = w->inner_ops->splice_read(sock, ppos, pipe, len, flags);
		if (ret != -EINVAL || katt_relay_take_head(ks) <= 0)
			break;
		w = katt_wrap_of(sk);
		if (!w)
			return -EBUSY;
	}
	/* the read met what failed the socket: it fails with the reason */
	if (ret < 0 && katt_gate_terminal_err(ks))
		ret = katt_gate_terminal_err(ks);
	atomic64_add(max_t(ssize_t, ret, 0), &ks->rx_bytes);
	return ret;
}

static ssize_t katt_splice_read(struct socket *sock, loff_t *ppos,
				struct pipe_inode_info *pipe, size_t len,
				unsigned int flags)
{
	struct katt_wrap *w = katt_wrap_of(sock->sk);
	ssize_t ret;

	if (unlikely(!w))
		return -EBUSY;
	if (unlikely(!READ_ONCE(w->ks->rx_open)))
		return katt_splice_read_slow(w, sock, ppos, pipe, len, flags);
	ret = w->inner_ops->splice_read(sock, ppos, pipe, len, flags);
	/* a non-data record at the head: maybe an attestation record */
	if (unlikely(ret == -EINVAL))
		return katt_splice_read_slow(w, sock, ppos, pipe, len, flags);
	atomic64_add(max_t(ssize_t, ret, 0), &w->ks->rx_bytes);
	return ret;
}

static noinline __poll_t katt_poll_closed(struct katt_sock *ks, __poll_t mask)
{
	u8 state = READ_ONCE(ks->state);

	/* calls fail at once with the reason: report them as ready */
	if (katt_state_terminal(state))
		return mask | EPOLLERR | EPOLLIN | EPOLLRDNORM |
		       EPOLLOUT | EPOLLWRNORM;

	if (READ_ONCE(ks->open)) {
		/* attestation messages go out ahead of held sends */
		if (!READ_ONCE(ks->tx_open))
			mask &= ~(EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND);
		/* records kept while held wait for the application */
		return mask | katt_relay_poll(ks);
	}

	mask &= ~(EPOLLIN | EPOLLRDNORM | EPOLLRDBAND |
		  EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND);
	/* a held receive after shutdown(SHUT_RD) returns 0 at once */
	if (READ_ONCE(ks->local_shutdown) & KATT_SHUT_RD)
		mask |= EPOLLIN | EPOLLRDNORM;
	return mask;
}

static __poll_t katt_poll(struct file *file, struct socket *sock,
			  struct poll_table_struct *wait)
{
	struct katt_wrap *w = katt_wrap_of(sock->sk);
	__poll_t mask;

	/* mid-switch: tls keeps tcp_poll, so that is the inner poll */
	if (unlikely(!w))
		return tcp_poll(file, sock, wait);
	mask = w->inner_ops->poll(file, sock, wait);
	if (likely(READ_ONCE(w->ks->rx_open) && READ_ONCE(w->ks->tx_open)))
		return mask;
	return katt_poll_closed(w->ks, mask);
}

static int katt_shutdown(struct socket *sock, int how)
{
	struct katt_wrap *w = katt_wrap_of(sock->sk);

	if (unlikely(!w))
		return inet_shutdown(sock, how);
	katt_gate_shutdown(w->ks, how);
	return w->inner_ops->shutdown(sock, how);
}

/**
 * katt_close - proto close of an armed socket
 * @sk: socket
 * @timeout: linger timeout
 *
 * Stops the gate's timer, unwraps the socket and closes it through the
 * inner proto.  If our ULP still holds the slot (the socket never got kTLS),
 * the ULP release callback runs when the socket is destroyed (possibly
 * inside the inner close) and frees the state; the socket stays on our
 * (still valid) tables until then.  Otherwise the state is freed here.
 */
void katt_close(struct sock *sk, long timeout)
{
	struct katt_wrap *w = katt_wrap_of(sk);
	struct proto *inner;
	struct katt_sock *ks;
	bool ulp_is_ours;

	/* close runs after every other call on the file: nothing swaps now */
	if (WARN_ON_ONCE(!w)) {
		READ_ONCE(sk->sk_prot)->close(sk, timeout);
		return;
	}

	ks = w->ks;
	inner = w->inner;
	/* outside lock_sock(): the timer takes only ks->lock, and the relay's
	 * work takes the socket lock
	 */
	katt_gate_teardown(ks);
	katt_relay_stop(ks);

	lock_sock(sk);
	/* sampled before the inner close: release() may run inside it */
	ulp_is_ours = inet_csk(sk)->icsk_ulp_ops == &katt_ulp_ops;
	if (!ulp_is_ours) {
		WRITE_ONCE(sk->sk_prot, inner);
		if (sk->sk_socket)
			WRITE_ONCE(sk->sk_socket->ops, w->inner_ops);
	}
	release_sock(sk);

	inner->close(sk, timeout);

	if (!ulp_is_ours)
		katt_sock_free(ks);
}

/*
 * accept() on an armed listener: the child was armed by the ULP clone
 * callback with its own state, but do_accept() gave the new struct socket
 * the listener's ops.  Point it at the child's own wrapper.  A child whose
 * state could not be allocated in softirq is refused here, never handed to
 * the application unarmed.
 */
static int katt_accept(struct socket *sock, struct socket *newsock,
		       int flags, bool kern)
{
	struct katt_wrap *w = katt_wrap_of(sock->sk);
	struct katt_wrap *cw;
	int err;

	if (unlikely(!w))
		return -EBUSY;

	err = w->inner_ops->accept(sock, newsock, flags, kern);
	if (err)
		return err;

	cw = katt_wrap_of(newsock->sk);
	if (!cw) {
		net_warn_ratelimited("ktls_attest: accepted connection dropped: no memory to arm it\n");
		return -ENOMEM;
	}
	WRITE_ONCE(newsock->ops, &cw->ops);
	/* grafted now: it has a wait queue to watch */
	katt_relay_attach(cw->ks);
	return 0;
}
