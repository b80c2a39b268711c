/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel version differences, all in one place (force-included by Kbuild),
 * so that the other sources read as if written for one kernel.
 *
 * The module is built and tested against Debian 12's 6.1 kernel.  The hooks
 * it wraps change shape in later kernels (proto sendpage goes in 6.5,
 * proto_ops accept takes a struct proto_accept_arg from 6.10): those
 * differences get their definitions here when a kernel that has them is
 * built and tested, not before.
 */
#ifndef _KTLS_ATTEST_COMPAT_H
#define _KTLS_ATTEST_COMPAT_H

#include <linux/version.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 1, 0) || \
	LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
#error "built and tested against Linux 6.1 only: add this kernel's differences here"
#endif

#endif /* _KTLS_ATTEST_COMPAT_H */
