/*
 * Retrieval: the analyzer (our FTS5 tokenizer), chunking, and a BM25
 * index kept in one SQLite file with FTS5 as the inverted index.
 */
#ifndef RK_SEARCH_H
#define RK_SEARCH_H

#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>

#include <jansson.h>
#include <sqlite3.h>

#include "core/rk.h"

/* analyzer.c */

#define RK_TOKEN_MAX	64	/* longer tokens are dropped, in bytes */

struct rk_analyzer {
	int	stop;		/* drop English stopwords */
	int	stem;		/* 0 none, 1 English (Porter2), more: other
				   Snowball stemmers (rk_analyzer_parse) */
};

/*
 * Called for each token: the surface form (lowercased and folded, before
 * stopwords and stemming), the term (what is indexed), and byte offsets of
 * the token in the text.  A non-zero return stops the analysis.
 */
typedef int rk_token_fn(void *arg, const char *surface, size_t slen,
    const char *term, size_t tlen, size_t start, size_t end);

int	 rk_analyze(const struct rk_analyzer *, const char *text, size_t len,
	    rk_token_fn *, void *arg);
int	 rk_stopword(const char *, size_t);
int	 rk_analyzer_parse(const char *spec, struct rk_analyzer *);
void	 rk_analyzer_format(const struct rk_analyzer *, char *, size_t);
fts5_api *rk_fts5_register(sqlite3 *, uint64_t *counter);
fts5_api *rk_fts5_api(sqlite3 *);

/* search_chunk.c */

typedef void rk_chunk_fn(void *arg, size_t start, size_t end);

size_t	 rk_chunk(const char *text, size_t len, size_t size, size_t overlap,
	    rk_chunk_fn *, void *arg);

/* search_seg.c */

struct rk_seg;

struct rk_posting {
	int64_t	rowid;
	int	tf;		/* 0: the entry deletes the rowid */
};

struct rk_postings {
	struct rk_posting *v;
	size_t	n, cap;
};

void	 rk_postings_add(struct rk_postings *, int64_t rowid, int tf);
void	 rk_postings_order(struct rk_postings *, size_t start, int current);
struct rk_seg *rk_seg_open(sqlite3 *);
int	 rk_seg_refresh(struct rk_seg *);
void	 rk_seg_release(struct rk_seg *);
void	 rk_seg_close(struct rk_seg *);
void	 rk_seg_stats(const struct rk_seg *, int64_t *nrows,
	    int64_t *ntokens, size_t *nseg);
int	 rk_seg_term(struct rk_seg *, const char *term, size_t len,
	    struct rk_postings *);
int	 rk_seg_count_terms(struct rk_seg *, int64_t *);

/* search.c */

struct rk_index;

struct rk_index_params {
	double	k1, b;
	size_t	chunk, overlap;	/* bytes; chunk 0: one chunk per document */
};

struct rk_hit {
	int64_t	rowid;		/* chunk */
	double	score;
};

struct rk_index *rk_index_open(const char *path, int create,
	    const struct rk_analyzer *);
void	 rk_index_close(struct rk_index *);
int	 rk_index_created(const struct rk_index *);
int	 rk_index_remove(const char *path);
const char *rk_index_error(struct rk_index *);	/* "path: what", or "" */
/* what the user should know though nothing failed, once, or NULL */
const char *rk_index_warning(struct rk_index *);
void	 rk_index_warn(struct rk_index *, const char *);
int64_t	 rk_index_chunks(struct rk_index *);
void	 rk_index_params(struct rk_index *, struct rk_index_params *);
int	 rk_index_set_params(struct rk_index *, const struct rk_index_params *);
int	 rk_index_settings(struct rk_index *, struct rk_index_params *,
	    const char *params, int keep, struct rk_error *);
int	 rk_index_parse_params(const char *spec, struct rk_index_params *,
	    struct rk_error *);
int	 rk_index_begin(struct rk_index *);
int	 rk_index_commit(struct rk_index *);
int	 rk_index_add(struct rk_index *, const char *doc, const char *text,
	    size_t len, const struct rk_index_params *, size_t *nchunks);
int	 rk_index_rm(struct rk_index *, const char *doc);
int	 rk_index_optimize(struct rk_index *);
int	 rk_index_pack(struct rk_index *);
char	*rk_index_stats(struct rk_index *);	/* JSON text, free it */
int	 rk_index_begin_read(struct rk_index *);
int	 rk_index_end_read(struct rk_index *);
double	 rk_bm25_idf(double nchunks, double df);
int	 rk_index_search(struct rk_index *, const char *query,
	    const struct rk_index_params *, size_t k, int per_doc,
	    struct rk_hit **hits, size_t *nhits);
int	 rk_index_hit(struct rk_index *, int64_t rowid, char **doc,
	    long *chunk, char **text);
sqlite3	*rk_index_db(struct rk_index *);
int	 rk_index_sql_fail(sqlite3 *, struct rk_error *, const char *what);
const struct rk_analyzer *rk_index_analyzer(struct rk_index *);
int	 rk_index_match(struct rk_index *, const char *query, char **expr);

/* hits.c */

struct rk_result {
	char	*doc;
	long	 chunk;
	double	 score;
	char	*text;		/* NULL unless asked for */
};

int	 rk_results_read(struct rk_index *, const struct rk_hit *, size_t n,
	    int with_text, struct rk_result **);
int	 rk_index_query(struct rk_index *, const char *query,
	    const struct rk_index_params *, size_t k, int per_doc,
	    int with_text, struct rk_result **, size_t *n);
void	 rk_results_free(struct rk_result *, size_t n);
int	 rk_query_next(struct rk_reader *, size_t *nq, char **qid,
	    char **query);
json_t	*rk_result_json(const struct rk_result *, size_t rank);
json_t	*rk_results_context(const struct rk_result *, size_t n,
	    size_t budget);
/* that context in rec: its "context", or (as_list) one more of its "lists" */
/* -1 if a hit's name is not UTF-8: then rec carries the error instead */
int	 rk_results_attach(json_t *rec, const struct rk_result *, size_t n,
	    size_t budget, int as_list);

enum rk_hits_format { RK_HITS_JSON, RK_HITS_TREC, RK_HITS_TERM };

struct rk_hits_out {
	enum rk_hits_format format;
	const char *tag;		/* TREC run tag */
	const struct rk_analyzer *an;	/* for snippets */
	int	 plain;			/* marks without escape codes */
};

int	 rk_results_print(FILE *, const struct rk_hits_out *, const char *qid,
	    const char *query, const struct rk_result *, size_t n);
int	 rk_trec_print(FILE *, const char *qid, const char *doc, size_t rank,
	    int prec, double score, const char *tag);

/* ingest.c */

enum rk_skip {
	RK_SKIP_BINARY, RK_SKIP_UTF8, RK_SKIP_SPECIAL, RK_SKIP_SIZE, RK_SKIP_N
};

struct rk_ingest;

struct rk_ingest_stats {
	size_t	 docs, chunks, bytes;	/* indexed */
	size_t	 skipped[RK_SKIP_N];	/* found in a walk, not text */
	size_t	 failed;		/* files or lines in error */
	int	 status;		/* the highest RK_EXIT_* of those */
};

/*
 * What the caller hears of: each file skipped (code 0, why its reason)
 * and each failure (code an RK_EXIT_* status, why -1), subject a path or
 * "path:line"; and, if it wants, the counts after each document.
 */
typedef void rk_ingest_note_fn(void *arg, int code, int why,
    const char *subject, const char *msg);
typedef void rk_ingest_progress_fn(void *arg, const struct rk_ingest_stats *);

struct rk_ingest_opts {
	const struct rk_index_params *p;	/* chunking */
	rk_ingest_note_fn *note;
	rk_ingest_progress_fn *progress;	/* may be NULL */
	void	*arg;
};

struct rk_ingest *rk_ingest_new(struct rk_index *, const char *index_path,
	    const struct rk_ingest_opts *);
int	 rk_ingest_add(struct rk_ingest *, const char *path);
int	 rk_ingest_finish(struct rk_ingest *, struct rk_ingest_stats *);
const char *rk_skip_name(enum rk_skip);
char	*rk_ingest_summary(const struct rk_ingest_stats *);

/* snippet.c */

char	*rk_snippet(const struct rk_analyzer *, const char *query,
	    const char *text, size_t width, const char *on, const char *off);

/*
 * Rank fusion: several ranked lists of hits in, one list out.
 */

#include <stddef.h>

enum rk_fuse_method { RK_FUSE_RRF, RK_FUSE_COMBSUM, RK_FUSE_COMBMNZ,
	RK_FUSE_RBF };
enum rk_fuse_norm { RK_NORM_NONE, RK_NORM_MINMAX, RK_NORM_ZSCORE };

struct rk_fuse_hit {
	const char *doc;
	long	 chunk;		/* -1: none */
	double	 score;
	const char *text;	/* may be NULL */
};

struct rk_fuse_list {
	const struct rk_fuse_hit *hits;	/* best first */
	size_t	 n;
	double	 weight;
};

struct rk_fuse_opts {
	enum rk_fuse_method method;
	enum rk_fuse_norm norm;
	double	 k;		/* RRF constant */
	double	 rho;		/* RBF persistence */
	int	 by_doc;	/* key on the document alone */
};

struct rk_fused {
	const struct rk_fuse_hit *hit;	/* the best-ranked instance */
	double	 score;
	size_t	 best;		/* best 1-based rank in any list */
	size_t	 lists;		/* lists it appears in */
};

size_t	 rk_fuse(const struct rk_fuse_opts *, const struct rk_fuse_list *,
	    size_t nlists, struct rk_fused **out);
int	 rk_fuse_method(const char *, enum rk_fuse_method *);
int	 rk_fuse_norm(const char *, enum rk_fuse_norm *);
int	 rk_fuse_param(struct rk_fuse_opts *, const char *);
int	 rk_fuse_scored(const struct rk_fuse_opts *);

/* rk_fuse_hit_json(), _trec(): 0, -1 for no hit, or why a hit is bad */
enum { RK_HIT_NO_SCORE = 1, RK_HIT_BAD_SCORE, RK_HIT_NOT_UTF8 };

int	 rk_fuse_hit_json(const json_t *, int scored, struct rk_fuse_hit *,
	    char **qid);
int	 rk_fuse_hit_trec(const char *line, size_t len, int scored,
	    struct rk_fuse_hit *, char **qid);
void	 rk_fuse_hit_free(struct rk_fuse_hit *);

/* runs of hits with query ids, fused query by query */
struct rk_fuse_runs *rk_fuse_runs_new(size_t nruns);
void	 rk_fuse_runs_add(struct rk_fuse_runs *, size_t run, const char *qid,
	    const struct rk_fuse_hit *);
const char *rk_fuse_runs_next(struct rk_fuse_runs *, struct rk_fuse_list *);
void	 rk_fuse_runs_free(struct rk_fuse_runs *);
json_t	*rk_fused_json(const char *qid, const struct rk_fused *, size_t rank);

/*
 * vector.c: a flat store of unit vectors for top-k cosine search, exact
 * over float32 or over an int8 copy with an exact re-rank.  Hits carry
 * the ids given at insert; scores are cosines.
 */

struct rk_error;
struct rk_vec;

#define RK_VEC_DIM_MAX	16384
#define RK_VEC_FSIZE(dim) ((dim) * 4)		/* a chunk's float32 blob */
#define RK_VEC_QSIZE(dim) ((dim) + 4)		/* its int8 blob */
#define RK_VEC_RERANK	100	/* candidates to re-rank: recall@10 1.0 at
				   100K (bench/vector/RESULTS) */

struct rk_vec *rk_vec_new(size_t dim);		/* NULL: dim out of range */
void	 rk_vec_free(struct rk_vec *);
size_t	 rk_vec_dim(const struct rk_vec *);
size_t	 rk_vec_count(const struct rk_vec *);
int	 rk_vec_reserve(struct rk_vec *, size_t n, struct rk_error *);
int	 rk_vec_encode(const float *v, size_t dim, float *unit, void *qblob,
	    struct rk_error *);
int	 rk_vec_add(struct rk_vec *, int64_t id, const float *v,
	    struct rk_error *);
int	 rk_vec_add_blobs(struct rk_vec *, int64_t id, const void *fblob,
	    size_t flen, const void *qblob, size_t qlen, struct rk_error *);
void	 rk_vec_get(const struct rk_vec *, size_t i, int64_t *id,
	    const float **f, const void **q8, float *scale);
int	 rk_vec_search(const struct rk_vec *, const float *query, size_t k,
	    size_t rerank, struct rk_hit *out, size_t *nout,
	    struct rk_error *);		/* rerank 0: exact */
size_t	 rk_vec_blob_size(const struct rk_vec *);
void	 rk_vec_blob(const struct rk_vec *, void *out);
struct rk_vec *rk_vec_load(const void *blob, size_t len, struct rk_error *);
struct rk_vec *rk_vec_view(const void *blob, size_t len, struct rk_error *);
int	 rk_vec_simd(const char *name);	/* "avx512vnni", "avx2", "sse2",
					   "c"; NULL: the best */
const char *rk_vec_simd_name(void);
int	 rk_vec_query(const struct rk_vec *, const float *query, float *unit,
	    int8_t *q8, float *scale, struct rk_error *);
float	 rk_vec_qsim(const struct rk_vec *, size_t pos, const int8_t *q8,
	    float scale);
void	 rk_vec_qdots(const int8_t *q, const int8_t *const *x, size_t dim,
	    size_t n, int32_t *out);
int	 rk_vec_rerank(const struct rk_vec *, const float *unit,
	    const uint32_t *pos, size_t npos, size_t k, struct rk_hit *out,
	    size_t *nout, struct rk_error *);

/*
 * A store of int8 copies, the float32 vectors fetched when re-ranked:
 * fetch() copies the vector of id, len bytes into out, and checks it
 * (rk_vec_check_f32()); next() copies the next one in the store's order
 * (RK_VEC_END after the last), which rk_vec_fill() checks.
 */
#define RK_VEC_END	(-1)

typedef int rk_vec_fetch_fn(void *arg, int64_t id, float *out, size_t len,
    struct rk_error *);
typedef int rk_vec_next_fn(void *arg, int64_t *id, float *out, size_t len,
    struct rk_error *);

struct rk_vec *rk_vec_lazy(size_t dim, rk_vec_fetch_fn *fetch,
	    void (*release)(void *), void *arg);
int	 rk_vec_add_q8(struct rk_vec *, int64_t id, const void *qblob,
	    size_t qlen, struct rk_error *);
int	 rk_vec_fill(struct rk_vec *, rk_vec_next_fn *, void *arg,
	    struct rk_error *);
int	 rk_vec_resident(const struct rk_vec *);
int	 rk_vec_check_f32(const float *, size_t dim, struct rk_error *);

/*
 * hnsw.c: a graph over a store's vectors (HNSW) for approximate top-k
 * search: walked on the int8 copies, the ef best re-ranked in float32.
 */

struct rk_hnsw;

#define RK_HNSW_M	16	/* links per node (twice that on layer 0) */
#define RK_HNSW_EFC	100	/* candidates while building */
#define RK_HNSW_EF	64	/* candidates while searching, */
#define RK_HNSW_EF_BIG	256	/* or in a graph of more than */
#define RK_HNSW_BIG	100000	/* vectors */

typedef void rk_hnsw_progress_fn(void *arg, size_t done, size_t total);

struct rk_hnsw *rk_hnsw_build(const struct rk_vec *, size_t m, size_t efc,
	    rk_hnsw_progress_fn *, void *arg);
void	 rk_hnsw_free(struct rk_hnsw *);
size_t	 rk_hnsw_blob_size(const struct rk_hnsw *);
void	 rk_hnsw_blob(const struct rk_hnsw *, void *out);
struct rk_hnsw *rk_hnsw_load(const void *blob, size_t len,
	    const struct rk_vec *, struct rk_error *);
int	 rk_hnsw_search(struct rk_hnsw *, const struct rk_vec *,
	    const float *query, size_t k, size_t ef, struct rk_hit *out,
	    size_t *nout, struct rk_error *);

/* embedder.c: vectors from rk-embed(1) run as a child filter */

struct rk_embed_opts {
	const char *model;		/* -m; NULL: rk-embed's default */
	const char *provider, *base_url;	/* NULL: rk-embed's */
	long	 dimensions;		/* --dimensions; 0: the model's */
	long	 jobs;			/* -P; 0: rk-embed's default */
	volatile sig_atomic_t *stop;	/* set (by a signal): stop early */
};

typedef int rk_text_fn(void *arg, size_t i, char **text, struct rk_error *);
typedef int rk_vector_fn(void *arg, size_t i, const float *v, size_t dim,
    struct rk_error *);

int	 rk_embed_pipe(const struct rk_embed_opts *, rk_text_fn *,
	    rk_vector_fn *, void *arg, struct rk_error *);
int	 rk_embed_pipe_texts(const struct rk_embed_opts *, char *const *texts,
	    size_t n, float **vecs, size_t *dim, struct rk_error *);

/* index_vec.c: chunk vectors in the index */

struct rk_vec_info {
	char	 model[256];	/* "" before the first embed */
	size_t	 dim;
	long	 dimensions;	/* --dimensions of the first embed, 0 none */
	int64_t	 vectors, missing;	/* chunks with and without one */
};

typedef void rk_embed_progress_fn(void *arg, size_t done, size_t total);
typedef void rk_embed_skip_fn(void *arg, const char *doc, int64_t chunk);

int	 rk_index_vec_info(struct rk_index *, struct rk_vec_info *,
	    struct rk_error *);		/* the model and dimensions */
int	 rk_index_vec_counts(struct rk_index *, struct rk_vec_info *,
	    struct rk_error *);		/* the vectors and missing */
int	 rk_index_vec_dim(struct rk_index *, size_t *,
	    struct rk_error *);
int	 rk_index_vec_query(struct rk_index *, struct rk_vec_info *,
	    struct rk_embed_opts *, struct rk_error *);
int	 rk_index_vec_check(const struct rk_vec_info *, struct rk_embed_opts *,
	    struct rk_error *);
int	 rk_index_embed(struct rk_index *, const struct rk_embed_opts *,
	    rk_embed_progress_fn *, rk_embed_skip_fn *, void *, size_t *,
	    struct rk_error *);
int	 rk_index_vec_load(struct rk_index *, size_t dim, struct rk_vec **,
	    struct rk_error *);
int	 rk_index_vec_open(struct rk_index *, size_t dim, struct rk_vec **,
	    struct rk_error *);
int	 rk_index_vec_fill(struct rk_index *, struct rk_vec *,
	    struct rk_error *);

enum { RK_ANN_NONE, RK_ANN_FRESH, RK_ANN_STALE };

int	 rk_index_ann_build(struct rk_index *, rk_hnsw_progress_fn *,
	    void *, size_t *, struct rk_error *);
int	 rk_index_ann_state(struct rk_index *);
int	 rk_index_ann_load(struct rk_index *, const struct rk_vec *,
	    struct rk_hnsw **, struct rk_error *);

/* hybrid.c: vector and hybrid (BM25 + vector, fused) queries */

enum rk_rank { RK_RANK_BM25, RK_RANK_VECTOR, RK_RANK_HYBRID };
enum rk_fusion { RK_FUSION_RRF, RK_FUSION_CONVEX };

struct rk_rank_opts {
	enum rk_rank rank;
	enum rk_fusion fusion;
	double	 w_bm25, w_vector;	/* list weights; convex: normalised */
	double	 rrf_k;			/* 60 */
	int	 exact;			/* scan, even with a fresh graph */
	size_t	 ef;			/* graph search; 0: RK_HNSW_EF */
};

struct rk_vsearch;

struct rk_vsearch *rk_vsearch_new(struct rk_index *);
void	 rk_vsearch_free(struct rk_vsearch *);
int	 rk_vsearch_query(struct rk_vsearch *, const char *query,
	    const float *qvec, size_t dim, const struct rk_rank_opts *,
	    const struct rk_index_params *, size_t k, int per_doc,
	    int with_text, struct rk_result **, size_t *n, struct rk_error *);
int	 rk_rank_weights(const char *spec, struct rk_rank_opts *);

#endif
