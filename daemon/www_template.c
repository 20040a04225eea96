/*
 * Templates: compiled once at load into literal text and references,
 * rendered (www_render.c) in one pass into a growing buffer.
 *
 *   {{t.splash.title}}  a text of the language, placeholders filled
 *   {{seat}}            a value of the page
 *   {{{hotlines}}}      HTML the portal makes (lists, the table, the
 *                       page inside the layout)
 *
 * Everything between double braces is HTML-escaped; only the portal's
 * own fragments go out unescaped.  The layout holds {{{body}}}, the page;
 * that is the only nesting and pages cannot name it, so no input drives
 * recursion.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "www_internal.h"

#define ON(p)	(1u << (p))
#define ANY	(ON(CG_WWW__PAGES + 1) - 1)
#define ERR_MAX 20 /* per template: past that it is not a template */
#define REF_MAX 64

struct name_on {
	const char *name;
	unsigned pages;
};

static const struct name_on vars[V__N] = {
    [V_LANG] = {"lang", ANY},
    [V_CAFE] = {"cafe", ANY},
    [V_SEAT] = {"seat", ANY},
    [V_TIME] = {"time", ANY},
    [V_TITLE] = {"title", ANY},
    [V_HOST] = {"host", ON(CG_WWW_BLOCK)},
    [V_REASON] = {"reason", ON(CG_WWW_BLOCK)},
    [V_CATEGORY] = {"category", ON(CG_WWW_BLOCK)},
    [V_NEXT] = {"next", ON(CG_WWW_SPLASH)},
    [V_TOKEN] = {"token", ON(CG_WWW_SPLASH)},
    [V_STATUS] = {"status", ON(CG_WWW_ERROR)},
    [V_MESSAGE] = {"message", ON(CG_WWW_ERROR)},
};

static const struct name_on frags[F__N] = {
    [F_BODY] = {"body", ON(WWW_LAYOUT)},
    [F_HOTLINES] = {"hotlines", ANY},
    [F_RULES] = {"house_rules", ON(CG_WWW_SPLASH)},
    [F_STATE] = {"state", ON(CG_WWW_STATUS)},
    [F_BLOCKS] = {"blocks", ON(CG_WWW_STATUS)},
};

static const char *const page_names[CG_WWW__PAGES + 1] = {
    "splash", "block", "status", "error", "layout"};

/* ---- compiling ---- */

struct comp {
	struct www_tmpl *t;
	const struct cg_www *w;
	unsigned page;
	unsigned line;
	size_t cap;
	unsigned errors;
	unsigned bodies;
	struct cg_diag *d;
};

static void comp_err(struct comp *c, const char *fmt, ...) CG_PRINTF(2, 3);

static void comp_err(struct comp *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (c->errors++ < ERR_MAX)
		cg_diag_vadd(c->d, CG_SEV_ERROR, c->t->file, c->line, fmt, ap);
	else if (c->errors == ERR_MAX + 1)
		cg_diag_add(c->d, CG_SEV_ERROR, c->t->file, c->line,
			    "too many errors; the rest is not checked");
	va_end(ap);
}

static void emit(struct comp *c, enum www_op_kind kind, unsigned id, size_t off,
		 size_t len)
{
	struct www_tmpl *t = c->t;
	if (kind == OP_TEXT && !len)
		return;
	if (t->nops == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 32;
		struct www_op *o = realloc(t->ops, cap * sizeof(*o));
		if (!o) {
			comp_err(c, "out of memory");
			return;
		}
		t->ops = o;
		c->cap = cap;
	}
	t->ops[t->nops++] = (struct www_op){kind, id, off, len};
}

/* "lang, cafe, seat" for a message: what this page may name. */
static void known_here(const struct name_on *tab, size_t n, unsigned page,
		       char *out, size_t outsz)
{
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (!(tab[i].pages & ON(page)))
			continue;
		int w = snprintf(out + o, outsz - o, "%s%s", o ? ", " : "",
				 tab[i].name);
		if (w < 0 || (size_t)w >= outsz - o)
			return;
		o += (size_t)w;
	}
}

static int find(const struct name_on *tab, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(tab[i].name, name))
			return (int)i;
	return -1;
}

static void ref_text(struct comp *c, const char *name)
{
	long id = www_key_id(c->w, name + 2);
	if (id >= 0) {
		emit(c, OP_T, (unsigned)id, 0, 0);
		return;
	}
	const char *hint = cg_suggest(name + 2, c->w->keys, c->w->nkeys);
	comp_err(c, "{{%s}}: no such text in %s%s%s%s", name,
		 c->w->langs[0].file, hint ? " (did you mean t." : "",
		 hint ? hint : "", hint ? "?)" : "");
}

static void ref_value(struct comp *c, const char *name, bool triple)
{
	char known[256];
	int v = find(vars, V__N, name), f = find(frags, F__N, name);
	if (v >= 0 && triple) {
		comp_err(c,
			 "{{{%s}}}: values are always escaped; write "
			 "{{%s}}",
			 name, name);
	} else if (f >= 0 && !triple) {
		comp_err(c,
			 "{{%s}}: this is HTML the portal makes; write "
			 "{{{%s}}}",
			 name, name);
	} else if (v >= 0 && !(vars[v].pages & ON(c->page))) {
		known_here(vars, V__N, c->page, known, sizeof(known));
		comp_err(c,
			 "{{%s}}: the %s page has no such value (it has: "
			 "%s)",
			 name, page_names[c->page], known);
	} else if (f >= 0 && !(frags[f].pages & ON(c->page))) {
		known_here(frags, F__N, c->page, known, sizeof(known));
		comp_err(c, "{{{%s}}}: not on the %s page (it has: %s)", name,
			 page_names[c->page], known);
	} else if (v >= 0) {
		emit(c, OP_VAR, (unsigned)v, 0, 0);
	} else if (f >= 0) {
		c->bodies += f == F_BODY;
		emit(c, OP_FRAG, (unsigned)f, 0, 0);
	} else {
		const struct name_on *tab = triple ? frags : vars;
		size_t n = triple ? F__N : V__N;
		known_here(tab, n, c->page, known, sizeof(known));
		comp_err(c,
			 "%s%s%s: unknown name (known on the %s page: %s; "
			 "texts are t.<key>)",
			 triple ? "{{{" : "{{", name, triple ? "}}}" : "}}",
			 page_names[c->page], known);
	}
}

static bool ref_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == '.';
}

/* A reference at s ("{{" or "{{{"): the bytes it takes.  A malformed
 * one is reported and its braces taken as text, so the scan goes on. */
static size_t reference(struct comp *c, const char *s, size_t len)
{
	bool triple = len > 2 && s[2] == '{';
	size_t open = triple ? 3 : 2, i = open;
	while (i < len && s[i] == ' ')
		i++;
	size_t start = i;
	while (i < len && ref_char(s[i]))
		i++;
	size_t nlen = i - start;
	while (i < len && s[i] == ' ')
		i++;
	if (i + open > len || strncmp(s + i, "}}}", open)) {
		comp_err(c,
			 "%s without a closing %s (or a character not "
			 "allowed in a name)",
			 triple ? "{{{" : "{{", triple ? "}}}" : "}}");
		return open;
	}
	if (!nlen || nlen > REF_MAX) {
		comp_err(c, "an empty or over-long name between braces");
		return i + open;
	}
	char name[REF_MAX + 1];
	memcpy(name, s + start, nlen);
	name[nlen] = '\0';
	if (!strncmp(name, "t.", 2) && triple)
		comp_err(c, "{{{%s}}}: texts are always escaped; write {{%s}}",
			 name, name);
	else if (!strncmp(name, "t.", 2))
		ref_text(c, name);
	else
		ref_value(c, name, triple);
	return i + open;
}

int www_tmpl_compile(struct cg_www *w, struct www_tmpl *t, unsigned page,
		     const char *text, size_t len, struct cg_diag *d)
{
	struct comp c = {t, w, page, 1, 0, 0, 0, d};
	t->text = malloc(len + 1);
	if (!t->text) {
		comp_err(&c, "out of memory");
		return -1;
	}
	memcpy(t->text, text, len);
	t->text[len] = '\0';
	if (memchr(text, '\0', len))
		comp_err(&c, "a NUL byte: not a text file");
	size_t lit = 0;
	for (size_t i = 0; i < len && c.errors <= ERR_MAX;) {
		if (text[i] == '{' && i + 1 < len && text[i + 1] == '{') {
			emit(&c, OP_TEXT, 0, lit, i - lit);
			i += reference(&c, text + i, len - i);
			lit = i;
		} else {
			c.line += text[i++] == '\n';
		}
	}
	emit(&c, OP_TEXT, 0, lit, len - lit);
	if (page == WWW_LAYOUT && c.bodies != 1 && !c.errors)
		comp_err(&c,
			 "the layout must hold {{{body}}} once (it has it "
			 "%u times)",
			 c.bodies);
	return c.errors ? -1 : 0;
}

void www_tmpl_free(struct www_tmpl *t)
{
	free(t->file);
	free(t->text);
	free(t->ops);
}
