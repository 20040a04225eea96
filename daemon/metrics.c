#include "cafeguard/metrics.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bytes past cap are counted, not written, so one pass both renders and
 * measures. */
struct out {
	char *p;
	size_t cap, len;
};

struct label {
	const char *k, *v;
};

/* A counter of one struct's uint64_t member. */
struct field {
	const char *name, *help;
	size_t off;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->len < o->cap) {
		size_t room = o->cap - o->len;
		memcpy(o->p + o->len, s, n < room ? n : room);
	}
	o->len += n;
}

static void put_str(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void put_u64(struct out *o, uint64_t v)
{
	char b[24];
	int n = snprintf(b, sizeof(b), "%" PRIu64, v);
	put(o, b, (size_t)n);
}

/* Exposition format 0.0.4: label values escape backslash, double quote
 * and newline; HELP text only backslash and newline. */
static void put_escaped(struct out *o, const char *s, bool label)
{
	for (; s && *s; s++) {
		if (*s == '\\')
			put(o, "\\\\", 2);
		else if (*s == '\n')
			put(o, "\\n", 2);
		else if (label && *s == '"')
			put(o, "\\\"", 2);
		else
			put(o, s, 1);
	}
}

/* HELP and TYPE, once per family, before its samples (the format wants
 * a family's lines together). */
static void header(struct out *o, const char *name, const char *type,
		   const char *help)
{
	put_str(o, "# HELP ");
	put_str(o, name);
	put(o, " ", 1);
	put_escaped(o, help, false);
	put_str(o, "\n# TYPE ");
	put_str(o, name);
	put(o, " ", 1);
	put_str(o, type);
	put(o, "\n", 1);
}

static void sample(struct out *o, const char *name, const struct label *l,
		   size_t nl, uint64_t v)
{
	put_str(o, name);
	for (size_t i = 0; i < nl; i++) {
		put(o, i ? "," : "{", 1);
		put_str(o, l[i].k);
		put(o, "=\"", 2);
		put_escaped(o, l[i].v, true);
		put(o, "\"", 1);
	}
	put_str(o, nl ? "} " : " ");
	put_u64(o, v);
	put(o, "\n", 1);
}

static void single(struct out *o, const char *name, const char *type,
		   const char *help, uint64_t v)
{
	header(o, name, type, help);
	sample(o, name, NULL, 0, v);
}

static uint64_t member(const void *base, size_t off)
{
	uint64_t v;
	memcpy(&v, (const char *)base + off, sizeof(v));
	return v;
}

static bool same_name(const char *a, const char *b)
{
	return !strcmp(a ? a : "", b ? b : "");
}

/* One series per distinct name: two entries with one name would be a
 * duplicate series, which a scraper rejects whole. */
static void counts(struct out *o, const char *name, const char *type,
		   const char *help, const char *key,
		   const struct cg_metrics_count *c, size_t n)
{
	if (!n)
		return;
	header(o, name, type, help);
	for (size_t i = 0; i < n; i++) {
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++)
			seen = same_name(c[j].name, c[i].name);
		if (seen)
			continue;
		uint64_t sum = 0;
		for (size_t j = i; j < n; j++)
			if (same_name(c[j].name, c[i].name))
				sum += c[j].value;
		struct label l = {key, c[i].name ? c[i].name : ""};
		sample(o, name, &l, 1, sum);
	}
}

/* ---- the daemon as a whole ---- */

static void render_process(struct out *o, const struct cg_metrics_input *in)
{
	struct label l = {"version",
			  in->version ? in->version : CAFEGUARD_VERSION};
	header(o, "cafeguard_build_info", "gauge",
	       "Always 1; the version is in the label.");
	sample(o, "cafeguard_build_info", &l, 1, 1);
	single(o, "cafeguard_uptime_seconds", "gauge",
	       "Seconds since the daemon started.", in->uptime_seconds);
	single(o, "cafeguard_fail_open", "gauge",
	       "1 while packets pass without inspection (fail-open).",
	       in->fail_open);
	single(o, "cafeguard_fail_open_seconds_total", "counter",
	       "Seconds spent fail-open since the daemon started.",
	       in->fail_open_seconds);
	single(o, "cafeguard_rules_generation", "gauge",
	       "Generation of the rule set in force (1 + reloads).",
	       in->rules_generation);

	const char *name = "cafeguard_rules_reloads_total";
	struct label ok = {"result", "ok"}, failed = {"result", "failed"};
	header(o, name, "counter",
	       "Reloads of the configuration and lists, by result.");
	sample(o, name, &ok, 1, in->reloads_ok);
	sample(o, name, &failed, 1, in->reloads_failed);
}

static void render_blocks(struct out *o, const struct cg_metrics_input *in)
{
	counts(o, "cafeguard_list_entries", "gauge",
	       "Entries in the lists of a category.", "category",
	       in->list_entries, in->nlist_entries);
	counts(o, "cafeguard_blocks_by_category_total", "counter",
	       "Blocks by the category whose list named the host.", "category",
	       in->blocks_by_category, in->nblocks_by_category);
	counts(o, "cafeguard_blocks_by_reason_total", "counter",
	       "Blocks by reason (list, app, app-category, budget, "
	       "schedule, ...).",
	       "reason", in->blocks_by_reason, in->nblocks_by_reason);
	single(o, "cafeguard_eventlog_written_total", "counter",
	       "Events written to the operator's log.", in->events_written);
	single(o, "cafeguard_eventlog_dropped_total", "counter",
	       "Events lost because an event ring was full.",
	       in->events_dropped);
}

/* ---- workers ---- */

#define WF(n, f, h)                                                            \
	{                                                                      \
		"cafeguard_worker_" n, h, offsetof(struct cg_worker_stats, f)  \
	}
static const struct field worker_fields[] = {
    WF("packets_total", packets, "Packets inspected."),
    WF("bytes_total", bytes, "Bytes of the packets inspected (on the wire)."),
    WF("flows_new_total", flows_new, "Connections seen starting."),
    WF("flows_expired_total", flows_expired,
       "Connections forgotten after the idle timeout."),
    WF("flows_evicted_total", flows_evicted,
       "Connections forgotten because the flow table was full."),
    WF("flows_reused_total", flows_reused,
       "New SYNs on a connection still held."),
    WF("flows_allowed_total", allowed,
       "Connections handed to the kernel as allowed."),
    WF("flows_watched_total", watched,
       "Connections allowed with every request checked."),
    WF("flows_metered_total", metered,
       "Connections allowed with a heartbeat for a budget or window."),
    WF("flows_blocked_total", blocked, "Connections blocked."),
    WF("flows_gave_up_total", gave_up,
       "Connections decided on what was known after the packet limit."),
    WF("dns_queries_total", dns_queries, "DNS queries read."),
    WF("dns_blocked_total", dns_blocked, "DNS queries answered blocked."),
    WF("dns_forced_total", dns_forced, "SafeSearch answers given."),
    WF("dns_canaries_total", dns_canaries,
       "DoH and Private Relay canary names answered."),
    WF("captive_refused_total", captive,
       "Requests of seats that have not passed the splash page."),
    WF("http_requests_total", http_requests, "HTTP requests read."),
    WF("http_blocked_total", http_blocked, "HTTP requests blocked."),
    WF("heartbeats_total", heartbeats, "Heartbeats of metered flows."),
    WF("heartbeats_lost_total", heartbeats_lost,
       "Heartbeats of metered flows the table had forgotten."),
    WF("budget_blocked_total", budget_blocked,
       "Metered flows cut when a budget ran out or a window began."),
    WF("blocked_again_total", blocked_again,
       "Packets of an already blocked connection reset again."),
    WF("out_of_order_total", out_of_order,
       "Client segments dropped to keep the stream in order."),
    WF("dpi_exhausted_total", dpi_exhausted,
       "Flows that found no classifier state free."),
    WF("slots_exhausted_total", slots_exhausted,
       "Flows that found no reassembly buffer free."),
    WF("inject_errors_total", inject_errors,
       "Answers (resets, DNS, ICMP) that could not be sent."),
    WF("events_dropped_total", events_dropped,
       "Events lost because the worker's event ring was full."),
};
#undef WF

/* Label values for enum cg_decode_status, in its order;
 * cg_decode_status_str() is for people ("not IP"). */
static const char *const decode_labels[] = {
    "ok",	"not_ip",   "truncated", "bad_header",
    "fragment", "other_l4", "bad_link",
};
_Static_assert(sizeof(decode_labels) / sizeof(decode_labels[0]) ==
		   CG_DECODE__COUNT,
	       "a decode status without a metrics label");

static void render_workers(struct out *o, const struct cg_metrics_input *in)
{
	char id[24];
	struct label l[2] = {{"worker", id}, {"status", NULL}};
	if (!in->nworkers)
		return;
	for (size_t f = 0; f < sizeof(worker_fields) / sizeof(*worker_fields);
	     f++) {
		const struct field *fd = &worker_fields[f];
		header(o, fd->name, "counter", fd->help);
		for (size_t i = 0; i < in->nworkers; i++) {
			snprintf(id, sizeof(id), "%zu", i);
			sample(o, fd->name, l, 1,
			       member(&in->workers[i].st, fd->off));
		}
	}
	const char *name = "cafeguard_worker_decode_total";
	header(o, name, "counter", "Packets by what decoding them found.");
	for (size_t i = 0; i < in->nworkers; i++) {
		snprintf(id, sizeof(id), "%zu", i);
		for (size_t s = 0; s < CG_DECODE__COUNT; s++) {
			l[1].v = decode_labels[s];
			sample(o, name, l, 2, in->workers[i].st.decode[s]);
		}
	}
	name = "cafeguard_worker_flows_open";
	header(o, name, "gauge", "Connections in the flow table now.");
	for (size_t i = 0; i < in->nworkers; i++) {
		snprintf(id, sizeof(id), "%zu", i);
		sample(o, name, l, 1, in->workers[i].flows);
	}
}

/* ---- netfilter queues ---- */

#define QF(n, f, h)                                                            \
	{                                                                      \
		"cafeguard_nfqueue_" n, h, offsetof(struct cg_nfq_stats, f)    \
	}
static const struct field queue_fields[] = {
    QF("packets_total", packets, "Packets received from the queue."),
    QF("batches_total", batches, "Receive and verdict batches."),
    QF("enobufs_total", enobufs,
       "ENOBUFS: times the kernel dropped queue messages."),
    QF("recv_errors_total", recv_errors, "Receive errors."),
    QF("verdict_errors_total", verdict_errors, "Verdicts not sent."),
    QF("bad_messages_total", bad_messages,
       "Netlink messages that could not be parsed."),
};
#undef QF

static void render_kernel_drops(struct out *o,
				const struct cg_metrics_input *in)
{
	const char *name = "cafeguard_nfqueue_kernel_dropped_total";
	char q[8];
	struct label l[2] = {{"queue", q}, {"reason", NULL}};
	bool any = false;
	for (size_t i = 0; i < in->nqueues; i++)
		any |= in->queues[i].has_kernel;
	if (!any)
		return;
	header(o, name, "counter",
	       "Packets the kernel dropped (or, fail-open, accepted "
	       "uninspected): queue full, or our socket buffer full.");
	for (size_t i = 0; i < in->nqueues; i++) {
		const struct cg_metrics_queue *mq = &in->queues[i];
		if (!mq->has_kernel)
			continue;
		snprintf(q, sizeof(q), "%u", mq->queue);
		l[1].v = "queue_full";
		sample(o, name, l, 2, mq->queue_dropped);
		l[1].v = "socket_full";
		sample(o, name, l, 2, mq->user_dropped);
	}
}

static void render_queues(struct out *o, const struct cg_metrics_input *in)
{
	char q[8];
	struct label l = {"queue", q};
	if (!in->nqueues)
		return;
	for (size_t f = 0; f < sizeof(queue_fields) / sizeof(*queue_fields);
	     f++) {
		const struct field *fd = &queue_fields[f];
		header(o, fd->name, "counter", fd->help);
		for (size_t i = 0; i < in->nqueues; i++) {
			snprintf(q, sizeof(q), "%u", in->queues[i].queue);
			sample(o, fd->name, &l, 1,
			       member(&in->queues[i].st, fd->off));
		}
	}
	render_kernel_drops(o, in);
}

/* ---- portal and syslog ---- */

static void render_portal(struct out *o, const struct cg_portal_stats *p)
{
	const char *name = "cafeguard_portal_refused_total";
	struct label rate = {"reason", "rate"}, bad = {"reason", "bad"};
	single(o, "cafeguard_portal_requests_total", "counter",
	       "Requests the portal read.", p->requests);
	single(o, "cafeguard_portal_pages_total", "counter",
	       "HTML pages the portal rendered.", p->pages);
	single(o, "cafeguard_portal_splash_accepted_total", "counter",
	       "Splash pages accepted (\"I agree\").", p->accepted);
	header(o, name, "counter",
	       "Requests refused: rate (429) or bad (other 4xx).");
	sample(o, name, &rate, 1, p->refused_rate);
	sample(o, name, &bad, 1, p->refused_bad);
}

static void render_syslog(struct out *o, const struct cg_syslog_stats *s)
{
	single(o, "cafeguard_syslog_sent_total", "counter",
	       "Events handed whole to the kernel for the collector.", s->sent);
	single(o, "cafeguard_syslog_dropped_total", "counter",
	       "Events that never reached the collector.", s->dropped);
	single(o, "cafeguard_syslog_errors_total", "counter",
	       "Socket errors talking to the collector.", s->errors);
	single(o, "cafeguard_syslog_reconnects_total", "counter",
	       "Connections to the collector made again after a loss.",
	       s->reconnects);
	single(o, "cafeguard_syslog_connected", "gauge",
	       "1 while the collector is reachable (TCP connected; UDP "
	       "always).",
	       s->connected);
}

static void render(struct out *o, const struct cg_metrics_input *in)
{
	render_process(o, in);
	render_blocks(o, in);
	render_workers(o, in);
	render_queues(o, in);
	if (in->has_portal)
		render_portal(o, &in->portal);
	if (in->has_syslog)
		render_syslog(o, &in->syslog);
}

size_t cg_metrics_render(const struct cg_metrics_input *in, char *out,
			 size_t outsz)
{
	struct out o = {out, outsz, 0};
	render(&o, in);
	if (o.len >= outsz)
		return 0;
	out[o.len] = '\0';
	return o.len;
}

size_t cg_metrics_render_size(const struct cg_metrics_input *in)
{
	struct out o = {NULL, 0, 0};
	render(&o, in);
	return o.len;
}

char *cg_metrics_render_alloc(const struct cg_metrics_input *in, size_t *len)
{
	size_t n = cg_metrics_render_size(in);
	char *p = malloc(n + 1);
	if (!p)
		return NULL;
	size_t got = cg_metrics_render(in, p, n + 1);
	if (len)
		*len = got;
	return p;
}
