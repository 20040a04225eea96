/*
 * Translations of the portal (lang/<tag>.conf, libconfig) and the choice
 * of one for a client's Accept-Language.
 *
 * A translation file is groups of strings ("splash.title") and one list,
 * house_rules.  The default language defines which keys exist; another
 * language may lack some (a warning: the default's text is shown) but
 * may not add any a template could never reach (also a warning).
 */
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "www_internal.h"

const char *const www_req_keys[R__N] = {
    [R_UNKNOWN_SEAT] = "common.unknown_seat",
    [R_UNKNOWN_SITE] = "common.unknown_site",
    [R_PHONE] = "common.phone",
    [R_TITLE_SPLASH] = "splash.title",
    [R_TITLE_BLOCK] = "block.title",
    [R_TITLE_STATUS] = "status.title",
    [R_TITLE_ERROR] = "error.title",
    [R_STATE_OPEN] = "status.open",
    [R_STATE_CAPTIVE] = "status.captive",
    [R_CAPTIVE_LINK] = "status.captive_link",
    [R_CAPTION] = "status.caption",
    [R_COL_TIME] = "status.col_time",
    [R_COL_SITE] = "status.col_site",
    [R_COL_WHY] = "status.col_why",
    [R_NO_BLOCKS] = "status.none",
    [R_WHY_LIST] = "reasons.list",
    [R_WHY_APP] = "reasons.app",
    [R_WHY_APP_CATEGORY] = "reasons.app-category",
    [R_WHY_BUDGET] = "reasons.budget",
    [R_WHY_SCHEDULE] = "reasons.schedule",
    [R_WHY_CAPTIVE] = "reasons.captive",
    [R_WHY_OTHER] = "reasons.other",
    [R_ERR_400] = "errors.bad_request",
    [R_ERR_403] = "errors.forbidden",
    [R_ERR_404] = "errors.not_found",
    [R_ERR_405] = "errors.method",
    [R_ERR_413] = "errors.too_large",
    [R_ERR_414] = "errors.uri_too_long",
    [R_ERR_429] = "errors.too_many",
    [R_ERR_431] = "errors.headers_too_large",
    [R_ERR_500] = "errors.internal",
    [R_ERR_503] = "errors.busy",
    [R_ERR_OTHER] = "errors.other",
};

const char *const www_ph_names[PH__N] = {
    [PH_CAFE] = "cafe", [PH_SEAT] = "seat",	    [PH_TIME] = "time",
    [PH_HOST] = "host", [PH_CATEGORY] = "category", [PH_STATUS] = "status",
};

#define KEY_MAX	  128 /* "group.sub.key" */
#define DEPTH_MAX 3   /* groups in groups */
#define RULES_MAX 50
#define CATS	  "categories."

static bool name_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
}

size_t www_placeholder(const char *s, enum www_ph *ph, bool *known)
{
	size_t n = 1;
	while (n <= 32 && name_char(s[n]))
		n++;
	if (n == 1 || n > 32 || s[n] != '}')
		return 0;
	*known = false;
	for (unsigned i = 0; i < PH__N; i++) {
		if (strlen(www_ph_names[i]) == n - 1 &&
		    !strncmp(www_ph_names[i], s + 1, n - 1)) {
			*ph = (enum www_ph)i;
			*known = true;
		}
	}
	return n + 1;
}

struct walk {
	struct www_lang *l;
	struct cg_diag *d;
	size_t cap;
};

static void err_at(struct walk *k, const config_setting_t *s, const char *key,
		   const char *fmt, const char *arg)
{
	cg_diag_add(k->d, CG_SEV_ERROR, k->l->file,
		    config_setting_source_line(s), "%s: %s%s", key, fmt,
		    arg ? arg : "");
}

/* Words shown as a value (a category, "unknown computer") are escaped
 * as they are; braces in them would reach the page unexpanded. */
static bool is_value_key(const char *key)
{
	if (!strncmp(key, CATS, strlen(CATS)))
		return true;
	return !strcmp(key, www_req_keys[R_UNKNOWN_SEAT]) ||
	       !strcmp(key, www_req_keys[R_UNKNOWN_SITE]) ||
	       !strcmp(key, www_req_keys[R_PHONE]);
}

/* Only names we fill in may stand between braces, so a typo such as
 * "{saet}" is found when the file is loaded, not by a child. */
static void check_text(struct walk *k, const config_setting_t *s,
		       const char *key, const char *val)
{
	for (const char *p = strchr(val, '{'); p; p = strchr(p + 1, '{')) {
		enum www_ph ph;
		bool known;
		size_t n = www_placeholder(p, &ph, &known);
		if (n && known && is_value_key(key)) {
			cg_diag_add(k->d, CG_SEV_ERROR, k->l->file,
				    config_setting_source_line(s),
				    "%s: shown as a value, so it cannot hold "
				    "a placeholder",
				    key);
			return;
		}
		if (!n || known)
			continue;
		char word[40];
		snprintf(word, sizeof(word), "%.*s", (int)(n - 2), p + 1);
		const char *hint = cg_suggest(word, www_ph_names, PH__N);
		cg_diag_add(
		    k->d, CG_SEV_ERROR, k->l->file,
		    config_setting_source_line(s),
		    "%s: unknown placeholder {%s}%s%s%s (known: {cafe}, "
		    "{seat}, {time}, {host}, {category}, {status})",
		    key, word, hint ? " (did you mean {" : "", hint ? hint : "",
		    hint ? "}?)" : "");
	}
}

static void add_kv(struct walk *k, const config_setting_t *s, const char *key,
		   const char *val)
{
	struct www_lang *l = k->l;
	if (l->nkv == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 64;
		struct www_kv *v = realloc(l->kv, cap * sizeof(*v));
		if (!v) {
			err_at(k, s, key, "out of memory", NULL);
			return;
		}
		l->kv = v;
		k->cap = cap;
	}
	struct www_kv *e = &l->kv[l->nkv];
	e->key = strdup(key);
	e->val = strdup(val);
	e->line = config_setting_source_line(s);
	if (!e->key || !e->val) {
		free(e->key);
		free(e->val);
		err_at(k, s, key, "out of memory", NULL);
		return;
	}
	l->nkv++;
}

static void walk_rules(struct walk *k, const config_setting_t *s)
{
	struct www_lang *l = k->l;
	int n = config_setting_length(s);
	l->has_rules = true;
	if (n > RULES_MAX) {
		err_at(k, s, "house_rules", "more than 50 rules", NULL);
		return;
	}
	l->own_rules = calloc((size_t)n + 1, sizeof(*l->own_rules));
	if (!l->own_rules) {
		err_at(k, s, "house_rules", "out of memory", NULL);
		return;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *e =
		    config_setting_get_elem(s, (unsigned)i);
		const char *val = config_setting_get_string(e);
		if (!val) {
			err_at(k, e, "house_rules",
			       "must be a list of strings in double quotes",
			       NULL);
			continue;
		}
		check_text(k, e, "house_rules", val);
		char *dup = strdup(val);
		if (!dup) {
			err_at(k, e, "house_rules", "out of memory", NULL);
			continue;
		}
		l->own_rules[l->nown_rules++] = dup;
	}
}

static void walk_group(struct walk *k, const config_setting_t *g,
		       const char *prefix, unsigned depth)
{
	int n = config_setting_length(g);
	for (int i = 0; i < n; i++) {
		const config_setting_t *s =
		    config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(s);
		char key[KEY_MAX];
		int w = snprintf(key, sizeof(key), "%s%s%s", prefix,
				 prefix[0] ? "." : "", name ? name : "?");
		if (w < 0 || (size_t)w >= sizeof(key)) {
			err_at(k, s, prefix, "a key is at most 127 characters",
			       NULL);
			continue;
		}
		int type = config_setting_type(s);
		if (type == CONFIG_TYPE_STRING) {
			const char *val = config_setting_get_string(s);
			check_text(k, s, key, val);
			add_kv(k, s, key, val);
		} else if (type == CONFIG_TYPE_GROUP && depth < DEPTH_MAX) {
			walk_group(k, s, key, depth + 1);
		} else if (type == CONFIG_TYPE_GROUP) {
			err_at(k, s, key, "groups go at most 3 deep", NULL);
		} else if (!depth && !strcmp(key, "house_rules") &&
			   (type == CONFIG_TYPE_LIST ||
			    type == CONFIG_TYPE_ARRAY)) {
			walk_rules(k, s);
		} else {
			err_at(k, s, key,
			       !depth && !strcmp(key, "house_rules")
				   ? "must be a list [ \"...\", ... ]"
				   : "must be a string in double quotes "
				     "(only house_rules is a list)",
			       NULL);
		}
	}
}

/* libconfig would read an @include relative to the daemon's working
 * directory; a translation is one file, so the line is refused. */
static unsigned include_line(const char *text, size_t len)
{
	unsigned line = 1;
	bool start = true;
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\n') {
			line++;
			start = true;
		} else if (start && text[i] == '@' &&
			   !strncmp(text + i, "@include", 8)) {
			return line;
		} else if (text[i] != ' ' && text[i] != '\t') {
			start = false;
		}
	}
	return 0;
}

int www_lang_parse(struct www_lang *l, const char *text, size_t len,
		   struct cg_diag *d)
{
	size_t before = d->errors;
	const char *nul = memchr(text, '\0', len);
	if (nul) {
		unsigned line = 1;
		for (const char *p = text; p < nul; p++)
			line += *p == '\n';
		cg_diag_add(d, CG_SEV_ERROR, l->file, line,
			    "a NUL byte: not a text file");
		return -1;
	}
	unsigned inc = include_line(text, len);
	if (inc) {
		cg_diag_add(d, CG_SEV_ERROR, l->file, inc,
			    "a translation is one file: @include is not "
			    "allowed here");
		return -1;
	}
	config_t cfg;
	config_init(&cfg);
	if (config_read_string(&cfg, text) != CONFIG_TRUE) {
		cg_diag_add(d, CG_SEV_ERROR, l->file,
			    (unsigned)config_error_line(&cfg), "%s",
			    config_error_text(&cfg));
		config_destroy(&cfg);
		return -1;
	}
	struct walk k = {l, d, 0};
	walk_group(&k, config_root_setting(&cfg), "", 0);
	config_destroy(&cfg);
	return d->errors > before ? -1 : 0;
}

void www_lang_free(struct www_lang *l)
{
	for (size_t i = 0; i < l->nkv; i++) {
		free(l->kv[i].key);
		free(l->kv[i].val);
	}
	for (size_t i = 0; i < l->nown_rules; i++)
		free(l->own_rules[i]);
	free(l->own_rules);
	free(l->kv);
	free(l->text);
	free(l->tag);
	free(l->file);
}

static int cmp_key(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

long www_key_id(const struct cg_www *w, const char *key)
{
	const char *const *k =
	    bsearch(&key, w->keys, w->nkeys, sizeof(*w->keys), cmp_key);
	return k ? (long)(k - w->keys) : -1;
}

static void link_lang(struct cg_www *w, struct www_lang *l, struct cg_diag *d)
{
	const struct www_lang *def = &w->langs[0];
	for (size_t i = 0; i < l->nkv; i++) {
		const struct www_kv *e = &l->kv[i];
		long id = www_key_id(w, e->key);
		if (id >= 0)
			l->text[id] = e->val;
		else
			cg_diag_add(d, CG_SEV_WARNING, l->file, e->line,
				    "%s: not in the default language (%s), "
				    "so no page shows it",
				    e->key, def->tag);
	}
	for (size_t id = 0; id < w->nkeys; id++) {
		if (l->text[id])
			continue;
		cg_diag_add(d, CG_SEV_WARNING, l->file, 0,
			    "%s is missing; the %s text is shown", w->keys[id],
			    def->tag);
		l->text[id] = def->text[id];
	}
	l->rules = l->own_rules;
	l->nrules = l->nown_rules;
	if (!l->has_rules) {
		cg_diag_add(d, CG_SEV_WARNING, l->file, 0,
			    "house_rules is missing; the %s rules are shown",
			    def->tag);
		l->rules = def->own_rules;
		l->nrules = def->nown_rules;
	}
}

static int index_categories(struct cg_www *w)
{
	w->cats = calloc(w->nkeys + 1, sizeof(*w->cats));
	if (!w->cats)
		return -1;
	size_t pre = strlen(CATS);
	for (size_t id = 0; id < w->nkeys; id++) {
		const char *k = w->keys[id];
		if (!strncmp(k, CATS, pre) && !strchr(k + pre, '.')) {
			w->cats[w->ncats].name = k + pre;
			w->cats[w->ncats++].id = (unsigned)id;
		}
	}
	return 0;
}

int www_langs_link(struct cg_www *w, struct cg_diag *d)
{
	size_t before = d->errors;
	struct www_lang *def = &w->langs[0];
	w->keys = calloc(def->nkv + 1, sizeof(*w->keys));
	if (!w->keys)
		goto oom;
	for (size_t i = 0; i < def->nkv; i++)
		w->keys[i] = def->kv[i].key;
	w->nkeys = def->nkv;
	qsort(w->keys, w->nkeys, sizeof(*w->keys), cmp_key);
	for (unsigned r = 0; r < R__N; r++) {
		long id = www_key_id(w, www_req_keys[r]);
		if (id < 0)
			cg_diag_add(d, CG_SEV_ERROR, def->file, 0,
				    "%s is missing (the portal needs it in "
				    "the default language)",
				    www_req_keys[r]);
		w->req[r] = id < 0 ? 0 : (unsigned)id;
	}
	if (!def->has_rules)
		cg_diag_add(d, CG_SEV_ERROR, def->file, 0,
			    "house_rules is missing (a list of strings; "
			    "[ ] for none)");
	for (size_t i = 0; i < w->nlangs; i++) {
		w->langs[i].text = calloc(w->nkeys + 1, sizeof(char *));
		if (!w->langs[i].text)
			goto oom;
	}
	for (size_t i = 0; i < w->nlangs; i++)
		link_lang(w, &w->langs[i], d);
	if (index_categories(w) < 0)
		goto oom;
	return d->errors > before ? -1 : 0;
oom:
	cg_diag_add(d, CG_SEV_ERROR, def->file, 0, "out of memory");
	return -1;
}

const char *www_category_words(const struct cg_www *w, const struct www_lang *l,
			       const char *name)
{
	for (size_t i = 0; i < w->ncats; i++)
		if (!strcasecmp(w->cats[i].name, name))
			return l->text[w->cats[i].id];
	return NULL;
}

/* ---- Accept-Language (RFC 9110 12.5.4, RFC 4647 3.3 and 3.4) ---- */

/* A client chooses the header, so only its start is read: real
 * browsers send a few ranges in well under a hundred bytes. */
#define ACCEPT_MAX 1024
#define RANGES_MAX 32
#define TAG_MAX	   63

struct range {
	char tag[TAG_MAX + 1];
	unsigned q; /* 0..1000 */
	bool star;
};

static bool is_alpha(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static bool is_alnum(char ch)
{
	return is_alpha(ch) || (ch >= '0' && ch <= '9');
}

/* language-range = (1*8ALPHA *("-" 1*8alphanum)) / "*" (RFC 4647 2.1) */
static bool valid_range(const char *s, size_t n)
{
	if (n == 1 && s[0] == '*')
		return true;
	if (!n || n > TAG_MAX)
		return false;
	size_t run = 0;
	bool first = true;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '-') {
			if (!run)
				return false;
			run = 0;
			first = false;
		} else if (first ? is_alpha(s[i]) : is_alnum(s[i])) {
			if (++run > 8)
				return false;
		} else {
			return false;
		}
	}
	return run > 0;
}

/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) */
static bool parse_q(const char *s, size_t n, unsigned *q)
{
	if (!n || n > 5 || (s[0] != '0' && s[0] != '1'))
		return false;
	if (n > 1 && s[1] != '.')
		return false;
	unsigned v = s[0] == '1' ? 1000 : 0, scale = 100;
	for (size_t i = 2; i < n; i++, scale /= 10) {
		if (s[i] < '0' || s[i] > '9' || (s[0] == '1' && s[i] != '0'))
			return false;
		v += (unsigned)(s[i] - '0') * scale;
	}
	*q = v;
	return true;
}

static size_t skip_ows(const char *s, size_t i, size_t end)
{
	while (i < end && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i;
}

/* One element between commas: range *( OWS ";" OWS "q=" qvalue ). */
static bool parse_element(const char *s, size_t i, size_t end, struct range *r)
{
	i = skip_ows(s, i, end);
	size_t t = i;
	while (i < end && s[i] != ';' && s[i] != ' ' && s[i] != '\t')
		i++;
	if (!valid_range(s + t, i - t))
		return false;
	memcpy(r->tag, s + t, i - t);
	r->tag[i - t] = '\0';
	r->star = r->tag[0] == '*';
	r->q = 1000;
	for (;;) {
		i = skip_ows(s, i, end);
		if (i == end)
			return true;
		if (s[i] != ';')
			return false;
		i = skip_ows(s, i + 1, end);
		if (end - i < 2 || (s[i] != 'q' && s[i] != 'Q') ||
		    s[i + 1] != '=')
			return false;
		i += 2;
		size_t v = i;
		while (i < end && s[i] != ';' && s[i] != ' ' && s[i] != '\t')
			i++;
		if (!parse_q(s + v, i - v, &r->q))
			return false;
	}
}

static size_t parse_ranges(const char *s, struct range *r)
{
	size_t len = strnlen(s, ACCEPT_MAX + 1), n = 0;
	/* A header longer than we read loses its cut-off last element. */
	if (len > ACCEPT_MAX) {
		len = ACCEPT_MAX;
		while (len && s[len] != ',')
			len--;
	}
	for (size_t i = 0; i < len && n < RANGES_MAX;) {
		const char *comma = memchr(s + i, ',', len - i);
		size_t end = comma ? (size_t)(comma - s) : len;
		if (parse_element(s, i, end, &r[n]))
			n++;
		i = end + 1;
	}
	return n;
}

static size_t primary_len(const char *t)
{
	const char *dash = strchr(t, '-');
	return dash ? (size_t)(dash - t) : strlen(t);
}

/* How closely range r names tag t: 4 the same; 3 r a prefix of t ("pt"
 * for "pt-BR"); 2 t a prefix of r ("en" for "en-US", RFC 4647 lookup);
 * 1 the same primary language ("pt-PT" for "pt-BR"); 0 none. */
static int closeness(const char *r, const char *t)
{
	size_t lr = strlen(r), lt = strlen(t);
	if (lr == lt && !strcasecmp(r, t))
		return 4;
	if (lr < lt && !strncasecmp(r, t, lr) && t[lr] == '-')
		return 3;
	if (lt < lr && !strncasecmp(r, t, lt) && r[lt] == '-')
		return 2;
	size_t pr = primary_len(r);
	if (pr == primary_len(t) && !strncasecmp(r, t, pr))
		return 1;
	return 0;
}

struct score {
	unsigned q;
	size_t pos; /* the range that gave q: an earlier one wins a tie */
	int close;
};

/* The best a language gets from the ranges; q 0 if it is not
 * acceptable ("pt;q=0" refuses pt-BR; "*" counts only for languages
 * no other range names). */
static struct score score_lang(const char *tag, const struct range *r, size_t n)
{
	struct score s = {0, SIZE_MAX, 0}, star = {0, SIZE_MAX, 0};
	bool named = false;
	for (size_t j = 0; j < n; j++) {
		if (r[j].star) {
			star = (struct score){r[j].q, j, 0};
			continue;
		}
		int c = closeness(r[j].tag, tag);
		if (!c)
			continue;
		if (!r[j].q && c >= 3)
			return (struct score){0, SIZE_MAX, 0};
		if (!r[j].q)
			continue;
		named = true;
		if (r[j].q > s.q)
			s = (struct score){r[j].q, j, c};
		else if (r[j].q == s.q && c > s.close)
			s.close = c;
	}
	return named ? s : star;
}

const char *cg_www_negotiate(const struct cg_www *w, const char *accept)
{
	if (!accept)
		return w->tags[0];
	struct range r[RANGES_MAX];
	size_t n = parse_ranges(accept, r);
	size_t best = 0;
	struct score bs = {0, SIZE_MAX, 0};
	for (size_t i = 0; i < w->nlangs; i++) {
		struct score s = score_lang(w->tags[i], r, n);
		if (!s.q)
			continue;
		if (s.q > bs.q || (s.q == bs.q && s.pos < bs.pos) ||
		    (s.q == bs.q && s.pos == bs.pos && s.close > bs.close)) {
			bs = s;
			best = i;
		}
	}
	return w->tags[best];
}
