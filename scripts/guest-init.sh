#!/bin/sh
# shellcheck shell=dash
# PID 1 of the af_custom test VM (busybox sh, packed as /init by vm.sh).
#
# Loads the module, runs the programs named in /etc/af_custom-vm.conf one
# by one, unloads the module, checks the kernel's taint flags and log, and
# powers off. Humans read the console (ttyS0). The verdict goes to the
# second serial port (ttyS1), which the host reads after QEMU exits; no test
# can write there, so console text can never fake a pass. Records, one per
# line, the first word saying what the line is:
#
#   start MODE RELEASE       the VM is up
#   case ok|fail NAME [WHY]  a runner case: module_load, module_unload, kernel_clean
#   run PROG                 PROG starts
#   out PROG LINE            a line PROG printed (stdout and stderr)
#   exit PROG STATUS SECS    PROG ended: exit status, seconds it ran
#   dmesg LINE               a kernel log line that fails the run
#   file NAME LINE           bench: a line of a result file cu_bench wrote
#   end                      everything was run; nothing after this
#
# The host (scripts/report.awk) does all the counting.

# What the tests can rely on: the test binaries and helpers on PATH, the
# module's file in CU_KO, the module loaded, a writable /tmp as cwd,
# debugfs mounted when the kernel has it, and CU_FLAVOUR: "stock" or
# "debug" (the debug kernel of make check-debug, several times slower).
export PATH=/tests:/bin:/sbin:/usr/bin:/usr/sbin
export HOME=/root
export CU_KO=/tests/af_custom.ko

# MODE, PROGS, PROG_TIMEOUT, PROG_ARGS (words passed to every program),
# KERNEL_PROBLEM (a regex for kernel log lines that fail the run),
# KERNEL_IGNORE (a regex for those of its lines another check judges, or
# empty), FLAVOUR and DEBUG_KERNEL (kasan or kcsan on a debug kernel),
# written by vm.sh, with the environment it passes on (exports).
CONF=/etc/af_custom-vm.conf
KO=$CU_KO
MODNAME=af_custom
# Taint bits that are expected: 12 out-of-tree module, 13 unsigned module;
# on the debug kernel also 18 (TAINT_TEST), set by running KUnit tests.
TAINT_OK=$(( (1 << 12) | (1 << 13) ))
KMEMLEAK=/sys/kernel/debug/kmemleak

mount_all() {
	mount -t proc proc /proc
	mount -t sysfs sysfs /sys
	mount -t devtmpfs devtmpfs /dev
	mkdir -p /dev/pts /dev/shm /tmp /run /root
	mount -t devpts devpts /dev/pts
	mount -t tmpfs tmpfs /dev/shm
	mount -t tmpfs tmpfs /tmp
	mount -t tmpfs tmpfs /run
	mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
	# the links udev makes on a real system (the kernel's kselftest runner
	# appends to /dev/stdout; devtmpfs has none of them)
	ln -sf /proc/self/fd /dev/fd
	ln -sf /proc/self/fd/0 /dev/stdin
	ln -sf /proc/self/fd/1 /dev/stdout
	ln -sf /proc/self/fd/2 /dev/stderr
	ip link set lo up
	hostname af-custom-vm
}

open_results() {
	stty -F /dev/ttyS1 raw -echo 2>/dev/null
	exec 3>/dev/ttyS1
}

result() {
	printf '%s\n' "$*" >&3
}

# Closing fd 3 waits until the UART has sent everything, so the host's
# file is complete before the power goes off. The debug kernel has no ACPI
# to power off with: it reboots, which QEMU's -no-reboot turns into an exit.
finish() {
	result end
	exec 3>&-
	sync
	[ "$CU_FLAVOUR" = debug ] && reboot -f
	poweroff -f
}

load_module() {
	local err
	# the host reads the console up to here as the kernel's own boot
	echo "af_custom-vm: loading af_custom.ko"
	if err=$(insmod "$KO" 2>&1); then
		result "case ok module_load"
		echo "af_custom-vm: insmod af_custom.ko: ok"
		return 0
	fi
	result "case fail module_load insmod: $err"
	echo "af_custom-vm: insmod af_custom.ko FAILED: $err"
	return 1
}

unload_module() {
	local err
	if err=$(rmmod "$MODNAME" 2>&1); then
		result "case ok module_unload"
		echo "af_custom-vm: rmmod af_custom: ok"
	else
		result "case fail module_unload rmmod: $err"
		echo "af_custom-vm: rmmod af_custom FAILED: $err"
	fi
}

# Kill what a program left behind: a harness test child that outlived a
# timeout (it has its own process group), a script's background job. Once
# the program is gone, all that is left of it has init as its parent; kill
# those until none is left (killing one may orphan its own children).
# Spared: PID $1 (the output forwarder, a child of init too) and busybox
# timeout's watcher, which exits by itself within a second. Sets REAPED to
# how many were killed. (Not to be run in a subshell: that would be a child
# of init too.)
reap_strays() {
	local keep=$1 dir pid ppid found
	REAPED=0
	for _ in 1 2 3 4 5; do
		found=0
		for dir in /proc/[0-9]*; do
			pid=${dir#/proc/}
			[ "$pid" = 1 ] || [ "$pid" = "$keep" ] && continue
			ppid=$(sed -n 's/^PPid:[[:space:]]*//p' "$dir/status" 2>/dev/null)
			[ "$ppid" = 1 ] || continue
			[ "$(cat "$dir/comm" 2>/dev/null)" = timeout ] && continue
			kill -9 "$pid" 2>/dev/null && found=$((found + 1))
		done
		[ "$found" -eq 0 ] && break
		REAPED=$((REAPED + found))
		sleep 0.2
	done
}

# Copy a program's output, line by line, to the console and, tagged, to the
# results port.
forward_output() {
	local prog=$1 line
	while IFS= read -r line || [ -n "$line" ]; do
		printf '%s\n' "$line"
		printf 'out %s %s\n' "$prog" "$line" >&3
	done
}

# Run one program with a time limit. Its output goes through a FIFO, not a
# pipeline: the runner waits for the program, not for the end of its
# output, which a leftover grandchild could hold open forever.
run_prog() {
	local prog=$1 fifo=/tmp/.af_custom-vm.out start status fwd
	result "run $prog"
	echo "af_custom-vm: running $prog (limit ${PROG_TIMEOUT}s)"
	rm -f "$fifo"
	mkfifo "$fifo"
	forward_output "$prog" <"$fifo" &
	fwd=$!
	start=$(date +%s)
	# shellcheck disable=SC2086 # PROG_ARGS is a list of words
	(cd /tmp && exec timeout -k 5 "$PROG_TIMEOUT" "/tests/$prog" $PROG_ARGS \
		</dev/null >"$fifo" 2>&1 3>&-)
	status=$?
	reap_strays "$fwd"
	wait "$fwd"
	rm -f "$fifo"
	if [ "$REAPED" -gt 0 ]; then
		result "out $prog # runner: killed $REAPED leftover process(es)"
		echo "# runner: killed $REAPED leftover process(es) of $prog"
	fi
	result "exit $prog $status $(( $(date +%s) - start ))"
}

check_kernel() {
	local taint bad lines
	taint=$(cat /proc/sys/kernel/tainted)
	bad=$(( taint & ~TAINT_OK ))
	lines=$(dmesg | grep -E "$KERNEL_PROBLEM" |
		grep -vE "${KERNEL_IGNORE:-^\$.}")
	if [ -n "$lines" ]; then
		printf '%s\n' "$lines" | while IFS= read -r line; do
			result "dmesg $line"
		done
	fi
	if [ "$bad" -ne 0 ]; then
		result "case fail kernel_clean tainted=$taint (unexpected bits $bad)"
	elif [ -n "$lines" ]; then
		result "case fail kernel_clean kernel log has warnings (tainted=$taint)"
	else
		result "case ok kernel_clean tainted=$taint"
	fi
	echo "af_custom-vm: tainted=$taint"
	[ -z "$lines" ] || printf 'af_custom-vm: kernel log:\n%s\n' "$lines"
}

# make bench: the limits cu_bench's cases need (4096 connections pending
# on a listener grown to 8192, 100000 sockets open), and afterwards its
# result files, sent line by line on the results port.
bench_prepare() {
	echo 8192 >/proc/sys/net/core/somaxconn
	echo 1048576 >/proc/sys/fs/file-max
	mkdir -p /tmp/bench
}

bench_send_results() {
	local f name line
	for f in /tmp/bench/*; do
		[ -f "$f" ] || continue
		name=${f##*/}
		while IFS= read -r line || [ -n "$line" ]; do
			result "file $name $line"
		done <"$f"
	done
}

# The KUnit suites that ran when the module loaded (debug kernel), as the
# results of one more program, "kunit": one TAP line per test case,
# "SUITE.CASE", the suites' diagnostics as comments.
collect_kunit() {
	local start dir n=0
	start=$(date +%s)
	result "run kunit"
	for dir in /sys/kernel/debug/kunit/*/; do
		[ -r "$dir/results" ] && n=$((n + 1))
	done
	if [ "$n" -eq 0 ]; then
		result "out kunit 1..1"
		result "out kunit not ok 1 kunit_results: no KUnit suite in /sys/kernel/debug/kunit after insmod (af_custom.ko built without KUnit?)"
		result "exit kunit 1 0"
		return
	fi
	for dir in /sys/kernel/debug/kunit/*/; do
		cat "$dir/results"
	done | awk '
		/^    # Subtest: / { suite = $3; next }
		/^    1\.\.[0-9]+$/ { total += substr($1, 4); next }
		/^    (not )?ok [0-9]+ / {
			line = substr($0, 5)
			verdict = line ~ /^not / ? "not ok" : "ok"
			sub(/^(not )?ok [0-9]+ /, "", line)
			printf "%s", diag
			diag = ""
			print verdict " " ++n " " suite "." line
			next
		}
		/^[ \t]*#/ || /^        / {
			line = $0
			sub(/^[ \t]+/, "", line)
			diag = diag (line ~ /^#/ ? "" : "# ") line "\n"
		}
		END { printf "%s", diag; print "1.." total }' |
	while IFS= read -r line; do
		result "out kunit $line"
		printf '%s\n' "$line"
	done
	result "exit kunit 0 $(( $(date +%s) - start ))"
}

# After the module is gone: two kmemleak scans (an object is reported once
# it is 5 s old and unchanged between two scans), as the results of one
# more program, "kmemleak". The whole report goes to the console; the
# first lines also to the results.
scan_kmemleak() {
	local start leaks
	start=$(date +%s)
	result "run kmemleak"
	result "out kmemleak 1..1"
	if [ ! -w "$KMEMLEAK" ]; then
		result "out kmemleak not ok 1 kmemleak_clean: no $KMEMLEAK (kernel without kmemleak, or it was disabled)"
		result "exit kmemleak 1 0"
		return
	fi
	sleep 5
	echo scan > "$KMEMLEAK"
	sleep 1
	echo scan > "$KMEMLEAK"
	leaks=$(grep -c '^unreferenced object' "$KMEMLEAK")
	if [ "$leaks" -eq 0 ]; then
		result "out kmemleak ok 1 kmemleak_clean"
		echo "af_custom-vm: kmemleak: no leak"
	else
		echo "af_custom-vm: kmemleak: $leaks unreferenced object(s):"
		cat "$KMEMLEAK"
		head -n 55 "$KMEMLEAK" | while IFS= read -r line; do
			result "out kmemleak # $line"
		done
		result "out kmemleak not ok 1 kmemleak_clean: $leaks unreferenced object(s) (all of them on the console)"
	fi
	result "exit kmemleak 0 $(( $(date +%s) - start ))"
}

# The KCSAN debug kernel's data-race reports in the kernel log, as the
# results of one more program, "kcsan". A report involves af_custom when a
# line of it (the title, a stack frame) is in the module ("[af_custom]",
# or a cu_* frame): each distinct such report (by its title) is a failed
# test, with its accesses and their first stack frames as diagnostics. A
# report purely in the core kernel is listed as a skipped test: it is not
# af_custom's to fix, and KCSAN finds such races at random in 6.1, so
# failing on them would make the tier fail at random. The full reports
# are on the console. kernel_clean leaves "BUG: KCSAN:" lines to this
# check (KERNEL_IGNORE).
scan_kcsan() {
	local start stats=/sys/kernel/debug/kcsan
	start=$(date +%s)
	result "run kcsan"
	if ! grep -q '^enabled: 1$' "$stats" 2>/dev/null; then
		result "out kcsan 1..1"
		result "out kcsan not ok 1 kcsan_enabled: KCSAN is not enabled ($stats)"
		result "exit kcsan 1 0"
		return
	fi
	{
		awk -F ': ' 'NF == 2 && $2 ~ /^[0-9]+$/ {
			s = s (s == "" ? "# KCSAN counters: " : ", ") $1 " " $2 }
			END { print s }' "$stats"
		dmesg | awk -v module="$MODNAME" '
		BEGIN { MAX_FRAMES = 6; n = 0 }
		{ sub(/^\[ *[0-9]+\.[0-9]+\] /, "") }
		/^BUG: KCSAN: / {
			finish()
			inside = 1
			title = substr($0, 13)
			body = "# " $0 "\n"
			mine = index($0, "[" module "]") > 0
			next
		}
		!inside { next }
		/^Reported by Kernel Concurrency Sanitizer/ || /^=+$/ { finish(); next }
		{
			if (index($0, "[" module "]") || $0 ~ /^ cu_[A-Za-z0-9_]+\+0x/)
				mine = 1
			if ($0 ~ / to 0x[0-9a-f]+ of [0-9]+ bytes by /) {
				frames = 0
				body = body "# " $0 "\n"
			} else if ($0 ~ /^ [^ ]/) {
				if (++frames <= MAX_FRAMES)
					body = body "#  " $0 "\n"
			} else if ($0 ~ /^value changed:/) {
				body = body "# " $0 "\n"
			}
		}
		function finish() {
			if (!inside)
				return
			inside = 0
			if (!(title in seen))
				order[++n] = title
			seen[title]++
			# the first report of a title that involves af_custom
			if (mine && !(title in ours)) {
				ours[title] = 1
				text[title] = body
			}
		}
		END {
			finish()
			for (i = 1; i <= n; i++) {
				t = order[i]
				times = seen[t] > 1 ? " (" seen[t] " reports)" : ""
				if (t in ours) {
					printf "%s", text[t]
					print "not ok " i " kcsan: " t times
				} else {
					print "ok " i " kcsan # SKIP core kernel only, not af_custom: " t times
				}
			}
			if (n == 0) {
				print "ok 1 kcsan: no data-race report"
				n = 1
			}
			print "1.." n
		}'
	} | while IFS= read -r line; do
		result "out kcsan $line"
		printf '%s\n' "$line"
	done
	result "exit kcsan 0 $(( $(date +%s) - start ))"
}

main() {
	local prog
	mount_all
	open_results
	# shellcheck source=/dev/null
	. "$CONF"
	export CU_FLAVOUR="${FLAVOUR:-stock}"
	[ "$CU_FLAVOUR" = debug ] && TAINT_OK=$(( TAINT_OK | (1 << 18) ))
	result "start $MODE $(uname -r)"
	echo "af_custom-vm: $MODE on $(uname -r), programs: $PROGS"

	if load_module; then
		[ "$CU_FLAVOUR" = debug ] && collect_kunit
		[ "$MODE" != bench ] || bench_prepare
		for prog in $PROGS; do
			run_prog "$prog"
		done
		[ "$MODE" != bench ] || bench_send_results
		unload_module
	fi
	[ "$CU_FLAVOUR" = debug ] && scan_kmemleak
	[ "${DEBUG_KERNEL:-}" = kcsan ] && scan_kcsan
	check_kernel
	finish
}

main
# Not reached; if it were, PID 1 exiting would panic the VM.
poweroff -f
