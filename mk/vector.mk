# vector search extras: the test driver for lib/search/vector.c (built for
# `make check`, never installed) and the benchmark against faiss and
# hnswlib (bench/vector; needs libfaiss-dev and libhnswlib-dev).

CHECK_PROGRAMS += $(O)/libexec/rk-vec-test

$(O)/libexec/rk-vec-test: t/fixtures/search/vec-test.c $(O)/librk.a \
    lib/search/search.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Ilib $(LDFLAGS) -o $@ t/fixtures/search/vec-test.c \
	    $(O)/librk.a $(LDLIBS)

$(O)/bench/vector/vector-bench: bench/vector/bench.cc $(O)/librk.a \
    lib/search/search.h
	@mkdir -p $(@D)
	$(CXX) -O2 -march=native -std=c++17 -Wall -Wextra -Ilib -fopenmp -o $@ \
	    bench/vector/bench.cc $(O)/librk.a $(LDFLAGS) -lfaiss -llapack \
	    -lblas $(LDLIBS)

bench-vector: $(O)/bench/vector/vector-bench
	sh bench/vector/run.sh $(O)

.PHONY: bench-vector

# the cost of an rk-embed cache hit (bench/vector/embed-cache.sh)
bench-embed: all check-programs
	sh bench/vector/embed-cache.sh $(O)

.PHONY: bench-embed
