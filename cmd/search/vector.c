/*
 * rk-search's vector side: the embed command, and --vector and --hybrid
 * queries, whose vectors come from rk-embed, all of a run's queries in
 * one batch (rk-embed's cache answers the ones it has seen).
 */
#include <err.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/rk.h"
#include "llm/llm.h"
#include "search/search.h"
#include "search/cmd.h"

static struct rk_embed_opts eo;
static struct rk_rank_opts ro = { RK_RANK_BM25, RK_FUSION_RRF, 1, 1, 60, 0,
    0 };
static struct rk_vsearch *vs;
static char **qtext;		/* queries embedded so far, and vectors */
static float *qvec;
static size_t nq, qdim;
static struct rk_error qfail;	/* why the queries have no vectors */
static int fusion_given, graph_given;	/* --fusion, --weights; --ef, --exact */
static int progress_shown;

/* 1 if c is one of ours (and taken), else 0 */
int
vq_option(int c, const char *arg)
{
	enum rk_rank rank;
	long n, max;

	switch (c) {
	case VQ_VECTOR:
	case VQ_HYBRID:
		rank = c == VQ_VECTOR ? RK_RANK_VECTOR : RK_RANK_HYBRID;
		if (ro.rank != RK_RANK_BM25 && ro.rank != rank)
			errx(RK_EXIT_USAGE, "--vector and --hybrid exclude "
			    "each other");
		ro.rank = rank;
		break;
	case VQ_FUSION:
		if (strcmp(arg, "rrf") != 0 && strcmp(arg, "convex") != 0)
			errx(RK_EXIT_USAGE, "--fusion: not rrf or convex: "
			    "'%s'", arg);
		ro.fusion = *arg == 'r' ? RK_FUSION_RRF : RK_FUSION_CONVEX;
		fusion_given = 1;
		break;
	case VQ_WEIGHTS:
		if (rk_rank_weights(arg, &ro) == -1)
			errx(RK_EXIT_USAGE, "--weights: not two weights "
			    "BM25,VECTOR >= 0, not both 0, of a finite sum: "
			    "'%s'", arg);
		fusion_given = 1;
		break;
	case VQ_PROVIDER:
	case VQ_BASE_URL:
	case 'm':
		*(c == 'm' ? &eo.model : c == VQ_PROVIDER ? &eo.provider :
		    &eo.base_url) = arg;
		break;
	case VQ_EXACT:
		ro.exact = graph_given = 1;
		break;
	case VQ_EF:
		if (rk_parse_uint(arg, 100000, &n) == -1 || n < 1)
			errx(RK_EXIT_USAGE, "--ef: not a number from 1 to "
			    "100000: '%s'", arg);
		ro.ef = (size_t)n;
		graph_given = 1;
		break;
	case VQ_DIMENSIONS:
	case 'P':
		max = c == 'P' ? rk_limits.concurrency : RK_VEC_DIM_MAX;
		if (rk_parse_uint(arg, max, &n) == -1 || n < 1)
			errx(RK_EXIT_USAGE, "%s: not a number from 1 to %ld: "
			    "'%s'", c == 'P' ? "-P" : "--dimensions", max, arg);
		*(c == 'P' ? &eo.jobs : &eo.dimensions) = n;
		break;
	default:
		return 0;
	}
	return 1;
}

/* a query's options that its ranking has no use for: said, and ignored */
void
vq_unused(void)
{
	if (fusion_given && ro.rank != RK_RANK_HYBRID)
		warnx("--fusion and --weights only apply with --hybrid; "
		    "ignored");
	if (graph_given && ro.rank == RK_RANK_BM25)
		warnx("--ef and --exact only apply with --vector or --hybrid; "
		    "ignored");
}

/* whether queries rank by vector (alone or fused) */
int
vq_ranked(void)
{
	return ro.rank != RK_RANK_BM25;
}

/* progress on a terminal: arg is what is counted, "chunks embedded" */
static void
on_progress(void *arg, size_t done, size_t total)
{
	fprintf(stderr, "\r%s: %zu of %zu %s", rk_progname, done, total,
	    (const char *)arg);
	progress_shown = 1;
}

/* a chunk whose text is not UTF-8: bad input, not sent, the rest are */
static void
on_skip(void *arg, const char *doc, int64_t chunk)
{
	if (progress_shown)
		fputc('\n', stderr);
	progress_shown = 0;
	warnx("%s: chunk %lld: text not UTF-8: not embedded", doc,
	    (long long)chunk);
	rk_exit_status(RK_EXIT_INPUT);
}

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	stop = sig;
}

static void
embed_summary(struct rk_index *ix, size_t done)
{
	struct rk_vec_info vi;
	struct rk_error e;

	if (rk_index_vec_info(ix, &vi, &e) != 0 ||
	    rk_index_vec_counts(ix, &vi, &e) != 0)
		return;
	fprintf(stderr, "%s: %zu chunk%s embedded, %lld with vectors "
	    "(%s, %zu dimensions)\n", rk_progname, done, done == 1 ? "" : "s",
	    (long long)vi.vectors, vi.model, vi.dim);
	if (rk_index_ann_state(ix) == RK_ANN_STALE)
		fprintf(stderr, "%s: queries scan until ann builds the graph "
		    "again\n", rk_progname);
}

/* the provider rk-embed takes, as it takes it */
static const char *
embed_provider(void)
{
	const char *p = eo.provider;

	if (p == NULL)
		p = rk_getenv_or("RK_EMBED_PROVIDER", "RK_PROVIDER");
	return p != NULL ? p : "none";
}

/*
 * The model of an index's first embed without -m: RK_EMBED_MODEL's, else
 * the provider's default, as rk-embed takes them.
 */
static void
first_model(struct rk_index *ix)
{
	struct rk_vec_info vi;
	struct rk_error e;

	if (eo.model != NULL || rk_index_vec_info(ix, &vi, &e) != 0 ||
	    *vi.model != '\0')
		return;
	if ((eo.model = rk_getenv("RK_EMBED_MODEL")) == NULL)
		eo.model = rk_embed_default_model(embed_provider());
}

/*
 * The embed command: vectors for every chunk missing one.  Interrupted,
 * it stores what came back, then dies of the signal.
 */
void
vq_embed(struct rk_index *ix, int quiet)
{
	struct sigaction sa;
	struct rk_error e;
	size_t done;
	int rc;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	eo.stop = &stop;
	first_model(ix);
	rc = rk_index_embed(ix, &eo, isatty(STDERR_FILENO) && !quiet ?
	    on_progress : NULL, on_skip, "chunks embedded", &done, &e);
	if (progress_shown)
		fputc('\n', stderr);
	if (rc != 0) {
		warnx("%s", e.msg);
		if (done > 0)
			warnx("%zu vectors stored; run embed again for the "
			    "rest", done);
		rk_exit_status(rc);
	} else if (!quiet)
		embed_summary(ix, done);
	if (stop) {
		rk_index_close(ix);
		signal(stop, SIG_DFL);
		raise(stop);
	}
}

/* the ann command: the graph of the index's vectors, built anew */
void
vq_ann(struct rk_index *ix, int quiet)
{
	struct rk_error e;
	size_t nodes;
	int rc;

	rc = rk_index_ann_build(ix, isatty(STDERR_FILENO) && !quiet ?
	    on_progress : NULL, "vectors linked", &nodes, &e);
	if (progress_shown)
		fputc('\n', stderr);
	if (rc != 0) {
		warnx("%s", e.msg);
		rk_exit_status(rc);
	} else if (!quiet)
		fprintf(stderr, "%s: a graph of %zu vector%s\n", rk_progname,
		    nodes, nodes == 1 ? "" : "s");
}

/* add the vectors' counts and model to stats' JSON, once there are any */
void
vq_stats(struct rk_index *ix, char **stats)
{
	size_t len = strlen(*stats);
	struct rk_vec_info vi;
	struct rk_error e;
	json_t *model;
	char *more, *name;
	int ann;

	if (rk_index_vec_info(ix, &vi, &e) != 0 ||
	    rk_index_vec_counts(ix, &vi, &e) != 0)
		errx(e.code, "%s", e.msg);
	if (*vi.model == '\0' || len == 0 || (*stats)[len - 1] != '}')
		return;
	model = json_string(vi.model);
	name = json_dumps(model, JSON_ENCODE_ANY);
	(*stats)[len - 1] = '\0';
	ann = rk_index_ann_state(ix);
	rk_asprintf(&more, "%s,\"vectors\":%lld,\"missing\":%lld,\"model\":%s,"
	    "\"dimensions\":%zu%s}", *stats, (long long)vi.vectors,
	    (long long)vi.missing, name, vi.dim, ann == RK_ANN_FRESH ?
	    ",\"ann\":\"fresh\"" : ann == RK_ANN_STALE ? ",\"ann\":\"stale\"" :
	    "");
	free(name);
	json_decref(model);
	free(*stats);
	*stats = more;
}

/* queries into qtext and their vectors into qvec: 0 or an RK_EXIT_* code */
static int
embed_queries(struct rk_index *ix, char *const *queries, size_t n,
    struct rk_error *e)
{
	static struct rk_vec_info vi;	/* eo.model points into it */
	float *v;
	size_t dim;
	int rc;

	if ((rc = rk_index_vec_query(ix, &vi, &eo, e)) != 0 ||
	    (rc = rk_embed_pipe_texts(&eo, queries, n, &v, &dim, e)) != 0)
		return rc;
	if (dim != vi.dim) {
		free(v);
		return rk_error_set(e, RK_EXIT_CONFIG, "rk-embed (provider "
		    "%s) gave vectors of %zu dimensions; the index holds %zu "
		    "(model %s): give the provider that made them "
		    "(--provider, RK_EMBED_PROVIDER)", embed_provider(), dim,
		    vi.dim, vi.model);
	}
	qdim = dim;
	qtext = rk_xrealloc(qtext, (nq + n) * sizeof(*qtext));
	qvec = rk_xrealloc(qvec, (nq + n) * dim * sizeof(*qvec));
	for (size_t i = 0; i < n; i++)
		qtext[nq + i] = rk_xstrdup(queries[i]);
	memcpy(qvec + nq * dim, v, n * dim * sizeof(*v));
	nq += n;
	free(v);
	return 0;
}

/*
 * Embed queries, all in one run of rk-embed.  A failure ends the run,
 * but in record mode, where it becomes each record's error instead.
 */
void
vq_prepare(struct rk_index *ix, char *const *queries, size_t n)
{
	if (n == 0 || qfail.code != 0 ||
	    embed_queries(ix, queries, n, &qfail) == 0)
		return;
	if (!rflag)
		errx(qfail.code, "%s", qfail.msg);
}

/* a query's vector, or NULL if the queries could not be embedded */
static const float *
query_vector(struct rk_index *ix, const char *query)
{
	for (int again = 0; again < 2 && qfail.code == 0; again++) {
		for (size_t i = nq; i-- > 0; )
			if (strcmp(qtext[i], query) == 0)
				return qvec + i * qdim;
		vq_prepare(ix, (char *const *)&query, 1);
	}
	if (qfail.code != 0)
		return NULL;
	errx(RK_EXIT_INTERNAL, "a query without its vector");
}

/* a query's results, ranked by vector or fused */
int
vq_results(struct rk_index *ix, const char *query,
    const struct rk_index_params *p, size_t k, int per_doc, int with_text,
    struct rk_result **v, size_t *n, struct rk_error *e)
{
	const float *q = query_vector(ix, query);

	if (q == NULL) {
		*e = qfail;
		return e->code;
	}
	if (vs == NULL)
		vs = rk_vsearch_new(ix);
	return rk_vsearch_query(vs, query, q, qdim, &ro, p, k, per_doc,
	    with_text, v, n, e);
}

void
vq_done(void)
{
	rk_vsearch_free(vs);
	vs = NULL;
	for (size_t i = 0; i < nq; i++)
		free(qtext[i]);
	free(qtext);
	free(qvec);
	qtext = NULL;
	qvec = NULL;
	nq = 0;
}
