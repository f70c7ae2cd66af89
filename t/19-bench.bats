#!/usr/bin/env bats
# rk-bench: profiles against a dataset, scored, stored, resumed; against
# the offline model and the fake server with canned replies
# (t/fixtures/bench/README says which answers are right).

load helper

local_setup() {
	B="$FIXTURES/bench"
	export RK_MOCK_REPLIES="$B/replies.jsonl"
}

local_teardown() {
	if [ -n "${FAKE_PID:-}" ]; then
		kill "$FAKE_PID" 2>/dev/null || true
		wait "$FAKE_PID" 2>/dev/null || true
	fi
}

# fake: the fake server with the canned replies, its log in fake.log
fake() {
	local bin="${RK_BUILD:-$BATS_TEST_DIRNAME/../build}/libexec/rk-fakellm"
	"$bin" -l "$TMP/fake.log" -r "$B/replies.jsonl" >"$TMP/port" &
	FAKE_PID=$!
	until [ -s "$TMP/port" ]; do sleep 0.01; done
	export RK_PROVIDER=openai RK_MODEL=fake/ok RK_NO_CACHE=1
	export RK_BASE_URL="http://127.0.0.1:$(cat "$TMP/port")/v1"
	: >"$TMP/fake.log"
}

nreq() { wc -l <"$TMP/fake.log" | tr -d ' '; }

# the figures that do not depend on timing
figures() { jq -c '[.profile, .questions, .accuracy, .ci95, .agreement, .failed]'; }

@test "rk-bench: GSM8K as it comes, 4 of 5 right, Wilson's 95 % interval" {
	run rk-bench --mock -p raw -f json "$B/gsm8k-5.jsonl"
	assert_status 0
	[ "$(printf '%s\n' "$output" | figures)" = \
	    '["raw",5,0.8,[0.3755,0.9638],null,0]' ]
	run rk-bench --mock -p raw "$B/gsm8k-5.jsonl"
	assert_status 0
	assert_match '^raw +5 +0\.800 +0\.376-0\.964 +- '
}

@test "rk-bench: profiles side by side, csv" {
	run rk-bench --mock -p raw,quick -f csv "$B/gsm8k-5.jsonl"
	assert_status 0
	[ "${lines[0]}" = "profile,questions,accuracy,ci95_lo,ci95_hi,agreement,tokens_in,tokens_out,cost,p50_ms,p95_ms,failed" ]
	[ "$(printf '%s\n' "${lines[1]}" | cut -d, -f1-6)" = "raw,5,0.8000,0.3755,0.9638," ]
	[ "$(printf '%s\n' "${lines[2]}" | cut -d, -f1-3,12)" = "quick,5,0.8000,0" ]
}

@test "rk-bench: multiple choice, a letter answer" {
	RK_MOCK_REPLIES="$B/choice-replies.jsonl" run rk-bench --mock -p raw \
	    -f json "$B/choice.jsonl"
	assert_status 0
	[ "$(printf '%s\n' "$output" | figures)" = '["raw",2,0.5,[0.0945,0.9055],null,0]' ]
}

@test "rk-bench -n 5: votes, early stopping sends 19 requests, not 25" {
	fake
	run rk-bench -p raw -n 5 -P 3 -f json "$B/gsm8k-5.jsonl"
	assert_status 0
	[ "$(printf '%s\n' "$output" | figures)" = '["raw",5,0.8,[0.3755,0.9638],0.8,0]' ]
	[ "$(nreq)" -eq 19 ]
	# 0.7 base, then 0.6, 0.8 for all; 0.5 and 0.9 for the split two
	[ "$(jq -r .body.temperature fake.log | sort -n | uniq -c |
	    awk '{ printf "%s:%s ", $2, $1 }')" = "0.5:2 0.6:5 0.7:5 0.8:5 0.9:2 " ]
}

@test "rk-bench: a rerun sends nothing twice; --fresh starts over" {
	fake
	run rk-bench -p raw -f json "$B/gsm8k-5.jsonl"
	assert_status 0
	[ "$(nreq)" -eq 5 ]
	first=$output
	run rk-bench -p raw -f json "$B/gsm8k-5.jsonl"
	assert_status 0
	[ "$(nreq)" -eq 5 ]
	[ "$(printf '%s\n' "$output" | figures)" = "$(printf '%s\n' "$first" | figures)" ]
	run rk-bench --subset 3 --seed 1 -p raw -f json "$B/gsm8k-5.jsonl"
	[ "$(nreq)" -eq 5 ]
	run rk-bench --fresh -p raw -f json "$B/gsm8k-5.jsonl"
	assert_status 0
	[ "$(nreq)" -eq 10 ]
}

@test "rk-bench --subset N --seed S: the same questions each time" {
	rk-bench --mock -d a.db --subset 2 --seed 7 -p raw "$B/gsm8k-5.jsonl" >/dev/null
	rk-bench --mock -d b.db --subset 2 --seed 7 -p raw "$B/gsm8k-5.jsonl" >/dev/null
	a=$(sqlite3 a.db 'SELECT qid FROM bench ORDER BY qid')
	[ "$a" = "$(sqlite3 b.db 'SELECT qid FROM bench ORDER BY qid')" ]
	[ "$(printf '%s\n' "$a" | wc -l)" -eq 2 ]
}

@test "rk-bench --score: exact match, and a user's command" {
	run rk-bench --mock -p raw --score exact -f json "$B/gsm8k-5.jsonl"
	assert_status 0
	# "$3.00" and "70,000" normalise to the gold's "3" and "70000"
	[ "$(printf '%s\n' "$output" | jq .accuracy)" = 0.8 ]
	run rk-bench --mock -p raw --fresh -f json --score-cmd \
	    'while read -r l; do case $l in *541*) echo 1 ;; *) echo 0 ;; esac; done' \
	    "$B/gsm8k-5.jsonl"
	assert_status 0
	[ "$(printf '%s\n' "$output" | jq .accuracy)" = 0.2 ]
}

@test "rk-bench: bad input is a clear error and a non-zero exit" {
	printf '%s\n' '{"question":"a","answer":"1"}' 'not json' >bad.jsonl
	run rk-bench --mock -p raw bad.jsonl
	assert_status 3
	assert_output "rk-bench: bad.jsonl:2: not a JSON object"
	printf '%s\n' '{"answer":"1"}' >noq.jsonl
	run rk-bench --mock -p raw noq.jsonl
	assert_status 3
	assert_output "rk-bench: noq.jsonl:1: no question"
	run rk-bench --mock -p raw --score fuzzy "$B/gsm8k-5.jsonl"
	assert_status 2
	assert_output "rk-bench: --score: auto, numeric, choice or exact, not 'fuzzy'"
	run rk-bench --mock -n 0 "$B/gsm8k-5.jsonl"
	assert_status 2
	assert_output "rk-bench: -n: not a number of samples from 1 to 100: '0'"
	run rk-bench --mock -p nosuch "$B/gsm8k-5.jsonl"
	assert_status 4
	run rk-bench -p raw "$B/gsm8k-5.jsonl"
	assert_status 4
}

@test "rk-bench: --help matches the man page; the man page is clean" {
	check_synopsis rk-bench
	check_manlint rk-bench
}
