// SPDX-License-Identifier: GPL-2.0
/*
 * katt-evil: a hostile attester for the end-to-end attack tests
 * (selftests/agent_e2e.c).  It registers as the agent of its network
 * namespace, as selftests/katt_agent.c does, speaks the in-band protocol
 * with the agent library (agent/: the binder, the attester's TPM quote,
 * the message and tpm2-quote codecs) and answers every Challenge as its
 * MODE says, with a TPM of its own: a real quote over the wrong binder, a
 * quote of another TPM, a forged one, broken CBOR, or nothing.  It is the
 * peer an RP must refuse; it reports what the RP answered.
 *
 * usage: katt-evil [-T TCTI] -s STATE [--other-tcti TCTI] [--other-state DIR]
 *                  MODE
 *        katt-evil [-T TCTI] --forger-name
 *
 *   -T TCTI           its TPM (default device:/dev/tpmrm0)
 *   -s STATE          the state directory with the AK the RP pins
 *   --other-tcti TCTI another TPM (for ak-other-tpm)
 *   --other-state DIR state directory of the other AK (unknown-ak: on this
 *                     TPM; ak-other-tpm: on the other TPM)
 *   --forger-name     prints the Name of the unrestricted key that
 *                     forge-unrestricted signs with, and exits (a primary
 *                     key: the same on every run on one TPM)
 *
 * MODE, what a Challenge gets:
 *   honest             Evidence as the real attester makes it (control)
 *   replay             the first connection honest; later ones the first
 *                      connection's Evidence again (its round id changed)
 *   relay              wait for two connections' Challenges; each answered
 *                      with a quote over the other connection's binder
 *   reflect            a quote over the binder of the other TLS role
 *   wrong-nonce        a quote over a binder of a random nonce
 *   unknown-ak         an honest quote by an AK nobody pinned
 *   ak-other-tpm       a quote of the other TPM sent with the pinned AK's
 *                      public
 *   forge-unrestricted a TPMS_ATTEST made up (the right binder, another
 *                      clock) signed by an unrestricted TPM signing key
 *   other-pcrs         an honest quote of other PCRs than asked
 *   sha1-as-sha256     a quote of sha1 PCRs 0-7 sent as sha256 PCRs 0-4
 *   cannot-attest      Error 2 (a downgrade)
 *   garbage            an HTTP request, not CBOR
 *   truncated          honest Evidence cut in half
 *   oversized          a CBOR map that declares 2^32 - 1 entries
 *   verdict-first      a Verdict (pass) instead of Evidence
 *   silent             nothing at all
 *
 * Output, one line each, on stdout:
 *   ready portid=N ak=NAME
 *   round cookie=N round=N state=N role=N bflags=N
 *   challenge cookie=N rid=N pcrs=HEX...
 *   sent cookie=N what=MODE len=N ret=ERRNO ms=N   (ms: making it)
 *   verdict cookie=N rid=N result=pass|fail reason=N name=NAME text=TEXT
 *   error cookie=N code=N name=NAME text=TEXT
 *   msg cookie=N type=N len=N        any other message
 *   undecodable cookie=N why=TEXT
 *   local cookie=N round=N verdict=pass|fail ret=ERRNO
 * On a Verdict or an Error it gives its own kernel the matching local
 * verdict, as an attester does.  It runs until stdin ends or SIGTERM.
 *
 * Owns: its netlink socket, its TPM connections.  Calls: the agent library
 * (attester, binder, proto, tpm, tpm_crypto), tss2-esys, tss2-mu, OpenSSL,
 * selftests/lib/katt_nl.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <linux/ktls_attest.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>

#include "attester.h"
#include "binder.h"
#include "log.h"
#include "proto.h"
#include "tpm.h"
#include "tpm_crypto.h"
#include "lib/katt_nl.h"

#define PROG		"katt-evil"
#define RCVBUF		(1024 * 1024)
#define SESSIONS	64

enum mode {
	M_HONEST, M_REPLAY, M_RELAY, M_REFLECT, M_WRONG_NONCE, M_UNKNOWN_AK,
	M_AK_OTHER_TPM, M_FORGE, M_OTHER_PCRS, M_SHA1, M_CANNOT_ATTEST,
	M_GARBAGE, M_TRUNCATED, M_OVERSIZED, M_VERDICT_FIRST, M_SILENT,
};

static const char *const mode_names[] = {
	[M_HONEST] = "honest",
	[M_REPLAY] = "replay",
	[M_RELAY] = "relay",
	[M_REFLECT] = "reflect",
	[M_WRONG_NONCE] = "wrong-nonce",
	[M_UNKNOWN_AK] = "unknown-ak",
	[M_AK_OTHER_TPM] = "ak-other-tpm",
	[M_FORGE] = "forge-unrestricted",
	[M_OTHER_PCRS] = "other-pcrs",
	[M_SHA1] = "sha1-as-sha256",
	[M_CANNOT_ATTEST] = "cannot-attest",
	[M_GARBAGE] = "garbage",
	[M_TRUNCATED] = "truncated",
	[M_OVERSIZED] = "oversized",
	[M_VERDICT_FIRST] = "verdict-first",
	[M_SILENT] = "silent",
};

#define NMODES	(sizeof(mode_names) / sizeof(mode_names[0]))

/* One socket: its binding, its round, the Challenge waiting (relay). */
struct session {
	bool used;
	uint64_t cookie;
	uint32_t round;
	struct katt_binding b;
	bool pending;
	struct katt_msg ch;
};

struct evil {
	enum mode mode;
	struct katt_nl *nl;
	struct katt_attester *a;	/* the pinned AK */
	struct katt_attester *other;	/* unknown-ak, ak-other-tpm */
	struct session s[SESSIONS];
	bool have_first;		/* replay: the first Evidence */
	uint8_t first[KATT_MSG_MAX];
	long first_len;
	uint8_t out[KATT_MSG_MAX];
	uint8_t value[KATT_MSG_MAX];
	struct katt_quote q;
};

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void usage(FILE *f)
{
	unsigned int i;

	fprintf(f, "usage: " PROG " [-T TCTI] -s STATE [--other-tcti TCTI] [--other-state DIR] MODE\n"
		   "       " PROG " [-T TCTI] --forger-name\n"
		   "MODE:");
	for (i = 0; i < NMODES; i++)
		fprintf(f, " %s", mode_names[i]);
	fprintf(f, "\n");
}

static struct session *session_of(struct evil *e, uint64_t cookie, bool make)
{
	struct session *free_one = NULL;
	unsigned int i;

	for (i = 0; i < SESSIONS; i++) {
		if (e->s[i].used && e->s[i].cookie == cookie)
			return &e->s[i];
		if (!e->s[i].used && !free_one)
			free_one = &e->s[i];
	}
	if (!make || !free_one)
		return NULL;
	memset(free_one, 0, sizeof(*free_one));
	free_one->used = true;
	free_one->cookie = cookie;
	return free_one;
}

/* --- the unrestricted key of forge-unrestricted ---------------------------- */

static const TPM2B_PUBLIC forger_template = {
	.publicArea = {
		.type = TPM2_ALG_ECC,
		.nameAlg = TPM2_ALG_SHA256,
		/* a signing key, but not restricted: it signs any digest */
		.objectAttributes = TPMA_OBJECT_SIGN_ENCRYPT |
				    TPMA_OBJECT_FIXEDTPM |
				    TPMA_OBJECT_FIXEDPARENT |
				    TPMA_OBJECT_SENSITIVEDATAORIGIN |
				    TPMA_OBJECT_USERWITHAUTH,
		.parameters.eccDetail = {
			.symmetric.algorithm = TPM2_ALG_NULL,
			.scheme = { .scheme = TPM2_ALG_ECDSA,
				    .details.ecdsa.hashAlg = TPM2_ALG_SHA256 },
			.curveID = TPM2_ECC_NIST_P256,
			.kdf.scheme = TPM2_ALG_NULL,
		},
	},
};

static int forger_open(ESYS_CONTEXT *esys, ESYS_TR *key, TPM2B_PUBLIC **pub)
{
	TPM2B_SENSITIVE_CREATE sens = { 0 };
	TPM2B_DATA outside = { 0 };
	TPML_PCR_SELECTION nopcr = { 0 };
	TSS2_RC rc;

	rc = Esys_CreatePrimary(esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD,
				ESYS_TR_NONE, ESYS_TR_NONE, &sens,
				&forger_template, &outside, &nopcr, key, pub,
				NULL, NULL, NULL);
	return rc ? katt_tpm_fail(rc, "CreatePrimary (the forging key)") : 0;
}

static int print_forger_name(const char *tcti)
{
	struct katt_tpm tpm;
	TPM2B_PUBLIC *pub = NULL;
	TPM2B_NAME name;
	char hex[2 * sizeof(name.name) + 1];
	ESYS_TR key;
	int ret;

	ret = katt_tpm_open(&tpm, tcti);
	if (ret)
		return 1;
	ret = forger_open(tpm.esys, &key, &pub);
	if (!ret) {
		Esys_FlushContext(tpm.esys, key);
		ret = katt_tpm_name(&pub->publicArea, &name);
	}
	if (!ret) {
		katt_hex(name.name, name.size, hex);
		printf("%s\n", hex);
	}
	Esys_Free(pub);
	katt_tpm_close(&tpm);
	return ret ? 1 : 0;
}

/* --- building answers --------------------------------------------------------- */

/* The Evidence for @ch carrying the tpm2-quote value @value. */
static long evidence(struct evil *e, const struct katt_msg *ch,
		     const uint8_t *value, size_t len)
{
	struct katt_msg ev = {
		.version = ch->version,
		.type = KATT_MSG_EVIDENCE,
		.evidence = {
			.rid = ch->challenge.rid,
			.cmw = {
				.type = KATT_MEDIA_TPM2_QUOTE,
				.type_len = strlen(KATT_MEDIA_TPM2_QUOTE),
				.value = value,
				.value_len = len,
				.has_ind = true,
				.ind = KATT_CMW_IND_EVIDENCE,
			},
		},
	};

	return katt_msg_encode(&ev, e->out, sizeof(e->out));
}

/*
 * A quote by @a of @sel (NULL: what @ch asks for) over @binder, as a
 * tpm2-quote value in e->value.  Its length or -errno.
 */
static long quote_value(struct evil *e, struct katt_attester *a,
			const struct katt_msg *ch, const TPML_PCR_SELECTION *sel,
			const uint8_t binder[KATT_BINDER_LEN])
{
	const struct katt_challenge *c = &ch->challenge;
	struct katt_tpm2_quote nologs = { 0 };
	TPML_PCR_SELECTION asked;
	struct katt_pcr_sel def = {
		.nbanks = 1,
		.bank[0] = { .alg = TPM2_ALG_SHA256, .pcrs = 0xff },
	};
	int ret;

	if (!sel) {
		katt_pcr_sel_to_tpml(c->has_sel ? &c->sel : &def, &asked);
		sel = &asked;
	}
	ret = katt_attester_quote(a, binder, sel, &e->q);
	if (ret)
		return ret;
	return katt_attester_value(a, &e->q, &nologs, e->value,
				   sizeof(e->value));
}

/* Re-encodes the decoded value @q into e->value (it may point there). */
static long reencode(struct evil *e, const struct katt_tpm2_quote *q)
{
	static uint8_t tmp[KATT_MSG_MAX];
	long n = katt_tpm2_quote_encode(q, tmp, sizeof(tmp));

	if (n > 0)
		memcpy(e->value, tmp, n);
	return n;
}

static long decode_value(struct evil *e, long len, struct katt_tpm2_quote *q)
{
	char why[160];

	if (katt_tpm2_quote_decode(e->value, len, q, why, sizeof(why))) {
		fprintf(stderr, PROG ": own value does not decode: %s\n", why);
		return -EINVAL;
	}
	return 0;
}

/* forge-unrestricted: the genuine TPMS_ATTEST changed and signed anew. */
static long forge(struct evil *e, const struct katt_msg *ch,
		  const uint8_t binder[KATT_BINDER_LEN])
{
	static uint8_t attest[sizeof(TPMS_ATTEST)], sig[sizeof(TPMT_SIGNATURE)],
		pub[sizeof(TPM2B_PUBLIC)];
	ESYS_CONTEXT *esys = katt_attester_tpm(e->a)->esys;
	TPMT_TK_HASHCHECK none = { .tag = TPM2_ST_HASHCHECK,
				   .hierarchy = TPM2_RH_NULL };
	TPMT_SIG_SCHEME scheme = { .scheme = TPM2_ALG_NULL };
	TPM2B_DIGEST digest = { .size = 32 };
	TPMT_SIGNATURE *signature = NULL;
	TPM2B_PUBLIC *out_pub = NULL;
	struct katt_tpm2_quote q;
	TPMS_ATTEST info;
	size_t off = 0, alen, slen, plen;
	unsigned int dlen;
	ESYS_TR key = ESYS_TR_NONE;
	long len;
	TSS2_RC rc;

	len = quote_value(e, e->a, ch, NULL, binder);
	if (len < 0 || decode_value(e, len, &q))
		return len < 0 ? len : -EINVAL;
	memset(&info, 0, sizeof(info));
	if (Tss2_MU_TPMS_ATTEST_Unmarshal(q.attest.p, q.attest.len, &off, &info))
		return -EINVAL;
	/* what a forger makes up: a clock far ahead, PCR 0's value its own */
	info.clockInfo.clock += 1000000;
	info.attested.quote.pcrDigest.buffer[0] ^= 0x5a;
	off = 0;
	if (Tss2_MU_TPMS_ATTEST_Marshal(&info, attest, sizeof(attest), &off))
		return -EINVAL;
	alen = off;
	if (EVP_Digest(attest, alen, digest.buffer, &dlen, EVP_sha256(),
		       NULL) != 1)
		return -EIO;
	if (forger_open(esys, &key, &out_pub))
		return -EIO;
	rc = Esys_Sign(esys, key, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
		       &digest, &scheme, &none, &signature);
	Esys_FlushContext(esys, key);
	if (rc) {
		Esys_Free(out_pub);
		return katt_tpm_fail(rc, "Sign (the forged quote)");
	}
	off = 0;
	rc = Tss2_MU_TPMT_SIGNATURE_Marshal(signature, sig, sizeof(sig), &off);
	slen = off;
	off = 0;
	if (!rc)
		rc = Tss2_MU_TPM2B_PUBLIC_Marshal(out_pub, pub, sizeof(pub), &off);
	plen = off;
	Esys_Free(signature);
	Esys_Free(out_pub);
	if (rc)
		return -EINVAL;
	q.attest.p = attest;
	q.attest.len = alen;
	q.sig.p = sig;
	q.sig.len = slen;
	q.ak_pub.p = pub;
	q.ak_pub.len = plen;
	return reencode(e, &q);
}

/* sha1-as-sha256: sha1 PCRs 0-7 quoted (160 bytes), labelled sha256 0-4. */
static long sha1_as_sha256(struct evil *e, const struct katt_msg *ch,
			   const uint8_t binder[KATT_BINDER_LEN])
{
	static uint8_t raw[8 * 20];
	TPML_PCR_SELECTION sel = {
		.count = 1,
		.pcrSelections[0] = {
			.hash = TPM2_ALG_SHA1,
			.sizeofSelect = 3,
			.pcrSelect = { 0xff, 0, 0 },
		},
	};
	struct katt_tpm2_quote q;
	unsigned int i;
	long len;

	len = quote_value(e, e->a, ch, &sel, binder);
	if (len < 0 || decode_value(e, len, &q))
		return len < 0 ? len : -EINVAL;
	for (i = 0; i < 8; i++)
		memcpy(raw + 20 * i, q.pcrs.bank[0].value[i], 20);
	q.pcrs.nbanks = 1;
	q.pcrs.bank[0].alg = TPM2_ALG_SHA256;
	q.pcrs.bank[0].pcrs = 0x1f;
	q.pcrs.bank[0].size = 32;
	for (i = 0; i < KATT_PCR_COUNT; i++)
		q.pcrs.bank[0].value[i] = i < 5 ? raw + 32 * i : NULL;
	return reencode(e, &q);
}

/* other-pcrs: the PCRs of the asked banks that were not asked, or PCR 23. */
static long other_pcrs(struct evil *e, const struct katt_msg *ch,
		       const uint8_t binder[KATT_BINDER_LEN])
{
	const struct katt_challenge *c = &ch->challenge;
	struct katt_pcr_sel sel = {
		.nbanks = 1,
		.bank[0] = { .alg = TPM2_ALG_SHA256, .pcrs = 1u << 23 },
	};
	TPML_PCR_SELECTION tpml;

	if (c->has_sel && c->sel.nbanks) {
		sel.bank[0].alg = c->sel.bank[0].alg;
		sel.bank[0].pcrs = ~c->sel.bank[0].pcrs & 0xff;
		if (!sel.bank[0].pcrs)
			sel.bank[0].pcrs = 1u << 23;
	}
	katt_pcr_sel_to_tpml(&sel, &tpml);
	return quote_value(e, e->a, ch, &tpml, binder);
}

/* ak-other-tpm: the other TPM's quote under the pinned AK's public. */
static long other_tpm(struct evil *e, const struct katt_msg *ch,
		      const uint8_t binder[KATT_BINDER_LEN])
{
	const struct katt_ak *ak = katt_attester_ak(e->a);
	struct katt_tpm2_quote q;
	long len;

	len = quote_value(e, e->other, ch, NULL, binder);
	if (len < 0 || decode_value(e, len, &q))
		return len < 0 ? len : -EINVAL;
	q.ak_pub.p = ak->pub_blob;
	q.ak_pub.len = ak->pub_blob_len;
	return reencode(e, &q);
}

/* The message @mode sends for the Challenge @ch of @s, in e->out. */
static long answer(struct evil *e, struct session *s, const struct katt_msg *ch,
		   const struct katt_binding *quote_b)
{
	const struct katt_challenge *c = &ch->challenge;
	uint8_t binder[KATT_BINDER_LEN], nonce[KATT_NONCE_LEN];
	enum katt_msg_type t;
	struct katt_msg m;
	long len = -EINVAL;
	uint8_t role;

	switch (e->mode) {
	case M_HONEST:
		return katt_attester_answer(e->a, ch, &s->b, e->out,
					    sizeof(e->out), &t);
	case M_REPLAY:
		if (e->have_first) {
			struct katt_decode_err err;

			/* the first Evidence, its (unsigned) round id set */
			if (katt_msg_decode(e->first, e->first_len, &m, &err))
				return -EINVAL;
			m.evidence.rid = c->rid;
			return katt_msg_encode(&m, e->out, sizeof(e->out));
		}
		len = katt_attester_answer(e->a, ch, &s->b, e->out,
					   sizeof(e->out), &t);
		if (len > 0 && t == KATT_MSG_EVIDENCE) {
			memcpy(e->first, e->out, len);
			e->first_len = len;
			e->have_first = true;
		}
		return len;
	case M_RELAY:
		/* the binder of the other connection, this Challenge's nonce */
		if (katt_binder_attester(quote_b, c->nonce, binder))
			return -EIO;
		break;
	case M_REFLECT:
		role = s->b.tls_server ? KATT_ROLE_CLIENT_ATTESTS :
		       KATT_ROLE_SERVER_ATTESTS;
		if (katt_binder(role, s->b.exporter, c->nonce,
				s->b.has_local_key ? s->b.local_key : NULL,
				binder))
			return -EIO;
		break;
	case M_WRONG_NONCE:
		if (getrandom(nonce, sizeof(nonce), 0) != sizeof(nonce) ||
		    katt_binder_attester(&s->b, nonce, binder))
			return -EIO;
		break;
	case M_CANNOT_ATTEST:
		memset(&m, 0, sizeof(m));
		m.version = ch->version;
		m.type = KATT_MSG_ERROR;
		m.error.code = KATT_ERR_CANNOT_ATTEST;
		m.error.has_rid = true;
		m.error.rid = c->rid;
		m.error.has_in_reply_to = true;
		m.error.in_reply_to = KATT_MSG_CHALLENGE;
		m.error.has_text = true;
		katt_text_set(&m.error.text, "this host has no TPM today");
		return katt_msg_encode(&m, e->out, sizeof(e->out));
	case M_GARBAGE: {
		/* what a web client sends: 'G' reads as a 7-byte string, then more */
		static const char http[] = "GET / HTTP/1.1\r\nHost: ktls-attest\r\n\r\n";

		memcpy(e->out, http, sizeof(http) - 1);
		return sizeof(http) - 1;
	}
	case M_TRUNCATED:
		len = katt_attester_answer(e->a, ch, &s->b, e->out,
					   sizeof(e->out), &t);
		return len > 1 ? len / 2 : -EINVAL;
	case M_OVERSIZED: {
		/* a map of 2^32 - 1 entries, then one entry */
		static const uint8_t big[] = {
			0xbb, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff,
			0x00, 0x01,
		};

		memcpy(e->out, big, sizeof(big));
		return sizeof(big);
	}
	case M_VERDICT_FIRST:
		memset(&m, 0, sizeof(m));
		m.version = ch->version;
		m.type = KATT_MSG_VERDICT;
		m.verdict.rid = c->rid;
		m.verdict.result = KATT_RESULT_PASS;
		return katt_msg_encode(&m, e->out, sizeof(e->out));
	case M_SILENT:
		return 0;
	default:
		/* the modes below quote over the right binder */
		if (katt_binder_attester(&s->b, c->nonce, binder))
			return -EIO;
		break;
	}

	switch (e->mode) {
	case M_UNKNOWN_AK:
		len = quote_value(e, e->other, ch, NULL, binder);
		break;
	case M_AK_OTHER_TPM:
		len = other_tpm(e, ch, binder);
		break;
	case M_FORGE:
		len = forge(e, ch, binder);
		break;
	case M_OTHER_PCRS:
		len = other_pcrs(e, ch, binder);
		break;
	case M_SHA1:
		len = sha1_as_sha256(e, ch, binder);
		break;
	default:
		len = quote_value(e, e->a, ch, NULL, binder);
		break;
	}
	OPENSSL_cleanse(binder, sizeof(binder));
	if (len < 0)
		return len;
	return evidence(e, ch, e->value, len);
}

static void send_answer(struct evil *e, struct session *s,
			const struct katt_msg *ch,
			const struct katt_binding *quote_b)
{
	long long t0 = mono_ms(), ms;
	long len = answer(e, s, ch, quote_b);
	int ret;

	/* the time it took to make the answer: the TPM's quote, mostly */
	ms = mono_ms() - t0;
	if (len <= 0) {
		say("sent cookie=%" PRIu64 " what=%s len=%ld ret=%d ms=%lld",
		    s->cookie, mode_names[e->mode], len,
		    len < 0 ? (int)-len : 0, ms);
		return;
	}
	ret = katt_nl_msg_send(e->nl, s->cookie, e->out, len);
	say("sent cookie=%" PRIu64 " what=%s len=%ld ret=%d ms=%lld", s->cookie,
	    mode_names[e->mode], len, -ret, ms);
}

/* relay: once two Challenges wait, each goes out with the other's binder. */
static void relay_pending(struct evil *e)
{
	struct session *p[2];
	unsigned int i, n = 0;

	for (i = 0; i < SESSIONS && n < 2; i++)
		if (e->s[i].used && e->s[i].pending)
			p[n++] = &e->s[i];
	if (n < 2)
		return;
	send_answer(e, p[0], &p[0]->ch, &p[1]->b);
	send_answer(e, p[1], &p[1]->ch, &p[0]->b);
	p[0]->pending = p[1]->pending = false;
}

/* --- events ----------------------------------------------------------------- */

static void local_verdict(struct evil *e, struct session *s, bool pass,
			  const char *text)
{
	int ret = katt_nl_verdict(e->nl, s->cookie, s->round,
				  pass ? KTLS_ATTEST_VERDICT_PASS :
				  KTLS_ATTEST_VERDICT_FAIL, text);

	say("local cookie=%" PRIu64 " round=%u verdict=%s ret=%d", s->cookie,
	    s->round, pass ? "pass" : "fail", -ret);
}

static void on_round(struct evil *e, const struct katt_nl_sock *k)
{
	struct session *s = session_of(e, k->cookie, true);

	say("round cookie=%" PRIu64 " round=%u state=%u role=%u bflags=%u",
	    k->cookie, k->round, k->state, k->role, k->binding_flags);
	if (!s)
		return;
	s->round = k->round;
	memset(&s->b, 0, sizeof(s->b));
	memcpy(s->b.exporter, k->binding_exporter, sizeof(s->b.exporter));
	s->b.has_local_key = KATT_NL_HAS(k, KTLS_ATTEST_A_SOCK_BINDING_LOCAL_KEY);
	memcpy(s->b.local_key, k->binding_local_key, sizeof(s->b.local_key));
	s->b.has_peer_key = KATT_NL_HAS(k, KTLS_ATTEST_A_SOCK_BINDING_PEER_KEY);
	memcpy(s->b.peer_key, k->binding_peer_key, sizeof(s->b.peer_key));
	s->b.tls_server = k->binding_flags & KTLS_ATTEST_BINDING_TLS_SERVER;
}

static void on_msg(struct evil *e, const struct katt_nl_event *ev)
{
	struct session *s = session_of(e, ev->sock.cookie, false);
	struct katt_decode_err err;
	char text[2 * KATT_TEXT_MAX + 64];
	struct katt_msg m;
	uint64_t cookie = ev->sock.cookie;

	if (katt_msg_decode(ev->msg, ev->msg_size, &m, &err)) {
		say("undecodable cookie=%" PRIu64 " why=%s", cookie, err.why);
		return;
	}
	if (!s) {
		say("msg cookie=%" PRIu64 " type=%u len=%zu (no round-start)",
		    cookie, m.type, ev->msg_size);
		return;
	}
	switch (m.type) {
	case KATT_MSG_CHALLENGE: {
		char sel[64] = "";
		unsigned int i;

		for (i = 0; m.challenge.has_sel && i < m.challenge.sel.nbanks; i++)
			snprintf(sel + strlen(sel), sizeof(sel) - strlen(sel),
				 "%s%#x:%#x", i ? "," : "",
				 m.challenge.sel.bank[i].alg,
				 m.challenge.sel.bank[i].pcrs);
		say("challenge cookie=%" PRIu64 " rid=%u pcrs=%s", cookie,
		    m.challenge.rid, sel[0] ? sel : "none");
		if (e->mode == M_RELAY) {
			s->ch = m;
			s->pending = true;
			relay_pending(e);
		} else {
			send_answer(e, s, &m, &s->b);
		}
		break;
	}
	case KATT_MSG_VERDICT:
		say("verdict cookie=%" PRIu64 " rid=%u result=%s reason=%" PRIu64
		    " name=%s text=%s", cookie, m.verdict.rid,
		    m.verdict.result == KATT_RESULT_PASS ? "pass" : "fail",
		    m.verdict.reason, katt_reason_name(m.verdict.reason),
		    m.verdict.has_text ? m.verdict.text.s : "");
		snprintf(text, sizeof(text), "peer's verdict: %s, reason %" PRIu64,
			 m.verdict.result == KATT_RESULT_PASS ? "pass" : "fail",
			 m.verdict.reason);
		text[KTLS_ATTEST_REASON_TEXT_MAX - 1] = '\0';
		local_verdict(e, s, m.verdict.result == KATT_RESULT_PASS, text);
		break;
	case KATT_MSG_ERROR:
		say("error cookie=%" PRIu64 " code=%" PRIu64 " name=%s text=%s",
		    cookie, m.error.code, katt_error_name(m.error.code),
		    m.error.has_text ? m.error.text.s : "");
		snprintf(text, sizeof(text), "peer's Error %" PRIu64,
			 m.error.code);
		local_verdict(e, s, false, text);
		break;
	default:
		say("msg cookie=%" PRIu64 " type=%u len=%zu", cookie, m.type,
		    ev->msg_size);
		break;
	}
}

static void pump(struct evil *e)
{
	struct katt_nl_event ev;
	int ret;

	for (;;) {
		ret = katt_nl_wait_event(e->nl, &ev, 0);
		if (ret == -ENOBUFS) {
			say("lost");
			continue;
		}
		if (ret)
			return;
		if (ev.cmd == KTLS_ATTEST_CMD_ROUND_START)
			on_round(e, &ev.sock);
		else if (ev.cmd == KTLS_ATTEST_CMD_MSG_RECV && ev.msg)
			on_msg(e, &ev);
		katt_nl_event_release(&ev);
	}
}

/* --- main ------------------------------------------------------------------------ */

static int open_attester(const char *tcti, const char *state,
			 struct katt_attester **out)
{
	struct katt_attester_config cfg = {
		.tcti = tcti,
		.state_dir = state,
		.ak_type = TPM2_ALG_ECC,
		.default_sel = {
			.nbanks = 1,
			.bank[0] = { .alg = TPM2_ALG_SHA256, .pcrs = 0xff },
		},
	};

	return katt_attester_open(&cfg, out);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tcti", required_argument, NULL, 'T' },
		{ "state", required_argument, NULL, 's' },
		{ "other-tcti", required_argument, NULL, 'o' },
		{ "other-state", required_argument, NULL, 'O' },
		{ "forger-name", no_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *tcti = KATT_TPM_DEFAULT_TCTI, *state = NULL;
	const char *other_tcti = NULL, *other_state = NULL;
	static struct evil e;
	char hex[2 * sizeof(TPMU_NAME) + 1];
	struct pollfd pfd[2];
	bool forger = false;
	unsigned int i;
	int c, ret, status = 1;

	while ((c = getopt_long(argc, argv, "T:s:h", opts, NULL)) != -1) {
		switch (c) {
		case 'T':
			tcti = optarg;
			break;
		case 's':
			state = optarg;
			break;
		case 'o':
			other_tcti = optarg;
			break;
		case 'O':
			other_state = optarg;
			break;
		case 'F':
			forger = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	katt_log_open(PROG, false, 0);
	if (forger)
		return print_forger_name(tcti);
	if (optind != argc - 1 || !state) {
		usage(stderr);
		return 2;
	}
	for (i = 0; i < NMODES; i++)
		if (!strcmp(argv[optind], mode_names[i]))
			break;
	if (i == NMODES) {
		fprintf(stderr, PROG ": unknown mode %s\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	e.mode = i;
	if ((e.mode == M_UNKNOWN_AK || e.mode == M_AK_OTHER_TPM) &&
	    !other_state) {
		fprintf(stderr, PROG ": %s needs --other-state\n",
			mode_names[e.mode]);
		return 2;
	}

	if (open_attester(tcti, state, &e.a))
		goto out;
	if (other_state && open_attester(e.mode == M_AK_OTHER_TPM && other_tcti ?
					 other_tcti : tcti, other_state,
					 &e.other))
		goto out;
	ret = katt_nl_open(&e.nl);
	if (!ret)
		ret = katt_nl_set_rcvbuf(e.nl, RCVBUF);
	if (!ret)
		ret = katt_nl_agent_register(e.nl);
	if (ret) {
		fprintf(stderr, PROG ": cannot register as the agent: %s %s\n",
			strerror(-ret), e.nl ? katt_nl_extack(e.nl) : "");
		goto out;
	}
	katt_hex(katt_attester_ak(e.a)->name.name,
		 katt_attester_ak(e.a)->name.size, hex);
	say("ready portid=%u ak=%s", katt_nl_portid(e.nl), hex);

	pfd[0].fd = STDIN_FILENO;
	pfd[0].events = POLLIN;
	pfd[1].fd = katt_nl_fd(e.nl);
	pfd[1].events = POLLIN;
	for (;;) {
		pump(&e);
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[0].revents) {
			char buf[256];

			/* commands are not taken: only the end of input */
			if (read(STDIN_FILENO, buf, sizeof(buf)) <= 0)
				break;
		}
	}
	status = 0;
out:
	for (i = 0; i < SESSIONS; i++)
		katt_binding_wipe(&e.s[i].b);
	katt_nl_close(e.nl);
	katt_attester_close(e.other);
	katt_attester_close(e.a);
	return status;
}
