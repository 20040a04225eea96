/*
 * The configuration loader and the gateway's own settings (gateway, queue,
 * inspect, state, events).  The rule set is config_rules.c.
 */
#include "cafeguard/config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_internal.h"

void cfg_path(const config_setting_t *s, char *out, size_t outsz)
{
	const config_setting_t *chain[16];
	size_t n = 0;
	for (const config_setting_t *p = s;
	     p && !config_setting_is_root(p) && n < 16;
	     p = config_setting_parent(p))
		chain[n++] = p;
	size_t o = 0;
	out[0] = '\0';
	while (n-- > 0 && o < outsz) {
		const config_setting_t *p = chain[n];
		const char *name = config_setting_name(p);
		int w;
		if (name)
			w = snprintf(out + o, outsz - o, "%s%s", o ? "." : "",
				     name);
		else
			w = snprintf(out + o, outsz - o, "[%d]",
				     config_setting_index(p));
		if (w < 0)
			break;
		o += (size_t)w;
	}
}

/* dir/f with "." and "name/.." steps removed, so a message names
 * "rules/default.conf", not "conf/../rules/default.conf". */
static char *join_clean(const char *dir, const char *f)
{
	char *joined = cg_config_resolve(dir, f);
	if (!joined)
		return NULL;
	size_t n = strlen(joined);
	char *out = malloc(n + 2);
	const char **step = malloc((n / 2 + 2) * sizeof(*step));
	if (!out || !step) {
		free(joined);
		free(out);
		free(step);
		return NULL;
	}
	size_t k = 0, ups = 0; /* steps kept; leading ".." among them */
	for (char *t = strtok(joined, "/"); t; t = strtok(NULL, "/")) {
		if (!strcmp(t, "."))
			continue;
		if (!strcmp(t, "..") && k > ups) {
			k--;
			continue;
		}
		if (!strcmp(t, "..") && joined[0] == '/')
			continue; /* "/.." is "/" */
		if (!strcmp(t, ".."))
			ups++;
		step[k++] = t;
	}
	size_t o = 0;
	if (joined[0] == '/')
		out[o++] = '/';
	for (size_t i = 0; i < k; i++) {
		if (i)
			out[o++] = '/';
		size_t l = strlen(step[i]);
		memcpy(out + o, step[i], l);
		o += l;
	}
	if (!o)
		out[o++] = '.';
	out[o] = '\0';
	free(step);
	free(joined);
	return out;
}

const char *cfg_file(struct cfg_loader *L, const config_setting_t *s)
{
	const char *f = config_setting_source_file(s);
	if (!f || !strcmp(f, L->cfg->path) || f[0] == '/')
		return f ? f : L->cfg->path;
	for (size_t i = 0; i < L->ninc; i++)
		if (!strcmp(L->inc_raw[i], f))
			return L->inc_path[i];
	char *raw = strdup(f), *path = join_clean(L->cfg->dir, f);
	if (!raw || !path || L->ninc == sizeof(L->inc_raw) / sizeof(L->inc_raw[0])) {
		free(raw);
		free(path);
		return f;
	}
	L->inc_raw[L->ninc] = raw;
	L->inc_path[L->ninc++] = path;
	return path;
}

unsigned cfg_line(const config_setting_t *s)
{
	return config_setting_source_line(s);
}

static void vreport(struct cfg_loader *L, enum cg_severity sev,
		    const config_setting_t *s, const char *fmt, va_list ap)
	CG_PRINTF(4, 0);

static void vreport(struct cfg_loader *L, enum cg_severity sev,
		    const config_setting_t *s, const char *fmt, va_list ap)
{
	char path[256], msg[768];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	cfg_path(s, path, sizeof(path));
	cg_diag_add(L->d, sev, cfg_file(L, s), cfg_line(s), "%s: %s", path,
		    msg);
}

void cfg_err(struct cfg_loader *L, const config_setting_t *s,
	     const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(L, CG_SEV_ERROR, s, fmt, ap);
	va_end(ap);
}

void cfg_warn(struct cfg_loader *L, const config_setting_t *s,
	      const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(L, CG_SEV_WARNING, s, fmt, ap);
	va_end(ap);
}

static const char *type_name(enum cfg_type t)
{
	switch (t) {
	case K_INT:
		return "a number";
	case K_BOOL:
		return "true or false";
	case K_STRING:
		return "a string in double quotes";
	case K_GROUP:
		return "a group { ... }";
	case K_LIST:
		return "a list [ ... ] or ( ... )";
	case K_STRING_OR_LIST:
		return "a string or a list of strings";
	}
	return "?";
}

bool cfg_type_ok(const config_setting_t *s, enum cfg_type t)
{
	int st = config_setting_type(s);
	switch (t) {
	case K_INT:
		return st == CONFIG_TYPE_INT || st == CONFIG_TYPE_INT64;
	case K_BOOL:
		return st == CONFIG_TYPE_BOOL;
	case K_STRING:
		return st == CONFIG_TYPE_STRING;
	case K_GROUP:
		return st == CONFIG_TYPE_GROUP;
	case K_LIST:
		return st == CONFIG_TYPE_LIST || st == CONFIG_TYPE_ARRAY;
	case K_STRING_OR_LIST:
		return st == CONFIG_TYPE_STRING || st == CONFIG_TYPE_LIST ||
		       st == CONFIG_TYPE_ARRAY;
	}
	return false;
}

bool cfg_check_keys(struct cfg_loader *L, const config_setting_t *group,
		    const struct cfg_key *keys, size_t nkeys)
{
	bool ok = true;
	const char *names[32];
	size_t nn = nkeys < 32 ? nkeys : 32;
	for (size_t i = 0; i < nn; i++)
		names[i] = keys[i].name;

	int n = config_setting_length(group);
	for (int i = 0; i < n; i++) {
		config_setting_t *s =
			config_setting_get_elem(group, (unsigned)i);
		const char *name = config_setting_name(s);
		const struct cfg_key *k = NULL;
		for (size_t j = 0; j < nkeys; j++)
			if (name && !strcmp(name, keys[j].name))
				k = &keys[j];
		if (!k) {
			const char *hint =
				name ? cg_suggest(name, names, nn) : NULL;
			if (hint) {
				cfg_err(L, s,
					"unknown setting (did you mean "
					"\"%s\"?)",
					hint);
			} else {
				char known[384] = "";
				size_t o = 0;
				for (size_t j = 0; j < nkeys && o < sizeof(known);
				     j++) {
					int w = snprintf(known + o,
							 sizeof(known) - o,
							 "%s%s", j ? ", " : "",
							 keys[j].name);
					if (w > 0)
						o += (size_t)w;
				}
				cfg_err(L, s, "unknown setting (known here: %s)",
					known);
			}
			ok = false;
			continue;
		}
		if (!cfg_type_ok(s, k->type)) {
			cfg_err(L, s, "must be %s", type_name(k->type));
			ok = false;
		}
	}
	return ok;
}

bool cfg_get_uint(struct cfg_loader *L, const config_setting_t *g,
		  const char *name, long long min, long long max,
		  uint32_t *out)
{
	config_setting_t *s = config_setting_get_member(g, name);
	if (!s || !cfg_type_ok(s, K_INT))
		return false;
	long long v = config_setting_get_int64(s);
	/* libconfig stores 0x80000000..0xffffffff as a negative 32-bit
	 * int; written in hex, the user meant the bit pattern. */
	if (v < 0 && config_setting_type(s) == CONFIG_TYPE_INT &&
	    config_setting_get_format(s) == CONFIG_FORMAT_HEX)
		v = (long long)(uint32_t)v;
	if (v < min || v > max) {
		cfg_err(L, s, "%lld is out of range (%lld..%lld)", v, min,
			max);
		return false;
	}
	*out = (uint32_t)v;
	return true;
}

void cfg_get_bool(const config_setting_t *g, const char *name, bool *out)
{
	config_setting_t *s = config_setting_get_member(g, name);
	if (s && cfg_type_ok(s, K_BOOL))
		*out = config_setting_get_bool(s) != 0;
}

const config_setting_t *cfg_get_string(const config_setting_t *g,
				       const char *name, const char **out)
{
	config_setting_t *s = config_setting_get_member(g, name);
	if (!s || !cfg_type_ok(s, K_STRING))
		return NULL;
	*out = config_setting_get_string(s);
	return s;
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

char *cg_config_resolve(const char *dir, const char *p)
{
	if (p[0] == '/' || !dir || !dir[0])
		return strdup(p);
	size_t n = strlen(dir) + 1 + strlen(p) + 1;
	char *out = malloc(n);
	if (out)
		snprintf(out, n, "%s/%s", dir, p);
	return out;
}

char *cfg_path_of(struct cfg_loader *L, const config_setting_t *s,
		  const char *value)
{
	char *dir = dir_of(cfg_file(L, s));
	char *p = dir ? cg_config_resolve(dir, value) : NULL;
	free(dir);
	if (!p)
		cfg_err(L, s, "out of memory");
	return p;
}

bool cfg_valid_name(const char *s)
{
	size_t n = strlen(s);
	if (!n || n > 40)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
			return false;
	}
	return true;
}

struct cg_config_ref cfg_ref(struct cfg_loader *L, const config_setting_t *s,
			     const char *name)
{
	struct cg_config_ref r = {strdup(name), strdup(cfg_file(L, s)),
				  cfg_line(s)};
	if (!r.name || !r.file) {
		cfg_ref_free(&r);
		cfg_err(L, s, "out of memory");
	}
	return r;
}

void cfg_ref_free(struct cg_config_ref *r)
{
	free(r->name);
	free(r->file);
	r->name = r->file = NULL;
}

/* ---- gateway, queue, inspect, state, events ---- */

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
	cfg->dir = dir_of(path);
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
					   ? join_clean(cfg->dir, ef)
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
	cfg_load_rules(&L, root);
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
	free(cfg->state_dir);
	free(cfg->cache_dir);
	free(cfg->control);
	free(cfg->events_file);
	free(cfg->path);
	free(cfg->dir);
	memset(cfg, 0, sizeof(*cfg));
}
