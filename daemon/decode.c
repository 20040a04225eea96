#include "cafeguard/decode.h"

#include <arpa/inet.h>
#include <pcap/dlt.h>
#include <stdio.h>
#include <string.h>

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	       ((uint32_t)p[2] << 8) | p[3];
}

const char *cg_decode_status_str(enum cg_decode_status st)
{
	switch (st) {
	case CG_DECODE_OK:
		return "ok";
	case CG_DECODE_NOT_IP:
		return "not IP";
	case CG_DECODE_TRUNCATED:
		return "truncated";
	case CG_DECODE_BAD_HEADER:
		return "bad header";
	case CG_DECODE_FRAGMENT:
		return "IP fragment";
	case CG_DECODE_OTHER_L4:
		return "not TCP/UDP";
	case CG_DECODE_BAD_LINK:
		return "bad link layer";
	case CG_DECODE__COUNT:
		break;
	}
	return "?";
}

/* TCP/UDP header after the IP header(s); end is the IP datagram end as the
 * IP header states it, clamped to what was captured. */
static enum cg_decode_status decode_l4(struct cg_packet *p, size_t off,
				       size_t ip_end, size_t cap_end)
{
	const uint8_t *b = p->l3;
	size_t have = cap_end < ip_end ? cap_end : ip_end;

	if (p->proto == CG_PROTO_TCP) {
		if (off + 20 > have)
			return CG_DECODE_TRUNCATED;
		const uint8_t *t = b + off;
		size_t doff = (size_t)(t[12] >> 4) * 4;
		if (doff < 20 || off + doff > ip_end)
			return CG_DECODE_BAD_HEADER;
		if (off + doff > have)
			return CG_DECODE_TRUNCATED;
		p->sport = rd16(t);
		p->dport = rd16(t + 2);
		p->seq = rd32(t + 4);
		p->ack = rd32(t + 8);
		p->tcp_flags = t[13];
		p->window = rd16(t + 14);
		p->l4_hdr_len = doff;
	} else if (p->proto == CG_PROTO_UDP) {
		if (off + 8 > have)
			return CG_DECODE_TRUNCATED;
		const uint8_t *u = b + off;
		size_t ulen = rd16(u + 4);
		/* RFC 768: the length covers header and data.  Shorter than
		 * the IP payload is legal (trailing padding); longer is a
		 * crafted packet. */
		if (ulen < 8 || off + ulen > ip_end)
			return CG_DECODE_BAD_HEADER;
		p->sport = rd16(u);
		p->dport = rd16(u + 2);
		p->l4_hdr_len = 8;
		ip_end = off + ulen;
		if (have > ip_end)
			have = ip_end;
	} else {
		return CG_DECODE_OTHER_L4;
	}
	size_t start = off + p->l4_hdr_len;
	p->payload = b + start;
	p->payload_wire = ip_end - start;
	p->payload_len = have > start ? have - start : 0;
	return CG_DECODE_OK;
}

static enum cg_decode_status decode_v4(const uint8_t *b, size_t caplen,
				       size_t wirelen, struct cg_packet *p)
{
	if (caplen < 20)
		return CG_DECODE_TRUNCATED;
	size_t ihl = (size_t)(b[0] & 0x0f) * 4;
	size_t tot = rd16(b + 2);
	/* A GSO super-packet larger than 64 KiB ("BIG TCP") carries
	 * tot_len 0; its real length is what the kernel handed us. */
	if (tot == 0 && wirelen > 0xffff)
		tot = wirelen;
	if (ihl < 20 || tot < ihl || tot > wirelen)
		return CG_DECODE_BAD_HEADER;
	if (ihl > caplen)
		return CG_DECODE_TRUNCATED;
	p->family = 4;
	p->proto = b[9];
	p->ttl = b[8];
	memcpy(p->src, b + 12, 4);
	memcpy(p->dst, b + 16, 4);
	p->l3_hdr_len = ihl;
	uint16_t frag = rd16(b + 6);
	if (frag & 0x3fff) /* MF set or offset != 0 */
		return CG_DECODE_FRAGMENT;
	return decode_l4(p, ihl, tot, caplen);
}

/* RFC 8200 4: walk extension headers up to the upper-layer header. */
static enum cg_decode_status decode_v6(const uint8_t *b, size_t caplen,
				       size_t wirelen, struct cg_packet *p)
{
	if (caplen < 40)
		return CG_DECODE_TRUNCATED;
	size_t plen = rd16(b + 4);
	size_t end = 40 + plen;
	/* Payload length 0 with a Hop-by-Hop jumbo option (RFC 2675) or a
	 * GSO packet beyond 64 KiB: trust the length the kernel gave. */
	if (plen == 0 && wirelen > 40 + 0xffff)
		end = wirelen;
	if (end > wirelen)
		return CG_DECODE_BAD_HEADER;
	p->family = 6;
	p->ttl = b[7];
	memcpy(p->src, b + 8, 16);
	memcpy(p->dst, b + 24, 16);

	uint8_t nh = b[6];
	size_t off = 40;
	for (unsigned hops = 0; hops < 16; hops++) {
		switch (nh) {
		case 0:   /* Hop-by-Hop */
		case 43:  /* Routing */
		case 60:  /* Destination Options */
		case 135: /* Mobility */
			if (off + 8 > end)
				return CG_DECODE_BAD_HEADER;
			if (off + 8 > caplen)
				return CG_DECODE_TRUNCATED;
			nh = b[off];
			off += ((size_t)b[off + 1] + 1) * 8;
			continue;
		case 51: /* AH: length in 4-octet units minus 2 */
			if (off + 8 > end)
				return CG_DECODE_BAD_HEADER;
			if (off + 8 > caplen)
				return CG_DECODE_TRUNCATED;
			nh = b[off];
			off += ((size_t)b[off + 1] + 2) * 4;
			continue;
		case 44: /* Fragment */
			if (off + 8 > end)
				return CG_DECODE_BAD_HEADER;
			if (off + 8 > caplen)
				return CG_DECODE_TRUNCATED;
			p->proto = b[off];
			p->l3_hdr_len = off + 8;
			/* An atomic fragment (offset 0, M=0, RFC 6946) is a
			 * whole packet; anything else needs reassembly. */
			if ((rd16(b + off + 2) & 0xfff9) != 0)
				return CG_DECODE_FRAGMENT;
			nh = b[off];
			off += 8;
			continue;
		default:
			break;
		}
		break;
	}
	if (off > end)
		return CG_DECODE_BAD_HEADER;
	p->proto = nh;
	p->l3_hdr_len = off;
	return decode_l4(p, off, end, caplen);
}

enum cg_decode_status cg_decode_ip(const uint8_t *buf, size_t caplen,
				   size_t wirelen, struct cg_packet *p)
{
	memset(p, 0, sizeof(*p));
	p->l3 = buf;
	p->l3_len = caplen;
	if (wirelen < caplen)
		wirelen = caplen;
	if (caplen < 1)
		return CG_DECODE_TRUNCATED;
	switch (buf[0] >> 4) {
	case 4:
		return decode_v4(buf, caplen, wirelen, p);
	case 6:
		return decode_v6(buf, caplen, wirelen, p);
	default:
		return CG_DECODE_NOT_IP;
	}
}

static enum cg_decode_status ethertype_ip(uint16_t type)
{
	return (type == 0x0800 || type == 0x86dd) ? CG_DECODE_OK
						  : CG_DECODE_NOT_IP;
}

/* Ethernet with any stack of 802.1Q / 802.1ad tags and a PPPoE session. */
static enum cg_decode_status link_ether(const uint8_t *f, size_t caplen,
					size_t *off)
{
	size_t o = 12;
	for (unsigned tags = 0;; tags++) {
		if (o + 2 > caplen)
			return CG_DECODE_TRUNCATED;
		uint16_t type = rd16(f + o);
		o += 2;
		if (type == 0x8100 || type == 0x88a8 || type == 0x9100) {
			if (tags >= 8)
				return CG_DECODE_BAD_LINK;
			o += 2; /* TCI */
			continue;
		}
		if (type == 0x8864) { /* PPPoE session (RFC 2516) */
			if (o + 8 > caplen)
				return CG_DECODE_TRUNCATED;
			uint16_t ppp = rd16(f + o + 6);
			o += 8;
			*off = o;
			if (ppp == 0x0021 || ppp == 0x0057)
				return CG_DECODE_OK;
			return CG_DECODE_NOT_IP;
		}
		*off = o;
		return ethertype_ip(type);
	}
}

enum cg_decode_status cg_decode_link(int dlt, const uint8_t *f, size_t caplen,
				     size_t *l3_off)
{
	switch (dlt) {
	case DLT_EN10MB:
		return link_ether(f, caplen, l3_off);
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		*l3_off = 0;
		return CG_DECODE_OK;
	case DLT_NULL:
	case DLT_LOOP: {
		/* 4-byte address family, host order (NULL) or network
		 * order (LOOP); values for IPv6 differ by OS, so look at
		 * the IP version nibble instead. */
		if (caplen < 5)
			return CG_DECODE_TRUNCATED;
		*l3_off = 4;
		unsigned v = f[4] >> 4;
		return (v == 4 || v == 6) ? CG_DECODE_OK : CG_DECODE_NOT_IP;
	}
	case DLT_LINUX_SLL:
		if (caplen < 16)
			return CG_DECODE_TRUNCATED;
		*l3_off = 16;
		return ethertype_ip(rd16(f + 14));
	case DLT_LINUX_SLL2:
		if (caplen < 20)
			return CG_DECODE_TRUNCATED;
		*l3_off = 20;
		return ethertype_ip(rd16(f));
	default:
		return CG_DECODE_BAD_LINK;
	}
}

bool cg_decode_link_supported(int dlt)
{
	switch (dlt) {
	case DLT_EN10MB:
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
	case DLT_NULL:
	case DLT_LOOP:
	case DLT_LINUX_SLL:
	case DLT_LINUX_SLL2:
		return true;
	default:
		return false;
	}
}

void cg_addr_str(uint8_t family, const uint8_t addr[16], char *out,
		 size_t outsz)
{
	if (!inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, out,
		       (socklen_t)outsz))
		snprintf(out, outsz, "?");
}
