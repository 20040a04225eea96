/*
 * Rendering: one pass over the layout's compiled template, the page's
 * inside it at {{{body}}}, into a growing buffer.  Every value is escaped
 * where it lands; the fragments here (hotlines, house rules, the table
 * of blocks) are the only HTML not written in a template.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "www_internal.h"

/* No page comes near this; a caller passing thousands of rows gets
 * NULL rather than a document no phone could show. */
#define PAGE_MAX (4u << 20)

struct out {
	char *p;
	size_t n, cap;
	bool fail;
};

static void put(struct out *b, const char *s, size_t n)
{
	if (b->fail || !n)
		return;
	if (n > PAGE_MAX - b->n) {
		b->fail = true;
		return;
	}
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 8192;
		while (cap < b->n + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->fail = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
}

static void puts_(struct out *b, const char *s)
{
	put(b, s, strlen(s));
}

static const char *entity(char ch)
{
	switch (ch) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '"':
		return "&quot;";
	case '\'':
		return "&#39;";
	}
	return NULL;
}

static void put_esc(struct out *b, const char *s, size_t n)
{
	size_t lit = 0;
	for (size_t i = 0; i < n; i++) {
		const char *e = entity(s[i]);
		if (!e)
			continue;
		put(b, s + lit, i - lit);
		puts_(b, e);
		lit = i + 1;
	}
	put(b, s + lit, n - lit);
}

static void puts_esc(struct out *b, const char *s)
{
	put_esc(b, s, strlen(s));
}

struct ctx {
	const struct cg_www *w;
	const struct www_lang *l;
	const struct cg_www_vars *v;
	unsigned page;
	int status;
	const char *ph[PH__N];
	char status_s[8];
	struct out b;
};

static const char *str(const char *s)
{
	return s ? s : "";
}

static const char *text(const struct ctx *c, enum www_req r)
{
	return c->l->text[c->w->req[r]];
}

/* A translated text, escaped, with its placeholders filled from ph. */
static void put_text(struct ctx *c, const char *s, const char *const *ph)
{
	const char *lit = s;
	for (const char *p = strchr(s, '{'); p; p = strchr(p, '{')) {
		enum www_ph which;
		bool known;
		size_t n = www_placeholder(p, &which, &known);
		if (!n || !known) {
			p++;
			continue;
		}
		put_esc(&c->b, lit, (size_t)(p - lit));
		puts_esc(&c->b, ph[which]);
		lit = p += n;
	}
	puts_esc(&c->b, lit);
}

/* The category in the language's words, else the rule set's title,
 * else its name. */
static const char *category_words(const struct ctx *c, const char *cat,
				  const char *title)
{
	const char *words =
	    cat && cat[0] ? www_category_words(c->w, c->l, cat) : NULL;
	if (words)
		return words;
	if (title && title[0])
		return title;
	return str(cat);
}

static const char *reason_text(const struct ctx *c, const char *reason,
			       const char *category)
{
	static const struct {
		const char *name;
		enum www_req r;
	} why[] = {
	    {"list", R_WHY_LIST},
	    {"app", R_WHY_APP},
	    {"app-category", R_WHY_APP_CATEGORY},
	    {"budget", R_WHY_BUDGET},
	    {"schedule", R_WHY_SCHEDULE},
	    {"captive", R_WHY_CAPTIVE},
	};
	enum www_req r = R_WHY_OTHER;
	for (size_t i = 0; i < sizeof(why) / sizeof(why[0]); i++)
		if (reason && !strcmp(reason, why[i].name))
			r = why[i].r;
	/* "It is on a list of {category}" with no category would read
	 * wrong; the general words do not need one. */
	if (!category[0] && strstr(text(c, r), "{category}"))
		r = R_WHY_OTHER;
	return text(c, r);
}

static enum www_req error_text(int status)
{
	switch (status) {
	case 400:
		return R_ERR_400;
	case 403:
		return R_ERR_403;
	case 404:
		return R_ERR_404;
	case 405:
		return R_ERR_405;
	case 413:
		return R_ERR_413;
	case 414:
		return R_ERR_414;
	case 429:
		return R_ERR_429;
	case 431:
		return R_ERR_431;
	case 500:
		return R_ERR_500;
	case 503:
		return R_ERR_503;
	}
	return R_ERR_OTHER;
}

/* Only web links: a hotline's URL comes from a config a café edits, and
 * "javascript:" in an href would run in a child's browser. */
static bool web_url(const char *u)
{
	if (strncasecmp(u, "https://", 8) && strncasecmp(u, "http://", 7))
		return false;
	for (; *u; u++)
		if ((unsigned char)*u <= ' ')
			return false;
	return true;
}

static void put_hotline(struct ctx *c, const struct cg_www_hotline *h)
{
	struct out *b = &c->b;
	puts_(b, "<li>");
	if (h->url && web_url(h->url)) {
		puts_(b, "<a href=\"");
		puts_esc(b, h->url);
		puts_(b, "\">");
		puts_esc(b, str(h->name));
		puts_(b, "</a>");
	} else {
		puts_esc(b, str(h->name));
	}
	if (h->phone && h->phone[0]) {
		char tel[32];
		size_t n = 0;
		for (const char *p = h->phone; *p && n < sizeof(tel) - 1; p++)
			if ((*p >= '0' && *p <= '9') || (*p == '+' && !n))
				tel[n++] = *p;
		tel[n] = '\0';
		puts_(b, " <span class=\"phone\">");
		puts_esc(b, text(c, R_PHONE));
		puts_(b, ": ");
		if (n) {
			puts_(b, "<a href=\"tel:");
			puts_(b, tel);
			puts_(b, "\">");
		}
		puts_esc(b, h->phone);
		puts_(b, n ? "</a></span>" : "</span>");
	}
	puts_(b, "</li>\n");
}

/* The site's country first, then international lines; other countries'
 * only when the café has not said where it is. */
static void frag_hotlines(struct ctx *c)
{
	const struct cg_www_site *s = c->v->site;
	if (!s || !s->nhotlines)
		return;
	const char *home = str(s->country);
	puts_(&c->b, "<ul class=\"hotlines\">\n");
	for (int pass = 0; pass < 3; pass++) {
		for (size_t i = 0; i < s->nhotlines; i++) {
			const char *hc = str(s->hotlines[i].country);
			bool pick = pass == 0 ? home[0] && !strcasecmp(hc, home)
				    : pass == 1 ? !hc[0]
						: !home[0] && hc[0];
			if (pick)
				put_hotline(c, &s->hotlines[i]);
		}
	}
	puts_(&c->b, "</ul>\n");
}

static void frag_rules(struct ctx *c)
{
	if (!c->l->nrules)
		return;
	puts_(&c->b, "<ol class=\"rules\">\n");
	for (size_t i = 0; i < c->l->nrules; i++) {
		puts_(&c->b, "<li>");
		put_text(c, c->l->rules[i], c->ph);
		puts_(&c->b, "</li>\n");
	}
	puts_(&c->b, "</ol>\n");
}

static void frag_state(struct ctx *c)
{
	if (!c->v->captive) {
		puts_(&c->b, "<p class=\"state open\">");
		put_text(c, text(c, R_STATE_OPEN), c->ph);
		puts_(&c->b, "</p>\n");
		return;
	}
	puts_(&c->b, "<p class=\"state captive\">");
	put_text(c, text(c, R_STATE_CAPTIVE), c->ph);
	puts_(&c->b, " <a href=\"/splash\">");
	put_text(c, text(c, R_CAPTIVE_LINK), c->ph);
	puts_(&c->b, "</a></p>\n");
}

static void put_cell(struct ctx *c, const char *tag, enum www_req r)
{
	puts_(&c->b, tag);
	put_text(c, text(c, r), c->ph);
	puts_(&c->b, "</th>");
}

static void frag_blocks(struct ctx *c)
{
	const struct cg_www_vars *v = c->v;
	if (!v->nrows || !v->rows) {
		puts_(&c->b, "<p class=\"none\">");
		put_text(c, text(c, R_NO_BLOCKS), c->ph);
		puts_(&c->b, "</p>\n");
		return;
	}
	puts_(&c->b, "<table class=\"blocks\">\n<caption>");
	put_text(c, text(c, R_CAPTION), c->ph);
	puts_(&c->b, "</caption>\n<thead><tr>");
	put_cell(c, "<th scope=\"col\">", R_COL_TIME);
	put_cell(c, "<th scope=\"col\">", R_COL_SITE);
	put_cell(c, "<th scope=\"col\">", R_COL_WHY);
	puts_(&c->b, "</tr></thead>\n<tbody>\n");
	for (size_t i = 0; i < v->nrows && !c->b.fail; i++) {
		const struct cg_www_row *r = &v->rows[i];
		const char *ph[PH__N];
		memcpy(ph, c->ph, sizeof(ph));
		ph[PH_TIME] = str(r->time);
		ph[PH_HOST] =
		    r->host && r->host[0] ? r->host : text(c, R_UNKNOWN_SITE);
		ph[PH_CATEGORY] =
		    category_words(c, r->category, r->category_title);
		puts_(&c->b, "<tr><th scope=\"row\">");
		puts_esc(&c->b, ph[PH_TIME]);
		puts_(&c->b, "</th><td>");
		puts_esc(&c->b, ph[PH_HOST]);
		puts_(&c->b, "</td><td>");
		put_text(c, reason_text(c, r->reason, ph[PH_CATEGORY]), ph);
		puts_(&c->b, "</td></tr>\n");
	}
	puts_(&c->b, "</tbody>\n</table>\n");
}

static void render_ops(struct ctx *c, const struct www_tmpl *t);

static void put_var(struct ctx *c, enum www_var var)
{
	static const enum www_req titles[CG_WWW__PAGES] = {
	    R_TITLE_SPLASH, R_TITLE_BLOCK, R_TITLE_STATUS, R_TITLE_ERROR};
	const struct cg_www_vars *v = c->v;
	switch (var) {
	case V_LANG:
		puts_esc(&c->b, c->l->tag);
		break;
	case V_CAFE:
		puts_esc(&c->b, c->ph[PH_CAFE]);
		break;
	case V_SEAT:
		puts_esc(&c->b, c->ph[PH_SEAT]);
		break;
	case V_TIME:
		puts_esc(&c->b, c->ph[PH_TIME]);
		break;
	case V_TITLE:
		put_text(c, text(c, titles[c->page]), c->ph);
		break;
	case V_HOST:
		puts_esc(&c->b, c->ph[PH_HOST]);
		break;
	case V_REASON:
		put_text(c, reason_text(c, v->reason, c->ph[PH_CATEGORY]),
			 c->ph);
		break;
	case V_CATEGORY:
		puts_esc(&c->b, c->ph[PH_CATEGORY]);
		break;
	case V_NEXT:
		puts_esc(&c->b, str(v->next));
		break;
	case V_TOKEN:
		puts_esc(&c->b, str(v->token));
		break;
	case V_STATUS:
		puts_esc(&c->b, c->status_s);
		break;
	case V_MESSAGE:
		put_text(c, text(c, error_text(c->status)), c->ph);
		break;
	case V__N:
		break;
	}
}

static void put_frag(struct ctx *c, enum www_frag f, bool layout)
{
	switch (f) {
	case F_BODY:
		/* Compiling allows {{{body}}} in the layout alone. */
		if (layout)
			render_ops(c, &c->w->tmpl[c->page]);
		break;
	case F_HOTLINES:
		frag_hotlines(c);
		break;
	case F_RULES:
		frag_rules(c);
		break;
	case F_STATE:
		frag_state(c);
		break;
	case F_BLOCKS:
		frag_blocks(c);
		break;
	case F__N:
		break;
	}
}

static void render_ops(struct ctx *c, const struct www_tmpl *t)
{
	bool layout = t == &c->w->tmpl[WWW_LAYOUT];
	for (size_t i = 0; i < t->nops && !c->b.fail; i++) {
		const struct www_op *o = &t->ops[i];
		switch (o->kind) {
		case OP_TEXT:
			put(&c->b, t->text + o->off, o->len);
			break;
		case OP_T:
			put_text(c, c->l->text[o->id], c->ph);
			break;
		case OP_VAR:
			put_var(c, (enum www_var)o->id);
			break;
		case OP_FRAG:
			put_frag(c, (enum www_frag)o->id, layout);
			break;
		}
	}
}

static const struct www_lang *find_lang(const struct cg_www *w, const char *tag)
{
	for (size_t i = 0; tag && i < w->nlangs; i++)
		if (!strcmp(w->tags[i], tag))
			return &w->langs[i];
	return &w->langs[0];
}

char *cg_www_render(const struct cg_www *w, enum cg_www_page page,
		    const char *lang, const struct cg_www_vars *v, size_t *len)
{
	static const struct cg_www_vars none;
	if (!w || (unsigned)page >= CG_WWW__PAGES)
		return NULL;
	struct ctx c = {.w = w,
			.l = find_lang(w, lang),
			.v = v ? v : &none,
			.page = (unsigned)page};
	v = c.v;
	c.status = v->status >= 100 && v->status <= 599 ? v->status : 500;
	snprintf(c.status_s, sizeof(c.status_s), "%d", c.status);
	c.ph[PH_CAFE] = v->site ? str(v->site->cafe_name) : "";
	c.ph[PH_SEAT] =
	    v->seat && v->seat[0] ? v->seat : text(&c, R_UNKNOWN_SEAT);
	c.ph[PH_TIME] = str(v->time);
	c.ph[PH_HOST] =
	    v->host && v->host[0] ? v->host : text(&c, R_UNKNOWN_SITE);
	c.ph[PH_CATEGORY] = category_words(&c, v->category, v->category_title);
	c.ph[PH_STATUS] = c.status_s;
	c.b.cap = 8192;
	c.b.p = malloc(c.b.cap);
	c.b.fail = !c.b.p;
	render_ops(&c, &w->tmpl[WWW_LAYOUT]);
	if (c.b.fail) {
		free(c.b.p);
		return NULL;
	}
	c.b.p[c.b.n] = '\0';
	if (len)
		*len = c.b.n;
	return c.b.p;
}
