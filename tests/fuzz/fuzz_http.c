/*
 * Fuzzes hostinfo_http: the input as one segment, then split at a point
 * taken from its first byte, with a header buffer attached from the start
 * and without one (attached on NEED_BUFFER).  All three must see the same
 * requests: a split may never change what the gateway reads.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cafeguard/hostinfo_http.h"

#define MAXREQ 16

struct seen {
	unsigned n;
	bool error;
	char host[MAXREQ][CG_NAME_BUF];
	uint16_t port[MAXREQ];
	bool ip[MAXREQ];
	char path[MAXREQ][CG_HTTP_PATH_MAX];
};

static uint8_t hbuf[CG_HTTP_HEADER_MAX];

static void feed(struct cg_http_parser *p, const uint8_t *d, size_t len,
		 struct seen *s)
{
	size_t off = 0;
	while (!s->error) {
		struct cg_http_request req;
		size_t used = 0;
		enum cg_http_status st =
		    cg_http_feed(p, d + off, len - off, &req, &used);
		if (used > len - off)
			abort();
		switch (st) {
		case CG_HTTP_REQUEST:
			if (strlen(req.host) != req.host_len ||
			    (req.host_is_ip && req.host_len) ||
			    strlen(req.path) >= CG_HTTP_PATH_MAX ||
			    strlen(req.method) >= sizeof(req.method))
				abort();
			if (s->n < MAXREQ) {
				strcpy(s->host[s->n], req.host);
				s->port[s->n] = req.port;
				s->ip[s->n] = req.host_is_ip;
				strcpy(s->path[s->n], req.path);
			}
			s->n++;
			off += used;
			break;
		case CG_HTTP_NEED_BUFFER:
			if (used || p->hbuf)
				abort();
			p->hbuf = hbuf;
			break;
		case CG_HTTP_NEED_MORE:
			if (used != len - off)
				abort();
			return;
		case CG_HTTP_ERROR:
			s->error = true;
			return;
		}
	}
}

static void same(const struct seen *a, const struct seen *b)
{
	if (a->n != b->n || a->error != b->error)
		abort();
	for (unsigned i = 0; i < a->n && i < MAXREQ; i++)
		if (strcmp(a->host[i], b->host[i]) ||
		    a->port[i] != b->port[i] || a->ip[i] != b->ip[i] ||
		    strcmp(a->path[i], b->path[i]))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct seen whole, split, late;
	struct cg_http_parser p;

	memset(&whole, 0, sizeof(whole));
	cg_http_parser_init(&p);
	feed(&p, data, size, &whole);

	size_t cut = size ? (size_t)data[0] * size / 256 : 0;
	memset(&split, 0, sizeof(split));
	cg_http_parser_init(&p);
	p.hbuf = hbuf;
	feed(&p, data, cut, &split);
	feed(&p, data + cut, size - cut, &split);
	same(&whole, &split);

	memset(&late, 0, sizeof(late));
	cg_http_parser_init(&p);
	feed(&p, data, cut, &late);
	if (!cg_http_parser_holds_buffer(&p))
		p.hbuf = NULL;
	feed(&p, data + cut, size - cut, &late);
	same(&whole, &late);

	cg_http_looks_like_request(data, size);
	return 0;
}
