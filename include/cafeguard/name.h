/*
 * name: the one canonical form of a host name, shared by every parser that
 * extracts a name (DNS, TLS, QUIC, HTTP), every list loader and the policy,
 * so that "WWW.Example.COM." on the wire and "www.example.com" in a list
 * are the same key.
 *
 * Canonical form: ASCII lower case, no trailing dot, labels of 1..63 bytes
 * from [a-z0-9_-], at most 253 bytes in all.  Punycode ("xn--...") stays
 * punycode: the box never decodes IDNs, so a list must carry the A-label.
 * '_' is accepted because real lists and real DNS carry it
 * (_dmarc, SRV names, UT1's games list).
 */
#ifndef CAFEGUARD_NAME_H
#define CAFEGUARD_NAME_H

#include <stdbool.h>
#include <stddef.h>

/* Longest canonical name (RFC 1035 2.3.4: 255 octets on the wire). */
#define CG_NAME_MAX 253
/* Buffer size that holds any canonical name and its NUL. */
#define CG_NAME_BUF (CG_NAME_MAX + 1)

enum cg_name_status {
	CG_NAME_OK = 0,
	CG_NAME_EMPTY,       /* nothing left after trimming */
	CG_NAME_TOO_LONG,    /* > 253 bytes, or a label > 63 */
	CG_NAME_BAD_CHAR,    /* a byte outside [A-Za-z0-9_.-] */
	CG_NAME_EMPTY_LABEL, /* "a..b" or a leading dot */
	CG_NAME_IP_LITERAL,  /* an IPv4 dotted quad or anything with ':' */
};

/*
 * Canonicalises in[0..len) into out (at least CG_NAME_BUF bytes).
 * One trailing dot is removed.  Returns CG_NAME_OK and sets *outlen, or a
 * reason the input is not a host name (out is then unspecified).
 */
enum cg_name_status cg_name_canon(const char *in, size_t len, char *out,
				  size_t *outlen);

/* Short English reason for a status, for diagnostics. */
const char *cg_name_status_str(enum cg_name_status st);

/* True if name[0..len) is an IPv4 dotted quad or contains ':' (IPv6). */
bool cg_name_is_ip_literal(const char *name, size_t len);

#endif
