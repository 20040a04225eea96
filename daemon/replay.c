#include "cafeguard/replay.h"

#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cafeguard/clock.h"
#include "cafeguard/decode.h"
#include "cafeguard/flow.h"
#include "cafeguard/state.h"

/*
 * The kernel's part, simulated: a connection's connmark (set by our
 * NF_REPEAT verdicts) decides whether its later packets still reach the
 * pipeline.  Conntrack calls the direction of the first packet it saw
 * "original"; a watched connection sends only that direction to us.
 */
enum ct_mark { CT_NONE = 0, CT_ALLOW, CT_BLOCK, CT_WATCH };

struct ct_entry {
	struct cg_flow_key key;
	uint8_t orig_side;
	uint8_t mark;
	uint32_t next;
};

struct ct_table {
	struct ct_entry *v;
	size_t n, cap;
	uint32_t *buckets;
	size_t nb;
};

static uint64_t key_hash(const struct cg_flow_key *k)
{
	const uint8_t *p = (const uint8_t *)k;
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < sizeof(*k); i++) {
		h ^= p[i];
		h *= 1099511628211ull;
	}
	return h;
}

static int ct_grow(struct ct_table *t)
{
	size_t cap = t->cap ? t->cap * 2 : 1024;
	struct ct_entry *v = realloc(t->v, cap * sizeof(*v));
	if (!v)
		return -1;
	t->v = v;
	t->cap = cap;
	uint32_t *b = malloc(cap * 2 * sizeof(*b));
	if (!b)
		return -1;
	free(t->buckets);
	t->buckets = b;
	t->nb = cap * 2;
	for (size_t i = 0; i < t->nb; i++)
		b[i] = UINT32_MAX;
	for (size_t i = 0; i < t->n; i++) {
		size_t h = key_hash(&t->v[i].key) % t->nb;
		t->v[i].next = b[h];
		b[h] = (uint32_t)i;
	}
	return 0;
}

static struct ct_entry *ct_get(struct ct_table *t, const struct cg_flow_key *k,
			       uint8_t from_side)
{
	if (t->nb) {
		size_t h = key_hash(k) % t->nb;
		for (uint32_t i = t->buckets[h]; i != UINT32_MAX;
		     i = t->v[i].next)
			if (!memcmp(&t->v[i].key, k, sizeof(*k)))
				return &t->v[i];
	}
	if (t->n == t->cap && ct_grow(t) < 0)
		return NULL;
	struct ct_entry *e = &t->v[t->n];
	memset(e, 0, sizeof(*e));
	e->key = *k;
	e->orig_side = from_side;
	size_t h = key_hash(k) % t->nb;
	e->next = t->buckets[h];
	t->buckets[h] = (uint32_t)t->n;
	t->n++;
	return e;
}

static void ct_free(struct ct_table *t)
{
	free(t->v);
	free(t->buckets);
}

struct replay_ctx {
	const struct cg_replay_opts *o;
	uint64_t reports;
};

static void endpoint(const struct cg_flow *f, int side, char *out, size_t sz)
{
	char a[64];
	cg_addr_str(f->key.family, f->key.addr[side], a, sizeof(a));
	if (f->key.family == 6)
		snprintf(out, sz, "[%s]:%u", a, f->key.port[side]);
	else
		snprintf(out, sz, "%s:%u", a, f->key.port[side]);
}

static void json_str(FILE *out, const char *key, const char *v)
{
	fprintf(out, ",\"%s\":\"", key);
	for (; v && *v; v++) {
		unsigned char c = (unsigned char)*v;
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

static void on_report(void *arg, const struct cg_report *r)
{
	struct replay_ctx *ctx = arg;
	const struct cg_replay_opts *o = ctx->o;
	const struct cg_flow *f = r->flow;
	char cli[80], srv[80], reason[512];
	endpoint(f, f->client, cli, sizeof(cli));
	endpoint(f, !f->client, srv, sizeof(srv));
	const char *proto = f->key.proto == CG_PROTO_TCP ? "tcp" : "udp";
	const char *outcome = r->decision ? cg_outcome_str(r->decision->outcome)
					  : "pending";
	if (r->decision)
		cg_decision_describe(r->rules, r->decision, r->host, o->cls,
				     reason, sizeof(reason));
	else
		snprintf(reason, sizeof(reason), "-");
	char who[96];
	snprintf(who, sizeof(who), "%s%s%s", r->seat ? r->seat : "",
		 r->seat ? "/" : "", r->profile ? r->profile : "-");
	ctx->reports++;

	if (o->format == CG_REPLAY_JSON) {
		fprintf(o->out, "{\"client\":\"%s\"", cli);
		json_str(o->out, "server", srv);
		json_str(o->out, "proto", proto);
		json_str(o->out, "kind",
			 cg_flow_kind_str((enum cg_flow_kind)f->kind));
		json_str(o->out, "app", r->app);
		json_str(o->out, "category", r->category);
		json_str(o->out, "host", r->host ? r->host : "");
		json_str(o->out, "seat", r->seat ? r->seat : "");
		json_str(o->out, "profile", r->profile ? r->profile : "");
		json_str(o->out, "decision", outcome);
		json_str(o->out, "action", cg_action_str(r->action));
		json_str(o->out, "response",
			 cg_event_action_str(r->response));
		json_str(o->out, "reason", reason);
		fprintf(o->out, ",\"packets\":%u}\n", f->packets);
		return;
	}
	char dec[40];
	if (r->response != CG_ACT_NONE)
		snprintf(dec, sizeof(dec), "%s(%s)", outcome,
			 cg_event_action_str(r->response));
	else
		snprintf(dec, sizeof(dec), "%s", outcome);
	fprintf(o->out, "%-45s %-45s %s %-20s %-40s %-10s %-16s %s\n", cli,
		srv, proto, r->app, r->host ? r->host : "-", who, dec, reason);
}

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int cg_replay_file(const char *path, const struct cg_replay_opts *o,
		   struct cg_replay_stats *st, struct cg_error *err)
{
	memset(st, 0, sizeof(*st));
	char ebuf[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_open_offline(path, ebuf);
	if (!pc)
		return cg_error_set(err, "%s: %s", path, ebuf);
	int dlt = pcap_datalink(pc);
	if (!cg_decode_link_supported(dlt)) {
		pcap_close(pc);
		return cg_error_set(err, "%s: link type %s is not supported",
				    path, pcap_datalink_val_to_name(dlt));
	}

	const struct cg_config *c = o->cfg;
	struct cg_worker_opts wo = {
		.id = 0,
		.max_flows = c->max_flows,
		.idle_timeout_ms = c->idle_timeout_s * 1000u,
		.max_packets = c->max_packets,
		.dpi_flows = c->dpi_flows,
		.buffers = c->buffers,
		.meter_interval_ms = c->meter_interval_s * 1000u,
		.fail_open = c->fail_open,
		.replay = true,
	};
	/* A capture is judged at its own time, or at --at: the clock is
	 * shifted once the first timestamp is known. */
	struct cg_clock clock = {.fake = true};
	atomic_init(&clock.shift_s, 0);
	wo.clock = &clock;
	struct cg_runtime rt = {.rules = o->rules,
				.state = cg_state_new(o->rules)};
	struct cg_injector *inj = cg_injector_open_recorder(0);
	struct cg_worker *w = inj && rt.state
				      ? cg_worker_new(&wo, o->cls, inj, NULL, err)
				      : NULL;
	if (!w) {
		if (!inj || !rt.state)
			cg_error_set(err, "replay: out of memory");
		cg_injector_close(inj);
		cg_state_free(rt.state);
		pcap_close(pc);
		return -1;
	}
	struct replay_ctx ctx = {.o = o};
	cg_worker_set_report(w, on_report, &ctx);

	struct ct_table ct;
	memset(&ct, 0, sizeof(ct));
	struct pcap_pkthdr *h;
	const u_char *frame;
	uint64_t last_tick = 0, ts_ms = 0;
	double t_pipeline = 0;
	int rc, result = 0;
	while ((rc = pcap_next_ex(pc, &h, &frame)) == 1) {
		st->frames++;
		ts_ms = (uint64_t)h->ts.tv_sec * 1000u +
			(uint64_t)h->ts.tv_usec / 1000u;
		if (st->frames == 1 && o->at_utc)
			atomic_store(&clock.shift_s,
				     o->at_utc - (int64_t)h->ts.tv_sec);
		size_t off;
		if (cg_decode_link(dlt, frame, h->caplen, &off) !=
		    CG_DECODE_OK) {
			st->link_errors++;
			continue;
		}
		const uint8_t *l3 = frame + off;
		size_t caplen = h->caplen - off;
		size_t wirelen = h->len > off ? h->len - off : caplen;

		struct cg_packet p;
		struct ct_entry *e = NULL;
		uint8_t side = 0;
		if (cg_decode_ip(l3, caplen, wirelen, &p) == CG_DECODE_OK) {
			struct cg_flow_key k;
			cg_flow_key_of(&p, &k, &side);
			e = ct_get(&ct, &k, side);
		}
		if (e && (e->mark == CT_ALLOW || e->mark == CT_BLOCK ||
			  (e->mark == CT_WATCH && side != e->orig_side))) {
			st->bypassed++;
			continue;
		}
		if (last_tick && ts_ms >= last_tick + 1000) {
			cg_worker_tick(w, &rt, ts_ms, ts_ms);
			last_tick = ts_ms;
		} else if (!last_tick) {
			last_tick = ts_ms;
		}
		/* Ethernet's source address names a seat by MAC. */
		struct cg_pkt_meta meta = {.from_lan = -1};
		if (dlt == DLT_EN10MB && h->caplen >= 12)
			meta.mac = frame + 6;
		double t0 = mono_s();
		enum cg_action a = cg_worker_packet(w, &rt, l3, caplen,
						    wirelen, &meta, ts_ms, ts_ms);
		t_pipeline += mono_s() - t0;
		st->to_worker++;
		if (e) {
			/* A metered flow's heartbeats are the kernel's
			 * timing; replay lets the kernel carry it. */
			if (a == CG_MARK_ALLOW || a == CG_MARK_METER)
				e->mark = CT_ALLOW;
			else if (a == CG_MARK_BLOCK)
				e->mark = CT_BLOCK;
			else if (a == CG_MARK_WATCH)
				e->mark = CT_WATCH;
		}
	}
	if (rc == PCAP_ERROR) {
		result = cg_error_set(err, "%s: frame %llu: %s", path,
				      (unsigned long long)st->frames + 1,
				      pcap_geterr(pc));
	}
	double t0 = mono_s();
	cg_worker_finish(w, &rt, ts_ms);
	t_pipeline += mono_s() - t0;
	st->seconds = t_pipeline;

	if (o->summary) {
		const struct cg_worker_stats *ws = cg_worker_stats(w);
		fprintf(o->out,
			"# %s: %llu frames, %llu to the pipeline, %llu carried "
			"by the kernel, %llu flows, %llu allowed, %llu "
			"watched, %llu blocked, %llu DNS queries (%llu "
			"blocked), %llu HTTP requests (%llu blocked)\n",
			path, (unsigned long long)st->frames,
			(unsigned long long)st->to_worker,
			(unsigned long long)st->bypassed,
			(unsigned long long)ws->flows_new,
			(unsigned long long)ws->allowed,
			(unsigned long long)ws->watched,
			(unsigned long long)ws->blocked,
			(unsigned long long)ws->dns_queries,
			(unsigned long long)ws->dns_blocked,
			(unsigned long long)ws->http_requests,
			(unsigned long long)ws->http_blocked);
		fprintf(o->out, "# packets not decoded:");
		unsigned bad = 0;
		for (int i = 1; i < CG_DECODE__COUNT; i++)
			if (ws->decode[i]) {
				fprintf(o->out, " %s %llu",
					cg_decode_status_str(
						(enum cg_decode_status)i),
					(unsigned long long)ws->decode[i]);
				bad++;
			}
		if (st->link_errors) {
			fprintf(o->out, " link %llu",
				(unsigned long long)st->link_errors);
			bad++;
		}
		fprintf(o->out, "%s\n", bad ? "" : " none");
		if (st->seconds > 0)
			fprintf(o->out,
				"# pipeline time %.3f ms, %.0f packets/s\n",
				st->seconds * 1e3,
				(double)st->to_worker / st->seconds);
	}
	ct_free(&ct);
	cg_worker_free(w);
	cg_state_free(rt.state);
	cg_injector_close(inj);
	pcap_close(pc);
	return result;
}
