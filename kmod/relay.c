// SPDX-License-Identifier: GPL-2.0
/*
 * ktls-attest: the record relay between a connection and the agent.
 *
 * Attestation messages travel inside the TLS connection as records of type
 * KTLS_ATTEST_RECORD_TYPE, framed and fragmented as uapi/linux/ktls_attest.h
 * and Documentation/protocol.rst say.  Only this file reads and writes them,
 * through the socket's kTLS functions with a kernel msghdr and a kernel cmsg
 * (TLS_SET_RECORD_TYPE / TLS_GET_RECORD_TYPE).
 *
 * Transmit: the agent's messages wait in ks->txq and tx_work writes them, a
 * whole record per non-blocking sendmsg (tls builds the record whole or not
 * at all), retrying while the socket's send buffer is full or an
 * application's send holds tls's transmit lock.  While anything waits
 * there the gate's send side is closed (ks->tx_open), so attestation
 * records go out ahead of later application data.  On a revoked or failed
 * socket (katt_relay_end()) only what was queued before goes, for at most
 * KATT_FLUSH_MS; then the socket's error and the policy's reset.
 *
 * Receive: while the socket is held the kernel reads every record itself,
 * in order (rx_work, kicked by data arriving on the socket's wait queue):
 * attestation records are reassembled into messages for the agent, other
 * records are kept for the application in ks->rxq (bounded: when it is
 * full the kernel stops reading), and in the first round application data
 * before the peer's first attestation record is a protocol violation.
 * Only sockets with a binding take part: without one the socket is gated
 * by verdicts from elsewhere and its records stay in kTLS while held.
 *
 * The application's reads that the fast path leaves come here
 * (katt_relay_recvmsg()): none waits inside kTLS, and none takes more than
 * a record's worth per kTLS call, so that a verdict stops them.
 *
 * While records flow, the application reads; an attestation record at the
 * head of the stream is taken out before the application's read reaches it
 * (kTLS answers a read without cmsg space that meets a non-data record with
 * EIO; a read with cmsg space is preceded by a peek at the head's type).
 * Applications never get one.  While a round is under way the receive
 * worker also takes attestation records at the head, so that a round does
 * not wait for the application to read.
 *
 * Locking: ks->rx_mutex serializes the kernel's own reads of records (the
 * receive worker and the applications' slow paths) and protects the
 * reassembly and ks->rxq; counters the data path looks at (rxq_recs) also
 * change under ks->lock.  ks->txq and ks->ready are under ks->lock.  Works
 * are queued with katt_sock_queue() (a socket reference while pending,
 * nothing once ks->dead), and katt_relay_stop() cancels them at close: a
 * work that was queued late finds the socket dead and only drops its
 * reference.
 *
 * Calls gate.c (the round's state), agent.c (delivery), sock.c (works,
 * the tables' check).
 */

#include <linux/mm.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <net/sock.h>
#include <net/tls.h>

#include "ktls_attest.h"

/*
 * How long the attestation messages queued before a failing verdict may
 * take to go out (the send buffer may be full, or a sender blocked inside
 * kTLS may hold its lock); what is left then is dropped.
 */
#define KATT_FLUSH_MS		500
#define KATT_FRAME_LEN		sizeof(struct ktls_attest_frame)
#define KATT_RETRY_MS		10
/*
 * A passed socket with records the application has not read for this long
 * is looked at by the kernel: an attestation record at the head (a peer's
 * re-attestation challenge to an application that is not reading) is taken
 * out, so that the peer's round does not wait for the application.
 */
#define KATT_IDLE_PEEK_MS	20

static_assert(sizeof(struct ktls_attest_frame) == 8);
static_assert(KATT_REC_MAX - KATT_FRAME_LEN == KTLS_ATTEST_FRAG_MAX);

enum katt_rx_mode {
	KATT_RX_NONE,	/* the kernel reads nothing */
	KATT_RX_ATTEST,	/* attestation records at the head only */
	KATT_RX_ALL,	/* held: every record, in order */
	KATT_RX_FIRST,	/* held in the first round: the same, and data
			 * before the peer's first attestation record is a
			 * protocol violation
			 */
};

/* Without an agent, received messages are offered again this often. */
#define KATT_NOAGENT_RETRY_MS	50

static void katt_rx_work(struct work_struct *work);
static void katt_tx_work(struct work_struct *work);

/* Queue @work unless the socket is closing. */
static void katt_queue_locked(struct katt_sock *ks, struct delayed_work *work,
			      unsigned long delay)
{
	katt_sock_queue(ks, work, delay);
}

/**
 * katt_relay_kick - let the receive worker look at the socket now
 * @ks: socket state
 *
 * Any context but hardirq.
 */
void katt_relay_kick(struct katt_sock *ks)
{
	spin_lock_bh(&ks->lock);
	katt_queue_locked(ks, &ks->rx_work, 0);
	spin_unlock_bh(&ks->lock);
}

/**
 * katt_relay_round - a round is under way: the kernel reads the peer's records
 * @ks: socket state
 *
 * Only for a socket with a binding: one without takes no part in the
 * in-band transport (see katt_rx_mode()).  Any context but hardirq.
 */
void katt_relay_round(struct katt_sock *ks)
{
	if (READ_ONCE(ks->has_binding))
		katt_relay_kick(ks);
}

/*
 * The socket's wait queue was woken: data (a whole record, once kTLS
 * receives), end of stream, buffer space, a state change.  Under the wait
 * queue's lock, interrupts off.  Any wake-up also looks whether the socket
 * still runs on the module's tables (sock.c checks it then, in process
 * context).  During a round the worker reads at once (sockets with a
 * binding: see katt_rx_mode()).  On a passed socket the application's
 * reads take attestation records out; the worker only looks if records
 * stay unread for KATT_IDLE_PEEK_MS (one delayed run per period, however
 * many records arrive).  katt_gate_teardown() sets ks->dead, then
 * katt_relay_stop() removes this entry before it cancels the worker.
 */
static int katt_rx_wake(struct wait_queue_entry *wait, unsigned int mode,
			int sync, void *key)
{
	struct katt_sock *ks = container_of(wait, struct katt_sock, rx_wait);
	__poll_t events = key_to_poll(key);
	u8 state;

	if (READ_ONCE(ks->dead))
		return 0;
	/* any wake-up: does the socket still run on the module's tables? */
	if (unlikely(!katt_table_of(ks->sk) && !READ_ONCE(ks->installing) &&
		     !katt_gate_terminal_err(ks)))
		katt_sock_watch(ks, 0);
	if (events && !(events & (EPOLLIN | EPOLLRDNORM | EPOLLRDHUP | EPOLLHUP)))
		return 0;
	state = READ_ONCE(ks->state);
	if (katt_state_in_round(state)) {
		if (READ_ONCE(ks->has_binding))
			katt_sock_queue(ks, &ks->rx_work, 0);
	} else if (state == KTLS_ATTEST_STATE_PASSED &&
		   !delayed_work_pending(&ks->rx_work)) {
		/* one look per period, however many records arrive */
		katt_sock_queue(ks, &ks->rx_work,
				msecs_to_jiffies(KATT_IDLE_PEEK_MS));
	}
	return 0;
}

void katt_relay_init(struct katt_sock *ks)
{
	INIT_LIST_HEAD(&ks->txq);
	INIT_LIST_HEAD(&ks->ready);
	INIT_LIST_HEAD(&ks->rxq);
	mutex_init(&ks->rx_mutex);
	init_waitqueue_func_entry(&ks->rx_wait, katt_rx_wake);
	INIT_DELAYED_WORK(&ks->rx_work, katt_rx_work);
	INIT_DELAYED_WORK(&ks->tx_work, katt_tx_work);
}

/**
 * katt_relay_attach_locked - start watching the socket's wait queue
 * @ks: socket state; the socket has its struct socket (wait queue)
 *
 * Under lock_sock().
 */
void katt_relay_attach_locked(struct katt_sock *ks)
{
	sock_owned_by_me(ks->sk);
	if (ks->rx_wait_added || !ks->sk->sk_socket || READ_ONCE(ks->dead))
		return;
	add_wait_queue(sk_sleep(ks->sk), &ks->rx_wait);
	ks->rx_wait_added = true;
}

/* Stop watching it (before the wait queue goes with the file). */
void katt_relay_detach_locked(struct katt_sock *ks)
{
	sock_owned_by_me(ks->sk);
	if (!ks->rx_wait_added)
		return;
	remove_wait_queue(sk_sleep(ks->sk), &ks->rx_wait);
	ks->rx_wait_added = false;
}

/**
 * katt_relay_stop - the socket is closing
 * @ks: socket state, after katt_gate_teardown()
 *
 * Process context, without the socket lock.  No relay work runs after this
 * (one queued late only drops its socket reference).
 */
void katt_relay_stop(struct katt_sock *ks)
{
	lock_sock(ks->sk);
	katt_relay_detach_locked(ks);
	release_sock(ks->sk);
	katt_sock_cancel(ks, &ks->rx_work);
	katt_sock_cancel(ks, &ks->tx_work);
}

static void katt_msg_list_free(struct list_head *head)
{
	struct katt_msg *m, *tmp;

	list_for_each_entry_safe(m, tmp, head, node) {
		list_del(&m->node);
		kvfree_sensitive(m, struct_size(m, data, m->len));
	}
}

/**
 * katt_relay_free - free what the relay holds
 * @ks: socket state nobody else uses any more
 *
 * Any context.  Messages and kept records are wiped: they may be secrets.
 */
void katt_relay_free(struct katt_sock *ks)
{
	struct katt_rec *r, *tmp;

	katt_msg_list_free(&ks->txq);
	katt_msg_list_free(&ks->ready);
	list_for_each_entry_safe(r, tmp, &ks->rxq, node) {
		list_del(&r->node);
		kfree_sensitive(r);
	}
	if (ks->rx_asm)
		kvfree_sensitive(ks->rx_asm, struct_size(ks->rx_asm, data, ks->rx_asm->len));
	ks->rx_asm = NULL;
}

/* --- record I/O through kTLS -------------------------------------------- */

/*
 * Read or peek up to @len bytes of records of one type from kTLS, into
 * @iov.  Returns the bytes read, or an error; *type is the records' type,
 * *eor whether the last one was read to its end.  0 is a record of no
 * bytes (TLS 1.3 allows them, of every type), *type set; or the end of
 * the stream, *type left as it was (callers start it at 0, which no
 * record type is).
 */
static int katt_rec_read(struct katt_sock *ks, struct kvec *iov, size_t nr,
			 size_t len, int flags, u8 *type, bool *eor)
{
	u8 cbuf[CMSG_SPACE(sizeof(u8))] __aligned(sizeof(size_t));
	struct cmsghdr *cmsg = (struct cmsghdr *)cbuf;
	struct sock *sk = ks->sk;
	struct katt_table *t;
	struct msghdr msg = {};
	int addr_len = 0;
	int ret;

	t = katt_table_of(sk);
	if (!t)
		return -EAGAIN;	/* mid-switch: try again later */

	memset(cbuf, 0, sizeof(cbuf));
	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof(cbuf);
	msg.msg_control_is_user = false;
	iov_iter_kvec(&msg.msg_iter, ITER_DEST, iov, nr, len);

	ret = t->inner->recvmsg(sk, &msg, len, flags | MSG_NOSIGNAL,
				&addr_len);
	if (ret < 0 || (!ret && msg.msg_control == cbuf))
		return ret;	/* an error, or the end: no record, no type */
	if (msg.msg_control == cbuf || cmsg->cmsg_level != SOL_TLS ||
	    cmsg->cmsg_type != TLS_GET_RECORD_TYPE)
		return -EPROTO;	/* not kTLS underneath */
	*type = *(u8 *)CMSG_DATA(cmsg);
	if (eor)
		*eor = msg.msg_flags & MSG_EOR;
	return ret;
}

/* Peek at the head record: its type and up to a frame header of it. */
static int katt_rec_peek(struct katt_sock *ks, u8 *hdr, int flags, u8 *type)
{
	struct kvec iov = { .iov_base = hdr, .iov_len = KATT_FRAME_LEN };

	return katt_rec_read(ks, &iov, 1, KATT_FRAME_LEN, flags | MSG_PEEK,
			     type, NULL);
}

/* Write one whole attestation record, without waiting for buffer space. */
static int katt_rec_write(struct katt_sock *ks, const u8 *hdr,
			  const u8 *frag, size_t frag_len)
{
	u8 cbuf[CMSG_SPACE(sizeof(u8))] __aligned(sizeof(size_t));
	struct cmsghdr *cmsg = (struct cmsghdr *)cbuf;
	struct kvec iov[2] = {
		{ .iov_base = (void *)hdr, .iov_len = KATT_FRAME_LEN },
		{ .iov_base = (void *)frag, .iov_len = frag_len },
	};
	size_t len = KATT_FRAME_LEN + frag_len;
	struct sock *sk = ks->sk;
	struct katt_table *t;
	struct msghdr msg = {};

	t = katt_table_of(sk);
	if (!t)
		return -EAGAIN;
	/*
	 * An application's send blocked inside kTLS holds tls's transmit
	 * lock: try again later rather than wait behind it in the worker.
	 */
	if (mutex_is_locked(&tls_get_ctx(sk)->tx_lock))
		return -EAGAIN;

	memset(cbuf, 0, sizeof(cbuf));
	cmsg->cmsg_level = SOL_TLS;
	cmsg->cmsg_type = TLS_SET_RECORD_TYPE;
	cmsg->cmsg_len = CMSG_LEN(sizeof(u8));
	*(u8 *)CMSG_DATA(cmsg) = KTLS_ATTEST_RECORD_TYPE;
	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof(cbuf);
	msg.msg_control_is_user = false;
	msg.msg_flags = MSG_DONTWAIT | MSG_NOSIGNAL;
	iov_iter_kvec(&msg.msg_iter, ITER_SOURCE, iov, 2, len);

	/* the inner (tls) sendmsg: ours refuses this record type */
	return t->inner->sendmsg(sk, &msg, len);
}

/* --- transmit ------------------------------------------------------------ */

/**
 * katt_relay_send - queue an attestation message of the agent
 * @ks: socket state
 * @m: the message; the queue owns it on success
 * @extack: for the error message
 *
 * Return: 0; -ENOENT if the socket is closing; -EKEYREVOKED or
 * -EKEYREJECTED on a revoked or failed socket; -ENOTCONN without a kTLS
 * transmit key; -EPIPE after shutdown(SHUT_WR); -ENOBUFS if too much waits
 * to be sent already.
 */
int katt_relay_send(struct katt_sock *ks, struct katt_msg *m,
		    struct netlink_ext_ack *extack)
{
	int err = 0;

	spin_lock_bh(&ks->lock);
	if (ks->dead) {
		NL_SET_ERR_MSG(extack, "socket is closing");
		err = -ENOENT;
	} else if (katt_state_terminal(ks->state)) {
		NL_SET_ERR_MSG(extack, "socket is revoked or failed");
		err = katt_state_errno(ks->state);
	} else if (!ks->has_tx) {
		NL_SET_ERR_MSG(extack, "socket has no kTLS transmit key");
		err = -ENOTCONN;
	} else if (READ_ONCE(ks->sk->sk_shutdown) & SEND_SHUTDOWN) {
		NL_SET_ERR_MSG(extack, "socket is shut down for sending");
		err = -EPIPE;
	} else if (ks->txq_bytes + m->len > KATT_TXQ_MAX_BYTES) {
		NL_SET_ERR_MSG(extack, "too many attestation bytes wait to be sent on this socket");
		err = -ENOBUFS;
	} else {
		m->off = 0;
		list_add_tail(&m->node, &ks->txq);
		ks->txq_bytes += m->len;
		katt_gate_update_open_locked(ks);
		katt_queue_locked(ks, &ks->tx_work, 0);
	}
	spin_unlock_bh(&ks->lock);
	return err;
}

/* The message at the head of the queue was sent. */
static void katt_tx_done(struct katt_sock *ks, struct katt_msg *m)
{
	bool drained;

	spin_lock_bh(&ks->lock);
	list_del(&m->node);
	ks->txq_bytes -= m->len;
	drained = list_empty(&ks->txq);
	if (drained)
		katt_gate_update_open_locked(ks);
	spin_unlock_bh(&ks->lock);

	kvfree_sensitive(m, struct_size(m, data, m->len));
	/* held application sends may go now */
	if (drained)
		katt_gate_wake(ks);
}

/* Drop what waits to be sent (a revoked or failed socket gave up on it). */
static void katt_txq_drop(struct katt_sock *ks)
{
	LIST_HEAD(drop);

	spin_lock_bh(&ks->lock);
	list_splice_init(&ks->txq, &drop);
	ks->txq_bytes = 0;
	katt_gate_update_open_locked(ks);
	spin_unlock_bh(&ks->lock);
	katt_msg_list_free(&drop);
}

/* Once: the socket's error, then the reset its policy asks for. */
static void katt_end_done(struct katt_sock *ks)
{
	bool reset;

	spin_lock_bh(&ks->lock);
	if (ks->end != KATT_END_FLUSH) {
		spin_unlock_bh(&ks->lock);
		return;
	}
	ks->end = KATT_END_DONE;
	reset = ks->end_reset;
	spin_unlock_bh(&ks->lock);

	katt_gate_report_error(ks);
	if (reset)
		katt_sock_reset_async(ks);
}

/**
 * katt_relay_end - the socket was revoked or failed
 * @ks: socket state
 * @reset: its policy aborts the connection
 *
 * Nothing new is queued from now on (katt_relay_send() refuses), but the
 * attestation messages queued before the verdict (the failing Verdict, an
 * Error: protocol.rst wants the peer to get them) still go out, for at
 * most KATT_FLUSH_MS; then the socket's error is set (tls would send
 * nothing after it) and the connection is reset if the policy says so.  A
 * socket that went around the gate is not flushed: it is aborted at once.
 * Any context but hardirq.
 */
void katt_relay_end(struct katt_sock *ks, bool reset)
{
	bool now;

	spin_lock_bh(&ks->lock);
	if (ks->end != KATT_END_NONE) {
		spin_unlock_bh(&ks->lock);
		return;
	}
	ks->end = KATT_END_FLUSH;
	ks->end_reset = reset;
	ks->flush_end = jiffies + msecs_to_jiffies(KATT_FLUSH_MS);
	now = list_empty(&ks->txq) || ks->dead ||
	      ks->reason == KTLS_ATTEST_REASON_BYPASS;
	if (!now)
		katt_queue_locked(ks, &ks->tx_work, 0);
	spin_unlock_bh(&ks->lock);

	if (now) {
		katt_txq_drop(ks);
		katt_end_done(ks);
	}
}

static void katt_tx_work(struct work_struct *work)
{
	struct katt_sock *ks = container_of(to_delayed_work(work),
					    struct katt_sock, tx_work);
	struct ktls_attest_frame f;
	bool ending, over;
	struct katt_msg *m;
	u32 frag;
	int ret;

	for (;;) {
		spin_lock_bh(&ks->lock);
		m = ks->dead ? NULL :
		    list_first_entry_or_null(&ks->txq, struct katt_msg, node);
		ending = ks->end != KATT_END_NONE;
		over = ending && time_after_eq(jiffies, ks->flush_end);
		spin_unlock_bh(&ks->lock);
		if (!m || over)
			break;

		frag = min_t(u32, m->len - m->off, KTLS_ATTEST_FRAG_MAX);
		f.version = KTLS_ATTEST_FRAME_VERSION;
		f.flags = (m->off ? 0 : KTLS_ATTEST_FRAME_FIRST) |
			  (m->off + frag == m->len ? KTLS_ATTEST_FRAME_LAST : 0);
		f.frag_len = cpu_to_be16(frag);
		f.msg_len = cpu_to_be32(m->len);

		/* counted before it goes: see katt_sock_check_locked() */
		atomic64_inc(&ks->tx_recs);
		ret = katt_rec_write(ks, (u8 *)&f, m->data + m->off, frag);
		if (ret != (int)(KATT_FRAME_LEN + frag))
			atomic64_dec(&ks->tx_recs);
		if (ret == -EAGAIN || ret == -ENOMEM) {
			/* the send buffer is full, or tls is busy: it took nothing */
			katt_queue_locked(ks, &ks->tx_work,
					  msecs_to_jiffies(KATT_RETRY_MS));
			goto out_put;
		}
		if (ret != (int)(KATT_FRAME_LEN + frag)) {
			/* a partial record would corrupt the stream: never go on */
			katt_gate_protocol_error(ks, "sending an attestation record failed",
						 ret < 0 ? ret : -EIO);
			break;
		}
		m->off += frag;
		if (m->off == m->len)
			katt_tx_done(ks, m);
	}
	/* ended: sent, timed out, or failed; whatever is left is dropped */
	if (ending) {
		katt_txq_drop(ks);
		katt_end_done(ks);
	}
out_put:
	/* the reference katt_sock_queue() took for this run */
	sock_put(ks->sk);
}

/* --- receive ------------------------------------------------------------- */

/*
 * What the kernel reads now.  Held, a socket that takes part in in-band
 * attestation (it has its binding) has every record read by the kernel, in
 * order; one without a binding is gated by verdicts from elsewhere (an
 * operator, an agent out of band) and its records stay in kTLS until then.
 * Attestation records never reach the application either way.
 */
static enum katt_rx_mode katt_rx_mode(struct katt_sock *ks)
{
	enum katt_rx_mode mode;

	spin_lock_bh(&ks->lock);
	if (ks->dead || !ks->has_rx || ks->state == KTLS_ATTEST_STATE_ARMED ||
	    katt_state_terminal(ks->state))
		mode = KATT_RX_NONE;
	else if (!ks->open && ks->has_binding)
		mode = ks->state == KTLS_ATTEST_STATE_PENDING ? KATT_RX_FIRST :
								KATT_RX_ALL;
	else
		mode = KATT_RX_ATTEST;
	spin_unlock_bh(&ks->lock);
	return mode;
}

/* A whole message arrived: it goes to the agent (from rx_work). */
static int katt_rx_msg_done(struct katt_sock *ks, struct katt_msg *m)
{
	bool over = false;
	u32 round;

	if (!katt_gate_peer_message(ks, &round)) {
		kvfree_sensitive(m, struct_size(m, data, m->len));
		return -EKEYREVOKED;
	}
	m->round = round;

	spin_lock_bh(&ks->lock);
	if (ks->ready_bytes + m->len > KATT_READY_MAX_BYTES) {
		over = true;
	} else {
		list_add_tail(&m->node, &ks->ready);
		ks->ready_bytes += m->len;
		katt_queue_locked(ks, &ks->rx_work, 0);
	}
	spin_unlock_bh(&ks->lock);

	if (over) {
		kvfree_sensitive(m, struct_size(m, data, m->len));
		katt_gate_protocol_error(ks, "too many attestation messages wait for the agent", 0);
		return -ENOBUFS;
	}
	return 0;
}

static int katt_rx_bad(struct katt_sock *ks, const char *what)
{
	katt_gate_protocol_error(ks, what, 0);
	return -EPROTO;
}

/*
 * The head record is an attestation record; @peek holds up to its first
 * KATT_FRAME_LEN bytes (@plen).  Check its frame, read it, reassemble.
 * Under rx_mutex.  Returns 0, or an error after failing the socket.
 */
static int katt_rx_frame(struct katt_sock *ks, const u8 *peek, int plen)
{
	struct ktls_attest_frame f;
	struct katt_msg *m = ks->rx_asm;
	u8 hdr[KATT_FRAME_LEN];
	u32 frag_len, msg_len;
	struct kvec iov[2];
	bool eor = false;
	u8 type = 0;
	int ret;

	lockdep_assert_held(&ks->rx_mutex);
	if (plen < (int)KATT_FRAME_LEN)
		return katt_rx_bad(ks, "attestation record shorter than its frame header");
	memcpy(&f, peek, sizeof(f));
	frag_len = be16_to_cpu(f.frag_len);
	msg_len = be32_to_cpu(f.msg_len);

	if (f.version != KTLS_ATTEST_FRAME_VERSION)
		return katt_rx_bad(ks, "attestation frame of an unknown version");
	if (f.flags & ~(KTLS_ATTEST_FRAME_FIRST | KTLS_ATTEST_FRAME_LAST))
		return katt_rx_bad(ks, "attestation frame with unknown flags");
	if (frag_len > KTLS_ATTEST_FRAG_MAX)
		return katt_rx_bad(ks, "attestation fragment too long");
	if (!msg_len || msg_len > KTLS_ATTEST_MSG_MAX)
		return katt_rx_bad(ks, "attestation message too long or empty");

	if (f.flags & KTLS_ATTEST_FRAME_FIRST) {
		if (m)
			return katt_rx_bad(ks, "attestation message begins inside another");
		m = kvmalloc(struct_size(m, data, msg_len), GFP_KERNEL);
		if (!m)
			return katt_rx_bad(ks, "no memory for an attestation message");
		m->len = msg_len;
		m->off = 0;
		ks->rx_asm = m;
	} else if (!m) {
		return katt_rx_bad(ks, "attestation fragment without a first fragment");
	} else if (m->len != msg_len) {
		return katt_rx_bad(ks, "attestation fragments disagree on the message length");
	}
	if (frag_len > m->len - m->off)
		return katt_rx_bad(ks, "attestation message longer than announced");

	iov[0].iov_base = hdr;
	iov[0].iov_len = KATT_FRAME_LEN;
	iov[1].iov_base = m->data + m->off;
	iov[1].iov_len = frag_len;
	ret = katt_rec_read(ks, iov, 2, KATT_FRAME_LEN + frag_len, MSG_DONTWAIT,
			    &type, &eor);
	if (ret < 0) {
		katt_gate_protocol_error(ks, "reading an attestation record failed", ret);
		return ret;
	}
	if (ret != (int)(KATT_FRAME_LEN + frag_len) || !eor ||
	    type != KTLS_ATTEST_RECORD_TYPE || memcmp(hdr, peek, sizeof(hdr)))
		return katt_rx_bad(ks, "attestation record length differs from its frame");

	ks->peer_spoke = true;
	m->off += frag_len;
	if (!(f.flags & KTLS_ATTEST_FRAME_LAST))
		return 0;
	if (m->off != m->len)
		return katt_rx_bad(ks, "attestation message truncated");
	ks->rx_asm = NULL;
	return katt_rx_msg_done(ks, m);
}

/*
 * Held: keep the head record (not an attestation record) for the
 * application.  Under rx_mutex.  Returns 0; -EAGAIN if there was none
 * after all, -ENOBUFS if the queue is full (reading stops); or an error
 * after failing the socket.
 */
static int katt_rx_keep(struct katt_sock *ks)
{
	struct katt_rec *r, *shrunk;
	struct kvec iov;
	u8 type = 0;
	int ret;

	/*
	 * Full: leave the rest in kTLS, and TCP's window pushes back on the
	 * peer.  An attestation message behind it waits for the application
	 * to read after the pass; if the round needs it, its deadline fails
	 * the round closed.
	 */
	if (READ_ONCE(ks->rxq_recs) >= KATT_RXQ_MAX_RECS ||
	    READ_ONCE(ks->rxq_bytes) > KATT_RXQ_MAX_BYTES - KATT_REC_MAX)
		return -ENOBUFS;

	r = kmalloc(struct_size(r, data, KATT_REC_MAX), GFP_KERNEL);
	if (!r)
		return katt_rx_bad(ks, "no memory to keep a record for the application");
	iov.iov_base = r->data;
	iov.iov_len = KATT_REC_MAX;
	ret = katt_rec_read(ks, &iov, 1, KATT_REC_MAX, MSG_DONTWAIT, &type,
			    NULL);
	/* an empty record is kept as one, for the application to read */
	if (ret < 0 || (!ret && !type)) {
		kfree_sensitive(r);
		if (ret == -EAGAIN)
			return ret;
		katt_gate_protocol_error(ks, "reading a record to keep failed",
					 ret ? ret : -EPIPE);
		return ret ? ret : -EPIPE;
	}
	r->type = type;
	r->len = ret;
	r->off = 0;
	shrunk = krealloc(r, struct_size(r, data, ret), GFP_KERNEL);
	if (shrunk)
		r = shrunk;

	/* only this function adds, under rx_mutex: the check above holds */
	spin_lock_bh(&ks->lock);
	list_add_tail(&r->node, &ks->rxq);
	ks->rxq_recs++;
	ks->rxq_bytes += r->len;
	katt_gate_update_open_locked(ks);
	spin_unlock_bh(&ks->lock);
	return 0;
}

/*
 * kTLS hands a pending socket error to the first reader and clears it
 * (sock_error()).  The receive worker is not the application: put the
 * error back for the application's next call, and wake it.  The deadline
 * fails a round that cannot finish.
 */
static void katt_rx_error_back(struct sock *sk, int err)
{
	if (err >= 0 || err == -EAGAIN || err == -EINTR ||
	    err == -ERESTARTSYS || READ_ONCE(sk->sk_err))
		return;
	WRITE_ONCE(sk->sk_err, -err);
	sk_error_report(sk);
}

/* Read what the kernel is to read now.  Under rx_mutex. */
static void katt_rx_pump(struct katt_sock *ks)
{
	u8 hdr[KATT_FRAME_LEN];
	enum katt_rx_mode mode;
	u8 type;
	int ret;

	lockdep_assert_held(&ks->rx_mutex);
	for (;;) {
		mode = katt_rx_mode(ks);
		if (mode == KATT_RX_NONE)
			return;
		/* a socket error is the application's to read, not ours */
		if (READ_ONCE(ks->sk->sk_err))
			return;
		type = 0;
		ret = katt_rec_peek(ks, hdr, MSG_DONTWAIT, &type);
		if (ret == -EAGAIN)
			return;
		if (!ret && !type) {
			if (ks->rx_asm)
				katt_rx_bad(ks, "connection closed inside an attestation message");
			return;
		}
		if (ret < 0) {
			katt_rx_error_back(ks->sk, ret);
			return;
		}
		/* an empty one too: shorter than its frame header */
		if (type == KTLS_ATTEST_RECORD_TYPE)
			ret = katt_rx_frame(ks, hdr, ret);
		else if (mode == KATT_RX_ATTEST)
			return;
		/* an empty data record is data too */
		else if (mode == KATT_RX_FIRST && !ks->peer_spoke &&
			 type == TLS_RECORD_TYPE_DATA)
			ret = katt_rx_bad(ks,
					  "application data before the peer's first attestation message");
		else
			ret = katt_rx_keep(ks);
		if (ret)
			return;
	}
}

/* Hand received messages to the agent, in order.  Only from rx_work. */
static void katt_rx_deliver(struct katt_sock *ks)
{
	struct katt_msg *m;
	int err;

	for (;;) {
		spin_lock_bh(&ks->lock);
		m = list_first_entry_or_null(&ks->ready, struct katt_msg, node);
		spin_unlock_bh(&ks->lock);
		if (!m)
			return;

		err = katt_agent_deliver(ks, m);
		if (err == -EAGAIN) {
			katt_queue_locked(ks, &ks->rx_work,
					  msecs_to_jiffies(KATT_RETRY_MS));
			return;
		}
		if (err) {	/* no agent (yet): offer it again later */
			katt_queue_locked(ks, &ks->rx_work,
					  msecs_to_jiffies(KATT_NOAGENT_RETRY_MS));
			return;
		}

		spin_lock_bh(&ks->lock);
		list_del(&m->node);
		ks->ready_bytes -= m->len;
		spin_unlock_bh(&ks->lock);
		kvfree_sensitive(m, struct_size(m, data, m->len));
	}
}

static void katt_rx_work(struct work_struct *work)
{
	struct katt_sock *ks = container_of(to_delayed_work(work),
					    struct katt_sock, rx_work);

	if (!READ_ONCE(ks->dead)) {
		mutex_lock(&ks->rx_mutex);
		katt_rx_pump(ks);
		mutex_unlock(&ks->rx_mutex);
		katt_rx_deliver(ks);
	}
	/* the reference katt_sock_queue() took for this run */
	sock_put(ks->sk);
}

/* --- the application's reads --------------------------------------------- */

/*
 * Read from the records kept while the socket was held, as kTLS would have
 * returned them: one record type per call, its type in a
 * TLS_GET_RECORD_TYPE cmsg, EIO for a non-data record without cmsg space.
 * Under rx_mutex, ks->rxq not empty.
 */
static int katt_rxq_recv(struct katt_sock *ks, struct msghdr *msg,
			 size_t len, int flags)
{
	bool peek = flags & MSG_PEEK;
	struct katt_rec *r, *tmp;
	size_t copied = 0;
	u8 type;
	int err;

	r = list_first_entry(&ks->rxq, struct katt_rec, node);
	type = r->type;
	err = put_cmsg(msg, SOL_TLS, TLS_GET_RECORD_TYPE, sizeof(type), &type);
	if (type != TLS_RECORD_TYPE_DATA &&
	    (err || (msg->msg_flags & MSG_CTRUNC)))
		return -EIO;

	list_for_each_entry_safe(r, tmp, &ks->rxq, node) {
		size_t chunk = min_t(size_t, r->len - r->off, len - copied);

		if (r->type != type || copied == len)
			break;
		if (copy_to_iter(r->data + r->off, chunk, &msg->msg_iter) != chunk)
			return copied ? copied : -EFAULT;
		copied += chunk;
		if (chunk < r->len - r->off) {
			if (!peek)
				r->off += chunk;
			break;
		}
		msg->msg_flags |= MSG_EOR;
		if (!peek) {
			spin_lock_bh(&ks->lock);
			list_del(&r->node);
			ks->rxq_recs--;
			ks->rxq_bytes -= r->len;
			if (!ks->rxq_recs)
				katt_gate_update_open_locked(ks);
			spin_unlock_bh(&ks->lock);
			kfree_sensitive(r);
		}
		if (type != TLS_RECORD_TYPE_DATA)
			break;
	}
	return copied;
}

/*
 * Take an attestation record at the head out, if there is one.  Returns 1
 * if one was taken, 0 if the head is something else (its type in *type,
 * if given) or the stream ended, or an error (of the peek, as a read would
 * have it, or after failing the socket).  Never waits.
 */
static int katt_take_head_locked(struct katt_sock *ks, u8 *type)
{
	u8 hdr[KATT_FRAME_LEN];
	u8 head = 0;
	int ret;

	ret = katt_rec_peek(ks, hdr, MSG_DONTWAIT, &head);
	if (type)
		*type = head;
	if (ret < 0 || (!ret && !head))
		return ret;
	if (head != KTLS_ATTEST_RECORD_TYPE)
		return 0;
	/* an empty one fails the socket: shorter than its frame header */
	ret = katt_rx_frame(ks, hdr, ret);
	return ret ? ret : 1;
}

/**
 * katt_relay_take_head - take an attestation record out of the stream
 * @ks: socket state
 *
 * For a data path whose kTLS call stopped at a non-data record (recvmsg
 * without cmsg space: EIO; splice_read: EINVAL).
 *
 * Return: 1 if one was taken and the call should be repeated, 0 if the
 * head is not an attestation record, or an error.
 */
int katt_relay_take_head(struct katt_sock *ks)
{
	int ret;

	mutex_lock(&ks->rx_mutex);
	ret = katt_take_head_locked(ks, NULL);
	mutex_unlock(&ks->rx_mutex);
	return ret;
}

/*
 * One non-blocking read of the application with the gate open and nothing
 * kept.  A read with cmsg space could be handed an attestation record by
 * kTLS: it peeks at the head first.  *type: the type of the records read
 * (data unless the read had cmsg space and the head was something else).
 */
static int katt_app_read_locked(struct katt_sock *ks, struct msghdr *msg,
				size_t len, int flags, int *addr_len,
				u8 *type, bool *again)
{
	bool rx = READ_ONCE(ks->has_rx);
	struct katt_table *t;
	int ret;

	*type = TLS_RECORD_TYPE_DATA;
	/* without kTLS receive there are no records: plain TCP answers */
	if (rx && msg->msg_controllen) {
		ret = katt_take_head_locked(ks, type);
		if (ret < 0)
			return ret;
		if (ret) {
			*again = true;
			return 0;
		}
	}
	t = katt_table_of(ks->sk);
	if (!t)
		return -EBUSY;
	ret = t->inner->recvmsg(ks->sk, msg, len, flags, addr_len);
	if (rx && ret == -EIO && katt_take_head_locked(ks, NULL) > 0)
		*again = true;
	return ret;
}

/*
 * One step of an application's read: at most @len bytes (one record's
 * worth), never waiting.  Returns what kTLS (or the kept records) gave,
 * with their type in *type; *again if the gate closed meanwhile or an
 * attestation record was taken out first.
 */
static int katt_recv_step(struct katt_sock *ks, struct msghdr *msg,
			  size_t len, int flags, int *addr_len, u8 *type,
			  bool *again)
{
	int ret = 0;

	/* counted: no key is installed under this call */
	katt_inner_enter(ks);
	if (mutex_lock_interruptible(&ks->rx_mutex)) {
		katt_inner_leave(ks);
		return -ERESTARTSYS;
	}
	if (!katt_gate_recv_may(ks)) {
		*again = true;	/* closed again meanwhile */
	} else if (ks->rxq_recs) {
		*type = list_first_entry(&ks->rxq, struct katt_rec, node)->type;
		ret = katt_rxq_recv(ks, msg, len, flags);
	} else {
		ret = katt_app_read_locked(ks, msg, len, flags | MSG_DONTWAIT,
					   addr_len, type, again);
	}
	mutex_unlock(&ks->rx_mutex);
	katt_inner_leave(ks);
	return ret;
}

/*
 * A peek that wants more than is ready (MSG_WAITALL, SO_RCVLOWAT) peeks
 * again from the start once the socket is woken: the cmsg space and the
 * buffer are given back first.
 */
struct katt_peek_undo {
	void __user *control;
	size_t controllen;
	unsigned int flags;
};

static void katt_peek_save(struct msghdr *msg, struct katt_peek_undo *u)
{
	u->control = msg->msg_control_user;
	u->controllen = msg->msg_controllen;
	u->flags = msg->msg_flags;
}

static void katt_peek_undo(struct msghdr *msg, struct katt_peek_undo *u,
			   int copied)
{
	iov_iter_revert(&msg->msg_iter, copied);
	msg->msg_control_user = u->control;
	msg->msg_controllen = u->controllen;
	msg->msg_flags = u->flags;
}

/**
 * katt_relay_recvmsg - an application's receive that the fast path left
 * @ks: socket state
 * @sk: the socket
 * @msg: the application's msghdr
 * @len: its length
 * @flags: its flags
 * @addr_len: for the inner recvmsg
 *
 * Waits while the gate is closed; then returns the records kept while the
 * socket was held, then reads from kTLS, taking attestation records out.
 *
 * A verdict must stop a read that is under way, and 6.1's kTLS has no hook
 * inside its recvmsg: so the module never lets an application's read wait
 * inside kTLS (it waits here, on the socket's wait queue, and looks at the
 * gate each time it wakes), and gives each inner call at most one
 * record's worth (KATT_REC_MAX bytes), looking at the gate between.  What
 * a read under way when the gate closes can still return is what its
 * inner call in progress copies: at most KATT_REC_MAX bytes.  MSG_WAITALL
 * and SO_RCVLOWAT are honoured as kTLS honours them: data records are
 * read on while the target is not met, or while records are ready; a
 * read with cmsg space goes on only with data records, and puts its cmsg
 * once.
 *
 * Return: bytes read, 0 at end of stream or after shutdown(SHUT_RD), or an
 * error as katt_gate_wait() and kTLS give them.
 */
int katt_relay_recvmsg(struct katt_sock *ks, struct sock *sk,
		       struct msghdr *msg, size_t len, int flags,
		       int *addr_len)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	long timeo = sock_rcvtimeo(sk, flags & MSG_DONTWAIT);
	int target = sock_rcvlowat(sk, flags & MSG_WAITALL, len);
	bool peek = flags & MSG_PEEK;
	struct katt_peek_undo undo;
	bool again, ctrunc;
	int copied = 0;
	u8 type;
	int ret;

	for (;;) {
		size_t step = min_t(size_t, len - copied, KATT_REC_MAX);
		size_t ctl_left = msg->msg_controllen;

		if (!katt_gate_recv_may(ks)) {
			if (copied >= target)
				break;
			ret = katt_gate_wait_recv(ks, &timeo);
			if (ret) {
				ret = ret > 0 ? 0 : ret;
				break;
			}
		}

		again = false;
		type = TLS_RECORD_TYPE_DATA;
		/* a read that goes on puts no second cmsg (kTLS puts one) */
		ctrunc = msg->msg_flags & MSG_CTRUNC;
		if (copied)
			msg->msg_controllen = 0;
		if (peek) {
			katt_peek_save(msg, &undo);
			add_wait_queue(sk_sleep(sk), &wait);
		}
		ret = katt_recv_step(ks, msg, step, flags, addr_len, &type,
				     &again);
		if (copied) {
			msg->msg_controllen = ctl_left;
			if (!ctrunc)
				msg->msg_flags &= ~MSG_CTRUNC;
		}
		if (peek) {
			if (!again && ret > 0 && ret < target && timeo &&
			    type == TLS_RECORD_TYPE_DATA) {
				/* peek again, from the start, once woken */
				katt_peek_undo(msg, &undo, ret);
				timeo = wait_woken(&wait, TASK_INTERRUPTIBLE,
						   timeo);
				again = true;
				if (signal_pending(current)) {
					again = false;
					ret = sock_intr_errno(timeo);
				}
			}
			remove_wait_queue(sk_sleep(sk), &wait);
		}
		if (again)
			continue;
		if (ret == -ERESTARTSYS)
			ret = sock_intr_errno(timeo);
		if (ret > 0) {
			copied += ret;
			if (peek || type != TLS_RECORD_TYPE_DATA ||
			    copied >= len)
				break;
			/* as kTLS: on while short of the target or records are ready */
			if (copied >= target && !katt_gate_recv_ready(ks))
				break;
			continue;
		}
		if (ret == -EAGAIN && timeo && copied < target) {
			/*
			 * Nothing ready: wait here, never inside kTLS.  (Ready
			 * but another reader inside kTLS: that one never waits
			 * there either, so this is short.)
			 */
			ret = katt_gate_wait(ks, KATT_WAIT_DATA, &timeo);
			if (!ret && signal_pending(current))
				ret = sock_intr_errno(timeo);
			if (!ret) {
				cond_resched();
				continue;
			}
		}
		break;
	}
	if (copied)
		return copied;
	/* the read met what failed the socket: it fails with the reason */
	if (ret < 0 && katt_gate_terminal_err(ks))
		ret = katt_gate_terminal_err(ks);
	return ret;
}

/**
 * katt_relay_poll - readiness of an open gate whose flags are not all set
 * @ks: socket state
 *
 * Return: EPOLLIN if records kept for the application wait.
 */
__poll_t katt_relay_poll(struct katt_sock *ks)
{
	return READ_ONCE(ks->rxq_recs) ? EPOLLIN | EPOLLRDNORM : 0;
}
