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
static const char *index_path, *pflag;
static int Lflag, qflag, rflag, vflag, fresh;
static enum rk_hits_format format;
static double last_progress = -1;

enum { O_ANALYZER = RK_OPT_OWN, O_CHUNK, O_OVERLAP, O_PARAMS };

static const struct rk_optdef opts[] = {
	{ 'f', "format", required_argument, "format",
	    "ndjson or trec; on a terminal, text for people" },
	{ 'i', NULL, required_argument, "index",
	    "the index; default RK_INDEX" },
	{ 'k', NULL, required_argument, "n", "the number of hits; default 10" },
	{ 'L', NULL, no_argument, NULL,
	    "record mode, the hits appended as a new list" },
	{ 'q', NULL, no_argument, NULL,
	    "quiet: with add, no summary and no progress" },
	{ 'r', NULL, no_argument, NULL, "record mode: hits into each record" },
	{ 'v', NULL, no_argument, NULL,
	    "verbose: with add, name each file skipped" },
	{ O_ANALYZER, "analyzer", required_argument, "analyzer",
	    "with add: stem, a stemmer, stop or none" },
	{ RK_OPT_BYDOC, "by-doc", no_argument, NULL,
	    "at most one hit, the best chunk, per document" },
	{ RK_OPT_BYTES, "context-bytes", required_argument, "bytes",
	    "record mode: the most bytes of hit text; default 8K" },
	{ O_CHUNK, "chunk-size", required_argument, "size",
	    "with add: chunk size in bytes, 0 for whole documents" },
	{ O_OVERLAP, "overlap", required_argument, "overlap",
	    "with add: bytes shared by neighbouring chunks" },
	{ O_PARAMS, "params", required_argument, "params",
	    "BM25 and chunking settings: k1=1.2,b=0.75,..." },
	{ RK_OPT_TAG, "tag", required_argument, "tag",
	    "the run tag of TREC output; default rk-search" },
	RK_OPTS_HELP,
	RK_OPTS_END
};

/* ndjson's index is RK_HITS_JSON, trec's RK_HITS_TREC, json as ndjson */
static const char *const formats[] = { "ndjson", "trec", "json", NULL };

static struct rk_cli cli = { .defs = opts, .formats = formats,
    .tag = "rk-search", .hits = 10, .hits_max = 100000,
    .context_bytes = 8192, .usage =
	"usage: rk-search -i index [-qv] [--analyzer analyzer] "
	"[--chunk-size size]\n"
	"                 [--overlap overlap] [--params params] "
	"add file|dir ...\n"
	"       rk-search -i index rm doc ...\n"
	"       rk-search -i index stats | optimize\n"
	"       rk-search -i index [-Lr] [-f format] [-k n] [--by-doc]\n"
	"                 [--context-bytes bytes] [--params params] "
	"[--tag tag]\n"
	"                 [query] [word ...]\n" };

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

/* --chunk-size, --overlap: 0 or a size of min bytes or more */
static void
size_option(const char *opt, const char *arg, size_t min, size_t *dst)
{
	if (strcmp(arg, "0") == 0)
		*dst = 0;
	else if (rk_parse_size(arg, dst) == -1 || *dst < min)
		errx(RK_EXIT_USAGE, "--%s: not 0 or a size%s: '%s'", opt,
		    min > 0 ? " of 16 bytes or more" : "", arg);
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
say_warning(void)
{
	const char *w = rk_index_warning(ix);

	if (w != NULL)
		warnx("%s", w);
}

static void
print_hits(const char *qid, const char *query)
{
	struct rk_hits_out out = { format, cli.tag, rk_index_analyzer(ix),
	    rk_getenv("NO_COLOR") != NULL };
	struct rk_result *v;
	size_t n;

	if (rk_index_query(ix, query, &params, cli.hits, cli.by_doc || format ==
	    RK_HITS_TREC, format != RK_HITS_TREC, &v, &n) == -1)
		errx(RK_EXIT_IO, "%s", rk_index_error(ix));
	say_warning();
	if (rk_results_print(stdout, &out, qid, query, v, n) == -1)
		err(RK_EXIT_IO, "stdout");
	rk_results_free(v, n);
}

/* attach the best hits that fit the budget to a record as context */
static void
attach(json_t *rec)
{
	const char *query = rk_get_string(rec, "query");
	struct rk_result *v;
	size_t n;

	if (rk_has_error(rec) || query == NULL)
		;
	else if (ix == NULL || rk_index_query(ix, query, &params, cli.hits,
	    cli.by_doc, 1, &v, &n) == -1) {
		rk_set_error(rec, rk_progname, "index", "%s",
		    ix ? rk_index_error(ix) : ix_err);
		rk_exit_status(RK_EXIT_IO);
	} else {
		say_warning();
		rk_results_attach(rec, v, n, cli.context_bytes, Lflag);
		rk_results_free(v, n);
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

/* one of rk-search's own options; 0 if c is not one */
static int
parse_option(int c, struct rk_analyzer *an, struct rk_analyzer **anp)
{
	switch (c) {
	case O_ANALYZER:
		if (rk_analyzer_parse(optarg, an) == -1)
			errx(RK_EXIT_USAGE, "--analyzer: not stem, a stemmer, "
			    "stop or none: '%s'", optarg);
		*anp = an;
		break;
	case O_CHUNK:
		size_option("chunk-size", optarg, 16, &params.chunk);
		break;
	case 'q':
	case 'v':
		*(c == 'q' ? &qflag : &vflag) = 1;
		break;
	case 'i':
		index_path = optarg;
		break;
	case 'L':
		Lflag = cli.records = 1;
		break;
	case O_OVERLAP:
		size_option("overlap", optarg, 0, &params.overlap);
		break;
	case O_PARAMS: {
		/* checked now, applied over the index's settings later */
		struct rk_index_params scratch;
		struct rk_error e;

		if (rk_index_parse_params(optarg, &scratch, &e) != 0)
			errx(e.code, "--params: %s", e.msg);
		pflag = optarg;
		break;
	}
	default:
		return 0;
	}
	return 1;
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
			errx(RK_EXIT_USAGE, "--overlap: %s", e.msg);
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
	struct rk_analyzer an, *anp = NULL;
	struct rk_error e;
	const char *cmd;
	char *stats;
	int c, act, create, query;

	if (rk_init(argv[0], &e) != 0)
		errx(e.code, "%s", e.msg);
	params.chunk = params.overlap = (size_t)-1;
	while ((c = rk_getopt(&cli, argc, argv)) != -1)
		if (!parse_option(c, &an, &anp) &&
		    (act = rk_opt(&cli, c, optarg)) != RK_OPT_NEXT)
			return rk_opt_done(&cli, act);
	rflag = cli.records;
	format = cli.format == 1 ? RK_HITS_TREC : RK_HITS_JSON;
	argc -= optind;
	argv += optind;
	if (index_path == NULL && (index_path = rk_getenv("RK_INDEX")) == NULL)
		errx(RK_EXIT_USAGE, "no index: give -i INDEX or set RK_INDEX");
	cmd = argc > 0 ? argv[0] : "";
	create = strcmp(cmd, "add") == 0;
	query = !create && strcmp(cmd, "rm") != 0 &&
	    strcmp(cmd, "stats") != 0 && strcmp(cmd, "optimize") != 0;
	if ((create || strcmp(cmd, "rm") == 0) && argc < 2)
		exit(rk_opt_done(&cli, RK_OPT_USAGE));
	if (!cli.format_set && isatty(STDOUT_FILENO) && !rflag)
		format = RK_HITS_TERM;
	open_index(create, create ? anp : NULL, query && rflag);
	if (anp != NULL && !create)
		warnx("--analyzer only applies when adding; ignored");
	if (create)
		cmd_add(argc - 1, argv + 1);
	else if (strcmp(cmd, "rm") == 0)
		cmd_rm(argc - 1, argv + 1);
	else if (argc != 1 && !query)
		exit(rk_opt_done(&cli, RK_OPT_USAGE));
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
