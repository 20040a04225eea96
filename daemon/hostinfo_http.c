/*
 * hostinfo_http: request headers of an HTTP/1.x client stream (RFC 9112).
 *
 * The parser follows message framing exactly as a server must (RFC 9112
 * 6.3): a gateway that skipped a body differently from the server would
 * read the next request's Host from the wrong bytes, which is the request
 * smuggling family of evasions.  Whenever the framing is ambiguous
 * (Transfer-Encoding with Content-Length, differing Content-Lengths, two
 * Host fields) the stream is refused instead of guessed.
 */
#include "cafeguard/hostinfo_http.h"

#include <string.h>

enum http_state {
	ST_HEAD = 0,	  /* at (or inside) a request header; zero state */
	ST_BODY,	  /* Content-Length body: remaining bytes */
	ST_CHUNK_SIZE,	  /* chunk-size [chunk-ext] line */
	ST_CHUNK_SIZE_LF, /* CR seen at the end of that line */
	ST_CHUNK_DATA,	  /* chunk-data: remaining bytes */
	ST_CHUNK_DATA_CR, /* the CRLF after chunk-data */
	ST_CHUNK_DATA_LF,
	ST_TRAILER, /* trailer-section lines, then the empty line */
	ST_TRAILER_LF,
	ST_SWITCHED, /* after an Upgrade request: HTTP or not? */
	ST_TUNNEL,   /* after CONNECT: the rest is not HTTP */
	ST_ERROR,
};

#define METHOD_MAX 15
/* Longest chunk-size line (size and extensions) accepted; real ones are
 * a few bytes, and the bound keeps line_len meaningful. */
#define CHUNK_LINE_MAX 4096
/* Longest Host value looked at: a 253-byte name and a port, or a
 * bracketed IPv6 literal, with room to spare. */
#define HOST_VALUE_MAX 320
/* Content-Length and Transfer-Encoding values longer than this are not
 * sent by any real client. */
#define SHORT_VALUE_MAX 256

static bool is_ws(uint8_t c)
{
	return c == ' ' || c == '\t';
}

static bool is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static uint8_t lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c - 'A' + 'a') : c;
}

/* RFC 9110 5.6.2 tchar */
static bool is_tchar(uint8_t c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Bytes allowed in a request-target: visible, no whitespace; raw UTF-8
 * is let through as servers do. */
static bool is_target_char(uint8_t c)
{
	return c > 0x20 && c != 0x7f;
}

static int hex_value(uint8_t c)
{
	if (is_digit(c))
		return c - '0';
	c = lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static bool span_ieq(const uint8_t *s, size_t n, const char *lit)
{
	size_t l = strlen(lit);
	if (n != l)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower(s[i]) != (uint8_t)lit[i])
			return false;
	return true;
}

void cg_http_parser_init(struct cg_http_parser *p)
{
	memset(p, 0, sizeof(*p));
}

bool cg_http_parser_holds_buffer(const struct cg_http_parser *p)
{
	return p->hlen > 0;
}

/*
 * Finds the empty line that ends a header in d[0..n).  prev describes the
 * bytes before d (held in hbuf): 1 if the last one is LF, 2 if the last
 * two are LF CR, else 0.  Returns the offset past the final LF, or 0.
 * RFC 9112 2.2 lets a recipient take a bare LF as a line end; servers do,
 * so the gateway must too.
 */
static size_t find_header_end(const uint8_t *d, size_t n, unsigned prev)
{
	size_t i = 0;
	while (i < n) {
		const uint8_t *lf = memchr(d + i, '\n', n - i);
		if (!lf)
			return 0;
		size_t k = (size_t)(lf - d);
		bool empty;
		if (k >= 1 && d[k - 1] == '\n')
			empty = true;
		else if (k >= 2 && d[k - 1] == '\r' && d[k - 2] == '\n')
			empty = true;
		else if (k == 0)
			empty = prev != 0;
		else if (k == 1 && d[0] == '\r')
			empty = prev == 1;
		else
			empty = false;
		if (empty)
			return k + 1;
		i = k + 1;
	}
	return 0;
}

static unsigned tail_state(const uint8_t *h, size_t n)
{
	if (n >= 1 && h[n - 1] == '\n')
		return 1;
	if (n >= 2 && h[n - 1] == '\r' && h[n - 2] == '\n')
		return 2;
	return 0;
}

/*
 * Checks as much of the request line as has arrived, so that a stream of
 * garbage is refused at once instead of being buffered up to
 * CG_HTTP_HEADER_MAX.  Whitespace runs are accepted as separators (RFC
 * 9112 3 allows recipients to).
 */
static bool request_line_prefix_ok(const uint8_t *d, size_t n)
{
	size_t i = 0;
	while (i < n && is_tchar(d[i]))
		i++;
	if (i > METHOD_MAX)
		return false;
	if (i == n)
		return true;
	if (i == 0 || !is_ws(d[i]))
		return false;
	while (i < n && is_ws(d[i]))
		i++;
	size_t t = i;
	while (i < n && is_target_char(d[i]))
		i++;
	if (i == n)
		return true;
	if (i == t || !is_ws(d[i]))
		return false;
	while (i < n && is_ws(d[i]))
		i++;
	static const char version[] = "HTTP/1.";
	for (size_t k = 0; k < sizeof(version) - 1; k++, i++) {
		if (i == n)
			return true;
		if (d[i] != (uint8_t)version[k])
			return false;
	}
	if (i == n)
		return true;
	if (!is_digit(d[i++]))
		return false;
	while (i < n && is_ws(d[i]))
		i++;
	if (i < n && d[i] == '\r')
		i++;
	return i == n || d[i] == '\n';
}

/* Copies a field value, replacing each obs-fold (RFC 9112 5.2) by spaces,
 * without leading and trailing whitespace.  Returns the length, or
 * SIZE_MAX if it does not fit in cap bytes. */
static size_t unfold(const uint8_t *v, size_t n, uint8_t *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = v[i];
		if (c == '\r' || c == '\n' || c == '\t')
			c = ' ';
		if (c == ' ' && (o == 0 || out[o - 1] == ' '))
			continue;
		if (o == cap)
			return SIZE_MAX;
		out[o++] = c;
	}
	while (o && out[o - 1] == ' ')
		o--;
	return o;
}

/*
 * uri-host [ ":" port ] (RFC 9110 4.2.3, 7.2) into req.  False when the
 * authority cannot be what a server accepts (bad port, unbalanced
 * brackets, an IPv6 literal without brackets): such a request gets a 400,
 * and guessing a name for it would only be a gateway's invention.
 * A name that is merely not a host name (bad characters) leaves host empty.
 */
static bool set_authority(const uint8_t *a, size_t n,
			  struct cg_http_request *req)
{
	size_t hs, he, pstart;

	req->host[0] = '\0';
	req->host_len = 0;
	req->host_is_ip = false;
	req->port = 0;
	if (!n)
		return true;
	if (a[0] == '[') {
		const uint8_t *rb = memchr(a, ']', n);
		if (!rb)
			return false;
		hs = 1;
		he = (size_t)(rb - a);
		pstart = he + 1;
		if (pstart < n && a[pstart] != ':')
			return false;
		for (size_t i = hs; i < he; i++)
			if (!(hex_value(a[i]) >= 0 || a[i] == ':' ||
			      a[i] == '.' || a[i] == '%' || lower(a[i]) == 'v'))
				return false;
		req->host_is_ip = true;
	} else {
		const uint8_t *colon = memchr(a, ':', n);
		he = colon ? (size_t)(colon - a) : n;
		if (colon && memchr(colon + 1, ':', n - he - 1))
			return false;
		hs = 0;
		pstart = he;
		char canon[CG_NAME_BUF];
		size_t clen;
		enum cg_name_status st =
		    cg_name_canon((const char *)a, he, canon, &clen);
		if (st == CG_NAME_OK) {
			memcpy(req->host, canon, clen + 1);
			req->host_len = clen;
		} else if (st == CG_NAME_IP_LITERAL) {
			req->host_is_ip = true;
		}
	}
	if (pstart < n) {
		/* ":" *DIGIT; an empty port means the default one. */
		uint32_t port = 0;
		for (size_t i = pstart + 1; i < n; i++) {
			if (!is_digit(a[i]))
				return false;
			port = port * 10 + (uint32_t)(a[i] - '0');
			if (port > 65535)
				return false;
		}
		req->port = (uint16_t)port;
	}
	return true;
}

/* RFC 9110 8.6: 1*DIGIT, or a list of identical values.  *cl is
 * UINT64_MAX while unset. */
static bool content_length(const uint8_t *v, size_t n, uint64_t *cl)
{
	uint8_t buf[SHORT_VALUE_MAX];
	size_t len = unfold(v, n, buf, sizeof(buf));
	if (len == SIZE_MAX || len == 0)
		return false;
	size_t i = 0;
	while (i < len) {
		uint64_t val = 0;
		size_t digits = 0;
		while (i < len && is_digit(buf[i])) {
			unsigned d = (unsigned)(buf[i] - '0');
			if (val > (UINT64_MAX - 1 - d) / 10)
				return false;
			val = val * 10 + d;
			digits++;
			i++;
		}
		if (!digits)
			return false;
		if (*cl != UINT64_MAX && *cl != val)
			return false;
		*cl = val;
		while (i < len && buf[i] == ' ')
			i++;
		if (i < len) {
			if (buf[i] != ',')
				return false;
			i++;
			while (i < len && buf[i] == ' ')
				i++;
			if (i == len)
				return false;
		}
	}
	return true;
}

struct te_state {
	bool seen;
	unsigned chunked; /* times "chunked" was listed */
	bool last_chunked;
};

/* RFC 9112 6.1: a list of transfer codings, each a token with optional
 * parameters; empty list elements are ignored (RFC 9110 5.6.1). */
static bool transfer_encoding(const uint8_t *v, size_t n, struct te_state *te)
{
	uint8_t buf[SHORT_VALUE_MAX];
	size_t len = unfold(v, n, buf, sizeof(buf));
	if (len == SIZE_MAX || len == 0)
		return false;
	te->seen = true;
	size_t i = 0;
	while (i < len) {
		while (i < len && (buf[i] == ' ' || buf[i] == ','))
			i++;
		if (i == len)
			break;
		size_t t = i;
		while (i < len && is_tchar(buf[i]))
			i++;
		if (i == t)
			return false;
		bool chunked = span_ieq(buf + t, i - t, "chunked");
		te->chunked += chunked;
		te->last_chunked = chunked;
		while (i < len && buf[i] != ',')
			i++;
	}
	return true;
}

struct head_fields {
	unsigned host_count;
	const uint8_t *host;
	size_t host_len;
	uint64_t cl; /* UINT64_MAX: no Content-Length */
	struct te_state te;
	bool upgrade;
};

static bool field(struct head_fields *f, const uint8_t *name, size_t nlen,
		  const uint8_t *v, size_t vlen)
{
	if (span_ieq(name, nlen, "host")) {
		f->host_count++;
		f->host = v;
		f->host_len = vlen;
	} else if (span_ieq(name, nlen, "content-length")) {
		return content_length(v, vlen, &f->cl);
	} else if (span_ieq(name, nlen, "transfer-encoding")) {
		return transfer_encoding(v, vlen, &f->te);
	} else if (span_ieq(name, nlen, "upgrade")) {
		f->upgrade = true;
	}
	return true;
}

/* A line may hold neither NUL nor a bare CR (RFC 9110 5.5: "MUST either
 * reject the message or replace..."; rejecting is what keeps the
 * gateway's view equal to a strict server's). */
static bool line_clean(const uint8_t *s, size_t n)
{
	return !memchr(s, '\r', n) && !memchr(s, '\0', n);
}

static void copy_str(char *dst, size_t cap, const uint8_t *s, size_t n)
{
	if (n > cap - 1)
		n = cap - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/*
 * Parses the complete header h[0..n) (ending with its empty line), fills
 * req and sets the state that follows the header.  False on anything a
 * server would answer with 400 (or that would make framing ambiguous).
 */
static bool parse_head(struct cg_http_parser *p, const uint8_t *h, size_t n,
		       struct cg_http_request *req)
{
	memset(req, 0, sizeof(*req));

	/* request-line = method SP request-target SP HTTP-version.  The
	 * caller found the empty line that ends h, so every line below has
	 * its LF; the checks only keep that a local fact. */
	const uint8_t *lf = memchr(h, '\n', n);
	if (!lf)
		return false;
	size_t le = (size_t)(lf - h), ce = le;
	if (ce && h[ce - 1] == '\r')
		ce--;
	if (!line_clean(h, ce) || !request_line_prefix_ok(h, le + 1))
		return false;
	size_t i = 0;
	while (is_tchar(h[i]))
		i++;
	size_t mlen = i;
	while (is_ws(h[i]))
		i++;
	const uint8_t *target = h + i;
	while (is_target_char(h[i]))
		i++;
	size_t tlen = (size_t)(h + i - target);
	while (is_ws(h[i]))
		i++;
	/* "HTTP/1." then the minor digit */
	bool http10 = h[i + 7] == '0';
	copy_str(req->method, sizeof(req->method), h, mlen);
	bool connect = mlen == 7 && !memcmp(h, "CONNECT", 7);

	struct head_fields f = {.cl = UINT64_MAX};
	const uint8_t *name = NULL, *val = NULL;
	size_t nlen = 0, vend = 0;
	size_t pos = le + 1;
	for (;;) {
		lf = pos < n ? memchr(h + pos, '\n', n - pos) : NULL;
		if (!lf)
			return false;
		le = (size_t)(lf - h);
		ce = le;
		if (ce > pos && h[ce - 1] == '\r')
			ce--;
		if (!line_clean(h + pos, ce - pos))
			return false;
		if (ce == pos)
			break;
		if (is_ws(h[pos])) {
			/* obs-fold continues the previous value; before the
			 * first field it is whitespace RFC 9112 2.2 says to
			 * reject. */
			if (!name)
				return false;
			vend = ce;
			pos = le + 1;
			continue;
		}
		if (name &&
		    !field(&f, name, nlen, val, (size_t)(h + vend - val)))
			return false;
		size_t k = pos;
		while (k < ce && is_tchar(h[k]))
			k++;
		/* RFC 9112 5.1: no whitespace between name and colon. */
		if (k == pos || k == ce || h[k] != ':')
			return false;
		name = h + pos;
		nlen = k - pos;
		val = h + k + 1;
		vend = ce;
		pos = le + 1;
	}
	if (name && !field(&f, name, nlen, val, (size_t)(h + vend - val)))
		return false;

	/* Two Host fields: a server and the gateway might pick different
	 * ones (RFC 9112 3.2: respond 400). */
	if (f.host_count > 1)
		return false;
	bool chunked = false;
	if (f.te.seen) {
		/* RFC 9112 6.1: HTTP/1.0 + Transfer-Encoding is faulty
		 * framing; 6.3: TE with CL "ought to be handled as an
		 * error"; chunked must be the final coding, once. */
		if (http10 || f.cl != UINT64_MAX || f.te.chunked != 1 ||
		    !f.te.last_chunked)
			return false;
		chunked = true;
	}

	if (connect) {
		/* RFC 9112 3.2.3: authority-form is the only form. */
		if (!tlen || target[0] == '/' ||
		    !set_authority(target, tlen, req))
			return false;
	} else if (target[0] == '/' || (tlen == 1 && target[0] == '*')) {
		copy_str(req->path, sizeof(req->path), target, tlen);
		if (f.host_count) {
			uint8_t hv[HOST_VALUE_MAX];
			size_t hl = unfold(f.host, f.host_len, hv, sizeof(hv));
			if (hl != SIZE_MAX && !set_authority(hv, hl, req))
				return false;
		}
	} else {
		/* absolute-form: RFC 9112 3.2.2, the target's authority
		 * replaces Host ("MUST ignore the received Host"). */
		size_t s = 0;
		while (s < tlen && target[s] != ':')
			s++;
		if (s == 0 || tlen - s < 3 || memcmp(target + s, "://", 3))
			return false;
		size_t as = s + 3, ae = as;
		while (ae < tlen && target[ae] != '/' && target[ae] != '?' &&
		       target[ae] != '#')
			ae++;
		/* userinfo@ is not part of the host */
		size_t hstart = as;
		for (size_t k = as; k < ae; k++)
			if (target[k] == '@')
				hstart = k + 1;
		if (!set_authority(target + hstart, ae - hstart, req))
			return false;
		if (ae == tlen || target[ae] != '/') {
			req->path[0] = '/';
			copy_str(req->path + 1, sizeof(req->path) - 1,
				 target + ae, tlen - ae);
		} else {
			copy_str(req->path, sizeof(req->path), target + ae,
				 tlen - ae);
		}
	}

	p->line_len = 0;
	p->chunk_ext = false;
	p->remaining = 0;
	if (connect)
		p->state = ST_TUNNEL;
	else if (chunked)
		p->state = ST_CHUNK_SIZE;
	else if (f.cl != UINT64_MAX && f.cl > 0) {
		p->state = ST_BODY;
		p->remaining = f.cl;
	} else if (f.upgrade)
		p->state = ST_SWITCHED;
	else
		p->state = ST_HEAD;
	return true;
}

/* End of a chunk-size line: a zero size is the last-chunk. */
static void chunk_line_done(struct cg_http_parser *p)
{
	p->state = p->remaining ? ST_CHUNK_DATA : ST_TRAILER;
	p->line_len = 0;
	p->chunk_ext = false;
}

/* A trailer-section line ended; the empty one ends the message. */
static void trailer_line_done(struct cg_http_parser *p)
{
	if (!p->line_len)
		p->state = ST_HEAD;
	p->line_len = 0;
}

/* Skips body bytes from d[*pos..len) until the next request header (or
 * the end of the data).  False on a framing error. */
static bool skip_body(struct cg_http_parser *p, const uint8_t *d, size_t len,
		      size_t *pos)
{
	size_t i = *pos;
	while (i < len && p->state != ST_HEAD) {
		uint8_t c = d[i];
		size_t n;
		switch (p->state) {
		case ST_BODY:
		case ST_CHUNK_DATA:
			n = len - i;
			if (n > p->remaining)
				n = (size_t)p->remaining;
			i += n;
			p->remaining -= n;
			if (!p->remaining)
				p->state = p->state == ST_BODY
					       ? ST_HEAD
					       : ST_CHUNK_DATA_CR;
			continue;
		case ST_CHUNK_SIZE:
			if (++p->line_len > CHUNK_LINE_MAX)
				return false;
			if (c == '\n') {
				if (p->line_len == 1)
					return false;
				chunk_line_done(p);
			} else if (c == '\r') {
				if (p->line_len == 1)
					return false;
				p->state = ST_CHUNK_SIZE_LF;
			} else if (!p->chunk_ext && hex_value(c) >= 0) {
				/* 1*HEXDIG; more than 64 bits is an
				 * overflow, not a size. */
				if (p->remaining > (UINT64_MAX >> 4))
					return false;
				p->remaining =
				    p->remaining * 16 + (unsigned)hex_value(c);
			} else if (p->line_len > 1 && (c == ';' || is_ws(c))) {
				/* chunk-ext (RFC 9112 7.1.1) is ignored */
				p->chunk_ext = true;
			} else if (!p->chunk_ext || c < 0x20 || c == 0x7f) {
				return false;
			}
			break;
		case ST_CHUNK_SIZE_LF:
			if (c != '\n')
				return false;
			chunk_line_done(p);
			break;
		case ST_CHUNK_DATA_CR:
			if (c == '\r')
				p->state = ST_CHUNK_DATA_LF;
			else if (c == '\n')
				p->state = ST_CHUNK_SIZE;
			else
				return false;
			break;
		case ST_CHUNK_DATA_LF:
			if (c != '\n')
				return false;
			p->state = ST_CHUNK_SIZE;
			break;
		case ST_TRAILER:
			if (c == '\n')
				trailer_line_done(p);
			else if (c == '\r')
				p->state = ST_TRAILER_LF;
			else if (++p->line_len > CG_HTTP_HEADER_MAX)
				return false;
			break;
		case ST_TRAILER_LF:
			if (c != '\n')
				return false;
			p->state = ST_TRAILER;
			trailer_line_done(p);
			break;
		case ST_SWITCHED:
			/* The server's answer is not seen: if the next bytes
			 * start a method the upgrade was refused, otherwise
			 * the connection now speaks another protocol. */
			p->state = (c >= 'A' && c <= 'Z') ? ST_HEAD : ST_TUNNEL;
			continue;
		case ST_TUNNEL:
			i = len;
			continue;
		default:
			return false;
		}
		i++;
	}
	*pos = i;
	return true;
}

/* The header starting at d[*pos]; see cg_http_feed() for the results. */
static enum cg_http_status head(struct cg_http_parser *p, const uint8_t *d,
				size_t len, size_t *pos,
				struct cg_http_request *req)
{
	size_t i = *pos;
	if (!p->hlen) {
		/* RFC 9112 2.2: empty lines before a request-line are
		 * ignored. */
		while (i < len && (d[i] == '\r' || d[i] == '\n'))
			i++;
		*pos = i;
		if (i == len)
			return CG_HTTP_NEED_MORE;
		size_t avail = len - i;
		size_t lim =
		    avail < CG_HTTP_HEADER_MAX ? avail : CG_HTTP_HEADER_MAX;
		size_t e = find_header_end(d + i, lim, 0);
		if (e) {
			if (!parse_head(p, d + i, e, req))
				return CG_HTTP_ERROR;
			*pos = i + e;
			return CG_HTTP_REQUEST;
		}
		if (avail >= CG_HTTP_HEADER_MAX ||
		    !request_line_prefix_ok(d + i, avail))
			return CG_HTTP_ERROR;
		if (!p->hbuf)
			return CG_HTTP_NEED_BUFFER;
		memcpy(p->hbuf, d + i, avail);
		p->hlen = (uint32_t)avail;
		*pos = len;
		return CG_HTTP_NEED_MORE;
	}

	/* The caller took the buffer back while it held a header: the
	 * bytes needed are gone. */
	if (!p->hbuf)
		return CG_HTTP_ERROR;
	size_t avail = len - i, room = CG_HTTP_HEADER_MAX - p->hlen;
	size_t lim = avail < room ? avail : room;
	size_t e = find_header_end(d + i, lim, tail_state(p->hbuf, p->hlen));
	if (e) {
		memcpy(p->hbuf + p->hlen, d + i, e);
		size_t n = p->hlen + e;
		p->hlen = 0;
		if (!parse_head(p, p->hbuf, n, req))
			return CG_HTTP_ERROR;
		*pos = i + e;
		return CG_HTTP_REQUEST;
	}
	if (avail >= room)
		return CG_HTTP_ERROR;
	memcpy(p->hbuf + p->hlen, d + i, avail);
	p->hlen += (uint32_t)avail;
	*pos = len;
	if (!request_line_prefix_ok(p->hbuf, p->hlen))
		return CG_HTTP_ERROR;
	return CG_HTTP_NEED_MORE;
}

enum cg_http_status cg_http_feed(struct cg_http_parser *p, const uint8_t *data,
				 size_t len, struct cg_http_request *req,
				 size_t *consumed)
{
	*consumed = 0;
	if (p->state == ST_ERROR)
		return CG_HTTP_ERROR;
	/* NEED_BUFFER promises that nothing was consumed: body bytes
	 * skipped before the split header are replayed on the next call. */
	struct cg_http_parser saved = *p;
	size_t pos = 0;
	while (pos < len) {
		if (p->state != ST_HEAD) {
			if (!skip_body(p, data, len, &pos))
				goto error;
			continue;
		}
		enum cg_http_status st = head(p, data, len, &pos, req);
		switch (st) {
		case CG_HTTP_REQUEST:
			p->requests++;
			*consumed = pos;
			return st;
		case CG_HTTP_NEED_BUFFER:
			*p = saved;
			return st;
		case CG_HTTP_ERROR:
			goto error;
		case CG_HTTP_NEED_MORE:
			break;
		}
	}
	*consumed = len;
	return CG_HTTP_NEED_MORE;

error:
	p->state = ST_ERROR;
	p->hlen = 0;
	*consumed = pos;
	return CG_HTTP_ERROR;
}

bool cg_http_looks_like_request(const uint8_t *data, size_t len)
{
	/* RFC 9110 9.3 methods and the WebDAV ones (RFC 4918) that
	 * clients send; an unknown token is not enough to call a stream
	 * HTTP (VNC's "RFB 003.008" is a token and a space too). */
	static const char *const methods[] = {
	    "GET",     "HEAD",	"POST",	 "PUT",	     "DELETE",	  "CONNECT",
	    "OPTIONS", "TRACE", "PATCH", "PROPFIND", "PROPPATCH", "MKCOL",
	    "COPY",    "MOVE",	"LOCK",	 "UNLOCK",   "REPORT",	  "SEARCH",
	};
	for (size_t m = 0; m < sizeof(methods) / sizeof(methods[0]); m++) {
		size_t n = strlen(methods[m]);
		if (len > n && !memcmp(data, methods[m], n) && data[n] == ' ')
			return true;
	}
	return false;
}
