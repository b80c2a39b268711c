// SPDX-License-Identifier: GPL-2.0
/*
 * policy.c: ktls-attestd's policy file (config.h), read at start and on
 * SIGHUP: the attester's rules (to whom Evidence goes, which PCRs it
 * quotes and may be asked to quote) and the relying party's (the AKs it
 * trusts, the PCRs it asks for, their reference values), checked key by
 * key and turned into the struct katt_rp_policy that appraise.c takes.
 * Also the PCR selections as people write them ("sha256:0,1,7+sha1:0-3").
 *
 * Owns: the struct katt_policy it returns (immutable once loaded).  Calls:
 * jsonfile (jansson), proto (hash algorithm names and sizes), log.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "jsonfile.h"
#include "log.h"

#define DEFAULT_SEL	"sha256:0-7"

static const char *const policy_keys[] = {
	"attester", "relying_party", NULL,
};
static const char *const attester_keys[] = {
	"peers", "pcrs", "allow_pcrs", NULL,
};
static const char *const rp_keys[] = {
	"aks", "pcrs", "reference", "valid_for", NULL,
};
static const char *const ak_keys[] = { "name", "spki_sha256", NULL };
static const char *const peer_rules[] = { "verified", "any", NULL };

/* --- PCR selections ------------------------------------------------------ */

static const uint16_t known_algs[] = {
	TPM2_ALG_SHA1, TPM2_ALG_SHA256, TPM2_ALG_SHA384, TPM2_ALG_SHA512,
	TPM2_ALG_SM3_256,
};

/* The hash algorithm called @name (@len bytes), 0 if none. */
static uint16_t alg_by_name(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(known_algs) / sizeof(known_algs[0]); i++) {
		const char *n = katt_hash_alg_name(known_algs[i]);

		if (n && strlen(n) == len && !strncmp(n, name, len))
			return known_algs[i];
	}
	return 0;
}

/* A PCR number, 0 to 23, in decimal without leading zeros. */
static int parse_pcr(const char **s)
{
	const char *p = *s;
	int n = 0;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	if (*p == '0' && p[1] >= '0' && p[1] <= '9')
		return -EINVAL;
	while (*p >= '0' && *p <= '9') {
		n = n * 10 + (*p++ - '0');
		if (n >= KATT_PCR_COUNT)
			return -EINVAL;
	}
	*s = p;
	return n;
}

/* "sha256:0,1,7" up to @end; adds the bank to @sel. */
static int parse_bank(const char *s, const char *end, struct katt_pcr_sel *sel)
{
	const char *colon = memchr(s, ':', end - s);
	uint32_t pcrs = 0, range;
	unsigned int i;
	uint16_t alg;
	int a, b;

	if (!colon)
		return -EINVAL;
	alg = alg_by_name(s, colon - s);
	if (!alg || sel->nbanks >= KATT_PCR_BANKS_MAX)
		return -EINVAL;
	for (i = 0; i < sel->nbanks; i++)
		if (sel->bank[i].alg == alg)
			return -EINVAL;
	s = colon + 1;
	for (;;) {
		a = parse_pcr(&s);
		if (a < 0)
			return a;
		b = a;
		if (*s == '-') {
			s++;
			b = parse_pcr(&s);
			if (b < 0 || b <= a)
				return -EINVAL;
		}
		range = (uint32_t)((2ull << b) - (1ull << a));
		if (pcrs & range)
			return -EINVAL;	/* a PCR named twice */
		pcrs |= range;
		if (s == end)
			break;
		if (*s++ != ',')
			return -EINVAL;
	}
	sel->bank[sel->nbanks].alg = alg;
	sel->bank[sel->nbanks].pcrs = pcrs;
	sel->nbanks++;
	return 0;
}

int katt_pcr_sel_parse(const char *s, struct katt_pcr_sel *sel)
{
	struct katt_pcr_sel out = { 0 };
	const char *end;
	int ret;

	if (!*s)
		return -EINVAL;
	for (;;) {
		end = strchr(s, '+');
		if (!end)
			end = s + strlen(s);
		ret = parse_bank(s, end, &out);
		if (ret)
			return ret;
		if (!*end)
			break;
		s = end + 1;
	}
	*sel = out;
	return 0;
}

void katt_pcr_sel_format(const struct katt_pcr_sel *sel, char *out, size_t len)
{
	size_t n = 0;
	unsigned int i, p, q;

#define PUT(...) (n += snprintf(out + n, n < len ? len - n : 0, __VA_ARGS__))
	if (len)
		out[0] = '\0';
	for (i = 0; i < sel->nbanks; i++) {
		const char *name = katt_hash_alg_name(sel->bank[i].alg);
		uint32_t pcrs = sel->bank[i].pcrs;
		bool first = true;

		if (!pcrs)
			continue;
		if (n)
			PUT("+");
		if (name)
			PUT("%s:", name);
		else
			PUT("%#06x:", sel->bank[i].alg);
		for (p = 0; p < KATT_PCR_COUNT; p++) {
			if (!(pcrs & (1u << p)))
				continue;
			for (q = p; q + 1 < KATT_PCR_COUNT &&
				    (pcrs & (1u << (q + 1))); q++)
				;
			PUT("%s%u", first ? "" : ",", p);
			first = false;
			/* runs of three or more as ranges, "0,1" as is */
			if (q >= p + 2) {
				PUT("-%u", q);
				p = q;
			}
		}
	}
#undef PUT
}

/* Whether every PCR of @a is in @b. */
static bool sel_within(const struct katt_pcr_sel *a,
		       const struct katt_pcr_sel *b, uint16_t *alg,
		       unsigned int *pcr)
{
	unsigned int i, k;

	for (i = 0; i < a->nbanks; i++) {
		uint32_t have = 0;

		for (k = 0; k < b->nbanks; k++)
			if (b->bank[k].alg == a->bank[i].alg)
				have = b->bank[k].pcrs;
		if (a->bank[i].pcrs & ~have) {
			*alg = a->bank[i].alg;
			*pcr = __builtin_ctz(a->bank[i].pcrs & ~have);
			return false;
		}
	}
	return true;
}

/* --- the file ------------------------------------------------------------ */

static int get_sel(const char *file, const struct katt_jpath *parent,
		   json_t *obj, const char *key, const char *dflt,
		   struct katt_pcr_sel *sel, bool *given)
{
	struct katt_jpath at;
	json_t *v = json_object_get(obj, key);
	const char *s = dflt;
	int ret;

	katt_jpath_key(&at, parent, key);
	if (given)
		*given = v != NULL;
	if (v) {
		ret = katt_json_string(file, &at, v, &s);
		if (ret)
			return ret;
	}
	if (!s)
		return 0;
	if (katt_pcr_sel_parse(s, sel))
		return katt_json_bad(file, &at,
				     "\"%s\" is not a PCR selection (BANK:PCRS[+BANK:PCRS], e.g. \"sha256:0,1,7\" or \"sha256:0-7+sha1:0\"; banks sha1, sha256, sha384, sha512, sm3_256; PCRs 0 to 23, each once)",
				     s);
	return 0;
}

static int parse_attester(struct katt_policy *p, json_t *obj)
{
	struct katt_jpath top, at;
	char b[160];
	unsigned int pcr;
	uint16_t alg;
	bool given;
	json_t *v;
	int ret;

	katt_jpath_key(&top, NULL, "attester");
	ret = katt_json_object(p->path, &top, obj, attester_keys);
	if (ret)
		return ret;
	p->attester = true;
	p->peers = KATT_PEERS_VERIFIED;
	v = json_object_get(obj, "peers");
	if (v) {
		katt_jpath_key(&at, &top, "peers");
		ret = katt_json_enum(p->path, &at, v, peer_rules);
		if (ret < 0)
			return ret;
		p->peers = ret ? KATT_PEERS_ANY : KATT_PEERS_VERIFIED;
	}
	ret = get_sel(p->path, &top, obj, "pcrs", DEFAULT_SEL, &p->default_sel,
		      NULL);
	if (ret)
		return ret;
	ret = get_sel(p->path, &top, obj, "allow_pcrs", NULL, &p->allow_sel,
		      &given);
	if (ret)
		return ret;
	if (!given) {
		p->allow_sel = p->default_sel;
		return 0;
	}
	if (!sel_within(&p->default_sel, &p->allow_sel, &alg, &pcr)) {
		katt_jpath_key(&at, &top, "pcrs");
		katt_pcr_sel_format(&p->allow_sel, b, sizeof(b));
		return katt_json_bad(p->path, &at,
				     "PCR %s:%u is not within attester.allow_pcrs (%s)",
				     katt_hash_alg_name(alg), pcr, b);
	}
	return 0;
}

/* "relying_party.aks": at least one pin, each by Name or by SPKI hash. */
static int parse_aks(struct katt_policy *p, const struct katt_jpath *rp,
		     json_t *arr)
{
	struct katt_jpath top, at, k;
	const char *s;
	json_t *e, *name, *spki;
	size_t i, n;
	int ret;

	katt_jpath_key(&top, rp, "aks");
	if (!arr)
		return katt_json_bad(p->path, &top,
				     "missing: the relying party trusts no AK");
	if (!json_is_array(arr))
		return katt_json_bad(p->path, &top, "not an array");
	if (!json_array_size(arr))
		return katt_json_bad(p->path, &top,
				     "empty: the relying party trusts no AK");
	p->aks = calloc(json_array_size(arr), sizeof(*p->aks));
	if (!p->aks)
		return -ENOMEM;
	json_array_foreach(arr, i, e) {
		struct katt_ak_pin *pin = &p->aks[i];

		katt_jpath_index(&at, &top, i);
		ret = katt_json_object(p->path, &at, e, ak_keys);
		if (ret)
			return ret;
		name = json_object_get(e, "name");
		spki = json_object_get(e, "spki_sha256");
		if (!name == !spki)
			return katt_json_bad(p->path, &at,
					     "needs exactly one of \"name\" and \"spki_sha256\"");
		if (name) {
			uint16_t alg;
			unsigned int size;

			katt_jpath_key(&k, &at, "name");
			ret = katt_json_string(p->path, &k, name, &s);
			if (ret)
				return ret;
			pin->by_name = true;
			if (katt_hex_decode(s, pin->name.name,
					    sizeof(pin->name.name), false, &n) ||
			    n < 2)
				return katt_json_bad(p->path, &k,
						     "not hex of a TPM Name (4 hex digits of the name algorithm, then its digest: 000b and 64 digits for sha256)");
			alg = pin->name.name[0] << 8 | pin->name.name[1];
			size = katt_hash_alg_size(alg);
			if (!size)
				return katt_json_bad(p->path, &k,
						     "name algorithm %#06x is not one this agent knows",
						     alg);
			if (n != 2 + size)
				return katt_json_bad(p->path, &k,
						     "%zu bytes, not %u: a %s Name is 2 bytes of algorithm and %u of digest",
						     n, 2 + size,
						     katt_hash_alg_name(alg),
						     size);
			pin->name.size = n;
		} else {
			katt_jpath_key(&k, &at, "spki_sha256");
			ret = katt_json_string(p->path, &k, spki, &s);
			if (ret)
				return ret;
			if (katt_hex_decode(s, pin->spki_sha256, 32, true,
					    NULL))
				return katt_json_bad(p->path, &k,
						     "not 32 bytes of hex (64 hex digits)");
		}
		p->naks = i + 1;
	}
	return 0;
}

/* One PCR's values: an array of 1 to KATT_REF_VALUES_MAX hex digests. */
static int parse_values(struct katt_policy *p, const struct katt_jpath *at,
			json_t *arr, struct katt_reference *r)
{
	struct katt_jpath k;
	const char *s;
	json_t *e;
	size_t i;
	int ret;

	if (!json_is_array(arr))
		return katt_json_bad(p->path, at,
				     "not an array of hex digests");
	if (!json_array_size(arr))
		return katt_json_bad(p->path, at,
				     "empty (leave the PCR out to not compare it)");
	if (json_array_size(arr) > KATT_REF_VALUES_MAX)
		return katt_json_bad(p->path, at,
				     "%zu values, at most %d", json_array_size(arr),
				     KATT_REF_VALUES_MAX);
	json_array_foreach(arr, i, e) {
		katt_jpath_index(&k, at, i);
		ret = katt_json_string(p->path, &k, e, &s);
		if (ret)
			return ret;
		if (katt_hex_decode(s, r->value[i], r->size, true, NULL))
			return katt_json_bad(p->path, &k,
					     "not %u bytes of hex (%u hex digits, the %s digest size)",
					     r->size, 2 * r->size,
					     katt_hash_alg_name(r->alg));
		r->nvalues = i + 1;
	}
	return 0;
}

static int parse_reference(struct katt_policy *p, const struct katt_jpath *rp,
			   json_t *obj, const struct katt_pcr_sel *sel)
{
	struct katt_jpath top, bk, at;
	const char *bank, *key;
	json_t *pcrs, *vals;
	char b[160];
	size_t n = 0;
	int ret;

	katt_jpath_key(&top, rp, "reference");
	if (!json_is_object(obj))
		return katt_json_bad(p->path, &top,
				     "not an object of banks");
	json_object_foreach(obj, bank, pcrs)
		if (json_is_object(pcrs))
			n += json_object_size(pcrs);
	p->refs = calloc(n ? n : 1, sizeof(*p->refs));
	if (!p->refs)
		return -ENOMEM;
	json_object_foreach(obj, bank, pcrs) {
		uint16_t alg = alg_by_name(bank, strlen(bank));
		uint32_t selected = 0;
		unsigned int i;

		katt_jpath_key(&bk, &top, bank);
		if (!alg)
			return katt_json_bad(p->path, &bk,
					     "not a bank (sha1, sha256, sha384, sha512 or sm3_256)");
		if (!json_is_object(pcrs))
			return katt_json_bad(p->path, &bk,
					     "not an object of PCRs (\"7\": [\"<hex>\"])");
		for (i = 0; i < sel->nbanks; i++)
			if (sel->bank[i].alg == alg)
				selected = sel->bank[i].pcrs;
		katt_pcr_sel_format(sel, b, sizeof(b));
		json_object_foreach(pcrs, key, vals) {
			struct katt_reference *r = &p->refs[p->nrefs];
			const char *s = key;
			int pcr;

			katt_jpath_key(&at, &bk, key);
			pcr = parse_pcr(&s);
			if (pcr < 0 || *s)
				return katt_json_bad(p->path, &at,
						     "not a PCR (\"0\" to \"23\")");
			if (!(selected & (1u << pcr)))
				return katt_json_bad(p->path, &at,
						     "PCR %s:%d is not in relying_party.pcrs (%s), so it is not quoted",
						     bank, pcr, b);
			r->alg = alg;
			r->pcr = pcr;
			r->size = katt_hash_alg_size(alg);
			ret = parse_values(p, &at, vals, r);
			if (ret)
				return ret;
			p->nrefs++;
		}
	}
	return 0;
}

static int parse_rp(struct katt_policy *p, json_t *obj)
{
	struct katt_jpath top, at;
	json_t *v;
	int ret;

	katt_jpath_key(&top, NULL, "relying_party");
	ret = katt_json_object(p->path, &top, obj, rp_keys);
	if (ret)
		return ret;
	p->rp = true;
	ret = parse_aks(p, &top, json_object_get(obj, "aks"));
	if (ret)
		return ret;
	ret = get_sel(p->path, &top, obj, "pcrs", DEFAULT_SEL,
		      &p->rp_policy.sel, NULL);
	if (ret)
		return ret;
	v = json_object_get(obj, "reference");
	if (v) {
		ret = parse_reference(p, &top, v, &p->rp_policy.sel);
		if (ret)
			return ret;
	}
	v = json_object_get(obj, "valid_for");
	if (v) {
		katt_jpath_key(&at, &top, "valid_for");
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > UINT32_MAX)
			return katt_json_bad(p->path, &at,
					     "not a number of seconds, 0 to %u",
					     UINT32_MAX);
		p->valid_for = json_integer_value(v);
	}
	p->rp_policy.aks = p->aks;
	p->rp_policy.naks = p->naks;
	p->rp_policy.refs = p->refs;
	p->rp_policy.nrefs = p->nrefs;
	return 0;
}

static int policy_parse(struct katt_policy *p, json_t *root)
{
	json_t *v;
	int ret;

	ret = katt_json_object(p->path, NULL, root, policy_keys);
	if (ret)
		return ret;
	v = json_object_get(root, "attester");
	if (v) {
		ret = parse_attester(p, v);
		if (ret)
			return ret;
	}
	v = json_object_get(root, "relying_party");
	if (v)
		return parse_rp(p, v);
	return 0;
}

int katt_policy_load(const char *path, struct katt_policy **out)
{
	struct katt_policy *p;
	json_t *root;
	int ret;

	*out = NULL;
	root = katt_json_load(path, &ret);
	if (!root)
		return ret;
	p = calloc(1, sizeof(*p));
	if (p)
		p->path = strdup(path);
	if (!p || !p->path) {
		ret = -ENOMEM;
		katt_err("%s: out of memory", path);
		goto out_free_policy;
	}
	ret = policy_parse(p, root);
	if (ret == -ENOMEM)
		katt_err("%s: out of memory", path);
	if (ret)
		goto out_free_policy;
	json_decref(root);
	*out = p;
	return 0;

out_free_policy:
	katt_policy_free(p);
	json_decref(root);
	return ret;
}

void katt_policy_free(struct katt_policy *p)
{
	if (!p)
		return;
	free(p->path);
	free(p->aks);
	free(p->refs);
	free(p);
}
