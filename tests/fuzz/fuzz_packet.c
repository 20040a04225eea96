/*
 * Arbitrary frames through the whole pipeline: link layer, IP/TCP/UDP
 * decode, the flow table, nDPI and every host-name parser, the policy and
 * the answers.  Input: one byte choosing the link type, then the frame;
 * the frame is fed twice, the second time with its addresses as the
 * reply would carry them, so both directions of a flow are exercised.
 */
#include <pcap/dlt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cafeguard/worker.h"

struct state {
	struct cg_classifier *cls;
	struct cg_injector *inj;
	struct cg_worker *w;
	struct cg_rules *rules;
	uint64_t now;
};

/* Built once: nDPI's module takes ~20 ms to create. */
static struct state *state(void)
{
	static struct state *st;
	if (st)
		return st;
	st = calloc(1, sizeof(*st));
	struct cg_error err;
	st->cls = cg_classifier_new(256, &err);
	st->inj = cg_injector_open_recorder(2);
	struct cg_worker_opts o = {.max_flows = 128, .idle_timeout_ms = 1000,
				   .max_packets = 8, .dpi_flows = 256,
				   .buffers = 16, .fail_open = true};
	st->w = cg_worker_new(&o, st->cls, st->inj, NULL, &err);
	st->rules = calloc(1, sizeof(*st->rules));
	st->rules->nlists = 1;
	st->rules->lists = calloc(1, sizeof(*st->rules->lists));
	st->rules->lists[0].name = strdup("fuzz");
	struct cg_domainset_builder *b = cg_domainset_builder_new();
	cg_domainset_builder_add(b, "example.com", 11, 0, 1, NULL);
	cg_domainset_builder_add(b, "a", 1, 0, 2, NULL);
	st->rules->lists[0].set = cg_domainset_build(b, &err);
	st->rules->block = calloc(1, sizeof(size_t));
	st->rules->nblock = 1;
	int bt = cg_classifier_app_id(st->cls, "BitTorrent");
	st->rules->block_apps[bt / 8] |= (uint8_t)(1u << (bt % 8));
	st->rules->needs_app = true;
	if (!st->cls || !st->inj || !st->w || !st->rules->lists[0].set)
		abort();
	return st;
}

static const int dlts[] = {DLT_EN10MB, DLT_RAW, DLT_LINUX_SLL,
			   DLT_LINUX_SLL2, DLT_NULL};

static void swap_addresses(uint8_t *l3, size_t len)
{
	uint8_t t[16];
	if (len >= 20 && (l3[0] >> 4) == 4) {
		memcpy(t, l3 + 12, 4);
		memcpy(l3 + 12, l3 + 16, 4);
		memcpy(l3 + 16, t, 4);
	} else if (len >= 40 && (l3[0] >> 4) == 6) {
		memcpy(t, l3 + 8, 16);
		memcpy(l3 + 8, l3 + 24, 16);
		memcpy(l3 + 24, t, 16);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct state *st = state();
	int dlt = dlts[data[0] % (sizeof(dlts) / sizeof(dlts[0]))];
	const uint8_t *frame = data + 1;
	size_t n = size - 1;
	size_t off;
	if (cg_decode_link(dlt, frame, n, &off) != CG_DECODE_OK)
		return 0;
	uint8_t *l3 = malloc(n - off + 1);
	memcpy(l3, frame + off, n - off);
	st->now += 10;
	cg_worker_packet(st->w, st->rules, l3, n - off, n - off, -1, st->now,
			 st->now);
	swap_addresses(l3, n - off);
	st->now += 10;
	cg_worker_packet(st->w, st->rules, l3, n - off, n - off, -1, st->now,
			 st->now);
	free(l3);
	cg_worker_tick(st->w, st->rules, st->now);
	cg_injector_forget(st->inj);
	return 0;
}
