/*
 * listimage: images give the answers the text gives, the cache is used
 * exactly while its sources are unchanged, and every damaged image is
 * refused (and, through cg_listimage_load, rebuilt).
 *
 * Header field offsets below are those of the format comment at the top
 * of daemon/listimage.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cafeguard/domainset.h"
#include "cafeguard/listfile.h"
#include "cafeguard/listimage.h"
#include "domainset_ref.h"

#define LISTS CG_TEST_DATA "/lists/"

/* Header fields (daemon/listimage.c). */
#define H_BYTE_ORDER   8
#define H_VERSION      12
#define H_HASH_VERSION 16
#define H_NSOURCES     32
#define H_FILE_SIZE    40
#define H_SET_OFF(k)   (64 + 24 * (size_t)(k))
#define H_SIZE	       384

/* ---- helpers -------------------------------------------------------- */

struct fixture {
	char dir[64];	/* a fresh folder per test */
	char cache[96]; /* dir/cache */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/cg_test_listimage_XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->cache, sizeof(f->cache), "%s/cache", f->dir);
	if (mkdir(f->cache, 0700) < 0)
		return -1;
	*state = f;
	return 0;
}

static void rm_tree(const char *path)
{
	DIR *dir = opendir(path);
	if (dir) {
		struct dirent *de;
		while ((de = readdir(dir))) {
			if (!strcmp(de->d_name, ".") ||
			    !strcmp(de->d_name, ".."))
				continue;
			char p[512];
			snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
			rm_tree(p);
		}
		closedir(dir);
		rmdir(path);
	} else {
		unlink(path);
	}
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	rm_tree(f->dir);
	free(f);
	return 0;
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

static void write_text(const char *path, const char *text)
{
	write_file(path, text, strlen(text));
}

/* A file's bytes, in a buffer aligned as a mapping would be. */
static void *read_aligned(const char *path, size_t *len)
{
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	*len = (size_t)sb.st_size;
	void *p = NULL;
	assert_int_equal(posix_memalign(&p, 64, *len + 64), 0);
	FILE *fp = fopen(path, "r");
	assert_non_null(fp);
	assert_int_equal(fread(p, 1, *len, fp), *len);
	fclose(fp);
	return p;
}

/* The one image in the cache folder. */
static void cache_file(const struct fixture *f, char *out, size_t outsz)
{
	DIR *dir = opendir(f->cache);
	assert_non_null(dir);
	struct dirent *de;
	int n = 0;
	while ((de = readdir(dir))) {
		if (!strncmp(de->d_name, "list-", 5)) {
			snprintf(out, outsz, "%s/%.200s", f->cache, de->d_name);
			n++;
		}
	}
	closedir(dir);
	assert_int_equal(n, 1);
}

static bool has_msg(const struct cg_diag *d, enum cg_severity sev,
		    const char *part)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].sev == sev && strstr(d->v[i].msg, part))
			return true;
	return false;
}

/* Lookup of a name in the image's set of one kind (NULL set: no match). */
static bool lookup(const struct cg_listimage *im, struct cg_digest_scratch *ds,
		   enum cg_digest kind, const char *name,
		   struct cg_domain_match *m)
{
	const struct cg_domainset *s = cg_listimage_set(im, kind);
	if (!s)
		return false;
	struct cg_name_hashes nh;
	cg_domainset_digest_name(ds, kind, name, strlen(name), &nh);
	memset(m, 0xa5, sizeof(*m));
	return cg_domainset_lookup(s, &nh, m);
}

static void expect_hit(const struct cg_listimage *im,
		       struct cg_digest_scratch *ds, enum cg_digest kind,
		       const char *name, uint16_t source, uint32_t line,
		       uint8_t suffix)
{
	struct cg_domain_match m;
	if (!lookup(im, ds, kind, name, &m))
		fail_msg("%s (%s): expected a match", name,
			 cg_digest_name(kind));
	assert_int_equal(m.source, source);
	assert_int_equal(m.line, line);
	assert_int_equal(m.suffix, suffix);
}

static void expect_none(const struct cg_listimage *im,
			struct cg_digest_scratch *ds, const char *name)
{
	struct cg_domain_match m;
	for (int k = 0; k < CG_DIGEST__COUNT; k++)
		if (lookup(im, ds, (enum cg_digest)k, name, &m))
			fail_msg("%s (%s): unexpected match, line %u", name,
				 cg_digest_name((enum cg_digest)k),
				 (unsigned)m.line);
}

/*
 * A list of every kind.  Digests from `printf %s NAME | openssl dgst
 * -md5` (-sha1, -sha256), computed when the test was written:
 *   md5("bestgore.com")        = 78f96c33f88e3267b68c4518c22d799e
 *   sha1("1084bets10.com")     = f6bd07ec119ff63b59e3691a85a3bf0762159525
 *   sha256("dns.cloudflare.com")
 *     = a0121dfe8a7dca781b1814fff15f594483bc7d34ee76c0123c6fffcfdf318dc6
 *   sha256("example.com")
 *     = a379a6f6eeafb9a55e378c118034e2751e682fab9f2d30ab13d2125586ce1947
 */
static const char list_a[] =
    "# test list, every kind\n"
    "ads.example.org\n"
    "0.0.0.0 tracker.example.net\n"
    "||coin.example^\n"
    "78f96c33f88e3267b68c4518c22d799e\n"
    "F6BD07EC119FF63B59E3691A85A3BF0762159525\n"
    "a0121dfe8a7dca781b1814fff15f594483bc7d34ee76c0123c6fffcfdf318dc6\n"
    "a379a6f6eeafb9a55e378c118034e2751e682fab9f2d30ab13d2125586ce1947\n"
    "http://bad/rule\n";
static const char list_b[] = "zip\nwww.example.org\n";

struct two {
	char a[128], b[128];
	const char *files[2];
};

static void make_two(const struct fixture *f, struct two *t)
{
	snprintf(t->a, sizeof(t->a), "%s/a.txt", f->dir);
	snprintf(t->b, sizeof(t->b), "%s/b.txt", f->dir);
	write_text(t->a, list_a);
	write_text(t->b, list_b);
	t->files[0] = t->a;
	t->files[1] = t->b;
}

/* What list_a + list_b must answer, whatever the image came from. */
static void check_two(const struct cg_listimage *im)
{
	struct cg_digest_scratch *ds = cg_digest_scratch_new();
	assert_non_null(ds);
	expect_hit(im, ds, CG_DIGEST_NONE, "ads.example.org", 0, 2, 0);
	expect_hit(im, ds, CG_DIGEST_NONE, "x.tracker.example.net", 0, 3, 2);
	expect_hit(im, ds, CG_DIGEST_NONE, "coin.example", 0, 4, 0);
	expect_hit(im, ds, CG_DIGEST_NONE, "evil.zip", 1, 1, 5);
	expect_hit(im, ds, CG_DIGEST_NONE, "a.www.example.org", 1, 2, 2);
	/* digests: the name and its subdomains, never look-alikes */
	expect_hit(im, ds, CG_DIGEST_MD5, "bestgore.com", 0, 5, 0);
	expect_hit(im, ds, CG_DIGEST_MD5, "www.bestgore.com", 0, 5, 4);
	expect_hit(im, ds, CG_DIGEST_SHA1, "1084bets10.com", 0, 6, 0);
	expect_hit(im, ds, CG_DIGEST_SHA1, "a.b.1084bets10.com", 0, 6, 4);
	expect_hit(im, ds, CG_DIGEST_SHA256, "dns.cloudflare.com", 0, 7, 0);
	expect_hit(im, ds, CG_DIGEST_SHA256, "x.dns.cloudflare.com", 0, 7, 2);
	expect_hit(im, ds, CG_DIGEST_SHA256, "example.com", 0, 8, 0);
	expect_hit(im, ds, CG_DIGEST_SHA256, "www.example.com", 0, 8, 4);
	expect_none(im, ds, "notbestgore.com");
	expect_none(im, ds, "bestgore.com.evil.net");
	expect_none(im, ds, "bestgore.co");
	expect_none(im, ds, "1084bets10.co");
	expect_none(im, ds, "cloudflare.com");
	expect_none(im, ds, "example.org");
	expect_none(im, ds, "notexample.com");
	expect_none(im, ds, "zipp");
	struct cg_domain_match m;
	/* a digest answers in its own kind only */
	assert_false(lookup(im, ds, CG_DIGEST_SHA1, "bestgore.com", &m));
	assert_false(lookup(im, ds, CG_DIGEST_NONE, "bestgore.com", &m));
	for (int k = 0; k < CG_DIGEST__COUNT; k++)
		assert_non_null(cg_listimage_set(im, (enum cg_digest)k));
	assert_null(cg_listimage_set(im, CG_DIGEST__COUNT));
	assert_int_equal(
	    cg_domainset_count(cg_listimage_set(im, CG_DIGEST_NONE)), 5);
	assert_int_equal(
	    cg_domainset_count(cg_listimage_set(im, CG_DIGEST_SHA256)), 2);
	cg_digest_scratch_free(ds);
}

static void check_info(const struct cg_listimage_info *info, bool cached)
{
	assert_int_equal(info->entries[CG_DIGEST_NONE], 5);
	assert_int_equal(info->entries[CG_DIGEST_MD5], 1);
	assert_int_equal(info->entries[CG_DIGEST_SHA1], 1);
	assert_int_equal(info->entries[CG_DIGEST_SHA256], 2);
	assert_int_equal(info->stats.lines, 11);
	assert_int_equal(info->stats.entries, 9);
	assert_int_equal(info->stats.skipped, 1);
	assert_int_equal(info->stats.skipped_by[CG_SKIP_URL_RULE], 1);
	assert_int_equal(info->from_cache, cached);
	assert_true(info->image_bytes > 384);
	assert_true(info->load_ms >= 0);
}

/* ---- round trip ----------------------------------------------------- */

static void test_round_trip(void **state)
{
	struct fixture *f = *state;
	struct two t;
	make_two(f, &t);
	struct cg_diag d = {0};
	struct cg_listimage_info info;

	/* In memory (no cache), compiled, and opened: the same answers. */
	struct cg_listimage *mem =
	    cg_listimage_load(t.files, 2, CG_LIST_AUTO, NULL, &d, &info);
	assert_non_null(mem);
	check_info(&info, false);
	check_two(mem);
	assert_int_equal(d.errors, 0);
	cg_diag_clear(&d);

	char out[160];
	snprintf(out, sizeof(out), "%s/out.img", f->dir);
	assert_int_equal(
	    cg_listimage_compile(t.files, 2, CG_LIST_AUTO, out, &d, &info), 0);
	check_info(&info, false);
	struct cg_error err;
	struct cg_listimage *im = cg_listimage_open(out, &err);
	if (!im)
		fail_msg("open: %s", err.msg);
	check_two(im);
	assert_int_equal(cg_listimage_sources(im), 2);
	assert_string_equal(cg_listimage_source(im, 0), t.a);
	assert_string_equal(cg_listimage_source(im, 1), t.b);
	assert_null(cg_listimage_source(im, 2));
	struct stat sb;
	assert_int_equal(stat(out, &sb), 0);
	assert_int_equal((size_t)sb.st_size, info.image_bytes);
	assert_int_equal(sb.st_size % 64, 0);

	/* The same image from memory. */
	size_t len;
	void *buf = read_aligned(out, &len);
	struct cg_listimage *fm = cg_listimage_from_memory(buf, len, &err);
	assert_non_null(fm);
	check_two(fm);
	cg_listimage_free(fm);
	/* Only where a mapping would be: 64-byte aligned. */
	memmove((char *)buf + 8, buf, len);
	assert_null(cg_listimage_from_memory((char *)buf + 8, len, &err));
	assert_non_null(strstr(err.msg, "aligned"));
	free(buf);

	cg_listimage_free(im);
	cg_listimage_free(mem);
	cg_diag_clear(&d);
}

/* Many names: the image answers as the set built from the text does. */
static void test_round_trip_random(void **state)
{
	struct fixture *f = *state;
	char path[160];
	snprintf(path, sizeof(path), "%s/many.txt", f->dir);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	uint64_t r = 1;
	for (int i = 0; i < 20000; i++) {
		r = r * 6364136223846793005ULL + 1442695040888963407ULL;
		fprintf(fp, "n%llx.%s\n", (unsigned long long)(r >> 20),
			i % 3 ? "com" : "example.net");
	}
	fclose(fp);
	struct cg_domainset_builder *b[CG_DIGEST__COUNT] = {
	    cg_domainset_builder_new()};
	struct cg_diag d = {0};
	assert_int_equal(cg_listfile_load(path, CG_LIST_AUTO, b, 0, &d, NULL),
			 0);
	struct cg_error err;
	struct cg_domainset *ref = cg_domainset_build(b[0], &err);
	assert_non_null(ref);
	const char *files[] = {path};
	struct cg_listimage *im =
	    cg_listimage_load(files, 1, CG_LIST_AUTO, f->cache, &d, NULL);
	assert_non_null(im);
	const struct cg_domainset *s = cg_listimage_set(im, CG_DIGEST_NONE);
	assert_int_equal(cg_domainset_count(s), cg_domainset_count(ref));
	assert_int_equal(cg_domainset_image_size(s),
			 cg_domainset_image_size(ref));
	assert_memory_equal(cg_domainset_image(s), cg_domainset_image(ref),
			    cg_domainset_image_size(ref));
	r = 1;
	for (int i = 0; i < 20000; i++) {
		r = r * 6364136223846793005ULL + 1442695040888963407ULL;
		char name[64];
		snprintf(name, sizeof(name), "w.n%llx.%s",
			 (unsigned long long)(r >> 20),
			 i % 3 ? "com" : "example.net");
		struct cg_domain_match m1, m2;
		assert_true(
		    cg_domainset_lookup_name(ref, name, strlen(name), &m1));
		assert_true(
		    cg_domainset_lookup_name(s, name, strlen(name), &m2));
		assert_int_equal(m1.line, m2.line);
		assert_int_equal(m2.suffix, 2);
		name[2] = '-'; /* "w.-..." no longer an entry's subdomain */
		assert_false(
		    cg_domainset_lookup_name(s, name, strlen(name), &m2));
	}
	cg_domainset_free(ref);
	cg_listimage_free(im);
	cg_diag_clear(&d);
}

/* ---- the cache ------------------------------------------------------ */

static struct cg_listimage *load(const struct fixture *f, const char **files,
				 size_t n, enum cg_list_format fmt,
				 struct cg_diag *d,
				 struct cg_listimage_info *info)
{
	cg_diag_clear(d);
	struct cg_listimage *im =
	    cg_listimage_load(files, n, fmt, f->cache, d, info);
	if (!im) {
		cg_diag_print(d, stderr);
		fail_msg("load failed");
	}
	return im;
}

static void test_cache_hit(void **state)
{
	struct fixture *f = *state;
	struct two t;
	make_two(f, &t);
	struct cg_diag d = {0};
	struct cg_listimage_info info;
	struct cg_listimage *im = load(f, t.files, 2, CG_LIST_AUTO, &d, &info);
	check_info(&info, false);
	/* The text's reports: the line and the file's summary. */
	assert_int_equal(d.n, 2);
	cg_listimage_free(im);

	im = load(f, t.files, 2, CG_LIST_AUTO, &d, &info);
	check_info(&info, true);
	check_two(im);
	/* From the cache, only the recorded summary (a URL rule in an
	 * AdBlock list is its nature: a note). */
	assert_int_equal(d.n, 1);
	assert_int_equal(d.v[0].sev, CG_SEV_NOTE);
	assert_string_equal(d.v[0].file, t.a);
	assert_int_equal(d.v[0].line, 0);
	char want[128];
	snprintf(want, sizeof(want), "skipped 1 line (1 %s)",
		 cg_list_skip_str(CG_SKIP_URL_RULE));
	assert_string_equal(d.v[0].msg, want);
	char img[512];
	cache_file(f, img, sizeof(img));
	struct stat sb;
	assert_int_equal(stat(img, &sb), 0);
	assert_int_equal((size_t)sb.st_size, info.image_bytes);
	cg_listimage_free(im);
	cg_diag_clear(&d);
}

/* Loads once more and tells whether the cache was used. */
static bool cached(const struct fixture *f, const char **files, size_t n,
		   enum cg_list_format fmt, struct cg_diag *d)
{
	struct cg_listimage_info info;
	struct cg_listimage *im = load(f, files, n, fmt, d, &info);
	cg_listimage_free(im);
	return info.from_cache;
}

static void test_cache_invalidated(void **state)
{
	struct fixture *f = *state;
	struct two t;
	make_two(f, &t);
	struct cg_diag d = {0};
	assert_false(cached(f, t.files, 2, CG_LIST_AUTO, &d));
	assert_true(cached(f, t.files, 2, CG_LIST_AUTO, &d));

	/* Size. */
	FILE *fp = fopen(t.b, "a");
	assert_non_null(fp);
	fputs("more.example\n", fp);
	fclose(fp);
	assert_false(cached(f, t.files, 2, CG_LIST_AUTO, &d));
	assert_true(has_msg(&d, CG_SEV_NOTE, "changed size"));
	struct cg_listimage_info info;
	struct cg_listimage *im = load(f, t.files, 2, CG_LIST_AUTO, &d, &info);
	assert_true(info.from_cache);
	assert_int_equal(info.entries[CG_DIGEST_NONE], 6);
	cg_listimage_free(im);

	/* mtime alone (same size, same inode). */
	struct timespec ts[2] = {{.tv_sec = 1000000000, .tv_nsec = 5},
				 {.tv_sec = 1000000000, .tv_nsec = 5}};
	assert_int_equal(utimensat(AT_FDCWD, t.a, ts, 0), 0);
	assert_false(cached(f, t.files, 2, CG_LIST_AUTO, &d));
	assert_true(has_msg(&d, CG_SEV_NOTE, "was modified"));
	assert_true(cached(f, t.files, 2, CG_LIST_AUTO, &d));
	ts[0].tv_nsec = ts[1].tv_nsec = 6; /* a nanosecond counts */
	assert_int_equal(utimensat(AT_FDCWD, t.a, ts, 0), 0);
	assert_false(cached(f, t.files, 2, CG_LIST_AUTO, &d));

	/* Inode alone: the same bytes and mtime in a new file renamed over
	 * the old (how list updaters replace files). */
	char tmp[160];
	snprintf(tmp, sizeof(tmp), "%s/a.new", f->dir);
	write_text(tmp, list_a);
	assert_int_equal(utimensat(AT_FDCWD, tmp, ts, 0), 0);
	assert_int_equal(rename(tmp, t.a), 0);
	assert_false(cached(f, t.files, 2, CG_LIST_AUTO, &d));
	assert_true(has_msg(&d, CG_SEV_NOTE, "was replaced"));
	assert_true(cached(f, t.files, 2, CG_LIST_AUTO, &d));

	/* The format: another image, built from the text. */
	assert_false(cached(f, t.files, 2, CG_LIST_DOMAINS, &d));
	assert_true(cached(f, t.files, 2, CG_LIST_DOMAINS, &d));
	im = load(f, t.files, 2, CG_LIST_DOMAINS, &d, &info);
	assert_int_equal(info.entries[CG_DIGEST_NONE], 4); /* no hosts/abp */
	cg_listimage_free(im);
	assert_true(cached(f, t.files, 2, CG_LIST_AUTO, &d));

	/* The files: one fewer, or in another order. */
	assert_false(cached(f, t.files, 1, CG_LIST_AUTO, &d));
	const char *rev[] = {t.b, t.a};
	assert_false(cached(f, rev, 2, CG_LIST_AUTO, &d));
	im = load(f, rev, 2, CG_LIST_AUTO, &d, &info);
	assert_string_equal(cg_listimage_source(im, 0), t.b);
	cg_listimage_free(im);

	/* A file gone: an error, no image. */
	unlink(t.b);
	cg_diag_clear(&d);
	assert_null(
	    cg_listimage_load(t.files, 2, CG_LIST_AUTO, f->cache, &d, NULL));
	assert_int_equal(d.errors, 1);
	assert_string_equal(d.v[d.n - 1].file, t.b);
	cg_diag_clear(&d);
}

/* The recorded format is checked too, not only through the file name. */
static void test_cache_format_recorded(void **state)
{
	struct fixture *f = *state;
	struct two t;
	make_two(f, &t);
	struct cg_diag d = {0};
	assert_false(cached(f, t.files, 2, CG_LIST_AUTO, &d));
	char img[512];
	cache_file(f, img, sizeof(img));
	/* An image of the same files in another format, where the auto
	 * image belongs. */
	char out[160];
	snprintf(out, sizeof(out), "%s/domains.img", f->dir);
	assert_int_equal(
	    cg_listimage_compile(t.files, 2, CG_LIST_DOMAINS, out, &d, NULL),
	    0);
	assert_int_equal(rename(out, img), 0);
	assert_false(cached(f, t.files, 2, CG_LIST_AUTO, &d));
	assert_true(has_msg(&d, CG_SEV_NOTE, "format changed"));
	assert_true(cached(f, t.files, 2, CG_LIST_AUTO, &d));
	cg_diag_clear(&d);
}

/* ---- damaged images ------------------------------------------------- */

/* Whether an image of these bytes is accepted (and then answers right). */
static bool from_bytes(const void *p, size_t len, struct cg_error *err)
{
	void *buf = NULL;
	assert_int_equal(posix_memalign(&buf, 64, len ? len : 1), 0);
	memcpy(buf, p, len);
	struct cg_listimage *im = cg_listimage_from_memory(buf, len, err);
	if (im) {
		/* Valid: use it before the memory goes. */
		check_two(im);
		cg_listimage_free(im);
	}
	free(buf);
	return im != NULL;
}

static void expect_refused(const void *p, size_t len, const char *why,
			   const char *what)
{
	struct cg_error err = {{0}};
	if (from_bytes(p, len, &err))
		fail_msg("%s: damaged image accepted", what);
	if (why && !strstr(err.msg, why))
		fail_msg("%s: refused with \"%s\", expected \"%s\"", what,
			 err.msg, why);
	assert_true(err.msg[0]);
}

static void put32(uint8_t *p, size_t off, uint32_t v)
{
	memcpy(p + off, &v, 4);
}

static void put64(uint8_t *p, size_t off, uint64_t v)
{
	memcpy(p + off, &v, 8);
}

static uint64_t get64(const uint8_t *p, size_t off)
{
	uint64_t v;
	memcpy(&v, p + off, 8);
	return v;
}

static void test_damaged_images(void **state)
{
	struct fixture *f = *state;
	struct two t;
	make_two(f, &t);
	struct cg_diag d = {0};
	char out[160];
	snprintf(out, sizeof(out), "%s/x.img", f->dir);
	assert_int_equal(
	    cg_listimage_compile(t.files, 2, CG_LIST_AUTO, out, &d, NULL), 0);
	size_t len;
	uint8_t *good = read_aligned(out, &len);
	struct cg_error err;
	assert_true(from_bytes(good, len, &err));
	uint8_t *bad = malloc(len + 64);
	assert_non_null(bad);

	/* Truncated anywhere, or extended. */
	for (size_t cut = 0; cut < len; cut += cut < 1024 ? 1 : 61)
		expect_refused(good, cut, NULL, "truncated");
	memcpy(bad, good, len);
	memset(bad + len, 0, 64);
	expect_refused(bad, len + 64, "header says", "extended");

	struct {
		size_t off;
		uint64_t v;
		int bytes;
		const char *why;
	} fields[] = {
	    {0, 0x474d49545354474cULL, 8, "not a cafeguard list image"},
	    {H_BYTE_ORDER, 0x04030201, 4, "byte order"},
	    {H_VERSION, 2, 4, "format 2"},
	    {H_HASH_VERSION, 1, 4, "name hash 1"},
	    {H_NSOURCES, 257, 4, "damaged"},
	    {H_FILE_SIZE, len - 64, 8, "header says"},
	    {H_SET_OFF(0), 0, 8, "out of range"},
	    {H_SET_OFF(1), 1u << 30, 8, "out of range"},
	    {H_SET_OFF(0) + 8, 1ULL << 62, 8, "out of range"},
	    {H_SET_OFF(3) + 8, 64, 8, "sections end"},
	};
	for (size_t i = 0; i < sizeof(fields) / sizeof(*fields); i++) {
		memcpy(bad, good, len);
		if (fields[i].bytes == 4)
			put32(bad, fields[i].off, (uint32_t)fields[i].v);
		else
			put64(bad, fields[i].off, fields[i].v);
		expect_refused(bad, len, fields[i].why, fields[i].why);
	}

	/* Any byte of the header or the sources, flipped. */
	uint64_t first_set = get64(good, H_SET_OFF(0));
	for (size_t i = 0; i < first_set; i++) {
		memcpy(bad, good, len);
		bad[i] ^= 0x10;
		expect_refused(bad, len, NULL, "flipped header byte");
	}
	/* Any byte of a set's header or bucket index. */
	for (int k = 0; k < CG_DIGEST__COUNT; k++) {
		uint64_t off = get64(good, H_SET_OFF(k));
		uint64_t size = get64(good, H_SET_OFF(k) + 8);
		uint64_t n = get64(good, off + 16);
		uint64_t index = off + 64 + ((n + 8) * 8 + 63) / 64 * 64 +
				 (n * 4 + 63) / 64 * 64;
		for (size_t i = off; i < off + 64; i++) {
			memcpy(bad, good, len);
			bad[i] ^= 0x01;
			expect_refused(bad, len, "domain set", "set header");
		}
		for (size_t i = index; i < off + size; i++) {
			memcpy(bad, good, len);
			bad[i] ^= 0x80;
			expect_refused(bad, len, "domain set", "set index");
		}
	}
	free(bad);
	free(good);
	cg_diag_clear(&d);
}

/*
 * Behind the checksums: an index or header that checks out (checksums
 * repaired after the damage) but would let a probe leave the image is
 * refused all the same; damage the checks cannot see (the hash array is
 * not read at load) changes answers, never where a lookup reads (ASan).
 */
static void test_damage_behind_checksums(void **state)
{
	struct fixture *f = *state;
	struct two t;
	make_two(f, &t);
	char out[160];
	snprintf(out, sizeof(out), "%s/x.img", f->dir);
	struct cg_diag d = {0};
	assert_int_equal(
	    cg_listimage_compile(t.files, 2, CG_LIST_AUTO, out, &d, NULL), 0);
	size_t len;
	uint8_t *good = read_aligned(out, &len);
	uint8_t *bad = NULL;
	assert_int_equal(posix_memalign((void **)&bad, 64, len), 0);
	/* The set of names: 5 entries, bits 1; from its start, 13 hashes
	 * at 64, 5 origins at 192, 3 bucket bounds at 256, 320 bytes. */
	uint64_t off = get64(good, H_SET_OFF(0));
	assert_int_equal(get64(good, off + 16), 5);
	assert_int_equal(get64(good, H_SET_OFF(0) + 8), 320);
	struct cg_error err;
	static const struct {
		const char *what;
		size_t at; /* from the set's start */
		int bytes; /* 4 or 8 */
		uint64_t v;
		const char *why;
	} cases[] = {
	    {"first bound not 0", 256, 4, 1, "inconsistent"},
	    {"bounds decrease", 260, 4, 6, "inconsistent"},
	    {"last bound not n", 264, 4, 4, "inconsistent"},
	    {"last bound past n", 264, 4, 1000000, "inconsistent"},
	    {"window padding", 64 + 5 * 8, 8, 7, "inconsistent"},
	    {"bits", 24, 4, 2, "damaged"},
	    {"n, same size", 16, 8, 6, "inconsistent"},
	    {"n", 16, 8, 20, "entries need"},
	    {"n huge", 16, 8, 1ULL << 40, "damaged"},
	    {"reserved", 28, 4, 1, "damaged"},
	    {"hash version", 12, 4, 1, "hash version"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		memcpy(bad, good, len);
		if (cases[i].bytes == 4)
			put32(bad, off + cases[i].at, (uint32_t)cases[i].v);
		else
			put64(bad, off + cases[i].at, cases[i].v);
		ref_image_repair(bad, len);
		struct cg_listimage *im =
		    cg_listimage_from_memory(bad, len, &err);
		if (im)
			fail_msg("%s: accepted", cases[i].what);
		if (!strstr(err.msg, cases[i].why))
			fail_msg("%s: \"%s\"", cases[i].what, err.msg);
	}
	/* The repair itself leaves a good image good. */
	memcpy(bad, good, len);
	ref_image_repair(bad, len);
	assert_memory_equal(bad, good, len);

	/* Hashes out of order, or all equal, in every set: lookups stay
	 * inside (ASan watches), some answers change. */
	for (int mode = 0; mode < 2; mode++) {
		memcpy(bad, good, len);
		for (int k = 0; k < CG_DIGEST__COUNT; k++) {
			uint64_t so = get64(good, H_SET_OFF(k));
			uint64_t sn = get64(good, so + 16);
			for (uint64_t i = 0; i < sn; i++)
				put64(bad, so + 64 + 8 * i,
				      mode ? 42
					   : ~get64(good, so + 64 + 8 * i));
		}
		struct cg_listimage *im =
		    cg_listimage_from_memory(bad, len, &err);
		assert_non_null(im);
		struct cg_digest_scratch *ds = cg_digest_scratch_new();
		static const char *const names[] = {
		    "ads.example.org", "www.bestgore.com", "x.y.z.example.com",
		    "zip", "a.b.c.d.e.f.g.h"};
		struct cg_domain_match m;
		for (int k = 0; k < CG_DIGEST__COUNT; k++)
			for (size_t i = 0; i < 5; i++)
				(void)lookup(im, ds, (enum cg_digest)k,
					     names[i], &m);
		struct cg_name_hashes nh = {.n = 3, .h = {0, 42, UINT64_MAX}};
		for (int k = 0; k < CG_DIGEST__COUNT; k++)
			(void)cg_domainset_lookup(
			    cg_listimage_set(im, (enum cg_digest)k), &nh, &m);
		cg_digest_scratch_free(ds);
		cg_listimage_free(im);
	}
	free(bad);
	free(good);
	cg_diag_clear(&d);
}

/* Through the loader: refused with a warning, rebuilt, cached again. */
static void test_damaged_cache_rebuilt(void **state)
{
	struct fixture *f = *state;
	struct two t;
	make_two(f, &t);
	struct cg_diag d = {0};
	assert_false(cached(f, t.files, 2, CG_LIST_AUTO, &d));
	char img[512];
	cache_file(f, img, sizeof(img));
	size_t len;
	uint8_t *good = read_aligned(img, &len);

	static const struct {
		size_t off, cut;
		const char *why;
	} cases[] = {
	    {0, 0, "not a cafeguard list image"},
	    {H_BYTE_ORDER, 0, "byte order"},
	    {H_VERSION, 0, "format"},
	    {200, 0, "checksum"}, /* in the statistics */
	    {SIZE_MAX, 200, "truncated"},
	    {SIZE_MAX, 1000, "header says"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		uint8_t *bad = malloc(len);
		assert_non_null(bad);
		memcpy(bad, good, len);
		if (cases[i].off != SIZE_MAX)
			bad[cases[i].off] ^= 0x04;
		write_file(img, bad, cases[i].cut ? cases[i].cut : len);
		free(bad);
		struct cg_listimage_info info;
		struct cg_listimage *im =
		    load(f, t.files, 2, CG_LIST_AUTO, &d, &info);
		assert_false(info.from_cache);
		check_two(im);
		cg_listimage_free(im);
		if (!has_msg(&d, CG_SEV_WARNING, cases[i].why))
			fail_msg("no warning with \"%s\"", cases[i].why);
		assert_true(has_msg(&d, CG_SEV_WARNING, "rebuilding"));
		assert_int_equal(d.errors, 0);
		assert_true(cached(f, t.files, 2, CG_LIST_AUTO, &d));
	}
	/* Not even a regular file in its place. */
	unlink(img);
	assert_int_equal(mkdir(img, 0700), 0);
	struct cg_listimage_info info;
	struct cg_listimage *im = load(f, t.files, 2, CG_LIST_AUTO, &d, &info);
	assert_false(info.from_cache);
	assert_true(has_msg(&d, CG_SEV_WARNING, "compiled list"));
	check_two(im);
	cg_listimage_free(im);
	rmdir(img);
	free(good);
	cg_diag_clear(&d);
}

/* A cache folder that cannot be written: a warning, the list in memory. */
static void test_cache_not_writable(void **state)
{
	struct fixture *f = *state;
	struct two t;
	make_two(f, &t);
	static const char *const dirs[] = {"/nonexistent/cg-cache", "/proc"};
	for (size_t i = 0; i < 2; i++) {
		struct cg_diag d = {0};
		struct cg_listimage_info info;
		struct cg_listimage *im = cg_listimage_load(
		    t.files, 2, CG_LIST_AUTO, dirs[i], &d, &info);
		assert_non_null(im);
		check_info(&info, false);
		check_two(im);
		assert_int_equal(d.errors, 0);
		assert_true(has_msg(&d, CG_SEV_WARNING, "kept in memory"));
		assert_string_equal(d.v[d.n - 1].file, dirs[i]);
		cg_listimage_free(im);
		cg_diag_clear(&d);
	}
	/* And a compile there fails. */
	struct cg_diag d = {0};
	assert_int_equal(cg_listimage_compile(t.files, 2, CG_LIST_AUTO,
					      "/nonexistent/x.img", &d, NULL),
			 -1);
	assert_int_equal(d.errors, 1);
	cg_diag_clear(&d);
}

/* ---- other lists ---------------------------------------------------- */

static void test_ut1_folder(void **state)
{
	struct fixture *f = *state;
	struct cg_diag d = {0};
	char **files;
	size_t n;
	assert_int_equal(cg_listfile_expand(LISTS "ut1-folder", &files, &n, &d),
			 0);
	for (int round = 0; round < 2; round++) {
		struct cg_listimage_info info;
		struct cg_listimage *im = load(f, (const char **)files, n,
					       CG_LIST_DOMAINS, &d, &info);
		assert_int_equal(info.from_cache, round == 1);
		assert_int_equal(info.entries[CG_DIGEST_NONE], 120);
		assert_int_equal(cg_listimage_sources(im), 1);
		assert_string_equal(cg_listimage_source(im, 0),
				    LISTS "ut1-folder/domains");
		struct cg_domain_match m;
		const struct cg_domainset *s =
		    cg_listimage_set(im, CG_DIGEST_NONE);
		/* bets.pcapng: www.1084bets10.com, parent listed */
		assert_true(
		    cg_domainset_lookup_name(s, "www.1084bets10.com", 18, &m));
		assert_int_equal(m.line, 109);
		assert_false(
		    cg_domainset_lookup_name(s, "10bets10.com", 12, &m));
		assert_null(cg_listimage_set(im, CG_DIGEST_MD5));
		cg_listimage_free(im);
	}
	cg_listfile_expand_free(files, n);
	cg_diag_clear(&d);
}

static void test_empty_and_limits(void **state)
{
	struct fixture *f = *state;
	char path[160];
	snprintf(path, sizeof(path), "%s/empty.txt", f->dir);
	write_text(path, "# nothing here\n\n");
	const char *files[] = {path};
	struct cg_diag d = {0};
	for (int round = 0; round < 2; round++) {
		struct cg_listimage_info info;
		struct cg_listimage *im =
		    load(f, files, 1, CG_LIST_AUTO, &d, &info);
		assert_int_equal(info.from_cache, round == 1);
		for (int k = 0; k < CG_DIGEST__COUNT; k++)
			assert_null(cg_listimage_set(im, (enum cg_digest)k));
		assert_int_equal(info.stats.lines, 2);
		cg_listimage_free(im);
	}
	/* No file, or more than an origin can name. */
	cg_diag_clear(&d);
	assert_null(
	    cg_listimage_load(files, 0, CG_LIST_AUTO, f->cache, &d, NULL));
	assert_int_equal(d.errors, 1);
	cg_diag_clear(&d);
	const char **many = calloc(CG_DOMAINSET_SOURCES + 1, sizeof(*many));
	assert_non_null(many);
	for (size_t i = 0; i <= CG_DOMAINSET_SOURCES; i++)
		many[i] = path;
	assert_null(cg_listimage_load(many, CG_DOMAINSET_SOURCES + 1,
				      CG_LIST_AUTO, f->cache, &d, NULL));
	assert_int_equal(d.errors, 1);
	cg_diag_clear(&d);
	/* 256 files: the most, the last one's origin source is 255. */
	char last[160];
	snprintf(last, sizeof(last), "%s/last.txt", f->dir);
	write_text(last, "last.example\n");
	many[CG_DOMAINSET_SOURCES - 1] = last;
	struct cg_listimage *im =
	    load(f, many, CG_DOMAINSET_SOURCES, CG_LIST_AUTO, &d, NULL);
	struct cg_domain_match m;
	assert_true(cg_domainset_lookup_name(
	    cg_listimage_set(im, CG_DIGEST_NONE), "last.example", 12, &m));
	assert_int_equal(m.source, CG_DOMAINSET_SOURCES - 1);
	assert_string_equal(cg_listimage_source(im, m.source), last);
	cg_listimage_free(im);
	free(many);
	cg_diag_clear(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_round_trip_random, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_cache_hit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cache_invalidated, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_cache_format_recorded, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_damaged_images, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_damage_behind_checksums, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_damaged_cache_rebuilt, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_cache_not_writable, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_ut1_folder, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_empty_and_limits, setup,
					    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
