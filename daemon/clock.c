#include "cafeguard/clock.h"

#include <time.h>

#include "cafeguard/config.h"

int64_t cg_clock_now(const struct cg_clock *c, uint64_t wall_ms)
{
	int64_t shift = c ? atomic_load_explicit(&c->shift_s,
						  memory_order_relaxed)
			  : 0;
	return (int64_t)(wall_ms / 1000u) + shift;
}

void cg_localtime_refresh(struct cg_localtime *lt, int64_t utc_s)
{
	if (lt->refreshed_s && utc_s >= lt->refreshed_s &&
	    utc_s - lt->refreshed_s < 1)
		return;
	time_t t = (time_t)utc_s;
	struct tm tm;
	if (localtime_r(&t, &tm))
		lt->tz_offset_s = tm.tm_gmtoff;
	lt->refreshed_s = utc_s;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b && (a < 0) != (b < 0)) ? q - 1 : q;
}

void cg_localtime_of(const struct cg_localtime *lt, int64_t utc_s,
		     struct cg_when *when, uint32_t *day)
{
	int64_t local = utc_s + lt->tz_offset_s;
	int64_t d = floor_div(local, 86400);
	int64_t secs = local - d * 86400;
	when->minute = (uint16_t)(secs / 60);
	/* 1970-01-01 was a Thursday (weekday 4). */
	when->wday = (uint8_t)(((d % 7) + 7 + 4) % 7);
	if (day)
		*day = (uint32_t)(d < 0 ? 0 : d);
}

int64_t cg_clock_local_to_utc(int year, int month, int mday, uint16_t minute)
{
	struct tm tm = {
		.tm_year = year - 1900,
		.tm_mon = month - 1,
		.tm_mday = mday,
		.tm_hour = minute / 60,
		.tm_min = minute % 60,
		.tm_isdst = -1, /* let the zone say */
	};
	return (int64_t)mktime(&tm);
}

int cg_clock_parse_local(const char *s, int64_t *utc_s)
{
	int y, mo, d;
	uint16_t minute;
	if (cg_config_parse_at(s, &y, &mo, &d, &minute) < 0)
		return -1;
	*utc_s = cg_clock_local_to_utc(y, mo, d, minute);
	return 0;
}
