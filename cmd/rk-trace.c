/*
 * rk-trace: the end of a think pipeline.  In store mode (no subcommand) it
 * reads records, stores each in the trace database and writes it on to
 * stdout, or a text report of it when asked to or when stdout is a
 * terminal.  Each record is committed before it is written on, and it is
 * written on even when it cannot be stored.  The subcommands ls, show,
 * export, rm and prune read and tidy the database.
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
enum { OPT_HELP = 256, OPT_VERSION, OPT_SINCE, OPT_UNTIL, OPT_BEFORE };

static const char *dflag;	/* the database */
static int fflag = FMT_AUTO;
static int nflag;		/* store mode: do not store */
static long eflag = -1;		/* store mode: records expected */
static struct rk_style style;

static void
usage(FILE *fp)
{
	const char *p = rk_progname;

	fprintf(fp,
	    "usage: %s [-n] [-d db] [-e count] [-f json | text] [file ...]\n"
	    "       %s [-d db] [-f json | text] ls [-p protocol] [-P profile]\n"
	    "                [-s status] [--since date] [--until date]"
	    " [-n limit]\n"
	    "       %s [-d db] [-f json | text] show id ...\n"
	    "       %s [-d db] export [-p protocol] [-P profile] [-s status]\n"
	    "                [--since date] [--until date] [-n limit]\n"
	    "       %s [-d db] rm id ...\n"
	    "       %s [-d db] [-f json | text] prune --before date\n",
	    p, p, p, p, p, p);
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
	st = rk_store_open(path, create);
	free(path);
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
		int rc;

		if (!t->text)
			rc = rk_write_line(stdout, out, outlen);
		else {
			if (t->n > 0)
				putchar('\n');
			rk_report(stdout, rec, &style);
			rc = fflush(stdout) == EOF ? -1 : 0;
		}
		if (rc == -1) {
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

static int
store_mode(int argc, char *argv[])
{
	struct tee t;
	int i, fd;

	/* a reader that goes away does not stop the storing */
	signal(SIGPIPE, SIG_IGN);
	memset(&t, 0, sizeof(t));
	t.text = text_output();
	t.out_ok = 1;
	if (!nflag && (t.st = open_store(1)) == NULL)
		rk_exit_status(RK_EXIT_IO);
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

/* --- ls and export --------------------------------------------------- */

static const struct option filter_opts[] = {
	{ "help", no_argument, NULL, OPT_HELP },
	{ "since", required_argument, NULL, OPT_SINCE },
	{ "until", required_argument, NULL, OPT_UNTIL },
	{ NULL, 0, NULL, 0 }
};

static void
parse_date(const char *opt, const char *arg, char out[25])
{
	if (rk_parse_date(arg, out) == -1)
		errx(RK_EXIT_USAGE, "%s: not a date, time or age: '%s'", opt,
		    arg);
}

static void
parse_filter(int argc, char *argv[], struct rk_filter *f)
{
	int c;

	memset(f, 0, sizeof(*f));
	optind = 0;	/* getopt afresh for the subcommand */
	while ((c = getopt_long(argc, argv, "+n:P:p:s:", filter_opts, NULL)) !=
	    -1)
		switch (c) {
		case 'n':
			if (rk_parse_uint(optarg, 1000000000, &f->limit) ==
			    -1 || f->limit < 1)
				errx(RK_EXIT_USAGE, "-n: not a count of 1 or "
				    "more: '%s'", optarg);
			break;
		case 'P':
			f->profile = optarg;
			break;
		case 'p':
			f->protocol = optarg;
			break;
		case 's':
			if (!rk_status_valid(optarg))
				errx(RK_EXIT_USAGE, "-s: not completed, failed "
				    "or incomplete: '%s'", optarg);
			f->status = optarg;
			break;
		case OPT_SINCE:
			parse_date("--since", optarg, f->since);
			break;
		case OPT_UNTIL:
			parse_date("--until", optarg, f->until);
			break;
		case OPT_HELP:
			usage(stdout);
			break;
		default:
			usage(stderr);
		}
	if (optind != argc) {
		warnx("%s: unexpected argument '%s'", argv[0], argv[optind]);
		usage(stderr);
	}
}

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
cmd_list(int argc, char *argv[], int export)
{
	struct rk_filter f;
	struct rk_store *st;
	long n = 0;

	if (!export && fflag == FMT_AUTO)
		fflag = FMT_TEXT;
	parse_filter(argc, argv, &f);
	if ((st = open_store(0)) == NULL)
		return RK_EXIT_IO;
	if (rk_store_each(st, &f, export, export ? export_row : ls_row,
	    &n) == -1)
		rk_exit_status(RK_EXIT_IO);
	rk_store_close(st);
	return rk_finish();
}

/* --- show and rm ----------------------------------------------------- */

static int
show_run(const struct rk_run *run, const char *json, size_t len, void *arg)
{
	long *n = arg;
	json_error_t je;
	json_t *rec;

	if (!text_output()) {
		if (fwrite(json, 1, len, stdout) != len ||
		    putchar('\n') == EOF)
			err(RK_EXIT_IO, "stdout");
		return 0;
	}
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

/* show and rm: one run per unique id prefix */
static int
cmd_ids(int argc, char *argv[], int rm)
{
	struct rk_store *st;
	char *id;
	long n = 0;
	int i, ambiguous;

	if (!rm && fflag == FMT_AUTO)
		fflag = FMT_TEXT;
	if (argc >= 2 && strcmp(argv[1], "--help") == 0)
		usage(stdout);
	if (argc < 2 || (argv[1][0] == '-' && argv[1][1] != '\0'))
		usage(stderr);
	if ((st = open_store(0)) == NULL)
		return RK_EXIT_IO;
	for (i = 1; i < argc; i++) {
		if ((id = rk_store_find(st, argv[i], &ambiguous)) == NULL) {
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

/* --- prune ----------------------------------------------------------- */

static int
cmd_prune(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "before", required_argument, NULL, OPT_BEFORE },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 }
	};
	struct rk_store *st;
	char before[25] = "";
	long n;
	int c;

	if (fflag == FMT_AUTO)
		fflag = FMT_TEXT;
	optind = 0;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1)
		switch (c) {
		case OPT_BEFORE:
			parse_date("--before", optarg, before);
			break;
		case OPT_HELP:
			usage(stdout);
			break;
		default:
			usage(stderr);
		}
	if (optind != argc || before[0] == '\0') {
		warnx("prune: needs --before date and nothing else");
		usage(stderr);
	}
	if ((st = open_store(0)) == NULL)
		return RK_EXIT_IO;
	if ((n = rk_store_prune(st, before)) < 0)
		rk_exit_status(RK_EXIT_IO);
	else if (text_output())
		printf("removed %ld run%s\n", n, n == 1 ? "" : "s");
	else
		printf("{\"removed\":%ld}\n", n);
	rk_store_close(st);
	return rk_finish();
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, OPT_HELP },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 }
	};
	const char *cmd;
	int c;

	rk_init(argv[0]);
	while ((c = getopt_long(argc, argv, "+d:e:f:n", opts, NULL)) != -1)
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
		case OPT_HELP:
			usage(stdout);
			break;
		case OPT_VERSION:
			rk_version();
			break;
		default:
			usage(stderr);
		}
	argc -= optind;
	argv += optind;
	rk_style_for(stdout, &style);

	cmd = argc > 0 ? argv[0] : "";
	if (strcmp(cmd, "ls") == 0 || strcmp(cmd, "export") == 0 ||
	    strcmp(cmd, "show") == 0 || strcmp(cmd, "rm") == 0 ||
	    strcmp(cmd, "prune") == 0) {
		if (nflag || eflag >= 0) {
			warnx("%s: -%c applies to store mode only", cmd,
			    nflag ? 'n' : 'e');
			usage(stderr);
		}
		if (strcmp(cmd, "ls") == 0)
			return cmd_list(argc, argv, 0);
		if (strcmp(cmd, "export") == 0)
			return cmd_list(argc, argv, 1);
		if (strcmp(cmd, "show") == 0)
			return cmd_ids(argc, argv, 0);
		if (strcmp(cmd, "rm") == 0)
			return cmd_ids(argc, argv, 1);
		return cmd_prune(argc, argv);
	}
	return store_mode(argc, argv);
}
