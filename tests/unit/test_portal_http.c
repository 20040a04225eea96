/*
 * The portal's request helpers as tables: Host matching, forms and
 * queries, next URLs, Origin and Referer, tokens, local times, the rate
 * table.  Pure functions of the private header; the served portal is
 * test_portal.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../daemon/portal_internal.h"

/* ---- the helpers ---- */

static const struct cg_pt_self self = {
    .has4 = true,
    .has6 = true,
    .addr4 = {192, 168, 10, 1},
    .addr6 = {0xfd, 0, [15] = 1},
    .port4 = 80,
    .port6 = 80,
};

static void host_table(void **unused)
{
	(void)unused;
	static const struct {
		const char *host;
		bool self;
	} cases[] = {
	    {"192.168.10.1", true},
	    {"192.168.10.1:80", true},
	    {"[fd00::1]", true},
	    {"[FD00:0::1]:80", true},
	    {"[fd00::1]:8080", false},
	    {"192.168.10.1:8080", false},
	    {"192.168.10.1:", false},
	    {"192.168.10.1:0080x", false},
	    {"192.168.10.2", false},
	    {"192.168.10.1.", false},
	    {"fd00::1", false},
	    {"[fd00::1", false},
	    {"[fd00::1]x", false},
	    {"[]", false},
	    {"blocked.example", false},
	    {"", false},
	    {":80", false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cg_pt_host_is_self(&self, cases[i].host,
				       strlen(cases[i].host)) != cases[i].self)
			fail_msg("host \"%s\": want %d", cases[i].host,
				 cases[i].self);
	}
	assert_false(cg_pt_host_is_self(&self, "192.168.10.1\0x", 14));
	char name[CG_NAME_BUF];
	assert_true(cg_pt_host_name("Blocked.Example:8080", 20, name));
	assert_string_equal(name, "blocked.example");
	assert_false(cg_pt_host_name("[fd00::1]", 9, name));
	assert_false(cg_pt_host_name("10.0.0.1", 8, name));
	assert_false(cg_pt_host_name("a<b>.example", 12, name));
	assert_false(cg_pt_host_name("a.example:x", 11, name));
}

static void form_table(void **unused)
{
	(void)unused;
	static const struct {
		const char *q, *name, *want; /* want NULL: false */
	} cases[] = {
	    {"a=1&b=2", "b", "2"},
	    {"a=1&b=2", "a", "1"},
	    {"ab=1&b=x+y%21", "b", "x y!"},
	    {"b&b=2", "b", ""},
	    {"bb=2", "b", NULL},
	    {"b=%4", "b", NULL},
	    {"b=%zz", "b", NULL},
	    {"b=%00x", "b", NULL},
	    {"b=%", "b", NULL},
	    {"", "b", NULL},
	    {"&&b=3&", "b", "3"},
	    {"next=http%3A%2F%2Fa.example%2F%3Fq%3D1", "next",
	     "http://a.example/?q=1"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[64];
		bool ok = cg_pt_form_get(cases[i].q, strlen(cases[i].q),
					 cases[i].name, out, sizeof(out));
		if (ok != (cases[i].want != NULL) ||
		    (ok && strcmp(out, cases[i].want)))
			fail_msg("form \"%s\" %s: got %s", cases[i].q,
				 cases[i].name, ok ? out : "(none)");
	}
	char small[4];
	assert_false(cg_pt_form_get("b=1234", 6, "b", small, sizeof(small)));
	assert_true(cg_pt_form_get("b=123", 5, "b", small, sizeof(small)));
	/* The length bounds the read, not a NUL. */
	assert_true(cg_pt_form_get("b=12&c=3", 4, "b", small, sizeof(small)));
	assert_string_equal(small, "12");
	assert_false(cg_pt_form_get("b=12&c=3", 4, "c", small, sizeof(small)));
}

static void next_table(void **unused)
{
	(void)unused;
	static const struct {
		const char *url;
		bool ok;
	} cases[] = {
	    {"http://a.example/", true},
	    {"https://a.example/x?y=1#z", true},
	    {"HTTP://a.example", true},
	    {"javascript:alert(1)", false},
	    {"//evil.example/", false},
	    {"/local", false},
	    {"http:///x", false},
	    {"http://", false},
	    {"http://a.example/\r\nSet-Cookie: x", false},
	    {"http://a.example/a b", false},
	    {"http://a.example/\"><script>", false},
	    {"http://a.example/\x7f", false},
	    {"http://a.example/\xc3\xa9", false},
	    {"ftp://a.example/", false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cg_pt_next_ok(cases[i].url) != cases[i].ok)
			fail_msg("next %zu: want %d", i, cases[i].ok);
	}
	char big[CG_PT_NEXT_MAX + 2];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "http://", 7);
	assert_false(cg_pt_next_ok(big));
	big[CG_PT_NEXT_MAX] = '\0';
	assert_true(cg_pt_next_ok(big));
}

static void origin_table(void **unused)
{
	(void)unused;
	assert_true(cg_pt_origin_ok(&self, NULL));
	assert_true(cg_pt_origin_ok(&self, "null"));
	assert_true(cg_pt_origin_ok(&self, "http://192.168.10.1"));
	assert_true(cg_pt_origin_ok(&self, "http://[fd00::1]:80"));
	assert_false(cg_pt_origin_ok(&self, "http://evil.example"));
	assert_false(cg_pt_origin_ok(&self, "https://192.168.10.1"));
	assert_false(cg_pt_origin_ok(&self, "http://192.168.10.1/"));
	assert_true(cg_pt_referer_ok(&self, NULL));
	assert_true(cg_pt_referer_ok(&self, "http://192.168.10.1/splash?x"));
	assert_true(cg_pt_referer_ok(&self, "http://192.168.10.1"));
	assert_false(cg_pt_referer_ok(&self, "null"));
	assert_false(cg_pt_referer_ok(&self, "http://192.168.10.1.evil/"));
	assert_false(cg_pt_referer_ok(&self, "http://evil/192.168.10.1"));
}

static void token_and_words(void **unused)
{
	(void)unused;
	uint8_t secret[CG_PT_SECRET_LEN] = {1, 2, 3};
	char t[CG_PT_TOKEN_LEN + 1], u[CG_PT_TOKEN_LEN + 1];
	cg_pt_token(secret, 42, 1000, t);
	assert_int_equal(strlen(t), CG_PT_TOKEN_LEN);
	assert_true(cg_pt_token_ok(secret, 42, 1000, t));
	assert_true(cg_pt_token_ok(secret, 42, 1001, t)); /* the hour after */
	assert_false(cg_pt_token_ok(secret, 42, 1002, t));
	assert_false(cg_pt_token_ok(secret, 42, 999, t));
	assert_false(cg_pt_token_ok(secret, 43, 1000, t)); /* another client */
	cg_pt_token(secret, 43, 1000, u);
	assert_string_not_equal(t, u);
	secret[0] ^= 1;
	assert_false(cg_pt_token_ok(secret, 42, 1000, t));
	assert_false(cg_pt_token_ok(secret, 42, 1000, ""));
	assert_false(cg_pt_token_ok(secret, 42, 1000, NULL));

	assert_string_equal(cg_pt_reason("budget"), "budget");
	assert_string_equal(cg_pt_reason("schedule"), "schedule");
	assert_string_equal(cg_pt_reason("<b>"), "list");
	assert_string_equal(cg_pt_reason(NULL), "list");

	char out[64];
	size_t o = 0;
	assert_true(cg_pt_pct_append(out, sizeof(out), &o, "a b/~?&=\n"));
	assert_string_equal(out, "a%20b%2F~%3F%26%3D%0A");
	char tiny[6] = "";
	o = 0;
	assert_false(cg_pt_pct_append(tiny, sizeof(tiny), &o, "a/b/"));
	assert_int_equal(o, 0);
	assert_string_equal(tiny, "");
}

static void local_times(void **unused)
{
	(void)unused;
	struct cg_localtime lt = {.tz_offset_s = 3600, .refreshed_s = 1};
	char out[CG_PT_TIME_BUF];
	/* 2026-11-23 14:05 UTC = 15:05 local */
	int64_t t = 1795442700;
	cg_pt_local_time(&lt, t, t + 60, false, out);
	assert_string_equal(out, "15:05");
	cg_pt_local_time(&lt, t, t, true, out);
	assert_string_equal(out, "2026-11-23 15:05");
	cg_pt_local_time(&lt, t, t + 86400, false, out);
	assert_string_equal(out, "2026-11-23 15:05");
	cg_pt_local_time(&lt, 951825600, 951825600, true, out); /* leap day */
	assert_string_equal(out, "2000-02-29 13:00");
}

static void rate_table(void **unused)
{
	(void)unused;
	struct cg_pt_rate *r = malloc(sizeof(*r));
	assert_non_null(r);
	cg_pt_rate_init(r, 60);
	uint8_t a[16] = {10, 0, 0, 1}, b[16] = {10, 0, 0, 2};
	for (int i = 0; i < 60; i++)
		assert_int_equal(cg_pt_rate_take(r, 4, a, 1000), 0);
	assert_int_equal(cg_pt_rate_take(r, 4, a, 1000), 1);
	assert_int_equal(cg_pt_rate_take(r, 4, b, 1000), 0);
	assert_int_equal(cg_pt_rate_take(r, 4, a, 2000), 0);
	assert_int_equal(cg_pt_rate_take(r, 4, a, 2000), 1);
	/* Many clients: the table stays the size it is. */
	for (uint32_t i = 0; i < 10000; i++) {
		uint8_t c[16] = {0};
		memcpy(c, &i, sizeof(i));
		assert_int_equal(cg_pt_rate_take(r, 6, c, 3000), 0);
	}
	cg_pt_rate_destroy(r);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(host_table),      cmocka_unit_test(form_table),
	    cmocka_unit_test(next_table),      cmocka_unit_test(origin_table),
	    cmocka_unit_test(token_and_words), cmocka_unit_test(local_times),
	    cmocka_unit_test(rate_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
