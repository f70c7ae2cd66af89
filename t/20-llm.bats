#!/usr/bin/env bats
# rk-llm with the offline mock provider: options, errors, exit statuses,
# budgets, the man page's EXAMPLES.  HTTP providers: 21-llm-http.bats.

load helper

# one pending gigathink request, and one after a first step (fixtures, so
# that changes to the protocols do not change these tests)
pending() { cat "$FIXTURES/llm/pending.ndjson"; }
second() { cat "$FIXTURES/llm/second.ndjson"; }

@test "rk-llm: --help prints the usage to stdout and exits 0" {
	run rk-llm --help
	assert_status 0
	assert_match '^usage: rk-llm \[-u\] \[-m model\] \[-P jobs\]'
	assert_match '^              \[--retry-time time\] \[--rps rate\] \[--stream\] \[--timeout time\]$'
}

@test "rk-llm: --help matches the man page SYNOPSIS" {
	check_synopsis rk-llm
}

@test "rk-llm: the man page is clean under mandoc -Tlint" {
	check_manlint rk-llm
}

@test "rk-llm: --version" {
	run rk-llm --version
	assert_status 0
	assert_match '^rk-llm [0-9]+\.[0-9]+\.[0-9]+$'
}

@test "rk-llm: an unknown option or an operand is a usage error (2)" {
	run rk-llm --frobnicate
	assert_status 2
	assert_match '^usage: rk-llm'
	run rk-llm --mock extra
	assert_status 2
	assert_match '^usage: rk-llm'
}

@test "rk-llm: no provider configured stops with status 4 and says how" {
	run rk-llm </dev/null
	assert_status 4
	assert_output "rk-llm: no model provider configured: set RK_PROVIDER, or use --mock for the built-in offline model (see rk-llm(1))"
}

@test "rk-llm: an unknown provider is a configuration error (4)" {
	run rk-llm --provider nosuch </dev/null
	assert_status 4
	assert_match "^rk-llm: unknown provider 'nosuch' \(known: mock, openai, anthropic, "
	RK_PROVIDER=nosuch run rk-llm </dev/null
	assert_status 4
}

@test "rk-llm: numeric options and variables are checked (2)" {
	for args in "-P 0" "-P 11" "-P x" "--retries -1" "--rps 0" \
	    "--timeout soon" "--idle-timeout -1" "--connect-timeout 1y" \
	    "--cache-ttl x" "--retry-time ?" "--budget 10" "--budget \$x" \
	    "--budget 0t"; do
		# shellcheck disable=SC2086
		run rk-llm --mock $args </dev/null
		[ "$status" -eq 2 ] || { echo "$args: $status $output"; false; }
	done
	RK_MAX_CONCURRENCY=20 run rk-llm --mock -P 11 </dev/null
	assert_status 0
	for v in RK_PARALLEL=0 RK_TIMEOUT=x RK_IDLE_TIMEOUT=x \
	    RK_CONNECT_TIMEOUT=x RK_RETRY_TIME=x RK_CACHE_TTL=x RK_RETRIES=x \
	    RK_RPS=x RK_BUDGET=5q RK_STREAM=maybe RK_NO_CACHE=2 \
	    RK_UNORDERED=x; do
		run env "$v" rk-llm --mock </dev/null
		[ "$status" -eq 2 ] || { echo "$v: $status $output"; false; }
	done
}

@test "rk-llm --mock: answers the request, appends a step, removes it" {
	pending | rk-llm --mock >out
	run jq -c '[has("request"), (.steps | length),
	    (.steps[0] | .model, .protocol, .step, .link, .output.type,
	    .confidence, .usage, .cached)]' out
	assert_status 0
	assert_output '[false,1,"mock-1","gigathink","identify_dimensions",0,"list",0.89,{"in":69,"out":108,"estimated":true},false]'
}

@test "rk-llm: RK_PROVIDER=mock is --mock; the mock is deterministic" {
	pending | rk-llm --mock | jq -c 'del(.id, .steps[].ms)' >a
	pending | RK_PROVIDER=mock rk-llm | jq -c 'del(.id, .steps[].ms)' >b
	run cmp a b
	assert_status 0
}

@test "rk-llm: RK_MOCK_CONFIDENCE fixes the stated confidence" {
	pending | RK_MOCK_CONFIDENCE=0.3 rk-llm --mock >out
	run jq -c '.steps[0].confidence' out
	assert_output '0.3'
	run jq -r '.steps[0].text' out
	assert_match '^Confidence: 0\.30$'
}

@test "rk-llm: a bad RK_MOCK_CONFIDENCE fails the record (6), request kept" {
	pending | RK_MOCK_CONFIDENCE=2 rk-llm --mock >out 2>err || s=$?
	[ "${s:-0}" -eq 6 ]
	run jq -c '[.error.stage, .error.code, .error.message, has("request")]' out
	assert_output '["rk-llm","bad-config","RK_MOCK_CONFIDENCE: not a number from 0 to 1: '"'2'"'",true]'
	run cat err
	assert_match "^rk-llm: [0-9A-Z]{26}: RK_MOCK_CONFIDENCE: not a number"
}

@test "rk-llm: RK_MOCK_DELAY is accepted and changes nothing else" {
	pending | RK_MOCK_DELAY=20 rk-llm --mock | jq -c 'del(.id, .steps[].ms)' >a
	pending | rk-llm --mock | jq -c 'del(.id, .steps[].ms)' >b
	run cmp a b
	assert_status 0
}

@test "rk-llm: records without a request, or with an error, pass untouched" {
	printf '%s\n' '{"id":"a","query":"x","rk":1}' \
	    '{"id":"b","query":"x","rk":1,"request":{"messages":[]},"error":{"stage":"rk-prompt","code":"x","message":"y"}}' \
	    >in
	run rk-llm --mock <in
	assert_status 1	# a record written carries an error
	assert_output "$(cat in)"
}

@test "rk-llm: malformed input becomes an error record (3)" {
	printf '{"bad json\n' | rk-llm --mock >out 2>/dev/null || s=$?
	[ "${s:-0}" -eq 3 ]
	run jq -r .error.code out
	assert_output "bad-json"
}

@test "rk-llm: a text line starts a record, which passes (no request)" {
	run sh -c 'echo "just a question" | rk-llm --mock | jq -r .query'
	assert_status 0
	assert_output "just a question"
}

@test "rk-llm: a failed record keeps its request and can be retried" {
	pending | RK_MOCK_CONFIDENCE=7 rk-llm --mock 2>/dev/null >failed || true
	jq -c 'del(.error)' failed | rk-llm --mock >retried
	run jq -c '[has("request"), has("error"), (.steps | length)]' retried
	assert_output '[false,false,1]'
}

@test "rk-llm: a token budget counts the steps already recorded (1)" {
	second >second
	rk-llm --mock --budget 100t <second >out 2>err || s=$?
	[ "${s:-0}" -eq 1 ]
	run jq -c '[.error.code, .error.message, has("request"), (.steps|length)]' out
	assert_output '["budget","budget spent: 157 of 100 tokens used, too little left for a reply (--budget, RK_BUDGET)",true,1]'
	RK_BUDGET=100000t run rk-llm --mock <second
	assert_status 0
	RK_BUDGET=100t run rk-llm --mock <second
	assert_status 1
}

@test "rk-llm: a dollar budget uses the price table; mock steps are free" {
	second >second
	run rk-llm --mock --budget '$0.01' <second
	assert_status 0
	run rk-llm --mock --budget '0.01$' <second
	assert_status 0
}

@test "rk-llm: a time budget counts the steps' model time" {
	second >second
	run rk-llm --mock --budget 0.001s <second
	assert_status 1
	assert_match 'budget spent: 1.5 of 1 ms used'
	run rk-llm --mock --budget 1m <second
	assert_status 0
}

@test "rk-llm: a user price table can add a model; a bad line is an error" {
	mkdir -p "$XDG_CONFIG_HOME/reasonkit"
	printf 'mock-1\tx\t1\n' >"$XDG_CONFIG_HOME/reasonkit/prices.tsv"
	run rk-llm --mock --budget '$1' </dev/null
	assert_status 4
	assert_match 'prices.tsv:1: expected'
}

@test "rk-llm: a prompt over the model's context window is refused before it is sent" {
	# port 1 is never reached: the refusal comes first
	rk-prompt gigathink "Is remote work here to stay?" >req.json
	RK_API_KEY=k run sh -c 'rk-llm --provider openai-compatible \
	    --base-url http://127.0.0.1:1/v1 -m fake/tiny-window <req.json 2>err.txt'
	assert_status 1
	[ "$(printf '%s' "$output" | jq -c '[.error.code, .error.message, has("request")]')" = \
	    '["context-window","request of 67 prompt tokens does not fit the 64-token context window of fake/tiny-window (prices.tsv)",true]' ]
	grep -q 'does not fit the 64-token context window' err.txt
	# a user's table can give a model its window
	mkdir -p "$XDG_CONFIG_HOME/reasonkit"
	printf 'my-model\t1\t2\t50\n' >"$XDG_CONFIG_HOME/reasonkit/prices.tsv"
	RK_API_KEY=k run sh -c 'rk-llm --provider openai-compatible \
	    --base-url http://127.0.0.1:1/v1 -m my-model <req.json 2>/dev/null'
	assert_status 1
	[ "$(printf '%s' "$output" | jq -r .error.code)" = context-window ]
}

@test "rk-llm --mock: a record cannot make a reply long or slow (50 items at most)" {
	for r in '"min_items":10000' '"min_items":4611686018427387904' \
	    '"min_items":-4611686018427387904,"max_items":4611686018427387904' \
	    '"min_items":50,"max_items":-1'; do
		echo "{\"query\":\"q\",\"request\":{\"output\":\"list\",$r}}"
	done >in
	run timeout 10 rk-llm --mock <in
	assert_status 0
	run jq -c '.steps[0].output.items | length' <<<"$output"
	assert_output '50
50
3
50'
}

@test "rk-llm: the mock is never cached" {
	pending | rk-llm --mock >/dev/null
	[ ! -e "$XDG_CACHE_HOME/reasonkit/responses.db" ]
}

@test "rk-llm: the offline mock never loads libcurl" {
	# the binary itself, not a wrapper such as check-valgrind's
	if [ -n "${RK_BUILD:-}" ]; then ldd "$RK_BUILD/bin/rk-llm"
	else ldd "$(command -v rk-llm)"; fi >libs
	run grep -c libcurl libs
	assert_output 0
	pending | LD_DEBUG=libs rk-llm --mock 2>trace >/dev/null
	grep -q 'calling init' trace || optional "LD_DEBUG is glibc's, and this libc has none"
	run grep -c 'libcurl' trace
	assert_output 0
}

@test "rk-llm(1) EXAMPLES give the output shown (the mock ones)" {
	man="$BATS_TEST_DIRNAME/../man/rk-llm.1"
	# the first two literal blocks of EXAMPLES: "$ " lines and their
	# continuation lines (after a trailing | or \e) are the command, the
	# rest its output
	awk '/^\.Sh EXAMPLES/ { ex = 1; next }
	    /^\.Sh/ { ex = 0 }
	    ex && /^\.Bd -literal/ { lit = 1; n++; next }
	    ex && /^\.Ed/ { lit = 0; next }
	    !lit || n > 2 { next }
	    /^\$ / { print substr($0, 3) > ("cmd" n); cont = /(\||\\e)$/; next }
	    cont { print > ("cmd" n); cont = /(\||\\e)$/; next }
	    { print > ("want" n) }' "$man"
	for n in 1 2; do
		[ -s "cmd$n" ]
		[ -s "want$n" ]
		sed 's/\\e$/\\/' "cmd$n" >"cmd$n.sh"
		run sh "cmd$n.sh"
		assert_status 0
		assert_output "$(cat "want$n")"
	done
}

@test "rk-llm: cache keys are what earlier versions wrote (libmd's SHA-256)" {
	# cache-v1.db was written by rk-llm before its SHA-256 came from
	# libmd: the same request must find its reply there.  Nothing listens
	# on the URL; a miss would try it and fail.
	cp "$FIXTURES/llm/cache-v1.db" c.db
	pending | rk-llm --provider openai --base-url http://127.0.0.1:38917/v1 \
	    -m fake/ok --cache c.db --cache-ttl 1000000000 --retries 0 >out
	run jq -c '.steps[0] | [.cached, .model, .usage.in, (.text | length)]' out
	assert_output '[true,"fake/ok",54,400]'
}

@test "rk-llm: a bad client option argument is a usage error, said once" {
	run rk-llm --mock --timeout=abc
	assert_status 2
	assert_output "rk-llm: --timeout: not a time such as 30, 2.5s, 500ms or 5m: 'abc'"
}
