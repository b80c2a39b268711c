// SPDX-License-Identifier: GPL-2.0
/*
 * jsonfile.c: strict JSON files with jansson, for config.c and policy.c
 * (jsonfile.h).  Owns nothing; calls jansson, log.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "jsonfile.h"
#include "log.h"

json_t *katt_json_load(const char *path, int *err)
{
	json_error_t e;
	struct stat st;
	json_t *root;
	FILE *f;

	f = fopen(path, "re");
	if (!f) {
		*err = -errno;
		katt_err("%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode)) {
		*err = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		fclose(f);
		katt_err("%s: not a regular file", path);
		return NULL;
	}
	/* jansson refuses trailing data unless told otherwise */
	root = json_loadf(f, JSON_REJECT_DUPLICATES, &e);
	fclose(f);
	if (!root) {
		*err = json_error_code(&e) == json_error_out_of_memory ?
			-ENOMEM : -EINVAL;
		katt_err("%s:%d:%d: %s", path, e.line, e.column, e.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		*err = -EINVAL;
		katt_err("%s: not a JSON object", path);
		return NULL;
	}
	return root;
}

/* A path too long for the buffer ends in "..." rather than misleads. */
static void jpath_cut(struct katt_jpath *out, int n)
{
	if (n < 0 || (size_t)n >= sizeof(out->s))
		strcpy(out->s + sizeof(out->s) - 4, "...");
}

void katt_jpath_key(struct katt_jpath *out, const struct katt_jpath *parent,
		    const char *key)
{
	int n;

	if (parent && parent->s[0])
		n = snprintf(out->s, sizeof(out->s), "%s.%s", parent->s, key);
	else
		n = snprintf(out->s, sizeof(out->s), "%s", key);
	jpath_cut(out, n);
}

void katt_jpath_index(struct katt_jpath *out, const struct katt_jpath *parent,
		      size_t i)
{
	jpath_cut(out, snprintf(out->s, sizeof(out->s), "%s[%zu]", parent->s,
				i));
}

int katt_json_bad(const char *file, const struct katt_jpath *at,
		  const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (at && at->s[0])
		katt_err("%s: %s: %s", file, at->s, msg);
	else
		katt_err("%s: %s", file, msg);
	return -EINVAL;
}

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a real number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "something else";
}

int katt_json_object(const char *file, const struct katt_jpath *at, json_t *v,
		     const char *const *known)
{
	const char *key;
	json_t *val;
	size_t i;

	if (!json_is_object(v))
		return katt_json_bad(file, at, "is %s, not an object",
				     type_name(v));
	json_object_foreach(v, key, val) {
		for (i = 0; known[i]; i++)
			if (!strcmp(key, known[i]))
				break;
		if (!known[i]) {
			struct katt_jpath k;

			katt_jpath_key(&k, at, key);
			return katt_json_bad(file, &k, "unknown key");
		}
	}
	return 0;
}

int katt_json_string(const char *file, const struct katt_jpath *at, json_t *v,
		     const char **out)
{
	if (!json_is_string(v))
		return katt_json_bad(file, at, "is %s, not a string",
				     type_name(v));
	if (!json_string_length(v))
		return katt_json_bad(file, at, "is empty");
	*out = json_string_value(v);
	return 0;
}

int katt_json_enum(const char *file, const struct katt_jpath *at, json_t *v,
		   const char *const *names)
{
	char list[128] = "";
	const char *s;
	size_t i, n = 0;
	int ret;

	ret = katt_json_string(file, at, v, &s);
	if (ret)
		return ret;
	for (i = 0; names[i]; i++) {
		if (!strcmp(s, names[i]))
			return i;
		n += snprintf(list + n, n < sizeof(list) ? sizeof(list) - n : 0,
			      "%s\"%s\"", i ? (names[i + 1] ? ", " : " or ") : "",
			      names[i]);
	}
	return katt_json_bad(file, at, "\"%s\" is not %s", s, list);
}

static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int katt_hex_decode(const char *s, uint8_t *out, size_t len, bool exact,
		    size_t *got)
{
	size_t n = strlen(s), i;

	if (!n || n % 2 || n / 2 > len || (exact && n / 2 != len))
		return -EINVAL;
	for (i = 0; i < n / 2; i++) {
		int hi = nibble(s[2 * i]), lo = nibble(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = hi << 4 | lo;
	}
	if (got)
		*got = n / 2;
	return 0;
}
