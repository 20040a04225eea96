/*
 * listfile: every per-line form and skip reason as a table, line bounds
 * and format names.  Loading whole files (generated and the real lists
 * of tests/data/lists) is in test_listfile_load.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cafeguard/listfile.h"
#include "listfile_testutil.h"

/* ---- parse_line ----------------------------------------------------- */

struct collect {
	char names[512];
	size_t n;
	size_t fail_at;	 /* return -1 on this call (1-based), 0: never */
	unsigned refuse; /* return 1 for kinds with this bit set */
};

/* Names as they are, digests as "kind:hex". */
static int collect_fn(void *ctx, enum cg_digest kind, const char *text,
		      size_t len)
{
	struct collect *c = ctx;
	assert_int_equal(strlen(text), len);
	assert_true(kind < CG_DIGEST__COUNT);
	if (kind != CG_DIGEST_NONE)
		assert_int_equal(len, 2 * cg_digest_size(kind));
	if (++c->n == c->fail_at)
		return -1;
	if (c->refuse >> kind & 1)
		return 1;
	size_t o = strlen(c->names);
	snprintf(c->names + o, sizeof(c->names) - o, "%s%s%s%s", o ? " " : "",
		 kind ? cg_digest_name(kind) : "", kind ? ":" : "", text);
	return 0;
}

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

    /* digests of canonical names: md5/sha1/sha256("example.com"), from
     * `printf example.com | openssl dgst -md5` etc. */
    {"md5", "5ababd603b22780302dd8d83498e5172", FA, ENTRY, NONE,
     "md5:5ababd603b22780302dd8d83498e5172"},
    {"sha1", "0caaf24ab1a0c33440c06afe99df986365b0781f", FA, ENTRY, NONE,
     "sha1:0caaf24ab1a0c33440c06afe99df986365b0781f"},
    {"sha256",
     "a379a6f6eeafb9a55e378c118034e2751e682fab9f2d30ab13d2125586ce1947", FA,
     ENTRY, NONE,
     "sha256:a379a6f6eeafb9a55e378c118034e2751e682fab9f2d30ab13d2125586ce1947"},
    {"md5 upper case", "5ABABD603B22780302DD8D83498E5172", FA, ENTRY, NONE,
     "md5:5ababd603b22780302dd8d83498e5172"},
    {"md5 comment, blanks", "  5ababd603b22780302dd8d83498e5172   # x", FA,
     ENTRY, NONE, "md5:5ababd603b22780302dd8d83498e5172"},
    {"md5 CRLF", "5ababd603b22780302dd8d83498e5172\r", FA, ENTRY, NONE,
     "md5:5ababd603b22780302dd8d83498e5172"},
    {"31 hex digits is a name", "5ababd603b22780302dd8d83498e517", FA, ENTRY,
     NONE, "5ababd603b22780302dd8d83498e517"},
    {"33 hex digits is a name", "5ababd603b22780302dd8d83498e51720", FA, ENTRY,
     NONE, "5ababd603b22780302dd8d83498e51720"},
    {"65 hex digits: label too long",
     "a379a6f6eeafb9a55e378c118034e2751e682fab9f2d30ab13d2125586ce19470", FA,
     SKIP, BAD, ""},
    {"32 chars, one not hex, is a name", "5ababd603b22780302dd8d83498e517g", FA,
     ENTRY, NONE, "5ababd603b22780302dd8d83498e517g"},
    {"digest then words", "5ababd603b22780302dd8d83498e5172 x", FA, SKIP, BAD,
     ""},
    {"digest in a hosts line is a name",
     "0.0.0.0 5ababd603b22780302dd8d83498e5172", FA, ENTRY, NONE,
     "5ababd603b22780302dd8d83498e5172"},
    {"hashed: md5", "5ababd603b22780302dd8d83498e5172", FX, ENTRY, NONE,
     "md5:5ababd603b22780302dd8d83498e5172"},
    {"hashed: domain", "x.com", FX, SKIP, WRONG, ""},
    {"hashed: hosts", "0.0.0.0 x.com", FX, SKIP, WRONG, ""},
    {"hashed: abp", "||x.com^", FX, SKIP, WRONG, ""},
    {"hashed: dnsmasq", "server=/x.com/", FX, SKIP, WRONG, ""},
    {"hashed: comment", "# sha256 of names", FX, EMPTY, NONE, ""},
    {"hashed: bad line", "not hex at all", FX, SKIP, BAD, ""},
    {"hosts: md5", "5ababd603b22780302dd8d83498e5172", FH, SKIP, WRONG, ""},
    {"domains: sha1", "0caaf24ab1a0c33440c06afe99df986365b0781f", FD, SKIP,
     WRONG, ""},
    {"adblock: sha256",
     "a379a6f6eeafb9a55e378c118034e2751e682fab9f2d30ab13d2125586ce1947", FB,
     SKIP, WRONG, ""},
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
	struct collect md5 = {.names = "", .fail_at = 1};
	assert_int_equal(
	    cg_listfile_parse_line("5ababd603b22780302dd8d83498e5172", 32, FA,
				   collect_fn, &md5, NULL),
	    CG_LINE_ABORTED);
}

/* A caller that does not take a kind refuses it: the line is skipped as
 * of another format, and a line with several names at its first. */
static void test_parse_refuse(void **state)
{
	(void)state;
	static const struct {
		const char *line;
		unsigned refuse;
		enum cg_list_line res;
		const char *names;
	} rc[] = {
	    {"5ababd603b22780302dd8d83498e5172", 1u << CG_DIGEST_MD5, SKIP, ""},
	    {"5ababd603b22780302dd8d83498e5172", 1u << CG_DIGEST_SHA256, ENTRY,
	     "md5:5ababd603b22780302dd8d83498e5172"},
	    {"0caaf24ab1a0c33440c06afe99df986365b0781f", 1u << CG_DIGEST_SHA1,
	     SKIP, ""},
	    {"0.0.0.0 a.example b.example", 1u << CG_DIGEST_NONE, SKIP, ""},
	    {"example.com", 1u << CG_DIGEST_NONE, SKIP, ""},
	    {"||x.com^", 1u << CG_DIGEST_NONE, SKIP, ""},
	    {"example.com", 1u << CG_DIGEST_MD5, ENTRY, "example.com"},
	};
	for (size_t i = 0; i < sizeof(rc) / sizeof(*rc); i++) {
		struct collect c = {.names = "", .refuse = rc[i].refuse};
		enum cg_list_skip why = NONE;
		enum cg_list_line r = cg_listfile_parse_line(
		    rc[i].line, strlen(rc[i].line), FA, collect_fn, &c, &why);
		if (r != rc[i].res || strcmp(c.names, rc[i].names) ||
		    (r == SKIP && why != WRONG))
			fail_msg("%s: got %d/%d \"%s\"", rc[i].line, r, why,
				 c.names);
	}
}

static void test_format_names(void **state)
{
	(void)state;
	static const char *const names[] = {"auto", "hosts", "domains",
					    "adblock", "hashed"};
	for (int i = 0; i < 5; i++) {
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_cases),
	    cmocka_unit_test(test_parse_bounds),
	    cmocka_unit_test(test_parse_abort),
	    cmocka_unit_test(test_parse_refuse),
	    cmocka_unit_test(test_format_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
