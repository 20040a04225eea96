/*
 * cafeguardctl passwd: sets the admin dashboard's password.  The hash
 * line, the policy and the file's safety are the auth module's; this
 * file only reads the password and reports.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cafeguard/auth.h"
#include "cafeguard/config.h"

#include "ctl_internal.h"

/* Room for the longest password the policy allows, its newline, and one
 * more byte to tell a longer one apart. */
#define PW_BUF (CG_AUTH_PW_MAX_BYTES + 3)

static void usage(void)
{
	fprintf(stderr, "usage: cafeguardctl passwd [-c CONF] [--stdin]\n");
}

/* One line from f without its newline (or CRLF).  -1 at end of input or
 * on a read error, -2 if the line is longer than the policy allows. */
static int read_line(FILE *f, char *buf, size_t bufsz)
{
	if (!fgets(buf, (int)bufsz, f))
		return -1;
	size_t n = strcspn(buf, "\n");
	bool whole = buf[n] == '\n' || feof(f);
	buf[n] = '\0';
	if (n && buf[n - 1] == '\r')
		buf[--n] = '\0';
	if (!whole) {
		int c;
		while ((c = fgetc(f)) != EOF && c != '\n')
			;
		return -2;
	}
	return 0;
}

/* SIGINT while echo is off: read() returns EINTR (no SA_RESTART) and
 * the terminal is restored on the way out.  The handler only notes it. */
static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* Prompts on the terminal and reads a line with echo off. */
static int read_hidden(const char *prompt, char *buf, size_t bufsz)
{
	struct termios old, quiet;
	if (tcgetattr(STDIN_FILENO, &old) < 0)
		return -1;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	quiet.c_lflag |= ECHONL;
	struct sigaction sa = {.sa_handler = on_signal}, oint, oterm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &oint);
	sigaction(SIGTERM, &sa, &oterm);
	fputs(prompt, stderr);
	fflush(stderr);
	int rc = -1;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0) {
		rc = read_line(stdin, buf, bufsz);
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	}
	sigaction(SIGINT, &oint, NULL);
	sigaction(SIGTERM, &oterm, NULL);
	if (interrupted) {
		fputc('\n', stderr);
		return -1;
	}
	return rc;
}

/* The new password into pw: once from stdin (for scripts), or twice
 * from the terminal.  0, or 1 after printing why not. */
static int get_password(bool from_stdin, char *pw, char *again)
{
	int rc;
	if (from_stdin) {
		rc = read_line(stdin, pw, PW_BUF);
	} else if (!isatty(STDIN_FILENO)) {
		fprintf(stderr, "passwd: standard input is not a terminal; "
				"give --stdin to read the password from it\n");
		return 1;
	} else {
		rc = read_hidden("New admin password: ", pw, PW_BUF);
		if (rc == 0)
			rc = read_hidden("Again: ", again, PW_BUF);
		if (rc == 0 && strcmp(pw, again)) {
			fprintf(stderr, "passwd: the passwords differ; "
					"nothing changed\n");
			return 1;
		}
	}
	if (rc == -2) {
		fprintf(stderr, "passwd: the password is longer than %d "
				"bytes\n",
			CG_AUTH_PW_MAX_BYTES);
		return 1;
	}
	if (rc < 0) {
		fprintf(stderr, "passwd: no password read; nothing changed\n");
		return 1;
	}
	return 0;
}

static int set_password(const char *file, const char *pw)
{
	char line[CG_AUTH_LINE_MAX];
	struct cg_error err;
	if (cg_auth_hash_password(pw, line, sizeof(line), &err) < 0 ||
	    cg_auth_write_file(file, line, &err) < 0) {
		fprintf(stderr, "passwd: %s; nothing changed\n", err.msg);
		return 1;
	}
	printf("%s: admin password set (scrypt N=2^%d r=%d p=%d, mode "
	       "0600); the daemon reads it when it starts or reloads\n",
	       file, CG_AUTH_SCRYPT_LOG2N, CG_AUTH_SCRYPT_R, CG_AUTH_SCRYPT_P);
	return 0;
}

int cg_ctl_passwd(int argc, char **argv)
{
	const char *conf = CG_CTL_DEFAULT_CONF;
	bool from_stdin = false;
	static const struct option lo[] = {{"config", 1, NULL, 'c'},
					   {"stdin", 0, NULL, 's'},
					   {NULL, 0, NULL, 0}};
	int o;
	while ((o = getopt_long(argc, argv, "c:", lo, NULL)) != -1) {
		if (o == 'c') {
			conf = optarg;
		} else if (o == 's') {
			from_stdin = true;
		} else {
			usage();
			return 2;
		}
	}
	if (optind != argc) {
		usage();
		return 2;
	}
	struct cg_config cfg;
	struct cg_diag d = {0};
	int rc = cg_config_load(conf, &cfg, &d);
	cg_diag_print(&d, stderr);
	cg_diag_clear(&d);
	if (rc < 0) {
		cg_config_free(&cfg);
		return 1;
	}
	rc = 1;
	if (!cfg.admin_password_file) {
		fprintf(stderr, "passwd: %s sets no admin password file; add "
				"admin = { password_file = \"admin.pw\"; };\n",
			conf);
	} else {
		char pw[PW_BUF], again[PW_BUF];
		if (get_password(from_stdin, pw, again) == 0)
			rc = set_password(cfg.admin_password_file, pw);
		OPENSSL_cleanse(pw, sizeof(pw));
		OPENSSL_cleanse(again, sizeof(again));
	}
	cg_config_free(&cfg);
	return rc;
}
