/*
 * The settings of the operator's side: `log` (the SQLite store, its
 * retention, syslog) and `admin` (the dashboard's password file).  Part
 * of the config module (config_loader.h).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_loader.h"

/* RFC 5424 6.2.1, the facilities a box's logs usually go to. */
static const struct {
	const char *name;
	uint8_t code;
} facilities[] = {
	{"user", 1},	 {"daemon", 3},	 {"auth", 4},	  {"local0", 16},
	{"local1", 17},	 {"local2", 18}, {"local3", 19},  {"local4", 20},
	{"local5", 21},	 {"local6", 22}, {"local7", 23},
};

void cfg_log_defaults(struct cg_config *c)
{
	c->retention_days = 30;
	c->max_db_mb = 200;
	c->syslog_port = 514;
	c->syslog_facility = 16;
}

static void load_syslog(struct cfg_loader *L, const config_setting_t *g)
{
	static const struct cfg_key keys[] = {
		{"server", K_STRING},
		{"port", K_INT},
		{"transport", K_STRING},
		{"facility", K_STRING},
	};
	struct cg_config *c = L->cfg;
	cfg_check_keys(L, g, CFG_KEYS(keys));
	const char *v;
	const config_setting_t *s = cfg_get_string(g, "server", &v);
	if (!s)
		cfg_err(L, g, "give the collector's address: server = "
			      "\"192.0.2.10\"");
	else if (cg_config_parse_addr(v, &c->syslog_addr) < 0)
		cfg_err(L, s,
			"\"%s\" is not an IPv4 or IPv6 address (names are not "
			"resolved: a log line must not wait for DNS)",
			v);
	uint32_t port = c->syslog_port;
	if (cfg_get_uint(L, g, "port", 1, 65535, &port))
		c->syslog_port = (uint16_t)port;
	if ((s = cfg_get_string(g, "transport", &v))) {
		if (!strcmp(v, "udp"))
			c->syslog_tcp = false;
		else if (!strcmp(v, "tcp"))
			c->syslog_tcp = true;
		else
			cfg_err(L, s, "\"%s\": give \"udp\" or \"tcp\"", v);
	}
	if ((s = cfg_get_string(g, "facility", &v))) {
		size_t i, n = sizeof(facilities) / sizeof(facilities[0]);
		for (i = 0; i < n; i++)
			if (!strcasecmp(v, facilities[i].name))
				break;
		if (i < n)
			c->syslog_facility = facilities[i].code;
		else
			cfg_err(L, s,
				"\"%s\" is not a facility (local0 .. local7, "
				"daemon, user, auth)",
				v);
	}
}

static void load_log(struct cfg_loader *L, const config_setting_t *g)
{
	static const struct cfg_key keys[] = {
		{"database", K_STRING},	     {"retention_days", K_INT},
		{"max_size_mb", K_INT},	     {"allowed_hosts", K_BOOL},
		{"syslog", K_GROUP},
	};
	struct cg_config *c = L->cfg;
	cfg_check_keys(L, g, CFG_KEYS(keys));
	const char *v;
	const config_setting_t *s = cfg_get_string(g, "database", &v);
	if (s) {
		free(c->db_file);
		c->db_file = v[0] ? cfg_path_of(L, s, v) : NULL;
		if (!v[0])
			cfg_err(L, s, "give a path, or remove the setting");
	}
	cfg_get_uint(L, g, "retention_days", 1, 3660, &c->retention_days);
	cfg_get_uint(L, g, "max_size_mb", 1, 1u << 20, &c->max_db_mb);
	cfg_get_bool(g, "allowed_hosts", &c->log_allowed_hosts);
	const config_setting_t *sl = config_setting_get_member(g, "syslog");
	if (sl && cfg_type_ok(sl, K_GROUP))
		load_syslog(L, sl);
}

static void load_admin(struct cfg_loader *L, const config_setting_t *g)
{
	static const struct cfg_key keys[] = {
		{"password_file", K_STRING},
	};
	cfg_check_keys(L, g, CFG_KEYS(keys));
	const char *v;
	const config_setting_t *s = cfg_get_string(g, "password_file", &v);
	if (!s)
		return;
	free(L->cfg->admin_password_file);
	L->cfg->admin_password_file = v[0] ? cfg_path_of(L, s, v) : NULL;
	if (!v[0])
		cfg_err(L, s, "give a path, or remove the setting");
}

void cfg_load_log(struct cfg_loader *L, config_setting_t *root)
{
	config_setting_t *s = config_setting_get_member(root, "log");
	if (s && cfg_type_ok(s, K_GROUP))
		load_log(L, s);
	s = config_setting_get_member(root, "admin");
	if (s && cfg_type_ok(s, K_GROUP))
		load_admin(L, s);
}

void cfg_free_log(struct cg_config *c)
{
	free(c->db_file);
	free(c->admin_password_file);
}
