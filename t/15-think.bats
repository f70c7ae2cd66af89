#!/usr/bin/env bats
# rk think end to end on the offline model, and the rk wrapper

load helper

Q="Should a ten-person team split its monolith into microservices?"

run_json() {
	rk think --mock -d "$TMP/t.db" -f json "$@"
}

@test "every profile runs end to end; the steps that ran follow the conditions" {
	for p in quick balanced deep paranoid decide scientific; do
		run_json -p "$p" "$Q" >"$p.json"
	done
	# the mock's confidences for this question decide the branches
	[ "$(jq -c '[.steps[] | .protocol] | unique' quick.json)" = '["conclude","gigathink","laserlogic"]' ]
	[ "$(jq -c '.result.steps' quick.json)" = 7 ]
	[ "$(jq -c '[.result.steps, .skipped]' balanced.json)" = '[13,null]' ]
	[ "$(jq -c '[.result.steps, [.skipped[].protocol]]' deep.json)" = '[13,["brutalhonesty"]]' ]
	[ "$(jq -c '[.result.steps, ([.steps[] | select(.protocol == "proofguard")] | length)]' paranoid.json)" = '[19,6]' ]
	[ "$(jq -c '[.steps[] | .protocol] | unique' decide.json)" = '["bedrock","brutalhonesty","conclude","laserlogic"]' ]
	[ "$(jq -c '[.steps[0].protocol, .result.steps]' scientific.json)" = '["gigathink",10]' ]
	# every run ends with an answer: the last step's, lifted to the record
	for p in quick balanced deep paranoid decide scientific; do
		[ "$(jq -c '[.steps[-1].protocol, .answer == .steps[-1].output.answer, (.answer | length > 0), (.conclusion | length > 0)]' "$p.json")" = '["conclude",true,true,true]' ]
	done
	for p in quick balanced deep paranoid decide scientific; do
		[ "$(jq -c '[.profile, (.error // null), (.request // null)]' "$p.json")" = "[\"$p\",null,null]" ]
	done
	run rk trace -d t.db -f json ls
	[ "${#lines[@]}" -eq 6 ]
}

@test "conditions follow the confidence: paranoid's second proofguard runs only below 0.95" {
	RK_MOCK_CONFIDENCE=0.97 run_json -p paranoid "$Q" >high.json
	RK_MOCK_CONFIDENCE=0.90 run_json -p paranoid "$Q" >low.json
	[ "$(jq -c '[.result.steps, .skipped]' high.json)" = '[16,[{"protocol":"proofguard","link":5,"when":"confidence < 0.95"}]]' ]
	[ "$(jq -c '[.result.steps, .skipped, .result.pass]' low.json)" = '[19,null,false]' ]
	[ "$(jq -c '.result.pass' high.json)" = true ]
}

@test "one protocol with -t; the default profile is balanced" {
	run_json -t brutalhonesty "$Q" >b.json
	[ "$(jq -c '[.protocol, [.steps[].step], .steps[2].output.type]' b.json)" = '["brutalhonesty",["steelman","attack","verdict","answer"],"verdict"]' ]
	run_json "$Q" >d.json
	[ "$(jq -r .profile d.json)" = balanced ]
}

@test "the text report names the question, the protocols and the result" {
	run rk think --mock -p quick -d t.db -f text "$Q"
	assert_status 0
	assert_match "^question +Should a ten-person team split its monolith into microservices.$"
	assert_match '^gigathink$'
	assert_match '^laserlogic$'
	assert_match '^result +pass: confidence 0\.[0-9]+, minimum 0\.70, 7 steps$'
}

@test "the man page examples of rk(1) and reasonkit(7) work" {
	run sh -c 'rk think --mock -p quick -f json "Should we adopt Rust?" |
	    jq -c "[(.steps | length), .result.steps]"'
	assert_status 0
	assert_output '[7,7]'
	run sh -c 'rk-prompt gigathink "Should we split the monolith?" |
	    rk-llm --mock | rk-prompt | rk-llm --mock | rk-prompt |
	    rk-llm --mock | rk-prompt | rk-llm --mock | rk-prompt |
	    rk-trace -f json >run.json'
	assert_status 0
	[ "$(jq -c '[.protocol, .result.steps]' run.json)" = '["gigathink",4]' ]
	run sh -c 'rk-prompt laserlogic "All swans are white" | rk-llm --mock |
	    rk-prompt | rk-llm --mock | rk-prompt | rk-llm --mock |
	    rk-prompt | jq -c "[.steps[].step]"'
	assert_output '["extract_claims","check_validity","detect_fallacies"]'
	run sh -c 'echo "{\"query\":\"Is a monorepo right for us?\"}" |
	    rk-prompt gigathink | rk-llm --mock | jq -c ".steps[0].output.type"'
	assert_output '"list"'
	run sh -c 'rk-prompt gigathink "Is remote work here to stay?" |
	    jq -r ".request.step"'
	assert_output identify_dimensions
}

@test "40 runs through xargs -P 8 into one trace database: all 40 stored" {
	for i in $(seq 40); do echo "Question number $i: is it worth it?"; done >q.txt
	run sh -c "xargs -d '\n' -n 1 -P 8 rk think --mock -p quick -d '$TMP/many.db' -f json <q.txt >out.ndjson"
	assert_status 0
	[ "$(wc -l <out.ndjson)" -eq 40 ]
	[ "$(jq -r .query out.ndjson | sort -u | wc -l)" -eq 40 ]
	run rk trace -d many.db -f json ls -n 100
	[ "${#lines[@]}" -eq 40 ]
	[ "$(printf '%s\n' "$output" | jq -r .status | sort -u)" = completed ]
}

@test "--timing prints the breakdown of where the time went" {
	run sh -c 'rk think --mock --timing -p quick -d t.db -f json "q" 2>timing.txt >/dev/null'
	assert_status 0
	[ "$(awk '{ $NF = ""; sub(/ +[0-9.]+ *$/, ""); print }' timing.txt | tr -s ' ')" = "protocol load
prompt construction
LLM wait
reply parsing
trace write
ReasonKit overhead
total
overhead" ]
	grep -Eq '^overhead +[0-9]+\.[0-9] %$' timing.txt
}

@test "--performance-mode stores nothing and skips optional steps" {
	RK_MOCK_CONFIDENCE=0.8 run rk think --mock --performance-mode -p quick -d p.db -f json "$Q"
	assert_status 0
	[ "$(printf '%s' "$output" | jq -c '[.steps[].step]')" = '["identify_dimensions","explore_perspectives","synthesize","extract_claims","check_validity","answer"]' ]
	[ ! -e p.db ] || [ "$(rk trace -d p.db -f json ls | wc -l)" -eq 0 ]
}

@test "no provider: rk think says how to configure one, exit 4" {
	run rk think -p quick "$Q"
	assert_status 4
	assert_output "rk: no model provider configured: set RK_PROVIDER and its API key (see rk-llm(1)), or use --mock for the built-in offline model"
	RK_PROVIDER=mock run rk think -p quick -d t.db -f json "$Q"
	assert_status 0
}

@test "bad usage of rk think" {
	run rk think --mock
	assert_status 2
	assert_output "rk: think: no question"
	run rk think --mock -p quick -t gigathink q
	assert_status 2
	run rk think --mock -f yaml q
	assert_status 2
	assert_output "rk: think: -f must be text or json"
	run rk think --mock --bogus q
	assert_status 2
	assert_output "rk: think: unknown option '--bogus' (a question starting with - goes after --)"
	run rk think --mock -p nosuch q
	assert_status 4
	assert_output "rk-parse: unknown profile 'nosuch' (rk-parse -l lists them)"
	run rk think --mock -p ../x q
	assert_status 4
}

@test "rk dispatches: list, help, --version, rk foo runs rk-foo, unknown commands" {
	run rk list
	assert_status 0
	[ "${#lines[@]}" -eq 13 ]
	run rk help
	assert_status 0
	assert_match '^usage: rk think'
	run rk --version
	assert_output "rk 0.1.0"
	run rk parse --steps -p quick
	assert_output 7
	run rk nosuch
	assert_status 2
	assert_output "rk: no such command 'nosuch' (rk help)"
	run rk '../bin/sh'
	assert_status 2
	run rk
	assert_status 2
}

@test "--index retrieves passages into the record before the first prompt" {
	cp "$FIXTURES"/think/*.txt .
	rk-search -i a.db add coffee.txt tea.txt >/dev/null
	rk-search -i b.db add sleep.txt coffee.txt >/dev/null
	run_json -t gigathink -i a.db "Is coffee good for health?" >one.json
	[ "$(jq -c '[[.context[].doc], .result.steps, .error]' one.json)" = '[["coffee.txt"],4,null]' ]
	# the first prompt placed the passage, citing its source
	printf 'Is coffee good for health?\n' | rk-search -r -i a.db |
	    rk-prompt gigathink | jq -r '.request.messages[1].content' >p.txt
	grep -q '^\[1\] (coffee.txt) Coffee and health' p.txt
	# two indexes: searched each, fused by rank
	run_json -t gigathink -i a.db -i b.db "Is coffee bad for sleep?" >two.json
	[ "$(jq -c '[.context[].doc]' two.json)" = '["coffee.txt","sleep.txt"]' ]
	run rk trace -d t.db -f json show "$(jq -r .id two.json)"
	[ "$(printf '%s' "$output" | jq -c '[.context[].doc]')" = '["coffee.txt","sleep.txt"]' ]
}

@test "a step that fails is stored as failed, passed on, and the exit status is its stage's" {
	RK_MOCK_CONFIDENCE=2 run sh -c "rk think --mock -p quick -d '$TMP/e.db' -f json q 2>err.txt"
	assert_status 6
	[ "$(printf '%s' "$output" | jq -c '[.error.stage, .error.code, (.steps | length)]')" = '["rk-llm","bad-config",0]' ]
	grep -q "RK_MOCK_CONFIDENCE: not a number from 0 to 1: '2'" err.txt
	run rk trace -d e.db -f json ls -s failed
	[ "${#lines[@]}" -eq 1 ]
}

@test "rk think passes --provider, -m, --budget and --stream on to rk-llm" {
	run_json_p() { rk think -d "$TMP/t.db" -f json "$@"; }
	run_json_p --provider mock -m mock-1 -p quick "q" >a.json
	[ "$(jq -c '[.result.steps, .steps[0].model]' a.json)" = '[7,"mock-1"]' ]
	run sh -c "rk think --mock --budget 300t -p quick -d '$TMP/t.db' -f json q 2>err.txt"
	assert_status 1
	[ "$(printf '%s' "$output" | jq -c '[.error.code, (.steps | length)]')" = '["budget",2]' ]
	grep -q 'budget spent: 266 of 300 tokens used' err.txt
	run rk think --mock --budget lots -p quick q
	assert_status 2
	run rk think --mock --stream -p quick -d t.db -f json q
	assert_status 0
	run rk think --provider
	assert_status 2
	assert_output "rk: --provider needs a provider"
}

@test "every run ends with an answer: first in the report, .answer in JSON" {
	run sh -c 'rk think --mock -p quick -d t.db -f json "Is 12 * 7 equal to 84?" | jq -r .answer'
	assert_status 0
	assert_output 84
	run rk think --mock -p quick -d t.db -f text "Should we split the monolith?"
	assert_status 0
	[ "${lines[3]}" = "question  Should we split the monolith?" ]
	printf '%s\n' "${lines[4]}" | grep -Eqx 'answer    (Yes|No)'
	printf '%s\n' "${lines[5]}" | grep -q '^reasons   On monolith, '
	# the same question, the same answer; one protocol alone gets one too
	a=$(run_json -t laserlogic "Should we split the monolith?" | jq -r .answer)
	[ "answer    $a" = "${lines[4]}" ]
	run_json -t gigathink "What is 2.5 + 4?" >g.json
	[ "$(jq -c '[.answer, .steps[-1].protocol, (.conclusion | length > 0)]' g.json)" = '["6.5","conclude",true]' ]
	[ "$(run_json -t conclude "Name a colour" | jq -c '[.answer, (.steps | length)]')" = '["Start with a small, reversible trial on colour",1]' ]
}

@test "a user's profile ends with the conclusion too; its prompt carries the findings" {
	mkdir -p "$XDG_CONFIG_HOME/reasonkit/protocols"
	cat >"$XDG_CONFIG_HOME/reasonkit/protocols/profiles.yaml" <<'YAML'
profiles:
  - id: mine
    description: Mine
    min_confidence: 0.5
    chain:
      - protocol: bedrock
      - protocol: conclude
YAML
	run_json -p mine "Should prices rise?" >m.json
	[ "$(jq -c '[([.steps[].protocol] | unique), (.answer | length > 0)]' m.json)" = '[["bedrock","conclude"],true]' ]
	rk-prompt -p mine "Should prices rise?" >r.json
	for i in 1 2 3; do rk-llm --mock <r.json | rk-prompt -p mine >s.json; mv s.json r.json; done
	jq -r '.request.messages[1].content' r.json >p.txt
	grep -qx '\[bedrock.reconstruct\]' p.txt
	grep -qx 'Question: Should prices rise?' p.txt
}

@test "the report prints the digits that decide pass or FAIL" {
	RK_MOCK_CONFIDENCE=0.8 run_json -p balanced q >b.json
	run sh -c "jq -c '.result.confidence = 0.7973 | .result.pass = false' b.json | rk-trace --no-store -f text"
	assert_match '^result +FAIL: confidence 0\.7973, minimum 0\.8000, 13 steps$'
	run sh -c "jq -c '.result.confidence = 0.7 | .result.pass = false' b.json | rk-trace --no-store -f text"
	assert_match '^result +FAIL: confidence 0\.70, minimum 0\.80, 13 steps$'
}

@test "a profile given as a protocol, or a misspelt name, is said once: the right noun, a near name, exit 4" {
	run rk think --mock -t quick q
	assert_status 4
	assert_output "rk-parse: quick is a profile, not a protocol: use -p quick"
	run rk think --mock -t gigathnk q
	assert_status 4
	assert_output "rk-parse: unknown protocol 'gigathnk': did you mean gigathink?"
	run rk think --mock -p balancd q
	assert_status 4
	assert_output "rk-parse: unknown profile 'balancd': did you mean balanced?"
	run rk think --mock -p gigathink q
	assert_status 4
	assert_output "rk-parse: gigathink is a protocol, not a profile"
	run rk think --mock -t zzzzzz q
	assert_status 4
	assert_output "rk-parse: unknown protocol 'zzzzzz' (rk-parse -l lists them)"
}
