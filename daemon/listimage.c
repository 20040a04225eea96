/*
 * listimage: the files of one list compiled into one image that is used
 * in place from a memory mapping (contract in listimage.h).
 *
 * File format, version 1.  Integers are in the writer's byte order, which
 * must be the reader's (little-endian hosts only: x86-64, aarch64; the
 * header records it).  Every section starts at a multiple of 64 bytes so
 * that a mapping of the file serves the sets as they are.
 *
 *   0     header, 384 bytes (struct img_header):
 *           magic "CGLSTIMG", byte_order 0x01020304, format_version 1,
 *           hash_version (CG_DOMAINSET_HASH_VERSION), parser_version
 *           (CG_LISTFILE_VERSION), header_size 384, list_format (enum
 *           cg_list_format), nsources, nskip (CG_SKIP__COUNT), file_size,
 *           sources_off and sources_size, set[kind] = {off, size, count}
 *           for the four kinds of enum cg_digest (size 0: no entry of that
 *           kind), the load statistics summed over the files (lines,
 *           entries, duplicates, skipped, skipped_by[16]), check (below),
 *           zeros
 *   384   sources_size bytes: nsources records, each at a multiple of 8:
 *           size, mtime_ns, inode (64 bits each), format, path_len (32
 *           bits each), that file's statistics as above, then the path,
 *           a NUL and zeros to a multiple of 8; the section is followed
 *           by zeros to a multiple of 64
 *   ...   the image of each present set, in kind order, back to back:
 *           domainset.c's frozen layout (64-byte header with the entry
 *           count, the bucket bits, the label mask and a checksum of
 *           header and bucket index; hashes; origins; bucket index)
 *   file_size is where the last section ends.
 *
 * check is the checksum domainset.c specifies for its sets, over the
 * header with check = 0 and the sources section with its padding (every
 * byte before the first set).  Offsets are not trusted but recomputed
 * from the sizes and compared, so there is exactly one valid layout for
 * given contents.  Loading an image is: open, fstat,
 * mmap read-only, check header, sources and the sets' headers and indexes
 * (cg_domainset_view), point the sets into the mapping: no copy, no work
 * per entry.  The hash and origin arrays themselves are not read at load
 * (that is what makes it fast): a damaged byte there can change one
 * entry's answer, never make a lookup leave the mapping.  A mapped file
 * must never be truncated in place (a read past its new end is SIGBUS):
 * images are only ever replaced by rename, and the old one stays mapped
 * until freed.
 *
 * The cache of compiled lists (cg_listimage_load, cg_listimage_compile)
 * is in listimage_cache.c.
 */
#include "cafeguard/listimage.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define IMG_MAGIC      "CGLSTIMG"
#define IMG_BYTE_ORDER 0x01020304u /* reads 0x04030201 on a foreign host */
#define IMG_VERSION    1
#define IMG_NSTAT      16 /* room for skip reasons */

_Static_assert(CG_SKIP__COUNT <= IMG_NSTAT, "room for every skip reason");

struct img_stats {
	uint64_t lines, entries, duplicates, skipped;
	uint64_t skipped_by[IMG_NSTAT];
};

struct img_set {
	uint64_t off, size, count;
};

struct img_header {
	char magic[8];
	uint32_t byte_order, format_version, hash_version, parser_version;
	uint32_t header_size, list_format, nsources, nskip;
	uint64_t file_size, sources_off, sources_size;
	struct img_set set[CG_DIGEST__COUNT];
	struct img_stats stats;
	uint64_t check;
	uint8_t reserved[56];
};

_Static_assert(sizeof(struct img_header) == 384, "header is 384 bytes");

struct img_source {
	uint64_t size;
	int64_t mtime_ns;
	uint64_t ino;
	uint32_t format, path_len;
	struct img_stats stats;
	/* path, NUL, zeros to a multiple of 8 */
};

struct cg_listimage {
	void *map; /* NULL: sets built in memory, owned */
	size_t map_len;
	struct cg_domainset *set[CG_DIGEST__COUNT];
	struct cg_listimage_source *src; /* paths owned */
	size_t nsources;
	enum cg_list_format format;
	struct img_stats stats;
};

static size_t align(size_t x, size_t a)
{
	return (x + a - 1) & ~(a - 1);
}

static size_t record_size(size_t path_len)
{
	return align(sizeof(struct img_source) + path_len + 1, 8);
}

/* ---- checksum -------------------------------------------------------- */

/* domainset.c's image checksum (specified there), over the header with
 * check = 0 and the sources span. */
static inline uint64_t absorb(uint64_t s, uint64_t x)
{
	uint64_t t = (s ^ x) * 0x9e3779b97f4a7c15ULL;
	return t ^ (t >> 32);
}

static uint64_t fmix(uint64_t s)
{
	s ^= s >> 30;
	s *= 0xbf58476d1ce4e5b9ULL;
	s ^= s >> 27;
	s *= 0x94d049bb133111ebULL;
	s ^= s >> 31;
	return s;
}

static void check_lanes(uint64_t s[4], const void *p, size_t len)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < len; i += 32) {
		for (unsigned k = 0; k < 4; k++) {
			uint64_t w;
			memcpy(&w, b + i + 8 * k, 8);
			s[k] = absorb(s[k], le64toh(w));
		}
	}
}

static uint64_t image_check(const struct img_header *h, const void *src,
			    size_t len)
{
	struct img_header c = *h;
	c.check = 0;
	uint64_t s[4] = {0x243f6a8885a308d3ULL, 0x13198a2e03707344ULL,
			 0xa4093822299f31d0ULL, 0x082efa98ec4e6c89ULL};
	check_lanes(s, &c, sizeof(c));
	check_lanes(s, src, len);
	return fmix(s[0] ^ absorb(s[1], s[2] ^ absorb(s[3], sizeof(c) + len)));
}

/* Bytes from the header's end to the first set. */
static size_t sources_span(size_t ssize)
{
	return align(sizeof(struct img_header) + ssize, 64) -
	       sizeof(struct img_header);
}

/* ---- stats ----------------------------------------------------------- */

static void stats_in(struct img_stats *o, const struct cg_listfile_stats *s)
{
	memset(o, 0, sizeof(*o));
	o->lines = s->lines;
	o->entries = s->entries;
	o->duplicates = s->duplicates;
	o->skipped = s->skipped;
	for (int k = 0; k < CG_SKIP__COUNT; k++)
		o->skipped_by[k] = s->skipped_by[k];
}

static void stats_out(struct cg_listfile_stats *o, const struct img_stats *s)
{
	memset(o, 0, sizeof(*o));
	o->lines = (size_t)s->lines;
	o->entries = (size_t)s->entries;
	o->duplicates = (size_t)s->duplicates;
	o->skipped = (size_t)s->skipped;
	for (int k = 0; k < CG_SKIP__COUNT; k++)
		o->skipped_by[k] = (size_t)s->skipped_by[k];
}

static void stats_add(struct img_stats *sum, const struct img_stats *s)
{
	sum->lines += s->lines;
	sum->entries += s->entries;
	sum->duplicates += s->duplicates;
	sum->skipped += s->skipped;
	for (int k = 0; k < IMG_NSTAT; k++)
		sum->skipped_by[k] += s->skipped_by[k];
}

/* ---- reading --------------------------------------------------------- */

void cg_listimage_free(struct cg_listimage *im)
{
	if (!im)
		return;
	for (int k = 0; k < CG_DIGEST__COUNT; k++)
		cg_domainset_free(im->set[k]);
	for (size_t i = 0; i < im->nsources; i++)
		free((char *)im->src[i].path);
	free(im->src);
	if (im->map)
		munmap(im->map, im->map_len);
	free(im);
}

/* The header's fixed fields; each refusal says what a user can do. */
static int check_header(const struct img_header *h, size_t len,
			struct cg_error *err)
{
	if (memcmp(h->magic, IMG_MAGIC, sizeof(h->magic)))
		return cg_error_set(err, "not a cafeguard list image");
	if (h->byte_order != IMG_BYTE_ORDER)
		return cg_error_set(err, "list image of a host with another "
					 "byte order: compile it here");
	if (h->format_version != IMG_VERSION)
		return cg_error_set(err,
				    "list image format %u, this build reads "
				    "%u: compile it again",
				    h->format_version, IMG_VERSION);
	if (h->hash_version != CG_DOMAINSET_HASH_VERSION ||
	    h->parser_version != CG_LISTFILE_VERSION)
		return cg_error_set(err,
				    "list image of another cafeguard (name "
				    "hash %u, parser %u; this one: %u, %u): "
				    "compile it again",
				    h->hash_version, h->parser_version,
				    CG_DOMAINSET_HASH_VERSION,
				    CG_LISTFILE_VERSION);
	if (h->file_size != len)
		return cg_error_set(err,
				    "list image is %zu bytes, its header says "
				    "%llu: truncated or damaged",
				    len, (unsigned long long)h->file_size);
	bool zero = true;
	for (size_t i = 0; i < sizeof(h->reserved); i++)
		zero = zero && !h->reserved[i];
	if (h->header_size != sizeof(*h) || h->list_format > CG_LIST_HASHED ||
	    h->nsources > CG_DOMAINSET_SOURCES || h->nskip != CG_SKIP__COUNT ||
	    h->sources_off != sizeof(*h) || !zero)
		return cg_error_set(err, "list image header is damaged");
	/* The one layout these sizes allow, compared, not trusted. */
	if (h->sources_size > len - sizeof(*h))
		return cg_error_set(err, "list image sources out of range");
	size_t at = align(sizeof(*h) + (size_t)h->sources_size, 64);
	for (int k = 0; k < CG_DIGEST__COUNT; k++) {
		const struct img_set *s = &h->set[k];
		if (!s->size && !s->off && !s->count)
			continue; /* no entry of this kind */
		if (s->off != at || !s->size || s->size > len - at ||
		    s->size % 64)
			return cg_error_set(err,
					    "list image: %s set out of range",
					    cg_digest_name((enum cg_digest)k));
		at += (size_t)s->size;
	}
	if (at != len)
		return cg_error_set(err,
				    "list image is %zu bytes, its "
				    "sections end at %zu",
				    len, at);
	return 0;
}

/* Copies the source records (a few, small) out of the sources section. */
static int read_sources(struct cg_listimage *im, const struct img_header *h,
			const uint8_t *sec, struct cg_error *err)
{
	size_t n = h->nsources, size = (size_t)h->sources_size, at = 0;
	im->src = calloc(n ? n : 1, sizeof(*im->src));
	if (!im->src)
		return cg_error_set(err, "list image: out of memory");
	for (size_t i = 0; i < n; i++) {
		struct img_source r;
		if (size - at < sizeof(r))
			return cg_error_set(err,
					    "list image: source %zu "
					    "truncated",
					    i);
		memcpy(&r, sec + at, sizeof(r));
		const char *path = (const char *)sec + at + sizeof(r);
		if (r.path_len == 0 || r.path_len >= size - at - sizeof(r) ||
		    path[r.path_len] || memchr(path, 0, r.path_len) ||
		    r.format > CG_LIST_HASHED)
			return cg_error_set(err,
					    "list image: source %zu "
					    "damaged",
					    i);
		struct cg_listimage_source *o = &im->src[i];
		o->size = r.size;
		o->mtime_ns = r.mtime_ns;
		o->ino = r.ino;
		o->format = (enum cg_list_format)r.format;
		stats_out(&o->stats, &r.stats);
		o->path = strndup(path, r.path_len);
		im->nsources = i + 1;
		if (!o->path)
			return cg_error_set(err, "list image: out of memory");
		at += record_size(r.path_len);
		if (at > size)
			return cg_error_set(err,
					    "list image: source %zu "
					    "damaged",
					    i);
	}
	if (at != size)
		return cg_error_set(err,
				    "list image: sources section has "
				    "%zu bytes, its records %zu",
				    size, at);
	return 0;
}

struct cg_listimage *cg_listimage_from_memory(const void *mem, size_t len,
					      struct cg_error *err)
{
	const struct img_header *h = mem;
	if ((uintptr_t)mem % 64) {
		cg_error_set(err, "list image not 64-byte aligned in memory");
		return NULL;
	}
	if (len < sizeof(*h)) {
		cg_error_set(err, "list image truncated: %zu bytes", len);
		return NULL;
	}
	if (check_header(h, len, err) < 0)
		return NULL;
	const uint8_t *base = mem;
	if (image_check(h, base + sizeof(*h),
			sources_span((size_t)h->sources_size)) != h->check) {
		cg_error_set(err,
			     "list image header or sources damaged (checksum)");
		return NULL;
	}
	struct cg_listimage *im = calloc(1, sizeof(*im));
	if (!im) {
		cg_error_set(err, "list image: out of memory");
		return NULL;
	}
	im->format = (enum cg_list_format)h->list_format;
	im->stats = h->stats;
	if (read_sources(im, h, base + sizeof(*h), err) < 0)
		goto fail;
	for (int k = 0; k < CG_DIGEST__COUNT; k++) {
		const struct img_set *s = &h->set[k];
		if (!s->size)
			continue;
		struct cg_error e;
		im->set[k] =
		    cg_domainset_view(base + s->off, (size_t)s->size, &e);
		if (!im->set[k]) {
			cg_error_set(err, "list image: %s set: %s",
				     cg_digest_name((enum cg_digest)k), e.msg);
			goto fail;
		}
		if (cg_domainset_count(im->set[k]) != s->count || !s->count) {
			cg_error_set(err, "list image: %s set count damaged",
				     cg_digest_name((enum cg_digest)k));
			goto fail;
		}
	}
	return im;
fail:
	cg_listimage_free(im);
	return NULL;
}

/* Maps fd's whole file, read-only, and checks it. */
static struct cg_listimage *map_fd(int fd, struct cg_error *err)
{
	struct stat sb;
	if (fstat(fd, &sb) < 0) {
		cg_error_set(err, "cannot stat list image: %s",
			     strerror(errno));
		return NULL;
	}
	if (!S_ISREG(sb.st_mode)) {
		cg_error_set(err, "list image is not a regular file");
		return NULL;
	}
	if (sb.st_size < (off_t)sizeof(struct img_header)) {
		cg_error_set(err, "list image truncated: %lld bytes",
			     (long long)sb.st_size);
		return NULL;
	}
	size_t len = (size_t)sb.st_size;
	void *map = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		cg_error_set(err, "cannot map list image: %s", strerror(errno));
		return NULL;
	}
	struct cg_listimage *im = cg_listimage_from_memory(map, len, err);
	if (!im) {
		munmap(map, len);
		return NULL;
	}
	im->map = map;
	im->map_len = len;
	/* Start reading the rest in the background (a cold page cache after
	 * boot), so that first lookups do not wait for the disk. */
	madvise(map, len, MADV_WILLNEED);
	return im;
}

struct cg_listimage *cg_listimage_open(const char *path, struct cg_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		cg_error_set(err, "cannot open list image: %s",
			     strerror(errno));
		return NULL;
	}
	struct cg_listimage *im = map_fd(fd, err);
	close(fd); /* the mapping keeps the file */
	return im;
}

const struct cg_domainset *cg_listimage_set(const struct cg_listimage *im,
					    enum cg_digest kind)
{
	return (unsigned)kind < CG_DIGEST__COUNT ? im->set[kind] : NULL;
}

size_t cg_listimage_sources(const struct cg_listimage *im)
{
	return im->nsources;
}

const char *cg_listimage_source(const struct cg_listimage *im, size_t i)
{
	return i < im->nsources ? im->src[i].path : NULL;
}

const struct cg_listimage_source *
cg_listimage_source_info(const struct cg_listimage *im, size_t i)
{
	return i < im->nsources ? &im->src[i] : NULL;
}

/* ---- writing --------------------------------------------------------- */

static int write_all(int fd, const void *p, size_t n, struct cg_error *err)
{
	const char *c = p;
	while (n) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return cg_error_set(err, "cannot write list image: %s",
					    w < 0 ? strerror(errno)
						  : "nothing written");
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static size_t sources_size(const struct cg_listimage *im)
{
	size_t n = 0;
	for (size_t i = 0; i < im->nsources; i++)
		n += record_size(strlen(im->src[i].path));
	return n;
}

/* The header of im's image, with the sections' places. */
static void image_header(const struct cg_listimage *im, size_t ssize,
			 struct img_header *h)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->magic, IMG_MAGIC, sizeof(h->magic));
	h->byte_order = IMG_BYTE_ORDER;
	h->format_version = IMG_VERSION;
	h->hash_version = CG_DOMAINSET_HASH_VERSION;
	h->parser_version = CG_LISTFILE_VERSION;
	h->header_size = sizeof(*h);
	h->list_format = im->format;
	h->nsources = (uint32_t)im->nsources;
	h->nskip = CG_SKIP__COUNT;
	h->sources_off = sizeof(*h);
	h->sources_size = ssize;
	size_t at = align(sizeof(*h) + ssize, 64);
	for (int k = 0; k < CG_DIGEST__COUNT; k++) {
		const struct cg_domainset *s = im->set[k];
		if (!s)
			continue;
		h->set[k].off = at;
		h->set[k].size = cg_domainset_image_size(s);
		h->set[k].count = cg_domainset_count(s);
		at += cg_domainset_image_size(s);
	}
	h->file_size = at;
	h->stats = im->stats;
}

static size_t image_size(const struct cg_listimage *im)
{
	struct img_header h;
	image_header(im, sources_size(im), &h);
	return (size_t)h.file_size;
}

static int image_write(const struct cg_listimage *im, int fd,
		       struct cg_error *err)
{
	size_t ssize = sources_size(im);
	uint8_t *sec = calloc(1, ssize + 64);
	if (!sec)
		return cg_error_set(err, "list image: out of memory");
	size_t at = 0;
	for (size_t i = 0; i < im->nsources; i++) {
		const struct cg_listimage_source *o = &im->src[i];
		struct img_source r = {
		    .size = o->size,
		    .mtime_ns = o->mtime_ns,
		    .ino = o->ino,
		    .format = o->format,
		    .path_len = (uint32_t)strlen(o->path),
		};
		stats_in(&r.stats, &o->stats);
		memcpy(sec + at, &r, sizeof(r));
		memcpy(sec + at + sizeof(r), im->src[i].path, r.path_len);
		at += record_size(r.path_len);
	}
	struct img_header h;
	image_header(im, ssize, &h);
	/* The sources, then zeros up to the first set's offset. */
	size_t span = sources_span(ssize);
	h.check = image_check(&h, sec, span);
	int rc = write_all(fd, &h, sizeof(h), err);
	if (rc == 0)
		rc = write_all(fd, sec, span, err);
	free(sec);
	for (int k = 0; rc == 0 && k < CG_DIGEST__COUNT; k++)
		if (im->set[k])
			rc = cg_domainset_write(im->set[k], fd, err);
	return rc;
}

/* The folder is synced too, so that the rename survives a power cut. */
int cg_listimage_write(const struct cg_listimage *im, const char *path,
		       struct cg_error *err)
{
	const char *slash = strrchr(path, '/');
	size_t dl = slash ? (size_t)(slash - path) : 0;
	char *tmp = malloc(dl + 32);
	if (!tmp) {
		cg_error_set(err, "out of memory");
		return -1;
	}
	if (slash)
		snprintf(tmp, dl + 32, "%.*s/.list-XXXXXX", (int)dl, path);
	else
		snprintf(tmp, dl + 32, ".list-XXXXXX");
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		cg_error_set(err, "cannot create a file in %.*s: %s",
			     slash ? (int)(dl ? dl : 1) : 1, slash ? path : ".",
			     strerror(errno));
		free(tmp);
		return -1;
	}
	int rc = fchmod(fd, 0644) < 0
		     ? cg_error_set(err, "chmod: %s", strerror(errno))
		     : image_write(im, fd, err);
	if (rc == 0 && fsync(fd) < 0)
		rc = cg_error_set(err, "cannot sync list image: %s",
				  strerror(errno));
	if (rc == 0 && rename(tmp, path) < 0)
		rc = cg_error_set(err,
				  "cannot rename list image into place: "
				  "%s",
				  strerror(errno));
	close(fd);
	if (rc < 0)
		unlink(tmp);
	free(tmp);
	if (rc < 0)
		return -1;
	char *dir = slash ? strndup(path, dl ? dl : 1) : strdup(".");
	int dfd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	if (dfd >= 0) {
		fsync(dfd); /* best effort: the image is whole either way */
		close(dfd);
	}
	free(dir);
	return 0;
}

/* ---- building from text ---------------------------------------------- */

struct cg_listimage *cg_listimage_build(const char *const *files, size_t nfiles,
					enum cg_list_format fmt,
					struct cg_diag *d)
{
	if (!nfiles || nfiles > CG_DOMAINSET_SOURCES) {
		cg_diag_add(d, CG_SEV_ERROR, nfiles ? files[0] : NULL, 0,
			    "cannot load list: %zu files (a list has 1 to %u)",
			    nfiles, CG_DOMAINSET_SOURCES);
		return NULL;
	}
	struct cg_listimage *im = calloc(1, sizeof(*im));
	struct cg_domainset_builder *b[CG_DIGEST__COUNT] = {NULL};
	bool ok = im && (im->src = calloc(nfiles, sizeof(*im->src)));
	for (int k = 0; ok && k < CG_DIGEST__COUNT; k++)
		ok = (b[k] = cg_domainset_builder_new()) != NULL;
	if (!ok) {
		cg_diag_add(d, CG_SEV_ERROR, nfiles ? files[0] : NULL, 0,
			    "cannot load list: out of memory");
		goto fail;
	}
	im->format = fmt;
	bool failed = false;
	for (size_t i = 0; i < nfiles; i++) {
		struct cg_listimage_source *s = &im->src[i];
		im->nsources = i + 1;
		s->path = strdup(files[i]);
		if (!s->path) {
			cg_diag_add(d, CG_SEV_ERROR, files[i], 0,
				    "cannot load list: out of memory");
			goto fail;
		}
		/* The identity before reading: if the file changes while
		 * it is read, the image records the older one and is
		 * rebuilt at the next load. */
		struct stat sb;
		if (stat(files[i], &sb) == 0) {
			s->size = (uint64_t)sb.st_size;
			s->mtime_ns = (int64_t)sb.st_mtim.tv_sec * 1000000000 +
				      sb.st_mtim.tv_nsec;
			s->ino = sb.st_ino;
		}
		s->format = fmt;
		if (cg_listfile_load(files[i], fmt, b, (uint16_t)i, d,
				     &s->stats) < 0) {
			failed = true; /* on to report the other files */
			continue;
		}
		struct img_stats st;
		stats_in(&st, &s->stats);
		stats_add(&im->stats, &st);
	}
	if (failed)
		goto fail;
	for (int k = 0; k < CG_DIGEST__COUNT; k++) {
		if (!cg_domainset_builder_count(b[k])) {
			cg_domainset_builder_free(b[k]);
			b[k] = NULL;
			continue;
		}
		struct cg_error err;
		im->set[k] = cg_domainset_build(b[k], &err);
		b[k] = NULL;
		if (!im->set[k]) {
			cg_diag_add(d, CG_SEV_ERROR, files[0], 0,
				    "cannot load list: %s", err.msg);
			goto fail;
		}
	}
	return im;
fail:
	for (int k = 0; k < CG_DIGEST__COUNT; k++)
		cg_domainset_builder_free(b[k]);
	cg_listimage_free(im);
	return NULL;
}

void cg_listimage_get_info(const struct cg_listimage *im,
			   struct cg_listimage_info *info)
{
	memset(info, 0, sizeof(*info));
	for (int k = 0; k < CG_DIGEST__COUNT; k++)
		info->entries[k] =
		    im->set[k] ? cg_domainset_count(im->set[k]) : 0;
	stats_out(&info->stats, &im->stats);
	info->image_bytes = im->map ? im->map_len : image_size(im);
}
