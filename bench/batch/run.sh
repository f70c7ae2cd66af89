#!/bin/sh
# bench/batch/run.sh BUILD [what ...]: rk think -b, measured (see RESULTS).
#   rss N       max RSS of each stage of a quick batch of N questions
#               (offline model), from GNU time around every stage
#   xargs N S   N questions by rk think -b against S of them by
#               xargs -P 2 rk think, one process chain per question
#   fake N      N questions against rk-fakellm with 200 ms a reply, -P 32
# Each figure is the median of three runs with their min-max.
set -eu
build=$(cd "${1:?usage: run.sh BUILD [rss N | xargs N S | fake N] ...}" && pwd)
shift
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export XDG_DATA_HOME="$tmp/data" XDG_CACHE_HOME="$tmp/cache" \
    XDG_CONFIG_HOME="$tmp/config" PATH="$build/bin:$PATH" LC_ALL=C.UTF-8
unset RK_PROVIDER RK_MODEL RK_BASE_URL RK_TRACE_DB

questions() {
	awk -v n="$1" 'BEGIN { for (i = 1; i <= n; i++)
	    printf "Should team %d move its service %d to a new database?\n", i % 97, i }'
}

# med3 CMD: run CMD three times, print "median (min-max)" of its seconds
med3() {
	for i in 1 2 3; do
		rm -f "$tmp/t.db"*
		s=$(date +%s.%N)
		"$@" >/dev/null 2>&1 || true
		e=$(date +%s.%N)
		echo "$e - $s" | bc
	done | sort -n | tr '\n' ' ' | awk '{ printf "%.2f (%.2f-%.2f)", $2, $1, $3 }'
}

rss() {
	questions "$1" >"$tmp/q"
	mkdir -p "$tmp/wrap"
	for t in rk-batch rk-prompt rk-llm rk-trace; do
		printf '#!/bin/sh\nexec /usr/bin/time -a -o "%s/rss" -f "%%C %%M" "%s" "$@"\n' \
		    "$tmp" "$build/bin/$t" >"$tmp/wrap/$t"
		chmod +x "$tmp/wrap/$t"
	done
	: >"$tmp/rss"
	PATH="$tmp/wrap:$PATH" "$build/bin/rk" think --mock -p quick \
	    -b "$tmp/q" -d "$tmp/t.db" -f json >/dev/null 2>&1
	# the largest of each kind of stage, in KB
	awk -v n="$1" '{ k = $1; sub(".*/", "", k)
	    if ($1 ~ /rk-batch/ && / --tally /) k = "rk-batch --tally"
	    if ($1 ~ /rk-trace/ && / done /) k = "rk-trace done"
	    if ($NF > m[k]) m[k] = $NF }
	    END { for (k in m) printf "%7d questions  %-14s %6d KB\n", n, k, m[k] }' \
	    "$tmp/rss" | sort -k3
	rm -f "$tmp/t.db"*
}

xargs_vs() {
	questions "$1" >"$tmp/q"
	questions "$2" >"$tmp/qs"
	b=$(med3 rk think --mock -p quick -b "$tmp/q" -d "$tmp/t.db" -f json)
	x=$(med3 sh -c "xargs -d '\n' -n 1 -P 2 rk think --mock -p quick -d '$tmp/t.db' -f json <'$tmp/qs'")
	echo "rk think -b, $1 questions:           $b s"
	echo "xargs -P 2 rk think, $2 questions:     $x s"
	echo "$b $x" | awk -v n="$1" -v s="$2" '{ printf "questions/s: %.1f against %.1f, %.1fx\n", n / $1, s / $3, (n / $1) / (s / $3) }'
}

fake() {
	questions "$1" >"$tmp/q"
	"$build/libexec/rk-fakellm" -d 200 >"$tmp/port" &
	fpid=$!
	until [ -s "$tmp/port" ]; do sleep 0.05; done
	steps=$(rk-parse --steps -p quick)
	t=$(RK_MODEL=fake/ok RK_MAX_CONCURRENCY=32 med3 rk think --provider openai-compatible \
	    --base-url "http://127.0.0.1:$(sed -n 1p "$tmp/port")/v1" \
	    --no-cache -p quick -P 32 -b "$tmp/q" -d "$tmp/t.db" -f json)
	kill "$fpid"
	echo "$1 questions, $steps model steps each, 200 ms a reply, -P 32: $t s"
	# each rk-llm stage keeps 32 requests in flight: 160 questions/s pass
	# each stage at best, and the first takes a step of each stage more
	echo "$t" | awk -v n="$1" -v k="$steps" '{ ideal = n / 160 + k * 0.2
	    printf "%.1f questions/s; ideal %.1f s (%d/160 s + %d steps of 0.2 s): %.0f %% of the ideal rate\n", n / $1, ideal, n, k, 100 * ideal / $1 }'
}

while [ $# -gt 0 ]; do
	case $1 in
	rss) rss "$2"; shift 2 ;;
	xargs) xargs_vs "$2" "$3"; shift 3 ;;
	fake) fake "$2"; shift 2 ;;
	*) echo "run.sh: unknown '$1'" >&2; exit 2 ;;
	esac
done
