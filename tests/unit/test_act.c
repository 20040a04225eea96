#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cafeguard/act.h"
#include "cafeguard/decode.h"
#include "testpkt.h"

static void verify_checksums(const uint8_t *pkt, size_t len,
			     struct cg_packet *p)
{
	assert_int_equal(cg_decode_ip(pkt, len, len, p), CG_DECODE_OK);
	if (p->family == 4)
		assert_int_equal(cg_act_ip_checksum(pkt, 20), 0);
	/* Summing a segment with its checksum in place gives 0 (or the
	 * UDP "all ones" equivalent). */
	size_t l4 = p->l4_hdr_len + p->payload_len;
	uint16_t c = cg_act_l4_checksum(p->family, p->src, p->dst, p->proto,
					pkt + p->l3_hdr_len, l4);
	assert_true(c == 0 || c == 0xffff);
}

static void udp_reply_mirrors_query(void **state)
{
	(void)state;
	struct cg_injector *inj = cg_injector_open_recorder(4);
	const char *addrs[2][2] = {{"10.0.0.2", "10.0.0.53"},
				   {"fd00::2", "2001:db8::53"}};
	for (int v = 0; v < 2; v++) {
		uint8_t q[200];
		struct tp_ep c = tp_ep(addrs[v][0], 40000);
		struct tp_ep s = tp_ep(addrs[v][1], 53);
		size_t n = tp_udp(q, &c, &s, "query", 5);
		struct cg_packet qp;
		assert_int_equal(cg_decode_ip(q, n, n, &qp), CG_DECODE_OK);
		assert_int_equal(cg_act_udp_reply(inj, &qp, (const uint8_t *)"answer", 6), 0);
		size_t len;
		const uint8_t *r = cg_injector_packet(inj, cg_injector_recorded(inj) - 1, &len);
		struct cg_packet rp;
		verify_checksums(r, len, &rp);
		assert_memory_equal(rp.src, qp.dst, 16);
		assert_memory_equal(rp.dst, qp.src, 16);
		assert_int_equal(rp.sport, 53);
		assert_int_equal(rp.dport, 40000);
		assert_memory_equal(rp.payload, "answer", 6);
	}
	cg_injector_close(inj);
}

/* RFC 9293 3.10.7.3: a RST is accepted when its sequence number is the
 * next one expected; p is dropped, so its receiver still expects p->seq
 * and its sender expects p->ack. */
static void tcp_reset_sequence_numbers(void **state)
{
	(void)state;
	struct cg_injector *inj = cg_injector_open_recorder(4);
	uint8_t b[300];
	struct tp_ep c = tp_ep("10.0.0.2", 40000), s = tp_ep("192.0.2.7", 443);
	size_t n = tp_tcp(b, &c, &s, 1000, 5000, CG_TCP_ACK | CG_TCP_PSH,
			  "hello-client-hello", 18);
	struct cg_packet p;
	assert_int_equal(cg_decode_ip(b, n, n, &p), CG_DECODE_OK);
	assert_int_equal(cg_act_tcp_reset(inj, &p, true, true), 0);
	assert_int_equal(cg_injector_recorded(inj), 2);

	size_t len;
	const uint8_t *pkt;
	struct cg_packet r;
	pkt = cg_injector_packet(inj, 0, &len);
	verify_checksums(pkt, len, &r);
	/* To the client, as if from the server. */
	assert_memory_equal(r.dst, p.src, 16);
	assert_int_equal(r.sport, 443);
	assert_int_equal(r.seq, 5000);
	assert_int_equal(r.ack, 1018);
	assert_true(r.tcp_flags & CG_TCP_RST);

	pkt = cg_injector_packet(inj, 1, &len);
	verify_checksums(pkt, len, &r);
	/* To the server, as if from the client. */
	assert_memory_equal(r.dst, p.dst, 16);
	assert_int_equal(r.sport, 40000);
	assert_int_equal(r.seq, 1000);
	assert_true(r.tcp_flags & CG_TCP_RST);
	cg_injector_close(inj);
}

static void tcp_reply_is_framed(void **state)
{
	(void)state;
	struct cg_injector *inj = cg_injector_open_recorder(4);
	uint8_t b[300];
	struct tp_ep c = tp_ep("fd00::2", 40000), s = tp_ep("fd00::53", 53);
	size_t n = tp_tcp(b, &c, &s, 7, 9, CG_TCP_ACK | CG_TCP_PSH, "\x00\x03xyz", 5);
	struct cg_packet p;
	assert_int_equal(cg_decode_ip(b, n, n, &p), CG_DECODE_OK);
	assert_int_equal(cg_act_tcp_reply(inj, &p, (const uint8_t *)"abc", 3), 0);
	size_t len;
	const uint8_t *pkt;
	struct cg_packet r;
	pkt = cg_injector_packet(inj, 0, &len);
	verify_checksums(pkt, len, &r);
	assert_int_equal(r.payload_len, 5);
	assert_memory_equal(r.payload, "\x00\x03" "abc", 5);
	assert_int_equal(r.seq, 9);
	assert_int_equal(r.ack, 12);
	assert_true(r.tcp_flags & CG_TCP_FIN);
	pkt = cg_injector_packet(inj, 1, &len);
	verify_checksums(pkt, len, &r);
	assert_true(r.tcp_flags & CG_TCP_RST);
	assert_int_equal(r.dport, 53);
	cg_injector_close(inj);
}

static void oversized_reply_refused(void **state)
{
	(void)state;
	struct cg_injector *inj = cg_injector_open_recorder(1);
	uint8_t b[100], big[CG_ACT_PKT_MAX];
	memset(big, 0, sizeof(big));
	struct tp_ep c = tp_ep("10.0.0.2", 1), s = tp_ep("10.0.0.1", 53);
	size_t n = tp_udp(b, &c, &s, "q", 1);
	struct cg_packet p;
	assert_int_equal(cg_decode_ip(b, n, n, &p), CG_DECODE_OK);
	assert_int_equal(cg_act_udp_reply(inj, &p, big, sizeof(big)), -1);
	struct cg_injector_stats st;
	cg_injector_stats(inj, &st);
	assert_int_equal(st.errors, 1);
	assert_int_equal(cg_injector_recorded(inj), 0);
	cg_injector_close(inj);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(udp_reply_mirrors_query),
		cmocka_unit_test(tcp_reset_sequence_numbers),
		cmocka_unit_test(tcp_reply_is_framed),
		cmocka_unit_test(oversized_reply_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
