/*
 * hostinfo_tls: server_name from a ClientHello (RFC 8446 4.1.2, RFC 6066 3).
 *
 * The parser is written for a stream that may stop anywhere: every field
 * is checked first against the length the message claims (beyond it the
 * message is malformed: NOT_TLS) and then against the bytes that have
 * arrived (beyond them: NEED_MORE).  It never waits for bytes it does not
 * need, so the name is returned as soon as its extension is whole.
 */
#include "cafeguard/hostinfo_tls.h"

#include <string.h>

#define TLS_CT_HANDSHAKE    22
#define TLS_HS_CLIENT_HELLO 1
#define TLS_EXT_SERVER_NAME 0
#define TLS_SNI_HOST_NAME   0
/* RFC 8446 5.1: a TLSPlaintext fragment is at most 2^14 bytes. */
#define TLS_RECORD_MAX 16384
#define TLS_RECORD_HDR 5

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t rd24(const uint8_t *p)
{
	return ((uint32_t)p[0] << 16) | ((uint32_t)p[1] << 8) | p[2];
}

/* A cursor over a message of known length of which avail bytes are in. */
struct ch_cur {
	const uint8_t *b;
	size_t pos, end, avail;
};

/* need() result meaning "the bytes are there"; CG_TLS_SNI is 0, so the
 * callers can write `if ((st = need(...))) return st;`. */
#define CH_HAVE CG_TLS_SNI

/* CH_HAVE when n more bytes are present, else the status to return. */
static enum cg_tls_status need(const struct ch_cur *c, size_t n)
{
	if (n > c->end - c->pos)
		return CG_TLS_NOT_TLS;
	/* pos may be past avail after skipping an extension unread */
	if (c->pos > c->avail || n > c->avail - c->pos)
		return CG_TLS_NEED_MORE;
	return CH_HAVE;
}

/* RFC 6066 3: a ServerNameList; the first host_name entry is the name
 * (the list "MUST NOT contain more than one name of the same type"). */
static enum cg_tls_status server_name(const uint8_t *e, size_t elen, char *sni,
				      size_t *snilen)
{
	if (elen < 2 || rd16(e) != elen - 2)
		return CG_TLS_NOT_TLS;
	size_t p = 2;
	while (p < elen) {
		if (elen - p < 3)
			return CG_TLS_NOT_TLS;
		uint8_t type = e[p];
		size_t nlen = rd16(e + p + 1);
		p += 3;
		if (elen - p < nlen)
			return CG_TLS_NOT_TLS;
		if (type == TLS_SNI_HOST_NAME) {
			if (cg_name_canon((const char *)e + p, nlen, sni,
					  snilen) == CG_NAME_OK)
				return CG_TLS_SNI;
			sni[0] = '\0';
			*snilen = 0;
			return CG_TLS_BAD_SNI;
		}
		p += nlen;
	}
	/* The extension is there but names no host. */
	return CG_TLS_BAD_SNI;
}

/*
 * hs[0..len): handshake bytes from the start of the ClientHello.
 * *complete_len gets 4 + the message length once the header is in, so the
 * record layer knows how much it must join.
 */
static enum cg_tls_status parse_ch(const uint8_t *hs, size_t len, char *sni,
				   size_t *snilen, size_t *complete_len)
{
	enum cg_tls_status st;

	*complete_len = 0;
	if (len < 1)
		return CG_TLS_NEED_MORE;
	if (hs[0] != TLS_HS_CLIENT_HELLO)
		return CG_TLS_NOT_TLS;
	if (len < 4)
		return CG_TLS_NEED_MORE;
	size_t mlen = rd24(hs + 1);
	/* version, random, empty session id, one suite, one method */
	if (mlen < 2 + 32 + 1 + 2 + 2 + 1 + 1)
		return CG_TLS_NOT_TLS;
	*complete_len = 4 + mlen;

	struct ch_cur c = {.b = hs, .pos = 4, .end = 4 + mlen};
	c.avail = len < c.end ? len : c.end;

	/* legacy_version and random */
	if ((st = need(&c, 2 + 32)))
		return st;
	if (hs[c.pos] != 3)
		return CG_TLS_NOT_TLS;
	c.pos += 2 + 32;
	/* legacy_session_id<0..32> */
	if ((st = need(&c, 1)))
		return st;
	size_t n = hs[c.pos++];
	if (n > 32)
		return CG_TLS_NOT_TLS;
	if ((st = need(&c, n)))
		return st;
	c.pos += n;
	/* cipher_suites<2..2^16-2>, two bytes each */
	if ((st = need(&c, 2)))
		return st;
	n = rd16(hs + c.pos);
	c.pos += 2;
	if (n < 2 || n % 2)
		return CG_TLS_NOT_TLS;
	if ((st = need(&c, n)))
		return st;
	c.pos += n;
	/* legacy_compression_methods<1..2^8-1> */
	if ((st = need(&c, 1)))
		return st;
	n = hs[c.pos++];
	if (n < 1)
		return CG_TLS_NOT_TLS;
	if ((st = need(&c, n)))
		return st;
	c.pos += n;
	/* A TLS 1.2 ClientHello may end here (RFC 5246 7.4.1.2). */
	if (c.pos == c.end)
		return CG_TLS_NO_SNI;
	if ((st = need(&c, 2)))
		return st;
	n = rd16(hs + c.pos);
	c.pos += 2;
	if (n != c.end - c.pos)
		return CG_TLS_NOT_TLS;

	while (c.pos < c.end) {
		if ((st = need(&c, 4)))
			return st;
		uint16_t type = rd16(hs + c.pos);
		size_t elen = rd16(hs + c.pos + 2);
		c.pos += 4;
		if (elen > c.end - c.pos)
			return CG_TLS_NOT_TLS;
		if (type == TLS_EXT_SERVER_NAME) {
			if ((st = need(&c, elen)))
				return st;
			return server_name(hs + c.pos, elen, sni, snilen);
		}
		/* Other extensions are skipped unread: their bytes need not
		 * have arrived, only the next extension header. */
		c.pos += elen;
	}
	/* Every extension header has been seen and none was server_name:
	 * what is still missing cannot change the answer. */
	return CG_TLS_NO_SNI;
}

static enum cg_tls_status finish(enum cg_tls_status st, char *sni,
				 size_t *snilen)
{
	if (st != CG_TLS_SNI) {
		sni[0] = '\0';
		*snilen = 0;
	}
	return st;
}

enum cg_tls_status cg_tls_handshake_sni(const uint8_t *hs, size_t len,
					char *sni, size_t *snilen)
{
	size_t total;
	return finish(parse_ch(hs, len, sni, snilen, &total), sni, snilen);
}

/* RFC 8446 5.1 record header checks that hold for every record of a
 * ClientHello: handshake type, legacy version 3.x, 1..2^14 bytes
 * ("Implementations MUST NOT send zero-length fragments of Handshake
 * types"). */
static bool handshake_record(const uint8_t *r)
{
	size_t rlen = rd16(r + 3);
	return r[0] == TLS_CT_HANDSHAKE && r[1] == 3 && rlen >= 1 &&
	       rlen <= TLS_RECORD_MAX;
}

enum cg_tls_status cg_tls_record_sni(const uint8_t *stream, size_t len,
				     uint8_t *scratch, size_t scratchsz,
				     char *sni, size_t *snilen)
{
	enum cg_tls_status st;
	size_t total;

	sni[0] = '\0';
	*snilen = 0;
	if (len < 1)
		return CG_TLS_NEED_MORE;
	if (stream[0] != TLS_CT_HANDSHAKE || (len >= 2 && stream[1] != 3))
		return CG_TLS_NOT_TLS;
	if (len < TLS_RECORD_HDR)
		return CG_TLS_NEED_MORE;
	if (!handshake_record(stream))
		return CG_TLS_NOT_TLS;

	/* Common case, no copy: the ClientHello (or all that has arrived)
	 * is inside the first record. */
	size_t rlen = rd16(stream + 3);
	size_t in1 = len - TLS_RECORD_HDR < rlen ? len - TLS_RECORD_HDR : rlen;
	st = parse_ch(stream + TLS_RECORD_HDR, in1, sni, snilen, &total);
	if (st != CG_TLS_NEED_MORE || in1 < rlen || (total && total <= rlen))
		return finish(st, sni, snilen);

	/* The message continues in later records (RFC 8446 5.1 lets a
	 * handshake message span records; filter evasion tools use it):
	 * join the fragments in scratch. */
	size_t off = 0, have = 0;
	bool clipped = false, other_record = false;
	while (len - off >= TLS_RECORD_HDR) {
		const uint8_t *r = stream + off;
		if (!handshake_record(r)) {
			/* RFC 8446 5.1: handshake messages MUST NOT be
			 * interleaved with other record types. */
			other_record = true;
			break;
		}
		rlen = rd16(r + 3);
		size_t in = len - off - TLS_RECORD_HDR;
		if (in > rlen)
			in = rlen;
		size_t room = scratchsz - have;
		if (in > room) {
			in = room;
			clipped = true;
		}
		if (in)
			memcpy(scratch + have, r + TLS_RECORD_HDR, in);
		have += in;
		if (clipped || len - off - TLS_RECORD_HDR <= rlen)
			break;
		off += TLS_RECORD_HDR + rlen;
		if (total && have >= total)
			break;
	}
	st = parse_ch(scratch, have, sni, snilen, &total);
	if (st == CG_TLS_NEED_MORE && (clipped || other_record))
		st = CG_TLS_NOT_TLS;
	return finish(st, sni, snilen);
}

int cg_tls_looks_like_handshake(const uint8_t *p, size_t len)
{
	return len >= 3 && p[0] == TLS_CT_HANDSHAKE && p[1] == 3;
}
