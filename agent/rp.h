/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rp.h: the relying-party side of one exchange (Documentation/protocol.rst,
 * "Exchanges"): the Challenge it opens (a fresh 32-byte nonce from the OS
 * RNG, the evidence types this RP appraises, the policy's PCR selection;
 * a clock-store mark taken as it goes out) and the Verdict that closes it,
 * after the appraisal of the Evidence against the binder this end computes
 * from its own binding (the peer's TLS role, the peer key hash).
 *
 * Owns: the exchange's state.  Calls: proto, binder, appraise, clockstore,
 * getrandom(2), log.
 */
#ifndef KATT_AGENT_RP_H
#define KATT_AGENT_RP_H

#include "appraise.h"
#include "binder.h"
#include "clockstore.h"
#include "proto.h"

struct katt_rp_exchange {
	bool open;
	struct katt_challenge challenge;	/* as sent */
	uint64_t mark;
};

/*
 * Opens an exchange with round id @rid and writes its Challenge into @out.
 * Returns the length, or a negative errno (-EIO: no random bytes).
 */
long katt_rp_challenge(struct katt_rp_exchange *ex,
		       const struct katt_rp_policy *policy,
		       struct katt_clock_store *clocks, uint32_t rid,
		       uint8_t *out, size_t cap);

/*
 * Appraises the decoded Evidence @ev of the open exchange @ex received on
 * the connection of binding @b, writes the Verdict into @out and closes the
 * exchange.  @res says why.  Returns the Verdict's length, -EPROTO if @ev
 * is not the Evidence of this exchange (no exchange open, another round
 * id: an unexpected message, Error 4; the exchange stays as it was), or
 * another negative errno.
 */
long katt_rp_verdict(struct katt_rp_exchange *ex,
		     const struct katt_rp_policy *policy,
		     struct katt_clock_store *clocks,
		     const struct katt_binding *b, const struct katt_msg *ev,
		     struct katt_appraisal *res, uint8_t *out, size_t cap);

/* Closes an exchange that ends without a Verdict (an Error, the deadline). */
void katt_rp_exchange_end(struct katt_rp_exchange *ex,
			  struct katt_clock_store *clocks);

#endif /* KATT_AGENT_RP_H */
