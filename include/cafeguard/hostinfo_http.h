/*
 * hostinfo_http: every request of an HTTP/1.x client stream (RFC 9112).
 *
 * A keep-alive connection can carry requests for many hosts (a CDN serves
 * them all from one address), so the gateway reads the Host of *every*
 * request, not only the first.  To find where the next request starts the
 * parser follows request bodies: Content-Length and chunked transfer
 * coding (RFC 9112 6.3, 7.1).
 *
 * Header bytes are parsed in place when a whole request header is in one
 * segment; only a header split across segments is copied into the caller's
 * buffer (hbuf), so a flow needs a buffer only while that happens.
 */
#ifndef CAFEGUARD_HOSTINFO_HTTP_H
#define CAFEGUARD_HOSTINFO_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cafeguard/name.h"

/* Longest request header the gateway accepts (what common servers allow). */
#define CG_HTTP_HEADER_MAX 8192
#define CG_HTTP_PATH_MAX 512

enum cg_http_status {
	CG_HTTP_REQUEST = 0, /* *req filled; call again with the rest */
	CG_HTTP_NEED_MORE,   /* everything consumed, no complete header yet */
	CG_HTTP_NEED_BUFFER, /* a header spans segments and hbuf is NULL:
				nothing consumed; attach a buffer, call again */
	CG_HTTP_ERROR,       /* not HTTP/1.x, header too large, bad framing */
};

struct cg_http_request {
	char method[16];
	/* Canonical host from the Host header, an absolute-form target
	 * (GET http://h/...) or a CONNECT authority; for CONNECT and
	 * absolute-form the target replaces Host (RFC 9112 3.2.2).  Empty
	 * when the host is an IP literal or missing (host_is_ip tells
	 * which). */
	char host[CG_NAME_BUF];
	size_t host_len;
	bool host_is_ip;
	uint16_t port;               /* 0 if none was given */
	char path[CG_HTTP_PATH_MAX]; /* truncated if longer */
};

/* Parser state: small, so every watched HTTP flow can carry one. */
struct cg_http_parser {
	uint8_t state;
	bool chunk_ext;
	uint16_t line_len;     /* bytes of the current chunk-size/trailer line */
	uint64_t remaining;    /* body or chunk bytes still to skip */
	uint32_t hlen;         /* header bytes held in hbuf */
	uint8_t *hbuf;         /* caller's buffer (CG_HTTP_HEADER_MAX), or NULL */
	uint32_t requests;     /* complete request headers seen */
};

void cg_http_parser_init(struct cg_http_parser *p);

/* True while hbuf holds bytes the parser still needs. */
bool cg_http_parser_holds_buffer(const struct cg_http_parser *p);

/*
 * Feeds data[0..len) (in-order stream bytes).  On CG_HTTP_REQUEST, *req is
 * filled and *consumed is the number of bytes used up to the end of that
 * header; the caller decides, then calls again with data + *consumed.
 * On CG_HTTP_NEED_MORE all bytes were consumed.  On CG_HTTP_ERROR the
 * stream is not (or no longer) HTTP/1.x and the parser stays in error.
 * After CONNECT the rest of the stream is tunnel data: it is consumed
 * (CG_HTTP_NEED_MORE).  After an Upgrade request, bytes that do not start
 * with a method are taken as the new protocol and consumed the same way.
 */
enum cg_http_status cg_http_feed(struct cg_http_parser *p, const uint8_t *data,
				 size_t len, struct cg_http_request *req,
				 size_t *consumed);

/* True if data starts with an HTTP/1.x method token and a space (needs the
 * first few bytes only; used to recognise a stream). */
bool cg_http_looks_like_request(const uint8_t *data, size_t len);

#endif
