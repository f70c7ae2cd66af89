#!/usr/bin/env bats
# rk-prompt: requests for the next step; rk-llm --mock fulfils them

load helper

# step N times: prompt then the offline model
steps() {
	local sel=$1 n=$2 i
	cat >in.ndjson
	for i in $(seq "$n"); do
		rk-prompt $sel <in.ndjson | rk-llm --mock >out.ndjson || return 1
		mv out.ndjson in.ndjson
	done
	rk-prompt $sel <in.ndjson
}

@test "a question starts a record with the first request" {
	run rk-prompt gigathink "Is remote work here to stay?"
	assert_status 0
	[ "${#lines[@]}" -eq 1 ]
	printf '%s\n' "$output" >rec.json
	[ "$(jq -c '[.rk, .query, .protocol, (.id | length), .request.protocol, .request.step, .request.link, .request.output, .request.min_items, .request.max_items, .request.max_tokens, .request.temperature]' rec.json)" = \
	    '[1,"Is remote work here to stay?","gigathink",26,"gigathink","identify_dimensions",0,"list",5,10,600,0.7]' ]
	[ "$(jq -r '.request.messages[1].content' rec.json)" = "Question: Is remote work here to stay?
List 5-10 distinct dimensions of it (economic,
technical, human, risk...), numbered, a label and one line each." ]
	[ "$(jq -r '.request.messages[0].role' rec.json)" = system ]
}

@test "text lines on stdin each start a record; blank lines are skipped" {
	printf 'first question\n\n  \nsecond question\n' >q.txt
	run rk-prompt laserlogic <q.txt
	assert_status 0
	[ "${#lines[@]}" -eq 2 ]
	[ "$(printf '%s\n' "$output" | jq -r '.query + "|" + .request.step')" = "first question|extract_claims
second question|extract_claims" ]
	[ "$(printf '%s\n' "$output" | jq -r .id | sort -u | wc -l)" -eq 2 ]
}

@test "{{#if context}} places retrieved passages only when there are some" {
	echo '{"query":"Is coffee healthy?","context":[{"doc":"d1","chunk":0,"score":3.2,"text":"Coffee lowers risk X."}]}' >r.json
	run rk-prompt gigathink <r.json
	assert_status 0
	[ "$(printf '%s' "$output" | jq -r '.request.messages[1].content' | head -3)" = "Question: Is coffee healthy?
Sources:
[1] (d1) Coffee lowers risk X." ]
	run rk-prompt gigathink "Is coffee healthy?"
	[ "$(printf '%s' "$output" | jq -r '.request.messages[1].content' | sed -n 2p)" = "List 5-10 distinct dimensions of it (economic," ]
}

@test "passages are packed up to RK_CONTEXT_TOKENS, best first" {
	echo '{"query":"Is coffee healthy?","context":[{"doc":"d1","chunk":0,"score":3.2,"text":"Coffee lowers risk X."},{"doc":"d2","chunk":0,"score":2.2,"text":"Coffee raises blood pressure a little in most adults."}]}' >r.json
	rk-prompt gigathink <r.json >all.json
	[ "$(jq -c '.request.context_used' all.json)" = 2 ]
	RK_CONTEXT_TOKENS=12 rk-prompt gigathink <r.json >one.json
	[ "$(jq -c '.request.context_used' one.json)" = 1 ]
	[ "$(jq -r '.request.messages[1].content' one.json | head -4)" = "Question: Is coffee healthy?
Sources:
[1] (d1) Coffee lowers risk X.
List 5-10 distinct dimensions of it (economic," ]
	RK_CONTEXT_TOKENS=3 rk-prompt gigathink <r.json >none.json
	[ "$(jq -c '.request.context_used' none.json)" = 0 ]
	[ "$(jq -r '.request.messages[1].content' none.json | sed -n 2p)" = "List 5-10 distinct dimensions of it (economic," ]
	RK_CONTEXT_TOKENS=lots run rk-prompt gigathink <r.json
	assert_status 2
	assert_output "rk-prompt: RK_CONTEXT_TOKENS: not a number: 'lots'"
}

@test "a protocol runs its three steps in order, each seeing the one it depends on" {
	run steps gigathink 4 < <(rk-prompt gigathink "Should we rewrite it in Rust?")
	assert_status 0
	printf '%s\n' "$output" >final.json
	[ "$(jq -c '[.steps[] | .step]' final.json)" = '["identify_dimensions","explore_perspectives","synthesize","answer"]' ]
	[ "$(jq -c '[.steps[] | .output.type]' final.json)" = '["list","text","text","answer"]' ]
	[ "$(jq -c 'has("request")' final.json)" = false ]
	[ "$(jq -c '.result | [.steps, .min_confidence, .pass == (.confidence >= 0.7)]' final.json)" = '[4,0.7,true]' ]
	# the conclusion saw the question and the protocol's last output
	[ "$(jq -c '[.steps[3].protocol, .steps[3].link, (.answer | type), (.conclusion | length > 0)]' final.json)" = '["conclude",1,"string",true]' ]
	# the second prompt carried the first step's items, numbered
	first=$(jq -r '.steps[0].output.items[0]' final.json)
	rk-prompt gigathink "Should we rewrite it in Rust?" | rk-llm --mock | rk-prompt gigathink >two.json
	jq -r '.request.messages[1].content' two.json | grep -qxF "1. $first"
}

@test "the mock model is deterministic and differs by question" {
	a=$(rk-prompt gigathink "alpha question" | rk-llm --mock | jq -c 'del(.id) | .steps[0] | del(.ms)')
	b=$(rk-prompt gigathink "alpha question" | rk-llm --mock | jq -c 'del(.id) | .steps[0] | del(.ms)')
	c=$(rk-prompt gigathink "another topic entirely" | rk-llm --mock | jq -c 'del(.id) | .steps[0] | del(.ms)')
	[ "$a" = "$b" ]
	[ "$a" != "$c" ]
}

@test "profile conditions decide which links run: balanced with high and low confidence" {
	export RK_MOCK_CONFIDENCE=0.95
	run steps "-p balanced" 13 < <(rk-prompt -p balanced "Is the sky blue?")
	printf '%s\n' "$output" >high.json
	[ "$(jq -c '[.steps[] | .protocol] | unique' high.json)" = '["conclude","gigathink","laserlogic","proofguard"]' ]
	[ "$(jq -c '.skipped' high.json)" = '[{"protocol":"bedrock","link":2,"when":"confidence < 0.9"}]' ]
	[ "$(jq -c '.result' high.json)" = '{"confidence":0.95,"min_confidence":0.8,"pass":true,"steps":10}' ]
	# proofguard's input fell back to the question: bedrock did not run
	export RK_MOCK_CONFIDENCE=0.5
	run steps "-p balanced" 13 < <(rk-prompt -p balanced "Is the sky blue?")
	printf '%s\n' "$output" >low.json
	[ "$(jq -c '[.steps[] | .protocol + "." + .step] | length' low.json)" = 13 ]
	[ "$(jq -c '.skipped' low.json)" = null ]
	[ "$(jq -c '.result' low.json)" = '{"confidence":0.5,"min_confidence":0.8,"pass":false,"steps":13}' ]
}

@test "paranoid runs proofguard twice as separate links; overrides reach the request" {
	export RK_MOCK_CONFIDENCE=0.9
	run steps "-p paranoid" 19 < <(rk-prompt -p paranoid "Will fusion power be cheap by 2050?")
	printf '%s\n' "$output" >p.json
	[ "$(jq -c '[.steps[] | select(.protocol == "proofguard") | .link] | unique' p.json)" = '[3,5]' ]
	[ "$(jq -r '.result.steps' p.json)" = 19 ]
	# brutalhonesty's link sets temperature 0.3
	rk-prompt -p paranoid "x" >s.json
	for i in $(seq 12); do rk-llm --mock <s.json | rk-prompt -p paranoid >t.json; mv t.json s.json; done
	[ "$(jq -c '[.request.protocol, .request.temperature]' s.json)" = '["brutalhonesty",0.3]' ]
	# quick's gigathink link caps max_tokens at 500
	[ "$(rk-prompt -p quick q | jq .request.max_tokens)" = 500 ]
}

@test "chaining protocols by hand feeds one protocol's last output to the next" {
	rk-prompt bedrock "Prices always rise" >a.json
	for i in 1 2 3 4; do rk-llm --mock <a.json | rk-prompt bedrock >b.json; mv b.json a.json; done
	[ "$(jq -c .result.steps a.json)" = 4 ]
	rk-prompt laserlogic <a.json >c.json
	[ "$(jq -c '[.request.protocol, .request.link]' c.json)" = '["laserlogic",2]' ]
	last=$(jq -r '.conclusion' a.json)
	[ "$(jq -r '.request.messages[1].content' c.json | sed -n 1p)" = "Argument: $(printf '%s\n' "$last" | head -1)" ]
}

@test "performance mode uses compact prompts and skips optional steps" {
	rk-prompt --performance-mode gigathink "q" | rk-llm --mock | rk-prompt --performance-mode gigathink >a.json
	[ "$(jq -r '.request.messages[1].content' a.json | sed '/^$/d' | tail -1)" = "One key insight per dimension." ]
	export RK_MOCK_CONFIDENCE=0.8
	run steps "--performance-mode laserlogic" 3 < <(rk-prompt --performance-mode laserlogic "q")
	[ "$(printf '%s' "$output" | jq -c '[.steps[].step]')" = '["extract_claims","check_validity","answer"]' ]
}

@test "records with an error or a pending request pass through unchanged" {
	printf '%s\n' '{"rk":1,"id":"X1","query":"q","error":{"stage":"rk-llm","code":"http-500","message":"boom"}}' \
	    '{"rk":1,"id":"X2","query":"q","request":{"protocol":"gigathink"},"extra":[1,2]}' >in.ndjson
	run rk-prompt gigathink <in.ndjson
	assert_status 1
	[ "$output" = "$(cat in.ndjson)" ]
}

@test "a record written with an error makes the exit status 1" {
	printf '%s\n' '{"rk":1,"id":"X2","query":"q","request":{}}' >ok
	run rk-prompt <ok
	assert_status 0
	# the light path and the full one alike
	for l in '{"rk":1,"id":"X1","error":{"code":"x"}}' '{"error":{}}'; do
		run rk-prompt <<<"$l"
		assert_status 1
	done
}

@test "bad input lines become error records, in place, and the exit is 3" {
	printf 'good one\n{"query": bad json\n\xff\xfe bad utf8\nlast one\n' >in.txt
	run rk-prompt gigathink <in.txt
	assert_status 3
	[ "$(printf '%s\n' "$output" | grep -c '^{')" -eq 4 ]
	[ "$(printf '%s\n' "$output" | grep '^{' | jq -r '.error.code // .request.step')" = "identify_dimensions
bad-json
bad-utf8
identify_dimensions" ]
	assert_match '^rk-prompt: stdin:2: column 13: invalid token near .bad.$'
	assert_match '^rk-prompt: stdin:3: invalid UTF-8$'
}

@test "a line over the record limit is an error record, not a crash" {
	{ echo short; head -c 3000 /dev/zero | tr '\0' a; echo; echo after; } >in.txt
	RK_MAX_RECORD=1k run rk-prompt gigathink <in.txt
	assert_status 3
	[ "$(printf '%s\n' "$output" | grep '^{' | jq -r '.error.code // .query')" = "short
too-long
after" ]
	assert_match 'stdin:2: line of 3000 bytes is over the record limit of 1024 \(RK_MAX_RECORD\)'
}

@test "a limit too small for the error record still writes it, status 3" {
	q=$(head -c 120 /dev/zero | tr '\0' a)
	echo "{\"rk\":1,\"id\":\"x\",\"query\":\"$q\"}" >in.json
	RK_MAX_RECORD=150 run rk-prompt -p quick <in.json
	assert_status 3
	assert_output 'rk-prompt: x: record over the limit of 150 bytes
{"rk":1,"id":"x","profile":"quick","error":{"stage":"rk-prompt","code":"too-long","message":"record is over the record limit of 150 bytes (RK_MAX_RECORD)"}}'
}

@test "empty input gives no output and status 0" {
	run rk-prompt gigathink </dev/null
	assert_status 0
	assert_output ""
}

@test "unknown protocols and names like ../x are refused before reading" {
	run rk-prompt nosuch "q"
	assert_status 4
	assert_output "rk-prompt: unknown protocol 'nosuch' (rk-parse -l lists them)"
	run rk-prompt ../x "q"
	assert_status 4
	assert_output "rk-prompt: bad protocol name '../x'"
	run rk-prompt -p ../../etc/passwd "q"
	assert_status 4
	assert_output "rk-prompt: bad profile name '../../etc/passwd'"
}

@test "a record without profile or protocol, with none given, is an error record" {
	echo '{"query":"q"}' >in.json
	run rk-prompt <in.json
	assert_status 4
	[ "$(printf '%s\n' "$output" | grep '^{' | jq -r .error.code)" = no-protocol ]
}

@test "rk-prompt options: --help, --version, bad usage" {
	run rk-prompt --help
	assert_status 0
	assert_match '^usage: rk-prompt'
	run rk-prompt --version
	assert_output "rk-prompt 0.1.0"
	run rk-prompt -Z
	assert_status 2
}

@test "rk-llm without a provider says how to configure one" {
	run rk-llm </dev/null
	assert_status 4
	assert_output "rk-llm: no model provider configured: set RK_PROVIDER, or use --mock for the built-in offline model (see rk-llm(1))"
}

@test "fields rk-prompt does not own come through with the same values, however written" {
	printf '%s\n' '{ "rk" : 1 , "id":"01ABC", "query":"Is {x} \"quoted\" \\ ok?", "weird":{"a":[1,2,{"b":"}]\"["}],"c":null,"d":1e3,"e":"\u00e9\ud83d\ude00"} , "steps" : [ ], "x\"y":true }' \
	    '{"rk":1,"id":"01ABD","query":"q","steps":[{"protocol":"gigathink","step":"identify_dimensions","link":0,"output":{"type":"list","items":["a}","b\"]"]},"confidence":0.9,"text":"1. a}\n2. b\"]\n{","extra":{"k":[{}]}}],"z":[]}' >in.ndjson
	rk-prompt gigathink <in.ndjson >out.ndjson
	[ "$(wc -l <out.ndjson)" -eq 2 ]
	for i in 1 2; do
		[ "$(sed -n "${i}p" in.ndjson | jq -S .)" = "$(sed -n "${i}p" out.ndjson | jq -S 'del(.request, .protocol)')" ]
	done
	[ "$(sed -n 2p out.ndjson | jq -r .request.step)" = explore_perspectives ]
	sed -n 2p out.ndjson | jq -r '.request.messages[1].content' | grep -qxF '2. b"]'
}

@test "a profile whose protocol is missing gives an error record, exit 4" {
	mkdir -p p
	printf 'profiles:\n  - id: ghostly\n    description: d\n    chain:\n      - protocol: ghost\n' >p/profiles.yaml
	RK_PROTOCOL_PATH="$TMP/p" run rk-prompt -p ghostly "q"
	assert_status 4
	[ "$(printf '%s\n' "$output" | grep '^{' | jq -c '[.error.code, .error.message]')" = \
	    '["unknown-protocol","unknown protocol '"'ghost'"' (rk-parse -l lists them)"]' ]
	RK_PROTOCOL_PATH="$TMP/p" run rk-parse -q
	assert_status 4
}

@test "a profile named as a protocol, and near misses, are said so" {
	run rk-prompt quick q
	assert_status 4
	assert_output "rk-prompt: quick is a profile, not a protocol: use -p quick"
	run rk-prompt laserlogik q
	assert_status 4
	assert_output "rk-prompt: unknown protocol 'laserlogik': did you mean laserlogic?"
	run rk-prompt -p paranoyd q
	assert_status 4
	assert_output "rk-prompt: unknown profile 'paranoyd': did you mean paranoid?"
}

@test "a protocol's file that defines no protocol is refused, not a crash" {
	mkdir p
	printf 'profiles: []\n' >p/foo.yaml
	RK_PROTOCOL_PATH="$TMP/p" run rk-prompt foo q
	assert_status 4
	assert_output "rk-prompt: $TMP/p/foo.yaml: not a protocol"
}

@test "a name that cannot work still turns each record into an error record, said once" {
	printf '%s\n' '{"query":"q"}' '{"query":"r","error":{"stage":"x","code":"y","message":"z"}}' >in
	run sh -c 'rk-prompt nosuch <in 2>err'
	assert_status 4
	[ "$(printf '%s\n' "$output" | jq -c '[.query, .error.code, .error.status]')" = '["q","bad-config",4]
["r","y",null]' ]
	run cat err
	assert_output "rk-prompt: unknown protocol 'nosuch' (rk-parse -l lists them)"
}

@test "a request carries its step's number in the run" {
	rk-prompt gigathink "Is it?" >one.json
	rk-llm --mock <one.json | rk-prompt gigathink >two.json
	rk-prompt --performance-mode -p quick "Is it?" >perf.json
	run jq -sc 'map(.request | [.protocol, .index, .of])' one.json \
	    two.json perf.json
	assert_output '[["gigathink",1,null],["gigathink",2,null],["gigathink",1,null]]'
	[ "$(rk-parse --steps --performance-mode -p quick)" = 6 ]
}
