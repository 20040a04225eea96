/*
 * Test helper shared by the domain-set unit test and the list fuzzer.
 */
#ifndef CAFEGUARD_DOMAINSET_REF_H
#define CAFEGUARD_DOMAINSET_REF_H

#include <stddef.h>
#include <stdint.h>

/*
 * The hash as the comment in domainset.c specifies it, written a second
 * time byte by byte and left to right within a label, so that an
 * optimisation of the real one cannot silently change the format.
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

static inline uint64_t ref_hash(const char *name, size_t len)
{
	uint64_t s = 0x243f6a8885a308d3ULL;
	size_t end = len;
	if (!len)
		return ref_fmix(s);
	for (;;) {
		size_t start = end;
		while (start && name[start - 1] != '.')
			start--;
		/* The label, its '.' and zeros up to a multiple of 16
		 * bytes, in words of 8 bytes. */
		size_t l = end - start, padded = (l + 1 + 15) / 16 * 16;
		for (size_t j = 0; j < padded; j += 8) {
			uint64_t w = 0;
			for (size_t k = 0; k < 8; k++) {
				size_t i = j + k;
				unsigned char c =
				    i < l    ? (unsigned char)name[start + i]
				    : i == l ? '.'
					     : 0;
				w |= (uint64_t)c << (8 * k);
			}
			s = ref_absorb(s, w);
		}
		if (!start)
			return ref_fmix(s);
		end = start - 1;
	}
}

#endif
