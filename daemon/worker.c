/*
 * The per-packet pipeline.  Two stages per flow (flow.h): INSPECT until
 * the policy is certain, then either the kernel takes the flow (allow /
 * block connmark) or, for DNS and HTTP, the flow is WATCHed: the kernel
 * carries replies and every client request still comes here.
 */
#include "cafeguard/worker.h"

#include <stdlib.h>
#include <string.h>

#include "worker_internal.h"

const char *cg_action_str(enum cg_action a)
{
	switch (a) {
	case CG_PASS:
		return "pass";
	case CG_DROP:
		return "drop";
	case CG_MARK_ALLOW:
		return "allow";
	case CG_MARK_BLOCK:
		return "block";
	case CG_MARK_WATCH:
		return "watch";
	case CG_MARK_METER:
		return "meter";
	}
	return "?";
}

struct cg_worker *cg_worker_new(const struct cg_worker_opts *opts,
				struct cg_classifier *cls,
				struct cg_injector *inj,
				struct cg_event_ring *ring,
				struct cg_error *err)
{
	struct cg_worker *w = calloc(1, sizeof(*w));
	if (!w) {
		cg_error_set(err, "worker: out of memory");
		return NULL;
	}
	w->o = *opts;
	w->cls = cls;
	w->inj = inj;
	w->ring = ring;
	w->app_dns = cg_classifier_app_id(cls, "DNS");
	w->flows = cg_flow_table_new(opts->max_flows);
	w->quic = cg_quic_ctx_new();
	w->dg = cg_digest_scratch_new();
	w->slots = calloc(opts->buffers ? opts->buffers : 1, sizeof(*w->slots));
	if (!w->flows || !w->quic || !w->slots || !w->dg) {
		cg_error_set(err,
			     "worker %u: cannot allocate %u flows and %u "
			     "buffers",
			     opts->id, opts->max_flows, opts->buffers);
		cg_worker_free(w);
		return NULL;
	}
	for (uint32_t i = 0; i < opts->buffers; i++)
		w->slots[i].next_free =
		    i + 1 < opts->buffers ? &w->slots[i + 1] : NULL;
	w->free_slots = opts->buffers ? &w->slots[0] : NULL;
	return w;
}

void cg_worker_free(struct cg_worker *w)
{
	if (!w)
		return;
	cg_flow_table_free(w->flows);
	cg_quic_ctx_free(w->quic);
	cg_digest_scratch_free(w->dg);
	free(w->slots);
	free(w);
}

void cg_worker_set_report(struct cg_worker *w, cg_report_fn fn, void *ctx)
{
	w->report = fn;
	w->report_ctx = ctx;
}

const struct cg_worker_stats *cg_worker_stats(const struct cg_worker *w)
{
	return &w->st;
}

uint32_t cg_worker_flows(const struct cg_worker *w)
{
	return cg_flow_count(w->flows);
}

/* ---- the two stages ---- */

static enum cg_action decide_flow(struct cg_worker *w, struct cg_flow *f,
				  const struct cg_packet *p, bool final)
{
	/* A name only nDPI saw (e.g. STUN REALM) counts when ours has none
	 * and none of our parsers is still reading one. */
	struct cg_facts fa;
	cg_w_flow_facts(f, final, &fa);
	struct cg_decision d;
	cg_w_decide(w, f, &fa, true, &d);
	if (d.outcome == CG_PENDING)
		return CG_PASS;
	/* What the server said first (a DNS response, a banner) is not
	 * what the client will ask: no allow before the client has
	 * spoken, so its first request is always read. */
	if (d.outcome == CG_ALLOW && f->kind == CG_KIND_UNKNOWN && !final)
		return CG_PASS;
	/* nDPI found DNS where our sniffing did not (an odd port, a
	 * query we could not parse): every later query must still be
	 * read, so the flow is watched, never handed to the kernel. */
	if (d.outcome == CG_ALLOW && w->app_dns > 0 &&
	    (f->app_master == w->app_dns || f->app_proto == w->app_dns) &&
	    f->kind != CG_KIND_DNS && f->kind != CG_KIND_DNS_TCP) {
		f->kind =
		    p->proto == CG_PROTO_UDP ? CG_KIND_DNS : CG_KIND_DNS_TCP;
		f->stream_lost = p->proto == CG_PROTO_TCP && !f->seq_known;
	}
	if (final)
		w->st.gave_up++;
	if (d.outcome == CG_BLOCK)
		return cg_w_block_flow(w, f, p, &d,
				       f->host_len ? f->host : NULL);
	return cg_w_allow_flow(w, f, &d, f->host_len ? f->host : NULL);
}

static void dpi_feed(struct cg_worker *w, struct cg_flow *f,
		     const struct cg_packet *p, bool giveup)
{
	if (!f->dpi)
		return;
	struct cg_dpi_result r;
	if (giveup && !f->app_known)
		cg_classifier_giveup(w->cls, f->dpi, &r);
	else
		cg_classifier_packet(w->cls, f->dpi, p->l3, p->l3_len,
				     w->now_ms, &r);
	if (r.detected) {
		f->app_master = r.master;
		f->app_proto = r.proto;
		f->category = r.category;
		f->app_known = true;
	}
	/* nDPI's name is the fallback when our parsers have none and expect
	 * none (no buffer free, a stream they could not follow, or a
	 * protocol only nDPI reads, such as STUN's REALM). */
	if (r.host_len && !f->host_len && (!f->host_pending || giveup))
		cg_w_set_host(f, r.host, r.host_len, CG_HOST_NDPI);
}

static enum cg_action inspect(struct cg_worker *w, struct cg_flow *f,
			      const struct cg_packet *p, bool from_client)
{
	dpi_feed(w, f, p, false);

	if (from_client && p->proto == CG_PROTO_TCP &&
	    (p->tcp_flags & CG_TCP_SYN) && !(p->tcp_flags & CG_TCP_ACK)) {
		f->next_seq = p->seq + 1;
		f->seq_known = true;
	}

	if (from_client && p->payload_len) {
		/* The first bytes of the stream say what it is; a segment
		 * that arrives before them is held back (dropped; the
		 * client resends) rather than misread. */
		uint32_t ahead = p->seq - f->next_seq;
		if (f->kind == CG_KIND_UNKNOWN && p->proto == CG_PROTO_TCP &&
		    f->seq_known && ahead && ahead < 0x80000000u) {
			w->st.out_of_order++;
			return CG_DROP;
		}
		f->client_payloads++;
		if (f->kind == CG_KIND_UNKNOWN)
			cg_w_classify_kind(w, f, p);
		bool decided = false;
		enum cg_action a = CG_PASS;
		switch (f->kind) {
		case CG_KIND_DNS:
			a = cg_w_dns_query(w, f, p, p->payload, p->payload_len,
					   false, &decided);
			break;
		case CG_KIND_QUIC:
			cg_w_quic_packet(w, f, p);
			break;
		case CG_KIND_TLS:
		case CG_KIND_HTTP:
		case CG_KIND_DNS_TCP: {
			/* Once a ClientHello has given its name, order no
			 * longer matters to us. */
			if (f->kind == CG_KIND_TLS && !f->host_pending)
				break;
			const uint8_t *data;
			size_t len;
			enum take t = cg_w_stream_take(f, p, &data, &len);
			if (t == TAKE_GAP) {
				w->st.out_of_order++;
				return CG_DROP;
			}
			if (t == TAKE_LOST) {
				f->stream_lost = true;
				f->host_pending = false;
			}
			if (!len)
				break;
			if (f->kind == CG_KIND_TLS)
				cg_w_tls_stream(w, f, data, len);
			else if (f->kind == CG_KIND_HTTP)
				a = cg_w_http_stream(w, f, p, data, len,
						     &decided);
			else
				a = cg_w_dns_tcp_stream(w, f, p, data, len,
							&decided);
			break;
		}
		default:
			break;
		}
		if (decided)
			return a;
	}

	bool final = f->packets >= w->o.max_packets;
	if (final)
		dpi_feed(w, f, p, true);
	return decide_flow(w, f, p, final);
}

static enum cg_action meter(struct cg_worker *w, struct cg_flow *f,
			    const struct cg_packet *p);

static enum cg_action watch(struct cg_worker *w, struct cg_flow *f,
			    const struct cg_packet *p, bool from_client)
{
	/* A watched HTTP connection a budget counts (a download from a
	 * game site) or a schedule may block needs no heartbeat: its
	 * client's packets all come here, and the first of each minute
	 * charges it and judges it again.  A DNS socket is not: it serves
	 * lookups, each judged as it comes. */
	if (from_client && (f->charge || f->recheck) &&
	    f->kind == CG_KIND_HTTP &&
	    (uint32_t)(w->now_s / 60) != f->charged_min) {
		enum cg_action a = meter(w, f, p);
		if (a != CG_PASS)
			return a;
	}
	if (!from_client || !p->payload_len)
		return CG_PASS;
	bool decided;
	if (f->kind == CG_KIND_DNS)
		return cg_w_dns_query(w, f, p, p->payload, p->payload_len,
				      false, &decided);
	/* A stream we lost (a capture cut short, a header we could not
	 * parse) is picked up again where a new request starts a
	 * segment, which is where clients start them. */
	if (f->stream_lost && f->kind == CG_KIND_HTTP &&
	    cg_http_looks_like_request(p->payload, p->payload_len)) {
		cg_w_slot_put(w, f);
		cg_http_parser_init(&f->http);
		f->stream_lost = false;
		f->next_seq = p->seq;
	}
	if (f->stream_lost)
		return CG_PASS;
	const uint8_t *data;
	size_t len;
	enum take t = cg_w_stream_take(f, p, &data, &len);
	if (t == TAKE_GAP) {
		w->st.out_of_order++;
		return CG_DROP;
	}
	if (t == TAKE_LOST)
		f->stream_lost = true;
	if (!len)
		return CG_PASS;
	if (f->kind == CG_KIND_HTTP)
		return cg_w_http_stream(w, f, p, data, len, &decided);
	if (f->kind == CG_KIND_DNS_TCP)
		return cg_w_dns_tcp_stream(w, f, p, data, len, &decided);
	return CG_PASS;
}

/* ---- entry points ---- */

/* A flow leaving the table before its decision (idle, evicted, end of a
 * replay): report what the box would have decided on what it had. */
static void report_undecided(struct cg_worker *w, struct cg_flow *f)
{
	/* Requests already judged were reported one by one. */
	if (f->stage != CG_STAGE_INSPECT || !w->report || f->requests)
		return;
	if (f->dpi && !f->app_known) {
		struct cg_dpi_result r;
		cg_classifier_giveup(w->cls, f->dpi, &r);
		f->app_master = r.master;
		f->app_proto = r.proto;
		f->category = r.category;
		f->app_known = true;
		if (r.host_len && !f->host_len)
			cg_w_set_host(f, r.host, r.host_len, CG_HOST_NDPI);
	}
	struct cg_facts fa;
	cg_w_flow_facts(f, true, &fa);
	struct cg_decision d;
	cg_w_decide(w, f, &fa, false, &d);
	cg_w_emit_report(w, f, &d, CG_PASS, CG_ACT_NONE,
			 f->host_len ? f->host : NULL);
}

static void release_cb(void *ctx, struct cg_flow *f, bool evicted)
{
	struct cg_worker *w = ctx;
	if (evicted)
		w->st.flows_evicted++;
	else
		w->st.flows_expired++;
	report_undecided(w, f);
	cg_w_flow_release_resources(w, f);
}

static uint8_t guess_client(const struct cg_packet *p, uint8_t from_side,
			    int from_lan)
{
	if (from_lan >= 0)
		return from_lan ? from_side : (uint8_t)!from_side;
	if (p->proto == CG_PROTO_TCP && (p->tcp_flags & CG_TCP_SYN))
		return (p->tcp_flags & CG_TCP_ACK) ? (uint8_t)!from_side
						   : from_side;
	/* Mid-stream (replay of a trimmed capture, or a flow the table
	 * forgot): servers sit on the lower, well-known port. */
	if (p->sport < p->dport)
		return (uint8_t)!from_side;
	return from_side;
}

/* A metered flow's heartbeat (or a watched one's first packet of a
 * minute): charge this minute, and cut the flow if its budget is used up
 * (or a schedule now blocks it). */
static enum cg_action meter(struct cg_worker *w, struct cg_flow *f,
			    const struct cg_packet *p)
{
	struct cg_facts fa;
	cg_w_facts_of(f, f->host, f->host_len, true, &fa);
	struct cg_decision d;
	cg_w_decide(w, f, &fa, true, &d);
	if (d.outcome != CG_BLOCK)
		return CG_PASS;
	if (d.reason == CG_REASON_BUDGET)
		w->st.budget_blocked++;
	return cg_w_block_flow(w, f, p, &d, f->host_len ? f->host : NULL);
}

/*
 * A packet of a connection already blocked.  The firewall resets most of
 * them itself (the connection's mark), but not those conntrack no longer
 * ties to it: our reset towards the server closed its entry, so what
 * either end still sends is invalid or starts a new entry, and comes
 * here.  Each is answered like the firewall would: a reset to its sender
 * at exactly the sequence it acknowledges, which is what an end whose
 * first reset went stale needs to hear.
 */
static enum cg_action blocked_again(struct cg_worker *w,
				    const struct cg_packet *p)
{
	w->st.blocked_again++;
	if (p->proto == CG_PROTO_TCP && !(p->tcp_flags & CG_TCP_RST) &&
	    (p->tcp_flags & CG_TCP_ACK) &&
	    cg_act_tcp_reset(w->inj, p, true, false) < 0)
		w->st.inject_errors++;
	return CG_MARK_BLOCK;
}

static void seat_refresh(struct cg_flow *f, const struct cg_runtime *rt)
{
	if (f->seat_gen == rt->generation)
		return;
	f->seat = (int16_t)cg_rules_seat(rt->rules, f->has_mac ? f->mac : NULL,
					 f->key.family, f->key.addr[f->client]);
	f->seat_gen = rt->generation;
}

static void enter(struct cg_worker *w, const struct cg_runtime *rt,
		  uint64_t now_ms, uint64_t wall_ms)
{
	w->rt = rt;
	w->now_ms = now_ms;
	w->wall_ms = wall_ms;
	w->now_s = cg_clock_now(w->o.clock, wall_ms);
	if (!w->lt.refreshed_s)
		cg_localtime_refresh(&w->lt, w->now_s);
}

enum cg_action cg_worker_packet(struct cg_worker *w,
				const struct cg_runtime *rt, const uint8_t *l3,
				size_t caplen, size_t wirelen,
				const struct cg_pkt_meta *meta, uint64_t now_ms,
				uint64_t wall_ms)
{
	w->st.packets++;
	w->st.bytes += wirelen;
	enter(w, rt, now_ms, wall_ms);
	int from_lan = meta ? meta->from_lan : -1;

	struct cg_packet p;
	enum cg_decode_status ds = cg_decode_ip(l3, caplen, wirelen, &p);
	w->st.decode[ds]++;
	if (ds == CG_DECODE_OTHER_L4 || ds == CG_DECODE_FRAGMENT)
		return CG_PASS; /* the kernel queues neither; replay does */
	if (ds != CG_DECODE_OK)
		return w->o.fail_open ? CG_PASS : CG_DROP;

	struct cg_flow_key key;
	uint8_t side;
	cg_flow_key_of(&p, &key, &side);
	struct cg_flow *f = cg_flow_lookup(w->flows, &key, now_ms);
	if (meta && meta->heartbeat) {
		w->st.heartbeats++;
		if (!f || f->stage != CG_STAGE_METER) {
			/* Forgotten (table full): it can no longer be
			 * charged; counted so the operator can size the
			 * table. */
			w->st.heartbeats_lost++;
			return CG_PASS;
		}
		seat_refresh(f, rt);
		return meter(w, f, &p);
	}
	/* A new SYN on a flow we still hold is a new connection reusing the
	 * 4-tuple (a client may reuse its port as soon as the server closed
	 * first; conntrack starts a new entry too).  The old state, above
	 * all its sequence numbers, must not judge it.  A retransmitted SYN
	 * of the same connection carries the same sequence number. */
	if (f && p.proto == CG_PROTO_TCP &&
	    (p.tcp_flags & (CG_TCP_SYN | CG_TCP_ACK)) == CG_TCP_SYN &&
	    (f->stage != CG_STAGE_INSPECT || f->client_payloads ||
	     !f->seq_known || f->next_seq != p.seq + 1)) {
		w->st.flows_reused++;
		cg_w_flow_release_resources(w, f);
		cg_flow_remove(w->flows, f);
		f = NULL;
	}
	if (!f) {
		/* A reset or a bare FIN starts nothing worth inspecting. */
		if (p.proto == CG_PROTO_TCP &&
		    (p.tcp_flags & (CG_TCP_RST | CG_TCP_FIN)) && !p.payload_len)
			return CG_PASS;
		f = cg_flow_insert(w->flows, &key, now_ms, release_cb, w);
		w->st.flows_new++;
		f->client = guess_client(&p, side, from_lan);
		/* The sender's MAC names the seat only when the sender is
		 * the client on the LAN (a WAN packet carries the router's
		 * MAC). */
		if (meta && meta->mac && side == f->client && from_lan != 0) {
			memcpy(f->mac, meta->mac, 6);
			f->has_mac = true;
		}
		f->seat_gen = rt->generation - 1;
		f->dpi = cg_classifier_flow_get(w->cls);
		if (!f->dpi) {
			w->st.dpi_exhausted++;
			f->app_known = true; /* nobody will tell us more */
		}
	}
	seat_refresh(f, rt);
	f->packets++;
	bool from_client = side == f->client;
	if (f->stage == CG_STAGE_BLOCKED)
		return blocked_again(w, &p);
	if (f->stage == CG_STAGE_METER)
		return CG_PASS; /* in flight before the mark took effect */
	if (f->stage == CG_STAGE_WATCH)
		return watch(w, f, &p, from_client);
	return inspect(w, f, &p, from_client);
}

void cg_worker_tick(struct cg_worker *w, const struct cg_runtime *rt,
		    uint64_t now_ms, uint64_t wall_ms)
{
	enter(w, rt, now_ms, wall_ms);
	cg_localtime_refresh(&w->lt, w->now_s);
	/* A metered flow is kept alive by its heartbeats; it must not
	 * expire between two of them. */
	uint64_t idle = w->o.idle_timeout_ms;
	if (idle < 2 * (uint64_t)w->o.meter_interval_ms + 5000)
		idle = 2 * (uint64_t)w->o.meter_interval_ms + 5000;
	cg_flow_expire(w->flows, now_ms, idle, release_cb, w);
}

static void finish_cb(void *ctx, struct cg_flow *f, bool evicted)
{
	struct cg_worker *w = ctx;
	(void)evicted;
	report_undecided(w, f);
	cg_w_flow_release_resources(w, f);
}

void cg_worker_finish(struct cg_worker *w, const struct cg_runtime *rt,
		      uint64_t now_ms)
{
	enter(w, rt, now_ms, w->wall_ms);
	cg_flow_flush(w->flows, finish_cb, w);
}
