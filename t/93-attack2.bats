#!/usr/bin/env bats
# Hostile inputs found by an adversarial pass: each case failed before its fix.

load helper

@test "a size whose suffix would wrap round is refused, not read as 1K" {
	printf '{"query":"%s"}\n' "$(head -c 3000 /dev/zero | tr '\0' a)" >long
	RK_MAX_RECORD=18014398509481985k run rk-prompt gigathink <long
	assert_status 2
	assert_output "rk-prompt: RK_MAX_RECORD: not a size: '18014398509481985k'"
}
