// SPDX-License-Identifier: GPL-2.0
/*
 * ktls-attest: the gate's state machine, its deadlines and its waits.
 *
 *   ARMED --first kTLS key--> PENDING --pass--> PASSED <-----pass-----+
 *                               |                 |                   |
 *                               |                 +--reattest--> REATTESTING
 *                               | fail, deadline                      |
 *                               v                    fail, deadline   v
 *                             FAILED                              REVOKED
 *
 * and a revoke verdict takes any state that is not terminal to REVOKED; a
 * protocol violation of the peer ends a round like a failing verdict, and
 * an attestation message from the peer on a PASSED socket starts a round.
 * ks->open caches "records may move"; ks->tx_open and ks->rx_open add that
 * no attestation message waits to go out ahead of the application's data
 * and that no record kept for the application waits to be read: those are
 * the data paths' one branch.  All three change only under ks->lock.
 * Every change wakes the socket's wait queue (blocked callers and pollers)
 * and is reported through struct katt_gate_events (main.c wires it to the
 * monitor group, the registered agent and the relay): the state machine
 * does not know who listens.  Calls no other file of the module; its
 * deadline holds a socket reference while pending.
 */

#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <net/sock.h>

#include "ktls_attest.h"

static const struct katt_gate_events *katt_events;

/* Set once at module init, before any socket can be armed. */
void katt_gate_set_events(const struct katt_gate_events *ev)
{
	katt_events = ev;
}

static bool katt_state_open(u8 state, u32 policy_flags)
{
	switch (state) {
	case KTLS_ATTEST_STATE_ARMED:
	case KTLS_ATTEST_STATE_PASSED:
		return true;
	case KTLS_ATTEST_STATE_REATTESTING:
		return !(policy_flags & KTLS_ATTEST_POLICY_FLAGS_HOLD_REATTEST);
	default:
		return false;
	}
}

/**
 * katt_gate_update_open_locked - recompute the data paths' flags
 * @ks: socket state, ks->lock held
 *
 * After a state change, and when the relay's transmit queue or receive
 * queue for the application becomes empty or not.
 */
void katt_gate_update_open_locked(struct katt_sock *ks)
{
	bool open = katt_state_open(ks->state, ks->policy_flags);

	lockdep_assert_held(&ks->lock);
	WRITE_ONCE(ks->open, open);
	/* a direction without its key goes the slow path (katt_inner_enter()) */
	WRITE_ONCE(ks->tx_open, open && ks->has_tx && list_empty(&ks->txq));
	WRITE_ONCE(ks->rx_open, open && ks->has_rx && !ks->rxq_recs);
}

static void katt_set_state_locked(struct katt_sock *ks, u8 state, u8 reason)
{
	lockdep_assert_held(&ks->lock);
	ks->state = state;
	ks->reason = reason;
	katt_gate_update_open_locked(ks);
}

static void katt_round_start_locked(struct katt_sock *ks, u8 state)
{
	lockdep_assert_held(&ks->lock);
	ks->round++;
	ks->timer_round = ks->round;
	ks->reason_text[0] = '\0';
	katt_set_state_locked(ks, state, KTLS_ATTEST_REASON_NONE);
	/* the pending timer holds a socket reference */
	if (!ks->dead)
		sk_reset_timer(ks->sk, &ks->deadline,
			       jiffies + msecs_to_jiffies(ks->timeout_ms));
}

/* Stop the deadline (its socket reference with it).  Under ks->lock. */
static void katt_deadline_stop_locked(struct katt_sock *ks)
{
	lockdep_assert_held(&ks->lock);
	sk_stop_timer(ks->sk, &ks->deadline);
}

/* Wake blocked callers and pollers of @ks's socket. */
void katt_gate_wake(struct katt_sock *ks)
{
	struct socket_wq *wq;

	rcu_read_lock();
	wq = rcu_dereference(ks->sk->sk_wq);
	if (skwq_has_sleeper(wq))
		wake_up_interruptible_poll(&wq->wait, EPOLLIN | EPOLLRDNORM |
					   EPOLLOUT | EPOLLWRNORM | EPOLLERR);
	rcu_read_unlock();
}

/**
 * katt_gate_report_error - set a revoked or failed socket's error
 * @ks: socket state
 *
 * The reason becomes the socket's error (SO_ERROR): a send that passed the
 * gate before the verdict and waits inside kTLS for buffer space is woken
 * by it.  Not a barrier (reading SO_ERROR clears it): the gate's flags
 * are.  Whoever ends the socket (KATT_EV_END) calls this, once the
 * attestation messages queued before the verdict went out, since tls
 * sends nothing while the socket has an error.  Any context but hardirq.
 */
void katt_gate_report_error(struct katt_sock *ks)
{
	struct sock *sk = ks->sk;
	u8 state = READ_ONCE(ks->state);

	if (!katt_state_terminal(state))
		return;
	WRITE_ONCE(sk->sk_err, -katt_state_errno(state));
	sk_error_report(sk);
}

/* After a state change, outside ks->lock. */
static void katt_changed(struct katt_sock *ks, bool round_started, bool reset)
{
	unsigned int what = KATT_EV_STATE;

	katt_gate_wake(ks);
	if (round_started)
		what |= KATT_EV_ROUND;
	if (katt_state_terminal(READ_ONCE(ks->state)))
		what |= KATT_EV_END;
	if (reset)
		what |= KATT_EV_RESET;
	katt_events->changed(ks, what);
}

static bool katt_reset_wanted_locked(struct katt_sock *ks)
{
	return katt_state_terminal(ks->state) &&
	       (ks->policy_flags & KTLS_ATTEST_POLICY_FLAGS_RESET_ON_REVOKE);
}

/* End the round under way closed: a first round fails, a later one revokes. */
static void katt_round_fail_locked(struct katt_sock *ks, u8 reason)
{
	lockdep_assert_held(&ks->lock);
	katt_set_state_locked(ks, ks->state == KTLS_ATTEST_STATE_PENDING ?
			      KTLS_ATTEST_STATE_FAILED :
			      KTLS_ATTEST_STATE_REVOKED, reason);
}

/* Holds the socket reference sk_reset_timer() took for it. */
static void katt_deadline_expired(struct timer_list *t)
{
	struct katt_sock *ks = from_timer(ks, t, deadline);
	struct sock *sk = ks->sk;
	bool reset;

	spin_lock_bh(&ks->lock);
	if (ks->dead || !katt_state_in_round(ks->state) ||
	    ks->timer_round != ks->round) {
		spin_unlock_bh(&ks->lock);
		goto out_put;
	}
	katt_round_fail_locked(ks, KTLS_ATTEST_REASON_TIMEOUT);
	strscpy(ks->reason_text, "no verdict before the round's deadline",
		sizeof(ks->reason_text));
	reset = katt_reset_wanted_locked(ks);
	spin_unlock_bh(&ks->lock);

	katt_changed(ks, false, reset);
out_put:
	sock_put(sk);
}

/**
 * katt_gate_protocol_error - the peer broke the transport protocol
 * @ks: socket state
 * @what: what it did, for the reason text
 * @err: an errno that goes with it, or 0
 *
 * Fails the socket closed: the round under way (or, on a passed socket, the
 * connection) ends as FAILED or REVOKED with reason "protocol".  Process
 * context.
 */
void katt_gate_protocol_error(struct katt_sock *ks, const char *what, int err)
{
	char text[KTLS_ATTEST_REASON_TEXT_MAX];

	if (READ_ONCE(ks->state) == KTLS_ATTEST_STATE_ARMED)
		return;
	if (err)
		snprintf(text, sizeof(text), "%s (error %d)", what, err);
	else
		strscpy(text, what, sizeof(text));
	katt_gate_fail(ks, KTLS_ATTEST_REASON_PROTOCOL, text);
}

/**
 * katt_gate_fail - fail the socket closed
 * @ks: socket state
 * @reason: enum ktls_attest_reason
 * @what: the reason text
 *
 * A socket that has not passed yet (ARMED, PENDING) becomes FAILED, one
 * that has REVOKED.  Nothing on a socket that is already.  Any context
 * but hardirq.
 */
void katt_gate_fail(struct katt_sock *ks, u8 reason, const char *what)
{
	bool reset;

	spin_lock_bh(&ks->lock);
	if (katt_state_terminal(ks->state)) {
		spin_unlock_bh(&ks->lock);
		return;
	}
	if (ks->state == KTLS_ATTEST_STATE_ARMED)
		katt_set_state_locked(ks, KTLS_ATTEST_STATE_FAILED, reason);
	else if (katt_state_in_round(ks->state))
		katt_round_fail_locked(ks, reason);
	else
		katt_set_state_locked(ks, KTLS_ATTEST_STATE_REVOKED, reason);
	strscpy(ks->reason_text, what, sizeof(ks->reason_text));
	katt_deadline_stop_locked(ks);
	reset = katt_reset_wanted_locked(ks);
	spin_unlock_bh(&ks->lock);

	katt_changed(ks, false, reset);
}

/**
 * katt_gate_peer_message - an attestation message arrived from the peer
 * @ks: socket state
 * @round: out: the round it belongs to
 *
 * On a passed socket the peer has started a new round (a re-attestation
 * challenge, say): so does this side, and its agent is told of it before
 * it gets the message.
 *
 * Return: true if the message is to go to the agent, false if the socket
 * is revoked, failed or closing (it is dropped).
 */
bool katt_gate_peer_message(struct katt_sock *ks, u32 *round)
{
	bool started = false, ret = true;

	spin_lock_bh(&ks->lock);
	if (ks->dead || katt_state_terminal(ks->state) ||
	    ks->state == KTLS_ATTEST_STATE_ARMED) {
		ret = false;
	} else if (ks->state == KTLS_ATTEST_STATE_PASSED) {
		katt_round_start_locked(ks, KTLS_ATTEST_STATE_REATTESTING);
		started = true;
	}
	*round = ks->round;
	spin_unlock_bh(&ks->lock);

	if (started)
		katt_changed(ks, true, false);
	return ret;
}

/**
 * katt_round_ready - the agent can be told of the socket's rounds
 * @ks: socket state
 *
 * Both kTLS keys (the agent's messages go out and come in as records) and
 * the binding (what the Evidence is bound to) are in.
 */
bool katt_round_ready(struct katt_sock *ks)
{
	return READ_ONCE(ks->has_tx) && READ_ONCE(ks->has_rx) &&
	       READ_ONCE(ks->has_binding);
}

/**
 * katt_gate_init - the gate of a newly armed socket
 * @ks: its state
 * @parent: the listener's state for an accepted child (inherits role and
 *	policy), or NULL
 */
void katt_gate_init(struct katt_sock *ks, struct katt_sock *parent)
{
	spin_lock_init(&ks->lock);
	timer_setup(&ks->deadline, katt_deadline_expired, 0);
	ks->state = KTLS_ATTEST_STATE_ARMED;
	/* open, but without keys both directions go the slow path */
	ks->open = true;
	ks->armed_time = ktime_get_real_ns();
	if (parent) {
		ks->role = parent->role;
		ks->policy_flags = parent->policy_flags;
		ks->timeout_ms = parent->timeout_ms;
	} else {
		ks->role = KTLS_ATTEST_ROLE_RELYING_PARTY;
		ks->timeout_ms = KTLS_ATTEST_TIMEOUT_MS_DEFAULT;
	}
}

/**
 * katt_gate_keys_coming - a kTLS key is about to be installed
 * @ks: socket state
 *
 * Closes the gate of an ARMED socket before tls installs the key, so that
 * no call of another thread can move data between the key and the state
 * change.  katt_gate_keys_done() follows.
 */
void katt_gate_keys_coming(struct katt_sock *ks)
{
	spin_lock_bh(&ks->lock);
	if (ks->state == KTLS_ATTEST_STATE_ARMED) {
		WRITE_ONCE(ks->open, false);
		WRITE_ONCE(ks->tx_open, false);
		WRITE_ONCE(ks->rx_open, false);
	}
	spin_unlock_bh(&ks->lock);
}

/**
 * katt_gate_keys_done - the key installation of katt_gate_keys_coming() ended
 * @ks: socket state
 * @tx: the socket has its kTLS transmit key now
 * @rx: the socket has its kTLS receive key now
 *
 * The first key makes an ARMED socket PENDING and starts its first round;
 * if no key went in, the handshake may go on.  The agent is told of the
 * round once both keys and the binding are in.
 */
void katt_gate_keys_done(struct katt_sock *ks, bool tx, bool rx)
{
	bool started = false, in_round;

	spin_lock_bh(&ks->lock);
	WRITE_ONCE(ks->has_tx, tx);
	WRITE_ONCE(ks->has_rx, rx);
	if (ks->state == KTLS_ATTEST_STATE_ARMED) {
		if (tx || rx) {
			katt_round_start_locked(ks, KTLS_ATTEST_STATE_PENDING);
			started = true;
		}
	}
	/* a direction with its key now may take the fast path */
	katt_gate_update_open_locked(ks);
	in_round = katt_state_in_round(ks->state);
	spin_unlock_bh(&ks->lock);

	if (started) {
		katt_changed(ks, true, false);
	} else {
		katt_gate_wake(ks);
		/* the second key may complete what the agent needs */
		if (in_round)
			katt_events->changed(ks, KATT_EV_ROUND);
	}
}

/**
 * katt_gate_set_binding - the application gives the connection binding
 * @ks: socket state
 * @b: the binding, checked
 *
 * Return: 0; -EALREADY if the socket has one; -EKEYREVOKED or
 * -EKEYREJECTED on a revoked or failed socket.
 */
int katt_gate_set_binding(struct katt_sock *ks,
			  const struct ktls_attest_binding *b)
{
	bool in_round;
	int err = 0;

	spin_lock_bh(&ks->lock);
	if (katt_state_terminal(ks->state))
		err = katt_state_errno(ks->state);
	else if (ks->has_binding)
		err = -EALREADY;
	if (!err) {
		ks->binding = *b;
		WRITE_ONCE(ks->has_binding, true);
	}
	in_round = katt_state_in_round(ks->state);
	spin_unlock_bh(&ks->lock);

	/* the agent can be told now; records that came before are read */
	if (!err && in_round)
		katt_events->changed(ks, KATT_EV_ROUND);
	return err;
}

/**
 * katt_gate_verdict - apply a verdict
 * @ks: socket state
 * @round: the round the verdict is for (pass and fail only)
 * @verdict: enum ktls_attest_verdict
 * @reason: enum ktls_attest_reason: who gave it
 * @text: free text for people, or NULL
 * @extack: for the error message
 *
 * Return: 0; -EINVAL if no round is under way (pass, fail); -ESTALE if
 * @round is not the current round; -EALREADY if the socket is already
 * revoked or failed (revoke); -ENOENT if the socket is closing.
 */
int katt_gate_verdict(struct katt_sock *ks, u32 round, u32 verdict,
		      u8 reason, const char *text,
		      struct netlink_ext_ack *extack)
{
	bool reset;
	int err;
	u8 state;

	spin_lock_bh(&ks->lock);
	err = -ENOENT;
	if (ks->dead) {
		NL_SET_ERR_MSG(extack, "socket is closing");
		goto out_unlock;
	}

	if (verdict == KTLS_ATTEST_VERDICT_REVOKE) {
		err = -EALREADY;
		if (katt_state_terminal(ks->state)) {
			NL_SET_ERR_MSG(extack, "socket is already revoked or failed");
			goto out_unlock;
		}
		state = KTLS_ATTEST_STATE_REVOKED;
	} else {
		err = -EINVAL;
		if (!katt_state_in_round(ks->state)) {
			NL_SET_ERR_MSG(extack, "no attestation round is under way on this socket");
			goto out_unlock;
		}
		err = -ESTALE;
		if (round != ks->round) {
			NL_SET_ERR_MSG(extack, "verdict is not for the socket's current round");
			goto out_unlock;
		}
		if (verdict == KTLS_ATTEST_VERDICT_PASS)
			state = KTLS_ATTEST_STATE_PASSED;
		else if (ks->state == KTLS_ATTEST_STATE_PENDING)
			state = KTLS_ATTEST_STATE_FAILED;
		else
			state = KTLS_ATTEST_STATE_REVOKED;
	}

	katt_set_state_locked(ks, state, reason);
	if (state == KTLS_ATTEST_STATE_PASSED)
		ks->pass_time = ktime_get_real_ns();
	strscpy(ks->reason_text, text ? text : "", sizeof(ks->reason_text));
	katt_deadline_stop_locked(ks);
	reset = katt_reset_wanted_locked(ks);
	spin_unlock_bh(&ks->lock);

	katt_changed(ks, false, reset);
	return 0;

out_unlock:
	spin_unlock_bh(&ks->lock);
	return err;
}

/**
 * katt_gate_reattest - start a new round on a passed socket
 * @ks: socket state
 * @extack: for the error message, or NULL
 *
 * A round already under way is joined, not restarted.
 *
 * Return: 0; -EINVAL before the first kTLS key; -EKEYREVOKED or
 * -EKEYREJECTED on a revoked or failed socket.
 */
int katt_gate_reattest(struct katt_sock *ks, struct netlink_ext_ack *extack)
{
	bool started = false;
	int err = 0;

	spin_lock_bh(&ks->lock);
	if (ks->dead) {
		spin_unlock_bh(&ks->lock);
		NL_SET_ERR_MSG(extack, "socket is closing");
		return -ENOENT;
	}
	switch (ks->state) {
	case KTLS_ATTEST_STATE_PASSED:
		katt_round_start_locked(ks, KTLS_ATTEST_STATE_REATTESTING);
		started = true;
		break;
	case KTLS_ATTEST_STATE_ARMED:
		NL_SET_ERR_MSG(extack, "socket has no kTLS key yet");
		err = -EINVAL;
		break;
	case KTLS_ATTEST_STATE_PENDING:
	case KTLS_ATTEST_STATE_REATTESTING:
		break;
	default:
		NL_SET_ERR_MSG(extack, "socket is revoked or failed");
		err = katt_state_errno(ks->state);
		break;
	}
	spin_unlock_bh(&ks->lock);

	if (started)
		katt_changed(ks, true, false);
	return err;
}

/**
 * katt_gate_shutdown - the application shuts the socket down
 * @ks: socket state
 * @how: SHUT_RD, SHUT_WR or SHUT_RDWR
 *
 * Ends waits in the gate (inet_shutdown() wakes them, so the mark goes
 * first: a poller woken then must see it): a held receive returns 0, a
 * held send fails with EPIPE.
 *
 * Return: the marks before, for katt_gate_shutdown_undo().
 */
u8 katt_gate_shutdown(struct katt_sock *ks, int how)
{
	u8 old;

	spin_lock_bh(&ks->lock);
	old = ks->local_shutdown;
	if (how >= SHUT_RD && how <= SHUT_RDWR)
		ks->local_shutdown |= how + 1;
	spin_unlock_bh(&ks->lock);
	return old;
}

/* inet_shutdown() refused (not connected): the marks are as they were. */
void katt_gate_shutdown_undo(struct katt_sock *ks, u8 old)
{
	spin_lock_bh(&ks->lock);
	ks->local_shutdown = old;
	spin_unlock_bh(&ks->lock);
}

/*
 * Something for a receive to read: a record (kTLS), or bytes (plain TCP),
 * or records kept for the application; or the end of the stream or an
 * error, which the read reports.  Without locks, as poll looks.
 */
bool katt_gate_recv_ready(struct katt_sock *ks)
{
	struct sock *sk = ks->sk;

	if (READ_ONCE(ks->rxq_recs) || READ_ONCE(sk->sk_err) ||
	    (READ_ONCE(sk->sk_shutdown) & RCV_SHUTDOWN) ||
	    sock_flag(sk, SOCK_DONE))
		return true;
	return READ_ONCE(ks->has_rx) ? sk_is_readable(sk) :
	       !skb_queue_empty_lockless(&sk->sk_receive_queue);
}

/* > 0: wait on; 0: go on; < 0: fail with that */
static int katt_gate_check(struct katt_sock *ks, enum katt_wait_for what)
{
	struct sock *sk = ks->sk;
	u8 state = READ_ONCE(ks->state);

	if (katt_state_terminal(state))
		return katt_state_errno(state);
	if (what == KATT_WAIT_DATA) {
		/* the caller looks at the gate again first */
		if (!katt_gate_recv_may(ks) || katt_gate_recv_ready(ks))
			return 0;
	} else if (what != KATT_WAIT_ROUND && READ_ONCE(ks->installing)) {
		/* the module installs tls or a key: wait for it */
	} else if (what == KATT_WAIT_ROUND) {
		if (!katt_state_in_round(state))
			return 0;
	} else if (what == KATT_WAIT_SEND ? katt_gate_send_may(ks) :
		   READ_ONCE(ks->open)) {
		/* a receive then reads what the gate kept first */
		return 0;
	}
	if (READ_ONCE(sk->sk_err))
		return sock_error(sk);
	if (what == KATT_WAIT_SEND &&
	    (READ_ONCE(sk->sk_shutdown) & SEND_SHUTDOWN))
		return -EPIPE;
	if (what == KATT_WAIT_RECV &&
	    (READ_ONCE(ks->local_shutdown) & KATT_SHUT_RD))
		return -ESHUTDOWN;
	return 1;
}

/**
 * katt_gate_wait - wait until the gate opens, the round ends, or data comes
 * @ks: socket state
 * @what: a send, a receive, the end of the current round, or (an open
 *	receive that found nothing ready) something to read or a change of
 *	the gate
 * @timeo: in: how long (0: do not wait); out: what is left
 *
 * Interruptible.  Wakes on every state change, on shutdown() and on socket
 * errors.  Whoever waited must look the socket's inner proto up again
 * afterwards: keys may have been installed meanwhile.
 *
 * Return: 0 when the gate is open (for %KATT_WAIT_ROUND: the round ended
 * with a pass; for %KATT_WAIT_DATA: something to read, or the gate
 * closed); -EKEYREVOKED, -EKEYREJECTED; -EAGAIN when @timeo runs out;
 * -EINTR or -ERESTARTSYS on a signal; -EPIPE (send) or -ESHUTDOWN (receive)
 * after shutdown(); a pending socket error.
 */
int katt_gate_wait(struct katt_sock *ks, enum katt_wait_for what, long *timeo)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	struct sock *sk = ks->sk;
	int ret;

	add_wait_queue(sk_sleep(sk), &wait);
	for (;;) {
		ret = katt_gate_check(ks, what);
		if (ret <= 0)
			break;
		if (!*timeo) {
			ret = -EAGAIN;
			break;
		}
		if (signal_pending(current)) {
			ret = sock_intr_errno(*timeo);
			break;
		}
		*timeo = wait_woken(&wait, TASK_INTERRUPTIBLE, *timeo);
	}
	remove_wait_queue(sk_sleep(sk), &wait);
	return ret;
}

/**
 * katt_gate_wait_recv - a receive waits for the gate to open
 * @ks: socket state
 * @timeo: as for katt_gate_wait()
 *
 * Counts the held call.  Return: 0 when open; 1 if the receive is to
 * return 0 (shut down for reading); an error as katt_gate_wait() gives.
 */
int katt_gate_wait_recv(struct katt_sock *ks, long *timeo)
{
	int err;

	atomic64_inc(&ks->rx_held);
	err = katt_gate_wait(ks, KATT_WAIT_RECV, timeo);
	return err == -ESHUTDOWN ? 1 : err;
}

/**
 * katt_gate_teardown - the socket is closing (process context)
 * @ks: socket state
 *
 * No timer is armed after this and none runs any more.
 */
void katt_gate_teardown(struct katt_sock *ks)
{
	spin_lock_bh(&ks->lock);
	WRITE_ONCE(ks->dead, true);
	spin_unlock_bh(&ks->lock);
	sk_stop_timer_sync(ks->sk, &ks->deadline);
}

void katt_gate_fill_status(struct katt_sock *ks, struct ktls_attest_status *st)
{
	memset(st, 0, sizeof(*st));
	spin_lock_bh(&ks->lock);
	st->state = ks->state;
	st->role = ks->role;
	st->reason = ks->reason;
	st->round = ks->round;
	st->pass_time_ns = ks->pass_time;
	strscpy(st->reason_text, ks->reason_text, sizeof(st->reason_text));
	spin_unlock_bh(&ks->lock);
	st->cookie = ks->cookie;
}
