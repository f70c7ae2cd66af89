/*
 * stand-in - cat(1) in the place of an rk-* program, for the baseline of
 * bench/think/run.sh: installed under each rk-* name beside a copy of the
 * rk script, it makes `rk think` run the same shell, the same processes and
 * the same pipes, each stage copying its input to its output as cat does.
 *
 * As rk-parse it prints $STAND_IN_STEPS (what `rk-parse --steps` answers);
 * given "--" and a question (the first rk-prompt) it writes the question as
 * a line instead of reading; otherwise it copies standard input.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
copy(void)
{
	char buf[65536];
	ssize_t n;

	while ((n = read(STDIN_FILENO, buf, sizeof buf)) > 0)
		if (write(STDOUT_FILENO, buf, (size_t)n) != n)
			err(1, "write");
	if (n == -1)
		err(1, "read");
}

int
main(int argc, char *argv[])
{
	const char *name = strrchr(argv[0], '/');
	const char *steps = getenv("STAND_IN_STEPS");
	int i;

	name = name != NULL ? name + 1 : argv[0];
	if (strcmp(name, "rk-parse") == 0) {
		printf("%s\n", steps != NULL ? steps : "0");
		return 0;
	}
	for (i = 1; i < argc - 1; i++)
		if (strcmp(argv[i], "--") == 0) {
			printf("%s\n", argv[i + 1]);
			return 0;
		}
	copy();
	return 0;
}
