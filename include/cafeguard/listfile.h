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
 *   hashed     a line of exactly 32, 40 or 64 hex digits (either case):
 *              the MD5, SHA-1 or SHA-256 digest of a canonical name (see
 *              domainset.h), for lists that must not spell names out
 * Comments: lines starting with '#' or '!', "[Adblock Plus 2.0]" headers,
 * and trailing " #comment" after an entry.  Blank lines are ignored.
 * CRLF line ends are accepted.
 *
 * Every entry matches its name and all names below it (see domainset.h).
 *
 * A declared format takes only its own lines ("domains" also takes the
 * wildcard and dnsmasq forms, "hashed" takes digest lines only); a line
 * that would be an entry in another format is skipped as
 * CG_SKIP_WRONG_FORMAT.  A digest line is a digest even where a 32- or
 * 40-digit hex label could be a name (no real TLD looks like one).
 *
 * Lines that are understood but cannot be applied to host names (AdBlock
 * exceptions "@@", cosmetic "##", URL rules with a path, regular
 * expressions) and lines that are not understood are skipped.  The first
 * few skipped lines of a file are reported with file:line, then a summary
 * gives the count of all skipped lines by reason: as notes where a list of
 * that kind carries such lines by nature (addresses in a hosts file,
 * cosmetic rules in an AdBlock list), as warnings where a line looks like
 * a mistake (a bad name, a line of the wrong format, an overlong line).
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
	CG_LIST_HASHED,
};

/*
 * What a line means, as a number: compiled list images record it and are
 * rebuilt when it changes.  Bump it with any change to which lines are
 * entries, which names they yield, or how lines are counted.
 */
#define CG_LISTFILE_VERSION 2

/* Parses "auto", "hosts", "domains", "adblock", "hashed"; -1 if unknown. */
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
 * Called once per entry found on a line: text is the canonical name for
 * kind CG_DIGEST_NONE, the digest in lower-case hex (2 * cg_digest_size
 * bytes) otherwise; NUL-terminated, valid during the call.  Returns 0 to
 * go on, -1 to abort (allocation failure), or 1 to refuse the entry: the
 * line is then skipped as CG_SKIP_WRONG_FORMAT (a caller that does not
 * take entries of that kind; refuse by kind, so that a line with several
 * names is refused at its first).
 */
typedef int (*cg_list_entry_fn)(void *ctx, enum cg_digest kind,
				const char *text, size_t len);

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
 * Loads the file at path, tagging entries with source: names into
 * b[CG_DIGEST_NONE], digests into the builder of their kind (keyed by
 * cg_domainset_digest_key).  b[kind] may be NULL for a kind the caller
 * does not take: such lines are skipped as CG_SKIP_WRONG_FORMAT.  Skipped
 * lines become warnings in d (see above).  A file that cannot be opened or
 * read, or that is not text (a NUL byte), is an error in d and returns -1;
 * entries already added then remain in the builders, so callers discard
 * them on -1.  stats (may be NULL) is set to this file's counts, not added
 * to; entries counts every kind.
 */
int cg_listfile_load(const char *path, enum cg_list_format fmt,
		     struct cg_domainset_builder *b[CG_DIGEST__COUNT],
		     uint16_t source, struct cg_diag *d,
		     struct cg_listfile_stats *stats);

/*
 * Adds the summary warning cg_listfile_load gives a file with skipped
 * lines ("skipped N lines (counts by reason)"), for loaders that replay
 * recorded statistics instead of reading the file.  Nothing if none.
 */
void cg_listfile_summarise(struct cg_diag *d, const char *path,
			   const struct cg_listfile_stats *st);

/*
 * The list files a configured path stands for.  A regular file is itself.
 * A folder (UT1 blacklists ship one per category: adult/domains,
 * adult/urls, adult/expressions, adult/usage) stands for its regular files
 * that are domain lists: "domains", "domains.N" (N digits: mirrors split
 * big categories that way), and names ending in .txt .list .hosts
 * .domains; others (urls, expressions, usage, dot-files, subfolders: the
 * search is not recursive) are skipped with one note in d naming them.
 * Files are sorted by name (byte order), so a list's source indexes are
 * stable.  Returns 0 with *files (paths "path/name") and *nfiles set, or
 * -1 with an error in d (path missing, neither file nor folder, or a
 * folder with no list file: "folder has no list files").  Free the result
 * with cg_listfile_expand_free.
 */
int cg_listfile_expand(const char *path, char ***files, size_t *nfiles,
		       struct cg_diag *d);
void cg_listfile_expand_free(char **files, size_t nfiles);

#endif
