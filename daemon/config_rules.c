/*
 * The rule set in the configuration: categories, profiles (blocks,
 * allows, schedules, budgets), seats, the default profile and the
 * rule-set tests ("expect").  Names are checked against each other here;
 * against nDPI and the disk when the rules are built.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "config_loader.h"

/* ---- selections ---- */

enum sel_kind { SEL_BLOCK, SEL_ALLOW, SEL_LIFT, SEL_BUDGET };

static const char *sel_word(enum sel_kind k)
{
	switch (k) {
	case SEL_BLOCK:
		return "block";
	case SEL_ALLOW:
		return "allow";
	case SEL_LIFT:
		return "lift";
	case SEL_BUDGET:
		return "a budget";
	}
	return "?";
}

/* A list of names (or one name as a string) into refs; duplicates are
 * errors. */
static void load_names(struct cfg_loader *L, const config_setting_t *g,
		       const char *key, struct cg_config_ref **out, size_t *n,
		       bool hosts)
{
	config_setting_t *s = config_setting_get_member(g, key);
	if (!s || !cfg_type_ok(s, K_STRING_OR_LIST))
		return;
	bool single = config_setting_type(s) == CONFIG_TYPE_STRING;
	int len = single ? 1 : config_setting_length(s);
	*out = calloc((size_t)(len ? len : 1), sizeof(**out));
	if (!*out) {
		cfg_err(L, s, "out of memory");
		return;
	}
	for (int i = 0; i < len; i++) {
		config_setting_t *e =
			single ? s : config_setting_get_elem(s, (unsigned)i);
		if (!cfg_type_ok(e, K_STRING)) {
			cfg_err(L, e, "must be a name in double quotes");
			continue;
		}
		const char *v = config_setting_get_string(e);
		char canon[CG_NAME_BUF];
		size_t cl;
		if (hosts) {
			enum cg_name_status st =
				cg_name_canon(v, strlen(v), canon, &cl);
			if (st != CG_NAME_OK) {
				cfg_err(L, e, "\"%s\": %s", v,
					cg_name_status_str(st));
				continue;
			}
			v = canon;
		}
		bool dup = false;
		for (size_t j = 0; j < *n; j++)
			if (!strcasecmp((*out)[j].name, v))
				dup = true;
		if (dup) {
			cfg_err(L, e, "\"%s\" is given twice", v);
			continue;
		}
		struct cg_config_ref r = cfg_ref(L, e, v);
		if (r.name)
			(*out)[(*n)++] = r;
	}
}

static void load_sel(struct cfg_loader *L, const config_setting_t *g,
		     enum sel_kind kind, struct cg_config_sel *sel)
{
	static const struct cfg_key block_keys[] = {
		{"categories", K_STRING_OR_LIST},
		{"apps", K_STRING_OR_LIST},
		{"app_categories", K_STRING_OR_LIST},
		{"hosts", K_STRING_OR_LIST},
		{"everything", K_BOOL},
	};
	static const struct cfg_key allow_keys[] = {
		{"categories", K_STRING_OR_LIST},
		{"hosts", K_STRING_OR_LIST},
	};
	static const struct cfg_key lift_keys[] = {
		{"categories", K_STRING_OR_LIST},
		{"apps", K_STRING_OR_LIST},
		{"app_categories", K_STRING_OR_LIST},
		{"everything", K_BOOL},
	};
	sel->file = strdup(cfg_file(L, g));
	sel->line = cfg_line(g);
	if (kind == SEL_BLOCK)
		cfg_check_keys(L, g, CFG_KEYS(block_keys));
	else if (kind == SEL_ALLOW)
		cfg_check_keys(L, g, CFG_KEYS(allow_keys));
	else if (kind == SEL_LIFT)
		cfg_check_keys(L, g, CFG_KEYS(lift_keys));
	load_names(L, g, "categories", &sel->categories, &sel->ncategories,
		   false);
	if (kind != SEL_ALLOW) {
		load_names(L, g, "apps", &sel->apps, &sel->napps, false);
		load_names(L, g, "app_categories", &sel->app_categories,
			   &sel->napp_categories, false);
	}
	if (kind == SEL_BLOCK || kind == SEL_ALLOW)
		load_names(L, g, "hosts", &sel->hosts, &sel->nhosts, true);
	if (kind == SEL_BLOCK || kind == SEL_LIFT)
		cfg_get_bool(g, "everything", &sel->everything);
	if (kind != SEL_BUDGET && !sel->ncategories && !sel->napps &&
	    !sel->napp_categories && !sel->nhosts && !sel->everything)
		cfg_warn(L, g, "%s names nothing", sel_word(kind));
}

static void free_sel(struct cg_config_sel *s)
{
	struct {
		struct cg_config_ref *v;
		size_t n;
	} lists[4] = {{s->categories, s->ncategories},
		      {s->apps, s->napps},
		      {s->app_categories, s->napp_categories},
		      {s->hosts, s->nhosts}};
	for (int i = 0; i < 4; i++) {
		for (size_t j = 0; j < lists[i].n; j++)
			cfg_ref_free(&lists[i].v[j]);
		free(lists[i].v);
	}
	free(s->file);
	memset(s, 0, sizeof(*s));
}

static void load_sel_member(struct cfg_loader *L, const config_setting_t *g,
			    const char *key, enum sel_kind kind,
			    struct cg_config_sel *sel)
{
	config_setting_t *s = config_setting_get_member(g, key);
	if (s && cfg_type_ok(s, K_GROUP))
		load_sel(L, s, kind, sel);
}

/* ---- categories ---- */

/* The name of a category, profile, seat or budget (what): its setting,
 * or NULL when it is missing or malformed (reported; a value of the
 * wrong type was reported with the other keys). */
static const config_setting_t *item_name(struct cfg_loader *L,
					 const config_setting_t *item,
					 const char *what, const char **name)
{
	const config_setting_t *ns = cfg_get_string(item, "name", name);
	if (!ns) {
		if (!config_setting_get_member(item, "name"))
			cfg_err(L, item, "a %s needs a name", what);
		return NULL;
	}
	if (!cfg_valid_name(*name)) {
		cfg_err(L, ns, "\"%s\": a name is 1-40 letters, digits, '-' "
			       "or '_'",
			*name);
		return NULL;
	}
	return ns;
}

/* True (reported at ns) when name is already the name of one defined at
 * file:line. */
static bool name_taken(struct cfg_loader *L, const config_setting_t *ns,
		       const char *what, const char *name, const char *other,
		       const char *file, unsigned line)
{
	if (strcmp(other, name))
		return false;
	cfg_err(L, ns, "%s \"%s\" is already defined at %s:%u", what, name,
		file, line);
	return true;
}

static void load_category(struct cfg_loader *L, const config_setting_t *item)
{
	static const struct cfg_key keys[] = {
		{"name", K_STRING},
		{"title", K_STRING},
		{"lists", K_STRING_OR_LIST},
		{"format", K_STRING},
	};
	struct cg_config *c = L->cfg;
	if (!cfg_type_ok(item, K_GROUP)) {
		cfg_err(L, item, "each category is a group: { name = \"...\"; "
				 "lists = [ \"...\" ]; }");
		return;
	}
	cfg_check_keys(L, item, CFG_KEYS(keys));
	const char *name = NULL, *title = NULL;
	const config_setting_t *ns = item_name(L, item, "category", &name);
	if (!ns)
		return;
	for (size_t i = 0; i < c->ncategories; i++)
		if (name_taken(L, ns, "category", name, c->categories[i].name,
			       c->categories[i].file, c->categories[i].line))
			return;
	struct cg_config_category *cat = &c->categories[c->ncategories];
	memset(cat, 0, sizeof(*cat));
	cfg_get_string(item, "title", &title);
	const char *fmt;
	const config_setting_t *fs = cfg_get_string(item, "format", &fmt);
	if (fs && cg_list_format_parse(fmt, &cat->format) < 0)
		cfg_err(L, fs, "\"%s\": use \"auto\", \"hosts\", \"domains\", "
			       "\"adblock\" or \"hashed\"",
			fmt);

	config_setting_t *ls = config_setting_get_member(item, "lists");
	if (!ls) {
		cfg_err(L, item, "category \"%s\" needs lists = [ ... ] (files "
				 "or folders)",
			name);
		return;
	}
	if (!cfg_type_ok(ls, K_STRING_OR_LIST))
		return;
	bool single = config_setting_type(ls) == CONFIG_TYPE_STRING;
	int n = single ? 1 : config_setting_length(ls);
	if (!n) {
		cfg_err(L, ls, "category \"%s\" has no lists", name);
		return;
	}
	cat->lists = calloc((size_t)n, sizeof(char *));
	cat->name = strdup(name);
	cat->title = strdup(title ? title : name);
	cat->file = strdup(cfg_file(L, item));
	cat->line = cfg_line(item);
	if (!cat->lists || !cat->name || !cat->title || !cat->file) {
		cfg_err(L, item, "out of memory");
		free(cat->lists);
		free(cat->name);
		free(cat->title);
		free(cat->file);
		return;
	}
	for (int i = 0; i < n; i++) {
		config_setting_t *f =
			single ? ls : config_setting_get_elem(ls, (unsigned)i);
		if (!cfg_type_ok(f, K_STRING) ||
		    !*config_setting_get_string(f)) {
			cfg_err(L, f, "a list is a file or folder name in "
				      "double quotes");
			continue;
		}
		char *p = cfg_path_of(L, f, config_setting_get_string(f));
		if (p)
			cat->lists[cat->nlists++] = p;
	}
	c->ncategories++;
}

/* ---- profiles ---- */

static void load_window(struct cfg_loader *L, const config_setting_t *g,
			struct cg_config_profile *p)
{
	static const struct cfg_key keys[] = {
		{"days", K_STRING}, {"from", K_STRING}, {"to", K_STRING},
		{"block", K_GROUP}, {"lift", K_GROUP},
	};
	if (!cfg_type_ok(g, K_GROUP)) {
		cfg_err(L, g, "each schedule window is a group: { days = "
			      "\"mon-fri\"; from = \"08:00\"; to = "
			      "\"12:00\"; block = { ... }; }");
		return;
	}
	cfg_check_keys(L, g, CFG_KEYS(keys));
	struct cg_config_window *w = &p->windows[p->nwindows];
	memset(w, 0, sizeof(*w));
	bool ok = true;
	const char *v;
	const config_setting_t *s;
	char why[256];
	if ((s = cfg_get_string(g, "days", &v))) {
		if (cg_config_parse_days(v, &w->days, why, sizeof(why)) < 0) {
			cfg_err(L, s, "%s", why);
			ok = false;
		}
	} else {
		w->days = 0x7f; /* no days given: every day */
	}
	const char *keys2[2] = {"from", "to"};
	uint16_t *dst[2] = {&w->from, &w->to};
	for (int i = 0; i < 2; i++) {
		if ((s = cfg_get_string(g, keys2[i], &v))) {
			if (cg_config_parse_hhmm(v, dst[i]) < 0) {
				cfg_err(L, s, "\"%s\": a time is \"HH:MM\", "
					      "00:00 to 24:00",
					v);
				ok = false;
			}
		} else {
			cfg_err(L, g, "a window needs \"%s\"", keys2[i]);
			ok = false;
		}
	}
	if (ok && w->from == w->to) {
		cfg_err(L, g, "from and to are both %02u:%02u: the window "
			      "would never be open (for a whole day use "
			      "00:00 to 24:00)",
			w->from / 60u, w->from % 60u);
		ok = false;
	}
	load_sel_member(L, g, "block", SEL_BLOCK, &w->block);
	load_sel_member(L, g, "lift", SEL_LIFT, &w->lift);
	if (!config_setting_get_member(g, "block") &&
	    !config_setting_get_member(g, "lift")) {
		cfg_err(L, g, "a window adds blocks (block = { ... }) or lifts "
			      "them (lift = { ... })");
		ok = false;
	}
	w->file = strdup(cfg_file(L, g));
	w->line = cfg_line(g);
	if (!ok) {
		free_sel(&w->block);
		free_sel(&w->lift);
		free(w->file);
		return;
	}
	p->nwindows++;
}

static void load_budget(struct cfg_loader *L, const config_setting_t *g,
			struct cg_config_profile *p)
{
	static const struct cfg_key keys[] = {
		{"name", K_STRING},
		{"per_day", K_STRING},
		{"categories", K_STRING_OR_LIST},
		{"apps", K_STRING_OR_LIST},
		{"app_categories", K_STRING_OR_LIST},
		{"shared", K_BOOL},
	};
	if (!cfg_type_ok(g, K_GROUP)) {
		cfg_err(L, g, "each budget is a group: { name = \"games\"; "
			      "per_day = \"1h\"; categories = [ ... ]; }");
		return;
	}
	cfg_check_keys(L, g, CFG_KEYS(keys));
	struct cg_config_budget *b = &p->budgets[p->nbudgets];
	memset(b, 0, sizeof(*b));
	const char *name = NULL, *pd;
	const config_setting_t *s = item_name(L, g, "budget", &name);
	if (!s)
		return;
	for (size_t i = 0; i < p->nbudgets; i++)
		if (name_taken(L, s, "budget", name, p->budgets[i].name,
			       cfg_file(L, g), p->budgets[i].line))
			return;
	uint32_t minutes = 0;
	if (!(s = cfg_get_string(g, "per_day", &pd))) {
		cfg_err(L, g, "a budget needs per_day = \"1h\" (or \"45m\", "
			      "\"1h30m\")");
		return;
	}
	if (cg_config_parse_duration(pd, &minutes) < 0) {
		cfg_err(L, s, "\"%s\": a duration is like \"1h\", \"45m\" or "
			      "\"1h30m\"",
			pd);
		return;
	}
	if (minutes == 0) {
		cfg_err(L, s, "a budget of no time: use a block instead");
		return;
	}
	if (minutes >= 1440)
		cfg_warn(L, s, "\"%s\" is a whole day or more: this budget "
			       "can never run out",
			 pd);
	load_sel(L, g, SEL_BUDGET, &b->what);
	if (!b->what.ncategories && !b->what.napps &&
	    !b->what.napp_categories) {
		cfg_err(L, g, "a budget counts categories, apps or "
			      "app_categories: name at least one");
		free_sel(&b->what);
		return;
	}
	cfg_get_bool(g, "shared", &b->shared);
	b->minutes = (uint16_t)(minutes > 1440 ? 1440 : minutes);
	b->name = strdup(name);
	b->file = strdup(cfg_file(L, g));
	b->line = cfg_line(g);
	p->nbudgets++;
}

static void load_profile(struct cfg_loader *L, const config_setting_t *item)
{
	static const struct cfg_key keys[] = {
		{"name", K_STRING},  {"block", K_GROUP},
		{"allow", K_GROUP},  {"safesearch", K_BOOL},
		{"schedule", K_LIST}, {"budgets", K_LIST},
	};
	struct cg_config *c = L->cfg;
	if (!cfg_type_ok(item, K_GROUP)) {
		cfg_err(L, item, "each profile is a group: { name = \"kids\"; "
				 "block = { ... }; }");
		return;
	}
	cfg_check_keys(L, item, CFG_KEYS(keys));
	const char *name = NULL;
	const config_setting_t *ns = item_name(L, item, "profile", &name);
	if (!ns)
		return;
	for (size_t i = 0; i < c->nprofiles; i++)
		if (name_taken(L, ns, "profile", name, c->profiles[i].name,
			       c->profiles[i].file, c->profiles[i].line))
			return;
	struct cg_config_profile *p = &c->profiles[c->nprofiles];
	memset(p, 0, sizeof(*p));
	p->name = strdup(name);
	p->file = strdup(cfg_file(L, item));
	p->line = cfg_line(item);
	load_sel_member(L, item, "block", SEL_BLOCK, &p->block);
	load_sel_member(L, item, "allow", SEL_ALLOW, &p->allow);
	cfg_get_bool(item, "safesearch", &p->safesearch);

	config_setting_t *sch = config_setting_get_member(item, "schedule");
	if (sch && cfg_type_ok(sch, K_LIST)) {
		int n = config_setting_length(sch);
		p->windows = calloc((size_t)(n ? n : 1), sizeof(*p->windows));
		for (int i = 0; p->windows && i < n; i++)
			load_window(L, config_setting_get_elem(sch,
							       (unsigned)i),
				    p);
	}
	config_setting_t *bs = config_setting_get_member(item, "budgets");
	if (bs && cfg_type_ok(bs, K_LIST)) {
		int n = config_setting_length(bs);
		p->budgets = calloc((size_t)(n ? n : 1), sizeof(*p->budgets));
		for (int i = 0; p->budgets && i < n; i++)
			load_budget(L, config_setting_get_elem(bs, (unsigned)i),
				    p);
	}
	c->nprofiles++;
}

/* ---- seats ---- */

static void load_seat(struct cfg_loader *L, const config_setting_t *item)
{
	static const struct cfg_key keys[] = {
		{"name", K_STRING},
		{"mac", K_STRING},
		{"ip", K_STRING_OR_LIST},
		{"profile", K_STRING},
	};
	struct cg_config *c = L->cfg;
	if (!cfg_type_ok(item, K_GROUP)) {
		cfg_err(L, item, "each seat is a group: { name = \"seat-01\"; "
				 "mac = \"...\"; profile = \"kids\"; }");
		return;
	}
	cfg_check_keys(L, item, CFG_KEYS(keys));
	const char *name = NULL, *v;
	const config_setting_t *ns = item_name(L, item, "seat", &name);
	if (!ns)
		return;
	for (size_t i = 0; i < c->nseats; i++)
		if (name_taken(L, ns, "seat", name, c->seats[i].name,
			       c->seats[i].file, c->seats[i].line))
			return;
	struct cg_config_seat *st = &c->seats[c->nseats];
	memset(st, 0, sizeof(*st));
	const config_setting_t *s;
	if ((s = cfg_get_string(item, "mac", &v))) {
		if (cg_config_parse_mac(v, st->mac) < 0) {
			cfg_err(L, s, "\"%s\": a MAC address is like "
				      "\"52:54:00:12:34:56\"",
				v);
			return;
		}
		st->has_mac = true;
	}
	config_setting_t *ips = config_setting_get_member(item, "ip");
	if (ips && cfg_type_ok(ips, K_STRING_OR_LIST)) {
		bool single = config_setting_type(ips) == CONFIG_TYPE_STRING;
		int n = single ? 1 : config_setting_length(ips);
		st->addrs = calloc((size_t)(n ? n : 1), sizeof(*st->addrs));
		for (int i = 0; st->addrs && i < n; i++) {
			config_setting_t *e =
				single ? ips
				       : config_setting_get_elem(ips,
								 (unsigned)i);
			if (!cfg_type_ok(e, K_STRING) ||
			    cg_config_parse_addr(config_setting_get_string(e),
					&st->addrs[st->naddrs])) {
				cfg_err(L, e, "not an IPv4 or IPv6 address");
				continue;
			}
			st->naddrs++;
		}
	}
	if (!st->has_mac && !st->naddrs) {
		cfg_err(L, item, "seat \"%s\" has neither mac nor ip: it "
				 "could never be recognised",
			name);
		free(st->addrs);
		return;
	}
	if ((s = cfg_get_string(item, "profile", &v)))
		st->profile = cfg_ref(L, s, v);
	else
		cfg_err(L, item, "seat \"%s\" needs a profile", name);
	st->name = strdup(name);
	st->file = strdup(cfg_file(L, item));
	st->line = cfg_line(item);
	c->nseats++;
}

/* ---- expect ---- */

static void load_expect(struct cfg_loader *L, const config_setting_t *item)
{
	static const struct cfg_key keys[] = {
		{"seat", K_STRING},    {"profile", K_STRING},
		{"ip", K_STRING},      {"mac", K_STRING},
		{"at", K_STRING},      {"host", K_STRING},
		{"url", K_STRING},     {"app", K_STRING},
		{"decision", K_STRING},
	};
	struct cg_config *c = L->cfg;
	if (!cfg_type_ok(item, K_GROUP)) {
		cfg_err(L, item, "each expect is a group: { profile = "
				 "\"kids\"; host = \"...\"; decision = "
				 "\"block\"; }");
		return;
	}
	cfg_check_keys(L, item, CFG_KEYS(keys));
	struct cg_config_expect *e = &c->expects[c->nexpects];
	memset(e, 0, sizeof(*e));
	const char *v;
	const config_setting_t *s;
	int whos = 0;
	if ((s = cfg_get_string(item, "seat", &v))) {
		e->who = CG_WHO_SEAT;
		e->whom = cfg_ref(L, s, v);
		whos++;
	}
	if ((s = cfg_get_string(item, "profile", &v))) {
		e->who = CG_WHO_PROFILE;
		e->whom = cfg_ref(L, s, v);
		whos++;
	}
	if ((s = cfg_get_string(item, "ip", &v))) {
		e->who = CG_WHO_IP;
		if (cg_config_parse_addr(v, &e->ip)) {
			cfg_err(L, s, "not an IPv4 or IPv6 address");
		}
		whos++;
	}
	if ((s = cfg_get_string(item, "mac", &v))) {
		e->who = CG_WHO_MAC;
		if (cg_config_parse_mac(v, e->mac) < 0) {
			cfg_err(L, s, "\"%s\" is not a MAC address", v);
		}
		whos++;
	}
	if (whos > 1) {
		cfg_err(L, item, "say who with one of seat, profile, ip or "
				 "mac (or none: an unknown client)");
	}
	if ((s = cfg_get_string(item, "at", &v))) {
		if (cg_config_parse_at(v, &e->year, &e->month, &e->mday,
				       &e->minute) < 0) {
			cfg_err(L, s, "\"%s\": give a date and time as "
				      "\"YYYY-MM-DD HH:MM\"",
				v);
		}
		e->has_at = true;
	}
	const char *host = NULL;
	const config_setting_t *hs = cfg_get_string(item, "host", &host);
	const config_setting_t *us = NULL;
	if (!hs) {
		us = cfg_get_string(item, "url", &host);
		hs = us;
	}
	if (hs) {
		/* url: the host between "scheme://" and the next '/' or
		 * ':'; host: as written. */
		const char *h = host, *end;
		if (us) {
			const char *sch = strstr(h, "://");
			h = sch ? sch + 3 : h;
		}
		end = h + strcspn(h, us ? "/:?#" : "");
		char canon[CG_NAME_BUF];
		size_t cl;
		enum cg_name_status st =
			cg_name_canon(h, (size_t)(end - h), canon, &cl);
		if (st != CG_NAME_OK) {
			cfg_err(L, hs, "\"%s\": %s", host,
				cg_name_status_str(st));
		} else {
			e->host = strdup(canon);
		}
	}
	if ((s = cfg_get_string(item, "app", &v)))
		e->app = cfg_ref(L, s, v);
	if (!hs && !e->app.name) {
		cfg_err(L, item, "an expect needs a host (or url) or an app");
	}
	if ((s = cfg_get_string(item, "decision", &v))) {
		if (!strcmp(v, "block"))
			e->want_block = true;
		else if (strcmp(v, "allow")) {
			cfg_err(L, s, "\"%s\": the decision is \"block\" or "
				      "\"allow\"",
				v);
		}
	} else {
		cfg_err(L, item, "an expect needs decision = \"block\" or "
				 "\"allow\"");
	}
	e->file = strdup(cfg_file(L, item));
	e->line = cfg_line(item);
	c->nexpects++;
}

/* ---- references between sections ---- */

static void check_category_refs(struct cfg_loader *L,
				const struct cg_config_ref *refs, size_t n,
				const char *where)
{
	struct cg_config *c = L->cfg;
	const char *names[256];
	size_t nn = 0;
	for (size_t i = 0; i < c->ncategories && nn < 256; i++)
		names[nn++] = c->categories[i].name;
	for (size_t i = 0; i < n; i++) {
		bool found = false;
		for (size_t j = 0; j < c->ncategories; j++)
			if (!strcmp(c->categories[j].name, refs[i].name))
				found = true;
		if (found)
			continue;
		const char *hint = cg_suggest(refs[i].name, names, nn);
		if (hint)
			cg_diag_add(L->d, CG_SEV_ERROR, refs[i].file,
				    refs[i].line,
				    "%s: unknown category \"%s\" (did you mean "
				    "\"%s\"?)",
				    where, refs[i].name, hint);
		else
			cg_diag_add(L->d, CG_SEV_ERROR, refs[i].file,
				    refs[i].line,
				    "%s: unknown category \"%s\" (categories "
				    "are defined in categories = ( ... ))",
				    where, refs[i].name);
	}
}

static void check_profile_ref(struct cfg_loader *L,
			      const struct cg_config_ref *r, const char *where)
{
	struct cg_config *c = L->cfg;
	if (!r->name)
		return;
	const char *names[256];
	size_t nn = 0;
	for (size_t i = 0; i < c->nprofiles; i++) {
		if (!strcmp(c->profiles[i].name, r->name))
			return;
		if (nn < 256)
			names[nn++] = c->profiles[i].name;
	}
	const char *hint = cg_suggest(r->name, names, nn);
	if (hint)
		cg_diag_add(L->d, CG_SEV_ERROR, r->file, r->line,
			    "%s: unknown profile \"%s\" (did you mean "
			    "\"%s\"?)",
			    where, r->name, hint);
	else
		cg_diag_add(L->d, CG_SEV_ERROR, r->file, r->line,
			    "%s: unknown profile \"%s\" (profiles are defined "
			    "in profiles = ( ... ))",
			    where, r->name);
}

static void check_refs(struct cfg_loader *L)
{
	struct cg_config *c = L->cfg;
	for (size_t i = 0; i < c->nprofiles; i++) {
		struct cg_config_profile *p = &c->profiles[i];
		char where[96];
		snprintf(where, sizeof(where), "profile \"%s\"", p->name);
		check_category_refs(L, p->block.categories,
				    p->block.ncategories, where);
		check_category_refs(L, p->allow.categories,
				    p->allow.ncategories, where);
		for (size_t w = 0; w < p->nwindows; w++) {
			check_category_refs(L, p->windows[w].block.categories,
					    p->windows[w].block.ncategories,
					    where);
			check_category_refs(L, p->windows[w].lift.categories,
					    p->windows[w].lift.ncategories,
					    where);
		}
		for (size_t b = 0; b < p->nbudgets; b++)
			check_category_refs(L, p->budgets[b].what.categories,
					    p->budgets[b].what.ncategories,
					    where);
	}
	for (size_t i = 0; i < c->nseats; i++) {
		char where[96];
		snprintf(where, sizeof(where), "seat \"%s\"", c->seats[i].name);
		check_profile_ref(L, &c->seats[i].profile, where);
		for (size_t j = 0; j < i; j++) {
			const struct cg_config_seat *a = &c->seats[i],
						    *b = &c->seats[j];
			if (a->has_mac && b->has_mac &&
			    !memcmp(a->mac, b->mac, 6))
				cg_diag_add(L->d, CG_SEV_ERROR, a->file,
					    a->line,
					    "seat \"%s\" has the MAC address of "
					    "seat \"%s\" (%s:%u)",
					    a->name, b->name, b->file, b->line);
			for (size_t x = 0; x < a->naddrs; x++)
				for (size_t y = 0; y < b->naddrs; y++)
					if (!memcmp(&a->addrs[x], &b->addrs[y],
						    sizeof(a->addrs[x])))
						cg_diag_add(
							L->d, CG_SEV_ERROR,
							a->file, a->line,
							"seat \"%s\" has an "
							"address of seat "
							"\"%s\" (%s:%u)",
							a->name, b->name,
							b->file, b->line);
		}
	}
	check_profile_ref(L, &c->default_profile, "default_profile");
	if (c->nprofiles == 0 && (c->nseats || c->default_profile.name))
		cg_diag_add(L->d, CG_SEV_ERROR, c->path, 0,
			    "seats and default_profile need profiles = ( "
			    "... )");
	for (size_t i = 0; i < c->nexpects; i++) {
		struct cg_config_expect *e = &c->expects[i];
		if (e->who == CG_WHO_PROFILE)
			check_profile_ref(L, &e->whom, "expect");
		if (e->who == CG_WHO_SEAT) {
			bool found = false;
			for (size_t j = 0; j < c->nseats; j++)
				if (!strcmp(c->seats[j].name, e->whom.name))
					found = true;
			if (!found)
				cg_diag_add(L->d, CG_SEV_ERROR, e->whom.file,
					    e->whom.line,
					    "expect: unknown seat \"%s\"",
					    e->whom.name);
		}
	}
}

typedef void (*item_loader)(struct cfg_loader *, const config_setting_t *);

/* Room for every element of the list setting root.key. */
static void *alloc_each(struct cfg_loader *L, config_setting_t *root,
			const char *key, size_t elem)
{
	config_setting_t *s = config_setting_get_member(root, key);
	if (!s || !cfg_type_ok(s, K_LIST))
		return NULL;
	int n = config_setting_length(s);
	void *v = calloc((size_t)(n ? n : 1), elem);
	if (!v) {
		cfg_err(L, s, "out of memory");
		return NULL;
	}
	return v;
}

void cfg_load_rules(struct cfg_loader *L, config_setting_t *root)
{
	struct cg_config *c = L->cfg;
	static const struct {
		const char *key;
		item_loader load;
	} sections[] = {
		{"categories", load_category},
		{"profiles", load_profile},
		{"seats", load_seat},
		{"expect", load_expect},
	};
	void **slots[] = {(void **)&c->categories, (void **)&c->profiles,
			  (void **)&c->seats, (void **)&c->expects};
	size_t sizes[] = {sizeof(*c->categories), sizeof(*c->profiles),
			  sizeof(*c->seats), sizeof(*c->expects)};
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
		*slots[i] = alloc_each(L, root, sections[i].key, sizes[i]);
		if (!*slots[i])
			continue;
		config_setting_t *s =
			config_setting_get_member(root, sections[i].key);
		int n = config_setting_length(s);
		for (int j = 0; j < n; j++)
			sections[i].load(
				L, config_setting_get_elem(s, (unsigned)j));
	}
	const char *v;
	const config_setting_t *s = cfg_get_string(root, "default_profile", &v);
	if (s)
		c->default_profile = cfg_ref(L, s, v);
	check_refs(L);
}

void cfg_free_rules(struct cg_config *c)
{
	for (size_t i = 0; i < c->ncategories; i++) {
		struct cg_config_category *cat = &c->categories[i];
		for (size_t j = 0; j < cat->nlists; j++)
			free(cat->lists[j]);
		free(cat->lists);
		free(cat->name);
		free(cat->title);
		free(cat->file);
	}
	free(c->categories);
	for (size_t i = 0; i < c->nprofiles; i++) {
		struct cg_config_profile *p = &c->profiles[i];
		free_sel(&p->block);
		free_sel(&p->allow);
		for (size_t w = 0; w < p->nwindows; w++) {
			free_sel(&p->windows[w].block);
			free_sel(&p->windows[w].lift);
			free(p->windows[w].file);
		}
		free(p->windows);
		for (size_t b = 0; b < p->nbudgets; b++) {
			free_sel(&p->budgets[b].what);
			free(p->budgets[b].name);
			free(p->budgets[b].file);
		}
		free(p->budgets);
		free(p->name);
		free(p->file);
	}
	free(c->profiles);
	for (size_t i = 0; i < c->nseats; i++) {
		free(c->seats[i].name);
		free(c->seats[i].file);
		free(c->seats[i].addrs);
		cfg_ref_free(&c->seats[i].profile);
	}
	free(c->seats);
	for (size_t i = 0; i < c->nexpects; i++) {
		cfg_ref_free(&c->expects[i].whom);
		cfg_ref_free(&c->expects[i].app);
		free(c->expects[i].host);
		free(c->expects[i].file);
	}
	free(c->expects);
	cfg_ref_free(&c->default_profile);
	c->categories = NULL;
	c->profiles = NULL;
	c->seats = NULL;
	c->expects = NULL;
	c->ncategories = c->nprofiles = c->nseats = c->nexpects = 0;
}
