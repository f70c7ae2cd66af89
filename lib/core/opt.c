/*
 * The command line.  Each tool describes its options once, in a table of
 * struct rk_optdef: rk_getopt() makes getopt_long()'s arguments of it and
 * rk_help() the --help text, so the two cannot drift apart.  The options
 * several tools share are parsed here, by rk_opt(), which like the rest of
 * the library never exits: it returns what main should do, and
 * rk_opt_done() does it and gives main the exit status.
 */
#include <ctype.h>
#include <string.h>

#include "core/rk.h"

/* -f format: its index in c->formats, or -1 when it is not there */
static int
format(struct rk_cli *c, const char *arg)
{
	char list[128] = "";
	size_t n = 0;

	for (; c->formats[n] != NULL; n++)
		if (strcmp(arg, c->formats[n]) == 0)
			return (int)n;
	for (size_t i = 0; i < n; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list),
		    "%s%s", c->formats[i], i + 2 < n ? ", " : i + 1 < n ?
		    " or " : "");
	rk_error_set(&c->err, RK_EXIT_USAGE, "-f: %s, not '%s'", list, arg);
	return -1;
}

/* the long options and the getopt string, made of the table once */
static int
build(struct rk_cli *c)
{
	char *s = c->shortopts;
	size_t n = 0;

	if (c->built)
		return 0;
	c->built = 1;
	if (c->posix)
		*s++ = '+';
	for (const struct rk_optdef *d = c->defs; d->ch != 0; d++) {
		if (d->ch < 128 && isalnum(d->ch)) {
			*s++ = (char)d->ch;
			if (d->has_arg != no_argument)
				*s++ = ':';
			if (d->has_arg == optional_argument)
				*s++ = ':';
		}
		if (d->name == NULL)
			continue;
		if (n == RK_OPT_MAX)
			return rk_error_set(&c->err, RK_EXIT_INTERNAL,
			    "more than %d long options", RK_OPT_MAX);
		c->longopts[n++] = (struct option){ d->name, d->has_arg, NULL,
		    d->ch };
	}
	*s = '\0';
	return 0;
}

/*
 * The next option, as getopt_long() returns it; '?' for one that is not
 * in the table or lacks its argument (getopt has said so on stderr).
 */
int
rk_getopt(struct rk_cli *c, int argc, char *argv[])
{
	if (build(c) != 0)
		return '?';
	return getopt_long(argc, argv, c->shortopts, c->longopts, NULL);
}

/*
 * An option ch, with argument arg, that is not the tool's own: -h, -V,
 * -f (one of c->formats), -k, -p, -r, --by-doc, --context-bytes,
 * --performance-mode, --tag.  Any other is a usage error.  Returns what
 * main should do; for RK_OPT_USAGE, c->err may say why.
 */
int
rk_opt(struct rk_cli *c, int ch, const char *arg)
{
	switch (ch) {
	case 'f':
		if (c->formats == NULL || (c->format = format(c, arg)) == -1)
			return RK_OPT_USAGE;
		c->format_set = 1;
		return RK_OPT_NEXT;
	case 'h':
		return RK_OPT_HELP;
	case 'k':
		if (rk_parse_uint(arg, c->hits_max, &c->hits) == -1 ||
		    c->hits < 1) {
			rk_error_set(&c->err, RK_EXIT_USAGE,
			    "-k: not 1..%ld: '%s'", c->hits_max, arg);
			return RK_OPT_USAGE;
		}
		return RK_OPT_NEXT;
	case 'p':
		c->profile = arg;
		return RK_OPT_NEXT;
	case 'r':
		c->records = 1;
		return RK_OPT_NEXT;
	case 'V':
		return RK_OPT_VERSION;
	case RK_OPT_BYDOC:
		c->by_doc = 1;
		return RK_OPT_NEXT;
	case RK_OPT_BYTES:
		if (rk_parse_size(arg, &c->context_bytes) == -1) {
			rk_error_set(&c->err, RK_EXIT_USAGE,
			    "--context-bytes: not a size: '%s'", arg);
			return RK_OPT_USAGE;
		}
		return RK_OPT_NEXT;
	case RK_OPT_PERF:
		c->perf = 1;
		return RK_OPT_NEXT;
	case RK_OPT_TAG:
		if (*arg == '\0' || strpbrk(arg, " \t\n")) {
			rk_error_set(&c->err, RK_EXIT_USAGE,
			    "--tag: not one word: '%s'", arg);
			return RK_OPT_USAGE;
		}
		c->tag = arg;
		return RK_OPT_NEXT;
	default:
		return RK_OPT_USAGE;
	}
}

/* The usage, then each option on a line of its own. */
void
rk_help(FILE *fp, const struct rk_cli *c)
{
	char left[64];
	int n;

	fputs(c->usage, fp);
	fputc('\n', fp);
	for (const struct rk_optdef *d = c->defs; d->ch != 0; d++) {
		n = d->ch < 128 && isalnum(d->ch) ?
		    snprintf(left, sizeof(left), "-%c%s", d->ch,
		    d->name ? ", " : d->arg ? " " : "") :
		    snprintf(left, sizeof(left), "    ");
		if (d->name != NULL)
			snprintf(left + n, sizeof(left) - n, "--%s%s%s%s",
			    d->name, d->has_arg == optional_argument ? "[=" :
			    d->has_arg == required_argument ? "=" : "",
			    d->arg ? d->arg : "",
			    d->has_arg == optional_argument ? "]" : "");
		else if (d->arg != NULL)
			snprintf(left + n, sizeof(left) - n, "%s", d->arg);
		/* one that fills the column gets its text on the next line,
		 * not one space away, where it would read as its argument */
		if (strlen(left) >= 24)
			fprintf(fp, "  %s\n%27s%s\n", left, "", d->help);
		else
			fprintf(fp, "  %-24s %s\n", left, d->help);
	}
}

/*
 * Do what rk_opt() or main's own checks said: help or version on stdout,
 * or on stderr why the command line is wrong, and the usage when nothing
 * more precise is known.  Returns main's exit status.
 */
int
rk_opt_done(struct rk_cli *c, int action)
{
	switch (action) {
	case RK_OPT_HELP:
		rk_help(stdout, c);
		return rk_finish();
	case RK_OPT_VERSION:
		rk_version();
		return rk_finish();
	default:
		if (c->err.code != 0) {
			fprintf(stderr, "%s: %s\n", rk_progname, c->err.msg);
			return c->err.code;
		}
		fputs(c->usage, stderr);
		return RK_EXIT_USAGE;
	}
}

/*
 * Every option of argv: the tool's own through own(arg, ch, optarg),
 * which returns 1 when it took ch, 0 when ch is not its own, or -1 when
 * the argument is wrong (cli->err says why); the others through rk_opt().
 * No operand may follow.  -1 to go on, else main's exit status.
 */
int
rk_getopt_all(struct rk_cli *cli, int argc, char *argv[],
    int (*own)(void *, int, const char *), void *arg)
{
	int ch, act, taken;

	while ((ch = rk_getopt(cli, argc, argv)) != -1) {
		if ((taken = own(arg, ch, optarg)) == -1)
			return rk_opt_done(cli, RK_OPT_USAGE);
		if (!taken && (act = rk_opt(cli, ch, optarg)) != RK_OPT_NEXT)
			return rk_opt_done(cli, act);
	}
	if (optind != argc)
		return rk_opt_done(cli, RK_OPT_USAGE);
	return -1;
}
