# Common set-up for every bats file: the freshly built tools first on PATH
# (the GNUmakefile puts them there), a private scratch dir, and an isolated
# XDG tree so no test reads or writes the user's configuration or data.
# Tests read nothing outside the repository: what they need is in t/fixtures.

setup() {
	TMP=$(mktemp -d "${BATS_TMPDIR:-/tmp}/rk-test.XXXXXX")
	export XDG_CONFIG_HOME="$TMP/config" XDG_DATA_HOME="$TMP/data"
	export XDG_CACHE_HOME="$TMP/cache" HOME="$TMP/home"
	export LC_ALL=C.UTF-8
	unset RK_PROVIDER RK_BASE_URL RK_MODEL RK_API_KEY RK_API_KEY_FILE \
	    OPENAI_API_KEY ANTHROPIC_API_KEY RK_TRACE_DB RK_PROTOCOL_PATH \
	    RK_MOCK_CONFIDENCE
	FIXTURES="$BATS_TEST_DIRNAME/fixtures"
	cd "$TMP" || return 1
	if declare -F local_setup >/dev/null; then local_setup; fi
}

teardown() {
	if declare -F local_teardown >/dev/null; then local_teardown; fi
	stop_fake
	cd / && rm -rf "$TMP"
}

# start_fake [ARG ...]: the fake model server (t/fakellm.c) on 127.0.0.1,
# logging to $TMP/fake.log, its base URL in $URL; teardown stops it
start_fake() {
	FAKE="${RK_BUILD:-$BATS_TEST_DIRNAME/../build}/libexec/rk-fakellm"
	[ -x "$FAKE" ] || { echo "no $FAKE (make check-programs)"; return 1; }
	"$FAKE" -B -l "$TMP/fake.log" "$@" >"$TMP/port" &
	FAKE_PID=$!
	until [ -f "$TMP/port" ] && [ "$(wc -l <"$TMP/port")" -ge 2 ]; do
		sleep 0.01
	done
	URL="http://127.0.0.1:$(sed -n 1p "$TMP/port")/v1"
}

stop_fake() {
	if [ -n "${FAKE_PID:-}" ]; then
		kill "$FAKE_PID" 2>/dev/null || true
		wait "$FAKE_PID" 2>/dev/null || true
		FAKE_PID=
	fi
}

# assert_status N: the last `run` exited with N, or show what it printed
assert_status() {
	if [ "$status" -ne "$1" ]; then
		printf 'expected status %s, got %s; output:\n%s\n' \
		    "$1" "$status" "$output" >&2
		return 1
	fi
}

# assert_output TEXT: the last `run` printed exactly TEXT, or the
# difference as diff -u shows it
assert_output() {
	if [ "$output" != "$1" ]; then
		diff -u --label expected --label got <(printf '%s\n' "$1") \
		    <(printf '%s\n' "$output") >&2
		return 1
	fi
}

# optional REASON: skip a test that needs what a machine may lack (for
# example glibc's LD_DEBUG).  make check prints REASON and counts the test
# neither passed nor failed; any other skip counts as a failure there.
optional() {
	skip "optional: $1"
}

# assert_match REGEX: the last `run` printed something matching REGEX
assert_match() {
	if ! printf '%s\n' "$output" | grep -Eq -- "$1"; then
		printf 'no line matches %s in:\n%s\n' "$1" "$output" >&2
		return 1
	fi
}

# jqr FILTER: like jq -c, over stdin, with a tiny dependency footprint
jqr() { jq -c "$@"; }

# words: one word a line; "a | b" and "a|b" are the same three words
words() {
	sed 's/|/ | /g' | tr -s '[:space:]' '\n' | sed '/^$/d'
}

# check_synopsis TOOL: the usage that TOOL --help begins with (up to its
# first empty line) says what the SYNOPSIS of man/TOOL.1 says, word for
# word (where either breaks its lines does not matter)
check_synopsis() {
	"$1" --help | sed '/^$/,$d; 1s/^usage: //' | words >help
	mandoc -Tascii "$BATS_TEST_DIRNAME/../man/$1.1" | col -bx |
	    sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' | sed '1d;$d' | words >synopsis
	run diff -u synopsis help
	assert_status 0
}

# check_manlint TOOL: man/TOOL.1 is clean under mandoc -Tlint -W warning
check_manlint() {
	run mandoc -Tlint -W warning "$BATS_TEST_DIRNAME/../man/$1.1"
	assert_status 0
	assert_output ""
}
