/*
 * hostinfo_dns: the question of a DNS message (RFC 1035 4.1).
 *
 * Only the header and the question are read; the gateway never needs the
 * answer sections, and a query has none (RFC 1035 4.1.1).  Every read is
 * checked against the message length before it happens.
 */
#include "cafeguard/hostinfo_dns.h"

#include <string.h>

/* RFC 1035 4.1.1 header flag bits. */
#define DNS_QR	      0x8000u
#define DNS_RD	      0x0100u
#define DNS_RA	      0x0080u
#define DNS_OPCODE(f) (((f) >> 11) & 0xfu)

/* RFC 1035 3.1: at most 255 octets for a name on the wire. */
#define DNS_WIRE_NAME_MAX 255
/* RFC 6891 6.1.2: the OPT pseudo-RR type. */
#define DNS_TYPE_OPT 41

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Bytes a canonical name may hold, before cg_name_canon() has the final
 * word; anything else (a '.' inside a label included) makes the name a
 * display-only rendering. */
static bool host_byte(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Appends one label byte to the log rendering: printable ASCII as is,
 * everything else (and '.', '\\' that would make the rendering ambiguous)
 * as \DDD, the zone-file escape of RFC 1035 5.1. */
static size_t render_byte(char *out, size_t o, uint8_t c)
{
	if (c > 0x20 && c < 0x7f && c != '.' && c != '\\') {
		out[o++] = (char)c;
		return o;
	}
	out[o++] = '\\';
	out[o++] = (char)('0' + c / 100);
	out[o++] = (char)('0' + (c / 10) % 10);
	out[o++] = (char)('0' + c % 10);
	return o;
}

/*
 * Reads the QNAME at msg[off..) into q.  Returns the offset past the name,
 * or 0 if the name is malformed.  A QNAME is never compressed (RFC 1035
 * 4.1.2 has no pointer in a question; a pointer there is how malformed
 * and malicious messages loop parsers), so the 0xc0 and the reserved
 * 0x40/0x80 label types (RFC 6891 5) are all refused.
 */
static size_t read_qname(const uint8_t *msg, size_t len, size_t off,
			 struct cg_dns_query *q)
{
	/* Worst case: 250 label bytes as \DDD plus 3 dots, which the
	 * header's CG_NAME_BUF * 4 holds. */
	_Static_assert(CG_NAME_BUF * 4 >= 250 * 4 + 3 + 1,
		       "qname buffer too small for an escaped name");
	char text[CG_NAME_BUF];
	size_t tlen = 0, rlen = 0, start = off;
	bool plain = true;

	for (;;) {
		if (off >= len)
			return 0;
		uint8_t l = msg[off];
		if (l & 0xc0)
			return 0;
		if (off + 1 + l - start > DNS_WIRE_NAME_MAX)
			return 0;
		off++;
		if (!l)
			break;
		if (off + l > len)
			return 0;
		if (rlen) {
			q->qname[rlen++] = '.';
			/* 255 wire bytes leave at most 253 text bytes. */
			text[tlen++] = '.';
		}
		for (size_t i = 0; i < l; i++) {
			uint8_t c = msg[off + i];
			if (!host_byte(c))
				plain = false;
			text[tlen++] = (char)c;
			rlen = render_byte(q->qname, rlen, c);
		}
		off += l;
	}
	q->qname[rlen] = '\0';
	q->qname_len = rlen;
	q->name_ok = false;
	if (plain && tlen) {
		size_t n;
		char canon[CG_NAME_BUF];
		if (cg_name_canon(text, tlen, canon, &n) == CG_NAME_OK) {
			memcpy(q->qname, canon, n + 1);
			q->qname_len = n;
			q->name_ok = true;
		}
	}
	return off;
}

/*
 * True if msg[off..len) is exactly one OPT RR (RFC 6891 6.1.2): root owner
 * name, type 41, any class (the UDP size) and TTL, and an RDATA made of
 * whole {code, length, data} options.
 */
static bool only_opt_rr(const uint8_t *msg, size_t len, size_t off)
{
	if (len - off < 11 || msg[off] != 0 ||
	    rd16(msg + off + 1) != DNS_TYPE_OPT)
		return false;
	size_t rdlen = rd16(msg + off + 9);
	size_t p = off + 11;
	if (len - p != rdlen)
		return false;
	while (p < len) {
		if (len - p < 4)
			return false;
		size_t olen = rd16(msg + p + 2);
		p += 4;
		if (len - p < olen)
			return false;
		p += olen;
	}
	return true;
}

enum cg_dns_status cg_dns_parse(const uint8_t *msg, size_t len,
				struct cg_dns_query *q)
{
	memset(q, 0, sizeof(*q));
	if (len < CG_DNS_HEADER_LEN)
		return CG_DNS_MALFORMED;
	q->id = rd16(msg);
	q->flags = rd16(msg + 2);
	uint16_t qd = rd16(msg + 4), an = rd16(msg + 6), ns = rd16(msg + 8),
		 ar = rd16(msg + 10);
	/* RFC 9619: QDCOUNT is 1 in practice; more is never sent, and a
	 * gateway that read only the first of several names would let the
	 * others through. */
	if (qd != 1)
		return CG_DNS_MALFORMED;

	size_t off = read_qname(msg, len, CG_DNS_HEADER_LEN, q);
	if (!off || len - off < 4) {
		memset(q->qname, 0, sizeof(q->qname));
		q->qname_len = 0;
		q->name_ok = false;
		return CG_DNS_MALFORMED;
	}
	q->qtype = rd16(msg + off);
	q->qclass = rd16(msg + off + 2);
	q->question_end = off + 4;

	size_t rest = len - q->question_end;
	q->strict = (an == 0 && ns == 0 &&
		     ((ar == 0 && rest == 0) ||
		      (ar == 1 && only_opt_rr(msg, len, q->question_end))));

	if ((q->flags & DNS_QR) || DNS_OPCODE(q->flags) != 0)
		return CG_DNS_NOT_QUERY;
	return CG_DNS_QUERY;
}

bool cg_dns_looks_like_query(const uint8_t *msg, size_t len)
{
	struct cg_dns_query q;
	return cg_dns_parse(msg, len, &q) == CG_DNS_QUERY && q.strict;
}

size_t cg_dns_build_response(const uint8_t *msg, const struct cg_dns_query *q,
			     uint8_t rcode, uint8_t *out, size_t outsz)
{
	/* A question is at least a root name and QTYPE/QCLASS. */
	if (q->question_end < CG_DNS_HEADER_LEN + 5 || rcode > 0xf ||
	    outsz < q->question_end)
		return 0;
	uint16_t flags =
	    (uint16_t)(DNS_QR | (q->flags & DNS_RD) | DNS_RA | rcode);
	wr16(out, q->id);
	wr16(out + 2, flags);
	wr16(out + 4, 1);
	wr16(out + 6, 0);
	wr16(out + 8, 0);
	wr16(out + 10, 0);
	memcpy(out + CG_DNS_HEADER_LEN, msg + CG_DNS_HEADER_LEN,
	       q->question_end - CG_DNS_HEADER_LEN);
	return q->question_end;
}

static void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, (uint16_t)(v >> 16));
	wr16(p + 2, (uint16_t)v);
}

/* A canonical dotted name as wire labels; 0 if it does not fit. */
static size_t encode_name(const char *name, uint8_t *out, size_t outsz)
{
	size_t o = 0;
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);
		if (l == 0 || l > 63 || o + 1 + l + 1 > outsz)
			return 0;
		out[o++] = (uint8_t)l;
		memcpy(out + o, name, l);
		o += l;
		name += l + (dot ? 1 : 0);
	}
	if (o + 1 > outsz || o + 1 > DNS_WIRE_NAME_MAX)
		return 0;
	out[o++] = 0;
	return o;
}

size_t cg_dns_build_answer(const uint8_t *msg, const struct cg_dns_query *q,
			   const char *cname, const struct cg_dns_addr *addrs,
			   size_t n, uint32_t ttl, uint8_t *out, size_t outsz)
{
	size_t o = cg_dns_build_response(msg, q, CG_DNS_RCODE_NOERROR, out,
					 outsz);
	if (!o)
		return 0;
	/* Records point at the question's name (offset 12) or at the
	 * CNAME's target with RFC 1035 4.1.4 compression. */
	uint16_t owner = 0xc000u | CG_DNS_HEADER_LEN;
	uint16_t count = 0;
	if (cname) {
		if (o + 12 > outsz)
			return 0;
		size_t nl = encode_name(cname, out + o + 12, outsz - o - 12);
		if (!nl)
			return 0;
		wr16(out + o, owner);
		wr16(out + o + 2, CG_DNS_TYPE_CNAME);
		wr16(out + o + 4, 1); /* IN */
		wr32(out + o + 6, ttl);
		wr16(out + o + 10, (uint16_t)nl);
		if (o + 12 > 0x3fff)
			return 0;
		owner = (uint16_t)(0xc000u | (o + 12));
		o += 12 + nl;
		count++;
	}
	for (size_t i = 0; i < n; i++) {
		uint16_t type = addrs[i].family == 4 ? CG_DNS_TYPE_A
						     : CG_DNS_TYPE_AAAA;
		if (q->qtype != type && q->qtype != CG_DNS_TYPE_ANY)
			continue;
		size_t alen = addrs[i].family == 4 ? 4 : 16;
		if (o + 12 + alen > outsz)
			return 0;
		wr16(out + o, owner);
		wr16(out + o + 2, type);
		wr16(out + o + 4, 1);
		wr32(out + o + 6, ttl);
		wr16(out + o + 10, (uint16_t)alen);
		memcpy(out + o + 12, addrs[i].addr, alen);
		o += 12 + alen;
		count++;
	}
	wr16(out + 6, count);
	return o;
}

size_t cg_dns_tcp_next(const uint8_t *buf, size_t len, const uint8_t **msg,
		       size_t *consumed)
{
	*msg = NULL;
	*consumed = 0;
	if (len < 2)
		return 0;
	size_t mlen = rd16(buf);
	if (mlen == 0) {
		/* Not a DNS message; consuming the prefix keeps the stream
		 * moving instead of waiting forever for bytes that are not
		 * needed. */
		*consumed = 2;
		return 0;
	}
	if (len - 2 < mlen)
		return 0;
	*msg = buf + 2;
	*consumed = 2 + mlen;
	return mlen;
}
