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

enum { O_BATCH = RK_OPT_OWN, O_BEFORE, O_EXPECT, O_NOSTORE, O_SINCE,
    O_UNTIL };

static const struct rk_optdef opts[] = {
	{ 'd', NULL, required_argument, "db", "the trace database" },
	{ 'f', NULL, required_argument, "format",
	    "output format: json or text" },
	{ 'n', NULL, required_argument, "limit", "at most limit runs" },
	{ 'p', NULL, required_argument, "profile", "runs of this profile" },
	{ 's', NULL, required_argument, "status",
	    "runs of this status: completed, failed or incomplete" },
	{ 't', NULL, required_argument, "protocol", "runs of this protocol" },
	{ O_BATCH, "batch", required_argument, "id", "runs of this batch" },
	{ O_BEFORE, "before", required_argument, "date",
	    "prune: the runs before date" },
	{ O_EXPECT, "expect", required_argument, "count",
	    "store: count records are coming" },
	{ O_NOSTORE, "no-store", no_argument, NULL,
	    "store: pass the records on, store nothing" },
	{ O_SINCE, "since", required_argument, "date", "runs since date" },
	{ O_UNTIL, "until", required_argument, "date", "runs until date" },
	RK_OPTS_HELP,
	RK_OPTS_END
};

static const char *const formats[] = { "json", "text", NULL };

#define USAGE \
	"usage: rk-trace [-d db] [-f json | text] [--expect count] " \
	"[--no-store]\n" \
	"                [store [file ...]]\n" \
	"       rk-trace [-d db] [-f json | text] ls [--batch id] " \
	"[-p profile]\n" \
	"                [-t protocol] [-s status] [--since date] " \
	"[--until date]\n" \
	"                [-n limit]\n" \
	"       rk-trace [-d db] [-f json | text] show id ...\n" \
	"       rk-trace [-d db] [-f json | text] last [--batch id] " \
	"[-p profile]\n" \
	"                [-t protocol] [-s status] [--since date] " \
	"[--until date]\n" \
	"       rk-trace [-d db] [-f json | text] search [--batch id] " \
	"[-p profile]\n" \
	"                [-t protocol] [-s status] [--since date] " \
	"[--until date]\n" \
	"                [-n limit] word ...\n" \
	"       rk-trace [-d db] export [--batch id] [-p profile] " \
	"[-t protocol]\n" \
	"                [-s status] [--since date] [--until date] " \
	"[-n limit]\n" \
	"       rk-trace [-d db] import [file ...]\n" \
	"       rk-trace [-d db] [-f json | text] merge db ...\n" \
	"       rk-trace [-d db] done --batch id\n" \
	"       rk-trace [-d db] rm id ...\n" \
	"       rk-trace [-d db] [-f json | text] prune --before date\n"

/* the options before the command, and those of the command */
static struct rk_cli cli = { .defs = opts, .formats = formats, .posix = 1,
    .usage = USAGE };
static struct rk_cli sub = { .defs = opts, .formats = formats,
    .usage = USAGE };

const char *dflag;		/* the database */
int fflag = FMT_AUTO;
struct rk_style style;
static int nflag;		/* store mode: do not store */
static long eflag = -1;		/* store mode: records expected */

void
usage(void)
{
	exit(rk_opt_done(&cli, RK_OPT_USAGE));
}

/* -h, -V, -f, or else a usage error, for the command line c */
static void
common_opt(struct rk_cli *c, int ch)
{
	int act;

	if ((act = rk_opt(c, ch, optarg)) != RK_OPT_NEXT)
		exit(rk_opt_done(c, act));
	if (ch != 'f')
		usage();
	fflag = c->format == 1 ? FMT_TEXT : FMT_JSON;
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
				    "database (set XDG_DATA_HOME or "
				    "RK_TRACE_DB, or give -d)", dir);
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

/* say what the store could not do, and keep status */
void
store_failed(struct rk_store *st, int status)
{
	warnx("%s", rk_store_error(st));
	rk_exit_status(status);
}

void
close_store(struct rk_store *st)
{
	struct rk_error e;

	if (rk_store_close(st, &e) != 0)
		warnx("%s", e.msg);
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
	case O_BATCH:
		a->f.batch = optarg;
		break;
	case O_SINCE:
		parse_date("--since", optarg, a->f.since);
		break;
	case O_UNTIL:
		parse_date("--until", optarg, a->f.until);
		break;
	case O_BEFORE:
		parse_date("--before", optarg, a->before);
		break;
	default:
		common_opt(&sub, c);
	}
}

/* c as parse_args()'s allowed names it */
static int
letter(int c)
{
	switch (c) {
	case O_BATCH: return 'B';
	case O_SINCE: return 'S';
	case O_UNTIL: return 'U';
	case O_BEFORE: return 'O';
	case O_EXPECT: case O_NOSTORE: return 'x';	/* before it only */
	default: return c;
	}
}

/* c as the command line writes it: "-p" or "--since" */
static void
option_name(int c, char *buf, size_t size)
{
	const struct rk_optdef *d = opts;

	while (d->ch != 0 && d->ch != c)
		d++;
	if (d->name != NULL)
		snprintf(buf, size, "--%s", d->name);
	else
		snprintf(buf, size, "-%c", c);
}

/*
 * The options of a command, before or after its operands: allowed holds
 * the letters it takes (B, S, U and O stand for --batch, --since, --until
 * and --before).
 */
void
parse_args(int argc, char *argv[], const char *allowed, struct args *a)
{
	char name[32];
	int c;

	memset(a, 0, sizeof(*a));
	optind = 0;	/* getopt afresh, argv[0] is the command */
	while ((c = rk_getopt(&sub, argc, argv)) != -1) {
		if (c != '?' && c != 'h' && c != 'V' &&
		    strchr(allowed, letter(c)) == NULL) {
			option_name(c, name, sizeof(name));
			warnx("%s: option %s does not apply", argv[0], name);
			usage();
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
	int c;

	while ((c = rk_getopt(&cli, argc, argv)) != -1)
		switch (c) {
		case 'd':
			dflag = optarg;
			break;
		case O_EXPECT:
			if (rk_parse_uint(optarg, 1000000000, &eflag) == -1)
				errx(RK_EXIT_USAGE, "--expect: not a count: "
				    "'%s'", optarg);
			break;
		case O_NOSTORE:
			nflag = 1;
			break;
		default:
			common_opt(&cli, c);
		}
}

int
main(int argc, char *argv[])
{
	struct rk_error e;
	size_t i;

	if (rk_init(argv[0], &e) != 0)
		errx(e.code, "%s", e.msg);
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
			warnx("%s: --%s applies to store mode only", argv[0],
			    nflag ? "no-store" : "expect");
			usage();
		}
		return commands[i].fn(argc, argv);
	}
	warnx("%s: no such command", argv[0]);
	usage();
}
