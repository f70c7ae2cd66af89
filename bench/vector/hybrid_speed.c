/*
 * In-process latency of rk-search's query engines on one index: BM25
 * alone (rk_index_query), vector alone and hybrid (rk_vsearch_query,
 * RRF), top 10 with the hits' names, as rk-search prints them less the
 * texts.  The queries' vectors come first, from one run of rk-embed, and
 * are not timed: the embedding server's time is its own.
 *
 * usage: hybrid-speed INDEX QUERIES.tsv [ROUNDS]
 *
 * QUERIES.tsv holds "qid<TAB>text" lines.  Every query runs once to warm
 * the caches (the first loads the vectors), then ROUNDS (default 5)
 * times per engine, alternating; medians and 99th percentiles follow.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rk.h"
#include "search/search.h"

enum { BM25, VECTOR, HYBRID, NENGINE };

static const char *const names[NENGINE] = { "bm25", "vector", "hybrid" };

static void
report(const char *name, double *t, size_t n)
{
	rk_sort_doubles(t, n);
	printf("%-8s p50 %8.3f ms  p99 %8.3f ms  (%zu runs)\n", name,
	    t[n / 2], t[(n * 99) / 100], n);
}

static char **
read_queries(const char *path, size_t *n)
{
	FILE *fp = fopen(path, "r");
	char *line = NULL, *tab, **q = NULL;
	size_t cap = 0;
	ssize_t len;

	if (fp == NULL)
		err(1, "%s", path);
	*n = 0;
	while ((len = getline(&line, &cap, fp)) > 0) {
		line[strcspn(line, "\n")] = '\0';
		tab = strchr(line, '\t');
		q = rk_xrealloc(q, (*n + 1) * sizeof(*q));
		q[(*n)++] = rk_xstrdup(tab ? tab + 1 : line);
	}
	free(line);
	fclose(fp);
	return q;
}

static void
run(struct rk_index *ix, struct rk_vsearch *vs, int engine,
    const char *query, const float *v, size_t dim)
{
	struct rk_rank_opts o = { engine == VECTOR ? RK_RANK_VECTOR :
	    RK_RANK_HYBRID, RK_FUSION_RRF, 1, 1, 60, 0, RK_HNSW_EF };
	struct rk_result *res;
	struct rk_error e;
	size_t n;

	if (engine == BM25) {
		if (rk_index_query(ix, query, NULL, 10, 0, 0, &res, &n) == -1)
			errx(1, "%s", rk_index_error(ix));
	} else if (rk_vsearch_query(vs, query, v, dim, &o, NULL, 10, 0, 0,
	    &res, &n, &e) != 0)
		errx(1, "%s", e.msg);
	rk_results_free(res, n);
}

int
main(int argc, char *argv[])
{
	struct rk_embed_opts eo = { 0 };
	struct rk_vec_info vi;
	struct rk_error e;
	struct rk_index *ix;
	struct rk_vsearch *vs;
	char **q;
	float *v;
	double *t[NENGINE], t0, first;
	size_t nq, dim;
	int rounds = argc > 3 ? atoi(argv[3]) : 5;

	if (rk_init(argv[0], &e) != 0)
		errx(e.code, "%s", e.msg);
	if (argc < 3 || rounds < 1)
		errx(2, "usage: hybrid-speed INDEX QUERIES.tsv [ROUNDS]");
	ix = rk_index_open(argv[1], 0, NULL);
	if (ix == NULL || *rk_index_error(ix) != '\0')
		errx(1, "%s", ix ? rk_index_error(ix) : argv[1]);
	q = read_queries(argv[2], &nq);
	if (rk_index_vec_info(ix, &vi, &e) != 0 ||
	    rk_index_vec_counts(ix, &vi, &e) != 0 ||
	    rk_index_vec_check(&vi, &eo, &e) != 0 ||
	    rk_embed_pipe_texts(&eo, q, nq, &v, &dim, &e) != 0)
		errx(1, "%s", e.msg);
	vs = rk_vsearch_new(ix);
	t0 = rk_now_ms();
	run(ix, vs, HYBRID, q[0], v, dim);
	first = rk_now_ms() - t0;
	for (int g = 0; g < NENGINE; g++) {
		t[g] = rk_xmalloc(nq * rounds * sizeof(**t));
		for (size_t i = 0; i < nq; i++)
			run(ix, vs, g, q[i], v + i * dim, dim);
	}
	for (int r = 0; r < rounds; r++)
		for (size_t i = 0; i < nq; i++)
			for (int g = 0; g < NENGINE; g++) {
				t0 = rk_now_ms();
				run(ix, vs, g, q[i], v + i * dim, dim);
				t[g][r * nq + i] = rk_now_ms() - t0;
			}
	printf("%lld chunks with vectors of %zu dimensions (%s), %zu "
	    "queries, %d rounds, top 10, %s kernels\n", (long long)vi.vectors,
	    vi.dim, vi.model, nq, rounds, rk_vec_simd_name());
	printf("first  %8.3f ms  (hybrid, reading the vectors)\n", first);
	for (int g = 0; g < NENGINE; g++) {
		report(names[g], t[g], nq * rounds);
		free(t[g]);
	}
	for (size_t i = 0; i < nq; i++)
		free(q[i]);
	free(q);
	free(v);
	rk_vsearch_free(vs);
	rk_index_close(ix);
	return 0;
}
