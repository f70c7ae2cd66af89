/* SQLite files that hold prompts and replies: private to their owner */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "core/rk.h"

/*
 * Create the database file path 0600 if it does not exist, before SQLite
 * opens it: SQLite gives its -wal, -shm and -journal files the mode of
 * the database, so all of them stay private whatever the umask.  An
 * existing file is left as it is.  0, or -1 with errno set.
 */
int
rk_db_private(const char *path)
{
	int fd;

	while ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1 &&
	    errno == EINTR)
		;
	if (fd == -1)
		return -1;
	close(fd);
	return 0;
}
