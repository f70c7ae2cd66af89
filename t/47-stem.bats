#!/usr/bin/env bats
# rk-search's analyzer stems with Snowball (libstemmer): English Porter2 by
# default, the original Porter and other languages by name.

load helper

local_setup() {
	printf 'The patient was dying.\n' >en.txt
	printf 'Les chevaux mangent.\n' >fr.txt
}

# hits INDEX QUERY: the documents found, one a line
hits() {
	run sh -c "rk-search -i '$1' -k 5 '$2' | jq -r .doc"
	assert_status 0
}

@test "stem: English is Porter2, the default (dying matches die)" {
	rk-search -i en.db add en.txt
	hits en.db die
	assert_output "en.txt"
	run sh -c "rk-search -i en.db stats | jq -r .analyzer"
	assert_output "stem,stop"
}

@test "stem: porter is the original Porter stemmer (dying is dy)" {
	rk-search -i p.db --analyzer porter,stop add en.txt
	hits p.db die
	assert_output ""
	hits p.db dying
	assert_output "en.txt"
	run sh -c "rk-search -i p.db stats | jq -r .analyzer"
	assert_output "porter,stop"
}

@test "stem: other languages by name (chevaux is cheval in French)" {
	rk-search -i fr.db --analyzer french add fr.txt
	hits fr.db cheval
	assert_output "fr.txt"
	run sh -c "rk-search -i fr.db stats | jq -r .analyzer"
	assert_output "french"
	rk-search -i en.db add fr.txt
	hits en.db cheval
	assert_output ""
}

@test "stem: an unknown stemmer is a usage error" {
	run rk-search -i x.db --analyzer klingon,stop add en.txt
	assert_status 2
	assert_output "rk-search: --analyzer: not stem, a stemmer, stop or none: 'klingon,stop'"
	[ ! -e x.db ]
}

@test "stem: the stemmer belongs to the index" {
	rk-search -i fr.db --analyzer french add fr.txt
	run rk-search -i fr.db --analyzer german add en.txt
	assert_status 5
	assert_output "rk-search: fr.db: index was built with analyzer french, not german"
}

@test "stem: short words stay whole; no stem is ever empty" {
	printf 'Histone chaperone(s) is as s.\n' >c.txt
	rk-search -i p.db --analyzer porter add c.txt
	run sh -c "rk-search -i p.db -k 1 'chaperone(s)' 2>&1 | jq -r .doc"
	assert_output "c.txt"
}
