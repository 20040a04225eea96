/*
 * hostinfo_dns: real queries from the nDPI captures (tests/data/hostinfo,
 * see its README) and hand-built adversarial messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cafeguard/hostinfo_dns.h"

#include "hostinfo_testutil.h"

/* Builds a message: header (id 0x1234, flags, counts), the labels of
 * dotted (or raw wire bytes when wire is set), QTYPE/QCLASS, then tail. */
static size_t build(uint8_t *m, uint16_t flags, uint16_t qd, uint16_t an,
		    uint16_t ns, uint16_t ar, const char *dotted,
		    const uint8_t *wire, size_t wirelen, const uint8_t *tail,
		    size_t taillen)
{
	uint16_t h[6] = {0x1234, flags, qd, an, ns, ar};
	size_t n = 0;
	for (int i = 0; i < 6; i++) {
		m[n++] = (uint8_t)(h[i] >> 8);
		m[n++] = (uint8_t)h[i];
	}
	if (wire) {
		memcpy(m + n, wire, wirelen);
		n += wirelen;
	} else {
		const char *s = dotted;
		while (*s) {
			const char *dot = strchr(s, '.');
			size_t l = dot ? (size_t)(dot - s) : strlen(s);
			m[n++] = (uint8_t)l;
			memcpy(m + n, s, l);
			n += l;
			s += l + (dot ? 1 : 0);
		}
		m[n++] = 0;
	}
	m[n++] = 0;
	m[n++] = 1; /* A */
	m[n++] = 0;
	m[n++] = 1; /* IN */
	if (taillen) {
		memcpy(m + n, tail, taillen);
		n += taillen;
	}
	return n;
}

/* An OPT RR (RFC 6891): root, type 41, UDP size 1232, one cookie option. */
static const uint8_t opt_rr[] = {0x00, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x00, 0x00,
				 0x00, 0x00, 0x0c, 0x00, 0x0a, 0x00, 0x08, 1,
				 2,    3,    4,	   5,	 6,    7,    8};

static void real_queries(void **state)
{
	(void)state;
	static const struct {
		const char *file, *name;
		uint16_t id, qtype;
	} cases[] = {
	    {"dns-example-aaaa-query.bin", "www.example.com", 0xbc1f, 28},
	    {"dns-whatsapp-a-query.bin", "e7.whatsapp.net", 0x7843, 1},
	    {"dns-punycode-query.bin", "www.xn--mnich-kva.com", 0, 1},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct blob bl = load(cases[i].file);
		struct cg_dns_query q;
		assert_int_equal(cg_dns_parse(bl.b, bl.n, &q), CG_DNS_QUERY);
		assert_string_equal(q.qname, cases[i].name);
		assert_int_equal(q.qname_len, strlen(cases[i].name));
		assert_true(q.name_ok);
		assert_true(q.strict);
		assert_int_equal(q.qtype, cases[i].qtype);
		assert_int_equal(q.qclass, 1);
		assert_int_equal(q.question_end, bl.n);
		if (cases[i].id)
			assert_int_equal(q.id, cases[i].id);
		assert_true(cg_dns_looks_like_query(bl.b, bl.n));
		/* Every cut-short query is malformed, never a crash. */
		for (size_t k = 0; k < bl.n; k++) {
			uint8_t *cut = malloc(k ? k : 1);
			memcpy(cut, bl.b, k);
			assert_int_equal(cg_dns_parse(cut, k, &q),
					 CG_DNS_MALFORMED);
			assert_false(cg_dns_looks_like_query(cut, k));
			free(cut);
		}
		free(bl.b);
	}
}

/* dns-invalid-chars.pcap: raw 0x04 0x05 0x06 inside a label. */
static void invalid_chars_rendered(void **state)
{
	(void)state;
	struct blob bl = load("dns-invalid-chars-query.bin");
	struct cg_dns_query q;
	assert_int_equal(cg_dns_parse(bl.b, bl.n, &q), CG_DNS_QUERY);
	assert_false(q.name_ok);
	assert_string_equal(q.qname,
			    "www.allyourba\\004\\005\\006arebelongto.cn");
	assert_int_equal(q.qname_len, strlen(q.qname));
	assert_true(q.strict);
	free(bl.b);
}

static void response_is_not_query(void **state)
{
	(void)state;
	struct blob bl = load("dns-whatsapp-a-response.bin");
	struct cg_dns_query q;
	assert_int_equal(cg_dns_parse(bl.b, bl.n, &q), CG_DNS_NOT_QUERY);
	assert_int_equal(q.id, 0x7843);
	assert_int_equal(q.flags, 0x8180);
	assert_false(q.strict);
	assert_false(cg_dns_looks_like_query(bl.b, bl.n));
	/* Cut inside the question: malformed; after it: still a
	 * response (the answers are never read). */
	for (size_t k = 0; k < bl.n; k++) {
		uint8_t *cut = malloc(k ? k : 1);
		memcpy(cut, bl.b, k);
		enum cg_dns_status st = cg_dns_parse(cut, k, &q);
		assert_int_equal(st,
				 k < 33 ? CG_DNS_MALFORMED : CG_DNS_NOT_QUERY);
		free(cut);
	}
	free(bl.b);
}

static void other_opcodes(void **state)
{
	(void)state;
	uint8_t m[512];
	/* NOTIFY (4) and UPDATE (5) are well formed but not queries. */
	size_t n =
	    build(m, 4 << 11, 1, 0, 0, 0, "example.com", NULL, 0, NULL, 0);
	struct cg_dns_query q;
	assert_int_equal(cg_dns_parse(m, n, &q), CG_DNS_NOT_QUERY);
	n = build(m, 5 << 11, 1, 0, 0, 0, "example.com", NULL, 0, NULL, 0);
	assert_int_equal(cg_dns_parse(m, n, &q), CG_DNS_NOT_QUERY);
	assert_false(cg_dns_looks_like_query(m, n));
}

static void qdcount_must_be_one(void **state)
{
	(void)state;
	uint8_t m[512];
	struct cg_dns_query q;
	for (uint16_t qd = 0; qd < 4; qd++) {
		size_t n = build(m, 0x0100, qd, 0, 0, 0, "a.example", NULL, 0,
				 NULL, 0);
		assert_int_equal(cg_dns_parse(m, n, &q),
				 qd == 1 ? CG_DNS_QUERY : CG_DNS_MALFORMED);
	}
	assert_int_equal(cg_dns_parse(m, 11, &q), CG_DNS_MALFORMED);
	assert_int_equal(cg_dns_parse(m, 0, &q), CG_DNS_MALFORMED);
}

static void compression_and_label_types_refused(void **state)
{
	(void)state;
	uint8_t m[512];
	struct cg_dns_query q;
	/* A pointer to offset 12 (itself): the classic parser loop. */
	static const uint8_t ptr[] = {0xc0, 0x0c};
	size_t n = build(m, 0, 1, 0, 0, 0, NULL, ptr, sizeof(ptr), NULL, 0);
	assert_int_equal(cg_dns_parse(m, n, &q), CG_DNS_MALFORMED);
	static const uint8_t ptr2[] = {3, 'w', 'w', 'w', 0xc0, 0x20};
	n = build(m, 0, 1, 0, 0, 0, NULL, ptr2, sizeof(ptr2), NULL, 0);
	assert_int_equal(cg_dns_parse(m, n, &q), CG_DNS_MALFORMED);
	/* 0x40 (label of 64) and 0x80 are reserved label types. */
	uint8_t l64[66] = {64};
	memset(l64 + 1, 'a', 64);
	l64[65] = 0;
	n = build(m, 0, 1, 0, 0, 0, NULL, l64, sizeof(l64), NULL, 0);
	assert_int_equal(cg_dns_parse(m, n, &q), CG_DNS_MALFORMED);
	static const uint8_t ext[] = {0x80, 0};
	n = build(m, 0, 1, 0, 0, 0, NULL, ext, sizeof(ext), NULL, 0);
	assert_int_equal(cg_dns_parse(m, n, &q), CG_DNS_MALFORMED);
	/* A 63-byte label is fine. */
	uint8_t l63[65] = {63};
	memset(l63 + 1, 'b', 63);
	l63[64] = 0;
	n = build(m, 0, 1, 0, 0, 0, NULL, l63, sizeof(l63), NULL, 0);
	assert_int_equal(cg_dns_parse(m, n, &q), CG_DNS_QUERY);
	assert_true(q.name_ok);
	assert_int_equal(q.qname_len, 63);
}

/* Names of exactly 255 wire bytes pass, 256 do not (RFC 1035 3.1). */
static void name_length_limit(void **state)
{
	(void)state;
	uint8_t wire[300], m[600];
	struct cg_dns_query q;
	/* 63+63+63+61 label bytes, 4 length bytes, root: 255 */
	size_t w = 0;
	const size_t labels[] = {63, 63, 63, 61};
	for (int i = 0; i < 4; i++) {
		wire[w++] = (uint8_t)labels[i];
		memset(wire + w, 'a' + i, labels[i]);
		w += labels[i];
	}
	wire[w++] = 0;
	assert_int_equal(w, 255);
	size_t n = build(m, 0, 1, 0, 0, 0, NULL, wire, w, NULL, 0);
	assert_int_equal(cg_dns_parse(m, n, &q), CG_DNS_QUERY);
	assert_true(q.name_ok);
	assert_int_equal(q.qname_len, 253);

	/* One more byte in the last label: 256 */
	wire[3 * 64] = 62;
	wire[w - 1] = 'd';
	wire[w++] = 0;
	n = build(m, 0, 1, 0, 0, 0, NULL, wire, w, NULL, 0);
	assert_int_equal(cg_dns_parse(m, n, &q), CG_DNS_MALFORMED);

	/* Worst case for the escaped rendering: 250 non-printable bytes. */
	w = 0;
	for (int i = 0; i < 4; i++) {
		wire[w++] = (uint8_t)labels[i];
		memset(wire + w, 0x01, labels[i]);
		w += labels[i];
	}
	wire[w++] = 0;
	n = build(m, 0, 1, 0, 0, 0, NULL, wire, w, NULL, 0);
	assert_int_equal(cg_dns_parse(m, n, &q), CG_DNS_QUERY);
	assert_false(q.name_ok);
	assert_int_equal(q.qname_len, 250 * 4 + 3);
	assert_int_equal(strlen(q.qname), q.qname_len);
	assert_memory_equal(q.qname, "\\001\\001", 8);
}

static void name_rendering_and_canon(void **state)
{
	(void)state;
	uint8_t m[512];
	struct cg_dns_query q;
	/* Upper case is canonicalised. */
	size_t n =
	    build(m, 0x0100, 1, 0, 0, 0, "WWW.Example.COM", NULL, 0, NULL, 0);
	assert_int_equal(cg_dns_parse(m, n, &q), CG_DNS_QUERY);
	assert_true(q.name_ok);
	assert_string_equal(q.qname, "www.example.com");
	/* A dot inside a label is not a host name and renders escaped. */
	static const uint8_t dotlabel[] = {3,	'a', '.', 'b', 3,
					   'c', 'o', 'm', 0};
	n = build(m, 0, 1, 0, 0, 0, NULL, dotlabel, sizeof(dotlabel), NULL, 0);
	assert_int_equal(cg_dns_parse(m, n, &q), CG_DNS_QUERY);
	assert_false(q.name_ok);
	assert_string_equal(q.qname, "a\\046b.com");
	/* Root: empty name, never ok. */
	static const uint8_t root[] = {0};
	n = build(m, 0, 1, 0, 0, 0, NULL, root, sizeof(root), NULL, 0);
	assert_int_equal(cg_dns_parse(m, n, &q), CG_DNS_QUERY);
	assert_false(q.name_ok);
	assert_string_equal(q.qname, "");
	assert_int_equal(q.qname_len, 0);
	/* An address is not a host name. */
	n = build(m, 0, 1, 0, 0, 0, "10.1.2.3", NULL, 0, NULL, 0);
	assert_int_equal(cg_dns_parse(m, n, &q), CG_DNS_QUERY);
	assert_false(q.name_ok);
	assert_string_equal(q.qname, "10.1.2.3");
	/* Space and backslash are escaped too. */
	static const uint8_t odd[] = {3, 'a', ' ', '\\', 0};
	n = build(m, 0, 1, 0, 0, 0, NULL, odd, sizeof(odd), NULL, 0);
	assert_int_equal(cg_dns_parse(m, n, &q), CG_DNS_QUERY);
	assert_string_equal(q.qname, "a\\032\\092");
	/* Non-ASCII bytes: \DDD with three digits. */
	static const uint8_t hi[] = {2, 0xc3, 0xbc, 0};
	n = build(m, 0, 1, 0, 0, 0, NULL, hi, sizeof(hi), NULL, 0);
	assert_int_equal(cg_dns_parse(m, n, &q), CG_DNS_QUERY);
	assert_string_equal(q.qname, "\\195\\188");
}

static void strict_shape(void **state)
{
	(void)state;
	uint8_t m[512];
	struct cg_dns_query q;
	/* One OPT RR: strict. */
	size_t n = build(m, 0x0100, 1, 0, 0, 1, "example.com", NULL, 0, opt_rr,
			 sizeof(opt_rr));
	assert_int_equal(cg_dns_parse(m, n, &q), CG_DNS_QUERY);
	assert_true(q.strict);
	assert_true(cg_dns_looks_like_query(m, n));
	assert_int_equal(q.question_end, n - sizeof(opt_rr));

	uint8_t bad[sizeof(opt_rr) + 8];
	/* OPT whose option overruns its RDATA */
	memcpy(bad, opt_rr, sizeof(opt_rr));
	bad[14] = 9;
	n = build(m, 0, 1, 0, 0, 1, "example.com", NULL, 0, bad,
		  sizeof(opt_rr));
	assert_int_equal(cg_dns_parse(m, n, &q), CG_DNS_QUERY);
	assert_false(q.strict);
	/* OPT with a non-root owner */
	memcpy(bad, opt_rr, sizeof(opt_rr));
	bad[0] = 1;
	n = build(m, 0, 1, 0, 0, 1, "example.com", NULL, 0, bad,
		  sizeof(opt_rr));
	assert_false(cg_dns_parse(m, n, &q) == CG_DNS_QUERY && q.strict);
	/* Not OPT: type A in the additional section */
	memcpy(bad, opt_rr, sizeof(opt_rr));
	bad[2] = 1;
	n = build(m, 0, 1, 0, 0, 1, "example.com", NULL, 0, bad,
		  sizeof(opt_rr));
	assert_int_equal(cg_dns_parse(m, n, &q), CG_DNS_QUERY);
	assert_false(q.strict);
	/* OPT followed by junk */
	memcpy(bad, opt_rr, sizeof(opt_rr));
	bad[sizeof(opt_rr)] = 0;
	n = build(m, 0, 1, 0, 0, 1, "example.com", NULL, 0, bad,
		  sizeof(opt_rr) + 1);
	assert_int_equal(cg_dns_parse(m, n, &q), CG_DNS_QUERY);
	assert_false(q.strict);
	/* Counts that announce records, or trailing bytes with none */
	n = build(m, 0, 1, 1, 0, 0, "example.com", NULL, 0, NULL, 0);
	assert_int_equal(cg_dns_parse(m, n, &q), CG_DNS_QUERY);
	assert_false(q.strict);
	n = build(m, 0, 1, 0, 0, 2, "example.com", NULL, 0, opt_rr,
		  sizeof(opt_rr));
	assert_int_equal(cg_dns_parse(m, n, &q), CG_DNS_QUERY);
	assert_false(q.strict);
	static const uint8_t junk[] = {1, 2, 3};
	n = build(m, 0, 1, 0, 0, 0, "example.com", NULL, 0, junk, sizeof(junk));
	assert_int_equal(cg_dns_parse(m, n, &q), CG_DNS_QUERY);
	assert_false(q.strict);
	assert_false(cg_dns_looks_like_query(m, n));
	/* Every truncation of an OPT query is either malformed or not
	 * strict: a cut OPT never passes the non-53 heuristic. */
	n = build(m, 0x0100, 1, 0, 0, 1, "example.com", NULL, 0, opt_rr,
		  sizeof(opt_rr));
	for (size_t k = 0; k < n; k++)
		assert_false(cg_dns_looks_like_query(m, k));
	/* Random UDP payloads are not taken for DNS. */
	uint8_t rnd[64];
	unsigned seed = 12345;
	for (int t = 0; t < 2000; t++) {
		for (size_t i = 0; i < sizeof(rnd); i++) {
			seed = seed * 1103515245u + 12345u;
			rnd[i] = (uint8_t)(seed >> 16);
		}
		assert_false(cg_dns_looks_like_query(rnd, sizeof(rnd)));
	}
}

static void response_building(void **state)
{
	(void)state;
	struct blob bl = load("dns-example-aaaa-query.bin");
	struct cg_dns_query q;
	assert_int_equal(cg_dns_parse(bl.b, bl.n, &q), CG_DNS_QUERY);
	uint8_t out[512];
	size_t n = cg_dns_build_response(bl.b, &q, CG_DNS_RCODE_NXDOMAIN, out,
					 sizeof(out));
	assert_int_equal(n, q.question_end);
	static const uint8_t hdr[] = {0xbc, 0x1f, 0x81, 0x83, 0, 1,
				      0,    0,	  0,	0,    0, 0};
	assert_memory_equal(out, hdr, sizeof(hdr));
	assert_memory_equal(out + 12, bl.b + 12, n - 12);
	struct cg_dns_query r;
	assert_int_equal(cg_dns_parse(out, n, &r), CG_DNS_NOT_QUERY);
	assert_string_equal(r.qname, "www.example.com");
	/* Exactly enough room; one byte less is refused. */
	assert_int_equal(cg_dns_build_response(bl.b, &q, 0, out, n), n);
	assert_int_equal(cg_dns_build_response(bl.b, &q, 0, out, n - 1), 0);
	assert_int_equal(cg_dns_build_response(bl.b, &q, 0, out, 0), 0);
	/* RCODE beyond the 4-bit field */
	assert_int_equal(cg_dns_build_response(bl.b, &q, 16, out, 512), 0);
	n = cg_dns_build_response(bl.b, &q, CG_DNS_RCODE_REFUSED, out, 512);
	assert_int_equal(out[3], 0x85);
	n = cg_dns_build_response(bl.b, &q, CG_DNS_RCODE_SERVFAIL, out, 512);
	assert_int_equal(out[3], 0x82);
	free(bl.b);

	/* RD clear stays clear; the OPT RR of the query is not copied;
	 * AA/TC/CD bits of the query are dropped. */
	uint8_t m[512];
	size_t mn = build(m, 0x0230, 1, 0, 0, 1, "a.example", NULL, 0, opt_rr,
			  sizeof(opt_rr));
	assert_int_equal(cg_dns_parse(m, mn, &q), CG_DNS_QUERY);
	n = cg_dns_build_response(m, &q, CG_DNS_RCODE_NOERROR, out, 512);
	assert_int_equal(n, mn - sizeof(opt_rr));
	assert_int_equal(out[2], 0x80);
	assert_int_equal(out[3], 0x80);
	assert_int_equal(out[11], 0);
}

static void tcp_framing(void **state)
{
	(void)state;
	struct blob bl = load("dns-tcp-query.bin");
	const uint8_t *msg;
	size_t consumed;
	size_t mlen = cg_dns_tcp_next(bl.b, bl.n, &msg, &consumed);
	assert_int_equal(mlen, bl.n - 2);
	assert_ptr_equal(msg, bl.b + 2);
	assert_int_equal(consumed, bl.n);
	struct cg_dns_query q;
	assert_int_equal(cg_dns_parse(msg, mlen, &q), CG_DNS_QUERY);
	assert_string_equal(q.qname, "weberlab.de");
	assert_true(q.strict);
	/* Every split of the stream: nothing until the message is whole. */
	for (size_t k = 0; k < bl.n; k++) {
		assert_int_equal(cg_dns_tcp_next(bl.b, k, &msg, &consumed), 0);
		assert_int_equal(consumed, 0);
		assert_null(msg);
	}
	/* Two pipelined messages, then a partial third. */
	uint8_t s[256];
	memcpy(s, bl.b, bl.n);
	memcpy(s + bl.n, bl.b, bl.n);
	memcpy(s + 2 * bl.n, bl.b, 5);
	size_t len = 2 * bl.n + 5, off = 0;
	unsigned got = 0;
	while ((mlen = cg_dns_tcp_next(s + off, len - off, &msg, &consumed))) {
		assert_int_equal(cg_dns_parse(msg, mlen, &q), CG_DNS_QUERY);
		off += consumed;
		got++;
	}
	assert_int_equal(got, 2);
	assert_int_equal(off, 2 * bl.n);
	/* A zero length prefix is skipped, not waited on. */
	static const uint8_t zero[] = {0, 0, 0, 5};
	assert_int_equal(cg_dns_tcp_next(zero, sizeof(zero), &msg, &consumed),
			 0);
	assert_int_equal(consumed, 2);
	/* The largest length still needs all its bytes. */
	static const uint8_t big[] = {0xff, 0xff, 1, 2, 3};
	assert_int_equal(cg_dns_tcp_next(big, sizeof(big), &msg, &consumed), 0);
	assert_int_equal(consumed, 0);
	free(bl.b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(real_queries),
	    cmocka_unit_test(invalid_chars_rendered),
	    cmocka_unit_test(response_is_not_query),
	    cmocka_unit_test(other_opcodes),
	    cmocka_unit_test(qdcount_must_be_one),
	    cmocka_unit_test(compression_and_label_types_refused),
	    cmocka_unit_test(name_length_limit),
	    cmocka_unit_test(name_rendering_and_canon),
	    cmocka_unit_test(strict_shape),
	    cmocka_unit_test(response_building),
	    cmocka_unit_test(tcp_framing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
