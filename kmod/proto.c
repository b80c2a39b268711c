// SPDX-License-Identifier: GPL-2.0
/*
 * ktls-attest: the wrappers the shared tables point at.
 *
 * Owns the module's side of every call that reaches an armed socket
 * through its tables (table.c):
 *
 *   proto:  sendmsg, recvmsg, sendpage (sendfile, splice into the socket),
 *           splice_eof, setsockopt, getsockopt, close
 *   ops:    poll, splice_read (splice out of the socket), sendpage_locked,
 *           splice_eof, shutdown, accept
 *   under:  close, setsockopt, getsockopt of the layer below tls
 *
 * Each finds the socket's state with katt_sk() and the inner functions
 * through the table the socket runs on now (katt_table_of()), never one
 * captured earlier: keys may have been installed meanwhile.  When the
 * direction has its key and the gate is open, a data path costs one
 * branch on ks->tx_open / ks->rx_open; everything else is out of line.
 * Calls gate.c (waits), relay.c (reads that meet kept or attestation
 * records), sockopt.c, ulp.c (the hand-over) and sock.c (installation
 * guards, the close, the tables' check).
 *
 * read_sock stays tcp_read_sock even under tls: it reads raw TCP bytes and
 * has kernel callers only.
 */

#include <linux/module.h>
#include <linux/poll.h>
#include <linux/splice.h>
#include <net/inet_common.h>
#include <net/inet_connection_sock.h>
#include <net/tls.h>

#include "ktls_attest.h"

/* The socket is closing: nothing of the module runs for it afterwards. */
static void katt_closing(struct katt_sock *ks)
{
	katt_gate_teardown(ks);
	katt_relay_stop(ks);
	katt_sock_cancel(ks, &ks->check_work);
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

/*
 * After tls installed a key, under lock_sock(): wrap tls's new tables, and
 * check that nothing else went in meanwhile.  Returns NULL, or what is
 * wrong (the socket is to fail closed).
 */
static const char *katt_key_check_locked(struct katt_sock *ks, int optname,
					 bool *tx, bool *rx)
{
	struct sock *sk = ks->sk;

	katt_sk_keys(sk, tx, rx);
	if (!katt_sk_is_tls(sk))
		return "another upper layer protocol took the socket";
	/* the other direction's key can only have come around the gate */
	if (optname == TLS_TX ? *rx != READ_ONCE(ks->has_rx) :
				*tx != READ_ONCE(ks->has_tx))
		return "a kTLS key was installed around the gate";
	if (tls_get_ctx(sk)->sk_proto != katt_under_proto(sk))
		return "the socket left the module's tables under kTLS";
	if (katt_sock_publish_locked(ks))
		return "no memory to wrap kTLS's tables";
	/*
	 * Counts what goes out from now on: until the first pass, only the
	 * module's records may.  (A passed socket has sent the application's
	 * own; a key call there is the application's attempt at a rekey,
	 * which tls refuses.)
	 */
	if (*tx && katt_state_before_pass(READ_ONCE(ks->state))) {
		katt_sock_tx_seq_locked(ks, false);
		if (katt_sock_tx_ahead_locked(ks))
			return "application records went out around the gate";
	}
	return NULL;
}

/* SOL_TLS TLS_TX / TLS_RX: the first key closes the gate. */
static int katt_set_key(struct katt_sock *ks, struct katt_table *t,
			struct sock *sk, int optname, sockptr_t optval,
			unsigned int optlen)
{
	const char *what;
	bool tx, rx;
	int err;

	/* plain TCP below: it answers SOL_TLS itself and installs nothing */
	if (t == ks->base)
		return t->inner->setsockopt(sk, SOL_TLS, optname, optval, optlen);

	err = katt_handover_begin(ks);
	if (err)
		return err;
	katt_gate_keys_coming(ks);
	err = t->inner->setsockopt(sk, SOL_TLS, optname, optval, optlen);

	lock_sock(sk);
	what = katt_key_check_locked(ks, optname, &tx, &rx);
	release_sock(sk);

	katt_gate_keys_done(ks, tx, rx);
	katt_handover_end(ks);
	if (what)
		katt_sock_bypassed(ks, what);
	else
		katt_sock_watch(ks, msecs_to_jiffies(10));
	return err;
}

/*
 * TLS_RX_EXPECT_NO_PAD: its zero-copy decryption writes a TLS 1.3
 * record's plaintext to the application's buffer before the record's type
 * is known, an attestation record's too.  Turning it off (0, the default)
 * is passed on, from a kernel copy so that no thread can change it between
 * the check and tls.
 */
static int katt_set_no_pad(struct katt_table *t, struct sock *sk,
			   sockptr_t optval, unsigned int optlen)
{
	u32 val;

	if (optlen != sizeof(val))
		return -EINVAL;
	if (copy_from_sockptr(&val, optval, sizeof(val)))
		return -EFAULT;
	if (val)
		return -EOPNOTSUPP;
	return t->inner->setsockopt(sk, SOL_TLS, TLS_RX_EXPECT_NO_PAD,
				    KERNEL_SOCKPTR(&val), sizeof(val));
}

static bool katt_tcp_bypass(int level, int optname)
{
	if (level != SOL_TCP)
		return false;
	return optname == TCP_REPAIR || optname == TCP_REPAIR_QUEUE ||
	       optname == TCP_QUEUE_SEQ || optname == TCP_REPAIR_OPTIONS ||
	       optname == TCP_REPAIR_WINDOW || optname == TCP_ZEROCOPY_RECEIVE;
}

int katt_setsockopt(struct sock *sk, int level, int optname,
		    sockptr_t optval, unsigned int optlen)
{
	struct katt_table *t = katt_table_of(sk);
	struct katt_sock *ks = katt_sk(sk);

	/*
	 * The module is handing this socket to tls at this moment: another
	 * upper layer protocol (tls included) finds the slot taken, as it will
	 * be; everything else is to be tried again.
	 */
	if (unlikely(!t || !ks))
		return level == SOL_TCP && optname == TCP_ULP ? -EEXIST : -EBUSY;

	if (level == SOL_KTLS_ATTEST)
		return katt_sockopt_set(ks, optname, optval, optlen);

	if (level == SOL_TCP && optname == TCP_ULP &&
	    katt_ulp_name_is_tls(optval, optlen))
		return katt_swap_to_tls(ks);

	if (level == SOL_TLS && (optname == TLS_TX || optname == TLS_RX))
		return katt_set_key(ks, t, sk, optname, optval, optlen);

	if (level == SOL_TLS && optname == TLS_RX_EXPECT_NO_PAD)
		return katt_set_no_pad(t, sk, optval, optlen);

	/* TCP repair reads and writes the raw queues around the gate */
	if (katt_tcp_bypass(level, optname) && !READ_ONCE(ks->open))
		return -EPERM;

	return t->inner->setsockopt(sk, level, optname, optval, optlen);
}

int katt_getsockopt(struct sock *sk, int level, int optname,
		    char __user *optval, int __user *optlen)
{
	struct katt_table *t = katt_table_of(sk);
	struct katt_sock *ks = katt_sk(sk);

	if (unlikely(!t || !ks))
		return -EBUSY;

	if (level == SOL_KTLS_ATTEST)
		return katt_sockopt_get(ks, optname, optval, optlen);

	/* zerocopy receive maps the raw TCP queue around the gate */
	if (katt_tcp_bypass(level, optname) && !READ_ONCE(ks->open))
		return -EPERM;

	return t->inner->getsockopt(sk, level, optname, optval, optlen);
}

/*
 * Below tls: its pass-through of every level but SOL_TLS.  Through the
 * module's own tables the options were looked at already; a call that
 * arrives while the socket runs on tls's own tables went around the gate
 * (or raced one of the module's installations: then it is looked at once
 * the installation is over).
 */
static struct katt_sock *katt_under_check(struct sock *sk, int level,
					  int optname, int *err)
{
	struct katt_sock *ks = katt_sk(sk);

	*err = 0;
	if (!ks || katt_table_of(sk))
		return NULL;
	if (READ_ONCE(ks->installing))
		katt_sock_watch(ks, msecs_to_jiffies(10));
	else
		katt_sock_check(ks);
	if (katt_tcp_bypass(level, optname) && !READ_ONCE(ks->open))
		*err = -EPERM;
	return ks;
}

int katt_under_setsockopt(struct sock *sk, int level, int optname,
			  sockptr_t optval, unsigned int optlen)
{
	struct katt_sock *ks;
	int err;

	ks = katt_under_check(sk, level, optname, &err);
	if (ks && level == SOL_KTLS_ATTEST) {
		err = katt_gate_terminal_err(ks);
		return err ? err : -EBUSY;
	}
	return err ? err : tcp_setsockopt(sk, level, optname, optval, optlen);
}

/* The status stays readable on a socket that was failed for a bypass. */
int katt_under_getsockopt(struct sock *sk, int level, int optname,
			  char __user *optval, int __user *optlen)
{
	struct katt_sock *ks;
	int err;

	ks = katt_under_check(sk, level, optname, &err);
	if (ks && level == SOL_KTLS_ATTEST)
		return katt_sockopt_get(ks, optname, optval, optlen);
	return err ? err : tcp_getsockopt(sk, level, optname, optval, optlen);
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
 * A send that the fast path left: wait for the gate, then enter the inner
 * function counted (katt_inner_enter()).  Returns 0 with the table to call
 * through in *tp (the caller calls katt_inner_leave() afterwards), or an
 * error.
 */
static int katt_send_enter(struct katt_sock *ks, struct sock *sk, int flags,
			   long *timeo, struct katt_table **tp)
{
	bool held = false;
	int err;

	for (;;) {
		if (!katt_gate_send_may(ks)) {
			if (!held)
				atomic64_inc(&ks->tx_held);
			held = true;
			err = katt_gate_wait(ks, KATT_WAIT_SEND, timeo);
			if (err == -EPIPE)
				return sk_stream_error(sk, flags, err);
			if (err)
				return err;
		}
		katt_inner_enter(ks);
		if (likely(katt_gate_send_may(ks)))
			break;
		katt_inner_leave(ks);
	}
	*tp = katt_table_of(sk);
	if (unlikely(!*tp)) {
		katt_inner_leave(ks);
		return -EBUSY;
	}
	return 0;
}

/* What is left of a send's SO_SNDTIMEO after it began at @start. */
static long katt_timeo_left(long timeo, unsigned long start)
{
	long spent = jiffies - start;

	if (timeo == MAX_SCHEDULE_TIMEOUT)
		return timeo;
	return spent < timeo ? timeo - spent : 0;
}

/*
 * A send that the fast path left: held, a cmsg, or longer than a record.
 *
 * Under kTLS, each inner call is given at most one record's plaintext
 * (KATT_REC_MAX), so that the gate is looked at between records: a
 * verdict that closes it (revoke, fail, a held re-attestation) stops the
 * send after the record it is in, whatever happens to the socket's error
 * meanwhile (reading SO_ERROR clears it).  The records come out as one
 * call would make them when no record is open: full ones, the last one
 * the rest (without MSG_MORE until the last piece; after an earlier
 * MSG_MORE send the open record is completed and one more, shorter,
 * record follows).  A record-type cmsg goes with each piece, so that
 * every record of the send has that type.
 */
static noinline int katt_sendmsg_slow(struct katt_sock *ks, struct sock *sk,
				      struct msghdr *msg, size_t size)
{
	long timeo = sock_sndtimeo(sk, msg->msg_flags & MSG_DONTWAIT);
	int flags = msg->msg_flags;
	unsigned long start = jiffies;
	struct katt_table *t;
	size_t sent = 0;
	int ret;

	ret = katt_check_cmsg(msg);
	if (ret)
		return ret;
	do {
		size_t left = size - sent, piece = left;

		ret = katt_send_enter(ks, sk, flags, &timeo, &t);
		if (ret)
			break;
		msg->msg_flags = flags;
		if (READ_ONCE(ks->has_tx) && piece > KATT_REC_MAX) {
			piece = KATT_REC_MAX;
			msg->msg_flags &= ~MSG_MORE;
		}
		iov_iter_truncate(&msg->msg_iter, piece);
		ret = t->inner->sendmsg(sk, msg, piece);
		iov_iter_reexpand(&msg->msg_iter,
				  msg_data_left(msg) + left - piece);
		katt_inner_leave(ks);
		if (ret <= 0)
			break;
		sent += ret;
		if (ret < piece)
			break;
		timeo = katt_timeo_left(sock_sndtimeo(sk, flags & MSG_DONTWAIT),
					start);
	} while (sent < size && (timeo || flags & MSG_DONTWAIT));
	msg->msg_flags = flags;
	atomic64_add(sent, &ks->tx_bytes);
	/* an error after some bytes went is the next call's */
	return sent ? sent : ret;
}

int katt_sendmsg(struct sock *sk, struct msghdr *msg, size_t size)
{
	struct katt_table *t = katt_table_of(sk);
	struct katt_sock *ks;
	int ret;

	if (unlikely(!t))
		return -EBUSY;
	ks = katt_sk_on_table(sk);
	/* cmsgs are checked for the attestation record type */
	if (unlikely(!READ_ONCE(ks->tx_open) || msg->msg_controllen ||
		     size > KATT_REC_MAX))
		return katt_sendmsg_slow(ks, sk, msg, size);
	ret = t->inner->sendmsg(sk, msg, size);
	atomic64_add(max(ret, 0), &ks->tx_bytes);
	return ret;
}

static noinline int katt_sendpage_slow(struct katt_sock *ks, struct sock *sk,
				       struct page *page, int offset,
				       size_t size, int flags)
{
	long timeo = sock_sndtimeo(sk, flags & MSG_DONTWAIT);
	struct katt_table *t;
	int ret;

	ret = katt_send_enter(ks, sk, flags, &timeo, &t);
	if (ret)
		return ret;
	ret = t->inner->sendpage(sk, page, offset, size, flags);
	katt_inner_leave(ks);
	atomic64_add(max(ret, 0), &ks->tx_bytes);
	return ret;
}

int katt_sendpage(struct sock *sk, struct page *page, int offset,
		  size_t size, int flags)
{
	struct katt_table *t = katt_table_of(sk);
	struct katt_sock *ks;
	int ret;

	if (unlikely(!t))
		return -EBUSY;
	ks = katt_sk_on_table(sk);
	if (unlikely(!READ_ONCE(ks->tx_open)))
		return katt_sendpage_slow(ks, sk, page, offset, size, flags);
	ret = t->inner->sendpage(sk, page, offset, size, flags);
	atomic64_add(max(ret, 0), &ks->tx_bytes);
	return ret;
}

/* Kernel callers under lock_sock(): they cannot wait. */
int katt_sendpage_locked(struct sock *sk, struct page *page,
			 int offset, size_t size, int flags)
{
	struct katt_table *t = katt_table_of(sk);
	struct katt_sock *ks = katt_sk(sk);

	if (unlikely(!t || !ks || !katt_gate_send_may(ks)))
		return -EAGAIN;
	return t->inner_ops->sendpage_locked(sk, page, offset, size, flags);
}

/* splice_eof pushes tls's open record: nothing may go while held */
void katt_splice_eof(struct socket *sock)
{
	struct katt_table *t = katt_table_of(sock->sk);
	struct katt_sock *ks = katt_sk(sock->sk);

	if (likely(t && ks && katt_gate_send_may(ks)))
		t->inner->splice_eof(sock);
}

void katt_ops_splice_eof(struct socket *sock)
{
	struct katt_table *t = katt_table_of(sock->sk);
	struct katt_sock *ks = katt_sk(sock->sk);

	if (likely(t && ks && katt_gate_send_may(ks)))
		t->inner_ops->splice_eof(sock);
}

/* A blocking read with a target (MSG_WAITALL, SO_RCVLOWAT), or a peek. */
static bool katt_recv_wants_more(struct sock *sk, int flags)
{
	return (flags & (MSG_WAITALL | MSG_PEEK)) ||
	       READ_ONCE(sk->sk_rcvlowat) > 1;
}

/*
 * Held, records kept for the application, a cmsg buffer that could be
 * handed an attestation record, no receive key yet, kTLS stopped at a
 * non-data record, more than a record's worth, or a blocking read that
 * would wait: the relay serves it (relay.c).
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

/*
 * A plain blocking read that found no record ready: it waits here, never
 * inside kTLS, and reads once one is (the gate closing sends it the slow
 * way, which waits for the verdict).
 */
static noinline int katt_recvmsg_wait(struct katt_sock *ks, struct sock *sk,
				      struct msghdr *msg, size_t len,
				      int flags, int *addr_len)
{
	long timeo = sock_rcvtimeo(sk, false);
	struct katt_table *t;
	int ret;

	for (;;) {
		ret = katt_gate_wait(ks, KATT_WAIT_DATA, &timeo);
		if (ret)
			return ret;
		t = katt_table_of(sk);
		if (unlikely(!t || !READ_ONCE(ks->rx_open)))
			break;
		ret = t->inner->recvmsg(sk, msg, len, flags | MSG_DONTWAIT,
					addr_len);
		if (ret != -EAGAIN || !timeo)
			break;
		if (signal_pending(current))
			return sock_intr_errno(timeo);
		cond_resched();
	}
	if (!t || !READ_ONCE(ks->rx_open) || ret == -EIO)
		return katt_recvmsg_slow(ks, sk, msg, len, flags, addr_len);
	atomic64_add(max(ret, 0), &ks->rx_bytes);
	return ret;
}

/*
 * What the fast path leaves: a plain blocking read goes into kTLS without
 * waiting there if a record is ready, waits in the module if none is, and
 * everything else is the relay's (katt_recvmsg_slow()).
 */
static noinline int katt_recvmsg_blocking(struct katt_sock *ks,
					  struct sock *sk, struct msghdr *msg,
					  size_t len, int flags, int *addr_len)
{
	struct katt_table *t;
	int ret;

	if (!READ_ONCE(ks->rx_open) || msg->msg_controllen ||
	    len > KATT_REC_MAX || katt_recv_wants_more(sk, flags))
		return katt_recvmsg_slow(ks, sk, msg, len, flags, addr_len);
	if (!sk_is_readable(sk))
		return katt_recvmsg_wait(ks, sk, msg, len, flags, addr_len);
	t = katt_table_of(sk);
	if (unlikely(!t))
		return -EBUSY;
	ret = t->inner->recvmsg(sk, msg, len, flags | MSG_DONTWAIT, addr_len);
	/* a non-data record, or the record gone to another reader */
	if (unlikely(ret == -EIO || ret == -EAGAIN))
		return katt_recvmsg_slow(ks, sk, msg, len, flags, addr_len);
	atomic64_add(max(ret, 0), &ks->rx_bytes);
	return ret;
}

int katt_recvmsg(struct sock *sk, struct msghdr *msg, size_t len,
		 int flags, int *addr_len)
{
	struct katt_table *t = katt_table_of(sk);
	struct katt_sock *ks;
	int ret;

	if (unlikely(!t))
		return -EBUSY;
	ks = katt_sk_on_table(sk);
	/*
	 * No read waits inside kTLS, nor takes more than a record's worth
	 * there (see katt_relay_recvmsg()): blocking reads go out of line.
	 */
	if (unlikely(!READ_ONCE(ks->rx_open) || msg->msg_controllen ||
		     len > KATT_REC_MAX || !(flags & MSG_DONTWAIT)))
		return katt_recvmsg_blocking(ks, sk, msg, len, flags, addr_len);
	ret = t->inner->recvmsg(sk, msg, len, flags, addr_len);
	/*
	 * A non-data record at the head: maybe an attestation record.  The
	 * slow path reads again rather than trusting this result: the
	 * receive worker may have taken the record out meanwhile.
	 */
	if (unlikely(ret == -EIO))
		return katt_recvmsg_slow(ks, sk, msg, len, flags, addr_len);
	atomic64_add(max(ret, 0), &ks->rx_bytes);
	return ret;
}

/*
 * Records kept while held are read with recv/recvmsg; kTLS's splice_read
 * refuses non-data records with EINVAL, and so does this for kept ones.
 */
static noinline ssize_t katt_splice_read_slow(struct katt_sock *ks,
					      struct socket *sock,
					      loff_t *ppos,
					      struct pipe_inode_info *pipe,
					      size_t len, unsigned int flags)
{
	bool nonblock = (flags & SPLICE_F_NONBLOCK) ||
			(sock->file->f_flags & O_NONBLOCK);
	struct katt_table *t;
	struct sock *sk = sock->sk;
	long timeo = sock_rcvtimeo(sk, nonblock);
	ssize_t ret;

	for (;;) {
		if (!katt_gate_recv_may(ks)) {
			ret = katt_gate_wait_recv(ks, &timeo);
			if (ret)
				return ret > 0 ? 0 : ret;
		}
		/* as a read: it waits here, never inside kTLS */
		if (timeo && !katt_gate_recv_ready(ks)) {
			ret = katt_gate_wait(ks, KATT_WAIT_DATA, &timeo);
			if (ret)
				break;
			continue;
		}
		katt_inner_enter(ks);
		if (!katt_gate_recv_may(ks)) {
			katt_inner_leave(ks);
			continue;
		}
		t = katt_table_of(sk);
		if (READ_ONCE(ks->rxq_recs))
			ret = -EINVAL;
		else if (!t)
			ret = -EBUSY;
		else
			ret = t->inner_ops->splice_read(sock, ppos, pipe, len,
							flags | SPLICE_F_NONBLOCK);
		katt_inner_leave(ks);
		/* taken by another reader meanwhile (or the pipe is full) */
		if (ret == -EAGAIN && timeo) {
			if (signal_pending(current)) {
				ret = sock_intr_errno(timeo);
				break;
			}
			cond_resched();
			continue;
		}
		if (ret != -EINVAL || !t || READ_ONCE(ks->rxq_recs) ||
		    !READ_ONCE(ks->has_rx) || katt_relay_take_head(ks) <= 0)
			break;
	}
	/* the read met what failed the socket: it fails with the reason */
	if (ret < 0 && katt_gate_terminal_err(ks))
		ret = katt_gate_terminal_err(ks);
	atomic64_add(max_t(ssize_t, ret, 0), &ks->rx_bytes);
	return ret;
}

ssize_t katt_splice_read(struct socket *sock, loff_t *ppos,
			 struct pipe_inode_info *pipe, size_t len,
			 unsigned int flags)
{
	struct katt_table *t = katt_table_of(sock->sk);
	struct katt_sock *ks;
	bool nonblock;
	ssize_t ret;

	if (unlikely(!t))
		return -EBUSY;
	ks = katt_sk_on_table(sock->sk);
	nonblock = (flags & SPLICE_F_NONBLOCK) ||
		   (sock->file->f_flags & O_NONBLOCK);
	/* kTLS splices one record a call; none waits inside it */
	if (unlikely(!READ_ONCE(ks->rx_open) ||
		     (!nonblock && !sk_is_readable(sock->sk))))
		return katt_splice_read_slow(ks, sock, ppos, pipe, len, flags);
	ret = t->inner_ops->splice_read(sock, ppos, pipe, len,
					flags | SPLICE_F_NONBLOCK);
	/* a non-data record at the head: maybe an attestation record */
	if (unlikely(ret == -EINVAL || (ret == -EAGAIN && !nonblock)))
		return katt_splice_read_slow(ks, sock, ppos, pipe, len, flags);
	atomic64_add(max_t(ssize_t, ret, 0), &ks->rx_bytes);
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
		if (READ_ONCE(ks->has_tx) && !READ_ONCE(ks->tx_open))
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

/* Every inner table's poll is tcp_poll: tls keeps it. */
__poll_t katt_poll(struct file *file, struct socket *sock,
		   struct poll_table_struct *wait)
{
	struct katt_sock *ks = katt_sk(sock->sk);
	__poll_t mask;

	mask = tcp_poll(file, sock, wait);
	if (unlikely(!ks))
		return mask;
	if (likely(READ_ONCE(ks->rx_open) && READ_ONCE(ks->tx_open)))
		return mask;
	return katt_poll_closed(ks, mask);
}

/* Every inner table's shutdown is inet_shutdown: tls keeps it. */
int katt_shutdown(struct socket *sock, int how)
{
	struct katt_sock *ks = katt_sk(sock->sk);
	u8 old = 0;
	int err;

	if (ks)
		old = katt_gate_shutdown(ks, how);
	err = inet_shutdown(sock, how);
	if (err && ks)
		katt_gate_shutdown_undo(ks, old);
	return err;
}

/**
 * katt_close - proto close of an armed socket
 * @sk: socket
 * @timeout: linger timeout
 *
 * Stops the gate's timer and the relay's work, and closes the socket
 * through the inner proto (tls's close comes back to katt_under_close()).
 * The state stays until the socket's destructor.
 */
void katt_close(struct sock *sk, long timeout)
{
	struct katt_table *t = katt_table_of(sk);
	struct katt_sock *ks = katt_sk(sk);

	/* close runs after every other call on the file: nothing swaps now */
	if (WARN_ON_ONCE(!t)) {
		tcp_close(sk, timeout);
		return;
	}
	if (ks)
		katt_closing(ks);
	t->inner->close(sk, timeout);
}

/*
 * tls's close calls the proto below it: this.  Whatever tables the socket
 * ran on, the module's work for it ends here.
 */
void katt_under_close(struct sock *sk, long timeout)
{
	struct katt_sock *ks = katt_sk(sk);

	if (ks)
		katt_closing(ks);
	tcp_close(sk, timeout);
}

/*
 * accept() on an armed listener: the child was armed by the ULP clone
 * callback with its own state, and runs on the same (plain TCP) table as
 * its listener, whose ops do_accept() gave it.  A child whose state could
 * not be allocated in softirq is refused here, never handed to the
 * application unarmed.
 */
int katt_accept(struct socket *sock, struct socket *newsock, int flags,
		bool kern)
{
	struct katt_sock *cks;
	int err;

	err = inet_accept(sock, newsock, flags, kern);
	if (err)
		return err;

	cks = katt_sk(newsock->sk);
	if (!cks) {
		net_warn_ratelimited("ktls_attest: accepted connection dropped: no memory to arm it\n");
		return -ENOMEM;
	}
	/* grafted now: it has a wait queue to watch */
	lock_sock(newsock->sk);
	katt_relay_attach_locked(cks);
	release_sock(newsock->sk);
	return 0;
}
