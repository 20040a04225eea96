/*
 * auth, the session half: the object, sessions, CSRF tokens, lockout and
 * login for the admin dashboard (contracts in auth.h; the password lines
 * and file are auth_hash.c).
 */
#include "cafeguard/auth.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth_internal.h"

struct session {
	bool used;
	uint8_t family;
	uint8_t addr[16];
	uint8_t id[CG_AUTH_SID_BYTES];
	int64_t created_s, last_s;
};

struct lock_entry {
	bool used;
	uint8_t family;
	uint8_t addr[16];
	unsigned fails;    /* within the window that began at first_s */
	unsigned lockouts; /* since the last success or quiet day */
	int64_t first_s, last_s, locked_until_s;
};

struct cg_auth {
	pthread_mutex_t mu; /* guards everything below but key and path */
	char *path;
	uint8_t key[32]; /* HMAC key of the CSRF tokens; set once */

	bool has_hash;
	struct cg_auth_hash hash;
	uint64_t generation; /* bumped when the hash changes */

	int64_t rate_second;
	unsigned rate_count, running;

	struct session sessions[CG_AUTH_SESSIONS];
	struct lock_entry locks[CG_AUTH_LOCK_SLOTS];
};
/* ---- the object ---- */

struct cg_auth *cg_auth_new(const char *password_file, struct cg_error *err)
{
	struct cg_auth *a = calloc(1, sizeof(*a));
	if (!a) {
		cg_error_set(err, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&a->mu, NULL);
	if (cg_au_random_bytes(a->key, sizeof(a->key)) < 0) {
		cg_error_set(err, "getrandom: %s", strerror(errno));
		goto fail;
	}
	if (password_file) {
		a->path = strdup(password_file);
		if (!a->path) {
			cg_error_set(err, "out of memory");
			goto fail;
		}
		if (cg_auth_reload(a, err) < 0)
			goto fail;
	}
	return a;
fail:
	cg_auth_free(a);
	return NULL;
}

void cg_auth_free(struct cg_auth *a)
{
	if (!a)
		return;
	pthread_mutex_destroy(&a->mu);
	free(a->path);
	OPENSSL_cleanse(a, sizeof(*a));
	free(a);
}

static bool hash_equal(const struct cg_auth_hash *x,
		       const struct cg_auth_hash *y)
{
	return x->log2n == y->log2n && x->r == y->r && x->p == y->p &&
	       x->saltlen == y->saltlen && x->keylen == y->keylen &&
	       !memcmp(x->salt, y->salt, x->saltlen) &&
	       !memcmp(x->key, y->key, x->keylen);
}

int cg_auth_reload(struct cg_auth *a, struct cg_error *err)
{
	struct cg_auth_hash h;
	int rc = a->path ? cg_auth_read_file(a->path, &h, err)
			 : CG_AUTH_FILE_MISSING;
	if (rc < 0)
		return -1;
	bool has = rc == CG_AUTH_FILE_OK;
	pthread_mutex_lock(&a->mu);
	if (has != a->has_hash || (has && !hash_equal(&h, &a->hash))) {
		/* Whoever logged in with the old password is out. */
		memset(a->sessions, 0, sizeof(a->sessions));
		a->generation++;
	}
	a->has_hash = has;
	a->hash = has ? h : (struct cg_auth_hash){0};
	pthread_mutex_unlock(&a->mu);
	return rc;
}

bool cg_auth_has_password(struct cg_auth *a)
{
	pthread_mutex_lock(&a->mu);
	bool has = a->has_hash;
	pthread_mutex_unlock(&a->mu);
	return has;
}

const char *cg_auth_result_name(enum cg_auth_result r)
{
	switch (r) {
	case CG_AUTH_OK:
		return "ok";
	case CG_AUTH_WRONG:
		return "wrong";
	case CG_AUTH_LOCKED:
		return "locked";
	case CG_AUTH_NO_PASSWORD:
		return "no-password";
	case CG_AUTH_BUSY:
		return "busy";
	}
	return "?";
}

/* ---- lockout (callers hold mu) ---- */

static bool same_client(uint8_t fa, const uint8_t *a, uint8_t fb,
			const uint8_t *b)
{
	return fa == fb && memcmp(a, b, 16) == 0;
}

/* family 4 keeps only the address's first 4 bytes, so callers need not
 * clear the rest. */
static void client_key(uint8_t family, const uint8_t addr[16],
		       uint8_t out[16])
{
	memset(out, 0, 16);
	memcpy(out, addr, family == 4 ? 4 : 16);
}

static struct lock_entry *lock_find(struct cg_auth *a, uint8_t family,
				    const uint8_t key[16], int64_t now_s)
{
	for (size_t i = 0; i < CG_AUTH_LOCK_SLOTS; i++) {
		struct lock_entry *e = &a->locks[i];
		if (!e->used || !same_client(e->family, e->addr, family, key))
			continue;
		if (e->locked_until_s <= now_s &&
		    now_s - e->last_s >= CG_AUTH_LOCK_FORGET_S) {
			e->used = false; /* a quiet day starts over */
			return NULL;
		}
		return e;
	}
	return NULL;
}

/* A free slot, else the one quiet the longest.  Many addresses (an IPv6
 * client can take any number) can push a locked one out; the box-wide
 * rate limit still bounds how fast anyone guesses. */
static struct lock_entry *lock_take(struct cg_auth *a, uint8_t family,
				    const uint8_t key[16])
{
	struct lock_entry *best = &a->locks[0];
	for (size_t i = 0; i < CG_AUTH_LOCK_SLOTS; i++) {
		struct lock_entry *e = &a->locks[i];
		if (!e->used) {
			best = e;
			break;
		}
		if (e->last_s < best->last_s)
			best = e;
	}
	memset(best, 0, sizeof(*best));
	best->used = true;
	best->family = family;
	memcpy(best->addr, key, 16);
	return best;
}

/* Records a failure; returns the lock it starts (seconds), else 0. */
static int64_t lock_fail(struct cg_auth *a, uint8_t family,
			 const uint8_t key[16], int64_t now_s)
{
	struct lock_entry *e = lock_find(a, family, key, now_s);
	if (!e)
		e = lock_take(a, family, key);
	if (e->fails && now_s - e->first_s >= CG_AUTH_LOCK_WINDOW_S)
		e->fails = 0;
	if (!e->fails)
		e->first_s = now_s;
	e->fails++;
	e->last_s = now_s;
	if (e->fails < CG_AUTH_LOCK_FAILS)
		return 0;
	int64_t secs = CG_AUTH_LOCK_FIRST_S;
	for (unsigned i = 0; i < e->lockouts && secs < CG_AUTH_LOCK_MAX_S; i++)
		secs *= 2;
	if (secs > CG_AUTH_LOCK_MAX_S)
		secs = CG_AUTH_LOCK_MAX_S;
	e->lockouts++;
	e->fails = 0;
	e->locked_until_s = now_s + secs;
	return secs;
}

/* ---- sessions (callers hold mu) ---- */

static void hmac_token(const uint8_t key[32], const char *label,
		       const uint8_t *data, size_t n, uint8_t out[32])
{
	uint8_t msg[64];
	size_t l = strlen(label) + 1; /* the NUL separates label and data */
	memcpy(msg, label, l);
	memcpy(msg + l, data, n);
	unsigned outlen = 32;
	/* Only out of memory fails; a random token then matches nothing. */
	if (!HMAC(EVP_sha256(), key, 32, msg, l + n, out, &outlen))
		(void)cg_au_random_bytes(out, 32);
}

static void session_info(const struct cg_auth *a, const struct session *s,
			 struct cg_auth_session_info *out)
{
	uint8_t tok[32];
	if (!out)
		return;
	cg_au_hex_encode(s->id, sizeof(s->id), out->sid);
	hmac_token(a->key, "session", s->id, sizeof(s->id), tok);
	cg_au_hex_encode(tok, sizeof(tok), out->csrf);
	out->created_s = s->created_s;
	out->expires_s = s->last_s + CG_AUTH_IDLE_S;
	if (out->expires_s > s->created_s + CG_AUTH_LIFETIME_S)
		out->expires_s = s->created_s + CG_AUTH_LIFETIME_S;
}

static bool session_live(const struct session *s, int64_t now_s)
{
	return s->used && now_s - s->last_s < CG_AUTH_IDLE_S &&
	       now_s - s->created_s < CG_AUTH_LIFETIME_S;
}

static int session_open(struct cg_auth *a, uint8_t family,
			const uint8_t key[16], int64_t now_s,
			struct cg_auth_session_info *out)
{
	struct session *s = &a->sessions[0];
	for (size_t i = 0; i < CG_AUTH_SESSIONS; i++) {
		struct session *t = &a->sessions[i];
		if (!session_live(t, now_s)) {
			s = t;
			break;
		}
		if (t->last_s < s->last_s)
			s = t; /* the least recently used makes room */
	}
	memset(s, 0, sizeof(*s));
	if (cg_au_random_bytes(s->id, sizeof(s->id)) < 0)
		return -1;
	s->used = true;
	s->family = family;
	memcpy(s->addr, key, 16);
	s->created_s = s->last_s = now_s;
	session_info(a, s, out);
	return 0;
}

/* The session with id, or NULL; compared in constant time, so the
 * time taken says nothing about how much of a guess was right. */
static struct session *session_find(struct cg_auth *a,
				    const uint8_t id[CG_AUTH_SID_BYTES])
{
	struct session *found = NULL;
	for (size_t i = 0; i < CG_AUTH_SESSIONS; i++) {
		struct session *s = &a->sessions[i];
		if (CRYPTO_memcmp(s->id, id, CG_AUTH_SID_BYTES) == 0 &&
		    s->used)
			found = s;
	}
	return found;
}

/* ---- login ---- */

/* Under mu: whether a check may run now, and if so counts it. */
static enum cg_auth_result admit(struct cg_auth *a, uint8_t family,
				 const uint8_t key[16], int64_t now_s,
				 int64_t *retry)
{
	if (!a->has_hash)
		return CG_AUTH_NO_PASSWORD;
	struct lock_entry *e = lock_find(a, family, key, now_s);
	if (e && e->locked_until_s > now_s) {
		*retry = e->locked_until_s - now_s;
		return CG_AUTH_LOCKED;
	}
	if (a->rate_second != now_s) {
		a->rate_second = now_s;
		a->rate_count = 0;
	}
	if (a->rate_count >= CG_AUTH_CHECKS_PER_S ||
	    a->running >= CG_AUTH_CHECKS_AT_ONCE) {
		*retry = 1;
		return CG_AUTH_BUSY;
	}
	a->rate_count++;
	a->running++;
	return CG_AUTH_OK;
}

enum cg_auth_result cg_auth_login(struct cg_auth *a, const char *password,
				  uint8_t family, const uint8_t addr[16],
				  int64_t now_s,
				  struct cg_auth_session_info *out,
				  int64_t *retry_after)
{
	uint8_t key[16];
	int64_t retry = 0;
	client_key(family, addr, key);

	pthread_mutex_lock(&a->mu);
	enum cg_auth_result r = admit(a, family, key, now_s, &retry);
	struct cg_auth_hash h;
	if (r == CG_AUTH_OK)
		h = a->hash; /* a reload may replace it meanwhile */
	uint64_t gen = a->generation;
	pthread_mutex_unlock(&a->mu);
	if (r != CG_AUTH_OK)
		goto out;

	/* Outside the lock: sessions keep being served meanwhile.  No
	 * password can be longer than the policy allows, so one that is
	 * fails without scrypt reading all of it. */
	int ok = 0;
	if (password && strlen(password) <= CG_AUTH_PW_MAX_BYTES)
		ok = cg_auth_verify(&h, password, NULL);
	OPENSSL_cleanse(&h, sizeof(h));

	pthread_mutex_lock(&a->mu);
	a->running--;
	if (ok < 0 || gen != a->generation) {
		/* Out of memory, or the password changed meanwhile. */
		r = CG_AUTH_BUSY;
		retry = 1;
	} else if (ok == 0) {
		r = CG_AUTH_WRONG;
		retry = lock_fail(a, family, key, now_s);
	} else {
		struct lock_entry *e = lock_find(a, family, key, now_s);
		if (e)
			e->used = false;
		if (session_open(a, family, key, now_s, out) < 0) {
			r = CG_AUTH_BUSY;
			retry = 1;
		}
	}
	pthread_mutex_unlock(&a->mu);
out:
	if (retry_after)
		*retry_after = retry;
	return r;
}

bool cg_auth_session(struct cg_auth *a, const char *cookie_header,
		     uint8_t family, const uint8_t addr[16], int64_t now_s,
		     struct cg_auth_session_info *out)
{
	uint8_t ids[4][CG_AUTH_SID_BYTES], key[16];
	size_t n = cookie_header ? cg_auth_cookie_ids(cookie_header, ids, 4)
				 : 0;
	bool ok = false;
	client_key(family, addr, key);
	pthread_mutex_lock(&a->mu);
	for (size_t i = 0; i < n && !ok; i++) {
		struct session *s = session_find(a, ids[i]);
		if (!s)
			continue;
		if (!session_live(s, now_s) ||
		    !same_client(s->family, s->addr, family, key)) {
			memset(s, 0, sizeof(*s));
			continue;
		}
		s->last_s = now_s;
		session_info(a, s, out);
		ok = true;
	}
	pthread_mutex_unlock(&a->mu);
	return ok;
}

static bool token_ok(const char *want, const char *token)
{
	uint8_t w[32], t[32];
	if (!token || cg_au_hex_decode(token, strlen(token), t, sizeof(t)) < 0 ||
	    cg_au_hex_decode(want, strlen(want), w, sizeof(w)) < 0)
		return false;
	return CRYPTO_memcmp(w, t, sizeof(w)) == 0;
}

bool cg_auth_csrf_ok(const struct cg_auth_session_info *s, const char *token)
{
	return s && token_ok(s->csrf, token);
}

void cg_auth_login_csrf(const struct cg_auth *a, uint8_t family,
			const uint8_t addr[16], char out[CG_AUTH_TOKEN_BUF])
{
	uint8_t data[17], tok[32];
	data[0] = family;
	client_key(family, addr, data + 1);
	hmac_token(a->key, "login", data, sizeof(data), tok);
	cg_au_hex_encode(tok, sizeof(tok), out);
}

bool cg_auth_login_csrf_ok(const struct cg_auth *a, uint8_t family,
			   const uint8_t addr[16], const char *token)
{
	char want[CG_AUTH_TOKEN_BUF];
	cg_auth_login_csrf(a, family, addr, want);
	return token_ok(want, token);
}

void cg_auth_logout(struct cg_auth *a, const char *sid)
{
	uint8_t id[CG_AUTH_SID_BYTES];
	if (!sid || cg_au_hex_decode(sid, strlen(sid), id, sizeof(id)) < 0)
		return;
	pthread_mutex_lock(&a->mu);
	struct session *s = session_find(a, id);
	if (s)
		memset(s, 0, sizeof(*s));
	pthread_mutex_unlock(&a->mu);
}

/* ---- cookies ---- */

size_t cg_auth_cookie(const char *sid, int64_t max_age_s, char *out,
		      size_t outsz)
{
	uint8_t id[CG_AUTH_SID_BYTES];
	if (sid && cg_au_hex_decode(sid, strlen(sid), id, sizeof(id)) < 0)
		return 0;
	if (!sid || max_age_s < 0)
		max_age_s = 0;
	int n = snprintf(out, outsz,
			 CG_AUTH_COOKIE_NAME "=%s; Path=" CG_AUTH_COOKIE_PATH
					     "; Max-Age=%" PRId64
					     "; HttpOnly; SameSite=Strict",
			 sid ? sid : "", max_age_s);
	return n < 0 || (size_t)n >= outsz ? 0 : (size_t)n;
}

static bool ows(char c)
{
	return c == ' ' || c == '\t';
}

/* RFC 6265 5.2 splits on ';' and trims whitespace; 4.1.1 allows the
 * value in double quotes.  Names are case-sensitive. */
size_t cg_auth_cookie_ids(const char *header,
			  uint8_t ids[][CG_AUTH_SID_BYTES], size_t max)
{
	static const char name[] = CG_AUTH_COOKIE_NAME;
	size_t n = 0;
	for (const char *p = header; *p && n < max;) {
		size_t len = strcspn(p, ";");
		const char *end = p + len, *eq = memchr(p, '=', len);
		const char *v = eq ? eq + 1 : end, *ve = end;
		while (p < end && ows(*p))
			p++;
		const char *ne = eq ? eq : end;
		while (ne > p && ows(ne[-1]))
			ne--;
		while (v < ve && ows(*v))
			v++;
		while (ve > v && ows(ve[-1]))
			ve--;
		if (ve - v >= 2 && *v == '"' && ve[-1] == '"') {
			v++;
			ve--;
		}
		if (eq && (size_t)(ne - p) == sizeof(name) - 1 &&
		    !memcmp(p, name, sizeof(name) - 1) &&
		    cg_au_hex_decode(v, (size_t)(ve - v), ids[n], CG_AUTH_SID_BYTES) ==
			0)
			n++;
		p = *end ? end + 1 : end;
	}
	return n;
}
