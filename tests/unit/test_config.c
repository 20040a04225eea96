#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cafeguard/config.h"

#define CONF_DIR CG_SOURCE_DIR "/tests/conf"

static void full_config(void **state)
{
	(void)state;
	struct cg_config c;
	struct cg_diag d = {0};
	int rc = cg_config_load(CONF_DIR "/good/full.conf", &c, &d);
	cg_diag_print(&d, stderr);
	assert_int_equal(rc, 0);
	assert_int_equal(d.errors, 0);
	assert_string_equal(c.lan, "eth1");
	assert_string_equal(c.wan, "eth0");
	assert_false(c.fail_open);
	assert_int_equal(c.firewall, CG_FW_LEGACY);
	/* Three bits, low to high: allow, block, their sum watch, meter. */
	assert_int_equal(c.mark_mask, 0xe0000000u);
	assert_int_equal(c.mark_allow, 0x20000000u);
	assert_int_equal(c.mark_block, 0x40000000u);
	assert_int_equal(c.mark_watch, 0x60000000u);
	assert_int_equal(c.mark_meter, 0x80000000u);
	assert_int_equal(c.queue_first, 10);
	assert_int_equal(c.queue_count, 2);
	assert_int_equal(c.meter_interval_s, 5);
	assert_string_equal(c.control, "/tmp/cafeguard-test.sock");

	assert_int_equal(c.ncategories, 1);
	assert_string_equal(c.categories[0].title, "A test list");
	assert_int_equal(c.categories[0].format, CG_LIST_DOMAINS);
	/* Paths are resolved against the file they are written in. */
	assert_string_equal(c.categories[0].lists[0],
			    CONF_DIR "/good/../lists/small.domains");

	assert_int_equal(c.nprofiles, 2);
	const struct cg_config_profile *k = &c.profiles[0];
	assert_string_equal(k->name, "kids");
	assert_true(k->safesearch);
	assert_int_equal(k->block.napps, 2);
	assert_int_equal(k->block.napp_categories, 1);
	assert_int_equal(k->block.nhosts, 1);
	/* Inline names are canonical. */
	assert_string_equal(k->block.hosts[0].name, "extra.test");
	assert_int_equal(k->block.hosts[0].line, 7);
	assert_int_equal(k->nwindows, 2);
	assert_int_equal(k->windows[0].days, 0x3e); /* mon-fri */
	assert_int_equal(k->windows[0].from, 8 * 60);
	assert_int_equal(k->windows[0].to, 12 * 60);
	assert_true(k->windows[0].block.everything);
	assert_int_equal(k->windows[1].days, 0x41); /* sat,sun */
	assert_int_equal(k->windows[1].lift.ncategories, 1);
	assert_int_equal(k->nbudgets, 1);
	assert_int_equal(k->budgets[0].minutes, 90);
	assert_true(k->budgets[0].shared);

	assert_int_equal(c.nseats, 1);
	assert_true(c.seats[0].has_mac);
	assert_int_equal(c.seats[0].mac[5], 1);
	assert_int_equal(c.seats[0].naddrs, 2);
	assert_int_equal(c.seats[0].addrs[1].family, 6);
	assert_string_equal(c.default_profile.name, "adults");

	assert_int_equal(c.nexpects, 2);
	assert_int_equal(c.expects[0].who, CG_WHO_SEAT);
	assert_true(c.expects[0].has_at);
	assert_int_equal(c.expects[0].minute, 15 * 60);
	assert_true(c.expects[0].want_block);
	assert_string_equal(c.expects[1].host, "blocked.test");
	assert_false(c.expects[1].want_block);
	assert_string_equal(c.events_file, "/tmp/cafeguard-test-events.jsonl");
	cg_config_free(&c);
	cg_diag_clear(&d);
}

static void defaults(void **state)
{
	(void)state;
	struct cg_config c;
	struct cg_diag d = {0};
	assert_int_equal(cg_config_load(CONF_DIR "/good/empty.conf", &c, &d),
			 0);
	assert_true(c.fail_open);
	assert_int_equal(c.mark_mask, 0x700000);
	assert_int_equal(c.mark_allow, 0x100000);
	assert_int_equal(c.mark_block, 0x200000);
	assert_int_equal(c.mark_watch, 0x300000);
	assert_int_equal(c.mark_meter, 0x400000);
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	assert_int_equal(c.queue_count, cpus > 64 ? 64 : cpus);
	assert_int_equal(c.copy_range, 65535);
	assert_int_equal(c.meter_interval_s, 60);
	assert_null(c.events_file);
	assert_null(c.state_dir);
	assert_string_equal(c.control, "/run/cafeguard/control");
	assert_int_equal(c.nprofiles, 0);
	cg_config_free(&c);
	cg_diag_clear(&d);
}

/* All errors are reported, not only the first. */
static void every_error_reported(void **state)
{
	(void)state;
	char path[] = "/tmp/cg-conf-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char *text = "gateway = { lan = \"a/b\"; fail_open = 3; };\n"
			   "queue = { count = -1; batch = 0; };\n"
			   "bogus = 1;\n";
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	struct cg_config c;
	struct cg_diag d = {0};
	assert_int_equal(cg_config_load(path, &c, &d), -1);
	assert_int_equal(d.errors, 5);
	for (size_t i = 0; i < d.n; i++) {
		assert_string_equal(d.v[i].file, path);
		assert_true(d.v[i].line >= 1 && d.v[i].line <= 3);
	}
	cg_config_free(&c);
	cg_diag_clear(&d);
	unlink(path);
}

static void missing_file(void **state)
{
	(void)state;
	struct cg_config c;
	struct cg_diag d = {0};
	assert_int_equal(cg_config_load("/nonexistent/cafeguard.conf", &c, &d),
			 -1);
	assert_int_equal(d.errors, 1);
	assert_non_null(strstr(d.v[0].msg, "cannot read"));
	cg_config_free(&c);
	cg_diag_clear(&d);
}

static void suggestions(void **state)
{
	(void)state;
	const char *names[] = {"BitTorrent", "Tor", "TLS", "Telegram"};
	assert_string_equal(cg_suggest("BitTorent", names, 4), "BitTorrent");
	assert_string_equal(cg_suggest("bittorrent", names, 4), "BitTorrent");
	assert_string_equal(cg_suggest("Toor", names, 4), "Tor");
	assert_null(cg_suggest("Facebook", names, 4));
}

static void days(void **state)
{
	(void)state;
	struct {
		const char *in;
		int rc;
		uint8_t bits;
	} cases[] = {
		{"all", 0, 0x7f},      {"weekdays", 0, 0x3e},
		{"weekend", 0, 0x41},  {"mon", 0, 0x02},
		{"mon-fri", 0, 0x3e},  {"sat,sun", 0, 0x41},
		{"fri-mon", 0, 0x63},  {"Mon, Wed", 0, 0x0a},
		{"mon-fir", -1, 0},    {"", -1, 0},
		{"monday", -1, 0},     {"mon-", -1, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t b = 0;
		char err[200];
		print_message("days \"%s\"\n", cases[i].in);
		assert_int_equal(cg_config_parse_days(cases[i].in, &b, err,
						      sizeof(err)),
				 cases[i].rc);
		if (!cases[i].rc)
			assert_int_equal(b, cases[i].bits);
	}
}

static void times_and_durations(void **state)
{
	(void)state;
	uint16_t m;
	assert_int_equal(cg_config_parse_hhmm("00:00", &m), 0);
	assert_int_equal(m, 0);
	assert_int_equal(cg_config_parse_hhmm("24:00", &m), 0);
	assert_int_equal(m, 1440);
	assert_int_equal(cg_config_parse_hhmm("23:59", &m), 0);
	assert_int_equal(m, 1439);
	assert_int_equal(cg_config_parse_hhmm("24:01", &m), -1);
	assert_int_equal(cg_config_parse_hhmm("8:00", &m), -1);
	assert_int_equal(cg_config_parse_hhmm("08:60", &m), -1);
	uint32_t d;
	assert_int_equal(cg_config_parse_duration("1h", &d), 0);
	assert_int_equal(d, 60);
	assert_int_equal(cg_config_parse_duration("1h30m", &d), 0);
	assert_int_equal(d, 90);
	assert_int_equal(cg_config_parse_duration("45m", &d), 0);
	assert_int_equal(d, 45);
	assert_int_equal(cg_config_parse_duration("1 h", &d), -1);
	assert_int_equal(cg_config_parse_duration("h", &d), -1);
	int y, mo, md;
	assert_int_equal(cg_config_parse_at("2024-02-29 23:59", &y, &mo, &md,
					    &m),
			 0);
	assert_int_equal(m, 1439);
	assert_int_equal(cg_config_parse_at("2026-02-29 10:00", &y, &mo, &md,
					    &m),
			 -1);
	assert_int_equal(cg_config_parse_at("2026-13-01 10:00", &y, &mo, &md,
					    &m),
			 -1);
	uint8_t mac[6];
	assert_int_equal(cg_config_parse_mac("52:54:00:AB:cd:0f", mac), 0);
	assert_int_equal(mac[3], 0xab);
	assert_int_equal(cg_config_parse_mac("52-54-00-ab-cd-0f", mac), -1);
	assert_int_equal(cg_config_parse_mac("52:54:00:ab:cd:0f:00", mac), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(full_config),
		cmocka_unit_test(defaults),
		cmocka_unit_test(every_error_reported),
		cmocka_unit_test(missing_file),
		cmocka_unit_test(suggestions),
		cmocka_unit_test(days),
		cmocka_unit_test(times_and_durations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
