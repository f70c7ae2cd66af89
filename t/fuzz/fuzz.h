/*
 * What the libFuzzer harnesses in t/fuzz share: a private scratch
 * directory (removed at exit), files written into it, and a check that
 * aborts with a message, which libFuzzer reports as a crash with the input
 * that caused it.  See t/fuzz/README.
 */
#ifndef RK_FUZZ_H
#define RK_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int	 LLVMFuzzerInitialize(int *argc, char ***argv);
int	 LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* $TMPDIR/rk-fuzz.XXXXXX, made on first use, removed at exit */
const char *fuzz_dir(void);
/* fuzz_dir()/name, malloc'd */
char	*fuzz_path(const char *name);
/* the whole of data as the file path, mode 0600 */
void	 fuzz_write(const char *path, const void *data, size_t size);
/* data as a NUL-terminated string, malloc'd */
char	*fuzz_strdup(const uint8_t *data, size_t size);
/* abort with a message when cond is false */
#define FUZZ_CHECK(cond, ...) do {					\
	if (!(cond))							\
		fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);	\
} while (0)
void	 fuzz_fail(const char *file, int line, const char *cond,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5),
	    noreturn));

#endif
