/*
 * eventlog: what the operator reads: one event per block (and, later,
 * captive, hash hit, reload ...).
 *
 * Workers push fixed-size events into their own single-producer ring and
 * never wait: a full ring drops the event and counts it.  One logger
 * thread drains all rings and writes to a sink.  The sink is an interface
 * so a later store (SQLite) replaces the JSON-lines file without touching
 * the workers.
 */
#ifndef CAFEGUARD_EVENTLOG_H
#define CAFEGUARD_EVENTLOG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cafeguard/diag.h"
#include "cafeguard/name.h"

enum cg_event_type {
	CG_EV_BLOCK = 0,
	CG_EV_START,
	CG_EV_STOP,
	CG_EV_ALLOW,   /* an allowed connection, for the store's counts
			  (only produced when a store counts them; never
			  logged by name unless configured) */
	CG_EV_RELOAD,  /* detail: "ok ..." or "failed: ..." */
	CG_EV_DROPPED, /* events lost to full rings; detail says how many */
	CG_EV_CAPTIVE, /* a seat accepted the splash page */
};

enum cg_event_action {
	CG_ACT_NONE = 0,
	CG_ACT_NXDOMAIN, /* DNS answered "no such name" */
	CG_ACT_RESET,    /* TCP reset towards the client (and server) */
	CG_ACT_DROP,     /* packets dropped (UDP, or no reply possible) */
	CG_ACT_SINKHOLE, /* DNS answered with the portal's address */
	CG_ACT_REDIRECT, /* HTTP redirected to the block page */
	CG_ACT_UNREACHABLE, /* ICMP unreachable (QUIC and other UDP) */
};

const char *cg_event_type_str(enum cg_event_type t);
const char *cg_event_action_str(enum cg_event_action a);

struct cg_event {
	uint64_t time_ms;    /* wall clock, ms since the epoch */
	uint8_t type;        /* enum cg_event_type */
	uint8_t action;      /* enum cg_event_action */
	uint8_t family;      /* 4 or 6, 0 if no addresses */
	uint8_t proto;
	uint8_t client[16], server[16];
	uint8_t mac[6];      /* the client's, when has_mac */
	bool has_mac;
	uint16_t client_port, server_port;
	uint16_t worker;
	char host[CG_NAME_BUF];
	char app[48];        /* "TLS.Google" */
	char seat[41];       /* "" if the client is not a seat */
	char profile[41];
	char reason[16];     /* "list", "app", "app-category", "budget",
				"schedule" (policy.h) */
	char category[48];   /* the category whose list named the host */
	char rule[96];       /* the rule in a few words: "category adult",
				"app BitTorrent", "budget games" */
	char entry[CG_NAME_BUF]; /* the list entry (hashed: "sha256:...") */
	char file[192];      /* the list file of the entry */
	uint32_t line;
	char detail[96];     /* free text for start/stop */
};

/* Single-producer single-consumer ring of events. */
struct cg_event_ring;

struct cg_event_ring *cg_event_ring_new(uint32_t capacity);
void cg_event_ring_free(struct cg_event_ring *r);
/* Producer side: false (and counted) when full.  Never blocks. */
bool cg_event_ring_push(struct cg_event_ring *r, const struct cg_event *e);
/* Consumer side: false when empty. */
bool cg_event_ring_pop(struct cg_event_ring *r, struct cg_event *e);
uint64_t cg_event_ring_dropped(const struct cg_event_ring *r);

/* Where events go.  Methods are called from the logger thread only. */
struct cg_event_sink {
	int (*write)(struct cg_event_sink *s, const struct cg_event *e);
	int (*flush)(struct cg_event_sink *s);
	void (*close)(struct cg_event_sink *s);
};

/* Appends events as JSON lines to path (created 0640). */
struct cg_event_sink *cg_jsonl_sink_open(const char *path,
					 struct cg_error *err);

/*
 * A sink that shows every event to fn(ctx, e) (on the logger thread; fn
 * must not block for long) and then passes it to next (NULL: none).
 * The tee owns next.  NULL without memory (next is then closed).
 */
struct cg_event_sink *cg_tee_sink_open(struct cg_event_sink *next,
				       void (*fn)(void *ctx,
						  const struct cg_event *e),
				       void *ctx);

/* Formats one event as a JSON object (no newline); returns its length or
 * 0 if out is too small.  Exposed for tests and the CLI. */
size_t cg_event_to_json(const struct cg_event *e, char *out, size_t outsz);

struct cg_eventlog;

/*
 * Starts the logger thread draining rings[0..n) into sink every
 * interval_ms (and at stop).  The logger owns the sink afterwards.
 */
struct cg_eventlog *cg_eventlog_start(struct cg_event_ring **rings, size_t n,
				      struct cg_event_sink *sink,
				      unsigned interval_ms,
				      struct cg_error *err);

/* Queues an event of the daemon's own (start, stop, reload, a captive
 * acceptance) from any thread but the workers; same no-wait semantics. */
bool cg_eventlog_post(struct cg_eventlog *log, const struct cg_event *e);

/* Drains everything, flushes, closes the sink, joins the thread. */
void cg_eventlog_stop(struct cg_eventlog *log);

uint64_t cg_eventlog_written(const struct cg_eventlog *log);

#endif
