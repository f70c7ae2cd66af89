#!/usr/bin/env bats
# rk think as a new user meets it: where the question comes from, options
# anywhere, exit statuses from the stage that failed, the config file,
# help and completion.

load helper

think() { rk think --mock -d "$TMP/t.db" -f json "$@"; }

# start_fake: the fake model server (t/fakellm.c) on 127.0.0.1, in $URL
start_fake() {
	FAKE="${RK_BUILD:-$BATS_TEST_DIRNAME/../build}/libexec/rk-fakellm"
	[ -x "$FAKE" ] || skip "no $FAKE (make)"
	"$FAKE" -B -l "$TMP/fake.log" >"$TMP/port" &
	FAKE_PID=$!
	until [ -f "$TMP/port" ] && [ "$(wc -l <"$TMP/port")" -ge 2 ]; do
		sleep 0.01
	done
	URL="http://127.0.0.1:$(sed -n 1p "$TMP/port")/v1"
}

local_teardown() {
	if [ -n "${FAKE_PID:-}" ]; then
		kill "$FAKE_PID" 2>/dev/null || true
		wait "$FAKE_PID" 2>/dev/null || true
	fi
}

@test "the query is the question: no -- from the wrapper in it" {
	run sh -c 'rk think --mock -t gigathink -f json -d t.db "Is X good?" | jq -r .query'
	assert_output "Is X good?"
	run sh -c 'rk think --mock -p quick -f json -d t.db "Is X good?" | jq -r .query'
	assert_output "Is X good?"
}

@test "options may come after the question; -- ends them" {
	rk think --mock "Should we?" -p deep -f json -d t.db >a.json
	[ "$(jq -c '[.query, .profile]' a.json)" = '["Should we?","deep"]' ]
	run sh -c 'rk think "Is it?" --mock -d t.db -f json | jq -c "[.query, .profile]"'
	assert_output '["Is it?","balanced"]'
	think -t gigathink -- -5 is -p less >b.json
	[ "$(jq -r .query b.json)" = "-5 is -p less" ]
	run think -t gigathink what is -5
	assert_status 2
	assert_output "rk: think: unknown option '-5' (a question starting with - goes after --)"
	think --profile=quick "Long options take =" >c.json
	[ "$(jq -r .profile c.json)" = quick ]
}

@test "an empty or blank question is no question, exit 2, and sends nothing" {
	for q in "" "   " "$(printf ' \t\n ')"; do
		run think "$q"
		assert_status 2
		assert_output "rk: think: no question"
	done
	[ ! -e t.db ]
}

@test "the question from standard input: a pipe, -, a file; lines kept" {
	echo "Is a pipe fine?" | think -t gigathink >a.json
	[ "$(jq -r .query a.json)" = "Is a pipe fine?" ]
	printf 'First line,\nsecond "line".\n\n' >q.txt
	think -t gigathink - <q.txt >b.json
	[ "$(jq -c .query b.json)" = '"First line,\nsecond \"line\"."' ]
	think -t gigathink <q.txt >c.json
	[ "$(jq -c .query c.json)" = '"First line,\nsecond \"line\"."' ]
	run sh -c 'echo q | rk think --mock -d t.db - more words'
	assert_status 2
	assert_output "rk: think: a question as words and from - at once"
}

@test "a question from stdin with an index keeps its lines and quotes" {
	cp "$FIXTURES"/think/*.txt .
	rk-search -i a.db add coffee.txt tea.txt >/dev/null
	printf 'Is "coffee"\tgood\\ for\nhealth?' | think -t gigathink -i a.db >a.json
	[ "$(jq -c '[.query, [.context[].doc], .result.steps]' a.json)" = '["Is \"coffee\"\tgood\\ for\nhealth?",["coffee.txt"],4]' ]
}

@test "the first failing stage's status and message, once: no index 5, bad UTF-8 3" {
	run think -i nosuch.db "q"
	assert_status 5
	assert_output "rk-search: nosuch.db: no such index"
	run think "$(printf 'q\377')"
	assert_status 3
	assert_output "rk-prompt: question: invalid UTF-8"
}

@test "a failed model call gives rk-llm's status, the failed run stored" {
	RK_MOCK_CONFIDENCE=2 run sh -c 'rk think --mock -p quick -d t.db -f json q 2>err'
	assert_status 6
	[ "$(printf '%s' "$output" | jq -c '[.error.code, .error.status]')" = '["bad-config",6]' ]
	run grep -c . err
	assert_output 1
	run rk trace -d t.db -f json ls -s failed
	[ "${#lines[@]}" -eq 1 ]
}

@test "HOME that does not exist is never created; the refusal says why" {
	unset XDG_DATA_HOME
	HOME=$TMP/nohome run rk think --mock -p quick -f json q
	assert_status 5
	assert_match "^rk-trace: $TMP/nohome/.local/share/reasonkit: no place for the trace database \(set XDG_DATA_HOME or RK_TRACE_DB, or give -d\)"
	[ ! -e "$TMP/nohome" ]
}

# --- the config file ------------------------------------------------------

config() {
	mkdir -p "$XDG_CONFIG_HOME/reasonkit"
	cat >"$XDG_CONFIG_HOME/reasonkit/config"
}

@test "rk config: built-in defaults with no file" {
	run rk config
	assert_status 0
	assert_output "provider  -                        default
model     -                        default
base-url  -                        default
profile   balanced                 default
budget    -                        default
format    -                        default
api-key   -                        default"
}

@test "config, environment and flags, in that order; keys redacted" {
	start_fake
	config <<-EOF
	# my settings
	provider = mock
	  profile = quick
	model = fast
	base-url = $URL

	[aliases]
	fast = openai:fake/ok
	EOF
	c=$XDG_CONFIG_HOME/reasonkit/config
	RK_API_KEY=sk-secret-1 RK_FORMAT=json run rk config
	assert_status 0
	assert_output "provider  openai                   $c:8 (alias fast)
model     fake/ok                  $c:8 (alias fast, $c:4)
base-url  $URL $c:5
profile   quick                    $c:3
budget    -                        default
format    json                     environment RK_FORMAT
api-key   (redacted)               environment RK_API_KEY"
	# the config's provider, base URL, profile and alias make the run
	run sh -c 'RK_FORMAT=json rk think -d t.db q | jq -c "[.profile, .steps[0].model]"'
	assert_output '["quick","fake/ok"]'
	# flags over the environment over the config
	RK_PROFILE=deep rk think -d t.db -f json q >a.json
	[ "$(jq -r .profile a.json)" = deep ]
	RK_PROFILE=deep RK_PROVIDER=openai RK_MODEL=fake/echo \
	    rk think -p quick -d t.db -f json q >b.json
	[ "$(jq -c '[.profile, .steps[0].model]' b.json)" = '["quick","fake/echo"]' ]
	rk think --mock -d t.db -f json q >m.json
	[ "$(jq -c '.steps[0].model' m.json)" = '"mock-1"' ]
	# a protocol given on the command line wins over a configured profile
	rk think -t gigathink -d t.db -f json q >c.json
	[ "$(jq -c '[.protocol, .profile]' c.json)" = '["gigathink",null]' ]
}

@test "a bad config line: file:line, exit 4" {
	c=$XDG_CONFIG_HOME/reasonkit/config
	printf 'provider = mock\nmodle = x\n' | config
	run rk think q
	assert_status 4
	assert_output "rk: $c:2: unknown key 'modle'"
	printf 'provider mock\n' | config
	run rk config
	assert_status 4
	assert_output "rk: $c:1: not 'key = value': 'provider mock'"
	printf '[nope]\n' | config
	run rk config
	assert_status 4
	assert_output "rk: $c:1: unknown section '[nope]'"
	printf 'format = yaml\n' | config
	run rk think --mock q
	assert_status 4
	assert_output "rk: format 'yaml' ($c:1): not text or json"
}

# --- cache, help, completion ----------------------------------------------

@test "--no-cache asks the model again" {
	start_fake
	export RK_PROVIDER=openai RK_MODEL=fake/ok RK_BASE_URL=$URL
	rk think -p quick -d t.db -f json q >/dev/null
	n=$(wc -l <fake.log)
	rk think -p quick -d t.db -f json q >/dev/null
	[ "$(wc -l <fake.log)" -eq "$n" ]
	rk think --no-cache -p quick -d t.db -f json q >/dev/null
	[ "$(wc -l <fake.log)" -eq $((2 * n)) ]
}

@test "rk think --help: one line for each option it takes" {
	run rk think --help
	assert_status 0
	assert_match '^usage: rk think'
	for o in -p -t -f -d -i --hybrid --mock --provider -m --base-url \
	    --budget --no-cache --stream --timing --performance-mode -b \
	    --batch-id --hosts -P -u -a -c --cont -n --vote -h; do
		printf '%s\n' "$output" | grep -Eq -- "^  (-[a-zA-Z], )?$o[ ,]|^      $o " ||
		    { echo "no line for $o"; return 1; }
	done
	# and each of them is an option rk think knows
	sed -n 's/^ *\(-[a-zA-Z]\), --.*/\1/p; s/^ *\(--[a-z-]*\) .*/\1/p' <<<"$output" >opts
	[ "$(wc -l <opts)" -eq 26 ]
}

# one command a line, continuation lines joined, blanks squeezed
unfold() {
	sed 's/^usage: //; s/^     *rk /rk /' | awk '
	/^ / { printf " %s", $0; next }
	{ if (NR > 1) print ""; printf "%s", $0 }
	END { print "" }' | tr -s ' '
}

@test "rk --help matches the SYNOPSIS of rk(1)" {
	command -v mandoc >/dev/null || skip "no mandoc"
	rk --help | grep -v 'runs rk-command' | unfold >help
	mandoc -Tascii "$BATS_TEST_DIRNAME/../man/rk.1" | col -bx |
	    sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' | sed '1d;$d;/^$/d' |
	    grep -v '^ *rk command' | unfold >synopsis
	run diff -u synopsis help
	assert_status 0
}

@test "bash completion: commands, options, profiles" {
	[ -r "$BATS_TEST_DIRNAME/../completion/rk.bash" ] || return 1
	complete_words() {
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		COMPREPLY=()
		_rk
		printf '%s\n' "${COMPREPLY[@]}"
	}
	source "$BATS_TEST_DIRNAME/../completion/rk.bash"
	[ "$(complete_words rk th)" = think ]
	[ "$(complete_words rk think --no-c)" = --no-cache ]
	[ "$(complete_words rk think -p qu)" = quick ]
	[ "$(complete_words rk think -t gigat)" = gigathink ]
	[ "$(complete_words rk trace sh)" = show ]
}

@test "make install puts the completions in place" {
	[ -n "${RK_BUILD:-}" ] || skip "run through make check"
	make -s -C "$BATS_TEST_DIRNAME/.." O="$RK_BUILD" install \
	    DESTDIR="$TMP/inst" PREFIX=/opt/rk >/dev/null
	[ -f "$TMP/inst/opt/rk/share/bash-completion/completions/rk" ]
	[ -f "$TMP/inst/opt/rk/share/bash-completion/completions/rk-search" ]
	[ -f "$TMP/inst/opt/rk/share/zsh/site-functions/_rk" ]
	# bash loads it without a word on stderr, and it completes
	run bash -c 'source "$1" && complete -p rk rk-trace' _ \
	    "$TMP/inst/opt/rk/share/bash-completion/completions/rk"
	assert_status 0
	assert_output "complete -F _rk rk
complete -F _rk_tool rk-trace"
}

@test "bash completion: the options of a tool are those of its --help" {
	source "$BATS_TEST_DIRNAME/../completion/rk.bash"
	complete_tool() {
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		COMPREPLY=()
		_rk_tool "$1"
		printf '%s\n' "${COMPREPLY[@]}"
	}
	[ "$(complete_tool rk-search --ch)" = --chunk-size ]
	[ "$(complete_tool rk-prompt --perf)" = --performance-mode ]
	[ "$(complete_tool rk-trace --no-)" = --no-store ]
	[ "$(complete_tool rk-prompt -p qu)" = quick ]
	[ -z "$(complete_tool rk-prompt -P)" ]
	COMP_WORDS=(rk fuse --me) COMP_CWORD=2 COMPREPLY=()
	_rk
	[ "${COMPREPLY[*]}" = --method ]
}

@test "man pages: reasonkit(7) names every tool; rk-record(5) renders cleanly" {
	command -v mandoc >/dev/null || skip "no mandoc"
	man="$BATS_TEST_DIRNAME/../man"
	for f in "$BATS_TEST_DIRNAME"/../cmd/rk-*.c; do
		t=$(basename "$f" .c)
		grep -q "Xr $t 1" "$man/reasonkit.7" || { echo "no $t"; return 1; }
	done
	command -v groff >/dev/null || skip "no groff"
	run sh -c "mandoc -Tman '$man/rk-record.5' | groff -mandoc -Tutf8 -ww 2>&1 >/dev/null"
	assert_output ""
}
