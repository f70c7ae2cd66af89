#!/usr/bin/env bats
# Attacks on retrieval: indexes edited by hand (the FTS5 segments read
# directly, the vectors' settings), embeds racing each other.

load helper
load vectors

local_setup() {
	on_path
	stand_in
}

# --- rk-search embed: concurrency ---------------------------------------

@test "rk-search embed: two at once on one index both finish, none lost" {
	# each left its statement of texts on a row, a read lock: the first
	# to commit waited for the other's lock, the other for its own
	# commit, until one gave up, "database is locked" (exit 5)
	cat >"$TMP/bin/rk-embed" <<-EOF
	#!/bin/sh
	sleep 1
	exec "$FIXTURES/search/stand-in-embed" "\$@"
	EOF
	corpus 30
	rk-search -q -i idx add docs
	sh -c 'rk-search -q -i idx -m toy embed; echo $? >rc1' &
	sleep 0.3
	sh -c 'rk-search -q -i idx -m toy embed; echo $? >rc2'
	wait
	run cat rc1 rc2
	assert_output "0
0"
	run sh -c 'rk-search -i idx stats | jq -c "[.vectors, .missing]"'
	assert_output "[30,0]"
}
