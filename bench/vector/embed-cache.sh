#!/bin/sh
# The cost of an embedding cache hit (issue 13: under 0.5 ms).  The fake
# server (t/fakellm.c, scenario embed-dense: vectors with no zeros, as real
# models give) fills a fresh cache with N texts of DIM dimensions; then
# rk-embed answers them all from the cache in one process, and one of them
# in a process of its own, each ROUNDS times.  The server's log shows that
# the hits sent nothing.  CPU time (task-clock, user + system) is what is
# reported: it holds on a loaded machine, where wall time does not.
#   sh bench/vector/embed-cache.sh [BUILD]       (BUILD defaults to build)
#   N=2000 DIM=768 ROUNDS=5 sh bench/vector/embed-cache.sh
set -e
O=${1:-build}
N=${N:-2000}
DIM=${DIM:-768}
ROUNDS=${ROUNDS:-5}
B=$O/bin
tmp=$(mktemp -d)
"$O/libexec/rk-fakellm" -l "$tmp/fake.log" >"$tmp/port" &
fake=$!
trap 'kill $fake; rm -rf "$tmp"' EXIT
until [ -s "$tmp/port" ]; do sleep 0.01; done
export RK_PROVIDER=openai-compatible
export RK_BASE_URL="http://127.0.0.1:$(sed -n 1p "$tmp/port")/v1"
export XDG_CACHE_HOME="$tmp/xdg"
embed() {
	"$B/rk-embed" -m fake/embed-dense --dimensions "$DIM" --cache "$tmp/c.db" "$@"
}
# cpu_ms FILE: the CPU milliseconds of one rk-embed over FILE
cpu_ms() {
	perf stat -x, -e task-clock -o "$tmp/stat" "$B/rk-embed" \
	    -m fake/embed-dense --dimensions "$DIM" --cache "$tmp/c.db" \
	    <"$1" >"$tmp/out"
	sed -n 's/^\([0-9.]*\),msec,task-clock.*/\1/p' "$tmp/stat"
}
# median of the numbers on stdin
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

awk -v n="$N" 'BEGIN { for (i = 1; i <= n; i++)
	printf "passage %d on topic %d, theme %d and case %d\n", i, i % 37,
	    i % 11, i % 101 }' >"$tmp/texts"
head -n 1 "$tmp/texts" >"$tmp/one"
embed --batch 100 -P 4 <"$tmp/texts" >/dev/null
fill=$(wc -l <"$tmp/fake.log")
for r in $(seq "$ROUNDS"); do cpu_ms "$tmp/texts"; done | median >"$tmp/all"
for r in $(seq "$ROUNDS"); do cpu_ms "$tmp/one"; done | median >"$tmp/single"
[ "$(wc -l <"$tmp/out")" -eq 1 ]
hits=$(($(wc -l <"$tmp/fake.log") - fill))
echo "# $(date -u +%FT%TZ) $(uname -m), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# N=$N DIM=$DIM ROUNDS=$ROUNDS; $fill requests to fill, $hits after"
awk -v n="$N" -v all="$(cat "$tmp/all")" -v one="$(cat "$tmp/single")" 'BEGIN {
	printf "one process, %d hits:  %8.2f ms CPU, %.4f ms a hit\n", n, all, (all - one) / (n - 1)
	printf "one process, 1 hit:    %8.2f ms CPU (start-up, cache open, lookup, output)\n", one
}'
[ "$hits" -eq 0 ]
