/*
 * Private to the auth module: auth_hash.c (password lines, policy, the
 * password file) and auth.c (the object: sessions, CSRF, lockout, login)
 * share these.  The contract is include/cafeguard/auth.h.
 */
#ifndef CAFEGUARD_AUTH_INTERNAL_H
#define CAFEGUARD_AUTH_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

void cg_au_hex_encode(const uint8_t *in, size_t n, char *out);
/* -1 unless s[0..len) is exactly 2n hex digits. */
int cg_au_hex_decode(const char *s, size_t len, uint8_t *out, size_t n);
/* getrandom(), all of it or -1. */
int cg_au_random_bytes(uint8_t *buf, size_t n);

#endif
