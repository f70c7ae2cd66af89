#!/bin/sh
# One BM25 query as its own process, the way a shell script runs
# rk-search, on an index of 48,000 one-chunk documents, beside the same
# query run by Xapian as its own process:
#
#	sh bench/retrieval/process.sh [BUILD_DIR [RUNS]]
#
# The corpus is made-up text (bench/check/corpus.awk, the same on every
# machine), so nothing outside the repository is read.  Each round runs,
# one after the other, /bin/true, rk-search --version, then each of five
# queries with rk-search -k 10 and with xapian-bench one (the peer: open
# the database, parse, rank, print each hit's name, score and text), every
# process under tree-time (bench/think), which prints the wall and CPU time
# of the process; RUNS rounds (default 40), so a busy moment falls on every
# column alike.  The figures are the p50, min and max over all runs.  Then
# valgrind's callgrind counts the instructions of one run of each query
# (stable on a busy machine; note that it counts each byte a `rep movs`
# copies or a `rep stos` sets as an instruction).  Without Xapian
# (Debian libxapian-dev) the peer's column is left out.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-build}
runs=${2:-40}
docs=${DOCS:-48000}
case $build in /*) ;; *) build=$PWD/$build ;; esac
make -s -C "$top" O="$build" all "$build/bench/think/tree-time" >/dev/null
bin=$build/bin
tmp=$(mktemp -d "${TMPDIR:-/tmp}/rk-process.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

awk -v docs="$docs" -f "$top/bench/check/corpus.awk" >"$tmp/corpus.jsonl"
"$bin/rk-search" -i "$tmp/idx" add "$tmp/corpus.jsonl" </dev/null 2>/dev/null
set -- "rarada keve movo weca" "bexaca zica" "Soku gufa cepa" \
    "vapa caga vama fixi rana" "ta fe"
echo "index: $("$bin/rk-search" -i "$tmp/idx" stats </dev/null |
    sed 's/.*"chunks":\([0-9]*\).*/\1/') chunks; $runs runs of each of $# queries"

peer=
if make -s -C "$top" O="$build" "$build/bench/retrieval/xapian-bench" \
    >/dev/null 2>&1; then
	peer=$build/bench/retrieval/xapian-bench
	sed 's/^{"_id":"\([^"]*\)","text":"\(.*\)"}$/\1	\2/' \
	    "$tmp/corpus.jsonl" >"$tmp/corpus.tsv"
	"$peer" index "$tmp/xdb" "$tmp/corpus.tsv"
fi
: >"$tmp/true"; : >"$tmp/version"; : >"$tmp/times"; : >"$tmp/peer"
i=0
while [ "$i" -lt "$runs" ]; do
	"$build/bench/think/tree-time" /bin/true >>"$tmp/true"
	"$build/bench/think/tree-time" "$bin/rk-search" --version \
	    >>"$tmp/version"
	for q; do
		"$build/bench/think/tree-time" "$bin/rk-search" -i "$tmp/idx" \
		    -k 10 "$q" </dev/null >>"$tmp/times"
		[ -z "$peer" ] || "$build/bench/think/tree-time" "$peer" one \
		    "$tmp/xdb" "$q" </dev/null >>"$tmp/peer"
	done
	i=$((i + 1))
done
# p50 min max of column $1 of the times in file $2, in ms
stats() {
	cut -d' ' -f"$1" "$2" | sort -n | awk '{ v[NR] = $1 } END {
	    printf "p50 %.2f ms  min %.2f  max %.2f", v[int((NR + 1) / 2)] / 1000,
	    v[1] / 1000, v[NR] / 1000 }'
}
echo "rk-search wall $(stats 1 "$tmp/times"), cpu $(stats 2 "$tmp/times")"
[ -z "$peer" ] ||
    echo "xapian    wall $(stats 1 "$tmp/peer"), cpu $(stats 2 "$tmp/peer")"
echo "floor: /bin/true wall $(stats 1 "$tmp/true"), cpu $(stats 2 "$tmp/true")"
echo "floor: rk-search --version wall $(stats 1 "$tmp/version"), cpu" \
    "$(stats 2 "$tmp/version")"

if command -v valgrind >/dev/null; then
	for q; do
		valgrind -q --tool=callgrind --callgrind-out-file="$tmp/cg" \
		    "$bin/rk-search" -i "$tmp/idx" -k 10 "$q" </dev/null >/dev/null
		sed -n 's/^summary: //p' "$tmp/cg"
	done | sort -n | awk '{ v[NR] = $1 } END {
	    printf "instructions p50 %d  min %d  max %d\n", v[int((NR + 1) / 2)],
	    v[1], v[NR] }'
fi
