#!/usr/bin/env bats
# Vectors in the rk-search index: rk-search embed (resumable, one model
# per index), --vector against a float64 cosine computed here, --hybrid's
# fusion worked out by hand, the stems' version, rk think --hybrid.
# Vectors come from rk-embed and the fake server's /v1/embeddings (a
# hashed bag of words), or, where a test needs an embedder that fails on
# cue or changes its dimensions, from t/fixtures/search/stand-in-embed.

load helper
load vectors

local_setup() {
	on_path
	MODEL=fake-embed
}

# fake: rk-embed asks the fake server
fake() {
	start_fake
	export RK_EMBED_PROVIDER=openai RK_EMBED_BASE_URL="$URL"
}

@test "hybrid: --vector's top 10 equals a float64 cosine ranking" {
	fake
	embedded 300 64
	cosine_ref "river stone ember lantern" 64
	rk-search -i idx -f trec -k 10 --vector river stone ember lantern |
	    cut -d" " -f3 >got
	run same_ranking 10
	assert_status 0
}

@test "hybrid: --vector's top 50 equals it too, per chunk and in JSON" {
	stand_in
	embedded 300 32
	cosine_ref "quartz raven quartz timber harbor" 32
	rk-search -i idx -k 50 --vector quartz raven quartz timber harbor |
	    jq -r .doc >got
	run same_ranking 50
	assert_status 0
}

@test "hybrid: RRF sums 1/(60 + rank) over the lists, by hand" {
	fake
	three_docs "$MODEL"
	run sh -c 'rk-search -i idx --vector apple | jq -r .doc'
	assert_output "docs/a
docs/b
docs/c"
	# a: 1/61 + 1/61, b: 1/62 + 1/62, c: vector only, 1/63
	run sh -c 'rk-search -i idx --hybrid apple | jq -c "[.doc, .score]"'
	assert_status 0
	assert_output '["docs/a",0.0328]
["docs/b",0.0323]
["docs/c",0.0159]'
	# weights 1,3: a 4/61, b 4/62, c 3/63
	run sh -c 'rk-search -i idx --hybrid --weights 1,3 apple | jq -c "[.doc, .score]"'
	assert_output '["docs/a",0.0656]
["docs/b",0.0645]
["docs/c",0.0476]'
}

@test "hybrid: the convex combination of min-max scores, by hand" {
	fake
	three_docs "$MODEL"
	# min-max: BM25 a 1, b 0 (c absent: 0); vector a 1, c 0, b between
	rk-search -i idx --vector apple | jq -r .score >cos
	b=$(awk 'NR == 1 { hi = $1 } NR == 2 { b = $1 } NR == 3 { lo = $1 }
	    END { print 0 + sprintf("%.4f", 0.25 * (b - lo) / (hi - lo)) }' cos)
	run sh -c 'rk-search -i idx --hybrid --fusion convex --weights 3,1 apple | jq -c "[.doc, .score]"'
	assert_status 0
	assert_output "[\"docs/a\",1]
[\"docs/b\",$b]
[\"docs/c\",0]"
}

@test "hybrid: -d and TREC output keep a document once" {
	fake
	embedded 50 16
	run sh -c 'rk-search -i idx -f trec -k 20 --hybrid apple river | cut -d" " -f3 | sort | uniq -d'
	assert_status 0
	assert_output ""
	run sh -c 'rk-search -i idx -f trec -k 20 --hybrid apple river | wc -l'
	assert_output 20
}

@test "hybrid: embed stopped by a failing embedder resumes, nothing embedded twice" {
	stand_in
	corpus 700
	rk-search -q -i idx add docs
	EMBED_LOG=sent EMBED_FAIL_AFTER=300 run rk-search -q -i idx -m toy embed
	assert_status 6
	run sh -c 'rk-search -i idx stats | jq -c "[.vectors, .missing]"'
	assert_output "[300,400]"
	EMBED_LOG=sent run rk-search -q -i idx embed
	assert_status 0
	run sh -c 'rk-search -i idx stats | jq -c "[.vectors, .missing, .model]"'
	assert_output '[700,0,"toy"]'
	run sh -c 'wc -l <sent'
	assert_output 700
	# each chunk's text went out once
	run sh -c 'for f in docs/*; do cat "$f"; done | sort >all; sort sent | diff - all'
	assert_status 0
	# again: nothing is missing, nothing is sent
	EMBED_LOG=sent run rk-search -q -i idx embed
	assert_status 0
	run sh -c 'wc -l <sent'
	assert_output 700
}

@test "hybrid: another model or other dimensions are refused" {
	stand_in
	embedded 20 16
	run rk-search -i idx -m other embed
	assert_status 4
	assert_output "rk-search: the index holds vectors of model toy, not other: rebuild the index to change models"
	run rk-search -i idx --dimensions 8 embed
	assert_status 4
	assert_output "rk-search: the index holds vectors of 16 dimensions (model toy), not 8"
	run rk-search -i idx -m other --vector apple
	assert_status 4
}

@test "hybrid: --dimensions of the index's own length is no other length" {
	fake
	three_docs nomic-embed-text
	run rk-search -i idx --dimensions 768 embed
	assert_status 0
	assert_output "rk-search: 0 chunks embedded, 3 with vectors (nomic-embed-text, 768 dimensions)"
	run sh -c 'rk-search -i idx --dimensions 768 -k 1 --vector apple | jq -r .doc'
	assert_status 0
	assert_output "docs/a"
	run rk-search -i idx --dimensions 512 --vector apple
	assert_status 4
	assert_output "rk-search: the index holds vectors of 768 dimensions (model nomic-embed-text), not 512"
}

@test "hybrid: vectors of other dimensions from the embedder are refused" {
	stand_in
	embedded 20 16
	echo "apple pear" >docs/new
	rk-search -q -i idx add docs
	# the embedder now gives 8 dimensions for the same model
	mv "$TMP/bin/rk-embed" "$TMP/bin/embed16"
	printf '#!/bin/sh\nexec embed16 "$@" --dimensions 8\n' >"$TMP/bin/rk-embed"
	chmod +x "$TMP/bin/rk-embed"
	run rk-search -q -i idx embed
	assert_status 4
	assert_output "rk-search: rk-embed gave vectors of 8 dimensions; the index holds 16 (model toy)"
}

@test "hybrid: add after embed leaves the new chunks missing; rm takes vectors away" {
	stand_in
	embedded 10 16
	printf 'one new text\n' >new.txt
	rk-search -q -i idx add new.txt
	run sh -c 'rk-search -i idx stats | jq -c "[.chunks, .vectors, .missing]"'
	assert_output "[11,10,1]"
	run sh -c 'rk-search -i idx -k 1 --vector one new text 2>&1 >/dev/null'
	assert_status 0
	assert_output "rk-search: some chunks have no vector, so no vector rank: run rk-search embed"
	rk-search -i idx rm docs/d001.txt docs/d002.txt
	run sh -c 'rk-search -i idx stats | jq -c "[.chunks, .vectors, .missing]"'
	assert_output "[9,8,1]"
	EMBED_LOG=sent rk-search -q -i idx embed
	run cat sent
	assert_output "one new text"
	run sh -c 'rk-search -i idx stats | jq -c "[.chunks, .vectors, .missing]"'
	assert_output "[9,9,0]"
	run sh -c 'rk-search -i idx -k 1 --hybrid one new text 2>&1 >/dev/null'
	assert_status 0
	assert_output ""
}

@test "hybrid: a chunk whose text is not UTF-8 is named, not sent; the rest embed" {
	fake
	printf 'owls good\n' >g.txt
	printf 'owls bad\n' >b.txt
	printf 'owls fine\n' >c.txt
	rk-search -q -i idx add g.txt b.txt c.txt
	# only an older version's index or one made by hand holds one
	"$RK_BUILD/libexec/rk-trace-sql" idx "UPDATE text SET text =
	    CAST(x'6f776c7320e974e9' AS TEXT) WHERE id = (SELECT c.id FROM
	    chunks c JOIN docs d ON d.id = c.doc WHERE d.name = 'b.txt')"
	run rk-search -q -i idx -m "$MODEL" embed
	assert_status 3
	assert_output "rk-search: b.txt: chunk 0: text not UTF-8: not embedded"
	run jq -c .body.input "$TMP/fake.log"
	assert_output '["owls good","owls fine"]'
	run sh -c 'rk-search -i idx stats | jq -c "[.vectors, .missing]"'
	assert_output "[2,1]"
	# again: the same chunk, still missing, and nothing sent
	: >"$TMP/fake.log"
	run rk-search -q -i idx embed
	assert_status 3
	assert_output "rk-search: b.txt: chunk 0: text not UTF-8: not embedded"
	run cat "$TMP/fake.log"
	assert_output ""
}

@test "hybrid: stats says nothing of vectors before the first embed" {
	corpus 3
	rk-search -q -i idx add docs
	run sh -c 'rk-search -i idx stats | jq -c "[.vectors, .model]"'
	assert_output "[null,null]"
}

@test "hybrid: --vector on an index without vectors, and bad options" {
	corpus 3
	rk-search -q -i idx add docs
	run rk-search -i idx --vector apple
	assert_status 4
	assert_output "rk-search: $TMP/idx: no vectors: run rk-search embed first"
	run rk-search -i idx --weights 1 --hybrid apple
	assert_status 2
	run rk-search -i idx --weights 0,0 --hybrid apple
	assert_status 2
	run rk-search -i idx --fusion max --hybrid apple
	assert_status 2
	run rk-search -i idx --vector --hybrid apple
	assert_status 2
	assert_output "rk-search: --vector and --hybrid exclude each other"
	run rk-search -i idx embed
	assert_status 2
}

@test "hybrid: a query on an index without vectors asks for embed, not -m, and sends nothing" {
	fake
	corpus 3
	rk-search -q -i idx add docs
	: >"$TMP/fake.log"
	run rk-search -i idx -m "$MODEL" --hybrid apple
	assert_status 4
	assert_output "rk-search: $TMP/idx: no vectors: run rk-search embed first"
	run wc -l <"$TMP/fake.log"
	assert_output 0
}

@test "hybrid: --fusion, --weights, --ef and --exact where they do nothing are said to" {
	corpus 3
	rk-search -q -i idx add docs
	rk-search -i idx -k 1 apple >want
	run rk-search -i idx -k 1 --weights 1,3 --fusion convex --ef 8 apple
	assert_status 0
	assert_output "rk-search: --fusion and --weights only apply with --hybrid; ignored
rk-search: --ef and --exact only apply with --vector or --hybrid; ignored
$(cat want)"
}

@test "hybrid: the first embed without -m takes RK_EMBED_MODEL, else the provider's default model" {
	fake
	corpus 3
	rk-search -q -i idx add docs
	cp idx idx2
	run env RK_EMBED_MODEL=all-minilm rk-search -i idx embed
	assert_status 0
	assert_output "rk-search: 3 chunks embedded, 3 with vectors (all-minilm, 384 dimensions)"
	# later, the index's model, whatever RK_EMBED_MODEL says
	run env RK_EMBED_MODEL=other rk-search -i idx -k 1 --vector apple
	assert_status 0
	run rk-search -i idx2 embed
	assert_status 0
	assert_output "rk-search: 3 chunks embedded, 3 with vectors (text-embedding-3-small, 1536 dimensions)"
	run rk-search -i idx2 --provider together embed
	assert_status 0
	rm idx2
	rk-search -q -i idx2 add docs
	run rk-search -i idx2 --provider together embed
	assert_status 2
	assert_output "rk-search: no vectors yet: give the embedding model (-m or RK_EMBED_MODEL)"
}

@test "hybrid: the embedder missing is a configuration error" {
	corpus 3
	rk-search -q -i idx add docs
	run env PATH=/usr/bin:/bin "$RK_BUILD/bin/rk-search" -q -i idx -m toy embed
	assert_status 4
	assert_match "cannot run rk-embed"
}

@test "hybrid: queries from stdin are embedded in one request; the cache answers repeats" {
	fake
	embedded 30 16
	printf 'q1\tapple river\nq2\tstone cloud\n' >queries
	: >"$TMP/fake.log"
	run sh -c 'rk-search -i idx -f trec -k 3 --hybrid <queries | cut -d" " -f1 | uniq -c | tr -s " "'
	assert_status 0
	assert_output " 3 q1
 3 q2"
	run jq -c .body.input "$TMP/fake.log"
	assert_output '["apple river","stone cloud"]'
	run sh -c 'rk-search -i idx -f trec -k 3 --hybrid <queries | wc -l'
	assert_output 6
	run wc -l <"$TMP/fake.log"
	assert_output 1
}

@test "hybrid: an index made with the old Porter stems is refused" {
	corpus 3
	rk-search -q -i idx add docs
	# what indexes made before libstemmer lack: the stems' version
	sqlite3 idx "DELETE FROM meta WHERE key = 'stems'"
	run rk-search -i idx apple
	assert_status 5
	assert_output "rk-search: idx: made with stems of version 1, not 2: rebuild the index"
	run rk-search -i idx add docs
	assert_status 5
	# without stemming the terms are the same: still good
	rk-search -q -i plain --analyzer stop add docs
	sqlite3 plain "DELETE FROM meta WHERE key = 'stems'"
	run rk-search -i plain -f trec apple
	assert_status 0
}

@test "hybrid: rk think -i IDX --hybrid retrieves by both" {
	fake
	embedded 30 16
	rk-search -i idx -k 3 --hybrid "apple river" | jq -r .doc >want
	run sh -c 'rk think --mock -f json -d t.db -i idx --hybrid "apple river" | jq -r ".context[:3][].doc"'
	assert_status 0
	assert_output "$(cat want)"
}

@test "hybrid: -r, queries that cannot be embedded: every record kept, its error said once" {
	fake
	three_docs "$MODEL"
	printf '{"id":"a","query":"apple"}\n{"id":"b","query":"pear"}\n' >recs
	run sh -c 'RK_EMBED_PROVIDER= rk-search -i idx -r --hybrid <recs 2>err'
	assert_status 4
	printf '%s\n' "$output" | jq -c '[.id, .error.code, .error.message]' >got
	run cat got
	assert_output '["a","index","rk-embed ended after 0 of 2 texts"]
["b","index","rk-embed ended after 0 of 2 texts"]'
	run cat err
	assert_output "rk-embed: no embedding provider configured: set RK_EMBED_PROVIDER or RK_PROVIDER, or use --mock for the offline model (see rk-embed(1))
rk-search: rk-embed ended after 0 of 2 texts"
}

@test "hybrid: -r, an error of every record's query is said once, not only in the records" {
	fake
	three_docs nomic-embed-text
	printf '{"id":"a","query":"apple"}\n{"id":"b","query":"pear"}\n' >recs
	run sh -c 'RK_EMBED_PROVIDER=mock rk-search -i idx -r --vector <recs 2>err'
	assert_status 4
	printf '%s\n' "$output" | jq -c '[.id, .error.code]' >got
	run cat got
	assert_output '["a","index"]
["b","index"]'
	run cat err
	assert_output "rk-search: rk-embed (provider mock) gave vectors of 64 dimensions; the index holds 768 (model nomic-embed-text): give the provider that made them (--provider, RK_EMBED_PROVIDER)"
}

@test "hybrid: rk think --hybrid without -i is a usage error, not ignored" {
	run rk think --mock -d t.db --hybrid apple
	assert_status 2
	assert_output "rk: think: --hybrid goes with -i"
	[ ! -e t.db ]
}

@test "hybrid: rk think --mock --hybrid on an index of another provider's vectors says so" {
	fake
	three_docs nomic-embed-text
	unset RK_EMBED_PROVIDER
	run rk think --mock -d t.db -i idx --hybrid apple
	assert_status 4
	assert_output "rk-search: rk-embed (provider mock) gave vectors of 64 dimensions; the index holds 768 (model nomic-embed-text): give the provider that made them (--provider, RK_EMBED_PROVIDER)"
	run sh -c 'RK_EMBED_PROVIDER=openai rk think --mock -f json -d t.db -i idx --hybrid apple | jq -r ".context[0].doc"'
	assert_status 0
	assert_output "docs/a"
}

@test "hybrid: embed killed mid-way keeps what came back; a rerun embeds only the rest" {
	stop_fake
	start_fake -d 150
	export RK_EMBED_PROVIDER=openai RK_EMBED_BASE_URL="$URL"
	corpus 600
	rk-search -q -i idx add docs
	rk-search -q -i idx -P 1 -m fake-embed embed &
	pid=$!
	tries=0
	until [ "$(rk-search -i idx stats | jq '.vectors // 0')" -gt 0 ]; do
		tries=$((tries + 1))
		[ "$tries" -lt 400 ] || { kill "$pid"; return 1; }
		sleep 0.05
	done
	kill "$pid"
	st=0
	wait "$pid" || st=$?
	[ "$st" -eq 143 ]
	run sh -c 'rk-search -i idx stats | jq ".vectors < 600"'
	assert_output true
	sqlite3 idx "SELECT t.text FROM vecs v JOIN text t ON t.id = v.id" |
	    sort >kept
	n=$(wc -l <"$TMP/fake.log")
	rk-search -q -i idx embed
	run sh -c 'rk-search -i idx stats | jq -c "[.vectors, .missing]"'
	assert_output "[600,0]"
	# no text whose vector was kept went to the server again
	tail -n +"$((n + 1))" "$TMP/fake.log" | jq -r ".body.input[]" |
	    sort >again
	run comm -12 kept again
	assert_output ""
	[ -s again ]
}
