/*
 * control: the daemon's control socket (a Unix stream socket owned by
 * root, mode 0600) and its small, typed request set.
 *
 * One request per connection, one line of text; the answer is lines of
 * text ending with a line "ok" or "error: <why>".  Requests:
 *   reload                       rebuild the rules (as SIGHUP)
 *   status                       counters, rule set, clock
 *   seats                        seats, their profiles and sessions
 *   seat NAME PROFILE SECONDS    switch a seat to PROFILE for a while
 *   seat NAME clear              end a seat's session now
 *   clock UTC-SECONDS            set the test clock (only with --fake-time)
 * The request line is untrusted input like any other: parsed strictly,
 * with every field bounded.
 */
#ifndef CAFEGUARD_CONTROL_H
#define CAFEGUARD_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cafeguard/diag.h"

#define CG_CTL_LINE_MAX 256
#define CG_CTL_NAME_MAX 40

enum cg_ctl_cmd {
	CG_CTL_RELOAD = 0,
	CG_CTL_STATUS,
	CG_CTL_SEATS,
	CG_CTL_SEAT_SET,
	CG_CTL_SEAT_CLEAR,
	CG_CTL_CLOCK,
	CG_CTL_METRICS,
};

struct cg_ctl_request {
	enum cg_ctl_cmd cmd;
	char seat[CG_CTL_NAME_MAX + 1];
	char profile[CG_CTL_NAME_MAX + 1];
	uint32_t seconds; /* SEAT_SET: 1 .. 7 days */
	int64_t utc;      /* CLOCK */
};

/* Parses one request line (without or with its '\n').  Returns 0, or -1
 * with the reason in err. */
int cg_ctl_parse(const char *line, size_t len, struct cg_ctl_request *req,
		 char *err, size_t errsz);

/* Writes the request line for req (with '\n'); returns its length, 0 if
 * outsz is too small. */
size_t cg_ctl_format(const struct cg_ctl_request *req, char *out,
		     size_t outsz);

/* Server: creates the socket at path (and its directory, 0755), mode
 * 0600, listening.  Returns the fd, or -1 with err set.  A stale socket
 * file left by a killed daemon is replaced; a live one (another daemon
 * answering) is an error. */
int cg_ctl_listen(const char *path, struct cg_error *err);

/* Server: accepts one client if its peer is root (others are refused
 * with an error line), reads its request line within timeout_ms.
 * Returns the client fd with *req filled, or -1 (the client, if any, was
 * answered with the error and closed). */
int cg_ctl_accept(int lfd, unsigned timeout_ms, struct cg_ctl_request *req);

/* Client: sends req to the daemon at path, copies the answer lines to
 * out (all but the final "ok").  Returns 0 when the daemon said "ok", 1
 * when it said "error: ..." (the line is copied to out too), -1 with err
 * set when the daemon could not be reached. */
int cg_ctl_call(const char *path, const struct cg_ctl_request *req, FILE *out,
		struct cg_error *err);

#endif
