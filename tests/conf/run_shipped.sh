#!/bin/bash
# The shipped rule set through the trainer's tools, as a trainer runs
# them: check is clean, the expect tests pass, explain names the rule,
# list and line, a failing expect fails loudly, compile fills the cache
# and check then maps the images; bad command lines get a clear message.
#   run_shipped.sh CAFEGUARDCTL SOURCE_DIR
set -u
ctl=$1
top=$2
cd "$top" || exit 1
conf=conf/cafeguard.conf
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { printf 'ok   %s\n' "$1"; }
bad() { printf 'FAIL %s\n' "$1"; [ -z "${2:-}" ] || printf '%s\n' "$2" | sed 's/^/     | /'; fail=1; }
# run DESC WANT_EXIT ERE CMD...: CMD exits WANT_EXIT and prints a line
# matching ERE (stdout and stderr).
run() {
	local desc=$1 want=$2 re=$3 out rc=0
	shift 3
	out=$("$@" 2>&1) || rc=$?
	if [ "$rc" -ne "$want" ]; then
		bad "$desc (exit $rc, want $want)" "$out"
	elif ! printf '%s\n' "$out" | grep -Eq -- "$re"; then
		bad "$desc (no line matches /$re/)" "$out"
	else
		ok "$desc"
	fi
}

run "check: the shipped rules are clean" 0 'valid \(3 seat' "$ctl" check -c "$conf"
run "test: every expect of the shipped rules holds" 0 '^18 of 18 test\(s\) passed' "$ctl" test -c "$conf"
run "explain: a school-hours block names window, list and line" 0 \
	'^decision: BLOCK: category games: roblox.com \(rules/lists/ut1/games/domains:[0-9]+\), schedule 08:00-12:00 \(rules/default.conf:[0-9]+\)' \
	"$ctl" explain -c "$conf" --seat seat-01 --at "2026-11-23 09:30" https://www.roblox.com/games
run "explain: the budget that counts a site is shown" 0 '^  budget: games counts this: 0 of 60 min used today' \
	"$ctl" explain -c "$conf" --seat seat-01 --at "2026-11-23 15:30" www.roblox.com
run "explain: a seat known by address" 0 '^who: +seat seat-03 .* -> profile adults' \
	"$ctl" explain -c "$conf" --ip 192.168.10.13 www.10bet.com
run "explain: adults may bet" 0 '^decision: ALLOW' \
	"$ctl" explain -c "$conf" --ip 192.168.10.13 www.10bet.com
run "explain: an unknown device gets the default profile" 0 '^who: +.*profile kids' \
	"$ctl" explain -c "$conf" --ip 192.168.10.99 www.10bet.com
run "explain: an application" 0 '^decision: BLOCK: app BitTorrent' \
	"$ctl" explain -c "$conf" --profile adults --app BitTorrent
run "explain: an unknown seat" 1 'no seat "seat-9"' \
	"$ctl" explain -c "$conf" --seat seat-9 x.test
run "explain: a bad time" 2 'give "YYYY-MM-DD HH:MM"' \
	"$ctl" explain -c "$conf" --at tomorrow x.test

# A trainer's change that breaks an expectation: test fails and says which.
ln -s "$top/rules" "$tmp/rules"
{
	sed '/^expect = (/,$d' rules/default.conf
	echo 'expect = ( { profile = "adults"; host = "www.10bet.com"; decision = "block"; } );'
} >"$tmp/changed-rules.conf"
sed -i 's|"lists/|"rules/lists/|' "$tmp/changed-rules.conf"
run "test: a broken expectation fails with its file:line" 1 \
	'changed-rules.conf:[0-9]+: FAIL: www.10bet.com: expected block, got allow' \
	"$ctl" test -c "$tmp/changed-rules.conf"

# compile: the images the daemon maps; check then uses them.
{
	printf 'state = { cache = "%s/cache"; };\n@include "rules/default.conf"\n' "$tmp"
	# The shipped config's SafeSearch targets (the profiles force it).
	sed -n '/^safesearch:/,/^};/p' conf/cafeguard.conf
} >"$tmp/cached.conf"
run "compile: one image per category" 0 '^category adult +[0-9]+ entries .*image written' \
	"$ctl" compile -c "$tmp/cached.conf"
run "compile again: the images are up to date" 0 '^category adult .*image up to date' \
	"$ctl" compile -c "$tmp/cached.conf"
run "check maps the compiled images" 0 '^category adult .*\(compiled image\)' \
	"$ctl" check -c "$tmp/cached.conf"
run "compile -o: one list to one image" 0 "entries, [0-9]+ bytes" \
	"$ctl" compile -o "$tmp/one.img" rules/lists/gambling.hosts
run "compile -o: a missing list" 1 '/nonexistent.list: error: cannot open list' \
	"$ctl" compile -o "$tmp/x.img" /nonexistent.list
printf '@include "/etc/nonexistent.conf"\n' >"$tmp/inc.conf"
run "an @include that cannot be opened is explained" 1 'inc.conf:1: error: cannot open include file \(an @include path is relative' \
	"$ctl" check -c "$tmp/inc.conf"

# The command line: clear messages, no daemon needed to say so.
run "an unknown command" 2 'unknown command "chek" \(did you mean "check"\?\)' "$ctl" chek
run "seat: a bad duration" 2 'a duration like' "$ctl" seat seat-01 --profile kids --for soon
run "seat: --profile without --for" 2 'usage: cafeguardctl seat' "$ctl" seat seat-01 --profile kids
run "clock: a bad time" 2 'give "YYYY-MM-DD HH:MM"' "$ctl" clock -c "$conf" "9 o'clock"
printf 'state = { control = "%s/none"; };\n' "$tmp" >"$tmp/nodaemon.conf"
run "reload without a daemon" 1 'cannot reach the daemon at .*none: .*is cafeguardd running\?' \
	"$ctl" reload -c "$tmp/nodaemon.conf"
run "apps --categories lists nDPI's categories" 0 '^Game$' "$ctl" apps --categories

[ $fail -eq 0 ] && echo "shipped rules and trainer tools: all as expected"
exit $fail
