/*
 * captive: the acceptance table (captive.h).
 *
 * Open addressing over a power-of-two array of (key, until) pairs.  One
 * writer at a time (a mutex; the portal and the control socket may both
 * write), any number of readers without locks: a slot's key is published
 * with release order after its until is cleared, so a reader that sees a
 * key reads its until or an older 0, never another client's time.  Keys
 * are never removed while the table runs; an expired slot is reused for
 * a new client, which is the only way a slot changes hands.
 */
#include "cafeguard/captive.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cafeguard/fsutil.h"

struct slot {
	_Atomic uint64_t key;
	_Atomic int64_t until;
	char label[48]; /* writer side only */
};

struct cg_captive {
	pthread_mutex_t lock;
	char *path; /* NULL: not kept */
	uint32_t mask;
	struct slot *slots;
};

/* FNV-1a: the key only spreads clients over the table; it is not a
 * secret and is kept in the state file. */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

uint64_t cg_captive_key(const char *seat, const uint8_t *mac, uint8_t family,
			const uint8_t addr[16])
{
	uint64_t h = 0xcbf29ce484222325ull;
	if (seat) {
		h = fnv(h, "s", 1);
		h = fnv(h, seat, strlen(seat));
	} else if (mac) {
		h = fnv(h, "m", 1);
		h = fnv(h, mac, 6);
	} else {
		h = fnv(h, family == 4 ? "4" : "6", 1);
		h = fnv(h, addr, family == 4 ? 4 : 16);
	}
	return h ? h : 1;
}

static struct slot *find(const struct cg_captive *c, uint64_t key)
{
	for (uint32_t i = 0, at = (uint32_t)key & c->mask; i <= c->mask;
	     i++, at = (at + 1) & c->mask) {
		uint64_t k = atomic_load_explicit(&c->slots[at].key,
						  memory_order_acquire);
		if (k == key)
			return &c->slots[at];
		if (!k)
			return NULL;
	}
	return NULL;
}

bool cg_captive_is_open(const struct cg_captive *c, uint64_t key,
			int64_t now_s)
{
	const struct slot *s = c ? find(c, key) : NULL;
	return s && atomic_load_explicit(&s->until, memory_order_relaxed) >
			    now_s;
}

int64_t cg_captive_until(const struct cg_captive *c, uint64_t key)
{
	const struct slot *s = c ? find(c, key) : NULL;
	return s ? atomic_load_explicit(&s->until, memory_order_relaxed) : 0;
}

/* Writer side: the client's slot, or a free or expired one for it. */
static struct slot *claim(struct cg_captive *c, uint64_t key, int64_t now_s)
{
	struct slot *reuse = NULL;
	for (uint32_t i = 0, at = (uint32_t)key & c->mask; i <= c->mask;
	     i++, at = (at + 1) & c->mask) {
		struct slot *s = &c->slots[at];
		uint64_t k = atomic_load_explicit(&s->key,
						  memory_order_relaxed);
		if (k == key)
			return s;
		if (!k) {
			if (reuse)
				break;
			atomic_store_explicit(&s->until, 0,
					      memory_order_relaxed);
			atomic_store_explicit(&s->key, key,
					      memory_order_release);
			return s;
		}
		if (!reuse &&
		    atomic_load_explicit(&s->until, memory_order_relaxed) <=
			    now_s)
			reuse = s;
	}
	if (!reuse)
		return NULL;
	/* A reader probing for the old key now misses it (captive, which
	 * it was: expired); one probing for the new key sees until 0 until
	 * the caller stores the new time. */
	atomic_store_explicit(&reuse->until, 0, memory_order_relaxed);
	atomic_store_explicit(&reuse->key, key, memory_order_release);
	return reuse;
}

static int save(struct cg_captive *c, int64_t now_s, struct cg_error *err)
{
	if (!c->path)
		return 0;
	size_t cap = 64 + ((size_t)c->mask + 1) * 96, o = 0;
	char *buf = malloc(cap);
	if (!buf)
		return cg_error_set(err, "out of memory");
	o += (size_t)snprintf(buf, cap,
			      "# cafeguard: clients that accepted the splash "
			      "page (key, until, who)\n");
	for (uint32_t i = 0; i <= c->mask; i++) {
		struct slot *s = &c->slots[i];
		uint64_t k = atomic_load(&s->key);
		int64_t u = atomic_load(&s->until);
		if (k && u > now_s)
			o += (size_t)snprintf(buf + o, cap - o,
					      "%016" PRIx64 " %" PRId64 " %s\n",
					      k, u, s->label);
	}
	int rc = cg_write_file_atomic(c->path, buf, o, 0600, err);
	free(buf);
	return rc;
}

static void load(struct cg_captive *c, struct cg_error *err)
{
	FILE *f = fopen(c->path, "r");
	if (!f) {
		if (errno != ENOENT)
			cg_error_set(err, "%s: %s", c->path, strerror(errno));
		return;
	}
	char line[160];
	unsigned lineno = 0, bad = 0;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		uint64_t k;
		int64_t u;
		char label[48] = "";
		if (sscanf(line, "%16" SCNx64 " %" SCNd64 " %47s", &k, &u,
			   label) < 2 ||
		    !k) {
			if (!bad++)
				cg_error_set(err,
					     "%s:%u: not an acceptance; "
					     "ignored",
					     c->path, lineno);
			continue;
		}
		struct slot *s = claim(c, k, INT64_MAX);
		if (!s)
			break;
		snprintf(s->label, sizeof(s->label), "%s", label);
		atomic_store(&s->until, u);
	}
	fclose(f);
}

struct cg_captive *cg_captive_open(const char *state_dir, uint32_t capacity,
				   struct cg_error *err)
{
	struct cg_captive *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	uint32_t n = 16;
	while (n < 2 * capacity && n < (1u << 20))
		n <<= 1;
	c->mask = n - 1;
	c->slots = calloc(n, sizeof(*c->slots));
	if (state_dir && c->slots &&
	    asprintf(&c->path, "%s/captive", state_dir) < 0)
		c->path = NULL;
	if (!c->slots || (state_dir && !c->path)) {
		cg_captive_free(c);
		return NULL;
	}
	pthread_mutex_init(&c->lock, NULL);
	if (c->path)
		load(c, err);
	return c;
}

void cg_captive_free(struct cg_captive *c)
{
	if (!c)
		return;
	if (c->slots)
		pthread_mutex_destroy(&c->lock);
	free(c->slots);
	free(c->path);
	free(c);
}

int cg_captive_accept(struct cg_captive *c, uint64_t key, const char *label,
		      int64_t until_s, int64_t now_s, struct cg_error *err)
{
	pthread_mutex_lock(&c->lock);
	struct slot *s = claim(c, key, now_s);
	int rc;
	if (!s) {
		rc = cg_error_set(err, "%u clients are open already; raise "
				       "the capacity",
				  c->mask + 1);
	} else {
		snprintf(s->label, sizeof(s->label), "%s",
			 label && *label ? label : "-");
		/* Labels are written one word per line in the file. */
		for (char *p = s->label; *p; p++)
			if (*p <= ' ')
				*p = '_';
		atomic_store_explicit(&s->until, until_s,
				      memory_order_relaxed);
		rc = save(c, now_s, err);
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int cg_captive_revoke(struct cg_captive *c, uint64_t key, int64_t now_s,
		      struct cg_error *err)
{
	pthread_mutex_lock(&c->lock);
	struct slot *s = find(c, key);
	int rc = 0;
	if (s) {
		atomic_store_explicit(&s->until, 0, memory_order_relaxed);
		rc = save(c, now_s, err);
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int64_t cg_captive_period_end(const struct cg_localtime *lt, int64_t now_s,
			      uint32_t period_min)
{
	if (period_min)
		return now_s + (int64_t)period_min * 60;
	/* Local midnight: the start of the next local day. */
	int64_t local = now_s + lt->tz_offset_s;
	int64_t day = local >= 0 ? local / 86400 : (local - 86399) / 86400;
	return (day + 1) * 86400 - lt->tz_offset_s;
}
