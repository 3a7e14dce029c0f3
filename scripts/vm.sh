#!/usr/bin/env bash
# The af_custom test VM: build the module for one kernel, boot that very
# kernel under QEMU with a busybox initramfs, run the selftests (or the
# demo) there, and report.
#
#   scripts/vm.sh check   selftests, module load/unload, taint and kernel log
#   scripts/vm.sh check-debug   the same on the debug kernel (scripts/debug-kernel.sh
#                         builds it once): KASAN, lockdep, UBSAN, kmemleak, KUnit,
#                         failslab; plus the module's KUnit results and a
#                         kmemleak scan after the unload.
#                         DEBUG_KERNEL=kcsan: on the KCSAN kernel instead
#                         (no KASAN), plus its data-race reports (scan_kcsan
#                         in guest-init.sh); results in build/vm/check-debug-kcsan/
#   scripts/vm.sh demo    tools/cu_demo, its output shown as it is
#   scripts/vm.sh bench   tools/cu_bench (make bench); see bench_setup below
#
# Environment, all optional:
#   KVER        kernel release or series to build for and boot (default: the
#               newest installed 6.1; see scripts/kver.sh), e.g. KVER=6.12:
#               installed, or else in the kernel cache (scripts/deps.sh
#               fetches it there with scripts/kernel-fetch.sh)
#   KDIR        a kernel build tree instead; its release names the kernel
#   VMLINUZ     the kernel image (default /boot/vmlinuz-RELEASE, or the
#               cache's)
#   TESTS       check only: names of the programs to run (default: all
#               but cu_kselftest.sh, which needs KSFT_INSTALL)
#   KSFT_INSTALL  check only: a kselftest installation for cu_kselftest.sh
#   VM_TIMEOUT  seconds before QEMU is killed (check 720, check-debug 2400,
#               demo 180, bench 900)
#   BENCH_ARGS  bench only: options for cu_bench (tools/cu_bench --help)
#   BENCH_TIME  bench only: seconds per timed repetition (cu_bench --time,
#               default 1); unlike BENCH_ARGS, a full run with it still
#               writes docs/bench/
#   PROFILE     bench only: instead of the table, profile cases with perf
#               (tools/cu_profile.sh) into build/vm/bench/profile/;
#               PROFILE_CASES, PROFILE_REPS, PROFILE_FREQ, PROFILE_MODES,
#               PROFILE_ARGS, PROFILE_SCHED are its options
#   VM_ACCEL    tcg (default), or kvm on a host where KVM works
#   DEBUG_KERNEL  check-debug only: kasan (default) or kcsan, the debug
#               kernel (make check-debug KERNEL=kcsan)
#   W, C        passed to the module build (make W=1 C=2 check)
#   TRACERS     check only: also copy perf and bpftrace (and their
#               libraries) into the VM for selftests/cu_tracers.sh
#   SELFTESTS_DIR  another selftests directory (default selftests/), for
#               trying the runner on tests of its own
#   CU_FUZZ_ARGS, CU_FUZZ_SECONDS, CU_STRESS_SECONDS, CU_RACE_SECONDS, CU_CYCLES
#               passed on to the tests in the guest (docs/testing.md, debug tier)
#
# Everything is written under build/: the build logs, the static binaries
# (build/selftests/, build/tools/), and in build/vm/MODE/ the initramfs,
# console.log (the guest console, for people) and results (the guest's
# second serial port, the only thing the verdict is read from).
#
# The module is installed in the guest as on a real host: make install
# DESTDIR=<root>, then depmod -b <root>, for modprobe and autoload
# (selftests/cu_install.sh). KSFT_INSTALL names a kselftest installation
# to ship as the guest's /kselftest for selftests/cu_kselftest.sh, which
# runs only then (make check-packaging makes one: scripts/check-packaging.sh).
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SCRIPTS=$TOP/scripts
BUILD=$TOP/build
SELFTESTS_DIR=${SELFTESTS_DIR:-$TOP/selftests}
DEFAULT_PROG_TIMEOUT=45		# kselftest's default per-program limit
VM_MEM=1024
VM_SMP=2
CMDLINE="console=ttyS0 loglevel=5 panic_on_warn=1 oops=panic panic=-1 slub_debug=FZPU"
# Kernel log lines that fail a run, wherever they appear (the guest greps
# dmesg, the host the console). Messages that debug kernels print at boot
# ("kmemleak: Kernel memory leak detector initialized") must not match.
KERNEL_PROBLEM='WARNING:|BUG:|Oops|Call Trace|general protection|refcount_t|list_add corruption|list_del corruption|UBSAN:|KASAN:|suspected memory leak|soft lockup|blocked for more than|detected stall|Kernel panic'
# check-debug: the debug kernel runs everything slower (KASAN and lockdep
# under TCG, on a shared host). Reports are collected, not turned into
# panics (no panic_on_warn): the whole suite and the kmemleak scan still
# run, and every report is shown. Lockdep prints some reports without a
# WARNING: line; a disabled kmemleak would make its scan vacuous. The log
# buffer is big enough for the whole run (every load of the module logs
# its KUnit results), so the guest's final look at it misses nothing.
DEBUG_CMDLINE="console=ttyS0 loglevel=5 log_buf_len=8M oops=panic panic=-1 kmemleak=on rcupdate.rcu_cpu_stall_timeout=60 watchdog_thresh=30"
DEBUG_KERNEL_PROBLEM='INFO: trying to register non-static key|DEBUG_LOCKS_WARN_ON|ODEBUG:|Kernel memory leak detector disabled'
# The KCSAN kernel: its reports ("BUG: KCSAN: data-race in ...") are judged
# by one more program, "kcsan" (guest-init.sh: a failure when a report
# involves af_custom), not by kernel_clean and the console scan.
KCSAN_KERNEL_IGNORE='BUG: KCSAN: '
DEBUG_VM_MEM=2048
# the firmware whose MP table gives the debug kernels (no ACPI) all their
# CPUs; with SeaBIOS's they boot one (scripts/debug-kernel.sh)
DEBUG_FIRMWARE=/usr/share/qemu/qboot.rom
DEBUG_TIMEOUT_FACTOR=4		# per-program limits are multiplied by this
# Host environment variables the tests in the guest see.
GUEST_ENV="CU_FUZZ_ARGS CU_FUZZ_SECONDS CU_STRESS_SECONDS CU_RACE_SECONDS CU_CYCLES PROFILE_REPS PROFILE_FREQ PROFILE_MODES PROFILE_ARGS PROFILE_SCHED"

# The module build and the sub-makes get no flags from an outer make.
unset MAKEFLAGS MFLAGS MAKELEVEL

die() { echo "vm.sh: error: $*" >&2; exit 2; }
note() { echo "vm.sh: $*"; }

# Run a build step quietly; on failure, or when it warns, show its log.
run_logged() {
	local what=$1 log=$2
	shift 2
	if ! "$@" >"$log" 2>&1; then
		cat "$log" >&2
		die "$what failed (log: ${log#"$TOP"/})"
	fi
	if grep -qi 'warning:' "$log"; then
		grep -i -B2 -A3 'warning:' "$log" >&2
		note "$what: warnings above (log: ${log#"$TOP"/})"
	fi
}

select_kernel() {
	local rel paths vmlinuz=${VMLINUZ:-}
	if [[ $MODE == check-debug && -z ${KDIR:-} ]]; then
		note "debug kernel ($DEBUG_KERNEL): scripts/debug-kernel.sh (the first build takes a while)"
		KDIR=$("$SCRIPTS/debug-kernel.sh" "$DEBUG_KERNEL") || die "no debug kernel"
		VMLINUZ=${VMLINUZ:-$KDIR/arch/x86/boot/bzImage}
	fi
	if [[ -n ${KDIR:-} ]]; then
		[[ -f $KDIR/include/config/kernel.release ]] ||
			die "KDIR=$KDIR is not a prepared kernel build tree"
		KREL=$(<"$KDIR/include/config/kernel.release")
		# the name the kernel reports: Debian's 6.1 headers say "6.1.192"
		# in kernel.release, "6.1.0-56-amd64" in UTS_RELEASE
		rel=$(sed -n 's/^#define UTS_RELEASE "\(.*\)"$/\1/p' \
			"$KDIR/include/generated/utsrelease.h" 2>/dev/null)
		[[ -z $rel ]] || KREL=$rel
		KMODDIR=/lib/modules/$KREL
	else
		# installed, or fetched into the kernel cache by deps.sh
		paths=$("$SCRIPTS/kver.sh" --paths "${KVER:-}") || exit 2
		eval "$paths"
		[[ -z $vmlinuz ]] || VMLINUZ=$vmlinuz
	fi
	VMLINUZ=${VMLINUZ:-/boot/vmlinuz-$KREL}
	[[ -d $KDIR ]] || die "no kernel headers for $KREL in $KDIR (scripts/deps.sh installs them)"
	[[ -r $VMLINUZ ]] || die "no kernel image $VMLINUZ for $KREL"
}

build_module() {
	local args=(-C "$TOP" --no-print-directory modules KDIR="$KDIR") magic
	[[ -n ${W:-} ]] && args+=(W="$W")
	[[ -n ${C:-} ]] && args+=(C="$C")
	note "building af_custom.ko for $KREL"
	run_logged "module build" "$BUILD/module-build.log" make "${args[@]}"
	magic=$(modinfo -F vermagic "$TOP/af_custom.ko")
	[[ ${magic%% *} == "$KREL" ]] ||
		die "af_custom.ko was built for '${magic%% *}', not $KREL"
}

# Print a variable of the selftests Makefile, as that Makefile sets it.
selftests_var() {
	# shellcheck disable=SC2016 # $($*) is for make, not the shell
	make -s --no-print-directory -C "$SELFTESTS_DIR" \
		--eval 'print-var-%: ; @echo $($*)' \
		KSFT_DIR="$KSFT_DIR" OUTPUT="$BUILD/selftests" "print-var-$1"
}

# Sets GEN_PROGS (built, run), SCRIPTS_RUN (TEST_PROGS: shipped, run),
# HELPERS (TEST_GEN_PROGS_EXTENDED: built, not run), FILES (TEST_FILES)
# and PROG_TIMEOUT (from the "settings" file).
build_selftests() {
	local word
	if [[ ! -f $SELFTESTS_DIR/Makefile ]]; then
		note "warning: no ${SELFTESTS_DIR#"$TOP"/}/Makefile: no selftest will run"
		return 0
	fi
	KSFT_DIR=$("$SCRIPTS/ksft-headers.sh")
	note "building selftests (kselftest headers: $KSFT_DIR)"
	mkdir -p "$BUILD/selftests"
	run_logged "selftests build" "$BUILD/selftests-build.log" \
		make --no-print-directory -C "$SELFTESTS_DIR" -j"$(nproc)" \
		KSFT_DIR="$KSFT_DIR" OUTPUT="$BUILD/selftests"
	for word in $(selftests_var TEST_GEN_PROGS); do GEN_PROGS+=("${word##*/}"); done
	for word in $(selftests_var TEST_PROGS); do SCRIPTS_RUN+=("${word##*/}"); done
	for word in $(selftests_var TEST_GEN_PROGS_EXTENDED); do HELPERS+=("${word##*/}"); done
	for word in $(selftests_var TEST_FILES); do FILES+=("$word"); done
	if [[ -f $SELFTESTS_DIR/settings ]]; then
		word=$(sed -n 's/^timeout=\([0-9][0-9]*\)$/\1/p' "$SELFTESTS_DIR/settings")
		[[ -z $word ]] || PROG_TIMEOUT=$word
	fi
}

build_tools() {
	note "building tools"
	run_logged "tools build" "$BUILD/tools-build.log" \
		make --no-print-directory -C "$TOP/tools" OUTPUT="$BUILD/tools"
}

# The guest has no C library: every binary must be static.
need_static() {
	if readelf -l "$1" 2>/dev/null | grep -q 'program interpreter'; then
		die "${1#"$TOP"/} is dynamically linked; the VM needs static binaries (-static)"
	fi
}

# Sets RUN: the programs the guest runs, in order.
choose_programs() {
	local all=() want name
	if [[ $MODE == demo ]]; then
		RUN=(cu_demo)
		PROG_TIMEOUT=60
		return 0
	fi
	if [[ $MODE == bench ]]; then
		RUN=(cu_bench)
		[[ -z ${PROFILE:-} ]] || RUN=(cu_profile.sh)
		PROG_TIMEOUT=$BENCH_PROG_TIMEOUT
		return 0
	fi
	all=("${GEN_PROGS[@]}" "${SCRIPTS_RUN[@]}" cu_demo)
	if [[ -z ${TESTS:-} ]]; then
		RUN=()
		for name in "${all[@]}"; do
			[[ $name == cu_kselftest.sh && -z ${KSFT_INSTALL:-} ]] || RUN+=("$name")
		done
		return 0
	fi
	RUN=()
	for want in $TESTS; do
		for name in "${all[@]}"; do
			[[ $name == "$want" ]] && RUN+=("$name") && continue 2
		done
		die "TESTS: no program '$want' (there are: ${all[*]})"
	done
}

# Host programs the tests use that are not static: socat (for
# selftests/cu_socat.sh), and with TRACERS=1 perf and bpftrace (for
# selftests/cu_tracers.sh). Each goes to the guest's /usr/bin with the
# shared libraries ldd lists and the dynamic loader, at their host paths.
# One missing on the host is only warned about: its tests fail.
HOST_PROGS=(socat)
[[ -z ${TRACERS:-} ]] || HOST_PROGS+=(perf bpftrace)
pack_host_programs() {
	local root=$1 prog path lib
	for prog in "${HOST_PROGS[@]}"; do
		if ! path=$(command -v "$prog"); then
			note "warning: $prog is not installed (scripts/deps.sh): its tests will fail"
			continue
		fi
		install -D -m 0755 "$path" "$root/usr/bin/$prog"
		copy_libs "$root" "$path"
	done
}

# Copy the shared libraries and the dynamic loader the FILEs need into
# ROOT, at their host paths (ldd names each FILE first when there are more).
copy_libs() {
	local root=$1 lib
	shift
	while read -r lib; do
		[[ -e $root$lib ]] || install -D -m 0755 "$lib" "$root$lib"
	done < <(ldd "$@" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }
				 $1 ~ /^\/.*[^:]$/ { print $1 }')
}

# The bindings' tests (selftests/cu_python.sh, cu_go.sh), when they run:
# the Go package's tests as a static binary (CGO_ENABLED=0 go test -c,
# GOPROXY=off: the standard library only), and for Python, Debian's
# /usr/bin/python3 with its libraries, the part of its standard library
# the tests use (the .py files and their compiled __pycache__), the
# package installed as a user would (pip install --no-build-isolation,
# offline, --target the guest's dist-packages) and the test file. A
# missing go or python3 on the host is only warned about: those tests fail.
PY_STDLIB_EXCLUDE=(test idlelib tkinter turtledemo ensurepip lib2to3 pydoc_data
	distutils 'config-3*' site-packages dist-packages sqlite3 dbm curses venv
	wsgiref xmlrpc 'unittest/test' 'lib-dynload')
PY_DYNLOAD=(_asyncio _ctypes _contextvars _json _queue _typing mmap resource
	termios _multiprocessing _posixshmem)
pack_bindings() {
	local root=$1 out=$BUILD/bindings py lib so pat
	local excl=()
	if [[ " ${RUN[*]} " == *" cu_go.sh "* ]]; then
		if command -v go >/dev/null; then
			mkdir -p "$out"
			run_logged "go test -c (bindings/go)" "$BUILD/bindings-go.log" \
				env -C "$TOP/bindings/go" GOPROXY=off GOFLAGS=-mod=mod CGO_ENABLED=0 \
				go test -c -o "$out/afcustom-go.test" .
			need_static "$out/afcustom-go.test"
			install -D -m 0755 "$out/afcustom-go.test" "$root/tests/bindings/afcustom-go.test"
		else
			note "warning: no go (scripts/deps.sh golang-go): cu_go.sh will fail"
		fi
	fi
	[[ " ${RUN[*]} " == *" cu_python.sh "* ]] || return 0
	py=$(readlink -f /usr/bin/python3 2>/dev/null) || py=
	if [[ -z $py || ! -x $py ]]; then
		note "warning: no /usr/bin/python3 (scripts/deps.sh python3): cu_python.sh will fail"
		return 0
	fi
	rm -rf "$out/python-src" "$out/python-site"
	mkdir -p "$out"
	cp -r "$TOP/bindings/python" "$out/python-src"
	run_logged "pip install (bindings/python)" "$BUILD/bindings-pip.log" \
		/usr/bin/python3 -m pip install --no-build-isolation --no-index \
		--no-compile --disable-pip-version-check --root-user-action=ignore --quiet \
		--target "$out/python-site" "$out/python-src"
	install -D -m 0755 "$py" "$root/usr/bin/${py##*/}"
	ln -sf "${py##*/}" "$root/usr/bin/python3"
	for pat in "${PY_STDLIB_EXCLUDE[@]}"; do excl+=(--exclude="./$pat"); done
	mkdir -p "$root/usr/lib/${py##*/}/lib-dynload" "$root/usr/lib/python3/dist-packages"
	tar -C "/usr/lib/${py##*/}" "${excl[@]}" -cf - . | tar -C "$root/usr/lib/${py##*/}" -xf -
	for so in "${PY_DYNLOAD[@]}"; do
		for lib in "/usr/lib/${py##*/}/lib-dynload/$so".cpython-*.so; do
			[[ -e $lib ]] && cp -p "$lib" "$root/usr/lib/${py##*/}/lib-dynload/"
		done
	done
	copy_libs "$root" "$py" "$root/usr/lib/${py##*/}/lib-dynload/"*.so
	cp -r "$out/python-site/af_custom" "$root/usr/lib/python3/dist-packages/"
	install -D -m 0644 "$TOP/bindings/python/tests/test_af_custom.py" \
		"$root/tests/bindings/python/test_af_custom.py"
}

# Stage the guest's root and pack it as an uncompressed newc cpio (faster
# to unpack under TCG than to decompress).
pack_initramfs() {
	local root=$VMDIR/root path f
	rm -rf "$root"
	mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,run,root,tests}
	cp /bin/busybox "$root/bin/busybox"
	while read -r path; do
		[[ $path == bin/busybox ]] || ln -s /bin/busybox "$root/$path"
	done < <(/bin/busybox --list-full)
	install -m 0755 "$SCRIPTS/guest-init.sh" "$root/init"
	cp "$TOP/af_custom.ko" "$root/tests/"
	install_in_root "$root"

	for f in "${GEN_PROGS[@]}" "${HELPERS[@]}"; do
		need_static "$BUILD/selftests/$f"
		cp "$BUILD/selftests/$f" "$root/tests/"
	done
	for f in "${SCRIPTS_RUN[@]}" "${FILES[@]}"; do
		cp "$SELFTESTS_DIR/$f" "$root/tests/"
	done
	for f in cu_demo cunc cuss; do
		need_static "$BUILD/tools/$f"
		cp "$BUILD/tools/$f" "$root/tests/"
	done
	pack_host_programs "$root"
	[[ $MODE != check* ]] || pack_bindings "$root"
	if [[ $MODE == bench ]]; then
		need_static "$BUILD/tools/cu_bench"
		cp "$BUILD/tools/cu_bench" "$TOP/tools/cu_profile.sh" "$root/tests/"
	fi

	cat >"$root/etc/af_custom-vm.conf" <<-EOF
		MODE=$MODE
		PROGS="${RUN[*]}"
		PROG_TIMEOUT=$PROG_TIMEOUT
		PROG_ARGS='${PROG_ARGS:-}'
		KERNEL_PROBLEM='$KERNEL_PROBLEM'
		KERNEL_IGNORE='$KERNEL_IGNORE'
		FLAVOUR=$FLAVOUR
		DEBUG_KERNEL=${DEBUG_KERNEL:-}
	EOF
	for f in $GUEST_ENV; do
		[[ -z ${!f:-} ]] || printf "export %s='%s'\n" "$f" "${!f//\'/}"
	done >>"$root/etc/af_custom-vm.conf"
	(cd "$root" && find . -print0 | cpio --null -o -H newc -R 0:0 --quiet) \
		>"$VMDIR/initramfs.cpio"
}

# Install the module in the guest's root as on a real host, for modprobe
# and the net-pf alias (busybox modprobe reads modules.dep and
# modules.alias), and ship the kselftest installation KSFT_INSTALL names.
install_in_root() {
	local root=$1 f
	run_logged "make install" "$BUILD/install.log" \
		make --no-print-directory -C "$TOP" install DESTDIR="$root" KDIR="$KDIR"
	# the kernel's own lists, so depmod has no file to miss (a kernel
	# build tree, as the debug kernel's, has them at its top)
	for f in modules.order modules.builtin modules.builtin.modinfo; do
		if [[ -f $KMODDIR/$f ]]; then
			cp "$KMODDIR/$f" "$root/lib/modules/$KREL/"
		elif [[ -f $KDIR/$f ]]; then
			cp "$KDIR/$f" "$root/lib/modules/$KREL/"
		fi
	done
	run_logged "depmod" "$BUILD/depmod.log" depmod -b "$root" "$KREL"
	if [[ -n ${KSFT_INSTALL:-} ]]; then
		[[ -d $KSFT_INSTALL ]] || die "KSFT_INSTALL=$KSFT_INSTALL: no such directory"
		cp -r "$KSFT_INSTALL" "$root/kselftest"
	fi
}

boot_vm() {
	local accel=(-accel tcg -cpu max)
	[[ ${VM_ACCEL:-tcg} == kvm ]] && accel=(-accel kvm -cpu host)
	[[ $FLAVOUR == debug ]] && accel+=(-bios "$DEBUG_FIRMWARE")
	: >"$VMDIR/console.log"
	: >"$VMDIR/results"
	note "booting $VMLINUZ (QEMU ${VM_ACCEL:-tcg}, $VM_SMP CPUs, ${VM_MEM} MiB;" \
		"time limit ${VM_TIMEOUT} s)"
	local start=$SECONDS pid
	# timeout(1) puts QEMU in a process group of its own, out of reach of
	# Ctrl-C: pass an interrupt on, so no VM outlives this script.
	timeout --kill-after=10 "$VM_TIMEOUT" \
		qemu-system-x86_64 "${accel[@]}" -m "$VM_MEM" -smp "$VM_SMP" \
		-nodefaults -nographic -no-reboot \
		-kernel "$VMLINUZ" -initrd "$VMDIR/initramfs.cpio" \
		-append "$CMDLINE" \
		-serial "file:$VMDIR/console.log" \
		-serial "file:$VMDIR/results" \
		</dev/null >"$VMDIR/qemu.log" 2>&1 &
	pid=$!
	trap 'kill -TERM '"$pid"' 2>/dev/null; wait '"$pid"'; die "interrupted"' INT TERM HUP
	QEMU_STATUS=0
	wait "$pid" || QEMU_STATUS=$?
	trap - INT TERM HUP
	VM_SECONDS=$((SECONDS - start))
	if [[ -s $VMDIR/qemu.log ]]; then
		note "QEMU said:"
		sed 's/^/    /' "$VMDIR/qemu.log"
	fi
}

# A kernel that dies, or reports a problem, before the module is even
# loaded says nothing about af_custom (seen: Debian's 6.12 under
# multi-threaded TCG, an int3 Oops in sched_clock_cpu from boot-time
# static-key patching, untainted, twice in about ten boots; the debug
# kernel on a loaded host, a KASAN wild-memory-access in an interrupt
# during identify_cpu, once). Boot again in those cases only, at most
# BOOT_TRIES times in all, keeping each failed console; any later failure
# stands.
BOOT_TRIES=3

# Why this boot says nothing about the module, or nothing if it does.
boot_failed_before_module() {
	if ! grep -qE '^case (ok|fail) module_load' "$VMDIR/results"; then
		echo "the kernel died before the module was loaded"
	elif sed '/af_custom-vm: loading af_custom.ko/q' "$VMDIR/console.log" |
		grep -E "$KERNEL_PROBLEM" | grep -qvE "${KERNEL_IGNORE:-^\$.}"; then
		echo "the kernel reported a problem before the module was loaded"
	fi
}

boot_until_module_loads() {
	local try why
	for ((try = 1; ; try++)); do
		boot_vm
		[[ $MODE == bench ]] && return
		why=$(boot_failed_before_module)
		[[ -z $why ]] && return
		((try < BOOT_TRIES)) || return 0
		cp "$VMDIR/console.log" "$VMDIR/console-boot-$try.log"
		note "$why (console: ${VMDIR#"$TOP"/}/console-boot-$try.log);" \
			"booting again"
	done
}

report() {
	local progs=("${RUN[@]}")
	echo
	note "VM ran ${VM_SECONDS} s; console: ${VMDIR#"$TOP"/}/console.log"
	# shellcheck disable=SC2206 # a list of words
	progs+=($REPORT_EXTRA)
	awk -f "$SCRIPTS/report.awk" -v mode="$MODE" -v progs="${progs[*]}" \
		-v qemu_status="$QEMU_STATUS" -v vm_timeout="$VM_TIMEOUT" \
		-v prog_timeout="$PROG_TIMEOUT" -v kernel_problem="$KERNEL_PROBLEM" \
		-v kernel_ignore="$KERNEL_IGNORE" \
		"$VMDIR/results" "$VMDIR/console.log"
}

# ---- make bench ----------------------------------------------------------
# tools/cu_bench in the same VM, with what its cases need: 2 GiB for 100000
# sockets, no slub_debug (it would slow every allocation and pad every
# object), somaxconn and the file limit raised (guest-init.sh, cu_bench).
# Its progress is shown while it runs; its results.md and results.csv come
# back over the results port ("file NAME LINE" records), gnuplot draws the
# plots (scripts/bench-plot.sh), and a full run (no BENCH_ARGS) is copied
# into docs/bench/.
#   BENCH_ARGS="--case listen --reps 3"   options for cu_bench (see --help)
#   BENCH_TIME=2                          seconds per timed repetition (default 1)
# With PROFILE=1 the guest runs tools/cu_profile.sh instead: the cases in
# PROFILE_CASES (its default: conn, rtt and tput at each size) under perf
# record, once for AF_CUSTOM and once for AF_UNIX; the perf report tables
# come back into build/vm/bench/profile/ (nothing else is written).
bench_setup() {
	local word cmdline=()
	VM_TIMEOUT=${VM_TIMEOUT:-900}
	BENCH_PROG_TIMEOUT=$((VM_TIMEOUT - 60))
	VM_MEM=2048
	for word in $CMDLINE; do
		[[ $word == slub_debug=* ]] || cmdline+=("$word")
	done
	CMDLINE=${cmdline[*]}
	# 16 MiB per throughput run, not 256: under TCG a socket moves 20-50
	# MiB/s, and 60 runs of 256 MiB would take the whole time limit. 1 s
	# per timed repetition, not 0.25: unpinned, a cross-CPU wakeup costs
	# what the host makes it, and a longer run averages more of them.
	PROG_ARGS="--out /tmp/bench --bytes 16M --time ${BENCH_TIME:-1} ${BENCH_ARGS:-}"
	if [[ -n ${PROFILE:-} ]]; then
		HOST_PROGS+=(perf)
		PROG_ARGS="/tmp/bench ${PROFILE_CASES:-}"
	fi
	mkdir -p "$BUILD/vm/bench"
	: >"$BUILD/vm/bench/results"
}

# Show cu_bench's lines as they reach the results port, until "end".
bench_follow() {
	tail -n +1 -F --pid=$$ "$VMDIR/results" 2>/dev/null | {
		while IFS= read -r line; do
			line=${line%$'\r'}
			[[ $line == end ]] && break
			[[ $line == "out cu_bench cu_bench: "* ]] && echo "  ${line#out cu_bench }"
			[[ $line == "out cu_profile.sh "* ]] && echo "  ${line#out cu_profile.sh }"
		done
	} &
	BENCH_FOLLOWER=$!
}

bench_results() {
	local out=$VMDIR/out docs=$TOP/docs/bench
	for _ in {1..20}; do
		kill -0 "$BENCH_FOLLOWER" 2>/dev/null || break
		sleep 0.1
	done
	kill "$BENCH_FOLLOWER" 2>/dev/null || true
	rm -rf "$out"
	mkdir -p "$out"
	awk -v dir="$out" '$1 == "file" && $2 ~ /^[A-Za-z0-9_.-]+$/ {
		line = $0; sub(/\r$/, "", line); sub(/^file [^ ]+ ?/, "", line)
		print line > (dir "/" $2) }' "$VMDIR/results"
	if [[ -n ${PROFILE:-} ]]; then
		rm -rf "$VMDIR/profile"
		mv "$out" "$VMDIR/profile"
		note "profiles: ${VMDIR#"$TOP"/}/profile/ ($(find "$VMDIR/profile" -name 'profile-*' | wc -l) tables)"
		return 0
	fi
	if [[ ! -s $out/results.csv ]]; then
		note "cu_bench sent no results"
		return 0
	fi
	"$SCRIPTS/bench-plot.sh" "$out" || note "warning: the plots could not be drawn"
	echo
	cat "$out/results.md"
	echo
	if [[ -n ${BENCH_ARGS:-} ]]; then
		note "results (BENCH_ARGS given, docs/bench/ left alone): ${out#"$TOP"/}/"
		return 0
	fi
	mkdir -p "$docs"
	rm -f "$docs"/*.png
	cp "$out"/* "$docs/"
	note "results: ${docs#"$TOP"/}/ (results.md, results.csv, *.png)"
}

main() {
	MODE=${1:-}
	case $MODE in
	check) VM_TIMEOUT=${VM_TIMEOUT:-720} ;;
	check-debug) VM_TIMEOUT=${VM_TIMEOUT:-2400} ;;
	demo) VM_TIMEOUT=${VM_TIMEOUT:-180} ;;
	bench) bench_setup ;;
	*) echo "usage: $0 check|check-debug|demo|bench" >&2; exit 2 ;;
	esac
	# FLAVOUR reaches the tests as CU_FLAVOUR (stock or debug); on the
	# debug kernel the guest adds the KUnit results and a kmemleak scan as
	# two more programs.
	FLAVOUR=stock REPORT_EXTRA='' KERNEL_IGNORE=''
	VMDIR=$BUILD/vm/$MODE
	if [[ $MODE == check-debug ]]; then
		FLAVOUR=debug
		CMDLINE=$DEBUG_CMDLINE
		KERNEL_PROBLEM="$KERNEL_PROBLEM|$DEBUG_KERNEL_PROBLEM"
		VM_MEM=$DEBUG_VM_MEM
		REPORT_EXTRA="kunit kmemleak"
		DEBUG_KERNEL=${DEBUG_KERNEL:-kasan}
		if [[ $DEBUG_KERNEL == kcsan ]]; then
			REPORT_EXTRA+=" kcsan"
			KERNEL_IGNORE=$KCSAN_KERNEL_IGNORE
			VMDIR+=-kcsan
		fi
	else
		DEBUG_KERNEL=
	fi
	mkdir -p "$VMDIR"

	select_kernel
	build_module
	GEN_PROGS=() SCRIPTS_RUN=() HELPERS=() FILES=()
	PROG_TIMEOUT=$DEFAULT_PROG_TIMEOUT
	[[ $MODE == check* ]] && build_selftests
	[[ $FLAVOUR == debug ]] && PROG_TIMEOUT=$((PROG_TIMEOUT * DEBUG_TIMEOUT_FACTOR))
	build_tools
	choose_programs
	pack_initramfs
	[[ $MODE != bench ]] || bench_follow
	boot_until_module_loads
	[[ $MODE != bench ]] || bench_results
	report
}

main "$@"
