#!/usr/bin/env bats
# rk-search: ingest, chunking, replace/remove, safe queries, output formats,
# record mode, and a small retrieval regression on SciFact.

load helper

local_setup() {
	S="$FIXTURES/search"
	cp -r "$S/notes" .
}

# index the notes the man page's examples use
notes() {
	rk-search -i notes.db add notes
}

@test "rk-search: --help and --version" {
	run rk-search --help
	assert_status 0
	assert_match '^usage: rk-search -i index'
	run rk-search --version
	assert_status 0
	assert_match '^rk-search [0-9]'
}

@test "rk-search: usage errors exit 2" {
	run rk-search stats
	assert_status 2
	assert_output "rk-search: no index: give -i INDEX or set RK_INDEX"
	run rk-search -i x.db -k 0 cats
	assert_status 2
	assert_output "rk-search: -k: not 1..100000: '0'"
	run rk-search -i x.db --params k1=abc cats
	assert_status 2
	run rk-search -i x.db -f xml cats
	assert_status 2
	run rk-search -i x.db add
	assert_status 2
	run rk-search -i x.db --chunk-size 100 --overlap 100 add notes
	assert_status 2
	run rk-search -i x.db -Z
	assert_status 2
	notes
	run rk-search -i notes.db optimize now
	assert_status 2
}

@test "rk-search: querying a missing index exits 5" {
	run rk-search -i missing.db cats
	assert_status 5
	assert_output "rk-search: missing.db: no such index"
	run rk-search -i missing.db optimize
	assert_status 5
	assert_output "rk-search: missing.db: no such index"
}

@test "rk-search: a directory as the index is said to be one (5)" {
	mkdir dir.db
	for cmd in cats stats; do
		run rk-search -i dir.db "$cmd"
		assert_status 5
		assert_output "rk-search: dir.db: cannot open: Is a directory"
	done
	run sh -c 'rk-search -i dir.db -r cats | jq -r .error.message'
	assert_output "rk-search: dir.db: cannot open: Is a directory
dir.db: cannot open: Is a directory"
}

@test "rk-search: an index it may not read says so (5)" {
	notes
	chmod 000 notes.db
	if [ "$(id -u)" -ne 0 ]; then
		run rk-search -i notes.db cats
	else	# root reads any file unless it drops the capability to
		setpriv --bounding-set=-all true 2>/dev/null ||
		    optional "root cannot drop its capabilities here"
		run setpriv --bounding-set=-all rk-search -i notes.db cats
	fi
	assert_status 5
	assert_output "rk-search: notes.db: cannot open: Permission denied"
}

@test "rk-search: man page examples" {
	run notes
	assert_status 0
	assert_output "rk-search: 2 documents indexed (2 chunks, 0.0 MB)"
	run sh -c "rk-search -i notes.db -k 1 'how long do cats sleep?' | jq -r .doc"
	assert_output "notes/cats.txt"
	run sh -c "printf 'q1\tdogs\nq2\tkittens\n' | rk-search -i notes.db -f trec"
	assert_status 0
	# in two notes each word's idf is the floor, 1e-6
	assert_output "q1 Q0 notes/dogs.md 1 0.0000 rk-search
q2 Q0 notes/cats.txt 1 0.0000 rk-search"
	run sh -c "echo 'Do dogs sleep much?' | rk-search -i notes.db -r -k 1 |
	    jq -c '.context[] | [.doc, .chunk]'"
	assert_output '["notes/dogs.md",0]'
}

@test "rk-search: hits are NDJSON with doc, chunk, score, rank, text" {
	notes
	run rk-search -i notes.db kittens
	assert_status 0
	assert_output '{"doc":"notes/cats.txt","chunk":0,"score":0.0,"rank":1,"text":"Cats sleep twelve to sixteen hours a day.  A sleeping cat is conserving\nenergy for the hunt, even when the only prey is a toy mouse.\n\nKittens sleep even longer than adult cats."}'
	# "query" names the words as a query; stems match
	run sh -c "rk-search -i notes.db query sleeping | jq -r '[.doc, .rank] | @tsv'"
	assert_output "notes/cats.txt	1
notes/dogs.md	2"
}

@test "rk-search: stats" {
	notes
	run rk-search -i notes.db stats
	assert_status 0
	assert_match '^\{"docs":2,"chunks":2,"terms":[0-9]+,"tokens":[0-9]+,"analyzer":"stem,stop","k1":1.075,"b":0.64,"chunk":2000,"overlap":200,"segments":1,"bytes":[0-9]+\}$'
}

@test "rk-search: BEIR JSONL and rk records are documents" {
	rk-search -i j.db add "$S/beir.jsonl" "$S/records.jsonl"
	run sh -c "rk-search -i j.db stats | jq -c '[.docs, .chunks]'"
	assert_output "[5,5]"
	# _id names a document; an integer _id too; the title is indexed
	run sh -c "rk-search -i j.db -k 1 culture | jq -c '[.doc, .text]'"
	assert_output '["d1","Café culture\n\nThe café is where Parisians read newspapers."]'
	run sh -c "rk-search -i j.db -k 1 brewed | jq -r .doc"
	assert_output "3"
	# a record is indexed by its query, or its text; named by its id
	run sh -c "rk-search -i j.db -k 1 espresso | jq -r .doc"
	assert_output "01JREC0000000000000000000A"
	run sh -c "rk-search -i j.db -k 1 flavour | jq -r .doc"
	assert_output "r2"
	# diacritics fold: "cafe" finds "café"
	run sh -c "rk-search -i j.db -k 1 CAFE | jq -r .doc"
	assert_output "d1"
}

@test "rk-search: a bad JSON line is reported, the others indexed" {
	printf '%s\n' '{"_id":"ok","text":"fine words"}' 'not json' \
	    '{"_id":"none"}' >bad.jsonl
	run rk-search -i b.db add bad.jsonl
	assert_status 3
	assert_match "^rk-search: bad.jsonl:2: "
	assert_match "^rk-search: bad.jsonl:3: no text, title or query$"
	run sh -c "rk-search -i b.db words | jq -r .doc"
	assert_output "ok"
}

@test "rk-search: a document over the limit is refused, not truncated" {
	head -c 3000 /dev/zero | tr '\0' 'a' >big.txt
	echo small words >small.txt
	RK_MAX_DOCUMENT=2k run rk-search -i l.db -q add big.txt small.txt
	assert_status 3
	assert_output "rk-search: big.txt: document of 3000 bytes is over the limit of 2048 bytes (RK_MAX_DOCUMENT)"
	run sh -c "rk-search -i l.db stats | jq .docs"
	assert_output "1"
	printf '{"_id":"j","text":"%s"}\n' "$(head -c 3000 /dev/zero | tr '\0' b)" >big.jsonl
	RK_MAX_DOCUMENT=2k run rk-search -i l.db -q add big.jsonl
	assert_status 3
	assert_output "rk-search: big.jsonl:1: document of 3021 bytes is over the limit of 2048 bytes (RK_MAX_DOCUMENT)"
	run sh -c "head -c 3000 big.txt | RK_MAX_DOCUMENT=2k rk-search -i l.db -q add -"
	assert_status 3
	assert_output "rk-search: -: document of 3000 bytes is over the limit of 2048 bytes (RK_MAX_DOCUMENT)"
	run sh -c "rk-search -i l.db stats | jq .docs"
	assert_output "1"
}

@test "rk-search: add - reads JSON lines, or one text, from stdin" {
	run sh -c "printf 'owls hunt at night\n' | rk-search -i s.db add -"
	assert_status 0
	printf '%s\n' '{"_id":"x1","text":"bats hunt at dusk"}' >in.jsonl
	run sh -c "rk-search -i s.db add - <in.jsonl"
	assert_status 0
	run sh -c "rk-search -i s.db hunt | jq -c '[.doc, .text]'"
	assert_output '["-","owls hunt at night"]
["x1","bats hunt at dusk"]'
}

@test "rk-search: binary and non-UTF-8 files are skipped" {
	printf 'a\0b' >bin.txt
	printf 'caf\351\n' >latin1.txt
	run rk-search -i x.db add bin.txt latin1.txt
	assert_status 3
	assert_output "rk-search: bin.txt: binary file, skipped
rk-search: latin1.txt: invalid UTF-8, skipped
rk-search: 0 documents indexed (0 chunks, 0.0 MB); 2 failed"
	[ ! -e x.db ]
}

@test "rk-search: a directory walk skips the index, dot files and binaries" {
	printf 'x\0y' >notes/img.png
	echo hidden words >notes/.hidden.txt
	run rk-search -i here.db add .
	assert_status 0
	assert_output "rk-search: 2 documents indexed (2 chunks, 0.0 MB); 1 skipped: 1 binary"
	run rk-search -i here.db -qv add .
	assert_status 0
	assert_output "rk-search: notes/img.png: binary, skipped"
	run rk-search -i here.db add .
	assert_status 0
	run sh -c "rk-search -i here.db stats | jq .docs"
	assert_output "2"
	run rk-search -i here.db hidden
	assert_output ""
}

@test "rk-search: chunks end at paragraphs and sentences, overlap starts at a sentence" {
	# "here" is a stopword: this index keeps every word
	rk-search -i c.db --analyzer stem --chunk-size 80 --overlap 20 add "$S/chunks.txt"
	run sh -c "rk-search -i c.db -k 10 --params k1=0,b=0 here | jq -c '[.chunk, .text]' | sort"
	assert_output '[0,"Alpha one is here. Alpha two is here. Alpha three is here."]
[1,"Alpha three is here.\n\nBeta one is here. Beta two is here. Beta three is here."]
[2,"Beta three is here.\n\nGamma one is here. Gamma two is here. Gamma three is here."]'
	# without room for a paragraph: sentence ends
	rk-search -i s.db --analyzer stem --chunk-size 40 --overlap 0 add "$S/chunks.txt"
	run sh -c "rk-search -i s.db -k 10 --params k1=0,b=0 here | jq -c '[.chunk, .text]' | sort"
	assert_output '[0,"Alpha one is here. Alpha two is here."]
[1,"Alpha three is here.\n\nBeta one is here."]
[2,"Beta two is here. Beta three is here."]
[3,"Gamma one is here. Gamma two is here."]
[4,"Gamma three is here."]'

	# --chunk-size 0: one chunk per document
	rk-search -i w.db --chunk-size 0 add "$S/chunks.txt"
	run sh -c "rk-search -i w.db stats | jq .chunks"
	assert_output "1"
}

@test "rk-search: re-adding a document replaces it; rm removes it" {
	echo "the first version talks about apples" >doc.txt
	rk-search -i r.db add doc.txt
	echo "the second version talks about pears" >doc.txt
	rk-search -i r.db add ./doc.txt
	run sh -c "rk-search -i r.db stats | jq -c '[.docs, .chunks]'"
	assert_output "[1,1]"
	run rk-search -i r.db apples
	assert_status 0
	assert_output ""
	run sh -c "rk-search -i r.db pears | jq -r .doc"
	assert_output "doc.txt"
	run rk-search -i r.db rm doc.txt nosuch.txt
	assert_status 3
	assert_output "rk-search: nosuch.txt: no such document"
	run rk-search -i r.db pears
	assert_output ""
	run sh -c "rk-search -i r.db stats | jq -c '[.docs, .chunks, .tokens]'"
	assert_output "[0,0,0]"
}

# the same runs through FTS5's query interface and from its segments
same_both_ways() {
	local q
	for q in common alpha "beta gamma" "word3 alpha" "common word1 beta" \
	    "alpha alpha common" nothing; do
		echo "$q"
	done >queries
	rk-search -i "$1" -f trec -k 1000 <queries >direct.run
	RK_SEARCH_FTS5=1 rk-search -i "$1" -f trec -k 1000 <queries >fts5.run
	run cmp direct.run fts5.run
	assert_status 0
	[ -s direct.run ]
}

@test "rk-search: postings read from FTS5's segments rank as FTS5's own" {
	# a doclist over many pages; a position list over pages (6000
	# positions of "common" in one document)
	awk 'BEGIN { for (i = 1; i <= 3000; i++)
	    printf "{\"_id\":\"d%d\",\"text\":\"common word%d %s\"}\n",
	    i, i % 7, i % 3 ? "alpha" : "beta gamma" }' >many.jsonl
	awk 'BEGIN { printf "{\"_id\":\"long\",\"text\":\"";
	    for (i = 0; i < 3000; i++) printf "common alpha ";
	    print "\"}" }' >long.jsonl
	rk-search -i s.db --chunk-size 0 add many.jsonl long.jsonl
	run sh -c "rk-search -i s.db stats | jq -c '[.docs, .segments]'"
	assert_output "[3001,1]"
	same_both_ways s.db
	run sh -c "rk-search -i s.db -k 1 common | jq -r .doc"
	assert_output "long"
	# small changes add segments: replaced documents (the last one's
	# rowids are used again), new ones, removed ones
	awk 'BEGIN { for (i = 2990; i <= 3010; i++)
	    printf "{\"_id\":\"d%d\",\"text\":\"common beta word%d\"}\n",
	    i, i % 5 }' >more.jsonl
	rk-search -i s.db add more.jsonl
	rk-search -i s.db add long.jsonl
	rk-search -i s.db rm d5 d6 d2995
	run sh -c "rk-search -i s.db stats | jq -c '[.docs, .segments > 1]'"
	assert_output "[3008,true]"
	same_both_ways s.db
	run sh -c "rk-search -i s.db -k 3000 beta | grep -c '\"d2995\"'"
	assert_output "0"
	# optimize merges them into one; nothing changes
	cp direct.run before.run
	rk-search -i s.db optimize
	run sh -c "rk-search -i s.db stats | jq .segments"
	assert_output "1"
	same_both_ways s.db
	run cmp before.run direct.run
	assert_status 0
}

# stats' term count, and FTS5's own (its vocabulary table): the same
same_terms() {
	local direct
	direct=$(rk-search -i "$1" stats | jq .terms)
	run sh -c "RK_SEARCH_FTS5=1 rk-search -i '$1' stats | jq .terms"
	assert_output "$direct"
	run echo "$direct"
	assert_output "$2"
}

@test "rk-search: stats counts terms from the segments as FTS5 does" {
	# common, word0..word6, alpha, beta, gamma: doclists over pages
	awk 'BEGIN { for (i = 1; i <= 3000; i++)
	    printf "{\"_id\":\"d%d\",\"text\":\"common word%d %s\"}\n",
	    i, i % 7, i % 3 ? "alpha" : "beta gamma" }' >many.jsonl
	rk-search -q -i t.db add many.jsonl
	run sh -c "rk-search -i t.db stats | jq .segments"
	assert_output "1"
	same_terms t.db 11
	# small adds, a segment each: a word of its own in each
	for i in 1 2 3 4 5 6 7 8 9; do
		printf 'common kq%dx\n' "$i" >u$i.txt
		rk-search -q -i t.db add u$i.txt
	done
	run sh -c "rk-search -i t.db stats | jq '.segments > 2'"
	assert_output "true"
	same_terms t.db 20
	# removed: their words are gone though older segments hold them
	rk-search -i t.db rm u2.txt u9.txt d1
	same_terms t.db 18
	# the last rowid used again, the word back; a word in two documents
	# stays while one holds it
	rk-search -q -i t.db add u9.txt
	printf 'kq3x kq4x\n' >both.txt
	rk-search -q -i t.db add both.txt
	rk-search -i t.db rm u3.txt u4.txt
	same_terms t.db 19
	rk-search -i t.db rm both.txt
	same_terms t.db 17
	rk-search -i t.db optimize
	same_terms t.db 17
	rk-search -i t.db rm $(rk-search -i t.db -k 10000 --by-doc common kq1x kq5x kq6x kq7x kq8x kq9x | jq -r .doc)
	same_terms t.db 0
}

@test "rk-search: a query alone in its process ranks as one after others" {
	# the first query of a process reads the chunk lengths it needs
	# block by block and keeps none; later ones keep what they read
	awk 'BEGIN { for (i = 1; i <= 2000; i++)
	    printf "{\"_id\":\"d%d\",\"text\":\"common word%d %s. " \
	    "second part %s word%d\"}\n", i, i % 7,
	    i % 3 ? "alpha" : "beta gamma", i % 5 ? "beta" : "alpha",
	    i % 11 }' >two.jsonl
	rk-search -i p.db --chunk-size 24 --overlap 0 add two.jsonl
	run sh -c "rk-search -i p.db stats | jq '.chunks > 1024'"
	assert_output "true"
	printf '%s\n' "word3 alpha" "common beta" "word9 gamma alpha" >queries
	for by in "" --by-doc; do
		rk-search -i p.db -k 500 $by <queries |
		    jq -c 'del(.qid)' >together
		while read -r q; do
			rk-search -i p.db -k 500 $by "$q"
		done <queries | jq -c 'del(.qid)' >alone
		run cmp together alone
		assert_status 0
		[ "$(wc -l <alone)" -eq 1500 ]
	done
}

@test "rk-search: hostile queries are plain words" {
	notes
	for q in '"' '*' "'" 'NEAR(cats dogs)' 'cats AND' 'OR' '"cats' \
	    'text:cats' '-cats' '^cats' 'cats*' "'; DROP TABLE docs; --" \
	    '{"query":1}' '(' ')' 'a + b' 'NOT' '\' '%' '_'; do
		run rk-search -i notes.db -- "$q"
		[ "$status" -eq 0 ] || { echo "query $q: $output"; return 1; }
	done
	run sh -c "rk-search -i notes.db -- 'NEAR(kittens' | jq -r .doc"
	assert_output "notes/cats.txt"
	run sh -c "rk-search -i notes.db -- '\"kittens\" AND\"' | jq -r .doc"
	assert_output "notes/cats.txt"
	run sh -c "rk-search -i notes.db -- \"kittens'; DROP TABLE docs; --\" | jq -r .doc"
	assert_output "notes/cats.txt"
	# empty, stopwords only: no hits, no error
	run rk-search -i notes.db ''
	assert_status 0
	assert_output ""
	run rk-search -i notes.db the of and
	assert_status 0
	assert_output ""
	# very long: 20000 words
	run sh -c "yes 'kittens dogs' | head -10000 | tr '\n' ' ' >long.txt &&
	    rk-search -i notes.db -k 1 \"\$(cat long.txt)\" | jq -r .doc"
	assert_status 0
	assert_output "notes/dogs.md"
	run sh -c "rk-search -i notes.db stats | jq .docs"
	assert_output "2"
}

@test "rk-search: text lines from stdin, with and without ids" {
	notes
	run sh -c "printf 'kittens\n\nx1\tdogs furniture\n' | rk-search -i notes.db -k 1 | jq -c '[.qid, .doc, .rank]'"
	assert_status 0
	assert_output '["1","notes/cats.txt",1]
["x1","notes/dogs.md",1]'
}

@test "rk-search: TREC output, one line per document" {
	cp "$S/chunks.txt" .
	rk-search -i c.db --analyzer stem --chunk-size 80 --overlap 20 add chunks.txt notes
	run rk-search -i c.db -f trec --tag mytag -k 5 here sleep
	assert_status 0
	# here: 4 times in chunk 1 (16 terms), in 3 chunks of 10, avgdl 12.5:
	# ln(7.5 / 3.5) * 4 * 2.075 / (4 + 1.075 * (0.36 + 0.64 * 16 / 12.5));
	# sleep is in 5 chunks of 10: idf 1e-6
	assert_output "1 Q0 chunks.txt 1 $(bm25 10 12.5 16 1.075 0.64 3 4) mytag
1 Q0 notes/dogs.md 2 0.0000 mytag
1 Q0 notes/cats.txt 3 0.0000 mytag"
	assert_output "1 Q0 chunks.txt 1 1.2009 mytag
1 Q0 notes/dogs.md 2 0.0000 mytag
1 Q0 notes/cats.txt 3 0.0000 mytag"
	run sh -c "rk-search -i c.db --by-doc -k 5 here sleep | jq -c '[.doc, .chunk]'"
	assert_output '["chunks.txt",1]
["notes/dogs.md",2]
["notes/cats.txt",0]'
	run sh -c "rk-search -i c.db -k 5 sleep | jq -c '[.doc, .chunk]'"
	assert_output '["notes/dogs.md",2]
["notes/cats.txt",0]
["notes/dogs.md",1]
["notes/cats.txt",3]
["notes/cats.txt",1]'
}

@test "rk-search: record mode attaches context within the budget" {
	notes
	run sh -c "printf '%s\n' '{\"rk\":1,\"id\":\"A\",\"query\":\"sleep\",\"x\":[1]}' |
	    rk-search -i notes.db -r | jq -c '[.id, .x, [.context[] | [.doc, .chunk, .score]]]'"
	assert_status 0
	assert_output '["A",[1],[["notes/cats.txt",0,0],["notes/dogs.md",0,0]]]'
	# a budget that fits one text (cats.txt, 176 bytes)
	run sh -c "echo '{\"id\":\"A\",\"query\":\"sleep\"}' | rk-search -i notes.db -r --context-bytes 200 | jq -c '[.context[].doc]'"
	assert_output '["notes/cats.txt"]'
	run sh -c "echo '{\"id\":\"A\",\"query\":\"sleep\"}' | rk-search -i notes.db -r --context-bytes 10 | jq -c .context"
	assert_output '[]'
	# -L appends a list instead
	run sh -c "echo '{\"id\":\"A\",\"query\":\"sleep\"}' | rk-search -i notes.db -L -k 1 | rk-search -i notes.db -L -k 1 | jq -c '[(.lists | length), .context]'"
	assert_output '[2,null]'
}

@test "rk-search: records with an error or without a query pass untouched" {
	notes
	in='{"rk":1,"id":"E","query":"sleep","error":{"stage":"x","code":"y","message":"z"}}
{"rk":1,"id":"N","steps":[]}'
	run sh -c "printf '%s\n' '$in' | rk-search -i notes.db -r"
	assert_status 1	# a record written carries an error
	assert_output "$in"
	# without -r, a JSON line is a query, with a warning
	run sh -c "echo '{\"query\":\"kittens\"}' | rk-search -i notes.db 2>&1 >/dev/null"
	assert_output "rk-search: stdin:1: a JSON line is read as a query; -r reads records"
	run sh -c "printf '%s\n' '{bad' | rk-search -i notes.db -r 2>/dev/null | jq -r .error.code"
	assert_output "bad-json"
}

@test "rk-search: stemming and stopwords belong to the index" {
	rk-search -i plain.db --analyzer none add notes
	run sh -c "rk-search -i plain.db -k 5 sleeping | jq -r .doc"
	assert_output "notes/cats.txt"
	run sh -c "rk-search -i plain.db stats | jq -r .analyzer"
	assert_output "none"
	run rk-search -i plain.db --analyzer stem add notes
	assert_status 5
	assert_output "rk-search: plain.db: index was built with analyzer none, not stem"
}

# the two notes and three short ones: 5 notes of 21, 20, 3, 4 and 3 terms
five() {
	printf 'Parrots mimic voices.\n' >notes/birds.txt
	printf 'Goldfish swim in circles all day.\n' >notes/fish.txt
	printf 'Horses doze standing up.\n' >notes/horses.txt
	rk-search -i five.db -q "$@" add notes
}

# bm25 N AVGDL DL K1 B DF TF [DF TF ...]: a chunk's score as rk-search(1)
# gives the formula, to 4 places
bm25() {
	awk -v n="$1" -v avgdl="$2" -v dl="$3" -v k1="$4" -v b="$5" \
	    -v t="${*:6}" 'BEGIN {
		m = split(t, v, " ")
		norm = k1 * (1 - b + b * dl / avgdl)
		for (i = 1; i < m; i += 2) {
			idf = log((n - v[i] + 0.5) / (v[i] + 0.5))
			if (idf < 1e-6)
				idf = 1e-6
			tf = v[i + 1]
			s += idf * tf * (k1 + 1) / (tf + norm)
		}
		printf "%.4f\n", s
	}'
}

# the scores of a query's hits, to 4 places
scores() {
	rk-search "$@" | jq .score | awk '{ printf "%.4f\n", $1 }'
}

@test "rk-search: BM25 scores: Robertson's idf, k1 1.075, b 0.64" {
	five
	run sh -c "rk-search -i five.db stats | jq -c '[.chunks, .tokens, .k1, .b]'"
	assert_output "[5,51,1.075,0.64]"
	# kittens: once in cats.txt (21 terms), in 1 note of 5, avgdl 10.2:
	# ln 3 * 2.075 / (1 + 1.075 * (0.36 + 0.64 * 21 / 10.2)) = 0.8131
	run scores -i five.db kittens
	assert_output "0.8131"
	assert_output "$(bm25 5 10.2 21 1.075 0.64 1 1)"
	# sleep: 3 times in cats.txt, twice in dogs.md (20 terms): idf ln 1.4
	run scores -i five.db sleep
	assert_output "0.4360
0.3738"
	assert_output "$(bm25 5 10.2 21 1.075 0.64 2 3)
$(bm25 5 10.2 20 1.075 0.64 2 2)"
	# the terms' shares add up: 0.8131 + 0.4360
	run scores -i five.db -k 1 'kittens sleep'
	assert_output "$(bm25 5 10.2 21 1.075 0.64 1 1 2 3)"
	assert_output "1.2492"
}

@test "rk-search: BM25 parameters are stored and overridable" {
	five --params k1=2,b=0.25
	run sh -c "rk-search -i five.db stats | jq -c '[.k1, .b]'"
	assert_output "[2,0.25]"
	run scores -i five.db -k 1 kittens
	assert_output "$(bm25 5 10.2 21 2 0.25 1 1)"
	assert_output "0.9338"
	run scores -i five.db -k 1 --params k1=1.2,b=0.6 kittens
	assert_output "$(bm25 5 10.2 21 1.2 0.6 1 1)"
	assert_output "0.8159"
}

@test "rk-search: a word repeated in the query counts once" {
	five
	run scores -i five.db -k 1 'kittens Kittens kittens'
	assert_output "0.8131"
	# one stem: sleep, sleeping and sleeps are one term
	run scores -i five.db -k 2 'sleeps sleeping sleep'
	assert_output "0.4360
0.3738"
}

@test "rk-search: a word in half the chunks or more still finds them" {
	# in a two-note index every word is in half of the notes or more:
	# Robertson's idf is 0 or below, floored at 1e-6, not at 0
	notes
	run sh -c "rk-search -i notes.db kittens | jq -c '[.doc, .score]'"
	assert_output '["notes/cats.txt",0]'
	run sh -c "rk-search -i notes.db sleep | jq -c '[.doc, .score]'"
	assert_output '["notes/cats.txt",0]
["notes/dogs.md",0]'
	# and counts, by a hair: b (added after a, the same length) ranks
	# first on "common", in 4 chunks of 6; "zebra" (2 of 6) ties them
	printf '{"_id":"%s","text":"%s"}\n' a "zebra apple" b "zebra common" \
	    c "common pear" d "common plum" e "common fig" f "kiwi lime" >z.jsonl
	rk-search -i z.db -q add z.jsonl
	run sh -c "rk-search -i z.db 'zebra common' | jq -c '[.doc, .score]'"
	assert_output "[\"b\",$(bm25 6 2 2 1.075 0.64 2 1)]
[\"a\",$(bm25 6 2 2 1.075 0.64 2 1)]
[\"c\",0]
[\"d\",0]
[\"e\",0]"
}

# GSM8K (MIT, t/fixtures/gsm8k): each problem's question is a document, the
# first line of its worked answer the query that should find it
@test "rk-search: GSM8K regression (fixed top hits)" {
	jq -c '{_id: ("gsm" + (input_line_number | tostring)), text: .question}' \
	    "$FIXTURES/gsm8k/test.jsonl" >gsm8k.jsonl
	rk-search -i g.db add gsm8k.jsonl
	for n in 5 48 49 50 51 1000; do
		printf '%s\t%s\n' $n "$(sed -n "${n}p" "$FIXTURES/gsm8k/test.jsonl" |
		    jq -r '.answer | split("\n")[0]')"
	done >topics.tsv
	run sh -c "rk-search -i g.db -f trec -k 1 <topics.tsv | cut -d' ' -f1,3,5"
	assert_status 0
	# each checked against BM25 computed from FTS5's fts5vocab instance
	# rows and the chunks' lengths (bench/retrieval/RESULTS, 2 Dec 2026)
	assert_output "5 gsm5 25.7488
48 gsm48 23.3109
49 gsm49 38.2952
50 gsm50 31.8540
51 gsm51 35.2966
1000 gsm1000 23.6368"
}

rk_sql() { "${RK_BUILD:-$BATS_TEST_DIRNAME/../build}/libexec/rk-trace-sql" "$@"; }

# 40 documents of 4 chunks each, their words shared with the questions
write_corpus() {
	mkdir -p "$1"
	for i in $(seq 1 40); do
		for p in 1 2 3 4; do
			echo "Paragraph $p of note $i: cats and dogs sleep, owls hunt mice at night, word$i word$p."
			echo
		done >"$1/d$i.txt"
	done
}

@test "rk-search: each query sees one state of the index while another process writes" {
	write_corpus docs
	rk-search -q -i w.db --chunk-size 100 --overlap 0 add docs
	for i in $(seq 1 300); do echo "cats sleep word$((i % 40)) owls"; done >questions
	(
		for i in $(seq 1 25); do
			rk-search -q -i w.db add docs
			rk-search -i w.db rm "docs/d$((i % 40 + 1)).txt"
			rk-search -i w.db optimize
		done >/dev/null 2>&1
	) &
	writer=$!
	for r in 1 2 3 4 5 6; do
		timeout 60 rk-search -i w.db -r -k 60 <questions >out 2>err
		st=$?
		[ "$st" -eq 0 ] || { cat err; echo "run $r: status $st"; kill $writer; return 1; }
		[ "$(wc -l <out)" -eq 300 ] || { echo "run $r: $(wc -l <out) records"; kill $writer; return 1; }
		[ "$(jq -c 'select(.error or (.context | type) != "array")' out | wc -l)" -eq 0 ]
		timeout 60 rk-search -i w.db -k 60 <questions >hits 2>err
		st=$?
		[ "$st" -eq 0 ] || { cat err; echo "run $r: status $st"; kill $writer; return 1; }
		[ "$(jq -c 'select((.text | type) != "string")' hits | wc -l)" -eq 0 ]
	done
	wait $writer
}

@test "rk-search: sizes read from a damaged index are checked, not allocated" {
	notes
	# a chunk id far beyond what the file holds, the packed copy stale
	rk_sql notes.db "INSERT INTO chunks(id, doc, n, len) VALUES (1073741825, 1, 9, 3); UPDATE meta SET value = value + 1 WHERE key = 'gen'"
	run rk-search -i notes.db cats
	assert_status 5
	assert_output "rk-search: notes.db: index damaged: chunk id 1073741825 is beyond what the file can hold"
	rm notes.db*
	notes
	# a flipped byte in the packed lengths: the document number of the
	# chunk of cats.txt 2^31, found when a query ranks documents
	rk_sql notes.db "UPDATE lens SET data = substr(data, 1, 26) || x'ffffff7f' || substr(data, 31)"
	run rk-search -i notes.db --by-doc cats
	assert_status 5
	assert_output "rk-search: notes.db: index damaged: chunk lengths, entry 1"
	rk_sql notes.db "UPDATE lens SET data = data || x'00'"
	run rk-search -i notes.db cats
	assert_status 5
	assert_match "^rk-search: notes.db: index damaged: chunk lengths of [0-9]+ bytes$"
	rk_sql notes.db "UPDATE meta SET value = '1e300' WHERE key = 'chunk'"
	run rk-search -i notes.db cats
	assert_status 5
	assert_output "rk-search: notes.db: index damaged: settings"
}

@test "rk-search: a chunk of no document is damage" {
	notes
	rk_sql notes.db "UPDATE chunks SET doc = 77 WHERE id = 1; UPDATE meta SET value = value + 1 WHERE key = 'gen'"
	run rk-search -i notes.db cats
	assert_status 5
	assert_output "rk-search: notes.db: index damaged: chunk 1"
}

@test "rk-search: the index is private and a reader makes no -wal or -shm" {
	umask 022
	notes
	[ "$(stat -c %a notes.db)" = 600 ]
	# SQLite gives a journal the mode of its database
	(sleep 1) | rk-search -i notes.db -r >/dev/null &
	sleep 0.5
	[ ! -e notes.db-wal ]
	[ ! -e notes.db-shm ]
	wait
}

@test "rk-search: -r with a missing or damaged index turns each record into an error" {
	run sh -c "printf 'q1\nq2\n' | rk-search -i missing.db -r 2>err >/dev/null; echo \$?; cat err"
	assert_output "$(printf '%s\n' 5 'rk-search: missing.db: no such index')"
	run sh -c "printf 'q1\nq2\n' | rk-search -i missing.db -r 2>/dev/null | jq -c '[.query, .error.code, .error.message]'"
	assert_output '["q1","index","missing.db: no such index"]
["q2","index","missing.db: no such index"]'
	echo garbage garbage garbage >bad.db
	run sh -c "printf 'q1\n' | rk-search -i bad.db -r 2>/dev/null | jq -r .error.code"
	assert_output "index"
	run sh -c "rk-search -i bad.db -r question 2>/dev/null | jq -r .query"
	assert_output "question"
	run rk-search -i bad.db -r question
	assert_status 5
}

@test "rk-search: an error from SQLite or a foreign database names the index once" {
	echo garbage garbage garbage >bad.db
	run rk-search -i bad.db question
	assert_status 5
	assert_output "rk-search: bad.db: cannot open: file is not a database"
	notes
	rk_sql notes.db "UPDATE meta SET value = 9 WHERE key = 'version'"
	run rk-search -i notes.db question
	assert_status 5
	assert_output "rk-search: notes.db: not an rk-search index (version 9)"
	run sh -c "rk-search -i notes.db -r question 2>/dev/null | jq -r .error.message"
	assert_output "notes.db: not an rk-search index (version 9)"
}

@test "rk-search: an index made with the older, shorter stopword list is refused, not silently mixed" {
	# "rm" re-tokenizes a chunk to take it out of FTS5: with another
	# stopword list its old terms would stay, pointing at nothing
	notes
	rk_sql notes.db "UPDATE meta SET value = 1 WHERE key = 'version'"
	run rk-search -i notes.db rm notes/cats.txt
	assert_status 5
	assert_output "rk-search: notes.db: made by an older rk-search (index version 1): rebuild it"
	run rk-search -i notes.db question
	assert_status 5
}

@test "rk-search: a failed add leaves no new index" {
	run rk-search -i new.db add /nonexistent
	assert_status 5
	assert_output "rk-search: /nonexistent: No such file or directory
rk-search: 0 documents indexed (0 chunks, 0.0 MB); 1 failed"
	[ ! -e new.db ] && [ ! -e new.db-journal ]
	mkdir empty
	run rk-search -i new.db -q add empty
	assert_status 3
	[ ! -e new.db ]
	# an existing index stays
	notes
	run rk-search -i notes.db -q add /nonexistent
	assert_status 5
	[ -e notes.db ]
}

@test "rk-search: a tree's non-text files are skipped quietly and counted" {
	mkdir -p tree/sub
	echo "owls hunt at night" >tree/owls.txt
	printf '\037\213\010\000\000\000' >tree/sub/changelog.gz
	printf 'caf\351\n' >tree/sub/latin1.txt
	printf '{\n  "name": "owls",\n  "about": "pretty printed"\n}\n' >tree/package.json
	mkfifo tree/fifo
	run rk-search -i t.db add tree
	assert_status 0
	assert_output "rk-search: 2 documents indexed (2 chunks, 0.0 MB); 3 skipped: 1 binary, 1 invalid UTF-8, 1 not a regular file"
	run rk-search -i t.db -q add tree
	assert_status 0
	assert_output ""
	run rk-search -i t.db -v add tree
	assert_status 0
	assert_output "rk-search: tree/fifo: not a regular file, skipped
rk-search: tree/sub/changelog.gz: binary, skipped
rk-search: tree/sub/latin1.txt: invalid UTF-8, skipped
rk-search: 2 documents indexed (2 chunks, 0.0 MB); 3 skipped: 1 binary, 1 invalid UTF-8, 1 not a regular file"
	# the pretty-printed .json is a text document
	run sh -c "rk-search -i t.db printed | jq -r .doc"
	assert_output "tree/package.json"
}

@test "rk-search: a symlink loop in a tree is skipped" {
	mkdir -p loop/a
	echo "words here" >loop/a/x.txt
	ln -s .. loop/a/up
	run rk-search -i l.db add loop
	assert_status 0
	assert_output "rk-search: 1 document indexed (1 chunk, 0.0 MB); 1 skipped: 1 not a regular file"
}

@test "rk-search: on a terminal, rank, document, score and a snippet with the terms marked" {
	notes
	run script -qc "NO_COLOR=1 rk-search -i notes.db sleeping" /dev/null
	assert_status 0
	output=$(printf '%s\n' "$output" | tr -d '\r')
	assert_output "1. notes/cats.txt  0.0000
   Cats *sleep* twelve to sixteen hours a day. A *sleeping* cat is conserving energy for the hunt, even when the only prey is a toy mouse. Kittens *sleep* even longer...
2. notes/dogs.md  0.0000
   ...gets bored and may chew the furniture. ## *Sleep* Dogs *sleep* about half the day, in short naps."
	run script -qc "rk-search -i notes.db -k 1 kittens" /dev/null
	output=$(printf '%s\n' "$output" | tr -d '\r')
	assert_output "1. notes/cats.txt  0.0000
   ...even when the only prey is a toy mouse. $(printf '\033[1m')Kittens$(printf '\033[0m') sleep even longer than adult cats."
	# -f json: NDJSON on a terminal too
	run script -qc "rk-search -i notes.db -f json -k 1 kittens" /dev/null
	output=$(printf '%s\n' "$output" | tr -d '\r' | jq -r .doc)
	assert_output "notes/cats.txt"
}

@test "rk-search: query lines over RK_MAX_RECORD are refused while reading" {
	notes
	{ echo kittens; head -c 5000 /dev/zero | tr '\0' a; echo; echo dogs; } >q
	RK_MAX_RECORD=1k run sh -c "rk-search -i notes.db -f trec <q"
	assert_status 3
	assert_output "rk-search: stdin:2: line of 5000 bytes is over the record limit of 1024 (RK_MAX_RECORD)
1 Q0 notes/cats.txt 1 0.0000 rk-search
3 Q0 notes/dogs.md 1 0.0000 rk-search"
}

@test "rk-search: a JSON line over RK_MAX_RECORD in add fails the add, the others are indexed" {
	{
		echo '{"id":"1","text":"hello there"}'
		printf '{"id":"2","text":"%s"}\n' "$(head -c 3000 /dev/zero | tr '\0' a)"
		echo '{"id":"3","text":"more hello"}'
	} >d.jsonl
	RK_MAX_RECORD=1k run rk-search -i d.db add d.jsonl
	assert_status 3
	assert_output "rk-search: d.jsonl:2: line of 3020 bytes is over the record limit of 1024 (RK_MAX_RECORD)
rk-search: 2 documents indexed (2 chunks, 0.0 MB); 1 failed"
}

@test "rk-search: hits' names and texts are escaped as JSON, byte for byte" {
	printf '%s\n' '{"id":"d\"q\\1","text":"alpha \u0001 \u001f\u007f \"q\" b\\s /s \b\f\n\r\t \u00e9 \u2028"}' \
	    '{"id":"t\tn","text":"alpha beta"}' '{"id":"f1","text":"gamma"}' \
	    '{"id":"f2","text":"delta"}' '{"id":"f3","text":"epsilon"}' >e.jsonl
	rk-search -i e.db --chunk-size 0 add e.jsonl 2>/dev/null
	run sh -c "printf 'q\\\\x01\"\\talpha\\n' | rk-search -i e.db"
	assert_status 0
	# alpha in 2 of 5 chunks: idf ln(3.5/2.5); dl 2 and 6, avgdl 11/5
	assert_output "$(printf '%s\n' \
	    '{"qid":"q\\x01\"","doc":"t\tn","chunk":0,"score":0.3469,"rank":1,"text":"alpha beta"}' \
	    "{\"qid\":\"q\\\\x01\\\"\",\"doc\":\"d\\\"q\\\\1\",\"chunk\":0,\"score\":0.2139,\"rank\":2,\"text\":\"alpha \\u0001 \\u001F$(printf '\177') \\\"q\\\" b\\\\s /s \\b\\f\\n\\r\\t $(printf '\303\251') $(printf '\342\200\250')\"}")"
}

@test "rk-search: chunk lengths packed by an older rk-search are read as they are" {
	notes
	rk-search -i notes.db -f trec --by-doc "cats dogs" >new
	rk-search -i notes.db -k 1 kittens >>new
	# the two chunks' lengths and documents, 32 bits each, interleaved
	rk_sql notes.db "UPDATE lens SET data = CAST(x'726b6c656e733200' ||
	    substr(data, 17, 2) || x'0000' || substr(data, 23, 4) ||
	    substr(data, 19, 2) || x'0000' || substr(data, 27, 4) ||
	    substr(data, 21, 2) || x'0000' || substr(data, 31, 4) AS BLOB)"
	run rk_sql notes.db "SELECT length(data) FROM lens"
	assert_output 32
	run sh -c 'rk-search -i notes.db -f trec --by-doc "cats dogs";
	    rk-search -i notes.db -k 1 kittens'
	assert_status 0
	assert_output "$(cat new)"
}

@test "rk-search: a chunk of 65,536 terms or more: lengths packed in 4 bytes" {
	# 70,001 terms in one chunk: in 2 bytes its length would wrap
	awk 'BEGIN { for (i = 0; i < 35000; i++) printf "kittens dogs "
	    print "zebra" }' >long.txt
	printf 'kittens nap\n' >short.txt
	printf 'dogs bark\n' >other.txt
	rk-search -i w.db -q --chunk-size 0 add long.txt short.txt other.txt
	run rk_sql w.db "SELECT hex(substr(data, 1, 16)) FROM lens"
	assert_output 726B6C656E7333000400000000000000
	run rk_sql w.db "SELECT length(data) FROM lens"
	assert_output 48
	# zebra: once in long.txt, in 1 chunk of 3, avgdl 70005 / 3; the
	# second query of a process reads the lengths the first kept
	run sh -c "printf 'zebra\nzebra\n' | rk-search -i w.db -f trec"
	assert_status 0
	s=$(bm25 3 23335 70001 1.075 0.64 1 1)
	assert_output "1 Q0 long.txt 1 $s rk-search
2 Q0 long.txt 1 $s rk-search"
	assert_output "1 Q0 long.txt 1 0.3072 rk-search
2 Q0 long.txt 1 0.3072 rk-search"
}

@test "rk-search: a chunk number over 32 bits is written whole, hits and context" {
	notes
	# add numbers chunks from 0: only a hand-made index holds one this big
	rk_sql notes.db "UPDATE chunks SET n = 4294967297"
	run sh -c "rk-search -i notes.db -k 1 kittens | jq .chunk;
	    rk-search -i notes.db -r kittens | jq '.context[0].chunk'"
	assert_status 0
	assert_output "4294967297
4294967297"
}

@test "rk-search: a name not UTF-8 is refused at add, nothing of it indexed" {
	printf 'owls hunt\n' >"$(printf 'caf\351.txt')"
	printf 'owls sleep\n' >ok.txt
	mkdir tree
	printf 'owls fly\n' >"tree/$(printf 'd\351j\340.md')"
	# a line without an id is named by its file and line
	printf '%s\n' '{"text":"owls nest"}' '{"id":"n1","text":"owls call"}' \
	    >"$(printf 'l\351.jsonl')"
	run rk-search -i x.db add "$(printf 'caf\351.txt')" ok.txt tree \
	    "$(printf 'l\351.jsonl')"
	assert_status 3
	assert_output "rk-search: $(printf 'caf\351.txt'): name not UTF-8, skipped
rk-search: tree/$(printf 'd\351j\340.md'): name not UTF-8, skipped
rk-search: $(printf 'l\351.jsonl'):1: name not UTF-8, skipped
rk-search: 2 documents indexed (2 chunks, 0.0 MB); 3 failed"
	run sh -c "rk-search -i x.db owls | jq -r .doc"
	assert_status 0
	assert_output "ok.txt
n1"
	# given alone: no index is left behind
	run rk-search -i y.db add "$(printf 'caf\351.txt')"
	assert_status 3
	[ ! -e y.db ]
}

@test "rk-search: a name not UTF-8 in an older index: its hits say so" {
	printf '%s\n' '{"id":"aa","text":"owls hunt"}' \
	    '{"id":"bb","text":"owls hunt at night"}' '{"id":"cc","text":"x"}' \
	    '{"id":"dd","text":"y"}' '{"id":"ee","text":"z"}' >d.jsonl
	rk-search -q -i old.db add d.jsonl
	# what an older rk-search's add let in
	rk_sql old.db "UPDATE docs SET name = CAST(x'aae9' AS TEXT)
	    WHERE name = 'aa'"
	run sh -c "printf 'q1\towls\n' | rk-search -i old.db"
	assert_status 3
	assert_output '{"qid":"q1","chunk":0,"score":0.3107,"rank":1,"error":{"stage":"rk-search","code":"bad-utf8","message":"document name not UTF-8"}}
{"qid":"q1","doc":"bb","chunk":0,"score":0.2608,"rank":2,"text":"owls hunt at night"}'
	run rk-search -i old.db -r hunt
	assert_status 3
	output=$(printf '%s\n' "$output" | jq -c 'del(.id)')
	assert_output '{"rk":1,"query":"hunt","error":{"stage":"rk-search","code":"bad-utf8","message":"a hit'"'"'s document name not UTF-8"}}'
	# TREC prints it as it is, and rm removes it
	run rk-search -i old.db -f trec owls
	assert_output "1 Q0 $(printf '\252\351') 1 0.3107 rk-search
1 Q0 bb 2 0.2608 rk-search"
	rk-search -i old.db rm "$(printf '\252\351')"
	run sh -c "rk-search -i old.db owls | jq -r .doc"
	assert_status 0
	assert_output bb
}

@test "rk-search: a hit over RK_MAX_RECORD: its line says so, the next hits follow" {
	awk 'BEGIN { for (i = 0; i < 300; i++) printf "zebra "; print "" }' \
	    >a.txt
	printf 'zebra small\n' >b.txt
	printf 'other\n' >c.txt
	rk-search -q -i z.db add a.txt b.txt c.txt
	RK_MAX_RECORD=1k run sh -c "rk-search -i z.db zebra 2>/dev/null | jq -c '[.doc, .error.code]'"
	assert_output '[null,"too-long"]
["b.txt",null]'
	RK_MAX_RECORD=1k run rk-search -i z.db zebra
	assert_status 3
}

@test "rk-search: a hit's line escapes its text byte for byte as jansson does" {
	# each byte JSON escapes, and some it need not, alone after 0 to 32
	# plain bytes, so at every place of the 16-byte blocks it is scanned
	# in: the hit's line is written without jansson, -r's context with it
	python3 -c 'import json
s = "".join(chr(c) for c in range(1, 32)) + "\"\\\x7f/\u00e9\U0001f600"
print(json.dumps({"id": "e",
    "text": "owl " + "".join("x" * k + c for c in s for k in range(33))}))' >e.jsonl
	rk-search -q -i e.db --chunk-size 0 add e.jsonl
	rk-search -i e.db owl | sed 's/.*,"text"://; s/}$//' >fast
	rk-search -i e.db -r --context-bytes 1M owl | sed 's/.*,"text"://; s/}]}$//' >slow
	run cmp fast slow
	assert_status 0
	run head -c 18 fast
	assert_output '"owl \u0001x\u0001'
}
