/*
 * The dashboard's pages (portal_internal.h): the login form, messages,
 * and the dashboard itself, written into a memory stream.
 *
 * The owner's pages, not the seats': English, no template to edit, but
 * the café's style sheet (/style.css) with a few rules of their own
 * (/admin/admin.css), so the portal's Content-Security-Policy (no inline
 * style, no script) holds here too.  Phone first: one column, tables
 * that scroll sideways, an SVG that scales.  "Live" is a refresh every
 * 15 seconds, which needs no script.  Every text from the store, the
 * rules or the client is escaped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portal_internal.h"

#define esc cg_chart_esc

const char cg_pt_admin_css[] =
    "/* The dashboard's additions to the café's style.css. */\n"
    ".top{flex-wrap:wrap;justify-content:space-between}\n"
    ".top form{margin:0}\n"
    ".top button{min-width:0;min-height:2.5rem;font-size:1rem;"
    "padding:.25rem 1rem;background:var(--on-brand);color:var(--brand)}\n"
    "main.wide{max-width:64rem}\n"
    ".scroll{overflow-x:auto}\n"
    "table.blocks{font-size:.95rem}\n"
    ".blocks td.num{text-align:right}\n"
    "figure{margin:0}\n"
    "figure svg{display:block;width:100%;height:auto;max-width:40rem;"
    "background:#fff}\n"
    "figcaption{color:var(--muted)}\n"
    ".note{padding:.5rem 1rem;border-radius:.5rem;"
    "background:var(--open-bg);color:var(--open-text)}\n"
    ".error{padding:.5rem 1rem;border-radius:.5rem;font-weight:bold;"
    "background:var(--alert-bg);color:var(--alert)}\n"
    ".muted{color:var(--muted)}\n"
    "dl.ruleset{display:grid;grid-template-columns:max-content 1fr;"
    "gap:.25rem 1rem}\n"
    "dl.ruleset dt{font-weight:bold}\n"
    "dl.ruleset dd{margin:0;overflow-wrap:anywhere}\n"
    "label{display:block;font-weight:bold;margin:.5rem 0 .25rem}\n"
    "input[type=password]{font:inherit;font-size:1.1rem;width:100%;"
    "max-width:24rem;padding:.5rem;margin-bottom:1rem;"
    "border:2px solid var(--muted);border-radius:.5rem}\n"
    "td .state{display:inline-block;padding:.1rem .5rem}\n"
    "/* Wide tables scroll sideways on a phone rather than break words. */\n"
    "#events{min-width:40rem}\n"
    "#events td:first-child{white-space:nowrap}\n"
    "@media (max-width:30rem){dl.ruleset{grid-template-columns:1fr}}\n";

/* ---- pieces ---- */

static void head(FILE *f, const struct cg_pt_ctx *x, const char *title,
		 bool refresh)
{
	const char *cafe = x->p->site.view.cafe_name;
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta "
	      "charset=\"utf-8\">\n<meta name=\"viewport\" "
	      "content=\"width=device-width, initial-scale=1\">\n",
	      f);
	if (refresh)
		fputs("<meta http-equiv=\"refresh\" content=\"15\">\n", f);
	fputs("<title>", f);
	esc(f, title);
	if (cafe && cafe[0]) {
		fputs(" · ", f);
		esc(f, cafe);
	}
	fputs("</title>\n<link rel=\"stylesheet\" href=\"/style.css\">\n"
	      "<link rel=\"stylesheet\" href=\"/admin/admin.css\">\n"
	      "</head>\n<body>\n<header class=\"top\">\n<p class=\"cafe\">",
	      f);
	esc(f, cafe && cafe[0] ? cafe : "cafeguard");
	fputs(" · dashboard</p>\n", f);
}

static void hidden_token(FILE *f, const char *token)
{
	fputs("<input type=\"hidden\" name=\"token\" value=\"", f);
	esc(f, token);
	fputs("\">", f);
}

static void logout_form(FILE *f, const char *token)
{
	fputs("<form method=\"post\" action=\"/admin/logout\">", f);
	hidden_token(f, token);
	fputs("<button type=\"submit\">Log out</button></form>\n", f);
}

static void foot(FILE *f)
{
	fputs("</main>\n</body>\n</html>\n", f);
}

/* Local "HH:MM:SS" of a store time (the page's time-zone offset). */
static void clock_text(const struct cg_pt_ctx *x, int64_t ms, char out[16])
{
	int64_t s = ms / 1000 + x->lt.tz_offset_s;
	s = (s % 86400 + 86400) % 86400;
	snprintf(out, 16, "%02u:%02u:%02u", (unsigned)(s / 3600) % 24u,
		 (unsigned)(s / 60 % 60), (unsigned)(s % 60));
}

/* ---- messages and the login ---- */

static void message_page(FILE *f, const struct cg_pt_ctx *x,
			 const struct cg_pt_admin *ad)
{
	head(f, x, ad->title, false);
	fputs("</header>\n<main>\n<h1>", f);
	esc(f, ad->title);
	fputs("</h1>\n<p>", f);
	esc(f, ad->text);
	fputs("</p>\n", f);
	if (ad->status == 429 && ad->retry_after > 0) {
		char at[CG_PT_TIME_BUF];
		cg_pt_local_time(&x->lt, x->now + ad->retry_after, x->now,
				 false, at);
		fprintf(f, "<p class=\"error\">Try again after %s (in %lld "
			   "minute%s).</p>\n",
			at, (long long)(ad->retry_after + 59) / 60,
			ad->retry_after > 60 ? "s" : "");
	}
	if (ad->status != 403 || strcmp(ad->title, "Not from here"))
		fputs("<p><a href=\"/admin/login\">To the login</a></p>\n", f);
	foot(f);
}

static void login_page(FILE *f, const struct cg_pt_ctx *x,
		       const struct cg_pt_admin *ad)
{
	head(f, x, "Log in", false);
	fputs("</header>\n<main>\n<h1>Log in to the dashboard</h1>\n", f);
	if (ad->text) {
		fputs("<p class=\"error\" role=\"alert\">", f);
		esc(f, ad->text);
		fputs("</p>\n", f);
	}
	fputs("<form method=\"post\" action=\"/admin/login\">\n", f);
	hidden_token(f, ad->token);
	fputs("\n<label for=\"password\">Password</label>\n<input "
	      "id=\"password\" name=\"password\" type=\"password\" "
	      "autocomplete=\"current-password\" required autofocus>\n"
	      "<button type=\"submit\">Log in</button>\n</form>\n"
	      "<p class=\"muted\">Only from the café's own network. After "
	      "5 wrong passwords, logins from this device wait a few "
	      "minutes.</p>\n",
	      f);
	foot(f);
}

/* ---- the dashboard ---- */

static void ruleset(FILE *f, const struct cg_pt_ctx *x,
		    const struct cg_pt_admin *ad)
{
	const struct cg_rules *r = x->rules;
	const struct cg_pt_admin_day *d = ad->day;
	char loaded[CG_PT_TIME_BUF];
	cg_pt_local_time(&x->lt, x->p->loaded_s, x->now, true, loaded);
	fputs("<section>\n<h2>Rule set</h2>\n<dl class=\"ruleset\">\n"
	      "<dt>Configuration</dt><dd>",
	      f);
	esc(f, r->path ? r->path : "(unknown)");
	fprintf(f, "</dd>\n<dt>Generation</dt><dd id=\"generation\">%llu, "
		   "loaded %s</dd>\n<dt>Contents</dt><dd>%zu profile(s), "
		   "%zu seat(s), %zu categor%s, %zu list entries</dd>\n",
		(unsigned long long)x->p->generation, loaded, r->nprofiles,
		r->nseats, r->ncats, r->ncats == 1 ? "y" : "ies",
		cg_rules_entries(r));
	if (d && d->last_reload[0]) {
		char t[CG_PT_TIME_BUF];
		cg_pt_local_time(&x->lt, d->last_reload_ms / 1000, x->now,
				 false, t);
		fprintf(f, "<dt>Last reload</dt><dd>%s: ", t);
		esc(f, d->last_reload);
		fputs("</dd>\n", f);
	}
	fputs("</dl>\n<form method=\"post\" action=\"/admin/reload\">", f);
	hidden_token(f, ad->token);
	fputs("<button type=\"submit\">Reload the rules</button></form>\n"
	      "</section>\n",
	      f);
}

static long seat_blocks(const struct cg_pt_admin_day *d, const char *name)
{
	for (size_t i = 0; d && i < d->nseats; i++)
		if (!strcmp(d->seats[i].name, name))
			return d->seats[i].blocks;
	return 0;
}

static void seat_state(FILE *f, const struct cg_pt_ctx *x, const char *name)
{
	static const uint8_t none[16];
	if (!x->rules->respond.splash) {
		fputs("<span class=\"state open\">open</span> (no splash page)",
		      f);
		return;
	}
	uint64_t key = cg_captive_key(name, NULL, 4, none);
	if (!cg_captive_is_open(x->p->cap, key, x->now)) {
		fputs("<span class=\"state captive\">captive</span>", f);
		return;
	}
	char until[CG_PT_TIME_BUF];
	cg_pt_local_time(&x->lt, cg_captive_until(x->p->cap, key), x->now,
			 false, until);
	fprintf(f, "<span class=\"state open\">open</span> until %s", until);
}

static void seats(FILE *f, const struct cg_pt_ctx *x,
		  const struct cg_pt_admin_day *d)
{
	const struct cg_rules *r = x->rules;
	fputs("<section>\n<h2>Seats</h2>\n<div class=\"scroll\"><table "
	      "class=\"blocks\" id=\"seats\"><thead><tr><th scope=\"col\">"
	      "Seat</th><th scope=\"col\">Profile</th><th scope=\"col\">"
	      "State</th><th scope=\"col\">Blocks today</th></tr></thead>"
	      "<tbody>\n",
	      f);
	for (size_t i = 0; i < r->nseats; i++) {
		const struct cg_seat *s = &r->seats[i];
		fputs("<tr><th scope=\"row\">", f);
		esc(f, s->name);
		fputs("</th><td>", f);
		esc(f, s->profile < r->nprofiles ? r->profiles[s->profile].name
						 : "?");
		fputs("</td><td>", f);
		seat_state(f, x, s->name);
		fprintf(f, "</td><td class=\"num\">%ld</td></tr>\n",
			seat_blocks(d, s->name));
	}
	if (!r->nseats)
		fputs("<tr><td colspan=\"4\">No seats are configured.</td>"
		      "</tr>\n",
		      f);
	fputs("</tbody></table></div>\n<p class=\"muted\">The profile is the "
	      "seat's own; <code>cafeguardctl seats</code> shows a profile "
	      "switched for a while.",
	      f);
	if (d && !d->error[0])
		fprintf(f, " Other clients (not seats) in today's log: %ld.",
			d->others);
	fputs("</p>\n</section>\n", f);
}

static void chart(FILE *f, const struct cg_pt_admin_day *d)
{
	char title[96];
	snprintf(title, sizeof(title), "Blocks per hour by category, %s: %ld",
		 d->day, d->chart.total);
	fputs("<section>\n<h2>Blocks per hour</h2>\n<figure>", f);
	cg_chart_svg(f, &d->chart, title, "blocks-chart");
	fputs("<figcaption>Blocks per hour today (local time), stacked by "
	      "category.</figcaption></figure>\n<details><summary>The "
	      "numbers</summary>\n<div class=\"scroll\">",
	      f);
	cg_chart_table(f, &d->chart, "Blocks per hour by category");
	fputs("</div></details>\n</section>\n", f);
}

static void event_row(FILE *f, const struct cg_pt_ctx *x,
		      const struct cg_pt_admin_row *r)
{
	char t[16];
	clock_text(x, r->time_ms, t);
	fprintf(f, "<tr><td>%s</td><td>", t);
	esc(f, r->seat[0] ? r->seat : r->client[0] ? r->client : "-");
	fputs("</td><td>", f);
	esc(f, r->type);
	fputs("</td><td>", f);
	esc(f, r->host[0] ? r->host : r->app[0] ? r->app : r->detail);
	if (r->host[0] && r->app[0]) {
		fputs(" <span class=\"muted\">(", f);
		esc(f, r->app);
		fputs(")</span>", f);
	}
	fputs("</td><td>", f);
	esc(f, r->rule[0] ? r->rule : r->reason);
	fputs("</td><td>", f);
	esc(f, r->action[0] ? r->action : "-");
	fputs("</td></tr>\n", f);
}

static void events(FILE *f, const struct cg_pt_ctx *x,
		   const struct cg_pt_admin_day *d)
{
	fprintf(f, "<section>\n<h2>Today's events</h2>\n<p class=\"muted\">"
		   "Newest first, at most %d.</p>\n<div class=\"scroll\">"
		   "<table class=\"blocks\" id=\"events\"><thead><tr>"
		   "<th scope=\"col\">Time</th><th scope=\"col\">Seat</th>"
		   "<th scope=\"col\">Event</th><th scope=\"col\">Site or app"
		   "</th><th scope=\"col\">Why</th><th scope=\"col\">Action"
		   "</th></tr></thead><tbody>\n",
		CG_PT_ADMIN_ROWS);
	for (size_t i = 0; i < d->nrows; i++)
		event_row(f, x, &d->rows[i]);
	if (!d->nrows)
		fputs("<tr><td colspan=\"6\">Nothing yet today.</td></tr>\n",
		      f);
	fputs("</tbody></table></div>\n</section>\n", f);
}

static void dashboard(FILE *f, const struct cg_pt_ctx *x,
		      const struct cg_pt_admin *ad)
{
	const struct cg_pt_admin_day *d = ad->day;
	head(f, x, "Dashboard", true);
	logout_form(f, ad->token);
	fputs("</header>\n<main class=\"wide\">\n<h1>Dashboard</h1>\n", f);
	char now[16];
	clock_text(x, x->now * 1000, now);
	fprintf(f, "<p class=\"muted\">Today, %s, as of %s. This page "
		   "refreshes itself every 15 seconds.</p>\n",
		d ? d->day : "", now);
	if (ad->reload_noted)
		fputs("<p class=\"note\" role=\"status\">Reload requested. "
		      "The generation below goes up once the new rules are "
		      "loaded; a reload that fails keeps the old rules and "
		      "shows under \"Last reload\".</p>\n",
		      f);
	ruleset(f, x, ad);
	seats(f, x, d);
	if (!d || d->error[0]) {
		fputs("<section>\n<h2>Today's events</h2>\n<p class=\"error\">",
		      f);
		esc(f, d ? d->error : "out of memory");
		fputs("</p>\n</section>\n", f);
	} else {
		chart(f, d);
		events(f, x, d);
	}
	foot(f);
}

char *cg_pt_admin_page(const struct cg_pt_ctx *x, const struct cg_pt_admin *ad,
		       size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	if (!f)
		return NULL;
	if (ad->view == CG_PT_ADMIN_DASHBOARD)
		dashboard(f, x, ad);
	else if (ad->view == CG_PT_ADMIN_LOGIN)
		login_page(f, x, ad);
	else
		message_page(f, x, ad);
	bool bad = ferror(f) != 0;
	if (fclose(f) != 0 || bad) {
		free(buf);
		return NULL;
	}
	return buf;
}
