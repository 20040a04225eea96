#include "cafeguard/explain.h"

#include <string.h>
#include <time.h>

#include "cafeguard/clock.h"
#include "cafeguard/decode.h"

static const char *const wday_names[7] = {"Sunday",   "Monday", "Tuesday",
					  "Wednesday", "Thursday", "Friday",
					  "Saturday"};

int cg_explain_inputs(const struct cg_rules *r, const struct cg_state *state,
		      const struct cg_classifier *names,
		      const struct cg_explain_query *q, struct cg_who *who,
		      struct cg_when *when, struct cg_facts *facts,
		      struct cg_error *err)
{
	if (!r->nprofiles)
		return cg_error_set(err, "the rule set has no profiles");
	int seat = -1;
	switch (q->who) {
	case CG_WHO_SEAT:
		seat = cg_rules_seat_by_name(r, q->whom);
		if (seat < 0)
			return cg_error_set(err, "no seat \"%s\" in the rules",
					    q->whom);
		break;
	case CG_WHO_IP:
		seat = cg_rules_seat(r, NULL, q->ip.family, q->ip.addr);
		break;
	case CG_WHO_MAC: {
		uint8_t none[16] = {0};
		seat = cg_rules_seat(r, q->mac, 0, none);
		break;
	}
	case CG_WHO_PROFILE: {
		int p = cg_rules_profile(r, q->whom);
		if (p < 0)
			return cg_error_set(err,
					    "no profile \"%s\" in the rules",
					    q->whom);
		who->seat = -1;
		who->profile = (uint16_t)p;
		who->src = CG_WHO_SRC_SEAT; /* chosen by hand */
		break;
	}
	case CG_WHO_DEFAULT:
		break;
	}
	if (q->who != CG_WHO_PROFILE)
		cg_state_who(state, r, seat, q->at_utc, who);

	struct cg_localtime lt = {0};
	cg_localtime_refresh(&lt, q->at_utc);
	cg_localtime_of(&lt, q->at_utc, when, NULL);

	memset(facts, 0, sizeof(*facts));
	facts->host = q->host;
	facts->host_len = q->host ? strlen(q->host) : 0;
	/* Offline there is no more to learn: decide on what was given. */
	facts->app_known = true;
	facts->final = true;
	if (q->app) {
		if (!names)
			return cg_error_set(err, "no application names loaded");
		int id = cg_classifier_app_id(names, q->app);
		if (id <= 0)
			return cg_error_set(err,
					    "unknown application \"%s\" "
					    "(`cafeguardctl apps` lists them)",
					    q->app);
		facts->app_master = facts->app_proto = (uint16_t)id;
		facts->app_category =
			cg_classifier_app_category(names, (uint16_t)id);
	}
	return 0;
}

static void window_text(const struct cg_window *w, char *out, size_t outsz)
{
	static const char *const d3[7] = {"sun", "mon", "tue", "wed",
					  "thu", "fri", "sat"};
	char days[40] = "";
	size_t o = 0;
	if (w->days == 0x7f)
		snprintf(days, sizeof(days), "every day");
	else
		for (int i = 0; i < 7; i++)
			if (w->days & (1u << i))
				o += (size_t)snprintf(days + o,
						      sizeof(days) - o, "%s%s",
						      o ? "," : "", d3[i]);
	snprintf(out, outsz, "%s %02u:%02u-%02u:%02u (%s:%u)", days,
		 w->from / 60u, w->from % 60u, w->to / 60u, w->to % 60u,
		 w->file, w->line);
}

static void who_text(const struct cg_rules *r, const struct cg_state *state,
		     const struct cg_explain_query *q, const struct cg_who *who,
		     FILE *out)
{
	const char *prof = r->profiles[who->profile].name;
	if (q->who == CG_WHO_PROFILE) {
		fprintf(out, "who:      profile %s (given)\n", prof);
		return;
	}
	if (who->seat < 0) {
		fprintf(out, "who:      not a seat -> the default profile %s\n",
			prof);
		return;
	}
	const struct cg_seat *s = &r->seats[who->seat];
	fprintf(out, "who:      seat %s (%s:%u) -> profile %s", s->name,
		s->file, s->line, prof);
	if (who->src == CG_WHO_SRC_SESSION) {
		uint16_t p;
		int64_t until;
		if (cg_state_session(state, (size_t)who->seat, q->at_utc, &p,
				     &until)) {
			char u[40];
			time_t t = (time_t)until;
			struct tm tm;
			localtime_r(&t, &tm);
			strftime(u, sizeof(u), "%Y-%m-%d %H:%M", &tm);
			fprintf(out, ", a seat session until %s (the seat's "
				     "own profile is %s)",
				u, r->profiles[s->profile].name);
		}
	} else {
		fprintf(out, " (the seat's profile)");
	}
	fputc('\n', out);
}

int cg_explain(const struct cg_rules *r, const struct cg_state *state,
	       const struct cg_classifier *names,
	       const struct cg_explain_query *q, FILE *out,
	       struct cg_error *err)
{
	struct cg_who who;
	struct cg_when when;
	struct cg_facts f;
	if (cg_explain_inputs(r, state, names, q, &who, &when, &f, err) < 0)
		return -1;
	uint16_t used[32] = {0};
	const struct cg_profile *p = &r->profiles[who.profile];
	struct cg_localtime lt = {0};
	cg_localtime_refresh(&lt, q->at_utc);
	uint32_t day;
	cg_localtime_of(&lt, q->at_utc, &when, &day);
	if (state)
		cg_state_used_profile(state, r, p, who.seat, day, used);
	struct cg_digest_scratch *dg = cg_digest_scratch_new();
	struct cg_decision d;
	struct cg_trace t;
	cg_policy_decide(r, &who, &when, &f, used, dg, &d, &t);
	cg_digest_scratch_free(dg);

	who_text(r, state, q, &who, out);
	fprintf(out, "when:     %s %02u:%02u (local time)\n",
		wday_names[when.wday], when.minute / 60u, when.minute % 60u);
	if (q->host)
		fprintf(out, "host:     %s\n", q->host);
	if (q->app)
		fprintf(out, "app:      %s (category %s)\n", q->app,
			names ? cg_classifier_category_name(names,
							    f.app_category)
			      : "?");
	char buf[400], where[320];
	for (size_t i = 0; i < t.n; i++) {
		const struct cg_trace_step *s = &t.steps[i];
		const char *entry = q->host ? q->host + s->match.suffix : "?";
		const char *cat = r->cats[s->match.cat].name;
		if (s->kind != CG_T_WINDOW && s->kind != CG_T_APP &&
		    s->kind != CG_T_APP_CATEGORY && s->kind != CG_T_BUDGET &&
		    s->kind != CG_T_EVERYTHING)
			cg_match_where(r, &s->match, where, sizeof(where));
		switch (s->kind) {
		case CG_T_WINDOW:
			window_text(s->window, buf, sizeof(buf));
			fprintf(out, "schedule: window %s is open\n", buf);
			break;
		case CG_T_ALLOW_MATCH:
			fprintf(out, "  allow:  category %s lists %s%s (%s): "
				     "allowed, whatever else applies\n",
				cat, s->match.digest ? "the hash of " : "",
				entry, where);
			break;
		case CG_T_BLOCK_MATCH:
			fprintf(out, "  block:  category %s lists %s%s (%s)",
				cat, s->match.digest ? "the hash of " : "",
				entry, where);
			if (s->window) {
				window_text(s->window, buf, sizeof(buf));
				fprintf(out, ", blocked now by window %s",
					buf);
			}
			fputc('\n', out);
			break;
		case CG_T_LIFTED_MATCH:
			fprintf(out, "  lifted: category %s lists %s (%s), but "
				     "an open window lifts its block\n",
				cat, entry, where);
			break;
		case CG_T_LISTED:
			fprintf(out, "  listed: category %s lists %s (%s) "
				     "(counted by a budget, not blocked)\n",
				cat, entry, where);
			break;
		case CG_T_APP:
			fprintf(out, "  block:  application %s is blocked\n",
				names ? cg_classifier_app_name(names, s->id)
				      : "?");
			break;
		case CG_T_APP_CATEGORY:
			fprintf(out, "  block:  application category %s is "
				     "blocked\n",
				names ? cg_classifier_category_name(names,
								    s->id)
				      : "?");
			break;
		case CG_T_BUDGET:
			fprintf(out, "  budget: %s counts this: %u of %u min "
				     "used today (%s:%u)%s\n",
				s->budget->name, s->used, s->budget->minutes,
				s->budget->file, s->budget->line,
				s->used >= s->budget->minutes ? ", used up"
							      : "");
			break;
		case CG_T_EVERYTHING:
			window_text(s->window, buf, sizeof(buf));
			fprintf(out, "  block:  window %s blocks everything\n",
				buf);
			break;
		}
	}
	if (t.truncated)
		fprintf(out, "  (more steps than shown)\n");
	cg_decision_describe(r, &d, q->host, names, buf, sizeof(buf));
	fprintf(out, "decision: %s: %s\n",
		d.outcome == CG_BLOCK ? "BLOCK" : "ALLOW", buf);
	return (int)d.outcome;
}

size_t cg_expect_run(const struct cg_config *cfg, const struct cg_rules *r,
		     const struct cg_classifier *names, FILE *out)
{
	size_t failures = 0;
	struct cg_digest_scratch *dg = cg_digest_scratch_new();
	for (size_t i = 0; i < cfg->nexpects; i++) {
		const struct cg_config_expect *e = &cfg->expects[i];
		struct cg_explain_query q = {
			.who = e->who,
			.whom = e->whom.name,
			.ip = e->ip,
			.host = e->host,
			.app = e->app.name,
		};
		memcpy(q.mac, e->mac, 6);
		q.at_utc = e->has_at ? cg_clock_local_to_utc(e->year, e->month,
							     e->mday, e->minute)
				     : (int64_t)time(NULL);
		struct cg_who who;
		struct cg_when when;
		struct cg_facts f;
		struct cg_error err;
		if (cg_explain_inputs(r, NULL, names, &q, &who, &when, &f,
				      &err) < 0) {
			fprintf(out, "%s:%u: FAIL: %s\n", e->file, e->line,
				err.msg);
			failures++;
			continue;
		}
		struct cg_decision d;
		cg_policy_decide(r, &who, &when, &f, NULL, dg, &d, NULL);
		bool blocked = d.outcome == CG_BLOCK;
		char why[400];
		cg_decision_describe(r, &d, e->host, names, why, sizeof(why));
		const char *what = e->host ? e->host : e->app.name;
		if (blocked == e->want_block) {
			fprintf(out, "%s:%u: ok: %s %s (%s)\n", e->file,
				e->line, what, blocked ? "blocked" : "allowed",
				why);
		} else {
			fprintf(out, "%s:%u: FAIL: %s: expected %s, got %s "
				     "(%s) for profile %s\n",
				e->file, e->line, what,
				e->want_block ? "block" : "allow",
				blocked ? "block" : "allow", why,
				r->profiles[who.profile].name);
			failures++;
		}
	}
	cg_digest_scratch_free(dg);
	return failures;
}
