#!/usr/bin/env bats
# A search index is written by one process and read by many: the writer
# leaves no WAL frames behind, which every reader would otherwise read
# again to rebuild its index of the WAL.

load helper

docs() {
	for i in 1 2 3 4 5 6 7 8; do
		printf '{"id":"d%s","text":"quantum field %s theory"}\n' "$i" "$i"
	done
}

@test "rk-search: add, a second add and rm leave an empty WAL" {
	docs >"$TMP/a.jsonl"
	rk-search -i "$TMP/idx" add "$TMP/a.jsonl" 2>/dev/null
	[ ! -s "$TMP/idx-wal" ]
	printf '{"id":"x","text":"one more"}\n' >"$TMP/b.jsonl"
	rk-search -i "$TMP/idx" add "$TMP/b.jsonl" 2>/dev/null
	[ ! -s "$TMP/idx-wal" ]
	run rk-search -i "$TMP/idx" rm x
	assert_status 0
	[ ! -s "$TMP/idx-wal" ]
	run sh -c 'rk-search -i "$0" -k 1 "quantum 3" | jq -r .doc' "$TMP/idx"
	assert_status 0
	assert_output "d3"
}

@test "rk-search: embed leaves an empty WAL" {
	docs >"$TMP/a.jsonl"
	rk-search -i "$TMP/idx" add "$TMP/a.jsonl" 2>/dev/null
	RK_EMBED_PROVIDER=mock rk-search -i "$TMP/idx" embed -m hash 2>/dev/null
	[ ! -s "$TMP/idx-wal" ]
	run rk-search -i "$TMP/idx" stats
	assert_status 0
	assert_match '"vectors":8,"missing":0'
}
