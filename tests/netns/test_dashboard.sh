#!/bin/bash
# The owner's dashboard (/admin on the portal) through the real daemon:
#   - the password is set with `cafeguardctl passwd --stdin`; a wrong one
#     is refused (403), so is a login or a reload without its CSRF token;
#   - the right one opens a session (cookie jar): the dashboard lists the
#     seats and shows a block this test made, with the SVG chart;
#   - its reload button makes the daemon reload (the log says so) and the
#     page's generation goes up;
#   - a request that reaches the portal's address from the WAN side (the
#     inet namespace routes the LAN through the gw) is refused (403);
#   - headless Chromium on seat1 logs in and the dashboard is saved as a
#     phone-sized screenshot (tests/artifacts/dashboard/dashboard.png).
#
#   seat1 (10.77.1.11) --- lan0 [gw: cafeguardd, portal 10.77.1.1:80] wan0 --- inet
#        LAN side: may log in                   WAN side: 403
set -eu
. "$(dirname "$0")/lib.sh"
TOP=$(cd "$(dirname "$0")/../.." && pwd)
ART=${CG_ARTIFACTS:-$TOP/tests/artifacts}/dashboard

command -v chromium >/dev/null || cg_fail "chromium is not installed (packaging/bootstrap.sh deps)"
cg_setup
mkdir -p "$ART"

LIST=$(cg_list_file adult.list blocked.test)
CONF=$CG_TMP/cafeguard.conf
PW='owner passphrase 42'
cg_daemon_conf "$CONF" - <<EOF
categories = ( { name = "adult"; title = "adult sites"; lists = [ "$LIST" ]; } );
profiles = ( { name = "kids"; block = { categories = [ "adult" ]; }; },
             { name = "teens"; } );
seats = ( { name = "seat-1"; mac = "$CG_SEAT1_MAC"; profile = "kids"; },
          { name = "seat-2"; mac = "$CG_SEAT2_MAC"; profile = "teens"; } );
log = { database = "$CG_TMP/varlib/events.db"; };
admin = { password_file = "$CG_TMP/admin.pw"; };
portal = {
  address = "$CG_GW4"; name = "Lan House Aurora"; www = "$TOP/conf/www";
  language = "en"; country = "BR";
};
EOF
printf '%s\n' "$PW" | "$CAFEGUARDCTL" passwd -c "$CONF" --stdin >/dev/null ||
	cg_fail "cafeguardctl passwd --stdin did not set the password"
cg_expect_match "passwd writes an scrypt hash, mode 0600" '^600 scrypt\$' \
	"$(stat -c %a "$CG_TMP/admin.pw") $(cut -c1-7 "$CG_TMP/admin.pw")"
cg_daemon_start "$CONF"
PORTAL=http://$CG_GW4
JAR=$CG_TMP/jar

# curl from seat1 with the cookie jar: "CODE" of a request, body to $CG_TMP/body.
code() { # URL [ARGS...]
	local url=$1
	shift
	cg_curl seat1 "$url" -b "$JAR" -c "$JAR" -o "$CG_TMP/body" -w '%{http_code}' "$@"
}
token_in() { # FILE: the first form token of a page
	sed -n 's/.*name="token" value="\([0-9a-f]*\)".*/\1/p' "$1" | head -n1
}

# ---- a block for the dashboard to show
cg_expect_eq "seat1's blocked name goes to the portal" "$CG_GW4" "$(cg_dig_short seat1 blocked.test A)"

# ---- the WAN side: routed to the portal's address, refused
wan=$(cg_inet curl -sS --max-time 5 -o /dev/null -w '%{http_code}' "$PORTAL/admin/login")
cg_expect_eq "from the WAN side /admin/login is refused" 403 "$wan"
wan=$(cg_inet curl -sS --max-time 5 -o /dev/null -w '%{http_code}' "$PORTAL/admin")
cg_expect_eq "from the WAN side /admin is refused" 403 "$wan"

# ---- the login
cg_expect_eq "without a session /admin sends to the login" 303 "$(code "$PORTAL/admin")"
cg_expect_eq "the login page" 200 "$(code "$PORTAL/admin/login")"
tok=$(token_in "$CG_TMP/body")
[ ${#tok} -eq 64 ] || cg_fail "the login page has no token"
cg_pass "the login page carries a token"
cg_expect_eq "a login without the CSRF token is refused" 403 \
	"$(code "$PORTAL/admin/login" --data-urlencode "password=$PW")"
cg_expect_eq "a wrong password is refused" 403 \
	"$(code "$PORTAL/admin/login" -d "token=$tok" --data-urlencode 'password=not the password')"
cg_expect_match "... and the page says so" 'Wrong password' "$(cat "$CG_TMP/body")"
cg_expect_eq "the right password opens a session" 303 \
	"$(code "$PORTAL/admin/login" -d "token=$tok" --data-urlencode "password=$PW")"
cg_expect_match "the session cookie is in the jar" 'cg_admin' "$(cat "$JAR")"
cg_expect_match "the daemon's log names the login" 'admin login from 10\.77\.1\.11 .*: ok' "$(cg_daemon_log)"

# ---- the dashboard
dash_has() { # ERE: the dashboard (fetched anew) matches
	[ "$(code "$PORTAL/admin")" = 200 ] && grep -Eq -- "$1" "$CG_TMP/body"
}
cg_wait_for 5 dash_has 'blocked\.test' || cg_fail "the dashboard does not show seat1's block"
cg_pass "the dashboard shows the block made by seat1"
page=$(cat "$CG_TMP/body")
cg_expect_match "the dashboard lists seat-1 and its profile" '<th scope="row">seat-1</th><td>kids</td>' "$page"
cg_expect_match "the dashboard lists seat-2 and its profile" '<th scope="row">seat-2</th><td>teens</td>' "$page"
cg_expect_match "the block is seat-1's" '<td>seat-1</td><td>block</td><td>blocked\.test' "$page"
cg_expect_match "the chart is an inline SVG" '<svg viewBox=' "$page"
cg_expect_match "the chart counts the category" 'adult \(1\)' "$page"
cg_expect_match "the rule set is generation 0" '<dd id="generation">0, loaded' "$page"
csrf=$(token_in "$CG_TMP/body")

# ---- the reload button
cg_expect_eq "a reload without the CSRF token is refused" 403 "$(code "$PORTAL/admin/reload" -d '')"
cg_expect_eq "a reload with a forged token is refused" 403 \
	"$(code "$PORTAL/admin/reload" -d "token=${csrf//[0-9]/a}")"
if grep -q 'reloading' <<<"$(cg_daemon_log)"; then cg_fail "a refused reload reloaded"; fi
cg_expect_eq "the reload button" 303 "$(code "$PORTAL/admin/reload" -d "token=$csrf")"
cg_wait_for 5 grep -q 'reloaded in' "$CG_DAEMON_LOG" || cg_fail "the daemon did not reload"
cg_pass "the daemon reloads (its log: $(grep -m1 'reload asked' "$CG_DAEMON_LOG" | sed 's/^.*portal: //'))"
cg_wait_for 5 dash_has '<dd id="generation">1, loaded' || cg_fail "the generation did not go up"
cg_pass "the dashboard shows generation 1"

# ---- headless Chromium: logs in through a page that posts the form (the
# dashboard itself has no script), then loads the dashboard with the
# session it got.  The token is the seat's (bound to its address).
tok=$(cg_curl seat1 "$PORTAL/admin/login" | token_in /dev/stdin)
[ ${#tok} -eq 64 ] || cg_fail "no login token for chromium"
cat >"$CG_TMP/login.html" <<EOF
<!DOCTYPE html><html><body>
<form method="post" action="$PORTAL/admin/login">
<input name="token" value="$tok"><input name="password" value="$PW">
</form><script>document.forms[0].submit();</script></body></html>
EOF
PROF=$(mktemp -d "$CG_TMP/chromium.XXXXXX")
chrome() { # ARGS...: headless Chromium on seat1 with one profile
	HOME=$PROF timeout 60 ip netns exec "$NS_SEAT1" chromium --headless=new \
		--no-sandbox --disable-gpu --no-first-run --disable-extensions \
		--disable-background-networking --disable-component-update \
		--disable-sync --hide-scrollbars --user-data-dir="$PROF" \
		--window-size=390,1600 --virtual-time-budget=3000 "$@"
}
chrome --dump-dom "file://$CG_TMP/login.html" >"$CG_TMP/after-login.html" 2>/dev/null ||
	cg_fail "chromium could not post the login form"
cg_expect_eq "chromium's login is the daemon's second" 2 \
	"$(grep -c 'admin login from 10\.77\.1\.11 .*: ok' "$CG_DAEMON_LOG")"
chrome --screenshot="$ART/dashboard.png" "$PORTAL/admin" >/dev/null 2>&1 ||
	cg_fail "chromium could not take the screenshot"
dom=$(chrome --dump-dom "$PORTAL/admin" 2>/dev/null)
cg_expect_match "chromium sees the dashboard" '<h1>Dashboard</h1>' "$dom"
cg_expect_match "chromium sees the seats" 'seat-2' "$dom"
[ "$(stat -c %s "$ART/dashboard.png")" -gt 10000 ] || cg_fail "the screenshot is empty"
cg_pass "screenshot: $ART/dashboard.png"

# ---- logout ends the session
cg_expect_eq "logout" 303 "$(code "$PORTAL/admin/logout" -d "token=$csrf")"
cg_expect_eq "after logout /admin sends to the login" 303 "$(code "$PORTAL/admin")"

cg_expect_ok "the daemon stops cleanly" cg_daemon_stop
cg_summary
