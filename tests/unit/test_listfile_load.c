/*
 * listfile: the loader's reporting and limits on generated files, and
 * real lists from tests/data/lists (see its README) with counts checked
 * independently with grep/awk when the files were copied.  Single-line
 * parsing is in test_listfile_parse.c.
 */
#include <errno.h>
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
#include "listfile_testutil.h"

#define LISTS CG_TEST_DATA "/lists/"

/* ---- loading generated files ---------------------------------------- */

struct tmpfile {
	char path[64];
};

static void write_tmp(struct tmpfile *t, const void *data, size_t len)
{
	strcpy(t->path, "/tmp/cg_test_listfile_XXXXXX");
	int fd = mkstemp(t->path);
	assert_true(fd >= 0);
	const char *p = data;
	while (len) {
		ssize_t w = write(fd, p, len);
		assert_true(w > 0);
		p += w;
		len -= (size_t)w;
	}
	close(fd);
}

struct loaded {
	struct cg_diag d;
	struct cg_listfile_stats st;
	struct cg_domainset *set; /* = sets[CG_DIGEST_NONE] */
	struct cg_domainset *sets[CG_DIGEST__COUNT];
	int rc;
};

/* Loads into a builder of each kind whose bit is in kinds. */
static void load_kinds(struct loaded *l, const char *path,
		       enum cg_list_format fmt, uint16_t source, unsigned kinds)
{
	memset(l, 0, sizeof(*l));
	struct cg_domainset_builder *b[CG_DIGEST__COUNT] = {NULL};
	for (int k = 0; k < CG_DIGEST__COUNT; k++) {
		if (!(kinds >> k & 1))
			continue;
		b[k] = cg_domainset_builder_new();
		assert_non_null(b[k]);
	}
	l->rc = cg_listfile_load(path, fmt, b, source, &l->d, &l->st);
	for (int k = 0; k < CG_DIGEST__COUNT; k++) {
		if (!b[k])
			continue;
		struct cg_error err;
		l->sets[k] = cg_domainset_build(b[k], &err);
		assert_non_null(l->sets[k]);
	}
	l->set = l->sets[CG_DIGEST_NONE];
}

static void load_file(struct loaded *l, const char *path,
		      enum cg_list_format fmt, uint16_t source)
{
	load_kinds(l, path, fmt, source, (1u << CG_DIGEST__COUNT) - 1);
}

static void load_text(struct loaded *l, const char *text, size_t len,
		      enum cg_list_format fmt)
{
	struct tmpfile t;
	write_tmp(&t, text, len);
	load_file(l, t.path, fmt, 3);
	unlink(t.path);
}

static void unload(struct loaded *l)
{
	for (int k = 0; k < CG_DIGEST__COUNT; k++)
		cg_domainset_free(l->sets[k]);
	cg_diag_clear(&l->d);
}

static void expect_match(const struct cg_domainset *s, const char *name,
			 uint16_t source, uint32_t line, uint8_t suffix)
{
	struct cg_domain_match m;
	if (!cg_domainset_lookup_name(s, name, strlen(name), &m))
		fail_msg("%s: expected a match", name);
	assert_int_equal(m.source, source);
	assert_int_equal(m.line, line);
	assert_int_equal(m.suffix, suffix);
}

static void expect_miss(const struct cg_domainset *s, const char *name)
{
	struct cg_domain_match m;
	if (cg_domainset_lookup_name(s, name, strlen(name), &m))
		fail_msg("%s: unexpected match at line %u", name,
			 (unsigned)m.line);
}

static void test_load_missing(void **state)
{
	(void)state;
	struct loaded l;
	load_file(&l, "/nonexistent/cg-list.txt", FA, 0);
	assert_int_equal(l.rc, -1);
	assert_int_equal(l.d.errors, 1);
	assert_string_equal(l.d.v[0].file, "/nonexistent/cg-list.txt");
	assert_string_equal(l.d.v[0].msg,
			    "cannot open list: No such file or directory");
	unload(&l);

	load_file(&l, CG_TEST_DATA "/lists", FA, 0);
	assert_int_equal(l.rc, -1);
	assert_int_equal(l.d.errors, 1);
	assert_string_equal(l.d.v[0].msg, "cannot open list: Is a directory");
	unload(&l);
}

static void test_load_nul(void **state)
{
	(void)state;
	static const char text[] = "a.example\nb\0c.example\nd.example\n";
	struct loaded l;
	load_text(&l, text, sizeof(text) - 1, FA);
	assert_int_equal(l.rc, -1);
	assert_int_equal(l.d.errors, 1);
	assert_int_equal(l.d.v[0].line, 2);
	assert_string_equal(l.d.v[0].msg, "NUL byte: not a text list");
	unload(&l);
}

static void test_load_crlf_bom_no_final_newline(void **state)
{
	(void)state;
	static const char text[] = "\xef\xbb\xbf"
				   "a.example\r\n"
				   "0.0.0.0 b.example\r\n"
				   "\r\n"
				   "||c.example^";
	struct loaded l;
	load_text(&l, text, sizeof(text) - 1, FA);
	assert_int_equal(l.rc, 0);
	assert_int_equal(l.d.n, 0);
	assert_int_equal(l.st.lines, 4);
	assert_int_equal(l.st.entries, 3);
	assert_int_equal(l.st.skipped, 0);
	expect_match(l.set, "a.example", 3, 1, 0);
	expect_match(l.set, "www.b.example", 3, 2, 4);
	expect_match(l.set, "c.example", 3, 4, 0);
	unload(&l);
}

static void test_load_reports(void **state)
{
	(void)state;
	/* 12 address lines, a URL rule, a long bad line, control bytes. */
	char text[4096] = "";
	for (int i = 1; i <= 12; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
			 "10.0.0.%d\n", i);
	strcat(text, "good.example\n");
	strcat(text, "||x.example/ads\n");
	strcat(text, "0.0.0.0 ");
	for (int i = 0; i < 20; i++)
		strcat(text, "bad!name.");
	strcat(text, "\n");
	strcat(text, "bad\x01name\n");
	struct loaded l;
	load_text(&l, text, strlen(text), FA);
	assert_int_equal(l.rc, 0);
	assert_int_equal(l.st.lines, 16);
	assert_int_equal(l.st.entries, 1);
	assert_int_equal(l.st.skipped, 15);
	assert_int_equal(l.st.skipped_by[IP], 12);
	assert_int_equal(l.st.skipped_by[URL], 1);
	assert_int_equal(l.st.skipped_by[BAD], 2);
	/* The first CG_LISTFILE_REPORT_MAX, then the summary.  Addresses
	 * in a hosts file are a note; the summary counts bad names too,
	 * which look like a mistake: a warning. */
	assert_int_equal(l.d.errors, 0);
	assert_int_equal(l.d.n, CG_LISTFILE_REPORT_MAX + 1);
	assert_int_equal(l.d.warnings, 1);
	assert_int_equal(l.d.v[0].sev, CG_SEV_NOTE);
	assert_int_equal(l.d.v[0].line, 1);
	assert_string_equal(l.d.v[0].msg, "skipped: IP address, not a domain "
					  "name: 10.0.0.1");
	assert_int_equal(l.d.v[9].line, 10);
	const struct cg_diag_entry *sum = &l.d.v[CG_LISTFILE_REPORT_MAX];
	assert_int_equal(sum->line, 0);
	assert_int_equal(sum->sev, CG_SEV_WARNING);
	assert_non_null(sum->file);
	char want[256];
	snprintf(want, sizeof(want), "skipped 15 lines (2 %s, 12 %s, 1 %s)",
		 cg_list_skip_str(BAD), cg_list_skip_str(IP),
		 cg_list_skip_str(URL));
	assert_string_equal(sum->msg, want);
	unload(&l);

	/* Quoting: long lines cut to 80 bytes, control bytes escaped. */
	static const char two[] =
	    "0.0.0.0 bad!name.bad!name.bad!name.bad!name.bad!name.bad!name."
	    "bad!name.bad!name.bad!name.bad!name\n"
	    "bad\x01name\n";
	load_text(&l, two, sizeof(two) - 1, FA);
	assert_int_equal(l.d.warnings, 3);
	assert_string_equal(l.d.v[0].msg,
			    "skipped: not a valid host name: 0.0.0.0 "
			    "bad!name.bad!name.bad!name.bad!name.bad!name."
			    "bad!name.bad!name.bad!name....");
	assert_string_equal(l.d.v[1].msg,
			    "skipped: not a valid host name: bad\\x01name");
	assert_string_equal(l.d.v[2].msg,
			    "skipped 2 lines (2 not a valid host name)");
	unload(&l);

	static const char one[] = "1.2.3.4\n";
	load_text(&l, one, sizeof(one) - 1, FA);
	assert_string_equal(l.d.v[1].msg,
			    "skipped 1 line (1 IP address, not a domain name)");
	unload(&l);
}

/* A line longer than the read buffer is one skipped line. */
static void test_load_huge_line(void **state)
{
	(void)state;
	size_t n = (3u << 20) + 17;
	char *text = malloc(n + 64);
	assert_non_null(text);
	memset(text, 'a', n);
	memcpy(text + n, "\nafter.example\n", 15);
	struct loaded l;
	load_text(&l, text, n + 15, FA);
	assert_int_equal(l.rc, 0);
	assert_int_equal(l.st.lines, 2);
	assert_int_equal(l.st.skipped_by[TOOLNG], 1);
	assert_int_equal(l.d.v[0].line, 1);
	expect_match(l.set, "after.example", 3, 2, 0);
	unload(&l);

	/* A NUL in the dropped part is still found, on the right line. */
	text[(2u << 20) + 5] = '\0';
	load_text(&l, text, n + 15, FA);
	assert_int_equal(l.rc, -1);
	assert_int_equal(l.d.errors, 1);
	assert_int_equal(l.d.v[l.d.n - 1].line, 1);
	unload(&l);
	free(text);
}

static void test_load_duplicates_across_files(void **state)
{
	(void)state;
	struct tmpfile t1, t2;
	static const char a[] = "one.example\ntwo.example\n";
	static const char b[] = "# x\nthree.example\n0.0.0.0 two.example "
				"two.example\n";
	write_tmp(&t1, a, sizeof(a) - 1);
	write_tmp(&t2, b, sizeof(b) - 1);
	struct cg_domainset_builder *bld = cg_domainset_builder_new();
	struct cg_domainset_builder *bs[CG_DIGEST__COUNT] = {bld};
	struct cg_diag d = {0};
	struct cg_listfile_stats st;
	assert_int_equal(cg_listfile_load(t1.path, FA, bs, 0, &d, &st), 0);
	assert_int_equal(st.entries, 2);
	assert_int_equal(st.duplicates, 0);
	assert_int_equal(cg_listfile_load(t2.path, FA, bs, 1, &d, &st), 0);
	assert_int_equal(st.lines, 3);
	assert_int_equal(st.entries, 1);
	assert_int_equal(st.duplicates, 2);
	/* stats may be NULL */
	assert_int_equal(cg_listfile_load(t2.path, FA, bs, 2, &d, NULL), 0);
	assert_int_equal(d.n, 0);
	struct cg_error err;
	struct cg_domainset *s = cg_domainset_build(bld, &err);
	assert_non_null(s);
	assert_int_equal(cg_domainset_count(s), 3);
	expect_match(s, "two.example", 0, 2, 0);
	expect_match(s, "x.three.example", 1, 2, 2);
	cg_domainset_free(s);
	cg_diag_clear(&d);
	unlink(t1.path);
	unlink(t2.path);
}

static void test_load_source_limit(void **state)
{
	(void)state;
	struct loaded l;
	load_file(&l, LISTS "sinfonietta-snuff-hosts", FH,
		  CG_DOMAINSET_SOURCES - 1);
	assert_int_equal(l.rc, 0);
	assert_int_equal(l.st.entries, 23);
	expect_match(l.set, "bestgore.com", CG_DOMAINSET_SOURCES - 1, 4, 0);
	unload(&l);

	load_file(&l, LISTS "sinfonietta-snuff-hosts", FH,
		  CG_DOMAINSET_SOURCES);
	assert_int_equal(l.rc, -1);
	assert_int_equal(l.d.errors, 1);
	assert_non_null(strstr(l.d.v[0].msg, "more than 256 files"));
	assert_int_equal(cg_domainset_count(l.set), 0);
	unload(&l);
}

/* Line numbers must fit the 24 bits of an origin. */
static void test_load_line_limit(void **state)
{
	(void)state;
	/* CG_DOMAINSET_LINE_MAX - 1 empty lines, then an entry. */
	size_t n = CG_DOMAINSET_LINE_MAX - 1;
	char *text = malloc(n + 32);
	assert_non_null(text);
	memset(text, '\n', n);
	memcpy(text + n, "last.example\nx\n", 15);
	struct loaded l;
	load_text(&l, text, n + 13, FA);
	assert_int_equal(l.rc, 0);
	assert_int_equal(l.st.lines, CG_DOMAINSET_LINE_MAX);
	expect_match(l.set, "last.example", 3, CG_DOMAINSET_LINE_MAX, 0);
	unload(&l);

	load_text(&l, text, n + 15, FA);
	assert_int_equal(l.rc, -1);
	assert_int_equal(l.d.errors, 1);
	assert_int_equal(l.d.v[0].line, CG_DOMAINSET_LINE_MAX + 1);
	assert_non_null(strstr(l.d.v[0].msg, "too many lines"));
	unload(&l);
	free(text);
}

/* ---- digest lines --------------------------------------------------- */

/* Digests computed with `printf %s NAME | openssl dgst -md5` (-sha1,
 * -sha256) when the test was written. */
static const char hashed_text[] =
    "# names as digests\n"
    "78f96c33f88e3267b68c4518c22d799e\n"	 /* md5 bestgore.com */
    "F6BD07EC119FF63B59E3691A85A3BF0762159525\n" /* sha1 1084bets10.com */
    "a0121dfe8a7dca781b1814fff15f594483bc7d34ee76c0123c6fffcfdf318dc6 # x\n"
    /* sha256 dns.cloudflare.com */
    "plain.example\n"
    "78f96c33f88e3267b68c4518c22d799e\n"; /* again: a duplicate */

static bool digest_lookup(const struct cg_domainset *s,
			  struct cg_digest_scratch *ds, enum cg_digest kind,
			  const char *name, struct cg_domain_match *m)
{
	struct cg_name_hashes nh;
	cg_domainset_digest_name(ds, kind, name, strlen(name), &nh);
	return cg_domainset_lookup(s, &nh, m);
}

static void test_load_digests(void **state)
{
	(void)state;
	struct cg_digest_scratch *ds = cg_digest_scratch_new();
	assert_non_null(ds);
	struct tmpfile t;
	write_tmp(&t, hashed_text, sizeof(hashed_text) - 1);
	struct loaded l;
	load_file(&l, t.path, FA, 5);
	assert_int_equal(l.rc, 0);
	assert_int_equal(l.st.lines, 6);
	assert_int_equal(l.st.entries, 4);
	assert_int_equal(l.st.duplicates, 1);
	assert_int_equal(l.st.skipped, 0);
	for (int k = 0; k < CG_DIGEST__COUNT; k++)
		assert_int_equal(cg_domainset_count(l.sets[k]), 1);
	struct cg_domain_match m;
	assert_true(digest_lookup(l.sets[CG_DIGEST_MD5], ds, CG_DIGEST_MD5,
				  "www.bestgore.com", &m));
	assert_int_equal(m.source, 5);
	assert_int_equal(m.line, 2);
	assert_int_equal(m.suffix, 4);
	assert_true(digest_lookup(l.sets[CG_DIGEST_SHA1], ds, CG_DIGEST_SHA1,
				  "1084bets10.com", &m));
	assert_int_equal(m.line, 3);
	assert_int_equal(m.suffix, 0);
	assert_true(digest_lookup(l.sets[CG_DIGEST_SHA256], ds,
				  CG_DIGEST_SHA256, "a.dns.cloudflare.com",
				  &m));
	assert_int_equal(m.line, 4);
	/* A digest set answers only for its own kind. */
	assert_false(digest_lookup(l.sets[CG_DIGEST_SHA256], ds, CG_DIGEST_MD5,
				   "dns.cloudflare.com", &m));
	assert_false(digest_lookup(l.sets[CG_DIGEST_MD5], ds, CG_DIGEST_MD5,
				   "notbestgore.com", &m));
	expect_match(l.set, "plain.example", 5, 5, 0);
	unload(&l);

	/* A declared format: only the digests; other lines of another
	 * format. */
	load_file(&l, t.path, FX, 0);
	assert_int_equal(l.st.entries, 3);
	assert_int_equal(l.st.skipped_by[WRONG], 1);
	assert_int_equal(cg_domainset_count(l.set), 0);
	unload(&l);
	load_file(&l, t.path, FD, 0);
	assert_int_equal(l.st.entries, 1);
	assert_int_equal(l.st.skipped_by[WRONG], 4);
	unload(&l);

	/* Kinds the caller does not take are skipped the same way. */
	load_kinds(&l, t.path, FA, 0,
		   1u << CG_DIGEST_NONE | 1u << CG_DIGEST_SHA1);
	assert_int_equal(l.rc, 0);
	assert_int_equal(l.st.entries, 2);
	assert_int_equal(l.st.skipped_by[WRONG], 3);
	assert_null(l.sets[CG_DIGEST_MD5]);
	assert_int_equal(cg_domainset_count(l.sets[CG_DIGEST_SHA1]), 1);
	assert_int_equal(l.d.warnings, 4); /* 3 lines and the summary */
	assert_int_equal(l.d.v[0].line, 2);
	unload(&l);
	unlink(t.path);
	cg_digest_scratch_free(ds);
}

/* ---- folders -------------------------------------------------------- */

static void expect_files(char **files, size_t n, const char *const *want,
			 size_t nwant)
{
	assert_int_equal(n, nwant);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(files[i], want[i]);
}

static void test_expand_ut1_folder(void **state)
{
	(void)state;
	struct cg_diag d = {0};
	char **files;
	size_t n;
	assert_int_equal(cg_listfile_expand(LISTS "ut1-folder", &files, &n, &d),
			 0);
	static const char *const want[] = {LISTS "ut1-folder/domains"};
	expect_files(files, n, want, 1);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.v[0].sev, CG_SEV_NOTE);
	assert_string_equal(d.v[0].file, LISTS "ut1-folder");
	assert_string_equal(d.v[0].msg,
			    "skipped 3 entries that are not domain lists: "
			    "expressions, urls, usage");
	cg_listfile_expand_free(files, n);
	cg_diag_clear(&d);

	/* With a trailing slash, no double slash in the paths. */
	assert_int_equal(
	    cg_listfile_expand(LISTS "ut1-folder/", &files, &n, &d), 0);
	expect_files(files, n, want, 1);
	cg_listfile_expand_free(files, n);
	cg_diag_clear(&d);

	/* A file is itself, without a note. */
	assert_int_equal(
	    cg_listfile_expand(LISTS "ut1-folder/urls", &files, &n, &d), 0);
	static const char *const self[] = {LISTS "ut1-folder/urls"};
	expect_files(files, n, self, 1);
	assert_int_equal(d.n, 0);
	cg_listfile_expand_free(files, n);

	/* The folder's list loads like the file. */
	struct loaded l;
	load_file(&l, want[0], FD, 0);
	assert_int_equal(l.st.entries, 120);
	expect_match(l.set, "www.1084bets10.com", 0, 109, 4);
	unload(&l);
}

static void make_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_expand_rules(void **state)
{
	(void)state;
	char dir[] = "/tmp/cg_test_expand_XXXXXX";
	assert_non_null(mkdtemp(dir));
	static const char *const names[] = {
	    "b.list",	 "a.txt",     "c.hosts", "d.domains",	"domains",
	    "domains.1", "domains.0", "urls",	 "usage",	".hidden.txt",
	    "README",	 "domains.x", "x.txt~",	 "expressions",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
		make_file(dir, names[i], "example.com\n");
	char sub[64], link[64], fifo[64];
	snprintf(sub, sizeof(sub), "%s/sub.txt", dir); /* a folder */
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(link, sizeof(link), "%s/link.txt", dir);
	assert_int_equal(symlink("a.txt", link), 0);
	snprintf(fifo, sizeof(fifo), "%s/pipe.list", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);

	struct cg_diag d = {0};
	char **files;
	size_t n;
	assert_int_equal(cg_listfile_expand(dir, &files, &n, &d), 0);
	static const char *const want[] = {
	    "a.txt",   "b.list",    "c.hosts",	 "d.domains",
	    "domains", "domains.0", "domains.1", "link.txt",
	};
	assert_int_equal(n, sizeof(want) / sizeof(*want));
	for (size_t i = 0; i < n; i++) {
		char p[128];
		snprintf(p, sizeof(p), "%s/%s", dir, want[i]);
		assert_string_equal(files[i], p);
	}
	assert_int_equal(d.n, 1);
	assert_string_equal(d.v[0].msg,
			    "skipped 9 entries that are not domain lists: "
			    ".hidden.txt, README, domains.x, expressions, "
			    "pipe.list, sub.txt, urls, usage, x.txt~");
	cg_listfile_expand_free(files, n);
	cg_diag_clear(&d);

	/* Nothing but non-lists: an error, and the result stays empty. */
	char dir2[] = "/tmp/cg_test_expand_XXXXXX";
	assert_non_null(mkdtemp(dir2));
	make_file(dir2, "urls", "example.com/ads\n");
	files = (char **)&d; /* overwritten on any outcome */
	assert_int_equal(cg_listfile_expand(dir2, &files, &n, &d), -1);
	assert_null(files);
	assert_int_equal(n, 0);
	assert_int_equal(d.errors, 1);
	assert_non_null(strstr(d.v[d.n - 1].msg, "folder has no list files"));
	cg_diag_clear(&d);

	/* Missing, and neither file nor folder. */
	assert_int_equal(
	    cg_listfile_expand("/nonexistent/cg-lists", &files, &n, &d), -1);
	assert_string_equal(d.v[0].msg,
			    "cannot open list: No such file or directory");
	cg_diag_clear(&d);
	assert_int_equal(cg_listfile_expand("/dev/null", &files, &n, &d), -1);
	assert_string_equal(d.v[0].msg,
			    "cannot open list: not a regular file or folder");
	cg_diag_clear(&d);

	/* An empty folder. */
	unlink(CG_TEST_DATA "/nonexistent");
	char p[128];
	snprintf(p, sizeof(p), "%s/urls", dir2);
	unlink(p);
	assert_int_equal(cg_listfile_expand(dir2, &files, &n, &d), -1);
	assert_int_equal(d.n, 1);
	cg_diag_clear(&d);
	rmdir(dir2);

	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		unlink(p);
	}
	unlink(link);
	unlink(fifo);
	rmdir(sub);
	rmdir(dir);
}

/* ---- real lists ----------------------------------------------------- */

/*
 * Expected figures were counted with grep/awk on the copies (see the
 * README in tests/data/lists), not with this parser.
 */
static const struct real {
	const char *file;
	int fmt;
	size_t lines, entries, dups;
	size_t skip[CG_SKIP__COUNT]; /* BAD IP EXC COSM URL WRONG TOOLNG */
} reals[] = {
    /* domains with "name   #comment" lines */
    {"shadowwhisperer-Shock.txt", FA, 112, 98, 0, {0}},
    {"shadowwhisperer-Shock.txt", FD, 112, 98, 0, {0}},
    /* hosts, 0.0.0.0 and 127.0.0.1 */
    {"sinfonietta-gambling-hosts", FH, 2642, 2642, 0, {0}},
    {"sinfonietta-snuff-hosts", FH, 25, 23, 0, {0}},
    /* upper case, a glued entry on line 1, three addresses as names */
    {"sinfonietta-pornography-hosts.head1120",
     FH,
     1120,
     1117,
     0,
     {0, 3, 0, 0, 0, 0, 0}},
    /* AdGuard ||name^, one with a " # comment" inside */
    {"blocklistproject-gambling-ags.txt", FB, 2515, 2500, 0, {0}},
    /* one list, four formats */
    {"blocklistproject-torrent.txt", FH, 2633, 2620, 0, {0}},
    {"blocklistproject-torrent-nl.txt", FD, 2633, 2620, 0, {0}},
    {"blocklistproject-torrent-ags.txt", FB, 2633, 2620, 0, {0}},
    {"blocklistproject-torrent-dnsmasq.txt", FD, 2633, 2620, 0, {0}},
    {"blocklistproject-torrent-dnsmasq.txt", FA, 2633, 2620, 0, {0}},
    {"blocklistproject-torrent-dnsmasq.txt",
     FH,
     2633,
     0,
     0,
     {0, 0, 0, 0, 0, 2620, 0}},
    /* *.name */
    {"hagezi-wildcard_doh-vpn-proxy-bypass.txt", FD, 726, 714, 0, {0}},
    /* ABP: addresses, paths, regexes, @@, options; in auto mode two
     * substring rules ("-coin-hive.js") pass as names */
    {"nocoin.txt", FA, 358, 192, 1, {0, 7, 8, 0, 109, 0, 0}},
    {"nocoin.txt", FB, 358, 190, 1, {0, 7, 8, 0, 109, 2, 0}},
    /* uBlock scriptlets only */
    {"nocoin-ublock.txt", FA, 11, 0, 0, {0, 0, 0, 8, 0, 0, 0}},
    /* ABP with ## element hiding */
    {"spam404-adblock-list.txt", FB, 7277, 7113, 0, {0, 0, 0, 138, 0, 0, 0}},
    {"spam404-adblock-list.txt", FA, 7277, 7113, 0, {0, 0, 0, 138, 0, 0, 0}},
    /* UT1 with IPv4 literals */
    {"ut1-doh.domains", FD, 3015, 2996, 0, {0, 19, 0, 0, 0, 0, 0}},
    {"ut1-gambling.domains.head200", FD, 200, 200, 0, {0}},
};

static void test_real_lists(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(reals) / sizeof(*reals); i++) {
		const struct real *r = &reals[i];
		char path[512];
		snprintf(path, sizeof(path), "%s%s", LISTS, r->file);
		struct loaded l;
		load_file(&l, path, (enum cg_list_format)r->fmt, 0);
		size_t skipped = 0;
		for (int k = 0; k < CG_SKIP__COUNT; k++)
			skipped += r->skip[k];
		bool ok =
		    l.rc == 0 && l.st.lines == r->lines &&
		    l.st.entries == r->entries && l.st.duplicates == r->dups &&
		    l.st.skipped == skipped &&
		    !memcmp(l.st.skipped_by, r->skip, sizeof(r->skip)) &&
		    cg_domainset_count(l.set) == r->entries && l.d.errors == 0;
		if (!ok) {
			cg_diag_print(&l.d, stderr);
			fail_msg(
			    "%s (%s): rc %d, lines %zu, entries %zu, "
			    "dups %zu, skipped %zu [%zu %zu %zu %zu %zu "
			    "%zu %zu]",
			    r->file,
			    cg_list_format_name((enum cg_list_format)r->fmt),
			    l.rc, l.st.lines, l.st.entries, l.st.duplicates,
			    l.st.skipped, l.st.skipped_by[0],
			    l.st.skipped_by[1], l.st.skipped_by[2],
			    l.st.skipped_by[3], l.st.skipped_by[4],
			    l.st.skipped_by[5], l.st.skipped_by[6]);
		}
		/* Reports: up to the report limit plus one summary. */
		size_t want = skipped ? (skipped < CG_LISTFILE_REPORT_MAX
					     ? skipped
					     : CG_LISTFILE_REPORT_MAX) +
					    1
				      : 0;
		assert_int_equal(l.d.n, want);
		unload(&l);
	}
}

/* The same list in hosts, domains, AdBlock and dnsmasq form is one set. */
static void test_real_same_list_four_formats(void **state)
{
	(void)state;
	static const char *const files[] = {
	    "blocklistproject-torrent.txt",
	    "blocklistproject-torrent-nl.txt",
	    "blocklistproject-torrent-ags.txt",
	    "blocklistproject-torrent-dnsmasq.txt",
	};
	struct cg_domainset_builder *bld = cg_domainset_builder_new();
	struct cg_domainset_builder *b[CG_DIGEST__COUNT] = {bld};
	struct cg_diag d = {0};
	for (uint16_t i = 0; i < 4; i++) {
		struct cg_listfile_stats st;
		char path[512];
		snprintf(path, sizeof(path), "%s%s", LISTS, files[i]);
		assert_int_equal(cg_listfile_load(path, FA, b, i, &d, &st), 0);
		assert_int_equal(st.entries, i ? 0 : 2620);
		assert_int_equal(st.duplicates, i ? 2620 : 0);
	}
	assert_int_equal(d.n, 0);
	struct cg_error err;
	struct cg_domainset *s = cg_domainset_build(bld, &err);
	assert_int_equal(cg_domainset_count(s), 2620);
	cg_domainset_free(s);
	cg_diag_clear(&d);
}

static void test_real_reports(void **state)
{
	(void)state;
	struct loaded l;
	load_file(&l, LISTS "nocoin.txt", FA, 0);
	assert_int_equal(l.d.v[0].line, 13);
	assert_string_equal(l.d.v[0].msg,
			    "skipped: IP address, not a domain name: "
			    "||23.83.114.131^$third-party");
	const struct cg_diag_entry *sum = &l.d.v[l.d.n - 1];
	char want[256];
	snprintf(want, sizeof(want), "skipped 124 lines (7 %s, 8 %s, 109 %s)",
		 cg_list_skip_str(IP), cg_list_skip_str(EXC),
		 cg_list_skip_str(URL));
	assert_string_equal(sum->msg, want);
	assert_string_equal(sum->file, LISTS "nocoin.txt");
	/* Options are ignored; the first of two rules for a name wins. */
	expect_match(l.set, "go.megabanners.cf", 0, 99, 0);
	expect_match(l.set, "x.webmine.cz", 0, 181, 2);
	expect_match(l.set, "cryptobara.com", 0, 77, 0);
	expect_miss(l.set, "sleeptimer.org"); /* only in a path rule */
	expect_miss(l.set, "shrink-service.it");
	unload(&l);
}

/*
 * Names seen in the project's pcaps and the lists they hit, from
 * /work/shared/data/blocklists/pcap-host-matches.txt (generated by the
 * data team, not by this parser).
 */
static void test_real_pcap_names(void **state)
{
	(void)state;
	struct loaded l;
	load_file(&l, LISTS "ut1-gambling.domains.head200", FD, 1);
	/* bets.pcapng: www.1084bets10.com -> ut1/gambling, parent */
	expect_match(l.set, "www.1084bets10.com", 1, 109, 4);
	expect_miss(l.set, "www.example.com");
	unload(&l);

	load_file(&l, LISTS "ut1-doh.domains", FD, 2);
	/* dnscrypt-v2-doh.pcap resolvers -> ut1/doh */
	expect_match(l.set, "dns.cloudflare.com", 2, 904, 0);
	expect_match(l.set, "dns.nextdns.io", 2, 2343, 4);
	expect_match(l.set, "dns10.quad9.net", 2, 2564, 6);
	expect_match(l.set, "doh.crypto.sx", 2, 645, 4);
	expect_match(l.set, "_214214214.xyz", 2, 62, 0);
	/* listed with no match at all */
	expect_miss(l.set, "www.google.com");
	expect_miss(l.set, "upload.wikimedia.org");
	unload(&l);

	load_file(&l, LISTS "hagezi-wildcard_doh-vpn-proxy-bypass.txt", FD, 0);
	expect_match(l.set, "dns.cloudflare.com", 0, 135, 0);
	expect_match(l.set, "a.dns.cloudflare.com", 0, 135, 2);
	expect_miss(l.set, "cloudflare.com");
	unload(&l);

	load_file(&l, LISTS "shadowwhisperer-Shock.txt", FA, 0);
	expect_match(l.set, "www.bestgore.com", 0, 14, 4);
	expect_match(l.set, "kekma.net", 0, 25, 0);
	expect_miss(l.set, "notbestgore.com");
	unload(&l);

	load_file(&l, LISTS "sinfonietta-pornography-hosts.head1120", FH, 0);
	expect_match(l.set, "ehentai.to", 0, 1116, 0);
	expect_match(l.set, "rahaporn.commanhwax.top", 0, 1, 0);
	expect_miss(l.set, "rahaporn.com");
	unload(&l);

	load_file(&l, LISTS "blocklistproject-gambling-ags.txt", FB, 0);
	expect_match(l.set, "casinobitco.in", 0, 496, 0);
	expect_match(l.set, "www.casinobitco.in", 0, 497, 0);
	unload(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_load_missing),
	    cmocka_unit_test(test_load_nul),
	    cmocka_unit_test(test_load_crlf_bom_no_final_newline),
	    cmocka_unit_test(test_load_reports),
	    cmocka_unit_test(test_load_huge_line),
	    cmocka_unit_test(test_load_duplicates_across_files),
	    cmocka_unit_test(test_load_source_limit),
	    cmocka_unit_test(test_load_line_limit),
	    cmocka_unit_test(test_load_digests),
	    cmocka_unit_test(test_expand_ut1_folder),
	    cmocka_unit_test(test_expand_rules),
	    cmocka_unit_test(test_real_lists),
	    cmocka_unit_test(test_real_same_list_four_formats),
	    cmocka_unit_test(test_real_reports),
	    cmocka_unit_test(test_real_pcap_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
