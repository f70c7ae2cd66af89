#!/usr/bin/env bats
# rk compare (rk-compare): one plain call against profiles, side by side,
# against the offline model with canned replies (t/fixtures/bench).

load helper

local_setup() {
	B="$FIXTURES/bench"
	export RK_MOCK_REPLIES="$B/replies.jsonl"
	Q=$(head -n 1 "$B/gsm8k-5.jsonl" | jq -r .question)
}

# the figures that do not depend on timing
figures() {
	jq -c '[.contender, .kind, .answer, .confidence, .tokens_in,
	    .tokens_out, .cost, .failed, (.ms > 0)]'
}

@test "rk compare: the plain call against the default profile" {
	run rk compare --mock -f json "$Q"
	assert_status 0
	[ "${#lines[@]}" -eq 2 ]
	[ "$(printf '%s\n' "${lines[0]}" | figures)" = \
	    '["raw","protocol","18",0.9,131,12,0,false,true]' ]
	[ "$(printf '%s\n' "${lines[1]}" | figures)" = \
	    '["balanced","profile","18",0.8262,1787,596,0,false,true]' ]
}

@test "rk compare -p: profiles and protocols in the order given, a table" {
	run rk compare --mock -p quick,conclude "$Q"
	assert_status 0
	[ "${#lines[@]}" -eq 4 ]
	assert_match '^contender +confidence +in +out +cost \$ +ms +answer'
	[[ "${lines[1]}" =~ ^raw\ +0\.900\ +131\ +12\ +0\.000000\ +[0-9.]+\ +18$ ]]
	[[ "${lines[2]}" =~ ^quick\ +0\.836\ +1019\ +329\ +0\.000000\ +[0-9.]+\ +18$ ]]
	[[ "${lines[3]}" =~ ^conclude\  ]]
}

@test "rk compare: the question is the words joined" {
	run rk compare --mock -f json -p conclude $Q
	assert_status 0
	[ "$(printf '%s\n' "${lines[0]}" | jq -c '[.answer, .tokens_in]')" = \
	    '["18",131]' ]
}

@test "rk compare: bad usage is exit 2, an unknown profile exit 4" {
	run rk-compare --mock
	assert_status 2
	assert_match '^usage: rk-compare'
	run rk-compare --mock -f xml "$Q"
	assert_status 2
	assert_output "rk-compare: -f: text or json, not 'xml'"
	run rk-compare --mock --nosuch "$Q"
	assert_status 2
	run rk-compare --mock -p quick,nosuch "$Q"
	assert_status 4
	run env -u RK_PROVIDER rk-compare "$Q"
	assert_status 4
}

# price IN OUT: the dollars prices.tsv charges fake/* for IN and OUT tokens
price() {
	awk -F '\t' -v i="$1" -v o="$2" '$1 == "fake/*" {
		printf "%.10g\n", (i * $2 + o * $3) / 1e6 }' \
	    "$BATS_TEST_DIRNAME/../data/prices.tsv"
}

@test "rk compare: against the fake server, the cost is prices.tsv's price of its tokens" {
	start_fake -r "$B/replies.jsonl"
	export RK_PROVIDER=openai RK_MODEL=fake/ok RK_NO_CACHE=1 RK_BASE_URL="$URL"
	run rk compare -f json -p quick "$Q"
	assert_status 0
	# the fake server counts 54 tokens in and 20 out a request; raw is
	# one request, quick one a step, all of them sent
	[ "$(printf '%s\n' "$output" | jq -c '[.contender, .answer, .tokens_in, .tokens_out]')" = \
	    "$(printf '["raw","18",54,20]\n["quick","18",%d,%d]' \
	    $((54 * ($(wc -l <fake.log) - 1))) $((20 * ($(wc -l <fake.log) - 1))))" ]
	printf '%s\n' "$output" | jq -r '"\(.tokens_in) \(.tokens_out) \(.cost)"' |
	while read -r in out cost; do
		[ "$(awk -v c="$cost" 'BEGIN { printf "%.10g\n", c }')" = \
		    "$(price "$in" "$out")" ] || exit 1
	done
	[ "$(printf '%s\n' "${lines[0]}" | jq .cost)" = 9.4e-05 ] ||
	    [ "$(printf '%s\n' "${lines[0]}" | jq .cost)" = 0.000094 ]
	run rk compare -p quick "$Q"
	assert_status 0
	[ "$(printf '%s\n' "${lines[1]}" | awk '{ print $5 }')" = 0.000094 ]
}

@test "rk-compare: --help matches the man page; the man page is clean" {
	check_synopsis rk-compare
	check_manlint rk-compare
}
