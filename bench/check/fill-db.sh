#!/bin/sh
# fill-db.sh RK-TRACE DB N RECORD: store N runs in the trace database DB
# with one rk-trace process, copies of the record in the file RECORD each
# with its own id, so a benchmark writes into a store that has a history,
# as a month of cron jobs leaves one, never into a fresh one.
set -eu
awk -v n="$3" '{ at = index($0, "\"id\":\"") + 6
	for (i = 0; i < n; i++)
		printf "%s%s%07d%s\n", substr($0, 1, at - 1), "01M7W4N5E05Q2W7N9",
		    i, substr($0, at + 24); exit }' "$4" | "$1" -d "$2" >/dev/null
