#!/usr/bin/env bash
# Draw make bench's plots from cu_bench's results.csv (needs gnuplot:
# scripts/deps.sh gnuplot-nox installs it, as make bench does).
#
#   scripts/bench-plot.sh DIR     reads DIR/results.csv, writes
#     DIR/listen.png   AF_CUSTOM listen() time against N pending: grow,
#                      unchanged, shrink (resetting N/2)
#     DIR/scale.png    bind+connect time against ports bound, and the
#                      accept rate of a filled queue against accepting
#                      threads, per family and mode (unpinned, pinned)
set -euo pipefail

dir=${1:?usage: $0 DIR}
csv=$dir/results.csv
[[ -r $csv ]] || { echo "bench-plot.sh: no $csv" >&2; exit 1; }
command -v gnuplot >/dev/null ||
	{ echo "bench-plot.sh: gnuplot is missing (scripts/deps.sh gnuplot-nox)" >&2; exit 1; }

data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT

# extract CASE METRIC FAMILY [MODE] > file: "param median min max" lines,
# by param. MODE (column 11): unpinned or pinned, or - (the default) for
# the cases outside the modes.
extract() {
	awk -F, -v c="$1" -v m="$2" -v f="$3" -v mode="${4:--}" \
		'$1 == c && $2 == m && $4 == f && $5 != "seqpacket" && $11 == mode {
			print $3, $7, $8, $9 }' "$csv" |
		sort -n
}

for m in grow unchanged shrink; do
	extract listen "$m" cu >"$data/listen-$m"
done
for f in cu unix tcp; do
	extract scale bind_connect "$f" >"$data/bind-$f"
	for mode in unpinned pinned; do
		extract accept accept_rate "$f" "$mode" >"$data/accept-$f-$mode"
	done
done

# plot lines for the non-empty ones of "FILE TITLE STYLE" triples
plot_cmd() {
	local sep="plot"
	while (($#)); do
		if [[ -s $1 ]]; then
			printf '%s "%s" using 1:2:3:4 with yerrorlines title "%s" %s' "$sep" "$1" "$2" "$3"
			sep=","
		fi
		shift 3
	done
	echo
}

if [[ -s $data/listen-grow ]]; then
	gnuplot <<-EOF
		set terminal pngcairo noenhanced size 800,500 font "sans,10"
		set output "$dir/listen.png"
		set title "AF_CUSTOM listen() with N connections pending (median, min..max)"
		set xlabel "N pending (backlog N; shrink resets N/2)"
		set ylabel "time of one listen() call (µs)"
		set logscale xy
		set xtics (16, 64, 256, 1024, 4096)
		set key top left
		set grid
		$(plot_cmd "$data/listen-grow" "grow to 2N" "lw 2" \
			"$data/listen-unchanged" "unchanged (2N again)" "lw 2" \
			"$data/listen-shrink" "shrink to N/2" "lw 2")
	EOF
fi

if [[ -s $data/bind-cu || -s $data/accept-cu-unpinned || -s $data/accept-cu-pinned ]]; then
	gnuplot <<-EOF
		set terminal pngcairo noenhanced size 1000,480 font "sans,10"
		set output "$dir/scale.png"
		set multiplot layout 1,2 title "Scale (median, min..max)"
		set grid
		set key top left
		set title "bind()+connect() with K ports bound in the netns"
		set xlabel "ports bound"
		set ylabel "µs per bind+connect"
		set logscale xy
		set xrange [5:200000]
		$(plot_cmd "$data/bind-cu" "AF_CUSTOM" "lw 2" "$data/bind-unix" "AF_UNIX (abstract names)" "lw 2" \
			"$data/bind-tcp" "TCP 127.0.0.1" "lw 2")
		set title "accept() of a filled queue on one listener (dashed: pinned)"
		set xlabel "accepting threads"
		set ylabel "connections accepted per second"
		unset logscale
		set key below horizontal
		set yrange [0:*]
		set xrange [0.5:4.5]
		set xtics (1, 2, 4)
		$(plot_cmd "$data/accept-cu-unpinned" "AF_CUSTOM" "lw 2 lc 1" \
			"$data/accept-unix-unpinned" "AF_UNIX" "lw 2 lc 2" \
			"$data/accept-tcp-unpinned" "TCP" "lw 2 lc 3" \
			"$data/accept-cu-pinned" "AF_CUSTOM pinned" "lw 1 dt 2 lc 1" \
			"$data/accept-unix-pinned" "AF_UNIX pinned" "lw 1 dt 2 lc 2" \
			"$data/accept-tcp-pinned" "TCP pinned" "lw 1 dt 2 lc 3")
		unset multiplot
	EOF
fi
ls "$dir"/*.png >/dev/null 2>&1 || { echo "bench-plot.sh: nothing to plot" >&2; exit 1; }
