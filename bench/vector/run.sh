#!/bin/sh
# Vector search side by side: ours (exact float32, int8 scan + re-rank,
# HNSW graph), binary codes (recall only), faiss IndexFlatIP, hnswlib.  Single-threaded,
# one query at a time, engines interleaved per query.
#   sh bench/vector/run.sh [BUILD]     (BUILD defaults to build)
#   SIZES="10000" DISTS=random ROUNDS=1 sh bench/vector/run.sh   # shorter
#   BIG=1: also 1M vectors, every engine of BIG_ENGINES in one process
#   (about 10.5 GB), ROUNDS rounds; ann64 and hnsw64 only where their
#   graphs are in $RK_VBENCH_CACHE (an hour's build each: build them
#   first with ROUNDS 0, README).  SIZES= (empty): 1M only.
set -e
O=${1:-build}
B=$O/bench/vector/vector-bench
SIZES=${SIZES-10000 100000}
DISTS=${DISTS:-random clustered}
ROUNDS=${ROUNDS:-3}
ENGINES=${ENGINES:-exact,q20,q50,q100,q200,bin200,bin1000,faiss,ann64,ann256,hnsw64,hnsw256}
echo "# $(date -u +%FT%TZ) $(uname -m), $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(nproc) cores"
echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for n in $SIZES; do
	for d in $DISTS; do
		$B "$d" "$n" "$ENGINES" "$ROUNDS"
	done
done
if [ -n "$BIG" ]; then
	for d in $DISTS; do
		e=${BIG_ENGINES:-exact,q100,faiss}
		c=${RK_VBENCH_CACHE:-/nonexistent}/$d-1000000-seed42
		[ ! -f "$c-ann-M16-efc100.blob.meta" ] || e=$e,ann64
		[ ! -f "$c-hnswlib-M16-efc200-rs100.bin.meta" ] || e=$e,hnsw64
		$B "$d" 1000000 "$e" "$ROUNDS"
	done
fi
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
