/*
 * The options several tools share, parsed in one place.  A tool's getopt
 * loop handles the letters that are its own and passes the rest here;
 * like rk_version(), this acts for main: help and version exit, and so
 * does a bad argument (RK_EXIT_USAGE).
 */
#include <err.h>
#include <stdlib.h>
#include <string.h>

#include "core/rk.h"

const struct option rk_longopts[] = {
	RK_LONGOPTS,
	{ NULL, 0, NULL, 0 }
};

/* -f of the tools that print hits: 1 for "trec", 0 for "ndjson". */
int
rk_parse_hits_format(const char *arg)
{
	if (strcmp(arg, "trec") == 0)
		return 1;
	if (strcmp(arg, "ndjson") != 0)
		errx(RK_EXIT_USAGE, "-f: not ndjson or trec: '%s'", arg);
	return 0;
}

/* -t of the tools that print TREC runs: one word. */
const char *
rk_parse_run_tag(const char *arg)
{
	if (*arg == '\0' || strpbrk(arg, " \t\n"))
		errx(RK_EXIT_USAGE, "-t: not one word: '%s'", arg);
	return arg;
}

/*
 * Option ch, with argument arg, that is not the tool's own: -h, -V, -P,
 * -p profile, -r, -f format, -t tag.  Any other letter is a usage error.
 */
void
rk_opt(struct rk_opts *o, int ch, const char *arg)
{
	switch (ch) {
	case 'f':
		o->trec = rk_parse_hits_format(arg);
		o->format_set = 1;
		break;
	case 'h':
		o->usage(stdout, RK_EXIT_OK);
		break;
	case 'P':
		o->perf = 1;
		break;
	case 'p':
		o->profile = arg;
		break;
	case 'r':
		o->records = 1;
		break;
	case 't':
		o->tag = rk_parse_run_tag(arg);
		break;
	case 'V':
		rk_version();
		break;
	default:
		o->usage(stderr, RK_EXIT_USAGE);
	}
}
