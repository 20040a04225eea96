#!/bin/bash
# What traffic does when the daemon is gone, and how the daemon treats the
# kernel rules it shares the box with:
#   - kill -9 with fail_open = true: traffic passes (--queue-bypass);
#     with fail_open = false: it does not;
#   - a restart replaces the chains a killed daemon left, without
#     duplicates, and filters again;
#   - `cafeguardctl firewall remove` removes exactly our chains;
#   - both iptables backends (nft, legacy);
#   - a bad configuration or a missing interface: a clear error, exit 1,
#     and nothing installed;
#   - a second daemon on the same queues fails with a clear message and
#     leaves the first one's rules alone.
set -eu
. "$(dirname "$0")/lib.sh"

cg_setup

LIST=$(cg_list_file adult.list blocked.test)
conf() { # FILE FAIL_OPEN BACKEND
	CG_FAIL_OPEN=$2 CG_FW=$3 cg_daemon_conf "$1" \
		"categories = ( { name = \"adult\"; lists = [ \"$LIST\" ]; } );" \
		"profiles = ( { name = \"all\"; block = { categories = [ \"adult\" ]; }; } );"
}
jumps() { # BACKEND FAMILY: jumps from FORWARD to our chain
	CG_FW=$1 cg_fw_save "$2" | grep -c -- '-A FORWARD .*-j CAFEGUARD-FWD' || true
}
ours_left() { # BACKEND: lines of ours in any table, both families
	local n=0 f
	for f in 4 6; do
		n=$((n + $(CG_FW=$1 cg_fw_save $f | grep -c CAFEGUARD || true)))
	done
	echo $n
}
blocked_is_blocked() { ! cg_curl seat1 http://blocked.test/ >/dev/null 2>&1; }

# ---- fail_open = true, nft backend
CG_FW=nft
conf "$CG_TMP/open.conf" true nft
cg_daemon_start "$CG_TMP/open.conf"
cg_expect_ok "running: a listed site is blocked" blocked_is_blocked
cg_daemon_kill9
cg_expect_eq "kill -9 leaves the chains (IPv4 jumps)" 2 "$(jumps nft 4)"
cg_expect_eq "fail_open: an allowed site loads with the daemon dead" vhost=allowed.test \
	"$(cg_curl seat1 http://allowed.test/)"
cg_expect_eq "fail_open: DNS answers with the daemon dead" 198.51.100.10 \
	"$(cg_dig_short seat1 allowed.test)"
cg_daemon_start "$CG_TMP/open.conf"
cg_expect_eq "a restart replaces the stale chains (IPv4 jumps)" 2 "$(jumps nft 4)"
cg_expect_eq "a restart replaces the stale chains (IPv6 jumps)" 2 "$(jumps nft 6)"
cg_expect_ok "after the restart a listed site is blocked again" blocked_is_blocked

# ---- a second daemon on the same queues
out=$(cg_gw "$CAFEGUARDD" -c "$CG_TMP/open.conf" 2>&1) && cg_fail "a second daemon started"
cg_expect_match "a second daemon says the queue is taken" 'already bound by another process' "$out"
cg_expect_eq "the first daemon's chains are untouched" 2 "$(jumps nft 4)"
cg_expect_ok "the first daemon still blocks" blocked_is_blocked
cg_expect_ok "clean stop" cg_daemon_stop
cg_expect_eq "nothing of ours is left (nft)" 0 "$(ours_left nft)"

# ---- fail_open = false, legacy backend
CG_FW=legacy
conf "$CG_TMP/closed.conf" false legacy
cg_daemon_start "$CG_TMP/closed.conf"
cg_expect_eq "legacy backend: chains installed" 2 "$(jumps legacy 4)"
cg_expect_eq "legacy backend: nothing in the nft tables" 0 "$(ours_left nft)"
cg_expect_ok "legacy backend: a listed site is blocked" blocked_is_blocked
cg_expect_eq "legacy backend: an allowed site loads" vhost=allowed.test \
	"$(cg_curl seat1 https://allowed.test/)"
cg_daemon_kill9
cg_expect_fail "fail closed: an allowed site does not load with the daemon dead" \
	cg_curl seat1 http://allowed.test/ --max-time 1
cg_expect_fail "fail closed: DNS gets no answer with the daemon dead" \
	cg_dig seat1 allowed.test
cg_expect_eq "firewall status sees the stale chains" installed \
	"$(cg_gw "$CAFEGUARDCTL" firewall -c "$CG_TMP/closed.conf" status || true)"
cg_expect_ok "cafeguardctl firewall remove" \
	cg_gw "$CAFEGUARDCTL" firewall -c "$CG_TMP/closed.conf" remove
cg_expect_eq "nothing of ours is left (legacy)" 0 "$(ours_left legacy)"
cg_expect_eq "after the removal traffic passes" vhost=allowed.test \
	"$(cg_curl seat1 http://allowed.test/)"
st=0
cg_gw "$CAFEGUARDCTL" firewall -c "$CG_TMP/closed.conf" status >/dev/null || st=$?
cg_expect_eq "firewall status says not installed (exit 3)" 3 "$st"

# ---- refusals: nothing installed, a clear message, exit 1
CG_FW=nft
printf 'gateway = { lan = "lan0"; firewall = "nft"; };\nqueue = { count = 1; };\n' >"$CG_TMP/bad.conf"
printf 'categories = ( { name = "x"; lists = [ "missing.list" ]; } );\nprofiles = ( { name = "all"; block = { categories = [ "x" ]; }; } );\n' >>"$CG_TMP/bad.conf"
rc=0
out=$(cg_gw "$CAFEGUARDD" -c "$CG_TMP/bad.conf" 2>&1) || rc=$?
cg_expect_eq "a missing list file: exit 1" 1 "$rc"
cg_expect_match "a missing list file: the file is named" 'missing.list: error: cannot open list' "$out"
cg_expect_match "a missing list file: the config line is named" 'bad.conf:3: note: category "x" declared here' "$out"
cg_expect_eq "a missing list file: nothing installed" 0 "$(ours_left nft)"

printf 'gateway = { lan = "lan9"; firewall = "nft"; };\n' >"$CG_TMP/noif.conf"
rc=0
out=$(cg_gw "$CAFEGUARDD" -c "$CG_TMP/noif.conf" 2>&1) || rc=$?
cg_expect_eq "a missing LAN interface: exit 1" 1 "$rc"
cg_expect_match "a missing LAN interface: named" 'gateway.lan: interface "lan9": No such device' "$out"
cg_expect_eq "a missing LAN interface: nothing installed" 0 "$(ours_left nft)"

rc=0
out=$(cg_gw "$CAFEGUARDD" -c "$CG_TMP/open.conf" --bogus 2>&1) || rc=$?
cg_expect_eq "an unknown option: exit 2" 2 "$rc"
cg_expect_match "an unknown option: usage shown" 'usage: cafeguardd' "$out"
