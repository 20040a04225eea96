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
 * indexed by hash prefix, so a lookup is a few cache lines.  A frozen set
 * is one block of memory without pointers, the same bytes in memory and
 * on disk: it can be written to a file (cg_domainset_write) and used in
 * place from a memory mapping (cg_domainset_view).  A set is built once by
 * one thread and then read concurrently by any number of threads without
 * locks.
 *
 * Hashes: a name's suffix hashes are computed in one right-to-left pass
 * (cg_domainset_hash_name), so the policy hashes a name once and probes
 * every list it needs with the same hashes.  The hash function is part of
 * the stored format (CG_DOMAINSET_HASH_VERSION): never change it without
 * changing that version.
 *
 * Digest sets: a list may carry names only as digests (MD5, SHA-1 or
 * SHA-256 of the canonical name, so that the list does not spell them
 * out).  Such a set stores, as its 64-bit key, the first 8 bytes of the
 * digest read big-endian (cg_domainset_digest_key), and matches by suffix
 * like a set of plain names: the entry sha256("example.com") matches
 * www.example.com.  Looking a name up in a digest set costs one digest per
 * label suffix (cg_domainset_digest_name, some hundreds of nanoseconds per
 * suffix), so callers compute them only for lists that have digest
 * entries; the lookup itself is the same.
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

/* The name hash specified in domainset.c; stored sets record it. */
#define CG_DOMAINSET_HASH_VERSION 2

/* What a set's keys are: hashes of plain names, or digests of them. */
enum cg_digest {
	CG_DIGEST_NONE = 0, /* plain names, cg_domainset_hash_name */
	CG_DIGEST_MD5,
	CG_DIGEST_SHA1,
	CG_DIGEST_SHA256,
	CG_DIGEST__COUNT
};

struct cg_name_hashes {
	unsigned n;                       /* number of suffixes */
	uint64_t h[CG_NAME_MAX_LABELS];   /* h[0]: whole name, h[n-1]: TLD */
	uint8_t off[CG_NAME_MAX_LABELS];  /* where suffix i starts in name */
};

/* Hashes every label-aligned suffix of a canonical name.  Anything that is
 * not a canonical name of 1..CG_NAME_MAX bytes yields n = 0. */
void cg_domainset_hash_name(const char *canon, size_t len,
			    struct cg_name_hashes *out);

/* 64-bit hash of one canonical name; equals out.h[0] above. */
uint64_t cg_domainset_hash(const char *canon, size_t len);

/*
 * Digests.  A scratch holds the OpenSSL digest contexts of one thread,
 * created once so that computing digests never allocates; one per worker,
 * never shared.  _new returns NULL if OpenSSL cannot provide the digests.
 */
struct cg_digest_scratch;
struct cg_digest_scratch *cg_digest_scratch_new(void);
void cg_digest_scratch_free(struct cg_digest_scratch *s);

/* Bytes of a digest of this kind (16, 20, 32), 0 for CG_DIGEST_NONE. */
size_t cg_digest_size(enum cg_digest kind);

/* The kind's name ("md5", "sha1", "sha256"; "name" for CG_DIGEST_NONE). */
const char *cg_digest_name(enum cg_digest kind);

/*
 * Like cg_domainset_hash_name, with the key of each suffix's digest in
 * out->h: out->n and out->off are the same, so cg_domainset_lookup works
 * on a digest set unchanged.  kind CG_DIGEST_NONE gives the plain hashes.
 * Costs one digest per label of the name; allocation-free.
 */
void cg_domainset_digest_name(struct cg_digest_scratch *s, enum cg_digest kind,
			      const char *canon, size_t len,
			      struct cg_name_hashes *out);

/* The key a digest set stores: digest bytes 0..7 read big-endian. */
uint64_t cg_domainset_digest_key(const uint8_t *digest);

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
 * Adds an entry known only by its key: a hash (the same function as
 * cg_domainset_hash) for lists whose plain text must not be stored, or a
 * digest key (cg_domainset_digest_key).  Its number of labels is unknown,
 * so a set with such entries probes every suffix of a name (a set of
 * names only skips suffixes with label counts no entry has).
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

/* Frees a built set, or a view's handle (not the memory it views). */
void cg_domainset_free(struct cg_domainset *s);

size_t cg_domainset_count(const struct cg_domainset *s);

/* Bytes of memory the set's arrays occupy (= cg_domainset_image_size). */
size_t cg_domainset_bytes(const struct cg_domainset *s);

/*
 * Storing a set.  The image of a set is its frozen memory as is: a
 * 64-byte header, then the arrays, each at a multiple of 64 bytes, the
 * whole a multiple of 64 bytes (layout in domainset.c).  It holds no
 * pointers and is in the host's byte order (little-endian hosts only:
 * x86-64, aarch64); the header records the byte order and the hash
 * version, and a view refuses any other.
 */
size_t cg_domainset_image_size(const struct cg_domainset *s);

/* The image's bytes (cg_domainset_image_size of them), 64-byte aligned. */
const void *cg_domainset_image(const struct cg_domainset *s);

/* Writes the image at fd's current offset.  Returns 0, or -1 with err. */
int cg_domainset_write(const struct cg_domainset *s, int fd,
		       struct cg_error *err);

/*
 * A set that uses an image in place: mem (64-byte aligned, len bytes, the
 * image exactly) is borrowed and must outlive the set; nothing is copied.
 * The header, the sizes and the whole bucket index are checked against
 * len (a checksum covers the header and the index), so a lookup can never
 * read outside mem; the hash and origin arrays are not read, so a damaged
 * entry there can only change that entry's answer or origin.  Returns NULL
 * with err set if the image does not check out.  Free the handle with
 * cg_domainset_free.
 */
struct cg_domainset *cg_domainset_view(const void *mem, size_t len,
				       struct cg_error *err);

/*
 * Looks the suffixes of a name up, most specific first, and reports the
 * first (longest) matching entry.  Allocation-free, lock-free, safe from
 * many threads.  For a set read from an image, m->source is whatever the
 * image says: check it against the number of sources before use.
 */
bool cg_domainset_lookup(const struct cg_domainset *s,
			 const struct cg_name_hashes *nh,
			 struct cg_domain_match *m);

/* Convenience for tests and tools: hash + lookup of a canonical name. */
bool cg_domainset_lookup_name(const struct cg_domainset *s, const char *canon,
			      size_t len, struct cg_domain_match *m);

#endif
