#!/bin/bash
# bench/trace/grow.sh [BUILD_DIR] - does a trace write slow down as the
# database and its WAL grow?  (issue 14: after 1,000 runs a write took a
# median 56 ms against 5 ms at the start.)
#
# Three databases: one that holds SIZES runs each (default 10000 and
# 100000, made in one process and one transaction by the rk-trace-sql
# helper, then checkpointed), and a fresh one made anew for every write.
# W times (default 1000), interleaved, one new run is stored in each, one
# rk-trace process per run as rk think stores a run.  Printed per
# database: the median write time with its min-max over the first 100 and
# the last 100 writes, and the size of the WAL at the end.  The timer is
# bash's $EPOCHREALTIME: no process is started inside the interval but the
# measured one.
#
# Environment: W writes per database, SIZES the sizes of the grown ones,
# TRACES the builds to compare, interleaved, each with its own databases:
# LABEL=PATH ... (default: rk-trace=BUILD_DIR/bin/rk-trace).

set -eu

build=${1:-build}
W=${W:-1000}
SIZES=${SIZES:-10000 100000}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
case $build in /*) ;; *) build=$root/$build ;; esac
TRACES=${TRACES:-rk-trace=$build/bin/rk-trace}
sql=$build/libexec/rk-trace-sql
for t in $TRACES; do
	[ -x "${t#*=}" ] || { echo "bench/trace: no ${t#*=}" >&2; exit 2; }
done
[ -x "$sql" ] || { echo "bench/trace: no $sql; run make first" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rk-bench-grow.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
seed=01M7W4N5E05Q2W7N9R1T6Y0VAB
rec=$root/t/fixtures/trace/balanced.ndjson

# grow TRACE DB N: the seed run and N - 1 copies of it under other ids
grow() {
	trace=$1
	shift
	"$trace" -d "$1" <"$rec" >/dev/null
	"$sql" "$1" "BEGIN;
	    CREATE TEMP TABLE copy AS WITH RECURSIVE n(i) AS (SELECT 1
	      UNION ALL SELECT i + 1 FROM n WHERE i < $2 - 1)
	      SELECT r.*, n.i AS i FROM runs r, n WHERE r.id = '$seed';
	    UPDATE copy SET id = printf('01M7W4N5E0%016d', i);
	    UPDATE copy SET record = replace(record, '$seed', id);
	    ALTER TABLE copy DROP COLUMN i;
	    INSERT INTO runs SELECT * FROM copy;
	    COMMIT;" >/dev/null
	# schema 2 and later: the copies are searched as the seed is
	"$sql" "$1" "INSERT INTO runs_text (rowid, text) SELECT r.rowid, t.text
	    FROM runs r, runs_text t WHERE r.id != '$seed' AND t.rowid =
	    (SELECT rowid FROM runs WHERE id = '$seed')" 2>/dev/null || true
	"$sql" "$1" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
}

# the W records to write, each with its own id
awk -v n="$W" -v seed="$seed" '{ at = index($0, seed)
	for (i = 0; i < n; i++) {
		f = sprintf("%s/w%d", dir, i)
		printf "%s%s%08d%s\n", substr($0, 1, at - 1),
		    "01M7W4N5E05Q2W7N", i, substr($0, at + 24) >f
		close(f)
	} }' dir="$tmp" "$rec"

names=
t0=$EPOCHREALTIME
for t in $TRACES; do
	names="$names ${t%%=*}:fresh"
	for s in $SIZES; do
		grow "${t#*=}" "$tmp/${t%%=*}:db$s" "$s"
		names="$names ${t%%=*}:db$s"
	done
done
t1=$EPOCHREALTIME
echo "grown $SIZES in $(awk -v a="$t0" -v b="$t1" \
    'BEGIN { printf "%.1f", b - a }') s"

i=0
while [ "$i" -lt "$W" ]; do
	for n in $names; do
		case $n in *:fresh) rm -f "$tmp/$n" "$tmp/$n-wal" "$tmp/$n-shm" ;; esac
		for t in $TRACES; do
			[ "${t%%=*}" = "${n%%:*}" ] && trace=${t#*=}
		done
		a=$EPOCHREALTIME
		"$trace" -d "$tmp/$n" <"$tmp/w$i" >/dev/null
		b=$EPOCHREALTIME
		echo "$a $b" >>"$tmp/t.$n"
	done
	i=$((i + 1))
done

# stats FILE FROM TO: median (min-max) in ms of lines FROM..TO
stats() {
	sed -n "$2,$3p" "$1" | awk '{ print ($2 - $1) * 1000 }' | sort -n |
	    awk '{ v[NR] = $1 } END {
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%6.2f ms (%.2f-%.2f)", m, v[1], v[NR] }'
}

printf 'trace write into a grown database, one rk-trace process per run, %d writes each\n' "$W"
[ -r /proc/loadavg ] && echo "  (load average at the end: $(cut -d' ' -f1-3 /proc/loadavg))"
first=$((W < 100 ? W : 100))
for n in $names; do
	wal=$(stat -c %s "$tmp/$n-wal" 2>/dev/null || echo 0)
	rows=$("$sql" "$tmp/$n" 'SELECT count(*) FROM runs')
	printf '  %-18s writes 1-%d %s  writes %d-%d %s  rows %s  WAL %d KB\n' \
	    "$n" "$first" "$(stats "$tmp/t.$n" 1 "$first")" \
	    $((W - first + 1)) "$W" "$(stats "$tmp/t.$n" $((W - first + 1)) "$W")" \
	    "$rows" $((wal / 1024))
done
