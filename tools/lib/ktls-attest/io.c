// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Application data after the move.
 *
 * kTLS hands every record's type to recvmsg() in a TLS_GET_RECORD_TYPE
 * cmsg, one type per call; without cmsg space a non-data record gives EIO,
 * for ever.  So receives go through recvmsg() with a cmsg buffer: data is
 * returned; a handshake record (a server's NewSessionTickets, after the
 * move) is read to its end (MSG_EOR) and skipped, or fails the connection
 * cleanly on a KeyUpdate, which Linux 6.1 kTLS cannot follow (a new
 * TLS_RX fails with EBUSY and every later record with EBADMSG): nothing
 * after it is ever delivered, and the peer gets a fatal internal_error
 * alert; close_notify ends the stream (0); any other alert is an error.
 * close_notify goes out as an alert record (TLS_SET_RECORD_TYPE).
 *
 * In userspace mode the same calls are SSL_read()/SSL_write().
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "internal.h"

static ssize_t katt_gate_err(struct ktls_attest *ka, int err, const char *what)
{
	char why[KATT_ERR_MAX];

	if ((err == -EKEYREJECTED || err == -EKEYREVOKED) &&
	    ktls_attest_explain(ka->fd, why, sizeof(why)) > 0)
		return katt_err(ka, err, "%s", why);
	if (err == -EAGAIN || err == -EINTR)
		return katt_err(ka, err, "%s: %s", what, strerror(-err));
	return katt_err(ka, err, "%s failed: %s", what, strerror(-err));
}

static ssize_t katt_ssl_io_err(struct ktls_attest *ka, int ret,
			       const char *what)
{
	char buf[160];
	int e = SSL_get_error(ka->ssl, ret);

	switch (e) {
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return katt_err(ka, -EAGAIN, "%s: %s", what, strerror(EAGAIN));
	case SSL_ERROR_SYSCALL:
		if (errno)
			return katt_err(ka, -errno, "%s failed: %s", what,
					strerror(errno));
		return katt_err(ka, -ECONNABORTED,
				"%s: the peer closed the connection without close_notify",
				what);
	default:
		return katt_err(ka, -ECONNRESET, "%s failed: %s", what,
				katt_ssl_reason(buf, sizeof(buf)));
	}
}

/* A fatal alert from us, once; the connection is over. */
static void katt_send_alert(struct ktls_attest *ka, uint8_t level,
			    uint8_t desc)
{
	unsigned char alert[2] = { level, desc };
	char cbuf[CMSG_SPACE(1)];
	struct iovec iov = { .iov_base = alert, .iov_len = sizeof(alert) };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cbuf,
		.msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cmsg;

	if (ka->tx_closed)
		return;
	memset(cbuf, 0, sizeof(cbuf));
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_TLS;
	cmsg->cmsg_type = TLS_SET_RECORD_TYPE;
	cmsg->cmsg_len = CMSG_LEN(1);
	*CMSG_DATA(cmsg) = KATT_REC_ALERT;
	if (sendmsg(ka->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) ==
	    (ssize_t)sizeof(alert))
		ka->tx_closed = true;
}

static ssize_t katt_fail(struct ktls_attest *ka, int err)
{
	ka->broken = true;
	ka->broken_err = err;
	return err;
}

ssize_t ktls_attest_send(struct ktls_attest *ka, const void *buf, size_t len,
			 int flags)
{
	ssize_t n;
	int ret;

	if (!ka->moved) {
		if (ka->mode != KTLS_ATTEST_MODE_USERSPACE && !ka->broken)
			return katt_err(ka, -ENOTCONN,
					"the connection was not moved onto kTLS (ktls_attest_move)");
		if (ka->broken)
			return katt_err(ka, ka->broken_err, "the connection is unusable");
		if (!len)
			return 0;
		ret = SSL_write(ka->ssl, buf, len > INT32_MAX ? INT32_MAX : len);
		return ret > 0 ? ret : katt_ssl_io_err(ka, ret, "send");
	}
	if (ka->broken)
		return katt_err(ka, ka->broken_err, "the connection is unusable: %s",
				strerror(-ka->broken_err));
	if (ka->tx_closed)
		return katt_err(ka, -EPIPE, "close_notify was sent already");
	n = send(ka->fd, buf, len, flags | MSG_NOSIGNAL);
	if (n < 0)
		return katt_gate_err(ka, -errno, "send");
	return n;
}

/* One recvmsg() with the record type; *@type 0 if none came (EOF). */
static ssize_t katt_recv_record(int fd, void *buf, size_t len, int flags,
				uint8_t *type, bool *eor)
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
			*type = *CMSG_DATA(cmsg);
	*eor = msg.msg_flags & MSG_EOR;
	return n;
}

/* The handshake messages of one record; 0 if all were tickets. */
static ssize_t katt_handshake(struct ktls_attest *ka, const unsigned char *p,
			      size_t len)
{
	size_t off = 0, mlen;

	while (off < len) {
		if (len - off < 4)
			goto out_split;
		mlen = (size_t)p[off + 1] << 16 | (size_t)p[off + 2] << 8 |
		       p[off + 3];
		if (mlen > len - off - 4)
			goto out_split;
		switch (p[off]) {
		case KATT_HS_NEW_SESSION_TICKET:
			break;	/* a ticket for a later connection: not kept */
		case KATT_HS_KEY_UPDATE:
			katt_send_alert(ka, KATT_ALERT_FATAL,
					KATT_ALERT_INTERNAL_ERROR);
			return katt_fail(ka, katt_err(ka, -EKEYEXPIRED,
				"the peer sent a TLS KeyUpdate, which kTLS on this kernel cannot follow: the connection is over"));
		default:
			katt_send_alert(ka, KATT_ALERT_FATAL,
					KATT_ALERT_INTERNAL_ERROR);
			return katt_fail(ka, katt_err(ka, -EPROTO,
				"the peer sent a post-handshake message of type %u, which this library does not handle",
				p[off]));
		}
		off += 4 + mlen;
	}
	return 0;

out_split:
	katt_send_alert(ka, KATT_ALERT_FATAL, KATT_ALERT_INTERNAL_ERROR);
	return katt_fail(ka, katt_err(ka, -EPROTO,
			 "a handshake message split across records after the move, which this library does not handle"));
}

static ssize_t katt_alert(struct ktls_attest *ka, const unsigned char *p,
			  size_t len)
{
	if (len != 2)
		return katt_fail(ka, katt_err(ka, -EPROTO,
				 "an alert record of %zu bytes", len));
	if (p[1] == KATT_ALERT_CLOSE_NOTIFY) {
		ka->peer_closed = true;
		return 0;
	}
	if (p[1] == KATT_ALERT_USER_CANCELED)
		return 1;	/* close_notify follows */
	return katt_fail(ka, katt_err(ka, -ECONNRESET,
			 "the peer sent the TLS alert \"%s\" (%u)",
			 SSL_alert_desc_string_long(p[1]), p[1]));
}

ssize_t ktls_attest_recv(struct ktls_attest *ka, void *buf, size_t len,
			 int flags)
{
	size_t got;
	ssize_t n, more;
	uint8_t type, t2;
	bool eor;
	int ret;

	if (flags & ~MSG_DONTWAIT)
		return katt_err(ka, -EINVAL, "recv flags %#x: only MSG_DONTWAIT",
				flags & ~MSG_DONTWAIT);
	if (!ka->moved) {
		if (ka->mode != KTLS_ATTEST_MODE_USERSPACE || ka->broken)
			return katt_err(ka, ka->broken ? ka->broken_err : -ENOTCONN,
					"the connection was not moved onto kTLS (ktls_attest_move)");
		if (!len)
			return 0;
		ret = SSL_read(ka->ssl, buf, len > INT32_MAX ? INT32_MAX : len);
		return ret > 0 ? ret : katt_ssl_io_err(ka, ret, "receive");
	}
	for (;;) {
		if (ka->broken)
			return katt_err(ka, ka->broken_err,
					"the connection is unusable: %s",
					strerror(-ka->broken_err));
		if (ka->peer_closed || !len)
			return 0;
		n = katt_recv_record(ka->fd, buf, len, flags, &type, &eor);
		if (n < 0)
			return katt_gate_err(ka, n, "receive");
		if (type == KATT_REC_DATA && (n > 0 || !eor))
			return n;
		if (type == KATT_REC_DATA)
			continue;	/* an empty data record */
		if (!type && !n)
			return katt_fail(ka, katt_err(ka, -ECONNABORTED,
				"the peer closed the connection without close_notify"));
		if (!type)
			return katt_fail(ka, katt_err(ka, -EPROTO,
				"kTLS gave no record type"));

		/* a control record: all of it, into ka->ctl */
		got = n < KATT_CTL_MAX ? n : KATT_CTL_MAX;
		memcpy(ka->ctl, buf, got);
		/*
		 * The rest of it, if @len was short: kTLS has decrypted the
		 * whole record, so the rest is there (no wait); a record
		 * that ends without MSG_EOR ends at EAGAIN.
		 */
		while (!eor && got < KATT_CTL_MAX) {
			more = katt_recv_record(ka->fd, ka->ctl + got,
						KATT_CTL_MAX - got, MSG_DONTWAIT,
						&t2, &eor);
			if (more == -EAGAIN) {
				eor = true;
				break;
			}
			if (more < 0)
				return katt_gate_err(ka, more, "receive");
			if (t2 != type || !more)
				break;
			got += more;
		}
		if (!eor)
			return katt_fail(ka, katt_err(ka, -EPROTO,
				"a control record of type %u longer than %d bytes",
				type, KATT_CTL_MAX));
		if (type == KATT_REC_ALERT)
			n = katt_alert(ka, ka->ctl, got);
		else if (type == KATT_REC_HANDSHAKE)
			n = katt_handshake(ka, ka->ctl, got);
		else
			n = katt_fail(ka, katt_err(ka, -EPROTO,
				"a record of unexpected type %u", type));
		if (n < 0)
			return n;
		/* a ticket or a user_canceled: read on */
	}
}

int ktls_attest_close(struct ktls_attest *ka)
{
	static const unsigned char close_notify[2] = {
		KATT_ALERT_WARNING, KATT_ALERT_CLOSE_NOTIFY
	};
	char cbuf[CMSG_SPACE(1)];
	struct iovec iov = {
		.iov_base = (void *)close_notify,
		.iov_len = sizeof(close_notify),
	};
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cbuf,
		.msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cmsg;
	ssize_t n;
	int ret;

	if (!ka->moved) {
		if (ka->broken)
			return 0;
		ret = SSL_shutdown(ka->ssl);
		return ret >= 0 ? 0 : (int)katt_ssl_io_err(ka, ret, "close");
	}
	if (ka->tx_closed)
		return 0;
	memset(cbuf, 0, sizeof(cbuf));
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_TLS;
	cmsg->cmsg_type = TLS_SET_RECORD_TYPE;
	cmsg->cmsg_len = CMSG_LEN(1);
	*CMSG_DATA(cmsg) = KATT_REC_ALERT;
	/* never waits: a held socket gives EAGAIN */
	n = sendmsg(ka->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n < 0)
		return katt_gate_err(ka, -errno, "sending close_notify");
	ka->tx_closed = true;
	return 0;
}
