# rk-trace extras: the in-process store benchmark (never installed) and a
# target that runs bench/trace/run.sh against this build.

$(O)/bench/trace-store: bench/trace/store.c $(O)/librk.a lib/store.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Ilib $(LDFLAGS) -o $@ bench/trace/store.c \
	    $(O)/librk.a $(LDLIBS)

bench-trace: $(O)/bin/rk-trace $(O)/bench/trace-store
	sh bench/trace/run.sh $(O)

.PHONY: bench-trace
