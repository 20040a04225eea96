#!/bin/bash
# A simulated café: two seats, the gateway with cafeguardd inline, and an
# "internet" (nginx with name-based sites, a DNS server) — all in network
# namespaces on this machine; no packet leaves it.  The gateway runs with
# the shipped lists (conf/cafeguard.conf's rules); the simulated internet
# answers for real names from those lists, so the demo shows what a café
# would see.  Everything is torn down at the end.
#
#   tests/netns/demo.sh [BUILD_DIR]      (as root; default BUILD_DIR=build)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${1:-build}
case $build in /*) ;; *) build=$top/$build ;; esac
export CAFEGUARDD=$build/cafeguardd CAFEGUARDCTL=$build/cafeguardctl
[ -x "$CAFEGUARDD" ] || { echo "demo: build first ($CAFEGUARDD missing)" >&2; exit 1; }

# Sites of the simulated internet: two ordinary ones and names the shipped
# lists carry (adult, gambling, gore, a VPN).
export CG_VHOSTS="www.wikipedia.org www.khanacademy.org pornhub.com www.10bet.com bestgore.com nordvpn.com"
. "$here/lib.sh"

say() { printf '%s\n' "$*"; }
row() { printf '  %-7s %-44s %s\n' "$1" "$2" "$3"; }

say "cafeguard demo: building a café in network namespaces..."
cg_setup
cg_daemon_conf "$CG_TMP/cafeguard.conf" \
	"lists = (" \
	"  { name = \"adult\";     files = [ \"$top/rules/lists/adult.hosts\" ]; }," \
	"  { name = \"gambling\";  files = [ \"$top/rules/lists/gambling.hosts\" ]; }," \
	"  { name = \"violence\";  files = [ \"$top/rules/lists/violence.domains\" ]; }," \
	"  { name = \"proxy-vpn\"; files = [ \"$top/rules/lists/proxy-vpn-doh.domains\" ]; }" \
	");" \
	"block = { lists = [ \"adult\", \"gambling\", \"violence\", \"proxy-vpn\" ]; apps = [ \"BitTorrent\", \"Tor\" ]; };" \
	"events = { file = \"$CG_TMP/events.jsonl\"; };"
cg_daemon_start "$CG_TMP/cafeguard.conf"
say ""
say "The gateway is inline between the seats and the internet:"
grep -E 'list |running' "$CG_DAEMON_LOG" | sed 's/^cafeguardd: /  /'
say ""
say "What the seats try, and what happens:"

web() { # SEAT URL
	local out ms rc=0
	ms=$(cg_time_ms cg_curl_dns "$1" "$2" -4) || rc=$?
	out=$(cat "$CG_TMP/time.out")
	if [ $rc -eq 0 ]; then
		row "$1" "opens $2" "loads (${out#vhost=})"
	elif grep -q 'resolve' <<<"$out"; then
		row "$1" "opens $2" "blocked: the name does not resolve (${ms} ms)"
	else
		row "$1" "opens $2" "blocked: connection reset after ${ms} ms"
	fi
}
pinned() { # SEAT URL: the address is known already (no DNS), as after a cache
	local ms rc=0
	ms=$(cg_time_ms cg_curl "$1" "$2") || rc=$?
	if [ $rc -eq 0 ]; then
		row "$1" "opens $2 (no DNS)" "loads"
	else
		row "$1" "opens $2 (no DNS)" "blocked: connection reset after ${ms} ms"
	fi
}
web seat1 https://www.wikipedia.org/
web seat1 https://www.khanacademy.org/
web seat2 http://pornhub.com/
web seat2 https://www.10bet.com/
web seat1 https://bestgore.com/
pinned seat2 https://pornhub.com/
pinned seat1 http://www.10bet.com/
web seat2 https://nordvpn.com/
cg_peer_tcp 6881 sink
{
	printf '\023BitTorrent protocol\0\0\0\0\0\020\0\005'
	printf 'aaaaaaaaaaaaaaaaaaaa-qB4250-abcdefghijkl'
	sleep 0.5
} | cg_nc seat1 tcp "$CG_PEER4" 6881 1 >/dev/null 2>&1 || true
if [ -s "$(cg_peer_data tcp 6881)" ]; then
	row seat1 "starts a BitTorrent download" "passed (unexpected)"
else
	row seat1 "starts a BitTorrent download" "blocked: cut before its first byte"
fi

cg_daemon_stop >/dev/null || true
say ""
say "The operator's log of blocks ($CG_TMP/events.jsonl):"
# Each worker hands its events to the logger on its own ring, so the
# file is in order per worker; the view is sorted by time.
sort "$CG_TMP/events.jsonl" | grep '"event":"block"' |
	sed -E 's/.*"time":"[^T]*T([0-9:]{8})[^"]*".*"client":"([^"]*)".*"host":"([^"]*)".*"reason":"([^"]*)","list":"([^"]*)".*"action":"([^"]*)".*/  \1  seat \2  \3  (\4 \5, \6)/;
	       s/.*"time":"[^T]*T([0-9:]{8})[^"]*".*"client":"([^"]*)".*"reason":"app","list":"([^"]*)".*"action":"([^"]*)".*/  \1  seat \2  \3  (app, \4)/'
say ""
say "The gateway stopped cleanly and removed its kernel rules; tearing the café down."
