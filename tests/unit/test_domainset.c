/*
 * domainset: the hash against a second implementation written from the
 * format description, suffix semantics, origins and their limits, and
 * sets large enough to exercise the bucket index.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/crypto.h>

#include "cafeguard/domainset.h"
#include "domainset_ref.h"
#include "cafeguard/name.h"

/* ---- helpers -------------------------------------------------------- */

/* Deterministic test randomness (xorshift64*), state owned by the test. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

static struct cg_domainset *build(struct cg_domainset_builder *b)
{
	struct cg_error err;
	struct cg_domainset *s = cg_domainset_build(b, &err);
	assert_non_null(s);
	return s;
}

static void add(struct cg_domainset_builder *b, const char *name,
		uint16_t source, uint32_t line)
{
	bool dup = true;
	assert_int_equal(
	    cg_domainset_builder_add(b, name, strlen(name), source, line, &dup),
	    0);
	assert_false(dup);
}

/* Looks a name up as the policy would: canonical form first. */
static bool lookup(const struct cg_domainset *s, const char *name,
		   struct cg_domain_match *m)
{
	char canon[CG_NAME_BUF];
	size_t len;
	assert_int_equal(cg_name_canon(name, strlen(name), canon, &len),
			 CG_NAME_OK);
	memset(m, 0xa5, sizeof(*m));
	return cg_domainset_lookup_name(s, canon, len, m);
}

static void expect_match(const struct cg_domainset *s, const char *name,
			 uint16_t source, uint32_t line, uint8_t suffix)
{
	struct cg_domain_match m;
	if (!lookup(s, name, &m))
		fail_msg("%s: expected a match", name);
	assert_int_equal(m.source, source);
	assert_int_equal(m.line, line);
	assert_int_equal(m.suffix, suffix);
}

static void expect_miss(const struct cg_domainset *s, const char *name)
{
	struct cg_domain_match m;
	if (lookup(s, name, &m))
		fail_msg("%s: unexpected match (line %u)", name,
			 (unsigned)m.line);
}

/* A random canonical name of 1..6 labels of 1..maxlab bytes. */
static size_t random_name(uint64_t *r, char *out, size_t maxlab,
			  const char *tld)
{
	static const char cs[] = "abcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t labels = 1 + rnd(r) % 5, o = 0;
	for (size_t i = 0; i < labels; i++) {
		size_t l = 1 + rnd(r) % maxlab;
		for (size_t k = 0; k < l; k++)
			out[o++] = cs[rnd(r) % (sizeof(cs) - 1)];
		out[o++] = '.';
	}
	size_t tl = strlen(tld);
	memcpy(out + o, tld, tl + 1);
	return o + tl;
}

/* ---- the hash ------------------------------------------------------- */

static void test_hash_matches_spec(void **state)
{
	(void)state;
	uint64_t r = 42;
	char name[CG_NAME_BUF];
	for (int i = 0; i < 20000; i++) {
		size_t len = random_name(&r, name, 1 + (size_t)i % 30, "test");
		assert_true(len <= CG_NAME_MAX);
		uint64_t h = cg_domainset_hash(name, len);
		assert_true(h == ref_hash(name, len));

		struct cg_name_hashes nh;
		cg_domainset_hash_name(name, len, &nh);
		assert_true(nh.n >= 2);
		assert_true(nh.h[0] == h);
		assert_int_equal(nh.off[0], 0);
		assert_int_equal(nh.off[nh.n - 1], len - 4); /* "test" */
		for (unsigned k = 0; k < nh.n; k++) {
			size_t off = nh.off[k];
			assert_true(off == 0 || name[off - 1] == '.');
			if (k)
				assert_true(off > nh.off[k - 1]);
			assert_true(nh.h[k] ==
				    cg_domainset_hash(name + off, len - off));
		}
	}
}

/* Pinned values of hash version 2 (also computed by an independent Python
 * version of the spec): the hash is part of the on-disk format.  Short,
 * word-sized and long (> 64 bytes) names take different code paths. */
static void test_hash_known_values(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		uint64_t h;
	} kat[] = {
	    {"", 0xbf8fec90feaa8750ULL},
	    {"com", 0x7734d696943c3d2eULL},
	    {"t.co", 0xd25c57bb7e4b44b6ULL},
	    {"example.com", 0x51209f65edb98041ULL},
	    {"www.example.com", 0x1522882925fcf4d2ULL},
	    {"xn--80ak6aa92e.com", 0x7d7c8ce9d96aae56ULL},
	    {"a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.example.org",
	     0xe2a460230a2e6abaULL},
	    {"a-very-long-label-for-the-long-path.another-long-label-here."
	     "example.com",
	     0x72a0942eeca939f6ULL},
	};
	for (size_t i = 0; i < sizeof(kat) / sizeof(*kat); i++) {
		uint64_t h =
		    cg_domainset_hash(kat[i].name, strlen(kat[i].name));
		if (h != kat[i].h)
			fail_msg("hash(\"%s\") = 0x%016llx, format says "
				 "0x%016llx",
				 kat[i].name, (unsigned long long)h,
				 (unsigned long long)kat[i].h);
	}
}

static void test_hash_name_shapes(void **state)
{
	(void)state;
	struct cg_name_hashes nh;

	cg_domainset_hash_name("com", 3, &nh);
	assert_int_equal(nh.n, 1);
	assert_int_equal(nh.off[0], 0);

	cg_domainset_hash_name("a.b.c.d.e", 9, &nh);
	assert_int_equal(nh.n, 5);
	static const uint8_t off[] = {0, 2, 4, 6, 8};
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(nh.off[i], off[i]);

	cg_domainset_hash_name("", 0, &nh);
	assert_int_equal(nh.n, 0);

	/* The most labels a canonical name can have: 127 one-byte labels. */
	char name[CG_NAME_BUF + 8];
	size_t len = 0;
	for (int i = 0; i < CG_NAME_MAX_LABELS; i++) {
		name[len++] = (char)('a' + i % 26);
		name[len++] = '.';
	}
	len--;
	assert_int_equal(len, CG_NAME_MAX);
	cg_domainset_hash_name(name, len, &nh);
	assert_int_equal(nh.n, CG_NAME_MAX_LABELS);
	assert_int_equal(nh.off[CG_NAME_MAX_LABELS - 1], CG_NAME_MAX - 1);

	/* Not canonical, still the specified function on both paths
	 * (under and over 8 bytes). */
	static const char *const odd[] = {
	    ".a",	  "a..b",	   "x.",	  ".abcdefgh.ijk",
	    "abc..defgh", "trailing.dot.", "\x01\xff.ab", "..........",
	};
	for (size_t i = 0; i < sizeof(odd) / sizeof(*odd); i++) {
		size_t l = strlen(odd[i]);
		assert_true(cg_domainset_hash(odd[i], l) ==
			    ref_hash(odd[i], l));
		cg_domainset_hash_name(odd[i], l, &nh);
		assert_true(nh.n >= 1);
		assert_true(nh.h[0] == ref_hash(odd[i], l));
		size_t last = nh.off[nh.n - 1];
		if (last < l) /* an empty last label is no empty name */
			assert_true(nh.h[nh.n - 1] ==
				    ref_hash(odd[i] + last, l - last));
	}
	char big[300];
	memset(big, 'q', sizeof(big));
	assert_true(cg_domainset_hash(big, sizeof(big)) ==
		    ref_hash(big, sizeof(big)));

	/* Not canonical: too long, or more labels than fit (empty ones). */
	memset(name, 'a', sizeof(name));
	cg_domainset_hash_name(name, CG_NAME_MAX + 1, &nh);
	assert_int_equal(nh.n, 0);
	memset(name, '.', 200);
	cg_domainset_hash_name(name, 200, &nh);
	assert_int_equal(nh.n, 0);
}

/* ---- suffix semantics ----------------------------------------------- */

static void test_suffix_by_labels(void **state)
{
	(void)state;
	struct cg_domainset_builder *b = cg_domainset_builder_new();
	assert_non_null(b);
	add(b, "example.com", 3, 17);
	add(b, "zip", 1, 2); /* a TLD-only entry */
	add(b, "co.uk", 0, 5);
	struct cg_domainset *s = build(b);
	assert_int_equal(cg_domainset_count(s), 3);

	expect_match(s, "example.com", 3, 17, 0);
	expect_match(s, "www.example.com", 3, 17, 4);
	expect_match(s, "a.b.c.example.com", 3, 17, 6);
	expect_miss(s, "notexample.com");
	expect_miss(s, "example.com.evil.net");
	expect_miss(s, "example.co");
	expect_miss(s, "com");
	expect_miss(s, "xample.com");

	expect_match(s, "zip", 1, 2, 0);
	expect_match(s, "evil.zip", 1, 2, 5);
	expect_miss(s, "zipp");
	expect_miss(s, "zip.com");

	expect_match(s, "bbc.co.uk", 0, 5, 4);
	expect_miss(s, "uk");
	cg_domainset_free(s);
}

/* Queries go through cg_name_canon like every name the box sees. */
static void test_canonical_queries(void **state)
{
	(void)state;
	struct cg_domainset_builder *b = cg_domainset_builder_new();
	char canon[CG_NAME_BUF];
	size_t len;
	assert_int_equal(cg_name_canon("Ads.Example.ORG.", 16, canon, &len),
			 CG_NAME_OK);
	add(b, canon, 0, 1);
	add(b, "xn--80ak6aa92e.com", 0, 2); /* punycode stays punycode */
	add(b, "_dmarc.example.net", 0, 3);
	add(b, "abbyfaer_rkoa.tripod.com", 0, 4);
	struct cg_domainset *s = build(b);

	expect_match(s, "ads.example.org", 0, 1, 0);
	expect_match(s, "WWW.ADS.EXAMPLE.ORG.", 0, 1, 4);
	expect_match(s, "X.Ads.example.Org", 0, 1, 2);
	expect_miss(s, "example.org");

	expect_match(s, "xn--80AK6AA92E.com", 0, 2, 0);
	expect_match(s, "www.xn--80ak6aa92e.com", 0, 2, 4);
	expect_miss(s, "80ak6aa92e.com");

	expect_match(s, "_dmarc.example.net", 0, 3, 0);
	expect_match(s, "x._dmarc.example.net", 0, 3, 2);
	expect_miss(s, "dmarc.example.net");
	expect_match(s, "abbyfaer_rkoa.tripod.com", 0, 4, 0);
	expect_miss(s, "tripod.com");
	cg_domainset_free(s);
}

static void test_longest_match_wins(void **state)
{
	(void)state;
	struct cg_domainset_builder *b = cg_domainset_builder_new();
	add(b, "example.com", 0, 1);
	add(b, "www.example.com", 1, 2);
	add(b, "com", 2, 3);
	struct cg_domainset *s = build(b);
	expect_match(s, "a.www.example.com", 1, 2, 2);
	expect_match(s, "www.example.com", 1, 2, 0);
	expect_match(s, "mail.example.com", 0, 1, 5);
	expect_match(s, "other.com", 2, 3, 6);
	cg_domainset_free(s);
}

static void test_duplicates_keep_first(void **state)
{
	(void)state;
	struct cg_domainset_builder *b = cg_domainset_builder_new();
	add(b, "dup.example", 4, 10);
	bool dup = false;
	assert_int_equal(
	    cg_domainset_builder_add(b, "dup.example", 11, 7, 99, &dup), 0);
	assert_true(dup);
	/* dup may be NULL. */
	assert_int_equal(
	    cg_domainset_builder_add(b, "dup.example", 11, 8, 100, NULL), 0);
	assert_int_equal(cg_domainset_builder_count(b), 1);
	struct cg_domainset *s = build(b);
	assert_int_equal(cg_domainset_count(s), 1);
	expect_match(s, "www.dup.example", 4, 10, 4);
	cg_domainset_free(s);
}

static void test_add_hash(void **state)
{
	(void)state;
	struct cg_domainset_builder *b = cg_domainset_builder_new();
	const char *secret = "secret.example";
	bool dup = true;
	assert_int_equal(
	    cg_domainset_builder_add_hash(
		b, cg_domainset_hash(secret, strlen(secret)), 2, 77, &dup),
	    0);
	assert_false(dup);
	/* The same entry added by name is a duplicate of the hashed one. */
	assert_int_equal(
	    cg_domainset_builder_add(b, secret, strlen(secret), 3, 1, &dup), 0);
	assert_true(dup);
	/* Hash 0 is a value like any other. */
	assert_int_equal(cg_domainset_builder_add_hash(b, 0, 1, 5, &dup), 0);
	assert_false(dup);
	assert_int_equal(cg_domainset_builder_add_hash(b, 0, 1, 6, &dup), 0);
	assert_true(dup);
	struct cg_domainset *s = build(b);
	assert_int_equal(cg_domainset_count(s), 2);
	expect_match(s, "secret.example", 2, 77, 0);
	expect_match(s, "a.secret.example", 2, 77, 2);
	expect_miss(s, "example");

	struct cg_name_hashes nh = {.n = 1, .h = {0}, .off = {0}};
	struct cg_domain_match m;
	assert_true(cg_domainset_lookup(s, &nh, &m));
	assert_int_equal(m.line, 5);
	cg_domainset_free(s);
}

static void test_empty_set(void **state)
{
	(void)state;
	struct cg_domainset_builder *b = cg_domainset_builder_new();
	assert_int_equal(cg_domainset_builder_count(b), 0);
	struct cg_domainset *s = build(b);
	assert_int_equal(cg_domainset_count(s), 0);
	/* header, the window's padding and a 3-entry index */
	assert_true(cg_domainset_bytes(s) <= 192);
	expect_miss(s, "example.com");
	expect_miss(s, "com");
	struct cg_name_hashes nh = {.n = 0};
	struct cg_domain_match m;
	assert_false(cg_domainset_lookup(s, &nh, &m));
	cg_domainset_free(s);

	/* Freeing an unused builder, and freeing NULL, are fine. */
	cg_domainset_builder_free(cg_domainset_builder_new());
	cg_domainset_builder_free(NULL);
	cg_domainset_free(NULL);
}

/* ---- origins -------------------------------------------------------- */

static void test_origin_limits(void **state)
{
	(void)state;
	struct cg_domainset_builder *b = cg_domainset_builder_new();
	add(b, "max.example", CG_DOMAINSET_SOURCES - 1, CG_DOMAINSET_LINE_MAX);
	add(b, "zero.example", 0, 0);

	errno = 0;
	assert_int_equal(cg_domainset_builder_add(b, "src.example", 11,
						  CG_DOMAINSET_SOURCES, 1,
						  NULL),
			 -1);
	assert_int_equal(errno, ERANGE);
	errno = 0;
	assert_int_equal(cg_domainset_builder_add(b, "line.example", 12, 0,
						  CG_DOMAINSET_LINE_MAX + 1,
						  NULL),
			 -1);
	assert_int_equal(errno, ERANGE);
	assert_int_equal(
	    cg_domainset_builder_add_hash(b, 1, UINT16_MAX, 1, NULL), -1);
	/* The builder is still usable after a refusal. */
	assert_int_equal(cg_domainset_builder_count(b), 2);
	add(b, "after.example", 7, 7);

	struct cg_domainset *s = build(b);
	expect_match(s, "a.max.example", CG_DOMAINSET_SOURCES - 1,
		     CG_DOMAINSET_LINE_MAX, 2);
	expect_match(s, "zero.example", 0, 0, 0);
	expect_match(s, "after.example", 7, 7, 0);
	expect_miss(s, "src.example");
	expect_miss(s, "line.example");
	cg_domainset_free(s);
}

/* ---- scale ---------------------------------------------------------- */

/*
 * 100k random names all found with their own origin; 100k other names
 * (another TLD, so no true suffix match is possible) all missed.  With
 * ~4e5 probes against 1e5 hashes the expected number of 64-bit false
 * positives is ~2e-9: any miss here is a bug, not bad luck.
 */
static void test_random_100k(void **state)
{
	(void)state;
	enum { N = 100000 };
	char(*names)[CG_NAME_BUF] = malloc(N * sizeof(*names));
	assert_non_null(names);
	struct cg_domainset_builder *b = cg_domainset_builder_new();
	uint64_t r = 7;
	size_t added = 0;
	for (uint32_t i = 0; i < N; i++) {
		size_t len = random_name(&r, names[i], 12, "in");
		bool dup = false;
		assert_int_equal(cg_domainset_builder_add(b, names[i], len,
							  (uint16_t)(i % 256),
							  i + 1, &dup),
				 0);
		if (dup)
			names[i][0] = '\0'; /* a repeat of a short name */
		else
			added++;
	}
	assert_int_equal(cg_domainset_builder_count(b), added);
	struct cg_domainset *s = build(b);
	assert_int_equal(cg_domainset_count(s), added);
	/* 12 bytes per entry plus at most 2 of index. */
	assert_true(cg_domainset_bytes(s) <= added * 14 + 64);

	for (uint32_t i = 0; i < N; i++) {
		if (!names[i][0])
			continue;
		struct cg_domain_match m;
		size_t len = strlen(names[i]);
		assert_true(cg_domainset_lookup_name(s, names[i], len, &m));
		/* A shorter random name may be a suffix of this one; the
		 * longest match is the name itself. */
		assert_int_equal(m.suffix, 0);
		assert_int_equal(m.line, i + 1);
		assert_int_equal(m.source, i % 256);
	}
	size_t fp = 0;
	char q[CG_NAME_BUF];
	for (int i = 0; i < N; i++) {
		size_t len = random_name(&r, q, 12, "out");
		struct cg_domain_match m;
		fp += cg_domainset_lookup_name(s, q, len, &m);
	}
	assert_int_equal(fp, 0);
	cg_domainset_free(s);
	free(names);
}

/* Every size around the bucket-count steps, every entry found. */
static void test_sizes(void **state)
{
	(void)state;
	for (size_t n = 0; n < 300; n += 1 + n / 16) {
		struct cg_domainset_builder *b = cg_domainset_builder_new();
		for (size_t i = 0; i < n; i++)
			assert_int_equal(cg_domainset_builder_add_hash(
					     b, (i + 1) * 0x9e3779b97f4a7c15ULL,
					     0, (uint32_t)i, NULL),
					 0);
		struct cg_domainset *s = build(b);
		assert_int_equal(cg_domainset_count(s), n);
		struct cg_name_hashes nh = {.n = 1};
		struct cg_domain_match m;
		for (size_t i = 0; i < n; i++) {
			nh.h[0] = (i + 1) * 0x9e3779b97f4a7c15ULL;
			assert_true(cg_domainset_lookup(s, &nh, &m));
			assert_int_equal(m.line, i);
		}
		nh.h[0] = (n + 1) * 0x9e3779b97f4a7c15ULL;
		assert_false(cg_domainset_lookup(s, &nh, &m));
		cg_domainset_free(s);
	}
}

/*
 * Hashes chosen to share one bucket, at the bottom and at the top of its
 * range, so that the guess is far off both ways, still find each other.
 */
static void test_crowded_bucket(void **state)
{
	(void)state;
	const uint64_t top = 0x7fffffffffffffffULL;
	struct cg_domainset_builder *b = cg_domainset_builder_new();
	for (uint64_t i = 0; i < 2000; i++) {
		assert_int_equal(cg_domainset_builder_add_hash(
				     b, i * 2 + 2, 0, (uint32_t)i, NULL),
				 0);
		assert_int_equal(cg_domainset_builder_add_hash(
				     b, top - i * 2, 1, (uint32_t)i, NULL),
				 0);
	}
	for (uint64_t i = 0; i < 2000; i++) /* spread, so bits > 1 */
		assert_int_equal(
		    cg_domainset_builder_add_hash(
			b, ~(i * 0x9e3779b97f4a7c15ULL), 2, 0, NULL),
		    0);
	struct cg_domainset *s = build(b);
	struct cg_name_hashes nh = {.n = 1};
	struct cg_domain_match m;
	for (uint64_t i = 0; i < 2000; i++) {
		nh.h[0] = i * 2 + 2;
		assert_true(cg_domainset_lookup(s, &nh, &m));
		assert_int_equal(m.source, 0);
		assert_int_equal(m.line, i);
		nh.h[0] = i * 2 + 3;
		assert_false(cg_domainset_lookup(s, &nh, &m));
		nh.h[0] = top - i * 2;
		assert_true(cg_domainset_lookup(s, &nh, &m));
		assert_int_equal(m.source, 1);
		assert_int_equal(m.line, i);
		nh.h[0] = top - i * 2 - 1;
		assert_false(cg_domainset_lookup(s, &nh, &m));
	}
	nh.h[0] = 1;
	assert_false(cg_domainset_lookup(s, &nh, &m));
	nh.h[0] = top + 1;
	assert_false(cg_domainset_lookup(s, &nh, &m));
	cg_domainset_free(s);
}

/* The memory target: a million domains with origins in at most 16 MB. */
static void test_million_fits_16mb(void **state)
{
	(void)state;
	struct cg_domainset_builder *b = cg_domainset_builder_new();
	uint64_t r = 99;
	for (uint32_t i = 0; i < 1000000; i++)
		assert_int_equal(cg_domainset_builder_add_hash(
				     b, rnd(&r), (uint16_t)(i & 255),
				     i & CG_DOMAINSET_LINE_MAX, NULL),
				 0);
	struct cg_domainset *s = build(b);
	assert_int_equal(cg_domainset_count(s), 1000000);
	size_t bytes = cg_domainset_bytes(s);
	print_message("1e6 entries: %zu bytes, %.2f bytes/domain\n", bytes,
		      (double)bytes / 1e6);
	assert_true(bytes <= 16000000);
	cg_domainset_free(s);
}

/* ---- digests -------------------------------------------------------- */

/* OpenSSL's allocations, counted (set before OpenSSL allocates anything:
 * first thing in main).  A counter the test owns through this pointer. */
static size_t *openssl_allocs;

static void *count_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	if (openssl_allocs)
		(*openssl_allocs)++;
	return malloc(n);
}

static void *count_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	if (openssl_allocs)
		(*openssl_allocs)++;
	return realloc(p, n);
}

static void count_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	free(p);
}

/*
 * Keys are digest bytes 0..7 big-endian, from `printf %s NAME | openssl
 * dgst -md5` (-sha1, -sha256) when the test was written:
 *   md5("example.com")     5ababd603b22780302dd8d83498e5172
 *   sha1("example.com")    0caaf24ab1a0c33440c06afe99df986365b0781f
 *   sha256("example.com")  a379a6f6eeafb9a55e378c118034e275...
 *   sha256("bestgore.com") 14635357bb97c61aedc0af871751b604...
 */
static void test_digest_name(void **state)
{
	(void)state;
	static const uint8_t d[8] = {0x5a, 0xba, 0xbd, 0x60,
				     0x3b, 0x22, 0x78, 0x03};
	assert_true(cg_domainset_digest_key(d) == 0x5ababd603b227803ULL);
	assert_int_equal(cg_digest_size(CG_DIGEST_NONE), 0);
	assert_int_equal(cg_digest_size(CG_DIGEST_MD5), 16);
	assert_int_equal(cg_digest_size(CG_DIGEST_SHA1), 20);
	assert_int_equal(cg_digest_size(CG_DIGEST_SHA256), 32);
	assert_string_equal(cg_digest_name(CG_DIGEST_SHA256), "sha256");
	assert_string_equal(cg_digest_name(CG_DIGEST__COUNT), "?");

	struct cg_digest_scratch *ds = cg_digest_scratch_new();
	assert_non_null(ds);
	static const struct {
		enum cg_digest kind;
		const char *name;
		unsigned suffix;
		uint64_t key;
	} kat[] = {
	    {CG_DIGEST_MD5, "www.example.com", 1, 0x5ababd603b227803ULL},
	    {CG_DIGEST_SHA1, "www.example.com", 1, 0x0caaf24ab1a0c334ULL},
	    {CG_DIGEST_SHA256, "www.example.com", 1, 0xa379a6f6eeafb9a5ULL},
	    {CG_DIGEST_SHA256, "example.com", 0, 0xa379a6f6eeafb9a5ULL},
	    {CG_DIGEST_SHA256, "a.b.bestgore.com", 2, 0x14635357bb97c61aULL},
	};
	for (size_t i = 0; i < sizeof(kat) / sizeof(*kat); i++) {
		struct cg_name_hashes nh, plain;
		const char *n = kat[i].name;
		cg_domainset_digest_name(ds, kat[i].kind, n, strlen(n), &nh);
		cg_domainset_hash_name(n, strlen(n), &plain);
		assert_int_equal(nh.n, plain.n);
		assert_memory_equal(nh.off, plain.off, nh.n);
		if (nh.h[kat[i].suffix] != kat[i].key)
			fail_msg("%s(%s) suffix %u: 0x%016llx",
				 cg_digest_name(kat[i].kind), n, kat[i].suffix,
				 (unsigned long long)nh.h[kat[i].suffix]);
	}
	/* NONE is the plain hash; what is no name gives no suffix. */
	struct cg_name_hashes nh, plain;
	cg_domainset_digest_name(ds, CG_DIGEST_NONE, "a.example", 9, &nh);
	cg_domainset_hash_name("a.example", 9, &plain);
	assert_int_equal(nh.n, 2);
	assert_memory_equal(nh.h, plain.h, 2 * sizeof(uint64_t));
	cg_domainset_digest_name(ds, CG_DIGEST__COUNT, "a.example", 9, &nh);
	assert_int_equal(nh.n, 0);
	cg_domainset_digest_name(NULL, CG_DIGEST_MD5, "a.example", 9, &nh);
	assert_int_equal(nh.n, 0);
	cg_domainset_digest_name(ds, CG_DIGEST_MD5, "", 0, &nh);
	assert_int_equal(nh.n, 0);

	/* What a digest costs in allocations: OpenSSL 3.0 re-creates its
	 * digest state in every EVP_DigestInit_ex2 (one allocation); never
	 * more than that per suffix. */
	size_t allocs = 0;
	openssl_allocs = &allocs;
	cg_domainset_digest_name(ds, CG_DIGEST_SHA256, "a.b.c.d.example.com",
				 19, &nh);
	openssl_allocs = NULL;
	print_message("OpenSSL allocations for 6 SHA-256 suffixes: %zu\n",
		      allocs);
	assert_true(allocs <= nh.n);
	cg_digest_scratch_free(ds);
	cg_digest_scratch_free(NULL);
}

static void test_build_null(void **state)
{
	(void)state;
	struct cg_error err = {{0}};
	assert_null(cg_domainset_build(NULL, &err));
	assert_true(err.msg[0] != '\0');
}

int main(void)
{
	/* Before OpenSSL allocates anything. */
	if (!CRYPTO_set_mem_functions(count_malloc, count_realloc, count_free))
		return 1;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hash_matches_spec),
	    cmocka_unit_test(test_hash_known_values),
	    cmocka_unit_test(test_hash_name_shapes),
	    cmocka_unit_test(test_suffix_by_labels),
	    cmocka_unit_test(test_canonical_queries),
	    cmocka_unit_test(test_longest_match_wins),
	    cmocka_unit_test(test_duplicates_keep_first),
	    cmocka_unit_test(test_add_hash),
	    cmocka_unit_test(test_empty_set),
	    cmocka_unit_test(test_origin_limits),
	    cmocka_unit_test(test_random_100k),
	    cmocka_unit_test(test_sizes),
	    cmocka_unit_test(test_crowded_bucket),
	    cmocka_unit_test(test_million_fits_16mb),
	    cmocka_unit_test(test_digest_name),
	    cmocka_unit_test(test_build_null),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
