#!/bin/sh
# bench/trace/run.sh [BUILD_DIR] - what storing a record costs rk-trace.
#
# Feeds N copies of the balanced-profile fixture (each with its own id) to
#   cat                          the pipe alone
#   rk-trace --no-store          read and write the records, store nothing
#   rk-trace -d DB               store each record (synchronous=NORMAL, WAL)
#   RK_TRACE_SYNC=full rk-trace  store each record and sync the WAL
# R times each, interleaved, and prints the median wall time of each and the
# store cost per record: (median store - median -n) / N.  That includes
# opening the database and the checkpoint at exit, spread over N records.
#
# Then, when BUILD_DIR/bench/trace-store is built (make bench-trace builds
# it), the in-process cost of each rk_store_put() call, against rk_write()
# of the same record and against a bare write + fsync (the floor for a
# store that survives a power loss), median and 90th percentile over N
# calls, in both sync modes.  These are the numbers to hold against the
# budget of 1 ms per record.
#
# Then one record per process, M times (default 21), as a think pipeline
# stores one run: cat, rk-trace --no-store and rk-trace storing into a database
# that exists.
#
# Environment: N records per run (default 500), R runs (default 5).

set -eu

build=${1:-build}
N=${N:-500}
R=${R:-5}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
case $build in /*) ;; *) build=$root/$build ;; esac
trace=$build/bin/rk-trace
[ -x "$trace" ] || { echo "bench/trace: no $trace; run make first" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rk-bench-trace.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# N records as rk-prompt and rk-llm write them, each with its own id
cp "$root/t/fixtures/trace/balanced.ndjson" "$tmp/one"
awk -v n="$N" '{ at = index($0, "\"id\":\"") + 6
	for (i = 0; i < n; i++)
		printf "%s%s%06d%s\n", substr($0, 1, at - 1), "01M7W4N5E05Q2W7N9R",
		    i, substr($0, at + 24) }' "$tmp/one" >"$tmp/in"

now_ns() { date +%s%N; }

# run NAME COMMAND...: append its wall time in ms to $tmp/NAME
run() {
	name=$1
	shift
	t0=$(now_ns)
	"$@" <"$tmp/in" >/dev/null
	t1=$(now_ns)
	echo "$(( (t1 - t0) / 1000 ))" | awk '{ printf "%.3f\n", $1 / 1000 }' \
	    >>"$tmp/$name"
}

fresh() { rm -f "$tmp/db" "$tmp/db-wal" "$tmp/db-shm"; }

r=0
while [ "$r" -lt "$R" ]; do
	run cat cat
	run pass "$trace" --no-store
	fresh
	run normal "$trace" -d "$tmp/db"
	fresh
	run full env RK_TRACE_SYNC=full "$trace" -d "$tmp/db"
	r=$((r + 1))
done
stored=$(sqlite3 "$tmp/db" 'SELECT count(*) FROM runs' 2>/dev/null || echo "?")

median() { sort -n "$tmp/$1" | awk '{ v[NR] = $1 } END {
	print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

mc=$(median cat) mp=$(median pass) mn=$(median normal) mf=$(median full)
printf 'rk-trace store cost: %d records of %d bytes, median of %d runs\n' \
    "$N" "$(wc -c <"$tmp/one")" "$R"
[ -r /proc/loadavg ] &&
    echo "  (load average at the end: $(cut -d' ' -f1-3 /proc/loadavg))"
awk -v n="$N" -v c="$mc" -v p="$mp" -v s="$mn" -v f="$mf" -v k="$stored" 'BEGIN {
	printf "  %-34s %9.2f ms\n", "cat", c
	printf "  %-34s %9.2f ms  %6.2fx cat\n", "rk-trace --no-store", p, p / c
	printf "  %-34s %9.2f ms  %6.2fx --no-store\n", "rk-trace (synchronous=NORMAL)", s, s / p
	printf "  %-34s %9.2f ms  %6.2fx --no-store\n", "rk-trace (RK_TRACE_SYNC=full)", f, f / p
	printf "  per record, pass-through:  %8.4f ms\n", p / n
	printf "  per record, store NORMAL:  %8.4f ms (budget 1 ms)\n", (s - p) / n
	printf "  per record, store FULL:    %8.4f ms\n", (f - p) / n
	printf "  rows in the last database: %s of %d\n", k, n
}'

# one record per process, as rk think stores a run: M processes each
M=${M:-21}
one() {
	name=$1
	shift
	: >"$tmp/$name"
	i=0
	while [ "$i" -lt "$M" ]; do
		t0=$(now_ns)
		"$@" <"$tmp/one" >/dev/null
		t1=$(now_ns)
		echo "$(( (t1 - t0) / 1000 ))" |
		    awk '{ printf "%.3f\n", $1 / 1000 }' >>"$tmp/$name"
		i=$((i + 1))
	done
}
fresh
"$trace" -d "$tmp/db" <"$tmp/one" >/dev/null
one cat1 cat
one pass1 "$trace" --no-store
one store1 "$trace" -d "$tmp/db"
printf 'one record per process, median of %d:\n' "$M"
awk -v c="$(median cat1)" -v p="$(median pass1)" -v s="$(median store1)" \
    'BEGIN {
	printf "  %-34s %9.2f ms\n", "cat", c
	printf "  %-34s %9.2f ms  %6.2fx cat\n", "rk-trace --no-store", p, p / c
	printf "  %-34s %9.2f ms  %6.2fx cat\n", "rk-trace (store)", s, s / c
}'

micro=$build/bench/trace-store
if [ -x "$micro" ]; then
	for mode in normal full; do
		fresh
		printf 'in process, RK_TRACE_SYNC=%s:\n' "$mode"
		RK_TRACE_SYNC=$mode "$micro" \
		    "$root/t/fixtures/trace/balanced.ndjson" "$tmp/db" "$N"
	done
else
	echo "(no $micro: make bench-trace builds it)"
fi
