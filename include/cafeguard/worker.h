/*
 * worker: the pipeline for one queue.  decode -> flow -> classify ->
 * policy -> act, for one packet at a time, whatever the source (nfqueue
 * live, pcap in replay).
 *
 * A worker owns its flow table, classifier, reassembly buffers, injector,
 * event ring and counters; it shares only the rules, read-only.  Nothing
 * on the per-packet path allocates, locks or makes a system call, except
 * the injector's send when a block needs an answer.
 */
#ifndef CAFEGUARD_WORKER_H
#define CAFEGUARD_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cafeguard/act.h"
#include "cafeguard/captive.h"
#include "cafeguard/classify.h"
#include "cafeguard/clock.h"
#include "cafeguard/decode.h"
#include "cafeguard/eventlog.h"
#include "cafeguard/flow.h"
#include "cafeguard/policy.h"
#include "cafeguard/rules.h"
#include "cafeguard/state.h"

/* What the packet source does with a packet (and its connection). */
enum cg_action {
	CG_PASS = 0,    /* accept this packet, keep sending the flow */
	CG_DROP,        /* drop this packet only */
	CG_MARK_ALLOW,  /* accept; kernel carries the connection from now */
	CG_MARK_BLOCK,  /* drop; kernel drops the connection from now */
	CG_MARK_WATCH,  /* accept; kernel sends only client->server packets
			   from now (every request is checked) */
	CG_MARK_METER,  /* accept; kernel carries the connection but sends
			   a heartbeat packet now and then, so a budget
			   counting it can be charged and enforced */
};

/* What the pipeline decides with: the rules and the state built for
 * them, published together (a reload swaps both). */
struct cg_runtime {
	const struct cg_rules *rules;
	struct cg_state *state;
	/* Who accepted the splash page (outlives reloads; NULL: no
	 * splash). */
	const struct cg_captive *captive;
	/* Changes with every swap: a flow's seat index belongs to the rule
	 * set it was found in, and is looked up again in a new one (seats
	 * may have moved, been added or removed). */
	uint32_t generation;
};

/* What the packet source knows beside the packet. */
struct cg_pkt_meta {
	int from_lan;       /* 1: came in on the LAN side (its sender is the
			       client), 0: WAN side, -1: unknown (replay) */
	const uint8_t *mac; /* sender's MAC when known, else NULL */
	bool heartbeat;     /* a metered connection's heartbeat packet */
};

const char *cg_action_str(enum cg_action a);

struct cg_worker_opts {
	uint16_t id;
	uint32_t max_flows;
	uint32_t idle_timeout_ms;
	uint32_t max_packets;    /* give up inspecting after this many */
	uint32_t dpi_flows;
	uint32_t buffers;
	uint32_t meter_interval_ms; /* heartbeat period of metered flows */
	bool fail_open;          /* verdict for packets that cannot be read */
	bool replay;             /* report every decision (cafeguardctl) */
	bool count_allowed;      /* an event per allowed connection, for the
				    store's traffic counts */
	const struct cg_clock *clock; /* shared; NULL: the wall clock */
};

/* One decision or the end of an undecided flow, for replay output and
 * debug logs. */
struct cg_report {
	const struct cg_flow *flow;
	const struct cg_decision *decision; /* NULL: flow ended undecided */
	enum cg_action action;
	enum cg_event_action response;
	const char *host;         /* the name judged, may differ per request */
	const char *app;          /* "TLS.Google" */
	const char *category;
	const char *seat;         /* seat name, NULL if not a seat */
	const char *profile;
	const struct cg_rules *rules;
	uint64_t ts_ms;
};

typedef void (*cg_report_fn)(void *ctx, const struct cg_report *r);

struct cg_worker_stats {
	uint64_t packets;
	uint64_t bytes;
	uint64_t decode[CG_DECODE__COUNT]; /* by status; [0] = decoded ok */
	uint64_t flows_new, flows_expired, flows_evicted;
	uint64_t flows_reused;   /* a new SYN on a flow still held */
	uint64_t allowed, blocked, watched;
	uint64_t dns_queries, dns_blocked;
	uint64_t dns_forced;     /* SafeSearch answers */
	uint64_t dns_canaries;   /* DoH / Private Relay canaries answered */
	uint64_t captive;        /* requests of captive clients refused or
				    sent to the splash page */
	uint64_t http_requests, http_blocked;
	uint64_t gave_up;        /* decided on what was known after max_packets */
	uint64_t metered;        /* flows handed over with a heartbeat */
	uint64_t heartbeats, heartbeats_lost, budget_blocked;
	uint64_t blocked_again;  /* packets of a blocked connection reset */
	uint64_t out_of_order;   /* client segments dropped to keep order */
	uint64_t dpi_exhausted;  /* no classifier state free */
	uint64_t slots_exhausted;/* no reassembly buffer free */
	uint64_t inject_errors;
	uint64_t events_dropped; /* event ring full */
};

struct cg_worker;

/*
 * Creates a worker.  cls, inj and ring are owned by the caller and must
 * outlive the worker; ring may be NULL (no events).  The classifier must
 * have been created with at least opts->dpi_flows states.
 */
struct cg_worker *cg_worker_new(const struct cg_worker_opts *opts,
				struct cg_classifier *cls,
				struct cg_injector *inj,
				struct cg_event_ring *ring,
				struct cg_error *err);
void cg_worker_free(struct cg_worker *w);

/* Reports go to fn (from the worker's thread). */
void cg_worker_set_report(struct cg_worker *w, cg_report_fn fn, void *ctx);

/*
 * Runs one IP packet (l3[0..caplen), wirelen bytes on the wire) through
 * the pipeline under rt; now_ms is a monotonic clock, wall_ms the wall
 * clock (events, schedules, budgets).  Without meta->from_lan (replay)
 * the client is guessed from the handshake and ports.
 */
enum cg_action cg_worker_packet(struct cg_worker *w,
				const struct cg_runtime *rt,
				const uint8_t *l3, size_t caplen,
				size_t wirelen, const struct cg_pkt_meta *meta,
				uint64_t now_ms, uint64_t wall_ms);

/* Expires idle flows and refreshes the local time; call about once a
 * second. */
void cg_worker_tick(struct cg_worker *w, const struct cg_runtime *rt,
		    uint64_t now_ms, uint64_t wall_ms);

/* Decides every flow still open as if no more packets came (end of a
 * replay) and empties the table. */
void cg_worker_finish(struct cg_worker *w, const struct cg_runtime *rt,
		      uint64_t now_ms);

const struct cg_worker_stats *cg_worker_stats(const struct cg_worker *w);
uint32_t cg_worker_flows(const struct cg_worker *w);

#endif
