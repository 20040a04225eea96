/*
 * portal's private parts (portal.h): the pure request helpers a seat's
 * bytes reach (fuzzed by tests/fuzz/fuzz_portal.c), the neighbour
 * lookup, and what the files of the module share.
 *
 *   portal.c         start, stop, reload, libmicrohttpd glue, answers
 *   portal_routes.c  the pages: what each URL answers
 *   portal_state.c   the noted block events and the request-rate table
 *   portal_http.c    Host, query and form parsing, next URLs, tokens
 *   portal_neigh.c   a client's MAC from the kernel's neighbour table
 *   portal_admin.c   the owner's dashboard: who may, login, forms, store
 *   portal_admin_page.c  the dashboard's pages (HTML, the SVG chart)
 *   portal_admin_store.c today's events and counts from the store
 */
#ifndef CAFEGUARD_PORTAL_INTERNAL_H
#define CAFEGUARD_PORTAL_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cafeguard/auth.h"
#include "cafeguard/chart.h"
#include "cafeguard/name.h"
#include "cafeguard/portal.h"

#define CG_PT_URI_MAX	 2048 /* longest request target a portal page takes */
#define CG_PT_NEXT_MAX	 512 /* longest "next" URL carried through the splash */
#define CG_PT_BODY_MAX	 2048 /* longest accept form */
#define CG_PT_SECRET_LEN 32
#define CG_PT_TOKEN_LEN	 32  /* hex digits: 128 bits of HMAC-SHA256 */
#define CG_PT_TIME_BUF	 24  /* "YYYY-MM-DD HH:MM" */
#define CG_PT_EVENTS	 512 /* block events kept for the status page */
#define CG_PT_ROWS	 20  /* of which the status page shows */
#define CG_PT_RATE_SETS	 128 /* rate table: sets x ways clients */
#define CG_PT_RATE_WAYS	 4

/* ---- pure helpers (portal_http.c) ---- */

/* The portal's own addresses and ports, as a Host header names them. */
struct cg_pt_self {
	bool has4, has6;
	uint8_t addr4[4], addr6[16];
	uint16_t port4, port6;
};

/*
 * True if host[0..len) names the portal itself: one of its addresses
 * ("192.168.10.1", "[fd00::1]"), alone or with the port it listens on.
 * Addresses compare as addresses, so case and zero compression do not
 * matter.  Anything else (a name, another port) is a sinkholed site.
 */
bool cg_pt_host_is_self(const struct cg_pt_self *s, const char *host,
			size_t len);

/*
 * The canonical host name in a Host header value (its port removed),
 * into out (CG_NAME_BUF bytes).  False for an address literal or
 * anything that is not a host name (name.h).
 */
bool cg_pt_host_name(const char *host, size_t len, char *out);

/*
 * The value of the first field called name in a query string or an
 * application/x-www-form-urlencoded body (HTML 4.01 17.13.4: '+' is a
 * space, %XX a byte), decoded into out.  False if absent, malformed (a
 * bad escape, a NUL byte) or longer than outsz - 1.
 */
bool cg_pt_form_get(const char *q, size_t len, const char *name, char *out,
		    size_t outsz);

/*
 * A "next" URL the portal may send a browser to: http:// or https://,
 * a host, printable ASCII without the characters RFC 3986 2 never
 * allows, at most CG_PT_NEXT_MAX bytes.  Anything else becomes "/".
 */
bool cg_pt_next_ok(const char *url);

/*
 * Appends s percent-encoded (all but RFC 3986 2.3 unreserved bytes) to
 * out at *o, keeping it NUL-terminated.  False (out unchanged) if it
 * does not fit in outsz.
 */
bool cg_pt_pct_append(char *out, size_t outsz, size_t *o, const char *s);

/*
 * Origin of a POST: absent (NULL), "null" (what a browser sends from a
 * page served with Referrer-Policy: no-referrer, Fetch "serializing a
 * request origin"), or the portal itself.
 */
bool cg_pt_origin_ok(const struct cg_pt_self *s, const char *origin);
/* Referer of a POST: absent or a URL of the portal itself. */
bool cg_pt_referer_ok(const struct cg_pt_self *s, const char *referer);

/* One of the policy's reason words ("list", "app", ...); "list" for
 * anything else.  Never NULL; points to a constant. */
const char *cg_pt_reason(const char *r);

/*
 * The anti-forgery token of the accept form for client key in time
 * bucket (hours): HMAC-SHA256 under secret, CG_PT_TOKEN_LEN hex digits.
 * out is "" if the MAC failed (no token then checks).
 */
void cg_pt_token(const uint8_t secret[CG_PT_SECRET_LEN], uint64_t key,
		 int64_t bucket, char out[CG_PT_TOKEN_LEN + 1]);
/* True if token is key's token of bucket or the one before. */
bool cg_pt_token_ok(const uint8_t secret[CG_PT_SECRET_LEN], uint64_t key,
		    int64_t bucket, const char *token);

/* Local "HH:MM" if t is on the local day of now_s (and !date), else
 * "YYYY-MM-DD HH:MM". */
void cg_pt_local_time(const struct cg_localtime *lt, int64_t t, int64_t now_s,
		      bool date, char out[CG_PT_TIME_BUF]);

/* ---- neighbour table (portal_neigh.c) ---- */

/*
 * The link-layer address the kernel holds for addr (family 4 or 6) on
 * interface ifindex (0: any).  0 with mac, or -1 if there is no
 * complete entry or netlink failed.
 */
int cg_pt_neigh_mac(unsigned ifindex, uint8_t family, const uint8_t addr[16],
		    uint8_t mac[6]);

/* ---- noted events and request rates (portal_state.c) ---- */

/* A block event as the status page may show it: never a list entry. */
struct cg_pt_noted {
	int64_t time_s; /* the policy's clock */
	uint8_t family;
	uint8_t addr[16];
	char seat[41];
	char host[CG_NAME_BUF];
	char reason[16];
	char category[48];
};

struct cg_pt_events {
	pthread_mutex_t lock;
	struct cg_pt_noted ring[CG_PT_EVENTS];
	uint32_t next, count;
};

void cg_pt_events_init(struct cg_pt_events *ev);
void cg_pt_events_destroy(struct cg_pt_events *ev);
void cg_pt_events_note(struct cg_pt_events *ev, const struct cg_event *e);
/*
 * The newest events of a client, newest first, at most max: by seat
 * name when seat is set, else by address; only those naming host when
 * host is set.  Returns how many were copied to out.
 */
size_t cg_pt_events_of(struct cg_pt_events *ev, const char *seat,
		       uint8_t family, const uint8_t addr[16], const char *host,
		       struct cg_pt_noted *out, size_t max);

struct cg_pt_rate_slot {
	uint8_t family;
	uint8_t addr[16];
	uint64_t tokens;  /* 60000 per request */
	uint64_t last_ms; /* last refill (monotonic) */
};

/* A token bucket per client address, in a fixed table: a client not in
 * it takes the place of the least recently seen of its set. */
struct cg_pt_rate {
	pthread_mutex_t lock;
	uint32_t per_min;
	struct cg_pt_rate_slot slot[CG_PT_RATE_SETS][CG_PT_RATE_WAYS];
};

void cg_pt_rate_init(struct cg_pt_rate *r, uint32_t per_min);
void cg_pt_rate_destroy(struct cg_pt_rate *r);
/* 0 if the client may make a request at now_ms (and counts it), else
 * the seconds until it may. */
uint32_t cg_pt_rate_take(struct cg_pt_rate *r, uint8_t family,
			 const uint8_t addr[16], uint64_t now_ms);

/* ---- the portal (portal.c, portal_routes.c) ---- */

struct cg_pt_listener {
	struct cg_portal *p;
	struct MHD_Daemon *mhd;
	uint8_t family;
	uint16_t port;
	char url[64]; /* "http://192.168.10.1:8080": where redirects lead */
};

/* The café's details, copied from the config. */
struct cg_pt_site {
	struct cg_www_site view;
	struct cg_www_hotline *hotlines;
	char *strings; /* every string of view, one allocation */
};

struct cg_portal {
	struct cg_pt_self self;
	struct cg_pt_listener lis[2];
	size_t nlis;
	unsigned ifindex; /* the LAN's; 0: any */
	const struct cg_clock *clock;
	struct cg_captive *cap;
	uint8_t secret[CG_PT_SECRET_LEN];

	/* Swapped by reload; a request holds lock while it reads them. */
	pthread_mutex_t lock;
	const struct cg_rules *rules;
	struct cg_www *www;
	struct cg_pt_site site;

	struct cg_pt_events events;
	struct cg_pt_rate rate;
	_Atomic(struct cg_eventlog *) log; /* acceptances go there */

	/* The dashboard: auth is the daemon's (NULL: no dashboard);
	 * db_file is a copy (NULL: no store).  generation counts rule
	 * sets (0 the first, as the daemon counts them); it and loaded_s
	 * change under lock. */
	struct cg_auth *auth;
	char *db_file;
	uint64_t generation;
	int64_t loaded_s;

	_Atomic uint64_t requests, pages, accepted, refused_rate, refused_bad;
};

/* One request, from its URI to its completion. */
struct cg_pt_client {
	uint8_t family;
	uint8_t addr[16];
	bool has_mac;
	uint8_t mac[6];
	char ip[46]; /* INET6_ADDRSTRLEN */
	char mac_text[18];
};

struct cg_pt_req {
	char *uri; /* the raw target; NULL if over CG_PT_URI_MAX */
	size_t uri_len;
	bool started;	/* the access handler has seen the headers */
	bool accepting; /* a POST /accept: its body is read */
	char *body;
	size_t body_len, body_seen;
	struct cg_pt_client cl;
};

/* What a request is answered, built under the portal's lock. */
struct cg_pt_answer {
	unsigned status;
	char *body;	  /* owned (freed by libmicrohttpd) or NULL */
	const void *data; /* or: static bytes, or bytes to copy */
	bool copy;
	size_t len;
	char type[64];
	char lang[24]; /* Content-Language; "" for none */
	char location[2048];
	bool form_leaves; /* the page's form ends on another site */
	const char *allow;
	char cookie[160]; /* Set-Cookie; "" for none */
	uint32_t retry_after;
	bool cacheable;
};

/* What a route sees: everything read under p->lock. */
struct cg_pt_ctx {
	struct cg_portal *p;
	const struct cg_pt_listener *l;
	struct MHD_Connection *c;
	struct cg_pt_req *r;
	const char *url, *method, *query;
	size_t query_len;
	const struct cg_rules *rules;
	const struct cg_www *www;
	int seat_ix;	  /* the seat, -1 if none */
	const char *seat; /* its name, NULL if none */
	uint64_t key;	  /* captive.h */
	int64_t now;
	struct cg_localtime lt;
	const char *lang;
	bool captive; /* splash on and not accepted */
	char time[CG_PT_TIME_BUF];
	struct cg_pt_admin *admin; /* an /admin request's first half */
	struct cg_pt_answer a;
};

/* Routes a request (p->lock held) into x->a. */
void cg_pt_route(struct cg_pt_ctx *x);
/* True if the request's Host names the portal itself (else the request
 * is for a sinkholed site). */
bool cg_pt_for_self(const struct cg_portal *p, struct MHD_Connection *c);
/* True for a POST to /accept or to the dashboard on the portal's own
 * host (its body is read before it is answered). */
bool cg_pt_reads_body(const struct cg_pt_listener *l, struct MHD_Connection *c,
		      const char *url, const char *method);
/* The error page for status into x->a. */
void cg_pt_answer_error(struct cg_pt_ctx *x, unsigned status);

/* ---- the owner's dashboard (portal_admin.c, portal_admin_page.c) ---- */

#define CG_PT_ADMIN_ROWS  50  /* today's newest events shown */
#define CG_PT_ADMIN_SEATS 128 /* seats whose blocks today are counted */
#define CG_PT_ADMIN_ERR	  192

/* A row of today's events, as the dashboard shows it. */
struct cg_pt_admin_row {
	int64_t time_ms;
	char type[16], action[16], seat[41], client[46];
	char host[CG_NAME_BUF], app[48], reason[16], rule[96];
	char category[48], detail[96];
};

/* What the store says about today, read before the lock. */
struct cg_pt_admin_day {
	char day[11];		   /* local "YYYY-MM-DD" */
	char error[CG_PT_ADMIN_ERR]; /* "" when the store was read */
	struct cg_pt_admin_row rows[CG_PT_ADMIN_ROWS];
	size_t nrows;
	struct cg_chart chart; /* blocks per hour by category, folded */
	long others;	       /* clients that are no seat, seen today */
	struct {
		char name[41];
		long blocks;
	} seats[CG_PT_ADMIN_SEATS];
	size_t nseats;
	char last_reload[96];	 /* the newest reload event's detail */
	int64_t last_reload_ms;
};

enum cg_pt_admin_view {
	CG_PT_ADMIN_MESSAGE,   /* title and text, with status */
	CG_PT_ADMIN_LOGIN,     /* the login form (text: why again) */
	CG_PT_ADMIN_DASHBOARD, /* the dashboard */
	CG_PT_ADMIN_REDIRECT,  /* 303 to location */
	CG_PT_ADMIN_CSS,       /* the dashboard's style sheet */
};

/* An /admin request: decided before the portal's lock (the login's
 * scrypt and the store's reads must not hold it), shown under it. */
struct cg_pt_admin {
	enum cg_pt_admin_view view;
	unsigned status;
	const char *title, *text; /* constant strings */
	const char *location;	  /* constant */
	char token[CG_AUTH_TOKEN_BUF]; /* login form's, or the session's */
	int64_t retry_after;	       /* seconds; 0: none */
	bool reload_noted;	       /* "?note=reload" */
	struct cg_pt_admin_day *day;   /* the dashboard's; owned */
};

/* True for the dashboard's URLs: "/admin" and "/admin/..." */
bool cg_pt_is_admin(const char *url);
/* The first half of an /admin request, with no lock held: who may, the
 * session, the login, the forms, the store.  Needs x's p, c, r, url and
 * method; may set x->a.cookie.  ad is zeroed here. */
void cg_pt_admin_begin(struct cg_pt_ctx *x, struct cg_pt_admin *ad);
/* The second half, under the lock: the page of x->admin into x->a
 * (x->admin NULL: 503, there was no memory for it). */
void cg_pt_admin_route(struct cg_pt_ctx *x);
/* Frees ad and what it owns.  NULL is a no-op. */
void cg_pt_admin_free(struct cg_pt_admin *ad);

/* Today (the local day of now_s, the policy's clock) from the store at
 * db_file (NULL: none), read-only, into d (zeroed here); d->error says
 * why it could not be read.  No lock: a connection of its own. */
void cg_pt_admin_read_day(const char *db_file, int64_t now_s,
			  struct cg_pt_admin_day *d);

/* The page of ad (a message, the login form or the dashboard) as HTML,
 * malloc'ed, its length in *len; NULL without memory.  Under the lock. */
char *cg_pt_admin_page(const struct cg_pt_ctx *x, const struct cg_pt_admin *ad,
		       size_t *len);
/* The dashboard's style sheet (constant). */
extern const char cg_pt_admin_css[];

#endif
