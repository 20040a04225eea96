/*
 * The owner's dashboard: who may reach it, the login, the forms behind
 * it (portal.h lists the URLs, portal_internal.h the two halves).
 *
 * A request is decided before the portal's lock (cg_pt_admin_begin):
 * a login runs scrypt for a tenth of a second and the dashboard reads
 * the store, and the seats' pages must not wait on either.  Only the
 * page, which reads the rules and the captive table, is built under the
 * lock (cg_pt_admin_route, portal_admin_page.c).
 *
 * Sessions and lockout run on the real clock, not the policy's (a test
 * clock that jumps must not end a session or a lockout early).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/crypto.h>

#include "portal_internal.h"

static const char passwd_text[] =
    "No admin password is set on this box. On the box, run "
    "\"cafeguardctl passwd\" (as root), then \"cafeguardctl reload\".";

static bool is(const char *a, const char *b)
{
	return !strcmp(a, b);
}

static const char *header_of(const struct cg_pt_ctx *x, const char *name)
{
	return MHD_lookup_connection_value(x->c, MHD_HEADER_KIND, name);
}

static int64_t real_now(void)
{
	return (int64_t)time(NULL);
}

bool cg_pt_is_admin(const char *url)
{
	return is(url, "/admin") || !strncmp(url, "/admin/", 7);
}

/*
 * The LAN side: a neighbour on the LAN interface (the portal looked its
 * MAC up there), or the box itself.  A client routed to the portal's
 * address from the WAN has no neighbour entry on the LAN, and a packet
 * from outside bearing one of the box's own addresses is a martian the
 * kernel drops (accept_local is off by default).  Loopback is a person
 * at the box (and the unit tests).
 */
static bool lan_side(const struct cg_portal *p, const struct cg_pt_client *cl)
{
	static const uint8_t lo6[16] = {[15] = 1};
	if (cl->family == 4)
		return cl->addr[0] == 127 || cl->has_mac ||
		       (p->self.has4 && !memcmp(cl->addr, p->self.addr4, 4));
	return !memcmp(cl->addr, lo6, 16) || cl->has_mac ||
	       (p->self.has6 && !memcmp(cl->addr, p->self.addr6, 16));
}

/* ---- outcomes ---- */

static void message(struct cg_pt_admin *ad, unsigned status, const char *title,
		    const char *text)
{
	ad->view = CG_PT_ADMIN_MESSAGE;
	ad->status = status;
	ad->title = title;
	ad->text = text;
}

static void redirect(struct cg_pt_admin *ad, const char *location)
{
	ad->view = CG_PT_ADMIN_REDIRECT;
	ad->status = MHD_HTTP_SEE_OTHER;
	ad->location = location;
}

static void login_form(struct cg_pt_ctx *x, struct cg_pt_admin *ad,
		       unsigned status, const char *why)
{
	const struct cg_pt_client *cl = &x->r->cl;
	ad->view = CG_PT_ADMIN_LOGIN;
	ad->status = status;
	ad->text = why;
	cg_auth_login_csrf(x->p->auth, cl->family, cl->addr, ad->token);
}

static void locked(struct cg_pt_admin *ad, int64_t retry)
{
	message(ad, MHD_HTTP_TOO_MANY_REQUESTS, "Too many wrong passwords",
		"Logins from this device are locked for a while.");
	ad->retry_after = retry > 0 ? retry : 1;
}

static void refuse_form(struct cg_pt_admin *ad, unsigned status)
{
	if (status == MHD_HTTP_FORBIDDEN)
		message(ad, status, "Form refused",
			"The form's token is missing or out of date, or it was "
			"sent from another site. Open the dashboard again and "
			"use its buttons.");
	else if (status == 413)
		message(ad, status, "Form too large", "The form is too large.");
	else
		message(ad, status, "Bad form", "The form could not be read.");
}

/* ---- the forms ---- */

static bool field(const struct cg_pt_ctx *x, const char *name, char *out,
		  size_t outsz)
{
	const struct cg_pt_req *r = x->r;
	return r->body &&
	       cg_pt_form_get(r->body, r->body_len, name, out, outsz);
}

/* Why a POST's form is refused before its token is looked at, or 0. */
static unsigned form_refusal(const struct cg_pt_ctx *x)
{
	static const char form[] = "application/x-www-form-urlencoded";
	const struct cg_pt_req *r = x->r;
	const char *ct = header_of(x, MHD_HTTP_HEADER_CONTENT_TYPE);
	if (!r->accepting || r->body_seen > CG_PT_BODY_MAX)
		return 413;
	if (ct && strncasecmp(ct, form, sizeof(form) - 1))
		return MHD_HTTP_BAD_REQUEST;
	/* SameSite=Strict and the token already stop another site's
	 * form; this is the third lock. */
	if (!cg_pt_origin_ok(&x->p->self,
			     header_of(x, MHD_HTTP_HEADER_ORIGIN)) ||
	    !cg_pt_referer_ok(&x->p->self,
			      header_of(x, MHD_HTTP_HEADER_REFERER)))
		return MHD_HTTP_FORBIDDEN;
	return 0;
}

static bool session_of(const struct cg_pt_ctx *x,
		       struct cg_auth_session_info *s)
{
	const struct cg_pt_client *cl = &x->r->cl;
	return cg_auth_session(x->p->auth, header_of(x, MHD_HTTP_HEADER_COOKIE),
			       cl->family, cl->addr, real_now(), s);
}

/* A POST behind the session: 0 with s when its form and token are
 * good, else the refusal already in ad. */
static int session_form(struct cg_pt_ctx *x, struct cg_pt_admin *ad,
			struct cg_auth_session_info *s)
{
	char token[CG_AUTH_TOKEN_BUF];
	unsigned bad = form_refusal(x);
	if (!bad && (!session_of(x, s) ||
		     !field(x, "token", token, sizeof(token)) ||
		     !cg_auth_csrf_ok(s, token)))
		bad = MHD_HTTP_FORBIDDEN;
	if (bad)
		refuse_form(ad, bad);
	return bad ? -1 : 0;
}

/* ---- the routes ---- */

static void get_dashboard(struct cg_pt_ctx *x, struct cg_pt_admin *ad)
{
	struct cg_auth_session_info s;
	if (!session_of(x, &s)) {
		redirect(ad, "/admin/login");
		return;
	}
	ad->view = CG_PT_ADMIN_DASHBOARD;
	ad->status = MHD_HTTP_OK;
	snprintf(ad->token, sizeof(ad->token), "%s", s.csrf);
	const char *q = strchr(x->r->uri, '?');
	char note[16];
	ad->reload_noted = q && cg_pt_form_get(q + 1, strlen(q + 1), "note",
					       note, sizeof(note)) &&
			   is(note, "reload");
	/* Without memory the page says the store could not be read. */
	ad->day = calloc(1, sizeof(*ad->day));
	if (ad->day)
		cg_pt_admin_read_day(x->p->db_file,
				     cg_clock_now(x->p->clock,
						  (uint64_t)real_now() * 1000u),
				     ad->day);
	OPENSSL_cleanse(&s, sizeof(s));
}

static void get_login(struct cg_pt_ctx *x, struct cg_pt_admin *ad)
{
	if (!cg_auth_has_password(x->p->auth)) {
		message(ad, MHD_HTTP_SERVICE_UNAVAILABLE, "No admin password",
			passwd_text);
		return;
	}
	struct cg_auth_session_info s;
	if (session_of(x, &s))
		redirect(ad, "/admin");
	else
		login_form(x, ad, MHD_HTTP_OK, NULL);
}

static void log_login(const struct cg_pt_ctx *x, enum cg_auth_result r)
{
	/* The daemon's log: who tried, from where, how it went. */
	const struct cg_pt_client *cl = &x->r->cl;
	fprintf(stderr, "portal: admin login from %s%s%s: %s\n", cl->ip,
		cl->has_mac ? " " : "", cl->mac_text, cg_auth_result_name(r));
}

static void post_login(struct cg_pt_ctx *x, struct cg_pt_admin *ad)
{
	const struct cg_pt_client *cl = &x->r->cl;
	char token[CG_AUTH_TOKEN_BUF], pw[CG_PT_BODY_MAX + 1];
	unsigned bad = form_refusal(x);
	if (!bad && (!field(x, "token", token, sizeof(token)) ||
		     !cg_auth_login_csrf_ok(x->p->auth, cl->family, cl->addr,
					    token)))
		bad = MHD_HTTP_FORBIDDEN;
	if (bad) {
		refuse_form(ad, bad);
		return;
	}
	if (!field(x, "password", pw, sizeof(pw)))
		pw[0] = '\0';
	OPENSSL_cleanse(x->r->body, x->r->body_len);
	int64_t retry = 0, now = real_now();
	struct cg_auth_session_info s;
	enum cg_auth_result r = cg_auth_login(x->p->auth, pw, cl->family,
					      cl->addr, now, &s, &retry);
	OPENSSL_cleanse(pw, sizeof(pw));
	if (r != CG_AUTH_NO_PASSWORD && r != CG_AUTH_BUSY)
		log_login(x, r);
	switch (r) {
	case CG_AUTH_OK:
		if (!cg_auth_cookie(s.sid, CG_AUTH_LIFETIME_S, x->a.cookie,
				    sizeof(x->a.cookie))) {
			message(ad, MHD_HTTP_INTERNAL_SERVER_ERROR,
				"Login failed", "The session could not start.");
			break;
		}
		redirect(ad, "/admin");
		break;
	case CG_AUTH_WRONG:
		if (retry > 0)
			locked(ad, retry); /* that was the last try */
		else
			login_form(x, ad, MHD_HTTP_FORBIDDEN,
				   "Wrong password.");
		break;
	case CG_AUTH_LOCKED:
		locked(ad, retry);
		break;
	case CG_AUTH_NO_PASSWORD:
		message(ad, MHD_HTTP_SERVICE_UNAVAILABLE, "No admin password",
			passwd_text);
		break;
	case CG_AUTH_BUSY:
		message(ad, MHD_HTTP_SERVICE_UNAVAILABLE, "Busy",
			"Too many logins at once. Try again in a moment.");
		ad->retry_after = retry > 0 ? retry : 1;
		break;
	}
	OPENSSL_cleanse(&s, sizeof(s));
}

static void post_logout(struct cg_pt_ctx *x, struct cg_pt_admin *ad)
{
	struct cg_auth_session_info s;
	if (session_form(x, ad, &s) < 0)
		return;
	cg_auth_logout(x->p->auth, s.sid);
	OPENSSL_cleanse(&s, sizeof(s));
	cg_auth_cookie(NULL, 0, x->a.cookie, sizeof(x->a.cookie));
	redirect(ad, "/admin/login");
}

static void post_reload(struct cg_pt_ctx *x, struct cg_pt_admin *ad)
{
	struct cg_auth_session_info s;
	if (session_form(x, ad, &s) < 0)
		return;
	OPENSSL_cleanse(&s, sizeof(s));
	/* The daemon's main thread reads SIGHUP from its signalfd (every
	 * thread blocks it) and reloads as on `kill -HUP`: the portal
	 * never reloads itself under its own feet. */
	if (kill(getpid(), SIGHUP) < 0) {
		fprintf(stderr, "portal: reload from the dashboard: %s\n",
			strerror(errno));
		message(ad, MHD_HTTP_INTERNAL_SERVER_ERROR, "Reload failed",
			"The reload could not be requested.");
		return;
	}
	fprintf(stderr, "portal: reload asked for from the dashboard (%s)\n",
		x->r->cl.ip);
	redirect(ad, "/admin?note=reload");
}

static const struct admin_route {
	const char *path;
	bool post; /* else GET and HEAD */
	void (*fn)(struct cg_pt_ctx *x, struct cg_pt_admin *ad);
} admin_routes[] = {
    {"/admin", false, get_dashboard},	 {"/admin/login", false, get_login},
    {"/admin/login", true, post_login},	 {"/admin/logout", true, post_logout},
    {"/admin/reload", true, post_reload},
};

static bool is_get(const char *method)
{
	return is(method, MHD_HTTP_METHOD_GET) ||
	       is(method, MHD_HTTP_METHOD_HEAD);
}

void cg_pt_admin_begin(struct cg_pt_ctx *x, struct cg_pt_admin *ad)
{
	memset(ad, 0, sizeof(*ad));
	bool get = is_get(x->method), post = is(x->method, MHD_HTTP_METHOD_POST);
	if (!lan_side(x->p, &x->r->cl)) {
		message(ad, MHD_HTTP_FORBIDDEN, "Not from here",
			"The dashboard answers only on the café's own network.");
		return;
	}
	if (is(x->url, "/admin/admin.css") && get) {
		ad->view = CG_PT_ADMIN_CSS;
		ad->status = MHD_HTTP_OK;
		return;
	}
	if (!x->p->auth) {
		message(ad, MHD_HTTP_SERVICE_UNAVAILABLE, "No dashboard",
			"This box has no dashboard: set admin.password_file in "
			"its configuration, run \"cafeguardctl passwd\", then "
			"restart cafeguard.");
		return;
	}
	bool known = false;
	for (size_t i = 0; i < sizeof(admin_routes) / sizeof(admin_routes[0]);
	     i++) {
		const struct admin_route *rt = &admin_routes[i];
		if (!is(x->url, rt->path))
			continue;
		known = true;
		if (rt->post ? post : get) {
			rt->fn(x, ad);
			return;
		}
	}
	if (!known) {
		message(ad, MHD_HTTP_NOT_FOUND, "Not found",
			"The dashboard has no such page.");
		return;
	}
	message(ad, MHD_HTTP_METHOD_NOT_ALLOWED, "Not allowed",
		"That page does not take this method.");
	x->a.allow = is(x->url, "/admin/login")	 ? "GET, HEAD, POST"
		     : is(x->url, "/admin")	 ? "GET, HEAD"
						 : "POST";
}

void cg_pt_admin_route(struct cg_pt_ctx *x)
{
	struct cg_pt_admin *ad = x->admin;
	if (!ad) {
		cg_pt_answer_error(x, MHD_HTTP_SERVICE_UNAVAILABLE);
		return;
	}
	struct cg_pt_answer *a = &x->a;
	a->status = ad->status;
	a->lang[0] = '\0';
	if (ad->retry_after > 0)
		a->retry_after = ad->retry_after > UINT32_MAX
				     ? UINT32_MAX
				     : (uint32_t)ad->retry_after;
	if (ad->status >= 400 && ad->status < 500 &&
	    ad->status != MHD_HTTP_NOT_FOUND &&
	    ad->status != MHD_HTTP_TOO_MANY_REQUESTS)
		atomic_fetch_add(&x->p->refused_bad, 1);
	switch (ad->view) {
	case CG_PT_ADMIN_REDIRECT:
		a->data = "";
		a->len = 0;
		snprintf(a->type, sizeof(a->type), "text/plain; charset=utf-8");
		snprintf(a->location, sizeof(a->location), "%s", ad->location);
		return;
	case CG_PT_ADMIN_CSS:
		a->data = cg_pt_admin_css;
		a->len = strlen(cg_pt_admin_css);
		a->cacheable = true;
		snprintf(a->type, sizeof(a->type), "text/css; charset=utf-8");
		return;
	default:
		break;
	}
	a->body = cg_pt_admin_page(x, ad, &a->len);
	if (!a->body) {
		cg_pt_answer_error(x, MHD_HTTP_INTERNAL_SERVER_ERROR);
		return;
	}
	atomic_fetch_add(&x->p->pages, 1);
	snprintf(a->type, sizeof(a->type), "text/html; charset=utf-8");
	snprintf(a->lang, sizeof(a->lang), "en");
}

void cg_pt_admin_free(struct cg_pt_admin *ad)
{
	if (!ad)
		return;
	free(ad->day);
	OPENSSL_cleanse(ad, sizeof(*ad));
	free(ad);
}
