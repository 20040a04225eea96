/*
 * The configuration loader's primitives, shared by the gateway's settings
 * (config.c) and the rule set (config_rules.c): where a setting was
 * written, messages with file and line, keys and types checked, values
 * read.
 */
#include "cafeguard/config.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_loader.h"

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
char *cfg_join_clean(const char *dir, const char *f)
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
	char *raw = strdup(f), *path = cfg_join_clean(L->cfg->dir, f);
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


char *cfg_dir_of(const char *path)
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
	char *dir = cfg_dir_of(cfg_file(L, s));
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
