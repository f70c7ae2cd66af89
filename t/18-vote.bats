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

@test "rk-vote --more: the further samples each question needs, numbered on" {
	printf '{"id":"Q1","query":"%s"}\n' "$Q" >q.json
	: >made
	round() {
		rk-vote --more made -n 5 q.json >round
		jq -c '[.sample.group, .sample.index]' round | tr -d '\n'
		rk-prompt raw <round | rk-llm --mock | rk-prompt raw >>made
	}
	[ "$(round)" = '["Q1",0]["Q1",1]["Q1",2]' ]
	# 84, 74, 84: two more could still take 84 to 0.8
	[ "$(round)" = '["Q1",3]["Q1",4]' ]
	[ "$(round)" = '' ]
	[ "$(rk-vote made | jq -c '[.id, .answer, .vote.samples]')" = '["Q1","84",5]' ]
	# a question that failed before sampling: one failed sample, once
	printf '{"id":"Q2","query":"q","error":{"code":"x","message":"m","stage":"rk-search"}}\n' >q.json
	[ "$(round)" = '["Q2",0]' ]
	[ "$(round)" = '' ]
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
	# more samples than rk-llm's default limit of requests in flight
	run rk think --mock -n 12 -t raw -f json "$Q"
	assert_status 0
	[ "$(printf '%s\n' "$output" | jq -c '[.answer, .vote.votes, .vote.samples]')" = '["84",7,12]' ]
	# all agree: three samples, then no more
	printf '%s\n' '{"question":"What is 12 * 7?","replies":["Answer: 84"]}' >replies.jsonl
	run rk think --mock -n 5 -t raw "$Q"
	assert_status 0
	[ "${lines[0]}" = "Answer: 84" ]
	[ "${lines[1]}" = "Vote: 3 of 3 samples (agreement 1.00, majority), confidence 1.00; stopped early, 2 not sent" ]
	[ "$(rk trace ls | grep -c raw)" -eq 20 ]
	run rk think --mock -n 0 "$Q"
	assert_status 2
	assert_output "rk: think: -n needs a number of samples from 1 to 1000"
}

# shim TOOL: TOOL through a wrapper that counts its runs in TOOL.runs
shim() {
	mkdir -p shims
	printf '#!/bin/sh\necho >>"%s/%s.runs"\nexec "%s" "$@"\n' "$TMP" "$1" \
	    "$(command -v "$1")" >"shims/$1"
	chmod +x "shims/$1"
	PATH="$TMP/shims:$PATH"
}

# each sample's context, the same for all: the distinct ones, and how many
stored_contexts() {
	rk trace export | jq -c '[.context[].doc]' | sort | uniq -c |
	    awk '{ print $1, $2 }'
}

# once TOOL OPTION ARG DOC: rk think -n 5 OPTION ARG runs TOOL once, and
# the vote and every sample have DOC, and only it, in their context
once() {
	shim "$1"
	run rk think --mock -n 5 -t raw "$2" "$3" -f json "$Q"
	assert_status 0
	[ "$(printf '%s\n' "$output" | jq -c '[.answer, .vote.votes, .vote.samples, [.context[].doc]]')" = "[\"84\",3,5,[\"$4\"]]" ]
	[ "$(wc -l <"$1.runs")" -eq 1 ]
	[ "$(stored_contexts)" = "5 [\"$4\"]" ]
}

@test "rk think -n -i: the passages retrieved once, shared by every sample" {
	printf 'Twelve times 7 is 84.\n' >coffee.txt
	rk-search -i a.db add coffee.txt >/dev/null 2>&1
	once rk-search -i a.db coffee.txt
}

@test "rk think -n -a: the file read once, in every sample's context" {
	printf 'The team has 84 people.\n' >team.txt
	once rk-attach -a team.txt team.txt
}

@test "rk think -n -c: every sample and the vote link to the run continued" {
	rk think --mock -t raw -f json "Is tea good?" >first.json
	parent=$(jq -r .id first.json)
	run rk think --mock -n 5 -t raw -c -f json "$Q"
	assert_status 0
	[ "$(printf '%s\n' "$output" | jq -r '[.answer, .parent] | join(" ")')" = "84 $parent" ]
	[ "$(rk trace export | jq -r 'select(.sample) | .parent' | sort | uniq -c |
	    awk '{ print $1, $2 }')" = "5 $parent" ]
	run rk think --mock -n 3 -t raw --cont "$parent" -f json "$Q"
	assert_status 0
	[ "$(printf '%s\n' "$output" | jq -r .parent)" = "$parent" ]
}

@test "rk think -b -n: one vote a question; a rerun sends only what is missing" {
	printf '%s\n' '{"question":"What is 2 + 2?","replies":["Answer: 4"]}' >>replies.jsonl
	printf '%s\n' "$Q" "What is 2 + 2?" >qs
	run rk think --mock -n 5 -t raw -b qs -f json
	assert_status 0
	votes='[["84",3,5,1],["4",3,3,2]]'
	[ "$(printf '%s\n' "$output" | jq -sc 'map([.answer, .vote.votes, .vote.samples, .item])')" = "$votes" ]
	[ "$(rk trace ls --batch "raw-n5-$(printf %s "$TMP/qs" | cksum | cut -d' ' -f1)" | grep -c raw)" -eq 8 ]
	[ "$(rk trace export | jq -r .sample.group | sort | uniq -c | awk '{ printf "%s:%s ", $2, $1 }')" = "1:5 2:3 " ]
	# the rerun: nothing sent, the same votes
	run rk think --mock -n 5 -t raw -b qs -f json
	assert_status 0
	[ "$(printf '%s\n' "$output" | jq -sc 'map([.answer, .vote.votes, .vote.samples, .item])')" = "$votes" ]
	[ "$(rk trace export | wc -l)" -eq 8 ]
	# a sample lost (as if killed): the rerun sends that one only
	rk trace rm "$(rk trace export | jq -r 'select(.sample.group == "1" and .sample.index == 4) | .id')" >/dev/null
	run rk think --mock -n 5 -t raw -b qs -f json
	assert_status 0
	[ "$(printf '%s\n' "$output" | jq -sc 'map([.answer, .vote.votes, .vote.samples, .item])')" = "$votes" ]
	[ "$(rk trace export | wc -l)" -eq 8 ]
	[ "$(rk trace export | jq -r 'select(.sample.index == 4) | .sample.temperature')" = 0.9 ]
	# a batch of single runs under the same id: its runs are not samples
	rk think --mock -t raw -b qs --batch-id B -f json >/dev/null
	run rk think --mock -n 5 -t raw -b qs --batch-id B -f json
	assert_status 0
	[ "$(printf '%s\n' "$output" | jq -sc 'map([.answer, .vote.votes, .vote.samples, .item])')" = "$votes" ]
}

@test "rk think -b -n: against the fake server, each request once" {
	printf '%s\n' '{"question":"What is 2 + 2?","replies":["Answer: 4"]}' >>replies.jsonl
	printf '%s\n' "$Q" "What is 2 + 2?" >qs
	start_fake -r replies.jsonl
	export RK_PROVIDER=openai RK_MODEL=fake/ok RK_NO_CACHE=1 RK_BASE_URL="$URL"
	run rk think -n 5 -t raw -b qs -f json
	assert_status 0
	[ "$(printf '%s\n' "$output" | jq -sc 'map([.answer, .vote.votes, .vote.samples])')" = '[["84",3,5],["4",3,3]]' ]
	[ "$(wc -l <fake.log)" -eq 8 ]
	run rk think -n 5 -t raw -b qs -f json
	assert_status 0
	[ "$(wc -l <fake.log)" -eq 8 ]
	rk trace rm "$(rk trace export | jq -r 'select(.sample.group == "1" and .sample.index == 4) | .id')" >/dev/null
	run rk think -n 5 -t raw -b qs -f json
	assert_status 0
	[ "$(wc -l <fake.log)" -eq 9 ]
}

@test "rk think -b -n -i: the passages retrieved once, not in every round" {
	printf 'Twelve times 7 is 84.\n' >coffee.txt
	rk-search -i a.db add coffee.txt >/dev/null 2>&1
	printf '%s\n' "$Q" >qs
	shim rk-search
	run rk think --mock -n 5 -t raw -b qs -i a.db -f json
	assert_status 0
	[ "$(printf '%s\n' "$output" | jq -c '[.answer, .vote.votes, .vote.samples, [.context[].doc]]')" = '["84",3,5,["coffee.txt"]]' ]
	[ "$(wc -l <rk-search.runs)" -eq 1 ]
	[ "$(stored_contexts)" = '5 ["coffee.txt"]' ]
}

@test "rk think -n: samples that do not come back end it, exit 7" {
	mkdir shims
	printf '#!/bin/sh\ncat >/dev/null\n' >shims/rk-trace
	chmod +x shims/rk-trace
	PATH="$TMP/shims:$PATH" run rk think --mock -n 3 -t raw "$Q"
	assert_status 7
	assert_output "rk: think: -n: the samples do not come back"
}

@test "rk think -n with --hosts is refused before any call" {
	printf 'q1\nq2\n' >qs
	run rk think --mock -n 3 -b qs --hosts qs
	assert_status 2
	assert_output "rk: think: -n and --hosts do not go together"
}
