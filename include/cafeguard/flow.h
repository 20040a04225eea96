/*
 * flow: one worker's table of flows it is still looking at.
 *
 * A flow lives here only until its decision is handed to the kernel (the
 * connmark then carries it at kernel speed), or, for flows whose every
 * request must be read (DNS, HTTP), while it is watched.  Memory is
 * bounded: all entries are allocated at creation; when the table is full
 * the least recently used flow is evicted.  Not thread-safe: each worker
 * owns its table, so the per-packet path takes no lock and never
 * allocates.
 */
#ifndef CAFEGUARD_FLOW_H
#define CAFEGUARD_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cafeguard/decode.h"
#include "cafeguard/hostinfo_http.h"
#include "cafeguard/name.h"

/* Direction-independent 5-tuple: side 0 is the smaller (address, port). */
struct cg_flow_key {
	uint8_t addr[2][16];
	uint16_t port[2];
	uint8_t family;
	uint8_t proto;
};

/* What the gateway reads on the client->server stream of a flow. */
enum cg_flow_kind {
	CG_KIND_UNKNOWN = 0, /* no client payload yet */
	CG_KIND_DNS,         /* DNS over UDP, any port */
	CG_KIND_DNS_TCP,     /* DNS over TCP */
	CG_KIND_TLS,
	CG_KIND_QUIC,
	CG_KIND_HTTP,
	CG_KIND_OTHER,       /* nDPI only */
};

const char *cg_flow_kind_str(enum cg_flow_kind k);

enum cg_flow_stage {
	CG_STAGE_INSPECT = 0, /* undecided: nDPI and our parsers run */
	CG_STAGE_WATCH,       /* allowed, but every request is checked */
	CG_STAGE_METER,       /* allowed, a budget counts it: the kernel
				 carries it and sends heartbeats */
	CG_STAGE_BLOCKED,     /* blocked: kept only to reset what still
				 comes (see cg_worker_packet) */
};

/* Where the flow's host name came from. */
enum cg_host_src {
	CG_HOST_NONE = 0,
	CG_HOST_DNS,
	CG_HOST_TLS_SNI,
	CG_HOST_QUIC_SNI,
	CG_HOST_HTTP,
	CG_HOST_NDPI, /* a name only nDPI saw (e.g. STUN realm) */
};

const char *cg_host_src_str(enum cg_host_src s);

struct cg_dpi_flow;
struct cg_slot;

#define CG_FLOW_NONE UINT32_MAX

struct cg_flow {
	struct cg_flow_key key;
	uint32_t hash;
	uint32_t chain;               /* next in bucket, or CG_FLOW_NONE */
	uint32_t lru_prev, lru_next;  /* most recent first */
	uint8_t client;               /* key side of the client (0/1) */
	uint8_t kind;                 /* enum cg_flow_kind */
	uint8_t stage;                /* enum cg_flow_stage */
	uint8_t host_src;             /* enum cg_host_src */
	bool in_use;
	bool host_pending;            /* a parser still expects a name */
	bool app_known;               /* nDPI detected or gave up */
	bool stream_lost;             /* client stream lost sync */
	bool seq_known;
	uint32_t next_seq;            /* next client->server TCP byte */
	uint32_t stream_len;          /* bytes held in slot (TLS, DNS/TCP) */
	uint64_t first_ms, last_ms;
	uint32_t packets;
	uint32_t client_payloads;     /* client packets with payload */
	uint32_t requests;            /* DNS queries / HTTP requests checked */
	uint16_t app_master, app_proto, category;
	int16_t seat;                 /* rules seat index, -1: not a seat */
	bool has_mac;
	uint8_t mac[6];               /* the client's, when seen on the LAN */
	uint32_t seat_gen;            /* runtime generation of seat */
	uint16_t profile;             /* profile of the last decision */
	uint32_t charge;              /* budgets of that profile it counts
					 against (bit = budget index) */
	uint32_t charged_min;         /* the minute (UTC s / 60) last
					 charged or judged again */
	bool recheck;                 /* allowed, but a schedule may block
					 it later */
	uint8_t host_len;
	char host[CG_NAME_BUF];
	struct cg_dpi_flow *dpi;      /* classifier state, NULL once done */
	struct cg_slot *slot;         /* reassembly buffer, NULL if none */
	struct cg_http_parser http;
};

struct cg_flow_table;

/* Sizes the table for max_flows entries (rounded up); allocates it all.
 * Returns NULL on allocation failure. */
struct cg_flow_table *cg_flow_table_new(uint32_t max_flows);
void cg_flow_table_free(struct cg_flow_table *t);

/* Builds the key of a decoded packet; *from_side gets the key side the
 * packet was sent from. */
void cg_flow_key_of(const struct cg_packet *p, struct cg_flow_key *k,
		    uint8_t *from_side);

/* Finds the flow of key k, or NULL. Marks it most recently used. */
struct cg_flow *cg_flow_lookup(struct cg_flow_table *t,
			       const struct cg_flow_key *k, uint64_t now_ms);

/* Called for a flow about to leave the table (expired or evicted), so
 * its owner can release what it holds and report it. */
typedef void (*cg_flow_release_fn)(void *ctx, struct cg_flow *f,
				   bool evicted);

/*
 * Inserts a new zeroed flow for k (which must not be present).  When the
 * table is full the least recently used flow is released (release fn with
 * evicted = true) and reused.  Never fails.
 */
struct cg_flow *cg_flow_insert(struct cg_flow_table *t,
			       const struct cg_flow_key *k, uint64_t now_ms,
			       cg_flow_release_fn release, void *ctx);

/* Removes f from the table (the caller has released what it holds). */
void cg_flow_remove(struct cg_flow_table *t, struct cg_flow *f);

/* Releases and removes every flow idle since before now_ms - idle_ms;
 * returns how many.  Cost is proportional to the flows expired. */
unsigned cg_flow_expire(struct cg_flow_table *t, uint64_t now_ms,
			uint64_t idle_ms, cg_flow_release_fn release,
			void *ctx);

/* Releases and removes every flow (shutdown, end of a replay). */
void cg_flow_flush(struct cg_flow_table *t, cg_flow_release_fn release,
		   void *ctx);

uint32_t cg_flow_count(const struct cg_flow_table *t);
uint32_t cg_flow_capacity(const struct cg_flow_table *t);

#endif
