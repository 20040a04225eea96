/*
 * The per-packet pipeline.  Two stages per flow (flow.h): INSPECT until
 * the policy is certain, then either the kernel takes the flow (allow /
 * block connmark) or, for DNS and HTTP, the flow is WATCHed: the kernel
 * carries replies and every client request still comes here.
 */
#include "cafeguard/worker.h"

#include <stdlib.h>
#include <string.h>

#include "cafeguard/hostinfo_dns.h"
#include "cafeguard/hostinfo_http.h"
#include "cafeguard/hostinfo_quic.h"
#include "cafeguard/hostinfo_tls.h"

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
	const struct cg_rules *rules; /* for the packet being processed */
	uint64_t now_ms, wall_ms;
	struct cg_worker_stats st;
	uint8_t scratch[16384]; /* TLS records joined */
	uint8_t answer[1500];   /* DNS answers we build */
};

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
	w->slots = calloc(opts->buffers ? opts->buffers : 1, sizeof(*w->slots));
	if (!w->flows || !w->quic || !w->slots) {
		cg_error_set(err, "worker %u: cannot allocate %u flows and %u "
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

/* ---- resources held by a flow ---- */

static struct cg_slot *slot_get(struct cg_worker *w, struct cg_flow *f)
{
	if (f->slot)
		return f->slot;
	struct cg_slot *s = w->free_slots;
	if (!s) {
		w->st.slots_exhausted++;
		return NULL;
	}
	w->free_slots = s->next_free;
	s->next_free = NULL;
	f->slot = s;
	f->stream_len = 0;
	return s;
}

static void slot_put(struct cg_worker *w, struct cg_flow *f)
{
	if (!f->slot)
		return;
	if (f->http.hbuf == f->slot->buf)
		f->http.hbuf = NULL;
	f->slot->next_free = w->free_slots;
	w->free_slots = f->slot;
	f->slot = NULL;
	f->stream_len = 0;
}

static void dpi_put(struct cg_worker *w, struct cg_flow *f)
{
	if (f->dpi) {
		cg_classifier_flow_put(w->cls, f->dpi);
		f->dpi = NULL;
	}
}

static void flow_release_resources(struct cg_worker *w, struct cg_flow *f)
{
	dpi_put(w, f);
	slot_put(w, f);
}

/* ---- reports and events ---- */

static void app_label(const struct cg_worker *w, const struct cg_flow *f,
		      char *out, size_t outsz)
{
	cg_classifier_label(w->cls, f->app_master, f->app_proto, out, outsz);
}

static void emit_report(struct cg_worker *w, const struct cg_flow *f,
			const struct cg_decision *d, enum cg_action a,
			enum cg_event_action resp, const char *host)
{
	if (!w->report)
		return;
	char app[64];
	app_label(w, f, app, sizeof(app));
	struct cg_report r = {
		.flow = f,
		.decision = d,
		.action = a,
		.response = resp,
		.host = host,
		.app = app,
		.category = cg_classifier_category_name(w->cls, f->category),
		.ts_ms = w->now_ms,
	};
	w->report(w->report_ctx, &r);
}

static void emit_block_event(struct cg_worker *w, const struct cg_flow *f,
			     const struct cg_decision *d,
			     enum cg_event_action resp, const char *host)
{
	if (!w->ring)
		return;
	struct cg_event e;
	memset(&e, 0, sizeof(e));
	e.time_ms = w->wall_ms;
	e.type = CG_EV_BLOCK;
	e.action = (uint8_t)resp;
	e.family = f->key.family;
	e.proto = f->key.proto;
	memcpy(e.client, f->key.addr[f->client], 16);
	memcpy(e.server, f->key.addr[!f->client], 16);
	e.client_port = f->key.port[f->client];
	e.server_port = f->key.port[!f->client];
	e.worker = w->o.id;
	if (host)
		snprintf(e.host, sizeof(e.host), "%s", host);
	app_label(w, f, e.app, sizeof(e.app));
	snprintf(e.reason, sizeof(e.reason), "%s", cg_reason_str(d->reason));
	if (d->reason == CG_REASON_LIST) {
		snprintf(e.list, sizeof(e.list), "%s", d->list->name);
		if (host)
			snprintf(e.entry, sizeof(e.entry), "%s",
				 host + d->suffix);
		if (d->source < d->list->nfiles)
			snprintf(e.file, sizeof(e.file), "%s",
				 d->list->files[d->source]);
		e.line = d->line;
	} else if (d->reason == CG_REASON_APP) {
		snprintf(e.list, sizeof(e.list), "%s",
			 cg_classifier_app_name(w->cls, d->app));
	}
	if (!cg_event_ring_push(w->ring, &e))
		w->st.events_dropped++;
}

/* ---- decisions ---- */

static void facts_of(const struct cg_flow *f, const char *host,
		     size_t host_len, bool final, struct cg_facts *fa)
{
	memset(fa, 0, sizeof(*fa));
	fa->host = host_len ? host : NULL;
	fa->host_len = host_len;
	fa->host_pending = f->host_pending;
	fa->app_master = f->app_master;
	fa->app_proto = f->app_proto;
	fa->app_known = f->app_known;
	fa->final = final;
}

/* The facts for a decision about the whole flow.  A DNS flow's names
 * are judged query by query (dns_query); at flow level only the
 * application counts, or one blocked query would cut every later query
 * on the same socket. */
static void flow_facts(const struct cg_flow *f, bool final,
		       struct cg_facts *fa)
{
	bool dns = f->kind == CG_KIND_DNS || f->kind == CG_KIND_DNS_TCP;
	facts_of(f, f->host, dns ? 0 : f->host_len, final, fa);
	if (dns)
		fa->host_pending = false;
}

static bool watches_requests(const struct cg_flow *f)
{
	return (f->kind == CG_KIND_DNS || f->kind == CG_KIND_DNS_TCP ||
		f->kind == CG_KIND_HTTP) &&
	       !f->stream_lost;
}

/* Blocks the whole connection: resets for TCP (so the client fails at
 * once instead of waiting for a timeout), silence for UDP. */
static enum cg_action block_flow(struct cg_worker *w, struct cg_flow *f,
				 const struct cg_packet *p,
				 const struct cg_decision *d, const char *host)
{
	enum cg_event_action resp = CG_ACT_DROP;
	if (p->proto == CG_PROTO_TCP && !(p->tcp_flags & CG_TCP_RST)) {
		resp = CG_ACT_RESET;
		if (cg_act_tcp_reset(w->inj, p, true, true) < 0)
			w->st.inject_errors++;
	}
	w->st.blocked++;
	emit_block_event(w, f, d, resp, host);
	emit_report(w, f, d, CG_MARK_BLOCK, resp, host);
	flow_release_resources(w, f);
	cg_flow_remove(w->flows, f);
	return CG_MARK_BLOCK;
}

/* host: the name the decision judged (a query or request may differ
 * from the flow's first name). */
static enum cg_action allow_flow(struct cg_worker *w, struct cg_flow *f,
				 const struct cg_decision *d, const char *host)
{
	if (watches_requests(f)) {
		/* The kernel now carries the replies; nDPI has said what it
		 * had to say, so its state goes back to the pool. */
		bool first = f->stage != CG_STAGE_WATCH;
		f->stage = CG_STAGE_WATCH;
		dpi_put(w, f);
		bool keep = (f->kind == CG_KIND_HTTP &&
			     cg_http_parser_holds_buffer(&f->http)) ||
			    (f->kind == CG_KIND_DNS_TCP && f->stream_len);
		if (!keep)
			slot_put(w, f);
		w->st.watched += first;
		emit_report(w, f, d, first ? CG_MARK_WATCH : CG_PASS,
			    CG_ACT_NONE, host);
		return first ? CG_MARK_WATCH : CG_PASS;
	}
	w->st.allowed++;
	emit_report(w, f, d, CG_MARK_ALLOW, CG_ACT_NONE, host);
	flow_release_resources(w, f);
	cg_flow_remove(w->flows, f);
	return CG_MARK_ALLOW;
}

/* ---- TCP client stream, in order ---- */

enum take { TAKE_OK, TAKE_GAP, TAKE_LOST };

/*
 * The bytes of p that continue the client stream.  Retransmitted bytes
 * are skipped; a segment beyond a gap is reported so the caller drops it
 * and the client resends in order (an inline box may normalise order; the
 * alternative, buffering out-of-order data, costs memory per flow).
 */
static enum take stream_take(struct cg_flow *f, const struct cg_packet *p,
			     const uint8_t **data, size_t *len)
{
	*data = p->payload;
	*len = 0;
	if (!f->seq_known) {
		f->next_seq = p->seq;
		f->seq_known = true;
	}
	uint32_t ahead = p->seq - f->next_seq;
	if (ahead && ahead < 0x80000000u)
		return TAKE_GAP;
	uint32_t behind = f->next_seq - p->seq;
	if (behind >= p->payload_wire)
		return TAKE_OK; /* all retransmitted */
	if (behind > p->payload_len)
		return TAKE_LOST;
	*data = p->payload + behind;
	*len = p->payload_len - behind;
	f->next_seq = p->seq + (uint32_t)p->payload_wire;
	/* A capture cut short (copy range) leaves a hole we cannot fill. */
	return p->payload_len < p->payload_wire ? TAKE_LOST : TAKE_OK;
}

static bool stream_append(struct cg_flow *f, const uint8_t *d, size_t n)
{
	if (!f->slot || f->stream_len + n > sizeof(f->slot->buf))
		return false;
	memcpy(f->slot->buf + f->stream_len, d, n);
	f->stream_len += (uint32_t)n;
	return true;
}

static void set_host(struct cg_flow *f, const char *h, size_t len,
		     enum cg_host_src src)
{
	if (len >= sizeof(f->host))
		return;
	memcpy(f->host, h, len);
	f->host[len] = '\0';
	f->host_len = (uint8_t)len;
	f->host_src = (uint8_t)src;
}

/* ---- DNS ---- */

/* Decides one DNS query.  Returns CG_PASS / CG_DROP for the packet, or a
 * connection-wide action when the application itself is blocked. */
static enum cg_action dns_query(struct cg_worker *w, struct cg_flow *f,
				const struct cg_packet *p, const uint8_t *msg,
				size_t len, bool tcp, bool *decided)
{
	struct cg_dns_query q;
	*decided = false;
	if (cg_dns_parse(msg, len, &q) != CG_DNS_QUERY)
		return CG_PASS;
	w->st.dns_queries++;
	f->requests++;
	if (q.name_ok && (!f->host_len || f->host_src == CG_HOST_NDPI))
		set_host(f, q.qname, q.qname_len, CG_HOST_DNS);

	struct cg_facts fa;
	facts_of(f, q.qname, q.name_ok ? q.qname_len : 0, false, &fa);
	fa.host_pending = false;
	if (!q.name_ok) {
		/* Nothing a list could name; the app alone decides. */
		fa.app_known = true;
	}
	struct cg_decision d;
	cg_policy_decide(w->rules, &fa, &d);
	const char *host = q.name_ok ? q.qname : NULL;

	if (d.outcome == CG_BLOCK && d.reason == CG_REASON_LIST) {
		size_t n = cg_dns_build_response(msg, &q, CG_DNS_RCODE_NXDOMAIN,
						 w->answer, sizeof(w->answer));
		int rc = -1;
		if (n)
			rc = tcp ? cg_act_tcp_reply(w->inj, p, w->answer, n)
				 : cg_act_udp_reply(w->inj, p, w->answer, n);
		if (rc < 0)
			w->st.inject_errors++;
		w->st.dns_blocked++;
		*decided = true;
		emit_block_event(w, f, &d, CG_ACT_NXDOMAIN, host);
		if (tcp) {
			/* The connection was answered and closed by us. */
			emit_report(w, f, &d, CG_MARK_BLOCK, CG_ACT_NXDOMAIN,
				    host);
			w->st.blocked++;
			flow_release_resources(w, f);
			cg_flow_remove(w->flows, f);
			return CG_MARK_BLOCK;
		}
		emit_report(w, f, &d, CG_DROP, CG_ACT_NXDOMAIN, host);
		return CG_DROP;
	}
	if (d.outcome == CG_BLOCK) {
		*decided = true;
		return block_flow(w, f, p, &d, host);
	}
	if (d.outcome == CG_ALLOW) {
		*decided = true;
		if (f->stage == CG_STAGE_WATCH) {
			emit_report(w, f, &d, CG_PASS, CG_ACT_NONE, host);
			return CG_PASS;
		}
		return allow_flow(w, f, &d, host);
	}
	return CG_PASS;
}

static enum cg_action dns_tcp_stream(struct cg_worker *w, struct cg_flow *f,
				     const struct cg_packet *p,
				     const uint8_t *data, size_t len,
				     bool *decided)
{
	enum cg_action act = CG_PASS;
	*decided = false;
	if (!slot_get(w, f) || !stream_append(f, data, len)) {
		f->stream_lost = true;
		return CG_PASS;
	}
	size_t off = 0;
	for (;;) {
		const uint8_t *msg;
		size_t consumed;
		size_t mlen = cg_dns_tcp_next(f->slot->buf + off,
					      f->stream_len - off, &msg,
					      &consumed);
		off += consumed;
		if (!mlen) {
			if (consumed)
				continue; /* an empty message: nothing to judge */
			break;
		}
		bool dec;
		enum cg_action a = dns_query(w, f, p, msg, mlen, true, &dec);
		*decided |= dec;
		if (a == CG_MARK_BLOCK)
			return a; /* flow is gone */
		if (a != CG_PASS)
			act = a;
	}
	memmove(f->slot->buf, f->slot->buf + off, f->stream_len - off);
	f->stream_len -= (uint32_t)off;
	if (f->stage == CG_STAGE_WATCH && !f->stream_len)
		slot_put(w, f);
	return act;
}

/* ---- HTTP ---- */

static enum cg_action http_stream(struct cg_worker *w, struct cg_flow *f,
				  const struct cg_packet *p,
				  const uint8_t *data, size_t len,
				  bool *decided)
{
	enum cg_action act = CG_PASS;
	*decided = false;
	while (len > 0) {
		struct cg_http_request req;
		size_t used = 0;
		enum cg_http_status st =
			cg_http_feed(&f->http, data, len, &req, &used);
		if (st == CG_HTTP_NEED_BUFFER) {
			struct cg_slot *s = slot_get(w, f);
			if (!s) {
				f->stream_lost = true;
				break;
			}
			f->http.hbuf = s->buf;
			continue;
		}
		if (st == CG_HTTP_ERROR) {
			f->stream_lost = true;
			f->host_pending = false;
			break;
		}
		if (st == CG_HTTP_NEED_MORE) {
			f->host_pending = f->http.requests == 0;
			break;
		}
		data += used;
		len -= used;
		w->st.http_requests++;
		f->requests++;
		f->host_pending = false;
		if (req.host_len && !f->host_len)
			set_host(f, req.host, req.host_len, CG_HOST_HTTP);

		struct cg_facts fa;
		facts_of(f, req.host, req.host_len, false, &fa);
		struct cg_decision d;
		cg_policy_decide(w->rules, &fa, &d);
		const char *host = req.host_len ? req.host : NULL;
		if (d.outcome == CG_BLOCK) {
			*decided = true;
			w->st.http_blocked++;
			return block_flow(w, f, p, &d, host);
		}
		if (d.outcome == CG_ALLOW) {
			*decided = true;
			if (f->stage == CG_STAGE_WATCH)
				emit_report(w, f, &d, CG_PASS, CG_ACT_NONE,
					    host);
			else
				act = allow_flow(w, f, &d, host);
		}
		/* Pending (the app is still unknown): the flow-level
		 * decision after this packet will settle it. */
		if (!len)
			break;
	}
	if (!cg_http_parser_holds_buffer(&f->http) &&
	    f->stage == CG_STAGE_WATCH)
		slot_put(w, f);
	return act;
}

/* ---- first client payload: what kind of stream is this? ---- */

static void classify_kind(struct cg_worker *w, struct cg_flow *f,
			  const struct cg_packet *p)
{
	const uint8_t *d = p->payload;
	size_t n = p->payload_len;
	if (p->proto == CG_PROTO_UDP) {
		struct cg_dns_query q;
		bool port53 = p->dport == 53 || p->sport == 53;
		if ((port53 && cg_dns_parse(d, n, &q) == CG_DNS_QUERY) ||
		    cg_dns_looks_like_query(d, n)) {
			f->kind = CG_KIND_DNS;
		} else if (cg_quic_looks_like_initial(d, n)) {
			f->kind = CG_KIND_QUIC;
			struct cg_slot *s = slot_get(w, f);
			if (s)
				cg_quic_assembly_reset(&s->qa, s->buf,
						       sizeof(s->buf));
			f->host_pending = s != NULL;
		} else {
			f->kind = CG_KIND_OTHER;
		}
		return;
	}
	if (cg_tls_looks_like_handshake(d, n)) {
		f->kind = CG_KIND_TLS;
		f->host_pending = slot_get(w, f) != NULL;
	} else if (cg_http_looks_like_request(d, n)) {
		f->kind = CG_KIND_HTTP;
		cg_http_parser_init(&f->http);
		f->host_pending = true;
	} else if (p->dport == 53 || p->sport == 53) {
		f->kind = CG_KIND_DNS_TCP;
	} else {
		f->kind = CG_KIND_OTHER;
	}
}

static void tls_stream(struct cg_worker *w, struct cg_flow *f,
		       const uint8_t *data, size_t len)
{
	if (!f->host_pending)
		return;
	if (!stream_append(f, data, len)) {
		f->host_pending = false;
		slot_put(w, f);
		return;
	}
	char sni[CG_NAME_BUF];
	size_t sl = 0;
	enum cg_tls_status st =
		cg_tls_record_sni(f->slot->buf, f->stream_len, w->scratch,
				  sizeof(w->scratch), sni, &sl);
	if (st == CG_TLS_NEED_MORE)
		return;
	if (st == CG_TLS_SNI)
		set_host(f, sni, sl, CG_HOST_TLS_SNI);
	f->host_pending = false;
	slot_put(w, f);
}

static void quic_packet(struct cg_worker *w, struct cg_flow *f,
			const struct cg_packet *p)
{
	if (!f->host_pending || !f->slot)
		return;
	char sni[CG_NAME_BUF];
	size_t sl = 0;
	enum cg_quic_status st = cg_quic_client_initial(
		w->quic, p->payload, p->payload_len, &f->slot->qa, sni, &sl);
	if (st == CG_QUIC_NEED_MORE)
		return;
	/* A client datagram that is not an Initial (0-RTT, short header)
	 * before the name was complete: nothing more will come. */
	if (st == CG_QUIC_SNI)
		set_host(f, sni, sl, CG_HOST_QUIC_SNI);
	f->host_pending = false;
	slot_put(w, f);
}

/* ---- the two stages ---- */

static enum cg_action decide_flow(struct cg_worker *w, struct cg_flow *f,
				  const struct cg_packet *p, bool final)
{
	/* A name only nDPI saw (e.g. STUN REALM) counts when ours has none
	 * and none of our parsers is still reading one. */
	struct cg_facts fa;
	flow_facts(f, final, &fa);
	struct cg_decision d;
	cg_policy_decide(w->rules, &fa, &d);
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
		f->kind = p->proto == CG_PROTO_UDP ? CG_KIND_DNS
						   : CG_KIND_DNS_TCP;
		f->stream_lost = p->proto == CG_PROTO_TCP && !f->seq_known;
	}
	if (final)
		w->st.gave_up++;
	if (d.outcome == CG_BLOCK)
		return block_flow(w, f, p, &d, f->host_len ? f->host : NULL);
	return allow_flow(w, f, &d, f->host_len ? f->host : NULL);
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
		set_host(f, r.host, r.host_len, CG_HOST_NDPI);
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
			classify_kind(w, f, p);
		bool decided = false;
		enum cg_action a = CG_PASS;
		switch (f->kind) {
		case CG_KIND_DNS:
			a = dns_query(w, f, p, p->payload, p->payload_len,
				      false, &decided);
			break;
		case CG_KIND_QUIC:
			quic_packet(w, f, p);
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
			enum take t = stream_take(f, p, &data, &len);
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
				tls_stream(w, f, data, len);
			else if (f->kind == CG_KIND_HTTP)
				a = http_stream(w, f, p, data, len, &decided);
			else
				a = dns_tcp_stream(w, f, p, data, len,
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

static enum cg_action watch(struct cg_worker *w, struct cg_flow *f,
			    const struct cg_packet *p, bool from_client)
{
	if (!from_client || !p->payload_len)
		return CG_PASS;
	bool decided;
	if (f->kind == CG_KIND_DNS)
		return dns_query(w, f, p, p->payload, p->payload_len, false,
				 &decided);
	/* A stream we lost (a capture cut short, a header we could not
	 * parse) is picked up again where a new request starts a
	 * segment, which is where clients start them. */
	if (f->stream_lost && f->kind == CG_KIND_HTTP &&
	    cg_http_looks_like_request(p->payload, p->payload_len)) {
		slot_put(w, f);
		cg_http_parser_init(&f->http);
		f->stream_lost = false;
		f->next_seq = p->seq;
	}
	if (f->stream_lost)
		return CG_PASS;
	const uint8_t *data;
	size_t len;
	enum take t = stream_take(f, p, &data, &len);
	if (t == TAKE_GAP) {
		w->st.out_of_order++;
		return CG_DROP;
	}
	if (t == TAKE_LOST)
		f->stream_lost = true;
	if (!len)
		return CG_PASS;
	if (f->kind == CG_KIND_HTTP)
		return http_stream(w, f, p, data, len, &decided);
	if (f->kind == CG_KIND_DNS_TCP)
		return dns_tcp_stream(w, f, p, data, len, &decided);
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
			set_host(f, r.host, r.host_len, CG_HOST_NDPI);
	}
	struct cg_facts fa;
	flow_facts(f, true, &fa);
	struct cg_decision d;
	cg_policy_decide(w->rules, &fa, &d);
	emit_report(w, f, &d, CG_PASS, CG_ACT_NONE,
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
	flow_release_resources(w, f);
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

enum cg_action cg_worker_packet(struct cg_worker *w,
				const struct cg_rules *rules,
				const uint8_t *l3, size_t caplen,
				size_t wirelen, int from_lan, uint64_t now_ms,
				uint64_t wall_ms)
{
	w->st.packets++;
	w->st.bytes += wirelen;
	w->rules = rules;
	w->now_ms = now_ms;
	w->wall_ms = wall_ms;

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
	if (!f) {
		/* A reset or a bare FIN starts nothing worth inspecting. */
		if (p.proto == CG_PROTO_TCP &&
		    (p.tcp_flags & (CG_TCP_RST | CG_TCP_FIN)) &&
		    !p.payload_len)
			return CG_PASS;
		f = cg_flow_insert(w->flows, &key, now_ms, release_cb, w);
		w->st.flows_new++;
		f->client = guess_client(&p, side, from_lan);
		f->dpi = cg_classifier_flow_get(w->cls);
		if (!f->dpi) {
			w->st.dpi_exhausted++;
			f->app_known = true; /* nobody will tell us more */
		}
	}
	f->packets++;
	bool from_client = side == f->client;
	if (f->stage == CG_STAGE_WATCH)
		return watch(w, f, &p, from_client);
	return inspect(w, f, &p, from_client);
}

void cg_worker_tick(struct cg_worker *w, const struct cg_rules *rules,
		    uint64_t now_ms)
{
	w->rules = rules;
	cg_flow_expire(w->flows, now_ms, w->o.idle_timeout_ms, release_cb, w);
}

static void finish_cb(void *ctx, struct cg_flow *f, bool evicted)
{
	struct cg_worker *w = ctx;
	(void)evicted;
	report_undecided(w, f);
	flow_release_resources(w, f);
}

void cg_worker_finish(struct cg_worker *w, const struct cg_rules *rules,
		      uint64_t now_ms)
{
	w->rules = rules;
	w->now_ms = now_ms;
	cg_flow_flush(w->flows, finish_cb, w);
}
