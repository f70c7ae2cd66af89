#!/usr/bin/env bats
# The command line of every tool: one meaning per letter, as rk(1)'s table
# says; --help lists every option on a line; help and errors go where they
# should, with the right status.

load helper

MAN="$BATS_TEST_DIRNAME/../man"

# tools: every rk-* program (each has its page), and rk think
tools() {
	local page

	for page in "$MAN"/rk-*.1; do
		page=${page##*/}
		echo "${page%.1}"
	done
	echo "rk think"
}

# help TOOL: TOOL's --help
help() {
	# shellcheck disable=SC2086
	$1 --help
}

# table: rk(1)'s table of letters, as "letter<TAB>meaning<TAB>tools"
table() {
	sed -n '/^\.Ss Option letters/,/^\.El/p' "$MAN/rk.1" |
	    sed -n 's/^\.It Fl \(.\) Ta \(.*\) Ta \(.*\)$/\1	\2	\3/p'
}

@test "rk(1)'s table of letters: each letter a tool takes is there, meaning the same" {
	local tool line letter row meaning who words w ok bad=

	table >rows
	[ "$(wc -l <rows)" -ge 20 ]
	while read -r tool; do
		help "$tool" | grep -E '^  -[A-Za-z]' >lines ||
		    { bad="$bad
$tool: no option lines in --help"; continue; }
		while IFS= read -r line; do
			letter=${line:3:1}
			row=$(awk -F'\t' -v l="$letter" '$1 == l' rows)
			meaning=$(printf '%s' "$row" | cut -f2)
			who=$(printf '%s' "$row" | cut -f3)
			case ", $who, " in
			*", $tool, "* | ", all, ") ;;
			*) bad="$bad
$tool: -$letter is not in rk(1)'s table for it"; continue ;;
			esac
			# the line says the meaning in one of the table's words
			words=$(printf '%s' "$meaning" | tr -c 'A-Za-z-' ' ')
			ok=
			for w in $words; do
				[ ${#w} -ge 4 ] || continue
				printf '%s' "$line" | grep -qi -- "$w" && ok=1
			done
			[ -n "$ok" ] || bad="$bad
$tool: '$line' does not say '$meaning'"
		done <lines
	done < <(tools)
	# and each tool the table names takes the letter
	while IFS='	' read -r letter meaning who; do
		[ "$who" != all ] || continue
		printf '%s\n' "$who" | tr ',' '\n' | sed 's/^ *//' >named
		while read -r tool; do
			help "$tool" | grep -qE "^  -$letter([ ,]|\$)" ||
			    bad="$bad
$tool: rk(1) says it takes -$letter ($meaning); it does not"
		done <named
	done <rows
	[ -z "$bad" ] || { echo "$bad"; return 1; }
}

@test "-h and -V in every tool; -P is never performance mode" {
	local tool

	while read -r tool; do
		[ "$tool" = "rk think" ] && continue
		help "$tool" >h
		grep -qE '^  -h, --help ' h || { echo "$tool: no -h"; return 1; }
		grep -qE '^  -V, --version ' h || { echo "$tool: no -V"; return 1; }
		! grep -qE '^  -[A-Za-z], --performance-mode' h ||
		    { echo "$tool: a letter for --performance-mode"; return 1; }
		! grep -E '^  -P' h | grep -qv 'in flight' ||
		    { echo "$tool: -P is not jobs"; return 1; }
	done < <(tools)
	# the old letters are refused, not taken for something else
	run rk-prompt -P gigathink "q"
	assert_status 2
	run rk-parse -c -p quick
	assert_status 2
	run rk-analyze-tokens -P -t gigathink "q"
	assert_status 2
	run rk-prompt --performance-mode gigathink "q"
	assert_status 0
}

@test "every option of a tool's SYNOPSIS is a line of its --help" {
	local page tool opt bad=

	for page in "$MAN"/rk-*.1; do
		tool=${page##*/}
		tool=${tool%.1}
		help "$tool" >h
		for opt in $(mandoc -Tascii "$page" | col -bx |
		    sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' | tr ' []|' '\n\n\n\n' |
		    grep -E '^--?[A-Za-z]' | sed 's/=.*//' | sort -u); do
			case $opt in
			--*) grep -qE -- "^ +(-[A-Za-z], )?$opt([= []|\$)" h ;;
			*) for ((i = 1; i < ${#opt}; i++)); do
				grep -qE -- "^  -${opt:i:1}([ ,]|\$)" h || break
			   done
			   [ "$i" -eq "${#opt}" ] ;;
			esac || bad="$bad $tool:$opt"
		done
	done
	[ -z "$bad" ] || { echo "not in --help:$bad"; return 1; }
}

@test "every long option of a tool's --help is in its man page" {
	local page tool opt bad=

	for page in "$MAN"/rk-*.1; do
		tool=${page##*/}
		tool=${tool%.1}
		mandoc -Tascii "$page" | col -bx >m
		for opt in $(help "$tool" | grep -oE -- '^ +(-[A-Za-z], )?--[a-z-]+' |
		    sed 's/.*--/--/'); do
			case $opt in
			--help | --version) continue ;;
			esac
			grep -qE -- "(^|[^a-z-])$opt([^a-z-]|\$)" m ||
			    bad="$bad $tool:$opt"
		done
	done
	[ -z "$bad" ] || { echo "not in the man page:$bad"; return 1; }
}

@test "no line of a tool's --help is wider than 80 columns" {
	local tool wide=

	while read -r tool; do
		help "$tool" >h
		awk 'length > 80 { bad = 1 } END { exit bad }' h ||
		    wide="$wide $tool"
	done < <(tools)
	[ -z "$wide" ] || { echo "wider than 80:$wide"; return 1; }
}

@test "-h and --help on stdout with exit 0; a bad option on stderr with exit 2" {
	local tool

	while read -r tool; do
		[ "$tool" = "rk think" ] && continue
		$tool -h >out 2>err || { echo "$tool -h: $?"; return 1; }
		[ -s out ] && [ ! -s err ] || { echo "$tool -h: not on stdout"; return 1; }
		$tool --help >out2 2>err
		cmp -s out out2 || { echo "$tool: -h and --help differ"; return 1; }
		head -1 out | grep -q "^usage: $tool " ||
		    { echo "$tool: no usage line"; return 1; }
		run sh -c "$tool --no-such-option 2>err >out; echo \$?"
		[ "$output" = 2 ] || { echo "$tool: bad option exits $output"; return 1; }
		[ ! -s out ] && [ -s err ] || { echo "$tool: bad option not on stderr"; return 1; }
	done < <(tools)
}

@test "a bad RK_MAX_* is a usage error of the tool, said once" {
	RK_MAX_RECORD=lots run rk-prompt gigathink q
	assert_status 2
	assert_output "rk-prompt: RK_MAX_RECORD: not a size: 'lots'"
	RK_MAX_CONCURRENCY=0 run rk-llm --mock </dev/null
	assert_status 2
	assert_output "rk-llm: RK_MAX_CONCURRENCY: not 1..1024: '0'"
}

@test "-f takes the formats a tool names, and says which" {
	run rk-fuse -f xml one
	assert_status 2
	assert_output "rk-fuse: -f: ndjson or trec, not 'xml'"
	run rk-bench -f xml --mock x.jsonl
	assert_status 2
	assert_output "rk-bench: -f: text, json or csv, not 'xml'"
	run rk-trace -f xml ls
	assert_status 2
	assert_output "rk-trace: -f: json or text, not 'xml'"
}
