#!/bin/bash
# SIGHUP builds the rules anew beside the running ones and swaps them
# whole; a reload that fails keeps the old rules and says why; traffic in
# flight is not dropped by a reload.
set -eu
. "$(dirname "$0")/lib.sh"

cg_setup

LIST=$(cg_list_file test.list blocked.test)
cg_daemon_conf "$CG_TMP/good.conf" \
	"lists = ( { name = \"t\"; files = [ \"$LIST\" ]; } );" \
	"block = { lists = [ \"t\" ]; };"
cp "$CG_TMP/good.conf" "$CG_TMP/cafeguard.conf"
cg_daemon_start "$CG_TMP/cafeguard.conf"

loads() { cg_curl seat1 "http://$1/" --max-time 2 >/dev/null 2>&1; }
reloads() { grep -c "$1" "$CG_DAEMON_LOG" || true; }
more_than() { [ "$(reloads "$1")" -gt "$2" ]; }
hup() { # WHAT: SIGHUP, then wait for one more log line saying WHAT
	local what=$1 n t0
	n=$(reloads "$what")
	t0=$(cg__now_ms)
	kill -HUP "$CG_DAEMON_PID"
	cg_wait_for 5 more_than "$what" "$n" ||
		cg_fail "no \"$what\" in the log after SIGHUP"
	cg_pass "SIGHUP: \"$what\" after $(($(cg__now_ms) - t0)) ms"
}

cg_expect_fail "before: blocked.test is blocked" loads blocked.test
cg_expect_ok "before: games.test loads" loads games.test

# A long download runs across the reloads below (about 3 s at 700 kB/s).
cg_curl seat2 http://allowed.test/big --limit-rate 700k --max-time 20 \
	-o /dev/null -w '%{size_download}' >"$CG_TMP/big.size" 2>&1 &
big=$!

cg_list_file test.list games.test >/dev/null
hup reloaded
cg_expect_ok "after the reload: blocked.test loads" loads blocked.test
cg_expect_fail "after the reload: games.test is blocked" loads games.test

printf 'block = { lists = [ "nope" ]; };\n' >>"$CG_TMP/cafeguard.conf"
hup "reload failed"
cg_expect_match "a failed reload says why, with file and line" \
	'cafeguard.conf:[0-9]+: error: duplicate setting name' "$(cg_daemon_log)"
cg_expect_fail "after a failed reload the old rules stay: games.test blocked" loads games.test
cg_expect_ok "after a failed reload the old rules stay: blocked.test loads" loads blocked.test

cp "$CG_TMP/good.conf" "$CG_TMP/cafeguard.conf"
rm "$LIST"
hup "reload failed"
cg_expect_match "a missing list on reload is named" 'test.list: error: cannot open list' "$(cg_daemon_log)"
cg_expect_fail "still the old rules" loads games.test

wait $big || cg_fail "the download across three reloads failed: $(cat "$CG_TMP/big.size")"
cg_expect_eq "the download across three reloads completed whole" 2097152 "$(cat "$CG_TMP/big.size")"
cg_expect_ok "clean stop" cg_daemon_stop
