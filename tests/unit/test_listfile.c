/*
 * listfile: every per-line form and skip reason as a table, the loader's
 * reporting and limits on generated files, and real lists from
 * tests/data/lists (see its README) with counts checked independently
 * with grep/awk when the files were copied.
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

#define LISTS CG_TEST_DATA "/lists/"

/* ---- parse_line ----------------------------------------------------- */

struct collect {
	char names[512];
	size_t n;
	size_t fail_at; /* return -1 on this call (1-based), 0: never */
};

static int collect_fn(void *ctx, const char *canon, size_t len)
{
	struct collect *c = ctx;
	assert_int_equal(strlen(canon), len);
	if (++c->n == c->fail_at)
		return -1;
	size_t o = strlen(c->names);
	snprintf(c->names + o, sizeof(c->names) - o, "%s%s", o ? " " : "",
		 canon);
	return 0;
}

#define FA     CG_LIST_AUTO
#define FH     CG_LIST_HOSTS
#define FD     CG_LIST_DOMAINS
#define FB     CG_LIST_ADBLOCK
#define EMPTY  CG_LINE_EMPTY
#define ENTRY  CG_LINE_ENTRY
#define SKIP   CG_LINE_SKIPPED
#define NONE   CG_SKIP__COUNT
#define BAD    CG_SKIP_BAD_NAME
#define IP     CG_SKIP_IP_LITERAL
#define EXC    CG_SKIP_EXCEPTION
#define COSM   CG_SKIP_COSMETIC
#define URL    CG_SKIP_URL_RULE
#define WRONG  CG_SKIP_WRONG_FORMAT
#define TOOLNG CG_SKIP_TOO_LONG

static const struct pcase {
	const char *what;
	const char *line;
	int fmt;
	enum cg_list_line res;
	enum cg_list_skip why;
	const char *names;
} cases[] = {
    /* blank lines, comments, headers */
    {"empty", "", FA, EMPTY, NONE, ""},
    {"blanks", " \t \t", FA, EMPTY, NONE, ""},
    {"CR only", "\r", FA, EMPTY, NONE, ""},
    {"hash comment", "# Title: Snuff hosts", FA, EMPTY, NONE, ""},
    {"glued hash comment", "#Snapchat", FA, EMPTY, NONE, ""},
    {"indented comment", "   # x", FA, EMPTY, NONE, ""},
    {"bang comment", "! Title: NoCoin", FA, EMPTY, NONE, ""},
    {"uBlock directive", "!#include nocoin-ublock.txt", FA, EMPTY, NONE, ""},
    {"ABP header", "[Adblock Plus 2.0]", FA, EMPTY, NONE, ""},
    {"uBlock header", "[uBlock Origin]", FA, EMPTY, NONE, ""},
    {"banner", "#=======================", FA, EMPTY, NONE, ""},
    {"hash banner", "##########", FA, EMPTY, NONE, ""},
    {"double-hash title", "## Section", FA, EMPTY, NONE, ""},
    {"bare tag after ## reads as comment", "##div", FA, EMPTY, NONE, ""},
    {"comment in hosts format", "# x", FH, EMPTY, NONE, ""},
    {"comment in adblock format", "# x", FB, EMPTY, NONE, ""},

    /* hosts */
    {"hosts 0.0.0.0", "0.0.0.0 10bet.com", FA, ENTRY, NONE, "10bet.com"},
    {"hosts 127.0.0.1 tab", "127.0.0.1\tbestgore.com", FA, ENTRY, NONE,
     "bestgore.com"},
    {"hosts several names", "0.0.0.0 a.example  b.example\tc.example", FA,
     ENTRY, NONE, "a.example b.example c.example"},
    {"hosts IPv6", "::1 localhost ip6-localhost", FA, ENTRY, NONE,
     "localhost ip6-localhost"},
    {"hosts any address", "192.168.1.10 printer.lan # office", FA, ENTRY, NONE,
     "printer.lan"},
    {"hosts zone", "fe80::1%lo0 link.example", FA, ENTRY, NONE, "link.example"},
    {"hosts upper case", "0.0.0.0 Ehentai.to", FA, ENTRY, NONE, "ehentai.to"},
    {"hosts CRLF", "0.0.0.0 example.com\r", FA, ENTRY, NONE, "example.com"},
    {"hosts trailing dot", "0.0.0.0 example.com.", FA, ENTRY, NONE,
     "example.com"},
    {"hosts glued entry is one name", "0.0.0.0 rahaporn.commanhwax.top", FA,
     ENTRY, NONE, "rahaporn.commanhwax.top"},
    {"hosts address as name", "0.0.0.0 0.0.0.0", FA, SKIP, IP, ""},
    {"hosts address only", "0.0.0.0", FA, SKIP, IP, ""},
    {"hosts one bad name skips the line", "0.0.0.0 good.example bad!.example",
     FA, SKIP, BAD, ""},
    {"hosts URL", "0.0.0.0 example.com/ads", FA, SKIP, URL, ""},
    {"name then address", "example.com 0.0.0.0", FA, SKIP, BAD, ""},
    {"words", "not a list", FA, SKIP, BAD, ""},
    {"URL then words", "http://x.com/ y", FA, SKIP, URL, ""},

    /* plain domains */
    {"domain", "example.com", FA, ENTRY, NONE, "example.com"},
    {"domain case, dot", "Example.COM.", FA, ENTRY, NONE, "example.com"},
    {"domain TLD only", "zip", FA, ENTRY, NONE, "zip"},
    {"domain punycode", "xn--mnich-kva.com", FA, ENTRY, NONE,
     "xn--mnich-kva.com"},
    {"domain underscore", "_214214214.xyz", FA, ENTRY, NONE, "_214214214.xyz"},
    {"domain inline comment", "bestgore.com                #Gore", FA, ENTRY,
     NONE, "bestgore.com"},
    {"domain inline comment with text",
     "kekma.net   #Gore (Forces Full Screen / Doesn't want you to leave)", FA,
     ENTRY, NONE, "kekma.net"},
    {"domain tab comment", "a.example\t# x", FA, ENTRY, NONE, "a.example"},
    {"domain IPv4", "85.17.187.83", FA, SKIP, IP, ""},
    {"domain IPv6", "2001:db8::1", FA, SKIP, IP, ""},
    {"domain with port", "example.com:8080", FA, SKIP, BAD, ""},
    {"one colon is no address", "a:b example.com", FA, SKIP, BAD, ""},
    {"domain UTF-8", "m\xc3\xbcnchen.de", FA, SKIP, BAD, ""},
    {"domain empty label", "a..example", FA, SKIP, BAD, ""},
    {"domain leading dot", ".example.com", FA, SKIP, BAD, ""},
    {"domain label > 63",
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com", FA,
     SKIP, BAD, ""},
    {"domain glued hash", "example.com#anchor", FA, SKIP, BAD, ""},
    {"domain URL", "http://example.com/", FA, SKIP, URL, ""},
    {"domain path", "example.com/ads", FA, SKIP, URL, ""},
    {"wildcard inside", "ads.*.example.com", FA, SKIP, URL, ""},
    {"wildcard glued", "*example.com", FA, SKIP, URL, ""},
    {"domain query", ".aspx?poolid=", FA, SKIP, URL, ""},

    /* wildcard */
    {"wildcard", "*.012proxy.ga", FA, ENTRY, NONE, "012proxy.ga"},
    {"wildcard upper", "*.Proxy.Example", FA, ENTRY, NONE, "proxy.example"},
    {"wildcard empty", "*.", FA, SKIP, BAD, ""},
    {"wildcard twice", "*.*.x.com", FA, SKIP, URL, ""},
    {"wildcard address", "*.1.2.3.4", FA, SKIP, IP, ""},
    {"wildcard then words", "*.x.com y", FA, SKIP, BAD, ""},

    /* dnsmasq */
    {"dnsmasq server", "server=/0.arenabg.com/", FA, ENTRY, NONE,
     "0.arenabg.com"},
    {"dnsmasq address", "address=/ads.example/0.0.0.0", FA, ENTRY, NONE,
     "ads.example"},
    {"dnsmasq several", "address=/a.example/B.example/::", FA, ENTRY, NONE,
     "a.example b.example"},
    {"dnsmasq local", "local=/tracker.example/", FA, ENTRY, NONE,
     "tracker.example"},
    {"dnsmasq upstream port", "server=/x.example/1.1.1.1#53", FA, ENTRY, NONE,
     "x.example"},
    {"dnsmasq unterminated", "server=/x.example", FA, SKIP, BAD, ""},
    {"dnsmasq no name", "server=//1.1.1.1", FA, SKIP, BAD, ""},
    {"dnsmasq any name", "address=/#/0.0.0.0", FA, SKIP, BAD, ""},
    {"dnsmasq empty field", "server=/a.example//", FA, SKIP, BAD, ""},
    {"dnsmasq address as name", "server=/1.2.3.4/", FA, SKIP, IP, ""},
    {"dnsmasq wildcard", "server=/*.x.example/", FA, SKIP, URL, ""},

    /* AdBlock network rules */
    {"abp", "||borgataonline.com^", FA, ENTRY, NONE, "borgataonline.com"},
    {"abp options", "||2miners.com^$third-party", FA, ENTRY, NONE,
     "2miners.com"},
    {"abp domain option", "||authedwebmine.cz^$third-party,domain=~webmine.cz",
     FA, ENTRY, NONE, "authedwebmine.cz"},
    {"abp no separator, options", "||coinimp.com$third-party", FA, ENTRY, NONE,
     "coinimp.com"},
    {"abp bare", "||freecontent.date", FA, ENTRY, NONE, "freecontent.date"},
    {"abp end anchor", "||Example.COM^|", FA, ENTRY, NONE, "example.com"},
    {"abp inline comment", "||casinobitco.in # sportsbook^", FA, ENTRY, NONE,
     "casinobitco.in"},
    {"abp address", "||23.83.114.131^$third-party", FA, SKIP, IP, ""},
    {"abp path", "||cryptobara.com/client/worker.js", FA, SKIP, URL, ""},
    {"abp separator then more", "||dekoder.ws^*?proxy=", FA, SKIP, URL, ""},
    {"abp wildcard in name", "||minero-proxy-*.now.sh^$third-party", FA, SKIP,
     URL, ""},
    {"abp wildcard TLD", "||uptostream.*/assets/$subdocument", FA, SKIP, URL,
     ""},
    {"abp port", "||x.example:8080^", FA, SKIP, URL, ""},
    {"abp empty", "||^", FA, SKIP, BAD, ""},
    {"abp space", "||exa mple.com^", FA, SKIP, BAD, ""},
    {"abp anchored URL", "|http://example.com/", FA, SKIP, URL, ""},
    {"abp anchored https", "|https://x.com^", FA, SKIP, URL, ""},
    {"abp regex", "/^https?:\\/\\/ads\\./$script", FA, SKIP, URL, ""},
    {"abp path rule", "/miner.js", FA, SKIP, URL, ""},
    {"abp substring rule", "-crypto-miner/*", FA, SKIP, URL, ""},
    {"abp separator rule", ".info^$domain=sleeptimer.org", FA, SKIP, URL, ""},
    {"abp options only", "$websocket,domain=a.com|b.com", FA, SKIP, URL, ""},
    {"abp exception", "@@||api.nyda.pro^$websocket", FA, SKIP, EXC, ""},
    {"abp exception path", "@@||lags.win/ctf$websocket", FA, SKIP, EXC, ""},

    /* cosmetic and scriptlet rules */
    {"generic hiding", "##[href^=\"http://cleanfiles.net/\"]", FA, SKIP, COSM,
     ""},
    {"generic id", "###login", FA, SKIP, COSM, ""},
    {"generic class", "##.ad-banner", FA, SKIP, COSM, ""},
    {"site id", "hepimovie.net###login", FA, SKIP, COSM, ""},
    {"site attribute", "dream-file.com##[alt=\"Regular Download\"]", FA, SKIP,
     COSM, ""},
    {"site exception", "example.com#@#.ad", FA, SKIP, COSM, ""},
    {"generic exception", "#@#.ad", FA, SKIP, COSM, ""},
    {"extended css", "example.com#?#div:has(> a)", FA, SKIP, COSM, ""},
    {"generic extended", "#?#.ad", FA, SKIP, COSM, ""},
    {"css injection", "example.com#$#body { color: red }", FA, SKIP, COSM, ""},
    {"adguard scriptlet", "example.com#%#//scriptlet('abort')", FA, SKIP, COSM,
     ""},
    {"uBlock scriptlet", "csgoconfigs.com##+js(acis, m, CH.Anonymous)", FA,
     SKIP, COSM, ""},
    {"uBlock scriptlet wildcard", "thepiratebay.*##+js(aopr, _wm)", FA, SKIP,
     COSM, ""},
    {"generic scriptlet", "##+js(nobab)", FA, SKIP, COSM, ""},
    {"cosmetic in hosts format", "x.com##.ad", FH, SKIP, COSM, ""},

    /* a declared format takes only its own entries */
    {"hosts: hosts", "0.0.0.0 x.com", FH, ENTRY, NONE, "x.com"},
    {"hosts: domain", "x.com", FH, SKIP, WRONG, ""},
    {"hosts: abp", "||x.com^", FH, SKIP, WRONG, ""},
    {"hosts: wildcard", "*.x.com", FH, SKIP, WRONG, ""},
    {"hosts: dnsmasq", "server=/x.com/", FH, SKIP, WRONG, ""},
    {"hosts: bare address", "1.2.3.4", FH, SKIP, IP, ""},
    {"hosts: exception", "@@||x.com^", FH, SKIP, EXC, ""},
    {"domains: domain", "x.com", FD, ENTRY, NONE, "x.com"},
    {"domains: wildcard", "*.x.com", FD, ENTRY, NONE, "x.com"},
    {"domains: dnsmasq", "server=/x.com/", FD, ENTRY, NONE, "x.com"},
    {"domains: hosts", "0.0.0.0 x.com", FD, SKIP, WRONG, ""},
    {"domains: abp", "||x.com^", FD, SKIP, WRONG, ""},
    {"domains: bad hosts line", "0.0.0.0 x.com/y", FD, SKIP, URL, ""},
    {"adblock: abp", "||x.com^$third-party", FB, ENTRY, NONE, "x.com"},
    {"adblock: domain", "x.com", FB, SKIP, WRONG, ""},
    {"adblock: substring rule", "-coin-hive.js", FB, SKIP, WRONG, ""},
    {"adblock: hosts", "0.0.0.0 x.com", FB, SKIP, WRONG, ""},
    {"adblock: wildcard", "*.x.com", FB, SKIP, WRONG, ""},
    {"adblock: dnsmasq", "server=/x.com/", FB, SKIP, WRONG, ""},
    {"adblock: cosmetic", "##.ad", FB, SKIP, COSM, ""},
    {"adblock: URL", "||x.com/ads", FB, SKIP, URL, ""},
};

static void test_parse_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		const struct pcase *c = &cases[i];
		struct collect col = {.names = "", .n = 0};
		enum cg_list_skip why = NONE;
		enum cg_list_line r = cg_listfile_parse_line(
		    c->line, strlen(c->line), (enum cg_list_format)c->fmt,
		    collect_fn, &col, &why);
		if (r != c->res || (r == SKIP && why != c->why) ||
		    strcmp(col.names, c->names))
			fail_msg(
			    "%s: \"%s\" (%s): got %d/%s \"%s\", want "
			    "%d/%s \"%s\"",
			    c->what, c->line,
			    cg_list_format_name((enum cg_list_format)c->fmt), r,
			    r == SKIP ? cg_list_skip_str(why) : "-", col.names,
			    c->res,
			    c->res == SKIP ? cg_list_skip_str(c->why) : "-",
			    c->names);
	}
}

static void test_parse_bounds(void **state)
{
	(void)state;
	struct collect col = {.names = ""};
	/* Only len bytes count: no NUL needed, nothing read beyond. */
	const char *s = "example.com.evil";
	assert_int_equal(
	    cg_listfile_parse_line(s, 11, FA, collect_fn, &col, NULL), ENTRY);
	assert_string_equal(col.names, "example.com");

	/* Too long: a name, a comment, anything. */
	size_t n = 5000;
	char *big = malloc(n);
	assert_non_null(big);
	memset(big, 'a', n);
	enum cg_list_skip why = NONE;
	assert_int_equal(
	    cg_listfile_parse_line(big, n, FA, collect_fn, &col, &why), SKIP);
	assert_int_equal(why, TOOLNG);
	big[0] = '#';
	assert_int_equal(
	    cg_listfile_parse_line(big, n, FA, collect_fn, &col, &why), SKIP);
	assert_int_equal(why, TOOLNG);
	/* CG_LISTFILE_LINE_MAX bytes is still a line (a long comment). */
	assert_int_equal(cg_listfile_parse_line(big, CG_LISTFILE_LINE_MAX, FA,
						collect_fn, &col, &why),
			 EMPTY);
	free(big);
}

static void test_parse_abort(void **state)
{
	(void)state;
	const char *l = "0.0.0.0 a.example b.example c.example";
	struct collect col = {.names = "", .fail_at = 2};
	assert_int_equal(
	    cg_listfile_parse_line(l, strlen(l), FA, collect_fn, &col, NULL),
	    CG_LINE_ABORTED);
	assert_string_equal(col.names, "a.example");
	struct collect one = {.names = "", .fail_at = 1};
	assert_int_equal(
	    cg_listfile_parse_line("||x.com^", 8, FA, collect_fn, &one, NULL),
	    CG_LINE_ABORTED);
}

static void test_format_names(void **state)
{
	(void)state;
	static const char *const names[] = {"auto", "hosts", "domains",
					    "adblock"};
	for (int i = 0; i < 4; i++) {
		enum cg_list_format f = CG_LIST_ADBLOCK;
		assert_int_equal(cg_list_format_parse(names[i], &f), 0);
		assert_int_equal(f, i);
		assert_string_equal(cg_list_format_name(f), names[i]);
	}
	enum cg_list_format f;
	assert_int_equal(cg_list_format_parse("Hosts", &f), -1);
	assert_int_equal(cg_list_format_parse("", &f), -1);
	assert_int_equal(cg_list_format_parse("dnsmasq", &f), -1);
	assert_string_equal(cg_list_format_name((enum cg_list_format)9), "?");
	for (int k = 0; k < CG_SKIP__COUNT; k++) {
		const char *s = cg_list_skip_str((enum cg_list_skip)k);
		assert_true(s[0] && strcmp(s, "?"));
	}
}

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
	    cmocka_unit_test(test_parse_cases),
	    cmocka_unit_test(test_parse_bounds),
	    cmocka_unit_test(test_parse_abort),
	    cmocka_unit_test(test_format_names),
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
