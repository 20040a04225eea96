#include "cafeguard/policy.h"

#include <stdio.h>
#include <string.h>

bool cg_window_open(const struct cg_window *w, const struct cg_when *when)
{
	uint8_t today = (uint8_t)(1u << when->wday);
	uint8_t yesterday = (uint8_t)(1u << ((when->wday + 6) % 7));
	if (w->from < w->to)
		return (w->days & today) && when->minute >= w->from &&
		       when->minute < w->to;
	/* Crossing midnight: the evening part belongs to today, the
	 * morning part to the day before. */
	return ((w->days & today) && when->minute >= w->from) ||
	       ((w->days & yesterday) && when->minute < w->to);
}

static void trace_add(struct cg_trace *t, const struct cg_trace_step *s)
{
	if (!t)
		return;
	if (t->n == CG_TRACE_MAX) {
		t->truncated = true;
		return;
	}
	t->steps[t->n++] = *s;
}

/* The blocks in force now: the profile's, plus open windows' blocks,
 * minus open windows' lifts.  why[] names the window that added a
 * category's block (NULL: the profile's own). */
struct effective {
	struct cg_selection sel;
	struct cg_catset lifted; /* blocked by the profile, lifted now */
	const struct cg_window *why_everything;
};

static void sel_or(struct cg_selection *a, const struct cg_selection *b)
{
	for (size_t i = 0; i < CG_CATEGORIES_MAX / 64; i++)
		a->cats.w[i] |= b->cats.w[i];
	for (size_t i = 0; i < sizeof(a->apps); i++)
		a->apps[i] |= b->apps[i];
	for (size_t i = 0; i < sizeof(a->app_cats); i++)
		a->app_cats[i] |= b->app_cats[i];
	a->everything |= b->everything;
}

static void effective_blocks(const struct cg_profile *p,
			     const struct cg_when *when, struct effective *e,
			     struct cg_trace *t)
{
	struct cg_selection add, lift;
	memset(e, 0, sizeof(*e));
	memset(&add, 0, sizeof(add));
	memset(&lift, 0, sizeof(lift));
	e->sel = p->block;
	for (size_t i = 0; i < p->nwindows; i++) {
		const struct cg_window *w = &p->windows[i];
		if (!cg_window_open(w, when))
			continue;
		struct cg_trace_step s = {.kind = CG_T_WINDOW, .window = w};
		trace_add(t, &s);
		sel_or(&add, &w->block);
		sel_or(&lift, &w->lift);
		if (w->block.everything && !e->why_everything)
			e->why_everything = w;
	}
	sel_or(&e->sel, &add);
	for (size_t i = 0; i < CG_CATEGORIES_MAX / 64; i++) {
		e->lifted.w[i] = e->sel.cats.w[i] & lift.cats.w[i];
		e->sel.cats.w[i] &= ~lift.cats.w[i];
	}
	for (size_t i = 0; i < sizeof(e->sel.apps); i++)
		e->sel.apps[i] &= (uint8_t)~lift.apps[i];
	for (size_t i = 0; i < sizeof(e->sel.app_cats); i++)
		e->sel.app_cats[i] &= (uint8_t)~lift.app_cats[i];
	if (lift.everything)
		e->sel.everything = false;
}

/* The window that added a block the profile itself does not have. */
static const struct cg_window *
adding_window(const struct cg_profile *p, const struct cg_when *when,
	      bool (*has)(const struct cg_selection *, size_t), size_t what)
{
	if (has(&p->block, what))
		return NULL;
	for (size_t i = 0; i < p->nwindows; i++)
		if (cg_window_open(&p->windows[i], when) &&
		    has(&p->windows[i].block, what))
			return &p->windows[i];
	return NULL;
}

static bool has_cat(const struct cg_selection *s, size_t i)
{
	return cg_catset_has(&s->cats, i);
}

static bool has_app(const struct cg_selection *s, size_t i)
{
	return cg_sel_has_app(s, (uint16_t)i);
}

static bool has_app_cat(const struct cg_selection *s, size_t i)
{
	return cg_sel_has_app_cat(s, (uint16_t)i);
}

/* Looks the host up in every category the profile consults; hits[] and
 * m[] get the results. */
static void lookup_host(const struct cg_rules *r, const struct cg_profile *p,
			const struct cg_facts *f,
			struct cg_digest_scratch *dg, struct cg_catset *hits,
			struct cg_match *m)
{
	memset(hits, 0, sizeof(*hits));
	if (!f->host || !f->host_len)
		return;
	struct cg_name_hashes nh[CG_DIGEST__COUNT];
	bool have[CG_DIGEST__COUNT] = {false};
	cg_domainset_hash_name(f->host, f->host_len, &nh[CG_DIGEST_NONE]);
	have[CG_DIGEST_NONE] = true;
	for (size_t c = 0; c < r->ncats; c++) {
		if (!cg_catset_has(&p->consult, c))
			continue;
		const struct cg_category *cat = &r->cats[c];
		for (int k = 0; k < CG_DIGEST__COUNT; k++) {
			if (!cat->set[k])
				continue;
			if (!have[k]) {
				if (!dg)
					continue; /* digests not available */
				cg_domainset_digest_name(dg,
							 (enum cg_digest)k,
							 f->host, f->host_len,
							 &nh[k]);
				have[k] = true;
			}
			struct cg_domain_match dm;
			if (cg_domainset_lookup(cat->set[k], &nh[k], &dm)) {
				cg_catset_add(hits, c);
				m[c] = (struct cg_match){
					.cat = (uint16_t)c,
					.source = dm.source,
					.line = dm.line,
					.suffix = dm.suffix,
					.digest = (uint8_t)k,
				};
				break;
			}
		}
	}
}

static void set(struct cg_decision *d, enum cg_outcome o, enum cg_reason r)
{
	d->outcome = o;
	d->reason = r;
}

/* Does budget b count this flow? */
static bool budget_counts(const struct cg_budget *b, const struct cg_facts *f,
			  const struct cg_catset *hits)
{
	for (size_t i = 0; i < CG_CATEGORIES_MAX / 64; i++)
		if (b->what.cats.w[i] & hits->w[i])
			return true;
	return cg_sel_has_app(&b->what, f->app_proto) ||
	       cg_sel_has_app(&b->what, f->app_master) ||
	       (f->app_known && cg_sel_has_app_cat(&b->what, f->app_category));
}

static void decide(const struct cg_rules *r, const struct cg_who *who,
		   const struct cg_when *when, const struct cg_facts *f,
		   const uint16_t *used, struct cg_digest_scratch *dg,
		   struct cg_decision *d, struct cg_trace *t);

void cg_policy_decide(const struct cg_rules *r, const struct cg_who *who,
		      const struct cg_when *when, const struct cg_facts *f,
		      const uint16_t *used, struct cg_digest_scratch *dg,
		      struct cg_decision *d, struct cg_trace *t)
{
	decide(r, who, when, f, used, dg, d, t);
	/* An allow list wins at every hour; anything else allowed now may
	 * meet a window later. */
	d->recheck = d->outcome == CG_ALLOW &&
		     d->reason != CG_REASON_ALLOW_LIST &&
		     who->profile < r->nprofiles &&
		     r->profiles[who->profile].timed;
}

static void decide(const struct cg_rules *r, const struct cg_who *who,
		   const struct cg_when *when, const struct cg_facts *f,
		   const uint16_t *used, struct cg_digest_scratch *dg,
		   struct cg_decision *d, struct cg_trace *t)
{
	memset(d, 0, sizeof(*d));
	if (t) {
		t->n = 0;
		t->truncated = false;
	}
	if (!r->nprofiles || who->profile >= r->nprofiles) {
		/* No rule set: nothing is blocked. */
		bool have_name = f->host && f->host_len;
		set(d, CG_ALLOW,
		    have_name ? CG_REASON_NOT_LISTED : CG_REASON_NO_NAME);
		return;
	}
	const struct cg_profile *p = &r->profiles[who->profile];
	struct effective e;
	effective_blocks(p, when, &e, t);

	struct cg_catset hits;
	struct cg_match m[CG_CATEGORIES_MAX];
	lookup_host(r, p, f, dg, &hits, m);

	bool allowed = false, blocked = false;
	/* 1. Allow lists win. */
	for (size_t c = 0; c < r->ncats; c++) {
		if (!cg_catset_has(&hits, c) || !cg_catset_has(&p->allow, c))
			continue;
		struct cg_trace_step s = {.kind = CG_T_ALLOW_MATCH,
					  .match = m[c]};
		trace_add(t, &s);
		if (!allowed) {
			set(d, CG_ALLOW, CG_REASON_ALLOW_LIST);
			d->match = m[c];
			allowed = true;
		}
	}
	/* 2. Blocked categories, in the order they are defined. */
	for (size_t c = 0; c < r->ncats; c++) {
		if (!cg_catset_has(&hits, c))
			continue;
		struct cg_trace_step s = {.match = m[c]};
		if (cg_catset_has(&e.sel.cats, c)) {
			s.kind = CG_T_BLOCK_MATCH;
			s.window = adding_window(p, when, has_cat, c);
			trace_add(t, &s);
			if (!allowed && !blocked) {
				set(d, CG_BLOCK, CG_REASON_LIST);
				d->match = m[c];
				d->window = s.window;
				blocked = true;
			}
		} else if (cg_catset_has(&e.lifted, c)) {
			s.kind = CG_T_LIFTED_MATCH;
			trace_add(t, &s);
		} else if (!cg_catset_has(&p->allow, c)) {
			s.kind = CG_T_LISTED;
			trace_add(t, &s);
		}
	}
	/* 3. Applications: nDPI reports master (TLS) and application
	 * (Google) apart; "Tor" must block TLS.Tor as well as Tor. */
	uint16_t ids[2] = {f->app_proto, f->app_master};
	for (int i = 0; i < 2; i++) {
		if (ids[i] == CG_APP_UNKNOWN || !cg_sel_has_app(&e.sel, ids[i]))
			continue;
		struct cg_trace_step s = {
			.kind = CG_T_APP,
			.id = ids[i],
			.window = adding_window(p, when, has_app, ids[i]),
		};
		trace_add(t, &s);
		if (!allowed && !blocked) {
			set(d, CG_BLOCK, CG_REASON_APP);
			d->app = ids[i];
			d->window = s.window;
			blocked = true;
		}
		break;
	}
	if (f->app_known && f->app_category &&
	    cg_sel_has_app_cat(&e.sel, f->app_category)) {
		struct cg_trace_step s = {
			.kind = CG_T_APP_CATEGORY,
			.id = f->app_category,
			.window = adding_window(p, when, has_app_cat,
						f->app_category),
		};
		trace_add(t, &s);
		if (!allowed && !blocked) {
			set(d, CG_BLOCK, CG_REASON_APP_CATEGORY);
			d->app_category = f->app_category;
			d->window = s.window;
			blocked = true;
		}
	}
	/* 4. Budgets. */
	for (size_t b = 0; b < p->nbudgets && b < 32; b++) {
		const struct cg_budget *bu = &p->budgets[b];
		if (!budget_counts(bu, f, &hits))
			continue;
		uint16_t u = used ? used[b] : 0;
		struct cg_trace_step s = {.kind = CG_T_BUDGET,
					  .budget = bu,
					  .used = u};
		trace_add(t, &s);
		if (u >= bu->minutes) {
			if (!allowed && !blocked) {
				set(d, CG_BLOCK, CG_REASON_BUDGET);
				d->budget = bu;
				blocked = true;
			}
		} else {
			d->charge |= 1u << b;
		}
	}
	if (allowed || blocked) {
		if (blocked)
			d->charge = 0;
		return;
	}

	bool have_name = f->host && f->host_len;
	bool name_settled = !f->host_pending || f->final;
	bool app_settled = !p->needs_app || f->app_known || f->final;

	/* 5. A window blocking everything, once no allow list can still
	 * name the flow. */
	if (e.sel.everything) {
		if (!name_settled) {
			set(d, CG_PENDING, CG_REASON_NONE);
			return;
		}
		struct cg_trace_step s = {.kind = CG_T_EVERYTHING,
					  .window = e.why_everything};
		trace_add(t, &s);
		set(d, CG_BLOCK, CG_REASON_SCHEDULE);
		d->window = e.why_everything;
		d->charge = 0;
		return;
	}

	/* 6. Allowed, once it is certain nothing else will block. */
	if (have_name && name_settled && app_settled) {
		set(d, CG_ALLOW, CG_REASON_NOT_LISTED);
		return;
	}
	/* No name will come: what nDPI says is all there is. */
	if (!have_name && name_settled && (f->app_known || f->final)) {
		set(d, CG_ALLOW, CG_REASON_NO_NAME);
		return;
	}
	if (f->final) {
		set(d, CG_ALLOW,
		    have_name ? CG_REASON_NOT_LISTED : CG_REASON_NO_NAME);
		return;
	}
	d->charge = 0;
	set(d, CG_PENDING, CG_REASON_NONE);
}

const char *cg_outcome_str(enum cg_outcome o)
{
	switch (o) {
	case CG_PENDING:
		return "pending";
	case CG_ALLOW:
		return "allow";
	case CG_BLOCK:
		return "block";
	}
	return "?";
}

const char *cg_reason_str(enum cg_reason r)
{
	switch (r) {
	case CG_REASON_NONE:
		return "-";
	case CG_REASON_LIST:
		return "list";
	case CG_REASON_APP:
		return "app";
	case CG_REASON_APP_CATEGORY:
		return "app-category";
	case CG_REASON_BUDGET:
		return "budget";
	case CG_REASON_SCHEDULE:
		return "schedule";
	case CG_REASON_ALLOW_LIST:
		return "allow-list";
	case CG_REASON_NOT_LISTED:
		return "not-listed";
	case CG_REASON_NO_NAME:
		return "no-name";
	case CG_REASON_CAPTIVE:
		return "captive";
	}
	return "?";
}

void cg_match_where(const struct cg_rules *r, const struct cg_match *m,
		    char *out, size_t outsz)
{
	const struct cg_category *c = &r->cats[m->cat];
	const char *file = m->source < c->nfiles ? c->files[m->source] : "?";
	snprintf(out, outsz, "%s:%u", file, m->line);
}

static void describe_window(const struct cg_window *w, char *out,
			    size_t outsz)
{
	if (!w) {
		out[0] = '\0';
		return;
	}
	snprintf(out, outsz, ", schedule %02u:%02u-%02u:%02u (%s:%u)",
		 w->from / 60u, w->from % 60u, w->to / 60u, w->to % 60u,
		 w->file, w->line);
}

void cg_decision_describe(const struct cg_rules *r,
			  const struct cg_decision *d, const char *host,
			  const struct cg_classifier *names, char *out,
			  size_t outsz)
{
	char where[320], win[160];
	describe_window(d->window, win, sizeof(win));
	switch (d->reason) {
	case CG_REASON_LIST:
	case CG_REASON_ALLOW_LIST: {
		cg_match_where(r, &d->match, where, sizeof(where));
		const char *entry = host ? host + d->match.suffix : "?";
		snprintf(out, outsz, "%scategory %s: %s%s (%s)%s",
			 d->reason == CG_REASON_ALLOW_LIST ? "allowed by "
							   : "",
			 r->cats[d->match.cat].name,
			 d->match.digest ? "hash of " : "", entry, where, win);
		break;
	}
	case CG_REASON_APP:
		if (names)
			snprintf(out, outsz, "app %s%s",
				 cg_classifier_app_name(names, d->app), win);
		else
			snprintf(out, outsz, "app %u%s", d->app, win);
		break;
	case CG_REASON_APP_CATEGORY:
		if (names)
			snprintf(out, outsz, "app category %s%s",
				 cg_classifier_category_name(names,
							     d->app_category),
				 win);
		else
			snprintf(out, outsz, "app category %u%s",
				 d->app_category, win);
		break;
	case CG_REASON_BUDGET:
		snprintf(out, outsz, "budget %s used up (%u min a day, %s:%u)",
			 d->budget->name, d->budget->minutes, d->budget->file,
			 d->budget->line);
		break;
	case CG_REASON_SCHEDULE:
		snprintf(out, outsz, "everything is blocked now%s", win);
		break;
	case CG_REASON_NOT_LISTED:
		snprintf(out, outsz, "not listed");
		break;
	case CG_REASON_NO_NAME:
		snprintf(out, outsz, "no name to judge");
		break;
	case CG_REASON_CAPTIVE:
		snprintf(out, outsz, "the splash page is not accepted yet");
		break;
	case CG_REASON_NONE:
		snprintf(out, outsz, "-");
		break;
	}
}
