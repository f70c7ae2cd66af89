# in-process micro-benchmarks of the think path (bench/micro)
$(O)/bench/micro: bench/micro/micro.c $(O)/librk.a | $(O)/bench
	$(CC) $(CFLAGS) -Ilib $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/bench:
	mkdir -p $@

# the tokenizer against npm tiktoken, js-tiktoken and gpt-tokenizer (needs
# node and npm)
bench-tokens: all
	sh bench/tokens/run.sh $(O)

# instruction counts of the hot paths against bench/check/BASELINE (needs
# valgrind): fails on more than 10 % above it; bench-baseline rewrites it.
# Its own build, without sanitizers: build-bench.
bench-check:
	sh bench/check/run.sh
bench-baseline:
	sh bench/check/run.sh -u

.PHONY: bench-tokens bench-check bench-baseline

# bench/think/run.sh: its timer and the cat stand-in of its baseline
$(O)/bench/think/%: bench/think/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $<
