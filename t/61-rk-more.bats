#!/usr/bin/env bats
# rk think as a shell user expects it, more: files as context (-a),
# follow-up questions (-c, --cont), rk models and estimated token counts.

load helper

think() { rk think --mock -d "$TMP/t.db" -f json "$@"; }

# the user message of the request on line N of the fake server's log
asked() {
	sed -n "$1p" fake.log | jq -r '.body.messages[-1].content'
}

# --- -a: files as context -----------------------------------------------

@test "-a: a file goes into the context with its name as the source" {
	start_fake
	export RK_PROVIDER=openai RK_MODEL=fake/ok RK_BASE_URL=$URL
	printf 'We are five people.\nWe ship weekly.\n' >team.txt
	rk think -t gigathink -d t.db -f json -a team.txt "Split the monolith?" >a.json
	run jq -c '[.query, .context]' a.json
	assert_output '["Split the monolith?",[{"doc":"team.txt","chunk":0,"text":"We are five people.\nWe ship weekly."}]]'
	run asked 1
	assert_output "Question: Split the monolith?
Sources:
[1] (team.txt) We are five people.
We ship weekly.
List 5-10 distinct dimensions of it (economic,
technical, human, risk...), numbered, a label and one line each."
	rk-trace -d t.db show "$(jq -r .id a.json)" >report
	grep -q '^context   1 passage from team.txt$' report
}

@test "-a: files in the order given, ahead of retrieved passages; cut and packed by tokens" {
	printf 'Alpha notes.\n' >a.txt
	awk 'BEGIN { for (i = 1; i <= 300; i++) printf "Sentence %d of the big file.\n", i }' >big.txt
	printf 'The index says beta.\n' >doc.txt
	rk-search -i ix.db add doc.txt 2>/dev/null
	think -t gigathink -a a.txt -a big.txt -i ix.db "beta?" >r.json
	run jq -c '[.context[] | [.doc, (.chunk // null)]]' r.json
	assert_output '[["a.txt",0],["big.txt",0],["big.txt",1],["big.txt",2],["big.txt",3],["big.txt",4],["doc.txt",0]]'
	# every byte of the big file is in its passages, none longer than 2000
	[ "$(jq -r '[.context[] | select(.doc == "big.txt") | .text | length] | max' r.json)" -le 2000 ]
	[ "$(jq -r '[.context[] | select(.doc == "big.txt") | .text] | join("\n")' r.json)" = "$(cat big.txt)" ]
	# the prompt takes what fits the token budget, best first
	run sh -c 'echo q | rk-attach a.txt big.txt | RK_CONTEXT_TOKENS=600 rk-prompt gigathink | jq .request.context_used'
	assert_output 2
}

@test "-a: a binary or non-UTF-8 file stops rk think, exit 3, nothing run" {
	printf 'ab\0cd' >bin.dat
	run think -a bin.dat "q?"
	assert_status 3
	assert_output "rk-attach: bin.dat: a binary file, not text"
	printf 'caf\351\n' >latin1.txt
	run think -a latin1.txt "q?"
	assert_status 3
	assert_output "rk-attach: latin1.txt: not UTF-8 text"
	# the name is the passage's doc, a JSON string: never dropped
	printf 'text\n' >"$(printf 'l\351.txt')"
	run sh -c 'echo q | rk-attach "$(printf '"'"'l\351.txt'"'"')"'
	assert_status 3
	assert_output "rk-attach: $(printf 'l\351.txt'): name not UTF-8"
	run think -a missing.txt "q?"
	assert_status 5
	assert_output "rk-attach: missing.txt: No such file or directory"
	run think -a . "q?"
	assert_status 3
	assert_output "rk-attach: .: not a regular file"
	[ ! -e t.db ]
	run think -a
	assert_status 2
	assert_output "rk: -a needs a file"
}

@test "rk-attach: an empty file adds nothing; a record with an error passes unchanged" {
	: >empty.txt
	run sh -c 'echo q | rk-attach empty.txt 2>&1 >/dev/null'
	assert_output "rk-attach: empty.txt: empty, nothing attached"
	printf 'x\n' >x.txt
	e='{"rk":1,"id":"01J0000000000000000000000E","query":"q","error":{"stage":"rk-llm","code":"http-401","message":"no"}}'
	run rk-attach x.txt <<<"$e"
	assert_output "$e"
}

# --- -c, --cont: follow-up questions --------------------------------------

@test "-c continues the last run: its question, answer and conclusion as context, the parent in the record" {
	think -p quick "Should we adopt Rust?" >1.json
	think -p quick -c "And for a team of 50?" >2.json
	id1=$(jq -r .id 1.json)
	[ "$(jq -r .parent 2.json)" = "$id1" ]
	[ "$(jq -r .query 2.json)" = "And for a team of 50?" ]
	run jq -r '.context[0].doc, .context[0].text' 2.json
	assert_output "run $id1
Question: Should we adopt Rust?
Answer: $(jq -r .answer 1.json)
Conclusion: $(jq -r .conclusion 1.json)"
	[ "$(jq '.context | length' 2.json)" -eq 1 ]
	# stored with its parent, and the report says which run it continues
	id2=$(jq -r .id 2.json)
	[ "$(rk-trace -d t.db -f json show "$id2" | jq -r .parent)" = "$id1" ]
	rk-trace -d t.db show "$id2" >report
	grep -q "^continues $id1\$" report
	grep -q "^context   1 passage from run $id1\$" report
}

@test "a follow-up's prompts that place context, the conclusion's too, hold the earlier answer" {
	start_fake
	export RK_PROVIDER=openai RK_MODEL=fake/ok RK_BASE_URL=$URL
	rk think -t gigathink -d t.db -f json "Adopt Rust?" >1.json
	: >fake.log
	rk think -t gigathink -d t.db -f json --continue "And for 50?" >2.json
	n=$(wc -l <fake.log)
	[ "$n" -eq 4 ]
	answer=$(jq -r .answer 1.json)
	# the first step of gigathink and the conclusion place the context
	for i in 1 4; do
		asked "$i" | grep -qF "Answer: $answer" ||
		    { echo "request $i lacks the answer"; return 1; }
	done
	asked "$n" | grep -q '^Question: And for 50?$'
}

@test "--cont ID continues that run; a chain of follow-ups carries the runs before" {
	think -t gigathink "First?" >a.json
	think -t gigathink "Unrelated?" >b.json
	a=$(jq -r .id a.json) b=$(jq -r .id b.json)
	think -t gigathink --cont "$a" "Second?" >c.json
	[ "$(jq -r .parent c.json)" = "$a" ]
	think -t gigathink -c "Third?" >d.json
	c=$(jq -r .id c.json)
	run jq -c '[.parent, [.context[].doc]]' d.json
	assert_output "[\"$c\",[\"run $c\",\"run $a\"]]"
	# --cont=ID, a prefix, and with -a: the run first, then the files
	printf 'notes\n' >n.txt
	think -t gigathink --cont="${b:0:20}" -a n.txt "Fourth?" >e.json
	run jq -c '[.parent, [.context[].doc]]' e.json
	assert_output "[\"$b\",[\"run $b\",\"n.txt\"]]"
}

@test "-c with nothing stored is exit 5; --cont with an unknown run is rk-trace's error" {
	run think -c "and then?"
	assert_status 5
	assert_output "rk: think: -c: no run to continue"
	think -t gigathink "First?" >/dev/null
	run think --cont 01ZZZZ "and then?"
	assert_status 2
	assert_output "rk-trace: 01ZZZZ: no such run"
	run think --cont
	assert_status 2
	assert_output "rk: --cont needs a run id"
}

@test "rk-attach --parent takes only the record of a run" {
	printf 'just a line\n' >p.txt
	run rk-attach --parent p.txt </dev/null
	assert_status 3
	assert_output "rk-attach: p.txt: not the record of a run"
	: >p0.txt
	run rk-attach --parent p0.txt </dev/null
	assert_status 3
	assert_output "rk-attach: p0.txt: no record"
}

@test "bash completion: -a, --cont" {
	source "$BATS_TEST_DIRNAME/../completion/rk.bash"
	complete_words() {
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		COMPREPLY=()
		_rk
		printf '%s\n' "${COMPREPLY[@]}"
	}
	[ "$(complete_words rk think --att)" = --attach ]
	[ "$(complete_words rk think --conti)" = --continue ]
	printf 'x\n' >notes.txt
	[ "$(complete_words rk think -a note)" = notes.txt ]
}

# --- rk models, estimates in rk tokens ------------------------------------

@test "rk models: the provider's models, sorted, with window and prices from the table" {
	start_fake
	export RK_PROVIDER=openai-compatible
	run rk models --base-url "$URL"
	assert_status 0
	assert_output "MODEL                              CONTEXT    IN \$/M   OUT \$/M
claude-sonnet-4-5                   200000      3.00     15.00
fake-unpriced                            -         -         -
fake/ok                                  -      1.00      2.00
gpt-4o-mini                         128000      0.15      0.60"
	run jq -c '[.method, .path]' fake.log
	assert_output '["GET","/v1/models"]'
	run rk models -f json --base-url "$URL"
	assert_output '{"model":"claude-sonnet-4-5","window":200000,"in":3.0,"out":15.0}
{"model":"fake-unpriced"}
{"model":"fake/ok","window":null,"in":1.0,"out":2.0}
{"model":"gpt-4o-mini","window":128000,"in":0.15,"out":0.6}'
}

@test "rk models: Anthropic's list asked 1000 at a time, with its key header; settings from the config file" {
	start_fake
	mkdir -p config/reasonkit
	printf 'provider = anthropic-compatible\nbase-url = %s\n' "$URL" >config/reasonkit/config
	RK_API_KEY=sk-test-1 rk models -f json >out
	[ "$(wc -l <out)" -eq 4 ]
	run jq -c '[.method, .path, ."x-api-key"]' fake.log
	assert_output '["GET","/v1/models?limit=1000","sk-test-1"]'
}

@test "rk models: --mock, --prices, no provider 4, an unreachable one 6" {
	run rk models --mock
	assert_output "MODEL                              CONTEXT    IN \$/M   OUT \$/M
mock-1                                   -      0.00      0.00"
	run rk models --prices -f json
	assert_status 0
	[ "${lines[0]}" = '{"model":"mock*","window":null,"in":0.0,"out":0.0}' ]
	printf '%s\n' "$output" | grep -qx '{"model":"claude-sonnet-4\*","window":200000,"in":3.0,"out":15.0}'
	run rk models
	assert_status 4
	assert_output "rk-models: no model provider configured: set RK_PROVIDER (see rk-llm(1)), or --prices for the price table"
	run rk models --provider openai-compatible --base-url http://127.0.0.1:1/v1
	assert_status 6
	assert_match '^rk-models: http://127.0.0.1:1/v1: '
}

@test "rk tokens -m: a model of the price table without a public tokenizer is a marked estimate" {
	run rk tokens -m claude-sonnet-4-20250514 <<<'Hello world, how are you?'
	assert_status 0
	assert_output "7 estimate"
	# the estimate is the cl100k_base count
	[ "$(rk tokens -e cl100k_base <<<'Hello world, how are you?')" = 7 ]
	run rk tokens -m gemini-2.0-flash <<<'{"query":"Hello"}'
	assert_match '"tokens":\{"encoding":"cl100k_base","query":1,"estimate":true\}'
	# OpenAI's models are exact, unmarked
	run rk tokens -m gpt-4o-mini <<<'Hello world, how are you?'
	assert_output 7
	run rk tokens --ids -m claude-opus-4 <<<'x'
	assert_status 2
	assert_output "rk-tokens: claude-opus-4: no public tokenizer, so no ids; counts are estimates"
	run rk tokens -m no-such-model <<<'x'
	assert_status 2
	assert_output "rk-tokens: no-such-model: unknown model"
}

@test "rk tokens -m: a model added in the user's price table is accepted" {
	mkdir -p config/reasonkit
	printf 'my-local-model\t0\t0\t8192\n' >config/reasonkit/prices.tsv
	run rk tokens -m my-local-model <<<'Hello'
	assert_output "1 estimate"
}
