#!/bin/sh
# Speed of rk-search against SQLite's bm25() and Xapian, in one run:
# indexing throughput and query latency at 1K, 5K and 100K documents.
#
#   sh bench/retrieval/speed.sh [BUILD_DIR]      (make bench-retrieval)
#
# The corpora are made from SciFact under a temporary directory (see
# mkcorpus.py) and removed afterwards.  Query times are in-process engine
# times over SciFact's 300 test queries, top 10, ROUNDS passes after one
# warm-up pass.  Keep it short: the machine is shared.
set -eu
O=${1:-build}
BIN=$O/bin
B=$O/bench/retrieval
SCIFACT=${SCIFACT:-$(dirname "$0")/../../../shared/eval/data/scifact}
ROUNDS=${ROUNDS:-3}
SIZES=${SIZES:-c1k c5k c100k}
[ -f "$SCIFACT/corpus.jsonl" ] || { echo "no SciFact at $SCIFACT" >&2; exit 1; }
W=$(mktemp -d "${TMPDIR:-/tmp}/rk-speed.XXXXXX")
trap 'rm -rf "$W"' EXIT INT TERM
python3 "$(dirname "$0")/mkcorpus.py" "$SCIFACT" "$W"

now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" \
    'BEGIN { printf "%8.0f docs/s  (%.2f s)", n / (b - a), b - a }'; }

for c in $SIZES; do
	n=$(wc -l <"$W/$c.jsonl")
	echo "== $c: $n documents"
	t0=$(now); "$BIN/rk-search" -i "$W/$c.db" add "$W/$c.jsonl"; t1=$(now)
	echo "index  rk-search   $(rate "$n" "$t0" "$t1")"
	t0=$(now); "$B/xapian-bench" index "$W/$c.xap" "$W/$c.tsv"; t1=$(now)
	echo "index  xapian      $(rate "$n" "$t0" "$t1")"
	"$B/rk-search-speed" "$W/$c.db" "$W/queries.tsv" "$ROUNDS"
	"$B/xapian-bench" query "$W/$c.xap" "$W/queries.tsv" "$ROUNDS"
	echo "size   rk-search $(du -k "$W/$c.db" | cut -f1) KB, xapian $(du -sk "$W/$c.xap" | cut -f1) KB"
done
