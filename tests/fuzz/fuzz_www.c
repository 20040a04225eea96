/*
 * The portal's parsers: Accept-Language, translation files (libconfig
 * and our checks on them) and templates, then rendering whatever loads.
 *
 * Input: text before any section header is an Accept-Language value
 * (and the page values); "==<part>==" lines start the other parts:
 * en (the default language), th, layout, splash, block, status, error.
 * A part not given is the shipped conf/www file, so a seed can change
 * one file and still load a whole site.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../daemon/www_internal.h"

enum {
	P_ACCEPT,
	P_EN,
	P_TH,
	P_LAYOUT,
	P_SPLASH,
	P_BLOCK,
	P_STATUS,
	P_ERROR,
	P__N
};

static const char *const part_names[P__N] = {
    "", "en", "th", "layout", "splash", "block", "status", "error"};
static const char *const shipped_files[P__N] = {
    NULL,	   "lang/en.conf", "lang/th.conf", "layout.html",
    "splash.html", "block.html",   "status.html",  "error.html"};

static char *shipped[P__N];
static size_t shipped_len[P__N];
static struct cg_www *shipped_site;

/* The site next to this file (CMake compiles it by its full path). */
static void read_shipped(void)
{
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s", __FILE__);
	char *cut = strstr(dir, "tests/fuzz/fuzz_www.c");
	if (!cut)
		return;
	snprintf(cut, sizeof(dir) - (size_t)(cut - dir), "conf/www");
	for (int p = P_EN; p < P__N; p++) {
		char path[4200];
		snprintf(path, sizeof(path), "%s/%s", dir, shipped_files[p]);
		FILE *f = fopen(path, "rb");
		if (!f)
			continue;
		shipped[p] = calloc(1, WWW_MAX_FILE + 1);
		if (shipped[p])
			shipped_len[p] = fread(shipped[p], 1, WWW_MAX_FILE, f);
		fclose(f);
	}
	struct cg_diag d = {0};
	cg_www_load(dir, "en", &shipped_site, &d);
	cg_diag_clear(&d);
}

struct part {
	const char *p;
	size_t n;
	int given;
};

static void split(const uint8_t *data, size_t size, struct part *parts)
{
	const char *s = (const char *)data, *end = s + size;
	int cur = P_ACCEPT;
	const char *start = s;
	for (const char *line = s; line < end;) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		const char *next = nl ? nl + 1 : end;
		for (int p = P_EN; p < P__N && line[0] == '='; p++) {
			char hdr[32];
			int w =
			    snprintf(hdr, sizeof(hdr), "==%s==", part_names[p]);
			if ((size_t)(next - line) < (size_t)w ||
			    memcmp(line, hdr, (size_t)w))
				continue;
			parts[cur] =
			    (struct part){start, (size_t)(line - start), 1};
			cur = p;
			start = next;
			break;
		}
		line = next;
	}
	parts[cur] = (struct part){start, (size_t)(end - start), 1};
}

static void render_all(const struct cg_www *w, const char *value)
{
	static const struct cg_www_hotline hl[] = {
	    {"BR", "SaferNet", "https://new.safernet.org.br/", "100"},
	    {"", "Intl", "javascript:x", "+1 (2) 3"},
	};
	struct cg_www_site site = {value, "br", hl, 2};
	struct cg_www_row rows[] = {
	    {value, value, "list", value, value},
	    {"10:00", "", "app-category", "Game", ""},
	    {"10:01", "a.test", "budget", "", ""},
	    {"10:02", "b.test", value, "adult", ""},
	};
	struct cg_www_vars v = {&site, value, value, value, "list",
				value, value, value, value, true,
				rows,  4,     429};
	const char *const *tags;
	size_t n = cg_www_langs(w, &tags);
	for (size_t i = 0; i <= n; i++) {
		for (int p = 0; p < CG_WWW__PAGES; p++) {
			size_t len = 0;
			char *out =
			    cg_www_render(w, (enum cg_www_page)p,
					  i < n ? tags[i] : value, &v, &len);
			if (out && strlen(out) != len)
				abort();
			free(out);
		}
		v.captive = !v.captive;
		v.nrows = v.nrows ? 0 : 4;
		v.status = v.status == 429 ? 7 : 404;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int once;
	if (!once++)
		read_shipped();
	struct part parts[P__N] = {{NULL, 0, 0}};
	split(data, size, parts);
	char *value = strndup(parts[P_ACCEPT].p ? parts[P_ACCEPT].p : "",
			      parts[P_ACCEPT].n);
	if (!value)
		return 0;
	if (shipped_site) {
		cg_www_negotiate(shipped_site, value);
		const uint8_t *b;
		size_t len;
		const char *mime;
		cg_www_static(shipped_site, value, &b, &len, &mime);
	}

	struct www_source src[P__N];
	for (int p = P_EN; p < P__N; p++) {
		const char *t = parts[p].given ? parts[p].p : shipped[p];
		size_t n = parts[p].given ? parts[p].n : shipped_len[p];
		/* NUL-terminated, as the loader reads a file; a NUL inside
		 * stays, for the loader to refuse. */
		char *copy = malloc(n + 1);
		if (copy) {
			if (n)
				memcpy(copy, t, n);
			copy[n] = '\0';
		}
		src[p] =
		    (struct www_source){part_names[p], part_names[p], copy, n};
	}
	struct www_source tmpl[CG_WWW__PAGES + 1] = {
	    src[P_SPLASH], src[P_BLOCK], src[P_STATUS], src[P_ERROR],
	    src[P_LAYOUT]};
	struct cg_www *w = NULL;
	struct cg_diag d = {0};
	bool ready = true;
	for (int p = P_EN; p < P__N; p++)
		ready = ready && src[p].text;
	if (ready && www_load_mem(&src[P_EN], 2, tmpl, &w, &d) == 0) {
		render_all(w, value);
		cg_www_negotiate(w, value);
	}
	FILE *null = fopen("/dev/null", "w");
	if (null) {
		cg_diag_print(&d, null);
		fclose(null);
	}
	cg_diag_clear(&d);
	cg_www_free(w);
	for (int p = P_EN; p < P__N; p++)
		free((char *)src[p].text);
	free(value);
	return 0;
}
