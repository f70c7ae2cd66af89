# Shared by the tests of vectors in the index (49-hybrid, 49a-ann, 95):
# a stand-in embedder, corpora, and a float64 cosine reference.

# stand_in: rk-embed is the stand-in, model toy
stand_in() {
	mkdir -p "$TMP/bin"
	cp "$FIXTURES/search/stand-in-embed" "$TMP/bin/rk-embed"
	MODEL=toy
}

# on_path: $TMP/bin first on PATH, for the stand-in
on_path() {
	mkdir -p "$TMP/bin"
	PATH="$TMP/bin:$PATH"
}

# corpus N: N documents d001..dNNN of words drawn with a fixed seed
corpus() {
	mkdir -p docs
	awk -v n="$1" 'BEGIN {
		split("apple river stone cloud ember frost grain harbor " \
		    "island jungle kettle lantern meadow nectar orchard " \
		    "pepper quartz raven saddle timber", w, " ")
		srand(7)
		for (d = 1; d <= n; d++) {
			f = sprintf("docs/d%03d.txt", d)
			k = 3 + int(rand() * 6)
			s = ""
			for (i = 0; i < k; i++)
				s = s " " w[1 + int(rand() * 20)]
			print substr(s, 2) > f
			close(f)
		}
	}'
}

# embedded N DIM: an index of corpus N with vectors of DIM dimensions
embedded() {
	corpus "$1"
	rk-search -q -i idx add docs
	rk-search -q -i idx -m "$MODEL" --dimensions "$2" embed
}

# cosine_ref QUERY DIM: "cosine doc" of every document, best first, the
# cosine in float64 (to 6 decimals) of the vectors rk-embed gives
cosine_ref() {
	for f in docs/*.txt; do printf '%s\t%s\n' "$f" "$(cat "$f")"; done |
	    sort >names
	cut -f2 names | rk-embed -m "$MODEL" --dimensions "$2" |
	    jq -r '.embedding | map(tostring) | join(" ")' >vecs
	printf '%s\n' "$1" | rk-embed -m "$MODEL" --dimensions "$2" |
	    jq -r '.embedding | map(tostring) | join(" ")' >qvec
	cut -f1 names | paste - vecs | awk '
	    NR == FNR { for (i = 1; i <= NF; i++) q[i] = $i; next }
	    {
		dot = qq = vv = 0
		for (i = 2; i <= NF; i++) {
			dot += q[i - 1] * $i; qq += q[i - 1] ^ 2; vv += $i ^ 2
		}
		printf "%.6f %s\n", dot / sqrt(qq * vv), $1
	    }' qvec - | sort -k1,1gr -k2,2 >ranked
}

# same_ranking K: the documents in file got have, rank by rank, the
# cosines of the reference's top K (equal cosines may come in any order)
same_ranking() {
	awk 'NR == FNR { s[$2] = $1; next } { print s[$1] }' ranked got >got.cos
	head -n "$1" ranked | cut -d' ' -f1 >want.cos
	# the reference is not all ties (run turns errexit off: say so)
	if [ "$(sort -u want.cos | wc -l)" -le $(($1 / 3)) ]; then
		echo "the reference's top $1 are nearly all ties" >&2
		return 1
	fi
	diff want.cos got.cos
}

# three_docs [MODEL]: an index of three documents with vectors (model
# hash by default).  For the query "apple", BM25 ranks a (apple twice)
# above b (apple once); c has no apple.  By vector the order is a, b, c
# too (as --vector says).
three_docs() {
	mkdir docs
	echo "apple apple pear" >docs/a
	echo "apple plum fig kiwi lime" >docs/b
	echo "pear pear" >docs/c
	rk-search -q -i idx add docs
	rk-search -q -i idx -m "${1:-hash}" embed
}
