#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cafeguard/metrics.h"

/* ---- a line-grammar checker, after `promtool check metrics` ---- */

#define MAX_FAMILIES 256
#define MAX_SERIES   4096

/* Each check returns NULL or what is wrong, so the checker itself can be
 * shown to reject broken texts. */
#define CHECK(cond, why)                                                       \
	do {                                                                   \
		if (!(cond))                                                   \
			return why;                                            \
	} while (0)
#define TRY(call)                                                              \
	do {                                                                   \
		const char *why_ = (call);                                     \
		if (why_)                                                      \
			return why_;                                           \
	} while (0)

struct family {
	char name[128];
	char type[16];
	bool help, has_type, left;
	size_t samples;
};

struct checker {
	struct family fam[MAX_FAMILIES];
	size_t nfam;
	struct family *cur;
	char *series[MAX_SERIES];
	size_t nseries;
};

static bool name_char(char c, bool first, bool colon)
{
	return isalpha((unsigned char)c) || c == '_' || (colon && c == ':') ||
	       (!first && isdigit((unsigned char)c));
}

/* Length of the metric (colon) or label name at s; 0 if none. */
static size_t name_len(const char *s, bool colon)
{
	size_t n = 0;
	while (s[n] && name_char(s[n], n == 0, colon))
		n++;
	return n;
}

static struct family *family_of(struct checker *c, const char *name, size_t n)
{
	if (n >= sizeof(c->fam[0].name))
		return NULL;
	for (size_t i = 0; i < c->nfam; i++)
		if (strlen(c->fam[i].name) == n &&
		    !memcmp(c->fam[i].name, name, n))
			return &c->fam[i];
	if (c->nfam == MAX_FAMILIES)
		return NULL;
	struct family *f = &c->fam[c->nfam++];
	memcpy(f->name, name, n);
	f->name[n] = '\0';
	return f;
}

/* A family's lines must be together: once another family starts, this
 * one may not come back. */
static const char *enter(struct checker *c, struct family *f)
{
	CHECK(f, "too many families or name too long");
	if (c->cur == f)
		return NULL;
	CHECK(!f->left, "family split by another");
	if (c->cur)
		c->cur->left = true;
	c->cur = f;
	return NULL;
}

static const char *check_comment(struct checker *c, const char *line)
{
	bool help = !strncmp(line, "# HELP ", 7);
	CHECK(help || !strncmp(line, "# TYPE ", 7), "comment not HELP/TYPE");
	const char *name = line + 7;
	size_t n = name_len(name, true);
	CHECK(n && name[n] == ' ', "bad metric name in comment");
	struct family *f = family_of(c, name, n);
	TRY(enter(c, f));
	const char *rest = name + n + 1;
	if (help) {
		CHECK(!f->help, "HELP twice");
		f->help = true;
		/* HELP escapes only backslash and newline. */
		for (const char *p = rest; *p; p++)
			if (*p == '\\') {
				p++;
				CHECK(*p == '\\' || *p == 'n',
				      "bad HELP escape");
			}
		return NULL;
	}
	CHECK(!f->has_type, "TYPE twice");
	CHECK(!f->samples, "TYPE after samples");
	CHECK(!strcmp(rest, "counter") || !strcmp(rest, "gauge") ||
		  !strcmp(rest, "untyped"),
	      "unknown TYPE");
	f->has_type = true;
	snprintf(f->type, sizeof(f->type), "%s", rest);
	return NULL;
}

/* label="value",...}: *end gets the text after the '}'. */
static const char *check_labels(const char *p, const char **end)
{
	char seen[8][64];
	size_t nseen = 0;
	for (;;) {
		size_t n = name_len(p, false);
		CHECK(n, "bad label name");
		CHECK(n < 2 || p[0] != '_' || p[1] != '_',
		      "reserved label name");
		CHECK(n < 64 && nseen < 8, "label too long or too many");
		for (size_t i = 0; i < nseen; i++)
			CHECK(strlen(seen[i]) != n || memcmp(seen[i], p, n),
			      "label twice");
		memcpy(seen[nseen], p, n);
		seen[nseen++][n] = '\0';
		p += n;
		CHECK(p[0] == '=' && p[1] == '"', "label without =\"");
		for (p += 2; *p != '"'; p++) {
			CHECK(*p, "unterminated label value");
			if (*p == '\\') {
				p++;
				CHECK(*p == '\\' || *p == '"' || *p == 'n',
				      "bad label escape");
			}
		}
		p++;
		if (*p == '}') {
			*end = p + 1;
			return NULL;
		}
		CHECK(*p++ == ',', "labels not separated by ,");
	}
}

static const char *check_sample(struct checker *c, const char *line)
{
	size_t n = name_len(line, true);
	CHECK(n, "bad metric name");
	struct family *f = family_of(c, line, n);
	TRY(enter(c, f));
	CHECK(f->help && f->has_type, "sample before HELP and TYPE");
	const char *p = line + n;
	if (*p == '{')
		TRY(check_labels(p + 1, &p));
	CHECK(*p == ' ', "no space before the value");
	/* The series (name and labels) appears once. */
	size_t sl = (size_t)(p - line);
	for (size_t i = 0; i < c->nseries; i++)
		CHECK(strlen(c->series[i]) != sl ||
			  memcmp(c->series[i], line, sl),
		      "duplicate series");
	CHECK(c->nseries < MAX_SERIES, "too many series");
	c->series[c->nseries++] = strndup(line, sl);
	/* A float value and nothing after it (no timestamps here). */
	char *end;
	strtod(p + 1, &end);
	CHECK(end > p + 1 && !*end, "bad value");
	f->samples++;
	return NULL;
}

static const char *check_families(const struct checker *c)
{
	for (size_t i = 0; i < c->nfam; i++) {
		const struct family *f = &c->fam[i];
		CHECK(f->help && f->has_type, "family without HELP or TYPE");
		CHECK(f->samples, "family without samples");
		CHECK(!strncmp(f->name, "cafeguard_", 10), "not cafeguard_");
		size_t fl = strlen(f->name);
		bool total = fl > 6 && !strcmp(f->name + fl - 6, "_total");
		/* Counters, and only counters, end in _total. */
		CHECK(total == !strcmp(f->type, "counter"),
		      "_total and counter disagree");
	}
	return NULL;
}

static const char *check_lines(struct checker *c, char *text)
{
	size_t len = strlen(text);
	CHECK(len && text[len - 1] == '\n', "no final newline");
	for (char *line = text, *nl; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		*nl = '\0';
		CHECK(*line, "empty line");
		TRY(line[0] == '#' ? check_comment(c, line)
				   : check_sample(c, line));
	}
	return check_families(c);
}

/* NULL if text is a valid exposition, else what is wrong. */
static const char *exposition_error(const char *text)
{
	struct checker *c = calloc(1, sizeof(*c));
	char *copy = strdup(text);
	const char *why = check_lines(c, copy);
	for (size_t i = 0; i < c->nseries; i++)
		free(c->series[i]);
	free(copy);
	free(c);
	return why;
}

static void check_exposition(const char *text)
{
	const char *why = exposition_error(text);
	if (why)
		fail_msg("%s", why);
}

/* ---- inputs ---- */

static const struct cg_metrics_count small_cat[] = {{"adult", 5}};
static const struct cg_metrics_count small_reason[] = {{"list", 5}};
static const struct cg_metrics_count small_lists[] = {{"adult", 1000}};

static struct cg_metrics_input small_input(void)
{
	struct cg_metrics_input in;
	memset(&in, 0, sizeof(in));
	in.version = "9.9.9";
	in.uptime_seconds = 42;
	in.fail_open = true;
	in.fail_open_seconds = 3;
	in.blocks_by_category = small_cat;
	in.nblocks_by_category = 1;
	in.blocks_by_reason = small_reason;
	in.nblocks_by_reason = 1;
	in.list_entries = small_lists;
	in.nlist_entries = 1;
	in.events_written = 7;
	in.events_dropped = 1;
	in.rules_generation = 2;
	in.reloads_ok = 1;
	return in;
}

static const char small_text[] =
    "# HELP cafeguard_build_info Always 1; the version is in the label.\n"
    "# TYPE cafeguard_build_info gauge\n"
    "cafeguard_build_info{version=\"9.9.9\"} 1\n"
    "# HELP cafeguard_uptime_seconds Seconds since the daemon started.\n"
    "# TYPE cafeguard_uptime_seconds gauge\n"
    "cafeguard_uptime_seconds 42\n"
    "# HELP cafeguard_fail_open 1 while packets pass without inspection "
    "(fail-open).\n"
    "# TYPE cafeguard_fail_open gauge\n"
    "cafeguard_fail_open 1\n"
    "# HELP cafeguard_fail_open_seconds_total Seconds spent fail-open "
    "since the daemon started.\n"
    "# TYPE cafeguard_fail_open_seconds_total counter\n"
    "cafeguard_fail_open_seconds_total 3\n"
    "# HELP cafeguard_rules_generation Generation of the rule set in "
    "force (1 + reloads).\n"
    "# TYPE cafeguard_rules_generation gauge\n"
    "cafeguard_rules_generation 2\n"
    "# HELP cafeguard_rules_reloads_total Reloads of the configuration "
    "and lists, by result.\n"
    "# TYPE cafeguard_rules_reloads_total counter\n"
    "cafeguard_rules_reloads_total{result=\"ok\"} 1\n"
    "cafeguard_rules_reloads_total{result=\"failed\"} 0\n"
    "# HELP cafeguard_list_entries Entries in the lists of a category.\n"
    "# TYPE cafeguard_list_entries gauge\n"
    "cafeguard_list_entries{category=\"adult\"} 1000\n"
    "# HELP cafeguard_blocks_by_category_total Blocks by the category "
    "whose list named the host.\n"
    "# TYPE cafeguard_blocks_by_category_total counter\n"
    "cafeguard_blocks_by_category_total{category=\"adult\"} 5\n"
    "# HELP cafeguard_blocks_by_reason_total Blocks by reason (list, "
    "app, app-category, budget, schedule, ...).\n"
    "# TYPE cafeguard_blocks_by_reason_total counter\n"
    "cafeguard_blocks_by_reason_total{reason=\"list\"} 5\n"
    "# HELP cafeguard_eventlog_written_total Events written to the "
    "operator's log.\n"
    "# TYPE cafeguard_eventlog_written_total counter\n"
    "cafeguard_eventlog_written_total 7\n"
    "# HELP cafeguard_eventlog_dropped_total Events lost because an "
    "event ring was full.\n"
    "# TYPE cafeguard_eventlog_dropped_total counter\n"
    "cafeguard_eventlog_dropped_total 1\n";

/* Three workers, two queues (one without kernel counters), portal,
 * syslog, and names that need escaping. */
struct full {
	struct cg_metrics_worker w[3];
	struct cg_metrics_queue q[2];
	struct cg_metrics_count cat[4], reason[3], lists[3];
	struct cg_metrics_input in;
};

static void fill_u64(void *p, size_t n, uint64_t seed)
{
	uint64_t *v = p;
	for (size_t i = 0; i < n / sizeof(*v); i++)
		v[i] = seed * 1000 + i;
}

static void full_input(struct full *f)
{
	memset(f, 0, sizeof(*f));
	for (size_t i = 0; i < 3; i++) {
		fill_u64(&f->w[i].st, sizeof(f->w[i].st), i + 1);
		f->w[i].flows = (uint32_t)(10 * i);
	}
	for (size_t i = 0; i < 2; i++) {
		fill_u64(&f->q[i].st, sizeof(f->q[i].st), i + 7);
		f->q[i].queue = (uint16_t)(100 + i);
		f->q[i].has_kernel = i == 0;
		f->q[i].queue_dropped = 11;
		f->q[i].user_dropped = 12;
	}
	f->cat[0] = (struct cg_metrics_count){"adult", 3};
	f->cat[1] = (struct cg_metrics_count){"we\"ird\\cat\nx", 2};
	f->cat[2] = (struct cg_metrics_count){NULL, 1};
	f->cat[3] = (struct cg_metrics_count){"adult", 4};
	f->reason[0] = (struct cg_metrics_count){"list", 7};
	f->reason[1] = (struct cg_metrics_count){"budget", 1};
	f->reason[2] = (struct cg_metrics_count){"schedule", 1};
	f->lists[0] = (struct cg_metrics_count){"adult", 123456};
	f->lists[1] = (struct cg_metrics_count){"gambling", 200};
	f->lists[2] = (struct cg_metrics_count){"we\"ird\\cat\nx", 1};
	struct cg_metrics_input *in = &f->in;
	in->uptime_seconds = 86400;
	in->workers = f->w;
	in->nworkers = 3;
	in->queues = f->q;
	in->nqueues = 2;
	in->fail_open_seconds = 0;
	in->blocks_by_category = f->cat;
	in->nblocks_by_category = 4;
	in->blocks_by_reason = f->reason;
	in->nblocks_by_reason = 3;
	in->list_entries = f->lists;
	in->nlist_entries = 3;
	in->events_written = UINT64_MAX;
	in->has_portal = true;
	in->portal = (struct cg_portal_stats){1, 2, 3, 4, 5};
	in->has_syslog = true;
	in->syslog = (struct cg_syslog_stats){10, 2, 1, 1, true};
	in->rules_generation = 5;
	in->reloads_ok = 3;
	in->reloads_failed = 1;
}

static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = strstr(text, line); p; p = strstr(p + 1, line))
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

/* ---- tests ---- */

static void exact_small(void **state)
{
	(void)state;
	struct cg_metrics_input in = small_input();
	char out[8192];
	size_t n = cg_metrics_render(&in, out, sizeof(out));
	assert_string_equal(out, small_text);
	assert_int_equal(n, strlen(small_text));
	check_exposition(out);
}

static void buffer_sizes(void **state)
{
	(void)state;
	struct cg_metrics_input in = small_input();
	size_t need = cg_metrics_render_size(&in);
	assert_int_equal(need, strlen(small_text));
	char *out = malloc(need + 1);
	/* The NUL needs room too; too small writes nothing past outsz. */
	assert_int_equal(cg_metrics_render(&in, out, need), 0);
	assert_int_equal(cg_metrics_render(&in, out, need + 1), need);
	assert_int_equal(cg_metrics_render(&in, NULL, 0), 0);
	free(out);

	size_t len = 0;
	char *a = cg_metrics_render_alloc(&in, &len);
	assert_non_null(a);
	assert_int_equal(len, need);
	assert_string_equal(a, small_text);
	free(a);
}

static void default_version(void **state)
{
	(void)state;
	struct cg_metrics_input in;
	memset(&in, 0, sizeof(in));
	char *a = cg_metrics_render_alloc(&in, NULL);
	assert_true(has_line(
	    a, "cafeguard_build_info{version=\"" CAFEGUARD_VERSION "\"} 1"));
	/* Nothing to show: no family without samples. */
	assert_null(strstr(a, "cafeguard_worker_"));
	assert_null(strstr(a, "cafeguard_nfqueue_"));
	assert_null(strstr(a, "cafeguard_portal_"));
	assert_null(strstr(a, "cafeguard_syslog_"));
	assert_null(strstr(a, "cafeguard_list_entries"));
	check_exposition(a);
	free(a);
}

static void label_escaping(void **state)
{
	(void)state;
	struct full *f = malloc(sizeof(*f));
	full_input(f);
	char *a = cg_metrics_render_alloc(&f->in, NULL);
	assert_true(has_line(a, "cafeguard_blocks_by_category_total"
				"{category=\"we\\\"ird\\\\cat\\nx\"} 2"));
	assert_true(has_line(a, "cafeguard_list_entries"
				"{category=\"we\\\"ird\\\\cat\\nx\"} 1"));
	assert_true(has_line(a, "cafeguard_blocks_by_category_total"
				"{category=\"\"} 1"));
	/* One name, one series: the two "adult" entries are summed. */
	assert_true(has_line(a, "cafeguard_blocks_by_category_total"
				"{category=\"adult\"} 7"));
	free(a);
	free(f);
}

static void full_render_valid(void **state)
{
	(void)state;
	struct full *f = malloc(sizeof(*f));
	full_input(f);
	size_t len = 0;
	char *a = cg_metrics_render_alloc(&f->in, &len);
	assert_non_null(a);
	assert_int_equal(len, strlen(a));
	check_exposition(a);

	/* Every worker counter is there, per worker, with its value. */
	assert_true(has_line(a, "cafeguard_worker_packets_total"
				"{worker=\"0\"} 1000"));
	assert_true(has_line(a, "cafeguard_worker_bytes_total"
				"{worker=\"2\"} 3001"));
	char want[128];
	snprintf(want, sizeof(want),
		 "cafeguard_worker_events_dropped_total{worker=\"1\"} %zu",
		 (size_t)2000 +
		     offsetof(struct cg_worker_stats, events_dropped) / 8);
	assert_true(has_line(a, want));
	snprintf(want, sizeof(want),
		 "cafeguard_worker_decode_total{worker=\"1\",status="
		 "\"truncated\"} %zu",
		 (size_t)2000 + offsetof(struct cg_worker_stats,
					 decode[CG_DECODE_TRUNCATED]) /
				    8);
	assert_true(has_line(a, want));
	assert_true(
	    has_line(a, "cafeguard_worker_flows_open{worker=\"2\"} 20"));
	assert_true(has_line(a, "cafeguard_nfqueue_packets_total"
				"{queue=\"101\"} 8000"));
	assert_true(has_line(a, "cafeguard_nfqueue_kernel_dropped_total"
				"{queue=\"100\",reason=\"queue_full\"} 11"));
	assert_null(strstr(a, "{queue=\"101\",reason="));
	assert_true(has_line(a, "cafeguard_portal_refused_total"
				"{reason=\"rate\"} 4"));
	assert_true(has_line(a, "cafeguard_syslog_connected 1"));
	assert_true(has_line(a, "cafeguard_eventlog_written_total "
				"18446744073709551615"));
	assert_true(has_line(a, "cafeguard_fail_open 0"));
	free(a);
	free(f);
}

/* The checker rejects what promtool would. */
static void checker_catches(void **state)
{
	(void)state;
	static const struct {
		const char *what, *text, *why;
	} bad[] = {
	    {"duplicate series",
	     "# HELP cafeguard_a_total a\n# TYPE cafeguard_a_total counter\n"
	     "cafeguard_a_total{x=\"1\"} 1\ncafeguard_a_total{x=\"1\"} 2\n",
	     "duplicate series"},
	    {"no TYPE", "# HELP cafeguard_a a\ncafeguard_a 1\n",
	     "sample before HELP and TYPE"},
	    {"HELP twice",
	     "# HELP cafeguard_a a\n# HELP cafeguard_a a\n"
	     "# TYPE cafeguard_a gauge\ncafeguard_a 1\n",
	     "HELP twice"},
	    {"split family",
	     "# HELP cafeguard_a a\n# TYPE cafeguard_a gauge\ncafeguard_a 1\n"
	     "# HELP cafeguard_b b\n# TYPE cafeguard_b gauge\ncafeguard_b 1\n"
	     "cafeguard_a{x=\"y\"} 1\n",
	     "family split by another"},
	    {"raw quote in label",
	     "# HELP cafeguard_a a\n# TYPE cafeguard_a gauge\n"
	     "cafeguard_a{x=\"a\"b\"} 1\n",
	     "labels not separated by ,"},
	    {"bad escape",
	     "# HELP cafeguard_a a\n# TYPE cafeguard_a gauge\n"
	     "cafeguard_a{x=\"a\\tb\"} 1\n",
	     "bad label escape"},
	    {"counter without _total",
	     "# HELP cafeguard_a a\n# TYPE cafeguard_a counter\n"
	     "cafeguard_a 1\n",
	     "_total and counter disagree"},
	    {"bad value",
	     "# HELP cafeguard_a a\n# TYPE cafeguard_a gauge\n"
	     "cafeguard_a 1x\n",
	     "bad value"},
	    {"empty line",
	     "# HELP cafeguard_a a\n# TYPE cafeguard_a gauge\n"
	     "cafeguard_a 1\n\n",
	     "empty line"},
	    {"no final newline",
	     "# HELP cafeguard_a a\n# TYPE cafeguard_a gauge\ncafeguard_a 1",
	     "no final newline"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *why = exposition_error(bad[i].text);
		if (!why || strcmp(why, bad[i].why))
			fail_msg("%s: got %s", bad[i].what,
				 why ? why : "accepted");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(exact_small),
	    cmocka_unit_test(buffer_sizes),
	    cmocka_unit_test(default_version),
	    cmocka_unit_test(label_escaping),
	    cmocka_unit_test(full_render_valid),
	    cmocka_unit_test(checker_catches),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
