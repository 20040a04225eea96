/*
 * The small value parsers of the rule language: days of the week, times
 * of day, durations, "at" times and MAC addresses.  Plain text in, no
 * libconfig: the loader and the tests share them (config.h).
 */
#include "cafeguard/config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const day_names[7] = {"sun", "mon", "tue", "wed",
					 "thu", "fri", "sat"};

static int day_index(const char *s, size_t n)
{
	for (int i = 0; i < 7; i++)
		if (n == 3 && !strncasecmp(s, day_names[i], 3))
			return i;
	return -1;
}

int cg_config_parse_days(const char *s, uint8_t *days, char *err,
			 size_t errsz)
{
	static const struct {
		const char *word;
		uint8_t bits;
	} words[] = {
		{"all", 0x7f},      {"daily", 0x7f},   {"everyday", 0x7f},
		{"weekdays", 0x3e}, {"weekend", 0x41}, {"weekends", 0x41},
	};
	*days = 0;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (!strcasecmp(s, words[i].word)) {
			*days = words[i].bits;
			return 0;
		}
	const char *p = s;
	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		if (!*p)
			break;
		const char *e = p;
		while (*e && *e != ',' && *e != ' ' && *e != '-')
			e++;
		int a = day_index(p, (size_t)(e - p)), b = a;
		if (*e == '-') {
			const char *q = e + 1, *qe = q;
			while (*qe && *qe != ',' && *qe != ' ')
				qe++;
			b = day_index(q, (size_t)(qe - q));
			e = qe;
		}
		if (a < 0 || b < 0) {
			snprintf(err, errsz,
				 "\"%s\": days are mon..sun, ranges like "
				 "\"mon-fri\", lists like \"sat,sun\", or "
				 "\"all\", \"weekdays\", \"weekend\"",
				 s);
			return -1;
		}
		/* A range wraps over the week end: "fri-mon". */
		for (int d = a;; d = (d + 1) % 7) {
			*days = (uint8_t)(*days | (1u << d));
			if (d == b)
				break;
		}
		p = e;
	}
	if (!*days) {
		snprintf(err, errsz, "no days given");
		return -1;
	}
	return 0;
}

int cg_config_parse_hhmm(const char *s, uint16_t *minutes)
{
	unsigned h, m;
	char tail;
	if (strlen(s) != 5 || sscanf(s, "%2u:%2u%c", &h, &m, &tail) != 2)
		return -1;
	if (m > 59 || h > 24 || (h == 24 && m != 0))
		return -1;
	*minutes = (uint16_t)(h * 60 + m);
	return 0;
}

int cg_config_parse_duration(const char *s, uint32_t *minutes)
{
	uint32_t total = 0;
	const char *p = s;
	bool any = false;
	while (*p) {
		char *end;
		unsigned long v = strtoul(p, &end, 10);
		if (end == p || v > 100000)
			return -1;
		if (*end == 'h')
			total += (uint32_t)v * 60;
		else if (*end == 'm')
			total += (uint32_t)v;
		else
			return -1;
		any = true;
		p = end + 1;
	}
	if (!any)
		return -1;
	*minutes = total;
	return 0;
}

int cg_config_parse_at(const char *s, int *year, int *month, int *mday,
		       uint16_t *minute)
{
	int y, mo, d;
	unsigned h, mi;
	char tail;
	if (sscanf(s, "%4d-%2d-%2d %2u:%2u%c", &y, &mo, &d, &h, &mi, &tail) !=
	    5)
		return -1;
	if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 ||
	    h > 23 || mi > 59)
		return -1;
	/* A real date: 2026-02-30 is refused, not silently moved on. */
	struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
			.tm_hour = 12};
	time_t t = timegm(&tm);
	struct tm back;
	gmtime_r(&t, &back);
	if (back.tm_mday != d || back.tm_mon != mo - 1)
		return -1;
	*year = y;
	*month = mo;
	*mday = d;
	*minute = (uint16_t)(h * 60 + mi);
	return 0;
}

int cg_config_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned b[6];
	char tail;
	if (strlen(s) != 17 ||
	    sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5], &tail) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (s[i * 3 + 2] != ':' && i < 5)
			return -1;
		mac[i] = (uint8_t)b[i];
	}
	return 0;
}

int cg_config_parse_addr(const char *s, struct cg_config_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->addr) == 1) {
		a->family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a->addr) == 1) {
		a->family = 6;
		return 0;
	}
	return -1;
}
