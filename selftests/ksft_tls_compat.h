/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Force-included (gcc -include) into the kernel's own kTLS selftest,
 * tools/testing/selftests/net/tls.c, as Debian's linux-source-6.1
 * (6.1.192-3) ships it.  That file does not build against the
 * kselftest_harness.h of the same package: stable backports of later tests
 * (tls_basic.rekey_rx/rekey_tx, tls.rekey*, tls.splice_rekey,
 * tls_basic.recvmsg_nopad_retry_iov) call two helpers that only later
 * kernels have:
 *
 * - tls_crypto_info_init() with a fourth argument, the key generation
 *   (upstream "selftests: tls: add key_generation argument to
 *   tls_crypto_info_init"): every byte of the crypto_info after its
 *   version/cipher header is that value, so that a rekey really changes
 *   the key.  The file's own three-argument definition zeroes them.
 * - __test_passed() of the later harness (its ->exit_code rework); the 6.1
 *   harness keeps the same fact in ->passed.
 *
 * Both are given here exactly as upstream defines them.  Nothing else of
 * tls.c changes: its three-argument calls, and its definition, expand to
 * themselves (a macro's name is not expanded again inside its own
 * expansion).  This header includes nothing, so that tls.c's own
 * "#define _GNU_SOURCE" still comes before every system header.
 */
#ifndef KSFT_TLS_COMPAT_H
#define KSFT_TLS_COMPAT_H

/* The fifth argument of the picker: which of the two a call means. */
#define KSFT_TLS_PICK5(a1, a2, a3, a4, name, ...)	name

#define tls_crypto_info_init(...)					\
	KSFT_TLS_PICK5(__VA_ARGS__, ksft_tls_crypto_info_init_gen,	\
		       tls_crypto_info_init, -)(__VA_ARGS__)

/* The three-argument init, then the key generation in the key bytes. */
#define ksft_tls_crypto_info_init_gen(version, cipher, keys, gen)	\
	do {								\
		tls_crypto_info_init(version, cipher, keys);		\
		memset((char *)(keys) + sizeof(struct tls_crypto_info),	\
		       (gen),						\
		       __builtin_offsetof(struct tls_crypto_info_keys,	\
					  len) -			\
		       sizeof(struct tls_crypto_info));			\
	} while (0)

#define __test_passed(metadata)	((metadata)->passed)

#endif /* KSFT_TLS_COMPAT_H */
