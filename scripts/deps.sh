#!/usr/bin/env bash
# Install what the build and the test VM need, on Debian 12, as root.
# Quick and silent when everything is already there.
#
#   scripts/deps.sh            the base set (kernel 6.1 image+headers, QEMU, ...)
#   KVER=6.12 scripts/deps.sh  also a kernel of that series (or exact release)
#                              when none is installed
#   TRACERS=1 scripts/deps.sh  also linux-perf and bpftrace (selftests/cu_tracers.sh)
#   scripts/deps.sh PKG...     also these packages (scripts/dkms-test.sh: dkms)
set -euo pipefail

BASE_PACKAGES=(
	linux-image-amd64 linux-headers-amd64 linux-source-6.1
	qemu-system-x86 busybox-static
	gcc make libc6-dev cpio xz-utils kmod
	socat
	dwarves		# pahole: BTF for the module, which 6.12's headers want
	groff-base man-db	# the man page check
	rsync		# the kernel's kselftest_install.sh
)

die() { echo "deps.sh: $*" >&2; exit 1; }

# Prints the packages of "$@" that are not installed.
missing_packages() {
	local pkg status
	for pkg in "$@"; do
		status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
		[[ $status == installed ]] || echo "$pkg"
	done
}

as_root() {
	if [[ $(id -u) -eq 0 ]]; then
		"$@"
	elif command -v sudo >/dev/null; then
		sudo "$@"
	else
		die "need root to run: $*"
	fi
}

apt_updated=0
apt_update_once() {
	((apt_updated)) && return 0
	echo "deps.sh: apt-get update" >&2
	as_root apt-get update -qq
	apt_updated=1
}

# Add to WANT the image and headers packages of KVER when no such kernel
# is installed. KVER is an exact release (6.12.57+deb12-amd64) or a series
# (6.12), for which the newest Debian release on offer is chosen.
want_kernel() {
	local kver=$1 rel
	if [[ -e /boot/vmlinuz-$kver && -d /lib/modules/$kver/build ]]; then
		return 0
	fi
	if compgen -G "/boot/vmlinuz-$kver.*" >/dev/null &&
	   compgen -G "/lib/modules/$kver.*/build" >/dev/null; then
		return 0
	fi
	if [[ $kver == *-* ]]; then
		rel=$kver
	else
		apt_update_once
		rel=$(apt-cache pkgnames "linux-headers-$kver." |
			sed -n "s/^linux-headers-\($kver\.[0-9][^-]*-amd64\)$/\1/p" |
			sort -V | tail -n 1)
		[[ -n $rel ]] || die "no Debian kernel package matches KVER=$kver"
	fi
	WANT+=("linux-image-$rel" "linux-headers-$rel")
}

main() {
	local missing
	WANT=("${BASE_PACKAGES[@]}" "$@")
	[[ -z ${KVER:-} ]] || want_kernel "$KVER"
	[[ -z ${TRACERS:-} ]] || WANT+=(linux-perf bpftrace)
	mapfile -t missing < <(missing_packages "${WANT[@]}")
	((${#missing[@]})) || return 0

	command -v apt-get >/dev/null ||
		die "missing ${missing[*]}, and no apt-get to install them"
	echo "deps.sh: installing ${missing[*]}" >&2
	apt_update_once
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "${missing[@]}" >/dev/null
}

main "$@"
