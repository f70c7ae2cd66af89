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

@test "rk-bench: its stages are its siblings, whatever PATH says" {
	bin="${RK_BUILD:-$BATS_TEST_DIRNAME/../build}/bin"
	PATH=/usr/bin:/bin run "$bin/rk-bench" --mock -p raw -f csv "$B/gsm8k-5.jsonl"
	assert_status 0
	[ "$(printf '%s\n' "${lines[1]}" | cut -d, -f1-3)" = "raw,5,0.8000" ]
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

@test "rk-bench: against the fake server, the cost is prices.tsv's price of the tokens" {
	fake
	run rk-bench -p raw,quick -f json "$B/gsm8k-5.jsonl"
	assert_status 0
	# 54 tokens in and 20 out a request, fake/* at $1 and $2 a million
	read -r pin pout <<-EOF
		$(awk -F '\t' '$1 == "fake/*" { print $2, $3 }' \
		    "$BATS_TEST_DIRNAME/../data/prices.tsv")
		EOF
	[ "$(printf '%s\n' "$output" | jq -c '[.profile, .tokens_in, .tokens_out]' | head -n 1)" = '["raw",54,20]' ]
	n=$(wc -l <fake.log)
	[ "$(printf '%s\n' "$output" | jq -r '.cost' | awk '{ printf "%.10g ", $1 }')" = \
	    "$(awk -v n="$n" -v pin="$pin" -v pout="$pout" 'BEGIN {
		printf "%.10g %.10g ", 5 * (54 * pin + 20 * pout) / 1e6,
		    (n - 5) * (54 * pin + 20 * pout) / 1e6 }')" ]
	run rk-bench -p raw "$B/gsm8k-5.jsonl"
	assert_status 0
	assert_match '^raw +5 +0\.800 .* 0\.000470 '
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

@test "rk-bench --score, --score-cmd: the stored answers scored again, nothing sent" {
	fake
	run rk-bench -p raw -f json "$B/gsm8k-5.jsonl"
	assert_status 0
	[ "$(printf '%s\n' "$output" | jq .accuracy)" = 0.8 ]
	[ "$(nreq)" -eq 5 ]
	# "$3.00" and "70,000" normalise to the gold's "3" and "70000"
	run rk-bench -p raw --score exact -f json "$B/gsm8k-5.jsonl"
	assert_status 0
	[ "$(printf '%s\n' "$output" | jq .accuracy)" = 0.8 ]
	run rk-bench -p raw -f json --score-cmd \
	    'while read -r l; do case $l in *541*) echo 1 ;; *) echo 0 ;; esac; done' \
	    "$B/gsm8k-5.jsonl"
	assert_status 0
	[ "$(printf '%s\n' "$output" | jq .accuracy)" = 0.2 ]
	# a scorer whose output is buffered to the end (awk into a pipe or file)
	run rk-bench -p raw -f json --score-cmd \
	    "awk '{ print (index(\$0, \"\\\"gold\\\":\\\"18\\\"\") ? 1 : 0) }'" \
	    "$B/gsm8k-5.jsonl"
	assert_status 0
	[ "$(printf '%s\n' "$output" | jq .accuracy)" = 0.2 ]
	[ "$(nreq)" -eq 5 ]
	[ "$(sqlite3 "$XDG_DATA_HOME/reasonkit/bench.db" 'SELECT sum(correct) FROM bench')" = 1 ]
}

@test "rk-bench --score-cmd: a scorer that fails is a clear error" {
	run rk-bench --mock -p raw --score-cmd no-such-scorer "$B/gsm8k-5.jsonl"
	assert_status 4
	# sh says so too, on the same standard error
	printf '%s\n' "$output" |
	    grep -qxF "rk-bench: --score-cmd: 'no-such-scorer': not found (exit 127)"
	while IFS='|' read -r status cmd why; do
		run rk-bench --mock -p raw --score-cmd "$cmd" "$B/gsm8k-5.jsonl"
		assert_status "$status"
		assert_output "rk-bench: --score-cmd: '$cmd': $why"
	done <<-'EOF'
		4|cat >/dev/null; exit 3|exit 3
		3|sed s/.*/yes/|line 1 is not 1 or 0: 'yes'
		3|read -r l; echo 1|a verdict for 1 of the 5 answers
		3|sed 's/.*/0/;p'|more lines than the 5 answers
		EOF
	# nothing was lost: the answers are stored, scored by a good scorer
	run rk-bench --mock -p raw -f json --score-cmd 'sed s/.*/1/' "$B/gsm8k-5.jsonl"
	assert_status 0
	[ "$(printf '%s\n' "$output" | jq .accuracy)" = 1 ]
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
	run rk-bench --mock -p raw --score exact --score-cmd cat "$B/gsm8k-5.jsonl"
	assert_status 2
	assert_output "rk-bench: --score and --score-cmd exclude each other"
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
