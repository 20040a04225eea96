/*
 * What the pipeline does once it has decided: the decision itself (the
 * policy on a flow's facts, for its seat and time), and what follows it:
 * a flow handed to the kernel, watched or metered, or blocked with its
 * resets and its event; the buffers and nDPI state a flow holds.  Used
 * by both halves of the pipeline (worker.c, worker_requests.c).
 */
#include <string.h>

#include "worker_internal.h"

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
	memcpy(e.mac, f->mac, 6);
	e.has_mac = f->has_mac;
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

/* An allowed connection, for the store's counts per seat, hour and
 * category (DNS lookups are not traffic of their own). */
static void emit_allow_event(struct cg_worker *w, const struct cg_flow *f,
			     const char *host)
{
	if (!w->ring || !w->o.count_allowed || f->kind == CG_KIND_DNS ||
	    f->kind == CG_KIND_DNS_TCP)
		return;
	struct cg_event e;
	memset(&e, 0, sizeof(e));
	e.time_ms = (uint64_t)w->now_s * 1000u + w->wall_ms % 1000u;
	e.type = CG_EV_ALLOW;
	e.family = f->key.family;
	e.proto = f->key.proto;
	memcpy(e.client, f->key.addr[f->client], 16);
	memcpy(e.server, f->key.addr[!f->client], 16);
	e.client_port = f->key.port[f->client];
	e.server_port = f->key.port[!f->client];
	e.worker = w->o.id;
	memcpy(e.mac, f->mac, 6);
	e.has_mac = f->has_mac;
	if (host)
		snprintf(e.host, sizeof(e.host), "%s", host);
	app_label(w, f, e.app, sizeof(e.app));
	const char *seat = seat_name(w, f), *prof = profile_name(w, f);
	snprintf(e.seat, sizeof(e.seat), "%s", seat ? seat : "");
	snprintf(e.profile, sizeof(e.profile), "%s", prof ? prof : "");
	snprintf(e.category, sizeof(e.category), "%s",
		 cg_classifier_category_name(w->cls, f->category));
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
void cg_w_flow_facts(const struct cg_flow *f, bool final,
			    struct cg_facts *fa)
{
	bool dns = f->kind == CG_KIND_DNS || f->kind == CG_KIND_DNS_TCP;
	cg_w_facts_of(f, f->host, dns ? 0 : f->host_len, final, fa);
	if (dns)
		fa->host_pending = false;
}

/* The key the portal opened the client under (captive.h). */
static uint64_t captive_key(const struct cg_worker *w,
			    const struct cg_flow *f)
{
	const char *seat = seat_name(w, f);
	return cg_captive_key(seat, f->has_mac ? f->mac : NULL, f->key.family,
			      f->key.addr[f->client]);
}

/*
 * A client that has not accepted the splash page reaches DNS and,
 * through the redirect of its web requests, the splash page; everything
 * else is refused.  A web request is judged once it has been read (its
 * redirect needs it), a stream once its first bytes say what it is.
 */
static void captive_override(struct cg_worker *w, const struct cg_flow *f,
			     const struct cg_facts *fa, struct cg_decision *d)
{
	const struct cg_rules *r = w->rt->rules;
	if (d->outcome == CG_BLOCK || !r->respond.splash || !w->rt->captive ||
	    f->kind == CG_KIND_DNS || f->kind == CG_KIND_DNS_TCP)
		return;
	if (cg_captive_is_open(w->rt->captive, captive_key(w, f), w->now_s))
		return;
	bool wait = !fa->final &&
		    (f->kind == CG_KIND_UNKNOWN ||
		     (f->kind == CG_KIND_HTTP && fa->host_pending));
	memset(d, 0, sizeof(*d));
	d->outcome = wait ? CG_PENDING : CG_BLOCK;
	d->reason = wait ? CG_REASON_NONE : CG_REASON_CAPTIVE;
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
	captive_override(w, f, fa, d);
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
static bool from_client(const struct cg_flow *f, const struct cg_packet *p)
{
	return p->sport == f->key.port[f->client] &&
	       !memcmp(p->src, f->key.addr[f->client],
		       f->key.family == 4 ? 4 : 16);
}

/* What follows any block: counters, the operator's event (a captive
 * client's refusals are counted, not logged: the splash page explains
 * them), and the flow's end. */
static enum cg_action blocked(struct cg_worker *w, struct cg_flow *f,
			      const struct cg_decision *d,
			      enum cg_event_action resp, const char *host)
{
	w->st.blocked++;
	if (d->reason == CG_REASON_CAPTIVE)
		w->st.captive++;
	else
		cg_w_emit_block_event(w, f, d, resp, host);
	cg_w_emit_report(w, f, d, CG_MARK_BLOCK, resp, host);
	cg_w_flow_release_resources(w, f);
	f->stage = CG_STAGE_BLOCKED;
	return CG_MARK_BLOCK;
}

enum cg_action cg_w_redirect_flow(struct cg_worker *w, struct cg_flow *f,
				  const struct cg_packet *p,
				  const struct cg_decision *d,
				  const char *host, const char *path)
{
	const struct cg_rules *r = w->rt->rules;
	char next[CG_NAME_BUF + CG_HTTP_PATH_MAX + 8];
	const char *kv[6];
	size_t nkv = 0;
	const char *page = "/blocked";
	if (d->reason == CG_REASON_CAPTIVE) {
		page = "/splash";
		snprintf(next, sizeof(next), "http://%s%s", host ? host : "",
			 path && path[0] == '/' ? path : "/");
		kv[nkv++] = "next";
		kv[nkv++] = host ? next : NULL;
	} else {
		kv[nkv++] = "host";
		kv[nkv++] = host;
		kv[nkv++] = "reason";
		kv[nkv++] = cg_reason_str(d->reason);
		kv[nkv++] = "category";
		kv[nkv++] = d->reason == CG_REASON_LIST
				    ? r->cats[d->match.cat].name
				    : NULL;
	}
	size_t n = cg_respond_redirect(&r->respond, f->key.family, page, kv,
				       nkv, (char *)w->answer,
				       sizeof(w->answer));
	if (!n || p->proto != CG_PROTO_TCP || !from_client(f, p))
		return cg_w_block_flow(w, f, p, d, host);
	if (cg_act_tcp_answer(w->inj, p, w->answer, n) < 0)
		w->st.inject_errors++;
	return blocked(w, f, d, CG_ACT_REDIRECT, host);
}

enum cg_action cg_w_block_flow(struct cg_worker *w, struct cg_flow *f,
			       const struct cg_packet *p,
			       const struct cg_decision *d, const char *host)
{
	enum cg_event_action resp = CG_ACT_DROP;
	if (p->proto == CG_PROTO_UDP && from_client(f, p)) {
		/* QUIC (and any datagram flow): the client's socket hears
		 * "unreachable" at once and a browser falls back to TCP,
		 * where the name is judged again. */
		resp = CG_ACT_UNREACHABLE;
		if (cg_act_unreachable(w->inj, p) < 0)
			w->st.inject_errors++;
	}
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
	return blocked(w, f, d, resp, host);
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
		if (first)
			emit_allow_event(w, f, host);
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
		emit_allow_event(w, f, host);
		cg_w_flow_release_resources(w, f);
		w->st.metered++;
		cg_w_emit_report(w, f, d, CG_MARK_METER, CG_ACT_NONE, host);
		return CG_MARK_METER;
	}
	w->st.allowed++;
	emit_allow_event(w, f, host);
	cg_w_emit_report(w, f, d, CG_MARK_ALLOW, CG_ACT_NONE, host);
	cg_w_flow_release_resources(w, f);
	cg_flow_remove(w->flows, f);
	return CG_MARK_ALLOW;
}
