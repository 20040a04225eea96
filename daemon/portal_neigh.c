/*
 * A client's MAC address from the kernel's neighbour table (rtnetlink
 * RTM_GETNEIGH, rtnetlink(7)), so a seat known by its MAC is known to the
 * portal as it is to the workers.
 *
 * The box answered the client's TCP handshake, so the kernel has just
 * resolved its address: the entry is there unless the client sits
 * behind a router (then no MAC is the truth).  A socket per lookup keeps
 * the portal's threads independent; a request costs one small dump.
 */
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include <libmnl/libmnl.h>

#include "portal_internal.h"

struct want {
	unsigned ifindex;
	uint8_t af; /* AF_INET or AF_INET6 */
	const uint8_t *addr;
	size_t alen;
	uint8_t *mac;
	bool found;
};

static int attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	if (mnl_attr_type_valid(a, NDA_MAX) > 0)
		tb[mnl_attr_get_type(a)] = a;
	return MNL_CB_OK;
}

static bool attr_is(const struct nlattr *a, const void *v, size_t n)
{
	return a && mnl_attr_get_payload_len(a) == n &&
	       !memcmp(mnl_attr_get_payload(a), v, n);
}

static int neigh_cb(const struct nlmsghdr *nlh, void *data)
{
	struct want *w = data;
	if (w->found || nlh->nlmsg_type != RTM_NEWNEIGH ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(struct ndmsg))
		return MNL_CB_OK;
	const struct ndmsg *nd = mnl_nlmsg_get_payload(nlh);
	/* INCOMPLETE and FAILED have no address yet; NOARP entries
	 * (loopback, point-to-point) hold a made-up one. */
	if (nd->ndm_family != w->af ||
	    (w->ifindex && (unsigned)nd->ndm_ifindex != w->ifindex) ||
	    (nd->ndm_state & (NUD_INCOMPLETE | NUD_FAILED | NUD_NOARP)))
		return MNL_CB_OK;
	const struct nlattr *tb[NDA_MAX + 1] = {0};
	if (mnl_attr_parse(nlh, sizeof(*nd), attr_cb, tb) < 0 ||
	    !attr_is(tb[NDA_DST], w->addr, w->alen) || !tb[NDA_LLADDR] ||
	    mnl_attr_get_payload_len(tb[NDA_LLADDR]) != 6)
		return MNL_CB_OK;
	memcpy(w->mac, mnl_attr_get_payload(tb[NDA_LLADDR]), 6);
	w->found = true;
	return MNL_CB_OK;
}

static int dump(struct mnl_socket *nl, struct want *w)
{
	/* Room for the largest message a dump sends to an 8 KiB reader
	 * (the kernel sizes dump messages to what the reader asked). */
	char buf[16384];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETNEIGH;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = (unsigned)time(NULL);
	struct ndmsg *nd = mnl_nlmsg_put_extra_header(nlh, sizeof(*nd));
	nd->ndm_family = w->af;
	unsigned seq = nlh->nlmsg_seq, portid = mnl_socket_get_portid(nl);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n <= 0)
			return -1;
		int rc = mnl_cb_run(buf, (size_t)n, seq, portid, neigh_cb, w);
		if (rc < 0)
			return -1;
		if (rc == MNL_CB_STOP)
			return 0;
	}
}

int cg_pt_neigh_mac(unsigned ifindex, uint8_t family, const uint8_t addr[16],
		    uint8_t mac[6])
{
	struct want w = {
	    .ifindex = ifindex,
	    .af = family == 4 ? AF_INET : AF_INET6,
	    .addr = addr,
	    .alen = family == 4 ? 4 : 16,
	    .mac = mac,
	};
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl)
		return -1;
	/* A stuck kernel answer must not hold a portal thread. */
	struct timeval tv = {.tv_sec = 1};
	int rc = -1;
	if (setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv,
		       sizeof(tv)) == 0 &&
	    mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) == 0 &&
	    dump(nl, &w) == 0)
		rc = w.found ? 0 : -1;
	mnl_socket_close(nl);
	return rc;
}
