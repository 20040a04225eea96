/*
 * A site directory read whole into memory: templates, translations and
 * the few static files the pages link.  Parsing is www_lang.c and
 * www_template.c; this file is the directory and the files in it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "www_internal.h"

static const char *const tmpl_names[CG_WWW__PAGES + 1] = {
    "splash.html", "block.html", "status.html", "error.html", "layout.html"};

static const struct {
	const char *ext;
	const char *mime;
} mimes[] = {
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
};

void cg_www_free(struct cg_www *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->nlangs; i++)
		www_lang_free(&w->langs[i]);
	for (size_t i = 0; i <= CG_WWW__PAGES; i++)
		www_tmpl_free(&w->tmpl[i]);
	for (size_t i = 0; i < w->nfiles; i++) {
		free(w->files[i].name);
		free(w->files[i].data);
	}
	free(w->files);
	free(w->langs);
	free(w->tags);
	free(w->keys);
	free(w->cats);
	free(w);
}

/* Notepad saves UTF-8 with a byte-order mark; libconfig would call it a
 * syntax error and a page would carry it into its body. */
static struct www_source no_bom(struct www_source s)
{
	if (s.text && s.len >= 3 && !memcmp(s.text, "\xef\xbb\xbf", 3)) {
		s.text += 3;
		s.len -= 3;
	}
	return s;
}

int www_load_mem(const struct www_source *langs, size_t nlangs,
		 const struct www_source tmpl[CG_WWW__PAGES + 1],
		 struct cg_www **out, struct cg_diag *d)
{
	size_t before = d->errors;
	*out = NULL;
	struct cg_www *w = calloc(1, sizeof(*w));
	if (w) {
		w->langs = calloc(nlangs + 1, sizeof(*w->langs));
		w->tags = calloc(nlangs + 1, sizeof(*w->tags));
	}
	if (!w || !w->langs || !w->tags || !nlangs) {
		cg_diag_add(d, CG_SEV_ERROR, nlangs ? langs[0].file : NULL, 0,
			    nlangs ? "out of memory" : "no languages");
		cg_www_free(w);
		return -1;
	}
	for (size_t i = 0; i < nlangs; i++, w->nlangs++) {
		struct www_lang *l = &w->langs[i];
		struct www_source src = no_bom(langs[i]);
		l->tag = strdup(langs[i].tag);
		l->file = strdup(langs[i].file);
		w->tags[i] = l->tag;
		if (!l->tag || !l->file)
			cg_diag_add(d, CG_SEV_ERROR, langs[i].file, 0,
				    "out of memory");
		else
			www_lang_parse(l, src.text, src.len, d);
	}
	/* Templates name keys of the default language, so they are only
	 * checked against a whole one. */
	if (d->errors == before && www_langs_link(w, d) == 0) {
		for (unsigned p = 0; p <= CG_WWW__PAGES; p++) {
			struct www_source t = no_bom(tmpl[p]);
			if (!t.text)
				continue; /* unreadable: already reported */
			w->tmpl[p].file = strdup(tmpl[p].file);
			if (!w->tmpl[p].file)
				cg_diag_add(d, CG_SEV_ERROR, tmpl[p].file, 0,
					    "out of memory");
			else
				www_tmpl_compile(w, &w->tmpl[p], p, t.text,
						 t.len, d);
		}
	}
	if (d->errors > before) {
		cg_www_free(w);
		return -1;
	}
	*out = w;
	return 0;
}

static char *join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + 1 + strlen(name) + 1;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

/* The whole of a regular file of at most WWW_MAX_FILE bytes, with a NUL
 * after it; NULL with the problem reported. */
static char *read_file(const char *path, size_t *len, struct cg_diag *d)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		cg_diag_add(d, CG_SEV_ERROR, path, 0, "cannot open: %s",
			    strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		cg_diag_add(d, CG_SEV_ERROR, path, 0, "not a regular file");
		close(fd);
		return NULL;
	}
	if (st.st_size > (off_t)WWW_MAX_FILE) {
		cg_diag_add(d, CG_SEV_ERROR, path, 0,
			    "%lld bytes: larger than the %u a site file may "
			    "have",
			    (long long)st.st_size, WWW_MAX_FILE);
		close(fd);
		return NULL;
	}
	char *buf = malloc((size_t)st.st_size + 1);
	size_t n = 0;
	while (buf && n < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (!buf || n != (size_t)st.st_size) {
		cg_diag_add(d, CG_SEV_ERROR, path, 0, "cannot read: %s",
			    buf ? "the file changed while read" : "no memory");
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

static bool plain_name(const char *s)
{
	if (!s[0] || s[0] == '.')
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' ||
		      *s == '-'))
			return false;
	return true;
}

static const char *mime_of(const char *name)
{
	const char *dot = strrchr(name, '.');
	for (size_t i = 0; dot && i < sizeof(mimes) / sizeof(mimes[0]); i++)
		if (!strcmp(dot, mimes[i].ext))
			return mimes[i].mime;
	return NULL;
}

static int cmp_file(const void *a, const void *b)
{
	return strcmp(((const struct www_file *)a)->name,
		      ((const struct www_file *)b)->name);
}

static void add_static(struct cg_www *w, const char *dir, const char *name,
		       struct cg_diag *d)
{
	char *path = join(dir, name);
	size_t len = 0;
	char *data = path ? read_file(path, &len, d) : NULL;
	char *dup = data ? strdup(name) : NULL;
	if (data && !dup)
		cg_diag_add(d, CG_SEV_ERROR, path, 0, "out of memory");
	if (dup && w->nfiles == WWW_MAX_FILES)
		cg_diag_add(d, CG_SEV_ERROR, path, 0,
			    "more than %u static files in the site",
			    WWW_MAX_FILES);
	if (dup && w->nfiles < WWW_MAX_FILES) {
		w->files[w->nfiles++] =
		    (struct www_file){dup, (uint8_t *)data, len, mime_of(name)};
		data = dup = NULL;
	}
	free(dup);
	free(data);
	free(path);
}

/* Only files directly in the site directory, with a type a page links,
 * are ever served: the templates and translations stay private. */
static void load_static(struct cg_www *w, const char *dir, struct cg_diag *d)
{
	DIR *dh = opendir(dir);
	if (!dh) {
		cg_diag_add(d, CG_SEV_ERROR, dir, 0, "cannot open: %s",
			    strerror(errno));
		return;
	}
	w->files = calloc(WWW_MAX_FILES, sizeof(*w->files));
	for (struct dirent *e; w->files && (e = readdir(dh));)
		if (plain_name(e->d_name) && mime_of(e->d_name))
			add_static(w, dir, e->d_name, d);
	closedir(dh);
	if (!w->files)
		cg_diag_add(d, CG_SEV_ERROR, dir, 0, "out of memory");
	else
		qsort(w->files, w->nfiles, sizeof(*w->files), cmp_file);
}

/* The translations found in dir/lang, the default first. */
struct lang_files {
	struct www_source src[WWW_MAX_LANGS];
	size_t n;
	bool has_default;
};

static bool tag_name(const char *s, size_t n)
{
	if (!n || n > 35 ||
	    !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return s[n - 1] != '-' && !strstr(s, "--");
}

static int cmp_src(const void *a, const void *b)
{
	return strcmp(((const struct www_source *)a)->tag,
		      ((const struct www_source *)b)->tag);
}

static void add_lang(struct lang_files *f, const char *ldir, const char *name,
		     size_t taglen, struct cg_diag *d)
{
	char *path = join(ldir, name);
	if (!path) {
		cg_diag_add(d, CG_SEV_ERROR, ldir, 0, "out of memory");
		return;
	}
	if (!tag_name(name, taglen)) {
		cg_diag_add(d, CG_SEV_ERROR, path, 0,
			    "not named for a language (like en.conf, "
			    "pt-BR.conf or th.conf)");
		free(path);
		return;
	}
	if (f->n == WWW_MAX_LANGS) {
		cg_diag_add(d, CG_SEV_ERROR, path, 0, "more than %u languages",
			    WWW_MAX_LANGS);
		free(path);
		return;
	}
	size_t len = 0;
	char *text = read_file(path, &len, d);
	char *tag = strndup(name, taglen);
	if (!text || !tag) {
		if (text)
			cg_diag_add(d, CG_SEV_ERROR, path, 0, "out of memory");
		free(text);
		free(tag);
		free(path);
		return;
	}
	f->src[f->n++] = (struct www_source){path, tag, text, len};
}

static void read_langs(const char *dir, const char *def, struct lang_files *f,
		       struct cg_diag *d)
{
	char *ldir = join(dir, "lang");
	DIR *dh = ldir ? opendir(ldir) : NULL;
	if (!dh) {
		cg_diag_add(d, CG_SEV_ERROR, ldir ? ldir : dir, 0,
			    "cannot open: %s",
			    ldir ? strerror(errno) : "out of memory");
		free(ldir);
		return;
	}
	for (struct dirent *e; (e = readdir(dh));) {
		size_t n = strlen(e->d_name);
		if (e->d_name[0] != '.' && n > 5 &&
		    !strcmp(e->d_name + n - 5, ".conf"))
			add_lang(f, ldir, e->d_name, n - 5, d);
	}
	closedir(dh);
	qsort(f->src, f->n, sizeof(f->src[0]), cmp_src);
	for (size_t i = 0; i < f->n && !f->has_default; i++) {
		if (strcasecmp(f->src[i].tag, def))
			continue;
		struct www_source t = f->src[i];
		memmove(&f->src[1], &f->src[0], i * sizeof(t));
		f->src[0] = t;
		f->has_default = true;
	}
	if (!f->has_default)
		cg_diag_add(d, CG_SEV_ERROR, ldir, 0,
			    "no %s.conf: the default language needs a "
			    "translation file",
			    def);
	free(ldir);
}

/* Without a default language nothing links, but a café fixing its
 * files wants every syntax error at once. */
static void parse_alone(const struct lang_files *f, struct cg_diag *d)
{
	for (size_t i = 0; i < f->n; i++) {
		struct www_lang l = {0};
		l.file = strdup(f->src[i].file);
		if (l.file)
			www_lang_parse(&l, f->src[i].text, f->src[i].len, d);
		www_lang_free(&l);
	}
}

static char *dir_name(const char *dir)
{
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	return strndup(dir, n);
}

int cg_www_load(const char *dir, const char *default_lang, struct cg_www **out,
		struct cg_diag *d)
{
	size_t before = d->errors;
	*out = NULL;
	struct stat st;
	int rc = stat(dir, &st);
	if (rc < 0 || !S_ISDIR(st.st_mode)) {
		cg_diag_add(d, CG_SEV_ERROR, dir, 0, "cannot open the site: %s",
			    rc < 0 ? strerror(errno) : "not a directory");
		return -1;
	}
	char *base = dir_name(dir);
	if (!base) {
		cg_diag_add(d, CG_SEV_ERROR, dir, 0, "out of memory");
		return -1;
	}
	struct lang_files lf = {.n = 0};
	read_langs(base, default_lang ? default_lang : "en", &lf, d);
	struct www_source tmpl[CG_WWW__PAGES + 1];
	for (size_t p = 0; p <= CG_WWW__PAGES; p++) {
		char *path = join(base, tmpl_names[p]);
		size_t len = 0;
		char *text = path ? read_file(path, &len, d) : NULL;
		tmpl[p] = (struct www_source){path, NULL, text, len};
	}
	struct cg_www *w = NULL;
	if (lf.has_default)
		www_load_mem(lf.src, lf.n, tmpl, &w, d);
	else
		parse_alone(&lf, d);
	if (w) {
		load_static(w, base, d);
	} else {
		struct cg_www none = {.nfiles = 0};
		load_static(&none, base, d);
		for (size_t i = 0; i < none.nfiles; i++) {
			free(none.files[i].name);
			free(none.files[i].data);
		}
		free(none.files);
	}
	for (size_t i = 0; i < lf.n; i++) {
		free((char *)lf.src[i].file);
		free((char *)lf.src[i].tag);
		free((char *)lf.src[i].text);
	}
	for (size_t p = 0; p <= CG_WWW__PAGES; p++) {
		free((char *)tmpl[p].file);
		free((char *)tmpl[p].text);
	}
	free(base);
	if (d->errors > before) {
		cg_www_free(w);
		return -1;
	}
	*out = w;
	return 0;
}

size_t cg_www_langs(const struct cg_www *w, const char *const **tags)
{
	*tags = w->tags;
	return w->nlangs;
}

bool cg_www_static(const struct cg_www *w, const char *path,
		   const uint8_t **data, size_t *len, const char **mime)
{
	/* Exactly "/<name>": no query, no folder, nothing to resolve; the
	 * names compared were read from the directory itself. */
	if (!w || !path || path[0] != '/' || !plain_name(path + 1))
		return false;
	for (size_t i = 0; i < w->nfiles; i++) {
		const struct www_file *f = &w->files[i];
		if (strcmp(f->name, path + 1))
			continue;
		*data = f->data;
		*len = f->len;
		*mime = f->mime;
		return true;
	}
	return false;
}
