/*
 * auth: the admin dashboard's login, sessions, CSRF tokens and lockout.
 *
 * The password lives only as an scrypt hash, one line in a file that
 * `cafeguardctl passwd` writes (there is no default password: without
 * the file there is no dashboard).  A login checks the client's lockout
 * and a box-wide rate limit *before* running scrypt, so a locked or
 * flooding client cannot make the box burn CPU and memory (each check
 * takes 32 MiB for ~0.1 s).  A good login opens a session: a 256-bit
 * random id sent as an HttpOnly, SameSite=Strict cookie, bound to the
 * client's address, ended by logout, 30 minutes idle or 12 hours.
 *
 * Threads: struct cg_auth holds its tables behind a mutex of its own, so
 * the portal's threads may call every function on one object at once.
 * scrypt runs outside the lock.  The functions without a struct cg_auth
 * are pure (or touch only the file named) and need no lock.
 *
 * Time: every function takes the caller's clock (now_s, UTC seconds), so
 * tests drive expiry and lockout without sleeping.  Randomness (salts,
 * session ids, the CSRF key) comes from getrandom().
 *
 * Errors: functions that can fail for a reason a person must read return
 * -1 and fill a struct cg_error (diag.h); the login path returns an
 * enum cg_auth_result instead, because each outcome is a different page.
 */
#ifndef CAFEGUARD_AUTH_H
#define CAFEGUARD_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cafeguard/diag.h"

/* Password policy: characters are counted as UTF-8 code points. */
#define CG_AUTH_PW_MIN_CHARS 10
#define CG_AUTH_PW_MAX_BYTES 1024

/* What cg_auth_hash_password writes: N = 2^15, r = 8, p = 1 (32 MiB). */
#define CG_AUTH_SCRYPT_LOG2N 15
#define CG_AUTH_SCRYPT_R 8
#define CG_AUTH_SCRYPT_P 1
#define CG_AUTH_SALT_BYTES 16
#define CG_AUTH_KEY_BYTES 32
/* What a hash line may carry (a file written by hand or a later version). */
#define CG_AUTH_SALT_MAX 64
#define CG_AUTH_KEY_MAX 64
#define CG_AUTH_LINE_MAX 256 /* with its NUL */

/* Sessions. */
#define CG_AUTH_SESSIONS 32
#define CG_AUTH_IDLE_S (30 * 60)
#define CG_AUTH_LIFETIME_S (12 * 3600)
#define CG_AUTH_SID_BYTES 32
#define CG_AUTH_TOKEN_BUF 65 /* 64 hex digits and a NUL: ids and tokens */
#define CG_AUTH_COOKIE_NAME "cg_admin"
#define CG_AUTH_COOKIE_PATH "/admin"

/* Lockout, per client address. */
#define CG_AUTH_LOCK_SLOTS 256
#define CG_AUTH_LOCK_FAILS 5          /* failures ... */
#define CG_AUTH_LOCK_WINDOW_S 900     /* ... within this -> locked */
#define CG_AUTH_LOCK_FIRST_S 300      /* the first lock; then doubled */
#define CG_AUTH_LOCK_MAX_S 3600       /* up to this */
#define CG_AUTH_LOCK_FORGET_S 86400   /* a quiet day starts over */

/* Box-wide: scrypt checks a second, and at once (two cores). */
#define CG_AUTH_CHECKS_PER_S 10
#define CG_AUTH_CHECKS_AT_ONCE 2

/* ---- password hashes (pure) ---- */

/* One parsed line "scrypt$LOG2N$R$P$<salt base64>$<key base64>". */
struct cg_auth_hash {
	unsigned log2n, r, p;
	size_t saltlen, keylen;
	uint8_t salt[CG_AUTH_SALT_MAX];
	uint8_t key[CG_AUTH_KEY_MAX];
};

/*
 * Parses line (no newline) into h.  The format is strict (decimal
 * without leading zeros, base64 with its padding), so a parsed line
 * formats back to the same text.  Refuses parameters too weak (N below
 * 2^14, r below 8, a salt under 16 bytes, a key under 32) or too costly
 * for the box (over 256 MiB, or 16 times the default work).  Returns 0,
 * or -1 with err saying what is wrong.
 */
int cg_auth_parse_line(const char *line, struct cg_auth_hash *h,
		       struct cg_error *err);

/* Formats h as a line into out.  Returns its length, or 0 if outsz is
 * too small. */
size_t cg_auth_format_line(const struct cg_auth_hash *h, char *out,
			   size_t outsz);

/* 0 if pw may be set as the password, else -1 with err saying why
 * (fewer than 10 characters, more than 1024 bytes, a control
 * character, not UTF-8). */
int cg_auth_password_policy(const char *pw, struct cg_error *err);

/* Checks the policy, then hashes pw with a fresh random salt at the
 * default parameters into out (CG_AUTH_LINE_MAX is enough).  Returns 0,
 * or -1 with err. */
int cg_auth_hash_password(const char *pw, char *out, size_t outsz,
			  struct cg_error *err);

/* Runs scrypt on pw with h's parameters and compares in constant time
 * (CRYPTO_memcmp).  1 if it matches, 0 if not, -1 with err if scrypt
 * failed (memory). */
int cg_auth_verify(const struct cg_auth_hash *h, const char *pw,
		   struct cg_error *err);

/* The same from a line: -1 with err also when the line is malformed. */
int cg_auth_verify_line(const char *line, const char *pw,
			struct cg_error *err);

/* ---- the password file ---- */

enum {
	CG_AUTH_FILE_OK = 0,
	CG_AUTH_FILE_MISSING = 1, /* no file: no dashboard */
};

/*
 * Reads path's single hash line into h.  Refuses (-1, err naming the
 * file) a file that is not regular, that group or others may write, that
 * belongs to someone other than root or the caller, that holds more than
 * one line, or whose line does not parse.  Returns CG_AUTH_FILE_OK, or
 * CG_AUTH_FILE_MISSING if path does not exist.
 */
int cg_auth_read_file(const char *path, struct cg_auth_hash *h,
		      struct cg_error *err);

/* Replaces path with line and a newline, mode 0600, atomically (a crash
 * leaves the old hash or the new one).  Returns 0, or -1 with err. */
int cg_auth_write_file(const char *path, const char *line,
		       struct cg_error *err);

/* ---- the dashboard's state ---- */

struct cg_auth;

/*
 * Opens the state for the hash in password_file (NULL: none configured).
 * A missing file is not an error: the object then refuses every login
 * with CG_AUTH_NO_PASSWORD (see cg_auth_has_password).  NULL with err if
 * the file is unsafe or malformed (cg_auth_read_file), or no memory or
 * randomness.  password_file is copied.
 */
struct cg_auth *cg_auth_new(const char *password_file, struct cg_error *err);
void cg_auth_free(struct cg_auth *a);

/*
 * Reads the password file again (after `cafeguardctl passwd`).  A new
 * hash ends every session; the same hash keeps them.  Returns
 * CG_AUTH_FILE_OK, CG_AUTH_FILE_MISSING (the dashboard is now closed),
 * or -1 with err, keeping the hash it had.
 */
int cg_auth_reload(struct cg_auth *a, struct cg_error *err);

/* Whether a password is set (else tell the owner to run
 * `cafeguardctl passwd`). */
bool cg_auth_has_password(struct cg_auth *a);

enum cg_auth_result {
	CG_AUTH_OK,          /* a session is open: send its cookie */
	CG_AUTH_WRONG,       /* the password is wrong */
	CG_AUTH_LOCKED,      /* too many failures: not checked */
	CG_AUTH_NO_PASSWORD, /* no password file: no dashboard */
	CG_AUTH_BUSY,        /* too many checks now (or out of memory) */
};

/* "ok", "wrong", "locked", "no-password", "busy". */
const char *cg_auth_result_name(enum cg_auth_result r);

/* What a page needs to know about a session. */
struct cg_auth_session_info {
	char sid[CG_AUTH_TOKEN_BUF];  /* the cookie's value (hex) */
	char csrf[CG_AUTH_TOKEN_BUF]; /* to put in every form (hex) */
	int64_t created_s;
	int64_t expires_s; /* idle or absolute end, whichever comes first */
};

/*
 * Checks password for the client (family 4 or 6, addr in network order;
 * for 4 only its first 4 bytes count) at now_s.  In this order: no
 * password -> NO_PASSWORD; the client locked -> LOCKED; the box over its
 * rate -> BUSY; only then scrypt.  OK fills out (a new session; the
 * least recently used one makes room when the table is full) and clears
 * the client's failures.  *retry_after (may be NULL) is set to the
 * seconds to wait for LOCKED and BUSY, and for a WRONG that has just
 * locked the client; else 0.
 */
enum cg_auth_result cg_auth_login(struct cg_auth *a, const char *password,
				  uint8_t family, const uint8_t addr[16],
				  int64_t now_s,
				  struct cg_auth_session_info *out,
				  int64_t *retry_after);

/*
 * Finds the session named by a request's Cookie header (NULL: none) for
 * the client at now_s and marks it used (its idle time starts again).
 * False if there is none, it has expired, or it was opened from another
 * address (that ends it: its cookie has leaked).  out may be NULL.
 */
bool cg_auth_session(struct cg_auth *a, const char *cookie_header,
		     uint8_t family, const uint8_t addr[16], int64_t now_s,
		     struct cg_auth_session_info *out);

/* True if token (a form's field; NULL or "" is false) is the session's
 * CSRF token.  Constant time; s comes from cg_auth_session. */
bool cg_auth_csrf_ok(const struct cg_auth_session_info *s, const char *token);

/*
 * The login form has no session yet, so its token is bound to the
 * client's address instead (HMAC with this process's key): out gets 64
 * hex digits and a NUL.  cg_auth_login_csrf_ok checks one in constant
 * time.
 */
void cg_auth_login_csrf(const struct cg_auth *a, uint8_t family,
			const uint8_t addr[16], char out[CG_AUTH_TOKEN_BUF]);
bool cg_auth_login_csrf_ok(const struct cg_auth *a, uint8_t family,
			   const uint8_t addr[16], const char *token);

/* Ends the session sid (hex, as in the cookie); unknown ids are fine. */
void cg_auth_logout(struct cg_auth *a, const char *sid);

/*
 * The value of a Set-Cookie header (the name is not included, for
 * MHD_add_response_header): "cg_admin=SID; Path=/admin; Max-Age=N;
 * HttpOnly; SameSite=Strict".  With sid NULL it clears the cookie
 * (empty value, Max-Age=0), for logout.  No Secure attribute: the portal
 * speaks plain HTTP on the LAN.  Returns the length, or 0 if outsz is too
 * small or sid is not 64 hex digits.
 */
size_t cg_auth_cookie(const char *sid, int64_t max_age_s, char *out,
		      size_t outsz);

/*
 * The session ids (decoded) that a Cookie header carries under
 * cg_admin, at most max of them, in order: "a=1; cg_admin=HEX" and
 * quoted values are read; any other value is skipped.  Pure; exposed for
 * tests and the fuzzer.
 */
size_t cg_auth_cookie_ids(const char *header,
			  uint8_t ids[][CG_AUTH_SID_BYTES], size_t max);

#endif
