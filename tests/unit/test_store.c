/*
 * The event store: rows and counts, queries, batching into
 * transactions, migration from an older schema, refusal of a newer one,
 * retention and the size cap, and a writer killed in the middle of a
 * transaction.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "cafeguard/store.h"

#define T0 UINT64_C(1795446000000) /* 2026-11-23 15:00 UTC, ms */

struct fx {
	char dir[64];
	char path[96];
};

static int setup(void **state)
{
	setenv("TZ", "UTC", 1);
	struct fx *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/cg-store-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/events.db", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static struct cg_event block(uint64_t t, const char *seat, const char *host)
{
	struct cg_event e;
	memset(&e, 0, sizeof(e));
	e.time_ms = t;
	e.type = CG_EV_BLOCK;
	e.action = CG_ACT_SINKHOLE;
	e.family = 4;
	e.proto = 17;
	e.client[0] = 10, e.client[3] = 11;
	e.server[0] = 10, e.server[3] = 1;
	e.server_port = 53;
	e.has_mac = true;
	e.mac[0] = 0x52, e.mac[5] = 0x0b;
	snprintf(e.seat, sizeof(e.seat), "%s", seat);
	snprintf(e.host, sizeof(e.host), "%s", host);
	snprintf(e.reason, sizeof(e.reason), "list");
	snprintf(e.rule, sizeof(e.rule), "category adult");
	snprintf(e.category, sizeof(e.category), "adult");
	snprintf(e.entry, sizeof(e.entry), "sha256:0123456789abcdef...");
	snprintf(e.file, sizeof(e.file), "/etc/cafeguard/rules/adult.hosts");
	e.line = 7;
	return e;
}

static struct cg_event allow(uint64_t t, const char *seat, const char *cat,
			     const char *host)
{
	struct cg_event e;
	memset(&e, 0, sizeof(e));
	e.time_ms = t;
	e.type = CG_EV_ALLOW;
	snprintf(e.seat, sizeof(e.seat), "%s", seat);
	snprintf(e.category, sizeof(e.category), "%s", cat);
	snprintf(e.host, sizeof(e.host), "%s", host);
	return e;
}

struct rows {
	int n;
	char hosts[8][64];
	char last_mac[20], last_entry[64], last_action[16];
	int64_t last_id;
};

static int collect(void *ctx, const struct cg_store_row *r)
{
	struct rows *rs = ctx;
	if (rs->n < 8)
		snprintf(rs->hosts[rs->n], 64, "%s", r->host);
	rs->n++;
	snprintf(rs->last_mac, sizeof(rs->last_mac), "%s", r->mac);
	snprintf(rs->last_entry, sizeof(rs->last_entry), "%s", r->entry);
	snprintf(rs->last_action, sizeof(rs->last_action), "%s", r->action);
	rs->last_id = r->id;
	return 0;
}

static int64_t sql_int(const char *path, const char *sql)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL),
			 SQLITE_OK);
	sqlite3_stmt *q;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
	int64_t v = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0)
						   : -1;
	sqlite3_finalize(q);
	sqlite3_close(db);
	return v;
}

static void rows_and_counts(void **state)
{
	struct fx *f = *state;
	struct cg_error err;
	struct cg_store_opts o = {.path = f->path, .retention_days = 30};
	struct cg_store *s = cg_store_open(&o, &err);
	assert_non_null(s);
	struct cg_event e = block(T0, "seat-01", "www.blocked.test");
	assert_int_equal(cg_store_add(s, &e, &err), 0);
	e = block(T0 + 1000, "seat-02", "other.test");
	assert_int_equal(cg_store_add(s, &e, &err), 0);
	for (int i = 0; i < 3; i++) {
		e = allow(T0 + 2000, "seat-01", "Web", "allowed.test");
		assert_int_equal(cg_store_add(s, &e, &err), 0);
	}
	e = allow(T0 + 3600000, "", "Game", "game.test");
	assert_int_equal(cg_store_add(s, &e, &err), 0);
	assert_int_equal(cg_store_commit(s, &err), 0);
	cg_store_close(s);

	assert_int_equal(sql_int(f->path, "PRAGMA user_version"),
			 CG_STORE_SCHEMA);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM events"), 2);
	assert_int_equal(sql_int(f->path, "SELECT flows FROM traffic WHERE "
					  "seat = 'seat-01' AND hour = 15 AND "
					  "category = 'Web'"),
			 3);
	/* Not a seat: filed under "-"; the next hour is its own row. */
	assert_int_equal(sql_int(f->path, "SELECT flows FROM traffic WHERE "
					  "seat = '-' AND hour = 16"),
			 1);
	/* Allowed names are not kept unless asked. */
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM "
					  "traffic_hosts"),
			 0);

	s = cg_store_open_readonly(f->path, &err);
	assert_non_null(s);
	struct rows rs = {0};
	struct cg_store_filter fl = {.day = "2026-11-23"};
	assert_int_equal(cg_store_query(s, &fl, collect, &rs, &err), 2);
	assert_string_equal(rs.hosts[0], "www.blocked.test");
	assert_string_equal(rs.last_mac, "52:00:00:00:00:0b");
	assert_string_equal(rs.last_action, "sinkhole");
	/* A hashed list's entry is kept as its hash. */
	assert_string_equal(rs.last_entry, "sha256:0123456789abcdef...");
	memset(&rs, 0, sizeof(rs));
	fl.seat = "seat-02";
	assert_int_equal(cg_store_query(s, &fl, collect, &rs, &err), 1);
	assert_string_equal(rs.hosts[0], "other.test");
	memset(&rs, 0, sizeof(rs));
	fl = (struct cg_store_filter){.day = "2026-11-24"};
	assert_int_equal(cg_store_query(s, &fl, collect, &rs, &err), 0);
	/* Follow: only rows after the last seen. */
	fl = (struct cg_store_filter){.after_id = 1};
	assert_int_equal(cg_store_query(s, &fl, collect, &rs, &err), 1);
	cg_store_close(s);
}

static void allowed_hosts_when_asked(void **state)
{
	struct fx *f = *state;
	struct cg_error err;
	struct cg_store_opts o = {.path = f->path, .allowed_hosts = true};
	struct cg_store *s = cg_store_open(&o, &err);
	struct cg_event e = allow(T0, "seat-01", "Web", "allowed.test");
	assert_int_equal(cg_store_add(s, &e, &err), 0);
	assert_int_equal(cg_store_add(s, &e, &err), 0);
	assert_int_equal(cg_store_commit(s, &err), 0);
	cg_store_close(s);
	assert_int_equal(sql_int(f->path, "SELECT flows FROM traffic_hosts "
					  "WHERE host = 'allowed.test'"),
			 2);
}

/* A box that ran the first release has schema 1: it is migrated in
 * place, its rows kept. */
static void migrates_from_schema_1(void **state)
{
	struct fx *f = *state;
	sqlite3 *db;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(
		sqlite3_exec(db,
			     "CREATE TABLE events (id INTEGER PRIMARY KEY, "
			     "time_ms INTEGER NOT NULL, day TEXT NOT NULL, "
			     "type TEXT NOT NULL, action TEXT, seat TEXT, "
			     "profile TEXT, client TEXT, mac TEXT, server TEXT, "
			     "server_port INTEGER, proto TEXT, host TEXT, app "
			     "TEXT, reason TEXT, rule TEXT, category TEXT, list "
			     "TEXT, line INTEGER, entry TEXT, detail TEXT);"
			     "CREATE INDEX events_day_seat ON events(day, seat);"
			     "CREATE INDEX events_time ON events(time_ms);"
			     "INSERT INTO events (time_ms, day, type, host) "
			     "VALUES (1795446000000, '2026-11-23', 'block', "
			     "'old.test');"
			     "PRAGMA user_version = 1;",
			     NULL, NULL, NULL),
		SQLITE_OK);
	sqlite3_close(db);
	struct cg_error err;
	struct cg_store_opts o = {.path = f->path};
	struct cg_store *s = cg_store_open(&o, &err);
	assert_non_null(s);
	struct cg_event e = allow(T0, "seat-01", "Web", "a.test");
	assert_int_equal(cg_store_add(s, &e, &err), 0);
	assert_int_equal(cg_store_commit(s, &err), 0);
	cg_store_close(s);
	assert_int_equal(sql_int(f->path, "PRAGMA user_version"), 2);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM events WHERE "
					  "host = 'old.test'"),
			 1);
	assert_int_equal(sql_int(f->path, "SELECT flows FROM traffic"), 1);
}

static void refuses_newer_schema_and_non_database(void **state)
{
	struct fx *f = *state;
	sqlite3 *db;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99;", NULL,
				      NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	struct cg_error err;
	struct cg_store_opts o = {.path = f->path};
	assert_null(cg_store_open(&o, &err));
	assert_non_null(strstr(err.msg, "newer cafeguard (schema 99"));
	assert_null(cg_store_open_readonly(f->path, &err));

	FILE *x = fopen(f->path, "w");
	fputs("not a database, but long enough to look at its header......"
	      "..................................................\n",
	      x);
	fclose(x);
	unlink(f->path);
	x = fopen(f->path, "w");
	for (int i = 0; i < 100; i++)
		fputs("garbage garbage garbage garbage\n", x);
	fclose(x);
	assert_null(cg_store_open(&o, &err));
	assert_non_null(strstr(err.msg, f->path));
	char missing[128];
	snprintf(missing, sizeof(missing), "%s/none.db", f->dir);
	assert_null(cg_store_open_readonly(missing, &err));
	assert_non_null(strstr(err.msg, "cannot open"));
}

static void retention_and_cap(void **state)
{
	struct fx *f = *state;
	struct cg_error err;
	struct cg_store_opts o = {.path = f->path, .retention_days = 2,
				  .max_mb = 1};
	struct cg_store *s = cg_store_open(&o, &err);
	/* Three days old, one day old, now. */
	uint64_t ts[3] = {T0 - 3 * 86400000ull, T0 - 86400000ull, T0};
	for (int d = 0; d < 3; d++) {
		struct cg_event e = block(ts[d], "seat-01", "x.test");
		assert_int_equal(cg_store_add(s, &e, &err), 0);
		e = allow(ts[d], "seat-01", "Web", "");
		assert_int_equal(cg_store_add(s, &e, &err), 0);
	}
	assert_int_equal(cg_store_commit(s, &err), 0);
	assert_int_equal(cg_store_prune(s, T0, &err), 2);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM events"), 2);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM traffic"), 2);

	/* Past 1 MB of rows: the oldest go until it fits. */
	for (int i = 0; i < 8000; i++) {
		struct cg_event e = block(T0 + (uint64_t)i, "seat-01",
					  "a-rather-long-name-to-fill-pages."
					  "blocked.test");
		assert_int_equal(cg_store_add(s, &e, &err), 0);
	}
	assert_int_equal(cg_store_commit(s, &err), 0);
	int64_t before = sql_int(f->path, "SELECT count(*) FROM events");
	assert_true(cg_store_prune(s, T0, &err) > 0);
	int64_t after = sql_int(f->path, "SELECT count(*) FROM events");
	assert_true(after < before);
	assert_true(sql_int(f->path, "PRAGMA page_count") *
			    sql_int(f->path, "PRAGMA page_size") <=
		    2 * 1024 * 1024);
	/* The newest stay. */
	assert_int_equal(sql_int(f->path, "SELECT max(time_ms) FROM events"),
			 (int64_t)(T0 + 7999));
	cg_store_close(s);
}

/* The writer dies (SIGKILL) with a transaction open: what it committed
 * is there, the open one is not, and the database is whole. */
static void killed_writer(void **state)
{
	struct fx *f = *state;
	int pipefd[2];
	assert_int_equal(pipe(pipefd), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct cg_error err;
		struct cg_store_opts o = {.path = f->path};
		struct cg_store *s = cg_store_open(&o, &err);
		for (int i = 0; i < 500; i++) {
			struct cg_event e = block(T0 + (uint64_t)i, "seat-01",
						  "committed.test");
			cg_store_add(s, &e, &err);
		}
		cg_store_commit(s, &err);
		for (int i = 0; i < 500; i++) {
			struct cg_event e = block(T0 + 1000 + (uint64_t)i,
						  "seat-01", "in-flight.test");
			cg_store_add(s, &e, &err);
		}
		if (write(pipefd[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	char c;
	assert_int_equal(read(pipefd[0], &c, 1), 1);
	kill(pid, SIGKILL);
	int st;
	waitpid(pid, &st, 0);
	assert_true(WIFSIGNALED(st));
	close(pipefd[0]);
	close(pipefd[1]);

	struct cg_error err;
	struct cg_store_opts o = {.path = f->path};
	struct cg_store *s = cg_store_open(&o, &err);
	assert_non_null(s);
	cg_store_close(s);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM events WHERE "
					  "host = 'committed.test'"),
			 500);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM events WHERE "
					  "host = 'in-flight.test'"),
			 0);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	sqlite3_stmt *q;
	sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &q, NULL);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(q, 0), "ok");
	sqlite3_finalize(q);
	sqlite3_close(db);
}

/* The sink: everything into the store, everything but the counts on to
 * the next sink, one transaction per flush. */
struct count_sink {
	struct cg_event_sink base;
	int writes, flushes;
	bool closed;
};

static int cs_write(struct cg_event_sink *s, const struct cg_event *e)
{
	(void)e;
	((struct count_sink *)s)->writes++;
	return 0;
}
static int cs_flush(struct cg_event_sink *s)
{
	((struct count_sink *)s)->flushes++;
	return 0;
}
static void cs_close(struct cg_event_sink *s)
{
	((struct count_sink *)s)->closed = true;
}

static void sink_batches(void **state)
{
	struct fx *f = *state;
	struct cg_error err;
	struct cg_store_opts o = {.path = f->path};
	struct cg_store *s = cg_store_open(&o, &err);
	struct count_sink next = {.base = {cs_write, cs_flush, cs_close}};
	struct cg_event_sink *k = cg_store_sink_open(s, &next.base);
	struct cg_event b = block(T0, "seat-01", "x.test");
	struct cg_event a = allow(T0, "seat-01", "Web", "a.test");
	assert_int_equal(k->write(k, &b), 0);
	assert_int_equal(k->write(k, &a), 0);
	/* Nothing is visible before the flush commits the round. */
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM events"), 0);
	assert_int_equal(k->flush(k), 0);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM events"), 1);
	assert_int_equal(next.writes, 1);
	assert_int_equal(next.flushes, 1);
	k->close(k);
	assert_true(next.closed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(rows_and_counts, setup,
						teardown),
		cmocka_unit_test_setup_teardown(allowed_hosts_when_asked, setup,
						teardown),
		cmocka_unit_test_setup_teardown(migrates_from_schema_1, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			refuses_newer_schema_and_non_database, setup, teardown),
		cmocka_unit_test_setup_teardown(retention_and_cap, setup,
						teardown),
		cmocka_unit_test_setup_teardown(killed_writer, setup, teardown),
		cmocka_unit_test_setup_teardown(sink_batches, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
