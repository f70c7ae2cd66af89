# think extras: the driver the tests use to call the answer extractor
# directly (never installed).

CHECK_PROGRAMS += $(O)/libexec/rk-answer-test

$(O)/libexec/rk-answer-test: t/fixtures/think/answer-test.c $(O)/librk.a \
    lib/think/think.h | $(O)/libexec
	$(CC) $(CFLAGS) -Ilib $(LDFLAGS) -o $@ t/fixtures/think/answer-test.c \
	    $(O)/librk.a $(LDLIBS)
