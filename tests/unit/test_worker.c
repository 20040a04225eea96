/*
 * The pipeline on crafted conversations: what a client and a server would
 * send, packet by packet, and what the gateway answers (recorded instead
 * of sent).
 */
#include "worker_testutil.h"

#include "cafeguard/hostinfo_dns.h"
#include "testpkt.h"


/* blocked.test is on line 7 of the list, xn--mnich-kva.com on line 8:
 * events must name them. */
static const char *const lists[] = {
	"test.list",
	"# a list\n#\n#\n#\n#\n#\nblocked.test\nxn--mnich-kva.com\n",
	"games.list", "games.test\n", NULL};

static const char *const conf =
	"categories = (\n"
	"  { name = \"test\"; lists = [ \"test.list\" ]; },\n"
	"  { name = \"games\"; lists = [ \"games.list\" ]; }\n"
	");\n"
	"profiles = (\n"
	"  { name = \"kids\";\n"
	"    block = { categories = [ \"test\" ]; apps = [ \"BitTorrent\" ]; "
	"};\n"
	"    schedule = (\n"
	"      { days = \"mon-fri\"; from = \"08:00\"; to = \"12:00\"; block "
	"= { categories = [ \"games\" ]; }; },\n"
	"      { days = \"all\"; from = \"22:00\"; to = \"06:00\"; block = { "
	"everything = true; }; }\n"
	"    );\n"
	"    budgets = ( { name = \"games\"; per_day = \"2m\"; categories = "
	"[ \"games\" ]; } );\n"
	"  },\n"
	"  { name = \"adults\"; }\n"
	");\n"
	"default_profile = \"kids\";\n"
	"seats = (\n"
	"  { name = \"seat-a\"; mac = \"52:54:00:00:00:0a\"; profile = "
	"\"adults\"; },\n"
	"  { name = \"seat-b\"; ip = [ \"10.77.1.99\", \"fd77:1::99\" ]; "
	"profile = \"adults\"; }\n"
	");\n";

static const uint8_t mac_a[6] = {0x52, 0x54, 0, 0, 0, 0x0a};


static int setup(void **state)
{
	*state = wf_new(lists, conf);
	return 0;
}

static int teardown(void **state)
{
	return wf_teardown(state);
}

/* Moves the policy clock (not the packet clock) to local time t. */
static void set_clock(struct fixture *fx, int64_t t)
{
	atomic_store(&fx->clock.shift_s, t - (int64_t)(fx->now / 1000));
}

static enum cg_action run(struct fixture *fx, size_t len, int from_lan)
{
	return wf_run(fx, len, from_lan);
}

static enum cg_action dns(struct fixture *fx, const struct tp_ep *c,
			  const struct tp_ep *s, uint16_t id, const char *name)
{
	uint8_t q[512];
	size_t qn = tp_dns_query(q, id, name, 1);
	return run(fx, tp_udp(fx->buf, c, s, q, qn), 1);
}

/* The last recorded answer is an NXDOMAIN for id/name, from s to c. */
static void expect_nxdomain(struct fixture *fx, const struct tp_ep *c,
			    const struct tp_ep *s, uint16_t id,
			    const char *name)
{
	unsigned n = cg_injector_recorded(fx->inj);
	assert_true(n > 0);
	size_t len;
	const uint8_t *pkt = cg_injector_packet(fx->inj, n - 1, &len);
	struct cg_packet p;
	assert_int_equal(cg_decode_ip(pkt, len, len, &p), CG_DECODE_OK);
	assert_memory_equal(p.src, s->addr, 16);
	assert_memory_equal(p.dst, c->addr, 16);
	assert_int_equal(p.sport, s->port);
	assert_int_equal(p.dport, c->port);
	assert_int_equal((p.payload[0] << 8) | p.payload[1], id);
	assert_true(p.payload[2] & 0x80);              /* QR */
	assert_int_equal(p.payload[3] & 0x0f, 3);      /* NXDOMAIN */
	struct cg_dns_query q;
	/* The answer echoes the question, so it parses as a response. */
	assert_int_equal(cg_dns_parse(p.payload, p.payload_len, &q),
			 CG_DNS_NOT_QUERY);
	(void)name;
}

static void expect_event(struct fixture *fx, const char *host,
			 const char *entry, uint32_t line)
{
	struct cg_event e;
	assert_true(cg_event_ring_pop(fx->ring, &e));
	assert_int_equal(e.type, CG_EV_BLOCK);
	assert_string_equal(e.host, host);
	if (entry) {
		assert_string_equal(e.reason, "list");
		assert_string_equal(e.category, "test");
		assert_string_equal(e.rule, "category test");
		assert_string_equal(e.entry, entry);
		size_t fl = strlen(e.file);
		assert_true(fl > 10);
		assert_string_equal(e.file + fl - 10, "/test.list");
		assert_int_equal(e.line, line);
	}
	/* Not a seat: the default profile. */
	assert_string_equal(e.seat, "");
	assert_string_equal(e.profile, "kids");
}

static void handshake(struct fixture *fx, const struct tp_ep *c,
		      const struct tp_ep *s, uint32_t cseq, uint32_t sseq)
{
	assert_int_equal(run(fx, tp_tcp(fx->buf, c, s, cseq, 0, CG_TCP_SYN,
					 NULL, 0), 1),
			 CG_PASS);
	assert_int_equal(run(fx, tp_tcp(fx->buf, s, c, sseq, cseq + 1,
					 CG_TCP_SYN | CG_TCP_ACK, NULL, 0), 0),
			 CG_PASS);
	assert_int_equal(run(fx, tp_tcp(fx->buf, c, s, cseq + 1, sseq + 1,
					 CG_TCP_ACK, NULL, 0), 1),
			 CG_PASS);
}

/* Every query is read, not only the first of a flow. */
static void dns_every_query(void **state)
{
	struct fixture *fx = *state;
	for (int v = 0; v < 2; v++) {
		struct tp_ep c = tp_ep(v ? "fd77:1::11" : "10.77.1.11", 40000);
		struct tp_ep s = tp_ep(v ? "2001:db8::53" : "198.51.100.53",
				       53);
		assert_int_equal(dns(fx, &c, &s, 1, "allowed.test"),
				 CG_MARK_WATCH);
		assert_int_equal(dns(fx, &c, &s, 2, "www.Blocked.TEST."),
				 CG_DROP);
		expect_nxdomain(fx, &c, &s, 2, "www.blocked.test");
		expect_event(fx, "www.blocked.test", "blocked.test", 7);
		/* The flow is still watched: the next good query passes. */
		assert_int_equal(dns(fx, &c, &s, 3, "allowed.test"), CG_PASS);
		/* Punycode stays punycode. */
		assert_int_equal(dns(fx, &c, &s, 4, "www.xn--mnich-kva.com"),
				 CG_DROP);
		expect_event(fx, "www.xn--mnich-kva.com", "xn--mnich-kva.com",
			     8);
	}
}

/* A blocked first query: answered, and the flow stays open to inspection
 * for the next query on the same socket. */
static void dns_blocked_first(void **state)
{
	struct fixture *fx = *state;
	struct tp_ep c = tp_ep("10.77.1.11", 40001);
	struct tp_ep s = tp_ep("198.51.100.53", 53);
	assert_int_equal(dns(fx, &c, &s, 9, "blocked.test"), CG_DROP);
	expect_nxdomain(fx, &c, &s, 9, "blocked.test");
	expect_event(fx, "blocked.test", "blocked.test", 7);
	assert_int_equal(dns(fx, &c, &s, 10, "notblocked.test"),
			 CG_MARK_WATCH);
}

/* DNS over TCP on a port other than 53: the first query is judged too. */
static void dns_tcp_other_port(void **state)
{
	struct fixture *fx = *state;
	struct tp_ep c = tp_ep("10.77.1.11", 40003);
	struct tp_ep s = tp_ep("198.51.100.99", 8053);
	uint8_t q[512];
	size_t qn = tp_dns_query(q + 2, 12, "x.blocked.test", 1);
	q[0] = (uint8_t)(qn >> 8);
	q[1] = (uint8_t)qn;
	handshake(fx, &c, &s, 100, 200);
	cg_injector_forget(fx->inj);
	assert_int_equal(run(fx, tp_tcp(fx->buf, &c, &s, 101, 201,
					CG_TCP_ACK | CG_TCP_PSH, q, qn + 2), 1),
			 CG_MARK_BLOCK);
	/* The answer (FIN) to the client and a reset to the server. */
	assert_int_equal(cg_injector_recorded(fx->inj), 2);
	expect_event(fx, "x.blocked.test", "blocked.test", 7);
}

/* DNS on any port is still DNS. */
static void dns_other_port(void **state)
{
	struct fixture *fx = *state;
	struct tp_ep c = tp_ep("10.77.1.11", 40002);
	struct tp_ep s = tp_ep("198.51.100.99", 5353);
	assert_int_equal(dns(fx, &c, &s, 11, "a.blocked.test"), CG_DROP);
	expect_nxdomain(fx, &c, &s, 11, "a.blocked.test");
	expect_event(fx, "a.blocked.test", "blocked.test", 7);
}


/* Keep-alive: the second request of a connection is read too. */
static void http_keepalive_second_request(void **state)
{
	struct fixture *fx = *state;
	struct tp_ep c = tp_ep("10.77.1.12", 50000);
	struct tp_ep s = tp_ep("198.51.100.10", 80);
	handshake(fx, &c, &s, 100, 9000);
	const char *r1 = "GET / HTTP/1.1\r\nHost: allowed.test\r\n\r\n";
	size_t l1 = strlen(r1);
	assert_int_equal(run(fx, tp_tcp(fx->buf, &c, &s, 101, 9001,
					CG_TCP_ACK | CG_TCP_PSH, r1, l1), 1),
			 CG_MARK_WATCH);
	/* A POST with a body, then a request for a blocked host. */
	const char *r2 = "POST /f HTTP/1.1\r\nHost: allowed.test\r\n"
			 "Content-Length: 5\r\n\r\nhello"
			 "GET / HTTP/1.1\r\nHost: www.blocked.test\r\n\r\n";
	size_t l2 = strlen(r2);
	cg_injector_forget(fx->inj);
	assert_int_equal(run(fx, tp_tcp(fx->buf, &c, &s, (uint32_t)(101 + l1),
					9500, CG_TCP_ACK | CG_TCP_PSH, r2, l2),
			     1),
			 CG_MARK_BLOCK);
	/* Both ends reset: the client fails at once.  The kernel carried
	 * the replies, so the client may be further on than the request
	 * says: a probe far below its window makes each end tell (its
	 * answer meets the firewall's reset rule). */
	assert_int_equal(cg_injector_recorded(fx->inj), 4);
	size_t len;
	struct cg_packet rst;
	const uint8_t *pkt = cg_injector_packet(fx->inj, 0, &len);
	assert_int_equal(cg_decode_ip(pkt, len, len, &rst), CG_DECODE_OK);
	assert_true(rst.tcp_flags & CG_TCP_RST);
	assert_memory_equal(rst.dst, c.addr, 16);
	assert_int_equal(rst.seq, 9500);
	struct cg_packet probe;
	pkt = cg_injector_packet(fx->inj, 2, &len);
	assert_int_equal(cg_decode_ip(pkt, len, len, &probe), CG_DECODE_OK);
	assert_int_equal(probe.tcp_flags, CG_TCP_ACK);
	assert_memory_equal(probe.dst, c.addr, 16);
	assert_int_equal(probe.seq, 9500u - (1u << 30));
	assert_int_equal(probe.ack, 101 + l1 + l2);
	assert_int_equal(probe.payload_len, 0);
	expect_event(fx, "www.blocked.test", "blocked.test", 7);
}

/* A header split across segments is read whole. */
static void http_split_header(void **state)
{
	struct fixture *fx = *state;
	struct tp_ep c = tp_ep("fd77:1::12", 50001);
	struct tp_ep s = tp_ep("2001:db8::10", 80);
	handshake(fx, &c, &s, 500, 7000);
	const char *a = "GET /x HTTP/1.1\r\nUser-Agent: t\r\nHo";
	const char *b = "st: deep.blocked.test:8080\r\n\r\n";
	assert_int_equal(run(fx, tp_tcp(fx->buf, &c, &s, 501, 7001,
					CG_TCP_ACK, a, strlen(a)), 1),
			 CG_PASS);
	assert_int_equal(run(fx, tp_tcp(fx->buf, &c, &s,
					(uint32_t)(501 + strlen(a)), 7001,
					CG_TCP_ACK | CG_TCP_PSH, b, strlen(b)),
			     1),
			 CG_MARK_BLOCK);
	expect_event(fx, "deep.blocked.test", "blocked.test", 7);
}

/* A segment beyond a gap is dropped so the stream is read in order; the
 * client's retransmission then fills the gap. */
static void out_of_order_dropped(void **state)
{
	struct fixture *fx = *state;
	struct tp_ep c = tp_ep("10.77.1.11", 50002);
	struct tp_ep s = tp_ep("198.51.100.10", 80);
	handshake(fx, &c, &s, 1000, 2000);
	const char *a = "GET / HTTP/1.1\r\n";
	const char *b = "User-Agent: t\r\n";
	const char *h = "Host: blocked.test\r\n\r\n";
	uint32_t la = (uint32_t)strlen(a), lb = (uint32_t)strlen(b);
	/* Even the first segment: "b" before "a" is held back. */
	assert_int_equal(run(fx, tp_tcp(fx->buf, &c, &s, 1001 + la, 2001,
					CG_TCP_ACK, b, lb), 1),
			 CG_DROP);
	assert_int_equal(run(fx, tp_tcp(fx->buf, &c, &s, 1001, 2001,
					CG_TCP_ACK, a, la), 1),
			 CG_PASS);
	assert_int_equal(run(fx, tp_tcp(fx->buf, &c, &s, 1001 + la + lb, 2001,
					CG_TCP_ACK, h, strlen(h)), 1),
			 CG_DROP);
	/* A retransmission of what was seen is passed and skipped. */
	assert_int_equal(run(fx, tp_tcp(fx->buf, &c, &s, 1001, 2001,
					CG_TCP_ACK, a, la), 1),
			 CG_PASS);
	assert_int_equal(run(fx, tp_tcp(fx->buf, &c, &s, 1001 + la, 2001,
					CG_TCP_ACK, b, lb), 1),
			 CG_PASS);
	assert_int_equal(run(fx, tp_tcp(fx->buf, &c, &s, 1001 + la + lb, 2001,
					CG_TCP_ACK, h, strlen(h)), 1),
			 CG_MARK_BLOCK);
	assert_int_equal(cg_worker_stats(fx->w)->out_of_order, 2);
	expect_event(fx, "blocked.test", "blocked.test", 7);
}

/* A client that reuses its port for a new connection (the server closed
 * the old one first) starts over: the old flow's sequence numbers must not
 * make the new request look out of order. */
static void port_reuse(void **state)
{
	struct fixture *fx = *state;
	struct tp_ep c = tp_ep("10.77.1.11", 50010);
	struct tp_ep s = tp_ep("198.51.100.10", 80);
	const char *r1 = "GET / HTTP/1.1\r\nHost: allowed.test\r\n\r\n";
	const char *r2 = "GET / HTTP/1.1\r\nHost: blocked.test\r\n\r\n";
	handshake(fx, &c, &s, 1000, 5000);
	assert_int_equal(run(fx, tp_tcp(fx->buf, &c, &s, 1001, 5001,
					CG_TCP_ACK | CG_TCP_PSH, r1, strlen(r1)),
			     1),
			 CG_MARK_WATCH);
	handshake(fx, &c, &s, 777777, 9000);
	assert_int_equal(run(fx, tp_tcp(fx->buf, &c, &s, 777778, 9001,
					CG_TCP_ACK | CG_TCP_PSH, r2, strlen(r2)),
			     1),
			 CG_MARK_BLOCK);
	assert_int_equal(cg_worker_stats(fx->w)->flows_reused, 1);
	assert_int_equal(cg_worker_stats(fx->w)->out_of_order, 0);
	expect_event(fx, "blocked.test", "blocked.test", 7);
}

/* A minimal TLS 1.2 ClientHello with one server_name. */
static size_t client_hello(uint8_t *out, const char *sni)
{
	size_t nl = strlen(sni);
	uint8_t ext[300];
	size_t e = 0;
	ext[e++] = 0; /* server_name */
	ext[e++] = 0;
	tp_w16(ext + e, (uint16_t)(nl + 5));
	e += 2;
	tp_w16(ext + e, (uint16_t)(nl + 3));
	e += 2;
	ext[e++] = 0; /* host_name */
	tp_w16(ext + e, (uint16_t)nl);
	e += 2;
	memcpy(ext + e, sni, nl);
	e += nl;

	uint8_t body[512];
	size_t o = 0;
	body[o++] = 3;
	body[o++] = 3;
	memset(body + o, 0x42, 32); /* random */
	o += 32;
	body[o++] = 0; /* session id */
	tp_w16(body + o, 2);
	o += 2;
	body[o++] = 0x13;
	body[o++] = 0x01;
	body[o++] = 1; /* compression: null */
	body[o++] = 0;
	tp_w16(body + o, (uint16_t)e);
	o += 2;
	memcpy(body + o, ext, e);
	o += e;

	size_t n = 0;
	out[n++] = 22;
	out[n++] = 3;
	out[n++] = 1;
	tp_w16(out + n, (uint16_t)(o + 4));
	n += 2;
	out[n++] = 1; /* ClientHello */
	out[n++] = 0;
	tp_w16(out + n, (uint16_t)o);
	n += 2;
	memcpy(out + n, body, o);
	return n + o;
}

/* A TLS connection to sni, with server packets until the flow is
 * decided (an allow waits for nDPI: the rules block an app). */
static enum cg_action tls_connect(struct fixture *fx, const struct tp_ep *c,
				  const struct tp_ep *s, const char *sni)
{
	uint8_t ch[600];
	size_t n = client_hello(ch, sni);
	handshake(fx, c, s, 1, 1);
	enum cg_action a = run(fx, tp_tcp(fx->buf, c, s, 2, 2,
					  CG_TCP_ACK | CG_TCP_PSH, ch, n), 1);
	for (int i = 0; i < 8 && a == CG_PASS; i++)
		a = run(fx, tp_tcp(fx->buf, s, c, 2, (uint32_t)(2 + n),
				   CG_TCP_ACK, NULL, 0), 0);
	return a;
}

static void tls_sni(void **state)
{
	struct fixture *fx = *state;
	struct tp_ep c = tp_ep("10.77.1.11", 50003);
	struct tp_ep s = tp_ep("198.51.100.10", 443);
	uint8_t ch[600];
	size_t n = client_hello(ch, "www.blocked.test");
	handshake(fx, &c, &s, 1, 1);
	cg_injector_forget(fx->inj);
	assert_int_equal(run(fx, tp_tcp(fx->buf, &c, &s, 2, 2,
					CG_TCP_ACK | CG_TCP_PSH, ch, n), 1),
			 CG_MARK_BLOCK);
	assert_int_equal(cg_injector_recorded(fx->inj), 2);
	expect_event(fx, "www.blocked.test", "blocked.test", 7);

	/* An allowed name: the flow is handed to the kernel once nDPI has
	 * named the application (the rules block an app), with heartbeats
	 * (kids have a night window that may block it later). */
	struct tp_ep c2 = tp_ep("10.77.1.11", 50004);
	n = client_hello(ch, "allowed.test");
	handshake(fx, &c2, &s, 1, 1);
	enum cg_action a = CG_PASS;
	a = run(fx, tp_tcp(fx->buf, &c2, &s, 2, 2, CG_TCP_ACK | CG_TCP_PSH,
			   ch, n), 1);
	for (int i = 0; i < 8 && a == CG_PASS; i++)
		a = run(fx, tp_tcp(fx->buf, &s, &c2, 2, (uint32_t)(2 + n),
				   CG_TCP_ACK, NULL, 0), 0);
	assert_int_equal(a, CG_MARK_METER);
	/* An adult seat has no schedule: the kernel simply carries it. */
	fx->mac = mac_a;
	struct tp_ep c3 = tp_ep("10.77.1.11", 50005);
	assert_int_equal(tls_connect(fx, &c3, &s, "allowed.test"),
			 CG_MARK_ALLOW);
	assert_false(cg_event_ring_pop(fx->ring, &(struct cg_event){0}));
}

/* nDPI names BitTorrent from the peer-wire handshake; the app rule cuts
 * the connection. */
static void blocked_app(void **state)
{
	struct fixture *fx = *state;
	struct tp_ep c = tp_ep("10.77.1.11", 50005);
	struct tp_ep s = tp_ep("198.51.100.10", 6881);
	uint8_t hs[68];
	hs[0] = 19;
	memcpy(hs + 1, "BitTorrent protocol", 19);
	memset(hs + 20, 0, 8);
	memset(hs + 28, 0xab, 20);
	memcpy(hs + 48, "-qB4250-abcdefghijkl", 20);
	handshake(fx, &c, &s, 10, 20);
	cg_injector_forget(fx->inj);
	assert_int_equal(run(fx, tp_tcp(fx->buf, &c, &s, 11, 21,
					CG_TCP_ACK | CG_TCP_PSH, hs, 68), 1),
			 CG_MARK_BLOCK);
	assert_int_equal(cg_injector_recorded(fx->inj), 2);
	struct cg_event e;
	assert_true(cg_event_ring_pop(fx->ring, &e));
	assert_string_equal(e.reason, "app");
	assert_string_equal(e.rule, "app BitTorrent");
}

/* Nothing to judge by: decided on what is known after max_packets. */
static void give_up(void **state)
{
	struct fixture *fx = *state;
	struct tp_ep c = tp_ep("10.77.1.11", 50006);
	struct tp_ep s = tp_ep("198.51.100.10", 40404);
	uint8_t junk[40];
	for (int i = 0; i < 40; i++)
		junk[i] = (uint8_t)(i * 37 + 11);
	enum cg_action a = CG_PASS;
	int n = 0;
	while (a == CG_PASS && n < 40) {
		a = run(fx, tp_udp(fx->buf, &c, &s, junk, sizeof(junk)), 1);
		n++;
	}
	assert_int_equal(a, CG_MARK_METER); /* kids: a schedule may cut it */
	assert_int_equal(n, 16);
	assert_int_equal(cg_worker_stats(fx->w)->gave_up, 1);
}

static void malformed(void **state)
{
	struct fixture *fx = *state;
	struct tp_ep c = tp_ep("10.77.1.11", 1), s = tp_ep("10.0.0.1", 2);
	size_t n = tp_udp(fx->buf, &c, &s, "xx", 2);
	fx->buf[0] = 0x41; /* IHL 4 bytes */
	assert_int_equal(run(fx, n, 1), CG_PASS); /* fail open */
	assert_int_equal(cg_worker_stats(fx->w)->decode[CG_DECODE_BAD_HEADER],
			 1);
	struct cg_worker_opts o = {.max_flows = 16, .max_packets = 4,
				   .dpi_flows = 4, .buffers = 2,
				   .fail_open = false};
	struct cg_error err;
	struct cg_worker *closed = cg_worker_new(&o, fx->cls, fx->inj, NULL,
						 &err);
	struct cg_pkt_meta meta = {.from_lan = 1};
	assert_int_equal(cg_worker_packet(closed, &fx->rt, fx->buf, n, n,
					  &meta, 1, 1),
			 CG_DROP);
	cg_worker_free(closed);
}

/* More flows than the table holds: the oldest are evicted, nothing
 * leaks (ASan) and new flows are still judged. */
static void table_pressure(void **state)
{
	struct fixture *fx = *state;
	for (int i = 0; i < 500; i++) {
		struct tp_ep c = tp_ep("10.77.1.11", (uint16_t)(20000 + i));
		struct tp_ep s = tp_ep("198.51.100.10", 443);
		uint8_t ch[600];
		size_t n = client_hello(ch, i % 2 ? "a.test" : "blocked.test");
		run(fx, tp_tcp(fx->buf, &c, &s, 1, 0, CG_TCP_SYN, NULL, 0), 1);
		if (i % 3 == 0)
			run(fx, tp_tcp(fx->buf, &c, &s, 2, 1, CG_TCP_ACK, ch,
				       n), 1);
	}
	assert_true(cg_worker_flows(fx->w) <= 64);
	assert_true(cg_worker_stats(fx->w)->flows_evicted > 0);
	struct cg_event e;
	while (cg_event_ring_pop(fx->ring, &e))
		;
	cg_worker_finish(fx->w, &fx->rt, fx->now);
	assert_int_equal(cg_worker_flows(fx->w), 0);
}

static void pop_event(struct fixture *fx, struct cg_event *e)
{
	assert_true(cg_event_ring_pop(fx->ring, e));
	assert_int_equal(e->type, CG_EV_BLOCK);
}

/* The same site for three clients: a seat known by its MAC, a seat known
 * by its address (v4 and v6), and a device the café does not know. */
static void seats_by_mac_and_address(void **state)
{
	struct fixture *fx = *state;
	struct tp_ep s = tp_ep("198.51.100.53", 53);
	struct tp_ep c = tp_ep("10.77.1.11", 41000);
	fx->mac = mac_a;
	assert_int_equal(dns(fx, &c, &s, 1, "blocked.test"), CG_MARK_WATCH);
	/* The same address behind another MAC is not seat-a. */
	static const uint8_t other[6] = {0x52, 0x54, 0, 0, 0, 0x0b};
	fx->mac = other;
	c.port = 41001;
	assert_int_equal(dns(fx, &c, &s, 2, "blocked.test"), CG_DROP);
	struct cg_event e;
	pop_event(fx, &e);
	assert_string_equal(e.seat, "");
	assert_string_equal(e.profile, "kids");
	fx->mac = NULL;
	struct tp_ep b4 = tp_ep("10.77.1.99", 41002);
	assert_int_equal(dns(fx, &b4, &s, 3, "blocked.test"), CG_MARK_WATCH);
	struct tp_ep b6 = tp_ep("fd77:1::99", 41003);
	struct tp_ep s6 = tp_ep("2001:db8::53", 53);
	assert_int_equal(dns(fx, &b6, &s6, 4, "blocked.test"), CG_MARK_WATCH);
	assert_false(cg_event_ring_pop(fx->ring, &e));
}

/* The attendant switches seat-a to the kids profile for a minute: the
 * next query on the same socket is judged as kids, with the seat in the
 * event; when the minute is over the seat is adults again. */
static void seat_session(void **state)
{
	struct fixture *fx = *state;
	struct tp_ep s = tp_ep("198.51.100.53", 53);
	struct tp_ep c = tp_ep("10.77.1.11", 41100);
	fx->mac = mac_a;
	assert_int_equal(dns(fx, &c, &s, 1, "blocked.test"), CG_MARK_WATCH);
	int seat = cg_rules_seat_by_name(fx->rt.rules, "seat-a");
	cg_state_set_session(fx->rt.state, (size_t)seat,
			     (uint16_t)cg_rules_profile(fx->rt.rules, "kids"),
			     MON_1500 + 60);
	assert_int_equal(dns(fx, &c, &s, 2, "blocked.test"), CG_DROP);
	struct cg_event e;
	pop_event(fx, &e);
	assert_string_equal(e.seat, "seat-a");
	assert_string_equal(e.profile, "kids");
	set_clock(fx, MON_1500 + 60);
	assert_int_equal(dns(fx, &c, &s, 3, "blocked.test"), CG_PASS);
	assert_false(cg_event_ring_pop(fx->ring, &e));
}

/* A schedule applies to every query as the clock moves, not to the
 * flow's first only. */
static void schedule_follows_the_clock(void **state)
{
	struct fixture *fx = *state;
	struct tp_ep s = tp_ep("198.51.100.53", 53);
	struct tp_ep c = tp_ep("10.77.1.11", 41200);
	assert_int_equal(dns(fx, &c, &s, 1, "games.test"), CG_MARK_WATCH);
	/* Monday 09:00: school hours block games. */
	set_clock(fx, MON_1500 - 6 * 3600);
	assert_int_equal(dns(fx, &c, &s, 2, "www.games.test"), CG_DROP);
	expect_nxdomain(fx, &c, &s, 2, "www.games.test");
	struct cg_event e;
	pop_event(fx, &e);
	assert_string_equal(e.reason, "list");
	assert_string_equal(e.category, "games");
	/* Monday 23:00: the night blocks everything. */
	set_clock(fx, MON_1500 + 8 * 3600);
	assert_int_equal(dns(fx, &c, &s, 3, "any.example"), CG_DROP);
	pop_event(fx, &e);
	assert_string_equal(e.reason, "schedule");
	assert_string_equal(e.rule, "schedule 22:00-06:00");
	/* Tuesday 06:00: morning. */
	set_clock(fx, MON_1500 + 15 * 3600);
	assert_int_equal(dns(fx, &c, &s, 4, "any.example"), CG_PASS);
	/* An adult seat has no night. */
	fx->mac = mac_a;
	set_clock(fx, MON_1500 + 8 * 3600);
	c.port = 41201;
	assert_int_equal(dns(fx, &c, &s, 5, "any.example"), CG_MARK_WATCH);
	assert_false(cg_event_ring_pop(fx->ring, &e));
}

/* A budgeted connection is handed to the kernel with a heartbeat; each
 * heartbeat charges its minute, and the one after the budget is used up
 * cuts the connection.  New connections to what the budget counts are
 * then blocked at once. */
static void budget_heartbeats(void **state)
{
	struct fixture *fx = *state;
	struct tp_ep c = tp_ep("10.77.1.11", 41300);
	struct tp_ep s = tp_ep("198.51.100.10", 443);
	assert_int_equal(tls_connect(fx, &c, &s, "play.games.test"),
			 CG_MARK_METER); /* charges 15:00 */
	fx->heartbeat = true;
	uint8_t none[1];
	set_clock(fx, MON_1500 + 30); /* the same minute: counted once */
	assert_int_equal(run(fx, tp_tcp(fx->buf, &c, &s, 900, 2, CG_TCP_ACK,
					none, 0), 1),
			 CG_PASS);
	set_clock(fx, MON_1500 + 60); /* 15:01, the second minute */
	assert_int_equal(run(fx, tp_tcp(fx->buf, &c, &s, 901, 2, CG_TCP_ACK,
					none, 0), 1),
			 CG_PASS);
	set_clock(fx, MON_1500 + 120); /* 15:02: two minutes used */
	cg_injector_forget(fx->inj);
	assert_int_equal(run(fx, tp_tcp(fx->buf, &c, &s, 902, 2, CG_TCP_ACK,
					none, 0), 1),
			 CG_MARK_BLOCK);
	assert_int_equal(cg_injector_recorded(fx->inj), 4); /* resets, probes */
	struct cg_event e;
	pop_event(fx, &e);
	assert_string_equal(e.reason, "budget");
	assert_string_equal(e.rule, "budget games (2 min a day)");
	assert_string_equal(e.host, "play.games.test");
	const struct cg_worker_stats *st = cg_worker_stats(fx->w);
	assert_int_equal(st->heartbeats, 3);
	assert_int_equal(st->budget_blocked, 1);
	/* A heartbeat of a flow no longer held is counted, not judged. */
	assert_int_equal(run(fx, tp_tcp(fx->buf, &c, &s, 903, 2, CG_TCP_ACK,
					none, 0), 1),
			 CG_PASS);
	assert_int_equal(st->heartbeats_lost, 1);
	fx->heartbeat = false;

	/* Used up: a new connection and a name lookup are refused. */
	c.port = 41301;
	assert_int_equal(tls_connect(fx, &c, &s, "games.test"), CG_MARK_BLOCK);
	pop_event(fx, &e);
	assert_string_equal(e.reason, "budget");
	struct tp_ep d = tp_ep("198.51.100.53", 53);
	c.port = 41302;
	assert_int_equal(dns(fx, &c, &d, 7, "games.test"), CG_DROP);
	pop_event(fx, &e);
	assert_string_equal(e.reason, "budget");
	/* Other sites are not counted and still open. */
	assert_int_equal(dns(fx, &c, &d, 8, "school.example"), CG_MARK_WATCH);
	/* Tomorrow the budget is full again. */
	set_clock(fx, MON_1500 + 86400);
	assert_int_equal(dns(fx, &c, &d, 9, "games.test"), CG_PASS);
}

/* A watched HTTP download is charged by its own client packets (no
 * heartbeat needed): the first of each minute charges, and the first
 * after the budget is used up cuts. */
static void budget_http_watched(void **state)
{
	struct fixture *fx = *state;
	struct tp_ep c = tp_ep("10.77.1.11", 41500);
	struct tp_ep s = tp_ep("198.51.100.10", 80);
	handshake(fx, &c, &s, 100, 5000);
	const char *r1 = "GET / HTTP/1.1\r\nHost: allowed.test\r\n\r\n";
	const char *r2 = "GET /big HTTP/1.1\r\nHost: www.games.test\r\n\r\n";
	size_t l1 = strlen(r1), l2 = strlen(r2);
	assert_int_equal(run(fx, tp_tcp(fx->buf, &c, &s, 101, 5001,
					CG_TCP_ACK | CG_TCP_PSH, r1, l1), 1),
			 CG_MARK_WATCH);
	assert_int_equal(run(fx, tp_tcp(fx->buf, &c, &s, (uint32_t)(101 + l1),
					5001, CG_TCP_ACK | CG_TCP_PSH, r2, l2),
			     1),
			 CG_PASS); /* charges 15:00 */
	uint32_t seq = (uint32_t)(101 + l1 + l2);
	set_clock(fx, MON_1500 + 60);
	assert_int_equal(run(fx, tp_tcp(fx->buf, &c, &s, seq, 9000, CG_TCP_ACK,
					NULL, 0), 1),
			 CG_PASS); /* charges 15:01 */
	assert_int_equal(run(fx, tp_tcp(fx->buf, &c, &s, seq, 9500, CG_TCP_ACK,
					NULL, 0), 1),
			 CG_PASS);
	set_clock(fx, MON_1500 + 120);
	assert_int_equal(run(fx, tp_tcp(fx->buf, &c, &s, seq, 9900, CG_TCP_ACK,
					NULL, 0), 1),
			 CG_MARK_BLOCK);
	struct cg_event e;
	pop_event(fx, &e);
	assert_string_equal(e.reason, "budget");
	assert_string_equal(e.host, "www.games.test");
	int kids = cg_rules_profile(fx->rt.rules, "kids");
	uint16_t used[1];
	cg_state_used_profile(fx->rt.state, fx->rt.rules,
			      &fx->rt.rules->profiles[kids], -1, 20780, used);
	assert_int_equal(used[0], 2);
}

/* A connection allowed before the night is cut when the night starts:
 * its heartbeat finds the window open. */
static void schedule_cuts_open_connection(void **state)
{
	struct fixture *fx = *state;
	struct tp_ep c = tp_ep("10.77.1.11", 41600);
	struct tp_ep s = tp_ep("198.51.100.10", 443);
	set_clock(fx, MON_1500 + 7 * 3600 - 60); /* 21:59 */
	assert_int_equal(tls_connect(fx, &c, &s, "video.example"),
			 CG_MARK_METER);
	fx->heartbeat = true;
	assert_int_equal(run(fx, tp_tcp(fx->buf, &c, &s, 900, 2, CG_TCP_ACK,
					NULL, 0), 1),
			 CG_PASS);
	set_clock(fx, MON_1500 + 7 * 3600); /* 22:00 */
	assert_int_equal(run(fx, tp_tcp(fx->buf, &c, &s, 901, 2, CG_TCP_ACK,
					NULL, 0), 1),
			 CG_MARK_BLOCK);
	struct cg_event e;
	pop_event(fx, &e);
	assert_string_equal(e.reason, "schedule");
	assert_string_equal(e.host, "video.example");

	/* What the ends still send (conntrack no longer ties it to the
	 * blocked connection) is reset at the sequence its sender
	 * acknowledges, whichever end it is; no second decision. */
	fx->heartbeat = false;
	cg_injector_forget(fx->inj);
	assert_int_equal(run(fx, tp_tcp(fx->buf, &s, &c, 5000, 950, CG_TCP_ACK,
					"late", 4), 1),
			 CG_MARK_BLOCK);
	assert_int_equal(run(fx, tp_tcp(fx->buf, &c, &s, 950, 5004, CG_TCP_ACK,
					NULL, 0), 1),
			 CG_MARK_BLOCK);
	assert_int_equal(cg_injector_recorded(fx->inj), 2);
	size_t len;
	struct cg_packet rst;
	const uint8_t *pkt = cg_injector_packet(fx->inj, 0, &len);
	assert_int_equal(cg_decode_ip(pkt, len, len, &rst), CG_DECODE_OK);
	assert_memory_equal(rst.dst, s.addr, 16);
	assert_int_equal(rst.seq, 950);
	pkt = cg_injector_packet(fx->inj, 1, &len);
	assert_int_equal(cg_decode_ip(pkt, len, len, &rst), CG_DECODE_OK);
	assert_memory_equal(rst.dst, c.addr, 16);
	assert_int_equal(rst.seq, 5004);
	assert_true(rst.tcp_flags & CG_TCP_RST);
	assert_false(cg_event_ring_pop(fx->ring, &e));
	assert_int_equal(cg_worker_stats(fx->w)->blocked_again, 2);
}

/* A reload may move seats: a flow's seat is found again in the new rules
 * (here seat-a's MAC now belongs to a kids seat). */
static void reload_finds_seats_again(void **state)
{
	struct fixture *fx = *state;
	struct tp_ep s = tp_ep("198.51.100.53", 53);
	struct tp_ep c = tp_ep("10.77.1.11", 41400);
	fx->mac = mac_a;
	assert_int_equal(dns(fx, &c, &s, 1, "blocked.test"), CG_MARK_WATCH);

	static const char *const conf2 =
		"categories = ( { name = \"test\"; lists = [ \"test.list\" ]; "
		"} );\n"
		"profiles = ( { name = \"adults\"; }, { name = \"kids\"; block "
		"= { categories = [ \"test\" ]; }; } );\n"
		"default_profile = \"adults\";\n"
		"seats = ( { name = \"seat-z\"; ip = [ \"10.77.1.50\" ]; profile "
		"= \"adults\"; },\n"
		"  { name = \"seat-a\"; mac = \"52:54:00:00:00:0a\"; profile = "
		"\"kids\"; } );\n";
	struct test_rules *t2 = tr_build(lists, conf2);
	struct cg_runtime old = fx->rt;
	fx->rt = (struct cg_runtime){.rules = t2->r,
				     .state = cg_state_new(t2->r),
				     .generation = old.generation + 1};
	assert_int_equal(dns(fx, &c, &s, 2, "blocked.test"), CG_DROP);
	struct cg_event e;
	pop_event(fx, &e);
	assert_string_equal(e.seat, "seat-a");
	assert_string_equal(e.profile, "kids");
	cg_worker_finish(fx->w, &fx->rt, fx->now);
	cg_state_free(fx->rt.state);
	tr_free(t2);
	fx->rt = old;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(dns_every_query, setup, teardown),
		cmocka_unit_test_setup_teardown(dns_blocked_first, setup, teardown),
		cmocka_unit_test_setup_teardown(dns_other_port, setup, teardown),
		cmocka_unit_test_setup_teardown(dns_tcp_other_port, setup, teardown),
		cmocka_unit_test_setup_teardown(http_keepalive_second_request,
						setup, teardown),
		cmocka_unit_test_setup_teardown(http_split_header, setup, teardown),
		cmocka_unit_test_setup_teardown(out_of_order_dropped, setup,
						teardown),
		cmocka_unit_test_setup_teardown(port_reuse, setup, teardown),
		cmocka_unit_test_setup_teardown(tls_sni, setup, teardown),
		cmocka_unit_test_setup_teardown(blocked_app, setup, teardown),
		cmocka_unit_test_setup_teardown(give_up, setup, teardown),
		cmocka_unit_test_setup_teardown(malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(table_pressure, setup, teardown),
		cmocka_unit_test_setup_teardown(seats_by_mac_and_address, setup,
						teardown),
		cmocka_unit_test_setup_teardown(seat_session, setup, teardown),
		cmocka_unit_test_setup_teardown(schedule_follows_the_clock,
						setup, teardown),
		cmocka_unit_test_setup_teardown(budget_heartbeats, setup,
						teardown),
		cmocka_unit_test_setup_teardown(budget_http_watched, setup,
						teardown),
		cmocka_unit_test_setup_teardown(schedule_cuts_open_connection,
						setup, teardown),
		cmocka_unit_test_setup_teardown(reload_finds_seats_again, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
