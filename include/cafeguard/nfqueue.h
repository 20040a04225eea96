/*
 * nfqueue: the live packet source, one netfilter queue per worker, with
 * libmnl and libnetfilter_queue's nlmsg API.
 *
 * Settings that matter on a small box:
 *  - NFQA_CFG_F_GSO: without it the kernel segments GSO packets before
 *    queueing and throughput through the queue falls ~10x.
 *  - NFQA_CFG_F_FAIL_OPEN (with fail_open): when the queue is full the
 *    kernel accepts instead of dropping.
 *  - A large receive buffer and NETLINK_NO_ENOBUFS: a burst must not
 *    kill the socket; ENOBUFS (the kernel dropped packet messages) is
 *    counted and the loop goes on.
 *  - Verdicts for a whole batch of received packets go out in one send.
 */
#ifndef CAFEGUARD_NFQUEUE_H
#define CAFEGUARD_NFQUEUE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cafeguard/diag.h"
#include "cafeguard/worker.h"

struct cg_nfq_opts {
	uint16_t queue;
	uint32_t maxlen;     /* queue length in packets */
	uint32_t copy_range; /* bytes of each packet copied to us */
	uint32_t batch;      /* packets per receive/verdict batch */
	bool fail_open;
	int lan_ifindex;     /* to tell the client side; 0 = unknown */
	uint32_t mark_mask, mark_allow, mark_block, mark_watch, mark_meter;
};

struct cg_nfq_stats {
	uint64_t packets;
	uint64_t batches;
	uint64_t enobufs;        /* times the kernel dropped messages */
	uint64_t recv_errors;
	uint64_t verdict_errors;
	uint64_t bad_messages;   /* netlink messages we could not parse */
};

struct cg_nfq;

/* Binds the queue and configures it.  NULL with err set on failure
 * (e.g. another process owns the queue). */
struct cg_nfq *cg_nfq_open(const struct cg_nfq_opts *o, struct cg_error *err);

/* The packet handler: returns what to do with the packet.  meta tells the
 * side it came from, the sender's MAC (NFQA_HWADDR) and whether it is a
 * metered connection's heartbeat (its mark, restored from the connmark
 * by the kernel rules, says so). */
typedef enum cg_action (*cg_nfq_handler)(void *ctx, const uint8_t *l3,
					 size_t caplen, size_t wirelen,
					 const struct cg_pkt_meta *meta);
/* Called from the same thread between batches, at least every 200 ms,
 * when no packet is in hand and every verdict given has been sent: the
 * worker's quiescent point (timers, packets that must follow a verdict,
 * and a sign that it no longer holds an old rule set). */
typedef void (*cg_nfq_tick)(void *ctx);

/*
 * Receives and answers packets until *stop becomes true (checked at least
 * every 200 ms).  Returns 0 on stop, -1 with err set on a fatal socket
 * error.
 */
int cg_nfq_run(struct cg_nfq *q, cg_nfq_handler handler, cg_nfq_tick tick,
	       void *ctx, const atomic_bool *stop, struct cg_error *err);

void cg_nfq_stats(const struct cg_nfq *q, struct cg_nfq_stats *st);

/*
 * The kernel's own counters for queue `queue` in this network namespace
 * (/proc/net/netfilter/nfnetlink_queue): packets dropped because the
 * queue was full (queue_dropped; accepted instead with fail_open) and
 * because our socket buffer was full (user_dropped; with
 * NETLINK_NO_ENOBUFS this is where ENOBUFS is counted).  Returns 0, or -1
 * if the queue is not listed.
 */
int cg_nfq_kernel_drops(uint16_t queue, uint64_t *queue_dropped,
			uint64_t *user_dropped);
void cg_nfq_close(struct cg_nfq *q);

#endif
