/*
 * fwrules: the kernel side.  The gateway installs its own chains with
 * iptables-restore --noflush (IPv4 and IPv6, nft or legacy backend) and
 * removes exactly them on exit; nothing else in the tables is touched.
 *
 * Per packet the chain does, in this order (the order matters: for a
 * queued packet, no rule after the NFQUEUE rule ever runs):
 *   1. packet mark set by our verdict (NF_REPEAT) -> copy it into the
 *      connmark, then RETURN or DROP.  The connmark cannot be set from
 *      the verdict itself on every kernel (no NETLINK_GLUE_CT), hence
 *      packet mark + NF_REPEAT.
 *   2. connmark says allowed  -> RETURN (the rest of FORWARD applies)
 *   3. connmark says blocked  -> DROP
 *   4. connmark says watched and the packet is a reply -> RETURN
 *   5. connmark says metered -> one packet per heartbeat period (per
 *      connection, hashlimit) to the queue with its mark restored, the
 *      rest RETURN
 *   6. TCP and UDP -> NFQUEUE --queue-balance (with --queue-bypass when
 *      fail_open: traffic passes while no daemon listens).
 * Chains: FORWARD (LAN traffic) and INPUT (DNS from the LAN to the box's
 * own resolver) in the filter table, and OUTPUT in the raw table, where
 * the gateway's own answers and resets towards the seats (sent with the
 * block mark) are kept out of connection tracking.
 */
#ifndef CAFEGUARD_FWRULES_H
#define CAFEGUARD_FWRULES_H

#include <stdbool.h>
#include <stddef.h>

#include "cafeguard/config.h"
#include "cafeguard/diag.h"

/* Chain names; nothing else in the tables carries this prefix. */
#define CG_FW_CHAIN_FWD "CAFEGUARD-FWD"
#define CG_FW_CHAIN_IN "CAFEGUARD-IN"
#define CG_FW_CHAIN_RAW "CAFEGUARD-RAW"
#define CG_FW_CHAIN_METER "CAFEGUARD-METER"

/*
 * Writes the iptables-restore input that installs the chains for family
 * 4 or 6 into out.  Returns the length, or 0 if outsz is too small.
 */
size_t cg_fw_script_install(const struct cg_config *cfg, int family,
			    char *out, size_t outsz);

/*
 * Installs the chains for IPv4 and IPv6, first removing any left by a
 * daemon that was killed.  On failure nothing of ours stays installed.
 */
int cg_fw_install(const struct cg_config *cfg, struct cg_error *err);

/*
 * Removes our chains and the jumps to them, in both families and in the
 * configured backend.  Safe to call when nothing is installed.
 */
int cg_fw_remove(const struct cg_config *cfg, struct cg_error *err);

/* True if any chain of ours is present (for tests and `status`). */
bool cg_fw_present(const struct cg_config *cfg);

#endif
