/*
 * hostinfo_quic: the SNI of a QUIC client Initial.
 *
 * IETF QUIC protects Initial packets with keys derived from the client's
 * first Destination Connection ID (RFC 9001 5.2), so anyone on path can
 * remove the protection and read the ClientHello in the CRYPTO frames.
 * Supported: QUIC v1 (RFC 9000), v2 (RFC 9369), drafts 27-34 (salt of
 * draft-ietf-quic-tls-23 for 27-28, of -29 for 29-32, RFC 9001's for
 * 33-34), and Google QUIC Q043/Q046 whose CHLO is
 * plaintext (SNI tag).  Chrome splits and shuffles CRYPTO frames across
 * Initials ("chaos protection"), so CRYPTO data is reassembled by offset.
 *
 * Keys always come from the DCID of the *first* client Initial of the
 * connection (later Initials may carry the server's CID), which is why the
 * assembly state remembers it.  Only when those keys fail and keys from
 * the packet's own DCID open it (the client restarted after a Retry, RFC
 * 9001 5.2) are they replaced, and reassembly starts over.
 */
#ifndef CAFEGUARD_HOSTINFO_QUIC_H
#define CAFEGUARD_HOSTINFO_QUIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cafeguard/name.h"

/* Longest ClientHello the gateway reassembles from CRYPTO frames. */
#define CG_QUIC_CRYPTO_MAX 8192

enum cg_quic_status {
	CG_QUIC_SNI = 0,      /* sni holds a canonical host name */
	CG_QUIC_NEED_MORE,    /* an Initial was consumed; CH still incomplete */
	CG_QUIC_NO_SNI,       /* complete ClientHello (or CHLO) without SNI,
				 or one longer than the assembly without SNI
				 in the part that fits */
	CG_QUIC_BAD_SNI,      /* SNI present but not a host name */
	CG_QUIC_NOT_QUIC,     /* not a client Initial / CHLO */
	CG_QUIC_UNSUPPORTED,  /* QUIC long header, unknown version (e.g. a
				 greased 0x?a?a?a?a or version negotiation);
				 sni is set (for logs only) when a greased
				 Initial opens with v1 or draft-29 keys */
	CG_QUIC_UNDECRYPTABLE, /* looked like an Initial, AEAD check failed */
};

/* Per-connection reassembly state.  The caller owns buf (cap bytes, at
 * most CG_QUIC_CRYPTO_MAX are used) and zeroes the struct before the first
 * call of a connection (cg_quic_assembly_reset). */
struct cg_quic_assembly {
	uint8_t *buf;
	size_t cap;
	uint8_t have[CG_QUIC_CRYPTO_MAX / 8]; /* one bit per CRYPTO byte */
	uint32_t version;                     /* 0 until the first Initial */
	uint8_t dcid[20];
	uint8_t dcid_len;
	bool keyed;                           /* keys below are valid */
	uint8_t key[16], iv[12], hp[16];
	uint64_t next_pn; /* largest packet number opened + 1 (RFC 9000 A.3) */
};

void cg_quic_assembly_reset(struct cg_quic_assembly *a, uint8_t *buf,
			    size_t cap);

/* Per-worker crypto contexts, created once so the per-packet path does not
 * allocate.  Returns NULL on allocation failure. */
struct cg_quic_ctx *cg_quic_ctx_new(void);
void cg_quic_ctx_free(struct cg_quic_ctx *ctx);

/*
 * udp[0..len): one client->server UDP payload (it may hold several
 * coalesced QUIC packets; every Initial in it is processed).
 * On CG_QUIC_SNI, sni (CG_NAME_BUF bytes) and *snilen are set.
 */
enum cg_quic_status cg_quic_client_initial(struct cg_quic_ctx *ctx,
					   const uint8_t *udp, size_t len,
					   struct cg_quic_assembly *a,
					   char *sni, size_t *snilen);

/*
 * Google QUIC only (Q043 public header, Q046 long header): the SNI tag of
 * the plaintext CHLO.  cg_quic_client_initial() calls it for those
 * versions; exposed for tests.
 */
enum cg_quic_status cg_gquic_client_hello(const uint8_t *udp, size_t len,
					  char *sni, size_t *snilen);

/* Cheap first check before any crypto: long header with the fixed bit, or
 * a gQUIC public header with the version flag. */
bool cg_quic_looks_like_initial(const uint8_t *udp, size_t len);

#endif
