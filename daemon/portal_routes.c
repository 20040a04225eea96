/*
 * The portal's pages: what each request is answered (portal_internal.h).
 * Runs under the portal's lock, with the client already known; builds an
 * answer and never sends it (portal.c does, after the lock).
 *
 * The Host header decides first: a request for any other name is for a
 * site whose name the gateway sinkholed to the box, answered with the
 * splash (captive) or the block page; only the portal's own host has the
 * portal's URLs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

#include <microhttpd.h>

#include "cafeguard/policy.h"
#include "cafeguard/state.h"
#include "portal_internal.h"

#define GET_HEAD "GET, HEAD"

static const char html[] = "text/html; charset=utf-8";
static const char text[] = "text/plain; charset=utf-8";

static bool is(const char *a, const char *b)
{
	return !strcmp(a, b);
}

static const char *header_of(const struct cg_pt_ctx *x, const char *name)
{
	return MHD_lookup_connection_value(x->c, MHD_HEADER_KIND, name);
}

/* The accept token's time bucket: hours of the monotonic clock, which
 * neither the policy's shift nor a wall-clock step moves. */
static int64_t hour_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec / 3600;
}

static const char *category_title(const struct cg_rules *r, const char *name)
{
	for (size_t i = 0; name && name[0] && i < r->ncats; i++)
		if (is(r->cats[i].name, name))
			return r->cats[i].title ? r->cats[i].title : "";
	return NULL;
}

/* ---- answers ---- */

static void answer_page(struct cg_pt_ctx *x, enum cg_www_page page,
			unsigned status, struct cg_www_vars *v)
{
	v->site = &x->p->site.view;
	v->seat = x->seat;
	v->time = x->time;
	size_t len = 0;
	char *doc = cg_www_render(x->www, page, x->lang, v, &len);
	if (!doc) {
		static const char oom[] = "500 Internal Server Error\n";
		x->a.status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		x->a.data = oom;
		x->a.len = sizeof(oom) - 1;
		snprintf(x->a.type, sizeof(x->a.type), "%s", text);
		return;
	}
	atomic_fetch_add(&x->p->pages, 1);
	x->a.status = status;
	x->a.body = doc;
	x->a.len = len;
	snprintf(x->a.type, sizeof(x->a.type), "%s", html);
}

void cg_pt_answer_error(struct cg_pt_ctx *x, unsigned status)
{
	struct cg_www_vars v = {.status = (int)status};
	if (status != MHD_HTTP_NOT_FOUND &&
	    status != MHD_HTTP_TOO_MANY_REQUESTS && status < 500)
		atomic_fetch_add(&x->p->refused_bad, 1);
	answer_page(x, CG_WWW_ERROR, status, &v);
}

static void answer_fixed(struct cg_pt_ctx *x, unsigned status, const char *type,
			 const char *body)
{
	x->a.status = status;
	x->a.data = body;
	x->a.len = strlen(body);
	snprintf(x->a.type, sizeof(x->a.type), "%s", type);
	x->a.lang[0] = '\0';
}

static void answer_redirect(struct cg_pt_ctx *x, unsigned status,
			    const char *location)
{
	answer_fixed(x, status, text, "");
	snprintf(x->a.location, sizeof(x->a.location), "%s", location);
}

static void redirect_splash(struct cg_pt_ctx *x, const char *next)
{
	char *loc = x->a.location;
	size_t sz = sizeof(x->a.location);
	answer_fixed(x, MHD_HTTP_FOUND, text, "");
	int n = snprintf(loc, sz, "%s/splash", x->l->url);
	size_t o = (size_t)n;
	if (next && o + 6 < sz) {
		memcpy(loc + o, "?next=", 7);
		o += 6;
		if (!cg_pt_pct_append(loc, sz, &o, next))
			loc[n] = '\0';
	}
}

static void block_page(struct cg_pt_ctx *x, unsigned status, const char *host,
		       const char *reason, const char *category)
{
	const char *title = category_title(x->rules, category);
	struct cg_www_vars v = {
	    .host = host,
	    .reason = cg_pt_reason(reason),
	    .category = category && category[0] ? category : NULL,
	    .category_title = title,
	};
	answer_page(x, CG_WWW_BLOCK, status, &v);
}

/* ---- a sinkholed name ---- */

/*
 * Why the rules block name for this client now, for a sinkholed name no
 * event has told about yet: the logger hands events over in batches, and
 * a browser asks for the name right after the DNS answer that sent it
 * here.  Seat sessions and budget minutes are the daemon's state, not
 * the portal's: this asks for the seat's own profile with no minutes
 * used, which is every block a name alone decides.
 */
static bool why_blocked(const struct cg_pt_ctx *x, const char *name,
			const char **reason, const char **category)
{
	const struct cg_rules *r = x->rules;
	struct cg_digest_scratch *dg = NULL;
	struct cg_facts f = {
	    .host = name,
	    .host_len = strlen(name),
	    .app_known = true,
	    .final = true,
	};
	struct cg_who who;
	struct cg_when when;
	struct cg_decision d;
	if (!r->nprofiles)
		return false;
	for (int k = 0; k < CG_DIGEST__COUNT; k++)
		if (r->digests[k] && !dg && !(dg = cg_digest_scratch_new()))
			return false;
	cg_state_who(NULL, r, x->seat_ix, x->now, &who);
	cg_localtime_of(&x->lt, x->now, &when, NULL);
	cg_policy_decide(r, &who, &when, &f, NULL, dg, &d, NULL);
	cg_digest_scratch_free(dg);
	if (d.outcome != CG_BLOCK)
		return false;
	*reason = cg_reason_str(d.reason);
	*category = d.reason == CG_REASON_LIST && d.match.cat < r->ncats
			? r->cats[d.match.cat].name
			: NULL;
	return true;
}

static void route_sinkholed(struct cg_pt_ctx *x, const char *host)
{
	const struct cg_pt_client *cl = &x->r->cl;
	if (x->captive) {
		/* Back to what the child asked for, after "I agree". */
		char next[CG_PT_NEXT_MAX + 1];
		const char *uri = x->r->uri;
		int n =
		    uri && uri[0] == '/'
			? snprintf(next, sizeof(next), "http://%s%s", host, uri)
			: -1;
		bool ok =
		    n > 0 && (size_t)n < sizeof(next) && cg_pt_next_ok(next);
		redirect_splash(x, ok ? next : NULL);
		return;
	}
	char name[CG_NAME_BUF] = "";
	struct cg_pt_noted ev;
	if (!cg_pt_host_name(host, strlen(host), name))
		name[0] = '\0';
	const char *reason = "list", *category = NULL;
	if (name[0] && cg_pt_events_of(&x->p->events, x->seat, cl->family,
				       cl->addr, name, &ev, 1) == 1) {
		reason = ev.reason;
		category = ev.category;
	} else if (name[0]) {
		why_blocked(x, name, &reason, &category);
	}
	/* 403: the request was for that site, and it is refused. */
	block_page(x, MHD_HTTP_FORBIDDEN, name, reason, category);
}

/* ---- the portal's own URLs ---- */

/* The valid "next" of a query or form, if any. */
static bool next_of(const char *q, size_t len, char next[CG_PT_NEXT_MAX + 1])
{
	return q && cg_pt_form_get(q, len, "next", next, CG_PT_NEXT_MAX + 1) &&
	       cg_pt_next_ok(next);
}

static void route_status(struct cg_pt_ctx *x)
{
	const struct cg_pt_client *cl = &x->r->cl;
	struct cg_pt_noted ev[CG_PT_ROWS];
	struct cg_www_row rows[CG_PT_ROWS];
	char times[CG_PT_ROWS][CG_PT_TIME_BUF];
	size_t n = cg_pt_events_of(&x->p->events, x->seat, cl->family, cl->addr,
				   NULL, ev, CG_PT_ROWS);
	for (size_t i = 0; i < n; i++) {
		const char *title = category_title(x->rules, ev[i].category);
		cg_pt_local_time(&x->lt, ev[i].time_s, x->now, false, times[i]);
		rows[i] = (struct cg_www_row){
		    .time = times[i],
		    .host = ev[i].host,
		    .reason = cg_pt_reason(ev[i].reason),
		    .category = ev[i].category,
		    .category_title = title ? title : "",
		};
	}
	struct cg_www_vars v = {
	    .captive = x->captive,
	    .rows = rows,
	    .nrows = n,
	};
	answer_page(x, CG_WWW_STATUS, MHD_HTTP_OK, &v);
}

static void route_splash(struct cg_pt_ctx *x)
{
	char next[CG_PT_NEXT_MAX + 1], token[CG_PT_TOKEN_LEN + 1];
	if (!next_of(x->query, x->query_len, next))
		snprintf(next, sizeof(next), "/");
	cg_pt_token(x->p->secret, x->key, hour_now(), token);
	struct cg_www_vars v = {
	    .next = next,
	    .token = token,
	    .captive = x->captive,
	};
	answer_page(x, CG_WWW_SPLASH, MHD_HTTP_OK, &v);
	x->a.form_leaves = true;
}

/* Why an accept form is refused, or 0. */
static unsigned accept_refusal(struct cg_pt_ctx *x)
{
	const struct cg_pt_req *r = x->r;
	const char *ct = header_of(x, MHD_HTTP_HEADER_CONTENT_TYPE);
	static const char form[] = "application/x-www-form-urlencoded";
	if (!r->accepting || r->body_seen > CG_PT_BODY_MAX)
		return 413;
	if (ct && strncasecmp(ct, form, sizeof(form) - 1))
		return MHD_HTTP_BAD_REQUEST;
	char token[CG_PT_TOKEN_LEN + 1];
	if (!r->body ||
	    !cg_pt_form_get(r->body, r->body_len, "token", token,
			    sizeof(token)) ||
	    !cg_pt_token_ok(x->p->secret, x->key, hour_now(), token))
		return MHD_HTTP_FORBIDDEN;
	/* The token already ties the form to this client; the origin
	 * check is a second lock against a page elsewhere posting it. */
	if (!cg_pt_origin_ok(&x->p->self,
			     header_of(x, MHD_HTTP_HEADER_ORIGIN)) ||
	    !cg_pt_referer_ok(&x->p->self,
			      header_of(x, MHD_HTTP_HEADER_REFERER)))
		return MHD_HTTP_FORBIDDEN;
	return 0;
}

/* The operator's log: which seat accepted, when, until when. */
static void note_acceptance(const struct cg_pt_ctx *x,
			    const struct cg_pt_client *cl, int64_t until)
{
	struct cg_eventlog *log = atomic_load(&x->p->log);
	if (!log)
		return;
	struct cg_event e;
	memset(&e, 0, sizeof(e));
	e.time_ms = (uint64_t)x->now * 1000u;
	e.type = CG_EV_CAPTIVE;
	e.family = cl->family;
	e.proto = 6;
	memcpy(e.client, cl->addr, 16);
	e.has_mac = cl->has_mac;
	memcpy(e.mac, cl->mac, 6);
	if (x->seat)
		snprintf(e.seat, sizeof(e.seat), "%s", x->seat);
	char u[32];
	time_t t = (time_t)until;
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(u, sizeof(u), "%Y-%m-%d %H:%M", &tm);
	snprintf(e.detail, sizeof(e.detail), "accepted the house rules, open "
					     "until %s",
		 u);
	cg_eventlog_post(log, &e);
}

static void route_accept(struct cg_pt_ctx *x)
{
	const struct cg_pt_client *cl = &x->r->cl;
	unsigned refusal = accept_refusal(x);
	if (refusal) {
		cg_pt_answer_error(x, refusal);
		return;
	}
	const char *label = x->seat	  ? x->seat
			    : cl->has_mac ? cl->mac_text
					  : cl->ip;
	int64_t until = cg_captive_period_end(
	    &x->lt, x->now, x->rules->respond.splash_period_min);
	struct cg_error err = {{0}};
	if (cg_captive_accept(x->p->cap, x->key, label, until, x->now, &err) <
	    0) {
		fprintf(stderr, "portal: %s accepted the house rules: %s\n",
			label, err.msg);
		/* A state file that cannot be written still leaves the
		 * client open until the daemon stops; a full table not. */
		if (!cg_captive_is_open(x->p->cap, x->key, x->now)) {
			cg_pt_answer_error(x, MHD_HTTP_SERVICE_UNAVAILABLE);
			return;
		}
	}
	atomic_fetch_add(&x->p->accepted, 1);
	note_acceptance(x, cl, until);
	char next[CG_PT_NEXT_MAX + 1];
	answer_redirect(x, MHD_HTTP_SEE_OTHER,
			next_of(x->r->body, x->r->body_len, next) ? next : "/");
}

static void route_blocked(struct cg_pt_ctx *x)
{
	char raw[CG_NAME_BUF + 8], name[CG_NAME_BUF] = "", reason[16] = "",
				   cat[64] = "";
	size_t n;
	const char *q = x->query ? x->query : "";
	if (!cg_pt_form_get(q, x->query_len, "host", raw, sizeof(raw)) ||
	    cg_name_canon(raw, strlen(raw), name, &n) != CG_NAME_OK)
		name[0] = '\0';
	if (!cg_pt_form_get(q, x->query_len, "reason", reason, sizeof(reason)))
		reason[0] = '\0';
	if (!cg_pt_form_get(q, x->query_len, "category", cat, sizeof(cat)) ||
	    !category_title(x->rules, cat))
		cat[0] = '\0';
	/* 200: the portal's page exists; the block was the request the
	 * gateway redirected here. */
	block_page(x, MHD_HTTP_OK, name, reason, cat);
}

/* RFC 8908 5: the captive portal API. */
static void route_api(struct cg_pt_ctx *x)
{
	char *json = malloc(160);
	if (!json) {
		answer_fixed(x, MHD_HTTP_SERVICE_UNAVAILABLE, text, "");
		return;
	}
	int n = snprintf(json, 160,
			 "{\"captive\":%s,\"user-portal-url\":\"%s/splash\"}",
			 x->captive ? "true" : "false", x->l->url);
	answer_fixed(x, MHD_HTTP_OK, "", "");
	/* JSON is UTF-8 by definition (RFC 8259 8.1): no charset, which
	 * is also what RFC 8908 clients compare against. */
	snprintf(x->a.type, sizeof(x->a.type), "application/captive+json");
	x->a.body = json;
	x->a.len = n > 0 && n < 160 ? (size_t)n : 0;
}

/* What each system's captive-portal check expects once it is online. */
static const struct probe {
	const char *path;
	unsigned status;
	const char *type;
	const char *body;
} probes[] = {
    {"/generate_204", 204, text, ""},
    {"/hotspot-detect.html", 200, html,
     "<HTML><HEAD><TITLE>Success</TITLE></HEAD><BODY>Success</BODY></HTML>"},
    {"/connecttest.txt", 200, text, "Microsoft Connect Test"},
    {"/ncsi.txt", 200, text, "Microsoft NCSI"},
    {"/canonical.html", 200, html,
     "<meta http-equiv=\"refresh\" "
     "content=\"0;url=https://support.mozilla.org/kb/captive-portal\"/>"},
    {"/success.txt", 200, text, "success\n"},
};

static bool route_probe(struct cg_pt_ctx *x)
{
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		if (!is(x->url, probes[i].path))
			continue;
		if (x->captive) {
			redirect_splash(x, NULL);
			return true;
		}
		answer_fixed(x, probes[i].status, probes[i].type,
			     probes[i].body);
		return true;
	}
	return false;
}

static bool route_static(struct cg_pt_ctx *x)
{
	const uint8_t *data;
	const char *mime;
	size_t len;
	if (!cg_www_static(x->www, x->url, &data, &len, &mime))
		return false;
	bool textual = !strncmp(mime, "text/", 5) || strstr(mime, "+xml");
	x->a.status = MHD_HTTP_OK;
	x->a.data = data;
	x->a.len = len;
	x->a.copy = true; /* a reload may free the site before it is sent */
	x->a.cacheable = true;
	x->a.lang[0] = '\0';
	snprintf(x->a.type, sizeof(x->a.type), "%s%s", mime,
		 textual && !strstr(mime, "charset") ? "; charset=utf-8" : "");
	return true;
}

static const struct route {
	const char *path;
	bool post; /* POST only; else GET and HEAD */
	void (*fn)(struct cg_pt_ctx *x);
} routes[] = {
    {"/", false, route_status},		{"/splash", false, route_splash},
    {"/accept", true, route_accept},	{"/blocked", false, route_blocked},
    {"/api/captive", false, route_api},
};

static bool is_get(const char *method)
{
	return is(method, MHD_HTTP_METHOD_GET) ||
	       is(method, MHD_HTTP_METHOD_HEAD);
}

static bool host_is_self(const struct cg_portal *p, const char *host)
{
	/* No Host (HTTP/1.0) or an empty one (RFC 9112 3.2): the
	 * client asked whoever answers, which is the portal. */
	return !host || !host[0] ||
	       cg_pt_host_is_self(&p->self, host, strlen(host));
}

bool cg_pt_for_self(const struct cg_portal *p, struct MHD_Connection *c)
{
	return host_is_self(p, MHD_lookup_connection_value(
				   c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST));
}

bool cg_pt_reads_body(const struct cg_pt_listener *l, struct MHD_Connection *c,
		      const char *url, const char *method)
{
	return is(method, MHD_HTTP_METHOD_POST) &&
	       (is(url, "/accept") || cg_pt_is_admin(url)) &&
	       cg_pt_for_self(l->p, c);
}

static void method_not_allowed(struct cg_pt_ctx *x, const char *allow)
{
	cg_pt_answer_error(x, MHD_HTTP_METHOD_NOT_ALLOWED);
	x->a.allow = allow;
}

void cg_pt_route(struct cg_pt_ctx *x)
{
	const char *host = header_of(x, MHD_HTTP_HEADER_HOST);
	if (!host_is_self(x->p, host)) {
		route_sinkholed(x, host);
		return;
	}
	if (!x->r->uri) {
		cg_pt_answer_error(x, MHD_HTTP_URI_TOO_LONG);
		return;
	}
	if (cg_pt_is_admin(x->url)) {
		cg_pt_admin_route(x);
		return;
	}
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const struct route *rt = &routes[i];
		if (!is(x->url, rt->path))
			continue;
		if (rt->post ? !is(x->method, MHD_HTTP_METHOD_POST)
			     : !is_get(x->method))
			method_not_allowed(x, rt->post ? "POST" : GET_HEAD);
		else
			rt->fn(x);
		return;
	}
	if (!is_get(x->method))
		method_not_allowed(x, GET_HEAD);
	else if (!route_probe(x) && !route_static(x))
		cg_pt_answer_error(x, MHD_HTTP_NOT_FOUND);
}
