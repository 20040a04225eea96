#!/bin/bash
# Forwarding through the gateway, in the simulated café of
# tests/netns/lib.sh, measured three ways in one run:
#   plain      the gateway forwards, no queue (the ceiling)
#   queue-all  every TCP/UDP packet through an accept-all netfilter queue
#              (bench_nfq_accept: the daemon's queue code, no inspection)
#   cafeguardd the daemon with the shipped lists and app blocks
# and printed as ratios to `plain`, since absolute numbers depend on the
# machine (here seats, gateway and servers share its cores).
#
#   tests/bench/bench_forward.sh [BUILD_DIR]     (root; a benchmark, not a test)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${1:-$top/build}
export CAFEGUARDD=$build/cafeguardd CAFEGUARDCTL=$build/cafeguardctl
ACCEPT=$build/tests/bench_nfq_accept
[ -x "$ACCEPT" ] || { echo "build first: $ACCEPT missing" >&2; exit 1; }
. "$top/tests/netns/lib.sh"

BULK_MB=${BULK_MB:-1024}
CONNS=${CONNS:-400}
QUERIES=${QUERIES:-1000}

cg_setup
# A sparse file: nginx sends zeros with sendfile, so the server is not the
# bottleneck.
truncate -s "${BULK_MB}M" "$CG_TMP/nginx/big.bin"
for i in $(seq "$QUERIES"); do echo "allowed.test A"; done >"$CG_TMP/queries"

bulk() { # SCHEME: MB/s of one download
	cg_curl seat1 "$1://allowed.test/big" --max-time 120 -o /dev/null \
		-w '%{speed_download}' | awk '{printf "%.0f", $1 / 1048576}'
}
conns() { # new HTTP connections per second, one request each
	local args=() i t0 t1
	for i in $(seq "$CONNS"); do args+=(http://allowed.test/); done
	t0=$(cg__now_ms)
	cg_seat1 curl -s --noproxy '*' -H 'Connection: close' \
		--resolve allowed.test:80:$CG_WEB4 "${args[@]}" >/dev/null
	t1=$(cg__now_ms)
	echo $((CONNS * 1000 / (t1 - t0)))
}
dnsq() { # DNS queries per second, one after the other from one socket
	local t0 t1
	t0=$(cg__now_ms)
	cg_seat1 dig +tries=1 +time=1 @$CG_DNS4 -f "$CG_TMP/queries" >/dev/null
	t1=$(cg__now_ms)
	echo $((QUERIES * 1000 / (t1 - t0)))
}
run() { # LABEL: all figures, best of 3 for each
	local b=0 t=0 c=0 d=0 x i
	for i in 1 2 3; do
		x=$(bulk http); [ "$x" -gt "$b" ] && b=$x
		x=$(bulk https); [ "$x" -gt "$t" ] && t=$x
		x=$(conns); [ "$x" -gt "$c" ] && c=$x
		x=$(dnsq); [ "$x" -gt "$d" ] && d=$x
	done
	echo "$1 $b $t $c $d"
}

results=()
results+=("$(run plain)")

# Every TCP/UDP packet through two accept-all queues.
# Queues belong to a network namespace: the tool runs in the gateway's.
ip netns exec "$NS_GW" "$ACCEPT" 0 2 >"$CG_TMP/accept.out" 2>&1 &
apid=$!
cg_wait_for 5 grep -q ready "$CG_TMP/accept.out" || { cat "$CG_TMP/accept.out"; exit 1; }
for f in 4 6; do
	cg_iptables $f -I FORWARD -p tcp -j NFQUEUE --queue-balance 0:1 --queue-bypass
	cg_iptables $f -I FORWARD -p udp -j NFQUEUE --queue-balance 0:1 --queue-bypass
done
results+=("$(run queue-all)")
for f in 4 6; do
	cg_iptables $f -D FORWARD -p tcp -j NFQUEUE --queue-balance 0:1 --queue-bypass
	cg_iptables $f -D FORWARD -p udp -j NFQUEUE --queue-balance 0:1 --queue-bypass
done
kill -TERM $apid
wait $apid || true

# The shipped rule set, every client on the strictest profile (kids:
# its schedule and budget keep allowed connections metered).  A weekday
# afternoon on the test clock, so the night window never blocks the run.
rules=$(realpath --relative-to="$CG_TMP" "$top/rules/default.conf")
# With the operator's store, as a café runs it: every allowed connection
# is counted (an event per connection through the logger).
cg_daemon_conf "$CG_TMP/cafeguard.conf" "@include \"$rules\"" \
	"log = { database = \"$CG_TMP/varlib/events.db\"; };"
cg_daemon_start "$CG_TMP/cafeguard.conf" --fake-time "2026-11-23 15:00"
results+=("$(run cafeguardd)")
cg_daemon_stop || true

echo
echo "forwarding through the gateway ($(nproc) cores shared by seats, gateway and servers;"
echo "best of 3; ratios to plain forwarding in the same run)"
printf '%-12s %16s %17s %18s %18s\n' mode "HTTP MB/s" "HTTPS MB/s" \
	"HTTP conns/s" "DNS queries/s"
read -r _ pb pt pc pd <<<"${results[0]}"
ratio() { awk "BEGIN{printf \"%.2f\", $1/$2}"; }
for r in "${results[@]}"; do
	read -r l b t c d <<<"$r"
	printf '%-12s %9s (%4s) %10s (%4s) %11s (%4s) %11s (%4s)\n' "$l" \
		"$b" "$(ratio "$b" "$pb")" "$t" "$(ratio "$t" "$pt")" \
		"$c" "$(ratio "$c" "$pc")" "$d" "$(ratio "$d" "$pd")"
done
echo
sed 's/^/accept-all /' "$CG_TMP/accept.out"
grep 'worker [0-9]: [0-9]* packets' "$CG_DAEMON_LOG" | sed 's/^cafeguardd: /cafeguardd /'
