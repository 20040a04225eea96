/*
 * The settings of what the gateway answers and shows: `respond` (the
 * answer to a blocked DNS query), `portal` (the pages, the splash and
 * the café's details) and `safesearch` (the safe targets of the search
 * engines).  Part of the config module (config_loader.h).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cafeguard/name.h"
#include "config_loader.h"

static const char *const engine_names[CG_ENGINE__COUNT] = {
	"google", "youtube", "bing", "duckduckgo"};

const char *cg_engine_name(enum cg_engine e)
{
	return (unsigned)e < CG_ENGINE__COUNT ? engine_names[e] : "?";
}

void cfg_portal_defaults(struct cg_config *c)
{
	c->dns_answer = CG_DNS_ANSWER_NXDOMAIN;
	c->dns_ttl = 10;
	c->portal_port = 80;
	c->splash = true;
	c->portal_max_conns = 64;
	c->portal_per_ip = 8;
	c->portal_timeout_s = 15;
	c->portal_rate = 120;
}

static void load_respond(struct cfg_loader *L, const config_setting_t *g)
{
	static const struct cfg_key keys[] = {
		{"dns", K_STRING},
		{"ttl", K_INT},
	};
	cfg_check_keys(L, g, CFG_KEYS(keys));
	const char *v;
	const config_setting_t *s = cfg_get_string(g, "dns", &v);
	if (s) {
		L->cfg->dns_answer_set = true;
		if (!strcmp(v, "sinkhole"))
			L->cfg->dns_answer = CG_DNS_ANSWER_SINKHOLE;
		else if (!strcmp(v, "nxdomain"))
			L->cfg->dns_answer = CG_DNS_ANSWER_NXDOMAIN;
		else
			cfg_err(L, s,
				"\"%s\" is not an answer (give \"sinkhole\": "
				"the portal's address, or \"nxdomain\")",
				v);
	}
	/* Short, so a seat that is allowed again (a window ends, an
	 * attendant lifts a block) is not held to the old answer. */
	cfg_get_uint(L, g, "ttl", 0, 3600, &L->cfg->dns_ttl);
}

/* BCP 47 as the translation files are named: "en", "pt-BR", "es-419". */
static bool valid_lang(const char *s)
{
	size_t n = 0;
	while (isalpha((unsigned char)s[n]))
		n++;
	if (n < 2 || n > 3)
		return false;
	while (s[n] == '-') {
		size_t k = 0;
		n++;
		while (isalnum((unsigned char)s[n + k]))
			k++;
		if (k < 2 || k > 8)
			return false;
		n += k;
	}
	return s[n] == '\0';
}

static bool valid_country(const char *s)
{
	return isupper((unsigned char)s[0]) && isupper((unsigned char)s[1]) &&
	       !s[2];
}

static char *dup_or_err(struct cfg_loader *L, const config_setting_t *s,
			const char *v)
{
	char *r = strdup(v);
	if (!r)
		cfg_err(L, s, "out of memory");
	return r;
}

static void set_string(struct cfg_loader *L, const config_setting_t *g,
		       const char *key, char **out)
{
	const char *v;
	const config_setting_t *s = cfg_get_string(g, key, &v);
	if (!s)
		return;
	free(*out);
	*out = dup_or_err(L, s, v);
}

static void load_addr(struct cfg_loader *L, const config_setting_t *g,
		      const char *key, uint8_t family,
		      struct cg_config_addr *out)
{
	const char *v;
	const config_setting_t *s = cfg_get_string(g, key, &v);
	if (!s)
		return;
	struct cg_config_addr a;
	if (cg_config_parse_addr(v, &a) < 0 || a.family != family) {
		cfg_err(L, s, "\"%s\" is not an IPv%u address", v, family);
		return;
	}
	*out = a;
}

static bool http_url(const char *u)
{
	if (strncmp(u, "https://", 8) && strncmp(u, "http://", 7))
		return false;
	for (const char *p = u; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == '"' || *p == '<' ||
		    *p == '>' || (unsigned char)*p >= 0x7f)
			return false;
	return true;
}

static void load_hotline(struct cfg_loader *L, const config_setting_t *item,
			 struct cg_config_hotline *h)
{
	static const struct cfg_key keys[] = {
		{"country", K_STRING},
		{"name", K_STRING},
		{"url", K_STRING},
		{"phone", K_STRING},
	};
	cfg_check_keys(L, item, CFG_KEYS(keys));
	set_string(L, item, "country", &h->country);
	set_string(L, item, "name", &h->name);
	set_string(L, item, "url", &h->url);
	set_string(L, item, "phone", &h->phone);
	if (!h->name || !h->name[0])
		cfg_err(L, item, "a hotline needs a name");
	if (h->country && h->country[0] && !valid_country(h->country))
		cfg_err(L, config_setting_get_member(item, "country"),
			"\"%s\" is not a country code (two capital letters, "
			"ISO 3166: \"BR\", \"TH\")",
			h->country);
	if (h->url && h->url[0] && !http_url(h->url))
		cfg_err(L, config_setting_get_member(item, "url"),
			"\"%s\" is not an http:// or https:// address",
			h->url);
	if ((!h->url || !h->url[0]) && (!h->phone || !h->phone[0]))
		cfg_err(L, item, "hotline \"%s\": give a url, a phone or both",
			h->name ? h->name : "");
}

static void load_hotlines(struct cfg_loader *L, const config_setting_t *list)
{
	struct cg_config *c = L->cfg;
	int n = config_setting_length(list);
	c->hotlines = calloc((size_t)(n > 0 ? n : 1), sizeof(*c->hotlines));
	if (!c->hotlines) {
		cfg_err(L, list, "out of memory");
		return;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *item = config_setting_get_elem(
			list, (unsigned)i);
		if (!cfg_type_ok(item, K_GROUP)) {
			cfg_err(L, item, "a hotline is a group: { country = "
					 "\"BR\"; name = \"...\"; url = "
					 "\"https://...\"; }");
			continue;
		}
		load_hotline(L, item, &c->hotlines[c->nhotlines++]);
	}
}

static void load_period(struct cfg_loader *L, const config_setting_t *g)
{
	const char *v;
	const config_setting_t *s = cfg_get_string(g, "splash_period", &v);
	if (!s)
		return;
	if (!strcmp(v, "day")) {
		L->cfg->splash_period_min = 0;
		return;
	}
	uint32_t m;
	if (cg_config_parse_duration(v, &m) < 0 || m == 0 || m > 7 * 1440) {
		cfg_err(L, s,
			"\"%s\" is not a period (give \"day\": until "
			"midnight, or a duration up to a week: \"8h\", "
			"\"90m\")",
			v);
		return;
	}
	L->cfg->splash_period_min = m;
}

static void load_portal(struct cfg_loader *L, const config_setting_t *g)
{
	static const struct cfg_key keys[] = {
		{"enabled", K_BOOL},	     {"address", K_STRING},
		{"address6", K_STRING},	     {"port", K_INT},
		{"name", K_STRING},	     {"www", K_STRING},
		{"language", K_STRING},	     {"country", K_STRING},
		{"splash", K_BOOL},	     {"splash_period", K_STRING},
		{"hotlines", K_LIST},	     {"max_connections", K_INT},
		{"per_client", K_INT},	     {"timeout", K_INT},
		{"rate", K_INT},
	};
	struct cg_config *c = L->cfg;
	cfg_check_keys(L, g, CFG_KEYS(keys));
	c->portal = true;
	cfg_get_bool(g, "enabled", &c->portal);
	load_addr(L, g, "address", 4, &c->portal_addr4);
	load_addr(L, g, "address6", 6, &c->portal_addr6);
	uint32_t port = c->portal_port;
	if (cfg_get_uint(L, g, "port", 1, 65535, &port))
		c->portal_port = (uint16_t)port;
	set_string(L, g, "name", &c->cafe_name);
	const char *v;
	const config_setting_t *s = cfg_get_string(g, "www", &v);
	if (s) {
		free(c->www_dir);
		c->www_dir = v[0] ? cfg_path_of(L, s, v) : NULL;
		if (!v[0])
			cfg_err(L, s, "give the folder of the pages");
	}
	if ((s = cfg_get_string(g, "language", &v))) {
		if (valid_lang(v)) {
			free(c->language);
			c->language = dup_or_err(L, s, v);
		} else {
			cfg_err(L, s,
				"\"%s\" is not a language tag (\"en\", "
				"\"pt-BR\", \"th\")",
				v);
		}
	}
	if ((s = cfg_get_string(g, "country", &v))) {
		if (valid_country(v)) {
			free(c->country);
			c->country = dup_or_err(L, s, v);
		} else {
			cfg_err(L, s,
				"\"%s\" is not a country code (two capital "
				"letters, ISO 3166: \"BR\", \"TH\")",
				v);
		}
	}
	cfg_get_bool(g, "splash", &c->splash);
	load_period(L, g);
	const config_setting_t *hl = config_setting_get_member(g, "hotlines");
	if (hl && cfg_type_ok(hl, K_LIST))
		load_hotlines(L, hl);
	cfg_get_uint(L, g, "max_connections", 4, 4096, &c->portal_max_conns);
	cfg_get_uint(L, g, "per_client", 1, 256, &c->portal_per_ip);
	cfg_get_uint(L, g, "timeout", 2, 300, &c->portal_timeout_s);
	cfg_get_uint(L, g, "rate", 10, 100000, &c->portal_rate);
	if (c->portal && !c->portal_addr4.family && !c->portal_addr6.family)
		cfg_err(L, g,
			"give the box's LAN address (address = "
			"\"192.168.10.1\"; and/or address6), or set enabled "
			"= false");
}

static void load_engine(struct cfg_loader *L, const config_setting_t *g,
			struct cg_config_engine *e)
{
	static const struct cfg_key keys[] = {
		{"target", K_STRING},
		{"addresses", K_LIST},
	};
	cfg_check_keys(L, g, CFG_KEYS(keys));
	free(e->file);
	e->file = strdup(cfg_file(L, g));
	e->line = cfg_line(g);
	const char *v;
	const config_setting_t *s = cfg_get_string(g, "target", &v);
	if (s) {
		char canon[CG_NAME_BUF];
		size_t n;
		if (cg_name_canon(v, strlen(v), canon, &n) != CG_NAME_OK) {
			cfg_err(L, s, "\"%s\" is not a host name", v);
		} else {
			free(e->target);
			e->target = dup_or_err(L, s, canon);
		}
	} else {
		cfg_err(L, g, "give the engine's safe name: target = "
			      "\"...\"");
	}
	const config_setting_t *al = config_setting_get_member(g, "addresses");
	if (!al || !cfg_type_ok(al, K_LIST) ||
	    config_setting_length(al) == 0) {
		cfg_err(L, al ? al : g,
			"give the addresses of the safe name: addresses = "
			"[ \"...\" ] (dig %s A and AAAA)",
			e->target ? e->target : "the target");
		return;
	}
	int n = config_setting_length(al);
	for (int i = 0; i < n; i++) {
		const config_setting_t *a =
			config_setting_get_elem(al, (unsigned)i);
		if (e->naddrs == CG_ENGINE_ADDRS_MAX) {
			cfg_err(L, a, "at most %d addresses",
				CG_ENGINE_ADDRS_MAX);
			break;
		}
		if (!cfg_type_ok(a, K_STRING) ||
		    cg_config_parse_addr(config_setting_get_string(a),
					 &e->addrs[e->naddrs]) < 0) {
			cfg_err(L, a, "not an IPv4 or IPv6 address");
			continue;
		}
		e->naddrs++;
	}
}

static void load_safesearch(struct cfg_loader *L, const config_setting_t *g)
{
	static const struct cfg_key keys[] = {
		{"google", K_GROUP},
		{"youtube", K_GROUP},
		{"bing", K_GROUP},
		{"duckduckgo", K_GROUP},
	};
	cfg_check_keys(L, g, CFG_KEYS(keys));
	for (int i = 0; i < CG_ENGINE__COUNT; i++) {
		const config_setting_t *e =
			config_setting_get_member(g, engine_names[i]);
		if (e && cfg_type_ok(e, K_GROUP))
			load_engine(L, e, &L->cfg->engines[i]);
	}
}

void cfg_load_portal(struct cfg_loader *L, config_setting_t *root)
{
	struct cg_config *c = L->cfg;
	static const struct {
		const char *name;
		void (*load)(struct cfg_loader *, const config_setting_t *);
	} groups[] = {
		{"respond", load_respond},
		{"portal", load_portal},
		{"safesearch", load_safesearch},
	};
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		config_setting_t *s =
			config_setting_get_member(root, groups[i].name);
		if (s && cfg_type_ok(s, K_GROUP))
			groups[i].load(L, s);
	}
	if (!c->portal)
		c->splash = false;
	if (!c->dns_answer_set && c->portal &&
	    (c->portal_addr4.family || c->portal_addr6.family))
		c->dns_answer = CG_DNS_ANSWER_SINKHOLE;
	const config_setting_t *r = config_setting_get_member(root, "respond");
	if (c->dns_answer == CG_DNS_ANSWER_SINKHOLE && !c->portal && r)
		cfg_err(L, config_setting_get_member(r, "dns"),
			"\"sinkhole\" answers with the portal's address: "
			"enable the portal (portal { address = ...; }) or "
			"answer \"nxdomain\"");
	if (!c->www_dir && c->portal) {
		c->www_dir = cfg_join_clean(c->dir, "www");
		if (!c->www_dir)
			cg_diag_add(L->d, CG_SEV_ERROR, c->path, 0,
				    "out of memory");
	}
	if (c->portal && !c->language)
		c->language = strdup("en");
}

void cfg_free_portal(struct cg_config *c)
{
	free(c->cafe_name);
	free(c->www_dir);
	free(c->language);
	free(c->country);
	for (size_t i = 0; i < c->nhotlines; i++) {
		free(c->hotlines[i].country);
		free(c->hotlines[i].name);
		free(c->hotlines[i].url);
		free(c->hotlines[i].phone);
	}
	free(c->hotlines);
	for (int i = 0; i < CG_ENGINE__COUNT; i++) {
		free(c->engines[i].target);
		free(c->engines[i].file);
	}
}

void cfg_check_safesearch(struct cfg_loader *L)
{
	const struct cg_config *c = L->cfg;
	for (size_t i = 0; i < c->nprofiles; i++) {
		const struct cg_config_profile *p = &c->profiles[i];
		if (!p->safesearch)
			continue;
		for (int e = 0; e < CG_ENGINE__COUNT; e++)
			if (!c->engines[e].target)
				cg_diag_add(L->d, CG_SEV_WARNING, p->file,
					    p->line,
					    "profile \"%s\" forces SafeSearch, "
					    "but safesearch.%s is not set: "
					    "its names are not forced",
					    p->name, engine_names[e]);
	}
}
