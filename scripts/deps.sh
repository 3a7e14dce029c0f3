#!/usr/bin/env bash
# Install what the build and the test VM need, on Debian 12, as root.
# Quick and silent when everything is already there.
#
#   scripts/deps.sh            the base set (kernel 6.1 image+headers, QEMU, ...)
#   KVER=6.12 scripts/deps.sh  also a kernel of that series (or exact release)
#                              when none is installed or cached: fetched into
#                              the cache, not installed (scripts/kernel-fetch.sh)
#   TRACERS=1 scripts/deps.sh  also linux-perf and bpftrace (selftests/cu_tracers.sh)
#   scripts/deps.sh PKG...     also these packages (scripts/dkms-test.sh: dkms;
#                              make check: golang-go python3 python3-pip
#                              python3-setuptools, for the bindings' tests)
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

# Make a kernel of KVER available to the VM runner when none is: an
# installed one (with its headers) or one in the kernel cache will do;
# else the newest Debian release of that series (or that exact release) is
# fetched into the cache, never installed, so it does not become the
# host's boot kernel (scripts/kernel-fetch.sh).
want_kernel() {
	local kver=$1 top
	top=$(dirname "${BASH_SOURCE[0]}")
	"$top/kver.sh" "$kver" >/dev/null 2>&1 && return 0
	apt_update_once
	"$top/kernel-fetch.sh" "$kver" >/dev/null
}

install_missing() {
	local missing
	mapfile -t missing < <(missing_packages "$@")
	((${#missing[@]})) || return 0
	command -v apt-get >/dev/null ||
		die "missing ${missing[*]}, and no apt-get to install them"
	echo "deps.sh: installing ${missing[*]}" >&2
	apt_update_once
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "${missing[@]}" >/dev/null
}

main() {
	WANT=("${BASE_PACKAGES[@]}" "$@")
	[[ -z ${TRACERS:-} ]] || WANT+=(linux-perf bpftrace)
	install_missing "${WANT[@]}"
	# after the packages: 6.1's image and headers come with them
	[[ -z ${KVER:-} ]] || want_kernel "$KVER"
}

main "$@"
