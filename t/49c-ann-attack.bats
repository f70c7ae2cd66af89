#!/usr/bin/env bats
# The ANN graph and vector queries under attack: a graph without links,
# a read-only index, blank queries, -P beyond rk-embed's limit, and the
# cost of marking the graph stale.

load helper
load vectors

local_setup() {
	on_path
	stand_in
}

@test "ann: a graph whose nodes have no links is damaged, not one hit" {
	embedded 50 16
	rk-search -q -i idx ann
	# every node's count of links on layer 0 set to 0
	python3 - <<-'PY'
	import sqlite3, struct
	db = sqlite3.connect("idx")
	g = bytearray(db.execute("SELECT graph FROM ann").fetchone()[0])
	m, n = struct.unpack_from("<IQ", g, 12)
	l0 = 48 + 8 * n + ((n + 7) & ~7)
	for i in range(n):
	    struct.pack_into("<I", g, l0 + 4 * i * (1 + 2 * m), 0)
	db.execute("UPDATE ann SET graph = ?", (bytes(g),))
	db.commit()
	PY
	run rk-search -i idx -k 3 --vector river stone
	assert_status 5
	assert_match "index damaged: ann graph: damaged: a node without links"
}

@test "ann: on a read-only index, says it cannot write, not that it changed" {
	embedded 20 16
	rk-search -q -i idx ann
	# as root, as nobody, who may not write the index (and runs a copy of
	# rk-search: the build directory may be where nobody may not go)
	mkdir ro
	cp "$(command -v rk-search)" ro/rk-search
	chmod 777 "$TMP"
	chmod 755 "$TMP/bin" ro
	chmod 444 idx
	as=
	[ "$(id -u)" -ne 0 ] || as="setpriv --reuid=65534 --regid=65534 --clear-groups"
	$as "$TMP/ro/rk-search" -i idx --vector river >/dev/null
	run $as "$TMP/ro/rk-search" -i idx ann
	assert_status 5
	assert_output "rk-search: $TMP/idx: read-only: cannot store the graph"
}

@test "--vector, --hybrid: an empty query is no query, as on stdin" {
	embedded 20 16
	printf '\n \n' | rk-search -i idx --vector >stdin.out
	[ ! -s stdin.out ]
	run rk-search -i idx --vector ''
	assert_status 0
	assert_output ""
	run rk-search -i idx --hybrid ' '
	assert_status 0
	assert_output ""
}

@test "rk-search -P: refused as rk-embed would refuse it, by rk-search" {
	corpus 3
	rk-search -q -i idx add docs
	run rk-search -i idx -m toy -P 11 embed
	assert_status 2
	assert_output "rk-search: -P: not a number from 1 to 10: '11'"
	RK_MAX_CONCURRENCY=20 run rk-search -i idx -m toy -P 11 embed
	assert_status 0
}

@test "ann: changes to many vectors rewrite the graph's row once, not once each" {
	corpus 40
	rk-search -q -i idx add docs
	rk-search -q -i idx -m toy --dimensions 16 embed
	rk-search -q -i idx ann
	# count the writes of the graph's row
	python3 - <<-'PY'
	import sqlite3
	db = sqlite3.connect("idx")
	db.executescript("CREATE TABLE w(n); CREATE TRIGGER w AFTER UPDATE ON "
	    "ann BEGIN INSERT INTO w VALUES (1); END;")
	PY
	rm docs/d00[1-9].txt
	rk-search -q -i idx add docs
	run rk-search -i idx stats
	assert_match '"ann":"stale"'
	run python3 -c 'import sqlite3; print(sqlite3.connect("idx").execute("SELECT count(*) FROM w").fetchone()[0])'
	assert_output "1"
}
