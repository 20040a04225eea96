/*
 * Fuzzes the list image reader: cg_listimage_from_memory over arbitrary
 * bytes and, when an image loads, its accessors and lookups of a few
 * names (plain and digests) and of hashes taken from the input, so that
 * a bucket index or hash array that checks out but lies is probed too.
 *
 * Each input is tried twice: as it is, and with its checksums repaired
 * (ref_image_repair: recomputed from the format as listimage.c and
 * domainset.c specify it), so that mutations reach the checks behind the
 * checksums instead of stopping at them.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/domainset_ref.h"
#include "cafeguard/domainset.h"
#include "cafeguard/listimage.h"

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c)) {                                                    \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
				__LINE__, #c);                                 \
			abort();                                               \
		}                                                              \
	} while (0)

/* ---- using an image that loaded ------------------------------------- */

static void probe(const struct cg_domainset *s, const struct cg_name_hashes *nh,
		  size_t nsources)
{
	struct cg_domain_match m;
	if (cg_domainset_lookup(s, nh, &m)) {
		CHECK(m.suffix < CG_NAME_MAX);
		CHECK(m.line <= CG_DOMAINSET_LINE_MAX);
		/* Any source index may come out of a crafted image; callers
		 * check it, as the header says. */
		(void)nsources;
	}
}

static void use(const struct cg_listimage *im, const uint8_t *data, size_t size)
{
	static const char *const names[] = {
	    "example.com",
	    "www.example.com",
	    "a.b.c.d.e.f.g",
	    "x",
	    "bestgore.com",
	    "1084bets10.com",
	    "dns.cloudflare.com",
	    "ads.tracker.example.net.very.long.name.with.many.labels.example",
	};
	size_t ns = cg_listimage_sources(im);
	for (size_t i = 0; i < ns; i++) {
		const struct cg_listimage_source *si =
		    cg_listimage_source_info(im, i);
		CHECK(si && si->path && strlen(si->path) > 0);
		CHECK(cg_listimage_source(im, i) == si->path);
	}
	CHECK(!cg_listimage_source(im, ns) &&
	      !cg_listimage_source_info(im, ns));
	struct cg_listimage_info info;
	cg_listimage_get_info(im, &info);
	CHECK(info.image_bytes == size);

	struct cg_digest_scratch *ds = cg_digest_scratch_new();
	for (int k = 0; k < CG_DIGEST__COUNT; k++) {
		const struct cg_domainset *s =
		    cg_listimage_set(im, (enum cg_digest)k);
		if (!s) {
			CHECK(info.entries[k] == 0);
			continue;
		}
		CHECK(info.entries[k] == cg_domainset_count(s));
		CHECK(cg_domainset_image_size(s) <= size);
		struct cg_name_hashes nh;
		for (size_t i = 0; ds && i < sizeof(names) / sizeof(*names);
		     i++) {
			cg_domainset_digest_name(ds, (enum cg_digest)k,
						 names[i], strlen(names[i]),
						 &nh);
			probe(s, &nh, ns);
		}
		/* Hashes from the input: every bucket, the edges of the
		 * hash range. */
		nh.n = 0;
		for (size_t i = 0; i + 8 <= size && nh.n < 16; i += 61)
			nh.h[nh.n++] = ref_get64(data + i);
		nh.h[nh.n++] = 0;
		nh.h[nh.n++] = UINT64_MAX;
		for (unsigned i = 0; i < nh.n; i++)
			nh.off[i] = (uint8_t)i;
		probe(s, &nh, ns);
	}
	cg_digest_scratch_free(ds);
}

static void try_image(const uint8_t *buf, size_t size)
{
	struct cg_error err = {{0}};
	struct cg_listimage *im = cg_listimage_from_memory(buf, size, &err);
	if (!im) {
		CHECK(err.msg[0] != '\0');
		return;
	}
	use(im, buf, size);
	cg_listimage_free(im);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > (1u << 24))
		return 0;
	/* Where a mapping would put it: 64-byte aligned. */
	uint8_t *buf = aligned_alloc(64, (size + 64) & ~(size_t)63);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	try_image(buf, size);
	ref_image_repair(buf, size);
	try_image(buf, size);
	free(buf);
	return 0;
}
