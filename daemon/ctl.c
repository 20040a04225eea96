/*
 * cafeguardctl: the tool for trainers, operators and tests.  A table of
 * {name, handler, one-line help}; each handler parses its own options.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cafeguard/classify.h"
#include "cafeguard/config.h"
#include "cafeguard/fwrules.h"
#include "cafeguard/replay.h"
#include "cafeguard/rules.h"

#define DEFAULT_CONF CAFEGUARD_SYSCONFDIR "/cafeguard.conf"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *args;
	const char *help;
};

static int cmd_help(int argc, char **argv);

/* Loads config and rules the way the daemon does; prints diagnostics. */
static int load(const char *conf, struct cg_config *cfg,
		struct cg_rules **rules, const struct cg_classifier *names,
		bool quiet_ok)
{
	struct cg_diag d;
	memset(&d, 0, sizeof(d));
	*rules = NULL;
	if (cg_config_load(conf, cfg, &d) == 0)
		*rules = cg_rules_build(cfg, names, &d);
	if (!*rules || !quiet_ok)
		cg_diag_print(&d, stderr);
	size_t errors = d.errors;
	cg_diag_clear(&d);
	if (!*rules) {
		fprintf(stderr, "%s: %zu error(s)\n", conf, errors);
		return -1;
	}
	return 0;
}

static int cmd_check(int argc, char **argv)
{
	const char *conf = DEFAULT_CONF;
	static const struct option lo[] = {{"config", 1, NULL, 'c'},
					   {NULL, 0, NULL, 0}};
	int o;
	while ((o = getopt_long(argc, argv, "c:", lo, NULL)) != -1) {
		if (o != 'c')
			return 2;
		conf = optarg;
	}
	if (optind != argc) {
		fprintf(stderr, "check: unexpected argument \"%s\"\n",
			argv[optind]);
		return 2;
	}
	struct cg_error err;
	struct cg_classifier *names = cg_classifier_new(0, &err);
	if (!names) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	struct cg_config cfg;
	struct cg_rules *r;
	int rc = load(conf, &cfg, &r, names, false);
	if (rc == 0) {
		for (size_t i = 0; i < r->nlists; i++) {
			const struct cg_list *l = &r->lists[i];
			if (!l->set)
				continue;
			printf("list %-20s %9zu entries  %zu file(s)  %zu "
			       "skipped  %zu duplicate(s)  %.1f ms\n",
			       l->name, cg_domainset_count(l->set), l->nfiles,
			       l->stats.skipped, l->stats.duplicates,
			       l->load_ms);
		}
		printf("%s: ok (%zu blocking list(s), %zu blocked app(s), "
		       "%u queue(s))\n",
		       conf, r->nblock, r->nblock_apps, cfg.queue_count);
	}
	cg_rules_free(r);
	cg_config_free(&cfg);
	cg_classifier_free(names);
	return rc == 0 ? 0 : 1;
}

static int cmd_replay(int argc, char **argv)
{
	const char *conf = NULL;
	bool json = false, summary = false;
	static const struct option lo[] = {{"config", 1, NULL, 'c'},
					   {"json", 0, NULL, 'j'},
					   {"summary", 0, NULL, 's'},
					   {NULL, 0, NULL, 0}};
	int o;
	while ((o = getopt_long(argc, argv, "c:js", lo, NULL)) != -1) {
		if (o == 'c')
			conf = optarg;
		else if (o == 'j')
			json = true;
		else if (o == 's')
			summary = true;
		else
			return 2;
	}
	if (optind == argc) {
		fprintf(stderr, "replay: give one or more capture files\n");
		return 2;
	}
	struct cg_error err;
	struct cg_config cfg;
	struct cg_classifier *cls = NULL;
	struct cg_rules *rules = NULL;
	int rc = 1;
	struct cg_config pre;
	cg_config_defaults(&pre);
	cls = cg_classifier_new(pre.dpi_flows, &err);
	if (!cls) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	if (conf) {
		if (load(conf, &cfg, &rules, cls, true) < 0)
			goto out_cls;
	} else {
		/* Without a configuration, replay still shows what flows
		 * are, with nothing blocked. */
		cg_config_defaults(&cfg);
		struct cg_diag d;
		memset(&d, 0, sizeof(d));
		rules = cg_rules_build(&cfg, cls, &d);
		cg_diag_clear(&d);
		if (!rules)
			goto out_cls;
	}
	if (cfg.dpi_flows > pre.dpi_flows) {
		cg_classifier_free(cls);
		cls = cg_classifier_new(cfg.dpi_flows, &err);
		if (!cls) {
			fprintf(stderr, "%s\n", err.msg);
			goto out;
		}
	}
	struct cg_replay_opts ro = {
		.cfg = &cfg,
		.rules = rules,
		.cls = cls,
		.format = json ? CG_REPLAY_JSON : CG_REPLAY_TEXT,
		.out = stdout,
		.summary = summary,
	};
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
	(void)argc;
	(void)argv;
	struct cg_error err;
	struct cg_classifier *c = cg_classifier_new(0, &err);
	if (!c) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	uint16_t n = cg_classifier_app_count(c);
	for (uint16_t i = 1; i < n; i++) {
		const char *name = cg_classifier_app_name(c, i);
		if (strcmp(name, "Unknown"))
			printf("%s\n", name);
	}
	cg_classifier_free(c);
	return 0;
}

static int cmd_firewall(int argc, char **argv)
{
	const char *conf = DEFAULT_CONF;
	static const struct option lo[] = {{"config", 1, NULL, 'c'},
					   {NULL, 0, NULL, 0}};
	int o;
	while ((o = getopt_long(argc, argv, "c:", lo, NULL)) != -1) {
		if (o != 'c')
			return 2;
		conf = optarg;
	}
	const char *what = optind < argc ? argv[optind] : "";
	if (optind + 1 != argc ||
	    (strcmp(what, "show") && strcmp(what, "remove") &&
	     strcmp(what, "status"))) {
		fprintf(stderr, "firewall: say show, status or remove\n");
		return 2;
	}
	struct cg_config cfg;
	struct cg_diag d;
	memset(&d, 0, sizeof(d));
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
	 "validate the configuration and every list; no network access"},
	{"replay", cmd_replay, "[-c CONF] [--json] [--summary] FILE.pcap...",
	 "run captures through the pipeline and print each decision"},
	{"apps", cmd_apps, "", "list the application names block.apps accepts"},
	{"firewall", cmd_firewall, "[-c CONF] show|status|remove",
	 "show, test for or remove the daemon's kernel rules"},
	{"version", cmd_version, "", "print the version"},
	{"help", cmd_help, "", "this list"},
};

static int cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("usage: cafeguardctl COMMAND [ARGS]\n\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		printf("  %-8s %-42s %s\n", commands[i].name, commands[i].args,
		       commands[i].help);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		cmd_help(0, NULL);
		return 2;
	}
	const char *names[16];
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
