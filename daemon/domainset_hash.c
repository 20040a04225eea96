/*
 * domainset_hash: the hash of a canonical name and of all its
 * label-aligned suffixes at once (see the header for the contract).
 */
#include "cafeguard/domainset.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "domainset_hash.h"

/*
 * The name hash, version 2 (CG_DOMAINSET_HASH_VERSION).  Changing anything
 * here changes every stored set: bump the version with it.
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
 * The hash of a byte string b[0..L) (a canonical name, or a suffix of one)
 * cuts the string from its END into q = floor(L / 8) words of 8 bytes and
 * a first piece of r = L mod 8 bytes:
 *
 *   word i  = b[L-8i-8 .. L-8i) read little-endian, i = 0 .. q-1
 *   piece   = b[0 .. r) read little-endian (0 when r = 0)
 *   s = S0;  s = absorb(s, word i) for i = 0 .. q-1;
 *   s = absorb(s, piece | (L mod 256) << 56);  hash = fmix(s)
 *
 * Why from the end: every label-aligned suffix of a name ends where the
 * name ends, so all suffixes cut the same words, and one pass over the
 * name's words from its end yields the state after 0, 1, 2 ... words.
 * The hash of the suffix of length L is then two steps from the state
 * after floor(L / 8) words (absorb its piece, fmix): a constant amount of
 * work per label, independent of the other labels', which the processor
 * overlaps.  The length in the top byte of the last word (r <= 7 bytes
 * leave it free) ends the string unambiguously.
 *
 * absorb is a bijection of s for a fixed word and of the word for a fixed
 * s, and fmix is a bijection, so two strings of the same length that
 * differ in one word or in the piece never collide; fmix spreads every
 * input bit over the output, so the top bits the index uses are as good
 * as the low ones.
 */
/* absorb, fmix, load64 and the constants: domainset_hash.h. */

static inline uint64_t low_bytes(uint64_t x, unsigned r) /* r < 8 */
{
	return x & ((1ULL << (8 * r)) - 1);
}

/*
 * The last step for the suffix of L bytes that starts at name + start,
 * given the chain state after its floor(L / 8) words.  Needs len >= 8:
 * the piece is read from the word that starts with it, or near the end
 * from the name's last word, so no load leaves the name.
 */
static inline uint64_t finish(const char *name, size_t len, size_t start,
			      uint64_t s)
{
	size_t l = len - start;
	/* (name + len) - 8, not name + (len - 8): a short name sits at the
	 * end of an 8-byte pad, and len - 8 would wrap. */
	const char *from = l >= 8 ? name + start : name + len - 8;
	/* l = 0 (the empty name) keeps no byte: any shift does. */
	unsigned shift = l >= 8 ? 0 : (8 * (8 - (unsigned)l)) & 63;
	uint64_t piece = low_bytes(load64(from) >> shift, (unsigned)l & 7);
	return fmix(absorb(s, piece | (uint64_t)l << 56));
}

uint64_t cg_domainset_hash(const char *canon, size_t len)
{
	if (len < 8) {
		char pad[8] = {0};
		memcpy(pad + 8 - len, canon, len);
		return finish(pad + 8 - len, len, 0, HASH_S0);
	}
	uint64_t s = HASH_S0;
	for (size_t i = 0; i < len / 8; i++)
		s = absorb(s, load64(canon + len - 8 * i - 8));
	return finish(canon, len, 0, s);
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

/* Bit i set if name[i] is '.', for 8 <= len <= 64; blocks end at the
 * name's end, and an overlap only sets a bit twice. */
static inline uint64_t dots64(const char *name, size_t len)
{
#if defined(__SSE2__)
	if (len >= 16) {
		const __m128i dot = _mm_set1_epi8('.');
		uint64_t m = 0;
		for (size_t q = 0;; q += 16) {
			if (q + 16 > len)
				q = len - 16;
			__m128i v =
			    _mm_loadu_si128((const __m128i *)(name + q));
			m |= (uint64_t)(unsigned)_mm_movemask_epi8(
				 _mm_cmpeq_epi8(v, dot))
			     << q;
			if (q + 16 >= len)
				return m;
		}
	}
#endif
	uint64_t m = dots8(name + len - 8) << (len - 8);
	for (size_t q = 0; q + 8 < len; q += 8)
		m |= dots8(name + q) << q;
	return m;
}

/*
 * Names of 8 to 64 bytes, nearly all: one word of label starts (bit 0 and
 * each bit after a dot) and a chain of 8 words whose loads are clamped to
 * the name, so that its length does not pick a branch; states beyond the
 * name's words are computed and never used.
 */
static unsigned hash_short(const char *name, size_t len,
			   struct cg_name_hashes *out)
{
	uint64_t starts = dots64(name, len) << 1 | 1;
	if (len < 64)
		starts &= (1ULL << len) - 1;
	uint64_t st[9];
	st[0] = HASH_S0;
	for (size_t i = 0; i < 8; i++) {
		size_t at = len >= 8 * i + 8 ? len - 8 * i - 8 : 0;
		st[i + 1] = absorb(st[i], load64(name + at));
	}
	unsigned k = 0;
	for (; starts; starts &= starts - 1, k++) {
		unsigned start = (unsigned)__builtin_ctzll(starts);
		out->h[k] = finish(name, len, start, st[(len - start) / 8]);
		out->off[k] = (uint8_t)start;
	}
	return k;
}

/* Names of 65 to CG_NAME_MAX bytes: the same over four words of starts. */
#define LONG_WORDS 4

static unsigned hash_long(const char *name, size_t len,
			  struct cg_name_hashes *out)
{
	uint64_t dm[LONG_WORDS + 1] = {0};
	for (size_t q = 0; q + 8 <= len; q += 8)
		dm[q / 64] |= dots8(name + q) << (q % 64);
	size_t t = len - 8; /* the last bytes, unless q ended there */
	uint64_t d = dots8(name + t);
	dm[t / 64] |= d << (t % 64);
	if (t % 64 > 56)
		dm[t / 64 + 1] |= d >> (64 - t % 64);

	uint64_t st[CG_NAME_MAX / 8 + 1];
	st[0] = HASH_S0;
	for (size_t i = 0; i < len / 8; i++)
		st[i + 1] = absorb(st[i], load64(name + len - 8 * i - 8));
	unsigned k = 0;
	uint64_t carry = 1; /* a start at 0, and after a dot ending a word */
	for (unsigned w = 0; w < LONG_WORDS; w++) {
		uint64_t starts = dm[w] << 1 | carry;
		carry = dm[w] >> 63;
		if (len < 64 * (size_t)w + 64)
			starts &= len > 64 * (size_t)w
				      ? (1ULL << (len - 64 * w)) - 1
				      : 0;
		for (; starts; starts &= starts - 1, k++) {
			size_t start =
			    64 * (size_t)w + (unsigned)__builtin_ctzll(starts);
			if (k < CG_NAME_MAX_LABELS) {
				out->h[k] = finish(name, len, start,
						   st[(len - start) / 8]);
				out->off[k] = (uint8_t)start;
			}
		}
	}
	return k;
}

void cg_domainset_hash_name(const char *canon, size_t len,
			    struct cg_name_hashes *out)
{
	/* Other input than a canonical name yields no suffix, so it can
	 * match nothing; more suffixes than labels fit is such input. */
	unsigned k = 0;
	if (len > CG_NAME_MAX) {
		k = 0;
	} else if (len > 64) {
		k = hash_long(canon, len, out);
	} else if (len >= 8) {
		k = hash_short(canon, len, out);
	} else if (len) {
		/* Under 8 bytes ("t.co"): too short to read in words, and
		 * rare enough to hash each suffix on its own. */
		uint64_t starts = 1;
		for (size_t i = 0; i + 1 < len; i++)
			starts |= (uint64_t)(canon[i] == '.') << (i + 1);
		for (; starts; starts &= starts - 1, k++) {
			unsigned start = (unsigned)__builtin_ctzll(starts);
			out->h[k] =
			    cg_domainset_hash(canon + start, len - start);
			out->off[k] = (uint8_t)start;
		}
	}
	out->n = k <= CG_NAME_MAX_LABELS ? k : 0;
}
