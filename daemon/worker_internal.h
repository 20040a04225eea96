/*
 * Private to the worker module: its state and the helpers its parts use.
 * worker.c is the pipeline (flows, stages); worker_requests.c reads the
 * requests of each kind of stream (DNS, HTTP, TLS, QUIC); both hand what
 * they learn to worker_verdict.c, which decides and acts.  Nothing outside the module includes
 * this file; the public contract is include/cafeguard/worker.h.
 */
#ifndef CAFEGUARD_WORKER_INTERNAL_H
#define CAFEGUARD_WORKER_INTERNAL_H

#include "cafeguard/hostinfo_dns.h"
#include "cafeguard/hostinfo_http.h"
#include "cafeguard/hostinfo_quic.h"
#include "cafeguard/hostinfo_tls.h"
#include "cafeguard/worker.h"

/* A reassembly buffer: a TLS ClientHello, DNS-over-TCP messages, an HTTP
 * header that spans segments, or QUIC CRYPTO data. */
#define CG_SLOT_BYTES 8192
_Static_assert(CG_SLOT_BYTES >= CG_HTTP_HEADER_MAX, "slot too small");
_Static_assert(CG_SLOT_BYTES >= CG_QUIC_CRYPTO_MAX, "slot too small");

struct cg_slot {
	struct cg_slot *next_free;
	struct cg_quic_assembly qa;
	uint8_t buf[CG_SLOT_BYTES];
};

struct cg_worker {
	struct cg_worker_opts o;
	struct cg_flow_table *flows;
	struct cg_classifier *cls;
	struct cg_injector *inj;
	struct cg_event_ring *ring;
	struct cg_quic_ctx *quic;
	struct cg_slot *slots, *free_slots;
	cg_report_fn report;
	void *report_ctx;
	int app_dns; /* nDPI's id for DNS, to watch DNS on any port */
	/* For the packet being processed: */
	const struct cg_runtime *rt;
	uint64_t now_ms, wall_ms;
	int64_t now_s;                /* the policy's clock (UTC) */
	struct cg_localtime lt;       /* this thread's time-zone cache */
	struct cg_digest_scratch *dg; /* digests for hashed lists */
	struct cg_worker_stats st;
	uint8_t scratch[16384]; /* TLS records joined */
	uint8_t answer[1500];	/* DNS answers we build */
};

/* ---- worker.c ---- */

/* A reassembly buffer for f (the one it holds, or a free one; NULL and
 * counted when none is free). */
struct cg_slot *cg_w_slot_get(struct cg_worker *w, struct cg_flow *f);
void cg_w_slot_put(struct cg_worker *w, struct cg_flow *f);
void cg_w_flow_release_resources(struct cg_worker *w, struct cg_flow *f);

void cg_w_emit_report(struct cg_worker *w, const struct cg_flow *f,
		      const struct cg_decision *d, enum cg_action a,
		      enum cg_event_action resp, const char *host);
void cg_w_emit_block_event(struct cg_worker *w, const struct cg_flow *f,
			   const struct cg_decision *d,
			   enum cg_event_action resp, const char *host);

void cg_w_facts_of(const struct cg_flow *f, const char *host, size_t host_len,
		   bool final, struct cg_facts *fa);
/* The same for the flow's own name (or, with final, whatever is known). */
void cg_w_flow_facts(const struct cg_flow *f, bool final, struct cg_facts *fa);

/* The policy's decision for f on facts fa: who the client is now (seat,
 * session, default), the local time, the budgets used today.  With
 * charge, an allow charges the current minute to the budgets that count
 * the flow. */
void cg_w_decide(struct cg_worker *w, struct cg_flow *f,
		 const struct cg_facts *fa, bool charge,
		 struct cg_decision *d);

/* Cut the connection (resets for TCP); the flow is removed. */
enum cg_action cg_w_block_flow(struct cg_worker *w, struct cg_flow *f,
			       const struct cg_packet *p,
			       const struct cg_decision *d, const char *host);
/* Answer an HTTP request with a redirect to the portal's block page (or
 * the splash page for a captive client) and cut the connection; a plain
 * block when there is no portal.  path: the request's target. */
enum cg_action cg_w_redirect_flow(struct cg_worker *w, struct cg_flow *f,
				  const struct cg_packet *p,
				  const struct cg_decision *d,
				  const char *host, const char *path);
/* Hand the flow to the kernel, or watch it (DNS, HTTP); host is the name
 * the decision judged. */
enum cg_action cg_w_allow_flow(struct cg_worker *w, struct cg_flow *f,
			       const struct cg_decision *d, const char *host);

/* ---- worker_requests.c ---- */

enum take { TAKE_OK, TAKE_GAP, TAKE_LOST };

/* The bytes of p that continue the client stream in order. */
enum take cg_w_stream_take(struct cg_flow *f, const struct cg_packet *p,
			   const uint8_t **data, size_t *len);
void cg_w_set_host(struct cg_flow *f, const char *h, size_t len,
		   enum cg_host_src src);
/* What kind of stream the first client payload starts. */
void cg_w_classify_kind(struct cg_worker *w, struct cg_flow *f,
			const struct cg_packet *p);

/* Each judges every request it completes; *decided tells whether the
 * returned action is a decision (else the flow-level policy decides). */
enum cg_action cg_w_dns_query(struct cg_worker *w, struct cg_flow *f,
			      const struct cg_packet *p, const uint8_t *msg,
			      size_t len, bool tcp, bool *decided);
enum cg_action cg_w_dns_tcp_stream(struct cg_worker *w, struct cg_flow *f,
				   const struct cg_packet *p,
				   const uint8_t *data, size_t len,
				   bool *decided);
enum cg_action cg_w_http_stream(struct cg_worker *w, struct cg_flow *f,
				const struct cg_packet *p, const uint8_t *data,
				size_t len, bool *decided);
/* These only gather the name; the flow-level policy decides. */
void cg_w_tls_stream(struct cg_worker *w, struct cg_flow *f,
		     const uint8_t *data, size_t len);
void cg_w_quic_packet(struct cg_worker *w, struct cg_flow *f,
		      const struct cg_packet *p);

#endif
