/*
 * A plain HTTP/1.1 client for the portal's unit tests: one request per
 * connection from a chosen loopback source address (the portal tells
 * clients apart by address), the whole answer read until the server
 * closes.  Include after cmocka.h.
 */
#ifndef CG_HTTP_TESTUTIL_H
#define CG_HTTP_TESTUTIL_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

struct resp {
	int status; /* -1: no status line */
	char head[4096];
	char *body; /* NUL-terminated; free with done() */
	size_t len;
};

static inline int ht_dial(uint16_t port, const char *from)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	struct sockaddr_in src = {.sin_family = AF_INET};
	assert_int_equal(inet_pton(AF_INET, from, &src.sin_addr), 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&src, sizeof(src)), 0);
	struct sockaddr_in dst = {.sin_family = AF_INET,
				  .sin_port = htons(port)};
	inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&dst, sizeof(dst)), 0);
	return fd;
}

/* Reads until the server closes (or 10 s of silence); a signal (the
 * SIGHUP a dashboard reload raises) does not end the wait. */
static inline char *ht_slurp(int fd, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap + 1);
	assert_non_null(buf);
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int pr = poll(&pfd, 1, 10000);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0)
			break;
		if (n == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
			assert_non_null(buf);
		}
		ssize_t k = recv(fd, buf + n, cap - n, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		n += (size_t)k;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

static inline void ht_send_all(int fd, const char *req, size_t len)
{
	while (len) {
		ssize_t k = send(fd, req, len, MSG_NOSIGNAL);
		if (k <= 0)
			return; /* the server may refuse before reading all */
		req += k;
		len -= (size_t)k;
	}
}

/* Sends req[0..len) from the address from to port and reads the answer
 * into r (status, head, body). */
static inline void ht_exchange(uint16_t port, const char *from,
			       const char *req, size_t len, struct resp *r)
{
	int fd = ht_dial(port, from);
	ht_send_all(fd, req, len);
	shutdown(fd, SHUT_WR);
	size_t n;
	char *all = ht_slurp(fd, &n);
	close(fd);
	memset(r, 0, sizeof(*r));
	r->status = -1;
	sscanf(all, "HTTP/1.%*c %d", &r->status);
	char *end = strstr(all, "\r\n\r\n");
	size_t hlen = end ? (size_t)(end - all) : n;
	snprintf(r->head, sizeof(r->head), "%.*s", (int)hlen, all);
	r->body = all;
	if (end) {
		r->len = n - hlen - 4;
		memmove(all, end + 4, r->len + 1);
	} else {
		all[0] = '\0';
	}
}

static inline void done(struct resp *r)
{
	free(r->body);
	r->body = NULL;
}

/* The value of a header (case-insensitive name), or NULL. */
static inline const char *hdr(const struct resp *r, const char *name,
			      char *out, size_t outsz)
{
	size_t n = strlen(name);
	for (const char *l = strstr(r->head, "\r\n"); l;
	     l = strstr(l, "\r\n")) {
		l += 2;
		if (!strncasecmp(l, name, n) && l[n] == ':') {
			const char *v = l + n + 1;
			while (*v == ' ')
				v++;
			snprintf(out, outsz, "%.*s", (int)strcspn(v, "\r\n"),
				 v);
			return out;
		}
	}
	return NULL;
}

#endif
