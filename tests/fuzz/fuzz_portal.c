/*
 * Fuzzes the portal's request helpers (daemon/portal_internal.h): the
 * input as a Host header, a query or form, a next URL, an Origin and
 * Referer, a reason word and a token.  Besides not crashing: what the
 * form decoder returns is bounded and NUL-free, a value percent-encoded
 * decodes back to itself, a next URL accepted holds no byte a Location
 * header or a page could be broken with, and a token checks only for
 * its own client.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../daemon/portal_internal.h"

static const struct cg_pt_self self = {
    .has4 = true,
    .has6 = true,
    .addr4 = {192, 168, 10, 1},
    .addr6 = {0xfd, 0, [15] = 1},
    .port4 = 80,
    .port6 = 8080,
};

static void check_next(const char *url)
{
	if (!cg_pt_next_ok(url))
		return;
	size_t n = strlen(url);
	if (n > CG_PT_NEXT_MAX ||
	    (strncasecmp(url, "http://", 7) && strncasecmp(url, "https://", 8)))
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)url[i] <= ' ' ||
		    (unsigned char)url[i] >= 0x7f || url[i] == '"' ||
		    url[i] == '<' || url[i] == '>')
			abort();
}

/* Encoding then decoding gives the value back. */
static void round_trip(const char *v)
{
	static char enc[3 * 1024 + 8], dec[1024];
	size_t o = 2;
	memcpy(enc, "v=", 3);
	if (!cg_pt_pct_append(enc, sizeof(enc), &o, v))
		return;
	if (strlen(enc) != o ||
	    !cg_pt_form_get(enc, o, "v", dec, sizeof(dec)) || strcmp(dec, v))
		abort();
}

static void forms(const uint8_t *data, size_t size)
{
	static const char *const names[] = {"next", "token", "host", "lang",
					    ""};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char out[CG_PT_NEXT_MAX + 1];
		memset(out, 'x', sizeof(out));
		if (!cg_pt_form_get((const char *)data, size, names[i], out,
				    sizeof(out)))
			continue;
		size_t n = strnlen(out, sizeof(out));
		if (n == sizeof(out))
			abort();
		check_next(out);
		round_trip(out);
	}
}

static void tokens(const char *s, size_t size)
{
	uint8_t secret[CG_PT_SECRET_LEN] = {0};
	uint64_t key = 0;
	memcpy(&key, s, size < 8 ? size : 8);
	memcpy(secret, s, size < sizeof(secret) ? size : sizeof(secret));
	cg_pt_token_ok(secret, key, 7, s);
	char t[CG_PT_TOKEN_LEN + 1];
	cg_pt_token(secret, key, 7, t);
	if (!cg_pt_token_ok(secret, key, 7, t) ||
	    !cg_pt_token_ok(secret, key, 8, t) ||
	    cg_pt_token_ok(secret, key, 9, t) ||
	    cg_pt_token_ok(secret, key ^ 1, 7, t))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	char name[CG_NAME_BUF];
	cg_pt_host_is_self(&self, (const char *)data, size);
	if (cg_pt_host_name((const char *)data, size, name) &&
	    strlen(name) > CG_NAME_MAX)
		abort();
	forms(data, size);

	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	check_next(s);
	cg_pt_origin_ok(&self, s);
	cg_pt_referer_ok(&self, s);
	const char *r = cg_pt_reason(s);
	if (strcmp(r, s) && strcmp(r, "list"))
		abort();
	tokens(s, size);
	free(s);
	return 0;
}
