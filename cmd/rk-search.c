/* rk-search: index documents and answer BM25 queries */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/rk.h"
#include "search/search.h"

static struct rk_index *ix;
static char ix_err[512];	/* why the index failed to open (-r goes on) */
static struct rk_index_params params;
static const char *index_path;
static const char *tag = "rk-search";
static size_t budget = 8192;
static long kflag = 10;
static int dflag, Lflag, qflag, rflag, vflag, fresh;
static enum rk_hits_format format;
static int format_given;
static const char *pflag;
static double last_progress = -1;

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: rk-search -i index [-qv] [-a analyzer] [-c size] "
	    "[-o overlap] [-p params]\n"
	    "                 add file|dir ...\n"
	    "       rk-search -i index rm doc ...\n"
	    "       rk-search -i index stats | optimize\n"
	    "       rk-search -i index [-dLr] [-b bytes] [-f format] [-k n] "
	    "[-p params]\n"
	    "                 [-t tag] [query] [word ...]\n");
	if (fp == stderr)
		exit(RK_EXIT_USAGE);
	exit(rk_finish());
}

static void __attribute__((noreturn))
index_failed(void)
{
	warnx("%s", rk_index_error(ix));
	if (fresh) {
		rk_index_close(ix);
		rk_index_remove(index_path);
	}
	exit(RK_EXIT_IO);
}

/* -c, -o: 0 or a size of min bytes or more */
static void
size_option(int c, const char *arg, size_t min, size_t *dst)
{
	if (strcmp(arg, "0") != 0 && (rk_parse_size(arg, dst) == -1 ||
	    *dst < min))
		errx(RK_EXIT_USAGE, "-%c: not 0 or a size%s: '%s'", c,
		    min > 0 ? " of 16 bytes or more" : "", arg);
	if (strcmp(arg, "0") == 0)
		*dst = 0;
}

static void
on_note(void *arg, int code, int why, const char *subject, const char *msg)
{
	(void)arg;
	if (code != 0) {
		warnx("%s: %s", subject, msg);
		rk_exit_status(code);
	} else if (vflag)
		warnx("%s: %s, skipped", subject, rk_skip_name(why));
}

static void
on_progress(void *arg, const struct rk_ingest_stats *st)
{
	double now = rk_now_ms();

	(void)arg;
	if (now - last_progress < 500)
		return;
	last_progress = now;
	fprintf(stderr, "\rrk-search: %zu documents, %zu chunks, %.1f MB",
	    st->docs, st->chunks, st->bytes / 1048576.0);
}

static void
cmd_add(int argc, char **argv)
{
	struct rk_ingest_opts o = { &params, on_note, NULL, NULL };
	struct rk_ingest_stats st;
	struct rk_ingest *g;

	if (isatty(STDERR_FILENO) && !qflag)
		o.progress = on_progress;
	if ((g = rk_ingest_new(ix, index_path, &o)) == NULL)
		index_failed();
	for (int i = 0; i < argc; i++)
		if (rk_ingest_add(g, argv[i]) == -1)
			break;
	if (rk_ingest_finish(g, &st) == -1)
		index_failed();
	if (!qflag) {
		char *line = rk_ingest_summary(&st);

		fprintf(stderr, "%s%s: %s\n", last_progress >= 0 ? "\r" : "",
		    rk_progname, line);
		free(line);
	}
	rk_exit_status(st.status);
	if (st.docs == 0 && st.failed == 0)
		rk_exit_status(RK_EXIT_INPUT);
	if (st.docs == 0 && fresh) {
		rk_index_close(ix);
		ix = NULL;
		if (rk_index_remove(index_path) == -1)
			warn("%s", index_path);
	}
}

static void
cmd_rm(int argc, char **argv)
{
	if (rk_index_begin(ix) == -1)
		index_failed();
	for (int i = 0; i < argc; i++)
		switch (rk_index_rm(ix, argv[i])) {
		case -1:
			index_failed();
		case 0:
			warnx("%s: no such document", argv[i]);
			rk_exit_status(RK_EXIT_INPUT);
		}
	if (rk_index_commit(ix) == -1 || rk_index_pack(ix) == -1)
		index_failed();
}

static void
print_hits(const char *qid, const char *query)
{
	struct rk_hits_out out = { format, tag, rk_index_analyzer(ix),
	    rk_getenv("NO_COLOR") != NULL };
	struct rk_result *v;
	size_t n;

	if (rk_index_query(ix, query, &params, kflag, dflag || format ==
	    RK_HITS_TREC, format != RK_HITS_TREC, &v, &n) == -1)
		errx(RK_EXIT_IO, "%s", rk_index_error(ix));
	if (rk_results_print(stdout, &out, qid, query, v, n) == -1)
		err(RK_EXIT_IO, "stdout");
	rk_results_free(v, n);
}

/* attach the best hits that fit the budget to a record as context */
static void
attach(json_t *rec)
{
	const char *query = rk_get_string(rec, "query");
	json_t *ctx, *lists;
	struct rk_result *v;
	size_t n;

	if (rk_has_error(rec) || query == NULL)
		;
	else if (ix == NULL || rk_index_query(ix, query, &params, kflag,
	    dflag, 1, &v, &n) == -1) {
		rk_set_error(rec, rk_progname, "index", "%s",
		    ix ? rk_index_error(ix) : ix_err);
		rk_exit_status(RK_EXIT_IO);
	} else {
		ctx = rk_results_context(v, n, budget);
		rk_results_free(v, n);
		if (!Lflag)
			json_object_set_new(rec, "context", ctx);
		else if (json_is_array(lists = json_object_get(rec, "lists")))
			json_array_append_new(lists, ctx);
		else
			json_object_set_new(rec, "lists", json_pack("[o]", ctx));
	}
	if (rk_write(stdout, rec) == -1)
		err(RK_EXIT_IO, "stdout");
}

static void
record_mode(void)
{
	struct rk_reader *r = rk_reader_new(stdin, "stdin");
	json_t *rec;

	while ((rec = rk_read(r)) != NULL) {
		attach(rec);
		json_decref(rec);
	}
	rk_exit_status(rk_reader_status(r));
	rk_reader_free(r);
}

/* text mode: one query per line, "ID<TAB>query" names it */
static void
line_mode(void)
{
	struct rk_reader *r = rk_reader_new(stdin, "stdin");
	char *qid, *query;
	size_t nq = 0;
	int rc, warned = 0;

	while ((rc = rk_query_next(r, &nq, &qid, &query)) != -1) {
		if (rc == 1 && !warned++)
			warnx("stdin:%zu: a JSON line is read as a query; -r "
			    "reads records", nq);
		print_hits(qid, query);
		free(qid);
	}
	rk_exit_status(rk_reader_status(r));
	rk_reader_free(r);
}

static void
cmd_query(int argc, char **argv)
{
	char *query;

	if (argc == 0 || (argc == 1 && strcmp(argv[0], "-") == 0)) {
		if (rflag)
			record_mode();
		else
			line_mode();
		return;
	}
	query = rk_join_args(argc, argv);
	if (rflag) {
		json_t *rec = rk_record_new(query);

		attach(rec);
		json_decref(rec);
	} else
		print_hits(NULL, query);
	free(query);
}

static void
parse_option(int c, struct rk_analyzer *an, struct rk_analyzer **anp)
{
	switch (c) {
	case 'a':
		if (rk_analyzer_parse(optarg, an) == -1)
			errx(RK_EXIT_USAGE, "-a: not stem, a stemmer, stop "
			    "or none: '%s'", optarg);
		*anp = an;
		break;
	case 'b':
		if (rk_parse_size(optarg, &budget) == -1)
			errx(RK_EXIT_USAGE, "-b: not a size: '%s'", optarg);
		break;
	case 'c':
		size_option(c, optarg, 16, &params.chunk);
		break;
	case 'd':
	case 'q':
	case 'r':
	case 'v':
		*(c == 'd' ? &dflag : c == 'q' ? &qflag : c == 'r' ? &rflag :
		    &vflag) = 1;
		break;
	case 'f':
		format = strcmp(optarg, "json") != 0 &&
		    rk_parse_hits_format(optarg) ? RK_HITS_TREC : RK_HITS_JSON;
		format_given = 1;
		break;
	case 'h':
		usage(stdout);
		break;
	case 'i':
		index_path = optarg;
		break;
	case 'k':
		if (rk_parse_uint(optarg, 100000, &kflag) == -1 || kflag < 1)
			errx(RK_EXIT_USAGE, "-k: not 1..100000: '%s'", optarg);
		break;
	case 'L':
		Lflag = rflag = 1;
		break;
	case 'o':
		size_option(c, optarg, 0, &params.overlap);
		break;
	case 'p': {
		/* checked now, applied over the index's settings later */
		struct rk_index_params scratch;
		struct rk_error e;

		if (rk_index_parse_params(optarg, &scratch, &e) != 0)
			errx(e.code, "-p: %s", e.msg);
		pflag = optarg;
		break;
	}
	case 't':
		tag = rk_parse_run_tag(optarg);
		break;
	case 'V':
		rk_version();
		break;
	default:
		usage(stderr);
	}
}

/*
 * Open the index.  One that cannot be opened for a query in record
 * mode still lets each record through, with the error in it.
 */
static void
open_index(int create, const struct rk_analyzer *an, int records)
{
	if ((ix = rk_index_open(index_path, create, an)) == NULL)
		err(RK_EXIT_INTERNAL, "rk_index_open");
	/* removed again if nothing goes in; never one another process made */
	fresh = rk_index_created(ix);
	if (*rk_index_error(ix) == '\0') {
		struct rk_error e;

		if (rk_index_settings(ix, &params, pflag, create, &e) ==
		    RK_EXIT_USAGE)
			errx(RK_EXIT_USAGE, "-o: %s", e.msg);
		else if (e.code != 0)
			index_failed();
	} else if (records) {
		warnx("%s", rk_index_error(ix));
		snprintf(ix_err, sizeof(ix_err), "%s", rk_index_error(ix));
		rk_index_close(ix);
		ix = NULL;
	} else
		index_failed();
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct rk_analyzer an, *anp = NULL;
	const char *cmd;
	char *stats;
	int c, create, query;

	rk_init(argv[0]);
	params.chunk = params.overlap = (size_t)-1;
	while ((c = getopt_long(argc, argv, "a:b:c:df:hi:k:Lo:p:qrt:vV",
	    longopts, NULL)) != -1)
		parse_option(c, &an, &anp);
	argc -= optind;
	argv += optind;
	if (index_path == NULL && (index_path = rk_getenv("RK_INDEX")) == NULL)
		errx(RK_EXIT_USAGE, "no index: give -i INDEX or set RK_INDEX");
	cmd = argc > 0 ? argv[0] : "";
	create = strcmp(cmd, "add") == 0;
	query = !create && strcmp(cmd, "rm") != 0 &&
	    strcmp(cmd, "stats") != 0 && strcmp(cmd, "optimize") != 0;
	if ((create || strcmp(cmd, "rm") == 0) && argc < 2)
		usage(stderr);
	if (!format_given && isatty(STDOUT_FILENO) && !rflag)
		format = RK_HITS_TERM;
	open_index(create, create ? anp : NULL, query && rflag);
	if (anp != NULL && !create)
		warnx("-a only applies when adding; ignored");
	if (create)
		cmd_add(argc - 1, argv + 1);
	else if (strcmp(cmd, "rm") == 0)
		cmd_rm(argc - 1, argv + 1);
	else if (argc != 1 && !query)
		usage(stderr);
	else if (strcmp(cmd, "optimize") == 0) {
		if (rk_index_begin(ix) == -1 || rk_index_optimize(ix) == -1 ||
		    rk_index_commit(ix) == -1)
			index_failed();
	} else if (!query) {
		if ((stats = rk_index_stats(ix)) == NULL)
			index_failed();
		puts(stats);
		free(stats);
	}
	else if (strcmp(cmd, "query") == 0)
		cmd_query(argc - 1, argv + 1);
	else
		cmd_query(argc, argv);
	rk_index_close(ix);
	return rk_finish();
}
