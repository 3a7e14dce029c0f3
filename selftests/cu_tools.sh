#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=dash disable=SC2016,SC2153
#
# cunc and cuss (tools/), as TAP. cunc as an OpenBSD nc user types it
# (-l -p PORT, -k, -u, -z, -N, -p SRCPORT, -w, -q, decimal ports); cuss as
# an ss user does (-tlnp, -lp, -e, -i, -m, -O, --json, the filter language
# in one argument or in words); cuss's view of a listener matches what
# getsockopt says on the very socket (cu_sockinfo borrows it from cunc with
# pidfd_getfd); cuss -s matches /proc/net/af_custom_stat; cunc copies both
# ways over stream, seqpacket and datagram sockets; its refusal messages
# and exit statuses; a backlog shrink done by cunc on SIGUSR1, seen by cuss
# and by the reset clients; one line from each tool when the module is not
# loaded.
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

# The listener of port $1 as cuss -e -i shows it: "ino=N backlog=N ..."
cuss_listener() {
	cuss -l -e -i -O -H sport = :"$1" | awk '$2 == "LISTEN" {
		for (i = 1; i <= NF; i++)
			if ($i ~ /^ino:/) { sub(":", "=", $i); printf "%s", $i }
		for (i = 1; i <= NF; i++)
			if ($i ~ /^(backlog|pending|queued|accepted|refused_full|reset_shrink|reset_close):/) {
				sub(":", "=", $i); printf " %s", $i
			}
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
listening() { cuss -l -H sport = :"$1" | grep -q LISTEN; }

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

# $1 (a file) has exactly one line, matching $2 (a regex)
one_line() {
	if [ "$(grep -c . "$1")" != 1 ] || ! grep -Eq "$2" "$1"; then
		note "want one line like '$2':"
		sed 's/^/#   /' "$1"
		return 1
	fi
}

# ---- help and usage ------------------------------------------------------

t_help() {
	local rc=0 args
	cunc --help | grep -q '^usage: cunc' || rc=1
	cuss --help | grep -q '^usage: cuss' || rc=1
	for args in "cunc" "cunc -l" "cunc -l -p 1 2" "cunc host 5000" \
		    "cunc -z -l 5000" "cunc -k 5000" "cuss -Z" "cuss state bogus" \
		    "cuss sport = :5000 or" "cuss ( sport = :1" "cuss sport ~ :1"; do
		# shellcheck disable=SC2086 # a list of words
		$args >/dev/null 2>&1
		[ $? -eq 2 ] || { note "$args: want exit 2"; rc=1; }
	done
	return $rc
}

# ---- cunc copies both ways -------------------------------------------------

# echo_both_ways FLAG PORT: a listener and a client, each sending a file;
# the listener shuts its side down at the end of its input (-N), the
# client, as nc's default, does not: it ends when both directions have
echo_both_ways() {
	local flag=$1 port=$2 srv rc=0 src crc
	seq 1 20000 >"$T/srv.in"
	seq 50000 -1 30001 >"$T/cli.in"
	# shellcheck disable=SC2086 # $flag may be empty
	cunc -l -N $flag -p "$port" <"$T/srv.in" >"$T/srv.out" 2>"$T/srv.err" &
	srv=$!
	bg_started $srv
	until_ok 10 listening "$port" || { note "no listener on $port"; return 1; }
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
t_seqpacket_echo() { echo_both_ways --seqpacket 5300; }

t_dgram_echo() {
	local srv rc=0 src crc
	echo pong >"$T/reply"
	cunc -l -u -q 3 5400 <"$T/reply" >"$T/srv.out" 2>"$T/srv.err" &
	srv=$!
	bg_started $srv
	until_ok 10 sh -c 'cuss -lu -H sport = :5400 | grep -q UNCONN' ||
		{ note "no datagram socket on 5400"; return 1; }
	echo ping | timeout 30 cunc -u -q 3 5400 >"$T/cli.out" 2>"$T/cli.err"
	crc=$?
	wait $srv
	src=$?
	[ $crc -eq 0 ] || { note "client exit $crc: $(cat "$T/cli.err")"; rc=1; }
	[ $src -eq 0 ] || { note "receiver exit $src: $(cat "$T/srv.err")"; rc=1; }
	[ "$(cat "$T/srv.out")" = ping ] || { note "receiver got '$(cat "$T/srv.out")'"; rc=1; }
	[ "$(cat "$T/cli.out")" = pong ] || { note "client got '$(cat "$T/cli.out")'"; rc=1; }
	return $rc
}

# ---- cunc as an nc user types it ---------------------------------------------

# cunc -l -p PORT listens on PORT, decimal whatever its zeros (not octal)
t_listen_p() {
	local srv rc=0
	cunc -l -p 05010 </dev/null >/dev/null 2>"$T/l.err" &
	srv=$!
	bg_started $srv
	until_ok 10 listening 5010 || { note "no listener on 5010: $(cat "$T/l.err")"; rc=1; }
	cuss -l -H | grep -q ':2568 ' && { note "05010 read as octal"; rc=1; }
	echo hi | timeout 10 cunc -N 5010 >/dev/null 2>&1 || { note "no connection to 5010"; rc=1; }
	wait $srv || { note "listener: exit $?: $(cat "$T/l.err")"; rc=1; }
	return $rc
}

# without -N the end of stdin is not sent (the peer sees no EOF); with -N it is
t_shutdown_N() {
	local srv cli rc=0
	cunc -l -p 5011 </dev/null >"$T/n.out" 2>/dev/null &
	srv=$!
	bg_started $srv
	until_ok 10 listening 5011 || return 1
	echo hi | cunc 5011 >/dev/null 2>&1 &
	cli=$!
	bg_started $cli
	until_ok 10 grep -q hi "$T/n.out" || { note "the listener got nothing"; rc=1; }
	sleep 1
	if ! kill -0 $srv 2>/dev/null || ! kill -0 $cli 2>/dev/null; then
		note "without -N, the connection ended at the end of stdin"
		rc=1
	fi
	kill $cli $srv 2>/dev/null
	wait $cli $srv 2>/dev/null
	cunc -l -p 5011 </dev/null >"$T/n.out" 2>/dev/null &
	srv=$!
	bg_started $srv
	until_ok 10 listening 5011 || return 1
	echo hi | timeout 10 cunc -N 5011 >/dev/null 2>"$T/n.err" ||
		{ note "cunc -N: exit $?: $(cat "$T/n.err")"; rc=1; }
	wait $srv || { note "listener: exit $?"; rc=1; }
	grep -q hi "$T/n.out" || rc=1
	return $rc
}

# cunc -k -l -p PORT serves one client after the other and goes on listening
t_keep_listening() {
	local srv rc=0 i
	cunc -k -l -p 5012 </dev/null >"$T/k.out" 2>"$T/k.err" &
	srv=$!
	bg_started $srv
	until_ok 10 listening 5012 || return 1
	for i in one two three; do
		echo $i | timeout 10 cunc -N 5012 >/dev/null 2>&1 || { note "client $i: exit $?"; rc=1; }
	done
	[ "$(cat "$T/k.out")" = "$(printf 'one\ntwo\nthree')" ] ||
		{ note "the listener got: $(cat "$T/k.out")"; rc=1; }
	listening 5012 || { note "not listening after three clients"; rc=1; }
	kill $srv
	wait $srv 2>/dev/null
	return $rc
}

# cunc -z: 0 when a listener is there (even a full one), 1 when not, and it
# takes no slot of the queue: the listener's counters do not move
t_probe_z() {
	local srv a rc=0 before after
	cunc -z 5013 2>"$T/z.err" && { note "cunc -z 5013 with nobody: exit 0"; rc=1; }
	[ -s "$T/z.err" ] && { note "cunc -z without -v wrote: $(cat "$T/z.err")"; rc=1; }
	mkfifo "$T/z.in"
	cunc -l -p 5013 --backlog 1 </dev/null >/dev/null 2>&1 &
	srv=$!
	bg_started $srv
	until_ok 10 listening 5013 || return 1
	cunc 5013 <"$T/z.in" >/dev/null 2>&1 &
	a=$!
	bg_started $a
	exec 7>"$T/z.in"
	until_ok 10 sh -c 'cuss -H sport = :5013 | grep -q ESTAB' || rc=1
	cunc 5013 </dev/null >/dev/null 2>&1 7>&- &	# pending: the queue is full
	bg_started $!
	until_ok 10 pending_is 5013 1 || { note "no pending client"; rc=1; }
	before=$(cuss_listener 5013)
	cunc -zv 5013 2>"$T/z.err" || { note "cunc -z: exit $?"; rc=1; }
	cunc -z 5010-5020 || { note "cunc -z 5010-5020: exit $?"; rc=1; }
	cunc -z --seqpacket 5013 && { note "cunc -z --seqpacket: a stream listener counted"; rc=1; }
	after=$(cuss_listener 5013)
	note "$(cat "$T/z.err")"
	grep -q 'port 5013 \[stream\] succeeded' "$T/z.err" || rc=1
	[ "$before" = "$after" ] || { note "before: $before"; note "after:  $after"; rc=1; }
	exec 7>&-
	kill $srv 2>/dev/null
	wait $srv $a 2>/dev/null
	return $rc
}

# cunc -p SRCPORT connects from that port; -w 1 quits an idle connection
t_source_port_idle() {
	local srv rc=0 start secs
	mkfifo "$T/w.in"
	cunc -l -v -p 5014 <"$T/w.in" >/dev/null 2>"$T/w.err" &
	srv=$!
	bg_started $srv
	exec 7>"$T/w.in"
	until_ok 10 listening 5014 || return 1
	start=$(date +%s)
	timeout 10 cunc -w 1 -p 7014 5014 <"$T/w.in" >/dev/null 2>&1 7>&- ||
		{ note "cunc -w 1: exit $?"; rc=1; }
	secs=$(($(date +%s) - start))
	[ $secs -le 5 ] || { note "idle for ${secs}s"; rc=1; }
	grep -q 'connection from port 7014 ' "$T/w.err" ||
		{ note "listener: $(cat "$T/w.err")"; rc=1; }
	exec 7>&-
	wait $srv 2>/dev/null
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

# ---- cuss as an ss user types it ----------------------------------------------

# a stream listener on 5000 (backlog 3) serving a client, a datagram socket
# on 6000, a seqpacket listener on 6500
FIX_SRV=''
FIX_CLI=''
FIX_DG=''
FIX_SEQ=''
FIX_CPORT=
fixture_setup() {
	mkfifo "$T/f.srv" "$T/f.cli"
	cunc -l -p 5000 --backlog 3 <"$T/f.srv" >/dev/null 2>&1 &
	FIX_SRV=$!
	exec 7>"$T/f.srv"
	until_ok 10 listening 5000 || return 1
	cunc 5000 <"$T/f.cli" >/dev/null 2>&1 7>&- &
	FIX_CLI=$!
	exec 8>"$T/f.cli"
	cunc -l -u -p 6000 </dev/null >/dev/null 2>&1 7>&- 8>&- &
	FIX_DG=$!
	cunc -l --seqpacket -p 6500 </dev/null >/dev/null 2>&1 7>&- 8>&- &
	FIX_SEQ=$!
	bg_started "$FIX_SRV $FIX_CLI $FIX_DG $FIX_SEQ"
	until_ok 10 sh -c 'cuss -H sport = :5000 | grep -q ESTAB' || return 1
	until_ok 10 sh -c 'cuss -lu -H sport = :6000 | grep -q UNCONN' || return 1
	until_ok 10 listening 6500 || return 1
	FIX_CPORT=$(cuss -H -t dport = :5000 | awk '{ print $4 }')
	FIX_CPORT=${FIX_CPORT#*:}
	note "fixture: stream listener 5000 (pid $FIX_SRV) and client port $FIX_CPORT," \
	     "dgram 6000 (pid $FIX_DG), seqpacket listener 6500 (pid $FIX_SEQ)"
}

fixture_cleanup() {
	exec 7>&- 8>&-
	kill $FIX_SRV $FIX_CLI $FIX_DG $FIX_SEQ 2>/dev/null
	wait $FIX_SRV $FIX_CLI $FIX_DG $FIX_SEQ 2>/dev/null
}

# the users:((...)) of process $1 with some fd
users_re() { echo "users:\(\(\"cunc\",pid=$1,fd=[0-9]+\)\)"; }

# cuss -tlnp: stream listeners only, no Netid column (one type, as ss -t),
# Recv-Q/Send-Q pending/backlog, the owner as ss shows it
t_cuss_tlnp() {
	cuss -tlnp >"$T/o"
	sed 's/^/#   /' "$T/o"
	head -1 "$T/o" | grep -q '^State  *Recv-Q  *Send-Q  *Local Address:Port  *Peer Address:Port  *Process$' ||
		{ note "header"; return 1; }
	sed 1d "$T/o" | grep -v '^LISTEN ' && { note "a line not LISTEN"; return 1; }
	grep -q ':6500 ' "$T/o" && { note "the seqpacket listener with -t"; return 1; }
	grep ' \*:5000 ' "$T/o" >"$T/o1"
	one_line "$T/o1" "^LISTEN +0 +3 +\*:5000 +\*:\* +$(users_re "$FIX_SRV")\$"
}

# cuss -lp: every listener and the unconnected datagram sockets, Netid column
t_cuss_lp() {
	local rc=0
	cuss -lp -H >"$T/o"
	sed 's/^/#   /' "$T/o"
	grep ' \*:5000 ' "$T/o" >"$T/o1"
	one_line "$T/o1" "^stream +LISTEN +0 +3 +\*:5000 +\*:\* +$(users_re "$FIX_SRV")\$" || rc=1
	grep ' \*:6000 ' "$T/o" >"$T/o1"
	one_line "$T/o1" "^dgram +UNCONN +0 +0 +\*:6000 +\*:\* +$(users_re "$FIX_DG")\$" || rc=1
	grep ' \*:6500 ' "$T/o" >"$T/o1"
	one_line "$T/o1" "^seqpacket +LISTEN .*$(users_re "$FIX_SEQ")\$" || rc=1
	grep -q ESTAB "$T/o" && { note "ESTAB with -l"; rc=1; }
	return $rc
}

# cuss -e 'sport = :5000 or sport = :6000': uid, inode (as /proc/net/af_custom),
# cookie; the same in separate words
t_cuss_e_or() {
	local rc=0 ino
	cuss -e -H 'sport = :5000 or sport = :6000' >"$T/o"
	sed 's/^/#   /' "$T/o"
	cuss -e -H sport = :5000 or sport = :6000 >"$T/o2"
	cmp -s "$T/o" "$T/o2" || { note "one argument and words differ"; rc=1; }
	# the default state is connected: the accepted socket on 5000 only
	grep -c . "$T/o" | grep -qx 1 || { note "want the one ESTAB socket"; rc=1; }
	ino=$(awk '$2 == "ESTAB" && $3 == 5000 && $4 == '"$FIX_CPORT"' { print $NF }' /proc/net/af_custom)
	grep -Eq "^stream +ESTAB +0 +0 +\*:5000 +\*:$FIX_CPORT +uid:0 ino:$ino sk:[0-9a-f]+\$" "$T/o" ||
		{ note "want uid:0 ino:$ino sk:HEX"; rc=1; }
	cuss -a -e -H 'sport = :5000 or sport = :6000' >"$T/o"
	[ "$(grep -c . "$T/o")" = 3 ] || { note "-a: want 3 lines"; sed 's/^/#   /' "$T/o"; rc=1; }
	[ "$(sed 's/.* sk://' "$T/o" | sort -u | grep -c .)" = 3 ] || { note "cookies not distinct"; rc=1; }
	return $rc
}

# lines_are "ARGS" AWK N: cuss -H ARGS has N lines, each one true for AWK
lines_are() {
	local out n
	# shellcheck disable=SC2086 # $1 is a list of words
	out=$(eval cuss -H "$1")
	n=$(printf '%s\n' "$out" | grep -c .)
	if [ "$n" != "$3" ] ||
	   { [ "$n" -gt 0 ] && ! printf '%s\n' "$out" | awk "!($2) { bad = 1 } END { exit bad }"; }; then
		note "cuss $1: $n line(s), want $3 with $2:"
		printf '%s\n' "$out" | sed 's/^/#   /'
		return 1
	fi
}

# ss's filter language: comparisons, and, or, not, parentheses, states
t_cuss_filters() {
	local rc=0 c=$FIX_CPORT
	lines_are "-a 'sport = :5000'" '$5 == "*:5000"' 2 || rc=1
	lines_are "-a sport == 5000" '$5 == "*:5000"' 2 || rc=1
	lines_are "-a 'sport eq :5000'" '$5 == "*:5000"' 2 || rc=1
	lines_are "-a dport = :5000" '$2 == "ESTAB" && $6 == "*:5000"' 1 || rc=1
	lines_are "-a 'dport >= :5000 and dport <= :5000'" '$6 == "*:5000"' 1 || rc=1
	lines_are "-a '( sport = :5000 or sport = :6500 ) and not dport = :$c'" \
		'$2 == "LISTEN"' 2 || rc=1
	lines_are "state listening '( sport = :5000 or sport = :6500 )'" '$2 == "LISTEN"' 2 || rc=1
	lines_are "state listening 'sport >= :5000 && sport < :6500 && ! sport = :6000'" \
		'$5 == "*:5000"' 1 || rc=1
	lines_are "exclude listening -t '(sport=:5000||sport=:'$c')'" '$1 == "ESTAB"' 2 || rc=1
	lines_are "-a -u 'sport = :6000 or sport = :5000'" '$1 == "UNCONN"' 1 || rc=1
	lines_are "-l --seqpacket" '$4 == "*:6500"' 1 || rc=1
	lines_are "-l --seqpacket sport = :5000" 0 0 || rc=1
	lines_are "-a 'sport != :5000 and sport = :5000'" 0 0 || rc=1
	cuss -l -H | grep -q ESTAB && { note "cuss -l shows ESTAB"; rc=1; }
	cuss -H | grep -Eq 'LISTEN|UNCONN' && { note "cuss shows LISTEN/UNCONN"; rc=1; }
	# --proc: the same sockets
	cuss -a -H | awk '{ print $1, $2, $5, $6 }' >"$T/diag.list"
	cuss --proc -a -H | awk '{ print $1, $2, $5, $6 }' >"$T/proc.list"
	cmp -s "$T/diag.list" "$T/proc.list" || { note "sock_diag and /proc lists differ"; rc=1; }
	return $rc
}

# --json: one object per socket, the stable fields
t_cuss_json() {
	local rc=0 f
	cuss --json -a >"$T/j"
	[ "$(grep -c . "$T/j")" = "$(cuss -a -H | grep -c .)" ] || { note "not one line per socket"; rc=1; }
	grep '"local_port":5000,' "$T/j" | grep '"state":"LISTEN"' >"$T/j1"
	sed 's/^/#   /' "$T/j1"
	for f in '^\{"netid":"stream","state":"LISTEN","recv_q":0,"send_q":3,' \
		 '"local_port":5000,"peer_port":null,"uid":0,"inode":[1-9][0-9]*,"cookie":[0-9]+,' \
		 '"backlog":3,"pending":0,' \
		 '"stats":\{"queued":1,"accepted":1,"refused_full":0,"reset_shrink":0,"reset_close":0\}' \
		 "\"users\":\[\{\"name\":\"cunc\",\"pid\":$FIX_SRV,\"fd\":[0-9]+\}\]\}\$"; do
		grep -Eq "$f" "$T/j1" || { note "lacks $f"; rc=1; }
	done
	grep '"netid":"dgram"' "$T/j" | grep -q '"stats":null' || { note "dgram stats"; rc=1; }
	return $rc
}

# -i: a listener's backlog, pending and counters, on the next line (a tab)
# or, with -O, on the same; -m the bytes queued: a second client, pending,
# sends 4 bytes that nobody reads (last: it changes the listener's queue)
t_cuss_i_m() {
	local rc=0 b
	cuss -tli -H sport = :5000 >"$T/o"
	sed 's/^/#   /' "$T/o"
	[ "$(sed -n 2p "$T/o")" = "$(printf '\t backlog:3 pending:0 queued:1 accepted:1 refused_full:0 reset_shrink:0 reset_close:0')" ] ||
		{ note "-i: the second line"; rc=1; }
	cuss -tliO -H sport = :5000 | grep -Eq '^LISTEN +0 +3 .* backlog:3 pending:0 queued:1 accepted:1 ' ||
		{ note "-i -O"; rc=1; }
	echo abc | cunc 5000 >/dev/null 2>&1 7>&- 8>&- &
	b=$!
	bg_started $b
	until_ok 10 sh -c "cuss -tmO -H dport = :5000 | grep -q 'skmem:(r0,t4)'" ||
		{ note "-m: $(cuss -tmO -H dport = :5000)"; rc=1; }
	cuss -tmO -H sport = :5000 | grep -q 'not-accepted skmem:(r4,t0)$' ||
		{ note "-m: $(cuss -tmO -H sport = :5000)"; rc=1; }
	show cuss -tm sport = :5000 or dport = :5000
	kill $b
	return $rc
}

# SIGHUP shuts cunc's listener down: it is UNCONN, and cuss -i still shows
# its counters (kept after shutdown), reset_close counting the pending one
t_cuss_i_shut_down() {
	local srv a rc=0
	mkfifo "$T/h.in"
	cunc -l -p 5015 --backlog 2 </dev/null >/dev/null 2>"$T/h.err" &
	srv=$!
	bg_started $srv
	until_ok 10 listening 5015 || return 1
	cunc -N 5015 <"$T/h.in" >/dev/null 2>&1 &
	a=$!
	bg_started $a
	exec 7>"$T/h.in"
	until_ok 10 sh -c 'cuss -H sport = :5015 | grep -q ESTAB' || rc=1
	cunc 5015 </dev/null >/dev/null 2>&1 7>&- &
	bg_started $!
	until_ok 10 pending_is 5015 1 || rc=1
	kill -HUP $srv
	until_ok 10 grep -q 'stopped listening' "$T/h.err" || { note "no shutdown"; rc=1; }
	note "$(cat "$T/h.err")"
	show cuss -a -i -O state unconnected sport = :5015
	cuss -a -i -O -H state unconnected sport = :5015 >"$T/o"
	one_line "$T/o" '^stream +UNCONN +0 +0 +\*:5015 +\*:\* .*backlog:0 pending:0 queued:2 accepted:1 refused_full:0 reset_shrink:0 reset_close:1$' || rc=1
	exec 7>&-
	wait $srv || { note "listener: exit $?"; rc=1; }
	return $rc
}

# ---- the backlog shrink, by cunc, seen by cuss ----------------------------------

# client NAME: cunc to port 5100 in the background, stdin /dev/null; -N so
# that the listener, once it serves it, sees the end of its data
client() {
	cunc -N 5100 </dev/null >"$T/$1.out" 2>"$T/$1.err" 7>&- &
	eval "PID_$1=$!"
	bg_started $!
}

SRV=
shrink_setup() {
	local i=0 c
	mkfifo "$T/a.in"
	note "A listener with backlog 4 that SIGUSR1 shrinks to 1; it serves one"
	note "client (A) and keeps listening: B, C, D, E wait in its queue, F is refused."
	echo "# \$ cunc -l -k -v -N --backlog 4 --relisten 1 -p 5100 &"
	cunc -l -k -v -N --backlog 4 --relisten 1 -p 5100 </dev/null >"$T/srv.out" 2>"$T/srv.err" &
	SRV=$!
	bg_started $SRV
	until_ok 10 cuss_listener 5100 || return 1
	sed 's/^/#   /' "$T/srv.err"
	echo "# \$ cunc -N 5100 <fifo &              # A"
	cunc -N 5100 <"$T/a.in" >"$T/A.out" 2>"$T/A.err" &
	PID_A=$!
	bg_started $PID_A
	exec 7>"$T/a.in"
	until_ok 10 grep -q 'connection from' "$T/srv.err" || return 1
	sed -n 's/^\(.*connection from.*\)/#   \1/p' "$T/srv.err"
	echo "# \$ for c in B C D E; do cunc -N 5100 </dev/null & done"
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

# Recv-Q and Send-Q of the listener: pending and backlog, as ss for TCP
t_shrink_cuss_before() {
	show cuss -tl sport = :5100
	cuss -tl -H sport = :5100 | grep -Eq '^LISTEN +4 +4 +\*:5100 ' || return 1
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
	show cuss -tli sport = :5100
	show cuss -s
	cuss -tl -H sport = :5100 | grep -Eq '^LISTEN +1 +1 +\*:5100 ' || return 1
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

t_exit_codes_documented() {
	cunc --help | grep -q "3 refused, the listener's" &&
		cunc --help | grep -q '6 connection' && cunc --help | grep -q 'reset; 7'
}

# cuss only writes to stderr to say it fell back to /proc, or on errors
t_cuss_quiet() {
	cuss --proc -a -H >/dev/null 2>"$T/err" || return 1
	[ ! -s "$T/err" ] || { note "cuss --proc wrote: $(cat "$T/err")"; return 1; }
	cuss -a -H >/dev/null 2>"$T/err" || return 1
	[ ! -s "$T/err" ] || { note "cuss (sock_diag) wrote: $(cat "$T/err")"; return 1; }
}

# Without the module, each tool says so in one line (no netlink errno
# first), and the module is loaded again. socket() would load an installed
# module on demand: kernel.modprobe points nowhere meanwhile. Last: it
# needs no socket left.
t_not_loaded() {
	local rc=0 ko=/af_custom.ko modprobe f
	[ -e "$ko" ] || ko=$(dirname "$0")/af_custom.ko
	[ -e "$ko" ] || { SKIP_WHY="no af_custom.ko to load again"; return 4; }
	exec 9>&2
	# shellcheck disable=SC2119 # nothing to remove yet
	bg_cleanup		# it sends stderr to /dev/null
	exec 2>&9 9>&-
	PIDS=
	unload_retrying 50 rmmod af_custom || { SKIP_WHY="rmmod failed"; return 4; }
	modprobe=$(cat /proc/sys/kernel/modprobe)
	echo /nonexistent/modprobe >/proc/sys/kernel/modprobe
	cuss -tlnp >/dev/null 2>"$T/e1"
	[ $? -eq 1 ] || { note "cuss: exit status"; rc=1; }
	cunc 5000 </dev/null >/dev/null 2>"$T/e2"
	[ $? -eq 7 ] || { note "cunc: exit status"; rc=1; }
	cunc -z 5000 2>"$T/e3"
	[ $? -eq 7 ] || { note "cunc -z: exit status"; rc=1; }
	echo "$modprobe" >/proc/sys/kernel/modprobe
	loaded && { note "the module was loaded meanwhile"; rc=1; }
	loaded || insmod "$ko" || { note "insmod $ko failed"; rc=1; }
	for f in e1 e2 e3; do
		one_line "$T/$f" '^cu(ss|nc): af_custom.ko is not loaded' || rc=1
	done
	note "$(cat "$T/e1")"
	return $rc
}

# run_after_setup STATUS GROUP NAME...: t_GROUP_NAME for each NAME, as
# "GROUP: NAME", or not ok for each when the set-up failed (STATUS != 0)
run_after_setup() {
	local s=$1 group=$2 t
	shift 2
	for t in "$@"; do
		if [ "$s" -ne 0 ]; then
			not_ok "$group: $t (set-up failed)"
			continue
		fi
		"t_${group}_$t"
		check "$group: $t" $?
	done
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
	echo "1..30"
	t_help; check "cunc and cuss: --help, usage errors exit 2" $?
	t_stream_echo; check "cunc: stream, listener and client copy both ways" $?
	t_seqpacket_echo; check "cunc --seqpacket: seqpacket both ways" $?
	t_dgram_echo; check "cunc -u: a datagram each way" $?
	t_listen_p; check "cunc -l -p 05010: listens on 5010 (decimal)" $?
	t_shutdown_N; check "cunc: no shutdown at the end of stdin, but with -N" $?
	t_keep_listening; check "cunc -k -l -p: serves one client after the other" $?
	t_probe_z; check "cunc -z: asks sock_diag, takes no slot of the queue" $?
	t_source_port_idle; check "cunc -p SRCPORT PORT: source port; -w: idle timeout" $?
	t_refused_nobody; check "cunc: refused, nobody listening: message, exit 4" $?
	t_refused_dgram_nobody; check "cunc -u: nobody bound: message, exit 4" $?
	t_summary; check "cuss -s: the counters of /proc/net/af_custom_stat, socket count" $?

	fixture_setup
	s=$?
	[ $s -eq 0 ] || note "cuss fixture: set-up failed"
	check "cuss fixture: stream, dgram and seqpacket sockets" $s
	run_after_setup $s cuss tlnp lp e_or filters json i_m
	fixture_cleanup
	t_cuss_i_shut_down; check "cuss -i: the counters of a listener shut down" $?

	shrink_setup
	s=$?
	[ $s -eq 0 ] || note "shrink scenario: set-up failed: $(cat "$T/srv.err")"
	check "shrink: a listener with backlog 4 serves A, queues B to E" $s
	run_after_setup $s shrink queue_full cuss_before sigusr1 newest_reset \
		cuss_after sigusr2_and_drain
	t_exit_codes_documented; check "cunc --help lists the exit statuses" $?
	t_cuss_quiet; check "cuss: nothing on stderr when the dump works, nor with --proc" $?
	SKIP_WHY=
	t_not_loaded
	s=$?
	if [ $s -eq 4 ]; then
		skip "cuss, cunc: one line when the module is not loaded" "$SKIP_WHY"
	else
		check "cuss, cunc: one line when the module is not loaded" $s
	fi
	[ $failed -eq 0 ]
}

main "$@"
