#include "cafeguard/rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct builder {
	const struct cg_config *cfg;
	const struct cg_classifier *names;
	struct cg_rules *r;
	struct cg_diag *d;
	bool check;
	size_t errors_before;
};

static bool failed(const struct builder *B)
{
	return B->d->errors > B->errors_before;
}

static void oom(struct builder *B)
{
	cg_diag_add(B->d, CG_SEV_ERROR, B->cfg->path, 0, "out of memory");
}

static int cat_index(const struct cg_rules *r, const char *name)
{
	for (size_t i = 0; i < r->ncats; i++)
		if (!r->cats[i].is_inline && !strcmp(r->cats[i].name, name))
			return (int)i;
	return -1;
}

/* ---- categories from list files ---- */

static int load_category(struct builder *B, const struct cg_config_category *cc,
			 struct cg_category *c)
{
	c->name = strdup(cc->name);
	c->title = strdup(cc->title);
	c->decl_file = strdup(cc->file);
	c->decl_line = cc->line;
	if (!c->name || !c->title || !c->decl_file) {
		oom(B);
		return -1;
	}
	size_t errors = B->d->errors;
	/* A list is a file or a folder of files (UT1 ships category
	 * folders); expand folders into the files they hold. */
	for (size_t i = 0; i < cc->nlists; i++) {
		char **files = NULL;
		size_t n = 0;
		if (cg_listfile_expand(cc->lists[i], &files, &n, B->d) < 0)
			continue;
		char **v = realloc(c->files, (c->nfiles + n) * sizeof(char *));
		if (!v) {
			cg_listfile_expand_free(files, n);
			oom(B);
			return -1;
		}
		c->files = v;
		memcpy(c->files + c->nfiles, files, n * sizeof(char *));
		c->nfiles += n;
		free(files); /* the strings now belong to c->files */
	}
	if (B->d->errors > errors) {
		cg_diag_add(B->d, CG_SEV_NOTE, cc->file, cc->line,
			    "category \"%s\" declared here", cc->name);
		return -1;
	}
	/* The domain set remembers an entry's file in 8 bits. */
	if (c->nfiles > CG_DOMAINSET_SOURCES) {
		cg_diag_add(B->d, CG_SEV_ERROR, cc->file, cc->line,
			    "category \"%s\": %zu files; a category takes at "
			    "most %u (split it)",
			    cc->name, c->nfiles, CG_DOMAINSET_SOURCES);
		return -1;
	}
	c->image = cg_listimage_load((const char *const *)c->files, c->nfiles,
				     cc->format, B->cfg->cache_dir, B->d,
				     &c->info);
	if (!c->image) {
		cg_diag_add(B->d, CG_SEV_NOTE, cc->file, cc->line,
			    "category \"%s\" declared here", cc->name);
		return -1;
	}
	for (int k = 0; k < CG_DIGEST__COUNT; k++) {
		c->set[k] = cg_listimage_set(c->image, (enum cg_digest)k);
		if (k && c->set[k])
			B->r->digests[k] = true;
	}
	/* Lists from elsewhere often repeat a name: worth knowing, not a
	 * mistake in the rules. */
	if (B->check && c->info.stats.duplicates)
		cg_diag_add(B->d, CG_SEV_NOTE, cc->file, cc->line,
			    "category \"%s\": %zu names are listed more than "
			    "once (the first is kept)",
			    cc->name, c->info.stats.duplicates);
	return 0;
}

/* ---- names written in the config: a category of their own ---- */

static int inline_category(struct builder *B, const struct cg_config_profile *p,
			   const char *label, const struct cg_config_ref *hosts,
			   size_t n, size_t *index)
{
	struct cg_rules *r = B->r;
	struct cg_category *c = &r->cats[r->ncats];
	memset(c, 0, sizeof(*c));
	char name[96];
	snprintf(name, sizeof(name), "%s/%s", p->name, label);
	c->name = strdup(name);
	c->title = strdup(name);
	c->decl_file = strdup(p->file);
	c->decl_line = p->line;
	c->is_inline = true;
	c->files = calloc(n, sizeof(char *));
	struct cg_domainset_builder *b = cg_domainset_builder_new();
	if (!c->name || !c->title || !c->decl_file || !c->files || !b) {
		cg_domainset_builder_free(b);
		oom(B);
		return -1;
	}
	r->ncats++;
	for (size_t i = 0; i < n; i++) {
		/* One "file" per config file the names are written in. */
		size_t src = 0;
		while (src < c->nfiles && strcmp(c->files[src], hosts[i].file))
			src++;
		if (src == c->nfiles) {
			c->files[src] = strdup(hosts[i].file);
			if (!c->files[src]) {
				cg_domainset_builder_free(b);
				oom(B);
				return -1;
			}
			c->nfiles++;
		}
		if (cg_domainset_builder_add(b, hosts[i].name,
					     strlen(hosts[i].name),
					     (uint16_t)src, hosts[i].line,
					     NULL) < 0) {
			cg_domainset_builder_free(b);
			oom(B);
			return -1;
		}
	}
	struct cg_error err;
	c->inline_set = cg_domainset_build(b, &err);
	if (!c->inline_set) {
		cg_diag_add(B->d, CG_SEV_ERROR, p->file, p->line, "%s",
			    err.msg);
		return -1;
	}
	c->set[CG_DIGEST_NONE] = c->inline_set;
	c->info.entries[CG_DIGEST_NONE] = n;
	*index = r->ncats - 1;
	return 0;
}

/* ---- selections ---- */

static void resolve_cats(struct builder *B, const struct cg_config_ref *refs,
			 size_t n, struct cg_catset *out)
{
	for (size_t i = 0; i < n; i++) {
		int c = cat_index(B->r, refs[i].name);
		if (c >= 0)
			cg_catset_add(out, (size_t)c);
		/* An unknown name was reported when the config loaded. */
	}
}

static void resolve_apps(struct builder *B, const struct cg_config_ref *refs,
			 size_t n, uint8_t *bits, bool categories,
			 const char *where)
{
	const struct cg_classifier *names = B->names;
	if (!names || !n)
		return;
	const char *cand[CG_APP_MAX];
	uint16_t count = categories ? cg_classifier_category_count(names)
				    : cg_classifier_app_count(names);
	for (uint16_t i = 0; i < count && i < CG_APP_MAX; i++)
		cand[i] = categories ? cg_classifier_category_name(names, i)
				     : cg_classifier_app_name(names, i);
	for (size_t i = 0; i < n; i++) {
		int id = categories
				 ? cg_classifier_category_id(names, refs[i].name)
				 : cg_classifier_app_id(names, refs[i].name);
		if (id <= 0) {
			const char *hint = cg_suggest(refs[i].name, cand, count);
			const char *kind = categories ? "application category"
						      : "application";
			if (hint)
				cg_diag_add(B->d, CG_SEV_ERROR, refs[i].file,
					    refs[i].line,
					    "%s: unknown %s \"%s\" (did you "
					    "mean \"%s\"?)",
					    where, kind, refs[i].name, hint);
			else
				cg_diag_add(B->d, CG_SEV_ERROR, refs[i].file,
					    refs[i].line,
					    "%s: unknown %s \"%s\" (names are "
					    "nDPI's; `cafeguardctl apps` lists "
					    "them)",
					    where, kind, refs[i].name);
			continue;
		}
		bits[id / 8] |= (uint8_t)(1u << (id % 8));
	}
}

static void resolve_sel(struct builder *B, const struct cg_config_profile *p,
			const struct cg_config_sel *cs, struct cg_selection *s,
			const char *where, const char *label)
{
	resolve_cats(B, cs->categories, cs->ncategories, &s->cats);
	resolve_apps(B, cs->apps, cs->napps, s->apps, false, where);
	resolve_apps(B, cs->app_categories, cs->napp_categories, s->app_cats,
		     true, where);
	s->everything = cs->everything;
	s->any_app = cs->napps || cs->napp_categories;
	if (cs->nhosts) {
		size_t idx;
		if (inline_category(B, p, label, cs->hosts, cs->nhosts,
				    &idx) == 0)
			cg_catset_add(&s->cats, idx);
	}
}

static void catset_or(struct cg_catset *a, const struct cg_catset *b)
{
	for (size_t i = 0; i < CG_CATEGORIES_MAX / 64; i++)
		a->w[i] |= b->w[i];
}

static int load_profile(struct builder *B, const struct cg_config_profile *cp,
			struct cg_profile *p, uint32_t *slots)
{
	char where[80];
	snprintf(where, sizeof(where), "profile \"%s\"", cp->name);
	p->name = strdup(cp->name);
	p->file = strdup(cp->file);
	p->line = cp->line;
	p->safesearch = cp->safesearch;
	p->windows = calloc(cp->nwindows ? cp->nwindows : 1,
			    sizeof(*p->windows));
	p->budgets = calloc(cp->nbudgets ? cp->nbudgets : 1,
			    sizeof(*p->budgets));
	if (!p->name || !p->file || !p->windows || !p->budgets) {
		oom(B);
		return -1;
	}
	resolve_sel(B, cp, &cp->block, &p->block, where, "block-hosts");
	resolve_cats(B, cp->allow.categories, cp->allow.ncategories,
		     &p->allow);
	if (cp->allow.nhosts) {
		size_t idx;
		if (inline_category(B, cp, "allow-hosts", cp->allow.hosts,
				    cp->allow.nhosts, &idx) == 0)
			cg_catset_add(&p->allow, idx);
	}
	p->needs_app = p->block.any_app;
	p->consult = p->block.cats;
	catset_or(&p->consult, &p->allow);
	for (size_t i = 0; i < cp->nwindows; i++) {
		const struct cg_config_window *cw = &cp->windows[i];
		struct cg_window *w = &p->windows[p->nwindows++];
		w->days = cw->days;
		w->from = cw->from;
		w->to = cw->to == 1440 && cw->from == 0 ? 1440 : cw->to;
		w->file = strdup(cw->file);
		w->line = cw->line;
		char label[48];
		snprintf(label, sizeof(label), "window-%zu-hosts", i + 1);
		resolve_sel(B, cp, &cw->block, &w->block, where, label);
		resolve_sel(B, cp, &cw->lift, &w->lift, where, label);
		p->needs_app |= w->block.any_app;
		p->timed |= w->block.everything || w->block.any_app ||
			    !cg_catset_empty(&w->block.cats);
		catset_or(&p->consult, &w->block.cats);
		catset_or(&p->consult, &w->lift.cats);
	}
	if (cp->nbudgets > 32)
		cg_diag_add(B->d, CG_SEV_ERROR, cp->file, cp->line,
			    "%s: at most 32 budgets", where);
	for (size_t i = 0; i < cp->nbudgets && i < 32; i++) {
		const struct cg_config_budget *cb = &cp->budgets[i];
		struct cg_budget *b = &p->budgets[p->nbudgets++];
		b->name = strdup(cb->name);
		b->file = strdup(cb->file);
		b->line = cb->line;
		b->minutes = cb->minutes;
		b->shared = cb->shared;
		resolve_sel(B, cp, &cb->what, &b->what, where, "budget-hosts");
		p->needs_app |= b->what.any_app;
		catset_or(&p->consult, &b->what.cats);
		b->first_slot = *slots;
		*slots += b->shared ? 1 : (uint32_t)B->cfg->nseats + 1;
	}
	return 0;
}

/* ---- what `check` warns about: rules that can never apply ---- */

/* Calls fn for every entry of a list file (no set is built). */
static void scan_names(const char *path, cg_list_entry_fn fn, void *ctx)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, f)) > 0) {
		size_t len = (size_t)n;
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			len--;
		enum cg_list_skip why;
		cg_listfile_parse_line(line, len, CG_LIST_AUTO, fn, ctx, &why);
	}
	free(line);
	fclose(f);
}

struct shadow_ctx {
	const struct cg_rules *r;
	const struct cg_profile *p;
	struct cg_catset blocked; /* anything the profile may block */
	size_t names, shadowing;
};

static int shadow_entry(void *arg, enum cg_digest kind, const char *text,
			size_t len)
{
	struct shadow_ctx *s = arg;
	if (kind != CG_DIGEST_NONE)
		return 0;
	s->names++;
	struct cg_name_hashes nh;
	cg_domainset_hash_name(text, len, &nh);
	for (size_t c = 0; c < s->r->ncats; c++) {
		if (!cg_catset_has(&s->blocked, c))
			continue;
		const struct cg_domainset *set = s->r->cats[c].set[0];
		struct cg_domain_match m;
		if (set && cg_domainset_lookup(set, &nh, &m)) {
			s->shadowing++;
			break;
		}
	}
	return 0;
}

static void check_profile(struct builder *B, const struct cg_config_profile *cp,
			  const struct cg_profile *p)
{
	struct cg_rules *r = B->r;
	struct shadow_ctx s = {.r = r, .p = p, .blocked = p->block.cats};
	bool everything = p->block.everything;
	for (size_t i = 0; i < p->nwindows; i++) {
		catset_or(&s.blocked, &p->windows[i].block.cats);
		everything |= p->windows[i].block.everything;
	}
	for (size_t c = 0; c < r->ncats; c++) {
		if (cg_catset_has(&p->block.cats, c) &&
		    cg_catset_has(&p->allow, c))
			cg_diag_add(B->d, CG_SEV_WARNING, cp->file, cp->line,
				    "profile \"%s\": category \"%s\" is both "
				    "blocked and allowed; allow wins, so the "
				    "block can never apply",
				    p->name, r->cats[c].name);
	}
	for (size_t i = 0; i < p->nwindows; i++) {
		const struct cg_window *w = &p->windows[i];
		for (size_t c = 0; c < r->ncats; c++)
			if (cg_catset_has(&w->lift.cats, c) &&
			    !cg_catset_has(&s.blocked, c))
				cg_diag_add(B->d, CG_SEV_WARNING, w->file,
					    w->line,
					    "profile \"%s\": this window lifts "
					    "category \"%s\", which the profile "
					    "never blocks",
					    p->name, r->cats[c].name);
		if (w->lift.everything && !everything)
			cg_diag_add(B->d, CG_SEV_WARNING, w->file, w->line,
				    "profile \"%s\": this window lifts "
				    "\"everything\", which no rule of the "
				    "profile blocks",
				    p->name);
	}
	if (everything)
		return; /* every allow shadows the "everything" block */
	/* An allow whose names no blocked category lists does nothing. */
	for (size_t c = 0; c < r->ncats; c++) {
		if (!cg_catset_has(&p->allow, c))
			continue;
		const struct cg_category *cat = &r->cats[c];
		s.names = s.shadowing = 0;
		if (cat->is_inline) {
			for (size_t i = 0; i < cp->allow.nhosts; i++) {
				const struct cg_config_ref *h =
					&cp->allow.hosts[i];
				size_t before = s.shadowing;
				shadow_entry(&s, CG_DIGEST_NONE, h->name,
					     strlen(h->name));
				if (s.shadowing == before)
					cg_diag_add(B->d, CG_SEV_WARNING,
						    h->file, h->line,
						    "profile \"%s\": allowing "
						    "\"%s\" changes nothing: no "
						    "category it blocks lists "
						    "it",
						    p->name, h->name);
			}
			continue;
		}
		/* Re-reading an allow list costs a pass over its text:
		 * fine for the short lists allow lists are. */
		if (cat->info.entries[CG_DIGEST_NONE] > 100000)
			continue;
		for (size_t f = 0; f < cat->nfiles; f++)
			scan_names(cat->files[f], shadow_entry, &s);
		if (s.names && !s.shadowing)
			cg_diag_add(B->d, CG_SEV_WARNING, cp->file, cp->line,
				    "profile \"%s\": allow list \"%s\" "
				    "changes nothing: none of its %zu names is "
				    "on a list the profile blocks",
				    p->name, cat->name, s.names);
	}
}

/* ---- seats ---- */

static int load_seats(struct builder *B)
{
	const struct cg_config *cfg = B->cfg;
	struct cg_rules *r = B->r;
	r->seats = calloc(cfg->nseats ? cfg->nseats : 1, sizeof(*r->seats));
	if (!r->seats) {
		oom(B);
		return -1;
	}
	for (size_t i = 0; i < cfg->nseats; i++) {
		const struct cg_config_seat *cs = &cfg->seats[i];
		struct cg_seat *s = &r->seats[r->nseats++];
		s->name = strdup(cs->name);
		s->file = strdup(cs->file);
		s->line = cs->line;
		memcpy(s->mac, cs->mac, 6);
		s->has_mac = cs->has_mac;
		if (cs->naddrs) {
			s->addrs = malloc(cs->naddrs * sizeof(*s->addrs));
			if (!s->addrs) {
				oom(B);
				return -1;
			}
			memcpy(s->addrs, cs->addrs,
			       cs->naddrs * sizeof(*s->addrs));
			s->naddrs = cs->naddrs;
		}
		int p = cs->profile.name ? cg_rules_profile(r, cs->profile.name)
					 : -1;
		s->profile = (uint16_t)(p < 0 ? 0 : p);
	}
	return 0;
}

struct cg_rules *cg_rules_build(const struct cg_config *cfg,
				const struct cg_classifier *names, bool check,
				struct cg_diag *d)
{
	struct builder B = {cfg, names, NULL, d, check, d->errors};
	struct cg_rules *r = calloc(1, sizeof(*r));
	if (!r) {
		oom(&B);
		return NULL;
	}
	B.r = r;
	/* Inline host lists add at most two categories per profile and
	 * one per window and budget selection. */
	size_t inline_max = 0;
	for (size_t i = 0; i < cfg->nprofiles; i++)
		inline_max += 2 + 2 * cfg->profiles[i].nwindows +
			      cfg->profiles[i].nbudgets;
	size_t max = cfg->ncategories + inline_max;
	r->path = strdup(cfg->path);
	cg_respond_init(&r->respond, cfg);
	r->cats = calloc(max ? max : 1, sizeof(*r->cats));
	/* One spare: a profile a failed build began is freed from it. */
	r->profiles = calloc(cfg->nprofiles + 1, sizeof(*r->profiles));
	if (!r->path || !r->cats || !r->profiles) {
		oom(&B);
		cg_rules_free(r);
		return NULL;
	}
	if (max > CG_CATEGORIES_MAX) {
		cg_diag_add(d, CG_SEV_ERROR, cfg->path, 0,
			    "%zu categories (with inline host lists); at most "
			    "%u",
			    max, CG_CATEGORIES_MAX);
		cg_rules_free(r);
		return NULL;
	}

	/* Names first, so profiles can resolve them; lists are loaded
	 * only for categories a profile uses. */
	for (size_t i = 0; i < cfg->ncategories; i++) {
		r->cats[i].name = strdup(cfg->categories[i].name);
		r->ncats++;
	}
	uint32_t slots = 0;
	for (size_t i = 0; i < cfg->nprofiles; i++) {
		if (load_profile(&B, &cfg->profiles[i], &r->profiles[i],
				 &slots) < 0)
			break;
		r->nprofiles++;
	}
	r->nslots = slots;
	struct cg_catset used;
	memset(&used, 0, sizeof(used));
	for (size_t i = 0; i < r->nprofiles; i++)
		catset_or(&used, &r->profiles[i].consult);
	for (size_t i = 0; i < cfg->ncategories; i++) {
		const struct cg_config_category *cc = &cfg->categories[i];
		struct cg_category *c = &r->cats[i];
		if (!cg_catset_has(&used, i)) {
			cg_diag_add(d, CG_SEV_WARNING, cc->file, cc->line,
				    "category \"%s\" is defined but no profile "
				    "uses it",
				    cc->name);
			c->title = strdup(cc->title);
			continue;
		}
		free(c->name);
		load_category(&B, cc, c);
	}
	if (!failed(&B))
		load_seats(&B);
	if (cfg->default_profile.name) {
		int p = cg_rules_profile(r, cfg->default_profile.name);
		r->default_profile = (uint16_t)(p < 0 ? 0 : p);
	}
	if (check && !failed(&B))
		for (size_t i = 0; i < r->nprofiles; i++)
			check_profile(&B, &cfg->profiles[i], &r->profiles[i]);
	if (failed(&B)) {
		cg_rules_free(r);
		return NULL;
	}
	return r;
}

void cg_rules_free(struct cg_rules *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->ncats; i++) {
		struct cg_category *c = &r->cats[i];
		free(c->name);
		free(c->title);
		free(c->decl_file);
		for (size_t j = 0; j < c->nfiles; j++)
			free(c->files[j]);
		free(c->files);
		cg_listimage_free(c->image);
		cg_domainset_free(c->inline_set);
	}
	free(r->cats);
	for (size_t i = 0; i < r->nprofiles; i++) {
		struct cg_profile *p = &r->profiles[i];
		for (size_t w = 0; w < p->nwindows; w++)
			free(p->windows[w].file);
		free(p->windows);
		for (size_t b = 0; b < p->nbudgets; b++) {
			free(p->budgets[b].name);
			free(p->budgets[b].file);
		}
		free(p->budgets);
		free(p->name);
		free(p->file);
	}
	/* A build that failed half-way may have begun one more profile. */
	if (r->profiles && r->profiles[r->nprofiles].name) {
		struct cg_profile *p = &r->profiles[r->nprofiles];
		for (size_t w = 0; w < p->nwindows; w++)
			free(p->windows[w].file);
		free(p->windows);
		for (size_t b = 0; b < p->nbudgets; b++) {
			free(p->budgets[b].name);
			free(p->budgets[b].file);
		}
		free(p->budgets);
		free(p->name);
		free(p->file);
	}
	free(r->profiles);
	for (size_t i = 0; i < r->nseats; i++) {
		free(r->seats[i].name);
		free(r->seats[i].file);
		free(r->seats[i].addrs);
	}
	free(r->seats);
	free(r->path);
	free(r);
}

size_t cg_rules_entries(const struct cg_rules *r)
{
	size_t n = 0;
	for (size_t i = 0; i < r->ncats; i++)
		for (int k = 0; k < CG_DIGEST__COUNT; k++)
			n += r->cats[i].info.entries[k];
	return n;
}

int cg_rules_seat(const struct cg_rules *r, const uint8_t *mac,
		  uint8_t family, const uint8_t addr[16])
{
	/* A MAC names a device whatever address it takes (DHCP, IPv6
	 * privacy addresses); an address is the fallback. */
	if (mac)
		for (size_t i = 0; i < r->nseats; i++)
			if (r->seats[i].has_mac &&
			    !memcmp(r->seats[i].mac, mac, 6))
				return (int)i;
	size_t alen = family == 4 ? 4 : 16;
	for (size_t i = 0; i < r->nseats; i++)
		for (size_t j = 0; j < r->seats[i].naddrs; j++)
			if (r->seats[i].addrs[j].family == family &&
			    !memcmp(r->seats[i].addrs[j].addr, addr, alen))
				return (int)i;
	return -1;
}

int cg_rules_profile(const struct cg_rules *r, const char *name)
{
	for (size_t i = 0; i < r->nprofiles; i++)
		if (r->profiles[i].name && !strcmp(r->profiles[i].name, name))
			return (int)i;
	return -1;
}

int cg_rules_seat_by_name(const struct cg_rules *r, const char *name)
{
	for (size_t i = 0; i < r->nseats; i++)
		if (!strcmp(r->seats[i].name, name))
			return (int)i;
	return -1;
}
