/*
 * Test helper: builds IPv4/IPv6 TCP/UDP packets with valid checksums, so
 * pipeline tests can speak exactly what a client and server would send.
 */
#ifndef CAFEGUARD_TESTPKT_H
#define CAFEGUARD_TESTPKT_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cafeguard/act.h"

struct tp_ep {
	uint8_t family;
	uint8_t addr[16];
	uint16_t port;
};

static inline struct tp_ep tp_ep(const char *ip, uint16_t port)
{
	struct tp_ep e;
	memset(&e, 0, sizeof(e));
	e.port = port;
	if (strchr(ip, ':')) {
		e.family = 6;
		inet_pton(AF_INET6, ip, e.addr);
	} else {
		e.family = 4;
		inet_pton(AF_INET, ip, e.addr);
	}
	return e;
}

static inline void tp_w16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void tp_w32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline size_t tp_ip(uint8_t *b, const struct tp_ep *s,
			   const struct tp_ep *d, uint8_t proto, size_t l4len)
{
	if (s->family == 4) {
		memset(b, 0, 20);
		b[0] = 0x45;
		tp_w16(b + 2, (uint16_t)(20 + l4len));
		b[8] = 64;
		b[9] = proto;
		memcpy(b + 12, s->addr, 4);
		memcpy(b + 16, d->addr, 4);
		tp_w16(b + 10, cg_act_ip_checksum(b, 20));
		return 20;
	}
	memset(b, 0, 40);
	b[0] = 0x60;
	tp_w16(b + 4, (uint16_t)l4len);
	b[6] = proto;
	b[7] = 64;
	memcpy(b + 8, s->addr, 16);
	memcpy(b + 24, d->addr, 16);
	return 40;
}

static inline size_t tp_udp(uint8_t *b, const struct tp_ep *s,
			    const struct tp_ep *d, const void *payload,
			    size_t len)
{
	size_t o = tp_ip(b, s, d, 17, 8 + len);
	uint8_t *u = b + o;
	tp_w16(u, s->port);
	tp_w16(u + 2, d->port);
	tp_w16(u + 4, (uint16_t)(8 + len));
	tp_w16(u + 6, 0);
	memcpy(u + 8, payload, len);
	tp_w16(u + 6, cg_act_l4_checksum(s->family, s->addr, d->addr, 17, u,
					 8 + len));
	return o + 8 + len;
}

static inline size_t tp_tcp(uint8_t *b, const struct tp_ep *s,
			    const struct tp_ep *d, uint32_t seq, uint32_t ack,
			    uint8_t flags, const void *payload, size_t len)
{
	size_t o = tp_ip(b, s, d, 6, 20 + len);
	uint8_t *t = b + o;
	memset(t, 0, 20);
	tp_w16(t, s->port);
	tp_w16(t + 2, d->port);
	tp_w32(t + 4, seq);
	tp_w32(t + 8, ack);
	t[12] = 5 << 4;
	t[13] = flags;
	tp_w16(t + 14, 65535);
	if (len)
		memcpy(t + 20, payload, len);
	tp_w16(t + 16, cg_act_l4_checksum(s->family, s->addr, d->addr, 6, t,
					  20 + len));
	return o + 20 + len;
}

/* A DNS query for name (A, IN, RD). Returns the message length. */
static inline size_t tp_dns_query(uint8_t *b, uint16_t id, const char *name,
				  uint16_t qtype)
{
	memset(b, 0, 12);
	tp_w16(b, id);
	b[2] = 0x01; /* RD */
	tp_w16(b + 4, 1);
	size_t o = 12;
	const char *p = name;
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);
		b[o++] = (uint8_t)l;
		memcpy(b + o, p, l);
		o += l;
		p += l;
		if (*p == '.')
			p++;
	}
	b[o++] = 0;
	tp_w16(b + o, qtype);
	tp_w16(b + o + 2, 1);
	return o + 4;
}

#endif
