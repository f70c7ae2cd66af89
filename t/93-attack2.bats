#!/usr/bin/env bats
# Hostile inputs found by an adversarial pass: each case failed before its fix.

load helper

@test "a size whose suffix would wrap round is refused, not read as 1K" {
	printf '{"query":"%s"}\n' "$(head -c 3000 /dev/zero | tr '\0' a)" >long
	RK_MAX_RECORD=18014398509481985k run rk-prompt gigathink <long
	assert_status 2
	assert_output "rk-prompt: RK_MAX_RECORD: not a size: '18014398509481985k'"
}

@test "rk-bench --score-cmd: a verdict with a NUL byte and more after it is not 1" {
	export RK_MOCK_REPLIES="$FIXTURES/bench/replies.jsonl"
	run rk-bench --mock -p raw --score-cmd \
	    'cat >/dev/null; for i in 1 2 3 4 5; do printf "1\0zz\n"; done' \
	    "$FIXTURES/bench/gsm8k-5.jsonl"
	assert_status 3
	assert_output "rk-bench: --score-cmd: 'cat >/dev/null; for i in 1 2 3 4 5; do printf \"1\0zz\n\"; done': line 1 is not 1 or 0: '1'"
}

@test "rk think -n: a number out of range is rk's own usage error, said once" {
	for n in 1001 99999999999999999999 0 x; do
		run rk think --mock -n "$n" "What is 2+2?"
		assert_status 2
		assert_output "rk: think: -n needs a number of samples from 1 to 1000"
	done
	run rk think --mock -f json -n 1000 --vote majority --performance-mode "What is 2+2?"
	assert_status 0
}

@test "rk think -n -b: a bad line of the questions fails alone, the others are voted" {
	printf '%s\n' 'What is 2+2?' 'What is 3+3?' '' 'What is 2+2?' >qs
	run rk think --mock -p quick -n 3 -b qs
	assert_status 3
	[ "$(printf '%s\n' "$output" | grep -c '^Answer: 4$')" -eq 2 ]
	[ "$(printf '%s\n' "$output" | grep -c '^Answer: 6$')" -eq 1 ]
	printf '%s\n' "$output" | grep -qxF 'rk-batch: qs:3: an empty line'
}

@test "--help: an option that fills its column has its text on the next line" {
	run rk-embed --help
	assert_status 0
	printf '%s\n' "$output" | grep -A1 -e '^      --connect-timeout' >got
	printf '%s\n' '      --connect-timeout=time' \
	    '                           to connect; default 10s' >want
	diff -u want got
}

@test "a relative XDG_DATA_HOME is ignored, as the XDG spec says, not a directory under each working directory" {
	mkdir -p "$HOME" sub
	export XDG_DATA_HOME=rel
	run rk think --mock -f json "What is 2+2?"
	assert_status 0
	[ ! -e rel ]
	cd sub
	run rk-trace -f json last
	assert_status 0
	[ "$(printf '%s\n' "$output" | jq -r .query)" = "What is 2+2?" ]
	[ -f "$HOME/.local/share/reasonkit/traces.db" ]
}

@test "rk-bench --score-cmd: the scorer gets SIGPIPE as usual, not rk-bench's ignored one" {
	export RK_MOCK_REPLIES="$FIXTURES/bench/replies.jsonl"
	run rk-bench --mock -p raw -f csv --score-cmd \
	    'cat >/dev/null; grep SigIgn /proc/self/status | cut -f2' \
	    "$FIXTURES/bench/gsm8k-5.jsonl"
	# the mask is the scorer's only line: no verdict, but SIGPIPE's bit
	# (13, 0x1000) is not set
	assert_status 3
	[ "$(( 0x$(printf '%s\n' "$output" | sed -n "s/.*is not 1 or 0: '\(.*\)'/\1/p") & 0x1000 ))" -eq 0 ]
}

@test "rk-embed --lines: a blank line is a text too, so each line in has its line out" {
	printf 'a\n\nb\n   \n' >in
	run sh -c 'rk-embed --mock --lines --dimensions 2 <in 2>/dev/null'
	# the blank one's line is an error: an empty text, which no
	# embeddings API takes (t/48-embed)
	assert_status 3
	[ "$(printf '%s\n' "$output" | jq -c .text | paste -sd' ')" = '"a" "" "b" "   "' ]
	[ "$(printf '%s\n' "$output" | jq -c .error.code | paste -sd' ')" = 'null "empty-text" null null' ]
	# records keep the convention: a blank line is no record
	run rk-embed --mock --dimensions 2 <in
	assert_status 0
	[ "$(printf '%s\n' "$output" | jq -c .text | paste -sd' ')" = '"a" "b"' ]
}

@test "rk-embed: an empty vector is said to be empty, not to have 0 numbers, not 0" {
	start_fake
	status=0
	rk-embed --provider openai --base-url "$URL" -m fake/embed-empty \
	    --no-cache --retries 0 <<<hello >out 2>err || status=$?
	assert_status 6
	run cat err
	assert_output "rk-embed: $URL/embeddings: the reply's vector 0 is empty"
	run jq -r .error.message out
	assert_output "$URL/embeddings: the reply's vector 0 is empty"
}
