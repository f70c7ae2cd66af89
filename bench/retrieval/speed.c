/*
 * In-process query latency of rk-search's engine against SQLite's own
 * bm25() on the same index, the same MATCH expressions and the same k.
 *
 * usage: rk-search-speed INDEX QUERIES.tsv [ROUNDS [ours]]
 *
 * QUERIES.tsv holds "qid<TAB>text" lines.  Every query runs once to warm
 * the caches, then ROUNDS (default 3) times per engine, alternating; the
 * medians and 99th percentiles of the per-query times are printed, and
 * those of the bare MATCH of the same expression stopping at its first
 * row: the part of rk_topk's time that is FTS5 opening the terms.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rk.h"
#include "search.h"

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void
report(const char *name, double *t, size_t n)
{
	double sum = 0;

	qsort(t, n, sizeof(*t), cmp_double);
	for (size_t i = 0; i < n; i++)
		sum += t[i];
	printf("%-16s p50 %8.3f ms  p99 %8.3f ms  mean %8.3f ms  (%zu runs)\n",
	    name, t[n / 2], t[(n * 99) / 100], sum / n, n);
}

static size_t
builtin(sqlite3_stmt *st, const char *expr)
{
	size_t n = 0;

	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, expr, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW)
		n++;
	return n;
}

int
main(int argc, char *argv[])
{
	struct rk_index *ix;
	struct rk_hit *hits;
	sqlite3_stmt *st, *st1;
	char **queries = NULL, **exprs = NULL, *line = NULL;
	double *tours, *tsql, *tone, t0, cold;
	size_t cap = 0, nq = 0, nh, i, r, rounds = 3, nt = 0;
	ssize_t len;
	FILE *fp;
	int ours_only;

	rk_init(argv[0]);
	if (argc < 3)
		errx(RK_EXIT_USAGE, "usage: rk-search-speed INDEX QUERIES.tsv "
		    "[ROUNDS]");
	if (argc > 3)
		rounds = strtoul(argv[3], NULL, 10);
	ours_only = argc > 4 && strcmp(argv[4], "ours") == 0;
	ix = rk_index_open(argv[1], 0, NULL);
	if (ix == NULL || *rk_index_error(ix))
		errx(RK_EXIT_IO, "%s: %s", argv[1], ix ? rk_index_error(ix) :
		    "cannot open");
	if ((fp = fopen(argv[2], "r")) == NULL)
		err(RK_EXIT_IO, "%s", argv[2]);
	while ((len = getline(&line, &cap, fp)) != -1) {
		char *tab = strchr(line, '\t');

		line[strcspn(line, "\n")] = '\0';
		queries = rk_xrealloc(queries, (nq + 1) * sizeof(*queries));
		exprs = rk_xrealloc(exprs, (nq + 1) * sizeof(*exprs));
		queries[nq] = rk_xstrdup(tab ? tab + 1 : line);
		if (rk_index_match(ix, queries[nq], &exprs[nq]) == -1)
			exprs[nq] = rk_xstrdup("\"\"");
		nq++;
	}
	fclose(fp);
	free(line);
	if (sqlite3_prepare_v2(rk_index_db(ix), "SELECT rowid, bm25(fts) FROM "
	    "fts WHERE fts MATCH ?1 ORDER BY bm25(fts) LIMIT 10", -1, &st,
	    NULL) != SQLITE_OK)
		errx(RK_EXIT_IO, "%s", sqlite3_errmsg(rk_index_db(ix)));
	if (sqlite3_prepare_v2(rk_index_db(ix), "SELECT rowid FROM fts WHERE "
	    "fts MATCH ?1 LIMIT 1", -1, &st1, NULL) != SQLITE_OK)
		errx(RK_EXIT_IO, "%s", sqlite3_errmsg(rk_index_db(ix)));
	/* the first query also loads the chunk lengths: report it apart */
	t0 = rk_now_ms();
	rk_index_search(ix, queries[0], NULL, 10, 0, &hits, &nh);
	cold = rk_now_ms() - t0;
	free(hits);
	for (i = 0; i < nq; i++) {		/* warm up both */
		rk_index_search(ix, queries[i], NULL, 10, 0, &hits, &nh);
		free(hits);
		builtin(st, exprs[i]);
	}
	tours = rk_xmalloc(nq * rounds * sizeof(*tours));
	tsql = rk_xmalloc(nq * rounds * sizeof(*tsql));
	tone = rk_xmalloc(nq * rounds * sizeof(*tone));
	for (r = 0; r < rounds; r++)
		for (i = 0; i < nq; i++, nt++) {
			t0 = rk_now_ms();
			if (rk_index_search(ix, queries[i], NULL, 10, 0, &hits,
			    &nh) == -1)
				errx(RK_EXIT_IO, "%s", rk_index_error(ix));
			tours[nt] = rk_now_ms() - t0;
			free(hits);
			t0 = rk_now_ms();
			if (!ours_only)
				builtin(st, exprs[i]);
			tsql[nt] = rk_now_ms() - t0;
			t0 = rk_now_ms();
			builtin(st1, exprs[i]);
			tone[nt] = rk_now_ms() - t0;
		}
	printf("first query (loads chunk lengths): %.3f ms\n", cold);
	report("rk_topk (ours)", tours, nt);
	if (!ours_only)
		report("fts5 bm25()", tsql, nt);
	report("first match only", tone, nt);
	qsort(tours, nt, sizeof(*tours), cmp_double);
	sqlite3_finalize(st);
	sqlite3_finalize(st1);
	free(tone);
	for (i = 0; i < nq; i++) {
		free(queries[i]);
		free(exprs[i]);
	}
	free(queries);
	free(exprs);
	free(tours);
	free(tsql);
	rk_index_close(ix);
	return rk_finish();
}
