#include "cafeguard/flow.h"

#include <stdlib.h>
#include <string.h>

struct cg_flow_table {
	struct cg_flow *flows;   /* capacity entries, allocated once */
	uint32_t *buckets;       /* nbuckets heads, CG_FLOW_NONE if empty */
	uint32_t nbuckets;       /* power of two >= capacity */
	uint32_t capacity;
	uint32_t count;
	uint32_t free_head;      /* free list through .chain */
	uint32_t lru_head, lru_tail;
	uint64_t seed;
};

const char *cg_flow_kind_str(enum cg_flow_kind k)
{
	switch (k) {
	case CG_KIND_UNKNOWN:
		return "unknown";
	case CG_KIND_DNS:
		return "dns";
	case CG_KIND_DNS_TCP:
		return "dns-tcp";
	case CG_KIND_TLS:
		return "tls";
	case CG_KIND_QUIC:
		return "quic";
	case CG_KIND_HTTP:
		return "http";
	case CG_KIND_OTHER:
		return "other";
	}
	return "?";
}

const char *cg_host_src_str(enum cg_host_src s)
{
	switch (s) {
	case CG_HOST_NONE:
		return "none";
	case CG_HOST_DNS:
		return "dns";
	case CG_HOST_TLS_SNI:
		return "sni";
	case CG_HOST_QUIC_SNI:
		return "quic-sni";
	case CG_HOST_HTTP:
		return "http";
	case CG_HOST_NDPI:
		return "ndpi";
	}
	return "?";
}

struct cg_flow_table *cg_flow_table_new(uint32_t max_flows)
{
	if (max_flows < 16)
		max_flows = 16;
	if (max_flows > (1u << 24))
		max_flows = 1u << 24;
	uint32_t nb = 16;
	while (nb < max_flows)
		nb <<= 1;

	struct cg_flow_table *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->flows = calloc(max_flows, sizeof(*t->flows));
	t->buckets = malloc(nb * sizeof(*t->buckets));
	if (!t->flows || !t->buckets) {
		cg_flow_table_free(t);
		return NULL;
	}
	t->capacity = max_flows;
	t->nbuckets = nb;
	for (uint32_t i = 0; i < nb; i++)
		t->buckets[i] = CG_FLOW_NONE;
	for (uint32_t i = 0; i < max_flows; i++)
		t->flows[i].chain = i + 1 < max_flows ? i + 1 : CG_FLOW_NONE;
	t->free_head = 0;
	t->lru_head = t->lru_tail = CG_FLOW_NONE;
	/* The seed only spreads buckets; it need not be secret because the
	 * table is bounded and evicts, so a crafted collision chain costs
	 * an attacker as much as it costs us. */
	t->seed = 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)t;
	return t;
}

void cg_flow_table_free(struct cg_flow_table *t)
{
	if (!t)
		return;
	free(t->flows);
	free(t->buckets);
	free(t);
}

static int side_cmp(const uint8_t *a, uint16_t pa, const uint8_t *b,
		    uint16_t pb)
{
	int c = memcmp(a, b, 16);
	if (c)
		return c;
	return (int)pa - (int)pb;
}

void cg_flow_key_of(const struct cg_packet *p, struct cg_flow_key *k,
		    uint8_t *from_side)
{
	memset(k, 0, sizeof(*k));
	k->family = p->family;
	k->proto = p->proto;
	if (side_cmp(p->src, p->sport, p->dst, p->dport) <= 0) {
		memcpy(k->addr[0], p->src, 16);
		memcpy(k->addr[1], p->dst, 16);
		k->port[0] = p->sport;
		k->port[1] = p->dport;
		*from_side = 0;
	} else {
		memcpy(k->addr[0], p->dst, 16);
		memcpy(k->addr[1], p->src, 16);
		k->port[0] = p->dport;
		k->port[1] = p->sport;
		*from_side = 1;
	}
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

static uint32_t key_hash(const struct cg_flow_table *t,
			 const struct cg_flow_key *k)
{
	uint64_t h = t->seed, w;
	for (int s = 0; s < 2; s++) {
		memcpy(&w, k->addr[s], 8);
		h = mix(h, w);
		memcpy(&w, k->addr[s] + 8, 8);
		h = mix(h, w);
	}
	h = mix(h, (uint64_t)k->port[0] << 32 | (uint64_t)k->port[1] << 16 |
			   (uint64_t)k->family << 8 | k->proto);
	return (uint32_t)(h ^ (h >> 32));
}

static bool key_eq(const struct cg_flow_key *a, const struct cg_flow_key *b)
{
	return a->port[0] == b->port[0] && a->port[1] == b->port[1] &&
	       a->proto == b->proto && a->family == b->family &&
	       !memcmp(a->addr, b->addr, sizeof(a->addr));
}

static uint32_t idx_of(const struct cg_flow_table *t, const struct cg_flow *f)
{
	return (uint32_t)(f - t->flows);
}

static void lru_unlink(struct cg_flow_table *t, struct cg_flow *f)
{
	if (f->lru_prev != CG_FLOW_NONE)
		t->flows[f->lru_prev].lru_next = f->lru_next;
	else
		t->lru_head = f->lru_next;
	if (f->lru_next != CG_FLOW_NONE)
		t->flows[f->lru_next].lru_prev = f->lru_prev;
	else
		t->lru_tail = f->lru_prev;
	f->lru_prev = f->lru_next = CG_FLOW_NONE;
}

static void lru_push_front(struct cg_flow_table *t, struct cg_flow *f)
{
	uint32_t i = idx_of(t, f);
	f->lru_prev = CG_FLOW_NONE;
	f->lru_next = t->lru_head;
	if (t->lru_head != CG_FLOW_NONE)
		t->flows[t->lru_head].lru_prev = i;
	t->lru_head = i;
	if (t->lru_tail == CG_FLOW_NONE)
		t->lru_tail = i;
}

struct cg_flow *cg_flow_lookup(struct cg_flow_table *t,
			       const struct cg_flow_key *k, uint64_t now_ms)
{
	uint32_t h = key_hash(t, k);
	for (uint32_t i = t->buckets[h & (t->nbuckets - 1)]; i != CG_FLOW_NONE;
	     i = t->flows[i].chain) {
		struct cg_flow *f = &t->flows[i];
		if (f->hash == h && key_eq(&f->key, k)) {
			f->last_ms = now_ms;
			if (t->lru_head != i) {
				lru_unlink(t, f);
				lru_push_front(t, f);
			}
			return f;
		}
	}
	return NULL;
}

void cg_flow_remove(struct cg_flow_table *t, struct cg_flow *f)
{
	uint32_t i = idx_of(t, f);
	uint32_t *pp = &t->buckets[f->hash & (t->nbuckets - 1)];
	while (*pp != CG_FLOW_NONE && *pp != i)
		pp = &t->flows[*pp].chain;
	if (*pp == i)
		*pp = f->chain;
	lru_unlink(t, f);
	f->in_use = false;
	f->chain = t->free_head;
	t->free_head = i;
	t->count--;
}

struct cg_flow *cg_flow_insert(struct cg_flow_table *t,
			       const struct cg_flow_key *k, uint64_t now_ms,
			       cg_flow_release_fn release, void *ctx)
{
	if (t->free_head == CG_FLOW_NONE) {
		struct cg_flow *old = &t->flows[t->lru_tail];
		if (release)
			release(ctx, old, true);
		cg_flow_remove(t, old);
	}
	uint32_t i = t->free_head;
	struct cg_flow *f = &t->flows[i];
	t->free_head = f->chain;

	memset(f, 0, sizeof(*f));
	f->key = *k;
	f->hash = key_hash(t, k);
	f->in_use = true;
	f->first_ms = f->last_ms = now_ms;
	uint32_t *head = &t->buckets[f->hash & (t->nbuckets - 1)];
	f->chain = *head;
	*head = i;
	f->lru_prev = f->lru_next = CG_FLOW_NONE;
	lru_push_front(t, f);
	t->count++;
	return f;
}

unsigned cg_flow_expire(struct cg_flow_table *t, uint64_t now_ms,
			uint64_t idle_ms, cg_flow_release_fn release,
			void *ctx)
{
	unsigned n = 0;
	/* The LRU tail is the flow idle longest: stop at the first one
	 * that is still fresh. */
	while (t->lru_tail != CG_FLOW_NONE) {
		struct cg_flow *f = &t->flows[t->lru_tail];
		if (f->last_ms + idle_ms > now_ms)
			break;
		if (release)
			release(ctx, f, false);
		cg_flow_remove(t, f);
		n++;
	}
	return n;
}

void cg_flow_flush(struct cg_flow_table *t, cg_flow_release_fn release,
		   void *ctx)
{
	/* Oldest first, so reports come out in the order flows began to
	 * go quiet, which for a replay is close to capture order. */
	while (t->lru_tail != CG_FLOW_NONE) {
		struct cg_flow *f = &t->flows[t->lru_tail];
		if (release)
			release(ctx, f, false);
		cg_flow_remove(t, f);
	}
}

uint32_t cg_flow_count(const struct cg_flow_table *t)
{
	return t->count;
}

uint32_t cg_flow_capacity(const struct cg_flow_table *t)
{
	return t->capacity;
}
