#include "cafeguard/config.h"

#include <errno.h>
#include <libconfig.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One table per group: the keys it accepts and how each is stored. */
enum key_type { K_INT, K_BOOL, K_STRING, K_GROUP, K_LIST };

struct key {
	const char *name;
	enum key_type type;
};

struct loader {
	struct cg_config *cfg;
	struct cg_diag *d;
};

/* "queue.count", "lists.[2].files" as the user wrote them. */
static void setting_path(const config_setting_t *s, char *out, size_t outsz)
{
	const config_setting_t *chain[16];
	size_t n = 0;
	for (const config_setting_t *p = s; p && !config_setting_is_root(p) &&
					    n < 16;
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

static const char *src_file(const struct loader *L, const config_setting_t *s)
{
	const char *f = config_setting_source_file(s);
	return f ? f : L->cfg->path;
}

static void err_at(struct loader *L, const config_setting_t *s,
		   const char *fmt, ...) CG_PRINTF(3, 4);
static void err_at(struct loader *L, const config_setting_t *s,
		   const char *fmt, ...)
{
	char path[256], msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	setting_path(s, path, sizeof(path));
	cg_diag_add(L->d, CG_SEV_ERROR, src_file(L, s),
		    config_setting_source_line(s), "%s: %s", path, msg);
}

static const char *type_name(enum key_type t)
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
	}
	return "?";
}

static bool type_ok(const config_setting_t *s, enum key_type t)
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
	}
	return false;
}

/* Rejects keys a group does not know, with a hint for likely typos, and
 * wrong types; returns true if the group is clean. */
static bool check_keys(struct loader *L, const config_setting_t *group,
		       const struct key *keys, size_t nkeys)
{
	bool ok = true;
	const char *names[32];
	for (size_t i = 0; i < nkeys && i < 32; i++)
		names[i] = keys[i].name;

	int n = config_setting_length(group);
	for (int i = 0; i < n; i++) {
		config_setting_t *s = config_setting_get_elem(group,
							      (unsigned)i);
		const char *name = config_setting_name(s);
		const struct key *k = NULL;
		for (size_t j = 0; j < nkeys; j++)
			if (name && !strcmp(name, keys[j].name))
				k = &keys[j];
		if (!k) {
			const char *hint = name ? cg_suggest(name, names,
							     nkeys)
						: NULL;
			char known[256] = "";
			size_t o = 0;
			for (size_t j = 0; j < nkeys && o < sizeof(known);
			     j++) {
				int w = snprintf(known + o, sizeof(known) - o,
						 "%s%s", j ? ", " : "",
						 keys[j].name);
				if (w > 0)
					o += (size_t)w;
			}
			if (hint)
				err_at(L, s, "unknown setting (did you mean "
					     "\"%s\"?)",
				       hint);
			else
				err_at(L, s, "unknown setting (known here: %s)",
				       known);
			ok = false;
			continue;
		}
		if (!type_ok(s, k->type)) {
			err_at(L, s, "must be %s", type_name(k->type));
			ok = false;
		}
	}
	return ok;
}

static bool get_uint(struct loader *L, const config_setting_t *g,
		     const char *name, long long min, long long max,
		     uint32_t *out)
{
	config_setting_t *s = config_setting_get_member(g, name);
	if (!s || !type_ok(s, K_INT))
		return false;
	long long v = config_setting_get_int64(s);
	/* libconfig stores 0x80000000..0xffffffff as a negative 32-bit
	 * int; written in hex, the user meant the bit pattern. */
	if (v < 0 && config_setting_type(s) == CONFIG_TYPE_INT &&
	    config_setting_get_format(s) == CONFIG_FORMAT_HEX)
		v = (long long)(uint32_t)v;
	if (v < min || v > max) {
		err_at(L, s, "%lld is out of range (%lld..%lld)", v, min, max);
		return false;
	}
	*out = (uint32_t)v;
	return true;
}

static void get_bool(const config_setting_t *g, const char *name, bool *out)
{
	config_setting_t *s = config_setting_get_member(g, name);
	if (s && type_ok(s, K_BOOL))
		*out = config_setting_get_bool(s) != 0;
}

static const config_setting_t *get_string(const config_setting_t *g,
					  const char *name, const char **out)
{
	config_setting_t *s = config_setting_get_member(g, name);
	if (!s || !type_ok(s, K_STRING))
		return NULL;
	*out = config_setting_get_string(s);
	return s;
}

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

static void load_ifname(struct loader *L, const config_setting_t *g,
			const char *key, char *out)
{
	const char *v;
	const config_setting_t *s = get_string(g, key, &v);
	if (!s)
		return;
	if (!valid_ifname(v)) {
		err_at(L, s, "\"%s\" is not a network interface name", v);
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

static void load_gateway(struct loader *L, const config_setting_t *g)
{
	static const struct key keys[] = {
		{"lan", K_STRING},  {"wan", K_STRING},
		{"fail_open", K_BOOL}, {"firewall", K_STRING},
		{"mark_mask", K_INT},
	};
	check_keys(L, g, keys, sizeof(keys) / sizeof(keys[0]));
	struct cg_config *c = L->cfg;
	load_ifname(L, g, "lan", c->lan);
	load_ifname(L, g, "wan", c->wan);
	if (c->lan[0] && !strcmp(c->lan, c->wan))
		err_at(L, config_setting_get_member(g, "wan"),
		       "the WAN interface must differ from the LAN one");
	get_bool(g, "fail_open", &c->fail_open);

	const char *fw;
	const config_setting_t *s = get_string(g, "firewall", &fw);
	if (s) {
		if (!strcmp(fw, "auto"))
			c->firewall = CG_FW_AUTO;
		else if (!strcmp(fw, "nft"))
			c->firewall = CG_FW_NFT;
		else if (!strcmp(fw, "legacy"))
			c->firewall = CG_FW_LEGACY;
		else
			err_at(L, s, "\"%s\": use \"auto\", \"nft\" or "
				     "\"legacy\"",
			       fw);
	}

	uint32_t mask;
	if (get_uint(L, g, "mark_mask", 1, UINT32_MAX, &mask)) {
		if (popcount32(mask) != 2)
			err_at(L, config_setting_get_member(g, "mark_mask"),
			       "0x%x: give exactly two bits (e.g. 0x300000); "
			       "the gateway stores allow/block/watch in them",
			       mask);
		else
			c->mark_mask = mask;
	}
}

static void load_queue(struct loader *L, const config_setting_t *g)
{
	static const struct key keys[] = {
		{"first", K_INT},      {"count", K_INT}, {"length", K_INT},
		{"copy_range", K_INT}, {"batch", K_INT},
	};
	check_keys(L, g, keys, sizeof(keys) / sizeof(keys[0]));
	struct cg_config *c = L->cfg;
	uint32_t v;
	if (get_uint(L, g, "first", 0, 65535, &v))
		c->queue_first = (uint16_t)v;
	if (get_uint(L, g, "count", 0, CG_QUEUE_MAX_COUNT, &v))
		c->queue_count = (uint16_t)v;
	if (c->queue_first + (c->queue_count ? c->queue_count : 1) > 65536)
		err_at(L, g, "queues %u.. run past queue number 65535",
		       c->queue_first);
	get_uint(L, g, "length", 64, 1u << 20, &c->queue_length);
	/* 1500 is the least that holds a full-size segment; 65535 is the
	 * most the kernel copies. */
	get_uint(L, g, "copy_range", 1500, 65535, &c->copy_range);
	get_uint(L, g, "batch", 1, 256, &c->batch);
}

static void load_inspect(struct loader *L, const config_setting_t *g)
{
	static const struct key keys[] = {
		{"max_flows", K_INT}, {"idle_timeout", K_INT},
		{"max_packets", K_INT}, {"dpi_flows", K_INT},
		{"buffers", K_INT},
	};
	check_keys(L, g, keys, sizeof(keys) / sizeof(keys[0]));
	struct cg_config *c = L->cfg;
	get_uint(L, g, "max_flows", 64, 1u << 22, &c->max_flows);
	get_uint(L, g, "idle_timeout", 5, 86400, &c->idle_timeout_s);
	get_uint(L, g, "max_packets", 4, 1000, &c->max_packets);
	get_uint(L, g, "dpi_flows", 16, 1u << 22, &c->dpi_flows);
	get_uint(L, g, "buffers", 4, 1u << 20, &c->buffers);
}

static bool valid_list_name(const char *s)
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

static void load_list(struct loader *L, const config_setting_t *item)
{
	static const struct key keys[] = {
		{"name", K_STRING},
		{"files", K_LIST},
		{"format", K_STRING},
	};
	if (!type_ok(item, K_GROUP)) {
		err_at(L, item, "each list is a group: { name = \"...\"; "
				"files = [ \"...\" ]; }");
		return;
	}
	check_keys(L, item, keys, sizeof(keys) / sizeof(keys[0]));
	struct cg_config *c = L->cfg;
	struct cg_config_list *l = &c->lists[c->nlists];
	memset(l, 0, sizeof(*l));
	l->line = config_setting_source_line(item);

	const char *name = NULL;
	const config_setting_t *ns = get_string(item, "name", &name);
	if (!ns) {
		if (!config_setting_get_member(item, "name"))
			err_at(L, item, "a list needs a name");
		return;
	}
	if (!valid_list_name(name)) {
		err_at(L, ns, "\"%s\": a list name is 1-40 letters, digits, "
			      "'-' or '_'",
		       name);
		return;
	}
	for (size_t i = 0; i < c->nlists; i++)
		if (!strcmp(c->lists[i].name, name)) {
			err_at(L, ns, "list \"%s\" is already defined at "
				      "line %u",
			       name, c->lists[i].line);
			return;
		}

	const char *fmt;
	const config_setting_t *fs = get_string(item, "format", &fmt);
	if (fs && cg_list_format_parse(fmt, &l->format) < 0)
		err_at(L, fs, "\"%s\": use \"auto\", \"hosts\", \"domains\" "
			      "or \"adblock\"",
		       fmt);

	config_setting_t *files = config_setting_get_member(item, "files");
	if (!files || !type_ok(files, K_LIST) ||
	    config_setting_length(files) == 0) {
		if (!files)
			err_at(L, item, "list \"%s\" needs files = [ ... ]",
			       name);
		else if (type_ok(files, K_LIST))
			err_at(L, files, "list \"%s\" has no files", name);
		return;
	}
	int nf = config_setting_length(files);
	l->files = calloc((size_t)nf, sizeof(char *));
	l->name = strdup(name);
	l->file = strdup(src_file(L, item));
	if (!l->files || !l->name || !l->file) {
		cg_diag_add(L->d, CG_SEV_ERROR, c->path, 0, "out of memory");
		free(l->files);
		free(l->name);
		free(l->file);
		return;
	}
	for (int i = 0; i < nf; i++) {
		config_setting_t *f = config_setting_get_elem(files,
							      (unsigned)i);
		if (!type_ok(f, K_STRING) ||
		    !*config_setting_get_string(f)) {
			err_at(L, f, "a list file is a non-empty string");
			continue;
		}
		char *p = strdup(config_setting_get_string(f));
		if (p)
			l->files[l->nfiles++] = p;
	}
	c->nlists++;
}

static void load_lists(struct loader *L, const config_setting_t *s)
{
	int n = config_setting_length(s);
	L->cfg->lists = calloc((size_t)(n ? n : 1), sizeof(*L->cfg->lists));
	if (!L->cfg->lists) {
		cg_diag_add(L->d, CG_SEV_ERROR, L->cfg->path, 0,
			    "out of memory");
		return;
	}
	for (int i = 0; i < n; i++)
		load_list(L, config_setting_get_elem(s, (unsigned)i));
}

/* A list of names (block.lists, block.apps), each remembered with its
 * line so a later check can point at it. */
static void load_refs(struct loader *L, const config_setting_t *g,
		      const char *key, struct cg_config_ref **out, size_t *n)
{
	config_setting_t *s = config_setting_get_member(g, key);
	if (!s || !type_ok(s, K_LIST))
		return;
	int len = config_setting_length(s);
	*out = calloc((size_t)(len ? len : 1), sizeof(**out));
	if (!*out)
		return;
	for (int i = 0; i < len; i++) {
		config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		if (!type_ok(e, K_STRING)) {
			err_at(L, e, "must be a name in double quotes");
			continue;
		}
		const char *v = config_setting_get_string(e);
		bool dup = false;
		for (size_t j = 0; j < *n; j++)
			if (!strcasecmp((*out)[j].name, v))
				dup = true;
		if (dup) {
			err_at(L, e, "\"%s\" is given twice", v);
			continue;
		}
		struct cg_config_ref *r = &(*out)[*n];
		r->name = strdup(v);
		r->file = strdup(src_file(L, e));
		if (!r->name || !r->file) {
			free(r->name);
			free(r->file);
			continue;
		}
		r->line = config_setting_source_line(e);
		(*n)++;
	}
}

static void load_block(struct loader *L, const config_setting_t *g)
{
	static const struct key keys[] = {
		{"lists", K_LIST},
		{"apps", K_LIST},
	};
	check_keys(L, g, keys, sizeof(keys) / sizeof(keys[0]));
	struct cg_config *c = L->cfg;
	load_refs(L, g, "lists", &c->block_lists, &c->nblock_lists);
	load_refs(L, g, "apps", &c->block_apps, &c->nblock_apps);

	const char *names[256];
	size_t nn = 0;
	for (size_t i = 0; i < c->nlists && nn < 256; i++)
		names[nn++] = c->lists[i].name;
	config_setting_t *ls = config_setting_get_member(g, "lists");
	for (size_t i = 0; i < c->nblock_lists; i++) {
		const struct cg_config_ref *r = &c->block_lists[i];
		bool found = false;
		for (size_t j = 0; j < c->nlists; j++)
			if (!strcmp(c->lists[j].name, r->name))
				found = true;
		if (found)
			continue;
		const char *hint = cg_suggest(r->name, names, nn);
		char path[64];
		setting_path(ls, path, sizeof(path));
		if (hint)
			cg_diag_add(L->d, CG_SEV_ERROR, r->file, r->line,
				    "%s: unknown list \"%s\" (did you mean "
				    "\"%s\"?)",
				    path, r->name, hint);
		else
			cg_diag_add(L->d, CG_SEV_ERROR, r->file, r->line,
				    "%s: unknown list \"%s\" (lists are "
				    "defined in lists = ( ... ))",
				    path, r->name);
	}
}

static void load_events(struct loader *L, const config_setting_t *g)
{
	static const struct key keys[] = {
		{"file", K_STRING},
	};
	check_keys(L, g, keys, sizeof(keys) / sizeof(keys[0]));
	const char *v;
	const config_setting_t *s = get_string(g, "file", &v);
	if (!s)
		return;
	if (!*v) {
		err_at(L, s, "give a file name, or remove the setting to turn "
			     "events off");
		return;
	}
	L->cfg->events_file = cg_config_path(L->cfg, v);
}

void cg_config_defaults(struct cg_config *c)
{
	memset(c, 0, sizeof(*c));
	c->fail_open = true;
	c->firewall = CG_FW_AUTO;
	c->mark_mask = 0x00300000;
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
}

static void derive_marks(struct cg_config *c)
{
	uint32_t low = c->mark_mask & (~c->mark_mask + 1);
	c->mark_allow = low;
	c->mark_block = c->mark_mask & ~low;
	c->mark_watch = c->mark_mask;
}

char *cg_config_path(const struct cg_config *cfg, const char *p)
{
	if (p[0] == '/' || !cfg->dir || !cfg->dir[0])
		return strdup(p);
	size_t n = strlen(cfg->dir) + 1 + strlen(p) + 1;
	char *out = malloc(n);
	if (out)
		snprintf(out, n, "%s/%s", cfg->dir, p);
	return out;
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

int cg_config_load(const char *path, struct cg_config *cfg, struct cg_diag *d)
{
	cg_config_defaults(cfg);
	size_t errors_before = d->errors;
	cfg->path = strdup(path);
	cfg->dir = dir_of(path);
	if (!cfg->path || !cfg->dir) {
		cg_diag_add(d, CG_SEV_ERROR, path, 0, "out of memory");
		return -1;
	}

	config_t lc;
	config_init(&lc);
	/* @include "x.conf" is resolved next to the including file, like
	 * every other path in a rule set. */
	config_set_include_dir(&lc, cfg->dir);
	if (config_read_file(&lc, path) != CONFIG_TRUE) {
		const char *ef = config_error_file(&lc);
		if (config_error_type(&lc) == CONFIG_ERR_FILE_IO && !ef)
			cg_diag_add(d, CG_SEV_ERROR, path, 0,
				    "cannot read configuration: %s",
				    strerror(errno ? errno : ENOENT));
		else
			cg_diag_add(d, CG_SEV_ERROR, ef ? ef : path,
				    (unsigned)config_error_line(&lc), "%s",
				    config_error_text(&lc));
		config_destroy(&lc);
		return -1;
	}

	struct loader L = {cfg, d};
	config_setting_t *root = config_root_setting(&lc);
	static const struct key top[] = {
		{"gateway", K_GROUP}, {"queue", K_GROUP}, {"inspect", K_GROUP},
		{"lists", K_LIST},    {"block", K_GROUP}, {"events", K_GROUP},
	};
	check_keys(&L, root, top, sizeof(top) / sizeof(top[0]));

	config_setting_t *s;
	if ((s = config_setting_get_member(root, "gateway")) &&
	    type_ok(s, K_GROUP))
		load_gateway(&L, s);
	if ((s = config_setting_get_member(root, "queue")) &&
	    type_ok(s, K_GROUP))
		load_queue(&L, s);
	if ((s = config_setting_get_member(root, "inspect")) &&
	    type_ok(s, K_GROUP))
		load_inspect(&L, s);
	if ((s = config_setting_get_member(root, "lists")) &&
	    type_ok(s, K_LIST))
		load_lists(&L, s);
	if ((s = config_setting_get_member(root, "block")) &&
	    type_ok(s, K_GROUP))
		load_block(&L, s);
	if ((s = config_setting_get_member(root, "events")) &&
	    type_ok(s, K_GROUP))
		load_events(&L, s);

	config_destroy(&lc);

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
	for (size_t i = 0; i < cfg->nlists; i++) {
		for (size_t j = 0; j < cfg->lists[i].nfiles; j++)
			free(cfg->lists[i].files[j]);
		free(cfg->lists[i].files);
		free(cfg->lists[i].name);
		free(cfg->lists[i].file);
	}
	free(cfg->lists);
	for (size_t i = 0; i < cfg->nblock_lists; i++) {
		free(cfg->block_lists[i].name);
		free(cfg->block_lists[i].file);
	}
	free(cfg->block_lists);
	for (size_t i = 0; i < cfg->nblock_apps; i++) {
		free(cfg->block_apps[i].name);
		free(cfg->block_apps[i].file);
	}
	free(cfg->block_apps);
	free(cfg->events_file);
	free(cfg->path);
	free(cfg->dir);
	memset(cfg, 0, sizeof(*cfg));
}
