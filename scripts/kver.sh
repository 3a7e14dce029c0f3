#!/usr/bin/env bash
# Pick the kernel to build for and boot, and say where its parts are.
#
#   scripts/kver.sh [KVER]          print its release
#   scripts/kver.sh --paths [KVER]  print KREL=, KDIR=, VMLINUZ= and KMODDIR=
#                                   lines, for eval (values shell-quoted)
#   scripts/kver.sh --kdir [KVER]   print its build tree (the "headers")
#   scripts/kver.sh --all           print "RELEASE KDIR MODDIR" of every
#                                   kernel with headers, installed or cached
#   scripts/kver.sh --cache         print the kernel cache directory
#
# KVER is an exact release (6.1.0-56-amd64) or a series (6.1, 6.12;
# default 6.1). A series picks the newest installed Debian "-amd64" kernel
# of that series with both its image in /boot and its headers in
# /lib/modules/RELEASE/build; when none is installed, the newest one in the
# kernel cache, where scripts/kernel-fetch.sh unpacks Debian's packages
# without installing them (so they never become the host's boot kernel):
#
#   ${AF_CUSTOM_CACHE:-${XDG_CACHE_HOME:-~/.cache}/af_custom}/kernels/RELEASE/
#
# The default is a series on purpose: other kernels (6.12) may be
# installed too, and the test VM must never switch to them silently.
# Self-contained: make dkms-src ships it with the sources.
set -euo pipefail

DEFAULT_SERIES=6.1
CACHE=${AF_CUSTOM_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/af_custom}/kernels

# Where the parts of an installed and of a cached RELEASE are.
installed_kdir()  { echo "/lib/modules/$1/build"; }
cached_kdir()     { echo "$CACHE/$1/usr/src/linux-headers-$1"; }
is_installed()    { [[ -e /boot/vmlinuz-$1 && -f /lib/modules/$1/build/Makefile ]]; }
is_cached()       { [[ -e $CACHE/$1/boot/vmlinuz-$1 && -f $(cached_kdir "$1")/Makefile ]]; }

# Print the newest "-amd64" release of the series WANT among the paths GLOB
# expands to (/boot/vmlinuz-RELEASE, or cache directories named RELEASE)
# that TEST (is_installed, is_cached) accepts.
newest() {
	local want=$1 glob=$2 test=$3 path rel found=
	for path in $glob; do
		rel=${path##*/}
		rel=${rel#vmlinuz-}
		[[ $rel == "$want".*-amd64 ]] && "$test" "$rel" && found+="$rel"$'\n'
	done
	[[ -n $found ]] || return 1
	printf '%s' "$found" | sort -V | tail -n 1
}

# Sets KREL, KDIR, VMLINUZ, KMODDIR for WANT, or returns 1.
resolve() {
	local want=$1
	if is_installed "$want" ||
	   KREL=$(newest "$want" "/boot/vmlinuz-$want.*" is_installed); then
		KREL=${KREL:-$want}
		KDIR=$(installed_kdir "$KREL")
		VMLINUZ=/boot/vmlinuz-$KREL
		KMODDIR=/lib/modules/$KREL
	elif is_cached "$want" ||
	     KREL=$(newest "$want" "$CACHE/$want.*" is_cached); then
		KREL=${KREL:-$want}
		KDIR=$(cached_kdir "$KREL")
		VMLINUZ=$CACHE/$KREL/boot/vmlinuz-$KREL
		KMODDIR=$CACHE/$KREL/lib/modules/$KREL
	else
		return 1
	fi
}

list_all() {
	local d rel
	for d in /lib/modules/*/build; do
		rel=${d%/build}
		rel=${rel##*/}
		[[ -f $d/Makefile ]] && echo "$rel $d /lib/modules/$rel"
	done
	for d in "$CACHE"/*/; do
		rel=$(basename "$d")
		[[ -d /lib/modules/$rel/build ]] && continue
		is_cached "$rel" &&
			echo "$rel $(cached_kdir "$rel") $CACHE/$rel/lib/modules/$rel"
	done
	return 0
}

main() {
	local mode=release want
	case ${1:-} in
	--paths|--kdir) mode=${1#--}; shift ;;
	--all) list_all | sort -V; return 0 ;;
	--cache) echo "$CACHE"; return 0 ;;
	esac
	want=${1:-$DEFAULT_SERIES}
	if ! resolve "$want"; then
		echo "kver.sh: no kernel matches '$want': none installed" \
			"(/boot/vmlinuz-$want.*-amd64 with its headers) nor in $CACHE" \
			"(scripts/kernel-fetch.sh $want puts it there)" >&2
		exit 1
	fi
	case $mode in
	release) echo "$KREL" ;;
	kdir) echo "$KDIR" ;;
	paths) printf 'KREL=%q\nKDIR=%q\nVMLINUZ=%q\nKMODDIR=%q\n' \
		"$KREL" "$KDIR" "$VMLINUZ" "$KMODDIR" ;;
	esac
}

main "$@"
