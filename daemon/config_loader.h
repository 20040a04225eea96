/*
 * Private to the config module (config.c: the gateway's settings and the
 * loading of a file; config_rules.c: the rule set; config_loader.c: what
 * both use).  The public contract is
 * include/cafeguard/config.h.
 */
#ifndef CAFEGUARD_CONFIG_LOADER_H
#define CAFEGUARD_CONFIG_LOADER_H

#include <libconfig.h>

#include "cafeguard/config.h"

/* One table per group: the keys it accepts and their types. */
enum cfg_type { K_INT, K_BOOL, K_STRING, K_GROUP, K_LIST, K_STRING_OR_LIST };

struct cfg_key {
	const char *name;
	enum cfg_type type;
};

struct cfg_loader {
	struct cg_config *cfg;
	struct cg_diag *d;
	/* @include files as libconfig names them (relative to the main
	 * file's folder) and as a user can open them. */
	char *inc_raw[16], *inc_path[16];
	size_t ninc;
};

#define CFG_KEYS(k) (k), (sizeof(k) / sizeof((k)[0]))

/* "profiles[0].block.categories", as the user wrote it. */
void cfg_path(const config_setting_t *s, char *out, size_t outsz);
/* The folder of a file path ("." for a bare name); NULL without memory. */
char *cfg_dir_of(const char *path);
/* dir/f with "." and "name/.." steps removed; NULL without memory. */
char *cfg_join_clean(const char *dir, const char *f);
/* The file a setting was written in (the main file or an @include). */
const char *cfg_file(struct cfg_loader *L, const config_setting_t *s);
unsigned cfg_line(const config_setting_t *s);

void cfg_err(struct cfg_loader *L, const config_setting_t *s,
	     const char *fmt, ...) CG_PRINTF(3, 4);
void cfg_warn(struct cfg_loader *L, const config_setting_t *s,
	      const char *fmt, ...) CG_PRINTF(3, 4);

bool cfg_type_ok(const config_setting_t *s, enum cfg_type t);
/* Rejects unknown keys (with a "did you mean") and wrong types. */
bool cfg_check_keys(struct cfg_loader *L, const config_setting_t *group,
		    const struct cfg_key *keys, size_t nkeys);

bool cfg_get_uint(struct cfg_loader *L, const config_setting_t *g,
		  const char *name, long long min, long long max,
		  uint32_t *out);
void cfg_get_bool(const config_setting_t *g, const char *name, bool *out);
const config_setting_t *cfg_get_string(const config_setting_t *g,
				       const char *name, const char **out);

/* A path as written in setting s, resolved against its file's directory;
 * NULL (error reported) on allocation failure. */
char *cfg_path_of(struct cfg_loader *L, const config_setting_t *s,
		  const char *value);

/* Names of categories, profiles, seats and budgets: 1-40 of [A-Za-z0-9_-]. */
bool cfg_valid_name(const char *s);

struct cg_config_ref cfg_ref(struct cfg_loader *L, const config_setting_t *s,
			     const char *name);
void cfg_ref_free(struct cg_config_ref *r);

/* The rule-set sections (config_rules.c). */
void cfg_load_rules(struct cfg_loader *L, config_setting_t *root);
void cfg_free_rules(struct cg_config *cfg);

/* What the gateway answers and shows (config_portal.c). */
void cfg_portal_defaults(struct cg_config *cfg);
void cfg_load_portal(struct cfg_loader *L, config_setting_t *root);
void cfg_free_portal(struct cg_config *cfg);
/* The operator's side: log store, syslog, admin (config_log.c). */
void cfg_log_defaults(struct cg_config *cfg);
void cfg_load_log(struct cfg_loader *L, config_setting_t *root);
void cfg_free_log(struct cg_config *cfg);

/* After the rules: a profile that forces SafeSearch with an engine
 * unset is warned about. */
void cfg_check_safesearch(struct cfg_loader *L);

#endif
