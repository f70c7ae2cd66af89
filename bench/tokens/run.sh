#!/bin/sh
# Token counting speed: lib/token/bpe.c against npm tiktoken (Rust compiled to
# WASM), js-tiktoken and gpt-tokenizer (pure JS), all run over the SciFact corpus texts
# (title + "\n\n" + text, 5,183 documents) in this one run, in process, the
# fastest of PASSES passes after a warm-up one (the machine is shared, so
# the fastest pass is the one least disturbed).  The ids of all four must
# be identical.  Then the cost of adversarial input (one long word, one
# long run of spaces) at growing sizes, to show it grows linearly.
#
#	sh bench/tokens/run.sh [BUILD-DIR]	# from the top of the tree
#
# Needs node and npm (the JS packages go to bench/tokens/node_modules).
set -eu

O=${1:-build}
PASSES=${PASSES:-3}
SHARED=${SHARED:-../shared}
corpus=$SHARED/eval/data/scifact/corpus.jsonl
here=bench/tokens
[ -r "$corpus" ] || { echo "run.sh: $corpus: not found (set SHARED)" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rk-bench-tokens.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

make -s O="$O" "$O/librk.a" "$O/bin/rk-tokens" \
    "$O/share/reasonkit/tokenizer/cl100k_base.bpe" \
    "$O/share/reasonkit/tokenizer/o200k_base.bpe"
PKGS="jansson yaml-0.1 sqlite3 libbsd-overlay"
# shellcheck disable=SC2046
cc -std=c11 -O2 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
    $(pkg-config --cflags $PKGS) -Ilib -o "$tmp/tokens-bench" \
    "$here/bench.c" "$O/librk.a" $(pkg-config --libs $PKGS) -lm
[ -d "$here/node_modules/tiktoken" ] && [ -d "$here/node_modules/js-tiktoken" ] &&
    [ -d "$here/node_modules/gpt-tokenizer" ] ||
    (cd "$here" && npm install --no-audit --no-fund --silent)
export RK_TOKENIZER_DIR="$PWD/$O/share/reasonkit/tokenizer"

jq -c '{query: (.title + "\n\n" + .text)}' "$corpus" >"$tmp/docs.ndjson"

echo "# SciFact corpus, in process, best of $PASSES passes"
echo "# name encoding docs bytes tokens best_s MB/s Mtok/s"
status=0
for enc in cl100k_base o200k_base; do
	"$tmp/tokens-bench" $enc "$tmp/docs.ndjson" "$PASSES" \
	    "$tmp/ours.ids" >"$tmp/ours.txt"
	node "$here/bench.js" $enc "$tmp/docs.ndjson" "$PASSES" "$tmp" \
	    >"$tmp/js.txt"
	cat "$tmp/ours.txt" "$tmp/js.txt"
	for lib in tiktoken-wasm js-tiktoken gpt-tokenizer; do
		if cmp -s "$tmp/ours.ids" "$tmp/$lib.ids"; then
			echo "# $enc: ids identical to $lib"
		else
			echo "# $enc: IDS DIFFER from $lib"
			status=1
		fi
	done
	# the margin against each, on the same texts in the same run
	awk -v enc=$enc '
	    $1 == "ours-ids" { ours = $7 }
	    $1 == "ours-count" { count = $7 }
	    FILENAME ~ /js.txt$/ { printf "# %s: ours %.2f MB/s (count only %.2f) " \
	        "= %.1fx %s (%.2f MB/s)\n", enc, ours, count, ours / $7, $1, $7 }' \
	    "$tmp/ours.txt" "$tmp/js.txt"
done

# whole process, as a user runs it: rk-tokens --all over the corpus texts
jq -j '.query' "$tmp/docs.ndjson" >"$tmp/corpus.txt"
ms() {
	t0=$(date +%s%N)
	"$@" >/dev/null
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
}
echo "# whole process: rk-tokens --all over the $(wc -c <"$tmp/corpus.txt") bytes of corpus text: $(ms "$O/bin/rk-tokens" --all "$tmp/corpus.txt") ms"

echo "# adversarial input, rk-tokens --all (one piece each; ms, ms per MB)"
for kind in word spaces; do
	c=a
	[ $kind = spaces ] && c=' '
	for kb in 256 512 1024 2048; do
		head -c $((kb * 1024)) /dev/zero | tr '\0' "$c" >"$tmp/adv"
		t=$(ms "$O/bin/rk-tokens" --all "$tmp/adv")
		echo "$kind ${kb}K $t ms $((t * 1024 / kb)) ms/MB"
	done
done
echo "# the same for npm tiktoken (WASM), far smaller sizes: its merge is quadratic"
node -e '
const { get_encoding } = require("./'"$here"'/node_modules/tiktoken");
const enc = get_encoding("cl100k_base");
for (const [kind, c] of [["word", "a"], ["spaces", " "]])
	for (const kb of [8, 16, 32]) {
		const s = c.repeat(kb * 1024);
		const t0 = process.hrtime.bigint();
		enc.encode_ordinary(s);
		const ms = Number(process.hrtime.bigint() - t0) / 1e6;
		console.log(`${kind} ${kb}K ${ms.toFixed(0)} ms ${(ms * 1024 / kb).toFixed(0)} ms/MB`);
	}
enc.free();'
exit $status
