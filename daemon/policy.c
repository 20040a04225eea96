#include "cafeguard/policy.h"

#include <stdio.h>
#include <string.h>

static void set(struct cg_decision *d, enum cg_outcome o, enum cg_reason r)
{
	d->outcome = o;
	d->reason = r;
}

void cg_policy_decide(const struct cg_rules *rules, const struct cg_facts *f,
		      struct cg_decision *d)
{
	memset(d, 0, sizeof(*d));

	/* A listed name blocks at once, whatever else is still unknown. */
	if (f->host && f->host_len && rules->nblock) {
		struct cg_name_hashes nh;
		cg_domainset_hash_name(f->host, f->host_len, &nh);
		for (size_t i = 0; i < rules->nblock; i++) {
			const struct cg_list *l = &rules->lists[rules->block[i]];
			struct cg_domain_match m;
			if (l->set && cg_domainset_lookup(l->set, &nh, &m)) {
				set(d, CG_BLOCK, CG_REASON_LIST);
				d->list = l;
				d->source = m.source;
				d->line = m.line;
				d->suffix = m.suffix;
				return;
			}
		}
	}

	/* nDPI reports master (TLS) and application (Google) separately;
	 * "Tor" must block TLS.Tor as well as plain Tor. */
	if (cg_rules_blocks_app(rules, f->app_proto) ||
	    cg_rules_blocks_app(rules, f->app_master)) {
		set(d, CG_BLOCK, CG_REASON_APP);
		d->app = cg_rules_blocks_app(rules, f->app_proto) ? f->app_proto
								 : f->app_master;
		return;
	}

	bool have_name = f->host && f->host_len;
	bool name_settled = !f->host_pending || f->final;
	bool app_settled = !rules->needs_app || f->app_known || f->final;

	if (have_name && name_settled && app_settled) {
		set(d, CG_ALLOW, CG_REASON_NOT_LISTED);
		return;
	}
	/* No name will come: what nDPI says is all there is. */
	if (!have_name && name_settled && (f->app_known || f->final)) {
		set(d, CG_ALLOW, CG_REASON_NO_NAME);
		return;
	}
	if (f->final) {
		set(d, CG_ALLOW,
		    have_name ? CG_REASON_NOT_LISTED : CG_REASON_NO_NAME);
		return;
	}
	set(d, CG_PENDING, CG_REASON_NONE);
}

const char *cg_outcome_str(enum cg_outcome o)
{
	switch (o) {
	case CG_PENDING:
		return "pending";
	case CG_ALLOW:
		return "allow";
	case CG_BLOCK:
		return "block";
	}
	return "?";
}

const char *cg_reason_str(enum cg_reason r)
{
	switch (r) {
	case CG_REASON_NONE:
		return "-";
	case CG_REASON_LIST:
		return "list";
	case CG_REASON_APP:
		return "app";
	case CG_REASON_NOT_LISTED:
		return "not-listed";
	case CG_REASON_NO_NAME:
		return "no-name";
	}
	return "?";
}

void cg_decision_describe(const struct cg_decision *d, const char *host,
			  const struct cg_classifier *names, char *out,
			  size_t outsz)
{
	switch (d->reason) {
	case CG_REASON_LIST: {
		const char *file = d->source < d->list->nfiles
					   ? d->list->files[d->source]
					   : "?";
		snprintf(out, outsz, "list %s: %s (%s:%u)", d->list->name,
			 host ? host + d->suffix : "?", file, d->line);
		break;
	}
	case CG_REASON_APP:
		if (names)
			snprintf(out, outsz, "app %s",
				 cg_classifier_app_name(names, d->app));
		else
			snprintf(out, outsz, "app %u", d->app);
		break;
	case CG_REASON_NOT_LISTED:
		snprintf(out, outsz, "not listed");
		break;
	case CG_REASON_NO_NAME:
		snprintf(out, outsz, "no name to judge");
		break;
	case CG_REASON_NONE:
		snprintf(out, outsz, "-");
		break;
	}
}
