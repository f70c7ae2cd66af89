# rk-llm extras: the price table beside the protocols, the fake model
# server and the SHA-256 test-vector checker used by the tests (never
# installed), the HTTP benchmark.

SHARE += $(O)/share/reasonkit/prices.tsv
INSTALL_DATA += data/prices.tsv:.
CHECK_PROGRAMS += $(O)/libexec/rk-fakellm $(O)/libexec/rk-sha256-test

$(O)/share/reasonkit/prices.tsv: | $(O)/share/reasonkit
	ln -sfn ../../../data/prices.tsv $@

$(O)/libexec:
	mkdir -p $@

$(O)/libexec/rk-fakellm: t/fakellm.c $(O)/librk.a | $(O)/libexec
	$(CC) $(CFLAGS) -Ilib $(LDFLAGS) -o $@ t/fakellm.c $(O)/librk.a \
	    $(LDLIBS) -lpthread

$(O)/libexec/rk-sha256-test: t/fixtures/llm/sha256-test.c lib/llm/sha256.c \
	lib/llm/sha256.h | $(O)/libexec
	$(CC) $(CFLAGS) -Ilib $(LDFLAGS) -o $@ t/fixtures/llm/sha256-test.c \
	    lib/llm/sha256.c

bench-llm: all
	sh bench/llm/run.sh $(O)

.PHONY: bench-llm
