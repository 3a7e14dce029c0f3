# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=dash
#
# What the af_custom shell selftests share: TAP output, waiting, the
# module's state and the processes a test leaves in the background. Not a
# test: each script sources it from its own directory,
#
#   . "$(dirname "$0")/cu_lib.sh"
#
# where the selftests Makefile ships it (TEST_FILES: next to the scripts in
# the test VM's /tests and in a kselftest installation). It prints nothing.
#
# TAP: ok NAME, not_ok NAME, skip NAME WHY, note TEXT...; check NAME STATUS
# and run NAME COMMAND report one test by a status or by running COMMAND.
# num counts the tests so far, failed the failures; totals prints the
# kselftest "# Totals" line. The module: loaded, unload_retrying, and a
# socket held open by cu_hold_socket (start_holder, stop_holder).

num=0
failed=0
PIDS=

ok()     { num=$((num + 1)); echo "ok $num $1"; }
not_ok() { num=$((num + 1)); failed=$((failed + 1)); echo "not ok $num $1"; }
skip()   { num=$((num + 1)); echo "ok $num $1 # SKIP $2"; }
note()   { echo "# $*"; }
check()  { if [ "$2" = 0 ]; then ok "$1"; else not_ok "$1"; fi; }
run()    { if "$2"; then ok "$1"; else not_ok "$1"; fi; }
totals() { echo "# Totals: pass:$((num - failed)) fail:$failed"; }

# a fifth of a second (busybox sleep may not take fractions)
nap() { sleep 0.2 2>/dev/null || usleep 200000 2>/dev/null || sleep 1; }

# until "$@" succeeds, at most $1 seconds
until_ok() {
	local n=$(($1 * 5)) i=0
	shift
	while ! "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -ge $n ] && return 1
		nap
	done
}

loaded() { grep -q '^af_custom ' /proc/modules; }

# "$@" (rmmod af_custom, modprobe -r af_custom) until it succeeds, $1
# tries of a nap apart, 10 s. A closed socket is freed after an RCU grace
# period (a dead netns by a worker), so the module's last reference may
# outlive close() briefly.
unload_retrying() {
	local tries=$1 i=0 out=
	shift
	while [ $i -lt "$tries" ]; do
		if out=$("$@" 2>&1); then
			return 0
		fi
		i=$((i + 1))
		nap
	done
	note "$* still failing after 10 s: $out" \
		"(refcnt $(cat /sys/module/af_custom/refcnt 2>/dev/null))"
	return 1
}

# A socket of family $FAMILY held open (120 s at most) by a cu_hold_socket
# process, "$HOLD", whose pid goes to HOLDER; true once the socket is open
# (the helper creates $TMP.ready then; 10 s at most).
start_holder() {
	local i=0
	rm -f "$TMP.ready"
	"$HOLD" hold "$FAMILY" "$TMP.ready" 120 &
	HOLDER=$!
	while [ ! -e "$TMP.ready" ]; do
		i=$((i + 1))
		if [ $i -gt 50 ] || ! kill -0 "$HOLDER" 2>/dev/null; then
			note "the helper did not open a socket"
			return 1
		fi
		nap
	done
}

# That process ended, if there is one.
stop_holder() {
	if [ -n "$HOLDER" ]; then
		kill "$HOLDER" 2>/dev/null
		wait "$HOLDER" 2>/dev/null
		HOLDER=
	fi
}

# Background processes end with the script: bg_started PID... when they
# start, bg_cleanup at exit (trap) closes fds 7 and 8 (a test's pipes to
# them), kills them, reaps them and removes the directories "$@".
bg_started() { PIDS="$PIDS $1"; }

bg_cleanup() {
	local p
	exec 7>&- 8>&- 2>/dev/null
	for p in $PIDS; do
		kill "$p" 2>/dev/null
	done
	for p in $PIDS; do
		wait "$p" 2>/dev/null
	done
	[ $# -eq 0 ] || rm -rf "$@"
}
