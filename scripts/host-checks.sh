#!/usr/bin/env bash
# The checks of make check that need no VM, as TAP (scripts/vm.sh counts
# them with the guest's, as the program "host-checks"):
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
#   cached_kernel_not_installed  a kernel booted from the kernel cache
#                                (scripts/kernel-fetch.sh) is not the host's:
#                                no package, /boot image, /lib/modules or GRUB
#                                entry of its release (skipped for an
#                                installed kernel)
#
#   scripts/host-checks.sh OUTDIR [KDIR]
#
# OUTDIR receives the logs, and OUTDIR/kselftest-install: the installation
# that the guest's selftests/cu_kselftest.sh runs with run_kselftest.sh
# (the kernel tree cannot load the module on this host). KDIR is the kernel
# build tree make install is tried with (default: make's choice).
# Exit status: 0 when every check passed.
set -uo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${1:?usage: host-checks.sh OUTDIR [KDIR]}
KDIR_ARG=${2:-}
MAN=$TOP/docs/af_custom.7

unset MAKEFLAGS MFLAGS MAKELEVEL
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

num=0
failed=0
ok()     { num=$((num + 1)); echo "ok $num $1"; }
not_ok() { num=$((num + 1)); failed=$((failed + 1)); echo "not ok $num $1"; }
note()   { echo "# $*"; }
skip()   { num=$((num + 1)); echo "ok $num $1 # SKIP $2"; }
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

# The release of KDIR_ARG when it is the build tree of a cached kernel
# (scripts/kver.sh --all: RELEASE KDIR MODDIR, MODDIR not /lib/modules).
cached_release() {
	[[ -n $KDIR_ARG ]] || return 1
	"$TOP/scripts/kver.sh" --all | awk -v kdir="$KDIR_ARG" '
		$2 == kdir && $3 != "/lib/modules/" $1 { print $1; found = 1 }
		END { exit !found }'
}

# CACHED_RELEASE, booted from the kernel cache, is not installed.
t_cached_kernel() {
	local rel=$CACHED_RELEASE status rc=0
	note "$rel: from the kernel cache, $KDIR_ARG"
	status=$(dpkg-query -W -f='${db:Status-Status}' "linux-image-$rel" 2>/dev/null)
	[[ $status != installed ]] || { note "package linux-image-$rel is installed"; rc=1; }
	[[ ! -e /boot/vmlinuz-$rel ]] || { note "/boot/vmlinuz-$rel exists"; rc=1; }
	[[ ! -e /lib/modules/$rel ]] || { note "/lib/modules/$rel exists"; rc=1; }
	! grep -qs "vmlinuz-$rel" /boot/grub/grub.cfg ||
		{ note "/boot/grub/grub.cfg boots $rel"; rc=1; }
	return $rc
}

main() {
	[[ -n $KDIR_ARG ]] && install_args=(KDIR="$KDIR_ARG")
	echo "TAP version 13"
	echo "1..10"
	run versions_agree t_versions
	run man_page_groff_is_silent t_groff
	run man_page_renders_with_man t_man
	run man_page_example_compiles t_example
	run tool_man_pages t_tool_pages
	run make_install_destdir t_install
	run make_uninstall_destdir t_uninstall
	run kselftest_tree_builds t_ksft_build
	run kselftest_install_lists_all t_ksft_install
	if CACHED_RELEASE=$(cached_release); then
		run cached_kernel_not_installed t_cached_kernel
	else
		skip cached_kernel_not_installed "an installed kernel"
	fi
	echo "# Totals: pass:$((num - failed)) fail:$failed"
	[[ $failed -eq 0 ]]
}

main "$@"
