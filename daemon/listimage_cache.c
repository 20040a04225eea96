/*
 * The cache of compiled lists: cg_listimage_load and cg_listimage_compile
 * (contract in listimage.h; the image format is in listimage.c).
 *
 * cg_listimage_load keeps one image per list in cache_dir, named after a
 * digest of the format and the source paths ("list-<16 hex>.img", so each
 * category has its own), and uses it while every source's path, size,
 * mtime (ns) and inode and the format are as the image recorded them.
 * Otherwise it parses the text, writes a new image (a temporary file in
 * cache_dir, fsync'd and renamed into place, so a reader sees a whole old
 * image or a whole new one) and maps that.  An image that does not check
 * out is a warning and is replaced the same way; a cache that cannot be
 * written is a warning and the list is used from memory.
 *
 * The identity of a file is taken before it is read, so a file that
 * changes while it is read leaves an image that no longer matches it.
 * What is not noticed: a file rewritten in place to the same size within
 * one timestamp tick (a few ms) of being read; list updaters replace
 * files (a new inode) or take longer than that.
 *
 * A cache folder others can write to could hold a crafted image: the
 * checks keep lookups inside the mapping, but what it matches would be
 * the writer's choice, so keep the folder the daemon's own.
 */
#include "cafeguard/listimage.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

/* "DIR/list-<first 8 bytes of SHA-256 of format and paths, hex>.img" */
static char *cache_path(const char *dir, const char *const *files,
			size_t nfiles, enum cg_list_format fmt)
{
	static const char tag[] = "cafeguard list image";
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	const char *f = cg_list_format_name(fmt);
	bool ok = ctx && EVP_DigestInit_ex2(ctx, EVP_sha256(), NULL) &&
		  EVP_DigestUpdate(ctx, tag, sizeof(tag)) &&
		  EVP_DigestUpdate(ctx, f, strlen(f) + 1);
	for (size_t i = 0; ok && i < nfiles; i++)
		ok = EVP_DigestUpdate(ctx, files[i], strlen(files[i]) + 1);
	ok = ok && EVP_DigestFinal_ex(ctx, md, &mdlen) && mdlen >= 8;
	EVP_MD_CTX_free(ctx);
	char *p = NULL;
	if (ok && asprintf(&p, "%s/list-%016llx.img", dir,
			   (unsigned long long)cg_domainset_digest_key(md)) < 0)
		p = NULL;
	return p;
}

/* Whether im was built from these files as they are now; why not in why. */
static bool sources_match(const struct cg_listimage *im,
			  const char *const *files, size_t nfiles,
			  enum cg_list_format fmt, char *why, size_t whysz)
{
	if (cg_listimage_sources(im) != nfiles) {
		snprintf(why, whysz, "the list's files changed");
		return false;
	}
	for (size_t i = 0; i < nfiles; i++) {
		const struct cg_listimage_source *r =
		    cg_listimage_source_info(im, i);
		struct stat sb;
		const char *what = NULL;
		if (strcmp(r->path, files[i]))
			what = "is new in the list";
		else if (r->format != fmt)
			what = "is read in another format: the list's format "
			       "changed";
		else if (stat(files[i], &sb) < 0)
			what = "cannot be read";
		else if ((uint64_t)sb.st_size != r->size)
			what = "changed size";
		else if ((int64_t)sb.st_mtim.tv_sec * 1000000000 +
			     sb.st_mtim.tv_nsec !=
			 r->mtime_ns)
			what = "was modified";
		else if (sb.st_ino != r->ino)
			what = "was replaced";
		if (what) {
			snprintf(why, whysz, "%s %s", files[i], what);
			return false;
		}
	}
	return true;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The cached image of the files if it is theirs, else NULL (and a note
 * or a warning saying why, unless there is none yet). */
static struct cg_listimage *cache_get(const char *path,
				      const char *const *files, size_t nfiles,
				      enum cg_list_format fmt,
				      struct cg_diag *d)
{
	if (access(path, F_OK) < 0 && errno == ENOENT)
		return NULL;
	struct cg_error err;
	struct cg_listimage *im = cg_listimage_open(path, &err);
	if (!im) {
		cg_diag_add(d, CG_SEV_WARNING, path, 0,
			    "compiled list refused: %s; rebuilding", err.msg);
		return NULL;
	}
	char why[2 * CG_NAME_BUF + 4096];
	if (!sources_match(im, files, nfiles, fmt, why, sizeof(why))) {
		cg_diag_add(d, CG_SEV_NOTE, path, 0,
			    "compiled list is out of date (%s): rebuilding",
			    why);
		cg_listimage_free(im);
		return NULL;
	}
	/* The text's per-file summaries, as recorded. */
	for (size_t i = 0; i < nfiles; i++)
		cg_listfile_summarise(d, files[i],
				      &cg_listimage_source_info(im, i)->stats);
	return im;
}

/* The image written to the cache and mapped back, in place of the one
 * built in memory, which stays in use if either step fails. */
static struct cg_listimage *cache_put(struct cg_listimage *im, const char *path,
				      const char *dir, struct cg_diag *d)
{
	struct cg_error err;
	if (cg_listimage_write(im, path, &err) < 0) {
		cg_diag_add(d, CG_SEV_WARNING, dir, 0,
			    "cannot cache the compiled list: %s; it is kept "
			    "in memory",
			    err.msg);
		return im;
	}
	struct cg_listimage *mapped = cg_listimage_open(path, &err);
	if (!mapped) {
		cg_diag_add(d, CG_SEV_WARNING, path, 0,
			    "compiled list written but not usable: %s; it is "
			    "kept in memory",
			    err.msg);
		return im;
	}
	cg_listimage_free(im);
	return mapped;
}

struct cg_listimage *cg_listimage_load(const char *const *files, size_t nfiles,
				       enum cg_list_format fmt,
				       const char *cache_dir, struct cg_diag *d,
				       struct cg_listimage_info *info)
{
	double t0 = now_ms();
	char *path =
	    cache_dir ? cache_path(cache_dir, files, nfiles, fmt) : NULL;
	if (cache_dir && !path)
		cg_diag_add(d, CG_SEV_WARNING, cache_dir, 0,
			    "cannot name the compiled list: out of memory");
	struct cg_listimage *im =
	    path ? cache_get(path, files, nfiles, fmt, d) : NULL;
	bool from_cache = im != NULL;
	if (!im) {
		im = cg_listimage_build(files, nfiles, fmt, d);
		if (im && path)
			im = cache_put(im, path, cache_dir, d);
	}
	free(path);
	if (im && info) {
		cg_listimage_get_info(im, info);
		info->from_cache = from_cache;
		info->load_ms = now_ms() - t0;
	}
	return im;
}

int cg_listimage_compile(const char *const *files, size_t nfiles,
			 enum cg_list_format fmt, const char *out_path,
			 struct cg_diag *d, struct cg_listimage_info *info)
{
	double t0 = now_ms();
	struct cg_listimage *im = cg_listimage_build(files, nfiles, fmt, d);
	if (!im)
		return -1;
	struct cg_error err;
	int rc = cg_listimage_write(im, out_path, &err);
	if (rc < 0)
		cg_diag_add(d, CG_SEV_ERROR, out_path, 0,
			    "cannot write compiled list: %s", err.msg);
	else if (info) {
		cg_listimage_get_info(im, info);
		info->load_ms = now_ms() - t0;
	}
	cg_listimage_free(im);
	return rc;
}
