/*
 * The pipeline fixture the worker tests share: rules built from inline
 * lists and config text, a test clock at Monday 2026-11-23 15:00 UTC, a
 * recording injector, an event ring, and a worker; an acceptance table
 * for the portal's captive checks.  run() sends the packet in buf.
 */
#ifndef CG_WORKER_TESTUTIL_H
#define CG_WORKER_TESTUTIL_H

#include "rules_testutil.h"

#include "cafeguard/captive.h"
#include "cafeguard/worker.h"

/* 2026-11-23, a Monday, 15:00 UTC (the tests run in UTC). */
#define MON_1500 INT64_C(1795446000)

struct fixture {
	struct test_rules *t;
	struct cg_clock clock;
	struct cg_runtime rt;
	struct cg_classifier *cls;
	struct cg_injector *inj;
	struct cg_event_ring *ring;
	struct cg_captive *cap;
	struct cg_worker *w;
	const uint8_t *mac; /* the sender's, for the next packets */
	bool heartbeat;
	uint64_t now;
	uint8_t buf[4096];
};

static inline struct fixture *wf_new(const char *const *lists,
				     const char *conf)
{
	setenv("TZ", "UTC", 1);
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct cg_error err;
	fx->t = tr_build(lists, conf);
	fx->rt.rules = fx->t->r;
	fx->rt.state = cg_state_new(fx->t->r);
	fx->cap = cg_captive_open(NULL, 64, &err);
	fx->rt.captive = fx->cap;
	fx->clock.fake = true;
	atomic_init(&fx->clock.shift_s, MON_1500 - 1);
	fx->cls = cg_classifier_new(64, &err);
	assert_non_null(fx->cls);
	fx->inj = cg_injector_open_recorder(16);
	fx->ring = cg_event_ring_new(64);
	struct cg_worker_opts o = {
		.id = 0,
		.max_flows = 64,
		.idle_timeout_ms = 60000,
		.max_packets = 16,
		.dpi_flows = 64,
		.buffers = 8,
		.meter_interval_ms = 60000,
		.fail_open = true,
		.clock = &fx->clock,
	};
	fx->w = cg_worker_new(&o, fx->cls, fx->inj, fx->ring, &err);
	assert_non_null(fx->w);
	fx->now = 1000;
	return fx;
}

static inline int wf_teardown(void **state)
{
	struct fixture *fx = *state;
	cg_worker_free(fx->w);
	cg_event_ring_free(fx->ring);
	cg_injector_close(fx->inj);
	cg_captive_free(fx->cap);
	cg_state_free(fx->rt.state);
	tr_free(fx->t);
	cg_classifier_free(fx->cls);
	free(fx);
	return 0;
}

/* The packet in buf (len bytes) from the LAN side (from_lan 1), the WAN
 * side (0) or unknown (-1), 10 ms after the last. */
static inline enum cg_action wf_run(struct fixture *fx, size_t len,
				    int from_lan)
{
	fx->now += 10;
	struct cg_pkt_meta meta = {.from_lan = from_lan,
				   .mac = from_lan ? fx->mac : NULL,
				   .heartbeat = fx->heartbeat};
	return cg_worker_packet(fx->w, &fx->rt, fx->buf, len, len, &meta,
				fx->now, fx->now);
}

#endif
