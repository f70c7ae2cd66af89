#!/bin/sh
# tally.sh TAP: the closing line of make check from the bats TAP output.
# A skipped test is a failure, unless optional() in t/helper.bash skipped
# it: its reason is printed and it counts as neither.  Exits 0 only when
# every planned test ran and passed, or was optional.
awk '
/^1\.\./ { plan = substr($0, 4) + 0 }
/^ok / && / # skip optional: / {
	sub(/^ok [0-9]+ /, ""); sub(/ # skip optional: /, ": ")
	print "not run (optional): " $0; opt++; next }
/^ok / && / # skip( |$)/ {
	sub(/^ok [0-9]+ /, ""); sub(/ # skip/, ":")
	print "skipped, counted as failed: " $0
	fail++; next }
/^ok / { pass++ }
/^not ok / { fail++ }
END {
	printf "%d passed, %d failed", pass, fail
	if (opt) printf ", %d optional not run", opt
	printf "\n"
	exit !(fail == 0 && pass > 0 && pass + opt == plan)
}' "$1"
