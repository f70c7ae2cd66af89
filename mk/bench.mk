# in-process micro-benchmarks of the think path (bench/micro)
$(O)/bench/micro: bench/micro/micro.c $(O)/librk.a | $(O)/bench
	$(CC) $(CFLAGS) -Ilib $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/bench:
	mkdir -p $@

# the tokenizer against npm tiktoken and js-tiktoken (needs node and npm)
bench-tokens: all
	sh bench/tokens/run.sh $(O)

.PHONY: bench-tokens

# bench/think/run.sh: its timer and the cat stand-in of its baseline
$(O)/bench/think/%: bench/think/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $<
