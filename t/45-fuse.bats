#!/usr/bin/env bats
# rk-fuse: fusion arithmetic on hand-checked lists, ties, formats, records.

load helper

local_setup() {
	printf '%s\n' '{"doc":"a","score":3}' '{"doc":"b","score":2}' \
	    '{"doc":"c","score":1}' >one
	printf '%s\n' '{"doc":"b","score":10}' '{"doc":"d","score":5}' \
	    '{"doc":"a","score":5}' >two
}

@test "rk-fuse: --help and --version" {
	run rk-fuse --help
	assert_status 0
	assert_match '^usage: rk-fuse \[-f format\]'
	run rk-fuse --version
	assert_status 0
	assert_match '^rk-fuse [0-9]'
}

@test "rk-fuse: usage errors exit 2" {
	run rk-fuse --method borda one two
	assert_status 2
	assert_output "rk-fuse: --method: not rrf, combsum, combmnz or rbf: 'borda'"
	run rk-fuse --norm l2 one two
	assert_status 2
	run rk-fuse -w 1,x one two
	assert_status 2
	assert_output "rk-fuse: -w: not a weight >= 0: 'x'"
	run rk-fuse --method rbf --param 1.5 one two
	assert_status 2
	run rk-fuse -k 0 one two
	assert_status 2
	run rk-fuse -r one
	assert_status 2
}

@test "rk-fuse: man page examples" {
	run rk-fuse one two
	assert_status 0
	# b: 1/62 + 1/61, a: 1/61 + 1/63, d: 1/62, c: 1/63
	assert_output '{"doc":"b","score":0.032522,"rank":1}
{"doc":"a","score":0.032266,"rank":2}
{"doc":"d","score":0.016129,"rank":3}
{"doc":"c","score":0.015873,"rank":4}'
	run rk-fuse --method combmnz -f trec one two
	assert_status 0
	assert_output "1 Q0 b 1 3.000000 rk-fuse
1 Q0 a 2 2.000000 rk-fuse
1 Q0 d 3 0.000000 rk-fuse
1 Q0 c 4 0.000000 rk-fuse"
	cp -r "$FIXTURES/search/notes" .
	rk-search -i notes.db add notes
	run sh -c "echo 'Do dogs sleep much?' | rk-search -i notes.db -L |
	    rk-search -i notes.db -L --params k1=0.5,b=1 | rk-fuse -r -k 2 |
	    jq -c '[.context[].doc]'"
	assert_output '["notes/dogs.md","notes/cats.txt"]'
}

@test "rk-fuse: RRF with k and weights" {
	# k=0: b 1/2 + 1/1 = 1.5, a 1/1 + 1/3, d 1/2, c 1/3
	run rk-fuse --param 0 -f trec one two
	assert_output "1 Q0 b 1 1.500000 rk-fuse
1 Q0 a 2 1.333333 rk-fuse
1 Q0 d 3 0.500000 rk-fuse
1 Q0 c 4 0.333333 rk-fuse"
	# weights 2,1: a 2/61 + 1/63 beats b 2/62 + 1/61
	run sh -c "rk-fuse -w 2,1 one two | jq -c '[.doc, .score]'"
	assert_output '["a",0.04866]
["b",0.048652]
["c",0.031746]
["d",0.016129]'
	# weight 0 drops a list's contribution but keeps its documents
	run sh -c "rk-fuse -w 1,0 -k 2 one two | jq -r .doc"
	assert_output "a
b"
}

@test "rk-fuse: CombSUM with min-max and z-score" {
	# min-max: one a 1 b .5 c 0; two b 1 d 0 a 0
	run sh -c "rk-fuse --method combsum one two | jq -c '[.doc, .score]'"
	assert_output '["b",1.5]
["a",1]
["d",0]
["c",0]'
	# z-score: one (3,2,1) mean 2 sd .8165; two (10,5,5) mean 6.667 sd 2.357
	run sh -c "rk-fuse --method combsum --norm zscore one two | jq -c '[.doc, .score]'"
	assert_output '["b",1.414214]
["a",0.517638]
["d",-0.707107]
["c",-1.224745]'
	run sh -c "rk-fuse --method combsum --norm none one two | jq -c '[.doc, .score]'"
	assert_output '["b",12]
["a",8]
["d",5]
["c",1]'
}

@test "rk-fuse: CombMNZ ties break by best rank, then lists, then name" {
	printf '%s\n' '{"doc":"x","score":1}' '{"doc":"y","score":1}' >eq1
	printf '%s\n' '{"doc":"y","score":4}' '{"doc":"z","score":2}' \
	    '{"doc":"w","score":2}' >eq2
	# eq1 is flat: min-max gives 1 each.  eq2: y 1, z 0, w 0.
	# y: (1 + 1) * 2 = 4; x: 1; z, w: 0 (z ranks 2, w ranks 3)
	run sh -c "rk-fuse --method combmnz eq1 eq2 | jq -c '[.doc, .score, .rank]'"
	assert_output '["y",4,1]
["x",1,2]
["z",0,3]
["w",0,4]'
	# same score, same best rank, same lists: by name
	printf '%s\n' '{"doc":"q","score":1}' >s1
	printf '%s\n' '{"doc":"p","score":1}' >s2
	run sh -c "rk-fuse s1 s2 | jq -r .doc"
	assert_output "p
q"
	run sh -c "rk-fuse s2 s1 | jq -r .doc"
	assert_output "p
q"
}

@test "rk-fuse: rk-search's rounded scores: equal ones keep their lists' rank order" {
	# as rk-search prints a tiny index: every score rounds to 0.0000
	printf '%s\n' '{"doc":"z","chunk":0,"score":0.0}' \
	    '{"doc":"y","chunk":1,"score":0.0}' \
	    '{"doc":"x","chunk":0,"score":0.0}' >flat
	printf '%s\n' '{"doc":"x","chunk":0,"score":0.5}' \
	    '{"doc":"y","chunk":1,"score":0.0}' \
	    '{"doc":"z","chunk":0,"score":0.0}' >other
	# min-max: flat 1 each; other x 1, y 0, z 0.  z and y tie at 1 in
	# two lists each: z ranks first in flat, so first here (by name y
	# would), whichever file comes first
	run sh -c "rk-fuse --method combsum flat other | jq -c '[.doc, .chunk, .score, .rank]'"
	assert_output '["x",0,2,1]
["z",0,1,2]
["y",1,1,3]'
	run sh -c "rk-fuse --method combmnz other flat | jq -c '[.doc, .score]'"
	assert_output '["x",4]
["z",2]
["y",2]'
	# z-score: flat 0 each; other mean 1/6, sd 1/sqrt(18)
	run sh -c "rk-fuse --method combsum --norm zscore flat other | jq -c '[.doc, .score]'"
	assert_output '["x",1.414214]
["z",-0.707107]
["y",-0.707107]'
}

@test "rk-fuse: scores of any size normalise to finite values, never NaN" {
	# their range, sum or squares overflow, or 1 / range does
	printf '%s\n' '{"doc":"a","score":1e308}' '{"doc":"b","score":-1e308}' \
	    '{"doc":"c","score":0}' >big
	printf '%s\n' '{"doc":"a","score":1e308}' '{"doc":"b","score":1e308}' >same
	printf '%s\n' '{"doc":"a","score":5e-324}' '{"doc":"b","score":0}' >tiny
	for f in big same tiny; do
		rk-fuse --method combsum $f | jq -c '[.doc, .score]'
		rk-fuse --method combsum --norm zscore $f | jq -c '[.doc, .score]'
	done >out
	run cat out
	assert_output '["a",1]
["c",0.5]
["b",0]
["a",1.224745]
["c",0]
["b",-1.224745]
["a",1]
["b",1]
["a",0]
["b",0]
["a",1]
["b",0]
["a",1]
["b",-1]'
}

@test "rk-fuse: z-score: equal scores are 0 though their mean rounds off them" {
	# 0.1 * 3 / 3 is not 0.1: a tiny sd from that made each -1
	printf '%s\n' '{"doc":"a","score":0.1}' '{"doc":"b","score":0.1}' \
	    '{"doc":"c","score":0.1}' >eq
	printf '%s\n' '{"doc":"b","score":3}' '{"doc":"a","score":1}' \
	    '{"doc":"c","score":2}' >three
	run sh -c "rk-fuse --method combsum --norm zscore eq three | jq -c '[.doc, .score]'"
	assert_output '["b",1.224745]
["c",0]
["a",-1.224745]'
}

@test "rk-fuse: rank-biased fusion" {
	# rho .5: ranks weigh .5 .25 .125
	run sh -c "rk-fuse --method rbf --param 0.5 one two | jq -c '[.doc, .score]'"
	assert_output '["b",0.75]
["a",0.625]
["d",0.25]
["c",0.125]'
}

@test "rk-fuse: TREC runs in, grouped by query, in first-seen order" {
	printf '%s\n' 'q2 Q0 a 1 9 r1' 'q2 Q0 b 2 8 r1' 'q1 Q0 c 1 5 r1' >r1
	printf '%s\n' 'q1 Q0 d 1 7 r2' 'q1 Q0 c 2 6 r2' 'q2 Q0 b 1 3 r2' >r2
	run rk-fuse -f trec --tag fused r1 r2
	assert_status 0
	assert_output "q2 Q0 b 1 0.032522 fused
q2 Q0 a 2 0.016393 fused
q1 Q0 c 1 0.032522 fused
q1 Q0 d 2 0.016393 fused"
	run sh -c "rk-fuse -k 1 r1 - <r2"
	assert_output '{"qid":"q2","doc":"b","score":0.032522,"rank":1}
{"qid":"q1","doc":"c","score":0.032522,"rank":1}'
}

@test "rk-fuse: chunks are distinct hits unless --by-doc" {
	printf '%s\n' '{"doc":"a","chunk":0,"score":2,"text":"a0"}' \
	    '{"doc":"a","chunk":1,"score":1,"text":"a1"}' >c1
	printf '%s\n' '{"doc":"a","chunk":1,"score":5,"text":"a1"}' >c2
	run sh -c "rk-fuse c1 c2 | jq -c '[.doc, .chunk, .rank]'"
	assert_output '["a",1,1]
["a",0,2]'
	# by document: a's first place in c1 counts once
	run rk-fuse --by-doc c1 c2
	assert_output '{"doc":"a","chunk":0,"score":0.032787,"rank":1,"text":"a0"}'
}

@test "rk-fuse: record mode fuses lists into context" {
	rec='{"rk":1,"id":"R","query":"q","lists":[[{"doc":"a","chunk":0,"score":3,"text":"A"},{"doc":"b","chunk":0,"score":2,"text":"B"}],[{"doc":"b","chunk":0,"score":9,"text":"B"}]]}'
	run sh -c "echo '$rec' | rk-fuse -r"
	assert_status 0
	assert_output '{"rk":1,"id":"R","query":"q","context":[{"doc":"b","chunk":0,"score":0.032522,"text":"B"},{"doc":"a","chunk":0,"score":0.016393,"text":"A"}]}'
	# a budget of one text
	run sh -c "echo '$rec' | rk-fuse -r --context-bytes 1 | jq -c '[.context[].doc]'"
	assert_output '["b"]'
	# records without lists, or with an error, pass untouched
	plain='{"rk":1,"id":"P","query":"q","context":[]}'
	bad='{"rk":1,"id":"E","lists":[[]],"error":{"stage":"s","code":"c","message":"m"}}'
	run sh -c "printf '%s\n%s\n' '$plain' '$bad' | rk-fuse -r"
	assert_output "$plain
$bad"
	# one rule for every filter: a record with an error out, exit 1
	assert_status 1
	run sh -c "printf '%s\n' '$plain' | rk-fuse -r"
	assert_status 0
}

@test "rk-fuse: no input, or no valid hit, is no output and no crash" {
	run rk-fuse </dev/null
	assert_status 0
	assert_output ""
	printf '' >empty
	run rk-fuse empty one
	assert_status 0
	[ "${#lines[@]}" -eq 3 ]
	run sh -c 'printf "%s\n" "{\"score\":1}" "x" | rk-fuse 2>/dev/null'
	assert_status 3
	assert_output ""
	run sh -c 'printf "%s\n" "{\"lists\":[[{\"x\":1}],[]]}" | rk-fuse -r 2>/dev/null | jq -c .context'
	assert_output "[]"
}

@test "rk-fuse: a TREC line that is not UTF-8 is reported, not fused without its name" {
	printf 'q1 Q0 a\377b 1 3.0 x\nq1 Q0 c 2 2.0 x\n' >t1
	printf 'q1 Q0 c 1 3.0 y\n' >t2
	run rk-fuse t1 t2
	assert_status 3
	assert_output 'rk-fuse: t1:1: a TREC run line not UTF-8
{"qid":"q1","doc":"c","score":0.032787,"rank":1}'
}

@test "rk-fuse: malformed lines are reported, exit 3" {
	printf '%s\n' '{"doc":"a","score":1}' 'just words' '{"score":2}' >m
	run rk-fuse m one
	assert_status 3
	assert_output 'rk-fuse: m:2: not a TREC run line or a JSON hit
rk-fuse: m:3: not a hit
{"doc":"a","score":0.032787,"rank":1}
{"doc":"b","score":0.016129,"rank":2}
{"doc":"c","score":0.015873,"rank":3}'
}

@test "rk-fuse: a hit without a numeric score is an error where scores count" {
	printf '%s\n' '{"doc":"b","score":10}' '{"qid":"","doc":"x","chunk":2}' \
	    '{"doc":"d","score":"5"}' '{"doc":"e","score":null}' \
	    '{"doc":"a","score":5}' >bad
	for m in combsum combmnz; do
		run sh -c "rk-fuse --method $m one bad 2>err"
		assert_status 3
		# b: 1 + 1, a: 1 + 0, c: 0; never x, d or e at 0
		assert_output '{"doc":"x","chunk":2,"error":{"stage":"rk-fuse","code":"no-score","message":"bad:2: a hit without a score","status":3}}
{"doc":"d","error":{"stage":"rk-fuse","code":"bad-score","message":"bad:3: a hit'"'"'s score is not a number","status":3}}
{"doc":"e","error":{"stage":"rk-fuse","code":"bad-score","message":"bad:4: a hit'"'"'s score is not a number","status":3}}'"
$(if [ $m = combsum ]; then
	echo '{"doc":"b","score":1.5,"rank":1}'
	echo '{"doc":"a","score":1.0,"rank":2}'
else
	echo '{"doc":"b","score":3.0,"rank":1}'
	echo '{"doc":"a","score":2.0,"rank":2}'
fi)
"'{"doc":"c","score":0.0,"rank":3}'
		run cat err
		assert_output "rk-fuse: bad:2: a hit without a score
rk-fuse: bad:3: a hit's score is not a number
rk-fuse: bad:4: a hit's score is not a number"
	done
	# a TREC line's score column the same; TREC output has no error line
	printf '7 Q0 a 1 high t\n7 Q0 b 2 3 t\n' >run
	run sh -c 'rk-fuse --method combsum run 2>/dev/null'
	assert_status 3
	assert_output '{"qid":"7","doc":"a","error":{"stage":"rk-fuse","code":"bad-score","message":"run:1: a hit'"'"'s score is not a number","status":3}}
{"qid":"7","doc":"b","score":1.0,"rank":1}'
	run rk-fuse --method combsum -f trec run
	assert_status 3
	assert_output "rk-fuse: run:1: a hit's score is not a number
7 Q0 b 1 1.000000 rk-fuse"
	# record mode: named by record and place, left out of its list
	echo '{"id":"r","lists":[[{"doc":"a"},{"doc":"b","score":1}]]}' >rec
	run sh -c "rk-fuse -r --method combsum <rec | jq -c '[.context[].doc]'"
	assert_output 'rk-fuse: r: lists[0][0]: a hit without a score
["b"]'
	run rk-fuse -r --method combsum <<<'{"lists":[[{"doc":"a"}]]}'
	assert_status 3
}

@test "rk-fuse: rank methods read no score: missing, null or a word" {
	for m in rrf rbf; do
		run rk-fuse --method $m -f trec - <<-'EOF'
		{"doc":"a"}
		{"doc":"b","score":null}
		7 Q0 c 3 high t
		EOF
		assert_status 0
		assert_output "$(if [ $m = rrf ]; then
			printf '1 Q0 a 1 0.016393 rk-fuse\n'
			printf '1 Q0 b 2 0.016129 rk-fuse\n'
			printf '7 Q0 c 1 0.016393 rk-fuse'
		else
			printf '1 Q0 a 1 0.200000 rk-fuse\n'
			printf '1 Q0 b 2 0.160000 rk-fuse\n'
			printf '7 Q0 c 1 0.200000 rk-fuse'
		fi)"
	done
}

@test "rk-fuse: hits without a query id or with an empty one are query 1 in TREC" {
	printf '%s\n' '{"qid":"","doc":"a","score":1}' '{"doc":"b","score":2}' >e
	run rk-fuse -f trec e
	assert_status 0
	assert_output '1 Q0 a 1 0.016393 rk-fuse
1 Q0 b 2 0.016129 rk-fuse'
}
