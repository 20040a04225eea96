/*
 * Fuzzes hostinfo_dns: parse, the non-53 heuristic, response building and
 * DNS-over-TCP framing, with invariants a correct parser always keeps.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cafeguard/hostinfo_dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cg_dns_query q;
	enum cg_dns_status st = cg_dns_parse(data, size, &q);
	if (strlen(q.qname) != q.qname_len)
		abort();
	if (q.name_ok) {
		char c[CG_NAME_BUF];
		size_t cl;
		if (cg_name_canon(q.qname, q.qname_len, c, &cl) != CG_NAME_OK ||
		    strcmp(c, q.qname))
			abort();
	}
	if (st != CG_DNS_MALFORMED &&
	    (q.question_end > size || q.question_end < CG_DNS_HEADER_LEN + 5))
		abort();
	bool like = cg_dns_looks_like_query(data, size);
	if (like && (st != CG_DNS_QUERY || !q.strict))
		abort();

	if (st == CG_DNS_QUERY) {
		uint8_t out[600];
		size_t room = size ? data[size - 1] % sizeof(out) : 0;
		size_t n = cg_dns_build_response(
		    data, &q, CG_DNS_RCODE_NXDOMAIN, out, room);
		if (n) {
			struct cg_dns_query r;
			if (n > room ||
			    cg_dns_parse(out, n, &r) != CG_DNS_NOT_QUERY ||
			    strcmp(r.qname, q.qname) || r.id != q.id)
				abort();
		}
	}

	/* The same bytes as a DNS-over-TCP stream. */
	size_t off = 0;
	while (off < size) {
		const uint8_t *msg;
		size_t consumed;
		size_t mlen =
		    cg_dns_tcp_next(data + off, size - off, &msg, &consumed);
		if (!consumed)
			break;
		if (consumed > size - off || (mlen && consumed != mlen + 2))
			abort();
		if (mlen)
			cg_dns_parse(msg, mlen, &q);
		off += consumed;
	}
	return 0;
}
