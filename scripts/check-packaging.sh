#!/usr/bin/env bash
# make check-packaging: the checks that the module is packaged right, kept
# out of make check (which tests what the module does). First on the host,
# as TAP:
#
#   versions_agree               dkms.conf's PACKAGE_VERSION is MODULE_VERSION
#                                (and the git tag, when HEAD has a v* tag)
#   man_page_groff_is_silent     groff -ww -man -z docs/af_custom.7 prints nothing
#   man_page_renders_with_man    man -l renders it (NAME for whatis, every section)
#   man_page_example_compiles    its EXAMPLES program builds with -Wall -Werror
#   tool_man_pages               docs/cunc.1, docs/cuss.8: groff -ww and man
#                                --warnings silent, NAME parses (whatis)
#   make_install_destdir         make install DESTDIR=...: module, uapi header
#                                (usable from C), man page; no depmod
#   make_uninstall_destdir       make uninstall DESTDIR=... leaves no file
#   kselftest_tree_builds        selftests/ copied to tools/testing/selftests/af_custom
#                                of a kernel tree: make -C tools/testing/selftests
#                                TARGETS=af_custom builds every program
#   kselftest_install_lists_all  kselftest_install.sh installs them and
#                                run_kselftest.sh -l lists every one
#   cached_kernel_not_installed  the kernels in the kernel cache
#                                (scripts/kernel-fetch.sh) are not the host's:
#                                no package, /boot image, /lib/modules or GRUB
#                                entry of their release (skipped when the
#                                cache is empty)
#
# then in the test VM (scripts/vm.sh check, TESTS=cu_kselftest.sh): the
# kernel's run_kselftest.sh from that kselftest installation lists the
# af_custom collection and runs af_custom:cu_socket with the module loaded.
# The last line adds both up, "N passed, N failed" (", N skipped").
#
#   scripts/check-packaging.sh [OUTDIR]     (make check-packaging [KVER=] [KDIR=])
#
# OUTDIR (default build/packaging) receives the logs and the kselftest
# installation. KDIR, else KVER's build tree (scripts/kver.sh), is the
# kernel make install and the VM use.
# Exit status: 0 when every check passed.
set -uo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${1:-$TOP/build/packaging}
KDIR_ARG=${KDIR:-$("$TOP/scripts/kver.sh" --kdir "${KVER:-}")} || exit 2
MAN=$TOP/docs/af_custom.7

unset MAKEFLAGS MFLAGS MAKELEVEL
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

num=0
failed=0
ok()     { num=$((num + 1)); echo "ok $num $1"; }
not_ok() { num=$((num + 1)); failed=$((failed + 1)); echo "not ok $num $1"; }
note()   { echo "# $*"; }
skip()   { num=$((num + 1)); skipped=$((skipped + 1)); echo "ok $num $1 # SKIP $2"; }
run()    { if "$2"; then ok "$1"; else not_ok "$1"; fi; }

# Show the last lines of a log as diagnostics.
show_log() { tail -n "${2:-20}" "$1" | sed 's/^/# /'; }

module_version() {
	sed -n 's/^MODULE_VERSION("\([^"]*\)");$/\1/p' "$TOP/module/af_custom.c"
}

t_versions() {
	local mod conf tag rc=0
	mod=$(module_version)
	conf=$(sed -n 's/^PACKAGE_VERSION="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$TOP/dkms.conf")
	note "MODULE_VERSION \"$mod\", dkms.conf PACKAGE_VERSION \"$conf\""
	[[ -n $mod ]] || { note "no MODULE_VERSION(\"...\") in module/af_custom.c"; rc=1; }
	[[ $mod == "$conf" ]] || { note "they differ"; rc=1; }
	if tag=$(git -C "$TOP" describe --tags --exact-match --match 'v[0-9]*' 2>/dev/null); then
		note "HEAD is tagged $tag"
		[[ ${tag#v} == "$mod" ]] || { note "the tag is not v$mod"; rc=1; }
	fi
	return $rc
}

t_groff() {
	local out status=0
	out=$(groff -ww -man -z "$MAN" 2>&1) || status=$?
	[[ -z $out && $status -eq 0 ]] && return 0
	printf '%s\n' "$out" | sed 's/^/# /'
	note "groff exit status $status"
	return 1
}

t_man() {
	local text section rc=0
	text=$(MANWIDTH=80 man --warnings -l "$MAN" 2>"$OUT/man.err") ||
		{ note "man -l failed"; rc=1; }
	if [[ -s $OUT/man.err ]]; then
		show_log "$OUT/man.err"
		rc=1
	fi
	for section in NAME SYNOPSIS DESCRIPTION ERRORS VERSIONS NOTES EXAMPLES "SEE ALSO"; do
		grep -q "^$section\$" <<<"$text" || { note "no $section section"; rc=1; }
	done
	lexgrog "$MAN" >/dev/null 2>&1 || { note "lexgrog cannot parse NAME (man -k, whatis)"; rc=1; }
	return $rc
}

# The tools' pages, cunc(1) and cuss(8): as quiet as af_custom(7).
t_tool_pages() {
	local page out rc=0
	for page in "$TOP/docs/cunc.1" "$TOP/docs/cuss.8"; do
		out=$(groff -ww -man -z "$page" 2>&1
		      MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
		if [[ -n $out ]]; then
			printf '%s\n' "$out" | sed 's/^/# /'
			note "${page##*/}: groff or man warned"
			rc=1
		fi
		lexgrog "$page" >/dev/null 2>&1 ||
			{ note "${page##*/}: lexgrog cannot parse NAME"; rc=1; }
	done
	return $rc
}

t_example() {
	local src=$OUT/man-example.c
	sed -n '/^\.SH EXAMPLES/,/^\.SH/{/^\.EX$/,/^\.EE$/p}' "$MAN" |
		sed '/^\.E[XE]$/d; s/\\-/-/g; s/\\e/\\/g' >"$src"
	[[ -s $src ]] || { note "no .EX block in EXAMPLES"; return 1; }
	gcc -Wall -Wextra -Werror -I"$TOP/uapi" -o "$OUT/man-example" "$src" \
		>"$OUT/man-example.log" 2>&1 || { show_log "$OUT/man-example.log"; return 1; }
}

DESTDIR_T=$OUT/destdir
install_args=()

t_install() {
	local rel files f rc=0
	rm -rf "$DESTDIR_T"
	mkdir -p "$DESTDIR_T"
	if ! make --no-print-directory -C "$TOP" install DESTDIR="$DESTDIR_T" "${install_args[@]}" \
		>"$OUT/install.log" 2>&1; then
		show_log "$OUT/install.log"
		return 1
	fi
	rel=$(modinfo -F vermagic "$TOP/af_custom.ko" | cut -d' ' -f1)
	files=(
		"lib/modules/$rel/updates/af_custom.ko"
		usr/include/linux/af_custom.h
		usr/share/man/man7/af_custom.7
		usr/share/man/man1/cunc.1 usr/share/man/man8/cuss.8
		usr/bin/cunc usr/bin/cuss
	)
	for f in "${files[@]}"; do
		[[ -f $DESTDIR_T/$f ]] || { note "missing $f"; rc=1; }
	done
	cmp -s "$TOP/af_custom.ko" "$DESTDIR_T/lib/modules/$rel/updates/af_custom.ko" ||
		{ note "the installed module is not af_custom.ko"; rc=1; }
	if compgen -G "$DESTDIR_T/lib/modules/$rel/modules.*" >/dev/null; then
		note "depmod ran on DESTDIR: $(cd "$DESTDIR_T/lib/modules/$rel" && echo modules.*)"
		rc=1
	fi
	# The installed header is what userspace includes.
	printf '#include <sys/socket.h>\n#include <linux/af_custom.h>\n%s\n' \
		'int main(void) { struct sockaddr_cu a = { .scu_family = AF_CUSTOM }; return a.scu_port; }' |
		gcc -Wall -Werror -I"$DESTDIR_T/usr/include" -x c -o /dev/null - ||
		{ note "a program including the installed header does not build"; rc=1; }
	note "installed: $(cd "$DESTDIR_T" && find . -type f | sort | tr '\n' ' ')"
	return $rc
}

t_uninstall() {
	local left
	if ! make --no-print-directory -C "$TOP" uninstall DESTDIR="$DESTDIR_T" "${install_args[@]}" \
		>"$OUT/uninstall.log" 2>&1; then
		show_log "$OUT/uninstall.log"
		return 1
	fi
	left=$(cd "$DESTDIR_T" && find . ! -type d)
	[[ -z $left ]] || { note "left behind: $left"; return 1; }
}

# make clean removes what a build made and none of the sources: on a copy
# of the tracked files, every one is still there after it (Kbuild's clean
# deletes every *.mod under M=, which took the Go binding's go.mod).
t_clean() {
	local tree=$OUT/clean-tree f rc=0 sources
	mapfile -d '' sources < <(git -C "$TOP" ls-files -z)
	rm -rf "$tree"
	mkdir -p "$tree"
	tar -C "$TOP" -cf - -- "${sources[@]}" | tar -C "$tree" -xf - || return 1
	if ! make --no-print-directory -C "$tree" clean "${install_args[@]}" \
		>"$OUT/clean.log" 2>&1; then
		show_log "$OUT/clean.log"
		return 1
	fi
	for f in "${sources[@]}"; do
		[[ -e $tree/$f ]] || { note "make clean deleted $f"; rc=1; }
	done
	return $rc
}

KSFT_TREE=$OUT/kernel-tree
KSFT_INSTALL=$OUT/kselftest-install

t_ksft_build() {
	local skel sel want f rc=0
	skel=$("$TOP/scripts/ksft-tree.sh" 2>"$OUT/ksft-tree.log") ||
		{ show_log "$OUT/ksft-tree.log"; return 1; }
	note "kernel tree skeleton: $skel"
	rm -rf "$KSFT_TREE"
	cp -r "$skel" "$KSFT_TREE"
	sel=$KSFT_TREE/tools/testing/selftests
	cp -r "$TOP/selftests" "$sel/af_custom"
	# a selftests/ built in place would carry its binaries along
	make --no-print-directory -C "$sel" TARGETS=af_custom clean >/dev/null 2>&1
	# The uapi header is not in a kernel tree: CU_UAPI names it (or it is
	# installed in /usr/include/linux by make install).
	if ! make --no-print-directory -C "$sel" -j"$(nproc)" TARGETS=af_custom CU_UAPI="$TOP/uapi" \
		>"$OUT/kselftest-build.log" 2>&1; then
		show_log "$OUT/kselftest-build.log" 30
		return 1
	fi
	for want in $(make -s --no-print-directory -C "$TOP/selftests" list) \
		    $(sed -n 's/^TEST_GEN_PROGS_EXTENDED *:= *//p' "$TOP/selftests/Makefile"); do
		f=$sel/af_custom/$want
		[[ -f $f ]] || { note "not built: $want"; rc=1; continue; }
		[[ $want == *.sh ]] || ! readelf -l "$f" | grep -q 'program interpreter' ||
			{ note "$want is not static"; rc=1; }
	done
	return $rc
}

t_ksft_install() {
	local sel=$KSFT_TREE/tools/testing/selftests listed want rc=0
	[[ -d $sel/af_custom ]] || { note "no kernel tree (the build check failed)"; return 1; }
	rm -rf "$KSFT_INSTALL"
	mkdir -p "$KSFT_INSTALL"
	# TARGETS in the environment would be appended to the Makefile's own
	# list; in MAKEFLAGS it acts as on the command line.
	if ! (cd "$sel" && MAKEFLAGS="TARGETS=af_custom CU_UAPI=$TOP/uapi" \
		./kselftest_install.sh "$KSFT_INSTALL") >"$OUT/kselftest-install.log" 2>&1; then
		show_log "$OUT/kselftest-install.log" 30
		return 1
	fi
	listed=$("$KSFT_INSTALL/run_kselftest.sh" -l 2>&1) ||
		{ note "run_kselftest.sh -l: $listed"; return 1; }
	printf '%s\n' "$listed" | sed 's/^/# run_kselftest.sh -l: /'
	for want in $(make -s --no-print-directory -C "$TOP/selftests" list); do
		grep -qx "af_custom:$want" <<<"$listed" || { note "not listed: af_custom:$want"; rc=1; }
		[[ -x $KSFT_INSTALL/af_custom/$want ]] || { note "not installed: $want"; rc=1; }
	done
	[[ -f $KSFT_INSTALL/af_custom/settings ]] || { note "settings not installed"; rc=1; }
	return $rc
}

# The releases in the kernel cache (scripts/kver.sh --all: RELEASE KDIR
# MODDIR, MODDIR not /lib/modules/RELEASE).
cached_releases() {
	"$TOP/scripts/kver.sh" --all | awk '$3 != "/lib/modules/" $1 { print $1 }'
}

# No release of CACHED_RELEASES, booted from the kernel cache, is installed.
t_cached_kernel() {
	local rel status rc=0
	for rel in $CACHED_RELEASES; do
		note "$rel: from the kernel cache"
		status=$(dpkg-query -W -f='${db:Status-Status}' "linux-image-$rel" 2>/dev/null)
		[[ $status != installed ]] || { note "package linux-image-$rel is installed"; rc=1; }
		[[ ! -e /boot/vmlinuz-$rel ]] || { note "/boot/vmlinuz-$rel exists"; rc=1; }
		[[ ! -e /lib/modules/$rel ]] || { note "/lib/modules/$rel exists"; rc=1; }
		! grep -qs "vmlinuz-$rel" /boot/grub/grub.cfg ||
			{ note "/boot/grub/grub.cfg boots $rel"; rc=1; }
	done
	return $rc
}

# cu_kselftest.sh in the test VM, with the installation t_ksft_install
# made; adds the VM's counts (its last "N passed, N failed" line).
vm_kselftest() {
	local log=$OUT/vm.log line p f s
	echo "# the kernel's runner in the test VM: scripts/vm.sh check, TESTS=cu_kselftest.sh"
	KSFT_INSTALL=$KSFT_INSTALL TESTS=cu_kselftest.sh "$TOP/scripts/vm.sh" check 2>&1 | tee "$log" | sed 's/^/#   /'
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	if [[ -z $line ]]; then
		note "scripts/vm.sh printed no count: 1 failure"
		vm_failed=1
		return
	fi
	read -r p _ f _ s _ <<<"${line//,/}"
	vm_passed=$p vm_failed=$f vm_skipped=${s:-0}
}

main() {
	install_args=(KDIR="$KDIR_ARG")
	vm_passed=0 vm_failed=0 vm_skipped=0 skipped=0
	echo "TAP version 13"
	echo "1..11"
	run versions_agree t_versions
	run man_page_groff_is_silent t_groff
	run man_page_renders_with_man t_man
	run man_page_example_compiles t_example
	run tool_man_pages t_tool_pages
	run make_install_destdir t_install
	run make_uninstall_destdir t_uninstall
	if git -C "$TOP" rev-parse --git-dir >/dev/null 2>&1; then
		run make_clean_keeps_sources t_clean
	else
		skip make_clean_keeps_sources "not a git checkout: no list of the sources"
	fi
	run kselftest_tree_builds t_ksft_build
	run kselftest_install_lists_all t_ksft_install
	CACHED_RELEASES=$(cached_releases)
	if [[ -n $CACHED_RELEASES ]]; then
		run cached_kernel_not_installed t_cached_kernel
	else
		skip cached_kernel_not_installed "the kernel cache is empty"
	fi
	[[ -d $KSFT_INSTALL ]] && vm_kselftest
	passed=$((num - failed - skipped + vm_passed))
	failed=$((failed + vm_failed)) skipped=$((skipped + vm_skipped))
	line="$passed passed, $failed failed"
	((skipped)) && line+=", $skipped skipped"
	echo "$line"
	[[ $failed -eq 0 ]]
}

main "$@"
