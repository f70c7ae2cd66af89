# in-process micro-benchmarks of the think path (bench/micro)
$(O)/bench/micro: bench/micro/micro.c $(O)/librk.a | $(O)/bench
	$(CC) $(CFLAGS) -Ilib $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/bench:
	mkdir -p $@
