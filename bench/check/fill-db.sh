#!/bin/sh
# fill-db.sh BUILD_DIR DB N: store N runs in the trace database DB with one
# rk-trace process: copies of the balanced-profile fixture, each with its
# own id, so a benchmark writes into a store that has a history, as a
# month of cron jobs leaves one, never into a fresh one.
set -eu
build=$1 db=$2 n=$3
root=$(cd "$(dirname "$0")/../.." && pwd)
awk -v n="$n" '{ at = index($0, "\"id\":\"") + 6
	for (i = 0; i < n; i++)
		printf "%s%s%07d%s\n", substr($0, 1, at - 1), "01M7W4N5E05Q2W7N9",
		    i, substr($0, at + 24) }' "$root/t/fixtures/trace/balanced.ndjson" |
    "$build/bin/rk-trace" -d "$db" >/dev/null
