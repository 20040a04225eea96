#!/bin/bash
# The daemon inline between real clients (curl, dig, socat on the seats)
# and real servers (nginx vhosts, dnsmasq) in the simulated café of
# lib.sh.  What a user of the box must see:
#   - unlisted sites load (HTTP, HTTPS, IPv4, IPv6), DNS answers normally;
#   - a listed name's DNS query is answered NXDOMAIN within 100 ms, over
#     UDP (IPv4 and IPv6) and TCP, and on a port other than 53;
#   - HTTP and HTTPS to a listed name, with DNS out of the way (--resolve),
#     fail within 1 s with a reset, not a timeout;
#   - subdomains of a listed name are blocked, look-alikes are not;
#   - the second request of a keep-alive connection is read too;
#   - a blocked application (BitTorrent) is cut before its first byte;
#   - every block is an event with list, entry, file and line;
#   - after a clean stop, no chain of the daemon is left in any table.
set -eu
. "$(dirname "$0")/lib.sh"

cg_setup

LIST=$(cg_list_file adult.list "# test list" blocked.test "" "games.test   # inline comment")
cg_daemon_conf "$CG_TMP/cafeguard.conf" \
	"categories = ( { name = \"adult\"; lists = [ \"$LIST\" ]; } );" \
	"profiles = ( { name = \"all\"; block = { categories = [ \"adult\" ]; apps = [ \"BitTorrent\" ]; }; } );" \
	"events = { file = \"$CG_TMP/events.jsonl\"; };"
cg_daemon_start "$CG_TMP/cafeguard.conf"

# ---- allowed traffic
for fam in 4 6; do
	body=$(cg_curl seat1 http://allowed.test/ -$fam)
	cg_expect_eq "HTTP to an unlisted site loads (IPv$fam)" vhost=allowed.test "$body"
	body=$(cg_curl seat2 https://allowed.test/ -$fam)
	cg_expect_eq "HTTPS to an unlisted site loads (IPv$fam)" vhost=allowed.test "$body"
	body=$(cg_curl seat1 https://notblocked.test/ -$fam)
	cg_expect_eq "a look-alike of a listed name loads (IPv$fam)" vhost=notblocked.test "$body"
done
cg_expect_eq "DNS for an unlisted name answers" 198.51.100.10 "$(cg_dig_short seat1 allowed.test A)"
cg_expect_eq "DNS AAAA over IPv6 answers" 2001:db8:100::10 \
	"$(cg_dig_short seat1 allowed.test AAAA @$CG_DNS6)"
cg_expect_eq "DNS over TCP answers" 198.51.100.10 "$(cg_dig_short seat1 allowed.test A +tcp)"
cg_expect_eq "a 2 MB download passes whole" 2097152 \
	"$(cg_curl seat1 https://allowed.test/big -o /dev/null -w '%{size_download}')"

# ---- DNS blocks: NXDOMAIN within 100 ms
dns_nx() { # DESC NAME [dig args]
	local desc=$1 ms rcode
	shift
	ms=$(cg_time_ms cg_dig_rcode seat1 "$@") || cg_fail "$desc: no answer"
	rcode=$(cat "$CG_TMP/time.out")
	cg_expect_eq "$desc: NXDOMAIN" NXDOMAIN "$rcode"
	[ "$ms" -lt 100 ] || cg_fail "$desc: answered after $ms ms (limit 100)"
	cg_pass "$desc: answered in $ms ms"
}
dns_nx "listed name over UDP" blocked.test A
dns_nx "subdomain over UDP, IPv6 server, AAAA" www.blocked.test AAAA @$CG_DNS6
dns_nx "deep subdomain over TCP" deep.sub.blocked.test A +tcp
dns_nx "listed name in upper case with a trailing dot" WWW.BLOCKED.TEST. A
cg_expect_eq "a look-alike is answered normally" 198.51.100.10 \
	"$(cg_dig_short seat1 notblocked.test A)"
# DNS on any socket: a resolver on port 5353 (the peer echoes the query
# back; the gateway answers first for a listed name).
cg_peer_udp 5353 echo
dns_nx "listed name to a resolver on port 5353" blocked.test A @$CG_PEER4 -p 5353
# The same socket, one allowed and one listed query (glibc sends A and
# AAAA from one port): both are judged.
out=$(cg_in seat1 dig +time=1 +tries=1 -b 10.77.1.11#40053 @$CG_DNS4 allowed.test A \
	-b 10.77.1.11#40053 @$CG_DNS4 www.blocked.test A 2>&1 | grep -o 'status: [A-Z]*' | tr '\n' ' ')
cg_expect_eq "two queries from one socket: the second is still judged" \
	"status: NOERROR status: NXDOMAIN " "$out"

# DNS to the box's own resolver (INPUT, not FORWARD): a café box often
# runs one for its seats.
cg_gw dnsmasq --no-resolv --no-hosts --bind-interfaces --listen-address=$CG_GW4 \
	--port=53 --host-record=allowed.test,198.51.100.10 --host-record=blocked.test,198.51.100.10 \
	--pid-file="$CG_TMP/gw-dnsmasq.pid" --log-facility="$CG_TMP/gw-dnsmasq.log"
cg_expect_eq "the gateway's own resolver answers an unlisted name" 198.51.100.10 \
	"$(cg_dig_short seat1 allowed.test A @$CG_GW4)"
dns_nx "listed name to the gateway's own resolver" blocked.test A @$CG_GW4
kill "$(cat "$CG_TMP/gw-dnsmasq.pid")"

# ---- HTTP and HTTPS blocks: a reset within 1 s, DNS out of the way
for fam in 4 6; do
	for url in http://blocked.test/ https://www.blocked.test/ https://deep.sub.blocked.test/; do
		ms=$(cg_time_ms cg_curl seat1 "$url" -$fam) && cg_fail "$url (IPv$fam) loaded"
		err=$(cat "$CG_TMP/time.out")
		cg_expect_match "$url (IPv$fam) is reset, not timed out" 'reset by peer' "$err"
		[ "$ms" -lt 1000 ] || cg_fail "$url (IPv$fam): failed after $ms ms (limit 1000)"
		cg_pass "$url (IPv$fam): failed in $ms ms"
	done
done

# ---- keep-alive: the second request of one connection is read
# The seat's own TCP counts the resets it accepted (socat reports a reset
# read as an ordinary end).
seat_resets() { cg_seat1 nstat -asz TcpEstabResets | awk '/TcpEstabResets/ {print $2}'; }
before=$(seat_resets)
ka=$({
	printf 'GET / HTTP/1.1\r\nHost: allowed.test\r\n\r\n'
	sleep 0.3
	printf 'GET / HTTP/1.1\r\nHost: blocked.test\r\n\r\n'
	sleep 1
} | cg_nc seat1 tcp $CG_WEB4 80 2 2>&1) || true
cg_expect_match "keep-alive: the first (allowed) request is answered" 'vhost=allowed.test' "$ka"
if grep -q 'vhost=blocked.test' <<<"$ka"; then
	cg_fail "keep-alive: the listed Host on the same connection was served"
fi
cg_pass "keep-alive: the listed Host on the same connection is not served"
cg_expect_eq "keep-alive: the seat's connection was reset" $((before + 1)) "$(seat_resets)"
ka=$({
	printf 'GET / HTTP/1.1\r\nHost: allowed.test\r\n\r\n'
	sleep 0.3
	printf 'GET / HTTP/1.1\r\nHost: notblocked.test\r\nConnection: close\r\n\r\n'
} | cg_nc seat1 tcp $CG_WEB4 80 2 2>&1) || cg_fail "keep-alive with two allowed hosts failed: $ka"
cg_expect_match "keep-alive with two allowed hosts: both answered" 'vhost=notblocked.test' "$ka"

# ---- a blocked application is cut before its first byte arrives
cg_peer_tcp 6881 sink
before=$(seat_resets)
{
	printf '\023BitTorrent protocol\0\0\0\0\0\020\0\005'
	printf 'aaaaaaaaaaaaaaaaaaaa-qB4250-abcdefghijkl'
	sleep 1
} | cg_nc seat1 tcp $CG_PEER4 6881 2 >/dev/null 2>&1 || true
cg_expect_eq "a BitTorrent handshake: the seat's connection is reset" $((before + 1)) "$(seat_resets)"
cg_expect_eq "the BitTorrent peer received nothing" 0 "$(wc -c <"$(cg_peer_data tcp 6881)")"
cg_peer_tcp 6882 sink
printf 'hello, plain bytes\n' | cg_nc seat1 tcp $CG_PEER4 6882 1 >/dev/null ||
	cg_fail "plain TCP to the peer failed"
cg_wait_for 2 grep -q hello "$(cg_peer_data tcp 6882)" ||
	cg_fail "plain TCP: the peer received nothing"
cg_pass "other TCP to the same peer passes"

# ---- clean stop: exit 0, nothing of ours left in any table or backend
cg_expect_ok "the daemon stops cleanly on SIGTERM" cg_daemon_stop
for tool in iptables-nft-save ip6tables-nft-save iptables-legacy-save ip6tables-legacy-save; do
	if cg_gw "$tool" 2>/dev/null | grep -q CAFEGUARD; then
		cg_fail "$tool still shows a CAFEGUARD chain after a clean stop"
	fi
done
cg_pass "no CAFEGUARD chain left in any table (nft and legacy, IPv4 and IPv6)"
cg_expect_eq "after the stop a listed site is reachable again" vhost=blocked.test \
	"$(cg_curl seat1 http://blocked.test/)"

# ---- the operator's events
ev=$CG_TMP/events.jsonl
cg_expect_match "start and stop are events" '"event":"stop"' "$(cat "$ev")"
cg_expect_match "a DNS block is an event with profile, category, entry, file and line" \
	'"host":"www.blocked.test".*"profile":"all","reason":"list","rule":"category adult","category":"adult","entry":"blocked.test","file":"[^"]*adult.list","line":2,"action":"nxdomain"' \
	"$(cat "$ev")"
cg_expect_match "an HTTPS block is an event" \
	'"server":"2001:db8:100::10".*"server_port":443.*"host":"deep.sub.blocked.test".*"action":"reset"' \
	"$(cat "$ev")"
cg_expect_match "an app block is an event" '"app":"BitTorrent","profile":"all","reason":"app","rule":"app BitTorrent"' \
	"$(cat "$ev")"
if grep -q '"host":"notblocked.test"' "$ev" || grep -q '"host":"allowed.test"' "$ev"; then
	cg_fail "an allowed name appears in the block events"
fi
cg_pass "no allowed name in the block events"

