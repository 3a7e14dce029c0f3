#!/usr/bin/env bash
# Print a directory holding the kernel's kselftest_harness.h and kselftest.h,
# extracting just those two files from the linux-source-6.1 tarball into a
# cache outside the work tree the first time (about 10 s; the tarball is
# xz-compressed and has to be read through).
#
# The cache is keyed by the package version, so a source update refreshes it.
set -euo pipefail

TARBALL_GLOB="/usr/src/linux-source-6.1.tar.*"
MEMBER_DIR=tools/testing/selftests
HEADERS=(kselftest_harness.h kselftest.h)

die() { echo "ksft-headers.sh: $*" >&2; exit 1; }

main() {
	local tarball top version cache dir tmp h
	tarball=$(compgen -G "$TARBALL_GLOB" | head -n 1) ||
		die "no $TARBALL_GLOB (apt-get install linux-source-6.1, or run scripts/deps.sh)"
	top=$(basename "$tarball"); top=${top%%.tar.*}
	version=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null ||
		stat -c %Y "$tarball")
	cache=${AF_CUSTOM_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/af_custom}
	dir=$cache/kselftest-$top-$version

	if [[ -f $dir/kselftest_harness.h && -f $dir/kselftest.h ]]; then
		echo "$dir"
		return 0
	fi

	mkdir -p "$cache"
	tmp=$(mktemp -d "$cache/.extract.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	echo "ksft-headers.sh: extracting ${HEADERS[*]} from $tarball" >&2
	tar -xf "$tarball" -C "$tmp" --strip-components=4 \
		"${HEADERS[@]/#/$top/$MEMBER_DIR/}"
	for h in "${HEADERS[@]}"; do
		[[ -s $tmp/$h ]] || die "$h not found in $tarball"
	done
	chmod 755 "$tmp"
	rm -rf "$dir"
	mv "$tmp" "$dir"
	trap - EXIT
	echo "$dir"
}

main "$@"
