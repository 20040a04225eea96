#!/bin/sh
# One entry point for a fresh Debian 12 box (run as root, or it re-runs
# itself with sudo):
#   packaging/bootstrap.sh demo   install, build, run the simulated café
#   packaging/bootstrap.sh test   install, build (plain + ASan/UBSan), run
#                                 every test in both builds
#   packaging/bootstrap.sh deps   only install the Debian packages
#   packaging/bootstrap.sh build  deps + the plain build in ./build
set -eu

cd "$(dirname "$0")/.."
what=${1:-demo}

if [ "$(id -u)" -ne 0 ]; then
	exec sudo -E "$0" "$@"
fi

# Build: compiler, CMake and the libraries the daemon links.
BUILD_PKGS="build-essential cmake pkg-config clang libclang-rt-14-dev
  libnetfilter-queue-dev libmnl-dev libndpi-dev libconfig-dev libpcap-dev
  libssl-dev libcmocka-dev libmicrohttpd-dev libsqlite3-dev"
# Run: what the daemon calls on the box.
RUN_PKGS="iptables iproute2 conntrack kmod"
# Test: the simulated café's servers and clients.
TEST_PKGS="nginx-light dnsmasq-base curl bind9-dnsutils openssl socat
  xz-utils procps psmisc python3 sqlite3 chromium fonts-noto-core fonts-thai-tlwg"

deps() {
	missing=""
	for p in $BUILD_PKGS $RUN_PKGS $TEST_PKGS; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q "install ok installed" || missing="$missing $p"
	done
	if [ -n "$missing" ]; then
		echo "bootstrap: installing:$missing"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		# shellcheck disable=SC2086
		apt-get install -y -qq --no-install-recommends $missing
	fi
}

build() { # build DIR [cmake args...]
	dir=$1
	shift
	cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
	cmake --build "$dir" -j "$(nproc)"
}

case "$what" in
deps)
	deps
	;;
build)
	deps
	build build
	;;
demo)
	deps
	build build
	exec tests/netns/demo.sh build
	;;
test)
	deps
	build build
	# The sanitizer build runs the same tests: ASan finds what the
	# plain build only survives; UBSan stops at the first report.
	build build-asan -DCAFEGUARD_SANITIZE=ON
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
	export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
	rc=0
	ctest --test-dir build --output-on-failure -j 2 -LE netns || rc=1
	ctest --test-dir build --output-on-failure -L netns || rc=1
	ctest --test-dir build-asan --output-on-failure -j 2 -LE netns || rc=1
	ctest --test-dir build-asan --output-on-failure -L netns || rc=1
	if [ $rc -ne 0 ]; then
		echo "bootstrap: some tests failed" >&2
		exit 1
	fi
	echo "bootstrap: all tests passed (plain and sanitizer builds)"
	;;
*)
	echo "usage: $0 demo|test|deps|build" >&2
	exit 2
	;;
esac
