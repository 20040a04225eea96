#include "cafeguard/control.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cafeguard/fsutil.h"

/* Splits line into at most max words separated by single spaces; a word
 * is [A-Za-z0-9_-] (names) or digits.  Returns the count, -1 on a byte
 * outside that set or too many words. */
static int words(const char *line, size_t len, char w[][CG_CTL_NAME_MAX + 1],
		 int max)
{
	int n = 0;
	size_t i = 0;
	while (i < len) {
		if (line[i] == ' ') {
			i++;
			continue;
		}
		if (n == max)
			return -1;
		size_t k = 0;
		while (i < len && line[i] != ' ') {
			char c = line[i];
			bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				  (c >= '0' && c <= '9') || c == '-' || c == '_';
			if (!ok || k == CG_CTL_NAME_MAX)
				return -1;
			w[n][k++] = c;
			i++;
		}
		w[n][k] = '\0';
		n++;
	}
	return n;
}

static bool number(const char *s, uint64_t max, uint64_t *out)
{
	if (!*s || strlen(s) > 19)
		return false;
	uint64_t v = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

int cg_ctl_parse(const char *line, size_t len, struct cg_ctl_request *req,
		 char *err, size_t errsz)
{
	memset(req, 0, sizeof(*req));
	if (len && line[len - 1] == '\n')
		len--;
	if (len > CG_CTL_LINE_MAX) {
		snprintf(err, errsz, "request too long");
		return -1;
	}
	char w[5][CG_CTL_NAME_MAX + 1];
	int n = words(line, len, w, 5);
	if (n <= 0) {
		snprintf(err, errsz, "not a request (names and numbers only)");
		return -1;
	}
	uint64_t v;
	if (!strcmp(w[0], "reload") && n == 1) {
		req->cmd = CG_CTL_RELOAD;
	} else if (!strcmp(w[0], "status") && n == 1) {
		req->cmd = CG_CTL_STATUS;
	} else if (!strcmp(w[0], "metrics") && n == 1) {
		req->cmd = CG_CTL_METRICS;
	} else if (!strcmp(w[0], "seats") && n == 1) {
		req->cmd = CG_CTL_SEATS;
	} else if (!strcmp(w[0], "seat") && n == 3 &&
		   !strcmp(w[2], "clear")) {
		req->cmd = CG_CTL_SEAT_CLEAR;
		strcpy(req->seat, w[1]);
	} else if (!strcmp(w[0], "seat") && n == 4) {
		/* A session is for a while: a week at most. */
		if (!number(w[3], 7 * 86400, &v) || v == 0) {
			snprintf(err, errsz,
				 "a session lasts 1 second to 7 days");
			return -1;
		}
		req->cmd = CG_CTL_SEAT_SET;
		strcpy(req->seat, w[1]);
		strcpy(req->profile, w[2]);
		req->seconds = (uint32_t)v;
	} else if (!strcmp(w[0], "clock") && n == 2) {
		if (!number(w[1], INT64_C(1) << 40, &v)) {
			snprintf(err, errsz, "clock takes UTC seconds");
			return -1;
		}
		req->cmd = CG_CTL_CLOCK;
		req->utc = (int64_t)v;
	} else {
		snprintf(err, errsz,
			 "unknown request (reload, status, metrics, seats, "
			 "seat NAME PROFILE SECONDS, seat NAME clear, clock "
			 "SECONDS)");
		return -1;
	}
	return 0;
}

size_t cg_ctl_format(const struct cg_ctl_request *req, char *out,
		     size_t outsz)
{
	int n = -1;
	switch (req->cmd) {
	case CG_CTL_RELOAD:
		n = snprintf(out, outsz, "reload\n");
		break;
	case CG_CTL_STATUS:
		n = snprintf(out, outsz, "status\n");
		break;
	case CG_CTL_SEATS:
		n = snprintf(out, outsz, "seats\n");
		break;
	case CG_CTL_METRICS:
		n = snprintf(out, outsz, "metrics\n");
		break;
	case CG_CTL_SEAT_SET:
		n = snprintf(out, outsz, "seat %s %s %" PRIu32 "\n", req->seat,
			     req->profile, req->seconds);
		break;
	case CG_CTL_SEAT_CLEAR:
		n = snprintf(out, outsz, "seat %s clear\n", req->seat);
		break;
	case CG_CTL_CLOCK:
		n = snprintf(out, outsz, "clock %" PRId64 "\n", req->utc);
		break;
	}
	return n < 0 || (size_t)n >= outsz ? 0 : (size_t)n;
}

static int fill_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -1;
	strcpy(sa->sun_path, path);
	return 0;
}

int cg_ctl_listen(const char *path, struct cg_error *err)
{
	struct sockaddr_un sa;
	if (fill_addr(path, &sa) < 0)
		return cg_error_set(err, "control socket %s: path too long",
				    path);
	if (cg_mkdir_parent(path, 0755) < 0)
		return cg_error_set(err, "control socket %s: %s", path,
				    strerror(errno));
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return cg_error_set(err, "control socket: %s", strerror(errno));
	/* A socket file nobody answers on was left by a killed daemon. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		close(fd);
		return cg_error_set(err, "control socket %s: another daemon "
					 "answers there",
				    path);
	}
	unlink(path);
	mode_t old = umask(0077);
	int rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc < 0 || chmod(path, 0600) < 0 || listen(fd, 8) < 0) {
		int e = errno;
		close(fd);
		return cg_error_set(err, "control socket %s: %s", path,
				    strerror(e));
	}
	return fd;
}

static void say(int fd, const char *s)
{
	size_t n = strlen(s);
	while (n) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

int cg_ctl_accept(int lfd, unsigned timeout_ms, struct cg_ctl_request *req)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return -1;
	/* The socket is 0600 root; the peer check is the second lock. */
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0 ||
	    cred.uid != 0) {
		say(fd, "error: only root may control the gateway\n");
		close(fd);
		return -1;
	}
	char line[CG_CTL_LINE_MAX + 2];
	size_t len = 0;
	while (len < sizeof(line) - 1) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, (int)timeout_ms) <= 0)
			break;
		ssize_t r = recv(fd, line + len, sizeof(line) - 1 - len, 0);
		if (r <= 0)
			break;
		len += (size_t)r;
		if (memchr(line, '\n', len))
			break;
	}
	char *nl = memchr(line, '\n', len);
	char why[160];
	if (!nl) {
		say(fd, "error: no request line\n");
		close(fd);
		return -1;
	}
	if (cg_ctl_parse(line, (size_t)(nl - line), req, why, sizeof(why)) <
	    0) {
		char msg[200];
		snprintf(msg, sizeof(msg), "error: %s\n", why);
		say(fd, msg);
		close(fd);
		return -1;
	}
	return fd;
}

int cg_ctl_call(const char *path, const struct cg_ctl_request *req, FILE *out,
		struct cg_error *err)
{
	struct sockaddr_un sa;
	if (fill_addr(path, &sa) < 0)
		return cg_error_set(err, "control socket %s: path too long",
				    path);
	char line[CG_CTL_LINE_MAX + 2];
	size_t n = cg_ctl_format(req, line, sizeof(line));
	if (!n)
		return cg_error_set(err, "request too long");
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return cg_error_set(err, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		return cg_error_set(err, "cannot reach the daemon at %s: %s%s",
				    path, strerror(e),
				    e == ENOENT || e == ECONNREFUSED
					    ? " (is cafeguardd running?)"
					    : e == EACCES ? " (run as root)"
							  : "");
	}
	say(fd, line);
	shutdown(fd, SHUT_WR);
	FILE *in = fdopen(fd, "r");
	if (!in) {
		close(fd);
		return cg_error_set(err, "out of memory");
	}
	char buf[1024];
	int rc = -1;
	while (fgets(buf, sizeof(buf), in)) {
		if (!strcmp(buf, "ok\n")) {
			rc = 0;
			continue;
		}
		if (!strncmp(buf, "error: ", 7))
			rc = 1;
		fputs(buf, out);
	}
	fclose(in);
	if (rc < 0)
		return cg_error_set(err, "the daemon closed without an answer");
	return rc;
}
