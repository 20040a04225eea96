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
	struct cg_domainset *set;
	int rc;
};

static void load_file(struct loaded *l, const char *path,
		      enum cg_list_format fmt, uint16_t source)
{
	memset(l, 0, sizeof(*l));
	struct cg_domainset_builder *b = cg_domainset_builder_new();
	assert_non_null(b);
	l->rc = cg_listfile_load(path, fmt, b, source, &l->d, &l->st);
	struct cg_error err;
	l->set = cg_domainset_build(b, &err);
	assert_non_null(l->set);
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
	cg_domainset_free(l->set);
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
	/* The first CG_LISTFILE_REPORT_MAX, then the summary. */
	assert_int_equal(l.d.errors, 0);
	assert_int_equal(l.d.warnings, CG_LISTFILE_REPORT_MAX + 1);
	assert_int_equal(l.d.v[0].sev, CG_SEV_WARNING);
	assert_int_equal(l.d.v[0].line, 1);
	assert_string_equal(l.d.v[0].msg, "skipped: IP address, not a domain "
					  "name: 10.0.0.1");
	assert_int_equal(l.d.v[9].line, 10);
	const struct cg_diag_entry *sum = &l.d.v[CG_LISTFILE_REPORT_MAX];
	assert_int_equal(sum->line, 0);
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
	struct cg_diag d = {0};
	struct cg_listfile_stats st;
	assert_int_equal(cg_listfile_load(t1.path, FA, bld, 0, &d, &st), 0);
	assert_int_equal(st.entries, 2);
	assert_int_equal(st.duplicates, 0);
	assert_int_equal(cg_listfile_load(t2.path, FA, bld, 1, &d, &st), 0);
	assert_int_equal(st.lines, 3);
	assert_int_equal(st.entries, 1);
	assert_int_equal(st.duplicates, 2);
	/* stats may be NULL */
	assert_int_equal(cg_listfile_load(t2.path, FA, bld, 2, &d, NULL), 0);
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
		/* Warnings: up to the report limit plus one summary. */
		size_t want = skipped ? (skipped < CG_LISTFILE_REPORT_MAX
					     ? skipped
					     : CG_LISTFILE_REPORT_MAX) +
					    1
				      : 0;
		assert_int_equal(l.d.warnings, want);
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
	struct cg_domainset_builder *b = cg_domainset_builder_new();
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
	struct cg_domainset *s = cg_domainset_build(b, &err);
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
	    cmocka_unit_test(test_real_lists),
	    cmocka_unit_test(test_real_same_list_four_formats),
	    cmocka_unit_test(test_real_reports),
	    cmocka_unit_test(test_real_pcap_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
