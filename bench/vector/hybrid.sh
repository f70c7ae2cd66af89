#!/bin/sh
# Hybrid query latency in-process: SciFact's first 1,000 documents and
# its 300 test queries (bench/retrieval/mkcorpus.py), vectors of 768
# dimensions from the tests' stand-in embedder (a hashed bag of words:
# no server needed; a scan costs the same for any vectors of that size).
#
#   make bench-hybrid            (sh bench/vector/hybrid.sh [BUILD_DIR])
set -eu
O=${1:-build}
here=$(dirname "$0")
SCIFACT=${SCIFACT:-$here/../../../shared/eval/data/scifact}
ROUNDS=${ROUNDS:-5}
[ -f "$SCIFACT/corpus.jsonl" ] || { echo "no SciFact at $SCIFACT" >&2; exit 1; }
W=$(mktemp -d "${TMPDIR:-/tmp}/rk-hybrid.XXXXXX")
trap 'rm -rf "$W"' EXIT INT TERM
python3 "$here/../retrieval/mkcorpus.py" "$SCIFACT" "$W" >/dev/null
mkdir "$W/bin"
cp "$here/../../t/fixtures/search/stand-in-embed" "$W/bin/rk-embed"
PATH="$W/bin:$O/bin:$PATH"
rk-search -q -i "$W/c1k.db" add "$W/c1k.jsonl"
rk-search -q -i "$W/c1k.db" -m stand-in --dimensions 768 embed
"$O/bench/vector/hybrid-speed" "$W/c1k.db" "$W/queries.tsv" "$ROUNDS"
