/* rk-fuse: fuse ranked lists of hits (RRF, CombSUM, CombMNZ, RBF) */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/rk.h"
#include "search/search.h"

/* where a file's hits go: run i of runs */
struct input {
	struct rk_fuse_runs *runs;
	size_t	 i;
};

static struct rk_fuse_opts opts = { RK_FUSE_RRF, RK_NORM_MINMAX, 60, 0.8, 0 };
static double *weights;
static size_t nweights;

enum { O_METHOD = RK_OPT_OWN, O_NORM, O_PARAM };

static const struct rk_optdef optdefs[] = {
	{ 'f', "format", required_argument, "format",
	    "output format: ndjson or trec" },
	{ 'k', NULL, required_argument, "n", "at most n hits a query" },
	{ 'r', NULL, no_argument, NULL,
	    "record mode: fuse each record's lists" },
	{ 'w', NULL, required_argument, "weights",
	    "the lists' weights, comma separated" },
	{ RK_OPT_BYDOC, "by-doc", no_argument, NULL,
	    "fuse documents, not chunks" },
	{ RK_OPT_BYTES, "context-bytes", required_argument, "bytes",
	    "record mode: the most bytes of hit text; default 8K" },
	{ O_METHOD, "method", required_argument, "method",
	    "rrf, combsum, combmnz or rbf; default rrf" },
	{ O_NORM, "norm", required_argument, "norm",
	    "minmax, zscore or none; default minmax" },
	{ O_PARAM, "param", required_argument, "param",
	    "k of rrf (default 60) or rho of rbf (default 0.8)" },
	{ RK_OPT_TAG, "tag", required_argument, "tag",
	    "the run tag of TREC output; default rk-fuse" },
	RK_OPTS_HELP,
	RK_OPTS_END
};

static const char *const formats[] = { "ndjson", "trec", NULL };

static struct rk_cli common = { .defs = optdefs, .formats = formats,
    .tag = "rk-fuse", .hits_max = 1000000, .context_bytes = 8192, .usage =
	"usage: rk-fuse [-f format] [-k n] [-w weights] [--by-doc] "
	"[--method method]\n"
	"               [--norm norm] [--param param] [--tag tag] [file ...]\n"
	"       rk-fuse -r [-k n] [-w weights] [--by-doc] "
	"[--context-bytes bytes]\n"
	"               [--method method] [--norm norm] [--param param]\n" };

static double
weight(size_t i)
{
	return i < nweights ? weights[i] : 1;
}

/* why a hit cannot be fused by scores: its error code and message */
static const char *const unscored[][2] = {
	[RK_HIT_NO_SCORE] = { "no-score", "a hit without a score" },
	[RK_HIT_BAD_SCORE] = { "bad-score", "a hit's score is not a number" },
};

/*
 * A hit that combsum or combmnz cannot fuse, never as a score of 0: said
 * on stderr and, in NDJSON output, by an error line; exit 3.
 */
static void
unscored_hit(struct rk_reader *r, const char *name, const char *qid,
    const struct rk_fuse_hit *h, int why)
{
	json_t *o;
	char *msg;

	rk_reader_warn(r, "%s", unscored[why][1]);
	if (common.format != 0)
		return;		/* a TREC run has no place for it */
	o = json_object();
	if (*qid != '\0')
		json_object_set_new(o, "qid", json_string(qid));
	json_object_set_new(o, "doc", json_string(h->doc));
	if (h->chunk >= 0)
		json_object_set_new(o, "chunk", json_integer(h->chunk));
	rk_asprintf(&msg, "%s:%zu: %s", strcmp(name, "-") == 0 ? RK_STDIN :
	    name, rk_reader_lineno(r), unscored[why][1]);
	rk_record_error(o, RK_EXIT_INPUT, unscored[why][0], msg);
	free(msg);
	if (rk_write(stdout, o) == -1)
		err(RK_EXIT_IO, "stdout");
	json_decref(o);
}

/*
 * A hit read with code rc: fused, an unscored_hit(), or not a hit, which
 * why says.
 */
static void
take_hit(struct rk_reader *r, const char *name, struct input *in, int rc,
    struct rk_fuse_hit *h, const char *qid, const char *why)
{
	if (rc == 0)
		rk_fuse_runs_add(in->runs, in->i, qid ? qid : "", h);
	else if (rc == RK_HIT_NO_SCORE || rc == RK_HIT_BAD_SCORE) {
		unscored_hit(r, name, qid ? qid : "", h, rc);
		rk_fuse_hit_free(h);
	} else
		rk_reader_warn(r, "%s", why);
}

/* a JSON hit, or a warning */
static void
json_hit(struct rk_reader *r, const char *name, struct input *in,
    const char *line)
{
	struct rk_fuse_hit h;
	json_error_t je;
	json_t *o = json_loads(line, JSON_REJECT_DUPLICATES, &je);
	char *qid = NULL;
	int rc = o == NULL ? -1 : rk_fuse_hit_json(o, rk_fuse_scored(&opts),
	    &h, &qid);

	take_hit(r, name, in, rc, &h, qid, o ? "not a hit" : je.text);
	free(qid);
	json_decref(o);
}

/* a TREC run line, or a warning */
static void
trec_hit(struct rk_reader *r, const char *name, struct input *in,
    const char *line, size_t len)
{
	struct rk_fuse_hit h;
	char *qid;
	int rc = rk_fuse_hit_trec(line, len, rk_fuse_scored(&opts), &h, &qid);

	take_hit(r, name, in, rc, &h, qid, rc == RK_HIT_NOT_UTF8 ?
	    "a TREC run line not UTF-8" : "not a TREC run line or a JSON hit");
	free(qid);
}

/* NDJSON hits (an optional "qid" groups them) or a TREC run */
static void
read_input(const char *name, struct input *in)
{
	struct rk_reader *r = rk_reader_open(name);
	struct rk_error e;
	const char *line;
	size_t len;
	int rc;

	if (r == NULL)
		err(RK_EXIT_IO, "%s", name);
	while ((rc = rk_read_line(r, &line, &len, &e)) != -1) {
		const char *p = line + strspn(line, " \t");

		if (rc != 0)
			rk_reader_warn(r, "%s", e.msg);
		else if (*p == '{')
			json_hit(r, name, in, line);
		else if (*p != '\0')
			trec_hit(r, name, in, line, len);
	}
	rk_exit_status(rk_reader_status(r));
	rk_reader_free(r);
}

static void
emit(const char *qid, const struct rk_fused *f, size_t n)
{
	if (common.hits > 0 && n > (size_t)common.hits)
		n = common.hits;
	for (size_t i = 0; i < n; i++) {
		if (common.format) {
			int rc = rk_trec_print(stdout, *qid ? qid : "1",
			    f[i].hit->doc, i + 1, 6, f[i].score, common.tag);

			if (rc == -1)
				err(RK_EXIT_IO, "stdout");
			if (rc == 1)
				return;
			continue;
		}
		json_t *o = rk_fused_json(*qid ? qid : NULL, &f[i], i + 1);

		if (rk_write(stdout, o) == -1)
			err(RK_EXIT_IO, "stdout");
		json_decref(o);
	}
}

static void
fuse_files(int argc, char **argv)
{
	struct rk_fuse_runs *runs = rk_fuse_runs_new(argc);
	struct rk_fuse_list *lists = rk_xcalloc(argc, sizeof(*lists));
	struct rk_fused *f;
	const char *qid;
	size_t n;
	int i;

	for (i = 0; i < argc; i++)
		read_input(argv[i], &(struct input){ runs, i });
	while ((qid = rk_fuse_runs_next(runs, lists)) != NULL) {
		for (i = 0; i < argc; i++)
			lists[i].weight = weight(i);
		n = rk_fuse(&opts, lists, argc, &f);
		emit(qid, f, n);
		free(f);
	}
	rk_fuse_runs_free(runs);
	free(lists);
}

/* record mode: "lists":[[hits],[hits]] becomes "context" */
static void
fuse_record(json_t *rec, void *unused)
{
	json_t *lv = json_object_get(rec, "lists"), *ctx, *l;
	struct rk_fuse_list *lists;
	struct rk_fuse_hit *all;
	struct rk_fused *f;
	size_t nl, total = 0, used = 0, bytes = 0, i, j, n;
	int rc;

	if (rk_has_error(rec) || !json_is_array(lv))
		return;
	nl = json_array_size(lv);
	json_array_foreach(lv, i, l)
		total += json_array_size(l);
	lists = rk_xmalloc((nl ? nl : 1) * sizeof(*lists));
	all = rk_xmalloc((total ? total : 1) * sizeof(*all));
	json_array_foreach(lv, i, l) {
		json_t *o;

		lists[i] = (struct rk_fuse_list){ all + used, 0, weight(i) };
		json_array_foreach(l, j, o) {
			if ((rc = rk_fuse_hit_json(o, rk_fuse_scored(&opts),
			    &all[used], NULL)) != 0) {
				warnx("%s: lists[%zu][%zu]: %s",
				    rk_get_string(rec, "id"), i, j, rc == -1 ?
				    "not a hit" : unscored[rc][1]);
				if (rc != -1)
					rk_fuse_hit_free(&all[used]);
				rk_exit_status(RK_EXIT_INPUT);
				continue;
			}
			used++;
			lists[i].n++;
		}
	}
	n = rk_fuse(&opts, lists, nl, &f);
	if (common.hits > 0 && n > (size_t)common.hits)
		n = common.hits;
	ctx = json_array();
	for (i = 0; i < n; i++) {
		size_t len = f[i].hit->text ? strlen(f[i].hit->text) : 0;

		if (bytes + len > common.context_bytes)
			break;		/* as rk-search -b */
		bytes += len;
		json_array_append_new(ctx, rk_fused_json(NULL, &f[i], 0));
	}
	json_object_set_new(rec, "context", ctx);
	json_object_del(rec, "lists");
	free(f);
	for (i = 0; i < used; i++)
		rk_fuse_hit_free(&all[i]);
	free(all);
	free(lists);
}

static void
parse_weights(char *s)
{
	char *w;

	while ((w = strsep(&s, ",")) != NULL) {
		weights = rk_xrealloc(weights, (nweights + 1) *
		    sizeof(*weights));
		if (rk_parse_double(w, &weights[nweights]) == -1 ||
		    weights[nweights] < 0)
			errx(RK_EXIT_USAGE, "-w: not a weight >= 0: '%s'", w);
		nweights++;
	}
}

/* -r: each record's lists fused into its context */
static void
fuse_records(void)
{
	int rc = rk_filter_stdin(fuse_record, NULL);

	if (rc == -1)
		err(RK_EXIT_IO, "stdout");
	rk_exit_status(rc);
}

/* an option of rk-fuse's own; 0 if ch is not one */
static int
fuse_opt(int ch, char *arg)
{
	switch (ch) {
	case O_METHOD:
		if (rk_fuse_method(arg, &opts.method) == -1)
			errx(RK_EXIT_USAGE, "--method: not rrf, combsum, "
			    "combmnz or rbf: '%s'", arg);
		break;
	case O_NORM:
		if (rk_fuse_norm(arg, &opts.norm) == -1)
			errx(RK_EXIT_USAGE, "--norm: not minmax, zscore or "
			    "none: '%s'", arg);
		break;
	case 'w':
		parse_weights(arg);
		break;
	default:
		return 0;
	}
	return 1;
}

int
main(int argc, char *argv[])
{
	const char *param = NULL;
	struct rk_error e;
	int c, act;

	if (rk_init(argv[0], &e) != 0)
		errx(e.code, "%s", e.msg);
	while ((c = rk_getopt(&common, argc, argv)) != -1)
		if (c == O_PARAM)
			param = optarg;	/* once the method is known */
		else if (!fuse_opt(c, optarg) &&
		    (act = rk_opt(&common, c, optarg)) != RK_OPT_NEXT)
			return rk_opt_done(&common, act);
	argc -= optind;
	argv += optind;
	opts.by_doc = common.by_doc;
	if (param != NULL && rk_fuse_param(&opts, param) == -1)
		errx(RK_EXIT_USAGE, "--param: not a k >= 0 for rrf or a rho in "
		    "(0, 1) for rbf: '%s'", param);
	if (common.records) {
		if (argc > 1 || (argc == 1 && strcmp(argv[0], "-") != 0))
			return rk_opt_done(&common, RK_OPT_USAGE);
		fuse_records();
	} else if (argc == 0) {
		char *dash[] = { "-" };

		fuse_files(1, dash);
	} else
		fuse_files(argc, argv);
	free(weights);
	return rk_finish();
}
