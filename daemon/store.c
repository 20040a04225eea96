/*
 * store: the operator's SQLite event store (store.h).
 */
#include "cafeguard/store.h"

#include <arpa/inet.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { ST_EVENT, ST_TRAFFIC, ST_HOST, ST__COUNT };

struct cg_store {
	sqlite3 *db;
	sqlite3_stmt *st[ST__COUNT];
	struct cg_store_opts o;
	bool in_txn;
};

static int db_err(struct cg_store *s, struct cg_error *err, const char *what)
{
	return cg_error_set(err, "event store %s: %s: %s",
			    s->o.path ? s->o.path : "", what,
			    s->db ? sqlite3_errmsg(s->db) : "out of memory");
}

static int exec(struct cg_store *s, const char *sql, struct cg_error *err)
{
	char *msg = NULL;
	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	cg_error_set(err, "event store %s: %s", s->o.path,
		     msg ? msg : sqlite3_errmsg(s->db));
	sqlite3_free(msg);
	return -1;
}

/* ---- schema ---- */

/* Step n takes the schema from version n to n + 1.  A step is never
 * changed once released: a box may sit at any version. */
static const char *const migrations[CG_STORE_SCHEMA] = {
	/* 1: events, the rows the operator reads */
	"CREATE TABLE events ("
	"  id INTEGER PRIMARY KEY,"
	"  time_ms INTEGER NOT NULL,"
	"  day TEXT NOT NULL," /* local YYYY-MM-DD */
	"  type TEXT NOT NULL, action TEXT, seat TEXT, profile TEXT,"
	"  client TEXT, mac TEXT, server TEXT, server_port INTEGER,"
	"  proto TEXT, host TEXT, app TEXT, reason TEXT, rule TEXT,"
	"  category TEXT, list TEXT, line INTEGER, entry TEXT,"
	"  detail TEXT);"
	"CREATE INDEX events_day_seat ON events(day, seat);"
	"CREATE INDEX events_time ON events(time_ms);",
	/* 2: allowed traffic, counted instead of logged */
	"CREATE TABLE traffic ("
	"  day TEXT NOT NULL, hour INTEGER NOT NULL, seat TEXT NOT NULL,"
	"  category TEXT NOT NULL, flows INTEGER NOT NULL,"
	"  PRIMARY KEY (day, hour, seat, category)) WITHOUT ROWID;"
	"CREATE TABLE traffic_hosts ("
	"  day TEXT NOT NULL, hour INTEGER NOT NULL, seat TEXT NOT NULL,"
	"  host TEXT NOT NULL, flows INTEGER NOT NULL,"
	"  PRIMARY KEY (day, hour, seat, host)) WITHOUT ROWID;",
};

static int user_version(struct cg_store *s, int *v, struct cg_error *err)
{
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &q, NULL) !=
	    SQLITE_OK)
		return db_err(s, err, "reading the schema version");
	int rc = sqlite3_step(q);
	*v = rc == SQLITE_ROW ? sqlite3_column_int(q, 0) : 0;
	sqlite3_finalize(q);
	return rc == SQLITE_ROW ? 0 : db_err(s, err, "reading the schema "
						     "version");
}

static int migrate(struct cg_store *s, struct cg_error *err)
{
	int v;
	if (user_version(s, &v, err) < 0)
		return -1;
	if (v > CG_STORE_SCHEMA)
		return cg_error_set(err,
				    "event store %s: written by a newer "
				    "cafeguard (schema %d; this one knows up "
				    "to %d); keep the newer version or move "
				    "the file away",
				    s->o.path, v, CG_STORE_SCHEMA);
	for (; v < CG_STORE_SCHEMA; v++) {
		char set[64];
		snprintf(set, sizeof(set), "PRAGMA user_version = %d;", v + 1);
		if (exec(s, "BEGIN IMMEDIATE;", err) < 0)
			return -1;
		if (exec(s, migrations[v], err) < 0 || exec(s, set, err) < 0) {
			exec(s, "ROLLBACK;", NULL);
			return -1;
		}
		if (exec(s, "COMMIT;", err) < 0)
			return -1;
	}
	return 0;
}

static const char *const stmts[ST__COUNT] = {
	"INSERT INTO events (time_ms, day, type, action, seat, profile, "
	"client, mac, server, server_port, proto, host, app, reason, rule, "
	"category, list, line, entry, detail) VALUES (?1, ?2, ?3, ?4, ?5, "
	"?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, "
	"?20)",
	"INSERT INTO traffic (day, hour, seat, category, flows) VALUES (?1, "
	"?2, ?3, ?4, 1) ON CONFLICT DO UPDATE SET flows = flows + 1",
	"INSERT INTO traffic_hosts (day, hour, seat, host, flows) VALUES "
	"(?1, ?2, ?3, ?4, 1) ON CONFLICT DO UPDATE SET flows = flows + 1",
};

static struct cg_store *open_db(const char *path, int flags,
				struct cg_error *err)
{
	struct cg_store *s = calloc(1, sizeof(*s));
	if (!s) {
		cg_error_set(err, "event store: out of memory");
		return NULL;
	}
	s->o.path = path;
	/* One thread uses a connection; SQLite's own locks are enough. */
	if (sqlite3_open_v2(path, &s->db, flags | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		db_err(s, err, "cannot open");
		cg_store_close(s);
		return NULL;
	}
	/* A reader meeting the writer's checkpoint waits a little instead
	 * of failing. */
	sqlite3_busy_timeout(s->db, 2000);
	return s;
}

struct cg_store *cg_store_open(const struct cg_store_opts *o,
			       struct cg_error *err)
{
	struct cg_store *s = open_db(o->path,
				     SQLITE_OPEN_READWRITE |
					     SQLITE_OPEN_CREATE,
				     err);
	if (!s)
		return NULL;
	s->o = *o;
	/* auto_vacuum only takes on a new file: it must precede the first
	 * table.  WAL: readers never block the writer, and a crash of the
	 * writer loses at most the transaction in flight; NORMAL syncs at
	 * checkpoints, enough for a process crash. */
	if (exec(s, "PRAGMA auto_vacuum = INCREMENTAL;", err) < 0)
		goto fail;
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &q,
			       NULL) != SQLITE_OK) {
		db_err(s, err, "cannot set WAL mode");
		goto fail;
	}
	bool wal = sqlite3_step(q) == SQLITE_ROW &&
		   !strcmp((const char *)sqlite3_column_text(q, 0), "wal");
	sqlite3_finalize(q);
	if (!wal) {
		cg_error_set(err, "event store %s: the file system does not "
				  "allow WAL mode",
			     o->path);
		goto fail;
	}
	if (exec(s, "PRAGMA synchronous = NORMAL;", err) < 0 ||
	    migrate(s, err) < 0)
		goto fail;
	for (int i = 0; i < ST__COUNT; i++)
		if (sqlite3_prepare_v3(s->db, stmts[i], -1,
				       SQLITE_PREPARE_PERSISTENT, &s->st[i],
				       NULL) != SQLITE_OK) {
			db_err(s, err, "preparing");
			goto fail;
		}
	return s;
fail:
	cg_store_close(s);
	return NULL;
}

struct cg_store *cg_store_open_readonly(const char *path,
					struct cg_error *err)
{
	struct cg_store *s = open_db(path, SQLITE_OPEN_READONLY, err);
	if (!s)
		return NULL;
	int v;
	if (user_version(s, &v, err) < 0) {
		cg_store_close(s);
		return NULL;
	}
	if (v < 1 || v > CG_STORE_SCHEMA) {
		cg_error_set(err,
			     "event store %s: schema %d (this cafeguard "
			     "reads 1 to %d)",
			     path, v, CG_STORE_SCHEMA);
		cg_store_close(s);
		return NULL;
	}
	return s;
}

void cg_store_close(struct cg_store *s)
{
	if (!s)
		return;
	if (s->in_txn)
		exec(s, "COMMIT;", NULL);
	for (int i = 0; i < ST__COUNT; i++)
		sqlite3_finalize(s->st[i]);
	sqlite3_close(s->db);
	free(s);
}

/* ---- writing ---- */

void cg_store_day(uint64_t time_ms, char out[11])
{
	time_t t = (time_t)(time_ms / 1000u);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

static int local_hour(uint64_t time_ms)
{
	time_t t = (time_t)(time_ms / 1000u);
	struct tm tm;
	localtime_r(&t, &tm);
	return tm.tm_hour;
}

/* Binds text, or NULL for an empty string (absent in the row). */
static void bind_text(sqlite3_stmt *q, int i, const char *v)
{
	if (v && *v)
		sqlite3_bind_text(q, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(q, i);
}

static int step_reset(struct cg_store *s, sqlite3_stmt *q,
		      struct cg_error *err)
{
	int rc = sqlite3_step(q);
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return rc == SQLITE_DONE ? 0 : db_err(s, err, "writing");
}

static int count_allowed(struct cg_store *s, const struct cg_event *e,
			 const char *day, struct cg_error *err)
{
	int hour = local_hour(e->time_ms);
	const char *seat = e->seat[0] ? e->seat : "-";
	sqlite3_stmt *q = s->st[ST_TRAFFIC];
	sqlite3_bind_text(q, 1, day, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(q, 2, hour);
	sqlite3_bind_text(q, 3, seat, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(q, 4, e->category[0] ? e->category : "-", -1,
			  SQLITE_TRANSIENT);
	if (step_reset(s, q, err) < 0)
		return -1;
	if (!s->o.allowed_hosts || !e->host[0])
		return 0;
	q = s->st[ST_HOST];
	sqlite3_bind_text(q, 1, day, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(q, 2, hour);
	sqlite3_bind_text(q, 3, seat, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(q, 4, e->host, -1, SQLITE_TRANSIENT);
	return step_reset(s, q, err);
}

int cg_store_add(struct cg_store *s, const struct cg_event *e,
		 struct cg_error *err)
{
	if (!s->in_txn) {
		if (exec(s, "BEGIN;", err) < 0)
			return -1;
		s->in_txn = true;
	}
	char day[11];
	cg_store_day(e->time_ms, day);
	if (e->type == CG_EV_ALLOW)
		return count_allowed(s, e, day, err);
	sqlite3_stmt *q = s->st[ST_EVENT];
	char client[48] = "", server[48] = "", mac[18] = "";
	int af = e->family == 6 ? AF_INET6 : AF_INET;
	if (e->family) {
		inet_ntop(af, e->client, client, sizeof(client));
		inet_ntop(af, e->server, server, sizeof(server));
	}
	if (e->has_mac)
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x",
			 e->mac[0], e->mac[1], e->mac[2], e->mac[3], e->mac[4],
			 e->mac[5]);
	sqlite3_bind_int64(q, 1, (sqlite3_int64)e->time_ms);
	sqlite3_bind_text(q, 2, day, -1, SQLITE_TRANSIENT);
	bind_text(q, 3, cg_event_type_str((enum cg_event_type)e->type));
	bind_text(q, 4, e->type == CG_EV_BLOCK
				? cg_event_action_str(
					  (enum cg_event_action)e->action)
				: NULL);
	bind_text(q, 5, e->seat);
	bind_text(q, 6, e->profile);
	bind_text(q, 7, client);
	bind_text(q, 8, mac);
	bind_text(q, 9, server);
	if (e->family)
		sqlite3_bind_int(q, 10, e->server_port);
	bind_text(q, 11, !e->family ? NULL
			 : e->proto == 6 ? "tcp"
			 : e->proto == 17 ? "udp"
					  : "ip");
	bind_text(q, 12, e->host);
	bind_text(q, 13, e->app);
	bind_text(q, 14, e->reason);
	bind_text(q, 15, e->rule);
	bind_text(q, 16, e->category);
	bind_text(q, 17, e->file);
	if (e->file[0])
		sqlite3_bind_int(q, 18, (int)e->line);
	bind_text(q, 19, e->entry);
	bind_text(q, 20, e->detail);
	return step_reset(s, q, err);
}

int cg_store_commit(struct cg_store *s, struct cg_error *err)
{
	if (!s->in_txn)
		return 0;
	s->in_txn = false;
	if (exec(s, "COMMIT;", err) == 0)
		return 0;
	exec(s, "ROLLBACK;", NULL);
	return -1;
}

static int64_t pragma_int(struct cg_store *s, const char *sql)
{
	sqlite3_stmt *q;
	int64_t v = -1;
	if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return v;
}

/* Bytes the database holds in live pages. */
static int64_t used_bytes(struct cg_store *s)
{
	int64_t pages = pragma_int(s, "PRAGMA page_count");
	int64_t free_pages = pragma_int(s, "PRAGMA freelist_count");
	int64_t size = pragma_int(s, "PRAGMA page_size");
	return (pages - free_pages) * size;
}

static long delete_where(struct cg_store *s, const char *sql, int64_t arg,
			 const char *targ, struct cg_error *err)
{
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK)
		return db_err(s, err, "pruning");
	if (targ)
		sqlite3_bind_text(q, 1, targ, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_int64(q, 1, arg);
	int rc = sqlite3_step(q);
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return db_err(s, err, "pruning");
	return sqlite3_changes(s->db);
}

long cg_store_prune(struct cg_store *s, uint64_t now_ms, struct cg_error *err)
{
	if (cg_store_commit(s, err) < 0 || exec(s, "BEGIN;", err) < 0)
		return -1;
	long n = 0, k;
	if (s->o.retention_days) {
		uint64_t keep = (uint64_t)s->o.retention_days * 86400000u;
		uint64_t cut = now_ms > keep ? now_ms - keep : 0;
		char day[11];
		cg_store_day(cut, day);
		if ((k = delete_where(s, "DELETE FROM events WHERE time_ms < ?1",
				      (int64_t)cut, NULL, err)) < 0)
			goto fail;
		n += k;
		if ((k = delete_where(s, "DELETE FROM traffic WHERE day < ?1",
				      0, day, err)) < 0 ||
		    delete_where(s, "DELETE FROM traffic_hosts WHERE day < ?1",
				 0, day, err) < 0)
			goto fail;
		n += k;
	}
	/* Over the cap: the oldest tenth of the events at a time, until
	 * the live pages fit (counts are small beside the events). */
	int64_t cap = (int64_t)s->o.max_mb * 1024 * 1024;
	for (int round = 0; cap && round < 20 && used_bytes(s) > cap;
	     round++) {
		int64_t rows = pragma_int(s, "SELECT count(*) FROM events");
		if (rows <= 0)
			break;
		k = delete_where(s,
				 "DELETE FROM events WHERE id IN (SELECT id "
				 "FROM events ORDER BY id LIMIT ?1)",
				 rows / 10 + 1, NULL, err);
		if (k < 0)
			goto fail;
		n += k;
	}
	if (exec(s, "COMMIT;", err) < 0)
		return -1;
	/* Give freed pages back to the file system, and keep the WAL
	 * file from growing past what one round needs. */
	if (n && exec(s, "PRAGMA incremental_vacuum;", err) < 0)
		return -1;
	exec(s, "PRAGMA wal_checkpoint(TRUNCATE);", NULL);
	return n;
fail:
	exec(s, "ROLLBACK;", NULL);
	return -1;
}

/* ---- the logger's sink ---- */

struct store_sink {
	struct cg_event_sink base;
	struct cg_store *s;
	struct cg_event_sink *next;
	uint64_t next_prune_ms; /* monotonic */
	uint64_t errors;
	uint64_t quiet_until_ms; /* error messages at most once a minute */
};

static uint64_t clock_ms(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sink_complain(struct store_sink *k, const struct cg_error *err)
{
	k->errors++;
	uint64_t now = clock_ms(CLOCK_MONOTONIC);
	if (now < k->quiet_until_ms)
		return;
	k->quiet_until_ms = now + 60000;
	fprintf(stderr, "cafeguardd: %s (%llu error(s) so far)\n", err->msg,
		(unsigned long long)k->errors);
}

static int sink_write(struct cg_event_sink *base, const struct cg_event *e)
{
	struct store_sink *k = (struct store_sink *)base;
	struct cg_error err;
	int rc = cg_store_add(k->s, e, &err);
	if (rc < 0)
		sink_complain(k, &err);
	if (e->type == CG_EV_ALLOW || !k->next)
		return rc;
	return k->next->write(k->next, e);
}

static int sink_flush(struct cg_event_sink *base)
{
	struct store_sink *k = (struct store_sink *)base;
	struct cg_error err;
	int rc = cg_store_commit(k->s, &err);
	if (rc < 0)
		sink_complain(k, &err);
	uint64_t now = clock_ms(CLOCK_MONOTONIC);
	if (now >= k->next_prune_ms) {
		k->next_prune_ms = now + 60000;
		if (cg_store_prune(k->s, clock_ms(CLOCK_REALTIME), &err) < 0)
			sink_complain(k, &err);
	}
	if (k->next && k->next->flush(k->next) < 0)
		rc = -1;
	return rc;
}

static void sink_close(struct cg_event_sink *base)
{
	struct store_sink *k = (struct store_sink *)base;
	cg_store_close(k->s);
	if (k->next)
		k->next->close(k->next);
	free(k);
}

struct cg_event_sink *cg_store_sink_open(struct cg_store *s,
					 struct cg_event_sink *next)
{
	struct store_sink *k = calloc(1, sizeof(*k));
	if (!k)
		return NULL;
	k->base.write = sink_write;
	k->base.flush = sink_flush;
	k->base.close = sink_close;
	k->s = s;
	k->next = next;
	return &k->base;
}

/* ---- reading ---- */

static const char *col(sqlite3_stmt *q, int i)
{
	const unsigned char *t = sqlite3_column_text(q, i);
	return t ? (const char *)t : "";
}

long cg_store_query(struct cg_store *s, const struct cg_store_filter *f,
		    int (*fn)(void *ctx, const struct cg_store_row *r),
		    void *ctx, struct cg_error *err)
{
	static const char sql[] =
		"SELECT id, time_ms, type, action, seat, profile, client, mac, "
		"server, server_port, proto, host, app, reason, rule, "
		"category, list, line, entry, detail FROM events WHERE (?1 IS "
		"NULL OR day = ?1) AND (?2 IS NULL OR seat = ?2) AND id > ?3 "
		"ORDER BY id LIMIT ?4";
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK)
		return db_err(s, err, "reading");
	bind_text(q, 1, f->day);
	bind_text(q, 2, f->seat);
	sqlite3_bind_int64(q, 3, f->after_id);
	sqlite3_bind_int64(q, 4, f->limit ? (sqlite3_int64)f->limit : -1);
	long n = 0;
	int rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct cg_store_row r = {
			.id = sqlite3_column_int64(q, 0),
			.time_ms = (uint64_t)sqlite3_column_int64(q, 1),
			.type = col(q, 2),
			.action = col(q, 3),
			.seat = col(q, 4),
			.profile = col(q, 5),
			.client = col(q, 6),
			.mac = col(q, 7),
			.server = col(q, 8),
			.server_port = (unsigned)sqlite3_column_int(q, 9),
			.proto = col(q, 10),
			.host = col(q, 11),
			.app = col(q, 12),
			.reason = col(q, 13),
			.rule = col(q, 14),
			.category = col(q, 15),
			.list = col(q, 16),
			.line = (unsigned)sqlite3_column_int(q, 17),
			.entry = col(q, 18),
			.detail = col(q, 19),
		};
		n++;
		if (fn(ctx, &r))
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		db_err(s, err, "reading");
		n = -1;
	}
	sqlite3_finalize(q);
	return n;
}
