/*
 * respond: what the gateway answers in a server's place, decided once per
 * rule set from the config: the answer to a blocked DNS query (the
 * portal's address, or "no such name"), the forced answers of SafeSearch,
 * the canary names that tell devices not to bypass the café's DNS, and
 * the HTTP redirect that takes a blocked or captive request to the
 * portal.
 *
 * Pure and allocation-free: the workers build answers into their own
 * buffers on the packet path.
 */
#ifndef CAFEGUARD_RESPOND_H
#define CAFEGUARD_RESPOND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cafeguard/config.h"
#include "cafeguard/hostinfo_dns.h"

struct cg_respond_engine {
	bool set;
	char target[CG_NAME_BUF];
	struct cg_dns_addr addrs[CG_ENGINE_ADDRS_MAX];
	size_t naddrs;
};

struct cg_respond {
	enum cg_dns_block_answer dns;
	uint32_t ttl;
	struct cg_dns_addr portal[2]; /* IPv4 and/or IPv6 */
	size_t nportal;
	bool portal_on;
	bool splash;
	uint32_t splash_period_min;
	/* "http://192.168.10.1" (":port" when not 80): where redirects go;
	 * portal_url6 the same over IPv6 ("" without an IPv6 address), for
	 * a client that reached its server over IPv6 */
	char portal_url[64];
	char portal_url6[64];
	struct cg_respond_engine engines[CG_ENGINE__COUNT];
};

void cg_respond_init(struct cg_respond *r, const struct cg_config *cfg);

/* Names a device asks to learn whether the network wants it to keep to
 * its DNS: Firefox's DoH canary (use-application-dns.net) and iCloud
 * Private Relay's (mask.icloud.com, mask-h2.icloud.com). */
bool cg_respond_is_canary(const char *name, size_t len);

/* The engine a canonical name belongs to as its operator documents the
 * names to force, or -1. */
int cg_respond_engine_of(const char *name, size_t len);

/* The answer to a blocked query: the portal's addresses, or NXDOMAIN
 * (configured, or no portal).  Returns its length, 0 if out is small. */
size_t cg_respond_dns_block(const struct cg_respond *r, const uint8_t *msg,
			    const struct cg_dns_query *q, uint8_t *out,
			    size_t outsz);

/* The forced answer for engine e: a CNAME to its safe name and that
 * name's addresses.  0 if the engine is not set (the query then goes to
 * the resolver unchanged). */
size_t cg_respond_dns_forced(const struct cg_respond *r, enum cg_engine e,
			     const uint8_t *msg, const struct cg_dns_query *q,
			     uint8_t *out, size_t outsz);

/*
 * An HTTP/1.1 302 to the portal page path ("/blocked", "/splash") with a
 * query of key/value pairs (kv[2i] = key, kv[2i+1] = value, percent-
 * encoded here; NULL or "" values are left out), closing the connection.
 * family: the client's (4 or 6); the portal's address of that family
 * when it has one.  Returns the response length, 0 if out is too small
 * or no portal.
 */
size_t cg_respond_redirect(const struct cg_respond *r, uint8_t family,
			   const char *path, const char *const *kv, size_t nkv,
			   char *out, size_t outsz);

#endif
