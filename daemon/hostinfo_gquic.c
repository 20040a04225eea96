/*
 * Google QUIC (Q043, Q046): the client's first packet carries its CHLO in
 * plaintext, so the SNI tag is read without any crypto.  IETF QUIC is
 * hostinfo_quic.c.
 */
#include <stdbool.h>
#include <string.h>

#include "cafeguard/hostinfo_quic.h"

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t rd32le(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}

/* Google QUIC crypto handshake message: "CHLO", uint16 entry count,
 * 2 padding bytes, then (tag, uint32 end offset) pairs in little endian
 * and the values.  The SNI tag holds the host name. */
static enum cg_quic_status gquic_chlo(const uint8_t *m, size_t n, char *sni,
				      size_t *snilen)
{
	if (n < 8 || memcmp(m, "CHLO", 4))
		return CG_QUIC_NOT_QUIC;
	size_t entries = (size_t)m[4] | ((size_t)m[5] << 8);
	if (entries > (n - 8) / 8)
		return CG_QUIC_NO_SNI; /* table cut short */
	const uint8_t *values = m + 8 + entries * 8;
	size_t vlen = n - 8 - entries * 8;
	uint32_t prev = 0;
	for (size_t e = 0; e < entries; e++) {
		const uint8_t *t = m + 8 + e * 8;
		uint32_t end = rd32le(t + 4);
		if (end < prev)
			return CG_QUIC_NOT_QUIC;
		if (!memcmp(t, "SNI\0", 4)) {
			if (end > vlen)
				return CG_QUIC_NO_SNI;
			if (cg_name_canon((const char *)values + prev,
					  end - prev, sni,
					  snilen) == CG_NAME_OK)
				return CG_QUIC_SNI;
			sni[0] = '\0';
			*snilen = 0;
			return CG_QUIC_BAD_SNI;
		}
		prev = end;
	}
	return CG_QUIC_NO_SNI;
}

/*
 * Frames of a gQUIC packet after the 12-byte null-encryption hash; the
 * CHLO rides on stream 1.  Fields are big endian since Q039.
 */
static enum cg_quic_status gquic_frames(const uint8_t *p, size_t n, char *sni,
					size_t *snilen)
{
	size_t off = 12;
	if (n < off)
		return CG_QUIC_NOT_QUIC;
	while (off < n) {
		uint8_t t = p[off++];
		if (t == 0x07) /* PING */
			continue;
		if (!(t & 0x80)) /* PADDING ends the packet; others unknown */
			break;
		/* STREAM: 1 F D OOO SS */
		size_t idlen = (size_t)(t & 0x03) + 1;
		size_t ooo = (t >> 2) & 0x07;
		size_t offlen = ooo ? ooo + 1 : 0;
		bool has_len = t & 0x20;
		if (n - off < idlen + offlen + (has_len ? 2 : 0))
			break;
		uint32_t id = 0;
		for (size_t i = 0; i < idlen; i++)
			id = (id << 8) | p[off + i];
		off += idlen + offlen;
		size_t dlen = n - off;
		if (has_len) {
			dlen = rd16(p + off);
			off += 2;
			if (dlen > n - off)
				break;
		}
		if (id == 1)
			return gquic_chlo(p + off, dlen, sni, snilen);
		off += dlen;
	}
	return CG_QUIC_NOT_QUIC;
}

static bool gquic_version(const uint8_t *v, const char *want)
{
	return !memcmp(v, want, 4);
}

/* Q046: the IETF invariant long header (RFC 8999) with nibble-coded CID
 * lengths (value + 3) and no Length field; the Initial is plaintext. */
static enum cg_quic_status gquic_q046(const uint8_t *udp, size_t len, char *sni,
				      size_t *snilen)
{
	if (len < 6 || ((udp[0] >> 4) & 3) != 0)
		return CG_QUIC_NOT_QUIC;
	size_t dcil = udp[5] >> 4, scil = udp[5] & 0x0f;
	dcil = dcil ? dcil + 3 : 0;
	scil = scil ? scil + 3 : 0;
	size_t off = 6 + dcil + scil + (size_t)(udp[0] & 3) + 1;
	if (off > len)
		return CG_QUIC_NOT_QUIC;
	return gquic_frames(udp + off, len - off, sni, snilen);
}

/* Q043: the gQUIC public header: flags, 8-byte CID, version, packet
 * number of 1/2/4/6 bytes (flags bits 4-5). */
static enum cg_quic_status gquic_q043(const uint8_t *udp, size_t len, char *sni,
				      size_t *snilen)
{
	static const size_t pnlen[4] = {1, 2, 4, 6};
	uint8_t f = udp[0];
	/* version present, 8-byte CID, no reset, no server nonce */
	if ((f & 0x0f) != 0x09 || len < 13 || !gquic_version(udp + 9, "Q043"))
		return CG_QUIC_NOT_QUIC;
	size_t off = 13 + pnlen[(f >> 4) & 3];
	if (off > len)
		return CG_QUIC_NOT_QUIC;
	return gquic_frames(udp + off, len - off, sni, snilen);
}

enum cg_quic_status cg_gquic_client_hello(const uint8_t *udp, size_t len,
					  char *sni, size_t *snilen)
{
	sni[0] = '\0';
	*snilen = 0;
	if (len < 1)
		return CG_QUIC_NOT_QUIC;
	if (!(udp[0] & 0x80))
		return gquic_q043(udp, len, sni, snilen);
	if (len >= 5 && gquic_version(udp + 1, "Q046"))
		return gquic_q046(udp, len, sni, snilen);
	return CG_QUIC_NOT_QUIC;
}
