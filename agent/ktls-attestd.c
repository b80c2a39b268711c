// SPDX-License-Identifier: GPL-2.0
/*
 * ktls-attestd: the attestation agent of a network namespace
 * (Documentation/agent.rst, Documentation/man/ktls-attestd.8).
 *
 *   ktls-attestd [-c CONFIG] [-v...] [--syslog] [--timestamps] [--check]
 *   ktls-attestd enroll [-c CONFIG] [--pcrs SEL] [-o FILE] [-j]
 *
 * main() reads the configuration and the policy, opens the netlink socket
 * (the family probed), the TPM and the AK, the RP's counter store,
 * registers, starts the TPM worker and runs the loop; each step that fails says why and the
 * program exits 1 (usage errors: 2).
 *
 * Owns: the process's start and end.  Calls: config, attester, clockstore,
 * agent_nl, tpmworker, loop, enroll, log.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent_nl.h"
#include "attester.h"
#include "clockstore.h"
#include "config.h"
#include "enroll.h"
#include "log.h"
#include "loop.h"
#include "session.h"
#include "tpm_crypto.h"
#include "tpmworker.h"

#define IDENT	"ktls-attestd"

#define USAGE \
	"usage: " IDENT " [-c CONFIG] [-v...] [--syslog] [--timestamps] [--check]\n" \
	"       " IDENT " enroll [-c CONFIG] [--pcrs SEL] [-o FILE] [-j]\n"

/* --help: every option, as ktls-attestd(8) has them. */
static void print_help(void)
{
	fputs(USAGE
	      "The attestation agent of this network namespace: attests with this\n"
	      "host's TPM and appraises the peer's Evidence (ktls-attestd(8)).\n"
	      "  -c, --config CONFIG  the configuration (default " KATT_CONFIG_DEFAULT ";\n"
	      "                       ktls-attestd.conf(5))\n"
	      "  -v, --verbose        info messages too; twice, debug messages too\n"
	      "  --syslog             log to syslog (facility daemon), not stderr\n"
	      "  --timestamps         begin each stderr line with CLOCK_MONOTONIC\n"
	      "                       seconds\n"
	      "  --check              read the configuration and the policy, print\n"
	      "                       what they say and exit (no TPM, no netlink)\n"
	      "  -h, --help           this help\n"
	      "enroll: print this host's AK and with -o write a policy for the peer\n"
	      "  -c, --config CONFIG  the configuration, as above\n"
	      "  --pcrs SEL           the PCRs taken as reference, e.g. sha256:0,1,7\n"
	      "  -o, --output FILE    the policy for the peer to write\n"
	      "  -j, --json           print JSON\n"
	      "  -h, --help           the help of enroll\n"
	      "Exit status: 0 success, 1 failure, 2 usage error.\n", stdout);
}

/* A usage error: what is wrong, the usage, exit status 2. */
static int usage_error(const char *fmt, const char *what)
{
	fputs(IDENT ": ", stderr);
	fprintf(stderr, fmt, what);
	fputs("\n" USAGE, stderr);
	return 2;
}

/* An option getopt refused (opterr 0): @arg, the argument it was in. */
static int unknown_option(const char *arg)
{
	char opt[3] = { '-', (char)optopt, '\0' };

	if (!strncmp(arg, "--", 2))
		return usage_error(optopt ? "%s takes no argument" :
				   "unknown option %s", arg);
	return usage_error("unknown option %s", opt);
}

/* --check: the AKs trusted and the reference values, one line each. */
static void print_pins(const struct katt_policy *p)
{
	char hex[2 * KATT_DIGEST_MAX + 1];
	size_t i;
	unsigned int v;

	for (i = 0; i < p->naks; i++) {
		if (p->aks[i].by_name)
			katt_hex(p->aks[i].name.name, p->aks[i].name.size, hex);
		else
			katt_hex(p->aks[i].spki_sha256,
				 sizeof(p->aks[i].spki_sha256), hex);
		printf("    AK %s %s\n",
		       p->aks[i].by_name ? "name" : "spki_sha256", hex);
	}
	for (i = 0; i < p->nrefs; i++) {
		const struct katt_reference *r = &p->refs[i];
		const char *bank = katt_hash_alg_name(r->alg);

		for (v = 0; v < r->nvalues; v++) {
			katt_hex(r->value[v], r->size, hex);
			printf("    PCR %s:%u %s %s\n", bank ? bank : "?",
			       r->pcr, v ? "or" : "is", hex);
		}
	}
}

/* --check: what the two files say. */
static void print_check(const struct katt_config *c,
			const struct katt_policy *p)
{
	char sel[160], allow[160];
	unsigned int i;

	printf("config %s\n", c->path);
	printf("  tcti %s\n", c->tcti ? c->tcti : KATT_TPM_DEFAULT_TCTI);
	printf("  state_dir %s\n", c->state_dir);
	printf("  policy %s\n", c->policy_path);
	printf("  ak_type %s\n", c->ak_type == TPM2_ALG_RSA ? "rsa" : "ecc");
	printf("  endorsement_auth %s\n", c->eh_auth ? "(set)" : "(empty)");
	for (i = 0; i < c->nlogs; i++)
		printf("  event log %s (%s)\n", c->log_path[i],
		       c->log_format[i] == KATT_LOG_FORMAT_IMA ? "ima" : "tcg");
	printf("  log %s\n", c->use_syslog ? "syslog" : "stderr");
	printf("policy %s\n", p->path);
	if (p->attester) {
		katt_pcr_sel_format(&p->default_sel, sel, sizeof(sel));
		katt_pcr_sel_format(&p->allow_sel, allow, sizeof(allow));
		printf("  attester: to %s peers; quotes %s by default, at most %s\n",
		       p->peers == KATT_PEERS_ANY ? "all" : "verified",
		       sel, allow);
	} else {
		printf("  attester: none (Challenges get Error 2)\n");
	}
	if (p->rp) {
		katt_pcr_sel_format(&p->rp_policy.sel, sel, sizeof(sel));
		printf("  relying party: asks for %s; %zu AK pin%s, reference values for %zu PCR%s",
		       sel, p->naks, p->naks == 1 ? "" : "s", p->nrefs,
		       p->nrefs == 1 ? "" : "s");
		if (p->valid_for)
			printf(", valid for %u s", p->valid_for);
		printf("\n");
		print_pins(p);
	} else {
		printf("  relying party: none (Evidence gets Error 4)\n");
	}
}

static int run_daemon(const char *config_path, bool check)
{
	struct katt_attester_config acfg = { 0 };
	struct katt_clock_store *clocks = NULL;
	struct katt_agent_nl *nl = NULL;
	struct katt_tpmworker *worker = NULL;
	struct katt_attester *att = NULL;
	struct katt_policy *pol = NULL;
	struct katt_config *cfg = NULL;
	struct katt_loop *loop = NULL;
	struct katt_loop_args args;
	char name[2 * sizeof(TPMU_NAME) + 1];
	struct stat st;
	unsigned int i;
	int ret, sfd = -1, status = 1;

	if (katt_config_load(config_path, &cfg))
		goto out;
	if (cfg->use_syslog)
		katt_log_open(IDENT, true, katt_log_enabled(KATT_LOG_DEBUG) ?
			      2 : katt_log_enabled(KATT_LOG_INFO));
	if (katt_policy_load(cfg->policy_path, &pol))
		goto out_config;
	if (check) {
		print_check(cfg, pol);
		status = 0;
		goto out_policy;
	}

	/* before any thread: every thread inherits the blocked signals */
	sfd = katt_loop_signals();
	if (sfd < 0) {
		katt_err("signalfd: %s", strerror(-sfd));
		goto out_policy;
	}

	/* the module first: cheap, and the commonest thing missing */
	if (katt_agent_nl_open(&nl))
		goto out_signals;

	acfg.tcti = cfg->tcti;
	acfg.state_dir = cfg->state_dir;
	acfg.ak_type = cfg->ak_type;
	acfg.eh_auth = cfg->eh_auth;
	/* sessions always name the selection; this is only the attester's */
	if (pol->default_sel.nbanks)
		acfg.default_sel = pol->default_sel;
	else
		katt_pcr_sel_parse("sha256:0-7", &acfg.default_sel);
	for (i = 0; i < cfg->nlogs && i < KATT_QUOTE_LOGS_MAX; i++) {
		acfg.log_path[i] = cfg->log_path[i];
		acfg.log_format[i] = cfg->log_format[i];
	}
	ret = katt_attester_open(&acfg, &att);
	if (ret) {
		katt_err("the TPM (%s) or the AK in %s did not open: %s",
			 cfg->tcti ? cfg->tcti : KATT_TPM_DEFAULT_TCTI,
			 cfg->state_dir, strerror(-ret));
		goto out_nl;
	}
	katt_hex(katt_attester_ak(att)->name.name,
		 katt_attester_ak(att)->name.size, name);
	ret = katt_clock_store_open(cfg->state_dir, &clocks);
	if (ret) {
		katt_err("the counter store in %s did not open: %s",
			 cfg->state_dir, strerror(-ret));
		goto out_attester;
	}
	if (katt_agent_nl_register(nl))
		goto out_clocks;
	ret = katt_tpmworker_start(att, &worker);
	if (ret) {
		katt_err("the TPM worker did not start: %s", strerror(-ret));
		goto out_unregister;
	}
	args = (struct katt_loop_args){
		.nl = nl,
		.worker = worker,
		.clocks = clocks,
		.policy = pol,
		.policy_path = cfg->policy_path,
		.sfd = sfd,
	};
	ret = katt_loop_new(&args, &loop);
	if (ret)
		goto out_worker;
	pol = NULL;	/* the loop's now */

	if (stat("/proc/self/ns/net", &st))
		st.st_ino = 0;
	katt_notice("ready: agent of netns %lu, AK %s, policy %s",
		    (unsigned long)st.st_ino, name, cfg->policy_path);
	status = katt_loop_run(loop) ? 1 : 0;

	katt_loop_free(loop);
out_worker:
	att = katt_tpmworker_stop(worker);
out_unregister:
	ret = katt_agent_nl_unregister(nl);
	if (ret)
		katt_warn("agent-unregister: %s", strerror(-ret));
out_clocks:
	katt_clock_store_close(clocks);
out_attester:
	katt_attester_close(att);
out_nl:
	katt_agent_nl_close(nl);
out_signals:
	close(sfd);
out_policy:
	katt_policy_free(pol);
out_config:
	katt_config_free(cfg);
out:
	if (status && !check)
		katt_err("not started or stopped on a failure; exit 1");
	return status;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "syslog", no_argument, NULL, 'S' },
		{ "timestamps", no_argument, NULL, 'T' },
		{ "check", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = KATT_CONFIG_DEFAULT;
	bool use_syslog = false, check = false, stamps = false;
	int c, verbosity = 0;

	if (argc > 1 && !strcmp(argv[1], "enroll"))
		return katt_enroll_main(argc - 1, argv + 1);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'v':
			verbosity++;
			break;
		case 'S':
			use_syslog = true;
			break;
		case 'T':
			stamps = true;
			break;
		case 'C':
			check = true;
			break;
		case 'h':
			print_help();
			return fflush(stdout) ? 1 : 0;
		case ':':
			return usage_error("%s needs an argument",
					   argv[optind - 1]);
		default:
			return unknown_option(argv[optind - 1]);
		}
	}
	if (optind != argc)
		return usage_error(!strcmp(argv[optind], "enroll") ?
				   "%s: give it first, before any option" :
				   "unexpected argument %s", argv[optind]);
	katt_log_open(IDENT, use_syslog, verbosity);
	katt_log_timestamps(stamps);
	return run_daemon(config, check);
}
