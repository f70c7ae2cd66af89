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

@test "a NUL byte in a text line is an error record, not a question cut short" {
	# the question became "a", exit 0
	for tool in "rk-prompt -p quick" "rk-llm --mock" "rk-trace -d t.db" \
	    "rk-fuse -r" "rk-batch"; do
		run sh -c "printf 'a\\0b\\nok\\n' | $tool 2>/dev/null |
		    jq -c '[.query, .error.code]'"
		assert_output '[null,"bad-utf8"]
["ok",null]'
	done
	run sh -c "printf 'a\\0b\\n' | rk-prompt -p quick >/dev/null"
	assert_status 3
	assert_output "rk-prompt: stdin:1: a NUL byte in a text line"
}

@test "rk-batch: a line that is not a question exits 3, a read error 5" {
	# both exited 1 and 0: the reader's status was never asked
	run sh -c 'printf "a\\377b\\n" | rk-batch >/dev/null'
	assert_status 3
	assert_output "rk-batch: stdin:1: invalid UTF-8"
	mkdir d
	run sh -c 'rk-batch <d'
	assert_status 5
	assert_output "rk-batch: stdin: Is a directory"
	run sh -c 'rk-batch --tally <d 2>&1 >/dev/null | head -1'
	assert_output "rk-batch: stdin: Is a directory"
	run sh -c 'rk-batch --tally <d 2>/dev/null'
	assert_status 5
}

@test "rk-batch: errors about standard input name it stdin, as the others do" {
	run sh -c 'echo "{\"id\":1,\"question\":\"q\",\"rk\":1}" |
	    rk-batch 2>/dev/null | jq -r .error.message'
	assert_output "stdin:1: 'rk' is a field of the record's own"
}

@test "rk-batch -t: a line that is no record becomes an error record, exit 3" {
	# it was passed on as it came, with exit 0
	run sh -c 'printf "{\"a\":\\n" | rk-batch --tally 2>/dev/null |
	    jq -c .error.code'
	assert_output '"bad-json"'
	run sh -c 'printf "{\"a\":\\n" | rk-batch --tally >/dev/null 2>&1'
	assert_status 3
}

@test "rk-batch -t: a record that carries an error makes it exit 1" {
	# rk(1): 1 when some record carries an error; it gave 0
	rec='{"rk":1,"id":"X","query":"q","error":{"code":"x"}}'
	run sh -c "echo '$rec' | rk-batch --tally 2>/dev/null"
	assert_status 1
	assert_output "$rec"
}

# a trace DB of two runs, the second's record damaged as a flipped byte
# leaves it (a raw control character), through the tests' SQL helper
damaged_db() {
	local b
	printf '%s\n' '{"rk":1,"id":"A","query":"first"}' \
	    '{"rk":1,"id":"B","query":"second"}' | rk-trace -d src.db >/dev/null
	b=$(type -P rk-trace)
	"${b%/*}/../libexec/rk-trace-sql" src.db "UPDATE runs SET record =
	    replace(record, 'second', 'sec' || char(1) || 'ond') WHERE id = 'B'"
}

@test "rk-trace merge leaves out a damaged record, export skips it, exit 5" {
	# merge copied it as it was (exit 0); export then wrote invalid JSON
	damaged_db
	run rk-trace -d src.db export
	assert_status 5
	assert_output "rk-trace: B: the stored record is damaged: not exported
{\"rk\":1,\"id\":\"A\",\"query\":\"first\"}"
	run rk-trace -d all.db merge src.db
	assert_status 5
	assert_output "rk-trace: src.db: B: the stored record is damaged: not merged
src.db: 1 added, 0 already there, 0 in conflict, 1 damaged"
	run rk-trace -d all.db export
	assert_status 0
	assert_output '{"rk":1,"id":"A","query":"first"}'
}
