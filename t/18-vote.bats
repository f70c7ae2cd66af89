#!/usr/bin/env bats
# rk-vote: samples of a question, their vote, and when to stop sampling.

load helper

Q="What is 12 * 7?"

local_setup() {
	# five samples: 84, 74, 84, $84.00, 74 with their confidences
	cat >replies.jsonl <<-'EOF2'
	{"question":"What is 12 * 7?","replies":["It is 84.\nAnswer: 84\nConfidence: 0.9","Answer: 74\nConfidence: 0.6","Answer: 84\nConfidence: 0.8","Answer: $84.00\nConfidence: 0.7","Answer: 74\nConfidence: 0.95"]}
	EOF2
	export RK_MOCK_REPLIES="$TMP/replies.jsonl"
}

# samples FIRST:COUNT: run those samples of $Q through the raw protocol
samples() {
	rk-vote --sample "$1" --group G -n 5 "$Q" | rk-prompt raw | rk-llm --mock |
	    rk-prompt raw
}

@test "rk-vote --sample: samples of one question, temperatures base ± spread" {
	run sh -c "rk-vote --sample 0:5 --group G -n 5 '$Q' | jq -c '[.query, .sample]'"
	assert_status 0
	assert_output '["What is 12 * 7?",{"group":"G","index":0,"of":5,"offset":0}]
["What is 12 * 7?",{"group":"G","index":1,"of":5,"offset":-0.1}]
["What is 12 * 7?",{"group":"G","index":2,"of":5,"offset":0.1}]
["What is 12 * 7?",{"group":"G","index":3,"of":5,"offset":-0.2}]
["What is 12 * 7?",{"group":"G","index":4,"of":5,"offset":0.2}]'
	samples 0:5 >s.json
	run jq -c '[.sample.temperature, .answer]' s.json
	assert_output '[0.7,"84"]
[0.6,"74"]
[0.8,"84"]
[0.5,"$84.00"]
[0.9,"74"]'
}

@test "rk-vote: majority, confidence, CISC and unanimous" {
	samples 0:5 >s.json
	run sh -c 'rk-vote s.json | jq -c "[.id, .answer, .vote.answer, .vote.agreement, .vote.votes, .vote.samples, .vote.early_stopped, .vote.method, .vote.confidence, (.vote.runs | length)]"'
	assert_status 0
	assert_output '["G","84","84",0.6,3,5,false,"majority",0.6,5]'
	run sh -c 'rk-vote --method confidence s.json | jq -c "[.vote.answer, .vote.confidence]"'
	assert_output '["84",0.6076]'
	run sh -c 'rk-vote --method cisc s.json | jq -c "[.vote.answer, .vote.confidence]"'
	assert_output '["84",0.48]'
	run rk-vote --method unanimous s.json
	assert_status 1
	[ "$(printf '%s\n' "$output" | tail -n 1 | jq -c '[.answer, .error.code]')" = '[null,"no-agreement"]' ]
}

@test "rk-vote: the runs of the samples stay linked to the vote" {
	samples 0:5 >s.json
	[ "$(rk-vote s.json | jq -r '.vote.runs[].id')" = "$(jq -r .id s.json)" ]
}

@test "rk-vote --next: at least 3, then the fewest that could end it" {
	samples 0:3 >s.json
	run rk-vote --next s.json
	assert_output "G	2"
	samples 3:1 >>s.json
	run rk-vote --next s.json
	assert_output "G	1"
	# all agreeing: no more after three, and the vote says it stopped early
	printf '%s\n' '{"question":"What is 12 * 7?","replies":["Answer: 84"]}' >replies.jsonl
	samples 0:3 >s.json
	run rk-vote --next s.json
	assert_output "G	0"
	run sh -c 'rk-vote s.json | jq -c "[.vote.samples, .vote.early_stopped]"'
	assert_output '[3,true]'
	run sh -c 'rk-vote -n 3 s.json | jq -c "[.vote.samples, .vote.early_stopped]"'
	assert_output '[3,false]'
}

@test "rk-vote -f text: the answer first, then the vote and the samples" {
	samples 0:5 >s.json
	run rk-vote -f text s.json
	assert_status 0
	[ "${lines[0]}" = "Answer: 84" ]
	[ "${lines[1]}" = "Vote: 3 of 5 samples (agreement 0.60, majority), confidence 0.60" ]
}

@test "rk-vote: bad options are usage errors" {
	run rk-vote -n 0
	assert_status 2
	assert_output "rk-vote: -n: not a number from 1 to 1000: '0'"
	run rk-vote --method plurality
	assert_status 2
	run rk-vote --sample 3 "$Q"
	assert_status 2
	run rk-vote --threshold 0
	assert_status 2
}

@test "rk-vote: --help matches the man page; the man page is clean" {
	check_synopsis rk-vote
	check_manlint rk-vote
}

@test "rk think -n 5: samples stored, their vote printed; early stop" {
	run rk think --mock -n 5 -t raw -f json "$Q"
	assert_status 0
	[ "$(printf '%s\n' "$output" | jq -c '[.answer, .vote.votes, .vote.samples, .vote.early_stopped]')" = '["84",3,5,false]' ]
	[ "$(rk trace ls | grep -c raw)" -eq 5 ]
	# all agree: three samples, then no more
	printf '%s\n' '{"question":"What is 12 * 7?","replies":["Answer: 84"]}' >replies.jsonl
	run rk think --mock -n 5 -t raw "$Q"
	assert_status 0
	[ "${lines[0]}" = "Answer: 84" ]
	[ "${lines[1]}" = "Vote: 3 of 3 samples (agreement 1.00, majority), confidence 1.00; stopped early, 2 not sent" ]
	[ "$(rk trace ls | grep -c raw)" -eq 8 ]
	run rk think --mock -n 0 "$Q"
	assert_status 2
	assert_output "rk: think: -n needs a number of samples from 1 to 1000"
}

@test "rk think -n with -b, -i or -a is refused before any call" {
	printf 'q1\nq2\n' >qs
	run rk think --mock -n 3 -b qs
	assert_status 2
	assert_output "rk: think: -n and -b do not go together yet"
	run rk think --mock -n 3 -a qs "Is it?"
	assert_status 2
	assert_output "rk: think: -n goes with neither -i, -a nor -c yet"
}
