/* SPDX-License-Identifier: GPL-2.0 */
/*
 * proto.h: the in-band attestation messages of Documentation/protocol.rst,
 * "Messages": Challenge, Evidence (with its CMW record), Verdict, Error and
 * Request, and the value of evidence type 1, tpm2-quote.  One decoder that
 * turns received bytes into a struct katt_msg, applying the encoding rules
 * (cbor_reader.h) and every field table, and tells what Error to answer
 * when it cannot; one encoder per message that refuses to write anything
 * the tables forbid.
 *
 * Decoded strings (the CMW's type and value, the tpm2-quote's byte strings)
 * point into the decoded buffer, which must outlive them.
 *
 * Owns: no state.  Calls: cbor_reader, cbor_writer, jansson (UTF-8 check).
 */
#ifndef KATT_AGENT_PROTO_H
#define KATT_AGENT_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KATT_PROTO_VERSION	1
#define KATT_MSG_MAX		65536
#define KATT_NONCE_LEN		32
#define KATT_TYPES_MAX		16
#define KATT_PCR_BANKS_MAX	4
#define KATT_PCR_COUNT		24	/* PCRs 0 to 23 */
#define KATT_TEXT_MAX		127
#define KATT_VERSIONS_MAX	8
#define KATT_DIGEST_MAX		64

enum katt_msg_type {
	KATT_MSG_CHALLENGE	= 1,
	KATT_MSG_EVIDENCE	= 2,
	KATT_MSG_VERDICT	= 3,
	KATT_MSG_ERROR		= 4,
	KATT_MSG_REQUEST	= 5,
};

/* The one key space of all messages. */
enum katt_key {
	KATT_KEY_VERSION	= 0,
	KATT_KEY_TYPE		= 1,
	KATT_KEY_RID		= 2,
	KATT_KEY_NONCE		= 3,
	KATT_KEY_TYPES		= 4,
	KATT_KEY_PCRS		= 5,
	KATT_KEY_EVIDENCE	= 6,
	KATT_KEY_RESULT		= 7,
	KATT_KEY_REASON		= 8,
	KATT_KEY_TEXT		= 9,
	KATT_KEY_VALID_FOR	= 10,
	KATT_KEY_CODE		= 11,
	KATT_KEY_VERSIONS	= 12,
	KATT_KEY_IN_REPLY_TO	= 13,
};

enum katt_evidence_type {
	KATT_EV_TPM2_QUOTE	= 1,
	KATT_EV_EAR_CWT		= 2,
	KATT_EV_EAR_JWT		= 3,
};

#define KATT_MEDIA_TPM2_QUOTE	"application/vnd.ktls-attest.tpm2-quote+cbor"
#define KATT_CMW_IND_EVIDENCE	4
#define KATT_CMW_IND_RESULT	8

enum katt_result {
	KATT_RESULT_PASS	= 1,
	KATT_RESULT_FAIL	= 2,
};

/* Verdict reasons. */
enum katt_reason {
	KATT_REASON_NONE		= 0,
	KATT_REASON_BINDER_MISMATCH	= 1,
	KATT_REASON_BAD_SIGNATURE	= 2,
	KATT_REASON_UNTRUSTED_KEY	= 3,
	KATT_REASON_MALFORMED_EVIDENCE	= 4,
	KATT_REASON_TYPE_NOT_OFFERED	= 5,
	KATT_REASON_PCR_DIGEST_MISMATCH	= 6,
	KATT_REASON_REFERENCE_MISMATCH	= 7,
	KATT_REASON_LOG_MISMATCH	= 8,
	KATT_REASON_COUNTER_REGRESSION	= 9,
	KATT_REASON_RESULT_NOT_AFFIRMING = 10,
	KATT_REASON_VERIFIER_UNAVAILABLE = 11,
	KATT_REASON_POLICY		= 12,
};

/* Error codes. */
enum katt_error_code {
	KATT_ERR_UNSUPPORTED_VERSION	= 1,
	KATT_ERR_CANNOT_ATTEST		= 2,
	KATT_ERR_MALFORMED		= 3,
	KATT_ERR_UNEXPECTED		= 4,
	KATT_ERR_UNSUPPORTED_TYPE	= 5,
	KATT_ERR_INTERNAL		= 6,
};

/* A text field: @len bytes of UTF-8 (NULs allowed), NUL-terminated. */
struct katt_text {
	size_t len;
	char s[KATT_TEXT_MAX + 1];
};

/* A PCR selection: per bank (TPM_ALG_ID), bit i of @pcrs is PCR i. */
struct katt_pcr_sel {
	unsigned int nbanks;
	struct {
		uint16_t alg;
		uint32_t pcrs;
	} bank[KATT_PCR_BANKS_MAX];
};

struct katt_challenge {
	uint32_t rid;
	uint8_t nonce[KATT_NONCE_LEN];
	unsigned int ntypes;
	uint8_t types[KATT_TYPES_MAX];
	bool has_sel;
	struct katt_pcr_sel sel;
};

/* A CBOR Record CMW: [type, value] or [type, value, ind]. */
struct katt_cmw {
	const char *type;	/* not NUL-terminated */
	size_t type_len;
	const uint8_t *value;
	size_t value_len;
	bool has_ind;
	uint64_t ind;
};

struct katt_evidence {
	uint32_t rid;
	struct katt_cmw cmw;
};

struct katt_verdict {
	uint32_t rid;
	unsigned int result;		/* enum katt_result */
	uint64_t reason;		/* 0 with pass */
	bool has_text;
	struct katt_text text;
	uint32_t valid_for;		/* seconds; 0: absent */
};

struct katt_error {
	uint64_t code;			/* enum katt_error_code */
	bool has_rid;
	uint32_t rid;
	bool has_text;
	struct katt_text text;
	unsigned int nversions;		/* required with code 1 */
	uint64_t versions[KATT_VERSIONS_MAX];
	bool has_in_reply_to;
	uint64_t in_reply_to;
};

struct katt_msg {
	uint64_t version;
	enum katt_msg_type type;
	union {
		struct katt_challenge challenge;
		struct katt_evidence evidence;
		struct katt_verdict verdict;
		struct katt_error error;
	};
};

/*
 * Why a received message could not be decoded, and what to answer: an
 * Error with @code (1, 3 or 5), @version as the message had it (1 when it
 * was not readable), and the round id and type of the message when they
 * were readable.  A message of type 4 (Error) is never answered.
 */
struct katt_decode_err {
	unsigned int code;
	uint64_t version;
	bool has_rid;
	uint32_t rid;
	bool has_type;
	uint64_t type;
	char why[160];
};

/*
 * Decodes one received message.  Returns 0, -EBADMSG (@err says what and
 * what to answer) or -ENOMEM.  The decision, in this order: the encoding
 * rules (Error 3); then the version, in every type but Error (Error 1);
 * then the type (Error 5); then the type's field table (Error 3).
 */
int katt_msg_decode(const uint8_t *buf, size_t len, struct katt_msg *msg,
		    struct katt_decode_err *err);

/*
 * Encodes @msg into @buf.  Returns the length, -EMSGSIZE if it does not fit
 * in @cap (or in KATT_MSG_MAX), or -EINVAL if @msg breaks its field table.
 */
long katt_msg_encode(const struct katt_msg *msg, uint8_t *buf, size_t cap);

/* tpm2-quote (evidence type 1) ------------------------------------------ */

#define KATT_QUOTE_BLOB_MAX	1024	/* attest, signature, AK public */
#define KATT_QUOTE_CERTS_MAX	4
#define KATT_QUOTE_CERT_MAX	8192
#define KATT_QUOTE_LOGS_MAX	2

enum katt_quote_key {
	KATT_QKEY_ATTEST	= 1,
	KATT_QKEY_SIGNATURE	= 2,
	KATT_QKEY_PCRS		= 3,
	KATT_QKEY_AK_CERTS	= 4,
	KATT_QKEY_AK_PUBLIC	= 5,
	KATT_QKEY_LOGS		= 6,
};

enum katt_log_format {
	KATT_LOG_FORMAT_TCG	= 1,	/* TCG PC Client crypto-agile log */
	KATT_LOG_FORMAT_IMA	= 2,	/* Linux IMA binary measurements */
};

struct katt_blob {
	const uint8_t *p;
	size_t len;
};

/* PCR values by bank, in the order of the map; value[i] is PCR i's. */
struct katt_pcr_values {
	unsigned int nbanks;
	struct {
		uint16_t alg;
		uint32_t pcrs;
		unsigned int size;
		const uint8_t *value[KATT_PCR_COUNT];
	} bank[KATT_PCR_BANKS_MAX];
};

struct katt_tpm2_quote {
	struct katt_blob attest;	/* TPMS_ATTEST */
	struct katt_blob sig;		/* TPMT_SIGNATURE */
	struct katt_pcr_values pcrs;
	unsigned int ncerts;
	struct katt_blob cert[KATT_QUOTE_CERTS_MAX];
	struct katt_blob ak_pub;	/* TPM2B_PUBLIC; len 0: absent */
	unsigned int nlogs;
	struct {
		unsigned int format;	/* enum katt_log_format */
		struct katt_blob data;
	} log[KATT_QUOTE_LOGS_MAX];
};

/*
 * Decodes the value of a tpm2-quote CMW (its own nesting counted from 1).
 * Returns 0, -EBADMSG (@why says what) or -ENOMEM.
 */
int katt_tpm2_quote_decode(const uint8_t *buf, size_t len,
			   struct katt_tpm2_quote *q, char *why, size_t whylen);
/* Returns the length, -EMSGSIZE or -EINVAL as katt_msg_encode(). */
long katt_tpm2_quote_encode(const struct katt_tpm2_quote *q, uint8_t *buf,
			    size_t cap);

/* Helpers ----------------------------------------------------------------- */

/* The digest size of a TPM hash algorithm, 0 if this code does not know it. */
unsigned int katt_hash_alg_size(uint16_t alg);
/* "sha256", or NULL for an algorithm this code does not know. */
const char *katt_hash_alg_name(uint16_t alg);
/* The media type of an evidence type, or NULL. */
const char *katt_evidence_media_type(unsigned int type);
const char *katt_reason_name(uint64_t reason);
const char *katt_error_name(uint64_t code);
const char *katt_msg_type_name(uint64_t type);

/*
 * Sets @t from printf's @fmt, cut to KATT_TEXT_MAX bytes at a character
 * boundary.
 */
void katt_text_set(struct katt_text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif /* KATT_AGENT_PROTO_H */
