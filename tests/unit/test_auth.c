/*
 * The dashboard's authentication: scrypt lines (a vector from another
 * implementation, every parse error, weak and costly parameters), the
 * password policy, the password file's checks, sessions (cookies, idle
 * and absolute expiry, address binding, eviction, logout), CSRF tokens,
 * the lockout schedule on an injected clock, and the box-wide limit.
 *
 * Each login with a password runs scrypt for real (~0.1 s), so the tests
 * count them: about a hundred in all.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/crypto.h>

#include "cafeguard/auth.h"

#define T0 INT64_C(1795446000) /* 2026-11-23 15:00 UTC */
#define PW "correct horse battery"

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

struct fixture {
	char dir[64];
	char file[96]; /* holds the hash of PW */
	char line[CG_AUTH_LINE_MAX];
};

static int setup(void **state)
{
	static struct fixture f;
	struct cg_error err;
	snprintf(f.dir, sizeof(f.dir), "/tmp/cg_test_auth.XXXXXX");
	if (!mkdtemp(f.dir))
		return -1;
	snprintf(f.file, sizeof(f.file), "%s/admin.pw", f.dir);
	if (cg_auth_hash_password(PW, f.line, sizeof(f.line), &err) < 0 ||
	    cg_auth_write_file(f.file, f.line, &err) < 0)
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct cg_auth *open_auth(void **state)
{
	struct fixture *f = *state;
	struct cg_error err;
	struct cg_auth *a = cg_auth_new(f->file, &err);
	assert_non_null(a);
	assert_true(cg_auth_has_password(a));
	return a;
}

static void addr4(uint8_t out[16], uint8_t last)
{
	memset(out, 0, 16);
	out[0] = 192;
	out[1] = 168;
	out[2] = 50;
	out[3] = last;
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 +
	       (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
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
	    cmocka_unit_test(hash_roundtrip),
	    cmocka_unit_test(independent_vector),
	    cmocka_unit_test(malformed_lines),
	    cmocka_unit_test(weak_or_costly_params),
	    cmocka_unit_test(constant_time_compare),
	    cmocka_unit_test(password_policy),
	    cmocka_unit_test(password_file),
	    cmocka_unit_test(open_and_reload),
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
