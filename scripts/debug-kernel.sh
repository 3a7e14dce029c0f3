#!/usr/bin/env bash
# Build (once) the debug kernel of `make check-debug` and print its build
# tree, which is both the KDIR to build af_custom.ko against and the place
# of the image (arch/x86/boot/bzImage).
#
#   scripts/debug-kernel.sh          build if needed, prove, print the tree
#   scripts/debug-kernel.sh --path   only print where the tree is (or would be)
#
# The kernel is Debian's linux-source-6.1, configured as `make tinyconfig`
# plus scripts/debug.config. It lives in a cache directory outside the
# work tree,
#   ${XDG_CACHE_HOME:-~/.cache}/af_custom/debug-kernel-KEY/
# where KEY hashes the fragment, the source package version, the compiler
# and this recipe, so a change to any of them builds a new kernel and an
# unchanged one is reused by every checkout. A lock serialises builders.
#
# The build fails when an option of the fragment is not in the final
# .config (merge_config.sh and olddefconfig drop unsatisfiable options
# silently). Once built, the kernel proves itself once: scripts/kasan-probe/
# (a module that leaks, WARNs and reads freed memory) is loaded in a VM,
# and the console must show the KASAN use-after-free report, the WARNING
# and the kmemleak report. The proof is recorded in the cache, so later
# runs skip it; a kernel that fails it is never used.
#
# Environment: DEBUG_KERNEL_JOBS (make -j, default 3), AF_CUSTOM_CACHE
# (instead of ${XDG_CACHE_HOME:-~/.cache}/af_custom).
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SCRIPTS=$TOP/scripts
FRAGMENT=$SCRIPTS/debug.config
PROBE_DIR=$SCRIPTS/kasan-probe
SOURCE_PACKAGE=linux-source-6.1
TARBALL=/usr/src/$SOURCE_PACKAGE.tar.xz
# Bump when the way the kernel is built changes (not the fragment: that is
# hashed itself).
RECIPE=1
JOBS=${DEBUG_KERNEL_JOBS:-3}
PROOF_TIMEOUT=600

unset MAKEFLAGS MFLAGS MAKELEVEL

die() { echo "debug-kernel.sh: error: $*" >&2; exit 1; }
note() { echo "debug-kernel.sh: $*" >&2; }

cache_dir() {
	local cache version key
	cache=${AF_CUSTOM_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/af_custom}
	version=$(dpkg-query -W -f='${Version}' "$SOURCE_PACKAGE" 2>/dev/null) ||
		die "$SOURCE_PACKAGE is not installed (scripts/deps.sh installs it)"
	key=$({
		echo "recipe $RECIPE"
		echo "$SOURCE_PACKAGE $version"
		gcc --version | head -n 1
		cat "$FRAGMENT"
	} | sha256sum | cut -c1-16)
	echo "$cache/debug-kernel-$key"
}

# Every CONFIG_ line of the fragment, and every "# CONFIG_X is not set",
# must be in the final .config as written.
check_config() {
	local config=$1 line name missing=0 have
	while IFS= read -r line; do
		case $line in
		CONFIG_*=*) name=${line%%=*} ;;
		"# CONFIG_"*" is not set") name=${line#\# }; name=${name%% *} ;;
		*) continue ;;
		esac
		if ! grep -qxF -- "$line" "$config"; then
			have=$(grep -E "^(# )?${name}[= ]" "$config" || true)
			echo "  wanted: $line; .config has: ${have:-nothing (no such option, or its dependencies are off)}" >&2
			missing=$((missing + 1))
		fi
	done <"$FRAGMENT"
	if ((missing)); then
		die "$missing option(s) of ${FRAGMENT#"$TOP"/} did not make it into the .config (above)"
	fi
}

build_kernel() {
	local dir=$1 tree=$1/linux tmp start
	if [[ ! -f $tree/Makefile ]]; then
		note "extracting $TARBALL (about 30 s)"
		rm -rf "$tree" "$dir"/.extract.*
		tmp=$(mktemp -d "$dir/.extract.XXXXXX")
		tar -xf "$TARBALL" -C "$tmp"
		mv "$tmp/$SOURCE_PACKAGE" "$tree"
		rmdir "$tmp"
	fi
	note "configuring: tinyconfig + ${FRAGMENT#"$TOP"/}"
	{
		make -C "$tree" tinyconfig &&
		"$tree/scripts/kconfig/merge_config.sh" -m -O "$tree" \
			"$tree/.config" "$FRAGMENT" &&
		make -C "$tree" olddefconfig
	} >"$dir/config.log" 2>&1 || { cat "$dir/config.log" >&2; die "configuration failed"; }
	check_config "$tree/.config"
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
# three reports. Writes $dir/proof-KEY (the excerpts) on success.
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
		qemu-system-x86_64 -accel tcg -cpu max -m 1024 -smp 2 \
		-nodefaults -nographic -no-reboot \
		-kernel "$tree/arch/x86/boot/bzImage" -initrd "$work/initramfs.cpio" \
		-append "console=ttyS0 loglevel=5 oops=panic panic=-1 kmemleak=on" \
		-serial "file:$console" </dev/null >"$work/qemu.log" 2>&1 || true
	sed -i 's/\r$//' "$console"

	local missing=()
	grep -q 'BUG: KASAN: use-after-free in kasan_probe_use_after_free' "$console" ||
		missing+=("the KASAN use-after-free report")
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
		die "the debug kernel did not show: $(printf '%s; ' "${missing[@]}")(console above; all of it in $console)"
	fi
	grep -E 'BUG: KASAN|WARNING: CPU|unreferenced object|af_custom kasan_$' \
		"$console" >"$proof"
	note "proof ok: KASAN, WARN and kmemleak all reported the probe's bugs"
	rm -rf "$work"
}

main() {
	local dir probe_key proof
	[[ -f $FRAGMENT ]] || die "no $FRAGMENT"
	dir=$(cache_dir)
	if [[ ${1:-} == --path ]]; then
		echo "$dir/linux"
		return 0
	fi
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
