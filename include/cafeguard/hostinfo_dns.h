/*
 * hostinfo_dns: DNS messages as the gateway sees them (RFC 1035 4.1).
 *
 * The gateway reads every query itself: nDPI reports only the first name
 * of a flow, and a client may reuse one socket (or one TCP connection) for
 * many queries.  These functions parse untrusted bytes; they never read
 * outside msg[0..len) and never follow compression pointers in a question
 * (a query's QNAME is never compressed; a pointer there is malformed).
 */
#ifndef CAFEGUARD_HOSTINFO_DNS_H
#define CAFEGUARD_HOSTINFO_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cafeguard/name.h"

#define CG_DNS_HEADER_LEN 12
#define CG_DNS_RCODE_NOERROR 0
#define CG_DNS_RCODE_SERVFAIL 2
#define CG_DNS_RCODE_NXDOMAIN 3
#define CG_DNS_RCODE_REFUSED 5

enum cg_dns_status {
	CG_DNS_QUERY = 0,    /* a standard query (QR=0, OPCODE=0, QDCOUNT=1) */
	CG_DNS_NOT_QUERY,    /* well-formed, but a response or another opcode */
	CG_DNS_MALFORMED,    /* truncated, bad label, QDCOUNT != 1, ... */
};

struct cg_dns_query {
	uint16_t id;
	uint16_t flags;        /* header bytes 2-3, host order */
	uint16_t qtype, qclass;
	/* Canonical name (see name.h) when name_ok; otherwise a printable
	 * rendering with non-printable bytes as \DDD, for logs only. */
	char qname[CG_NAME_BUF * 4];
	size_t qname_len;
	bool name_ok;
	/* Offset just past the question section: a response is the header
	 * plus msg[12..question_end). */
	size_t question_end;
	/* True when the rest of the message is empty or exactly one OPT RR
	 * (RFC 6891), the shape of every query real resolvers send. */
	bool strict;
};

/*
 * Parses msg[0..len) as a DNS message.  Returns CG_DNS_QUERY and fills *q
 * for a standard query; CG_DNS_NOT_QUERY for a well-formed non-query
 * (q->id/flags set); CG_DNS_MALFORMED otherwise.
 * The root name "." yields qname "" with name_ok false.
 */
enum cg_dns_status cg_dns_parse(const uint8_t *msg, size_t len,
				struct cg_dns_query *q);

/*
 * Heuristic used on ports other than 53: true only for a query that
 * cg_dns_parse() accepts as CG_DNS_QUERY with strict set, so random UDP
 * payloads are not mistaken for DNS.
 */
bool cg_dns_looks_like_query(const uint8_t *msg, size_t len);

/*
 * Writes a response to the query msg/q into out: the header (same ID, QR=1,
 * OPCODE 0, RD copied, RA=1, the given RCODE, QDCOUNT=1, other counts 0)
 * and the question copied verbatim.  Returns the response length, or 0 if
 * outsz is too small (or rcode does not fit the header's 4 bits).
 */
size_t cg_dns_build_response(const uint8_t *msg, const struct cg_dns_query *q,
			     uint8_t rcode, uint8_t *out, size_t outsz);

#define CG_DNS_TYPE_A 1
#define CG_DNS_TYPE_CNAME 5
#define CG_DNS_TYPE_AAAA 28
#define CG_DNS_TYPE_ANY 255

/* An address an answer may carry: 4 or 16 bytes by family (4 or 6). */
struct cg_dns_addr {
	uint8_t family;
	uint8_t addr[16];
};

/*
 * Writes a NOERROR answer to the query msg/q into out: with cname (a
 * canonical name, or NULL) first a CNAME record from the question's name
 * to it, then one A or AAAA record per address of addrs[0..n) whose
 * family the question's type asks for (both for ANY), owned by cname or
 * the question's name, all with ttl.  A type no address answers gets the
 * CNAME alone, or nothing at all ("no data", RFC 2308 2.2), which sends
 * a client on to the types it can use.  Returns the length, or 0 if out
 * is too small or cname is not a host name.
 */
size_t cg_dns_build_answer(const uint8_t *msg, const struct cg_dns_query *q,
			   const char *cname, const struct cg_dns_addr *addrs,
			   size_t n, uint32_t ttl, uint8_t *out, size_t outsz);

/*
 * DNS over TCP (RFC 1035 4.2.2, RFC 7766): messages are prefixed by a
 * 2-byte length and may be pipelined or split across segments.  Given the
 * contiguous stream bytes buf[0..len) starting at a message boundary,
 * returns the length of the first complete message and sets *msg to it
 * (skipping the prefix), or 0 when more bytes are needed.  *consumed gets
 * prefix + message length (0 when more bytes are needed; 2 for a
 * zero-length message, which is skipped and returns 0).
 */
size_t cg_dns_tcp_next(const uint8_t *buf, size_t len, const uint8_t **msg,
		       size_t *consumed);

#endif
