/*
 * Test helper shared by the hostinfo_quic unit tests (real captures and
 * Initials sealed in the test): reading a payload from tests/data/hostinfo,
 * the one context and reassembly buffer of a run, and feeding a datagram
 * to cg_quic_client_initial.  Included by exactly one test file per
 * executable, so the fixture state lives here as static variables.
 */
#ifndef CAFEGUARD_QUIC_TESTUTIL_H
#define CAFEGUARD_QUIC_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cafeguard/hostinfo_quic.h"

#include "hostinfo_testutil.h"

/* ---- fixtures ---- */

static struct cg_quic_ctx *ctx;
static uint8_t abuf[CG_QUIC_CRYPTO_MAX];
static struct cg_quic_assembly asm_;

/* Group setup and teardown: one context for the whole run. */
static inline int quic_setup(void **state)
{
	(void)state;
	ctx = cg_quic_ctx_new();
	return ctx ? 0 : -1;
}

static inline int quic_teardown(void **state)
{
	(void)state;
	cg_quic_ctx_free(ctx);
	cg_quic_ctx_free(NULL);
	return 0;
}

static inline enum cg_quic_status feed(const uint8_t *d, size_t n, char *sni)
{
	size_t snilen;
	uint8_t *c = malloc(n ? n : 1);
	memcpy(c, d, n);
	enum cg_quic_status st =
	    cg_quic_client_initial(ctx, c, n, &asm_, sni, &snilen);
	free(c);
	assert_int_equal(strlen(sni), snilen);
	return st;
}

static inline void fresh(void)
{
	cg_quic_assembly_reset(&asm_, abuf, sizeof(abuf));
}

#endif
