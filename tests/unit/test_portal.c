/*
 * The portal served: a real portal on 127.0.0.1 (an ephemeral port, the
 * shipped pages) spoken to with plain sockets, each client a different
 * loopback address: 127.0.0.1 is a seat, the others are not.  Its pure
 * request helpers are test_portal_http.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cafeguard/portal.h"
#include "http_testutil.h"

#include "../../daemon/portal_internal.h"

/* ---- a real portal ---- */

struct world {
	char dir[64];
	struct cg_config cfg;
	struct cg_rules *rules;
	struct cg_captive *cap;
	struct cg_clock clock;
	struct cg_portal *p;
	uint16_t port;
};

static struct world *W;

static void put(const char *dir, const char *name, const char *text)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void load(struct world *w, uint32_t rate, bool v6)
{
	char conf[2048];
	snprintf(conf, sizeof(conf),
		 "categories = ( { name = \"adult\"; title = \"Adult content\";"
		 " lists = [ \"adult.domains\" ]; },\n"
		 "  { name = \"xtest\"; title = \"Things For Grown-ups\";"
		 " lists = [ \"adult.domains\" ]; } );\n"
		 "profiles = ( { name = \"kids\"; block = { categories = "
		 "[ \"adult\", \"xtest\" ]; }; } );\n"
		 "seats = ( { name = \"seat-07\"; ip = [ \"127.0.0.1\" ]; "
		 "profile = \"kids\"; } );\n"
		 "portal = { %s = \"%s\"; www = \"%s/conf/www\";"
		 " name = \"Test Cafe\"; language = \"en\"; country = \"BR\";"
		 " timeout = 2; rate = %u; per_client = 16; splash = true;"
		 " splash_period = \"2h\"; };\n",
		 v6 ? "address6" : "address", v6 ? "::1" : "127.0.0.1",
		 CG_SOURCE_DIR, rate);
	put(w->dir, "adult.domains", "blocked.example\n");
	put(w->dir, "test.conf", conf);
	char path[128];
	snprintf(path, sizeof(path), "%s/test.conf", w->dir);
	struct cg_diag d = {0};
	int rc = cg_config_load(path, &w->cfg, &d);
	if (rc == 0)
		w->rules = cg_rules_build(&w->cfg, NULL, false, &d);
	cg_diag_print(&d, stderr);
	cg_diag_clear(&d);
	assert_int_equal(rc, 0);
	assert_non_null(w->rules);
	w->cfg.portal_port = 0; /* the kernel picks */
}

static struct world *world_new(uint32_t rate, bool v6)
{
	struct world *w = calloc(1, sizeof(*w));
	assert_non_null(w);
	snprintf(w->dir, sizeof(w->dir), "/tmp/cg-portal-XXXXXX");
	assert_non_null(mkdtemp(w->dir));
	load(w, rate, v6);
	struct cg_error err = {{0}};
	w->cap = cg_captive_open(NULL, 64, &err);
	assert_non_null(w->cap);
	struct cg_portal_opts o = {
	    .cfg = &w->cfg, .lan = "", .clock = &w->clock};
	struct cg_diag d = {0};
	w->p = cg_portal_start(&o, w->cap, w->rules, &d, &err);
	cg_diag_print(&d, stderr);
	cg_diag_clear(&d);
	if (!w->p)
		fprintf(stderr, "%s\n", err.msg);
	assert_non_null(w->p);
	w->port = cg_portal_port(w->p, v6 ? 6 : 4);
	assert_int_not_equal(w->port, 0);
	assert_int_equal(cg_portal_port(w->p, v6 ? 4 : 6), 0);
	return w;
}

static void world_free(struct world *w)
{
	cg_portal_stop(w->p);
	cg_captive_free(w->cap);
	cg_rules_free(w->rules);
	cg_config_free(&w->cfg);
	char path[128];
	snprintf(path, sizeof(path), "%s/adult.domains", w->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/test.conf", w->dir);
	unlink(path);
	rmdir(w->dir);
	free(w);
}

static int setup(void **state)
{
	(void)state;
	W = world_new(100000, false);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	world_free(W);
	return 0;
}






static void exchange(const char *from, const char *req, struct resp *r)
{
	ht_exchange(W->port, from, req, strlen(req), r);
}

/* GET path with extra header lines (each ending in \r\n). */
static void get(const char *from, const char *path, const char *headers,
		struct resp *r)
{
	size_t sz = strlen(path) + (headers ? strlen(headers) : 0) + 128;
	char *req = malloc(sz);
	assert_non_null(req);
	snprintf(req, sz,
		 "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%sConnection: "
		 "close\r\n\r\n",
		 path, headers ? headers : "");
	exchange(from, req, r);
	free(req);
}



static void assert_header(const struct resp *r, const char *name,
			  const char *want)
{
	char v[512];
	const char *got = hdr(r, name, v, sizeof(v));
	if (!got || (want && strcmp(got, want)))
		fail_msg("%s: \"%s\", want \"%s\"\n%s", name,
			 got ? got : "(none)", want ? want : "(any)", r->head);
}

static void assert_has(const struct resp *r, const char *text)
{
	if (!strstr(r->body, text))
		fail_msg("no \"%s\" in:\n%s", text, r->body);
}

static void assert_lacks(const struct resp *r, const char *text)
{
	if (strstr(r->body, text))
		fail_msg("\"%s\" in:\n%s", text, r->body);
}

static void assert_guarded(const struct resp *r)
{
	char v[256];
	assert_non_null(hdr(r, "Content-Security-Policy", v, sizeof(v)));
	assert_non_null(strstr(v, "default-src 'none'"));
	assert_non_null(strstr(v, "frame-ancestors 'none'"));
	assert_header(r, "X-Content-Type-Options", "nosniff");
	assert_header(r, "Referrer-Policy", "no-referrer");
	assert_non_null(hdr(r, "Content-Type", v, sizeof(v)));
}

static uint64_t key_of(const char *ip, bool seat)
{
	uint8_t a[16] = {0};
	inet_pton(AF_INET, ip, a);
	return cg_captive_key(seat ? "seat-07" : NULL, NULL, 4, a);
}

static int64_t now_s(void)
{
	return cg_clock_now(&W->clock, (uint64_t)time(NULL) * 1000u);
}

/* The splash page's token for a client (from its hidden field). */
static void token_of(const char *from, char tok[CG_PT_TOKEN_LEN + 1])
{
	struct resp r;
	get(from, "/splash", NULL, &r);
	assert_int_equal(r.status, 200);
	const char *at = strstr(r.body, "name=\"token\"");
	assert_non_null(at);
	at = strstr(at, "value=\"");
	assert_non_null(at);
	snprintf(tok, CG_PT_TOKEN_LEN + 1, "%s", at + 7);
	done(&r);
}

static void post_accept(const char *from, const char *form, const char *headers,
			struct resp *r)
{
	char req[4096];
	snprintf(req, sizeof(req),
		 "POST /accept HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n"
		 "Content-Type: application/x-www-form-urlencoded\r\n"
		 "%sContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
		 W->port, headers ? headers : "", strlen(form), form);
	exchange(from, req, r);
}

static void status_page(void **unused)
{
	(void)unused;
	struct resp r;
	get("127.0.0.1", "/", "Accept-Language: pt-BR,pt;q=0.9\r\n", &r);
	assert_int_equal(r.status, 200);
	assert_guarded(&r);
	assert_header(&r, "Cache-Control", "no-store");
	assert_header(&r, "Content-Language", "pt-BR");
	assert_header(&r, "Content-Type", "text/html; charset=utf-8");
	assert_header(&r, "Content-Security-Policy",
		      "default-src 'none'; style-src 'self'; img-src 'self'; "
		      "form-action 'self'; frame-ancestors 'none'; base-uri "
		      "'none'");
	assert_has(&r, "lang=\"pt-BR\"");
	assert_has(&r, "seat-07");
	done(&r);
	get("127.0.0.1", "/?lang=en", "Accept-Language: pt-BR\r\n", &r);
	assert_int_equal(r.status, 200);
	assert_has(&r, "lang=\"en\"");
	assert_header(&r, "Content-Language", "en");
	done(&r);
	/* HTTP/1.0 without a Host is the portal's own. */
	exchange("127.0.0.2", "GET / HTTP/1.0\r\n\r\n", &r);
	assert_int_equal(r.status, 200);
	assert_lacks(&r, "seat-07");
	done(&r);
	/* Two requests on one connection. */
	const char *two = "GET /api/captive HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
			  "GET /style.css HTTP/1.1\r\nHost: 127.0.0.1\r\n"
			  "Connection: close\r\n\r\n";
	exchange("127.0.0.2", two, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "HTTP/1.1 200"));
	done(&r);
	/* HEAD: the headers, no body. */
	exchange("127.0.0.2",
		 "HEAD / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close"
		 "\r\n\r\n",
		 &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.len, 0);
	done(&r);
}

static void splash_page(void **unused)
{
	(void)unused;
	struct resp r;
	get("127.0.0.1", "/splash?next=http%3A%2F%2Fexample.com%2Fx%3Fy%3D1",
	    NULL, &r);
	assert_int_equal(r.status, 200);
	assert_guarded(&r);
	assert_has(&r, "<form");
	assert_has(&r, "action=\"/accept\"");
	assert_has(&r, "name=\"token\"");
	assert_has(&r, "http://example.com/x?y=1");
	/* Its form ends on the page the child asked for (Chrome checks a
	 * form's redirects against form-action). */
	char v[256];
	assert_non_null(hdr(&r, "Content-Security-Policy", v, sizeof(v)));
	assert_non_null(strstr(v, "form-action 'self' http: https:;"));
	done(&r);
	/* A next that is not an http URL becomes "/". */
	get("127.0.0.1", "/splash?next=javascript%3Aalert(1)", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_lacks(&r, "javascript");
	done(&r);
}

static void captive_client(void **unused)
{
	(void)unused;
	struct resp r;
	/* A sinkholed name while captive: to the splash, and back. */
	exchange("127.0.0.3",
		 "GET /path?q=1 HTTP/1.1\r\nHost: blocked.example\r\n"
		 "Connection: close\r\n\r\n",
		 &r);
	assert_int_equal(r.status, 302);
	char want[256];
	snprintf(want, sizeof(want),
		 "http://127.0.0.1:%u/splash?next=http%%3A%%2F%%2Fblocked."
		 "example%%2Fpath%%3Fq%%3D1",
		 W->port);
	assert_header(&r, "Location", want);
	assert_guarded(&r);
	done(&r);
	/* Probes send captive systems to the splash. */
	static const char *const probes[] = {
	    "/generate_204", "/hotspot-detect.html", "/connecttest.txt",
	    "/ncsi.txt",     "/canonical.html",	     "/success.txt",
	};
	snprintf(want, sizeof(want), "http://127.0.0.1:%u/splash", W->port);
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		get("127.0.0.3", probes[i], NULL, &r);
		assert_int_equal(r.status, 302);
		assert_header(&r, "Location", want);
		done(&r);
	}
	get("127.0.0.3", "/api/captive", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_header(&r, "Content-Type", "application/captive+json");
	snprintf(want, sizeof(want),
		 "{\"captive\":true,\"user-portal-url\":\"http://127.0.0.1:%u/"
		 "splash\"}",
		 W->port);
	assert_string_equal(r.body, want);
	done(&r);
	assert_false(
	    cg_captive_is_open(W->cap, key_of("127.0.0.3", false), now_s()));
}

static void accept_form(void **unused)
{
	(void)unused;
	struct resp r;
	char tok[CG_PT_TOKEN_LEN + 1], form[256];
	token_of("127.0.0.1", tok);
	assert_int_equal(strlen(tok), CG_PT_TOKEN_LEN);

	post_accept("127.0.0.1", "next=%2F", NULL, &r);
	assert_int_equal(r.status, 403);
	assert_guarded(&r);
	done(&r);
	post_accept("127.0.0.1", "token=00000000000000000000000000000000", NULL,
		    &r);
	assert_int_equal(r.status, 403);
	done(&r);
	/* Another client's token is not this one's. */
	char other[CG_PT_TOKEN_LEN + 1];
	token_of("127.0.0.3", other);
	snprintf(form, sizeof(form), "token=%s", other);
	post_accept("127.0.0.1", form, NULL, &r);
	assert_int_equal(r.status, 403);
	done(&r);
	/* The right token from a page elsewhere. */
	snprintf(form, sizeof(form),
		 "token=%s&next=http%%3A%%2F%%2Fexample.com%%2Fx", tok);
	post_accept("127.0.0.1", form, "Origin: http://evil.example\r\n", &r);
	assert_int_equal(r.status, 403);
	done(&r);
	post_accept("127.0.0.1", form,
		    "Referer: http://evil.example/127.0.0.1\r\n", &r);
	assert_int_equal(r.status, 403);
	done(&r);
	assert_false(
	    cg_captive_is_open(W->cap, key_of("127.0.0.1", true), now_s()));

	post_accept("127.0.0.1", form, "Origin: null\r\n", &r);
	assert_int_equal(r.status, 303);
	assert_header(&r, "Location", "http://example.com/x");
	assert_guarded(&r);
	done(&r);
	assert_true(
	    cg_captive_is_open(W->cap, key_of("127.0.0.1", true), now_s()));
	/* Two hours (splash_period), not more. */
	int64_t until = cg_captive_until(W->cap, key_of("127.0.0.1", true));
	assert_true(until > now_s() + 7100 && until <= now_s() + 7200);
	assert_false(
	    cg_captive_is_open(W->cap, key_of("127.0.0.3", false), now_s()));
	/* A next that is not an http URL leads home. */
	snprintf(form, sizeof(form), "token=%s&next=%%2F%%2Fevil.example", tok);
	post_accept("127.0.0.1", form, NULL, &r);
	assert_int_equal(r.status, 303);
	assert_header(&r, "Location", "/");
	done(&r);
	/* Too big to read. */
	char big[4096];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	post_accept("127.0.0.1", big, NULL, &r);
	assert_int_equal(r.status, 413);
	done(&r);
}

static void open_client(void **unused)
{
	(void)unused;
	struct resp r;
	static const struct {
		const char *path;
		int status;
		const char *body;
	} probes[] = {
	    {"/generate_204", 204, ""},
	    {"/hotspot-detect.html", 200,
	     "<HTML><HEAD><TITLE>Success</TITLE></HEAD><BODY>Success</BODY>"
	     "</HTML>"},
	    {"/connecttest.txt", 200, "Microsoft Connect Test"},
	    {"/ncsi.txt", 200, "Microsoft NCSI"},
	    {"/canonical.html", 200,
	     "<meta http-equiv=\"refresh\" content=\"0;url=https://"
	     "support.mozilla.org/kb/captive-portal\"/>"},
	    {"/success.txt", 200, "success\n"},
	};
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		get("127.0.0.1", probes[i].path, NULL, &r);
		assert_int_equal(r.status, probes[i].status);
		assert_string_equal(r.body, probes[i].body);
		assert_guarded(&r);
		done(&r);
	}
	get("127.0.0.1", "/api/captive", NULL, &r);
	assert_non_null(strstr(r.body, "\"captive\":false"));
	done(&r);
	/* A sinkholed name once open: the block page, naming it. */
	exchange("127.0.0.1",
		 "GET / HTTP/1.1\r\nHost: Blocked.Example:80\r\n"
		 "Connection: close\r\n\r\n",
		 &r);
	assert_int_equal(r.status, 403);
	assert_guarded(&r);
	assert_has(&r, "blocked.example");
	/* No event told why yet: the rules do. */
	assert_has(&r, "It is about adult content");
	done(&r);
	/* A Host that is no name shows none. */
	exchange("127.0.0.1",
		 "GET / HTTP/1.1\r\nHost: <script>x</script>\r\n"
		 "Connection: close\r\n\r\n",
		 &r);
	assert_int_equal(r.status, 403);
	assert_lacks(&r, "<script>");
	done(&r);
}

static void blocked_page(void **unused)
{
	(void)unused;
	struct resp r;
	get("127.0.0.2",
	    "/blocked?host=Bad.Example&reason=budget&category=adult", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_guarded(&r);
	assert_has(&r, "bad.example");
	assert_has(&r, "Your time for adult content is over");
	done(&r);
	/* A category the language has no words for: its title. */
	get("127.0.0.2", "/blocked?host=a.example&category=xtest", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_has(&r, "Things For Grown-ups");
	done(&r);
	get("127.0.0.2",
	    "/blocked?host=%3Cscript%3Ealert(1)%3C%2Fscript%3E&reason=%3Cb%3E"
	    "&category=%3Ci%3E",
	    NULL, &r);
	assert_int_equal(r.status, 200);
	assert_lacks(&r, "<script>");
	assert_lacks(&r, "alert(1)");
	assert_lacks(&r, "<b>");
	assert_lacks(&r, "<i>");
	done(&r);
	/* An unknown reason is a list block; an unknown category none. */
	get("127.0.0.2", "/blocked?host=a.example&reason=nonsense&category=zz",
	    NULL, &r);
	assert_int_equal(r.status, 200);
	assert_lacks(&r, "nonsense");
	assert_lacks(&r, "zz");
	done(&r);
}

static void refusals(void **unused)
{
	(void)unused;
	struct resp r;
	get("127.0.0.2", "/nothing-here", NULL, &r);
	assert_int_equal(r.status, 404);
	assert_guarded(&r);
	assert_header(&r, "Cache-Control", "no-store");
	done(&r);
	static const char *const methods[] = {"PUT", "DELETE", "OPTIONS"};
	for (size_t i = 0; i < 3; i++) {
		char req[256];
		snprintf(req, sizeof(req),
			 "%s / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: "
			 "0\r\nConnection: close\r\n\r\n",
			 methods[i]);
		exchange("127.0.0.2", req, &r);
		assert_int_equal(r.status, 405);
		assert_header(&r, "Allow", "GET, HEAD");
		done(&r);
	}
	exchange("127.0.0.2",
		 "POST /splash HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: "
		 "3\r\nConnection: close\r\n\r\na=b",
		 &r);
	assert_int_equal(r.status, 405);
	assert_header(&r, "Allow", "GET, HEAD");
	done(&r);
	get("127.0.0.2", "/accept", NULL, &r);
	assert_int_equal(r.status, 405);
	assert_header(&r, "Allow", "POST");
	done(&r);
	get("127.0.0.2", "/style.css", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_header(&r, "Cache-Control", "max-age=3600");
	done(&r);
}

static void too_big(void **unused)
{
	(void)unused;
	struct resp r;
	char *path = malloc(20001);
	assert_non_null(path);
	path[0] = '/';
	memset(path + 1, 'a', 19999);
	path[3000] = '\0';
	get("127.0.0.2", path, NULL, &r);
	assert_int_equal(r.status, 414);
	assert_guarded(&r);
	done(&r);
	path[3000] = 'a';
	path[20000] = '\0';
	get("127.0.0.2", path, NULL, &r);
	assert_int_equal(r.status, 414); /* libmicrohttpd's own */
	done(&r);
	free(path);
	char *big = malloc(70000);
	assert_non_null(big);
	int n = snprintf(big, 70000,
			 "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ");
	memset(big + n, 'b', 65536);
	memcpy(big + n + 65536, "\r\n\r\n", 5);
	ht_exchange(W->port, "127.0.0.2", big, strlen(big), &r);
	assert_true(r.status == 431 || r.status == 413);
	done(&r);
	free(big);
	get("127.0.0.2", "/", NULL, &r);
	assert_int_equal(r.status, 200);
	done(&r);
}

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void slow_client(void **unused)
{
	(void)unused;
	double t0 = mono();
	int slow = ht_dial(W->port, "127.0.0.4");
	struct resp r;
	get("127.0.0.4", "/", NULL, &r);
	assert_int_equal(r.status, 200);
	done(&r);
	size_t n;
	char *got = ht_slurp(slow, &n); /* returns when the portal closes */
	double waited = mono() - t0;
	close(slow);
	free(got);
	assert_int_equal(n, 0);
	print_message("slow client closed after %.1f s\n", waited);
	assert_true(waited >= 1.5 && waited < 4.5);
}

static void noted_events(void **unused)
{
	(void)unused;
	struct cg_event e = {.type = CG_EV_BLOCK, .family = 4};
	e.time_ms = (uint64_t)now_s() * 1000u;
	inet_pton(AF_INET, "127.0.0.1", e.client);
	snprintf(e.seat, sizeof(e.seat), "seat-07");
	snprintf(e.reason, sizeof(e.reason), "schedule");
	snprintf(e.category, sizeof(e.category), "adult");
	snprintf(e.entry, sizeof(e.entry), "secret-entry.example");
	snprintf(e.file, sizeof(e.file), "/etc/secret-list-file");
	snprintf(e.host, sizeof(e.host), "older.example");
	e.time_ms -= 2 * 86400 * 1000u;
	cg_portal_note_event(W->p, &e);
	snprintf(e.host, sizeof(e.host), "blocked.example");
	e.time_ms += 2 * 86400 * 1000u;
	cg_portal_note_event(W->p, &e);
	/* Another client's, and an event that is no block. */
	struct cg_event o = e;
	o.seat[0] = '\0';
	inet_pton(AF_INET, "127.0.0.2", o.client);
	snprintf(o.host, sizeof(o.host), "other-client.example");
	cg_portal_note_event(W->p, &o);
	o.type = CG_EV_START;
	snprintf(o.host, sizeof(o.host), "not-a-block.example");
	cg_portal_note_event(W->p, &o);

	struct resp r;
	get("127.0.0.1", "/", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_has(&r, "blocked.example");
	assert_has(&r, "older.example");
	assert_lacks(&r, "other-client.example");
	assert_lacks(&r, "not-a-block.example");
	assert_lacks(&r, "secret-entry");
	assert_lacks(&r, "secret-list-file");
	/* Newest first. */
	assert_true(strstr(r.body, "blocked.example") <
		    strstr(r.body, "older.example"));
	done(&r);
	get("127.0.0.2", "/", NULL, &r);
	assert_has(&r, "other-client.example");
	assert_lacks(&r, "older.example");
	done(&r);
	/* The sinkholed name's page tells the noted reason. */
	exchange("127.0.0.1",
		 "GET / HTTP/1.1\r\nHost: blocked.example\r\n"
		 "Connection: close\r\n\r\n",
		 &r);
	assert_int_equal(r.status, 403);
	assert_has(&r, "It is not allowed at this time of day.");
	assert_lacks(&r, "secret-entry");
	done(&r);
}

static void reload_rules(void **unused)
{
	(void)unused;
	struct cg_rules *old = W->rules;
	struct cg_config old_cfg = W->cfg;
	memset(&W->cfg, 0, sizeof(W->cfg));
	W->rules = NULL;
	load(W, 100000, false);
	struct cg_diag d = {0};
	assert_int_equal(cg_portal_reload(W->p, &W->cfg, W->rules, &d), 0);
	cg_diag_clear(&d);
	cg_rules_free(old);
	cg_config_free(&old_cfg);
	/* A site that does not load keeps the old pages. */
	char *www = W->cfg.www_dir;
	W->cfg.www_dir = (char *)"/nonexistent/www";
	int rc = cg_portal_reload(W->p, &W->cfg, W->rules, &d);
	W->cfg.www_dir = www;
	assert_int_equal(rc, -1);
	assert_true(d.errors > 0);
	cg_diag_clear(&d);
	struct resp r;
	get("127.0.0.1", "/", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_has(&r, "seat-07");
	done(&r);
	struct cg_portal_stats st;
	cg_portal_stats(W->p, &st);
	assert_true(st.requests > 30);
	assert_true(st.pages > 10);
	assert_int_equal(st.accepted, 2);
	assert_true(st.refused_bad >= 8);
	assert_int_equal(st.refused_rate, 0);
}

static void rate_limit(void **unused)
{
	(void)unused;
	struct world *w = world_new(60, false);
	struct resp r;
	int got = 0, i;
	for (i = 0; i < 80 && got != 429; i++) {
		ht_exchange(w->port, "127.0.0.5",
			    "GET /ncsi.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n"
			    "Connection: close\r\n\r\n",
			    strlen("GET /ncsi.txt HTTP/1.1\r\nHost: 127.0.0.1"
				   "\r\nConnection: close\r\n\r\n"),
			    &r);
		got = r.status;
		if (got == 429) {
			assert_header(&r, "Retry-After", "1");
			assert_guarded(&r);
		}
		done(&r);
	}
	assert_int_equal(got, 429);
	assert_true(i >= 60);
	/* Another client is not held back. */
	const char *req = "GET /ncsi.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n"
			  "Connection: close\r\n\r\n";
	ht_exchange(w->port, "127.0.0.6", req, strlen(req), &r);
	assert_int_not_equal(r.status, 429);
	done(&r);
	usleep(1100 * 1000);
	ht_exchange(w->port, "127.0.0.5", req, strlen(req), &r);
	assert_int_not_equal(r.status, 429);
	done(&r);
	struct cg_portal_stats st;
	cg_portal_stats(w->p, &st);
	assert_int_equal(st.refused_rate, 1);
	world_free(w);
}

static char *exchange6(uint16_t port, const char *req)
{
	struct sockaddr_in6 dst = {.sin6_family = AF_INET6,
				   .sin6_port = htons(port),
				   .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&dst, sizeof(dst)), 0);
	ht_send_all(fd, req, strlen(req));
	size_t n;
	char *all = ht_slurp(fd, &n);
	close(fd);
	return all;
}

/* The IPv6 listener, where the host has ::1. */
static void ipv6_listener(void **unused)
{
	(void)unused;
	int probe = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in6 lo = {.sin6_family = AF_INET6,
				  .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	bool have =
	    probe >= 0 && bind(probe, (struct sockaddr *)&lo, sizeof(lo)) == 0;
	if (probe >= 0)
		close(probe);
	if (!have)
		skip();
	struct world *w = world_new(100000, true);
	char req[256], want[256];
	snprintf(req, sizeof(req),
		 "GET / HTTP/1.1\r\nHost: [0:0::1]:%u\r\nConnection: "
		 "close\r\n\r\n",
		 w->port);
	char *got = exchange6(w->port, req);
	assert_non_null(strstr(got, "HTTP/1.1 200"));
	free(got);
	got = exchange6(w->port, "GET /x HTTP/1.1\r\nHost: blocked.example"
				 "\r\nConnection: close\r\n\r\n");
	snprintf(want, sizeof(want),
		 "Location: http://[::1]:%u/splash?next=http%%3A%%2F%%2F"
		 "blocked.example%%2Fx\r\n",
		 w->port);
	assert_non_null(strstr(got, "HTTP/1.1 302"));
	assert_non_null(strstr(got, want));
	free(got);
	world_free(w);
}

int main(void)
{
	/* In order: the seat accepts, then is open. */
	const struct CMUnitTest served[] = {
	    cmocka_unit_test(status_page),    cmocka_unit_test(splash_page),
	    cmocka_unit_test(captive_client), cmocka_unit_test(accept_form),
	    cmocka_unit_test(open_client),    cmocka_unit_test(blocked_page),
	    cmocka_unit_test(refusals),	      cmocka_unit_test(too_big),
	    cmocka_unit_test(slow_client),    cmocka_unit_test(noted_events),
	    cmocka_unit_test(reload_rules),   cmocka_unit_test(rate_limit),
	    cmocka_unit_test(ipv6_listener),
	};
	return cmocka_run_group_tests(served, setup, teardown);
}
