/*
 * In-process query latency of rk-search's engine against SQLite's own
 * bm25() on the same index, the same MATCH expressions and the same k.
 * Our engine is timed twice: reading postings from FTS5's segments (what
 * rk-search does) and through FTS5's query API (RK_SEARCH_FTS5).
 *
 * usage: rk-search-speed INDEX QUERIES.tsv [ROUNDS [ours]]
 * ("ours": time only rk-search's own engine)
 *
 * QUERIES.tsv holds "qid<TAB>text" lines.  Every query runs once to warm
 * the caches, then ROUNDS (default 3) times per engine, alternating; the
 * medians and 99th percentiles of the per-query times are printed, and
 * likewise for BM25 computed in C from the fts5vocab "instance" table, and
 * those of the bare MATCH of the same expression stopping at its first
 * row: the part of rk_topk's time that is FTS5 opening the terms.
 */
#include <err.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rk.h"
#include "search/search.h"

static void
report(const char *name, double *t, size_t n)
{
	double sum = 0;

	rk_sort_doubles(t, n);
	for (size_t i = 0; i < n; i++)
		sum += t[i];
	printf("%-20s p50 %8.3f ms  p99 %8.3f ms  mean %8.3f ms  (%zu runs)\n",
	    name, t[n / 2], t[(n * 99) / 100], sum / n, n);
}

/*
 * BM25 computed from FTS5's vocabulary table instead (fts5vocab
 * "instance": one row per occurrence), term at a time, for comparison.
 */
struct vocab {
	sqlite3_stmt *st;
	uint32_t *len;
	double	*acc, avgdl, n;
	int64_t	 cap;
	const struct rk_analyzer *an;
	struct rk_index_params p;
};

struct terms {
	char	 t[256][RK_TOKEN_MAX + 1];
	size_t	 n;
};

static int
add_term(void *arg, const char *surface, size_t slen, const char *term,
    size_t tlen, size_t start, size_t end)
{
	struct terms *t = arg;

	for (size_t i = 0; i < t->n; i++)
		if (strlen(t->t[i]) == tlen && memcmp(t->t[i], term, tlen) == 0)
			return 0;
	if (t->n < 256) {
		memcpy(t->t[t->n], term, tlen);
		t->t[t->n++][tlen] = '\0';
	}
	return 0;
}

static size_t
vocab_search(struct vocab *v, const char *query)
{
	static int64_t *docs, *touched;
	static int *tfs;
	static size_t cap;
	struct terms t;
	size_t nt = 0, best = 0;
	double k1 = v->p.k1, b = v->p.b, top[10] = { 0 };

	t.n = 0;
	rk_analyze(v->an, query, strlen(query), add_term, &t);
	if (touched == NULL)
		touched = rk_xmalloc(v->cap * sizeof(*touched));
	for (size_t i = 0; i < t.n; i++) {
		size_t nd = 0;
		int64_t last = -1;
		double idf;

		sqlite3_reset(v->st);
		sqlite3_bind_text(v->st, 1, t.t[i], -1, SQLITE_STATIC);
		while (sqlite3_step(v->st) == SQLITE_ROW) {
			int64_t d = sqlite3_column_int64(v->st, 0);

			if (d != last) {
				if (nd == cap) {
					cap = cap ? cap * 2 : 1024;
					docs = rk_xrealloc(docs,
					    cap * sizeof(*docs));
					tfs = rk_xrealloc(tfs,
					    cap * sizeof(*tfs));
				}
				docs[nd] = d;
				tfs[nd++] = 0;
				last = d;
			}
			tfs[nd - 1]++;
		}
		idf = rk_bm25_idf(v->n, nd);
		for (size_t j = 0; j < nd; j++) {
			int64_t d = docs[j];
			double tf = tfs[j];

			if (d <= 0 || d >= v->cap)
				continue;
			if (v->acc[d] == 0)
				touched[nt++] = d;
			v->acc[d] += idf * tf * (k1 + 1) / (tf + k1 * (1 - b +
			    b * v->len[d] / v->avgdl));
		}
	}
	for (size_t i = 0; i < nt; i++) {	/* top 10, then reset */
		double s = v->acc[touched[i]];
		size_t j;

		for (j = best < 10 ? best++ : 10; j > 0 && top[j - 1] < s; j--)
			if (j < 10)
				top[j] = top[j - 1];
		if (j < 10)
			top[j] = s;
		v->acc[touched[i]] = 0;
	}
	return best;
}

static void
vocab_open(struct vocab *v, struct rk_index *ix, const struct rk_analyzer *an)
{
	sqlite3 *db = rk_index_db(ix);
	sqlite3_stmt *st;
	double total = 0;

	memset(v, 0, sizeof(*v));
	v->an = an;
	rk_index_params(ix, &v->p);
	if (sqlite3_exec(db, "CREATE VIRTUAL TABLE temp.vi USING "
	    "fts5vocab(main, fts, instance)", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT doc FROM temp.vi WHERE term = ?1",
	    -1, &v->st, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT max(id) + 1 FROM chunks", -1, &st,
	    NULL) != SQLITE_OK)
		errx(RK_EXIT_IO, "%s", sqlite3_errmsg(db));
	sqlite3_step(st);
	v->cap = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	v->len = calloc(v->cap, sizeof(*v->len));
	v->acc = calloc(v->cap, sizeof(*v->acc));
	if (v->len == NULL || v->acc == NULL)
		err(RK_EXIT_INTERNAL, "calloc");
	sqlite3_prepare_v2(db, "SELECT id, len FROM chunks", -1, &st, NULL);
	while (sqlite3_step(st) == SQLITE_ROW) {
		v->len[sqlite3_column_int64(st, 0)] = sqlite3_column_int(st, 1);
		total += sqlite3_column_int(st, 1);
		v->n++;
	}
	sqlite3_finalize(st);
	v->avgdl = v->n > 0 ? total / v->n : 1;
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
	struct rk_index *ix, *ixapi;
	struct rk_hit *hits;
	sqlite3_stmt *st, *st1;
	char **queries = NULL, **exprs = NULL, *line = NULL;
	double *tours, *tapi, *tsql, *tone, *tvoc, t0, cold;
	struct rk_analyzer an;
	struct vocab voc;
	char *stats;
	size_t cap = 0, nq = 0, nh, i, r, rounds = 3, nt = 0;
	ssize_t len;
	FILE *fp;
	int ours_only;

	rk_init(argv[0], NULL);
	if (argc < 3)
		errx(RK_EXIT_USAGE, "usage: rk-search-speed INDEX QUERIES.tsv "
		    "[ROUNDS]");
	if (argc > 3)
		rounds = strtoul(argv[3], NULL, 10);
	ours_only = argc > 4 && strcmp(argv[4], "ours") == 0;
	ix = rk_index_open(argv[1], 0, NULL);
	if (ix == NULL || *rk_index_error(ix))
		errx(RK_EXIT_IO, "%s", ix ? rk_index_error(ix) :
		    "cannot open");
	setenv("RK_SEARCH_FTS5", "1", 1);
	ixapi = rk_index_open(argv[1], 0, NULL);
	unsetenv("RK_SEARCH_FTS5");
	if (ixapi == NULL || *rk_index_error(ixapi))
		errx(RK_EXIT_IO, "%s: cannot open", argv[1]);
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
	/* the index's analyzer, from its stats */
	stats = rk_index_stats(ix);
	an.stem = stats && strstr(stats, "\"analyzer\":\"stem") != NULL;
	an.stop = stats && strstr(stats, "stop\"") != NULL;
	free(stats);
	vocab_open(&voc, ix, &an);
	if (sqlite3_prepare_v2(rk_index_db(ix), "SELECT rowid FROM fts WHERE "
	    "fts MATCH ?1 LIMIT 1", -1, &st1, NULL) != SQLITE_OK)
		errx(RK_EXIT_IO, "%s", sqlite3_errmsg(rk_index_db(ix)));
	/* the first query also loads the chunk lengths: report it apart */
	t0 = rk_now_ms();
	rk_index_search(ix, queries[0], NULL, 10, 0, &hits, &nh);
	cold = rk_now_ms() - t0;
	free(hits);
	for (i = 0; i < nq; i++) {		/* warm up all */
		rk_index_search(ix, queries[i], NULL, 10, 0, &hits, &nh);
		free(hits);
		if (ours_only)
			continue;
		rk_index_search(ixapi, queries[i], NULL, 10, 0, &hits, &nh);
		free(hits);
		builtin(st, exprs[i]);
	}
	tours = rk_xmalloc(nq * rounds * sizeof(*tours));
	tapi = rk_xmalloc(nq * rounds * sizeof(*tapi));
	tsql = rk_xmalloc(nq * rounds * sizeof(*tsql));
	tone = rk_xmalloc(nq * rounds * sizeof(*tone));
	tvoc = rk_xmalloc(nq * rounds * sizeof(*tvoc));
	for (r = 0; r < rounds; r++)
		for (i = 0; i < nq; i++, nt++) {
			t0 = rk_now_ms();
			if (rk_index_search(ix, queries[i], NULL, 10, 0, &hits,
			    &nh) == -1)
				errx(RK_EXIT_IO, "%s", rk_index_error(ix));
			tours[nt] = rk_now_ms() - t0;
			free(hits);
			t0 = rk_now_ms();
			if (!ours_only && rk_index_search(ixapi, queries[i],
			    NULL, 10, 0, &hits, &nh) == 0)
				free(hits);
			tapi[nt] = rk_now_ms() - t0;
			t0 = rk_now_ms();
			if (!ours_only)
				builtin(st, exprs[i]);
			tsql[nt] = rk_now_ms() - t0;
			t0 = rk_now_ms();
			builtin(st1, exprs[i]);
			tone[nt] = rk_now_ms() - t0;
			t0 = rk_now_ms();
			if (!ours_only)
				vocab_search(&voc, queries[i]);
			tvoc[nt] = rk_now_ms() - t0;
		}
	printf("first query (loads chunk lengths): %.3f ms\n", cold);
	report("rk-search (segments)", tours, nt);
	if (!ours_only)
		report("rk-search (FTS5 API)", tapi, nt);
	if (!ours_only)
		report("fts5 bm25()", tsql, nt);
	if (!ours_only)
		report("fts5vocab bm25", tvoc, nt);
	report("first match only", tone, nt);
	rk_sort_doubles(tours, nt);
	sqlite3_finalize(st);
	sqlite3_finalize(st1);
	free(tone);
	free(tvoc);
	sqlite3_finalize(voc.st);
	free(voc.len);
	free(voc.acc);
	for (i = 0; i < nq; i++) {
		free(queries[i]);
		free(exprs[i]);
	}
	free(queries);
	free(exprs);
	free(tours);
	free(tapi);
	free(tsql);
	rk_index_close(ix);
	rk_index_close(ixapi);
	return rk_finish();
}
