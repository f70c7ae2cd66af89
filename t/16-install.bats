#!/usr/bin/env bats
# make install: the installed tree works on its own

load helper

@test "make install DESTDIR=... PREFIX=... gives a working rk" {
	[ -n "${RK_BUILD:-}" ] || skip "run through make check"
	make -s -C "$BATS_TEST_DIRNAME/.." O="$RK_BUILD" install \
	    DESTDIR="$TMP/inst" PREFIX=/opt/rk >/dev/null
	for f in bin/rk bin/rk-parse bin/rk-prompt bin/rk-llm bin/rk-trace \
	    share/reasonkit/protocols/profiles.yaml share/man/man1/rk.1 \
	    share/man/man5/rk-record.5 share/man/man7/reasonkit.7; do
		[ -e "$TMP/inst/opt/rk/$f" ] || { echo "missing $f"; return 1; }
	done
	# the installed tools find their protocols beside themselves
	PATH=/usr/bin:/bin run "$TMP/inst/opt/rk/bin/rk" think --mock -p quick \
	    -d "$TMP/i.db" -f json "Is it installed?"
	assert_status 0
	[ "$(printf '%s' "$output" | jq -c '.result.steps')" = 7 ]
}

@test "every tool's --help says what the SYNOPSIS of its man page says" {
	local page n=0

	# rk(1) has its own test in t/60-rk.bats
	for page in "$BATS_TEST_DIRNAME"/../man/rk-*.1; do
		page=${page##*/}
		check_synopsis "${page%.1}"
		n=$((n + 1))
	done
	# every rk-* program has its page
	[ "$n" -eq "$(ls "$BATS_TEST_DIRNAME"/../cmd/rk-*.c | wc -l)" ]
}

@test "every man page is clean under mandoc -Tlint -W warning" {
	run mandoc -Tlint -W warning "$BATS_TEST_DIRNAME"/../man/*.[157]
	assert_status 0
	assert_output ""
}

@test "every RK_* variable a program reads is in a man page" {
	local top="$BATS_TEST_DIRNAME/.." v missing=

	for v in $( { grep -rhoE '"RK_[A-Z0-9_]+"' "$top"/lib "$top"/cmd/*.c |
	    tr -d '"'; grep -oE '\bRK_[A-Z0-9_]+' "$top/cmd/rk"; } | sort -u); do
		grep -qE "Ev (.* )?$v( |$)" "$top"/man/* || missing="$missing $v"
	done
	[ -z "$missing" ] || { echo "not in any man page:$missing"; return 1; }
}

@test "the exit-status table is in rk(1) alone; the other pages refer to it" {
	cd "$BATS_TEST_DIRNAME/../man"
	run sh -c 'grep -l "^\.It 7" *.1 *.5 *.7'
	assert_output "rk.1"
	for m in rk-*.1; do
		sed -n '/^\.Sh EXIT STATUS/,/^\.Sh /p' "$m" | grep -q '^\.Xr rk 1' ||
		    { echo "$m does not refer to rk(1)"; return 1; }
	done
}
