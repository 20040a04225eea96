/*
 * The dashboard's view of today in the event store (store.h): the
 * newest events, blocks per hour by category, blocks per seat, clients
 * that are no seat, the last reload.
 *
 * A read-only connection per page: opening one costs well under a
 * millisecond, needs no state between requests, and WAL lets it read
 * while the logger thread writes.  Each query is bounded (LIMIT or
 * GROUP BY over the day's index), so a busy day costs a scan of that
 * day's rows at most, off the portal's lock.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "cafeguard/store.h"
#include "portal_internal.h"

static void col(sqlite3_stmt *q, int i, char *out, size_t outsz)
{
	const unsigned char *t = sqlite3_column_text(q, i);
	snprintf(out, outsz, "%s", t ? (const char *)t : "");
}

static sqlite3_stmt *prep(sqlite3 *db, const char *sql, const char *day,
			  struct cg_pt_admin_day *d)
{
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) {
		snprintf(d->error, sizeof(d->error), "event store: %s",
			 sqlite3_errmsg(db));
		return NULL;
	}
	sqlite3_bind_text(q, 1, day, -1, SQLITE_STATIC);
	return q;
}

/* The store's own schema check, as cg_store_open_readonly does it. */
static bool schema_ok(sqlite3 *db, struct cg_pt_admin_day *d)
{
	sqlite3_stmt *q = prep(db, "PRAGMA user_version", NULL, d);
	int v = -1;
	if (q && sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	if (v >= 1 && v <= CG_STORE_SCHEMA)
		return true;
	if (!d->error[0])
		snprintf(d->error, sizeof(d->error),
			 "event store: schema %d, not one this build reads", v);
	return false;
}

_Static_assert(CG_PT_ADMIN_ROWS == 50, "the LIMIT below");

static void newest_rows(sqlite3 *db, struct cg_pt_admin_day *d)
{
	sqlite3_stmt *q = prep(
	    db,
	    "SELECT time_ms, type, action, seat, coalesce(mac, client), host, "
	    "app, reason, rule, category, detail FROM events WHERE day = ?1 "
	    "ORDER BY id DESC LIMIT 50",
	    d->day, d);
	while (q && d->nrows < CG_PT_ADMIN_ROWS &&
	       sqlite3_step(q) == SQLITE_ROW) {
		struct cg_pt_admin_row *r = &d->rows[d->nrows++];
		r->time_ms = sqlite3_column_int64(q, 0);
		col(q, 1, r->type, sizeof(r->type));
		col(q, 2, r->action, sizeof(r->action));
		col(q, 3, r->seat, sizeof(r->seat));
		col(q, 4, r->client, sizeof(r->client));
		col(q, 5, r->host, sizeof(r->host));
		col(q, 6, r->app, sizeof(r->app));
		col(q, 7, r->reason, sizeof(r->reason));
		col(q, 8, r->rule, sizeof(r->rule));
		col(q, 9, r->category, sizeof(r->category));
		col(q, 10, r->detail, sizeof(r->detail));
	}
	sqlite3_finalize(q);
}

/* Local hours as the store files days: SQLite's 'localtime' is the C
 * library's, as cg_store_day's localtime_r. */
static void per_hour(sqlite3 *db, struct cg_pt_admin_day *d)
{
	sqlite3_stmt *q = prep(
	    db,
	    "SELECT CAST(strftime('%H', time_ms / 1000, 'unixepoch', "
	    "'localtime') AS INTEGER), coalesce(category, reason), count(*) "
	    "FROM events WHERE day = ?1 AND type = 'block' GROUP BY 1, 2",
	    d->day, d);
	cg_chart_init(&d->chart);
	while (q && sqlite3_step(q) == SQLITE_ROW)
		cg_chart_add(&d->chart,
			     (const char *)sqlite3_column_text(q, 1),
			     sqlite3_column_int(q, 0),
			     (long)sqlite3_column_int64(q, 2));
	sqlite3_finalize(q);
	cg_chart_fold(&d->chart, CG_CHART_KEEP);
}

static void per_seat(sqlite3 *db, struct cg_pt_admin_day *d)
{
	sqlite3_stmt *q = prep(db,
			       "SELECT seat, count(*) FROM events WHERE day = "
			       "?1 AND type = 'block' AND seat IS NOT NULL "
			       "GROUP BY 1 ORDER BY 2 DESC",
			       d->day, d);
	while (q && d->nseats < CG_PT_ADMIN_SEATS &&
	       sqlite3_step(q) == SQLITE_ROW) {
		col(q, 0, d->seats[d->nseats].name,
		    sizeof(d->seats[d->nseats].name));
		d->seats[d->nseats++].blocks = (long)sqlite3_column_int64(q, 1);
	}
	sqlite3_finalize(q);
	q = prep(db,
		 "SELECT count(DISTINCT coalesce(mac, client)) FROM events "
		 "WHERE day = ?1 AND seat IS NULL AND client IS NOT NULL",
		 d->day, d);
	if (q && sqlite3_step(q) == SQLITE_ROW)
		d->others = (long)sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
}

/* Any day: a reload that failed yesterday still matters. */
static void last_reload(sqlite3 *db, struct cg_pt_admin_day *d)
{
	sqlite3_stmt *q = prep(db,
			       "SELECT time_ms, detail FROM events WHERE type "
			       "= 'reload' ORDER BY id DESC LIMIT 1",
			       NULL, d);
	if (q && sqlite3_step(q) == SQLITE_ROW) {
		d->last_reload_ms = sqlite3_column_int64(q, 0);
		col(q, 1, d->last_reload, sizeof(d->last_reload));
	}
	sqlite3_finalize(q);
}

void cg_pt_admin_read_day(const char *db_file, int64_t now_s,
			  struct cg_pt_admin_day *d)
{
	memset(d, 0, sizeof(*d));
	cg_chart_init(&d->chart);
	cg_store_day((uint64_t)(now_s > 0 ? now_s : 0) * 1000u, d->day);
	if (!db_file) {
		snprintf(d->error, sizeof(d->error),
			 "no event store configured (log.database)");
		return;
	}
	sqlite3 *db = NULL;
	if (sqlite3_open_v2(db_file, &db,
			    SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		snprintf(d->error, sizeof(d->error), "event store %s: %s",
			 db_file, db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return;
	}
	/* The writer's checkpoint is short; a page may wait that long. */
	sqlite3_busy_timeout(db, 1000);
	if (schema_ok(db, d)) {
		newest_rows(db, d);
		per_hour(db, d);
		per_seat(db, d);
		last_reload(db, d);
	}
	sqlite3_close(db);
}
