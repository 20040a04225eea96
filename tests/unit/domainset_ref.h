/*
 * Test helpers shared by the domain-set and list-image unit tests and the
 * list fuzzers: second implementations of what the stored formats
 * specify.
 */
#ifndef CAFEGUARD_DOMAINSET_REF_H
#define CAFEGUARD_DOMAINSET_REF_H

#include <stddef.h>
#include <stdint.h>

/*
 * The hash as the comment in domainset.c specifies it, written a second
 * time byte by byte, so that an optimisation of the real one cannot
 * silently change the format.
 */
static inline uint64_t ref_absorb(uint64_t s, uint64_t x)
{
	uint64_t t = (s ^ x) * 0x9e3779b97f4a7c15ULL;
	return t ^ (t >> 32);
}

static inline uint64_t ref_fmix(uint64_t s)
{
	s ^= s >> 30;
	s *= 0xbf58476d1ce4e5b9ULL;
	s ^= s >> 27;
	s *= 0x94d049bb133111ebULL;
	s ^= s >> 31;
	return s;
}

/*
 * Version 2 (CG_DOMAINSET_HASH_VERSION): the string is cut from its end
 * into words of 8 bytes, each absorbed in that order, then the first
 * L mod 8 bytes with L mod 256 in the top byte.
 */
static inline uint64_t ref_hash(const char *name, size_t len)
{
	uint64_t s = 0x243f6a8885a308d3ULL;
	size_t i = len;
	for (; i >= 8; i -= 8) {
		uint64_t w = 0;
		for (size_t k = 0; k < 8; k++)
			w |= (uint64_t)(unsigned char)name[i - 8 + k]
			     << (8 * k);
		s = ref_absorb(s, w);
	}
	uint64_t piece = 0;
	for (size_t k = 0; k < i; k++)
		piece |= (uint64_t)(unsigned char)name[k] << (8 * k);
	piece |= (uint64_t)(len & 0xff) << 56;
	return ref_fmix(ref_absorb(s, piece));
}

/*
 * The image checksum as domainset.c specifies it (listimage.c uses it
 * too), and the repair of every checksum of a list image after its bytes
 * were changed on purpose: for tests of the checks behind the checksums,
 * and for the image fuzzer.  Offsets are those the format comments in
 * listimage.c and domainset.c give.
 */
static inline uint64_t ref_get64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static inline void ref_put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Header (check field zeroed by the caller) then a region; both are
 * multiples of 32 bytes. */
static inline uint64_t ref_check(const uint8_t *h, size_t hlen,
				 const uint8_t *r, size_t rlen)
{
	uint64_t s[4] = {0x243f6a8885a308d3ULL, 0x13198a2e03707344ULL,
			 0xa4093822299f31d0ULL, 0x082efa98ec4e6c89ULL};
	for (size_t i = 0; i < hlen; i += 8)
		s[i / 8 % 4] = ref_absorb(s[i / 8 % 4], ref_get64(h + i));
	for (size_t i = 0; i < rlen; i += 8)
		s[i / 8 % 4] = ref_absorb(s[i / 8 % 4], ref_get64(r + i));
	return ref_fmix(s[0] ^
			ref_absorb(s[1], s[2] ^ ref_absorb(s[3], hlen + rlen)));
}

static inline size_t ref_align64(size_t x)
{
	return (x + 63) & ~(size_t)63;
}

/* Image header: sources_size at 56, set[k] = {off, size, count} at
 * 64 + 24k, check at 320, 384 bytes.  Set header: n at 16, bits at 24,
 * check at 48, 64 bytes; then hash[n + 8], origin[n], bucket[2^bits + 1],
 * each at a multiple of 64. */
static inline void ref_image_repair(uint8_t *p, size_t len)
{
	if (len < 384)
		return;
	for (int k = 0; k < 4; k++) { /* the kinds of enum cg_digest */
		uint64_t off = ref_get64(p + 64 + 24 * k);
		uint64_t size = ref_get64(p + 72 + 24 * k);
		if (off % 64 || off > len || size > len - off || size < 64)
			continue;
		uint8_t *s = p + off;
		uint64_t n = ref_get64(s + 16);
		uint32_t bits = (uint32_t)ref_get64(s + 24);
		if (n > UINT32_MAX || bits < 1 || bits > 31)
			continue;
		size_t origin = ref_align64(64 + (n + 8) * 8);
		size_t bucket = ref_align64(origin + n * 4);
		size_t end =
		    ref_align64(bucket + (((size_t)1 << bits) + 1) * 4);
		if (end != size)
			continue;
		ref_put64(s + 48, 0);
		ref_put64(s + 48, ref_check(s, 64, s + bucket, end - bucket));
	}
	uint64_t ssize = ref_get64(p + 56);
	if (ssize > len - 384)
		return;
	size_t span = ref_align64(384 + ssize) - 384;
	if (span > len - 384)
		return;
	ref_put64(p + 320, 0);
	ref_put64(p + 320, ref_check(p, 384, p + 384, span));
}

#endif
