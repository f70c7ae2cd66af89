/* helpers of the harnesses: see fuzz.h */
#define _XOPEN_SOURCE 700	/* nftw */
#include <err.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sanitizer/common_interface_defs.h>

#include "core/rk.h"
#include "fuzz.h"

static char *dir;

static int
rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	return remove(path);
}

static void
rm_dir(void)
{
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *
fuzz_dir(void)
{
	const char *tmp = rk_getenv("TMPDIR");

	if (dir != NULL)
		return dir;
	rk_asprintf(&dir, "%s/rk-fuzz.XXXXXX", tmp ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL)
		err(1, "%s", dir);
	atexit(rm_dir);
	return dir;
}

char *
fuzz_path(const char *name)
{
	char *path;

	rk_asprintf(&path, "%s/%s", fuzz_dir(), name);
	return path;
}

void
fuzz_write(const char *path, const void *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd == -1 || (size > 0 && write(fd, data, size) != (ssize_t)size) ||
	    close(fd) == -1)
		err(1, "%s", path);
}

char *
fuzz_strdup(const uint8_t *data, size_t size)
{
	char *s = rk_xmalloc(size + 1);

	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

void
fuzz_fail(const char *file, int line, const char *cond, const char *fmt,
    ...)
{
	char msg[1024];
	va_list ap;
	int n;

	n = snprintf(msg, sizeof(msg), "%s:%d: check failed: %s: ", file, line,
	    cond);
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(msg))
		vsnprintf(msg + n, sizeof(msg) - n, fmt, ap);
	va_end(ap);
	/* through the sanitizers' report stream, which -close_fd_mask=2
	   leaves open, unlike stderr */
	__sanitizer_report_error_summary(msg);
	abort();
}
