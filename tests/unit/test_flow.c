#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>

#include "cafeguard/flow.h"
#include "testpkt.h"

static void key_for(const char *a, uint16_t pa, const char *b, uint16_t pb,
		    struct cg_flow_key *k, uint8_t *side)
{
	uint8_t buf[100];
	struct tp_ep x = tp_ep(a, pa), y = tp_ep(b, pb);
	size_t n = tp_udp(buf, &x, &y, "z", 1);
	struct cg_packet p;
	assert_int_equal(cg_decode_ip(buf, n, n, &p), CG_DECODE_OK);
	cg_flow_key_of(&p, k, side);
}

static void both_directions_one_key(void **state)
{
	(void)state;
	struct cg_flow_key k1, k2;
	uint8_t s1, s2;
	key_for("10.0.0.2", 5000, "10.0.0.1", 53, &k1, &s1);
	key_for("10.0.0.1", 53, "10.0.0.2", 5000, &k2, &s2);
	assert_memory_equal(&k1, &k2, sizeof(k1));
	assert_int_not_equal(s1, s2);
}

struct counts {
	int released, evicted;
};

static void count_release(void *ctx, struct cg_flow *f, bool ev)
{
	struct counts *c = ctx;
	(void)f;
	c->released++;
	c->evicted += ev;
}

static void insert_lookup_remove(void **state)
{
	(void)state;
	struct cg_flow_table *t = cg_flow_table_new(64);
	struct cg_flow_key k;
	uint8_t s;
	key_for("fd00::2", 1, "fd00::1", 2, &k, &s);
	assert_null(cg_flow_lookup(t, &k, 0));
	struct cg_flow *f = cg_flow_insert(t, &k, 10, NULL, NULL);
	assert_non_null(f);
	assert_ptr_equal(cg_flow_lookup(t, &k, 20), f);
	assert_int_equal(f->last_ms, 20);
	assert_int_equal(cg_flow_count(t), 1);
	cg_flow_remove(t, f);
	assert_null(cg_flow_lookup(t, &k, 30));
	assert_int_equal(cg_flow_count(t), 0);
	cg_flow_table_free(t);
}

/* A full table evicts the least recently used flow, never fails. */
static void lru_eviction(void **state)
{
	(void)state;
	struct cg_flow_table *t = cg_flow_table_new(16);
	struct cg_flow_key keys[17];
	uint8_t s;
	for (int i = 0; i < 16; i++) {
		key_for("10.0.0.2", (uint16_t)(1000 + i), "10.0.0.1", 80,
			&keys[i], &s);
		cg_flow_insert(t, &keys[i], (uint64_t)i, count_release, NULL);
	}
	struct counts c = {0, 0};
	/* Touch flow 0 so flow 1 is the oldest. */
	assert_non_null(cg_flow_lookup(t, &keys[0], 100));
	key_for("10.0.0.2", 2000, "10.0.0.1", 80, &keys[16], &s);
	assert_non_null(cg_flow_insert(t, &keys[16], 101, count_release, &c));
	assert_int_equal(c.evicted, 1);
	assert_null(cg_flow_lookup(t, &keys[1], 102));
	assert_non_null(cg_flow_lookup(t, &keys[0], 102));
	assert_int_equal(cg_flow_count(t), 16);
	cg_flow_table_free(t);
}

static void idle_expiry(void **state)
{
	(void)state;
	struct cg_flow_table *t = cg_flow_table_new(100);
	struct cg_flow_key k[3];
	uint8_t s;
	for (int i = 0; i < 3; i++) {
		key_for("10.0.0.2", (uint16_t)(1 + i), "10.0.0.1", 80, &k[i],
			&s);
		cg_flow_insert(t, &k[i], 1000u * (uint64_t)i, NULL, NULL);
	}
	struct counts c = {0, 0};
	/* At t=2500 with 1000 ms idle: flows seen at 0 and 1000 expire. */
	assert_int_equal(cg_flow_expire(t, 2500, 1000, count_release, &c), 2);
	assert_int_equal(c.released, 2);
	assert_int_equal(c.evicted, 0);
	assert_non_null(cg_flow_lookup(t, &k[2], 2500));
	cg_flow_flush(t, count_release, &c);
	assert_int_equal(c.released, 3);
	assert_int_equal(cg_flow_count(t), 0);
	cg_flow_table_free(t);
}

/* Many flows, interleaved removal: the table stays consistent. */
static void churn(void **state)
{
	(void)state;
	struct cg_flow_table *t = cg_flow_table_new(1024);
	for (int round = 0; round < 20; round++) {
		for (int i = 0; i < 3000; i++) {
			struct cg_flow_key k;
			uint8_t s;
			char ip[32];
			snprintf(ip, sizeof(ip), "10.%d.%d.%d", round,
				 (i >> 8) & 255, i & 255);
			key_for(ip, (uint16_t)i, "192.0.2.1", 443, &k, &s);
			struct cg_flow *f = cg_flow_lookup(t, &k, 0);
			if (!f)
				f = cg_flow_insert(t, &k, (uint64_t)i, NULL,
						   NULL);
			if (i % 3 == 0)
				cg_flow_remove(t, f);
		}
		assert_true(cg_flow_count(t) <= cg_flow_capacity(t));
	}
	cg_flow_table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(both_directions_one_key),
		cmocka_unit_test(insert_lookup_remove),
		cmocka_unit_test(lru_eviction),
		cmocka_unit_test(idle_expiry),
		cmocka_unit_test(churn),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
