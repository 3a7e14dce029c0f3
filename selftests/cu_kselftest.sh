#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=dash
#
# The kernel's own kselftest runner on af_custom, as TAP: run_kselftest.sh
# from an installation that kselftest_install.sh made (make check-packaging
# does it on the host, in a kernel tree with selftests/ copied to
# tools/testing/selftests/af_custom), listing the af_custom collection and
# running one of its programs, with the module loaded.
#
# Environment:
#   CU_KSFT_INSTALL  the installation (default /kselftest, where the test
#                    VM has it)
#   CU_KSFT_TEST     the test to run (default af_custom:cu_socket)
#
# The runner hard-codes /usr/bin/timeout --foreground, which busybox's
# timeout does not know: where /usr/bin/timeout is busybox, the runner
# runs in a private mount namespace whose /usr/bin has a timeout that
# drops that option.
#
# Exit status: 0 all passed, 1 a test failed, 4 (kselftest skip) no
# installation (outside make check-packaging).

# shellcheck source-path=SCRIPTDIR source=cu_lib.sh
. "$(dirname "$0")/cu_lib.sh"

KSFT_SKIP=4
INST=${CU_KSFT_INSTALL:-/kselftest}
TEST=${CU_KSFT_TEST:-af_custom:cu_socket}
TMP=${TMPDIR:-/tmp}/cu_kselftest.$$

# Every program of the af_custom collection, as the runner names them:
# the ones the installation has (the kselftest-list.txt it was made with).
t_lists_collection() {
	local listed want rc=0
	listed=$("$INST/run_kselftest.sh" -l) || { note "run_kselftest.sh -l failed"; return 1; }
	echo "$listed" | grep -q "^$TEST\$" || { note "$TEST not listed"; rc=1; }
	for want in "$INST"/af_custom/cu_*; do
		want=${want##*/}
		case $want in cu_hold_socket | cu_sockinfo | cu_churn | cu_lib.sh) continue ;; esac	# helpers, files
		echo "$listed" | grep -q "^af_custom:$want\$" ||
			{ note "af_custom:$want installed but not listed"; rc=1; }
	done
	return $rc
}

# Run the runner, with busybox's timeout made to accept --foreground.
run_runner() {
	if [ "$(readlink -f /usr/bin/timeout 2>/dev/null)" != "$(readlink -f /bin/busybox)" ]; then
		"$INST/run_kselftest.sh" "$@"
		return
	fi
	mkdir -p "$TMP/usr-bin"
	for f in /usr/bin/* /usr/bin/.[!.]*; do
		[ -e "$f" ] || [ -L "$f" ] || continue
		ln -s "$(readlink -f "$f")" "$TMP/usr-bin/${f##*/}"
	done
	rm -f "$TMP/usr-bin/timeout"
	cat >"$TMP/usr-bin/timeout" <<-'EOF'
		#!/bin/sh
		[ "$1" = --foreground ] && shift
		exec /bin/busybox timeout "$@"
	EOF
	chmod 755 "$TMP/usr-bin/timeout"
	# shellcheck disable=SC2016 # $1 and $@ are for the inner shell
	unshare -m /bin/sh -c 'mount --bind "$1" /usr/bin && shift && exec "$@"' \
		sh "$TMP/usr-bin" "$INST/run_kselftest.sh" "$@"
}

t_runs_test() {
	local out status plan oks
	out=$(run_runner -t "$TEST" 2>&1)
	status=$?
	echo "$out" | sed 's/^/# /'
	[ $status -eq 0 ] || { note "run_kselftest.sh exited $status"; return 1; }
	echo "$out" | grep -q "^ok 1 selftests: ${TEST%%:*}: ${TEST#*:}\$" ||
		{ note "no 'ok 1 selftests: ${TEST%%:*}: ${TEST#*:}' line"; return 1; }
	! echo "$out" | grep -q '^# not ok' || { note "a test of $TEST failed"; return 1; }
	plan=$(echo "$out" | sed -n 's/^# 1\.\.\([0-9][0-9]*\).*/\1/p' | head -n 1)
	oks=$(echo "$out" | grep -c '^# ok [0-9]')
	if [ -z "$plan" ] || [ "$oks" -ne "$plan" ]; then
		note "$oks results for a plan of '${plan:-none}'"
		return 1
	fi
	note "$TEST: $oks of $plan passed under run_kselftest.sh"
}

echo "TAP version 13"
if [ ! -x "$INST/run_kselftest.sh" ]; then
	echo "1..0 # SKIP no kselftest installation in $INST (make check-packaging makes one)"
	exit $KSFT_SKIP
fi
echo "1..2"
[ -e /dev/stdout ] || note "no /dev/stdout: the runner will write its TAP into a file of that name"
trap 'rm -rf "$TMP"' EXIT
trap 'exit 1' INT TERM

run run_kselftest_lists_the_af_custom_collection t_lists_collection
run "run_kselftest_runs_$(echo "${TEST#*:}" | tr -c 'a-zA-Z0-9_\n' _)" t_runs_test

totals
[ $failed -eq 0 ]
