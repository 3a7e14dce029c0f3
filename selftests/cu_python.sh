#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=dash
#
# The Python package's tests (bindings/python/tests/test_af_custom.py,
# unittest) as TAP, one line a test: exact capacity, ECONNREFUSED on a full
# queue, a shrinking listen() resetting the newest, accept order, data both
# ways, datagrams, timeouts, selectors, an asyncio server with many clients.
#
# In the test VM, scripts/vm.sh puts there Debian's python3 with the part
# of its standard library the tests use, the package installed with pip
# (--no-build-isolation, into /usr/lib/python3/dist-packages) and the test
# file in /tests/bindings/python/. Elsewhere: CU_PY_TEST=path/to/the/file.
#
# Exit status: 0 all passed, 1 a test failed, 4 (kselftest skip) no python3
# or no test file outside the test VM.

# shellcheck source-path=SCRIPTDIR source=cu_lib.sh
. "$(dirname "$0")/cu_lib.sh"

TEST=${CU_PY_TEST:-$(dirname "$0")/bindings/python/test_af_custom.py}

if ! command -v python3 >/dev/null 2>&1 || [ ! -f "$TEST" ]; then
	echo "1..1"
	if [ -n "${CU_FLAVOUR:-}" ]; then	# the test VM: they must be there
		not_ok "python3 and $TEST in the VM (scripts/vm.sh puts them there)"
		exit 1
	fi
	skip "python bindings" "no python3 or no $TEST"
	exit 4
fi
exec python3 "$TEST" --tap
