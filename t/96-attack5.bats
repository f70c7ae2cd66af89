#!/usr/bin/env bats
# Attacks on rk-embed's reply checks and rk-search's BM25 settings: what a
# user or a hostile server can send, and what must come out of it.

load helper

# --- rk-search: --params ---------------------------------------------------

local_setup() {
	mkdir d
	printf 'alpha beta alpha gamma delta\n' >d/a.txt
	printf 'alpha\n' >d/b.txt
	printf 'zeta eta theta iota kappa lambda mu nu xi omicron alpha beta\n' \
	    >d/c.txt
	printf 'other words here\n' >d/d.txt
	printf 'more other words\n' >d/e.txt
}

@test "--params: k1 over 1000 is a usage error, never saved into the index" {
	run rk-search -q -i k.db --params k1=1001 add d
	assert_status 2
	assert_output "rk-search: --params: k1: not 0..1000: '1001'"
	run rk-search -q -i k.db --params k1=1000,b=1 add d
	assert_status 0
	run sh -c "rk-search -i k.db stats | jq -c '[.docs, .k1, .b]'"
	assert_output '[5,1000,1]'
}

@test "--params: a query's huge k1 is refused, not each chunk twice" {
	rk-search -q -i k.db add d
	run rk-search -i k.db --params k1=1e308 alpha beta
	assert_status 2
	assert_output "rk-search: --params: k1: not 0..1000: '1e308'"
	run sh -c "rk-search -i k.db --params k1=1000,b=1 alpha beta |
	    jq -r .doc"
	assert_output 'd/a.txt
d/c.txt
d/b.txt'
}

# --- rk-embed: long lines against RK_MAX_RECORD ---------------------------

@test "a line whose output grows over RK_MAX_RECORD: said without an id" {
	run sh -c "{ printf '%0900d\n' 0; echo short; } |
	    RK_MAX_RECORD=1024 rk-embed --mock --dimensions 64 2>err"
	assert_status 3
	run jq -c '[.text, .error.code, (.embedding | length)]' <<<"$output"
	assert_output '[null,"too-long",0]
["short",null,64]'
	run cat err
	assert_output "rk-embed: a record over the limit of 1024 bytes"
}

# --- rk-search: blank queries in records ----------------------------------

@test "-r --vector, --hybrid: a blank query has no context, as BM25's" {
	rk-search -q -i k.db add d
	rk-search -q -i k.db --provider mock -m hash embed
	for how in "" --vector --hybrid; do
		printf '{"query":""}\n{"query":" \\t"}\n{"query":"alpha"}\n' |
		    RK_EMBED_PROVIDER=mock rk-search -i k.db -r $how |
		    jq -c '.context | length'
		RK_EMBED_PROVIDER=mock rk-search -i k.db -r $how '' |
		    jq -c '.context | length'
	done >out
	run cat out
	assert_output '0
0
3
0
0
0
5
0
0
0
5
0'
}

# --- rk-search --hybrid: extreme weights ----------------------------------

@test "--hybrid --weights: a sum past the largest double is a usage error" {
	rk-search -q -i k.db add d
	run rk-search -i k.db --hybrid --weights 1e308,1e308 alpha
	assert_status 2
	assert_output "rk-search: --weights: not two weights BM25,VECTOR >= 0, \
not both 0, of a finite sum: '1e308,1e308'"
}

@test "--hybrid --weights 1e307,1e307: huge scores, not lost to a round" {
	rk-search -q -i k.db add d
	rk-search -q -i k.db --provider mock -m hash embed
	export RK_EMBED_PROVIDER=mock
	run sh -c 'rk-search -i k.db --hybrid --weights 1e307,1e307 -k 2 alpha |
	    jq -c "[.doc, .score > 1e305]"'
	assert_status 0
	assert_output '["d/b.txt",true]
["d/a.txt",true]'
	run sh -c 'rk-search -i k.db -r --hybrid --weights 1e307,1e307 alpha |
	    jq -c ".context | length"'
	assert_output '5'
}
