/*
 * auth, the password half: scrypt password lines, the password policy
 * and the password file (contracts in auth.h).
 */
#include "cafeguard/auth.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "auth_internal.h"
#include "cafeguard/fsutil.h"

/* Bounds on a line's parameters.  Below them the hash is cheap to crack
 * offline; above them one login would take the 2-core box's memory
 * (128 * r * N bytes) or seconds of CPU. */
#define LOG2N_MIN 14
#define LOG2N_MAX 20
#define R_MIN 8
#define R_MAX 32
#define P_MAX 4
#define MEM_MAX (UINT64_C(256) << 20)
#define WORK_MAX (UINT64_C(16) << (CG_AUTH_SCRYPT_LOG2N + 3)) /* 16 x default */
#define SALT_MIN 16

/* ---- encodings ---- */

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_value(char c)
{
	const char *p = c ? strchr(b64, c) : NULL;
	return p ? (int)(p - b64) : -1;
}

static size_t b64_encode(const uint8_t *in, size_t n, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? b64[v & 63] : '=';
	}
	out[o] = '\0';
	return o;
}

/* Strict: padded to a multiple of 4, '=' only at the end, unused bits
 * zero, so each byte string has exactly one text.  -1 if not base64 or
 * longer than max bytes. */
static int b64_decode(const char *s, size_t len, uint8_t *out, size_t max,
		      size_t *outlen)
{
	if (len == 0 || len % 4)
		return -1;
	size_t pad = s[len - 1] == '=' ? (s[len - 2] == '=' ? 2 : 1) : 0;
	size_t n = len / 4 * 3 - pad;
	if (n > max)
		return -1;
	size_t o = 0;
	for (size_t i = 0; i < len; i += 4) {
		uint32_t v = 0;
		for (size_t k = 0; k < 4; k++) {
			int d = b64_value(s[i + k]);
			if (d < 0 && !(i + 4 == len && k >= 4 - pad))
				return -1;
			v = v << 6 | (uint32_t)(d < 0 ? 0 : d);
		}
		uint8_t b[3] = {(uint8_t)(v >> 16), (uint8_t)(v >> 8),
				(uint8_t)v};
		for (size_t k = 0; k < 3 && o < n; k++)
			out[o++] = b[k];
		if (i + 4 == len && pad && (b[3 - pad] != 0))
			return -1; /* bits beyond the last byte */
	}
	*outlen = n;
	return 0;
}

void cg_au_hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Exactly 2 * n hex digits in s[0..len). */
int cg_au_hex_decode(const char *s, size_t len, uint8_t *out, size_t n)
{
	if (len != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int hi = hex_value(s[2 * i]), lo = hex_value(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int cg_au_random_bytes(uint8_t *buf, size_t n)
{
	while (n) {
		ssize_t got = getrandom(buf, n, 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return -1;
		buf += got;
		n -= (size_t)got;
	}
	return 0;
}

/* ---- hash lines ---- */

/* A decimal field of at most 3 digits, no sign, no leading zero; *s is
 * moved past it and its '$'. */
static int parse_uint(const char **s, const char *what, unsigned *v,
		      struct cg_error *err)
{
	const char *p = *s;
	size_t n = strspn(p, "0123456789");
	if (n == 0 || n > 3 || (n > 1 && p[0] == '0') || p[n] != '$')
		return cg_error_set(err, "%s \"%.*s\" is not a number", what,
				    (int)strcspn(p, "$") > 16
					    ? 16
					    : (int)strcspn(p, "$"),
				    p);
	*v = 0;
	for (size_t i = 0; i < n; i++)
		*v = *v * 10 + (unsigned)(p[i] - '0');
	*s = p + n + 1;
	return 0;
}

static int check_params(const struct cg_auth_hash *h, struct cg_error *err)
{
	if (h->log2n < LOG2N_MIN || h->r < R_MIN || h->p < 1)
		return cg_error_set(err, "scrypt parameters N=2^%u r=%u p=%u "
					 "are too weak (at least N=2^%d r=%d "
					 "p=1)",
				    h->log2n, h->r, h->p, LOG2N_MIN, R_MIN);
	if (h->log2n > LOG2N_MAX || h->r > R_MAX || h->p > P_MAX)
		return cg_error_set(err, "scrypt parameters N=2^%u r=%u p=%u "
					 "are out of range (at most N=2^%d "
					 "r=%d p=%d)",
				    h->log2n, h->r, h->p, LOG2N_MAX, R_MAX,
				    P_MAX);
	uint64_t mem = (UINT64_C(128) * h->r) << h->log2n;
	if (mem > MEM_MAX || mem / 128 * h->p > WORK_MAX)
		return cg_error_set(err, "scrypt parameters N=2^%u r=%u p=%u "
					 "are too costly for this box (%" PRIu64
					 " MiB, at most 256 MiB and 16 times "
					 "the default work)",
				    h->log2n, h->r, h->p, mem >> 20);
	return 0;
}

static int parse_b64_field(const char *s, size_t len, const char *what,
			   uint8_t *out, size_t min, size_t max, size_t *n,
			   struct cg_error *err)
{
	if (b64_decode(s, len, out, max, n) < 0) {
		if (len / 4 * 3 > max + 2)
			return cg_error_set(err, "%s is longer than %zu bytes",
					    what, max);
		return cg_error_set(err, "%s \"%.*s\" is not base64", what,
				    (int)(len > 96 ? 96 : len), s);
	}
	if (*n < min)
		return cg_error_set(err, "%s is %zu bytes (at least %zu)", what,
				    *n, min);
	return 0;
}

int cg_auth_parse_line(const char *line, struct cg_auth_hash *h,
		       struct cg_error *err)
{
	memset(h, 0, sizeof(*h));
	if (strncmp(line, "scrypt$", 7))
		return cg_error_set(err, "not an scrypt hash (a line "
					 "\"scrypt$15$8$1$SALT$HASH\" written "
					 "by cafeguardctl passwd)");
	const char *p = line + 7;
	if (parse_uint(&p, "N exponent", &h->log2n, err) < 0 ||
	    parse_uint(&p, "r", &h->r, err) < 0 ||
	    parse_uint(&p, "p", &h->p, err) < 0 || check_params(h, err) < 0)
		return -1;
	size_t slen = strcspn(p, "$");
	if (p[slen] != '$')
		return cg_error_set(err, "the hash is missing after the salt");
	if (parse_b64_field(p, slen, "salt", h->salt, SALT_MIN,
			    CG_AUTH_SALT_MAX, &h->saltlen, err) < 0)
		return -1;
	p += slen + 1;
	size_t klen = strlen(p);
	if (strchr(p, '$'))
		return cg_error_set(err, "text after the hash");
	return parse_b64_field(p, klen, "hash", h->key, CG_AUTH_KEY_BYTES,
			       CG_AUTH_KEY_MAX, &h->keylen, err);
}

size_t cg_auth_format_line(const struct cg_auth_hash *h, char *out,
			   size_t outsz)
{
	char salt[4 * CG_AUTH_SALT_MAX / 3 + 4], key[4 * CG_AUTH_KEY_MAX / 3 + 4];
	if (h->saltlen > CG_AUTH_SALT_MAX || h->keylen > CG_AUTH_KEY_MAX)
		return 0;
	b64_encode(h->salt, h->saltlen, salt);
	b64_encode(h->key, h->keylen, key);
	int n = snprintf(out, outsz, "scrypt$%u$%u$%u$%s$%s", h->log2n, h->r,
			 h->p, salt, key);
	return n < 0 || (size_t)n >= outsz ? 0 : (size_t)n;
}

/* The bytes of a UTF-8 sequence that starts with c; 0 if none does. */
static size_t utf8_len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if (c < 0xc2)
		return 0;
	if (c < 0xe0)
		return 2;
	if (c < 0xf0)
		return 3;
	return c < 0xf5 ? 4 : 0;
}

/* Browsers send form fields as UTF-8, so a password set in another
 * encoding (a Latin-1 terminal) could never be typed in the dashboard;
 * control characters cannot be typed there at all. */
int cg_auth_password_policy(const char *pw, struct cg_error *err)
{
	size_t bytes = strlen(pw), chars = 0;
	if (bytes > CG_AUTH_PW_MAX_BYTES)
		return cg_error_set(err, "the password is longer than %d bytes",
				    CG_AUTH_PW_MAX_BYTES);
	for (size_t i = 0; i < bytes; chars++) {
		unsigned char c = (unsigned char)pw[i];
		size_t n = utf8_len(c);
		if (c < 0x20 || c == 0x7f)
			return cg_error_set(err, "the password has a control "
						 "character");
		if (n == 0 || i + n > bytes)
			return cg_error_set(err, "the password is not UTF-8");
		for (size_t k = 1; k < n; k++)
			if (((unsigned char)pw[i + k] & 0xc0) != 0x80)
				return cg_error_set(err, "the password is not "
							 "UTF-8");
		i += n;
	}
	if (chars < CG_AUTH_PW_MIN_CHARS)
		return cg_error_set(err, "the password has %zu characters; "
					 "use at least %d",
				    chars, CG_AUTH_PW_MIN_CHARS);
	return 0;
}

static int run_scrypt(const struct cg_auth_hash *h, const char *pw, uint8_t *out,
		  size_t outlen)
{
	uint64_t n = UINT64_C(1) << h->log2n;
	/* OpenSSL's default ceiling is 32 MiB, just under N=2^15 r=8. */
	uint64_t maxmem = 128 * h->r * (n + h->p + 2) + 4096;
	return EVP_PBE_scrypt(pw, strlen(pw), h->salt, h->saltlen, n, h->r,
			      h->p, maxmem, out, outlen) == 1
		       ? 0
		       : -1;
}

int cg_auth_hash_password(const char *pw, char *out, size_t outsz,
			  struct cg_error *err)
{
	struct cg_auth_hash h = {.log2n = CG_AUTH_SCRYPT_LOG2N,
				 .r = CG_AUTH_SCRYPT_R,
				 .p = CG_AUTH_SCRYPT_P,
				 .saltlen = CG_AUTH_SALT_BYTES,
				 .keylen = CG_AUTH_KEY_BYTES};
	if (cg_auth_password_policy(pw, err) < 0)
		return -1;
	if (cg_au_random_bytes(h.salt, h.saltlen) < 0)
		return cg_error_set(err, "getrandom: %s", strerror(errno));
	if (run_scrypt(&h, pw, h.key, h.keylen) < 0)
		return cg_error_set(err, "scrypt failed (out of memory?)");
	if (!cg_auth_format_line(&h, out, outsz))
		return cg_error_set(err, "no room for the hash line");
	return 0;
}

int cg_auth_verify(const struct cg_auth_hash *h, const char *pw,
		   struct cg_error *err)
{
	uint8_t key[CG_AUTH_KEY_MAX];
	if (h->keylen > sizeof(key) || run_scrypt(h, pw, key, h->keylen) < 0)
		return cg_error_set(err, "scrypt failed (out of memory?)");
	int same = CRYPTO_memcmp(key, h->key, h->keylen) == 0;
	OPENSSL_cleanse(key, sizeof(key));
	return same;
}

int cg_auth_verify_line(const char *line, const char *pw,
			struct cg_error *err)
{
	struct cg_auth_hash h;
	if (cg_auth_parse_line(line, &h, err) < 0)
		return -1;
	return cg_auth_verify(&h, pw, err);
}

/* ---- the password file ---- */

/* Anyone who can write the file can set the dashboard's password. */
static int check_mode(const char *path, const struct stat *st,
		      struct cg_error *err)
{
	if (!S_ISREG(st->st_mode))
		return cg_error_set(err, "%s: not a regular file", path);
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return cg_error_set(err, "%s: group or others may write it "
					 "(mode %04o); run chmod 600 %s",
				    path, (unsigned)(st->st_mode & 07777),
				    path);
	if (st->st_uid != 0 && st->st_uid != geteuid())
		return cg_error_set(err, "%s: owned by uid %u, not root; run "
					 "chown root %s",
				    path, (unsigned)st->st_uid, path);
	return 0;
}

/* The one line of buf[0..n): a final newline (or CRLF) is allowed,
 * nothing after it. */
static int one_line(const char *path, char *buf, size_t n,
		    struct cg_error *err)
{
	if (memchr(buf, '\0', n))
		return cg_error_set(err, "%s: a NUL byte in the file", path);
	buf[n] = '\0';
	size_t len = strcspn(buf, "\r\n");
	if (buf[len] == '\r' && buf[len + 1] == '\n')
		buf[len++] = '\0';
	if (buf[len] == '\n' || buf[len] == '\r')
		buf[len++] = '\0';
	if (len != n)
		return cg_error_set(err, "%s: more than one line", path);
	if (!buf[0])
		return cg_error_set(err, "%s: empty; set a password with "
					 "cafeguardctl passwd",
				    path);
	return 0;
}

int cg_auth_read_file(const char *path, struct cg_auth_hash *h,
		      struct cg_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 && errno == ENOENT)
		return CG_AUTH_FILE_MISSING;
	if (fd < 0)
		return cg_error_set(err, "%s: %s", path, strerror(errno));
	struct stat st;
	char buf[CG_AUTH_LINE_MAX + 3]; /* a line, CRLF, and one more */
	ssize_t n = -1;
	if (fstat(fd, &st) < 0)
		cg_error_set(err, "%s: %s", path, strerror(errno));
	else if (check_mode(path, &st, err) == 0) {
		do
			n = read(fd, buf, sizeof(buf) - 1);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			cg_error_set(err, "%s: %s", path, strerror(errno));
		else if ((size_t)n == sizeof(buf) - 1)
			n = cg_error_set(err, "%s: longer than a hash line",
					 path);
	}
	close(fd);
	if (n < 0 || one_line(path, buf, (size_t)n, err) < 0)
		return -1;
	struct cg_error why;
	if (cg_auth_parse_line(buf, h, &why) < 0)
		return cg_error_set(err, "%s: %s", path, why.msg);
	return CG_AUTH_FILE_OK;
}

int cg_auth_write_file(const char *path, const char *line,
		       struct cg_error *err)
{
	char buf[CG_AUTH_LINE_MAX + 1];
	struct cg_auth_hash h;
	struct cg_error why;
	/* Never write a line the daemon would then refuse. */
	if (cg_auth_parse_line(line, &h, &why) < 0)
		return cg_error_set(err, "%s: not written: %s", path, why.msg);
	int n = snprintf(buf, sizeof(buf), "%s\n", line);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return cg_error_set(err, "%s: not written: line too long",
				    path);
	return cg_write_file_atomic(path, buf, (size_t)n, 0600, err);
}

