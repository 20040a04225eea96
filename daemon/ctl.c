/*
 * cafeguardctl: the tool for trainers, operators and tests.  A table of
 * {name, handler, arguments, one-line help}; each handler parses its own
 * options.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cafeguard/classify.h"
#include "cafeguard/clock.h"
#include "cafeguard/config.h"
#include "cafeguard/control.h"
#include "cafeguard/explain.h"
#include "cafeguard/fsutil.h"
#include "cafeguard/fwrules.h"
#include "cafeguard/replay.h"
#include "cafeguard/rules.h"
#include "cafeguard/state.h"
#include "cafeguard/www.h"

#include "ctl_internal.h"

#define DEFAULT_CONF CG_CTL_DEFAULT_CONF

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *args;
	const char *help;
};

static int cmd_help(int argc, char **argv);

/* Loads config and rules the way the daemon does; prints diagnostics
 * (warnings too when loud).  Returns 0, 2 with warnings, 1 on errors. */
static int load(const char *conf, struct cg_config *cfg,
		struct cg_rules **rules, const struct cg_classifier *names,
		bool check, bool loud)
{
	struct cg_diag d;
	memset(&d, 0, sizeof(d));
	*rules = NULL;
	if (cg_config_load(conf, cfg, &d) == 0) {
		/* A trainer checking rules on a laptop, or as a user, cannot
		 * write the box's cache: the lists are then read as text,
		 * which is slower but not a warning about the rules. */
		if (cfg->cache_dir && access(cfg->cache_dir, W_OK) != 0) {
			free(cfg->cache_dir);
			cfg->cache_dir = NULL;
		}
		*rules = cg_rules_build(cfg, names, check, &d);
	}
	/* The portal's pages are part of what a check vouches for: a
	 * template or translation a trainer broke would stop the daemon. */
	if (*rules && check && cfg->portal) {
		struct cg_www *w = NULL;
		if (cg_www_load(cfg->www_dir, cfg->language, &w, &d) < 0) {
			cg_rules_free(*rules);
			*rules = NULL;
		} else if (loud) {
			const char *const *tags;
			size_t n = cg_www_langs(w, &tags);
			fprintf(stderr, "portal pages %s: %zu language(s), "
					"default %s\n",
				cfg->www_dir, n, cfg->language);
		}
		cg_www_free(w);
	}
	if (!*rules || loud)
		cg_diag_print(&d, stderr);
	size_t errors = d.errors, warnings = d.warnings;
	cg_diag_clear(&d);
	if (!*rules) {
		fprintf(stderr, "%s: %zu error(s)\n", conf, errors);
		return 1;
	}
	return warnings ? 2 : 0;
}

static struct cg_classifier *names_or_die(void)
{
	struct cg_error err;
	struct cg_classifier *c = cg_classifier_new(0, &err);
	if (!c)
		fprintf(stderr, "%s\n", err.msg);
	return c;
}

/* The conf option every command takes. */
static int conf_opt(int argc, char **argv, const char **conf)
{
	static const struct option lo[] = {{"config", 1, NULL, 'c'},
					   {NULL, 0, NULL, 0}};
	int o;
	while ((o = getopt_long(argc, argv, "c:", lo, NULL)) != -1) {
		if (o != 'c')
			return -1;
		*conf = optarg;
	}
	return 0;
}

/* ---- trainers ---- */

static int cmd_check(int argc, char **argv)
{
	const char *conf = DEFAULT_CONF;
	/* Exit 2 means "warnings" here, so a usage error is 1. */
	if (conf_opt(argc, argv, &conf) < 0)
		return 1;
	if (optind != argc) {
		fprintf(stderr, "check: unexpected argument \"%s\"\n",
			argv[optind]);
		return 1;
	}
	struct cg_classifier *names = names_or_die();
	if (!names)
		return 1;
	struct cg_config cfg;
	struct cg_rules *r;
	int rc = load(conf, &cfg, &r, names, true, true);
	if (r) {
		for (size_t i = 0; i < r->ncats; i++) {
			const struct cg_category *c = &r->cats[i];
			if (c->is_inline || !c->image)
				continue;
			size_t n = 0;
			for (int k = 0; k < CG_DIGEST__COUNT; k++)
				n += c->info.entries[k];
			printf("category %-16s %9zu entries  %zu file(s)  %zu "
			       "skipped  %.1f ms%s\n",
			       c->name, n, c->nfiles, c->info.stats.skipped,
			       c->info.load_ms,
			       c->info.from_cache ? " (compiled image)" : "");
		}
		for (size_t i = 0; i < r->nprofiles; i++)
			printf("profile  %-16s %zu schedule window(s), %zu "
			       "budget(s)%s\n",
			       r->profiles[i].name, r->profiles[i].nwindows,
			       r->profiles[i].nbudgets,
			       i == r->default_profile ? ", default" : "");
		printf("%s: %s (%zu seat(s), %zu expect test(s); run "
		       "`cafeguardctl test`)\n",
		       conf, rc == 2 ? "valid, with warnings" : "valid",
		       r->nseats, cfg.nexpects);
	}
	cg_rules_free(r);
	cg_config_free(&cfg);
	cg_classifier_free(names);
	return rc;
}

static int cmd_test(int argc, char **argv)
{
	const char *conf = DEFAULT_CONF;
	if (conf_opt(argc, argv, &conf) < 0 || optind != argc)
		return 2;
	struct cg_classifier *names = names_or_die();
	if (!names)
		return 1;
	struct cg_config cfg;
	struct cg_rules *r;
	int rc = load(conf, &cfg, &r, names, false, false);
	if (r) {
		if (!cfg.nexpects) {
			fprintf(stderr, "%s: no expect = ( ... ) tests in the "
					"rule set\n",
				conf);
			rc = 1;
		} else {
			size_t fails = cg_expect_run(&cfg, r, names, stdout);
			printf("%zu of %zu test(s) %s\n",
			       fails ? fails : cfg.nexpects, cfg.nexpects,
			       fails ? "FAILED" : "passed");
			rc = fails ? 1 : 0;
		}
	}
	cg_rules_free(r);
	cg_config_free(&cfg);
	cg_classifier_free(names);
	return rc;
}

/* "https://www.x.com:8443/path" or "www.x.com" -> canonical host. */
static int host_of(const char *arg, char *out)
{
	const char *h = arg, *sch = strstr(arg, "://");
	if (sch)
		h = sch + 3;
	size_t n = strcspn(h, "/:?#");
	size_t len;
	return cg_name_canon(h, n, out, &len) == CG_NAME_OK ? 0 : -1;
}

static int parse_addr(const char *s, struct cg_config_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->addr) == 1) {
		a->family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a->addr) == 1) {
		a->family = 6;
		return 0;
	}
	return -1;
}

static int cmd_explain(int argc, char **argv)
{
	const char *conf = DEFAULT_CONF;
	struct cg_explain_query q = {.who = CG_WHO_DEFAULT};
	const char *at = NULL;
	static const struct option lo[] = {
		{"config", 1, NULL, 'c'}, {"seat", 1, NULL, 's'},
		{"ip", 1, NULL, 'i'},     {"mac", 1, NULL, 'm'},
		{"profile", 1, NULL, 'p'}, {"at", 1, NULL, 'a'},
		{"app", 1, NULL, 'A'},    {NULL, 0, NULL, 0},
	};
	int o, whos = 0;
	while ((o = getopt_long(argc, argv, "c:", lo, NULL)) != -1) {
		switch (o) {
		case 'c':
			conf = optarg;
			break;
		case 's':
			q.who = CG_WHO_SEAT;
			q.whom = optarg;
			whos++;
			break;
		case 'p':
			q.who = CG_WHO_PROFILE;
			q.whom = optarg;
			whos++;
			break;
		case 'i':
			q.who = CG_WHO_IP;
			if (parse_addr(optarg, &q.ip) < 0) {
				fprintf(stderr, "explain: --ip \"%s\" is not an "
						"address\n",
					optarg);
				return 2;
			}
			whos++;
			break;
		case 'm':
			q.who = CG_WHO_MAC;
			if (cg_config_parse_mac(optarg, q.mac) < 0) {
				fprintf(stderr, "explain: --mac \"%s\" is not a "
						"MAC address\n",
					optarg);
				return 2;
			}
			whos++;
			break;
		case 'a':
			at = optarg;
			break;
		case 'A':
			q.app = optarg;
			break;
		default:
			return 2;
		}
	}
	if (whos > 1) {
		fprintf(stderr, "explain: give one of --seat, --ip, --mac, "
				"--profile\n");
		return 2;
	}
	char host[CG_NAME_BUF];
	if (optind < argc) {
		if (optind + 1 != argc || host_of(argv[optind], host) < 0) {
			fprintf(stderr, "explain: \"%s\" is not a host name or "
					"URL\n",
				argv[optind]);
			return 2;
		}
		q.host = host;
	}
	if (!q.host && !q.app) {
		fprintf(stderr, "explain: give a HOST-or-URL, or --app NAME\n");
		return 2;
	}
	q.at_utc = (int64_t)time(NULL);
	if (at && cg_clock_parse_local(at, &q.at_utc) < 0) {
		fprintf(stderr, "explain: --at \"%s\": give \"YYYY-MM-DD "
				"HH:MM\"\n",
			at);
		return 2;
	}
	struct cg_classifier *names = names_or_die();
	if (!names)
		return 1;
	struct cg_config cfg;
	struct cg_rules *r;
	int rc = load(conf, &cfg, &r, names, false, false) == 1 ? 1 : 0;
	struct cg_state *st = NULL;
	if (r && cfg.state_dir) {
		/* Sessions and budgets as the daemon last saved them. */
		char path[4096];
		snprintf(path, sizeof(path), "%s/state", cfg.state_dir);
		st = cg_state_new(r);
		struct cg_diag d = {0};
		if (st)
			cg_state_load(st, r, path, q.at_utc, &d);
		cg_diag_clear(&d);
	}
	if (r) {
		struct cg_error err;
		int out = cg_explain(r, st, names, &q, stdout, &err);
		if (out < 0) {
			fprintf(stderr, "explain: %s\n", err.msg);
			rc = 1;
		}
	}
	cg_state_free(st);
	cg_rules_free(r);
	cg_config_free(&cfg);
	cg_classifier_free(names);
	return rc;
}

static int cmd_compile(int argc, char **argv)
{
	const char *conf = DEFAULT_CONF, *outp = NULL, *fmt = "auto";
	static const struct option lo[] = {{"config", 1, NULL, 'c'},
					   {"output", 1, NULL, 'o'},
					   {"format", 1, NULL, 'f'},
					   {NULL, 0, NULL, 0}};
	int o;
	while ((o = getopt_long(argc, argv, "c:o:f:", lo, NULL)) != -1) {
		if (o == 'c')
			conf = optarg;
		else if (o == 'o')
			outp = optarg;
		else if (o == 'f')
			fmt = optarg;
		else
			return 2;
	}
	if (outp) {
		/* One image from the list files given. */
		enum cg_list_format f;
		if (cg_list_format_parse(fmt, &f) < 0 || optind == argc) {
			fprintf(stderr, "compile: -o IMAGE [--format F] "
					"LIST...\n");
			return 2;
		}
		struct cg_diag d = {0};
		struct cg_listimage_info info;
		int rc = cg_listimage_compile((const char *const *)argv + optind,
					      (size_t)(argc - optind), f, outp,
					      &d, &info);
		cg_diag_print(&d, stderr);
		cg_diag_clear(&d);
		if (rc < 0)
			return 1;
		size_t n = 0;
		for (int k = 0; k < CG_DIGEST__COUNT; k++)
			n += info.entries[k];
		printf("%s: %zu entries, %zu bytes, %.1f ms\n", outp, n,
		       info.image_bytes, info.load_ms);
		return 0;
	}
	if (optind != argc)
		return 2;
	/* Every category of the rule set, through its cache. */
	struct cg_config cfg;
	struct cg_diag d = {0};
	int lrc = cg_config_load(conf, &cfg, &d);
	cg_diag_print(&d, stderr);
	cg_diag_clear(&d);
	if (lrc < 0) {
		cg_config_free(&cfg);
		return 1;
	}
	if (!cfg.cache_dir) {
		fprintf(stderr, "compile: %s sets no state.cache directory; "
				"use -o IMAGE LIST... for one image\n",
			conf);
		cg_config_free(&cfg);
		return 1;
	}
	if (cg_mkdir_p(cfg.cache_dir, 0755) < 0) {
		fprintf(stderr, "compile: %s: %s\n", cfg.cache_dir,
			strerror(errno));
		cg_config_free(&cfg);
		return 1;
	}
	cg_config_free(&cfg);
	struct cg_rules *r;
	int rc = load(conf, &cfg, &r, NULL, false, false);
	if (r) {
		for (size_t i = 0; i < r->ncats; i++) {
			const struct cg_category *c = &r->cats[i];
			if (c->is_inline || !c->image)
				continue;
			size_t n = 0;
			for (int k = 0; k < CG_DIGEST__COUNT; k++)
				n += c->info.entries[k];
			printf("category %-16s %9zu entries  %.1f ms  %s\n",
			       c->name, n, c->info.load_ms,
			       c->info.from_cache ? "image up to date"
						  : "image written");
		}
		printf("images in %s\n", cfg.cache_dir);
	}
	cg_rules_free(r);
	cg_config_free(&cfg);
	return rc == 1 ? 1 : 0;
}

/* ---- operators: the running daemon ---- */

static int control(const char *conf, const struct cg_ctl_request *q)
{
	struct cg_config cfg;
	struct cg_diag d = {0};
	if (cg_config_load(conf, &cfg, &d) < 0) {
		cg_diag_print(&d, stderr);
		cg_diag_clear(&d);
		cg_config_free(&cfg);
		/* The daemon reads the same file: it would refuse it the
		 * same way, so it is not asked. */
		if (q->cmd == CG_CTL_RELOAD)
			fprintf(stderr, "not reloaded: the running rules stay "
					"in force\n");
		return 1;
	}
	cg_diag_clear(&d);
	struct cg_error err;
	int rc = cg_ctl_call(cfg.control, q, stdout, &err);
	if (rc < 0)
		fprintf(stderr, "%s\n", err.msg);
	cg_config_free(&cfg);
	return rc == 0 ? 0 : 1;
}

static int simple_control(int argc, char **argv, enum cg_ctl_cmd cmd)
{
	const char *conf = DEFAULT_CONF;
	if (conf_opt(argc, argv, &conf) < 0 || optind != argc)
		return 2;
	struct cg_ctl_request q = {.cmd = cmd};
	return control(conf, &q);
}

static int cmd_reload(int argc, char **argv)
{
	return simple_control(argc, argv, CG_CTL_RELOAD);
}

static int cmd_status(int argc, char **argv)
{
	return simple_control(argc, argv, CG_CTL_STATUS);
}

static int cmd_metrics(int argc, char **argv)
{
	return simple_control(argc, argv, CG_CTL_METRICS);
}

static int cmd_seats(int argc, char **argv)
{
	return simple_control(argc, argv, CG_CTL_SEATS);
}

/* "2h", "30m", "1h30m", "90s" -> seconds; -1 if not a duration. */
static long long seconds_of(const char *s)
{
	long long total = 0;
	const char *p = s;
	if (!*p)
		return -1;
	while (*p) {
		char *end;
		long long v = strtoll(p, &end, 10);
		if (end == p || v < 0 || v > 1000000)
			return -1;
		if (*end == 'h')
			total += v * 3600;
		else if (*end == 'm')
			total += v * 60;
		else if (*end == 's')
			total += v;
		else
			return -1;
		p = end + 1;
	}
	return total;
}

static int cmd_seat(int argc, char **argv)
{
	const char *conf = DEFAULT_CONF, *profile = NULL, *dur = NULL;
	bool clear = false;
	static const struct option lo[] = {
		{"config", 1, NULL, 'c'}, {"profile", 1, NULL, 'p'},
		{"for", 1, NULL, 'f'},    {"clear", 0, NULL, 'x'},
		{NULL, 0, NULL, 0},
	};
	int o;
	while ((o = getopt_long(argc, argv, "c:", lo, NULL)) != -1) {
		if (o == 'c')
			conf = optarg;
		else if (o == 'p')
			profile = optarg;
		else if (o == 'f')
			dur = optarg;
		else if (o == 'x')
			clear = true;
		else
			return 2;
	}
	if (optind + 1 != argc || strlen(argv[optind]) > CG_CTL_NAME_MAX ||
	    (clear == (profile != NULL)) || (profile && !dur) ||
	    (profile && strlen(profile) > CG_CTL_NAME_MAX)) {
		fprintf(stderr, "usage: cafeguardctl seat SEAT --profile P "
				"--for 2h | SEAT --clear\n");
		return 2;
	}
	struct cg_ctl_request q = {.cmd = clear ? CG_CTL_SEAT_CLEAR
						: CG_CTL_SEAT_SET};
	snprintf(q.seat, sizeof(q.seat), "%s", argv[optind]);
	if (!clear) {
		long long secs = seconds_of(dur);
		if (secs <= 0 || secs > 7 * 86400) {
			fprintf(stderr, "seat: --for \"%s\": a duration like "
					"\"2h\", \"45m\" or \"1h30m\", at most "
					"7 days\n",
				dur);
			return 2;
		}
		snprintf(q.profile, sizeof(q.profile), "%s", profile);
		q.seconds = (uint32_t)secs;
	}
	return control(conf, &q);
}

static int cmd_clock(int argc, char **argv)
{
	const char *conf = DEFAULT_CONF;
	if (conf_opt(argc, argv, &conf) < 0 || optind + 1 != argc)
		return 2;
	struct cg_ctl_request q = {.cmd = CG_CTL_CLOCK};
	if (cg_clock_parse_local(argv[optind], &q.utc) < 0 || q.utc < 0) {
		fprintf(stderr, "clock: give \"YYYY-MM-DD HH:MM\" (local "
				"time)\n");
		return 2;
	}
	return control(conf, &q);
}

/* ---- captures, applications, kernel rules ---- */

static int cmd_replay(int argc, char **argv)
{
	const char *conf = NULL, *at = NULL;
	bool json = false, summary = false;
	static const struct option lo[] = {
		{"config", 1, NULL, 'c'}, {"json", 0, NULL, 'j'},
		{"summary", 0, NULL, 's'}, {"at", 1, NULL, 'a'},
		{NULL, 0, NULL, 0},
	};
	int o;
	while ((o = getopt_long(argc, argv, "c:js", lo, NULL)) != -1) {
		if (o == 'c')
			conf = optarg;
		else if (o == 'j')
			json = true;
		else if (o == 's')
			summary = true;
		else if (o == 'a')
			at = optarg;
		else
			return 2;
	}
	if (optind == argc) {
		fprintf(stderr, "replay: give one or more capture files\n");
		return 2;
	}
	struct cg_replay_opts ro = {.format = json ? CG_REPLAY_JSON
						   : CG_REPLAY_TEXT,
				    .out = stdout,
				    .summary = summary};
	if (at && cg_clock_parse_local(at, &ro.at_utc) < 0) {
		fprintf(stderr, "replay: --at \"%s\": give \"YYYY-MM-DD "
				"HH:MM\"\n",
			at);
		return 2;
	}
	struct cg_error err;
	struct cg_config cfg;
	struct cg_rules *rules = NULL;
	struct cg_config pre;
	cg_config_defaults(&pre);
	struct cg_classifier *cls = cg_classifier_new(pre.dpi_flows, &err);
	cg_config_free(&pre);
	if (!cls) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	int rc = 1;
	if (conf) {
		if (load(conf, &cfg, &rules, cls, false, false) == 1)
			goto out_cls;
	} else {
		/* Without a configuration, replay still shows what flows
		 * are, with nothing blocked. */
		cg_config_defaults(&cfg);
		struct cg_diag d = {0};
		rules = cg_rules_build(&cfg, cls, false, &d);
		cg_diag_clear(&d);
		if (!rules)
			goto out;
	}
	if (cfg.dpi_flows > 4096) {
		cg_classifier_free(cls);
		cls = cg_classifier_new(cfg.dpi_flows, &err);
		if (!cls) {
			fprintf(stderr, "%s\n", err.msg);
			goto out;
		}
	}
	ro.cfg = &cfg;
	ro.rules = rules;
	ro.cls = cls;
	rc = 0;
	for (int i = optind; i < argc; i++) {
		struct cg_replay_stats st;
		if (cg_replay_file(argv[i], &ro, &st, &err) < 0) {
			fprintf(stderr, "replay: %s\n", err.msg);
			rc = 1;
		}
	}
out:
	cg_rules_free(rules);
	cg_config_free(&cfg);
out_cls:
	cg_classifier_free(cls);
	return rc;
}

static int cmd_apps(int argc, char **argv)
{
	bool cats = argc > 1 && !strcmp(argv[1], "--categories");
	if (argc > 1 && !cats) {
		fprintf(stderr, "apps: [--categories]\n");
		return 2;
	}
	struct cg_classifier *c = names_or_die();
	if (!c)
		return 1;
	uint16_t n = cats ? cg_classifier_category_count(c)
			  : cg_classifier_app_count(c);
	for (uint16_t i = 1; i < n; i++) {
		const char *name = cats ? cg_classifier_category_name(c, i)
					: cg_classifier_app_name(c, i);
		if (strcmp(name, "Unknown") && strncmp(name, "User custom", 11))
			printf("%s\n", name);
	}
	cg_classifier_free(c);
	return 0;
}

static int cmd_firewall(int argc, char **argv)
{
	const char *conf = DEFAULT_CONF;
	if (conf_opt(argc, argv, &conf) < 0)
		return 2;
	const char *what = optind < argc ? argv[optind] : "";
	if (optind + 1 != argc ||
	    (strcmp(what, "show") && strcmp(what, "remove") &&
	     strcmp(what, "status"))) {
		fprintf(stderr, "firewall: say show, status or remove\n");
		return 2;
	}
	struct cg_config cfg;
	struct cg_diag d = {0};
	int rc = cg_config_load(conf, &cfg, &d);
	cg_diag_print(&d, stderr);
	cg_diag_clear(&d);
	if (rc < 0) {
		cg_config_free(&cfg);
		return 1;
	}
	struct cg_error err;
	if (!strcmp(what, "show")) {
		char buf[16384];
		if (!cfg.lan[0]) {
			fprintf(stderr, "firewall: gateway.lan is not set\n");
			rc = 1;
		} else if (cg_fw_script_install(&cfg, 4, buf, sizeof(buf))) {
			fputs(buf, stdout);
		}
	} else if (!strcmp(what, "status")) {
		bool present = cg_fw_present(&cfg);
		printf("%s\n", present ? "installed" : "not installed");
		rc = present ? 0 : 3;
	} else if (cg_fw_remove(&cfg, &err) < 0) {
		fprintf(stderr, "firewall: %s\n", err.msg);
		rc = 1;
	}
	cg_config_free(&cfg);
	return rc;
}

static int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("cafeguardctl %s\n", CAFEGUARD_VERSION);
	return 0;
}

static const struct command commands[] = {
	{"check", cmd_check, "[-c CONF]",
	 "validate config, rules and lists (exit 0 ok, 2 warnings, 1 errors)"},
	{"explain", cmd_explain,
	 "[-c CONF] [--seat S|--ip IP|--mac M|--profile P] [--at T] "
	 "[--app A] HOST|URL",
	 "the decision and every rule, list and line behind it"},
	{"test", cmd_test, "[-c CONF]",
	 "run the rule set's expect tests (exit 1 on a failure)"},
	{"compile", cmd_compile, "[-c CONF] | -o IMAGE [--format F] LIST...",
	 "build the compiled list images the daemon maps"},
	{"reload", cmd_reload, "[-c CONF]",
	 "load the rules anew in the running daemon"},
	{"seat", cmd_seat, "SEAT --profile P --for 2h | SEAT --clear",
	 "switch a seat to another profile for a while"},
	{"seats", cmd_seats, "[-c CONF]",
	 "seats, their profiles, sessions and budgets used today"},
	{"status", cmd_status, "[-c CONF]", "what the running daemon is doing"},
	{"metrics", cmd_metrics, "[-c CONF]",
	 "the running daemon's counters, Prometheus text format"},
	{"clock", cmd_clock, "[-c CONF] \"YYYY-MM-DD HH:MM\"",
	 "set the test clock of a daemon run with --fake-time"},
	{"replay", cmd_replay,
	 "[-c CONF] [--json] [--summary] [--at T] FILE.pcap...",
	 "run captures through the pipeline and print each decision"},
	{"apps", cmd_apps, "[--categories]",
	 "the application (or category) names the rules accept"},
	{"firewall", cmd_firewall, "[-c CONF] show|status|remove",
	 "show, test for or remove the daemon's kernel rules"},
	{"log", cg_ctl_log,
	 "[-c CONF] [--day YYYY-MM-DD] [--seat NAME] [--follow] [--json|--csv]",
	 "the day's events from the event store"},
	{"report", cg_ctl_report, "[-c CONF] [--day YYYY-MM-DD] [--html FILE]",
	 "a day in numbers: blocks by seat, hour, category, top sites, ..."},
	{"passwd", cg_ctl_passwd, "[-c CONF] [--stdin]",
	 "set the admin dashboard's password (hash file, mode 0600)"},
	{"version", cmd_version, "", "print the version"},
	{"help", cmd_help, "", "this list"},
};

static int cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("usage: cafeguardctl COMMAND [ARGS]\n\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		printf("  %-8s %s\n           %s\n", commands[i].name,
		       commands[i].args, commands[i].help);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		cmd_help(0, NULL);
		return 2;
	}
	const char *names[32];
	size_t n = sizeof(commands) / sizeof(commands[0]);
	for (size_t i = 0; i < n; i++) {
		names[i] = commands[i].name;
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
		return cmd_help(0, NULL);
	const char *hint = cg_suggest(argv[1], names, n);
	if (hint)
		fprintf(stderr, "cafeguardctl: unknown command \"%s\" (did you "
				"mean \"%s\"?)\n",
			argv[1], hint);
	else
		fprintf(stderr, "cafeguardctl: unknown command \"%s\"; try "
				"cafeguardctl help\n",
			argv[1]);
	return 2;
}
