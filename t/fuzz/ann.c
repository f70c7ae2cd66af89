/*
 * The ANN graph's blob reader (lib/search/hnsw.c) against a fixed store
 * of 40 vectors of 8 dimensions: the input is the blob.  A graph that
 * loads is searched: every hit is one of the store's vectors, at most k
 * of them, best first, none twice.  RK_FUZZ_SEED=1 writes the store's
 * own graph to standard output (the seed corpus) and exits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rk.h"
#include "search/search.h"
#include "fuzz.h"

#define N	40
#define DIM	8
#define K	5

static struct rk_vec *store;

static float
coordinate(unsigned i, unsigned j)
{
	return (float)((i * 7 + j * 13) % 17) - 8 + (j == i % DIM ? 9 : 0);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct rk_error e;
	float v[DIM];

	(void)argc, (void)argv;
	store = rk_vec_new(DIM);
	for (unsigned i = 0; i < N; i++) {
		for (unsigned j = 0; j < DIM; j++)
			v[j] = coordinate(i, j);
		FUZZ_CHECK(rk_vec_add(store, 100 + i, v, &e) == 0, "%s",
		    e.msg);
	}
	if (getenv("RK_FUZZ_SEED") != NULL) {
		struct rk_hnsw *g = rk_hnsw_build(store, 4, 16, NULL, NULL);
		size_t len = rk_hnsw_blob_size(g);
		void *blob = malloc(len);

		rk_hnsw_blob(g, blob);
		fwrite(blob, 1, len, stdout);
		exit(0);
	}
	return 0;
}

static void
search(struct rk_hnsw *g, unsigned q)
{
	struct rk_hit hits[K];
	struct rk_error e;
	float v[DIM];
	size_t n;

	for (unsigned j = 0; j < DIM; j++)
		v[j] = coordinate(q, j) + 0.5f;
	FUZZ_CHECK(rk_hnsw_search(g, store, v, K, 1 + q % 8, hits, &n,
	    &e) == 0, "%s", e.msg);
	FUZZ_CHECK(n <= K, "%zu hits", n);
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(hits[i].rowid >= 100 && hits[i].rowid < 100 + N,
		    "id %lld", (long long)hits[i].rowid);
		FUZZ_CHECK(i == 0 || hits[i].score <= hits[i - 1].score,
		    "rank %zu", i);
		for (size_t j = 0; j < i; j++)
			FUZZ_CHECK(hits[i].rowid != hits[j].rowid, "twice");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rk_hnsw *g;
	struct rk_error e;

	if ((g = rk_hnsw_load(data, size, store, &e)) == NULL) {
		FUZZ_CHECK(e.code == RK_EXIT_INPUT, "code %d", e.code);
		return 0;
	}
	for (unsigned q = 0; q < N; q += 7)
		search(g, q);
	rk_hnsw_free(g);
	return 0;
}
