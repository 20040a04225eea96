/*
 * decode: L2 (replay only) and L3/L4 parsing into a struct cg_packet.
 *
 * Never trusts a length: every header field that sizes something is checked
 * against both the captured bytes and the enclosing header.  A packet that
 * fails is reported by reason, so callers count reasons instead of logging
 * each bad packet.
 */
#ifndef CAFEGUARD_DECODE_H
#define CAFEGUARD_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CG_PROTO_TCP 6
#define CG_PROTO_UDP 17

#define CG_TCP_FIN 0x01
#define CG_TCP_SYN 0x02
#define CG_TCP_RST 0x04
#define CG_TCP_PSH 0x08
#define CG_TCP_ACK 0x10

enum cg_decode_status {
	CG_DECODE_OK = 0,
	CG_DECODE_NOT_IP,        /* link layer carries something else */
	CG_DECODE_TRUNCATED,     /* a header runs past the captured bytes */
	CG_DECODE_BAD_HEADER,    /* impossible version, IHL, length, offset */
	CG_DECODE_FRAGMENT,      /* IP fragment (the kernel defragments
				    before FORWARD; only replay sees these) */
	CG_DECODE_OTHER_L4,      /* valid IP, but neither TCP nor UDP */
	CG_DECODE_BAD_LINK,      /* unknown or malformed link layer */
	CG_DECODE__COUNT
};

const char *cg_decode_status_str(enum cg_decode_status st);

/* An IPv4 address is stored as its 4 bytes followed by 12 zero bytes. */
struct cg_packet {
	const uint8_t *l3;     /* start of the IP header */
	size_t l3_len;         /* bytes available from l3 (captured) */
	uint8_t family;        /* 4 or 6 */
	uint8_t proto;         /* CG_PROTO_TCP / CG_PROTO_UDP / other */
	uint8_t ttl;           /* TTL or hop limit */
	uint8_t tcp_flags;
	uint8_t src[16], dst[16];
	uint16_t sport, dport; /* host order */
	uint32_t seq, ack;     /* TCP only, host order */
	uint16_t window;       /* TCP only */
	size_t l3_hdr_len;     /* IP header incl. IPv6 extension headers */
	size_t l4_hdr_len;
	const uint8_t *payload;
	size_t payload_len;    /* L4 payload bytes present in the buffer */
	size_t payload_wire;   /* L4 payload length according to the headers
				  (> payload_len when the capture was cut) */
};

/*
 * Decodes an IP packet starting at buf (no link layer).  caplen is what is
 * in the buffer, wirelen what the packet had on the wire (>= caplen; pass
 * caplen when unknown).  On CG_DECODE_OK every pointer in *p lies within
 * buf[0..caplen).  For CG_DECODE_OTHER_L4 and CG_DECODE_FRAGMENT the
 * addresses and family are filled in.
 */
enum cg_decode_status cg_decode_ip(const uint8_t *buf, size_t caplen,
				   size_t wirelen, struct cg_packet *p);

/*
 * Finds the IP header inside a captured frame of pcap link type dlt
 * (DLT_EN10MB with 802.1Q/QinQ and PPPoE session, DLT_RAW, DLT_IPV4,
 * DLT_IPV6, DLT_NULL, DLT_LOOP, DLT_LINUX_SLL, DLT_LINUX_SLL2).
 * Sets *l3_off.  Returns CG_DECODE_OK, CG_DECODE_NOT_IP (e.g. ARP, STP),
 * CG_DECODE_TRUNCATED or CG_DECODE_BAD_LINK.
 */
enum cg_decode_status cg_decode_link(int dlt, const uint8_t *frame,
				     size_t caplen, size_t *l3_off);

/* True if the link type is one cg_decode_link understands. */
bool cg_decode_link_supported(int dlt);

/* Formats an address ("10.0.0.1" / "2001:db8::1") into out (>= 46 bytes). */
void cg_addr_str(uint8_t family, const uint8_t addr[16], char *out,
		 size_t outsz);

#endif
