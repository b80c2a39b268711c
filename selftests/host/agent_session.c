// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of agent/session.c, the per-socket round state machine of
 * ktls-attestd, driven as the daemon's loop drives it: two ends (a TLS
 * client A and a TLS server B) with their own sessions, policies and RP
 * counter stores, the messages one end sends handed to the other as its
 * msg-recv, the quote jobs answered by a real attester on swtpm
 * (agent/attester.c, as the TPM worker does), the Challenges, Verdicts
 * and Errors real encodings (agent/proto.c).  Built with AddressSanitizer
 * and UBSan.
 *
 * What is checked, each against protocol.rst "Exchanges":
 *
 * - rule 1: an RP sends one Challenge per round, round id = the kernel's
 *   round; rule 2: an attester-only end sends a Request first in a
 *   REATTESTING round, and the later round passes;
 * - rules 3-7: a Challenge answered with Evidence (the policy's default
 *   selection when it names none), or Error 2 (no attester role, no
 *   attester policy, a peer not verified, PCRs beyond allow_pcrs, a bank
 *   the TPM lacks); unexpected Challenge, Evidence, Verdict and Request get
 *   Error 4; malformed, other-version and unknown-type messages get
 *   Errors 3, 1 and 5; a received Error fails without an answer;
 * - the local verdict: the RP passes only once its passing Verdict was
 *   sent (msg-send returned), the attester only on the peer's passing
 *   Verdict, a mutual end only with both; a fail comes after the Error or
 *   the failing Verdict is sent, and the attester's text names the peer's
 *   reason; ENOBUFS keeps the Verdict for a retry, another send error
 *   fails the round.
 *
 * Without swtpm every test is skipped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/ktls_attest.h>
#include <linux/ktls_attest_netlink.h>

#include "kselftest_harness.h"

#include "attester.h"
#include "binder.h"
#include "clockstore.h"
#include "config.h"
#include "log.h"
#include "proto.h"
#include "session.h"
#include "swtpm.h"
#include "tpm.h"

#define SHA256		TPM2_ALG_SHA256
#define ROLE_A		KTLS_ATTEST_ROLE_ATTESTER
#define ROLE_RP		KTLS_ATTEST_ROLE_RELYING_PARTY
#define PENDING		KTLS_ATTEST_STATE_PENDING
#define REATTESTING	KTLS_ATTEST_STATE_REATTESTING

#define READY()		do { if (self->skip) return; } while (0)

/* The swtpm state with an ECC AK, made once per run and copied. */
static char tmpl[64];
static int tmpl_status = -1;
static pid_t tmpl_owner;

static void __attribute__((constructor)) make_template(void)
{
	struct katt_attester_config cfg = { 0 };
	struct katt_attester *a = NULL;
	char dir[128];
	struct swtpm t;
	int ret;

	strcpy(tmpl, "/tmp/katt-stmpl.XXXXXX");
	if (!mkdtemp(tmpl))
		return;
	tmpl_owner = getpid();
	ret = swtpm_start(&t);
	if (ret) {
		tmpl_status = ret;
		return;
	}
	cfg.tcti = t.tcti;
	cfg.default_sel.nbanks = 1;
	cfg.default_sel.bank[0].alg = SHA256;
	cfg.default_sel.bank[0].pcrs = 1;
	snprintf(dir, sizeof(dir), "%s/ak", tmpl);
	cfg.state_dir = dir;
	cfg.ak_type = TPM2_ALG_ECC;
	if (katt_attester_open(&cfg, &a))
		goto out;
	katt_attester_close(a);
	swtpm_stop(&t);
	snprintf(dir, sizeof(dir), "%s/tpm", tmpl);
	if (swtpm_save_state(&t, dir))
		goto out;
	tmpl_status = 0;
out:
	swtpm_destroy(&t);
}

static void __attribute__((destructor)) drop_template(void)
{
	if (tmpl[0] && getpid() == tmpl_owner)
		run_cmd("rm -rf '%s'", tmpl);
}

/* What an end's loop did: the messages sent, the verdict given. */
struct sent {
	enum katt_msg_type type;
	uint8_t *buf;
	size_t len;
};

struct end {
	const char *name;
	struct katt_session s;
	struct katt_sess_ctx ctx;
	struct katt_policy pol;
	struct katt_policy_ref *ref;
	struct katt_clock_store *clocks;
	char state[64];
	struct katt_round_info ri;
	bool started;
	/* the loop's record */
	struct sent sent[16];
	unsigned int nsent, delivered;
	unsigned int verdicts;
	bool pass;
	char text[KATT_TEXT_MAX + 1];
	/* msg-send's answer for the next sends (0: success) */
	int send_err;
	/* the order of things: sends and verdicts, as letters */
	char trace[64];
};

FIXTURE(session) {
	bool skip;
	struct swtpm tpm;
	char att_state[64];
	struct katt_attester *att;
	struct katt_ak_pin pin;
	struct katt_reference ref;
	struct end a, b;
};

static void ends_free(struct end *e)
{
	unsigned int i;

	if (e->started)
		katt_session_end(&e->s, &e->ctx);
	e->started = false;
	for (i = 0; i < e->nsent; i++)
		free(e->sent[i].buf);
	e->nsent = e->delivered = 0;
	katt_policy_ref_put(e->ref);
	e->ref = NULL;
	katt_clock_store_close(e->clocks);
	e->clocks = NULL;
	if (e->state[0])
		run_cmd("rm -rf '%s'", e->state);
	e->state[0] = '\0';
}

static void sel(struct katt_pcr_sel *s, uint32_t pcrs)
{
	memset(s, 0, sizeof(*s));
	s->nbanks = 1;
	s->bank[0].alg = SHA256;
	s->bank[0].pcrs = pcrs;
}

/* Both roles' policy: any peer, sha256:0,1,7 (at most 0-23); this AK. */
static int end_init(struct end *e, const char *name,
		    const struct katt_ak_pin *pin)
{
	memset(e, 0, sizeof(*e));
	e->name = name;
	strcpy(e->state, "/tmp/katt-sess.XXXXXX");
	if (!mkdtemp(e->state))
		return -1;
	if (katt_clock_store_open(e->state, &e->clocks))
		return -1;
	e->ctx.clocks = e->clocks;
	e->pol.attester = true;
	e->pol.peers = KATT_PEERS_ANY;
	sel(&e->pol.default_sel, 1 << 0 | 1 << 1 | 1 << 7);
	sel(&e->pol.allow_sel, 0xffffff);
	e->pol.rp = true;
	e->pol.aks = (struct katt_ak_pin *)pin;
	e->pol.naks = 1;
	e->pol.rp_policy.aks = pin;
	e->pol.rp_policy.naks = 1;
	sel(&e->pol.rp_policy.sel, 1 << 0 | 1 << 1 | 1 << 7);
	/* the test owns the policy: nothing to free at the last put */
	e->ref = katt_policy_ref_new(&e->pol, NULL);
	return e->ref ? 0 : -1;
}

FIXTURE_SETUP(session)
{
	char state[128];

	self->att = NULL;
	self->skip = false;
	self->att_state[0] = '\0';
	memset(&self->a, 0, sizeof(self->a));
	memset(&self->b, 0, sizeof(self->b));
	if (tmpl_status == -2) {
		self->skip = true;
		SKIP(return, "swtpm is not installed");
	}
	ASSERT_EQ(0, tmpl_status) TH_LOG("the TPM template could not be made");
	snprintf(state, sizeof(state), "%s/tpm", tmpl);
	ASSERT_EQ(0, swtpm_start_from(&self->tpm, state));
	strcpy(self->att_state, "/tmp/katt-satt.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->att_state));
	ASSERT_EQ(0, run_cmd("cp '%s'/ak/ak.* '%s'/", tmpl, self->att_state));
	{
		struct katt_attester_config cfg = { 0 };

		cfg.tcti = self->tpm.tcti;
		cfg.state_dir = self->att_state;
		cfg.ak_type = TPM2_ALG_ECC;
		sel(&cfg.default_sel, 1);
		ASSERT_EQ(0, katt_attester_open(&cfg, &self->att));
	}
	self->pin.by_name = true;
	self->pin.name = katt_attester_ak(self->att)->name;
	ASSERT_EQ(0, end_init(&self->a, "A", &self->pin));
	ASSERT_EQ(0, end_init(&self->b, "B", &self->pin));
}

FIXTURE_TEARDOWN(session)
{
	ends_free(&self->a);
	ends_free(&self->b);
	katt_attester_close(self->att);
	swtpm_destroy(&self->tpm);
	if (self->att_state[0])
		run_cmd("rm -rf '%s'", self->att_state);
}

static void trace(struct end *e, char c)
{
	size_t n = strlen(e->trace);

	if (n + 1 < sizeof(e->trace)) {
		e->trace[n] = c;
		e->trace[n + 1] = '\0';
	}
}

static char type_letter(enum katt_msg_type t)
{
	return "?CEVXR"[t <= 5 ? t : 0];
}

/*
 * Carries out @e's actions as the loop does: sends recorded (or refused
 * with e->send_err), quotes made at once on the real TPM, verdicts
 * recorded.  A blocked session (ENOBUFS) stops here.
 */
static void step(struct end *e, struct katt_attester *att)
{
	struct katt_action *a;

	while ((a = katt_session_action(&e->s))) {
		struct katt_quote_job *job;
		uint8_t *buf;
		enum katt_msg_type type = KATT_MSG_ERROR;
		long len;
		int err;

		switch (a->kind) {
		case KATT_ACT_SEND:
			err = e->send_err;
			if (!err && e->nsent < 16) {
				struct sent *s = &e->sent[e->nsent++];

				s->type = a->msg_type;
				s->len = a->len;
				s->buf = malloc(a->len);
				memcpy(s->buf, a->msg, a->len);
				trace(e, type_letter(a->msg_type));
			}
			katt_session_done(&e->s, &e->ctx, err);
			break;
		case KATT_ACT_QUOTE:
			job = a->job;
			a->job = NULL;
			katt_session_done(&e->s, &e->ctx, 0);
			buf = malloc(KATT_MSG_MAX);
			len = katt_attester_answer(att, &job->challenge,
						   &job->binding, buf,
						   KATT_MSG_MAX, &type);
			trace(e, 'q');
			katt_session_quoted(&e->s, &e->ctx, job->id, buf, len,
					    type);
			free(buf);
			katt_quote_job_free(job);
			break;
		case KATT_ACT_VERDICT:
			e->verdicts++;
			e->pass = a->pass;
			snprintf(e->text, sizeof(e->text), "%s", a->text);
			trace(e, a->pass ? 'P' : 'F');
			katt_session_done(&e->s, &e->ctx, 0);
			break;
		}
	}
}

/* round-start at @e: the binding of its side of one connection. */
static void start(struct end *e, struct katt_attester *att, uint32_t role,
		  uint32_t round, uint32_t state, bool server, uint32_t bflags)
{
	struct katt_round_info ri = { 0 };
	unsigned int i;

	ri.cookie = 0x1000 + server;
	ri.round = round;
	ri.role = role;
	ri.state = state;
	ri.binding_flags = bflags | KTLS_ATTEST_BINDING_LOCAL_KEY |
			   KTLS_ATTEST_BINDING_PEER_KEY |
			   (server ? KTLS_ATTEST_BINDING_TLS_SERVER : 0);
	for (i = 0; i < 32; i++) {
		ri.binding.exporter[i] = 0x40 + i;
		ri.binding.local_key[i] = (server ? 0xa0 : 0x10) + i;
		ri.binding.peer_key[i] = (server ? 0x10 : 0xa0) + i;
	}
	ri.binding.has_local_key = ri.binding.has_peer_key = true;
	ri.binding.tls_server = server;
	if (e->started)
		katt_session_end(&e->s, &e->ctx);
	katt_session_start(&e->s, &e->ctx, &ri, e->ref);
	e->started = true;
	e->trace[0] = '\0';
	e->verdicts = 0;
	e->pass = false;
	e->text[0] = '\0';
	step(e, att);
}

/* Everything @from sent and @to has not read, read by @to. */
static unsigned int deliver(struct end *from, struct end *to,
			    struct katt_attester *att)
{
	unsigned int n = 0;

	while (from->delivered < from->nsent) {
		struct sent *s = &from->sent[from->delivered++];

		katt_session_recv(&to->s, &to->ctx, s->buf, s->len);
		step(to, att);
		n++;
	}
	return n;
}

/* Hands messages both ways until neither end sends more. */
static void converse(struct end *a, struct end *b, struct katt_attester *att)
{
	while (deliver(a, b, att) + deliver(b, a, att))
		;
}

/* Decodes message @i that @e sent. */
static struct katt_msg sent_msg(const struct end *e, unsigned int i)
{
	struct katt_decode_err err;
	struct katt_msg m;

	memset(&m, 0, sizeof(m));
	if (i >= e->nsent || katt_msg_decode(e->sent[i].buf, e->sent[i].len,
					     &m, &err))
		m.type = 0;
	return m;
}

/* A message of ours, encoded, handed to @e as received. */
static void recv_msg(struct end *e, struct katt_attester *att,
		     const struct katt_msg *m)
{
	uint8_t buf[1024];
	long len = katt_msg_encode(m, buf, sizeof(buf));

	if (len > 0)
		katt_session_recv(&e->s, &e->ctx, buf, len);
	step(e, att);
}

static void recv_bytes(struct end *e, struct katt_attester *att,
		       const uint8_t *buf, size_t len)
{
	katt_session_recv(&e->s, &e->ctx, buf, len);
	step(e, att);
}

/* @e's last message is an Error of @code; its verdict a fail. */
#define EXPECT_ERROR_FAIL(e, ecode)					\
	do {								\
		struct katt_msg _m = sent_msg((e), (e)->nsent - 1);	\
									\
		ASSERT_EQ(KATT_MSG_ERROR, _m.type)			\
			TH_LOG("trace %s", (e)->trace);			\
		EXPECT_EQ((ecode), _m.error.code)			\
			TH_LOG("%s", _m.error.text.s);			\
		EXPECT_EQ(1, (e)->verdicts);				\
		EXPECT_FALSE((e)->pass);				\
		/* the Error went out before the verdict */		\
		EXPECT_EQ('F', (e)->trace[strlen((e)->trace) - 1]);	\
		EXPECT_EQ('X', (e)->trace[strlen((e)->trace) - 2]);	\
	} while (0)

/* --- whole rounds ------------------------------------------------------------ */

TEST_F(session, rp_and_attester_pass)
{
	struct katt_msg m;

	READY();
	start(&self->a, self->att, ROLE_RP, 1, PENDING, false, 0);
	start(&self->b, self->att, ROLE_A, 1, PENDING, true, 0);
	/* rule 1: one Challenge, round id = the kernel's round */
	ASSERT_EQ(1, self->a.nsent);
	m = sent_msg(&self->a, 0);
	ASSERT_EQ(KATT_MSG_CHALLENGE, m.type);
	EXPECT_EQ(1, m.challenge.rid);
	EXPECT_EQ(0, self->b.nsent);	/* no Request in the first round */

	converse(&self->a, &self->b, self->att);
	EXPECT_STREQ("CVP", self->a.trace);	/* pass after the Verdict */
	EXPECT_STREQ("qEP", self->b.trace);
	EXPECT_TRUE(self->a.pass);
	EXPECT_TRUE(self->b.pass);
	EXPECT_EQ(1, self->a.verdicts);
	EXPECT_EQ(1, self->b.verdicts);
	m = sent_msg(&self->a, 1);
	ASSERT_EQ(KATT_MSG_VERDICT, m.type);
	EXPECT_EQ(KATT_RESULT_PASS, m.verdict.result);
	/* the RP's text: the AK's Name and the PCRs quoted */
	EXPECT_NE(NULL, strstr(self->a.text, "AK 000b"));
	EXPECT_NE(NULL, strstr(self->a.text, "sha256:0,1,7"));
	EXPECT_STREQ("peer's verdict: pass", self->b.text);
	EXPECT_TRUE(katt_session_finished(&self->a.s));
	EXPECT_TRUE(katt_session_finished(&self->b.s));
}

TEST_F(session, mutual_needs_both)
{
	READY();
	start(&self->a, self->att, ROLE_A | ROLE_RP, 1, PENDING, false, 0);
	start(&self->b, self->att, ROLE_A | ROLE_RP, 1, PENDING, true, 0);
	/* A's Challenge to B: B quotes, A appraises and sends its Verdict */
	deliver(&self->a, &self->b, self->att);
	EXPECT_STREQ("CqE", self->b.trace);
	/* A reads B's Challenge and Evidence: A quotes, and sends a Verdict */
	deliver(&self->b, &self->a, self->att);
	EXPECT_STREQ("CqEV", self->a.trace);
	/* A's Verdict is out, but B's Verdict on A is not in: no pass yet */
	EXPECT_EQ(0, self->a.verdicts);
	deliver(&self->a, &self->b, self->att);
	/* B: A's Evidence appraised, its Verdict sent, A's Verdict read */
	EXPECT_STREQ("CqEVP", self->b.trace);
	deliver(&self->b, &self->a, self->att);
	EXPECT_STREQ("CqEVP", self->a.trace);
	EXPECT_TRUE(self->a.pass);
	EXPECT_TRUE(self->b.pass);
	EXPECT_NE(NULL, strstr(self->a.text, "; peer's verdict: pass"));
	EXPECT_NE(NULL, strstr(self->a.text, "AK 000b"));
}

TEST_F(session, mutual_one_side_fails)
{
	READY();
	/* B's reference for PCR 7 is wrong: A's Evidence fails at B */
	self->ref.alg = SHA256;
	self->ref.pcr = 7;
	self->ref.nvalues = 1;
	self->ref.size = 32;
	memset(self->ref.value[0], 0x5a, 32);
	self->b.pol.rp_policy.refs = &self->ref;
	self->b.pol.rp_policy.nrefs = 1;
	start(&self->a, self->att, ROLE_A | ROLE_RP, 1, PENDING, false, 0);
	start(&self->b, self->att, ROLE_A | ROLE_RP, 1, PENDING, true, 0);
	converse(&self->a, &self->b, self->att);
	EXPECT_EQ(1, self->a.verdicts);
	EXPECT_EQ(1, self->b.verdicts);
	EXPECT_FALSE(self->a.pass);
	EXPECT_FALSE(self->b.pass);
	EXPECT_NE(NULL, strstr(self->b.text, "reference-mismatch: PCR sha256:7"))
		TH_LOG("%s", self->b.text);
	EXPECT_EQ(0, strncmp(self->a.text,
			     "peer's verdict: fail, reason 7 reference-mismatch: PCR sha256:7",
			     strlen("peer's verdict: fail, reason 7 reference-mismatch: PCR sha256:7")))
		TH_LOG("%s", self->a.text);
}

TEST_F(session, reference_mismatch_names_the_pcr)
{
	struct katt_msg m;

	READY();
	self->ref.alg = SHA256;
	self->ref.pcr = 7;
	self->ref.nvalues = 1;
	self->ref.size = 32;
	memset(self->ref.value[0], 0x5a, 32);
	self->a.pol.rp_policy.refs = &self->ref;
	self->a.pol.rp_policy.nrefs = 1;
	start(&self->a, self->att, ROLE_RP, 1, PENDING, false, 0);
	start(&self->b, self->att, ROLE_A, 1, PENDING, true, 0);
	converse(&self->a, &self->b, self->att);
	/* the failing Verdict goes out, then the fail */
	EXPECT_STREQ("CVF", self->a.trace);
	m = sent_msg(&self->a, 1);
	ASSERT_EQ(KATT_MSG_VERDICT, m.type);
	EXPECT_EQ(KATT_RESULT_FAIL, m.verdict.result);
	EXPECT_EQ(KATT_REASON_REFERENCE_MISMATCH, m.verdict.reason);
	EXPECT_NE(NULL, strstr(self->a.text, "PCR sha256:7"))
		TH_LOG("%s", self->a.text);
	EXPECT_FALSE(self->b.pass);
	EXPECT_NE(NULL, strstr(self->b.text,
			       "peer's verdict: fail, reason 7 reference-mismatch"))
		TH_LOG("%s", self->b.text);
	EXPECT_LE(strlen(self->a.text), KATT_TEXT_MAX);
}

TEST_F(session, default_selection_when_none_asked)
{
	READY();
	/* A asks for no PCRs: B quotes its policy's default, 0,1,7 */
	self->a.pol.rp_policy.sel.nbanks = 0;
	sel(&self->b.pol.default_sel, 1 << 2 | 1 << 3);
	start(&self->a, self->att, ROLE_RP, 1, PENDING, false, 0);
	start(&self->b, self->att, ROLE_A, 1, PENDING, true, 0);
	EXPECT_FALSE(sent_msg(&self->a, 0).challenge.has_sel);
	converse(&self->a, &self->b, self->att);
	EXPECT_TRUE(self->a.pass);
	EXPECT_NE(NULL, strstr(self->a.text, "sha256:2,3"))
		TH_LOG("%s", self->a.text);
}

/* rule 2, and every round handled: round 2 from either side */
TEST_F(session, later_rounds)
{
	struct katt_msg m;

	READY();
	start(&self->a, self->att, ROLE_RP, 1, PENDING, false, 0);
	start(&self->b, self->att, ROLE_A, 1, PENDING, true, 0);
	converse(&self->a, &self->b, self->att);
	ASSERT_TRUE(self->a.pass);
	ASSERT_TRUE(self->b.pass);

	/* round 2 from the attester's side: a Request before anything */
	start(&self->b, self->att, ROLE_A, 2, REATTESTING, true, 0);
	ASSERT_EQ(2, self->b.nsent);
	EXPECT_EQ(KATT_MSG_REQUEST, sent_msg(&self->b, 1).type);
	/* the Request starts round 2 at the RP's kernel: rule 1 */
	start(&self->a, self->att, ROLE_RP, 2, REATTESTING, false, 0);
	m = sent_msg(&self->a, self->a.nsent - 1);
	ASSERT_EQ(KATT_MSG_CHALLENGE, m.type);
	EXPECT_EQ(2, m.challenge.rid);
	/* and the Request itself is ignored by the RP: rule 6 */
	self->a.trace[0] = '\0';
	converse(&self->a, &self->b, self->att);
	EXPECT_STREQ("VP", self->a.trace);
	EXPECT_TRUE(self->a.pass);
	EXPECT_TRUE(self->b.pass);
	EXPECT_EQ(2, sent_msg(&self->a, self->a.nsent - 1).verdict.rid);

	/* round 3 from the RP's side (its REATTEST): a fresh nonce */
	start(&self->a, self->att, ROLE_RP, 3, REATTESTING, false, 0);
	start(&self->b, self->att, ROLE_A, 3, REATTESTING, true, 0);
	m = sent_msg(&self->a, self->a.nsent - 1);
	EXPECT_EQ(3, m.challenge.rid);
	EXPECT_NE(0, memcmp(m.challenge.nonce,
			    sent_msg(&self->a, 2).challenge.nonce, 32));
	converse(&self->a, &self->b, self->att);
	EXPECT_TRUE(self->a.pass);
	EXPECT_TRUE(self->b.pass);
}

/* --- the local verdict and msg-send ------------------------------------------- */

TEST_F(session, enobufs_keeps_the_verdict)
{
	struct katt_msg m;

	READY();
	start(&self->a, self->att, ROLE_RP, 1, PENDING, false, 0);
	start(&self->b, self->att, ROLE_A, 1, PENDING, true, 0);
	deliver(&self->a, &self->b, self->att);
	/* A's queue in the kernel is full when its Verdict goes */
	self->a.send_err = -ENOBUFS;
	deliver(&self->b, &self->a, self->att);
	EXPECT_EQ(0, self->a.verdicts);		/* no pass before the Verdict */
	EXPECT_EQ(NULL, katt_session_action(&self->a.s));
	EXPECT_FALSE(katt_session_finished(&self->a.s));
	/* the timer retries, still full */
	katt_session_retry(&self->a.s);
	step(&self->a, self->att);
	EXPECT_EQ(0, self->a.verdicts);
	/* then it goes, and only then the pass */
	self->a.send_err = 0;
	katt_session_retry(&self->a.s);
	step(&self->a, self->att);
	EXPECT_STREQ("CVP", self->a.trace);
	m = sent_msg(&self->a, 1);
	ASSERT_EQ(KATT_MSG_VERDICT, m.type);
	EXPECT_EQ(KATT_RESULT_PASS, m.verdict.result);
	deliver(&self->a, &self->b, self->att);
	EXPECT_TRUE(self->b.pass);
}

TEST_F(session, verdict_not_sent_is_no_pass)
{
	READY();
	start(&self->a, self->att, ROLE_RP, 1, PENDING, false, 0);
	start(&self->b, self->att, ROLE_A, 1, PENDING, true, 0);
	deliver(&self->a, &self->b, self->att);
	self->a.send_err = -EPIPE;
	deliver(&self->b, &self->a, self->att);
	EXPECT_EQ(1, self->a.verdicts);
	EXPECT_FALSE(self->a.pass);
	EXPECT_NE(NULL, strstr(self->a.text, "Verdict could not be sent"))
		TH_LOG("%s", self->a.text);
}

/* --- rule 3: Challenges ------------------------------------------------------- */

TEST_F(session, challenge_without_attester_role)
{
	READY();
	start(&self->a, self->att, ROLE_RP, 1, PENDING, false, 0);
	start(&self->b, self->att, ROLE_RP, 1, PENDING, true, 0);
	/* B, RP only, reads A's Challenge */
	deliver(&self->a, &self->b, self->att);
	EXPECT_ERROR_FAIL(&self->b, KATT_ERR_CANNOT_ATTEST);
	EXPECT_NE(NULL, strstr(self->b.text, "no attester role"));
	/* A reads the Error (not B's own Challenge): fails, answers nothing */
	self->b.delivered = 1;
	deliver(&self->b, &self->a, self->att);
	EXPECT_FALSE(self->a.pass);
	EXPECT_EQ(1, self->a.nsent);
	EXPECT_NE(NULL, strstr(self->a.text, "peer's Error: code 2 cannot-attest"))
		TH_LOG("%s", self->a.text);
}

TEST_F(session, no_attester_policy)
{
	READY();
	self->b.pol.attester = false;
	start(&self->a, self->att, ROLE_RP, 1, PENDING, false, 0);
	start(&self->b, self->att, ROLE_A, 1, PENDING, true, 0);
	deliver(&self->a, &self->b, self->att);
	EXPECT_ERROR_FAIL(&self->b, KATT_ERR_CANNOT_ATTEST);
	EXPECT_STREQ("this host has no attester policy",
		     sent_msg(&self->b, 0).error.text.s);
}

TEST_F(session, peers_verified)
{
	READY();
	self->b.pol.peers = KATT_PEERS_VERIFIED;
	start(&self->a, self->att, ROLE_RP, 1, PENDING, false, 0);
	start(&self->b, self->att, ROLE_A, 1, PENDING, true, 0);
	deliver(&self->a, &self->b, self->att);
	EXPECT_ERROR_FAIL(&self->b, KATT_ERR_CANNOT_ATTEST);
	EXPECT_NE(NULL, strstr(sent_msg(&self->b, 0).error.text.s,
			       "PEER_VERIFIED"));
	EXPECT_NE(NULL, strstr(self->b.text, "verified"));

	/* with the flag, the same policy attests */
	start(&self->a, self->att, ROLE_RP, 1, PENDING, false, 0);
	start(&self->b, self->att, ROLE_A, 1, PENDING, true,
	      KTLS_ATTEST_BINDING_PEER_VERIFIED);
	self->a.delivered = self->a.nsent - 1;
	self->b.delivered = self->b.nsent;
	converse(&self->a, &self->b, self->att);
	EXPECT_TRUE(self->a.pass);
	EXPECT_TRUE(self->b.pass);
}

TEST_F(session, pcrs_beyond_allowed)
{
	READY();
	sel(&self->b.pol.allow_sel, 1 << 0 | 1 << 1 | 1 << 7);
	sel(&self->a.pol.rp_policy.sel, 1 << 0 | 1 << 1 | 1 << 7 | 1 << 10);
	start(&self->a, self->att, ROLE_RP, 1, PENDING, false, 0);
	start(&self->b, self->att, ROLE_A, 1, PENDING, true, 0);
	deliver(&self->a, &self->b, self->att);
	EXPECT_ERROR_FAIL(&self->b, KATT_ERR_CANNOT_ATTEST);
	EXPECT_NE(NULL, strstr(sent_msg(&self->b, 0).error.text.s,
			       "sha256:0,1,7,10 asked, the policy allows only sha256:0,1,7"))
		TH_LOG("%s", sent_msg(&self->b, 0).error.text.s);
}

TEST_F(session, bank_not_allocated)
{
	READY();
	/* swtpm allocates sha1 and sha256, not sm3-256 */
	self->a.pol.rp_policy.sel.bank[0].alg = TPM2_ALG_SM3_256;
	self->b.pol.allow_sel.nbanks = 2;
	self->b.pol.allow_sel.bank[1].alg = TPM2_ALG_SM3_256;
	self->b.pol.allow_sel.bank[1].pcrs = 0xffffff;
	start(&self->a, self->att, ROLE_RP, 1, PENDING, false, 0);
	start(&self->b, self->att, ROLE_A, 1, PENDING, true, 0);
	deliver(&self->a, &self->b, self->att);
	/* the attester's Error 2 from the TPM worker goes out, then fail */
	EXPECT_STREQ("qXF", self->b.trace);
	EXPECT_ERROR_FAIL(&self->b, KATT_ERR_CANNOT_ATTEST);
	deliver(&self->b, &self->a, self->att);
	EXPECT_FALSE(self->a.pass);
	EXPECT_NE(NULL, strstr(self->a.text, "not allocated"))
		TH_LOG("%s", self->a.text);
}

TEST_F(session, second_challenge_while_open)
{
	struct katt_msg ch;

	READY();
	start(&self->a, self->att, ROLE_RP, 1, PENDING, false, 0);
	start(&self->b, self->att, ROLE_A, 1, PENDING, true, 0);
	deliver(&self->a, &self->b, self->att);
	ASSERT_EQ(KATT_MSG_EVIDENCE, sent_msg(&self->b, 0).type);
	/* the Verdict not yet received: another Challenge is unexpected */
	ch = sent_msg(&self->a, 0);
	ch.challenge.rid = 9;
	recv_msg(&self->b, self->att, &ch);
	EXPECT_ERROR_FAIL(&self->b, KATT_ERR_UNEXPECTED);
	EXPECT_EQ(9, sent_msg(&self->b, 1).error.rid);
	EXPECT_EQ(KATT_MSG_CHALLENGE, sent_msg(&self->b, 1).error.in_reply_to);
}

/* --- rules 4-7: Evidence, Verdict, Request, Error ----------------------------- */

TEST_F(session, evidence_unexpected)
{
	struct katt_msg ev;

	READY();
	start(&self->a, self->att, ROLE_RP, 1, PENDING, false, 0);
	start(&self->b, self->att, ROLE_A, 1, PENDING, true, 0);
	deliver(&self->a, &self->b, self->att);
	ev = sent_msg(&self->b, 0);
	ASSERT_EQ(KATT_MSG_EVIDENCE, ev.type);

	/* Evidence to an attester-only end */
	{
		uint8_t *buf = self->b.sent[0].buf;

		recv_bytes(&self->b, self->att, buf, self->b.sent[0].len);
		EXPECT_ERROR_FAIL(&self->b, KATT_ERR_UNEXPECTED);
	}
	/* Evidence of another round id */
	{
		struct sent *s = &self->b.sent[0];
		struct katt_msg m;
		struct katt_decode_err err;
		uint8_t *buf = malloc(KATT_MSG_MAX);
		long len;

		ASSERT_EQ(0, katt_msg_decode(s->buf, s->len, &m, &err));
		m.evidence.rid = 5;
		len = katt_msg_encode(&m, buf, KATT_MSG_MAX);
		ASSERT_LT(0, len);
		recv_bytes(&self->a, self->att, buf, len);
		free(buf);
		EXPECT_ERROR_FAIL(&self->a, KATT_ERR_UNEXPECTED);
		EXPECT_NE(NULL, strstr(self->a.text, "round id 5"));
	}
}

TEST_F(session, evidence_twice)
{
	READY();
	start(&self->a, self->att, ROLE_A | ROLE_RP, 1, PENDING, false, 0);
	start(&self->b, self->att, ROLE_A, 1, PENDING, true, 0);
	deliver(&self->a, &self->b, self->att);
	/* A reads B's Evidence, then the same again */
	recv_bytes(&self->a, self->att, self->b.sent[0].buf,
		   self->b.sent[0].len);
	EXPECT_EQ(0, self->a.verdicts);	/* mutual: B's Verdict on A awaited */
	recv_bytes(&self->a, self->att, self->b.sent[0].buf,
		   self->b.sent[0].len);
	EXPECT_ERROR_FAIL(&self->a, KATT_ERR_UNEXPECTED);
}

TEST_F(session, verdict_without_evidence)
{
	struct katt_msg v = { .version = 1, .type = KATT_MSG_VERDICT };

	READY();
	v.verdict.rid = 1;
	v.verdict.result = KATT_RESULT_PASS;
	start(&self->b, self->att, ROLE_A, 1, PENDING, true, 0);
	recv_msg(&self->b, self->att, &v);
	EXPECT_ERROR_FAIL(&self->b, KATT_ERR_UNEXPECTED);
	EXPECT_NE(NULL, strstr(self->b.text, "no Evidence was sent"));

	/* and a pass for the wrong round id after Evidence */
	start(&self->a, self->att, ROLE_RP, 1, PENDING, false, 0);
	start(&self->b, self->att, ROLE_A, 1, PENDING, true, 0);
	self->b.delivered = self->b.nsent;
	self->a.delivered = 0;
	deliver(&self->a, &self->b, self->att);
	v.verdict.rid = 4;
	recv_msg(&self->b, self->att, &v);
	EXPECT_ERROR_FAIL(&self->b, KATT_ERR_UNEXPECTED);
}

TEST_F(session, request)
{
	static const uint8_t req[] = { 0xa2, 0x00, 0x01, 0x01, 0x05 };

	READY();
	/* to an RP: ignored, the round goes on */
	start(&self->a, self->att, ROLE_RP, 2, REATTESTING, false, 0);
	recv_bytes(&self->a, self->att, req, sizeof(req));
	EXPECT_EQ(1, self->a.nsent);
	EXPECT_EQ(0, self->a.verdicts);
	/* to an attester-only end: unexpected */
	start(&self->b, self->att, ROLE_A, 1, PENDING, true, 0);
	recv_bytes(&self->b, self->att, req, sizeof(req));
	EXPECT_ERROR_FAIL(&self->b, KATT_ERR_UNEXPECTED);
}

TEST_F(session, error_received)
{
	struct katt_msg e = { .version = 1, .type = KATT_MSG_ERROR };

	READY();
	e.error.code = KATT_ERR_INTERNAL;
	e.error.has_text = true;
	katt_text_set(&e.error.text, "TPM error while quoting");
	start(&self->a, self->att, ROLE_RP, 1, PENDING, false, 0);
	recv_msg(&self->a, self->att, &e);
	EXPECT_EQ(1, self->a.nsent);	/* never answered */
	EXPECT_EQ(1, self->a.verdicts);
	EXPECT_FALSE(self->a.pass);
	EXPECT_STREQ("peer's Error: code 6 internal: TPM error while quoting",
		     self->a.text);
	/* what comes after the verdict is dropped */
	recv_msg(&self->a, self->att, &e);
	EXPECT_EQ(1, self->a.verdicts);
	EXPECT_TRUE(katt_session_finished(&self->a.s));
}

TEST_F(session, malformed_version_type)
{
	/* {0: 1, 1: 1, 1: 1}: a duplicate key */
	static const uint8_t dup[] = { 0xa3, 0x00, 0x01, 0x01, 0x01, 0x01, 0x01 };
	/* {0: 2, 1: 1}: version 2 */
	static const uint8_t v2[] = { 0xa2, 0x00, 0x02, 0x01, 0x01 };
	/* {0: 1, 1: 9}: type 9 */
	static const uint8_t t9[] = { 0xa2, 0x00, 0x01, 0x01, 0x09 };
	/* an Error that breaks its table: {0: 1, 1: 4} (no code) */
	static const uint8_t bad_err[] = { 0xa2, 0x00, 0x01, 0x01, 0x04 };
	struct katt_msg m;

	READY();
	start(&self->b, self->att, ROLE_A, 1, PENDING, true, 0);
	recv_bytes(&self->b, self->att, dup, sizeof(dup));
	EXPECT_ERROR_FAIL(&self->b, KATT_ERR_MALFORMED);

	start(&self->b, self->att, ROLE_A, 1, PENDING, true, 0);
	recv_bytes(&self->b, self->att, v2, sizeof(v2));
	EXPECT_ERROR_FAIL(&self->b, KATT_ERR_UNSUPPORTED_VERSION);
	m = sent_msg(&self->b, self->b.nsent - 1);
	EXPECT_EQ(1, m.version);
	ASSERT_EQ(1, m.error.nversions);
	EXPECT_EQ(1, m.error.versions[0]);

	start(&self->b, self->att, ROLE_A, 1, PENDING, true, 0);
	recv_bytes(&self->b, self->att, t9, sizeof(t9));
	EXPECT_ERROR_FAIL(&self->b, KATT_ERR_UNSUPPORTED_TYPE);

	start(&self->b, self->att, ROLE_A, 1, PENDING, true, 0);
	self->b.delivered = self->b.nsent;
	recv_bytes(&self->b, self->att, bad_err, sizeof(bad_err));
	EXPECT_EQ(self->b.delivered, self->b.nsent);	/* not answered */
	EXPECT_EQ(1, self->b.verdicts);
	EXPECT_FALSE(self->b.pass);
}

TEST_F(session, no_rp_policy)
{
	READY();
	self->a.pol.rp = false;
	start(&self->a, self->att, ROLE_RP, 1, PENDING, false, 0);
	EXPECT_ERROR_FAIL(&self->a, KATT_ERR_INTERNAL);
	EXPECT_NE(NULL, strstr(self->a.text, "no relying-party policy"));
}

TEST_F(session, policy_kept_by_its_rounds)
{
	struct katt_policy_ref *old;

	READY();
	start(&self->a, self->att, ROLE_RP, 1, PENDING, false, 0);
	start(&self->b, self->att, ROLE_A, 1, PENDING, true, 0);
	/* a reload: the daemon drops its reference to the old policy */
	old = self->a.ref;
	EXPECT_EQ(2, old->refs);
	self->a.ref = katt_policy_ref_new(&self->b.pol, NULL);
	katt_policy_ref_put(old);
	EXPECT_EQ(1, old->refs);	/* the round under way holds it */
	converse(&self->a, &self->b, self->att);
	EXPECT_TRUE(self->a.pass);
	EXPECT_EQ(old, self->a.s.pol);
}

/*
 * A peer's text reaches the log (its Error's, its Verdict's): a newline in
 * it must not make a line of its own that reads like the agent's.
 */
TEST(log_escapes_control_characters)
{
	char path[] = "/tmp/agent_session_log.XXXXXX", buf[512];
	int fd, saved;
	ssize_t n;

	fd = mkstemp(path);
	ASSERT_LE(0, fd);
	unlink(path);
	saved = dup(STDERR_FILENO);
	ASSERT_LE(0, saved);
	fflush(stderr);
	ASSERT_LE(0, dup2(fd, STDERR_FILENO));
	katt_log_open("t", false, 0);
	katt_notice("peer's Error: code 6 internal: %s",
		    "x\nt: cookie 0x1 round 1: pass\r\x1b[2J\x7f");
	fflush(stderr);
	ASSERT_LE(0, dup2(saved, STDERR_FILENO));
	close(saved);
	katt_log_open("agent_session", false, 0);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	ASSERT_LT(0, n);
	buf[n] = '\0';
	EXPECT_STREQ("t: peer's Error: code 6 internal: x\\x0at: cookie 0x1 round 1: pass\\x0d\\x1b[2J\\x7f\n",
		     buf);
}

TEST_HARNESS_MAIN
