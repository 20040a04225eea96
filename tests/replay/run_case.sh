#!/bin/sh
# Replays the captures of one case through the real pipeline and compares
# every decision with the case's expected output.
#   run_case.sh CAFEGUARDCTL CASE_DIR
# A case directory holds:
#   case.conf  the configuration (lists relative to the case directory)
#   pcaps      capture file names, one a line, from tests/data/pcap
#   expected   what `cafeguardctl replay` must print, line for line
#   args       (optional) extra arguments, e.g. --summary; the timing line
#              of a summary is left out of the comparison
# UPDATE=1 rewrites expected from the current output (review the diff!).
set -eu
ctl=$1
dir=$(cd "$2" && pwd)
name=$(basename "$dir")
# Paths in the output (list files, captures) are relative to the replay
# directory, so expected output is the same on every machine.
cd "$dir/.."
files=""
while read -r f; do
	case "$f" in ''|'#'*) continue ;; esac
	files="$files ../data/pcap/$f"
done < "$name/pcaps"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
args=""
[ -f "$name/args" ] && args=$(cat "$name/args")
# shellcheck disable=SC2086
"$ctl" replay -c "$name/case.conf" $args $files | grep -v '^# pipeline time' > "$out"
if [ "${UPDATE:-0}" = 1 ]; then
	cp "$out" "$name/expected"
	echo "updated $name/expected"
	exit 0
fi
if ! diff -u "$name/expected" "$out"; then
	echo "replay case $name: output differs from expected" >&2
	exit 1
fi
echo "replay case $name: $(grep -vc '^#' "$out") decisions as expected"
