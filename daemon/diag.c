#include "cafeguard/diag.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int cg_error_set(struct cg_error *err, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -1;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

void cg_diag_vadd(struct cg_diag *d, enum cg_severity sev, const char *file,
		  unsigned line, const char *fmt, va_list ap)
{
	if (sev == CG_SEV_ERROR)
		d->errors++;
	else if (sev == CG_SEV_WARNING)
		d->warnings++;

	char buf[1024];
	vsnprintf(buf, sizeof(buf), fmt, ap);

	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct cg_diag_entry *v = realloc(d->v, cap * sizeof(*v));
		if (!v) {
			d->lost++;
			return;
		}
		d->v = v;
		d->cap = cap;
	}
	struct cg_diag_entry *e = &d->v[d->n];
	e->sev = sev;
	e->line = line;
	e->file = dup_or_null(file);
	e->msg = strdup(buf);
	if (!e->msg || (file && !e->file)) {
		free(e->file);
		free(e->msg);
		d->lost++;
		return;
	}
	d->n++;
}

void cg_diag_add(struct cg_diag *d, enum cg_severity sev, const char *file,
		 unsigned line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cg_diag_vadd(d, sev, file, line, fmt, ap);
	va_end(ap);
}

static const char *sev_str(enum cg_severity s)
{
	switch (s) {
	case CG_SEV_ERROR:
		return "error";
	case CG_SEV_WARNING:
		return "warning";
	case CG_SEV_NOTE:
		return "note";
	}
	return "?";
}

void cg_diag_print(const struct cg_diag *d, FILE *out)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct cg_diag_entry *e = &d->v[i];
		if (e->file && e->line)
			fprintf(out, "%s:%u: ", e->file, e->line);
		else if (e->file)
			fprintf(out, "%s: ", e->file);
		fprintf(out, "%s: %s\n", sev_str(e->sev), e->msg);
	}
	if (d->lost)
		fprintf(out, "(%zu further messages lost: out of memory)\n",
			d->lost);
}

void cg_diag_clear(struct cg_diag *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].msg);
	}
	free(d->v);
	memset(d, 0, sizeof(*d));
}

static size_t min3(size_t a, size_t b, size_t c)
{
	size_t m = a < b ? a : b;
	return m < c ? m : c;
}

static char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Edit distance counting a swap of two neighbours as one edit ("kdis"
 * for "kids" is the commonest typo), three rows; words are short
 * (setting, app and category names), longer ones are not worth a
 * suggestion. */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 63 || lb > 63)
		return SIZE_MAX;
	size_t rows[3][64];
	size_t *pprev = rows[0], *prev = rows[1], *cur = rows[2];
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = lower(a[i - 1]) != lower(b[j - 1]);
			cur[j] = min3(prev[j] + 1, cur[j - 1] + 1,
				      prev[j - 1] + cost);
			if (i > 1 && j > 1 &&
			    lower(a[i - 1]) == lower(b[j - 2]) &&
			    lower(a[i - 2]) == lower(b[j - 1]) &&
			    pprev[j - 2] + 1 < cur[j])
				cur[j] = pprev[j - 2] + 1;
		}
		size_t *t = pprev;
		pprev = prev;
		prev = cur;
		cur = t;
	}
	return prev[lb];
}

const char *cg_suggest(const char *word, const char *const *candidates,
		       size_t n)
{
	const char *best = NULL;
	size_t best_d = SIZE_MAX;
	for (size_t i = 0; i < n; i++) {
		if (!candidates[i])
			continue;
		size_t dd = distance(word, candidates[i]);
		if (dd < best_d) {
			best_d = dd;
			best = candidates[i];
		}
	}
	/* One edit in a short word, up to a third of a longer one. */
	size_t len = strlen(word);
	size_t limit = len <= 4 ? 1 : (len + 2) / 3;
	return best_d <= limit ? best : NULL;
}
