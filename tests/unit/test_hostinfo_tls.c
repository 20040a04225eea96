/*
 * hostinfo_tls: real ClientHellos from the nDPI captures (see
 * tests/data/hostinfo/README.md), every truncation of them, and crafted
 * evasion shapes (1-byte records, interleaved records, odd lengths).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cafeguard/hostinfo_tls.h"

#include "hostinfo_testutil.h"

static uint8_t scratch[16384];

static enum cg_tls_status rec(const uint8_t *s, size_t n, char *sni,
			      size_t *snilen)
{
	return cg_tls_record_sni(s, n, scratch, sizeof(scratch), sni, snilen);
}

/* A heap copy of exactly n bytes, so ASan sees any read past the end. */
static uint8_t *exact(const uint8_t *b, size_t n)
{
	uint8_t *c = malloc(n ? n : 1);
	assert_non_null(c);
	if (n)
		memcpy(c, b, n);
	return c;
}

/*
 * Feeds every prefix of a stream: the status must be NEED_MORE up to
 * some length and the final status from there on, with the same name.
 * Returns the shortest length that gives the final status.
 */
static size_t check_prefixes(const uint8_t *s, size_t n,
			     enum cg_tls_status final, const char *name)
{
	char sni[CG_NAME_BUF];
	size_t snilen, first = 0;
	for (size_t k = 0; k <= n; k++) {
		uint8_t *c = exact(s, k);
		enum cg_tls_status st = rec(c, k, sni, &snilen);
		free(c);
		if (st == CG_TLS_NEED_MORE) {
			assert_int_equal(first, 0);
			continue;
		}
		assert_int_equal(st, final);
		if (!first)
			first = k;
		if (final == CG_TLS_SNI) {
			assert_string_equal(sni, name);
			assert_int_equal(snilen, strlen(name));
		}
	}
	assert_true(first > 0);
	return first;
}

static void real_client_hellos(void **state)
{
	(void)state;
	static const struct {
		const char *file, *name;
		enum cg_tls_status st;
	} cases[] = {
	    {"tls12-ch.bin", "notifications-pa.googleapis.com", CG_TLS_SNI},
	    {"tls13-ch.bin", "www.google.com", CG_TLS_SNI},
	    {"tls-2-reasms-ch.bin", "i.instagram.com", CG_TLS_SNI},
	    {"tls-ech-ch.bin", "performance.radar.cloudflare.com", CG_TLS_SNI},
	    {"http-connect-tunnel-ch.bin", "apache.org", CG_TLS_SNI},
	    {"tls-dot-ch.bin", NULL, CG_TLS_NO_SNI},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct blob bl = load(cases[i].file);
		char sni[CG_NAME_BUF];
		size_t snilen;
		assert_int_equal(rec(bl.b, bl.n, sni, &snilen), cases[i].st);
		if (cases[i].name)
			assert_string_equal(sni, cases[i].name);
		else
			assert_int_equal(snilen, 0);
		/* The handshake layer alone gives the same answer. */
		assert_int_equal(
		    cg_tls_handshake_sni(bl.b + 5, bl.n - 5, sni, &snilen),
		    cases[i].st);
		size_t first =
		    check_prefixes(bl.b, bl.n, cases[i].st, cases[i].name);
		/* The name is returned before the whole ClientHello is in. */
		if (cases[i].st == CG_TLS_SNI)
			assert_true(first < bl.n);
		assert_true(cg_tls_looks_like_handshake(bl.b, bl.n));
		free(bl.b);
	}
}

/*
 * tls_missing_ch_frag.pcap: the first 1024 of 1505 ClientHello bytes
 * (the next segment was lost).  The name is in the part that arrived.
 */
static void name_before_the_end(void **state)
{
	(void)state;
	struct blob bl = load("tls-missing-frag-seg1.bin");
	char sni[CG_NAME_BUF];
	size_t snilen;
	assert_int_equal(bl.n, 1024);
	assert_int_equal(rec(bl.b, bl.n, sni, &snilen), CG_TLS_SNI);
	assert_string_equal(sni, "r1---sn-5f5nxgvh5o-hjul.googlevideo.com");
	check_prefixes(bl.b, bl.n, CG_TLS_SNI,
		       "r1---sn-5f5nxgvh5o-hjul.googlevideo.com");
	free(bl.b);
}

/* Splits the handshake message of a one-record stream into records of
 * at most frag bytes. */
static size_t refragment(const uint8_t *s, size_t n, size_t frag, uint8_t *out)
{
	const uint8_t *hs = s + 5;
	size_t hn = n - 5, o = 0;
	for (size_t i = 0; i < hn; i += frag) {
		size_t l = hn - i < frag ? hn - i : frag;
		out[o++] = 22;
		out[o++] = 3;
		out[o++] = 1;
		out[o++] = (uint8_t)(l >> 8);
		out[o++] = (uint8_t)l;
		memcpy(out + o, hs + i, l);
		o += l;
	}
	return o;
}

/* RFC 8446 5.1 allows a handshake message across records; 1-byte records
 * are the extreme evasion shape. */
static void fragmented_records(void **state)
{
	(void)state;
	struct blob bl = load("tls13-ch.bin");
	uint8_t *frag = malloc(bl.n * 6);
	char sni[CG_NAME_BUF];
	size_t snilen;
	static const size_t sizes[] = {1, 2, 3, 7, 100, 300};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t fn = refragment(bl.b, bl.n, sizes[i], frag);
		assert_int_equal(rec(frag, fn, sni, &snilen), CG_TLS_SNI);
		assert_string_equal(sni, "www.google.com");
		if (sizes[i] == 1 || sizes[i] == 100)
			check_prefixes(frag, fn, CG_TLS_SNI, "www.google.com");
	}

	/* Scratch too small for the part holding the name: NOT_TLS; just
	 * large enough: the name. */
	size_t fn = refragment(bl.b, bl.n, 1, frag);
	uint8_t small[64];
	assert_int_equal(
	    cg_tls_record_sni(frag, fn, small, sizeof(small), sni, &snilen),
	    CG_TLS_NOT_TLS);
	assert_int_equal(cg_tls_record_sni(frag, fn, NULL, 0, sni, &snilen),
			 CG_TLS_NOT_TLS);
	/* Find where the name ends in the handshake bytes. */
	size_t need = 0;
	for (size_t k = 1; k <= bl.n - 5; k++)
		if (cg_tls_handshake_sni(bl.b + 5, k, sni, &snilen) ==
		    CG_TLS_SNI) {
			need = k;
			break;
		}
	assert_true(need > 0);
	uint8_t *fit = malloc(need);
	assert_int_equal(cg_tls_record_sni(frag, fn, fit, need, sni, &snilen),
			 CG_TLS_SNI);
	assert_string_equal(sni, "www.google.com");
	assert_int_equal(
	    cg_tls_record_sni(frag, fn, fit, need - 1, sni, &snilen),
	    CG_TLS_NOT_TLS);
	free(fit);
	/* A record-layer split does not need scratch when the first record
	 * holds it all. */
	assert_int_equal(cg_tls_record_sni(bl.b, bl.n, NULL, 0, sni, &snilen),
			 CG_TLS_SNI);
	free(frag);
	free(bl.b);
}

/* RFC 8446 5.1: other record types may not interleave a handshake
 * message; after a complete ClientHello they may follow (0-RTT). */
static void interleaved_records(void **state)
{
	(void)state;
	struct blob bl = load("tls12-ch.bin");
	uint8_t s[1024];
	char sni[CG_NAME_BUF];
	size_t snilen;
	/* First 20 handshake bytes, then a ChangeCipherSpec record, then
	 * the rest. */
	size_t o = 0;
	memcpy(s, (const uint8_t[]){22, 3, 1, 0, 20}, 5);
	memcpy(s + 5, bl.b + 5, 20);
	o = 25;
	memcpy(s + o, (const uint8_t[]){20, 3, 3, 0, 1, 1}, 6);
	o += 6;
	size_t rest = bl.n - 25;
	s[o++] = 22;
	s[o++] = 3;
	s[o++] = 1;
	s[o++] = (uint8_t)(rest >> 8);
	s[o++] = (uint8_t)rest;
	memcpy(s + o, bl.b + 25, rest);
	o += rest;
	assert_int_equal(rec(s, o, sni, &snilen), CG_TLS_NOT_TLS);
	/* Complete ClientHello, then CCS and application data: fine. */
	memcpy(s, bl.b, bl.n);
	memcpy(s + bl.n,
	       (const uint8_t[]){20, 3, 3, 0, 1, 1, 23, 3, 3, 0, 2, 9, 9}, 13);
	assert_int_equal(rec(s, bl.n + 13, sni, &snilen), CG_TLS_SNI);
	/* A second record whose header is not a handshake record */
	size_t fn = refragment(bl.b, bl.n, 50, s);
	s[55 + 1] = 2; /* version 2.x on the second record */
	assert_int_equal(rec(s, fn, sni, &snilen), CG_TLS_NOT_TLS);
	free(bl.b);
}

static void not_tls(void **state)
{
	(void)state;
	char sni[CG_NAME_BUF];
	size_t snilen;
	/* SSLv2-compatible ClientHello (RFC 5246 E.2) */
	static const uint8_t v2[] = {0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15};
	assert_int_equal(rec(v2, sizeof(v2), sni, &snilen), CG_TLS_NOT_TLS);
	assert_false(cg_tls_looks_like_handshake(v2, sizeof(v2)));
	static const uint8_t appdata[] = {23, 3, 3, 0, 5, 1, 2, 3, 4, 5};
	assert_int_equal(rec(appdata, sizeof(appdata), sni, &snilen),
			 CG_TLS_NOT_TLS);
	static const uint8_t http[] = "GET / HTTP/1.1\r\n";
	assert_int_equal(rec(http, sizeof(http) - 1, sni, &snilen),
			 CG_TLS_NOT_TLS);
	/* One byte that could still be a record: wait; a wrong second
	 * byte: no. */
	static const uint8_t one[] = {22, 2};
	assert_int_equal(rec(one, 1, sni, &snilen), CG_TLS_NEED_MORE);
	assert_int_equal(rec(one, 2, sni, &snilen), CG_TLS_NOT_TLS);
	assert_int_equal(rec(one, 0, sni, &snilen), CG_TLS_NEED_MORE);
	/* Zero-length and oversized records */
	static const uint8_t zero[] = {22, 3, 1, 0, 0, 1};
	assert_int_equal(rec(zero, sizeof(zero), sni, &snilen), CG_TLS_NOT_TLS);
	static const uint8_t huge[] = {22, 3, 1, 0x40, 0x01, 1};
	assert_int_equal(rec(huge, sizeof(huge), sni, &snilen), CG_TLS_NOT_TLS);
	/* A ServerHello is a handshake, not a ClientHello. */
	static const uint8_t sh[] = {22, 3, 3, 0, 4, 2, 0, 0, 70};
	assert_int_equal(rec(sh, sizeof(sh), sni, &snilen), CG_TLS_NOT_TLS);
	/* A message too short to be a ClientHello */
	static const uint8_t tiny[] = {22, 3, 1, 0, 8, 1, 0, 0, 4, 3, 3, 0, 0};
	assert_int_equal(rec(tiny, sizeof(tiny), sni, &snilen), CG_TLS_NOT_TLS);
	assert_int_equal(cg_tls_looks_like_handshake(tiny, 2), 0);
	assert_int_equal(cg_tls_looks_like_handshake(tiny, 3), 1);
}

/* Builds a handshake ClientHello (no record header) with the given
 * extension block and legacy fields; returns its length. */
static size_t build_ch(uint8_t *o, const uint8_t *ext, size_t extlen,
		       bool with_ext_block, size_t sidlen, size_t cslen)
{
	size_t n = 4;
	o[n++] = 3;
	o[n++] = 3;
	memset(o + n, 0xab, 32);
	n += 32;
	o[n++] = (uint8_t)sidlen;
	memset(o + n, 0xcd, sidlen);
	n += sidlen;
	o[n++] = (uint8_t)(cslen >> 8);
	o[n++] = (uint8_t)cslen;
	memset(o + n, 0x13, cslen);
	n += cslen;
	o[n++] = 1;
	o[n++] = 0;
	if (with_ext_block) {
		o[n++] = (uint8_t)(extlen >> 8);
		o[n++] = (uint8_t)extlen;
		memcpy(o + n, ext, extlen);
		n += extlen;
	}
	size_t ml = n - 4;
	o[0] = 1;
	o[1] = (uint8_t)(ml >> 16);
	o[2] = (uint8_t)(ml >> 8);
	o[3] = (uint8_t)ml;
	return n;
}

/* server_name extension (RFC 6066 3) for one name of the given type. */
static size_t sni_ext(uint8_t *o, uint8_t type, const char *name)
{
	size_t l = strlen(name);
	o[0] = 0;
	o[1] = 0;
	o[2] = (uint8_t)((l + 5) >> 8);
	o[3] = (uint8_t)(l + 5);
	o[4] = (uint8_t)((l + 3) >> 8);
	o[5] = (uint8_t)(l + 3);
	o[6] = type;
	o[7] = (uint8_t)(l >> 8);
	o[8] = (uint8_t)l;
	memcpy(o + 9, name, l);
	return 9 + l;
}

static enum cg_tls_status hs(const uint8_t *h, size_t n, char *sni,
			     size_t *snilen)
{
	uint8_t *c = exact(h, n);
	enum cg_tls_status st = cg_tls_handshake_sni(c, n, sni, snilen);
	free(c);
	return st;
}

static void crafted_names(void **state)
{
	(void)state;
	uint8_t ext[600], ch[1200];
	char sni[CG_NAME_BUF];
	size_t snilen, e, n;
	static const struct {
		const char *name;
		enum cg_tls_status st;
		const char *canon;
	} cases[] = {
	    {"WWW.Example.COM.", CG_TLS_SNI, "www.example.com"},
	    {"xn--mnich-kva.com", CG_TLS_SNI, "xn--mnich-kva.com"},
	    {"192.168.1.1", CG_TLS_BAD_SNI, NULL},
	    {"::1", CG_TLS_BAD_SNI, NULL},
	    {"exa mple.com", CG_TLS_BAD_SNI, NULL},
	    {"a..b", CG_TLS_BAD_SNI, NULL},
	    /* two trailing dots: "blocked.example." would match no list */
	    {"blocked.example..", CG_TLS_BAD_SNI, NULL},
	    {"", CG_TLS_BAD_SNI, NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* A GREASE extension before, one after. */
		e = 0;
		memcpy(ext, (const uint8_t[]){0x0a, 0x0a, 0, 1, 0}, 5);
		e = 5;
		e += sni_ext(ext + e, 0, cases[i].name);
		memcpy(ext + e, (const uint8_t[]){0, 0x10, 0, 3, 0, 1, 'x'}, 7);
		e += 7;
		n = build_ch(ch, ext, e, true, 32, 4);
		assert_int_equal(hs(ch, n, sni, &snilen), cases[i].st);
		if (cases[i].canon)
			assert_string_equal(sni, cases[i].canon);
		else
			assert_int_equal(snilen, 0);
	}
	/* Only a non-host_name entry: present but no host name. */
	e = sni_ext(ext, 7, "example.com");
	n = build_ch(ch, ext, e, true, 0, 2);
	assert_int_equal(hs(ch, n, sni, &snilen), CG_TLS_BAD_SNI);
	/* The first host_name wins. */
	e = 0;
	memcpy(ext, (const uint8_t[]){0, 0,   0,   18,	0,   16,  0, 0,
				      5, 'a', '.', 'c', 'o', 'm', 0, 0,
				      5, 'b', '.', 'c', 'o', 'm'},
	       22);
	n = build_ch(ch, ext, 22, true, 0, 2);
	assert_int_equal(hs(ch, n, sni, &snilen), CG_TLS_SNI);
	assert_string_equal(sni, "a.com");
	/* Empty server_name extension (the server's form) */
	n = build_ch(ch, (const uint8_t[]){0, 0, 0, 0}, 4, true, 0, 2);
	assert_int_equal(hs(ch, n, sni, &snilen), CG_TLS_NOT_TLS);
	/* ServerNameList length disagreeing with the extension */
	e = sni_ext(ext, 0, "example.com");
	ext[5]++;
	n = build_ch(ch, ext, e, true, 0, 2);
	assert_int_equal(hs(ch, n, sni, &snilen), CG_TLS_NOT_TLS);
	/* Name length past the list */
	e = sni_ext(ext, 0, "example.com");
	ext[8] = 200;
	n = build_ch(ch, ext, e, true, 0, 2);
	assert_int_equal(hs(ch, n, sni, &snilen), CG_TLS_NOT_TLS);
}

static void crafted_framing(void **state)
{
	(void)state;
	uint8_t ext[600], ch[1200];
	char sni[CG_NAME_BUF];
	size_t snilen, e, n;
	/* TLS 1.2 ClientHello without extensions (RFC 5246 7.4.1.2) */
	n = build_ch(ch, NULL, 0, false, 0, 2);
	assert_int_equal(hs(ch, n, sni, &snilen), CG_TLS_NO_SNI);
	/* Extensions but none is server_name */
	n = build_ch(ch, (const uint8_t[]){0, 0x17, 0, 0}, 4, true, 0, 2);
	assert_int_equal(hs(ch, n, sni, &snilen), CG_TLS_NO_SNI);
	e = sni_ext(ext, 0, "example.com");
	/* session id of 33 bytes */
	n = build_ch(ch, ext, e, true, 33, 2);
	assert_int_equal(hs(ch, n, sni, &snilen), CG_TLS_NOT_TLS);
	/* odd and empty cipher suite lists */
	n = build_ch(ch, ext, e, true, 0, 3);
	assert_int_equal(hs(ch, n, sni, &snilen), CG_TLS_NOT_TLS);
	n = build_ch(ch, ext, e, true, 0, 0);
	assert_int_equal(hs(ch, n, sni, &snilen), CG_TLS_NOT_TLS);
	/* legacy_version 2.x */
	n = build_ch(ch, ext, e, true, 0, 2);
	ch[4] = 2;
	assert_int_equal(hs(ch, n, sni, &snilen), CG_TLS_NOT_TLS);
	/* no compression method */
	n = build_ch(ch, ext, e, true, 0, 2);
	ch[4 + 2 + 32 + 1 + 2 + 2] = 0;
	assert_int_equal(hs(ch, n, sni, &snilen), CG_TLS_NOT_TLS);
	/* Extensions block shorter / longer than the message's rest */
	n = build_ch(ch, ext, e, true, 0, 2);
	ch[4 + 2 + 32 + 1 + 2 + 2 + 2 + 1]--;
	assert_int_equal(hs(ch, n, sni, &snilen), CG_TLS_NOT_TLS);
	n = build_ch(ch, ext, e, true, 0, 2);
	ch[4 + 2 + 32 + 1 + 2 + 2 + 2 + 1]++;
	assert_int_equal(hs(ch, n, sni, &snilen), CG_TLS_NOT_TLS);
	/* An extension running past the message */
	n = build_ch(ch, (const uint8_t[]){0, 0x17, 0, 9}, 4, true, 0, 2);
	assert_int_equal(hs(ch, n, sni, &snilen), CG_TLS_NOT_TLS);
	/* Absurd message length the extension block disagrees with */
	n = build_ch(ch, ext, e, true, 0, 2);
	ch[1] = 0xff;
	ch[2] = 0xff;
	ch[3] = 0xff;
	assert_int_equal(hs(ch, n, sni, &snilen), CG_TLS_NOT_TLS);
	/* A huge but consistent one: the name is read as soon as it is
	 * whole, long before the message could be. */
	n = build_ch(ch, ext, e, true, 0, 2);
	size_t eb = 4 + 2 + 32 + 1 + 2 + 2 + 2;
	size_t ml = 0xffff + (eb + 2 - 4);
	ch[1] = (uint8_t)(ml >> 16);
	ch[2] = (uint8_t)(ml >> 8);
	ch[3] = (uint8_t)ml;
	ch[eb] = 0xff;
	ch[eb + 1] = 0xff;
	assert_int_equal(hs(ch, n, sni, &snilen), CG_TLS_SNI);
	assert_string_equal(sni, "example.com");
	/* Every prefix of a crafted ClientHello in a record stream */
	n = build_ch(ch, ext, e, true, 0, 2);
	uint8_t s[1300] = {22, 3, 1, (uint8_t)(n >> 8), (uint8_t)n};
	memcpy(s + 5, ch, n);
	check_prefixes(s, n + 5, CG_TLS_SNI, "example.com");
	/* Extra records after the ClientHello do not matter. */
	memset(s + 5 + n, 0x41, 20);
	assert_int_equal(rec(s, n + 25, sni, &snilen), CG_TLS_SNI);
}

/* A ClientHello larger than scratch whose name fits: the name; whose
 * name does not: NOT_TLS. */
static void long_client_hello(void **state)
{
	(void)state;
	static uint8_t ext[20000], ch[21000], s[26000];
	char sni[CG_NAME_BUF];
	size_t snilen;
	/* 12000 bytes of padding extension (RFC 7685) after the name */
	size_t e = sni_ext(ext, 0, "big.example");
	ext[e] = 0;
	ext[e + 1] = 21;
	ext[e + 2] = (uint8_t)(12000 >> 8);
	ext[e + 3] = (uint8_t)12000;
	memset(ext + e + 4, 0, 12000);
	size_t n = build_ch(ch, ext, e + 4 + 12000, true, 0, 2);
	/* records of 16384 max: two records */
	uint8_t *p = s;
	size_t first = 16384 < n ? 16384 : n;
	memcpy(
	    p,
	    (const uint8_t[]){22, 3, 1, (uint8_t)(first >> 8), (uint8_t)first},
	    5);
	memcpy(p + 5, ch, first);
	size_t second = n - first;
	memcpy(p + 5 + first,
	       (const uint8_t[]){22, 3, 1, (uint8_t)(second >> 8),
				 (uint8_t)second},
	       5);
	memcpy(p + 10 + first, ch + first, second);
	uint8_t small[256];
	assert_int_equal(
	    cg_tls_record_sni(s, n + 10, small, sizeof(small), sni, &snilen),
	    CG_TLS_SNI);
	assert_string_equal(sni, "big.example");

	/* Now the name after the padding, which does not fit in scratch */
	memmove(ext + 4 + 12000, ext, e);
	ext[0] = 0;
	ext[1] = 21;
	ext[2] = (uint8_t)(12000 >> 8);
	ext[3] = (uint8_t)12000;
	memset(ext + 4, 0, 12000);
	n = build_ch(ch, ext, e + 4 + 12000, true, 0, 2);
	/* split into 1000-byte records so the first record cannot hold it */
	size_t o = 0;
	for (size_t i = 0; i < n; i += 1000) {
		size_t l = n - i < 1000 ? n - i : 1000;
		memcpy(
		    s + o,
		    (const uint8_t[]){22, 3, 1, (uint8_t)(l >> 8), (uint8_t)l},
		    5);
		memcpy(s + o + 5, ch + i, l);
		o += 5 + l;
	}
	assert_int_equal(
	    cg_tls_record_sni(s, o, small, sizeof(small), sni, &snilen),
	    CG_TLS_NOT_TLS);
	assert_int_equal(
	    cg_tls_record_sni(s, o, scratch, sizeof(scratch), sni, &snilen),
	    CG_TLS_SNI);
	assert_string_equal(sni, "big.example");
	/* The same in QUIC form (handshake bytes only) */
	assert_int_equal(hs(ch, n, sni, &snilen), CG_TLS_SNI);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(real_client_hellos),
	    cmocka_unit_test(name_before_the_end),
	    cmocka_unit_test(fragmented_records),
	    cmocka_unit_test(interleaved_records),
	    cmocka_unit_test(not_tls),
	    cmocka_unit_test(crafted_names),
	    cmocka_unit_test(crafted_framing),
	    cmocka_unit_test(long_client_hello),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
