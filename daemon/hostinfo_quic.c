/*
 * hostinfo_quic: the ClientHello inside a client's QUIC Initial packets.
 *
 * Initial packets are protected with keys anyone can derive from the
 * client's Destination Connection ID (RFC 9001 5.2): the gateway removes
 * header protection (RFC 9001 5.4), opens the AEAD (RFC 9001 5.3), walks
 * the frames (RFC 9000 19) and reassembles CRYPTO data by offset, then
 * reads the ClientHello with hostinfo_tls.  Google QUIC Q043/Q046 carry
 * their CHLO in plaintext and are read directly.
 */
#include "cafeguard/hostinfo_quic.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

#include "cafeguard/hostinfo_tls.h"

/* Largest UDP payload (65535 - 8); an Initial is at most that. */
#define QUIC_DATAGRAM_MAX 65527
#define QUIC_CID_MAX	  20
#define QUIC_TAG_LEN	  16
#define QUIC_SAMPLE_LEN	  16
/* RFC 9000 14.1: a client Initial travels in a datagram of >= 1200 bytes,
 * and a server answers an unknown version only for such datagrams
 * (RFC 9000 6.1). */
#define QUIC_MIN_INITIAL_DATAGRAM 1200

struct cg_quic_ctx {
	EVP_CIPHER *ecb_cipher, *gcm_cipher;
	EVP_CIPHER_CTX *ecb; /* AES-128-ECB: header protection mask */
	EVP_CIPHER_CTX *gcm; /* AES-128-GCM: packet protection */
	uint8_t plain[QUIC_DATAGRAM_MAX];
	/* CRYPTO reassembly for packets of a version the gateway does not
	 * support, read only for the log (see unsupported_hint()). */
	uint8_t hint_buf[CG_QUIC_CRYPTO_MAX];
};

struct quic_keys {
	uint8_t key[16], iv[12], hp[16];
};

struct quic_version {
	uint32_t version;
	const uint8_t *salt; /* 20 bytes */
	const char *key_label, *iv_label, *hp_label;
	uint8_t initial_type; /* long header type bits of an Initial */
};

static const uint8_t salt_v1[20] = {
    0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
    0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a,
};
static const uint8_t salt_v2[20] = {
    0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
    0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9,
};
static const uint8_t salt_draft29[20] = {
    0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97,
    0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0, 0x43, 0x90, 0xa8, 0x99,
};
static const uint8_t salt_draft23[20] = {
    0xc3, 0xee, 0xf7, 0x12, 0xc7, 0x2e, 0xbb, 0x5a, 0x11, 0xa7,
    0xd2, 0x43, 0x2b, 0xb4, 0x63, 0x65, 0xbe, 0xf9, 0xf5, 0x02,
};

#define QUIC_V1	      0x00000001u
#define QUIC_V2	      0x6b3343cfu
#define QUIC_DRAFT(n) (0xff000000u | (n))

static uint32_t rd32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	       ((uint32_t)p[2] << 8) | p[3];
}

/*
 * Version parameters.  Salts: draft-ietf-quic-tls-23 (used through draft
 * 28), -29 (through 32), and RFC 9001's, which draft 33 introduced; QUIC
 * v2: RFC 9369 3.3.1 (salt), 3.3.2 (labels), 3.2 (Initial = 0b01).
 */
static bool version_info(uint32_t v, struct quic_version *vi)
{
	vi->version = v;
	vi->key_label = "quic key";
	vi->iv_label = "quic iv";
	vi->hp_label = "quic hp";
	vi->initial_type = 0;
	if (v == QUIC_V1 || v == QUIC_DRAFT(33) || v == QUIC_DRAFT(34)) {
		vi->salt = salt_v1;
	} else if (v >= QUIC_DRAFT(29) && v <= QUIC_DRAFT(32)) {
		vi->salt = salt_draft29;
	} else if (v == QUIC_DRAFT(27) || v == QUIC_DRAFT(28)) {
		vi->salt = salt_draft23;
	} else if (v == QUIC_V2) {
		vi->salt = salt_v2;
		vi->key_label = "quicv2 key";
		vi->iv_label = "quicv2 iv";
		vi->hp_label = "quicv2 hp";
		vi->initial_type = 1;
	} else {
		return false;
	}
	return true;
}

/* RFC 8446 7.1 HKDF-Expand-Label with an empty context; every output
 * here is at most one SHA-256 block, so Expand is a single HMAC. */
static bool expand_label(const uint8_t secret[32], const char *label,
			 uint8_t *out, size_t outlen)
{
	uint8_t info[2 + 1 + 255 + 1 + 1];
	size_t ll = strlen(label), n = 0;
	info[n++] = (uint8_t)(outlen >> 8);
	info[n++] = (uint8_t)outlen;
	info[n++] = (uint8_t)(6 + ll);
	memcpy(info + n, "tls13 ", 6);
	n += 6;
	memcpy(info + n, label, ll);
	n += ll;
	info[n++] = 0; /* context length */
	info[n++] = 1; /* HKDF-Expand block counter T(1) */
	uint8_t t[32];
	unsigned tl = 0;
	if (!HMAC(EVP_sha256(), secret, 32, info, n, t, &tl) || tl != 32)
		return false;
	memcpy(out, t, outlen);
	return true;
}

/*
 * RFC 9001 5.2 Initial keys.  The one-shot HMAC() allocates inside
 * OpenSSL; that is acceptable because it runs once per connection (on the
 * first Initial, or when the client starts over with a new DCID), never
 * for the later packets of a connection, and costs far less than the
 * flow setup that comes with a new connection anyway.
 */
static bool derive_keys(const struct quic_version *vi, const uint8_t *dcid,
			size_t dcid_len, struct quic_keys *k)
{
	uint8_t initial[32], client[32];
	unsigned il = 0;
	bool ok =
	    HMAC(EVP_sha256(), vi->salt, 20, dcid, dcid_len, initial, &il) &&
	    il == 32 && expand_label(initial, "client in", client, 32) &&
	    expand_label(client, vi->key_label, k->key, 16) &&
	    expand_label(client, vi->iv_label, k->iv, 12) &&
	    expand_label(client, vi->hp_label, k->hp, 16);
	memset(initial, 0, sizeof(initial));
	memset(client, 0, sizeof(client));
	return ok;
}

/* RFC 9000 16 variable-length integer at p[*off..n). */
static bool varint(const uint8_t *p, size_t n, size_t *off, uint64_t *v)
{
	if (*off >= n)
		return false;
	size_t len = (size_t)1 << (p[*off] >> 6);
	if (n - *off < len)
		return false;
	uint64_t x = p[*off] & 0x3f;
	for (size_t i = 1; i < len; i++)
		x = (x << 8) | p[*off + i];
	*off += len;
	*v = x;
	return true;
}

/* RFC 9000 A.3 */
static uint64_t decode_pn(uint64_t expected, uint64_t truncated, unsigned bits)
{
	uint64_t win = (uint64_t)1 << bits, hwin = win / 2, mask = win - 1;
	uint64_t cand = (expected & ~mask) | truncated;
	if (cand + hwin <= expected && cand < ((uint64_t)1 << 62) - win)
		return cand + win;
	if (cand > expected + hwin && cand >= win)
		return cand - win;
	return cand;
}

/* One long-header packet, located in the datagram. */
struct lh_packet {
	const uint8_t *p;
	size_t pn_off, end; /* packet number offset, end of packet */
	const uint8_t *dcid;
	uint8_t dcid_len;
	uint8_t type;
};

/*
 * Removes header protection (RFC 9001 5.4) and opens the payload (5.3)
 * into ctx->plain without touching the packet.  expected is the next
 * packet number the connection expects.  On success *plen and *pn are set.
 */
static bool try_open(struct cg_quic_ctx *ctx, const struct quic_keys *k,
		     const struct lh_packet *pk, uint64_t expected,
		     size_t *plen, uint64_t *pn)
{
	const uint8_t *p = pk->p;
	/* The sample starts 4 bytes after the packet number offset
	 * whatever the packet number length (5.4.2). */
	if (pk->end - pk->pn_off < 4 + QUIC_SAMPLE_LEN)
		return false;
	uint8_t mask[32];
	int outl = 0;
	if (!EVP_EncryptInit_ex(ctx->ecb, NULL, NULL, k->hp, NULL) ||
	    !EVP_EncryptUpdate(ctx->ecb, mask, &outl, p + pk->pn_off + 4,
			       QUIC_SAMPLE_LEN) ||
	    outl != QUIC_SAMPLE_LEN)
		return false;

	uint8_t first = (uint8_t)(p[0] ^ (mask[0] & 0x0f));
	size_t pn_len = (size_t)(first & 3) + 1;
	uint8_t pnb[4];
	uint64_t trunc = 0;
	for (size_t i = 0; i < pn_len; i++) {
		pnb[i] = (uint8_t)(p[pk->pn_off + i] ^ mask[1 + i]);
		trunc = (trunc << 8) | pnb[i];
	}
	size_t ct_off = pk->pn_off + pn_len;
	if (pk->end - ct_off < QUIC_TAG_LEN)
		return false;
	size_t ct_len = pk->end - ct_off - QUIC_TAG_LEN;
	*pn = decode_pn(expected, trunc, (unsigned)pn_len * 8);

	/* 5.3: the nonce is the IV XORed with the 62-bit packet number. */
	uint8_t nonce[12];
	memcpy(nonce, k->iv, sizeof(nonce));
	for (size_t i = 0; i < 8; i++)
		nonce[11 - i] ^= (uint8_t)(*pn >> (8 * i));
	uint8_t tag[QUIC_TAG_LEN];
	memcpy(tag, p + pk->end - QUIC_TAG_LEN, QUIC_TAG_LEN);

	/* The AAD is the unprotected header: fed in three pieces so the
	 * packet itself stays read-only. */
	int l1 = 0, l2 = 0;
	if (!EVP_DecryptInit_ex(ctx->gcm, NULL, NULL, k->key, nonce) ||
	    !EVP_DecryptUpdate(ctx->gcm, NULL, &l1, &first, 1) ||
	    !EVP_DecryptUpdate(ctx->gcm, NULL, &l1, p + 1,
			       (int)(pk->pn_off - 1)) ||
	    !EVP_DecryptUpdate(ctx->gcm, NULL, &l1, pnb, (int)pn_len) ||
	    !EVP_DecryptUpdate(ctx->gcm, ctx->plain, &l1, p + ct_off,
			       (int)ct_len) ||
	    !EVP_CIPHER_CTX_ctrl(ctx->gcm, EVP_CTRL_GCM_SET_TAG, QUIC_TAG_LEN,
				 tag) ||
	    EVP_DecryptFinal_ex(ctx->gcm, ctx->plain + l1, &l2) <= 0)
		return false;
	*plen = (size_t)l1 + (size_t)l2;
	return true;
}

static size_t crypto_cap(const struct cg_quic_assembly *a)
{
	if (!a->buf)
		return 0;
	return a->cap < CG_QUIC_CRYPTO_MAX ? a->cap : CG_QUIC_CRYPTO_MAX;
}

/* Stores CRYPTO data at offset off.  The first copy of a byte wins: a
 * ClientHello is decided on the first bytes seen, and RFC 9000 19.6
 * makes differing retransmissions a protocol violation anyway. */
static void crypto_store(struct cg_quic_assembly *a, uint64_t off,
			 const uint8_t *d, size_t n)
{
	size_t cap = crypto_cap(a);
	if (off >= cap)
		return;
	size_t o = (size_t)off;
	if (n > cap - o)
		n = cap - o;
	size_t i = 0;
	while (i < n) {
		size_t b = o + i;
		uint8_t *hv = &a->have[b / 8];
		/* whole bitmap bytes at a time where no byte is held yet
		 * (or all are): the common case of fresh data */
		if (b % 8 == 0 && n - i >= 8 && (*hv == 0 || *hv == 0xff)) {
			if (!*hv)
				memcpy(a->buf + b, d + i, 8);
			*hv = 0xff;
			i += 8;
			continue;
		}
		uint8_t bit = (uint8_t)(1u << (b % 8));
		if (!(*hv & bit)) {
			*hv |= bit;
			a->buf[b] = d[i];
		}
		i++;
	}
}

/* Bytes of CRYPTO data present without a gap from offset 0. */
static size_t crypto_prefix(const struct cg_quic_assembly *a)
{
	size_t cap = crypto_cap(a), i = 0;
	while (i / 8 < cap / 8 && a->have[i / 8] == 0xff)
		i += 8;
	while (i < cap && (a->have[i / 8] & (1u << (i % 8))))
		i++;
	return i;
}

/* Skips n varints; false if they are not all there. */
static bool skip_varints(const uint8_t *p, size_t n, size_t *off, int count)
{
	uint64_t v;
	while (count--)
		if (!varint(p, n, off, &v))
			return false;
	return true;
}

/* Skips a length-prefixed byte string. */
static bool skip_bytes(const uint8_t *p, size_t n, size_t *off)
{
	uint64_t len;
	if (!varint(p, n, off, &len) || len > n - *off)
		return false;
	*off += (size_t)len;
	return true;
}

/*
 * RFC 9000 19 frames of an opened Initial.  CRYPTO data goes to the
 * assembly; PADDING, PING, ACK and CONNECTION_CLOSE (the frames 12.4
 * allows in an Initial) and any other frame whose length can be parsed
 * are skipped; the walk stops at the first frame it cannot delimit.
 */
static void walk_frames(struct cg_quic_assembly *a, const uint8_t *p, size_t n)
{
	size_t off = 0;
	uint64_t type, v, count;
	while (off < n) {
		if (!p[off]) { /* PADDING runs are long; skip them fast */
			off++;
			continue;
		}
		if (!varint(p, n, &off, &type))
			return;
		switch (type) {
		case 0x01: /* PING */
		case 0x1e: /* HANDSHAKE_DONE */
			break;
		case 0x02: /* ACK */
		case 0x03: /* ACK with ECN counts */
			if (!skip_varints(p, n, &off, 2) ||
			    !varint(p, n, &off, &count) ||
			    !skip_varints(p, n, &off, 1))
				return;
			/* each range is two varints, at least two bytes */
			if (count > (n - off) / 2)
				return;
			if (!skip_varints(p, n, &off, (int)count * 2))
				return;
			if (type == 0x03 && !skip_varints(p, n, &off, 3))
				return;
			break;
		case 0x06: { /* CRYPTO */
			uint64_t coff, clen;
			if (!varint(p, n, &off, &coff) ||
			    !varint(p, n, &off, &clen) || clen > n - off)
				return;
			crypto_store(a, coff, p + off, (size_t)clen);
			off += (size_t)clen;
			break;
		}
		case 0x04: /* RESET_STREAM */
			if (!skip_varints(p, n, &off, 3))
				return;
			break;
		case 0x05: /* STOP_SENDING */
		case 0x11: /* MAX_STREAM_DATA */
		case 0x15: /* STREAM_DATA_BLOCKED */
			if (!skip_varints(p, n, &off, 2))
				return;
			break;
		case 0x07: /* NEW_TOKEN */
			if (!skip_bytes(p, n, &off))
				return;
			break;
		case 0x10: /* MAX_DATA */
		case 0x12: /* MAX_STREAMS */
		case 0x13:
		case 0x14: /* DATA_BLOCKED */
		case 0x16: /* STREAMS_BLOCKED */
		case 0x17:
		case 0x19: /* RETIRE_CONNECTION_ID */
			if (!skip_varints(p, n, &off, 1))
				return;
			break;
		case 0x18: /* NEW_CONNECTION_ID */
			if (!skip_varints(p, n, &off, 2) || off >= n)
				return;
			v = p[off++];
			if (v < 1 || v > QUIC_CID_MAX || n - off < v + 16)
				return;
			off += (size_t)v + 16;
			break;
		case 0x1a: /* PATH_CHALLENGE */
		case 0x1b: /* PATH_RESPONSE */
			if (n - off < 8)
				return;
			off += 8;
			break;
		case 0x1c: /* CONNECTION_CLOSE (transport) */
			if (!skip_varints(p, n, &off, 2) ||
			    !skip_bytes(p, n, &off))
				return;
			break;
		case 0x1d: /* CONNECTION_CLOSE (application) */
			if (!skip_varints(p, n, &off, 1) ||
			    !skip_bytes(p, n, &off))
				return;
			break;
		default:
			if (type >= 0x08 && type <= 0x0f) { /* STREAM */
				if (!skip_varints(p, n, &off, 1) ||
				    ((type & 0x04) &&
				     !skip_varints(p, n, &off, 1)))
					return;
				/* without LEN the data runs to the end */
				if (!(type & 0x02) || !skip_bytes(p, n, &off))
					return;
				break;
			}
			return;
		}
	}
}

/* What the reassembled CRYPTO stream says so far. */
static enum cg_quic_status crypto_status(const struct cg_quic_assembly *a,
					 char *sni, size_t *snilen)
{
	size_t have = crypto_prefix(a);
	switch (cg_tls_handshake_sni(a->buf, have, sni, snilen)) {
	case CG_TLS_SNI:
		return CG_QUIC_SNI;
	case CG_TLS_BAD_SNI:
		return CG_QUIC_BAD_SNI;
	case CG_TLS_NO_SNI:
		return CG_QUIC_NO_SNI;
	case CG_TLS_NEED_MORE:
		/* A ClientHello longer than the assembly: the name is not
		 * in the part that fits and never will be. */
		return have && have >= crypto_cap(a) ? CG_QUIC_NO_SNI
						     : CG_QUIC_NEED_MORE;
	case CG_TLS_NOT_TLS:
		break;
	}
	return CG_QUIC_NOT_QUIC;
}

/*
 * Parses the long header at udp[off..len) (RFC 9000 17.2) far enough to
 * find the packet number offset and the end of the packet.  False if it
 * is malformed or has no Length field (Retry, Version Negotiation).
 */
static bool long_header(const uint8_t *udp, size_t len, size_t off,
			const struct quic_version *vi, struct lh_packet *pk)
{
	const uint8_t *p = udp + off;
	size_t n = len - off, i = 5;
	uint64_t v;

	if (n < 7)
		return false;
	pk->p = p;
	pk->type = (uint8_t)((p[0] >> 4) & 3);
	pk->dcid_len = p[i++];
	if (pk->dcid_len > QUIC_CID_MAX || n - i < pk->dcid_len + 1u)
		return false;
	pk->dcid = p + i;
	i += pk->dcid_len;
	size_t scil = p[i++];
	if (scil > QUIC_CID_MAX || n - i < scil)
		return false;
	i += scil;
	/* Retry is the type after Handshake in both layouts: v1 0b11,
	 * v2 0b00 (RFC 9369 3.2). */
	if (pk->type == ((vi->initial_type + 3) & 3))
		return false;
	if (pk->type == vi->initial_type && !skip_bytes(p, n, &i))
		return false; /* Token */
	if (!varint(p, n, &i, &v) || v > n - i)
		return false;
	pk->pn_off = i;
	pk->end = i + (size_t)v;
	return true;
}

static bool same_dcid(const struct cg_quic_assembly *a,
		      const struct lh_packet *pk)
{
	return a->dcid_len == pk->dcid_len &&
	       !memcmp(a->dcid, pk->dcid, pk->dcid_len);
}

static void store_keys(struct cg_quic_assembly *a, const struct quic_keys *k)
{
	memcpy(a->key, k->key, sizeof(a->key));
	memcpy(a->iv, k->iv, sizeof(a->iv));
	memcpy(a->hp, k->hp, sizeof(a->hp));
}

/*
 * Opens one client Initial with the connection's keys.  Keys come from
 * the DCID of the first Initial that opened (later Initials carry the
 * server's CID and must still use them).  Two cases derive again:
 *  - the version changed (compatible version negotiation, RFC 9368 keeps
 *    the original DCID): same DCID, the new version's salt;
 *  - the stored keys fail but this packet's own DCID opens it: the client
 *    started over (after a Retry, RFC 9001 5.2, or a new attempt on the
 *    same 5-tuple); its CRYPTO stream restarts, so reassembly does too.
 */
static bool open_initial(struct cg_quic_ctx *ctx, struct cg_quic_assembly *a,
			 const struct quic_version *vi,
			 const struct lh_packet *pk, size_t *plen)
{
	struct quic_keys k;
	uint64_t pn;

	if (a->keyed) {
		if (a->version == vi->version) {
			memcpy(k.key, a->key, sizeof(k.key));
			memcpy(k.iv, a->iv, sizeof(k.iv));
			memcpy(k.hp, a->hp, sizeof(k.hp));
		} else if (!derive_keys(vi, a->dcid, a->dcid_len, &k)) {
			return false;
		}
		if (try_open(ctx, &k, pk, a->next_pn, plen, &pn)) {
			if (a->version != vi->version) {
				store_keys(a, &k);
				a->version = vi->version;
			}
			if (pn >= a->next_pn)
				a->next_pn = pn + 1;
			return true;
		}
		/* Deriving from the same DCID again gives the same keys. */
		if (same_dcid(a, pk))
			return false;
	}
	if (!derive_keys(vi, pk->dcid, pk->dcid_len, &k) ||
	    !try_open(ctx, &k, pk, 0, plen, &pn))
		return false;
	if (a->keyed)
		memset(a->have, 0, sizeof(a->have));
	store_keys(a, &k);
	a->version = vi->version;
	memcpy(a->dcid, pk->dcid, pk->dcid_len);
	a->dcid_len = pk->dcid_len;
	a->keyed = true;
	a->next_pn = pn + 1;
	return true;
}

/*
 * Every coalesced packet of the datagram (RFC 9000 12.2) with the first
 * packet's version; Initials are opened and their frames walked, the
 * others skipped by their Length.  Returns the number of Initials opened;
 * *failed counts the ones whose AEAD check failed.
 */
static unsigned each_initial(struct cg_quic_ctx *ctx, const uint8_t *udp,
			     size_t len, const struct quic_version *vi,
			     struct cg_quic_assembly *a, unsigned *failed)
{
	unsigned opened = 0;
	size_t off = 0;
	*failed = 0;
	while (len - off >= 7 && (udp[off] & 0xc0) == 0xc0 &&
	       rd32(udp + off + 1) == vi->version) {
		struct lh_packet pk;
		if (!long_header(udp, len, off, vi, &pk))
			break;
		if (pk.type == vi->initial_type) {
			size_t plen;
			if (open_initial(ctx, a, vi, &pk, &plen)) {
				walk_frames(a, ctx->plain, plen);
				opened++;
			} else {
				(*failed)++;
			}
		}
		off += pk.end;
	}
	return opened;
}

/*
 * A long header of a version the gateway does not support.  Clients that
 * probe with a reserved version (RFC 9000 15, 0x?a?a?a?a; the interop
 * runner's "V" test) protect their Initial with the keys of the version
 * they would otherwise speak: v1 today, draft 29 when that runner's
 * captures were made.  If one of them opens the packet, the name it asks
 * for is given to the log.  The connection itself cannot proceed in that
 * version, so this never decides anything.
 */
static void unsupported_hint(struct cg_quic_ctx *ctx, const uint8_t *udp,
			     size_t len, char *sni, size_t *snilen)
{
	static const uint32_t tries[] = {QUIC_V1, QUIC_DRAFT(29)};
	if (len < QUIC_MIN_INITIAL_DATAGRAM || (udp[0] & 0xf0) != 0xc0)
		return;
	for (size_t t = 0; t < sizeof(tries) / sizeof(tries[0]); t++) {
		struct quic_version vi;
		version_info(tries[t], &vi);
		vi.version = rd32(udp + 1);
		struct cg_quic_assembly tmp;
		cg_quic_assembly_reset(&tmp, ctx->hint_buf,
				       sizeof(ctx->hint_buf));
		unsigned failed;
		if (!each_initial(ctx, udp, len, &vi, &tmp, &failed))
			continue;
		if (crypto_status(&tmp, sni, snilen) != CG_QUIC_SNI) {
			sni[0] = '\0';
			*snilen = 0;
		}
		return;
	}
}

void cg_quic_assembly_reset(struct cg_quic_assembly *a, uint8_t *buf,
			    size_t cap)
{
	memset(a, 0, sizeof(*a));
	a->buf = buf;
	a->cap = cap;
}

struct cg_quic_ctx *cg_quic_ctx_new(void)
{
	struct cg_quic_ctx *ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return NULL;
	/* Ciphers are fetched once: EVP_*Init_ex with a NULL cipher then
	 * only changes the key, without a provider lookup per packet. */
	ctx->ecb_cipher = EVP_CIPHER_fetch(NULL, "AES-128-ECB", NULL);
	ctx->gcm_cipher = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
	ctx->ecb = EVP_CIPHER_CTX_new();
	ctx->gcm = EVP_CIPHER_CTX_new();
	if (!ctx->ecb_cipher || !ctx->gcm_cipher || !ctx->ecb || !ctx->gcm ||
	    !EVP_EncryptInit_ex(ctx->ecb, ctx->ecb_cipher, NULL, NULL, NULL) ||
	    !EVP_CIPHER_CTX_set_padding(ctx->ecb, 0) ||
	    !EVP_DecryptInit_ex(ctx->gcm, ctx->gcm_cipher, NULL, NULL, NULL)) {
		cg_quic_ctx_free(ctx);
		return NULL;
	}
	return ctx;
}

void cg_quic_ctx_free(struct cg_quic_ctx *ctx)
{
	if (!ctx)
		return;
	EVP_CIPHER_CTX_free(ctx->ecb);
	EVP_CIPHER_CTX_free(ctx->gcm);
	EVP_CIPHER_free(ctx->ecb_cipher);
	EVP_CIPHER_free(ctx->gcm_cipher);
	free(ctx);
}

enum cg_quic_status cg_quic_client_initial(struct cg_quic_ctx *ctx,
					   const uint8_t *udp, size_t len,
					   struct cg_quic_assembly *a,
					   char *sni, size_t *snilen)
{
	sni[0] = '\0';
	*snilen = 0;
	if (len < 1)
		return CG_QUIC_NOT_QUIC;
	if (!(udp[0] & 0x80))
		return cg_gquic_client_hello(udp, len, sni, snilen);
	if (len < 5)
		return CG_QUIC_NOT_QUIC;
	uint32_t version = rd32(udp + 1);
	if (version == 0) /* Version Negotiation, RFC 9000 17.2.1 */
		return CG_QUIC_UNSUPPORTED;
	if (!memcmp(udp + 1, "Q046", 4))
		return cg_gquic_client_hello(udp, len, sni, snilen);
	if (!(udp[0] & 0x40))
		return CG_QUIC_NOT_QUIC;
	struct quic_version vi;
	if (!version_info(version, &vi)) {
		unsupported_hint(ctx, udp, len, sni, snilen);
		return CG_QUIC_UNSUPPORTED;
	}
	unsigned failed;
	if (!each_initial(ctx, udp, len, &vi, a, &failed))
		return failed ? CG_QUIC_UNDECRYPTABLE : CG_QUIC_NOT_QUIC;
	return crypto_status(a, sni, snilen);
}

bool cg_quic_looks_like_initial(const uint8_t *udp, size_t len)
{
	if (len < 1)
		return false;
	if (udp[0] & 0x80)
		return (udp[0] & 0x40) && len >= 7;
	/* gQUIC public header: version flag, 8-byte CID, version "Q..." */
	return (udp[0] & 0x09) == 0x09 && len >= 13 && udp[9] == 'Q';
}
