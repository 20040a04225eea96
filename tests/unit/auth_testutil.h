/*
 * The fixture the auth tests share: a temporary folder holding a
 * password file with the hash of PW, and small helpers.
 */
#ifndef CG_AUTH_TESTUTIL_H
#define CG_AUTH_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/crypto.h>

#include "cafeguard/auth.h"

#define T0 INT64_C(1795446000) /* 2026-11-23 15:00 UTC */
#define PW "correct horse battery"

struct fixture {
	char dir[64];
	char file[96]; /* holds the hash of PW */
	char line[CG_AUTH_LINE_MAX];
};

static inline int setup(void **state)
{
	static struct fixture f;
	struct cg_error err;
	snprintf(f.dir, sizeof(f.dir), "/tmp/cg_test_auth.XXXXXX");
	if (!mkdtemp(f.dir))
		return -1;
	snprintf(f.file, sizeof(f.file), "%s/admin.pw", f.dir);
	if (cg_auth_hash_password(PW, f.line, sizeof(f.line), &err) < 0 ||
	    cg_auth_write_file(f.file, f.line, &err) < 0)
		return -1;
	*state = &f;
	return 0;
}

static inline int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	return system(cmd) == 0 ? 0 : -1;
}

static inline struct cg_auth *open_auth(void **state)
{
	struct fixture *f = *state;
	struct cg_error err;
	struct cg_auth *a = cg_auth_new(f->file, &err);
	assert_non_null(a);
	assert_true(cg_auth_has_password(a));
	return a;
}

static inline void addr4(uint8_t out[16], uint8_t last)
{
	memset(out, 0, 16);
	out[0] = 192;
	out[1] = 168;
	out[2] = 50;
	out[3] = last;
}

static inline double ms_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 +
	       (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

#endif
