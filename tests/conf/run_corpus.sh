#!/bin/sh
# Every config under good/ must pass `cafeguardctl check` (exit 0); every
# config under warn/ must pass with warnings (exit 2) and every one under
# bad/ must fail (exit 1), each printing the message its first line
# expects ("# expect: <text>"), file and line included.
set -u
ctl=$1
dir=$2
cd "$dir" || exit 1
fail=0
for f in good/*.conf; do
	if ! out=$("$ctl" check -c "$f" 2>&1); then
		echo "FAIL $f: rejected:"; echo "$out"; fail=1
	fi
done
expect() { # DIR EXIT
	for f in "$1"/*.conf; do
		want=$(sed -n '1s/^# expect: //p' "$f")
		out=$("$ctl" check -c "$f" 2>&1)
		rc=$?
		if [ "$rc" -ne "$2" ]; then
			echo "FAIL $f: exit status $rc, expected $2"; echo "$out"; fail=1
		elif ! printf '%s\n' "$out" | grep -qF -- "$want"; then
			echo "FAIL $f: expected \"$want\", got:"; echo "$out"; fail=1
		fi
	done
}
expect warn 2
expect bad 1
[ $fail -eq 0 ] && echo "config corpus: $(ls good/*.conf | wc -l) good, $(ls warn/*.conf | wc -l) with warnings, $(ls bad/*.conf | wc -l) bad, all as expected"
exit $fail
