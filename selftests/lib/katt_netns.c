// SPDX-License-Identifier: GPL-2.0
/*
 * Two network namespaces joined by veth. See katt_netns.h.
 *
 * rtnetlink by hand: three requests (a veth pair, an address, a link up),
 * each acked, so the errors are the kernel's errno values.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include "katt_netns.h"

static const char *const ifname[2] = { "katt0", "katt1" };
static const char *const addr4[2] = { "10.99.0.1", "10.99.0.2" };
static const char *const addr6[2] = { "fd00:99::1", "fd00:99::2" };

/* --- a request buffer ----------------------------------------------------- */

struct rtreq {
	struct nlmsghdr *nlh;
	size_t cap;
	union {
		struct nlmsghdr hdr;
		char buf[1024];
	} u;
};

static void *req_tail(struct rtreq *r)
{
	return (char *)r->nlh + NLMSG_ALIGN(r->nlh->nlmsg_len);
}

static int req_init(struct rtreq *r, uint16_t type, uint16_t flags,
		    const void *hdr, size_t hlen)
{
	memset(&r->u, 0, sizeof(r->u));
	r->nlh = &r->u.hdr;
	r->cap = sizeof(r->u);
	r->nlh->nlmsg_type = type;
	r->nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	r->nlh->nlmsg_len = NLMSG_LENGTH(hlen);
	memcpy(NLMSG_DATA(r->nlh), hdr, hlen);
	return 0;
}

/* Appends raw bytes (a header inside a nest) at the tail. */
static int req_raw(struct rtreq *r, const void *data, size_t len)
{
	size_t at = NLMSG_ALIGN(r->nlh->nlmsg_len);

	if (at + NLMSG_ALIGN(len) > r->cap)
		return -EMSGSIZE;
	memcpy((char *)r->nlh + at, data, len);
	r->nlh->nlmsg_len = at + NLMSG_ALIGN(len);
	return 0;
}

static struct rtattr *req_attr(struct rtreq *r, uint16_t type,
			       const void *data, size_t len)
{
	struct rtattr *rta = req_tail(r);
	size_t at = NLMSG_ALIGN(r->nlh->nlmsg_len);

	if (at + RTA_SPACE(len) > r->cap)
		return NULL;
	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(rta), data, len);
	r->nlh->nlmsg_len = at + RTA_SPACE(len);
	return rta;
}

static void req_nest_end(struct rtreq *r, struct rtattr *nest)
{
	nest->rta_len = (char *)req_tail(r) - (char *)nest;
}

/* Sends the request on a new rtnetlink socket; the kernel's answer. */
static int req_do(struct rtreq *r)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	char ans[1024];
	struct nlmsghdr *h;
	ssize_t n;
	int fd, ret;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	r->nlh->nlmsg_seq = 1;
	if (sendto(fd, r->nlh, r->nlh->nlmsg_len, 0, (struct sockaddr *)&sa,
		   sizeof(sa)) < 0) {
		ret = -errno;
		goto out;
	}
	n = recv(fd, ans, sizeof(ans), 0);
	if (n < 0) {
		ret = -errno;
		goto out;
	}
	h = (struct nlmsghdr *)ans;
	if (!NLMSG_OK(h, (size_t)n) || h->nlmsg_type != NLMSG_ERROR) {
		ret = -EPROTO;
		goto out;
	}
	ret = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
out:
	close(fd);
	return ret;
}

/* --- the topology ------------------------------------------------------- */

/* katt0 here, katt1 in the namespace @peer_ns. */
static int add_veth(int peer_ns)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct rtattr *info, *data, *peer;
	uint32_t fd = peer_ns;
	struct rtreq r;

	req_init(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof(ifi));
	req_attr(&r, IFLA_IFNAME, ifname[0], strlen(ifname[0]) + 1);
	info = req_attr(&r, IFLA_LINKINFO, NULL, 0);
	req_attr(&r, IFLA_INFO_KIND, "veth", 5);
	data = req_attr(&r, IFLA_INFO_DATA, NULL, 0);
	peer = req_attr(&r, VETH_INFO_PEER, NULL, 0);
	if (!info || !data || !peer || req_raw(&r, &ifi, sizeof(ifi)) ||
	    !req_attr(&r, IFLA_IFNAME, ifname[1], strlen(ifname[1]) + 1) ||
	    !req_attr(&r, IFLA_NET_NS_FD, &fd, sizeof(fd)))
		return -EMSGSIZE;
	req_nest_end(&r, peer);
	req_nest_end(&r, data);
	req_nest_end(&r, info);
	return req_do(&r);
}

static int add_addr(const char *dev, int family, const char *text)
{
	struct ifaddrmsg ifa = {
		.ifa_family = family,
		.ifa_prefixlen = family == AF_INET6 ? 64 : 24,
		.ifa_index = if_nametoindex(dev),
	};
	uint32_t flags = IFA_F_NODAD;	/* usable at once */
	unsigned char a[16];
	size_t alen = family == AF_INET6 ? 16 : 4;
	struct rtreq r;

	if (!ifa.ifa_index)
		return -ENODEV;
	if (inet_pton(family, text, a) != 1)
		return -EINVAL;
	if (family == AF_INET6)
		ifa.ifa_flags = IFA_F_NODAD;
	req_init(&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &ifa, sizeof(ifa));
	if (!req_attr(&r, IFA_LOCAL, a, alen) ||
	    !req_attr(&r, IFA_ADDRESS, a, alen) ||
	    (family == AF_INET6 &&
	     !req_attr(&r, IFA_FLAGS, &flags, sizeof(flags))))
		return -EMSGSIZE;
	return req_do(&r);
}

static int link_up(const char *dev)
{
	struct ifinfomsg ifi = {
		.ifi_family = AF_UNSPEC,
		.ifi_index = if_nametoindex(dev),
		.ifi_flags = IFF_UP,
		.ifi_change = IFF_UP,
	};
	struct rtreq r;

	if (!ifi.ifi_index)
		return -ENODEV;
	req_init(&r, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
	return req_do(&r);
}

/* lo and katt@i up, with their addresses; in the current namespace. */
static int host_up(int i)
{
	int ret;

	ret = link_up("lo");
	if (!ret)
		ret = add_addr(ifname[i], AF_INET, addr4[i]);
	if (!ret)
		ret = add_addr(ifname[i], AF_INET6, addr6[i]);
	if (!ret)
		ret = link_up(ifname[i]);
	return ret;
}

static int new_ns(int orig)
{
	int fd;

	if (setns(orig, CLONE_NEWNET) || unshare(CLONE_NEWNET))
		return -errno;
	fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int katt_netns_pair(struct katt_netns *t)
{
	int ret, i;

	t->ns[0] = t->ns[1] = -1;
	t->orig = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (t->orig < 0)
		return -errno;
	for (i = 0; i < 2; i++) {
		ret = new_ns(t->orig);
		if (ret < 0)
			goto err;
		t->ns[i] = ret;
	}
	/* here: ns[1] */
	ret = katt_netns_enter(t, 0);
	if (!ret)
		ret = add_veth(t->ns[1]);
	for (i = 0; !ret && i < 2; i++) {
		ret = katt_netns_enter(t, i);
		if (!ret)
			ret = host_up(i);
	}
	if (!ret)
		ret = katt_netns_enter(t, -1);
	if (!ret)
		return 0;
err:
	katt_netns_close(t);
	return ret;
}

void katt_netns_close(struct katt_netns *t)
{
	int i;

	if (t->orig >= 0) {
		setns(t->orig, CLONE_NEWNET);
		close(t->orig);
	}
	for (i = 0; i < 2; i++)
		if (t->ns[i] >= 0)
			close(t->ns[i]);
	t->orig = t->ns[0] = t->ns[1] = -1;
}

int katt_netns_enter(const struct katt_netns *t, int i)
{
	int fd = i < 0 ? t->orig : t->ns[i];

	return setns(fd, CLONE_NEWNET) ? -errno : 0;
}

socklen_t katt_netns_addr(int i, int family, uint16_t port,
			  struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, addr6[i], &sin6->sin6_addr);
		sin6->sin6_port = htons(port);
		return sizeof(*sin6);
	}
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	sin->sin_family = AF_INET;
	inet_pton(AF_INET, addr4[i], &sin->sin_addr);
	sin->sin_port = htons(port);
	return sizeof(*sin);
}
