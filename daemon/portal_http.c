/*
 * The portal's request parsing (portal_internal.h): everything here reads
 * bytes a seat chose, so it is pure, bounded, and fuzzed
 * (tests/fuzz/fuzz_portal.c).
 */
#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cafeguard/clock.h"
#include "portal_internal.h"

static bool parse_port(const char *s, size_t n, uint16_t *port)
{
	uint32_t v = 0;
	if (n == 0 || n > 5)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint32_t)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return false;
	*port = (uint16_t)v;
	return true;
}

/* Splits "addr", "addr:port", "[v6]" or "[v6]:port" into its parts. */
static bool split_host(const char *h, size_t n, const char **addr, size_t *alen,
		       const char **port, size_t *plen, bool *bracketed)
{
	const char *rest;
	*port = NULL;
	*plen = 0;
	*bracketed = n && h[0] == '[';
	if (*bracketed) {
		const char *close = memchr(h, ']', n);
		if (!close)
			return false;
		*addr = h + 1;
		*alen = (size_t)(close - *addr);
		rest = close + 1;
	} else {
		const char *colon = memchr(h, ':', n);
		*addr = h;
		*alen = colon ? (size_t)(colon - h) : n;
		rest = h + *alen;
	}
	size_t rlen = n - (size_t)(rest - h);
	if (rlen) {
		if (rest[0] != ':')
			return false;
		*port = rest + 1;
		*plen = rlen - 1;
	}
	return *alen > 0 && !memchr(*addr, '\0', *alen);
}

bool cg_pt_host_is_self(const struct cg_pt_self *s, const char *host,
			size_t len)
{
	const char *a, *ps;
	size_t alen, plen;
	bool v6;
	if (!split_host(host, len, &a, &alen, &ps, &plen, &v6))
		return false;
	char buf[64];
	uint8_t bin[16];
	if (alen >= sizeof(buf))
		return false;
	memcpy(buf, a, alen);
	buf[alen] = '\0';
	uint16_t port = 0;
	if (ps && !parse_port(ps, plen, &port))
		return false;
	if (v6)
		return s->has6 && inet_pton(AF_INET6, buf, bin) == 1 &&
		       !memcmp(bin, s->addr6, 16) && (!ps || port == s->port6);
	return s->has4 && inet_pton(AF_INET, buf, bin) == 1 &&
	       !memcmp(bin, s->addr4, 4) && (!ps || port == s->port4);
}

bool cg_pt_host_name(const char *host, size_t len, char *out)
{
	const char *a, *ps;
	size_t alen, plen, n;
	bool v6;
	uint16_t port;
	if (!split_host(host, len, &a, &alen, &ps, &plen, &v6) || v6 ||
	    (ps && !parse_port(ps, plen, &port)))
		return false;
	return cg_name_canon(a, alen, out, &n) == CG_NAME_OK;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool form_decode(const char *v, size_t n, char *out, size_t outsz)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)v[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			int hi = i + 2 < n ? hexval(v[i + 1]) : -1;
			int lo = hi >= 0 ? hexval(v[i + 2]) : -1;
			if (lo < 0)
				return false;
			c = hi * 16 + lo;
			i += 2;
		}
		if (c == 0 || o + 1 >= outsz)
			return false;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return true;
}

bool cg_pt_form_get(const char *q, size_t len, const char *name, char *out,
		    size_t outsz)
{
	size_t nlen = strlen(name);
	if (!outsz)
		return false;
	for (size_t i = 0; i <= len;) {
		const char *amp = memchr(q + i, '&', len - i);
		size_t end = amp ? (size_t)(amp - q) : len;
		size_t flen = end - i;
		if (flen >= nlen && !memcmp(q + i, name, nlen)) {
			if (flen == nlen) {
				out[0] = '\0';
				return true;
			}
			if (q[i + nlen] == '=')
				return form_decode(q + i + nlen + 1,
						   flen - nlen - 1, out, outsz);
		}
		i = end + 1;
	}
	return false;
}

/* RFC 3986 2: bytes a URL never holds literally. */
static bool url_byte_ok(unsigned char c)
{
	return c > 0x20 && c < 0x7f && !strchr("\"<>\\^`{|}", c);
}

bool cg_pt_next_ok(const char *url)
{
	size_t n = strnlen(url, CG_PT_NEXT_MAX + 1), skip;
	if (n > CG_PT_NEXT_MAX)
		return false;
	if (!strncasecmp(url, "http://", 7))
		skip = 7;
	else if (!strncasecmp(url, "https://", 8))
		skip = 8;
	else
		return false;
	/* "http:///x" or "http://?x" has no host: a browser would read
	 * it as a path of wherever it is. */
	if (!url[skip] || strchr("/?#", url[skip]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!url_byte_ok((unsigned char)url[i]))
			return false;
	return true;
}

bool cg_pt_pct_append(char *out, size_t outsz, size_t *o, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t at = *o;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			     (c >= '0' && c <= '9') || strchr("-._~", c);
		size_t need = plain ? 1 : 3;
		if (at + need >= outsz) {
			if (*o < outsz)
				out[*o] = '\0';
			return false;
		}
		if (plain) {
			out[at++] = (char)c;
		} else {
			out[at++] = '%';
			out[at++] = hex[c >> 4];
			out[at++] = hex[c & 15];
		}
	}
	out[at] = '\0';
	*o = at;
	return true;
}

/* "http://" + a Host naming the portal, then end or one of stops. */
static bool portal_url_prefix(const struct cg_pt_self *s, const char *u,
			      const char *stops)
{
	if (strncasecmp(u, "http://", 7))
		return false;
	u += 7;
	size_t n = strcspn(u, stops);
	return cg_pt_host_is_self(s, u, n);
}

bool cg_pt_origin_ok(const struct cg_pt_self *s, const char *origin)
{
	return !origin || !strcmp(origin, "null") ||
	       portal_url_prefix(s, origin, "");
}

bool cg_pt_referer_ok(const struct cg_pt_self *s, const char *referer)
{
	return !referer || portal_url_prefix(s, referer, "/?#");
}

const char *cg_pt_reason(const char *r)
{
	static const char *const words[] = {
	    "list", "app", "app-category", "budget", "schedule", "captive",
	};
	for (size_t i = 0; r && i < sizeof(words) / sizeof(words[0]); i++)
		if (!strcmp(r, words[i]))
			return words[i];
	return "list";
}

void cg_pt_token(const uint8_t secret[CG_PT_SECRET_LEN], uint64_t key,
		 int64_t bucket, char out[CG_PT_TOKEN_LEN + 1])
{
	/* A label, so the secret signs nothing else by accident. */
	uint8_t msg[16 + 8 + 8] = "cafeguard-accept";
	uint64_t b = (uint64_t)bucket;
	for (int i = 0; i < 8; i++) {
		msg[16 + i] = (uint8_t)(key >> (8 * i));
		msg[24 + i] = (uint8_t)(b >> (8 * i));
	}
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	out[0] = '\0';
	if (!HMAC(EVP_sha256(), secret, CG_PT_SECRET_LEN, msg, sizeof(msg), md,
		  &mdlen) ||
	    mdlen * 2 < CG_PT_TOKEN_LEN)
		return;
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < CG_PT_TOKEN_LEN / 2; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[CG_PT_TOKEN_LEN] = '\0';
}

bool cg_pt_token_ok(const uint8_t secret[CG_PT_SECRET_LEN], uint64_t key,
		    int64_t bucket, const char *token)
{
	if (!token || strnlen(token, CG_PT_TOKEN_LEN + 1) != CG_PT_TOKEN_LEN)
		return false;
	/* The previous hour too: a page loaded just before the hour turns
	 * is still accepted. */
	for (int64_t b = bucket; b >= bucket - 1; b--) {
		char want[CG_PT_TOKEN_LEN + 1];
		cg_pt_token(secret, key, b, want);
		if (want[0] && !CRYPTO_memcmp(want, token, CG_PT_TOKEN_LEN))
			return true;
	}
	return false;
}

/* Days since 1970-01-01 -> civil date (H. Hinnant, "chrono-compatible
 * low-level date algorithms"). */
static void civil(int64_t z, int *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

void cg_pt_local_time(const struct cg_localtime *lt, int64_t t, int64_t now_s,
		      bool date, char out[CG_PT_TIME_BUF])
{
	struct cg_when w, wnow;
	uint32_t day, today;
	cg_localtime_of(lt, t, &w, &day);
	cg_localtime_of(lt, now_s, &wnow, &today);
	unsigned hh = w.minute / 60u % 24u, mm = w.minute % 60u;
	if (!date && day == today) {
		snprintf(out, CG_PT_TIME_BUF, "%02u:%02u", hh, mm);
		return;
	}
	int y, m, d;
	civil((int64_t)day, &y, &m, &d);
	/* The remainders only tell the compiler the widths. */
	snprintf(out, CG_PT_TIME_BUF, "%04u-%02u-%02u %02u:%02u",
		 (unsigned)y % 10000u, (unsigned)m % 100u, (unsigned)d % 100u,
		 hh, mm);
}
