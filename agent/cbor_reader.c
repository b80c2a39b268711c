// SPDX-License-Identifier: GPL-2.0
/*
 * cbor_reader.c: the strict, bounded CBOR reader of cbor_reader.h.
 *
 * libcbor's cbor_stream_decode() decodes one item head (and a definite
 * string's bytes, which it first checks are there) per call and reports it
 * through a callback.  The callbacks here only record what was decoded;
 * every rule is applied by the loop in katt_cbor_parse(), which knows the
 * offset and the bytes left.  The tree grows as items arrive, never from a
 * declared count.
 *
 * Owns: the tree it builds.  Calls: libcbor (cbor_stream_decode), jansson
 * (json_stringn, which refuses text that is not UTF-8: overlong forms,
 * surrogates, code points above U+10FFFF).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cbor.h>
#include <jansson.h>

#include "cbor_reader.h"

enum ev_kind { EV_NONE, EV_UINT, EV_BSTR, EV_TSTR, EV_ARRAY, EV_MAP, EV_BAD };

/* What the last callback reported. */
struct event {
	enum ev_kind kind;
	uint64_t uint;		/* EV_UINT; EV_ARRAY and EV_MAP: the count */
	const uint8_t *str;
	size_t len;
	const char *bad;	/* EV_BAD: what it was */
};

#define EV(ctx)		((struct event *)(ctx))

static void on_uint8(void *ctx, uint8_t v)
{
	EV(ctx)->kind = EV_UINT;
	EV(ctx)->uint = v;
}

static void on_uint16(void *ctx, uint16_t v)
{
	EV(ctx)->kind = EV_UINT;
	EV(ctx)->uint = v;
}

static void on_uint32(void *ctx, uint32_t v)
{
	EV(ctx)->kind = EV_UINT;
	EV(ctx)->uint = v;
}

static void on_uint64(void *ctx, uint64_t v)
{
	EV(ctx)->kind = EV_UINT;
	EV(ctx)->uint = v;
}

static void bad(void *ctx, const char *what)
{
	EV(ctx)->kind = EV_BAD;
	EV(ctx)->bad = what;
}

static void on_negint8(void *ctx, uint8_t v)
{
	(void)v;
	bad(ctx, "a negative integer");
}

static void on_negint16(void *ctx, uint16_t v)
{
	(void)v;
	bad(ctx, "a negative integer");
}

static void on_negint32(void *ctx, uint32_t v)
{
	(void)v;
	bad(ctx, "a negative integer");
}

static void on_negint64(void *ctx, uint64_t v)
{
	(void)v;
	bad(ctx, "a negative integer");
}

/* libcbor 0.8: byte_string is the definite one, byte_string_start not */
static void on_bstr(void *ctx, cbor_data p, size_t len)
{
	EV(ctx)->kind = EV_BSTR;
	EV(ctx)->str = p;
	EV(ctx)->len = len;
}

static void on_bstr_indef(void *ctx)
{
	bad(ctx, "an indefinite-length byte string");
}

static void on_tstr(void *ctx, cbor_data p, size_t len)
{
	EV(ctx)->kind = EV_TSTR;
	EV(ctx)->str = p;
	EV(ctx)->len = len;
}

static void on_tstr_indef(void *ctx)
{
	bad(ctx, "an indefinite-length text string");
}

static void on_array(void *ctx, size_t n)
{
	EV(ctx)->kind = EV_ARRAY;
	EV(ctx)->uint = n;
}

static void on_array_indef(void *ctx)
{
	bad(ctx, "an indefinite-length array");
}

static void on_map(void *ctx, size_t n)
{
	EV(ctx)->kind = EV_MAP;
	EV(ctx)->uint = n;
}

static void on_map_indef(void *ctx)
{
	bad(ctx, "an indefinite-length map");
}

static void on_tag(void *ctx, uint64_t tag)
{
	(void)tag;
	bad(ctx, "a tag");
}

static void on_float(void *ctx, float f)
{
	(void)f;
	bad(ctx, "a float");
}

static void on_double(void *ctx, double d)
{
	(void)d;
	bad(ctx, "a float");
}

static void on_simple(void *ctx)
{
	bad(ctx, "a simple value");
}

static void on_bool(void *ctx, bool b)
{
	(void)b;
	bad(ctx, "a simple value (boolean)");
}

static void on_break(void *ctx)
{
	bad(ctx, "a break code");
}

static const struct cbor_callbacks callbacks = {
	.uint8 = on_uint8,
	.uint16 = on_uint16,
	.uint32 = on_uint32,
	.uint64 = on_uint64,
	.negint8 = on_negint8,
	.negint16 = on_negint16,
	.negint32 = on_negint32,
	.negint64 = on_negint64,
	.byte_string = on_bstr,
	.byte_string_start = on_bstr_indef,
	.string = on_tstr,
	.string_start = on_tstr_indef,
	.array_start = on_array,
	.indef_array_start = on_array_indef,
	.map_start = on_map,
	.indef_map_start = on_map_indef,
	.tag = on_tag,
	.float2 = on_float,
	.float4 = on_float,
	.float8 = on_double,
	.undefined = on_simple,
	.null = on_simple,
	.boolean = on_bool,
	.indef_break = on_break,
};

/* An open array or map. */
struct frame {
	uint32_t item;
	uint32_t left;		/* items still to come (a map pair is two) */
	bool map;
};

struct parser {
	struct katt_cbor_doc *doc;
	uint32_t cap;
	char *why;
	size_t whylen;
};

static int malformed(struct parser *ps, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int malformed(struct parser *ps, const char *fmt, ...)
{
	va_list ap;

	if (ps->why && ps->whylen) {
		va_start(ap, fmt);
		vsnprintf(ps->why, ps->whylen, fmt, ap);
		va_end(ap);
	}
	return -EBADMSG;
}

static struct katt_cbor_item *add_item(struct parser *ps, size_t limit)
{
	struct katt_cbor_doc *doc = ps->doc;
	struct katt_cbor_item *items;
	uint32_t cap;

	if (doc->nitems == ps->cap) {
		/* never more items than bytes: each takes one at least */
		cap = ps->cap ? ps->cap * 2 : 32;
		if (cap > limit)
			cap = limit;
		if (cap <= doc->nitems)
			return NULL;
		items = realloc(doc->items, cap * sizeof(*items));
		if (!items)
			return NULL;
		doc->items = items;
		ps->cap = cap;
	}
	items = &doc->items[doc->nitems++];
	memset(items, 0, sizeof(*items));
	return items;
}

static bool valid_utf8(const uint8_t *p, size_t len)
{
	json_t *s;

	if (!len)
		return true;
	s = json_stringn((const char *)p, len);
	if (!s)
		return false;
	json_decref(s);
	return true;
}

/*
 * The item at @key_item, a map key, against the keys before it in the map
 * of @f: returns true if one of them is the same.
 */
static bool duplicate_key(const struct katt_cbor_doc *doc,
			  const struct frame *f, uint32_t key_item)
{
	const struct katt_cbor_item *map = &doc->items[f->item];
	uint32_t done = (map->count * 2 - f->left) / 2, i, j;

	j = f->item + 1;
	for (i = 0; i < done; i++) {
		if (doc->items[j].uint == doc->items[key_item].uint)
			return true;
		j = doc->items[j].end;		/* the value */
		j = doc->items[j].end;		/* the next key */
	}
	return false;
}

int katt_cbor_parse(const uint8_t *buf, size_t len, struct katt_cbor_doc *doc,
		    char *why, size_t whylen)
{
	struct parser ps = { .doc = doc, .why = why, .whylen = whylen };
	struct frame stack[KATT_CBOR_DEPTH_MAX];
	struct cbor_decoder_result res;
	struct katt_cbor_item *it;
	unsigned int depth = 0;
	size_t off = 0, start, left;
	struct event ev;
	uint32_t idx;
	bool is_key;
	int ret;

	doc->items = NULL;
	doc->nitems = 0;
	if (why && whylen)
		why[0] = '\0';
	if (!len)
		return malformed(&ps, "no bytes");
	if (len > UINT32_MAX)
		return malformed(&ps, "%zu bytes", len);

	for (;;) {
		memset(&ev, 0, sizeof(ev));
		start = off;
		res = cbor_stream_decode(buf + off, len - off, &callbacks, &ev);
		if (res.status == CBOR_DECODER_NEDATA) {
			ret = malformed(&ps, "truncated item at offset %zu",
					start);
			goto out_free;
		}
		if (res.status != CBOR_DECODER_FINISHED || ev.kind == EV_NONE) {
			ret = malformed(&ps, "invalid initial byte 0x%02x at offset %zu",
					buf[start], start);
			goto out_free;
		}
		if (ev.kind == EV_BAD) {
			ret = malformed(&ps, "%s at offset %zu", ev.bad, start);
			goto out_free;
		}
		off += res.read;
		left = len - off;

		is_key = depth && stack[depth - 1].map &&
			 stack[depth - 1].left % 2 == 0;
		if (is_key && ev.kind != EV_UINT) {
			ret = malformed(&ps, "map key at offset %zu is not an unsigned integer",
					start);
			goto out_free;
		}
		if ((ev.kind == EV_ARRAY || ev.kind == EV_MAP) &&
		    depth == KATT_CBOR_DEPTH_MAX) {
			ret = malformed(&ps, "%s at offset %zu nested deeper than %d levels",
					ev.kind == EV_MAP ? "map" : "array",
					start, KATT_CBOR_DEPTH_MAX);
			goto out_free;
		}
		if (ev.kind == EV_TSTR) {
			if (ev.len > KATT_CBOR_TEXT_MAX) {
				ret = malformed(&ps, "text string of %zu bytes at offset %zu (at most %d)",
						ev.len, start, KATT_CBOR_TEXT_MAX);
				goto out_free;
			}
			if (!valid_utf8(ev.str, ev.len)) {
				ret = malformed(&ps, "text string at offset %zu is not UTF-8",
						start);
				goto out_free;
			}
		}
		if (ev.kind == EV_ARRAY || ev.kind == EV_MAP) {
			uint64_t need = ev.kind == EV_MAP ? 2 * ev.uint : ev.uint;

			if (ev.uint > KATT_CBOR_ENTRIES_MAX) {
				ret = malformed(&ps, "%s at offset %zu declares %llu %s (at most %d)",
						ev.kind == EV_MAP ? "map" : "array",
						start, (unsigned long long)ev.uint,
						ev.kind == EV_MAP ? "pairs" : "entries",
						KATT_CBOR_ENTRIES_MAX);
				goto out_free;
			}
			if (need > left) {
				ret = malformed(&ps, "%s at offset %zu declares %llu %s with %zu bytes left",
						ev.kind == EV_MAP ? "map" : "array",
						start, (unsigned long long)ev.uint,
						ev.kind == EV_MAP ? "pairs" : "entries",
						left);
				goto out_free;
			}
		}

		idx = doc->nitems;
		it = add_item(&ps, len);
		if (!it) {
			ret = -ENOMEM;
			goto out_free;
		}
		switch (ev.kind) {
		case EV_UINT:
			it->type = KATT_CBOR_UINT;
			it->uint = ev.uint;
			break;
		case EV_BSTR:
			it->type = KATT_CBOR_BSTR;
			break;
		case EV_TSTR:
			it->type = KATT_CBOR_TSTR;
			break;
		case EV_ARRAY:
			it->type = KATT_CBOR_ARRAY;
			it->count = ev.uint;
			break;
		default:
			it->type = KATT_CBOR_MAP;
			it->count = ev.uint;
			break;
		}
		it->str = ev.str;
		it->len = ev.len;
		if (is_key && duplicate_key(doc, &stack[depth - 1], idx)) {
			ret = malformed(&ps, "key %llu a second time in a map, at offset %zu",
					(unsigned long long)ev.uint, start);
			goto out_free;
		}

		if ((it->type == KATT_CBOR_ARRAY || it->type == KATT_CBOR_MAP) &&
		    it->count) {
			stack[depth].item = idx;
			stack[depth].left = it->type == KATT_CBOR_MAP ?
					    2 * it->count : it->count;
			stack[depth].map = it->type == KATT_CBOR_MAP;
			depth++;
			continue;
		}

		/* the item is complete, and so may be its containers */
		it->end = doc->nitems;
		while (depth) {
			struct frame *f = &stack[depth - 1];

			if (--f->left)
				break;
			doc->items[f->item].end = doc->nitems;
			depth--;
		}
		if (!depth)
			break;
	}

	if (off != len) {
		ret = malformed(&ps, "%zu bytes after the item", len - off);
		goto out_free;
	}
	return 0;

out_free:
	katt_cbor_free(doc);
	return ret;
}

void katt_cbor_free(struct katt_cbor_doc *doc)
{
	free(doc->items);
	doc->items = NULL;
	doc->nitems = 0;
}

int katt_cbor_map_get(const struct katt_cbor_doc *doc, uint32_t map,
		      uint64_t key)
{
	const struct katt_cbor_item *m;
	uint32_t i, j;

	if (map >= doc->nitems)
		return -1;
	m = &doc->items[map];
	if (m->type != KATT_CBOR_MAP)
		return -1;
	j = map + 1;
	for (i = 0; i < m->count; i++) {
		uint32_t value = doc->items[j].end;

		if (doc->items[j].uint == key)
			return value;
		j = doc->items[value].end;
	}
	return -1;
}

const char *katt_cbor_type_name(enum katt_cbor_type type)
{
	switch (type) {
	case KATT_CBOR_UINT:
		return "unsigned integer";
	case KATT_CBOR_BSTR:
		return "byte string";
	case KATT_CBOR_TSTR:
		return "text string";
	case KATT_CBOR_ARRAY:
		return "array";
	case KATT_CBOR_MAP:
		return "map";
	}
	return "?";
}
