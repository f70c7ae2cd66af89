/* rk-search: index documents and answer BM25 queries */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/rk.h"
#include "search/search.h"
#include "search/cmd.h"

/* shared with cmd/search/query.c */
struct rk_index *ix;
char ix_err[512];	/* why the index failed to open (-r goes on) */
struct rk_index_params params;
int Lflag, rflag;
enum rk_hits_format format;

static const char *index_path;
static int qflag, vflag, fresh;
static const char *pflag;
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
	VQ_OPTDEFS,
	RK_OPTS_HELP,
	RK_OPTS_END
};

/* ndjson's index is RK_HITS_JSON, trec's RK_HITS_TREC, json as ndjson */
static const char *const formats[] = { "ndjson", "trec", "json", NULL };

struct rk_cli cli = { .defs = opts, .formats = formats,
    .tag = "rk-search", .hits = 10, .hits_max = 100000,
    .context_bytes = 8192, .usage =
	"usage: rk-search -i index [-qv] [--analyzer analyzer] "
	"[--chunk-size size]\n"
	"                 [--overlap overlap] [--params params] "
	"add file|dir ...\n"
	"       rk-search -i index rm doc ...\n"
	"       rk-search -i index stats | optimize\n"
	"       rk-search -i index [-q] [-m model] [-P jobs] [--base-url url]\n"
	"                 [--dimensions n] [--provider name] embed\n"
	"       rk-search -i index [-q] ann\n"
	"       rk-search -i index [-Lr] [-f format] [-k n] [--by-doc]\n"
	"                 [--context-bytes bytes] [--params params] "
	"[--tag tag]\n"
	"                 [--vector | --hybrid] [--exact] [--ef n]\n"
	"                 [--fusion rrf | convex] [--weights bm25,vector]\n"
	"                 [-m model] [--base-url url] [--dimensions n]\n"
	"                 [--provider name]\n"
	"                 [query] [word ...]\n" };

/*
 * The index closed however the process exits (errx() too): SQLite's
 * page cache, its slots allocated one by one, is freed, not lost; the
 * vector search's statements go first, or SQLite would not close.
 */
static void
close_at_exit(void)
{
	vq_done();
	rk_index_close(ix);
	ix = NULL;
}

static void __attribute__((noreturn))
index_failed(void)
{
	warnx("%s", rk_index_error(ix));
	if (fresh) {
		close_at_exit();
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
		return vq_option(c, optarg);
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
	atexit(close_at_exit);
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
	    strcmp(cmd, "stats") != 0 && strcmp(cmd, "optimize") != 0 &&
	    strcmp(cmd, "embed") != 0 && strcmp(cmd, "ann") != 0;
	if ((create || strcmp(cmd, "rm") == 0) && argc < 2)
		exit(rk_opt_done(&cli, RK_OPT_USAGE));
	if (!cli.format_set && isatty(STDOUT_FILENO) && !rflag)
		format = RK_HITS_TERM;
	open_index(create, create ? anp : NULL, query && rflag);
	if (anp != NULL && !create)
		warnx("--analyzer only applies when adding; ignored");
	if (query)
		vq_unused();
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
	} else if (strcmp(cmd, "embed") == 0)
		vq_embed(ix, qflag);
	else if (strcmp(cmd, "ann") == 0)
		vq_ann(ix, qflag);
	else if (!query) {
		if ((stats = rk_index_stats(ix)) == NULL)
			index_failed();
		vq_stats(ix, &stats);
		puts(stats);
		free(stats);
	}
	else if (strcmp(cmd, "query") == 0)
		cmd_query(argc - 1, argv + 1);
	else
		cmd_query(argc, argv);
	close_at_exit();
	return rk_finish();
}
