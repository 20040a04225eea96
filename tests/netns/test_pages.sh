#!/bin/bash
# The portal's pages as a child's browser shows them: headless Chromium
# on a seat loads the splash page and the block page in each of the four
# languages, with the language chosen by the browser (Accept-Language),
# saves a phone-sized screenshot of each (tests/artifacts/pages/) and
# checks the rendered text: the page's language, the café's name, the
# sentences of that language's translation file, the category in words,
# and that no list entry or file reaches the page.
set -eu
. "$(dirname "$0")/lib.sh"
TOP=$(cd "$(dirname "$0")/../.." && pwd)
ART=${CG_ARTIFACTS:-$TOP/tests/artifacts}/pages

command -v chromium >/dev/null || cg_fail "chromium is not installed (packaging/bootstrap.sh deps)"
cg_setup
mkdir -p "$ART"

LIST=$(cg_list_file adult.list blocked.test)
CONF=$CG_TMP/cafeguard.conf
cg_daemon_conf "$CONF" - <<EOF
categories = ( { name = "adult"; title = "adult sites"; lists = [ "$LIST" ]; } );
profiles = ( { name = "kids"; block = { categories = [ "adult" ]; }; } );
portal = {
  address = "$CG_GW4"; name = "Lan House Aurora"; www = "$TOP/conf/www";
  language = "en"; country = "BR";
  hotlines = ( { country = "BR"; name = "SaferNet Brasil"; url = "https://new.safernet.org.br/denuncie"; } );
};
EOF
cg_daemon_start "$CONF"
PORTAL=http://$CG_GW4

# A sentence of a translation file, as the browser renders it.
text() { # LANG KEY
	sed -n "s/^ *$2 = \"\(.*\)\";\$/\1/p" "$TOP/conf/www/lang/$1.conf" | head -n1 |
		sed 's/\\"/"/g'
}

# chromium LANG OUT.png URL: a screenshot, and the rendered DOM on stdout.
browse() {
	local lang=$1 png=$2 url=$3 prof
	prof=$(mktemp -d "$CG_TMP/chromium.XXXXXX")
	local args=(--headless=new --no-sandbox --disable-gpu --no-first-run
		--disable-extensions --disable-background-networking
		--disable-component-update --disable-sync --hide-scrollbars
		--user-data-dir="$prof" --lang="$lang" --accept-lang="$lang"
		--window-size=390,1100 --virtual-time-budget=3000)
	HOME=$prof timeout 60 ip netns exec "$NS_SEAT1" chromium "${args[@]}" \
		--screenshot="$png" "$url" >/dev/null 2>&1 ||
		cg_fail "chromium ($lang) could not take $png"
	HOME=$prof timeout 60 ip netns exec "$NS_SEAT1" chromium "${args[@]}" \
		--dump-dom "$url" 2>/dev/null
}

for lang in en pt-BR es th; do
	dom=$(browse "$lang" "$ART/splash-$lang.png" "$PORTAL/splash")
	cg_expect_match "splash ($lang): the page is in $lang" "<html[^>]* lang=\"$lang\"" "$dom"
	cg_expect_match "splash ($lang): the café's name" 'Lan House Aurora' "$dom"
	for key in tip_strangers tip_private agree; do
		want=$(text "$lang" $key)
		[ -n "$want" ] || cg_fail "conf/www/lang/$lang.conf has no $key"
		grep -qF -- "$want" <<<"$dom" ||
			cg_fail "splash ($lang): the rendered page lacks \"$want\""
	done
	cg_pass "splash ($lang): the safety advice and the button are in $lang"
	cg_expect_match "splash ($lang): the hotline is linked" 'href="https://new.safernet.org.br/denuncie"' "$dom"
	[ "$(stat -c %s "$ART/splash-$lang.png")" -gt 10000 ] ||
		cg_fail "splash ($lang): the screenshot is empty"

	dom=$(browse "$lang" "$ART/block-$lang.png" \
		"$PORTAL/blocked?host=www.blocked.test&reason=list&category=adult")
	cg_expect_match "block ($lang): the page is in $lang" "<html[^>]* lang=\"$lang\"" "$dom"
	cg_expect_match "block ($lang): the blocked site is named" 'www\.blocked\.test' "$dom"
	for key in mistake; do
		want=$(text "$lang" $key)
		grep -qF -- "$want" <<<"$dom" ||
			cg_fail "block ($lang): the rendered page lacks \"$want\""
	done
	cg_pass "block ($lang): \"ask the attendant\" is in $lang"
	want=$(text "$lang" adult)
	grep -qF -- "$want" <<<"$dom" ||
		cg_fail "block ($lang): the category is not in words (\"$want\")"
	cg_pass "block ($lang): the category in words: $want"
	if grep -q 'adult\.list' <<<"$dom"; then cg_fail "block ($lang): a list file reached the page"; fi
	[ "$(stat -c %s "$ART/block-$lang.png")" -gt 10000 ] ||
		cg_fail "block ($lang): the screenshot is empty"
done
cg_log "screenshots: $ART"
cg_expect_ok "the daemon stops cleanly" cg_daemon_stop
cg_summary
