#include "cafeguard/syslog.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define APP_NAME "cafeguardd"
/* The largest event: every field of struct cg_event escaped six-fold
 * still fits; a larger one is dropped, never cut (cut JSON is useless). */
#define MSG_MAX 8192
/* "LEN SP": LEN < MSG_MAX, so at most 4 digits; 8 leaves room. */
#define FRAME_HDR_MAX	    8
#define TCP_BUFFER_DEFAULT  (256u * 1024u)
#define BACKOFF_MIN_DEFAULT 1000u
#define BACKOFF_MAX_DEFAULT 60000u
/* A SYN to a host that is gone is retried by the kernel for about two
 * minutes; the events wait meanwhile, so give up sooner. */
#define CONNECT_TIMEOUT_MS 5000u
/* A peer that vanished without a FIN or RST leaves the kernel
 * retransmitting for ~15 min (tcp_retries2); one that stopped reading
 * holds the window at zero forever.  Either way nothing moves: start
 * again. */
#define STALL_TIMEOUT_MS 30000u

enum tcp_state { TCP_IDLE, TCP_CONNECTING, TCP_UP };

struct syslog_sink {
	struct cg_event_sink base;
	struct cg_event_sink *next;
	bool tcp;
	uint8_t facility;
	int pid;
	int fd;
	struct sockaddr_storage sa;
	socklen_t salen;
	char host[CG_SYSLOG_HOSTNAME_MAX + 1];

	/* TCP: state, retry timing and the bounded buffer.  buf[start..len)
	 * are framed messages not yet wholly sent; buf[start..head) is the
	 * part of the first one the kernel already took. */
	enum tcp_state state;
	bool ever_up;
	uint64_t since_ms; /* connect started / stall began (0: none) */
	uint64_t retry_at_ms;
	uint32_t backoff_ms, backoff_min_ms, backoff_max_ms;
	char *buf;
	size_t cap, start, head, len;

	/* Read by cg_syslog_stats() from other threads. */
	atomic_uint_fast64_t sent, dropped, errors, reconnects;
	atomic_bool connected;

	uint16_t port;
	char msg[MSG_MAX];
};

static void count(atomic_uint_fast64_t *c)
{
	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- the message ---- */

/* RFC 5424 6.2.4: HOSTNAME is 1*255 PRINTUSASCII (33..126). */
static void sanitise_host(const char *in, char *out, size_t outsz)
{
	size_t n = 0;
	for (; in && in[n] && n < CG_SYSLOG_HOSTNAME_MAX && n + 1 < outsz;
	     n++) {
		unsigned char c = (unsigned char)in[n];
		out[n] = c >= 33 && c <= 126 ? (char)c : '_';
	}
	out[n] = '\0';
	if (!n)
		snprintf(out, outsz, "-");
}

/* RFC 5424 6.2.3 (RFC 3339 5.6, UTC, TIME-SECFRAC of 3 digits). */
static void format_time(uint64_t ms, char *out, size_t outsz)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	size_t n = strftime(out, outsz, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, outsz - n, ".%03uZ", (unsigned)(ms % 1000));
}

/* A block is what the operator acts on; the rest is routine. */
static unsigned severity(const struct cg_event *e)
{
	return e->type == CG_EV_BLOCK ? CG_SYSLOG_SEV_NOTICE
				      : CG_SYSLOG_SEV_INFO;
}

size_t cg_syslog_format(const struct cg_event *e, uint8_t facility,
			const char *hostname, int pid, char *out, size_t outsz)
{
	char host[CG_SYSLOG_HOSTNAME_MAX + 1], ts[40], procid[16];
	if (facility > CG_SYSLOG_FACILITY_MAX || !outsz)
		return 0;
	sanitise_host(hostname, host, sizeof(host));
	format_time(e->time_ms, ts, sizeof(ts));
	if (pid > 0)
		snprintf(procid, sizeof(procid), "%d", pid);
	else
		snprintf(procid, sizeof(procid), "-");
	int n = snprintf(out, outsz, "<%u>1 %s %s " APP_NAME " %s %s - ",
			 facility * 8u + severity(e), ts, host, procid,
			 cg_event_type_str((enum cg_event_type)e->type));
	if (n < 0 || (size_t)n >= outsz)
		return 0;
	size_t m = cg_event_to_json(e, out + n, outsz - (size_t)n);
	return m ? (size_t)n + m : 0;
}

/* ---- TCP: connection and buffer ---- */

static void set_state(struct syslog_sink *s, enum tcp_state st)
{
	s->state = st;
	atomic_store_explicit(&s->connected, st == TCP_UP,
			      memory_order_relaxed);
}

/* The length of the framed message at buf[off]: our own "LEN SP". */
static size_t frame_len(const struct syslog_sink *s, size_t off)
{
	size_t n = 0, i = off;
	while (s->buf[i] != ' ')
		n = n * 10 + (size_t)(s->buf[i++] - '0');
	return i + 1 - off + n;
}

/* Messages the kernel has taken whole are sent. */
static void account_sent(struct syslog_sink *s)
{
	while (s->start < s->head) {
		size_t end = s->start + frame_len(s, s->start);
		if (end > s->head)
			break;
		s->start = end;
		count(&s->sent);
	}
	if (s->start == s->len)
		s->start = s->head = s->len = 0;
}

/* The connection is gone.  A message the kernel took in part can never
 * be completed (RFC 6587 framing restarts with the connection), so it is
 * dropped; the rest waits for the next connection. */
static void tcp_lost(struct syslog_sink *s, uint64_t now, bool error)
{
	if (error)
		count(&s->errors);
	if (s->head > s->start) {
		s->start = s->head = s->start + frame_len(s, s->start);
		count(&s->dropped);
		account_sent(s);
	}
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	set_state(s, TCP_IDLE);
	s->since_ms = 0;
	s->retry_at_ms = now + s->backoff_ms;
	s->backoff_ms = s->backoff_ms * 2 > s->backoff_max_ms
			    ? s->backoff_max_ms
			    : s->backoff_ms * 2;
}

static void tcp_established(struct syslog_sink *s)
{
	if (s->ever_up)
		count(&s->reconnects);
	s->ever_up = true;
	s->since_ms = 0;
	s->backoff_ms = s->backoff_min_ms;
	set_state(s, TCP_UP);
}

static void tcp_connect(struct syslog_sink *s, uint64_t now)
{
	s->fd = socket(s->sa.ss_family,
		       SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		tcp_lost(s, now, true);
		return;
	}
	if (connect(s->fd, (struct sockaddr *)&s->sa, s->salen) == 0) {
		tcp_established(s);
	} else if (errno == EINPROGRESS) {
		set_state(s, TCP_CONNECTING);
		s->since_ms = now;
	} else {
		tcp_lost(s, now, true);
	}
}

/* Non-blocking connect (connect(2), EINPROGRESS): writable means done,
 * SO_ERROR says how. */
static void tcp_check_connect(struct syslog_sink *s, uint64_t now)
{
	struct pollfd p = {.fd = s->fd, .events = POLLOUT};
	if (poll(&p, 1, 0) <= 0) {
		if (now - s->since_ms >= CONNECT_TIMEOUT_MS)
			tcp_lost(s, now, true);
		return;
	}
	int soerr = 0;
	socklen_t sl = sizeof(soerr);
	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr)
		tcp_lost(s, now, true);
	else
		tcp_established(s);
}

/* A collector never speaks on this connection: readable means it closed
 * (or reset) it, or sent something to be ignored. */
static void tcp_check_peer(struct syslog_sink *s, uint64_t now)
{
	struct pollfd p = {.fd = s->fd, .events = POLLIN | POLLRDHUP};
	if (poll(&p, 1, 0) <= 0)
		return;
	if (p.revents & (POLLERR | POLLHUP | POLLRDHUP)) {
		tcp_lost(s, now, !!(p.revents & POLLERR));
		return;
	}
	char junk[512];
	ssize_t n = recv(s->fd, junk, sizeof(junk), MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		tcp_lost(s, now, n < 0);
}

static void tcp_pump(struct syslog_sink *s, uint64_t now)
{
	while (s->head < s->len) {
		ssize_t n = send(s->fd, s->buf + s->head, s->len - s->head,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			s->head += (size_t)n;
			s->since_ms = 0;
			account_sent(s);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!s->since_ms)
				s->since_ms = now;
			else if (now - s->since_ms >= STALL_TIMEOUT_MS)
				tcp_lost(s, now, true);
			return;
		}
		tcp_lost(s, now, true);
		return;
	}
}

/* Moves the connection on as far as it goes without waiting. */
static void tcp_service(struct syslog_sink *s)
{
	uint64_t now = mono_ms();
	if (s->state == TCP_IDLE && now >= s->retry_at_ms)
		tcp_connect(s, now);
	if (s->state == TCP_CONNECTING)
		tcp_check_connect(s, now);
	if (s->state == TCP_UP)
		tcp_check_peer(s, now);
	if (s->state == TCP_UP)
		tcp_pump(s, now);
}

/* RFC 6587 3.4.1: octet counting, "MSG-LEN SP SYSLOG-MSG". */
static void tcp_queue(struct syslog_sink *s, size_t n)
{
	char hdr[FRAME_HDR_MAX];
	int h = snprintf(hdr, sizeof(hdr), "%zu ", n);
	size_t need = (size_t)h + n;
	if (s->len + need > s->cap && s->start) {
		memmove(s->buf, s->buf + s->start, s->len - s->start);
		s->head -= s->start;
		s->len -= s->start;
		s->start = 0;
	}
	if (s->len + need > s->cap) {
		count(&s->dropped);
		return;
	}
	memcpy(s->buf + s->len, hdr, (size_t)h);
	memcpy(s->buf + s->len + (size_t)h, s->msg, n);
	s->len += need;
}

/* ---- the sink ---- */

static void udp_send(struct syslog_sink *s, size_t n)
{
	ssize_t w = send(s->fd, s->msg, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (w == (ssize_t)n) {
		count(&s->sent);
		return;
	}
	count(&s->dropped);
	/* A full socket buffer is a slow path, not a fault; anything else
	 * (ECONNREFUSED: the ICMP port unreachable of the last datagram,
	 * EMSGSIZE, no route) is. */
	if (w >= 0 ||
	    (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS))
		count(&s->errors);
}

static int syslog_write(struct cg_event_sink *base, const struct cg_event *e)
{
	struct syslog_sink *s = (struct syslog_sink *)base;
	size_t n = cg_syslog_format(e, s->facility, s->host, s->pid, s->msg,
				    sizeof(s->msg));
	if (!n)
		count(&s->dropped);
	else if (s->tcp)
		tcp_queue(s, n);
	else
		udp_send(s, n);
	if (s->tcp)
		tcp_service(s);
	return s->next ? s->next->write(s->next, e) : 0;
}

static int syslog_flush(struct cg_event_sink *base)
{
	struct syslog_sink *s = (struct syslog_sink *)base;
	if (s->tcp)
		tcp_service(s);
	return s->next ? s->next->flush(s->next) : 0;
}

static void syslog_close(struct cg_event_sink *base)
{
	struct syslog_sink *s = (struct syslog_sink *)base;
	if (s->tcp)
		tcp_service(s);
	if (s->fd >= 0)
		close(s->fd);
	if (s->next)
		s->next->close(s->next);
	free(s->buf);
	free(s);
}

void cg_syslog_stats(const struct cg_event_sink *base,
		     struct cg_syslog_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!base || base->write != syslog_write)
		return;
	const struct syslog_sink *s = (const struct syslog_sink *)base;
	st->sent = atomic_load_explicit(&s->sent, memory_order_relaxed);
	st->dropped = atomic_load_explicit(&s->dropped, memory_order_relaxed);
	st->errors = atomic_load_explicit(&s->errors, memory_order_relaxed);
	st->reconnects =
	    atomic_load_explicit(&s->reconnects, memory_order_relaxed);
	st->connected =
	    atomic_load_explicit(&s->connected, memory_order_relaxed);
}

static int set_addr(struct syslog_sink *s, const struct cg_syslog_opts *o,
		    struct cg_error *err)
{
	/* RFC 5426 3.3 and RFC 6587 3.3: the registered ports. */
	uint16_t port = o->port ? o->port : o->tcp ? 601 : 514;
	s->port = port;
	memset(&s->sa, 0, sizeof(s->sa));
	if (o->addr.family == 4) {
		struct sockaddr_in *a = (struct sockaddr_in *)&s->sa;
		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		memcpy(&a->sin_addr, o->addr.addr, 4);
		s->salen = sizeof(*a);
	} else if (o->addr.family == 6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&s->sa;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		memcpy(&a->sin6_addr, o->addr.addr, 16);
		s->salen = sizeof(*a);
	} else {
		return cg_error_set(err, "syslog: no collector address");
	}
	return 0;
}

static int init_transport(struct syslog_sink *s, const struct cg_syslog_opts *o,
			  struct cg_error *err)
{
	if (o->tcp) {
		s->cap = o->buffer ? o->buffer : TCP_BUFFER_DEFAULT;
		s->buf = malloc(s->cap);
		if (!s->buf)
			return cg_error_set(err, "syslog: out of memory");
		s->backoff_min_ms =
		    o->backoff_min_ms ? o->backoff_min_ms : BACKOFF_MIN_DEFAULT;
		s->backoff_max_ms =
		    o->backoff_max_ms ? o->backoff_max_ms : BACKOFF_MAX_DEFAULT;
		if (s->backoff_max_ms < s->backoff_min_ms)
			s->backoff_max_ms = s->backoff_min_ms;
		s->backoff_ms = s->backoff_min_ms;
		/* Start connecting now so the first events find the
		 * connection up. */
		tcp_connect(s, mono_ms());
		return 0;
	}
	char a[INET6_ADDRSTRLEN];
	s->fd = socket(s->sa.ss_family,
		       SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0 ||
	    connect(s->fd, (struct sockaddr *)&s->sa, s->salen) < 0) {
		int e = errno;
		inet_ntop(s->sa.ss_family, o->addr.addr, a, sizeof(a));
		return cg_error_set(err, "syslog: udp to %s port %u: %s", a,
				    s->port, strerror(e));
	}
	atomic_store(&s->connected, true);
	return 0;
}

struct cg_event_sink *cg_syslog_sink_open(const struct cg_syslog_opts *o,
					  struct cg_event_sink *next,
					  struct cg_error *err)
{
	struct syslog_sink *s = NULL;
	char h[CG_SYSLOG_HOSTNAME_MAX + 1] = "";
	if (o->facility > CG_SYSLOG_FACILITY_MAX) {
		cg_error_set(err, "syslog: facility %u is not 0..23",
			     o->facility);
		goto fail;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		cg_error_set(err, "syslog: out of memory");
		goto fail;
	}
	atomic_init(&s->sent, 0);
	atomic_init(&s->dropped, 0);
	atomic_init(&s->errors, 0);
	atomic_init(&s->reconnects, 0);
	atomic_init(&s->connected, false);
	s->fd = -1;
	s->next = next;
	s->tcp = o->tcp;
	s->facility = o->facility;
	s->pid = o->pid ? o->pid : (int)getpid();
	if (!o->hostname && gethostname(h, sizeof(h) - 1) < 0)
		h[0] = '\0';
	sanitise_host(o->hostname ? o->hostname : h, s->host, sizeof(s->host));
	if (set_addr(s, o, err) < 0 || init_transport(s, o, err) < 0)
		goto fail;
	s->base.write = syslog_write;
	s->base.flush = syslog_flush;
	s->base.close = syslog_close;
	return &s->base;
fail:
	if (s && s->fd >= 0)
		close(s->fd);
	if (s)
		free(s->buf);
	free(s);
	if (next)
		next->close(next);
	return NULL;
}
