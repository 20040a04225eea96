/*
 * store: the operator's event store, an SQLite database in WAL mode in
 * the box's state directory.
 *
 * Only the logger thread writes it, through an event sink: the events of
 * one round of the logger (a fraction of a second) go in one
 * transaction, so a crash loses at most that round and the database
 * opens clean (WAL).  Workers never touch it.  Blocks, captive
 * acceptances, reloads, start and stop, and lost-event notices are rows;
 * allowed connections are counted per day, hour, seat and category (and
 * per host only when the config asks).  Old rows are pruned by age and
 * by size, from the logger thread, at most once a minute.
 *
 * Readers (cafeguardctl log and report, the dashboard) open their own
 * read-only connection: WAL lets them read while the daemon writes.
 *
 * The schema is versioned (PRAGMA user_version) and migrated step by
 * step on open; a database from a newer cafeguard is refused, not
 * guessed at.
 */
#ifndef CAFEGUARD_STORE_H
#define CAFEGUARD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cafeguard/diag.h"
#include "cafeguard/eventlog.h"

/* The schema version this build writes. */
#define CG_STORE_SCHEMA 2

struct cg_store;

struct cg_store_opts {
	const char *path;
	uint32_t retention_days; /* 0: keep */
	uint32_t max_mb;         /* 0: no cap */
	bool allowed_hosts;      /* count allowed traffic per host too */
};

/*
 * Opens (creating and migrating) the database for writing.  NULL with
 * err on failure (a database of a newer schema, a file that is not a
 * database, no permission).
 */
struct cg_store *cg_store_open(const struct cg_store_opts *o,
			       struct cg_error *err);

/* Opens an existing database read-only (cafeguardctl). */
struct cg_store *cg_store_open_readonly(const char *path,
					struct cg_error *err);

void cg_store_close(struct cg_store *s);

/* Writer side, one transaction at a time: begin is implicit in the
 * first add; commit ends it.  Returns 0 or -1 with err. */
int cg_store_add(struct cg_store *s, const struct cg_event *e,
		 struct cg_error *err);
int cg_store_commit(struct cg_store *s, struct cg_error *err);

/* Deletes rows older than the retention, then the oldest while the file
 * is over its cap.  now_ms: the wall clock.  Returns rows deleted or -1. */
long cg_store_prune(struct cg_store *s, uint64_t now_ms,
		    struct cg_error *err);

/*
 * The sink the logger writes through: every event goes into the store
 * (ALLOW events are counted there and go no further) and then to next
 * (NULL: none; the sink owns next).  The sink owns the store.
 */
struct cg_event_sink *cg_store_sink_open(struct cg_store *s,
					 struct cg_event_sink *next);

/* ---- reading ---- */

/* One logged event, as read back (strings point into the reader's row
 * and live until the callback returns). */
struct cg_store_row {
	int64_t id;
	uint64_t time_ms;
	const char *type, *action, *seat, *profile, *client, *mac, *server;
	const char *proto, *host, *app, *reason, *rule, *category, *list;
	const char *entry, *detail;
	unsigned server_port, line;
};

struct cg_store_filter {
	const char *day;   /* local "YYYY-MM-DD", NULL: any */
	const char *seat;  /* NULL: any */
	int64_t after_id;  /* rows with a larger id only (follow) */
	unsigned limit;    /* 0: all */
};

/* Calls fn for every matching row, oldest first; fn returns non-zero to
 * stop.  Returns rows seen, or -1 with err. */
long cg_store_query(struct cg_store *s, const struct cg_store_filter *f,
		    int (*fn)(void *ctx, const struct cg_store_row *r),
		    void *ctx, struct cg_error *err);

/* The local day ("YYYY-MM-DD") of a time, as rows are filed under. */
void cg_store_day(uint64_t time_ms, char out[11]);

#endif
