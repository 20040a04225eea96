#include "cafeguard/act.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct recorded {
	size_t len;
	uint8_t data[CG_ACT_PKT_MAX];
};

/* A probe waiting for its batch's verdicts (cg_injector_flush). */
struct later {
	uint8_t family;
	uint8_t dst[16];
	uint8_t len;
	uint8_t data[60]; /* an IPv6 header and a bare TCP header */
};

struct cg_injector {
	int fd4, fd6;        /* -1 for a recorder */
	uint16_t ipid;
	struct cg_injector_stats st;
	struct recorded *rec;
	unsigned keep, nrec, head;
	bool defer;          /* emit() keeps the packet for later */
	unsigned nlater;
	struct later later[16];
	uint8_t buf[CG_ACT_PKT_MAX];
};

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

struct cg_injector *cg_injector_open_raw(uint32_t mark, struct cg_error *err)
{
	struct cg_injector *inj = calloc(1, sizeof(*inj));
	if (!inj) {
		cg_error_set(err, "injector: out of memory");
		return NULL;
	}
	/* IPPROTO_RAW implies IP_HDRINCL (raw(7)); for IPv6 it likewise
	 * sends our own IPv6 header. */
	inj->fd4 = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	inj->fd6 = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (inj->fd4 < 0 || inj->fd6 < 0) {
		cg_error_set(err, "raw socket for answers and resets: %s "
				  "(needs CAP_NET_RAW)",
			     strerror(errno));
		cg_injector_close(inj);
		return NULL;
	}
	if (mark && (setsockopt(inj->fd4, SOL_SOCKET, SO_MARK, &mark,
				sizeof(mark)) < 0 ||
		     setsockopt(inj->fd6, SOL_SOCKET, SO_MARK, &mark,
				sizeof(mark)) < 0)) {
		cg_error_set(err, "mark for answers and resets: %s (needs "
				  "CAP_NET_ADMIN)",
			     strerror(errno));
		cg_injector_close(inj);
		return NULL;
	}
	return inj;
}

struct cg_injector *cg_injector_open_recorder(unsigned keep)
{
	struct cg_injector *inj = calloc(1, sizeof(*inj));
	if (!inj)
		return NULL;
	inj->fd4 = inj->fd6 = -1;
	inj->keep = keep;
	if (keep) {
		inj->rec = calloc(keep, sizeof(*inj->rec));
		if (!inj->rec) {
			free(inj);
			return NULL;
		}
	}
	return inj;
}

void cg_injector_close(struct cg_injector *inj)
{
	if (!inj)
		return;
	if (inj->fd4 >= 0)
		close(inj->fd4);
	if (inj->fd6 >= 0)
		close(inj->fd6);
	free(inj->rec);
	free(inj);
}

void cg_injector_stats(const struct cg_injector *inj,
		       struct cg_injector_stats *st)
{
	*st = inj->st;
}

unsigned cg_injector_recorded(const struct cg_injector *inj)
{
	return inj->nrec;
}

const uint8_t *cg_injector_packet(const struct cg_injector *inj, unsigned i,
				  size_t *len)
{
	if (i >= inj->nrec)
		return NULL;
	unsigned first = (inj->head + inj->keep - inj->nrec) % inj->keep;
	const struct recorded *r = &inj->rec[(first + i) % inj->keep];
	*len = r->len;
	return r->data;
}

void cg_injector_forget(struct cg_injector *inj)
{
	inj->nrec = 0;
	inj->head = 0;
}

static uint32_t sum16(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)(p[len - 1] << 8);
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint16_t cg_act_ip_checksum(const uint8_t *hdr, size_t len)
{
	return fold(sum16(hdr, len, 0));
}

uint16_t cg_act_l4_checksum(uint8_t family, const uint8_t *src,
			    const uint8_t *dst, uint8_t proto,
			    const uint8_t *l4, size_t len)
{
	size_t alen = family == 4 ? 4 : 16;
	uint32_t sum = sum16(src, alen, 0);
	sum = sum16(dst, alen, sum);
	sum += proto;
	sum += (uint32_t)len;
	sum = sum16(l4, len, sum);
	uint16_t c = fold(sum);
	/* RFC 768: a computed UDP checksum of zero is sent as all ones. */
	return (proto == 17 && c == 0) ? 0xffff : c;
}

/* Writes the IP header for an l4len-byte segment; returns its length. */
static size_t put_ip(struct cg_injector *inj, uint8_t family,
		     const uint8_t *src, const uint8_t *dst, uint8_t proto,
		     size_t l4len)
{
	uint8_t *b = inj->buf;
	if (family == 4) {
		memset(b, 0, 20);
		b[0] = 0x45;
		wr16(b + 2, (uint16_t)(20 + l4len));
		wr16(b + 4, ++inj->ipid);
		wr16(b + 6, 0x4000); /* DF */
		b[8] = 64;
		b[9] = proto;
		memcpy(b + 12, src, 4);
		memcpy(b + 16, dst, 4);
		wr16(b + 10, cg_act_ip_checksum(b, 20));
		return 20;
	}
	memset(b, 0, 40);
	b[0] = 0x60;
	wr16(b + 4, (uint16_t)l4len);
	b[6] = proto;
	b[7] = 64;
	memcpy(b + 8, src, 16);
	memcpy(b + 24, dst, 16);
	return 40;
}

static int send_now(struct cg_injector *inj, uint8_t family,
		    const uint8_t *dst, const uint8_t *data, size_t len);

static int emit(struct cg_injector *inj, uint8_t family, const uint8_t *dst,
		size_t len)
{
	if (inj->defer && inj->fd4 >= 0 &&
	    inj->nlater < sizeof(inj->later) / sizeof(inj->later[0]) &&
	    len <= sizeof(inj->later[0].data)) {
		struct later *l = &inj->later[inj->nlater++];
		l->family = family;
		memcpy(l->dst, dst, family == 4 ? 4 : 16);
		l->len = (uint8_t)len;
		memcpy(l->data, inj->buf, len);
		return 0;
	}
	return send_now(inj, family, dst, inj->buf, len);
}

void cg_injector_flush(struct cg_injector *inj)
{
	for (unsigned i = 0; i < inj->nlater; i++) {
		const struct later *l = &inj->later[i];
		send_now(inj, l->family, l->dst, l->data, l->len);
	}
	inj->nlater = 0;
}

static int send_now(struct cg_injector *inj, uint8_t family,
		    const uint8_t *dst, const uint8_t *data, size_t len)
{
	if (inj->fd4 < 0) {
		if (inj->keep) {
			struct recorded *r = &inj->rec[inj->head];
			memcpy(r->data, data, len);
			r->len = len;
			inj->head = (inj->head + 1) % inj->keep;
			if (inj->nrec < inj->keep)
				inj->nrec++;
		}
		inj->st.sent++;
		return 0;
	}
	ssize_t n;
	if (family == 4) {
		struct sockaddr_in sa = {.sin_family = AF_INET};
		memcpy(&sa.sin_addr, dst, 4);
		n = sendto(inj->fd4, data, len, 0, (struct sockaddr *)&sa,
			   sizeof(sa));
	} else {
		struct sockaddr_in6 sa = {.sin6_family = AF_INET6};
		memcpy(&sa.sin6_addr, dst, 16);
		n = sendto(inj->fd6, data, len, 0, (struct sockaddr *)&sa,
			   sizeof(sa));
	}
	if (n != (ssize_t)len) {
		inj->st.errors++;
		return -1;
	}
	inj->st.sent++;
	return 0;
}

int cg_act_udp_reply(struct cg_injector *inj, const struct cg_packet *p,
		     const uint8_t *msg, size_t len)
{
	size_t iphl = p->family == 4 ? 20 : 40;
	if (iphl + 8 + len > sizeof(inj->buf)) {
		inj->st.errors++;
		return -1;
	}
	size_t off = put_ip(inj, p->family, p->dst, p->src, 17, 8 + len);
	uint8_t *u = inj->buf + off;
	wr16(u, p->dport);
	wr16(u + 2, p->sport);
	wr16(u + 4, (uint16_t)(8 + len));
	wr16(u + 6, 0);
	memcpy(u + 8, msg, len);
	wr16(u + 6, cg_act_l4_checksum(p->family, p->dst, p->src, 17, u,
				       8 + len));
	return emit(inj, p->family, p->src, off + 8 + len);
}

static int send_tcp(struct cg_injector *inj, uint8_t family,
		    const uint8_t *src, const uint8_t *dst, uint16_t sport,
		    uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
		    const uint8_t *payload, size_t plen)
{
	size_t iphl = family == 4 ? 20 : 40;
	if (iphl + 20 + plen > sizeof(inj->buf)) {
		inj->st.errors++;
		return -1;
	}
	size_t off = put_ip(inj, family, src, dst, 6, 20 + plen);
	uint8_t *t = inj->buf + off;
	memset(t, 0, 20);
	wr16(t, sport);
	wr16(t + 2, dport);
	wr32(t + 4, seq);
	wr32(t + 8, ack);
	t[12] = 5 << 4;
	t[13] = flags;
	/* A RST carries no window; a data segment offers a modest one. */
	wr16(t + 14, (flags & 0x04) ? 0 : 8192);
	if (plen)
		memcpy(t + 20, payload, plen);
	wr16(t + 16, cg_act_l4_checksum(family, src, dst, 6, t, 20 + plen));
	return emit(inj, family, dst, off + 20 + plen);
}

/* Sequence space p occupies: its payload, plus one each for SYN and FIN
 * (RFC 9293 3.4). */
static uint32_t seq_len(const struct cg_packet *p)
{
	uint32_t n = (uint32_t)p->payload_wire;
	if (p->tcp_flags & 0x02)
		n++;
	if (p->tcp_flags & 0x01)
		n++;
	return n;
}

int cg_act_tcp_reset(struct cg_injector *inj, const struct cg_packet *p,
		     bool to_sender, bool to_receiver)
{
	int rc = 0;
	if (to_sender &&
	    send_tcp(inj, p->family, p->dst, p->src, p->dport, p->sport,
		     p->ack, p->seq + seq_len(p), 0x14 /* RST|ACK */, NULL,
		     0) < 0)
		rc = -1;
	if (to_receiver &&
	    send_tcp(inj, p->family, p->src, p->dst, p->sport, p->dport,
		     p->seq, p->ack, 0x14, NULL, 0) < 0)
		rc = -1;
	return rc;
}

int cg_act_tcp_probe(struct cg_injector *inj, const struct cg_packet *p)
{
	/* A quarter of the sequence space behind where each end stood at
	 * p: below anything it can still accept however far it has moved
	 * on, yet not so far that it wraps into the future.  Its stack
	 * answers the unacceptable segment with a duplicate ACK (RFC 9293
	 * 3.10.7.4); a RST would be dropped without a word. */
	const uint32_t back = 1u << 30;
	int rc = 0;
	/* Their answers must meet the block: sent after the verdicts. */
	inj->defer = true;
	if (send_tcp(inj, p->family, p->dst, p->src, p->dport, p->sport,
		     p->ack - back, p->seq + seq_len(p), 0x10 /* ACK */, NULL,
		     0) < 0)
		rc = -1;
	if (send_tcp(inj, p->family, p->src, p->dst, p->sport, p->dport,
		     p->seq - back, p->ack, 0x10, NULL, 0) < 0)
		rc = -1;
	inj->defer = false;
	return rc;
}

int cg_act_tcp_answer(struct cg_injector *inj, const struct cg_packet *p,
		      const uint8_t *data, size_t len)
{
	/* The answer closes the client's side (FIN) and a reset frees the
	 * server, which never saw the request. */
	int rc = send_tcp(inj, p->family, p->dst, p->src, p->dport, p->sport,
			  p->ack, p->seq + seq_len(p),
			  0x19 /* FIN|PSH|ACK */, data, len);
	if (cg_act_tcp_reset(inj, p, false, true) < 0)
		rc = -1;
	return rc;
}

int cg_act_tcp_reply(struct cg_injector *inj, const struct cg_packet *p,
		     const uint8_t *msg, size_t len)
{
	uint8_t framed[CG_ACT_PKT_MAX];
	if (len + 2 > sizeof(framed) - 60) {
		inj->st.errors++;
		return -1;
	}
	wr16(framed, (uint16_t)len);
	memcpy(framed + 2, msg, len);
	return cg_act_tcp_answer(inj, p, framed, len + 2);
}

int cg_act_unreachable(struct cg_injector *inj, const struct cg_packet *p)
{
	/* RFC 1812 4.3.2.3: an ICMPv4 error stays within 576 bytes;
	 * RFC 4443 2.4(c): an ICMPv6 error within the minimum MTU. */
	size_t iphl = p->family == 4 ? 20 : 40;
	size_t total = p->family == 4 ? 576 : 1280;
	size_t quote = p->l3_len;
	if (quote > total - iphl - 8)
		quote = total - iphl - 8;
	if (!p->l3 || quote < iphl || iphl + 8 + quote > sizeof(inj->buf)) {
		inj->st.errors++;
		return -1;
	}
	uint8_t proto = p->family == 4 ? 1 : 58;
	size_t off = put_ip(inj, p->family, p->dst, p->src, proto, 8 + quote);
	uint8_t *m = inj->buf + off;
	memset(m, 0, 8);
	/* Administratively prohibited: ICMP 3/13, ICMPv6 1/1.  A connected
	 * UDP socket (QUIC) takes either as a hard error at once. */
	m[0] = p->family == 4 ? 3 : 1;
	m[1] = p->family == 4 ? 13 : 1;
	memcpy(m + 8, p->l3, quote);
	uint16_t c = p->family == 4
			     ? cg_act_ip_checksum(m, 8 + quote)
			     : cg_act_l4_checksum(6, p->dst, p->src, 58, m,
						  8 + quote);
	wr16(m + 2, c);
	return emit(inj, p->family, p->src, off + 8 + quote);
}
