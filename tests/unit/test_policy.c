/*
 * The policy as a table of cases, on a rule set built the real way (a
 * config file and list files in a temporary directory, through config
 * and rules).
 */
#include "rules_testutil.h"

#include "cafeguard/policy.h"

static const char *const rules_text =
	"categories = (\n"
	"  { name = \"adult\"; lists = [ \"adult.list\" ]; },\n"
	"  { name = \"gambling\"; lists = [ \"gambling.list\" ]; },\n"
	"  { name = \"games\"; lists = [ \"games.list\" ]; },\n"
	"  { name = \"school\"; lists = [ \"school.list\" ]; }\n"
	");\n"
	"profiles = (\n"
	"  { name = \"kids\";\n"
	"    block = { categories = [ \"adult\", \"gambling\" ]; apps = [ "
	"\"BitTorrent\" ]; app_categories = [ \"Game\" ]; hosts = [ "
	"\"inline.test\" ]; };\n"
	"    allow = { categories = [ \"school\" ]; hosts = [ \"ok.bets.test\" "
	"]; };\n"
	"    schedule = (\n"
	"      { days = \"mon-fri\"; from = \"08:00\"; to = \"12:00\"; block = { "
	"categories = [ \"games\" ]; }; },\n"
	"      { days = \"fri\"; from = \"22:00\"; to = \"06:00\"; block = { "
	"everything = true; }; },\n"
	"      { days = \"sat\"; from = \"10:00\"; to = \"12:00\"; lift = { "
	"categories = [ \"gambling\" ]; apps = [ \"BitTorrent\" ]; }; }\n"
	"    );\n"
	"    budgets = ( { name = \"games\"; per_day = \"30m\"; categories = [ "
	"\"games\" ]; } );\n"
	"  },\n"
	"  { name = \"adults\"; block = { apps = [ \"Tor\" ]; }; }\n"
	");\n";

static int setup(void **state)
{
	static const char *const lists[] = {
		"adult.list", "blocked.test\nwww.other.test\n",
		"gambling.list", "# gambling\nblocked.test\nbets.test\n",
		"games.list", "games.test\n",
		"school.list", "school.test\n",
		NULL};
	*state = tr_build(lists, rules_text);
	return 0;
}

static int teardown(void **state)
{
	tr_free(*state);
	return 0;
}

enum { MON = 1, THU = 4, FRI = 5, SAT = 6 };
#define AT(h, m) ((uint16_t)((h) * 60 + (m)))

struct tcase {
	const char *what;
	const char *profile;
	uint8_t wday;
	uint16_t minute;
	const char *host;
	const char *app;      /* an nDPI name, as master and app */
	const char *app_cat;  /* an nDPI category name */
	bool pending, unknown_app;
	uint16_t used;        /* minutes of budget 0 used */
	enum cg_outcome want;
	enum cg_reason reason;
	const char *category; /* LIST, ALLOW_LIST: the matching category */
	unsigned window_line; /* a window's line that decided, 0 if none */
	uint32_t charge;
};

static const struct tcase cases[] = {
	{"a listed name blocks, first category in config order wins", "kids",
	 MON, AT(15, 0), "blocked.test", NULL, NULL, false, false, 0, CG_BLOCK,
	 CG_REASON_LIST, "adult", 0, 0},
	{"subdomain of a listed name", "kids", MON, AT(15, 0), "www.bets.test",
	 NULL, NULL, false, false, 0, CG_BLOCK, CG_REASON_LIST, "gambling", 0,
	 0},
	{"a look-alike is not a subdomain", "kids", MON, AT(15, 0),
	 "notbets.test", NULL, NULL, false, false, 0, CG_ALLOW,
	 CG_REASON_NOT_LISTED, NULL, 0, 0},
	{"an allow list wins", "kids", MON, AT(15, 0), "school.test", NULL,
	 NULL, false, false, 0, CG_ALLOW, CG_REASON_ALLOW_LIST, "school", 0,
	 0},
	{"an inline allowed host wins over its blocked parent", "kids", MON,
	 AT(15, 0), "x.ok.bets.test", NULL, NULL, false, false, 0, CG_ALLOW,
	 CG_REASON_ALLOW_LIST, "kids/allow-hosts", 0, 0},
	{"an inline blocked host", "kids", MON, AT(15, 0), "a.inline.test",
	 NULL, NULL, false, false, 0, CG_BLOCK, CG_REASON_LIST,
	 "kids/block-hosts", 0, 0},
	{"school hours add a category", "kids", MON, AT(9, 0), "games.test",
	 NULL, NULL, false, false, 0, CG_BLOCK, CG_REASON_LIST, "games", 12, 0},
	{"a window opens at its start minute", "kids", MON, AT(8, 0),
	 "games.test", NULL, NULL, false, false, 0, CG_BLOCK, CG_REASON_LIST,
	 "games", 12, 0},
	{"a window is closed at its end minute", "kids", MON, AT(12, 0),
	 "games.test", NULL, NULL, false, false, 0, CG_ALLOW,
	 CG_REASON_NOT_LISTED, NULL, 0, 1},
	{"not on a day the window does not name", "kids", SAT, AT(9, 0),
	 "games.test", NULL, NULL, false, false, 0, CG_ALLOW,
	 CG_REASON_NOT_LISTED, NULL, 0, 1},
	{"a budget counts what it names", "kids", MON, AT(15, 0),
	 "play.games.test", NULL, NULL, false, false, 29, CG_ALLOW,
	 CG_REASON_NOT_LISTED, NULL, 0, 1},
	{"a used-up budget blocks", "kids", MON, AT(15, 0), "games.test", NULL,
	 NULL, false, false, 30, CG_BLOCK, CG_REASON_BUDGET, NULL, 0, 0},
	{"night: everything", "kids", FRI, AT(23, 0), "unknown.test", NULL,
	 NULL, false, false, 0, CG_BLOCK, CG_REASON_SCHEDULE, NULL, 13, 0},
	{"night crosses midnight into Saturday", "kids", SAT, AT(1, 0),
	 "unknown.test", NULL, NULL, false, false, 0, CG_BLOCK,
	 CG_REASON_SCHEDULE, NULL, 13, 0},
	{"night ends at 06:00", "kids", SAT, AT(6, 0), "unknown.test", NULL,
	 NULL, false, false, 0, CG_ALLOW, CG_REASON_NOT_LISTED, NULL, 0, 0},
	{"Thursday night is not Friday night", "kids", THU, AT(23, 0),
	 "unknown.test", NULL, NULL, false, false, 0, CG_ALLOW,
	 CG_REASON_NOT_LISTED, NULL, 0, 0},
	{"Friday morning is not Friday night", "kids", FRI, AT(1, 0),
	 "unknown.test", NULL, NULL, false, false, 0, CG_ALLOW,
	 CG_REASON_NOT_LISTED, NULL, 0, 0},
	{"an allow list beats even the night", "kids", FRI, AT(23, 0),
	 "school.test", NULL, NULL, false, false, 0, CG_ALLOW,
	 CG_REASON_ALLOW_LIST, "school", 0, 0},
	{"a lifted category does not block", "kids", SAT, AT(11, 0),
	 "bets.test", NULL, NULL, false, false, 0, CG_ALLOW,
	 CG_REASON_NOT_LISTED, NULL, 0, 0},
	{"a lift leaves other categories blocked", "kids", SAT, AT(11, 0),
	 "blocked.test", NULL, NULL, false, false, 0, CG_BLOCK, CG_REASON_LIST,
	 "adult", 0, 0},
	{"a blocked app", "kids", MON, AT(15, 0), NULL, "BitTorrent", NULL,
	 false, false, 0, CG_BLOCK, CG_REASON_APP, NULL, 0, 0},
	{"a lifted app", "kids", SAT, AT(11, 0), NULL, "BitTorrent", NULL,
	 false, false, 0, CG_ALLOW, CG_REASON_NO_NAME, NULL, 0, 0},
	{"a blocked app category", "kids", MON, AT(15, 0), NULL, NULL, "Game",
	 false, false, 0, CG_BLOCK, CG_REASON_APP_CATEGORY, NULL, 0, 0},
	{"another profile, other rules", "adults", MON, AT(15, 0),
	 "blocked.test", NULL, NULL, false, false, 0, CG_ALLOW,
	 CG_REASON_NOT_LISTED, NULL, 0, 0},
	{"adults block Tor", "adults", MON, AT(15, 0), NULL, "Tor", NULL,
	 false, false, 0, CG_BLOCK, CG_REASON_APP, NULL, 0, 0},
	{"app rules: a name alone is not enough yet", "kids", MON, AT(15, 0),
	 "fine.test", NULL, NULL, false, true, 0, CG_PENDING, CG_REASON_NONE,
	 NULL, 0, 0},
	{"a listed name blocks before the app is known", "kids", MON,
	 AT(15, 0), "blocked.test", NULL, NULL, false, true, 0, CG_BLOCK,
	 CG_REASON_LIST, "adult", 0, 0},
	{"a parser still reading the name: wait", "kids", MON, AT(15, 0), NULL,
	 NULL, NULL, true, false, 0, CG_PENDING, CG_REASON_NONE, NULL, 0, 0},
	{"the night waits for a name an allow list might hold", "kids", FRI,
	 AT(23, 0), NULL, NULL, NULL, true, false, 0, CG_PENDING,
	 CG_REASON_NONE, NULL, 0, 0},
};

static void table(void **state)
{
	struct test_rules *fx = *state;
	const struct cg_rules *r = fx->r;
	struct cg_digest_scratch *dg = cg_digest_scratch_new();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct tcase *c = &cases[i];
		print_message("case: %s\n", c->what);
		struct cg_who who = {.seat = -1,
				     .profile = (uint16_t)cg_rules_profile(
					     r, c->profile)};
		struct cg_when when = {.wday = c->wday, .minute = c->minute};
		struct cg_facts f = {
			.host = c->host,
			.host_len = c->host ? strlen(c->host) : 0,
			.host_pending = c->pending,
			.app_known = !c->unknown_app,
		};
		if (c->app) {
			int id = cg_classifier_app_id(fx->names, c->app);
			assert_true(id > 0);
			f.app_master = f.app_proto = (uint16_t)id;
		}
		if (c->app_cat) {
			int id = cg_classifier_category_id(fx->names,
							   c->app_cat);
			assert_true(id > 0);
			f.app_category = (uint16_t)id;
		}
		uint16_t used[32] = {c->used};
		struct cg_decision d;
		struct cg_trace t;
		cg_policy_decide(r, &who, &when, &f, used, dg, &d, &t);
		assert_int_equal(d.outcome, c->want);
		assert_int_equal(d.reason, c->reason);
		if (c->category)
			assert_string_equal(r->cats[d.match.cat].name,
					    c->category);
		if (c->window_line) {
			assert_non_null(d.window);
			assert_int_equal(d.window->line, c->window_line);
		}
		assert_int_equal(d.charge, c->charge);
		if (c->reason == CG_REASON_LIST ||
		    c->reason == CG_REASON_ALLOW_LIST) {
			char why[512];
			cg_decision_describe(r, &d, c->host, fx->names, why,
					     sizeof(why));
			assert_non_null(strstr(why, c->category));
			assert_non_null(strstr(why, ".list:") ||
					strstr(why, "rules.conf:"));
		}
	}
	cg_digest_scratch_free(dg);
}

/* explain's trace: an allow names what it overrode. */
static void trace_shows_overridden_blocks(void **state)
{
	struct test_rules *fx = *state;
	const struct cg_rules *r = fx->r;
	struct cg_who who = {.seat = -1,
			     .profile = (uint16_t)cg_rules_profile(r, "kids")};
	struct cg_when when = {.wday = SAT, .minute = AT(11, 0)};
	struct cg_facts f = {.host = "bets.test", .host_len = 9,
			     .app_known = true};
	struct cg_decision d;
	struct cg_trace t;
	cg_policy_decide(r, &who, &when, &f, NULL, NULL, &d, &t);
	bool window = false, lifted = false;
	for (size_t i = 0; i < t.n; i++) {
		window |= t.steps[i].kind == CG_T_WINDOW;
		lifted |= t.steps[i].kind == CG_T_LIFTED_MATCH;
	}
	assert_true(window);
	assert_true(lifted);
}

static void window_open(void **state)
{
	(void)state;
	struct cg_window w = {.days = 1u << FRI, .from = AT(22, 0),
			      .to = AT(6, 0)};
	struct cg_when at = {FRI, AT(21, 59)};
	assert_false(cg_window_open(&w, &at));
	at.minute = AT(22, 0);
	assert_true(cg_window_open(&w, &at));
	at = (struct cg_when){SAT, AT(5, 59)};
	assert_true(cg_window_open(&w, &at));
	at.minute = AT(6, 0);
	assert_false(cg_window_open(&w, &at));
	/* Sunday 00:30 follows Saturday, not Friday. */
	at = (struct cg_when){0, AT(0, 30)};
	assert_false(cg_window_open(&w, &at));
	struct cg_window all = {.days = 0x7f, .from = 0, .to = 1440};
	at = (struct cg_when){3, AT(23, 59)};
	assert_true(cg_window_open(&all, &at));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(table, setup, teardown),
		cmocka_unit_test_setup_teardown(trace_shows_overridden_blocks,
						setup, teardown),
		cmocka_unit_test(window_open),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
