/*
 * cafeguardctl log: the day's events from the operator's store, as the
 * attendant reads them (a line each), or as JSON lines or CSV for a
 * script or a spreadsheet; --follow keeps printing new ones.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cafeguard/config.h"
#include "cafeguard/store.h"
#include "ctl_internal.h"

enum fmt { FMT_TEXT, FMT_JSON, FMT_CSV };

struct out {
	enum fmt fmt;
	int64_t last_id;
};

static void local_time(uint64_t ms, char *buf, size_t sz)
{
	time_t t = (time_t)(ms / 1000u);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(buf, sz, "%H:%M:%S", &tm);
}

static void json_str(const char *k, const char *v, bool *first)
{
	if (!*v)
		return;
	printf("%s\"%s\":\"", *first ? "" : ",", k);
	*first = false;
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

/* RFC 4180: quoted when it holds a comma, quote or line break. */
static void csv_str(const char *v, bool last)
{
	if (strpbrk(v, ",\"\r\n")) {
		putchar('"');
		for (; *v; v++) {
			if (*v == '"')
				putchar('"');
			putchar(*v);
		}
		putchar('"');
	} else {
		fputs(v, stdout);
	}
	putchar(last ? '\n' : ',');
}

static const char *const csv_head =
	"id,time,type,action,seat,profile,client,mac,server,server_port,"
	"proto,host,app,reason,rule,category,list,line,entry,detail\n";

static int print_row(void *ctx, const struct cg_store_row *r)
{
	struct out *o = ctx;
	o->last_id = r->id;
	char t[16];
	local_time(r->time_ms, t, sizeof(t));
	if (o->fmt == FMT_TEXT) {
		/* What happened, to whom, and why, in a line. */
		const char *what = *r->host ? r->host : *r->app ? r->app : "";
		printf("%s  %-10s %-8s %-32s", t, *r->seat ? r->seat : "-",
		       r->type, what);
		if (*r->rule)
			printf(" %s", r->rule);
		if (*r->action)
			printf(" (%s)", r->action);
		if (*r->detail)
			printf(" %s", r->detail);
		putchar('\n');
	} else if (o->fmt == FMT_JSON) {
		bool first = false;
		char iso[40];
		time_t s = (time_t)(r->time_ms / 1000u);
		struct tm tm;
		gmtime_r(&s, &tm);
		strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%S", &tm);
		printf("{\"id\":%lld,\"time\":\"%s.%03uZ\"", (long long)r->id,
		       iso, (unsigned)(r->time_ms % 1000u));
		const char *kv[][2] = {
			{"type", r->type},	   {"action", r->action},
			{"seat", r->seat},	   {"profile", r->profile},
			{"client", r->client},	   {"mac", r->mac},
			{"server", r->server},	   {"proto", r->proto},
			{"host", r->host},	   {"app", r->app},
			{"reason", r->reason},	   {"rule", r->rule},
			{"category", r->category}, {"list", r->list},
			{"entry", r->entry},	   {"detail", r->detail},
		};
		for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++)
			json_str(kv[i][0], kv[i][1], &first);
		if (r->server_port)
			printf(",\"server_port\":%u", r->server_port);
		if (r->line)
			printf(",\"line\":%u", r->line);
		printf("}\n");
	} else {
		char id[24], port[12] = "", line[12] = "", iso[40];
		snprintf(id, sizeof(id), "%lld", (long long)r->id);
		if (r->server_port)
			snprintf(port, sizeof(port), "%u", r->server_port);
		if (r->line)
			snprintf(line, sizeof(line), "%u", r->line);
		time_t s = (time_t)(r->time_ms / 1000u);
		struct tm tm;
		localtime_r(&s, &tm);
		strftime(iso, sizeof(iso), "%Y-%m-%d %H:%M:%S", &tm);
		const char *v[] = {id,	       iso,	    r->type,
				   r->action,  r->seat,	    r->profile,
				   r->client,  r->mac,	    r->server,
				   port,       r->proto,    r->host,
				   r->app,     r->reason,   r->rule,
				   r->category, r->list,    line,
				   r->entry,   r->detail};
		size_t n = sizeof(v) / sizeof(v[0]);
		for (size_t i = 0; i < n; i++)
			csv_str(v[i], i + 1 == n);
	}
	return 0;
}

static bool valid_day(const char *d)
{
	int y, m, dd;
	char tail;
	return strlen(d) == 10 &&
	       sscanf(d, "%4d-%2d-%2d%c", &y, &m, &dd, &tail) == 3 && m >= 1 &&
	       m <= 12 && dd >= 1 && dd <= 31;
}

static int usage(void)
{
	fprintf(stderr, "log: [-c CONF] [--day YYYY-MM-DD] [--seat NAME] "
			"[--follow] [--json|--csv]\n");
	return 2;
}

int cg_ctl_log(int argc, char **argv)
{
	const char *conf = CG_CTL_DEFAULT_CONF, *day = NULL, *seat = NULL;
	bool follow = false;
	struct out o = {.fmt = FMT_TEXT};
	static const struct option lo[] = {
		{"config", 1, NULL, 'c'}, {"day", 1, NULL, 'd'},
		{"seat", 1, NULL, 's'},	  {"follow", 0, NULL, 'f'},
		{"json", 0, NULL, 'j'},	  {"csv", 0, NULL, 'v'},
		{NULL, 0, NULL, 0}};
	int c;
	while ((c = getopt_long(argc, argv, "c:d:s:f", lo, NULL)) != -1) {
		switch (c) {
		case 'c': conf = optarg; break;
		case 'd': day = optarg; break;
		case 's': seat = optarg; break;
		case 'f': follow = true; break;
		case 'j': o.fmt = FMT_JSON; break;
		case 'v': o.fmt = FMT_CSV; break;
		default: return usage();
		}
	}
	if (optind != argc)
		return usage();
	if (day && !valid_day(day)) {
		fprintf(stderr, "log: --day \"%s\": give YYYY-MM-DD\n", day);
		return 2;
	}
	struct cg_config cfg;
	struct cg_diag d = {0};
	int lrc = cg_config_load(conf, &cfg, &d);
	cg_diag_print(&d, stderr);
	cg_diag_clear(&d);
	if (lrc < 0) {
		cg_config_free(&cfg);
		return 1;
	}
	if (!cfg.db_file) {
		fprintf(stderr, "log: %s keeps no event store (set log { "
				"database = \"...\"; })\n",
			conf);
		cg_config_free(&cfg);
		return 1;
	}
	struct cg_error err;
	struct cg_store *st = cg_store_open_readonly(cfg.db_file, &err);
	cg_config_free(&cfg);
	if (!st) {
		fprintf(stderr, "log: %s\n", err.msg);
		return 1;
	}
	/* Today by default; following, today's rows and then whatever
	 * comes, past midnight too. */
	char today[11];
	bool any_day = follow && !day;
	if (!day) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		cg_store_day((uint64_t)ts.tv_sec * 1000u, today);
		day = today;
	}
	if (o.fmt == FMT_CSV)
		fputs(csv_head, stdout);
	struct cg_store_filter f = {.day = day, .seat = seat};
	int rc = 0;
	for (;;) {
		f.after_id = o.last_id;
		if (cg_store_query(st, &f, print_row, &o, &err) < 0) {
			fprintf(stderr, "log: %s\n", err.msg);
			rc = 1;
			break;
		}
		if (!follow)
			break;
		if (any_day)
			f.day = NULL;
		fflush(stdout);
		usleep(500 * 1000);
	}
	cg_store_close(st);
	return rc;
}
