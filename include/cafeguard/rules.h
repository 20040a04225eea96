/*
 * rules: the compiled, immutable rule set the workers read.
 *
 * Built once from a checked config (lists loaded, names resolved), then
 * only read, by any number of workers at once, without locks.  A rule set
 * is never changed in place: a reload builds a new one beside the running
 * one and swaps a pointer only when the new one is whole.
 */
#ifndef CAFEGUARD_RULES_H
#define CAFEGUARD_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cafeguard/classify.h"
#include "cafeguard/config.h"
#include "cafeguard/diag.h"
#include "cafeguard/domainset.h"
#include "cafeguard/listfile.h"

struct cg_list {
	char *name;
	char **files;     /* resolved paths, indexed by domain match source */
	size_t nfiles;
	struct cg_domainset *set;
	struct cg_listfile_stats stats; /* summed over files */
	double load_ms;
};

struct cg_rules {
	struct cg_list *lists;
	size_t nlists;
	/* Lists that block, in config order (indices into lists). */
	size_t *block;
	size_t nblock;
	/* Blocked nDPI applications, one bit per id. */
	uint8_t block_apps[CG_APP_MAX / 8];
	size_t nblock_apps;
	/* True when a decision depends on the application, so an allow has
	 * to wait for nDPI; false lets a known name decide at once. */
	bool needs_app;
};

/*
 * Builds rules from cfg: loads every list file (skipped lines become
 * warnings), resolves application names with names (a classifier used
 * only for its name table).  Reports every error to d; returns NULL if any.
 */
struct cg_rules *cg_rules_build(const struct cg_config *cfg,
				const struct cg_classifier *names,
				struct cg_diag *d);

void cg_rules_free(struct cg_rules *r);

static inline bool cg_rules_blocks_app(const struct cg_rules *r, uint16_t id)
{
	return id < CG_APP_MAX && (r->block_apps[id / 8] >> (id % 8)) & 1;
}

/* Total entries over all lists. */
size_t cg_rules_entries(const struct cg_rules *r);

#endif
