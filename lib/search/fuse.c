/*
 * Rank fusion.  Each list is best first; rank r counts from 1.  For a hit
 * in lists i with weights w_i:
 *
 *   rrf      sum_i w_i / (k + r_i)
 *   rbf      sum_i w_i (1 - rho) rho^(r_i - 1)
 *   combsum  sum_i w_i norm_i(s_i)
 *   combmnz  combsum times the number of lists that hold the hit
 *
 * norm is min-max ((s - min) / (max - min), 1 when all scores are equal),
 * z-score ((s - mean) / sd, 0 when sd is 0) or none, over each list.  A hit
 * is a document and chunk (or the document alone with by_doc); a hit that
 * appears twice in one list counts at its first place only.  Ties are
 * broken by the best rank in any list, then by more lists, then by
 * document (bytewise), then by chunk: the order never depends on the
 * order of hashing or input files.  The TREC run line that rk-search and
 * rk-fuse write is here too, apart from hits.c, which reads the index:
 * rk-fuse links no SQLite.
 */
#include <err.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rk.h"
#include "search/search.h"

struct slot {
	const struct rk_fuse_hit *hit;
	size_t	 id;		/* index in out[] + 1; 0 empty */
	size_t	 seen;		/* last list it was seen in + 1 */
};

static uint64_t
hash(const struct rk_fuse_hit *h, int by_doc)
{
	uint64_t x = 1469598103934665603ULL;

	for (const unsigned char *s = (const unsigned char *)h->doc; *s; s++)
		x = (x ^ *s) * 1099511628211ULL;
	if (!by_doc)
		x = (x ^ (uint64_t)h->chunk) * 1099511628211ULL;
	return x;
}

static int
same(const struct rk_fuse_hit *a, const struct rk_fuse_hit *b, int by_doc)
{
	return strcmp(a->doc, b->doc) == 0 && (by_doc || a->chunk == b->chunk);
}

static int
cmp_fused(const void *pa, const void *pb)
{
	const struct rk_fused *a = pa, *b = pb;
	int c;

	if (a->score != b->score)
		return a->score > b->score ? -1 : 1;
	if (a->best != b->best)
		return a->best < b->best ? -1 : 1;
	if (a->lists != b->lists)
		return a->lists > b->lists ? -1 : 1;
	if ((c = strcmp(a->hit->doc, b->hit->doc)) != 0)
		return c;
	return (a->hit->chunk > b->hit->chunk) -
	    (a->hit->chunk < b->hit->chunk);
}

/*
 * A list's norm: v = (ldexp(s, -exp) - shift) / div, or where div is 0
 * (all its scores equal) 1 for min-max and 0 for z-score.  Scaled first
 * by the power of two of its largest score in magnitude, which is exact,
 * no sum, difference or square overflows (1e308 and -1e308) and the
 * tiniest scores keep their ratios (5e-324 and 0): no infinity, no NaN.
 */
struct norm {
	int	 exp;
	double	 shift, div;
};

static void
list_stats(const struct rk_fuse_list *l, enum rk_fuse_norm norm,
    struct norm *nm)
{
	double min = INFINITY, max = -INFINITY, sum = 0, sq = 0, x;

	*nm = (struct norm){ 0, 0, 1 };
	if (l->n == 0 || norm == RK_NORM_NONE)
		return;
	for (size_t i = 0; i < l->n; i++) {
		double s = l->hits[i].score;

		min = s < min ? s : min;
		max = s > max ? s : max;
	}
	frexp(fabs(min) > fabs(max) ? min : max, &nm->exp);
	/* equal scores: their sd is 0, however their mean rounds */
	if (norm == RK_NORM_MINMAX || min == max) {
		nm->shift = ldexp(min, -nm->exp);
		nm->div = ldexp(max, -nm->exp) - nm->shift;
		return;
	}
	for (size_t i = 0; i < l->n; i++)
		sum += ldexp(l->hits[i].score, -nm->exp);
	nm->shift = sum / l->n;
	for (size_t i = 0; i < l->n; i++) {
		x = ldexp(l->hits[i].score, -nm->exp) - nm->shift;
		sq += x * x;
	}
	nm->div = sqrt(sq / l->n);
}

static double
normalised(const struct norm *nm, enum rk_fuse_norm norm, double s)
{
	if (nm->div > 0)
		return (ldexp(s, -nm->exp) - nm->shift) / nm->div;
	return norm == RK_NORM_MINMAX ? 1 : 0;
}

/*
 * The largest double that 15 digits write is 1.79769313486231e308: the
 * printed DBL_MAX rounds up past it, and no JSON reader takes it back.
 */
#define SCORE_MAX	(DBL_MAX * (1 - 4 * DBL_EPSILON))

/* x held to +-SCORE_MAX: weights and raw scores near DBL_MAX overflow */
static double
held(double x)
{
	return x > SCORE_MAX ? SCORE_MAX : x < -SCORE_MAX ? -SCORE_MAX : x;
}

/*
 * Fuse nlists lists into *out (free it), best first; returns its length.
 */
size_t
rk_fuse(const struct rk_fuse_opts *o, const struct rk_fuse_list *lists,
    size_t nlists, struct rk_fused **out)
{
	size_t total = 0, cap = 16, n = 0, i, j;
	struct rk_fused *f;
	struct slot *tab;

	for (i = 0; i < nlists; i++)
		total += lists[i].n;
	while (cap < 2 * total)
		cap *= 2;
	tab = rk_xcalloc(cap, sizeof(*tab));
	f = rk_xmalloc((total ? total : 1) * sizeof(*f));
	for (i = 0; i < nlists; i++) {
		const struct rk_fuse_list *l = &lists[i];
		struct norm nm;

		list_stats(l, o->norm, &nm);
		for (j = 0; j < l->n; j++) {
			const struct rk_fuse_hit *h = &l->hits[j];
			size_t rank = j + 1, s = hash(h, o->by_doc) & (cap - 1);
			struct rk_fused *x;
			double v;

			while (tab[s].id != 0 &&
			    !same(tab[s].hit, h, o->by_doc))
				s = (s + 1) & (cap - 1);
			if (tab[s].id == 0) {
				tab[s].hit = h;
				tab[s].id = ++n;
				f[n - 1] = (struct rk_fused){ h, 0, rank, 0 };
			} else if (tab[s].seen == i + 1)
				continue;	/* again in the same list */
			tab[s].seen = i + 1;
			x = &f[tab[s].id - 1];
			x->lists++;
			if (rank < x->best) {
				x->best = rank;
				x->hit = h;
			} else if (x->hit->text == NULL && h->text != NULL)
				x->hit = h;
			switch (o->method) {
			case RK_FUSE_RRF:
				v = 1 / (o->k + rank);
				break;
			case RK_FUSE_RBF:
				v = (1 - o->rho) * pow(o->rho, rank - 1);
				break;
			default:
				v = normalised(&nm, o->norm, h->score);
			}
			x->score = held(x->score + held(l->weight * v));
		}
	}
	if (o->method == RK_FUSE_COMBMNZ)
		for (i = 0; i < n; i++)
			f[i].score = held(f[i].score * f[i].lists);
	qsort(f, n, sizeof(*f), cmp_fused);
	free(tab);
	*out = f;
	return n;
}

/* the index of s in names[n], or -1 */
static int
name_index(const char *s, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

int
rk_fuse_method(const char *s, enum rk_fuse_method *m)
{
	static const char *const names[] = { "rrf", "combsum", "combmnz",
	    "rbf" };
	int i = name_index(s, names, sizeof(names) / sizeof(*names));

	if (i == -1)
		return -1;
	*m = i;
	return 0;
}

int
rk_fuse_norm(const char *s, enum rk_fuse_norm *n)
{
	static const char *const names[] = { "none", "minmax", "zscore" };
	int i = name_index(s, names, sizeof(names) / sizeof(*names));

	if (i == -1)
		return -1;
	*n = i;
	return 0;
}

/*
 * The method's parameter from s: k >= 0 for rrf, rho in (0, 1) for rbf;
 * -1 if s is not one (or the method has none).
 */
int
rk_fuse_param(struct rk_fuse_opts *o, const char *s)
{
	double v;

	if (rk_parse_double(s, &v) == -1)
		return -1;
	if (o->method == RK_FUSE_RRF && v >= 0)
		o->k = v;
	else if (o->method == RK_FUSE_RBF && v > 0 && v < 1)
		o->rho = v;
	else
		return -1;
	return 0;
}

/* a string, or an integer as its digits; NULL for anything else */
static char *
json_text(const json_t *v)
{
	char *s;

	if (json_is_string(v))
		return rk_xstrdup(json_string_value(v));
	if (json_is_integer(v)) {
		rk_asprintf(&s, "%lld", (long long)json_integer_value(v));
		return s;
	}
	return NULL;
}

/* whether o's method reads scores (combsum, combmnz), not ranks alone */
int
rk_fuse_scored(const struct rk_fuse_opts *o)
{
	return o->method == RK_FUSE_COMBSUM || o->method == RK_FUSE_COMBMNZ;
}

/*
 * A hit object {"doc","chunk","score","text"} into h, its strings copied
 * (rk_fuse_hit_free); -1 if it is not one.  With qid, *qid gets its
 * "qid" as text, or NULL.  With scored, a hit whose "score" is missing
 * or not a number is RK_HIT_NO_SCORE or RK_HIT_BAD_SCORE, filled as far
 * as it goes (free it), never a score of 0; without, its score is 0.
 */
int
rk_fuse_hit_json(const json_t *o, int scored, struct rk_fuse_hit *h,
    char **qid)
{
	const json_t *c = json_object_get(o, "chunk"), *s;
	char *doc;

	if (!json_is_object(o) || (doc = json_text(json_object_get(o,
	    "doc"))) == NULL)
		return -1;
	h->doc = doc;
	h->chunk = json_is_integer(c) ? json_integer_value(c) : -1;
	h->score = 0;
	h->text = json_text(json_object_get(o, "text"));
	if (qid != NULL)
		*qid = json_text(json_object_get(o, "qid"));
	if (!scored)
		return 0;
	if ((s = json_object_get(o, "score")) == NULL)
		return RK_HIT_NO_SCORE;
	if (!json_is_number(s))
		return RK_HIT_BAD_SCORE;
	h->score = json_number_value(s);
	return 0;
}

void
rk_fuse_hit_free(struct rk_fuse_hit *h)
{
	free((char *)h->doc);
	free((char *)h->text);
}

/* A fused hit as JSON, with its query id if not NULL, its rank if > 0. */
json_t *
rk_fused_json(const char *qid, const struct rk_fused *f, size_t rank)
{
	json_t *o = json_object();

	if (qid != NULL)
		json_object_set_new(o, "qid", json_string(qid));
	json_object_set_new(o, "doc", json_string(f->hit->doc));
	if (f->hit->chunk >= 0)
		json_object_set_new(o, "chunk", json_integer(f->hit->chunk));
	json_object_set_new(o, "score", json_real(rk_round(f->score, 6)));
	if (rank > 0)
		json_object_set_new(o, "rank", json_integer(rank));
	if (f->hit->text != NULL)
		json_object_set_new(o, "text", json_string(f->hit->text));
	return o;
}

/*
 * The hits of nlists runs, each hit with its query id, kept in the order
 * they came; rk_fuse_runs_next() gives one query's hits of every run at
 * a time, the queries in the order they first came.
 */
struct run_entry {
	size_t	 q;		/* query index */
	size_t	 seq;		/* order of coming */
	struct rk_fuse_hit h;
};

struct run {
	struct run_entry *e;
	struct rk_fuse_hit *hits;	/* e's hits, by query, once sorted */
	size_t	 n, cap, pos;
};

struct rk_fuse_runs {
	struct run *run;
	size_t	 nruns;
	char	**qids;
	size_t	 nqids, last, next;
	int	 sorted;
};

struct rk_fuse_runs *
rk_fuse_runs_new(size_t nruns)
{
	struct rk_fuse_runs *r = rk_xcalloc(1, sizeof(*r));

	r->run = rk_xcalloc(nruns ? nruns : 1, sizeof(*r->run));
	r->nruns = nruns;
	return r;
}

static size_t
qid_index(struct rk_fuse_runs *r, const char *qid)
{
	if (r->last < r->nqids && strcmp(r->qids[r->last], qid) == 0)
		return r->last;
	for (size_t i = 0; i < r->nqids; i++)
		if (strcmp(r->qids[i], qid) == 0)
			return r->last = i;
	r->qids = rk_xrealloc(r->qids, (r->nqids + 1) * sizeof(*r->qids));
	r->qids[r->nqids] = rk_xstrdup(qid);
	return r->last = r->nqids++;
}

/* hit h (now the runs') of query qid into run i */
void
rk_fuse_runs_add(struct rk_fuse_runs *r, size_t i, const char *qid,
    const struct rk_fuse_hit *h)
{
	struct run *u = &r->run[i];

	if (u->n == u->cap) {
		u->cap = u->cap ? u->cap * 2 : 256;
		u->e = rk_xrealloc(u->e, u->cap * sizeof(*u->e));
	}
	u->e[u->n] = (struct run_entry){ qid_index(r, qid), u->n, *h };
	u->n++;
}

static int
cmp_entry(const void *pa, const void *pb)
{
	const struct run_entry *a = pa, *b = pb;

	if (a->q != b->q)
		return a->q < b->q ? -1 : 1;
	return (a->seq > b->seq) - (a->seq < b->seq);
}

/* each run's hits, query by query, in the order they came */
static void
runs_sort(struct rk_fuse_runs *r)
{
	for (size_t i = 0; i < r->nruns; i++) {
		struct run *u = &r->run[i];

		if (u->n > 0)	/* qsort(NULL, 0, ...) is undefined */
			qsort(u->e, u->n, sizeof(*u->e), cmp_entry);
		u->hits = rk_xmalloc((u->n ? u->n : 1) * sizeof(*u->hits));
		for (size_t j = 0; j < u->n; j++)
			u->hits[j] = u->e[j].h;
	}
	r->sorted = 1;
}

/*
 * The next query's hits, of each run i in lists[i] (their weights left
 * as they are); its query id, or NULL after the last.
 */
const char *
rk_fuse_runs_next(struct rk_fuse_runs *r, struct rk_fuse_list *lists)
{
	size_t q = r->next;

	if (!r->sorted)
		runs_sort(r);
	if (q >= r->nqids)
		return NULL;
	for (size_t i = 0; i < r->nruns; i++) {
		struct run *u = &r->run[i];
		size_t s = u->pos;

		while (u->pos < u->n && u->e[u->pos].q == q)
			u->pos++;
		lists[i].hits = u->hits + s;
		lists[i].n = u->pos - s;
	}
	r->next++;
	return r->qids[q];
}

void
rk_fuse_runs_free(struct rk_fuse_runs *r)
{
	for (size_t i = 0; i < r->nruns; i++) {
		for (size_t j = 0; j < r->run[i].n; j++)
			rk_fuse_hit_free(&r->run[i].e[j].h);
		free(r->run[i].e);
		free(r->run[i].hits);
	}
	for (size_t q = 0; q < r->nqids; q++)
		free(r->qids[q]);
	free(r->qids);
	free(r->run);
	free(r);
}

/* what splits a TREC run line into its fields */
static const char blanks[] = " \t\n\v\f\r";

/*
 * A TREC run line "qid Q0 doc rank score tag", six fields of any length,
 * into h and *qid (free them), its score read as a JSON hit's is, with
 * scored alone: 0, RK_HIT_BAD_SCORE (filled as far as it goes), or,
 * holding nothing, -1 if it is not one and RK_HIT_NOT_UTF8.
 */
int
rk_fuse_hit_trec(const char *line, size_t len, int scored,
    struct rk_fuse_hit *h, char **qid)
{
	const char *f[7];
	size_t flen[7], n;
	char *score;
	int rc = 0;

	*h = (struct rk_fuse_hit){ NULL, -1, 0, NULL };
	*qid = NULL;
	if (!rk_utf8_valid(line, len) || memchr(line, '\0', len) != NULL)
		return RK_HIT_NOT_UTF8;
	for (n = 0; n < 7; n++) {
		line += strspn(line, blanks);
		if (*line == '\0')
			break;
		f[n] = line;
		line += flen[n] = strcspn(line, blanks);
	}
	if (n != 6)
		return -1;
	if (scored) {
		score = rk_xstrndup(f[4], flen[4]);
		rc = rk_parse_double(score, &h->score) == -1 ?
		    RK_HIT_BAD_SCORE : 0;
		free(score);
	}
	*qid = rk_xstrndup(f[0], flen[0]);
	h->doc = rk_xstrndup(f[2], flen[2]);
	return rc;
}

/*
 * A TREC run line, "qid Q0 doc rank score tag", the score to prec
 * decimals: 0, or -1 if fp failed.  Its fields are split at blanks, so a
 * query id or document name that is empty or holds one cannot be
 * written: that is said instead, and the exit status is 3; 1 for the
 * query id, of which no line can be written.
 */
int
rk_trec_print(FILE *fp, const char *qid, const char *doc, size_t rank,
    int prec, double score, const char *tag)
{
	const char *bad = *qid == '\0' || strpbrk(qid, blanks) ?
	    "query id" : *doc == '\0' || strpbrk(doc, blanks) ?
	    "document name" : NULL;

	if (bad != NULL) {
		warnx("%s: a %s empty or with blanks is no TREC field",
		    bad[0] == 'q' ? qid : doc, bad);
		rk_note_written(RK_EXIT_INPUT);
		return bad[0] == 'q';
	}
	return fprintf(fp, "%s Q0 %s %zu %.*f %s\n", qid, doc, rank, prec,
	    score, tag) < 0 ? -1 : 0;
}
