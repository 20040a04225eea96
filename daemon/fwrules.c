#include "cafeguard/fwrules.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define FW_SCRIPT_MAX 16384

struct tool {
	const char *restore;
	const char *save;
};

static struct tool tool_for(enum cg_fw_backend b, int family)
{
	struct tool t;
	switch (b) {
	case CG_FW_NFT:
		t.restore = family == 4 ? "iptables-nft-restore"
					: "ip6tables-nft-restore";
		t.save = family == 4 ? "iptables-nft-save" : "ip6tables-nft-save";
		break;
	case CG_FW_LEGACY:
		t.restore = family == 4 ? "iptables-legacy-restore"
					: "ip6tables-legacy-restore";
		t.save = family == 4 ? "iptables-legacy-save"
				     : "ip6tables-legacy-save";
		break;
	default:
		t.restore = family == 4 ? "iptables-restore" : "ip6tables-restore";
		t.save = family == 4 ? "iptables-save" : "ip6tables-save";
		break;
	}
	return t;
}

/*
 * Runs argv with input on stdin; collects stdout into out (if given) and
 * stderr into errbuf.  No shell is involved.  Returns the exit status, or
 * -1 if the program could not be run.
 */
static int run(char *const argv[], const char *input, char *out,
	       size_t outsz, char *errbuf, size_t errsz)
{
	int in[2], o[2], e[2];
	if (pipe2(in, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(o, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		return -1;
	}
	if (pipe2(e, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		close(o[0]);
		close(o[1]);
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		for (int i = 0; i < 2; i++) {
			close(in[i]);
			close(o[i]);
			close(e[i]);
		}
		return -1;
	}
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(o[1], 1);
		dup2(e[1], 2);
		/* The daemon blocks signals for its threads; the tool
		 * must not inherit that. */
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execvp(argv[0], argv);
		dprintf(2, "cannot run %s: %s", argv[0], strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(o[1]);
	close(e[1]);

	size_t ilen = input ? strlen(input) : 0, ioff = 0;
	size_t olen = 0, elen = 0;
	if (!ilen) {
		close(in[1]);
		in[1] = -1;
	}
	struct pollfd p[3] = {
		{.fd = in[1], .events = POLLOUT},
		{.fd = o[0], .events = POLLIN},
		{.fd = e[0], .events = POLLIN},
	};
	int open_fds = 2 + (in[1] >= 0);
	while (open_fds > 0) {
		if (poll(p, 3, 10000) <= 0)
			break;
		if (p[0].fd >= 0 && (p[0].revents & (POLLOUT | POLLERR))) {
			ssize_t n = write(in[1], input + ioff, ilen - ioff);
			if (n > 0)
				ioff += (size_t)n;
			if (n <= 0 || ioff == ilen) {
				close(in[1]);
				p[0].fd = -1;
				open_fds--;
			}
		}
		for (int i = 1; i < 3; i++) {
			if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP)))
				continue;
			char tmp[4096];
			ssize_t n = read(p[i].fd, tmp, sizeof(tmp));
			if (n <= 0) {
				close(p[i].fd);
				p[i].fd = -1;
				open_fds--;
				continue;
			}
			char *dst = i == 1 ? out : errbuf;
			size_t cap = i == 1 ? outsz : errsz;
			size_t *len = i == 1 ? &olen : &elen;
			if (dst && cap) {
				size_t room = cap - 1 - *len;
				size_t k = (size_t)n < room ? (size_t)n : room;
				memcpy(dst + *len, tmp, k);
				*len += k;
				dst[*len] = '\0';
			}
		}
	}
	for (int i = 0; i < 3; i++)
		if (p[i].fd >= 0)
			close(p[i].fd);
	if (out && outsz)
		out[olen] = '\0';
	if (errbuf && errsz)
		errbuf[elen] = '\0';
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static size_t add(char *out, size_t outsz, size_t o, const char *fmt, ...)
	CG_PRINTF(4, 5);
static size_t add(char *out, size_t outsz, size_t o, const char *fmt, ...)
{
	if (o >= outsz)
		return o;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(out + o, outsz - o, fmt, ap);
	va_end(ap);
	return n < 0 ? outsz : o + (size_t)n;
}

/*
 * The decided-connection rules shared by both chains.  Our own verdict
 * marks come first: a packet re-entering after NF_REPEAT must have its
 * mark saved whatever its connmark says now (a metered connection being
 * cut carries the meter connmark and a block mark).
 */
static size_t add_mark_rules(char *out, size_t sz, size_t o,
			     const struct cg_config *c, const char *chain)
{
	uint32_t m = c->mark_mask;
	const uint32_t vals[4] = {c->mark_allow, c->mark_block, c->mark_watch,
				  c->mark_meter};
	const char *ends[4] = {"RETURN", "DROP", "RETURN", "RETURN"};
	for (int i = 0; i < 4; i++) {
		o = add(out, sz, o,
			"-A %s -m mark --mark 0x%x/0x%x -j CONNMARK --save-mark "
			"--nfmask 0x%x --ctmask 0x%x\n",
			chain, vals[i], m, m, m);
		o = add(out, sz, o, "-A %s -m mark --mark 0x%x/0x%x -j %s\n",
			chain, vals[i], m, ends[i]);
	}
	o = add(out, sz, o, "-A %s -m connmark --mark 0x%x/0x%x -j RETURN\n",
		chain, c->mark_allow, m);
	/* Every later packet of a blocked TCP connection, from either end,
	 * is answered with a reset carrying that packet's own
	 * acknowledgement: exactly what its sender expects next, which a
	 * reset we forged from an older packet may no longer be (the
	 * kernel carried a metered or watched connection on without us). */
	o = add(out, sz, o,
		"-A %s -p tcp -m connmark --mark 0x%x/0x%x "
		"-j REJECT --reject-with tcp-reset\n",
		chain, c->mark_block, m);
	o = add(out, sz, o, "-A %s -m connmark --mark 0x%x/0x%x -j DROP\n",
		chain, c->mark_block, m);
	o = add(out, sz, o,
		"-A %s -m connmark --mark 0x%x/0x%x -m conntrack --ctdir REPLY "
		"-j RETURN\n",
		chain, c->mark_watch, m);
	/* A metered connection: the kernel carries it, but lets one packet
	 * per heartbeat period through to us, with its mark restored so
	 * we know it for a heartbeat. */
	unsigned per_min = 60u / (c->meter_interval_s ? c->meter_interval_s : 60);
	o = add(out, sz, o,
		"-A %s -m connmark --mark 0x%x/0x%x -m hashlimit "
		"--hashlimit-upto %u/min --hashlimit-burst 1 --hashlimit-mode "
		"srcip,srcport,dstip,dstport --hashlimit-name cg-meter-%s "
		"--hashlimit-htable-expire %u -j %s\n",
		chain, c->mark_meter, m, per_min ? per_min : 1,
		strcmp(chain, CG_FW_CHAIN_IN) ? "fwd" : "in",
		2000u * (c->meter_interval_s ? c->meter_interval_s : 60) +
			10000u,
		CG_FW_CHAIN_METER);
	o = add(out, sz, o, "-A %s -m connmark --mark 0x%x/0x%x -j RETURN\n",
		chain, c->mark_meter, m);
	return o;
}

static size_t add_queue_target(char *out, size_t sz, size_t o,
			       const struct cg_config *c)
{
	if (c->queue_count > 1)
		o = add(out, sz, o, "-j NFQUEUE --queue-balance %u:%u",
			c->queue_first, c->queue_first + c->queue_count - 1);
	else
		o = add(out, sz, o, "-j NFQUEUE --queue-num %u",
			c->queue_first);
	if (c->fail_open)
		o = add(out, sz, o, " --queue-bypass");
	return add(out, sz, o, "\n");
}

size_t cg_fw_script_install(const struct cg_config *c, int family, char *out,
			    size_t sz)
{
	(void)family; /* the same rules serve IPv4 and IPv6 */
	size_t o = 0;
	o = add(out, sz, o, "*filter\n:%s - [0:0]\n:%s - [0:0]\n:%s - [0:0]\n",
		CG_FW_CHAIN_FWD, CG_FW_CHAIN_IN, CG_FW_CHAIN_METER);
	o = add(out, sz, o,
		"-A %s -j CONNMARK --restore-mark --nfmask 0x%x --ctmask 0x%x\n",
		CG_FW_CHAIN_METER, c->mark_mask, c->mark_mask);
	o = add(out, sz, o, "-A %s ", CG_FW_CHAIN_METER);
	o = add_queue_target(out, sz, o, c);

	o = add_mark_rules(out, sz, o, c, CG_FW_CHAIN_FWD);
	const char *protos[2] = {"tcp", "udp"};
	for (int i = 0; i < 2; i++) {
		o = add(out, sz, o, "-A %s -p %s ", CG_FW_CHAIN_FWD, protos[i]);
		o = add_queue_target(out, sz, o, c);
	}

	/* DNS from the seats to the box's own resolver never crosses
	 * FORWARD; without this chain it would be a way around the lists. */
	o = add_mark_rules(out, sz, o, c, CG_FW_CHAIN_IN);
	for (int i = 0; i < 2; i++) {
		o = add(out, sz, o, "-A %s -p %s --dport 53 ", CG_FW_CHAIN_IN,
			protos[i]);
		o = add_queue_target(out, sz, o, c);
	}

	char wan_in[40] = "", wan_out[40] = "";
	if (c->wan[0]) {
		snprintf(wan_in, sizeof(wan_in), " -i %s", c->wan);
		snprintf(wan_out, sizeof(wan_out), " -o %s", c->wan);
	}
	/* Inserted first so an ACCEPT earlier in FORWARD cannot skip us. */
	o = add(out, sz, o, "-I FORWARD 1 -i %s%s -j %s\n", c->lan, wan_out,
		CG_FW_CHAIN_FWD);
	o = add(out, sz, o, "-I FORWARD 2%s -o %s -j %s\n", wan_in, c->lan,
		CG_FW_CHAIN_FWD);
	o = add(out, sz, o, "-I INPUT 1 -i %s -p udp --dport 53 -j %s\n",
		c->lan, CG_FW_CHAIN_IN);
	o = add(out, sz, o, "-I INPUT 2 -i %s -p tcp --dport 53 -j %s\n",
		c->lan, CG_FW_CHAIN_IN);
	o = add(out, sz, o, "COMMIT\n");

	/* What the gateway sends a seat (a DNS answer, a reset) is spoofed
	 * from the server, in the reply direction of a connection conntrack
	 * knows under its NATed address: tracked, it would clash with that
	 * entry and be dropped.  So it skips conntrack.  A reset towards
	 * the server goes the original direction, matches the entry and
	 * must stay tracked so NAT gives it the WAN address. */
	o = add(out, sz, o, "*raw\n:%s - [0:0]\n", CG_FW_CHAIN_RAW);
	o = add(out, sz, o,
		"-A %s -o %s -m mark --mark 0x%x/0x%x -j CT --notrack\n",
		CG_FW_CHAIN_RAW, c->lan, c->mark_block, c->mark_mask);
	o = add(out, sz, o, "-I OUTPUT 1 -j %s\n", CG_FW_CHAIN_RAW);
	o = add(out, sz, o, "COMMIT\n");
	if (o >= sz)
		return 0;
	return o;
}

static bool family_present(int family)
{
	if (family == 4)
		return true;
	/* No IPv6 in the kernel: nothing to forward, nothing to filter. */
	return access("/proc/net/if_inet6", F_OK) == 0;
}

/* Our chains all carry this prefix (fwrules.h). */
#define OUR_PREFIX "CAFEGUARD-"

static bool is_our_chain_rule(const char *line)
{
	return !strncmp(line, "-A " OUR_PREFIX, 3 + strlen(OUR_PREFIX));
}

/*
 * Builds the removal script from what is installed now, table by table:
 * every rule elsewhere that jumps to one of our chains becomes a -D, and
 * our chains are flushed and deleted.  Taken from the live tables, so it
 * also removes copies left by an instance that was killed.  Returns the
 * script length (0: nothing of ours is installed), or -1 if the tables
 * could not be read.
 */
static int removal_script(enum cg_fw_backend b, int family, char *script,
			  size_t sz, char *errbuf, size_t errsz)
{
	struct tool t = tool_for(b, family);
	size_t savesz = 1024 * 1024;
	char *saved = malloc(savesz);
	if (!saved)
		return -1;
	char *argv[] = {(char *)t.save, NULL};
	int rc = run(argv, NULL, saved, savesz, errbuf, errsz);
	if (rc != 0) {
		free(saved);
		return -1;
	}
	size_t o = 0;
	bool any = false;
	char table[32] = "";
	char chains[8][48];
	size_t nchains = 0, jumps = 0;
	size_t table_start = 0;
	for (char *line = strtok(saved, "\n"); line;
	     line = strtok(NULL, "\n")) {
		if (line[0] == '*') {
			snprintf(table, sizeof(table), "%s", line + 1);
			table_start = o;
			o = add(script, sz, o, "*%s\n", table);
			nchains = jumps = 0;
			continue;
		}
		if (!strcmp(line, "COMMIT")) {
			for (size_t i = 0; i < nchains; i++)
				o = add(script, sz, o, "-F %s\n", chains[i]);
			for (size_t i = 0; i < nchains; i++)
				o = add(script, sz, o, "-X %s\n", chains[i]);
			if (nchains || jumps) {
				o = add(script, sz, o, "COMMIT\n");
				any = true;
			} else {
				o = table_start; /* nothing of ours here */
			}
			continue;
		}
		if (!strstr(line, OUR_PREFIX))
			continue;
		if (!strncmp(line, ":" OUR_PREFIX, 1 + strlen(OUR_PREFIX))) {
			const char *sp = strchr(line, ' ');
			size_t n = sp ? (size_t)(sp - line - 1) : strlen(line + 1);
			if (nchains < 8 && n < sizeof(chains[0])) {
				memcpy(chains[nchains], line + 1, n);
				chains[nchains][n] = '\0';
				nchains++;
			}
			continue;
		}
		if (is_our_chain_rule(line))
			continue; /* inside our chains: goes with -F */
		if (!strncmp(line, "-A ", 3)) {
			o = add(script, sz, o, "-D %s\n", line + 3);
			jumps++;
		}
	}
	free(saved);
	if (o >= sz)
		return -1;
	if (!any)
		return 0;
	script[o] = '\0';
	return (int)o;
}

static int restore(enum cg_fw_backend b, int family, const char *script,
		   struct cg_error *err)
{
	struct tool t = tool_for(b, family);
	char errbuf[1024];
	char *argv[] = {(char *)t.restore, "-w", "--noflush", NULL};
	int rc = run(argv, script, NULL, 0, errbuf, sizeof(errbuf));
	if (rc != 0) {
		size_t n = strlen(errbuf);
		while (n && (errbuf[n - 1] == '\n' || errbuf[n - 1] == ' '))
			errbuf[--n] = '\0';
		return cg_error_set(err, "%s failed (%s): %s", t.restore,
				    rc < 0 ? "not run" : "rules rejected",
				    errbuf[0] ? errbuf : "no message");
	}
	return 0;
}

static int remove_family(const struct cg_config *c, int family,
			 struct cg_error *err)
{
	char *script = malloc(FW_SCRIPT_MAX);
	char errbuf[1024];
	if (!script)
		return cg_error_set(err, "firewall: out of memory");
	int n = removal_script(c->firewall, family, script, FW_SCRIPT_MAX,
			       errbuf, sizeof(errbuf));
	int rc = 0;
	if (n < 0)
		rc = cg_error_set(err, "cannot read the IPv%d filter table "
				       "with %s: %s",
				  family, tool_for(c->firewall, family).save,
				  errbuf);
	else if (n > 0)
		rc = restore(c->firewall, family, script, err);
	free(script);
	return rc;
}

int cg_fw_remove(const struct cg_config *c, struct cg_error *err)
{
	int rc = 0;
	struct cg_error e6;
	if (remove_family(c, 4, err) < 0)
		rc = -1;
	if (family_present(6) && remove_family(c, 6, rc ? &e6 : err) < 0)
		rc = -1;
	return rc;
}

int cg_fw_install(const struct cg_config *c, struct cg_error *err)
{
	if (!c->lan[0])
		return cg_error_set(err, "gateway.lan is not set: the gateway "
					 "needs the interface facing the "
					 "seats");
	/* A daemon killed with -9 leaves its chains; start clean. */
	if (cg_fw_remove(c, err) < 0)
		return -1;
	char *script = malloc(FW_SCRIPT_MAX);
	if (!script)
		return cg_error_set(err, "firewall: out of memory");
	int rc = 0;
	for (int family = 4; family <= 6 && !rc; family += 2) {
		if (!family_present(family))
			continue;
		if (!cg_fw_script_install(c, family, script, FW_SCRIPT_MAX)) {
			rc = cg_error_set(err, "firewall script too long");
			break;
		}
		if (restore(c->firewall, family, script, err) < 0)
			rc = -1;
	}
	free(script);
	if (rc) {
		struct cg_error ignored;
		cg_fw_remove(c, &ignored);
	}
	return rc;
}

bool cg_fw_present(const struct cg_config *c)
{
	char script[4096], errbuf[256];
	for (int family = 4; family <= 6; family += 2) {
		if (!family_present(family))
			continue;
		if (removal_script(c->firewall, family, script, sizeof(script),
				   errbuf, sizeof(errbuf)) != 0)
			return true;
	}
	return false;
}
