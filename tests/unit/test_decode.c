#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>

#include "cafeguard/decode.h"
#include "testpkt.h"

static void ipv4_tcp(void **state)
{
	(void)state;
	uint8_t b[200];
	struct tp_ep c = tp_ep("10.0.0.2", 40000), s = tp_ep("10.0.0.1", 80);
	size_t n = tp_tcp(b, &c, &s, 1000, 2000, CG_TCP_ACK | CG_TCP_PSH,
			  "GET / HTTP/1.1\r\n", 16);
	struct cg_packet p;
	assert_int_equal(cg_decode_ip(b, n, n, &p), CG_DECODE_OK);
	assert_int_equal(p.family, 4);
	assert_int_equal(p.proto, CG_PROTO_TCP);
	assert_int_equal(p.sport, 40000);
	assert_int_equal(p.dport, 80);
	assert_int_equal(p.seq, 1000);
	assert_int_equal(p.ack, 2000);
	assert_int_equal(p.payload_len, 16);
	assert_int_equal(p.payload_wire, 16);
	assert_memory_equal(p.payload, "GET ", 4);
}

static void ipv6_udp(void **state)
{
	(void)state;
	uint8_t b[200];
	struct tp_ep c = tp_ep("fd00::2", 5353), s = tp_ep("fd00::1", 53);
	size_t n = tp_udp(b, &c, &s, "abcd", 4);
	struct cg_packet p;
	assert_int_equal(cg_decode_ip(b, n, n, &p), CG_DECODE_OK);
	assert_int_equal(p.family, 6);
	assert_int_equal(p.proto, CG_PROTO_UDP);
	assert_int_equal(p.dport, 53);
	assert_int_equal(p.payload_len, 4);
}

/* Every prefix of a valid packet decodes to OK or TRUNCATED, never reads
 * beyond it (ASan watches the heap copy). */
static void every_prefix(void **state)
{
	(void)state;
	uint8_t b[200];
	struct tp_ep c = tp_ep("fd00::2", 5353), s = tp_ep("fd00::1", 53);
	size_t n = tp_tcp(b, &c, &s, 1, 2, CG_TCP_SYN, "xyz", 3);
	for (size_t len = 0; len <= n; len++) {
		uint8_t *copy = malloc(len ? len : 1);
		memcpy(copy, b, len);
		struct cg_packet p;
		enum cg_decode_status st = cg_decode_ip(copy, len, n, &p);
		if (len < n - 3)
			assert_int_equal(st, CG_DECODE_TRUNCATED);
		else
			assert_int_equal(st, CG_DECODE_OK);
		if (st == CG_DECODE_OK)
			assert_true(p.payload_len <= len);
		free(copy);
	}
}

/* A capture cut short (nfqueue copy range): the payload is what is
 * there, the wire length is what the headers say. */
static void cut_capture(void **state)
{
	(void)state;
	uint8_t b[1500];
	char data[1000];
	memset(data, 'a', sizeof(data));
	struct tp_ep c = tp_ep("10.0.0.2", 1), s = tp_ep("10.0.0.1", 2);
	size_t n = tp_tcp(b, &c, &s, 1, 2, CG_TCP_ACK, data, sizeof(data));
	struct cg_packet p;
	assert_int_equal(cg_decode_ip(b, 100, n, &p), CG_DECODE_OK);
	assert_int_equal(p.payload_len, 60);
	assert_int_equal(p.payload_wire, 1000);
}

static void bad_headers(void **state)
{
	(void)state;
	uint8_t b[200];
	struct tp_ep c = tp_ep("10.0.0.2", 1), s = tp_ep("10.0.0.1", 2);
	size_t n = tp_udp(b, &c, &s, "abcd", 4);
	struct cg_packet p;

	uint8_t x[200];
	memcpy(x, b, n);
	x[0] = 0x44; /* IHL 16 bytes */
	assert_int_equal(cg_decode_ip(x, n, n, &p), CG_DECODE_BAD_HEADER);

	memcpy(x, b, n);
	tp_w16(x + 2, 5000); /* total length beyond the packet */
	assert_int_equal(cg_decode_ip(x, n, n, &p), CG_DECODE_BAD_HEADER);

	memcpy(x, b, n);
	tp_w16(x + 20 + 4, 200); /* UDP length beyond the datagram */
	assert_int_equal(cg_decode_ip(x, n, n, &p), CG_DECODE_BAD_HEADER);

	memcpy(x, b, n);
	tp_w16(x + 20 + 4, 3); /* UDP length below its header */
	assert_int_equal(cg_decode_ip(x, n, n, &p), CG_DECODE_BAD_HEADER);

	memcpy(x, b, n);
	x[0] = 0x75; /* version 7 */
	assert_int_equal(cg_decode_ip(x, n, n, &p), CG_DECODE_NOT_IP);

	memcpy(x, b, n);
	tp_w16(x + 6, 0x2000); /* more fragments */
	assert_int_equal(cg_decode_ip(x, n, n, &p), CG_DECODE_FRAGMENT);

	memcpy(x, b, n);
	x[9] = 1; /* ICMP */
	assert_int_equal(cg_decode_ip(x, n, n, &p), CG_DECODE_OTHER_L4);

	/* TCP data offset below 5 words. */
	n = tp_tcp(b, &c, &s, 1, 2, 0, NULL, 0);
	memcpy(x, b, n);
	x[20 + 12] = 0x40;
	assert_int_equal(cg_decode_ip(x, n, n, &p), CG_DECODE_BAD_HEADER);
	/* TCP data offset beyond the datagram. */
	x[20 + 12] = 0xf0;
	assert_int_equal(cg_decode_ip(x, n, n, &p), CG_DECODE_BAD_HEADER);
}

static void ipv6_extension_headers(void **state)
{
	(void)state;
	uint8_t b[200], x[300];
	struct tp_ep c = tp_ep("fd00::2", 1000), s = tp_ep("fd00::1", 53);
	size_t n = tp_udp(b, &c, &s, "abcd", 4);
	/* Insert Hop-by-Hop (8 bytes) and an atomic Fragment header. */
	memcpy(x, b, 40);
	x[6] = 0; /* next: hop-by-hop */
	uint8_t *h = x + 40;
	memset(h, 0, 16);
	h[0] = 44; /* next: fragment */
	h[1] = 0;
	h[8] = 17; /* next: UDP */
	memcpy(x + 56, b + 40, n - 40);
	tp_w16(x + 4, (uint16_t)(n - 40 + 16));
	struct cg_packet p;
	assert_int_equal(cg_decode_ip(x, n + 16, n + 16, &p), CG_DECODE_OK);
	assert_int_equal(p.proto, CG_PROTO_UDP);
	assert_int_equal(p.l3_hdr_len, 56);
	assert_int_equal(p.payload_len, 4);

	/* A real fragment (offset 8) needs reassembly. */
	tp_w16(h + 8 + 2, 8 << 3);
	assert_int_equal(cg_decode_ip(x, n + 16, n + 16, &p),
			 CG_DECODE_FRAGMENT);

	/* Extension header length running past the packet. */
	tp_w16(h + 8 + 2, 0);
	h[1] = 200;
	assert_int_equal(cg_decode_ip(x, n + 16, n + 16, &p),
			 CG_DECODE_BAD_HEADER);
}

static void links(void **state)
{
	(void)state;
	uint8_t f[100];
	size_t off;
	memset(f, 0, sizeof(f));
	/* Ethernet + 802.1ad + 802.1Q + PPPoE session + IPv4 */
	tp_w16(f + 12, 0x88a8);
	tp_w16(f + 16, 0x8100);
	tp_w16(f + 20, 0x8864);
	tp_w16(f + 22 + 6, 0x0021);
	assert_int_equal(cg_decode_link(DLT_EN10MB, f, 60, &off),
			 CG_DECODE_OK);
	assert_int_equal(off, 30);
	tp_w16(f + 22 + 6, 0xc021); /* LCP: not IP */
	assert_int_equal(cg_decode_link(DLT_EN10MB, f, 60, &off),
			 CG_DECODE_NOT_IP);
	tp_w16(f + 12, 0x0806); /* ARP */
	assert_int_equal(cg_decode_link(DLT_EN10MB, f, 60, &off),
			 CG_DECODE_NOT_IP);
	assert_int_equal(cg_decode_link(DLT_EN10MB, f, 13, &off),
			 CG_DECODE_TRUNCATED);
	/* Linux cooked v1 and v2 */
	memset(f, 0, sizeof(f));
	tp_w16(f + 14, 0x86dd);
	assert_int_equal(cg_decode_link(DLT_LINUX_SLL, f, 60, &off),
			 CG_DECODE_OK);
	assert_int_equal(off, 16);
	tp_w16(f, 0x0800);
	assert_int_equal(cg_decode_link(DLT_LINUX_SLL2, f, 60, &off),
			 CG_DECODE_OK);
	assert_int_equal(off, 20);
	f[4] = 0x45;
	assert_int_equal(cg_decode_link(DLT_NULL, f, 60, &off), CG_DECODE_OK);
	assert_int_equal(off, 4);
	assert_int_equal(cg_decode_link(DLT_RAW, f, 60, &off), CG_DECODE_OK);
	assert_int_equal(cg_decode_link(12345, f, 60, &off),
			 CG_DECODE_BAD_LINK);
	assert_false(cg_decode_link_supported(12345));
}

/* Every frame of every shipped capture decodes without a crash, and the
 * captures the README calls malformed are reported as such. */
static void real_captures(void **state)
{
	(void)state;
	static const char *files[] = {
		"dns.pcap",       "bets.pcapng",   "quic-v2.pcapng",
		"psiphon3.pcap",  "http_ipv6.pcap", "dns_fragmented.pcap",
		"tor.pcap",       "ip_fragmented_garbage.pcap",
	};
	uint64_t frag = 0, ok = 0;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[512], eb[PCAP_ERRBUF_SIZE];
		snprintf(path, sizeof(path), "%s/pcap/%s", CG_TEST_DATA,
			 files[i]);
		pcap_t *pc = pcap_open_offline(path, eb);
		assert_non_null(pc);
		int dlt = pcap_datalink(pc);
		assert_true(cg_decode_link_supported(dlt));
		struct pcap_pkthdr *h;
		const u_char *d;
		while (pcap_next_ex(pc, &h, &d) == 1) {
			size_t off;
			if (cg_decode_link(dlt, d, h->caplen, &off) !=
			    CG_DECODE_OK)
				continue;
			struct cg_packet p;
			enum cg_decode_status st = cg_decode_ip(
				d + off, h->caplen - off, h->len - off, &p);
			ok += st == CG_DECODE_OK;
			frag += st == CG_DECODE_FRAGMENT;
		}
		pcap_close(pc);
	}
	/* Counted independently with tshark: 713 TCP/UDP packets in these
	 * files; 1252 fragments in ip_fragmented_garbage plus 14 in
	 * dns_fragmented (its DNSSEC answers). */
	assert_int_equal(ok, 713);
	assert_int_equal(frag, 1266);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ipv4_tcp),
		cmocka_unit_test(ipv6_udp),
		cmocka_unit_test(every_prefix),
		cmocka_unit_test(cut_capture),
		cmocka_unit_test(bad_headers),
		cmocka_unit_test(ipv6_extension_headers),
		cmocka_unit_test(links),
		cmocka_unit_test(real_captures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
