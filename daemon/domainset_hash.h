/*
 * Private to the domain set module: the mixing steps of the name hash
 * (domainset_hash.c, where the hash is specified) that the image
 * checksum (domainset.c) uses too.
 */
#ifndef CAFEGUARD_DOMAINSET_HASH_H
#define CAFEGUARD_DOMAINSET_HASH_H

#include <endian.h>
#include <stdint.h>
#include <string.h>

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

#endif
