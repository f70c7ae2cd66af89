# Fuzzing with clang's libFuzzer (see t/fuzz/README).  The library is built
# again into $(FO) with the fuzzer's coverage instrumentation and ASan and
# UBSan; each harness t/fuzz/NAME.c is linked against it.
#
#   make fuzz                     each harness for FUZZ_SECONDS (60) seconds
#   make fuzz FUZZ_SECONDS=360    the long run: an hour in all
#   make fuzz-ci                  each for 30 seconds (.ci/run)
#   make fuzz FUZZERS="bpe sse"   only these
#
# New inputs go to $(FO)/corpus/NAME, crashes to $(FO)/crashes; the seeds
# in t/fuzz/corpus/NAME are only read.  Needs clang and its compiler-rt
# (Debian: clang libclang-rt-dev).

FO = $(O)-fuzz
FUZZ_CC = clang
FUZZ_SECONDS = 60
FUZZERS = record light yaml yamlcache template sse reply bpe seg index ann \
	hits
FUZZ_SAN = -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
# the library gets the instrumentation, the harness also libFuzzer's main
FUZZ_CFLAGS = $(filter-out $(SANFLAGS),$(CFLAGS)) -O1 -g $(FUZZ_SAN) \
	-fsanitize=fuzzer-no-link

FUZZ_OBJ = $(patsubst lib/%.c,$(FO)/lib/%.o,$(LIBSRC))
FUZZ_BINS = $(addprefix $(FO)/fuzz/,$(FUZZERS))

$(FO)/lib/%.o: lib/%.c lib/*/*.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Ilib -c -o $@ $<

$(FO)/librk.a: $(FUZZ_OBJ)
	rm -f $@
	ar rcs $@ $^

$(FO)/fuzz/%: t/fuzz/%.c t/fuzz/fuzz.c t/fuzz/fuzz.h $(FO)/librk.a
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -Ilib -It/fuzz -o $@ \
	    $< t/fuzz/fuzz.c $(FO)/librk.a $(LDLIBS)

fuzz-build: $(FUZZ_BINS)

# all: the tokenizer tables the bpe harness reads
fuzz: all fuzz-build
	RK_TOKENIZER_DIR=$(abspath $(O))/share/reasonkit/tokenizer \
	    sh t/fuzz/run.sh $(FO) $(FUZZ_SECONDS) $(FUZZERS)

fuzz-ci:
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=30

clean: clean-fuzz
clean-fuzz:
	rm -rf $(FO)

.PHONY: fuzz fuzz-build fuzz-ci clean-fuzz
