#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# af_custom module lifecycle (docs/semantics.md §1 and §9), as TAP.
#
# Run as root in the test VM, with af_custom loaded (default parameters),
# after the C selftests. Needs busybox or util-linux/kmod tools: insmod,
# rmmod, dmesg, grep.
#
# Environment:
#   CU_KO    path of af_custom.ko, used to load it again (default: the first
#            of /af_custom.ko, next to this script, ../module/, /lib/modules)
#   CU_HOLD  path of the cu_hold_socket helper (default: next to this script)
#
# The module is left loaded with default parameters when the script exits.
# Exit status: 0 all passed, 1 a test failed, 4 (kselftest skip) not root.

# shellcheck source-path=SCRIPTDIR source=cu_lib.sh
. "$(dirname "$0")/cu_lib.sh"

KSFT_SKIP=4
DIR=$(cd "$(dirname "$0")" && pwd)
HOLD=${CU_HOLD:-$DIR/cu_hold_socket}
SYS=/sys/module/af_custom
FAMILY=22
TMP=${TMPDIR:-/tmp}/cu_module.$$
HOLDER=

param() { cat "$SYS/parameters/family" 2>/dev/null; }

find_ko() {
	if [ -n "$CU_KO" ]; then
		echo "$CU_KO"
		return
	fi
	for f in /af_custom.ko "$DIR/af_custom.ko" "$DIR/../module/af_custom.ko" \
		 "$DIR/../af_custom.ko" "/lib/modules/$(uname -r)/extra/af_custom.ko"; do
		if [ -f "$f" ]; then
			echo "$f"
			return
		fi
	done
}

load() {
	local out status
	out=$(insmod "$KO" "$@" 2>&1)
	status=$?
	[ -n "$out" ] && note "insmod $*: $out"
	return $status
}

# A closed socket is freed after an RCU grace period (and a dead netns by a
# worker), so its module reference may outlive close() briefly: retry 10 s.
unload() { unload_retrying 50 rmmod af_custom; }

cleanup() {
	stop_holder
	rm -f "$TMP.ready"
	if [ -n "$KO" ] && ! loaded; then
		insmod "$KO" >/dev/null 2>&1 || echo "# could not load $KO again"
	fi
}

# ---- tests ---------------------------------------------------------------

t_loaded_with_default_family() {
	if ! loaded; then
		note "af_custom is not loaded"
		return 1
	fi
	[ "$(param)" = "$FAMILY" ] || { note "family parameter reads '$(param)'"; return 1; }
}

t_family_parameter_read_only() {
	if (echo 5 > "$SYS/parameters/family") 2>/dev/null; then
		note "writing the family parameter succeeded"
		return 1
	fi
	[ "$(param)" = "$FAMILY" ]
}

t_socket_works() {
	"$HOLD" probe $FAMILY
}

t_rmmod_refused_while_socket_open() {
	local ref out
	start_holder || return 1
	ref=$(cat "$SYS/refcnt" 2>/dev/null)
	[ "${ref:-0}" -gt 0 ] || { note "refcnt is '$ref' with a socket open"; return 1; }
	if out=$(rmmod af_custom 2>&1); then
		note "rmmod succeeded with a socket open"
		return 1
	fi
	note "rmmod with a socket open: $out"
	loaded || { note "module gone although rmmod failed"; return 1; }
	"$HOLD" probe $FAMILY || { note "family no longer works after the refused rmmod"; return 1; }
}

t_rmmod_succeeds_after_close() {
	stop_holder
	unload || return 1
	! loaded
}

t_no_socket_after_rmmod() {
	local status
	loaded && { note "precondition: module still loaded"; return 1; }
	"$HOLD" probe $FAMILY 2>/dev/null
	status=$?
	if [ $status -eq 0 ] && loaded; then
		note "family $FAMILY was autoloaded (net-pf-$FAMILY alias); unloading it again"
		unload
		return
	fi
	[ $status -eq 2 ] || { note "probe after rmmod exited $status, want 2 (EAFNOSUPPORT)"; return 1; }
}

t_insmod_again_works() {
	if loaded; then
		note "precondition: module still loaded; unloading first"
		unload || return 1
	fi
	load || return 1
	[ "$(param)" = "$FAMILY" ] || return 1
	"$HOLD" probe $FAMILY
}

# busybox insmod retries a failed finit_module() with init_module(), so the
# module may log its message twice: count distinct "af_custom: " lines (its
# pr_fmt; on a KUnit kernel each load also logs the af_custom_pending suite).
t_taken_family_eexist_with_one_log_line() {
	local before out new msgs n rc=0
	unload || return 1
	before=$(dmesg | wc -l)
	if out=$(insmod "$KO" family=1 2>&1); then
		note "insmod family=1 (AF_UNIX, taken) succeeded"
		unload
		return 1
	fi
	note "insmod family=1: $out"
	echo "$out" | grep -q "File exists" || { note "want EEXIST (File exists)"; rc=1; }
	loaded && { note "module loaded although insmod failed"; rc=1; }
	new=$(dmesg | tail -n +$((before + 1)))
	echo "$new" | sed 's/^/# dmesg: /'
	msgs=$(echo "$new" | grep 'af_custom: ' | sed 's/^\[[^]]*\] *//' | sort -u)
	n=$(echo "$msgs" | grep -c .)
	[ "$n" -eq 1 ] || { note "$n distinct af_custom log lines, want 1"; rc=1; }
	echo "$msgs" | grep -q family || { note "the log line does not name the 'family' parameter"; rc=1; }
	load || rc=1
	return $rc
}

t_family_parameter_overrides() {
	local free= n rc=0
	for n in 13 25 23 19 14; do
		"$HOLD" probe $n 2>/dev/null
		if [ $? -eq 2 ]; then
			free=$n
			break
		fi
	done
	[ -n "$free" ] || { note "no free family number found"; return 1; }
	unload || return 1
	load family=$free || rc=1
	[ "$(param)" = "$free" ] || { note "family parameter reads '$(param)', want $free"; rc=1; }
	"$HOLD" probe $free || { note "no socket of family $free"; rc=1; }
	"$HOLD" probe $FAMILY 2>/dev/null
	[ $? -eq 2 ] || { note "family $FAMILY still works with family=$free"; rc=1; }
	unload || rc=1
	load || rc=1
	return $rc
}

t_load_unload_cycles() {
	local i
	for i in 1 2 3 4 5; do
		unload || return 1
		load || return 1
		"$HOLD" probe $FAMILY || return 1
	done
}

# ---- main ------------------------------------------------------------------

echo "TAP version 13"
if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP cu_module.sh needs root"
	exit $KSFT_SKIP
fi
echo "1..10"
KO=$(find_ko)
trap cleanup EXIT
trap 'exit 1' INT TERM

run module_loaded_with_default_family t_loaded_with_default_family
run family_parameter_is_read_only t_family_parameter_read_only
run socket_works t_socket_works
run rmmod_refused_while_a_socket_is_open t_rmmod_refused_while_socket_open
if [ -z "$KO" ] || [ ! -f "$KO" ]; then
	stop_holder
	why="af_custom.ko not found (set CU_KO)"
	for t in rmmod_succeeds_once_the_socket_is_closed no_socket_after_rmmod \
		 insmod_again_works taken_family_insmod_eexist_with_one_log_line \
		 family_parameter_overrides_the_number load_unload_cycles; do
		skip $t "$why"
	done
else
	note "module file: $KO"
	run rmmod_succeeds_once_the_socket_is_closed t_rmmod_succeeds_after_close
	run no_socket_after_rmmod t_no_socket_after_rmmod
	run insmod_again_works t_insmod_again_works
	run taken_family_insmod_eexist_with_one_log_line t_taken_family_eexist_with_one_log_line
	run family_parameter_overrides_the_number t_family_parameter_overrides
	run load_unload_cycles t_load_unload_cycles
fi

totals
if [ $failed -eq 0 ]; then
	exit 0
fi
exit 1
