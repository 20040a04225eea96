/*
 * cafeguardd: the gateway daemon.
 *
 * Order of start: config and rules (refuse to start on any error), then
 * per worker a classifier, injector, event ring and bound queue, then the
 * kernel rules, then the threads.  Queues are bound before the rules send
 * packets to them, so nothing is dropped for want of a listener.  Order of
 * stop: kernel rules out first (packets stop being queued), then the
 * workers drain and stop, then the event log.
 */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cafeguard/classify.h"
#include "cafeguard/config.h"
#include "cafeguard/eventlog.h"
#include "cafeguard/fwrules.h"
#include "cafeguard/nfqueue.h"
#include "cafeguard/rules.h"
#include "cafeguard/worker.h"

#define EVENT_RING 4096

/* What the workers share: the rules, read-only, swapped whole. */
struct shared {
	_Atomic(const struct cg_rules *) rules;
	atomic_bool stop;
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
	uint64_t next_expire_ms;
	int failed;
	struct cg_error err;
};

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void logmsg(const char *fmt, ...) CG_PRINTF(1, 2);
static void logmsg(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "cafeguardd: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static enum cg_action on_packet(void *arg, const uint8_t *l3, size_t caplen,
				size_t wirelen, int from_lan)
{
	struct worker_ctx *c = arg;
	const struct cg_rules *r =
		atomic_load_explicit(&c->sh->rules, memory_order_acquire);
	/* CLOCK_*_COARSE would be cheaper, but the vDSO makes either a
	 * function call, not a system call. */
	return cg_worker_packet(c->w, r, l3, caplen, wirelen, from_lan,
				mono_ms(), wall_ms());
}

static void on_tick(void *arg)
{
	struct worker_ctx *c = arg;
	atomic_fetch_add_explicit(&c->quiescent, 1, memory_order_release);
	uint64_t now = mono_ms();
	if (now >= c->next_expire_ms) {
		cg_worker_tick(c->w, atomic_load_explicit(&c->sh->rules,
							  memory_order_acquire),
			       now);
		c->next_expire_ms = now + 1000;
	}
}

static void on_report(void *arg, const struct cg_report *r)
{
	struct worker_ctx *c = arg;
	const struct cg_flow *f = r->flow;
	char cli[48], srv[48], why[512];
	cg_addr_str(f->key.family, f->key.addr[f->client], cli, sizeof(cli));
	cg_addr_str(f->key.family, f->key.addr[!f->client], srv, sizeof(srv));
	if (r->decision)
		cg_decision_describe(r->decision, r->host, c->cls, why,
				     sizeof(why));
	else
		snprintf(why, sizeof(why), "-");
	pthread_mutex_lock(&c->sh->log_lock);
	logmsg("worker %u: %s:%u -> %s:%u %s %s %s: %s (%s)", c->id, cli,
	       f->key.port[f->client], srv, f->key.port[!f->client], r->app,
	       r->host ? r->host : "-",
	       r->decision ? cg_outcome_str(r->decision->outcome) : "pending",
	       why, cg_action_str(r->action));
	pthread_mutex_unlock(&c->sh->log_lock);
}

static void *worker_main(void *arg)
{
	struct worker_ctx *c = arg;
	if (cg_nfq_run(c->q, on_packet, on_tick, c, &c->sh->stop, &c->err) <
	    0) {
		c->failed = 1;
		/* Wake main's sigwait so the whole daemon stops cleanly
		 * instead of running with a dead queue. */
		atomic_store(&c->sh->stop, true);
		kill(getpid(), SIGTERM);
	}
	return NULL;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: cafeguardd [-c FILE] [-n] [-v]\n"
		"  -c, --config FILE  configuration (default %s/cafeguard.conf)\n"
		"  -n, --check        check configuration and lists, then exit\n"
		"  -v, --verbose      log every decision\n"
		"  -V, --version      print the version\n"
		"Signals: TERM/INT stop (kernel rules removed), HUP reloads "
		"the lists and rules.\n",
		CAFEGUARD_SYSCONFDIR);
}

static struct cg_rules *load_rules(const char *path, struct cg_config *cfg,
				   const struct cg_classifier *names)
{
	struct cg_diag d;
	memset(&d, 0, sizeof(d));
	struct cg_rules *r = NULL;
	if (cg_config_load(path, cfg, &d) == 0)
		r = cg_rules_build(cfg, names, &d);
	cg_diag_print(&d, stderr);
	if (!r)
		fprintf(stderr, "cafeguardd: %s: %zu error(s)\n", path,
			d.errors);
	cg_diag_clear(&d);
	return r;
}

static void print_rules(const struct cg_rules *r)
{
	for (size_t i = 0; i < r->nlists; i++) {
		const struct cg_list *l = &r->lists[i];
		if (!l->set)
			continue;
		logmsg("list %s: %zu entries from %zu file(s), %zu lines "
		       "skipped, %zu duplicates, %.1f ms",
		       l->name, cg_domainset_count(l->set), l->nfiles,
		       l->stats.skipped, l->stats.duplicates, l->load_ms);
	}
}

/* Publishes the new rules, waits until every worker has passed a point
 * where it holds no rules, then frees the old ones. */
static void swap_rules(struct shared *sh, struct worker_ctx *wc, size_t n,
		       struct cg_rules *nr)
{
	uint64_t seen[CG_QUEUE_MAX_COUNT];
	for (size_t i = 0; i < n; i++)
		seen[i] = atomic_load(&wc[i].quiescent);
	const struct cg_rules *old = atomic_exchange(&sh->rules, nr);
	for (size_t i = 0; i < n; i++)
		while (atomic_load(&wc[i].quiescent) == seen[i] &&
		       !wc[i].failed)
			nanosleep(&(struct timespec){0, 5 * 1000 * 1000}, NULL);
	cg_rules_free((struct cg_rules *)old);
}

static bool same_runtime(const struct cg_config *a, const struct cg_config *b)
{
	return !strcmp(a->lan, b->lan) && !strcmp(a->wan, b->wan) &&
	       a->fail_open == b->fail_open && a->firewall == b->firewall &&
	       a->mark_mask == b->mark_mask &&
	       a->queue_first == b->queue_first &&
	       a->queue_count == b->queue_count &&
	       a->queue_length == b->queue_length &&
	       a->copy_range == b->copy_range && a->batch == b->batch &&
	       a->max_flows == b->max_flows && a->dpi_flows == b->dpi_flows &&
	       a->buffers == b->buffers;
}

static void post(struct cg_eventlog *log, enum cg_event_type t,
		 const char *detail)
{
	if (!log)
		return;
	struct cg_event e;
	memset(&e, 0, sizeof(e));
	e.time_ms = wall_ms();
	e.type = (uint8_t)t;
	snprintf(e.detail, sizeof(e.detail), "%s", detail);
	cg_eventlog_post(log, &e);
}

int main(int argc, char **argv)
{
	const char *conf = CAFEGUARD_SYSCONFDIR "/cafeguard.conf";
	bool check = false;
	struct shared sh;
	memset(&sh, 0, sizeof(sh));
	static const struct option lopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"check", no_argument, NULL, 'n'},
		{"verbose", no_argument, NULL, 'v'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int opt;
	while ((opt = getopt_long(argc, argv, "c:nvVh", lopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			conf = optarg;
			break;
		case 'n':
			check = true;
			break;
		case 'v':
			sh.verbose = true;
			break;
		case 'V':
			printf("cafeguardd %s\n", CAFEGUARD_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "cafeguardd: unexpected argument \"%s\"\n",
			argv[optind]);
		usage(stderr);
		return 2;
	}

	/* Signals are taken synchronously by main (sigwaitinfo); every
	 * thread inherits the blocked mask. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	struct cg_config cfg;
	struct cg_error err = {{0}};
	struct cg_classifier *names = cg_classifier_new(0, &err);
	if (!names) {
		logmsg("%s", err.msg);
		return 1;
	}
	struct cg_rules *rules = load_rules(conf, &cfg, names);
	if (!rules) {
		cg_config_free(&cfg);
		cg_classifier_free(names);
		return 1;
	}
	print_rules(rules);
	if (check) {
		logmsg("%s: configuration and lists are valid", conf);
		cg_rules_free(rules);
		cg_config_free(&cfg);
		cg_classifier_free(names);
		return 0;
	}
	cg_classifier_free(names);

	int rc = 1;
	size_t n = cfg.queue_count;
	struct worker_ctx *wc = calloc(n, sizeof(*wc));
	struct cg_event_ring **rings = calloc(n, sizeof(*rings));
	struct cg_eventlog *log = NULL;
	bool fw_installed = false;
	pthread_mutex_init(&sh.log_lock, NULL);
	atomic_init(&sh.rules, rules);
	atomic_init(&sh.stop, false);
	if (!wc || !rings) {
		logmsg("out of memory");
		goto out;
	}

	int lan_ifindex = 0;
	if (!cfg.lan[0]) {
		logmsg("%s: gateway.lan is not set: name the interface that "
		       "faces the seats",
		       conf);
		goto out;
	}
	lan_ifindex = (int)if_nametoindex(cfg.lan);
	if (!lan_ifindex) {
		logmsg("%s: gateway.lan: interface \"%s\": %s", conf, cfg.lan,
		       strerror(errno));
		goto out;
	}
	if (cfg.wan[0] && !if_nametoindex(cfg.wan)) {
		logmsg("%s: gateway.wan: interface \"%s\": %s", conf, cfg.wan,
		       strerror(errno));
		goto out;
	}

	for (size_t i = 0; i < n; i++) {
		struct worker_ctx *c = &wc[i];
		c->sh = &sh;
		c->id = (uint16_t)i;
		atomic_init(&c->quiescent, 0);
		/* nDPI's module init must not run in parallel: serial. */
		c->cls = cg_classifier_new(cfg.dpi_flows, &err);
		c->inj = c->cls ? cg_injector_open_raw(cfg.mark_block, &err)
				 : NULL;
		if (!c->inj)
			goto fail;
		if (cfg.events_file) {
			c->ring = cg_event_ring_new(EVENT_RING);
			if (!c->ring) {
				cg_error_set(&err, "out of memory");
				goto fail;
			}
			rings[i] = c->ring;
		}
		struct cg_worker_opts wo = {
			.id = (uint16_t)i,
			.max_flows = cfg.max_flows,
			.idle_timeout_ms = cfg.idle_timeout_s * 1000u,
			.max_packets = cfg.max_packets,
			.dpi_flows = cfg.dpi_flows,
			.buffers = cfg.buffers,
			.fail_open = cfg.fail_open,
		};
		c->w = cg_worker_new(&wo, c->cls, c->inj, c->ring, &err);
		if (!c->w)
			goto fail;
		if (sh.verbose)
			cg_worker_set_report(c->w, on_report, c);
		struct cg_nfq_opts qo = {
			.queue = (uint16_t)(cfg.queue_first + i),
			.maxlen = cfg.queue_length,
			.copy_range = cfg.copy_range,
			.batch = cfg.batch,
			.fail_open = cfg.fail_open,
			.lan_ifindex = lan_ifindex,
			.mark_mask = cfg.mark_mask,
			.mark_allow = cfg.mark_allow,
			.mark_block = cfg.mark_block,
			.mark_watch = cfg.mark_watch,
		};
		c->q = cg_nfq_open(&qo, &err);
		if (!c->q)
			goto fail;
	}

	if (cfg.events_file) {
		struct cg_event_sink *sink =
			cg_jsonl_sink_open(cfg.events_file, &err);
		if (!sink)
			goto fail;
		log = cg_eventlog_start(rings, n, sink, 200, &err);
		if (!log) {
			sink->close(sink);
			goto fail;
		}
	}

	if (cg_fw_install(&cfg, &err) < 0)
		goto fail;
	fw_installed = true;

	for (size_t i = 0; i < n; i++) {
		int e = pthread_create(&wc[i].thread, NULL, worker_main, &wc[i]);
		if (e) {
			cg_error_set(&err, "worker thread: %s", strerror(e));
			goto fail;
		}
		wc[i].started = true;
	}
	logmsg("running: %zu queue(s) from %u on %s, fail_open=%s, %zu "
	       "domains in %zu list(s), %zu blocked app(s)",
	       n, cfg.queue_first, cfg.lan, cfg.fail_open ? "true" : "false",
	       cg_rules_entries(rules), rules->nblock, rules->nblock_apps);
	post(log, CG_EV_START, "started");

	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&sigs, &si);
		if (sig < 0)
			continue;
		if (sig == SIGHUP) {
			logmsg("reloading %s", conf);
			struct cg_config ncfg;
			struct cg_rules *nr = load_rules(conf, &ncfg, wc[0].cls);
			if (!nr) {
				logmsg("reload failed: the running rules stay "
				       "in force");
				cg_config_free(&ncfg);
				continue;
			}
			if (!same_runtime(&cfg, &ncfg))
				logmsg("gateway, queue or inspect settings "
				       "changed: they take effect at the next "
				       "restart; lists and blocks apply now");
			print_rules(nr);
			swap_rules(&sh, wc, n, nr);
			rules = nr;
			cg_config_free(&ncfg);
			logmsg("reloaded");
			continue;
		}
		if (sig == SIGPIPE)
			continue;
		logmsg("stopping (signal %d)", sig);
		break;
	}
	rc = 0;
	goto stop;

fail:
	logmsg("%s", err.msg);
	rc = 1;
stop:
	if (fw_installed && cg_fw_remove(&cfg, &err) < 0) {
		logmsg("could not remove the kernel rules: %s", err.msg);
		rc = 1;
	}
	atomic_store(&sh.stop, true);
	for (size_t i = 0; i < n; i++) {
		if (wc[i].started) {
			pthread_join(wc[i].thread, NULL);
			if (wc[i].failed) {
				logmsg("worker %zu: %s", i, wc[i].err.msg);
				rc = 1;
			}
		}
	}
	for (size_t i = 0; i < n && wc; i++) {
		struct worker_ctx *c = &wc[i];
		if (c->w) {
			const struct cg_worker_stats *s = cg_worker_stats(c->w);
			struct cg_nfq_stats qs = {0};
			uint64_t qdrop = 0, udrop = 0;
			if (c->q) {
				cg_nfq_stats(c->q, &qs);
				cg_nfq_kernel_drops(
					(uint16_t)(cfg.queue_first + i),
					&qdrop, &udrop);
			}
			logmsg("worker %zu: %llu packets, %llu flows, %llu "
			       "allowed, %llu watched, %llu blocked, %llu DNS "
			       "blocked, %llu out of order, %llu undecodable; "
			       "kernel dropped %llu (queue full), %llu (socket "
			       "full), %llu ENOBUFS, %llu verdict errors",
			       i, (unsigned long long)s->packets,
			       (unsigned long long)s->flows_new,
			       (unsigned long long)s->allowed,
			       (unsigned long long)s->watched,
			       (unsigned long long)s->blocked,
			       (unsigned long long)s->dns_blocked,
			       (unsigned long long)s->out_of_order,
			       (unsigned long long)(s->decode[CG_DECODE_TRUNCATED] +
						    s->decode[CG_DECODE_BAD_HEADER] +
						    s->decode[CG_DECODE_NOT_IP]),
			       (unsigned long long)qdrop,
			       (unsigned long long)udrop,
			       (unsigned long long)qs.enobufs,
			       (unsigned long long)qs.verdict_errors);
		}
	}
	post(log, CG_EV_STOP, rc ? "stopped after an error" : "stopped");
	cg_eventlog_stop(log);
	for (size_t i = 0; i < n && wc; i++) {
		cg_nfq_close(wc[i].q);
		cg_worker_free(wc[i].w);
		cg_injector_close(wc[i].inj);
		cg_event_ring_free(wc[i].ring);
		cg_classifier_free(wc[i].cls);
	}
out:
	free(wc);
	free(rings);
	cg_rules_free((struct cg_rules *)atomic_load(&sh.rules));
	cg_config_free(&cfg);
	pthread_mutex_destroy(&sh.log_lock);
	return rc;
}
