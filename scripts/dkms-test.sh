#!/usr/bin/env bash
# The DKMS test (make check-dkms), on the host, without booting: for every
# kernel with headers, dkms builds and installs af_custom from the
# dkms.conf of this tree, the module lands in
# /lib/modules/RELEASE/updates/dkms/, and dkms remove --all takes it all
# away again. Prints TAP, one line per step and per kernel, and ends with
# "N passed, N failed" (.ci/run adds it up with the make check runs).
#
#   scripts/dkms-test.sh            as root (installs dkms if missing)
#
# The kernels: every installed one with headers, and those of the kernel
# cache (scripts/kver.sh --all), after making sure each series the project
# tests (DKMS_SERIES, default "6.1 6.12") has one: scripts/deps.sh fetches
# a missing 6.12 into the cache, as make check KVER=6.12 does. A cached
# kernel is not installed, so it has no /lib/modules/RELEASE: DKMS gets
# its build tree with --kernelsourcedir and installs into a scratch
# RELEASE tree under build/dkms/ (--installtree), where depmod runs too.
#
# The host is left as it was, even on failure or interrupt: af_custom is
# removed from DKMS, /usr/src/af_custom-VERSION deleted, and the signing
# key DKMS generates on its first build (/var/lib/dkms/mok.key, .pub) too
# when this run created it. A version of af_custom already registered in
# DKMS is somebody's installation: the test refuses to touch it.
set -uo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NAME=af_custom
LOG_DIR=$TOP/build/dkms
MOK_FILES=(/var/lib/dkms/mok.key /var/lib/dkms/mok.pub)

unset MAKEFLAGS MFLAGS MAKELEVEL

num=0 passed=0 failed=0 skipped=0
ok()     { num=$((num + 1)); passed=$((passed + 1)); echo "ok $num $1"; }
not_ok() { num=$((num + 1)); failed=$((failed + 1)); echo "not ok $num $1"; }
skip()   { num=$((num + 1)); skipped=$((skipped + 1)); echo "ok $num $1 # SKIP $2"; }
note()   { echo "# $*"; }
show_log() { tail -n "${2:-25}" "$1" | sed 's/^/#   /'; }

# Run a dkms command, its output in LOG; show the log's end on failure.
dkms_logged() {
	local log=$1 status
	shift
	echo "+ dkms $*" >>"$log"
	dkms "$@" >>"$log" 2>&1
	status=$?
	((status == 0)) || { note "dkms $* exited $status:"; show_log "$log"; }
	return $status
}

module_version() {
	sed -n 's/^MODULE_VERSION("\([^"]*\)");$/\1/p' "$TOP/module/af_custom.c"
}

conf_version() {
	sed -n 's/^PACKAGE_VERSION="\([^"]*\)"$/\1/p' "$TOP/dkms.conf"
}

registered() { [[ -d /var/lib/dkms/$NAME/$VERSION ]]; }

OWN_SRC=0 OWN_REG=0
MOK_BEFORE=()
cleanup() {
	local f
	if ((OWN_REG)) && registered; then
		dkms remove "$NAME/$VERSION" --all >>"$LOG_DIR/cleanup.log" 2>&1 ||
			echo "dkms-test.sh: dkms remove $NAME/$VERSION --all failed (see $LOG_DIR/cleanup.log)" >&2
		rm -rf "/var/lib/dkms/$NAME/$VERSION"
		rmdir "/var/lib/dkms/$NAME" 2>/dev/null
	fi
	((OWN_SRC)) && rm -rf "/usr/src/$NAME-$VERSION"
	for f in "${MOK_FILES[@]}"; do
		[[ " ${MOK_BEFORE[*]} " == *" $f "* ]] || rm -f "$f"
	done
}

# The kernels to test, from scripts/kver.sh --all: KERNELS (releases),
# KDIRS and MODDIRS (their build trees and module directories by release).
declare -a KERNELS
declare -A KDIRS MODDIRS
read_kernels() {
	local krel kdir moddir
	while read -r krel kdir moddir; do
		KERNELS+=("$krel")
		KDIRS[$krel]=$kdir
		MODDIRS[$krel]=$moddir
	done < <("$TOP/scripts/kver.sh" --all)
}

is_cached() { [[ ${MODDIRS[$1]} != "/lib/modules/$1" ]]; }

# DKMS's options for RELEASE: none for an installed kernel; for a cached
# one its build tree, the scratch install tree, and no depmod (DKMS would
# run it on /lib/modules/RELEASE).
dkms_opts() {
	is_cached "$1" || return 0
	echo "--kernelsourcedir ${KDIRS[$1]} --installtree $SCRATCH/lib/modules --no-depmod"
}

# Where DKMS installs for RELEASE: /lib/modules/RELEASE, or for a cached
# kernel the scratch tree, which gets the kernel's lists for depmod.
install_dir() {
	local krel=$1 f
	if ! is_cached "$krel"; then
		echo "/lib/modules/$krel"
		return 0
	fi
	mkdir -p "$SCRATCH/lib/modules/$krel"
	for f in modules.order modules.builtin modules.builtin.modinfo; do
		cp "${MODDIRS[$krel]}/$f" "$SCRATCH/lib/modules/$krel/"
	done
	echo "$SCRATCH/lib/modules/$krel"
}

# Does dkms.conf's BUILD_EXCLUSIVE_KERNEL admit RELEASE?
in_range() {
	local re
	re=$(sed -n 's/^BUILD_EXCLUSIVE_KERNEL="\(.*\)"$/\1/p' "$TOP/dkms.conf" | head -n 1)
	[[ $1 =~ $re ]]
}

# BUILD_EXCLUSIVE_KERNEL admits exactly the releases Kbuild builds for.
t_range() {
	local rel rc=0
	for rel in 5.10.0-30-amd64 5.15.0-91-generic 5.19.17 6.0.1 6.1.0-56-amd64 \
		   6.9.3 6.12.117+deb12-amd64 6.19.2; do
		in_range "$rel" || { note "$rel is not admitted"; rc=1; }
	done
	for rel in 4.19.0-26-amd64 5.4.0-26-generic 5.9.16 6.20.1 6.100.0 7.0.0 16.1.0; do
		! in_range "$rel" || { note "$rel is admitted"; rc=1; }
	done
	return $rc
}

# Build and install for one kernel, then check where the module went.
test_kernel() {
	local krel=$1 log=$LOG_DIR/$1.log files f magic ver status moddir opts
	: >"$log"
	read -ra opts <<<"$(dkms_opts "$krel")"
	if ! in_range "$krel"; then
		dkms build "$NAME/$VERSION" -k "$krel" "${opts[@]}" >>"$log" 2>&1
		status=$?
		if ((status == 77)); then
			skip "dkms_build_$krel" "outside 5.10..6.19: dkms skips it (BUILD_EXCLUSIVE)"
		else
			note "dkms build exited $status, want 77 (BUILD_EXCLUSIVE_KERNEL)"
			show_log "$log"
			not_ok "dkms_build_$krel"
		fi
		skip "dkms_install_$krel" "not built"
		return
	fi
	if ! dkms_logged "$log" build "$NAME/$VERSION" -k "$krel" "${opts[@]}"; then
		# the compiler's words, before cleanup removes DKMS's tree
		if cp "/var/lib/dkms/$NAME/$VERSION/build/make.log" "$LOG_DIR/$krel.make.log" 2>/dev/null; then
			note "make.log (kept as ${LOG_DIR#"$TOP"/}/$krel.make.log):"
			grep -E -m 10 'error|Error|\*\*\*' "$LOG_DIR/$krel.make.log" | sed 's/^/#   /'
		fi
		not_ok "dkms_build_$krel"
		not_ok "dkms_install_$krel # not run: the build failed"
		return
	fi
	ok "dkms_build_$krel"
	moddir=$(install_dir "$krel")
	if ! dkms_logged "$log" install "$NAME/$VERSION" -k "$krel" "${opts[@]}"; then
		not_ok "dkms_install_$krel"
		return
	fi
	if is_cached "$krel" && ! depmod -b "$SCRATCH" "$krel" >>"$log" 2>&1; then
		note "depmod -b failed:"; show_log "$log"
		not_ok "dkms_install_$krel"
		return
	fi
	# Compressed like the kernel's own modules where it compresses them.
	mapfile -t files < <(compgen -G "$moddir/updates/dkms/$NAME.ko*")
	if ((${#files[@]} != 1)); then
		note "want one $NAME.ko* in $moddir/updates/dkms, found: ${files[*]:-none}"
		not_ok "dkms_install_$krel"
		return
	fi
	f=${files[0]}
	magic=$(modinfo -F vermagic "$f" | cut -d' ' -f1)
	ver=$(modinfo -F version "$f")
	note "$f: vermagic $magic, version $ver"
	if [[ $magic != "$krel" || $ver != "$VERSION" ]]; then
		note "want vermagic $krel and version $VERSION"
		not_ok "dkms_install_$krel"
		return
	fi
	if ! modinfo -F alias "$f" | grep -qx 'net-pf-22'; then
		note "no net-pf-22 alias"
		not_ok "dkms_install_$krel"
		return
	fi
	if ! grep -q "^updates/dkms/$NAME\.ko[.a-z]*:" "$moddir/modules.dep"; then
		note "not in $moddir/modules.dep (no depmod?)"
		not_ok "dkms_install_$krel"
		return
	fi
	ok "dkms_install_$krel"
}

# dkms remove --all, after removing the cached kernels one by one (with
# their install tree: --all would look for them in /lib/modules).
remove_all() {
	local krel opts rc=0
	for krel in "${KERNELS[@]}"; do
		is_cached "$krel" || continue
		read -ra opts <<<"$(dkms_opts "$krel")"
		dkms_logged "$LOG_DIR/remove.log" remove "$NAME/$VERSION" -k "$krel" "${opts[@]}" || rc=1
	done
	if registered; then
		dkms_logged "$LOG_DIR/remove.log" remove "$NAME/$VERSION" --all || rc=1
	fi
	return $rc
}

main() {
	local krel left mod conf f series
	mkdir -p "$LOG_DIR"
	rm -f "$LOG_DIR"/*.log
	echo "TAP version 13"
	if [[ $(id -u) -ne 0 ]]; then
		echo "1..0 # SKIP dkms needs root"
		echo "0 passed, 0 failed, 1 skipped"
		return 0
	fi
	"$TOP/scripts/deps.sh" dkms >&2 || { echo "Bail out! could not install dkms"; echo "0 passed, 1 failed"; return 1; }
	note "$(dkms --version)"
	for series in ${DKMS_SERIES:-6.1 6.12}; do
		KVER=$series "$TOP/scripts/deps.sh" >&2 ||
			{ echo "Bail out! no $series kernel"; echo "0 passed, 1 failed"; return 1; }
	done
	read_kernels
	SCRATCH=$LOG_DIR/root
	rm -rf "$SCRATCH"
	note "kernels: ${KERNELS[*]}"
	echo "1..$((5 + 2 * ${#KERNELS[@]}))"

	mod=$(module_version)
	conf=$(conf_version)
	VERSION=$conf
	if [[ -n $mod && $mod == "$conf" ]]; then
		ok "dkms_conf_version_is_module_version"
	else
		note "dkms.conf PACKAGE_VERSION \"$conf\", MODULE_VERSION \"$mod\""
		not_ok "dkms_conf_version_is_module_version"
	fi
	[[ -n $VERSION ]] || VERSION=$mod

	if t_range; then
		ok "build_exclusive_kernel_is_5.10_to_6.19"
	else
		not_ok "build_exclusive_kernel_is_5.10_to_6.19"
	fi

	if registered || [[ -e /usr/src/$NAME-$VERSION ]]; then
		note "$NAME/$VERSION is already in DKMS or /usr/src: somebody's installation, left alone"
		note "($(dkms status "$NAME" 2>&1 | tr '\n' ' '))"
		not_ok "dkms_add"
		for krel in "${KERNELS[@]}"; do
			not_ok "dkms_build_$krel # not run"
			not_ok "dkms_install_$krel # not run"
		done
		not_ok "dkms_remove_all # not run"
		not_ok "host_clean # not run"
		echo "$passed passed, $failed failed"
		return 1
	fi
	for f in "${MOK_FILES[@]}"; do
		[[ -e $f ]] && MOK_BEFORE+=("$f")
	done
	trap cleanup EXIT
	trap 'exit 130' INT TERM HUP

	# The sources as docs/install.md tells people to put them, then dkms add.
	OWN_SRC=1
	if ! make --no-print-directory -C "$TOP" dkms-src >"$LOG_DIR/add.log" 2>&1; then
		show_log "$LOG_DIR/add.log"
		not_ok "dkms_add"
	else
		OWN_REG=1
		if dkms_logged "$LOG_DIR/add.log" add "$NAME/$VERSION"; then
			ok "dkms_add"
		else
			not_ok "dkms_add"
		fi
	fi

	if registered; then
		for krel in "${KERNELS[@]}"; do
			test_kernel "$krel"
		done
	else
		for krel in "${KERNELS[@]}"; do
			not_ok "dkms_build_$krel # not run: not added"
			not_ok "dkms_install_$krel # not run: not added"
		done
	fi
	note "$(dkms status "$NAME" 2>/dev/null | tr '\n' ';')"

	if remove_all; then
		ok "dkms_remove_all"
	else
		not_ok "dkms_remove_all"
	fi
	cleanup
	OWN_REG=0 OWN_SRC=0
	left=$(find /lib/modules/*/updates/dkms /var/lib/dkms/$NAME /usr/src/$NAME-"$VERSION" \
		"$SCRATCH" -name "$NAME*" 2>/dev/null)
	for krel in "${KERNELS[@]}"; do
		grep -qs "$NAME" "/lib/modules/$krel/modules.dep" &&
			left+=" /lib/modules/$krel/modules.dep lists $NAME"
	done
	[[ -z $(dkms status "$NAME" 2>/dev/null) ]] || left+=" dkms status: $(dkms status "$NAME" 2>/dev/null)"
	if [[ -z $left ]]; then
		ok "host_clean"
	else
		note "left behind: $left"
		not_ok "host_clean"
	fi

	local line="$passed passed, $failed failed"
	((skipped)) && line+=", $skipped skipped"
	echo "$line"
	((failed == 0))
}

main "$@"
