/*
 * What the portal remembers between requests (portal_internal.h): the
 * recent block events the status page lists, and a request budget per
 * client address.  Both are fixed-size tables: nothing a seat sends makes
 * them grow.
 */
#include <string.h>

#include "portal_internal.h"

void cg_pt_events_init(struct cg_pt_events *ev)
{
	memset(ev, 0, sizeof(*ev));
	pthread_mutex_init(&ev->lock, NULL);
}

void cg_pt_events_destroy(struct cg_pt_events *ev)
{
	pthread_mutex_destroy(&ev->lock);
}

#define COPY(dst, src)                                                         \
	do {                                                                   \
		memcpy((dst), (src), sizeof(dst) - 1);                         \
		(dst)[sizeof(dst) - 1] = '\0';                                 \
	} while (0)

void cg_pt_events_note(struct cg_pt_events *ev, const struct cg_event *e)
{
	if (e->type != CG_EV_BLOCK)
		return;
	struct cg_pt_noted n = {
	    .time_s = (int64_t)(e->time_ms / 1000u),
	    .family = e->family,
	};
	memcpy(n.addr, e->client, sizeof(n.addr));
	/* Field by field, and never entry or file: which list line matched
	 * (or its hash) is the operator's, not a page's. */
	_Static_assert(sizeof(n.seat) == sizeof(e->seat), "seat");
	_Static_assert(sizeof(n.host) == sizeof(e->host), "host");
	_Static_assert(sizeof(n.reason) == sizeof(e->reason), "reason");
	_Static_assert(sizeof(n.category) == sizeof(e->category), "category");
	COPY(n.seat, e->seat);
	COPY(n.host, e->host);
	COPY(n.reason, e->reason);
	COPY(n.category, e->category);
	pthread_mutex_lock(&ev->lock);
	ev->ring[ev->next] = n;
	ev->next = (ev->next + 1) % CG_PT_EVENTS;
	if (ev->count < CG_PT_EVENTS)
		ev->count++;
	pthread_mutex_unlock(&ev->lock);
}

static bool of_client(const struct cg_pt_noted *n, const char *seat,
		      uint8_t family, const uint8_t addr[16])
{
	if (seat)
		return !strcmp(n->seat, seat);
	return n->family == family &&
	       !memcmp(n->addr, addr, family == 4 ? 4 : 16);
}

size_t cg_pt_events_of(struct cg_pt_events *ev, const char *seat,
		       uint8_t family, const uint8_t addr[16], const char *host,
		       struct cg_pt_noted *out, size_t max)
{
	size_t n = 0;
	pthread_mutex_lock(&ev->lock);
	for (uint32_t i = 0; i < ev->count && n < max; i++) {
		const struct cg_pt_noted *e =
		    &ev->ring[(ev->next + CG_PT_EVENTS - 1 - i) % CG_PT_EVENTS];
		if (of_client(e, seat, family, addr) &&
		    (!host || !strcmp(e->host, host)))
			out[n++] = *e;
	}
	pthread_mutex_unlock(&ev->lock);
	return n;
}

void cg_pt_rate_init(struct cg_pt_rate *r, uint32_t per_min)
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->lock, NULL);
	r->per_min = per_min ? per_min : 1;
}

void cg_pt_rate_destroy(struct cg_pt_rate *r)
{
	pthread_mutex_destroy(&r->lock);
}

/* FNV-1a: spreads addresses over the sets; a seat that picks addresses
 * to collide only evicts itself and its neighbours' budgets, which then
 * start full: the table bounds memory, the per-IP connection limit and
 * the time-outs bound the rest. */
static uint32_t set_of(uint8_t family, const uint8_t addr[16])
{
	uint32_t h = 2166136261u ^ family;
	for (int i = 0; i < 16; i++)
		h = (h ^ addr[i]) * 16777619u;
	return h % CG_PT_RATE_SETS;
}

static struct cg_pt_rate_slot *slot_of(struct cg_pt_rate *r, uint8_t family,
				       const uint8_t addr[16], uint64_t now_ms)
{
	struct cg_pt_rate_slot *set = r->slot[set_of(family, addr)], *old = set;
	for (int w = 0; w < CG_PT_RATE_WAYS; w++) {
		if (set[w].family == family && !memcmp(set[w].addr, addr, 16))
			return &set[w];
		if (set[w].last_ms < old->last_ms)
			old = &set[w];
	}
	old->family = family;
	memcpy(old->addr, addr, 16);
	old->tokens = (uint64_t)r->per_min * 60000u;
	old->last_ms = now_ms;
	return old;
}

/*
 * A bucket of a minute's requests, refilled continuously: a request
 * costs 60000 units and a millisecond brings per_min units, so the
 * sums stay in integers.
 */
uint32_t cg_pt_rate_take(struct cg_pt_rate *r, uint8_t family,
			 const uint8_t addr[16], uint64_t now_ms)
{
	uint64_t full = (uint64_t)r->per_min * 60000u, wait_ms = 0;
	pthread_mutex_lock(&r->lock);
	struct cg_pt_rate_slot *s = slot_of(r, family, addr, now_ms);
	if (now_ms > s->last_ms) {
		uint64_t add = (now_ms - s->last_ms) * r->per_min;
		s->tokens = full - s->tokens < add ? full : s->tokens + add;
		s->last_ms = now_ms;
	}
	if (s->tokens >= 60000u)
		s->tokens -= 60000u;
	else
		wait_ms = (60000u - s->tokens + r->per_min - 1) / r->per_min;
	pthread_mutex_unlock(&r->lock);
	return wait_ms ? (uint32_t)((wait_ms + 999) / 1000) : 0;
}
