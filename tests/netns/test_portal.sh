#!/bin/bash
# The gateway's answers and the portal, through the real daemon between
# real clients and servers.  What a child at a seat must see:
#   - before accepting the splash page: DNS works; the captive-portal
#     probes of Android, Windows, Apple and Firefox are sent to the
#     splash page; HTTPS and QUIC are refused at once;
#   - "I agree" (the form, with its token) opens the seat; a forged or
#     token-less acceptance does not; the acceptance survives a restart;
#   - a blocked name resolves to the portal (A, AAAA, UDP, TCP) and its
#     page explains the block; HTTP to a blocked host with its real
#     address is redirected to the block page with the reason (IPv4,
#     IPv6); HTTPS is reset fast; a QUIC Initial hears "unreachable";
#   - SafeSearch names answer with the configured safe targets; the DoH
#     and Private Relay canaries answer NXDOMAIN;
#   - the status page lists the seat's own blocks, never a list entry.
set -eu
. "$(dirname "$0")/lib.sh"
TOP=$(cd "$(dirname "$0")/../.." && pwd)

cg_setup

LIST=$(cg_list_file adult.list "# test list" blocked.test play.google.com)
CONF=$CG_TMP/cafeguard.conf
cg_daemon_conf "$CONF" - <<EOF
categories = ( { name = "adult"; title = "adult sites"; lists = [ "$LIST" ]; } );
profiles = ( { name = "kids"; block = { categories = [ "adult" ]; }; safesearch = true; } );
events = { file = "$CG_TMP/events.jsonl"; };
log = { database = "$CG_TMP/varlib/events.db"; };
portal = {
  address = "$CG_GW4"; address6 = "$CG_GW6";
  name = "Lan House Teste"; www = "$TOP/conf/www";
  language = "en"; country = "BR"; timeout = 5;
  hotlines = ( { country = "BR"; name = "SaferNet Brasil"; url = "https://new.safernet.org.br/denuncie"; } );
};
safesearch = {
  google = { target = "forcesafesearch.google.com"; addresses = [ "$CG_WEB4", "$CG_WEB6" ]; };
  youtube = { target = "restrict.youtube.com"; addresses = [ "$CG_WEB4" ]; };
  bing = { target = "strict.bing.com"; addresses = [ "$CG_PEER4" ]; };
  duckduckgo = { target = "safe.duckduckgo.com"; addresses = [ "$CG_PEER4" ]; };
};
EOF
cg_daemon_start "$CONF"
PORTAL=http://$CG_GW4

# curl's view of one request: "CODE LOCATION".
status() { # SEAT URL [ARGS...]
	local seat=$1 url=$2
	shift 2
	cg_curl "$seat" "$url" -o /dev/null -w '%{http_code} %{redirect_url}' "$@"
}

# ---- captive: DNS works, web goes to the splash page, the rest is refused
cg_expect_eq "captive: DNS answers" "$CG_WEB4" "$(cg_dig_short seat1 allowed.test A)"
for probe in http://connectivitycheck.gstatic.com/generate_204 \
	http://www.msftconnecttest.com/connecttest.txt \
	http://captive.apple.com/hotspot-detect.html \
	http://detectportal.firefox.com/canonical.html; do
	host=${probe#http://}
	host=${host%%/*}
	path=/${probe#http://*/}
	want="302 $PORTAL/splash?next=http%3A%2F%2F$host${path//\//%2F}"
	cg_expect_eq "captive: the probe $probe is sent to the splash page" \
		"$want" "$(status seat1 "$probe")"
done
ms=$(cg_time_ms cg_curl seat1 https://allowed.test/) && cg_fail "captive: HTTPS loaded"
[ "$ms" -lt 1000 ] || cg_fail "captive: HTTPS refused only after $ms ms"
cg_pass "captive: HTTPS is refused in $ms ms"
out=$(cg_in seat1 "$TOP/tests/netns/tools/quic_send.py" \
	"$TOP/tests/data/pcap/quic-27.pcap" "$CG_PEER6" 443)
cg_expect_match "captive: QUIC hears an ICMPv6 unreachable" '^error E' "$out"

# ---- the splash page and "I agree"
page=$(cg_curl seat1 "$PORTAL/splash?next=http%3A%2F%2Fallowed.test%2F" -H 'Accept-Language: pt-BR,pt;q=0.9')
cg_expect_match "the splash page is in the browser's language" '<html[^>]* lang="pt-BR"' "$page"
cg_expect_match "the splash page names the café" 'Lan House Teste' "$page"
cg_expect_match "the splash page lists the hotline" 'https://new.safernet.org.br/denuncie' "$page"
token=$(sed -n 's/.*name="token"[^>]*value="\([^"]*\)".*/\1/p' <<<"$page" | head -n1)
[ -n "$token" ] || cg_fail "the splash page carries no token"
cg_expect_eq "an acceptance without its token is refused" 403 \
	"$(cg_curl seat1 "$PORTAL/accept" -o /dev/null -w '%{http_code}' -d 'next=%2F')"
cg_expect_eq "an acceptance with a forged token is refused" 403 \
	"$(cg_curl seat1 "$PORTAL/accept" -o /dev/null -w '%{http_code}' -d 'token=00ff&next=%2F')"
cg_expect_eq "seat2 cannot accept with seat1's token" 403 \
	"$(cg_curl seat2 "$PORTAL/accept" -o /dev/null -w '%{http_code}' --data-urlencode "token=$token" -d 'next=%2F')"
cg_expect_eq "I agree: back to the page the seat wanted" "303 http://allowed.test/" \
	"$(status seat1 "$PORTAL/accept" --data-urlencode "token=$token" \
		--data-urlencode 'next=http://allowed.test/')"
cg_expect_eq "accepted: HTTP loads" vhost=allowed.test "$(cg_curl seat1 http://allowed.test/)"
cg_expect_eq "accepted: HTTPS loads" vhost=allowed.test "$(cg_curl seat1 https://allowed.test/)"
cg_expect_eq "seat2 is still captive" "302 $PORTAL/splash?next=http%3A%2F%2Fallowed.test%2F" \
	"$(status seat2 http://allowed.test/)"

# ---- DNS answers: sinkhole, SafeSearch, canaries
cg_expect_eq "a blocked name resolves to the portal (A)" "$CG_GW4" "$(cg_dig_short seat1 blocked.test A)"
cg_expect_eq "a blocked name resolves to the portal (AAAA, IPv6 server)" "$CG_GW6" \
	"$(cg_dig_short seat1 www.blocked.test AAAA @$CG_DNS6)"
cg_expect_eq "a blocked name resolves to the portal (TCP)" "$CG_GW4" \
	"$(cg_dig_short seat1 blocked.test A +tcp)"
cg_expect_eq "SafeSearch: www.google.com is forcesafesearch.google.com" \
	"forcesafesearch.google.com. $CG_WEB4" "$(cg_dig_short seat1 www.google.com A | tr '\n' ' ' | sed 's/ $//')"
cg_expect_eq "SafeSearch: www.google.com.br AAAA (IPv6)" \
	"forcesafesearch.google.com. $CG_WEB6" \
	"$(cg_dig_short seat1 www.google.com.br AAAA @$CG_DNS6 | tr '\n' ' ' | sed 's/ $//')"
cg_expect_eq "SafeSearch: www.youtube.com is restrict.youtube.com" \
	"restrict.youtube.com. $CG_WEB4" "$(cg_dig_short seat1 www.youtube.com A | tr '\n' ' ' | sed 's/ $//')"
cg_expect_eq "SafeSearch: www.bing.com is strict.bing.com (TCP)" \
	"strict.bing.com. $CG_PEER4" "$(cg_dig_short seat1 www.bing.com A +tcp | tr '\n' ' ' | sed 's/ $//')"
cg_expect_eq "SafeSearch: duckduckgo.com is safe.duckduckgo.com" \
	"safe.duckduckgo.com. $CG_PEER4" "$(cg_dig_short seat1 duckduckgo.com A | tr '\n' ' ' | sed 's/ $//')"
for c in use-application-dns.net mask.icloud.com mask-h2.icloud.com; do
	cg_expect_eq "the canary $c is NXDOMAIN" NXDOMAIN "$(cg_dig_rcode seat1 $c A)"
done

# ---- blocked web requests land on a page that says why
page=$(cg_curl_dns seat1 http://blocked.test/some/page)
cg_expect_match "a sinkholed name's page says what was blocked" 'blocked\.test' "$page"
cg_expect_match "a sinkholed name's page names the category in words" 'adult content' "$page"
cg_expect_eq "HTTP to a blocked host's real address is redirected (IPv4)" \
	"302 $PORTAL/blocked?host=www.blocked.test&reason=list&category=adult" \
	"$(status seat1 http://www.blocked.test/x -4)"
cg_expect_eq "HTTP to a blocked host's real address is redirected (IPv6, to the portal's IPv6 address)" \
	"302 http://[$CG_GW6]/blocked?host=www.blocked.test&reason=list&category=adult" \
	"$(status seat1 http://www.blocked.test/x -6)"
page=$(cg_curl seat1 http://www.blocked.test/v6 -6 -L)
cg_expect_match "over IPv6 the redirect ends on the block page" 'www\.blocked\.test' "$page"
page=$(cg_curl seat1 http://www.blocked.test/x -L -H 'Accept-Language: es')
cg_expect_match "following the redirect ends on the block page in Spanish" '<html[^>]* lang="es"' "$page"
cg_expect_match "the block page names the host" 'www\.blocked\.test' "$page"
for fam in 4 6; do
	ms=$(cg_time_ms cg_curl seat1 https://www.blocked.test/ -$fam) && cg_fail "HTTPS to a blocked host loaded"
	cg_expect_match "HTTPS to a blocked host is reset (IPv$fam)" 'reset by peer' "$(cat "$CG_TMP/time.out")"
	[ "$ms" -lt 1000 ] || cg_fail "HTTPS to a blocked host: reset after $ms ms"
	cg_pass "HTTPS to a blocked host (IPv$fam): reset in $ms ms"
done
out=$(cg_in seat1 "$TOP/tests/netns/tools/quic_send.py" \
	"$TOP/tests/data/pcap/quic-27.pcap" "$CG_PEER6" 443)
cg_expect_match "a QUIC Initial for a blocked name hears an ICMPv6 unreachable" '^error E' "$out"
ms=${out##* }
[ "$ms" -lt 500 ] || cg_fail "QUIC: the unreachable came after $ms ms"
cg_pass "QUIC: the unreachable came in $ms ms"

# ---- the status page: the seat's own blocks, no list entries
page=$(cg_curl seat1 "$PORTAL/")
cg_expect_match "the status page lists the seat's blocks" 'www\.blocked\.test' "$page"
if grep -q 'adult\.list' <<<"$page"; then cg_fail "the status page shows a list file"; fi
cg_pass "the status page shows no list file"
page=$(cg_curl seat2 "$PORTAL/")
if grep -q 'blocked\.test' <<<"$page"; then cg_fail "seat2's status page shows seat1's blocks"; fi
cg_pass "seat2's status page does not show seat1's blocks"

# ---- abuse: bad requests get clear 4xx answers, the portal stays up
cg_expect_eq "an unknown page is 404" 404 "$(cg_curl seat1 "$PORTAL/nope" -o /dev/null -w '%{http_code}')"
cg_expect_eq "DELETE is 405" 405 "$(cg_curl seat1 "$PORTAL/" -X DELETE -o /dev/null -w '%{http_code}')"
big=$(head -c 65536 /dev/zero | tr '\0' a)
code=$(cg_curl seat1 "$PORTAL/" -H "X-Big: $big" -o /dev/null -w '%{http_code}' || true)
cg_expect_match "a 64 KiB header is refused with a 4xx" '^4[0-9][0-9]$' "$code"
cg_expect_eq "after all that the portal still serves" 200 \
	"$(cg_curl seat1 "$PORTAL/" -o /dev/null -w '%{http_code}')"

# ---- the operator's view
# The workers copy their counters for `status` once a second.
sleep 1.2
st=$("$CAFEGUARDCTL" status -c "$CONF")
cg_expect_match "cafeguardctl status counts the acceptance" \
	"portal http://$CG_GW4: [0-9]+ requests, [0-9]+ pages, 1 acceptances" "$st"
sum() { grep -o "[0-9]* $1" <<<"$st" | awk '{ s += $1 } END { print s + 0 }'; }
cg_expect_eq "cafeguardctl status counts SafeSearch answers (all workers)" 5 "$(sum 'SafeSearch answers')"
cg_expect_eq "cafeguardctl status counts the canaries (all workers)" 3 "$(sum canaries)"
ev=$(cat "$CG_TMP/events.jsonl")
cg_expect_match "a sinkhole answer is an event" '"host":"blocked.test".*"action":"sinkhole"' "$ev"
cg_expect_match "a redirect is an event" '"host":"www.blocked.test".*"action":"redirect"' "$ev"
cg_expect_match "an ICMP unreachable is an event" '"host":"play.google.com".*"action":"unreachable"' "$ev"

cg_expect_match "the acceptance is in the operator's log" \
	' captive .*accepted the house rules, open until ' "$("$CAFEGUARDCTL" log -c "$CONF")"

# ---- the acceptance survives a restart
cg_expect_ok "the daemon stops cleanly" cg_daemon_stop
cg_daemon_start "$CONF"
cg_expect_eq "after a restart seat1 is still open" vhost=allowed.test "$(cg_curl seat1 http://allowed.test/)"
cg_expect_eq "after a restart seat2 is still captive" \
	"302 $PORTAL/splash?next=http%3A%2F%2Fallowed.test%2F" "$(status seat2 http://allowed.test/)"
cg_expect_ok "the daemon stops cleanly again" cg_daemon_stop

cg_summary
