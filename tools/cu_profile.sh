#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=dash
#
# Where the kernel time of a cu_bench case goes, AF_CUSTOM against
# AF_UNIX: each case runs under `perf record -g` (cpu-clock samples, so
# it works under QEMU TCG, which has no hardware counters), once per
# family, and `perf report` writes three tables per run into OUTDIR:
#
#   profile-CASE-FAMILY.self.txt      samples per function, the function's
#                                     own time (--no-children)
#   profile-CASE-FAMILY.children.txt  the same with its callees included
#                                     (--children), e.g. the share of
#                                     cu_stream_sendmsg() and all it calls
#   profile-CASE-FAMILY.threads.txt   samples per thread (main thread: the
#                                     reader, server or first client), then
#                                     per thread and function: which end of
#                                     a connection is busy, and with what
#
# Run by `make bench PROFILE=1` in the test VM (scripts/vm.sh puts perf
# there), or on a host with af_custom loaded:
#
#   tools/cu_profile.sh OUTDIR [CASE[:SIZE[:TYPE]] ...]
#
# CASE is a cu_bench case, SIZE a message or write size of rtt and tput
# (1, 4K, 64K; empty: all), TYPE stream (the default) or seqpacket.
# Default: conn rtt:1 rtt:4K tput:4K tput:64K (accept is a case too).
# PROFILE_MODES (default unpinned) sets cu_bench's --modes: unpinned,
# pinned, or both. PROFILE_REPS (default 3) sets cu_bench's --reps,
# PROFILE_FREQ (default 1000) the sampling rate: every sample unwinds a
# stack, which under TCG costs enough to distort a higher rate.
# PROFILE_ARGS adds cu_bench options after these, e.g. "--time 2" (longer
# conn and rtt repetitions, more samples) or "--bytes 256M" (tput).
#
# PROFILE_SCHED=1 runs each case once more, under `perf sched record`, and
# writes a fourth table:
#
#   profile-CASE-FAMILY.sched.txt     per cu_bench thread switched in: how
#                                     long it waited from its wakeup to
#                                     running (sch delay) and how long it
#                                     then ran, as means, and how often it
#                                     ran on another CPU than the last
#                                     time; for rtt, what a wakeup costs
#                                     against the work between two of them

OUT=${1:?usage: cu_profile.sh OUTDIR [CASE[:SIZE[:TYPE]] ...]}
shift
[ $# -gt 0 ] || set -- conn rtt:1 rtt:4K tput:4K tput:64K
REPS=${PROFILE_REPS:-3}
FREQ=${PROFILE_FREQ:-1000}
MODES=${PROFILE_MODES:-unpinned}
DATA=${TMPDIR:-/tmp}/cu_profile.$$.data
failed=0

command -v perf >/dev/null || { echo "cu_profile: no perf on PATH" >&2; exit 1; }
mkdir -p "$OUT"
# kernel addresses and every process's samples for root
echo 0 >/proc/sys/kernel/kptr_restrict 2>/dev/null
echo -1 >/proc/sys/kernel/perf_event_paranoid 2>/dev/null

# Run perf with "$@" (a command that runs cu_bench); on failure, say so
# with cu_bench's errors and return 1.
perf_bench() {
	perf "$@" >/dev/null 2>"$OUT/.err" && return 0
	echo "cu_profile: perf $* failed:" >&2
	cat "$OUT/.err" >&2
	failed=1
	return 1
}

# What ran and what it measured: the medians, to turn shares of the
# samples, or mean times, into time per operation.
measured() {
	echo "# cu_bench $*"
	grep 'median of' "$OUT/.err" | grep -v memcpy | sed 's/^cu_bench: */# /'
}

# The header of a table: what ran and measured, and the samples by place
# (kernel, module, program).
header() {
	measured "$@"
	echo "# perf record -g -e cpu-clock -F $FREQ; perf report --sort dso:"
	perf report -i "$DATA" --stdio --no-children --sort dso -g none 2>/dev/null |
		grep -v '^#' | grep -v '^$' | sed 's/^/#   /'
}

# The means of perf sched timehist's columns over cu_bench's threads:
# time, CPU, task, wait time, sch delay, run time (ms).
sched_table() {
	measured "$@"
	echo "# perf sched record; perf sched timehist, cu_bench's threads (ms):"
	perf sched timehist -i "$DATA" 2>/dev/null | awk '
		$3 ~ /^cu_bench/ && NF == 6 {
			n++; delay += $5; run += $6
			if ($3 in cpu && cpu[$3] != $2)
				moved++
			cpu[$3] = $2
		}
		END {
			if (n)
				printf "switches in %d (on another CPU than last time: %d), mean sch delay %.4f, mean run time %.4f\n",
					n, moved, delay / n, run / n
		}'
}

for spec in "$@"; do
	cs=${spec%%:*}
	size=
	[ "$spec" = "$cs" ] || size=${spec#*:}
	type=stream
	case $size in *:*) type=${size#*:}; size=${size%%:*} ;; esac
	name=$cs${size:+-$size}
	[ "$type" = stream ] || name=$name-$type
	for fam in cu unix; do
		set -- --case "$cs" --families "$fam" --types "$type" --reps "$REPS" \
			--modes "$MODES" --no-cpu-probe --bytes 16M --out "${TMPDIR:-/tmp}/cu_profile.$$"
		[ -z "$size" ] || set -- "$@" --size "$size"
		# shellcheck disable=SC2086 # options, split on purpose
		set -- "$@" ${PROFILE_ARGS:-}
		echo "cu_profile: $name $fam"
		perf_bench record -q -g -e cpu-clock -F "$FREQ" -o "$DATA" -- \
			cu_bench "$@" || continue
		for mode in self children; do
			flag=--no-children
			[ $mode = self ] || flag=--children
			{
				header "$@"
				perf report -i "$DATA" --stdio "$flag" --sort sym -g none \
					--percent-limit 0.3 2>/dev/null | grep -v '^$'
			} >"$OUT/profile-$name-$fam.$mode.txt"
		done
		{
			header "$@"
			perf report -i "$DATA" --stdio --no-children --sort pid -g none \
				2>/dev/null | grep -v '^$'
			perf report -i "$DATA" --stdio --no-children --sort pid,sym -g none \
				--percent-limit 0.5 2>/dev/null | grep -v '^#' | grep -v '^$'
		} >"$OUT/profile-$name-$fam.threads.txt"
		[ -n "${PROFILE_SCHED:-}" ] || continue
		perf_bench sched record -q -o "$DATA" -- cu_bench "$@" || continue
		sched_table "$@" >"$OUT/profile-$name-$fam.sched.txt"
	done
done
rm -rf "$DATA" "$OUT/.err" "${TMPDIR:-/tmp}/cu_profile.$$"
exit $failed
