#!/usr/bin/env bats
# rk-analyze-tokens: the prompt tokens of a run, split and counted exactly

load helper

@test "one protocol: each step split into reasonkit, question and carried" {
	run rk analyze-tokens -j -t gigathink "Is remote work here to stay?"
	assert_status 0
	assert_output '{"what":"gigathink.identify_dimensions","total":59,"reasonkit":53,"question":6,"carried":0,"overhead":89.8}
{"what":"gigathink.explore_perspectives","total":113,"reasonkit":39,"question":7,"carried":67,"overhead":34.5}
{"what":"gigathink.synthesize","total":84,"reasonkit":48,"question":7,"carried":29,"overhead":57.1}
{"what":"conclude.answer","total":121,"reasonkit":75,"question":7,"carried":39,"overhead":62.0}
{"what":"gigathink","total":377,"reasonkit":215,"question":27,"carried":135,"overhead":57.0}'
}

@test "the man page example" {
	run sh -c 'rk analyze-tokens -j -t gigathink "Is remote work here to stay?" | tail -1'
	assert_output '{"what":"gigathink","total":377,"reasonkit":215,"question":27,"carried":135,"overhead":57.0}'
}

@test "the parts of every row add up to its total" {
	rk-analyze-tokens -j -p balanced "Is remote work here to stay?" >b.ndjson
	run jq -c 'select(.reasonkit + .question + .carried != .total)' b.ndjson
	assert_output ""
	[ "$(wc -l <b.ndjson)" -gt 10 ]
}

@test "the man page says where the numbers stand, not whose targets" {
	run grep -c "seed" "$BATS_TEST_DIRNAME/../man/rk-analyze-tokens.1"
	assert_output 0
}

@test "the sums are the sums of the steps; the question is counted only where a prompt has it" {
	rk-analyze-tokens -j -p quick "Should we adopt Rust for our backend?" >q.ndjson
	[ "$(wc -l <q.ndjson)" -eq 8 ]
	[ "$(head -7 q.ndjson | jq -s 'map(.total) | add')" = "$(tail -1 q.ndjson | jq .total)" ]
	[ "$(head -7 q.ndjson | jq -s 'map(.reasonkit) | add')" = "$(tail -1 q.ndjson | jq .reasonkit)" ]
	# laserlogic's input is gigathink's synthesis, not the question
	[ "$(grep laserlogic q.ndjson | jq -s 'map(.question) | add')" = 0 ]
	[ "$(grep gigathink. q.ndjson | jq -s 'map(.question > 0) | all')" = true ]
}

@test "the text report names the class and encoding" {
	run rk-analyze-tokens -m gpt-4o -t laserlogic "Is remote work here to stay?"
	assert_status 0
	[ "${lines[0]}" = "question: 7 tokens (simple), encoding o200k_base" ]
	[ "${#lines[@]}" -eq 8 ]
	assert_match '^laserlogic +[0-9]+ +[0-9]+ +13 +[0-9]+ +[0-9.]+%$'
	assert_match '^target: overhead under 10% for a simple or medium question: not met \([0-9.]+%\)$'
	long=$(printf 'word %.0s' $(seq 150))
	long=${long% }
	run rk-analyze-tokens -t bedrock "$long"
	[ "${lines[0]}" = "question: 150 tokens (complex), encoding cl100k_base" ]
	assert_match '^target: overhead under 20% for a complex question: not met \([0-9.]+%\)$'
}

@test "performance mode counts the compact prompts" {
	full=$(rk-analyze-tokens -j -t gigathink "q" | tail -1 | jq .reasonkit)
	compact=$(rk-analyze-tokens -j --performance-mode -t gigathink "q" | tail -1 | jq .reasonkit)
	[ "$compact" -lt "$full" ]
}

@test "bad usage and unknown names" {
	run rk-analyze-tokens
	assert_status 2
	run rk-analyze-tokens -p quick -t gigathink q
	assert_status 2
	run rk-analyze-tokens -t nosuch q
	assert_status 4
	assert_output "rk-analyze-tokens: unknown protocol 'nosuch' (rk-parse -l lists them)"
	run rk-analyze-tokens -e nosuch q
	assert_status 2
	assert_output "rk-analyze-tokens: nosuch: unknown encoding or model (known encodings: cl100k_base, o200k_base)"
	run rk-analyze-tokens --version
	assert_output "rk-analyze-tokens 0.1.0"
}
