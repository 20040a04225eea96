/*
 * respond: the gateway's own answers (respond.h).
 */
#include "cafeguard/respond.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static void to_dns_addr(const struct cg_config_addr *a, struct cg_dns_addr *o)
{
	o->family = a->family;
	memcpy(o->addr, a->addr, sizeof(o->addr));
}

void cg_respond_init(struct cg_respond *r, const struct cg_config *cfg)
{
	memset(r, 0, sizeof(*r));
	r->dns = cfg->dns_answer;
	r->ttl = cfg->dns_ttl;
	r->portal_on = cfg->portal;
	r->splash = cfg->portal && cfg->splash;
	r->splash_period_min = cfg->splash_period_min;
	if (cfg->portal && cfg->portal_addr4.family)
		to_dns_addr(&cfg->portal_addr4, &r->portal[r->nportal++]);
	if (cfg->portal && cfg->portal_addr6.family)
		to_dns_addr(&cfg->portal_addr6, &r->portal[r->nportal++]);
	char port[8] = "";
	if (cfg->portal_port != 80)
		snprintf(port, sizeof(port), ":%u", cfg->portal_port);
	for (size_t i = 0; i < r->nportal; i++) {
		char a[INET6_ADDRSTRLEN] = "";
		const struct cg_dns_addr *p = &r->portal[i];
		bool v6 = p->family == 6;
		inet_ntop(v6 ? AF_INET6 : AF_INET, p->addr, a, sizeof(a));
		char *url = v6 ? r->portal_url6 : r->portal_url;
		snprintf(url, sizeof(r->portal_url), "http://%s%s%s%s",
			 v6 ? "[" : "", a, v6 ? "]" : "", port);
	}
	/* The first address names the portal in logs and pages. */
	if (!r->portal_url[0])
		memcpy(r->portal_url, r->portal_url6, sizeof(r->portal_url));
	for (int e = 0; e < CG_ENGINE__COUNT; e++) {
		const struct cg_config_engine *ce = &cfg->engines[e];
		struct cg_respond_engine *re = &r->engines[e];
		if (!ce->target || !ce->naddrs)
			continue;
		re->set = true;
		snprintf(re->target, sizeof(re->target), "%s", ce->target);
		for (size_t i = 0; i < ce->naddrs; i++)
			to_dns_addr(&ce->addrs[i], &re->addrs[re->naddrs++]);
	}
}

static bool is(const char *name, size_t len, const char *lit)
{
	return len == strlen(lit) && !memcmp(name, lit, len);
}

bool cg_respond_is_canary(const char *name, size_t len)
{
	return is(name, len, "use-application-dns.net") ||
	       is(name, len, "mask.icloud.com") ||
	       is(name, len, "mask-h2.icloud.com");
}

static bool lower2(const char *s)
{
	return s[0] >= 'a' && s[0] <= 'z' && s[1] >= 'a' && s[1] <= 'z';
}

/* What follows "google." in Google's own domains: "com", a country code,
 * or "co." / "com." and a country code (google.co.uk, google.com.br). */
static bool google_suffix(const char *s, size_t n)
{
	if (n == 3 && !memcmp(s, "com", 3))
		return true;
	if (n == 2 && lower2(s))
		return true;
	if (n == 5 && !memcmp(s, "co.", 3) && lower2(s + 3))
		return true;
	return n == 6 && !memcmp(s, "com.", 4) && lower2(s + 4);
}

int cg_respond_engine_of(const char *name, size_t len)
{
	/* Google's SafeSearch page names www.google.com and its country
	 * domains; YouTube's Restricted Mode page the five names below;
	 * Microsoft www.bing.com; DuckDuckGo duckduckgo.com. */
	static const char *const youtube[] = {
		"www.youtube.com",	   "m.youtube.com",
		"youtubei.googleapis.com", "youtube.googleapis.com",
		"www.youtube-nocookie.com", "youtube.com",
	};
	for (size_t i = 0; i < sizeof(youtube) / sizeof(youtube[0]); i++)
		if (is(name, len, youtube[i]))
			return CG_ENGINE_YOUTUBE;
	if (is(name, len, "www.bing.com") || is(name, len, "bing.com"))
		return CG_ENGINE_BING;
	if (is(name, len, "duckduckgo.com") ||
	    is(name, len, "www.duckduckgo.com"))
		return CG_ENGINE_DUCKDUCKGO;
	const char *s = name;
	size_t n = len;
	if (n > 4 && !memcmp(s, "www.", 4)) {
		s += 4;
		n -= 4;
	}
	if (n > 7 && !memcmp(s, "google.", 7) && google_suffix(s + 7, n - 7))
		return CG_ENGINE_GOOGLE;
	return -1;
}

size_t cg_respond_dns_block(const struct cg_respond *r, const uint8_t *msg,
			    const struct cg_dns_query *q, uint8_t *out,
			    size_t outsz)
{
	if (r->dns == CG_DNS_ANSWER_SINKHOLE && r->nportal)
		return cg_dns_build_answer(msg, q, NULL, r->portal, r->nportal,
					   r->ttl, out, outsz);
	return cg_dns_build_response(msg, q, CG_DNS_RCODE_NXDOMAIN, out,
				     outsz);
}

size_t cg_respond_dns_forced(const struct cg_respond *r, enum cg_engine e,
			     const uint8_t *msg, const struct cg_dns_query *q,
			     uint8_t *out, size_t outsz)
{
	if ((unsigned)e >= CG_ENGINE__COUNT || !r->engines[e].set)
		return 0;
	const struct cg_respond_engine *re = &r->engines[e];
	return cg_dns_build_answer(msg, q, re->target, re->addrs, re->naddrs,
				   r->ttl, out, outsz);
}

/* RFC 3986 2.3: only unreserved bytes stay as they are. */
static size_t pct_encode(const char *s, char *out, size_t o, size_t outsz)
{
	static const char hex[] = "0123456789ABCDEF";
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9') || c == '-' || c == '.' ||
			     c == '_' || c == '~';
		if (o + 3 >= outsz)
			return outsz;
		if (plain) {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	return o;
}

size_t cg_respond_redirect(const struct cg_respond *r, uint8_t family,
			   const char *path, const char *const *kv, size_t nkv,
			   char *out, size_t outsz)
{
	const char *base = family == 6 && r->portal_url6[0] ? r->portal_url6
							     : r->portal_url;
	if (!base[0])
		return 0;
	char loc[1024];
	int n = snprintf(loc, sizeof(loc), "%s%s", base, path);
	if (n < 0 || (size_t)n >= sizeof(loc))
		return 0;
	size_t o = (size_t)n;
	char sep = '?';
	for (size_t i = 0; i + 1 < nkv; i += 2) {
		if (!kv[i + 1] || !kv[i + 1][0])
			continue;
		if (o + 2 >= sizeof(loc))
			return 0;
		loc[o++] = sep;
		sep = '&';
		o = pct_encode(kv[i], loc, o, sizeof(loc));
		if (o + 2 >= sizeof(loc))
			return 0;
		loc[o++] = '=';
		o = pct_encode(kv[i + 1], loc, o, sizeof(loc));
		if (o >= sizeof(loc))
			return 0;
	}
	loc[o] = '\0';
	/* A body for clients that show it instead of following; no
	 * caching, or a browser would keep sending the site's address to
	 * the portal after the block is lifted. */
	char body[1200];
	int bn = snprintf(body, sizeof(body),
			  "<!DOCTYPE html><title>302</title>"
			  "<a href=\"%s\">%s</a>\n",
			  loc, loc);
	if (bn < 0 || (size_t)bn >= sizeof(body))
		return 0;
	n = snprintf(out, outsz,
		     "HTTP/1.1 302 Found\r\n"
		     "Location: %s\r\n"
		     "Cache-Control: no-store\r\n"
		     "Content-Type: text/html; charset=utf-8\r\n"
		     "Content-Length: %d\r\n"
		     "Connection: close\r\n"
		     "\r\n%s",
		     loc, bn, body);
	if (n < 0 || (size_t)n >= outsz)
		return 0;
	return (size_t)n;
}
