#!/bin/bash
#
# selftest_topology.sh - checks the simulated café of lib.sh without the
# daemon: names, addresses, servers, NAT, the NFQUEUE fail-open/closed
# semantics the daemon tests rely on, the daemon helpers (against a stand-in
# daemon), and that cleanup leaves nothing behind.
#
#   selftest_topology.sh                one run
#   selftest_topology.sh --parallel N   N runs at once (names never collide)
#
# Needs root; see README.md for the packages.
set -eu

here=$(cd "$(dirname "$0")" && pwd)

if [ "${1:-}" = --parallel ]; then
	n=${2:-2}
	logs=$(mktemp -d)
	t0=${EPOCHREALTIME//[!0-9]/}
	pids=()
	for ((i = 1; i <= n; i++)); do
		"$0" >"$logs/$i.log" 2>&1 &
		pids+=($!)
	done
	ok=0 bad=0
	for ((i = 1; i <= n; i++)); do
		if wait "${pids[i - 1]}"; then ok=$((ok + 1)); else bad=$((bad + 1)); fi
		echo "--- run $i: $(tail -n 1 "$logs/$i.log")"
		[ "$bad" -eq 0 ] || tail -n 40 "$logs/$i.log"
	done
	rm -rf "$logs"
	t1=${EPOCHREALTIME//[!0-9]/}
	echo "selftest_topology --parallel: $ok passed, $bad failed ($(((t1 - t0) / 1000)) ms)"
	[ "$bad" -eq 0 ]
	exit
fi

. "$here/lib.sh"

# The checks below assume NAT on; CG_FW may be nft (default) or legacy.
CG_NAT=1
case $CG_FW in
nft) other=legacy ;;
legacy) other=nft ;;
*) echo "selftest_topology: CG_FW must be nft or legacy" >&2; exit 2 ;;
esac

section() { cg_log "== [$(($(cg__now_ms) - CG__T0 / 1000)) ms] $*"; }
# in_subshell CMD...: CMD's cg_fail ends only the subshell (negative tests
# of the helpers themselves).
in_subshell() { ("$@"); }
with_fw() { # BACKEND CMD...
	local CG_FW=$1
	shift
	"$@"
}
gw_empty() { [ -z "$(ip netns pids "$NS_GW")" ]; }

cg_setup

# ----------------------------------------------------------------------
section "structure: names, addresses, no way out"
cg_expect_eq "gw has exactly lo, lan0, seat1, seat2, wan0" "lan0 lo seat1 seat2 wan0" \
	"$(cg_gw ip -o link show | awk -F': ' '{sub(/@.*/, "", $2); print $2}' | sort | xargs)"
cg_expect_eq "inet has exactly eth0 and lo" "eth0 lo" \
	"$(cg_inet ip -o link show | awk -F': ' '{sub(/@.*/, "", $2); print $2}' | sort | xargs)"
cg_expect_eq "inet has no default route (v4)" "" "$(cg_inet ip -4 route show default)"
cg_expect_eq "inet has no default route (v6)" "" "$(cg_inet ip -6 route show default)"
for ns in "$NS_GW" "$NS_INET" "$NS_SEAT1" "$NS_SEAT2"; do
	case $ns in cg-"$CG_RUN"-*) cg_pass "namespace $ns carries the run id" ;;
	*) cg_fail "namespace $ns does not carry the run id $CG_RUN" ;; esac
done
cg_expect_eq "seat1 addresses" "10.77.1.11/24 fd77:1::11/64" \
	"$(cg_seat1 ip -o addr show dev eth0 scope global | awk '{print $4}' | xargs)"
cg_expect_eq "seat2 addresses" "10.77.1.12/24 fd77:1::12/64" \
	"$(cg_seat2 ip -o addr show dev eth0 scope global | awk '{print $4}' | xargs)"
cg_expect_eq "gw lan0 addresses" "10.77.1.1/24 fd77:1::1/64" \
	"$(cg_gw ip -o addr show dev lan0 scope global | awk '{print $4}' | xargs)"
cg_expect_eq "gw wan0 addresses" "198.51.100.2/24 2001:db8:100::2/64" \
	"$(cg_gw ip -o addr show dev wan0 scope global | awk '{print $4}' | xargs)"
cg_expect_eq "gw forwards IPv4 and IPv6" "1 1" \
	"$(cg_gw sysctl -n net.ipv4.ip_forward net.ipv6.conf.all.forwarding | xargs)"
cg_expect_match "seats resolve with the café's dns server" "^nameserver $CG_DNS4\$" \
	"$(cg_seat2 cat /etc/resolv.conf)"

# ----------------------------------------------------------------------
section "HTTP and HTTPS: every vhost, both seats, both families, DNS and --resolve"
for seat in seat1 seat2; do
	for fam in 4 6; do
		for scheme in http https; do
			for name in $CG_VHOSTS; do
				what="$seat IPv$fam $scheme://$name"
				cg_expect_eq "$what via DNS" "vhost=$name" \
					"$(cg_curl_dns "$seat" "$scheme://$name/" "-$fam" -k)"
				cg_expect_eq "$what via --resolve" "vhost=$name" \
					"$(cg_curl "$seat" "$scheme://$name/" "-$fam" -k)"
			done
		done
	done
done
cg_expect_eq "look-alike notblocked.test has its own vhost" "vhost=notblocked.test" \
	"$(cg_curl seat1 https://notblocked.test/)"
cg_expect_eq "unknown name gets the default server" "vhost=default" \
	"$(cg_curl seat1 https://elsewhere.test/ -k)"
cg_expect_eq "bare IPv4 address gets the default server" "vhost=default" \
	"$(cg_curl seat1 "http://$CG_WEB4/")"
cg_expect_eq "bare IPv6 address over TLS gets the default server" "vhost=default" \
	"$(cg_curl seat2 "https://[$CG_WEB6]/")"
cg_expect_eq "any path names the vhost" "vhost=games.test" \
	"$(cg_curl seat2 http://games.test/some/page)"
cg_expect_ok "certificate verifies for deep.sub.blocked.test (no -k)" \
	cg_curl seat1 https://deep.sub.blocked.test/ -6
cg_expect_fail "the certificate is really checked (system CAs only)" \
	cg_seat1 curl -sS --max-time 3 --resolve "allowed.test:443:$CG_WEB4" https://allowed.test/
cg_expect_fail "unknown name fails through DNS (NXDOMAIN)" \
	cg_curl_dns seat1 http://nosuchhost.test/
cg_expect_fail "no server on the dns address's port 80" \
	cg_curl seat1 "http://$CG_DNS4/" --max-time 2

section "/big and keep-alive"
cg_expect_eq "/big is 2 MiB over HTTP" 2097152 \
	"$(cg_curl seat1 http://allowed.test/big -o /dev/null -w '%{size_download}')"
cg_expect_eq "/big is 2 MiB over HTTPS/IPv6" 2097152 \
	"$(cg_curl seat2 https://games.test/big -6 -o /dev/null -w '%{size_download}')"
# cg_curl puts its URL last: ka-1 is fetched first, then ka-2.
cg_expect_eq "two requests share one connection (keep-alive)" "1 0" \
	"$(cg_curl seat1 https://allowed.test/ka-2 -o /dev/null -o /dev/null \
		-w '%{num_connects}\n' https://allowed.test/ka-1 | xargs)"
cg_expect_ok "nginx logged request 2 on the same connection" \
	cg_wait_for 2 grep -q 'ka-2 HTTP/1.1" 200 .* req=2$' "$CG_NGINX_ACCESS_LOG"

# ----------------------------------------------------------------------
section "DNS: UDP and TCP, both servers, both seats"
for name in $CG_VHOSTS; do
	cg_expect_eq "A $name" "$CG_WEB4" "$(cg_dig_short seat1 "$name" A)"
	cg_expect_eq "AAAA $name" "$CG_WEB6" "$(cg_dig_short seat1 "$name" AAAA)"
done
for seat in seat1 seat2; do
	for server in "$CG_DNS4" "$CG_DNS6"; do
		for tr in +notcp +tcp; do
			what="$seat @$server $tr"
			cg_expect_eq "$what A blocked.test" "$CG_WEB4" \
				"$(cg_dig_short "$seat" blocked.test A "@$server" $tr)"
			cg_expect_eq "$what AAAA www.blocked.test" "$CG_WEB6" \
				"$(cg_dig_short "$seat" www.blocked.test AAAA "@$server" $tr)"
			cg_expect_eq "$what NXDOMAIN unknown.test" NXDOMAIN \
				"$(cg_dig_rcode "$seat" unknown.test A "@$server" $tr)"
			cg_expect_eq "$what NXDOMAIN below a known name" NXDOMAIN \
				"$(cg_dig_rcode "$seat" x.allowed.test AAAA "@$server" $tr)"
		done
	done
done
cg_expect_match "answers are authoritative (aa)" "flags: qr aa" "$(cg_dig seat1 games.test)"
cg_expect_eq "peer.test names the peer" "$CG_PEER4" "$(cg_dig_short seat2 peer.test)"
cg_expect_ok "dnsmasq logs queries (TCP one included)" \
	grep -q "query\[AAAA\] www.blocked.test from $CG_SEAT2_6" "$CG_DNSMASQ_LOG"

# ----------------------------------------------------------------------
section "TCP/UDP peer"
cg_peer_tcp 6881
cg_peer_udp 6881
cg_peer_tcp 7000 sink
# A BitTorrent handshake: 19, "BitTorrent protocol", 8 reserved bytes, a
# 20-byte info hash and a 20-byte peer id (binary, NULs included).
bt=$CG_TMP/bt-handshake.bin
{
	printf '\023BitTorrent protocol\0\0\0\0\0\020\0\005'
	printf '\001\002\003\004\005\006\007\010\011\012\013\014\015\016\017\020\021\022\023\024'
	printf -- '-qB4250-abcdefghijkl'
} >"$bt"
cg_expect_eq "handshake is 68 bytes" 68 "$(wc -c <"$bt")"
cg_expect_ok "seat1 TCP/IPv4: the peer echoes the handshake" \
	cmp "$bt" <(cg_nc seat1 tcp "$CG_PEER4" 6881 <"$bt")
cg_expect_ok "seat2 TCP/IPv6: the peer echoes the handshake" \
	cmp "$bt" <(cg_nc seat2 tcp "$CG_PEER6" 6881 <"$bt")
cg_expect_eq "seat1 UDP/IPv4 echo" "d1:ad2:id20:" \
	"$(printf 'd1:ad2:id20:' | cg_nc seat1 udp "$CG_PEER4" 6881 0.5)"
cg_expect_eq "seat2 UDP/IPv6 echo" "ping6" \
	"$(printf 'ping6' | cg_nc seat2 udp "$CG_PEER6" 6881 0.5)"
cg_expect_eq "sink: nothing comes back" "" \
	"$(printf 'to-the-sink' | cg_nc seat1 tcp "$CG_PEER4" 7000 0.5)"
cg_expect_ok "sink: the data arrived" \
	cg_wait_for 2 grep -q to-the-sink "$(cg_peer_data tcp 7000)"
cg_expect_ok "peer data file holds both handshakes" \
	cg_wait_for 2 test "$(wc -c <"$(cg_peer_data tcp 6881)")" -eq 136
cg_expect_match "peer log shows the NATed IPv4 client" "accepting connection from AF=2 $CG_WAN_GW4:" \
	"$(cat "$(cg_peer_log tcp 6881)")"
# socat writes IPv6 addresses in full: fd77:0001:0000:...:0012.
cg_expect_match "peer log shows the seat's IPv6 address" "accepting connection from AF=10 \[fd77:0001:[0:]*:0012\]:" \
	"$(cat "$(cg_peer_log tcp 6881)")"
cg_expect_fail_within 1500 "a closed peer port is refused at once" \
	cg_nc seat1 tcp "$CG_PEER4" 6882 </dev/null

# ----------------------------------------------------------------------
section "NAT on wan0 (IPv4 only)"
probe() { # SEAT FAM PATH -> waits for the access log line, prints its client
	cg_curl "$1" "http://allowed.test/$3" "-$2" >/dev/null
	cg_wait_for 2 grep -q " \"GET /$3 " "$CG_NGINX_ACCESS_LOG"
	grep " \"GET /$3 " "$CG_NGINX_ACCESS_LOG" | awk '{print $1}'
}
cg_expect_eq "NAT on: inet sees the gw's WAN address" "$CG_WAN_GW4" "$(probe seat1 4 nat-on-1)"
cg_expect_eq "IPv6 is never NATed" "$CG_SEAT1_6" "$(probe seat1 6 nat-on-6)"
cg_nat off
cg_expect_eq "NAT off: inet sees seat2 itself (routed back via gw)" "$CG_SEAT2_4" "$(probe seat2 4 nat-off)"
cg_nat on
cg_conntrack_flush
cg_expect_eq "NAT on again" "$CG_WAN_GW4" "$(probe seat2 4 nat-on-2)"

# ----------------------------------------------------------------------
# The daemon queues with --queue-bypass when fail_open = true.  With no
# program bound to the queue the kernel then accepts; without the flag it
# drops.  Both backends, both families.
section "NFQUEUE without a listener: --queue-bypass passes, without it drops"
for be in nft legacy; do
	for f in 4 6; do
		CG_FW=$be cg_iptables $f -I FORWARD 1 -i lan0 -o wan0 -j NFQUEUE --queue-num 0 --queue-bypass
	done
	cg_expect_eq "$be bypass: IPv4 passes" "vhost=allowed.test" "$(cg_curl seat1 http://allowed.test/ -4)"
	cg_expect_eq "$be bypass: IPv6 passes" "vhost=allowed.test" "$(cg_curl seat2 https://allowed.test/ -6)"
	cg_expect_eq "$be bypass: DNS passes" "$CG_WEB4" "$(cg_dig_short seat1 games.test)"
	cg_expect_match "$be bypass: the packets did go through the NFQUEUE rule" "^ *[1-9][0-9]* .*NFQUEUE" \
		"$(CG_FW=$be cg_iptables 4 -L FORWARD -v -n -x 2>/dev/null)"
	for f in 4 6; do
		CG_FW=$be cg_iptables $f -R FORWARD 1 -i lan0 -o wan0 -j NFQUEUE --queue-num 0
	done
	cg_expect_fail_within 2500 "$be no bypass: IPv4 connection fails" \
		cg_curl seat1 http://allowed.test/ -4 --connect-timeout 1 --max-time 2
	cg_expect_fail_within 2500 "$be no bypass: IPv6 connection fails" \
		cg_curl seat2 https://allowed.test/ -6 --connect-timeout 1 --max-time 2
	cg_expect_fail_within 2500 "$be no bypass: DNS gets no answer" \
		cg_dig seat1 games.test
	for f in 4 6; do
		CG_FW=$be cg_iptables $f -D FORWARD 1
	done
	cg_expect_eq "$be rule removed: traffic flows again" "vhost=games.test" "$(cg_curl seat2 http://games.test/ -6)"
done

# ----------------------------------------------------------------------
section "daemon helpers (with a stand-in daemon)"
# The stand-in honours the contract cg_daemon_start relies on: it reads
# firewall and fail_open from its config, installs CAFEGUARD-FWD in the gw
# (an NFQUEUE it never reads), removes it on SIGTERM.
fake=$CG_TMP/fake-cafeguardd
cat >"$fake" <<'EOF'
#!/bin/bash
conf= mode=normal
while [ $# -gt 0 ]; do
	case $1 in -c) conf=$2; shift ;; -v) ;; *) mode=$1 ;; esac
	shift
done
echo "fake cafeguardd: conf=$conf mode=$mode"
[ "$mode" = --die ] && { echo "fake: bad config" >&2; exit 3; }
fw=$(sed -n 's/.*firewall = "\([a-z]*\)".*/\1/p' "$conf")
fo=$(sed -n 's/.*fail_open = \([a-z]*\);.*/\1/p' "$conf")
bypass=
[ "$fo" = true ] && bypass=--queue-bypass
sfx=-$fw
[ "$fw" = auto ] && sfx=
remove() {
	for t in iptables ip6tables; do
		$t$sfx -w -D FORWARD -i lan0 -o wan0 -j CAFEGUARD-FWD 2>/dev/null
		$t$sfx -w -F CAFEGUARD-FWD 2>/dev/null
		$t$sfx -w -X CAFEGUARD-FWD 2>/dev/null
	done
	return 0
}
remove # what a killed instance left behind
[ "$mode" = --hang ] && exec sleep 60
for t in iptables ip6tables; do
	printf '*filter\n:CAFEGUARD-FWD - [0:0]\n-A CAFEGUARD-FWD -p tcp -j NFQUEUE --queue-balance 0:1 %s\n-A CAFEGUARD-FWD -p udp -j NFQUEUE --queue-balance 0:1 %s\n-I FORWARD 1 -i lan0 -o wan0 -j CAFEGUARD-FWD\nCOMMIT\n' \
		"$bypass" "$bypass" | $t$sfx-restore -w --noflush || exit 1
done
echo "fake cafeguardd: rules installed ($fw, fail_open=$fo)"
case $mode in
--ignore-term) trap '' TERM ;;
--exit-code) trap 'remove; exit 5' TERM ;;
*) trap 'remove; echo "fake cafeguardd: stopped"; exit 0' TERM ;;
esac
while :; do sleep 1 & wait $!; done
EOF
chmod +x "$fake"
CAFEGUARDD=$fake
conf=$CG_TMP/cafeguard.conf
cg_daemon_conf "$conf" 'events = { file = "'"$CG_EVENTS"'"; };'
cg_expect_match "config has the gateway section" \
	'^gateway = \{ lan = "lan0"; wan = "wan0"; fail_open = true; firewall = "'"$CG_FW"'"; \};$' "$(cat "$conf")"
cg_expect_match "config has the caller's text" "^events = \{ file = \"$CG_TMP/events.jsonl\"; \};\$" "$(cat "$conf")"
cg_daemon_conf "$CG_TMP/stdin.conf" - <<EOF
categories = ( { name = "t"; lists = [ "$(cg_list_file t.domains blocked.test games.test)" ]; } );
EOF
cg_expect_match "config text from stdin" '^categories = \( \{ name = "t"' "$(cat "$CG_TMP/stdin.conf")"
cg_expect_eq "list file written" "blocked.test games.test" "$(xargs <"$CG_TMP/lists/t.domains")"

cg_daemon_start "$conf"
cg_expect_ok "ready: CAFEGUARD-FWD present (v4 and v6)" cg_fw_has_chain CAFEGUARD-FWD
cg_expect_fail "not in the $other backend" with_fw $other cg_fw_has_chain CAFEGUARD-FWD 4
cg_expect_match "daemon got -c CONF -v" "conf=$conf mode=normal" "$(cg_daemon_log)"
cg_expect_eq "fail-open, nobody on the queue: traffic passes" "vhost=allowed.test" "$(cg_curl seat1 https://allowed.test/)"
cg_expect_ok "cg_daemon_stop: clean exit" cg_daemon_stop
cg_expect_fail "the daemon removed its chain" cg_fw_has_chain CAFEGUARD-FWD 4

cg_daemon_start "$conf"
cg_daemon_kill9
cg_expect_ok "after kill -9 the chain stays" cg_fw_has_chain CAFEGUARD-FWD
cg_expect_eq "after kill -9, fail-open: traffic passes" "vhost=games.test" "$(cg_curl seat2 http://games.test/ -6)"

CG_FAIL_OPEN=false cg_daemon_conf "$CG_TMP/closed.conf"
cg_daemon_start "$CG_TMP/closed.conf" # removes the killed instance's rules first
cg_daemon_kill9
cg_expect_fail_within 2500 "after kill -9, fail-closed: traffic stops" \
	cg_curl seat1 http://allowed.test/ --connect-timeout 1 --max-time 2
cg_daemon_start "$conf"
cg_daemon_stop
cg_expect_eq "restart + stop: traffic is back" "vhost=allowed.test" "$(cg_curl seat1 http://allowed.test/)"

CG_FW=$other cg_daemon_conf "$CG_TMP/other.conf"
CG_FW=$other cg_daemon_start "$CG_TMP/other.conf"
cg_expect_ok "$other backend: chain found with CG_FW=$other" with_fw $other cg_fw_has_chain CAFEGUARD-FWD
cg_expect_fail "$other backend: nothing in $CG_FW" cg_fw_has_chain CAFEGUARD-FWD 4
cg_daemon_stop

cg_expect_fail_within 2000 "start fails fast when the daemon exits at once" \
	in_subshell cg_daemon_start "$conf" --die
cg_expect_match "...with the daemon's log shown" "fake: bad config" "$(cat "$(cg__outfile time)")"
CG_DAEMON_TIMEOUT=1 cg_expect_fail_within 3000 "start fails after CG_DAEMON_TIMEOUT when never ready" \
	in_subshell cg_daemon_start "$conf" --hang
cg_expect_ok "...and the half-started daemon is stopped" cg_wait_for 2 gw_empty
CAFEGUARDD=/nonexistent cg_expect_fail "start fails without an executable CAFEGUARDD" \
	in_subshell cg_daemon_start "$conf"
cg_daemon_start "$conf" --exit-code
rc=0
cg_daemon_stop 2>/dev/null || rc=$?
cg_expect_eq "cg_daemon_stop returns the exit status" 5 "$rc"
cg_daemon_start "$conf" --ignore-term
rc=0
CG_DAEMON_TIMEOUT=0.5 cg_daemon_stop 2>/dev/null || rc=$?
cg_expect_eq "cg_daemon_stop kills a daemon that ignores SIGTERM" 124 "$rc"
cg_expect_fail "...and it is gone" cg_daemon_running
cg_expect_ok "no stray process in the gw" cg_wait_for 2 gw_empty

# ----------------------------------------------------------------------
section "cleanup of failed and kept runs"
# A run whose nginx cannot start: cg_setup must exit non-zero and leave
# nothing behind.
fakebin=$CG_TMP/fakebin
mkdir -p "$fakebin"
printf '#!/bin/sh\necho "fake nginx: refusing to start" >&2\nexit 1\n' >"$fakebin/nginx"
chmod +x "$fakebin/nginx"
rc=0
out=$(PATH=$fakebin:$PATH bash -c ". '$CG_LIB'; cg_setup" 2>&1) || rc=$?
cg_expect_eq "setup with a broken nginx exits 1" 1 "$rc"
cg_expect_match "...and says why" "nginx exited during startup" "$out"
cg_expect_match "...and shows nginx's output" "fake nginx: refusing" "$out"
run=$(sed -n 's/^cg\[\([^]]*\)\].*/\1/p' <<<"$out" | head -n 1)
cg_expect_ok "...leaving no namespace" test -z "$(ip netns list | grep "cg-$run-" || true)"
cg_expect_ok "...no /etc/netns entry" test -z "$(compgen -G "/etc/netns/cg-$run-*" || true)"
cg_expect_fail "...no temp dir" test -e "${TMPDIR:-/tmp}/cafeguard-netns.$run"

# CG_KEEP=1 keeps a run (processes too) and tells how to remove it.
out=$(CG_KEEP=1 bash -c ". '$CG_LIB'; cg_setup" 2>&1)
kept=$(sed -n 's/.*remove: bash .* cleanup //p' <<<"$out")
krun=${kept##*.}
cg_expect_ok "kept run: namespaces still there" test -e "/run/netns/cg-$krun-inet"
cg_expect_ok "kept run: nginx still answers" \
	ip netns exec "cg-$krun-seat1" curl -sS --max-time 2 "http://$CG_WEB4/"
cg_expect_ok "kept run: removed by 'lib.sh cleanup DIR'" bash "$CG_LIB" cleanup "$kept"
cg_expect_ok "...no namespace left" test -z "$(ip netns list | grep "cg-$krun-" || true)"
cg_expect_fail "...no temp dir" test -e "$kept"

# ----------------------------------------------------------------------
section "cleanup of this run"
nslist=$CG__NSLIST
tmp=$CG_TMP
procs=$(awk '{print $1}' "$CG_TMP/pids"; for ns in $nslist; do ip netns pids "$ns"; done)
cg_expect_ok "there were processes to stop" test -n "$procs"
cg_cleanup
cg_cleanup # twice is harmless
for ns in $nslist; do
	cg_expect_fail "namespace $ns is gone" test -e "/run/netns/$ns"
	cg_expect_fail "/etc/netns/$ns is gone" test -e "/etc/netns/$ns"
done
for p in $procs; do
	cg_expect_fail "process $p is gone" cg__alive "$p"
done
cg_expect_fail "temp dir $tmp is gone" test -e "$tmp"
