/*
 * Fuzzes auth's parsers of untrusted text: the password file's hash line
 * (the file may be edited by hand), the Cookie header (any LAN client
 * sends it), the password policy (form input) and the cookie builder.
 * No scrypt runs here: each would take 0.1 s.
 *
 * Invariants: a line that parses formats back to the very same text
 * (the format is strict), and parsed parameters are within the bounds
 * the parser promises; every id read from a Cookie header is one the
 * header spells in hex, and the builder turns it back into a cookie.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cafeguard/auth.h"

#define MAXIDS 8

static void hash_line(const char *s)
{
	struct cg_auth_hash h;
	struct cg_error err;
	char out[CG_AUTH_LINE_MAX];
	if (cg_auth_parse_line(s, &h, &err) < 0) {
		if (!memchr(err.msg, '\0', sizeof(err.msg)) || !err.msg[0])
			abort();
		return;
	}
	if (h.log2n < 14 || h.log2n > 20 || h.r < 8 || h.p < 1 ||
	    h.saltlen < 16 || h.saltlen > CG_AUTH_SALT_MAX ||
	    h.keylen < CG_AUTH_KEY_BYTES || h.keylen > CG_AUTH_KEY_MAX)
		abort();
	size_t n = cg_auth_format_line(&h, out, sizeof(out));
	if (n != strlen(s) || strcmp(out, s))
		abort();
}

static void cookie_header(const char *s)
{
	uint8_t ids[MAXIDS][CG_AUTH_SID_BYTES];
	size_t n = cg_auth_cookie_ids(s, ids, MAXIDS);
	if (n > MAXIDS)
		abort();
	for (size_t i = 0; i < n; i++) {
		static const char hex[] = "0123456789abcdef";
		char sid[CG_AUTH_TOKEN_BUF], cookie[256];
		for (size_t k = 0; k < CG_AUTH_SID_BYTES; k++) {
			sid[2 * k] = hex[ids[i][k] >> 4];
			sid[2 * k + 1] = hex[ids[i][k] & 15];
		}
		sid[2 * CG_AUTH_SID_BYTES] = '\0';
		if (!strcasestr(s, sid) ||
		    !cg_auth_cookie(sid, 60, cookie, sizeof(cookie)))
			abort();
	}
	/* A value seen twice must be read the same both times. */
	if (n && cg_auth_cookie_ids(s, ids, 1) != 1)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	hash_line(s);
	cookie_header(s);
	struct cg_error err;
	cg_auth_password_policy(s, &err);
	free(s);
	return 0;
}
