/*
 * Vector and hybrid queries.  The int8 copies of the vectors of table
 * `vecs` are loaded into one vector.c store, with the index's ANN graph
 * if it has a fresh one (and the query is not --exact), both kept while
 * the index does not change (PRAGMA data_version).  They are searched
 * through the graph (hnsw.c), or else by an int8 scan; either way with
 * an exact float32 re-rank.  The first query fetches the float32
 * vectors of the candidates it re-ranks, one by one, so that a process
 * asking one query reads little more than the int8 copies; a second
 * query reads them all into memory.  A hybrid query ranks the same
 * chunks by BM25 and by cosine, DEPTH or more deep each, and fuses the
 * two lists with rk_fuse(): RRF (each list weighted) or a convex
 * combination of min-max normalised scores.  Per document, a chunk is
 * keyed by its document, and a document counts at its best chunk's
 * place in each list.  Everything,
 * from the ranking to the texts of the hits, is read in one read
 * transaction.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rk.h"
#include "search/search.h"

#define DEPTH		100	/* candidates from each list, at least */

struct rk_vsearch {
	struct rk_index *ix;
	struct rk_vec *store;
	struct rk_hnsw *graph;	/* NULL: none, stale, or --exact */
	int64_t	 version;
	sqlite3_stmt *ver, *docof;
};

struct rk_vsearch *
rk_vsearch_new(struct rk_index *ix)
{
	struct rk_vsearch *vs = rk_xmalloc(sizeof(*vs));

	memset(vs, 0, sizeof(*vs));
	vs->ix = ix;
	vs->version = -1;
	return vs;
}

void
rk_vsearch_free(struct rk_vsearch *vs)
{
	if (vs == NULL)
		return;
	rk_vec_free(vs->store);
	rk_hnsw_free(vs->graph);
	sqlite3_finalize(vs->ver);
	sqlite3_finalize(vs->docof);
	free(vs);
}

/* the store, read again if the index changed since */
static int
load(struct rk_vsearch *vs, size_t dim, int exact, struct rk_error *e)
{
	sqlite3 *db = rk_index_db(vs->ix);
	size_t have;
	int64_t version;

	if (rk_index_vec_dim(vs->ix, &have, e) != 0)
		return e->code;
	if (dim != have)
		return rk_error_set(e, RK_EXIT_CONFIG, "%s: the query's vector "
		    "has %zu dimensions, the index's %zu",
		    sqlite3_db_filename(db, "main"), dim, have);
	if (vs->ver == NULL && sqlite3_prepare_v2(db, "PRAGMA data_version",
	    -1, &vs->ver, NULL) != SQLITE_OK)
		return rk_index_sql_fail(db, e, "data_version");
	sqlite3_reset(vs->ver);
	if (sqlite3_step(vs->ver) != SQLITE_ROW)
		return rk_index_sql_fail(db, e, "data_version");
	version = sqlite3_column_int64(vs->ver, 0);
	sqlite3_reset(vs->ver);
	if (vs->store != NULL && version == vs->version)
		return rk_index_vec_fill(vs->ix, vs->store, e);
	vs->version = -1;
	rk_vec_free(vs->store);
	rk_hnsw_free(vs->graph);
	vs->store = NULL;
	vs->graph = NULL;
	if (rk_index_vec_open(vs->ix, dim, &vs->store, e) != 0 ||
	    (!exact && rk_index_ann_load(vs->ix, vs->store, &vs->graph,
	    e) != 0))
		return e->code;
	vs->version = version;
	if (rk_index_chunks(vs->ix) > (int64_t)rk_vec_count(vs->store))
		rk_index_warn(vs->ix, "some chunks have no vector, so no "
		    "vector rank: run rk-search embed");
	return 0;
}

static int
doc_of(struct rk_vsearch *vs, int64_t rowid, int64_t *doc,
    struct rk_error *e)
{
	sqlite3 *db = rk_index_db(vs->ix);
	int rc = 0, step;

	if (vs->docof == NULL && sqlite3_prepare_v2(db,
	    "SELECT doc FROM chunks WHERE id = ?1", -1, &vs->docof,
	    NULL) != SQLITE_OK)
		return rk_index_sql_fail(db, e, "chunks");
	sqlite3_bind_int64(vs->docof, 1, rowid);
	if ((step = sqlite3_step(vs->docof)) == SQLITE_ROW)
		*doc = sqlite3_column_int64(vs->docof, 0);
	else if (step == SQLITE_DONE)	/* ranked in this snapshot */
		rc = rk_error_set(e, RK_EXIT_IO, "%s: index damaged: chunk "
		    "%lld is missing", sqlite3_db_filename(db, "main"),
		    (long long)rowid);
	else
		rc = rk_index_sql_fail(db, e, "chunks");
	sqlite3_reset(vs->docof);
	return rc;
}

/* fusion keys: the document's id (per document) or "" and the chunk */
struct keyed {
	struct rk_fuse_hit *h;
	char	(*doc)[24];
	size_t	 n;
};

static int
key_hits(struct rk_vsearch *vs, const struct rk_hit *hits, size_t n,
    int per_doc, struct keyed *kh, struct rk_error *e)
{
	int64_t doc;
	int rc;

	kh->n = n;
	kh->h = rk_xmalloc((n ? n : 1) * sizeof(*kh->h));
	kh->doc = rk_xmalloc((n ? n : 1) * sizeof(*kh->doc));
	for (size_t i = 0; i < n; i++) {
		kh->h[i] = (struct rk_fuse_hit){ "", hits[i].rowid,
		    hits[i].score, NULL };
		if (!per_doc)
			continue;
		if ((rc = doc_of(vs, hits[i].rowid, &doc, e)) != 0)
			return rc;
		snprintf(kh->doc[i], sizeof(kh->doc[i]), "%lld",
		    (long long)doc);
		kh->h[i].doc = kh->doc[i];
	}
	return 0;
}

static void
keyed_free(struct keyed *kh)
{
	free(kh->h);
	free(kh->doc);
}

/* fuse lists into the best k hits (chunk rowids and fused scores) */
static size_t
fuse(const struct rk_rank_opts *o, struct rk_fuse_list *l, size_t nl,
    size_t k, int per_doc, struct rk_hit *out)
{
	struct rk_fuse_opts fo = { RK_FUSE_RRF, RK_NORM_NONE, o->rrf_k, 0,
	    per_doc };
	struct rk_fused *f;
	size_t n;

	if (o->fusion == RK_FUSION_CONVEX) {
		double sum = l[0].weight + l[1].weight;

		fo.method = RK_FUSE_COMBSUM;
		fo.norm = RK_NORM_MINMAX;
		for (size_t i = 0; i < nl && sum > 0; i++)
			l[i].weight /= sum;
	}
	n = rk_fuse(&fo, l, nl, &f);
	if (n > k)
		n = k;
	for (size_t i = 0; i < n; i++)
		out[i] = (struct rk_hit){ f[i].hit->chunk, f[i].score };
	free(f);
	return n;
}

/*
 * The graph's default search depth: 64 finds all of the exact top 10 at
 * 100K clustered vectors but 0.92 of them at 1M, where 256 finds 0.99
 * (bench/vector/RESULTS).
 */
static size_t
default_ef(const struct rk_vec *store)
{
	return rk_vec_count(store) > RK_HNSW_BIG ? RK_HNSW_EF_BIG : RK_HNSW_EF;
}

/* the best depth chunks by cosine: through the graph if there is one */
static int
vector_hits(struct rk_vsearch *vs, const float *qvec, size_t depth,
    size_t ef, struct rk_hit **hits, size_t *n, struct rk_error *e)
{
	*hits = rk_xmalloc((depth ? depth : 1) * sizeof(**hits));
	if (vs->graph != NULL)
		return rk_hnsw_search(vs->graph, vs->store, qvec, depth,
		    ef ? ef : default_ef(vs->store), *hits, n, e);
	return rk_vec_search(vs->store, qvec, depth, depth > RK_VEC_RERANK ?
	    depth : RK_VEC_RERANK, *hits, n, e);
}

/* the first hit of each document, at most k */
static int
best_per_doc(struct rk_vsearch *vs, const struct rk_hit *hits, size_t n,
    size_t k, struct rk_hit *out, size_t *nout, struct rk_error *e)
{
	struct rk_hset seen = { 0 };
	int64_t doc;
	int rc = 0;

	*nout = 0;
	for (size_t i = 0; i < n && *nout < k && rc == 0; i++)
		if ((rc = doc_of(vs, hits[i].rowid, &doc, e)) == 0 &&
		    !rk_hset_add(&seen, (uint64_t)doc + 1))
			out[(*nout)++] = hits[i];
	rk_hset_free(&seen);
	return rc;
}

/*
 * Vector only: the best k chunks, or per document the best chunk of
 * each of the best k documents (searched deeper until k are found).
 */
static int
rank_vector(struct rk_vsearch *vs, const float *qvec, size_t ef, size_t k,
    int per_doc, struct rk_hit *out, size_t *nout, struct rk_error *e)
{
	size_t depth = per_doc ? 4 * k : k, n;
	struct rk_hit *hits;
	int rc;

	for (;;) {
		rc = vector_hits(vs, qvec, depth, ef, &hits, &n, e);
		if (rc == 0 && !per_doc) {
			memcpy(out, hits, n * sizeof(*out));
			*nout = n;
		} else if (rc == 0)
			rc = best_per_doc(vs, hits, n, k, out, nout, e);
		free(hits);
		if (rc != 0 || !per_doc || *nout == k || n < depth)
			return rc;
		depth *= 4;
	}
}

static int
rank_hybrid(struct rk_vsearch *vs, const char *query, const float *qvec,
    const struct rk_rank_opts *o, const struct rk_index_params *p,
    size_t k, int per_doc, struct rk_hit *out, size_t *nout,
    struct rk_error *e)
{
	size_t depth = 2 * k > DEPTH ? 2 * k : DEPTH, nb = 0, nv = 0;
	struct rk_hit *bm = NULL, *vec = NULL;
	struct keyed kb = { 0 }, kv = { 0 };
	struct rk_fuse_list l[2];
	int rc;

	if (rk_index_search(vs->ix, query, p, depth, per_doc, &bm, &nb) == -1)
		rc = rk_error_set(e, RK_EXIT_IO, "%s",
		    rk_index_error(vs->ix));
	else if ((rc = vector_hits(vs, qvec, depth, o->ef, &vec, &nv,
	    e)) == 0 &&
	    (rc = key_hits(vs, bm, nb, per_doc, &kb, e)) == 0 &&
	    (rc = key_hits(vs, vec, nv, per_doc, &kv, e)) == 0) {
		l[0] = (struct rk_fuse_list){ kb.h, kb.n, o->w_bm25 };
		l[1] = (struct rk_fuse_list){ kv.h, kv.n, o->w_vector };
		*nout = fuse(o, l, 2, k, per_doc, out);
	}
	keyed_free(&kb);
	keyed_free(&kv);
	free(bm);
	free(vec);
	return rc;
}

/*
 * The best k hits for a query by o->rank (vector or hybrid), the query's
 * vector qvec of dim dimensions given, in *out (rk_results_free() it):
 * 0, or an RK_EXIT_* code with e set.
 */
int
rk_vsearch_query(struct rk_vsearch *vs, const char *query, const float *qvec,
    size_t dim, const struct rk_rank_opts *o,
    const struct rk_index_params *p, size_t k, int per_doc, int with_text,
    struct rk_result **out, size_t *n, struct rk_error *e)
{
	struct rk_hit *hits = rk_xmalloc((k ? k : 1) * sizeof(*hits));
	int rc;

	*out = NULL;
	*n = 0;
	e->code = 0;
	if (rk_index_begin_read(vs->ix) == -1) {
		free(hits);
		return rk_error_set(e, RK_EXIT_IO, "%s",
		    rk_index_error(vs->ix));
	}
	if ((rc = load(vs, dim, o->exact, e)) == 0)
		rc = o->rank == RK_RANK_HYBRID ? rank_hybrid(vs, query, qvec,
		    o, p, k, per_doc, hits, n, e) : rank_vector(vs, qvec,
		    o->ef, k, per_doc, hits, n, e);
	if (rc == 0 && rk_results_read(vs->ix, hits, *n, with_text, out) ==
	    -1)
		rc = rk_error_set(e, RK_EXIT_IO, "%s",
		    rk_index_error(vs->ix));
	if (rk_index_end_read(vs->ix) == -1 && rc == 0)
		rc = rk_error_set(e, RK_EXIT_IO, "%s",
		    rk_index_error(vs->ix));
	if (rc != 0) {
		rk_results_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	free(hits);
	return rc;
}

/* --weights BM25,VECTOR: two weights >= 0, not both 0, of a finite sum */
int
rk_rank_weights(const char *spec, struct rk_rank_opts *o)
{
	char *copy = rk_xstrdup(spec), *comma = strchr(copy, ',');
	int rc = -1;

	if (comma != NULL) {
		*comma = '\0';
		if (rk_parse_double(copy, &o->w_bm25) == 0 &&
		    rk_parse_double(comma + 1, &o->w_vector) == 0 &&
		    o->w_bm25 >= 0 && o->w_vector >= 0 &&
		    o->w_bm25 + o->w_vector > 0 &&
		    isfinite(o->w_bm25 + o->w_vector))	/* convex divides */
			rc = 0;
	}
	free(copy);
	return rc;
}
