/*
 * Folders of lists (cg_listfile_expand, declared in listfile.h): which
 * files a configured path stands for.  Kept apart from listfile.c, the
 * line parser and loader, so that each reads in one sitting.
 */
#include "cafeguard/listfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n > k && !strcmp(s + n - k, suffix);
}

/* "domains", "domains.0", ... and the extensions lists are published
 * with; UT1's urls (URL prefixes), expressions (regexes) and usage (a
 * description) are not host lists. */
static bool is_list_name(const char *name)
{
	static const char *const ext[] = {".txt", ".list", ".hosts",
					  ".domains"};
	if (name[0] == '.')
		return false;
	if (!strncmp(name, "domains", 7)) {
		const char *p = name + 7;
		if (*p == '.' && p[1]) {
			while (*++p >= '0' && *p <= '9')
				;
		}
		if (!*p)
			return true;
	}
	for (size_t i = 0; i < sizeof(ext) / sizeof(*ext); i++)
		if (ends_with(name, ext[i]))
			return true;
	return false;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void cg_listfile_expand_free(char **files, size_t nfiles)
{
	if (!files)
		return;
	for (size_t i = 0; i < nfiles; i++)
		free(files[i]);
	free(files);
}

/* Appends s (taken over) to a growing array of strings. */
static int push(char ***v, size_t *n, size_t *cap, char *s)
{
	if (!s)
		return -1;
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		char **nv = realloc(*v, nc * sizeof(*nv));
		if (!nv) {
			free(s);
			return -1;
		}
		*v = nv;
		*cap = nc;
	}
	(*v)[(*n)++] = s;
	return 0;
}

static char *join(const char *dir, const char *name)
{
	size_t dl = strlen(dir);
	bool slash = dl && dir[dl - 1] == '/';
	char *p = malloc(dl + strlen(name) + 2);
	if (p)
		sprintf(p, "%s%s%s", dir, slash ? "" : "/", name);
	return p;
}

/* The note naming what a folder held besides lists (sorted, so the note
 * reads the same on every load). */
static void note_skipped(struct cg_diag *d, const char *path, char **v,
			 size_t n)
{
	if (!n)
		return;
	qsort(v, n, sizeof(*v), by_name);
	char list[256];
	size_t o = 0;
	list[0] = '\0';
	size_t shown = 0;
	for (; shown < n; shown++) {
		size_t need = strlen(v[shown]) + 2;
		if (o + need + 16 >= sizeof(list))
			break;
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s",
				      shown ? ", " : "", v[shown]);
	}
	if (shown < n)
		snprintf(list + o, sizeof(list) - o, " and %zu more",
			 n - shown);
	cg_diag_add(d, CG_SEV_NOTE, path, 0,
		    "skipped %zu entr%s that %s not domain lists: %s", n,
		    n == 1 ? "y" : "ies", n == 1 ? "is" : "are", list);
}

static int expand_dir(const char *path, int fd, char ***files, size_t *nfiles,
		      struct cg_diag *d)
{
	DIR *dir = fdopendir(fd);
	if (!dir) {
		cg_diag_add(d, CG_SEV_ERROR, path, 0, "cannot read folder: %s",
			    strerror(errno));
		close(fd);
		return -1;
	}
	char **v = NULL, **other = NULL;
	size_t n = 0, cap = 0, no = 0, ocap = 0;
	int rc = 0;
	struct dirent *de;
	while (rc == 0 && (errno = 0, de = readdir(dir))) {
		const char *name = de->d_name;
		if (!strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		/* stat, not the d_type hint: a symlink to a list counts. */
		struct stat sb;
		bool reg = fstatat(dirfd(dir), name, &sb, 0) == 0 &&
			   S_ISREG(sb.st_mode);
		if (reg && is_list_name(name))
			rc = push(&v, &n, &cap, join(path, name));
		else
			rc = push(&other, &no, &ocap, strdup(name));
	}
	int e = rc ? ENOMEM : errno;
	closedir(dir);
	if (e) {
		cg_diag_add(d, CG_SEV_ERROR, path, 0, "cannot read folder: %s",
			    strerror(e));
	} else if (!n) {
		cg_diag_add(d, CG_SEV_ERROR, path, 0,
			    "folder has no list files (\"domains\", "
			    "\"domains.N\", *.txt, *.list, *.hosts, "
			    "*.domains)");
	} else {
		note_skipped(d, path, other, no);
		qsort(v, n, sizeof(*v), by_name);
		*files = v;
		*nfiles = n;
	}
	cg_listfile_expand_free(other, no);
	if (e || !n) {
		cg_listfile_expand_free(v, n);
		return -1;
	}
	return 0;
}

int cg_listfile_expand(const char *path, char ***files, size_t *nfiles,
		       struct cg_diag *d)
{
	*files = NULL;
	*nfiles = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	if (fd < 0 || fstat(fd, &sb) < 0) {
		cg_diag_add(d, CG_SEV_ERROR, path, 0, "cannot open list: %s",
			    strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (S_ISDIR(sb.st_mode))
		return expand_dir(path, fd, files, nfiles, d);
	close(fd);
	if (!S_ISREG(sb.st_mode)) {
		cg_diag_add(d, CG_SEV_ERROR, path, 0,
			    "cannot open list: not a regular file or folder");
		return -1;
	}
	char **v = malloc(sizeof(*v));
	char *p = strdup(path);
	if (!v || !p) {
		free(v);
		free(p);
		cg_diag_add(d, CG_SEV_ERROR, path, 0,
			    "cannot open list: out of memory");
		return -1;
	}
	v[0] = p;
	*files = v;
	*nfiles = 1;
	return 0;
}
