/*
 * Run-time state: seat sessions, budget minutes (a minute counts once,
 * a day starts empty), carrying both over a reload by name, and saving
 * them across a restart.
 */
#include "rules_testutil.h"

#include "cafeguard/state.h"

static const char *const lists[] = {"games.list", "games.test\n", NULL};

static const char *const conf_a =
	"categories = ( { name = \"games\"; lists = [ \"games.list\" ]; } );\n"
	"profiles = (\n"
	"  { name = \"kids\";\n"
	"    budgets = ( { name = \"games\"; per_day = \"30m\"; categories = "
	"[ \"games\" ]; } ); },\n"
	"  { name = \"teens\";\n"
	"    budgets = ( { name = \"shared-games\"; per_day = \"2h\"; "
	"categories = [ \"games\" ]; shared = true; } ); },\n"
	"  { name = \"adults\"; }\n"
	");\n"
	"default_profile = \"kids\";\n"
	"seats = (\n"
	"  { name = \"seat-1\"; mac = \"52:54:00:00:00:01\"; profile = "
	"\"kids\"; },\n"
	"  { name = \"seat-2\"; ip = [ \"10.0.0.2\" ]; profile = \"teens\"; }\n"
	");\n";

/* The same café after an edit: seats in another order, a seat added,
 * the adults profile gone. */
static const char *const conf_b =
	"categories = ( { name = \"games\"; lists = [ \"games.list\" ]; } );\n"
	"profiles = (\n"
	"  { name = \"teens\";\n"
	"    budgets = ( { name = \"shared-games\"; per_day = \"2h\"; "
	"categories = [ \"games\" ]; shared = true; } ); },\n"
	"  { name = \"kids\";\n"
	"    budgets = ( { name = \"games\"; per_day = \"45m\"; categories = "
	"[ \"games\" ]; } ); }\n"
	");\n"
	"default_profile = \"kids\";\n"
	"seats = (\n"
	"  { name = \"seat-0\"; ip = [ \"10.0.0.9\" ]; profile = \"kids\"; },\n"
	"  { name = \"seat-2\"; ip = [ \"10.0.0.2\" ]; profile = \"teens\"; },\n"
	"  { name = \"seat-1\"; mac = \"52:54:00:00:00:01\"; profile = "
	"\"kids\"; }\n"
	");\n";

static const struct cg_budget *budget(const struct cg_rules *r,
				      const char *profile)
{
	int p = cg_rules_profile(r, profile);
	assert_true(p >= 0);
	assert_int_equal(r->profiles[p].nbudgets, 1);
	return &r->profiles[p].budgets[0];
}

static void sessions(void **unused)
{
	(void)unused;
	struct test_rules *t = tr_build(lists, conf_a);
	const struct cg_rules *r = t->r;
	struct cg_state *s = cg_state_new(r);
	assert_non_null(s);
	int seat1 = cg_rules_seat_by_name(r, "seat-1");
	int adults = cg_rules_profile(r, "adults");
	struct cg_who who;

	cg_state_who(s, r, seat1, 1000, &who);
	assert_int_equal(who.src, CG_WHO_SRC_SEAT);
	assert_int_equal(who.profile, cg_rules_profile(r, "kids"));

	cg_state_set_session(s, (size_t)seat1, (uint16_t)adults, 1100);
	cg_state_who(s, r, seat1, 1099, &who);
	assert_int_equal(who.src, CG_WHO_SRC_SESSION);
	assert_int_equal(who.profile, adults);
	uint16_t p;
	int64_t until;
	assert_true(cg_state_session(s, (size_t)seat1, 1099, &p, &until));
	assert_int_equal(until, 1100);
	/* A session ends by itself at its end time. */
	cg_state_who(s, r, seat1, 1100, &who);
	assert_int_equal(who.src, CG_WHO_SRC_SEAT);

	cg_state_set_session(s, (size_t)seat1, (uint16_t)adults, 5000);
	cg_state_set_session(s, (size_t)seat1, 0, 0);
	assert_false(cg_state_session(s, (size_t)seat1, 1000, &p, NULL));

	/* A client that is no seat gets the default profile. */
	cg_state_who(s, r, -1, 1000, &who);
	assert_int_equal(who.src, CG_WHO_SRC_DEFAULT);
	assert_int_equal(who.profile, r->default_profile);
	/* Out-of-range seats are ignored, not written. */
	cg_state_set_session(s, 99, 0, 5000);
	assert_false(cg_state_session(s, 99, 1000, &p, NULL));
	cg_state_free(s);
	tr_free(t);
}

static void minutes_count_once_and_days_reset(void **unused)
{
	(void)unused;
	struct test_rules *t = tr_build(lists, conf_a);
	const struct cg_rules *r = t->r;
	struct cg_state *s = cg_state_new(r);
	const struct cg_budget *kids = budget(r, "kids");
	uint32_t s1 = cg_budget_slot(r, kids, 0), s2 = cg_budget_slot(r, kids, 1),
		 other = cg_budget_slot(r, kids, -1);
	assert_true(s1 != s2 && s2 != other && s1 != other);

	/* Two connections (or workers) counting the same minute: one. */
	cg_state_charge(s, s1, 20000, 600);
	cg_state_charge(s, s1, 20000, 600);
	cg_state_charge(s, s1, 20000, 601);
	cg_state_charge(s, s1, 20000, 1439);
	assert_int_equal(cg_state_used(s, s1, 20000), 3);
	/* Per seat: another seat's minutes are its own. */
	assert_int_equal(cg_state_used(s, s2, 20000), 0);
	assert_int_equal(cg_state_used(s, other, 20000), 0);
	/* Another day reads empty; charging it starts afresh. */
	assert_int_equal(cg_state_used(s, s1, 20001), 0);
	cg_state_charge(s, s1, 20001, 5);
	assert_int_equal(cg_state_used(s, s1, 20001), 1);
	/* A clock set back does not reopen yesterday's counter. */
	cg_state_charge(s, s1, 20000, 700);
	assert_int_equal(cg_state_used(s, s1, 20000), 0);
	assert_int_equal(cg_state_used(s, s1, 20001), 1);
	/* Out-of-range minutes and slots are ignored. */
	cg_state_charge(s, s1, 20001, 1440);
	cg_state_charge(s, r->nslots, 20001, 1);
	assert_int_equal(cg_state_used(s, s1, 20001), 1);

	/* A shared budget: every seat counts into one slot. */
	const struct cg_budget *teens = budget(r, "teens");
	assert_int_equal(cg_budget_slot(r, teens, 0),
			 cg_budget_slot(r, teens, -1));
	cg_state_charge(s, cg_budget_slot(r, teens, 0), 20001, 10);
	cg_state_charge(s, cg_budget_slot(r, teens, 1), 20001, 11);
	int tp = cg_rules_profile(r, "teens");
	uint16_t used[1];
	cg_state_used_profile(s, r, &r->profiles[tp], -1, 20001, used);
	assert_int_equal(used[0], 2);
	cg_state_free(s);
	tr_free(t);
}

static void carry_over_reload(void **unused)
{
	(void)unused;
	struct test_rules *ta = tr_build(lists, conf_a);
	struct test_rules *tb = tr_build(lists, conf_b);
	const struct cg_rules *ra = ta->r, *rb = tb->r;
	struct cg_state *sa = cg_state_new(ra), *sb = cg_state_new(rb);

	int a1 = cg_rules_seat_by_name(ra, "seat-1");
	int a2 = cg_rules_seat_by_name(ra, "seat-2");
	cg_state_set_session(sa, (size_t)a1,
			     (uint16_t)cg_rules_profile(ra, "teens"), 9000);
	/* A session on a profile the new rules no longer have is dropped. */
	cg_state_set_session(sa, (size_t)a2,
			     (uint16_t)cg_rules_profile(ra, "adults"), 9000);
	cg_state_charge(sa, cg_budget_slot(ra, budget(ra, "kids"), a1), 7, 1);
	cg_state_charge(sa, cg_budget_slot(ra, budget(ra, "kids"), a1), 7, 2);
	cg_state_charge(sa, cg_budget_slot(ra, budget(ra, "kids"), -1), 7, 3);
	cg_state_charge(sa, cg_budget_slot(ra, budget(ra, "teens"), 0), 7, 4);

	cg_state_carry(sb, rb, sa, ra);
	int b1 = cg_rules_seat_by_name(rb, "seat-1");
	int b2 = cg_rules_seat_by_name(rb, "seat-2");
	uint16_t p;
	assert_true(cg_state_session(sb, (size_t)b1, 8000, &p, NULL));
	assert_int_equal(p, cg_rules_profile(rb, "teens"));
	assert_false(cg_state_session(sb, (size_t)b2, 8000, &p, NULL));
	assert_int_equal(
		cg_state_used(sb, cg_budget_slot(rb, budget(rb, "kids"), b1), 7),
		2);
	assert_int_equal(
		cg_state_used(sb, cg_budget_slot(rb, budget(rb, "kids"), 0), 7),
		0);
	assert_int_equal(
		cg_state_used(sb, cg_budget_slot(rb, budget(rb, "kids"), -1), 7),
		1);
	assert_int_equal(
		cg_state_used(sb, cg_budget_slot(rb, budget(rb, "teens"), -1),
			      7),
		1);

	/* Minutes counted into the old state after a first carry (a worker
	 * still on the old rules) are merged by a second, not lost. */
	cg_state_charge(sa, cg_budget_slot(ra, budget(ra, "kids"), a1), 7, 9);
	cg_state_carry(sb, rb, sa, ra);
	assert_int_equal(
		cg_state_used(sb, cg_budget_slot(rb, budget(rb, "kids"), b1), 7),
		3);
	cg_state_free(sa);
	cg_state_free(sb);
	tr_free(ta);
	tr_free(tb);
}

static void save_and_load(void **unused)
{
	(void)unused;
	struct test_rules *ta = tr_build(lists, conf_a);
	const struct cg_rules *r = ta->r;
	struct cg_state *s = cg_state_new(r);
	int seat1 = cg_rules_seat_by_name(r, "seat-1");
	int seat2 = cg_rules_seat_by_name(r, "seat-2");
	int adults = cg_rules_profile(r, "adults");
	cg_state_set_session(s, (size_t)seat1, (uint16_t)adults, 9000);
	cg_state_set_session(s, (size_t)seat2, (uint16_t)adults, 900);
	const struct cg_budget *kids = budget(r, "kids");
	for (uint16_t m = 100; m < 130; m++)
		cg_state_charge(s, cg_budget_slot(r, kids, seat1), 42, m);
	cg_state_charge(s, cg_budget_slot(r, kids, -1), 42, 1439);
	cg_state_charge(s, cg_budget_slot(r, budget(r, "teens"), -1), 42, 0);

	char path[128];
	snprintf(path, sizeof(path), "%s/state", ta->dir);
	struct cg_error err;
	assert_int_equal(cg_state_save(s, r, path, 1000, &err), 0);

	struct cg_state *l = cg_state_new(r);
	struct cg_diag d = {0};
	assert_int_equal(cg_state_load(l, r, path, 1000, &d), 0);
	assert_int_equal(d.n, 0);
	uint16_t p;
	int64_t until;
	assert_true(cg_state_session(l, (size_t)seat1, 1000, &p, &until));
	assert_int_equal(p, adults);
	assert_int_equal(until, 9000);
	/* An ended session is not saved. */
	assert_false(cg_state_session(l, (size_t)seat2, 800, &p, NULL));
	assert_int_equal(cg_state_used(l, cg_budget_slot(r, kids, seat1), 42),
			 30);
	assert_int_equal(cg_state_used(l, cg_budget_slot(r, kids, -1), 42), 1);
	assert_int_equal(
		cg_state_used(l, cg_budget_slot(r, budget(r, "teens"), 1), 42),
		1);
	cg_state_free(l);

	/* Loaded by rules that lost a profile: that item goes, with a note;
	 * a line nobody wrote is a warning; nothing else is lost. */
	FILE *f = fopen(path, "a");
	assert_non_null(f);
	fputs("garbage here\n", f);
	fclose(f);
	struct test_rules *tb = tr_build(lists, conf_b);
	struct cg_state *lb = cg_state_new(tb->r);
	assert_int_equal(cg_state_load(lb, tb->r, path, 1000, &d), 0);
	size_t notes = 0, warnings = 0;
	for (size_t i = 0; i < d.n; i++) {
		notes += d.v[i].sev == CG_SEV_NOTE;
		warnings += d.v[i].sev == CG_SEV_WARNING;
	}
	assert_int_equal(notes, 1);   /* seat-1's session on "adults" */
	assert_int_equal(warnings, 1); /* the garbage line */
	int b1 = cg_rules_seat_by_name(tb->r, "seat-1");
	assert_int_equal(
		cg_state_used(lb, cg_budget_slot(tb->r, budget(tb->r, "kids"),
						 b1),
			      42),
		30);
	cg_diag_clear(&d);
	cg_state_free(lb);
	tr_free(tb);
	unlink(path);

	/* No saved state yet is normal. */
	l = cg_state_new(r);
	assert_int_equal(cg_state_load(l, r, path, 1000, &d), 0);
	assert_int_equal(d.n, 0);
	cg_state_free(l);
	/* A directory that cannot be written is an error, not a crash. */
	assert_int_not_equal(
		cg_state_save(s, r, "/nonexistent-dir/state", 1000, &err), 0);
	assert_non_null(strstr(err.msg, "/nonexistent-dir/state"));
	cg_state_free(s);
	tr_free(ta);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sessions),
		cmocka_unit_test(minutes_count_once_and_days_reset),
		cmocka_unit_test(carry_over_reload),
		cmocka_unit_test(save_and_load),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
