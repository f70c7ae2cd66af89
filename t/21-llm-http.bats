#!/usr/bin/env bats
# rk-llm against the fake model server (t/fakellm.c, on 127.0.0.1 only):
# both dialects, streaming, the fault matrix, retries, timeouts, keys,
# concurrency, the cache, budgets, and rk think end to end.

load helper

local_setup() {
	FAKE="${RK_BUILD:-$BATS_TEST_DIRNAME/../build}/libexec/rk-fakellm"
	[ -x "$FAKE" ] || skip "no $FAKE (make)"
	"$FAKE" -B -l "$TMP/fake.log" >"$TMP/port" &
	FAKE_PID=$!
	until [ -f "$TMP/port" ] && [ "$(wc -l <"$TMP/port")" -ge 2 ]; do
		sleep 0.01
	done
	URL="http://127.0.0.1:$(sed -n 1p "$TMP/port")/v1"
	# https:// to this port never finishes connecting (no TLS handshake)
	HOLE="https://127.0.0.1:$(sed -n 2p "$TMP/port")/v1"
	: >"$TMP/fake.log"
}

local_teardown() {
	if [ -n "${FAKE_PID:-}" ]; then
		kill "$FAKE_PID" 2>/dev/null || true
		wait "$FAKE_PID" 2>/dev/null || true
	fi
}

# a pending gigathink request (a fixture: the protocols may change)
pending() { cat "$FIXTURES/llm/pending.ndjson"; }

# llm PROVIDER MODEL [ARGS...]: one pending request through rk-llm
llm() {
	local prov=$1 model=$2
	shift 2
	pending | RK_PROVIDER=$prov RK_BASE_URL=$URL rk-llm --no-cache \
	    -m "$model" "$@"
}

nreq() { wc -l <"$TMP/fake.log" | tr -d ' '; }

# --- both dialects, whole and streamed -----------------------------------

@test "openai: a whole reply becomes a step with the server's usage" {
	llm openai fake/ok >out
	run jq -c '[has("request"), (.steps[0] | .model, .usage, .cached,
	    .output.type, (.output.items | length), .confidence)]' out
	assert_output '[false,"fake/ok",{"in":54,"out":20,"estimated":false},false,"list",10,0.87]'
	run jq -c '[.method, .path, .stream, .body.model,
	    (.body.messages | map(.role)), .body.max_tokens, .body.temperature,
	    .authorization]' fake.log
	assert_output '["POST","/v1/chat/completions",false,"fake/ok",["system","user"],600,0.7,null]'
}

@test "openai: reasoning models get max_completion_tokens, no temperature" {
	llm openai o3-mini >/dev/null
	llm openai gpt-4o-mini >/dev/null
	run jq -c '[.body.model, .body.max_tokens, .body.max_completion_tokens,
	    .body.temperature]' fake.log
	assert_output '["o3-mini",null,600,null]
["gpt-4o-mini",600,null,0.7]'
}

@test "anthropic: system prompt on top, usage from the reply" {
	llm anthropic fake/ok >out
	run jq -c '.steps[0] | [.model, .usage, .output.type]' out
	assert_output '["fake/ok",{"in":25,"out":15,"estimated":false},"list"]'
	run jq -c '[.path, (.body.system | type), (.body.messages | map(.role)),
	    .body.max_tokens]' fake.log
	assert_output '["/v1/messages","string",["user"],600]'
}

@test "echo: the server saw the messages and options rk-llm meant to send" {
	llm openai fake/echo >out
	run jq -c '.steps[0].text | fromjson | [.model, (.messages | length),
	    .options]' out
	assert_output '["fake/echo",2,{"max_tokens":600,"temperature":0.7}]'
	jq -cS '.request.messages' "$FIXTURES/llm/pending.ndjson" >want
	jq -cS '.steps[0].text | fromjson | .messages' out >got
	cmp want got
	llm anthropic fake/echo --budget 300t >out
	run jq -c '.steps[0].text | fromjson | [(.messages | map(.role)),
	    .options.max_tokens]' out
	assert_output '[["user"],231]'
}

@test "a request without messages is an error record; the batch goes on" {
	# ten good records around one with "request":{}, one with a number
	for i in 1 2 3 4 5; do pending | jq -c --arg i "$i" '.id += $i'; done >in
	echo '{"query":"q","request":{}}' >>in
	echo '{"query":"q2","request":{"messages":5}}' >>in
	for i in 6 7 8 9 10; do pending | jq -c --arg i "$i" '.id += $i'; done >>in
	for p in openai anthropic; do
		for s in --no-stream --stream; do
			run sh -c "RK_PROVIDER=$p RK_BASE_URL=$URL rk-llm $s \
			    --no-cache -m fake/ok <in >out"
			assert_status 3
			run jq -c '[.query, .error.code // (.steps | length)]' out
			[ "${#lines[@]}" -eq 12 ]
			[ "$(grep -c '^\["Is a monorepo right for us?",1\]$' \
			    <<<"$output")" -eq 10 ]
			assert_match '^\["q","bad-request"\]$'
			assert_match '^\["q2","bad-request"\]$'
		done
	done
	# the bad requests never reached the server
	[ "$(nreq)" -eq 40 ]
}

@test "streaming gives the same text as a whole reply, both dialects" {
	for p in openai anthropic; do
		llm $p fake/ok | jq -r '.steps[0].text' >whole
		llm $p fake/ok --stream | jq -c '.steps[0]' >streamed
		run jq -r .text streamed
		assert_output "$(cat whole)"
		run jq -c .usage.estimated streamed
		assert_output false
		RK_STREAM=1 llm $p fake/ok | jq -r '.steps[0].text' >env
		cmp whole env
	done
	run jq -c 'select(.stream) | [.path, .body.stream_options]' fake.log
	assert_output '["/v1/chat/completions",{"include_usage":true}]
["/v1/chat/completions",{"include_usage":true}]
["/v1/messages",null]
["/v1/messages",null]'
}

@test "no usage from the server: an estimate marked estimated, both ways" {
	for p in openai anthropic; do
		for s in "" --stream; do
			# shellcheck disable=SC2086
			llm $p fake/no-usage $s | jq -c '.steps[0].usage' >u
			run cat u
			assert_output '{"in":69,"out":93,"estimated":true}'
		done
	done
}

@test "frames split mid-line and mid-UTF-8, and CRLF separators" {
	for p in openai anthropic; do
		llm $p fake/split-frames --stream >out
		run jq -r '.steps[0].output.items[2]' out
		assert_match 'caf\xc3\xa9 \xe2\x98\x95|café ☕'
		run jq -c '.steps[0].usage.estimated' out
		assert_output false
		llm $p fake/ok | jq -r '.steps[0].text' >want
		llm $p fake/crlf --stream | jq -r '.steps[0].text' >got
		cmp want got
	done
}

@test "an error JSON with status 200 on a stream request fails (6)" {
	for p in openai anthropic; do
		llm $p fake/err-json-200 --stream >out 2>err || s=$?
		[ "${s:-0}" -eq 6 ]
		run jq -c '[.error.code, .error.message, .error.attempts, has("request")]' out
		assert_output '["api-error","the server answered with an error (invalid_request_error): bad things",1,true]'
		unset s
	done
	[ "$(nreq)" -eq 2 ]
}

# --- retries ------------------------------------------------------------

@test "429 with retry-after: 1 waits the second the server asked for" {
	llm openai fake/429-then-ok >out 2>err
	run jq -c '[.steps[0].model, has("error")]' out
	assert_output '["fake/429-then-ok",false]'
	run cat err
	assert_match 'HTTP 429: Rate limit reached; attempt 1 of 5, next in 1\.00 s$'
	[ "$(nreq)" -eq 2 ]
}

@test "retry-after-ms wins over retry-after" {
	llm anthropic fake/429-ms-then-ok >out 2>err
	run cat err
	assert_match 'HTTP 429: Rate limit reached; attempt 1 of 5, next in 0\.10 s$'
	[ "$(nreq)" -eq 2 ]
}

@test "retry-after as an HTTP date" {
	llm openai fake/429-date-then-ok >out 2>err
	run cat err
	assert_match 'HTTP 429: Rate limit reached; attempt 1 of 5, next in [0-2]\.00 s$'
	jq -e '.steps[0]' out >/dev/null
}

@test "a connect timeout is retried, and says which option sets it" {
	pending | rk-llm --provider vllm -m x --base-url "$HOLE" --no-cache \
	    --connect-timeout 0.2 --retries 1 >out 2>err || s=$?
	[ "${s:-0}" -eq 6 ]
	run jq -c '[.error.code, .error.attempts]' out
	assert_output '["timeout-connect",2]'
	run jq -r .error.message out
	assert_output "$HOLE/chat/completions: no connection within 0.2 s (--connect-timeout, RK_CONNECT_TIMEOUT); giving up after 2 attempts (--retries, RK_RETRIES)"
	pending | RK_CONNECT_TIMEOUT=0.1 rk-llm --provider vllm -m x \
	    --base-url "$HOLE" --no-cache --retries 0 2>/dev/null | jq -r .error.message >msg || true
	run cat msg
	assert_output "$HOLE/chat/completions: no connection within 0.1 s (--connect-timeout, RK_CONNECT_TIMEOUT); giving up after 1 attempt (--retries, RK_RETRIES)"
}

@test "500, 503, 529 and in-stream overload errors are retried" {
	for m in 500-then-ok 503-then-ok 529-then-ok; do
		llm anthropic fake/$m 2>/dev/null | jq -e '.steps[0]' >/dev/null
	done
	for p in openai anthropic; do
		llm $p fake/overloaded-in-stream --stream 2>err | jq -e '.steps[0]' >/dev/null
		run cat err
		assert_match 'the stream carried an error \((overloaded_error|server_error)\): Overloaded; attempt 1 of 5'
	done
	[ "$(nreq)" -eq 10 ]
}

@test "400, 401, 403 and 404 are not retried; the request stays" {
	for m in 400-context:400 401:401 403:403 404-model:404; do
		llm openai "fake/${m%:*}" >out 2>err || s=$?
		[ "${s:-0}" -eq 6 ]
		unset s
		run jq -c '[.error.code, .error.attempts, has("request")]' out
		assert_output "[\"http-${m#*:}\",1,true]"
	done
	run jq -r .error.message out
	assert_output "$URL/chat/completions: HTTP 404: The model does not exist"
	[ "$(nreq)" -eq 4 ]
	llm openai fake/400-context 2>/dev/null | jq -r .error.message >msg || true
	run cat msg
	assert_output "$URL/chat/completions: HTTP 400: This model's maximum context length is 8192 tokens. However, your messages resulted in 9001 tokens."
}

@test "retries are bounded by --retries and RK_RETRIES, and explained" {
	llm openai fake/500-always --retries 2 >out 2>err || s=$?
	[ "${s:-0}" -eq 6 ]
	run jq -c '[.error.code, .error.attempts]' out
	assert_output '["http-500",3]'
	run jq -r .error.message out
	assert_output "$URL/chat/completions: HTTP 500: The server had an error; giving up after 3 attempts (--retries, RK_RETRIES)"
	run grep -c 'attempt [12] of 3, next in' err
	assert_output 2
	: >fake.log
	RK_RETRIES=0 llm openai fake/500-always >/dev/null 2>&1 || true
	[ "$(nreq)" -eq 1 ]
}

@test "retries are bounded by --retry-time and RK_RETRY_TIME" {
	llm openai fake/429-always --retry-time 0.5 >out 2>err || s=$?
	[ "${s:-0}" -eq 6 ]
	run jq -r .error.message out
	assert_output "$URL/chat/completions: HTTP 429: Rate limit reached; giving up: the next attempt would pass the retry time of 0.5 s (--retry-time, RK_RETRY_TIME)"
	RK_RETRY_TIME=0.5 llm openai fake/429-always >out 2>/dev/null || true
	run jq -c .error.attempts out
	assert_output 1
}

@test "a refused connection is retried, then reported" {
	pending | RK_PROVIDER=openai-compatible RK_BASE_URL=http://127.0.0.1:1/v1 \
	    rk-llm -m x --retries 1 >out 2>err || s=$?
	[ "${s:-0}" -eq 6 ]
	run jq -c '[.error.code, .error.attempts]' out
	assert_output '["connect",2]'
	run cat err
	assert_match 'attempt 1 of 2, next in'
}

# --- timeouts -----------------------------------------------------------

@test "a stall after the headers fires the idle timeout, and says so" {
	for s in --stream --no-stream; do
		llm openai fake/stall-after-headers $s --idle-timeout 0.3 >out 2>err || st=$?
		[ "${st:-0}" -eq 6 ]
		unset st
		run jq -c '[.error.code, .error.attempts]' out
		assert_output '["timeout-idle",1]'
		run cat err
		assert_match "nothing received for 0\.3 s \(--idle-timeout, RK_IDLE_TIMEOUT\)$"
	done
	RK_IDLE_TIMEOUT=0.2 llm anthropic fake/stall-after-headers --stream >out 2>/dev/null || true
	run jq -r .error.message out
	assert_output "$URL/messages: nothing received for 0.2 s (--idle-timeout, RK_IDLE_TIMEOUT)"
}

@test "a slow drip resets the idle timeout; the total timeout still ends it" {
	llm anthropic fake/slow-drip:40 --stream --idle-timeout 0.5 >out
	run jq -c '.steps[0].usage.estimated' out
	assert_output false
	llm openai fake/slow-drip:40 --stream --timeout 0.3 >out 2>err || s=$?
	[ "${s:-0}" -eq 6 ]
	run jq -c '[.error.code, .error.truncated, (.error.partial | length > 0)]' out
	assert_output '["timeout-total",true,true]'
	RK_TIMEOUT=0.3 llm openai fake/slow-drip:40 --stream >out 2>/dev/null || true
	run jq -r .error.code out
	assert_output timeout-total
}

@test "a stream cut before its end: error, partial text kept, truncated" {
	for p in openai anthropic; do
		llm $p fake/drop-mid-stream --stream >out 2>err || s=$?
		[ "${s:-0}" -eq 6 ]
		unset s
		run jq -c '[.error.code, .error.truncated, .error.attempts,
		    (.error.partial | startswith("1. ")), has("request"),
		    (.steps | length)]' out
		assert_output '["truncated",true,1,true,true,0]'
	done
	[ "$(nreq)" -eq 2 ]
	# a whole reply cut short is a connection failure, and is retried
	llm openai fake/drop-mid-stream --retries 1 >out 2>/dev/null || true
	run jq -c '[.error.code, .error.attempts]' out
	assert_output '["connect",2]'
}

@test "the last usage a stream reports wins: Anthropic message_delta, Groq x_groq" {
	# Anthropic: message_start says 2039 input tokens, message_delta (a
	# web search) 10423; Groq: usage only in the last chunk's x_groq
	for p in openai:'{"in":61,"out":23,"estimated":false}' \
	    anthropic:'{"in":10423,"out":15,"estimated":false}'; do
		for m in usage-late usage-late+split; do
			for s in --no-stream --stream; do
				llm ${p%%:*} fake/$m $s >out
				run jq -c '.steps[0].usage' out
				assert_output "${p#*:}"
			done
		done
	done
}

@test "text before an in-stream error is kept as partial; a numeric code reads well" {
	# Anthropic "event: error", an OpenRouter error object with code 502
	# in a chunk, and an OpenAI-dialect "event: error"; whole and in
	# 7-byte writes
	for c in anthropic:error-after-text:overloaded_error:Overloaded \
	    openai:error-after-text:502:'Provider returned error' \
	    openai:event-error-after-text:502:'Provider returned error'; do
		IFS=: read -r p m code msg <<<"$c"
		for sp in "" +split; do
			llm $p fake/$m$sp --stream >out 2>err || s=$?
			[ "${s:-0}" -eq 6 ]
			unset s
			run jq -r '.error.message' out
			assert_output "the stream carried an error ($code): $msg"
			run jq -c '[.error.code, .error.truncated, .error.attempts,
			    (.error.partial | startswith("1. ") and
			    contains("5.") and (contains("9.") | not)),
			    (.steps | length)]' out
			assert_output '["api-error",true,1,true,0]'
		done
	done
	# whole replies: the error object with status 200, nothing partial;
	# 502 and overload may pass on a retry
	for p in openai anthropic; do
		llm $p fake/error-after-text+split --retries 1 >out 2>/dev/null ||
		    true
		run jq -c '[.error.code, .error.attempts, .error.partial]' out
		assert_output '["api-error",2,null]'
	done
	run jq -r .error.message out
	assert_output 'the server answered with an error (overloaded_error): Overloaded; giving up after 2 attempts (--retries, RK_RETRIES)'
}

@test "a reply over RK_MAX_RESPONSE is an error, whole or streamed" {
	RK_MAX_RESPONSE=200 llm openai fake/ok >out 2>/dev/null || s=$?
	[ "${s:-0}" -eq 6 ]
	run jq -r .error.message out
	assert_output "$URL/chat/completions: the reply is over the limit of 200 bytes (RK_MAX_RESPONSE)"
	RK_MAX_RESPONSE=200 llm anthropic fake/ok --stream >out 2>/dev/null || true
	run jq -r .error.code out
	assert_output too-big
}

# --- keys ---------------------------------------------------------------

@test "a vendor key is never sent to another base URL; RK_API_KEY is" {
	OPENAI_API_KEY=sk-vendor-1 llm openai fake/ok >/dev/null
	ANTHROPIC_API_KEY=sk-vendor-2 llm anthropic fake/ok >/dev/null
	RK_API_KEY=sk-rk-3 llm openai fake/ok >/dev/null
	echo sk-file-4 >keyfile
	RK_API_KEY_FILE=$TMP/keyfile llm anthropic fake/ok >/dev/null
	run jq -c '[.authorization, ."x-api-key"]' fake.log
	assert_output '[null,null]
[null,null]
["Bearer sk-rk-3",null]
[null,"sk-file-4"]'
}

@test "a 401 after withholding a vendor key says why" {
	OPENAI_API_KEY=sk-vendor-1 llm openai fake/401 >out 2>err || true
	run jq -r .error.message out
	assert_output "$URL/chat/completions: HTTP 401: Incorrect API key provided; note: OPENAI_API_KEY is sent only to its vendor's host; use RK_API_KEY for this base URL"
	run grep -c sk-vendor out err
	assert_output "out:0
err:0"
}

@test "keys never appear in records, messages, the cache or argv" {
	RK_API_KEY=sk-secret-5 llm openai fake/401 >out 2>err || true
	pending | RK_API_KEY=sk-secret-5 RK_PROVIDER=openai RK_BASE_URL=$URL \
	    rk-llm -m fake/ok >>out 2>>err
	[ -s "$XDG_CACHE_HOME/reasonkit/responses.db" ]
	run grep -rl sk-secret-5 out err "$XDG_CACHE_HOME"
	assert_output ""
	grep -q sk-secret-5 fake.log
}

@test "provider configuration errors are status 4" {
	run rk-llm --provider openai </dev/null
	assert_status 4
	assert_output "rk-llm: openai: no API key: set OPENAI_API_KEY (or RK_API_KEY or RK_API_KEY_FILE)"
	run rk-llm --provider ollama </dev/null
	assert_status 4
	assert_output "rk-llm: ollama: no model: use -m or RK_MODEL"
	run rk-llm --provider openai-compatible -m x </dev/null
	assert_status 4
	assert_output "rk-llm: openai-compatible: no base URL: use --base-url or RK_BASE_URL"
	run rk-llm --provider vllm -m x --base-url ftp://x/v1 </dev/null
	assert_status 4
	run rk-llm --provider vllm -m x --base-url http://u:p@x/v1 </dev/null
	assert_status 4
	RK_API_KEY_FILE=$TMP/none run rk-llm --provider vllm -m x </dev/null
	assert_status 4
	assert_output "rk-llm: RK_API_KEY_FILE: $TMP/none: cannot read it"
}

@test "a start-up failure still turns each record into an error record (4)" {
	# a bad base URL, no key, a bad price table: the questions stay
	pending >in
	echo 'a plain question' >>in
	echo '{"query":"earlier","error":{"stage":"rk-prompt","code":"x","message":"m"}}' >>in
	mkdir -p "$XDG_CONFIG_HOME/reasonkit"
	for c in "--provider vllm -m x --base-url ftp://x/v1" \
	    "--provider openai" \
	    "--provider ollama -m m --base-url $URL --budget '\$1'"; do
		run sh -c "rk-llm $c <in 2>err"
		assert_status 4
		[ "${#lines[@]}" -eq 3 ]
		run jq -c '[.query, .error.stage, .error.code, has("request")]' \
		    <<<"$output"
		assert_output '["Is a monorepo right for us?","rk-llm","bad-config",true]
["a plain question",null,null,false]
["earlier","rk-prompt","x",false]'
		[ "$(wc -l <err)" -eq 1 ]
	done
	# the error is the one said on stderr
	run sh -c "rk-llm --provider openai <in 2>&1 >/dev/null"
	assert_output "rk-llm: openai: no API key: set OPENAI_API_KEY (or RK_API_KEY or RK_API_KEY_FILE)"
	run sh -c "rk-llm --provider openai <in 2>/dev/null | jq -r 'select(.request) | .error.message'"
	assert_output "openai: no API key: set OPENAI_API_KEY (or RK_API_KEY or RK_API_KEY_FILE)"
	# unreadable input: said, and a non-zero status
	run sh -c 'rk-llm --provider openai <&- 2>&1'
	[ "$status" -ne 0 ]
	assert_match '^rk-llm: stdin: '
}

@test "local presets need only a URL (and a model)" {
	pending | rk-llm --provider ollama -m fake/ok --base-url "$URL" >out
	run jq -c '.steps[0].model' out
	assert_output '"fake/ok"'
	pending | rk-llm --provider llamacpp --base-url "$URL/" >out
	run jq -c '.steps[0].model' out
	assert_output '"default"'
}

# --- concurrency --------------------------------------------------------

@test "-P: many requests in flight, output in input order; -u any order" {
	for i in $(seq 1 40); do echo "{\"query\":\"question $i\"}"; done |
	    rk-prompt gigathink >in
	RK_PROVIDER=openai RK_BASE_URL=$URL rk-llm --no-cache -P 8 \
	    -m fake/slow:50 <in >out
	run sh -c 'jq -r .query out | cmp - <(jq -r .query in)'
	jq -r .query out >got
	jq -r .query in >want
	cmp got want
	run jq -s 'map(select(.steps[0].model == "fake/slow:50")) | length' out
	assert_output 40
	# over at most 8 connections, reused
	run jq -s 'map(.conn) | unique | length <= 8' fake.log
	assert_output true
	RK_PROVIDER=openai RK_BASE_URL=$URL RK_PARALLEL=8 RK_UNORDERED=1 \
	    rk-llm --no-cache -m fake/slow:20 <in | jq -r .query | sort >u
	sort want | cmp - u
	RK_PROVIDER=openai RK_BASE_URL=$URL rk-llm --no-cache -u --rps 200 \
	    -m fake/ok <in | jq -r .query | sort >r
	sort want | cmp - r
	[ "$(nreq)" -eq 120 ]
}

@test "-P is bounded by RK_MAX_CONCURRENCY" {
	run rk-llm --provider ollama -m x -P 11 </dev/null
	assert_status 2
	assert_output "rk-llm: -P: not a number from 1 to 10: '11'"
	RK_MAX_CONCURRENCY=12 run rk-llm --provider ollama -m x -P 11 </dev/null
	assert_status 0
}

@test "records with errors or no request pass among HTTP ones, in order" {
	{ echo '{"id":"x1","query":"a"}'; pending
	  echo '{"id":"x2","query":"b","error":{"stage":"s","code":"c","message":"m"}}'
	  pending; } >in
	RK_PROVIDER=openai RK_BASE_URL=$URL rk-llm --no-cache -m fake/ok <in >out ||
	    [ $? -eq 1 ]	# a record written carries an error
	run jq -c '[.id[0:2], (.steps // [] | length)]' out
	assert_match '^\["x1",0\]$'
	[ "$(sed -n 1p out | jq -r .id)" = x1 ]
	[ "$(sed -n 3p out | jq -r .id)" = x2 ]
	[ "$(nreq)" -eq 2 ]
}

# --- cache --------------------------------------------------------------

@test "cache: a second identical run is served without the server" {
	pending >in
	RK_PROVIDER=openai RK_BASE_URL=$URL rk-llm -m fake/ok <in >a
	RK_PROVIDER=openai RK_BASE_URL=$URL LD_DEBUG=libs rk-llm -m fake/ok <in >b 2>trace
	[ "$(nreq)" -eq 1 ]
	run jq -c '.steps[0].cached' a b
	assert_output 'false
true'
	diff <(jq -c '.steps[0] | del(.cached, .ms)' a) <(jq -c '.steps[0] | del(.cached, .ms)' b)
	[ -s "$XDG_CACHE_HOME/reasonkit/responses.db" ]
	# a cache hit does not load libcurl
	if grep -q 'calling init' trace; then
		run grep -c libcurl trace
		assert_output 0
	fi
}

@test "cache: --no-cache, RK_NO_CACHE, --cache-ttl, --cache, RK_CACHE_DB" {
	pending >in
	export RK_PROVIDER=openai RK_BASE_URL=$URL RK_MODEL=fake/ok
	rk-llm <in >/dev/null
	rk-llm --no-cache <in >/dev/null
	RK_NO_CACHE=1 rk-llm <in >/dev/null
	rk-llm --cache-ttl 0 <in >/dev/null
	RK_CACHE_TTL=0s rk-llm <in >/dev/null
	[ "$(nreq)" -eq 5 ]
	rk-llm --cache c.db <in >/dev/null
	RK_CACHE_DB=$TMP/c.db rk-llm <in | jq -e '.steps[0].cached' >/dev/null
	[ "$(nreq)" -eq 6 ]
	# another model, another key
	rk-llm -m fake/echo <in >/dev/null
	[ "$(nreq)" -eq 7 ]
	command -v sqlite3 >/dev/null || return 0
	run sqlite3 c.db 'PRAGMA journal_mode'
	assert_output wal
}

@test "cache: the database and its -wal and -shm are created 0600" {
	mkdir -m 755 d
	pending >in
	umask 022
	RK_PROVIDER=openai RK_BASE_URL=$URL rk-llm -m fake/slow:1500 \
	    --cache d/c.db <in >out &
	# while the request is in flight, all three files exist
	for _ in $(seq 100); do [ -e d/c.db-shm ] && break; sleep 0.05; done
	run stat -c '%a %n' d/c.db d/c.db-wal d/c.db-shm
	assert_output '600 d/c.db
600 d/c.db-wal
600 d/c.db-shm'
	wait $!
	jq -e '.steps[0]' out >/dev/null
}

@test "cache: failed requests are not stored" {
	pending >in
	RK_PROVIDER=openai RK_BASE_URL=$URL rk-llm -m fake/401 <in >/dev/null 2>&1 || true
	RK_PROVIDER=openai RK_BASE_URL=$URL rk-llm -m fake/401 <in >/dev/null 2>&1 || true
	[ "$(nreq)" -eq 2 ]
}

# --- budgets ------------------------------------------------------------

@test "budget: max_tokens shrinks as a token budget nears its end" {
	llm openai fake/ok --budget 300t >out
	run jq -c '.body.max_tokens' fake.log
	assert_output 231
	pending | RK_PROVIDER=openai RK_BASE_URL=$URL rk-llm --no-cache \
	    -m fake/ok | rk-prompt gigathink >second
	: >fake.log
	RK_PROVIDER=openai RK_BASE_URL=$URL RK_BUDGET=120t rk-llm --no-cache \
	    -m fake/ok <second >out 2>err || s=$?
	[ "${s:-0}" -eq 1 ]
	run jq -c '[.error.code, has("request")]' out
	assert_output '["budget",true]'
	[ "$(nreq)" -eq 0 ]
}

@test "budget: dollars from the price table, users can add models" {
	llm openai fake/ok --budget '$0.0002' >/dev/null
	run jq -c '.body.max_tokens' fake.log
	# ($0.0002 - 69 in x $1/M) / $2/M out: the prompt by cl100k_base
	assert_output 65
	pending >in
	run sh -c "rk-llm --provider ollama -m llama3.2 --base-url '$URL' \
	    --budget '\$1' <in 2>&1 >/dev/null"
	assert_status 4
	assert_output "rk-llm: no price for model 'llama3.2' in prices.tsv: add a line to \$XDG_CONFIG_HOME/reasonkit/prices.tsv, or use a token or time budget"
	mkdir -p "$XDG_CONFIG_HOME/reasonkit"
	printf 'llama3.2\t0\t0\n' >"$XDG_CONFIG_HOME/reasonkit/prices.tsv"
	pending | rk-llm --provider ollama -m llama3.2 --base-url "$URL" \
	    --budget '$1' | jq -e '.steps[0]' >/dev/null
}

@test "budget: cached steps cost nothing" {
	pending >in
	RK_PROVIDER=openai RK_BASE_URL=$URL rk-llm -m fake/ok <in >/dev/null
	RK_PROVIDER=openai RK_BASE_URL=$URL rk-llm -m fake/ok <in |
	    rk-prompt gigathink >second
	run jq -c '.steps[0] | [.cached, .usage]' second
	assert_output '[true,{"in":54,"out":20,"estimated":false}]'
	jq -c '.steps[0].cached = false' second >paid
	: >fake.log
	for f in second paid; do
		RK_PROVIDER=openai RK_BASE_URL=$URL rk-llm -m fake/ok --no-cache \
		    --budget 1000t <$f | jq -e '.steps[1]' >/dev/null
	done
	# the paid step's 74 tokens narrow max_tokens; the cached one's do not
	run jq -s '.[0].body.max_tokens - .[1].body.max_tokens' fake.log
	assert_output 74
}

# --- rk think end to end ------------------------------------------------

@test "rk think with every profile against the fake server, both dialects" {
	for p in openai anthropic; do
		for prof in quick balanced deep paranoid; do
			RK_PROVIDER=$p RK_BASE_URL=$URL RK_MODEL=fake/ok \
			    RK_TRACE_DB=$TMP/t.db rk think -p $prof -f json \
			    "Should we use a monorepo?" >out
			run jq -c '[.profile, (.steps | length), .error]' out
			case $prof in
			quick) n=7 ;; balanced) n=13 ;; deep) n=16 ;; paranoid) n=19 ;;
			esac
			assert_output "[\"$prof\",$n,null]"
		done
	done
	RK_STREAM=1 RK_PROVIDER=anthropic RK_BASE_URL=$URL RK_MODEL=fake/crlf \
	    rk think -p quick -f json "Streamed?" >out
	run jq -c '[(.steps | length > 0), .error]' out
	assert_output '[true,null]'
	run jq -s 'map(.path) | unique' fake.log
	assert_output '[
  "/v1/chat/completions",
  "/v1/messages"
]'
}

@test "rk-llm(1): \"many questions, eight at a time\" stores complete runs" {
	awk '/^Many questions, eight at a time/ { f = 1 }
	    f && /^\.Bd/ { b = 1; next }
	    b && /^\.Ed/ { exit }
	    b { sub(/^\$ /, ""); print }' \
	    "$BATS_TEST_DIRNAME/../man/rk-llm.1" >example.sh
	grep -q 'rk-llm -P 8' example.sh
	seq 1 8 | sed 's/.*/Is option & a good idea?/' >questions.txt
	RK_BASE_URL=$URL RK_MODEL=fake/ok RK_TRACE_DB=$TMP/runs.db \
	    sh example.sh >report
	run rk-trace -d "$TMP/runs.db" -f json ls -n 100
	[ "${#lines[@]}" -eq 8 ]
	run jq -r '[.status, .steps] | @tsv' <<<"$output"
	[ "$(sort -u <<<"$output")" = "$(printf 'completed\t%s' "$(rk-parse --steps gigathink)")" ]
}

@test "records of processes sharing one output file never interleave" {
	# each line goes out in one write(2): lines over stdio's buffer from
	# 8 writers once came out interleaved (the next test's jq failed)
	x=$(head -c 30000 /dev/zero | tr '\0' x)
	for i in $(seq 10 29); do
		pending | jq -c --arg x "$x" --arg i "$i" '.note = $x | .id += $i'
	done >big
	export RK_PROVIDER=openai RK_BASE_URL=$URL RK_MODEL=fake/ok
	seq 1 16 | xargs -P 8 -I{} sh -c 'rk-llm --no-cache <big' >out1
	seq 1 16 | xargs -P 8 -I{} sh -c 'rk-trace --no-store -f json <big' >out2
	for f in out1 out2; do
		[ "$(wc -l <$f)" -eq 320 ]
		run jq -r '[.id, (.steps | length)] | @tsv' $f
		assert_status 0
		[ "$(printf '%s\n' "${lines[@]}" | sort -u | wc -l)" -eq 20 ]
	done
}

@test "200 questions through xargs -P 8 with faults: none lost; then cached" {
	command -v rk-trace >/dev/null || skip "no rk-trace"
	seq 1 200 | sed 's/^/Question number /' >qs
	export RK_PROVIDER=openai RK_BASE_URL=$URL RK_MODEL=fake/chaos \
	    RK_API_KEY=sk-never-in-files RK_TRACE_DB=$TMP/runs.db
	xargs -P 8 -I{} rk think -p quick -f json {} <qs >out1 2>err1 || true
	[ "$(wc -l <out1)" -eq 200 ]
	jq -r .query out1 | sort >got
	sort qs | cmp - got
	run rk-trace -f json ls -n 1000
	[ "${#lines[@]}" -eq 200 ]
	ok=$(printf '%s\n' "${lines[@]}" | jq -r .status | grep -vc failed || true)
	failed=$(printf '%s\n' "${lines[@]}" | jq -r .status | grep -c failed || true)
	[ "$failed" -gt 0 ]
	[ "$ok" -gt 0 ]
	[ "$failed" -eq "$(jq -r 'select(.error) | .query' out1 | wc -l)" ]
	# again: only the failed requests (not cached) reach the server
	: >fake.log
	xargs -P 8 -I{} rk think -p quick -f json {} <qs >out2 2>err2 || true
	grep -v 'HTTP 400\|; attempt 1 of 5, next in' err1 err2 || true
	echo "failed: $failed, requests again: $(nreq)"
	[ "$(nreq)" -eq "$failed" ]
	run jq -s 'map(select(.error == null) | .steps | all(.cached)) | all' out2
	assert_output true
	# the key is in no file the runs wrote (the fake's log aside)
	run grep -rl --exclude=fake.log sk-never-in-files "$TMP"
	assert_output ""
}

@test "a run with no faults is served entirely from the cache the second time" {
	export RK_PROVIDER=anthropic RK_BASE_URL=$URL RK_MODEL=fake/ok
	for i in 1 2 3 4 5 6 7 8; do echo "question $i"; done >qs
	xargs -P 4 -I{} rk think -p quick -f json {} <qs >out1
	n=$(nreq)
	[ "$n" -ge 8 ]
	xargs -P 4 -I{} rk think -p quick -f json {} <qs >out2
	[ "$(nreq)" -eq "$n" ]
	run jq -s 'map(.steps | all(.cached)) | all' out2
	assert_output true
}

@test "--stream shows the text on a terminal's stderr as it arrives" {
	command -v script >/dev/null || skip "no script(1)"
	pending >in
	script -qec "RK_PROVIDER=openai RK_BASE_URL=$URL rk-llm --no-cache \
	    --stream -m fake/ok <in >out" /dev/null >tty
	run grep -c 'matters for this question' tty
	assert_output 10
	# not a terminal: nothing
	RK_PROVIDER=openai RK_BASE_URL=$URL rk-llm --no-cache --stream \
	    -m fake/ok <in >out 2>err
	[ ! -s err ]
}

# --- progress on a terminal ----------------------------------------------

@test "--progress shows the step waited for on a terminal, then erases it" {
	command -v script >/dev/null || skip "no script(1)"
	rk-prompt gigathink "Is it?" >in
	script -qec "RK_PROVIDER=openai RK_BASE_URL=$URL rk-llm --no-cache \
	    --progress=4 -m fake/slow:400 <in >out" /dev/null >tty
	# overwritten in place: a carriage return before, clear to the end after
	grep -q "$(printf '\rgigathink 1/4 \302\267 0\\.[1-4] s\033\\[K')" tty
	# erased at the end, and the record is whole
	[ "$(tail -c 4 tty | od -An -c | tr -d ' ')" = '\r033[K' ]
	run jq -c '[has("request"), (.steps | length)]' out
	assert_output '[false,1]'
	# not a terminal: nothing on stderr
	RK_PROVIDER=openai RK_BASE_URL=$URL rk-llm --no-cache --progress \
	    -m fake/slow:200 <in >out 2>err
	[ ! -s err ]
}

@test "--stream heads each step's text with its name on a terminal" {
	command -v script >/dev/null || skip "no script(1)"
	rk-prompt gigathink "Is it?" >in
	script -qec "RK_PROVIDER=openai RK_BASE_URL=$URL rk-llm --no-cache \
	    --stream -m fake/ok <in >out" /dev/null >tty
	run sed -n '1s/\r$//p' tty
	assert_output "[gigathink 1 $(printf '\302\267') identify_dimensions]"
	run grep -c 'matters for this question' tty
	assert_output 10
}

@test "rk think shows each step's progress on a terminal, none when stderr is a file" {
	command -v script >/dev/null || skip "no script(1)"
	export RK_PROVIDER=openai RK_BASE_URL=$URL RK_MODEL=fake/slow:250
	script -qec "rk think --no-cache -t gigathink -f json 'Is it?' >out" \
	    /dev/null >tty
	run sh -c "tr '\r' '\n' <tty | sed -n 's/ \xc2\xb7 .*//p' | uniq"
	assert_output "gigathink 1/4
gigathink 2/4
gigathink 3/4
conclude 4/4"
	[ "$(jq -r .result.steps out)" = 4 ]
	rk think --no-cache -t gigathink -f json 'Is it?' >out 2>err
	[ ! -s err ]
	[ "$(jq -r .result.steps out)" = 4 ]
}
