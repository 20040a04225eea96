/*
 * rules: the compiled, immutable rule set the workers read.
 *
 * Built once from a checked config (lists loaded or mapped from their
 * compiled images, names resolved against nDPI), then only read, by any
 * number of workers at once, without locks.  A rule set is never changed
 * in place: a reload builds a new one beside the running one and swaps a
 * pointer only when the new one is whole.
 *
 * Everything mutable at run time (seat sessions, budget counters) lives
 * in state.h, not here.
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
#include "cafeguard/listimage.h"
#include "cafeguard/respond.h"

#define CG_CATEGORIES_MAX 256

/* A set of categories, one bit per category index. */
struct cg_catset {
	uint64_t w[CG_CATEGORIES_MAX / 64];
};

static inline bool cg_catset_has(const struct cg_catset *s, size_t i)
{
	return (s->w[i / 64] >> (i % 64)) & 1;
}

static inline void cg_catset_add(struct cg_catset *s, size_t i)
{
	s->w[i / 64] |= (uint64_t)1 << (i % 64);
}

static inline bool cg_catset_empty(const struct cg_catset *s)
{
	for (size_t i = 0; i < CG_CATEGORIES_MAX / 64; i++)
		if (s->w[i])
			return false;
	return true;
}

struct cg_category {
	char *name;
	char *title;   /* in plain words */
	char **files;  /* the list files, index = a match's source */
	size_t nfiles;
	struct cg_listimage *image;  /* NULL for names written inline */
	struct cg_domainset *inline_set; /* the inline names, owned */
	const struct cg_domainset *set[CG_DIGEST__COUNT];
	struct cg_listimage_info info;
	/* Names written in the config (a profile's hosts = [ ... ]): the
	 * category is that profile's own, its one "file" the config file
	 * and a match's line the line the name is written on. */
	bool is_inline;
	char *decl_file;
	unsigned decl_line;
};

/* Things a block, lift or budget names, resolved. */
struct cg_selection {
	struct cg_catset cats;
	uint8_t apps[CG_APP_MAX / 8];
	uint8_t app_cats[CG_CATEGORY_MAX / 8];
	bool everything;
	bool any_app; /* apps or app_cats not empty */
};

static inline bool cg_sel_has_app(const struct cg_selection *s, uint16_t id)
{
	return id < CG_APP_MAX && (s->apps[id / 8] >> (id % 8)) & 1;
}

static inline bool cg_sel_has_app_cat(const struct cg_selection *s,
				      uint16_t id)
{
	return id < CG_CATEGORY_MAX && (s->app_cats[id / 8] >> (id % 8)) & 1;
}

struct cg_window {
	uint8_t days;        /* bit 0 = Sunday */
	uint16_t from, to;   /* minutes; to < from crosses midnight */
	struct cg_selection block, lift;
	char *file;
	unsigned line;
};

struct cg_budget {
	char *name;
	struct cg_selection what;
	uint16_t minutes;
	bool shared;
	/* Counter slots: shared: one; otherwise one per seat, then one for
	 * every client that is no seat.  slot = first + (shared ? 0 :
	 * (seat >= 0 ? seat : nseats)). */
	uint32_t first_slot;
	char *file;
	unsigned line;
};

struct cg_profile {
	char *name;
	struct cg_selection block;
	struct cg_catset allow;
	bool safesearch;
	struct cg_window *windows;
	size_t nwindows;
	struct cg_budget *budgets;
	size_t nbudgets;
	/* Categories whose lists any rule of the profile consults. */
	struct cg_catset consult;
	/* A decision can depend on the application (apps, app categories,
	 * in blocks, windows or budgets): an allow waits for nDPI. */
	bool needs_app;
	/* A window adds blocks: what is allowed now may not be later. */
	bool timed;
	char *file;
	unsigned line;
};

struct cg_seat {
	char *name;
	uint8_t mac[6];
	bool has_mac;
	struct cg_config_addr *addrs;
	size_t naddrs;
	uint16_t profile;
	char *file;
	unsigned line;
};

struct cg_rules {
	struct cg_category *cats;
	size_t ncats;
	struct cg_profile *profiles;
	size_t nprofiles;
	struct cg_seat *seats;
	size_t nseats;
	uint16_t default_profile;
	uint32_t nslots;          /* budget counters in all */
	bool digests[CG_DIGEST__COUNT]; /* kinds present in any list */
	char *path;               /* the configuration it was built from */
	struct cg_respond respond; /* what the gateway answers */
};

/*
 * Builds rules from cfg: loads every list (through the image cache in
 * cfg->cache_dir when set), resolves application and category names with
 * names (a classifier used only for its name table; NULL skips them, for
 * tests).  Reports every error and warning to d; returns NULL on any
 * error.  With check set, also reports rules that can never apply
 * (`cafeguardctl check`), which costs a pass over small allow lists.
 */
struct cg_rules *cg_rules_build(const struct cg_config *cfg,
				const struct cg_classifier *names, bool check,
				struct cg_diag *d);

void cg_rules_free(struct cg_rules *r);

/* Total entries over all lists. */
size_t cg_rules_entries(const struct cg_rules *r);

/* The seat of a client, -1 if none: by MAC first (mac may be NULL), then
 * by address. */
int cg_rules_seat(const struct cg_rules *r, const uint8_t *mac,
		  uint8_t family, const uint8_t addr[16]);

/* Index of a name, or -1. */
int cg_rules_profile(const struct cg_rules *r, const char *name);
int cg_rules_seat_by_name(const struct cg_rules *r, const char *name);

/* The counter slot of budget b for a client (seat -1: not a seat). */
static inline uint32_t cg_budget_slot(const struct cg_rules *r,
				      const struct cg_budget *b, int seat)
{
	if (b->shared)
		return b->first_slot;
	return b->first_slot + (seat >= 0 ? (uint32_t)seat : (uint32_t)r->nseats);
}

#endif
