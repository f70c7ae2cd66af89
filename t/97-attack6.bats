#!/usr/bin/env bats
# Attacks on this session's changes: rk-fuse's sums near DBL_MAX, hits
# whose texts JSON cannot hold.

load helper

# --- rk-fuse: overflow --------------------------------------------------

@test "rk-fuse: sums and weights past DBL_MAX are held to a finite score" {
	printf '%s\n' '{"doc":"a","score":1e308}' '{"doc":"b","score":-1e308}' \
	    '{"doc":"c","score":0}' >l1
	cp l1 l2
	for w in 1,1 1e308,1e308; do
		for n in none zscore; do
			rk-fuse --method combmnz --norm $n -w $w l1 l2 |
			    jq -c '[.doc, .score]' | tr '\n' ' '
			echo
		done
	done >out
	run cat out
	assert_output '["a",1.79769313486231e+308] ["c",0] ["b",-1.79769313486231e+308] 
["a",4.898979] ["c",0] ["b",-4.898979] 
["a",1.79769313486231e+308] ["c",0] ["b",-1.79769313486231e+308] 
["a",1.79769313486231e+308] ["c",0] ["b",-1.79769313486231e+308] '
	# DBL_MAX printed in 15 digits is no number: what it prints reads again
	printf '{"doc":"m","score":1.7976931348623157e308}\n' >mx
	run sh -c 'rk-fuse --norm none --method combsum mx |
	    rk-fuse --norm none --method combsum'
	assert_status 0
	assert_output '{"doc":"m","score":1.79769313486231e308,"rank":1}'
}
