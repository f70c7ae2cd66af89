#!/bin/sh
# bench/llm/run.sh [BUILD_DIR] - what rk-llm adds to the time spent waiting
# for a model.
#
# 1. Throughput: N requests (default 500) at -P P (default 10) against the
#    fake server (BUILD_DIR/libexec/rk-fakellm) answering each after L ms
#    (default 200), whole replies and streamed, R runs each (default 2).
#    The ideal wall time is N / P * L; overhead per request is
#    (median wall - ideal) * P / N, the time each of the P slots loses per
#    request.  Also the CPU time of rk-llm per request.
#    Max RSS shows the memory bound: it should not grow with N (records
#    are read through a window of 4P + 16).
# 2. The same N requests answered from the cache (no server, no libcurl).
# 3. Start-up: rk-llm --version against an empty C program, and against an
#    empty C program linked with libcurl (what linking it would cost every
#    run), median of S runs each (default 200), interleaved.
#
# Environment: N, P, L, R, S.

set -eu

build=${1:-build}
N=${N:-500}
P=${P:-10}
L=${L:-200}
R=${R:-2}
S=${S:-200}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
case $build in /*) ;; *) build=$root/$build ;; esac
llm=$build/bin/rk-llm
fake=$build/libexec/rk-fakellm
for f in "$llm" "$fake" "$build/bin/rk-prompt"; do
	[ -x "$f" ] || { echo "bench/llm: no $f; run make first" >&2; exit 2; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rk-bench-llm.XXXXXX")
fpid=
trap '[ -z "$fpid" ] || kill "$fpid" 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM

"$fake" -d "$L" >"$tmp/port" &
fpid=$!
while [ ! -s "$tmp/port" ]; do sleep 0.01; done
url=http://127.0.0.1:$(cat "$tmp/port")/v1

i=0
while [ "$i" -lt "$N" ]; do
	echo "{\"query\":\"benchmark question $i\"}"
	i=$((i + 1))
done | "$build/bin/rk-prompt" gigathink >"$tmp/in"

export RK_PROVIDER=openai RK_BASE_URL=$url RK_MODEL=fake/ok
export XDG_CACHE_HOME="$tmp/cache" RK_MAX_CONCURRENCY=$P

now_ns() { date +%s%N; }

# timed NAME COMMAND...: wall ms to $tmp/NAME, CPU ms to $tmp/NAME.cpu
timed() {
	name=$1
	shift
	t0=$(now_ns)
	/usr/bin/time -f '%U %S %M' -o "$tmp/cpu" "$@" <"$tmp/in" >"$tmp/out"
	t1=$(now_ns)
	echo "$(( (t1 - t0) / 1000 ))" | awk '{ printf "%.3f\n", $1 / 1000 }' \
	    >>"$tmp/$name"
	awk '{ printf "%.1f\n", ($1 + $2) * 1000 }' "$tmp/cpu" >>"$tmp/$name.cpu"
	awk '{ print $3 }' "$tmp/cpu" >>"$tmp/$name.rss"
	if grep -q '"error"' "$tmp/out"; then
		echo "bench/llm: $name: a request failed" >&2
		exit 1
	fi
}

median() { sort -n "$tmp/$1" | awk '{ v[NR] = $1 } END {
	print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

r=0
while [ "$r" -lt "$R" ]; do
	timed whole "$llm" --no-cache -P "$P"
	timed stream "$llm" --no-cache --stream -P "$P"
	r=$((r + 1))
done
"$llm" -P "$P" <"$tmp/in" >/dev/null		# fill the cache
r=0
while [ "$r" -lt "$R" ]; do
	timed cached "$llm" -P "$P"
	r=$((r + 1))
done

ideal=$(awk -v n="$N" -v p="$P" -v l="$L" 'BEGIN { print n / p * l }')
report() {
	awk -v name="$1" -v w="$(median "$1")" -v c="$(median "$1.cpu")" \
	    -v rss="$(median "$1.rss")" \
	    -v ideal="$2" -v n="$N" -v p="$P" 'BEGIN {
	f = "%-7s wall %8.1f ms  ideal %7.1f ms  ratio %5.3f  "
	f = f "overhead/request %6.3f ms  cpu/request %6.3f ms  "
	f = f "max RSS %d KiB\n"
	printf f, name, w, ideal, (ideal > 0 ? w / ideal : 0),
	    (w - ideal) * p / n, c / n, rss }'
}

echo "rk-llm throughput: $N requests, -P $P, server latency $L ms," \
    "median of $R runs"
echo "command: $llm --no-cache [--stream] -P $P <$N requests>" \
    "(RK_PROVIDER=openai, fake server)"
report whole "$ideal"
report stream "$ideal"
awk -v w="$(median cached)" -v n="$N" 'BEGIN {
	printf "cached  wall %8.1f ms  per request %6.3f ms (no server, libcurl not loaded)\n", w, w / n }'

# start-up
printf 'int main(void) { return 0; }\n' >"$tmp/empty.c"
cc -O2 -o "$tmp/empty" "$tmp/empty.c"
if cc -O2 -o "$tmp/empty-curl" "$tmp/empty.c" -Wl,--no-as-needed -lcurl \
    2>/dev/null; then curl_bin=$tmp/empty-curl; else curl_bin=; fi
# batch NAME COMMAND...: the mean wall time of B runs, to $tmp/s-NAME
B=20
batch() {
	name=$1
	shift
	t0=$(now_ns)
	j=0
	while [ "$j" -lt "$B" ]; do
		"$@" >/dev/null
		j=$((j + 1))
	done
	t1=$(now_ns)
	echo "$(( (t1 - t0) / B / 1000 ))" |
	    awk '{ printf "%.3f\n", $1 / 1000 }' >>"$tmp/s-$name"
}
i=0
while [ "$i" -lt "$((S / B))" ]; do
	batch empty "$tmp/empty"
	batch llm "$llm" --version
	[ -z "$curl_bin" ] || batch curl "$curl_bin"
	i=$((i + 1))
done
e=$(median s-empty) l=$(median s-llm)
echo "start-up: median of $((S / B)) batches of $B runs, mean per run (includes fork+exec from sh):"
printf '  empty C program            %7.3f ms\n' "$e"
printf '  rk-llm --version           %7.3f ms  (%.2fx empty)\n' "$l" \
    "$(awk -v a="$l" -v b="$e" 'BEGIN { print a / b }')"
if [ -n "$curl_bin" ]; then
	c=$(median s-curl)
	printf '  empty program + -lcurl     %7.3f ms  (%.2fx empty)\n' "$c" \
	    "$(awk -v a="$c" -v b="$e" 'BEGIN { print a / b }')"
fi
printf '  libcurl linked into rk-llm: '
if ldd "$llm" | grep -q libcurl; then echo yes; else echo no; fi
