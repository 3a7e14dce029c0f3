#!/usr/bin/env bash
# Print the kernel release to build for and boot: KVER is either an exact
# release (6.1.0-56-amd64) or a series (6.1, 6.12); a series picks the
# newest installed Debian "-amd64" kernel of that series that has both its
# image in /boot and its headers in /lib/modules/RELEASE/build.
#
#   scripts/kver.sh [KVER]      default series: 6.1
#
# The default is a series on purpose: other kernels (6.12) may be
# installed too, and the test VM must never switch to them silently.
set -euo pipefail

DEFAULT_SERIES=6.1

resolve() {
	local want=$1 path rel best=
	if [[ -e /boot/vmlinuz-$want || -d /lib/modules/$want/build ]]; then
		echo "$want"
		return 0
	fi
	for path in /boot/vmlinuz-"$want".*-amd64; do
		[[ -e $path ]] || continue
		rel=${path#/boot/vmlinuz-}
		[[ -d /lib/modules/$rel/build ]] || continue
		best+="$rel"$'\n'
	done
	[[ -n $best ]] || return 1
	printf '%s' "$best" | sort -V | tail -n 1
}

want=${1:-$DEFAULT_SERIES}
if ! resolve "$want"; then
	echo "kver.sh: no installed kernel matches '$want' (need /boot/vmlinuz-$want.*-amd64" \
		"and its headers; scripts/deps.sh installs them)" >&2
	exit 1
fi
