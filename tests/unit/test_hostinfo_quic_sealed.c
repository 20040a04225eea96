/*
 * hostinfo_quic: Initials sealed here, with keys derived through OpenSSL's
 * own HKDF (EVP_KDF), so the module's HMAC-based derivation is checked
 * against an independent one; and Google QUIC CHLOs built here.  The real
 * captured Initials are in test_hostinfo_quic_captures.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cafeguard/hostinfo_quic.h"
#include "quic_testutil.h"

/* ---- an independent Initial sealer (RFC 9001 5, A.2) ---- */

struct ver {
	uint32_t v;
	uint8_t salt[20];
	const char *prefix; /* "quic" or "quicv2" */
	uint8_t itype;	    /* Initial type bits */
};

static const struct ver V1 = {0x00000001,
			      {0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34,
			       0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8,
			       0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a},
			      "quic",
			      0};
static const struct ver V2 = {0x6b3343cf,
			      {0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6,
			       0xdb, 0x81, 0x93, 0x81, 0xbe, 0x6e, 0x26,
			       0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9},
			      "quicv2",
			      1};
static const uint8_t SALT29[20] = {0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2,
				   0x4c, 0x9e, 0x97, 0x86, 0xf1, 0x9c, 0x61,
				   0x11, 0xe0, 0x43, 0x90, 0xa8, 0x99};
static const uint8_t SALT23[20] = {0xc3, 0xee, 0xf7, 0x12, 0xc7, 0x2e, 0xbb,
				   0x5a, 0x11, 0xa7, 0xd2, 0x43, 0x2b, 0xb4,
				   0x63, 0x65, 0xbe, 0xf9, 0xf5, 0x02};

static struct ver draft(uint32_t n, const uint8_t *salt)
{
	struct ver v = {0xff000000u | n, {0}, "quic", 0};
	memcpy(v.salt, salt, 20);
	return v;
}

struct keys {
	uint8_t key[16], iv[12], hp[16];
};

static void hkdf(int mode, const uint8_t *salt, size_t sl, const uint8_t *key,
		 size_t kl, const uint8_t *info, size_t il, uint8_t *out,
		 size_t ol)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *c = EVP_KDF_CTX_new(kdf);
	OSSL_PARAM ps[6], *p = ps;
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
						(char *)"SHA256", 0);
	*p++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
						 (void *)key, kl);
	if (salt)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
							 (void *)salt, sl);
	if (info)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
							 (void *)info, il);
	*p = OSSL_PARAM_construct_end();
	assert_int_equal(EVP_KDF_derive(c, out, ol, ps), 1);
	EVP_KDF_CTX_free(c);
	EVP_KDF_free(kdf);
}

static void label(const uint8_t *secret, const char *l, uint8_t *out, size_t ol)
{
	uint8_t info[64];
	size_t n = 0, ll = strlen(l);
	info[n++] = 0;
	info[n++] = (uint8_t)ol;
	info[n++] = (uint8_t)(6 + ll);
	memcpy(info + n, "tls13 ", 6);
	memcpy(info + n + 6, l, ll);
	n += 6 + ll;
	info[n++] = 0;
	hkdf(EVP_KDF_HKDF_MODE_EXPAND_ONLY, NULL, 0, secret, 32, info, n, out,
	     ol);
}

static struct keys keys_for(const struct ver *v, const uint8_t *dcid, size_t dl)
{
	uint8_t prk[32], client[32];
	struct keys k;
	char l[32];
	hkdf(EVP_KDF_HKDF_MODE_EXTRACT_ONLY, v->salt, 20, dcid, dl, NULL, 0,
	     prk, 32);
	label(prk, "client in", client, 32);
	snprintf(l, sizeof(l), "%s key", v->prefix);
	label(client, l, k.key, 16);
	snprintf(l, sizeof(l), "%s iv", v->prefix);
	label(client, l, k.iv, 12);
	snprintf(l, sizeof(l), "%s hp", v->prefix);
	label(client, l, k.hp, 16);
	return k;
}

static size_t put_varint(uint8_t *o, uint64_t v)
{
	if (v < 64) {
		o[0] = (uint8_t)v;
		return 1;
	}
	if (v < 16384) {
		o[0] = (uint8_t)(0x40 | (v >> 8));
		o[1] = (uint8_t)v;
		return 2;
	}
	for (int i = 0; i < 4; i++)
		o[i] = (uint8_t)(v >> (24 - 8 * i));
	o[0] |= 0x80;
	return 4;
}

static size_t crypto_frame(uint8_t *o, uint64_t off, const uint8_t *d, size_t n)
{
	/* Every caller's frame buffer is 4096 bytes; saying so also keeps
	 * gcc -O3's bounds analysis from guessing larger ClientHellos. */
	if (n > 4000)
		abort();
	size_t l = 0;
	o[l++] = 0x06;
	l += put_varint(o + l, off);
	l += put_varint(o + l, n);
	memcpy(o + l, d, n);
	return l + n;
}

struct pkt {
	const struct ver *v;
	uint8_t type; /* long header type bits */
	const uint8_t *dcid;
	size_t dl;
	struct keys k;
	uint64_t pn;
	size_t pn_len;
	size_t pad_to; /* payload padded with PADDING to this size */
};

/* Seals one long-header packet; returns its length. */
static size_t seal(uint8_t *o, const struct pkt *pk, const uint8_t *frames,
		   size_t fl)
{
	static const uint8_t scid[] = {0x5c, 0x1d};
	size_t n = 0;
	o[n++] = (uint8_t)(0xc0 | (pk->type << 4) | (int)(pk->pn_len - 1));
	for (int i = 0; i < 4; i++)
		o[n++] = (uint8_t)(pk->v->v >> (24 - 8 * i));
	o[n++] = (uint8_t)pk->dl;
	memcpy(o + n, pk->dcid, pk->dl);
	n += pk->dl;
	o[n++] = sizeof(scid);
	memcpy(o + n, scid, sizeof(scid));
	n += sizeof(scid);
	if (pk->type == pk->v->itype)
		o[n++] = 0; /* no token */
	uint8_t plain[4096];
	size_t pl = fl;
	memcpy(plain, frames, fl);
	size_t min = pk->pad_to > 4 ? pk->pad_to : 4; /* room for a sample */
	while (pl < min)
		plain[pl++] = 0;
	size_t len = pk->pn_len + pl + 16;
	o[n++] = (uint8_t)(0x40 | (len >> 8));
	o[n++] = (uint8_t)len;
	size_t pn_off = n;
	for (size_t i = 0; i < pk->pn_len; i++)
		o[n++] = (uint8_t)(pk->pn >> (8 * (pk->pn_len - 1 - i)));
	uint8_t nonce[12];
	memcpy(nonce, pk->k.iv, 12);
	for (int i = 0; i < 8; i++)
		nonce[11 - i] ^= (uint8_t)(pk->pn >> (8 * i));
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int ol = 0;
	assert_int_equal(
	    EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), NULL, pk->k.key, nonce),
	    1);
	EVP_EncryptUpdate(c, NULL, &ol, o, (int)n);
	EVP_EncryptUpdate(c, o + n, &ol, plain, (int)pl);
	EVP_EncryptFinal_ex(c, o + n + ol, &ol);
	EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, o + n + pl);
	EVP_CIPHER_CTX_free(c);
	n += pl + 16;
	/* header protection */
	uint8_t mask[32];
	c = EVP_CIPHER_CTX_new();
	EVP_EncryptInit_ex(c, EVP_aes_128_ecb(), NULL, pk->k.hp, NULL);
	EVP_EncryptUpdate(c, mask, &ol, o + pn_off + 4, 16);
	EVP_CIPHER_CTX_free(c);
	o[0] ^= mask[0] & 0x0f;
	for (size_t i = 0; i < pk->pn_len; i++)
		o[pn_off + i] ^= mask[1 + i];
	return n;
}

/* ---- fixtures ---- */

/* The TLS 1.3 ClientHello of tls_1.3_unidirectional_client.pcapng
 * (www.google.com), handshake bytes only, as QUIC carries it. */
static uint8_t ch[1024];
static size_t chn;
static const uint8_t DCID[8] = {0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08};

static int setup(void **state)
{
	int rc = quic_setup(state);
	struct blob bl = load("tls13-ch.bin");
	chn = bl.n - 5;
	memcpy(ch, bl.b + 5, chn);
	free(bl.b);
	return rc;
}

/* ---- sealed here ---- */

static size_t frames_of(uint8_t *o, size_t from, size_t to)
{
	return crypto_frame(o, from, ch + from, to - from);
}

/* Chrome-style: the ClientHello cut in pieces, shuffled, with PING and
 * PADDING between, in one packet. */
static void shuffled_crypto_frames(void **state)
{
	(void)state;
	uint8_t f[2048], d[2048];
	size_t n = 0;
	n += frames_of(f + n, 300, chn);
	f[n++] = 0x01; /* PING */
	f[n++] = 0x00;
	f[n++] = 0x00;
	n += frames_of(f + n, 0, 30);
	n += frames_of(f + n, 125, 300); /* the name is at 120..134 */
	f[n++] = 0x01;
	n += frames_of(f + n, 30, 125);
	struct pkt pk = {&V1, 0, DCID, 8, keys_for(&V1, DCID, 8), 0, 4, 1200};
	size_t dn = seal(d, &pk, f, n);
	char sni[CG_NAME_BUF];
	fresh();
	assert_int_equal(feed(d, dn, sni), CG_QUIC_SNI);
	assert_string_equal(sni, "www.google.com");
}

/* Pieces in three Initials, arriving last first; a 1-byte packet number
 * that only decodes right against the previous one (RFC 9000 A.3). */
static void pieces_over_initials(void **state)
{
	(void)state;
	uint8_t f[2048], d[2048];
	char sni[CG_NAME_BUF];
	struct pkt pk = {&V1, 0, DCID, 8, keys_for(&V1, DCID, 8), 299, 2, 0};
	fresh();
	size_t n = frames_of(f, 400, chn);
	size_t dn = seal(d, &pk, f, n);
	assert_int_equal(feed(d, dn, sni), CG_QUIC_NEED_MORE);
	assert_int_equal(asm_.next_pn, 300);
	pk.pn = 300;
	pk.pn_len = 1;
	n = frames_of(f, 100, 400);
	dn = seal(d, &pk, f, n);
	assert_int_equal(feed(d, dn, sni), CG_QUIC_NEED_MORE);
	assert_int_equal(asm_.next_pn, 301);
	/* A later Initial with the server's CID, first keys. */
	static const uint8_t srv[] = {1, 2, 3, 4, 5};
	pk.dcid = srv;
	pk.dl = sizeof(srv);
	pk.pn = 301;
	n = frames_of(f, 0, 100);
	dn = seal(d, &pk, f, n);
	assert_int_equal(feed(d, dn, sni), CG_QUIC_SNI);
	assert_string_equal(sni, "www.google.com");
	assert_memory_equal(asm_.dcid, DCID, 8);
}

/* RFC 9000 12.2: coalesced packets in one datagram. */
static void coalesced_packets(void **state)
{
	(void)state;
	uint8_t f[2048], d[4096];
	char sni[CG_NAME_BUF];
	struct pkt pk = {&V1, 0, DCID, 8, keys_for(&V1, DCID, 8), 0, 1, 0};
	/* Initial (first half) + 0-RTT (skipped by its Length) + Initial
	 * (second half), then zero padding after the last packet. */
	size_t dn = seal(d, &pk, f, frames_of(f, 0, 250));
	struct pkt zr = pk;
	zr.type = 1;
	zr.pn = 0;
	dn += seal(d + dn, &zr, (const uint8_t *)"\x08\x00hi", 4);
	pk.pn = 1;
	dn += seal(d + dn, &pk, f, frames_of(f, 250, chn));
	memset(d + dn, 0, 100);
	dn += 100;
	fresh();
	assert_int_equal(feed(d, dn, sni), CG_QUIC_SNI);
	assert_string_equal(sni, "www.google.com");
	/* A datagram with only a 0-RTT packet is not an Initial. */
	fresh();
	size_t zn = seal(d, &zr, (const uint8_t *)"\x08\x00hi", 4);
	assert_int_equal(feed(d, zn, sni), CG_QUIC_NOT_QUIC);
}

static void versions_and_drafts(void **state)
{
	(void)state;
	uint8_t f[2048], d[2048];
	char sni[CG_NAME_BUF];
	struct ver vs[] = {
	    V1,
	    V2,
	    draft(27, SALT23),
	    draft(28, SALT23),
	    draft(29, SALT29),
	    draft(32, SALT29),
	    draft(33, V1.salt),
	    draft(34, V1.salt),
	};
	size_t n = frames_of(f, 0, chn);
	for (size_t i = 0; i < sizeof(vs) / sizeof(vs[0]); i++) {
		struct pkt pk = {
		    &vs[i], vs[i].itype, DCID, 8, keys_for(&vs[i], DCID, 8),
		    0,	    2,		 1200};
		size_t dn = seal(d, &pk, f, n);
		fresh();
		assert_int_equal(feed(d, dn, sni), CG_QUIC_SNI);
		assert_string_equal(sni, "www.google.com");
		assert_int_equal(asm_.version, vs[i].v);
		/* The other long-header types are not Initials; v2 moved
		 * Retry to 0b00 (RFC 9369 3.2). */
		for (uint8_t t = 0; t < 4; t++) {
			if (t == vs[i].itype)
				continue;
			pk.type = t;
			dn = seal(d, &pk, f, n);
			fresh();
			assert_int_equal(feed(d, dn, sni), CG_QUIC_NOT_QUIC);
		}
	}
	/* Drafts outside 27-34 and other versions are unsupported. */
	struct ver d26 = draft(26, SALT23), grease = V1;
	grease.v = 0x1a2a3a4a;
	struct pkt pk = {&d26, 0, DCID, 8, keys_for(&d26, DCID, 8), 0, 2, 1200};
	size_t dn = seal(d, &pk, f, n);
	fresh();
	assert_int_equal(feed(d, dn, sni), CG_QUIC_UNSUPPORTED);
	assert_string_equal(sni, "");
	/* A greased version sealed with v1 keys: the name, for logs. */
	pk.v = &grease;
	pk.k = keys_for(&V1, DCID, 8);
	dn = seal(d, &pk, f, n);
	fresh();
	assert_int_equal(feed(d, dn, sni), CG_QUIC_UNSUPPORTED);
	assert_string_equal(sni, "www.google.com");
	assert_false(asm_.keyed);
}

/* Compatible version negotiation (RFC 9368): the client goes on in v2
 * with keys from the original DCID. */
static void version_switch_keeps_dcid(void **state)
{
	(void)state;
	uint8_t f[2048], d[2048];
	char sni[CG_NAME_BUF];
	struct pkt pk = {&V1, 0, DCID, 8, keys_for(&V1, DCID, 8), 0, 1, 0};
	fresh();
	size_t dn = seal(d, &pk, f, frames_of(f, 0, 100));
	assert_int_equal(feed(d, dn, sni), CG_QUIC_NEED_MORE);
	static const uint8_t srv[] = {9, 9, 9, 9};
	struct pkt p2 = {&V2, 1, srv, 4, keys_for(&V2, DCID, 8), 1, 1, 0};
	dn = seal(d, &p2, f, frames_of(f, 100, chn));
	assert_int_equal(feed(d, dn, sni), CG_QUIC_SNI);
	assert_int_equal(asm_.version, V2.v);
	assert_memory_equal(asm_.dcid, DCID, 8);
}

/* A client that starts over with a new DCID: its own keys, and the
 * CRYPTO stream restarts. */
static void new_attempt_rekeys(void **state)
{
	(void)state;
	uint8_t f[2048], d[2048];
	char sni[CG_NAME_BUF];
	struct pkt pk = {&V1, 0, DCID, 8, keys_for(&V1, DCID, 8), 0, 1, 0};
	fresh();
	/* bytes 0..300 of a different message under the first keys */
	uint8_t junk[300];
	memset(junk, 0x42, sizeof(junk));
	size_t dn = seal(d, &pk, f, crypto_frame(f, 0, junk, sizeof(junk)));
	assert_int_equal(feed(d, dn, sni), CG_QUIC_NOT_QUIC);
	static const uint8_t nd[] = {7, 6, 5, 4, 3, 2, 1, 0, 1};
	struct pkt p2 = {&V1, 0, nd, sizeof(nd), keys_for(&V1, nd, sizeof(nd)),
			 0,   1, 0};
	dn = seal(d, &p2, f, frames_of(f, 0, chn));
	assert_int_equal(feed(d, dn, sni), CG_QUIC_SNI);
	assert_string_equal(sni, "www.google.com");
	assert_int_equal(asm_.dcid_len, sizeof(nd));
}

static void frame_walk(void **state)
{
	(void)state;
	uint8_t f[4096], d[4096];
	char sni[CG_NAME_BUF];
	struct pkt pk = {&V1, 0, DCID, 8, keys_for(&V1, DCID, 8), 0, 1, 0};
	size_t n = 0;
	/* ACK with two ranges, ACK_ECN, CONNECTION_CLOSE, NEW_TOKEN,
	 * MAX_DATA, NEW_CONNECTION_ID, PATH_CHALLENGE, STREAM with length:
	 * all skipped, then the CRYPTO frame is read. */
	static const uint8_t skip[] = {
	    0x02, 0x05, 0x00, 0x01, 0x00, 0x01, 0x00,	    /* ACK */
	    0x03, 0x05, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03, /* ACK_ECN */
	    0x1c, 0x00, 0x06, 0x02, 'o',  'k',		    /* CLOSE */
	    0x1d, 0x00, 0x00,				    /* CLOSE app */
	    0x07, 0x03, 't',  'o',  'k',		    /* NEW_TOKEN */
	    0x10, 0x44, 0x00,				    /* MAX_DATA */
	    0x18, 0x01, 0x00, 0x02, 0xaa, 0xbb, 0,    0,    0, 0, 0, 0,
	    0,	  0,	0,    0,    0,	  0,	0,    0,    0, 0, /* NEW_CID */
	    0x1a, 1,	2,    3,    4,	  5,	6,    7,    8, /* PATH_CHALLENGE
								*/
	    0x0e, 0x04, 0x00, 0x02, 'h',  'i',	      /* STREAM+OFF+LEN */
	    0x04, 0x01, 0x02, 0x03, 0x05, 0x01, 0x02, /* RESET, STOP */
	    0x1e,				      /* HANDSHAKE_DONE */
	};
	memcpy(f, skip, sizeof(skip));
	n = sizeof(skip);
	n += frames_of(f + n, 0, chn);
	size_t dn = seal(d, &pk, f, n);
	fresh();
	assert_int_equal(feed(d, dn, sni), CG_QUIC_SNI);

	/* An unknown frame type stops the walk: the CRYPTO after it is
	 * not read. */
	n = 0;
	f[n++] = 0x40;
	f[n++] = 0x21; /* frame type 0x21, two-byte varint */
	n += frames_of(f + n, 0, chn);
	dn = seal(d, &pk, f, n);
	fresh();
	assert_int_equal(feed(d, dn, sni), CG_QUIC_NEED_MORE);
	/* So does a STREAM frame without a length, and truncated ones. */
	static const uint8_t stops[][4] = {
	    {0x08, 0x00, 'x', 'y'},   /* STREAM to the end */
	    {0x06, 0x00, 0x7f, 0x00}, /* CRYPTO longer than the packet */
	    {0x02, 0x00, 0x00, 0x3f}, /* ACK with 63 ranges, no room */
	    {0x18, 0x00, 0x00, 0x15}, /* NEW_CID with a 21-byte CID */
	};
	for (size_t i = 0; i < 4; i++) {
		n = 0;
		memcpy(f, stops[i], 4);
		n = 4;
		dn = seal(d, &pk, f, n);
		fresh();
		assert_int_equal(feed(d, dn, sni), CG_QUIC_NEED_MORE);
	}
	/* CRYPTO beyond the assembly is ignored; huge offsets too. */
	n = crypto_frame(f, CG_QUIC_CRYPTO_MAX, ch, 10);
	n += crypto_frame(f + n, ((uint64_t)1 << 30) - 1, ch, 10);
	n += frames_of(f + n, 0, chn);
	dn = seal(d, &pk, f, n);
	fresh();
	assert_int_equal(feed(d, dn, sni), CG_QUIC_SNI);
	/* Overlapping data: the first copy of a byte wins. */
	uint8_t other[1024];
	memcpy(other, ch, chn);
	uint8_t *g = memmem(other, chn, "www.google.com", 14);
	assert_non_null(g);
	memcpy(g, "www.evil.exam", 13);
	n = frames_of(f, 0, chn);
	n += crypto_frame(f + n, 0, other, chn);
	dn = seal(d, &pk, f, n);
	fresh();
	assert_int_equal(feed(d, dn, sni), CG_QUIC_SNI);
	assert_string_equal(sni, "www.google.com");
}

/* What the ClientHello says, as QUIC results. */
static void client_hello_results(void **state)
{
	(void)state;
	uint8_t f[4096], d[4096], m[1024];
	char sni[CG_NAME_BUF];
	struct pkt pk = {&V1, 0, DCID, 8, keys_for(&V1, DCID, 8), 0, 1, 0};
	/* SNI that is an address */
	memcpy(m, ch, chn);
	uint8_t *g = memmem(m, chn, "www.google.com", 14);
	memcpy(g, "::ffff:1.2.3.4", 14);
	size_t dn = seal(d, &pk, f, crypto_frame(f, 0, m, chn));
	fresh();
	assert_int_equal(feed(d, dn, sni), CG_QUIC_BAD_SNI);
	assert_string_equal(sni, "");
	/* Not a ClientHello (a ServerHello type) */
	memcpy(m, ch, chn);
	m[0] = 2;
	dn = seal(d, &pk, f, crypto_frame(f, 0, m, chn));
	fresh();
	assert_int_equal(feed(d, dn, sni), CG_QUIC_NOT_QUIC);
	/* A ClientHello longer than the assembly with the name beyond it */
	uint8_t small[100];
	cg_quic_assembly_reset(&asm_, small, sizeof(small));
	dn = seal(d, &pk, f, frames_of(f, 0, chn));
	size_t snilen;
	assert_int_equal(
	    cg_quic_client_initial(ctx, d, dn, &asm_, sni, &snilen),
	    CG_QUIC_NO_SNI);
	/* No buffer at all: nothing to reassemble into. */
	cg_quic_assembly_reset(&asm_, NULL, 0);
	assert_int_equal(
	    cg_quic_client_initial(ctx, d, dn, &asm_, sni, &snilen),
	    CG_QUIC_NEED_MORE);
}

static void not_quic(void **state)
{
	(void)state;
	char sni[CG_NAME_BUF];
	uint8_t d[2048];
	fresh();
	assert_int_equal(feed(d, 0, sni), CG_QUIC_NOT_QUIC);
	static const uint8_t shorthdr[] = {0x43, 1, 2, 3, 4, 5, 6, 7, 8, 9};
	assert_int_equal(feed(shorthdr, sizeof(shorthdr), sni),
			 CG_QUIC_NOT_QUIC);
	assert_false(cg_quic_looks_like_initial(shorthdr, sizeof(shorthdr)));
	static const uint8_t nofixed[] = {0x80, 0, 0, 0, 1, 8, 1, 2,	3,
					  4,	5, 6, 7, 8, 0, 0, 0x41, 0};
	assert_int_equal(feed(nofixed, sizeof(nofixed), sni), CG_QUIC_NOT_QUIC);
	assert_false(cg_quic_looks_like_initial(nofixed, sizeof(nofixed)));
	static const uint8_t tiny[] = {0xc0, 0, 0};
	assert_int_equal(feed(tiny, sizeof(tiny), sni), CG_QUIC_NOT_QUIC);
	assert_false(cg_quic_looks_like_initial(tiny, sizeof(tiny)));
	/* DCID longer than 20 bytes, Length past the datagram */
	uint8_t f[64];
	struct pkt pk = {&V1, 0, DCID, 8, keys_for(&V1, DCID, 8), 0, 1, 0};
	size_t dn = seal(d, &pk, f, frames_of(f, 0, 20));
	d[5] = 21;
	assert_int_equal(feed(d, dn, sni), CG_QUIC_NOT_QUIC);
	dn = seal(d, &pk, f, frames_of(f, 0, 20));
	assert_int_equal(feed(d, dn - 1, sni), CG_QUIC_NOT_QUIC);
	/* Too short for the header protection sample */
	uint8_t s[64];
	memcpy(s, d, 30);
	s[18] = 0x40; /* Length: 10, the packet ends at byte 30 */
	s[19] = 10;
	assert_int_equal(feed(s, 30, sni), CG_QUIC_UNDECRYPTABLE);
	/* Version Negotiation whatever its fixed bit */
	static const uint8_t vn[] = {0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	assert_int_equal(feed(vn, sizeof(vn), sni), CG_QUIC_UNSUPPORTED);
}

/* Google QUIC Q043 (public header) and Q046 (long header), plaintext. */
static size_t chlo(uint8_t *o, const char *sni, bool truncate_table)
{
	size_t n = 0, sl = sni ? strlen(sni) : 0;
	memcpy(o, "CHLO", 4);
	n = 4;
	o[n++] = sni ? 3 : 2;
	o[n++] = 0;
	o[n++] = 0;
	o[n++] = 0;
	uint32_t end = 0;
	memcpy(o + n, "PAD\0", 4);
	end += 20;
	memcpy(o + n + 4, &end, 4); /* little endian on the test host */
	n += 8;
	if (sni) {
		memcpy(o + n, "SNI\0", 4);
		end += (uint32_t)sl;
		memcpy(o + n + 4, &end, 4);
		n += 8;
	}
	memcpy(o + n, "VER\0", 4);
	end += 4;
	memcpy(o + n + 4, &end, 4);
	n += 8;
	if (truncate_table)
		return n - 4;
	memset(o + n, '-', 20);
	n += 20;
	if (sl)
		memcpy(o + n, sni, sl);
	n += sl;
	memcpy(o + n, "Q043", 4);
	return n + 4;
}

static size_t q043(uint8_t *o, uint8_t stream, const uint8_t *m, size_t ml)
{
	static const uint8_t hdr[] = {0x09, 1, 2,   3,	 4,   5,   6,
				      7,    8, 'Q', '0', '4', '3', 1};
	size_t n = sizeof(hdr);
	memcpy(o, hdr, n);
	memset(o + n, 0xee, 12); /* message authentication hash */
	n += 12;
	o[n++] = 0x07; /* PING */
	o[n++] = 0xa0; /* STREAM, data length, 1-byte id */
	o[n++] = stream;
	o[n++] = (uint8_t)(ml >> 8);
	o[n++] = (uint8_t)ml;
	memcpy(o + n, m, ml);
	n += ml;
	memset(o + n, 0, 50); /* PADDING */
	return n + 50;
}

static void google_quic(void **state)
{
	(void)state;
	uint8_t m[256], d[512];
	char sni[CG_NAME_BUF];
	fresh();
	size_t dn = q043(d, 1, m, chlo(m, "WWW.Google.IT", false));
	assert_true(cg_quic_looks_like_initial(d, dn));
	assert_int_equal(feed(d, dn, sni), CG_QUIC_SNI);
	assert_string_equal(sni, "www.google.it");
	assert_false(asm_.keyed);
	dn = q043(d, 1, m, chlo(m, NULL, false));
	assert_int_equal(feed(d, dn, sni), CG_QUIC_NO_SNI);
	dn = q043(d, 1, m, chlo(m, "1.2.3.4", false));
	assert_int_equal(feed(d, dn, sni), CG_QUIC_BAD_SNI);
	dn = q043(d, 1, m, chlo(m, "a.example..", false));
	assert_int_equal(feed(d, dn, sni), CG_QUIC_BAD_SNI);
	dn = q043(d, 3, m, chlo(m, "a.example", false));
	assert_int_equal(feed(d, dn, sni), CG_QUIC_NOT_QUIC);
	dn = q043(d, 1, m, chlo(m, "a.example", true));
	assert_int_equal(feed(d, dn, sni), CG_QUIC_NO_SNI);
	/* An end offset going backwards */
	size_t ml = chlo(m, "a.example", false);
	m[8 + 8 + 4] = 0;
	m[8 + 8 + 5] = 0;
	dn = q043(d, 1, m, ml);
	assert_int_equal(feed(d, dn, sni), CG_QUIC_NOT_QUIC);
	/* Not CHLO, wrong version, server nonce flag */
	ml = chlo(m, "a.example", false);
	m[0] = 'X';
	dn = q043(d, 1, m, ml);
	assert_int_equal(feed(d, dn, sni), CG_QUIC_NOT_QUIC);
	dn = q043(d, 1, m, chlo(m, "a.example", false));
	d[12] = '2';
	assert_int_equal(feed(d, dn, sni), CG_QUIC_NOT_QUIC);
	dn = q043(d, 1, m, chlo(m, "a.example", false));
	d[0] |= 0x04;
	assert_int_equal(feed(d, dn, sni), CG_QUIC_NOT_QUIC);
	/* Every truncation of a Q043 CHLO packet */
	dn = q043(d, 1, m, chlo(m, "a.example", false));
	for (size_t k = 0; k < dn; k++) {
		enum cg_quic_status st = feed(d, k, sni);
		assert_true(st == CG_QUIC_NOT_QUIC || st == CG_QUIC_SNI ||
			    st == CG_QUIC_NO_SNI);
	}
	/* Q046 with a non-Initial type is not a CHLO packet. */
	struct blob bl = load("quic-q46-chlo.bin");
	bl.b[0] = (uint8_t)((bl.b[0] & 0xcf) | 0x20);
	assert_int_equal(feed(bl.b, bl.n, sni), CG_QUIC_NOT_QUIC);
	free(bl.b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(shuffled_crypto_frames),
	    cmocka_unit_test(pieces_over_initials),
	    cmocka_unit_test(coalesced_packets),
	    cmocka_unit_test(versions_and_drafts),
	    cmocka_unit_test(version_switch_keeps_dcid),
	    cmocka_unit_test(new_attempt_rekeys),
	    cmocka_unit_test(frame_walk),
	    cmocka_unit_test(client_hello_results),
	    cmocka_unit_test(not_quic),
	    cmocka_unit_test(google_quic),
	};
	return cmocka_run_group_tests(tests, setup, quic_teardown);
}
