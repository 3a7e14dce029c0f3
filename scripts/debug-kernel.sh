#!/usr/bin/env bash
# Build (once) a debug kernel of `make check-debug` and print its build
# tree, which is both the KDIR to build af_custom.ko against and the place
# of the image (arch/x86/boot/bzImage).
#
#   scripts/debug-kernel.sh [VARIANT]          build if needed, prove, print the tree
#   scripts/debug-kernel.sh --path [VARIANT]   only print where the tree is (or would be)
#
# VARIANT (or the environment's DEBUG_KERNEL; default kasan) is one of
#   kasan   KASAN, kmemleak, UBSAN, lockdep, ... : scripts/debug.config
#   kcsan   KCSAN (the data-race detector) instead of KASAN, which it
#           cannot share a kernel with: scripts/debug.config changed by
#           scripts/debug-kcsan.config
# A variant's file scripts/debug-VARIANT.config lists what it changes in
# scripts/debug.config: every option it names (CONFIG_X=..., or
# "# CONFIG_X is not set") replaces that option's line of debug.config;
# the rest of debug.config is kept. So the common options are written once.
#
# The kernel is Debian's linux-source-6.1, configured as `make tinyconfig`
# plus that fragment. It lives in a cache directory outside the work tree,
#   ${XDG_CACHE_HOME:-~/.cache}/af_custom/debug-kernel-KEY/         (kasan)
#   ${XDG_CACHE_HOME:-~/.cache}/af_custom/debug-kernel-VARIANT-KEY/ (others)
# where KEY hashes the fragment, the source package version, the compiler
# and this recipe, so a change to any of them builds a new kernel and an
# unchanged one is reused by every checkout. A lock serialises builders.
#
# The build fails when an option of the fragment is not in the final
# .config as written (merge_config.sh and olddefconfig drop unsatisfiable
# options silently); "# CONFIG_X is not set" is satisfied by any .config
# without CONFIG_X=, as when X's dependencies are off. Once built, the
# kernel proves itself once: scripts/kasan-probe/ (a module that leaks,
# WARNs and then, depending on the kernel, reads freed memory or makes two
# threads race) is loaded in a VM, and the console must show the kmemleak
# report, the WARNING, and the KASAN use-after-free report (kasan) or the
# KCSAN data-race report (kcsan). The proof is recorded in the cache, so
# later runs skip it; a kernel that fails it is never used.
#
# Environment: DEBUG_KERNEL (the variant), DEBUG_KERNEL_JOBS (make -j,
# default 3), AF_CUSTOM_CACHE (instead of ${XDG_CACHE_HOME:-~/.cache}/af_custom).
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SCRIPTS=$TOP/scripts
BASE_FRAGMENT=$SCRIPTS/debug.config
PROBE_DIR=$SCRIPTS/kasan-probe
SOURCE_PACKAGE=linux-source-6.1
TARBALL=/usr/src/$SOURCE_PACKAGE.tar.xz
# Bump when the way the kernel is built changes (not the fragment: that is
# hashed itself).
RECIPE=1
JOBS=${DEBUG_KERNEL_JOBS:-3}
PROOF_TIMEOUT=600
# The debug kernels have no ACPI, so their CPUs come from the firmware's MP
# table, and SeaBIOS's (QEMU's default) lists only the boot CPU: with it,
# -smp 2 boots one CPU, and KCSAN (which needs two) finds nothing. qboot's
# MP table lists them all. scripts/vm.sh boots the debug kernels with it too.
DEBUG_FIRMWARE=/usr/share/qemu/qboot.rom

unset MAKEFLAGS MFLAGS MAKELEVEL

die() { echo "debug-kernel.sh: error: $*" >&2; exit 1; }
note() { echo "debug-kernel.sh: $*" >&2; }

# Sets VARIANT, FRAGMENTS (the files, in order), PROOF_RE (the line the
# probe must make the sanitizer print) and PROOF_WHAT (its name).
select_variant() {
	VARIANT=${1:-${DEBUG_KERNEL:-kasan}}
	FRAGMENTS=("$BASE_FRAGMENT")
	case $VARIANT in
	kasan)
		PROOF_RE='BUG: KASAN: use-after-free in kasan_probe_use_after_free'
		PROOF_WHAT="the KASAN use-after-free report"
		;;
	kcsan)
		FRAGMENTS+=("$SCRIPTS/debug-kcsan.config")
		PROOF_RE='BUG: KCSAN: data-race in kasan_probe_race_reader .*/ kasan_probe_race_writer'
		PROOF_WHAT="the KCSAN data-race report"
		;;
	*) die "no debug kernel variant '$VARIANT' (there are: kasan kcsan)" ;;
	esac
	local f
	for f in "${FRAGMENTS[@]}"; do
		[[ -f $f ]] || die "no $f"
	done
}

# The option a fragment line sets ("CONFIG_X=..." or "# CONFIG_X is not
# set"), or nothing.
OPTION_AWK='function option(line) {
	if (line ~ /^CONFIG_[A-Za-z0-9_]+=/) { sub(/=.*/, "", line); return line }
	if (line ~ /^# CONFIG_[A-Za-z0-9_]+ is not set$/) { split(line, w, " "); return w[2] }
	return ""
}'

# The variant's fragment: debug.config, with the lines of the options a
# variant file names replaced by that file. For kasan, debug.config as it
# is (so its cache key is the one it had before there were variants).
fragment_text() {
	local base=${FRAGMENTS[0]} variant
	if ((${#FRAGMENTS[@]} == 1)); then
		cat "$base"
		return
	fi
	variant=${FRAGMENTS[1]}
	awk "$OPTION_AWK"'
		FNR == NR { if (option($0) != "") mine[option($0)] = 1; next }
		!(option($0) in mine)' "$variant" "$base"
	echo
	echo "# ==== ${variant#"$TOP"/} ===="
	cat "$variant"
}

cache_dir() {
	local cache version key
	cache=${AF_CUSTOM_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/af_custom}
	version=$(dpkg-query -W -f='${Version}' "$SOURCE_PACKAGE" 2>/dev/null) ||
		die "$SOURCE_PACKAGE is not installed (scripts/deps.sh installs it)"
	key=$({
		echo "recipe $RECIPE"
		echo "$SOURCE_PACKAGE $version"
		gcc --version | head -n 1
		fragment_text
	} | sha256sum | cut -c1-16)
	if [[ $VARIANT == kasan ]]; then
		echo "$cache/debug-kernel-$key"
	else
		echo "$cache/debug-kernel-$VARIANT-$key"
	fi
}

# Every CONFIG_ line of the fragment must be in the final .config as
# written; every "# CONFIG_X is not set" means no CONFIG_X= line there.
check_config() {
	local config=$1 fragment=$2 line name missing=0 have
	while IFS= read -r line; do
		case $line in
		CONFIG_*=*) name=${line%%=*} ;;
		"# CONFIG_"*" is not set")
			name=${line#\# }; name=${name%% *}
			grep -q "^$name=" "$config" || continue
			;;
		*) continue ;;
		esac
		if ! grep -qxF -- "$line" "$config"; then
			have=$(grep -E "^(# )?${name}[= ]" "$config" || true)
			echo "  wanted: $line; .config has: ${have:-nothing (no such option, or its dependencies are off)}" >&2
			missing=$((missing + 1))
		fi
	done <"$fragment"
	if ((missing)); then
		die "$missing option(s) of $(fragment_names) did not make it into the .config (above)"
	fi
}

fragment_names() {
	local f names=()
	for f in "${FRAGMENTS[@]}"; do names+=("${f#"$TOP"/}"); done
	echo "${names[*]}"
}

build_kernel() {
	local dir=$1 tree=$1/linux tmp start fragment=$1/fragment.config
	if [[ ! -f $tree/Makefile ]]; then
		note "extracting $TARBALL (about 30 s)"
		rm -rf "$tree" "$dir"/.extract.*
		tmp=$(mktemp -d "$dir/.extract.XXXXXX")
		tar -xf "$TARBALL" -C "$tmp"
		mv "$tmp/$SOURCE_PACKAGE" "$tree"
		rmdir "$tmp"
	fi
	note "configuring ($VARIANT): tinyconfig + $(fragment_names)"
	fragment_text >"$fragment"
	{
		make -C "$tree" tinyconfig &&
		"$tree/scripts/kconfig/merge_config.sh" -m -O "$tree" \
			"$tree/.config" "$fragment" &&
		make -C "$tree" olddefconfig
	} >"$dir/config.log" 2>&1 || { cat "$dir/config.log" >&2; die "configuration failed"; }
	check_config "$tree/.config" "$fragment"
	note "building bzImage + modules_prepare with -j$JOBS into $tree" \
		"(7 minutes on 2 idle cores, 20 on busy ones; log: $dir/build.log)"
	start=$SECONDS
	if ! make -C "$tree" -j"$JOBS" bzImage modules modules_prepare \
			>"$dir/build.log" 2>&1; then
		tail -n 40 "$dir/build.log" >&2
		die "kernel build failed (log: $dir/build.log)"
	fi
	echo "$((SECONDS - start))" >"$dir/build-seconds"
	note "kernel built in $((SECONDS - start)) s: $(<"$tree/include/config/kernel.release")"
	touch "$dir/built"
}

# Boot the kernel once with the probe module; the console must show the
# three reports (kmemleak, WARN, and the variant's: PROOF_RE). Writes $dir/proof-KEY (the excerpts) on success.
prove_kernel() {
	local dir=$1 tree=$1/linux proof=$2 work root console f
	rm -rf "$dir"/.proof.*
	work=$(mktemp -d "$dir/.proof.XXXXXX")
	root=$work/root
	console=$work/console.log
	cp "$PROBE_DIR"/kasan_probe.c "$PROBE_DIR"/Kbuild "$work/"
	note "proving the kernel reports bugs: building scripts/kasan-probe"
	make -C "$tree" M="$work" modules >"$work/build.log" 2>&1 ||
		{ cat "$work/build.log" >&2; die "kasan-probe build failed"; }

	mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp}
	cp /bin/busybox "$root/bin/busybox"
	for f in sh mount insmod sleep cat echo reboot; do
		ln -s busybox "$root/bin/$f"
	done
	cp "$work/kasan_probe.ko" "$root/"
	cat >"$root/init" <<-'EOF'
		#!/bin/sh
		mount -t proc proc /proc
		mount -t sysfs sysfs /sys
		mount -t devtmpfs devtmpfs /dev
		mount -t debugfs debugfs /sys/kernel/debug
		echo clear > /sys/kernel/debug/kmemleak
		echo "kasan-probe: loading"
		insmod /kasan_probe.ko
		# kmemleak reports objects older than 5 s, found unreferenced by
		# two scans in a row
		sleep 6
		echo scan > /sys/kernel/debug/kmemleak
		sleep 1
		echo scan > /sys/kernel/debug/kmemleak
		cat /sys/kernel/debug/kmemleak
		echo "kasan-probe: done"
		reboot -f
	EOF
	chmod 755 "$root/init"
	(cd "$root" && find . -print0 | cpio --null -o -H newc -R 0:0 --quiet) \
		>"$work/initramfs.cpio"

	note "booting it with the probe (QEMU TCG; about a minute)"
	timeout --kill-after=10 "$PROOF_TIMEOUT" \
		qemu-system-x86_64 -bios "$DEBUG_FIRMWARE" -accel tcg -cpu max -m 1024 -smp 2 \
		-nodefaults -nographic -no-reboot \
		-kernel "$tree/arch/x86/boot/bzImage" -initrd "$work/initramfs.cpio" \
		-append "console=ttyS0 loglevel=5 oops=panic panic=-1 kmemleak=on" \
		-serial "file:$console" </dev/null >"$work/qemu.log" 2>&1 || true
	sed -i 's/\r$//' "$console"

	local missing=()
	grep -q "$PROOF_RE" "$console" || missing+=("$PROOF_WHAT")
	grep -q 'WARNING: CPU: .*kasan_probe_init' "$console" ||
		missing+=("the WARNING of WARN_ON_ONCE (is CONFIG_BUG on?)")
	# kmemleak shows the object's first bytes: the probe wrote its name there
	grep -q '^unreferenced object' "$console" &&
		grep -q '  af_custom kasan_$' "$console" ||
		missing+=("the kmemleak report of the leak")
	[[ $(grep -c '^unreferenced object' "$console") -le 1 ]] ||
		missing+=("a kmemleak report of nothing but the probe's leak (the kernel leaks by itself; every check-debug would fail)")
	grep -q 'kasan-probe: done' "$console" ||
		missing+=("the end of the probe run (the VM crashed or hung)")
	if ((${#missing[@]})); then
		tail -n 80 "$console" >&2
		die "the $VARIANT debug kernel did not show: $(printf '%s; ' "${missing[@]}")(console above; all of it in $console)"
	fi
	grep -E 'BUG: KASAN|BUG: KCSAN|WARNING: CPU|unreferenced object|af_custom kasan_$' \
		"$console" >"$proof"
	note "proof ok: ${PROOF_WHAT#the }, the WARNING and the kmemleak report of the probe's bugs were all there"
	rm -rf "$work"
}

main() {
	local dir probe_key proof path_only=
	if [[ ${1:-} == --path ]]; then
		path_only=1
		shift
	fi
	(($# <= 1)) || die "usage: $0 [--path] [kasan|kcsan]"
	select_variant "${1:-}"
	dir=$(cache_dir)
	if [[ -n $path_only ]]; then
		echo "$dir/linux"
		return 0
	fi
	[[ -r $DEBUG_FIRMWARE ]] || die "no $DEBUG_FIRMWARE (qemu-system-data ships it)"
	[[ -r $TARBALL ]] || die "no $TARBALL (scripts/deps.sh installs $SOURCE_PACKAGE)"
	mkdir -p "$dir"
	exec 9>"$dir.lock"
	if ! flock -n 9; then
		note "another build of this kernel is running; waiting for it"
		flock 9
	fi

	if [[ -f $dir/built && -f $dir/linux/arch/x86/boot/bzImage ]]; then
		note "reusing $dir (built in $(cat "$dir/build-seconds" 2>/dev/null || echo '?') s)"
	else
		build_kernel "$dir"
	fi
	probe_key=$(cat "$PROBE_DIR"/kasan_probe.c "$PROBE_DIR"/Kbuild | sha256sum | cut -c1-12)
	proof=$dir/proof-$probe_key
	[[ -s $proof ]] || prove_kernel "$dir" "$proof"
	echo "$dir/linux"
}

main "$@"
