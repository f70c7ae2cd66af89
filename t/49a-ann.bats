#!/usr/bin/env bats
# The ANN graph (lib/search/hnsw.c): its recall against the exact scan,
# computed here on clustered data; its blob built the same way every
# time and refused when damaged; in the index, rk-search ann builds it,
# --vector and --hybrid use it while it is fresh, any change to the
# vectors makes it stale and queries scan again; --exact always scans.
# Vectors come from the stand-in embedder (t/fixtures/search); the graph alone is
# tested through rk-vec-test.

load helper
load vectors

local_setup() {
	on_path
	VEC="$RK_BUILD/libexec/rk-vec-test"
	stand_in
}

# at_least MIN: the recall printed last is MIN or more
at_least() {
	awk -v min="$1" '$1 == "recall" { r = $2 } END { exit !(r >= min) }' \
	    <<<"$output"
}

@test "ann: recall@10 against the exact scan is 0.98 or more at ef 64" {
	run "$VEC" ann-recall 5000 64 1 64
	assert_status 0
	at_least 0.98
	run "$VEC" ann-recall 5000 64 2 64
	at_least 0.98
	# and the measure can fail: ef 10 searches too few
	run "$VEC" ann-recall 5000 64 1 10
	run at_least 0.98
	assert_status 1
}

@test "ann: the same vectors give the same graph" {
	"$VEC" ann-write 3000 32 5 a
	"$VEC" ann-write 3000 32 5 b
	cmp a b
	"$VEC" ann-write 3000 32 6 c
	run cmp -s a c
	assert_status 1
}

# patch FILE OFFSET HEX: the bytes at OFFSET replaced
patch() {
	printf "$(printf '%s' "$3" | sed 's/../\\x&/g')" |
	    dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

@test "ann: a truncated or damaged graph is refused" {
	"$VEC" ann-write 1000 16 3 g
	run "$VEC" ann-load 1000 16 3 g
	assert_status 0
	assert_output "ok 1000"
	head -c -4 g >short
	run "$VEC" ann-load 1000 16 3 short
	assert_status 3
	assert_output "ann graph: damaged: sizes do not match its length"
	head -c 60 g >header
	run "$VEC" ann-load 1000 16 3 header
	assert_status 3
	assert_output "ann graph: damaged: sizes do not match its length"
	# node 0's first link on layer 0 (after the header, ids and levels)
	cp g link
	patch link $((48 + 8 * 1000 + 1000 + 4)) ffffffff
	run "$VEC" ann-load 1000 16 3 link
	assert_status 3
	assert_output "ann graph: damaged: a bad link"
	# the entry point's level
	cp g entry
	patch entry 24 e8030000
	run "$VEC" ann-load 1000 16 3 entry
	assert_status 3
	assert_output "ann graph: damaged: a bad entry point"
	run "$VEC" ann-load 999 16 3 g
	assert_status 3
	assert_output "ann graph: made for other vectors than the index holds"
	printf 'RKVEC01\n' >other
	run "$VEC" ann-load 1000 16 3 other
	assert_status 3
	assert_output "ann graph: not a graph"
}

# topics N: N documents, each of words from one of 12 topics of 8 words
topics() {
	mkdir -p docs
	awk -v n="$1" 'BEGIN {
		srand(11)
		for (d = 1; d <= n; d++) {
			t = int(rand() * 12)
			f = sprintf("docs/t%04d.txt", d)
			k = 4 + int(rand() * 8)
			s = ""
			for (i = 0; i < k; i++)
				s = s " w" t "x" int(rand() * 8)
			print substr(s, 2) > f
			close(f)
		}
		for (q = 1; q <= 60; q++) {
			t = int(rand() * 12)
			printf "q%d\tw%dx%d w%dx%d w%dx%d\n", q, t, int(rand() * 8),
			    t, int(rand() * 8), (t + 1) % 12, int(rand() * 8) \
			    > "queries"
		}
	}'
	rk-search -q -i idx add docs
	rk-search -q -i idx -m "$MODEL" --dimensions 32 embed
}

# recall_of GOT WANT: recall@10 of TREC run GOT against WANT, a hit
# counted when its score reaches the 10th of WANT's (ties are equal)
recall_of() {
	awk 'NR == FNR { if (++n[$1] == 10) tenth[$1] = $5; next }
	    { total++; if ($5 >= tenth[$1] - 1e-4) found++ }
	    END { printf "recall %.4f\n", found / total }' "$2" "$1"
}

@test "ann: rk-search ann, then --vector through the graph, recall 0.98 or more" {
	topics 1500
	run rk-search -i idx ann
	assert_status 0
	assert_output "rk-search: a graph of 1500 vectors"
	run sh -c 'rk-search -i idx stats | jq -c "[.vectors, .ann]"'
	assert_output '[1500,"fresh"]'
	rk-search -i idx -f trec -k 10 --vector <queries >graph
	rk-search -i idx -f trec -k 10 --vector --exact <queries >exact
	[ "$(wc -l <exact)" -eq 600 ]
	run recall_of graph exact
	at_least 0.98
	# hybrid through the graph: the same fused list as by scanning here
	rk-search -i idx -f trec -k 10 --hybrid <queries >h.graph
	rk-search -i idx -f trec -k 10 --hybrid --exact <queries >h.exact
	run recall_of h.graph h.exact
	at_least 0.98
}

@test "ann: --vector searches the graph: --ef decides how much of it" {
	topics 1500
	rk-search -q -i idx ann
	rk-search -i idx -f trec -k 10 --vector --exact <queries >exact
	# a scan would give the exact list whatever --ef says
	rk-search -i idx -f trec -k 10 --vector --ef 10 <queries >narrow
	run cmp -s narrow exact
	assert_status 1
	rk-search -i idx -f trec -k 10 --vector --ef 1500 <queries >wide
	cmp wide exact
}

@test "ann: --exact with a graph equals a float64 cosine ranking" {
	corpus 300
	rk-search -q -i idx add docs
	rk-search -q -i idx -m "$MODEL" --dimensions 32 embed
	rk-search -q -i idx ann
	cosine_ref "river stone ember lantern" 32
	rk-search -i idx -f trec -k 10 --vector --exact river stone ember \
	    lantern | cut -d" " -f3 >got
	run same_ranking 10
	assert_status 0
}

@test "ann: after rm, add and embed the graph is stale and queries scan" {
	topics 400
	rk-search -q -i idx ann
	rk-search -i idx -f trec -k 10 --vector --exact <queries >before
	rk-search -q -i idx rm docs/t0001.txt docs/t0002.txt
	run sh -c 'rk-search -i idx stats | jq -c "[.vectors, .ann]"'
	assert_output '[398,"stale"]'
	rk-search -i idx -f trec -k 10 --vector <queries >stale
	rk-search -i idx -f trec -k 10 --vector --exact <queries >exact
	cmp stale exact
	run cmp -s before exact
	assert_status 1
	# a new document has no vector yet: the graph is still stale
	rk-search -q -i idx ann
	echo "w1x1 w1x2 w1x3" >docs/new.txt
	rk-search -q -i idx add docs/new.txt
	run sh -c 'rk-search -i idx stats | jq -c "[.vectors, .missing, .ann]"'
	assert_output '[398,1,"fresh"]'
	run rk-search -i idx embed
	assert_output "rk-search: 1 chunk embedded, 399 with vectors (toy, 32 dimensions)
rk-search: queries scan until ann builds the graph again"
	run sh -c 'rk-search -i idx stats | jq -c "[.vectors, .missing, .ann]"'
	assert_output '[399,0,"stale"]'
	rk-search -i idx -f trec -k 10 --vector <queries >stale
	rk-search -i idx -f trec -k 10 --vector --exact <queries >exact
	cmp stale exact
	run sh -c 'rk-search -i idx -k 1 --vector w1x1 w1x2 w1x3 | jq -r .doc'
	assert_output docs/new.txt
	# built again: fresh, and the new document is in the graph
	rk-search -q -i idx ann
	run sh -c 'rk-search -i idx stats | jq -r .ann'
	assert_output fresh
	run sh -c 'rk-search -i idx -k 1 --vector w1x1 w1x2 w1x3 | jq -r .doc'
	assert_output docs/new.txt
}

@test "ann: a damaged graph in the index is an error; --exact still answers" {
	topics 200
	rk-search -q -i idx ann
	sqlite3 idx "UPDATE ann SET graph = substr(graph, 1, length(graph) - 4)"
	run rk-search -i idx --vector w1x1 w1x2
	assert_status 5
	assert_match "index damaged: ann graph: damaged: sizes do not match"
	run rk-search -i idx --hybrid w1x1 w1x2
	assert_status 5
	run rk-search -i idx --vector --exact w1x1 w1x2
	assert_status 0
	# built again, it is whole
	rk-search -q -i idx ann
	run rk-search -i idx --vector w1x1 w1x2
	assert_status 0
}

@test "ann: the graph is built the same way twice; ann wants vectors" {
	topics 300
	rk-search -q -i idx ann
	sqlite3 idx "SELECT hex(graph) FROM ann" >one
	rk-search -q -i idx ann
	sqlite3 idx "SELECT hex(graph) FROM ann" >two
	cmp one two
	corpus 5
	rk-search -q -i bare add docs/d001.txt
	run rk-search -i bare ann
	assert_status 4
	assert_match "no vectors: run rk-search embed first"
	run rk-search -i idx --vector --ef 0 w1x1
	assert_status 2
	assert_match "^rk-search: --ef: not a number from 1 to 100000: '0'"
}

@test "ann: the summaries count one chunk and one vector in the singular" {
	corpus 1
	rk-search -q -i idx add docs
	run rk-search -i idx -m toy --dimensions 8 embed
	assert_output "rk-search: 1 chunk embedded, 1 with vectors (toy, 8 dimensions)"
	run rk-search -i idx ann
	assert_status 0
	assert_output "rk-search: a graph of 1 vector"
}
