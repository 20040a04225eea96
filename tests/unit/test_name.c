#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "cafeguard/name.h"

struct ncase {
	const char *in;
	enum cg_name_status want;
	const char *out;
};

static const struct ncase cases[] = {
	{"www.Example.COM", CG_NAME_OK, "www.example.com"},
	{"www.example.com.", CG_NAME_OK, "www.example.com"},
	{"xn--mnich-kva.com", CG_NAME_OK, "xn--mnich-kva.com"},
	{"_dmarc.example.com", CG_NAME_OK, "_dmarc.example.com"},
	{"localhost", CG_NAME_OK, "localhost"},
	{"1.2.3.4.example", CG_NAME_OK, "1.2.3.4.example"},
	{"", CG_NAME_EMPTY, NULL},
	{".", CG_NAME_EMPTY, NULL},
	/* Two trailing dots leave an empty label: no list could match it,
	 * so it must not pass as a name (a filter-evasion trick). */
	{"blocked.test..", CG_NAME_EMPTY_LABEL, NULL},
	{"a..b", CG_NAME_EMPTY_LABEL, NULL},
	{".a", CG_NAME_EMPTY_LABEL, NULL},
	{"a b", CG_NAME_BAD_CHAR, NULL},
	{"a/b", CG_NAME_BAD_CHAR, NULL},
	{"caf\xc3\xa9.test", CG_NAME_BAD_CHAR, NULL},
	{"10.0.0.1", CG_NAME_IP_LITERAL, NULL},
	{"2001:db8::1", CG_NAME_IP_LITERAL, NULL},
	{"[::1]", CG_NAME_IP_LITERAL, NULL},
};

static void canon(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[CG_NAME_BUF];
		size_t n = 0;
		enum cg_name_status st =
			cg_name_canon(cases[i].in, strlen(cases[i].in), out, &n);
		print_message("case \"%s\"\n", cases[i].in);
		assert_int_equal(st, cases[i].want);
		if (st == CG_NAME_OK) {
			assert_string_equal(out, cases[i].out);
			assert_int_equal(n, strlen(cases[i].out));
		}
	}
}

static void lengths(void **state)
{
	(void)state;
	char in[300], out[CG_NAME_BUF];
	size_t n;
	memset(in, 'a', 63);
	assert_int_equal(cg_name_canon(in, 63, out, &n), CG_NAME_OK);
	memset(in, 'a', 64);
	assert_int_equal(cg_name_canon(in, 64, out, &n), CG_NAME_TOO_LONG);
	/* 253 bytes of a.a.a...: the longest name */
	for (int i = 0; i < 253; i++)
		in[i] = i % 2 ? '.' : 'a';
	assert_int_equal(cg_name_canon(in, 253, out, &n), CG_NAME_OK);
	in[253] = 'a';
	in[252] = '.';
	assert_int_equal(cg_name_canon(in, 254, out, &n), CG_NAME_TOO_LONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(canon),
		cmocka_unit_test(lengths),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
