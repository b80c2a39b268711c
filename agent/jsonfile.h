/* SPDX-License-Identifier: GPL-2.0 */
/*
 * jsonfile.h: what config.c and policy.c share to read a JSON file strictly
 * with jansson and say exactly what is wrong in it: the file loaded whole
 * (JSON_REJECT_DUPLICATES, no trailing data, an object at the top, parse
 * errors as "FILE:LINE:COLUMN: text"), the JSON path of each field
 * ("relying_party.aks[1].name") built as the readers descend, unknown keys
 * refused, and hex strings decoded.
 *
 * Owns: nothing.  Calls: jansson, log.
 */
#ifndef KATT_AGENT_JSONFILE_H
#define KATT_AGENT_JSONFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define KATT_JPATH_MAX	128

/* The JSON path of a field, for messages. */
struct katt_jpath {
	char s[KATT_JPATH_MAX];
};

/*
 * Loads @path, which must hold one JSON object and nothing after it.
 * Returns it (the caller's reference) or NULL with *@err set: -ENOENT (or
 * another errno of open), -EINVAL (logged with line and column), -ENOMEM.
 */
json_t *katt_json_load(const char *path, int *err);

/* @out = @parent "." @key (or @key at the top). */
void katt_jpath_key(struct katt_jpath *out, const struct katt_jpath *parent,
		    const char *key);
/* @out = @parent "[" @i "]". */
void katt_jpath_index(struct katt_jpath *out, const struct katt_jpath *parent,
		      size_t i);

/* Logs "FILE: PATH: <message>" as an error and returns -EINVAL. */
int katt_json_bad(const char *file, const struct katt_jpath *at,
		  const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Checks that @v (at @at) is an object whose keys are all in @known
 * (NULL-terminated).  0 or -EINVAL, logged.
 */
int katt_json_object(const char *file, const struct katt_jpath *at, json_t *v,
		     const char *const *known);

/* The string @v (not empty); 0 or -EINVAL, logged. */
int katt_json_string(const char *file, const struct katt_jpath *at, json_t *v,
		     const char **out);

/* Which of @names (NULL-terminated) the string @v is; -EINVAL, logged. */
int katt_json_enum(const char *file, const struct katt_jpath *at, json_t *v,
		   const char *const *names);

/*
 * Decodes the hex string @s (upper or lower case, nothing else) of exactly
 * @len bytes, or of 1 to @len bytes when @exact is false (*@got says how
 * many).  0 or -EINVAL.
 */
int katt_hex_decode(const char *s, uint8_t *out, size_t len, bool exact,
		    size_t *got);

#endif /* KATT_AGENT_JSONFILE_H */
