#!/usr/bin/env bats
# The record contract (rk-record(5)) held by every filter that reads
# records: malformed lines become error records, the light path validates
# as strictly as the full one, and a line over RK_MAX_RECORD is never
# buffered.

load helper

# one.json: a record after one step (rk-prompt's input);
# req.json: the same with its next request (rk-llm's input)
local_setup() {
	rk-prompt gigathink "Is remote work here to stay?" | rk-llm --mock \
	    >one.json || return 1
	rk-prompt <one.json >req.json || return 1
}

# filters TOOL...: each filter that reads records, one per line
filters() {
	cat <<-'EOF'
	rk-prompt
	rk-llm --mock
	rk-trace -d t.db
	rk-fuse -r
	rk-search -i idx.db -r
	rk-tokens
	EOF
}

make_index() {
	printf 'Remote work needs trust.\n' >doc.txt
	rk-search -i idx.db add doc.txt 2>/dev/null
}

# each_bad FILE: every filter turns each line of FILE into one error
# record with code bad-json (or bad-utf8) and exits 3
each_bad() {
	local n f
	n=$(wc -l <"$1")
	make_index
	while read -r f; do
		run sh -c "$f <'$1' 2>/dev/null"
		[ "$status" -eq 3 ] || { echo "$f: status $status" >&2; return 1; }
		printf '%s\n' "$output" >out
		[ "$(grep -c . out)" -eq "$n" ] ||
		    { echo "$f: $(grep -c . out) lines for $n" >&2; return 1; }
		if ! jq -e -r '.error.code' out | grep -vqx 'bad-json\|bad-utf8'
		then :; else
			echo "$f: a line that is no error record:" >&2
			jq -c '{id, error}' out >&2
			return 1
		fi
	done < <(filters)
}

@test "record: a valid record passes every filter with status 0" {
	make_index
	while read -r f; do
		run sh -c "$f <one.json"
		assert_status 0 || { echo "$f" >&2; return 1; }
		printf '%s\n' "$output" | jq -e 'has("error") | not' >/dev/null
	done < <(filters)
	run rk-llm --mock <req.json
	assert_status 0
}

@test "record: the light path rejects a bad value inside steps" {
	sed 's/"type":"list"/"type":nope!!/' one.json >bad1
	sed 's/"type":"list"/"type":nope!!/' req.json >bad2
	run sh -c 'rk-prompt <bad1 2>/dev/null'
	assert_status 3
	[ "$(jq -r .error.code <<<"$output")" = bad-json ]
	run sh -c 'rk-llm --mock <bad2 2>/dev/null'
	assert_status 3
	[ "$(jq -r .error.code <<<"$output")" = bad-json ]
}

@test "record: trailing garbage, raw control characters, duplicate keys" {
	{
		sed 's/}$/}x/' one.json
		sed 's/}$/} {}/' one.json
		sed 's/Time to value/Time\tto value/' one.json
		sed 's/"type":"list"/"type":"list","type":"list"/' one.json
		sed 's/"estimated":true/"estimated":true,"estimated":1/' \
		    one.json
		sed 's/"query":/"query":1,"query":/' one.json
		sed 's/"query":/"q\\u0075ery":1,"query":/' one.json
		sed 's/"query":/"a":0,"b":0,"c":0,"d":0,"e":0,"f":0,"g":0,"h":0,"i":0,"j":0,"k":0,"l":0,"m":0,"n":0,"o":0,"p":0,"q":0,"r":0,"s":0,"t":0,"\\u0061":1,"query":/' one.json
		sed 's/"query":"/"query":"\\ud800/' one.json
		sed 's/"query":"/"query":"\\u0000/' one.json
		sed 's/"link":0/"link":01/' one.json
		sed 's/"link":0/"link":1./' one.json
		sed 's/"link":0/"link":-/' one.json
		sed 's/"link":0/"link":99999999999999999999/' one.json
		sed 's/"link":0/"link":1e999/' one.json
		sed 's/"link":0/"link":tru/' one.json
		sed 's/"link":0/"link":[1,]/' one.json
		sed 's/"link":0/"link":{"a":1,}/' one.json
		sed 's/"link":0/"link":"\\x"/' one.json
		sed 's/"link":0/"link":0\x00/' one.json
		sed 's/"link":0/"link":true\x00/' one.json
	} >bad
	each_bad bad
}

@test "record: a control byte or a cut at many positions of a record" {
	local len k
	# the cuts stop short of the whole record, whatever its length
	len=$(($(wc -c <req.json) - 2))
	for k in $(seq 1 23 "$len"); do
		LC_ALL=C awk -v k="$k" \
		    '{ print substr($0, 1, k) "\001" substr($0, k + 1) }' req.json
		head -c "$k" req.json
		echo
	done >bad
	each_bad bad
}

# "link" is a value at depth 4 (record, steps, step, link): 2045 arrays
# reach jansson's limit of 2048, one more is over it
@test "record: values deeper than 2048 are refused, 2048 are not" {
	ok=$(printf '%.0s[' $(seq 2045))$(printf '%.0s]' $(seq 2045))
	deep=$(printf '%.0s[' $(seq 2046))$(printf '%.0s]' $(seq 2046))
	sed "s/\"link\":0/\"link\":$ok/" one.json >ok.json
	sed "s/\"link\":0/\"link\":$deep/" one.json >bad
	run rk-prompt <ok.json
	assert_status 0
	each_bad bad
}

@test "record: steps of any type come out of rk-llm --mock as JSON" {
	local s
	for s in null '{}' '""' 0 false true '"x"'; do
		jq -c --argjson s "$s" '.steps = $s' req.json >in
		run rk-llm --mock <in
		assert_status 0
		printf '%s\n' "$output" >out
		jq -e '.steps | length == 1' out >/dev/null ||
		    { echo "steps=$s: $output" >&2; return 1; }
		jq -c --argjson s "$s" '.steps = $s | del(.request)' one.json >in
		run rk-prompt <in
		assert_status 0
		jq -e '.request.step' <<<"$output" >/dev/null
	done
}

# rss TOOL...: TOOL's peak resident set in kB, reading a 200 MB record line
# (made on the fly, never stored) with RK_MAX_RECORD=1M; out gets stdout
rss() {
	{ printf '{"query":"'; head -c 200000000 /dev/zero | tr '\0' a
	    printf '"}\n'; } |
	    RK_MAX_RECORD=1M "$RK_BUILD/libexec/maxrss" "$@" >out 2>err
	echo "$?" >status
	sed -n 's/^maxrss //p' err
}

@test "record: a 200 MB line is never held in memory, by any tool" {
	local bound=32768 kb
	# ASan's shadow memory alone is over 32 MB: then well under the line
	case $RK_BUILD in *-san) bound=102400 ;; esac
	make_index
	while read -r f; do
		kb=$(rss $f)
		[ "$kb" -lt "$bound" ] ||
		    { echo "$f: ${kb} kB resident" >&2; return 1; }
		[ "$(cat status)" -eq 3 ] ||
		    { echo "$f: status $(cat status)" >&2; return 1; }
		grep -q 'over the record limit of 1048576' err ||
		    { echo "$f: $(cat err)" >&2; return 1; }
	done < <(filters; echo rk-fuse)
	# the records that came out say why
	kb=$(rss rk-prompt)
	[ "$(jq -r .error.code out)" = too-long ]
}

@test "record: values read from a line are the ones jansson reads, however written" {
	printf '%s\n' '{ "id" : "01ABC" , "k\u0065y" : "\u00e9\ud83d\ude00\n\t\"\\\/" , "n":[0,-0.0,1e3,2.5E-3,12345678901234,true,false,null,{},[]], "o":{"a":{"b":[[{"c":"d","\u0063\u0063":""}]]}} }' >in.json
	for f in "rk-trace --no-store -f json" "rk-llm --mock"; do
		$f <in.json >out.json
		[ "$(jq -cS 'del(.rk)' out.json)" = "$(jq -cS . in.json)" ]
	done
	[ "$(jq -c .n out.json)" = '[0,-0,1000,0.0025,12345678901234,true,false,null,{},[]]' ]
	[ "$(jq -r .key out.json)" = "$(printf 'é😀\n\t"\\/')" ]
}
