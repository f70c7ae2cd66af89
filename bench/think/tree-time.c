/*
 * tree-time - run a command and print the wall time and the CPU time
 * (user + system) of its whole process tree, in microseconds:
 *
 *	tree-time command [arg ...]
 *
 * The command's standard output goes to /dev/null; "wall cpu" goes to ours.
 * The clock is read just before fork and just after the wait, so nothing
 * of the timer's own start-up is inside the interval.  The CPU time is
 * RUSAGE_CHILDREN, which holds every descendant that its parent waited
 * for: all of a pipeline's processes when the shell running it waits.
 */
#include <sys/resource.h>
#include <sys/wait.h>

#include <err.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static long long
us(const struct timeval *tv)
{
	return (long long)tv->tv_sec * 1000000 + tv->tv_usec;
}

int
main(int argc, char *argv[])
{
	struct timespec t0, t1;
	struct rusage ru;
	pid_t pid;
	int status, null;

	if (argc < 2) {
		fprintf(stderr, "usage: tree-time command [arg ...]\n");
		return 2;
	}
	if ((null = open("/dev/null", O_WRONLY)) == -1)
		err(1, "/dev/null");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((pid = fork()) == -1)
		err(1, "fork");
	if (pid == 0) {
		dup2(null, STDOUT_FILENO);
		execvp(argv[1], argv + 1);
		err(127, "%s", argv[1]);
	}
	if (waitpid(pid, &status, 0) == -1)
		err(1, "waitpid");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (getrusage(RUSAGE_CHILDREN, &ru) == -1)
		err(1, "getrusage");
	printf("%lld %lld\n", (long long)(t1.tv_sec - t0.tv_sec) * 1000000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000,
	    us(&ru.ru_utime) + us(&ru.ru_stime));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		errx(1, "%s: failed", argv[1]);
	return 0;
}
