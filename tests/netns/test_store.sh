#!/bin/bash
# The operator's event store through the real daemon:
#   - traffic through the gateway becomes rows (blocks) and counts
#     (allowed connections per seat, hour and category);
#   - `cafeguardctl log` reads them while the daemon writes (text, JSON,
#     CSV, by seat), a reload is a row;
#   - kill -9 under a stream of blocks: the database opens clean and what
#     is missing is at most the last batch (measured and printed);
#   - after a restart the daemon appends to the same database.
set -eu
. "$(dirname "$0")/lib.sh"
TOP=$(cd "$(dirname "$0")/../.." && pwd)

command -v sqlite3 >/dev/null || cg_fail "sqlite3 is not installed (packaging/bootstrap.sh deps)"
cg_setup

LIST=$(cg_list_file adult.list blocked.test)
CONF=$CG_TMP/cafeguard.conf
DB=$CG_TMP/varlib/events.db
cg_daemon_conf "$CONF" - <<EOF
categories = ( { name = "adult"; lists = [ "$LIST" ]; } );
profiles = ( { name = "kids"; block = { categories = [ "adult" ]; }; } );
seats = ( { name = "seat-1"; mac = "$CG_SEAT1_MAC"; profile = "kids"; } );
default_profile = "kids";
log = { database = "$DB"; retention_days = 30;
        syslog = { server = "$CG_PEER4"; port = 5514; transport = "udp"; facility = "local0"; }; };
EOF
cg_peer_udp 5514 sink # the café chain's collector
cg_daemon_start "$CONF"
ctl() { "$CAFEGUARDCTL" "$1" -c "$CONF" "${@:2}"; }

# ---- rows and counts
cg_expect_eq "a blocked name is refused" NXDOMAIN "$(cg_dig_rcode seat1 blocked.test A)"
cg_curl seat1 https://blocked.test/ >/dev/null 2>&1 && cg_fail "HTTPS to a blocked host loaded"
cg_expect_eq "an allowed site loads (seat1)" vhost=allowed.test "$(cg_curl seat1 http://allowed.test/)"
cg_expect_eq "an allowed site loads (seat2)" vhost=allowed.test "$(cg_curl seat2 https://allowed.test/)"
ctl reload >/dev/null
sleep 0.5 # one round of the logger (200 ms) and its commit
out=$(ctl log)
cg_expect_match "log: the DNS block, by seat" 'seat-1 +block +blocked\.test +category adult \(nxdomain\)' "$out"
cg_expect_match "log: the HTTPS block" 'block +blocked\.test +category adult \(reset\)' "$out"
cg_expect_match "log: the start" ' start ' "$out"
cg_expect_match "log: the reload" ' reload .*ok: 1 profile' "$out"
cg_expect_match "log --json" '"type":"block","action":"nxdomain","seat":"seat-1","profile":"kids","client":"10.77.1.11","mac":"52:54:00:77:01:0b"' \
	"$(ctl log --json)"
cg_expect_match "log --csv has its header" '^id,time,type,action,seat' "$(ctl log --csv | head -n1)"
cg_expect_eq "log --seat: only that seat's rows" 0 "$(ctl log --seat seat-9 | wc -l)"
cg_expect_eq "log --day: another day is empty" 0 "$(ctl log --day 2020-01-01 | wc -l)"
cg_expect_fail "log --day with a bad date is refused" ctl log --day 2026-13-01
cg_expect_eq "allowed connections are counted, not logged by name" 2 \
	"$(sqlite3 "$DB" "SELECT sum(flows) FROM traffic")"
cg_expect_eq "the counts name the seat" 1 \
	"$(sqlite3 "$DB" "SELECT sum(flows) FROM traffic WHERE seat = 'seat-1'")"
cg_expect_eq "no allowed name is a row" 0 \
	"$(sqlite3 "$DB" "SELECT count(*) FROM events WHERE host = 'allowed.test'")"

syslog=$(cat "$(cg_peer_data udp 5514)")
cg_expect_match "syslog: a block arrives as RFC 5424 notice (local0) with its JSON" \
	'<133>1 [0-9T:.-]+Z [^ ]+ cafeguardd [0-9]+ block - \{"time":"[^"]*","event":"block".*"host":"blocked.test"' "$syslog"
cg_expect_match "syslog: the start arrives as info" '<134>1 [^ ]+ [^ ]+ cafeguardd [0-9]+ start - ' "$syslog"
if grep -q '"event":"allow"' <<<"$syslog"; then cg_fail "syslog: allowed traffic was sent by name"; fi
cg_pass "syslog: allowed traffic is not sent"

# ---- metrics for the chain's Prometheus (node_exporter's textfile collector)
sleep 1.2 # the workers copy their counters once a second
m=$(ctl metrics)
cg_expect_match "metrics: blocks by category" '^cafeguard_blocks_by_category_total\{category="adult"\} [1-9]' "$m"
cg_expect_match "metrics: packets per worker" '^cafeguard_worker_packets_total\{worker="0"\} [1-9]' "$m"
cg_expect_match "metrics: list sizes" '^cafeguard_list_entries\{category="adult"\} 1$' "$m"
cg_expect_match "metrics: the reload counted" '^cafeguard_rules_reloads_total\{result="ok"\} 1$' "$m"
cg_expect_match "metrics: syslog sent" '^cafeguard_syslog_sent_total [1-9]' "$m"
if grep -vE '^(# (HELP|TYPE) cafeguard_[a-z_]+ .+|cafeguard_[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? [0-9]+(\.[0-9]+)?)$' <<<"$m" | grep -q .; then
	cg_fail "metrics: a line is not Prometheus text: $(grep -vE '^(# |cafeguard_)' <<<"$m" | head -n 2)"
fi
cg_pass "metrics: every line is Prometheus text"

# ---- kill -9 under a stream of blocks
load=$CG_TMP/load.out
cg_in seat1 "$TOP/tests/netns/tools/dns_load.py" "$CG_DNS4" blocked.test 500 4 >"$load" &
lpid=$!
sleep 2
kill_ms=$(date +%s%3N)
cg_daemon_kill9
wait $lpid || true
cg_log "cg: load: $(cat "$load")"
cg_expect_eq "after kill -9 the database is whole" ok "$(sqlite3 "$DB" "PRAGMA integrity_check")"
last=$(sqlite3 "$DB" "SELECT max(time_ms) FROM events WHERE host = 'blocked.test'")
gap=$((kill_ms - last))
rows=$(sqlite3 "$DB" "SELECT count(*) FROM events WHERE host = 'blocked.test' AND time_ms > $((kill_ms - 2500))")
[ "$gap" -le 1000 ] || cg_fail "kill -9: the last stored block is $gap ms before the kill (limit 1000)"
cg_pass "kill -9: the last stored block is $gap ms before the kill; $rows blocks stored from the 2 s of load (500 q/s)"

# ---- a restart appends to the same database
cg_daemon_start "$CONF"
cg_expect_eq "after the restart a block is refused again" NXDOMAIN "$(cg_dig_rcode seat1 blocked.test A)"
sleep 0.5
cg_expect_match "the restarted daemon writes to the same database" 'start.*started' \
	"$(ctl log | tail -n 3)"
cg_expect_ok "the daemon stops cleanly" cg_daemon_stop
cg_expect_match "the stop is a row" ' stop ' "$(ctl log | tail -n 1)"
cg_summary
