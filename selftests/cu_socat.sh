#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=dash disable=SC2016
#
# Interop with socat, a client nobody in this project wrote (Debian's
# socat, copied into the test VM with its libraries by scripts/vm.sh), as
# TAP. socat's generic socket addresses take the family number and the raw
# bytes of the sockaddr after sa_family:
#
#   SOCKET-LISTEN:22:0:x0000PPPPPPPP         stream listener
#   SOCKET-CONNECT:22:0:x0000PPPPPPPP        stream client
#   SOCKET-RECVFROM:22:2:0:x0000PPPPPPPP     datagrams (2 = SOCK_DGRAM), replies
#   SOCKET-SENDTO:22:2:0:x0000PPPPPPPP       datagrams to a port
#
# where x0000 is scu_reserved and PPPPPPPP scu_port in host byte order
# (little endian on x86: port 5000 = 0x1388 is x88130000). Tested: socat
# to socat and cunc to socat both ways over a stream, a busy socat listener
# (backlog=1, fork, max-children=1) refusing the connect beyond its queue
# at once, and datagrams both ways.
#
# Run as root in the test VM with af_custom loaded, socat, cunc, cuss and
# cu_sockinfo on PATH. Exit status: 0 all passed, 1 a test failed.

# shellcheck source-path=SCRIPTDIR source=cu_lib.sh
. "$(dirname "$0")/cu_lib.sh"

T=${TMPDIR:-/tmp}/cu_socat.$$
FAMILY=$(cat /sys/module/af_custom/parameters/family 2>/dev/null || echo 22)

trap 'bg_cleanup "$T"' EXIT

# the sockaddr_cu bytes after scu_family, in socat's x... notation
addr() {
	printf 'x0000%02x%02x%02x%02x' $(($1 & 255)) $(($1 >> 8 & 255)) \
		$(($1 >> 16 & 255)) $(($1 >> 24 & 255))
}

listening() { cuss -l -H port = "$1" | grep -q LISTEN; }
bound_dgram() { cuss -lu -H sport = :"$1" | grep -q UNCONN; }

# one field of the listener on port $1 as cuss shows it (backlog, pending, ...)
field() {
	cuss -l -i -O -H sport = :"$1" | awk '$2 == "LISTEN"' | tr ' ' '\n' | sed -n "s/^$2://p"
}
pending_is() { [ "$(field "$1" pending)" = "$2" ]; }

show_err() {
	[ -s "$1" ] && sed 's/^/#   /' "$1"
	return 0
}

same() {
	cmp -s "$1" "$2" && return 0
	note "$3: got $(wc -c <"$2") bytes, want $(wc -c <"$1")"
	return 1
}

t_addr_bytes() {
	[ "$(addr 5000)" = x000088130000 ] && [ "$(addr 4294967295)" = x0000ffffffff ]
}

# socat listener echoing (PIPE), socat client: data goes there and back
t_socat_echo() {
	local srv rc=0 st
	seq 1 20000 >"$T/in"
	socat SOCKET-LISTEN:"$FAMILY":0:"$(addr 6100)" PIPE 2>"$T/srv.err" &
	srv=$!
	bg_started $srv
	until_ok 10 listening 6100 || { note "socat did not listen"; show_err "$T/srv.err"; return 1; }
	timeout 30 socat -t 5 STDIO SOCKET-CONNECT:"$FAMILY":0:"$(addr 6100)" \
		<"$T/in" >"$T/out" 2>"$T/cli.err"
	st=$?
	[ $st -eq 0 ] || { note "socat client: exit $st"; show_err "$T/cli.err"; rc=1; }
	same "$T/in" "$T/out" "echo" || rc=1
	wait $srv
	st=$?
	[ $st -eq 0 ] || { note "socat listener: exit $st"; show_err "$T/srv.err"; rc=1; }
	return $rc
}

# cunc client <-> socat listener, each sending a file
t_cunc_to_socat() {
	local srv rc=0 st
	seq 1 10000 >"$T/a"
	seq 90000 -1 80001 >"$T/b"
	socat -t 5 SOCKET-LISTEN:"$FAMILY":0:"$(addr 6200)" STDIO <"$T/a" >"$T/a.out" 2>"$T/srv.err" &
	srv=$!
	bg_started $srv
	until_ok 10 listening 6200 || { note "socat did not listen"; show_err "$T/srv.err"; return 1; }
	timeout 30 cunc 6200 <"$T/b" >"$T/b.out" 2>"$T/cli.err"
	st=$?
	[ $st -eq 0 ] || { note "cunc: exit $st"; show_err "$T/cli.err"; rc=1; }
	wait $srv
	st=$?
	[ $st -eq 0 ] || { note "socat: exit $st"; show_err "$T/srv.err"; rc=1; }
	same "$T/a" "$T/b.out" "cunc from socat" || rc=1
	same "$T/b" "$T/a.out" "socat from cunc" || rc=1
	return $rc
}

# socat client -> cunc listener, each sending a file
t_socat_to_cunc() {
	local srv rc=0 st
	seq 1 10000 >"$T/a"
	seq 90000 -1 80001 >"$T/b"
	cunc -l -N -p 6300 <"$T/a" >"$T/a.out" 2>"$T/srv.err" &
	srv=$!
	bg_started $srv
	until_ok 10 listening 6300 || { note "cunc did not listen"; return 1; }
	timeout 30 socat -t 5 STDIO SOCKET-CONNECT:"$FAMILY":0:"$(addr 6300)" \
		<"$T/b" >"$T/b.out" 2>"$T/cli.err"
	st=$?
	[ $st -eq 0 ] || { note "socat: exit $st"; show_err "$T/cli.err"; rc=1; }
	wait $srv
	st=$?
	[ $st -eq 0 ] || { note "cunc: exit $st"; show_err "$T/srv.err"; rc=1; }
	same "$T/a" "$T/b.out" "socat from cunc" || rc=1
	same "$T/b" "$T/a.out" "cunc from socat" || rc=1
	return $rc
}

# A socat listener with backlog=1 that serves one client at a time
# (fork, max-children=1): A is served, B waits in the queue, C is refused
# at once with ECONNREFUSED, counted in refused_full.
t_busy_listener() {
	local srv a b rc=0 st start secs line
	mkfifo "$T/a.in"
	socat SOCKET-LISTEN:"$FAMILY":0:"$(addr 6400)",backlog=1,fork,max-children=1 PIPE \
		2>"$T/srv.err" &
	srv=$!
	bg_started $srv
	until_ok 10 listening 6400 || { note "socat did not listen"; show_err "$T/srv.err"; return 1; }
	[ "$(field 6400 backlog)" = 1 ] || { note "backlog $(field 6400 backlog), want 1"; rc=1; }
	cunc -N 6400 <"$T/a.in" >"$T/a.out" 2>"$T/a.err" &
	a=$!
	bg_started $a
	exec 7>"$T/a.in"
	echo "from A" >&7
	until_ok 10 grep -q "from A" "$T/a.out" || { note "A got no echo"; rc=1; }
	cunc -N 6400 </dev/null >"$T/b.out" 2>"$T/b.err" 7>&- &
	b=$!
	bg_started $b
	until_ok 10 pending_is 6400 1 || { note "B is not pending"; rc=1; }
	start=$(date +%s)
	timeout 10 cunc 6400 </dev/null >/dev/null 2>"$T/c.err" 7>&-
	st=$?
	secs=$(($(date +%s) - start))
	note "C: $(cat "$T/c.err") (exit $st, ${secs}s)"
	[ $st -eq 3 ] || { note "C: exit $st, want 3 (queue full)"; rc=1; }
	[ $secs -le 4 ] || { note "C waited ${secs}s"; rc=1; }
	line=$(cuss -l -i -O -H sport = :6400)
	note "cuss: $line"
	echo "$line" | grep -q 'backlog:1 pending:1 queued:2 accepted:1 refused_full:1 ' || rc=1
	line=$(cu_sockinfo $srv | grep 'port=6400 peer=0 ')
	note "getsockopt in socat: $line"
	echo "$line" | grep -q 'backlog=1 pending=1 queued=2 accepted=1 refused_full=1 ' || rc=1
	# A leaves: socat takes B
	exec 7>&-
	wait $a
	st=$?
	[ $st -eq 0 ] || { note "A: exit $st"; show_err "$T/a.err"; rc=1; }
	wait $b
	st=$?
	[ $st -eq 0 ] || { note "B: exit $st"; show_err "$T/b.err"; rc=1; }
	until_ok 10 pending_is 6400 0 || rc=1
	[ "$(field 6400 accepted)" = 2 ] || { note "accepted $(field 6400 accepted), want 2"; rc=1; }
	kill $srv
	wait $srv 2>/dev/null
	return $rc
}

# a socat RECVFROM echoing (PIPE) the datagram of a client ($2: "socat"
# for socat SENDTO, "cunc" for cunc -u) on port $1
dgram_echo() {
	local port=$1 srv rc=0 st
	socat SOCKET-RECVFROM:"$FAMILY":2:0:"$(addr "$port")" PIPE 2>"$T/srv.err" &
	srv=$!
	bg_started $srv
	until_ok 10 bound_dgram "$port" || { note "socat is not bound"; show_err "$T/srv.err"; return 1; }
	if [ "$2" = socat ]; then
		echo hello | timeout 30 socat -t 3 STDIO \
			SOCKET-SENDTO:"$FAMILY":2:0:"$(addr "$port")" >"$T/out" 2>"$T/cli.err"
	else
		echo hello | timeout 30 cunc -u -q 3 "$port" >"$T/out" 2>"$T/cli.err"
	fi
	st=$?
	[ $st -eq 0 ] || { note "$2: exit $st"; show_err "$T/cli.err"; rc=1; }
	[ "$(cat "$T/out")" = hello ] || { note "$2 got '$(cat "$T/out")'"; rc=1; }
	kill $srv
	wait $srv 2>/dev/null
	[ $rc -eq 0 ] || show_err "$T/srv.err"
	return $rc
}

# socat SENDTO to a cunc -l -u, which answers
t_dgram_socat_to_cunc() {
	local srv rc=0 st
	echo pong >"$T/reply"
	cunc -l -u -q 3 6600 <"$T/reply" >"$T/srv.out" 2>"$T/srv.err" &
	srv=$!
	bg_started $srv
	until_ok 10 bound_dgram 6600 || { note "cunc is not bound"; return 1; }
	echo ping | timeout 30 socat -t 3 STDIO SOCKET-SENDTO:"$FAMILY":2:0:"$(addr 6600)" \
		>"$T/out" 2>"$T/cli.err"
	st=$?
	[ $st -eq 0 ] || { note "socat: exit $st"; show_err "$T/cli.err"; rc=1; }
	wait $srv
	st=$?
	[ $st -eq 0 ] || { note "cunc: exit $st"; show_err "$T/srv.err"; rc=1; }
	[ "$(cat "$T/srv.out")" = ping ] || { note "cunc got '$(cat "$T/srv.out")'"; rc=1; }
	[ "$(cat "$T/out")" = pong ] || { note "socat got '$(cat "$T/out")'"; rc=1; }
	return $rc
}

main() {
	mkdir -p "$T" || exit 1
	echo "1..9"
	if ! command -v socat >/dev/null; then
		not_ok "socat is in the VM (scripts/vm.sh copies it from the host)"
		exit 1
	fi
	socat -V 2>&1 | sed -n 's/^socat version/# socat version/p'
	socat -V >/dev/null 2>&1; check "socat runs in the VM" $?
	t_addr_bytes; check "the sockaddr bytes in socat's notation" $?
	t_socat_echo; check "socat SOCKET-CONNECT to socat SOCKET-LISTEN: stream echo" $?
	t_cunc_to_socat; check "cunc to a socat listener: both ways" $?
	t_socat_to_cunc; check "socat to a cunc listener: both ways" $?
	t_busy_listener; check "busy socat listener, backlog=1: the next connect is refused at once" $?
	dgram_echo 6500 socat; check "datagrams: socat SENDTO to socat RECVFROM, echoed" $?
	dgram_echo 6700 cunc; check "datagrams: cunc -u to socat RECVFROM, echoed" $?
	t_dgram_socat_to_cunc; check "datagrams: socat SENDTO to cunc -l -u, and back" $?
	[ $failed -eq 0 ]
}

main "$@"
