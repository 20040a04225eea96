/*
 * Arbitrary frames through the whole pipeline: link layer, IP/TCP/UDP
 * decode, the flow table, nDPI and every host-name parser, the policy and
 * the answers.  Input: one byte choosing the link type, then the frame;
 * the frame is fed twice, the second time with its addresses as the
 * reply would carry them, so both directions of a flow are exercised.
 */
#include <pcap/dlt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cafeguard/worker.h"

struct state {
	struct cg_classifier *cls;
	struct cg_injector *inj;
	struct cg_worker *w;
	struct cg_config cfg;
	struct cg_runtime rt;
	uint64_t now;
};

/* Every kind of rule, so every policy path is reached: lists, inline
 * hosts, apps, a schedule that is always open, a budget and seats; and
 * every answer the gateway builds (sinkhole, SafeSearch, redirect). */
static const char conf[] =
	"categories = ( { name = \"fuzz\"; lists = [ \"fuzz.list\" ]; } );\n"
	"profiles = (\n"
	"  { name = \"kids\";\n"
	"    block = { categories = [ \"fuzz\" ]; apps = [ \"BitTorrent\" ]; "
	"app_categories = [ \"Game\" ]; hosts = [ \"blocked.test\" ]; };\n"
	"    allow = { hosts = [ \"ok.example.com\" ]; }; safesearch = true;\n"
	"    schedule = ( { days = \"all\"; from = \"00:00\"; to = \"24:00\"; "
	"block = { apps = [ \"Tor\" ]; }; } );\n"
	"    budgets = ( { name = \"b\"; per_day = \"1m\"; apps = [ \"HTTP\" "
	"]; } );\n"
	"  },\n"
	"  { name = \"adults\"; }\n"
	");\n"
	"seats = ( { name = \"s\"; ip = [ \"10.0.0.1\", \"::1\" ]; profile = "
	"\"adults\"; } );\n"
	/* The gateway's own answers: sinkhole, SafeSearch, redirects. */
	"portal = { address = \"10.0.0.254\"; address6 = \"fd00::fe\"; "
	"splash = false; };\n"
	"safesearch = { google = { target = \"forcesafesearch.google.com\"; "
	"addresses = [ \"192.0.2.1\", \"2001:db8::1\" ]; }; };\n";

static void put(const char *dir, const char *name, const char *text)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f))
		abort();
}

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
				   .buffers = 16, .meter_interval_ms = 1000,
				   .fail_open = true};
	st->w = cg_worker_new(&o, st->cls, st->inj, NULL, &err);
	char dir[] = "/tmp/cg-fuzz-XXXXXX";
	if (!mkdtemp(dir))
		abort();
	put(dir, "fuzz.list", "example.com\na\n");
	put(dir, "rules.conf", conf);
	char path[128];
	snprintf(path, sizeof(path), "%s/rules.conf", dir);
	struct cg_diag d = {0};
	if (cg_config_load(path, &st->cfg, &d) < 0)
		abort();
	st->rt.rules = cg_rules_build(&st->cfg, st->cls, false, &d);
	cg_diag_print(&d, stderr);
	cg_diag_clear(&d);
	/* The lists are in memory now. */
	snprintf(path, sizeof(path), "%s/fuzz.list", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/rules.conf", dir);
	unlink(path);
	rmdir(dir);
	if (!st->cls || !st->inj || !st->w || !st->rt.rules)
		abort();
	st->rt.state = cg_state_new(st->rt.rules);
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
	/* The last byte: LAN side or not, a MAC or not, a heartbeat. */
	uint8_t flags = n ? frame[n - 1] : 0;
	static const uint8_t mac[6] = {2, 0, 0, 0, 0, 1};
	struct cg_pkt_meta meta = {.from_lan = (flags & 3) == 3 ? -1 : flags & 1,
				   .mac = flags & 4 ? mac : NULL,
				   .heartbeat = flags & 8};
	st->now += 10;
	cg_worker_packet(st->w, &st->rt, l3, n - off, n - off, &meta, st->now,
			 st->now);
	swap_addresses(l3, n - off);
	meta.from_lan = meta.from_lan < 0 ? -1 : !meta.from_lan;
	meta.heartbeat = false;
	st->now += 10;
	cg_worker_packet(st->w, &st->rt, l3, n - off, n - off, &meta, st->now,
			 st->now);
	free(l3);
	cg_worker_tick(st->w, &st->rt, st->now, st->now);
	cg_injector_forget(st->inj);
	return 0;
}
