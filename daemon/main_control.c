/*
 * cafeguardd's control socket: status, seats and seat sessions, reload
 * and the test clock, for cafeguardctl (control.h is the protocol).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cafeguard/control.h"
#include "cafeguard/metrics.h"
#include "cafeguard/state.h"
#include "main_internal.h"

/* ---- control requests ---- */

static void fmt_local(int64_t utc, char *out, size_t outsz)
{
	time_t t = (time_t)utc;
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(out, outsz, "%Y-%m-%d %H:%M %a", &tm);
}

static void ctl_status(struct daemon *dm, FILE *out)
{
	const struct cg_runtime *rt = atomic_load(&dm->sh.rt);
	char now[40];
	fmt_local(policy_now(dm), now, sizeof(now));
	fprintf(out, "cafeguardd %s, up %lld s, %zu queue(s) on %s\n",
		CAFEGUARD_VERSION, (long long)(time(NULL) - dm->started),
		dm->n, dm->cfg.lan);
	fprintf(out, "rules %s: %zu profile(s), %zu seat(s), %zu entries\n",
		rt->rules->path, rt->rules->nprofiles, rt->rules->nseats,
		cg_rules_entries(rt->rules));
	fprintf(out, "local time %s%s\n", now,
		dm->sh.clock.fake ? " (test clock)" : "");
	for (size_t i = 0; i < dm->n; i++) {
		uint64_t v[STATS_WORDS];
		for (size_t k = 0; k < STATS_WORDS; k++)
			v[k] = atomic_load_explicit(&dm->wc[i].snap[k],
						    memory_order_relaxed);
		struct cg_worker_stats s;
		memcpy(&s, v, sizeof(s));
		fprintf(out, "worker %zu: %llu packets, %llu flows, %llu "
			     "allowed, %llu watched, %llu metered, %llu "
			     "blocked, %llu DNS blocked, %llu budget cuts, "
			     "%llu SafeSearch answers, %llu canaries, %llu "
			     "captive refusals\n",
			i, (unsigned long long)s.packets,
			(unsigned long long)s.flows_new,
			(unsigned long long)s.allowed,
			(unsigned long long)s.watched,
			(unsigned long long)s.metered,
			(unsigned long long)s.blocked,
			(unsigned long long)s.dns_blocked,
			(unsigned long long)s.budget_blocked,
			(unsigned long long)s.dns_forced,
			(unsigned long long)s.dns_canaries,
			(unsigned long long)s.captive);
	}
	if (dm->portal) {
		struct cg_portal_stats ps;
		cg_portal_stats(dm->portal, &ps);
		fprintf(out, "portal %s: %llu requests, %llu pages, %llu "
			     "acceptances, %llu refused (rate), %llu refused "
			     "(bad requests)\n",
			rt->rules->respond.portal_url,
			(unsigned long long)ps.requests,
			(unsigned long long)ps.pages,
			(unsigned long long)ps.accepted,
			(unsigned long long)ps.refused_rate,
			(unsigned long long)ps.refused_bad);
	}
}

static void ctl_seats(struct daemon *dm, FILE *out)
{
	const struct cg_runtime *rt = atomic_load(&dm->sh.rt);
	const struct cg_rules *r = rt->rules;
	int64_t now = policy_now(dm);
	struct cg_localtime lt = {0};
	cg_localtime_refresh(&lt, now);
	struct cg_when when;
	uint32_t day;
	cg_localtime_of(&lt, now, &when, &day);
	for (size_t i = 0; i <= r->nseats; i++) {
		int seat = i < r->nseats ? (int)i : -1;
		struct cg_who who;
		cg_state_who(rt->state, r, seat, now, &who);
		if (!r->nprofiles)
			break;
		const struct cg_profile *p = &r->profiles[who.profile];
		fprintf(out, "%-16s %-12s", seat >= 0 ? r->seats[i].name
						      : "(others)",
			p->name);
		int64_t until;
		uint16_t sp;
		if (seat >= 0 && cg_state_session(rt->state, i, now, &sp,
						  &until)) {
			char u[40];
			fmt_local(until, u, sizeof(u));
			fprintf(out, " session until %s (seat's own: %s)", u,
				r->profiles[r->seats[i].profile].name);
		}
		uint16_t used[32] = {0};
		cg_state_used_profile(rt->state, r, p, seat, day, used);
		for (size_t b = 0; b < p->nbudgets; b++)
			fprintf(out, " budget %s %u/%u min", p->budgets[b].name,
				used[b], p->budgets[b].minutes);
		fputc('\n', out);
	}
}

static void ctl_seat(struct daemon *dm, const struct cg_ctl_request *q,
		     FILE *out)
{
	const struct cg_runtime *rt = atomic_load(&dm->sh.rt);
	const struct cg_rules *r = rt->rules;
	int seat = cg_rules_seat_by_name(r, q->seat);
	if (seat < 0) {
		fprintf(out, "error: no seat \"%s\"\n", q->seat);
		return;
	}
	if (q->cmd == CG_CTL_SEAT_CLEAR) {
		cg_state_set_session(rt->state, (size_t)seat, 0, 0);
		logmsg("seat %s: session ended", q->seat);
		fprintf(out, "seat %s: back to its profile %s\n", q->seat,
			r->profiles[r->seats[seat].profile].name);
	} else {
		int p = cg_rules_profile(r, q->profile);
		if (p < 0) {
			fprintf(out, "error: no profile \"%s\"\n", q->profile);
			return;
		}
		int64_t until = policy_now(dm) + q->seconds;
		cg_state_set_session(rt->state, (size_t)seat, (uint16_t)p,
				     until);
		char u[40];
		fmt_local(until, u, sizeof(u));
		logmsg("seat %s: profile %s until %s", q->seat, q->profile, u);
		fprintf(out, "seat %s: profile %s until %s\n", q->seat,
			q->profile, u);
	}
	save_state(dm);
	fprintf(out, "ok\n");
}

/* What a collector scrapes: the workers' and queues' counters (as of
 * their last tick), blocks by category and reason, lists, the log, the
 * portal and syslog. */
static void ctl_metrics(struct daemon *dm, FILE *out)
{
	const struct cg_runtime *rt = atomic_load(&dm->sh.rt);
	const struct cg_rules *r = rt->rules;
	struct cg_metrics_worker *w = calloc(dm->n, sizeof(*w));
	struct cg_metrics_queue *q = calloc(dm->n, sizeof(*q));
	struct cg_metrics_count *lists = calloc(r->ncats + 1, sizeof(*lists));
	struct cg_metrics_count cats[COUNT_NAMES], reasons[16];
	if (!w || !q || !lists) {
		fprintf(out, "error: out of memory\n");
		goto out;
	}
	uint64_t dropped = 0;
	for (size_t i = 0; i < dm->n; i++) {
		const struct worker_ctx *c = &dm->wc[i];
		uint64_t v[STATS_WORDS];
		for (size_t k = 0; k < STATS_WORDS; k++)
			v[k] = atomic_load_explicit(&c->snap[k],
						    memory_order_relaxed);
		memcpy(&w[i].st, v, sizeof(w[i].st));
		w[i].flows = atomic_load_explicit(&c->flows_snap,
						  memory_order_relaxed);
		uint64_t qv[6];
		for (size_t k = 0; k < 6; k++)
			qv[k] = atomic_load_explicit(&c->qsnap[k],
						     memory_order_relaxed);
		q[i].queue = (uint16_t)(dm->cfg.queue_first + i);
		q[i].st = (struct cg_nfq_stats){qv[0], qv[1], qv[2],
						qv[3], qv[4], qv[5]};
		q[i].has_kernel = cg_nfq_kernel_drops(q[i].queue,
						      &q[i].queue_dropped,
						      &q[i].user_dropped) == 0;
		if (c->ring)
			dropped += cg_event_ring_dropped(c->ring);
	}
	size_t nl = 0;
	for (size_t i = 0; i < r->ncats; i++) {
		const struct cg_category *c = &r->cats[i];
		if (c->is_inline)
			continue;
		uint64_t n = 0;
		for (int k = 0; k < CG_DIGEST__COUNT; k++)
			n += c->info.entries[k];
		lists[nl++] = (struct cg_metrics_count){c->name, n};
	}
	pthread_mutex_lock(&dm->counts.lock);
	size_t nc = dm->counts.ncat, nr = dm->counts.nreason;
	for (size_t i = 0; i < nc; i++)
		cats[i] = (struct cg_metrics_count){dm->counts.cat[i].name,
						    dm->counts.cat[i].n};
	for (size_t i = 0; i < nr; i++)
		reasons[i] = (struct cg_metrics_count){
			dm->counts.reason[i].name, dm->counts.reason[i].n};
	struct cg_metrics_input in = {
		.uptime_seconds = (uint64_t)(time(NULL) - dm->started),
		.workers = w,
		.nworkers = dm->n,
		.queues = q,
		.nqueues = dm->n,
		/* Running, the daemon inspects: "fail-open" is the kernel's
		 * doing while it is away (the report measures that). */
		.fail_open = false,
		.blocks_by_category = cats,
		.nblocks_by_category = nc,
		.blocks_by_reason = reasons,
		.nblocks_by_reason = nr,
		.list_entries = lists,
		.nlist_entries = nl,
		.events_written = dm->log ? cg_eventlog_written(dm->log) : 0,
		.events_dropped = dropped,
		.has_portal = dm->portal != NULL,
		.has_syslog = dm->syslog != NULL,
		.rules_generation = rt->generation,
		.reloads_ok = dm->reloads_ok,
		.reloads_failed = dm->reloads_failed,
	};
	if (dm->portal)
		cg_portal_stats(dm->portal, &in.portal);
	if (dm->syslog)
		cg_syslog_stats(dm->syslog, &in.syslog);
	size_t len;
	char *text = cg_metrics_render_alloc(&in, &len);
	/* The names point into the table: rendered under its lock. */
	pthread_mutex_unlock(&dm->counts.lock);
	if (text)
		fwrite(text, 1, len, out);
	else
		fprintf(out, "error: out of memory\n");
	free(text);
out:
	free(w);
	free(q);
	free(lists);
}

void handle_control(struct daemon *dm, int lfd)
{
	struct cg_ctl_request q;
	int fd = cg_ctl_accept(lfd, 1000, &q);
	if (fd < 0)
		return;
	FILE *out = fdopen(fd, "w");
	if (!out) {
		close(fd);
		return;
	}
	switch (q.cmd) {
	case CG_CTL_RELOAD:
		if (reload(dm, out) == 0)
			fprintf(out, "ok\n");
		break;
	case CG_CTL_STATUS:
		ctl_status(dm, out);
		fprintf(out, "ok\n");
		break;
	case CG_CTL_METRICS:
		ctl_metrics(dm, out);
		fprintf(out, "ok\n");
		break;
	case CG_CTL_SEATS:
		ctl_seats(dm, out);
		fprintf(out, "ok\n");
		break;
	case CG_CTL_SEAT_SET:
	case CG_CTL_SEAT_CLEAR:
		ctl_seat(dm, &q, out);
		break;
	case CG_CTL_CLOCK:
		if (!dm->sh.clock.fake) {
			fprintf(out, "error: the clock can be set only when "
				     "cafeguardd runs with --fake-time\n");
			break;
		}
		atomic_store(&dm->sh.clock.shift_s,
			     q.utc - (int64_t)(wall_ms() / 1000u));
		char now[40];
		fmt_local(policy_now(dm), now, sizeof(now));
		logmsg("test clock set to %s", now);
		fprintf(out, "clock %s\nok\n", now);
		break;
	}
	fclose(out);
}
