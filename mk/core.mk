# core extras: the helper the tests use to measure a tool's peak memory
# (not installed)

CHECK_PROGRAMS += $(O)/libexec/maxrss

$(O)/libexec/maxrss: t/fixtures/maxrss.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ t/fixtures/maxrss.c
