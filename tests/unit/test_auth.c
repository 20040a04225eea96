/*
 * The dashboard's password: scrypt lines (a vector from another
 * implementation, every parse error, weak and costly parameters), the
 * constant-time comparison, the password policy, the password file's
 * checks, and opening and reloading.  Sessions, CSRF and lockout are
 * test_auth_sessions.c.
 */
#include "auth_testutil.h"

/*
 * Every CRYPTO_memcmp the module makes lands here (the executable's
 * definition wins over libcrypto's), so a test can see that a secret
 * was compared in constant time and not with memcmp.
 */
static unsigned ct_calls;

int CRYPTO_memcmp(const void *in_a, const void *in_b, size_t len)
{
	const unsigned char *a = in_a, *b = in_b;
	unsigned char d = 0;
	for (size_t i = 0; i < len; i++)
		d |= a[i] ^ b[i];
	ct_calls++;
	return d;
}

/* ---- hash lines ---- */

static void hash_roundtrip(void **state)
{
	struct fixture *f = *state;
	struct cg_error err;
	struct cg_auth_hash h;
	char again[CG_AUTH_LINE_MAX], fmt[CG_AUTH_LINE_MAX];

	assert_int_equal(strncmp(f->line, "scrypt$15$8$1$", 14), 0);
	assert_int_equal(strlen(f->line), 14 + 24 + 1 + 44);
	assert_int_equal(cg_auth_verify_line(f->line, PW, &err), 1);
	assert_int_equal(cg_auth_verify_line(f->line, PW "!", &err), 0);
	assert_int_equal(cg_auth_parse_line(f->line, &h, &err), 0);
	assert_int_equal(h.saltlen, CG_AUTH_SALT_BYTES);
	assert_int_equal(h.keylen, CG_AUTH_KEY_BYTES);
	assert_int_equal(cg_auth_format_line(&h, fmt, sizeof(fmt)),
			 strlen(f->line));
	assert_string_equal(fmt, f->line);
	assert_int_equal(cg_auth_format_line(&h, fmt, 20), 0);
	/* A fresh salt each time. */
	assert_int_equal(cg_auth_hash_password(PW, again, sizeof(again), &err),
			 0);
	assert_string_not_equal(again, f->line);
	/* The policy is enforced before hashing. */
	assert_int_equal(cg_auth_hash_password("short", again, sizeof(again),
					       &err),
			 -1);
	assert_non_null(strstr(err.msg, "at least 10"));
}

/* Made with Python's hashlib.scrypt, at N=2^14 (also accepted). */
static void independent_vector(void **state)
{
	(void)state;
	struct cg_error err;
	static const char line[] =
	    "scrypt$14$8$1$U29kaXVtQ2hsb3JpZGUhIQ==$"
	    "UmYyNDO/YRuFmsgA6JK5baM1qTJw1bFvX2are1D2OBc=";
	assert_int_equal(cg_auth_verify_line(line, "pleaseletmein", &err), 1);
	assert_int_equal(cg_auth_verify_line(line, "pleaseletmeIn", &err), 0);
}

/* The cases are printf formats filled with good parts. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static void malformed_lines(void **state)
{
	(void)state;
	static const char salt[] = "U29kaXVtQ2hsb3JpZGUhIQ==";
	static const char key[] = "UmYyNDO/YRuFmsgA6JK5baM1qTJw1bFvX2are1D2OBc=";
	char buf[512];
	static const struct {
		const char *what, *fmt, *msg;
	} cases[] = {
	    {"empty", "", "not an scrypt hash"},
	    {"other scheme", "$2b$10$abcdefghijklmnopqrstuv", "not an scrypt"},
	    {"bcrypt-ish prefix", "Scrypt$15$8$1$%s$%s", "not an scrypt"},
	    {"N not a number", "scrypt$x$8$1$%s$%s", "N exponent \"x\""},
	    {"N empty", "scrypt$$8$1$%s$%s", "N exponent"},
	    {"N leading zero", "scrypt$015$8$1$%s$%s", "N exponent \"015\""},
	    {"N signed", "scrypt$+15$8$1$%s$%s", "N exponent"},
	    {"N huge", "scrypt$99999999999$8$1$%s$%s", "N exponent"},
	    {"r missing", "scrypt$15$", "r \"\" is not"},
	    {"p missing $", "scrypt$15$8$1", "p \"1\" is not"},
	    {"no hash", "scrypt$15$8$1$%s", "hash is missing"},
	    {"salt not b64", "scrypt$15$8$1$U29k*XVtQ2hsb3JpZGUhIQ==$%s",
	     "salt \"U29k*"},
	    {"salt unpadded", "scrypt$15$8$1$U29kaXVtQ2hsb3JpZGUhIQ$%s",
	     "not base64"},
	    {"salt bits after the end",
	     "scrypt$15$8$1$U29kaXVtQ2hsb3JpZGUhIR==$%s", "not base64"},
	    {"salt short", "scrypt$15$8$1$c2hvcnQ=$%s", "salt is 5 bytes"},
	    {"salt empty", "scrypt$15$8$1$$%s", "not base64"},
	    {"salt long",
	     "scrypt$15$8$1$"
	     "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB"
	     "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB$%s",
	     "longer than 64"},
	    {"hash short", "scrypt$15$8$1$%s$c2hvcnQ=", "hash is 5 bytes"},
	    {"hash with space", "scrypt$15$8$1$%s$ %s", "not base64"},
	    {"hash then newline", "scrypt$15$8$1$%s$%s\n", "not base64"},
	    {"text after", "scrypt$15$8$1$%s$%s$x", "text after the hash"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cg_auth_hash h;
		struct cg_error err = {{0}};
		snprintf(buf, sizeof(buf), cases[i].fmt, salt, key);
		if (cg_auth_parse_line(buf, &h, &err) != -1 ||
		    !strstr(err.msg, cases[i].msg))
			fail_msg("%s: \"%s\" gave \"%s\"", cases[i].what, buf,
				 err.msg);
		assert_int_equal(cg_auth_verify_line(buf, PW, &err), -1);
	}
}
#pragma GCC diagnostic pop

static void weak_or_costly_params(void **state)
{
	(void)state;
	static const char tail[] = "U29kaXVtQ2hsb3JpZGUhIQ==$"
				   "UmYyNDO/YRuFmsgA6JK5baM1qTJw1bFvX2are1D2OBc=";
	static const struct {
		const char *params, *msg; /* msg NULL: accepted */
	} cases[] = {
	    {"15$8$1", NULL},        {"14$8$1", NULL},
	    {"20$8$1", "too costly"}, /* 1 GiB */
	    {"18$8$1", NULL},         /* 256 MiB, 8 x default */
	    {"18$8$4", "too costly"}, /* 32 x the default's work */
	    {"16$16$2", NULL},        {"13$8$1", "too weak"},
	    {"10$8$1", "too weak"},   {"15$1$1", "too weak"},
	    {"15$8$0", "too weak"},   {"21$8$1", "out of range"},
	    {"15$64$1", "out of range"}, {"15$8$5", "out of range"},
	    {"999$999$999", "out of range"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char line[256];
		struct cg_auth_hash h;
		struct cg_error err = {{0}};
		snprintf(line, sizeof(line), "scrypt$%s$%s", cases[i].params,
			 tail);
		int rc = cg_auth_parse_line(line, &h, &err);
		if (cases[i].msg ? rc != -1 || !strstr(err.msg, cases[i].msg)
				 : rc != 0)
			fail_msg("%s: rc %d, \"%s\"", cases[i].params, rc,
				 err.msg);
	}
}

static void constant_time_compare(void **state)
{
	struct fixture *f = *state;
	struct cg_error err;
	unsigned before = ct_calls;
	assert_int_equal(cg_auth_verify_line(f->line, "wrong password", &err),
			 0);
	assert_true(ct_calls > before);

	struct cg_auth_session_info s = {.csrf = "00"};
	memset(s.csrf, 'a', 64);
	before = ct_calls;
	assert_true(cg_auth_csrf_ok(&s, s.csrf));
	assert_true(ct_calls > before);
}

static void password_policy(void **state)
{
	(void)state;
	char big[CG_AUTH_PW_MAX_BYTES + 2];
	struct cg_error err;
	static const struct {
		const char *pw, *msg; /* msg NULL: accepted */
	} cases[] = {
	    {"0123456789", NULL},
	    {"012345678", "has 9 characters"},
	    {"", "has 0 characters"},
	    /* Ten characters in twenty bytes. */
	    {"\xc3\xa7\xc3\xa7\xc3\xa7\xc3\xa7\xc3\xa7\xc3\xa7\xc3\xa7\xc3\xa7"
	     "\xc3\xa7\xc3\xa7",
	     NULL},
	    /* Nine characters in eighteen bytes. */
	    {"\xc3\xa7\xc3\xa7\xc3\xa7\xc3\xa7\xc3\xa7\xc3\xa7\xc3\xa7\xc3\xa7"
	     "\xc3\xa7",
	     "has 9 characters"},
	    {"\xe0\xb8\xa3\xe0\xb8\xab\xe0\xb8\xb1\xe0\xb8\xaa\xe0\xb8\x9c"
	     "\xe0\xb9\x88\xe0\xb8\xb2\xe0\xb8\x99\xe0\xb8\x94\xe0\xb8\xb5",
	     NULL}, /* Thai, ten code points */
	    {"latin1 caf\xe9 pw", "not UTF-8"},
	    {"cut short \xe0\xb8", "not UTF-8"},
	    {"tab\tinside pw", "control character"},
	    {"del\x7finside pw", "control character"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = cg_auth_password_policy(cases[i].pw, &err);
		if (cases[i].msg ? rc != -1 || !strstr(err.msg, cases[i].msg)
				 : rc != 0)
			fail_msg("case %zu: rc %d, \"%s\"", i, rc,
				 rc ? err.msg : "");
	}
	memset(big, 'x', sizeof(big));
	big[CG_AUTH_PW_MAX_BYTES] = '\0';
	assert_int_equal(cg_auth_password_policy(big, &err), 0);
	big[CG_AUTH_PW_MAX_BYTES] = 'x';
	big[CG_AUTH_PW_MAX_BYTES + 1] = '\0';
	assert_int_equal(cg_auth_password_policy(big, &err), -1);
	assert_non_null(strstr(err.msg, "longer than 1024 bytes"));
}

/* ---- the password file ---- */

static void put(const char *path, const char *text, mode_t mode)
{
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	assert_int_equal(chmod(path, mode), 0);
}

static void password_file(void **state)
{
	struct fixture *f = *state;
	struct cg_error err;
	struct cg_auth_hash h;
	struct stat st;
	char p[128], text[300];

	assert_int_equal(stat(f->file, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(cg_auth_read_file(f->file, &h, &err), CG_AUTH_FILE_OK);

	snprintf(p, sizeof(p), "%s/t.pw", f->dir);
	snprintf(text, sizeof(text), "%s\r\n", f->line);
	put(p, text, 0644); /* others may read: the daemon's choice */
	assert_int_equal(cg_auth_read_file(p, &h, &err), CG_AUTH_FILE_OK);

	static const mode_t unsafe[] = {0620, 0602, 0666};
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(chmod(p, unsafe[i]), 0);
		assert_int_equal(cg_auth_read_file(p, &h, &err), -1);
		assert_non_null(strstr(err.msg, p));
		assert_non_null(strstr(err.msg, "group or others may write"));
		assert_non_null(strstr(err.msg, "chmod 600"));
	}
	if (geteuid() == 0) {
		assert_int_equal(chmod(p, 0600), 0);
		assert_int_equal(chown(p, 65534, 65534), 0);
		assert_int_equal(cg_auth_read_file(p, &h, &err), -1);
		assert_non_null(strstr(err.msg, "owned by uid 65534"));
		assert_int_equal(chown(p, 0, 0), 0);
	}

	static const struct {
		const char *text, *msg;
	} bad[] = {
	    {"", "empty; set a password with cafeguardctl passwd"},
	    {"\n", "empty"},
	    {"scrypt$15$8$1$AAAA$AAAA\nsecond line\n", "more than one line"},
	    {"hunter2\n", "not an scrypt hash"},
	    {"scrypt$12$8$1$U29kaXVtQ2hsb3JpZGUhIQ==$"
	     "UmYyNDO/YRuFmsgA6JK5baM1qTJw1bFvX2are1D2OBc=\n",
	     "too weak"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put(p, bad[i].text, 0600);
		assert_int_equal(cg_auth_read_file(p, &h, &err), -1);
		if (!strstr(err.msg, bad[i].msg) || strncmp(err.msg, p,
							    strlen(p)))
			fail_msg("\"%s\" gave \"%s\"", bad[i].text, err.msg);
	}
	char big[1000];
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	put(p, big, 0600);
	assert_int_equal(cg_auth_read_file(p, &h, &err), -1);
	assert_non_null(strstr(err.msg, "longer than a hash line"));

	assert_int_equal(cg_auth_read_file(f->dir, &h, &err), -1);
	assert_non_null(strstr(err.msg, "not a regular file"));

	snprintf(p, sizeof(p), "%s/none.pw", f->dir);
	assert_int_equal(cg_auth_read_file(p, &h, &err), CG_AUTH_FILE_MISSING);
	/* Never write what the daemon would refuse. */
	assert_int_equal(cg_auth_write_file(p, "hunter2", &err), -1);
	assert_non_null(strstr(err.msg, "not written"));
	assert_int_equal(access(p, F_OK), -1);
	snprintf(p, sizeof(p), "%s/no/such/dir/a.pw", f->dir);
	assert_int_equal(cg_auth_write_file(p, f->line, &err), -1);
	assert_non_null(strstr(err.msg, p));
}

static void open_and_reload(void **state)
{
	struct fixture *f = *state;
	struct cg_error err;
	struct cg_auth_session_info s;
	uint8_t a4[16];
	int64_t retry;
	char p[128], line[CG_AUTH_LINE_MAX];
	addr4(a4, 10);

	/* Not configured, or not set: no dashboard, and no scrypt run. */
	struct cg_auth *a = cg_auth_new(NULL, &err);
	assert_non_null(a);
	assert_false(cg_auth_has_password(a));
	assert_int_equal(cg_auth_login(a, PW, 4, a4, T0, &s, &retry),
			 CG_AUTH_NO_PASSWORD);
	assert_int_equal(cg_auth_reload(a, &err), CG_AUTH_FILE_MISSING);
	cg_auth_free(a);

	snprintf(p, sizeof(p), "%s/later.pw", f->dir);
	a = cg_auth_new(p, &err);
	assert_non_null(a);
	assert_false(cg_auth_has_password(a));
	assert_int_equal(cg_auth_login(a, PW, 4, a4, T0, &s, &retry),
			 CG_AUTH_NO_PASSWORD);

	/* cafeguardctl passwd writes it; a reload opens the dashboard. */
	assert_int_equal(cg_auth_write_file(p, f->line, &err), 0);
	assert_int_equal(cg_auth_reload(a, &err), CG_AUTH_FILE_OK);
	assert_int_equal(cg_auth_login(a, PW, 4, a4, T0, &s, &retry),
			 CG_AUTH_OK);
	char cookie[100];
	snprintf(cookie, sizeof(cookie), "cg_admin=%s", s.sid);
	/* The same hash again keeps the session. */
	assert_int_equal(cg_auth_reload(a, &err), CG_AUTH_FILE_OK);
	assert_true(cg_auth_session(a, cookie, 4, a4, T0 + 1, NULL));

	/* A broken file is refused and the old hash kept. */
	put(p, "garbage\n", 0600);
	assert_int_equal(cg_auth_reload(a, &err), -1);
	assert_non_null(strstr(err.msg, "not an scrypt hash"));
	assert_true(cg_auth_has_password(a));
	assert_true(cg_auth_session(a, cookie, 4, a4, T0 + 2, NULL));
	/* And cg_auth_new refuses it outright. */
	assert_null(cg_auth_new(p, &err));
	assert_non_null(strstr(err.msg, p));
	chmod(p, 0666);
	assert_null(cg_auth_new(p, &err));
	assert_non_null(strstr(err.msg, "group or others may write"));

	/* A new password ends every session. */
	assert_int_equal(cg_auth_hash_password("another passphrase", line,
					       sizeof(line), &err),
			 0);
	assert_int_equal(cg_auth_write_file(p, line, &err), 0);
	assert_int_equal(cg_auth_reload(a, &err), CG_AUTH_FILE_OK);
	assert_false(cg_auth_session(a, cookie, 4, a4, T0 + 3, NULL));
	assert_int_equal(cg_auth_login(a, PW, 4, a4, T0 + 3, &s, &retry),
			 CG_AUTH_WRONG);

	/* Removing the file closes the dashboard. */
	assert_int_equal(unlink(p), 0);
	assert_int_equal(cg_auth_reload(a, &err), CG_AUTH_FILE_MISSING);
	assert_false(cg_auth_has_password(a));
	cg_auth_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(hash_roundtrip),
	    cmocka_unit_test(independent_vector),
	    cmocka_unit_test(malformed_lines),
	    cmocka_unit_test(weak_or_costly_params),
	    cmocka_unit_test(constant_time_compare),
	    cmocka_unit_test(password_policy),
	    cmocka_unit_test(password_file),
	    cmocka_unit_test(open_and_reload),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
