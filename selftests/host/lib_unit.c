// SPDX-License-Identifier: GPL-2.0
/*
 * libktls-attest on the build host (no kTLS needed): the key schedule
 * against RFC 8448's "Simple 1-RTT Handshake" trace, the crypto_info the
 * kernel gets, the keylog parser, and real OpenSSL handshakes in this
 * process (a client and a server over a socketpair) of which the library
 * plans the move: its keys and first sequence numbers must open the
 * records OpenSSL itself wrote, for each cipher and ticket count; and the
 * move refuses what it must (TLS 1.2, read-ahead, pending data, data
 * already moved by OpenSSL, a KeyUpdate, callbacks replaced), leaving the
 * connection usable.  The binding's exporter and key hashes against what
 * the other end computes.
 *
 * The record oracle opens a record the way kTLS does for TLS 1.3: nonce =
 * (salt || iv) XOR the sequence number in its last 8 bytes (AES-GCM), or
 * iv XOR it (ChaCha20-Poly1305), the 5-byte header as additional data.
 *
 * Built twice: plain and with -fsanitize=address,undefined.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "kselftest_harness.h"
#include "internal.h"
#include "lib/katt_certs.h"

/* --- RFC 8448, section 3 ------------------------------------------------- */

struct rfc_keys {
	const char *what, *secret, *key, *iv;
};

static const struct rfc_keys rfc8448[] = {
	{ "server handshake",
	  "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38",
	  "3fce516009c21727d0f2e4e86ee403bc", "5d313eb2671276ee13000b30" },
	{ "client handshake",
	  "b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21",
	  "dbfaa693d1762c5b666af5d950258d01", "5bd3c71b836e0b76bb73265f" },
	{ "server application",
	  "a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643",
	  "9f02283b6c9c07efc26bb9f2ac92e356", "cf782b88dd83549aadf1e984" },
	{ "client application",
	  "9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5",
	  "17422dda596ed5d9acd890e3c63f5051", "5b78923dee08579033e523d9" },
};

#define RFC_SERVER_APP	2
#define RFC_CLIENT_APP	3

/* Application data, 50 bytes 00..31 each way: the client's first record */
static const char rfc_client_data_record[] =
	"1703030043a23f7054b62c94d0affafe8228ba55cbefacea42f914aa66bcab3f"
	"2b9819a8a5b46b395bd54a9a20441e2b62974e1f5a6292a2977014bd1e3deae6"
	"3aeebb21694915e4";
/* ... and the server's second: its first was the NewSessionTicket */
static const char rfc_server_data_record[] =
	"17030300432e937e11ef4ac740e538ad36005fc4a46932fc3225d05f82aa1b36"
	"e30efaf97d90e6dffc602dcb501a59a8fcc49c4bf2e5f0a21c0047c2abf33254"
	"0dd032e167c2955d";
/* the client's close_notify, its second record */
static const char rfc_client_alert_record[] =
	"1703030013c9872760655666b74d7ff1153efd6db6d0b0e3";

static size_t unhex(const char *hex, unsigned char *out, size_t size)
{
	size_t len = 0;

	if (!OPENSSL_hexstr2buf_ex(out, size, &len, hex, '\0'))
		return 0;
	return len;
}

/* The record oracle: opens @rec (header included) as kTLS would. */
static int open_record(const struct katt_crypto *c, uint64_t index,
		       const unsigned char *rec, size_t rec_len,
		       unsigned char *out, size_t *out_len, uint8_t *type)
{
	const EVP_CIPHER *cipher;
	const unsigned char *key, *seq;
	unsigned char nonce[12];
	uint64_t s;
	EVP_CIPHER_CTX *ctx;
	int n, n2, ok, i;

	switch (c->info.cipher_type) {
	case TLS_CIPHER_AES_GCM_128:
		cipher = EVP_aes_128_gcm();
		key = c->gcm128.key;
		memcpy(nonce, c->gcm128.salt, 4);
		memcpy(nonce + 4, c->gcm128.iv, 8);
		seq = c->gcm128.rec_seq;
		break;
	case TLS_CIPHER_AES_GCM_256:
		cipher = EVP_aes_256_gcm();
		key = c->gcm256.key;
		memcpy(nonce, c->gcm256.salt, 4);
		memcpy(nonce + 4, c->gcm256.iv, 8);
		seq = c->gcm256.rec_seq;
		break;
	case TLS_CIPHER_CHACHA20_POLY1305:
		cipher = EVP_chacha20_poly1305();
		key = c->chacha.key;
		memcpy(nonce, c->chacha.iv, 12);
		seq = c->chacha.rec_seq;
		break;
	default:
		return -EINVAL;
	}
	if (rec_len < 5 + 16 + 1)
		return -EINVAL;
	memcpy(&s, seq, 8);
	s = htobe64(be64toh(s) + index);
	for (i = 0; i < 8; i++)
		nonce[4 + i] ^= ((unsigned char *)&s)[i];

	ctx = EVP_CIPHER_CTX_new();
	ok = ctx && EVP_DecryptInit_ex(ctx, cipher, NULL, NULL, NULL) &&
	     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL) &&
	     EVP_DecryptInit_ex(ctx, NULL, NULL, key, nonce) &&
	     EVP_DecryptUpdate(ctx, NULL, &n, rec, 5) &&
	     EVP_DecryptUpdate(ctx, out, &n, rec + 5, rec_len - 5 - 16) &&
	     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 16,
				 (void *)(rec + rec_len - 16)) &&
	     EVP_DecryptFinal_ex(ctx, out + n, &n2) > 0;
	EVP_CIPHER_CTX_free(ctx);
	if (!ok)
		return -EBADMSG;
	/* TLSInnerPlaintext: content, type, zero padding */
	while (n > 0 && !out[n - 1])
		n--;
	if (!n)
		return -EBADMSG;
	*type = out[n - 1];
	*out_len = n - 1;
	return 0;
}

TEST(rfc8448_traffic_keys)
{
	unsigned char secret[32], want[32], got[32];
	size_t i, slen, klen, ilen;

	for (i = 0; i < ARRAY_SIZE(rfc8448); i++) {
		slen = unhex(rfc8448[i].secret, secret, sizeof(secret));
		ASSERT_EQ(32, slen);
		klen = unhex(rfc8448[i].key, want, sizeof(want));
		ASSERT_EQ(0, katt_expand_label(EVP_sha256(), secret, slen,
					       "key", got, klen));
		EXPECT_EQ(0, memcmp(want, got, klen))
			TH_LOG("%s key", rfc8448[i].what);
		ilen = unhex(rfc8448[i].iv, want, sizeof(want));
		ASSERT_EQ(0, katt_expand_label(EVP_sha256(), secret, slen,
					       "iv", got, ilen));
		EXPECT_EQ(0, memcmp(want, got, ilen))
			TH_LOG("%s iv", rfc8448[i].what);
	}
}

/* The crypto_info of a direction, opened against the RFC's own records. */
static void rfc_open(struct __test_metadata *_metadata, int which,
		     uint64_t seq, const char *hex, uint8_t want_type,
		     size_t want_len)
{
	unsigned char secret[32], rec[128], out[128];
	struct katt_crypto c;
	size_t slen, rlen, olen = 0, i;
	uint8_t type = 0;

	slen = unhex(rfc8448[which].secret, secret, sizeof(secret));
	rlen = unhex(hex, rec, sizeof(rec));
	ASSERT_NE(0, rlen);
	ASSERT_EQ(0, katt_crypto_from_secret(0x1301, EVP_sha256(), secret,
					     slen, seq, &c));
	EXPECT_EQ(TLS_1_3_VERSION, c.info.version);
	EXPECT_EQ(TLS_CIPHER_AES_GCM_128, c.info.cipher_type);
	EXPECT_EQ(sizeof(c.gcm128), c.len);
	ASSERT_EQ(0, open_record(&c, 0, rec, rlen, out, &olen, &type))
		TH_LOG("the %s record does not open at sequence %llu",
		       rfc8448[which].what, (unsigned long long)seq);
	EXPECT_EQ(want_type, type);
	ASSERT_EQ(want_len, olen);
	if (want_type == KATT_REC_DATA)
		for (i = 0; i < olen; i++)
			EXPECT_EQ(i, out[i]);
	/* the sequence number counts: one off does not open */
	EXPECT_EQ(-EBADMSG, open_record(&c, 1, rec, rlen, out, &olen, &type));
}

TEST(rfc8448_records_open)
{
	rfc_open(_metadata, RFC_CLIENT_APP, 0, rfc_client_data_record,
		 KATT_REC_DATA, 50);
	/* the server's data came after one NewSessionTicket: sequence 1 */
	rfc_open(_metadata, RFC_SERVER_APP, 1, rfc_server_data_record,
		 KATT_REC_DATA, 50);
	rfc_open(_metadata, RFC_CLIENT_APP, 1, rfc_client_alert_record,
		 KATT_REC_ALERT, 2);
}

TEST(crypto_info_layout)
{
	unsigned char secret[48];
	struct katt_crypto c;
	unsigned char iv[12];
	uint64_t seq;

	memset(secret, 0x5a, sizeof(secret));
	ASSERT_EQ(0, katt_crypto_from_secret(0x1302, EVP_sha384(), secret,
					     48, 0x0102030405060708ULL, &c));
	EXPECT_EQ(TLS_CIPHER_AES_GCM_256, c.info.cipher_type);
	EXPECT_EQ(sizeof(c.gcm256), c.len);
	ASSERT_EQ(0, katt_expand_label(EVP_sha384(), secret, 48, "iv", iv,
				       12));
	EXPECT_EQ(0, memcmp(c.gcm256.salt, iv, 4));
	EXPECT_EQ(0, memcmp(c.gcm256.iv, iv + 4, 8));
	memcpy(&seq, c.gcm256.rec_seq, 8);
	EXPECT_EQ(0x0102030405060708ULL, be64toh(seq));

	ASSERT_EQ(0, katt_crypto_from_secret(0x1303, EVP_sha256(), secret,
					     32, 7, &c));
	EXPECT_EQ(TLS_CIPHER_CHACHA20_POLY1305, c.info.cipher_type);
	EXPECT_EQ(sizeof(c.chacha), c.len);
	ASSERT_EQ(0, katt_expand_label(EVP_sha256(), secret, 32, "iv", iv,
				       12));
	EXPECT_EQ(0, memcmp(c.chacha.iv, iv, 12));

	/* AES-CCM and the rest: not for kTLS here */
	EXPECT_EQ(-EOPNOTSUPP, katt_crypto_from_secret(0x1304, EVP_sha256(),
						       secret, 32, 0, &c));
	EXPECT_EQ(-EOPNOTSUPP, katt_crypto_from_secret(0xc02f, EVP_sha256(),
						       secret, 32, 0, &c));
}

TEST(mode_names)
{
	int m;

	for (m = KTLS_ATTEST_MODE_USERSPACE; m <= KTLS_ATTEST_MODE_BOUND; m++)
		EXPECT_EQ(m, ktls_attest_mode_from_name(ktls_attest_mode_name(m)));
	EXPECT_EQ(-EINVAL, ktls_attest_mode_from_name("kernel"));
	EXPECT_NE(NULL, strstr(ktls_attest_strerror(NULL), "kernel"));
	EXPECT_STREQ("pending", ktls_attest_state_name(KTLS_ATTEST_STATE_PENDING));
	EXPECT_STREQ("?", ktls_attest_state_name(99));
}

/* --- in-process handshakes -------------------------------------------------- */

struct hs_opts {
	const char *suites;	/* NULL: OpenSSL's default */
	int tickets;		/* server's num_tickets; -1: OpenSSL's */
	bool tls12;
	bool client_cert;	/* the server asks, the client has one */
	bool client_verifies;	/* SSL_VERIFY_PEER with the CA trusted */
	bool client_cert_unasked;	/* the client has one; nobody asks */
	bool no_prepare;
	unsigned int flags;	/* KTLS_ATTEST_F_* of both ends */
	enum ktls_attest_mode mode;
};

struct hs {
	struct katt_ident ca, srv, cli;
	SSL_CTX *sctx, *cctx;
	SSL *s, *c;
	int sfd, cfd;
	struct ktls_attest *ks, *kc;
	int app_keylog_lines, app_msgs;
};

static int hs_app_keylog_lines;

static void app_keylog(const SSL *ssl, const char *line)
{
	(void)ssl;
	(void)line;
	hs_app_keylog_lines++;
}

static void app_msg(int write_p, int version, int content_type,
		    const void *buf, size_t len, SSL *ssl, void *arg)
{
	(void)write_p, (void)version, (void)content_type, (void)buf,
	(void)len, (void)ssl;
	(*(int *)arg)++;
}

static void hs_free(struct hs *h)
{
	SSL_free(h->s);
	SSL_free(h->c);
	SSL_CTX_free(h->sctx);
	SSL_CTX_free(h->cctx);
	katt_ident_free(&h->ca);
	katt_ident_free(&h->srv);
	katt_ident_free(&h->cli);
	if (h->sfd >= 0)
		close(h->sfd);
	if (h->cfd >= 0)
		close(h->cfd);
	memset(h, 0, sizeof(*h));
	h->sfd = h->cfd = -1;
}

/* Both SSLs step by step over a non-blocking socketpair. */
static int hs_handshake(struct hs *h)
{
	int rs = 0, rc = 0, i;

	for (i = 0; i < 1000 && (rs != 1 || rc != 1); i++) {
		if (rs != 1)
			rs = SSL_do_handshake(h->s);
		if (rc != 1)
			rc = SSL_do_handshake(h->c);
		if ((rs <= 0 && SSL_get_error(h->s, rs) != SSL_ERROR_WANT_READ) ||
		    (rc <= 0 && SSL_get_error(h->c, rc) != SSL_ERROR_WANT_READ)) {
			ERR_print_errors_fp(stderr);
			return -EPROTO;
		}
	}
	return rs == 1 && rc == 1 ? 0 : -ETIMEDOUT;
}

static int hs_open(struct hs *h, const struct hs_opts *o)
{
	struct ktls_attest_opts ko = {
		.mode = o->mode ? o->mode : KTLS_ATTEST_MODE_GATED,
		/* no kTLS here: prepare must not arm the socketpair */
		.flags = o->flags | KTLS_ATTEST_F_OPENSSL_KTLS,
	};
	int sv[2], ret;

	memset(h, 0, sizeof(*h));
	h->sfd = h->cfd = -1;
	if (katt_ident_make(&h->ca, "ca", NULL) ||
	    katt_ident_make(&h->srv, "server", &h->ca) ||
	    katt_ident_make(&h->cli, "client", &h->ca))
		return -ENOMEM;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv))
		return -errno;
	h->sfd = sv[0];
	h->cfd = sv[1];
	h->sctx = SSL_CTX_new(TLS_server_method());
	h->cctx = SSL_CTX_new(TLS_client_method());
	if (!h->sctx || !h->cctx)
		return -ENOMEM;
	SSL_CTX_set_keylog_callback(h->cctx, app_keylog);
	if (!SSL_CTX_use_certificate(h->sctx, h->srv.cert) ||
	    !SSL_CTX_use_PrivateKey(h->sctx, h->srv.key))
		return -EINVAL;
	if (o->tls12) {
		SSL_CTX_set_max_proto_version(h->sctx, TLS1_2_VERSION);
	} else {
		SSL_CTX_set_min_proto_version(h->sctx, TLS1_3_VERSION);
		if (o->suites &&
		    (!SSL_CTX_set_ciphersuites(h->sctx, o->suites) ||
		     !SSL_CTX_set_ciphersuites(h->cctx, o->suites)))
			return -EINVAL;
	}
	if (o->tickets >= 0)
		SSL_CTX_set_num_tickets(h->sctx, o->tickets);
	if (o->client_cert || o->client_cert_unasked) {
		if (!SSL_CTX_use_certificate(h->cctx, h->cli.cert) ||
		    !SSL_CTX_use_PrivateKey(h->cctx, h->cli.key))
			return -EINVAL;
	}
	if (o->client_cert) {
		X509_STORE_add_cert(SSL_CTX_get_cert_store(h->sctx),
				    h->ca.cert);
		SSL_CTX_set_verify(h->sctx, SSL_VERIFY_PEER |
				   SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	}
	if (o->client_verifies) {
		X509_STORE_add_cert(SSL_CTX_get_cert_store(h->cctx),
				    h->ca.cert);
		SSL_CTX_set_verify(h->cctx, SSL_VERIFY_PEER, NULL);
	}
	h->s = SSL_new(h->sctx);
	h->c = SSL_new(h->cctx);
	if (!h->s || !h->c || !SSL_set_fd(h->s, h->sfd) ||
	    !SSL_set_fd(h->c, h->cfd))
		return -ENOMEM;
	SSL_set_accept_state(h->s);
	SSL_set_connect_state(h->c);
	if (o->no_prepare)
		return 0;
	ret = ktls_attest_prepare(h->s, &ko, &h->ks);
	if (ret)
		return ret;
	if (!(o->flags & KTLS_ATTEST_F_NO_MSG_CALLBACK)) {
		ko.msg_cb = app_msg;
		ko.msg_cb_arg = &h->app_msgs;
	}
	return ktls_attest_prepare(h->c, &ko, &h->kc);
}

/* Raw bytes waiting on @fd (the other end's records, unread by OpenSSL). */
static ssize_t raw_read(int fd, unsigned char *buf, size_t size)
{
	size_t got = 0;
	ssize_t n;

	while (got < size) {
		n = read(fd, buf + got, size - got);
		if (n <= 0)
			break;
		got += n;
	}
	return got;
}

/*
 * Opens every record in @buf with @c from sequence index 0 on; their
 * types in @types.  Returns the number of records, or -EBADMSG.
 */
static int open_all(const struct katt_crypto *c, const unsigned char *buf,
		    size_t len, uint8_t *types, unsigned char *last,
		    size_t *last_len)
{
	unsigned char out[16384 + 256];
	size_t off = 0, rlen, olen;
	int i = 0, ret;

	while (off + 5 <= len) {
		rlen = 5 + ((size_t)buf[off + 3] << 8 | buf[off + 4]);
		if (off + rlen > len)
			return -EMSGSIZE;
		ret = open_record(c, i, buf + off, rlen, out, &olen, &types[i]);
		if (ret)
			return ret;
		if (last) {
			memcpy(last, out, olen);
			*last_len = olen;
		}
		off += rlen;
		i++;
	}
	return i;
}

static uint64_t crypto_seq(const struct katt_crypto *c)
{
	const unsigned char *p = c->info.cipher_type == TLS_CIPHER_AES_GCM_128 ?
				 c->gcm128.rec_seq :
				 c->info.cipher_type == TLS_CIPHER_AES_GCM_256 ?
				 c->gcm256.rec_seq : c->chacha.rec_seq;
	uint64_t s;

	memcpy(&s, p, 8);
	return be64toh(s);
}

/* The same key and iv, whatever the first sequence number. */
static bool crypto_same_key(const struct katt_crypto *a,
			    const struct katt_crypto *b)
{
	if (a->info.cipher_type != b->info.cipher_type || a->len != b->len)
		return false;
	switch (a->info.cipher_type) {
	case TLS_CIPHER_AES_GCM_128:
		return !memcmp(a->gcm128.key, b->gcm128.key, 16) &&
		       !memcmp(a->gcm128.iv, b->gcm128.iv, 8) &&
		       !memcmp(a->gcm128.salt, b->gcm128.salt, 4);
	case TLS_CIPHER_AES_GCM_256:
		return !memcmp(a->gcm256.key, b->gcm256.key, 32) &&
		       !memcmp(a->gcm256.iv, b->gcm256.iv, 8) &&
		       !memcmp(a->gcm256.salt, b->gcm256.salt, 4);
	default:
		return !memcmp(a->chacha.key, b->chacha.key, 32) &&
		       !memcmp(a->chacha.iv, b->chacha.iv, 12);
	}
}

FIXTURE(handshake)
{
	struct hs h;
};

FIXTURE_VARIANT(handshake)
{
	const char *suites;
	int tickets;
	uint16_t cipher_type;
};

FIXTURE_VARIANT_ADD(handshake, aes128_tickets0)
{
	.suites = "TLS_AES_128_GCM_SHA256", .tickets = 0,
	.cipher_type = TLS_CIPHER_AES_GCM_128,
};

FIXTURE_VARIANT_ADD(handshake, aes128_tickets2)
{
	.suites = "TLS_AES_128_GCM_SHA256", .tickets = 2,
	.cipher_type = TLS_CIPHER_AES_GCM_128,
};

FIXTURE_VARIANT_ADD(handshake, aes256_tickets0)
{
	.suites = "TLS_AES_256_GCM_SHA384", .tickets = 0,
	.cipher_type = TLS_CIPHER_AES_GCM_256,
};

FIXTURE_VARIANT_ADD(handshake, aes256_tickets2)
{
	.suites = "TLS_AES_256_GCM_SHA384", .tickets = 2,
	.cipher_type = TLS_CIPHER_AES_GCM_256,
};

FIXTURE_VARIANT_ADD(handshake, chacha20_tickets0)
{
	.suites = "TLS_CHACHA20_POLY1305_SHA256", .tickets = 0,
	.cipher_type = TLS_CIPHER_CHACHA20_POLY1305,
};

FIXTURE_VARIANT_ADD(handshake, chacha20_tickets2)
{
	.suites = "TLS_CHACHA20_POLY1305_SHA256", .tickets = 2,
	.cipher_type = TLS_CIPHER_CHACHA20_POLY1305,
};

FIXTURE_VARIANT_ADD(handshake, aes128_tickets5)
{
	.suites = "TLS_AES_128_GCM_SHA256", .tickets = 5,
	.cipher_type = TLS_CIPHER_AES_GCM_128,
};

FIXTURE_SETUP(handshake)
{
	const struct hs_opts o = {
		.suites = variant->suites,
		.tickets = variant->tickets,
	};

	hs_app_keylog_lines = 0;
	ASSERT_EQ(0, hs_open(&self->h, &o))
		TH_LOG("%s", ktls_attest_strerror(NULL));
	ASSERT_EQ(0, hs_handshake(&self->h));
}

FIXTURE_TEARDOWN(handshake)
{
	hs_free(&self->h);
}

/*
 * The planned keys open what OpenSSL wrote after the handshake, at the
 * planned sequence numbers: the server's tickets then data, the client's
 * data; each end's receive key is the other's transmit key.
 */
TEST_F(handshake, plan_opens_openssl_records)
{
	static const char s2c[] = "from the server", c2s[] = "from the client";
	struct katt_crypto stx, srx, ctx, crx;
	unsigned char buf[65536], last[16384 + 256];
	uint8_t types[64];
	size_t last_len = 0;
	ssize_t n;
	int i, nrec;

	ASSERT_EQ(0, katt_move_plan(self->h.ks, &stx, &srx))
		TH_LOG("%s", ktls_attest_strerror(self->h.ks));
	ASSERT_EQ(0, katt_move_plan(self->h.kc, &ctx, &crx))
		TH_LOG("%s", ktls_attest_strerror(self->h.kc));
	EXPECT_EQ(variant->cipher_type, stx.info.cipher_type);
	EXPECT_EQ(variant->cipher_type, crx.info.cipher_type);
	/* the server wrote its tickets after its Finished */
	EXPECT_EQ((uint64_t)variant->tickets, crypto_seq(&stx));
	EXPECT_EQ(0, crypto_seq(&srx));
	EXPECT_EQ(0, crypto_seq(&ctx));
	EXPECT_EQ(0, crypto_seq(&crx));
	EXPECT_TRUE(crypto_same_key(&stx, &crx));
	EXPECT_TRUE(crypto_same_key(&ctx, &srx));
	EXPECT_FALSE(crypto_same_key(&stx, &ctx));
	/* the program's own callbacks still ran */
	EXPECT_LT(0, hs_app_keylog_lines);
	EXPECT_LT(0, self->h.app_msgs);

	/* server to client: the tickets, then the data (OpenSSL writes it) */
	ASSERT_EQ((int)sizeof(s2c), SSL_write(self->h.s, s2c, sizeof(s2c)));
	n = raw_read(self->h.cfd, buf, sizeof(buf));
	nrec = open_all(&crx, buf, n, types, last, &last_len);
	ASSERT_EQ(variant->tickets + 1, nrec)
		TH_LOG("the client's receive key opens %d records", nrec);
	for (i = 0; i < variant->tickets; i++)
		EXPECT_EQ(KATT_REC_HANDSHAKE, types[i]);
	EXPECT_EQ(KATT_REC_DATA, types[nrec - 1]);
	ASSERT_EQ(sizeof(s2c), last_len);
	EXPECT_EQ(0, memcmp(last, s2c, sizeof(s2c)));
	/* kTLS on the server would go on at the planned sequence number */
	EXPECT_EQ(0, open_record(&stx, 0, buf + n - (5 + sizeof(s2c) + 1 + 16),
				 5 + sizeof(s2c) + 1 + 16, last, &last_len,
				 &types[0]));

	/* client to server */
	ASSERT_EQ((int)sizeof(c2s), SSL_write(self->h.c, c2s, sizeof(c2s)));
	n = raw_read(self->h.sfd, buf, sizeof(buf));
	ASSERT_EQ(1, open_all(&srx, buf, n, types, last, &last_len));
	EXPECT_EQ(KATT_REC_DATA, types[0]);
	EXPECT_EQ(0, memcmp(last, c2s, sizeof(c2s)));
	EXPECT_EQ(1, open_all(&ctx, buf, n, types, last, &last_len));
	/* and the oracle is no pushover: the other direction's key fails */
	EXPECT_EQ(-EBADMSG, open_all(&stx, buf, n, types, last, &last_len));
}

/* After a plan is made the secrets are still there; move wipes them. */
TEST_F(handshake, secrets_from_keylog)
{
	EXPECT_NE(0, self->h.ks->tx_secret_len);
	EXPECT_NE(0, self->h.ks->rx_secret_len);
	EXPECT_EQ(self->h.ks->tx_secret_len, self->h.kc->rx_secret_len);
	EXPECT_EQ(0, memcmp(self->h.ks->tx_secret, self->h.kc->rx_secret,
			    self->h.ks->tx_secret_len));
	EXPECT_EQ(0, memcmp(self->h.ks->rx_secret, self->h.kc->tx_secret,
			    self->h.ks->rx_secret_len));
	EXPECT_FALSE(self->h.ks->keylog_mismatch);
	EXPECT_FALSE(self->h.ks->app_data);
	EXPECT_EQ((uint64_t)variant->tickets, self->h.ks->tx_records);
	EXPECT_EQ(0, self->h.kc->rx_records);
}

/* --- the keylog parser ------------------------------------------------------ */

TEST(keylog_lines)
{
	struct hs h;
	const struct hs_opts o = { .tickets = -1, .no_prepare = true };
	unsigned char cr[32];
	char hex[65], line[512];
	struct ktls_attest *ka;
	size_t i;

	ASSERT_EQ(0, hs_open(&h, &o));
	ASSERT_EQ(0, hs_handshake(&h));
	ka = calloc(1, sizeof(*ka));
	ASSERT_NE(NULL, ka);
	ASSERT_EQ(32, SSL_get_client_random(h.c, cr, sizeof(cr)));
	for (i = 0; i < 32; i++)
		sprintf(hex + 2 * i, "%02x", cr[i]);

	snprintf(line, sizeof(line), "CLIENT_TRAFFIC_SECRET_0 %s %s", hex,
		 rfc8448[RFC_CLIENT_APP].secret);
	katt_keylog_line(ka, h.c, line);
	snprintf(line, sizeof(line), "SERVER_TRAFFIC_SECRET_0 %s %s", hex,
		 rfc8448[RFC_SERVER_APP].secret);
	katt_keylog_line(ka, h.c, line);
	/* other labels are not traffic secrets of the move */
	snprintf(line, sizeof(line), "EXPORTER_SECRET %s %s", hex,
		 rfc8448[0].secret);
	katt_keylog_line(ka, h.c, line);
	EXPECT_FALSE(ka->keylog_mismatch);
	ASSERT_EQ(32, ka->tx_secret_len);
	ASSERT_EQ(32, ka->rx_secret_len);
	unhex(rfc8448[RFC_CLIENT_APP].secret, cr, sizeof(cr));
	EXPECT_EQ(0, memcmp(cr, ka->tx_secret, 32)) TH_LOG("client: tx is the client's");
	unhex(rfc8448[RFC_SERVER_APP].secret, cr, sizeof(cr));
	EXPECT_EQ(0, memcmp(cr, ka->rx_secret, 32));

	/* the server's view: the client's secret is what it reads */
	memset(ka, 0, sizeof(*ka));
	snprintf(line, sizeof(line), "CLIENT_TRAFFIC_SECRET_0 %s %s", hex,
		 rfc8448[RFC_CLIENT_APP].secret);
	katt_keylog_line(ka, h.s, line);
	unhex(rfc8448[RFC_CLIENT_APP].secret, cr, sizeof(cr));
	EXPECT_EQ(32, ka->rx_secret_len);
	EXPECT_EQ(0, memcmp(cr, ka->rx_secret, 32));
	EXPECT_EQ(0, ka->tx_secret_len);

	/* another connection's client random: noted, not taken */
	memset(ka, 0, sizeof(*ka));
	hex[0] = hex[0] == '0' ? '1' : '0';
	snprintf(line, sizeof(line), "CLIENT_TRAFFIC_SECRET_0 %s %s", hex,
		 rfc8448[RFC_CLIENT_APP].secret);
	katt_keylog_line(ka, h.c, line);
	EXPECT_TRUE(ka->keylog_mismatch);
	EXPECT_EQ(0, ka->tx_secret_len);
	/* malformed lines change nothing */
	memset(ka, 0, sizeof(*ka));
	katt_keylog_line(ka, h.c, "CLIENT_TRAFFIC_SECRET_0");
	katt_keylog_line(ka, h.c, "CLIENT_TRAFFIC_SECRET_0 00 11");
	katt_keylog_line(ka, h.c, "");
	EXPECT_EQ(0, ka->tx_secret_len);
	free(ka);
	hs_free(&h);
}

/* --- what the move refuses ---------------------------------------------------- */

static void expect_refused(struct __test_metadata *_metadata,
			   struct ktls_attest *ka, int err, const char *word)
{
	struct katt_crypto tx, rx;

	EXPECT_EQ(err, katt_move_plan(ka, &tx, &rx));
	EXPECT_NE(NULL, strstr(ktls_attest_strerror(ka), word))
		TH_LOG("message: %s", ktls_attest_strerror(ka));
	/* the same refusal from the real move, before touching the socket */
	EXPECT_EQ(err, ktls_attest_move(ka));
	EXPECT_FALSE(ktls_attest_moved(ka));
}

/* Still a working TLS connection through OpenSSL, both ways. */
static void expect_userspace_works(struct __test_metadata *_metadata,
				   struct hs *h)
{
	char buf[16];
	int n, i;

	ASSERT_EQ(5, SSL_write(h->s, "hello", 5));
	for (i = 0, n = -1; i < 100 && n <= 0; i++)
		n = SSL_read(h->c, buf, sizeof(buf));
	ASSERT_EQ(5, n);
	EXPECT_EQ(0, memcmp(buf, "hello", 5));
	ASSERT_EQ(3, SSL_write(h->c, "bye", 3));
	for (i = 0, n = -1; i < 100 && n <= 0; i++)
		n = SSL_read(h->s, buf, sizeof(buf));
	ASSERT_EQ(3, n);
}

TEST(refuse_tls12)
{
	const struct hs_opts o = { .tickets = -1, .tls12 = true };
	struct hs h;

	ASSERT_EQ(0, hs_open(&h, &o));
	ASSERT_EQ(0, hs_handshake(&h));
	ASSERT_EQ(TLS1_2_VERSION, SSL_version(h.c));
	expect_refused(_metadata, h.kc, -EPROTONOSUPPORT, "TLS 1.3");
	expect_refused(_metadata, h.ks, -EPROTONOSUPPORT, "TLSv1.2");
	expect_userspace_works(_metadata, &h);
	hs_free(&h);
}

TEST(refuse_unfinished)
{
	const struct hs_opts o = { .tickets = -1 };
	struct hs h;

	ASSERT_EQ(0, hs_open(&h, &o));
	SSL_do_handshake(h.c);
	expect_refused(_metadata, h.kc, -EINPROGRESS, "not finished");
	ASSERT_EQ(0, hs_handshake(&h));
	expect_userspace_works(_metadata, &h);
	hs_free(&h);
}

TEST(refuse_read_ahead)
{
	const struct hs_opts o = { .tickets = 0 };
	struct hs h;

	ASSERT_EQ(0, hs_open(&h, &o));
	SSL_set_read_ahead(h.s, 1);
	ASSERT_EQ(0, hs_handshake(&h));
	expect_refused(_metadata, h.ks, -EINVAL, "read-ahead");
	expect_userspace_works(_metadata, &h);
	hs_free(&h);
}

TEST(refuse_pending_and_read)
{
	const struct hs_opts o = { .tickets = 0 };
	struct hs h;
	char c;

	ASSERT_EQ(0, hs_open(&h, &o));
	ASSERT_EQ(0, hs_handshake(&h));
	ASSERT_EQ(4, SSL_write(h.c, "abcd", 4));
	/* one byte of a record read: three wait inside OpenSSL */
	ASSERT_EQ(1, SSL_read(h.s, &c, 1));
	expect_refused(_metadata, h.ks, -EBUSY, "holds bytes");
	ASSERT_EQ(3, SSL_read(h.s, &c + 0, 1) + SSL_read(h.s, &c, 1) +
		  SSL_read(h.s, &c, 1));
	/* nothing pending now, but data went through OpenSSL */
	expect_refused(_metadata, h.ks, -EBUSY, "application data");
	expect_refused(_metadata, h.kc, -EBUSY, "application data");
	expect_userspace_works(_metadata, &h);
	hs_free(&h);
}

TEST(refuse_after_key_update)
{
	const struct hs_opts o = { .tickets = 0 };
	struct hs h;
	char c;

	ASSERT_EQ(0, hs_open(&h, &o));
	ASSERT_EQ(0, hs_handshake(&h));
	ASSERT_EQ(1, SSL_key_update(h.s, SSL_KEY_UPDATE_NOT_REQUESTED));
	ASSERT_EQ(1, SSL_do_handshake(h.s));
	/* the client takes the KeyUpdate in; no data comes */
	EXPECT_GE(0, SSL_read(h.c, &c, 1));
	expect_refused(_metadata, h.ks, -EKEYEXPIRED, "KeyUpdate");
	expect_refused(_metadata, h.kc, -EKEYEXPIRED, "KeyUpdate");
	expect_userspace_works(_metadata, &h);
	hs_free(&h);
}

TEST(refuse_keylog_replaced)
{
	const struct hs_opts o = { .tickets = 0 };
	struct hs h;

	ASSERT_EQ(0, hs_open(&h, &o));
	SSL_CTX_set_keylog_callback(h.cctx, NULL);
	ASSERT_EQ(0, hs_handshake(&h));
	expect_refused(_metadata, h.kc, -ENOKEY, "keylog");
	expect_userspace_works(_metadata, &h);
	hs_free(&h);
}

TEST(refuse_msg_callback_replaced)
{
	const struct hs_opts o = { .tickets = 2 };
	struct hs h;

	ASSERT_EQ(0, hs_open(&h, &o));
	SSL_set_msg_callback(h.s, NULL);
	ASSERT_EQ(0, hs_handshake(&h));
	expect_refused(_metadata, h.ks, -ENOMSG, "message callback");
	expect_userspace_works(_metadata, &h);
	hs_free(&h);
}

TEST(prepare_errors)
{
	const struct hs_opts o = { .tickets = 0 };
	struct ktls_attest_opts ko = {
		.mode = KTLS_ATTEST_MODE_GATED,
		.flags = KTLS_ATTEST_F_OPENSSL_KTLS,
	};
	struct ktls_attest *ka = (void *)1;
	struct hs h;
	SSL *mem;

	ASSERT_EQ(0, hs_open(&h, &o));
	/* twice */
	EXPECT_EQ(-EALREADY, ktls_attest_prepare(h.s, &ko, &ka));
	EXPECT_EQ(NULL, ka);
	/* unknown mode and flags; bound without the message callback */
	ko.mode = 7;
	EXPECT_EQ(-EINVAL, ktls_attest_prepare(h.s, &ko, &ka));
	ko.mode = KTLS_ATTEST_MODE_GATED;
	ko.flags = 0x100;
	EXPECT_EQ(-EINVAL, ktls_attest_prepare(h.s, &ko, &ka));
	ko.mode = KTLS_ATTEST_MODE_BOUND;
	ko.flags = KTLS_ATTEST_F_NO_MSG_CALLBACK;
	EXPECT_EQ(-EINVAL, ktls_attest_prepare(h.s, &ko, &ka));
	EXPECT_NE(NULL, strstr(ktls_attest_strerror(NULL), "message callback"));
	/* a memory BIO is no socket for kTLS */
	mem = SSL_new(h.cctx);
	ASSERT_NE(NULL, mem);
	SSL_set_bio(mem, BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));
	ko.mode = KTLS_ATTEST_MODE_GATED;
	ko.flags = KTLS_ATTEST_F_OPENSSL_KTLS;
	EXPECT_EQ(-EBADF, ktls_attest_prepare(mem, &ko, &ka));
	/* ... but fine for userspace only */
	ko.mode = KTLS_ATTEST_MODE_USERSPACE;
	EXPECT_EQ(0, ktls_attest_prepare(mem, &ko, &ka));
	EXPECT_EQ(0, ktls_attest_move(ka));
	EXPECT_FALSE(ktls_attest_moved(ka));
	SSL_free(mem);
	/* after the handshake began */
	ASSERT_EQ(0, hs_handshake(&h));
	mem = SSL_new(h.cctx);
	SSL_set_fd(mem, h.cfd);
	SSL_set_connect_state(mem);
	SSL_do_handshake(mem);
	ko.mode = KTLS_ATTEST_MODE_GATED;
	EXPECT_EQ(-EALREADY, ktls_attest_prepare(mem, &ko, &ka));
	SSL_free(mem);
	hs_free(&h);
}

/* Without the message callback: tickets off, sequence numbers 0. */
TEST(no_msg_callback)
{
	const struct hs_opts o = { .tickets = 2, .no_prepare = true };
	struct ktls_attest_opts ko = {
		.mode = KTLS_ATTEST_MODE_GATED,
		.flags = KTLS_ATTEST_F_NO_MSG_CALLBACK |
			 KTLS_ATTEST_F_OPENSSL_KTLS,
	};
	struct katt_crypto stx, srx, crx, ctx;
	unsigned char buf[4096], last[256];
	uint8_t types[8];
	size_t last_len;
	ssize_t n;
	struct hs h;

	ASSERT_EQ(0, hs_open(&h, &o));
	/* the program's own callback, set before prepare: left alone */
	SSL_set_msg_callback(h.c, app_msg);
	SSL_set_msg_callback_arg(h.c, &h.app_msgs);
	ASSERT_EQ(0, ktls_attest_prepare(h.s, &ko, &h.ks));
	ASSERT_EQ(0, ktls_attest_prepare(h.c, &ko, &h.kc));
	ASSERT_EQ(0, hs_handshake(&h));
	EXPECT_LT(0, h.app_msgs) TH_LOG("app_msgs %d", h.app_msgs);
	EXPECT_EQ(0, SSL_get_num_tickets(h.s));
	ASSERT_EQ(0, katt_move_plan(h.ks, &stx, &srx))
		TH_LOG("%s", ktls_attest_strerror(h.ks));
	ASSERT_EQ(0, katt_move_plan(h.kc, &ctx, &crx));
	EXPECT_EQ(0, crypto_seq(&stx));
	ASSERT_EQ(2, SSL_write(h.s, "ok", 2));
	n = raw_read(h.cfd, buf, sizeof(buf));
	EXPECT_EQ(1, open_all(&crx, buf, n, types, last, &last_len));
	EXPECT_EQ(KATT_REC_DATA, types[0]);
	hs_free(&h);
}

/* --- the binding ---------------------------------------------------------------- */

struct bind_case {
	struct hs_opts o;
	uint32_t server_flags, client_flags;
};

static void check_binding(struct __test_metadata *_metadata,
			  const struct bind_case *bc)
{
	struct ktls_attest_binding bs, bcl;
	unsigned char want[32], srv_key[32], cli_key[32];
	struct hs h;

	ASSERT_EQ(0, hs_open(&h, &bc->o));
	ASSERT_EQ(0, hs_handshake(&h));
	ASSERT_EQ(0, katt_binding_make(h.ks, &bs))
		TH_LOG("%s", ktls_attest_strerror(h.ks));
	ASSERT_EQ(0, katt_binding_make(h.kc, &bcl));
	EXPECT_EQ(bc->server_flags, bs.flags);
	EXPECT_EQ(bc->client_flags, bcl.flags);
	/* one exporter, as OpenSSL computes it at either end */
	EXPECT_EQ(0, memcmp(bs.exporter, bcl.exporter, 32));
	ASSERT_EQ(1, SSL_export_keying_material(h.c, want, 32,
						"EXPORTER-ktls-attest", 20,
						NULL, 0, 0));
	EXPECT_EQ(0, memcmp(want, bs.exporter, 32));
	EXPECT_EQ(0, bs.reserved);
	/* key hashes: each end's local is the other's peer, or zero */
	katt_spki_sha256(h.srv.cert, srv_key);
	katt_spki_sha256(h.cli.cert, cli_key);
	EXPECT_EQ(0, memcmp(bs.local_key_sha256, srv_key, 32));
	EXPECT_EQ(0, memcmp(bcl.peer_key_sha256, srv_key, 32));
	memset(want, 0, 32);
	if (bc->server_flags & KTLS_ATTEST_BINDING_PEER_KEY) {
		EXPECT_EQ(0, memcmp(bs.peer_key_sha256, cli_key, 32));
		EXPECT_EQ(0, memcmp(bcl.local_key_sha256, cli_key, 32));
	} else {
		EXPECT_EQ(0, memcmp(bs.peer_key_sha256, want, 32));
		EXPECT_EQ(0, memcmp(bcl.local_key_sha256, want, 32));
	}
	hs_free(&h);
}

#define L KTLS_ATTEST_BINDING_LOCAL_KEY
#define P KTLS_ATTEST_BINDING_PEER_KEY
#define V KTLS_ATTEST_BINDING_PEER_VERIFIED
#define S KTLS_ATTEST_BINDING_TLS_SERVER

TEST(binding_server_cert_only)
{
	const struct bind_case bc = {
		.o = { .tickets = 2, .mode = KTLS_ATTEST_MODE_BOUND },
		.server_flags = L | S, .client_flags = P,
	};

	check_binding(_metadata, &bc);
}

TEST(binding_client_verifies)
{
	const struct bind_case bc = {
		.o = { .tickets = 0, .client_verifies = true,
		       .mode = KTLS_ATTEST_MODE_BOUND },
		.server_flags = L | S, .client_flags = P | V,
	};

	check_binding(_metadata, &bc);
}

TEST(binding_mutual_tls)
{
	const struct bind_case bc = {
		.o = { .tickets = 2, .client_verifies = true,
		       .client_cert = true, .mode = KTLS_ATTEST_MODE_BOUND },
		.server_flags = L | P | V | S, .client_flags = L | P | V,
	};

	check_binding(_metadata, &bc);
}

/* A client certificate nobody asked for is not the client's key. */
TEST(binding_unsent_client_cert)
{
	const struct bind_case bc = {
		.o = { .tickets = 0, .client_cert_unasked = true,
		       .mode = KTLS_ATTEST_MODE_BOUND },
		.server_flags = L | S, .client_flags = P,
	};

	check_binding(_metadata, &bc);
}

TEST_HARNESS_MAIN
