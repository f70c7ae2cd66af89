#!/usr/bin/env bats
# rk-tokens and lib/token/bpe.c against published vectors: the jtokkit CSVs (ids
# from python tiktoken), tiktoken's own unit asserts, and GSM8K token counts
# and ids (js-tiktoken and gpt-tokenizer, which agree).  All in
# t/fixtures/tokenizer, with their licences.

load helper

TOKDATA=
local_setup() {
	TOKDATA="$FIXTURES/tokenizer"
}

# jtokkit CSV -> one {"query":...} record per row, and the expected ids
csv_records() {
	sed 1d "$1" | sed -E 's/,"\[[0-9, ]*\]","\[[0-9, ]*\]"$//' |
	    sed -E '/^".*"$/{s/^"//; s/"$//; s/""/"/g;}' | jq -Rc '{query: .}'
}
csv_ids() {
	sed 1d "$1" | sed -E 's/.*,"\[([0-9, ]*)\]","\[[0-9, ]*\]"$/\1/; s/, / /g'
}
ids_of() {
	jq -r '.tokens.ids | map(tostring) | join(" ")'
}

# check_csv ENCODING: every jtokkit vector, in one process
check_csv() {
	local csv="$TOKDATA/jtokkit_$1_encodings.csv"

	csv_records "$csv" >in.ndjson
	csv_ids "$csv" >want
	[ "$(wc -l <want)" -ge 421 ]
	rk-tokens --ids -e "$1" in.ndjson >out.ndjson
	ids_of <out.ndjson >got
	diff want got
}

@test "jtokkit cl100k_base: all 423 vectors" {
	check_csv cl100k_base
	[ "$(wc -l <got)" -eq 423 ]
}

@test "jtokkit o200k_base: all 421 vectors" {
	check_csv o200k_base
	[ "$(wc -l <got)" -eq 421 ]
}

@test "jtokkit vectors through the heap merge as well" {
	export RK_BPE_HEAP=1
	check_csv cl100k_base
	check_csv o200k_base
}

# check_unit ENCODING jq-condition [rk-tokens flags]
check_unit() {
	local f="$TOKDATA/tiktoken_unit_vectors.jsonl"

	jq -c "select(.encoding == \"$1\" and $2) | {query: .text}" "$f" \
	    >in.ndjson
	jq -r "select(.encoding == \"$1\" and $2) |
	    .tokens | map(tostring) | join(\" \")" "$f" >want
	[ -s want ]
	shift 2
	rk-tokens --ids "$@" in.ndjson | ids_of >got
	diff want got
}

@test "tiktoken unit vectors: cl100k_base and o200k_base" {
	check_unit cl100k_base '.allowed_special == null' -e cl100k_base
	check_unit cl100k_base '.allowed_special == "all"' -e cl100k_base \
	    --allow-special
	check_unit o200k_base '.allowed_special == null' -e o200k_base
	check_unit o200k_base '.allowed_special == "all"' -e o200k_base \
	    --allow-special
}

# GSM8K problems as question + "\n\n" + answer, the form the counts were made of
@test "GSM8K: token counts of all 1,319 problems, both encodings" {
	local tsv="$TOKDATA/gsm8k_token_counts.tsv"

	jq -c '{query: (.question + "\n\n" + .answer)}' \
	    "$FIXTURES/gsm8k/test.jsonl" >docs.ndjson
	awk -F'\t' 'NR > 1 { print $2 }' "$tsv" >want.cl
	awk -F'\t' 'NR > 1 { print $3 }' "$tsv" >want.o
	rk-tokens -e cl100k_base docs.ndjson | jq .tokens.query >got.cl
	rk-tokens -m gpt-4o docs.ndjson | jq .tokens.query >got.o
	[ "$(wc -l <got.cl)" -eq 1319 ]
	diff -u want.cl got.cl
	diff -u want.o got.o
	[ "$(awk '{ s += $1 } END { print s }' got.cl)" -eq 213450 ]
	[ "$(awk '{ s += $1 } END { print s }' got.o)" -eq 212156 ]
}

@test "GSM8K: ids of the first 50 problems, both encodings, both merges" {
	local f="$TOKDATA/gsm8k_first50_token_ids.jsonl"

	head -n 50 "$FIXTURES/gsm8k/test.jsonl" |
	    jq -c '{query: (.question + "\n\n" + .answer)}' >in.ndjson
	for enc in cl100k_base o200k_base; do
		jq -c ".$enc" "$f" >want
		rk-tokens --ids -e $enc in.ndjson | jq -c .tokens.ids >got
		[ "$(wc -l <got)" -eq 50 ]
		diff -u want got
		RK_BPE_HEAP=1 rk-tokens --ids -e $enc in.ndjson |
		    jq -c .tokens.ids >got
		diff -u want got
	done
}

@test "ids decode back to the vectors' text" {
	local csv="$TOKDATA/jtokkit_o200k_base_encodings.csv"

	csv_records "$csv" | jq -r .query >want
	csv_ids "$csv" | rk-tokens --decode -e o200k_base >got
	diff want got
}

@test "one count per line, an empty line counts 0" {
	printf 'hello world\n\nThis is a test         with a lot of spaces\n' \
	    >in
	run rk-tokens in
	assert_status 0
	assert_output "$(printf '2\n0\n10')"
	run rk-tokens --ids -e o200k_base in
	assert_status 0
	assert_output "$(printf '24912 2375\n\n2500 382 261 1746 269 483 261 3261 328 18608')"
}

@test "--all counts the whole input as one text, newlines included" {
	printf 'today\n \n' >in
	run rk-tokens --all --ids in
	assert_status 0
	assert_output "31213 27907"
	run rk-tokens --ids in
	assert_output "$(printf '31213\n220')"
}

@test "a CR before the newline is not part of the line" {
	printf 'hello world\r\n' | rk-tokens --ids >got
	[ "$(cat got)" = "15339 1917" ]
}

@test "cl100k: \\s++\$ keeps trailing whitespace in one piece, U+0085 is \\s" {
	run rk-tokens --all --ids -e cl100k_base <<<"$(printf 'x\n  ')"
	printf 'x\n  ' | rk-tokens --all --ids >got
	[ "$(cat got)" = "87 198 256" ]
	printf ' \xc2\x850' | rk-tokens --all --ids >got
	[ "$(cat got)" = "220 126 227 15" ]
}

@test "contractions, case-insensitive, long s folds to s" {
	printf "don't \xc5\xbfTOP" | rk-tokens --all --ids >got
	[ "$(cat got)" = "15357 956 27006 123 26450" ]
	printf "don't \xc5\xbfTOP" | rk-tokens --all --ids -e o200k_base >got
	[ "$(cat got)" = "91418 20757 123 35325" ]
	printf "Hello, world!\r\nIt's 2024." | rk-tokens --all --ids >got
	[ "$(cat got)" = "9906 11 1917 46726 2181 596 220 2366 19 13" ]
}

@test "special tokens only with --allow-special" {
	run rk-tokens --ids <<<'hello <|endoftext|>'
	assert_status 0
	assert_output "15339 83739 8862 728 428 91 29"
	run rk-tokens --ids --allow-special <<<'hello <|endoftext|>'
	assert_output "15339 220 100257"
	run rk-tokens --ids -e o200k_base <<<'hello <|endoftext|>'
	assert_output "24912 464 91 419 1440 919 91 29"
	run rk-tokens --ids -e o200k_base --allow-special \
	    <<<'<|endofprompt|>hello<|fim_prefix|>'
	assert_output "200018 24912 27 91 103473 33197 91 29"
	run rk-tokens --decode --allow-special <<<'100257 100276'
	assert_output "<|endoftext|><|endofprompt|>"
}

@test "invalid UTF-8 is merged into the last piece, as tiktoken's _encode_bytes" {
	printf ' \xec\x8b\xa4\xed' | rk-tokens --all --ids >got
	[ "$(cat got)" = "62085" ]
	printf '\xff' | rk-tokens --all --ids >got
	[ "$(cat got)" = "187" ]
	printf 'hello \xff world' | rk-tokens --all --ids >got
	[ "$(cat got)" = "15339 220 187 1917" ]
	printf 'a\xff\n\xc3\n' | rk-tokens >got
	[ "$(cat got)" = "$(printf '2\n1')" ]
}

@test "any bytes survive ids and back" {
	{ printf 'caf\xc3\xa9 \xff\xfe \r\n\n  x\t\n'; head -c 3000 /dev/urandom; } \
	    >in
	rk-tokens --all --ids in >ids
	rk-tokens --all --decode ids >out
	cmp in out
	rk-tokens --all --ids -e o200k_base in | rk-tokens --all --decode -e o200k_base >out
	cmp in out
}

@test "empty input prints nothing" {
	for flags in "" --all --ids "--all --ids" --decode "--all --decode"; do
		run rk-tokens $flags </dev/null
		assert_status 0
		assert_output ""
	done
}

@test "one megabyte of one letter, of spaces: one piece each" {
	head -c 1000000 /dev/zero | tr '\0' a >a
	head -c 1000000 /dev/zero | tr '\0' ' ' >s
	run rk-tokens --all a
	assert_output 125000
	run rk-tokens --all --ids a
	[ "$(printf '%s\n' "$output" | tr ' ' '\n' | sort -u)" = 70540 ]
	run rk-tokens --all s
	assert_output 7813
	run rk-tokens --all -e o200k_base a
	assert_output 125000
	# a line: the same, the newline is not counted
	printf '\n' >>a
	run rk-tokens a
	assert_output 125000
}

@test "runs of one letter agree with the array merge up to 128 bytes" {
	for n in 1 2 7 8 9 31 64 100 127 128 129 200; do
		head -c $n /dev/zero | tr '\0' a
		echo
		head -c $n /dev/zero | tr '\0' ' '
		printf 'x\n'
	done >in
	rk-tokens --ids in >want
	RK_BPE_HEAP=1 rk-tokens --ids in >got
	diff want got
	# 3000 a's: 375 of "aaaaaaaa" (independent reference BPE)
	head -c 3000 /dev/zero | tr '\0' a | rk-tokens --all >got
	[ "$(cat got)" = 375 ]
	head -c 3000 /dev/zero | tr '\0' ' ' | rk-tokens --all --ids >got
	[ "$(tr ' ' '\n' <got | sort -u | tr '\n' ' ')" = "29902 58040 " ]
}

@test "records: tokens of the query added, other fields untouched" {
	run rk-tokens <<'EOF'
{"rk":1,"id":"X","query":"hello world","n":[1,{"a":null}]}
{"id":"Y","query":"hi","error":{"stage":"rk-llm","code":"x","message":"m"}}
{"rk":1,"id":"Z","steps":[]}
EOF
	assert_status 1	# a record carries an error
	assert_output "$(cat <<'EOF'
{"rk":1,"id":"X","query":"hello world","n":[1,{"a":null}],"tokens":{"encoding":"cl100k_base","query":2}}
{"id":"Y","query":"hi","error":{"stage":"rk-llm","code":"x","message":"m"},"rk":1}
{"rk":1,"id":"Z","steps":[]}
EOF
)"
	run rk-tokens --ids -m gpt-4o <<<'{"rk":1,"id":"X","query":"hello world"}'
	assert_output '{"rk":1,"id":"X","query":"hello world","tokens":{"encoding":"o200k_base","query":2,"ids":[24912,2375]}}'
}

@test "records made by hand get rk and id" {
	echo '{"query":"hello world"}' | rk-tokens >out
	run jq -r '[.rk, (.id | length), .tokens.query] | @tsv' out
	assert_output "$(printf '1\t26\t2')"
}

@test "a malformed record becomes an error record, exit 3" {
	run rk-tokens <<'EOF'
{"query": oops}
hello world
EOF
	assert_status 3
	assert_match '^rk-tokens: stdin:1: column'
	printf '{"query": oops}\nhello world\n' | rk-tokens 2>/dev/null |
	    jq -c 'if type == "object" then .error.code else . end' >got ||
	    true
	[ "$(cat got)" = "$(printf '"bad-json"\n2')" ]
}

@test "a record over RK_MAX_RECORD is an error record" {
	printf '{"query":"%s"}\n' "$(head -c 2000 /dev/zero | tr '\0' a)" |
	    RK_MAX_RECORD=1k rk-tokens 2>err | jq -r .error.code >got || true
	[ "$(cat got)" = too-long ]
	grep -q 'over the record limit of 1024' err
}

@test "a line over RK_MAX_DOCUMENT is an error, exit 3" {
	head -c 3000 /dev/zero | tr '\0' a >in
	RK_MAX_DOCUMENT=1k run rk-tokens in
	assert_status 3
	assert_match 'in:1: line of 3000 bytes is over the limit of 1024 \(RK_MAX_DOCUMENT\)'
	RK_MAX_DOCUMENT=1k run rk-tokens --all in
	assert_status 3
	assert_match 'in: input over the limit of 1024 bytes'
}

@test "-m maps models to encodings; unknown names are usage errors" {
	for m in gpt-4o gpt-4o-mini o1 o3-mini gpt-4.1 gpt-5 chatgpt-4o-latest; do
		run rk-tokens -m $m <<<'{"query":"hi"}'
		assert_status 0
		assert_match '"encoding":"o200k_base"'
	done
	for m in gpt-4 gpt-4-turbo gpt-3.5-turbo text-embedding-3-small; do
		run rk-tokens -m $m <<<'{"query":"hi"}'
		assert_match '"encoding":"cl100k_base"'
	done
	run rk-tokens -m llama-3 </dev/null
	assert_status 2
	assert_output "rk-tokens: llama-3: unknown model"
	run rk-tokens -e gpt-4o </dev/null
	assert_status 2
	assert_output "rk-tokens: gpt-4o: unknown encoding (cl100k_base, o200k_base)"
	run rk-tokens -e cl100k_base -m gpt-4o </dev/null
	assert_status 2
}

@test "--decode: ids as --ids prints them or as a JSON array" {
	run rk-tokens --decode <<'EOF'
15339 1917
[9468, 239, 235]

EOF
	assert_status 0
	assert_output "$(printf 'hello world\n\xf0\x9f\x91\x8d\n')"
	run rk-tokens --decode <<<'15339 999999 1917'
	assert_status 3
	assert_output "rk-tokens: stdin:1: 999999: not a token id of cl100k_base"
	run rk-tokens --decode -e o200k_base <<<'100 x'
	assert_status 3
	assert_output "rk-tokens: stdin:1: x: not a token id of o200k_base"
	# -a: a bad line is left out whole, the others are decoded
	printf '15339\n1917 99999999\n 1917\n' | rk-tokens --all --decode >got 2>err &&
	    false || [ $? -eq 3 ]
	[ "$(cat got)" = "hello world" ]
	[ "$(cat err)" = "rk-tokens: stdin:2: 99999999: not a token id of cl100k_base" ]
}

@test "files and - in order; a missing file is exit 5, the rest still done" {
	echo 'hello world' >f
	run sh -c 'rk-tokens f - nonexistent f <<EOF 2>err
hi
EOF'
	assert_status 5
	assert_output "$(printf '2\n1\n2')"
	[ "$(cat err)" = "rk-tokens: nonexistent: No such file or directory" ]
}

@test "make install: an installed rk-tokens finds its tables" {
	[ -n "${RK_BUILD:-}" ] || skip "run through make check"
	make -s -C "$BATS_TEST_DIRNAME/.." O="$RK_BUILD" install \
	    DESTDIR="$TMP/inst" PREFIX=/opt/rk >/dev/null
	run inst/opt/rk/bin/rk-tokens --ids -m gpt-4o <<<'hello world'
	assert_status 0
	assert_output "24912 2375"
	cmp inst/opt/rk/share/reasonkit/tokenizer/cl100k_base.bpe \
	    "$RK_BUILD/share/reasonkit/tokenizer/cl100k_base.bpe"
}

@test "a missing table says where it looked" {
	RK_TOKENIZER_DIR=/nonexistent run rk-tokens </dev/null
	assert_status 5
	assert_output "rk-tokens: /nonexistent/cl100k_base.bpe: No such file or directory"
	mkdir d
	echo junk >d/o200k_base.bpe
	RK_TOKENIZER_DIR=d run rk-tokens -e o200k_base </dev/null
	assert_status 5
	assert_output "rk-tokens: d/o200k_base.bpe: not a token table"
}

@test "--help, --version, bad usage" {
	run rk-tokens --help
	assert_status 0
	[ "$(sed '/^$/,$d' <<<"$output")" = "$(printf '%s\n' \
	    'usage: rk-tokens [--all] [--allow-special] [--decode] [--ids]' \
	    '                 [-e encoding | -m model] [file ...]' \
	    '       rk-tokens --compile ranks.tiktoken table')" ]
	run rk-tokens -h
	assert_status 0
	assert_match '^usage: rk-tokens '
	run rk-tokens --version
	assert_status 0
	assert_match '^rk-tokens [0-9]+\.[0-9]+\.[0-9]+$'
	run rk-tokens -V
	assert_status 0
	assert_match '^rk-tokens [0-9]+\.[0-9]+\.[0-9]+$'
	run rk-tokens -x
	assert_status 2
	run rk-tokens --decode --ids
	assert_status 2
}

@test "--compile: the table of a small rank file; bad rank files refused" {
	# ranks of all 256 bytes, then "ab" (YWI=) as 256
	for i in $(seq 0 255); do
		printf "$(printf '\\%03o' $i)" | base64 | tr -d '\n'
		echo " $i"
	done >r.tiktoken
	cp r.tiktoken cl100k_base.tiktoken
	echo 'YWI= 256' >>cl100k_base.tiktoken
	run rk-tokens --compile cl100k_base.tiktoken cl100k_base.bpe
	assert_status 0
	assert_output ""
	RK_TOKENIZER_DIR=. run rk-tokens --all --ids <<<'abab'
	assert_output "256 256 10"
	echo 'YWI= 258' >>r.tiktoken
	run rk-tokens --compile r.tiktoken t.bpe
	assert_status 5
	assert_output "rk-tokens: r.tiktoken:257: rank 258 is not 256: ranks must be 0, 1, 2, ..."
	[ ! -e t.bpe ]
	[ ! -e t.bpe.tmp ]
	run rk-tokens --compile r.tiktoken
	assert_status 2
}

@test "a closed stdout is exit 5" {
	run sh -c 'yes hello | head -1000 | rk-tokens >/dev/full'
	assert_status 5
}

# the EXAMPLES of man/rk-tokens.1, verbatim
@test "man page examples" {
	run sh -c "echo 'hello world' | rk-tokens"
	assert_output 2
	run sh -c "echo 'hello world' | rk-tokens --ids -m gpt-4o"
	assert_output "24912 2375"
	run sh -c "echo '15339 1917' | rk-tokens --decode"
	assert_output "hello world"
	run sh -c "printf 'one line\nand another\n' | rk-tokens --all"
	assert_output 6
	run sh -c "echo '{\"query\":\"Is P = NP?\"}' | rk-tokens -m gpt-4 | jq -c .tokens"
	assert_output '{"encoding":"cl100k_base","query":5}'
}
