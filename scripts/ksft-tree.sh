#!/usr/bin/env bash
# Print a directory holding the skeleton of a kernel source tree that the
# kernel's own kselftest runner works in: tools/testing/selftests with its
# Makefile, lib.mk, the harness headers, kselftest_install.sh,
# run_kselftest.sh and kselftest/, plus scripts/subarch.include (read by
# the selftests Makefile). Copy selftests/ to
# DIR/tools/testing/selftests/af_custom and the kernel's commands work:
#
#   make -C DIR/tools/testing/selftests TARGETS=af_custom run_tests
#   cd DIR/tools/testing/selftests && ./kselftest_install.sh INSTALL_DIR
#
# The members are extracted once from the linux-source-6.1 tarball into a
# cache outside the work tree, keyed by the package version (about 15 s:
# xz has to read the whole tarball; a full extraction would write 1.3 GB
# for nothing). Treat the directory as read-only: copy it to work in it.
set -euo pipefail

TARBALL_GLOB="/usr/src/linux-source-6.1.tar.*"
MEMBERS=(
	scripts/subarch.include
	tools/testing/selftests/Makefile
	tools/testing/selftests/lib.mk
	tools/testing/selftests/kselftest.h
	tools/testing/selftests/kselftest_harness.h
	tools/testing/selftests/kselftest_install.sh
	tools/testing/selftests/run_kselftest.sh
	tools/testing/selftests/kselftest/module.sh
	tools/testing/selftests/kselftest/prefix.pl
	tools/testing/selftests/kselftest/runner.sh
)

die() { echo "ksft-tree.sh: $*" >&2; exit 1; }

main() {
	local tarball top version cache dir tmp m
	tarball=$(compgen -G "$TARBALL_GLOB" | head -n 1) ||
		die "no $TARBALL_GLOB (apt-get install linux-source-6.1, or run scripts/deps.sh)"
	top=$(basename "$tarball"); top=${top%%.tar.*}
	version=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null ||
		stat -c %Y "$tarball")
	cache=${AF_CUSTOM_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/af_custom}
	dir=$cache/ksft-tree-$top-$version

	if [[ -f $dir/.complete ]]; then
		echo "$dir"
		return 0
	fi

	mkdir -p "$cache"
	tmp=$(mktemp -d "$cache/.ksft-tree.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	echo "ksft-tree.sh: extracting the kselftest runner from $tarball" >&2
	tar -xf "$tarball" -C "$tmp" --strip-components=1 "${MEMBERS[@]/#/$top/}"
	for m in "${MEMBERS[@]}"; do
		[[ -s $tmp/$m ]] || die "$m not found in $tarball"
	done
	touch "$tmp/.complete"
	chmod 755 "$tmp"
	rm -rf "$dir"
	mv "$tmp" "$dir"
	trap - EXIT
	echo "$dir"
}

main "$@"
