/*
 * rk-trace: the end of a think pipeline.  In store mode (no subcommand) it
 * reads records, stores each in the trace database and writes it on to
 * stdout, or a text report of it when asked to or when stdout is a
 * terminal.  Each record is committed before it is written on, and it is
 * written on even when it cannot be stored.  The other commands read,
 * search, copy, merge and tidy the database.  Like git, the common options
 * -d and -f may come before or after the command.
 *
 * A record is written on byte for byte as it came when it came as a record
 * (a JSON object with its rk and id); what rk_read() made or changed (a
 * question line, an error record for a bad line) is written as rk_write()
 * writes it.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/rk.h"
#include "think/think.h"
#include "store/store.h"

enum { FMT_AUTO, FMT_JSON, FMT_TEXT };
enum { OPT_HELP = 256, OPT_VERSION, OPT_SINCE, OPT_UNTIL, OPT_BEFORE,
	OPT_BATCH };

static const char *dflag;	/* the database */
static int fflag = FMT_AUTO;
static int nflag;		/* store mode: do not store */
static long eflag = -1;		/* store mode: records expected */
static struct rk_style style;

#define FILTERS "[--batch id] [-p profile] [-t protocol] [-s status]\n" \
	"                [--since date] [--until date]"

static void
usage(FILE *fp)
{
	const char *p = rk_progname;

	fprintf(fp,
	    "usage: %s [-n] [-d db] [-e count] [-f json | text] [store [file ...]]\n"
	    "       %s [-d db] [-f json | text] ls " FILTERS " [-n limit]\n"
	    "       %s [-d db] [-f json | text] show id ...\n"
	    "       %s [-d db] [-f json | text] last " FILTERS "\n"
	    "       %s [-d db] [-f json | text] search " FILTERS "\n"
	    "                [-n limit] word ...\n"
	    "       %s [-d db] export " FILTERS " [-n limit]\n"
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

static int
text_output(void)
{
	return fflag == FMT_TEXT || (fflag == FMT_AUTO && isatty(1));
}

/*
 * The database: -d, else $RK_TRACE_DB, else the XDG data directory, made
 * when storing.
 */
static struct rk_store *
open_store(int create)
{
	struct rk_store *st;
	struct rk_error e;
	char *path, *copy;
	const char *dir;

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

/* --- store mode ------------------------------------------------------ */

struct tee {
	struct rk_store	*st;
	FILE		*mem;		/* the record as rk_write() writes it */
	char		*buf;
	size_t		 len;
	int		 text;
	int		 out_ok;
	long		 n;
};

/*
 * raw: the line the record came from, when it is the record as it is; it
 * is stored and written on byte for byte.  Records that rk_read() made or
 * changed (a question, an added envelope, an error) are written anew.
 */
static void
tee_record(struct tee *t, json_t *rec, const char *raw, size_t rawlen)
{
	json_t *written = NULL;
	const char *out = raw;
	size_t outlen = rawlen;

	if (raw == NULL) {
		int rc;

		if (fseeko(t->mem, 0, SEEK_SET) == -1 ||
		    (rc = rk_write(t->mem, rec)) == -1)
			err(RK_EXIT_INTERNAL, "memory stream");
		out = t->buf;
		outlen = t->len - 1;
		if (rc == RK_EXIT_INPUT &&
		    (written = json_loadb(t->buf, t->len, 0, NULL)) != NULL) {
			rec = written;	/* rk_write() put an error record */
			rk_exit_status(RK_EXIT_INPUT);
		}
	}
	if (rk_has_error(rec))
		rk_exit_status(rk_error_status(rec));
	if (t->st != NULL && rk_store_put(t->st, rec, out, outlen) == -1)
		rk_exit_status(RK_EXIT_IO);
	if (t->out_ok) {
		if (!t->text) {
			fwrite(out, 1, outlen, stdout);
			putchar('\n');
		} else {
			if (t->n > 0)
				putchar('\n');
			rk_report(stdout, rec, &style);
		}
		if (fflush(stdout) == EOF) {
			/* said once here; keep storing what comes */
			warn("stdout");
			rk_exit_status(RK_EXIT_IO);
			clearerr(stdout);
			t->out_ok = 0;
		}
	}
	t->n++;
	json_decref(written);
}

static void
tee_file(struct tee *t, int fd, const char *name)
{
	struct rk_reader *r = rk_reader_fd(fd, name);
	const char *line;
	json_t *rec;
	size_t len;
	int obj;

	while ((line = rk_read_raw(r, &len, &obj)) != NULL) {
		rec = rk_reader_record(r);
		tee_record(t, rec, obj && rk_reader_verbatim(r) ? line : NULL,
		    len);
		json_decref(rec);
	}
	rk_exit_status(rk_reader_status(r));
	rk_reader_free(r);
}

/* store mode, and import (quiet: store only, write nothing on) */
static int
store_mode(int argc, char *argv[], int quiet)
{
	struct tee t;
	int i, fd;

	/* a reader that goes away does not stop the storing */
	signal(SIGPIPE, SIG_IGN);
	memset(&t, 0, sizeof(t));
	t.text = text_output();
	t.out_ok = !quiet;
	if (!nflag)
		t.st = open_store(1);
	if ((t.mem = open_memstream(&t.buf, &t.len)) == NULL)
		err(RK_EXIT_INTERNAL, "memory stream");
	if (argc == 0)
		tee_file(&t, STDIN_FILENO, "stdin");
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "-") == 0)
			tee_file(&t, STDIN_FILENO, "stdin");
		else if ((fd = open(argv[i], O_RDONLY)) == -1) {
			warn("%s", argv[i]);
			rk_exit_status(RK_EXIT_IO);
		} else {
			tee_file(&t, fd, argv[i]);
			close(fd);
		}
	}
	fclose(t.mem);
	free(t.buf);
	rk_store_close(t.st);
	if (eflag >= 0 && t.n < eflag) {
		/* a stage before us died and took its records with it */
		warnx("expected %ld record%s, got %ld: an earlier stage failed",
		    eflag, eflag == 1 ? "" : "s", t.n);
		rk_exit_status(RK_EXIT_FAILED);
	}
	return rk_finish();
}

/* --- the options of the commands ------------------------------------- */

struct args {
	struct rk_filter f;
	char	 before[25];
	int	 argc;		/* the operands */
	char	**argv;
};

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
static void
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

/* --- ls, last, search and export ------------------------------------- */

static int
ls_row(const struct rk_run *run, const char *json, size_t len, void *arg)
{
	long *n = arg;
	json_t *o;

	if (!text_output()) {
		o = rk_run_json(run);
		if (rk_write(stdout, o) == -1)
			err(RK_EXIT_IO, "stdout");
		json_decref(o);
		return 0;
	}
	if ((*n)++ == 0)
		rk_report_header(stdout, &style);
	rk_report_row(stdout, run, &style);
	return 0;
}

static int
export_row(const struct rk_run *run, const char *json, size_t len,
    void *arg)
{
	if (fwrite(json, 1, len, stdout) != len || putchar('\n') == EOF)
		err(RK_EXIT_IO, "stdout");
	return 0;
}

static int
show_run(const struct rk_run *run, const char *json, size_t len, void *arg)
{
	long *n = arg;
	json_error_t je;
	json_t *rec;

	if (!text_output())
		return export_row(run, json, len, arg);
	if ((rec = json_loadb(json, len, 0, &je)) == NULL) {
		warnx("%s: stored record is not JSON: %s", run->id, je.text);
		rk_exit_status(RK_EXIT_IO);
		return 0;
	}
	if ((*n)++ > 0)
		putchar('\n');
	rk_report(stdout, rec, &style);
	json_decref(rec);
	return 0;
}

/* ls, export, last (the newest run, shown) and search (words matched) */
static int
cmd_list(int argc, char *argv[], rk_run_fn *fn, int oldest_first)
{
	struct rk_store *st;
	struct args a;
	char *words = NULL;
	long n = 0;

	if (fn != export_row && fflag == FMT_AUTO)
		fflag = FMT_TEXT;
	parse_args(argc, argv, fn == export_row ? "dnpstBSU" :
	    fn == show_run ? "dfpstBSU" : "dfnpstBSU", &a);
	if (fn == show_run)
		a.f.limit = 1;
	if (strcmp(argv[0], "search") == 0) {
		if (a.argc == 0)
			errx(RK_EXIT_USAGE, "search: no words");
		words = rk_join_args(a.argc, a.argv);
		a.f.match = words;
	} else if (a.argc > 0) {
		warnx("%s: unexpected argument '%s'", argv[0], a.argv[0]);
		usage(stderr);
	}
	if ((st = open_store(0)) == NULL)
		return rk_finish();
	if (rk_store_each(st, &a.f, oldest_first, fn, &n) == -1)
		rk_exit_status(RK_EXIT_IO);
	rk_store_close(st);
	free(words);
	return rk_finish();
}

static int
cmd_ls(int argc, char *argv[])
{
	return cmd_list(argc, argv, ls_row, 0);
}

static int
cmd_search(int argc, char *argv[])
{
	return cmd_list(argc, argv, ls_row, 0);
}

static int
cmd_last(int argc, char *argv[])
{
	return cmd_list(argc, argv, show_run, 0);
}

static int
cmd_export(int argc, char *argv[])
{
	return cmd_list(argc, argv, export_row, 1);
}

/* --- show and rm ----------------------------------------------------- */

/* show and rm: one run per unique id prefix */
static int
cmd_ids(int argc, char *argv[], int rm)
{
	struct rk_store *st;
	struct args a;
	char *id;
	long n = 0;
	int i, ambiguous;

	if (!rm && fflag == FMT_AUTO)
		fflag = FMT_TEXT;
	parse_args(argc, argv, rm ? "d" : "df", &a);
	if (a.argc == 0)
		usage(stderr);
	if ((st = open_store(0)) == NULL)
		return rk_finish();
	for (i = 0; i < a.argc; i++) {
		if ((id = rk_store_find(st, a.argv[i], &ambiguous)) == NULL) {
			rk_exit_status(RK_EXIT_USAGE);
			continue;
		}
		if ((rm ? rk_store_rm(st, id) :
		    rk_store_get(st, id, show_run, &n)) == -1)
			rk_exit_status(RK_EXIT_IO);
		free(id);
	}
	rk_store_close(st);
	return rk_finish();
}

static int
cmd_show(int argc, char *argv[])
{
	return cmd_ids(argc, argv, 0);
}

static int
cmd_rm(int argc, char *argv[])
{
	return cmd_ids(argc, argv, 1);
}

/* --- store, import, merge, done and prune ---------------------------- */

static int
cmd_store(int argc, char *argv[])
{
	struct args a;

	parse_args(argc, argv, "df", &a);
	return store_mode(a.argc, a.argv, 0);
}

static int
cmd_import(int argc, char *argv[])
{
	struct args a;

	parse_args(argc, argv, "d", &a);
	return store_mode(a.argc, a.argv, 1);
}

static void
merge_conflict(const char *src, const char *id, void *arg)
{
	warnx("%s: %s: conflicts with the stored run, which is kept", src, id);
}

static void
merge_report(const char *src, const struct rk_merge *m)
{
	json_t *o;

	if (text_output()) {
		printf("%s: %ld added, %ld already there, %ld in conflict\n",
		    src, m->added, m->present, m->conflicts);
		return;
	}
	o = json_pack("{s:s,s:I,s:I,s:I}", "db", src, "added",
	    (json_int_t)m->added, "present", (json_int_t)m->present,
	    "conflicts", (json_int_t)m->conflicts);
	if (o == NULL || rk_write(stdout, o) == -1)
		err(RK_EXIT_IO, "stdout");
	json_decref(o);
}

static int
cmd_merge(int argc, char *argv[])
{
	struct rk_merge m;
	struct rk_store *st;
	struct args a;
	int i;

	if (fflag == FMT_AUTO)
		fflag = FMT_TEXT;
	parse_args(argc, argv, "df", &a);
	if (a.argc == 0)
		usage(stderr);
	if ((st = open_store(1)) == NULL)
		return rk_finish();
	for (i = 0; i < a.argc; i++) {
		if (rk_store_merge(st, a.argv[i], &m, merge_conflict,
		    NULL) == -1) {
			rk_exit_status(RK_EXIT_IO);
			continue;
		}
		if (m.conflicts > 0)
			rk_exit_status(RK_EXIT_FAILED);
		merge_report(a.argv[i], &m);
	}
	rk_store_close(st);
	return rk_finish();
}

static int
done_row(const struct rk_run *run, const char *json, size_t len, void *arg)
{
	json_t *o = json_pack("{s:s?,s:s?,s:s?}", "batch", run->batch,
	    "item", run->item, "query", run->query);

	if (o == NULL || rk_write(stdout, o) == -1)
		err(RK_EXIT_IO, "stdout");
	json_decref(o);
	return 0;
}

static int
cmd_done(int argc, char *argv[])
{
	struct rk_store *st;
	struct args a;

	parse_args(argc, argv, "dB", &a);
	if (a.f.batch == NULL || a.argc > 0) {
		warnx("done: needs --batch id and nothing else");
		usage(stderr);
	}
	if ((st = open_store(0)) == NULL)
		return rk_finish();
	if (rk_store_done(st, a.f.batch, done_row, NULL) == -1)
		rk_exit_status(RK_EXIT_IO);
	rk_store_close(st);
	return rk_finish();
}

static int
cmd_prune(int argc, char *argv[])
{
	struct rk_store *st;
	struct args a;
	long n;

	if (fflag == FMT_AUTO)
		fflag = FMT_TEXT;
	parse_args(argc, argv, "dfO", &a);
	if (a.argc > 0 || a.before[0] == '\0') {
		warnx("prune: needs --before date and nothing else");
		usage(stderr);
	}
	if ((st = open_store(0)) == NULL)
		return rk_finish();
	if ((n = rk_store_prune(st, a.before)) < 0)
		rk_exit_status(RK_EXIT_IO);
	else if (text_output())
		printf("removed %ld run%s\n", n, n == 1 ? "" : "s");
	else
		printf("{\"removed\":%ld}\n", n);
	rk_store_close(st);
	return rk_finish();
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

	while ((c = getopt_long(argc, argv, "+d:e:f:hn", opts, NULL)) != -1)
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
		return store_mode(0, argv, 0);
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
