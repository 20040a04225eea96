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
	assert_int_equal(cg_config_load(CONF_DIR "/good/full.conf", &c, &d),
			 0);
	assert_int_equal(d.errors, 0);
	assert_string_equal(c.lan, "eth1");
	assert_string_equal(c.wan, "eth0");
	assert_false(c.fail_open);
	assert_int_equal(c.firewall, CG_FW_LEGACY);
	assert_int_equal(c.mark_mask, 0xc0000000u);
	assert_int_equal(c.mark_allow, 0x40000000u);
	assert_int_equal(c.mark_block, 0x80000000u);
	assert_int_equal(c.mark_watch, 0xc0000000u);
	assert_int_equal(c.queue_first, 10);
	assert_int_equal(c.queue_count, 2);
	assert_int_equal(c.queue_length, 1024);
	assert_int_equal(c.copy_range, 4096);
	assert_int_equal(c.batch, 8);
	assert_int_equal(c.max_flows, 1000);
	assert_int_equal(c.idle_timeout_s, 30);
	assert_int_equal(c.max_packets, 10);
	assert_int_equal(c.nlists, 1);
	assert_string_equal(c.lists[0].name, "test");
	assert_int_equal(c.lists[0].format, CG_LIST_DOMAINS);
	assert_int_equal(c.lists[0].line, 4);
	assert_int_equal(c.nblock_lists, 1);
	assert_int_equal(c.nblock_apps, 2);
	assert_string_equal(c.block_apps[1].name, "Tor");
	assert_int_equal(c.block_apps[1].line, 5);
	/* Paths are kept as written and resolved against the config. */
	char *p = cg_config_path(&c, c.lists[0].files[0]);
	assert_string_equal(p, CONF_DIR "/good/../lists/small.domains");
	free(p);
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
	assert_int_equal(c.mark_mask, 0x300000);
	assert_int_equal(c.mark_allow, 0x100000);
	assert_int_equal(c.mark_block, 0x200000);
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	assert_int_equal(c.queue_count, cpus > 64 ? 64 : cpus);
	assert_int_equal(c.copy_range, 65535);
	assert_null(c.events_file);
	assert_string_equal(c.lan, "");
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
		assert_true(d.v[i].line == 1 || d.v[i].line == 2 ||
			    d.v[i].line == 3);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(full_config),
		cmocka_unit_test(defaults),
		cmocka_unit_test(every_error_reported),
		cmocka_unit_test(missing_file),
		cmocka_unit_test(suggestions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
