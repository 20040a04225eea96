#!/bin/sh
# Every config under good/ must pass `cafeguardctl check`; every config
# under bad/ must fail, printing the message its first line expects
# ("# expect: <text>"), file and line included.
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
for f in bad/*.conf; do
	want=$(sed -n '1s/^# expect: //p' "$f")
	out=$("$ctl" check -c "$f" 2>&1)
	rc=$?
	if [ "$rc" -ne 1 ]; then
		echo "FAIL $f: exit status $rc, expected 1"; echo "$out"; fail=1
	elif ! printf '%s\n' "$out" | grep -qF -- "$want"; then
		echo "FAIL $f: expected \"$want\", got:"; echo "$out"; fail=1
	fi
done
[ $fail -eq 0 ] && echo "config corpus: $(ls good/*.conf | wc -l) good, $(ls bad/*.conf | wc -l) bad, all as expected"
exit $fail
