/*
 * clock: the box's local time for schedules and budgets.
 *
 * localtime_r takes the C library's time-zone lock, so the packet path
 * never calls it: each worker keeps the UTC offset it last read (refreshed
 * once a second, which also follows a DST change) and turns wall-clock
 * seconds into local weekday, minute and day with arithmetic.
 *
 * A test or demo clock shifts the wall clock by a fixed amount
 * (`cafeguardd --fake-time`), changeable while running through the
 * control socket; a daemon started without it cannot be shifted.
 */
#ifndef CAFEGUARD_CLOCK_H
#define CAFEGUARD_CLOCK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "cafeguard/policy.h"

/* Shared by all threads: the shift added to the wall clock. */
struct cg_clock {
	_Atomic int64_t shift_s;
	bool fake; /* shifting allowed */
};

/* One thread's cache of the time-zone offset. */
struct cg_localtime {
	int64_t tz_offset_s; /* seconds east of UTC */
	int64_t refreshed_s; /* when it was read (UTC seconds) */
};

/* The policy's "now" in UTC seconds: the wall clock plus the shift. */
int64_t cg_clock_now(const struct cg_clock *c, uint64_t wall_ms);

/* Re-reads the offset if utc_s is a second or more after the last read. */
void cg_localtime_refresh(struct cg_localtime *lt, int64_t utc_s);

/* Local weekday and minute, and the local day number (days since
 * 1970-01-01 in local time: changes at local midnight). */
void cg_localtime_of(const struct cg_localtime *lt, int64_t utc_s,
		     struct cg_when *when, uint32_t *day);

/* "YYYY-MM-DD HH:MM" in local time -> UTC seconds; -1 if malformed. */
int cg_clock_parse_local(const char *s, int64_t *utc_s);

/* The same, from its parts (as config expects carry them). */
int64_t cg_clock_local_to_utc(int year, int month, int mday,
			      uint16_t minute);

#endif
