/*
 * portal: start, stop, reload, and the libmicrohttpd glue (portal.h).
 *
 * One libmicrohttpd daemon per address (IPv4, IPv6), each with its own
 * polling thread.  A request is handled in two steps: what needs no
 * shared state (the client's address and MAC, its request rate) first,
 * then the route under the portal's lock, which is what lets a reload
 * swap the rules and pages and free the old ones without waiting for
 * anything but requests already inside.  Answers own their bytes, so a
 * response still being sent never points into a freed site.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

#include <microhttpd.h>

#include "portal_internal.h"

/* Headers and the request line must fit: more is 431 or 414 from
 * libmicrohttpd itself. */
#define CG_PT_CONN_MEMORY (16u * 1024u)

#define CSP(form)                                                              \
	"default-src 'none'; style-src 'self'; img-src 'self'; "               \
	"form-action " form "; frame-ancestors 'none'; base-uri 'none'"

/*
 * The splash page's "I agree" is answered with a 303 to the page the
 * child asked for, and Chrome holds every redirect of a form submission
 * to the form-action of the page that sent it: that page's form may end
 * on any web site.  It posts only to /accept (no script runs, every
 * value is escaped), so this widens nothing a seat can use.
 */
static const char csp[] = CSP("'self'");
static const char csp_form_leaves[] = CSP("'self' http: https:");

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- the café's details ---- */

static size_t str_size(const char *s)
{
	return s ? strlen(s) + 1 : 1;
}

static const char *str_put(char **at, const char *s)
{
	char *r = *at;
	size_t n = str_size(s);
	memcpy(r, s ? s : "", n);
	*at += n;
	return r;
}

static int site_copy(struct cg_pt_site *s, const struct cg_config *cfg)
{
	size_t n = str_size(cfg->cafe_name) + str_size(cfg->country);
	for (size_t i = 0; i < cfg->nhotlines; i++) {
		const struct cg_config_hotline *h = &cfg->hotlines[i];
		n += str_size(h->country) + str_size(h->name) +
		     str_size(h->url) + str_size(h->phone);
	}
	memset(s, 0, sizeof(*s));
	s->strings = malloc(n);
	s->hotlines =
	    calloc(cfg->nhotlines ? cfg->nhotlines : 1, sizeof(*s->hotlines));
	if (!s->strings || !s->hotlines) {
		free(s->strings);
		free(s->hotlines);
		return -1;
	}
	char *at = s->strings;
	s->view.cafe_name = str_put(&at, cfg->cafe_name);
	s->view.country = str_put(&at, cfg->country);
	for (size_t i = 0; i < cfg->nhotlines; i++) {
		const struct cg_config_hotline *h = &cfg->hotlines[i];
		s->hotlines[i] = (struct cg_www_hotline){
		    .country = str_put(&at, h->country),
		    .name = str_put(&at, h->name),
		    .url = str_put(&at, h->url),
		    .phone = str_put(&at, h->phone),
		};
	}
	s->view.hotlines = s->hotlines;
	s->view.nhotlines = cfg->nhotlines;
	return 0;
}

static void site_free(struct cg_pt_site *s)
{
	free(s->strings);
	free(s->hotlines);
}

/* ---- answering ---- */

static void header(struct MHD_Response *rs, const char *name, const char *value)
{
	/* Only a lack of memory fails here: the answer then goes out
	 * without the header rather than not at all. */
	(void)MHD_add_response_header(rs, name, value);
}

static enum MHD_Result send_answer(struct MHD_Connection *c,
				   struct cg_pt_answer *a)
{
	struct MHD_Response *rs;
	if (a->body)
		rs = MHD_create_response_from_buffer(a->len, a->body,
						     MHD_RESPMEM_MUST_FREE);
	else
		rs = MHD_create_response_from_buffer(
		    a->len, (void *)(a->data ? a->data : ""),
		    a->copy ? MHD_RESPMEM_MUST_COPY : MHD_RESPMEM_PERSISTENT);
	if (!rs) {
		free(a->body);
		return MHD_NO;
	}
	header(rs, MHD_HTTP_HEADER_CONTENT_TYPE,
	       a->type[0] ? a->type : "text/plain; charset=utf-8");
	header(rs, "Content-Security-Policy",
	       a->form_leaves ? csp_form_leaves : csp);
	header(rs, "X-Content-Type-Options", "nosniff");
	header(rs, "Referrer-Policy", "no-referrer");
	header(rs, MHD_HTTP_HEADER_CACHE_CONTROL,
	       a->cacheable ? "max-age=3600" : "no-store");
	if (a->lang[0])
		header(rs, MHD_HTTP_HEADER_CONTENT_LANGUAGE, a->lang);
	if (a->location[0])
		header(rs, MHD_HTTP_HEADER_LOCATION, a->location);
	if (a->allow)
		header(rs, MHD_HTTP_HEADER_ALLOW, a->allow);
	if (a->cookie[0])
		header(rs, MHD_HTTP_HEADER_SET_COOKIE, a->cookie);
	if (a->retry_after) {
		char v[16];
		snprintf(v, sizeof(v), "%u", a->retry_after);
		header(rs, MHD_HTTP_HEADER_RETRY_AFTER, v);
	}
	enum MHD_Result r = MHD_queue_response(c, a->status, rs);
	MHD_destroy_response(rs);
	return r;
}

/* ---- a request ---- */

static bool client_of(const struct sockaddr *sa, struct cg_pt_client *cl)
{
	memset(cl, 0, sizeof(*cl));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;
		cl->family = 4;
		memcpy(cl->addr, &s4->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;
		const uint8_t *b = s6->sin6_addr.s6_addr;
		/* A mapped IPv4 client is that IPv4 client. */
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			cl->family = 4;
			memcpy(cl->addr, b + 12, 4);
		} else {
			cl->family = 6;
			memcpy(cl->addr, b, 16);
		}
	} else {
		return false;
	}
	inet_ntop(cl->family == 4 ? AF_INET : AF_INET6, cl->addr, cl->ip,
		  sizeof(cl->ip));
	return true;
}

static void client_mac(const struct cg_portal *p, struct cg_pt_client *cl)
{
	if (cg_pt_neigh_mac(p->ifindex, cl->family, cl->addr, cl->mac) < 0)
		return;
	cl->has_mac = true;
	snprintf(cl->mac_text, sizeof(cl->mac_text),
		 "%02x:%02x:%02x:%02x:%02x:%02x", cl->mac[0], cl->mac[1],
		 cl->mac[2], cl->mac[3], cl->mac[4], cl->mac[5]);
}

static const char *lang_of(const struct cg_www *w, const char *query,
			   size_t qlen, struct MHD_Connection *c)
{
	char want[24];
	if (query && cg_pt_form_get(query, qlen, "lang", want, sizeof(want))) {
		const char *const *tags;
		size_t n = cg_www_langs(w, &tags);
		for (size_t i = 0; i < n; i++)
			if (!strcasecmp(tags[i], want))
				return tags[i];
	}
	return cg_www_negotiate(
	    w, MHD_lookup_connection_value(c, MHD_HEADER_KIND,
					   MHD_HTTP_HEADER_ACCEPT_LANGUAGE));
}

/* Everything a route reads, taken under p->lock (held by the caller). */
static void ctx_fill(struct cg_pt_ctx *x)
{
	struct cg_portal *p = x->p;
	const struct cg_pt_client *cl = &x->r->cl;
	x->rules = p->rules;
	x->www = p->www;
	const char *q = x->r->uri ? strchr(x->r->uri, '?') : NULL;
	x->query = q ? q + 1 : NULL;
	x->query_len = q ? strlen(q + 1) : 0;
	int seat = cg_rules_seat(x->rules, cl->has_mac ? cl->mac : NULL,
				 cl->family, cl->addr);
	x->seat_ix = seat;
	x->seat = seat >= 0 ? x->rules->seats[seat].name : NULL;
	x->key = cg_captive_key(x->seat, cl->has_mac ? cl->mac : NULL,
				cl->family, cl->addr);
	x->now = cg_clock_now(p->clock, wall_ms());
	cg_localtime_refresh(&x->lt, x->now);
	x->captive = x->rules->respond.splash &&
		     !cg_captive_is_open(p->cap, x->key, x->now);
	x->lang = lang_of(x->www, x->query, x->query_len, x->c);
	snprintf(x->a.lang, sizeof(x->a.lang), "%s", x->lang);
	cg_pt_local_time(&x->lt, x->now, x->now, true, x->time);
}

static enum MHD_Result answer(struct cg_pt_listener *l,
			      struct MHD_Connection *c, const char *url,
			      const char *method, struct cg_pt_req *r,
			      uint32_t retry_after)
{
	struct cg_portal *p = l->p;
	struct cg_pt_ctx x = {
	    .p = p,
	    .l = l,
	    .c = c,
	    .r = r,
	    .url = url,
	    .method = method,
	};
	/* The dashboard's login runs scrypt and its page reads the store:
	 * both before the lock, so the seats' pages never wait on them. */
	if (!retry_after && r->uri && cg_pt_is_admin(url) &&
	    cg_pt_for_self(p, c) && (x.admin = malloc(sizeof(*x.admin))))
		cg_pt_admin_begin(&x, x.admin);
	pthread_mutex_lock(&p->lock);
	ctx_fill(&x);
	if (retry_after) {
		cg_pt_answer_error(&x, MHD_HTTP_TOO_MANY_REQUESTS);
		x.a.retry_after = retry_after;
	} else {
		cg_pt_route(&x);
	}
	pthread_mutex_unlock(&p->lock);
	cg_pt_admin_free(x.admin);
	return send_answer(c, &x.a);
}

/* Collects the accept form; over CG_PT_BODY_MAX it is only counted, and a
 * client that keeps sending is cut. */
static enum MHD_Result take_body(struct cg_pt_req *r, const char *data,
				 size_t *size)
{
	if (r->body_seen + *size > 16 * CG_PT_BODY_MAX)
		return MHD_NO;
	if (!r->body && !(r->body = malloc(CG_PT_BODY_MAX + 1)))
		return MHD_NO;
	if (r->body_len + *size <= CG_PT_BODY_MAX) {
		memcpy(r->body + r->body_len, data, *size);
		r->body_len += *size;
		r->body[r->body_len] = '\0';
	}
	r->body_seen += *size;
	*size = 0;
	return MHD_YES;
}

static bool body_too_big(struct MHD_Connection *c)
{
	const char *cl = MHD_lookup_connection_value(
	    c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	return cl && strtoull(cl, NULL, 10) > CG_PT_BODY_MAX;
}

static bool has_body(struct MHD_Connection *c)
{
	const char *cl = MHD_lookup_connection_value(
	    c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	return (cl && strtoull(cl, NULL, 10) > 0) ||
	       MHD_lookup_connection_value(c, MHD_HEADER_KIND,
					   MHD_HTTP_HEADER_TRANSFER_ENCODING);
}

/* The headers are in: what needs no lock.  MHD_YES to wait for the rest
 * of the request, else the answer queued now. */
static enum MHD_Result first_call(struct cg_pt_listener *l,
				  struct MHD_Connection *c, const char *url,
				  const char *method, struct cg_pt_req *r)
{
	struct cg_portal *p = l->p;
	r->started = true;
	atomic_fetch_add(&p->requests, 1);
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (!ci || !ci->client_addr || !client_of(ci->client_addr, &r->cl))
		return MHD_NO;
	uint32_t wait =
	    cg_pt_rate_take(&p->rate, r->cl.family, r->cl.addr, mono_ms());
	if (wait) {
		atomic_fetch_add(&p->refused_rate, 1);
		return answer(l, c, url, method, r, wait);
	}
	client_mac(p, &r->cl);
	r->accepting = cg_pt_reads_body(l, c, url, method) && !body_too_big(c);
	/* An answer queued before the request is whole makes
	 * libmicrohttpd close the connection after it: right for a body
	 * nobody reads (and a form too big); anything else is answered on
	 * the next call, and the connection may carry another request. */
	if (r->accepting || !has_body(c))
		return MHD_YES;
	return answer(l, c, url, method, r, 0);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
				  const char *url, const char *method,
				  const char *version, const char *data,
				  size_t *size, void **con_cls)
{
	struct cg_pt_listener *l = cls;
	struct cg_pt_req *r = *con_cls;
	(void)version;
	if (!r)
		return MHD_NO; /* no memory for it when its URI came */
	if (!r->started)
		return first_call(l, c, url, method, r);
	if (*size)
		return take_body(r, data, size);
	return answer(l, c, url, method, r, 0);
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	(void)cls;
	(void)c;
	struct cg_pt_req *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->uri_len = strlen(uri);
	if (r->uri_len <= CG_PT_URI_MAX && !(r->uri = strdup(uri))) {
		free(r);
		return NULL;
	}
	return r;
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
		    enum MHD_RequestTerminationCode why)
{
	(void)cls;
	(void)c;
	(void)why;
	struct cg_pt_req *r = *con_cls;
	if (r) {
		free(r->uri);
		free(r->body);
		free(r);
	}
	*con_cls = NULL;
}

/* ---- start and stop ---- */

static void fill_url(struct cg_pt_listener *l, const struct cg_config_addr *a)
{
	char ip[INET6_ADDRSTRLEN] = "", port[8] = "";
	inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->addr, ip, sizeof(ip));
	if (l->port != 80)
		snprintf(port, sizeof(port), ":%u", l->port);
	snprintf(l->url, sizeof(l->url), "http://%s%s%s%s",
		 a->family == 6 ? "[" : "", ip, a->family == 6 ? "]" : "",
		 port);
}

static int listen_on(struct cg_portal *p, const struct cg_config_addr *a,
		     const struct cg_config *cfg, struct cg_error *err)
{
	struct cg_pt_listener *l = &p->lis[p->nlis];
	struct sockaddr_in s4 = {.sin_family = AF_INET};
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};
	const struct sockaddr *sa = (const void *)&s4;
	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD;
	if (a->family == 4) {
		memcpy(&s4.sin_addr, a->addr, 4);
		s4.sin_port = htons(cfg->portal_port);
	} else {
		memcpy(&s6.sin6_addr, a->addr, 16);
		s6.sin6_port = htons(cfg->portal_port);
		sa = (const void *)&s6;
		flags |= MHD_USE_IPv6;
	}
	l->p = p;
	l->family = a->family;
	errno = 0;
	l->mhd = MHD_start_daemon(
	    flags, 0, NULL, NULL, on_request, l, MHD_OPTION_SOCK_ADDR, sa,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->portal_max_conns,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)cfg->portal_per_ip,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->portal_timeout_s,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CG_PT_CONN_MEMORY,
	    MHD_OPTION_URI_LOG_CALLBACK, on_uri, l, MHD_OPTION_NOTIFY_COMPLETED,
	    on_done, l, MHD_OPTION_END);
	char ip[INET6_ADDRSTRLEN] = "?";
	inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->addr, ip, sizeof(ip));
	if (!l->mhd)
		return cg_error_set(err,
				    "portal: cannot listen on %s port %u: %s",
				    ip, cfg->portal_port,
				    errno ? strerror(errno)
					  : "libmicrohttpd "
					    "refused");
	const union MHD_DaemonInfo *di =
	    MHD_get_daemon_info(l->mhd, MHD_DAEMON_INFO_BIND_PORT);
	l->port = di && di->port ? di->port : cfg->portal_port;
	fill_url(l, a);
	if (a->family == 4) {
		p->self.has4 = true;
		memcpy(p->self.addr4, a->addr, 4);
		p->self.port4 = l->port;
	} else {
		p->self.has6 = true;
		memcpy(p->self.addr6, a->addr, 16);
		p->self.port6 = l->port;
	}
	p->nlis++;
	return 0;
}

static void portal_free(struct cg_portal *p)
{
	for (size_t i = 0; i < p->nlis; i++)
		MHD_stop_daemon(p->lis[i].mhd);
	if (p->www)
		cg_www_free(p->www);
	site_free(&p->site);
	free(p->db_file);
	cg_pt_rate_destroy(&p->rate);
	cg_pt_events_destroy(&p->events);
	pthread_mutex_destroy(&p->lock);
	explicit_bzero(p->secret, sizeof(p->secret));
	free(p);
}

static struct cg_portal *portal_new(const struct cg_portal_opts *o,
				    struct cg_captive *cap,
				    const struct cg_rules *rules,
				    struct cg_error *err)
{
	const struct cg_config *cfg = o->cfg;
	struct cg_portal *p = calloc(1, sizeof(*p));
	if (!p) {
		cg_error_set(err, "portal: out of memory");
		return NULL;
	}
	if (site_copy(&p->site, cfg) < 0) {
		free(p);
		cg_error_set(err, "portal: out of memory");
		return NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	cg_pt_events_init(&p->events);
	cg_pt_rate_init(&p->rate, cfg->portal_rate);
	p->clock = o->clock;
	p->cap = cap;
	p->rules = rules;
	p->auth = o->auth;
	p->loaded_s = cg_clock_now(p->clock, wall_ms());
	if (cfg->db_file && !(p->db_file = strdup(cfg->db_file))) {
		cg_error_set(err, "portal: out of memory");
		portal_free(p);
		return NULL;
	}
	return p;
}

/* The accept token's key: fresh each start, so tokens die with the
 * daemon and nothing secret is kept on disk. */
static int make_secret(uint8_t *s, size_t n, struct cg_error *err)
{
	for (size_t got = 0; got < n;) {
		ssize_t k = getrandom(s + got, n - got, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return cg_error_set(err, "portal: getrandom: %s",
					    strerror(errno));
		got += (size_t)k;
	}
	return 0;
}

static int start_checks(const struct cg_portal_opts *o, unsigned *ifindex,
			struct cg_error *err)
{
	const struct cg_config *cfg = o->cfg;
	if (!cfg->portal_addr4.family && !cfg->portal_addr6.family)
		return cg_error_set(err, "portal: no address to listen on");
	if (!cfg->www_dir || !cfg->language)
		return cg_error_set(err, "portal: no pages (portal.www)");
	*ifindex = 0;
	if (o->lan && o->lan[0] && !(*ifindex = if_nametoindex(o->lan)))
		return cg_error_set(err, "portal: no interface \"%s\": %s",
				    o->lan, strerror(errno));
	return 0;
}

struct cg_portal *cg_portal_start(const struct cg_portal_opts *o,
				  struct cg_captive *cap,
				  const struct cg_rules *rules,
				  struct cg_diag *d, struct cg_error *err)
{
	const struct cg_config *cfg = o->cfg;
	unsigned ifindex;
	if (start_checks(o, &ifindex, err) < 0)
		return NULL;
	struct cg_portal *p = portal_new(o, cap, rules, err);
	if (!p)
		return NULL;
	p->ifindex = ifindex;
	if (make_secret(p->secret, sizeof(p->secret), err) < 0)
		goto fail;
	if (cg_www_load(cfg->www_dir, cfg->language, &p->www, d) < 0) {
		p->www = NULL;
		cg_error_set(err, "portal: the pages in %s did not load",
			     cfg->www_dir);
		goto fail;
	}
	if ((cfg->portal_addr4.family &&
	     listen_on(p, &cfg->portal_addr4, cfg, err) < 0) ||
	    (cfg->portal_addr6.family &&
	     listen_on(p, &cfg->portal_addr6, cfg, err) < 0))
		goto fail;
	return p;
fail:
	portal_free(p);
	return NULL;
}

int cg_portal_reload(struct cg_portal *p, const struct cg_config *cfg,
		     const struct cg_rules *rules, struct cg_diag *d)
{
	struct cg_www *www = NULL;
	struct cg_pt_site site;
	int rc = 0;
	if (cfg->www_dir && cfg->language &&
	    cg_www_load(cfg->www_dir, cfg->language, &www, d) < 0) {
		www = NULL;
		rc = -1;
	}
	bool have_site = site_copy(&site, cfg) == 0;
	if (!have_site) {
		cg_diag_add(d, CG_SEV_ERROR, cfg->path, 0,
			    "portal: out of memory (the café's details are "
			    "kept)");
		rc = -1;
	}
	/* `cafeguardctl passwd` asks for a reload to take effect. */
	struct cg_error aerr = {{0}};
	if (p->auth && cg_auth_reload(p->auth, &aerr) < 0) {
		cg_diag_add(d, CG_SEV_WARNING, cfg->path, 0,
			    "admin: %s (the dashboard keeps its password)",
			    aerr.msg);
	}
	pthread_mutex_lock(&p->lock);
	p->rules = rules;
	p->generation++;
	p->loaded_s = cg_clock_now(p->clock, wall_ms());
	if (www) {
		struct cg_www *old = p->www;
		p->www = www;
		www = old;
	}
	if (have_site) {
		struct cg_pt_site old = p->site;
		p->site = site;
		site = old;
	}
	pthread_mutex_unlock(&p->lock);
	/* No request holds the lock, so none reads what is freed here. */
	if (www)
		cg_www_free(www);
	if (have_site)
		site_free(&site);
	return rc;
}

void cg_portal_set_eventlog(struct cg_portal *p, struct cg_eventlog *log)
{
	/* Routes run under the lock: once this returns, none is still
	 * posting to the old log. */
	pthread_mutex_lock(&p->lock);
	atomic_store(&p->log, log);
	pthread_mutex_unlock(&p->lock);
}

void cg_portal_note_event(struct cg_portal *p, const struct cg_event *e)
{
	cg_pt_events_note(&p->events, e);
}

void cg_portal_stats(struct cg_portal *p, struct cg_portal_stats *st)
{
	st->requests = atomic_load(&p->requests);
	st->pages = atomic_load(&p->pages);
	st->accepted = atomic_load(&p->accepted);
	st->refused_rate = atomic_load(&p->refused_rate);
	st->refused_bad = atomic_load(&p->refused_bad);
}

uint16_t cg_portal_port(const struct cg_portal *p, uint8_t family)
{
	for (size_t i = 0; i < p->nlis; i++)
		if (p->lis[i].family == family)
			return p->lis[i].port;
	return 0;
}

void cg_portal_stop(struct cg_portal *p)
{
	if (p)
		portal_free(p);
}
