/*
 * listimage: the files of one category compiled into one immutable image
 * that the daemon memory-maps, so a multi-million-domain list loads in
 * milliseconds and its pages are shared by every worker (and, read-only,
 * by the page cache).
 *
 * An image holds up to four domain sets (plain names and the three digest
 * kinds, see domainset.h), the summed load statistics, and the identity of
 * every source file (path, size, mtime, inode, list format) so a cached
 * image is used only while its sources are unchanged.  Images are written
 * to a temporary file and renamed into place, so a reader never sees half
 * an image.  Every offset and size in an image is checked before use: an
 * image that does not check out is refused, never trusted.
 */
#ifndef CAFEGUARD_LISTIMAGE_H
#define CAFEGUARD_LISTIMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cafeguard/diag.h"
#include "cafeguard/domainset.h"
#include "cafeguard/listfile.h"

struct cg_listimage_info {
	size_t entries[CG_DIGEST__COUNT]; /* by kind */
	struct cg_listfile_stats stats;   /* summed over the files */
	bool from_cache;                  /* an existing image was mapped */
	double load_ms;                   /* wall time of the whole load */
	size_t image_bytes;
};

struct cg_listimage;

/*
 * Loads files[0..nfiles) as one list; an entry's origin source is its
 * file's index in files[].  With cache_dir set, an image there whose
 * recorded sources match is mapped; otherwise the text is parsed, the
 * image built and written to cache_dir (a failure to write the cache is a
 * warning, not an error: the image is then used from memory), and used.
 * Skipped lines are reported to d as listfile.h describes; an image loaded
 * from the cache reports only the per-reason summary it recorded.  A file
 * that cannot be read is an error in d and the load returns NULL.
 * info may be NULL.
 */
struct cg_listimage *cg_listimage_load(const char *const *files, size_t nfiles,
				       enum cg_list_format fmt,
				       const char *cache_dir, struct cg_diag *d,
				       struct cg_listimage_info *info);

/* Builds the image of files[] and writes it to out_path (for `cafeguardctl
 * compile`).  Returns 0, or -1 with the reason in d. */
int cg_listimage_compile(const char *const *files, size_t nfiles,
			 enum cg_list_format fmt, const char *out_path,
			 struct cg_diag *d, struct cg_listimage_info *info);

/* Maps an image file as it is, without checking its sources (tools,
 * benchmarks).  NULL with err set if it is not a valid image. */
struct cg_listimage *cg_listimage_open(const char *path, struct cg_error *err);

/* An image in memory (fuzzing, tests); mem must be 64-byte aligned (as a
 * mapping or posix_memalign(64) gives) and outlive the image. */
struct cg_listimage *cg_listimage_from_memory(const void *mem, size_t len,
					      struct cg_error *err);

/* The set of one kind, or NULL when the image has no entry of that kind. */
const struct cg_domainset *cg_listimage_set(const struct cg_listimage *im,
					    enum cg_digest kind);

/* The source paths recorded in the image (index = origin source); NULL
 * past the last. */
size_t cg_listimage_sources(const struct cg_listimage *im);
const char *cg_listimage_source(const struct cg_listimage *im, size_t i);

/*
 * What an image records of one source: its path; its identity when it was
 * read (size, mtime in nanoseconds, inode: a cached image is used only
 * while all three are as recorded); the format it was read in; its load
 * statistics.
 */
struct cg_listimage_source {
	const char *path;
	uint64_t size;
	int64_t mtime_ns;
	uint64_t ino;
	enum cg_list_format format;
	struct cg_listfile_stats stats;
};

/* Source i, or NULL past the last; valid as long as the image. */
const struct cg_listimage_source *
cg_listimage_source_info(const struct cg_listimage *im, size_t i);

/* The image's figures (from_cache false, load_ms 0: the loader's). */
void cg_listimage_get_info(const struct cg_listimage *im,
			   struct cg_listimage_info *info);

/*
 * The building blocks of _load and _compile, for tools: files[] parsed
 * into an image in memory (no cache; NULL with the reasons in d), and an
 * image written to path through a temporary file in the same folder,
 * fsync'd and renamed into place (0, or -1 with err).
 */
struct cg_listimage *cg_listimage_build(const char *const *files, size_t nfiles,
					enum cg_list_format fmt,
					struct cg_diag *d);
int cg_listimage_write(const struct cg_listimage *im, const char *path,
		       struct cg_error *err);

void cg_listimage_free(struct cg_listimage *im);

#endif
