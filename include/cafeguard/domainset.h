/*
 * domainset: one immutable set of domain names with suffix matching.
 *
 * An entry example.com matches example.com and every name below it
 * (www.example.com, a.b.example.com) but not notexample.com: matching is
 * by whole labels.  Each entry remembers where it came from (a source
 * index chosen by the caller, usually the file within a list, and the line)
 * so a decision can name the list file and line that caused it.
 *
 * Layout: flat arrays of 64-bit name hashes and their origins, sorted and
 * indexed by hash prefix, so a lookup is a few cache lines and the whole
 * set can later be written to disk and memory-mapped as is.  A set is
 * built once by one thread and then read concurrently by any number of
 * threads without locks.
 *
 * Hashes: a name's suffix hashes are computed in one right-to-left pass
 * (cg_domainset_hash_name), so the policy hashes a name once and probes
 * every list it needs with the same hashes.  The hash function is part of
 * the on-disk format: never change it without changing the format version.
 */
#ifndef CAFEGUARD_DOMAINSET_H
#define CAFEGUARD_DOMAINSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cafeguard/diag.h"
#include "cafeguard/name.h"

/* A canonical name has at most 127 labels (253 bytes, 1-byte labels). */
#define CG_NAME_MAX_LABELS 127

struct cg_name_hashes {
	unsigned n;                       /* number of suffixes */
	uint64_t h[CG_NAME_MAX_LABELS];   /* h[0]: whole name, h[n-1]: TLD */
	uint8_t off[CG_NAME_MAX_LABELS];  /* where suffix i starts in name */
};

/* Hashes every label-aligned suffix of a canonical name. */
void cg_domainset_hash_name(const char *canon, size_t len,
			    struct cg_name_hashes *out);

/* 64-bit hash of one canonical name; equals out.h[0] above. */
uint64_t cg_domainset_hash(const char *canon, size_t len);

struct cg_domain_match {
	uint16_t source;   /* caller's source index given to _add */
	uint32_t line;     /* line in that source, 0 if none */
	uint8_t suffix;    /* offset in the queried name of the matching
			      entry: the entry text is name + suffix */
};

struct cg_domainset_builder;
struct cg_domainset;

struct cg_domainset_builder *cg_domainset_builder_new(void);
void cg_domainset_builder_free(struct cg_domainset_builder *b);

/* An origin is 32 bits: source indexes 0..255, lines 0..2^24-1. */
#define CG_DOMAINSET_SOURCES  256u
#define CG_DOMAINSET_LINE_MAX 16777215u

/*
 * Adds a canonical name.  A name already present keeps its first origin
 * (and *dup, if given, is set to true).  Returns 0, or -1 on allocation
 * failure or, with errno ERANGE, a source or line beyond the limits above
 * (the builder stays valid).
 */
int cg_domainset_builder_add(struct cg_domainset_builder *b, const char *canon,
			     size_t len, uint16_t source, uint32_t line,
			     bool *dup);

/*
 * Adds an entry known only by its hash (the same function as
 * cg_domainset_hash), for lists whose plain text must not be stored.
 */
int cg_domainset_builder_add_hash(struct cg_domainset_builder *b, uint64_t h,
				  uint16_t source, uint32_t line, bool *dup);

size_t cg_domainset_builder_count(const struct cg_domainset_builder *b);

/*
 * Freezes the builder into a set and frees the builder (also on failure).
 * Returns NULL with err set on allocation failure.
 */
struct cg_domainset *cg_domainset_build(struct cg_domainset_builder *b,
					struct cg_error *err);

void cg_domainset_free(struct cg_domainset *s);

size_t cg_domainset_count(const struct cg_domainset *s);

/* Bytes of memory the set's arrays occupy. */
size_t cg_domainset_bytes(const struct cg_domainset *s);

/*
 * Looks the suffixes of a name up, most specific first, and reports the
 * first (longest) matching entry.  Allocation-free, lock-free, safe from
 * many threads.
 */
bool cg_domainset_lookup(const struct cg_domainset *s,
			 const struct cg_name_hashes *nh,
			 struct cg_domain_match *m);

/* Convenience for tests and tools: hash + lookup of a canonical name. */
bool cg_domainset_lookup_name(const struct cg_domainset *s, const char *canon,
			      size_t len, struct cg_domain_match *m);

#endif
