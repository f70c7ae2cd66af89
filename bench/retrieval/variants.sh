#!/bin/sh
# Every row of the table "BM25 quality: variants" in RESULTS: the
# committed tree with variants.patch (switches read from RK_VARIANT,
# RK_VARIANT_STOP, RK_VARIANT_DELTA) built in a temporary directory,
# then grid.sh for each variant.  Columns: variant, analyzer, params,
# SciFact train nDCG@10, SciFact test nDCG@10, Vaswani MAP.
#
#   sh bench/retrieval/variants.sh        (about 5 minutes on one core)
set -eu
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

# row NAME [ANALYZER [PARAMS ...]], switches in the environment
row() {
	n=$1
	shift
	sh "$D/grid.sh" "$W/src/build" "$@" | sed "s/^/$(printf '%-12s' "$n") /"
}

FUNC=" also although among another around either else ever every however
may might much must neither never onto per rather shall since still thus
therefore though toward towards upon via whether within without yet many
us whose even well whereas hence across along behind beyond besides
unless whatever whenever wherever whichever whoever already always often
sometimes quite almost perhaps indeed et al etc ie eg "
GENERIC=" use used uses using give given gives make made makes show shown
shows new various several certain particular different known like usually
especially one two first second "

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
