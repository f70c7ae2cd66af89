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
	# (each embedder has every text before either gives a vector, unless
	# the other embed has ended)
	cat >"$TMP/bin/rk-embed" <<-EOF
	#!/bin/sh
	cat >"$TMP/texts.\$\$"
	: >"$TMP/ready.\$\$"
	i=0	# at most 30 s: a test that fails, never one that hangs
	while [ \$(ls "$TMP" | grep -c '^ready\.') -lt 2 ] &&
	    ! ls "$TMP" | grep -q '^rc' && [ \$((i += 1)) -le 600 ]; do
		sleep 0.05
	done
	exec "$FIXTURES/search/stand-in-embed" "\$@" <"$TMP/texts.\$\$"
	EOF
	corpus 30
	rk-search -q -i idx add docs
	sh -c 'rk-search -q -i idx -m toy embed; echo $? >rc1' &
	sh -c 'rk-search -q -i idx -m toy embed; echo $? >rc2' &
	wait
	run cat rc1 rc2
	assert_output "0
0"
	run sh -c 'rk-search -i idx stats | jq -c "[.vectors, .missing]"'
	assert_output "[30,0]"
}

@test "rk-search embed: a chunk changed by add meanwhile is left missing" {
	# the new chunk took the id of the one it replaced (the last rowid is
	# reused) and got the vector of the old text: never embedded again
	# (the embedder has every text before the add, which it waits for)
	cat >"$TMP/bin/rk-embed" <<-EOF
	#!/bin/sh
	cat >"$TMP/texts"
	: >"$TMP/sent"
	i=0
	while [ ! -e "$TMP/added" ] && [ \$((i += 1)) -le 600 ]; do
		sleep 0.05
	done
	exec "$FIXTURES/search/stand-in-embed" "\$@" <"$TMP/texts"
	EOF
	mkdir docs
	echo 'apple river' >docs/a.txt
	echo 'stone cloud' >docs/b.txt
	rk-search -q -i idx add docs/a.txt docs/b.txt
	rk-search -i idx -m toy embed 2>err &
	i=0	# at most 30 s, as the embedder's wait
	while [ ! -e "$TMP/sent" ] && [ $((i += 1)) -le 600 ]; do
		sleep 0.05
	done
	echo 'zebra quartz' >docs/b.txt
	run rk-search -q -i idx add docs/b.txt
	: >"$TMP/added"		# a failed add too: the embedder would wait
	wait
	assert_status 0
	# the vector it did not store is not counted as embedded
	run cat err
	assert_output "rk-search: 1 chunk embedded, 1 with vectors (toy, 16 dimensions)"
	run sh -c 'rk-search -i idx stats | jq -c "[.vectors, .missing]"'
	assert_output "[1,1]"
	cp "$FIXTURES/search/stand-in-embed" "$TMP/bin/rk-embed"
	rk-search -q -i idx embed
	run sh -c 'rk-search -i idx --vector -k 1 zebra quartz | jq -c .doc'
	assert_output '"docs/b.txt"'
}

# --- rk-search: FTS5 segments edited by hand ----------------------------

@test "rk-search: a segment's last page 2^31-1: no page read past it" {
	# the reader's page number after the last wrapped round to -2^31
	# (undefined behaviour) and it read the page there, outside the
	# segment: a posting of d2, which has no zebra, became a hit
	mkdir docs
	echo 'zebra apple' >docs/d1.txt
	echo 'apple river' >docs/d2.txt
	rk-search -q -i idx add docs
	python3 - <<-'PY'
	import sqlite3
	db = sqlite3.connect("idx")
	s = db.execute("SELECT block FROM fts_data WHERE id = 10").fetchone()[0]
	assert s[4:] == bytes.fromhex("0101010001010101")
	page = db.execute("SELECT block FROM fts_data WHERE id = ?",
	    ((1 << 37) + 1,)).fetchone()[0]
	# one segment, id 1, pages 2^31-1 to 2^31-1
	last = bytes.fromhex("87ffffff7f")
	db.execute("UPDATE fts_data SET block = ? WHERE id = 10",
	    (s[:4] + bytes.fromhex("010101000101") + last + last,))
	db.execute("INSERT INTO fts_data VALUES (?, ?)",
	    ((1 << 37) + 0x7fffffff, page))
	# at page -2^31: rowid 2, one position
	db.execute("INSERT INTO fts_data VALUES (?, ?)",
	    ((1 << 37) - (1 << 31), bytes.fromhex("0004000702020207")))
	db.commit()
	PY
	# FTS5 itself reads page 2^31 (after the last) and does not find it
	run rk-search -i idx -f ndjson zebra
	assert_status 5
	assert_output "rk-search: idx: search: no such rowid: 135291469825"
}

# --- rk-embed: a damaged cache ------------------------------------------

@test "rk-embed: a cached vector not finite or not of --dimensions is a miss" {
	# printed as it was: [nan,1,0,-nan] (not JSON), then [1,1,0], exit 0
	rm "$TMP/bin/rk-embed"		# the real one, not the stand-in
	start_fake
	: >"$TMP/fake.log"
	em() {
		echo alpha | RK_PROVIDER=openai RK_BASE_URL=$URL rk-embed \
		    -m fake/ok --cache c.db --dimensions 4
	}
	em >want
	for blob in 0000c07f0000803f00000000ffffffff \
	    0000807f0000803f0000000000000000 0000803f0000803f00000000; do
		python3 -c 'import sqlite3, sys
db = sqlite3.connect("c.db")
db.execute("UPDATE responses SET reply = ?", (bytes.fromhex(sys.argv[1]),))
db.commit()' "$blob"
		run em
		assert_status 0
		assert_output "$(cat want)"
	done
	run wc -l <fake.log
	assert_output 4
}

# --- rk-search: a query on the command line -----------------------------

@test "rk-search: vectors' settings edited by hand are damage, not no vectors" {
	# embed_dim was read by strtoul: "abc" as no vectors yet, "-1" as
	# 2^64 - 1 dimensions
	embedded 5 8
	for v in abc -1 99999999999999999999 16385; do
		sqlite3 idx "UPDATE meta SET value = '$v' WHERE key = 'embed_dim'"
		run rk-search -i idx --vector apple
		assert_status 5
		assert_output "rk-search: $PWD/idx: index damaged: embed_dim is $v"
		run rk-search -i idx stats
		assert_status 5
	done
	sqlite3 idx "DELETE FROM meta WHERE key = 'embed_dim'"
	run rk-search -i idx -m toy embed
	assert_status 5
	assert_output "rk-search: $PWD/idx: index damaged: a model without dimensions, or dimensions without one"
}

@test "rk-search: a query not UTF-8 on the command line is refused, as on stdin" {
	# BM25 found nothing (exit 0), -r wrote a record without its query
	# (exit 0), --vector blamed rk-embed (exit 7)
	embedded 5 16
	for m in "" -r --vector --hybrid; do
		run rk-search -i idx $m "$(printf 'river \377')"
		assert_status 3
		assert_output "rk-search: query: invalid UTF-8"
	done
}

# --- TREC runs: fields split at blanks ------------------------------------

@test "rk-search -f trec: a name or query id with blanks is said, not a broken line" {
	# "1 Q0 docs/my notes.txt 2 ..." has seven fields, and a name with a
	# newline made two lines; both exit 0
	mkdir docs
	echo 'apple pie' >'docs/my notes.txt'
	echo 'apple tart' >docs/plain.txt
	rk-search -q -i idx add docs
	run sh -c 'rk-search -i idx -f trec apple 2>err'
	assert_status 3
	assert_output "1 Q0 docs/plain.txt 2 0.0000 rk-search"
	run cat err
	assert_output "rk-search: docs/my notes.txt: a document name empty or with blanks is no TREC field"
	run sh -c "printf 'q 1\\tapple\\n\\tapple\\nq2\\ttart\\n' |
	    rk-search -i idx -f trec 2>err"
	assert_status 3
	assert_output "q2 Q0 docs/plain.txt 1 0.0000 rk-search"
	run cat err
	assert_output "rk-search: q 1: a query id empty or with blanks is no TREC field
rk-search: : a query id empty or with blanks is no TREC field"
}

@test "rk-fuse: a TREC line has six fields of any length; blanks are not written" {
	# a seventh field went unseen (doc "docs/my"), a name over 255 bytes
	# was split in two (its tail read as the rank, the rank as the score)
	long=$(printf 'd%.0s' $(seq 300))
	printf '1 Q0 docs/my notes.txt 2 0.5 t\nq Q0 %s 1 0.25 t\n' "$long" >run
	run sh -c 'rk-fuse -f trec run 2>err'
	assert_status 3
	assert_output "q Q0 $long 1 0.016393 rk-fuse"
	run cat err
	assert_output "rk-fuse: run:1: not a TREC run line or a JSON hit"
	printf '%s\n' '{"doc":"a b","score":1}' '{"doc":"c","score":0.5}' \
	    '{"doc":"c","score":0.5,"qid":"x y"}' >hits
	run sh -c 'rk-fuse -f trec hits 2>err'
	assert_status 3
	assert_output "1 Q0 c 2 0.016129 rk-fuse"
	run cat err
	assert_output "rk-fuse: a b: a document name empty or with blanks is no TREC field
rk-fuse: x y: a query id empty or with blanks is no TREC field"
}
