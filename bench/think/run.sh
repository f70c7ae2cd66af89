#!/bin/sh
# Whole-process `rk think` per profile on the offline model, against its
# baseline: the same rk script run with every rk-* program replaced by
# stand-in.c, a cat(1) that ignores its arguments.  So both run the same
# shell, the same number of processes (rk's own dirname, the rk-llm
# settings check, every stage) and the same pipes, and the ratio is what
# the rk-* programs cost over copying their input.
#
# The two are interleaved, which one goes first alternating, so drift on a
# shared machine hits both.  tree-time.c times each: wall time, and the CPU
# time of the whole process tree, with its clock read outside the measured
# interval.  rk-trace writes into a database that already holds DBRUNS runs
# (default 10,000), as a long-lived one does, never into a fresh one.
#
# usage: bench/think/run.sh [BUILD_DIR] [RUNS]
# Prints per profile the median and the min-max (ms) of each, and the
# ratios of the medians.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-build}
runs=${2:-21}
DBRUNS=${DBRUNS:-10000}
case $build in /*) ;; *) build=$top/$build ;; esac
bench=$build/bench/think
make -s -C "$top" O="$build" all "$bench/tree-time" "$bench/stand-in"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rk-bench-think.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
export XDG_CONFIG_HOME="$tmp/config" RK_TRACE_DB="$tmp/bench.db"
sh "$top/bench/check/fill-db.sh" "$build/bin/rk-trace" "$RK_TRACE_DB" "$DBRUNS" \
    "$top/t/fixtures/trace/balanced.ndjson"

# the baseline's tree: a copy of rk beside the stand-ins
mkdir "$tmp/stand"
cp "$build/bin/rk" "$tmp/stand/rk"
for t in "$build"/bin/rk-*; do
	ln -s "$bench/stand-in" "$tmp/stand/${t##*/}"
done

q="Should we split the monolith?"
# one NAME DIR: time one run of DIR/rk, appending "wall cpu" to $tmp/NAME
one() {
	"$bench/tree-time" "$2/rk" think --mock -p "$p" -f json "$q" >>"$tmp/$1"
}

# stats FILE COLUMN: median min max of a column, in ms
stats() {
	cut -d' ' -f"$2" "$1" | sort -n | awk '{ v[NR] = $1 / 1000 }
	    END { printf "%.2f %.2f %.2f\n", v[int((NR + 1) / 2)], v[1], v[NR] }'
}

printf '%-9s %5s %-23s %-23s %6s %6s\n' profile steps \
    "rk wall (min-max)" "cat wall (min-max)" wall cpu
for p in quick balanced deep paranoid; do
	STAND_IN_STEPS=$("$build/bin/rk-parse" --steps -p "$p")
	export STAND_IN_STEPS
	: >"$tmp/rk"; : >"$tmp/cat"
	i=0
	while [ "$i" -lt "$runs" ]; do
		if [ $((i % 2)) -eq 0 ]; then
			one rk "$build/bin"; one cat "$tmp/stand"
		else
			one cat "$tmp/stand"; one rk "$build/bin"
		fi
		i=$((i + 1))
	done
	set -- $(stats "$tmp/rk" 1) $(stats "$tmp/cat" 1) \
	    $(stats "$tmp/rk" 2) $(stats "$tmp/cat" 2)
	awk -v p="$p" -v n="$STAND_IN_STEPS" -v rw="$1" -v rlo="$2" -v rhi="$3" \
	    -v cw="$4" -v clo="$5" -v chi="$6" -v rc="$7" -v cc="${10}" 'BEGIN {
		printf "%-9s %5d %7.2f (%5.2f-%6.2f) %7.2f (%5.2f-%6.2f) %6.2f %6.2f\n",
		    p, n, rw, rlo, rhi, cw, clo, chi, rw / cw, rc / cc }'
done
echo "ms, median of $runs interleaved runs each; wall and cpu: ratio rk / cat"
echo "of the medians (cpu: the whole process tree); trace DB held $DBRUNS runs"
