#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=dash
#
# The Go package's tests (bindings/go, go test) as TAP, one line a test:
# exact capacity, ECONNREFUSED on a full queue, SetBacklog resetting the
# newest, accept order, data both ways, datagrams, deadlines, Close waking
# Accept, a goroutine server with a thousand clients. scripts/vm.sh builds
# the test binary on the host, static (CGO_ENABLED=0 go test -c), into the
# VM's /tests/bindings/afcustom-go.test; elsewhere CU_GO_TEST=path.
#
# Exit status: 0 all passed, 1 a test failed, 4 (kselftest skip) no test
# binary outside the test VM.

# shellcheck source-path=SCRIPTDIR source=cu_lib.sh
. "$(dirname "$0")/cu_lib.sh"

BIN=${CU_GO_TEST:-$(dirname "$0")/bindings/afcustom-go.test}

if [ ! -x "$BIN" ]; then
	echo "1..1"
	if [ -n "${CU_FLAVOUR:-}" ]; then	# the test VM: it must be there
		not_ok "$BIN in the VM (scripts/vm.sh builds it with go test -c)"
		exit 1
	fi
	skip "go bindings" "no $BIN"
	exit 4
fi

# within the runner's limit: 180 s, four times that on the debug kernel
LIMIT=150s
[ "${CU_FLAVOUR:-}" = debug ] && LIMIT=600s

TESTS=$("$BIN" -test.list '.*' | grep '^Test')
echo "1..$(echo "$TESTS" | wc -l)"
# go test -v: "--- PASS: TestX (0.01s)" and the like become TAP lines; the
# rest (logs, failure messages) TAP comments.
"$BIN" -test.v -test.timeout "$LIMIT" 2>&1 | awk '
	/^--- (PASS|FAIL|SKIP): / {
		n++
		name = $3 " " $4
		if ($2 == "PASS:") print "ok " n " " name
		else if ($2 == "SKIP:") print "ok " n " " name " # SKIP"
		else { print "not ok " n " " name; bad++ }
		next
	}
	/^=== (RUN|PAUSE|CONT)/ { next }
	{ print "# " $0 }
	END { exit bad ? 1 : 0 }'
st=$?
exit $st
