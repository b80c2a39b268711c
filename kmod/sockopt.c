// SPDX-License-Identifier: GPL-2.0
/*
 * ktls-attest: socket options at level SOL_KTLS_ATTEST.
 *
 * Errors, as documented in Documentation/user-api.rst: EINVAL for a bad
 * size or value, EBUSY for role or policy once the first kTLS key is in,
 * EALREADY for a second binding, ENOPROTOOPT for an unknown option or the
 * wrong direction.
 */

#include <linux/sockptr.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <net/sock.h>

#include "ktls_attest.h"

#define KATT_ROLE_ALL (KTLS_ATTEST_ROLE_ATTESTER | KTLS_ATTEST_ROLE_RELYING_PARTY)
#define KATT_POLICY_FLAGS_ALL (KTLS_ATTEST_POLICY_FLAGS_HOLD_REATTEST | \
			       KTLS_ATTEST_POLICY_FLAGS_RESET_ON_REVOKE)

/* Role and policy are part of the first round's contract. */
static int katt_set_before_keys(struct katt_sock *ks, int role,
				const struct ktls_attest_policy *policy)
{
	int err = 0;

	spin_lock_bh(&ks->lock);
	if (ks->state != KTLS_ATTEST_STATE_ARMED) {
		err = -EBUSY;
	} else if (policy) {
		ks->timeout_ms = policy->timeout_ms ? policy->timeout_ms :
				 KTLS_ATTEST_TIMEOUT_MS_DEFAULT;
		ks->policy_flags = policy->flags;
	} else {
		ks->role = role;
	}
	spin_unlock_bh(&ks->lock);
	return err;
}

static int katt_set_role(struct katt_sock *ks, sockptr_t optval,
			 unsigned int optlen)
{
	int role;

	if (optlen != sizeof(role))
		return -EINVAL;
	if (copy_from_sockptr(&role, optval, sizeof(role)))
		return -EFAULT;
	if (!role || (role & ~KATT_ROLE_ALL))
		return -EINVAL;
	return katt_set_before_keys(ks, role, NULL);
}

static int katt_set_policy(struct katt_sock *ks, sockptr_t optval,
			   unsigned int optlen)
{
	struct ktls_attest_policy policy;

	if (optlen != sizeof(policy))
		return -EINVAL;
	if (copy_from_sockptr(&policy, optval, sizeof(policy)))
		return -EFAULT;
	if (policy.flags & ~KATT_POLICY_FLAGS_ALL)
		return -EINVAL;
	if (policy.timeout_ms &&
	    (policy.timeout_ms < KTLS_ATTEST_TIMEOUT_MS_MIN ||
	     policy.timeout_ms > KTLS_ATTEST_TIMEOUT_MS_MAX))
		return -EINVAL;
	return katt_set_before_keys(ks, 0, &policy);
}

#define KATT_BINDING_FLAGS_ALL (KTLS_ATTEST_BINDING_LOCAL_KEY | \
				KTLS_ATTEST_BINDING_PEER_KEY | \
				KTLS_ATTEST_BINDING_TLS_SERVER | \
				KTLS_ATTEST_BINDING_PEER_VERIFIED)

/* The binding is a secret: the copy on the stack is wiped. */
static int katt_set_binding(struct katt_sock *ks, sockptr_t optval,
			    unsigned int optlen)
{
	struct ktls_attest_binding b;
	int err = -EINVAL;

	if (optlen != sizeof(b))
		return -EINVAL;
	if (copy_from_sockptr(&b, optval, sizeof(b))) {
		/* a part of it may have been copied */
		err = -EFAULT;
		goto out_wipe;
	}
	if (b.reserved || (b.flags & ~KATT_BINDING_FLAGS_ALL))
		goto out_wipe;
	/* a hash that is not given must not look like one */
	if (!(b.flags & KTLS_ATTEST_BINDING_LOCAL_KEY) &&
	    memchr_inv(b.local_key_sha256, 0, sizeof(b.local_key_sha256)))
		goto out_wipe;
	if (!(b.flags & KTLS_ATTEST_BINDING_PEER_KEY) &&
	    memchr_inv(b.peer_key_sha256, 0, sizeof(b.peer_key_sha256)))
		goto out_wipe;
	/* a verified peer has a key */
	if ((b.flags & KTLS_ATTEST_BINDING_PEER_VERIFIED) &&
	    !(b.flags & KTLS_ATTEST_BINDING_PEER_KEY))
		goto out_wipe;
	err = katt_gate_set_binding(ks, &b);
out_wipe:
	memzero_explicit(&b, sizeof(b));
	return err;
}

/*
 * Start a new round (or join the one under way) and wait for its verdict,
 * interruptibly and at most SO_SNDTIMEO.  A non-blocking socket only starts
 * the round: EINPROGRESS.
 */
static int katt_reattest(struct katt_sock *ks)
{
	struct sock *sk = ks->sk;
	long timeo;
	int err;

	err = katt_gate_reattest(ks, NULL);
	if (err)
		return err;
	if (sk->sk_socket->file && (sk->sk_socket->file->f_flags & O_NONBLOCK))
		return -EINPROGRESS;
	timeo = sock_sndtimeo(sk, false);
	return katt_gate_wait(ks, KATT_WAIT_ROUND, &timeo);
}

int katt_sockopt_set(struct katt_sock *ks, int optname, sockptr_t optval,
		     unsigned int optlen)
{
	switch (optname) {
	case KTLS_ATTEST_ROLE:
		return katt_set_role(ks, optval, optlen);
	case KTLS_ATTEST_POLICY:
		return katt_set_policy(ks, optval, optlen);
	case KTLS_ATTEST_REATTEST:
		return katt_reattest(ks);
	case KTLS_ATTEST_BINDING:
		return katt_set_binding(ks, optval, optlen);
	default:
		return -ENOPROTOOPT;
	}
}

int katt_sockopt_get(struct katt_sock *ks, int optname, char __user *optval,
		     int __user *optlen)
{
	union {
		int role;
		struct ktls_attest_policy policy;
		struct ktls_attest_status status;
	} v;
	int len, size;

	if (get_user(len, optlen))
		return -EFAULT;

	memset(&v, 0, sizeof(v));
	switch (optname) {
	case KTLS_ATTEST_ROLE:
		size = sizeof(v.role);
		spin_lock_bh(&ks->lock);
		v.role = ks->role;
		spin_unlock_bh(&ks->lock);
		break;
	case KTLS_ATTEST_POLICY:
		size = sizeof(v.policy);
		spin_lock_bh(&ks->lock);
		v.policy.timeout_ms = ks->timeout_ms;
		v.policy.flags = ks->policy_flags;
		spin_unlock_bh(&ks->lock);
		break;
	case KTLS_ATTEST_STATUS:
		size = sizeof(v.status);
		katt_gate_fill_status(ks, &v.status);
		break;
	default:
		return -ENOPROTOOPT;
	}

	if (len < size)
		return -EINVAL;
	if (copy_to_user(optval, &v, size) || put_user(size, optlen))
		return -EFAULT;
	return 0;
}
