/*
 * listfile: one line at a time, no allocation in the parser, so the
 * fuzzer and the unit tests drive exactly what the loader runs.
 *
 * Which per-line forms each declared format accepts (auto: all of them):
 *   hosts    "ADDR name..."
 *   domains  "name", "*.name", dnsmasq "server=/name/..." and friends
 *   adblock  "||name^$options"
 *   hashed   32, 40 or 64 hex digits: an MD5, SHA-1 or SHA-256 digest
 * A line that would be an entry in another format is skipped as
 * CG_SKIP_WRONG_FORMAT, so a declared format catches a file given the
 * wrong type; lines that are no entry anywhere get their own reason.
 */
#include "cafeguard/listfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * CG_LISTFILE_LINE_MAX: real lists stay far below (NoCoin's longest ABP
 * rule is 1753 bytes, hosts lines a few hundred); anything longer is a
 * binary or a broken file, and the bound keeps every line's work small.
 */

/* Bytes of a skipped line quoted in its warning. */
#define REPORT_COLS 80

/* Read size: large reads keep a million-line file at a few syscalls. */
#define READ_CHUNK ((size_t)1 << 20)

static const char *const format_names[] = {
    [CG_LIST_AUTO] = "auto",	   /* every form below */
    [CG_LIST_HOSTS] = "hosts",	   /* ADDR name... */
    [CG_LIST_DOMAINS] = "domains", /* name, *.name, dnsmasq */
    [CG_LIST_ADBLOCK] = "adblock", /* ||name^ */
    [CG_LIST_HASHED] = "hashed",   /* hex digests */
};

int cg_list_format_parse(const char *s, enum cg_list_format *out)
{
	for (size_t i = 0; i < sizeof(format_names) / sizeof(*format_names);
	     i++) {
		if (!strcmp(s, format_names[i])) {
			*out = (enum cg_list_format)i;
			return 0;
		}
	}
	return -1;
}

const char *cg_list_format_name(enum cg_list_format f)
{
	if ((unsigned)f < sizeof(format_names) / sizeof(*format_names))
		return format_names[f];
	return "?";
}

const char *cg_list_skip_str(enum cg_list_skip why)
{
	switch (why) {
	case CG_SKIP_BAD_NAME:
		return "not a valid host name";
	case CG_SKIP_IP_LITERAL:
		return "IP address, not a domain name";
	case CG_SKIP_EXCEPTION:
		return "AdBlock exception (@@), not a block rule";
	case CG_SKIP_COSMETIC:
		return "AdBlock cosmetic rule (##), not a host";
	case CG_SKIP_URL_RULE:
		return "URL rule (path, regex or wildcard), not a host";
	case CG_SKIP_WRONG_FORMAT:
		return "entry of another format than the declared one";
	case CG_SKIP_TOO_LONG:
		return "line too long";
	case CG_SKIP__COUNT:
		break;
	}
	return "?";
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

/* Bytes a host name may contain before canonicalisation. */
static bool is_host_char(char c)
{
	return is_alnum(c) || c == '.' || c == '-' || c == '_';
}

/*
 * Length of the AdBlock/uBlock/AdGuard cosmetic or scriptlet marker at p:
 * "##", "#@#", "#?#", "#@?#", "#$#", "#@$#", "#$?#", "#@$?#", "#%#",
 * "#@%#"; 0 if there is none.
 */
static size_t cosmetic_marker(const char *p, const char *end)
{
	const char *q = p + 1;
	if (q < end && *q == '@')
		q++;
	if (q < end && (*q == '?' || *q == '$' || *q == '%')) {
		q++;
		if (q < end && *q == '?' && q[-1] == '$')
			q++;
	}
	return q < end && *q == '#' ? (size_t)(q + 1 - p) : 0;
}

/*
 * A line that starts with '#' is a comment in hosts and domain lists but
 * a generic cosmetic rule in AdBlock lists ("##.ad", "###banner").  Tell
 * them apart by what follows the marker: hosts files write "## Title" and
 * "#####" banners, selectors start with '[', '.', '#id', ':', '*', '^'
 * or uBlock's "+js(".  A bare tag name ("##div") reads as a comment.
 */
static bool starts_cosmetic(const char *p, const char *end)
{
	size_t mk = cosmetic_marker(p, end);
	if (!mk)
		return false;
	const char *sel = p + mk;
	if (sel == end || is_space(*sel))
		return false;
	if (mk > 2)
		return true;
	switch (*sel) {
	case '[':
	case '.':
	case ':':
	case '*':
	case '^':
	case '+':
		return true;
	case '#':
		return sel + 1 < end && (is_alnum(sel[1]) || sel[1] == '_');
	}
	return false;
}

/* Characters that make a token a URL pattern rather than a host. */
static bool has_url_char(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		switch (p[i]) {
		case '/':
		case '*':
		case '^':
		case '|':
		case '$':
		case '?':
		case '=':
			return true;
		}
	}
	return false;
}

/*
 * An IPv4 dotted quad, or an IPv6 address (hex digits, ':' and '.', an
 * optional "%zone").  cg_name_is_ip_literal takes anything with a ':' for
 * IPv6, which would make "http://x/" an address and "x.com:80" one too.
 */
static bool is_address(const char *p, size_t n)
{
	const char *colon = memchr(p, ':', n);
	if (!colon)
		return cg_name_is_ip_literal(p, n);
	if (!memchr(colon + 1, ':', n - (size_t)(colon + 1 - p)))
		return false; /* IPv6 has at least two */
	const char *zone = memchr(p, '%', n);
	size_t end = zone ? (size_t)(zone - p) : n;
	for (size_t i = 0; i < end; i++) {
		char c = p[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		      (c >= 'A' && c <= 'F') || c == ':' || c == '.'))
			return false;
	}
	return true;
}

/* Canonicalises one name token into buf, or tells why it is no name.
 * Valid names, nearly every line, need a single pass (cg_name_canon);
 * the cause of a failure is looked for only then. */
static bool name_token(const char *p, size_t n, char *buf, size_t *len,
		       enum cg_list_skip *why)
{
	enum cg_name_status st = cg_name_canon(p, n, buf, len);
	if (st == CG_NAME_OK)
		return true;
	if (has_url_char(p, n))
		*why = CG_SKIP_URL_RULE;
	else if (memchr(p, ':', n))
		*why = is_address(p, n) ? CG_SKIP_IP_LITERAL : CG_SKIP_BAD_NAME;
	else
		*why = st == CG_NAME_IP_LITERAL ? CG_SKIP_IP_LITERAL
						: CG_SKIP_BAD_NAME;
	return false;
}

/* The per-line forms, grouped by the declared format that accepts them. */
enum form {
	FORM_HOSTS,
	FORM_DOMAIN, /* plain, "*." wildcard, dnsmasq */
	FORM_ADBLOCK,
	FORM_HASHED,
};

static bool format_accepts(enum cg_list_format fmt, enum form f)
{
	switch (fmt) {
	case CG_LIST_AUTO:
		return true;
	case CG_LIST_HOSTS:
		return f == FORM_HOSTS;
	case CG_LIST_DOMAINS:
		return f == FORM_DOMAIN;
	case CG_LIST_ADBLOCK:
		return f == FORM_ADBLOCK;
	case CG_LIST_HASHED:
		return f == FORM_HASHED;
	}
	return false;
}

static enum cg_list_line skip(enum cg_list_skip *why, enum cg_list_skip r)
{
	*why = r;
	return CG_LINE_SKIPPED;
}

/* What the callback said, as the line's result. */
static enum cg_list_line called(int r, enum cg_list_skip *why)
{
	if (r < 0)
		return CG_LINE_ABORTED;
	return r > 0 ? skip(why, CG_SKIP_WRONG_FORMAT) : CG_LINE_ENTRY;
}

/* One entry already in its canonical text in buf. */
static enum cg_list_line one_entry(enum form f, enum cg_list_format fmt,
				   enum cg_digest kind, const char *buf,
				   size_t len, cg_list_entry_fn fn, void *ctx,
				   enum cg_list_skip *why)
{
	if (!format_accepts(fmt, f))
		return skip(why, CG_SKIP_WRONG_FORMAT);
	return called(fn(ctx, kind, buf, len), why);
}

/*
 * Several names separated by sep (whitespace when sep is 0): all of them
 * must be names, or the whole line is skipped, so that a warning about a
 * line never hides that part of it was applied.
 */
static enum cg_list_line name_list(enum form f, enum cg_list_format fmt,
				   const char *p, const char *end, char sep,
				   cg_list_entry_fn fn, void *ctx,
				   enum cg_list_skip *why)
{
	char buf[CG_NAME_BUF];
	size_t len;
	for (int pass = 0; pass < 2; pass++) {
		/* p..end is trimmed; with sep, "a//b" has an empty field. */
		const char *q = p;
		for (;;) {
			const char *t = q;
			while (q < end && (sep ? *q != sep : !is_space(*q)))
				q++;
			if (!name_token(t, (size_t)(q - t), buf, &len, why))
				return CG_LINE_SKIPPED;
			int r = pass ? fn(ctx, CG_DIGEST_NONE, buf, len) : 0;
			if (r)
				return called(r, why);
			if (q == end)
				break;
			q++;
			while (!sep && q < end && is_space(*q))
				q++;
		}
		if (pass == 0 && !format_accepts(fmt, f))
			return skip(why, CG_SKIP_WRONG_FORMAT);
	}
	return CG_LINE_ENTRY;
}

/*
 * "||name^$options", "||name$options", "||name": the name and every name
 * below it.  Anything else after the name (a path, '*', "^*...") makes it
 * a URL rule, which a DNS-level filter cannot apply.
 */
static enum cg_list_line adblock_rule(const char *p, const char *end,
				      enum cg_list_format fmt,
				      cg_list_entry_fn fn, void *ctx,
				      enum cg_list_skip *why)
{
	const char *name = p + 2, *q = name;
	while (q < end && is_host_char(*q))
		q++;
	const char *name_end = q;
	if (q < end && *q == '^') {
		q++;
		if (q < end && *q == '|')
			q++;
		if (q < end && *q != '$')
			return skip(why, CG_SKIP_URL_RULE);
	} else if (q < end && *q != '$') {
		return skip(why, *q && strchr("/*?=:|%&", *q)
				     ? CG_SKIP_URL_RULE
				     : CG_SKIP_BAD_NAME);
	}
	char buf[CG_NAME_BUF];
	size_t len;
	if (!name_token(name, (size_t)(name_end - name), buf, &len, why))
		return CG_LINE_SKIPPED;
	return one_entry(FORM_ADBLOCK, fmt, CG_DIGEST_NONE, buf, len, fn, ctx,
			 why);
}

/*
 * dnsmasq "server=/a/b/[value]", "address=/a/[value]", "local=/a/": the
 * names are the fields between the first and the last '/'; the value (an
 * upstream server or an address) does not matter to a block list.
 */
static enum cg_list_line dnsmasq_rule(const char *p, const char *end,
				      enum cg_list_format fmt,
				      cg_list_entry_fn fn, void *ctx,
				      enum cg_list_skip *why)
{
	const char *last = end;
	while (last > p && last[-1] != '/')
		last--;
	if (last == p || last - 1 == p)
		return skip(why, CG_SKIP_BAD_NAME);
	return name_list(FORM_DOMAIN, fmt, p, last - 1, '/', fn, ctx, why);
}

static const char *const dnsmasq_keys[] = {"server=/", "address=/", "local=/"};

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

/* The digest a token of only hex digits is by its length, else NONE. */
static enum cg_digest digest_kind(const char *p, size_t n)
{
	enum cg_digest kind = n == 32	? CG_DIGEST_MD5
			      : n == 40 ? CG_DIGEST_SHA1
			      : n == 64 ? CG_DIGEST_SHA256
					: CG_DIGEST_NONE;
	for (size_t i = 0; kind != CG_DIGEST_NONE && i < n; i++)
		if (!is_hex(p[i]))
			kind = CG_DIGEST_NONE;
	return kind;
}

static bool starts_with(const char *p, const char *end, const char *s)
{
	size_t n = strlen(s);
	return (size_t)(end - p) >= n && !memcmp(p, s, n);
}

enum cg_list_line cg_listfile_parse_line(const char *line, size_t len,
					 enum cg_list_format fmt,
					 cg_list_entry_fn fn, void *ctx,
					 enum cg_list_skip *why)
{
	enum cg_list_skip why_local;
	if (!why)
		why = &why_local;
	if (len > CG_LISTFILE_LINE_MAX)
		return skip(why, CG_SKIP_TOO_LONG);

	const char *p = line, *end = line + len;
	while (p < end && is_space(*p))
		p++;
	while (end > p && is_space(end[-1]))
		end--;
	if (p == end || *p == '!')
		return CG_LINE_EMPTY;
	/* "[Adblock Plus 2.0]", "[uBlock Origin]": a header, never a rule */
	if (*p == '[' && end[-1] == ']')
		return CG_LINE_EMPTY;
	if (*p == '#')
		return starts_cosmetic(p, end) ? skip(why, CG_SKIP_COSMETIC)
					       : CG_LINE_EMPTY;

	/* "name   #comment" ends the line; "example.com##.ad" is a rule. */
	for (const char *q = p; (q = memchr(q, '#', (size_t)(end - q))); q++) {
		if (is_space(q[-1])) {
			end = q;
			while (is_space(end[-1]))
				end--;
			break;
		}
		if (cosmetic_marker(q, end))
			return skip(why, CG_SKIP_COSMETIC);
	}

	if (starts_with(p, end, "@@"))
		return skip(why, CG_SKIP_EXCEPTION);
	if (starts_with(p, end, "||"))
		return adblock_rule(p, end, fmt, fn, ctx, why);
	if (*p == '|' || *p == '/')
		return skip(why, CG_SKIP_URL_RULE); /* "|http://", "/regex/" */
	for (size_t i = 0; i < sizeof(dnsmasq_keys) / sizeof(*dnsmasq_keys);
	     i++) {
		if (starts_with(p, end, dnsmasq_keys[i]))
			return dnsmasq_rule(p + strlen(dnsmasq_keys[i]), end,
					    fmt, fn, ctx, why);
	}

	char buf[CG_NAME_BUF];
	size_t nlen;
	if (starts_with(p, end, "*.")) {
		/* A whole-word token only: "*.a.com b" is nothing we know. */
		const char *q = p + 2;
		while (q < end && !is_space(*q))
			q++;
		if (q != end)
			return skip(why, CG_SKIP_BAD_NAME);
		if (!name_token(p + 2, (size_t)(end - p - 2), buf, &nlen, why))
			return CG_LINE_SKIPPED;
		return one_entry(FORM_DOMAIN, fmt, CG_DIGEST_NONE, buf, nlen,
				 fn, ctx, why);
	}

	const char *t = p;
	while (t < end && !is_space(*t))
		t++;
	size_t tlen = (size_t)(t - p);
	if (t == end) {
		enum cg_digest kind = digest_kind(p, tlen);
		if (kind != CG_DIGEST_NONE) {
			for (size_t i = 0; i < tlen; i++)
				buf[i] = (char)(p[i] | 0x20); /* hex: lower */
			buf[tlen] = '\0';
			return one_entry(FORM_HASHED, fmt, kind, buf, tlen, fn,
					 ctx, why);
		}
		if (!name_token(p, tlen, buf, &nlen, why))
			return CG_LINE_SKIPPED;
		return one_entry(FORM_DOMAIN, fmt, CG_DIGEST_NONE, buf, nlen,
				 fn, ctx, why);
	}
	/* Several words: a hosts line, whatever the address ("0.0.0.0",
	 * "127.0.0.1", "::1", "fe80::1%lo0"). */
	if (!is_address(p, tlen))
		return skip(why, has_url_char(p, tlen) ? CG_SKIP_URL_RULE
						       : CG_SKIP_BAD_NAME);
	while (t < end && is_space(*t))
		t++;
	return name_list(FORM_HOSTS, fmt, t, end, 0, fn, ctx, why);
}

/* ---- Loading a file ------------------------------------------------ */

struct load {
	const char *path;
	enum cg_list_format fmt;
	struct cg_domainset_builder **b;
	uint16_t source;
	uint32_t line;
	struct cg_diag *d;
	struct cg_listfile_stats *st;
};

static unsigned hex_value(char c)
{
	return c <= '9' ? (unsigned)(c - '0') : (unsigned)(c - 'a' + 10);
}

static int add_entry(void *vctx, enum cg_digest kind, const char *text,
		     size_t len)
{
	struct load *l = vctx;
	struct cg_domainset_builder *b = l->b[kind];
	if (!b)
		return 1;
	bool dup = false;
	int rc;
	if (kind == CG_DIGEST_NONE) {
		rc = cg_domainset_builder_add(b, text, len, l->source, l->line,
					      &dup);
	} else {
		/* Only the key's 8 bytes are kept (see domainset.h). */
		uint8_t d[8];
		for (size_t i = 0; i < sizeof(d); i++)
			d[i] = (uint8_t)(hex_value(text[2 * i]) << 4 |
					 hex_value(text[2 * i + 1]));
		rc = cg_domainset_builder_add_hash(
		    b, cg_domainset_digest_key(d), l->source, l->line, &dup);
	}
	if (rc < 0)
		return -1;
	if (dup)
		l->st->duplicates++;
	else
		l->st->entries++;
	return 0;
}

/* Quotes up to REPORT_COLS bytes of a line, control and non-ASCII bytes
 * escaped so that a warning is one printable line. */
static void quote_line(char *out, size_t outsz, const char *p, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	while (len && (p[len - 1] == '\r' || p[len - 1] == '\n'))
		len--;
	size_t n = len > REPORT_COLS ? REPORT_COLS : len, o = 0;
	for (size_t i = 0; i < n && o + 5 < outsz; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c >= 0x20 && c < 0x7f) {
			out[o++] = (char)c;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	if (n < len && o + 4 < outsz) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

/* Lines a list of this kind carries by nature (addresses in a hosts
 * file, cosmetic rules in an AdBlock list) are noted; lines that look
 * like a mistake in the list are warnings. */
static enum cg_severity skip_severity(enum cg_list_skip why)
{
	switch (why) {
	case CG_SKIP_BAD_NAME:
	case CG_SKIP_WRONG_FORMAT:
	case CG_SKIP_TOO_LONG:
		return CG_SEV_WARNING;
	default:
		return CG_SEV_NOTE;
	}
}

static int load_line(struct load *l, const char *p, size_t len)
{
	struct cg_listfile_stats *st = l->st;
	if (st->lines == CG_DOMAINSET_LINE_MAX) {
		cg_diag_add(l->d, CG_SEV_ERROR, l->path,
			    CG_DOMAINSET_LINE_MAX + 1,
			    "too many lines: a list file may have at most %u "
			    "(the line of each entry is recorded in 24 bits)",
			    CG_DOMAINSET_LINE_MAX);
		return -1;
	}
	st->lines++;
	l->line = (uint32_t)st->lines;
	if (memchr(p, '\0', len)) {
		cg_diag_add(l->d, CG_SEV_ERROR, l->path, l->line,
			    "NUL byte: not a text list");
		return -1;
	}
	enum cg_list_skip why = CG_SKIP_BAD_NAME;
	switch (cg_listfile_parse_line(p, len, l->fmt, add_entry, l, &why)) {
	case CG_LINE_EMPTY:
	case CG_LINE_ENTRY:
		return 0;
	case CG_LINE_SKIPPED:
		st->skipped++;
		st->skipped_by[why]++;
		if (st->skipped <= CG_LISTFILE_REPORT_MAX) {
			char q[REPORT_COLS * 4 + 8];
			quote_line(q, sizeof(q), p, len);
			cg_diag_add(l->d, skip_severity(why), l->path, l->line,
				    "skipped: %s: %s", cg_list_skip_str(why),
				    q);
		}
		return 0;
	case CG_LINE_ABORTED:
		break;
	}
	cg_diag_add(l->d, CG_SEV_ERROR, l->path, l->line,
		    "cannot add entry: %s", strerror(errno));
	return -1;
}

void cg_listfile_summarise(struct cg_diag *d, const char *path,
			   const struct cg_listfile_stats *st)
{
	if (!st->skipped)
		return;
	char why[512];
	size_t o = 0;
	why[0] = '\0';
	for (int k = 0; k < CG_SKIP__COUNT; k++) {
		if (!st->skipped_by[k] || o >= sizeof(why))
			continue;
		int w = snprintf(why + o, sizeof(why) - o, "%s%zu %s",
				 o ? ", " : "", st->skipped_by[k],
				 cg_list_skip_str((enum cg_list_skip)k));
		if (w > 0)
			o += (size_t)w;
	}
	enum cg_severity sev = CG_SEV_NOTE;
	for (int k = 0; k < CG_SKIP__COUNT; k++)
		if (st->skipped_by[k] &&
		    skip_severity((enum cg_list_skip)k) == CG_SEV_WARNING)
			sev = CG_SEV_WARNING;
	cg_diag_add(d, sev, path, 0, "skipped %zu line%s (%s)", st->skipped,
		    st->skipped == 1 ? "" : "s", why);
}

/*
 * Splits what read() returns into lines.  A line longer than the buffer
 * is passed on truncated (the parser only needs to see that it is too
 * long) and the rest of it is dropped as it arrives.
 */
static int read_lines(struct load *l, int fd, char *buf)
{
	static const char bom[] = "\xef\xbb\xbf";
	size_t have = 0;
	bool bom_checked = false, in_long = false;
	for (;;) {
		ssize_t r = read(fd, buf + have, READ_CHUNK - have);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			cg_diag_add(l->d, CG_SEV_ERROR, l->path, 0,
				    "cannot read list: %s", strerror(errno));
			return -1;
		}
		bool eof = r == 0;
		have += (size_t)r;

		size_t start = 0;
		if (!bom_checked) {
			/* A UTF-8 byte order mark, as editors on Windows
			 * write it, is not part of the first line. */
			if (have < 3 && !eof && !memcmp(buf, bom, have))
				continue;
			if (have >= 3 && !memcmp(buf, bom, 3))
				start = 3;
			bom_checked = true;
		}
		char *nl;
		while ((nl = memchr(buf + start, '\n', have - start))) {
			size_t len = (size_t)(nl - (buf + start));
			if (in_long) {
				in_long = false;
				if (memchr(buf + start, '\0', len)) {
					cg_diag_add(
					    l->d, CG_SEV_ERROR, l->path,
					    l->line,
					    "NUL byte: not a text list");
					return -1;
				}
			} else if (load_line(l, buf + start, len) < 0) {
				return -1;
			}
			start += len + 1;
		}
		if (eof) {
			if (start < have && !in_long)
				return load_line(l, buf + start, have - start);
			return 0;
		}
		if (in_long) {
			if (memchr(buf + start, '\0', have - start)) {
				cg_diag_add(l->d, CG_SEV_ERROR, l->path,
					    l->line,
					    "NUL byte: not a text list");
				return -1;
			}
			have = 0;
		} else if (start == 0 && have == READ_CHUNK) {
			if (load_line(l, buf, have) < 0)
				return -1;
			in_long = true;
			have = 0;
		} else {
			memmove(buf, buf + start, have - start);
			have -= start;
		}
	}
}

int cg_listfile_load(const char *path, enum cg_list_format fmt,
		     struct cg_domainset_builder *b[CG_DIGEST__COUNT],
		     uint16_t source, struct cg_diag *d,
		     struct cg_listfile_stats *stats)
{
	struct cg_listfile_stats local;
	struct load l = {
	    .path = path,
	    .fmt = fmt,
	    .b = b,
	    .source = source,
	    .d = d,
	    .st = stats ? stats : &local,
	};
	memset(l.st, 0, sizeof(*l.st));

	if (source >= CG_DOMAINSET_SOURCES) {
		cg_diag_add(d, CG_SEV_ERROR, path, 0,
			    "cannot load list: more than %u files in one list",
			    CG_DOMAINSET_SOURCES);
		return -1;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		cg_diag_add(d, CG_SEV_ERROR, path, 0, "cannot open list: %s",
			    strerror(errno));
		return -1;
	}
	struct stat sb;
	int e = fstat(fd, &sb) < 0 ? errno : S_ISDIR(sb.st_mode) ? EISDIR : 0;
	if (e) {
		close(fd);
		cg_diag_add(d, CG_SEV_ERROR, path, 0, "cannot open list: %s",
			    strerror(e));
		return -1;
	}
	char *buf = malloc(READ_CHUNK);
	if (!buf) {
		close(fd);
		cg_diag_add(d, CG_SEV_ERROR, path, 0,
			    "cannot read list: out of memory");
		return -1;
	}
	int rc = read_lines(&l, fd, buf);
	free(buf);
	close(fd);
	if (rc == 0)
		cg_listfile_summarise(d, path, l.st);
	return rc;
}
