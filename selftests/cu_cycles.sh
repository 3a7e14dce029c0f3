#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=dash
#
# af_custom load/unload cycles (docs/semantics.md §9: loading and unloading
# any number of times leaks nothing), as TAP.
#
# Each cycle unloads the module, loads it again, and has cu_churn open and
# close one of every kind of socket with data and connections still in
# flight (every other cycle in a network namespace that dies with it).
# rmmod must succeed within 10 s of the sockets' close (they are freed after
# an RCU grace period, a dead netns by a worker): a socket or a module
# reference that is never released fails the cycle. Leaks are found by the
# runner's kmemleak scan after the last unload (debug kernel), warnings by
# its kernel log check.
#
# Cycles: $CU_CYCLES, else 200 when $CU_FLAVOUR is "debug", else 50.
#
# Environment: CU_KO (the module file), CU_CHURN (the helper, default next
# to this script). Leaves the module loaded with default parameters.
# Exit status: 0 all passed, 1 a test failed, 4 (kselftest skip) not root.

# shellcheck source-path=SCRIPTDIR source=cu_lib.sh
. "$(dirname "$0")/cu_lib.sh"

KSFT_SKIP=4
DIR=$(cd "$(dirname "$0")" && pwd)
CHURN=${CU_CHURN:-$DIR/cu_churn}
KO=${CU_KO:-}
FAMILY=22
if [ -n "$CU_CYCLES" ]; then
	CYCLES=$CU_CYCLES
elif [ "$CU_FLAVOUR" = debug ]; then
	CYCLES=200
else
	CYCLES=50
fi

# cu_lib.sh's nap, shorter: the cycles retry rmmod every tenth of a second,
# for up to 30 s (the debug kernels free a namespace's sockets late)
nap()    { sleep 0.1 2>/dev/null || sleep 1; }
unload() { unload_retrying 300 rmmod af_custom; }

load() {
	local out
	if ! out=$(insmod "$KO" 2>&1); then
		note "insmod $KO: $out"
		return 1
	fi
}

# One cycle; prints why it failed.
cycle() {
	local n="$1" mode=
	[ $((n % 2)) -eq 0 ] && mode=netns
	unload || return 1
	loaded && { note "af_custom still in /proc/modules after rmmod"; return 1; }
	load || return 1
	# shellcheck disable=SC2086 # no word at all when empty
	"$CHURN" "$FAMILY" $mode || { note "cu_churn $FAMILY $mode failed"; return 1; }
}

echo "TAP version 13"
if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP cu_cycles.sh needs root"
	exit $KSFT_SKIP
fi
if [ -z "$KO" ] || [ ! -f "$KO" ] || [ ! -x "$CHURN" ]; then
	echo "1..0 # SKIP needs CU_KO (the module file) and the cu_churn helper"
	exit $KSFT_SKIP
fi
echo "1..2"
trap 'loaded || insmod "$KO" >/dev/null 2>&1' EXIT

start=$(date +%s)
i=1
bad=0
while [ $i -le "$CYCLES" ]; do
	if ! cycle $i; then
		note "cycle $i of $CYCLES failed"
		bad=1
		break
	fi
	i=$((i + 1))
done
secs=$(( $(date +%s) - start ))
if [ $bad -eq 0 ]; then
	ok "load_unload_cycles_with_sockets ($CYCLES cycles in ${secs} s)"
else
	not_ok "load_unload_cycles_with_sockets (failed at cycle $i of $CYCLES)"
fi

# After the last cycle: the module unloads once more and loads clean.
if unload && ! loaded && load && "$CHURN" "$FAMILY"; then
	ok "module_unloads_and_loads_after_the_cycles"
else
	not_ok "module_unloads_and_loads_after_the_cycles"
fi

totals
[ $failed -eq 0 ]
