/*
 * The dashboard's logins: sessions (cookies, idle and absolute expiry,
 * address binding, eviction, logout), CSRF tokens, the lockout schedule
 * on an injected clock, and the box-wide limit.  Each login with a
 * password runs scrypt for real (~0.1 s).
 */
#include "auth_testutil.h"

/* ---- sessions ---- */

/* The cases are printf formats filled with good parts. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static void cookie_parsing(void **state)
{
	(void)state;
	static const char sid[] =
	    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	static const char sid2[] =
	    "FFEEDDCCBBAA99887766554433221100FFEEDDCCBBAA99887766554433221100";
	char h[400];
	uint8_t ids[4][CG_AUTH_SID_BYTES];
	static const struct {
		const char *fmt;
		size_t n;
	} cases[] = {
	    {"cg_admin=%s", 1},
	    {"theme=dark; cg_admin=%s; lang=pt-BR", 1},
	    {"  \tcg_admin = %s \t ;", 1},
	    {"cg_admin=\"%s\"", 1},
	    {"cg_admin=%s;cg_admin=%s", 2}, /* both, in order */
	    {"cg_admin=junk; cg_admin=%s", 1},
	    {"", 0},
	    {";;;;", 0},
	    {"cg_admin", 0},
	    {"cg_admin=", 0},
	    {"CG_ADMIN=%s", 0}, /* names are case-sensitive */
	    {"xcg_admin=%s", 0},
	    {"cg_admin_old=%s", 0},
	    {"cg_admin=%s0", 0},
	    {"cg_admin=%.63s", 0},
	    {"cg_admin=\"%s", 0},
	    {"cg_admin=%.62szz", 0},
	    {"cg_admin=%s, other=1", 0}, /* RFC 2965 commas are not ours */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(h, sizeof(h), cases[i].fmt, sid, sid2);
		size_t n = cg_auth_cookie_ids(h, ids, 4);
		if (n != cases[i].n)
			fail_msg("\"%s\": %zu ids, not %zu", h, n, cases[i].n);
		if (n)
			assert_int_equal(ids[0][1], 0x11);
		if (n == 2)
			assert_int_equal(ids[1][0], 0xff);
	}
	/* No more than asked for. */
	snprintf(h, sizeof(h), "cg_admin=%s; cg_admin=%s; cg_admin=%s", sid,
		 sid, sid);
	assert_int_equal(cg_auth_cookie_ids(h, ids, 2), 2);
}
#pragma GCC diagnostic pop

static void cookie_builder(void **state)
{
	(void)state;
	static const char sid[] =
	    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	char buf[256];
	size_t n = cg_auth_cookie(sid, CG_AUTH_LIFETIME_S, buf, sizeof(buf));
	assert_string_equal(buf, "cg_admin=00112233445566778899aabbccddeeff"
				 "00112233445566778899aabbccddeeff; "
				 "Path=/admin; Max-Age=43200; HttpOnly; "
				 "SameSite=Strict");
	assert_int_equal(n, strlen(buf));
	n = cg_auth_cookie(NULL, 99, buf, sizeof(buf));
	assert_int_equal(n, strlen(buf));
	assert_string_equal(buf, "cg_admin=; Path=/admin; Max-Age=0; "
				 "HttpOnly; SameSite=Strict");
	assert_int_equal(cg_auth_cookie(sid, 60, buf, 50), 0);
	assert_int_equal(cg_auth_cookie("a;b", 60, buf, sizeof(buf)), 0);
	assert_int_equal(cg_auth_cookie("", 60, buf, sizeof(buf)), 0);
}

static void sessions(void **state)
{
	struct cg_auth *a = open_auth(state);
	struct cg_auth_session_info s, t;
	uint8_t me[16], other[16];
	int64_t retry = -1;
	char h[200];
	addr4(me, 10);
	addr4(other, 11);

	assert_int_equal(cg_auth_login(a, PW, 4, me, T0, &s, &retry),
			 CG_AUTH_OK);
	assert_int_equal(retry, 0);
	assert_int_equal(strlen(s.sid), 64);
	assert_int_equal(strlen(s.csrf), 64);
	assert_int_equal(s.created_s, T0);
	assert_int_equal(s.expires_s, T0 + CG_AUTH_IDLE_S);

	snprintf(h, sizeof(h), "theme=dark; cg_admin=%s; lang=th", s.sid);
	assert_true(cg_auth_session(a, h, 4, me, T0 + 10, &t));
	assert_string_equal(t.sid, s.sid);
	assert_string_equal(t.csrf, s.csrf);
	assert_int_equal(t.expires_s, T0 + 10 + CG_AUTH_IDLE_S);
	/* Bytes past an IPv4 address are not part of it. */
	uint8_t me_dirty[16];
	memcpy(me_dirty, me, 16);
	me_dirty[9] = 0x5a;
	assert_true(cg_auth_session(a, h, 4, me_dirty, T0 + 20, NULL));

	/* Idle: used at +20, alive until +20+1800 (exclusive). */
	assert_true(cg_auth_session(a, h, 4, me, T0 + 20 + 1799, NULL));
	assert_false(cg_auth_session(a, h, 4, me,
				     T0 + 20 + 1799 + CG_AUTH_IDLE_S, NULL));
	assert_false(cg_auth_session(a, h, 4, me, T0 + 30, NULL)); /* gone */

	/* Junk and absent cookies. */
	assert_false(cg_auth_session(a, NULL, 4, me, T0, NULL));
	assert_false(cg_auth_session(a, "", 4, me, T0, NULL));
	assert_false(cg_auth_session(a, "cg_admin=", 4, me, T0, NULL));
	/* All zeros is what a free slot holds. */
	snprintf(h, sizeof(h), "cg_admin=%064d", 0);
	assert_false(cg_auth_session(a, h, 4, me, T0, NULL));

	/* Absolute: used every 25 minutes, still over at 12 hours. */
	int64_t t1 = T0 + 5000;
	assert_int_equal(cg_auth_login(a, PW, 4, me, t1, &s, &retry),
			 CG_AUTH_OK);
	snprintf(h, sizeof(h), "cg_admin=%s", s.sid);
	for (int64_t now = t1; now < t1 + CG_AUTH_LIFETIME_S; now += 1500)
		assert_true(cg_auth_session(a, h, 4, me, now, &t));
	assert_int_equal(t.expires_s, t1 + CG_AUTH_LIFETIME_S);
	assert_true(cg_auth_session(a, h, 4, me, t1 + CG_AUTH_LIFETIME_S - 1,
				    NULL));
	assert_false(cg_auth_session(a, h, 4, me, t1 + CG_AUTH_LIFETIME_S,
				     NULL));

	/* Another address: refused, and the leaked session is over. */
	int64_t t2 = t1 + CG_AUTH_LIFETIME_S;
	assert_int_equal(cg_auth_login(a, PW, 4, me, t2, &s, &retry),
			 CG_AUTH_OK);
	snprintf(h, sizeof(h), "cg_admin=%s", s.sid);
	assert_false(cg_auth_session(a, h, 4, other, t2 + 1, NULL));
	assert_false(cg_auth_session(a, h, 4, me, t2 + 2, NULL));
	/* The same sixteen bytes as IPv6 are another client. */
	assert_int_equal(cg_auth_login(a, PW, 4, me, t2 + 3, &s, &retry),
			 CG_AUTH_OK);
	snprintf(h, sizeof(h), "cg_admin=%s", s.sid);
	assert_false(cg_auth_session(a, h, 6, me, t2 + 4, NULL));

	/* Logout. */
	assert_int_equal(cg_auth_login(a, PW, 4, me, t2 + 5, &s, &retry),
			 CG_AUTH_OK);
	snprintf(h, sizeof(h), "cg_admin=%s", s.sid);
	assert_true(cg_auth_session(a, h, 4, me, t2 + 6, NULL));
	cg_auth_logout(a, NULL);
	cg_auth_logout(a, "zz");
	assert_true(cg_auth_session(a, h, 4, me, t2 + 6, NULL));
	cg_auth_logout(a, s.sid);
	assert_false(cg_auth_session(a, h, 4, me, t2 + 7, NULL));
	cg_auth_free(a);
}

/* A full table makes room by dropping the least recently used. */
static void eviction(void **state)
{
	struct cg_auth *a = open_auth(state);
	struct cg_auth_session_info s;
	char h[CG_AUTH_SESSIONS + 1][100];
	uint8_t me[16];
	int64_t retry;
	addr4(me, 12);
	for (int i = 0; i <= CG_AUTH_SESSIONS; i++) {
		int64_t now = T0 + i;
		if (i == CG_AUTH_SESSIONS) /* the first is used again */
			assert_true(cg_auth_session(a, h[0], 4, me, now, NULL));
		assert_int_equal(cg_auth_login(a, PW, 4, me, now, &s, &retry),
				 CG_AUTH_OK);
		snprintf(h[i], sizeof(h[i]), "cg_admin=%s", s.sid);
	}
	int64_t now = T0 + CG_AUTH_SESSIONS + 1;
	assert_true(cg_auth_session(a, h[0], 4, me, now, NULL));
	assert_false(cg_auth_session(a, h[1], 4, me, now, NULL));
	for (int i = 2; i <= CG_AUTH_SESSIONS; i++)
		assert_true(cg_auth_session(a, h[i], 4, me, now, NULL));
	cg_auth_free(a);
}

static void csrf(void **state)
{
	struct cg_auth *a = open_auth(state);
	struct cg_auth_session_info s, s2;
	uint8_t me[16], other[16];
	int64_t retry;
	char tok[CG_AUTH_TOKEN_BUF];
	addr4(me, 13);
	addr4(other, 14);
	assert_int_equal(cg_auth_login(a, PW, 4, me, T0, &s, &retry),
			 CG_AUTH_OK);
	assert_int_equal(cg_auth_login(a, PW, 4, me, T0 + 1, &s2, &retry),
			 CG_AUTH_OK);
	assert_true(cg_auth_csrf_ok(&s, s.csrf));
	assert_string_not_equal(s.csrf, s2.csrf);
	assert_false(cg_auth_csrf_ok(&s, s2.csrf)); /* another session's */
	assert_false(cg_auth_csrf_ok(&s, s.sid));
	assert_false(cg_auth_csrf_ok(&s, NULL));
	assert_false(cg_auth_csrf_ok(&s, ""));
	assert_false(cg_auth_csrf_ok(NULL, s.csrf));
	strcpy(tok, s.csrf);
	tok[63] = tok[63] == '0' ? '1' : '0';
	assert_false(cg_auth_csrf_ok(&s, tok));
	tok[63] = '\0';
	assert_false(cg_auth_csrf_ok(&s, tok));

	/* The login form's token: this client's, this process's. */
	cg_auth_login_csrf(a, 4, me, tok);
	assert_int_equal(strlen(tok), 64);
	assert_true(cg_auth_login_csrf_ok(a, 4, me, tok));
	assert_false(cg_auth_login_csrf_ok(a, 4, other, tok));
	assert_false(cg_auth_login_csrf_ok(a, 6, me, tok));
	assert_false(cg_auth_login_csrf_ok(a, 4, me, NULL));
	assert_false(cg_auth_login_csrf_ok(a, 4, me, s.csrf));
	struct cg_auth *b = cg_auth_new(NULL, NULL);
	assert_false(cg_auth_login_csrf_ok(b, 4, me, tok));
	cg_auth_free(b);
	cg_auth_free(a);
}

/* ---- lockout and the box-wide limit ---- */

/* Four failures from me, one a second from *now; the fifth's retry. */
static int64_t fail5(struct cg_auth *a, const uint8_t me[16], int64_t *now)
{
	int64_t retry = -1;
	for (int i = 0; i < CG_AUTH_LOCK_FAILS; i++) {
		assert_int_equal(cg_auth_login(a, "not the password", 4, me,
					       (*now)++, NULL, &retry),
				 CG_AUTH_WRONG);
		if (i < CG_AUTH_LOCK_FAILS - 1)
			assert_int_equal(retry, 0);
	}
	return retry;
}

static void lockout_schedule(void **state)
{
	struct cg_auth *a = open_auth(state);
	struct cg_auth_session_info s;
	struct timespec t0;
	uint8_t me[16], other[16];
	int64_t retry, now = T0;
	addr4(me, 20);
	addr4(other, 21);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(cg_auth_login(a, "not it", 4, me, now, NULL, &retry),
			 CG_AUTH_WRONG);
	double wrong_ms = ms_since(&t0);
	now++;
	for (int i = 1; i < 4; i++)
		assert_int_equal(cg_auth_login(a, "not it", 4, me, now++, NULL,
					       &retry),
				 CG_AUTH_WRONG);
	assert_int_equal(cg_auth_login(a, "not it", 4, me, now, NULL, &retry),
			 CG_AUTH_WRONG);
	assert_int_equal(retry, 300); /* the fifth locks */
	int64_t until = now + 300;

	/* Locked: even the right password is not checked, and the answer
	 * comes without scrypt. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(cg_auth_login(a, PW, 4, me, now + 1, &s, &retry),
			 CG_AUTH_LOCKED);
	double locked_ms = ms_since(&t0);
	print_message("wrong password %.1f ms, locked client %.3f ms\n",
		      wrong_ms, locked_ms);
	assert_true(locked_ms < 1.0);
	assert_true(wrong_ms > 5.0);
	assert_int_equal(retry, 299);
	assert_int_equal(cg_auth_login(a, PW, 4, me, until - 1, &s, &retry),
			 CG_AUTH_LOCKED);
	assert_int_equal(retry, 1);
	/* Another client is not locked out with it. */
	assert_int_equal(cg_auth_login(a, PW, 4, other, now + 2, &s, &retry),
			 CG_AUTH_OK);

	/* Each further lock doubles, up to an hour. */
	static const int64_t next[] = {600, 1200, 2400, 3600, 3600};
	for (size_t i = 0; i < 5; i++) {
		now = until;
		assert_int_equal(fail5(a, me, &now), next[i]);
		until = now - 1 + next[i];
		assert_int_equal(cg_auth_login(a, PW, 4, me, until - 1, &s,
					       &retry),
				 CG_AUTH_LOCKED);
	}

	/* A success resets it all: the next lock is 5 minutes again. */
	now = until;
	assert_int_equal(cg_auth_login(a, PW, 4, me, now++, &s, &retry),
			 CG_AUTH_OK);
	assert_int_equal(fail5(a, me, &now), 300);
	cg_auth_free(a);
}

static void lockout_window_and_forgetting(void **state)
{
	struct cg_auth *a = open_auth(state);
	uint8_t me[16];
	int64_t retry, now = T0;
	addr4(me, 30);

	/* Four failures, then the fifth after the 15 minutes: no lock. */
	for (int i = 0; i < 4; i++)
		assert_int_equal(cg_auth_login(a, "nope", 4, me, now++, NULL,
					       &retry),
				 CG_AUTH_WRONG);
	now = T0 + CG_AUTH_LOCK_WINDOW_S;
	assert_int_equal(cg_auth_login(a, "nope", 4, me, now++, NULL, &retry),
			 CG_AUTH_WRONG);
	assert_int_equal(retry, 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(cg_auth_login(a, "nope", 4, me, now++, NULL,
					       &retry),
				 CG_AUTH_WRONG);
	assert_int_equal(cg_auth_login(a, "nope", 4, me, now, NULL, &retry),
			 CG_AUTH_WRONG);
	assert_int_equal(retry, 300);

	/* A day later the earlier lock is forgotten: 5 minutes, not 10. */
	now += 300 + CG_AUTH_LOCK_FORGET_S;
	assert_int_equal(fail5(a, me, &now), 300);
	cg_auth_free(a);
}

static void busy_limit(void **state)
{
	struct cg_auth *a = open_auth(state);
	struct cg_auth_session_info s;
	uint8_t who[16];
	int64_t retry;
	/* Ten checks in one second from ten clients... */
	for (uint8_t i = 0; i < CG_AUTH_CHECKS_PER_S; i++) {
		addr4(who, (uint8_t)(100 + i));
		assert_int_equal(cg_auth_login(a, "nope", 4, who, T0, NULL,
					       &retry),
				 CG_AUTH_WRONG);
	}
	/* ...and the eleventh waits, right password or not, uncounted. */
	addr4(who, 200);
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(cg_auth_login(a, PW, 4, who, T0, &s, &retry),
			 CG_AUTH_BUSY);
	assert_true(ms_since(&t0) < 1.0);
	assert_int_equal(retry, 1);
	for (int i = 0; i < 10; i++)
		assert_int_equal(cg_auth_login(a, "nope", 4, who, T0, NULL,
					       &retry),
				 CG_AUTH_BUSY);
	assert_int_equal(cg_auth_login(a, PW, 4, who, T0 + 1, &s, &retry),
			 CG_AUTH_OK);
	assert_string_equal(cg_auth_result_name(CG_AUTH_BUSY), "busy");
	cg_auth_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(cookie_parsing),
	    cmocka_unit_test(cookie_builder),
	    cmocka_unit_test(sessions),
	    cmocka_unit_test(eviction),
	    cmocka_unit_test(csrf),
	    cmocka_unit_test(lockout_schedule),
	    cmocka_unit_test(lockout_window_and_forgetting),
	    cmocka_unit_test(busy_limit),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
