/*
 * policy: what to do with a flow, as a pure function of what is known
 * about it and the rules.  No I/O, no clock, no globals: the same function
 * decides for the daemon, for replay and for the CLI, and is tested as a
 * table of cases.
 */
#ifndef CAFEGUARD_POLICY_H
#define CAFEGUARD_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cafeguard/rules.h"

/* What is known about a flow at one moment. */
struct cg_facts {
	const char *host;     /* canonical name, or NULL */
	size_t host_len;
	bool host_pending;    /* a parser is still reading a name */
	uint16_t app_master;  /* nDPI ids, CG_APP_UNKNOWN if none */
	uint16_t app_proto;
	bool app_known;       /* nDPI has answered (or gave up) */
	bool final;           /* no more facts will come: decide now */
};

enum cg_outcome {
	CG_PENDING = 0, /* not certain yet: keep inspecting */
	CG_ALLOW,
	CG_BLOCK,
};

enum cg_reason {
	CG_REASON_NONE = 0,   /* pending */
	CG_REASON_LIST,       /* the host is on a blocking list */
	CG_REASON_APP,        /* the application is blocked */
	CG_REASON_NOT_LISTED, /* allowed: a name, on no blocking list */
	CG_REASON_NO_NAME,    /* allowed: nothing to judge by */
};

struct cg_decision {
	enum cg_outcome outcome;
	enum cg_reason reason;
	/* CG_REASON_LIST: the list, the file (list->files[source]) and line
	 * of the entry; the entry is host + suffix. */
	const struct cg_list *list;
	uint16_t source;
	uint32_t line;
	uint8_t suffix;
	/* CG_REASON_APP: the blocked application id. */
	uint16_t app;
};

void cg_policy_decide(const struct cg_rules *rules, const struct cg_facts *f,
		      struct cg_decision *d);

const char *cg_outcome_str(enum cg_outcome o);
const char *cg_reason_str(enum cg_reason r);

/*
 * One-line reason for people ("list adult: blocked.test
 * (rules/lists/adult.txt:12)", "app BitTorrent"); names resolves app ids
 * and may be NULL.
 */
void cg_decision_describe(const struct cg_decision *d, const char *host,
			  const struct cg_classifier *names, char *out,
			  size_t outsz);

#endif
