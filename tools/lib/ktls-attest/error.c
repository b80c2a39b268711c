// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Error messages: every failure leaves one sentence in its connection and
 * in the calling thread, next to the negative errno it returns.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "internal.h"

static __thread char katt_thread_err[KATT_ERR_MAX];

int katt_err(struct ktls_attest *ka, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(katt_thread_err, sizeof(katt_thread_err), fmt, ap);
	va_end(ap);
	if (ka)
		memcpy(ka->err, katt_thread_err, sizeof(ka->err));
	return err;
}

const char *ktls_attest_strerror(const struct ktls_attest *ka)
{
	return ka ? ka->err : katt_thread_err;
}

const char *katt_ssl_reason(char *buf, size_t size)
{
	unsigned long e = ERR_peek_last_error();

	buf[0] = '\0';
	if (e)
		ERR_error_string_n(e, buf, size);
	ERR_clear_error();
	return buf;
}

const char *ktls_attest_mode_name(enum ktls_attest_mode mode)
{
	switch (mode) {
	case KTLS_ATTEST_MODE_USERSPACE:
		return "userspace";
	case KTLS_ATTEST_MODE_GATED:
		return "gated";
	case KTLS_ATTEST_MODE_BOUND:
		return "bound";
	}
	return "?";
}

int ktls_attest_mode_from_name(const char *name)
{
	if (!strcmp(name, "userspace"))
		return KTLS_ATTEST_MODE_USERSPACE;
	if (!strcmp(name, "gated"))
		return KTLS_ATTEST_MODE_GATED;
	if (!strcmp(name, "bound"))
		return KTLS_ATTEST_MODE_BOUND;
	return katt_err(NULL, -EINVAL,
			"unknown mode \"%s\" (userspace, gated or bound)",
			name);
}

const char *ktls_attest_state_name(uint32_t state)
{
	switch (state) {
	case KTLS_ATTEST_STATE_ARMED:
		return "armed";
	case KTLS_ATTEST_STATE_PENDING:
		return "pending";
	case KTLS_ATTEST_STATE_PASSED:
		return "passed";
	case KTLS_ATTEST_STATE_REATTESTING:
		return "reattesting";
	case KTLS_ATTEST_STATE_REVOKED:
		return "revoked";
	case KTLS_ATTEST_STATE_FAILED:
		return "failed";
	}
	return "?";
}
