#!/usr/bin/env bats
# rk-embed: the offline model, both HTTP dialects against the fake server
# (t/fakellm.c: a hashed bag of words, the same as --mock's), batches,
# the cache, every bad reply, keys, order under -P, odd input.

load helper

local_setup() {
	start_fake
	: >"$TMP/fake.log"
}

# embed PROVIDER MODEL [ARGS...]: stdin through rk-embed and the fake
embed() {
	local prov=$1 model=$2
	shift 2
	RK_PROVIDER=$prov RK_BASE_URL=$URL rk-embed -m "$model" "$@"
}

nreq() { wc -l <"$TMP/fake.log" | tr -d ' '; }

# --- the offline model ---------------------------------------------------

@test "mock: plain lines give {text, embedding}, records an embedding member" {
	printf 'the cat sat\n{"id":"r1","text":"a cat"}\n{"id":"r2","query":"why"}\n' |
	    rk-embed --mock --dimensions 8 >out
	run cat out
	assert_output '{"text":"the cat sat","embedding":[0,0,0,0,0.4472136,0,0,0.8944272]}
{"id":"r1","text":"a cat","rk":1,"embedding":[0,0,0,0,0.70710677,0,0,0.70710677]}
{"id":"r2","query":"why","rk":1,"embedding":[0,1,0,0,0,0,0,0]}'
}

@test "numbers: each the shortest decimal that reads back as the same float32" {
	run "$RK_BUILD/libexec/rk-embed-text-test" 200000 7
	assert_status 0
	assert_output "ok 200000"
}

@test "mock: 64 dimensions by default, each vector of length 1" {
	printf 'one two three\nfour\n' | rk-embed --mock >out
	run jq -c '[(.embedding | length), (.embedding | map(. * .) | add * 1000 | round)]' out
	assert_output '[64,1000]
[64,1000]'
}

@test "mock: texts that share words are nearer than texts that do not" {
	printf 'black cat sleeps\nblack cat eats\nstock market news\n' |
	    rk-embed --mock >out
	run jq -s -c '[.[0].embedding, .[1].embedding, .[2].embedding] as [$a, $b, $c] |
	    [([$a, $b] | transpose | map(.[0] * .[1]) | add) >
	     ([$a, $c] | transpose | map(.[0] * .[1]) | add)]' out
	assert_output '[true]'
}

@test "--field names the member; a record without it is an error record (3)" {
	run sh -c 'printf "{\"id\":\"a\",\"title\":\"x\"}\n{\"id\":\"b\",\"text\":\"y\"}\n" |
	    rk-embed --mock --field title --dimensions 4 2>err'
	assert_status 3
	run jq -c '[.id, (.embedding | length), .error.code, .error.status]' <<<"$output"
	assert_output '["a",4,null,null]
["b",0,"no-text",3]'
	run cat err
	assert_output "rk-embed: b: no string member 'title' to embed (--field)"
}

@test "a record embedded again has one embedding, the new one" {
	echo '{"id":"a","text":"black cat"}' | rk-embed --mock --dimensions 4 |
	    rk-embed --mock --dimensions 8 >out
	run jq -c '[.id, (.embedding | length)]' out
	assert_output '["a",8]'
	run grep -o '"embedding"' out
	assert_output '"embedding"'
}

@test "--lines: a line that starts with { is a text too" {
	printf '{"text":"x"}\n' | rk-embed --mock --lines --dimensions 4 >out
	run jq -c '[.text, (.embedding | length)]' out
	assert_output '["{\"text\":\"x\"}",4]'
}

@test "a record that carries an error passes unchanged, and makes the exit 1" {
	line='{"rk":1,"id":"e1","query":"q","error":{"stage":"rk-llm","code":"x","message":"m"}}'
	run sh -c "printf '%s\n' '$line' | rk-embed --mock"
	assert_status 1
	assert_output "$line"
}

@test "empty input: no output, no request, exit 0" {
	run embed openai fake/ok </dev/null
	assert_status 0
	assert_output ""
	[ "$(nreq)" -eq 0 ]
}

@test "a line that is not UTF-8 is an error record (3); the others are embedded" {
	printf 'good\n\377bad\nalso good\n' | embed openai fake/ok --no-cache \
	    >out 2>err && status=0 || status=$?
	[ "$status" -eq 3 ]
	run jq -c '[.text, .error.code, (.embedding | length)]' out
	assert_output '["good",null,64]
[null,"bad-utf8",0]
["also good",null,64]'
	run cat err
	assert_output "rk-embed: stdin:2: invalid UTF-8"
}

# --- the two dialects ----------------------------------------------------

@test "openai: POST /v1/embeddings with input, float, dimensions; the vectors are --mock's" {
	printf 'the cat sat\n{"id":"r","text":"a dog"}\n' >in
	embed openai fake/ok --no-cache --dimensions 16 <in >out
	rk-embed --mock --dimensions 16 <in >want
	jq -c .embedding out >got.v
	jq -c .embedding want >want.v
	cmp got.v want.v
	run jq -c '[.method, .path, .body]' fake.log
	assert_output '["POST","/v1/embeddings",{"model":"fake/ok","input":["the cat sat","a dog"],"encoding_format":"float","dimensions":16}]'
}

@test "openai: data in any order is put back by index" {
	printf 'a\nb c\nd e f\n' >in
	embed openai fake/embed-shuffle --no-cache <in >out
	rk-embed --mock <in >want
	cmp out want
}

@test "ollama: POST /api/embed at the server's root, no dimensions sent" {
	printf 'the cat sat\nthe dog ran\n' >in
	embed ollama nomic-embed-text --no-cache <in >out
	# the fake gives nomic-embed-text's own 768 dimensions
	rk-embed --mock --dimensions 768 <in >want
	cmp out want
	run jq -c '[.path, .body]' fake.log
	assert_output '["/api/embed",{"model":"nomic-embed-text","input":["the cat sat","the dog ran"]}]'
}

@test "ollama: --dimensions checks what the server sent" {
	run sh -c 'echo hello | RK_PROVIDER=ollama RK_BASE_URL=$0 rk-embed \
	    -m m --no-cache --dimensions 32 2>/dev/null' "$URL"
	assert_status 6
	run jq -r '.error.message' <<<"$output"
	assert_output "${URL%/v1}/api/embed: the reply's vector 0 has 64 numbers, not 32"
}

@test "--api ollama with another provider; --api names only the two" {
	echo hi | RK_BASE_URL=$URL rk-embed --provider vllm -m m --api ollama \
	    --no-cache >/dev/null
	run jq -r .path fake.log
	assert_output "/api/embed"
	run rk-embed --provider vllm -m m --api cohere </dev/null
	assert_status 4
	assert_output "rk-embed: --api: not openai or ollama: 'cohere'"
}

# --- batches, the cache, order -------------------------------------------

@test "--batch: 5 texts in requests of 2, 2 and 1" {
	seq 5 | sed 's/^/text /' | embed openai fake/ok --no-cache --batch 2 -P 1 >out
	[ "$(wc -l <out)" -eq 5 ]
	run jq -c '.body.input' fake.log
	assert_output '["text 1","text 2"]
["text 3","text 4"]
["text 5"]'
}

@test "a batch of 100 vectors of 2048 dimensions: a reply over 1M is taken" {
	seq 100 | embed openai fake/embed-dense --no-cache --dimensions 2048 \
	    --batch 100 >out
	run jq -c '.embedding | length' out
	[ "${#lines[@]}" -eq 100 ]
	[ "${lines[99]}" = 2048 ]
	[ "$(nreq)" -eq 1 ]
}

@test "cache: a second run sends nothing and gives the same vectors; the file is 0600" {
	printf 'alpha\nbeta\n{"id":"x","text":"gamma"}\n' >in
	embed openai fake/ok --cache c.db <in >one
	[ "$(nreq)" -eq 1 ]
	embed openai fake/ok --cache c.db <in >two
	[ "$(nreq)" -eq 1 ]
	jq -c '[.text, .embedding]' one >one.v
	jq -c '[.text, .embedding]' two >two.v
	cmp one.v two.v
	run stat -c %a c.db
	assert_output 600
}

@test "cache: a new text alone is sent; other dimensions or model are misses" {
	printf 'alpha\nbeta\n' | embed openai fake/ok --cache c.db >/dev/null
	printf 'alpha\ndelta\nbeta\n' | embed openai fake/ok --cache c.db >out
	run jq -c '.body.input' fake.log
	assert_output '["alpha","beta"]
["delta"]'
	run jq -r .text out
	assert_output 'alpha
delta
beta'
	echo alpha | embed openai fake/ok --cache c.db --dimensions 8 >/dev/null
	echo alpha | embed openai fake/other --cache c.db >/dev/null
	[ "$(nreq)" -eq 4 ]
}

@test "-P 8 with replies out of order: the output keeps the input's order" {
	seq 40 | sed 's/^/line /' >in
	embed openai fake/embed-jitter --no-cache --batch 1 -P 8 <in >out
	run jq -r .text out
	assert_output "$(cat in)"
	[ "$(nreq)" -eq 40 ]
	[ "$(jq -r .conn fake.log | sort -u | wc -l)" -gt 1 ]
}

# cpu FILE: the CPU seconds of rk-embed -P 1 over FILE, one text a slow request
cpu() {
	local TIMEFORMAT='%U %S'

	{ time embed openai fake/slow:300 --no-cache --batch 1 -P 1 <"$1" \
	    >out 2>/dev/null; } 2>&1 | awk '{ print $1 + $2 }'
}

@test "-P 1: the texts waiting for the one request in flight cost no CPU" {
	seq 6 | sed 's/^/text /' >six
	echo 'text 0' >one
	six=$(cpu six)
	[ "$(wc -l <out)" -eq 6 ]
	one=$(cpu one)
	# 1.5 s more waiting for the server: a busy loop spends it on the CPU
	run awk -v a="$six" -v b="$one" 'BEGIN { print (a - b < 0.15) }'
	assert_output 1
}

@test "a retryable failure is retried, then the vectors come" {
	echo hello | embed openai fake/500-then-ok --no-cache >out 2>err
	run jq -c '.embedding | length' out
	assert_output 64
	[ "$(nreq)" -eq 2 ]
}

# --- bad replies -----------------------------------------------------------

# bad SCENARIO MESSAGE: both texts fail with MESSAGE, exit 6, nothing cached
bad() {
	printf 'one\ntwo words\n' >in
	status=0
	embed openai "fake/$1" --cache c.db --dimensions 4 <in >out 2>err ||
	    status=$?
	assert_status 6
	run jq -c '[.text, .error.code, .error.status, .error.message,
	    has("embedding")]' out
	assert_output "[\"one\",\"bad-response\",6,\"$URL/embeddings: $2\",false]
[\"two words\",\"bad-response\",6,\"$URL/embeddings: $2\",false]"
	run cat err
	assert_output "rk-embed: $URL/embeddings: $2"
	status=0
	embed openai "fake/$1" --cache c.db --dimensions 4 <in >/dev/null \
	    2>&1 || status=$?
	assert_status 6
	[ "$(nreq)" -eq 2 ]
}

@test "bad reply: a vector too few" {
	bad embed-count "the reply has 1 vectors for 2 texts"
}

@test "bad reply: a vector of the wrong dimensions" {
	bad embed-dims "the reply's vector 1 has 3 numbers, not 4"
}

@test "bad reply: NaN" {
	bad embed-nan "the reply is not JSON"
}

@test "bad reply: a number beyond float32" {
	bad embed-big "the reply's vector 0, number 0: not finite as a float32"
}

@test "bad reply: a string for a number" {
	bad embed-string "the reply's vector 0, number 0: not a number"
}

@test "bad reply: no vectors at all" {
	bad embed-missing "the reply has no data array"
}

@test "bad reply: an index repeated" {
	bad embed-index-dup "the reply's vector 1 repeats index 0"
}

@test "bad reply: an index out of range" {
	bad embed-index-range "the reply's vector 1 has index 2, not 0 to 1"
}

@test "an empty text is an error record (3), never sent: OpenAI refuses it" {
	printf 'one\n\ntwo\n' | embed openai fake/ok --lines --no-cache \
	    >out 2>err && status=0 || status=$?
	[ "$status" -eq 3 ]
	run jq -c '[.text, .error.code, (.embedding | length)]' out
	assert_output '["one",null,64]
["","empty-text",0]
["two",null,64]'
	run cat err
	assert_output "rk-embed: an empty text: nothing to embed"
	run jq -c .body.input fake.log
	assert_output '["one","two"]'
}

@test "--batch 2049 against OpenAI: its 400, the server's message, no retry" {
	seq 2049 | embed openai fake/ok --no-cache --batch 2049 >out 2>err &&
	    status=0 || status=$?
	[ "$status" -eq 6 ]
	# every line the 400 (an && list's first test could not fail it)
	run sh -c "jq -r .error.code out | uniq -c | tr -s ' '"
	assert_output " 2049 http-400"
	[ "$(nreq)" -eq 1 ]
	run grep -c "input' is invalid" err
	assert_output 1
}

@test "ollama: a reply without embeddings is an error record too" {
	run sh -c 'echo hi | RK_PROVIDER=ollama RK_BASE_URL=$0 rk-embed \
	    -m fake/embed-missing --no-cache 2>/dev/null' "$URL"
	assert_status 6
	run jq -c '[.error.code, .error.message]' <<<"$output"
	assert_output "[\"bad-response\",\"${URL%/v1}/api/embed: the reply has no embeddings array\"]"
}

@test "HTTP 401: an error record with the server's message, exit 6, not retried" {
	run sh -c 'echo hi | RK_PROVIDER=openai RK_BASE_URL=$0 rk-embed \
	    -m fake/401 --no-cache 2>/dev/null' "$URL"
	assert_status 6
	run jq -c '[.error.code, .error.status]' <<<"$output"
	assert_output '["http-401",6]'
	[ "$(nreq)" -eq 1 ]
}

# --- keys and configuration ------------------------------------------------

@test "the key goes to the server from the environment, never to output or errors" {
	key=sk-embed-test-secret-4711
	echo hi | RK_API_KEY=$key embed openai fake/401 --no-cache >out 2>err || true
	run jq -r .authorization fake.log
	assert_output "Bearer $key"
	run grep -q "$key" out err
	assert_status 1
	run sh -c 'rk-embed --help | grep -- "--key\|api-key"'
	assert_status 1
	echo hi | RK_API_KEY=$key embed openai fake/ok --cache c.db >/dev/null
	[ "$(nreq)" -eq 2 ]
	run grep -aq "$key" c.db*
	assert_status 1
}

@test "OPENAI_API_KEY is withheld from another host" {
	echo hi | OPENAI_API_KEY=sk-vendor-only embed openai fake/ok --no-cache >/dev/null
	run jq -r .authorization fake.log
	assert_output null
}

@test "no provider, an unknown one, or one without embeddings: exit 4" {
	run rk-embed </dev/null
	assert_status 4
	assert_match "no embedding provider configured"
	run rk-embed --provider nosuch -m m </dev/null
	assert_status 4
	assert_match "unknown provider 'nosuch'"
	run rk-embed --provider anthropic -m m </dev/null
	assert_status 4
	assert_output "rk-embed: anthropic: no embeddings API (use openai, ollama or an OpenAI-compatible server)"
	# without -m too: no model would make it one that has embeddings
	run rk-embed --provider anthropic </dev/null
	assert_status 4
	assert_output "rk-embed: anthropic: no embeddings API (use openai, ollama or an OpenAI-compatible server)"
	run rk-embed --provider anthropic-compatible </dev/null
	assert_status 4
	assert_output "rk-embed: anthropic-compatible: no embeddings API (use openai, ollama or an OpenAI-compatible server)"
	run rk-embed --provider together </dev/null
	assert_status 4
	assert_output "rk-embed: together: no embedding model: use -m or RK_EMBED_MODEL"
}

@test "bad numbers are usage errors (2)" {
	run rk-embed --mock --batch 0 </dev/null
	assert_status 2
	assert_output "rk-embed: --batch: not a number from 1 to 4096: '0'"
	run rk-embed --mock -P x </dev/null
	assert_status 2
	run rk-embed --mock --dimensions -3 </dev/null
	assert_status 2
	run rk-embed --mock extra </dev/null
	assert_status 2
}

@test "rk-embed --help matches the SYNOPSIS of rk-embed(1), which is lint-clean" {
	check_synopsis rk-embed
	check_manlint rk-embed
}

@test "rk-embed: a bad client option argument is a usage error, said once" {
	run rk-embed --mock --cache-ttl=1x
	assert_status 2
	assert_output "rk-embed: --cache-ttl: not a time such as 30, 2.5s, 500ms or 5m: '1x'"
}

@test "rk-embed: RK_EMBED_PROVIDER wins over RK_PROVIDER, which it falls back to" {
	run sh -c 'echo hi | RK_PROVIDER=nonesuch RK_EMBED_PROVIDER=mock rk-embed |
	    jq -c "[.text, (.embedding | length)]"'
	assert_status 0
	assert_output '["hi",64]'
	run sh -c 'echo hi | RK_PROVIDER=groq RK_MODEL=m rk-embed'
	assert_status 4
	assert_output "rk-embed: groq: no embedding model: use -m or RK_EMBED_MODEL"
}
