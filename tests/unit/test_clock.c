/*
 * Local time for schedules, without the C library on the packet path:
 * weekday, minute and day from a cached offset, in the zones the cafés
 * are in (POSIX TZ strings, so no tzdata is needed), across midnight and
 * a daylight-saving change.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <time.h>

#include "cafeguard/clock.h"

static void zone(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

/* 2026-11-23 (a Monday) 12:00 UTC. */
#define MON_NOON_UTC INT64_C(1795435200)

static void sao_paulo_and_bangkok(void **unused)
{
	(void)unused;
	struct cg_localtime lt = {0};
	struct cg_when w;
	uint32_t day;

	zone("<-03>3");
	cg_localtime_refresh(&lt, MON_NOON_UTC);
	assert_int_equal(lt.tz_offset_s, -3 * 3600);
	cg_localtime_of(&lt, MON_NOON_UTC, &w, &day);
	assert_int_equal(w.wday, 1);
	assert_int_equal(w.minute, 9 * 60);
	/* 02:30 UTC Monday is still Sunday 23:30 in São Paulo. */
	cg_localtime_of(&lt, MON_NOON_UTC - 9 * 3600 - 1800, &w, &day);
	assert_int_equal(w.wday, 0);
	assert_int_equal(w.minute, 23 * 60 + 30);
	uint32_t sunday = day;
	cg_localtime_of(&lt, MON_NOON_UTC - 9 * 3600 + 1800, &w, &day);
	assert_int_equal(w.wday, 1);
	assert_int_equal(w.minute, 30);
	assert_int_equal(day, sunday + 1); /* budgets reset at local midnight */

	zone("ICT-7");
	lt = (struct cg_localtime){0};
	cg_localtime_refresh(&lt, MON_NOON_UTC);
	cg_localtime_of(&lt, MON_NOON_UTC, &w, &day);
	assert_int_equal(w.wday, 1);
	assert_int_equal(w.minute, 19 * 60);
	/* 18:00 UTC Monday is Tuesday 01:00 in Bangkok. */
	cg_localtime_of(&lt, MON_NOON_UTC + 6 * 3600, &w, &day);
	assert_int_equal(w.wday, 2);
	assert_int_equal(w.minute, 60);
}

static void refresh_follows_dst_once_a_second(void **unused)
{
	(void)unused;
	zone("CET-1CEST,M3.5.0,M10.5.0/3");
	/* 2026-03-29 00:59:59 UTC: one second before summer time. */
	int64_t before = INT64_C(1774745999);
	struct cg_localtime lt = {0};
	cg_localtime_refresh(&lt, before);
	assert_int_equal(lt.tz_offset_s, 3600);
	/* Within the same second the cached offset is kept... */
	cg_localtime_refresh(&lt, before);
	assert_int_equal(lt.tz_offset_s, 3600);
	/* ...and the next second reads the new one. */
	cg_localtime_refresh(&lt, before + 1);
	assert_int_equal(lt.tz_offset_s, 7200);
	struct cg_when w;
	cg_localtime_of(&lt, before + 1, &w, NULL);
	assert_int_equal(w.minute, 3 * 60);
	/* A clock set back re-reads too. */
	cg_localtime_refresh(&lt, before - 3600);
	assert_int_equal(lt.tz_offset_s, 3600);
}

static void parse_local_and_fake_clock(void **unused)
{
	(void)unused;
	zone("<-03>3");
	int64_t t;
	assert_int_equal(cg_clock_parse_local("2026-11-23 09:00", &t), 0);
	assert_int_equal(t, MON_NOON_UTC);
	assert_int_equal(cg_clock_parse_local("2026-13-01 09:00", &t), -1);
	assert_int_equal(cg_clock_parse_local("2026-11-23 24:00", &t), -1);
	assert_int_equal(cg_clock_parse_local("", &t), -1);

	struct cg_clock c = {.fake = true};
	atomic_init(&c.shift_s, 0);
	assert_int_equal(cg_clock_now(&c, 5000), 5);
	atomic_store(&c.shift_s, 100);
	assert_int_equal(cg_clock_now(&c, 5999), 105);
	assert_int_equal(cg_clock_now(NULL, 5999), 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sao_paulo_and_bangkok),
		cmocka_unit_test(refresh_follows_dst_once_a_second),
		cmocka_unit_test(parse_local_and_fake_clock),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
