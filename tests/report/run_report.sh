#!/bin/sh
# `cafeguardctl report` on a known day (known.sql): its numbers must be
# exactly those in expected (text) and the HTML must carry them and the
# SVG chart.  UPDATE=1 rewrites expected (review the diff).
#   run_report.sh CAFEGUARDCTL DIR
set -eu
ctl=$1
dir=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export TZ=UTC
sqlite3 "$tmp/events.db" <"$dir/known.sql"
printf 'log = { database = "%s/events.db"; };\n' "$tmp" >"$tmp/c.conf"
"$ctl" report -c "$tmp/c.conf" --day 2026-11-23 --html "$tmp/r.html" |
	grep -v '^HTML report:' >"$tmp/out"
if [ "${UPDATE:-0}" = 1 ]; then
	cp "$tmp/out" "$dir/expected"
	echo "updated expected"
	exit 0
fi
diff -u "$dir/expected" "$tmp/out"
fail=0
for want in '<html lang="en">' '<svg viewBox' 'Blocks per hour, 5 in all' \
	'<td>seat-01</td><td>3</td>' 'bypass attempts 1' 'hashed-list hits 1'; do
	grep -qF "$want" "$tmp/r.html" || { echo "HTML lacks: $want"; fail=1; }
done
if grep -q other.test "$tmp/out" "$tmp/r.html"; then
	echo "another day's block is in the report"; fail=1
fi
"$ctl" report -c "$tmp/c.conf" --day 2026-13-45x >/dev/null 2>&1 && { echo "a bad --day was accepted"; fail=1; }
[ $fail -eq 0 ] && echo "report: known day as expected"
exit $fail
