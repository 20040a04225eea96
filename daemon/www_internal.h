/*
 * Private to the www module: www.c (loading a site from its directory,
 * static files), www_lang.c (translations, Accept-Language) and
 * www_template.c (templates) and www_render.c (pages).  The public contract is
 * include/cafeguard/www.h; the fuzzer enters through www_load_mem().
 */
#ifndef CAFEGUARD_WWW_INTERNAL_H
#define CAFEGUARD_WWW_INTERNAL_H

#include "cafeguard/www.h"

/* Every file of a site is read whole into memory, so each has a cap. */
#define WWW_MAX_FILE  (256u * 1024u)
#define WWW_MAX_LANGS 32u
#define WWW_MAX_FILES 64u

/* One string of a translation file: "splash.title" = "Welcome". */
struct www_kv {
	char *key;
	char *val;
	unsigned line;
};

struct www_lang {
	char *tag;  /* "pt-BR", as the file is named */
	char *file; /* "conf/www/lang/pt-BR.conf", for messages */
	struct www_kv *kv;
	size_t nkv;
	char **own_rules; /* house_rules as this file has them */
	size_t nown_rules;
	bool has_rules;
	/* After www_langs_link(): every key of the default language, by id,
	 * in this language or else the default's; the same for the rules. */
	const char **text;
	char *const *rules;
	size_t nrules;
};

/* Keys the C code itself needs (fragments, titles, reasons, errors);
 * the default language must have every one. */
enum www_req {
	R_UNKNOWN_SEAT,
	R_UNKNOWN_SITE,
	R_PHONE,
	R_TITLE_SPLASH,
	R_TITLE_BLOCK,
	R_TITLE_STATUS,
	R_TITLE_ERROR,
	R_STATE_OPEN,
	R_STATE_CAPTIVE,
	R_CAPTIVE_LINK,
	R_CAPTION,
	R_COL_TIME,
	R_COL_SITE,
	R_COL_WHY,
	R_NO_BLOCKS,
	R_WHY_LIST,
	R_WHY_APP,
	R_WHY_APP_CATEGORY,
	R_WHY_BUDGET,
	R_WHY_SCHEDULE,
	R_WHY_CAPTIVE,
	R_WHY_OTHER,
	R_ERR_400,
	R_ERR_403,
	R_ERR_404,
	R_ERR_405,
	R_ERR_413,
	R_ERR_414,
	R_ERR_429,
	R_ERR_431,
	R_ERR_500,
	R_ERR_503,
	R_ERR_OTHER,
	R__N
};
extern const char *const www_req_keys[R__N];

/* Placeholders a translated string may hold: "Welcome to {cafe}". */
enum www_ph {
	PH_CAFE,
	PH_SEAT,
	PH_TIME,
	PH_HOST,
	PH_CATEGORY,
	PH_STATUS,
	PH__N
};
extern const char *const www_ph_names[PH__N];

/* What a template may name besides texts: {{seat}}, {{{hotlines}}}. */
enum www_var {
	V_LANG,
	V_CAFE,
	V_SEAT,
	V_TIME,
	V_TITLE,
	V_HOST,
	V_REASON,
	V_CATEGORY,
	V_NEXT,
	V_TOKEN,
	V_STATUS,
	V_MESSAGE,
	V__N
};

enum www_frag { F_BODY, F_HOTLINES, F_RULES, F_STATE, F_BLOCKS, F__N };

/* A template compiled at load: literal text and the values between. */
enum www_op_kind { OP_TEXT, OP_T, OP_VAR, OP_FRAG };
struct www_op {
	enum www_op_kind kind;
	unsigned id;	 /* key id (OP_T), enum www_var or enum www_frag */
	size_t off, len; /* OP_TEXT: the bytes of the template text */
};

struct www_tmpl {
	char *file;
	char *text;
	struct www_op *ops;
	size_t nops;
};

/* The layout is a template like the pages, after them. */
#define WWW_LAYOUT CG_WWW__PAGES

struct www_file {
	char *name; /* "style.css" */
	uint8_t *data;
	size_t len;
	const char *mime;
};

struct www_cat {
	const char *name; /* "adult", for "categories.adult" */
	unsigned id;
};

struct cg_www {
	struct www_lang *langs; /* [0] is the default */
	size_t nlangs;
	const char **tags;
	const char **keys; /* sorted; they point into langs[0].kv */
	size_t nkeys;
	unsigned req[R__N];
	struct www_cat *cats;
	size_t ncats;
	struct www_tmpl tmpl[CG_WWW__PAGES + 1];
	struct www_file *files;
	size_t nfiles;
};

/* A file already in memory: a language ("pt-BR") or a template. */
struct www_source {
	const char *file; /* for messages */
	const char *tag;  /* languages only */
	const char *text;
	size_t len;
};

/*
 * Builds a site without its static files from texts in memory: langs[0]
 * is the default language, tmpl[] the pages in enum cg_www_page order and
 * then the layout.  cg_www_load() reads the files and calls this.
 */
int www_load_mem(const struct www_source *langs, size_t nlangs,
		 const struct www_source tmpl[CG_WWW__PAGES + 1],
		 struct cg_www **out, struct cg_diag *d);

/* www_lang.c */
int www_lang_parse(struct www_lang *l, const char *text, size_t len,
		   struct cg_diag *d);
int www_langs_link(struct cg_www *w, struct cg_diag *d);
void www_lang_free(struct www_lang *l);
/* The id of a key of the default language; -1 if it has none. */
long www_key_id(const struct cg_www *w, const char *key);
/* The words of a category in l: its "categories.<name>" (any case). */
const char *www_category_words(const struct cg_www *w, const struct www_lang *l,
			       const char *name);
/* A placeholder "{name}" at s[0]: its length with the braces, or 0. */
size_t www_placeholder(const char *s, enum www_ph *ph, bool *known);

/* www_template.c (cg_www_render() is www_render.c) */
int www_tmpl_compile(struct cg_www *w, struct www_tmpl *t, unsigned page,
		     const char *text, size_t len, struct cg_diag *d);
void www_tmpl_free(struct www_tmpl *t);

#endif
