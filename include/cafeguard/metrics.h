/*
 * metrics: the daemon's counters in the Prometheus text exposition
 * format (version 0.0.4), for the collector a café chain already runs.
 *
 * A pure renderer: the daemon copies the numbers it has into a struct
 * cg_metrics_input (worker stats, queue stats, portal and syslog stats,
 * ...) and cg_metrics_render() writes the text.  No I/O, no locks, no
 * state: serving it (portal, control socket, a textfile for
 * node_exporter) is the caller's business.
 *
 * Names: every metric starts with "cafeguard_"; counters end in
 * "_total"; units are in the name ("_bytes_total", "_seconds").  A
 * family with no sample (no workers, no portal) is left out entirely.
 */
#ifndef CAFEGUARD_METRICS_H
#define CAFEGUARD_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cafeguard/nfqueue.h"
#include "cafeguard/portal.h"
#include "cafeguard/syslog.h"
#include "cafeguard/worker.h"

/* The Content-Type to serve the text with. */
#define CG_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* One labelled number: a category's blocks, a reason's, a list's size.
 * name is the label value (any bytes; escaped; NULL is ""). */
struct cg_metrics_count {
	const char *name;
	uint64_t value;
};

struct cg_metrics_worker {
	struct cg_worker_stats st; /* cg_worker_stats() */
	uint32_t flows;		   /* open now: cg_worker_flows() */
};

struct cg_metrics_queue {
	uint16_t queue;		/* netfilter queue number (the label) */
	struct cg_nfq_stats st; /* cg_nfq_stats() */
	bool has_kernel;	/* cg_nfq_kernel_drops() answered */
	uint64_t queue_dropped; /* kernel: queue full */
	uint64_t user_dropped;	/* kernel: our socket buffer full */
};

struct cg_metrics_input {
	const char *version; /* build_info; NULL: CAFEGUARD_VERSION */
	uint64_t uptime_seconds;

	/* workers[i] is labelled worker="i". */
	const struct cg_metrics_worker *workers;
	size_t nworkers;
	/* Queue numbers must differ. */
	const struct cg_metrics_queue *queues;
	size_t nqueues;

	bool fail_open;		    /* packets pass uninspected right now */
	uint64_t fail_open_seconds; /* spent so, since start */

	/* Entries with the same name are summed into one series. */
	const struct cg_metrics_count *blocks_by_category;
	size_t nblocks_by_category;
	const struct cg_metrics_count *blocks_by_reason;
	size_t nblocks_by_reason;
	const struct cg_metrics_count *list_entries; /* per category */
	size_t nlist_entries;

	uint64_t events_written; /* cg_eventlog_written() */
	uint64_t events_dropped; /* rings full, summed */

	bool has_portal;
	struct cg_portal_stats portal;
	bool has_syslog;
	struct cg_syslog_stats syslog;

	uint32_t rules_generation; /* struct cg_runtime's generation */
	uint64_t reloads_ok, reloads_failed;
};

/*
 * Writes the exposition of in into out (NUL-terminated).  Returns its
 * length, or 0 if out (outsz bytes, NULL when outsz is 0) is too small;
 * cg_metrics_render(in, NULL, 0) returns 0 as well, so ask
 * cg_metrics_render_size() for the size.
 */
size_t cg_metrics_render(const struct cg_metrics_input *in, char *out,
			 size_t outsz);

/* The length cg_metrics_render() needs (without the NUL). */
size_t cg_metrics_render_size(const struct cg_metrics_input *in);

/* The exposition in a malloc()ed string, its length in *len (may be
 * NULL); NULL without memory.  The caller frees it. */
char *cg_metrics_render_alloc(const struct cg_metrics_input *in, size_t *len);

#endif
