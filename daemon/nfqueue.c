#include "cafeguard/nfqueue.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Netlink and nfqueue attribute overhead around a copied packet. */
#define NFQ_MSG_OVERHEAD 1024
/* Each verdict message with a mark is 40 bytes; leave room. */
#define NFQ_VERDICT_MSG 64

struct cg_nfq {
	struct mnl_socket *nl;
	struct cg_nfq_opts o;
	uint32_t portid;
	size_t bufsz;
	uint8_t *bufs;          /* o.batch receive buffers of bufsz */
	struct mmsghdr *msgs;
	struct iovec *iovs;
	char *vbuf;             /* verdicts of one batch */
	size_t vlen;
	struct cg_nfq_stats st;
};

/* The kernel answers a queue bind with EPERM both when we lack
 * CAP_NET_ADMIN and when another socket owns the queue
 * (nfqnl_recv_config); our own capabilities tell which. */
static bool have_net_admin(void)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d) < 0)
		return false;
	return d[CAP_NET_ADMIN / 32].effective & (1u << (CAP_NET_ADMIN % 32));
}

/* Sends one config message and waits for its acknowledgement. */
static int config_request(struct cg_nfq *q, struct nlmsghdr *nlh,
			  const char *what, struct cg_error *err)
{
	nlh->nlmsg_flags |= NLM_F_ACK;
	uint32_t seq = (uint32_t)time(NULL);
	nlh->nlmsg_seq = seq;
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0)
		return cg_error_set(err, "queue %u: %s: %s", q->o.queue, what,
				    strerror(errno));
	char buf[8192]; /* MNL_SOCKET_BUFFER_SIZE is not a constant */
	ssize_t n = mnl_socket_recvfrom(q->nl, buf, sizeof(buf));
	if (n < 0)
		return cg_error_set(err, "queue %u: %s: %s", q->o.queue, what,
				    strerror(errno));
	if (mnl_cb_run(buf, (size_t)n, seq, q->portid, NULL, NULL) < 0) {
		if (errno == EBUSY || (errno == EPERM && have_net_admin()))
			return cg_error_set(err, "queue %u is already bound by "
						 "another process (is "
						 "cafeguardd already "
						 "running?)",
					    q->o.queue);
		if (errno == EPERM)
			return cg_error_set(err, "queue %u: %s: permission "
						 "denied (needs "
						 "CAP_NET_ADMIN)",
					    q->o.queue, what);
		return cg_error_set(err, "queue %u: %s: %s", q->o.queue, what,
				    strerror(errno));
	}
	return 0;
}

struct cg_nfq *cg_nfq_open(const struct cg_nfq_opts *o, struct cg_error *err)
{
	struct cg_nfq *q = calloc(1, sizeof(*q));
	if (!q) {
		cg_error_set(err, "queue: out of memory");
		return NULL;
	}
	q->o = *o;
	if (!q->o.batch)
		q->o.batch = 1;
	/* Each buffer starts a netlink message: keep them aligned. */
	q->bufsz = (o->copy_range + NFQ_MSG_OVERHEAD + 63) & ~(size_t)63;
	q->bufs = malloc(q->bufsz * q->o.batch);
	q->msgs = calloc(q->o.batch, sizeof(*q->msgs));
	q->iovs = calloc(q->o.batch, sizeof(*q->iovs));
	q->vbuf = malloc(NFQ_VERDICT_MSG * q->o.batch);
	if (!q->bufs || !q->msgs || !q->iovs || !q->vbuf) {
		cg_error_set(err, "queue %u: out of memory", o->queue);
		goto fail;
	}

	q->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!q->nl) {
		cg_error_set(err, "netlink socket: %s", strerror(errno));
		goto fail;
	}
	if (mnl_socket_bind(q->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		cg_error_set(err, "netlink bind: %s", strerror(errno));
		goto fail;
	}
	q->portid = mnl_socket_get_portid(q->nl);

	char buf[8192]; /* MNL_SOCKET_BUFFER_SIZE is not a constant */
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, o->queue);
	/* The address family of a queue bind is ignored since Linux 3.8;
	 * one bind carries IPv4 and IPv6. */
	nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
	if (config_request(q, nlh, "bind", err) < 0)
		goto fail;

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, o->queue);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, (int)o->copy_range);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, o->maxlen);
	uint32_t flags = NFQA_CFG_F_GSO;
	if (o->fail_open)
		flags |= NFQA_CFG_F_FAIL_OPEN;
	uint32_t mask = NFQA_CFG_F_GSO | NFQA_CFG_F_FAIL_OPEN;
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(flags));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(mask));
	if (config_request(q, nlh, "set copy range, length and flags", err) <
	    0)
		goto fail;

	/* A burst of packets must fit while the worker is busy; the
	 * FORCE variant passes rmem_max (we hold CAP_NET_ADMIN), the
	 * plain one is the fallback. */
	int fd = mnl_socket_get_fd(q->nl);
	int rcvbuf = (int)(q->o.maxlen * (o->copy_range < 4096
						  ? 4096
						  : 2048 + o->copy_range / 8));
	if (rcvbuf < (8 << 20))
		rcvbuf = 8 << 20;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
		       sizeof(rcvbuf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	/* ENOBUFS means the kernel dropped messages for us; it must not
	 * turn into an error on every later read. */
	int one = 1;
	mnl_socket_setsockopt(q->nl, NETLINK_NO_ENOBUFS, &one, sizeof(one));

	for (uint32_t i = 0; i < q->o.batch; i++) {
		q->iovs[i].iov_base = q->bufs + i * q->bufsz;
		q->iovs[i].iov_len = q->bufsz;
		q->msgs[i].msg_hdr.msg_iov = &q->iovs[i];
		q->msgs[i].msg_hdr.msg_iovlen = 1;
	}
	return q;
fail:
	cg_nfq_close(q);
	return NULL;
}

void cg_nfq_close(struct cg_nfq *q)
{
	if (!q)
		return;
	if (q->nl)
		mnl_socket_close(q->nl);
	free(q->bufs);
	free(q->msgs);
	free(q->iovs);
	free(q->vbuf);
	free(q);
}

void cg_nfq_stats(const struct cg_nfq *q, struct cg_nfq_stats *st)
{
	*st = q->st;
}

int cg_nfq_kernel_drops(uint16_t queue, uint64_t *queue_dropped,
			uint64_t *user_dropped)
{
	FILE *f = fopen("/proc/net/netfilter/nfnetlink_queue", "re");
	if (!f)
		return -1;
	/* queue_number peer_portid queue_total copy_mode copy_range
	 * queue_dropped user_dropped id_sequence 1 */
	unsigned qn, portid, total, mode, range;
	unsigned long long qd, ud, seq;
	int rc = -1;
	while (fscanf(f, "%u %u %u %u %u %llu %llu %llu %*u", &qn, &portid,
		      &total, &mode, &range, &qd, &ud, &seq) == 8) {
		if (qn == queue) {
			*queue_dropped = qd;
			*user_dropped = ud;
			rc = 0;
			break;
		}
	}
	fclose(f);
	return rc;
}

static int flush_verdicts(struct cg_nfq *q)
{
	if (!q->vlen)
		return 0;
	/* A packet without a verdict stays queued until the queue is
	 * unbound, so a transient failure (EINTR, ENOBUFS under memory
	 * pressure) is retried before it counts as an error. */
	ssize_t rc = -1;
	for (int tries = 0; tries < 3 && rc < 0; tries++) {
		rc = mnl_socket_sendto(q->nl, q->vbuf, q->vlen);
		if (rc < 0 && errno != EINTR && errno != ENOBUFS)
			break;
	}
	q->vlen = 0;
	if (rc < 0) {
		q->st.verdict_errors++;
		return errno == EINTR || errno == ENOBUFS ? 0 : -1;
	}
	return 0;
}

static void add_verdict(struct cg_nfq *q, uint32_t id, enum cg_action a,
			uint32_t mark)
{
	if (q->vlen + NFQ_VERDICT_MSG > NFQ_VERDICT_MSG * q->o.batch)
		flush_verdicts(q);
	struct nlmsghdr *nlh =
		nfq_nlmsg_put(q->vbuf + q->vlen, NFQNL_MSG_VERDICT, q->o.queue);
	uint32_t val = 0;
	switch (a) {
	case CG_PASS:
		nfq_nlmsg_verdict_put(nlh, (int)id, NF_ACCEPT);
		break;
	case CG_DROP:
		nfq_nlmsg_verdict_put(nlh, (int)id, NF_DROP);
		break;
	case CG_MARK_ALLOW:
		val = q->o.mark_allow;
		break;
	case CG_MARK_BLOCK:
		val = q->o.mark_block;
		break;
	case CG_MARK_WATCH:
		val = q->o.mark_watch;
		break;
	case CG_MARK_METER:
		val = q->o.mark_meter;
		break;
	}
	if (val) {
		/* The rule chain copies this mark into the connmark when the
		 * packet re-enters the hook (NF_REPEAT); bits outside our
		 * mask belong to others and are kept. */
		nfq_nlmsg_verdict_put(nlh, (int)id, NF_REPEAT);
		nfq_nlmsg_verdict_put_mark(nlh,
					   (mark & ~q->o.mark_mask) | val);
	}
	q->vlen += nlh->nlmsg_len;
}

static void handle_msg(struct cg_nfq *q, const struct nlmsghdr *nlh,
		       cg_nfq_handler handler, void *ctx)
{
	struct nlattr *attr[NFQA_MAX + 1];
	memset(attr, 0, sizeof(attr));
	if (nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR]) {
		q->st.bad_messages++;
		return;
	}
	const struct nfqnl_msg_packet_hdr *ph =
		mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	uint32_t id = ntohl(ph->packet_id);
	uint32_t mark = attr[NFQA_MARK] ? ntohl(mnl_attr_get_u32(
						  attr[NFQA_MARK]))
					: 0;
	const uint8_t *payload = NULL;
	size_t caplen = 0;
	if (attr[NFQA_PAYLOAD]) {
		payload = mnl_attr_get_payload(attr[NFQA_PAYLOAD]);
		caplen = mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
	}
	size_t wirelen = caplen;
	if (attr[NFQA_CAP_LEN])
		wirelen = ntohl(mnl_attr_get_u32(attr[NFQA_CAP_LEN]));
	struct cg_pkt_meta meta = {.from_lan = -1};
	if (attr[NFQA_IFINDEX_INDEV] && q->o.lan_ifindex > 0)
		meta.from_lan = (int)ntohl(mnl_attr_get_u32(
					attr[NFQA_IFINDEX_INDEV])) ==
				q->o.lan_ifindex;
	if (attr[NFQA_HWADDR]) {
		const struct nfqnl_msg_packet_hw *hw =
			mnl_attr_get_payload(attr[NFQA_HWADDR]);
		if (ntohs(hw->hw_addrlen) == 6)
			meta.mac = hw->hw_addr;
	}
	meta.heartbeat = q->o.mark_meter &&
			 (mark & q->o.mark_mask) == q->o.mark_meter;

	q->st.packets++;
	enum cg_action a = payload ? handler(ctx, payload, caplen, wirelen,
					     &meta)
				   : (q->o.fail_open ? CG_PASS : CG_DROP);
	add_verdict(q, id, a, mark);
}

int cg_nfq_run(struct cg_nfq *q, cg_nfq_handler handler, cg_nfq_tick tick,
	       void *ctx, const atomic_bool *stop, struct cg_error *err)
{
	int fd = mnl_socket_get_fd(q->nl);
	struct pollfd pfd = {.fd = fd, .events = POLLIN};

	while (!atomic_load_explicit(stop, memory_order_relaxed)) {
		if (tick)
			tick(ctx);
		int pr = poll(&pfd, 1, 200);
		if (pr < 0 && errno != EINTR)
			return cg_error_set(err, "queue %u: poll: %s",
					    q->o.queue, strerror(errno));
		if (pr <= 0)
			continue;

		int n = recvmmsg(fd, q->msgs, q->o.batch, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == ENOBUFS) {
				/* The kernel dropped packets it could not
				 * queue to us; they were handled by the
				 * queue's fail policy.  Go on. */
				q->st.enobufs++;
				continue;
			}
			if (errno == EINTR || errno == EAGAIN)
				continue;
			q->st.recv_errors++;
			return cg_error_set(err, "queue %u: receive: %s",
					    q->o.queue, strerror(errno));
		}
		q->st.batches++;
		q->vlen = 0;
		for (int i = 0; i < n; i++) {
			const char *buf = q->iovs[i].iov_base;
			int len = (int)q->msgs[i].msg_len;
			const struct nlmsghdr *nlh = (const void *)buf;
			while (mnl_nlmsg_ok(nlh, len)) {
				if ((nlh->nlmsg_type & 0xff) ==
				    NFQNL_MSG_PACKET)
					handle_msg(q, nlh, handler, ctx);
				else if (nlh->nlmsg_type == NLMSG_ERROR ||
					 nlh->nlmsg_type == NLMSG_DONE)
					; /* acks of our verdicts: none asked */
				else
					q->st.bad_messages++;
				nlh = mnl_nlmsg_next(nlh, &len);
			}
		}
		/* All verdicts of the batch in one send. */
		if (flush_verdicts(q) < 0)
			return cg_error_set(err, "queue %u: verdict: %s",
					    q->o.queue, strerror(errno));
	}
	return 0;
}
