/*
 * state: what changes while the gateway runs, beside the immutable rules:
 * seat sessions (a seat switched to another profile for a while, e.g. a
 * child on an adult seat) and budget counters (the minutes of the day a
 * client has used what a budget counts).
 *
 * Workers read sessions and charge budgets at the same time as main sets
 * sessions and saves: every field is an atomic word, no lock is taken.
 * A budget counter is one bit per minute of the local day, so the same
 * minute counted by two connections (or two workers) counts once.  The
 * state is sized for one rule set; a reload builds a new one and carries
 * sessions and counters over by seat, profile and budget name.  It is
 * saved to the state directory (one line per item, by name) so a restart
 * neither forgets a session nor refills a budget.
 */
#ifndef CAFEGUARD_STATE_H
#define CAFEGUARD_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cafeguard/diag.h"
#include "cafeguard/policy.h"
#include "cafeguard/rules.h"

struct cg_state;

struct cg_state *cg_state_new(const struct cg_rules *r);
void cg_state_free(struct cg_state *s);

/* Sets (until > now) or clears (until = 0) a seat session.  Any thread. */
void cg_state_set_session(struct cg_state *s, size_t seat, uint16_t profile,
			  int64_t until);

/* The session of a seat in force at now; false if none. */
bool cg_state_session(const struct cg_state *s, size_t seat, int64_t now,
		      uint16_t *profile, int64_t *until);

/* Who a client is now: its seat's session, its seat's profile, or the
 * default profile. */
void cg_state_who(const struct cg_state *s, const struct cg_rules *r,
		  int seat, int64_t now, struct cg_who *who);

/* Counts minute (0..1439) of local day for slot. */
void cg_state_charge(struct cg_state *s, uint32_t slot, uint32_t day,
		     uint16_t minute);

/* Minutes counted on day for slot. */
uint16_t cg_state_used(const struct cg_state *s, uint32_t slot, uint32_t day);

/* used[i] for every budget i of profile p, as client seat sees it. */
void cg_state_used_profile(const struct cg_state *s, const struct cg_rules *r,
			   const struct cg_profile *p, int seat, uint32_t day,
			   uint16_t *used);

/* Copies sessions and counters from src (built for rules sr) into dst
 * (for rules dr) wherever the names still exist; counters are merged, so
 * minutes charged into src after a first carry are not lost. */
void cg_state_carry(struct cg_state *dst, const struct cg_rules *dr,
		    const struct cg_state *src, const struct cg_rules *sr);

/* Writes path atomically (a temporary file renamed into place). */
int cg_state_save(const struct cg_state *s, const struct cg_rules *r,
		  const char *path, int64_t now, struct cg_error *err);

/* Reads path written by cg_state_save; items whose names no longer exist
 * are dropped with a note.  A missing file is no error. */
int cg_state_load(struct cg_state *s, const struct cg_rules *r,
		  const char *path, int64_t now, struct cg_diag *d);

#endif
