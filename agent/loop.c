// SPDX-License-Identifier: GPL-2.0
/*
 * loop.c: the event loop of ktls-attestd.
 *
 * Threading and event model
 * -------------------------
 * Two threads.  The main thread runs this loop and does everything but the
 * TPM: netlink, the protocol state of every socket (session.c), the
 * relying party's appraisal (OpenSSL signature checks: well under a
 * millisecond), signals, timers.  The TPM worker (tpmworker.c) owns the
 * TPM and does nothing else: it answers Challenges with quotes, one at a
 * time, in the order they came.  Nothing is shared between the two but
 * the worker's two queues (a job holds a copy of the Challenge and of the
 * binding; a result is bytes to send).  A slow TPM (50-200 ms a quote on
 * hardware, more when 100 connections start at once) therefore delays only
 * the rounds waiting for a quote; every other round, and the netlink
 * socket, are served meanwhile.
 *
 * The loop waits in io_uring (liburing) for one of four file descriptors:
 *
 *   netlink socket   round-start, msg-recv, state-change (agent_nl.c);
 *   signalfd         SIGHUP: reload the policy (rounds under way keep the
 *                    one they started with); SIGTERM, SIGINT: unregister
 *                    and stop (rounds under way are left to the kernel's
 *                    deadline);
 *   eventfd          the TPM worker has results;
 *   timerfd          retries of msg-send refused with ENOBUFS (the
 *                    kernel's 64 KiB of unsent messages per socket), and
 *                    every second the expiry of sessions whose round the
 *                    kernel has ended by its deadline without telling
 *                    (a socket that closed mid-round).
 *
 * Each is a one-shot poll, armed again once its work is done, so a
 * completion means "readable now" and the loop reads until EAGAIN.
 *
 * Requests to the kernel (msg-send, sock-verdict) are synchronous on the
 * one netlink socket: generic netlink runs them in the sender's sendmsg()
 * and queues the ack before it returns, so there is nothing to wait for;
 * events that arrive in between are queued by agent_nl.c in order and
 * handled after.
 *
 * Each session's actions run in order (session.h): a message is sent, and
 * only once msg-send returned does the next action (often the local
 * verdict) run.  So an RP's pass never precedes its Verdict on the wire,
 * and a Verdict refused with ENOBUFS is retried from the timer, not lost.
 *
 * The parser of remote input (katt_msg_decode(), the appraisal's decode of
 * the tpm2-quote) is a pure function on bytes, called from session.c only,
 * so that it can move into an unprivileged process later (DESIGN section 7,
 * OpenSSH's privsep): the session would send it bytes and get decoded
 * messages back.
 *
 * Owns: the ring, the timerfd, the sessions (a hash by cookie), the policy
 * in force.  Calls: liburing, agent_nl, session, tpmworker, config, log.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <liburing.h>

#include <linux/ktls_attest.h>
#include <linux/ktls_attest_netlink.h>

#include "log.h"
#include "loop.h"
#include "session.h"

#define SESS_BUCKETS	1024
/* a session outlives its round's deadline by this much */
#define SESS_GRACE_MS	2000
#define SWEEP_MS	1000
#define RETRY_MS	20
#define RETRY_MAX_MS	200

enum {
	EV_NL = 1,
	EV_SIGNAL,
	EV_WORKER,
	EV_TIMER,
};

struct katt_loop {
	struct io_uring ring;
	struct katt_agent_nl *nl;
	struct katt_tpmworker *worker;
	int sfd, tfd;
	struct katt_sess_ctx ctx;
	struct katt_policy_ref *pol;
	const char *policy_path;
	struct katt_session *sess[SESS_BUCKETS];
	unsigned int nsess;
	bool retry_armed;
	bool stop;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

/* --- sessions --------------------------------------------------------------- */

static struct katt_session **bucket(struct katt_loop *l, uint64_t cookie)
{
	return &l->sess[(cookie * 0x9e3779b97f4a7c15ULL) >> 54];
}

static struct katt_session *find(struct katt_loop *l, uint64_t cookie)
{
	struct katt_session *s;

	for (s = *bucket(l, cookie); s; s = s->next)
		if (s->ri.cookie == cookie)
			return s;
	return NULL;
}

static void drop(struct katt_loop *l, struct katt_session *s)
{
	struct katt_session **pp;

	for (pp = bucket(l, s->ri.cookie); *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	katt_session_end(s, &l->ctx);
	free(s);
	l->nsess--;
}

static void arm_timer(struct katt_loop *l, unsigned int ms)
{
	struct itimerspec its = {
		.it_value = { ms / 1000, (ms % 1000) * 1000000L },
		.it_interval = { SWEEP_MS / 1000, (SWEEP_MS % 1000) * 1000000L },
	};

	if (timerfd_settime(l->tfd, 0, &its, NULL))
		katt_err("timerfd: %s", strerror(errno));
}

/* Carries out @s's actions until it waits; drops it when it is done. */
static void run(struct katt_loop *l, struct katt_session *s)
{
	struct katt_action *a;
	int err;

	while ((a = katt_session_action(s))) {
		switch (a->kind) {
		case KATT_ACT_SEND:
			err = katt_agent_nl_msg_send(l->nl, s->ri.cookie,
						     a->msg, a->len);
			if (err == -ENOBUFS) {
				katt_debug("cookie %#" PRIx64 " round %u: msg-send of a %s: ENOBUFS, retried",
					   s->ri.cookie, s->ri.round,
					   katt_msg_type_name(a->msg_type));
				if (!l->retry_armed) {
					unsigned int ms = RETRY_MS * (s->retries + 1);

					arm_timer(l, ms < RETRY_MAX_MS ? ms :
						  RETRY_MAX_MS);
					l->retry_armed = true;
				}
			} else if (err) {
				katt_info("cookie %#" PRIx64 " round %u: msg-send of a %s: %s%s%s",
					  s->ri.cookie, s->ri.round,
					  katt_msg_type_name(a->msg_type),
					  strerror(-err),
					  katt_agent_nl_extack(l->nl)[0] ? ": " : "",
					  katt_agent_nl_extack(l->nl));
			} else {
				katt_debug("cookie %#" PRIx64 " round %u: %s of %zu bytes sent",
					   s->ri.cookie, s->ri.round,
					   katt_msg_type_name(a->msg_type),
					   a->len);
			}
			katt_session_done(s, &l->ctx, err);
			break;
		case KATT_ACT_QUOTE:
			katt_tpmworker_submit(l->worker, a->job);
			a->job = NULL;
			katt_session_done(s, &l->ctx, 0);
			break;
		case KATT_ACT_VERDICT:
			err = katt_agent_nl_verdict(l->nl, s->ri.cookie,
						    s->ri.round, a->pass,
						    a->text);
			if (a->pass)
				katt_notice("cookie %#" PRIx64 " round %u: pass (%s)",
					    s->ri.cookie, s->ri.round, a->log);
			else
				katt_notice("cookie %#" PRIx64 " round %u: fail: %s",
					    s->ri.cookie, s->ri.round, a->log);
			if (err)
				katt_warn("cookie %#" PRIx64 " round %u: sock-verdict: %s%s%s",
					  s->ri.cookie, s->ri.round,
					  strerror(-err),
					  katt_agent_nl_extack(l->nl)[0] ? ": " : "",
					  katt_agent_nl_extack(l->nl));
			katt_session_done(s, &l->ctx, err);
			break;
		}
	}
	if (katt_session_finished(s))
		drop(l, s);
}

/* --- kernel events ----------------------------------------------------------- */

static void on_round_start(struct katt_loop *l, struct katt_nl_ev *ev)
{
	struct katt_round_info ri = {
		.cookie = ev->cookie,
		.round = ev->round,
		.role = ev->role,
		.state = ev->state,
		.binding_flags = ev->binding_flags,
	};
	struct katt_session *s = find(l, ev->cookie);

	if (s && s->ri.round == ev->round) {
		katt_debug("cookie %#" PRIx64 " round %u: round-start again, ignored",
			   ev->cookie, ev->round);
		return;
	}
	if (s) {
		katt_info("cookie %#" PRIx64 ": round %u ended without this agent's verdict, round %u starts",
			  ev->cookie, s->ri.round, ev->round);
		drop(l, s);
	}
	if (!ev->has_binding || !ev->round) {
		katt_err("cookie %#" PRIx64 ": round-start without %s, ignored",
			 ev->cookie, ev->round ? "binding" : "round");
		return;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		katt_err("cookie %#" PRIx64 " round %u: out of memory, the round will time out",
			 ev->cookie, ev->round);
		return;
	}
	ri.binding = ev->binding;
	katt_session_start(s, &l->ctx, &ri, l->pol);
	katt_binding_wipe(&ri.binding);
	s->expires_ms = now_ms() + (ev->timeout_ms ? ev->timeout_ms :
				    KTLS_ATTEST_TIMEOUT_MS_DEFAULT) +
			SESS_GRACE_MS;
	s->next = *bucket(l, ev->cookie);
	*bucket(l, ev->cookie) = s;
	l->nsess++;
	run(l, s);
}

static void on_msg_recv(struct katt_loop *l, struct katt_nl_ev *ev)
{
	struct katt_session *s = find(l, ev->cookie);

	if (!s || s->ri.round != ev->round) {
		katt_info("cookie %#" PRIx64 " round %u: a message for no round under way here, ignored",
			  ev->cookie, ev->round);
		return;
	}
	if (ev->bad[0])
		katt_session_abort(s, &l->ctx, ev->bad);
	else
		katt_session_recv(s, &l->ctx, ev->msg, ev->msg_len);
	run(l, s);
}

static void on_state_change(struct katt_loop *l, struct katt_nl_ev *ev)
{
	struct katt_session *s = find(l, ev->cookie);

	if (!s || ev->round < s->ri.round)
		return;
	if (ev->state == KTLS_ATTEST_STATE_PENDING ||
	    ev->state == KTLS_ATTEST_STATE_REATTESTING)
		return;
	/* the round is over (a verdict from elsewhere, the deadline, ...) */
	katt_info("cookie %#" PRIx64 " round %u: ended by the kernel (state %u, reason %u)",
		  ev->cookie, ev->round, ev->state, ev->reason);
	drop(l, s);
}

static void handle_events(struct katt_loop *l)
{
	struct katt_nl_ev ev;

	while (katt_agent_nl_next(l->nl, &ev)) {
		if (ev.bad[0] && ev.cmd != KTLS_ATTEST_CMD_MSG_RECV) {
			katt_err("netlink: an event (command %u) refused: %s",
				 ev.cmd, ev.bad);
		} else {
			switch (ev.cmd) {
			case KTLS_ATTEST_CMD_ROUND_START:
				on_round_start(l, &ev);
				break;
			case KTLS_ATTEST_CMD_MSG_RECV:
				on_msg_recv(l, &ev);
				break;
			case KTLS_ATTEST_CMD_STATE_CHANGE:
				on_state_change(l, &ev);
				break;
			}
		}
		katt_nl_ev_release(&ev);
	}
}

static int on_netlink(struct katt_loop *l)
{
	int ret = katt_agent_nl_recv(l->nl);

	if (ret == -ENOBUFS)
		katt_warn("netlink: the kernel dropped events (state changes, or an ack); rounds they concern end at their deadline");
	else if (ret)
		return ret;
	handle_events(l);
	return 0;
}

/* --- the TPM worker, signals, timer ----------------------------------------- */

static void on_worker(struct katt_loop *l)
{
	struct katt_quote_result *r, *list = katt_tpmworker_results(l->worker);
	struct katt_session *s;

	for (r = list; r; r = r->next) {
		s = find(l, r->cookie);
		if (!s || s->ri.round != r->round) {
			katt_debug("cookie %#" PRIx64 " round %u: a quote for a round that ended",
				   r->cookie, r->round);
			continue;
		}
		katt_session_quoted(s, &l->ctx, r->id, r->msg, r->len, r->type);
		run(l, s);
	}
	katt_quote_result_free(list);
	/* requests may have queued events meanwhile */
	handle_events(l);
}

static void reload(struct katt_loop *l)
{
	struct katt_policy_ref *ref;
	struct katt_policy *p;
	int ret;

	ret = katt_policy_load(l->policy_path, &p);
	if (ret) {
		katt_err("policy %s not reloaded (%s): the one in force stays",
			 l->policy_path, strerror(-ret));
		return;
	}
	ref = katt_policy_ref_new(p, katt_policy_free);
	if (!ref) {
		katt_policy_free(p);
		katt_err("policy %s not reloaded: out of memory",
			 l->policy_path);
		return;
	}
	katt_policy_ref_put(l->pol);
	l->pol = ref;
	katt_notice("policy %s reloaded; new rounds use it", l->policy_path);
}

static void on_signal(struct katt_loop *l)
{
	struct signalfd_siginfo si;

	while (read(l->sfd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGHUP:
			reload(l);
			break;
		case SIGTERM:
		case SIGINT:
			katt_notice("signal %u: stopping", si.ssi_signo);
			l->stop = true;
			break;
		}
	}
}

static void on_timer(struct katt_loop *l)
{
	uint64_t now = now_ms(), ticks;
	struct katt_session *s, *next;
	unsigned int i;

	if (read(l->tfd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		katt_err("timerfd: %s", strerror(errno));
	l->retry_armed = false;
	for (i = 0; i < SESS_BUCKETS; i++) {
		for (s = l->sess[i]; s; s = next) {
			next = s->next;
			if (s->expires_ms <= now) {
				katt_info("cookie %#" PRIx64 " round %u: past its deadline, dropped",
					  s->ri.cookie, s->ri.round);
				drop(l, s);
				continue;
			}
			if (s->blocked) {
				katt_session_retry(s);
				run(l, s);
			}
		}
	}
	handle_events(l);
}

/* --- the loop ------------------------------------------------------------------ */

int katt_loop_signals(void)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int arm_poll(struct katt_loop *l, int fd, uint64_t what)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&l->ring);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_poll_add(sqe, fd, POLLIN);
	io_uring_sqe_set_data64(sqe, what);
	return 0;
}

int katt_loop_new(const struct katt_loop_args *args, struct katt_loop **out)
{
	struct katt_loop *l;
	int ret;

	*out = NULL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->nl = args->nl;
	l->worker = args->worker;
	l->sfd = args->sfd;
	l->ctx.clocks = args->clocks;
	l->policy_path = args->policy_path;
	l->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (l->tfd < 0) {
		ret = -errno;
		katt_err("timerfd: %s", strerror(-ret));
		goto out_free;
	}
	ret = io_uring_queue_init(8, &l->ring, 0);
	if (ret) {
		katt_err("io_uring: %s", strerror(-ret));
		goto out_close;
	}
	l->pol = katt_policy_ref_new(args->policy, katt_policy_free);
	if (!l->pol) {
		ret = -ENOMEM;
		goto out_ring;
	}
	*out = l;
	return 0;

out_ring:
	io_uring_queue_exit(&l->ring);
out_close:
	close(l->tfd);
out_free:
	free(l);
	return ret;
}

int katt_loop_run(struct katt_loop *l)
{
	static const struct {
		uint64_t what;
		const char *name;
	} evs[] = {
		{ EV_NL, "netlink" }, { EV_SIGNAL, "signalfd" },
		{ EV_WORKER, "eventfd" }, { EV_TIMER, "timerfd" },
	};
	struct io_uring_cqe *cqe;
	unsigned int i;
	int ret = 0;

	arm_timer(l, SWEEP_MS);
	for (i = 0; i < 4; i++) {
		int fd = evs[i].what == EV_NL ? katt_agent_nl_fd(l->nl) :
			 evs[i].what == EV_SIGNAL ? l->sfd :
			 evs[i].what == EV_WORKER ?
			 katt_tpmworker_fd(l->worker) : l->tfd;

		arm_poll(l, fd, evs[i].what);
	}
	/* events read while the agent registered */
	handle_events(l);

	while (!l->stop) {
		uint64_t what;
		int res;

		ret = io_uring_submit_and_wait(&l->ring, 1);
		if (ret == -EINTR)
			continue;
		if (ret < 0) {
			katt_err("io_uring: %s", strerror(-ret));
			return ret;
		}
		ret = io_uring_peek_cqe(&l->ring, &cqe);
		if (ret)
			continue;
		what = io_uring_cqe_get_data64(cqe);
		res = cqe->res;
		io_uring_cqe_seen(&l->ring, cqe);
		if (res < 0) {
			katt_err("io_uring: poll of the %s: %s",
				 evs[what - 1].name, strerror(-res));
			return res;
		}
		switch (what) {
		case EV_NL:
			ret = on_netlink(l);
			if (ret) {
				katt_err("netlink: %s", strerror(-ret));
				return ret;
			}
			arm_poll(l, katt_agent_nl_fd(l->nl), EV_NL);
			break;
		case EV_SIGNAL:
			on_signal(l);
			arm_poll(l, l->sfd, EV_SIGNAL);
			break;
		case EV_WORKER:
			on_worker(l);
			arm_poll(l, katt_tpmworker_fd(l->worker), EV_WORKER);
			break;
		case EV_TIMER:
			on_timer(l);
			arm_poll(l, l->tfd, EV_TIMER);
			break;
		}
	}
	return 0;
}

void katt_loop_free(struct katt_loop *l)
{
	unsigned int i;

	if (!l)
		return;
	for (i = 0; i < SESS_BUCKETS; i++)
		while (l->sess[i])
			drop(l, l->sess[i]);
	katt_policy_ref_put(l->pol);
	io_uring_queue_exit(&l->ring);
	close(l->tfd);
	free(l);
}
