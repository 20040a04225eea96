/*
 * The owner's dashboard on a real portal (127.0.0.1, an ephemeral port,
 * the shipped pages), spoken to with plain sockets from loopback
 * addresses: a password file written by auth.h, an event store with a
 * few rows of today, then the login (wrong, without token, locked,
 * right), the dashboard, the reload and logout forms, a cookie replayed
 * from another address, a box without a password or a store.  The chart
 * renderer is checked as a table first.
 *
 * 127.0.0.0/8 counts as the LAN side (the box itself); the WAN side is
 * tests/netns/test_dashboard.sh's.
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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cafeguard/auth.h"
#include "cafeguard/chart.h"
#include "cafeguard/portal.h"
#include "cafeguard/store.h"
#include "http_testutil.h"

#define PASSWORD "correct horse battery"

/* ---- the chart ---- */

static char *render_chart(const struct cg_chart *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	cg_chart_svg(f, c, "Blocks <today>", "t");
	cg_chart_table(f, c, "numbers");
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void chart_fold(void **unused)
{
	(void)unused;
	struct cg_chart c;
	cg_chart_init(&c);
	static const char *const names[] = {"a", "b", "c", "d",
					    "e", "f", "g", "<h>"};
	for (int i = 0; i < 8; i++)
		cg_chart_add(&c, names[i], i, 10 - i);
	cg_chart_add(&c, NULL, 23, 1);	  /* no category: other */
	cg_chart_add(&c, "a", 24, 100);	  /* no such hour */
	cg_chart_add(&c, "a", -1, 100);
	assert_int_equal(c.n, 9);
	assert_int_equal(c.total, 10 + 9 + 8 + 7 + 6 + 5 + 4 + 3 + 1);
	cg_chart_fold(&c, CG_CHART_KEEP);
	assert_int_equal(c.n, CG_CHART_KEEP + 1);
	assert_string_equal(c.s[0].name, "a");
	assert_string_equal(c.s[5].name, "f");
	assert_string_equal(c.s[6].name, CG_CHART_OTHER);
	assert_int_equal(c.s[6].total, 4 + 3 + 1); /* g, <h> and other */
	assert_int_equal(c.s[6].hours[6] + c.s[6].hours[7], 7);
	char *svg = render_chart(&c);
	assert_non_null(strstr(svg, "<svg viewBox"));
	assert_non_null(strstr(svg, "<title id=\"t-title\">Blocks &lt;today&gt;"));
	assert_non_null(strstr(svg, "<desc id=\"t-desc\">a 10, b 9"));
	assert_non_null(strstr(svg, "<td>10</td>"));
	assert_null(strstr(svg, "<h>"));
	free(svg);

	/* More names than it collects: the rest is "other", not lost. */
	cg_chart_init(&c);
	for (int i = 0; i < 100; i++) {
		char n[8];
		snprintf(n, sizeof(n), "n%d", i);
		cg_chart_add(&c, n, 1, 1);
	}
	assert_int_equal(c.n, CG_CHART_COLLECT);
	assert_int_equal(c.total, 100);
	cg_chart_fold(&c, CG_CHART_KEEP);
	long sum = 0;
	for (size_t i = 0; i < c.n; i++)
		sum += c.s[i].total;
	assert_int_equal(sum, 100);

	cg_chart_init(&c);
	svg = render_chart(&c);
	assert_non_null(strstr(svg, "No blocks."));
	free(svg);
}

/* ---- a portal with a dashboard ---- */

struct world {
	char dir[64], pwfile[96], db[96];
	struct cg_config cfg;
	struct cg_rules *rules;
	struct cg_captive *cap;
	struct cg_clock clock;
	struct cg_auth *auth;
	struct cg_portal *p;
	uint16_t port;
};

static char G_dir[32]; /* the group's files */
static char G_hash[CG_AUTH_LINE_MAX];
static volatile sig_atomic_t G_hups;

static void on_hup(int sig)
{
	(void)sig;
	G_hups++;
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void add_event(struct cg_store *s, enum cg_event_type t,
		      const char *seat, const char *ip, const char *host,
		      const char *cat, uint64_t ms)
{
	struct cg_event e;
	memset(&e, 0, sizeof(e));
	e.time_ms = ms;
	e.type = (uint8_t)t;
	e.action = t == CG_EV_BLOCK ? CG_ACT_NXDOMAIN : CG_ACT_NONE;
	if (ip) {
		e.family = 4;
		e.proto = 17;
		inet_pton(AF_INET, ip, e.client);
	}
	snprintf(e.seat, sizeof(e.seat), "%s", seat ? seat : "");
	snprintf(e.host, sizeof(e.host), "%s", host ? host : "");
	if (t == CG_EV_BLOCK) {
		snprintf(e.reason, sizeof(e.reason), "list");
		snprintf(e.category, sizeof(e.category), "%s", cat);
		snprintf(e.rule, sizeof(e.rule), "category %s", cat);
	} else {
		snprintf(e.detail, sizeof(e.detail), "started");
	}
	struct cg_error err = {{0}};
	assert_int_equal(cg_store_add(s, &e, &err), 0);
}

/* Today's rows, on the real clock (the worlds' clocks are not shifted). */
static void make_store(const char *path)
{
	struct cg_store_opts o = {.path = path};
	struct cg_error err = {{0}};
	struct cg_store *s = cg_store_open(&o, &err);
	if (!s)
		fail_msg("%s", err.msg);
	uint64_t now = (uint64_t)time(NULL) * 1000u;
	add_event(s, CG_EV_START, NULL, NULL, NULL, NULL, now - 2000);
	add_event(s, CG_EV_BLOCK, "seat-07", "127.0.0.1", "blocked.example",
		  "adult", now - 1500);
	add_event(s, CG_EV_BLOCK, "seat-07", "127.0.0.1", "<b>evil</b>.example",
		  "xtest", now - 1000);
	add_event(s, CG_EV_BLOCK, NULL, "10.1.2.3", "casino.example",
		  "gambling", now - 500);
	assert_int_equal(cg_store_commit(s, &err), 0);
	cg_store_close(s);
}

static int group_setup(void **state)
{
	(void)state;
	snprintf(G_dir, sizeof(G_dir), "/tmp/cg-admin-XXXXXX");
	assert_non_null(mkdtemp(G_dir));
	struct cg_error err = {{0}};
	assert_int_equal(cg_auth_hash_password(PASSWORD, G_hash, sizeof(G_hash),
					       &err),
			 0);
	struct sigaction sa = {.sa_handler = on_hup};
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGHUP, &sa, NULL), 0);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", G_dir);
	return system(cmd) == 0 ? 0 : -1;
}

enum { WITH_PASSWORD = 1, WITH_STORE = 2, WITH_AUTH = 4 };

static struct world *world_new(unsigned what)
{
	static unsigned n;
	struct world *w = calloc(1, sizeof(*w));
	assert_non_null(w);
	snprintf(w->dir, sizeof(w->dir), "%s/w%u", G_dir, n++);
	assert_int_equal(mkdir(w->dir, 0700), 0);
	snprintf(w->pwfile, sizeof(w->pwfile), "%s/admin.pw", w->dir);
	snprintf(w->db, sizeof(w->db), "%s/events.db", w->dir);
	struct cg_error err = {{0}};
	if (what & WITH_PASSWORD)
		assert_int_equal(cg_auth_write_file(w->pwfile, G_hash, &err),
				 0);
	if (what & WITH_STORE)
		make_store(w->db);
	char path[128], conf[2048];
	snprintf(path, sizeof(path), "%s/adult.domains", w->dir);
	put(path, "blocked.example\n");
	snprintf(conf, sizeof(conf),
		 "categories = ( { name = \"adult\"; title = \"Adult\";"
		 " lists = [ \"adult.domains\" ]; } );\n"
		 "profiles = ( { name = \"kids\"; block = { categories = "
		 "[ \"adult\" ]; }; } );\n"
		 "seats = ( { name = \"seat-07\"; ip = [ \"127.0.0.1\" ]; "
		 "profile = \"kids\"; },\n"
		 "  { name = \"seat-08\"; ip = [ \"10.9.9.9\" ]; "
		 "profile = \"kids\"; } );\n"
		 "portal = { address = \"127.0.0.1\"; www = \"%s/conf/www\";"
		 " name = \"Test Cafe\"; language = \"en\"; country = \"BR\";"
		 " timeout = 2; rate = 100000; per_client = 16; splash = true;"
		 " };\n%s%s%s%s",
		 CG_SOURCE_DIR, (what & WITH_STORE) ? "log = { database = \"" : "",
		 (what & WITH_STORE) ? w->db : "",
		 (what & WITH_STORE) ? "\"; };\n" : "",
		 "admin = { password_file = \"admin.pw\"; };\n");
	snprintf(path, sizeof(path), "%s/test.conf", w->dir);
	put(path, conf);
	struct cg_diag d = {0};
	int rc = cg_config_load(path, &w->cfg, &d);
	if (rc == 0)
		w->rules = cg_rules_build(&w->cfg, NULL, false, &d);
	cg_diag_print(&d, stderr);
	cg_diag_clear(&d);
	assert_int_equal(rc, 0);
	assert_non_null(w->rules);
	w->cfg.portal_port = 0;
	if (what & WITH_AUTH) {
		w->auth = cg_auth_new(w->cfg.admin_password_file, &err);
		if (!w->auth)
			fail_msg("%s", err.msg);
	}
	w->cap = cg_captive_open(NULL, 64, &err);
	assert_non_null(w->cap);
	struct cg_portal_opts o = {
	    .cfg = &w->cfg, .lan = "", .clock = &w->clock, .auth = w->auth};
	w->p = cg_portal_start(&o, w->cap, w->rules, &d, &err);
	cg_diag_print(&d, stderr);
	cg_diag_clear(&d);
	if (!w->p)
		fail_msg("%s", err.msg);
	w->port = cg_portal_port(w->p, 4);
	return w;
}

static void world_free(struct world *w)
{
	cg_portal_stop(w->p);
	cg_auth_free(w->auth);
	cg_captive_free(w->cap);
	cg_rules_free(w->rules);
	cg_config_free(&w->cfg);
	free(w);
}

/* ---- talking to it ---- */



static void exchange(const struct world *w, const char *from, const char *req,
		     struct resp *r)
{
	ht_exchange(w->port, from, req, strlen(req), r);
}

static void get(const struct world *w, const char *from, const char *path,
		const char *cookie, struct resp *r)
{
	char req[1024];
	snprintf(req, sizeof(req),
		 "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s%s%sConnection: "
		 "close\r\n\r\n",
		 path, cookie ? "Cookie: " : "", cookie ? cookie : "",
		 cookie ? "\r\n" : "");
	exchange(w, from, req, r);
}

/* POST a form; extra: more header lines, each ending in \r\n. */
static void post(const struct world *w, const char *from, const char *path,
		 const char *cookie, const char *extra, const char *body,
		 struct resp *r)
{
	char req[4096];
	snprintf(req, sizeof(req),
		 "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s%s%s%sContent-Type: "
		 "application/x-www-form-urlencoded\r\nContent-Length: "
		 "%zu\r\nConnection: close\r\n\r\n%s",
		 path, cookie ? "Cookie: " : "", cookie ? cookie : "",
		 cookie ? "\r\n" : "", extra ? extra : "", strlen(body), body);
	exchange(w, from, req, r);
}



static void want(const struct resp *r, int status, const char *text)
{
	if (r->status != status || (text && !strstr(r->body, text)))
		fail_msg("want %d with \"%s\", got:\n%s\n\n%.9000s", status,
			 text ? text : "", r->head, r->body);
}

static void want_location(const struct resp *r, const char *loc)
{
	char v[256];
	if (!hdr(r, "Location", v, sizeof(v)) || strcmp(v, loc))
		fail_msg("Location: want %s\n%s", loc, r->head);
}

/* The value of the page's first token field. */
static void token_of(const struct resp *r, char out[CG_AUTH_TOKEN_BUF])
{
	const char *t = strstr(r->body, "name=\"token\" value=\"");
	if (!t)
		fail_msg("no token in:\n%s", r->body);
	t += strlen("name=\"token\" value=\"");
	assert_int_equal(strcspn(t, "\""), CG_AUTH_TOKEN_BUF - 1);
	snprintf(out, CG_AUTH_TOKEN_BUF, "%.*s", CG_AUTH_TOKEN_BUF - 1, t);
}

static void login_token(const struct world *w, const char *from,
			char out[CG_AUTH_TOKEN_BUF])
{
	struct resp r;
	get(w, from, "/admin/login", NULL, &r);
	want(&r, 200, "type=\"password\"");
	token_of(&r, out);
	done(&r);
}

/* Logs in from `from`; cookie gets "cg_admin=HEX". */
static void login(const struct world *w, const char *from, char *cookie,
		  size_t cookiesz)
{
	char tok[CG_AUTH_TOKEN_BUF], body[256], v[256];
	login_token(w, from, tok);
	snprintf(body, sizeof(body), "token=%s&password=correct+horse+battery",
		 tok);
	struct resp r;
	post(w, from, "/admin/login", NULL, NULL, body, &r);
	want(&r, 303, NULL);
	want_location(&r, "/admin");
	assert_non_null(hdr(&r, "Set-Cookie", v, sizeof(v)));
	snprintf(cookie, cookiesz, "%.*s", (int)strcspn(v, ";"), v);
	done(&r);
}

/* ---- the cases ---- */

static void needs_login(void **unused)
{
	(void)unused;
	struct world *w = world_new(WITH_PASSWORD | WITH_STORE | WITH_AUTH);
	struct resp r;
	get(w, "127.0.0.1", "/admin", NULL, &r);
	want(&r, 303, NULL);
	want_location(&r, "/admin/login");
	done(&r);
	get(w, "127.0.0.1", "/admin/login", NULL, &r);
	want(&r, 200, "<form method=\"post\" action=\"/admin/login\">");
	assert_null(strstr(r.body, "<script"));
	char v[512];
	assert_non_null(hdr(&r, "Content-Security-Policy", v, sizeof(v)));
	assert_non_null(strstr(v, "default-src 'none'"));
	assert_non_null(hdr(&r, "Cache-Control", v, sizeof(v)));
	assert_string_equal(v, "no-store");
	done(&r);
	get(w, "127.0.0.1", "/admin/admin.css", NULL, &r);
	want(&r, 200, "dl.ruleset");
	done(&r);
	get(w, "127.0.0.1", "/admin/nothing", NULL, &r);
	want(&r, 404, NULL);
	done(&r);
	get(w, "127.0.0.1", "/admin/reload", NULL, &r);
	want(&r, 405, NULL);
	assert_non_null(hdr(&r, "Allow", v, sizeof(v)));
	assert_string_equal(v, "POST");
	done(&r);
	/* A sinkholed name is that site, whatever its path. */
	exchange(w, "127.0.0.1",
		 "GET /admin HTTP/1.1\r\nHost: blocked.example\r\n"
		 "Connection: close\r\n\r\n",
		 &r);
	want(&r, 302, NULL);
	assert_null(strstr(r.head, "/admin/login"));
	done(&r);
	world_free(w);
}

static void wrong_and_locked(void **unused)
{
	(void)unused;
	struct world *w = world_new(WITH_PASSWORD | WITH_STORE | WITH_AUTH);
	char tok[CG_AUTH_TOKEN_BUF], body[256];
	struct resp r;
	login_token(w, "127.0.0.9", tok);

	/* No token, a token of another client, a foreign Origin: 403,
	 * and none of them counts as a try. */
	post(w, "127.0.0.9", "/admin/login", NULL, NULL,
	     "password=correct+horse+battery", &r);
	want(&r, 403, "Form refused");
	done(&r);
	char other[CG_AUTH_TOKEN_BUF];
	login_token(w, "127.0.0.8", other);
	snprintf(body, sizeof(body), "token=%s&password=correct+horse+battery",
		 other);
	post(w, "127.0.0.9", "/admin/login", NULL, NULL, body, &r);
	want(&r, 403, "Form refused");
	done(&r);
	snprintf(body, sizeof(body), "token=%s&password=correct+horse+battery",
		 tok);
	post(w, "127.0.0.9", "/admin/login", NULL,
	     "Origin: http://evil.example\r\n", body, &r);
	want(&r, 403, "Form refused");
	assert_null(strstr(r.head, "Set-Cookie"));
	done(&r);

	snprintf(body, sizeof(body), "token=%s&password=wrong+password+1",
		 tok);
	for (int i = 1; i < CG_AUTH_LOCK_FAILS; i++) {
		post(w, "127.0.0.9", "/admin/login", NULL, NULL, body, &r);
		want(&r, 403, "Wrong password.");
		assert_null(strstr(r.head, "Set-Cookie"));
		done(&r);
	}
	char v[64];
	post(w, "127.0.0.9", "/admin/login", NULL, NULL, body, &r);
	want(&r, 429, "Too many wrong passwords");
	assert_non_null(hdr(&r, "Retry-After", v, sizeof(v)));
	assert_int_equal(atoi(v), CG_AUTH_LOCK_FIRST_S);
	done(&r);
	/* Locked: even the right password is not looked at. */
	snprintf(body, sizeof(body), "token=%s&password=correct+horse+battery",
		 tok);
	post(w, "127.0.0.9", "/admin/login", NULL, NULL, body, &r);
	want(&r, 429, "Try again after");
	assert_non_null(hdr(&r, "Retry-After", v, sizeof(v)));
	assert_true(atoi(v) > 0 && atoi(v) <= CG_AUTH_LOCK_FIRST_S);
	assert_null(strstr(r.head, "Set-Cookie"));
	done(&r);
	/* Another address is not locked. */
	char cookie[128];
	login(w, "127.0.0.8", cookie, sizeof(cookie));
	world_free(w);
}

static void dashboard(void **unused)
{
	(void)unused;
	struct world *w = world_new(WITH_PASSWORD | WITH_STORE | WITH_AUTH);
	char tok[CG_AUTH_TOKEN_BUF], body[256], v[256];
	login_token(w, "127.0.0.1", tok);
	snprintf(body, sizeof(body), "token=%s&password=correct+horse+battery",
		 tok);
	struct resp r;
	post(w, "127.0.0.1", "/admin/login", NULL, NULL, body, &r);
	want(&r, 303, NULL);
	want_location(&r, "/admin");
	assert_non_null(hdr(&r, "Set-Cookie", v, sizeof(v)));
	assert_true(!strncmp(v, "cg_admin=", 9));
	assert_non_null(strstr(v, "HttpOnly"));
	assert_non_null(strstr(v, "SameSite=Strict"));
	assert_non_null(strstr(v, "Path=/admin"));
	char cookie[128];
	snprintf(cookie, sizeof(cookie), "%.*s", (int)strcspn(v, ";"), v);
	done(&r);

	get(w, "127.0.0.1", "/admin", cookie, &r);
	want(&r, 200, "<h1>Dashboard</h1>");
	want(&r, 200, "<table class=\"blocks\" id=\"seats\">");
	want(&r, 200, "<th scope=\"row\">seat-07</th><td>kids</td>");
	want(&r, 200, "<th scope=\"row\">seat-08</th><td>kids</td><td><span "
		      "class=\"state captive\">captive</span>");
	want(&r, 200, "blocked.example");
	want(&r, 200, "casino.example");
	want(&r, 200, "&lt;b&gt;evil&lt;/b&gt;.example");
	want(&r, 200, "category adult");
	want(&r, 200, "Other clients (not seats) in today's log: 1.");
	want(&r, 200, "<svg viewBox");
	want(&r, 200, "Blocks per hour by category");
	want(&r, 200, "<meta http-equiv=\"refresh\" content=\"15\">");
	want(&r, 200, "<dd id=\"generation\">0, loaded");
	want(&r, 200, "action=\"/admin/reload\"");
	assert_null(strstr(r.body, "<b>evil"));
	assert_null(strstr(r.body, "<script"));
	char csrf[CG_AUTH_TOKEN_BUF];
	token_of(&r, csrf);
	done(&r);
	/* The dashboard of a logged-in owner: /admin/login sends there. */
	get(w, "127.0.0.1", "/admin/login", cookie, &r);
	want(&r, 303, NULL);
	want_location(&r, "/admin");
	done(&r);

	/* Reload: without the token, with a wrong one, from elsewhere. */
	int hups = G_hups;
	post(w, "127.0.0.1", "/admin/reload", cookie, NULL, "", &r);
	want(&r, 403, NULL);
	done(&r);
	post(w, "127.0.0.1", "/admin/reload", cookie, NULL,
	     "token=00112233445566778899aabbccddeeff00112233445566778899aabb"
	     "ccddeeff",
	     &r);
	want(&r, 403, NULL);
	done(&r);
	snprintf(body, sizeof(body), "token=%s", csrf);
	post(w, "127.0.0.1", "/admin/reload", cookie,
	     "Referer: http://evil.example/\r\n", body, &r);
	want(&r, 403, NULL);
	done(&r);
	post(w, "127.0.0.1", "/admin/reload", NULL, NULL, body, &r);
	want(&r, 403, NULL);
	done(&r);
	assert_int_equal(G_hups, hups);
	char origin[64];
	snprintf(origin, sizeof(origin), "Origin: http://127.0.0.1:%u\r\n",
		 w->port);
	post(w, "127.0.0.1", "/admin/reload", cookie, origin, body, &r);
	want(&r, 303, NULL);
	want_location(&r, "/admin?note=reload");
	done(&r);
	for (int i = 0; i < 100 && G_hups == hups; i++)
		usleep(10000);
	assert_int_equal(G_hups, hups + 1);
	/* What the daemon does on SIGHUP: the page shows the new set. */
	struct cg_diag d = {0};
	assert_int_equal(cg_portal_reload(w->p, &w->cfg, w->rules, &d), 0);
	cg_diag_clear(&d);
	get(w, "127.0.0.1", "/admin?note=reload", cookie, &r);
	want(&r, 200, "Reload requested.");
	want(&r, 200, "<dd id=\"generation\">1, loaded");
	done(&r);

	/* Logout: POST with the token; the cookie is dead afterwards. */
	post(w, "127.0.0.1", "/admin/logout", cookie, NULL, "", &r);
	want(&r, 403, NULL);
	done(&r);
	post(w, "127.0.0.1", "/admin/logout", cookie, NULL, body, &r);
	want(&r, 303, NULL);
	want_location(&r, "/admin/login");
	assert_non_null(hdr(&r, "Set-Cookie", v, sizeof(v)));
	assert_non_null(strstr(v, "Max-Age=0"));
	done(&r);
	get(w, "127.0.0.1", "/admin", cookie, &r);
	want(&r, 303, NULL);
	want_location(&r, "/admin/login");
	done(&r);
	world_free(w);
}

/* A session's cookie is bound to the address that logged in. */
static void cookie_elsewhere(void **unused)
{
	(void)unused;
	struct world *w = world_new(WITH_PASSWORD | WITH_STORE | WITH_AUTH);
	char cookie[128];
	login(w, "127.0.0.1", cookie, sizeof(cookie));
	struct resp r;
	get(w, "127.0.0.2", "/admin", cookie, &r);
	want(&r, 303, NULL);
	want_location(&r, "/admin/login");
	done(&r);
	/* ... and a leaked cookie ends the session for its owner too. */
	get(w, "127.0.0.1", "/admin", cookie, &r);
	want(&r, 303, NULL);
	done(&r);
	world_free(w);
}

static void no_password(void **unused)
{
	(void)unused;
	struct world *w = world_new(WITH_STORE | WITH_AUTH);
	struct resp r;
	get(w, "127.0.0.1", "/admin/login", NULL, &r);
	want(&r, 503, "cafeguardctl passwd");
	assert_null(strstr(r.body, "type=\"password\""));
	done(&r);
	get(w, "127.0.0.1", "/admin", NULL, &r);
	want(&r, 303, NULL);
	done(&r);
	/* The form's token still comes first, then: no password. */
	char tok[CG_AUTH_TOKEN_BUF], body[256];
	post(w, "127.0.0.1", "/admin/login", NULL, NULL,
	     "password=anything+at+all", &r);
	want(&r, 403, NULL);
	done(&r);
	/* `cafeguardctl passwd`, then a reload: the dashboard opens. */
	struct cg_error err = {{0}};
	assert_int_equal(cg_auth_write_file(w->pwfile, G_hash, &err), 0);
	struct cg_diag d = {0};
	assert_int_equal(cg_portal_reload(w->p, &w->cfg, w->rules, &d), 0);
	cg_diag_clear(&d);
	login_token(w, "127.0.0.1", tok);
	snprintf(body, sizeof(body), "token=%s&password=correct+horse+battery",
		 tok);
	post(w, "127.0.0.1", "/admin/login", NULL, NULL, body, &r);
	want(&r, 303, NULL);
	done(&r);
	world_free(w);

	/* No auth object at all (no admin.password_file): no dashboard. */
	w = world_new(WITH_STORE);
	get(w, "127.0.0.1", "/admin", NULL, &r);
	want(&r, 503, "admin.password_file");
	done(&r);
	world_free(w);
}

static void no_store(void **unused)
{
	(void)unused;
	struct world *w = world_new(WITH_PASSWORD | WITH_AUTH);
	char cookie[128];
	login(w, "127.0.0.1", cookie, sizeof(cookie));
	struct resp r;
	get(w, "127.0.0.1", "/admin", cookie, &r);
	want(&r, 200, "no event store configured (log.database)");
	want(&r, 200, "<th scope=\"row\">seat-07</th>");
	done(&r);
	world_free(w);
}

int main(void)
{
	const struct CMUnitTest pure[] = {
	    cmocka_unit_test(chart_fold),
	};
	const struct CMUnitTest served[] = {
	    cmocka_unit_test(needs_login),	cmocka_unit_test(wrong_and_locked),
	    cmocka_unit_test(dashboard),	cmocka_unit_test(cookie_elsewhere),
	    cmocka_unit_test(no_password),	cmocka_unit_test(no_store),
	};
	int rc = cmocka_run_group_tests(pure, NULL, NULL);
	return rc | cmocka_run_group_tests(served, group_setup, group_teardown);
}
