/*
 * Private to cafeguardd: the daemon's state and what its parts share.
 * main.c runs the threads and the start and stop; main_runtime.c loads
 * and reloads the rules and keeps the state; main_control.c answers the
 * control socket.
 */
#ifndef CAFEGUARD_MAIN_INTERNAL_H
#define CAFEGUARD_MAIN_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "cafeguard/auth.h"
#include "cafeguard/captive.h"
#include "cafeguard/classify.h"
#include "cafeguard/clock.h"
#include "cafeguard/config.h"
#include "cafeguard/eventlog.h"
#include "cafeguard/nfqueue.h"
#include "cafeguard/portal.h"
#include "cafeguard/rules.h"
#include "cafeguard/worker.h"

#define EVENT_RING 4096
#define STATS_WORDS (sizeof(struct cg_worker_stats) / sizeof(uint64_t))

/* What the workers share: the runtime (rules and state, swapped whole on
 * reload) and the clock. */
struct shared {
	_Atomic(struct cg_runtime *) rt;
	atomic_bool stop;
	struct cg_clock clock;
	bool verbose;
	pthread_mutex_t log_lock; /* verbose lines only; not the hot path */
};

struct worker_ctx {
	struct shared *sh;
	uint16_t id;
	struct cg_classifier *cls;
	struct cg_injector *inj;
	struct cg_event_ring *ring;
	struct cg_worker *w;
	struct cg_nfq *q;
	pthread_t thread;
	bool started;
	atomic_uint_fast64_t quiescent; /* bumped between batches */
	uint64_t next_tick_ms;
	/* The worker's counters, copied once a second for `status` and
	 * metrics, with its queue's and its open flows. */
	_Atomic uint64_t snap[STATS_WORDS];
	_Atomic uint64_t qsnap[6];
	_Atomic uint32_t flows_snap;
	int failed;
	struct cg_error err;
};

/* Blocks by category and by reason, counted as the logger writes them
 * (its thread), read for metrics (main); names past the table's end are
 * counted as "other". */
#define COUNT_NAMES 64
struct named_count {
	char name[48];
	uint64_t n;
};
struct block_counts {
	pthread_mutex_t lock;
	struct named_count cat[COUNT_NAMES], reason[16];
	size_t ncat, nreason;
};

struct daemon {
	const char *conf;
	struct cg_config cfg;
	struct shared sh;
	struct worker_ctx *wc;
	size_t n;
	struct cg_eventlog *log;
	struct cg_captive *captive; /* NULL: no portal */
	struct cg_portal *portal;
	struct cg_auth *auth; /* the dashboard's logins; NULL: none */
	char *state_path;
	time_t started;
	/* For metrics: the syslog sink (owned by the log), reload results
	 * (main thread), blocks counted by the logger thread. */
	struct cg_event_sink *syslog;
	uint64_t reloads_ok, reloads_failed;
	struct block_counts counts;
};

uint64_t mono_ms(void);
uint64_t wall_ms(void);
void logmsg(const char *fmt, ...) CG_PRINTF(1, 2);
/* An event of the daemon's own (start, stop, reload) from the main
 * thread; log may be NULL. */
void post(struct cg_eventlog *log, enum cg_event_type t, const char *detail);

/* ---- main_runtime.c ---- */

/* Config and rules from path (every message to stderr and to also, if
 * not NULL); NULL on any error. */
struct cg_rules *load_rules(const char *path, struct cg_config *cfg,
			    const struct cg_classifier *names, FILE *also);
void print_rules(const struct cg_rules *r);
/* The policy's clock (the test clock when shifted). */
int64_t policy_now(const struct daemon *dm);
void save_state(struct daemon *dm);
/* Returns 0 when the new rules run, -1 when the old ones stay; out (or
 * NULL) hears why. */
int reload(struct daemon *dm, FILE *out);

/* ---- main_control.c ---- */

/* Answers one request waiting on the control socket lfd. */
void handle_control(struct daemon *dm, int lfd);

#endif
