/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cbor_writer.h: writes the agent's messages into a caller's buffer with
 * libcbor's encoders (shortest forms, definite lengths only).  A write
 * that does not fit sets a sticky overflow and writes nothing more, so a
 * message is built with plain calls and checked once at the end.
 *
 * Owns: nothing.  Calls: libcbor's cbor_encode_* functions.
 */
#ifndef KATT_AGENT_CBOR_WRITER_H
#define KATT_AGENT_CBOR_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct katt_cbor_writer {
	uint8_t *buf;
	size_t cap;
	size_t len;
	bool overflow;
};

void katt_cbor_writer_init(struct katt_cbor_writer *w, uint8_t *buf,
			   size_t cap);
void katt_cbor_put_uint(struct katt_cbor_writer *w, uint64_t v);
void katt_cbor_put_bstr(struct katt_cbor_writer *w, const void *p, size_t len);
void katt_cbor_put_tstr(struct katt_cbor_writer *w, const char *p, size_t len);
void katt_cbor_put_array(struct katt_cbor_writer *w, size_t n);
void katt_cbor_put_map(struct katt_cbor_writer *w, size_t n);
/* the head of a byte string of @len bytes whose content follows */
void katt_cbor_put_bstr_head(struct katt_cbor_writer *w, size_t len);
/* the number of bytes written, or -EMSGSIZE after an overflow */
long katt_cbor_writer_end(const struct katt_cbor_writer *w);

#endif /* KATT_AGENT_CBOR_WRITER_H */
