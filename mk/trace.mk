# rk-trace extras: the helper the tests use to look into a trace database
# without the sqlite3 shell, the in-process store benchmark (neither is
# installed), and a target that runs bench/trace/run.sh against this build.

CHECK_PROGRAMS += $(O)/libexec/rk-trace-sql

$(O)/libexec/rk-trace-sql: t/fixtures/trace/sql.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ t/fixtures/trace/sql.c $(LDLIBS)

$(O)/bench/trace-store: bench/trace/store.c $(O)/librk.a lib/store/store.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Ilib $(LDFLAGS) -o $@ bench/trace/store.c \
	    $(O)/librk.a $(LDLIBS)

bench-trace: $(O)/bin/rk-trace $(O)/bench/trace-store
	sh bench/trace/run.sh $(O)

.PHONY: bench-trace

# rk-trace is cmd/rk-trace.c and the commands in cmd/trace/
TRACE_OBJ = $(O)/cmd/rk-trace.o $(O)/cmd/trace/read.o \
    $(O)/cmd/trace/store.o $(O)/cmd/trace/tidy.o

$(O)/cmd/trace/%.o: cmd/trace/%.c cmd/trace/trace.h lib/*/*.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Ilib -Icmd -c -o $@ $<

$(O)/cmd/rk-trace.o: cmd/rk-trace.c cmd/trace/trace.h lib/*/*.h | $(O)/cmd
	$(CC) $(CFLAGS) -Ilib -Icmd -c -o $@ $<

$(O)/bin/rk-trace: $(TRACE_OBJ) $(O)/librk.a | $(O)/bin
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# a trace write into databases of 10,000 and 100,000 runs (bench/trace/grow.sh)
bench-trace-grow: $(O)/bin/rk-trace $(O)/libexec/rk-trace-sql
	bash bench/trace/grow.sh $(O)

.PHONY: bench-trace-grow
