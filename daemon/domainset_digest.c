/*
 * Digest keys of names, for lists that carry names only as MD5, SHA-1 or
 * SHA-256 digests (the contract is in domainset.h, next to the sets the
 * keys are looked up in; apart from domainset.c to keep each file short).
 *
 * OpenSSL 3 EVP: the digests are fetched once per scratch and each kind
 * keeps its own context.  OpenSSL 3.0 still frees and re-creates the
 * provider's digest state inside every EVP_DigestInit_ex2 (measured: one
 * allocation of ~100 bytes per digest, served from the calling thread's
 * malloc cache, no lock); Update and Final allocate nothing.
 */
#include "cafeguard/domainset.h"

#include <stdlib.h>

#include <openssl/evp.h>

static const struct {
	const char *evp, *name;
	size_t size;
} kinds[CG_DIGEST__COUNT] = {
    [CG_DIGEST_NONE] = {NULL, "name", 0},
    [CG_DIGEST_MD5] = {"MD5", "md5", 16},
    [CG_DIGEST_SHA1] = {"SHA1", "sha1", 20},
    [CG_DIGEST_SHA256] = {"SHA256", "sha256", 32},
};

struct cg_digest_scratch {
	EVP_MD *md[CG_DIGEST__COUNT];
	EVP_MD_CTX *ctx[CG_DIGEST__COUNT];
};

size_t cg_digest_size(enum cg_digest kind)
{
	return (unsigned)kind < CG_DIGEST__COUNT ? kinds[kind].size : 0;
}

const char *cg_digest_name(enum cg_digest kind)
{
	return (unsigned)kind < CG_DIGEST__COUNT ? kinds[kind].name : "?";
}

struct cg_digest_scratch *cg_digest_scratch_new(void)
{
	struct cg_digest_scratch *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	for (int k = CG_DIGEST_NONE + 1; k < CG_DIGEST__COUNT; k++) {
		s->md[k] = EVP_MD_fetch(NULL, kinds[k].evp, NULL);
		s->ctx[k] = EVP_MD_CTX_new();
		/* The first init creates the provider state, so that a
		 * missing algorithm (a FIPS-only configuration without MD5)
		 * fails here rather than at the first lookup. */
		if (!s->md[k] || !s->ctx[k] ||
		    !EVP_DigestInit_ex2(s->ctx[k], s->md[k], NULL)) {
			cg_digest_scratch_free(s);
			return NULL;
		}
	}
	return s;
}

void cg_digest_scratch_free(struct cg_digest_scratch *s)
{
	if (!s)
		return;
	for (int k = 0; k < CG_DIGEST__COUNT; k++) {
		EVP_MD_CTX_free(s->ctx[k]);
		EVP_MD_free(s->md[k]);
	}
	free(s);
}

uint64_t cg_domainset_digest_key(const uint8_t *digest)
{
	uint64_t k = 0;
	for (int i = 0; i < 8; i++)
		k = k << 8 | digest[i];
	return k;
}

void cg_domainset_digest_name(struct cg_digest_scratch *s, enum cg_digest kind,
			      const char *canon, size_t len,
			      struct cg_name_hashes *out)
{
	/* The plain hashes give the suffixes (and reject what is not a
	 * name); their keys are then replaced. */
	cg_domainset_hash_name(canon, len, out);
	if (kind == CG_DIGEST_NONE)
		return;
	if ((unsigned)kind >= CG_DIGEST__COUNT || !s) {
		out->n = 0;
		return;
	}
	EVP_MD_CTX *ctx = s->ctx[kind];
	for (unsigned i = 0; i < out->n; i++) {
		uint8_t d[EVP_MAX_MD_SIZE];
		unsigned dlen = 0;
		size_t off = out->off[i];
		if (!EVP_DigestInit_ex2(ctx, s->md[kind], NULL) ||
		    !EVP_DigestUpdate(ctx, canon + off, len - off) ||
		    !EVP_DigestFinal_ex(ctx, d, &dlen) || dlen < 8) {
			/* Out of memory inside OpenSSL: no suffix can be
			 * vouched for, so none is looked up. */
			out->n = 0;
			return;
		}
		out->h[i] = cg_domainset_digest_key(d);
	}
}
