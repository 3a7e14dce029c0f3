#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=dash
#
# af_custom installed as a real module (make install or DKMS, then depmod),
# as TAP: modprobe loads it; the first socket(AF_CUSTOM, ...) of a program
# autoloads it through its net-pf-22 alias (the kernel runs the program in
# /proc/sys/kernel/modprobe); modprobe -r is refused while a socket is open
# and unloads it once none is left.
#
# Run as root with af_custom loaded (from any file), after the module was
# installed for the running kernel. In the test VM, scripts/vm.sh runs
# `make install DESTDIR=<initramfs root>` and `depmod -b <root>`, and
# busybox modprobe reads the modules.dep and modules.alias that made.
# Works with kmod's modprobe as well. Leaves the module loaded.
#
# Environment:
#   CU_KO    af_custom.ko to insmod if modprobe cannot load it back
#   CU_HOLD  the cu_hold_socket helper (default: next to this script)
#
# Exit status: 0 all passed, 1 a test failed, 4 (kselftest skip) not root
# or af_custom not installed for the running kernel.

# shellcheck source-path=SCRIPTDIR source=cu_lib.sh
. "$(dirname "$0")/cu_lib.sh"

KSFT_SKIP=4
DIR=$(cd "$(dirname "$0")" && pwd)
HOLD=${CU_HOLD:-$DIR/cu_hold_socket}
[ -x "$HOLD" ] || HOLD=cu_hold_socket
FAMILY=22			# the alias is net-pf-22: autoload needs the default
MODDIR=/lib/modules/$(uname -r)
TMP=${TMPDIR:-/tmp}/cu_install.$$
HOLDER=

# Closed sockets are freed after an RCU grace period, so the module's last
# reference may outlive close() briefly: retry for 10 s.
modprobe_r() { unload_retrying 50 modprobe -r af_custom; }

unload_first() {
	loaded || return 0
	modprobe_r || { note "precondition: could not unload af_custom"; return 1; }
}

cleanup() {
	stop_holder
	rm -f "$TMP.ready"
	loaded && return
	modprobe af_custom 2>/dev/null && return
	[ -n "$CU_KO" ] && insmod "$CU_KO" 2>/dev/null && return
	echo "# could not load af_custom again"
}

# ---- tests ---------------------------------------------------------------

t_installed() {
	local rc=0
	grep -q '^updates/\(dkms/\)\{0,1\}af_custom\.ko[.a-z]*:' "$MODDIR/modules.dep" ||
		{ note "no updates/af_custom.ko in $MODDIR/modules.dep"; rc=1; }
	grep -q '^alias net-pf-22 af_custom$' "$MODDIR/modules.alias" ||
		{ note "no 'alias net-pf-22 af_custom' in $MODDIR/modules.alias"; rc=1; }
	return $rc
}

t_modprobe_loads() {
	local out
	unload_first || return 1
	if ! out=$(modprobe af_custom 2>&1); then
		note "modprobe af_custom: $out"
		return 1
	fi
	loaded || { note "modprobe succeeded but af_custom is not in /proc/modules"; return 1; }
	"$HOLD" probe $FAMILY
}

t_modprobe_r_unloads() {
	loaded || { note "precondition: af_custom not loaded"; return 1; }
	modprobe_r || return 1
	! loaded
}

t_socket_autoloads() {
	local helper status
	unload_first || return 1
	helper=$(cat /proc/sys/kernel/modprobe)
	note "/proc/sys/kernel/modprobe: $helper"
	if [ ! -x "$helper" ]; then
		note "not executable; pointing it at $(command -v modprobe)"
		command -v modprobe >/proc/sys/kernel/modprobe || return 1
	fi
	"$HOLD" probe $FAMILY
	status=$?
	[ $status -eq 0 ] || { note "socket($FAMILY, SOCK_STREAM, 0) failed (helper exit $status)"; return 1; }
	loaded || { note "the socket worked but af_custom is not in /proc/modules"; return 1; }
}

t_modprobe_r_refused_while_open() {
	local out
	loaded || { note "precondition: af_custom not loaded"; return 1; }
	start_holder || return 1
	if out=$(modprobe -r af_custom 2>&1); then
		note "modprobe -r succeeded with a socket open"
		return 1
	fi
	note "modprobe -r with a socket open: $out"
	loaded
}

t_modprobe_r_after_close() {
	[ -n "$HOLDER" ] || { note "precondition: no socket holder"; return 1; }
	stop_holder
	modprobe_r || return 1
	! loaded
}

# ---- main ------------------------------------------------------------------

echo "TAP version 13"
if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP cu_install.sh needs root"
	exit $KSFT_SKIP
fi
if ! grep -qs 'af_custom\.ko' "$MODDIR/modules.dep"; then
	echo "1..0 # SKIP af_custom is not installed in $MODDIR (make install, or dkms install)"
	exit $KSFT_SKIP
fi
echo "1..6"
trap cleanup EXIT
trap 'exit 1' INT TERM

run installed_with_the_net_pf_alias t_installed
run modprobe_loads_it t_modprobe_loads
run modprobe_r_unloads_it t_modprobe_r_unloads
run first_socket_autoloads_it t_socket_autoloads
run modprobe_r_refused_while_a_socket_is_open t_modprobe_r_refused_while_open
run modprobe_r_unloads_once_no_socket_is_left t_modprobe_r_after_close

totals
[ $failed -eq 0 ]
