#!/bin/sh
# Every row of the table "BM25 quality: variants" in RESULTS: the
# committed tree with variants.patch (switches read from RK_VARIANT,
# RK_VARIANT_STOP, RK_VARIANT_DELTA, RK_VARIANT_IDFFLOOR, RK_VARIANT_L)
# built in a temporary directory, then grid.sh for each variant, each
# with the scoring of the time (row() below).
# Columns: variant, analyzer, params, SciFact train nDCG@10, SciFact
# test nDCG@10, Vaswani MAP.
#
#   sh bench/retrieval/variants.sh [SECTION ...]
#
# SECTION: first (the rows of the first round, about 10 minutes on one
# core), fine (the grid of k1 and b around the defaults, about 10
# minutes), second (the second round's variants, 5 minutes), long (its
# stoplists, 2 minutes), finefloor (fine's grid with the IDF floored at
# 0, 10 minutes), edge (past finefloor's edge in k1, 1 minute),
# finelong (the same grid with the long stoplist too, 10 minutes);
# none: all seven.
set -eu
[ $# -gt 0 ] || set -- first fine second long finefloor edge finelong
for s; do
	case $s in
	first|fine|finefloor|finelong|edge|second|long) ;;
	*) echo "variants.sh: no section $s" >&2; exit 2 ;;
	esac
done
D=$(cd "$(dirname "$0")" && pwd)
DATA=${DATA:-$D/../../../shared/eval/data}
export DATA
W=$(mktemp -d "${TMPDIR:-/tmp}/rk-variants.XXXXXX")
trap 'rm -rf "$W"' EXIT INT TERM

mkdir "$W/src"
git -C "$(git -C "$D" rev-parse --show-toplevel)" archive HEAD |
    tar -x -C "$W/src"
(cd "$W/src" && patch -p1 -s -t <"$D/variants.patch" &&
    make -j2 build/bin/rk-search >/dev/null)

# SciFact with each title twice (Vaswani has no titles)
mkdir -p "$W/title2/scifact"
ln -s "$DATA/vaswani" "$W/title2/vaswani"
for f in anserini qrels queries.jsonl; do
	ln -s "$DATA/scifact/$f" "$W/title2/scifact/$f"
done
python3 - "$DATA/scifact/corpus.jsonl" "$W/title2/scifact/corpus.jsonl" <<'PY'
import json, sys
with open(sys.argv[2], "w") as out:
    for line in open(sys.argv[1]):
        d = json.loads(line)
        if d["title"]:
            d["text"] = d["title"] + "\n\n" + d["text"]
        out.write(json.dumps(d) + "\n")
PY

# row NAME ANALYZER PARAMS ..., switches in the environment.  Every row
# is measured as it was before the defaults changed (2 Dec 2026): Lucene's
# idf unless a switch chooses another, and k1=1.0,b=0.6 for PARAMS "".
row() {
	n=$1
	a=$2
	shift 2
	for p; do
		shift
		set -- "$@" "${p:-k1=1.0,b=0.6}"
	done
	RK_VARIANT=${RK_VARIANT:+$RK_VARIANT,}idflucene \
	    sh "$D/grid.sh" "$W/src/build" "$a" "$@" |
	    sed "s/^/$(printf '%-12s' "$n") /"
}

# The second round's stoplist: English function words (articles,
# pronouns, auxiliaries and modals, prepositions, conjunctions, adverbs
# of place, time and degree, a few light verbs and Latin abbreviations),
# in the spirit of SMART's and Terrier's lists, written for this
# benchmark.  Added to the analyzer's 126 words.
LONG=" a about above across after afterwards again against ago ahead albeit
all almost alone along alongside already also although altogether always
am amid amidst among amongst an and another any anybody anyhow anyone
anything anyway anyways anywhere apart are aren't around as aside at away
back be became because become becomes becoming been before beforehand
behind being below beneath beside besides between beyond both but by can
can't cannot cf according accordingly consequently considering concerning
could couldn't dare did didn't despite do does doesn't doing don't done
down downwards during each eg either else elsewhere enough especially et
al etc even ever every everybody everyone everything everywhere except
excepting excluding far few fewer following for former formerly forth
from further furthermore get gets getting go goes going gone got had
hadn't has hasn't have haven't having he hence her here hereafter hereby
herein hereto hereupon hers herself him himself his hither hitherto how
however i ie if in inasmuch including indeed inside insofar instead into
inward is isn't it its itself just last latter latterly least less lest
let lets like likewise little many may maybe me meanwhile merely might
mine more moreover most mostly much must my myself namely near nearly
need needn't neither never nevertheless next no nobody none nonetheless
noone nor not nothing notwithstanding now nowhere of off often oh ok on
once ones oneself only onto opposite or other others otherwise ought our
ours ourselves out outside over overall own pending per perhaps quite
rather really regarding regardless same save seem seemed seeming seems
seldom shall she should shouldn't similarly since so some somebody
somehow someone something sometime sometimes somewhat somewhere soon
still subsequently such than that thats the their theirs them themselves
then thence there thereafter thereby therefore therein thereof thereto
thereupon therewith these they this thorough thoroughly those though
through throughout thru thus thusly till to together too toward towards
ultimately under underneath unless unlike until unto up upon upward
upwards us versus very via viz vs was wasn't we well went were weren't
what whatever when whence whenever where whereafter whereas whereby
wherein whereof whereupon wherever whether which whichever while whilst
whither who whoever whole whom whomever whose why will with within
without won't would wouldn't yeah yes yet you your yours yourself
yourselves "
FUNC=" also although among another around either else ever every however
may might much must neither never onto per rather shall since still thus
therefore though toward towards upon via whether within without yet many
us whose even well whereas hence across along behind beyond besides
unless whatever whenever wherever whichever whoever already always often
sometimes quite almost perhaps indeed et al etc ie eg "
GENERIC=" use used uses using give given gives make made makes show shown
shows new various several certain particular different known like usually
especially one two first second "

first() {
	RK_VARIANT=qtf row qtf "" k1=1.2,b=0.6 k1=1.0,b=0.6 k1=1.2,b=0.75
	row defaults "" "" k1=0.8,b=0.6 k1=0.9,b=0.6 k1=1.1,b=0.6 k1=1.2,b=0.6 \
	    k1=1.5,b=0.6 k1=0.9,b=0.55 k1=1.0,b=0.55 k1=1.1,b=0.55 k1=0.9,b=0.65 \
	    k1=1.0,b=0.65 k1=1.1,b=0.65 k1=1.0,b=0.7 k1=1.2,b=0.7 k1=1.2,b=0.75
	row porter porter,stop "" k1=1.2,b=0.6
	for v in idfrob dlfull min2 len20 nonum dig4 splitapos splitnum hyph \
	    hyphdig splitalnum splitalnum,ld splitalnum,dl; do
		RK_VARIANT=$v row "$v" "" "" k1=1.2,b=0.6
	done
	RK_VARIANT_STOP=" $(echo $FUNC) " row +function "" "" k1=1.2,b=0.6
	RK_VARIANT_STOP=" $(echo $GENERIC) " row +generic "" "" k1=1.2,b=0.6
	for d in 0.25 0.5 1; do
		RK_VARIANT_DELTA=$d row "bm25+$d" "" "" k1=1.2,b=0.75
	done
	DATA=$W/title2 row title2 "" "" k1=1.2,b=0.6
	ADD_OPTS=--chunk-size=0 row chunk0 "" "" k1=1.2,b=0.6
}

# k1 0.90-1.10 by 0.025, b 0.50-0.70 by 0.02, the new defaults' way
# (with RK_VARIANT_IDFFLOOR=0 in the environment: section finefloor)
fine() {
	set --
	for k in 0.9 0.925 0.95 0.975 1.0 1.025 1.05 1.075 1.1; do
		for b in 0.5 0.52 0.54 0.56 0.58 0.6 0.62 0.64 0.66 0.68 0.7
		do
			set -- "$@" "k1=$k,b=$b"
		done
	done
	row "${FINE:-fine}" "" "$@"
}

finefloor() {
	RK_VARIANT_IDFFLOOR=0 FINE=finefloor fine
}

# past finefloor's edge in k1
edge() {
	RK_VARIANT_IDFFLOOR=0 row edge "" k1=1.1,b=0.62 k1=1.125,b=0.6 \
	    k1=1.125,b=0.62 k1=1.125,b=0.64 k1=1.15,b=0.6 k1=1.15,b=0.62 \
	    k1=1.15,b=0.64 k1=1.2,b=0.62
}

# the same with the long stoplist too
finelong() {
	RK_VARIANT_STOP=" $(echo $LONG) " RK_VARIANT_IDFFLOOR=0 \
	    FINE=finelong fine
}

second() {
	P="k1=0.9,b=0.6 k1=1.0,b=0.6 k1=1.1,b=0.6 k1=1.2,b=0.6 k1=1.2,b=0.75"
	RK_VARIANT=dldistinct row dldistinct "" $P
	RK_VARIANT=idfatire row idfatire "" $P
	RK_VARIANT_IDFFLOOR=0 row floor0 "" $P
	for l in 0.2 0.5; do
		RK_VARIANT_L=$l row "bm25l$l" "" $P
	done
}

# the 381-word stoplist, alone and with the IDF floored at 0
long() {
	P="k1=0.9,b=0.6 k1=0.95,b=0.6 k1=1.0,b=0.6 k1=1.05,b=0.6 k1=1.1,b=0.6
	    k1=1.2,b=0.6 k1=1.0,b=0.55 k1=1.0,b=0.65 k1=1.2,b=0.75"
	RK_VARIANT_STOP=" $(echo $LONG) " row long "" $P
	RK_VARIANT_STOP=" $(echo $LONG) " RK_VARIANT_IDFFLOOR=0 \
	    row long+floor0 "" $P
}

for s; do
	$s
done
