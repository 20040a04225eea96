/*
 * The control socket: the request parser as a table (every field bounded,
 * anything else refused with a reason), format/parse round trips, and a
 * real exchange over a Unix socket between a client thread and the
 * server calls the daemon uses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cafeguard/control.h"

struct pcase {
	const char *line;
	int rc;
	enum cg_ctl_cmd cmd;
	const char *seat, *profile;
	uint32_t seconds;
	int64_t utc;
	const char *why; /* part of the reason, when refused */
};

static const struct pcase cases[] = {
	{"reload\n", 0, CG_CTL_RELOAD, "", "", 0, 0, NULL},
	{"status", 0, CG_CTL_STATUS, "", "", 0, 0, NULL},
	{"seats", 0, CG_CTL_SEATS, "", "", 0, 0, NULL},
	{"seat seat-01 adults 3600\n", 0, CG_CTL_SEAT_SET, "seat-01", "adults",
	 3600, 0, NULL},
	{"seat  seat_2   kids 1", 0, CG_CTL_SEAT_SET, "seat_2", "kids", 1, 0,
	 NULL},
	{"seat seat-01 clear", 0, CG_CTL_SEAT_CLEAR, "seat-01", "", 0, 0, NULL},
	{"clock 1795435200", 0, CG_CTL_CLOCK, "", "", 0, 1795435200, NULL},
	{"seat seat-01 adults 604800", 0, CG_CTL_SEAT_SET, "seat-01", "adults",
	 604800, 0, NULL},
	{"seat seat-01 adults 604801", -1, 0, NULL, NULL, 0, 0, "7 days"},
	{"seat seat-01 adults 0", -1, 0, NULL, NULL, 0, 0, "7 days"},
	{"seat seat-01 adults -5", -1, 0, NULL, NULL, 0, 0, "7 days"},
	{"seat seat-01 adults 99999999999999999999", -1, 0, NULL, NULL, 0, 0,
	 "7 days"},
	{"clock now", -1, 0, NULL, NULL, 0, 0, "UTC seconds"},
	{"clock 99999999999999", -1, 0, NULL, NULL, 0, 0, "UTC seconds"},
	{"", -1, 0, NULL, NULL, 0, 0, "not a request"},
	{"\n", -1, 0, NULL, NULL, 0, 0, "not a request"},
	{"reload; rm -rf /", -1, 0, NULL, NULL, 0, 0, "names and numbers"},
	{"seat ../../etc kids 60", -1, 0, NULL, NULL, 0, 0, "names and numbers"},
	{"reload now", -1, 0, NULL, NULL, 0, 0, "unknown request"},
	{"RELOAD", -1, 0, NULL, NULL, 0, 0, "unknown request"},
	{"seat a b c d e f", -1, 0, NULL, NULL, 0, 0, "names and numbers"},
	{"seat seat-01", -1, 0, NULL, NULL, 0, 0, "unknown request"},
	{"seat aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa kids 60", -1, 0, NULL,
	 NULL, 0, 0, "names and numbers"},
	{"status\r\n", -1, 0, NULL, NULL, 0, 0, "names and numbers"},
};

static void parse_table(void **unused)
{
	(void)unused;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct pcase *c = &cases[i];
		print_message("line: \"%s\"\n", c->line);
		struct cg_ctl_request req;
		char why[160] = "";
		int rc = cg_ctl_parse(c->line, strlen(c->line), &req, why,
				      sizeof(why));
		assert_int_equal(rc, c->rc);
		if (rc < 0) {
			assert_non_null(strstr(why, c->why));
			continue;
		}
		assert_int_equal(req.cmd, c->cmd);
		assert_string_equal(req.seat, c->seat);
		assert_string_equal(req.profile, c->profile);
		assert_int_equal(req.seconds, c->seconds);
		assert_int_equal(req.utc, c->utc);

		/* What format writes, parse reads back the same. */
		char line[CG_CTL_LINE_MAX + 2];
		size_t n = cg_ctl_format(&req, line, sizeof(line));
		assert_true(n > 0 && line[n - 1] == '\n');
		struct cg_ctl_request back;
		assert_int_equal(cg_ctl_parse(line, n, &back, why, sizeof(why)),
				 0);
		assert_memory_equal(&back, &req, sizeof(req));
	}
	char big[CG_CTL_LINE_MAX + 10];
	memset(big, 'a', sizeof(big));
	struct cg_ctl_request req;
	char why[160];
	assert_int_equal(cg_ctl_parse(big, sizeof(big), &req, why, sizeof(why)),
			 -1);
	assert_non_null(strstr(why, "too long"));
	/* Too small a buffer: nothing, not a cut line. */
	char tiny[4];
	req.cmd = CG_CTL_STATUS;
	assert_int_equal(cg_ctl_format(&req, tiny, sizeof(tiny)), 0);
}

struct client {
	char path[128];
	struct cg_ctl_request req;
	int rc;
	char out[512];
	struct cg_error err;
};

static void *client_main(void *arg)
{
	struct client *c = arg;
	FILE *out = fmemopen(c->out, sizeof(c->out), "w");
	c->rc = cg_ctl_call(c->path, &c->req, out, &c->err);
	fclose(out);
	return NULL;
}

static void send_all(int fd, const char *s)
{
	assert_int_equal(send(fd, s, strlen(s), MSG_NOSIGNAL),
			 (ssize_t)strlen(s));
}

static void exchange(void **unused)
{
	(void)unused;
	if (geteuid() != 0)
		skip(); /* the server answers root only */
	char dir[64] = "/tmp/cg-ctl-XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct client c = {.req = {.cmd = CG_CTL_SEAT_SET,
				   .seat = "seat-01",
				   .profile = "adults",
				   .seconds = 60}};
	/* The directory is made on the way (as /run/cafeguard is). */
	snprintf(c.path, sizeof(c.path), "%s/run/control", dir);
	struct cg_error err;
	int lfd = cg_ctl_listen(c.path, &err);
	assert_true(lfd >= 0);
	struct stat st;
	assert_int_equal(stat(c.path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	/* A second daemon must not steal a live socket. */
	assert_int_equal(cg_ctl_listen(c.path, &err), -1);
	assert_non_null(strstr(err.msg, "another daemon"));
	/* Its probe was a connection without a request: answered, closed. */
	struct cg_ctl_request got;
	assert_int_equal(cg_ctl_accept(lfd, 100, &got), -1);

	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, client_main, &c), 0);
	int fd = cg_ctl_accept(lfd, 2000, &got);
	assert_true(fd >= 0);
	assert_int_equal(got.cmd, CG_CTL_SEAT_SET);
	assert_string_equal(got.seat, "seat-01");
	assert_int_equal(got.seconds, 60);
	send_all(fd, "seat-01 adults until 12:01\nok\n");
	close(fd);
	pthread_join(th, NULL);
	assert_int_equal(c.rc, 0);
	assert_string_equal(c.out, "seat-01 adults until 12:01\n");

	/* A refusal reaches the client as an error line. */
	c.req = (struct cg_ctl_request){.cmd = CG_CTL_CLOCK, .utc = 5};
	memset(c.out, 0, sizeof(c.out));
	assert_int_equal(pthread_create(&th, NULL, client_main, &c), 0);
	fd = cg_ctl_accept(lfd, 2000, &got);
	assert_true(fd >= 0);
	send_all(fd, "error: the clock is real (start with --fake-time)\n");
	close(fd);
	pthread_join(th, NULL);
	assert_int_equal(c.rc, 1);
	assert_non_null(strstr(c.out, "--fake-time"));

	/* A client sending garbage is answered and dropped. */
	int raw = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	assert_true(strlen(c.path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, c.path, strlen(c.path) + 1);
	assert_int_equal(connect(raw, (struct sockaddr *)&sa, sizeof(sa)), 0);
	send_all(raw, "\x01\x02 bogus\n");
	assert_int_equal(cg_ctl_accept(lfd, 2000, &got), -1);
	char answer[128] = "";
	assert_true(recv(raw, answer, sizeof(answer) - 1, 0) > 0);
	assert_non_null(strstr(answer, "error: "));
	close(raw);
	/* A client that never sends a line does not hold the daemon. */
	raw = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(connect(raw, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(cg_ctl_accept(lfd, 50, &got), -1);
	close(raw);

	/* A killed daemon's socket file is replaced by the next one. */
	close(lfd);
	lfd = cg_ctl_listen(c.path, &err);
	assert_true(lfd >= 0);
	close(lfd);
	unlink(c.path);

	/* No daemon: a clear sentence for the operator. */
	c.req.cmd = CG_CTL_STATUS;
	assert_int_equal(cg_ctl_call(c.path, &c.req, stdout, &err), -1);
	assert_non_null(strstr(err.msg, "is cafeguardd running?"));

	char sub[128];
	snprintf(sub, sizeof(sub), "%s/run", dir);
	rmdir(sub);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_table),
		cmocka_unit_test(exchange),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
