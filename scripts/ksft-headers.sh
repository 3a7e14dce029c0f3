#!/usr/bin/env bash
# Print a directory holding the kernel's kselftest_harness.h and kselftest.h,
# extracting just those two files from the linux-source-6.1 tarball into a
# cache outside the work tree the first time (about 10 s; the tarball is
# xz-compressed and has to be read through).
#
# The cache is keyed by the package version, so a source update refreshes it.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib-ksrc.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib-ksrc.sh"

HEADERS=(kselftest_harness.h kselftest.h)

main() {
	ksrc_locate kselftest
	if [[ -f $KSRC_DIR/kselftest_harness.h && -f $KSRC_DIR/kselftest.h ]]; then
		echo "$KSRC_DIR"
		return 0
	fi
	ksrc_extract "${HEADERS[*]}" 4 "${HEADERS[@]/#/tools/testing/selftests/}"
	echo "$KSRC_DIR"
}

main "$@"
