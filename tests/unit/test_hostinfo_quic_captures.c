/*
 * hostinfo_quic: real Initials from the nDPI captures (see
 * tests/data/hostinfo/README.md).  The Initials sealed in the test itself
 * are in test_hostinfo_quic_sealed.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cafeguard/hostinfo_quic.h"
#include "quic_testutil.h"

/* ---- fixtures ---- */

/* OpenSSL's allocations, counted through CRYPTO_set_mem_functions(). */
static unsigned long ossl_allocs;

static void *count_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	ossl_allocs++;
	return malloc(n);
}

static void *count_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	ossl_allocs++;
	return realloc(p, n);
}

static void count_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	free(p);
}

/* ---- real captures ---- */

static uint64_t get_varint(const uint8_t *p, size_t *off)
{
	size_t l = (size_t)1 << (p[*off] >> 6);
	uint64_t v = p[*off] & 0x3f;
	for (size_t i = 1; i < l; i++)
		v = v << 8 | p[*off + i];
	*off += l;
	return v;
}

/* End of the first long-header packet of a datagram (quic-v2.pcapng
 * coalesces a 0-RTT packet after its Initial). */
static size_t first_packet_end(const uint8_t *p, size_t n)
{
	size_t off = 5;
	off += 1 + p[off];
	off += 1 + p[off];
	size_t token = (size_t)get_varint(p, &off);
	off += token;
	size_t len = (size_t)get_varint(p, &off);
	off += len;
	assert_true(off <= n);
	return off;
}

static void real_initials(void **state)
{
	(void)state;
	static const struct {
		const char *file, *sni;
		uint32_t version;
	} cases[] = {
	    {"quic27-initial.bin", "play.google.com", 0xff00001b},
	    {"quic29-initial.bin", "localhost", 0xff00001d},
	    {"quicv2-initial.bin", "test", 0x6b3343cf},
	    {"doq-initial-1.bin", "dns.adguard.com", 0xff00001d},
	    {"quic-q46-chlo.bin", "play.google.com", 0},
	};
	char sni[CG_NAME_BUF];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct blob bl = load(cases[i].file);
		assert_true(cg_quic_looks_like_initial(bl.b, bl.n));
		fresh();
		assert_int_equal(feed(bl.b, bl.n, sni), CG_QUIC_SNI);
		assert_string_equal(sni, cases[i].sni);
		assert_int_equal(asm_.version, cases[i].version);
		assert_int_equal(asm_.keyed, cases[i].version != 0);
		/* Every truncation: no crash; a name only once the
		 * (first coalesced) Initial is whole, and then the same. */
		for (size_t k = 0; k < bl.n; k++) {
			fresh();
			enum cg_quic_status st = feed(bl.b, k, sni);
			if (st == CG_QUIC_SNI) {
				assert_string_equal(sni, cases[i].sni);
			} else if (cases[i].version) {
				assert_true(st == CG_QUIC_NOT_QUIC ||
					    st == CG_QUIC_UNDECRYPTABLE);
				assert_false(asm_.keyed);
			} else {
				assert_true(st == CG_QUIC_NOT_QUIC ||
					    st == CG_QUIC_SNI);
			}
		}
		/* A flipped bit anywhere in header or payload breaks the
		 * AEAD (or the header); never a different name. */
		if (cases[i].version) {
			size_t end = first_packet_end(bl.b, bl.n);
			for (size_t k = 1; k < end; k += 37) {
				fresh();
				bl.b[k] ^= 0x10;
				enum cg_quic_status st = feed(bl.b, bl.n, sni);
				bl.b[k] ^= 0x10;
				assert_true(st == CG_QUIC_UNDECRYPTABLE ||
					    st == CG_QUIC_NOT_QUIC ||
					    st == CG_QUIC_UNSUPPORTED);
			}
		}
		free(bl.b);
	}
}

/* The per-packet path does not allocate: once a connection is keyed,
 * its later Initials cost OpenSSL no allocation (the cipher contexts were
 * made by cg_quic_ctx_new and are only re-keyed). */
static void no_allocation_per_packet(void **state)
{
	(void)state;
	struct blob a = load("quic-frags-1.bin"), b = load("quic-frags-2.bin");
	char sni[CG_NAME_BUF];
	size_t snilen;
	fresh();
	ossl_allocs = 0;
	assert_int_equal(
	    cg_quic_client_initial(ctx, a.b, a.n, &asm_, sni, &snilen),
	    CG_QUIC_NEED_MORE);
	/* key derivation (once per connection) does allocate: the counter
	 * sees OpenSSL's allocations */
	assert_true(ossl_allocs > 0);
	ossl_allocs = 0;
	for (int i = 0; i < 10; i++) {
		assert_int_equal(
		    cg_quic_client_initial(ctx, b.b, b.n, &asm_, sni, &snilen),
		    CG_QUIC_NO_SNI);
		assert_int_equal(
		    cg_quic_client_initial(ctx, a.b, a.n, &asm_, sni, &snilen),
		    CG_QUIC_NO_SNI);
	}
	assert_int_equal(ossl_allocs, 0);
	free(a.b);
	free(b.b);
}

/* quic_frags_ch_in_multiple_packets.pcapng: a ClientHello (no SNI) over
 * two Initials, in either order. */
static void client_hello_over_two_initials(void **state)
{
	(void)state;
	struct blob a = load("quic-frags-1.bin"), b = load("quic-frags-2.bin");
	char sni[CG_NAME_BUF];
	fresh();
	assert_int_equal(feed(a.b, a.n, sni), CG_QUIC_NEED_MORE);
	assert_int_equal(feed(b.b, b.n, sni), CG_QUIC_NO_SNI);
	fresh();
	assert_int_equal(feed(b.b, b.n, sni), CG_QUIC_NEED_MORE);
	assert_int_equal(feed(a.b, a.n, sni), CG_QUIC_NO_SNI);
	/* The same packet twice is no progress. */
	fresh();
	assert_int_equal(feed(a.b, a.n, sni), CG_QUIC_NEED_MORE);
	assert_int_equal(feed(a.b, a.n, sni), CG_QUIC_NEED_MORE);
	free(a.b);
	free(b.b);
}

/* quic-29.pcap and doq_adguard.pcapng: the server answered the first
 * Initial with a Retry; the client's next Initial uses keys of the
 * Retry's CID (RFC 9001 5.2), which replace the first ones. */
static void after_retry(void **state)
{
	(void)state;
	static const struct {
		const char *first, *second, *sni;
		uint8_t dcid_len;
	} cases[] = {
	    {"quic29-initial.bin", "quic29-after-retry.bin", "localhost", 18},
	    {"doq-initial-1.bin", "doq-initial-2.bin", "dns.adguard.com", 4},
	};
	char sni[CG_NAME_BUF];
	for (size_t i = 0; i < 2; i++) {
		struct blob a = load(cases[i].first), b = load(cases[i].second);
		fresh();
		assert_int_equal(feed(a.b, a.n, sni), CG_QUIC_SNI);
		assert_int_equal(asm_.dcid_len, 18);
		assert_memory_equal(asm_.dcid, a.b + 6, 18);
		assert_int_equal(feed(b.b, b.n, sni), CG_QUIC_SNI);
		assert_string_equal(sni, cases[i].sni);
		assert_int_equal(asm_.dcid_len, cases[i].dcid_len);
		assert_memory_equal(asm_.dcid, b.b + 6, cases[i].dcid_len);
		/* and the first Initial again (a retransmission) still
		 * opens: keys from its own DCID, reassembly restarted */
		assert_int_equal(feed(a.b, a.n, sni), CG_QUIC_SNI);
		free(a.b);
		free(b.b);
	}
}

/* quic_interop_V.pcapng: reserved version 0x0a0a0a0a and the servers'
 * Version Negotiation. */
static void unsupported_versions(void **state)
{
	(void)state;
	static const char *names[] = {
	    "nghttp2.org",
	    "", /* 71.202.41.169: an address, not a name */
	    "quic.aiortc.org",
	    "quic.ogre.com",
	    "ietf.akaquic.com",
	    "quant.eggert.org",
	    "h3.stammw.eu",
	    "f5quic.com",
	    "mew.org",
	    "cloudflare-quic.com",
	    "pandora.cm.in.tum.de",
	    "quic.seemann.io",
	    "fb.mvfst.net",
	    "h2o.examp1e.net",
	    "quic.tech",
	    "quicker.edm.uhasselt.be",
	    "quic.rocks",
	    "test.privateoctopus.com",
	    "quic.examp1e.net",
	    "http3-test.litespeedtech.com",
	    "quic.westus.cloudapp.azure.com",
	};
	struct blob bl = load("quic-interop-V-initials.bin");
	char sni[CG_NAME_BUF];
	size_t off = 0, i = 0;
	while (off + 2 <= bl.n) {
		size_t l = (size_t)(bl.b[off] << 8 | bl.b[off + 1]);
		off += 2;
		assert_true(i < 21);
		fresh();
		assert_true(cg_quic_looks_like_initial(bl.b + off, l));
		assert_int_equal(feed(bl.b + off, l, sni), CG_QUIC_UNSUPPORTED);
		assert_string_equal(sni, names[i]);
		assert_false(asm_.keyed);
		/* Shorter than a client Initial datagram: no hint. */
		assert_int_equal(feed(bl.b + off, 1199, sni),
				 CG_QUIC_UNSUPPORTED);
		assert_string_equal(sni, "");
		off += l;
		i++;
	}
	assert_int_equal(i, 21);
	free(bl.b);
	bl = load("quic-interop-vn.bin");
	fresh();
	assert_int_equal(feed(bl.b, bl.n, sni), CG_QUIC_UNSUPPORTED);
	free(bl.b);
}

int main(void)
{
	/* before OpenSSL allocates anything */
	if (!CRYPTO_set_mem_functions(count_malloc, count_realloc, count_free))
		return 1;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(real_initials),
	    cmocka_unit_test(no_allocation_per_packet),
	    cmocka_unit_test(client_hello_over_two_initials),
	    cmocka_unit_test(after_retry),
	    cmocka_unit_test(unsupported_versions),
	};
	return cmocka_run_group_tests(tests, quic_setup, quic_teardown);
}
