# rk-llm extras: the price table beside the protocols, the fake model
# server and the SHA-256 test-vector checker used by the tests (never
# installed), the HTTP benchmark.

all: $(O)/share/reasonkit/prices.tsv $(O)/libexec/rk-fakellm \
	$(O)/libexec/rk-sha256-test

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

install: install-llm
install-llm:
	mkdir -p $(DESTDIR)$(DATADIR)
	install -m 644 data/prices.tsv $(DESTDIR)$(DATADIR)/prices.tsv

bench-llm: all
	sh bench/llm/run.sh $(O)

.PHONY: install-llm bench-llm
