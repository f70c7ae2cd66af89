/*
 * A hierarchical navigable small world graph (Malkov and Yashunin, 2016)
 * over the vectors of a vector.c store, for top-k cosine search that
 * reads a few thousand vectors instead of all of them.
 *
 * Nodes are the store's positions.  Each node has a level, drawn from a
 * geometric distribution (P(level >= l) = m^-l) by a hash of its
 * position and a fixed seed, so one store always gives the same graph.
 * On each layer up to its level a node links to at most m others (2m on
 * layer 0).  A node is inserted by a greedy descent from the entry point
 * to its level, then, layer by layer down to 0, a best-first search for
 * efc candidates, of which the neighbour-selection heuristic keeps those
 * closer to the new node than to any neighbour already kept; a neighbour
 * that overflows is pruned by the same heuristic.  A query descends
 * greedily to layer 1, searches layer 0 for its ef best, and ranks those
 * again by their exact float32 cosine.  Similarities on the walk are
 * those of the int8 copies (a quarter of the bytes; their order is the
 * float32 order to within the quantisation, and the re-rank restores
 * it).  Nothing is removed: a changed store needs a new graph.
 *
 * The blob, little-endian: a 48-byte header
 *
 *   "RKHNSW1\n", uint32 dim, uint32 m, uint64 count, uint32 entry,
 *   uint32 top level, uint32 efc, uint32 0, uint64 seed
 *
 * then count int64 ids (the store's, in its order), count uint8 levels
 * padded with zeros to a multiple of 8, count * (1 + 2m) uint32 for
 * layer 0 (a node's number of links, then its links, unused ones 0),
 * then for each node with a level above 0, in order, level * (1 + m)
 * uint32 for its layers 1 to level.  A blob is checked whole before
 * use: its length, its ids against the store's, every count and link.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rk.h"
#include "search/search.h"

#define MAGIC		"RKHNSW1\n"
#define HEADER_SIZE	48
#define SEED		0x5eedc0deULL
#define LEVEL_MAX	16
#define M_MIN		2
#define M_MAX		64
#define PAD8(n)		(((n) + 7) & ~(size_t)7)

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "graph blobs are little-endian: add byte swapping for this host"
#endif

struct cand {
	float	 sim;
	uint32_t node;
};

/* a binary heap of candidates, the best (max) or the worst (min) on top */
struct heap {
	struct cand *c;
	size_t	 n, cap;
	int	 max;
};

struct rk_hnsw {
	size_t	 dim, n, m, m0, efc;
	uint32_t entry;
	unsigned top;
	uint8_t	*level;
	uint32_t *l0;		/* n * (1 + m0) */
	uint32_t *upper;	/* the layers above 0 */
	size_t	*up;		/* where each node's are in upper */
	size_t	 nupper;
	int64_t	*id;
	/* scratch of a search */
	uint32_t *seen, mark;
	struct heap cands, best;
	struct cand *sel;
	uint32_t *pos;
};

static int
before(const struct heap *h, const struct cand *a, const struct cand *b)
{
	if (a->sim != b->sim)
		return h->max ? a->sim > b->sim : a->sim < b->sim;
	return h->max ? a->node < b->node : a->node > b->node;
}

static void
heap_push(struct heap *h, float sim, uint32_t node)
{
	struct cand x = { sim, node };
	size_t i;

	if (h->n == h->cap) {
		h->cap = h->cap ? 2 * h->cap : 64;
		h->c = rk_xrealloc(h->c, h->cap * sizeof(*h->c));
	}
	for (i = h->n++; i > 0 && before(h, &x, &h->c[(i - 1) / 2]);
	    i = (i - 1) / 2)
		h->c[i] = h->c[(i - 1) / 2];
	h->c[i] = x;
}

static struct cand
heap_pop(struct heap *h)
{
	struct cand top = h->c[0], last = h->c[--h->n];
	size_t i = 0;

	for (;;) {
		size_t l = 2 * i + 1, b = l;

		if (l >= h->n)
			break;
		if (l + 1 < h->n && before(h, &h->c[l + 1], &h->c[l]))
			b = l + 1;
		if (!before(h, &h->c[b], &last))
			break;
		h->c[i] = h->c[b];
		i = b;
	}
	if (h->n > 0)
		h->c[i] = last;
	return top;
}

static int
cmp_best(const void *pa, const void *pb)
{
	const struct cand *a = pa, *b = pb;

	if (a->sim != b->sim)
		return a->sim > b->sim ? -1 : 1;
	return a->node < b->node ? -1 : a->node > b->node;
}

/* the links of a node on a layer: their number, then the links */
static uint32_t *
links(const struct rk_hnsw *g, uint32_t node, unsigned layer)
{
	if (layer == 0)
		return g->l0 + (size_t)node * (1 + g->m0);
	return g->upper + g->up[node] + (layer - 1) * (1 + g->m);
}

static unsigned
draw_level(uint32_t node, size_t m)
{
	uint64_t z = SEED + (node + 1) * 0x9e3779b97f4a7c15ULL;
	double u;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	u = ((z >> 11) + 0.5) / 9007199254740992.0;
	u = floor(-log(u) / log((double)m));
	return u > LEVEL_MAX ? LEVEL_MAX : (unsigned)u;
}

static struct rk_hnsw *
graph_new(size_t dim, size_t n, size_t m)
{
	struct rk_hnsw *g = rk_xmalloc(sizeof(*g));

	memset(g, 0, sizeof(*g));
	g->dim = dim;
	g->n = n;
	g->m = m;
	g->m0 = 2 * m;
	g->level = rk_xmalloc(n ? n : 1);
	g->l0 = rk_xcalloc((n ? n : 1) * (1 + g->m0), sizeof(*g->l0));
	g->up = rk_xmalloc((n ? n : 1) * sizeof(*g->up));
	g->id = rk_xmalloc((n ? n : 1) * sizeof(*g->id));
	g->seen = rk_xcalloc(n ? n : 1, sizeof(*g->seen));
	g->cands.max = 1;
	g->sel = rk_xmalloc((g->m0 + 1) * sizeof(*g->sel));
	return g;
}

/* where each node's upper layers go, once the levels are known */
static void
place_upper(struct rk_hnsw *g)
{
	g->nupper = 0;
	for (size_t i = 0; i < g->n; i++) {
		g->up[i] = g->nupper;
		g->nupper += (size_t)g->level[i] * (1 + g->m);
	}
}

static void
alloc_upper(struct rk_hnsw *g)
{
	g->upper = rk_xcalloc(g->nupper ? g->nupper : 1, sizeof(*g->upper));
}

void
rk_hnsw_free(struct rk_hnsw *g)
{
	if (g == NULL)
		return;
	free(g->level);
	free(g->l0);
	free(g->upper);
	free(g->up);
	free(g->id);
	free(g->seen);
	free(g->cands.c);
	free(g->best.c);
	free(g->sel);
	free(g->pos);
	free(g);
}

/* a new visit: every node unseen */
static void
visit_begin(struct rk_hnsw *g)
{
	if (++g->mark == 0) {
		memset(g->seen, 0, g->n * sizeof(*g->seen));
		g->mark = 1;
	}
}

static int
visit(struct rk_hnsw *g, uint32_t node)
{
	if (g->seen[node] == g->mark)
		return 0;
	g->seen[node] = g->mark;
	return 1;
}

/* from ep, the neighbour most like q on a layer, until none is more */
static struct cand
greedy(const struct rk_hnsw *g, const struct rk_vec *s, const int8_t *q,
    float qs, struct cand ep, unsigned layer)
{
	int moved = 1;

	while (moved) {
		const uint32_t *l = links(g, ep.node, layer);

		moved = 0;
		for (uint32_t i = 1; i <= l[0]; i++) {
			float sim = rk_vec_qsim(s, l[i], q, qs);

			if (sim > ep.sim) {
				ep = (struct cand){ sim, l[i] };
				moved = 1;
			}
		}
	}
	return ep;
}

/*
 * The ef nodes most like q on a layer found from ep, best first, in
 * g->best.c[0..g->best.n-1].
 */
static void
search_layer(struct rk_hnsw *g, const struct rk_vec *s, const int8_t *q,
    float qs, struct cand ep, size_t ef, unsigned layer)
{
	g->cands.n = g->best.n = 0;
	visit_begin(g);
	visit(g, ep.node);
	heap_push(&g->cands, ep.sim, ep.node);
	heap_push(&g->best, ep.sim, ep.node);
	while (g->cands.n > 0) {
		struct cand c = heap_pop(&g->cands);
		const uint32_t *l;

		if (g->best.n == ef && c.sim < g->best.c[0].sim)
			break;
		l = links(g, c.node, layer);
		for (uint32_t i = 1; i <= l[0]; i++) {
			float sim;

			if (!visit(g, l[i]))
				continue;
			sim = rk_vec_qsim(s, l[i], q, qs);
			if (g->best.n == ef && sim <= g->best.c[0].sim)
				continue;
			heap_push(&g->cands, sim, l[i]);
			heap_push(&g->best, sim, l[i]);
			if (g->best.n > ef)
				heap_pop(&g->best);
		}
	}
	qsort(g->best.c, g->best.n, sizeof(*g->best.c), cmp_best);
}

static float
node_sim(const struct rk_vec *s, uint32_t a, uint32_t b)
{
	const float *f;
	const void *q8;
	int64_t id;
	float scale;

	rk_vec_get(s, b, &id, &f, &q8, &scale);
	return rk_vec_qsim(s, a, q8, scale);
}

/*
 * The heuristic: of candidates c[0..n-1], best first by their similarity
 * to the node linked from, keep each one more like that node than like
 * any kept before it, at most m; into list (count, links).
 */
static void
select_links(const struct rk_vec *s, const struct cand *c, size_t n,
    size_t m, uint32_t *list)
{
	uint32_t kept = 0;

	for (size_t i = 0; i < n && kept < m; i++) {
		uint32_t j;

		for (j = 0; j < kept; j++)
			if (node_sim(s, c[i].node, list[1 + j]) > c[i].sim)
				break;
		if (j == kept)
			list[1 + kept++] = c[i].node;
	}
	list[0] = kept;
}

/* a link from node to new on a layer; a full list is pruned again */
static void
link_back(struct rk_hnsw *g, const struct rk_vec *s, uint32_t node,
    uint32_t new, float sim, unsigned layer)
{
	uint32_t *l = links(g, node, layer);
	size_t cap = layer == 0 ? g->m0 : g->m, n = l[0];

	if (n < cap) {
		l[1 + l[0]++] = new;
		return;
	}
	for (size_t i = 0; i < n; i++)
		g->sel[i] = (struct cand){ node_sim(s, node, l[1 + i]),
		    l[1 + i] };
	g->sel[n++] = (struct cand){ sim, new };
	qsort(g->sel, n, sizeof(*g->sel), cmp_best);
	select_links(s, g->sel, n, cap, l);
}

static void
insert(struct rk_hnsw *g, const struct rk_vec *s, uint32_t node)
{
	unsigned lv = g->level[node], layer;
	struct cand ep;
	const void *q;
	const float *f;
	int64_t id;
	float qs;

	rk_vec_get(s, node, &id, &f, &q, &qs);
	ep = (struct cand){ rk_vec_qsim(s, g->entry, q, qs), g->entry };
	for (layer = g->top; layer > lv; layer--)
		ep = greedy(g, s, q, qs, ep, layer);
	for (layer = lv < g->top ? lv : g->top; ; layer--) {
		uint32_t *l = links(g, node, layer);

		search_layer(g, s, q, qs, ep, g->efc, layer);
		select_links(s, g->best.c, g->best.n, g->m, l);
		for (uint32_t i = 1; i <= l[0]; i++)
			link_back(g, s, l[i], node, node_sim(s, node, l[i]),
			    layer);
		ep = g->best.c[0];
		if (layer == 0)
			break;
	}
	if (lv > g->top) {
		g->top = lv;
		g->entry = node;
	}
}

/*
 * The graph of a store's vectors, m links per node, efc candidates per
 * insertion; progress, when not NULL, now and then and at the end.
 */
struct rk_hnsw *
rk_hnsw_build(const struct rk_vec *s, size_t m, size_t efc,
    rk_hnsw_progress_fn *progress, void *arg)
{
	size_t n = rk_vec_count(s);
	struct rk_hnsw *g;

	if (m < M_MIN)
		m = M_MIN;
	if (m > M_MAX)
		m = M_MAX;
	g = graph_new(rk_vec_dim(s), n, m);
	g->efc = efc > m ? efc : m;
	for (size_t i = 0; i < n; i++) {
		const float *f;
		const void *q;
		float scale;

		rk_vec_get(s, i, &g->id[i], &f, &q, &scale);
		g->level[i] = (uint8_t)draw_level((uint32_t)i, m);
	}
	place_upper(g);
	alloc_upper(g);
	g->top = n > 0 ? g->level[0] : 0;
	for (size_t i = 1; i < n; i++) {
		insert(g, s, (uint32_t)i);
		if (progress != NULL && i % 1000 == 0)
			progress(arg, i, n);
	}
	if (progress != NULL)
		progress(arg, n, n);
	return g;
}

int
rk_hnsw_search(struct rk_hnsw *g, const struct rk_vec *s, const float *query,
    size_t k, size_t ef, struct rk_hit *out, size_t *nout,
    struct rk_error *e)
{
	float *q = rk_xmalloc(g->dim * sizeof(*q)), qs;
	int8_t *q8 = rk_xmalloc(g->dim);
	struct cand ep;
	int rc;

	*nout = 0;
	if (ef < k)
		ef = k;
	if ((rc = rk_vec_query(s, query, q, q8, &qs, e)) == 0 && k > 0 &&
	    g->n > 0) {
		ep = (struct cand){ rk_vec_qsim(s, g->entry, q8, qs),
		    g->entry };
		for (unsigned layer = g->top; layer > 0; layer--)
			ep = greedy(g, s, q8, qs, ep, layer);
		search_layer(g, s, q8, qs, ep, ef, 0);
		g->pos = rk_xrealloc(g->pos, g->best.n * sizeof(*g->pos));
		for (size_t i = 0; i < g->best.n; i++)
			g->pos[i] = g->best.c[i].node;
		rc = rk_vec_rerank(s, q, g->pos, g->best.n, k, out, nout, e);
	}
	free(q);
	free(q8);
	return rc;
}

/* the blob */

/* the host is little-endian, like the blob (vector.c insists) */
static void
put32(unsigned char *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void
put64(unsigned char *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static uint32_t
get32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint64_t
get64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

struct layout {
	size_t	 ids, levels, l0, upper, end;
};

static void
layout(const struct rk_hnsw *g, struct layout *l)
{
	l->ids = HEADER_SIZE;
	l->levels = l->ids + 8 * g->n;
	l->l0 = l->levels + PAD8(g->n);
	l->upper = l->l0 + 4 * g->n * (1 + g->m0);
	l->end = l->upper + 4 * g->nupper;
}

size_t
rk_hnsw_blob_size(const struct rk_hnsw *g)
{
	struct layout l;

	layout(g, &l);
	return l.end;
}

void
rk_hnsw_blob(const struct rk_hnsw *g, void *out)
{
	unsigned char *p = out;
	struct layout l;

	layout(g, &l);
	memset(p, 0, l.end);
	memcpy(p, MAGIC, 8);
	put32(p + 8, (uint32_t)g->dim);
	put32(p + 12, (uint32_t)g->m);
	put64(p + 16, g->n);
	put32(p + 24, g->entry);
	put32(p + 28, g->top);
	put32(p + 32, (uint32_t)g->efc);
	put64(p + 40, SEED);
	for (size_t i = 0; i < g->n; i++)
		put64(p + l.ids + 8 * i, (uint64_t)g->id[i]);
	memcpy(p + l.levels, g->level, g->n);
	memcpy(p + l.l0, g->l0, 4 * g->n * (1 + g->m0));
	memcpy(p + l.upper, g->upper, 4 * g->nupper);
}

static int
damaged(struct rk_error *e, const char *why)
{
	return rk_error_set(e, RK_EXIT_INPUT, "ann graph: damaged: %s", why);
}

/* the header against the store; the graph's arrays allocated */
static struct rk_hnsw *
read_header(const unsigned char *p, size_t len, const struct rk_vec *s,
    struct rk_error *e)
{
	uint64_t n, m;

	if (len < HEADER_SIZE || memcmp(p, MAGIC, 8) != 0) {
		rk_error_set(e, RK_EXIT_INPUT, "ann graph: not a graph");
		return NULL;
	}
	n = get64(p + 16);
	m = get32(p + 12);
	if (get32(p + 8) != rk_vec_dim(s) || n != rk_vec_count(s) || n == 0) {
		rk_error_set(e, RK_EXIT_INPUT, "ann graph: made for other "
		    "vectors than the index holds");
		return NULL;
	}
	if (m < M_MIN || m > M_MAX || get32(p + 36) != 0 ||
	    len < HEADER_SIZE + n * (8 + 1 + 4 * (1 + 2 * m))) {
		damaged(e, "sizes do not match its length");
		return NULL;
	}
	return graph_new(rk_vec_dim(s), n, m);
}

static int
check_list(const struct rk_hnsw *g, uint32_t node, unsigned layer)
{
	const uint32_t *l = links(g, node, layer);

	if (l[0] > (layer == 0 ? g->m0 : g->m))
		return -1;
	for (uint32_t i = 1; i <= l[0]; i++)
		if (l[i] >= g->n || l[i] == node || g->level[l[i]] < layer)
			return -1;
	return 0;
}

static int
read_levels(struct rk_hnsw *g, const unsigned char *p, size_t len,
    const struct rk_vec *s, struct rk_error *e)
{
	unsigned top = 0;
	struct layout l;

	g->nupper = 0;
	layout(g, &l);
	for (size_t i = 0; i < g->n; i++) {
		const float *f;
		const void *q;
		float scale;
		int64_t id;

		rk_vec_get(s, i, &id, &f, &q, &scale);
		if ((int64_t)get64(p + l.ids + 8 * i) != id)
			return rk_error_set(e, RK_EXIT_INPUT, "ann graph: made "
			    "for other vectors than the index holds");
		g->id[i] = id;
		g->level[i] = p[l.levels + i];
		if (g->level[i] > LEVEL_MAX)
			return damaged(e, "a level out of range");
		top = g->level[i] > top ? g->level[i] : top;
	}
	g->entry = get32(p + 24);
	g->top = get32(p + 28);
	g->efc = get32(p + 32);
	if (g->entry >= g->n || g->level[g->entry] != g->top || top != g->top)
		return damaged(e, "a bad entry point");
	place_upper(g);
	layout(g, &l);
	if (l.end != len)
		return damaged(e, "sizes do not match its length");
	alloc_upper(g);		/* no larger than the blob */
	return 0;
}

/*
 * A graph from its blob, for the store s it was built on (checked: the
 * same ids in the same order): NULL with e set (RK_EXIT_INPUT) if the
 * blob is damaged or was made for other vectors.
 */
struct rk_hnsw *
rk_hnsw_load(const void *blob, size_t len, const struct rk_vec *s,
    struct rk_error *e)
{
	const unsigned char *p = blob;
	struct rk_hnsw *g;
	struct layout l;

	if ((g = read_header(p, len, s, e)) == NULL)
		return NULL;
	if (read_levels(g, p, len, s, e) != 0) {
		rk_hnsw_free(g);
		return NULL;
	}
	layout(g, &l);
	memcpy(g->l0, p + l.l0, 4 * g->n * (1 + g->m0));
	memcpy(g->upper, p + l.upper, 4 * g->nupper);
	for (uint32_t i = 0; i < g->n; i++) {
		if (g->n > 1 && links(g, i, 0)[0] == 0) {
			rk_hnsw_free(g);
			damaged(e, "a node without links");
			return NULL;
		}
		for (unsigned layer = 0; layer <= g->level[i]; layer++)
			if (check_list(g, i, layer) != 0) {
				rk_hnsw_free(g);
				damaged(e, "a bad link");
				return NULL;
			}
	}
	return g;
}
