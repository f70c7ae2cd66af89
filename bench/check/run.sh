#!/bin/sh
# bench/check/run.sh [-u] [-b BASELINE] [-o BUILD_DIR]: count the
# instructions (valgrind's callgrind, which a busy machine does not
# disturb) that the hot paths of the tree in the current directory take,
# and fail when any is more than 10 % above BASELINE (default: BASELINE
# beside this script).  -u writes the counts to BASELINE instead.
#
# The paths: each stage of `rk think -p paranoid --mock` (rk-parse --steps, every
# rk-prompt and rk-llm, rk-trace), the trace write going into a database
# that holds 10,000 runs; rk-search answering queries on an index of a
# generated 5,000-document corpus; rk-tokens counting a MB of text in each
# encoding; rk-bench itself over 200 GSM8K questions.  All input is
# generated here or in the tree, so the same script measures any revision:
#
#	cp -r bench/check /tmp/bc	# the script and the good baseline
#	git bisect run sh /tmp/bc/run.sh
#
# Exit status: 0 within bounds, 1 a regression, 125 this revision does
# not build or run (git bisect skips it), 255 no valgrind (bisect stops).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
baseline=$here/BASELINE update= build=build-bench
while getopts ub:o: opt; do
	case $opt in
	u) update=1 ;;
	b) baseline=$OPTARG ;;
	o) build=$OPTARG ;;
	*) echo "usage: run.sh [-u] [-b baseline] [-o build-dir]" >&2; exit 255 ;;
	esac
done
command -v valgrind >/dev/null || { echo "run.sh: no valgrind" >&2; exit 255; }
case $build in /*) ;; *) build=$PWD/$build ;; esac
bin=$build/bin
make -s O="$build" WERROR=0 all >/dev/null 2>&1 || {
	echo "run.sh: this revision does not build" >&2; exit 125; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rk-bench-check.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
export XDG_CONFIG_HOME="$tmp/config" XDG_CACHE_HOME="$tmp/cache" \
    XDG_DATA_HOME="$tmp/data" LC_ALL=C.UTF-8
unset RK_PROVIDER RK_TRACE_DB RK_PROTOCOL_PATH RK_MOCK_CONFIDENCE
: >"$tmp/counts"

# count NAME COMMAND...: run COMMAND under callgrind, stdin and stdout as
# given, and note its instruction count as NAME
count() {
	name=$1
	shift
	valgrind -q --tool=callgrind --callgrind-out-file="$tmp/cg" "$@" ||
	    { echo "run.sh: $name: $1 failed" >&2; exit 125; }
	echo "$name $(sed -n 's/^summary: //p' "$tmp/cg")" >>"$tmp/counts"
}

# a paranoid run, stage by stage
q="Should a ten-person team split its monolith into microservices?"
count parse "$bin/rk-parse" --steps -p paranoid >"$tmp/n" </dev/null
n=$(cat "$tmp/n")
count prompt.0 "$bin/rk-prompt" -p paranoid -- "$q" >"$tmp/r" </dev/null
i=1
while [ "$i" -le "$n" ]; do
	count "llm.$i" "$bin/rk-llm" --mock <"$tmp/r" >"$tmp/l"
	count "prompt.$i" "$bin/rk-prompt" -p paranoid <"$tmp/l" >"$tmp/r"
	i=$((i + 1))
done
sh "$here/fill-db.sh" "$bin/rk-trace" "$tmp/traces.db" 10000 "$tmp/r"
count trace "$bin/rk-trace" --expect 1 -d "$tmp/traces.db" <"$tmp/r" >/dev/null

# queries on a generated index
awk -v docs=5000 -f "$here/corpus.awk" >"$tmp/corpus.jsonl"
"$bin/rk-search" -i "$tmp/idx" add "$tmp/corpus.jsonl" </dev/null
printf '%s\n' "bexaca zica" "Soku gufa cepa" "rarada keve movo weca" \
    "vapa caga vama fixi rana" "ta fe" >"$tmp/queries"
count search "$bin/rk-search" -i "$tmp/idx" -k 10 <"$tmp/queries" >/dev/null

# a MB of text through the tokenizer, each encoding
sed 's/^{"_id":"d[0-9]*","text":"//; s/"}$//' "$tmp/corpus.jsonl" |
    head -c 1048576 >"$tmp/mb"
count tokens.cl100k "$bin/rk-tokens" --all -e cl100k_base "$tmp/mb" </dev/null >/dev/null
count tokens.o200k "$bin/rk-tokens" --all -e o200k_base "$tmp/mb" </dev/null >/dev/null

# rk-bench's own work (its stages are counted above) for 200 GSM8K
# questions against the offline model: loading, the loop, scoring, storing
head -n 200 "$PWD/t/fixtures/gsm8k/test.jsonl" >"$tmp/gsm8k.jsonl"
count bench "$bin/rk-bench" --mock -p raw -P 16 -d "$tmp/bench.db" -f csv \
    "$tmp/gsm8k.jsonl" </dev/null >/dev/null

if [ -n "$update" ]; then
	{ echo "# bench/check/run.sh -u: instructions (callgrind), $(cc --version | head -n 1)"
	  cat "$tmp/counts"; } >"$baseline"
	cat "$tmp/counts"
	exit 0
fi
# each count against its baseline; a stage gone from the run fails too
printf '%-14s %14s %14s %8s\n' path baseline now change
awk 'NR == FNR { if ($1 !~ /^#/) base[$1] = $2; next }
	{ now[$1] = $2 }
	END {
		for (k in base) {
			if (!(k in now)) {
				printf "%-14s %14d %14s  MISSING\n", k, base[k], "-"
				bad = 1
				continue
			}
			d = 100 * (now[k] - base[k]) / base[k]
			printf "%-14s %14d %14d %+7.1f%%%s\n", k, base[k], now[k], d,
			    (d > 10 ? "  REGRESSION" : "")
			if (d > 10)
				bad = 1
		}
		for (k in now)
			if (!(k in base))
				printf "%-14s %14s %14d  new\n", k, "-", now[k]
		exit bad
	}' "$baseline" "$tmp/counts" >"$tmp/report" && status=0 || status=1
sort -V "$tmp/report"
[ "$status" -eq 0 ] && echo "bench-check: every path within 10 % of $baseline" ||
    echo "bench-check: REGRESSION against $baseline" >&2
exit "$status"
