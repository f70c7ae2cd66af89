# retrieval benchmarks: rk-search's engine against FTS5 bm25() and Xapian
#   make bench-retrieval    speed (1K, 5K, 100K docs) and SciFact/Vaswani quality

CXX ?= c++

$(O)/bench/retrieval:
	mkdir -p $@

$(O)/bench/retrieval/rk-search-speed: bench/retrieval/speed.c $(O)/librk.a \
    lib/search/search.h | $(O)/bench/retrieval
	$(CC) $(CFLAGS) -Ilib -o $@ bench/retrieval/speed.c $(O)/librk.a \
	    $(LDFLAGS) $(LDLIBS)

$(O)/bench/retrieval/rk-fuse-speed: bench/retrieval/fuse_speed.c \
    $(O)/librk.a lib/search/search.h | $(O)/bench/retrieval
	$(CC) $(CFLAGS) -Ilib -o $@ bench/retrieval/fuse_speed.c $(O)/librk.a \
	    $(LDFLAGS) $(LDLIBS)

$(O)/bench/retrieval/xapian-bench: bench/retrieval/xapian_bench.cc \
    | $(O)/bench/retrieval
	$(CXX) -O2 -o $@ $< $$(pkg-config --cflags --libs xapian-core)

bench-retrieval: all $(O)/bench/retrieval/rk-search-speed \
    $(O)/bench/retrieval/rk-fuse-speed $(O)/bench/retrieval/xapian-bench
	sh bench/retrieval/eval.sh $(O)
	$(O)/bench/retrieval/rk-fuse-speed
	sh bench/retrieval/speed.sh $(O)

.PHONY: bench-retrieval
