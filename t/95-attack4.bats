#!/usr/bin/env bats
# Attacks on this session's changes: the int8 scan, the index's rollback
# journal, and damaged rows near those the index fuzzer found.

load helper
load vectors

local_setup() {
	export RK_EMBED_PROVIDER=mock
}

# sql FILE STATEMENT: run one statement on a copy made by the test
sql() {
	python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute(sys.argv[2])
c.commit()' "$1" "$2"
}

@test "rk-search: a hit whose document row is gone is a damaged index" {
	three_docs
	sql idx "DELETE FROM docs WHERE name = 'docs/b'"
	for opt in "" --by-doc --vector --hybrid; do
		run rk-search -i idx $opt apple
		assert_status 5
		assert_output "rk-search: idx: index damaged: chunk 2 or its\
 document or text is missing"
	done
	# the text of a hit is read only with it
	sql idx "DELETE FROM text WHERE id = 2"
	run rk-search -i idx -f trec apple
	assert_status 5
	assert_output "rk-search: idx: index damaged: chunk 2 or its\
 document or text is missing"
}

@test "rk-search: --hybrid --by-doc on a chunk gone from under its words" {
	three_docs
	# the words stay in the full-text index
	sql idx "DELETE FROM chunks WHERE id = 2"
	run rk-search -i idx --hybrid --by-doc apple
	assert_status 5
	assert_output "rk-search: $TMP/idx: index damaged: chunk 2 is missing"
}
