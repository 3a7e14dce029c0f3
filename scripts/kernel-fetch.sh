#!/usr/bin/env bash
# Put a Debian kernel into the kernel cache without installing it: its
# image and its headers, unpacked from the .debs (apt-get download,
# dpkg-deb -x), so the test VM can boot it and the module (and DKMS) can
# build against it, while the host's package database, /boot, GRUB and
# /lib/modules stay as they were. Prints the cache directory.
#
#   scripts/kernel-fetch.sh 6.12                 newest 6.12 Debian offers
#   scripts/kernel-fetch.sh 6.12.117+deb12-amd64 that release
#
# The cache (scripts/kver.sh reads it) holds, under kernels/RELEASE/:
#   boot/vmlinuz-RELEASE, System.map-RELEASE, config-RELEASE
#   lib/modules/RELEASE/modules.{order,builtin,builtin.modinfo}
#                       (what depmod reads; the modules themselves, which
#                       no test loads, are left out: 180 MB)
#   usr/src/linux-headers-RELEASE{,-common}, usr/lib/linux-kbuild-*
#                       the build tree, its absolute include rewritten
# About 100 MB on disk and 125 MB downloaded, once; `rm -rf` the directory
# to fetch again. Reads apt's package lists as they are: scripts/deps.sh
# (KVER=6.12 scripts/deps.sh) updates them first and then calls this.
set -euo pipefail

# the directory kver.sh looks in
CACHE=$("$(dirname "${BASH_SOURCE[0]}")/kver.sh" --cache)

die() { echo "kernel-fetch.sh: $*" >&2; exit 1; }

# The newest "-amd64" release of SERIES with a headers package on offer.
newest_release() {
	apt-cache pkgnames "linux-headers-$1." |
		sed -n "s/^linux-headers-\($1\.[0-9][^-]*-amd64\)$/\1/p" |
		sort -V | tail -n 1
}

# The packages a build tree of RELEASE is made of: the image, the headers
# and what the headers package depends on of the kernel's own (its
# -common headers and its kbuild scripts).
packages_of() {
	local rel=$1
	echo "linux-image-$rel" "linux-headers-$rel"
	apt-cache depends "linux-headers-$rel" |
		sed -n 's/^ *|\{0,1\}Depends: \(linux-\(headers-.*-common\|kbuild-.*\)\)$/\1/p'
}

# Unpack the packages of REL from DEBS into the cache directory DEST.
unpack() {
	local rel=$1 debs=$2 dest=$3 deb kdir
	for deb in "$debs"/*.deb; do
		dpkg-deb -x "$deb" "$dest"
	done
	rm -rf "${dest:?}/lib/modules/$rel/kernel" "${dest:?}/usr/share" \
		"$dest/lib/modules/$rel/build" "$dest/lib/modules/$rel/source"
	# The headers' Makefile includes the -common one by absolute path.
	kdir=$dest/usr/src/linux-headers-$rel
	[[ -f $kdir/Makefile ]] || die "no build tree in the packages of $rel"
	sed -i "s|^include /usr/src/|include $CACHE/$rel/usr/src/|" "$kdir/Makefile"
	[[ -e $dest/boot/vmlinuz-$rel ]] || die "no vmlinuz in linux-image-$rel"
}

WORK=
trap '[[ -z $WORK ]] || rm -rf "$WORK"' EXIT

main() {
	local want=${1:?usage: kernel-fetch.sh SERIES|RELEASE} rel pkgs
	rel=$want
	if [[ $want != *-* ]]; then
		rel=$(newest_release "$want")
		[[ -n $rel ]] || die "no Debian kernel package matches $want (apt-get update?)"
	fi
	if [[ -e $CACHE/$rel/boot/vmlinuz-$rel ]]; then
		echo "$CACHE/$rel"
		return 0
	fi
	mapfile -t pkgs < <(packages_of "$rel" | tr ' ' '\n')
	((${#pkgs[@]} >= 4)) || die "linux-headers-$rel: no such package, or no -common/kbuild dependency"
	mkdir -p "$CACHE"
	WORK=$(mktemp -d "$CACHE/.fetch-$rel.XXXXXX")
	mkdir "$WORK/debs" "$WORK/root"
	echo "kernel-fetch.sh: downloading ${pkgs[*]} into the cache" >&2
	# apt's _apt user must be able to write there
	chmod 0755 "$WORK" && chmod 0777 "$WORK/debs"
	if ! (cd "$WORK/debs" && apt-get download -q "${pkgs[@]}") >"$WORK/download.log" 2>&1; then
		cat "$WORK/download.log" >&2
		die "apt-get download ${pkgs[*]} failed"
	fi
	unpack "$rel" "$WORK/debs" "$WORK/root"
	rm -rf "${CACHE:?}/$rel"
	mv "$WORK/root" "$CACHE/$rel"
	echo "$CACHE/$rel"
}

main "$@"
