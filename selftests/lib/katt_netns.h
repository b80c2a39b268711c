/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Two network namespaces joined by a veth pair, the two hosts of the relay
 * selftests, made by the calling process itself over rtnetlink (under TCG
 * every exec of a tool such as ip(8) costs 0.1 to 0.5 s):
 *
 *   +------------ ns[0] ------------+       +------------ ns[1] ------------+
 *   | lo                            |       |                            lo |
 *   | katt0  10.99.0.1/24           +-veth--+           10.99.0.2/24  katt1 |
 *   |        fd00:99::1/64 (nodad)  |       |  (nodad) fd00:99::2/64        |
 *   +-------------------------------+       +-------------------------------+
 *
 * The namespaces live as long as something holds them: the two fds here,
 * sockets made in them, processes in them.  Nothing is named under
 * /run/netns, so nothing is left behind by a test that dies.
 *
 * Like lib/ktls.h, nothing here knows the kselftest harness: 0 on success,
 * a negative errno on failure.
 */
#ifndef KATT_NETNS_SELFTEST_LIB_H
#define KATT_NETNS_SELFTEST_LIB_H

#include <stdint.h>
#include <sys/socket.h>

struct katt_netns {
	int orig;	/* the caller's namespace when they were made */
	int ns[2];
};

#define KATT_NETNS_INIT { .orig = -1, .ns = { -1, -1 } }

/* Makes both namespaces and the link; the caller stays where it was. */
int katt_netns_pair(struct katt_netns *t);
/* Back to the original namespace; drops the fds. */
void katt_netns_close(struct katt_netns *t);
/* Moves the calling thread to ns[@i], or back to the original for -1. */
int katt_netns_enter(const struct katt_netns *t, int i);
/* Address of host @i (0 or 1) of @family, with @port. */
socklen_t katt_netns_addr(int i, int family, uint16_t port,
			  struct sockaddr_storage *ss);

#endif /* KATT_NETNS_SELFTEST_LIB_H */
