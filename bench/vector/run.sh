#!/bin/sh
# Vector search side by side: ours (exact float32, int8 scan + re-rank,
# HNSW graph), binary codes (recall only), faiss IndexFlatIP, hnswlib.  Single-threaded,
# one query at a time, engines interleaved per query.
#   sh bench/vector/run.sh [BUILD]     (BUILD defaults to build)
#   SIZES="10000" DISTS=random ROUNDS=1 sh bench/vector/run.sh   # shorter
#   BIG=1: also 1M vectors (ours, then faiss in a second process: 7 GB
#   would not be fair to share; recall through the ground-truth file)
set -e
O=${1:-build}
B=$O/bench/vector/vector-bench
SIZES=${SIZES:-10000 100000}
DISTS=${DISTS:-random clustered}
ROUNDS=${ROUNDS:-3}
ENGINES=${ENGINES:-exact,q20,q50,q100,q200,bin200,bin1000,faiss,ann64,ann256,hnsw64,hnsw256}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "# $(date -u +%FT%TZ) $(uname -m), $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(nproc) cores"
echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for n in $SIZES; do
	for d in $DISTS; do
		$B "$d" "$n" "$ENGINES" "$ROUNDS"
	done
done
if [ -n "$BIG" ]; then
	for d in $DISTS; do
		$B "$d" 1000000 exact,q100,q200 1 "$tmp/gt"
		$B "$d" 1000000 faiss 1 "$tmp/gt"
	done
fi
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
