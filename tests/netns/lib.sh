# shellcheck shell=bash
#
# lib.sh - a simulated cybercafé in network namespaces, for cafeguard's
# integration tests.  Sourced by tests/netns/*.sh:
#
#     #!/bin/bash
#     set -eu
#     . "$(dirname "$0")/lib.sh"
#     cg_setup
#     cg_expect_ok "seat1 reaches allowed.test" cg_curl seat1 http://allowed.test/
#
# Topology (one run; every name below ns level is fixed, the namespace
# names are unique per run: cg-<run>-seat1, cg-<run>-gw, ...):
#
#   seat1 ns                 gw ns ($NS_GW)                      inet ns ($NS_INET)
#  +-----------------+      +-----------------------------+     +------------------------------+
#  | eth0            |      |   bridge lan0               |     | eth0 198.51.100.1/24         |
#  |  10.77.1.11/24  +------+ seat1  10.77.1.1/24         |     |      2001:db8:100::1/64      |
#  |  fd77:1::11/64  |      |        fd77:1::1/64         |     |                              |
#  +-----------------+      |                             |     | lo (server addresses):       |
#   seat2 ns                |        wan0 198.51.100.2/24 +-----+  web  198.51.100.10          |
#  +-----------------+      |             2001:db8:100::2 |     |       2001:db8:100::10       |
#  | eth0            +------+ seat2                       |     |       nginx :80 :443         |
#  |  10.77.1.12/24  |      |                             |     |  dns  198.51.100.53          |
#  |  fd77:1::12/64  |      | ip(6) forwarding on         |     |       2001:db8:100::53       |
#  +-----------------+      | MASQUERADE -o wan0 (CG_NAT) |     |       dnsmasq udp+tcp 53     |
#   default via gw          | cafeguardd runs here        |     |  peer 198.51.100.20          |
#   resolver: dns           +-----------------------------+     |       2001:db8:100::20       |
#                                                                |       socat (cg_peer_tcp/udp)|
#                                                                | routes 10.77.1.0/24,         |
#                                                                |   fd77:1::/64 via the gw     |
#                                                                +------------------------------+
#
# Everything a run creates (namespaces, /etc/netns/<ns>/, processes, the
# temp dir) is removed by cg_cleanup, which cg_setup arranges to run on
# EXIT.  No packet leaves these namespaces: none of them has a link to the
# host, and the inet ns has no default route.
#
# The API is documented in README.md beside this file.  Private helpers
# are named cg__*.  Every function works under `set -eu`; messages go to
# stderr so that `x=$(cg_curl ...)` captures only what the command printed.

if [ -z "${BASH_VERSION:-}" ]; then
	echo "lib.sh: needs bash" >&2
	# shellcheck disable=SC2317 # exit when run, return when sourced
	return 2 2>/dev/null || exit 2
fi

CG_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh

# ---------------------------------------------------------------- settings
: "${CG_NAT:=1}"          # 1: MASQUERADE IPv4 from the LAN on wan0
: "${CG_FW:=nft}"         # iptables backend: nft | legacy | auto
: "${CG_FAIL_OPEN:=true}" # written into cg_daemon_conf
: "${CG_KEEP:=0}"         # 1: cg_cleanup keeps everything for debugging
: "${CG_SEATS:=2}"        # number of seat namespaces (1..20)
: "${CG_HTTP2:=0}"        # 1: nginx offers h2 on 443
: "${CG_CURL_TIMEOUT:=5}" # default --max-time of cg_curl (s)
: "${CG_DAEMON_TIMEOUT:=10}" # cg_daemon_start/stop wait at most this (s)
: "${CG_VHOSTS:=allowed.test blocked.test www.blocked.test deep.sub.blocked.test notblocked.test games.test}"
: "${CAFEGUARDD:=}"
: "${CAFEGUARDCTL:=}"

# ---------------------------------------------------------------- addresses
CG_LAN4=10.77.1.0/24
CG_LAN6=fd77:1::/64
CG_GW4=10.77.1.1
CG_GW6=fd77:1::1
CG_WAN_GW4=198.51.100.2
CG_WAN_GW6=2001:db8:100::2
CG_WAN_INET4=198.51.100.1
CG_WAN_INET6=2001:db8:100::1
CG_WEB4=198.51.100.10
CG_WEB6=2001:db8:100::10
CG_DNS4=198.51.100.53
CG_DNS6=2001:db8:100::53
CG_PEER4=198.51.100.20
CG_PEER6=2001:db8:100::20
CG_PEER_NAME=peer.test
# seatN: 10.77.1.(10+N), fd77:1::(10+N), MAC 52:54:00:77:01:(10+N) in hex;
# CG_SEAT1_4, CG_SEAT1_6, CG_SEAT1_MAC ... are set by cg_setup.

# Per-shell state: never taken from the environment.
CG_PASSED=0
CG_FAILED=0
CG__T0=${EPOCHREALTIME//[!0-9]/}
CG__NAME=$(basename "$0" .sh)
CG_TMP=
CG_RUN=
CG_DAEMON_PID=
CG_DAEMON_LOG=

# ---------------------------------------------------------------- messages
cg_log() { printf '%s\n' "$*" >&2; }
cg__err() { printf 'cg[%s]: %s\n' "${CG_RUN:-}" "$*" >&2; }

# cg_pass MSG: counts and prints one passed check.
cg_pass() {
	CG_PASSED=$((CG_PASSED + 1))
	printf '  ok   %s\n' "$*" >&2
}

# cg_fail MSG: counts, prints, and exits 1 (cleanup runs from the trap).
cg_fail() {
	CG_FAILED=$((CG_FAILED + 1))
	printf '  FAIL %s\n' "$*" >&2
	exit 1
}

# cg_summary: the time taken, then the closing line alone (test runners
# read it): "NAME: N passed, N failed".
cg_summary() {
	local now=${EPOCHREALTIME//[!0-9]/}
	local ms=$(((now - CG__T0) / 1000))
	printf '%s: took %d.%03d s\n' "$CG__NAME" $((ms / 1000)) $((ms % 1000))
	printf '%s: %d passed, %d failed\n' "$CG__NAME" "$CG_PASSED" "$CG_FAILED"
}

# ---------------------------------------------------------------- time
cg__now_ms() {
	local us=${EPOCHREALTIME//[!0-9]/}
	echo $((us / 1000))
}

# "1", "0.25", "2.5" -> milliseconds
cg__to_ms() {
	local s=$1 int frac=000
	int=${s%%.*}
	[ "$s" != "${s#*.}" ] && frac=${s#*.}000
	frac=${frac:0:3}
	echo $((10#${int:-0} * 1000 + 10#$frac))
}

# cg_time_ms CMD...: prints the wall time CMD took in ms on stdout and
# returns CMD's status.  CMD's output goes to $CG_TMP/time.out.
cg_time_ms() {
	local t0 t1 rc=0
	t0=$(cg__now_ms)
	"$@" >"$(cg__outfile time)" 2>&1 || rc=$?
	t1=$(cg__now_ms)
	echo $((t1 - t0))
	return $rc
}

# cg__outfile NAME: where a helper keeps the output of the last command it
# ran ($CG_TMP/NAME.out), /dev/null outside a run.
cg__outfile() {
	if [ -n "$CG_TMP" ] && [ -d "$CG_TMP" ]; then
		echo "$CG_TMP/$1.out"
	else
		echo /dev/null
	fi
}

# cg_wait_for TIMEOUT_S CMD...: runs CMD every 50 ms until it succeeds.
# Returns 0 as soon as it does, 1 after TIMEOUT_S (fractions allowed).
# CMD's output of the last try is in $CG_TMP/wait.out.
cg_wait_for() {
	local end out
	out=$(cg__outfile wait)
	end=$(($(cg__now_ms) + $(cg__to_ms "$1")))
	shift
	while :; do
		if "$@" >"$out" 2>&1; then
			return 0
		fi
		[ "$(cg__now_ms)" -lt "$end" ] || return 1
		sleep 0.05
	done
}

# cg_wait_gone TIMEOUT_S CMD...: the reverse: polls until CMD fails.
cg_wait_gone() {
	local t=$1
	shift
	cg_wait_for "$t" cg__not "$@"
}
cg__not() { ! "$@"; }

# ---------------------------------------------------------------- assertions
cg__show_output() { # FILE
	[ -s "$1" ] || return 0
	sed -n '1,25{s/^/       | /;p}' "$1" >&2
	local n
	n=$(wc -l <"$1")
	[ "$n" -le 25 ] || printf '       | ... (%d lines)\n' "$n" >&2
}

# cg_expect_ok DESC CMD...: passes if CMD exits 0, else fails with its
# output.
cg_expect_ok() {
	local desc=$1 rc=0 out
	out=$(cg__outfile expect)
	shift
	"$@" >"$out" 2>&1 || rc=$?
	if [ $rc -eq 0 ]; then
		cg_pass "$desc"
	else
		cg__show_output "$out"
		cg_fail "$desc (exit $rc: $*)"
	fi
}

# cg_expect_fail DESC CMD...: passes if CMD exits non-zero.
cg_expect_fail() {
	local desc=$1 rc=0 out
	out=$(cg__outfile expect)
	shift
	"$@" >"$out" 2>&1 || rc=$?
	if [ $rc -ne 0 ]; then
		cg_pass "$desc"
	else
		cg__show_output "$out"
		cg_fail "$desc (succeeded but should have failed: $*)"
	fi
}

# cg_expect_fail_within MS DESC CMD...: CMD must fail, and in less than MS.
cg_expect_fail_within() {
	local lim=$1 desc=$2 ms rc=0
	shift 2
	ms=$(cg_time_ms "$@") || rc=$?
	if [ $rc -eq 0 ]; then
		cg__show_output "$(cg__outfile time)"
		cg_fail "$desc (succeeded but should have failed: $*)"
	elif [ "$ms" -ge "$lim" ]; then
		cg_fail "$desc (failed, but after $ms ms, limit $lim ms)"
	fi
	cg_pass "$desc (exit $rc after $ms ms)"
}

# cg_expect_eq DESC WANT GOT
cg_expect_eq() {
	if [ "$2" = "$3" ]; then
		cg_pass "$1"
	else
		cg_fail "$1 (want '$2', got '$3')"
	fi
}

# cg_expect_match DESC ERE TEXT: TEXT (any line) must match the regex.
cg_expect_match() {
	if printf '%s\n' "$3" | grep -Eq -- "$2"; then
		cg_pass "$1"
	else
		printf '%s\n' "$3" | sed -n '1,25s/^/       | /p' >&2
		cg_fail "$1 (no line matches /$2/)"
	fi
}

# ---------------------------------------------------------------- namespaces
# cg__ns NAME: seat1|seat2|...|gw|inet -> namespace name; others as given.
cg__ns() {
	case $1 in
	gw) echo "$NS_GW" ;;
	inet) echo "$NS_INET" ;;
	seat[0-9] | seat[0-9][0-9])
		local v=NS_SEAT${1#seat}
		[ -n "${!v:-}" ] || { cg__err "no such seat: $1"; return 2; }
		echo "${!v}"
		;;
	*) echo "$1" ;;
	esac
}

# cg_in NS CMD...: runs CMD (a program, not a shell function) in NS.
# NS is seat1, seat2, gw, inet or a namespace name.
cg_in() {
	local ns
	ns=$(cg__ns "$1") || return 2
	shift
	ip netns exec "$ns" "$@"
}
cg_seat1() { cg_in "$NS_SEAT1" "$@"; }
cg_seat2() { cg_in "$NS_SEAT2" "$@"; }
cg_gw() { cg_in "$NS_GW" "$@"; }
cg_inet() { cg_in "$NS_INET" "$@"; }

# cg__must CMD...: setup steps; on failure print and exit (the EXIT trap
# then removes whatever was built so far).
cg__must() {
	local out rc=0
	out=$("$@" 2>&1) || rc=$?
	if [ $rc -ne 0 ]; then
		cg__err "setup step failed (exit $rc): $*"
		[ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/    /' >&2
		exit 1
	fi
}

cg__state() { # append VAR=value to the run's state file (read by `lib.sh cleanup`)
	printf '%s=%q\n' "$1" "$2" >>"$CG_TMP/state"
}

cg__alive() { # PID: running and not a zombie
	local s
	read -r s 2>/dev/null <"/proc/$1/stat" || return 1
	s=${s##*) }
	[ "${s%% *}" != Z ]
}

# cg__spawn NAME NS LOG CMD...: starts CMD in NS in the background, output
# to LOG; records the pid (for cleanup) in CG__LASTPID.
cg__spawn() {
	local name=$1 ns=$2 log=$3
	shift 3
	ip netns exec "$ns" "$@" </dev/null >>"$log" 2>&1 &
	CG__LASTPID=$!
	echo "$CG__LASTPID $name" >>"$CG_TMP/pids"
}

# cg__wait_started NAME PID LOG TIMEOUT CMD...: polls CMD while PID lives.
cg__wait_started() {
	local name=$1 pid=$2 log=$3 tmo=$4 end
	end=$(($(cg__now_ms) + $(cg__to_ms "$tmo")))
	shift 4
	while ! "$@" >/dev/null 2>&1; do
		if ! cg__alive "$pid"; then
			cg__err "$name exited during startup; its log ($log):"
			sed 's/^/    /' "$log" >&2 || true
			return 1
		fi
		if [ "$(cg__now_ms)" -ge "$end" ]; then
			cg__err "$name not ready after $tmo s (waited for: $*); its log ($log):"
			sed 's/^/    /' "$log" >&2 || true
			return 1
		fi
		sleep 0.05
	done
}

cg__listening() { # NS PROTO(t|u) ADDR:PORT...: all sockets bound?
	local ns=$1 p=$2 s out
	shift 2
	out=$(ip netns exec "$ns" ss -Hn"$p"l) || return 1
	for s in "$@"; do
		grep -qF " $s " <<<"$out " || return 1
	done
}

# ---------------------------------------------------------------- firewall
# cg__fwtool 4|6 [save|restore]: the iptables program of backend CG_FW.
cg__fwtool() {
	local ip=iptables suffix=
	[ "$1" = 6 ] && ip=ip6tables
	case $CG_FW in
	nft) suffix=-nft ;;
	legacy) suffix=-legacy ;;
	auto) ;;
	*) cg__err "CG_FW must be nft, legacy or auto (is '$CG_FW')"; return 2 ;;
	esac
	case ${2:-} in
	save | restore) echo "$ip$suffix-$2" ;;
	*) echo "$ip$suffix" ;;
	esac
}

# cg_iptables 4|6 ARGS...: iptables of backend CG_FW, in the gw, with -w.
cg_iptables() {
	local t
	t=$(cg__fwtool "$1") || return 2
	shift
	ip netns exec "$NS_GW" "$t" -w "$@"
}

# cg_fw_save [4|6]: prints the gw's filter/nat/... tables (backend CG_FW).
cg_fw_save() {
	local t
	t=$(cg__fwtool "${1:-4}" save) || return 2
	ip netns exec "$NS_GW" "$t" 2>/dev/null
}

# cg_fw_has_chain CHAIN [4|6]: 0 if the gw's backend CG_FW has CHAIN.
# Without a family both must have it.
cg_fw_has_chain() {
	local f
	for f in ${2:-4 6}; do
		cg_fw_save "$f" | grep -q "^:$1 " || return 1
	done
}

# cg_nat on|off: the IPv4 MASQUERADE rule on wan0 (backend CG_FW).
cg_nat() {
	local rule=(POSTROUTING -s "$CG_LAN4" -o wan0 -j MASQUERADE)
	local have=0
	cg_iptables 4 -t nat -C "${rule[@]}" 2>/dev/null && have=1
	case $1 in
	on) [ $have = 1 ] || cg_iptables 4 -t nat -A "${rule[@]}" ;;
	off) [ $have = 0 ] || cg_iptables 4 -t nat -D "${rule[@]}" ;;
	*) cg__err "cg_nat on|off"; return 2 ;;
	esac
}

# cg_conntrack_flush: forget every connection the gw tracks.
cg_conntrack_flush() {
	ip netns exec "$NS_GW" conntrack -F >/dev/null 2>&1 || true
}

# ---------------------------------------------------------------- setup
cg__check_tools() {
	local t missing=
	for t in ip ss nginx dnsmasq curl dig openssl conntrack \
		iptables-nft iptables-legacy ip6tables-nft ip6tables-legacy; do
		command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
	done
	if [ -n "$missing" ]; then
		cg__err "missing programs:$missing (see tests/netns/README.md)"
		exit 1
	fi
	if [ "$(id -u)" != 0 ]; then
		cg__err "must run as root (network namespaces)"
		exit 1
	fi
	if [ ! -e /etc/resolv.conf ] || [ ! -e /etc/hosts ]; then
		# ip netns exec bind-mounts /etc/netns/<ns>/X over /etc/X.
		cg__err "/etc/resolv.conf and /etc/hosts must exist"
		exit 1
	fi
}

cg__add_ns() { # VAR ROLE
	local ns=cg-$CG_RUN-$2
	if [ -e "/run/netns/$ns" ] || [ -e "/etc/netns/$ns" ]; then
		cg__err "namespace $ns already exists"
		exit 1
	fi
	cg__state CG__NSLIST "$CG__NSLIST $ns"
	CG__NSLIST="$CG__NSLIST $ns"
	cg__must ip netns add "$ns"
	printf -v "$1" %s "$ns"
	export "${1?}"
	mkdir -p "/etc/netns/$ns"
	printf 'nameserver %s\noptions timeout:1 attempts:1\n' "$CG_DNS4" \
		>"/etc/netns/$ns/resolv.conf"
	printf '127.0.0.1 localhost\n::1 localhost\n' >"/etc/netns/$ns/hosts"
	cg__must ip -n "$ns" link set lo up
	# No DAD (addresses usable at once, servers can bind them), no
	# router solicitations (quiet links), and no inheritance surprises.
	cg__must ip netns exec "$ns" sysctl -q -w \
		net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
		net.ipv6.conf.default.router_solicitations=0 \
		net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0
}

cg__build_links() {
	local i ns ip4 ip6 a
	cg__must ip -n "$NS_GW" link add lan0 type bridge stp_state 0
	cg__must ip -n "$NS_GW" addr add "$CG_GW4/24" dev lan0
	cg__must ip -n "$NS_GW" addr add "$CG_GW6/64" dev lan0 nodad
	cg__must ip -n "$NS_GW" link set lan0 up
	for ((i = 1; i <= CG_SEATS; i++)); do
		local v=NS_SEAT$i
		ns=${!v}
		ip4=10.77.1.$((10 + i))
		ip6=fd77:1::$((10 + i))
		printf -v "CG_SEAT${i}_4" %s "$ip4"
		printf -v "CG_SEAT${i}_6" %s "$ip6"
		# A fixed MAC per seat, so a config can name seats by MAC.
		printf -v "CG_SEAT${i}_MAC" '52:54:00:77:01:%02x' $((10 + i))
		local mv=CG_SEAT${i}_MAC
		cg__must ip -n "$ns" link add eth0 address "${!mv}" type veth peer name "seat$i" netns "$NS_GW"
		cg__must ip -n "$NS_GW" link set "seat$i" master lan0 up
		cg__must ip -n "$ns" addr add "$ip4/24" dev eth0
		cg__must ip -n "$ns" addr add "$ip6/64" dev eth0 nodad
		cg__must ip -n "$ns" link set eth0 up
		cg__must ip -n "$ns" route add default via "$CG_GW4"
		cg__must ip -n "$ns" -6 route add default via "$CG_GW6"
	done

	cg__must ip -n "$NS_GW" link add wan0 type veth peer name eth0 netns "$NS_INET"
	cg__must ip -n "$NS_GW" addr add "$CG_WAN_GW4/24" dev wan0
	cg__must ip -n "$NS_GW" addr add "$CG_WAN_GW6/64" dev wan0 nodad
	cg__must ip -n "$NS_GW" link set wan0 up
	cg__must ip -n "$NS_INET" addr add "$CG_WAN_INET4/24" dev eth0
	cg__must ip -n "$NS_INET" addr add "$CG_WAN_INET6/64" dev eth0 nodad
	cg__must ip -n "$NS_INET" link set eth0 up
	for a in "$CG_WEB4" "$CG_DNS4" "$CG_PEER4"; do
		cg__must ip -n "$NS_INET" addr add "$a/32" dev lo
		# The servers share the WAN link's prefix but live on lo, one
		# hop behind inet's eth0: route them there, or the gw would
		# look for them on the link (and IPv6 neighbour discovery only
		# answers for addresses of the asked interface).
		cg__must ip -n "$NS_GW" route add "$a/32" via "$CG_WAN_INET4"
	done
	for a in "$CG_WEB6" "$CG_DNS6" "$CG_PEER6"; do
		cg__must ip -n "$NS_INET" addr add "$a/128" dev lo
		cg__must ip -n "$NS_GW" -6 route add "$a/128" via "$CG_WAN_INET6"
	done
	cg__must ip -n "$NS_GW" route add default via "$CG_WAN_INET4"
	cg__must ip -n "$NS_GW" -6 route add default via "$CG_WAN_INET6"
	cg__must ip -n "$NS_INET" route add "$CG_LAN4" via "$CG_WAN_GW4"
	cg__must ip -n "$NS_INET" -6 route add "$CG_LAN6" via "$CG_WAN_GW6"

	cg__must ip netns exec "$NS_GW" sysctl -q -w net.ipv4.ip_forward=1 \
		net.ipv6.conf.all.forwarding=1
	# br_netfilter, where the host has it loaded, makes traffic between
	# two seats cross the gw's iptables; a café gateway normally does
	# not, and the daemon's rules should not depend on it either way.
	if [ -e /proc/sys/net/bridge/bridge-nf-call-iptables ]; then
		cg__must ip netns exec "$NS_GW" sysctl -q -w \
			net.bridge.bridge-nf-call-iptables=0 \
			net.bridge.bridge-nf-call-ip6tables=0
	fi
	if [ "$CG_NAT" = 1 ]; then
		cg__must cg_nat on
	fi
}

cg__make_tls() {
	local d=$CG_TMP/tls san="" n
	mkdir -p "$d"
	for n in $CG_VHOSTS $CG_PEER_NAME; do
		san="${san}DNS:$n,"
	done
	san="${san}IP:$CG_WEB4,IP:$CG_WEB6"
	cg__must openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -days 7 -subj "/CN=cafeguard test server" \
		-addext "subjectAltName=$san" \
		-keyout "$d/key.pem" -out "$d/cert.pem"
	CG_CERT=$d/cert.pem
	CG_KEY=$d/key.pem
}

cg__nginx_server() { # NAME BODY-NAME DEFAULT(0|1)
	local def='' h2=
	[ "$3" = 1 ] && def=" default_server"
	[ "$CG_HTTP2" = 1 ] && h2=" http2"
	cat <<EOF
	server {
		listen $CG_WEB4:80$def;
		listen [$CG_WEB6]:80$def;
		listen $CG_WEB4:443 ssl$h2$def;
		listen [$CG_WEB6]:443 ssl$h2$def;
		server_name $1;
		location = /big { alias $CG_TMP/nginx/big.bin; default_type application/octet-stream; }
		# Paced by the server: a client's own rate limit paces only
		# its reads, and the whole file sits in its socket buffer
		# within the first second.
		location = /slow { alias $CG_TMP/nginx/big.bin; default_type application/octet-stream; limit_rate 100k; }
		location / { return 200 "vhost=$2\n"; }
	}
EOF
}

cg__start_nginx() {
	local d=$CG_TMP/nginx n
	mkdir -p "$d/tmp"
	head -c 2097152 /dev/urandom >"$d/big.bin"
	{
		cat <<EOF
# generated by tests/netns/lib.sh for one test run
daemon off;
master_process on;
user root root;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log notice;
events { worker_connections 512; }
http {
	log_format cg '\$remote_addr \$server_addr \$server_port \$scheme \$host "\$request" \$status \$body_bytes_sent conn=\$connection req=\$connection_requests';
	access_log $d/access.log cg;
	default_type text/plain;
	client_body_temp_path $d/tmp/body;
	proxy_temp_path $d/tmp/proxy;
	fastcgi_temp_path $d/tmp/fastcgi;
	uwsgi_temp_path $d/tmp/uwsgi;
	scgi_temp_path $d/tmp/scgi;
	sendfile on;
	keepalive_timeout 60s;
	keepalive_requests 1000;
	ssl_certificate $CG_CERT;
	ssl_certificate_key $CG_KEY;
	ssl_protocols TLSv1.2 TLSv1.3;
EOF
		cg__nginx_server _ default 1
		for n in $CG_VHOSTS; do
			cg__nginx_server "$n" "$n" 0
		done
		echo "}"
	} >"$d/nginx.conf"
	CG_NGINX_ACCESS_LOG=$d/access.log
	CG_NGINX_ERROR_LOG=$d/error.log
	: >"$CG_NGINX_ACCESS_LOG"
	# Its stderr (errors before the config is read) joins error.log.
	cg__spawn nginx "$NS_INET" "$CG_NGINX_ERROR_LOG" \
		nginx -p "$d/" -c "$d/nginx.conf" -e "$d/error.log"
	CG__NGINX_PID=$CG__LASTPID
}

cg__start_dnsmasq() {
	local d=$CG_TMP/dnsmasq n recs=()
	mkdir -p "$d"
	for n in $CG_VHOSTS; do
		recs+=("--host-record=$n,$CG_WEB4,$CG_WEB6")
	done
	recs+=("--host-record=$CG_PEER_NAME,$CG_PEER4,$CG_PEER6")
	CG_DNSMASQ_LOG=$d/dnsmasq.log
	# --address=/#/ with no address: NXDOMAIN for every other name.
	cg__spawn dnsmasq "$NS_INET" "$CG_DNSMASQ_LOG" \
		dnsmasq --keep-in-foreground --conf-file=/dev/null \
		--no-resolv --no-hosts --no-poll --user=root --group=root \
		--pid-file="$d/dnsmasq.pid" --log-facility="$CG_DNSMASQ_LOG" \
		--log-queries --bind-interfaces \
		--listen-address="$CG_DNS4" --listen-address="$CG_DNS6" \
		--cache-size=0 "${recs[@]}" --address=/#/
	CG__DNSMASQ_PID=$CG__LASTPID
}

# cg_setup: builds the café (see the top of this file), starts nginx and
# dnsmasq in inet, and returns once both are ready.  Installs an EXIT trap
# that runs cg_cleanup.  Exits 1 (after cleaning up) if anything fails.
cg_setup() {
	if [ -n "$CG_TMP" ]; then
		cg__err "cg_setup: already set up ($CG_TMP)"
		return 2
	fi
	case $CG_SEATS in
	[1-9] | 1[0-9] | 20) ;;
	*) cg__err "CG_SEATS must be 1..20"; exit 2 ;;
	esac
	cg__check_tools
	CG__SETUP_T0=$(cg__now_ms)
	CG_TMP=$(mktemp -d "${TMPDIR:-/tmp}/cafeguard-netns.XXXXXX")
	# mktemp made the suffix unique among live runs on this machine.
	CG_RUN=${CG_TMP##*.}
	CG__NSLIST=
	export CG_TMP CG_RUN
	trap cg__on_exit EXIT
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 143' TERM
	: >"$CG_TMP/pids"
	cg__state CG_RUN "$CG_RUN"

	local i
	cg__add_ns NS_GW gw
	cg__add_ns NS_INET inet
	for ((i = 1; i <= CG_SEATS; i++)); do
		cg__add_ns "NS_SEAT$i" "seat$i"
	done
	# The seats' resolver is the dns server (ip netns exec bind-mounts
	# /etc/netns/<ns>/resolv.conf); check the mount works here.
	if ! grep -q "$CG_DNS4" < <(cg_in "$NS_SEAT1" cat /etc/resolv.conf); then
		cg__err "ip netns exec does not apply /etc/netns/$NS_SEAT1/resolv.conf"
		exit 1
	fi
	cg__build_links
	cg__make_tls
	cg__start_nginx
	cg__start_dnsmasq
	cg__wait_started nginx "$CG__NGINX_PID" "$CG_NGINX_ERROR_LOG" 10 \
		cg__listening "$NS_INET" t "$CG_WEB4:80" "[$CG_WEB6]:80" \
		"$CG_WEB4:443" "[$CG_WEB6]:443" || exit 1
	cg__wait_started dnsmasq "$CG__DNSMASQ_PID" "$CG_DNSMASQ_LOG" 10 \
		cg__listening "$NS_INET" u "$CG_DNS4:53" "[$CG_DNS6]:53" || exit 1
	cg__wait_started dnsmasq "$CG__DNSMASQ_PID" "$CG_DNSMASQ_LOG" 10 \
		cg__listening "$NS_INET" t "$CG_DNS4:53" "[$CG_DNS6]:53" || exit 1
	CG_EVENTS=$CG_TMP/events.jsonl
	CG_CONTROL=$CG_TMP/control
	export CG_CERT CG_NGINX_ACCESS_LOG CG_DNSMASQ_LOG CG_EVENTS CG_CONTROL
	cg_log "cg: café $CG_RUN up in $(($(cg__now_ms) - CG__SETUP_T0)) ms (tmp $CG_TMP, NAT=$CG_NAT, fw=$CG_FW)"
}

# ---------------------------------------------------------------- cleanup
cg__kill_ns_procs() { # NS...: TERM, wait up to 3 s, then KILL
	local ns pids end sig=TERM
	end=$(($(cg__now_ms) + 3000))
	while :; do
		pids=
		for ns in "$@"; do
			[ -e "/run/netns/$ns" ] || continue
			pids="$pids $(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')"
		done
		[ -n "${pids// /}" ] || return 0
		# shellcheck disable=SC2086
		kill -s "$sig" $pids 2>/dev/null || true
		if [ "$(cg__now_ms)" -ge "$end" ]; then
			[ "$sig" = KILL ] && { cg__err "processes survive SIGKILL:$pids"; return 1; }
			sig=KILL
			end=$(($(cg__now_ms) + 2000))
		fi
		sleep 0.05
	done
}

# cg_cleanup: stops the daemon, every process in the run's namespaces,
# removes the namespaces, /etc/netns/<ns> and the temp dir.  Safe to call
# twice and on a half-built café.  With CG_KEEP=1 it only says how to look
# at what is kept, and how to remove it later.
cg_cleanup() {
	[ -n "${CG_TMP:-}" ] || return 0
	local ns
	if [ "$CG_KEEP" = 1 ]; then
		cg_log "cg: CG_KEEP=1: kept run $CG_RUN (processes still running):"
		for ns in $CG__NSLIST; do
			cg_log "    ip netns exec $ns bash"
		done
		cg_log "    files and logs: $CG_TMP"
		cg_log "    remove: bash $CG_LIB cleanup $CG_TMP"
		CG_TMP=
		return 0
	fi
	if [ -n "${CG_DAEMON_PID:-}" ] && cg__alive "$CG_DAEMON_PID"; then
		kill -TERM "$CG_DAEMON_PID" 2>/dev/null || true
		cg_wait_gone 3 cg__alive "$CG_DAEMON_PID" || true
	fi
	# shellcheck disable=SC2086
	cg__kill_ns_procs $CG__NSLIST || true
	# Reap our own children so none is left a zombie.
	local pid rest
	while read -r pid rest; do
		wait "$pid" 2>/dev/null || true
	done <"$CG_TMP/pids" 2>/dev/null || true
	[ -z "${CG_DAEMON_PID:-}" ] || wait "$CG_DAEMON_PID" 2>/dev/null || true
	for ns in $CG__NSLIST; do
		[ ! -e "/run/netns/$ns" ] || ip netns del "$ns" 2>/dev/null ||
			cg__err "could not delete namespace $ns"
		rm -rf "/etc/netns/$ns"
	done
	rm -rf "$CG_TMP"
	CG_TMP=
	CG_DAEMON_PID=
}

cg__on_exit() {
	local rc=$?
	set +e
	if [ $rc -ne 0 ]; then
		[ "$CG_FAILED" -gt 0 ] || CG_FAILED=1 # died without cg_fail
		if [ -n "${CG_DAEMON_LOG:-}" ] && [ -s "$CG_DAEMON_LOG" ]; then
			cg_log "cg: last lines of the daemon log ($CG_DAEMON_LOG):"
			tail -n 30 "$CG_DAEMON_LOG" | sed 's/^/    /' >&2
		fi
	fi
	cg_cleanup
	cg_summary
	exit $rc
}

# ---------------------------------------------------------------- clients
# cg_curl SEAT URL [CURL-ARGS...]: curl from SEAT; prints the body.
# Unless CURL-ARGS has --resolve/--connect-to or CG_CURL_DNS=1, the URL's
# host name is pinned with --resolve to the web server ($CG_WEB4, or
# $CG_WEB6 if CURL-ARGS has -6/--ipv6): no DNS query is made.  https
# URLs trust the run's certificate (no -k needed).  Defaults: -sS,
# --max-time $CG_CURL_TIMEOUT, no proxy.  Returns curl's exit status.
cg_curl() {
	local seat=$1 url=$2 ns a fam=4 pin=1 hostport host port rest
	shift 2
	ns=$(cg__ns "$seat") || return 2
	local args=(-sS --noproxy '*' --max-time "$CG_CURL_TIMEOUT")
	for a in "$@"; do
		case $a in
		-6 | --ipv6) fam=6 ;;
		--resolve | --resolve=* | --connect-to | --connect-to=*) pin=0 ;;
		esac
	done
	[ "${CG_CURL_DNS:-0}" = 1 ] && pin=0
	case $url in
	https://*) args+=(--cacert "$CG_CERT"); port=443 ;;
	*) port=80 ;;
	esac
	rest=${url#*://}
	hostport=${rest%%/*}
	hostport=${hostport##*@}
	case $hostport in
	\[*) pin=0 ;; # IPv6 literal
	*:*) host=${hostport%:*}; port=${hostport##*:} ;;
	*) host=$hostport ;;
	esac
	if [ $pin = 1 ] && [[ ! $host =~ ^[0-9.]+$ ]]; then
		if [ $fam = 6 ]; then
			args+=(--resolve "$host:$port:[$CG_WEB6]")
		else
			args+=(--resolve "$host:$port:$CG_WEB4")
		fi
	fi
	ip netns exec "$ns" curl "${args[@]}" "$@" "$url"
}

# cg_curl_dns SEAT URL [CURL-ARGS...]: cg_curl resolving through the
# seat's resolver (dnsmasq in inet, via the gw).
cg_curl_dns() { CG_CURL_DNS=1 cg_curl "$@"; }

# cg_dig SEAT NAME [TYPE] [@SERVER] [+tcp] [DIG-ARGS...]: dig from SEAT,
# server $CG_DNS4 unless one is given, 1 s timeout, 1 try.  Prints dig's
# output; returns dig's status (0 when any answer came, NXDOMAIN too;
# 9 when none did).
cg_dig() {
	local seat=$1 name=$2 ns a server=("@$CG_DNS4")
	shift 2
	ns=$(cg__ns "$seat") || return 2
	for a in "$@"; do
		case $a in @*) server=() ;; esac
	done
	ip netns exec "$ns" dig +time=1 +tries=1 "${server[@]}" "$name" "$@"
}

# cg_dig_rcode SEAT NAME [...]: prints only the status (NOERROR, NXDOMAIN,
# ...); prints nothing and fails when no answer came.
cg_dig_rcode() {
	local out
	out=$(cg_dig "$@") || return $?
	sed -n 's/.*status: \([A-Z]*\),.*/\1/p' <<<"$out"
}

# cg_dig_short SEAT NAME [...]: dig +short.
cg_dig_short() { cg_dig "$@" +short; }

# ---------------------------------------------------------------- peers
# cg_peer_tcp PORT [echo|sink]: listens on $CG_PEER4 and $CG_PEER6 port
# PORT in inet (socat, one process per connection).  echo (default) sends
# back what it receives; sink only keeps it.  Either way every byte
# received is appended to $(cg_peer_data tcp PORT), and socat notes each
# connection (with the client's address) in $(cg_peer_log tcp PORT).
cg_peer_tcp() { cg__peer tcp "$@"; }

# cg_peer_udp PORT [echo|sink]: the same for UDP datagrams.
cg_peer_udp() { cg__peer udp "$@"; }

cg_peer_data() { echo "$CG_TMP/peer/$1-$2.data"; }
cg_peer_log() { echo "$CG_TMP/peer/$1-$2.log"; }

cg__peer() {
	local proto=$1 port=$2 mode=${3:-echo} d=$CG_TMP/peer fam lst addr act
	local tmo=() # a UDP exchange has no end: its child goes after 5 s idle
	[ "$proto" = udp ] && tmo=(-T 5)
	command -v socat >/dev/null || { cg__err "cg_peer_$proto needs socat"; return 1; }
	mkdir -p "$d"
	local data=$d/$proto-$port.data log=$d/$proto-$port.log
	: >>"$data"
	case $mode in
	echo) act="SYSTEM:tee -a $data" ;;
	sink) act="SYSTEM:cat >>$data" ;;
	*) cg__err "cg_peer_$proto PORT [echo|sink]"; return 2 ;;
	esac
	for fam in 4 6; do
		if [ $fam = 4 ]; then addr=$CG_PEER4; else addr=[$CG_PEER6]; fi
		if [ "$proto" = tcp ]; then
			lst=TCP$fam-LISTEN:$port,bind=$addr,reuseaddr,fork
		else
			lst=UDP$fam-RECVFROM:$port,bind=$addr,reuseaddr,fork
		fi
		cg__spawn "peer-$proto$fam-$port" "$NS_INET" "$log" \
			socat -d -d "${tmo[@]}" "$lst" "$act"
	done
	local p=t
	[ "$proto" = udp ] && p=u
	cg__wait_started "peer $proto $port" "$CG__LASTPID" "$log" 5 \
		cg__listening "$NS_INET" $p "$CG_PEER4:$port" "[$CG_PEER6]:$port"
}

# cg_nc SEAT tcp|udp HOST PORT [WAIT_S]: sends stdin to HOST:PORT from
# SEAT and prints what comes back.  Waits up to WAIT_S (default 2) for
# the reply after sending.  Returns socat's status: non-zero if the
# connection could not be made or was reset.
cg_nc() {
	local ns w=${5:-2} h=$3
	ns=$(cg__ns "$1") || return 2
	case $h in *:*) h=[$h] ;; esac
	if [ "$2" = tcp ]; then
		ip netns exec "$ns" socat -t "$w" -T "$w" - "TCP:$h:$4,connect-timeout=$w"
	else
		ip netns exec "$ns" socat -t "$w" -T "$w" - "UDP:$h:$4"
	fi
}

# ---------------------------------------------------------------- daemon
# cg_list_file NAME [ENTRY...]: writes the entries (or stdin) one per line
# to $CG_TMP/lists/NAME and prints that path.
cg_list_file() {
	local f=$CG_TMP/lists/$1
	shift
	mkdir -p "$CG_TMP/lists"
	if [ $# -gt 0 ]; then printf '%s\n' "$@" >"$f"; else cat >"$f"; fi
	echo "$f"
}

# cg_daemon_conf FILE [TEXT...|-]: writes a daemon config: the gateway,
# queue and state sections below, then TEXT (each argument a line; "-"
# reads stdin), e.g. the categories/profiles/events sections.  $CG_EVENTS
# is a path in the run's temp dir for the events file; the state (and
# the control socket, $CG_CONTROL) live in the run's temp dir too.
cg_daemon_conf() {
	local f=$1
	shift
	{
		echo "# generated by tests/netns/lib.sh"
		echo "gateway = { lan = \"lan0\"; wan = \"wan0\"; fail_open = $CG_FAIL_OPEN; firewall = \"$CG_FW\"; };"
		echo "queue = { count = 2; };"
		echo "state = { dir = \"$CG_TMP/varlib\"; cache = \"$CG_TMP/cache\"; control = \"$CG_CONTROL\"; };"
		if [ "${1:-}" = - ]; then cat; elif [ $# -gt 0 ]; then printf '%s\n' "$@"; fi
	} >"$f"
}

# cg_daemon_running: 0 while the daemon started by cg_daemon_start lives.
cg_daemon_running() { [ -n "${CG_DAEMON_PID:-}" ] && cg__alive "$CG_DAEMON_PID"; }

# A CAFEGUARD-FWD left by a daemon killed with -9 would make the next
# start look ready at once, while the new daemon is still replacing it.
# So a leftover chain gets a harmless marker rule at its end (RETURN is
# what the end of a chain does anyway); ready means our chain is there,
# in both families, without the marker: the new daemon has removed the old
# chain and installed its own.
cg__mark_stale() {
	local f
	for f in 4 6; do
		if cg_fw_has_chain CAFEGUARD-FWD $f; then
			cg_iptables $f -A CAFEGUARD-FWD -m comment \
				--comment cg-stale -j RETURN || return 1
		fi
	done
}

cg__daemon_ready() {
	local f s
	for f in 4 6; do
		s=$(cg_fw_save $f) || return 1
		grep -q '^:CAFEGUARD-FWD ' <<<"$s" || return 1
		! grep -q -- '--comment cg-stale' <<<"$s" || return 1
	done
}

# cg_daemon_start CONF [ARGS...]: runs "$CAFEGUARDD -c CONF -v ARGS" in
# the gw, output to $CG_DAEMON_LOG (a new file per start), pid in
# CG_DAEMON_PID.  Returns once the gw's backend (CG_FW) shows the chain
# CAFEGUARD-FWD for IPv4 and IPv6 (a new one, if an old one was left; see
# cg__mark_stale).  Fails (cg_fail, log printed) if the daemon exits
# first or is not ready within CG_DAEMON_TIMEOUT s.
cg_daemon_start() {
	local conf=$1
	shift
	if [ -z "$CAFEGUARDD" ] || [ ! -x "$CAFEGUARDD" ]; then
		cg_fail "cg_daemon_start: CAFEGUARDD ('$CAFEGUARDD') is not an executable"
	fi
	if cg_daemon_running; then
		cg_fail "cg_daemon_start: the daemon is already running (pid $CG_DAEMON_PID)"
	fi
	cg__mark_stale || cg_fail "cg_daemon_start: cannot mark the old CAFEGUARD-FWD"
	CG__DAEMON_N=$((${CG__DAEMON_N:-0} + 1))
	CG_DAEMON_LOG=$CG_TMP/cafeguardd.$CG__DAEMON_N.log
	: >"$CG_DAEMON_LOG"
	cg__spawn cafeguardd "$NS_GW" "$CG_DAEMON_LOG" "$CAFEGUARDD" -c "$conf" -v "$@"
	CG_DAEMON_PID=$CG__LASTPID
	local t0
	t0=$(cg__now_ms)
	if ! cg__wait_started cafeguardd "$CG_DAEMON_PID" "$CG_DAEMON_LOG" \
		"$CG_DAEMON_TIMEOUT" cg__daemon_ready; then
		# Not ready: do not leave a half-started daemon behind.
		if cg__alive "$CG_DAEMON_PID"; then
			kill -TERM "$CG_DAEMON_PID" 2>/dev/null || true
			cg_wait_gone 2 cg__alive "$CG_DAEMON_PID" ||
				kill -KILL "$CG_DAEMON_PID" 2>/dev/null || true
		fi
		wait "$CG_DAEMON_PID" 2>/dev/null || true
		CG_DAEMON_PID=
		CG_DAEMON_LOG= # printed already
		if cg_fw_save 4 | grep -q -- '--comment cg-stale' ||
			cg_fw_save 6 | grep -q -- '--comment cg-stale'; then
			cg__err "the CAFEGUARD-FWD left by an earlier instance (marked cg-stale) was never replaced"
		fi
		cg_fail "cafeguardd did not start (config $conf)"
	fi
	cg_log "cg: cafeguardd ready in $(($(cg__now_ms) - t0)) ms (pid $CG_DAEMON_PID)"
}

# cg_daemon_stop: SIGTERM, waits up to CG_DAEMON_TIMEOUT s for the exit.
# Returns the daemon's exit status (0 is a clean exit); prints the log
# tail when that is not 0.  After a timeout it kills it and returns 124.
cg_daemon_stop() {
	[ -n "${CG_DAEMON_PID:-}" ] || { cg__err "cg_daemon_stop: no daemon"; return 2; }
	local pid=$CG_DAEMON_PID rc=0
	kill -TERM "$pid" 2>/dev/null || true
	if ! cg_wait_gone "$CG_DAEMON_TIMEOUT" cg__alive "$pid"; then
		cg__err "cafeguardd ignored SIGTERM for $CG_DAEMON_TIMEOUT s; killing it"
		kill -KILL "$pid" 2>/dev/null || true
		rc=124
	fi
	local wrc=0
	wait "$pid" 2>/dev/null || wrc=$?
	[ $rc -ne 0 ] || rc=$wrc
	CG_DAEMON_PID=
	if [ $rc -ne 0 ]; then
		cg__err "cafeguardd exited with status $rc; log tail ($CG_DAEMON_LOG):"
		tail -n 30 "$CG_DAEMON_LOG" | sed 's/^/    /' >&2
	fi
	return $rc
}

# cg_daemon_kill9: SIGKILL (the daemon leaves its rules behind), reaps it.
cg_daemon_kill9() {
	[ -n "${CG_DAEMON_PID:-}" ] || { cg__err "cg_daemon_kill9: no daemon"; return 2; }
	kill -KILL "$CG_DAEMON_PID" 2>/dev/null || true
	wait "$CG_DAEMON_PID" 2>/dev/null || true
	CG_DAEMON_PID=
}

# cg_daemon_log: prints the log of the last start.
cg_daemon_log() { cat "${CG_DAEMON_LOG:?no daemon started}"; }

# ---------------------------------------------------------------- main
# Run as a program, lib.sh lists or removes runs left behind: a run kept
# with CG_KEEP=1, or one killed with SIGKILL (a ctest timeout) before its
# trap could clean up.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	case ${1:-} in
	list)
		for d in "${TMPDIR:-/tmp}"/cafeguard-netns.*; do
			[ -f "$d/state" ] || continue
			CG__NSLIST=
			# shellcheck disable=SC1091
			. "$d/state"
			live=
			for ns in $CG__NSLIST; do
				[ -e "/run/netns/$ns" ] && live="$live $ns"
			done
			echo "$d:${live:- no namespace left}"
		done
		;;
	cleanup)
		[ -f "${2:-}/state" ] || { echo "usage: $0 cleanup ${TMPDIR:-/tmp}/cafeguard-netns.XXXXXX" >&2; exit 2; }
		CG_TMP=${2%/}
		CG__NSLIST=
		# shellcheck disable=SC1091
		. "$CG_TMP/state"
		CG_KEEP=0
		cg_cleanup
		echo "removed run $CG_RUN"
		;;
	*)
		echo "lib.sh is sourced by the tests.  As a program:" >&2
		echo "  $0 list          runs in ${TMPDIR:-/tmp} (running, kept or killed)" >&2
		echo "  $0 cleanup DIR   remove one of them" >&2
		exit 2
		;;
	esac
fi
