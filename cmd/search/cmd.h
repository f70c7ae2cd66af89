/*
 * rk-search in parts: options, add, rm and stats (cmd/rk-search.c), the
 * queries (query.c), and the vector side: embed, --vector and --hybrid
 * (vector.c).
 */
#ifndef RK_SEARCH_CMD_H
#define RK_SEARCH_CMD_H

#include "search/search.h"

/* rk-search.c: the settings */
extern struct rk_index *ix;
extern char ix_err[512];
extern struct rk_index_params params;
extern struct rk_cli cli;
extern int Lflag, rflag;
extern enum rk_hits_format format;

/* query.c */
void	 cmd_query(int argc, char **argv);

/* vector.c */

enum {
	VQ_VECTOR = RK_OPT_OWN + 20, VQ_HYBRID, VQ_FUSION, VQ_WEIGHTS,
	VQ_PROVIDER, VQ_BASE_URL, VQ_DIMENSIONS, VQ_EXACT, VQ_EF
};

#define VQ_OPTDEFS \
	{ 'm', NULL, required_argument, "model", \
	    "the embedding model (embed, queries)" }, \
	{ 'P', NULL, required_argument, "jobs", \
	    "embed: requests in flight at once" }, \
	{ VQ_BASE_URL, "base-url", required_argument, "url", \
	    "the embedding server" }, \
	{ VQ_DIMENSIONS, "dimensions", required_argument, "n", \
	    "embed, queries: vectors of n dimensions" }, \
	{ VQ_EF, "ef", required_argument, "n", \
	    "candidates searched in the ANN graph; default 64" }, \
	{ VQ_EXACT, "exact", no_argument, NULL, \
	    "scan all vectors, even with an ANN graph" }, \
	{ VQ_FUSION, "fusion", required_argument, "rrf | convex", \
	    "how --hybrid fuses; default rrf" }, \
	{ VQ_HYBRID, "hybrid", no_argument, NULL, \
	    "rank by BM25 and by vector, fused" }, \
	{ VQ_PROVIDER, "provider", required_argument, "name", \
	    "the embedding provider" }, \
	{ VQ_VECTOR, "vector", no_argument, NULL, \
	    "rank by cosine similarity to the query's vector" }, \
	{ VQ_WEIGHTS, "weights", required_argument, "bm25,vector", \
	    "--hybrid: the weights of the two lists; default 1,1" }

int	 vq_option(int c, const char *arg);
int	 vq_ranked(void);
void	 vq_unused(void);
void	 vq_embed(struct rk_index *, int quiet);
void	 vq_ann(struct rk_index *, int quiet);
void	 vq_stats(struct rk_index *, char **stats);
void	 vq_prepare(struct rk_index *, char *const *queries, size_t n);
int	 vq_results(struct rk_index *, const char *query,
	    const struct rk_index_params *, size_t k, int per_doc,
	    int with_text, struct rk_result **, size_t *n, struct rk_error *);
void	 vq_done(void);

#endif
