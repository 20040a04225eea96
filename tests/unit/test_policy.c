#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "cafeguard/policy.h"

/* Two lists, "adult" then "gambling", both blocking; "unused" defined
 * but not blocking.  App ids are arbitrary numbers: the policy does not
 * know nDPI. */
#define APP_TLS 91
#define APP_TOR 163
#define APP_BT 37
#define APP_GOOGLE 126

static struct cg_domainset *set_of(const char *const *names, size_t n)
{
	struct cg_domainset_builder *b = cg_domainset_builder_new();
	for (size_t i = 0; i < n; i++)
		assert_int_equal(cg_domainset_builder_add(b, names[i],
							  strlen(names[i]), 0,
							  (uint32_t)(i + 1),
							  NULL),
				 0);
	struct cg_error err;
	struct cg_domainset *s = cg_domainset_build(b, &err);
	assert_non_null(s);
	return s;
}

static int setup(void **state)
{
	static const char *adult[] = {"blocked.test", "www.other.test"};
	static const char *gambling[] = {"blocked.test", "bets.test"};
	static const char *unused[] = {"allowed.test"};
	struct cg_rules *r = calloc(1, sizeof(*r));
	r->nlists = 3;
	r->lists = calloc(3, sizeof(*r->lists));
	const char *names[3] = {"adult", "gambling", "unused"};
	for (int i = 0; i < 3; i++) {
		r->lists[i].name = strdup(names[i]);
		r->lists[i].files = calloc(1, sizeof(char *));
		r->lists[i].files[0] = strdup("lists/x.txt");
		r->lists[i].nfiles = 1;
	}
	r->lists[0].set = set_of(adult, 2);
	r->lists[1].set = set_of(gambling, 2);
	r->lists[2].set = set_of(unused, 1);
	r->block = calloc(2, sizeof(size_t));
	r->block[0] = 0;
	r->block[1] = 1;
	r->nblock = 2;
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	cg_rules_free(*state);
	return 0;
}

struct tcase {
	const char *what;
	const char *host;
	bool host_pending;
	uint16_t master, proto;
	bool app_known, final;
	bool block_apps; /* rules block Tor and BitTorrent */
	enum cg_outcome want;
	enum cg_reason reason;
	const char *list;     /* for CG_REASON_LIST */
	const char *entry;    /* host + suffix */
	uint32_t line;
};

static const struct tcase cases[] = {
	{"listed name blocks at once, nothing else known", "blocked.test",
	 false, 0, 0, false, false, false, CG_BLOCK, CG_REASON_LIST, "adult",
	 "blocked.test", 1},
	{"subdomain of a listed name blocks", "a.b.blocked.test", false, 0, 0,
	 false, false, false, CG_BLOCK, CG_REASON_LIST, "adult",
	 "blocked.test", 1},
	{"look-alike is not a subdomain", "notblocked.test", false, 0, 0, true,
	 false, false, CG_ALLOW, CG_REASON_NOT_LISTED, NULL, NULL, 0},
	{"parent of a listed name is not blocked", "other.test", false, 0, 0,
	 true, false, false, CG_ALLOW, CG_REASON_NOT_LISTED, NULL, NULL, 0},
	{"first blocking list in config order names the block",
	 "x.blocked.test", false, 0, 0, true, false, false, CG_BLOCK,
	 CG_REASON_LIST, "adult", "blocked.test", 1},
	{"second list blocks what the first lacks", "www.bets.test", false, 0,
	 0, true, false, false, CG_BLOCK, CG_REASON_LIST, "gambling",
	 "bets.test", 2},
	{"a list nothing blocks with does not block", "allowed.test", false, 0,
	 0, true, false, false, CG_ALLOW, CG_REASON_NOT_LISTED, NULL, NULL,
	 0},
	{"name known, no app rules: allow without waiting for nDPI",
	 "allowed.test", false, 0, 0, false, false, false, CG_ALLOW,
	 CG_REASON_NOT_LISTED, NULL, NULL, 0},
	{"name known, app rules, app unknown: wait", "allowed.test", false, 0,
	 0, false, false, true, CG_PENDING, CG_REASON_NONE, NULL, NULL, 0},
	{"name known, app rules, app known and allowed", "allowed.test", false,
	 APP_TLS, APP_GOOGLE, true, false, true, CG_ALLOW,
	 CG_REASON_NOT_LISTED, NULL, NULL, 0},
	{"blocked app by its own id", NULL, false, APP_BT, APP_BT, true, false,
	 true, CG_BLOCK, CG_REASON_APP, NULL, NULL, 0},
	{"blocked app as master of a sub-protocol (TLS.Tor)", NULL, false,
	 APP_TOR, APP_TLS, true, false, true, CG_BLOCK, CG_REASON_APP, NULL,
	 NULL, 0},
	{"blocked app as sub-protocol (TLS.Tor)", "www.x.test", false, APP_TLS,
	 APP_TOR, true, false, true, CG_BLOCK, CG_REASON_APP, NULL, NULL, 0},
	{"a parser still reading a name: wait", NULL, true, APP_TLS, APP_TLS,
	 true, false, false, CG_PENDING, CG_REASON_NONE, NULL, NULL, 0},
	{"a parser still reading, but no more packets: allow", NULL, true,
	 APP_TLS, APP_TLS, true, true, false, CG_ALLOW, CG_REASON_NO_NAME,
	 NULL, NULL, 0},
	{"no name, app known: allow", NULL, false, APP_TLS, APP_TLS, true,
	 false, false, CG_ALLOW, CG_REASON_NO_NAME, NULL, NULL, 0},
	{"no name, app unknown: wait", NULL, false, 0, 0, false, false, false,
	 CG_PENDING, CG_REASON_NONE, NULL, NULL, 0},
	{"no name, gave up: allow", NULL, false, 0, 0, false, true, true,
	 CG_ALLOW, CG_REASON_NO_NAME, NULL, NULL, 0},
	{"listed name blocks even while the app is unknown", "bets.test",
	 false, 0, 0, false, false, true, CG_BLOCK, CG_REASON_LIST,
	 "gambling", "bets.test", 2},
	{"punycode names are compared as punycode", "xn--mnich-kva.com",
	 false, 0, 0, true, false, false, CG_ALLOW, CG_REASON_NOT_LISTED,
	 NULL, NULL, 0},
};

static void table(void **state)
{
	const struct cg_rules *base = *state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct tcase *c = &cases[i];
		struct cg_rules r = *base;
		if (c->block_apps) {
			r.block_apps[APP_TOR / 8] |= 1u << (APP_TOR % 8);
			r.block_apps[APP_BT / 8] |= 1u << (APP_BT % 8);
			r.nblock_apps = 2;
			r.needs_app = true;
		}
		struct cg_facts f = {
			.host = c->host,
			.host_len = c->host ? strlen(c->host) : 0,
			.host_pending = c->host_pending,
			.app_master = c->master,
			.app_proto = c->proto,
			.app_known = c->app_known,
			.final = c->final,
		};
		struct cg_decision d;
		cg_policy_decide(&r, &f, &d);
		print_message("case: %s\n", c->what);
		assert_int_equal(d.outcome, c->want);
		assert_int_equal(d.reason, c->reason);
		if (c->reason == CG_REASON_LIST) {
			assert_string_equal(d.list->name, c->list);
			assert_string_equal(c->host + d.suffix, c->entry);
			assert_int_equal(d.line, c->line);
			char why[256];
			cg_decision_describe(&d, c->host, NULL, why,
					     sizeof(why));
			assert_non_null(strstr(why, c->entry));
			assert_non_null(strstr(why, "lists/x.txt:"));
		}
		if (c->reason == CG_REASON_APP)
			assert_true(d.app == APP_TOR || d.app == APP_BT);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(table, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
