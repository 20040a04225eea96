/*
 * cafeguardctl report: one day of the event store in numbers, for the
 * owner at closing time: blocks by seat, hour and category, the most
 * blocked sites, bypass attempts, hashed-list hits, splash acceptances,
 * allowed traffic, uptime and time without filtering.  Text on stdout,
 * or a self-contained HTML page (no script, no external file) with a
 * chart of blocks per hour drawn as SVG.
 */
#include <getopt.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cafeguard/chart.h"
#include "cafeguard/config.h"
#include "cafeguard/store.h"
#include "ctl_internal.h"

/* Categories and applications that exist to get around a filter (GLOB
 * is case-sensitive: "Tor" must not match "BitTorrent"). */
#define BYPASS_SQL                                                             \
	"(category LIKE '%proxy%' OR category LIKE '%vpn%' OR category LIKE " \
	"'%doh%' OR category LIKE '%anonym%' OR app = 'Tor' OR app GLOB "     \
	"'*.Tor' OR app GLOB '*VPN*' OR app GLOB '*WireGuard*' OR app GLOB "  \
	"'*Psiphon*' OR app GLOB '*DoH*')"

struct report {
	sqlite3 *db;
	const char *day;
	bool fail_open;
	FILE *html;
	long blocks[24];
	long total_blocks;
	struct cg_chart chart; /* blocks[] by category */
};

static sqlite3_stmt *prep(struct report *r, const char *sql)
{
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(r->db, sql, -1, &q, NULL) != SQLITE_OK) {
		fprintf(stderr, "report: %s\n", sqlite3_errmsg(r->db));
		return NULL;
	}
	sqlite3_bind_text(q, 1, r->day, -1, SQLITE_STATIC);
	return q;
}

static long scalar(struct report *r, const char *sql)
{
	sqlite3_stmt *q = prep(r, sql);
	long v = 0;
	if (q && sqlite3_step(q) == SQLITE_ROW)
		v = (long)sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return v;
}

static const char *txt(sqlite3_stmt *q, int i)
{
	const unsigned char *t = sqlite3_column_text(q, i);
	return t ? (const char *)t : "-";
}

static void html_esc(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
	}
}

/* A table of (label, number) rows from sql, as text and HTML. */
static void table(struct report *r, const char *title, const char *head,
		  const char *sql)
{
	sqlite3_stmt *q = prep(r, sql);
	if (!q)
		return;
	printf("\n%s\n", title);
	if (r->html) {
		fprintf(r->html, "<h2>");
		html_esc(r->html, title);
		fprintf(r->html, "</h2>\n<table><thead><tr><th scope=\"col\">");
		html_esc(r->html, head);
		fprintf(r->html, "</th><th scope=\"col\">count</th></tr>"
				 "</thead><tbody>\n");
	}
	int rows = 0;
	while (sqlite3_step(q) == SQLITE_ROW) {
		printf("  %-40s %8lld\n", txt(q, 0),
		       (long long)sqlite3_column_int64(q, 1));
		if (r->html) {
			fprintf(r->html, "<tr><td>");
			html_esc(r->html, txt(q, 0));
			fprintf(r->html, "</td><td>%lld</td></tr>\n",
				(long long)sqlite3_column_int64(q, 1));
		}
		rows++;
	}
	if (!rows)
		printf("  (none)\n");
	if (r->html)
		fprintf(r->html, "%s</tbody></table>\n",
			rows ? "" : "<tr><td colspan=\"2\">none</td></tr>");
	sqlite3_finalize(q);
}

static int local_hour(int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	localtime_r(&t, &tm);
	return tm.tm_hour;
}

static void per_hour(struct report *r)
{
	sqlite3_stmt *q = prep(r, "SELECT time_ms, coalesce(category, "
				  "reason) FROM events WHERE day = ?1 AND "
				  "type = 'block'");
	cg_chart_init(&r->chart);
	while (q && sqlite3_step(q) == SQLITE_ROW) {
		int h = local_hour(sqlite3_column_int64(q, 0));
		r->blocks[h]++;
		r->total_blocks++;
		cg_chart_add(&r->chart, (const char *)sqlite3_column_text(q, 1),
			     h, 1);
	}
	sqlite3_finalize(q);
	printf("\nblocks per hour\n");
	for (int h = 0; h < 24; h++)
		if (r->blocks[h])
			printf("  %02d:00  %6ld\n", h, r->blocks[h]);
}

/* Bars of blocks per hour by category (chart.h, as the dashboard
 * draws them); the numbers are also in the tables below for screen
 * readers. */
static void svg_chart(struct report *r)
{
	char title[64];
	snprintf(title, sizeof(title), "Blocks per hour, %ld in all",
		 r->total_blocks);
	cg_chart_fold(&r->chart, CG_CHART_KEEP);
	fputs("<figure>", r->html);
	cg_chart_svg(r->html, &r->chart, title, "chart");
	fputs("<figcaption>Blocks per hour (local time), by category"
	      "</figcaption></figure>\n",
	      r->html);
}

/*
 * Uptime from the start and stop rows of the day; a start with no stop
 * before it means the daemon died, and the gap from its last row to the
 * new start had no filter (fail-open) or no internet (fail-closed).
 */
static void uptime(struct report *r, long *up_s, long *away_s)
{
	sqlite3_stmt *q = prep(r, "SELECT type, time_ms FROM events WHERE "
				  "day = ?1 ORDER BY id");
	int64_t since = -1, last = -1;
	*up_s = *away_s = 0;
	while (q && sqlite3_step(q) == SQLITE_ROW) {
		const char *t = txt(q, 0);
		int64_t ms = sqlite3_column_int64(q, 1);
		if (!strcmp(t, "start")) {
			if (since >= 0 && last >= since)
				*up_s += (long)((last - since) / 1000);
			if (last >= 0 && ms > last)
				*away_s += (long)((ms - last) / 1000);
			since = ms;
		} else if (!strcmp(t, "stop") && since >= 0) {
			*up_s += (long)((ms - since) / 1000);
			since = -1;
		}
		last = ms;
	}
	if (since >= 0 && last >= since)
		*up_s += (long)((last - since) / 1000);
	sqlite3_finalize(q);
}

static int usage(void)
{
	fprintf(stderr, "report: [-c CONF] [--day YYYY-MM-DD] [--html FILE]\n");
	return 2;
}

int cg_ctl_report(int argc, char **argv)
{
	const char *conf = CG_CTL_DEFAULT_CONF, *day = NULL, *html = NULL;
	static const struct option lo[] = {{"config", 1, NULL, 'c'},
					   {"day", 1, NULL, 'd'},
					   {"html", 1, NULL, 'H'},
					   {NULL, 0, NULL, 0}};
	int c;
	while ((c = getopt_long(argc, argv, "c:d:", lo, NULL)) != -1) {
		if (c == 'c')
			conf = optarg;
		else if (c == 'd')
			day = optarg;
		else if (c == 'H')
			html = optarg;
		else
			return usage();
	}
	int y, m, d;
	char tail;
	if (optind != argc ||
	    (day && (strlen(day) != 10 ||
		     sscanf(day, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)))
		return usage();
	struct cg_config cfg;
	struct cg_diag dg = {0};
	int lrc = cg_config_load(conf, &cfg, &dg);
	cg_diag_print(&dg, stderr);
	cg_diag_clear(&dg);
	if (lrc < 0 || !cfg.db_file) {
		if (lrc == 0)
			fprintf(stderr, "report: %s keeps no event store\n",
				conf);
		cg_config_free(&cfg);
		return 1;
	}
	struct report r = {.fail_open = cfg.fail_open};
	char today[11];
	if (!day) {
		cg_store_day((uint64_t)time(NULL) * 1000u, today);
		day = today;
	}
	r.day = day;
	/* Checked and migrated by the store's own reader first. */
	struct cg_error err;
	struct cg_store *chk = cg_store_open_readonly(cfg.db_file, &err);
	if (!chk) {
		fprintf(stderr, "report: %s\n", err.msg);
		cg_config_free(&cfg);
		return 1;
	}
	cg_store_close(chk);
	if (sqlite3_open_v2(cfg.db_file, &r.db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		fprintf(stderr, "report: %s: %s\n", cfg.db_file,
			sqlite3_errmsg(r.db));
		sqlite3_close(r.db);
		cg_config_free(&cfg);
		return 1;
	}
	sqlite3_busy_timeout(r.db, 2000);
	cg_config_free(&cfg);
	if (html && !(r.html = fopen(html, "w"))) {
		perror(html);
		sqlite3_close(r.db);
		return 1;
	}
	if (r.html)
		fprintf(r.html,
			"<!DOCTYPE html><html lang=\"en\"><head><meta "
			"charset=\"utf-8\"><meta name=\"viewport\" "
			"content=\"width=device-width\"><title>cafeguard report "
			"%s</title><style>body{font-family:sans-serif;max-"
			"width:40em;margin:auto;padding:1em;color:#1a1a1a}"
			"table{border-collapse:collapse}td,th{border:1px solid "
			"#999;padding:.2em .5em;text-align:left}</style>"
			"</head><body><h1>cafeguard report, %s</h1>\n",
			day, day);
	printf("cafeguard report, %s\n", day);
	long up, away;
	uptime(&r, &up, &away);
	long acc = scalar(&r, "SELECT count(*) FROM events WHERE day = ?1 AND "
			      "type = 'captive'");
	long bypass = scalar(&r, "SELECT count(*) FROM events WHERE day = ?1 "
				 "AND type = 'block' AND " BYPASS_SQL);
	long hashed = scalar(&r, "SELECT count(*) FROM events WHERE day = ?1 "
				 "AND type = 'block' AND (entry LIKE 'md5:%' OR "
				 "entry LIKE 'sha1:%' OR entry LIKE "
				 "'sha256:%')");
	long allowed = scalar(&r, "SELECT coalesce(sum(flows), 0) FROM "
				  "traffic WHERE day = ?1");
	long lost = scalar(&r, "SELECT count(*) FROM events WHERE day = ?1 AND "
			       "type = 'dropped'");
	long failed = scalar(&r, "SELECT count(*) FROM events WHERE day = ?1 "
				 "AND type = 'reload' AND detail LIKE "
				 "'failed%'");
	printf("  running             %ldh%02ldm\n", up / 3600,
	       (up / 60) % 60);
	printf("  %-19s %ldh%02ldm\n",
	       r.fail_open ? "unfiltered (down)" : "no internet (down)",
	       away / 3600, (away / 60) % 60);
	printf("  splash acceptances  %ld\n  bypass attempts     %ld\n"
	       "  hashed-list hits    %ld\n  allowed connections %ld\n"
	       "  failed reloads      %ld\n  lost-event notices  %ld\n",
	       acc, bypass, hashed, allowed, failed, lost);
	if (r.html)
		fprintf(r.html,
			"<ul><li>running %ldh%02ldm</li><li>%s %ldh%02ldm"
			"</li><li>splash acceptances %ld</li><li>bypass "
			"attempts %ld</li><li>hashed-list hits %ld</li><li>"
			"allowed connections %ld</li><li>failed reloads %ld"
			"</li><li>lost-event notices %ld</li></ul>\n",
			up / 3600, (up / 60) % 60,
			r.fail_open ? "unfiltered while down"
				    : "no internet while down",
			away / 3600, (away / 60) % 60, acc, bypass, hashed,
			allowed, failed, lost);
	per_hour(&r);
	if (r.html)
		svg_chart(&r);
	table(&r, "blocks by seat", "seat",
	      "SELECT coalesce(seat, '(not a seat)'), count(*) FROM events "
	      "WHERE day = ?1 AND type = 'block' GROUP BY 1 ORDER BY 2 DESC");
	table(&r, "blocks by category", "category",
	      "SELECT coalesce(category, reason), count(*) FROM events WHERE "
	      "day = ?1 AND type = 'block' GROUP BY 1 ORDER BY 2 DESC");
	table(&r, "most blocked sites", "site",
	      "SELECT coalesce(host, app), count(*) FROM events WHERE day = ?1 "
	      "AND type = 'block' GROUP BY 1 ORDER BY 2 DESC LIMIT 10");
	table(&r, "allowed connections by seat and category",
	      "seat / category",
	      "SELECT seat || ' / ' || category, sum(flows) FROM traffic "
	      "WHERE day = ?1 GROUP BY 1 ORDER BY 2 DESC LIMIT 20");
	if (r.html) {
		fprintf(r.html, "</body></html>\n");
		fclose(r.html);
		printf("\nHTML report: %s\n", html);
	}
	sqlite3_close(r.db);
	return 0;
}
