/*
 * Fuzzes the control request parser: whatever it accepts has bounded,
 * clean fields and survives a format/parse round trip unchanged.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cafeguard/control.h"

static void check_name(const char *s)
{
	size_t n = strnlen(s, CG_CTL_NAME_MAX + 1);
	if (n > CG_CTL_NAME_MAX)
		abort();
	for (size_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789-_",
			    s[i]))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cg_ctl_request req;
	char why[160];
	if (cg_ctl_parse((const char *)data, size, &req, why, sizeof(why)) < 0) {
		if (!why[0] || strnlen(why, sizeof(why)) == sizeof(why))
			abort();
		return 0;
	}
	check_name(req.seat);
	check_name(req.profile);
	if (req.cmd == CG_CTL_SEAT_SET &&
	    (req.seconds == 0 || req.seconds > 7 * 86400 || !req.seat[0] ||
	     !req.profile[0]))
		abort();
	if (req.cmd == CG_CTL_CLOCK && (req.utc < 0 || req.utc > INT64_C(1) << 40))
		abort();
	char line[CG_CTL_LINE_MAX + 2];
	size_t n = cg_ctl_format(&req, line, sizeof(line));
	struct cg_ctl_request back;
	if (!n || cg_ctl_parse(line, n, &back, why, sizeof(why)) < 0 ||
	    memcmp(&back, &req, sizeof(req)))
		abort();
	return 0;
}
