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

# Sites of the simulated internet: ordinary ones and names the shipped
# lists carry (adult, gambling, gore, a VPN, a social network, a game).
export CG_VHOSTS="www.wikipedia.org www.khanacademy.org pornhub.com www.10bet.com bestgore.com nordvpn.com www.facebook.com www.roblox.com"
. "$here/lib.sh"

say() { printf '%s\n' "$*"; }
row() { printf '  %-7s %-7s %-40s %s\n' "$1" "$2" "$3" "$4"; }

say "cafeguard demo: building a café in network namespaces..."
cg_setup
# The shipped rule set (rules/default.conf) and two seats: seat-1 is a
# child's seat, known by its network card; seat-2 an adult's, known by
# its addresses.  The demo runs on a test clock (a Monday, 15:00) so what
# it shows does not depend on the hour it is run.
conf=$CG_TMP/cafeguard.conf
rules=$(realpath --relative-to="$CG_TMP" "$top/rules/default.conf")
cg_daemon_conf "$conf" - <<EOF
@include "$rules"
seats = (
  { name = "seat-1"; mac = "$CG_SEAT1_MAC"; profile = "kids"; },
  { name = "seat-2"; ip = [ "$CG_SEAT2_4", "$CG_SEAT2_6" ]; profile = "adults"; }
);
events = { file = "$CG_TMP/events.jsonl"; };
portal = {
  address = "$CG_GW4"; address6 = "$CG_GW6";
  name = "Demo Lan House"; www = "$top/conf/www"; language = "en"; country = "BR";
  hotlines = ( { country = "BR"; name = "SaferNet Brasil"; url = "https://new.safernet.org.br/denuncie"; } );
};
# SafeSearch targets, pointed at the simulated internet.
safesearch = {
  google = { target = "forcesafesearch.google.com"; addresses = [ "$CG_WEB4" ]; };
  youtube = { target = "restrict.youtube.com"; addresses = [ "$CG_WEB4" ]; };
  bing = { target = "strict.bing.com"; addresses = [ "$CG_WEB4" ]; };
  duckduckgo = { target = "safe.duckduckgo.com"; addresses = [ "$CG_WEB4" ]; };
};
EOF
export TZ=UTC
cg_daemon_start "$conf" --fake-time "2026-11-23 15:00"
ctl() { "$CAFEGUARDCTL" "$1" -c "$conf" "${@:2}"; }
say ""
say "The gateway is inline between the seats and the internet:"
grep -E 'rules |running' "$CG_DAEMON_LOG" | sed 's/^cafeguardd: /  /'
ctl seats | sed 's/^/  /'
PORTAL=http://$CG_GW4
say ""
say "Each seat starts its day on the child-safety splash page ($PORTAL/splash):"
for seat in seat1 seat2; do
	loc=$(cg_curl $seat http://connectivitycheck.gstatic.com/generate_204 -o /dev/null -w '%{redirect_url}')
	row $seat "" "its OS checks connectivitycheck.gstatic.com" "sent to ${loc%%\?*}"
	token=$(cg_curl $seat "$PORTAL/splash" | sed -n 's/.*name="token"[^>]*value="\([^"]*\)".*/\1/p' | head -n1)
	code=$(cg_curl $seat "$PORTAL/accept" --data-urlencode "token=$token" -d 'next=%2F' -o /dev/null -w '%{http_code}')
	[ "$code" = 303 ] && row $seat "" "presses \"I agree\"" "open until midnight"
done
say ""
say "What the seats try, and what happens (Monday 15:00):"

declare -A profile_of=([seat1]=kids [seat2]=adults)
web() { # SEAT URL
	local out ms rc=0
	ms=$(cg_time_ms cg_curl_dns "$1" "$2" -4) || rc=$?
	out=$(cat "$CG_TMP/time.out")
	if [ $rc -eq 0 ] && grep -q 'This page is blocked' <<<"$out"; then
		why=$(grep -A1 '<dt>Why</dt>' <<<"$out" | tail -n1 | sed 's/<[^>]*>//g')
		row "$1" "${profile_of[$1]}" "opens $2" "the block page: \"$why\""
	elif [ $rc -eq 0 ]; then
		row "$1" "${profile_of[$1]}" "opens $2" "loads (${out#vhost=})"
	elif grep -q 'Failed to connect' <<<"$out"; then
		row "$1" "${profile_of[$1]}" "opens $2" "blocked: the name leads to the box, HTTPS refused (${ms} ms)"
	elif grep -q 'resolve' <<<"$out"; then
		row "$1" "${profile_of[$1]}" "opens $2" "blocked: the name does not resolve (${ms} ms)"
	else
		row "$1" "${profile_of[$1]}" "opens $2" "blocked: connection reset after ${ms} ms"
	fi
}
pinned() { # SEAT URL: the address is known already (no DNS), as after a cache
	local ms rc=0
	ms=$(cg_time_ms cg_curl "$1" "$2" -o /dev/null -w '%{redirect_url}') || rc=$?
	local loc
	loc=$(cat "$CG_TMP/time.out")
	if [ $rc -eq 0 ] && [ -n "$loc" ]; then
		row "$1" "${profile_of[$1]}" "opens $2 (no DNS)" "redirected to ${loc%%&*}..."
	elif [ $rc -eq 0 ]; then
		row "$1" "${profile_of[$1]}" "opens $2 (no DNS)" "loads"
	else
		row "$1" "${profile_of[$1]}" "opens $2 (no DNS)" "blocked: connection reset after ${ms} ms"
	fi
}
web seat1 https://www.wikipedia.org/
web seat1 https://www.khanacademy.org/
web seat1 https://www.10bet.com/
web seat2 https://www.10bet.com/
web seat1 https://www.facebook.com/
web seat2 https://www.facebook.com/
web seat2 http://pornhub.com/
pinned seat2 https://pornhub.com/
pinned seat1 http://www.10bet.com/
web seat1 https://bestgore.com/
web seat1 https://nordvpn.com/
web seat1 https://www.roblox.com/
web seat1 http://www.roblox.com/
sq=$(cg_dig_short seat1 www.google.com A | tr '\n' ' ')
row seat1 kids "looks up www.google.com" "SafeSearch: $sq"
cg_peer_tcp 6881 sink
{
	printf '\023BitTorrent protocol\0\0\0\0\0\020\0\005'
	printf 'aaaaaaaaaaaaaaaaaaaa-qB4250-abcdefghijkl'
	sleep 0.5
} | cg_nc seat2 tcp "$CG_PEER4" 6881 1 >/dev/null 2>&1 || true
if [ -s "$(cg_peer_data tcp 6881)" ]; then
	row seat2 adults "starts a BitTorrent download" "passed (unexpected)"
else
	row seat2 adults "starts a BitTorrent download" "blocked: cut before its first byte"
fi

say ""
say "What a child sees on the status page ($PORTAL/):"
cg_curl seat1 "$PORTAL/" | sed -n '/<tbody>/,/<\/tbody>/p' | sed 's/<[^>]*>/ /g; s/  */ /g; /^ *$/d' | head -n 6 | sed 's/^/  /'
say ""
say "Why? The trainer's view (cafeguardctl explain):"
ctl explain --seat seat-1 --at "2026-11-23 15:00" www.10bet.com | sed 's/^/  /'

say ""
say "A child sits at the adult seat: the attendant switches it for an hour."
ctl seat seat-2 --profile kids --for 1h | sed 's/^/  /'
profile_of[seat2]=kids
web seat2 https://www.facebook.com/
ctl seat seat-2 --clear | sed 's/^/  /'
profile_of[seat2]=adults

say ""
say "At 22:00 the kids' night window starts:"
ctl clock "2026-11-23 22:00" >/dev/null
web seat1 https://www.wikipedia.org/
web seat2 https://www.wikipedia.org/

cg_daemon_stop >/dev/null || true
say ""
say "The operator's log of blocks ($CG_TMP/events.jsonl):"
# Each worker hands its events to the logger on its own ring, so the
# file is in order per worker; the view is sorted by time.
sort "$CG_TMP/events.jsonl" | grep '"event":"block"' |
	sed -E 's/.*"time":"[^T]*T([0-9:]{5})[^"]*".*"host":"([^"]*)".*"seat":"([^"]*)","profile":"([^"]*)","reason":"[^"]*","rule":"([^"]*)".*"action":"([^"]*)".*/  \1  \3 (\4)  \2  \5, \6/;
	       s/.*"time":"[^T]*T([0-9:]{5})[^"]*".*"app":"([^"]*)".*"seat":"([^"]*)","profile":"([^"]*)","reason":"[^"]*","rule":"([^"]*)".*"action":"([^"]*)".*/  \1  \3 (\4)  \2  \5, \6/'
say ""
say "The gateway stopped cleanly and removed its kernel rules; tearing the café down."
