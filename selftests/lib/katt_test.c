// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers of the gate selftests. See katt_test.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <net/if.h>

#include <linux/sockios.h>
#include <linux/tcp.h>

#include "katt_test.h"

#ifndef SO_COOKIE
#define SO_COOKIE	57
#endif

static const char *const path_names[KP_NR] = {
	[KP_SEND] = "send",
	[KP_SENDTO] = "sendto",
	[KP_SENDMSG] = "sendmsg",
	[KP_SENDFILE] = "sendfile",
	[KP_SPLICE_IN] = "splice-in",
	[KP_RECV] = "recv",
	[KP_RECVFROM] = "recvfrom",
	[KP_RECVMSG] = "recvmsg",
	[KP_PEEK] = "recv-peek",
	[KP_WAITALL] = "recv-waitall",
	[KP_SPLICE_OUT] = "splice-out",
	[KP_POLL] = "poll",
	[KP_SELECT] = "select",
	[KP_EPOLL] = "epoll",
	[KP_REATTEST] = "reattest",
};

const char *katt_path_name(enum katt_path p)
{
	return p < KP_NR ? path_names[p] : "?";
}

bool katt_path_is_send(enum katt_path p)
{
	return p <= KP_SPLICE_IN;
}

bool katt_path_is_recv(enum katt_path p)
{
	return p >= KP_RECV && p <= KP_SPLICE_OUT;
}

bool katt_path_is_poll(enum katt_path p)
{
	return p >= KP_POLL && p <= KP_EPOLL;
}

bool katt_path_has_flags(enum katt_path p)
{
	switch (p) {
	case KP_SEND:
	case KP_SENDTO:
	case KP_SENDMSG:
	case KP_RECV:
	case KP_RECVFROM:
	case KP_RECVMSG:
	case KP_PEEK:
	case KP_WAITALL:
		return true;
	default:
		return false;
	}
}

int katt_set_nonblock(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -errno;
	fl = on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK;
	return fcntl(fd, F_SETFL, fl) ? -errno : 0;
}

/* --- the paths ------------------------------------------------------------ */

static ssize_t send_paths(enum katt_path p, int fd, const char *buf,
			  size_t len, int flags)
{
	size_t done = 0;
	ssize_t n;

	flags |= MSG_NOSIGNAL;
	while (done < len) {
		size_t left = len - done;

		if (p == KP_SEND) {
			n = send(fd, buf + done, left, flags);
		} else if (p == KP_SENDTO) {
			n = sendto(fd, buf + done, left, flags, NULL, 0);
		} else {
			/* two pieces: the record spans iovecs */
			struct iovec iov[2] = {
				{ (void *)(buf + done), left / 2 },
				{ (void *)(buf + done + left / 2),
				  left - left / 2 },
			};
			struct msghdr msg = {
				.msg_iov = iov,
				.msg_iovlen = 2,
			};

			n = sendmsg(fd, &msg, flags);
		}
		if (n < 0)
			return done ? (ssize_t)done : -errno;
		done += n;
	}
	return done;
}

static ssize_t sendfile_path(int fd, const char *buf, size_t len)
{
	off_t off = 0;
	ssize_t n;
	int mfd;

	mfd = memfd_create("katt-sendfile", 0);
	if (mfd < 0)
		return -errno;
	if (pwrite(mfd, buf, len, 0) != (ssize_t)len) {
		close(mfd);
		return -EIO;
	}
	while ((size_t)off < len) {
		n = sendfile(fd, mfd, &off, len - off);
		if (n < 0) {
			n = -errno;
			close(mfd);
			return off ? off : n;
		}
		if (!n)
			break;
	}
	close(mfd);
	return off;
}

static ssize_t splice_in_path(int fd, const char *buf, size_t len)
{
	size_t done = 0;
	ssize_t n;
	int p[2];

	if (pipe(p))
		return -errno;
	if (len > 65536 || write(p[1], buf, len) != (ssize_t)len) {
		n = -EMSGSIZE;
		goto out;
	}
	while (done < len) {
		n = splice(p[0], NULL, fd, NULL, len - done, 0);
		if (n < 0) {
			n = done ? (ssize_t)done : -errno;
			goto out;
		}
		if (!n)
			break;
		done += n;
	}
	n = done;
out:
	close(p[0]);
	close(p[1]);
	return n;
}

/* Application data only: a recvmsg that returns another type fails. */
static ssize_t recvmsg_once(int fd, char *buf, size_t len, int flags)
{
	char cbuf[CMSG_SPACE(sizeof(unsigned char))];
	struct iovec iov[2] = {
		{ buf, len / 2 },
		{ buf + len / 2, len - len / 2 },
	};
	struct msghdr msg = {
		.msg_iov = iov,
		.msg_iovlen = 2,
		.msg_control = cbuf,
		.msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cmsg;
	ssize_t n;

	memset(cbuf, 0, sizeof(cbuf));
	n = recvmsg(fd, &msg, flags);
	if (n <= 0)
		return n < 0 ? -errno : 0;
	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg))
		if (cmsg->cmsg_level == SOL_TLS &&
		    cmsg->cmsg_type == TLS_GET_RECORD_TYPE &&
		    *CMSG_DATA(cmsg) != TLS_RECORD_TYPE_DATA)
			return -EPROTO;
	return n;
}

static ssize_t recv_paths(enum katt_path p, int fd, char *buf, size_t len,
			  int flags)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	size_t done = 0;
	ssize_t n;

	if (p == KP_PEEK)
		n = recv(fd, buf, len, flags | MSG_PEEK);
	else if (p == KP_WAITALL)
		n = recv(fd, buf, len, flags | MSG_WAITALL);
	else
		n = -2;
	if (n != -2)
		return n < 0 ? -errno : n;

	while (done < len) {
		if (p == KP_RECV) {
			n = recv(fd, buf + done, len - done, flags);
		} else if (p == KP_RECVFROM) {
			sl = sizeof(ss);
			n = recvfrom(fd, buf + done, len - done, flags,
				     (struct sockaddr *)&ss, &sl);
		} else {
			n = recvmsg_once(fd, buf + done, len - done, flags);
			if (n < 0) {
				errno = -n;
				n = -1;
			}
		}
		if (n < 0)
			return done ? (ssize_t)done : -errno;
		if (!n)
			break;
		done += n;
	}
	return done;
}

static ssize_t splice_out_path(int fd, char *buf, size_t len)
{
	size_t done = 0, got;
	ssize_t n, r;
	int p[2];

	if (pipe(p))
		return -errno;
	while (done < len) {
		n = splice(fd, NULL, p[1], NULL, len - done, 0);
		if (n < 0) {
			n = done ? (ssize_t)done : -errno;
			goto out;
		}
		if (!n)
			break;
		for (got = 0; got < (size_t)n; got += r) {
			r = read(p[0], buf + done + got, n - got);
			if (r <= 0) {
				n = -EIO;
				goto out;
			}
		}
		done += n;
	}
	n = done;
out:
	close(p[0]);
	close(p[1]);
	return n;
}

static ssize_t poll_paths(enum katt_path p, int fd, int timeout_ms)
{
	int ret;

	if (p == KP_POLL) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLOUT };

		ret = poll(&pfd, 1, timeout_ms);
		if (ret < 0)
			return -errno;
		return ret ? pfd.revents : 0;
	}
	if (p == KP_SELECT) {
		struct timeval tv = {
			.tv_sec = timeout_ms / 1000,
			.tv_usec = (timeout_ms % 1000) * 1000,
		};
		fd_set rd, wr, ex;

		FD_ZERO(&rd);
		FD_ZERO(&wr);
		FD_ZERO(&ex);
		FD_SET(fd, &rd);
		FD_SET(fd, &wr);
		FD_SET(fd, &ex);
		ret = select(fd + 1, &rd, &wr, &ex, timeout_ms < 0 ? NULL : &tv);
		if (ret < 0)
			return -errno;
		return (FD_ISSET(fd, &rd) ? POLLIN : 0) |
		       (FD_ISSET(fd, &wr) ? POLLOUT : 0) |
		       (FD_ISSET(fd, &ex) ? POLLPRI : 0);
	}
	{
		struct epoll_event ev = {
			.events = EPOLLIN | EPOLLOUT,
			.data.fd = fd,
		};
		int epfd = epoll_create1(EPOLL_CLOEXEC);

		if (epfd < 0)
			return -errno;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev)) {
			ret = -errno;
			close(epfd);
			return ret;
		}
		memset(&ev, 0, sizeof(ev));
		ret = epoll_wait(epfd, &ev, 1, timeout_ms);
		ret = ret < 0 ? -errno : ret ? (int)ev.events : 0;
		close(epfd);
		return ret;
	}
}

ssize_t katt_path_io(enum katt_path p, int fd, void *buf, size_t len,
		     int flags, int timeout_ms)
{
	switch (p) {
	case KP_SEND:
	case KP_SENDTO:
	case KP_SENDMSG:
		return send_paths(p, fd, buf, len, flags);
	case KP_SENDFILE:
		return sendfile_path(fd, buf, len);
	case KP_SPLICE_IN:
		return splice_in_path(fd, buf, len);
	case KP_RECV:
	case KP_RECVFROM:
	case KP_RECVMSG:
	case KP_PEEK:
	case KP_WAITALL:
		return recv_paths(p, fd, buf, len, flags);
	case KP_SPLICE_OUT:
		return splice_out_path(fd, buf, len);
	case KP_POLL:
	case KP_SELECT:
	case KP_EPOLL:
		return poll_paths(p, fd, timeout_ms);
	case KP_REATTEST:
		if (setsockopt(fd, SOL_KTLS_ATTEST, KTLS_ATTEST_REATTEST,
			       NULL, 0))
			return -errno;
		return 0;
	default:
		return -EINVAL;
	}
}

/* --- pairs ---------------------------------------------------------------- */

static int set_timeo(int fd, int opt, unsigned int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000,
			      .tv_usec = (ms % 1000) * 1000 };

	return setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv)) ? -errno : 0;
}

int katt_pair_open(struct katt_pair *pp, const struct katt_pair_opts *o)
{
	int g, p, ret;

	memset(pp, 0, sizeof(*pp));
	pp->g = pp->p = -1;
	ret = ktls_tcp_pair(o->family, &g, &p);
	if (ret)
		return ret;
	if (!o->no_arm) {
		ret = ktls_set_ulp(g, KTLS_ATTEST_ULP_NAME);
		if (ret) {
			close(g);
			close(p);
			return ret;
		}
	}
	return katt_pair_adopt(pp, g, p, o);
}

int katt_pair_adopt(struct katt_pair *pp, int g, int p,
		    const struct katt_pair_opts *o)
{
	int ret;

	memset(pp, 0, sizeof(*pp));
	pp->g = g;
	pp->p = p;
	pp->family = o->family;
	/* an unarmed socket gets its binding when it is armed by fd */
	pp->binding = o->binding && !o->no_arm;
	ret = ktls_crypto_init(&pp->g2p, o->version, o->cipher, 0, 0);
	if (!ret)
		ret = ktls_crypto_init(&pp->p2g, o->version, o->cipher, 1, 0);
	if (ret)
		goto err;

	ret = set_timeo(pp->p, SO_RCVTIMEO, KATT_PEER_TIMEO_MS);
	if (!ret)
		ret = set_timeo(pp->p, SO_SNDTIMEO, KATT_PEER_TIMEO_MS);
	if (ret)
		goto err;

	if (o->role &&
	    setsockopt(pp->g, SOL_KTLS_ATTEST, KTLS_ATTEST_ROLE, &o->role,
		       sizeof(o->role))) {
		ret = -errno;
		goto err;
	}
	if (o->policy &&
	    setsockopt(pp->g, SOL_KTLS_ATTEST, KTLS_ATTEST_POLICY, o->policy,
		       sizeof(*o->policy))) {
		ret = -errno;
		goto err;
	}
	pp->cookie = katt_sock_cookie(pp->g);

	ret = ktls_install(pp->p, &pp->p2g, NULL);
	if (ret)
		goto err;
	if (!o->no_keys) {
		ret = katt_pair_keys(pp);
		if (ret)
			goto err;
	}
	return 0;

err:
	katt_pair_close(pp);
	return ret;
}

int katt_pair_keys(struct katt_pair *pp)
{
	int ret = ktls_install(pp->g, &pp->g2p, &pp->p2g);

	if (!ret && pp->binding)
		ret = katt_set_binding(pp->g, 0,
				       KTLS_ATTEST_BINDING_LOCAL_KEY |
				       KTLS_ATTEST_BINDING_PEER_KEY);
	return ret;
}

void katt_binding_fill(struct ktls_attest_binding *b, uint8_t seed,
		       uint32_t flags)
{
	unsigned int i;

	memset(b, 0, sizeof(*b));
	b->flags = flags;
	for (i = 0; i < sizeof(b->exporter); i++) {
		b->exporter[i] = seed + i;
		if (flags & KTLS_ATTEST_BINDING_LOCAL_KEY)
			b->local_key_sha256[i] = 0x40 + seed + i;
		if (flags & KTLS_ATTEST_BINDING_PEER_KEY)
			b->peer_key_sha256[i] = 0x80 + seed + i;
	}
}

int katt_peer_send_msg(int fd, const void *msg, size_t len)
{
	uint8_t rec[sizeof(struct ktls_attest_frame) + KTLS_ATTEST_FRAG_MAX];
	struct ktls_attest_frame *f = (struct ktls_attest_frame *)rec;
	size_t off = 0, frag;
	ssize_t n;

	do {
		frag = len - off < KTLS_ATTEST_FRAG_MAX ? len - off :
							  KTLS_ATTEST_FRAG_MAX;
		f->version = KTLS_ATTEST_FRAME_VERSION;
		f->flags = (off ? 0 : KTLS_ATTEST_FRAME_FIRST) |
			   (off + frag == len ? KTLS_ATTEST_FRAME_LAST : 0);
		f->frag_len = htons(frag);
		f->msg_len = htonl(len);
		memcpy(rec + sizeof(*f), (const uint8_t *)msg + off, frag);
		n = ktls_send_record(fd, KTLS_ATTEST_RECORD_TYPE, rec,
				     sizeof(*f) + frag, 0);
		if (n < 0)
			return n;
		if ((size_t)n != sizeof(*f) + frag)
			return -EIO;
		off += frag;
	} while (off < len);
	return 0;
}

int katt_set_binding(int fd, uint8_t seed, uint32_t flags)
{
	struct ktls_attest_binding b;

	katt_binding_fill(&b, seed, flags);
	return setsockopt(fd, SOL_KTLS_ATTEST, KTLS_ATTEST_BINDING, &b,
			  sizeof(b)) ? -errno : 0;
}

int katt_pair_peer_rx(struct katt_pair *pp)
{
	if (pp->p_rx)
		return 0;
	if (setsockopt(pp->p, SOL_TLS, TLS_RX, &pp->g2p.info, pp->g2p.len))
		return -errno;
	pp->p_rx = true;
	return 0;
}

void katt_pair_close(struct katt_pair *pp)
{
	if (pp->g >= 0)
		close(pp->g);
	if (pp->p >= 0)
		close(pp->p);
	pp->g = pp->p = -1;
}

ssize_t katt_pair_peer_recv(struct katt_pair *pp, void *buf, size_t len)
{
	int ret = katt_pair_peer_rx(pp);

	if (ret)
		return ret;
	return ktls_recv_all(pp->p, buf, len, 0);
}

uint64_t katt_sock_cookie(int fd)
{
	uint64_t cookie = 0;
	socklen_t len = sizeof(cookie);

	if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len))
		return 0;
	return cookie;
}

int katt_status(int fd, struct ktls_attest_status *st)
{
	socklen_t len = sizeof(*st);

	memset(st, 0, sizeof(*st));
	if (getsockopt(fd, SOL_KTLS_ATTEST, KTLS_ATTEST_STATUS, st, &len))
		return -errno;
	return len == sizeof(*st) ? 0 : -EPROTO;
}

int katt_wait_state(int fd, uint32_t state, unsigned int timeout_ms)
{
	long long end = katt_now_ms() + timeout_ms;
	struct ktls_attest_status st;
	int ret;

	for (;;) {
		ret = katt_status(fd, &st);
		if (ret)
			return ret;
		if (st.state == state)
			return 0;
		if (katt_now_ms() > end)
			return -ETIME;
		ktls_msleep(5);
	}
}

static int tcp_info(int fd, struct tcp_info *ti)
{
	socklen_t len = sizeof(*ti);

	memset(ti, 0, sizeof(*ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, ti, &len))
		return -errno;
	if (len < offsetof(struct tcp_info, tcpi_bytes_sent) +
		  sizeof(ti->tcpi_bytes_sent))
		return -EPROTO;
	return 0;
}

long long katt_tcp_bytes_received(int fd)
{
	struct tcp_info ti;
	int ret = tcp_info(fd, &ti);

	return ret ? ret : (long long)ti.tcpi_bytes_received;
}

long long katt_tcp_bytes_sent(int fd)
{
	struct tcp_info ti;
	int ret = tcp_info(fd, &ti);

	return ret ? ret : (long long)ti.tcpi_bytes_sent;
}

int katt_wait_bytes_received(int fd, long long min, unsigned int timeout_ms)
{
	long long end = katt_now_ms() + timeout_ms, n;

	for (;;) {
		n = katt_tcp_bytes_received(fd);
		if (n < 0)
			return n;
		if (n >= min)
			return 0;
		if (katt_now_ms() > end)
			return -ETIME;
		ktls_msleep(2);
	}
}

int katt_inq(int fd)
{
	int n;

	if (ioctl(fd, SIOCINQ, &n))
		return -errno;
	return n;
}

int katt_outq(int fd)
{
	int n;

	if (ioctl(fd, SIOCOUTQ, &n))
		return -errno;
	return n;
}

/* --- callers -------------------------------------------------------------- */

static struct katt_call_result *child_res;

static void child_handler(int sig)
{
	(void)sig;
	child_res->signals++;
}

int katt_caller_start(struct katt_caller *c, const struct katt_call *call)
{
	size_t size = sizeof(*c->res) + call->len;
	struct katt_call_result *res;
	pid_t pid;

	memset(c, 0, sizeof(*c));
	res = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (res == MAP_FAILED)
		return -errno;
	memset(res, 0, sizeof(*res));
	c->res = res;
	c->cap = size;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		int err = -errno;

		katt_caller_free(c);
		return err;
	}
	if (pid == 0) {
		void *buf = call->buf ? (void *)call->buf : res->data;
		ssize_t ret;

		/* the call's socket only: closing the others must work */
		if (call->fd > 3)
			close_range(3, call->fd - 1, 0);
		close_range(call->fd + 1, ~0U, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		signal(SIGALRM, SIG_DFL);
		signal(SIGPIPE, SIG_IGN);
		alarm(KATT_CALLER_ALARM_S);
		child_res = res;
		if (call->sig) {
			struct sigaction sa = {
				.sa_handler = child_handler,
				.sa_flags = call->sa_restart ? SA_RESTART : 0,
			};

			sigemptyset(&sa.sa_mask);
			sigaction(call->sig, &sa, NULL);
		}
		if (katt_path_is_recv(call->path))
			buf = res->data;
		res->t_start_ms = katt_now_ms();
		__atomic_store_n(&res->started, 1, __ATOMIC_SEQ_CST);
		ret = katt_path_io(call->path, call->fd, buf, call->len,
				   call->flags,
				   call->timeout_ms ? call->timeout_ms : -1);
		res->ret = ret;
		res->t_end_ms = katt_now_ms();
		__atomic_store_n(&res->done, 1, __ATOMIC_SEQ_CST);
		_exit(0);
	}
	c->pid = pid;
	return 0;
}

static bool reap(struct katt_caller *c, bool block)
{
	pid_t r;

	if (!c->pid || c->reaped)
		return true;
	do {
		r = waitpid(c->pid, &c->status, block ? 0 : WNOHANG);
	} while (r < 0 && errno == EINTR);
	if (r == c->pid || (r < 0 && errno == ECHILD)) {
		c->reaped = true;
		return true;
	}
	return false;
}

bool katt_caller_blocked(struct katt_caller *c)
{
	if (!c->res || !c->res->started || c->res->done)
		return false;
	return !reap(c, false);
}

int katt_caller_settle(struct katt_caller *c, unsigned int extra_ms)
{
	long long end = katt_now_ms() + 5000;

	while (!c->res->started) {
		if (reap(c, false) || katt_now_ms() > end)
			return -ECHILD;
		ktls_msleep(1);
	}
	if (extra_ms)
		ktls_msleep(extra_ms);
	return 0;
}

int katt_caller_wait(struct katt_caller *c, unsigned int timeout_ms)
{
	long long end = katt_now_ms() + timeout_ms;

	while (!reap(c, false)) {
		if (katt_now_ms() > end) {
			katt_caller_kill(c);
			return -ETIMEDOUT;
		}
		ktls_msleep(1);
	}
	if (!WIFEXITED(c->status) || WEXITSTATUS(c->status) || !c->res->done)
		return -ECHILD;
	return 0;
}

void katt_caller_kill(struct katt_caller *c)
{
	if (!c->pid || c->reaped)
		return;
	kill(c->pid, SIGKILL);
	reap(c, true);
}

void katt_caller_free(struct katt_caller *c)
{
	katt_caller_kill(c);
	if (c->res)
		munmap(c->res, c->cap);
	c->res = NULL;
	c->pid = 0;
}

/* --- guard ---------------------------------------------------------------- */

static void guard_handler(int sig)
{
	(void)sig;
}

void katt_guard(unsigned int ms)
{
	struct sigaction sa = { .sa_handler = guard_handler };
	struct itimerval it = {
		.it_value = { .tv_sec = ms / 1000,
			      .tv_usec = (ms % 1000) * 1000 },
	};

	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
}

void katt_guard_off(void)
{
	struct itimerval it = { 0 };

	setitimer(ITIMER_REAL, &it, NULL);
}

/* --- kernel log and misc --------------------------------------------------- */

int katt_kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (lseek(fd, 0, SEEK_END) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

int katt_kmsg_bad(int fd, char *first, size_t len)
{
	static const char *const bad[] = {
		"WARNING:", "BUG:", "kernel BUG at", "Oops:",
		"general protection fault", "refcount_t:",
		"unreferenced object", "UBSAN:", "blocked for more than",
		"list_add corruption", "list_del corruption",
	};
	char rec[8192];
	unsigned int i;
	int count = 0;
	ssize_t n;

	if (len)
		first[0] = '\0';
	if (fd < 0)
		return 0;
	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records */
		if (n <= 0)
			break;
		rec[n] = '\0';
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			if (!strstr(rec, bad[i]))
				continue;
			if (!count++ && len) {
				char *msg = strchr(rec, ';');

				snprintf(first, len, "%s", msg ? msg + 1 : rec);
				first[strcspn(first, "\n")] = '\0';
			}
			break;
		}
	}
	return count;
}

int katt_lo_up(void)
{
	struct ifreq ifr;
	int fd, ret = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr)) {
		ret = -errno;
	} else {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr))
			ret = -errno;
	}
	close(fd);
	return ret;
}

bool katt_module_loaded(void)
{
	return ktls_module_refcnt(KTLS_ATTEST_MODULE) >= 0;
}

long long katt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

long long katt_realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int katt_raise_nofile(unsigned long n)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return -errno;
	if (rl.rlim_cur >= n)
		return 0;
	rl.rlim_cur = n;
	if (rl.rlim_max < n)
		rl.rlim_max = n;
	return setrlimit(RLIMIT_NOFILE, &rl) ? -errno : 0;
}
