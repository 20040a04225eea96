/*
 * config: the gateway's configuration and rule set (libconfig syntax),
 * parsed and checked into plain values.
 *
 * Every problem is reported with the file and line libconfig gives for the
 * setting ("rules/kids.conf:12: profiles[0].block.categories: unknown
 * category \"adutl\" (did you mean \"adult\"?)"); all of them are
 * reported, then the load fails.  Unknown keys are errors: a misspelt key
 * silently ignored is a rule that silently does nothing.  A relative path
 * is resolved against the directory of the file it is written in, so a
 * rule set (and files it @includes) can be moved as a whole.
 *
 * Names that need the running system to check (nDPI application and
 * category names, list files on disk) are checked when the rules are built
 * (rules.h), with the file and line recorded here.
 */
#ifndef CAFEGUARD_CONFIG_H
#define CAFEGUARD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cafeguard/diag.h"
#include "cafeguard/listfile.h"

#define CG_IFNAME_MAX 16 /* IFNAMSIZ */
#define CG_QUEUE_MAX_COUNT 64

enum cg_fw_backend {
	CG_FW_AUTO = 0, /* whatever "iptables-restore" is on this system */
	CG_FW_NFT,      /* iptables-nft-restore */
	CG_FW_LEGACY,   /* iptables-legacy-restore */
};

/* A name used in the config, with where it was written. */
struct cg_config_ref {
	char *name;
	char *file; /* the file it was written in (an @include or the main) */
	unsigned line;
};

/* What a block, allow, lift or budget names. */
struct cg_config_sel {
	struct cg_config_ref *categories;
	size_t ncategories;
	struct cg_config_ref *apps;           /* nDPI protocol names */
	size_t napps;
	struct cg_config_ref *app_categories; /* nDPI category names */
	size_t napp_categories;
	struct cg_config_ref *hosts;          /* names written inline,
						 canonical */
	size_t nhosts;
	bool everything;                      /* all traffic */
	char *file;
	unsigned line;
};

struct cg_config_category {
	char *name;
	char *title;  /* in plain words, for people */
	char **lists; /* files or folders, resolved paths */
	size_t nlists;
	enum cg_list_format format;
	char *file;
	unsigned line;
};

/* A time window of a schedule, in the box's local time.  days: bit 0 =
 * Sunday .. bit 6 = Saturday; minutes from midnight; to < from crosses
 * midnight (the window belongs to the day it starts). */
struct cg_config_window {
	uint8_t days;
	uint16_t from, to;
	struct cg_config_sel block, lift;
	char *file;
	unsigned line;
};

struct cg_config_budget {
	char *name;
	struct cg_config_sel what;
	uint16_t minutes; /* a day */
	bool shared;      /* one counter for every client of the profile */
	char *file;
	unsigned line;
};

struct cg_config_profile {
	char *name;
	struct cg_config_sel block, allow;
	bool safesearch;
	struct cg_config_window *windows;
	size_t nwindows;
	struct cg_config_budget *budgets;
	size_t nbudgets;
	char *file;
	unsigned line;
};

struct cg_config_addr {
	uint8_t family; /* 4 or 6 */
	uint8_t addr[16];
};

struct cg_config_seat {
	char *name;
	uint8_t mac[6];
	bool has_mac;
	struct cg_config_addr *addrs;
	size_t naddrs;
	struct cg_config_ref profile;
	char *file;
	unsigned line;
};

enum cg_expect_who {
	CG_WHO_DEFAULT = 0, /* an unknown client */
	CG_WHO_SEAT,
	CG_WHO_PROFILE,
	CG_WHO_IP,
	CG_WHO_MAC,
};

/* A rule-set test: who, when, what, and the decision expected. */
struct cg_config_expect {
	enum cg_expect_who who;
	struct cg_config_ref whom;      /* seat or profile name */
	struct cg_config_addr ip;
	uint8_t mac[6];
	bool has_at;
	int year, month, mday;          /* local date and time of "at" */
	uint16_t minute;
	char *host;                     /* canonical; NULL with app only */
	struct cg_config_ref app;       /* name NULL if none */
	bool want_block;
	char *file;
	unsigned line;
};

/* The search engines whose safe variants a profile can force. */
enum cg_engine {
	CG_ENGINE_GOOGLE = 0,
	CG_ENGINE_YOUTUBE,
	CG_ENGINE_BING,
	CG_ENGINE_DUCKDUCKGO,
	CG_ENGINE__COUNT
};

#define CG_ENGINE_ADDRS_MAX 4

/* Where an engine's names are sent: the safe name its operator
 * documents and that name's addresses. */
struct cg_config_engine {
	char *target; /* canonical, e.g. "forcesafesearch.google.com" */
	struct cg_config_addr addrs[CG_ENGINE_ADDRS_MAX];
	size_t naddrs;
	char *file;
	unsigned line;
};

enum cg_dns_block_answer {
	CG_DNS_ANSWER_SINKHOLE = 0, /* A/AAAA of the portal */
	CG_DNS_ANSWER_NXDOMAIN,
};

/* A place a child can report abuse (portal pages). */
struct cg_config_hotline {
	char *country; /* ISO 3166 alpha-2, "" = everywhere */
	char *name;
	char *url;
	char *phone;
};

struct cg_config {
	char *path; /* the configuration file as given */
	char *dir;  /* its directory */

	/* gateway */
	char lan[CG_IFNAME_MAX];
	char wan[CG_IFNAME_MAX]; /* "" = any */
	bool fail_open;
	enum cg_fw_backend firewall;
	uint32_t mark_mask; /* three bits owned by the gateway */
	uint32_t mark_allow, mark_block, mark_watch, mark_meter; /* derived */

	/* queue */
	uint16_t queue_first;
	uint16_t queue_count; /* 0 in the file = one per core (resolved) */
	uint32_t queue_length;
	uint32_t copy_range;
	uint32_t batch;

	/* inspect (per worker) */
	uint32_t max_flows;
	uint32_t idle_timeout_s;
	uint32_t max_packets;
	uint32_t dpi_flows;
	uint32_t buffers;
	uint32_t meter_interval_s; /* budget heartbeat per connection */

	/* state */
	char *state_dir;   /* seat sessions and budgets (NULL: not kept) */
	char *cache_dir;   /* compiled list images (NULL: not cached) */
	char *control;     /* control socket path */

	/* rule set */
	struct cg_config_category *categories;
	size_t ncategories;
	struct cg_config_profile *profiles;
	size_t nprofiles;
	struct cg_config_seat *seats;
	size_t nseats;
	struct cg_config_ref default_profile; /* name NULL: the first */
	struct cg_config_expect *expects;
	size_t nexpects;

	char *events_file; /* JSON lines; NULL = events off */

	/* respond: what a blocked DNS query is answered */
	enum cg_dns_block_answer dns_answer;
	bool dns_answer_set; /* written in the file (else: sinkhole when
				the portal has an address) */
	uint32_t dns_ttl;    /* seconds, for sinkhole and forced answers */

	/* portal */
	bool portal;                        /* serve the pages */
	struct cg_config_addr portal_addr4; /* family 0: none */
	struct cg_config_addr portal_addr6;
	uint16_t portal_port;
	char *cafe_name;
	char *www_dir;      /* templates and translations */
	char *language;     /* default language tag */
	char *country;      /* ISO 3166 alpha-2 of the café */
	bool splash;        /* seats start captive until they accept */
	uint32_t splash_period_min; /* 0: until the next local midnight */
	struct cg_config_hotline *hotlines;
	size_t nhotlines;
	uint32_t portal_max_conns;   /* at once, all clients */
	uint32_t portal_per_ip;      /* at once, one client */
	uint32_t portal_timeout_s;   /* an idle or slow connection */
	uint32_t portal_rate;        /* requests a client may make a minute */

	/* safesearch: the engines' safe targets */
	struct cg_config_engine engines[CG_ENGINE__COUNT];

	/* log: the operator's store and where else events go */
	char *db_file;            /* SQLite (WAL); NULL: no store */
	uint32_t retention_days;  /* rows older than this are pruned */
	uint32_t max_db_mb;       /* and the oldest beyond this size */
	bool log_allowed_hosts;   /* allowed traffic by name, not only
				     counted per seat, hour and category */
	struct cg_config_addr syslog_addr; /* family 0: no syslog */
	uint16_t syslog_port;
	bool syslog_tcp;          /* RFC 6587 octet counting; else UDP */
	uint8_t syslog_facility;  /* 0..23 (RFC 5424 6.2.1) */

	/* admin: the dashboard on the portal */
	char *admin_password_file; /* the hash `cafeguardctl passwd` writes;
				      NULL: no dashboard */
};

/* "google", "youtube", "bing", "duckduckgo". */
const char *cg_engine_name(enum cg_engine e);

/* Fills cfg with the defaults a config file may override. */
void cg_config_defaults(struct cg_config *cfg);

/*
 * Loads path into cfg (defaults first).  Returns 0, or -1 when any error
 * was reported to d (cfg then holds partial values; free it).
 * queue_count 0 is replaced by the number of online CPUs.
 */
int cg_config_load(const char *path, struct cg_config *cfg,
		   struct cg_diag *d);

/* Resolves p against dir (the directory of the file p was written in);
 * returns a new string (caller frees) or NULL on allocation failure. */
char *cg_config_resolve(const char *dir, const char *p);

void cg_config_free(struct cg_config *cfg);

/* "mon-fri", "sat,sun", "all", "weekdays", "weekend" -> day bits; -1 if
 * the text is not a day list (why in err).  Exposed for tests. */
int cg_config_parse_days(const char *s, uint8_t *days, char *err,
			 size_t errsz);
/* "08:30", "24:00" -> minutes; -1 if not a time. */
int cg_config_parse_hhmm(const char *s, uint16_t *minutes);
/* "1h", "90m", "1h30m" -> minutes; -1 if not a duration. */
int cg_config_parse_duration(const char *s, uint32_t *minutes);
/* "YYYY-MM-DD HH:MM" -> its parts; -1 if malformed or not a real date. */
int cg_config_parse_at(const char *s, int *year, int *month, int *mday,
		       uint16_t *minute);
/* "192.0.2.1", "2001:db8::1" -> address; -1 if neither. */
int cg_config_parse_addr(const char *s, struct cg_config_addr *a);
/* "aa:bb:cc:dd:ee:ff" -> bytes; -1 if malformed. */
int cg_config_parse_mac(const char *s, uint8_t mac[6]);

#endif
