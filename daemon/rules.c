#include "cafeguard/rules.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int load_list(const struct cg_config *cfg,
		     const struct cg_config_list *cl, struct cg_list *l,
		     struct cg_diag *d)
{
	double t0 = now_ms();
	l->name = strdup(cl->name);
	l->files = calloc(cl->nfiles ? cl->nfiles : 1, sizeof(char *));
	if (!l->name || !l->files)
		goto oom;
	/* The domain set remembers an entry's file in 8 bits. */
	if (cl->nfiles > CG_DOMAINSET_SOURCES) {
		cg_diag_add(d, CG_SEV_ERROR, cl->file, cl->line,
			    "list \"%s\": %zu files; a list takes at most %u "
			    "(split it into several lists)",
			    cl->name, cl->nfiles, CG_DOMAINSET_SOURCES);
		return -1;
	}

	struct cg_domainset_builder *b = cg_domainset_builder_new();
	if (!b)
		goto oom;
	int rc = 0;
	size_t errors_before = d->errors;
	for (size_t i = 0; i < cl->nfiles; i++) {
		char *path = cg_config_path(cfg, cl->files[i]);
		if (!path) {
			cg_domainset_builder_free(b);
			goto oom;
		}
		l->files[l->nfiles++] = path;
		struct cg_listfile_stats st;
		memset(&st, 0, sizeof(st));
		if (cg_listfile_load(path, cl->format, b, (uint16_t)i, d,
				     &st) < 0) {
			rc = -1;
			continue;
		}
		l->stats.lines += st.lines;
		l->stats.entries += st.entries;
		l->stats.duplicates += st.duplicates;
		l->stats.skipped += st.skipped;
		for (int k = 0; k < CG_SKIP__COUNT; k++)
			l->stats.skipped_by[k] += st.skipped_by[k];
	}
	if (rc < 0 || d->errors > errors_before) {
		cg_diag_add(d, CG_SEV_NOTE, cl->file, cl->line,
			    "list \"%s\" declared here", cl->name);
		cg_domainset_builder_free(b);
		return -1;
	}
	struct cg_error err;
	l->set = cg_domainset_build(b, &err);
	if (!l->set) {
		cg_diag_add(d, CG_SEV_ERROR, cl->file, cl->line,
			    "list \"%s\": %s", cl->name, err.msg);
		return -1;
	}
	l->load_ms = now_ms() - t0;
	return 0;
oom:
	cg_diag_add(d, CG_SEV_ERROR, cl->file, cl->line,
		    "list \"%s\": out of memory", cl->name);
	return -1;
}

static void resolve_apps(const struct cg_config *cfg,
			 const struct cg_classifier *names,
			 struct cg_rules *r, struct cg_diag *d)
{
	const char *cand[CG_APP_MAX];
	uint16_t n = cg_classifier_app_count(names);
	for (uint16_t i = 0; i < n; i++)
		cand[i] = cg_classifier_app_name(names, i);

	for (size_t i = 0; i < cfg->nblock_apps; i++) {
		const struct cg_config_ref *ref = &cfg->block_apps[i];
		int id = cg_classifier_app_id(names, ref->name);
		if (id <= 0) {
			const char *hint = cg_suggest(ref->name, cand, n);
			if (hint)
				cg_diag_add(d, CG_SEV_ERROR, ref->file,
					    ref->line,
					    "block.apps: unknown application "
					    "\"%s\" (did you mean \"%s\"?)",
					    ref->name, hint);
			else
				cg_diag_add(d, CG_SEV_ERROR, ref->file,
					    ref->line,
					    "block.apps: unknown application "
					    "\"%s\" (names are nDPI's; "
					    "`cafeguardctl apps` lists them)",
					    ref->name);
			continue;
		}
		r->block_apps[id / 8] |= (uint8_t)(1u << (id % 8));
		r->nblock_apps++;
	}
	r->needs_app = r->nblock_apps > 0;
}

struct cg_rules *cg_rules_build(const struct cg_config *cfg,
				const struct cg_classifier *names,
				struct cg_diag *d)
{
	size_t errors_before = d->errors;
	struct cg_rules *r = calloc(1, sizeof(*r));
	if (!r) {
		cg_diag_add(d, CG_SEV_ERROR, cfg->path, 0, "out of memory");
		return NULL;
	}
	r->lists = calloc(cfg->nlists ? cfg->nlists : 1, sizeof(*r->lists));
	r->block = calloc(cfg->nblock_lists ? cfg->nblock_lists : 1,
			  sizeof(*r->block));
	if (!r->lists || !r->block) {
		cg_diag_add(d, CG_SEV_ERROR, cfg->path, 0, "out of memory");
		cg_rules_free(r);
		return NULL;
	}

	/* Only lists something uses are loaded: a list defined but not
	 * used costs nothing (and is worth a warning). */
	for (size_t i = 0; i < cfg->nlists; i++) {
		const struct cg_config_list *cl = &cfg->lists[i];
		bool used = false;
		for (size_t j = 0; j < cfg->nblock_lists; j++)
			if (!strcmp(cfg->block_lists[j].name, cl->name))
				used = true;
		r->nlists++;
		if (!used) {
			cg_diag_add(d, CG_SEV_WARNING, cl->file, cl->line,
				    "list \"%s\" is defined but nothing "
				    "uses it",
				    cl->name);
			r->lists[i].name = strdup(cl->name);
			continue;
		}
		load_list(cfg, cl, &r->lists[i], d);
	}
	for (size_t j = 0; j < cfg->nblock_lists; j++)
		for (size_t i = 0; i < cfg->nlists; i++)
			if (!strcmp(cfg->block_lists[j].name,
				    cfg->lists[i].name))
				r->block[r->nblock++] = i;

	if (names)
		resolve_apps(cfg, names, r, d);

	if (d->errors > errors_before) {
		cg_rules_free(r);
		return NULL;
	}
	return r;
}

void cg_rules_free(struct cg_rules *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nlists; i++) {
		struct cg_list *l = &r->lists[i];
		free(l->name);
		for (size_t j = 0; j < l->nfiles; j++)
			free(l->files[j]);
		free(l->files);
		cg_domainset_free(l->set);
	}
	free(r->lists);
	free(r->block);
	free(r);
}

size_t cg_rules_entries(const struct cg_rules *r)
{
	size_t n = 0;
	for (size_t i = 0; i < r->nlists; i++)
		if (r->lists[i].set)
			n += cg_domainset_count(r->lists[i].set);
	return n;
}
