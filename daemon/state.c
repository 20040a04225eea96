#include "cafeguard/state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* 1440 minutes of a day, one bit each. */
#define DAY_WORDS 23

struct counter {
	_Atomic uint32_t day;
	_Atomic uint64_t bits[DAY_WORDS];
};

struct cg_state {
	size_t nseats;
	_Atomic uint64_t *sessions; /* profile << 48 | until (s) */
	uint32_t nslots;
	struct counter *slots;
};

#define UNTIL_MASK ((UINT64_C(1) << 48) - 1)

struct cg_state *cg_state_new(const struct cg_rules *r)
{
	struct cg_state *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->nseats = r->nseats;
	s->nslots = r->nslots;
	s->sessions = calloc(r->nseats ? r->nseats : 1, sizeof(*s->sessions));
	s->slots = calloc(r->nslots ? r->nslots : 1, sizeof(*s->slots));
	if (!s->sessions || !s->slots) {
		cg_state_free(s);
		return NULL;
	}
	for (size_t i = 0; i < r->nseats; i++)
		atomic_init(&s->sessions[i], 0);
	for (uint32_t i = 0; i < r->nslots; i++) {
		atomic_init(&s->slots[i].day, 0);
		for (int w = 0; w < DAY_WORDS; w++)
			atomic_init(&s->slots[i].bits[w], 0);
	}
	return s;
}

void cg_state_free(struct cg_state *s)
{
	if (!s)
		return;
	free(s->sessions);
	free(s->slots);
	free(s);
}

void cg_state_set_session(struct cg_state *s, size_t seat, uint16_t profile,
			  int64_t until)
{
	if (seat >= s->nseats)
		return;
	uint64_t v = until > 0 ? ((uint64_t)profile << 48) |
					 ((uint64_t)until & UNTIL_MASK)
			       : 0;
	atomic_store_explicit(&s->sessions[seat], v, memory_order_release);
}

bool cg_state_session(const struct cg_state *s, size_t seat, int64_t now,
		      uint16_t *profile, int64_t *until)
{
	if (seat >= s->nseats)
		return false;
	uint64_t v = atomic_load_explicit(&s->sessions[seat],
					  memory_order_acquire);
	int64_t u = (int64_t)(v & UNTIL_MASK);
	if (!v || u <= now)
		return false; /* a session reverts by itself when it ends */
	*profile = (uint16_t)(v >> 48);
	if (until)
		*until = u;
	return true;
}

void cg_state_who(const struct cg_state *s, const struct cg_rules *r,
		  int seat, int64_t now, struct cg_who *who)
{
	who->seat = seat;
	uint16_t p;
	if (seat >= 0 && s && cg_state_session(s, (size_t)seat, now, &p, NULL) &&
	    p < r->nprofiles) {
		who->profile = p;
		who->src = CG_WHO_SRC_SESSION;
	} else if (seat >= 0 && (size_t)seat < r->nseats) {
		who->profile = r->seats[seat].profile;
		who->src = CG_WHO_SRC_SEAT;
	} else {
		who->profile = r->default_profile;
		who->src = CG_WHO_SRC_DEFAULT;
	}
}

void cg_state_charge(struct cg_state *s, uint32_t slot, uint32_t day,
		     uint16_t minute)
{
	if (slot >= s->nslots || minute >= 1440)
		return;
	struct counter *c = &s->slots[slot];
	uint32_t d = atomic_load_explicit(&c->day, memory_order_acquire);
	if (d != day) {
		if (d > day)
			return; /* a clock set back: yesterday is not today */
		/* A new day: one thread wins the swap and clears.  A minute
		 * another thread counts in between may be lost; a budget
		 * errs by a minute at midnight at most. */
		if (atomic_compare_exchange_strong(&c->day, &d, day))
			for (int w = 0; w < DAY_WORDS; w++)
				atomic_store(&c->bits[w], 0);
	}
	atomic_fetch_or_explicit(&c->bits[minute / 64],
				 UINT64_C(1) << (minute % 64),
				 memory_order_relaxed);
}

uint16_t cg_state_used(const struct cg_state *s, uint32_t slot, uint32_t day)
{
	if (slot >= s->nslots)
		return 0;
	const struct counter *c = &s->slots[slot];
	if (atomic_load_explicit(&c->day, memory_order_acquire) != day)
		return 0;
	unsigned n = 0;
	for (int w = 0; w < DAY_WORDS; w++)
		n += (unsigned)__builtin_popcountll(atomic_load_explicit(
			&c->bits[w], memory_order_relaxed));
	return (uint16_t)n;
}

void cg_state_used_profile(const struct cg_state *s, const struct cg_rules *r,
			   const struct cg_profile *p, int seat, uint32_t day,
			   uint16_t *used)
{
	for (size_t b = 0; b < p->nbudgets; b++)
		used[b] = s ? cg_state_used(s, cg_budget_slot(r, &p->budgets[b],
							      seat),
					    day)
			    : 0;
}

static void merge_counter(struct counter *dst, const struct counter *src)
{
	uint32_t sd = atomic_load(&src->day), dd = atomic_load(&dst->day);
	if (!sd || sd < dd)
		return;
	if (sd > dd) {
		atomic_store(&dst->day, sd);
		for (int w = 0; w < DAY_WORDS; w++)
			atomic_store(&dst->bits[w], 0);
	}
	for (int w = 0; w < DAY_WORDS; w++)
		atomic_fetch_or(&dst->bits[w], atomic_load(&src->bits[w]));
}

void cg_state_carry(struct cg_state *dst, const struct cg_rules *dr,
		    const struct cg_state *src, const struct cg_rules *sr)
{
	for (size_t i = 0; i < dr->nseats; i++) {
		int j = cg_rules_seat_by_name(sr, dr->seats[i].name);
		if (j < 0)
			continue;
		uint64_t v = atomic_load(&src->sessions[j]);
		if (!v)
			continue;
		uint16_t sp = (uint16_t)(v >> 48);
		int dp = sp < sr->nprofiles
				 ? cg_rules_profile(dr, sr->profiles[sp].name)
				 : -1;
		if (dp < 0)
			continue;
		cg_state_set_session(dst, i, (uint16_t)dp,
				     (int64_t)(v & UNTIL_MASK));
	}
	for (size_t p = 0; p < dr->nprofiles; p++) {
		int sp = cg_rules_profile(sr, dr->profiles[p].name);
		if (sp < 0)
			continue;
		const struct cg_profile *dpr = &dr->profiles[p],
					*spr = &sr->profiles[sp];
		for (size_t b = 0; b < dpr->nbudgets; b++) {
			const struct cg_budget *db = &dpr->budgets[b], *sb = NULL;
			for (size_t k = 0; k < spr->nbudgets; k++)
				if (!strcmp(spr->budgets[k].name, db->name))
					sb = &spr->budgets[k];
			if (!sb || sb->shared != db->shared)
				continue;
			if (db->shared) {
				merge_counter(&dst->slots[db->first_slot],
					      &src->slots[sb->first_slot]);
				continue;
			}
			for (size_t i = 0; i < dr->nseats; i++) {
				int j = cg_rules_seat_by_name(
					sr, dr->seats[i].name);
				if (j >= 0)
					merge_counter(
						&dst->slots[cg_budget_slot(
							dr, db, (int)i)],
						&src->slots[cg_budget_slot(
							sr, sb, j)]);
			}
			merge_counter(&dst->slots[cg_budget_slot(dr, db, -1)],
				      &src->slots[cg_budget_slot(sr, sb, -1)]);
		}
	}
}

/* ---- persistence: "session SEAT PROFILE UNTIL" and "budget PROFILE
 * BUDGET WHO DAY WORDS..." with WHO a seat, "*others*" (clients that
 * are no seat) or "*all*" (a shared budget). */

static void save_counter(FILE *f, const char *profile, const char *budget,
			 const char *who, const struct counter *c)
{
	uint32_t day = atomic_load(&c->day);
	if (!day)
		return;
	bool any = false;
	for (int w = 0; w < DAY_WORDS; w++)
		any |= atomic_load(&c->bits[w]) != 0;
	if (!any)
		return;
	fprintf(f, "budget %s %s %s %u", profile, budget, who, day);
	for (int w = 0; w < DAY_WORDS; w++)
		fprintf(f, " %llx",
			(unsigned long long)atomic_load(&c->bits[w]));
	fputc('\n', f);
}

int cg_state_save(const struct cg_state *s, const struct cg_rules *r,
		  const char *path, int64_t now, struct cg_error *err)
{
	size_t n = strlen(path) + 16;
	char *tmp = malloc(n);
	if (!tmp)
		return cg_error_set(err, "state: out of memory");
	snprintf(tmp, n, "%s.XXXXXX", path);
	int fd = mkstemp(tmp);
	if (fd < 0) {
		int e = errno;
		free(tmp);
		return cg_error_set(err, "state file %s: %s", path,
				    strerror(e));
	}
	FILE *f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(tmp);
		free(tmp);
		return cg_error_set(err, "state file %s: %s", path,
				    strerror(errno));
	}
	fprintf(f, "# cafeguard state: seat sessions and today's budget "
		   "minutes, by name\n");
	for (size_t i = 0; i < r->nseats; i++) {
		uint16_t p;
		int64_t until;
		if (cg_state_session(s, i, now, &p, &until) &&
		    p < r->nprofiles)
			fprintf(f, "session %s %s %lld\n", r->seats[i].name,
				r->profiles[p].name, (long long)until);
	}
	for (size_t p = 0; p < r->nprofiles; p++) {
		const struct cg_profile *pr = &r->profiles[p];
		for (size_t b = 0; b < pr->nbudgets; b++) {
			const struct cg_budget *bu = &pr->budgets[b];
			if (bu->shared) {
				save_counter(f, pr->name, bu->name, "*all*",
					     &s->slots[bu->first_slot]);
				continue;
			}
			for (size_t i = 0; i < r->nseats; i++)
				save_counter(f, pr->name, bu->name,
					     r->seats[i].name,
					     &s->slots[cg_budget_slot(r, bu,
								      (int)i)]);
			save_counter(f, pr->name, bu->name, "*others*",
				     &s->slots[cg_budget_slot(r, bu, -1)]);
		}
	}
	bool bad = fflush(f) != 0 || fsync(fileno(f)) != 0;
	bad |= fclose(f) != 0;
	if (bad || rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		free(tmp);
		return cg_error_set(err, "state file %s: %s", path,
				    strerror(e));
	}
	free(tmp);
	return 0;
}

static const struct cg_budget *find_budget(const struct cg_rules *r,
					   const char *profile,
					   const char *budget)
{
	int p = cg_rules_profile(r, profile);
	if (p < 0)
		return NULL;
	const struct cg_profile *pr = &r->profiles[p];
	for (size_t b = 0; b < pr->nbudgets; b++)
		if (!strcmp(pr->budgets[b].name, budget))
			return &pr->budgets[b];
	return NULL;
}

int cg_state_load(struct cg_state *s, const struct cg_rules *r,
		  const char *path, int64_t now, struct cg_diag *d)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		cg_diag_add(d, CG_SEV_WARNING, path, 0,
			    "cannot read the saved state: %s", strerror(errno));
		return -1;
	}
	char line[1024];
	unsigned lineno = 0;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		char a[64], b[64], c[64];
		long long until;
		unsigned day;
		int off = 0;
		if (sscanf(line, "session %63s %63s %lld", a, b, &until) == 3) {
			int seat = cg_rules_seat_by_name(r, a);
			int prof = cg_rules_profile(r, b);
			if (seat < 0 || prof < 0) {
				cg_diag_add(d, CG_SEV_NOTE, path, lineno,
					    "session of seat \"%s\" dropped: "
					    "the seat or profile \"%s\" is "
					    "gone",
					    a, b);
				continue;
			}
			if (until > now)
				cg_state_set_session(s, (size_t)seat,
						     (uint16_t)prof, until);
			continue;
		}
		if (sscanf(line, "budget %63s %63s %63s %u%n", a, b, c, &day,
			   &off) == 4) {
			const struct cg_budget *bu = find_budget(r, a, b);
			int seat = -1;
			bool ok = bu != NULL;
			if (ok && !bu->shared && strcmp(c, "*others*")) {
				seat = cg_rules_seat_by_name(r, c);
				ok = seat >= 0;
			}
			if (!ok) {
				cg_diag_add(d, CG_SEV_NOTE, path, lineno,
					    "budget \"%s\" of profile \"%s\" "
					    "for \"%s\" dropped: no longer in "
					    "the rules",
					    b, a, c);
				continue;
			}
			struct counter *ct =
				&s->slots[cg_budget_slot(r, bu, seat)];
			const char *p = line + off;
			atomic_store(&ct->day, day);
			for (int w = 0; w < DAY_WORDS; w++) {
				char *end;
				unsigned long long v = strtoull(p, &end, 16);
				if (end == p)
					break;
				atomic_store(&ct->bits[w], v);
				p = end;
			}
			continue;
		}
		cg_diag_add(d, CG_SEV_WARNING, path, lineno,
			    "line not understood; ignored");
	}
	fclose(f);
	return 0;
}
