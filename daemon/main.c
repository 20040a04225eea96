/*
 * cafeguardd: the gateway daemon.
 *
 * Order of start: config and rules (refuse to start on any error), the
 * saved state, then per worker a classifier, injector, event ring and
 * bound queue, the portal (it binds the LAN address) and the event log
 * that feeds its status page, then the kernel rules, then the threads,
 * then the control socket.  Queues are bound before the rules send packets to them, so
 * nothing is dropped for want of a listener.  Order of stop: kernel rules
 * out first (packets stop being queued), then the workers drain and stop,
 * the state is saved, then the event log.
 */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cafeguard/control.h"
#include "cafeguard/fsutil.h"
#include "cafeguard/fwrules.h"
#include "cafeguard/state.h"
#include "cafeguard/store.h"
#include "cafeguard/syslog.h"
#include "main_internal.h"

/* ---- worker threads ---- */

static enum cg_action on_packet(void *arg, const uint8_t *l3, size_t caplen,
				size_t wirelen, const struct cg_pkt_meta *meta)
{
	struct worker_ctx *c = arg;
	const struct cg_runtime *rt =
		atomic_load_explicit(&c->sh->rt, memory_order_acquire);
	/* clock_gettime goes through the vDSO: a call, not a syscall. */
	return cg_worker_packet(c->w, rt, l3, caplen, wirelen, meta, mono_ms(),
				wall_ms());
}

static void on_tick(void *arg)
{
	struct worker_ctx *c = arg;
	/* The verdicts of the last batch are out (see cg_nfq_tick). */
	cg_injector_flush(c->inj);
	atomic_fetch_add_explicit(&c->quiescent, 1, memory_order_release);
	uint64_t now = mono_ms();
	if (now < c->next_tick_ms)
		return;
	c->next_tick_ms = now + 1000;
	cg_worker_tick(c->w,
		       atomic_load_explicit(&c->sh->rt, memory_order_acquire),
		       now, wall_ms());
	uint64_t v[STATS_WORDS];
	memcpy(v, cg_worker_stats(c->w), sizeof(v));
	for (size_t i = 0; i < STATS_WORDS; i++)
		atomic_store_explicit(&c->snap[i], v[i], memory_order_relaxed);
	struct cg_nfq_stats q;
	cg_nfq_stats(c->q, &q);
	const uint64_t qv[6] = {q.packets,	  q.batches,
				q.enobufs,	  q.recv_errors,
				q.verdict_errors, q.bad_messages};
	for (size_t i = 0; i < 6; i++)
		atomic_store_explicit(&c->qsnap[i], qv[i],
				      memory_order_relaxed);
	atomic_store_explicit(&c->flows_snap, cg_worker_flows(c->w),
			      memory_order_relaxed);
}

static void on_report(void *arg, const struct cg_report *r)
{
	struct worker_ctx *c = arg;
	const struct cg_flow *f = r->flow;
	char cli[48], srv[48], why[512];
	cg_addr_str(f->key.family, f->key.addr[f->client], cli, sizeof(cli));
	cg_addr_str(f->key.family, f->key.addr[!f->client], srv, sizeof(srv));
	if (r->decision)
		cg_decision_describe(r->rules, r->decision, r->host, c->cls,
				     why, sizeof(why));
	else
		snprintf(why, sizeof(why), "-");
	pthread_mutex_lock(&c->sh->log_lock);
	logmsg("worker %u: %s:%u -> %s:%u [%s%s%s] %s %s %s: %s (%s)", c->id,
	       cli, f->key.port[f->client], srv, f->key.port[!f->client],
	       r->seat ? r->seat : "", r->seat ? "/" : "",
	       r->profile ? r->profile : "-", r->app, r->host ? r->host : "-",
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
		/* Wake main so the whole daemon stops cleanly instead of
		 * running with a dead queue. */
		atomic_store(&c->sh->stop, true);
		kill(getpid(), SIGTERM);
	}
	return NULL;
}

/* ---- start and stop ---- */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: cafeguardd [-c FILE] [-n] [-v] [--fake-time "
		"\"YYYY-MM-DD HH:MM\"]\n"
		"  -c, --config FILE  configuration (default %s/cafeguard.conf)\n"
		"  -n, --check        check configuration and lists, then exit\n"
		"  -v, --verbose      log every decision\n"
		"      --fake-time T  run on a test clock starting at local "
		"time T\n"
		"                     (tests and demos; `cafeguardctl clock` "
		"moves it)\n"
		"  -V, --version      print the version\n"
		"Signals: TERM/INT stop (kernel rules removed), HUP reloads the "
		"rules.\n",
		CAFEGUARD_SYSCONFDIR);
}


/* The operator's store in front of the other sinks: it takes the
 * allowed-traffic counts, which go no further. */
static struct cg_event_sink *open_store(const struct cg_config *cfg,
					struct cg_event_sink *next,
					struct cg_error *err)
{
	struct cg_store_opts so = {.path = cfg->db_file,
				   .retention_days = cfg->retention_days,
				   .max_mb = cfg->max_db_mb,
				   .allowed_hosts = cfg->log_allowed_hosts};
	if (cg_mkdir_parent(cfg->db_file, 0755) < 0)
		logmsg("%s: %s", cfg->db_file, strerror(errno));
	struct cg_store *st = cg_store_open(&so, err);
	struct cg_event_sink *sink = st ? cg_store_sink_open(st, next) : NULL;
	if (!sink) {
		if (st) {
			cg_store_close(st);
			cg_error_set(err, "out of memory");
		}
		if (next)
			next->close(next);
	}
	return sink;
}

static void count_name(struct named_count *t, size_t *n, size_t cap,
		       const char *name)
{
	size_t i;
	for (i = 0; i < *n; i++)
		if (!strcmp(t[i].name, name))
			break;
	if (i == *n) {
		/* The last row takes every name the table has no room for. */
		if (*n < cap - 1) {
			(*n)++;
			snprintf(t[i].name, sizeof(t[i].name), "%s", name);
		} else {
			i = cap - 1;
			if (*n < cap) {
				*n = cap;
				snprintf(t[i].name, sizeof(t[i].name), "other");
			}
		}
	}
	t[i].n++;
}

static void count_event(void *ctx, const struct cg_event *e)
{
	struct block_counts *c = ctx;
	if (e->type != CG_EV_BLOCK)
		return;
	pthread_mutex_lock(&c->lock);
	count_name(c->cat, &c->ncat, COUNT_NAMES,
		   e->category[0] ? e->category : "-");
	count_name(c->reason, &c->nreason, 16, e->reason[0] ? e->reason : "-");
	pthread_mutex_unlock(&c->lock);
}

static void note_event(void *ctx, const struct cg_event *e)
{
	cg_portal_note_event(ctx, e);
}

/* The acceptance table (kept in the state directory) and the pages;
 * the workers find the table in the runtime. */
static int start_portal(struct daemon *dm, struct cg_error *err)
{
	if (!dm->cfg.portal)
		return 0;
	struct cg_error lerr = {{0}};
	dm->captive = cg_captive_open(dm->cfg.state_dir, 4096, &lerr);
	if (!dm->captive)
		return cg_error_set(err, "out of memory");
	if (lerr.msg[0])
		logmsg("%s", lerr.msg);
	struct cg_runtime *rt = atomic_load(&dm->sh.rt);
	rt->captive = dm->captive;
	/* A bad password file turns the dashboard off, not the gateway. */
	if (dm->cfg.admin_password_file) {
		struct cg_error aerr = {{0}};
		dm->auth = cg_auth_new(dm->cfg.admin_password_file, &aerr);
		if (!dm->auth)
			logmsg("admin dashboard off: %s", aerr.msg);
		else if (!cg_auth_has_password(dm->auth))
			logmsg("admin dashboard: no password yet (cafeguardctl "
			       "passwd, then reload)");
	}
	struct cg_portal_opts o = {.cfg = &dm->cfg,
				   .lan = dm->cfg.lan,
				   .clock = &dm->sh.clock,
				   .auth = dm->auth};
	struct cg_diag d = {0};
	dm->portal = cg_portal_start(&o, dm->captive, rt->rules, &d, err);
	cg_diag_print(&d, stderr);
	cg_diag_clear(&d);
	if (!dm->portal) {
		if (!err->msg[0])
			cg_error_set(err, "portal: the pages in %s do not load",
				     dm->cfg.www_dir);
		return -1;
	}
	logmsg("portal on %s%s", rt->rules->respond.portal_url,
	       dm->cfg.splash ? ", splash page on" : "");
	return 0;
}

static int start_workers(struct daemon *dm, int lan_ifindex,
			 struct cg_event_ring **rings, struct cg_error *err)
{
	const struct cg_config *cfg = &dm->cfg;
	for (size_t i = 0; i < dm->n; i++) {
		struct worker_ctx *c = &dm->wc[i];
		c->sh = &dm->sh;
		c->id = (uint16_t)i;
		atomic_init(&c->quiescent, 0);
		for (size_t k = 0; k < STATS_WORDS; k++)
			atomic_init(&c->snap[k], 0);
		/* nDPI's module init must not run in parallel: serial. */
		c->cls = cg_classifier_new(cfg->dpi_flows, err);
		c->inj = c->cls ? cg_injector_open_raw(cfg->mark_block, err)
				: NULL;
		if (!c->inj)
			return -1;
		/* Events feed the operator's file and the portal's status
		 * page. */
		if (cfg->events_file || cfg->portal || cfg->db_file ||
		    cfg->syslog_addr.family) {
			c->ring = cg_event_ring_new(EVENT_RING);
			if (!c->ring)
				return cg_error_set(err, "out of memory");
			rings[i] = c->ring;
		}
		struct cg_worker_opts wo = {
			.id = (uint16_t)i,
			.max_flows = cfg->max_flows,
			.idle_timeout_ms = cfg->idle_timeout_s * 1000u,
			.max_packets = cfg->max_packets,
			.dpi_flows = cfg->dpi_flows,
			.buffers = cfg->buffers,
			.meter_interval_ms = cfg->meter_interval_s * 1000u,
			.fail_open = cfg->fail_open,
			.count_allowed = cfg->db_file != NULL,
			.clock = &dm->sh.clock,
		};
		c->w = cg_worker_new(&wo, c->cls, c->inj, c->ring, err);
		if (!c->w)
			return -1;
		if (dm->sh.verbose)
			cg_worker_set_report(c->w, on_report, c);
		struct cg_nfq_opts qo = {
			.queue = (uint16_t)(cfg->queue_first + i),
			.maxlen = cfg->queue_length,
			.copy_range = cfg->copy_range,
			.batch = cfg->batch,
			.fail_open = cfg->fail_open,
			.lan_ifindex = lan_ifindex,
			.mark_mask = cfg->mark_mask,
			.mark_allow = cfg->mark_allow,
			.mark_block = cfg->mark_block,
			.mark_watch = cfg->mark_watch,
			.mark_meter = cfg->mark_meter,
		};
		c->q = cg_nfq_open(&qo, err);
		if (!c->q)
			return -1;
	}
	return 0;
}

static void log_stats(struct daemon *dm)
{
	for (size_t i = 0; i < dm->n; i++) {
		struct worker_ctx *c = &dm->wc[i];
		if (!c->w)
			continue;
		const struct cg_worker_stats *s = cg_worker_stats(c->w);
		struct cg_nfq_stats qs = {0};
		uint64_t qdrop = 0, udrop = 0;
		if (c->q) {
			cg_nfq_stats(c->q, &qs);
			cg_nfq_kernel_drops(
				(uint16_t)(dm->cfg.queue_first + i), &qdrop,
				&udrop);
		}
		logmsg("worker %zu: %llu packets, %llu flows, %llu allowed, "
		       "%llu watched, %llu metered, %llu blocked, %llu DNS "
		       "blocked, %llu out of order, %llu undecodable; kernel "
		       "dropped %llu (queue full), %llu (socket full), %llu "
		       "ENOBUFS, %llu verdict errors",
		       i, (unsigned long long)s->packets,
		       (unsigned long long)s->flows_new,
		       (unsigned long long)s->allowed,
		       (unsigned long long)s->watched,
		       (unsigned long long)s->metered,
		       (unsigned long long)s->blocked,
		       (unsigned long long)s->dns_blocked,
		       (unsigned long long)s->out_of_order,
		       (unsigned long long)(s->decode[CG_DECODE_TRUNCATED] +
					    s->decode[CG_DECODE_BAD_HEADER] +
					    s->decode[CG_DECODE_NOT_IP]),
		       (unsigned long long)qdrop, (unsigned long long)udrop,
		       (unsigned long long)qs.enobufs,
		       (unsigned long long)qs.verdict_errors);
	}
}

int main(int argc, char **argv)
{
	struct daemon dm;
	memset(&dm, 0, sizeof(dm));
	dm.conf = CAFEGUARD_SYSCONFDIR "/cafeguard.conf";
	dm.started = time(NULL);
	bool check = false;
	const char *fake = NULL;
	static const struct option lopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"check", no_argument, NULL, 'n'},
		{"verbose", no_argument, NULL, 'v'},
		{"fake-time", required_argument, NULL, 'T'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int opt;
	while ((opt = getopt_long(argc, argv, "c:nvVh", lopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			dm.conf = optarg;
			break;
		case 'n':
			check = true;
			break;
		case 'v':
			dm.sh.verbose = true;
			break;
		case 'T':
			fake = optarg;
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
	atomic_init(&dm.sh.clock.shift_s, 0);
	if (fake) {
		int64_t t;
		if (cg_clock_parse_local(fake, &t) < 0) {
			fprintf(stderr, "cafeguardd: --fake-time \"%s\": give "
					"\"YYYY-MM-DD HH:MM\"\n",
				fake);
			return 2;
		}
		dm.sh.clock.fake = true;
		atomic_store(&dm.sh.clock.shift_s,
			     t - (int64_t)(wall_ms() / 1000u));
	}

	/* Signals arrive on a descriptor main polls (with the control
	 * socket); every thread inherits the blocked mask. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	struct cg_error err = {{0}};
	struct cg_classifier *names = cg_classifier_new(0, &err);
	if (!names) {
		logmsg("%s", err.msg);
		return 1;
	}
	struct cg_rules *rules = load_rules(dm.conf, &dm.cfg, names, NULL);
	cg_classifier_free(names);
	if (!rules) {
		cg_config_free(&dm.cfg);
		return 1;
	}
	print_rules(rules);
	if (check) {
		logmsg("%s: configuration and lists are valid", dm.conf);
		cg_rules_free(rules);
		cg_config_free(&dm.cfg);
		return 0;
	}

	int rc = 1, sfd = -1, cfd = -1;
	bool fw_installed = false;
	struct cg_runtime *rt = calloc(1, sizeof(*rt));
	dm.n = dm.cfg.queue_count;
	dm.wc = calloc(dm.n, sizeof(*dm.wc));
	struct cg_event_ring **rings = calloc(dm.n, sizeof(*rings));
	pthread_mutex_init(&dm.sh.log_lock, NULL);
	pthread_mutex_init(&dm.counts.lock, NULL);
	atomic_init(&dm.sh.stop, false);
	if (!rt || !dm.wc || !rings) {
		logmsg("out of memory");
		free(rt);
		cg_rules_free(rules);
		goto out;
	}
	rt->rules = rules;
	rt->state = cg_state_new(rules);
	atomic_init(&dm.sh.rt, rt);
	if (!rt->state) {
		logmsg("out of memory");
		goto out;
	}
	if (dm.cfg.state_dir) {
		size_t n = strlen(dm.cfg.state_dir) + 8;
		dm.state_path = malloc(n);
		if (dm.state_path)
			snprintf(dm.state_path, n, "%s/state", dm.cfg.state_dir);
		if (cg_mkdir_p(dm.cfg.state_dir, 0755) < 0)
			logmsg("state directory %s: %s", dm.cfg.state_dir,
			       strerror(errno));
		struct cg_diag d = {0};
		cg_state_load(rt->state, rules, dm.state_path,
			      policy_now(&dm), &d);
		cg_diag_print(&d, stderr);
		cg_diag_clear(&d);
	}

	if (!dm.cfg.lan[0]) {
		logmsg("%s: gateway.lan is not set: name the interface that "
		       "faces the seats",
		       dm.conf);
		goto out;
	}
	int lan_ifindex = (int)if_nametoindex(dm.cfg.lan);
	if (!lan_ifindex) {
		logmsg("%s: gateway.lan: interface \"%s\": %s", dm.conf,
		       dm.cfg.lan, strerror(errno));
		goto out;
	}
	if (dm.cfg.wan[0] && !if_nametoindex(dm.cfg.wan)) {
		logmsg("%s: gateway.wan: interface \"%s\": %s", dm.conf,
		       dm.cfg.wan, strerror(errno));
		goto out;
	}
	if (start_workers(&dm, lan_ifindex, rings, &err) < 0)
		goto fail;
	if (start_portal(&dm, &err) < 0)
		goto fail;
	if (dm.cfg.events_file || dm.portal || dm.cfg.db_file ||
	    dm.cfg.syslog_addr.family) {
		struct cg_event_sink *sink = NULL;
		if (dm.cfg.events_file &&
		    !(sink = cg_jsonl_sink_open(dm.cfg.events_file, &err)))
			goto fail;
		if (dm.cfg.syslog_addr.family) {
			struct cg_syslog_opts so = {
				.addr = dm.cfg.syslog_addr,
				.port = dm.cfg.syslog_port,
				.tcp = dm.cfg.syslog_tcp,
				.facility = dm.cfg.syslog_facility};
			if (!(sink = cg_syslog_sink_open(&so, sink, &err)))
				goto fail;
			dm.syslog = sink;
		}
		if (dm.cfg.db_file &&
		    !(sink = open_store(&dm.cfg, sink, &err)))
			goto fail;
		if (!(sink = cg_tee_sink_open(sink, count_event, &dm.counts))) {
			cg_error_set(&err, "out of memory");
			goto fail;
		}
		/* The status page shows a seat its own recent blocks. */
		if (dm.portal &&
		    !(sink = cg_tee_sink_open(sink, note_event, dm.portal))) {
			cg_error_set(&err, "out of memory");
			goto fail;
		}
		dm.log = cg_eventlog_start(rings, dm.n, sink, 200, &err);
		if (!dm.log) {
			sink->close(sink);
			goto fail;
		}
		if (dm.portal)
			cg_portal_set_eventlog(dm.portal, dm.log);
	}
	cfd = cg_ctl_listen(dm.cfg.control, &err);
	if (cfd < 0)
		goto fail;
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
	if (sfd < 0) {
		cg_error_set(&err, "signalfd: %s", strerror(errno));
		goto fail;
	}

	if (cg_fw_install(&dm.cfg, &err) < 0)
		goto fail;
	fw_installed = true;

	for (size_t i = 0; i < dm.n; i++) {
		int e = pthread_create(&dm.wc[i].thread, NULL, worker_main,
				       &dm.wc[i]);
		if (e) {
			cg_error_set(&err, "worker thread: %s", strerror(e));
			goto fail;
		}
		dm.wc[i].started = true;
	}
	logmsg("running: %zu queue(s) from %u on %s, fail_open=%s, %zu "
	       "domains, control socket %s%s",
	       dm.n, dm.cfg.queue_first, dm.cfg.lan,
	       dm.cfg.fail_open ? "true" : "false", cg_rules_entries(rules),
	       dm.cfg.control, dm.sh.clock.fake ? ", test clock" : "");
	post(dm.log, CG_EV_START, "started");

	uint64_t next_save = mono_ms() + 60000;
	for (;;) {
		struct pollfd p[2] = {{.fd = sfd, .events = POLLIN},
				      {.fd = cfd, .events = POLLIN}};
		int pr = poll(p, 2, 1000);
		if (pr < 0 && errno != EINTR) {
			cg_error_set(&err, "poll: %s", strerror(errno));
			goto fail;
		}
		if (mono_ms() >= next_save) {
			/* Budgets survive a crash to within a minute. */
			save_state(&dm);
			next_save = mono_ms() + 60000;
		}
		if (pr > 0 && (p[1].revents & POLLIN))
			handle_control(&dm, cfd);
		if (pr <= 0 || !(p[0].revents & POLLIN))
			continue;
		struct signalfd_siginfo si;
		if (read(sfd, &si, sizeof(si)) != sizeof(si))
			continue;
		if (si.ssi_signo == SIGHUP) {
			reload(&dm, NULL);
			continue;
		}
		if (si.ssi_signo == SIGPIPE)
			continue;
		logmsg("stopping (signal %u)", si.ssi_signo);
		break;
	}
	rc = 0;
	goto stop;

fail:
	logmsg("%s", err.msg);
	rc = 1;
stop:
	if (fw_installed && cg_fw_remove(&dm.cfg, &err) < 0) {
		logmsg("could not remove the kernel rules: %s", err.msg);
		rc = 1;
	}
	atomic_store(&dm.sh.stop, true);
	for (size_t i = 0; i < dm.n; i++) {
		if (dm.wc[i].started) {
			pthread_join(dm.wc[i].thread, NULL);
			if (dm.wc[i].failed) {
				logmsg("worker %zu: %s", i, dm.wc[i].err.msg);
				rc = 1;
			}
		}
	}
	log_stats(&dm);
	if (atomic_load(&dm.sh.rt)->state)
		save_state(&dm);
	post(dm.log, CG_EV_STOP, rc ? "stopped after an error" : "stopped");
	/* The portal posts to the log, the log's tee calls the portal:
	 * the portal stops posting first. */
	if (dm.portal)
		cg_portal_set_eventlog(dm.portal, NULL);
	cg_eventlog_stop(dm.log);
	cg_portal_stop(dm.portal);
	cg_auth_free(dm.auth);
	for (size_t i = 0; i < dm.n; i++) {
		cg_nfq_close(dm.wc[i].q);
		cg_worker_free(dm.wc[i].w);
		cg_injector_close(dm.wc[i].inj);
		cg_event_ring_free(dm.wc[i].ring);
		cg_classifier_free(dm.wc[i].cls);
	}
	if (cfd >= 0) {
		close(cfd);
		unlink(dm.cfg.control);
	}
	if (sfd >= 0)
		close(sfd);
out:
	free(dm.wc);
	free(rings);
	rt = atomic_load(&dm.sh.rt);
	if (rt) {
		cg_state_free(rt->state);
		cg_rules_free((struct cg_rules *)rt->rules);
		free(rt);
	}
	cg_captive_free(dm.captive);
	free(dm.state_path);
	cg_config_free(&dm.cfg);
	pthread_mutex_destroy(&dm.sh.log_lock);
	return rc;
}
