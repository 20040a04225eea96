/*
 * The configuration: the gateway's own settings (gateway, queue, inspect,
 * state, events) and the loading of a file.  The rule set is
 * config_rules.c; the loader's primitives are config_loader.c.
 */
#include "cafeguard/config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_loader.h"

static bool valid_ifname(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= CG_IFNAME_MAX || !strcmp(s, ".") ||
	    !strcmp(s, ".."))
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '/' || s[i] == ':' || s[i] <= ' ' || s[i] == 0x7f)
			return false;
	return true;
}

static void load_ifname(struct cfg_loader *L, const config_setting_t *g,
			const char *key, char *out)
{
	const char *v;
	const config_setting_t *s = cfg_get_string(g, key, &v);
	if (!s)
		return;
	if (!valid_ifname(v)) {
		cfg_err(L, s, "\"%s\" is not a network interface name", v);
		return;
	}
	snprintf(out, CG_IFNAME_MAX, "%s", v);
}

static unsigned popcount32(uint32_t v)
{
	unsigned n = 0;
	for (; v; v &= v - 1)
		n++;
	return n;
}

static void load_gateway(struct cfg_loader *L, const config_setting_t *g)
{
	static const struct cfg_key keys[] = {
		{"lan", K_STRING},       {"wan", K_STRING},
		{"fail_open", K_BOOL},   {"firewall", K_STRING},
		{"mark_mask", K_INT},
	};
	cfg_check_keys(L, g, CFG_KEYS(keys));
	struct cg_config *c = L->cfg;
	load_ifname(L, g, "lan", c->lan);
	load_ifname(L, g, "wan", c->wan);
	if (c->lan[0] && !strcmp(c->lan, c->wan))
		cfg_err(L, config_setting_get_member(g, "wan"),
			"the WAN interface must differ from the LAN one");
	cfg_get_bool(g, "fail_open", &c->fail_open);

	const char *fw;
	const config_setting_t *s = cfg_get_string(g, "firewall", &fw);
	if (s) {
		if (!strcmp(fw, "auto"))
			c->firewall = CG_FW_AUTO;
		else if (!strcmp(fw, "nft"))
			c->firewall = CG_FW_NFT;
		else if (!strcmp(fw, "legacy"))
			c->firewall = CG_FW_LEGACY;
		else
			cfg_err(L, s, "\"%s\": use \"auto\", \"nft\" or "
				      "\"legacy\"",
				fw);
	}

	uint32_t mask;
	if (cfg_get_uint(L, g, "mark_mask", 1, UINT32_MAX, &mask)) {
		if (popcount32(mask) != 3)
			cfg_err(L, config_setting_get_member(g, "mark_mask"),
				"0x%x: give exactly three bits (e.g. 0x700000); "
				"the gateway stores allow, block, watch and "
				"meter in them",
				mask);
		else
			c->mark_mask = mask;
	}
}

static void load_queue(struct cfg_loader *L, const config_setting_t *g)
{
	static const struct cfg_key keys[] = {
		{"first", K_INT},      {"count", K_INT}, {"length", K_INT},
		{"copy_range", K_INT}, {"batch", K_INT},
	};
	cfg_check_keys(L, g, CFG_KEYS(keys));
	struct cg_config *c = L->cfg;
	uint32_t v;
	if (cfg_get_uint(L, g, "first", 0, 65535, &v))
		c->queue_first = (uint16_t)v;
	if (cfg_get_uint(L, g, "count", 0, CG_QUEUE_MAX_COUNT, &v))
		c->queue_count = (uint16_t)v;
	if (c->queue_first + (c->queue_count ? c->queue_count : 1) > 65536)
		cfg_err(L, g, "queues %u.. run past queue number 65535",
			c->queue_first);
	cfg_get_uint(L, g, "length", 64, 1u << 20, &c->queue_length);
	/* 1500 is the least that holds a full-size segment; 65535 is the
	 * most the kernel copies. */
	cfg_get_uint(L, g, "copy_range", 1500, 65535, &c->copy_range);
	cfg_get_uint(L, g, "batch", 1, 256, &c->batch);
}

static void load_inspect(struct cfg_loader *L, const config_setting_t *g)
{
	static const struct cfg_key keys[] = {
		{"max_flows", K_INT},   {"idle_timeout", K_INT},
		{"max_packets", K_INT}, {"dpi_flows", K_INT},
		{"buffers", K_INT},     {"meter_interval", K_INT},
	};
	cfg_check_keys(L, g, CFG_KEYS(keys));
	struct cg_config *c = L->cfg;
	cfg_get_uint(L, g, "max_flows", 64, 1u << 22, &c->max_flows);
	cfg_get_uint(L, g, "idle_timeout", 5, 86400, &c->idle_timeout_s);
	cfg_get_uint(L, g, "max_packets", 4, 1000, &c->max_packets);
	cfg_get_uint(L, g, "dpi_flows", 16, 1u << 22, &c->dpi_flows);
	cfg_get_uint(L, g, "buffers", 4, 1u << 20, &c->buffers);
	/* A budget is counted in minutes; a heartbeat rarer than that
	 * would miss minutes of use. */
	cfg_get_uint(L, g, "meter_interval", 1, 60, &c->meter_interval_s);
}

static void load_path_setting(struct cfg_loader *L, const config_setting_t *g,
			      const char *key, char **out)
{
	const char *v;
	const config_setting_t *s = cfg_get_string(g, key, &v);
	if (!s)
		return;
	if (!*v) {
		cfg_err(L, s, "give a path, or remove the setting");
		return;
	}
	free(*out);
	*out = cfg_path_of(L, s, v);
}

static void load_state(struct cfg_loader *L, const config_setting_t *g)
{
	static const struct cfg_key keys[] = {
		{"dir", K_STRING},
		{"cache", K_STRING},
		{"control", K_STRING},
	};
	cfg_check_keys(L, g, CFG_KEYS(keys));
	load_path_setting(L, g, "dir", &L->cfg->state_dir);
	load_path_setting(L, g, "cache", &L->cfg->cache_dir);
	load_path_setting(L, g, "control", &L->cfg->control);
}

static void load_events(struct cfg_loader *L, const config_setting_t *g)
{
	static const struct cfg_key keys[] = {
		{"file", K_STRING},
	};
	cfg_check_keys(L, g, CFG_KEYS(keys));
	load_path_setting(L, g, "file", &L->cfg->events_file);
}

void cg_config_defaults(struct cg_config *c)
{
	memset(c, 0, sizeof(*c));
	c->fail_open = true;
	c->firewall = CG_FW_AUTO;
	c->mark_mask = 0x00700000;
	c->queue_first = 0;
	c->queue_count = 0;
	c->queue_length = 4096;
	c->copy_range = 65535;
	c->batch = 32;
	c->max_flows = 16384;
	c->idle_timeout_s = 120;
	c->max_packets = 32;
	c->dpi_flows = 4096;
	c->buffers = 256;
	c->meter_interval_s = 60;
	c->control = strdup("/run/cafeguard/control");
	cfg_portal_defaults(c);
	cfg_log_defaults(c);
}

static void derive_marks(struct cg_config *c)
{
	/* The mask's three bits, low to high, hold a 3-bit state. */
	uint32_t bits[3], m = c->mark_mask;
	for (int i = 0; i < 3; i++) {
		bits[i] = m & (~m + 1);
		m &= m - 1;
	}
	c->mark_allow = bits[0];
	c->mark_block = bits[1];
	c->mark_watch = bits[0] | bits[1];
	c->mark_meter = bits[2];
}

int cg_config_load(const char *path, struct cg_config *cfg, struct cg_diag *d)
{
	cg_config_defaults(cfg);
	size_t errors_before = d->errors;
	cfg->path = strdup(path);
	cfg->dir = cfg_dir_of(path);
	if (!cfg->path || !cfg->dir || !cfg->control) {
		cg_diag_add(d, CG_SEV_ERROR, path, 0, "out of memory");
		return -1;
	}

	config_t lc;
	config_init(&lc);
	/* @include "x.conf" is resolved next to the main file, like every
	 * other path written there. */
	config_set_include_dir(&lc, cfg->dir);
	if (config_read_file(&lc, path) != CONFIG_TRUE) {
		const char *ef = config_error_file(&lc);
		if (config_error_type(&lc) == CONFIG_ERR_FILE_IO && !ef)
			cg_diag_add(d, CG_SEV_ERROR, path, 0,
				    "cannot read configuration: %s",
				    strerror(errno ? errno : ENOENT));
		else {
			char *ep = ef && strcmp(ef, path) && ef[0] != '/'
					   ? cfg_join_clean(cfg->dir, ef)
					   : NULL;
			const char *text = config_error_text(&lc);
			/* libconfig 1.5 joins every @include path, even an
			 * absolute one, to the folder of the main file. */
			bool inc = text && strstr(text, "include file");
			cg_diag_add(d, CG_SEV_ERROR,
				    ep ? ep : (ef ? ef : path),
				    (unsigned)config_error_line(&lc), "%s%s",
				    text ? text : "syntax error",
				    inc ? " (an @include path is relative to "
					  "the folder of the main configuration "
					  "file)"
					: "");
			free(ep);
		}
		config_destroy(&lc);
		return -1;
	}

	struct cfg_loader L = {.cfg = cfg, .d = d};
	config_setting_t *root = config_root_setting(&lc);
	static const struct cfg_key top[] = {
		{"gateway", K_GROUP},   {"queue", K_GROUP},
		{"inspect", K_GROUP},   {"state", K_GROUP},
		{"events", K_GROUP},    {"categories", K_LIST},
		{"profiles", K_LIST},   {"seats", K_LIST},
		{"default_profile", K_STRING}, {"expect", K_LIST},
		{"respond", K_GROUP},   {"portal", K_GROUP},
		{"safesearch", K_GROUP}, {"log", K_GROUP},
		{"admin", K_GROUP},
	};
	cfg_check_keys(&L, root, CFG_KEYS(top));

	static const struct {
		const char *name;
		void (*load)(struct cfg_loader *, const config_setting_t *);
	} groups[] = {
		{"gateway", load_gateway}, {"queue", load_queue},
		{"inspect", load_inspect}, {"state", load_state},
		{"events", load_events},
	};
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		config_setting_t *s =
			config_setting_get_member(root, groups[i].name);
		if (s && cfg_type_ok(s, K_GROUP))
			groups[i].load(&L, s);
	}
	cfg_load_portal(&L, root);
	cfg_load_log(&L, root);
	cfg_load_rules(&L, root);
	cfg_check_safesearch(&L);
	config_destroy(&lc);
	for (size_t i = 0; i < L.ninc; i++) {
		free(L.inc_raw[i]);
		free(L.inc_path[i]);
	}

	if (cfg->queue_count == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		cfg->queue_count =
			(uint16_t)(n < 1 ? 1
					 : (n > CG_QUEUE_MAX_COUNT
						    ? CG_QUEUE_MAX_COUNT
						    : n));
	}
	derive_marks(cfg);
	return d->errors > errors_before ? -1 : 0;
}

void cg_config_free(struct cg_config *cfg)
{
	cfg_free_rules(cfg);
	cfg_free_portal(cfg);
	cfg_free_log(cfg);
	free(cfg->state_dir);
	free(cfg->cache_dir);
	free(cfg->control);
	free(cfg->events_file);
	free(cfg->path);
	free(cfg->dir);
	memset(cfg, 0, sizeof(*cfg));
}
