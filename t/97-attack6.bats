#!/usr/bin/env bats
# Attacks on this session's changes: rk-fuse's sums near DBL_MAX, hits
# whose texts JSON cannot hold.

load helper

# SQLite on an index, as t/40-search.bats does: no sqlite3 needed
rk_sql() { "${RK_BUILD:-$BATS_TEST_DIRNAME/../build}/libexec/rk-trace-sql" "$@"; }

# --- rk-fuse: overflow --------------------------------------------------

@test "rk-fuse: sums and weights past DBL_MAX are held to a finite score" {
	printf '%s\n' '{"doc":"a","score":1e308}' '{"doc":"b","score":-1e308}' \
	    '{"doc":"c","score":0}' >l1
	cp l1 l2
	for w in 1,1 1e308,1e308; do
		for n in none zscore; do
			rk-fuse --method combmnz --norm $n -w $w l1 l2 |
			    jq -c '[.doc, .score]' | tr '\n' ' '
			echo
		done
	done >out
	run cat out
	assert_output '["a",1.79769313486231e+308] ["c",0] ["b",-1.79769313486231e+308] 
["a",4.898979] ["c",0] ["b",-4.898979] 
["a",1.79769313486231e+308] ["c",0] ["b",-1.79769313486231e+308] 
["a",1.79769313486231e+308] ["c",0] ["b",-1.79769313486231e+308] '
	# DBL_MAX printed in 15 digits is no number: what it prints reads again
	printf '{"doc":"m","score":1.7976931348623157e308}\n' >mx
	run sh -c 'rk-fuse --norm none --method combsum mx |
	    rk-fuse --norm none --method combsum'
	assert_status 0
	assert_output '{"doc":"m","score":1.79769313486231e308,"rank":1}'
}

# --- rk-search: hits JSON cannot hold -----------------------------------

@test "rk-search: a hit whose text is not UTF-8 says so, never drops its text" {
	printf 'owls good\n' >g.txt
	printf 'owls bad\n' >b.txt
	rk-search -q -i t.db add g.txt b.txt
	# only a hand-made or damaged index holds one: add refuses it
	rk_sql t.db "UPDATE text SET text = CAST(x'6f776c7320e974e9' AS TEXT)
	    WHERE id = (SELECT c.id FROM chunks c JOIN docs d ON d.id = c.doc
	    WHERE d.name = 'b.txt')"
	run sh -c "printf 'q1\towls\n' | rk-search -i t.db"
	assert_status 3
	assert_output '{"qid":"q1","doc":"g.txt","chunk":0,"score":0.0,"rank":1,"text":"owls good"}
{"qid":"q1","doc":"b.txt","chunk":0,"score":0.0,"rank":2,"error":{"stage":"rk-search","code":"bad-utf8","message":"text not UTF-8"}}'
	run sh -c "rk-search -i t.db -r owls | jq -c '[.context, .error.message]'"
	assert_output '[null,"a hit'"'"'s text not UTF-8"]'
	run rk-search -i t.db -r owls
	assert_status 3
}

# --- rk-attach: what is not a regular file ------------------------------

@test "rk-attach: a FIFO is refused at once, not waited on for a writer" {
	mkfifo ff
	mkdir dd
	# the timeout only stops a hang: it is never reached
	run sh -c 'echo q | timeout 10 rk-attach ff'
	assert_status 3
	assert_output "rk-attach: ff: not a regular file"
	run sh -c 'echo q | rk-attach dd'
	assert_status 3
	assert_output "rk-attach: dd: not a regular file"
	# a name not UTF-8 is refused before the file is opened
	run sh -c 'echo q | rk-attach "$(printf "f\351")"'
	assert_status 3
	assert_output "rk-attach: $(printf 'f\351'): name not UTF-8"
	run sh -c 'echo q | rk-attach ""'
	assert_status 5
	assert_output "rk-attach: : No such file or directory"
}

@test "rk-search: a hit over RK_MAX_RECORD keeps its qid and rank" {
	# a name that escapes to six bytes a byte: over the limit only escaped
	name=$(awk 'BEGIN { for (i = 0; i < 100; i++) printf "\\u0001" }')
	printf '{"id":"%s","text":"owls hunt"}\n{"id":"b","text":"owls"}\n' \
	    "$name" >d.jsonl
	rk-search -q -i t.db add d.jsonl
	# its line is 671 bytes and a newline: 672 is the least limit
	run sh -c "printf 'q1\towls\n' | RK_MAX_RECORD=671 rk-search -i t.db"
	assert_status 3
	assert_output '{"qid":"q1","doc":"b","chunk":0,"score":0.0,"rank":1,"text":"owls"}
rk-search: a record over the limit of 671 bytes
{"qid":"q1","rank":2,"error":{"stage":"rk-search","code":"too-long","message":"record is over the record limit of 671 bytes (RK_MAX_RECORD)"}}'
	run sh -c "printf 'q1\towls\n' | RK_MAX_RECORD=672 rk-search -i t.db |
	    jq -c '[.rank, (.doc | length)]'"
	assert_status 0
	assert_output '[1,1]
[2,100]'
}

@test "rk-fuse: a TREC line's tiny score is a number, as in JSON" {
	printf '1 Q0 a 1 5e-324 x\n1 Q0 b 2 1e-400 x\n1 Q0 c 3 -5e-324 x\n' >t
	printf '%s\n' '{"qid":"1","doc":"a","score":5e-324}' \
	    '{"qid":"1","doc":"b","score":1e-400}' \
	    '{"qid":"1","doc":"c","score":-5e-324}' >j
	for f in t j; do
		run rk-fuse --method combsum $f
		assert_status 0
		printf '%s\n' "$output" | jq -c '[.doc, .score]' | tr '\n' ' '
		echo
	done >out
	run cat out
	assert_output '["a",1] ["b",0.5] ["c",0] 
["a",1] ["b",0.5] ["c",0] '
	# an overflow is still refused where the score is read
	printf '1 Q0 a 1 1e400 x\n' >big
	run rk-fuse --method combsum -f trec big
	assert_status 3
	assert_output "rk-fuse: big:1: a hit's score is not a number"
}
