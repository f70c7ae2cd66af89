/*
 * Chunk vectors in the index.  Table `vecs` holds, per chunk that has
 * one, its unit vector as float32 and its int8 copy with a per-vector
 * scale, the blobs of vector.c; a chunk without a row is missing its
 * vector.  A trigger drops a chunk's vector with the chunk, so rm and a
 * changed document leave no stale vector, and add leaves new chunks
 * missing.  Table meta records the model, the dimensions of its vectors
 * and the --dimensions asked for: one index holds one model's vectors.
 *
 * rk_index_embed() fills what is missing through rk-embed and commits
 * every BATCH vectors (or every second), in short write transactions
 * of their own: stopped at any point, it has lost at most what had not
 * come back yet, and a rerun embeds only what is still missing.
 */
#include <stdlib.h>
#include <string.h>

#include "core/rk.h"
#include "search/search.h"

#define BATCH		256
#define BATCH_MS	1000

static const char vec_schema[] =
    "CREATE TABLE IF NOT EXISTS vecs(id INTEGER PRIMARY KEY, "
    "f BLOB NOT NULL, q BLOB NOT NULL);"
    "CREATE TRIGGER IF NOT EXISTS vecs_drop AFTER DELETE ON chunks "
    "BEGIN DELETE FROM vecs WHERE id = old.id; END;";

struct pending {
	int64_t	 id;
	uint64_t hash;		/* of the text embedded */
	void	*f, *q;
};

struct embedding {
	struct rk_index *ix;
	sqlite3	*db;
	struct rk_vec_info info;
	const struct rk_embed_opts *o;
	int64_t	*ids;		/* chunks missing their vector; [i] the ith
				   sent, once sent */
	uint64_t *hash;		/* [i] the hash of the ith's text, as sent */
	size_t	 nids, next;	/* next: the first not yet sent or skipped */
	sqlite3_stmt *text, *ins;
	struct pending *pend;
	size_t	 npend;
	double	 flushed;	/* when, in ms */
	size_t	 done;
	rk_embed_progress_fn *progress;
	rk_embed_skip_fn *skip;
	void	*arg;
};

/* RK_EXIT_IO, e saying "path: what: SQLite's message" */
int
rk_index_sql_fail(sqlite3 *db, struct rk_error *e, const char *what)
{
	return rk_error_set(e, RK_EXIT_IO, "%s: %s: %s",
	    sqlite3_db_filename(db, "main"), what, sqlite3_errmsg(db));
}

static int
exec(sqlite3 *db, const char *sql, struct rk_error *e)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return rk_index_sql_fail(db, e, "vectors");
	return 0;
}

static int64_t
count(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int64_t n = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static int
has_vecs(sqlite3 *db)
{
	return count(db, "SELECT count(*) FROM sqlite_master WHERE "
	    "type = 'table' AND name = 'vecs'") > 0;
}

static void
meta_text(sqlite3 *db, const char *key, char *buf, size_t size)
{
	sqlite3_stmt *st;

	*buf = '\0';
	if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = ?1",
	    -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		strlcpy(buf, (const char *)sqlite3_column_text(st, 0), size);
	sqlite3_finalize(st);
}

/* the error of what needs vectors in an index that has none */
static int
no_vectors(sqlite3 *db, struct rk_error *e)
{
	return rk_error_set(e, RK_EXIT_CONFIG, "%s: no vectors: run "
	    "rk-search embed first", sqlite3_db_filename(db, "main"));
}

/*
 * The number under key in table meta into *n, 0 if it has none; only a
 * damaged index holds one that is not a whole number from 0 to max.
 */
static int
meta_number(sqlite3 *db, const char *key, long max, long *n,
    struct rk_error *e)
{
	char num[32];

	meta_text(db, key, num, sizeof(num));
	*n = 0;
	if (*num == '\0' || rk_parse_uint(num, max, n) == 0)
		return 0;
	return rk_error_set(e, RK_EXIT_IO, "%s: index damaged: %s is %s",
	    sqlite3_db_filename(db, "main"), key, num);
}

/* the dimensions of the index's vectors; an error before the first embed */
int
rk_index_vec_dim(struct rk_index *ix, size_t *dim, struct rk_error *e)
{
	sqlite3 *db = rk_index_db(ix);
	long n;

	if (meta_number(db, "embed_dim", RK_VEC_DIM_MAX, &n, e) != 0)
		return e->code;
	if (n == 0)
		return no_vectors(db, e);
	*dim = n;
	return 0;
}

/* the model the index's vectors were made with (or ""), their dimensions */
int
rk_index_vec_info(struct rk_index *ix, struct rk_vec_info *vi,
    struct rk_error *e)
{
	sqlite3 *db = rk_index_db(ix);
	long dim;

	memset(vi, 0, sizeof(*vi));
	meta_text(db, "embed_model", vi->model, sizeof(vi->model));
	if (meta_number(db, "embed_dim", RK_VEC_DIM_MAX, &dim, e) != 0 ||
	    meta_number(db, "embed_dimensions", RK_VEC_DIM_MAX,
	    &vi->dimensions, e) != 0)
		return e->code;
	if ((*vi->model == '\0') != (dim == 0))
		return rk_error_set(e, RK_EXIT_IO, "%s: index damaged: a "
		    "model without dimensions, or dimensions without one",
		    sqlite3_db_filename(db, "main"));
	vi->dim = dim;
	return 0;
}

/* and how many chunks have a vector, how many miss theirs */
int
rk_index_vec_counts(struct rk_index *ix, struct rk_vec_info *vi,
    struct rk_error *e)
{
	sqlite3 *db = rk_index_db(ix);
	int64_t chunks;

	if ((chunks = count(db, "SELECT count(*) FROM chunks")) == -1)
		return rk_index_sql_fail(db, e, "chunks");
	vi->vectors = 0;
	if (has_vecs(db) && (vi->vectors = count(db,
	    "SELECT count(*) FROM vecs")) == -1)
		return rk_index_sql_fail(db, e, "vectors");
	vi->missing = chunks - vi->vectors;
	return 0;
}

/*
 * The model and --dimensions of a run against those the index was
 * embedded with; the model to use is the index's when none is given.
 */
int
rk_index_vec_check(const struct rk_vec_info *vi, struct rk_embed_opts *o,
    struct rk_error *e)
{
	if (*vi->model == '\0')
		return o->model == NULL ? rk_error_set(e, RK_EXIT_USAGE,
		    "no vectors yet: give the embedding model (-m or "
		    "RK_EMBED_MODEL)") : 0;
	if (o->model != NULL && strcmp(o->model, vi->model) != 0)
		return rk_error_set(e, RK_EXIT_CONFIG, "the index holds "
		    "vectors of model %s, not %s: rebuild the index to change "
		    "models", vi->model, o->model);
	/* the model's own length, asked for, is no other length */
	if (o->dimensions != 0 && (size_t)o->dimensions != vi->dim)
		return rk_error_set(e, RK_EXIT_CONFIG, "the index holds "
		    "vectors of %zu dimensions (model %s), not %ld", vi->dim,
		    vi->model, o->dimensions);
	o->model = vi->model;
	o->dimensions = vi->dimensions;
	return 0;
}

/*
 * Before a query is embedded: the index has vectors, whose model and
 * --dimensions (into vi, which o then points into) the query takes.
 */
int
rk_index_vec_query(struct rk_index *ix, struct rk_vec_info *vi,
    struct rk_embed_opts *o, struct rk_error *e)
{
	int rc;

	if ((rc = rk_index_vec_info(ix, vi, e)) != 0)
		return rc;
	if (*vi->model == '\0')
		return no_vectors(rk_index_db(ix), e);
	return rk_index_vec_check(vi, o, e);
}

static int
missing_ids(struct embedding *m, struct rk_error *e)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc;

	if (sqlite3_prepare_v2(m->db, "SELECT c.id FROM chunks c WHERE NOT "
	    "EXISTS (SELECT 1 FROM vecs v WHERE v.id = c.id) ORDER BY c.id",
	    -1, &st, NULL) != SQLITE_OK)
		return rk_index_sql_fail(m->db, e, "chunks");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (m->nids == cap) {
			cap = cap ? 2 * cap : 1024;
			m->ids = rk_xrealloc(m->ids, cap * sizeof(*m->ids));
			m->hash = rk_xrealloc(m->hash, cap *
			    sizeof(*m->hash));
		}
		m->ids[m->nids++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : rk_index_sql_fail(m->db, e, "chunks");
}

/*
 * A chunk whose text is not UTF-8 (an older version's index, or one made
 * by hand) is not sent, as rk-embed fails an empty text alone: skip()
 * hears of it and the other chunks go on.
 */
static int
bad_text(struct embedding *m)
{
	const char *t = (const char *)sqlite3_column_text(m->text, 0);

	if (rk_utf8_valid(t, sqlite3_column_bytes(m->text, 0)))
		return 0;
	m->skip(m->arg, (const char *)sqlite3_column_text(m->text, 1),
	    sqlite3_column_int64(m->text, 2));
	return 1;
}

static int
next_text(void *arg, size_t i, char **text, struct rk_error *e)
{
	struct embedding *m = arg;
	int rc;

	do {
		if (m->next >= m->nids) {
			sqlite3_reset(m->text);	/* see below */
			return 0;
		}
		m->ids[i] = m->ids[m->next++];	/* i <= next: kept */
		sqlite3_reset(m->text);
		sqlite3_bind_int64(m->text, 1, m->ids[i]);
	} while ((rc = sqlite3_step(m->text)) == SQLITE_ROW && bad_text(m));
	/* removed since: an empty line keeps the order */
	if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
		*text = rk_xstrdup(rc == SQLITE_DONE ? "" : (const char *)
		    sqlite3_column_text(m->text, 0));
		m->hash[i] = rk_hash2(*text, "");
	}
	/*
	 * Reset at once: a statement left on its row holds a read lock
	 * until the next text, and another writer's commit waits on it
	 * while ours waits on that writer (two embeds at once both failed).
	 */
	sqlite3_reset(m->text);
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return 1;
	return rk_index_sql_fail(m->db, e, "text");
}

static int
record_model(struct embedding *m, size_t dim, struct rk_error *e)
{
	char *s;
	int rc;

	s = sqlite3_mprintf("INSERT OR REPLACE INTO meta(key, value) VALUES "
	    "('embed_model', %Q), ('embed_dim', %lld), "
	    "('embed_dimensions', %lld)", m->o->model, (long long)dim,
	    (long long)m->o->dimensions);
	rc = exec(m->db, s, e);
	sqlite3_free(s);
	if (rc == 0) {
		strlcpy(m->info.model, m->o->model, sizeof(m->info.model));
		m->info.dim = dim;
	}
	return rc;
}

/*
 * In the flush's write transaction, whether p's chunk still has the text
 * its vector was made of, so that it may be stored (1, else 0; -1 if it
 * cannot be read): an add since may have replaced the chunk by another
 * of the same id (the last rowid is reused), or removed it, and the
 * chunk is then left missing its vector.
 */
static int
same_text(struct embedding *m, const struct pending *p, struct rk_error *e)
{
	int step, same;

	sqlite3_bind_int64(m->text, 1, p->id);
	step = sqlite3_step(m->text);
	same = step == SQLITE_ROW && rk_hash2((const char *)
	    sqlite3_column_text(m->text, 0), "") == p->hash;
	sqlite3_reset(m->text);
	if (step == SQLITE_ROW || step == SQLITE_DONE)
		return same;
	rk_index_sql_fail(m->db, e, "text");
	return -1;
}

static int
flush(struct embedding *m, struct rk_error *e)
{
	size_t stored = 0;
	int rc = 0, same;

	if (m->npend == 0)
		return 0;
	if (exec(m->db, "BEGIN IMMEDIATE", e) != 0)
		rc = e->code;
	for (size_t i = 0; i < m->npend && rc == 0; i++) {
		struct pending *p = &m->pend[i];

		if ((same = same_text(m, p, e)) == -1)
			rc = e->code;
		if (same != 1)
			continue;
		sqlite3_reset(m->ins);
		sqlite3_bind_int64(m->ins, 1, p->id);
		sqlite3_bind_blob(m->ins, 2, p->f, RK_VEC_FSIZE(m->info.dim),
		    SQLITE_STATIC);
		sqlite3_bind_blob(m->ins, 3, p->q, RK_VEC_QSIZE(m->info.dim),
		    SQLITE_STATIC);
		if (sqlite3_step(m->ins) != SQLITE_DONE)
			rc = rk_index_sql_fail(m->db, e, "store a vector");
		else
			stored++;
	}
	sqlite3_reset(m->ins);
	if (rc == 0)
		rc = exec(m->db, "COMMIT", e);
	/*
	 * A COMMIT that failed (busy) leaves the transaction open; after a
	 * failed BEGIN none is, and the ROLLBACK fails harmlessly.
	 */
	if (rc != 0)
		sqlite3_exec(m->db, "ROLLBACK", NULL, NULL, NULL);
	/* stored or not, the vectors of a flush are let go */
	for (size_t i = 0; i < m->npend; i++) {
		free(m->pend[i].f);
		free(m->pend[i].q);
	}
	/* what is stored, not what came back (same_text() drops some) */
	m->done += rc == 0 ? stored : 0;
	m->npend = 0;
	m->flushed = rk_now_ms();
	if (rc == 0 && m->progress != NULL)
		m->progress(m->arg, m->done, m->nids);
	return rc;
}

static int
got_vector(void *arg, size_t i, const float *v, size_t dim,
    struct rk_error *e)
{
	struct embedding *m = arg;
	struct pending *p;
	int rc;

	if (m->info.dim == 0 && (rc = record_model(m, dim, e)) != 0)
		return rc;
	if (dim != m->info.dim)
		return rk_error_set(e, RK_EXIT_CONFIG, "rk-embed gave vectors "
		    "of %zu dimensions; the index holds %zu (model %s)", dim,
		    m->info.dim, m->info.model);
	p = &m->pend[m->npend];
	p->id = m->ids[i];
	p->hash = m->hash[i];
	p->f = rk_xmalloc(RK_VEC_FSIZE(dim));
	p->q = rk_xmalloc(RK_VEC_QSIZE(dim));
	if (rk_vec_encode(v, dim, p->f, p->q, e) != 0) {
		free(p->f);
		free(p->q);
		return e->code = RK_EXIT_PROVIDER;	/* a bad reply */
	}
	m->npend++;
	if (m->npend == BATCH || rk_now_ms() - m->flushed >= BATCH_MS)
		return flush(m, e);
	return 0;
}

static int
embed_prepare(struct embedding *m, struct rk_error *e)
{
	if (exec(m->db, "BEGIN IMMEDIATE", e) != 0 ||
	    exec(m->db, vec_schema, e) != 0 || exec(m->db, "COMMIT", e) != 0)
		return e->code;
	if (sqlite3_prepare_v2(m->db, "SELECT t.text, d.name, c.n FROM "
	    "chunks c JOIN docs d ON d.id = c.doc JOIN text t ON t.id = c.id "
	    "WHERE c.id = ?1", -1, &m->text, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(m->db, "INSERT OR REPLACE INTO vecs(id, f, q) "
	    "VALUES (?1, ?2, ?3)", -1, &m->ins, NULL) != SQLITE_OK)
		return rk_index_sql_fail(m->db, e, "vectors");
	return missing_ids(m, e);
}

/*
 * Embed every chunk missing its vector.  *done counts the vectors
 * stored, also when it fails part way.  skip() is told of each chunk
 * whose text is not UTF-8, left without one.  0, or an RK_EXIT_* code
 * with e set: RK_EXIT_CONFIG for another model or other dimensions than
 * the index holds.
 */
int
rk_index_embed(struct rk_index *ix, const struct rk_embed_opts *opts,
    rk_embed_progress_fn *progress, rk_embed_skip_fn *skip, void *arg,
    size_t *done, struct rk_error *e)
{
	struct rk_embed_opts o = *opts;
	struct rk_error spare;
	struct embedding m;
	int rc, frc;

	memset(&m, 0, sizeof(m));
	m.ix = ix;
	m.db = rk_index_db(ix);
	m.o = &o;
	m.progress = progress;
	m.skip = skip;
	m.arg = arg;
	m.flushed = rk_now_ms();
	m.pend = rk_xmalloc(BATCH * sizeof(*m.pend));
	*done = 0;
	e->code = 0;
	if ((rc = rk_index_vec_info(ix, &m.info, e)) == 0 &&
	    (rc = rk_index_vec_check(&m.info, &o, e)) == 0 &&
	    (rc = embed_prepare(&m, e)) == 0 && m.nids > 0)
		rc = rk_embed_pipe(&o, next_text, got_vector, &m, e);
	/* what came back before a failure is kept */
	if ((frc = flush(&m, rc ? &spare : e)) != 0 && rc == 0)
		rc = frc;
	*done = m.done;
	sqlite3_finalize(m.text);
	sqlite3_finalize(m.ins);
	free(m.pend);
	free(m.ids);
	free(m.hash);
	return rc;
}

static int64_t
data_version(sqlite3 *db)
{
	return count(db, "PRAGMA data_version");
}

/* a damaged vector or graph: e's message prefixed with the index's name */
static int
index_damaged(sqlite3 *db, struct rk_error *e)
{
	char why[sizeof(e->msg)];

	strlcpy(why, e->msg, sizeof(why));
	return rk_error_set(e, RK_EXIT_IO, "%s: index damaged: %s",
	    sqlite3_db_filename(db, "main"), why);
}

/* a float32 blob of the row at column col, len bytes into out */
static int
copy_f32(sqlite3_stmt *st, int col, int64_t id, float *out, size_t len,
    struct rk_error *e)
{
	size_t have = (size_t)sqlite3_column_bytes(st, col);

	if (have != len)
		return rk_error_set(e, RK_EXIT_INPUT, "vector: damaged: the "
		    "float32 blob of chunk %lld has %zu bytes, not %zu",
		    (long long)id, have, len);
	memcpy(out, sqlite3_column_blob(st, col), len);
	return 0;
}

/* the source of a store's float32 vectors: SELECT f FROM vecs WHERE id */
struct source {
	sqlite3	*db;
	sqlite3_stmt *one;
};

static int
fetch_f32(void *arg, int64_t id, float *out, size_t len, struct rk_error *e)
{
	struct source *src = arg;
	int rc, step;

	sqlite3_bind_int64(src->one, 1, id);
	if ((step = sqlite3_step(src->one)) == SQLITE_ROW)
		rc = copy_f32(src->one, 0, id, out, len, e);
	else if (step == SQLITE_DONE)
		rc = rk_error_set(e, RK_EXIT_INPUT, "vector: damaged: the "
		    "float32 vector of chunk %lld is missing", (long long)id);
	else
		rc = rk_index_sql_fail(src->db, e, "vectors");
	sqlite3_reset(src->one);
	if (rc == 0)
		rc = rk_vec_check_f32(out, len / sizeof(*out), e);
	return rc == RK_EXIT_INPUT ? index_damaged(src->db, e) : rc;
}

static void
source_free(void *arg)
{
	struct source *src = arg;

	sqlite3_finalize(src->one);
	free(src);
}

/*
 * The int8 copies of the index's vectors, in the order of their chunk
 * ids, into a new store *out that fetches each float32 vector from the
 * index when a re-rank needs it, checked then (the caller holds a read
 * transaction, for the loading and for every query).  A damaged vector
 * is RK_EXIT_IO.
 */
int
rk_index_vec_open(struct rk_index *ix, size_t dim, struct rk_vec **out,
    struct rk_error *e)
{
	sqlite3 *db = rk_index_db(ix);
	struct source *src = rk_xmalloc(sizeof(*src));
	sqlite3_stmt *st;
	int rc = 0, step = SQLITE_DONE;

	src->db = db;
	if (sqlite3_prepare_v2(db, "SELECT f FROM vecs WHERE id = ?1", -1,
	    &src->one, NULL) != SQLITE_OK) {
		source_free(src);
		*out = NULL;
		return rk_index_sql_fail(db, e, "vectors");
	}
	if ((*out = rk_vec_lazy(dim, fetch_f32, source_free, src)) == NULL) {
		source_free(src);
		return rk_error_set(e, RK_EXIT_IO, "%s: index damaged: "
		    "vectors of %zu dimensions", sqlite3_db_filename(db,
		    "main"), dim);
	}
	if (sqlite3_prepare_v2(db, "SELECT id, q FROM vecs ORDER BY id", -1,
	    &st, NULL) != SQLITE_OK)
		return rk_index_sql_fail(db, e, "vectors");
	while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW)
		rc = rk_vec_add_q8(*out, sqlite3_column_int64(st, 0),
		    sqlite3_column_blob(st, 1), sqlite3_column_bytes(st, 1), e);
	sqlite3_finalize(st);
	if (rc != 0)
		return index_damaged(db, e);
	return step == SQLITE_DONE ? 0 : rk_index_sql_fail(db, e, "vectors");
}

static int
next_f32(void *arg, int64_t *id, float *out, size_t len, struct rk_error *e)
{
	sqlite3_stmt *st = arg;

	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		*id = sqlite3_column_int64(st, 0);
		return copy_f32(st, 1, *id, out, len, e);
	case SQLITE_DONE:
		return RK_VEC_END;
	default:
		return rk_error_set(e, RK_EXIT_IO, "%s",
		    sqlite3_errmsg(sqlite3_db_handle(st)));
	}
}

/*
 * Every float32 vector of store s, opened by rk_index_vec_open(), read
 * into memory and checked, for a process that asks many queries (the
 * caller holds a read transaction).  A damaged vector is RK_EXIT_IO.
 */
int
rk_index_vec_fill(struct rk_index *ix, struct rk_vec *s, struct rk_error *e)
{
	sqlite3 *db = rk_index_db(ix);
	sqlite3_stmt *st;
	int rc;

	if (rk_vec_resident(s))
		return 0;
	if (sqlite3_prepare_v2(db, "SELECT id, f FROM vecs ORDER BY id", -1,
	    &st, NULL) != SQLITE_OK)
		return rk_index_sql_fail(db, e, "vectors");
	rc = rk_vec_fill(s, next_f32, st, e);
	sqlite3_finalize(st);
	if (rc == RK_EXIT_IO)
		return rk_index_sql_fail(db, e, "vectors");
	return rc == 0 ? 0 : index_damaged(db, e);
}

/* every vector of the index into a new store *out, as the two above */
int
rk_index_vec_load(struct rk_index *ix, size_t dim, struct rk_vec **out,
    struct rk_error *e)
{
	int rc;

	if ((rc = rk_index_vec_open(ix, dim, out, e)) == 0)
		rc = rk_index_vec_fill(ix, *out, e);
	return rc;
}

/*
 * The ANN graph (hnsw.c) is one row of table `ann`: the graph's blob,
 * the model and dimensions of the vectors it links, and whether it is
 * stale.  Triggers mark it stale as soon as a vector is added, changed
 * or removed (add, rm, embed), and a stale graph is never used: queries
 * scan until `rk-search ann` builds it again.
 */
static const char ann_schema[] =
    "CREATE TABLE IF NOT EXISTS ann(id INTEGER PRIMARY KEY CHECK (id = 1), "
    "model TEXT NOT NULL, dim INTEGER NOT NULL, nodes INTEGER NOT NULL, "
    "stale INTEGER NOT NULL, graph BLOB NOT NULL);"
    "CREATE TRIGGER IF NOT EXISTS ann_add AFTER INSERT ON vecs "
    "BEGIN UPDATE ann SET stale = 1 WHERE stale = 0; END;"
    "CREATE TRIGGER IF NOT EXISTS ann_change AFTER UPDATE ON vecs "
    "BEGIN UPDATE ann SET stale = 1 WHERE stale = 0; END;"
    "CREATE TRIGGER IF NOT EXISTS ann_drop AFTER DELETE ON vecs "
    "BEGIN UPDATE ann SET stale = 1 WHERE stale = 0; END;";

static int
ann_store(sqlite3 *db, const struct rk_vec_info *vi, const struct rk_hnsw *g,
    size_t nodes, struct rk_error *e)
{
	size_t len = rk_hnsw_blob_size(g);
	void *blob = rk_xmalloc(len);
	sqlite3_stmt *st;
	int rc = 0;

	rk_hnsw_blob(g, blob);
	if (exec(db, ann_schema, e) != 0) {
		free(blob);
		return e->code;
	}
	if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO ann(id, model, "
	    "dim, nodes, stale, graph) VALUES (1, ?1, ?2, ?3, 0, ?4)", -1,
	    &st, NULL) != SQLITE_OK)
		rc = rk_index_sql_fail(db, e, "ann graph");
	else {
		sqlite3_bind_text(st, 1, vi->model, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)vi->dim);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)nodes);
		sqlite3_bind_blob64(st, 4, blob, len, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = rk_index_sql_fail(db, e, "ann graph");
	}
	sqlite3_finalize(st);
	free(blob);
	return rc;
}

/* the graph stored, unless the index changed since version */
static int
ann_write(sqlite3 *db, int64_t version, const struct rk_vec_info *vi,
    const struct rk_hnsw *g, size_t nodes, struct rk_error *e)
{
	int rc;

	if (exec(db, "BEGIN IMMEDIATE", e) != 0)
		return e->code;
	if (version == -1 || data_version(db) == -1)
		rc = rk_index_sql_fail(db, e, "ann graph");
	else if (data_version(db) != version)
		rc = rk_error_set(e, RK_EXIT_IO, "%s: changed while the graph "
		    "was built: run ann again", sqlite3_db_filename(db,
		    "main"));
	else
		rc = ann_store(db, vi, g, nodes, e);
	if (rc == 0)
		return exec(db, "COMMIT", e);
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/*
 * Build the ANN graph of the index's vectors and store it.  The vectors
 * are read in one transaction, the graph written in another, refused if
 * another process changed the index in between.  *nodes: the vectors
 * linked.
 */
int
rk_index_ann_build(struct rk_index *ix, rk_hnsw_progress_fn *progress,
    void *arg, size_t *nodes, struct rk_error *e)
{
	sqlite3 *db = rk_index_db(ix);
	struct rk_vec_info vi;
	struct rk_vec *s = NULL;
	struct rk_hnsw *g = NULL;
	int64_t version;
	int rc;

	*nodes = 0;
	if (sqlite3_db_readonly(db, "main") == 1)
		return rk_error_set(e, RK_EXIT_IO, "%s: read-only: cannot "
		    "store the graph", sqlite3_db_filename(db, "main"));
	if ((rc = rk_index_vec_info(ix, &vi, e)) != 0)
		return rc;
	if (rk_index_begin_read(ix) == -1)
		return rk_error_set(e, RK_EXIT_IO, "%s", rk_index_error(ix));
	version = data_version(db);
	rc = vi.dim == 0 ? 0 : rk_index_vec_load(ix, vi.dim, &s, e);
	rk_index_end_read(ix);
	if (rc == 0 && (s == NULL || rk_vec_count(s) == 0))
		rc = no_vectors(db, e);
	if (rc == 0)
		g = rk_hnsw_build(s, RK_HNSW_M, RK_HNSW_EFC, progress, arg);
	if (rc == 0)
		rc = ann_write(db, version, &vi, g, rk_vec_count(s), e);
	*nodes = rc == 0 ? rk_vec_count(s) : 0;
	rk_hnsw_free(g);
	rk_vec_free(s);
	return rc;
}

/* RK_ANN_NONE, RK_ANN_FRESH or RK_ANN_STALE */
int
rk_index_ann_state(struct rk_index *ix)
{
	sqlite3 *db = rk_index_db(ix);

	if (count(db, "SELECT count(*) FROM sqlite_master WHERE type = "
	    "'table' AND name = 'ann'") <= 0)
		return RK_ANN_NONE;
	switch (count(db, "SELECT stale FROM ann WHERE id = 1")) {
	case -1:
		return RK_ANN_NONE;
	case 0:
		return RK_ANN_FRESH;
	default:
		return RK_ANN_STALE;
	}
}

/*
 * The graph of store s, if the index has one and it is fresh (else
 * *out is NULL), the caller holding a read transaction.  A damaged
 * graph, or one of other vectors, is RK_EXIT_IO.
 */
int
rk_index_ann_load(struct rk_index *ix, const struct rk_vec *s,
    struct rk_hnsw **out, struct rk_error *e)
{
	sqlite3 *db = rk_index_db(ix);
	sqlite3_stmt *st;
	int rc = 0;

	*out = NULL;
	if (rk_index_ann_state(ix) != RK_ANN_FRESH)
		return 0;
	if (sqlite3_prepare_v2(db, "SELECT graph FROM ann WHERE id = 1", -1,
	    &st, NULL) != SQLITE_OK)
		return rk_index_sql_fail(db, e, "ann graph");
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		if ((*out = rk_hnsw_load(sqlite3_column_blob(st, 0),
		    (size_t)sqlite3_column_bytes(st, 0), s, e)) == NULL)
			rc = index_damaged(db, e);
		break;
	case SQLITE_DONE:
		break;
	default:
		rc = rk_index_sql_fail(db, e, "ann graph");
	}
	sqlite3_finalize(st);
	return rc;
}
