#include "cafeguard/eventlog.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cafeguard/decode.h"

/* Lamport's single-producer single-consumer ring: the producer owns
 * `tail`, the consumer owns `head`; each reads the other's index with
 * acquire so the slot contents it sees are complete. */
struct cg_event_ring {
	_Alignas(64) atomic_uint_fast32_t head;
	_Alignas(64) atomic_uint_fast32_t tail;
	_Alignas(64) atomic_uint_fast64_t dropped;
	uint32_t mask;
	struct cg_event *slots;
};

struct cg_event_ring *cg_event_ring_new(uint32_t capacity)
{
	uint32_t cap = 2;
	while (cap < capacity && cap < (1u << 24))
		cap <<= 1;
	struct cg_event_ring *r = aligned_alloc(64, sizeof(*r));
	if (!r)
		return NULL;
	memset(r, 0, sizeof(*r));
	r->slots = calloc(cap, sizeof(*r->slots));
	if (!r->slots) {
		free(r);
		return NULL;
	}
	r->mask = cap - 1;
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
	atomic_init(&r->dropped, 0);
	return r;
}

void cg_event_ring_free(struct cg_event_ring *r)
{
	if (!r)
		return;
	free(r->slots);
	free(r);
}

bool cg_event_ring_push(struct cg_event_ring *r, const struct cg_event *e)
{
	uint_fast32_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
	uint_fast32_t h = atomic_load_explicit(&r->head, memory_order_acquire);
	if (t - h > r->mask) {
		atomic_fetch_add_explicit(&r->dropped, 1, memory_order_relaxed);
		return false;
	}
	r->slots[t & r->mask] = *e;
	atomic_store_explicit(&r->tail, t + 1, memory_order_release);
	return true;
}

bool cg_event_ring_pop(struct cg_event_ring *r, struct cg_event *e)
{
	uint_fast32_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint_fast32_t t = atomic_load_explicit(&r->tail, memory_order_acquire);
	if (h == t)
		return false;
	*e = r->slots[h & r->mask];
	atomic_store_explicit(&r->head, h + 1, memory_order_release);
	return true;
}

uint64_t cg_event_ring_dropped(const struct cg_event_ring *r)
{
	return atomic_load_explicit(&r->dropped, memory_order_relaxed);
}

const char *cg_event_type_str(enum cg_event_type t)
{
	switch (t) {
	case CG_EV_BLOCK:
		return "block";
	case CG_EV_START:
		return "start";
	case CG_EV_STOP:
		return "stop";
	case CG_EV_ALLOW:
		return "allow";
	case CG_EV_RELOAD:
		return "reload";
	case CG_EV_DROPPED:
		return "dropped";
	case CG_EV_CAPTIVE:
		return "captive";
	}
	return "?";
}

const char *cg_event_action_str(enum cg_event_action a)
{
	switch (a) {
	case CG_ACT_NONE:
		return "none";
	case CG_ACT_NXDOMAIN:
		return "nxdomain";
	case CG_ACT_RESET:
		return "reset";
	case CG_ACT_DROP:
		return "drop";
	case CG_ACT_SINKHOLE:
		return "sinkhole";
	case CG_ACT_REDIRECT:
		return "redirect";
	case CG_ACT_UNREACHABLE:
		return "unreachable";
	}
	return "?";
}

/* JSON string escaping (RFC 8259 7); names are ASCII already, but list
 * file paths and details come from users. */
static size_t put_json_str(char *out, size_t outsz, size_t o, const char *s)
{
	if (o < outsz)
		out[o] = '"';
	o++;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[8];
		const char *w = esc;
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			esc[2] = 0;
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
		} else {
			esc[0] = (char)c;
			esc[1] = 0;
		}
		for (; *w; w++, o++)
			if (o < outsz)
				out[o] = *w;
	}
	if (o < outsz)
		out[o] = '"';
	return o + 1;
}

static size_t put_raw(char *out, size_t outsz, size_t o, const char *s)
{
	for (; *s; s++, o++)
		if (o < outsz)
			out[o] = *s;
	return o;
}

static size_t put_field(char *out, size_t outsz, size_t o, const char *key,
			const char *val)
{
	o = put_raw(out, outsz, o, ",\"");
	o = put_raw(out, outsz, o, key);
	o = put_raw(out, outsz, o, "\":");
	return put_json_str(out, outsz, o, val);
}

size_t cg_event_to_json(const struct cg_event *e, char *out, size_t outsz)
{
	char tbuf[40], num[64];
	time_t secs = (time_t)(e->time_ms / 1000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	size_t tl = strftime(tbuf, sizeof(tbuf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(tbuf + tl, sizeof(tbuf) - tl, ".%03uZ",
		 (unsigned)(e->time_ms % 1000));

	size_t o = put_raw(out, outsz, 0, "{\"time\":");
	o = put_json_str(out, outsz, o, tbuf);
	o = put_field(out, outsz, o, "event",
		      cg_event_type_str((enum cg_event_type)e->type));
	if (e->family) {
		char a[48];
		cg_addr_str(e->family, e->client, a, sizeof(a));
		o = put_field(out, outsz, o, "client", a);
		cg_addr_str(e->family, e->server, a, sizeof(a));
		o = put_field(out, outsz, o, "server", a);
		snprintf(num, sizeof(num), ",\"client_port\":%u,"
					   "\"server_port\":%u,\"proto\":\"%s\"",
			 e->client_port, e->server_port,
			 e->proto == 6 ? "tcp" : e->proto == 17 ? "udp" : "ip");
		o = put_raw(out, outsz, o, num);
	}
	if (e->has_mac) {
		snprintf(num, sizeof(num), "%02x:%02x:%02x:%02x:%02x:%02x",
			 e->mac[0], e->mac[1], e->mac[2], e->mac[3], e->mac[4],
			 e->mac[5]);
		o = put_field(out, outsz, o, "mac", num);
	}
	if (e->host[0])
		o = put_field(out, outsz, o, "host", e->host);
	if (e->app[0])
		o = put_field(out, outsz, o, "app", e->app);
	if (e->seat[0])
		o = put_field(out, outsz, o, "seat", e->seat);
	if (e->profile[0])
		o = put_field(out, outsz, o, "profile", e->profile);
	if (e->reason[0])
		o = put_field(out, outsz, o, "reason", e->reason);
	if (e->rule[0])
		o = put_field(out, outsz, o, "rule", e->rule);
	if (e->category[0])
		o = put_field(out, outsz, o, "category", e->category);
	if (e->entry[0])
		o = put_field(out, outsz, o, "entry", e->entry);
	if (e->file[0]) {
		o = put_field(out, outsz, o, "file", e->file);
		snprintf(num, sizeof(num), ",\"line\":%u", e->line);
		o = put_raw(out, outsz, o, num);
	}
	if (e->type == CG_EV_BLOCK)
		o = put_field(out, outsz, o, "action",
			      cg_event_action_str(
				      (enum cg_event_action)e->action));
	if (e->detail[0])
		o = put_field(out, outsz, o, "detail", e->detail);
	o = put_raw(out, outsz, o, "}");
	if (o >= outsz)
		return 0;
	out[o] = '\0';
	return o;
}

/* ---- JSON-lines sink ---- */

struct jsonl_sink {
	struct cg_event_sink base;
	int fd;
	size_t len;
	char buf[64 * 1024];
};

static int jsonl_flush(struct cg_event_sink *s)
{
	struct jsonl_sink *j = (struct jsonl_sink *)s;
	size_t off = 0;
	while (off < j->len) {
		ssize_t n = write(j->fd, j->buf + off, j->len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			j->len = 0;
			return -1;
		}
		off += (size_t)n;
	}
	j->len = 0;
	return 0;
}

static int jsonl_write(struct cg_event_sink *s, const struct cg_event *e)
{
	struct jsonl_sink *j = (struct jsonl_sink *)s;
	char line[2048];
	size_t n = cg_event_to_json(e, line, sizeof(line) - 1);
	if (!n)
		return -1;
	line[n++] = '\n';
	if (j->len + n > sizeof(j->buf) && jsonl_flush(s) < 0)
		return -1;
	memcpy(j->buf + j->len, line, n);
	j->len += n;
	return 0;
}

static void jsonl_close(struct cg_event_sink *s)
{
	struct jsonl_sink *j = (struct jsonl_sink *)s;
	jsonl_flush(s);
	close(j->fd);
	free(j);
}

struct cg_event_sink *cg_jsonl_sink_open(const char *path,
					 struct cg_error *err)
{
	struct jsonl_sink *j = calloc(1, sizeof(*j));
	if (!j) {
		cg_error_set(err, "events: out of memory");
		return NULL;
	}
	j->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (j->fd < 0) {
		cg_error_set(err, "events file %s: %s", path, strerror(errno));
		free(j);
		return NULL;
	}
	j->base.write = jsonl_write;
	j->base.flush = jsonl_flush;
	j->base.close = jsonl_close;
	return &j->base;
}

/* ---- logger thread ---- */

struct cg_eventlog {
	struct cg_event_ring **rings;
	size_t n;
	struct cg_event_ring *own; /* events posted by main */
	struct cg_event_sink *sink;
	unsigned interval_ms;
	pthread_t thread;
	pthread_mutex_t lock; /* only for the stop condition */
	pthread_cond_t cond;
	bool stopping;
	atomic_uint_fast64_t written;
	uint64_t dropped_seen; /* logger thread only */
	pthread_mutex_t post_lock;
};

struct tee_sink {
	struct cg_event_sink base;
	struct cg_event_sink *next;
	void (*fn)(void *ctx, const struct cg_event *e);
	void *ctx;
};

static int tee_write(struct cg_event_sink *s, const struct cg_event *e)
{
	struct tee_sink *t = (struct tee_sink *)s;
	t->fn(t->ctx, e);
	return t->next ? t->next->write(t->next, e) : 0;
}

static int tee_flush(struct cg_event_sink *s)
{
	struct tee_sink *t = (struct tee_sink *)s;
	return t->next ? t->next->flush(t->next) : 0;
}

static void tee_close(struct cg_event_sink *s)
{
	struct tee_sink *t = (struct tee_sink *)s;
	if (t->next)
		t->next->close(t->next);
	free(t);
}

struct cg_event_sink *cg_tee_sink_open(struct cg_event_sink *next,
				       void (*fn)(void *ctx,
						  const struct cg_event *e),
				       void *ctx)
{
	struct tee_sink *t = calloc(1, sizeof(*t));
	if (!t) {
		if (next)
			next->close(next);
		return NULL;
	}
	t->base.write = tee_write;
	t->base.flush = tee_flush;
	t->base.close = tee_close;
	t->next = next;
	t->fn = fn;
	t->ctx = ctx;
	return &t->base;
}

/* Events the rings dropped since the last round become an event
 * themselves: the operator must see that the log has a hole. */
static void note_drops(struct cg_eventlog *log)
{
	uint64_t total = 0;
	for (size_t i = 0; i <= log->n; i++) {
		struct cg_event_ring *r = i < log->n ? log->rings[i] : log->own;
		if (r)
			total += cg_event_ring_dropped(r);
	}
	if (total == log->dropped_seen)
		return;
	struct cg_event e;
	memset(&e, 0, sizeof(e));
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	e.time_ms = (uint64_t)ts.tv_sec * 1000u +
		    (uint64_t)ts.tv_nsec / 1000000u;
	e.type = CG_EV_DROPPED;
	snprintf(e.detail, sizeof(e.detail),
		 "%llu event(s) lost: the log could not keep up",
		 (unsigned long long)(total - log->dropped_seen));
	log->dropped_seen = total;
	if (log->sink->write(log->sink, &e) == 0)
		atomic_fetch_add_explicit(&log->written, 1,
					  memory_order_relaxed);
}

static bool drain(struct cg_eventlog *log)
{
	struct cg_event e;
	bool any = false;
	for (size_t i = 0; i <= log->n; i++) {
		struct cg_event_ring *r = i < log->n ? log->rings[i] : log->own;
		/* Bounded per round so one busy worker cannot starve the
		 * others' rings. */
		for (unsigned k = 0; k < 4096 && cg_event_ring_pop(r, &e);
		     k++) {
			if (log->sink->write(log->sink, &e) == 0)
				atomic_fetch_add_explicit(&log->written, 1,
							  memory_order_relaxed);
			any = true;
		}
	}
	return any;
}

static void *logger_main(void *arg)
{
	struct cg_eventlog *log = arg;
	pthread_mutex_lock(&log->lock);
	while (!log->stopping) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		uint64_t ns = (uint64_t)ts.tv_nsec +
			      (uint64_t)log->interval_ms * 1000000u;
		ts.tv_sec += (time_t)(ns / 1000000000u);
		ts.tv_nsec = (long)(ns % 1000000000u);
		pthread_cond_timedwait(&log->cond, &log->lock, &ts);
		pthread_mutex_unlock(&log->lock);
		while (drain(log))
			;
		note_drops(log);
		log->sink->flush(log->sink);
		pthread_mutex_lock(&log->lock);
	}
	pthread_mutex_unlock(&log->lock);
	while (drain(log))
		;
	log->sink->flush(log->sink);
	return NULL;
}

struct cg_eventlog *cg_eventlog_start(struct cg_event_ring **rings, size_t n,
				      struct cg_event_sink *sink,
				      unsigned interval_ms,
				      struct cg_error *err)
{
	struct cg_eventlog *log = calloc(1, sizeof(*log));
	if (!log) {
		cg_error_set(err, "event log: out of memory");
		return NULL;
	}
	log->rings = calloc(n ? n : 1, sizeof(*rings));
	log->own = cg_event_ring_new(256);
	if (!log->rings || !log->own) {
		free(log->rings);
		cg_event_ring_free(log->own);
		free(log);
		cg_error_set(err, "event log: out of memory");
		return NULL;
	}
	pthread_mutex_init(&log->post_lock, NULL);
	memcpy(log->rings, rings, n * sizeof(*rings));
	log->n = n;
	log->sink = sink;
	log->interval_ms = interval_ms ? interval_ms : 100;
	pthread_mutex_init(&log->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&log->cond, &ca);
	pthread_condattr_destroy(&ca);
	atomic_init(&log->written, 0);
	int rc = pthread_create(&log->thread, NULL, logger_main, log);
	if (rc) {
		cg_error_set(err, "event log thread: %s", strerror(rc));
		pthread_cond_destroy(&log->cond);
		pthread_mutex_destroy(&log->lock);
		free(log->rings);
		cg_event_ring_free(log->own);
		free(log);
		return NULL;
	}
	return log;
}

bool cg_eventlog_post(struct cg_eventlog *log, const struct cg_event *e)
{
	/* Main and the portal's threads post: the ring has one producer
	 * at a time.  Rare events, so a lock costs nothing here. */
	pthread_mutex_lock(&log->post_lock);
	bool ok = cg_event_ring_push(log->own, e);
	pthread_mutex_unlock(&log->post_lock);
	return ok;
}

void cg_eventlog_stop(struct cg_eventlog *log)
{
	if (!log)
		return;
	pthread_mutex_lock(&log->lock);
	log->stopping = true;
	pthread_cond_signal(&log->cond);
	pthread_mutex_unlock(&log->lock);
	pthread_join(log->thread, NULL);
	log->sink->close(log->sink);
	pthread_cond_destroy(&log->cond);
	pthread_mutex_destroy(&log->lock);
	free(log->rings);
	cg_event_ring_free(log->own);
	free(log);
}

uint64_t cg_eventlog_written(const struct cg_eventlog *log)
{
	return atomic_load_explicit(&log->written, memory_order_relaxed);
}
