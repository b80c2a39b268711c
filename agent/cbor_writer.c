// SPDX-License-Identifier: GPL-2.0
/*
 * cbor_writer.c: the bounded writer of cbor_writer.h.  Owns nothing;
 * calls libcbor's encoders, which return 0 when the item does not fit.
 */
#include <errno.h>
#include <string.h>

#include <cbor.h>

#include "cbor_writer.h"

void katt_cbor_writer_init(struct katt_cbor_writer *w, uint8_t *buf,
			   size_t cap)
{
	w->buf = buf;
	w->cap = cap;
	w->len = 0;
	w->overflow = false;
}

/* Accounts for what an encoder wrote (0: it did not fit). */
static void wrote(struct katt_cbor_writer *w, size_t n)
{
	if (!n)
		w->overflow = true;
	else
		w->len += n;
}

static void put_raw(struct katt_cbor_writer *w, const void *p, size_t len)
{
	if (w->overflow)
		return;
	if (len > w->cap - w->len) {
		w->overflow = true;
		return;
	}
	if (len)
		memcpy(w->buf + w->len, p, len);
	w->len += len;
}

void katt_cbor_put_uint(struct katt_cbor_writer *w, uint64_t v)
{
	if (!w->overflow)
		wrote(w, cbor_encode_uint(v, w->buf + w->len, w->cap - w->len));
}

void katt_cbor_put_bstr_head(struct katt_cbor_writer *w, size_t len)
{
	if (!w->overflow)
		wrote(w, cbor_encode_bytestring_start(len, w->buf + w->len,
						      w->cap - w->len));
}

void katt_cbor_put_bstr(struct katt_cbor_writer *w, const void *p, size_t len)
{
	katt_cbor_put_bstr_head(w, len);
	put_raw(w, p, len);
}

void katt_cbor_put_tstr(struct katt_cbor_writer *w, const char *p, size_t len)
{
	if (!w->overflow)
		wrote(w, cbor_encode_string_start(len, w->buf + w->len,
						  w->cap - w->len));
	put_raw(w, p, len);
}

void katt_cbor_put_array(struct katt_cbor_writer *w, size_t n)
{
	if (!w->overflow)
		wrote(w, cbor_encode_array_start(n, w->buf + w->len,
						 w->cap - w->len));
}

void katt_cbor_put_map(struct katt_cbor_writer *w, size_t n)
{
	if (!w->overflow)
		wrote(w, cbor_encode_map_start(n, w->buf + w->len,
					       w->cap - w->len));
}

long katt_cbor_writer_end(const struct katt_cbor_writer *w)
{
	return w->overflow ? -EMSGSIZE : (long)w->len;
}
