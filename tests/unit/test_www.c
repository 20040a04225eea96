/*
 * The portal's pages: the shipped site loads clean and renders every page
 * in every language; Accept-Language as a table of cases; values are
 * escaped; broken sites (written to a temporary directory) fail with
 * file:line; static files are served by exact name only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cafeguard/www.h"

#define SITE CG_SOURCE_DIR "/conf/www"

static const char *const site_files[] = {
    "layout.html",  "splash.html",     "block.html",   "status.html",
    "error.html",   "style.css",       "logo.svg",     "lang/en.conf",
    "lang/es.conf", "lang/pt-BR.conf", "lang/th.conf",
};

static const struct cg_www_hotline hotlines[] = {
    {"GB", "Childline", "https://www.childline.org.uk/", "0800 1111"},
    {"", "Child Helpline International",
     "https://childhelplineinternational.org/", ""},
    {"BR", "SaferNet Brasil", "https://new.safernet.org.br/denuncie",
     "+55 (61) 3306-1000"},
    {"BR", "Disque 100", "", "100"},
};

static const struct cg_www_site site_br = {"Lan House Estrela", "BR", hotlines,
					   4};

static const struct cg_www_row rows[] = {
    {"14:02", "casino.example", "list", "gambling", "Gambling"},
    {"14:05", "", "app", "BitTorrent", ""},
    {"14:09", "game.example", "budget", "games", "Online games"},
    {"15:00", "late.example", "schedule", "", ""},
};

static struct cg_www *load_ok(const char *dir)
{
	struct cg_www *w = NULL;
	struct cg_diag d = {0};
	int rc = cg_www_load(dir, "en", &w, &d);
	cg_diag_print(&d, stderr);
	assert_int_equal(rc, 0);
	assert_int_equal(d.errors, 0);
	assert_int_equal(d.warnings, 0);
	assert_non_null(w);
	cg_diag_clear(&d);
	return w;
}

static char *render(const struct cg_www *w, enum cg_www_page p,
		    const char *lang, const struct cg_www_vars *v)
{
	size_t len = 0;
	char *s = cg_www_render(w, p, lang, v, &len);
	assert_non_null(s);
	assert_int_equal(strlen(s), len);
	return s;
}

static struct cg_www_vars full_vars(void)
{
	struct cg_www_vars v = {0};
	v.site = &site_br;
	v.seat = "seat-03";
	v.time = "2024-05-02 14:09";
	v.host = "casino.example";
	v.reason = "list";
	v.category = "gambling";
	v.category_title = "Gambling";
	v.next = "http://example.com/";
	v.token = "abc123";
	v.rows = rows;
	v.nrows = 4;
	v.status = 429;
	return v;
}

static void shipped_site_loads(void **state)
{
	(void)state;
	struct cg_www *w = load_ok(SITE);
	const char *const *tags;
	size_t n = cg_www_langs(w, &tags);
	assert_int_equal(n, 4);
	assert_string_equal(tags[0], "en");
	assert_string_equal(tags[1], "es");
	assert_string_equal(tags[2], "pt-BR");
	assert_string_equal(tags[3], "th");
	cg_www_free(w);
}

static void every_page_every_language(void **state)
{
	(void)state;
	struct cg_www *w = load_ok(SITE);
	const char *const *tags;
	size_t n = cg_www_langs(w, &tags);
	struct cg_www_vars v = full_vars();
	for (size_t i = 0; i < n; i++) {
		char want[64];
		snprintf(want, sizeof(want), "<html lang=\"%s\">", tags[i]);
		for (int p = 0; p < CG_WWW__PAGES; p++) {
			print_message("page %d in %s\n", p, tags[i]);
			char *s = render(w, (enum cg_www_page)p, tags[i], &v);
			assert_null(strstr(s, "{{"));
			assert_null(strstr(s, "}}"));
			assert_non_null(strstr(s, want));
			assert_non_null(strstr(s, "<!DOCTYPE html>"));
			assert_non_null(strstr(s, "name=\"viewport\""));
			assert_non_null(strstr(s, "href=\"/style.css\""));
			assert_non_null(strstr(s, "Lan House Estrela"));
			assert_null(strstr(s, "<script"));
			/* Only the site's own assets and the hotlines. */
			assert_null(strstr(s, "src=\"http"));
			assert_non_null(strstr(s, "<h1"));
			free(s);
		}
	}
	cg_www_free(w);
}

static void splash_page(void **state)
{
	(void)state;
	struct cg_www *w = load_ok(SITE);
	struct cg_www_vars v = full_vars();
	char *s = render(w, CG_WWW_SPLASH, "en", &v);
	assert_non_null(strstr(s, "<title>Welcome · Lan House Estrela"));
	assert_non_null(strstr(s, "strangers"));
	assert_non_null(strstr(s, "ask the attendant"));
	assert_non_null(strstr(s, "<li>Be kind to other people"));
	assert_non_null(strstr(s, "method=\"post\" action=\"/accept\""));
	assert_non_null(strstr(s, "name=\"token\" value=\"abc123\""));
	assert_non_null(
	    strstr(s, "name=\"next\" value=\"http://example.com/\""));
	assert_non_null(strstr(s, ">I agree</button>"));
	assert_non_null(strstr(s, "<a href=\"/\">"));
	/* The café's country first, then international; not Britain's. */
	const char *br = strstr(s, "SaferNet Brasil");
	const char *d100 = strstr(s, "Disque 100");
	const char *intl = strstr(s, "Child Helpline International");
	assert_non_null(br);
	assert_non_null(d100);
	assert_non_null(intl);
	assert_true(br < d100 && d100 < intl);
	assert_null(strstr(s, "Childline"));
	assert_non_null(strstr(s, "<a href=\"https://new.safernet.org.br/"
				  "denuncie\">SaferNet Brasil</a>"));
	assert_non_null(strstr(s, "<a href=\"tel:+55613306100"));
	assert_non_null(strstr(s, "<a href=\"tel:100\">100</a>"));
	free(s);

	s = render(w, CG_WWW_SPLASH, "pt-BR", &v);
	assert_non_null(strstr(s, ">Eu concordo</button>"));
	assert_non_null(strstr(s, "<h1>Lan House Estrela: boas-vindas!</h1>"));
	free(s);
	s = render(w, CG_WWW_SPLASH, "th", &v);
	assert_non_null(strstr(s, "ฉันยอมรับ"));
	free(s);
	s = render(w, CG_WWW_SPLASH, "es", &v);
	assert_non_null(strstr(s, ">Acepto</button>"));
	free(s);

	/* No country: every line, international ones first. */
	struct cg_www_site nowhere = {"X", "", hotlines, 4};
	v.site = &nowhere;
	s = render(w, CG_WWW_SPLASH, "en", &v);
	assert_true(strstr(s, "Child Helpline International") <
		    strstr(s, "Childline"));
	assert_non_null(strstr(s, "SaferNet"));
	free(s);
	cg_www_free(w);
}

static void block_page(void **state)
{
	(void)state;
	struct cg_www *w = load_ok(SITE);
	struct cg_www_vars v = full_vars();
	char *s = render(w, CG_WWW_BLOCK, "en", &v);
	assert_non_null(strstr(s, "This page is blocked"));
	assert_non_null(strstr(s, "casino.example"));
	assert_non_null(strstr(s, "It is about betting and gambling, which "
				  "is not allowed here."));
	assert_non_null(strstr(s, "seat-03"));
	assert_non_null(strstr(s, "2024-05-02 14:09"));
	assert_non_null(strstr(s, "If you think this is a mistake, ask the "
				  "attendant."));
	assert_non_null(strstr(s, "SaferNet Brasil"));
	assert_non_null(strstr(s, "<a href=\"/\">"));
	free(s);

	s = render(w, CG_WWW_BLOCK, "pt-BR", &v);
	assert_non_null(strstr(s, "Este site é sobre apostas e jogos de azar"));
	free(s);

	/* No words in the language: the rule set's title, then the name. */
	v.category = "school-hacks";
	v.category_title = "School hacks";
	s = render(w, CG_WWW_BLOCK, "en", &v);
	assert_non_null(strstr(s, "It is about School hacks,"));
	free(s);
	v.category_title = NULL;
	s = render(w, CG_WWW_BLOCK, "en", &v);
	assert_non_null(strstr(s, "It is about school-hacks,"));
	free(s);
	/* Any case reaches the words: nDPI says "Game". */
	v.reason = "app-category";
	v.category = "Game";
	s = render(w, CG_WWW_BLOCK, "en", &v);
	assert_non_null(strstr(s, "Apps for games are not allowed here."));
	free(s);
	/* A reason that needs a category and has none: general words. */
	v.reason = "list";
	v.category = "";
	s = render(w, CG_WWW_BLOCK, "en", &v);
	assert_non_null(strstr(s, "It is not allowed on this computer."));
	free(s);
	v.reason = "schedule";
	v.seat = NULL;
	v.host = NULL;
	s = render(w, CG_WWW_BLOCK, "en", &v);
	assert_non_null(strstr(s, "It is not allowed at this time of day."));
	assert_non_null(strstr(s, "unknown computer"));
	assert_non_null(strstr(s, "unknown site"));
	free(s);
	cg_www_free(w);
}

static void status_page(void **state)
{
	(void)state;
	struct cg_www *w = load_ok(SITE);
	struct cg_www_vars v = full_vars();
	char *s = render(w, CG_WWW_STATUS, "en", &v);
	assert_non_null(strstr(s, "Computer: seat-03"));
	assert_non_null(strstr(s, "You can use the internet."));
	assert_null(strstr(s, "href=\"/splash\""));
	assert_non_null(strstr(s, "<caption>"));
	assert_non_null(strstr(s, "<th scope=\"col\">Time</th>"));
	assert_non_null(strstr(s, "<th scope=\"row\">14:02</th>"));
	assert_non_null(strstr(s, "It is about betting and gambling"));
	assert_non_null(strstr(s, "The app BitTorrent is not allowed here."));
	assert_non_null(strstr(s, "<td>unknown site</td>"));
	assert_non_null(strstr(s, "Your time for online games is over for "
				  "today."));
	assert_non_null(strstr(s, "It is not allowed at this time of day."));
	free(s);

	v.captive = true;
	v.nrows = 0;
	v.seat = "";
	s = render(w, CG_WWW_STATUS, "en", &v);
	assert_non_null(strstr(s, "Computer: unknown computer"));
	assert_non_null(strstr(s, "<a href=\"/splash\">Read the house rules"));
	assert_non_null(strstr(s, "Nothing has been blocked."));
	assert_null(strstr(s, "<table"));
	free(s);
	s = render(w, CG_WWW_STATUS, "th", &v);
	assert_non_null(strstr(s, "เครื่องที่ไม่รู้จัก"));
	free(s);
	cg_www_free(w);
}

static void error_page(void **state)
{
	(void)state;
	static const struct {
		int status;
		const char *code, *words;
	} cases[] = {
	    {400, "Error 400", "could not understand"},
	    {403, "Error 403", "not allowed to open"},
	    {404, "Error 404", "does not exist"},
	    {405, "Error 405", "cannot be used that way"},
	    {413, "Error 413", "too big"},
	    {414, "Error 414", "address is too long"},
	    {429, "Error 429", "Wait a moment and try again"},
	    {431, "Error 431", "too much information"},
	    {500, "Error 500", "broke on our side"},
	    {503, "Error 503", "very busy"},
	    {418, "Error 418", "Something went wrong. Ask"},
	    {0, "Error 500", "broke on our side"},
	};
	struct cg_www *w = load_ok(SITE);
	struct cg_www_vars v = full_vars();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		v.status = cases[i].status;
		char *s = render(w, CG_WWW_ERROR, "en", &v);
		print_message("status %d\n", cases[i].status);
		assert_non_null(strstr(s, cases[i].code));
		assert_non_null(strstr(s, cases[i].words));
		free(s);
	}
	v.status = 429;
	char *s = render(w, CG_WWW_ERROR, "es", &v);
	assert_non_null(strstr(s, "Espera un momento"));
	free(s);
	/* No vars at all still makes a page. */
	s = render(w, CG_WWW_ERROR, NULL, NULL);
	assert_non_null(strstr(s, "<html lang=\"en\">"));
	free(s);
	assert_null(cg_www_render(w, CG_WWW__PAGES, "en", &v, NULL));
	cg_www_free(w);
}

struct neg_case {
	const char *what;
	const char *accept;
	const char *want;
};

static void negotiation(void **state)
{
	(void)state;
	static char longtag[5000], many[20000], late[3000];
	memset(longtag, 'a', sizeof(longtag) - 1);
	size_t o = 0;
	while (o + 8 < sizeof(many))
		o += (size_t)snprintf(many + o, sizeof(many) - o, "fr;q=0.9,");
	snprintf(many + o, sizeof(many) - o, "th");
	/* th beyond the bytes read, es within */
	o = (size_t)snprintf(late, sizeof(late), "es;q=0.1,");
	memset(late + o, ' ', sizeof(late) - o - 4);
	memcpy(late + sizeof(late) - 4, ",th", 4);
	const struct neg_case cases[] = {
	    {"Brazilian browser", "pt-BR,pt;q=0.9,en-US;q=0.8,en;q=0.7",
	     "pt-BR"},
	    {"bare pt reaches pt-BR", "pt", "pt-BR"},
	    {"pt-PT reaches pt-BR", "pt-PT", "pt-BR"},
	    {"region of Thai", "th-TH", "th"},
	    {"Latin American Spanish", "es-419,es;q=0.9", "es"},
	    {"American English", "en-US,en;q=0.5", "en"},
	    {"British English", "en-GB", "en"},
	    {"nothing we have", "fr", "en"},
	    {"nothing we have, then Spanish", "fr-FR, fr;q=0.9, es;q=0.8",
	     "es"},
	    {"empty", "", "en"},
	    {"garbage", "\x01\xff;;;q=,,=*x", "en"},
	    {"garbage q", "th;q=2, es;q=abc", "en"},
	    {"q=0 refuses", "pt;q=0, es;q=0.5", "es"},
	    {"q=0 on the only one", "th;q=0", "en"},
	    {"q=0 of a region does not refuse the language",
	     "pt-PT;q=0, pt-BR;q=0.5", "pt-BR"},
	    {"higher q wins", "th;q=0.5, es;q=0.8", "es"},
	    {"three decimals", "th;q=0.501, es;q=0.5", "th"},
	    {"equal q: first wins", "th, es", "th"},
	    {"case-insensitive", "PT-br", "pt-BR"},
	    {"upper-case Q", "es;Q=0.5, th;q=0.4", "es"},
	    {"spaces", "  th ;q=0.9 ,  es ; q=0.5", "th"},
	    {"star", "*", "en"},
	    {"star refused", "*;q=0", "en"},
	    {"star after a refusal", "en;q=0, *", "es"},
	    {"star lower than a named one", "*;q=0.1, th", "th"},
	    {"over-long tag", longtag, "en"},
	    {"many ranges", many, "en"},
	    {"range past what is read", late, "es"},
	    {"prefix only at a subtag", "t", "en"},
	    {"subtag too long", "th-abcdefghi", "en"},
	};
	struct cg_www *w = load_ok(SITE);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = cg_www_negotiate(w, cases[i].accept);
		if (strcmp(got, cases[i].want))
			fail_msg("%s: got %s, want %s", cases[i].what, got,
				 cases[i].want);
	}
	assert_string_equal(cg_www_negotiate(w, NULL), "en");
	cg_www_free(w);
}

static void escaping(void **state)
{
	(void)state;
	static const char evil[] = "<script>x</script>\"'&";
	static const char safe[] =
	    "&lt;script&gt;x&lt;/script&gt;&quot;&#39;&amp;";
	struct cg_www *w = load_ok(SITE);
	struct cg_www_hotline bad[] = {
	    {"BR", "<b>Evil</b>", "javascript:alert(1)", "<1>"},
	};
	struct cg_www_site s = {evil, "BR", bad, 1};
	struct cg_www_row row = {evil, evil, "list", evil, ""};
	struct cg_www_vars v = full_vars();
	v.site = &s;
	v.host = evil;
	v.seat = evil;
	v.category = evil;
	v.next = evil;
	v.token = evil;
	v.rows = &row;
	v.nrows = 1;
	for (int p = 0; p < CG_WWW__PAGES; p++) {
		char *out = render(w, (enum cg_www_page)p, "en", &v);
		assert_null(strstr(out, "<script"));
		assert_null(strstr(out, "<b>"));
		assert_null(strstr(out, "javascript:"));
		assert_non_null(strstr(out, safe));
		free(out);
	}
	char *out = render(w, CG_WWW_BLOCK, "en", &v);
	char want[256];
	snprintf(want, sizeof(want), "<dd class=\"host\">%s</dd>", safe);
	assert_non_null(strstr(out, want));
	free(out);
	out = render(w, CG_WWW_STATUS, "en", &v);
	snprintf(want, sizeof(want), "<td>%s</td>", safe);
	assert_non_null(strstr(out, want));
	free(out);
	out = render(w, CG_WWW_SPLASH, "en", &v);
	snprintf(want, sizeof(want), "name=\"token\" value=\"%s\"", safe);
	assert_non_null(strstr(out, want));
	assert_non_null(strstr(out, "&lt;b&gt;Evil&lt;/b&gt;"));
	assert_non_null(strstr(out, "<a href=\"tel:1\">&lt;1&gt;</a>"));
	free(out);
	cg_www_free(w);
}

static void static_files(void **state)
{
	(void)state;
	struct cg_www *w = load_ok(SITE);
	const uint8_t *data;
	size_t len;
	const char *mime;
	assert_true(cg_www_static(w, "/style.css", &data, &len, &mime));
	assert_string_equal(mime, "text/css; charset=utf-8");
	assert_true(len > 100);
	assert_memory_equal(data, "/*", 2);
	assert_true(cg_www_static(w, "/logo.svg", &data, &len, &mime));
	assert_string_equal(mime, "image/svg+xml");
	static const char *const refused[] = {
	    "/../x",
	    "/../style.css",
	    "/lang/en.conf",
	    "/style.css?x",
	    "style.css",
	    "/",
	    "",
	    "/splash.html",
	    "/./style.css",
	    "//style.css",
	    "/style.css/",
	    "/STYLE.CSS",
	    "/style.css%00",
	    "/lang",
	    "/en.conf",
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		if (cg_www_static(w, refused[i], &data, &len, &mime))
			fail_msg("served %s", refused[i]);
	}
	assert_false(cg_www_static(w, NULL, &data, &len, &mime));
	cg_www_free(w);
}

/* ---- broken sites ---- */

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	char *buf = malloc(1 << 20);
	assert_non_null(buf);
	size_t n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void spit(const char *dir, const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	fclose(f);
}

static int setup_site(void **state)
{
	char *dir = strdup("/tmp/cg-www-XXXXXX");
	if (!dir || !mkdtemp(dir))
		return -1;
	char path[512];
	snprintf(path, sizeof(path), "%s/lang", dir);
	if (mkdir(path, 0700) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(site_files) / sizeof(site_files[0]);
	     i++) {
		snprintf(path, sizeof(path), "%s/%s", SITE, site_files[i]);
		char *text = slurp(path);
		spit(dir, site_files[i], text);
		free(text);
	}
	*state = dir;
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown_site(void **state)
{
	nftw(*state, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(*state);
	return 0;
}

/* Loads dir and returns the diagnostics; *ok says whether it loaded. */
static struct cg_diag load_bad(const char *dir, const char *def, bool *ok)
{
	struct cg_www *w = NULL;
	struct cg_diag d = {0};
	int rc = cg_www_load(dir, def, &w, &d);
	cg_diag_print(&d, stderr);
	*ok = rc == 0;
	assert_true(rc == 0 ? w != NULL : w == NULL);
	cg_www_free(w);
	return d;
}

static void want_diag(const struct cg_diag *d, enum cg_severity sev,
		      const char *file, unsigned line, const char *words)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct cg_diag_entry *e = &d->v[i];
		size_t fl = e->file ? strlen(e->file) : 0, wl = strlen(file);
		if (e->sev == sev && fl >= wl &&
		    !strcmp(e->file + fl - wl, file) && e->line == line &&
		    strstr(e->msg, words))
			return;
	}
	fail_msg("no %s at %s:%u with \"%s\"",
		 sev == CG_SEV_ERROR ? "error" : "warning", file, line, words);
}

/* Replaces the first occurrence of from in dir/name with to; returns
 * the line it starts on, so the tests do not hang on the shipped files'
 * line numbers. */
static unsigned edit(const char *dir, const char *name, const char *from,
		     const char *to)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	char *text = slurp(path);
	char *at = strstr(text, from);
	assert_non_null(at);
	size_t n = strlen(text) + strlen(to) + 1;
	char *out = malloc(n);
	assert_non_null(out);
	snprintf(out, n, "%.*s%s%s", (int)(at - text), text, to,
		 at + strlen(from));
	spit(dir, name, out);
	unsigned line = 1;
	for (const char *p = text; p < at; p++)
		line += *p == '\n';
	free(out);
	free(text);
	return line;
}

static void bad_template_key(void **state)
{
	const char *dir = *state;
	spit(dir, "splash.html",
	     "<h1>{{title}}</h1>\n\n<p>{{t.splash.titel}}"
	     "</p>\n{{ host }}\n{{{seat}}}\n{{{t.x}}}\n"
	     "{{hotlines}}\n{{bogus}}\n{{ broken\n");
	bool ok;
	struct cg_diag d = load_bad(dir, "en", &ok);
	assert_false(ok);
	want_diag(&d, CG_SEV_ERROR, "/splash.html", 3,
		  "did you mean t.splash.title");
	want_diag(&d, CG_SEV_ERROR, "/splash.html", 4,
		  "the splash page has no such value");
	want_diag(&d, CG_SEV_ERROR, "/splash.html", 5, "write {{seat}}");
	want_diag(&d, CG_SEV_ERROR, "/splash.html", 6, "always escaped");
	want_diag(&d, CG_SEV_ERROR, "/splash.html", 7, "write {{{hotlines}}}");
	want_diag(&d, CG_SEV_ERROR, "/splash.html", 8, "unknown name");
	want_diag(&d, CG_SEV_ERROR, "/splash.html", 9, "without a closing");
	cg_diag_clear(&d);
}

static void bad_layout(void **state)
{
	const char *dir = *state;
	spit(dir, "layout.html", "<html lang=\"{{lang}}\">\n</html>\n");
	bool ok;
	struct cg_diag d = load_bad(dir, "en", &ok);
	assert_false(ok);
	want_diag(&d, CG_SEV_ERROR, "/layout.html", 3, "{{{body}}} once");
	cg_diag_clear(&d);
}

static void bad_lang_syntax(void **state)
{
	const char *dir = *state;
	unsigned line =
	    edit(dir, "lang/es.conf", "  site = \"Sitio\";", "  site = Sitio;");
	bool ok;
	struct cg_diag d = load_bad(dir, "en", &ok);
	assert_false(ok);
	want_diag(&d, CG_SEV_ERROR, "/lang/es.conf", line, "syntax error");
	cg_diag_clear(&d);
}

static void bad_placeholder(void **state)
{
	const char *dir = *state;
	unsigned pt = edit(dir, "lang/pt-BR.conf", "Computador: {seat}",
			   "Computador: {saet}");
	unsigned th = edit(dir, "lang/th.conf", "\"ห้ามกินหรือดื่มใกล้คอมพิวเตอร์\"",
			   "\"{Cafe}\"");
	bool ok;
	struct cg_diag d = load_bad(dir, "en", &ok);
	assert_false(ok);
	want_diag(&d, CG_SEV_ERROR, "/lang/pt-BR.conf", pt,
		  "unknown placeholder {saet} (did you mean {seat}?)");
	want_diag(&d, CG_SEV_ERROR, "/lang/th.conf", th,
		  "unknown placeholder {Cafe}");
	cg_diag_clear(&d);
}

static void bad_lang_shapes(void **state)
{
	const char *dir = *state;
	unsigned es = edit(dir, "lang/es.conf", "house_rules = [",
			   "@include \"/etc/passwd\"\nhouse_rules = [");
	unsigned th =
	    edit(dir, "lang/th.conf", "  phone = \"โทร\";", "  phone = 5;");
	unsigned pt = edit(dir, "lang/pt-BR.conf", "  phone = \"Telefone\";",
			   "  phone = \"Tel {cafe}\";");
	bool ok;
	struct cg_diag d = load_bad(dir, "en", &ok);
	assert_false(ok);
	want_diag(&d, CG_SEV_ERROR, "/lang/es.conf", es, "@include");
	want_diag(&d, CG_SEV_ERROR, "/lang/th.conf", th,
		  "must be a string in double quotes");
	want_diag(&d, CG_SEV_ERROR, "/lang/pt-BR.conf", pt,
		  "cannot hold a placeholder");
	cg_diag_clear(&d);
}

static void missing_default_lang(void **state)
{
	const char *dir = *state;
	bool ok;
	struct cg_diag d = load_bad(dir, "fr", &ok);
	assert_false(ok);
	want_diag(&d, CG_SEV_ERROR, "/lang", 0, "no fr.conf");
	cg_diag_clear(&d);

	char path[512];
	snprintf(path, sizeof(path), "%s/lang/en.conf", dir);
	assert_int_equal(unlink(path), 0);
	/* A value missing: libconfig stops on the next line. */
	unsigned line =
	    edit(dir, "lang/es.conf", "  site = \"Sitio\";", "  site = ");
	d = load_bad(dir, "en", &ok);
	assert_false(ok);
	want_diag(&d, CG_SEV_ERROR, "/lang", 0, "no en.conf");
	/* The other files are still checked. */
	want_diag(&d, CG_SEV_ERROR, "/lang/es.conf", line + 1, "syntax error");
	cg_diag_clear(&d);
}

static void missing_required_key(void **state)
{
	const char *dir = *state;
	edit(dir, "lang/en.conf", "  col_why = \"Why\";\n", "");
	unsigned th = edit(dir, "lang/th.conf", "  col_why", "  col_why");
	bool ok;
	struct cg_diag d = load_bad(dir, "en", &ok);
	assert_false(ok);
	want_diag(&d, CG_SEV_ERROR, "/lang/en.conf", 0,
		  "status.col_why is missing");
	/* The other languages' key is now unknown: a warning each. */
	want_diag(&d, CG_SEV_WARNING, "/lang/th.conf", th,
		  "status.col_why: not in the default language");
	cg_diag_clear(&d);
}

static void missing_key_falls_back(void **state)
{
	const char *dir = *state;
	edit(dir, "lang/th.conf", "  agree = \"ฉันยอมรับ\";\n", "");
	edit(dir, "lang/es.conf", "house_rules = [", "/* house_rules = [");
	edit(dir, "lang/es.conf", "];", "]; */");
	bool ok;
	struct cg_diag d = load_bad(dir, "en", &ok);
	assert_true(ok);
	assert_int_equal(d.errors, 0);
	want_diag(&d, CG_SEV_WARNING, "/lang/th.conf", 0,
		  "splash.agree is missing; the en text is shown");
	want_diag(&d, CG_SEV_WARNING, "/lang/es.conf", 0,
		  "house_rules is missing");
	cg_diag_clear(&d);

	struct cg_www *w = NULL;
	assert_int_equal(cg_www_load(dir, "en", &w, &d), 0);
	struct cg_www_vars v = full_vars();
	char *s = render(w, CG_WWW_SPLASH, "th", &v);
	assert_non_null(strstr(s, ">I agree</button>"));
	assert_non_null(strstr(s, "กฎของร้าน"));
	free(s);
	s = render(w, CG_WWW_SPLASH, "es", &v);
	assert_non_null(strstr(s, "<li>Be kind to other people"));
	free(s);
	cg_www_free(w);
	cg_diag_clear(&d);
}

static void bad_static_and_files(void **state)
{
	const char *dir = *state;
	char *big = malloc(300 * 1024 + 1);
	assert_non_null(big);
	memset(big, 'x', 300 * 1024);
	big[300 * 1024] = '\0';
	spit(dir, "big.png", big);
	free(big);
	char path[512];
	snprintf(path, sizeof(path), "%s/status.html", dir);
	assert_int_equal(unlink(path), 0);
	spit(dir, "lang/english.txt", "not a translation\n");
	spit(dir, "lang/x_y.conf", "a = \"b\";\n");
	bool ok;
	struct cg_diag d = load_bad(dir, "en", &ok);
	assert_false(ok);
	want_diag(&d, CG_SEV_ERROR, "/big.png", 0, "larger than");
	want_diag(&d, CG_SEV_ERROR, "/status.html", 0, "cannot open");
	want_diag(&d, CG_SEV_ERROR, "/lang/x_y.conf", 0,
		  "not named for a language");
	cg_diag_clear(&d);
}

static void default_not_english(void **state)
{
	const char *dir = *state;
	/* Trailing slashes are not doubled in messages. */
	char slash[512];
	snprintf(slash, sizeof(slash), "%s//", dir);
	struct cg_www *w = NULL;
	struct cg_diag d = {0};
	assert_int_equal(cg_www_load(slash, "pt-br", &w, &d), 0);
	cg_diag_print(&d, stderr);
	assert_int_equal(d.errors + d.warnings, 0);
	const char *const *tags;
	cg_www_langs(w, &tags);
	assert_string_equal(tags[0], "pt-BR");
	assert_string_equal(cg_www_negotiate(w, "fr"), "pt-BR");
	assert_string_equal(cg_www_negotiate(w, "en"), "en");
	cg_www_free(w);
	cg_diag_clear(&d);
}

/* Files saved by Windows editors: a byte-order mark and CR LF. */
static void windows_files(void **state)
{
	const char *dir = *state;
	static const char *const names[] = {"lang/en.conf", "splash.html"};
	for (size_t i = 0; i < 2; i++) {
		char path[512];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		char *text = slurp(path);
		char *out = malloc(strlen(text) * 2 + 4);
		assert_non_null(out);
		memcpy(out, "\xef\xbb\xbf", 3);
		size_t o = 3;
		for (const char *p = text; *p; p++) {
			if (*p == '\n')
				out[o++] = '\r';
			out[o++] = *p;
		}
		out[o] = '\0';
		spit(dir, names[i], out);
		free(out);
		free(text);
	}
	struct cg_www *w = load_ok(dir);
	struct cg_www_vars v = full_vars();
	char *s = render(w, CG_WWW_SPLASH, "en", &v);
	assert_null(strstr(s, "\xef\xbb\xbf"));
	assert_non_null(strstr(s, "<main>\n<h1>Welcome to Lan House Estrela"));
	free(s);
	cg_www_free(w);
}

static void no_site(void **state)
{
	(void)state;
	struct cg_www *w = NULL;
	struct cg_diag d = {0};
	assert_int_equal(cg_www_load("/nonexistent/www", "en", &w, &d), -1);
	assert_null(w);
	assert_int_equal(d.errors, 1);
	want_diag(&d, CG_SEV_ERROR, "/nonexistent/www", 0, "cannot open");
	cg_diag_clear(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(shipped_site_loads),
	    cmocka_unit_test(every_page_every_language),
	    cmocka_unit_test(splash_page),
	    cmocka_unit_test(block_page),
	    cmocka_unit_test(status_page),
	    cmocka_unit_test(error_page),
	    cmocka_unit_test(negotiation),
	    cmocka_unit_test(escaping),
	    cmocka_unit_test(static_files),
	    cmocka_unit_test_setup_teardown(bad_template_key, setup_site,
					    teardown_site),
	    cmocka_unit_test_setup_teardown(bad_layout, setup_site,
					    teardown_site),
	    cmocka_unit_test_setup_teardown(bad_lang_syntax, setup_site,
					    teardown_site),
	    cmocka_unit_test_setup_teardown(bad_placeholder, setup_site,
					    teardown_site),
	    cmocka_unit_test_setup_teardown(bad_lang_shapes, setup_site,
					    teardown_site),
	    cmocka_unit_test_setup_teardown(missing_default_lang, setup_site,
					    teardown_site),
	    cmocka_unit_test_setup_teardown(missing_required_key, setup_site,
					    teardown_site),
	    cmocka_unit_test_setup_teardown(missing_key_falls_back, setup_site,
					    teardown_site),
	    cmocka_unit_test_setup_teardown(bad_static_and_files, setup_site,
					    teardown_site),
	    cmocka_unit_test_setup_teardown(default_not_english, setup_site,
					    teardown_site),
	    cmocka_unit_test_setup_teardown(windows_files, setup_site,
					    teardown_site),
	    cmocka_unit_test(no_site),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
