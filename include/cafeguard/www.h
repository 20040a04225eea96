/*
 * www: the portal's pages (splash, block, status, errors) rendered from
 * templates and translations a café or trainer edits without
 * recompiling.
 *
 * A site directory (conf/www) holds the HTML templates, the static files
 * they link (style sheet, logo) and one translation file per language
 * (lang/<tag>.conf, libconfig syntax).  Loading checks all of it and
 * reports every problem as "file:line: message" (diag.h); a loaded site
 * is immutable, so the portal's threads share it without locks and a
 * reload builds a new one beside it.
 *
 * Templates (conf/www/README.md has the whole syntax): {{t.splash.title}}
 * is a text of the page's language, {{seat}} a value of the page, both
 * HTML-escaped; {{{hotlines}}} is HTML the portal makes itself (hotline
 * list, house rules, the table of blocks, the page inside the layout).
 * A name a template uses that does not exist is a load error.
 *
 * Rendering is pure: the caller gives every value (already in local time
 * and plain words where it has them); nothing here reads the clock, the
 * network or the rules.  Every value is HTML-escaped where it lands, so a
 * host name or a Host header a client chose cannot inject markup.  No
 * page carries a list entry or a hash: the caller never passes one.
 */
#ifndef CAFEGUARD_WWW_H
#define CAFEGUARD_WWW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cafeguard/diag.h"

struct cg_www;

/* Where a child can report abuse, from the config. */
struct cg_www_hotline {
	const char *country; /* ISO 3166 alpha-2, "" = international */
	const char *name;    /* "SaferNet Brasil" */
	const char *url;     /* https://... ("" if none) */
	const char *phone;   /* "" if none */
};

/* The café, from the config.  Hotlines are listed with the café's
 * country first, then the international ones; other countries' only when
 * country is "". */
struct cg_www_site {
	const char *cafe_name;
	const char *country; /* hotlines of this country come first */
	const struct cg_www_hotline *hotlines;
	size_t nhotlines;
};

enum cg_www_page {
	CG_WWW_SPLASH = 0, /* child-safety message, house rules, "I agree" */
	CG_WWW_BLOCK,      /* what was blocked, why, where to get help */
	CG_WWW_STATUS,     /* the seat's state and its recent blocks */
	CG_WWW_ERROR,      /* 4xx/5xx in plain words */
	CG_WWW__PAGES
};

/* One recent block of the seat, for the status page. */
struct cg_www_row {
	const char *time;     /* local "HH:MM" (or "YYYY-MM-DD HH:MM") */
	const char *host;     /* "" if no name was known */
	const char *reason;   /* policy reason: "list", "app",
				 "app-category", "budget", "schedule",
				 "captive" */
	const char *category; /* category or budget name ("" if none) */
	const char *category_title; /* the rule set's plain words, or "" */
};

/* What a page shows; unused fields may be NULL / 0. */
struct cg_www_vars {
	const struct cg_www_site *site;
	const char *seat;     /* seat name, NULL/"" for an unknown client */
	const char *time;     /* local "YYYY-MM-DD HH:MM" of the request */
	/* block page */
	const char *host;
	const char *reason;         /* as in cg_www_row */
	const char *category;
	const char *category_title; /* fallback when the language has no
				       words for the category */
	/* splash page */
	const char *next;  /* where "I agree" leads (absolute http URL or
			      "/"), carried in a hidden field */
	const char *token; /* anti-forgery token for the accept form */
	/* status page */
	bool captive;      /* the seat has not accepted yet */
	const struct cg_www_row *rows;
	size_t nrows;
	/* error page */
	int status; /* 400, 403, 404, 405, 413, 414, 429, 431, 500, 503 */
};

/*
 * Loads the site in dir: layout.html, splash.html, block.html,
 * status.html, error.html, lang/<tag>.conf, and the .css, .svg, .png and
 * .ico files directly in dir (every file at most 256 KB).  default_lang
 * ("en" if NULL) is the tag used when a client's Accept-Language names
 * nothing the site has; it must have a translation file (matched without
 * regard to case).  Returns 0 and *out, or -1 with every problem in d
 * (warnings, e.g. a key missing from a non-default language, which then
 * falls back to the default, do not fail the load).
 */
int cg_www_load(const char *dir, const char *default_lang,
		struct cg_www **out, struct cg_diag *d);
void cg_www_free(struct cg_www *w);

/* Languages loaded (tags as their files are named: "pt-BR", "th"), the
 * default first; *tags is owned by w. */
size_t cg_www_langs(const struct cg_www *w, const char *const **tags);

/*
 * The language for an Accept-Language header value (RFC 9110 12.5.4:
 * q-values, "*", case-insensitive tags; "pt" and "pt-PT" reach "pt-BR",
 * "en-US" reaches "en"; "pt;q=0" refuses pt-BR); the default for NULL,
 * "" or nothing that matches.  Bounded: only the first 1024 bytes and 32
 * ranges are read, and a malformed range is skipped.  The result points
 * into w.
 */
const char *cg_www_negotiate(const struct cg_www *w, const char *accept);

/*
 * Renders page in lang (a tag from cg_www_negotiate; the default for NULL
 * or a tag not loaded).  Returns a malloc'd, NUL-terminated document (the
 * caller frees) with its length in *len (len may be NULL), or NULL on
 * allocation failure, a page out of range or a document over 4 MB.  An
 * error status outside 100..599 is shown as 500.
 */
char *cg_www_render(const struct cg_www *w, enum cg_www_page page,
		    const char *lang, const struct cg_www_vars *v, size_t *len);

/*
 * A static file of the site by its URL path ("/style.css", "/logo.svg").
 * Returns true with the bytes (owned by w) and a Content-Type (static
 * storage); false for anything else: the path must be exactly "/<name>"
 * of a file loaded, so a query, a folder or ".." never matches.
 */
bool cg_www_static(const struct cg_www *w, const char *path,
		   const uint8_t **data, size_t *len, const char **mime);

#endif
