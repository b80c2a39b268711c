// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of ktls-attestd's files and its enrolment (agent/
 * config.c, policy.c, jsonfile.c, enroll.c), built with AddressSanitizer
 * and UBSan.
 *
 * The configuration and the policy: every key read as written, the
 * defaults, paths relative to the configuration's directory, PCR
 * selections parsed and formatted; and every kind of bad file refused
 * with a message that names the file and the field (its JSON path, or
 * the line and column of a syntax error): duplicate keys, unknown keys,
 * trailing data, wrong types, values out of range, bad hex, digests of
 * the wrong size, reference values for PCRs that are not asked for, a
 * missing file.  The example files of agent/examples/ load, and the man
 * page documents every key and renders without warnings.
 *
 * Enrolment against a software TPM (swtpm, selftests/lib/swtpm.c): the
 * Name it prints is the Name of the AK the attester then uses, the policy
 * it writes loads and holds the PCR values tpm2_pcrread reads, and a
 * PCR extended afterwards no longer matches; usage errors exit 2 and
 * runtime failures 1.  Without swtpm those tests are skipped.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "kselftest_harness.h"

#include "appraise.h"
#include "attester.h"
#include "config.h"
#include "enroll.h"
#include "swtpm.h"
#include "tpm_crypto.h"

#define SHA1		0x0004
#define SHA256		0x000b

/* The 6.1 harness runs the body after a SKIP in the setup. */
#define READY()		do { if (self->skip) return; } while (0)

#define HEX64_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HEX64_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define HEX40_C "cccccccccccccccccccccccccccccccccccccccc"
#define NAME_A	"000b" HEX64_A

/* --- helpers --------------------------------------------------------------- */

static char *new_dir(void)
{
	char tmpl[] = "/tmp/katt-config.XXXXXX";

	return mkdtemp(tmpl) ? strdup(tmpl) : NULL;
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	int ok;

	if (!f)
		return -1;
	ok = fputs(text, f) >= 0;
	return fclose(f) || !ok ? -1 : 0;
}

static long read_file(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, cap - 1, f);
	fclose(f);
	buf[n] = '\0';
	return n;
}

/* What a call writes to one of the standard streams, into a file. */
struct capture {
	int fd;			/* 1 or 2 */
	int saved;
	char path[64];
};

static int capture_begin(struct capture *c, int fd)
{
	int tmp;

	fflush(fd == 1 ? stdout : stderr);
	c->fd = fd;
	strcpy(c->path, "/tmp/katt-capture.XXXXXX");
	tmp = mkstemp(c->path);
	if (tmp < 0)
		return -1;
	c->saved = dup(fd);
	dup2(tmp, fd);
	close(tmp);
	return 0;
}

static void capture_end(struct capture *c, char *buf, size_t cap)
{
	fflush(c->fd == 1 ? stdout : stderr);
	dup2(c->saved, c->fd);
	close(c->saved);
	if (read_file(c->path, buf, cap) < 0)
		buf[0] = '\0';
	unlink(c->path);
}

/* Writes @text to DIR/@name and loads it as a configuration or a policy. */
static int load_text(const char *dir, const char *name, const char *text,
		     bool policy, void **out, char *msg, size_t cap)
{
	struct capture c;
	char path[PATH_MAX];
	int ret;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (write_file(path, text) || capture_begin(&c, 2))
		return -100;
	if (policy)
		ret = katt_policy_load(path, (struct katt_policy **)out);
	else
		ret = katt_config_load(path, (struct katt_config **)out);
	capture_end(&c, msg, cap);
	return ret;
}

/* Where the tree is: this program is build/asan/agent_config. */
static void tree_path(char *out, size_t len, const char *rel)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	exe[n > 0 ? n : 0] = '\0';
	snprintf(out, len, "%s/../../%s", dirname(exe), rel);
}

FIXTURE(files) {
	char *dir;
	char msg[4096];
};

FIXTURE_SETUP(files)
{
	self->dir = new_dir();
	ASSERT_NE(NULL, self->dir);
}

FIXTURE_TEARDOWN(files)
{
	run_cmd("rm -rf '%s'", self->dir);
	free(self->dir);
}

/* --- PCR selections -------------------------------------------------------- */

static bool sel_eq(const struct katt_pcr_sel *a, const struct katt_pcr_sel *b)
{
	unsigned int i;

	if (a->nbanks != b->nbanks)
		return false;
	for (i = 0; i < a->nbanks; i++)
		if (a->bank[i].alg != b->bank[i].alg ||
		    a->bank[i].pcrs != b->bank[i].pcrs)
			return false;
	return true;
}

TEST(pcr_sel_parse_and_format)
{
	static const struct {
		const char *in, *out;
	} good[] = {
		{ "sha256:0,1,7", "sha256:0,1,7" },
		{ "sha256:0,1,7+sha1:0-3", "sha256:0,1,7+sha1:0-3" },
		{ "sha256:0-23", "sha256:0-23" },
		{ "sha256:5-6", "sha256:5,6" },
		{ "sha256:0-2,4,9-11", "sha256:0-2,4,9-11" },
		{ "sha1:23+sha384:0+sha512:1+sha256:2",
		  "sha1:23+sha384:0+sha512:1+sha256:2" },
		{ "sm3_256:10", "sm3_256:10" },
	};
	static const char *const bad[] = {
		"", "sha256", "sha256:", "sha256:24", "sha256:0-24",
		"sha256:7-3", "sha256:3-3", "sha256:0-", "sha256:-1",
		"sha256:0,", "sha256:,0", "sha256:0,0", "sha256:0-3,2",
		"sha256:0+sha256:1", "sha257:0", "SHA256:0", "sha256:01",
		"sha256: 0", "sha256:0 ", "sha256:0+", "+sha256:0",
		"sha256:0;1", "sha1:0+sha256:0+sha384:0+sha512:0+sm3_256:0",
		"sha256:99999999999999999999",
	};
	struct katt_pcr_sel sel, again;
	char text[160];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ASSERT_EQ(0, katt_pcr_sel_parse(good[i].in, &sel))
			TH_LOG("%s", good[i].in);
		katt_pcr_sel_format(&sel, text, sizeof(text));
		EXPECT_STREQ(good[i].out, text);
		ASSERT_EQ(0, katt_pcr_sel_parse(text, &again));
		EXPECT_TRUE(sel_eq(&sel, &again));
	}
	ASSERT_EQ(0, katt_pcr_sel_parse("sha256:0,1,7+sha1:0-3", &sel));
	EXPECT_EQ(2, sel.nbanks);
	EXPECT_EQ(SHA256, sel.bank[0].alg);
	EXPECT_EQ(0x83, sel.bank[0].pcrs);
	EXPECT_EQ(SHA1, sel.bank[1].alg);
	EXPECT_EQ(0xf, sel.bank[1].pcrs);
	ASSERT_EQ(0, katt_pcr_sel_parse("sha256:0-23", &sel));
	EXPECT_EQ(0xffffff, sel.bank[0].pcrs);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&sel, 0x5a, sizeof(sel));
		EXPECT_EQ(-EINVAL, katt_pcr_sel_parse(bad[i], &sel))
			TH_LOG("\"%s\" parsed", bad[i]);
		/* a refused selection leaves @sel as it was */
		EXPECT_EQ(0x5a5a5a5a, sel.nbanks);
	}

	/* the longest selection fits in 160 bytes */
	sel.nbanks = 4;
	for (i = 0; i < 4; i++) {
		sel.bank[i].alg = i == 0 ? SHA1 : SHA256 + i - 1;
		sel.bank[i].pcrs = 0x555555;
	}
	katt_pcr_sel_format(&sel, text, sizeof(text));
	EXPECT_GT(160, strlen(text));
	ASSERT_EQ(0, katt_pcr_sel_parse(text, &again));
	EXPECT_TRUE(sel_eq(&sel, &again));
}

/* --- the configuration ------------------------------------------------------ */

TEST_F(files, config_every_key)
{
	struct katt_config *c;
	char want[PATH_MAX + 64], dir[PATH_MAX];

	ASSERT_EQ(0, load_text(self->dir, "config.json",
			       "{\n"
			       "  \"tcti\": \"swtpm:path=/tmp/x\",\n"
			       "  \"state_dir\": \"state\",\n"
			       "  \"policy\": \"/etc/other/policy.json\",\n"
			       "  \"ak_type\": \"rsa\",\n"
			       "  \"endorsement_auth\": \"secret\",\n"
			       "  \"event_logs\": [\n"
			       "    { \"path\": \"/sys/kernel/security/tpm0/binary_bios_measurements\", \"format\": \"tcg\" },\n"
			       "    { \"path\": \"logs/ima\", \"format\": \"ima\" }\n"
			       "  ],\n"
			       "  \"log\": \"syslog\"\n"
			       "}\n", false, (void **)&c, self->msg,
			       sizeof(self->msg))) TH_LOG("%s", self->msg);
	ASSERT_NE(NULL, realpath(self->dir, dir));
	EXPECT_STREQ("swtpm:path=/tmp/x", c->tcti);
	snprintf(want, sizeof(want), "%s/state", dir);
	EXPECT_STREQ(want, c->state_dir);
	EXPECT_STREQ("/etc/other/policy.json", c->policy_path);
	EXPECT_EQ(TPM2_ALG_RSA, c->ak_type);
	EXPECT_STREQ("secret", c->eh_auth);
	ASSERT_EQ(2, c->nlogs);
	EXPECT_STREQ("/sys/kernel/security/tpm0/binary_bios_measurements",
		     c->log_path[0]);
	EXPECT_EQ(KATT_LOG_FORMAT_TCG, c->log_format[0]);
	snprintf(want, sizeof(want), "%s/logs/ima", dir);
	EXPECT_STREQ(want, c->log_path[1]);
	EXPECT_EQ(KATT_LOG_FORMAT_IMA, c->log_format[1]);
	EXPECT_TRUE(c->use_syslog);
	EXPECT_STREQ("", self->msg);
	katt_config_free(c);
}

TEST_F(files, config_defaults)
{
	struct katt_config *c;

	ASSERT_EQ(0, load_text(self->dir, "c.json", "{}", false, (void **)&c,
			       self->msg, sizeof(self->msg)));
	EXPECT_EQ(NULL, c->tcti);
	EXPECT_STREQ(KATT_STATE_DIR_DEFAULT, c->state_dir);
	EXPECT_STREQ(KATT_POLICY_DEFAULT, c->policy_path);
	EXPECT_EQ(TPM2_ALG_ECC, c->ak_type);
	EXPECT_EQ(NULL, c->eh_auth);
	EXPECT_EQ(0, c->nlogs);
	EXPECT_FALSE(c->use_syslog);
	katt_config_free(c);

	/* the empty authorization is no authorization; ecc and stderr named */
	ASSERT_EQ(0, load_text(self->dir, "c.json",
			       "{\"endorsement_auth\": \"\", \"ak_type\": \"ecc\", \"log\": \"stderr\", \"event_logs\": []}",
			       false, (void **)&c, self->msg,
			       sizeof(self->msg)));
	EXPECT_EQ(NULL, c->eh_auth);
	EXPECT_EQ(TPM2_ALG_ECC, c->ak_type);
	EXPECT_FALSE(c->use_syslog);
	katt_config_free(c);
}

TEST_F(files, config_relative_to_its_directory)
{
	struct katt_config *c;
	char sub[PATH_MAX], want[PATH_MAX + 64], real[PATH_MAX], cwd[PATH_MAX];

	/* loaded from elsewhere, through a relative path */
	snprintf(sub, sizeof(sub), "%s/etc", self->dir);
	ASSERT_EQ(0, mkdir(sub, 0700));
	ASSERT_NE(NULL, getcwd(cwd, sizeof(cwd)));
	ASSERT_EQ(0, chdir(self->dir));
	ASSERT_EQ(0, load_text("etc", "config.json",
			       "{\"policy\": \"policy.json\", \"state_dir\": \"../var\", \"event_logs\": [{\"path\": \"log\", \"format\": \"tcg\"}]}",
			       false, (void **)&c, self->msg,
			       sizeof(self->msg))) TH_LOG("%s", self->msg);
	ASSERT_EQ(0, chdir(cwd));
	ASSERT_NE(NULL, realpath(sub, real));
	snprintf(want, sizeof(want), "%s/policy.json", real);
	EXPECT_STREQ(want, c->policy_path);
	snprintf(want, sizeof(want), "%s/../var", real);
	EXPECT_STREQ(want, c->state_dir);
	snprintf(want, sizeof(want), "%s/log", real);
	EXPECT_STREQ(want, c->log_path[0]);
	EXPECT_STREQ("etc/config.json", c->path);
	katt_config_free(c);
}

TEST_F(files, config_missing)
{
	struct katt_config *c = (void *)1;
	struct capture cap;
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/none.json", self->dir);
	ASSERT_EQ(0, capture_begin(&cap, 2));
	EXPECT_EQ(-ENOENT, katt_config_load(path, &c));
	capture_end(&cap, self->msg, sizeof(self->msg));
	EXPECT_EQ(NULL, c);
	EXPECT_NE(NULL, strstr(self->msg, path));
	EXPECT_NE(NULL, strstr(self->msg, "No such file"));
	EXPECT_EQ(-ENOENT, katt_policy_load(path, (struct katt_policy **)&c));
	/* a directory is not a file */
	ASSERT_EQ(0, capture_begin(&cap, 2));
	EXPECT_EQ(-EISDIR, katt_config_load(self->dir, &c));
	capture_end(&cap, self->msg, sizeof(self->msg));
	EXPECT_NE(NULL, strstr(self->msg, "not a regular file"));
}

static const struct bad_case {
	const char *what;
	const char *text;
	const char *msg;	/* in the error, after "FILE:" */
} bad_configs[] = {
	{ "not JSON", "tcti", ":1:4: '[' or '{' expected near 'tcti'" },
	{ "a syntax error", "{\n  \"tcti\": \"x\",\n}\n", ":3:1: " },
	{ "truncated", "{\"tcti\": \"x\"", ":1:" },
	{ "empty file", "", ":1:0: " },
	{ "duplicate key", "{\"tcti\": \"a\",\n \"tcti\": \"b\"}",
	  ":2:7: duplicate object key near '\"tcti\"'" },
	{ "trailing data", "{} {}", ":1:4: end of file expected" },
	{ "an array at the top", "[]", ": not a JSON object" },
	{ "NUL in a string", "{\"tcti\": \"a\\u0000b\"}", ":1:" },
	{ "unknown key", "{\"tctl\": \"x\"}", ": tctl: unknown key" },
	{ "tcti a number", "{\"tcti\": 1}",
	  ": tcti: is an integer, not a string" },
	{ "tcti empty", "{\"tcti\": \"\"}", ": tcti: is empty" },
	{ "tcti null", "{\"tcti\": null}", ": tcti: is null, not a string" },
	{ "state_dir empty", "{\"state_dir\": \"\"}", ": state_dir: is empty" },
	{ "state_dir an array", "{\"state_dir\": []}",
	  ": state_dir: is an array, not a string" },
	{ "policy a boolean", "{\"policy\": true}",
	  ": policy: is a boolean, not a string" },
	{ "ak_type dsa", "{\"ak_type\": \"dsa\"}",
	  ": ak_type: \"dsa\" is not \"ecc\" or \"rsa\"" },
	{ "ak_type ECC", "{\"ak_type\": \"ECC\"}", ": ak_type: \"ECC\" is not" },
	{ "endorsement_auth a number", "{\"endorsement_auth\": 0}",
	  ": endorsement_auth: is an integer" },
	{ "log a file", "{\"log\": \"/var/log/x\"}",
	  ": log: \"/var/log/x\" is not \"stderr\" or \"syslog\"" },
	{ "event_logs an object", "{\"event_logs\": {}}",
	  ": event_logs: not an array" },
	{ "three event logs",
	  "{\"event_logs\": [{\"path\": \"a\", \"format\": \"tcg\"}, {\"path\": \"b\", \"format\": \"tcg\"}, {\"path\": \"c\", \"format\": \"tcg\"}]}",
	  ": event_logs: 3 event logs, at most 2" },
	{ "event log a string", "{\"event_logs\": [\"/x\"]}",
	  ": event_logs[0]: is a string, not an object" },
	{ "event log without path", "{\"event_logs\": [{\"format\": \"tcg\"}]}",
	  ": event_logs[0].path: missing" },
	{ "event log without format", "{\"event_logs\": [{\"path\": \"x\"}]}",
	  ": event_logs[0].format: missing" },
	{ "event log format bin",
	  "{\"event_logs\": [{\"path\": \"x\", \"format\": \"tcg\"}, {\"path\": \"x\", \"format\": \"bin\"}]}",
	  ": event_logs[1].format: \"bin\" is not \"tcg\" or \"ima\"" },
	{ "event log unknown key",
	  "{\"event_logs\": [{\"path\": \"x\", \"format\": \"tcg\", \"size\": 1}]}",
	  ": event_logs[0].size: unknown key" },
};

static void check_bad(struct __test_metadata *_metadata, const char *dir,
		      const struct bad_case *cases, size_t n, bool policy,
		      char *msg, size_t cap)
{
	char path[PATH_MAX], want[PATH_MAX + 256];
	void *out;
	size_t i;

	snprintf(path, sizeof(path), "%s/%s", dir, policy ? "p.json" : "c.json");
	for (i = 0; i < n; i++) {
		out = (void *)1;
		EXPECT_EQ(-EINVAL, load_text(dir, policy ? "p.json" : "c.json",
					     cases[i].text, policy, &out, msg,
					     cap)) TH_LOG("%s: loaded", cases[i].what);
		EXPECT_EQ(NULL, out);
		/* one error line: "ktls-attestd: error: FILE<msg>..." */
		snprintf(want, sizeof(want), "ktls-attestd: error: %s%s", path,
			 cases[i].msg);
		EXPECT_NE(NULL, strstr(msg, want))
			TH_LOG("%s: want \"%s\", got \"%s\"", cases[i].what,
			       want, msg);
		EXPECT_EQ(1, !!strchr(msg, '\n') && !strchr(msg, '\n')[1])
			TH_LOG("%s: not one line: %s", cases[i].what, msg);
	}
}

TEST_F(files, config_bad)
{
	check_bad(_metadata, self->dir, bad_configs,
		  sizeof(bad_configs) / sizeof(bad_configs[0]), false,
		  self->msg, sizeof(self->msg));
}

/* --- the policy ------------------------------------------------------------- */

TEST_F(files, policy_every_key)
{
	struct katt_policy *p;
	const struct katt_reference *r;
	char text[160];

	ASSERT_EQ(0, load_text(self->dir, "policy.json",
			       "{\n"
			       "  \"attester\": {\n"
			       "    \"peers\": \"any\",\n"
			       "    \"pcrs\": \"sha256:0,1,7\",\n"
			       "    \"allow_pcrs\": \"sha256:0-23+sha1:0-7\"\n"
			       "  },\n"
			       "  \"relying_party\": {\n"
			       "    \"aks\": [ { \"name\": \"" NAME_A "\" },\n"
			       "             { \"spki_sha256\": \"" HEX64_B "\" },\n"
			       "             { \"name\": \"0004" HEX40_C "\" } ],\n"
			       "    \"pcrs\": \"sha256:0,1,7+sha1:4\",\n"
			       "    \"reference\": {\n"
			       "      \"sha256\": { \"0\": [\"" HEX64_A "\", \"" HEX64_B "\"],\n"
			       "                  \"7\": [\"" HEX64_B "\"] },\n"
			       "      \"sha1\": { \"4\": [\"" HEX40_C "\"] }\n"
			       "    },\n"
			       "    \"valid_for\": 3600\n"
			       "  }\n"
			       "}\n", true, (void **)&p, self->msg,
			       sizeof(self->msg))) TH_LOG("%s", self->msg);
	EXPECT_STREQ("", self->msg);
	EXPECT_TRUE(p->attester);
	EXPECT_EQ(KATT_PEERS_ANY, p->peers);
	katt_pcr_sel_format(&p->default_sel, text, sizeof(text));
	EXPECT_STREQ("sha256:0,1,7", text);
	katt_pcr_sel_format(&p->allow_sel, text, sizeof(text));
	EXPECT_STREQ("sha256:0-23+sha1:0-7", text);

	EXPECT_TRUE(p->rp);
	ASSERT_EQ(3, p->naks);
	EXPECT_TRUE(p->aks[0].by_name);
	EXPECT_EQ(34, p->aks[0].name.size);
	EXPECT_EQ(0x00, p->aks[0].name.name[0]);
	EXPECT_EQ(0x0b, p->aks[0].name.name[1]);
	EXPECT_EQ(0xaa, p->aks[0].name.name[33]);
	EXPECT_FALSE(p->aks[1].by_name);
	EXPECT_EQ(0xbb, p->aks[1].spki_sha256[0]);
	EXPECT_EQ(0xbb, p->aks[1].spki_sha256[31]);
	EXPECT_TRUE(p->aks[2].by_name);
	EXPECT_EQ(22, p->aks[2].name.size);
	katt_pcr_sel_format(&p->rp_policy.sel, text, sizeof(text));
	EXPECT_STREQ("sha256:0,1,7+sha1:4", text);
	ASSERT_EQ(3, p->nrefs);
	r = &p->refs[0];
	EXPECT_EQ(SHA256, r->alg);
	EXPECT_EQ(0, r->pcr);
	EXPECT_EQ(32, r->size);
	EXPECT_EQ(2, r->nvalues);
	EXPECT_EQ(0xaa, r->value[0][31]);
	EXPECT_EQ(0xbb, r->value[1][0]);
	r = &p->refs[1];
	EXPECT_EQ(7, r->pcr);
	EXPECT_EQ(1, r->nvalues);
	r = &p->refs[2];
	EXPECT_EQ(SHA1, r->alg);
	EXPECT_EQ(4, r->pcr);
	EXPECT_EQ(20, r->size);
	EXPECT_EQ(0xcc, r->value[0][19]);
	EXPECT_EQ(3600, p->valid_for);

	/* what appraise.c takes points into the arrays */
	EXPECT_EQ(p->aks, p->rp_policy.aks);
	EXPECT_EQ(3, p->rp_policy.naks);
	EXPECT_EQ(p->refs, p->rp_policy.refs);
	EXPECT_EQ(3, p->rp_policy.nrefs);
	katt_policy_free(p);
}

TEST_F(files, policy_defaults)
{
	struct katt_policy *p;
	char text[160];

	/* neither role */
	ASSERT_EQ(0, load_text(self->dir, "p.json", "{}", true, (void **)&p,
			       self->msg, sizeof(self->msg)));
	EXPECT_FALSE(p->attester);
	EXPECT_FALSE(p->rp);
	EXPECT_EQ(0, p->rp_policy.naks);
	katt_policy_free(p);

	ASSERT_EQ(0, load_text(self->dir, "p.json",
			       "{\"attester\": {}, \"relying_party\": {\"aks\": [{\"name\": \"" NAME_A "\"}]}}",
			       true, (void **)&p, self->msg,
			       sizeof(self->msg))) TH_LOG("%s", self->msg);
	EXPECT_TRUE(p->attester);
	EXPECT_EQ(KATT_PEERS_VERIFIED, p->peers);
	katt_pcr_sel_format(&p->default_sel, text, sizeof(text));
	EXPECT_STREQ("sha256:0-7", text);
	EXPECT_TRUE(sel_eq(&p->default_sel, &p->allow_sel));
	EXPECT_TRUE(p->rp);
	katt_pcr_sel_format(&p->rp_policy.sel, text, sizeof(text));
	EXPECT_STREQ("sha256:0-7", text);
	EXPECT_EQ(0, p->nrefs);
	EXPECT_EQ(0, p->valid_for);
	katt_policy_free(p);

	/* peers named; the largest valid_for; reference PCR 23 */
	ASSERT_EQ(0, load_text(self->dir, "p.json",
			       "{\"attester\": {\"peers\": \"verified\", \"pcrs\": \"sha256:1\", \"allow_pcrs\": \"sha256:1\"}, \"relying_party\": {\"aks\": [{\"name\": \"" NAME_A "\"}], \"pcrs\": \"sha256:23\", \"reference\": {\"sha256\": {\"23\": [\"" HEX64_A "\"]}}, \"valid_for\": 4294967295}}",
			       true, (void **)&p, self->msg,
			       sizeof(self->msg))) TH_LOG("%s", self->msg);
	EXPECT_EQ(KATT_PEERS_VERIFIED, p->peers);
	EXPECT_EQ(4294967295u, p->valid_for);
	EXPECT_EQ(23, p->refs[0].pcr);
	katt_policy_free(p);

	/* eight values for one PCR */
	ASSERT_EQ(0, load_text(self->dir, "p.json",
			       "{\"relying_party\": {\"aks\": [{\"name\": \"" NAME_A "\"}], \"reference\": {\"sha256\": {\"0\": [\"" HEX64_A "\", \"" HEX64_A "\", \"" HEX64_A "\", \"" HEX64_A "\", \"" HEX64_A "\", \"" HEX64_A "\", \"" HEX64_A "\", \"" HEX64_B "\"]}}}}",
			       true, (void **)&p, self->msg,
			       sizeof(self->msg))) TH_LOG("%s", self->msg);
	EXPECT_EQ(KATT_REF_VALUES_MAX, p->refs[0].nvalues);
	EXPECT_EQ(0xbb, p->refs[0].value[7][0]);
	katt_policy_free(p);
}

#define RP(x)	"{\"relying_party\": {\"aks\": [{\"name\": \"" NAME_A "\"}], " x "}}"
#define NINE_A	"[\"" HEX64_A "\", \"" HEX64_A "\", \"" HEX64_A "\", \"" \
	HEX64_A "\", \"" HEX64_A "\", \"" HEX64_A "\", \"" HEX64_A "\", \"" \
	HEX64_A "\", \"" HEX64_A "\"]"

static const struct bad_case bad_policies[] = {
	{ "duplicate key", "{\"attester\": {},\n\"attester\": {}}",
	  ":2:10: duplicate object key near '\"attester\"'" },
	{ "duplicate key inside", "{\"attester\": {\"pcrs\": \"sha256:0\", \"pcrs\": \"sha256:1\"}}",
	  ":1:40: duplicate object key" },
	{ "trailing data", "{}\n[]", ":2:1: end of file expected" },
	{ "a string at the top", "\"x\"", ":1:" },
	{ "unknown section", "{\"verifier\": {}}", ": verifier: unknown key" },
	{ "attester an array", "{\"attester\": []}",
	  ": attester: is an array, not an object" },
	{ "attester unknown key", "{\"attester\": {\"pcr\": \"sha256:0\"}}",
	  ": attester.pcr: unknown key" },
	{ "peers all", "{\"attester\": {\"peers\": \"all\"}}",
	  ": attester.peers: \"all\" is not \"verified\" or \"any\"" },
	{ "peers true", "{\"attester\": {\"peers\": true}}",
	  ": attester.peers: is a boolean, not a string" },
	{ "pcrs out of range", "{\"attester\": {\"pcrs\": \"sha256:24\"}}",
	  ": attester.pcrs: \"sha256:24\" is not a PCR selection" },
	{ "pcrs bank unknown", "{\"attester\": {\"pcrs\": \"md5:0\"}}",
	  ": attester.pcrs: \"md5:0\" is not a PCR selection" },
	{ "pcrs empty", "{\"attester\": {\"pcrs\": \"\"}}",
	  ": attester.pcrs: is empty" },
	{ "pcrs a list", "{\"attester\": {\"pcrs\": [0, 1]}}",
	  ": attester.pcrs: is an array, not a string" },
	{ "allow_pcrs bad", "{\"attester\": {\"allow_pcrs\": \"sha256:0-\"}}",
	  ": attester.allow_pcrs: \"sha256:0-\" is not a PCR selection" },
	{ "pcrs beyond allow_pcrs",
	  "{\"attester\": {\"pcrs\": \"sha256:0,7\", \"allow_pcrs\": \"sha256:0-6\"}}",
	  ": attester.pcrs: PCR sha256:7 is not within attester.allow_pcrs (sha256:0-6)" },
	{ "pcrs of another bank than allow_pcrs",
	  "{\"attester\": {\"pcrs\": \"sha1:0\", \"allow_pcrs\": \"sha256:0\"}}",
	  ": attester.pcrs: PCR sha1:0 is not within" },
	{ "relying_party a string", "{\"relying_party\": \"yes\"}",
	  ": relying_party: is a string, not an object" },
	{ "relying_party unknown key", RP("\"nonce\": 1"),
	  ": relying_party.nonce: unknown key" },
	{ "no aks", "{\"relying_party\": {}}",
	  ": relying_party.aks: missing: the relying party trusts no AK" },
	{ "aks empty", "{\"relying_party\": {\"aks\": []}}",
	  ": relying_party.aks: empty" },
	{ "aks an object", "{\"relying_party\": {\"aks\": {}}}",
	  ": relying_party.aks: not an array" },
	{ "ak a string", "{\"relying_party\": {\"aks\": [\"" NAME_A "\"]}}",
	  ": relying_party.aks[0]: is a string, not an object" },
	{ "ak with both pins",
	  "{\"relying_party\": {\"aks\": [{\"name\": \"" NAME_A "\", \"spki_sha256\": \"" HEX64_A "\"}]}}",
	  ": relying_party.aks[0]: needs exactly one of \"name\" and \"spki_sha256\"" },
	{ "ak with no pin",
	  "{\"relying_party\": {\"aks\": [{\"name\": \"" NAME_A "\"}, {}]}}",
	  ": relying_party.aks[1]: needs exactly one of" },
	{ "ak unknown key",
	  "{\"relying_party\": {\"aks\": [{\"name\": \"" NAME_A "\", \"host\": \"a\"}]}}",
	  ": relying_party.aks[0].host: unknown key" },
	{ "name not hex",
	  "{\"relying_party\": {\"aks\": [{\"name\": \"000bzz" HEX64_A "\"}]}}",
	  ": relying_party.aks[0].name: not hex of a TPM Name" },
	{ "name odd length",
	  "{\"relying_party\": {\"aks\": [{\"name\": \"000b" HEX64_A "a\"}]}}",
	  ": relying_party.aks[0].name: not hex of a TPM Name" },
	{ "name short",
	  "{\"relying_party\": {\"aks\": [{\"name\": \"000b" HEX40_C "\"}]}}",
	  ": relying_party.aks[0].name: 22 bytes, not 34: a sha256 Name is 2 bytes of algorithm and 32 of digest" },
	{ "name long",
	  "{\"relying_party\": {\"aks\": [{\"name\": \"" NAME_A "00\"}]}}",
	  ": relying_party.aks[0].name: 35 bytes, not 34" },
	{ "name algorithm unknown",
	  "{\"relying_party\": {\"aks\": [{\"name\": \"0099" HEX64_A "\"}]}}",
	  ": relying_party.aks[0].name: name algorithm 0x0099 is not one this agent knows" },
	{ "name only an algorithm",
	  "{\"relying_party\": {\"aks\": [{\"name\": \"00\"}]}}",
	  ": relying_party.aks[0].name: not hex of a TPM Name" },
	{ "name with spaces",
	  "{\"relying_party\": {\"aks\": [{\"name\": \"000b " HEX64_A "\"}]}}",
	  ": relying_party.aks[0].name: not hex" },
	{ "name a number", "{\"relying_party\": {\"aks\": [{\"name\": 11}]}}",
	  ": relying_party.aks[0].name: is an integer, not a string" },
	{ "spki short",
	  "{\"relying_party\": {\"aks\": [{\"spki_sha256\": \"" HEX40_C "\"}]}}",
	  ": relying_party.aks[0].spki_sha256: not 32 bytes of hex" },
	{ "spki not hex",
	  "{\"relying_party\": {\"aks\": [{\"spki_sha256\": \"" HEX40_C "xxxxxxxxxxxxxxxxxxxxxxxx\"}]}}",
	  ": relying_party.aks[0].spki_sha256: not 32 bytes of hex" },
	{ "rp pcrs bad", RP("\"pcrs\": \"sha256:0,0\""),
	  ": relying_party.pcrs: \"sha256:0,0\" is not a PCR selection" },
	{ "reference an array", RP("\"reference\": []"),
	  ": relying_party.reference: not an object of banks" },
	{ "reference bank unknown", RP("\"reference\": {\"md5\": {}}"),
	  ": relying_party.reference.md5: not a bank" },
	{ "reference bank an array", RP("\"reference\": {\"sha256\": []}"),
	  ": relying_party.reference.sha256: not an object of PCRs" },
	{ "reference PCR 24",
	  RP("\"reference\": {\"sha256\": {\"24\": [\"" HEX64_A "\"]}}"),
	  ": relying_party.reference.sha256.24: not a PCR (\"0\" to \"23\")" },
	{ "reference PCR 07",
	  RP("\"reference\": {\"sha256\": {\"07\": [\"" HEX64_A "\"]}}"),
	  ": relying_party.reference.sha256.07: not a PCR" },
	{ "reference PCR x",
	  RP("\"reference\": {\"sha256\": {\"x\": [\"" HEX64_A "\"]}}"),
	  ": relying_party.reference.sha256.x: not a PCR" },
	{ "reference PCR not asked for",
	  RP("\"pcrs\": \"sha256:0,1,7\", \"reference\": {\"sha256\": {\"8\": [\"" HEX64_A "\"]}}"),
	  ": relying_party.reference.sha256.8: PCR sha256:8 is not in relying_party.pcrs (sha256:0,1,7), so it is not quoted" },
	{ "reference bank not asked for",
	  RP("\"pcrs\": \"sha256:0\", \"reference\": {\"sha1\": {\"0\": [\"" HEX40_C "\"]}}"),
	  ": relying_party.reference.sha1.0: PCR sha1:0 is not in relying_party.pcrs" },
	{ "reference PCR beyond the default",
	  RP("\"reference\": {\"sha256\": {\"8\": [\"" HEX64_A "\"]}}"),
	  ": relying_party.reference.sha256.8: PCR sha256:8 is not in relying_party.pcrs (sha256:0-7)" },
	{ "reference value a string",
	  RP("\"reference\": {\"sha256\": {\"0\": \"" HEX64_A "\"}}"),
	  ": relying_party.reference.sha256.0: not an array of hex digests" },
	{ "reference no values", RP("\"reference\": {\"sha256\": {\"0\": []}}"),
	  ": relying_party.reference.sha256.0: empty" },
	{ "reference nine values",
	  RP("\"reference\": {\"sha256\": {\"0\": " NINE_A "}}"),
	  ": relying_party.reference.sha256.0: 9 values, at most 8" },
	{ "reference sha1 size in sha256",
	  RP("\"reference\": {\"sha256\": {\"1\": [\"" HEX64_A "\", \"" HEX40_C "\"]}}"),
	  ": relying_party.reference.sha256.1[1]: not 32 bytes of hex (64 hex digits, the sha256 digest size)" },
	{ "reference sha256 size in sha1",
	  "{\"relying_party\": {\"aks\": [{\"name\": \"" NAME_A "\"}], \"pcrs\": \"sha1:0\", \"reference\": {\"sha1\": {\"0\": [\"" HEX64_A "\"]}}}}",
	  ": relying_party.reference.sha1.0[0]: not 20 bytes of hex (40 hex digits, the sha1 digest size)" },
	{ "reference value not hex",
	  RP("\"reference\": {\"sha256\": {\"0\": [\"" HEX40_C "ccccccccccccccccccccccgg\"]}}"),
	  ": relying_party.reference.sha256.0[0]: not 32 bytes of hex" },
	{ "reference value a number",
	  RP("\"reference\": {\"sha256\": {\"0\": [0]}}"),
	  ": relying_party.reference.sha256.0[0]: is an integer, not a string" },
	{ "valid_for negative", RP("\"valid_for\": -1"),
	  ": relying_party.valid_for: not a number of seconds, 0 to 4294967295" },
	{ "valid_for too large", RP("\"valid_for\": 4294967296"),
	  ": relying_party.valid_for: not a number of seconds" },
	{ "valid_for a string", RP("\"valid_for\": \"10\""),
	  ": relying_party.valid_for: not a number of seconds" },
	{ "valid_for a real", RP("\"valid_for\": 1.5"),
	  ": relying_party.valid_for: not a number of seconds" },
};

TEST_F(files, policy_bad)
{
	check_bad(_metadata, self->dir, bad_policies,
		  sizeof(bad_policies) / sizeof(bad_policies[0]), true,
		  self->msg, sizeof(self->msg));
}

/* --- the examples and the man page ---------------------------------------- */

TEST(examples_load)
{
	struct katt_config *c;
	struct katt_policy *p;
	char path[PATH_MAX], real[PATH_MAX];

	tree_path(path, sizeof(path), "agent/examples/config.json");
	ASSERT_EQ(0, katt_config_load(path, &c));
	/* its policy is the example policy, next to it */
	tree_path(path, sizeof(path), "agent/examples/policy.json");
	ASSERT_NE(NULL, realpath(path, real));
	EXPECT_STREQ(real, c->policy_path);
	EXPECT_STREQ("device:/dev/tpmrm0", c->tcti);
	EXPECT_EQ(1, c->nlogs);
	ASSERT_EQ(0, katt_policy_load(c->policy_path, &p));
	EXPECT_TRUE(p->attester);
	EXPECT_TRUE(p->rp);
	EXPECT_LT(0, p->naks);
	EXPECT_LT(0, p->nrefs);
	katt_policy_free(p);
	katt_config_free(c);
}

static const char *const every_key[] = {
	"tcti", "state_dir", "policy", "ak_type", "endorsement_auth",
	"event_logs", "path", "format", "log", "attester", "peers", "pcrs",
	"allow_pcrs", "relying_party", "aks", "name", "spki_sha256",
	"reference", "valid_for", NULL,
};

TEST(man_page)
{
	char path[PATH_MAX];
	unsigned int i;

	tree_path(path, sizeof(path), "Documentation/man/ktls-attestd.conf.5");
	ASSERT_EQ(0, access(path, R_OK));
	if (run_cmd("command -v groff > /dev/null"))
		SKIP(return, "groff is not installed");
	EXPECT_EQ(0, run_cmd("out=$(groff -man -ww -z -Tutf8 '%s' 2>&1) && [ -z \"$out\" ] || { printf '# %%s\\n' \"$out\"; exit 1; }",
			     path));
	for (i = 0; every_key[i]; i++)
		EXPECT_EQ(0, run_cmd("LC_ALL=C.UTF-8 MANWIDTH=80 man -l '%s' 2>/dev/null | grep -qE '^ +\"?%s\"?( |:|$)'",
				     path, every_key[i]))
			TH_LOG("the man page has no entry for %s", every_key[i]);
}

/* --- enrolment against swtpm ------------------------------------------------ */

FIXTURE(enroll) {
	bool skip;
	struct swtpm tpm;
	char *dir;
	char config[PATH_MAX];
	char out[16384];
	char err[4096];
};

FIXTURE_SETUP(enroll)
{
	char text[512];
	int ret;

	self->dir = NULL;
	self->skip = false;
	ret = swtpm_start(&self->tpm);
	if (ret == -2) {
		self->skip = true;
		SKIP(return, "swtpm is not installed");
	}
	ASSERT_EQ(0, ret);
	self->dir = new_dir();
	ASSERT_NE(NULL, self->dir);
	snprintf(self->config, sizeof(self->config), "%s/config.json",
		 self->dir);
	/* the state directory relative to the configuration */
	snprintf(text, sizeof(text),
		 "{\"tcti\": \"%s\", \"state_dir\": \"state\", \"policy\": \"policy.json\"}",
		 self->tpm.tcti);
	ASSERT_EQ(0, write_file(self->config, text));
}

FIXTURE_TEARDOWN(enroll)
{
	swtpm_destroy(&self->tpm);
	if (self->dir)
		run_cmd("rm -rf '%s'", self->dir);
	free(self->dir);
}

/* Runs "enroll ARGS..." (NULL-terminated); stdout and stderr captured. */
static int enroll_run(char *out, size_t outcap, char *err, size_t errcap, ...)
{
	struct capture co, ce;
	char *argv[16];
	va_list ap;
	int argc = 0, ret;

	argv[argc++] = "enroll";
	va_start(ap, errcap);
	while (argc < 15 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	if (capture_begin(&co, 1))
		return -100;
	if (capture_begin(&ce, 2)) {
		capture_end(&co, out, outcap);
		return -100;
	}
	ret = katt_enroll_main(argc, argv);
	capture_end(&ce, err, errcap);
	capture_end(&co, out, outcap);
	return ret;
}

#define ENROLL(...) enroll_run(self->out, sizeof(self->out), self->err, \
			       sizeof(self->err), __VA_ARGS__, NULL)

/* The value after "@label" on a line of @text. */
static int field(const char *text, const char *label, char *out, size_t len)
{
	const char *p = strstr(text, label);
	size_t n;

	if (!p)
		return -1;
	p += strlen(label);
	while (*p == ' ')
		p++;
	n = strcspn(p, "\n");
	if (n >= len)
		return -1;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

/* The Name of the AK the attester loads from the state directory. */
static int attester_name(const char *tcti, const char *state, char *hex)
{
	struct katt_attester_config cfg = { 0 };
	struct katt_attester *a;
	const struct katt_ak *ak;

	cfg.tcti = tcti;
	cfg.state_dir = state;
	katt_pcr_sel_parse("sha256:0", &cfg.default_sel);
	if (katt_attester_open(&cfg, &a))
		return -1;
	ak = katt_attester_ak(a);
	katt_hex(ak->name.name, ak->name.size, hex);
	katt_attester_close(a);
	return 0;
}

/*
 * tpm2_pcrread's value of PCR @pcr of the sha256 bank, as lower-case hex.
 */
static int pcrread(const char *tcti, unsigned int pcr, char *hex)
{
	char cmd[512], line[256];
	FILE *f;
	int ret = -1;

	snprintf(cmd, sizeof(cmd), "tpm2_pcrread -T '%s' sha256:%u 2>&1",
		 tcti, pcr);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned int n;
		char v[130];

		if (sscanf(line, " %u : 0x%128s", &n, v) == 2 && n == pcr) {
			size_t i;

			for (i = 0; v[i]; i++)
				hex[i] = v[i] >= 'A' && v[i] <= 'F' ?
					 v[i] - 'A' + 'a' : v[i];
			hex[i] = '\0';
			ret = 0;
		}
	}
	if (pclose(f))
		ret = -1;
	return ret;
}

TEST_F(enroll, prints_the_attesters_ak)
{
	char name[160], spki[80], state[PATH_MAX + 16], hex[160];

	READY();
	ASSERT_EQ(0, ENROLL("-c", self->config)) TH_LOG("%s", self->err);
	ASSERT_EQ(0, field(self->out, "AK name:", name, sizeof(name)))
		TH_LOG("%s", self->out);
	ASSERT_EQ(0, field(self->out, "AK spki_sha256:", spki, sizeof(spki)));
	EXPECT_EQ(68, strlen(name));
	EXPECT_EQ(0, strncmp(name, "000b", 4));
	EXPECT_EQ(64, strlen(spki));
	EXPECT_NE(NULL, strstr(self->out, "AK type:         ecc\n"));
	EXPECT_NE(NULL, strstr(self->out, "-----BEGIN PUBLIC KEY-----\n"));
	EXPECT_EQ(NULL, strstr(self->out, "policy for the peer"));

	/* the AK was made in the state directory, and the attester uses it */
	snprintf(state, sizeof(state), "%s/state", self->dir);
	ASSERT_EQ(0, attester_name(self->tpm.tcti, state, hex));
	EXPECT_STREQ(name, hex);

	/* a second enrolment prints the same AK, kept */
	ASSERT_EQ(0, ENROLL("-c", self->config));
	ASSERT_EQ(0, field(self->out, "AK name:", hex, sizeof(hex)));
	EXPECT_STREQ(name, hex);

	/* and the pin by SPKI is that of the key the attester's quotes carry */
	{
		struct katt_attester_config cfg = { 0 };
		struct katt_attester *a;
		EVP_PKEY *pkey;
		uint8_t d[32];

		cfg.tcti = self->tpm.tcti;
		cfg.state_dir = state;
		katt_pcr_sel_parse("sha256:0", &cfg.default_sel);
		ASSERT_EQ(0, katt_attester_open(&cfg, &a));
		ASSERT_EQ(0, katt_tpm_pkey(&katt_attester_ak(a)->pub.publicArea,
					   &pkey));
		ASSERT_EQ(0, katt_pkey_spki_sha256(pkey, d));
		EVP_PKEY_free(pkey);
		katt_attester_close(a);
		katt_hex(d, 32, hex);
		EXPECT_STREQ(spki, hex);
	}
}

TEST_F(enroll, json)
{
	char state[PATH_MAX + 16], hex[160], pol[PATH_MAX + 16];
	json_error_t e;
	json_t *o;

	READY();
	snprintf(pol, sizeof(pol), "%s/peer.json", self->dir);
	ASSERT_EQ(0, ENROLL("-c", self->config, "-j", "--pcrs", "sha256:0,7",
			    "-o", pol)) TH_LOG("%s", self->err);
	o = json_loads(self->out, 0, &e);
	ASSERT_NE(NULL, o) TH_LOG("%s: %s", e.text, self->out);
	snprintf(state, sizeof(state), "%s/state", self->dir);
	ASSERT_EQ(0, attester_name(self->tpm.tcti, state, hex));
	EXPECT_STREQ(hex, json_string_value(json_object_get(
				json_object_get(o, "ak"), "name")));
	EXPECT_EQ(64, json_string_length(json_object_get(
				json_object_get(o, "ak"), "spki_sha256")));
	EXPECT_STREQ("ecc", json_string_value(json_object_get(
				json_object_get(o, "ak"), "type")));
	EXPECT_NE(NULL, strstr(json_string_value(json_object_get(
				json_object_get(o, "ak"), "public_pem")),
			       "BEGIN PUBLIC KEY"));
	EXPECT_STREQ(pol, json_string_value(json_object_get(
				json_object_get(o, "policy"), "path")));
	EXPECT_STREQ("sha256:0,7", json_string_value(json_object_get(
				json_object_get(o, "policy"), "pcrs")));
	json_decref(o);
}

TEST_F(enroll, writes_the_peers_policy)
{
	struct katt_policy *p;
	char name[160], pol[PATH_MAX + 16], hex[160], want[160];
	unsigned int i;
	struct stat st;

	READY();
	snprintf(pol, sizeof(pol), "%s/peer.json", self->dir);
	ASSERT_EQ(0, ENROLL("-c", self->config, "-o", pol))
		TH_LOG("%s", self->err);
	ASSERT_EQ(0, field(self->out, "AK name:", name, sizeof(name)));
	EXPECT_NE(NULL, strstr(self->out, "policy for the peer: "));
	EXPECT_NE(NULL, strstr(self->out, "sha256:0-7"));
	ASSERT_EQ(0, stat(pol, &st));
	EXPECT_EQ(0644, st.st_mode & 0777);
	/* nothing left over from the atomic write */
	EXPECT_EQ(0, run_cmd("[ $(ls '%s' | grep -c peer.json) -eq 1 ]",
			     self->dir));

	ASSERT_EQ(0, katt_policy_load(pol, &p));
	EXPECT_FALSE(p->attester);
	ASSERT_TRUE(p->rp);
	ASSERT_EQ(1, p->naks);
	EXPECT_TRUE(p->aks[0].by_name);
	katt_hex(p->aks[0].name.name, p->aks[0].name.size, hex);
	EXPECT_STREQ(name, hex);
	katt_pcr_sel_format(&p->rp_policy.sel, hex, sizeof(hex));
	EXPECT_STREQ("sha256:0-7", hex);
	ASSERT_EQ(8, p->nrefs);
	for (i = 0; i < 8; i++) {
		EXPECT_EQ(SHA256, p->refs[i].alg);
		EXPECT_EQ(i, p->refs[i].pcr);
		ASSERT_EQ(1, p->refs[i].nvalues);
		ASSERT_EQ(0, pcrread(self->tpm.tcti, i, want));
		katt_hex(p->refs[i].value[0], 32, hex);
		EXPECT_STREQ(want, hex) TH_LOG("PCR %u", i);
	}
	katt_policy_free(p);

	/* PCR 7 extended: its value is no longer the reference */
	ASSERT_EQ(0, run_cmd("tpm2_pcrextend -T '%s' 7:sha256=" HEX64_A,
			     self->tpm.tcti));
	ASSERT_EQ(0, katt_policy_load(pol, &p));
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, pcrread(self->tpm.tcti, i, want));
		katt_hex(p->refs[i].value[0], 32, hex);
		if (i == 7) {
			EXPECT_STRNE(want, hex);
		} else {
			EXPECT_STREQ(want, hex);
		}
	}
	katt_policy_free(p);

	/* enrolled again, the file is replaced with the new value */
	ASSERT_EQ(0, ENROLL("-c", self->config, "-o", pol));
	ASSERT_EQ(0, katt_policy_load(pol, &p));
	ASSERT_EQ(0, pcrread(self->tpm.tcti, 7, want));
	katt_hex(p->refs[7].value[0], 32, hex);
	EXPECT_STREQ(want, hex);
	katt_policy_free(p);
}

TEST_F(enroll, selection_from_the_policy_or_option)
{
	struct katt_policy *p;
	char pol[PATH_MAX + 16], path[PATH_MAX + 16], text[160];

	READY();
	/* the configuration's policy names what this attester quotes */
	snprintf(path, sizeof(path), "%s/policy.json", self->dir);
	ASSERT_EQ(0, write_file(path, "{\"attester\": {\"pcrs\": \"sha256:0,1,7\"}}"));
	snprintf(pol, sizeof(pol), "%s/peer.json", self->dir);
	ASSERT_EQ(0, ENROLL("-c", self->config, "-o", pol))
		TH_LOG("%s", self->err);
	ASSERT_EQ(0, katt_policy_load(pol, &p));
	katt_pcr_sel_format(&p->rp_policy.sel, text, sizeof(text));
	EXPECT_STREQ("sha256:0,1,7", text);
	EXPECT_EQ(3, p->nrefs);
	EXPECT_EQ(7, p->refs[2].pcr);
	katt_policy_free(p);

	/* --pcrs wins, two banks */
	ASSERT_EQ(0, ENROLL("-c", self->config, "--pcrs",
			    "sha256:16-18+sha1:0", "-o", pol))
		TH_LOG("%s", self->err);
	ASSERT_EQ(0, katt_policy_load(pol, &p));
	katt_pcr_sel_format(&p->rp_policy.sel, text, sizeof(text));
	EXPECT_STREQ("sha256:16-18+sha1:0", text);
	ASSERT_EQ(4, p->nrefs);
	EXPECT_EQ(SHA1, p->refs[3].alg);
	EXPECT_EQ(20, p->refs[3].size);
	katt_policy_free(p);

	/* a policy that does not load is an error, not ignored */
	ASSERT_EQ(0, write_file(path, "{\"attester\": {\"pcrs\": 7}}"));
	EXPECT_EQ(1, ENROLL("-c", self->config, "-o", pol));
	EXPECT_NE(NULL, strstr(self->err, "attester.pcrs: is an integer"));
}

TEST_F(enroll, usage_and_failures)
{
	char pol[PATH_MAX + 16], missing[PATH_MAX + 16], before[4096];

	READY();
	EXPECT_EQ(0, ENROLL("-h"));
	EXPECT_NE(NULL, strstr(self->out, "usage: ktls-attestd enroll"));
	EXPECT_EQ(2, ENROLL("--bogus"));
	EXPECT_NE(NULL, strstr(self->err, "unknown option --bogus"));
	EXPECT_NE(NULL, strstr(self->err, "usage: ktls-attestd enroll"));
	EXPECT_EQ(2, ENROLL("-x"));
	EXPECT_NE(NULL, strstr(self->err, "unknown option -x"));
	EXPECT_EQ(2, ENROLL("-c"));
	EXPECT_NE(NULL, strstr(self->err, "-c needs an argument"));
	EXPECT_EQ(2, ENROLL("-c", self->config, "--pcrs"));
	EXPECT_NE(NULL, strstr(self->err, "--pcrs needs an argument"));
	EXPECT_EQ(2, ENROLL("--json=1"));
	EXPECT_NE(NULL, strstr(self->err, "--json=1 takes no argument"));
	EXPECT_EQ(2, ENROLL("-c", self->config, "--pcrs", "sha256:24"));
	EXPECT_NE(NULL, strstr(self->err, "--pcrs sha256:24: not a PCR selection"));
	EXPECT_EQ(2, ENROLL("-c", self->config, "extra"));
	EXPECT_NE(NULL, strstr(self->err, "unexpected argument extra"));
	EXPECT_EQ(0, strlen(self->out));

	/* runtime failures: 1, and no policy file written */
	snprintf(missing, sizeof(missing), "%s/none.json", self->dir);
	snprintf(pol, sizeof(pol), "%s/peer.json", self->dir);
	EXPECT_EQ(1, ENROLL("-c", missing, "-o", pol));
	EXPECT_NE(NULL, strstr(self->err, "none.json"));
	EXPECT_EQ(-1, access(pol, F_OK));
	/* a bank the TPM has not allocated */
	EXPECT_EQ(1, ENROLL("-c", self->config, "--pcrs", "sm3_256:0",
			    "-o", pol));
	EXPECT_NE(NULL, strstr(self->err, "the TPM has no sm3_256 bank"))
		TH_LOG("%s", self->err);
	EXPECT_EQ(-1, access(pol, F_OK));
	/* a file that cannot be written leaves the old one */
	ASSERT_EQ(0, ENROLL("-c", self->config, "-o", pol));
	ASSERT_LT(0, read_file(pol, before, sizeof(before)));
	snprintf(missing, sizeof(missing), "%s/no/dir/peer.json", self->dir);
	EXPECT_EQ(1, ENROLL("-c", self->config, "-o", missing));
	/* a TPM that is not there */
	swtpm_stop(&self->tpm);
	EXPECT_EQ(1, ENROLL("-c", self->config, "-o", pol));
	ASSERT_LT(0, read_file(pol, self->out, sizeof(self->out)));
	EXPECT_STREQ(before, self->out);
}

TEST_HARNESS_MAIN
