/*
 * cafeguardd's rules and state: loading, the swap of a reload (the
 * workers and the portal move to the new rules before the old are
 * freed), the state file, and the clocks and log lines every part uses.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cafeguard/fsutil.h"
#include "cafeguard/state.h"
#include "main_internal.h"

uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void logmsg(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "cafeguardd: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

void post(struct cg_eventlog *log, enum cg_event_type t,
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

/* ---- rules, state, reload ---- */

/* also: where else the messages go (the caller of a reload), or NULL. */
struct cg_rules *load_rules(const char *path, struct cg_config *cfg,
				   const struct cg_classifier *names,
				   FILE *also)
{
	struct cg_diag d;
	memset(&d, 0, sizeof(d));
	struct cg_rules *r = NULL;
	if (cg_config_load(path, cfg, &d) == 0) {
		if (cfg->cache_dir && cg_mkdir_p(cfg->cache_dir, 0755) < 0)
			cg_diag_add(&d, CG_SEV_WARNING, cfg->cache_dir, 0,
				    "cannot create the list cache: %s; lists "
				    "are read as text",
				    strerror(errno));
		r = cg_rules_build(cfg, names, false, &d);
	}
	cg_diag_print(&d, stderr);
	if (also)
		cg_diag_print(&d, also);
	if (!r)
		fprintf(stderr, "cafeguardd: %s: %zu error(s)\n", path,
			d.errors);
	cg_diag_clear(&d);
	return r;
}

void print_rules(const struct cg_rules *r)
{
	for (size_t i = 0; i < r->ncats; i++) {
		const struct cg_category *c = &r->cats[i];
		if (!c->image)
			continue;
		size_t n = 0;
		for (int k = 0; k < CG_DIGEST__COUNT; k++)
			n += c->info.entries[k];
		logmsg("category %s: %zu entries from %zu file(s), %zu lines "
		       "skipped, %.1f ms%s",
		       c->name, n, c->nfiles, c->info.stats.skipped,
		       c->info.load_ms,
		       c->info.from_cache ? " (compiled image)" : "");
	}
	logmsg("%zu profile(s), %zu seat(s), default profile %s",
	       r->nprofiles, r->nseats,
	       r->nprofiles ? r->profiles[r->default_profile].name : "-");
}

int64_t policy_now(const struct daemon *dm)
{
	return cg_clock_now(&dm->sh.clock, wall_ms());
}

void save_state(struct daemon *dm)
{
	if (!dm->state_path)
		return;
	const struct cg_runtime *rt = atomic_load(&dm->sh.rt);
	struct cg_error err;
	if (cg_state_save(rt->state, rt->rules, dm->state_path, policy_now(dm),
			  &err) < 0)
		logmsg("%s", err.msg);
}

/* Publishes rt, waits until every worker has passed a point where it
 * holds no runtime, carries what was charged meanwhile, frees the old. */
static void swap_runtime(struct daemon *dm, struct cg_runtime *nrt)
{
	uint64_t seen[CG_QUEUE_MAX_COUNT];
	for (size_t i = 0; i < dm->n; i++)
		seen[i] = atomic_load(&dm->wc[i].quiescent);
	struct cg_runtime *old = atomic_exchange(&dm->sh.rt, nrt);
	for (size_t i = 0; i < dm->n; i++)
		while (atomic_load(&dm->wc[i].quiescent) == seen[i] &&
		       !dm->wc[i].failed)
			nanosleep(&(struct timespec){0, 2 * 1000 * 1000}, NULL);
	cg_state_carry(nrt->state, nrt->rules, old->state, old->rules);
	cg_state_free(old->state);
	cg_rules_free((struct cg_rules *)old->rules);
	free(old);
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
	       a->buffers == b->buffers &&
	       a->meter_interval_s == b->meter_interval_s;
}

/* Returns 0 when the new rules run, -1 when the old ones stay. */
int reload(struct daemon *dm, FILE *out)
{
	logmsg("reloading %s", dm->conf);
	double t0 = (double)mono_ms();
	struct cg_config ncfg;
	struct cg_rules *nr = load_rules(dm->conf, &ncfg, dm->wc[0].cls, out);
	struct cg_runtime *nrt = nr ? calloc(1, sizeof(*nrt)) : NULL;
	if (nrt) {
		nrt->rules = nr;
		nrt->state = cg_state_new(nr);
		nrt->generation = atomic_load(&dm->sh.rt)->generation + 1;
		nrt->captive = dm->captive;
	}
	if (!nrt || !nrt->state) {
		logmsg("reload failed: the running rules stay in force");
		post(dm->log, CG_EV_RELOAD,
		     "failed: the new rules do not load; the running rules "
		     "stay in force");
		dm->reloads_failed++;
		if (out)
			fprintf(out, "error: the new rules do not load; the "
				     "running rules stay in force\n");
		if (nrt)
			free(nrt);
		cg_rules_free(nr);
		cg_config_free(&ncfg);
		return -1;
	}
	if (!same_runtime(&dm->cfg, &ncfg))
		logmsg("gateway, queue or inspect settings changed: they take "
		       "effect at the next restart; rules apply now");
	print_rules(nr);
	if (dm->portal) {
		/* Before the swap frees the old rules the portal reads. */
		struct cg_diag d = {0};
		if (cg_portal_reload(dm->portal, &ncfg, nr, &d) < 0)
			logmsg("the new pages do not load; the portal keeps "
			       "the old ones");
		cg_diag_print(&d, stderr);
		if (out)
			cg_diag_print(&d, out);
		cg_diag_clear(&d);
	}
	const struct cg_runtime *old = atomic_load(&dm->sh.rt);
	cg_state_carry(nrt->state, nr, old->state, old->rules);
	swap_runtime(dm, nrt);
	cg_config_free(&ncfg);
	double ms = (double)mono_ms() - t0;
	logmsg("reloaded in %.0f ms", ms);
	char detail[96];
	snprintf(detail, sizeof(detail), "ok: %zu profile(s), %zu seat(s), %zu "
					 "entries, %.0f ms",
		 nr->nprofiles, nr->nseats, cg_rules_entries(nr), ms);
	post(dm->log, CG_EV_RELOAD, detail);
	dm->reloads_ok++;
	if (out)
		fprintf(out, "reloaded: %zu profile(s), %zu seat(s), %zu "
			     "entries, in %.0f ms\n",
			nr->nprofiles, nr->nseats, cg_rules_entries(nr), ms);
	save_state(dm);
	return 0;
}
