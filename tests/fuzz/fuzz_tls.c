/*
 * Fuzzes hostinfo_tls on the record layer (with a large and with a small
 * scratch buffer) and on the handshake layer.  Invariant: a prefix of the
 * stream that yields a name yields the name the whole stream yields.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cafeguard/hostinfo_tls.h"

static uint8_t big[32768], small[512];

static void check(enum cg_tls_status st, const char *sni, size_t snilen)
{
	if (strlen(sni) != snilen || (st == CG_TLS_SNI) != (snilen > 0))
		abort();
	if (st == CG_TLS_SNI) {
		char c[CG_NAME_BUF];
		size_t cl;
		if (cg_name_canon(sni, snilen, c, &cl) != CG_NAME_OK ||
		    strcmp(c, sni))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char sni[CG_NAME_BUF], psni[CG_NAME_BUF];
	size_t snilen, psnilen;

	enum cg_tls_status full =
	    cg_tls_record_sni(data, size, big, sizeof(big), sni, &snilen);
	check(full, sni, snilen);

	/* A prefix, in its own exact-size block so over-reads show. */
	size_t cut = size ? (size_t)data[0] * size / 256 : 0;
	uint8_t *p = malloc(cut ? cut : 1);
	if (!p)
		return 0;
	memcpy(p, data, cut);
	enum cg_tls_status part =
	    cg_tls_record_sni(p, cut, big, sizeof(big), psni, &psnilen);
	check(part, psni, psnilen);
	if (part == CG_TLS_SNI && (full != CG_TLS_SNI || strcmp(sni, psni)))
		abort();
	if (part != CG_TLS_NEED_MORE && part != full)
		abort();
	free(p);

	size_t ssz = size ? data[size - 1] % sizeof(small) : 0;
	enum cg_tls_status st =
	    cg_tls_record_sni(data, size, small, ssz, psni, &psnilen);
	check(st, psni, psnilen);
	/* A smaller scratch can only lose the name, never change it. */
	if (st == CG_TLS_SNI && (full != CG_TLS_SNI || strcmp(sni, psni)))
		abort();

	st = cg_tls_handshake_sni(data, size, psni, &psnilen);
	check(st, psni, psnilen);
	cg_tls_looks_like_handshake(data, size);
	return 0;
}
