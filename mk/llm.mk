# rk-llm extras: the price table beside the protocols, the fake model
# server used by the tests (never installed), the HTTP benchmark.  The
# cache keys are libmd's SHA-256 (linked statically with libbsd; named
# here for STATIC=0).

PKGS += libmd

SHARE += $(O)/share/reasonkit/prices.tsv
INSTALL_DATA += data/prices.tsv:.
CHECK_PROGRAMS += $(O)/libexec/rk-fakellm

$(O)/share/reasonkit/prices.tsv: | $(O)/share/reasonkit
	ln -sfn $(CURDIR)/data/prices.tsv $@

$(O)/libexec:
	mkdir -p $@

$(O)/libexec/rk-fakellm: t/fakellm.c $(O)/librk.a | $(O)/libexec
	$(CC) $(CFLAGS) -Ilib $(LDFLAGS) -o $@ t/fakellm.c $(O)/librk.a \
	    $(LDLIBS) -lpthread

bench-llm: all
	sh bench/llm/run.sh $(O)

.PHONY: bench-llm

# rk_embed_text's numbers against strtod, strtof and printf
CHECK_PROGRAMS += $(O)/libexec/rk-embed-text-test

$(O)/libexec/rk-embed-text-test: t/fixtures/llm/embed-text-test.c \
    $(O)/librk.a | $(O)/libexec
	$(CC) $(CFLAGS) -Ilib $(LDFLAGS) -o $@ \
	    t/fixtures/llm/embed-text-test.c $(O)/librk.a $(LDLIBS)
