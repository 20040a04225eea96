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

/* ---- resources held by a flow ---- */

struct cg_slot *cg_w_slot_get(struct cg_worker *w, struct cg_flow *f)
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

void cg_w_slot_put(struct cg_worker *w, struct cg_flow *f)
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

static void cg_w_dpi_put(struct cg_worker *w, struct cg_flow *f)
{
	if (f->dpi) {
		cg_classifier_flow_put(w->cls, f->dpi);
		f->dpi = NULL;
	}
}

void cg_w_flow_release_resources(struct cg_worker *w, struct cg_flow *f)
{
	cg_w_dpi_put(w, f);
	cg_w_slot_put(w, f);
}

/* ---- reports and events ---- */

static void app_label(const struct cg_worker *w, const struct cg_flow *f,
		      char *out, size_t outsz)
{
	cg_classifier_label(w->cls, f->app_master, f->app_proto, out, outsz);
}

static const char *seat_name(const struct cg_worker *w,
			     const struct cg_flow *f)
{
	const struct cg_rules *r = w->rt->rules;
	return f->seat >= 0 && (size_t)f->seat < r->nseats
		       ? r->seats[f->seat].name
		       : NULL;
}

static const char *profile_name(const struct cg_worker *w,
				const struct cg_flow *f)
{
	const struct cg_rules *r = w->rt->rules;
	return f->profile < r->nprofiles ? r->profiles[f->profile].name : NULL;
}

void cg_w_emit_report(struct cg_worker *w, const struct cg_flow *f,
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
	    .seat = seat_name(w, f),
	    .profile = profile_name(w, f),
	    .rules = w->rt->rules,
	    .ts_ms = w->now_ms,
	};
	w->report(w->report_ctx, &r);
}

/* The entry a decision matched, as the operator's log shows it: the
 * name, or for a hashed list the kind and the start of the hash, never
 * a plain text the list was hashed to hide. */
static void entry_text(struct cg_worker *w, const struct cg_decision *d,
		       const char *host, char *out, size_t outsz)
{
	static const char *const kinds[CG_DIGEST__COUNT] = {"", "md5",
							   "sha1", "sha256"};
	const char *entry = host + d->match.suffix;
	if (d->match.digest == CG_DIGEST_NONE || !w->dg) {
		snprintf(out, outsz, "%s", entry);
		return;
	}
	struct cg_name_hashes nh;
	cg_domainset_digest_name(w->dg, (enum cg_digest)d->match.digest,
				 entry, strlen(entry), &nh);
	snprintf(out, outsz, "%s:%016llx...", kinds[d->match.digest],
		 (unsigned long long)nh.h[0]);
}

void cg_w_emit_block_event(struct cg_worker *w, const struct cg_flow *f,
			   const struct cg_decision *d,
			   enum cg_event_action resp, const char *host)
{
	if (!w->ring)
		return;
	const struct cg_rules *r = w->rt->rules;
	struct cg_event e;
	memset(&e, 0, sizeof(e));
	/* On the clock the rules judged by: a test clock moves both. */
	e.time_ms = (uint64_t)w->now_s * 1000u + w->wall_ms % 1000u;
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
	const char *seat = seat_name(w, f), *prof = profile_name(w, f);
	snprintf(e.seat, sizeof(e.seat), "%s", seat ? seat : "");
	snprintf(e.profile, sizeof(e.profile), "%s", prof ? prof : "");
	snprintf(e.reason, sizeof(e.reason), "%s", cg_reason_str(d->reason));
	switch (d->reason) {
	case CG_REASON_LIST: {
		const struct cg_category *c = &r->cats[d->match.cat];
		snprintf(e.category, sizeof(e.category), "%s", c->name);
		snprintf(e.rule, sizeof(e.rule), "category %s", c->name);
		if (host)
			entry_text(w, d, host, e.entry, sizeof(e.entry));
		if (d->match.source < c->nfiles)
			snprintf(e.file, sizeof(e.file), "%s",
				 c->files[d->match.source]);
		e.line = d->match.line;
		break;
	}
	case CG_REASON_APP:
		snprintf(e.rule, sizeof(e.rule), "app %s",
			 cg_classifier_app_name(w->cls, d->app));
		break;
	case CG_REASON_APP_CATEGORY:
		snprintf(e.rule, sizeof(e.rule), "app category %s",
			 cg_classifier_category_name(w->cls, d->app_category));
		break;
	case CG_REASON_BUDGET:
		snprintf(e.rule, sizeof(e.rule), "budget %s (%u min a day)",
			 d->budget->name, d->budget->minutes);
		break;
	case CG_REASON_SCHEDULE:
		snprintf(e.rule, sizeof(e.rule), "schedule %02u:%02u-%02u:%02u",
			 d->window->from / 60u, d->window->from % 60u,
			 d->window->to / 60u, d->window->to % 60u);
		break;
	default:
		break;
	}
	if (!cg_event_ring_push(w->ring, &e))
		w->st.events_dropped++;
}

/* ---- decisions ---- */

void cg_w_facts_of(const struct cg_flow *f, const char *host, size_t host_len,
		   bool final, struct cg_facts *fa)
{
	memset(fa, 0, sizeof(*fa));
	fa->host = host_len ? host : NULL;
	fa->host_len = host_len;
	fa->host_pending = f->host_pending;
	fa->app_master = f->app_master;
	fa->app_proto = f->app_proto;
	fa->app_category = f->category;
	fa->app_known = f->app_known;
	fa->final = final;
}

/* The facts for a decision about the whole flow.  A DNS flow's names
 * are judged query by query (dns_query); at flow level only the
 * application counts, or one blocked query would cut every later query
 * on the same socket. */
static void cg_w_flow_facts(const struct cg_flow *f, bool final,
			    struct cg_facts *fa)
{
	bool dns = f->kind == CG_KIND_DNS || f->kind == CG_KIND_DNS_TCP;
	cg_w_facts_of(f, f->host, dns ? 0 : f->host_len, final, fa);
	if (dns)
		fa->host_pending = false;
}

void cg_w_decide(struct cg_worker *w, struct cg_flow *f,
		 const struct cg_facts *fa, bool charge, struct cg_decision *d)
{
	const struct cg_rules *r = w->rt->rules;
	struct cg_who who;
	cg_state_who(w->rt->state, r, f->seat, w->now_s, &who);
	struct cg_when when;
	uint32_t day;
	cg_localtime_of(&w->lt, w->now_s, &when, &day);
	uint16_t used[32] = {0};
	const struct cg_profile *p =
		who.profile < r->nprofiles ? &r->profiles[who.profile] : NULL;
	if (p)
		cg_state_used_profile(w->rt->state, r, p, f->seat, day, used);
	cg_policy_decide(r, &who, &when, fa, used, w->dg, d, NULL);
	f->profile = who.profile;
	f->charge = d->outcome == CG_ALLOW ? d->charge : 0;
	f->recheck = d->recheck;
	f->charged_min = (uint32_t)(w->now_s / 60);
	if (!charge || !p || !f->charge || !w->rt->state)
		return;
	for (size_t b = 0; b < p->nbudgets && b < 32; b++)
		if (f->charge & (1u << b))
			cg_state_charge(w->rt->state,
					cg_budget_slot(r, &p->budgets[b],
						       f->seat),
					day, when.minute);
}

static bool watches_requests(const struct cg_flow *f)
{
	return (f->kind == CG_KIND_DNS || f->kind == CG_KIND_DNS_TCP ||
		f->kind == CG_KIND_HTTP) &&
	       !f->stream_lost;
}

/* Blocks the whole connection: resets for TCP (so the client fails at
 * once instead of waiting for a timeout), silence for UDP. */
enum cg_action cg_w_block_flow(struct cg_worker *w, struct cg_flow *f,
			       const struct cg_packet *p,
			       const struct cg_decision *d, const char *host)
{
	enum cg_event_action resp = CG_ACT_DROP;
	if (p->proto == CG_PROTO_TCP && !(p->tcp_flags & CG_TCP_RST)) {
		resp = CG_ACT_RESET;
		if (cg_act_tcp_reset(w->inj, p, true, true) < 0)
			w->st.inject_errors++;
		/* The kernel carried the connection while p waited for us:
		 * either end may be further on than p says. */
		if (f->stage != CG_STAGE_INSPECT &&
		    cg_act_tcp_probe(w->inj, p) < 0)
			w->st.inject_errors++;
	}
	w->st.blocked++;
	cg_w_emit_block_event(w, f, d, resp, host);
	cg_w_emit_report(w, f, d, CG_MARK_BLOCK, resp, host);
	cg_w_flow_release_resources(w, f);
	f->stage = CG_STAGE_BLOCKED;
	return CG_MARK_BLOCK;
}

/* host: the name the decision judged (a query or request may differ
 * from the flow's first name). */
enum cg_action cg_w_allow_flow(struct cg_worker *w, struct cg_flow *f,
			       const struct cg_decision *d, const char *host)
{
	if (watches_requests(f)) {
		/* The kernel now carries the replies; nDPI has said what it
		 * had to say, so its state goes back to the pool. */
		bool first = f->stage != CG_STAGE_WATCH;
		f->stage = CG_STAGE_WATCH;
		cg_w_dpi_put(w, f);
		bool keep = (f->kind == CG_KIND_HTTP &&
			     cg_http_parser_holds_buffer(&f->http)) ||
			    (f->kind == CG_KIND_DNS_TCP && f->stream_len);
		if (!keep)
			cg_w_slot_put(w, f);
		w->st.watched += first;
		cg_w_emit_report(w, f, d, first ? CG_MARK_WATCH : CG_PASS,
				 CG_ACT_NONE, host);
		return first ? CG_MARK_WATCH : CG_PASS;
	}
	if (d->charge || d->recheck) {
		/* A budget counts this flow, or a schedule may block it
		 * later: the kernel carries it but sends a heartbeat now
		 * and then, and the flow stays here (without its inspection
		 * state) to be charged and judged again, and cut when the
		 * budget is used up or a window blocks it. */
		f->stage = CG_STAGE_METER;
		cg_w_flow_release_resources(w, f);
		w->st.metered++;
		cg_w_emit_report(w, f, d, CG_MARK_METER, CG_ACT_NONE, host);
		return CG_MARK_METER;
	}
	w->st.allowed++;
	cg_w_emit_report(w, f, d, CG_MARK_ALLOW, CG_ACT_NONE, host);
	cg_w_flow_release_resources(w, f);
	cg_flow_remove(w->flows, f);
	return CG_MARK_ALLOW;
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
