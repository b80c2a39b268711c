// SPDX-License-Identifier: GPL-2.0
/*
 * enroll.c: "ktls-attestd enroll" (enroll.h).  One pass, no daemon: the
 * configuration, the TPM and the AK (made if missing, exactly as the
 * daemon makes it, so the Name printed is the one its quotes carry), the
 * AK printed in the forms a peer's policy pins, and with -o a policy for
 * the peer written atomically (a temporary file in the same directory,
 * loaded back with katt_policy_load() before it replaces FILE, fsync,
 * rename, fsync of the directory).
 *
 * Owns: the TPM connection and the AK while it runs, the policy file it
 * writes.  Calls: config, policy, statedir, tpm, ak, tpm_crypto,
 * jansson, OpenSSL, log.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/pem.h>

#include "ak.h"
#include "config.h"
#include "enroll.h"
#include "log.h"
#include "statedir.h"
#include "tpm.h"
#include "tpm_crypto.h"

#define DEFAULT_SEL	"sha256:0-7"

struct enroll {
	const char *config_path;
	const char *pcrs;		/* --pcrs */
	const char *out;		/* -o */
	bool json;
	struct katt_pcr_sel sel;
	char sel_text[160];
	/* what is printed */
	char name_hex[2 * sizeof(TPMU_NAME) + 1];
	char spki_hex[65];
	char *pem;
	const char *type;
};

#define USAGE	"usage: ktls-attestd enroll [-c CONFIG] [--pcrs SEL] [-o FILE] [-j]\n"

static void print_help(void)
{
	fputs(USAGE
	      "Prints this host's AK; with -o, writes a policy for the peer.\n"
	      "  -c, --config CONFIG  the configuration (default " KATT_CONFIG_DEFAULT ")\n"
	      "  --pcrs SEL           the PCRs taken as reference, e.g. sha256:0,1,7\n"
	      "                       (default: the policy's attester.pcrs, else " DEFAULT_SEL ")\n"
	      "  -o, --output FILE    write a policy for the peer that pins this AK\n"
	      "                       with this host's current values of SEL\n"
	      "  -j, --json           print JSON\n"
	      "  -h, --help           this help\n"
	      "Exit status: 0 success, 1 failure, 2 usage error.\n", stdout);
}

/* A usage error: what is wrong, then the usage line; -EINVAL. */
static int usage_error(const char *fmt, const char *what)
{
	fputs("ktls-attestd enroll: ", stderr);
	fprintf(stderr, fmt, what);
	fputs("\n" USAGE, stderr);
	return -EINVAL;
}

static int parse_args(struct enroll *e, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "pcrs", required_argument, NULL, 'p' },
		{ "output", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char opt[3] = "-?";
	int c;

	/* the daemon's main may have used getopt already: start afresh */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:c:o:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			e->config_path = optarg;
			break;
		case 'p':
			e->pcrs = optarg;
			break;
		case 'o':
			e->out = optarg;
			break;
		case 'j':
			e->json = true;
			break;
		case 'h':
			print_help();
			return fflush(stdout) ? -EIO : 1;
		case ':':
			return usage_error("%s needs an argument",
					   argv[optind - 1]);
		default:
			/* optopt: the val of a long option given an argument */
			if (!strncmp(argv[optind - 1], "--", 2))
				return usage_error(optopt ?
						   "%s takes no argument" :
						   "unknown option %s",
						   argv[optind - 1]);
			opt[1] = (char)optopt;
			return usage_error("unknown option %s", opt);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument %s", argv[optind]);
	if (e->pcrs && katt_pcr_sel_parse(e->pcrs, &e->sel))
		return usage_error("--pcrs %s: not a PCR selection (e.g. sha256:0,1,7 or sha256:0-7+sha1:0)",
				   e->pcrs);
	return 0;
}

/*
 * SEL without --pcrs: the attester.pcrs of the configuration's policy if
 * it has one (a policy that does not load is an error), else the default.
 */
static int pick_sel(struct enroll *e, const struct katt_config *cfg)
{
	struct katt_policy *p;
	int ret;

	if (!e->pcrs) {
		katt_pcr_sel_parse(DEFAULT_SEL, &e->sel);
		if (!access(cfg->policy_path, F_OK)) {
			ret = katt_policy_load(cfg->policy_path, &p);
			if (ret)
				return ret;
			if (p->attester)
				e->sel = p->default_sel;
			katt_policy_free(p);
		}
	}
	katt_pcr_sel_format(&e->sel, e->sel_text, sizeof(e->sel_text));
	return 0;
}

static int describe_ak(struct enroll *e, const struct katt_ak *ak)
{
	uint8_t spki[32];
	EVP_PKEY *pkey = NULL;
	BIO *bio = NULL;
	char *data;
	long len;
	int ret;

	katt_hex(ak->name.name, ak->name.size, e->name_hex);
	e->type = ak->pub.publicArea.type == TPM2_ALG_RSA ? "rsa" : "ecc";
	ret = katt_tpm_pkey(&ak->pub.publicArea, &pkey);
	if (ret) {
		katt_err("AK: its public key: %s", strerror(-ret));
		return ret;
	}
	ret = katt_pkey_spki_sha256(pkey, spki);
	if (ret)
		goto out_free_key;
	katt_hex(spki, sizeof(spki), e->spki_hex);
	ret = -EIO;
	bio = BIO_new(BIO_s_mem());
	if (!bio || !PEM_write_bio_PUBKEY(bio, pkey))
		goto out_free_key;
	len = BIO_get_mem_data(bio, &data);
	e->pem = strndup(data, len);
	ret = e->pem ? 0 : -ENOMEM;
out_free_key:
	if (ret)
		katt_err("AK: cannot encode its public key");
	BIO_free(bio);
	EVP_PKEY_free(pkey);
	return ret;
}

/* {"relying_party": {"aks": [...], "pcrs": SEL, "reference": {...}}} */
static json_t *peer_policy(const struct enroll *e, const struct katt_pcr_read *r)
{
	struct katt_pcr_values v;
	char hex[2 * KATT_DIGEST_MAX + 1];
	json_t *root, *ref, *bank;
	unsigned int i, p;
	int bad = 0;

	katt_pcr_read_values(r, &v);
	ref = json_object();
	for (i = 0; ref && i < v.nbanks; i++) {
		if (!v.bank[i].pcrs)
			continue;
		bank = json_object();
		for (p = 0; bank && p < KATT_PCR_COUNT; p++) {
			char key[4];

			if (!(v.bank[i].pcrs & (1u << p)))
				continue;
			snprintf(key, sizeof(key), "%u", p);
			katt_hex(v.bank[i].value[p], v.bank[i].size, hex);
			bad |= json_object_set_new(bank, key,
						   json_pack("[s]", hex));
		}
		bad |= json_object_set_new(ref,
					   katt_hash_alg_name(v.bank[i].alg),
					   bank);
	}
	root = json_pack("{s:{s:[{s:s}],s:s,s:o}}", "relying_party",
			 "aks", "name", e->name_hex, "pcrs", e->sel_text,
			 "reference", ref);
	if (bad && root) {
		json_decref(root);
		return NULL;
	}
	return root;
}

/* Writes @text to e->out atomically, after checking that it loads. */
static int write_policy(const struct enroll *e, const char *text)
{
	struct katt_policy *check;
	char *tmp = NULL, *dir = NULL, *slash;
	int fd, dfd, ret;

	if (asprintf(&tmp, "%s.XXXXXX", e->out) < 0)
		return -ENOMEM;
	fd = mkstemp(tmp);
	if (fd < 0) {
		ret = -errno;
		katt_err("%s: %s", tmp, strerror(errno));
		goto out_free_names;
	}
	ret = katt_write_all(fd, text, strlen(text));
	if (!ret && fchmod(fd, 0644))
		ret = -errno;
	if (!ret && fsync(fd))
		ret = -errno;
	if (close(fd) && !ret)
		ret = -errno;
	if (ret) {
		katt_err("%s: %s", tmp, strerror(-ret));
		goto out_unlink_tmp;
	}
	/* what the peer loads must load: refuse to leave anything else */
	ret = katt_policy_load(tmp, &check);
	if (ret) {
		katt_err("%s: the policy written does not load", e->out);
		goto out_unlink_tmp;
	}
	katt_policy_free(check);
	if (rename(tmp, e->out)) {
		ret = -errno;
		katt_err("%s: %s", e->out, strerror(errno));
		goto out_unlink_tmp;
	}
	dir = strdup(e->out);
	if (!dir) {
		ret = -ENOMEM;
		goto out_free_names;
	}
	slash = strrchr(dir, '/');
	if (!slash)
		strcpy(dir, ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd)) {
		ret = -errno;
		katt_err("%s: %s", dir, strerror(errno));
	}
	if (dfd >= 0)
		close(dfd);
	goto out_free_names;

out_unlink_tmp:
	unlink(tmp);
out_free_names:
	free(dir);
	free(tmp);
	return ret;
}

/* Reads SEL from the TPM and writes the peer's policy. */
static int enroll_policy(struct enroll *e, struct katt_tpm *tpm)
{
	static struct katt_pcr_read r;
	TPML_PCR_SELECTION tpml;
	TPMI_ALG_HASH bad;
	json_t *policy;
	char *dump, *text;
	int ret;

	katt_pcr_sel_to_tpml(&e->sel, &tpml);
	if (!katt_tpm_can_quote(tpm, &tpml, &bad)) {
		katt_err("PCRs %s: the TPM has no %s bank allocated", e->sel_text,
			 katt_hash_alg_name(bad) ? katt_hash_alg_name(bad) : "such");
		return -EOPNOTSUPP;
	}
	ret = katt_tpm_pcr_read(tpm, &tpml, &r);
	if (ret) {
		katt_err("PCRs %s: cannot read them: %s", e->sel_text,
			 strerror(-ret));
		return ret;
	}
	policy = peer_policy(e, &r);
	if (!policy)
		return -ENOMEM;
	dump = json_dumps(policy, JSON_INDENT(2));
	json_decref(policy);
	/* json_dumps ends without a newline; a file ends with one */
	if (!dump || asprintf(&text, "%s\n", dump) < 0) {
		free(dump);
		return -ENOMEM;
	}
	free(dump);
	ret = write_policy(e, text);
	free(text);
	return ret;
}

static int print_text(const struct enroll *e)
{
	printf("AK name:         %s\n", e->name_hex);
	printf("AK spki_sha256:  %s\n", e->spki_hex);
	printf("AK type:         %s\n", e->type);
	printf("AK public key:\n%s", e->pem);
	if (e->out)
		printf("policy for the peer: %s (AK pinned by name, reference values of %s)\n",
		       e->out, e->sel_text);
	return fflush(stdout) ? -EIO : 0;
}

static int print_json(const struct enroll *e)
{
	json_t *o;
	int ret;

	o = json_pack("{s:{s:s,s:s,s:s,s:s}}", "ak", "name", e->name_hex,
		      "spki_sha256", e->spki_hex, "type", e->type,
		      "public_pem", e->pem);
	if (o && e->out)
		if (json_object_set_new(o, "policy",
					json_pack("{s:s,s:s}", "path", e->out,
						  "pcrs", e->sel_text)))
			goto out_free;
	if (!o)
		return -ENOMEM;
	ret = json_dumpf(o, stdout, JSON_INDENT(2)) || putchar('\n') == EOF ||
	      fflush(stdout) ? -EIO : 0;
	json_decref(o);
	return ret;
out_free:
	json_decref(o);
	return -ENOMEM;
}

int katt_enroll_main(int argc, char **argv)
{
	struct enroll e = { .config_path = KATT_CONFIG_DEFAULT };
	struct katt_config *cfg;
	struct katt_tpm tpm;
	struct katt_ak ak;
	int ret;

	ret = parse_args(&e, argc, argv);
	if (ret)
		return ret > 0 ? 0 : ret == -EIO ? 1 : 2;
	ret = katt_config_load(e.config_path, &cfg);
	if (ret)
		return 1;
	ret = pick_sel(&e, cfg);
	if (ret)
		goto out_free_config;
	ret = katt_tpm_open(&tpm, cfg->tcti);
	if (ret)
		goto out_free_config;
	ret = katt_ak_open(&tpm, cfg->state_dir, cfg->ak_type, cfg->eh_auth,
			   &ak);
	if (ret)
		goto out_close_tpm;
	ret = describe_ak(&e, &ak);
	if (!ret && e.out)
		ret = enroll_policy(&e, &tpm);
	if (!ret)
		ret = e.json ? print_json(&e) : print_text(&e);
	if (ret == -EIO)
		katt_err("cannot write to standard output");
	free(e.pem);
	katt_ak_close(&tpm, &ak);
out_close_tpm:
	katt_tpm_close(&tpm);
out_free_config:
	katt_config_free(cfg);
	return ret ? 1 : 0;
}
