#!/usr/bin/env bats
# Hostile and careless inputs to what the session added (the ANN graph,
# the client options, the search index's journal), found by an adversarial
# pass: each case failed before its fix.

load helper

@test "rk-llm, rk-embed: a bad RK_PARALLEL or RK_RETRIES is named, not -P" {
	for tool in rk-llm rk-embed; do
		RK_PARALLEL=0 run "$tool" --mock </dev/null
		assert_status 2
		assert_output "$tool: RK_PARALLEL: not a number from 1 to 10: '0'"
		RK_RETRIES=1e9 run "$tool" --mock </dev/null
		assert_status 2
		assert_output "$tool: RK_RETRIES: not a number from 0 to 100: '1e9'"
		# the options keep their own names
		RK_PARALLEL=2 run "$tool" --mock -P 0 </dev/null
		assert_status 2
		assert_output "$tool: -P: not a number from 1 to 10: '0'"
		run "$tool" --mock --retries=-1 </dev/null
		assert_status 2
		assert_output "$tool: --retries: not a number from 0 to 100: '-1'"
	done
}

@test "rk-llm, rk-embed: an empty -m or --cache is a usage error, not sent" {
	for tool in rk-llm rk-embed; do
		run "$tool" --mock -m '' </dev/null
		assert_status 2
		assert_output "$tool: -m: an empty name"
		run "$tool" --mock --cache= </dev/null
		assert_status 2
		assert_output "$tool: --cache: an empty name"
	done
	# an empty variable is as if unset
	RK_EMBED_MODEL= run rk-embed --mock </dev/null
	assert_status 0
}

@test "rk-embed: an unknown provider is named as such, model or not" {
	RK_EMBED_PROVIDER=nope RK_PROVIDER=mock run rk-embed </dev/null
	assert_status 4
	assert_match "^rk-embed: unknown provider 'nope' \(known: mock, openai,"
	run rk-embed --provider=nope </dev/null
	assert_status 4
	assert_match "^rk-embed: unknown provider 'nope' \(known: mock, openai,"
}

@test "rk-embed: a bad --api or RK_EMBED_API is refused with --mock too" {
	run rk-embed --mock --api=olama </dev/null
	assert_status 4
	assert_output "rk-embed: --api: not openai or ollama: 'olama'"
	RK_EMBED_API=nope run rk-embed --mock </dev/null
	assert_status 4
	assert_output "rk-embed: --api: not openai or ollama: 'nope'"
}

@test "rk-search: a damaged index whose words have no postings: no hits" {
	# found by the index fuzzer: the ranking took a pointer into an
	# empty (NULL) list of postings, which UBSan stops on
	cp "$BATS_TEST_DIRNAME/fuzz/corpus/index/empty-postings" \
	    "$BATS_TEST_TMPDIR/idx"
	for q in coffee 'caffeine diabetes hours'; do
		run rk-search -i "$BATS_TEST_TMPDIR/idx" "$q" </dev/null
		assert_status 0
		assert_output ''
		run rk-search -i "$BATS_TEST_TMPDIR/idx" --by-doc "$q" \
		    </dev/null
		assert_status 0
		assert_output ''
	done
}

@test "rk-search: a hit whose document has no name is a damaged index" {
	# found by the index fuzzer: a NULL name went to strdup
	cp "$BATS_TEST_DIRNAME/fuzz/corpus/index/null-name" \
	    "$BATS_TEST_TMPDIR/idx"
	run rk-search -i "$BATS_TEST_TMPDIR/idx" 'dog OR tea "health"' \
	    </dev/null
	assert_status 5
	assert_output "rk-search: $BATS_TEST_TMPDIR/idx: index damaged:\
 chunk 2 has no document name"
}

@test "rk-search: add of a tree holding the index skips the index's journal" {
	# the rollback journal is a new file at each commit, beside the
	# index: it was read as a document of the tree (and skipped, binary)
	d=$BATS_TEST_TMPDIR/d
	mkdir -p "$d/a" "$d/zz"
	for i in 1 2 3; do
		echo "document $i about quantum things" >"$d/a/f$i.txt"
	done
	run rk-search -v -i "$d/zz/idx" add "$d" </dev/null
	assert_status 0
	assert_output "rk-search: 3 documents indexed (3 chunks, 0.0 MB)"
}
