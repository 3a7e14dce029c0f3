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

# shellcheck source-path=SCRIPTDIR source=lib-ksrc.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib-ksrc.sh"

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

main() {
	ksrc_locate ksft-tree
	if [[ -f $KSRC_DIR/.complete ]]; then
		echo "$KSRC_DIR"
		return 0
	fi
	ksrc_extract "the kselftest runner" 1 "${MEMBERS[@]}"
	echo "$KSRC_DIR"
}

main "$@"
