/*
 * The acceptance table: keys, periods, persistence across a restart,
 * reuse of expired slots, a damaged file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cafeguard/captive.h"

#define T0 INT64_C(1795446000) /* 2026-11-23 15:00 UTC */

static void keys(void **state)
{
	(void)state;
	uint8_t mac[6] = {0x52, 0x54, 0, 0, 0, 1};
	uint8_t a[16] = {10, 0, 0, 1};
	uint64_t seat = cg_captive_key("seat-01", mac, 4, a);
	/* A seat is its name, whatever its address or MAC. */
	assert_int_equal(seat, cg_captive_key("seat-01", NULL, 4, a));
	assert_int_not_equal(seat, cg_captive_key("seat-02", mac, 4, a));
	uint64_t bymac = cg_captive_key(NULL, mac, 4, a);
	assert_int_equal(bymac, cg_captive_key(NULL, mac, 6, a));
	assert_int_not_equal(bymac, cg_captive_key(NULL, NULL, 4, a));
	assert_int_not_equal(cg_captive_key(NULL, NULL, 4, a),
			     cg_captive_key(NULL, NULL, 6, a));
}

static void accept_expire_revoke(void **state)
{
	(void)state;
	struct cg_error err;
	struct cg_captive *c = cg_captive_open(NULL, 4, &err);
	assert_non_null(c);
	uint64_t k = cg_captive_key("seat-01", NULL, 0, NULL);
	assert_false(cg_captive_is_open(c, k, T0));
	assert_int_equal(cg_captive_accept(c, k, "seat-01", T0 + 60, T0, &err),
			 0);
	assert_true(cg_captive_is_open(c, k, T0));
	assert_true(cg_captive_is_open(c, k, T0 + 59));
	assert_false(cg_captive_is_open(c, k, T0 + 60));
	assert_int_equal(cg_captive_until(c, k), T0 + 60);
	assert_int_equal(cg_captive_revoke(c, k, T0, &err), 0);
	assert_false(cg_captive_is_open(c, k, T0));
	cg_captive_free(c);
}

/* A full table takes a new client in the slot of an expired one, and
 * refuses one when every client is still open. */
static void full_table(void **state)
{
	(void)state;
	struct cg_error err;
	struct cg_captive *c = cg_captive_open(NULL, 4, &err); /* 16 slots */
	char name[16];
	for (int i = 0; i < 16; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		assert_int_equal(cg_captive_accept(c,
						   cg_captive_key(name, NULL,
								  0, NULL),
						   name, T0 + 10 + i, T0, &err),
				 0);
	}
	uint64_t late = cg_captive_key("late", NULL, 0, NULL);
	assert_int_equal(cg_captive_accept(c, late, "late", T0 + 100, T0,
					   &err),
			 -1);
	assert_non_null(strstr(err.msg, "clients are open"));
	/* s0 has expired at T0 + 10: its slot is free again. */
	assert_int_equal(cg_captive_accept(c, late, "late", T0 + 100, T0 + 10,
					   &err),
			 0);
	assert_true(cg_captive_is_open(c, late, T0 + 10));
	assert_false(cg_captive_is_open(
		c, cg_captive_key("s0", NULL, 0, NULL), T0 + 10));
	assert_true(cg_captive_is_open(
		c, cg_captive_key("s15", NULL, 0, NULL), T0 + 10));
	cg_captive_free(c);
}

static void survives_restart(void **state)
{
	(void)state;
	char dir[] = "/tmp/cg-captive-XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct cg_error err = {{0}};
	struct cg_captive *c = cg_captive_open(dir, 64, &err);
	uint64_t a = cg_captive_key("seat 05", NULL, 0, NULL);
	uint64_t b = cg_captive_key("seat-06", NULL, 0, NULL);
	assert_int_equal(cg_captive_accept(c, a, "seat 05", T0 + 3600, T0,
					   &err),
			 0);
	assert_int_equal(cg_captive_accept(c, b, "seat-06", T0 + 60, T0, &err),
			 0);
	cg_captive_free(c);
	c = cg_captive_open(dir, 64, &err);
	assert_string_equal(err.msg, "");
	assert_true(cg_captive_is_open(c, a, T0 + 100));
	assert_true(cg_captive_is_open(c, b, T0 + 30));
	assert_false(cg_captive_is_open(c, b, T0 + 100));
	cg_captive_free(c);

	/* A damaged line is reported with its place and skipped. */
	char path[64];
	snprintf(path, sizeof(path), "%s/captive", dir);
	FILE *f = fopen(path, "a");
	fputs("not a line\n", f);
	fclose(f);
	c = cg_captive_open(dir, 64, &err);
	assert_non_null(c);
	assert_non_null(strstr(err.msg, "/captive:"));
	assert_true(cg_captive_is_open(c, a, T0 + 100));
	cg_captive_free(c);
	unlink(path);
	rmdir(dir);
}

static void period_end(void **state)
{
	(void)state;
	struct cg_localtime utc = {.tz_offset_s = 0};
	assert_int_equal(cg_captive_period_end(&utc, T0, 90), T0 + 5400);
	/* "day": the next local midnight. */
	assert_int_equal(cg_captive_period_end(&utc, T0, 0),
			 T0 + 9 * 3600);
	struct cg_localtime brt = {.tz_offset_s = -3 * 3600};
	/* 12:00 in São Paulo: midnight there is 03:00 UTC. */
	assert_int_equal(cg_captive_period_end(&brt, T0, 0),
			 T0 + 12 * 3600);
	struct cg_localtime ict = {.tz_offset_s = 7 * 3600};
	/* 22:00 in Bangkok: two hours left. */
	assert_int_equal(cg_captive_period_end(&ict, T0, 0), T0 + 2 * 3600);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(keys),
		cmocka_unit_test(accept_expire_revoke),
		cmocka_unit_test(full_table),
		cmocka_unit_test(survives_restart),
		cmocka_unit_test(period_end),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
