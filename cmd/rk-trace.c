/*
 * rk-trace: the end of a think pipeline.  In store mode (store, or no
 * command when standard input is not a terminal) it reads records, stores
 * each in the trace database and writes it on to stdout, or a text report
 * of it when asked to or when stdout is a terminal.  Each record is
 * committed before it is written on, and it is written on even when it
 * cannot be stored.  The other commands read, search, copy, merge and tidy
 * the database.  Like git, the common options -d and -f may come before or
 * after the command.
 *
 * A record is written on byte for byte as it came when it came as a record
 * (a JSON object with its rk and id); what rk_read() made or changed (a
 * question line, an error record for a bad line) is written as rk_write()
 * writes it.
 */
#include <sys/stat.h>

#include <err.h>
#include <getopt.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/rk.h"
#include "think/think.h"
#include "store/store.h"
#include "trace/trace.h"

enum { OPT_HELP = 256, OPT_VERSION };

const char *dflag;		/* the database */
int fflag = FMT_AUTO;
struct rk_style style;
static int nflag;		/* store mode: do not store */
static long eflag = -1;		/* store mode: records expected */

void
usage(FILE *fp)
{
	const char *p = rk_progname;

	fprintf(fp,
	    "usage: %s [-n] [-d db] [-e count] [-f json | text]"
	    " [store [file ...]]\n"
	    "       %s [-d db] [-f json | text] ls [--batch id] [-p profile]\n"
	    "                [-t protocol] [-s status] [--since date]"
	    " [--until date]\n"
	    "                [-n limit]\n"
	    "       %s [-d db] [-f json | text] show id ...\n"
	    "       %s [-d db] [-f json | text] last [--batch id] [-p profile]\n"
	    "                [-t protocol] [-s status] [--since date]"
	    " [--until date]\n"
	    "       %s [-d db] [-f json | text] search [--batch id]"
	    " [-p profile]\n"
	    "                [-t protocol] [-s status] [--since date]"
	    " [--until date]\n"
	    "                [-n limit] word ...\n"
	    "       %s [-d db] export [--batch id] [-p profile] [-t protocol]\n"
	    "                [-s status] [--since date] [--until date]"
	    " [-n limit]\n"
	    "       %s [-d db] import [file ...]\n"
	    "       %s [-d db] [-f json | text] merge db ...\n"
	    "       %s [-d db] done --batch id\n"
	    "       %s [-d db] rm id ...\n"
	    "       %s [-d db] [-f json | text] prune --before date\n",
	    p, p, p, p, p, p, p, p, p, p, p);
	if (fp == stdout)
		exit(rk_finish());
	exit(RK_EXIT_USAGE);
}

static void
set_format(const char *arg)
{
	if (strcmp(arg, "json") == 0)
		fflag = FMT_JSON;
	else if (strcmp(arg, "text") == 0)
		fflag = FMT_TEXT;
	else
		errx(RK_EXIT_USAGE, "-f: not json or text: '%s'", arg);
}

int
text_output(void)
{
	return fflag == FMT_TEXT || (fflag == FMT_AUTO && isatty(1));
}

/*
 * The database: -d, else $RK_TRACE_DB, else the XDG data directory, made
 * when storing.
 */
struct rk_store *
open_store(int how)
{
	struct rk_store *st;
	struct rk_error e;
	struct stat sb;
	char *path, *copy;
	const char *dir;
	int create = how == STORE_CREATE;

	if (dflag != NULL)
		path = rk_xstrdup(dflag);
	else if (rk_getenv("RK_TRACE_DB") != NULL)
		path = rk_xstrdup(rk_getenv("RK_TRACE_DB"));
	else {
		path = rk_xdg_path("DATA", "traces.db");
		if (create) {
			copy = rk_xstrdup(path);
			if (rk_mkdirs(dir = dirname(copy)) == -1)
				err(RK_EXIT_IO, "%s: no place for the trace "
				    "database (set XDG_DATA_HOME or RK_TRACE_DB, "
				    "or give -d)", dir);
			free(copy);
		}
	}
	/* a database named by hand that is not there is a typo, not "none" */
	if (how == STORE_READ && (dflag != NULL ||
	    rk_getenv("RK_TRACE_DB") != NULL) && stat(path, &sb) == -1) {
		warn("%s", path);
		free(path);
		rk_exit_status(RK_EXIT_IO);
		return NULL;
	}
	st = rk_store_open(path, create, &e);
	free(path);
	if (st == NULL) {
		warnx("%s", e.msg);
		if (e.code == RK_EXIT_USAGE)
			exit(e.code);
		rk_exit_status(e.code);
	}
	return st;
}

/* --- the options of the commands ------------------------------------- */

static void
parse_date(const char *opt, const char *arg, char out[25])
{
	if (rk_parse_date(arg, out) == -1)
		errx(RK_EXIT_USAGE, "%s: not a date, time or age: '%s'", opt,
		    arg);
}

static void
parse_opt(int c, struct args *a)
{
	switch (c) {
	case 'd':
		dflag = optarg;
		break;
	case 'f':
		set_format(optarg);
		break;
	case 'n':
		if (rk_parse_uint(optarg, 1000000000, &a->f.limit) == -1 ||
		    a->f.limit < 1)
			errx(RK_EXIT_USAGE, "-n: not a count of 1 or more: "
			    "'%s'", optarg);
		break;
	case 'p':
		a->f.profile = optarg;
		break;
	case 't':
		a->f.protocol = optarg;
		break;
	case 's':
		if (!rk_status_valid(optarg))
			errx(RK_EXIT_USAGE, "-s: not completed, failed or "
			    "incomplete: '%s'", optarg);
		a->f.status = optarg;
		break;
	case 'B':
		a->f.batch = optarg;
		break;
	case 'S':
		parse_date("--since", optarg, a->f.since);
		break;
	case 'U':
		parse_date("--until", optarg, a->f.until);
		break;
	case 'O':
		parse_date("--before", optarg, a->before);
		break;
	}
}

/*
 * The options of a command, before or after its operands: allowed holds
 * the letters it takes (B, S, U and O stand for --batch, --since, --until
 * and --before).
 */
void
parse_args(int argc, char *argv[], const char *allowed, struct args *a)
{
	static const struct option opts[] = {
		{ "batch", required_argument, NULL, 'B' },
		{ "before", required_argument, NULL, 'O' },
		{ "help", no_argument, NULL, OPT_HELP },
		{ "since", required_argument, NULL, 'S' },
		{ "until", required_argument, NULL, 'U' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	memset(a, 0, sizeof(*a));
	optind = 0;	/* getopt afresh, argv[0] is the command */
	while ((c = getopt_long(argc, argv, "d:f:n:p:s:t:", opts, NULL)) !=
	    -1) {
		if (c == OPT_HELP)
			usage(stdout);
		if (c == '?' || strchr(allowed, c) == NULL) {
			if (c != '?')
				warnx("%s: option %s does not apply",
				    argv[0], argv[optind - 1]);
			usage(stderr);
		}
		parse_opt(c, a);
	}
	a->argc = argc - optind;
	a->argv = argv + optind;
}

/* --- store, import, merge, done and prune ---------------------------- */

static int
cmd_store(int argc, char *argv[])
{
	struct args a;

	parse_args(argc, argv, "df", &a);
	return store_mode(a.argc, a.argv, 0, nflag, eflag);
}

static int
cmd_import(int argc, char *argv[])
{
	struct args a;

	parse_args(argc, argv, "d", &a);
	return store_mode(a.argc, a.argv, 1, 0, -1);
}


static const struct {
	const char	*name;
	int		(*fn)(int, char *[]);
} commands[] = {
	{ "done", cmd_done }, { "export", cmd_export },
	{ "import", cmd_import }, { "last", cmd_last }, { "ls", cmd_ls },
	{ "merge", cmd_merge }, { "prune", cmd_prune }, { "rm", cmd_rm },
	{ "search", cmd_search }, { "show", cmd_show },
	{ "store", cmd_store },
};

/* the options before the command */
static void
global_options(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, OPT_HELP },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	while ((c = getopt_long(argc, argv, "+d:e:f:hnV", opts, NULL)) != -1)
		switch (c) {
		case 'd':
			dflag = optarg;
			break;
		case 'e':
			if (rk_parse_uint(optarg, 1000000000, &eflag) == -1)
				errx(RK_EXIT_USAGE, "-e: not a count: '%s'",
				    optarg);
			break;
		case 'f':
			set_format(optarg);
			break;
		case 'n':
			nflag = 1;
			break;
		case 'h':
		case OPT_HELP:
			usage(stdout);
			break;
		case 'V':
		case OPT_VERSION:
			rk_version();
			break;
		default:
			usage(stderr);
		}
}

int
main(int argc, char *argv[])
{
	size_t i;

	rk_init(argv[0]);
	global_options(argc, argv);
	argc -= optind;
	argv += optind;
	rk_style_for(stdout, &style);
	if (argc == 0 && isatty(STDIN_FILENO)) {
		/* never wait on a terminal: show the last run instead */
		char *last[] = { "last", NULL };

		return cmd_last(1, last);
	}
	if (argc == 0)
		return store_mode(0, argv, 0, nflag, eflag);
	for (i = 0; i < sizeof(commands) / sizeof(*commands); i++) {
		if (strcmp(argv[0], commands[i].name) != 0)
			continue;
		if ((nflag || eflag >= 0) && commands[i].fn != cmd_store) {
			warnx("%s: -%c applies to store mode only", argv[0],
			    nflag ? 'n' : 'e');
			usage(stderr);
		}
		return commands[i].fn(argc, argv);
	}
	warnx("%s: no such command", argv[0]);
	usage(stderr);
}
