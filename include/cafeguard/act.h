/*
 * act: the packets the gateway sends itself so a blocked client fails
 * fast instead of hanging: a DNS answer for a blocked query, TCP resets
 * for a blocked connection, an HTTP redirect to the portal, an ICMP
 * unreachable for a blocked datagram flow.
 *
 * Packets are built whole (IP header, checksums) in a per-injector
 * buffer and handed to a sender: raw sockets on the live box, a recorder
 * in replay and tests (which lets a test decode exactly what would have
 * gone on the wire).  Sent packets leave through the box's own stack
 * (OUTPUT), so they are never queued back to the gateway.
 */
#ifndef CAFEGUARD_ACT_H
#define CAFEGUARD_ACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cafeguard/decode.h"
#include "cafeguard/diag.h"

/* Largest packet the gateway builds. */
#define CG_ACT_PKT_MAX 1500

struct cg_injector;

/* Raw IPv4 and IPv6 sockets (needs CAP_NET_RAW, and CAP_NET_ADMIN for
 * the mark).  Sent packets carry `mark` (0: none), which the kernel rules
 * use to keep them out of connection tracking: an answer spoofed from a
 * server would otherwise clash with the client's own conntrack entry and
 * be dropped or re-mapped by NAT.  NULL with err set on failure.  One per
 * worker: sockets are not shared between threads. */
struct cg_injector *cg_injector_open_raw(uint32_t mark, struct cg_error *err);

/* Keeps the last `keep` packets in memory instead of sending them. */
struct cg_injector *cg_injector_open_recorder(unsigned keep);

void cg_injector_close(struct cg_injector *inj);

struct cg_injector_stats {
	uint64_t sent;
	uint64_t errors;
};

void cg_injector_stats(const struct cg_injector *inj,
		       struct cg_injector_stats *st);

/* Recorder only: number of packets kept and the i-th (oldest first). */
unsigned cg_injector_recorded(const struct cg_injector *inj);
const uint8_t *cg_injector_packet(const struct cg_injector *inj, unsigned i,
				  size_t *len);
void cg_injector_forget(struct cg_injector *inj);

/*
 * Answers the UDP DNS query in p (client -> server) with msg[0..len) as if
 * from the server.  Returns 0, -1 on send failure (counted).
 */
int cg_act_udp_reply(struct cg_injector *inj, const struct cg_packet *p,
		     const uint8_t *msg, size_t len);

/*
 * Resets the TCP connection of p, which the gateway is dropping.
 * to_sender: a RST to p's sender as if from its peer, seq = p->ack so the
 * sender's stack accepts it (RFC 9293 3.10.7.3); to_receiver: a RST to
 * p's receiver as if from the sender, seq = p->seq, exactly the next byte
 * the receiver expects since p never arrives.
 */
int cg_act_tcp_reset(struct cg_injector *inj, const struct cg_packet *p,
		     bool to_sender, bool to_receiver);

/*
 * Asks both ends of p's connection where they stand: to each, as if from
 * its peer, an ACK far below its window, which its stack answers with an
 * ACK carrying the exact sequence it expects next.  For a connection the
 * kernel carried on while p waited for its verdict, the resets of
 * cg_act_tcp_reset() may be stale (later segments, a retransmission of
 * p, reached the ends first); the answers meet the firewall's reset rule
 * for blocked connections, which resets each end exactly.  So the probes
 * must not leave before the verdict that blocks the connection: a raw
 * injector keeps them until cg_injector_flush() (a recorder records them
 * at once).
 */
int cg_act_tcp_probe(struct cg_injector *inj, const struct cg_packet *p);

/* Sends what waited for the batch's verdicts; call once they are given. */
void cg_injector_flush(struct cg_injector *inj);

/*
 * Answers the TCP DNS query in p with msg[0..len) (length-prefixed on the
 * wire) followed by FIN, as if from the server.
 */
int cg_act_tcp_reply(struct cg_injector *inj, const struct cg_packet *p,
		     const uint8_t *msg, size_t len);

/*
 * Answers the request in p (client -> server) with data[0..len) (an
 * HTTP redirect) and FIN, as if from the server, at exactly the
 * sequence the client expects (p->ack); the server gets a reset at
 * p->seq, the byte it expects next since p never reaches it.
 */
int cg_act_tcp_answer(struct cg_injector *inj, const struct cg_packet *p,
		      const uint8_t *data, size_t len);

/*
 * Tells p's sender that p cannot be delivered: an ICMP (IPv4) or ICMPv6
 * "administratively prohibited" from p's destination, quoting p.  For a
 * blocked QUIC connection: a browser gives up on it at once and falls
 * back to TCP, where the name is judged again.
 */
int cg_act_unreachable(struct cg_injector *inj, const struct cg_packet *p);

/* Internet checksum helpers, exposed for tests. */
uint16_t cg_act_ip_checksum(const uint8_t *hdr, size_t len);
uint16_t cg_act_l4_checksum(uint8_t family, const uint8_t *src,
			    const uint8_t *dst, uint8_t proto,
			    const uint8_t *l4, size_t len);

#endif
