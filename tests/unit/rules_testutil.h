/*
 * Test helper: a rule set built the real way (a config file and its list
 * files written to a temporary directory, loaded by config, built by
 * rules), so unit tests exercise the same path as the daemon.
 */
#ifndef CAFEGUARD_RULES_TESTUTIL_H
#define CAFEGUARD_RULES_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cafeguard/rules.h"

#define TR_FILES_MAX 8

struct test_rules {
	char dir[64];
	const char *files[TR_FILES_MAX + 1]; /* written, to remove */
	size_t nfiles;
	struct cg_config cfg;
	struct cg_rules *r;
	struct cg_classifier *names;
};

static inline void tr_put(struct test_rules *t, const char *name,
			  const char *text)
{
	assert_true(t->nfiles < TR_FILES_MAX + 1);
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", t->dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	t->files[t->nfiles++] = name;
}

/* lists: pairs of file name and contents, ending with NULL; conf: the
 * configuration, written as rules.conf beside them. */
static inline struct test_rules *tr_build(const char *const *lists,
					  const char *conf)
{
	struct test_rules *t = calloc(1, sizeof(*t));
	assert_non_null(t);
	snprintf(t->dir, sizeof(t->dir), "/tmp/cg-rules-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	for (size_t i = 0; lists && lists[i]; i += 2)
		tr_put(t, lists[i], lists[i + 1]);
	tr_put(t, "rules.conf", conf);
	struct cg_error err;
	t->names = cg_classifier_new(0, &err);
	assert_non_null(t->names);
	char path[128];
	snprintf(path, sizeof(path), "%s/rules.conf", t->dir);
	struct cg_diag d = {0};
	int rc = cg_config_load(path, &t->cfg, &d);
	if (rc == 0)
		t->r = cg_rules_build(&t->cfg, t->names, false, &d);
	cg_diag_print(&d, stderr);
	cg_diag_clear(&d);
	assert_int_equal(rc, 0);
	assert_non_null(t->r);
	return t;
}

static inline void tr_free(struct test_rules *t)
{
	if (!t)
		return;
	cg_rules_free(t->r);
	cg_config_free(&t->cfg);
	cg_classifier_free(t->names);
	for (size_t i = 0; i < t->nfiles; i++) {
		char p[128];
		snprintf(p, sizeof(p), "%s/%s", t->dir, t->files[i]);
		unlink(p);
	}
	rmdir(t->dir);
	free(t);
}

#endif
