// SPDX-License-Identifier: GPL-2.0
/*
 * ktls-attest: every armed socket pins the module. rmmod is refused while
 * one is open and works once they are gone; no socket is ever left pointing
 * into an unloaded module.
 *
 * Needs root, the module loaded (or loadable), and its path in the
 * environment as KTLS_ATTEST_KO: each test unloads it and loads it back with
 * finit_module() so that later tests still find it.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/ktls_attest.h>

#include "kselftest_harness.h"
#include "lib/katt_nl.h"
#include "lib/ktls.h"

#define ULP_ATTEST	KTLS_ATTEST_ULP_NAME
#define MOD		KTLS_ATTEST_MODULE
#define UNLOAD_WAIT_MS	2000
#define NR_CHILDREN	4

static int delete_module(const char *name, unsigned int flags)
{
	return syscall(SYS_delete_module, name, flags);
}

static int load_module(const char *path)
{
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, "", 0);
	ret = ret ? -errno : 0;
	close(fd);
	return ret;
}

static bool module_live(void)
{
	char buf[32] = "";
	ssize_t n;
	int fd;

	fd = open("/sys/module/" MOD "/initstate", O_RDONLY);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 && !strncmp(buf, "live", 4);
}

static bool module_present(void)
{
	struct stat st;

	return !stat("/sys/module/" MOD, &st);
}

FIXTURE(unload)
{
	const char *ko;
	long base;
};

FIXTURE_SETUP(unload)
{
	int ret;

	self->ko = getenv("KTLS_ATTEST_KO");
	if (self->ko && !*self->ko)
		self->ko = NULL;
	/* the 6.1 harness runs the body after a SKIP here: it checks ko */
	if (!self->ko)
		SKIP(return, "KTLS_ATTEST_KO (path of %s.ko) not set", MOD);
	ASSERT_EQ(0, geteuid()) TH_LOG("needs root");

	if (!module_present()) {
		ret = load_module(self->ko);
		ASSERT_EQ(0, ret) TH_LOG("finit_module(%s): %s", self->ko,
					 strerror(-ret));
	}
	ASSERT_TRUE(module_live());
	ASSERT_TRUE(ktls_ulp_available(ULP_ATTEST));
	self->base = ktls_settled_refcnt(MOD, 100, UNLOAD_WAIT_MS);
	ASSERT_GE(self->base, 0);
}

/* Whatever happened, leave the module loaded for whoever runs next. */
FIXTURE_TEARDOWN(unload)
{
	int ret;

	if (!self->ko || module_present())
		return;
	ret = load_module(self->ko);
	/* no handler on the EXPECT: after a failed ASSERT it would run anyway */
	if (ret)
		TH_LOG("reload %s: %s", self->ko, strerror(-ret));
	EXPECT_EQ(0, ret);
}

/* The module must refuse to go, and stay fully usable. */
static void expect_unload_refused(struct __test_metadata *_metadata)
{
	int cfd, sfd;

	EXPECT_EQ(-1, delete_module(MOD, O_NONBLOCK));
	EXPECT_TRUE(errno == EWOULDBLOCK || errno == EAGAIN)
		TH_LOG("delete_module: %s, expected EWOULDBLOCK",
		       strerror(errno));
	ASSERT_TRUE(module_live());
	EXPECT_TRUE(ktls_ulp_available(ULP_ATTEST));

	/* a refused unload leaves the ULP working for new sockets */
	ASSERT_EQ(0, ktls_tcp_pair(AF_INET, &cfd, &sfd));
	EXPECT_EQ(0, ktls_set_ulp(cfd, ULP_ATTEST));
	close(cfd);
	close(sfd);
}

/*
 * Unloads within UNLOAD_WAIT_MS (sockets free their context after an RCU
 * grace period), checks it is gone, and loads it back.
 */
static void unload_and_reload(struct __test_metadata *_metadata,
			      FIXTURE_DATA(unload) *self)
{
	unsigned int waited = 0;
	int ret, err = 0;

	for (;;) {
		ret = delete_module(MOD, O_NONBLOCK);
		err = errno;
		if (!ret || (err != EWOULDBLOCK && err != EAGAIN) ||
		    waited >= UNLOAD_WAIT_MS)
			break;
		ktls_msleep(20);
		waited += 20;
	}
	ASSERT_EQ(0, ret) TH_LOG("delete_module after %u ms: %s (refcnt %ld)",
				 waited, strerror(err),
				 ktls_module_refcnt(MOD));
	EXPECT_FALSE(module_present());
	EXPECT_FALSE(ktls_ulp_available(ULP_ATTEST));

	ret = load_module(self->ko);
	ASSERT_EQ(0, ret) TH_LOG("finit_module(%s): %s", self->ko,
				 strerror(-ret));
	ASSERT_TRUE(module_live());
	EXPECT_TRUE(ktls_ulp_available(ULP_ATTEST));
}

/* Control: with nothing armed the module unloads at once. */
TEST_F(unload, idle)
{
	int cfd, sfd;

	if (!self->ko)
		return;
	unload_and_reload(_metadata, self);

	/* and the reloaded module arms sockets again */
	ASSERT_EQ(0, ktls_tcp_pair(AF_INET, &cfd, &sfd));
	EXPECT_EQ(0, ktls_set_ulp(cfd, ULP_ATTEST));
	close(cfd);
	close(sfd);
}

TEST_F(unload, armed_socket)
{
	int cfd, sfd;

	if (!self->ko)
		return;
	ASSERT_EQ(0, ktls_tcp_pair(AF_INET, &cfd, &sfd));
	ASSERT_EQ(0, ktls_set_ulp(cfd, ULP_ATTEST));
	EXPECT_EQ(self->base + 1, ktls_module_refcnt(MOD));
	expect_unload_refused(_metadata);

	close(cfd);
	close(sfd);
	unload_and_reload(_metadata, self);
}

TEST_F(unload, keyed_socket)
{
	struct ktls_crypto c2s, s2c;
	char buf[1000];
	int cfd, sfd;

	if (!self->ko)
		return;
	ASSERT_EQ(0, ktls_crypto_init(&c2s, TLS_1_3_VERSION,
				      TLS_CIPHER_AES_GCM_128, 0, 0));
	ASSERT_EQ(0, ktls_crypto_init(&s2c, TLS_1_3_VERSION,
				      TLS_CIPHER_AES_GCM_128, 1, 0));
	ASSERT_EQ(0, ktls_tcp_pair(AF_INET, &cfd, &sfd));
	ASSERT_EQ(0, ktls_set_ulp(cfd, ULP_ATTEST));
	ASSERT_EQ(0, ktls_install(cfd, &c2s, &s2c));
	ASSERT_EQ(0, ktls_install(sfd, &s2c, &c2s));
	/* the gate is another suite's: let the data through */
	ASSERT_EQ(0, katt_nl_pass_socket(cfd, "module_unload test"));
	expect_unload_refused(_metadata);

	/* the refused unload did not disturb the armed kTLS socket */
	ktls_fill(buf, sizeof(buf), 1);
	ASSERT_EQ(sizeof(buf), send(cfd, buf, sizeof(buf), 0));
	ASSERT_EQ(sizeof(buf), ktls_recv_all(sfd, buf, sizeof(buf), 0));
	ASSERT_EQ(sizeof(buf), send(sfd, buf, sizeof(buf), 0));
	ASSERT_EQ(sizeof(buf), ktls_recv_all(cfd, buf, sizeof(buf), 0));

	close(cfd);
	close(sfd);
	unload_and_reload(_metadata, self);
}

TEST_F(unload, unaccepted_children)
{
	struct sockaddr_storage ss;
	int lfd, c[NR_CHILDREN], i;
	socklen_t len;
	long last;

	if (!self->ko)
		return;
	lfd = ktls_listen_ulp(AF_INET, NR_CHILDREN, ULP_ATTEST, &ss, &len);
	ASSERT_GE(lfd, 0);
	for (i = 0; i < NR_CHILDREN; i++) {
		c[i] = ktls_connect(AF_INET, &ss, len);
		ASSERT_GE(c[i], 0);
	}
	EXPECT_EQ(0, ktls_wait_refcnt(MOD, self->base + 1 + NR_CHILDREN,
				      UNLOAD_WAIT_MS, &last))
		TH_LOG("refcnt %ld, expected %ld", last,
		       self->base + 1 + NR_CHILDREN);
	expect_unload_refused(_metadata);

	/* the clients stay open: only the listener's close frees the children */
	close(lfd);
	unload_and_reload(_metadata, self);
	for (i = 0; i < NR_CHILDREN; i++)
		close(c[i]);
}

TEST_F(unload, child_outlives_listener)
{
	struct sockaddr_storage ss;
	int lfd, cfd, afd;
	socklen_t len;

	if (!self->ko)
		return;
	lfd = ktls_listen_ulp(AF_INET6, 1, ULP_ATTEST, &ss, &len);
	ASSERT_GE(lfd, 0);
	cfd = ktls_connect(AF_INET6, &ss, len);
	ASSERT_GE(cfd, 0);
	afd = accept(lfd, NULL, NULL);
	ASSERT_GE(afd, 0);
	close(lfd);

	/* the accepted child still holds the module */
	expect_unload_refused(_metadata);

	close(afd);
	close(cfd);
	unload_and_reload(_metadata, self);
}

TEST_HARNESS_MAIN
