// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers shared by the ktls-attest selftests. See ktls.h.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ktls.h"

#define SENDER_ALARM_S	20

static void fill_key(unsigned char *p, size_t len, unsigned int key_set,
		     unsigned char what)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (unsigned char)(0x11 * (key_set + 1) + what * 0x40 + i);
}

int ktls_crypto_init(struct ktls_crypto *c, uint16_t version, uint16_t cipher,
		     unsigned int key_set, uint64_t rec_seq)
{
	uint64_t seq = htobe64(rec_seq);

	memset(c, 0, sizeof(*c));
	c->info.version = version;
	c->info.cipher_type = cipher;

	switch (cipher) {
	case TLS_CIPHER_AES_GCM_128:
		c->len = sizeof(c->gcm128);
		fill_key(c->gcm128.key, sizeof(c->gcm128.key), key_set, 0);
		fill_key(c->gcm128.iv, sizeof(c->gcm128.iv), key_set, 1);
		fill_key(c->gcm128.salt, sizeof(c->gcm128.salt), key_set, 2);
		memcpy(c->gcm128.rec_seq, &seq, sizeof(seq));
		break;
	case TLS_CIPHER_AES_GCM_256:
		c->len = sizeof(c->gcm256);
		fill_key(c->gcm256.key, sizeof(c->gcm256.key), key_set, 0);
		fill_key(c->gcm256.iv, sizeof(c->gcm256.iv), key_set, 1);
		fill_key(c->gcm256.salt, sizeof(c->gcm256.salt), key_set, 2);
		memcpy(c->gcm256.rec_seq, &seq, sizeof(seq));
		break;
	case TLS_CIPHER_CHACHA20_POLY1305:
		c->len = sizeof(c->chacha);
		fill_key(c->chacha.key, sizeof(c->chacha.key), key_set, 0);
		fill_key(c->chacha.iv, sizeof(c->chacha.iv), key_set, 1);
		memcpy(c->chacha.rec_seq, &seq, sizeof(seq));
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

uint64_t ktls_crypto_rec_seq(const struct ktls_crypto *c)
{
	const unsigned char *p;
	uint64_t seq;

	switch (c->info.cipher_type) {
	case TLS_CIPHER_AES_GCM_128:
		p = c->gcm128.rec_seq;
		break;
	case TLS_CIPHER_AES_GCM_256:
		p = c->gcm256.rec_seq;
		break;
	case TLS_CIPHER_CHACHA20_POLY1305:
		p = c->chacha.rec_seq;
		break;
	default:
		return UINT64_MAX;
	}
	memcpy(&seq, p, sizeof(seq));
	return be64toh(seq);
}

socklen_t ktls_loopback(int family, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		sin6->sin6_port = htons(port);
		return sizeof(*sin6);
	}
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin->sin_port = htons(port);
	return sizeof(*sin);
}

int ktls_listen(int family, int backlog, struct sockaddr_storage *ss,
		socklen_t *len)
{
	return ktls_listen_ulp(family, backlog, NULL, ss, len);
}

int ktls_listen_ulp(int family, int backlog, const char *ulp,
		    struct sockaddr_storage *ss, socklen_t *len)
{
	int fd, err;

	fd = socket(family, SOCK_STREAM, 0);
	if (fd < 0)
		return -errno;
	*len = ktls_loopback(family, 0, ss);
	if (bind(fd, (struct sockaddr *)ss, *len) ||
	    (ulp && setsockopt(fd, SOL_TCP, TCP_ULP, ulp, strlen(ulp) + 1)) ||
	    listen(fd, backlog) ||
	    getsockname(fd, (struct sockaddr *)ss, len)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int ktls_connect(int family, const struct sockaddr_storage *ss, socklen_t len)
{
	int fd, err;

	fd = socket(family, SOCK_STREAM, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)ss, len)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int ktls_tcp_pair(int family, int *cfd, int *sfd)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int lfd, c, s;

	lfd = ktls_listen(family, 1, &ss, &len);
	if (lfd < 0)
		return lfd;
	c = ktls_connect(family, &ss, len);
	if (c < 0) {
		close(lfd);
		return c;
	}
	s = accept(lfd, NULL, NULL);
	if (s < 0) {
		s = -errno;
		close(c);
		close(lfd);
		return s;
	}
	close(lfd);
	*cfd = c;
	*sfd = s;
	return 0;
}

int ktls_set_ulp(int fd, const char *name)
{
	if (setsockopt(fd, IPPROTO_TCP, TCP_ULP, name, strlen(name)))
		return -errno;
	return 0;
}

int ktls_get_ulp(int fd, char *name, size_t size)
{
	socklen_t len = size - 1;

	memset(name, 0, size);
	if (getsockopt(fd, IPPROTO_TCP, TCP_ULP, name, &len))
		return -errno;
	return 0;
}

int ktls_install(int fd, const struct ktls_crypto *tx,
		 const struct ktls_crypto *rx)
{
	int err;

	err = ktls_set_ulp(fd, "tls");
	if (err)
		return err;
	if (tx && setsockopt(fd, SOL_TLS, TLS_TX, &tx->info, tx->len))
		return -errno;
	if (rx && setsockopt(fd, SOL_TLS, TLS_RX, &rx->info, rx->len))
		return -errno;
	return 0;
}

int ktls_install_rx_first(int fd, const struct ktls_crypto *tx,
			  const struct ktls_crypto *rx)
{
	int err;

	err = ktls_set_ulp(fd, "tls");
	if (err)
		return err;
	if (rx && setsockopt(fd, SOL_TLS, TLS_RX, &rx->info, rx->len))
		return -errno;
	if (tx && setsockopt(fd, SOL_TLS, TLS_TX, &tx->info, tx->len))
		return -errno;
	return 0;
}

int ktls_get_crypto(int fd, int optname, const struct ktls_crypto *like,
		    struct ktls_crypto *out)
{
	socklen_t len = like->len;

	memset(out, 0, sizeof(*out));
	if (getsockopt(fd, SOL_TLS, optname, &out->info, &len))
		return -errno;
	out->len = len;
	return 0;
}

void ktls_fill(void *buf, size_t len, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 0x9e3779b9u;
	unsigned char *p = buf;
	size_t i;

	for (i = 0; i < len; i++) {
		/* xorshift32: cheap, and no period shorter than a record */
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (unsigned char)(x >> 11);
	}
}

ssize_t ktls_first_diff(const void *a, const void *b, size_t len)
{
	const unsigned char *pa = a, *pb = b;
	size_t i;

	for (i = 0; i < len; i++)
		if (pa[i] != pb[i])
			return i;
	return -1;
}

ssize_t ktls_send_all(int fd, const void *buf, size_t len, int flags)
{
	const char *p = buf;
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = send(fd, p + done, len - done, flags);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		done += n;
	}
	return done;
}

ssize_t ktls_recv_all(int fd, void *buf, size_t len, int flags)
{
	char *p = buf;
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = recv(fd, p + done, len - done, flags);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		done += n;
	}
	return done;
}

pid_t ktls_spawn_sender(int fd, const void *buf, size_t len, size_t chunk,
			unsigned int delay_ms)
{
	const char *p = buf;
	size_t done = 0, n;
	ssize_t ret;
	pid_t pid;

	pid = fork();
	if (pid != 0)
		return pid;

	alarm(SENDER_ALARM_S);
	if (!chunk)
		chunk = len;
	while (done < len) {
		n = len - done < chunk ? len - done : chunk;
		if (delay_ms)
			ktls_msleep(delay_ms);
		ret = ktls_send_all(fd, p + done, n, 0);
		if (ret < 0)
			_exit(-ret);
		done += n;
	}
	_exit(0);
}

pid_t ktls_spawn_sendfile(int fd, int in_fd, size_t len)
{
	off_t off = 0;
	ssize_t n;
	pid_t pid;

	pid = fork();
	if (pid != 0)
		return pid;

	alarm(SENDER_ALARM_S);
	while ((size_t)off < len) {
		n = sendfile(fd, in_fd, &off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			_exit(errno);
		if (n == 0)
			_exit(EPIPE);
	}
	_exit(0);
}

int ktls_wait_child(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return -1;
	if (!WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

ssize_t ktls_send_record(int fd, uint8_t type, const void *buf, size_t len,
			 int flags)
{
	char cbuf[CMSG_SPACE(sizeof(type))];
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cbuf,
		.msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cmsg;
	ssize_t n;

	memset(cbuf, 0, sizeof(cbuf));
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_TLS;
	cmsg->cmsg_type = TLS_SET_RECORD_TYPE;
	cmsg->cmsg_len = CMSG_LEN(sizeof(type));
	memcpy(CMSG_DATA(cmsg), &type, sizeof(type));

	n = sendmsg(fd, &msg, flags);
	return n < 0 ? -errno : n;
}

ssize_t ktls_recv_record(int fd, uint8_t *type, void *buf, size_t len,
			 int flags)
{
	char cbuf[CMSG_SPACE(sizeof(*type))];
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cbuf,
		.msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cmsg;
	ssize_t n;

	*type = 0;
	n = recvmsg(fd, &msg, flags);
	if (n < 0)
		return -errno;
	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg))
		if (cmsg->cmsg_level == SOL_TLS &&
		    cmsg->cmsg_type == TLS_GET_RECORD_TYPE)
			memcpy(type, CMSG_DATA(cmsg), sizeof(*type));
	return n;
}

int ktls_stat(const char *name, long long *val)
{
	size_t nlen = strlen(name);
	char line[256];
	int err = -ENOENT;
	FILE *f;

	*val = 0;
	f = fopen("/proc/net/tls_stat", "r");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, name, nlen) ||
		    (line[nlen] != ' ' && line[nlen] != '\t'))
			continue;
		*val = strtoll(line + nlen, NULL, 10);
		err = 0;
		break;
	}
	fclose(f);
	return err;
}

long ktls_module_refcnt(const char *mod)
{
	char path[128], buf[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/module/%s/refcnt", mod);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

int ktls_wait_refcnt(const char *mod, long expect, unsigned int timeout_ms,
		     long *last)
{
	unsigned int waited = 0;

	for (;;) {
		*last = ktls_module_refcnt(mod);
		if (*last == expect)
			return 0;
		if (waited >= timeout_ms)
			return -ETIME;
		ktls_msleep(10);
		waited += 10;
	}
}

long ktls_settled_refcnt(const char *mod, unsigned int quiet_ms,
			 unsigned int timeout_ms)
{
	unsigned int waited = 0, quiet = 0;
	long last, now;

	last = ktls_module_refcnt(mod);
	while (last >= 0 && quiet < quiet_ms && waited < timeout_ms) {
		ktls_msleep(10);
		waited += 10;
		now = ktls_module_refcnt(mod);
		quiet = now == last ? quiet + 10 : 0;
		last = now;
	}
	return last;
}

ssize_t ktls_read_file(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

bool ktls_ulp_available(const char *name)
{
	char buf[256], *tok, *save;

	if (ktls_read_file("/proc/sys/net/ipv4/tcp_available_ulp", buf,
			   sizeof(buf)) <= 0)
		return false;
	for (tok = strtok_r(buf, " \n", &save); tok;
	     tok = strtok_r(NULL, " \n", &save))
		if (!strcmp(tok, name))
			return true;
	return false;
}

void ktls_msleep(unsigned int ms)
{
	struct timespec ts = {
		.tv_sec = ms / 1000,
		.tv_nsec = (long)(ms % 1000) * 1000000L,
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}
