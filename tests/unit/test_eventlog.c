#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cafeguard/eventlog.h"

static void ring_fifo_and_overflow(void **state)
{
	(void)state;
	struct cg_event_ring *r = cg_event_ring_new(4);
	struct cg_event e;
	memset(&e, 0, sizeof(e));
	for (uint32_t i = 0; i < 4; i++) {
		e.line = i;
		assert_true(cg_event_ring_push(r, &e));
	}
	/* Full: the producer is told and the drop is counted; it never
	 * waits. */
	assert_false(cg_event_ring_push(r, &e));
	assert_int_equal(cg_event_ring_dropped(r), 1);
	for (uint32_t i = 0; i < 4; i++) {
		assert_true(cg_event_ring_pop(r, &e));
		assert_int_equal(e.line, i);
	}
	assert_false(cg_event_ring_pop(r, &e));
	cg_event_ring_free(r);
}

static void json_format(void **state)
{
	(void)state;
	struct cg_event e;
	memset(&e, 0, sizeof(e));
	e.time_ms = 1700000000123ull;
	e.type = CG_EV_BLOCK;
	e.action = CG_ACT_NXDOMAIN;
	e.family = 4;
	e.proto = 17;
	inet_pton(AF_INET, "10.0.0.2", e.client);
	inet_pton(AF_INET, "10.0.0.53", e.server);
	e.client_port = 4000;
	e.server_port = 53;
	strcpy(e.host, "www.blocked.test");
	strcpy(e.app, "DNS");
	strcpy(e.seat, "seat-02");
	strcpy(e.profile, "kids");
	strcpy(e.reason, "list");
	strcpy(e.rule, "category adult");
	strcpy(e.category, "adult");
	strcpy(e.entry, "blocked.test");
	strcpy(e.file, "lists/a \"quoted\"\\name.txt");
	e.line = 12;
	char out[2048];
	size_t n = cg_event_to_json(&e, out, sizeof(out));
	assert_true(n > 0);
	assert_string_equal(
		out,
		"{\"time\":\"2023-11-14T22:13:20.123Z\",\"event\":\"block\","
		"\"client\":\"10.0.0.2\",\"server\":\"10.0.0.53\","
		"\"client_port\":4000,\"server_port\":53,\"proto\":\"udp\","
		"\"host\":\"www.blocked.test\",\"app\":\"DNS\",\"seat\":"
		"\"seat-02\",\"profile\":\"kids\",\"reason\":\"list\","
		"\"rule\":\"category adult\",\"category\":\"adult\","
		"\"entry\":\"blocked.test\","
		"\"file\":\"lists/a \\\"quoted\\\"\\\\name.txt\",\"line\":12,"
		"\"action\":\"nxdomain\"}");
	/* Too small a buffer is refused, not truncated into bad JSON. */
	assert_int_equal(cg_event_to_json(&e, out, 40), 0);
}

static void logger_writes_lines(void **state)
{
	(void)state;
	char path[] = "/tmp/cg-events-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	struct cg_error err;
	struct cg_event_sink *sink = cg_jsonl_sink_open(path, &err);
	assert_non_null(sink);
	struct cg_event_ring *rings[2] = {cg_event_ring_new(64),
					  cg_event_ring_new(64)};
	struct cg_eventlog *log = cg_eventlog_start(rings, 2, sink, 10, &err);
	assert_non_null(log);
	struct cg_event e;
	memset(&e, 0, sizeof(e));
	e.type = CG_EV_BLOCK;
	for (int i = 0; i < 50; i++) {
		snprintf(e.host, sizeof(e.host), "h%d.test", i);
		assert_true(cg_event_ring_push(rings[i % 2], &e));
	}
	e.type = CG_EV_STOP;
	strcpy(e.detail, "stopped");
	assert_true(cg_eventlog_post(log, &e));
	cg_eventlog_stop(log);

	FILE *f = fopen(path, "r");
	char line[2048];
	int n = 0, stop = 0;
	while (fgets(line, sizeof(line), f)) {
		n++;
		stop += strstr(line, "\"event\":\"stop\"") != NULL;
	}
	fclose(f);
	unlink(path);
	assert_int_equal(n, 51);
	assert_int_equal(stop, 1);
	cg_event_ring_free(rings[0]);
	cg_event_ring_free(rings[1]);
}

static void sink_error_is_clear(void **state)
{
	(void)state;
	struct cg_error err;
	assert_null(cg_jsonl_sink_open("/nonexistent-dir/x.jsonl", &err));
	assert_non_null(strstr(err.msg, "/nonexistent-dir/x.jsonl"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ring_fifo_and_overflow),
		cmocka_unit_test(json_format),
		cmocka_unit_test(logger_writes_lines),
		cmocka_unit_test(sink_error_is_clear),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
