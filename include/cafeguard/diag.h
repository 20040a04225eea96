/*
 * diag: how every layer reports errors a user can cause.
 *
 * Convention (the same in every module):
 *  - Loaders of user input (config, lists, rules) take a struct cg_diag and
 *    report *every* problem they find as "file:line: message", then return
 *    -1 (or NULL) if any error was reported.  Warnings never fail a load.
 *  - Runtime operations (sockets, threads, files) return 0 / -1 and put one
 *    human-readable sentence into a struct cg_error.
 *  - The daemon logs what it gets, the CLI prints it; neither guesses.
 */
#ifndef CAFEGUARD_DIAG_H
#define CAFEGUARD_DIAG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#if defined(__GNUC__)
#define CG_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define CG_PRINTF(fmt, args)
#endif

/* One failure of a runtime operation. */
struct cg_error {
	char msg[512];
};

/* Formats msg into err (err may be NULL). Always returns -1 so callers can
 * write `return cg_error_set(err, ...);`. */
int cg_error_set(struct cg_error *err, const char *fmt, ...) CG_PRINTF(2, 3);

enum cg_severity {
	CG_SEV_ERROR,
	CG_SEV_WARNING,
	CG_SEV_NOTE,
};

struct cg_diag_entry {
	enum cg_severity sev;
	unsigned line;  /* 0 when the problem has no line */
	char *file;     /* NULL when the problem has no file */
	char *msg;
};

/*
 * A growing list of diagnostics.  Zero-initialise, use, then
 * cg_diag_clear().  Not thread-safe; one loader owns it at a time.
 */
struct cg_diag {
	struct cg_diag_entry *v;
	size_t n, cap;
	size_t errors, warnings;
	/* Entries that could not be stored (out of memory) are still counted
	 * in errors/warnings so a load can never look clean by accident. */
	size_t lost;
};

void cg_diag_add(struct cg_diag *d, enum cg_severity sev, const char *file,
		 unsigned line, const char *fmt, ...) CG_PRINTF(5, 6);
void cg_diag_vadd(struct cg_diag *d, enum cg_severity sev, const char *file,
		  unsigned line, const char *fmt, va_list ap) CG_PRINTF(5, 0);

/* Prints "file:line: error: msg" lines, one per entry, in report order. */
void cg_diag_print(const struct cg_diag *d, FILE *out);

void cg_diag_clear(struct cg_diag *d);

/*
 * The candidate closest to word (case-insensitive edit distance), if it is
 * close enough to be a likely typo; NULL otherwise.  For "did you mean".
 */
const char *cg_suggest(const char *word, const char *const *candidates,
		       size_t n);

#endif
