/*
 * hostinfo_http: real requests from the nDPI captures (see
 * tests/data/hostinfo/README.md), keep-alive streams fed at every split
 * point, body framing, and the request-smuggling shapes that must fail.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cafeguard/hostinfo_http.h"

#include "hostinfo_testutil.h"

static uint8_t hbuf[CG_HTTP_HEADER_MAX];

/* What a sequence of feeds produced. */
struct seen {
	unsigned n;
	char hosts[8][CG_NAME_BUF];
	uint16_t ports[8];
	bool ip[8];
	char paths[8][CG_HTTP_PATH_MAX];
	char methods[8][16];
	bool error;
};

/*
 * Feeds data[0..len) as one segment the way the daemon does: calls again
 * after each request, attaches the buffer on NEED_BUFFER.  The segment is
 * copied to an exact-size heap block so ASan sees any over-read.
 */
static void segment(struct cg_http_parser *p, const uint8_t *data, size_t len,
		    struct seen *s)
{
	uint8_t *d = malloc(len ? len : 1);
	if (len)
		memcpy(d, data, len);
	size_t off = 0;
	for (;;) {
		struct cg_http_request req;
		size_t used = 0;
		enum cg_http_status st =
		    cg_http_feed(p, d + off, len - off, &req, &used);
		assert_true(used <= len - off);
		if (st == CG_HTTP_REQUEST) {
			assert_true(s->n < 8);
			strcpy(s->hosts[s->n], req.host);
			assert_int_equal(strlen(req.host), req.host_len);
			s->ports[s->n] = req.port;
			s->ip[s->n] = req.host_is_ip;
			strcpy(s->paths[s->n], req.path);
			strcpy(s->methods[s->n], req.method);
			s->n++;
			off += used;
			continue;
		}
		if (st == CG_HTTP_NEED_BUFFER) {
			assert_int_equal(used, 0);
			assert_null(p->hbuf);
			p->hbuf = hbuf;
			continue;
		}
		if (st == CG_HTTP_ERROR) {
			s->error = true;
			break;
		}
		assert_int_equal(st, CG_HTTP_NEED_MORE);
		assert_int_equal(used, len - off);
		break;
	}
	/* Give the buffer back whenever the parser no longer needs it. */
	if (!cg_http_parser_holds_buffer(p))
		p->hbuf = NULL;
	free(d);
}

static struct seen run(const uint8_t *data, size_t len)
{
	struct cg_http_parser p;
	cg_http_parser_init(&p);
	struct seen s = {0};
	segment(&p, data, len, &s);
	return s;
}

static struct seen run_str(const char *str)
{
	return run((const uint8_t *)str, strlen(str));
}

static void same_seen(const struct seen *a, const struct seen *b)
{
	assert_int_equal(a->n, b->n);
	assert_int_equal(a->error, b->error);
	for (unsigned i = 0; i < a->n; i++) {
		assert_string_equal(a->hosts[i], b->hosts[i]);
		assert_int_equal(a->ports[i], b->ports[i]);
		assert_string_equal(a->paths[i], b->paths[i]);
	}
}

/* Feeds the stream split at every position, and byte by byte: the same
 * requests must come out as when it is fed whole. */
static struct seen every_split(const uint8_t *data, size_t len)
{
	struct seen whole = run(data, len);
	for (size_t cut = 0; cut <= len; cut++) {
		struct cg_http_parser p;
		cg_http_parser_init(&p);
		struct seen s = {0};
		segment(&p, data, cut, &s);
		if (!s.error)
			segment(&p, data + cut, len - cut, &s);
		same_seen(&whole, &s);
	}
	struct cg_http_parser p;
	cg_http_parser_init(&p);
	struct seen s = {0};
	for (size_t i = 0; i < len && !s.error; i++)
		segment(&p, data + i, 1, &s);
	same_seen(&whole, &s);
	return whole;
}

static void real_requests(void **state)
{
	(void)state;
	static const struct {
		const char *file, *host, *method;
		uint16_t port;
		bool ip;
	} cases[] = {
	    {"http-google-get.bin", "google.com", "GET", 0, false},
	    {"http-punycode-get.bin", "www.love.xn--55qx5d", "GET", 0, false},
	    {"http-windowsupdate-get.bin", "", "GET", 0, true},
	    {"http-connect.bin", "apache.org", "CONNECT", 443, false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct blob bl = load(cases[i].file);
		struct seen s = every_split(bl.b, bl.n);
		assert_false(s.error);
		assert_int_equal(s.n, 1);
		assert_string_equal(s.hosts[0], cases[i].host);
		assert_string_equal(s.methods[0], cases[i].method);
		assert_int_equal(s.ports[0], cases[i].port);
		assert_int_equal(s.ip[0], cases[i].ip);
		assert_true(cg_http_looks_like_request(bl.b, bl.n));
		free(bl.b);
	}
	struct blob bl = load("http-google-get.bin");
	struct seen s = run(bl.b, bl.n);
	assert_string_equal(s.paths[0], "/");
	free(bl.b);
	bl = load("http-windowsupdate-get.bin");
	s = run(bl.b, bl.n);
	assert_memory_equal(s.paths[0], "/data/0783dedfb62fa709/msedge", 29);
	assert_int_equal(strlen(s.paths[0]), 260);
	free(bl.b);
	bl = load("http-connect.bin");
	s = run(bl.b, bl.n);
	assert_string_equal(s.paths[0], "");
	free(bl.b);
}

/* http-lines-split.pcap: the header arrives in two segments. */
static void header_across_segments(void **state)
{
	(void)state;
	struct blob a = load("http-lines-split-1.bin");
	struct blob b = load("http-lines-split-2.bin");
	struct cg_http_parser p;
	cg_http_parser_init(&p);
	struct cg_http_request req;
	size_t used = 99;
	/* No buffer yet: nothing is consumed, the caller must attach one. */
	assert_int_equal(cg_http_feed(&p, a.b, a.n, &req, &used),
			 CG_HTTP_NEED_BUFFER);
	assert_int_equal(used, 0);
	assert_false(cg_http_parser_holds_buffer(&p));
	p.hbuf = hbuf;
	assert_int_equal(cg_http_feed(&p, a.b, a.n, &req, &used),
			 CG_HTTP_NEED_MORE);
	assert_int_equal(used, a.n);
	assert_true(cg_http_parser_holds_buffer(&p));
	assert_int_equal(cg_http_feed(&p, b.b, b.n, &req, &used),
			 CG_HTTP_REQUEST);
	assert_int_equal(used, b.n);
	assert_string_equal(req.host, "toni.lan");
	assert_int_equal(req.port, 31337);
	assert_string_equal(req.method, "GET");
	assert_string_equal(req.path, "/");
	assert_false(cg_http_parser_holds_buffer(&p));
	assert_int_equal(p.requests, 1);
	/* Both segments at every split point */
	uint8_t all[128];
	memcpy(all, a.b, a.n);
	memcpy(all + a.n, b.b, b.n);
	struct seen s = every_split(all, a.n + b.n);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.hosts[0], "toni.lan");
	/* The buffer may not be taken back while it holds bytes. */
	cg_http_parser_init(&p);
	p.hbuf = hbuf;
	assert_int_equal(cg_http_feed(&p, a.b, a.n, &req, &used),
			 CG_HTTP_NEED_MORE);
	p.hbuf = NULL;
	assert_int_equal(cg_http_feed(&p, b.b, b.n, &req, &used),
			 CG_HTTP_ERROR);
	free(a.b);
	free(b.b);
}

/* The tunnel after CONNECT (http_connect.pcap frame 12 is the client's
 * TLS ClientHello inside it) is consumed, not parsed. */
static void connect_then_tunnel(void **state)
{
	(void)state;
	struct blob c = load("http-connect.bin");
	struct blob t = load("http-connect-tunnel-ch.bin");
	struct cg_http_parser p;
	cg_http_parser_init(&p);
	struct seen s = {0};
	segment(&p, c.b, c.n, &s);
	segment(&p, t.b, t.n, &s);
	segment(&p, (const uint8_t *)"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27,
		&s);
	assert_false(s.error);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.hosts[0], "apache.org");
	free(c.b);
	free(t.b);
}

static const char keepalive[] =
    "\r\n" /* a stray empty line before a request is ignored */
    "GET /a HTTP/1.1\r\nHost: one.example\r\n\r\n"
    "POST /b HTTP/1.1\r\nHost: two.example:8080\r\nContent-Length: 11\r\n"
    "\r\nhello world"
    "POST /c HTTP/1.1\r\nhost: three.example\r\nTransfer-Encoding: "
    "chunked\r\n\r\n"
    "5;name=\"va;l\"\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n"
    "X-Other: 2\r\n\r\n"
    "PUT /d HTTP/1.0\r\nHOST: [2001:db8::1]:81\r\nContent-Length: 000"
    "\r\n\r\n"
    "GET http://user:pw@Five.Example:8000 HTTP/1.1\r\nHost: ignored\r\n"
    "\r\n"
    "GET /f HTTP/1.1\nHost: six.example\n\n";

static void keepalive_stream(void **state)
{
	(void)state;
	struct seen s =
	    every_split((const uint8_t *)keepalive, sizeof(keepalive) - 1);
	assert_false(s.error);
	assert_int_equal(s.n, 6);
	static const char *hosts[] = {"one.example",   "two.example",
				      "three.example", "",
				      "five.example",  "six.example"};
	static const char *paths[] = {"/a", "/b", "/c", "/d", "/", "/f"};
	static const uint16_t ports[] = {0, 8080, 0, 81, 8000, 0};
	for (unsigned i = 0; i < 6; i++) {
		assert_string_equal(s.hosts[i], hosts[i]);
		assert_string_equal(s.paths[i], paths[i]);
		assert_int_equal(s.ports[i], ports[i]);
	}
	assert_true(s.ip[3]);
	assert_false(s.ip[0]);
}

/* NEED_BUFFER after a body's tail in the same segment: nothing at all is
 * consumed, the body bytes are skipped again on the next call. */
static void need_buffer_replays(void **state)
{
	(void)state;
	struct cg_http_parser p;
	cg_http_parser_init(&p);
	struct cg_http_request req;
	size_t used;
	const char *a =
	    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\n";
	assert_int_equal(
	    cg_http_feed(&p, (const uint8_t *)a, strlen(a), &req, &used),
	    CG_HTTP_REQUEST);
	assert_int_equal(used, strlen(a));
	assert_int_equal(
	    cg_http_feed(&p, (const uint8_t *)"ab", 2, &req, &used),
	    CG_HTTP_NEED_MORE);
	assert_int_equal(p.remaining, 2);
	const char *b = "cdGET / HTTP/1.1\r\nHo";
	assert_int_equal(
	    cg_http_feed(&p, (const uint8_t *)b, strlen(b), &req, &used),
	    CG_HTTP_NEED_BUFFER);
	assert_int_equal(used, 0);
	assert_int_equal(p.remaining, 2);
	p.hbuf = hbuf;
	assert_int_equal(
	    cg_http_feed(&p, (const uint8_t *)b, strlen(b), &req, &used),
	    CG_HTTP_NEED_MORE);
	assert_int_equal(used, strlen(b));
	assert_int_equal(
	    cg_http_feed(&p, (const uint8_t *)"st: b\r\n\r\n", 9, &req, &used),
	    CG_HTTP_REQUEST);
	assert_string_equal(req.host, "b");
	assert_int_equal(p.requests, 2);
	/* Empty feeds change nothing. */
	assert_int_equal(cg_http_feed(&p, (const uint8_t *)"", 0, &req, &used),
			 CG_HTTP_NEED_MORE);
	assert_int_equal(used, 0);
}

static void hosts_and_targets(void **state)
{
	(void)state;
	static const struct {
		const char *req, *host, *path;
		uint16_t port;
		bool ip;
	} cases[] = {
	    {"GET / HTTP/1.1\r\nHOST: WWW.Example.COM.\r\n\r\n",
	     "www.example.com", "/", 0, false},
	    {"GET / HTTP/1.1\r\nHost:   spaced.example   \r\n\r\n",
	     "spaced.example", "/", 0, false},
	    {"GET / HTTP/1.1\r\nHost: 151.99.72.125:80\r\n\r\n", "", "/", 80,
	     true},
	    {"GET / HTTP/1.1\r\nHost: [::1]\r\n\r\n", "", "/", 0, true},
	    {"GET / HTTP/1.1\r\nHost: a.example:\r\n\r\n", "a.example", "/", 0,
	     false},
	    {"GET / HTTP/1.1\r\nHost: bad_ch@r.example\r\n\r\n", "", "/", 0,
	     false},
	    {"GET / HTTP/1.1\r\nUser-Agent: x\r\n\r\n", "", "/", 0, false},
	    {"GET / HTTP/1.1\r\nHost: two.dots..\r\n\r\n", "", "/", 0, false},
	    {"GET / HTTP/1.1\r\nHost:\r\n\r\n", "", "/", 0, false},
	    {"OPTIONS * HTTP/1.1\r\nHost: o.example\r\n\r\n", "o.example", "*",
	     0, false},
	    {"GET https://abs.example/p?q=1#f HTTP/1.1\r\n\r\n", "abs.example",
	     "/p?q=1#f", 0, false},
	    {"GET http://abs.example?q HTTP/1.1\r\n\r\n", "abs.example", "/?q",
	     0, false},
	    {"GET http://[2001:db8::2]:8080/x HTTP/1.1\r\nHost: h\r\n\r\n", "",
	     "/x", 8080, true},
	    {"CONNECT [2001:db8::3]:443 HTTP/1.1\r\n\r\n", "", "", 443, true},
	    {"CONNECT 10.0.0.1:22 HTTP/1.1\r\nHost: other\r\n\r\n", "", "", 22,
	     true},
	    /* obs-fold (RFC 9112 5.2), in Host and in another field */
	    {"GET / HTTP/1.1\r\nX-A: 1\r\n 2\r\nHost:\r\n  folded.example"
	     "\r\n\r\n",
	     "folded.example", "/", 0, false},
	    /* whitespace runs between request-line words */
	    {"GET  /sp   HTTP/1.1 \r\nHost: s.example\r\n\r\n", "s.example",
	     "/sp", 0, false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct seen s = run_str(cases[i].req);
		assert_false(s.error);
		assert_int_equal(s.n, 1);
		assert_string_equal(s.hosts[0], cases[i].host);
		assert_string_equal(s.paths[0], cases[i].path);
		assert_int_equal(s.ports[0], cases[i].port);
		assert_int_equal(s.ip[0], cases[i].ip);
	}
}

static void errors(void **state)
{
	(void)state;
#define S(x)                                                                   \
	{                                                                      \
		x, sizeof(x) - 1                                               \
	}
	static const struct {
		const char *s;
		size_t n;
	} bad[] = {
	    /* not HTTP/1.x */
	    S("\x16\x03\x01\x02\x00\x01\x00\x01\xfc"),
	    S("SSH-2.0-OpenSSH_9.2\r\n"),
	    S("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
	    S("GET / HTTP/2.0\r\n\r\n"),
	    S("GET /\r\n\r\n"),
	    S("GET / HTTP/1.1 extra\r\n\r\n"),
	    S("VERYLONGMETHODNAME / HTTP/1.1\r\n\r\n"),
	    S(" GET / HTTP/1.1\r\n\r\n"),
	    S("GET / HTTP/1.1\r\n Host: a\r\n\r\n"),
	    /* smuggling vectors */
	    S("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n"),
	    S("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"),
	    S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
	      "Transfer-Encoding: chunked\r\n\r\n"),
	    S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
	      "Content-Length: 6\r\n\r\n"),
	    S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n"),
	    S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"),
	    S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 2\r\n\r\n"),
	    S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n"),
	    S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5,\r\n\r\n"),
	    S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n"),
	    S("POST / HTTP/1.1\r\nHost: a\r\n"
	      "Content-Length: 18446744073709551616\r\n\r\n"),
	    S("POST / HTTP/1.1\r\nHost: a\r\n"
	      "Content-Length: 99999999999999999999999\r\n\r\n"),
	    S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n"),
	    S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, "
	      "gzip\r\n\r\n"),
	    S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
	      "Transfer-Encoding: chunked\r\n\r\n"),
	    S("POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
	      "\r\n"),
	    S("GET / HTTP/1.1\r\nHost : a\r\n\r\n"),
	    S("GET / HTTP/1.1\r\nNoColon\r\n\r\n"),
	    S("GET / HTTP/1.1\r\n: empty-name\r\n\r\n"),
	    S("GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n"),
	    S("GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n"),
	    S("GET / HTTP/1.1\r\nHost: a:99999\r\n\r\n"),
	    S("GET / HTTP/1.1\r\nHost: a:8o\r\n\r\n"),
	    S("GET / HTTP/1.1\r\nHost: [::1\r\n\r\n"),
	    S("GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n"),
	    S("GET / HTTP/1.1\r\nHost: [::g]\r\n\r\n"),
	    S("GET / HTTP/1.1\r\nHost: ::1\r\n\r\n"),
	    S("GET mailto:a@b HTTP/1.1\r\n\r\n"),
	    S("GET host.example:80 HTTP/1.1\r\n\r\n"),
	    S("CONNECT /x HTTP/1.1\r\n\r\n"),
	    /* chunk framing */
	    S("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
	      "10000000000000000\r\n"),
	    S("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n;x\r\n"),
	    S("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n\r\n"),
	    S("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5x\r\n"),
	    S("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
	      "5\r\nhelloX"),
	    S("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
	      "5\r\nhello\rX"),
	    S("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\rX"),
	    S("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
	      "0\r\nT: 1\rX"),
	    S("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
	      "5;a\x01\r\n"),
	};
#undef S
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t len = bad[i].n;
		struct cg_http_parser p;
		cg_http_parser_init(&p);
		p.hbuf = hbuf;
		struct cg_http_request req;
		size_t used, off = 0;
		enum cg_http_status st;
		while ((st = cg_http_feed(&p, (const uint8_t *)bad[i].s + off,
					  len - off, &req, &used)) ==
		       CG_HTTP_REQUEST)
			off += used;
		if (st != CG_HTTP_ERROR)
			print_error("case %zu: %s\n", i, bad[i].s);
		assert_int_equal(st, CG_HTTP_ERROR);
		/* and it stays in error */
		assert_int_equal(
		    cg_http_feed(&p,
				 (const uint8_t *)"GET / "
						  "HTTP/1.1\r\n\r\n",
				 18, &req, &used),
		    CG_HTTP_ERROR);
		assert_false(cg_http_parser_holds_buffer(&p));
	}
}

static void header_size_limit(void **state)
{
	(void)state;
	static char big[CG_HTTP_HEADER_MAX + 64];
	const char *head = "GET / HTTP/1.1\r\nHost: a\r\nX: ";
	size_t hl = strlen(head);
	/* exactly CG_HTTP_HEADER_MAX bytes including the final CRLFCRLF */
	memcpy(big, head, hl);
	memset(big + hl, 'x', CG_HTTP_HEADER_MAX - hl - 4);
	memcpy(big + CG_HTTP_HEADER_MAX - 4, "\r\n\r\n", 4);
	struct seen s = run((const uint8_t *)big, CG_HTTP_HEADER_MAX);
	assert_false(s.error);
	assert_int_equal(s.n, 1);
	/* ... and across two segments through the buffer */
	struct cg_http_parser p;
	cg_http_parser_init(&p);
	memset(&s, 0, sizeof(s));
	segment(&p, (const uint8_t *)big, 5000, &s);
	segment(&p, (const uint8_t *)big + 5000, CG_HTTP_HEADER_MAX - 5000, &s);
	assert_false(s.error);
	assert_int_equal(s.n, 1);
	/* one byte more: error, whole or split, even before the end */
	memset(big + hl, 'x', CG_HTTP_HEADER_MAX - hl - 3);
	memcpy(big + CG_HTTP_HEADER_MAX - 3, "\r\n\r\n", 4);
	s = run((const uint8_t *)big, CG_HTTP_HEADER_MAX + 1);
	assert_true(s.error);
	cg_http_parser_init(&p);
	memset(&s, 0, sizeof(s));
	segment(&p, (const uint8_t *)big, 5000, &s);
	segment(&p, (const uint8_t *)big + 5000, CG_HTTP_HEADER_MAX - 5000, &s);
	assert_true(s.error);
	s = run((const uint8_t *)big, CG_HTTP_HEADER_MAX);
	assert_true(s.error);
}

static void path_truncated(void **state)
{
	(void)state;
	static char req[3000];
	strcpy(req, "GET /");
	memset(req + 5, 'p', 1500);
	strcpy(req + 1505, " HTTP/1.1\r\nHost: a\r\n\r\n");
	struct seen s = run_str(req);
	assert_int_equal(s.n, 1);
	assert_int_equal(strlen(s.paths[0]), CG_HTTP_PATH_MAX - 1);
	assert_memory_equal(s.paths[0], req + 4, CG_HTTP_PATH_MAX - 1);
}

static void bodies(void **state)
{
	(void)state;
	/* Content-Length lists of equal values and leading zeros */
	struct seen s = run_str(
	    "POST / HTTP/1.1\r\nContent-Length: 3, 3\r\ncontent-length: 03"
	    "\r\n\r\nabcGET / HTTP/1.1\r\nHost: next.example\r\n\r\n");
	assert_false(s.error);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.hosts[1], "next.example");
	/* TE list ending in chunked, upper-case hex, empty chunk-ext */
	s = run_str("POST / HTTP/1.1\r\nTransfer-Encoding: gzip,\r\n"
		    " chunked\r\n\r\nA;\r\n0123456789\r\n00\r\n\r\n"
		    "GET / HTTP/1.1\r\nHost: after.example\r\n\r\n");
	assert_false(s.error);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.hosts[1], "after.example");
	/* The largest chunk size: everything after is body. */
	s = run_str("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "ffffffffffffffff\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_false(s.error);
	assert_int_equal(s.n, 1);
	/* The largest Content-Length likewise */
	s = run_str("POST / HTTP/1.1\r\nContent-Length: 18446744073709551614"
		    "\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_false(s.error);
	assert_int_equal(s.n, 1);
	/* Upgrade refused: the next request is read; accepted: the new
	 * protocol's bytes are consumed. */
	s = run_str("GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n"
		    "GET / HTTP/1.1\r\nHost: b\r\n\r\n");
	assert_false(s.error);
	assert_int_equal(s.n, 2);
	s = run_str("GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n"
		    "\x81\x85\x01\x02\x03\x04hello GET / HTTP/1.1\r\n\r\n");
	assert_false(s.error);
	assert_int_equal(s.n, 1);
}

static void looks_like_request(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		bool yes;
	} cases[] = {
	    {"GET / HTTP/1.1", true},
	    {"POST /x", true},
	    {"CONNECT a:443", true},
	    {"PROPFIND /", true},
	    {"OPTIONS *", true},
	    {"get / HTTP/1.1", false},
	    {"GET", false},
	    {"GE", false},
	    {"", false},
	    {"GETX /", false},
	    {"RFB 003.008\n", false},
	    {"SSH-2.0-x", false},
	    {"\x16\x03\x01\x00", false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(
		    cg_http_looks_like_request((const uint8_t *)cases[i].s,
					       strlen(cases[i].s)),
		    cases[i].yes);
}

static void init_state(void **state)
{
	(void)state;
	struct cg_http_parser p, z;
	memset(&p, 0xa5, sizeof(p));
	cg_http_parser_init(&p);
	memset(&z, 0, sizeof(z));
	/* A zeroed flow (flow.h) is a fresh parser. */
	assert_memory_equal(&p, &z, sizeof(p));
	assert_false(cg_http_parser_holds_buffer(&p));
	assert_null(p.hbuf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(real_requests),
	    cmocka_unit_test(header_across_segments),
	    cmocka_unit_test(connect_then_tunnel),
	    cmocka_unit_test(keepalive_stream),
	    cmocka_unit_test(need_buffer_replays),
	    cmocka_unit_test(hosts_and_targets),
	    cmocka_unit_test(errors),
	    cmocka_unit_test(header_size_limit),
	    cmocka_unit_test(path_truncated),
	    cmocka_unit_test(bodies),
	    cmocka_unit_test(looks_like_request),
	    cmocka_unit_test(init_state),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
