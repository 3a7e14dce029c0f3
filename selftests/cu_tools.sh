#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=dash disable=SC2016,SC2153
#
# cunc and cuss (tools/), as TAP: cuss's view of a listener matches what
# getsockopt says on the very socket (cu_sockinfo borrows it from cunc with
# pidfd_getfd), cuss -s matches /proc/net/af_custom_stat, cuss's filters,
# cunc copying both ways over stream, seqpacket and datagram sockets, its
# refusal messages and exit statuses, and a backlog shrink done by cunc on
# SIGUSR1 and seen by cuss and by the reset clients.
#
# Run as root in the test VM (busybox sh), with af_custom loaded and cunc,
# cuss and cu_sockinfo on PATH. The shrink scenario is printed as a session
# transcript (lines starting "# $" are the commands).
# Exit status: 0 all passed, 1 a test failed.

# shellcheck source-path=SCRIPTDIR source=cu_lib.sh
. "$(dirname "$0")/cu_lib.sh"

T=${TMPDIR:-/tmp}/cu_tools.$$

trap 'bg_cleanup "$T"' EXIT

# "$@", shown as a transcript line and run, output indented as comments
show() {
	echo "# \$ $*"
	"$@" 2>&1 | sed 's/^/#   /'
}

# The listener of port $1 as cuss shows it: "ino=N backlog=N pending=N ..."
cuss_listener() {
	cuss -l -H port = "$1" | awk '$2 == "LISTEN" {
		printf "ino=%s", $8
		for (i = 9; i <= NF; i++) { sub(":", "=", $i); printf " %s", $i }
		print ""
	}'
}

# The listener of port $2 in process $1 as getsockopt sees it, same format
sockinfo_listener() {
	cu_sockinfo "$1" | awk -v port="port=$2" '$3 == port && $5 != "backlog=0" {
		printf "%s", $1
		for (i = 5; i <= NF; i++) printf " %s", $i
		print ""
	}'
}

# one field (backlog, pending, queued, ...) of cuss's listener on port $1
listener_field() {
	cuss_listener "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

pending_is() { [ "$(listener_field "$1" pending)" = "$2" ]; }

# cuss and getsockopt agree on listener port $2 of process $1
same_view() {
	local a b
	a=$(cuss_listener "$2")
	b=$(sockinfo_listener "$1" "$2")
	if [ -z "$a" ] || [ "$a" != "$b" ]; then
		note "cuss:       '$a'"
		note "getsockopt: '$b'"
		return 1
	fi
	note "cuss = getsockopt: $a"
}

# ---- help and usage ------------------------------------------------------

t_help() {
	local rc=0
	cunc --help | grep -q '^usage: cunc' || rc=1
	cuss --help | grep -q '^usage: cuss' || rc=1
	cunc >/dev/null 2>&1
	[ $? -eq 2 ] || { note "cunc without PORT: want exit 2"; rc=1; }
	cuss -Z >/dev/null 2>&1
	[ $? -eq 2 ] || { note "cuss -Z: want exit 2"; rc=1; }
	cuss state bogus >/dev/null 2>&1
	[ $? -eq 2 ] || { note "cuss state bogus: want exit 2"; rc=1; }
	return $rc
}

# ---- cunc copies both ways -------------------------------------------------

# echo_both_ways FLAG PORT: a listener and a client, each sending a file
echo_both_ways() {
	local flag=$1 port=$2 srv rc=0 src crc
	seq 1 20000 >"$T/srv.in"
	seq 50000 -1 30001 >"$T/cli.in"
	# shellcheck disable=SC2086 # $flag may be empty
	cunc -l $flag "$port" <"$T/srv.in" >"$T/srv.out" 2>"$T/srv.err" &
	srv=$!
	bg_started $srv
	until_ok 10 cuss_listener "$port" || { note "no listener on $port"; return 1; }
	# shellcheck disable=SC2086
	timeout 30 cunc $flag "$port" <"$T/cli.in" >"$T/cli.out" 2>"$T/cli.err"
	crc=$?
	wait $srv
	src=$?
	[ $crc -eq 0 ] || { note "client exit $crc: $(cat "$T/cli.err")"; rc=1; }
	[ $src -eq 0 ] || { note "listener exit $src: $(cat "$T/srv.err")"; rc=1; }
	cmp -s "$T/srv.in" "$T/cli.out" || { note "client got the wrong data ($(wc -c <"$T/cli.out") bytes)"; rc=1; }
	cmp -s "$T/cli.in" "$T/srv.out" || { note "listener got the wrong data ($(wc -c <"$T/srv.out") bytes)"; rc=1; }
	return $rc
}

t_stream_echo()    { echo_both_ways "" 5200; }
t_seqpacket_echo() { echo_both_ways -s 5300; }

t_dgram_echo() {
	local srv rc=0 src crc
	echo pong >"$T/reply"
	cunc -l -u -q 2 5400 <"$T/reply" >"$T/srv.out" 2>"$T/srv.err" &
	srv=$!
	bg_started $srv
	until_ok 10 sh -c 'cuss -l -H -t dgram port = 5400 | grep -q UNCONN' ||
		{ note "no datagram socket on 5400"; return 1; }
	echo ping | timeout 30 cunc -u -q 2 5400 >"$T/cli.out" 2>"$T/cli.err"
	crc=$?
	wait $srv
	src=$?
	[ $crc -eq 0 ] || { note "client exit $crc: $(cat "$T/cli.err")"; rc=1; }
	[ $src -eq 0 ] || { note "receiver exit $src: $(cat "$T/srv.err")"; rc=1; }
	[ "$(cat "$T/srv.out")" = ping ] || { note "receiver got '$(cat "$T/srv.out")'"; rc=1; }
	[ "$(cat "$T/cli.out")" = pong ] || { note "client got '$(cat "$T/cli.out")'"; rc=1; }
	return $rc
}

# ---- refusals ---------------------------------------------------------------

t_refused_nobody() {
	local rc
	cunc 5999 </dev/null >/dev/null 2>"$T/err"
	rc=$?
	note "$(cat "$T/err")"
	[ $rc -eq 4 ] && grep -q 'ECONNREFUSED.*nobody is listening' "$T/err"
}

t_refused_dgram_nobody() {
	local rc
	echo x | cunc -u -q 1 5999 >/dev/null 2>"$T/err"
	rc=$?
	note "$(cat "$T/err")"
	[ $rc -eq 4 ] && grep -q 'ECONNREFUSED.*no datagram socket' "$T/err"
}

# ---- cuss -s ------------------------------------------------------------------

t_summary() {
	local name value before after rc=0 total listed
	cuss -s >"$T/s1" || return 1
	while read -r name value; do
		grep -q "^  $name  *$value\$" "$T/s1" ||
			{ note "cuss -s lacks '$name $value'"; rc=1; }
	done </proc/net/af_custom_stat
	before=$(sed -n 's/^  refused_no_listener  *//p' "$T/s1")
	cunc 5998 </dev/null >/dev/null 2>&1
	after=$(cuss -s | sed -n 's/^  refused_no_listener  *//p')
	[ "$after" = $((before + 1)) ] ||
		{ note "refused_no_listener $before -> $after after one refusal"; rc=1; }
	total=$(sed -n 's/^AF_CUSTOM.*namespace: \([0-9]*\) .*/\1/p' "$T/s1")
	listed=$(cuss -a -H | wc -l)
	[ "$total" = "$listed" ] || { note "cuss -s counts $total sockets, cuss -a lists $listed"; rc=1; }
	return $rc
}

# ---- filters ------------------------------------------------------------------

FILTER_PIDS=
filters_setup() {
	mkfifo "$T/f.srv" "$T/f.cli"
	cunc -l 5500 <"$T/f.srv" >/dev/null 2>&1 &
	FILTER_PIDS=$!
	exec 7>"$T/f.srv"
	until_ok 10 cuss_listener 5500 || return 1
	cunc 5500 <"$T/f.cli" >/dev/null 2>&1 7>&- &
	FILTER_PIDS="$FILTER_PIDS $!"
	exec 8>"$T/f.cli"
	cunc -l -u 5600 </dev/null >/dev/null 2>&1 7>&- 8>&- &
	FILTER_PIDS="$FILTER_PIDS $!"
	bg_started "$FILTER_PIDS"
	until_ok 10 sh -c 'cuss -H port = 5500 | grep -q ESTAB' || return 1
	until_ok 10 sh -c 'cuss -l -H port = 5600 | grep -q UNCONN'
}

# awk program $2 is true for every line of "cuss $1", and there are $3 lines
lines_are() {
	local out n
	# shellcheck disable=SC2086 # $1 is a list of words
	out=$(cuss -H $1)
	n=$(printf '%s\n' "$out" | grep -c .)
	if [ "$n" != "$3" ] ||
	   { [ "$n" -gt 0 ] && ! printf '%s\n' "$out" | awk "!($2) { bad = 1 } END { exit bad }"; }; then
		note "cuss $1: $n line(s), want $3 with $2:"
		printf '%s\n' "$out" | sed 's/^/#   /'
		return 1
	fi
}

t_filters() {
	local rc=0 cport
	filters_setup || { note "could not set up the sockets"; return 1; }
	cport=$(cuss -H dport = 5500 | awk '{ print $5 }')
	note "client port: $cport"
	lines_are "port = 5500" '$2 == "ESTAB" && $5 == 5500 && $6 == '"$cport" 1 || rc=1
	lines_are "-a port = 5500" '$5 == 5500' 2 || rc=1
	lines_are "-a sport = :5500" '$5 == 5500' 2 || rc=1
	lines_are "-p 5500 state listening" '$2 == "LISTEN" && $5 == 5500' 1 || rc=1
	lines_are "-a dport = 5500" '$2 == "ESTAB" && $6 == 5500' 1 || rc=1
	lines_are "-l port=5500" '$2 == "LISTEN"' 1 || rc=1
	lines_are "-l -t dgram port 5600" '$1 == "dgram" && $2 == "UNCONN"' 1 || rc=1
	lines_are "state unconnected port = 5600" '$2 == "UNCONN"' 1 || rc=1
	lines_are "state listening state established -p 5500" '$2 != "UNCONN"' 2 || rc=1
	lines_are "-l -t seqpacket port = 5500" 0 0 || rc=1
	cuss -l -H | grep -q ESTAB && { note "cuss -l shows ESTAB"; rc=1; }
	cuss -H | grep -Eq 'LISTEN|UNCONN' && { note "cuss shows LISTEN/UNCONN"; rc=1; }
	# --proc: the same sockets, without the counters
	cuss -a -H | awk '{ print $1, $2, $5, $6, $7, $8 }' >"$T/diag.list"
	cuss --proc -a -H | awk '{ print $1, $2, $5, $6, $7, $8 }' >"$T/proc.list"
	cmp -s "$T/diag.list" "$T/proc.list" || { note "sock_diag and /proc lists differ"; rc=1; }
	cuss --proc -l -H port = 5500 | grep -q 'backlog:1 pending:0$' ||
		{ note "cuss --proc: $(cuss --proc -l -H port = 5500)"; rc=1; }
	cuss -l -H port = 5500 | grep -q 'backlog:1 pending:0 queued:1 accepted:1 ' ||
		{ note "cuss: $(cuss -l -H port = 5500)"; rc=1; }
	exec 7>&- 8>&-
	# shellcheck disable=SC2086 # a list of pids
	kill $FILTER_PIDS 2>/dev/null
	# shellcheck disable=SC2086
	wait $FILTER_PIDS 2>/dev/null
	return $rc
}

# ---- the backlog shrink, by cunc, seen by cuss ----------------------------------

# client NAME: cunc to port 5100 in the background, stdin /dev/null
client() {
	cunc 5100 </dev/null >"$T/$1.out" 2>"$T/$1.err" 7>&- &
	eval "PID_$1=$!"
	bg_started $!
}

SRV=
shrink_setup() {
	local i=0 c
	mkfifo "$T/a.in"
	note "A listener with backlog 4 that SIGUSR1 shrinks to 1; it serves one"
	note "client (A) and keeps listening: B, C, D, E wait in its queue, F is refused."
	echo "# \$ cunc -l -k -v -b 4 -B 1 5100 &"
	cunc -l -k -v -b 4 -B 1 5100 </dev/null >"$T/srv.out" 2>"$T/srv.err" &
	SRV=$!
	bg_started $SRV
	until_ok 10 cuss_listener 5100 || return 1
	sed 's/^/#   /' "$T/srv.err"
	echo "# \$ cunc 5100 <fifo &                 # A"
	cunc 5100 <"$T/a.in" >"$T/A.out" 2>"$T/A.err" &
	PID_A=$!
	bg_started $PID_A
	exec 7>"$T/a.in"
	until_ok 10 grep -q 'connection from' "$T/srv.err" || return 1
	sed -n 's/^\(.*connection from.*\)/#   \1/p' "$T/srv.err"
	echo "# \$ for c in B C D E; do cunc 5100 </dev/null & done"
	for c in B C D E; do
		i=$((i + 1))
		client $c
		until_ok 10 pending_is 5100 $i || { note "client $c not queued"; return 1; }
	done
}

t_shrink_queue_full() {
	local rc
	echo "# \$ cunc 5100                         # F"
	cunc 5100 </dev/null >/dev/null 2>"$T/F.err" 7>&-
	rc=$?
	sed 's/^/#   /' "$T/F.err"
	note "exit status $rc"
	[ $rc -eq 3 ] && grep -q "ECONNREFUSED.*the listener's queue is full" "$T/F.err"
}

t_shrink_cuss_before() {
	show cuss -l port = 5100
	same_view $SRV 5100 &&
		[ "$(cuss_listener 5100 | cut -d' ' -f2-)" = \
		  "backlog=4 pending=4 queued=5 accepted=1 refused_full=1 reset_shrink=0 reset_close=0" ]
}

t_shrink_sigusr1() {
	echo "# \$ kill -USR1 %1"
	kill -USR1 $SRV
	until_ok 10 grep -q 'backlog 4 -> 1' "$T/srv.err" || return 1
	grep 'listen(' "$T/srv.err" | sed 's/^/#   /'
	grep -q 'listen(1) on port 5100: backlog 4 -> 1, 3 pending connection(s) reset, 1 pending' "$T/srv.err"
}

t_shrink_newest_reset() {
	local c rc=0 st
	for c in C D E; do
		eval "wait \$PID_$c"
		st=$?
		[ $st -eq 6 ] || { note "client $c: exit $st, want 6"; rc=1; }
		grep -q 'ECONNRESET' "$T/$c.err" || rc=1
	done
	for c in C D E; do
		sed 's/^/#   /' "$T/$c.err"
	done
	note "C, D and E exit with status 6; B, the oldest, still waits"
	kill -0 "$PID_B" 2>/dev/null || { note "B (the oldest) is gone"; rc=1; }
	return $rc
}

t_shrink_cuss_after() {
	show cuss -l port = 5100
	show cuss -s
	same_view $SRV 5100 &&
		[ "$(cuss_listener 5100 | cut -d' ' -f2-)" = \
		  "backlog=1 pending=1 queued=5 accepted=1 refused_full=1 reset_shrink=3 reset_close=0" ]
}

t_shrink_sigusr2_and_drain() {
	local rc=0 st
	kill -USR2 $SRV
	until_ok 10 grep -q 'backlog 1 -> 4' "$T/srv.err" || { note "no grow on SIGUSR2"; rc=1; }
	echo "hello from A" >&7
	exec 7>&-
	wait "$PID_A"
	st=$?
	[ $st -eq 0 ] || { note "A: exit $st: $(cat "$T/A.err")"; rc=1; }
	wait "$PID_B"
	st=$?
	[ $st -eq 0 ] || { note "B: exit $st: $(cat "$T/B.err")"; rc=1; }
	until_ok 10 pending_is 5100 0 || rc=1
	grep -q 'hello from A' "$T/srv.out" || { note "the listener did not get A's data"; rc=1; }
	same_view $SRV 5100 || rc=1
	[ "$(listener_field 5100 accepted)" = 2 ] || rc=1
	kill $SRV
	wait $SRV 2>/dev/null
	return $rc
}

main() {
	local s
	mkdir -p "$T" || exit 1
	if ! command -v cunc >/dev/null || ! command -v cuss >/dev/null ||
	   ! command -v cu_sockinfo >/dev/null; then
		echo "1..1"
		echo "not ok 1 cunc, cuss and cu_sockinfo are on PATH (tools/, selftests/)"
		exit 1
	fi
	echo "1..17"
	t_help; check "cunc and cuss: --help, usage errors exit 2" $?
	t_stream_echo; check "cunc: stream, listener and client copy both ways" $?
	t_seqpacket_echo; check "cunc -s: seqpacket both ways" $?
	t_dgram_echo; check "cunc -u: a datagram each way" $?
	t_refused_nobody; check "cunc: refused, nobody listening: message, exit 4" $?
	t_refused_dgram_nobody; check "cunc -u: nobody bound: message, exit 4" $?
	t_summary; check "cuss -s: the counters of /proc/net/af_custom_stat, socket count" $?
	t_filters; check "cuss: state, port, dport and type filters; --proc lists the same" $?

	shrink_setup
	s=$?
	[ $s -eq 0 ] || note "shrink scenario: set-up failed: $(cat "$T/srv.err")"
	check "shrink: a listener with backlog 4 serves A, queues B to E" $s
	for t in queue_full cuss_before sigusr1 newest_reset cuss_after sigusr2_and_drain; do
		if [ $s -ne 0 ]; then
			not_ok "shrink: $t (set-up failed)"
			continue
		fi
		"t_shrink_$t"
		check "shrink: $t" $?
	done
	t_exit_codes_documented; check "cunc --help lists the exit statuses" $?
	t_cuss_quiet; check "cuss: nothing on stderr when the dump works, nor with --proc" $?
	[ $failed -eq 0 ]
}

t_exit_codes_documented() {
	cunc --help | grep -q "3 refused, the listener's" &&
		cunc --help | grep -q '6 connection reset'
}

# cuss only writes to stderr to say it fell back to /proc, or on errors
t_cuss_quiet() {
	cuss --proc -a -H >/dev/null 2>"$T/err" || return 1
	[ ! -s "$T/err" ] || { note "cuss --proc wrote: $(cat "$T/err")"; return 1; }
	cuss -a -H >/dev/null 2>"$T/err" || return 1
	[ ! -s "$T/err" ] || { note "cuss (sock_diag) wrote: $(cat "$T/err")"; return 1; }
}

main "$@"
