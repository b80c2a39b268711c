/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cbor_reader.h: the strict, bounded CBOR reader of every message the agent
 * receives (Documentation/protocol.rst, "Encoding").
 *
 * katt_cbor_parse() runs libcbor's streaming decoder (cbor_stream_decode)
 * item by item and builds a flat tree of the items, in pre-order, whose
 * strings point into the input.  It never trusts a declared count: a map or
 * an array may hold at most the entries its limit allows and at most as
 * many as the bytes left after its header could encode (one byte an array
 * entry, two a map pair), so that the tree never holds more items than the
 * input has bytes; the tree is allocated once, from the input's length.
 * What protocol.rst forbids is refused, in ignored values too: types other
 * than unsigned integers, byte strings, text strings, arrays and maps (so
 * tags, negative integers, floats and simple values), indefinite lengths,
 * map keys that are not unsigned integers, the same key twice in a map,
 * text that is not UTF-8 or longer than the limit, nesting deeper than the
 * limit, a truncated item and bytes after the one top-level item.
 *
 * Owns: nothing beyond the tree it returns (katt_cbor_free()).  Calls:
 * libcbor's streaming decoder, jansson (only for its UTF-8 check).
 */
#ifndef KATT_AGENT_CBOR_READER_H
#define KATT_AGENT_CBOR_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* protocol.rst: arrays and maps nest at most 8 deep, the outer map at 1 */
#define KATT_CBOR_DEPTH_MAX	8
/* entries of a map or an array unless its field says less */
#define KATT_CBOR_ENTRIES_MAX	64
/* bytes of a text string */
#define KATT_CBOR_TEXT_MAX	127

enum katt_cbor_type {
	KATT_CBOR_UINT,
	KATT_CBOR_BSTR,
	KATT_CBOR_TSTR,
	KATT_CBOR_ARRAY,
	KATT_CBOR_MAP,
};

struct katt_cbor_item {
	enum katt_cbor_type type;
	/* array: entries; map: pairs; 0 for the others */
	uint32_t count;
	/* index of the first item after this one and everything inside it */
	uint32_t end;
	uint64_t uint;		/* KATT_CBOR_UINT */
	const uint8_t *str;	/* KATT_CBOR_BSTR, KATT_CBOR_TSTR: in the input */
	size_t len;
};

/*
 * The tree: items[0] is the top-level item; the entries of an array at i
 * start at i + 1 and follow each other (the next at the previous one's
 * end); a map's pairs likewise, each key followed by its value.
 */
struct katt_cbor_doc {
	struct katt_cbor_item *items;
	uint32_t nitems;
};

/*
 * Parses @len bytes at @buf, which must hold exactly one item.  Returns 0
 * and fills @doc, or -EBADMSG (malformed: @why, if not NULL, says what and
 * at which offset, NUL-terminated within @whylen) or -ENOMEM.  @buf must
 * outlive @doc.
 */
int katt_cbor_parse(const uint8_t *buf, size_t len, struct katt_cbor_doc *doc,
		    char *why, size_t whylen);
void katt_cbor_free(struct katt_cbor_doc *doc);

/*
 * The value of key @key in the map at @map, or -1 if it has none (or @map
 * is not a map).
 */
int katt_cbor_map_get(const struct katt_cbor_doc *doc, uint32_t map,
		      uint64_t key);

/* The index of the entry after the entry (or map value) at @i. */
static inline uint32_t katt_cbor_next(const struct katt_cbor_doc *doc,
				      uint32_t i)
{
	return doc->items[i].end;
}

/* A human name of a CBOR type, for messages ("byte string"). */
const char *katt_cbor_type_name(enum katt_cbor_type type);

#endif /* KATT_AGENT_CBOR_READER_H */
