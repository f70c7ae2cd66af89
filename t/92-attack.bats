#!/usr/bin/env bats
# Failures an attack on the tools found (hostile input, races, damaged
# databases), one test each.

load helper

@test "rk-search: adds racing to make a new index all land, none is lost" {
	# each found the file empty and made the tables; the losers failed
	# and removed the index the winner had filled (exit 0, docs gone)
	for i in 1 2 3 4 5 6 7 8; do
		echo "word$i and some text" >"d$i.txt"
	done
	for i in 1 2 3 4 5 6 7 8; do
		{ rk-search -q -i new.db add "d$i.txt"; echo $? >"rc$i"; } &
	done
	wait
	run cat rc1 rc2 rc3 rc4 rc5 rc6 rc7 rc8
	assert_output "$(printf '0\n%.0s' 1 2 3 4 5 6 7 8)"
	run sh -c 'rk-search -i new.db stats | jq .docs'
	assert_output 8
}
