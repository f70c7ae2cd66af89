#!/bin/sh
# Retrieval quality of BM25, vector and hybrid (RRF) on SciFact's 300
# test queries, with any embedding server: nDCG@10 and R@100.
#
#   sh bench/retrieval/hybrid.sh URL MODEL [BUILD_DIR]
#
#   sh bench/retrieval/hybrid.sh http://localhost:11434/v1 nomic-embed-text
#   OPENAI_API_KEY=... sh bench/retrieval/hybrid.sh \
#       https://api.openai.com/v1 text-embedding-3-small
#
# URL is an OpenAI-compatible /v1 endpoint (vLLM, text-embeddings-
# inference, Ollama's /v1, OpenAI): PROVIDER, default openai, may name
# another preset of rk-embed(1).  Keys come from the environment, as
# rk-embed(1) reads them.  JOBS (default 4) requests in flight.  Not run
# in CI: no model is reachable from the test machines.  Embedding
# SciFact's 5,183 documents (one chunk each, mostly) takes minutes on a
# laptop's Ollama; rk-embed's cache makes a second run quick.
#
# The run files' scores are replaced by 1000 - rank before scoring:
# trec_score.py, like trec_eval, re-sorts by score, and fused scores
# printed with 4 decimals tie.
set -eu
[ $# -ge 2 ] || { echo "usage: hybrid.sh URL MODEL [BUILD_DIR]" >&2; exit 2; }
URL=$1 MODEL=$2 O=${3:-build} PROVIDER=${PROVIDER:-openai}
D=$(dirname "$0")
DATA=${DATA:-$D/../../../shared/eval/data}
PATH="$O/bin:$PATH"
W=$(mktemp -d "${TMPDIR:-/tmp}/rk-hybrid.XXXXXX")
trap 'rm -rf "$W"' EXIT INT TERM
topics=$DATA/scifact/anserini/topics.beir-v1.0.0-scifact.test.tsv

rk-search -q -i "$W/scifact.db" add "$DATA/scifact/corpus.jsonl"
t0=$(date +%s)
rk-search -i "$W/scifact.db" -m "$MODEL" --base-url "$URL" \
    --provider "$PROVIDER" -P "${JOBS:-4}" embed
echo "embedded in $(($(date +%s) - t0)) s: $(rk-search -i "$W/scifact.db" stats)"
for rank in bm25 vector hybrid; do
	case $rank in bm25) flag= ;; *) flag=--$rank ;; esac
	rk-search -i "$W/scifact.db" -f trec -k 100 $flag \
	    --provider "$PROVIDER" --base-url "$URL" <"$topics" |
	    awk '{ $5 = 1000 - $4; print }' >"$W/$rank.run"
	printf '%-7s ' "$rank"
	python3 "$D/trec_score.py" "$DATA/scifact/qrels/test.tsv" \
	    "$W/$rank.run" ndcg_cut.10 recall.100 | tr '\n' ' '
	echo
done
