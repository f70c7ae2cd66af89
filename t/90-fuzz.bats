#!/usr/bin/env bats
# Bugs the fuzzers in t/fuzz found, one test each (t/fuzz/RESULTS).

load helper

@test "a question near RK_MAX_RECORD still comes out as an error record" {
	# the record over the limit is replaced by an error record that kept
	# every string under 4096 bytes: with a 1K limit, the question
	# itself, so that too was over and the record was lost (exit 7)
	q=$(head -c 1000 /dev/zero | tr '\0' a)
	for tool in "rk-fuse -r" "rk-llm --mock" "rk-prompt --performance-mode gigathink"; do
		run sh -c "echo $q | RK_MAX_RECORD=1K $tool 2>/dev/null"
		assert_status 3
		[ "$(printf '%s\n' "$output" | jqr .error.code)" = '"too-long"' ]
	done
}

@test "an empty prompt is an error at its line, not 'file:(null)'" {
	mkdir p
	printf '%s\n' 'id: ep' 'description: d' 'version: 1' 'steps:' \
	    '  - id: one' '    action: generate' '    prompt: ""' >p/ep.yaml
	RK_PROTOCOL_PATH=$TMP/p run rk-parse --performance-mode ep q
	assert_status 4
	[ "${lines[0]}" = "rk-parse: $TMP/p/ep.yaml:7:13: 'prompt' must not be empty" ]
}
