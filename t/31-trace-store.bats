#!/usr/bin/env bats
# rk-trace: a store that stays small and private, commands like git, last,
# search, import, merge and batches.

load helper

local_setup() {
	T="$FIXTURES/trace"
	BAL=01M7W4N5E05Q2W7N9R1T6Y0VAB
	DEEP=01M7Z6TB8A8H3K5M7P9R1T3V5X
	FAIL=01M727H6000A2B4C6D8E0F2G4H
	ONE=01M3VNBWG03N5P7Q9R1S3T5V7W
	CTX=01M89XTK806A8B0C2D4E6F8G0H
}

store_all() {
	cat "$T/single.ndjson" "$T/failed.ndjson" "$T/balanced.ndjson" \
	    "$T/deep.ndjson" "$T/context.ndjson" |
	    rk-trace -d "${1:-t.db}" >/dev/null || [ $? -eq 1 ]
}

sql() {
	for b in $(type -ap rk-trace); do
		if [ -x "${b%/*}/../libexec/rk-trace-sql" ]; then
			"${b%/*}/../libexec/rk-trace-sql" "$@"
			return
		fi
	done
	return 1
}

# a run of batch $1, item $2, question $3, status completed unless $4
batch_run() {
	id=$(printf '01M9B%021d' "$5")
	if [ "${4:-completed}" = completed ]; then
		printf '{"rk":1,"id":"%s","query":"%s","batch":"%s","item":%s,"result":{"confidence":0.9}}\n' \
		    "$id" "$3" "$1" "$2"
	else
		printf '{"rk":1,"id":"%s","query":"%s","batch":"%s","item":%s,"error":{"code":"x","message":"m"}}\n' \
		    "$id" "$3" "$1" "$2"
	fi
}

# --- the WAL and the mode of the files ----------------------------------

@test "store: one process per run keeps the WAL under its bound" {
	# 200 runs of about 8 pages each: 1,600 pages written, 256 allowed
	i=0
	while [ "$i" -lt 200 ]; do
		sed "s/$BAL/01M7W4N5E05Q2W7N9R1T$(printf %06d "$i")/" \
		    "$T/balanced.ndjson" | rk-trace -d t.db >/dev/null
		i=$((i + 1))
	done
	wal=$(stat -c %s t.db-wal)
	[ "$wal" -lt $((300 * 4120)) ] || { echo "WAL $wal bytes"; false; }
	[ "$(sql t.db 'SELECT count(*) FROM runs')" -eq 200 ]
}

@test "store: the database, -wal and -shm are 0600 in a 0755 directory" {
	umask 022
	mkdir -m 755 d
	rk-trace -d d/t.db store "$T/single.ndjson" >/dev/null
	run stat -c '%a %n' d/t.db d/t.db-wal d/t.db-shm
	assert_output "600 d/t.db
600 d/t.db-wal
600 d/t.db-shm"
	rk-trace -d d/m.db merge d/t.db >/dev/null
	[ "$(stat -c %a d/m.db)" = 600 ]
}

@test "store: an existing database keeps its mode" {
	umask 022
	rk-trace -d t.db store "$T/single.ndjson" >/dev/null
	chmod 640 t.db
	rk-trace -d t.db store "$T/deep.ndjson" >/dev/null
	[ "$(stat -c %a t.db)" = 640 ]
}

# --- the command line like git -------------------------------------------

@test "rk-trace: an unknown command is exit 2, even when a file has its name" {
	cp "$T/single.ndjson" list
	run rk-trace -d t.db list
	assert_status 2
	assert_match '^rk-trace: list: no such command$'
	run rk-trace -d t.db lss
	assert_status 2
	assert_match '^rk-trace: lss: no such command$'
	[ ! -e t.db ]
	run rk trace -d t.db lss
	assert_status 2
	[ ! -e t.db ]
}

@test "rk-trace: -d and -f come before or after the command" {
	store_all
	rk-trace -d t.db -f json show "$BAL" >a
	rk-trace show -f json "$BAL" -d t.db >b
	cmp "$T/balanced.ndjson" a
	cmp a b
	run rk-trace ls -d t.db -n 1 -f json
	assert_match "^\\{\"id\":\"$CTX\""
}

@test "rk-trace: alone on a terminal it shows the last run, never reads" {
	command -v script >/dev/null || skip "no script(1)"
	store_all
	RK_TRACE_DB=t.db NO_COLOR=1 script -qec rk-trace /dev/null </dev/null |
	    tr -d '\r' >out
	head -1 out | grep -qx "run $CTX"
	RK_TRACE_DB=t.db NO_COLOR=1 script -qec 'rk-trace last' /dev/null \
	    </dev/null | tr -d '\r' | cmp out -
}

@test "last: the newest run, or the newest the filters select" {
	store_all
	rk-trace -d t.db -f json last >out
	cmp "$T/context.ndjson" out
	rk-trace -d t.db last -f json -p balanced >out
	cmp "$T/balanced.ndjson" out
	run rk-trace -d t.db last -s failed -f json -t nosuch
	assert_status 0
	assert_output ""
}

@test "search: every word in the question, the answers or the step texts" {
	store_all
	ids() { rk-trace -d t.db -f json search "$@" | jq -r .id | tr '\n' ' '; }
	[ "$(ids monolith)" = "$DEEP $BAL " ]
	[ "$(ids MONOLITH coordination forty)" = "$DEEP " ]
	[ "$(ids runbook)" = "$CTX " ]
	[ "$(ids copper)" = "$FAIL " ]
	[ "$(ids monolith copper)" = "" ]
	[ "$(ids -p quick copper)" = "$FAIL " ]
	[ "$(ids -p deep copper)" = "" ]
	# FTS5 syntax in the words is only text
	run rk-trace -d t.db search 'AND' '"(' 'NEAR(x' '*'
	assert_status 0
	assert_output ""
	run rk-trace -d t.db search
	assert_status 2
}

@test "search: a replaced or removed run is searched as it is now" {
	store_all
	sed 's/monolith/mainframe/g' "$T/balanced.ndjson" |
	    rk-trace -d t.db >/dev/null
	[ "$(rk-trace -d t.db -f json search monolith | jq -r .id)" = "$DEEP" ]
	[ "$(rk-trace -d t.db -f json search mainframe | jq -r .id)" = "$BAL" ]
	rk-trace -d t.db rm "$BAL"
	[ "$(rk-trace -d t.db -f json search mainframe)" = "" ]
	[ "$(sql t.db 'SELECT count(*) FROM runs_text')" -eq 4 ]
}

# --- import and merge ---------------------------------------------------

@test "import: export | import round-trips byte for byte" {
	store_all
	rk-trace -d t.db export >a
	run sh -c 'rk-trace -d t.db export | rk-trace -d copy.db import'
	assert_status 1
	assert_output ""
	rk-trace -d copy.db export >b
	cmp a b
}

@test "merge: adds what is missing, twice adds nothing" {
	cat "$T/single.ndjson" "$T/balanced.ndjson" | rk-trace -d a.db >/dev/null
	cat "$T/balanced.ndjson" "$T/deep.ndjson" | rk-trace -d b.db >/dev/null
	run rk-trace merge a.db b.db -d all.db
	assert_status 0
	assert_output "a.db: 2 added, 0 already there, 0 in conflict
b.db: 1 added, 1 already there, 0 in conflict"
	run rk-trace -d all.db -f json merge b.db a.db
	assert_status 0
	assert_output '{"db":"b.db","added":0,"present":2,"conflicts":0,"damaged":0}
{"db":"a.db","added":0,"present":2,"conflicts":0,"damaged":0}'
	cat "$T/single.ndjson" "$T/balanced.ndjson" "$T/deep.ndjson" >want
	rk-trace -d all.db export | cmp want -
	[ "$(rk-trace -d all.db -f json search monorepo | jq -r .id)" = "$DEEP" ]
}

@test "merge: a conflict is reported, the stored run kept, exit 1" {
	rk-trace -d a.db <"$T/balanced.ndjson" >/dev/null
	sed 's/monolith/mainframe/' "$T/balanced.ndjson" |
	    rk-trace -d b.db >/dev/null
	rk-trace -d b.db <"$T/deep.ndjson" >/dev/null
	run rk-trace -d a.db merge b.db
	assert_status 1
	assert_output "rk-trace: b.db: $BAL: conflicts with the stored run, which is kept
b.db: 1 added, 0 already there, 1 in conflict"
	rk-trace -d a.db -f json show "$BAL" | cmp "$T/balanced.ndjson" -
}

@test "merge: another schema version or a missing file is refused, exit 5" {
	rk-trace -d a.db <"$T/balanced.ndjson" >/dev/null
	rk-trace -d b.db <"$T/deep.ndjson" >/dev/null
	sql b.db 'PRAGMA user_version = 1'
	run rk-trace -d a.db merge b.db
	assert_status 5
	assert_output "rk-trace: b.db: schema version 1, not 2: not merged"
	run rk-trace -d a.db merge nosuch.db
	assert_status 5
	assert_output "rk-trace: nosuch.db: No such file or directory"
	[ ! -e nosuch.db ]
	[ "$(rk-trace -d a.db export | wc -l)" -eq 1 ]
}

# --- batches ------------------------------------------------------------

@test "batch: ls, export and done select a batch" {
	{
		batch_run b1 '"q1"' "One?" completed 1
		batch_run b1 '"q2"' "Two?" failed 2
		batch_run b1 3 "Three?" completed 3
		batch_run b1 '"q1"' "One?" completed 4
		batch_run b2 '"q1"' "Other?" completed 5
	} >in
	rk-trace -d t.db <in >/dev/null || true
	run sql t.db "SELECT batch, item, status FROM runs ORDER BY id"
	assert_output "b1|q1|completed
b1|q2|failed
b1|3|completed
b1|q1|completed
b2|q1|completed"
	[ "$(rk-trace -d t.db -f json ls --batch b1 | wc -l)" -eq 4 ]
	run sh -c 'rk-trace -d t.db -f json ls --batch b2 | jq -c "[.batch, .item]"'
	assert_output '["b2","q1"]'
	run sh -c 'rk-trace -d t.db -f json ls -n 1 -s completed --batch b1 |
	    jq -c "[.batch, .item]"'
	assert_output '["b1","q1"]'

	rk-trace -d t.db export --batch b2 | cmp <(sed -n 5p in) -
	run rk-trace -d t.db done --batch b1
	assert_status 0
	assert_output '{"batch":"b1","item":"3","query":"Three?"}
{"batch":"b1","item":"q1","query":"One?"}'
	run rk-trace -d t.db done --batch nosuch
	assert_output ""
	run rk-trace -d t.db done
	assert_status 2
}

@test "batch: a version 1 database is migrated, batches and text filled in" {
	: >v1.db
	sql v1.db "CREATE TABLE runs (id TEXT PRIMARY KEY NOT NULL,
	    created TEXT NOT NULL, stored TEXT NOT NULL, query TEXT,
	    profile TEXT, protocols TEXT NOT NULL DEFAULT '',
	    status TEXT NOT NULL, confidence REAL, pass INTEGER,
	    min_confidence REAL, tokens_in INTEGER NOT NULL DEFAULT 0,
	    tokens_out INTEGER NOT NULL DEFAULT 0,
	    estimated INTEGER NOT NULL DEFAULT 0,
	    llm_ms REAL NOT NULL DEFAULT 0, other_ms REAL NOT NULL DEFAULT 0,
	    steps INTEGER NOT NULL DEFAULT 0, record TEXT NOT NULL);
	    INSERT INTO runs (id, created, stored, query, status, record)
	    VALUES ('a', '2026-01-01', '2026-01-01', 'Why blue?', 'completed',
	    '{\"id\":\"a\",\"query\":\"Why blue?\",\"batch\":\"b\",\"item\":7}');
	    PRAGMA user_version = 1"
	run rk-trace -d v1.db done --batch b
	assert_status 0
	assert_output '{"batch":"b","item":"7","query":"Why blue?"}'
	[ "$(sql v1.db 'PRAGMA user_version')" -eq 2 ]
	[ "$(rk-trace -d v1.db -f json search blue | jq -r .id)" = a ]
}

@test "a database named with -d or RK_TRACE_DB that is not there is an error for reading, empty for done" {
	run rk-trace -d typo.db ls
	assert_status 5
	assert_output "rk-trace: typo.db: No such file or directory"
	RK_TRACE_DB=typo.db run rk-trace last
	assert_status 5
	run rk-trace -d typo.db done --batch b
	assert_status 0
	assert_output ""
	[ ! -e typo.db ]
}
