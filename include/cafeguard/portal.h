/*
 * portal: the pages a seat sees, served with libmicrohttpd on the box's
 * LAN address(es): the splash page and its "I agree" (captive.h), the
 * block page a blocked web request is redirected to (or a sinkholed name
 * lands on), and the status page ("/") with the seat's own recent
 * blocks, so a block that could only be a reset (HTTPS) can still be
 * explained.  Pages come from www.h in the client's language.
 *
 * The portal runs in its own thread inside the daemon.  It never touches
 * the packet path: workers read the captive table it writes; the logger
 * thread hands it block events.  A seat is the client itself; nothing a
 * seat sends can open another seat, and nothing shows a list entry.
 *
 * Abuse from a seat is bounded: connections at once (all and per
 * client), time-outs for slow clients, a request rate per client,
 * header and body sizes; each refused with a clear 4xx page.
 *
 * What it answers.  A Host that is not the portal's own address is a
 * sinkholed site: a 302 to the splash page (captive; "next" is the URL
 * asked for) or its block page (403).  On the portal's own host:
 *   GET /              status page (seat, captive or open, recent blocks)
 *   GET /splash        the house rules and "I agree" (?next=URL)
 *   POST /accept       "I agree" (token, next): 303 to next
 *   GET /blocked       block page (?host=&reason=&category=, as the
 *                      gateway's redirect writes them)
 *   GET /api/captive   RFC 8908 captive portal API
 *   GET /generate_204, /hotspot-detect.html, /connecttest.txt, /ncsi.txt,
 *       /canonical.html, /success.txt: the answers the systems' probes
 *       expect once open (a 302 to the splash page while captive)
 *   GET /style.css ... the site's static files
 * A "lang=" query parameter naming a loaded language overrides
 * Accept-Language.
 *
 * The owner's dashboard, on the portal's own host, only for a client on
 * the LAN side (a neighbour on the LAN interface), the box itself or
 * loopback; anyone else gets 403.  Every POST needs its form's token
 * (403 without) and is refused from another Origin or Referer:
 *   GET /admin         today's events, the seats, blocks per hour by
 *                      category (SVG), the rule set and its reload
 *                      button; 303 to /admin/login without a session
 *   GET /admin/login   the login form
 *   POST /admin/login  password, token: 303 to /admin with the session
 *                      cookie; 403 wrong password; 429 locked (with
 *                      Retry-After); 503 no password set, or busy
 *   POST /admin/logout token: ends the session
 *   POST /admin/reload token: raises SIGHUP in this process (the daemon
 *                      reloads as on `kill -HUP`); 303 to /admin
 *   GET /admin/admin.css
 * Logins, sessions, tokens and lockout are auth.h's.
 */
#ifndef CAFEGUARD_PORTAL_H
#define CAFEGUARD_PORTAL_H

#include <stdbool.h>
#include <stdint.h>

#include "cafeguard/auth.h"
#include "cafeguard/captive.h"
#include "cafeguard/clock.h"
#include "cafeguard/config.h"
#include "cafeguard/diag.h"
#include "cafeguard/eventlog.h"
#include "cafeguard/rules.h"
#include "cafeguard/www.h"

struct cg_portal;

struct cg_portal_opts {
	const struct cg_config *cfg;  /* addresses, port, www, language,
					 café, hotlines, limits, splash;
					 read during start only */
	const char *lan;	      /* interface whose neighbour table
					 names a client's MAC ("" = any) */
	const struct cg_clock *clock; /* the policy's clock (shared) */
	struct cg_auth *auth;	      /* the dashboard's logins (the
					 caller's, outliving the portal);
					 NULL: no dashboard */
};

/*
 * Loads the pages (cfg->www_dir), binds cfg's portal address(es) and
 * port (0: one the kernel picks, for tests; cg_portal_port tells it) and
 * starts serving, one thread per address.  cap, rules, o->clock and
 * o->auth must outlive the portal (rules until cg_portal_reload replaces
 * them); cfg may be freed once this returns (the dashboard reads the
 * store cfg->db_file names, read-only, per page).  Returns NULL with err (and every
 * problem of the pages in d) on failure.
 */
struct cg_portal *cg_portal_start(const struct cg_portal_opts *o,
				  struct cg_captive *cap,
				  const struct cg_rules *rules,
				  struct cg_diag *d, struct cg_error *err);

/*
 * After a reload: the new rules, and the pages reloaded from cfg (a
 * failed load keeps the old pages and returns -1 with the problems in
 * d).  Returns once no request uses the old rules, so the caller may
 * free them.  Addresses and limits change only with a restart.  Also
 * rereads the dashboard's password file (cg_auth_reload: a problem is a
 * warning in d, the old password stays) and counts the rule set's
 * generation, which the dashboard shows.
 */
int cg_portal_reload(struct cg_portal *p, const struct cg_config *cfg,
		     const struct cg_rules *rules, struct cg_diag *d);

/* Where the portal reports acceptances (the event log starts after the
 * portal); NULL: nowhere.  Returns once no request is posting to the
 * log set before, so the log may then be stopped. */
void cg_portal_set_eventlog(struct cg_portal *p, struct cg_eventlog *log);

/* A block event (from the logger thread), kept for the status page:
 * when, client, seat, host, reason, category; never the list entry or
 * file.  Other event types are ignored.  Safe from any thread. */
void cg_portal_note_event(struct cg_portal *p, const struct cg_event *e);

/*
 * requests: every request the portal read; pages: HTML pages rendered;
 * accepted: "I agree" taken; refused_rate: 429s; refused_bad: other
 * refusals (400, 403, 405, 413, 414; not 404, and not the 414/431
 * libmicrohttpd sends itself for a request line or headers too big to
 * read).
 */
struct cg_portal_stats {
	uint64_t requests, pages, accepted, refused_rate, refused_bad;
};
void cg_portal_stats(struct cg_portal *p, struct cg_portal_stats *st);

/* The port the portal listens on for family (4 or 6), 0 if it does not:
 * the configured one, or the one the kernel chose for port 0 (tests). */
uint16_t cg_portal_port(const struct cg_portal *p, uint8_t family);

/* Stops serving (waits for the threads) and frees p.  NULL is a no-op. */
void cg_portal_stop(struct cg_portal *p);

#endif
