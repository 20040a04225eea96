#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cafeguard/syslog.h"

/* Every test talks to loopback only.  A sink call that takes longer than
 * this and slept meanwhile waited for the collector (see bound_check). */
#define WRITE_BOUND_MS 50
#define WAIT_MS	       3000

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void nap(void)
{
	struct timespec ts = {0, 5 * 1000 * 1000};
	nanosleep(&ts, NULL);
}

static struct cg_event make_event(enum cg_event_type type, uint32_t i)
{
	struct cg_event e;
	memset(&e, 0, sizeof(e));
	e.time_ms = 1700000000123ull + i;
	e.type = (uint8_t)type;
	e.action = CG_ACT_NXDOMAIN;
	e.family = 4;
	e.proto = 17;
	inet_pton(AF_INET, "10.0.0.2", e.client);
	inet_pton(AF_INET, "10.0.0.53", e.server);
	e.client_port = 4000;
	e.server_port = 53;
	snprintf(e.host, sizeof(e.host), "www%u.blocked.test", i);
	snprintf(e.seat, sizeof(e.seat), "seat-02");
	snprintf(e.reason, sizeof(e.reason), "list");
	snprintf(e.category, sizeof(e.category), "adult");
	e.line = i;
	return e;
}

/* The sink after the syslog one: counts what reaches it. */
struct counting_sink {
	struct cg_event_sink base;
	unsigned writes, flushes, closes;
	uint32_t last_line;
};

static int counting_write(struct cg_event_sink *s, const struct cg_event *e)
{
	struct counting_sink *c = (struct counting_sink *)s;
	c->writes++;
	c->last_line = e->line;
	return 0;
}

static int counting_flush(struct cg_event_sink *s)
{
	((struct counting_sink *)s)->flushes++;
	return 0;
}

static void counting_close(struct cg_event_sink *s)
{
	((struct counting_sink *)s)->closes++;
}

static void counting_init(struct counting_sink *c)
{
	memset(c, 0, sizeof(*c));
	c->base.write = counting_write;
	c->base.flush = counting_flush;
	c->base.close = counting_close;
}

/* Voluntary context switches of this thread: a call that waited for
 * the collector slept, and sleeping is a voluntary switch; being
 * preempted on a busy machine (ctest -j) is not. */
static long voluntary_switches(void)
{
	struct rusage ru;
	getrusage(RUSAGE_THREAD, &ru);
	return ru.ru_nvcsw;
}

/* A sink call must not wait: it fails only if it was slow and slept. */
struct bound {
	uint64_t t0;
	long sw0;
};

static struct bound bound_start(void)
{
	return (struct bound){now_ms(), voluntary_switches()};
}

static bool slept_past_bound(struct bound b)
{
	return now_ms() - b.t0 >= WRITE_BOUND_MS &&
	       voluntary_switches() != b.sw0;
}

static void bound_check(struct bound b)
{
	if (slept_past_bound(b))
		fail_msg("a sink call slept for %llu ms",
			 (unsigned long long)(now_ms() - b.t0));
}

static void timed_write(struct cg_event_sink *s, const struct cg_event *e)
{
	struct bound b = bound_start();
	assert_int_equal(s->write(s, e), 0);
	bound_check(b);
}

static void timed_flush(struct cg_event_sink *s)
{
	struct bound b = bound_start();
	s->flush(s);
	bound_check(b);
}

/* The bound itself: a call that sleeps is caught. */
static void bound_catches_sleep(void **state)
{
	(void)state;
	struct bound b = bound_start();
	assert_false(slept_past_bound(b));
	struct timespec ts = {0, (WRITE_BOUND_MS + 10) * 1000 * 1000};
	nanosleep(&ts, NULL);
	assert_true(slept_past_bound(b));
}

/* ---- the format ---- */

static void format_exact(void **state)
{
	(void)state;
	struct cg_event e;
	memset(&e, 0, sizeof(e));
	e.time_ms = 1700000000123ull;
	e.type = CG_EV_START;
	snprintf(e.detail, sizeof(e.detail), "v0.1");
	char out[4096];
	size_t n = cg_syslog_format(&e, 16, "gw1", 4242, out, sizeof(out));
	const char *want =
	    "<134>1 2023-11-14T22:13:20.123Z gw1 cafeguardd 4242 "
	    "start - {\"time\":\"2023-11-14T22:13:20.123Z\","
	    "\"event\":\"start\",\"detail\":\"v0.1\"}";
	assert_string_equal(out, want);
	assert_int_equal(n, strlen(want));

	/* A block: notice (5), local7 (23): 23 * 8 + 5. */
	e = make_event(CG_EV_BLOCK, 7);
	n = cg_syslog_format(&e, 23, "gw1", 1, out, sizeof(out));
	assert_true(n > 0);
	const char *head = "<189>1 2023-11-14T22:13:20.130Z gw1 cafeguardd 1 "
			   "block - ";
	assert_memory_equal(out, head, strlen(head));
	char json[4096];
	size_t jn = cg_event_to_json(&e, json, sizeof(json));
	assert_int_equal(n, strlen(head) + jn);
	assert_string_equal(out + strlen(head), json);

	/* kern (0) and a stop event: info. */
	e.type = CG_EV_STOP;
	n = cg_syslog_format(&e, 0, "gw1", 0, out, sizeof(out));
	assert_memory_equal(out, "<6>1 ", 5);
	assert_non_null(strstr(out, " cafeguardd - stop - {"));
}

static void format_limits(void **state)
{
	(void)state;
	struct cg_event e = make_event(CG_EV_BLOCK, 1);
	char out[4096];
	assert_int_equal(cg_syslog_format(&e, 24, "h", 1, out, sizeof(out)), 0);
	size_t n = cg_syslog_format(&e, 1, "h", 1, out, sizeof(out));
	assert_true(n > 0);
	/* Exactly enough (with the NUL) works; one byte less does not. */
	assert_int_equal(cg_syslog_format(&e, 1, "h", 1, out, n + 1), n);
	assert_int_equal(cg_syslog_format(&e, 1, "h", 1, out, n), 0);
	assert_int_equal(cg_syslog_format(&e, 1, "h", 1, out, 10), 0);
	assert_int_equal(cg_syslog_format(&e, 1, "h", 1, out, 0), 0);
}

static void hostname_sanitised(void **state)
{
	(void)state;
	struct cg_event e = make_event(CG_EV_START, 0);
	char out[4096];
	/* RFC 5424 6.2.4: PRINTUSASCII only; é is two bytes. */
	cg_syslog_format(&e, 1, "caf\xc3\xa9 box\t", 9, out, sizeof(out));
	assert_non_null(strstr(out, "Z caf___box_ cafeguardd 9 start "));
	cg_syslog_format(&e, 1, "", 9, out, sizeof(out));
	assert_non_null(strstr(out, "Z - cafeguardd 9 start "));
	cg_syslog_format(&e, 1, NULL, 9, out, sizeof(out));
	assert_non_null(strstr(out, "Z - cafeguardd 9 start "));

	char longname[400];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	cg_syslog_format(&e, 1, longname, 9, out, sizeof(out));
	char *h = strchr(strchr(out, ' ') + 1, ' ') + 1;
	assert_int_equal(strchr(h, ' ') - h, CG_SYSLOG_HOSTNAME_MAX);
}

/* ---- loopback collectors ---- */

static socklen_t loopback(int family, uint16_t port,
			  struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;
		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return sizeof(*a);
	}
	struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
	a->sin6_family = AF_INET6;
	a->sin6_port = htons(port);
	a->sin6_addr = in6addr_loopback;
	return sizeof(*a);
}

/* A socket bound to loopback on port (0: any); -1 if the family is not
 * available here.  *port gets the port. */
static int bound(int family, int type, uint16_t *port)
{
	struct sockaddr_storage ss;
	socklen_t sl = loopback(family, *port, &ss);
	int fd = socket(family, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (type == SOCK_STREAM && listen(fd, 4) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static struct cg_syslog_opts opts_for(int family, uint16_t port, bool tcp)
{
	struct cg_syslog_opts o;
	memset(&o, 0, sizeof(o));
	o.addr.family = family == AF_INET ? 4 : 6;
	if (family == AF_INET)
		inet_pton(AF_INET, "127.0.0.1", o.addr.addr);
	else
		inet_pton(AF_INET6, "::1", o.addr.addr);
	o.port = port;
	o.tcp = tcp;
	o.facility = 16;
	o.hostname = "gw-test";
	o.pid = 77;
	o.backoff_min_ms = 20;
	o.backoff_max_ms = 100;
	return o;
}

static void expect_format(const struct cg_event *e, char *want, size_t sz)
{
	assert_true(cg_syslog_format(e, 16, "gw-test", 77, want, sz) > 0);
}

static void udp_roundtrip(int family)
{
	uint16_t port = 0;
	int rx = bound(family, SOCK_DGRAM, &port);
	if (rx < 0) {
		skip();
		return;
	}
	struct counting_sink next;
	counting_init(&next);
	struct cg_syslog_opts o = opts_for(family, port, false);
	struct cg_error err;
	struct cg_event_sink *s = cg_syslog_sink_open(&o, &next.base, &err);
	assert_non_null(s);
	for (uint32_t i = 0; i < 3; i++) {
		struct cg_event e =
		    make_event(i ? CG_EV_BLOCK : CG_EV_START, i);
		timed_write(s, &e);
		char got[8192], want[8192];
		struct pollfd p = {.fd = rx, .events = POLLIN};
		assert_int_equal(poll(&p, 1, WAIT_MS), 1);
		ssize_t n = recv(rx, got, sizeof(got) - 1, 0);
		assert_true(n > 0);
		got[n] = '\0';
		expect_format(&e, want, sizeof(want));
		assert_string_equal(got, want);
	}
	timed_flush(s);
	struct cg_syslog_stats st;
	cg_syslog_stats(s, &st);
	assert_int_equal(st.sent, 3);
	assert_int_equal(st.dropped, 0);
	assert_int_equal(st.errors, 0);
	assert_true(st.connected);
	assert_int_equal(next.writes, 3);
	assert_int_equal(next.flushes, 1);
	s->close(s);
	assert_int_equal(next.closes, 1);
	close(rx);
}

static void udp_ipv4(void **state)
{
	(void)state;
	udp_roundtrip(AF_INET);
}

static void udp_ipv6(void **state)
{
	(void)state;
	udp_roundtrip(AF_INET6);
}

/* Nobody listens: the kernel's ICMP port unreachable turns the next send
 * into ECONNREFUSED, which is dropped and counted, never waited on. */
static void udp_refused_counted(void **state)
{
	(void)state;
	uint16_t port = 0;
	int rx = bound(AF_INET, SOCK_DGRAM, &port);
	assert_true(rx >= 0);
	close(rx);
	struct counting_sink next;
	counting_init(&next);
	struct cg_syslog_opts o = opts_for(AF_INET, port, false);
	struct cg_event_sink *s = cg_syslog_sink_open(&o, &next.base, NULL);
	assert_non_null(s);
	struct cg_syslog_stats st;
	unsigned i = 0;
	do {
		struct cg_event e = make_event(CG_EV_BLOCK, i++);
		timed_write(s, &e);
		nap();
		cg_syslog_stats(s, &st);
	} while (!st.dropped && i < 200);
	assert_true(st.dropped > 0);
	assert_true(st.errors > 0);
	assert_int_equal(st.sent + st.dropped, i);
	assert_int_equal(next.writes, i);
	s->close(s);
}

static void open_errors(void **state)
{
	(void)state;
	struct counting_sink next;
	counting_init(&next);
	struct cg_syslog_opts o = opts_for(AF_INET, 514, false);
	o.facility = 24;
	struct cg_error err;
	assert_null(cg_syslog_sink_open(&o, &next.base, &err));
	assert_non_null(strstr(err.msg, "facility"));
	/* The sink owns next even when it cannot be made. */
	assert_int_equal(next.closes, 1);
	o = opts_for(AF_INET, 514, true);
	o.addr.family = 0;
	assert_null(cg_syslog_sink_open(&o, NULL, &err));
	assert_non_null(strstr(err.msg, "address"));

	/* Stats of some other sink are zero, not garbage. */
	struct cg_syslog_stats st;
	memset(&st, 0xff, sizeof(st));
	cg_syslog_stats(&next.base, &st);
	assert_int_equal(st.sent, 0);
	assert_false(st.connected);
}

/* ---- TCP ---- */

/* Reads RFC 6587 octet-counted frames, driving the sink (which only
 * moves inside its calls) while it waits. */
struct reader {
	int fd;
	size_t len;
	char buf[1 << 20];
};

static bool read_frame(struct reader *r, struct cg_event_sink *s, char *out,
		       size_t outsz)
{
	uint64_t deadline = now_ms() + WAIT_MS;
	for (;;) {
		char *sp = memchr(r->buf, ' ', r->len);
		if (sp) {
			char *end;
			unsigned long n = strtoul(r->buf, &end, 10);
			assert_ptr_equal(end, sp);
			assert_true(r->buf[0] >= '1' && r->buf[0] <= '9');
			size_t hl = (size_t)(sp - r->buf) + 1;
			if (r->len >= hl + n) {
				assert_true(n < outsz);
				memcpy(out, sp + 1, n);
				out[n] = '\0';
				memmove(r->buf, r->buf + hl + n,
					r->len - hl - n);
				r->len -= hl + n;
				return true;
			}
		}
		if (now_ms() > deadline)
			return false;
		timed_flush(s);
		struct pollfd p = {.fd = r->fd, .events = POLLIN};
		if (poll(&p, 1, 5) == 1) {
			ssize_t n = recv(r->fd, r->buf + r->len,
					 sizeof(r->buf) - r->len, 0);
			if (n <= 0)
				return false;
			r->len += (size_t)n;
		}
	}
}

static int accept_driving(int lfd, struct cg_event_sink *s)
{
	uint64_t deadline = now_ms() + WAIT_MS;
	while (now_ms() < deadline) {
		timed_flush(s);
		struct pollfd p = {.fd = lfd, .events = POLLIN};
		if (poll(&p, 1, 5) == 1)
			return accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	}
	return -1;
}

static void tcp_framing(void **state)
{
	(void)state;
	uint16_t port = 0;
	int lfd = bound(AF_INET, SOCK_STREAM, &port);
	assert_true(lfd >= 0);
	struct counting_sink next;
	counting_init(&next);
	struct cg_syslog_opts o = opts_for(AF_INET, port, true);
	struct cg_event_sink *s = cg_syslog_sink_open(&o, &next.base, NULL);
	assert_non_null(s);
	struct reader *r = calloc(1, sizeof(*r));
	r->fd = accept_driving(lfd, s);
	assert_true(r->fd >= 0);
	struct cg_event ev[5];
	for (uint32_t i = 0; i < 5; i++) {
		ev[i] = make_event(CG_EV_BLOCK, i);
		timed_write(s, &ev[i]);
	}
	for (uint32_t i = 0; i < 5; i++) {
		char got[8192], want[8192];
		assert_true(read_frame(r, s, got, sizeof(got)));
		expect_format(&ev[i], want, sizeof(want));
		assert_string_equal(got, want);
	}
	struct cg_syslog_stats st;
	cg_syslog_stats(s, &st);
	assert_int_equal(st.sent, 5);
	assert_int_equal(st.dropped, 0);
	assert_int_equal(st.reconnects, 0);
	assert_true(st.connected);
	assert_int_equal(next.writes, 5);
	s->close(s);
	assert_int_equal(next.closes, 1);
	close(r->fd);
	free(r);
	close(lfd);
}

static void tcp_ipv6(void **state)
{
	(void)state;
	uint16_t port = 0;
	int lfd = bound(AF_INET6, SOCK_STREAM, &port);
	if (lfd < 0) {
		skip();
		return;
	}
	struct cg_syslog_opts o = opts_for(AF_INET6, port, true);
	struct cg_event_sink *s = cg_syslog_sink_open(&o, NULL, NULL);
	assert_non_null(s);
	struct reader *r = calloc(1, sizeof(*r));
	r->fd = accept_driving(lfd, s);
	assert_true(r->fd >= 0);
	struct cg_event e = make_event(CG_EV_BLOCK, 1);
	timed_write(s, &e);
	char got[8192], want[8192];
	assert_true(read_frame(r, s, got, sizeof(got)));
	expect_format(&e, want, sizeof(want));
	assert_string_equal(got, want);
	s->close(s);
	close(r->fd);
	free(r);
	close(lfd);
}

/* The collector is down: events wait in the bounded buffer, then are
 * dropped and counted; no call waits; next sees every one. */
static void tcp_down_drops(void **state)
{
	(void)state;
	uint16_t port = 0;
	int fd = bound(AF_INET, SOCK_DGRAM, &port);
	assert_true(fd >= 0);
	close(fd); /* a port nobody listens on (TCP) */
	struct counting_sink next;
	counting_init(&next);
	struct cg_syslog_opts o = opts_for(AF_INET, port, true);
	o.buffer = 4096;
	struct cg_event_sink *s = cg_syslog_sink_open(&o, &next.base, NULL);
	assert_non_null(s);
	for (uint32_t i = 0; i < 200; i++) {
		struct cg_event e = make_event(CG_EV_BLOCK, i);
		timed_write(s, &e);
		if (i % 20 == 0)
			timed_flush(s);
	}
	struct cg_syslog_stats st;
	cg_syslog_stats(s, &st);
	assert_int_equal(st.sent, 0);
	/* About 4096 / 300 events fit in the buffer; the rest are gone. */
	assert_true(st.dropped >= 180);
	assert_true(st.dropped < 200);
	assert_true(st.errors >= 1);
	assert_false(st.connected);
	assert_int_equal(next.writes, 200);
	s->close(s);
	assert_int_equal(next.closes, 1);
}

/* A collector that accepts and never reads: the kernel's buffers fill,
 * then ours, then events are dropped; still no call waits. */
static void tcp_slow_collector(void **state)
{
	(void)state;
	uint16_t port = 0;
	int lfd = bound(AF_INET, SOCK_STREAM, &port);
	assert_true(lfd >= 0);
	struct cg_syslog_opts o = opts_for(AF_INET, port, true);
	o.buffer = 16 * 1024;
	struct cg_event_sink *s = cg_syslog_sink_open(&o, NULL, NULL);
	assert_non_null(s);
	int cfd = accept_driving(lfd, s);
	assert_true(cfd >= 0);
	struct cg_syslog_stats st;
	uint32_t i = 0;
	do {
		struct cg_event e = make_event(CG_EV_BLOCK, i++);
		timed_write(s, &e);
		cg_syslog_stats(s, &st);
	} while (!st.dropped && i < 200000);
	assert_true(st.dropped > 0);
	assert_true(st.connected);
	assert_int_equal(st.errors, 0);
	s->close(s);
	close(cfd);
	close(lfd);
}

/* The collector goes away and comes back on the same port: the sink
 * notices, retries with backoff, and delivers on the new connection. */
static void tcp_reconnect(void **state)
{
	(void)state;
	uint16_t port = 0;
	int lfd = bound(AF_INET, SOCK_STREAM, &port);
	assert_true(lfd >= 0);
	struct counting_sink next;
	counting_init(&next);
	struct cg_syslog_opts o = opts_for(AF_INET, port, true);
	struct cg_event_sink *s = cg_syslog_sink_open(&o, &next.base, NULL);
	assert_non_null(s);
	struct reader *r = calloc(1, sizeof(*r));
	r->fd = accept_driving(lfd, s);
	assert_true(r->fd >= 0);
	struct cg_event e = make_event(CG_EV_BLOCK, 1);
	char got[8192], want[8192];
	timed_write(s, &e);
	assert_true(read_frame(r, s, got, sizeof(got)));

	/* Down. */
	close(r->fd);
	close(lfd);
	struct cg_syslog_stats st;
	uint64_t deadline = now_ms() + WAIT_MS;
	do {
		timed_flush(s);
		nap();
		cg_syslog_stats(s, &st);
	} while (st.connected && now_ms() < deadline);
	assert_false(st.connected);
	/* A few refused attempts while it is down. */
	for (int k = 0; k < 20; k++) {
		timed_flush(s);
		nap();
	}
	e = make_event(CG_EV_BLOCK, 2);
	timed_write(s, &e);

	/* Back. */
	uint16_t same = port;
	lfd = bound(AF_INET, SOCK_STREAM, &same);
	assert_true(lfd >= 0);
	r->len = 0;
	r->fd = accept_driving(lfd, s);
	assert_true(r->fd >= 0);
	assert_true(read_frame(r, s, got, sizeof(got)));
	expect_format(&e, want, sizeof(want));
	assert_string_equal(got, want);
	e = make_event(CG_EV_STOP, 3);
	timed_write(s, &e);
	assert_true(read_frame(r, s, got, sizeof(got)));
	expect_format(&e, want, sizeof(want));
	assert_string_equal(got, want);

	cg_syslog_stats(s, &st);
	assert_int_equal(st.reconnects, 1);
	assert_true(st.connected);
	assert_true(st.errors >= 1);
	assert_int_equal(st.sent, 3);
	assert_int_equal(st.dropped, 0);
	assert_int_equal(next.writes, 3);
	assert_int_equal(next.last_line, 3);
	s->close(s);
	close(r->fd);
	free(r);
	close(lfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(bound_catches_sleep),
	    cmocka_unit_test(format_exact),
	    cmocka_unit_test(format_limits),
	    cmocka_unit_test(hostname_sanitised),
	    cmocka_unit_test(open_errors),
	    cmocka_unit_test(udp_ipv4),
	    cmocka_unit_test(udp_ipv6),
	    cmocka_unit_test(udp_refused_counted),
	    cmocka_unit_test(tcp_framing),
	    cmocka_unit_test(tcp_ipv6),
	    cmocka_unit_test(tcp_down_drops),
	    cmocka_unit_test(tcp_slow_collector),
	    cmocka_unit_test(tcp_reconnect),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
