# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Sourced by ksft-headers.sh and ksft-tree.sh: members of Debian's
# linux-source-6.1 tarball, extracted once into a cache outside the work
# tree (AF_CUSTOM_CACHE, else ~/.cache/af_custom), keyed by the package
# version so that a source update refreshes them.
#
#   ksrc_locate NAME            sets KSRC_TARBALL, KSRC_TOP (its top
#                               directory) and KSRC_DIR, the cache
#                               directory NAME-TOP-VERSION (maybe not there)
#   ksrc_extract WHAT STRIP MEMBER...
#                               extracts the MEMBERs into KSRC_DIR
#
# Errors are one line on stderr, named after the script, and exit 1.

KSRC_GLOB="/usr/src/linux-source-6.1.tar.*"

ksrc_die() { echo "${0##*/}: $*" >&2; exit 1; }

ksrc_locate() {
	local version
	KSRC_TARBALL=$(compgen -G "$KSRC_GLOB" | head -n 1) ||
		ksrc_die "no $KSRC_GLOB (apt-get install linux-source-6.1, or run scripts/deps.sh)"
	KSRC_TOP=$(basename "$KSRC_TARBALL")
	KSRC_TOP=${KSRC_TOP%%.tar.*}
	version=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null ||
		stat -c %Y "$KSRC_TARBALL")
	KSRC_CACHE=${AF_CUSTOM_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/af_custom}
	KSRC_DIR=$KSRC_CACHE/$1-$KSRC_TOP-$version
}

# ksrc_extract WHAT STRIP MEMBER...: extract the MEMBERs (paths below the
# tarball's top directory) with tar --strip-components=STRIP, and fail
# unless each is there and not empty. WHAT names them in the message.
# The extraction goes to a temporary directory that replaces KSRC_DIR at
# the end, with a .complete file in it.
ksrc_extract() {
	local what=$1 strip=$2 m i
	shift 2
	mkdir -p "$KSRC_CACHE"
	KSRC_TMP=$(mktemp -d "$KSRC_CACHE/.extract.XXXXXX")
	trap 'rm -rf "$KSRC_TMP"' EXIT
	echo "${0##*/}: extracting $what from $KSRC_TARBALL" >&2
	tar -xf "$KSRC_TARBALL" -C "$KSRC_TMP" --strip-components="$strip" \
		"${@/#/$KSRC_TOP/}"
	for m in "$@"; do
		for ((i = 1; i < strip; i++)); do
			m=${m#*/}
		done
		[[ -s $KSRC_TMP/$m ]] || ksrc_die "$m not found in $KSRC_TARBALL"
	done
	touch "$KSRC_TMP/.complete"
	chmod 755 "$KSRC_TMP"
	rm -rf "$KSRC_DIR"
	mv "$KSRC_TMP" "$KSRC_DIR"
	trap - EXIT
}
