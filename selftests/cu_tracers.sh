#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=dash disable=SC2016
#
# The af_custom tracepoints from perf and bpftrace (Debian's linux-perf and
# bpftrace), as TAP. Opt-in, as the two with their libraries (LLVM for
# bpftrace) add some 250 MB to the test VM:
#
#   make check TRACERS=1 TESTS=cu_tracers.sh
#
# (scripts/deps.sh then installs them, scripts/vm.sh copies them into the
# VM, selftests/Makefile lists this script). cu_trace checks every event
# and field through tracefs in every `make check`; this shows the same
# events reach the usual tools. The scenario: a cunc listener with backlog
# 2 serving A, B and C queued, D refused (full), SIGUSR1 shrinking the
# backlog to 1 (C reset), E refused by nobody listening, then A leaving
# and cunc closing its listener (B reset).
#
# Run as root in the test VM, cunc on PATH. A tool missing from the VM is
# a skip.

# shellcheck source-path=SCRIPTDIR source=cu_lib.sh
. "$(dirname "$0")/cu_lib.sh"

PORT=5800
NOBODY=5899
T=${TMPDIR:-/tmp}/cu_tracers.$$

# /proc/net/af_custom: type state port peer backlog pending ...
pending_is() {
	awk -v port=$PORT -v n="$1" '$2 == "LISTEN" && $3 == port && $6 == n { found = 1 }
		END { exit !found }' /proc/net/af_custom
}

# still running (a zombie not reaped yet is not)
alive() {
	[ -r "/proc/$1/stat" ] && ! grep -q '^[0-9]* (.*) Z' "/proc/$1/stat" 2>/dev/null
}

# ST: the exit status of background job $1, waiting at most $2 seconds
# (else "timeout", and the job is killed). Not in $(...): only this shell
# can wait for its jobs.
status_of() {
	local i=0
	while alive "$1"; do
		i=$((i + 1))
		if [ $i -gt $(($2 * 5)) ]; then
			kill "$1" 2>/dev/null
			wait "$1" 2>/dev/null
			ST=timeout
			return
		fi
		nap
	done
	wait "$1"
	ST=$?
}

# The scenario, run as "$0 scenario" (under perf record, or while
# bpftrace is attached). Its own exit status says whether it went as meant.
scenario() {
	local srv a b c rc=0 st
	mkdir -p "$T.s"
	mkfifo "$T.s/a"
	cunc -l --backlog 2 --relisten 1 -p $PORT </dev/null >/dev/null 2>&1 &
	srv=$!
	until_ok 10 grep -q "^stream *LISTEN *$PORT " /proc/net/af_custom ||
		{ echo "scenario: no listener" >&2; rc=1; }
	cunc -N $PORT <"$T.s/a" >/dev/null 2>&1 &
	a=$!
	exec 7>"$T.s/a"
	until_ok 10 grep -q "^stream *ESTAB *$PORT " /proc/net/af_custom ||
		{ echo "scenario: A not accepted" >&2; rc=1; }
	cunc $PORT </dev/null >/dev/null 2>&1 7>&- &
	b=$!
	until_ok 10 pending_is 1 || { echo "scenario: B not pending" >&2; rc=1; }
	cunc $PORT </dev/null >/dev/null 2>&1 7>&- &
	c=$!
	until_ok 10 pending_is 2 || { echo "scenario: C not pending" >&2; rc=1; }
	cunc $PORT </dev/null >/dev/null 2>&1 7>&-	# D: full
	st=$?
	[ $st -eq 3 ] || { echo "scenario: D exit $st, want 3" >&2; rc=1; }
	kill -USR1 $srv
	status_of $c 10				# C: reset by the shrink
	[ "$ST" = 6 ] || { echo "scenario: C exit $ST, want 6" >&2; rc=1; }
	cunc $NOBODY </dev/null >/dev/null 2>&1 7>&-	# E: nobody
	st=$?
	[ $st -eq 4 ] || { echo "scenario: E exit $st, want 4" >&2; rc=1; }
	exec 7>&-
	status_of $a 10
	[ "$ST" = 0 ] || { echo "scenario: A exit $ST, want 0" >&2; rc=1; }
	status_of $b 10				# B: reset by the close
	[ "$ST" = 6 ] || { echo "scenario: B exit $ST, want 6" >&2; rc=1; }
	status_of $srv 10
	[ "$ST" = 0 ] || { echo "scenario: the listener exit $ST, want 0" >&2; rc=1; }
	rm -rf "$T.s"
	return $rc
}

# every line of $2 (a regex) is found in file $1
has_lines() {
	local want
	printf '%s\n' "$2" | while IFS= read -r want; do
		[ -z "$want" ] && continue
		grep -q -- "$want" "$1" || { note "missing: $want"; exit 1; }
	done
}

t_perf() {
	local rc=0
	perf --version | sed 's/^/# /'
	perf list 'af_custom:*' 2>/dev/null | grep -c 'af_custom:cu_' >"$T/n"
	[ "$(cat "$T/n")" = 5 ] || { note "perf list shows $(cat "$T/n") af_custom events"; rc=1; }
	echo "# \$ perf record -e 'af_custom:*' -a -- <the scenario>"
	timeout 120 perf record -q -e 'af_custom:*' -a -o "$T/perf.data" -- "$0" scenario \
		>"$T/rec.out" 2>&1 || { note "perf record or the scenario failed:"; sed 's/^/#   /' "$T/rec.out"; rc=1; }
	echo "# \$ perf script"
	perf script -i "$T/perf.data" 2>/dev/null | tee "$T/script" | sed 's/^/#   /'
	has_lines "$T/script" "af_custom:cu_backlog: port=$PORT old_backlog=0 new_backlog=2 pending=0 cookie=[0-9]* netns_ino=[0-9]*
af_custom:cu_queued: port=$PORT peer=[0-9]* pending=1 cookie=[0-9]* netns_ino=[0-9]*
af_custom:cu_accepted: port=$PORT peer=[0-9]* pending=0 cookie=[0-9]* netns_ino=[0-9]*
af_custom:cu_queued: port=$PORT peer=[0-9]* pending=2 cookie=[0-9]* netns_ino=[0-9]*
af_custom:cu_refused: port=$PORT peer=[0-9]* why=full cookie=[0-9]* netns_ino=[0-9]*
af_custom:cu_backlog: port=$PORT old_backlog=2 new_backlog=1 pending=1 cookie=[0-9]* netns_ino=[0-9]*
af_custom:cu_reset: port=$PORT peer=[0-9]* why=shrink cookie=[0-9]* netns_ino=[0-9]*
af_custom:cu_refused: port=$NOBODY peer=[0-9]* why=no_listener cookie=[0-9]* netns_ino=[0-9]*
af_custom:cu_reset: port=$PORT peer=[0-9]* why=close cookie=[0-9]* netns_ino=[0-9]*" || rc=1
	[ "$(grep -c 'af_custom:' "$T/script")" = 10 ] ||
		{ note "$(grep -c 'af_custom:' "$T/script") events, want 10"; rc=1; }
	return $rc
}

t_perf_trace() {
	echo "# \$ perf trace --no-syscalls -e af_custom:cu_refused -- cunc $NOBODY"
	timeout 60 perf trace --no-syscalls -e af_custom:cu_refused -- \
		cunc $NOBODY </dev/null >"$T/trace" 2>&1
	sed 's/^/#   /' "$T/trace"
	grep -q "af_custom:cu_refused(port: $NOBODY, peer: [0-9]*, why: 1)" "$T/trace" ||
		grep -q "af_custom:cu_refused(port: $NOBODY, peer: [0-9]*, why: no_listener)" "$T/trace"
}

BT_PROG='BEGIN { printf("tracing\n"); } tracepoint:af_custom:cu_refused, tracepoint:af_custom:cu_reset { @[probe, args->why] = count(); } tracepoint:af_custom:cu_backlog { printf("port %u backlog %u -> %u, %u pending\n", args->port, args->old_backlog, args->new_backlog, args->pending); }'

t_bpftrace() {
	local bt rc=0
	bpftrace --version | sed 's/^/# /'
	echo "# \$ bpftrace -B none -e '$BT_PROG'"
	bpftrace -B none -e "$BT_PROG" >"$T/bt" 2>&1 &
	bt=$!
	# LLVM compiles the program first: slow under emulation. BEGIN runs
	# once every probe is attached.
	until_ok 90 grep -q '^tracing' "$T/bt" || { note "bpftrace did not attach"; rc=1; }
	"$0" scenario || { note "the scenario failed"; rc=1; }
	nap
	kill -INT $bt
	wait $bt
	sed 's/^/#   /' "$T/bt"
	has_lines "$T/bt" "port $PORT backlog 0 -> 2, 0 pending
port $PORT backlog 2 -> 1, 1 pending
@\[tracepoint:af_custom:cu_refused, 0\]: 1
@\[tracepoint:af_custom:cu_refused, 1\]: 1
@\[tracepoint:af_custom:cu_reset, 2\]: 1
@\[tracepoint:af_custom:cu_reset, 3\]: 1" || rc=1
	return $rc
}

# the scenario with the events enabled in tracefs, as anyone can without tools
t_tracefs() {
	local tr=/sys/kernel/tracing rc=0
	echo "# \$ echo 1 > $tr/events/af_custom/enable; <the scenario>; cat $tr/trace"
	echo >"$tr/trace"
	echo 1 >"$tr/events/af_custom/enable" || return 1
	"$0" scenario || { note "the scenario failed"; rc=1; }
	echo 0 >"$tr/events/af_custom/enable"
	grep -v '^#' "$tr/trace" | tee "$T/tracefs" | sed 's/^/#   /'
	[ "$(grep -c ': cu_' "$T/tracefs")" = 10 ] || rc=1
	echo >"$tr/trace"
	return $rc
}

main() {
	if [ "$1" = scenario ]; then
		scenario
		exit
	fi
	mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
	mkdir -p "$T"
	echo "1..4"
	t_tracefs; check "tracefs: the scenario's 10 events" $?
	if command -v perf >/dev/null; then
		t_perf; check "perf record/script: the scenario's events and fields" $?
		t_perf_trace; check "perf trace: a refused connect" $?
	else
		skip "perf record/script" "perf is not in the VM (make check TRACERS=1)"
		skip "perf trace" "perf is not in the VM (make check TRACERS=1)"
	fi
	if command -v bpftrace >/dev/null; then
		t_bpftrace; check "bpftrace: counts by reason, backlog changes" $?
	else
		skip "bpftrace" "bpftrace is not in the VM (make check TRACERS=1)"
	fi
	rm -rf "$T"
	[ $failed -eq 0 ]
}

main "$@"
