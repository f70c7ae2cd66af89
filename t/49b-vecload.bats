#!/usr/bin/env bats
# What a query process reads of the vectors in the index: every int8
# copy at load, each checked; the float32 vector of each candidate it
# re-ranks, checked when fetched; all the float32 vectors, checked, from
# its second query on (and when rk-search ann builds the graph).

load helper
load vectors

local_setup() {
	on_path
	stand_in
	embedded 300 64
}

# chunk_of RANK: the chunk of the RANK-th document by exact cosine to
# "apple river" (300: the last, which no query re-ranks)
chunk_of() {
	doc=$(rk-search -i idx -f trec -k 300 --exact --vector apple river |
	    sed -n "$1p" | cut -d" " -f3)
	sqlite3 idx "SELECT c.id FROM chunks c JOIN docs d ON d.id = c.doc
	    WHERE d.name = '$doc'"
}

# damage COLUMN VALUE CHUNK: the blob of that chunk replaced by VALUE
damage() {
	sqlite3 idx "UPDATE vecs SET $1 = CAST($2 AS BLOB) WHERE id = $3"
}

@test "vecload: a damaged float32 vector of a candidate is refused when fetched" {
	first=$(chunk_of 1)
	second=$(chunk_of 2)
	cp idx whole
	damage f "zeroblob(256)" "$first"
	run rk-search -i idx --vector apple river
	assert_status 5
	assert_output "rk-search: $PWD/idx: index damaged: vector: damaged: not of unit length"
	run rk-search -i idx --exact --hybrid apple river
	assert_status 5
	cp whole idx
	damage f "x'0000803f'" "$second"
	run rk-search -i idx --vector apple river
	assert_status 5
	assert_match "index damaged: vector: damaged: the float32 blob of chunk [0-9]* has 4 bytes, not 256"
}

@test "vecload: one query reads no float32 vector it does not re-rank; a second reads them all" {
	rk-search -i idx -k 5 --vector apple river >want
	damage f "zeroblob(256)" "$(chunk_of 300)"
	run rk-search -i idx -k 5 --vector apple river
	assert_status 0
	assert_output "$(cat want)"
	printf 'apple river\nstone\n' >queries
	run rk-search -i idx -k 5 --vector <queries
	assert_status 5
	# the first query answered, from the candidates' vectors alone
	[ "${#lines[@]}" -eq 6 ]
	[ "${lines[5]}" = "rk-search: $PWD/idx: index damaged: vector: damaged: not of unit length" ]
	run rk-search -q -i idx ann
	assert_status 5
	assert_output "rk-search: $PWD/idx: index damaged: vector: damaged: not of unit length"
}

@test "vecload: a damaged int8 copy is refused at load, re-ranked or not" {
	last=$(chunk_of 300)
	damage q "substr(q, 1, 41) || x'80' || substr(q, 43)" "$last"
	run rk-search -i idx -k 5 --vector apple river
	assert_status 5
	assert_output "rk-search: $PWD/idx: index damaged: vector: damaged: int8 out of range"
	damage q "substr(q, 1, 41) || x'01' || substr(q, 43, 25) || x'80'" \
	    "$last"
	run rk-search -i idx -k 5 --exact --hybrid apple river
	assert_status 5
	assert_output "rk-search: $PWD/idx: index damaged: vector: damaged: int8 out of range"
	damage q "substr(q, 1, 10)" "$last"
	run rk-search -i idx -k 5 --vector apple river
	assert_status 5
	assert_output "rk-search: $PWD/idx: index damaged: vector: damaged: an int8 blob of 10 bytes, not 68"
}
