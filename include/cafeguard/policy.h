/*
 * policy: what to do with a flow, as a pure function of who is asking,
 * when, what is known about the flow, the budgets used so far and the
 * rules.  No I/O, no clock, no globals: the same function decides for the
 * daemon, for replay and for `cafeguardctl explain` and `test`, and is
 * tested as a table of cases.
 *
 * Precedence, the same everywhere (rules/README.md teaches it):
 *   1. an allow list naming the host allows, whatever else applies;
 *   2. a blocked category listing the host blocks;
 *   3. a blocked application or application category blocks;
 *   4. a budget used up blocks what it counts;
 *   5. a schedule window blocking everything blocks;
 *   6. otherwise the flow is allowed.
 * Blocks are the profile's own plus those of the schedule windows open
 * now, minus what open windows lift.
 */
#ifndef CAFEGUARD_POLICY_H
#define CAFEGUARD_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cafeguard/rules.h"

/* The box's local time. */
struct cg_when {
	uint8_t wday;    /* 0 = Sunday */
	uint16_t minute; /* from local midnight */
};

enum cg_who_src {
	CG_WHO_SRC_SEAT = 0, /* the seat's own profile */
	CG_WHO_SRC_SESSION,  /* a seat session switched it for a while */
	CG_WHO_SRC_DEFAULT,  /* not a seat: the default profile */
};

struct cg_who {
	int seat;          /* index, -1 if not a seat */
	uint16_t profile;
	uint8_t src;       /* enum cg_who_src */
};

/* What is known about a flow at one moment. */
struct cg_facts {
	const char *host;      /* canonical name, or NULL */
	size_t host_len;
	bool host_pending;     /* a parser is still reading a name */
	uint16_t app_master;   /* nDPI ids, CG_APP_UNKNOWN if none */
	uint16_t app_proto;
	uint16_t app_category; /* nDPI category id */
	bool app_known;        /* nDPI has answered (or gave up) */
	bool final;            /* no more facts will come: decide now */
};

enum cg_outcome {
	CG_PENDING = 0, /* not certain yet: keep inspecting */
	CG_ALLOW,
	CG_BLOCK,
};

enum cg_reason {
	CG_REASON_NONE = 0,     /* pending */
	CG_REASON_LIST,         /* a blocked category lists the host */
	CG_REASON_APP,          /* the application is blocked */
	CG_REASON_APP_CATEGORY, /* the application's category is blocked */
	CG_REASON_BUDGET,       /* a budget counting the flow is used up */
	CG_REASON_SCHEDULE,     /* a window blocks everything now */
	CG_REASON_ALLOW_LIST,   /* an allow list names the host */
	CG_REASON_NOT_LISTED,   /* allowed: a name, blocked by nothing */
	CG_REASON_NO_NAME,      /* allowed: nothing to judge by */
	CG_REASON_CAPTIVE,      /* the client has not accepted the splash
				   page (decided by the worker, not here) */
};

/* A host found in a category's list. */
struct cg_match {
	uint16_t cat;
	uint16_t source; /* file index in the category */
	uint32_t line;
	uint8_t suffix;  /* the entry is host + suffix */
	uint8_t digest;  /* enum cg_digest of the set that matched */
};

struct cg_decision {
	enum cg_outcome outcome;
	enum cg_reason reason;
	struct cg_match match;           /* LIST, ALLOW_LIST */
	uint16_t app;                    /* APP */
	uint16_t app_category;           /* APP_CATEGORY */
	const struct cg_window *window;  /* SCHEDULE; for LIST, APP and
					    APP_CATEGORY the window that
					    added the block, if one did */
	const struct cg_budget *budget;  /* BUDGET */
	/* Budgets of the profile the flow counts against while allowed:
	 * bit i = profile budget i. */
	uint32_t charge;
	/* Allowed for now, but a schedule of the profile may block it
	 * later: a long connection must be judged again as time passes. */
	bool recheck;
};

/* One step of a decision, for explain. */
enum cg_trace_kind {
	CG_T_WINDOW,        /* window is open now */
	CG_T_ALLOW_MATCH,   /* host on an allow list */
	CG_T_BLOCK_MATCH,   /* host on a blocked category's list */
	CG_T_LIFTED_MATCH,  /* host on a list whose block a window lifts */
	CG_T_LISTED,        /* host on a list the profile consults for a
			       budget only */
	CG_T_APP,           /* application blocked */
	CG_T_APP_CATEGORY,  /* application category blocked */
	CG_T_BUDGET,        /* a budget counts the flow (used, limit) */
	CG_T_EVERYTHING,    /* a window blocks everything */
};

struct cg_trace_step {
	enum cg_trace_kind kind;
	struct cg_match match;
	const struct cg_window *window;
	const struct cg_budget *budget;
	uint16_t used;      /* budget minutes used */
	uint16_t id;        /* app or app category */
};

#define CG_TRACE_MAX 96

struct cg_trace {
	struct cg_trace_step steps[CG_TRACE_MAX];
	size_t n;
	bool truncated;
};

/*
 * Decides.  used[i] is the minutes budget i of the profile has counted
 * today for this client (NULL: none used).  dg computes digests for lists
 * with hashed entries; it may be NULL when the rules have none
 * (rules->digests).  trace, when given, gets every step, including
 * matches an earlier rule made moot.
 */
void cg_policy_decide(const struct cg_rules *r, const struct cg_who *who,
		      const struct cg_when *when, const struct cg_facts *f,
		      const uint16_t *used, struct cg_digest_scratch *dg,
		      struct cg_decision *d, struct cg_trace *trace);

/* True while window w is open at when (a window crossing midnight belongs
 * to the day it starts). */
bool cg_window_open(const struct cg_window *w, const struct cg_when *when);

const char *cg_outcome_str(enum cg_outcome o);
const char *cg_reason_str(enum cg_reason r);

/*
 * One-line reason for people: "category adult: pornhub.com
 * (rules/lists/adult.hosts:35833)", "app BitTorrent", "budget games (60
 * of 60 min)".  names resolves application ids and may be NULL.
 */
void cg_decision_describe(const struct cg_rules *r,
			  const struct cg_decision *d, const char *host,
			  const struct cg_classifier *names, char *out,
			  size_t outsz);

/* "rules/lists/adult.hosts:35833" for a match. */
void cg_match_where(const struct cg_rules *r, const struct cg_match *m,
		    char *out, size_t outsz);

#endif
