#!/bin/sh
# BM25 settings compared as the defaults are chosen: SciFact's train
# queries (809, nDCG@10) and Vaswani (93, MAP) select; SciFact's test
# queries (300, nDCG@10) are reported beside them, never used to choose.
#
#   sh bench/retrieval/grid.sh BUILD_DIR [ANALYZER [PARAMS ...]]
#
# ANALYZER is rk-search's --analyzer (default: the default analyzer);
# each PARAMS is a --params value (k1=1.2,b=0.6); none: the defaults.
# One row per PARAMS: analyzer, params, train, test, Vaswani.  Each
# collection is indexed once per run; ADD_OPTS go to every add.  With
# RUNS=dir the runs are kept there, named by set and PARAMS.
set -eu
O=${1:-build}
BIN=$O/bin
D=$(dirname "$0")
DATA=${DATA:-$D/../../../shared/eval/data}
AN=${2:-}
[ $# -gt 2 ] && shift 2 || set -- ""
W=$(mktemp -d "${TMPDIR:-/tmp}/rk-grid.XXXXXX")
trap 'rm -rf "$W"' EXIT INT TERM

python3 - "$DATA" "$W" <<'PY'
import json, sys
src, out = sys.argv[1], sys.argv[2]
train = {l.split("\t")[0] for l in open(src + "/scifact/qrels/train.tsv")}
with open(out + "/train.tsv", "w") as f:
    for l in open(src + "/scifact/queries.jsonl"):
        q = json.loads(l)
        if q["_id"] in train:
            f.write(q["_id"] + "\t" + " ".join(q["text"].split()) + "\n")
PY
python3 "$D/vaswani.py" "$DATA/vaswani" "$W"

add() {
	"$BIN/rk-search" -q -i "$1" ${AN:+--analyzer="$AN"} ${ADD_OPTS:-} add "$2"
}
add "$W/scifact.db" "$DATA/scifact/corpus.jsonl"
add "$W/vaswani.db" "$W/vaswani.jsonl"

# score INDEX TOPICS QRELS MEASURE PARAMS NAME
score() {
	"$BIN/rk-search" -i "$1" -f trec -k 1000 ${5:+--params="$5"} \
	    <"$2" >"$W/run"
	[ -z "${RUNS:-}" ] || cp "$W/run" "$RUNS/$6.${5:-default}"
	python3 "$D/trec_score.py" "$3" "$W/run" "$4" | awk '{ print $3 }'
}

for p; do
	printf '%-12s %-14s %s %s %s\n' "${AN:-default}" "${p:-default}" \
	    "$(score "$W/scifact.db" "$W/train.tsv" \
	    "$DATA/scifact/qrels/train.tsv" ndcg_cut.10 "$p" train)" \
	    "$(score "$W/scifact.db" \
	    "$DATA/scifact/anserini/topics.beir-v1.0.0-scifact.test.tsv" \
	    "$DATA/scifact/qrels/test.tsv" ndcg_cut.10 "$p" test)" \
	    "$(score "$W/vaswani.db" "$W/vaswani.tsv" "$DATA/vaswani/qrels" \
	    map "$p" vaswani)"
done
