/*
 * Test helper shared by the name readers' unit tests (DNS, HTTP, TLS,
 * QUIC): a payload read whole from tests/data/hostinfo.
 */
#ifndef CAFEGUARD_HOSTINFO_TESTUTIL_H
#define CAFEGUARD_HOSTINFO_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

struct blob {
	uint8_t *b;
	size_t n;
};

/* The file's bytes (at most 64 KiB); the caller frees b. */
static inline struct blob load(const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/hostinfo/%s", CG_TEST_DATA, name);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	struct blob bl = {malloc(65536), 0};
	assert_non_null(bl.b);
	bl.n = fread(bl.b, 1, 65536, f);
	fclose(f);
	assert_true(bl.n > 0);
	return bl;
}

#endif
