/*
 * A chain of processes joined by pipes, like a shell pipeline, fed and
 * read by its caller: the write end of the first stage's stdin and the
 * read end of the last stage's stdout.  No stage inherits any other end,
 * so closing the input ends the chain in turn.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/rk.h"

static int
cloexec_pipe(int p[2])
{
	if (pipe(p) == -1)
		return -1;
	fcntl(p[0], F_SETFD, FD_CLOEXEC);
	fcntl(p[1], F_SETFD, FD_CLOEXEC);
	return 0;
}

/* argv with its stdin from in; the read end of its stdout, or -1 */
static int
stage(struct rk_chain *c, char *const argv[], int in)
{
	int p[2];
	pid_t pid;

	if (cloexec_pipe(p) == -1)
		return -1;
	if ((pid = fork()) == -1) {
		close(p[0]), close(p[1]);
		return -1;
	}
	if (pid == 0) {
		dup2(in, STDIN_FILENO);
		dup2(p[1], STDOUT_FILENO);
		signal(SIGPIPE, SIG_DFL);	/* the caller may ignore it */
		execvp(argv[0], argv);
		_exit(127);
	}
	close(in);
	close(p[1]);
	c->pids = rk_xrealloc(c->pids, (c->npids + 1) * sizeof(*c->pids));
	c->pids[c->npids++] = pid;
	return p[0];
}

int
rk_chain_start(struct rk_chain *c, char **const argvs[], size_t n,
    struct rk_error *e)
{
	int p[2], fd;

	memset(c, 0, sizeof(*c));
	c->in = c->out = -1;
	if (cloexec_pipe(p) == -1)
		return rk_error_set(e, RK_EXIT_IO, "pipe: %s", strerror(errno));
	c->in = p[1];
	fd = p[0];
	for (size_t i = 0; i < n && fd != -1; i++)
		fd = stage(c, argvs[i], fd);
	if (fd == -1)
		return rk_error_set(e, RK_EXIT_IO, "pipeline: %s",
		    strerror(errno));
	c->out = fd;
	return 0;
}

/* Close both ends and wait for every stage; the highest exit status. */
int
rk_chain_wait(struct rk_chain *c)
{
	int st, worst = 0;

	if (c->in != -1)
		close(c->in);
	if (c->out != -1)
		close(c->out);
	for (size_t i = 0; i < c->npids; i++) {
		while (waitpid(c->pids[i], &st, 0) == -1 && errno == EINTR)
			;
		if (WIFEXITED(st) && WEXITSTATUS(st) > worst)
			worst = WEXITSTATUS(st);
	}
	free(c->pids);
	memset(c, 0, sizeof(*c));
	c->in = c->out = -1;
	return worst;
}
