/*
 * Linked into rk-search when it is a static PIE, in place of dlopen() and
 * its kin for SQLite, whose copy (see mk/vector.mk) calls these: SQLite
 * can load extensions, which rk-search never asks it to, and glibc's
 * static dlopen works only beside the very glibc it was linked with.
 * Loading an extension fails with a message saying why.
 */
#include <stddef.h>

void	*rk_nodl_open(const char *, int);
void	*rk_nodl_sym(void *, const char *);
int	 rk_nodl_close(void *);
char	*rk_nodl_error(void);

void *
rk_nodl_open(const char *file, int mode)
{
	(void)file;
	(void)mode;
	return NULL;
}

void *
rk_nodl_sym(void *handle, const char *name)
{
	(void)handle;
	(void)name;
	return NULL;
}

int
rk_nodl_close(void *handle)
{
	(void)handle;
	return 0;
}

char *
rk_nodl_error(void)
{
	static char why[] = "rk-search loads no extensions";

	return why;
}
