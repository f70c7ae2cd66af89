#!/usr/bin/env bats
# rk think -b: many questions through one pipeline, resumed, bad lines

load helper

# completed B: the items of batch B's completed runs, one a line, sorted
completed() {
	rk-trace -d t.db -f json ls --batch "$1" -s completed |
	    jq -r .item | sort
}

@test "rk-batch: synopsis and man page" {
	check_synopsis rk-batch
	check_manlint rk-batch
}

@test "rk think -b: each question its own run of the batch, in order" {
	printf 'Is P = NP?\nShould we adopt Rust?\nWhy is the sky blue?\n' >q
	run sh -c 'rk think --mock -p quick -b q --batch-id B1 -d t.db -f json 2>err |
	    jq -c "[.batch, .item, .query, .result.pass != null]"'
	assert_status 0
	assert_output '["B1",1,"Is P = NP?",true]
["B1",2,"Should we adopt Rust?",true]
["B1",3,"Why is the sky blue?",true]'
	run cat err
	assert_match '^rk-batch: batch B1: 3 questions: 3 completed, 0 failed; 0:0[0-9], [0-9.]+/s, [0-9]+ tokens, \$0\.0000$'
	run completed B1
	assert_output '1
2
3'
}

@test "rk think -b: one process per stage for the whole batch" {
	seq 1 50 | sed 's/^/Question /' >q
	mkdir bin
	for t in rk-prompt rk-llm; do
		printf '#!/bin/sh\necho x >>"%s/starts"\nexec "%s" "$@"\n' \
		    "$TMP" "$(command -v $t)" >bin/$t
		chmod +x bin/$t
	done
	cp "$(command -v rk)" bin/rk
	PATH="$TMP/bin:$PATH" run sh -c 'bin/rk think --mock -p quick -b q -d t.db -f json 2>/dev/null'
	assert_status 0
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 50 ]
	n=$(rk-parse --steps -p quick)
	# the pipeline's stages and rk's start-up check of rk-llm
	[ "$(wc -l <starts)" -eq $((2 * n + 2)) ]
}

@test "rk think -b: JSON lines keep their fields; the id is the item" {
	printf '%s\n' '{"id":"q1","question":"Is P = NP?","topic":"cs"}' \
	    '{"question":"Why?","n":[1,2]}' >q.jsonl
	run sh -c 'rk think --mock -p quick -b q.jsonl -d t.db -f json 2>/dev/null |
	    jq -c "[.item, .query, .topic, .n, (.result | type)]"'
	assert_status 0
	assert_output '["q1","Is P = NP?","cs",null,"object"]
[2,"Why?",null,[1,2],"object"]'
}

@test "rk think -b -: standard input; the same input is the same batch" {
	run sh -c 'printf "A?\nB?\n" | rk think --mock -p quick -b - -d t.db -f json 2>/dev/null | jq -r .batch'
	assert_status 0
	b=$(printf '%s\n' "$output" | sed -n 1p)
	run sh -c 'printf "A?\nB?\n" | rk think --mock -p quick -b - -d t.db 2>&1 >/dev/null'
	assert_status 0
	assert_match "^rk-batch: $b: 2 questions done before, not asked again$"
	assert_match "^rk-batch: batch $b: 0 questions:"
}

@test "rk think -b: a rerun asks only what is not completed" {
	printf 'One?\nTwo?\nThree?\n' >q
	run rk think --mock -p quick -b q --batch-id R -d t.db -f json
	assert_status 0
	run sh -c 'rk think --mock -p quick -b q --batch-id R -d t.db -f json 2>/dev/null'
	assert_status 0
	assert_output ""
	run completed R
	assert_output '1
2
3'
	# a question changed at its line is asked again
	printf 'One?\nTwo, changed?\nThree?\n' >q
	run sh -c 'rk think --mock -p quick -b q --batch-id R -d t.db -f json 2>/dev/null | jq -c "[.item, .query]"'
	assert_status 0
	assert_output '[2,"Two, changed?"]'
}

@test "rk think -b: failed questions are retried" {
	printf 'One?\nTwo?\n' >q
	RK_RETRIES=0 run rk think --provider openai-compatible \
	    --base-url http://127.0.0.1:1 -m m -p quick -b q --batch-id F -d t.db -f json
	[ "$status" -ne 0 ]
	run sh -c 'rk-trace -d t.db -f json ls --batch F -s failed | jq -r .item | sort'
	assert_output '1
2'
	run rk think --mock -p quick -b q --batch-id F -d t.db -f json
	assert_status 0
	run completed F
	assert_output '1
2'
}

@test "rk think -b: kill -9 of a stage mid-batch loses nothing; the rerun completes it once" {
	seq 1 200 | sed 's/^/Question /' >q
	RK_MOCK_DELAY=20 rk think --mock -p quick -b q --batch-id K -d t.db \
	    >/dev/null 2>&1 &
	pid=$!
	for i in $(seq 1 200); do
		[ "$(completed K | wc -l)" -lt 20 ] || break
		sleep 0.05
	done
	victim=$(pgrep -P "$pid" -x rk-llm | sed -n 2p)
	[ -n "$victim" ]
	kill -9 "$victim"
	st=0
	wait "$pid" || st=$?
	[ "$st" -eq 1 ]
	before=$(completed K | wc -l)
	[ "$before" -ge 20 ]
	[ "$before" -lt 200 ]
	run sh -c 'rk think --mock -p quick -b q --batch-id K -d t.db -f json 2>/dev/null'
	assert_status 0
	[ "$(printf '%s\n' "$output" | wc -l)" -eq $((200 - before)) ]
	run completed K
	[ "$output" = "$(seq 1 200 | sort)" ]
}

@test "rk think -b: bad lines are error records, counted; the others go on" {
	printf 'Good one?\n\n\377\376 not UTF-8\nGood two?\n' >q
	run sh -c 'rk think --mock -p quick -b q --batch-id E -d t.db -f json 2>err |
	    jq -c "[.item, .error.code]"'
	assert_output '[1,null]
[2,"empty"]
[3,"bad-utf8"]
[4,null]'
	run cat err
	assert_match '^rk-batch: q:2: an empty line$'
	assert_match '^rk-batch: q:3: invalid UTF-8$'
	assert_match '^rk-batch: batch E: 4 questions: 2 completed, 2 failed;'
	run rk think --mock -p quick -b q --batch-id E -d t.db
	assert_status 3
	run rk-trace -d t.db -f json ls --batch E -s failed
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 4 ]
}

@test "rk think -b: JSON lines: not an object, a duplicate id, a field of the record's" {
	printf '%s\n' '{"id":"a","question":"One?"}' '[1,2]' \
	    '{"id":"a","question":"Again?"}' '{"question":"x","steps":[]}' \
	    '{"id":"b"}' '{"id":"c","question":"Two?"}' >q.jsonl
	run sh -c 'rk think --mock -p quick -b q.jsonl -d t.db -f json 2>/dev/null |
	    jq -c "[.item, .error.code]"'
	assert_output '["a",null]
[2,"not-object"]
["a","duplicate-id"]
[4,"bad-field"]
["b","no-question"]
["c",null]'
	run rk think --mock -p quick -b q.jsonl -d t.db
	assert_status 3
}

@test "rk think -b: what does not go with it" {
	: >q
	run rk think --mock -b q "a question"
	assert_status 2
	assert_output 'rk: think: -b and a question at once'
	run rk think --mock -b nonexistent
	assert_status 5
	assert_output "rk: think: cannot read 'nonexistent'"
	run rk think --mock --batch-id x "a question"
	assert_status 2
	assert_output 'rk: think: --batch-id and --hosts go with -b'
}

@test "rk-batch -t: records pass byte for byte" {
	printf '%s\n' '{"rk":1,"id":"X","query":"q","result":{"pass":true}}' \
	    '{"rk":1,"id":"Y","error":{"code":"x"}}' >in
	run sh -c 'rk-batch --tally -n 2 -b Z <in 2>err'
	assert_status 1
	assert_output "$(cat in)"
	run cat err
	assert_match '^rk-batch: batch Z: 2 questions: 1 completed, 1 failed;'
}

@test "rk-batch -t: a line that is not a record becomes an error record, exit 3" {
	printf '%s\n' '{"rk":1,"id":"X","query":"q","result":{}}' '{"rk":1,' >in
	run sh -c 'rk-batch --tally <in 2>err | jq -c "[.id == \"X\", .error.code]"'
	assert_output '[true,null]
[false,"bad-json"]'
	run sh -c 'rk-batch --tally <in >/dev/null 2>&1'
	assert_status 3
	run sed 1q err
	assert_output "rk-batch: stdin:2: column 8: string or '}' expected near end of file"
	run sh -c "sed 1q in | rk-batch --tally 2>&1 >/dev/null"
	assert_match '^rk-batch: 1 question: 1 completed, 0 failed;'
}

@test "rk-batch: standard input is named stdin in messages" {
	run sh -c "printf 'a\n\n' | rk-batch - 2>&1 >/dev/null"
	assert_status 3
	assert_output 'rk-batch: stdin:2: an empty line'
}
