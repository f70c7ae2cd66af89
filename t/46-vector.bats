#!/usr/bin/env bats
# lib/search/vector.c through its test driver: top-k against a float64
# brute force, the SIMD kernels against plain C, stores and per-chunk
# blobs written, read back and damaged.

load helper

local_setup() {
	VT="$RK_BUILD/libexec/rk-vec-test"
}

# topk KERNEL ARGS...: run the check; optional where the CPU lacks KERNEL
topk() {
	run "$VT" topk "$@"
	if [ "$status" -eq 2 ] && [ "$output" = "rk-vec-test: $1: not supported here" ]; then
		optional "no $1 on this CPU"
	fi
}

# patch FILE OFFSET HEX: overwrite bytes in place
patch() {
	printf "$(printf '%s' "$3" | sed 's/../\\x&/g')" |
	    dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

@test "vector: exact top 10 equals the float64 ranking (plain C)" {
	topk c 3000 64 10 0 1
	assert_status 0
	assert_output "ok 20"
}

@test "vector: exact top 10 equals the float64 ranking (SSE2)" {
	topk sse2 3000 100 10 0 2
	assert_status 0
	assert_output "ok 20"
}

@test "vector: exact top 10 equals the float64 ranking (AVX2)" {
	topk avx2 3000 100 10 0 3
	assert_status 0
	assert_output "ok 20"
}

@test "vector: int8 scan and re-rank of 50 equals the float64 ranking" {
	topk avx2 3000 96 10 50 4
	assert_status 0
	assert_output "ok 20"
	topk c 3000 96 10 50 4
	assert_status 0
	assert_output "ok 20"
}

@test "vector: int8 scan and re-rank equals float64 ranking (AVX-512 VNNI)" {
	topk avx512vnni 3001 101 10 50 7
	assert_status 0
	assert_output "ok 20"
	topk avx512vnni 2999 768 10 100 8
	assert_status 0
	assert_output "ok 20"
}

# every line KERNEL agrees CASES or KERNEL absent, plain C present
@test "vector: every kernel's int32 dot products equal a plain loop's" {
	run "$VT" qdot 11
	assert_status 0
	assert_match '^c agrees 28512$'
	[ "${#lines[@]}" -eq 4 ]
	for l in "${lines[@]}"; do
		case $l in
		"c agrees 28512" | "sse2 "* | "avx2 "* | "avx512vnni "*) ;;
		*) echo "$l" >&2; return 1 ;;
		esac
		case $l in
		*" agrees 28512" | *" absent") ;;
		*) echo "$l" >&2; return 1 ;;
		esac
	done
}

@test "vector: k larger than the store gives every vector, ranked" {
	topk c 7 33 10 0 5
	assert_status 0
	assert_output "ok 20"
	topk c 7 33 10 3 5
	assert_status 0
	assert_output "ok 20"
}

# k = N candidates of N: a vector the scan's streams miss, or read twice,
# is missing from the answer
@test "vector: the int8 scan reads each vector once, N 2 to 9 and near 64" {
	for kernel in c avx512vnni; do
		for n in 2 3 4 5 6 7 8 9 63 64 65 66 67 127 128 129 \
		    255 256 257; do
			run "$VT" topk $kernel $n 17 $n $((n - 1)) $n
			case $output in
			*": $kernel: not supported here") continue 2 ;;
			esac
			assert_status 0
			assert_output "ok 20"
		done
	done
}

@test "vector: the SIMD kernels agree with plain C, odd dimensions" {
	run "$VT" agree 2000 101 10 0 6
	assert_status 0
	assert_match '^c agrees$'
	refute_differs
	run "$VT" agree 2000 101 10 40 6
	assert_status 0
	refute_differs
}

refute_differs() {
	if printf '%s\n' "$output" | grep -q differs; then
		printf '%s\n' "$output" >&2
		return 1
	fi
}

@test "vector: a store written and read back (copied and in place)" {
	"$VT" write s.vec
	[ "$(wc -c <s.vec)" -eq 176 ]
	run "$VT" load s.vec
	assert_status 0
	assert_output "3 4
7 0.1826 0.3651 0.5477 0.7303
8 -0.8944 0.0000 0.4472 0.0000
9 0.0000 0.0000 0.0000 1.0000"
}

# damaged FILE MESSAGE: loading fails with status 3 and MESSAGE
damaged() {
	run "$VT" load "$1"
	assert_status 3
	assert_output "$2"
}

@test "vector: damaged stores are rejected" {
	"$VT" write s.vec
	head -c 175 s.vec >short.vec
	damaged short.vec "vector: damaged: sizes do not match the store's length"
	head -c 20 s.vec >tiny.vec
	damaged tiny.vec "vector: not a vector store"
	cp s.vec magic.vec && patch magic.vec 0 58
	damaged magic.vec "vector: not a vector store"
	cp s.vec count.vec && patch count.vec 16 0000000000000010
	damaged count.vec "vector: damaged: sizes do not match the store's length"
	cp s.vec dim.vec && patch dim.vec 8 00000000
	damaged dim.vec "vector: damaged: sizes do not match the store's length"
	cp s.vec huge.vec && patch huge.vec 8 01400000
	damaged huge.vec "vector: damaged: sizes do not match the store's length"
	cp s.vec rsv.vec && patch rsv.vec 24 01
	damaged rsv.vec "vector: damaged: sizes do not match the store's length"
}

@test "vector: damaged contents are rejected" {
	"$VT" write s.vec
	cp s.vec nan.vec && patch nan.vec 132 0000c07f
	damaged nan.vec "vector: damaged: a float is not finite"
	cp s.vec long.vec && patch long.vec 128 0000803f
	damaged long.vec "vector: damaged: not of unit length"
	cp s.vec scale.vec && patch scale.vec 68 00000000
	damaged scale.vec "vector: damaged: bad scale"
	cp s.vec q.vec && patch q.vec 101 80
	damaged q.vec "vector: damaged: int8 out of range"
}

@test "vector: per-chunk blobs: sizes and contents checked" {
	f=9a99193f0000000000000000cdcc4c3f
	run "$VT" chunk "$f" 0402013c5f00007f
	assert_status 0
	assert_output "1 4
1 0.6000 0.0000 0.0000 0.8000"
	run "$VT" chunk "${f}00" 0402013c5f00007f
	assert_status 3
	assert_output "vector: damaged: blobs of 17 and 8 bytes, not 16 and 8"
	run "$VT" chunk "$f" 0402013c5f0000
	assert_status 3
	run "$VT" chunk 0000c07f000000000000000000000000 0402013c5f00007f
	assert_status 3
	assert_output "vector: damaged: a float is not finite"
	run "$VT" chunk "$f" 000000005f00007f
	assert_status 3
	assert_output "vector: damaged: bad scale"
	run "$VT" chunk "$f" 0402013c5f000080
	assert_status 3
	assert_output "vector: damaged: int8 out of range"
}
