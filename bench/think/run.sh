#!/bin/sh
# Whole-process `rk think` per profile on the offline model, against a
# pipeline of cat of the same shape, measured in the same run.  Prints the
# median wall time of each and their ratio.  The offline model answers in
# microseconds, so all of the time is ReasonKit's overhead.
# usage: bench/think/run.sh [BUILD_DIR] [RUNS]
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$top/build}/bin
runs=${2:-21}
PATH="$bin:$PATH"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export RK_TRACE_DB="$tmp/bench.db" XDG_CONFIG_HOME="$tmp/config"

now_us() { date +%s%N | sed 's/...$//'; }

# median of the numbers on stdin
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

printf '%-11s %5s %10s %10s %7s\n' profile steps "rk (ms)" "cat (ms)" ratio
for p in quick balanced deep paranoid; do
	n=$(rk-parse -c "$p")
	: >"$tmp/rk" ; : >"$tmp/cat"
	i=0
	while [ "$i" -lt "$runs" ]; do
		# interleave the two so drift on a shared machine hits both
		t0=$(now_us)
		rk think --mock -p "$p" -f json "Should we split the monolith?" >/dev/null
		t1=$(now_us)
		sh "$top/bench/think/cat-shape.sh" "$n" >/dev/null
		t2=$(now_us)
		echo $((t1 - t0)) >>"$tmp/rk"
		echo $((t2 - t1)) >>"$tmp/cat"
		i=$((i + 1))
	done
	r=$(median <"$tmp/rk")
	c=$(median <"$tmp/cat")
	awk -v p="$p" -v n="$n" -v r="$r" -v c="$c" 'BEGIN {
		printf "%-11s %5d %10.2f %10.2f %7.2f\n", p, n, r / 1000, c / 1000, r / c }'
done
echo "median of $runs runs each; ratio = rk / cat (budget: <= 1.5)"
