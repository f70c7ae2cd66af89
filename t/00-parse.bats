#!/usr/bin/env bats
# rk-parse: loading, checking and printing protocol and profile definitions

load helper

@test "rk-parse -l lists the seven protocols and six profiles" {
	run rk-parse -l
	assert_status 0
	[ "${#lines[@]}" -eq 13 ]
	[ "$(printf '%s\n' "$output" | awk '$2 == "protocol" { print $1 }' | tr '\n' ' ')" = \
	    "bedrock brutalhonesty conclude gigathink laserlogic proofguard raw " ]
	[ "$(printf '%s\n' "$output" | awk '$2 == "profile" { print $1 }' | tr '\n' ' ')" = \
	    "quick balanced deep paranoid decide scientific " ]
	assert_match '^balanced +profile +.*\(gigathink > laserlogic > bedrock > proofguard > conclude\)$'
}

@test "rk-parse with no argument checks everything and prints canonical JSON" {
	run rk-parse
	assert_status 0
	[ "${#lines[@]}" -eq 13 ]
	[ "$(printf '%s\n' "$output" | jq -r '.id' | head -1)" = bedrock ]
	run rk-parse -q
	assert_status 0
	assert_output ""
}

@test "a protocol prints with its steps, actions and outputs" {
	run rk-parse gigathink
	assert_status 0
	[ "$(printf '%s' "$output" | jq -c '[.id, .input, [.steps[] | [.id, .action, .output, .depends_on]]]')" = \
	    '["gigathink","query",[["identify_dimensions","generate","list",[]],["explore_perspectives","analyze","text",["identify_dimensions"]],["synthesize","synthesize","text",["explore_perspectives"]]]]' ]
}

@test "a profile prints with its chain, conditions and overrides" {
	run rk-parse paranoid
	assert_status 0
	[ "$(printf '%s' "$output" | jq -c '[.min_confidence, [.chain[] | [.protocol, .input, .when]], .chain[4].temperature]')" = \
	    '[0.95,[["gigathink","question","always"],["laserlogic","gigathink.synthesize","always"],["bedrock","laserlogic.check_validity","always"],["proofguard","bedrock.identify_axioms","always"],["brutalhonesty","proofguard.triangulate","always"],["proofguard","brutalhonesty.verdict","confidence < 0.95"],["conclude","question","always"]],0.3]' ]
}

@test "rk-parse --steps counts the most steps a pipeline can run" {
	run rk-parse --steps -p quick
	assert_output 7
	run rk-parse --steps -p paranoid
	assert_output 19
	run rk-parse --steps --performance-mode -p paranoid
	assert_output 18
	# a protocol alone is followed by the conclusion
	run rk-parse --steps laserlogic
	assert_output 4
	run rk-parse --steps conclude
	assert_output 1
}

@test "bad definitions are reported as file:line:col with status 4" {
	cd "$FIXTURES"
	while IFS='|' read -r file msg; do
		run rk-parse -q "$file"
		assert_status 4
		assert_output "rk-parse: $file:$msg"
	done <<'EOF2'
protocols/badaction.yaml|5:13: unknown action 'ponder' (generate, analyze, synthesize, validate, critique, decide, cross_reference, conclude)
protocols/badif.yaml|6:13: {{#if}} without {{/if}}
protocols/badref.yaml|6:17: step 'a' depends on unknown step 'nosuch'
protocols/badvar.yaml|8:7: unknown template variable '{{qeury}}'
protocols/cycle.yaml|6:17: step 'a': dependency cycle
protocols/missing.yaml|1:1: missing 'description'
protocols/nodep.yaml|9:13: step 'b' uses '{{a}}' but does not depend on it
protocols/syntax.yaml|4:1: found unexpected end of stream while scanning a quoted scalar
protocols/typo.yaml|6:5: unknown key 'stpes' in a step
protocols/wrongname.yaml|1:5: protocol 'other' must be in a file named other.yaml
profiles/badcond.yaml|6:15: bad condition 'confidence is low' (expected 'confidence < 0.9', 'verdict == fail' or 'always')
EOF2
}

@test "profiles that name missing protocols or inputs are refused" {
	cd "$FIXTURES"
	run rk-parse -q profiles/badinput.yaml
	assert_status 4
	assert_output "rk-parse: profiles/badinput.yaml: profile 'badinput', link 2: input 'bedrock.decompose' is not 'question' or protocol.step of an earlier link"
	run rk-parse -q profiles/unknownproto.yaml
	assert_status 4
	assert_output "rk-parse: profiles/unknownproto.yaml: profile 'unknownproto': unknown protocol 'nosuch' (rk-parse -l lists them)"
}

@test "unknown and malicious names are refused" {
	run rk-parse nosuch
	assert_status 4
	assert_output "rk-parse: nosuch: no such protocol or profile"
	run rk-parse --steps ../x
	assert_status 4
	assert_output "rk-parse: bad protocol name '../x'"
	run rk-parse --steps -p ../x
	assert_status 4
	assert_output "rk-parse: bad profile name '../x'"
}

@test "user protocols in XDG_CONFIG_HOME add to and override the built-in ones" {
	mkdir -p "$XDG_CONFIG_HOME/reasonkit/protocols"
	sed 's/^description: .*/description: my own GigaThink/' \
	    "$BATS_TEST_DIRNAME/../protocols/gigathink.yaml" \
	    >"$XDG_CONFIG_HOME/reasonkit/protocols/gigathink.yaml"
	cat >"$XDG_CONFIG_HOME/reasonkit/protocols/echo.yaml" <<'EOF2'
id: echo
description: say it back
steps:
  - id: say
    action: analyze
    prompt: "Repeat: {{query}}"
EOF2
	run rk-parse -l
	assert_status 0
	assert_match '^gigathink +protocol +my own GigaThink$'
	assert_match '^echo +protocol +say it back$'
	run rk-prompt echo "hello"
	assert_status 0
	[ "$(printf '%s' "$output" | jq -r '.request.messages[0].content')" = "Repeat: hello" ]
}

@test "a broken user file stops rk-parse with its location" {
	mkdir -p "$XDG_CONFIG_HOME/reasonkit/protocols"
	cp "$FIXTURES/protocols/typo.yaml" "$XDG_CONFIG_HOME/reasonkit/protocols/"
	run rk-parse -q
	assert_status 4
	assert_output "rk-parse: $XDG_CONFIG_HOME/reasonkit/protocols/typo.yaml:6:5: unknown key 'stpes' in a step"
}

@test "rk-parse options: --help, --version, bad usage" {
	run rk-parse --help
	assert_status 0
	assert_match '^usage: rk-parse'
	run rk-parse --version
	assert_status 0
	assert_output "rk-parse 0.1.0"
	run rk-parse -x
	assert_status 2
	run rk-parse --steps
	assert_status 2
	run rk-parse --steps -p quick gigathink
	assert_status 2
	run rk-parse -p quick
	assert_status 2
	run rk-parse -l gigathink
	assert_status 2
}

@test "the parsed-YAML cache follows edits and survives corruption" {
	mkdir -p "$XDG_CONFIG_HOME/reasonkit/protocols"
	f="$XDG_CONFIG_HOME/reasonkit/protocols/echo.yaml"
	printf 'id: echo\ndescription: first\nsteps:\n  - id: say\n    action: analyze\n    prompt: "{{query}}"\n' >"$f"
	run rk-parse -l
	assert_match '^echo +protocol +first$'
	[ "$(ls "$XDG_CACHE_HOME/reasonkit/yaml" | wc -l)" -ge 1 ]
	sed -i 's/first/later/' "$f"
	run rk-parse -l
	assert_match '^echo +protocol +later$'
	for c in "$XDG_CACHE_HOME"/reasonkit/yaml/*; do
		head -c 100 "$c" >"$c.x" && mv "$c.x" "$c"
	done
	run rk-parse -l
	assert_status 0
	assert_match '^echo +protocol +later$'
	sed -i "s/^steps:/stpes:/" "$f"
	run rk-parse -q
	assert_status 4
	assert_output "rk-parse: $f:3:1: unknown key 'stpes' in a protocol"
	run rk-parse -q
	assert_output "rk-parse: $f:3:1: unknown key 'stpes' in a protocol"
}

@test "a FIFO named like a protocol is not read: no wait, a clear error" {
	mkdir -p "$XDG_CONFIG_HOME/reasonkit/protocols"
	mkfifo "$XDG_CONFIG_HOME/reasonkit/protocols/x.yaml"
	run timeout 10 rk-parse -l
	assert_status 4
	assert_output "rk-parse: $XDG_CONFIG_HOME/reasonkit/protocols/x.yaml: not a regular file"
	run timeout 10 rk-parse x
	assert_status 4
	run timeout 10 rk-parse "$XDG_CONFIG_HOME/reasonkit/protocols/x.yaml"
	assert_status 4
}

# repeat N OPEN CLOSE: OPEN N times, x, CLOSE N times, on one line
repeat() {
	awk -v n="$1" -v o="$2" -v c="$3" 'BEGIN {
		for (i = 0; i < n; i++) printf "%s", o; printf "x"
		for (i = 0; i < n; i++) printf "%s", c; print "" }'
}

@test "YAML nested deeper than 64 levels is refused at its line and column" {
	{ printf 'id: ok\ndescription: '; repeat 63 '[' ']'; } >ok.yaml
	run rk-parse -q ok.yaml
	assert_status 4
	assert_output "rk-parse: ok.yaml:2:14: 'description' must be a single value"
	{ printf 'id: deep\ndescription: '; repeat 64 '[' ']'; } >deep.yaml
	run rk-parse -q deep.yaml
	assert_status 4
	assert_output "rk-parse: deep.yaml:2:77: nested more than 64 levels deep"
	for n in 65 60000; do
		{ printf 'x: '; repeat $n '[' ']'; } >seq.yaml
		run rk-parse -q seq.yaml
		assert_status 4
		assert_output "rk-parse: seq.yaml:1:67: nested more than 64 levels deep"
	done
	{ printf 'x: '; repeat 60000 '{a: ' '}'; } >map.yaml
	run rk-parse -q map.yaml
	assert_status 4
	assert_output "rk-parse: map.yaml:1:256: nested more than 64 levels deep"
	repeat 60000 '- ' '' >block.yaml
	run rk-parse -q block.yaml
	assert_status 4
	assert_output "rk-parse: block.yaml:1:129: nested more than 64 levels deep"
	awk 'BEGIN { for (i = 0; i < 100; i++) printf "%*sa:\n", 2 * i, "" }' \
	    >indent.yaml
	run rk-parse -q indent.yaml
	assert_status 4
	assert_output "rk-parse: indent.yaml:65:129: nested more than 64 levels deep"
}

@test "a deep user protocol stops rk-parse, rk-prompt and rk list, not a crash" {
	d="$XDG_CONFIG_HOME/reasonkit/protocols"
	mkdir -p "$d"
	{ printf 'x: '; repeat 60000 '[' ']'; } >"$d/deep.yaml"
	msg="$d/deep.yaml:1:67: nested more than 64 levels deep"
	run rk-parse -l
	assert_status 4
	assert_output "rk-parse: $msg"
	run rk list
	assert_status 4
	assert_output "rk-parse: $msg"
	run rk-prompt deep q
	assert_status 4
	assert_output "rk-prompt: $msg"
}

# protocol N: a protocol whose prompt nests N {{#if}} blocks
protocol() {
	printf 'id: %s\ndescription: d\nsteps:\n  - id: a\n    action: analyze\n    prompt: "' "$2"
	repeat "$1" '{{#if query}}' '{{/if}}' | tr -d '\n'
	printf '"\n'
}

@test "templates nest {{#if}} at most 32 deep" {
	mkdir p
	protocol 32 ok >p/ok.yaml
	protocol 33 deep >p/deep.yaml
	protocol 100000 deeper >p/deeper.yaml
	run rk-parse -q p/ok.yaml
	assert_status 0
	RK_PROTOCOL_PATH="$TMP/p" run rk-prompt ok q
	assert_status 0
	[ "$(printf '%s' "$output" | jq -r '.request.messages[0].content')" = x ]
	run rk-parse -q p/deep.yaml
	assert_status 4
	assert_output "rk-parse: p/deep.yaml:6:429: {{#if}} nested more than 32 deep"
	run rk-parse -q p/deeper.yaml
	assert_status 4
	assert_output "rk-parse: p/deeper.yaml:6:429: {{#if}} nested more than 32 deep"
	RK_PROTOCOL_PATH="$TMP/p" run rk-prompt deeper q
	assert_status 4
	assert_output "rk-prompt: $TMP/p/deeper.yaml:6:429: {{#if}} nested more than 32 deep"
}

@test "more than 64 steps or 64 links are refused; 64 are fine" {
	mkdir p
	for n in 64 65; do
		awk -v n=$n 'BEGIN { print "id: s" n "\ndescription: d\nsteps:"
		    for (i = 0; i < n; i++) printf "  - id: s%d\n    action: analyze\n    prompt: \"{{query}}\"\n", i }' >p/s$n.yaml
		awk -v n=$n 'BEGIN { print "profiles:\n  - id: l" n "\n    description: d\n    chain:"
		    for (i = 0; i < n; i++) print "      - protocol: s64" }' >p/l$n.yaml
	done
	export RK_PROTOCOL_PATH="$TMP/p"
	run rk-parse --steps s64
	assert_output 64
	run rk-parse -q p/s65.yaml
	assert_status 4
	assert_output "rk-parse: p/s65.yaml:4:3: more than 64 steps"
	run rk-parse -q p/l64.yaml
	assert_status 0
	run rk-parse -q p/l65.yaml
	assert_status 4
	assert_output "rk-parse: p/l65.yaml:5:7: more than 64 links"
}
