/*
 * explain: a decision in words, with every rule, list file and line that
 * took part, and the rule-set tests ("expect" entries) that hold a rule
 * set to what its trainer meant.  Both run the daemon's own policy on
 * facts given by hand, offline: no packet, no nDPI detection.
 */
#ifndef CAFEGUARD_EXPLAIN_H
#define CAFEGUARD_EXPLAIN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cafeguard/classify.h"
#include "cafeguard/config.h"
#include "cafeguard/policy.h"
#include "cafeguard/rules.h"
#include "cafeguard/state.h"

/* Who and what to explain; the fields the user gave. */
struct cg_explain_query {
	enum cg_expect_who who;
	const char *whom;          /* seat or profile name */
	struct cg_config_addr ip;
	uint8_t mac[6];
	int64_t at_utc;            /* when; the caller fills "now" */
	const char *host;          /* canonical, or NULL */
	const char *app;           /* nDPI name, or NULL */
};

/*
 * Turns the user's words into policy inputs: who (seat or profile, by
 * name, address or MAC; sessions from state if given), when (local time
 * of at_utc), facts (host, app resolved with names).  Returns 0, or -1
 * with a message in err (unknown seat, profile or app).
 */
int cg_explain_inputs(const struct cg_rules *r, const struct cg_state *state,
		      const struct cg_classifier *names,
		      const struct cg_explain_query *q, struct cg_who *who,
		      struct cg_when *when, struct cg_facts *facts,
		      struct cg_error *err);

/*
 * Decides q and writes the explanation to out: who and why, the open
 * schedule windows, each list that names the host (and what it did), the
 * application rules, the budgets, and the decision with its reason.
 * Returns the outcome, or -1 (message in err) if the inputs are bad.
 */
int cg_explain(const struct cg_rules *r, const struct cg_state *state,
	       const struct cg_classifier *names,
	       const struct cg_explain_query *q, FILE *out,
	       struct cg_error *err);

/*
 * Runs every expect of cfg against r: one line per test ("file:line: ok:
 * ..." or "file:line: FAIL: ..."), the decision's reason on a failure.
 * Returns the number of failures (0: all hold).
 */
size_t cg_expect_run(const struct cg_config *cfg, const struct cg_rules *r,
		     const struct cg_classifier *names, FILE *out);

#endif
