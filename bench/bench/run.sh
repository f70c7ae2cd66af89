#!/bin/sh
# bench/bench/run.sh [BUILD_DIR] - what rk-bench adds to the model calls.
#
# 1. GSM8K's 1,319 questions with -p raw at -P P (default 16) against the
#    fake server (BUILD_DIR/libexec/rk-fakellm -d L, default 200 ms), R runs
#    (default 3), each --fresh.  Ideal wall time: 1319 * L / P; the ratio
#    to it should be at most 1.1.
# 2. The same questions against the offline model (no waiting at all), R
#    runs: the wall time per question is what rk-bench and its pipeline
#    cost per question (target: at most 2 ms).
# The load average before and after is printed: the machine is shared.
#
# Environment: P, L, R, DATA (default t/fixtures/gsm8k/test.jsonl).

set -eu

build=${1:-build}
P=${P:-16}
L=${L:-200}
R=${R:-3}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
case $build in /*) ;; *) build=$root/$build ;; esac
DATA=${DATA:-$root/t/fixtures/gsm8k/test.jsonl}
PATH=$build/bin:$PATH
tmp=$(mktemp -d)
trap 'kill $fake 2>/dev/null; rm -rf "$tmp"' EXIT
export XDG_DATA_HOME=$tmp/data XDG_CACHE_HOME=$tmp/cache RK_NO_CACHE=1
n=$(grep -c . "$DATA")

now() { date +%s.%N; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
# median, min and max of the numbers on stdin
stats() { sort -n | awk '{ v[NR] = $1 } END { printf "median %.3f  min %.3f  max %.3f\n", v[int((NR + 1) / 2)], v[1], v[NR] }'; }

echo "load average before: $(load)  ($(nproc) cores)"
"$build/libexec/rk-fakellm" -d "$L" >"$tmp/port" &
fake=$!
until [ -s "$tmp/port" ]; do sleep 0.01; done
url=http://127.0.0.1:$(cat "$tmp/port")/v1

ideal=$(awk -v n="$n" -v l="$L" -v p="$P" 'BEGIN { printf "%.3f", n * l / 1000 / p }')
echo "1. $n questions, -p raw -P $P, fake server at $L ms: ideal ${ideal} s"
i=0
: >"$tmp/w1"
while [ "$i" -lt "$R" ]; do
	t0=$(now)
	RK_PROVIDER=openai RK_MODEL=fake/ok RK_BASE_URL=$url \
	    rk-bench --fresh -d "$tmp/b.db" -p raw -P "$P" -f csv "$DATA" >/dev/null
	t1=$(now)
	echo "$t1 - $t0" | bc >>"$tmp/w1"
	i=$((i + 1))
done
printf '   wall s:     '; stats <"$tmp/w1"
printf '   ratio:      '; awk -v i="$ideal" '{ print $1 / i }' "$tmp/w1" | stats

echo "2. $n questions, -p raw -P $P, offline model"
i=0
: >"$tmp/w2"
while [ "$i" -lt "$R" ]; do
	t0=$(now)
	rk-bench --mock --fresh -d "$tmp/m.db" -p raw -P "$P" -f csv "$DATA" >/dev/null
	t1=$(now)
	echo "($t1 - $t0) * 1000 / $n" | bc -l >>"$tmp/w2"
	i=$((i + 1))
done
printf '   ms/question: '; stats <"$tmp/w2"
echo "load average after: $(load)"
