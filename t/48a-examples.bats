#!/usr/bin/env bats
# The EXAMPLES of rk-embed(1) and rk-search(1) that talk to Ollama and
# OpenAI, taken from the man pages' source and run as written, only the
# base URL pointed at the fake server (t/fakellm.c, as strict as the real
# APIs) through the option or variable the pages document.  Each checks
# the exact requests the server received and the output the page shows
# (or its shape: vectors are long).  A page changed so that a command no
# longer works, or no longer exists, fails here.  And what the fake
# refuses, as the real APIs do.

load helper

local_setup() {
	unset RK_EMBED_PROVIDER RK_EMBED_BASE_URL RK_EMBED_MODEL RK_EMBED_API
	rm -f "$TMP/port"
	start_fake "${FAKE_ARGS[@]}"
	ROOT=${URL%/v1}		# Ollama's documented URL has no /v1
	: >"$TMP/fake.log"
}

# examples PAGE: the displays of man/PAGE's EXAMPLES, each a directory
# ex/PAGE.N holding cmd.K, its K-th command as the shell reads it ("$ "
# gone, roff escapes undone), and want.K, the lines the page shows after it
examples() {
	awk -v dir="$TMP/ex" -v page="$1" '
	/^\.Sh / { on = $2 == "EXAMPLES"; next }
	!on { next }
	/^\.Bd -literal/ {
		d = sprintf("%s/%s.%d", dir, page, ++n)
		system("mkdir -p " d)
		inb = 1
		k = cont = 0
		next
	}
	/^\.Ed/ { inb = 0; next }
	!inb { next }
	{
		gsub(/\\e/, "\\\\")
		gsub(/\\-/, "-")
		gsub(/\\&/, "")
		if (cont)
			print >> (d "/cmd." k)
		else if (/^\$ /) {
			k++
			print substr($0, 3) > (d "/cmd." k)
			printf "" > (d "/want." k)
		} else
			print >> (d "/want." k)
		cont = /\\$/ || /\|$/
	}' "$BATS_TEST_DIRNAME/../man/$1.1"
}

# display PAGE REGEX: the one display of PAGE's examples with a command
# that matches REGEX (none or two fail the test)
display() {
	local d

	examples "$1"
	d=$(grep -lE -- "$2" "$TMP/ex/$1".*/cmd.* | xargs -r -n1 dirname |
	    sort -u)
	if [ -z "$d" ] || [ "$(printf '%s\n' "$d" | wc -l)" -ne 1 ]; then
		echo "$1(1): no one display with a command matching $2: $d" >&2
		return 1
	fi
	echo "$d"
}

# run_display DIR [SED]: DIR's commands, one shell in $TMP, each with
# sed expression SED applied (the base URL), ollama's own commands left
# out; each command's terminal output (stdout and stderr) in got.K and
# its status in rc.K
run_display() {
	local f k n

	: >script
	n=$(ls "$1" | grep -c '^cmd\.')
	for k in $(seq "$n"); do
		f=$1/cmd.$k
		if grep -q '^ollama ' "$f"; then
			# "ollama pull": the model is on the real server only
			echo ": >got.$k; echo 0 >rc.$k" >>script
			continue
		fi
		{ echo "{"; sed -e "${2:-}" "$f"; echo "} >got.$k 2>&1; echo \$? >rc.$k"; } >>script
	done
	sh script
}

# same_output DIR K: command K printed what the page shows, and exited 0
same_output() {
	run cat "$1/want.$2"
	want=$output
	run cat "got.$2"
	assert_output "$want"
	[ "$(cat "rc.$2")" -eq 0 ]
}

# the fake's log: [method, path, authorization, body], one line a request
requests() {
	jq -c '[.method, .path, .authorization, .body]' "$TMP/fake.log"
}

# --- rk-embed(1) -------------------------------------------------------

@test "rk-embed(1): the offline example prints what the page shows" {
	d=$(display rk-embed 'rk-embed --mock')
	run_display "$d"
	same_output "$d" 1
	[ ! -s "$TMP/fake.log" ]
}

@test "rk-embed(1): the Ollama example, --base-url at the fake: one POST /api/embed, 768 numbers" {
	d=$(display rk-embed 'provider ollama')
	run_display "$d" "s|http://localhost:11434|$ROOT|"
	# "ollama pull nomic-embed-text" was left out; the rest as written
	[ "$(cat "$d/cmd.1")" = "ollama pull nomic-embed-text" ]
	same_output "$d" 2
	run cat "$d/want.2"
	assert_output 768
	run requests
	assert_output '["POST","/api/embed",null,{"model":"nomic-embed-text","input":["Why is the sky blue?"]}]'
}

# docs N: docs.ndjson of N records with an id, a text and another member
docs() {
	awk -v n="$1" 'BEGIN { for (i = 1; i <= n; i++)
	    printf "{\"id\":\"d%03d\",\"text\":\"document %d about %s\"," \
	    "\"lang\":\"en\"}\n", i, i, i % 2 ? "cats" : "dogs" }' >docs.ndjson
}

@test "rk-embed(1): the OpenAI example, RK_EMBED_BASE_URL at the fake: 250 records in requests of 100, 256 dimensions" {
	d=$(display rk-embed 'batch 100')
	docs 250
	export RK_EMBED_BASE_URL=$URL
	run_display "$d"
	# one test a line: in an && list only the last can fail a test
	for k in 1 2; do
		[ ! -s "$d/want.$k" ]
		[ ! -s "got.$k" ]
		[ "$(cat "rc.$k")" -eq 0 ]
	done
	# requests of at most 100 texts (as many as had arrived from jq: at
	# least three), each as OpenAI takes it; OPENAI_API_KEY is for
	# api.openai.com alone, so none was sent here
	run sh -c "jq -c '[.method, .path, .authorization, .[\"content-type\"],
	    (.body | keys), .body.model, .body.encoding_format,
	    .body.dimensions, (.body.input | length <= 100)]' \
	    '$TMP/fake.log' | uniq -c | tr -s ' '"
	assert_match '^ ([3-9]|[1-9][0-9]+) \["POST","/v1/embeddings",null,"application/json",\["dimensions","encoding_format","input","model"\],"text-embedding-3-small","float",256,true\]$'
	[ "${#lines[@]}" -eq 1 ]
	# every text sent once, in order within its request
	run sh -c "jq -r '.body.input[]' '$TMP/fake.log' | sort"
	assert_output "$(jq -r .text docs.ndjson | sort)"
	# vec.ndjson: the records as jq made them, each with its own vector
	run jq -c '[.id, .text, .lang, (.embedding | length)]' vec.ndjson
	[ "${#lines[@]}" -eq 250 ]
	[ "${lines[0]}" = '["d001","document 1 about cats",null,256]' ]
	[ "${lines[249]}" = '["d250","document 250 about dogs",null,256]' ]
	jq -c .embedding vec.ndjson >got.v
	jq -c '{id, text}' docs.ndjson | rk-embed --mock --dimensions 256 |
	    jq -c .embedding >want.v
	cmp got.v want.v
}

@test "rk-embed(1): the OpenAI example against a server that wants a key: OPENAI_API_KEY is withheld, RK_API_KEY sent" {
	stop_fake
	FAKE_ARGS=(-k sk-example-key)
	local_setup
	d=$(display rk-embed 'batch 100')
	docs 3
	export RK_EMBED_BASE_URL=$URL
	run_display "$d"
	[ "$(cat rc.2)" -eq 6 ]
	msg="$URL/embeddings: HTTP 401: You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).; note: OPENAI_API_KEY is sent only to its vendor's host; use RK_API_KEY for this base URL"
	run jq -r .error.message vec.ndjson
	assert_output "$msg
$msg
$msg"
	: >"$TMP/fake.log"
	RK_API_KEY=sk-example-key run_display "$d"
	[ "$(cat rc.2)" -eq 0 ]
	run requests
	assert_output '["POST","/v1/embeddings","Bearer sk-example-key",{"model":"text-embedding-3-small","input":["document 1 about cats","document 2 about dogs","document 3 about cats"],"encoding_format":"float","dimensions":256}]'
	run grep -c sk-example-key vec.ndjson got.2
	assert_output "vec.ndjson:0
got.2:0"
}

@test "rk-embed(1): the text-embeddings-inference example, --base-url at the fake: 384 numbers a line" {
	d=$(display rk-embed 'openai-compatible')
	printf 'first line\nsecond line\n' >lines.txt
	run_display "$d" "s|http://localhost:8080/v1|$URL|"
	[ "$(cat rc.1)" -eq 0 ]
	run jq -c '[.text, (.embedding | length)]' got.1
	assert_output '["first line",384]
["second line",384]'
	run requests
	assert_output '["POST","/v1/embeddings",null,{"model":"BAAI/bge-small-en-v1.5","input":["first line","second line"],"encoding_format":"float"}]'
}

# --- rk-search(1) ------------------------------------------------------

# notes: the notes of the first example, indexed by its first command
notes() {
	cp -r "$FIXTURES/search/notes" .
	d=$(display rk-search 'add notes')
	head -n 1 "$d/cmd.1" >one
	sh one >/dev/null 2>&1
}

@test "rk-search(1): the offline example: the mock model's vectors, rk think --mock --hybrid, no request" {
	notes
	d=$(display rk-search 'provider mock embed')
	run_display "$d"
	for k in 1 2 3; do same_output "$d" "$k"; done
	[ ! -s "$TMP/fake.log" ]
}

@test "rk-search(1): the Ollama example, RK_EMBED_BASE_URL at the fake: embed, then --hybrid" {
	notes
	d=$(display rk-search 'provider ollama embed')
	RK_EMBED_BASE_URL=$ROOT run_display "$d"
	same_output "$d" 1
	same_output "$d" 2
	run requests
	assert_output '["POST","/api/embed",null,{"model":"nomic-embed-text","input":["Cats sleep twelve to sixteen hours a day.  A sleeping cat is conserving energy for the hunt, even when the only prey is a toy mouse.  Kittens sleep even longer than adult cats.","# Dogs  Dogs are pack animals.  A dog that is left alone all day gets bored and may chew the furniture.  ## Sleep  Dogs sleep about half the day, in short naps."]}]
["POST","/api/embed",null,{"model":"nomic-embed-text","input":["do kittens nap?"]}]'
}

@test "rk-search(1): the OpenAI example, RK_BASE_URL at the fake: embed 512 dimensions, rk think --hybrid" {
	mkdir docs
	echo "The warranty covers defects in materials and workmanship for two years." >docs/warranty.txt
	echo "Returns are accepted within thirty days of purchase." >docs/returns.txt
	rk-search -q -i docs.db add docs
	d=$(display rk-search 'rk think -i docs.db --hybrid')
	RK_BASE_URL=$URL run_display "$d"
	for k in 1 2 3; do [ "$(cat "rc.$k")" -eq 0 ]; done
	run cat got.2
	assert_output "rk-search: 2 chunks embedded, 2 with vectors (text-embedding-3-small, 512 dimensions)"
	# the documents' vectors, then the question's, with the index's model
	run sh -c "jq -c 'select(.path == \"/v1/embeddings\") | .body' '$TMP/fake.log'"
	assert_output '{"model":"text-embedding-3-small","input":["Returns are accepted within thirty days of purchase.","The warranty covers defects in materials and workmanship for two years."],"encoding_format":"float","dimensions":512}
{"model":"text-embedding-3-small","input":["What does the warranty cover?"],"encoding_format":"float","dimensions":512}'
	# the answer comes from passages fused by BM25 and vector
	run jq -c '[.context[] | [.doc, .score]]' got.3
	assert_output '[["docs/warranty.txt",0.0328],["docs/returns.txt",0.0161]]'
	run sh -c "jq -r 'select(.path == \"/v1/chat/completions\") |
	    .body.messages[-1].content' '$TMP/fake.log' | grep -c '^\[1\] (docs/warranty.txt) The warranty covers'"
	[ "$output" -ge 1 ]
	run sh -c "jq -r '.body.model' '$TMP/fake.log' | sort | uniq -c | tr -s ' '"
	assert_match '^ [0-9]+ gpt-4o-mini$'
}

# --- the fake refuses what the real APIs refuse ------------------------

# post PATH BODY [HEADER...]: POST BODY (ASCII) to the fake over bash's
# /dev/tcp; "status body" of its reply on stdout
post() {
	local port=${URL#http://127.0.0.1:} path=$1 body=$2 line len=0 st
	port=${port%%/*}
	shift 2
	exec 3<>"/dev/tcp/127.0.0.1/$port"
	{
		printf 'POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\n' "$path"
		for h in "$@"; do printf '%s\r\n' "$h"; done
		printf 'Content-Length: %d\r\n\r\n%s' "${#body}" "$body"
	} >&3
	read -r line <&3
	st=$(echo "$line" | cut -d' ' -f2)
	while IFS= read -r line <&3 && [ "$line" != $'\r' ]; do
		case $line in
		[Cc]ontent-[Ll]ength:*) len=${line#*: }; len=${len%$'\r'} ;;
		esac
	done
	printf '%s %s\n' "$st" "$(head -c "$len" <&3)"
	exec 3<&-
}

# openai BODY: POST it to /v1/embeddings as a JSON request
openai() { post /v1/embeddings "$1" 'Content-Type: application/json'; }

@test "fake /v1/embeddings refuses as OpenAI does: 400 and its error object" {
	bad='"type":"invalid_request_error","param":null,"code":null}}'
	run openai '{"model":"m","input":["one",""]}'
	assert_output "400 {\"error\":{\"message\":\"'\$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.\",$bad"
	run openai '{"model":"m","input":[]}'
	assert_match "^400 .*'\\\$\\.input' is invalid"
	run openai '{"model":"m","input":[1,2]}'
	assert_match "^400 .*'\\\$\\.input' is invalid"
	run openai '{"input":"x"}'
	assert_output "400 {\"error\":{\"message\":\"you must provide a model parameter\",$bad"
	run openai '{"model":"m"}'
	assert_output "400 {\"error\":{\"message\":\"'input' is a required property\",$bad"
	run openai '{"model":"m","input":"x","dimensions":0}'
	assert_match '^400 .*dimensions'
	run openai '{"model":"text-embedding-ada-002","input":"x","dimensions":8}'
	assert_output "400 {\"error\":{\"message\":\"This model does not support specifying dimensions.\",$bad"
	run openai '{"model":"m","input":"x","encoding_format":"base64"}'
	assert_match '^400 .*encoding_format'
	run openai '{"model":"m","input":"x","truncate":true}'
	assert_output "400 {\"error\":{\"message\":\"Unrecognized request argument supplied: truncate\",$bad"
	run post /v1/embeddings '{"model":"m","input":"x"}'
	assert_match '^400 .*could not parse the JSON body'
	run openai '{"model":"m","input":"two words","dimensions":2}'
	assert_output '200 {"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.707106769,0.707106769]}],"model":"m","usage":{"prompt_tokens":2,"total_tokens":2}}'
	[ "$(wc -l <"$TMP/fake.log")" -eq 11 ]
}

@test "fake /api/embed refuses as Ollama does: its status and {\"error\": message}" {
	run post /api/embed '{"model":"m","input":[1]}'
	assert_output '400 {"error":"invalid input type"}'
	run post /api/embed '{"model":"m","input":"x","truncate":"no"}'
	assert_output '400 {"error":"json: cannot unmarshal string into Go struct field EmbedRequest.truncate of type bool"}'
	run post /api/embed '{"input":"x"}'
	assert_output "404 {\"error\":\"model '' not found\"}"
	run post /api/embed ''
	assert_output '400 {"error":"missing request body"}'
	# an empty input loads the model and embeds nothing
	run post /api/embed '{"model":"m","input":""}'
	assert_output '200 {"model":"m","embeddings":[]}'
	run post /api/embed '{"model":"nomic-embed-text","input":["a b"],"dimensions":2,"truncate":true,"keep_alive":"5m","options":{}}'
	assert_output '200 {"model":"nomic-embed-text","embeddings":[[0.707106769,0.707106769]],"total_duration":14144917,"load_duration":1019500,"prompt_eval_count":2}'
}

@test "fake: with -k, OpenAI's requests need the key and Ollama's none" {
	stop_fake
	FAKE_ARGS=(-k sk-k)
	local_setup
	run openai '{"model":"m","input":"x","dimensions":1}'
	assert_match "^401 .*You didn't provide an API key"
	run post /v1/embeddings '{"model":"m","input":"x","dimensions":1}' \
	    'Content-Type: application/json' 'Authorization: Bearer sk-no'
	assert_output '401 {"error":{"message":"Incorrect API key provided.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}'
	run post /v1/embeddings '{"model":"m","input":"x","dimensions":1}' \
	    'Content-Type: application/json' 'Authorization: Bearer sk-k'
	assert_match '^200 '
	run post /api/embed '{"model":"m","input":"x","dimensions":1}'
	assert_match '^200 '
}
