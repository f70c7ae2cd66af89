#!/bin/sh
# rk-search stats, two binaries interleaved run by run, on an index of
# 48,000 one-chunk documents (bench/check/corpus.awk) as FTS5 leaves it
# after one add (one segment), then after twelve small adds and a rm
# (several segments, some entries deletes):
#
#	sh bench/retrieval/stats.sh OLD_RK_SEARCH NEW_RK_SEARCH [RUNS]
#
# For each index: the two binaries' output compared (the same, or the
# script stops), the wall and CPU time p50 of RUNS runs each (default
# 20) under tree-time (bench/think), and callgrind's instructions of one
# run each.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
old=$1 new=$2 runs=${3:-20}
build=${BUILD:-$top/build}
make -s -C "$top" O="$build" "$build/bench/think/tree-time" >/dev/null
tmp=$(mktemp -d "${TMPDIR:-/tmp}/rk-stats.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

awk -v docs=48000 -f "$top/bench/check/corpus.awk" >"$tmp/corpus.jsonl"
"$new" -q -i "$tmp/one" add "$tmp/corpus.jsonl" </dev/null
cp "$tmp/one" "$tmp/many"
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
	sed -n "$((i * 97))s/\"_id\":\"[^\"]*\"/\"_id\":\"s$i\"/p" \
	    "$tmp/corpus.jsonl" >"$tmp/s$i.jsonl"
	"$new" -q -i "$tmp/many" add "$tmp/s$i.jsonl" </dev/null
done
"$new" -i "$tmp/many" rm s3 d5 d77 d4000 </dev/null

# the p50 of column $1 of file $2, in ms
p50() {
	cut -d' ' -f"$1" "$2" | sort -n |
	    awk '{ v[NR] = $1 } END { printf "%.1f", v[int((NR + 1) / 2)] / 1000 }'
}

for idx in one many; do
	"$old" -i "$tmp/$idx" stats </dev/null >"$tmp/old.out"
	"$new" -i "$tmp/$idx" stats </dev/null >"$tmp/new.out"
	cmp "$tmp/old.out" "$tmp/new.out"
	echo "$idx: $(cat "$tmp/new.out")"
	: >"$tmp/old.t"
	: >"$tmp/new.t"
	i=0
	while [ "$i" -lt "$runs" ]; do
		"$build/bench/think/tree-time" "$old" -i "$tmp/$idx" stats \
		    </dev/null >>"$tmp/old.t"
		"$build/bench/think/tree-time" "$new" -i "$tmp/$idx" stats \
		    </dev/null >>"$tmp/new.t"
		i=$((i + 1))
	done
	for b in old new; do
		eval "bin=\$$b"
		valgrind -q --tool=callgrind --callgrind-out-file="$tmp/cg" \
		    "$bin" -i "$tmp/$idx" stats </dev/null >/dev/null
		echo "  $b: wall p50 $(p50 1 "$tmp/$b.t") ms, cpu p50" \
		    "$(p50 2 "$tmp/$b.t") ms, $(sed -n 's/^summary: //p' \
		    "$tmp/cg") instructions"
	done
done
