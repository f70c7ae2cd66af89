#!/bin/sh
# Retrieval quality with default settings, beside published numbers:
# SciFact (BEIR test split, 300 queries) and Vaswani (93 queries).
#
#   sh bench/retrieval/eval.sh [BUILD_DIR]      (make bench-retrieval)
#
# The data stays in ../shared/eval/data; indexes go to a temporary
# directory.  Scores come from trec_score.py (trec_eval -c conventions).
set -eu
O=${1:-build}
BIN=$O/bin
D=$(dirname "$0")
DATA=${DATA:-$D/../../../shared/eval/data}
W=$(mktemp -d "${TMPDIR:-/tmp}/rk-eval.XXXXXX")
trap 'rm -rf "$W"' EXIT INT TERM

echo "== SciFact test: $(wc -l <"$DATA/scifact/anserini/topics.beir-v1.0.0-scifact.test.tsv") queries"
"$BIN/rk-search" -i "$W/scifact.db" add "$DATA/scifact/corpus.jsonl"
"$BIN/rk-search" -i "$W/scifact.db" -f trec -k 1000 \
    <"$DATA/scifact/anserini/topics.beir-v1.0.0-scifact.test.tsv" >"$W/scifact.run"
python3 "$D/trec_score.py" "$DATA/scifact/qrels/test.tsv" "$W/scifact.run" \
    ndcg_cut.10 recall.100 recall.1000
echo "published: Pyserini BM25 flat nDCG@10 0.6789 R@100 0.9253 R@1000 0.9767;"
echo "           BEIR paper 0.665; FTS5 bm25() sanity check 0.6824 / 0.9253"

echo "== Vaswani: 93 queries"
python3 "$D/vaswani.py" "$DATA/vaswani" "$W"
"$BIN/rk-search" -i "$W/vaswani.db" add "$W/vaswani.jsonl"
"$BIN/rk-search" -i "$W/vaswani.db" -f trec -k 1000 <"$W/vaswani.tsv" >"$W/vaswani.run"
python3 "$D/trec_score.py" "$DATA/vaswani/qrels" "$W/vaswani.run" \
    map ndcg_cut.10 recall.100
echo "published: Terrier BM25 MAP 0.2992 (DPH 0.2836);"
echo "           FTS5 bm25() sanity check MAP 0.2805 nDCG@10 0.4306 R@100 0.6022"
