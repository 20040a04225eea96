/*
 * listfile: reads the domain list formats trainers find in the wild into a
 * domain set.
 *
 * Recognised per line (format "auto" accepts any mix in one file):
 *   hosts      "0.0.0.0 a.example b.example"  (any IPv4/IPv6 address first)
 *   domains    "a.example"
 *   adblock    "||a.example^" with optional "$options" (ignored)
 *   wildcard   "*.a.example"
 *   dnsmasq    "server=/a.example/", "address=/a.example/0.0.0.0",
 *              "local=/a.example/"
 * Comments: lines starting with '#' or '!', "[Adblock Plus 2.0]" headers,
 * and trailing " #comment" after an entry.  Blank lines are ignored.
 * CRLF line ends are accepted.
 *
 * Every entry matches its name and all names below it (see domainset.h).
 *
 * A declared format takes only its own lines ("domains" also takes the
 * wildcard and dnsmasq forms); a line that would be an entry in another
 * format is skipped as CG_SKIP_WRONG_FORMAT.
 *
 * Lines that are understood but cannot be applied to host names (AdBlock
 * exceptions "@@", cosmetic "##", URL rules with a path, regular
 * expressions) and lines that are not understood are skipped.  The first
 * few skipped lines of a file are reported as warnings with file:line; a
 * summary warning gives the count of all skipped lines by reason.
 */
#ifndef CAFEGUARD_LISTFILE_H
#define CAFEGUARD_LISTFILE_H

#include <stddef.h>
#include <stdint.h>

#include "cafeguard/diag.h"
#include "cafeguard/domainset.h"
#include "cafeguard/name.h"

enum cg_list_format {
	CG_LIST_AUTO = 0,
	CG_LIST_HOSTS,
	CG_LIST_DOMAINS,
	CG_LIST_ADBLOCK,
};

/* Parses "auto", "hosts", "domains", "adblock"; -1 if unknown. */
int cg_list_format_parse(const char *s, enum cg_list_format *out);
const char *cg_list_format_name(enum cg_list_format f);

/* Why a line was skipped (index into cg_listfile_stats.skipped_by). */
enum cg_list_skip {
	CG_SKIP_BAD_NAME = 0,  /* not a valid host name */
	CG_SKIP_IP_LITERAL,    /* an address where a name was expected */
	CG_SKIP_EXCEPTION,     /* AdBlock "@@" exception rule */
	CG_SKIP_COSMETIC,      /* AdBlock "##"/"#@#"/"#?#"/"#$#" rules */
	CG_SKIP_URL_RULE,      /* rule with a path, regex or wildcard inside */
	CG_SKIP_WRONG_FORMAT,  /* valid in another format than the declared */
	CG_SKIP_TOO_LONG,      /* line longer than the parser accepts */
	CG_SKIP__COUNT
};

const char *cg_list_skip_str(enum cg_list_skip why);

struct cg_listfile_stats {
	size_t lines;       /* lines read */
	size_t entries;     /* names added (duplicates not counted) */
	size_t duplicates;  /* names already in the set */
	size_t skipped;     /* lines skipped, all reasons */
	size_t skipped_by[CG_SKIP__COUNT];
};

/* Longest line parsed, in bytes; longer ones are CG_SKIP_TOO_LONG. */
#define CG_LISTFILE_LINE_MAX 4096

/* How many skipped lines of one file are reported individually. */
#define CG_LISTFILE_REPORT_MAX 10

/*
 * Called once per name found on a line.  Returns 0 to go on, -1 to abort
 * (allocation failure).
 */
typedef int (*cg_list_entry_fn)(void *ctx, const char *canon, size_t len);

enum cg_list_line {
	CG_LINE_EMPTY = 0,   /* blank or comment */
	CG_LINE_ENTRY,       /* one or more names passed to fn */
	CG_LINE_SKIPPED,     /* *why tells the reason */
	CG_LINE_ABORTED,     /* fn returned -1 */
};

/*
 * Parses one line (without its line end; a trailing '\r' is ignored).
 * Pure, allocation-free; the unit for tests and the fuzzer.
 */
enum cg_list_line cg_listfile_parse_line(const char *line, size_t len,
					 enum cg_list_format fmt,
					 cg_list_entry_fn fn, void *ctx,
					 enum cg_list_skip *why);

/*
 * Loads the file at path into b, tagging entries with source.  Skipped
 * lines become warnings in d (see above).  A file that cannot be opened or
 * read, or that is not text (a NUL byte), is an error in d and returns -1;
 * entries already added then remain in b, so callers discard b on -1.
 * stats (may be NULL) is set to this file's counts, not added to.
 */
int cg_listfile_load(const char *path, enum cg_list_format fmt,
		     struct cg_domainset_builder *b, uint16_t source,
		     struct cg_diag *d, struct cg_listfile_stats *stats);

#endif
