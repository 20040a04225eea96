#!/bin/bash
# Profiles, seats, schedules, seat sessions and budgets through the real
# daemon, on a test clock (cafeguardd --fake-time, moved with
# `cafeguardctl clock`):
#   - two seats with different profiles get different results for the
#     same site; one seat is known by its MAC, the other by its addresses;
#   - a seat session switches a seat to another profile and reverts by
#     itself;
#   - a night window blocks everything for kids, not for adults; a
#     decision flips when the clock crosses the window, and a connection
#     open at that moment is cut;
#   - a budget counts a long download minute by minute (heartbeats) and
#     cuts it when used up; new connections are then refused;
#   - events name the seat, the profile and the rule;
#   - seat sessions and used minutes survive a restart (the state file).
set -eu
. "$(dirname "$0")/lib.sh"

cg_setup

ADULT=$(cg_list_file adult.list blocked.test)
GAMES=$(cg_list_file games.list games.test)
conf=$CG_TMP/cafeguard.conf
cg_daemon_conf "$conf" - <<EOF
inspect = { meter_interval = 1; };
events = { file = "$CG_EVENTS"; };
categories = (
  { name = "adult"; lists = [ "$ADULT" ]; },
  { name = "games"; lists = [ "$GAMES" ]; }
);
profiles = (
  { name = "kids";
    block = { categories = [ "adult" ]; };
    schedule = ( { days = "all"; from = "22:00"; to = "06:00"; block = { everything = true; }; } );
    budgets = ( { name = "games"; per_day = "2m"; categories = [ "games" ]; } );
  },
  { name = "adults"; }
);
default_profile = "kids";
seats = (
  { name = "seat-1"; mac = "$CG_SEAT1_MAC"; profile = "kids"; },
  { name = "seat-2"; ip = [ "$CG_SEAT2_4", "$CG_SEAT2_6" ]; profile = "adults"; }
);
EOF
ctl() { "$CAFEGUARDCTL" "$1" -c "$conf" "${@:2}"; }
clock() { ctl clock "$1" >/dev/null; }
loads() { cg_curl "$1" "$2" --max-time 3 "${@:3}" >/dev/null 2>&1; }
# event DESC ERE: an event line matches (the logger writes every 200 ms).
event() {
	if cg_wait_for 3 grep -Eq -- "$2" "$CG_EVENTS"; then
		cg_pass "$1"
	else
		cg_fail "$1 (no event matches /$2/)"
	fi
}

TZ=UTC cg_daemon_start "$conf" --fake-time "2026-11-23 15:00"
export TZ=UTC # the daemon's zone, for `cafeguardctl clock`

# ---- two seats, two profiles, the same site
cg_expect_fail "kids seat (by MAC): a listed site is blocked" loads seat1 http://blocked.test/
cg_expect_ok "adults seat (by IPv4): the same site loads" loads seat2 http://blocked.test/
cg_expect_ok "adults seat (by IPv6): the same site loads" loads seat2 https://blocked.test/ -6
cg_expect_eq "kids seat: the name does not resolve" NXDOMAIN "$(cg_dig_rcode seat1 blocked.test)"
cg_expect_eq "adults seat: the name resolves" NOERROR "$(cg_dig_rcode seat2 blocked.test)"
event "the block event names seat and profile" \
	'"host":"blocked.test".*"seat":"seat-1","profile":"kids","reason":"list","rule":"category adult"'
out=$(ctl seats)
cg_expect_match "seats lists seat-1 as kids, with its budget" '^seat-1 +kids +budget games 0/2 min' "$out"
cg_expect_match "seats lists seat-2 as adults" '^seat-2 +adults *$' "$out"

# ---- a seat session: seat-2 becomes kids for a while, then reverts
cg_expect_match "seat session set" 'seat seat-2: profile kids until 2026-11-23 15:0' \
	"$(ctl seat seat-2 --profile kids --for 3s)"
cg_expect_fail "during the session seat-2 is kids" loads seat2 http://blocked.test/
cg_expect_match "seats shows the session" '^seat-2 +kids +session until .*seat.s own: adults' "$(ctl seats)"
sleep 3.2
cg_expect_ok "the session ended by itself: seat-2 is adults again" loads seat2 http://blocked.test/
ctl seat seat-2 --profile kids --for 1h >/dev/null
cg_expect_fail "a new session" loads seat2 http://blocked.test/
cg_expect_match "ending a session early" 'back to its profile adults' "$(ctl seat seat-2 --clear)"
cg_expect_ok "after --clear seat-2 is adults" loads seat2 http://blocked.test/
rc=0
out=$(ctl seat seat-9 --profile kids --for 1h 2>&1) || rc=$?
cg_expect_match "an unknown seat is refused" 'error: no seat "seat-9"' "$out"
cg_expect_eq "... with exit 1" 1 "$rc"
rc=0
out=$(ctl seat seat-2 --profile kids --for soon 2>&1) || rc=$?
cg_expect_match "a bad duration is refused before the daemon is asked" 'a duration like' "$out"

# ---- a schedule: the night blocks everything for kids
clock "2026-11-23 21:59"
cg_curl seat1 https://allowed.test/slow --max-time 30 \
	-o /dev/null -w '%{size_download}' >"$CG_TMP/night.size" 2>/dev/null &
night=$!
sleep 1
clock "2026-11-23 22:00"
t0=$(cg__now_ms)
rc=0
wait $night || rc=$?
ms=$(($(cg__now_ms) - t0))
size=$(cat "$CG_TMP/night.size")
[ "$rc" -ne 0 ] && [ "$size" -lt 2097152 ] && [ "$ms" -lt 3000 ] ||
	cg_fail "an HTTPS download open at 22:00 should be cut (curl exit $rc, $size bytes, $ms ms)"
cg_pass "an HTTPS download open when the night starts is cut within $ms ms ($size of 2097152 bytes)"
clock "2026-11-23 23:00"
cg_expect_fail "kids at 23:00: even an unlisted site is blocked" loads seat1 http://allowed.test/
cg_expect_eq "kids at 23:00: names do not resolve" NXDOMAIN "$(cg_dig_rcode seat1 allowed.test)"
cg_expect_ok "adults at 23:00: the site loads" loads seat2 http://allowed.test/
event "the schedule block is an event" \
	'"seat":"seat-1","profile":"kids","reason":"schedule","rule":"schedule 22:00-06:00"'
clock "2026-11-24 06:00"
cg_expect_ok "kids at 06:00: the night is over" loads seat1 http://allowed.test/
rc=0
out=$(ctl clock "tomorrow" 2>&1) || rc=$?
cg_expect_match "a bad time is refused" 'YYYY-MM-DD HH:MM' "$out"

# ---- a budget: 2 minutes of games a day, counted by heartbeats
clock "2026-11-24 10:00"
cg_curl seat1 http://games.test/slow --max-time 30 \
	-o /dev/null -w '%{size_download}' >"$CG_TMP/game.size" 2>"$CG_TMP/game.err" &
game=$!
sleep 1.5
cg_expect_match "the download is counted" '^seat-1 +kids +budget games 1/2 min' "$(ctl seats)"
clock "2026-11-24 10:01"
metered() { ctl seats | grep -q 'budget games 2/2 min'; }
cg_expect_ok "a second minute is counted by a heartbeat" cg_wait_for 3 metered
clock "2026-11-24 10:02"
t0=$(cg__now_ms)
rc=0
wait $game || rc=$?
cut_ms=$(($(cg__now_ms) - t0))
size=$(cat "$CG_TMP/game.size")
[ "$rc" -ne 0 ] && [ "$size" -lt 2097152 ] ||
	cg_fail "the download should have been cut (curl exit $rc, $size bytes)"
cg_pass "the used-up budget cut the running download after $cut_ms ms (curl exit $rc, $size of 2097152 bytes)"
[ "$cut_ms" -lt 3000 ] || cg_fail "the cut took $cut_ms ms (heartbeat every 1 s)"
cg_expect_fail "a new connection to a counted site is refused" loads seat1 http://games.test/
cg_expect_eq "... and its name does not resolve" NXDOMAIN "$(cg_dig_rcode seat1 games.test)"
cg_expect_ok "other sites still load" loads seat1 http://allowed.test/
cg_expect_ok "the budget is per seat: an adult seat is not counted" loads seat2 http://games.test/
event "the budget cut is an event" \
	'"host":"games.test".*"seat":"seat-1","profile":"kids","reason":"budget","rule":"budget games \(2 min a day\)"'

# ---- state across a restart: the used minutes and a session stay
ctl seat seat-2 --profile kids --for 1h >/dev/null
cg_expect_ok "clean stop" cg_daemon_stop
cg_expect_match "the state file holds the session" '^session seat-2 kids ' "$(cat "$CG_TMP/varlib/state")"
TZ=UTC cg_daemon_start "$conf" --fake-time "2026-11-24 10:05"
cg_expect_fail "after the restart the budget is still used up" loads seat1 http://games.test/
cg_expect_fail "after the restart the session still holds" loads seat2 http://blocked.test/
clock "2026-11-25 10:00"
cg_expect_ok "the next day the budget is full again" loads seat1 http://games.test/
cg_expect_ok "the session has ended since" loads seat2 http://blocked.test/

cg_expect_ok "clean stop" cg_daemon_stop
cg_summary
