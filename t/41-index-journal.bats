#!/usr/bin/env bats
# A search index is written now and then and read by many processes that
# each run alone: it keeps a rollback journal, not a WAL, whose -shm index
# every such process would reset and rebuild at open.

load helper

docs() {
	for i in 1 2 3 4 5 6 7 8; do
		printf '{"id":"d%s","text":"quantum field %s theory"}\n' "$i" "$i"
	done
}

journal() {
	python3 -c 'import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute("pragma journal_mode").
    fetchone()[0])' "$1"
}

@test "rk-search: add, a second add, rm and a query leave no -wal or -shm" {
	docs >"$TMP/a.jsonl"
	rk-search -i "$TMP/idx" add "$TMP/a.jsonl" 2>/dev/null
	printf '{"id":"x","text":"one more"}\n' >"$TMP/b.jsonl"
	rk-search -i "$TMP/idx" add "$TMP/b.jsonl" 2>/dev/null
	run rk-search -i "$TMP/idx" rm x
	assert_status 0
	run sh -c 'rk-search -i "$0" -k 1 "quantum 3" | jq -r .doc' "$TMP/idx"
	assert_status 0
	assert_output "d3"
	[ ! -e "$TMP/idx-wal" ]
	[ ! -e "$TMP/idx-shm" ]
	run journal "$TMP/idx"
	assert_output delete
}

@test "rk-search: embed leaves no -wal or -shm" {
	docs >"$TMP/a.jsonl"
	rk-search -i "$TMP/idx" add "$TMP/a.jsonl" 2>/dev/null
	RK_EMBED_PROVIDER=mock rk-search -i "$TMP/idx" embed -m hash 2>/dev/null
	[ ! -e "$TMP/idx-wal" ] && [ ! -e "$TMP/idx-shm" ]
	run rk-search -i "$TMP/idx" stats
	assert_status 0
	assert_match '"vectors":8,"missing":0'
}

@test "rk-search: an index in WAL mode is searched as it is while another process has it open, and changes when it is alone" {
	docs >"$TMP/a.jsonl"
	rk-search -i "$TMP/idx" add "$TMP/a.jsonl" 2>/dev/null
	# as an older rk-search left it; a reader holds it open meanwhile
	run python3 -c 'import sqlite3, subprocess, sys
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("pragma journal_mode = wal")
c.execute("begin")
c.execute("select count(*) from meta").fetchone()
r = subprocess.run(["rk-search", "-i", sys.argv[1], "-k", "1", "quantum 5"],
    stdin=subprocess.DEVNULL, capture_output=True, text=True)
print(r.returncode, r.stdout.count("\n"), r.stderr == "",
    c.execute("pragma journal_mode").fetchone()[0])' "$TMP/idx"
	assert_status 0
	assert_output "0 1 True wal"
	run sh -c 'rk-search -i "$0" -k 1 "quantum 5" | jq -r .doc' "$TMP/idx"
	assert_output d5
	run journal "$TMP/idx"
	assert_output delete
}

@test "rk-search: an index in WAL mode that its user may not write is searched as it is" {
	docs >"$TMP/a.jsonl"
	rk-search -i "$TMP/idx" add "$TMP/a.jsonl" 2>/dev/null
	python3 -c 'import sqlite3, sys
sqlite3.connect(sys.argv[1]).execute("pragma journal_mode = wal")' "$TMP/idx"
	# as root, as nobody, who may make the -wal and -shm files but not
	# write the index (and runs a copy of rk-search: the build directory
	# may be where nobody may not go)
	mkdir "$TMP/ro"
	cp "$(command -v rk-search)" "$TMP/ro/rk-search"
	chmod 777 "$TMP"
	chmod 755 "$TMP/ro"
	chmod 444 "$TMP/idx"
	as=
	[ "$(id -u)" -ne 0 ] || as="setpriv --reuid=65534 --regid=65534 --clear-groups"
	run $as "$TMP/ro/rk-search" -i "$TMP/idx" -k 1 "quantum 5" </dev/null
	assert_status 0
	assert_match '^\{"doc":"d5",'
	run journal "$TMP/idx"
	assert_output wal
}
