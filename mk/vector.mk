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

# rk-search is cmd/rk-search.c and its queries and vector side in cmd/search/
SEARCH_OBJ = $(O)/cmd/rk-search.o $(O)/cmd/search/query.o \
    $(O)/cmd/search/vector.o
SEARCH_LIBS = $(LDLIBS)
ifeq ($(STATIC_PIE),1)
# A static PIE: SQLite's extension loader, which rk-search never enables,
# would link glibc's static dlopen, which the linker warns needs the same
# glibc at run time.  rk-search links a copy of libsqlite3.a whose dl*
# calls go to cmd/search/nodl.c instead, which fails them.
SEARCH_OBJ += $(O)/cmd/search/nodl.o
SEARCH_DEPS = $(O)/libsqlite3-nodl.a
SEARCH_LIBS = $(subst -lsqlite3,$(O)/libsqlite3-nodl.a,$(LDLIBS))
$(O)/libsqlite3-nodl.a:
	objcopy $(foreach f,open sym close error,--redefine-sym dl$(f)=rk_nodl_$(f)) \
	    "$$($(CC) -print-file-name=libsqlite3.a)" $@
endif

$(O)/cmd/search/%.o: cmd/search/%.c cmd/search/cmd.h lib/*/*.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Ilib -Icmd -c -o $@ $<

$(O)/cmd/rk-search.o: cmd/rk-search.c cmd/search/cmd.h lib/*/*.h | $(O)/cmd
	$(CC) $(CFLAGS) -Ilib -Icmd -c -o $@ $<

$(O)/bin/rk-search: $(SEARCH_OBJ) $(O)/librk.a $(SEARCH_DEPS) | $(O)/bin
	$(CC) $(LDFLAGS) -o $@ $(SEARCH_OBJ) $(O)/librk.a $(SEARCH_LIBS)

# hybrid query latency in-process at 1K documents (bench/vector/hybrid.sh)
$(O)/bench/vector/hybrid-speed: bench/vector/hybrid_speed.c $(O)/librk.a \
    lib/search/search.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Ilib -o $@ bench/vector/hybrid_speed.c $(O)/librk.a \
	    $(LDFLAGS) $(LDLIBS)

bench-hybrid: all $(O)/bench/vector/hybrid-speed
	sh bench/vector/hybrid.sh $(O)

.PHONY: bench-hybrid
