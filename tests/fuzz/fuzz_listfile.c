/*
 * Fuzzes the list parser two ways: every line of the input through
 * cg_listfile_parse_line in every format, and the whole input as a file
 * through cg_listfile_load (via a memfd, so no disk is touched) into a
 * domain set of each kind.  Besides memory errors it checks what the
 * callers rely on: names handed over are canonical, digests are lower-case
 * hex of the kind's length, skip reasons and counters add up, and every
 * entry the parser yields for a line is in the set the loader builds.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cafeguard/domainset.h"
#include "cafeguard/listfile.h"
#include "../unit/domainset_ref.h"
#include "cafeguard/name.h"

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c)) {                                                    \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
				__LINE__, #c);                                 \
			abort();                                               \
		}                                                              \
	} while (0)

struct names {
	char (*v)[CG_NAME_BUF];
	uint8_t *kind;
	size_t n, cap;
	bool keep; /* collect, or only check */
};

static bool lower_hex(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static int keep(struct names *nm, enum cg_digest kind, const char *text,
		size_t len)
{
	if (nm->n == nm->cap) {
		size_t cap = nm->cap ? nm->cap * 2 : 64;
		void *v = realloc(nm->v, cap * sizeof(*nm->v));
		if (!v)
			return -1;
		nm->v = v;
		uint8_t *k = realloc(nm->kind, cap);
		if (!k)
			return -1;
		nm->kind = k;
		nm->cap = cap;
	}
	nm->kind[nm->n] = (uint8_t)kind;
	memcpy(nm->v[nm->n++], text, len + 1);
	return 0;
}

static int on_name(void *ctx, enum cg_digest kind, const char *canon,
		   size_t len)
{
	struct names *nm = ctx;
	CHECK(kind < CG_DIGEST__COUNT);
	if (kind != CG_DIGEST_NONE) {
		CHECK(len == 2 * cg_digest_size(kind) && strlen(canon) == len);
		CHECK(lower_hex(canon, len));
		return nm->keep ? keep(nm, kind, canon, len) : 0;
	}
	char again[CG_NAME_BUF];
	size_t alen;
	CHECK(len >= 1 && len <= CG_NAME_MAX && strlen(canon) == len);
	CHECK(cg_name_canon(canon, len, again, &alen) == CG_NAME_OK);
	CHECK(alen == len && !memcmp(again, canon, len));

	struct cg_name_hashes nh;
	cg_domainset_hash_name(canon, len, &nh);
	CHECK(nh.n >= 1 && nh.h[0] == cg_domainset_hash(canon, len));
	CHECK(nh.off[0] == 0 && nh.h[0] == ref_hash(canon, len));
	for (unsigned i = 1; i < nh.n; i++)
		CHECK(canon[nh.off[i] - 1] == '.' &&
		      nh.h[i] == ref_hash(canon + nh.off[i], len - nh.off[i]));

	return nm->keep ? keep(nm, kind, canon, len) : 0;
}

static unsigned hexv(char c)
{
	return c <= '9' ? (unsigned)(c - '0') : (unsigned)(c - 'a' + 10);
}

static void parse_lines(const uint8_t *data, size_t size,
			enum cg_list_format fmt, struct names *nm)
{
	/* As the loader does: a UTF-8 byte order mark is not text. */
	if (size >= 3 && !memcmp(data, "\xef\xbb\xbf", 3)) {
		data += 3;
		size -= 3;
	}
	const char *p = (const char *)data, *end = p + size;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		enum cg_list_skip why = CG_SKIP__COUNT;
		enum cg_list_line r =
		    cg_listfile_parse_line(p, len, fmt, on_name, nm, &why);
		CHECK(r == CG_LINE_EMPTY || r == CG_LINE_ENTRY ||
		      r == CG_LINE_SKIPPED || r == CG_LINE_ABORTED);
		if (r == CG_LINE_SKIPPED)
			CHECK(why < CG_SKIP__COUNT);
		p += len + 1;
	}
}

static char *input_file(const uint8_t *data, size_t size, int *fd)
{
	static const char tmpl[] = "/tmp/fuzz_listfile_XXXXXX";
	char *path = malloc(sizeof(tmpl) + 32);
	if (!path)
		return NULL;
	*fd = memfd_create("fuzz_listfile", MFD_CLOEXEC);
	if (*fd >= 0) {
		snprintf(path, sizeof(tmpl) + 32, "/proc/self/fd/%d", *fd);
	} else {
		memcpy(path, tmpl, sizeof(tmpl));
		*fd = mkstemp(path);
		if (*fd < 0) {
			free(path);
			return NULL;
		}
		unlink(path); /* reopened through /proc, like the memfd */
		snprintf(path, sizeof(tmpl) + 32, "/proc/self/fd/%d", *fd);
	}
	size_t off = 0;
	while (off < size) {
		ssize_t w = write(*fd, data + off, size - off);
		if (w <= 0) {
			close(*fd);
			free(path);
			return NULL;
		}
		off += (size_t)w;
	}
	return path;
}

static void load_and_check(const char *path, const uint8_t *data, size_t size,
			   enum cg_list_format fmt)
{
	struct cg_domainset_builder *b[CG_DIGEST__COUNT];
	size_t built = 0;
	for (int k = 0; k < CG_DIGEST__COUNT; k++)
		b[k] = cg_domainset_builder_new();
	for (int k = 0; k < CG_DIGEST__COUNT; k++) {
		if (!b[k]) {
			for (int j = 0; j < CG_DIGEST__COUNT; j++)
				cg_domainset_builder_free(b[j]);
			return;
		}
	}
	struct cg_diag d = {0};
	struct cg_listfile_stats st;
	int rc = cg_listfile_load(path, fmt, b, 7, &d, &st);

	size_t sum = 0;
	for (int k = 0; k < CG_SKIP__COUNT; k++)
		sum += st.skipped_by[k];
	CHECK(sum == st.skipped);
	for (int k = 0; k < CG_DIGEST__COUNT; k++)
		built += cg_domainset_builder_count(b[k]);
	CHECK(st.entries == built);
	CHECK(st.skipped <= st.lines);
	CHECK((rc < 0) == (d.errors > 0));
	CHECK(d.errors <= 1);
	if (rc == 0)
		CHECK(d.n ==
		      (st.skipped ? 1 + (st.skipped < CG_LISTFILE_REPORT_MAX
					     ? st.skipped
					     : CG_LISTFILE_REPORT_MAX)
				  : 0));

	struct cg_error err;
	struct cg_domainset *s[CG_DIGEST__COUNT];
	bool all = true;
	for (int k = 0; k < CG_DIGEST__COUNT; k++) {
		s[k] = cg_domainset_build(b[k], &err);
		all = all && s[k];
	}
	if (all && rc == 0) {
		/* Every entry of every line is in the set of its kind, with
		 * this source. */
		struct names nm = {.keep = true};
		parse_lines(data, size, fmt, &nm);
		for (size_t i = 0; i < nm.n; i++) {
			struct cg_domain_match m;
			const char *t = nm.v[i];
			if (nm.kind[i] == CG_DIGEST_NONE) {
				CHECK(cg_domainset_lookup_name(s[0], t,
							       strlen(t), &m));
			} else {
				uint8_t dg[8];
				for (int j = 0; j < 8; j++)
					dg[j] = (uint8_t)(hexv(t[2 * j]) << 4 |
							  hexv(t[2 * j + 1]));
				struct cg_name_hashes nh = {.n = 1};
				nh.h[0] = cg_domainset_digest_key(dg);
				CHECK(cg_domainset_lookup(s[nm.kind[i]], &nh,
							  &m));
			}
			CHECK(m.source == 7 && m.line >= 1 &&
			      m.line <= st.lines);
		}
		free(nm.v);
		free(nm.kind);
	}
	for (int k = 0; k < CG_DIGEST__COUNT; k++)
		cg_domainset_free(s[k]);
	cg_diag_clear(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum cg_list_format fmts[] = {
	    CG_LIST_AUTO, CG_LIST_HOSTS, CG_LIST_DOMAINS, CG_LIST_ADBLOCK,
	    CG_LIST_HASHED};
	enum { NFMT = sizeof(fmts) / sizeof(*fmts) };

	for (size_t f = 0; f < NFMT; f++) {
		struct names nm = {.keep = false};
		parse_lines(data, size, fmts[f], &nm);
	}

	int fd;
	char *path = input_file(data, size, &fd);
	if (!path)
		return 0;
	/* Every format would be four times the time per input for little
	 * more: the first byte picks one, auto most often. */
	enum cg_list_format fmt = size ? fmts[data[0] % NFMT] : CG_LIST_AUTO;
	load_and_check(path, data, size, fmt);
	if (fmt != CG_LIST_AUTO)
		load_and_check(path, data, size, CG_LIST_AUTO);
	close(fd);
	free(path);
	return 0;
}
