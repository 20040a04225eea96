/*
 * domainset: sorted 64-bit name hashes with a small bucket index (see the
 * header for the contract).
 *
 * Frozen layout, one allocation, no pointers inside, so that a later
 * version can write it to a file and memory-map it as is:
 *
 *   uint64_t hash[n + 8]        ascending; 8 entries of UINT64_MAX after
 *                               the last so that a probe's window of 8
 *                               never leaves the array
 *   uint32_t origin[n]          origin of hash[i], see ORIGIN_* below
 *   uint32_t bucket[2^bits + 1] the hashes whose top `bits` bits are b
 *                               are hash[bucket[b] .. bucket[b + 1])
 *
 * 12 bytes per entry plus at most 1/4 byte of index (17 to 32 entries per
 * bucket): about 12.2 bytes per domain, 12.2 MB for a million.
 *
 * A probe: the bucket's bounds from the index (small enough to stay in
 * the L2 cache), a guess within the bucket by interpolation (hashes are
 * uniform), then 8 hashes around the guess compared without branches: one
 * or two cache lines, the only memory the probe waits for.  All suffixes
 * of a name are probed together so their memory latencies overlap.  The
 * origin is read only on a hit, one more memory access then; misses, by
 * far the most lookups, do not pay for it.
 *
 * Hash collisions: the set stores hashes, not names, so a name that is not
 * listed matches if its hash equals a listed one.  With a 64-bit hash that
 * behaves like a random function, each probe of a set of n entries is a
 * false positive with probability about n / 2^64: 5.4e-14 per probe for a
 * million entries, i.e. one wrong block in ~10^13 lookups of 5-label names.
 */
#include "cafeguard/domainset.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/*
 * The name hash, format version 1.  Changing anything here changes every
 * stored set: bump the format version with it.
 *
 * Arithmetic is on unsigned 64-bit integers modulo 2^64.
 *
 *   M      = 0x9e3779b97f4a7c15   (2^64 / golden ratio, odd)
 *   S0     = 0x243f6a8885a308d3   (first 64 fraction bits of pi)
 *   absorb(s, x) = t ^ (t >> 32)  where t = (s ^ x) * M
 *   fmix(s)      = SplitMix64's finaliser (Stafford's "Mix13"):
 *                  s ^= s >> 30; s *= 0xbf58476d1ce4e5b9;
 *                  s ^= s >> 27; s *= 0x94d049bb133111eb;
 *                  s ^= s >> 31
 *
 * A name is a sequence of labels separated by '.'.  Starting from s = S0,
 * the labels are absorbed from the rightmost (the TLD) to the leftmost.
 * A label of L bytes b[0..L) is absorbed as the byte string
 *
 *   c = b[0..L) '.' 0 0 ... 0     (zero bytes up to a multiple of 16)
 *
 * cut into 8-byte little-endian words w = c[8j] | c[8j+1] << 8 | ... |
 * c[8j+7] << 56, each absorbed in order: s = absorb(s, w).  The hash of
 * the suffix that starts with that label is fmix(s).  So one right-to-left
 * pass over a name yields the hash of every label-aligned suffix, and the
 * hash of a suffix depends on the suffix's bytes only.  The hash of the
 * empty name is fmix(S0).
 *
 * Labels contain neither '.' nor NUL, so the word holding the '.' ends a
 * label and the words spell the labels back unambiguously: distinct names
 * absorb distinct word sequences.  absorb is a bijection of s for a fixed
 * word and of the word for a fixed s, so names that differ in one word
 * differ in s right after it; fmix spreads every input bit over the
 * output, so the top bits used by the index are as good as the low ones.
 * Every label under 16 bytes (nearly all) is exactly two words: no branch
 * on its length.
 */
#define HASH_M	0x9e3779b97f4a7c15ULL
#define HASH_S0 0x243f6a8885a308d3ULL

static inline uint64_t absorb(uint64_t s, uint64_t x)
{
	uint64_t t = (s ^ x) * HASH_M;
	return t ^ (t >> 32);
}

static inline uint64_t fmix(uint64_t s)
{
	s ^= s >> 30;
	s *= 0xbf58476d1ce4e5b9ULL;
	s ^= s >> 27;
	s *= 0x94d049bb133111ebULL;
	s ^= s >> 31;
	return s;
}

static inline uint64_t load64(const char *p)
{
	uint64_t w;
	memcpy(&w, p, 8);
	return le64toh(w);
}

/* All ones if c, else zero: selections without branches, whose outcome
 * (label lengths, hit or miss) is as random as the names. */
static inline uint64_t all_if(bool c)
{
	return -(uint64_t)c;
}

/*
 * The fast path reads the name in words and needs len >= 8 so that a word
 * can always be placed inside the name: the last bytes of a label come
 * from the word that ends where the label ends, shifted down.  Loads never
 * cross the name's end, and never read a store just made (copying the
 * name into a padded buffer first cost more than it saved: the loads
 * stalled on the copy's stores).
 */

/* The r (0..7) bytes before name + end, as the low bytes of a word, read
 * from the word that ends there or, near the start, the first one. */
static inline uint64_t tail_bytes(const char *name, size_t end, unsigned r)
{
	size_t base = end >= 8 ? end - 8 : 0;
	unsigned off = (unsigned)(end - r - base); /* 0 .. 8 */
	uint64_t x = load64(name + base);
	return ((x >> (4 * off)) >> (4 * off)) & ((1ULL << (8 * r)) - 1);
}

/* Absorbs the label name[start .. end) as specified above. */
static inline uint64_t absorb_label(uint64_t s, const char *name, size_t len,
				    size_t start, size_t end)
{
	size_t l = end - start;
	for (; l >= 16; l -= 16, start += 16) {
		s = absorb(s, load64(name + start));
		s = absorb(s, load64(name + start + 8));
	}
	unsigned r = (unsigned)l & 7;
	uint64_t last = tail_bytes(name, end, r) | (uint64_t)'.' << (8 * r);
	/* With 8 bytes or more, the first word is a full one; otherwise
	 * the load only has to stay inside the name. */
	uint64_t first = load64(name + (start + 8 <= len ? start : len - 8));
	uint64_t two = all_if(l >= 8);
	s = absorb(s, (first & two) | (last & ~two));
	return absorb(s, last & two);
}

/*
 * Dots as bits, bit p + 1 for a '.' at byte p, and bit 0 set as if a '.'
 * preceded the name: label starts are then the set bits, taken from the
 * top.  Found 16 bytes at a time with SSE2 (part of every x86-64), else 8
 * at a time with integer arithmetic, in blocks that end at the name's end;
 * the first block overlaps the second, which is harmless for a set of
 * bits.
 */
#define DOT_WORDS 5 /* bits 0 .. 254 and one word of slack */

static inline void set_dots(uint64_t dm[DOT_WORDS], size_t q, uint64_t bits)
{
	size_t p = q + 1;
	dm[p >> 6] |= bits << (p & 63);
	dm[(p >> 6) + 1] |= (bits >> 1) >> (63 - (p & 63));
}

/* Bit k set if p[k] is '.', k < 8: an exact zero-byte test on
 * p ^ "........" (no carry crosses bytes, unlike the shorter idiom), the
 * byte flags gathered into 8 bits by one multiplication. */
static inline uint64_t dots8(const char *p)
{
	const uint64_t lo7 = 0x7f7f7f7f7f7f7f7fULL;
	uint64_t x = load64(p) ^ 0x2e2e2e2e2e2e2e2eULL;
	uint64_t z = (~(((x & lo7) + lo7) | x | lo7)) >> 7;
	return (z * 0x0102040810204080ULL) >> 56;
}

static inline void find_dots(const char *name, size_t len,
			     uint64_t dm[DOT_WORDS])
{
	for (unsigned i = 0; i < DOT_WORDS; i++)
		dm[i] = 0;
	dm[0] = 1;
#if defined(__SSE2__)
	if (len >= 16) {
		const __m128i dot = _mm_set1_epi8('.');
		for (size_t e = len; e;) {
			size_t q = e >= 16 ? e - 16 : 0;
			__m128i v =
			    _mm_loadu_si128((const __m128i *)(name + q));
			set_dots(dm, q,
				 (uint64_t)(unsigned)_mm_movemask_epi8(
				     _mm_cmpeq_epi8(v, dot)));
			e = q;
		}
		return;
	}
#endif
	for (size_t e = len; e;) {
		size_t q = e >= 8 ? e - 8 : 0;
		set_dots(dm, q, dots8(name + q));
		e = q;
	}
}

/* Set bits of x (no popcount instruction assumed). */
static inline unsigned popcount64(uint64_t x)
{
	x -= (x >> 1) & 0x5555555555555555ULL;
	x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
	return (unsigned)((x * 0x0101010101010101ULL) >> 56);
}

/*
 * One right-to-left pass over the labels of a name of 8 .. CG_NAME_MAX
 * bytes, storing each suffix's hash in out (if not NULL) most specific
 * first.  Returns the hash of the whole name.
 */
static inline uint64_t hash_suffixes(const char *name, size_t len,
				     struct cg_name_hashes *out)
{
	uint64_t dm[DOT_WORDS];
	find_dots(name, len, dm);
	unsigned wi = (unsigned)(len + 1) / 64, n = 0;
	for (unsigned i = 0; i <= wi; i++)
		n += popcount64(dm[i]);
	if (out && n > CG_NAME_MAX_LABELS)
		return 0; /* not canonical: out->n stays 0 */

	uint64_t s = HASH_S0, h = 0;
	uint64_t cur = dm[wi]; /* in a register: names up to 62 bytes */
	unsigned k = n;
	size_t end = len;
	for (;;) {
		while (!cur)
			cur = dm[--wi];
		unsigned bit = 63 - (unsigned)__builtin_clzll(cur);
		cur ^= 1ULL << bit;
		size_t start = (size_t)wi * 64 + bit;
		s = absorb_label(s, name, len, start, end);
		h = fmix(s);
		if (out) {
			out->h[--k] = h;
			out->off[k] = (uint8_t)start;
		}
		if (!start)
			break;
		end = start - 1;
	}
	if (out)
		out->n = n;
	return h;
}

/*
 * The same hash byte by byte, for names under 8 bytes and for input too
 * long to be a name (the contract asks for canonical names; this keeps
 * the function defined for anything).  out as above.
 */
static uint64_t hash_short(const char *name, size_t len,
			   struct cg_name_hashes *out)
{
	uint64_t s = HASH_S0, h = fmix(s);
	unsigned n = 0;
	for (size_t end = len; len;) { /* the empty name has no label */
		size_t start = end;
		while (start && name[start - 1] != '.')
			start--;
		size_t l = end - start;
		for (size_t j = 0; j <= l; j += 8) {
			uint64_t w = 0;
			for (size_t k = 0; k < 8 && j + k <= l; k++) {
				unsigned char c =
				    j + k < l
					? (unsigned char)name[start + j + k]
					: '.';
				w |= (uint64_t)c << (8 * k);
			}
			s = absorb(s, w);
		}
		if (l % 16 < 8) /* the zero word that completes 16 bytes */
			s = absorb(s, 0);
		h = fmix(s);
		if (out && n < CG_NAME_MAX_LABELS) {
			out->h[n] = h;
			out->off[n] = (uint8_t)start;
		}
		n++;
		if (!start)
			break;
		end = start - 1;
	}
	if (out && n <= CG_NAME_MAX_LABELS) {
		for (unsigned i = 0, j = n - 1; i < j; i++, j--) {
			uint64_t th = out->h[i];
			out->h[i] = out->h[j];
			out->h[j] = th;
			uint8_t to = out->off[i];
			out->off[i] = out->off[j];
			out->off[j] = to;
		}
		out->n = n;
	}
	return h;
}

void cg_domainset_hash_name(const char *canon, size_t len,
			    struct cg_name_hashes *out)
{
	/* Other input than a canonical name yields no suffix, so it can
	 * match nothing. */
	out->n = 0;
	if (len == 0 || len > CG_NAME_MAX)
		return;
	if (len < 8)
		hash_short(canon, len, out);
	else
		hash_suffixes(canon, len, out);
}

uint64_t cg_domainset_hash(const char *canon, size_t len)
{
	if (len < 8 || len > CG_NAME_MAX)
		return hash_short(canon, len, NULL);
	return hash_suffixes(canon, len, NULL);
}

/*
 * Origin: 32 bits, the source index in the top ORIGIN_SOURCE_BITS, the
 * line in the rest.  Limits are in the header (CG_DOMAINSET_SOURCES,
 * CG_DOMAINSET_LINE_MAX); the builder refuses anything beyond them rather
 * than truncate, which would blame the wrong file or line.
 */
#define ORIGIN_LINE_BITS 24
#define ORIGIN_LINE_MASK ((1U << ORIGIN_LINE_BITS) - 1)

_Static_assert(CG_DOMAINSET_LINE_MAX == ORIGIN_LINE_MASK,
	       "line limit must match the origin encoding");
_Static_assert(CG_DOMAINSET_SOURCES == 1U << (32 - ORIGIN_LINE_BITS),
	       "source limit must match the origin encoding");

/* Positions in the bucket index are 32-bit. */
#define MAX_ENTRIES ((size_t)UINT32_MAX)

/*
 * The builder keeps entries in insertion order in two growable arrays and,
 * to report duplicates as they are added, a set of the hashes added so far
 * (open addressing, linear probing, 0 marks an empty slot; hash 0 itself is
 * remembered in has_zero).  Kept at most 3/4 full: an insertion then reads
 * one or two cache lines.
 */
struct cg_domainset_builder {
	uint64_t *h;
	uint32_t *origin;
	size_t n, cap;
	uint64_t *tab;
	size_t tab_mask;
	bool has_zero;
};

struct cg_domainset {
	size_t n;
	unsigned bits; /* bucket index: top `bits` bits of the hash */
	const uint64_t *hash;
	const uint32_t *origin;
	const uint32_t *bucket;
	void *mem;
	size_t bytes;
};

#define BUILDER_INITIAL 1024

struct cg_domainset_builder *cg_domainset_builder_new(void)
{
	return calloc(1, sizeof(struct cg_domainset_builder));
}

void cg_domainset_builder_free(struct cg_domainset_builder *b)
{
	if (!b)
		return;
	free(b->h);
	free(b->origin);
	free(b->tab);
	free(b);
}

size_t cg_domainset_builder_count(const struct cg_domainset_builder *b)
{
	return b->n;
}

/* Returns true if h was already in the table, else inserts it. */
static bool tab_insert(uint64_t *tab, size_t mask, uint64_t h)
{
	size_t i = (size_t)h & mask;
	while (tab[i]) {
		if (tab[i] == h)
			return true;
		i = (i + 1) & mask;
	}
	tab[i] = h;
	return false;
}

static bool tab_contains(const struct cg_domainset_builder *b, uint64_t h)
{
	if (!h)
		return b->has_zero;
	if (!b->tab)
		return false;
	size_t i = (size_t)h & b->tab_mask;
	while (b->tab[i]) {
		if (b->tab[i] == h)
			return true;
		i = (i + 1) & b->tab_mask;
	}
	return false;
}

/* Makes room for one more entry in the arrays and the table. */
static int builder_reserve(struct cg_domainset_builder *b)
{
	if (b->n == MAX_ENTRIES) {
		errno = ENOMEM;
		return -1;
	}
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : BUILDER_INITIAL;
		if (cap > MAX_ENTRIES)
			cap = MAX_ENTRIES;
		uint64_t *h = realloc(b->h, cap * sizeof(*h));
		if (!h)
			return -1;
		b->h = h;
		uint32_t *o = realloc(b->origin, cap * sizeof(*o));
		if (!o)
			return -1;
		b->origin = o;
		b->cap = cap;
	}
	size_t slots = b->tab ? b->tab_mask + 1 : 0;
	if ((b->n + 1) * 4 > slots * 3) {
		size_t ns = slots ? slots * 2 : 2 * BUILDER_INITIAL;
		uint64_t *tab = calloc(ns, sizeof(*tab));
		if (!tab)
			return -1;
		for (size_t i = 0; i < b->n; i++)
			if (b->h[i])
				tab_insert(tab, ns - 1, b->h[i]);
		free(b->tab);
		b->tab = tab;
		b->tab_mask = ns - 1;
	}
	return 0;
}

int cg_domainset_builder_add_hash(struct cg_domainset_builder *b, uint64_t h,
				  uint16_t source, uint32_t line, bool *dup)
{
	if (source >= CG_DOMAINSET_SOURCES || line > CG_DOMAINSET_LINE_MAX) {
		errno = ERANGE;
		return -1;
	}
	if (tab_contains(b, h)) {
		if (dup)
			*dup = true;
		return 0;
	}
	if (builder_reserve(b) < 0)
		return -1;
	if (h)
		tab_insert(b->tab, b->tab_mask, h);
	else
		b->has_zero = true;
	b->h[b->n] = h;
	b->origin[b->n] = (uint32_t)source << ORIGIN_LINE_BITS | line;
	b->n++;
	if (dup)
		*dup = false;
	return 0;
}

int cg_domainset_builder_add(struct cg_domainset_builder *b, const char *canon,
			     size_t len, uint16_t source, uint32_t line,
			     bool *dup)
{
	return cg_domainset_builder_add_hash(b, cg_domainset_hash(canon, len),
					     source, line, dup);
}

/*
 * Smallest bits >= 1 that leaves at most 32 entries per bucket on average
 * (17 to 32): the index costs at most a quarter byte per entry, small
 * enough to stay in the CPU's L2 cache (256 KB for 1.2 million entries)
 * while the hashes stream through it.  The rank of a uniform sample strays
 * from its expected place by about sqrt(cnt) / 2, so the window of 8
 * around the guess nearly always holds the answer.  Measured on the
 * 1.2 M list, 16 or 64 per bucket and a window of 16 were no faster.
 */
#define BUCKET_AVG 32

static unsigned bucket_bits(size_t n)
{
	unsigned bits = 1;
	while (bits < 31 && (n >> bits) > BUCKET_AVG)
		bits++;
	return bits;
}

/*
 * A probe reads WINDOW hashes around its guess with no branch; the hash
 * array ends with WINDOW padding entries so that a window never leaves
 * the allocation.
 */
#define WINDOW 8

static inline uint32_t bucket_of(uint64_t h, unsigned bits)
{
	return (uint32_t)(h >> (64 - bits));
}

struct cg_domainset *cg_domainset_build(struct cg_domainset_builder *b,
					struct cg_error *err)
{
	if (!b) {
		cg_error_set(err, "domain set: no builder");
		return NULL;
	}
	/* The duplicate filter is no longer needed: give its memory back
	 * before the frozen arrays are allocated. */
	free(b->tab);
	b->tab = NULL;

	size_t n = b->n;
	unsigned bits = bucket_bits(n);
	size_t nb = (size_t)1 << bits;
	size_t bytes = (n + WINDOW) * sizeof(uint64_t) + n * sizeof(uint32_t) +
		       (nb + 1) * sizeof(uint32_t);

	struct cg_domainset *s = calloc(1, sizeof(*s));
	void *mem = malloc(bytes);
	if (!s || !mem) {
		free(s);
		free(mem);
		cg_domainset_builder_free(b);
		cg_error_set(err,
			     "domain set: out of memory for %zu entries "
			     "(%zu bytes)",
			     n, bytes);
		return NULL;
	}
	uint64_t *hash = mem;
	uint32_t *origin = (uint32_t *)(hash + n + WINDOW);
	for (size_t i = n; i < n + WINDOW; i++)
		hash[i] = UINT64_MAX;
	uint32_t *bucket = origin + n;

	/* Counting sort on the top bits: bucket[k + 1] counts bucket k, the
	 * prefix sum turns that into starts, scattering advances each start
	 * to the bucket's end, and one shift puts the starts back. */
	memset(bucket, 0, (nb + 1) * sizeof(*bucket));
	for (size_t i = 0; i < n; i++)
		bucket[bucket_of(b->h[i], bits) + 1]++;
	for (size_t k = 1; k <= nb; k++)
		bucket[k] += bucket[k - 1];
	for (size_t i = 0; i < n; i++) {
		uint32_t pos = bucket[bucket_of(b->h[i], bits)]++;
		hash[pos] = b->h[i];
		origin[pos] = b->origin[i];
	}
	memmove(bucket + 1, bucket, nb * sizeof(*bucket));
	bucket[0] = 0;

	/* Buckets hold a handful of entries: insertion sort is the fastest. */
	for (size_t k = 0; k < nb; k++) {
		for (uint32_t i = bucket[k] + 1; i < bucket[k + 1]; i++) {
			uint64_t h = hash[i];
			uint32_t o = origin[i];
			uint32_t j = i;
			while (j > bucket[k] && hash[j - 1] > h) {
				hash[j] = hash[j - 1];
				origin[j] = origin[j - 1];
				j--;
			}
			hash[j] = h;
			origin[j] = o;
		}
	}
	cg_domainset_builder_free(b);

	s->n = n;
	s->bits = bits;
	s->hash = hash;
	s->origin = origin;
	s->bucket = bucket;
	s->mem = mem;
	s->bytes = bytes;
	return s;
}

void cg_domainset_free(struct cg_domainset *s)
{
	if (!s)
		return;
	free(s->mem);
	free(s);
}

size_t cg_domainset_count(const struct cg_domainset *s)
{
	return s->n;
}

size_t cg_domainset_bytes(const struct cg_domainset *s)
{
	return s->bytes;
}

/*
 * Where h would sit in a bucket of cnt hashes starting at lo if they were
 * evenly spread: hashes are uniform, so the bits after the bucket's give
 * the fraction.
 */
static inline uint32_t guess(uint64_t h, unsigned bits, uint32_t lo,
			     uint32_t cnt)
{
	uint64_t frac = (h << bits) >> 32;
	return lo + (uint32_t)((cnt * frac) >> 32);
}

/* First i in [lo, hi) with a[i] >= h, or hi. */
static uint32_t lower_bound(const uint64_t *a, uint64_t h, uint32_t lo,
			    uint32_t hi)
{
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (a[mid] < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Suffixes are probed in groups whose cache lines are requested together:
 * the probes of one name are independent, so their memory latencies
 * overlap instead of adding up. */
#define PROBE_GROUP 8

struct probe {
	uint32_t lo, hi, w; /* bucket [lo, hi), window [w, w + WINDOW) */
};

/* Finds h: the window first, the rest of the bucket only if h may lie
 * outside it (rare).  Returns the position or UINT32_MAX. */
static inline uint32_t probe_find(const struct cg_domainset *s, uint64_t h,
				  const struct probe *p)
{
	/* Hashes are sorted: counting those below h gives its place with
	 * one compare per entry and no branch. */
	const uint64_t *a = s->hash + p->w;
	unsigned c = 0;
	for (unsigned k = 0; k < WINDOW; k++)
		c += a[k] < h;
	if (c < WINDOW && a[c] == h)
		return p->w + c < p->hi ? p->w + c : UINT32_MAX;
	bool below = c == 0 && p->w > p->lo;
	bool above = c == WINDOW && p->w + WINDOW < p->hi;
	if (__builtin_expect(below | above, 0)) {
		uint32_t pos = lower_bound(s->hash, h, p->lo, p->hi);
		if (pos < p->hi && s->hash[pos] == h)
			return pos;
	}
	return UINT32_MAX;
}

bool cg_domainset_lookup(const struct cg_domainset *s,
			 const struct cg_name_hashes *nh,
			 struct cg_domain_match *m)
{
	unsigned n = nh->n < CG_NAME_MAX_LABELS ? nh->n : CG_NAME_MAX_LABELS;
	for (unsigned g = 0; g < n; g += PROBE_GROUP) {
		unsigned e = n - g < PROBE_GROUP ? n : g + PROBE_GROUP;
		struct probe pr[PROBE_GROUP];
		for (unsigned i = g; i < e; i++) {
			uint64_t h = nh->h[i];
			uint32_t b = bucket_of(h, s->bits);
			uint32_t lo = s->bucket[b], hi = s->bucket[b + 1];
			/* A window centred on the guess, moved inside the
			 * bucket when the bucket is larger than it. */
			uint32_t x = guess(h, s->bits, lo, hi - lo);
			uint32_t w = x >= lo + WINDOW / 2 ? x - WINDOW / 2 : lo;
			uint32_t top = hi >= lo + WINDOW ? hi - WINDOW : lo;
			w = w < top ? w : top;
			pr[i - g] = (struct probe){lo, hi, w};
			__builtin_prefetch(&s->hash[w]);
			__builtin_prefetch(&s->hash[w + WINDOW - 1]);
		}
		for (unsigned i = g; i < e; i++) {
			uint32_t pos = probe_find(s, nh->h[i], &pr[i - g]);
			if (pos == UINT32_MAX)
				continue;
			if (m) {
				uint32_t o = s->origin[pos];
				m->source = (uint16_t)(o >> ORIGIN_LINE_BITS);
				m->line = o & ORIGIN_LINE_MASK;
				m->suffix = nh->off[i];
			}
			return true;
		}
	}
	return false;
}

bool cg_domainset_lookup_name(const struct cg_domainset *s, const char *canon,
			      size_t len, struct cg_domain_match *m)
{
	struct cg_name_hashes nh;
	cg_domainset_hash_name(canon, len, &nh);
	return cg_domainset_lookup(s, &nh, m);
}
