/*
 * bench_domainset LISTFILE [LISTFILE...]
 *
 * Loads plain-text lists (format auto; decompress them first) into one
 * domain set and prints: entries, parse+add and freeze times, the set's
 * bytes and bytes per domain, the process RSS growth, and lookup costs for
 * 5-label names that hit (existing entries with labels prefixed) and that
 * miss, over 2^20 queries each.  Two baselines are measured in the same
 * run so that figures can be quoted as ratios on any machine: hashing the
 * query alone, and one independent random 8-byte read per query from an
 * array as large as the set (the memory system's share).
 */
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cafeguard/domainset.h"
#include "cafeguard/listfile.h"

#define QUERIES (1u << 20)
#define ROUNDS	5

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long size = 0, res = 0;
	if (f) {
		if (fscanf(f, "%lu %lu", &size, &res) != 2)
			res = 0;
		fclose(f);
	}
	return (size_t)res * (size_t)sysconf(_SC_PAGESIZE);
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

/* Names as one arena of NUL-terminated strings. */
struct names {
	char *text;
	size_t len, cap;
	uint32_t *off;
	size_t n, ncap;
};

static int names_add(void *ctx, const char *s, size_t len)
{
	struct names *v = ctx;
	if (v->len + len + 1 > v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 1 << 20;
		char *t = realloc(v->text, cap);
		if (!t)
			return -1;
		v->text = t;
		v->cap = cap;
	}
	if (v->n == v->ncap) {
		size_t cap = v->ncap ? v->ncap * 2 : 1 << 16;
		uint32_t *o = realloc(v->off, cap * sizeof(*o));
		if (!o)
			return -1;
		v->off = o;
		v->ncap = cap;
	}
	v->off[v->n++] = (uint32_t)v->len;
	memcpy(v->text + v->len, s, len);
	v->text[v->len + len] = '\0';
	v->len += len + 1;
	return 0;
}

/* Every name of the files again, for building queries (not timed). */
static int collect_names(int nfiles, char **files, struct names *v)
{
	for (int i = 0; i < nfiles; i++) {
		FILE *f = fopen(files[i], "r");
		if (!f) {
			perror(files[i]);
			return -1;
		}
		char *line = NULL;
		size_t cap = 0;
		ssize_t n;
		while ((n = getline(&line, &cap, f)) > 0) {
			size_t len = (size_t)n;
			if (line[len - 1] == '\n')
				len--;
			if (cg_listfile_parse_line(line, len, CG_LIST_AUTO,
						   names_add, v,
						   NULL) == CG_LINE_ABORTED) {
				free(line);
				fclose(f);
				return -1;
			}
		}
		free(line);
		fclose(f);
	}
	return 0;
}

static size_t random_label(uint64_t *r, char *out, size_t min)
{
	static const char cs[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	size_t l = min + rnd(r) % 6;
	for (size_t k = 0; k < l; k++)
		out[k] = cs[rnd(r) % (sizeof(cs) - 1)];
	return l;
}

static unsigned labels(const char *s)
{
	unsigned n = 1;
	for (; *s; s++)
		n += *s == '.';
	return n;
}

/*
 * 5-label queries: hits are entries with random labels prefixed (at
 * least one, so the match is by suffix); misses are random labels under
 * the TLD of an entry.
 */
static int make_queries(const struct names *v, uint64_t *r, bool hit,
			struct names *q)
{
	char buf[CG_NAME_BUF + 64];
	while (q->n < QUERIES) {
		const char *e = v->text + v->off[rnd(r) % v->n];
		size_t o = 0;
		if (hit) {
			unsigned have = labels(e);
			unsigned pre = have < 5 ? 5 - have : 1;
			for (unsigned k = 0; k < pre; k++) {
				o += random_label(r, buf + o, 3);
				buf[o++] = '.';
			}
			size_t el = strlen(e);
			if (o + el > CG_NAME_MAX)
				continue;
			memcpy(buf + o, e, el);
			o += el;
		} else {
			const char *tld = strrchr(e, '.');
			tld = tld ? tld + 1 : e;
			/* 12+ random characters: never a listed name */
			for (unsigned k = 0; k < 4; k++) {
				o += random_label(r, buf + o, 12);
				buf[o++] = '.';
			}
			size_t tl = strlen(tld);
			memcpy(buf + o, tld, tl);
			o += tl;
		}
		if (names_add(q, buf, o) < 0)
			return -1;
	}
	return 0;
}

static double run_hash(const struct names *q, const uint8_t *len,
		       uint64_t *sink)
{
	struct cg_name_hashes nh;
	double t = now_s();
	for (size_t i = 0; i < q->n; i++) {
		cg_domainset_hash_name(q->text + q->off[i], len[i], &nh);
		*sink ^= nh.h[nh.n - 1];
	}
	return (now_s() - t) * 1e9 / (double)q->n;
}

static double run_lookup(const struct cg_domainset *s, const struct names *q,
			 const uint8_t *len, size_t *found)
{
	struct cg_domain_match m;
	size_t f = 0;
	double t = now_s();
	for (size_t i = 0; i < q->n; i++)
		f += cg_domainset_lookup_name(s, q->text + q->off[i], len[i],
					      &m);
	double ns = (now_s() - t) * 1e9 / (double)q->n;
	*found = f;
	return ns;
}

/* Lookups alone: queries hashed in batches beforehand, only the probing
 * timed (as the policy does: one hash, then every list). */
#define BATCH 128

static double run_probe(const struct cg_domainset *s, const struct names *q,
			const uint8_t *len, struct cg_name_hashes *nh,
			size_t *found)
{
	struct cg_domain_match m;
	size_t f = 0;
	double t = 0;
	for (size_t i = 0; i < q->n; i += BATCH) {
		size_t e = q->n - i < BATCH ? q->n : i + BATCH;
		for (size_t k = i; k < e; k++)
			cg_domainset_hash_name(q->text + q->off[k], len[k],
					       &nh[k - i]);
		double t0 = now_s();
		for (size_t k = i; k < e; k++)
			f += cg_domainset_lookup(s, &nh[k - i], &m);
		t += now_s() - t0;
	}
	*found = f;
	return t * 1e9 / (double)q->n;
}

/* Independent random 8-byte reads: what the memory system delivers when
 * many misses overlap. */
static double run_memory(const uint64_t *arr, const uint32_t *idx, size_t nidx,
			 uint64_t *sink)
{
	uint64_t x = 0;
	double t = now_s();
	for (size_t i = 0; i < nidx; i++)
		x += arr[idx[i]];
	double ns = (now_s() - t) * 1e9 / (double)nidx;
	*sink ^= x;
	return ns;
}

/* Dependent random reads (each address comes from the previous read):
 * the latency one isolated cache miss costs in an array this large. */
static double run_latency(const uint64_t *chain, size_t n, uint64_t *sink)
{
	uint64_t p = 0;
	double t = now_s();
	for (size_t i = 0; i < n; i++)
		p = chain[p];
	double ns = (now_s() - t) * 1e9 / (double)n;
	*sink ^= p;
	return ns;
}

/* CPU speed in this run: a chain of dependent 64-bit multiplies (3
 * cycles each on current x86 cores), so other figures convert to cycles
 * when the machine is shared or throttled. */
static double run_mul(uint64_t *sink)
{
	uint64_t x = *sink | 1;
	const size_t n = 1u << 24;
	double t = now_s();
	for (size_t i = 0; i < n; i++)
		x *= 0x9e3779b97f4a7c15ULL;
	double ns = (now_s() - t) * 1e9 / (double)n;
	*sink ^= x;
	return ns;
}

static double min2(double a, double b)
{
	return a < b ? a : b;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s LISTFILE [LISTFILE...]\n", argv[0]);
		return 2;
	}
	size_t rss0 = rss_bytes();
	struct cg_diag d = {0};
	struct cg_listfile_stats st, sum = {0};
	double t0 = now_s();
	struct cg_domainset_builder *b = cg_domainset_builder_new();
	if (!b)
		return 1;
	for (int i = 1; i < argc; i++) {
		if (cg_listfile_load(argv[i], CG_LIST_AUTO, b,
				     (uint16_t)(i - 1), &d, &st) < 0) {
			cg_diag_print(&d, stderr);
			cg_domainset_builder_free(b);
			return 1;
		}
		sum.lines += st.lines;
		sum.entries += st.entries;
		sum.duplicates += st.duplicates;
		sum.skipped += st.skipped;
	}
	double t1 = now_s();
	struct cg_error err;
	struct cg_domainset *s = cg_domainset_build(b, &err);
	if (!s) {
		fprintf(stderr, "build: %s\n", err.msg);
		return 1;
	}
	double t2 = now_s();
	size_t rss1 = rss_bytes();
	/* What the allocator keeps of the builder's memory is not the set's:
	 * give it back and measure again. */
	malloc_trim(0);
	size_t rss2 = rss_bytes();
	cg_diag_clear(&d);

	size_t n = cg_domainset_count(s), bytes = cg_domainset_bytes(s);
	printf("lines            %zu (%zu skipped, %zu duplicates)\n",
	       sum.lines, sum.skipped, sum.duplicates);
	printf("entries          %zu\n", n);
	printf("parse+add        %.1f ms (%.0f ns/line)\n", (t1 - t0) * 1e3,
	       (t1 - t0) * 1e9 / (double)(sum.lines ? sum.lines : 1));
	printf("build (freeze)   %.1f ms\n", (t2 - t1) * 1e3);
	printf("load total       %.1f ms\n", (t2 - t0) * 1e3);
	printf("set bytes        %zu (%.2f MB, %.2f bytes/domain)\n", bytes,
	       (double)bytes / 1e6, (double)bytes / (double)(n ? n : 1));
	printf("RSS growth       %.2f MB (%.2f bytes/domain); %.2f MB after "
	       "malloc_trim\n",
	       (double)(rss1 - rss0) / 1e6,
	       (double)(rss1 - rss0) / (double)(n ? n : 1),
	       (double)(rss2 - rss0) / 1e6);

	struct names v = {0}, hits = {0}, misses = {0};
	uint64_t r = 0x1234567;
	if (collect_names(argc - 1, argv + 1, &v) < 0 || !v.n ||
	    make_queries(&v, &r, true, &hits) < 0 ||
	    make_queries(&v, &r, false, &misses) < 0) {
		fprintf(stderr, "cannot build queries\n");
		return 1;
	}
	uint8_t *hlen = malloc(QUERIES), *mlen = malloc(QUERIES);
	size_t words = bytes / 8 ? bytes / 8 : 1;
	uint64_t *arr = calloc(words, sizeof(*arr));
	uint32_t *idx = malloc(QUERIES * sizeof(*idx));
	if (!hlen || !mlen || !arr || !idx)
		return 1;
	for (size_t i = 0; i < QUERIES; i++) {
		hlen[i] = (uint8_t)strlen(hits.text + hits.off[i]);
		mlen[i] = (uint8_t)strlen(misses.text + misses.off[i]);
		idx[i] = (uint32_t)(rnd(&r) % words);
	}
	/* arr as one random cycle through cache lines (8 words apart), for
	 * the latency chain; the independent reads only need its memory. */
	size_t lines = words / 8 ? words / 8 : 1;
	uint32_t *perm = malloc(lines * sizeof(*perm));
	if (!perm)
		return 1;
	for (size_t i = 0; i < lines; i++)
		perm[i] = (uint32_t)i;
	for (size_t i = lines - 1; i > 0; i--) {
		size_t j = rnd(&r) % (i + 1);
		uint32_t t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
	}
	for (size_t i = 0; i < lines; i++)
		arr[(size_t)perm[i] * 8] = (uint64_t)perm[(i + 1) % lines] * 8;
	free(perm);

	struct cg_name_hashes *nh = malloc(BATCH * sizeof(*nh));
	if (!nh)
		return 1;
	uint64_t sink = 0;
	double hh = 1e9, hm = 1e9, lh = 1e9, lm = 1e9, ph = 1e9, pm = 1e9;
	double mem = 1e9, mul = 1e9, lat = 1e9;
	size_t fh = 0, fm = 0, fph = 0, fpm = 0;
	for (int k = 0; k < ROUNDS; k++) {
		hh = min2(hh, run_hash(&hits, hlen, &sink));
		hm = min2(hm, run_hash(&misses, mlen, &sink));
		lh = min2(lh, run_lookup(s, &hits, hlen, &fh));
		lm = min2(lm, run_lookup(s, &misses, mlen, &fm));
		ph = min2(ph, run_probe(s, &hits, hlen, nh, &fph));
		pm = min2(pm, run_probe(s, &misses, mlen, nh, &fpm));
		mem = min2(mem, run_memory(arr, idx, QUERIES, &sink));
		lat = min2(lat, run_latency(arr, QUERIES / 4, &sink));
		mul = min2(mul, run_mul(&sink));
	}
	free(nh);
	printf("queries          %u hits, %u misses (5 labels; best of %d "
	       "rounds)\n",
	       QUERIES, QUERIES, ROUNDS);
	printf("found            %zu of the hits, %zu of the misses\n", fh, fm);
	printf("baseline cpu     %.2f ns per dependent multiply (~%.2f GHz)\n",
	       mul, 3 / mul);
	printf("baseline hash    %.1f ns/query (hits), %.1f (misses)\n", hh,
	       hm);
	printf("baseline memory  %.1f ns per independent random read, %.1f ns "
	       "per dependent one (latency), in %.1f MB\n",
	       mem, lat, (double)bytes / 1e6);
	printf("probe hit        %.1f ns/query, hashes given (%.2fx latency); "
	       "found %zu\n",
	       ph, ph / lat, fph);
	printf("probe miss       %.1f ns/query, hashes given (%.2fx latency); "
	       "found %zu\n",
	       pm, pm / lat, fpm);
	printf("hash+lookup hit  %.1f ns/query (%.2fx latency, %.1fx hash)\n",
	       lh, lh / lat, lh / hh);
	printf("hash+lookup miss %.1f ns/query (%.2fx latency, %.1fx hash)\n",
	       lm, lm / lat, lm / hm);
	printf("(sink %llu)\n", (unsigned long long)(sink & 1));

	free(hlen);
	free(mlen);
	free(arr);
	free(idx);
	free(v.text);
	free(v.off);
	free(hits.text);
	free(hits.off);
	free(misses.text);
	free(misses.off);
	cg_domainset_free(s);
	return 0;
}
