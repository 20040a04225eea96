/*
 * hostinfo_tls: the server name a TLS ClientHello asks for
 * (RFC 8446 4.1.2, RFC 6066 3).
 *
 * The name is read as soon as the server_name extension is complete, even
 * if the rest of the ClientHello has not arrived: the gateway decides at the
 * first moment it can.  A ClientHello may be split across TLS records
 * (RFC 8446 5.1 allows fragmenting handshake messages; it is a known
 * filter-evasion trick) and across TCP segments; the caller hands in the
 * contiguous client->server stream from its first byte.
 * With ECH (draft-ietf-tls-esni) only the outer SNI is visible; that is
 * the name returned.
 */
#ifndef CAFEGUARD_HOSTINFO_TLS_H
#define CAFEGUARD_HOSTINFO_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "cafeguard/name.h"

enum cg_tls_status {
	CG_TLS_SNI = 0,   /* sni holds a canonical host name */
	CG_TLS_NEED_MORE, /* could still be a ClientHello; feed more bytes */
	CG_TLS_NO_SNI,    /* a complete ClientHello without server_name */
	CG_TLS_BAD_SNI,   /* server_name present but not a host name
			     (e.g. an IP literal); treated as no name */
	CG_TLS_NOT_TLS,   /* not a TLS handshake / ClientHello */
};

/*
 * stream[0..len): client->server TCP bytes from the start of the connection.
 * scratch: caller's buffer where handshake fragments from several records
 * are joined; a ClientHello longer than scratchsz yields CG_TLS_NOT_TLS
 * only if the SNI was not found in the part that fits.
 * On CG_TLS_SNI, sni (CG_NAME_BUF bytes) and *snilen are set.
 */
enum cg_tls_status cg_tls_record_sni(const uint8_t *stream, size_t len,
				     uint8_t *scratch, size_t scratchsz,
				     char *sni, size_t *snilen);

/*
 * hs[0..len): handshake-layer bytes (no record headers) from the first
 * byte of the ClientHello message, as carried by QUIC CRYPTO frames
 * (RFC 9001 4.1).  Same results as cg_tls_record_sni().
 */
enum cg_tls_status cg_tls_handshake_sni(const uint8_t *hs, size_t len,
					char *sni, size_t *snilen);

/* True if the first bytes look like a TLS handshake record
 * (content type 22, version 3.x); needs at least 3 bytes. */
int cg_tls_looks_like_handshake(const uint8_t *p, size_t len);

#endif
