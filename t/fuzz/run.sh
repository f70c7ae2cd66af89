#!/bin/sh
# Run each harness for a while and say what it did:
#	sh t/fuzz/run.sh builddir seconds name ...
# Each harness starts from its seeds (t/fuzz/corpus/NAME, only read) and
# what earlier runs found (builddir/corpus/NAME, where new inputs go), with
# t/fuzz/NAME.dict if there is one.  A crash, a leak, a timeout (-timeout)
# or more memory than -rss_limit_mb stops that harness and leaves the input
# in builddir/crashes; the others still run, and the exit status is 1.
# One line per harness: executions, coverage (libFuzzer's cov: edges and
# ft: features), the corpus size, the result.
set -u
fo=$1 secs=$2
shift 2
mkdir -p "$fo/log" "$fo/crashes"
printf '%-10s %6s %10s %6s %7s %6s  %s\n' harness secs execs cov ft corpus \
    result
status=0
for name; do
	bin=$fo/fuzz/$name log=$fo/log/$name.log
	mkdir -p "$fo/corpus/$name"
	dict=
	[ -f "t/fuzz/$name.dict" ] && dict=-dict=t/fuzz/$name.dict
	rm -f "$fo/crashes/$name-"*
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	    -close_fd_mask=3 -print_final_stats=1 \
	    -artifact_prefix="$fo/crashes/$name-" $dict \
	    "$fo/corpus/$name" "t/fuzz/corpus/$name" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -n 1)
	cov=$(printf '%s\n' "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
	ft=$(printf '%s\n' "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	corp=$(printf '%s\n' "$last" | sed -n 's/.* corp: \([0-9]*\).*/\1/p')
	result=ok
	if [ "$rc" -ne 0 ]; then
		result="FAILED: $(ls "$fo/crashes/$name-"* 2>/dev/null |
		    head -n 1) (see $log)"
		status=1
	fi
	printf '%-10s %6s %10s %6s %7s %6s  %s\n' "$name" "$secs" \
	    "${execs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$result"
done
exit $status
