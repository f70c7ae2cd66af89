/*
 * The index: one SQLite file.  Documents are cut into chunks; each chunk's
 * text is in table `text`, indexed by the FTS5 table `fts` (external
 * content, our tokenizer "rk").  Table `chunks` keeps, per chunk, its
 * document and its length in terms, which the scorer holds in memory.
 *
 * Ranking is our BM25, computed term at a time: for each distinct query
 * term we read its postings straight from FTS5's segments
 * (search_seg.c), so each posting is read once, add each chunk's share
 * into an array indexed by rowid, and keep the best k chunks (or
 * documents).  If the segments are in a format we do not read, the same
 * ranking runs as the FTS5 auxiliary function rk_topk(), which walks each
 * term's postings with xQueryPhrase(), three to four times slower; the
 * SQL statement that drives it stops after the first matching row.
 *
 *   idf(t)   = max(ln((N - df + 0.5) / (df + 0.5)), 1e-6)
 *   score(d) = sum_t  idf(t) tf (k1 + 1) / (tf + k1 (1 - b + b dl/avgdl))
 *
 * over the query's distinct terms t.  N, df, dl and avgdl count chunks
 * and the terms our analyzer keeps.
 */
#include <sys/stat.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/rk.h"
#include "search/search.h"

/*
 * 2: the stopword list grew from 33 to 126 words.  FTS5 takes a chunk out
 * by tokenizing its text again, so an index is only ever changed, and
 * searched, with the analyzer that made it.
 */
#define SCHEMA_VERSION	2
/*
 * The stems an index holds: 1 from our own Porter stemmer (no meta row),
 * 2 from libstemmer's Snowball.  A stemmed index of another version
 * would miss every term whose stem changed: it must be rebuilt.
 */
#define STEMS_VERSION	2
#define MAX_TERMS	256	/* distinct terms used from one query */
#define BLOCK		512	/* chunks per block of the lengths read */
#define HAVE_LENS	1	/* a block's lengths read */
#define HAVE_DOCS	2	/* its documents */
#define HAVE_ALL	3

/* a block's chunk lengths (of w bytes) and documents, by rowid - first */
struct entries {
	const void *len;
	const uint32_t *doc;
	int	 w;
};

static inline uint32_t
len_at(const struct entries *e, size_t j)
{
	return e->w == 2 ? ((const uint16_t *)e->len)[j] :
	    ((const uint32_t *)e->len)[j];
}

struct query {
	const struct rk_index_params *p;
	struct rk_index *ix;
	size_t	 k;
	int	 per_doc;
	int	 done;
	struct rk_postings post;	/* every term's, one after another */
	size_t	 end[MAX_TERMS];	/* term i's end in post */
	size_t	 nterms;
	struct rk_hit *hits;
	size_t	 nhits;
	int	 rc;
};

enum {
	S_DOC_FIND, S_DOC_INS, S_DOC_UPD, S_TEXT_INS, S_FTS_INS, S_CHUNK_INS,
	S_FTS_DEL, S_TEXT_DEL, S_CHUNK_DEL, S_DOC_DEL, S_SEARCH, S_HIT,
	S_VERSION, S_NAME, S_SAVE, S_RELEASE, S_READ, S_READ_END, S_META_GET,
	S_META_SET, S_NSTMT
};

struct rk_index {
	struct rk_db db;	/* the WAL hook holds its address */
	struct rk_analyzer an;
	struct rk_index_params p;
	uint64_t ntok;		/* tokens seen by the tokenizer */
	struct rk_error e;	/* "path: what is wrong" */
	const char *warning;	/* for rk_index_warning() */
	sqlite3_stmt *st[S_NSTMT];
	/* scorer state, loaded from `chunks` */
	int	 loaded;
	int64_t	 version;
	int64_t	 cap, dcap;	/* max chunk rowid + 1, documents + 1 */
	int	 dirty;		/* documents changed since BEGIN */
	int	 writing;	/* between rk_index_begin() and its commit */
	int64_t	 changed;	/* chunks added or removed since packed */
	uint32_t *tab;		/* by rowid the lengths, then the documents */
	unsigned char *have;	/* per block of tab: HAVE_* read */
	uint32_t blk[2 * BLOCK];	/* without tab: one block, as tab */
	int64_t	 blk_no;	/* which, or -1 */
	int	 blk_have;	/* what of it: HAVE_* */
	int64_t	 lens_row;	/* the packed copy's rowid, 0: tab is whole */
	int	 lens_w;	/* its bytes a length, 0 in the old format */
	int	 mem_w;		/* bytes a length in tab and blk: 2 or 4 */
	sqlite3_blob *lens;	/* it, open while a search reads it */
	int	 fts5_only;	/* RK_SEARCH_FTS5 set: no direct reading */
	struct rk_seg *seg;	/* reads FTS5's segments (search_seg.c) */
	int64_t	 seg_version;	/* data_version when seg was refreshed */
	int	 seg_ok;	/* seg reads this index's format */
	int	 created;	/* its tables made by this rk_index_open() */
	int	 cold;		/* file read, not mapped (warm()) */
	int	 reads;		/* rk_index_begin_read() calls */
};


static const char *const sql[S_NSTMT] = {
	[S_DOC_FIND] = "SELECT id FROM docs WHERE name = ?1",
	[S_DOC_INS] = "INSERT INTO docs(name, bytes, chunks) "
	    "VALUES (?1, ?2, ?3)",
	[S_DOC_UPD] = "UPDATE docs SET bytes = ?2, chunks = ?3 WHERE id = ?1",
	[S_TEXT_INS] = "INSERT INTO text(text) VALUES (?1)",
	[S_FTS_INS] = "INSERT INTO fts(rowid, text) VALUES (?1, ?2)",
	[S_CHUNK_INS] = "INSERT INTO chunks(id, doc, n, len) "
	    "VALUES (?1, ?2, ?3, ?4)",
	[S_FTS_DEL] = "INSERT INTO fts(fts, rowid, text) "
	    "SELECT 'delete', t.id, t.text "
	    "FROM chunks c JOIN text t ON t.id = c.id WHERE c.doc = ?1",
	[S_TEXT_DEL] = "DELETE FROM text WHERE id IN "
	    "(SELECT id FROM chunks WHERE doc = ?1)",
	[S_CHUNK_DEL] = "DELETE FROM chunks WHERE doc = ?1",
	[S_DOC_DEL] = "DELETE FROM docs WHERE id = ?1",
	[S_SEARCH] = "SELECT rk_topk(fts, ?1) FROM fts WHERE fts MATCH ?2 "
	    "LIMIT 1",
	[S_HIT] = "SELECT d.name, c.n, t.text FROM chunks c JOIN docs d ON "
	    "d.id = c.doc JOIN text t ON t.id = c.id WHERE c.id = ?1",
	[S_VERSION] = "PRAGMA data_version",
	[S_NAME] = "SELECT d.name, c.n FROM chunks c JOIN docs d ON "
	    "d.id = c.doc WHERE c.id = ?1",
	[S_SAVE] = "SAVEPOINT rk_search",
	[S_RELEASE] = "RELEASE rk_search",
	[S_READ] = "SAVEPOINT rk_read",
	[S_READ_END] = "RELEASE rk_read",
	[S_META_GET] = "SELECT value FROM meta WHERE key = ?1",
	[S_META_SET] = "INSERT OR REPLACE INTO meta(key, value) "
	    "VALUES (?1, ?2)",
};

static int
fail(struct rk_index *ix, const char *what)
{
	rk_db_fail(&ix->db, &ix->e, RK_EXIT_IO, "%s", what);
	return -1;
}

static int
damaged(struct rk_index *ix, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
damaged(struct rk_index *ix, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	rk_error_set(&ix->e, RK_EXIT_IO, "%s: index damaged: %s", ix->db.path,
	    what);
	return -1;
}

const char *
rk_index_error(struct rk_index *ix)
{
	return ix->e.msg;
}

const char *
rk_index_warning(struct rk_index *ix)
{
	const char *w = ix->warning;

	ix->warning = NULL;
	return w;
}

/*
 * A process that makes one query reads a few dozen pages of the file,
 * most of them once: read(2) into a page cache of a few pages costs less
 * than mapping the file, which takes a page fault for each page touched,
 * 16 pages mapped at each, and unmapping them all at the close.  Its
 * second search, a write, the statistics and the vectors (which read
 * megabytes) map the file: -1 if that fails.
 */
#define COLD	"PRAGMA mmap_size=0; PRAGMA cache_size=8"
#define WARM	"PRAGMA mmap_size=1073741824; PRAGMA cache_size=-2000"

static int exec(struct rk_index *, const char *);

/* mapped, and ready to write: a cold index opened without its journal */
static int
warm(struct rk_index *ix)
{
	if (!ix->cold)
		return 0;
	if (rk_db_rollback(&ix->db, &ix->e) != 0 || exec(ix, WARM) == -1)
		return -1;	/* cold still: the next call tries again */
	ix->cold = 0;
	return 0;
}

sqlite3 *
rk_index_db(struct rk_index *ix)
{
	warm(ix);
	return ix->db.h;
}

const struct rk_analyzer *
rk_index_analyzer(struct rk_index *ix)
{
	return &ix->an;
}

static sqlite3_stmt *
stmt(struct rk_index *ix, int i)
{
	if (rk_db_prepare(&ix->db, &ix->st[i], sql[i], &ix->e) != 0)
		return NULL;
	sqlite3_reset(ix->st[i]);
	sqlite3_clear_bindings(ix->st[i]);
	return ix->st[i];
}

static int
exec(struct rk_index *ix, const char *s)
{
	return rk_db_exec(&ix->db, s, &ix->e) == 0 ? 0 : -1;
}

static char *
meta_get(struct rk_index *ix, const char *key)
{
	sqlite3_stmt *st = stmt(ix, S_META_GET);
	char *v = NULL;

	if (st == NULL)
		return NULL;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		v = rk_xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_reset(st);
	return v;
}

static int
meta_set(struct rk_index *ix, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
meta_set(struct rk_index *ix, const char *key, const char *fmt, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	char *v;
	int rc;

	va_start(ap, fmt);
	rk_vasprintf(&v, fmt, ap);
	va_end(ap);
	if ((st = stmt(ix, S_META_SET)) == NULL) {
		free(v);
		return -1;
	}
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, v, -1, SQLITE_STATIC);
	rc = rk_db_done(&ix->db, st, &ix->e) == 0 ? 0 : -1;
	free(v);
	return rc;
}

static void topk_fn(const Fts5ExtensionApi *, Fts5Context *,
    sqlite3_context *, int, sqlite3_value **);

static int
register_topk(struct rk_index *ix, fts5_api *api)
{
	if (api->xCreateFunction(api, "rk_topk", ix, topk_fn,
	    NULL) != SQLITE_OK)
		return fail(ix, "fts5");
	return 0;
}

static int64_t scalar(struct rk_index *, const char *);
static int run(struct rk_index *, int, const char *);
static void close_lens(struct rk_index *);

/*
 * Make the tables of a new index: 1, or 0 if another process that also
 * found the file empty made them first, or -1 (in a transaction).
 */
static int
create_schema(struct rk_index *ix, const struct rk_analyzer *an)
{
	char spec[32], words[32], *s;
	int64_t tables;
	int rc;

	if (exec(ix, "BEGIN IMMEDIATE") == -1 || (tables = scalar(ix,
	    "SELECT count(*) FROM sqlite_master")) == -1)
		return -1;
	if (tables > 0)
		return exec(ix, "COMMIT");
	rk_analyzer_format(an, spec, sizeof(spec));
	strlcpy(words, spec, sizeof(words));
	for (s = words; (s = strchr(s, ',')) != NULL; )
		*s = ' ';
	rk_asprintf(&s,
	    "CREATE TABLE meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;"
	    "CREATE TABLE docs(id INTEGER PRIMARY KEY, name TEXT NOT NULL "
	    "UNIQUE, bytes INTEGER NOT NULL, chunks INTEGER NOT NULL);"
	    "CREATE TABLE chunks(id INTEGER PRIMARY KEY, doc INTEGER NOT NULL,"
	    " n INTEGER NOT NULL, len INTEGER NOT NULL);"
	    "CREATE INDEX chunks_doc ON chunks(doc);"
	    "CREATE TABLE text(id INTEGER PRIMARY KEY, text TEXT NOT NULL);"
	    "CREATE TABLE lens(gen INTEGER NOT NULL, data BLOB NOT NULL);"
	    "CREATE VIRTUAL TABLE fts USING fts5(text, content='text', "
	    "content_rowid='id', tokenize='rk %s');", words);
	rc = exec(ix, s);
	free(s);
	if (rc == -1)
		return -1;
	ix->an = *an;
	/* chosen on SciFact's train queries and Vaswani: bench/retrieval */
	ix->p.k1 = 1.075;
	ix->p.b = 0.64;
	ix->p.chunk = 2000;
	ix->p.overlap = 200;
	if (meta_set(ix, "version", "%d", SCHEMA_VERSION) == -1 ||
	    exec(ix, "INSERT INTO meta(key, value) VALUES ('gen', 0)") == -1 ||
	    meta_set(ix, "analyzer", "%s", spec) == -1 ||
	    meta_set(ix, "stems", "%d", STEMS_VERSION) == -1 ||
	    rk_index_set_params(ix, &ix->p) == -1 || exec(ix, "COMMIT") == -1)
		return -1;
	return 1;
}

/* a setting from table meta: a number in 0..max, or -1 */
static int
meta_number(struct rk_index *ix, const char *key, double max, double *dst)
{
	char *v = meta_get(ix, key);
	int rc;

	*dst = 0;
	rc = v == NULL || rk_parse_double(v, dst) == -1 || !(*dst >= 0) ||
	    *dst > max ? -1 : 0;
	free(v);
	return rc;
}

static int
load_meta(struct rk_index *ix)
{
	char *v;
	double d = 0;
	int rc = 0;

	if ((v = meta_get(ix, "version")) != NULL && atoi(v) >= 1 &&
	    atoi(v) < SCHEMA_VERSION) {
		rk_error_set(&ix->e, RK_EXIT_IO, "%s: made by an older "
		    "rk-search (index version %d): rebuild it", ix->db.path,
		    atoi(v));
		free(v);
		return -1;
	}
	if (v == NULL || atoi(v) != SCHEMA_VERSION) {
		rk_error_set(&ix->e, RK_EXIT_IO, "%s: not an rk-search index "
		    "(version %s)", ix->db.path, v ? v : "none");
		free(v);
		return -1;
	}
	free(v);
	if ((v = meta_get(ix, "analyzer")) == NULL ||
	    rk_analyzer_parse(v, &ix->an) == -1)
		rc = -1;
	free(v);
	v = meta_get(ix, "stems");
	if (rc == 0 && ix->an.stem != 0 && (v == NULL ? 1 : atoi(v)) !=
	    STEMS_VERSION) {
		rk_error_set(&ix->e, RK_EXIT_IO, "%s: made with stems of "
		    "version %s, not %d: rebuild the index", ix->db.path,
		    v ? v : "1", STEMS_VERSION);
		free(v);
		return -1;
	}
	free(v);
	if (meta_number(ix, "k1", 1000, &ix->p.k1) == -1 ||
	    meta_number(ix, "b", 1, &ix->p.b) == -1 ||
	    meta_number(ix, "chunk", 1e15, &d) == -1)
		rc = -1;
	ix->p.chunk = d;
	if (meta_number(ix, "overlap", 1e15, &d) == -1 ||
	    (ix->p.chunk > 0 && d >= ix->p.chunk))
		rc = -1;
	ix->p.overlap = d;
	if (rc == -1)
		damaged(ix, "settings");
	return rc;
}

/*
 * Open (and with create, make) an index.  An analyzer given for an
 * existing index must be the one it was built with.
 */
struct rk_index *
rk_index_open(const char *path, int create, const struct rk_analyzer *an)
{
	struct rk_index *ix = calloc(1, sizeof(*ix));
	struct rk_analyzer dflt = { 1, 1 };
	struct stat sb;
	fts5_api *api;
	int exists, rc;

	if (ix == NULL)
		return NULL;
	ix->fts5_only = rk_getenv("RK_SEARCH_FTS5") != NULL;
	exists = stat(path, &sb) == 0 && sb.st_size > 0;
	if (!exists && !create) {
		rk_error_set(&ix->e, RK_EXIT_IO, "%s: no such index", path);
		return ix;
	}
	if (rk_db_open(&ix->db, path, RK_DB_ROLLBACK |
	    (create ? RK_DB_CREATE : RK_DB_LATER), 5000, &ix->e) != 0)
		return ix;
	if ((api = rk_fts5_register(ix->db.h, &ix->ntok)) == NULL ||
	    register_topk(ix, api) == -1) {
		rk_error_set(&ix->e, RK_EXIT_IO, "%s: SQLite lacks FTS5", path);
		return ix;
	}
	/*
	 * Map the file (warm()) to add to it: a query at 100K documents
	 * reads megabytes of pages, and through read() and SQLite's small
	 * page cache that costs as much as the search (2.5 ms against 1.4
	 * ms mapped).
	 */
	ix->cold = !create;
	if (exec(ix, create ? WARM : COLD) == -1)
		return ix;
	if (create && (ix->created = create_schema(ix, an ? an : &dflt)) ==
	    -1) {
		ix->created = 0;
		/* not exec(): ix->e keeps why */
		sqlite3_exec(ix->db.h, "ROLLBACK", NULL, NULL, NULL);
		return ix;
	}
	if (ix->created)
		return ix;
	/* the settings in one read transaction, not one each */
	if (run(ix, S_READ, "snapshot") == -1)
		return ix;
	rc = load_meta(ix);
	if (rk_index_end_read(ix) == -1 || rc == -1)
		return ix;
	if (an != NULL && (an->stop != ix->an.stop ||
	    an->stem != ix->an.stem)) {
		char want[32], have[32];

		rk_analyzer_format(an, want, sizeof(want));
		rk_analyzer_format(&ix->an, have, sizeof(have));
		rk_error_set(&ix->e, RK_EXIT_IO, "%s: index was built with "
		    "analyzer %s, not %s", ix->db.path, have, want);
	}
	return ix;
}

/* whether this process made the index (and may remove it if left empty) */
int
rk_index_created(const struct rk_index *ix)
{
	return ix->created;
}

void
rk_index_close(struct rk_index *ix)
{
	if (ix == NULL)
		return;
	for (int i = 0; i < S_NSTMT; i++)
		sqlite3_finalize(ix->st[i]);
	rk_seg_close(ix->seg);
	close_lens(ix);
	rk_db_close(&ix->db, NULL);
	free(ix->tab);
	free(ix->have);
	free(ix);
}

/* remove a closed index's files: 0, or -1 with errno set */
int
rk_index_remove(const char *path)
{
	int rc = 0;

	for (const char *const *sfx = rk_db_side_files; *sfx != NULL; sfx++) {
		char *p;

		rk_asprintf(&p, "%s%s", path, *sfx);
		if (unlink(p) == -1 && errno != ENOENT)
			rc = -1;
		free(p);
	}
	if (unlink(path) == -1 && errno != ENOENT)
		rc = -1;
	return rc;
}

void
rk_index_params(struct rk_index *ix, struct rk_index_params *p)
{
	*p = ix->p;
}

/* "k1=0.9,b=0.4" over *p: 0, or RK_EXIT_USAGE and e says why */
int
rk_index_parse_params(const char *spec, struct rk_index_params *p,
    struct rk_error *e)
{
	char *copy = rk_xstrdup(spec), *s = copy, *w, *v;
	double d;
	int rc = 0;

	while (rc == 0 && (w = strsep(&s, ",")) != NULL) {
		if ((v = strchr(w, '=')) == NULL) {
			rc = rk_error_set(e, RK_EXIT_USAGE, "not key=value: "
			    "'%s'", w);
			break;
		}
		*v++ = '\0';
		if (rk_parse_double(v, &d) == -1 || d < 0)
			rc = rk_error_set(e, RK_EXIT_USAGE, "%s: not a number "
			    ">= 0: '%s'", w, v);
		else if (strcmp(w, "k1") == 0 && d > 1000)
			rc = rk_error_set(e, RK_EXIT_USAGE, "k1: not 0..1000: "
			    "'%s'", v);	/* what open() reads back */
		else if (strcmp(w, "k1") == 0)
			p->k1 = d;
		else if (strcmp(w, "b") != 0)
			rc = rk_error_set(e, RK_EXIT_USAGE, "unknown "
			    "parameter '%s'", w);
		else if (d > 1)
			rc = rk_error_set(e, RK_EXIT_USAGE, "b: not 0..1: "
			    "'%s'", v);
		else
			p->b = d;
	}
	free(copy);
	return rc;
}

/*
 * This run's settings in *p: those given over the index's.  Chunk and
 * overlap are (size_t)-1 in *p unless given; params, unless NULL, is
 * "k1=..,b=..".  With keep, what was given becomes the index's own.
 * 0, or RK_EXIT_USAGE (overlap not below chunk) or RK_EXIT_IO, and e.
 */
int
rk_index_settings(struct rk_index *ix, struct rk_index_params *p,
    const char *params, int keep, struct rk_error *e)
{
	int given = params != NULL || p->chunk != (size_t)-1 ||
	    p->overlap != (size_t)-1;

	e->code = 0;
	if (p->chunk == (size_t)-1)
		p->chunk = ix->p.chunk;
	if (p->overlap == (size_t)-1)
		p->overlap = ix->p.overlap;
	p->k1 = ix->p.k1;
	p->b = ix->p.b;
	if (params != NULL && rk_index_parse_params(params, p, e) != 0)
		return e->code;
	if (p->chunk > 0 && p->overlap >= p->chunk)
		return rk_error_set(e, RK_EXIT_USAGE, "overlap %zu is not "
		    "below the chunk size %zu", p->overlap, p->chunk);
	if (keep && given && rk_index_set_params(ix, p) == -1)
		return rk_error_set(e, RK_EXIT_IO, "%s", ix->e.msg);
	return 0;
}

int
rk_index_set_params(struct rk_index *ix, const struct rk_index_params *p)
{
	ix->p = *p;
	if (meta_set(ix, "k1", "%.17g", p->k1) == -1 ||
	    meta_set(ix, "b", "%.17g", p->b) == -1 ||
	    meta_set(ix, "chunk", "%zu", p->chunk) == -1 ||
	    meta_set(ix, "overlap", "%zu", p->overlap) == -1)
		return -1;
	return 0;
}

int
rk_index_begin(struct rk_index *ix)
{
	ix->seg_version = -1;	/* our own commits leave data_version */
	if (warm(ix) == -1 || exec(ix, "BEGIN IMMEDIATE") == -1)
		return -1;
	ix->writing = 1;
	return 0;
}

static int
rollback(struct rk_index *ix)
{
	ix->writing = 0;
	ix->dirty = 0;
	return exec(ix, "ROLLBACK");
}

static int
run(struct rk_index *ix, int i, const char *what)
{
	sqlite3_stmt *st = stmt(ix, i);

	if (st == NULL || sqlite3_step(st) != SQLITE_DONE)
		return fail(ix, what);
	return 0;
}

/*
 * Hold one state of the index, whatever other processes commit, for
 * every search and hit read up to rk_index_end_read(): the postings,
 * the per-chunk tables and the texts of one query agree.
 */
int
rk_index_begin_read(struct rk_index *ix)
{
	if (ix->reads++ > 0 && warm(ix) == -1)
		return -1;
	return run(ix, S_READ, "snapshot");
}

int
rk_index_end_read(struct rk_index *ix)
{
	if (ix->seg != NULL)
		rk_seg_release(ix->seg);
	return run(ix, S_READ_END, "snapshot");
}

/* a commit that changed documents makes a new generation */
int
rk_index_commit(struct rk_index *ix)
{
	if (ix->dirty && exec(ix, "UPDATE meta SET value = value + 1 "
	    "WHERE key = 'gen'") == -1)
		return -1;
	ix->dirty = 0;
	ix->writing = 0;
	return exec(ix, "COMMIT");
}

int
rk_index_optimize(struct rk_index *ix)
{
	return exec(ix, "INSERT INTO fts(fts) VALUES('optimize')");
}

static int
step_done(struct rk_index *ix, sqlite3_stmt *st, const char *what)
{
	if (st == NULL || sqlite3_step(st) != SQLITE_DONE)
		return fail(ix, what);
	return 0;
}

static int64_t
doc_find(struct rk_index *ix, const char *doc)
{
	sqlite3_stmt *st = stmt(ix, S_DOC_FIND);
	int64_t id = 0;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, doc, -1, SQLITE_STATIC);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		id = sqlite3_column_int64(st, 0);
		break;
	case SQLITE_DONE:
		break;
	default:
		return fail(ix, "find");
	}
	sqlite3_reset(st);
	return id;
}

static int
drop_chunks(struct rk_index *ix, int64_t id)
{
	static const int del[] = { S_FTS_DEL, S_TEXT_DEL, S_CHUNK_DEL };

	for (size_t i = 0; i < sizeof(del) / sizeof(*del); i++) {
		sqlite3_stmt *st = stmt(ix, del[i]);

		if (st == NULL)
			return -1;
		sqlite3_bind_int64(st, 1, id);
		if (step_done(ix, st, "delete") == -1)
			return -1;
	}
	ix->changed += sqlite3_changes(ix->db.h);
	return 0;
}

struct addctx {
	struct rk_index *ix;
	const char *text;
	int64_t	 doc;
	size_t	 n;
	int	 rc;
};

static void
add_chunk(void *arg, size_t start, size_t end)
{
	struct addctx *a = arg;
	struct rk_index *ix = a->ix;
	sqlite3_stmt *st;
	int64_t row;

	if (a->rc == -1)
		return;
	if ((st = stmt(ix, S_TEXT_INS)) == NULL)
		goto bad;
	sqlite3_bind_text(st, 1, a->text + start, end - start, SQLITE_STATIC);
	if (step_done(ix, st, "insert") == -1)
		goto bad;
	row = sqlite3_last_insert_rowid(ix->db.h);
	if ((st = stmt(ix, S_FTS_INS)) == NULL)
		goto bad;
	sqlite3_bind_int64(st, 1, row);
	sqlite3_bind_text(st, 2, a->text + start, end - start, SQLITE_STATIC);
	ix->ntok = 0;
	if (step_done(ix, st, "index") == -1)
		goto bad;
	if ((st = stmt(ix, S_CHUNK_INS)) == NULL)
		goto bad;
	sqlite3_bind_int64(st, 1, row);
	sqlite3_bind_int64(st, 2, a->doc);
	sqlite3_bind_int64(st, 3, a->n);
	sqlite3_bind_int64(st, 4, ix->ntok);
	if (step_done(ix, st, "insert") == -1)
		goto bad;
	a->n++;
	ix->changed++;
	return;
bad:
	a->rc = -1;
}

/*
 * Add a document, or replace the one with the same name.  text is UTF-8;
 * call inside rk_index_begin()/rk_index_commit().
 */
int
rk_index_add(struct rk_index *ix, const char *doc, const char *text,
    size_t len, const struct rk_index_params *p, size_t *nchunks)
{
	struct addctx a = { ix, text, 0, 0, 0 };
	sqlite3_stmt *st;
	int64_t id;

	ix->loaded = 0;
	ix->dirty = 1;
	if (p == NULL)
		p = &ix->p;
	if ((id = doc_find(ix, doc)) == -1)
		return -1;
	if (id > 0 && drop_chunks(ix, id) == -1)
		return -1;
	if (id == 0) {
		if ((st = stmt(ix, S_DOC_INS)) == NULL)
			return -1;
		sqlite3_bind_text(st, 1, doc, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, len);
		sqlite3_bind_int64(st, 3, 0);
		if (step_done(ix, st, "insert") == -1)
			return -1;
		id = sqlite3_last_insert_rowid(ix->db.h);
	}
	a.doc = id;
	rk_chunk(text, len, p->chunk, p->overlap, add_chunk, &a);
	if (a.rc == -1 || (st = stmt(ix, S_DOC_UPD)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, len);
	sqlite3_bind_int64(st, 3, a.n);
	if (step_done(ix, st, "update") == -1)
		return -1;
	if (nchunks != NULL)
		*nchunks = a.n;
	return 0;
}

/* 1 removed, 0 no such document, -1 error */
int
rk_index_rm(struct rk_index *ix, const char *doc)
{
	sqlite3_stmt *st;
	int64_t id;

	ix->loaded = 0;
	ix->dirty = 1;
	if ((id = doc_find(ix, doc)) <= 0)
		return (int)id;
	if (drop_chunks(ix, id) == -1 || (st = stmt(ix, S_DOC_DEL)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	return step_done(ix, st, "delete") == -1 ? -1 : 1;
}

static int64_t
scalar(struct rk_index *ix, const char *q)
{
	long long v;

	return rk_db_int(&ix->db, q, &v, &ix->e) == 0 ? v : -1;
}

/*
 * The reader of FTS5's segments, read again if the database has changed
 * since (or, outside a search's snapshot, now and at the next search):
 * NULL if the index is not in a format it reads.
 */
static struct rk_seg *
segments(struct rk_index *ix, int now)
{
	if (ix->seg == NULL && (ix->seg = rk_seg_open(ix->db.h)) == NULL)
		return NULL;
	if (now || ix->seg_version != ix->version) {
		ix->seg_ok = rk_seg_refresh(ix->seg) == 0;
		ix->seg_version = now ? -1 : ix->version;
	}
	return ix->seg_ok ? ix->seg : NULL;
}

/* FTS5's own count of its rows (the chunks) and segments; -1 if unread */
static int
fts_counts(struct rk_index *ix, int64_t *rows, size_t *nseg)
{
	struct rk_seg *s = segments(ix, 1);
	int64_t tokens;

	if (s == NULL)
		return -1;
	rk_seg_stats(s, rows, &tokens, nseg);
	return 0;
}

/* FTS5's segments in the index, or -1 if we cannot read its format */
static int
segment_count(struct rk_index *ix)
{
	int64_t rows;
	size_t n;

	return fts_counts(ix, &rows, &n) == 0 ? (int)n : -1;
}

/* the chunks of the index, read cheaply, or -1 if it cannot be */
int64_t
rk_index_chunks(struct rk_index *ix)
{
	int64_t rows;
	size_t n;

	return fts_counts(ix, &rows, &n) == 0 ? rows : -1;
}

void
rk_index_warn(struct rk_index *ix, const char *warning)
{
	ix->warning = warning;
}

/*
 * The distinct terms, as FTS5's vocabulary table counts them: from the
 * segments' term lists where we read their format, not by going through
 * every posting; -1 on failure.
 */
static int64_t
term_count(struct rk_index *ix)
{
	struct rk_seg *s = ix->fts5_only ? NULL : segments(ix, 1);
	int64_t n;

	if (s != NULL && rk_seg_count_terms(s, &n) == 0)
		return n;
	if (exec(ix, "CREATE VIRTUAL TABLE IF NOT EXISTS temp.vocab USING "
	    "fts5vocab(main, fts, row)") == -1)
		return -1;
	return scalar(ix, "SELECT count(*) FROM temp.vocab");
}

char *
rk_index_stats(struct rk_index *ix)
{
	int64_t docs, chunks, tokens, terms, pages, psize;
	char spec[32], segs[16] = "null", *s;
	int nseg;

	/* one state: the segments' pages as their structure says */
	if (warm(ix) == -1 || rk_index_begin_read(ix) == -1)
		return NULL;
	docs = scalar(ix, "SELECT count(*) FROM docs");
	chunks = scalar(ix, "SELECT count(*) FROM chunks");
	tokens = scalar(ix, "SELECT coalesce(sum(len), 0) FROM chunks");
	terms = term_count(ix);
	pages = scalar(ix, "PRAGMA page_count");
	psize = scalar(ix, "PRAGMA page_size");
	nseg = segment_count(ix);
	if (rk_index_end_read(ix) == -1 || docs < 0 || chunks < 0 ||
	    tokens < 0 || terms < 0 || pages < 0 || psize < 0)
		return NULL;
	if (nseg >= 0)
		snprintf(segs, sizeof(segs), "%d", nseg);
	rk_analyzer_format(&ix->an, spec, sizeof(spec));
	rk_asprintf(&s, "{\"docs\":%lld,\"chunks\":%lld,\"terms\":%lld,"
	    "\"tokens\":%lld,\"analyzer\":\"%s\",\"k1\":%g,\"b\":%g,"
	    "\"chunk\":%zu,\"overlap\":%zu,\"segments\":%s,"
	    "\"bytes\":%lld}",
	    (long long)docs, (long long)chunks, (long long)terms,
	    (long long)tokens, spec, ix->p.k1, ix->p.b, ix->p.chunk,
	    ix->p.overlap, segs, (long long)(pages * psize));
	return s;
}

/*
 * Chunk rowids below cap and documents below dcap; with keep, the table
 * of the chunks' lengths and documents, of which only the pages that
 * queries read are ever touched (block_entries()).  The scores are each
 * query's own.
 */
static void
alloc_arrays(struct rk_index *ix, int64_t cap, int64_t dcap, int keep)
{
	free(ix->tab);
	free(ix->have);
	ix->tab = keep ? rk_xmalloc(cap * 2 * sizeof(*ix->tab)) : NULL;
	ix->have = keep ? rk_xcalloc((cap + BLOCK - 1) / BLOCK, 1) : NULL;
	ix->cap = cap;
	ix->dcap = dcap;
	ix->blk_no = -1;
	ix->blk_have = 0;
}

/*
 * The most chunk rowids the file can hold: rk_index_pack() stores 6
 * bytes for every rowid up to the largest, so a larger one is damage
 * (and sizing arrays by it would allocate what the index never held).
 */
static int64_t
max_chunks(struct rk_index *ix)
{
	int64_t pages = scalar(ix, "PRAGMA page_count"),
	    size = scalar(ix, "PRAGMA page_size");

	return pages < 0 || size < 0 ? -1 : pages * size / 6;
}

/* the documents' ids in ascending order: *n of them, or NULL */
static int64_t *
doc_ids(struct rk_index *ix, size_t *n)
{
	sqlite3_stmt *st;
	int64_t *v = NULL;
	size_t cap = 0;
	int rc;

	*n = 0;
	if (sqlite3_prepare_v2(ix->db.h, "SELECT id FROM docs ORDER BY id", -1,
	    &st, NULL) != SQLITE_OK) {
		fail(ix, "load");
		return NULL;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 1024;
			v = rk_xrealloc(v, cap * sizeof(*v));
		}
		v[(*n)++] = sqlite3_column_int64(st, 0);
	}
	if (rc != SQLITE_DONE) {
		fail(ix, "load");
		free(v);
		v = NULL;
	} else if (v == NULL)
		v = rk_xmalloc(sizeof(*v));
	sqlite3_finalize(st);
	return v;
}

/* 1 + the index of id in the ascending v[n], or 0 */
static int64_t
doc_number(const int64_t *v, size_t n, int64_t id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid] < id)
			lo = mid + 1;
		else if (v[mid] > id)
			hi = mid;
		else
			return mid + 1;
	}
	return 0;
}

/* read table chunks into the arrays, documents numbered 1..ndocs */
static int64_t
read_chunks(struct rk_index *ix, const int64_t *docs, size_t ndocs)
{
	sqlite3_stmt *st;
	int64_t n = 0;
	int rc;

	if (sqlite3_prepare_v2(ix->db.h, "SELECT id, doc, len FROM chunks", -1,
	    &st, NULL) != SQLITE_OK)
		return fail(ix, "load");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0),
		    d = doc_number(docs, ndocs, sqlite3_column_int64(st, 1)),
		    len = sqlite3_column_int64(st, 2);

		if (id <= 0 || id >= ix->cap || d == 0 || len < 0 ||
		    len > UINT32_MAX) {
			sqlite3_finalize(st);
			return damaged(ix, "chunk %lld", (long long)id);
		}
		ix->tab[id] = len;
		ix->tab[ix->cap + id] = d;
		n++;
	}
	if (rc != SQLITE_DONE)
		n = fail(ix, "load");
	sqlite3_finalize(st);
	return n;
}

/*
 * The arrays from table chunks, about 1 us a chunk: the chunks, or -1.
 * Documents are numbered densely, so no array is sized by a stored id.
 */
static int64_t
load_table(struct rk_index *ix)
{
	int64_t cap, most, n;
	int64_t *docs;
	size_t ndocs;

	if ((most = max_chunks(ix)) < 0 || (cap = scalar(ix,
	    "SELECT coalesce(max(id), 0) + 1 FROM chunks")) < 0)
		return -1;
	if (cap - 1 > most)
		return damaged(ix, "chunk id %lld is beyond what the file can "
		    "hold", (long long)(cap - 1));
	if ((docs = doc_ids(ix, &ndocs)) == NULL)
		return -1;
	alloc_arrays(ix, cap, ndocs + 1, 1);
	memset(ix->tab, 0, cap * 2 * sizeof(*ix->tab));
	memset(ix->have, HAVE_ALL, (cap + BLOCK - 1) / BLOCK);
	ix->lens_row = 0;
	ix->mem_w = 4;
	n = read_chunks(ix, docs, ndocs);
	free(docs);
	return n;
}

/*
 * The packed copy in table lens, if it is of the current generation:
 * LENS_MAGIC, the width W of a length (2, or 4 if a chunk has 65,536
 * terms or more) as a little-endian 64-bit number, then per chunk rowid
 * its length in W bytes, then per chunk rowid its document's number
 * (dense, as load_table() makes them, so below the number of rowids) in
 * 4: all little-endian.  A search reads the blocks of it that hold the
 * chunks it scores (block_entries()), the documents only to rank
 * documents; a query reads a few thousand of the chunks and copying the
 * whole of it was most of a query's time.  An index packed by an older
 * rk-search has LENS_MAGIC2, then per chunk rowid its length and
 * document as two 32-bit numbers; any other copy is stale, and the next
 * add or rm writes it again.
 */
#define LENS_MAGIC	"rklens3"	/* 8 bytes with its NUL */
#define LENS_MAGIC2	"rklens2"
#define LENS_HEAD	16

static void
close_lens(struct rk_index *ix)
{
	sqlite3_blob_close(ix->lens);
	ix->lens = NULL;
}

static int
open_lens(struct rk_index *ix)
{
	if (ix->lens == NULL && sqlite3_blob_open(ix->db.h, "main", "lens",
	    "data", ix->lens_row, 0, &ix->lens) != SQLITE_OK) {
		close_lens(ix);
		return fail(ix, "load");
	}
	return 0;
}

/* the little-endian 32-bit number at p */
static uint32_t
le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/*
 * What (HAVE_LENS or HAVE_DOCS) of block blk of the packed copy: the
 * lengths into len[] (of ix->mem_w bytes), the documents into doc[].
 * The old format gives both: the HAVE_* read, or -1.
 */
static int
read_block(struct rk_index *ix, int64_t blk, void *len, uint32_t *doc,
    int what)
{
	int64_t first = blk * BLOCK, n = ix->cap - first < BLOCK ?
	    ix->cap - first : BLOCK;
	unsigned char raw[8 * BLOCK];
	int w = ix->lens_w;

	if (open_lens(ix) == -1)
		return -1;
	if (w == 0) {
		if (sqlite3_blob_read(ix->lens, raw, n * 8, 8 + first * 8) !=
		    SQLITE_OK)
			return fail(ix, "load");
		for (int64_t i = 0; i < n; i++) {
			((uint32_t *)len)[i] = le32(raw + 8 * i);
			doc[i] = le32(raw + 8 * i + 4);
		}
		return HAVE_ALL;
	}
	if (what == HAVE_DOCS && sqlite3_blob_read(ix->lens, doc, n * 4,
	    LENS_HEAD + ix->cap * w + first * 4) != SQLITE_OK)
		return fail(ix, "load");
	if (what == HAVE_LENS && sqlite3_blob_read(ix->lens, len, n * w,
	    LENS_HEAD + first * w) != SQLITE_OK)
		return fail(ix, "load");
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	for (int64_t i = 0; i < n; i++)
		if (what == HAVE_DOCS)
			doc[i] = __builtin_bswap32(doc[i]);
		else if (w == 2)
			((uint16_t *)len)[i] =
			    __builtin_bswap16(((uint16_t *)len)[i]);
		else
			((uint32_t *)len)[i] =
			    __builtin_bswap32(((uint32_t *)len)[i]);
#endif
	return what;
}

/* what (HAVE_*) of block b that *have lacks, into len and doc: 0 or -1 */
static int
read_missing(struct rk_index *ix, int64_t b, void *len, uint32_t *doc,
    unsigned char *have, int what)
{
	int got;

	for (int h = HAVE_LENS; h <= HAVE_DOCS; h <<= 1)
		if ((what & h) && !(*have & h)) {
			if ((got = read_block(ix, b, len, doc, h)) == -1)
				return -1;
			*have |= got;
		}
	return 0;
}

/*
 * The lengths and (with docs) documents of the chunks of block b:
 * e->len[i] and e->doc[i] for rowid b * BLOCK + i; 0, or -1 after an
 * error.  The first query after load() keeps no table: it reads the
 * block into one buffer (rank() asks in rowid order, so for each block
 * once), since a process that makes one query would pay a page fault
 * for each block it kept.  Later queries keep theirs in tab.
 */
static int
block_entries(struct rk_index *ix, int64_t b, int docs, struct entries *e)
{
	int what = docs ? HAVE_ALL : HAVE_LENS;
	uint32_t *doc;
	unsigned char have;
	void *len;

	if (ix->tab == NULL) {
		len = ix->blk;
		doc = ix->blk + BLOCK;
		have = b == ix->blk_no ? ix->blk_have : 0;
		ix->blk_no = -1;
		if (read_missing(ix, b, len, doc, &have, what) == -1)
			return -1;
		ix->blk_no = b;
		ix->blk_have = have;
	} else {
		len = (char *)ix->tab + b * BLOCK * ix->mem_w;
		doc = ix->tab + ix->cap + b * BLOCK;
		if (read_missing(ix, b, len, doc, &ix->have[b], what) == -1)
			return -1;
	}
	e->len = len;
	e->doc = doc;
	e->w = ix->mem_w;
	return 0;
}

/* 1 if the packed copy is there, 0 if stale or of an older format */
static int
load_packed(struct rk_index *ix)
{
	sqlite3_stmt *st;
	unsigned char head[LENS_HEAD];
	int64_t bytes, cap;
	int w;

	if (sqlite3_prepare_v2(ix->db.h, "SELECT l.rowid FROM lens l, meta m "
	    "WHERE m.key = 'gen' AND l.gen = m.value", -1, &st, NULL) !=
	    SQLITE_OK)
		return 0;	/* not packed yet */
	ix->lens_row = sqlite3_step(st) == SQLITE_ROW ?
	    sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	close_lens(ix);
	if (ix->lens_row == 0 || open_lens(ix) == -1)
		return ix->lens_row == 0 ? 0 : -1;
	bytes = sqlite3_blob_bytes(ix->lens);
	if (bytes < 8 || sqlite3_blob_read(ix->lens, head, 8, 0) != SQLITE_OK)
		return 0;
	if (memcmp(head, LENS_MAGIC2, 8) == 0) {
		w = 0;
		cap = bytes % 8 != 0 ? 0 : (bytes - 8) / 8;
	} else if (memcmp(head, LENS_MAGIC, 8) != 0)
		return 0;
	else if (bytes < LENS_HEAD || sqlite3_blob_read(ix->lens, head + 8,
	    8, 8) != SQLITE_OK || ((w = le32(head + 8)) != 2 && w != 4) ||
	    le32(head + 12) != 0)
		return damaged(ix, "chunk lengths of %lld bytes",
		    (long long)bytes);
	else
		cap = (bytes - LENS_HEAD) % (w + 4) != 0 ? 0 :
		    (bytes - LENS_HEAD) / (w + 4);
	if (cap == 0)
		return damaged(ix, "chunk lengths of %lld bytes",
		    (long long)bytes);
	/* documents are numbered below the rowids: checked as read */
	alloc_arrays(ix, cap, cap, 0);
	ix->lens_w = w;
	ix->mem_w = w == 2 ? 2 : 4;
	return 1;
}

/* the scorer's arrays: chunk lengths and documents, by rowid */
static int
load(struct rk_index *ix)
{
	sqlite3_stmt *st = stmt(ix, S_VERSION);
	int64_t version;
	int rc;

	if (st == NULL || sqlite3_step(st) != SQLITE_ROW)
		return fail(ix, "data_version");
	version = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (ix->loaded && version == ix->version)
		return 0;
	if ((rc = load_packed(ix)) == -1 || (rc == 0 && load_table(ix) == -1))
		return -1;
	ix->version = version;
	ix->loaded = 1;
	return 0;
}

/*
 * After a change of an eighth of the chunks or more, merge FTS5's
 * segments into one: a query looks each term up once per segment.
 * Smaller changes leave it to FTS5's automatic merging.
 */
static int
settle(struct rk_index *ix, int64_t chunks)
{
	int64_t changed = ix->changed;

	ix->changed = 0;
	if (changed == 0 || changed * 8 < chunks ||
	    segment_count(ix) == 1)
		return 0;
	return rk_index_optimize(ix);
}

/* the packed copy of tab, as load_packed() reads it: *size bytes */
static unsigned char *
packed(struct rk_index *ix, size_t *size)
{
	uint32_t most = 0;
	unsigned char *b, *p;
	int w;

	for (int64_t i = 0; i < ix->cap; i++)
		if (ix->tab[i] > most)
			most = ix->tab[i];
	w = most < 65536 ? 2 : 4;
	*size = LENS_HEAD + ix->cap * (w + 4);
	p = b = rk_xcalloc(*size, 1);
	memcpy(p, LENS_MAGIC, 8);
	p[8] = w;
	p += LENS_HEAD;
	for (int64_t i = 0; i < ix->cap; i++)
		for (int j = 0; j < w; j++)
			*p++ = ix->tab[i] >> (8 * j);
	for (int64_t i = 0; i < ix->cap; i++)
		for (int j = 0; j < 4; j++)
			*p++ = ix->tab[ix->cap + i] >> (8 * j);
	return b;
}

/*
 * Store the packed copy of the chunks' lengths and documents, so that
 * the next process need not read every row of chunks to search.
 */
int
rk_index_pack(struct rk_index *ix)
{
	sqlite3_stmt *st;
	unsigned char *b;
	size_t size;
	int64_t chunks;
	int rc;

	if (rk_index_begin(ix) == -1)
		return -1;
	if ((chunks = load_table(ix)) == -1) {
		rollback(ix);
		return -1;
	}
	ix->loaded = 0;
	b = packed(ix, &size);
	if (exec(ix, "CREATE TABLE IF NOT EXISTS lens(gen INTEGER NOT NULL, "
	    "data BLOB NOT NULL)") == -1 || exec(ix, "INSERT OR IGNORE INTO "
	    "meta(key, value) VALUES ('gen', 0)") == -1 ||
	    exec(ix, "DELETE FROM lens") == -1 ||
	    sqlite3_prepare_v2(ix->db.h, "INSERT INTO lens(gen, data) VALUES "
	    "((SELECT value FROM meta WHERE key = 'gen'), ?1)", -1, &st,
	    NULL) != SQLITE_OK) {
		free(b);
		fail(ix, "pack");
		rollback(ix);
		return -1;
	}
	sqlite3_bind_blob(st, 1, b, size, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : fail(ix, "pack");
	sqlite3_finalize(st);
	free(b);
	if (rc == 0 && settle(ix, chunks) == -1)
		rc = -1;
	if (rc == -1) {
		rollback(ix);
		return -1;
	}
	return rk_index_commit(ix);
}

static int
collect(const Fts5ExtensionApi *api, Fts5Context *fts, void *arg)
{
	struct query *q = arg;
	int n = 0;

	/* the term's frequency: walk its position list */
	Fts5PhraseIter it;
	int col, off;

	if (api->xPhraseFirst(fts, 0, &it, &col, &off) != SQLITE_OK)
		return SQLITE_ERROR;
	for (; col >= 0; api->xPhraseNext(fts, &it, &col, &off))
		n++;
	rk_postings_add(&q->post, api->xRowid(fts), n);
	return SQLITE_OK;
}

/* a before b in the ranking: higher score, then lower rowid */
static int
better(const struct rk_hit *a, const struct rk_hit *b)
{
	return a->score > b->score || (a->score == b->score &&
	    a->rowid < b->rowid);
}

/*
 * Keep the best k of the candidates in a heap whose root is the worst;
 * c is better than the root if the heap is full (see offer()).
 */
static void
heap_push(struct rk_hit *h, size_t *n, size_t k, struct rk_hit c)
{
	size_t i, p;

	if (*n == k) {
		/* replace the root and sift down */
		i = 0;
		for (;;) {
			size_t l = 2 * i + 1, r = l + 1, w = i;
			const struct rk_hit *wv = &c;

			if (l < *n && better(wv, &h[l]))
				w = l, wv = &h[l];
			if (r < *n && better(wv, &h[r]))
				w = r;
			if (w == i)
				break;
			h[i] = h[w];
			i = w;
		}
		h[i] = c;
		return;
	}
	i = (*n)++;
	while (i > 0 && better(&h[(p = (i - 1) / 2)], &c)) {
		h[i] = h[p];
		i = p;
	}
	h[i] = c;
}

/* a candidate for q's hits: most lose to the root, checked inline */
static inline void
offer(struct query *q, struct rk_hit h)
{
	if (q->nhits < q->k || better(&h, &q->hits[0]))
		heap_push(q->hits, &q->nhits, q->k, h);
}

static int
cmp_hit(const void *a, const void *b)
{
	const struct rk_hit *x = a, *y = b;

	return better(x, y) ? -1 : better(y, x) ? 1 : 0;
}

struct qterms {
	char	**surface;
	char	**term;
	size_t	 n;
};

/* the best chunk of each document, by document: open addressing */
struct doc_best {
	int64_t	 doc;		/* 0: a free slot */
	int64_t	 best;
	double	 score;
};

struct docs {
	struct doc_best *v;
	size_t	 cap, n;	/* cap a power of 2 */
};

/*
 * A free table of n slots.  Not calloc(): a page the kernel zeroes on
 * demand faults twice when it is read and then written, and a table
 * of many documents has its slots on every page.
 */
static struct doc_best *
doc_table(size_t n)
{
	struct doc_best *v = rk_xmalloc(n * sizeof(*v));

	memset(v, 0, n * sizeof(*v));
	return v;
}

static struct doc_best *
doc_slot(struct doc_best *v, size_t cap, int64_t doc)
{
	size_t i = ((uint64_t)doc * 0x9e3779b97f4a7c15ULL) >> 32 & (cap - 1);

	while (v[i].doc != 0 && v[i].doc != doc)
		i = (i + 1) & (cap - 1);
	return &v[i];
}

/* chunk r of document doc scored s: the document's best chunk so far? */
static void
doc_offer(struct docs *d, int64_t doc, int64_t r, double s)
{
	struct doc_best *b;

	if (4 * (d->n + 1) > 3 * d->cap) {
		struct doc_best *old = d->v;
		size_t oldcap = d->cap;

		d->cap = d->cap ? 2 * d->cap : 256;
		d->v = doc_table(d->cap);
		for (size_t i = 0; i < oldcap; i++)
			if (old[i].doc != 0)
				*doc_slot(d->v, d->cap, old[i].doc) = old[i];
		free(old);
	}
	b = doc_slot(d->v, d->cap, doc);
	if (b->doc == 0) {
		*b = (struct doc_best){ doc, r, s };
		d->n++;
	} else if (s > b->score || (s == b->score && b->best > r)) {
		b->best = r;
		b->score = s;
	}
}

/* a scored chunk for q's hits, or for its document's best: 0 or -1 */
static int
take(struct rk_index *ix, struct query *q, struct docs *d, int64_t r,
    uint32_t doc, double s)
{
	if (!q->per_doc) {
		offer(q, (struct rk_hit){ r, s });
		return 0;
	}
	if (doc >= ix->dcap)
		return damaged(ix, "chunk lengths, entry %lld", (long long)r);
	if (doc != 0)
		doc_offer(d, doc, r, s);
	return 0;
}

/*
 * Robertson's idf of a term in df of n chunks.  It is 0 for a term in
 * half of them and negative above, so it is floored at 1e-6 as SQLite's
 * FTS5 bm25() does: such a term still finds its chunks, weighing next to
 * nothing (a floor at 0 would find none: in a two-note index every word
 * of one note is in half of them).
 */
double
rk_bm25_idf(double n, double df)
{
	double idf = log((n - df + 0.5) / (df + 0.5));

	return idf > 1e-6 ? idf : 1e-6;
}

/* one term's postings, and its idf times k1 + 1 */
struct cursor {
	const struct rk_posting *p, *end;
	double	 w;
};

/* the block of the first chunk, below cap, that a cursor is at, or -1 */
static int64_t
next_block(const struct cursor *c, size_t nc, int64_t cap)
{
	int64_t b = -1;

	for (size_t i = 0; i < nc; i++)
		if (c[i].p < c[i].end && c[i].p->rowid < cap &&
		    (b == -1 || c[i].p->rowid / BLOCK < b))
			b = c[i].p->rowid / BLOCK;
	return b;
}

/* the scores of a block's chunks, being added up term by term */
struct window {
	double	 acc[BLOCK];	/* by rowid - first: 0 until touched */
	uint16_t touched[BLOCK];
	size_t	 n;
	int64_t	 first, lim;
	struct entries e;	/* the block's (block_entries()) */
};

/* add the terms' postings in w's block, in the order of the terms */
static void
score_block(struct cursor *c, size_t nc, double norm0, double norm1,
    struct window *w)
{
	for (size_t i = 0; i < nc; i++) {
		const struct rk_posting *p = c[i].p;

		for (; p < c[i].end && p->rowid < w->lim; p++) {
			size_t j = p->rowid - w->first;
			double tf = p->tf;

			if (w->acc[j] == 0)
				w->touched[w->n++] = j;
			w->acc[j] += c[i].w * tf /
			    (tf + norm0 + norm1 * len_at(&w->e, j));
		}
		c[i].p = p;
	}
}

/*
 * Score the chunks in the terms' postings (q->post, term i's up to
 * q->end[i], each in rowid order) and keep the best k in q->hits.  The
 * lists are walked together a block of rowids at a time (BLOCK, as the
 * chunk lengths are read), the scores of the block added up in a small
 * table: the work is that of the postings and no table of all the
 * chunks is made.  A chunk's terms add up in the order of the query's
 * terms, as they always have, so scores stay the same to the bit.
 */
static int
rank(struct rk_index *ix, struct query *q, double nrows, double avgdl)
{
	double k1 = q->p->k1, b = q->p->b;
	double norm0 = k1 * (1 - b), norm1 = k1 * b / avgdl;
	struct cursor c[MAX_TERMS];
	struct window w;
	struct docs d = { NULL, 0, 0 };
	size_t nc = 0, start = 0;
	int64_t blk;
	int rc = 0;

	for (size_t i = 0; i < q->nterms; start = q->end[i++]) {
		double n = q->end[i] - start, idf = rk_bm25_idf(nrows, n);
		struct cursor *ci = &c[nc++];

		*ci = (struct cursor){ NULL, NULL, idf * (k1 + 1) };
		if (q->post.v != NULL) {
			ci->p = q->post.v + start;
			ci->end = q->post.v + q->end[i];
		}
		/* no chunk has such a rowid */
		while (ci->p < ci->end && ci->p->rowid <= 0)
			ci->p++;
	}
	/* room for every document the postings may name: no rehashing */
	if (q->per_doc) {
		size_t most = q->post.n < (uint64_t)ix->dcap ? q->post.n :
		    (size_t)ix->dcap;

		for (d.cap = 256; 3 * d.cap < 4 * most; d.cap *= 2)
			;
		d.v = doc_table(d.cap);
	}
	q->hits = rk_xmalloc((q->k ? q->k : 1) * sizeof(*q->hits));
	q->nhits = 0;
	memset(w.acc, 0, sizeof(w.acc));
	/* rowids from cap on were added since load() */
	while (rc == 0 && (blk = next_block(c, nc, ix->cap)) != -1) {
		w.first = blk * BLOCK;
		w.lim = ix->cap - w.first < BLOCK ? ix->cap : w.first + BLOCK;
		w.n = 0;
		if (block_entries(ix, blk, q->per_doc, &w.e) == -1)
			rc = -1;
		else
			score_block(c, nc, norm0, norm1, &w);
		for (size_t i = 0; i < w.n; i++) {
			size_t j = w.touched[i];

			if (rc == 0)
				rc = take(ix, q, &d, w.first + j,
				    q->per_doc ? w.e.doc[j] : 0, w.acc[j]);
			w.acc[j] = 0;
		}
	}
	for (size_t i = 0; i < d.cap; i++)
		if (d.v[i].doc != 0)
			offer(q, (struct rk_hit){ d.v[i].best, d.v[i].score });
	free(d.v);
	qsort(q->hits, q->nhits, sizeof(*q->hits), cmp_hit);
	return rc;
}

static void
topk_fn(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *ctx,
    int nval, sqlite3_value **val)
{
	struct query *q = nval == 1 ?
	    sqlite3_value_pointer(val[0], "rk_query") : NULL;
	struct rk_index *ix = api->xUserData(fts);
	sqlite3_int64 nrows = 0, total = 0;
	double avgdl;
	int np;

	if (q == NULL || q->done) {
		sqlite3_result_null(ctx);
		return;
	}
	q->done = 1;
	if (api->xRowCount(fts, &nrows) != SQLITE_OK ||
	    api->xColumnTotalSize(fts, -1, &total) != SQLITE_OK ||
	    (np = api->xPhraseCount(fts)) > MAX_TERMS) {
		fail(ix, "search");
		goto bad;
	}
	avgdl = nrows > 0 && total > 0 ? (double)total / nrows : 1;
	for (int ph = 0; ph < np; ph++) {
		size_t start = q->post.n;

		if (api->xQueryPhrase(fts, ph, q, collect) != SQLITE_OK) {
			fail(ix, "search");
			goto bad;
		}
		rk_postings_order(&q->post, start, 0);
		q->end[ph] = q->post.n;
	}
	q->nterms = np;
	if (rank(ix, q, nrows, avgdl) == -1)
		goto bad;
	sqlite3_result_int64(ctx, q->nhits);
	return;
bad:
	q->rc = -1;
	sqlite3_result_error(ctx, "rk_topk failed", -1);
}

/*
 * The same ranking as rk_topk(), reading the postings from FTS5's
 * segments ourselves (search_seg.c).  0, -1 after an error, or 1: the
 * index is not in a format we read, ask FTS5.
 */
static int
direct_topk(struct rk_index *ix, struct query *q, const struct qterms *t)
{
	int64_t nrows, total;
	size_t nseg;
	double avgdl;
	int rc;

	if (segments(ix, 0) == NULL)
		return 1;
	rk_seg_stats(ix->seg, &nrows, &total, &nseg);
	avgdl = nrows > 0 && total > 0 ? (double)total / nrows : 1;
	for (size_t i = 0; i < t->n; i++) {
		size_t start = q->post.n;

		if (rk_seg_term(ix->seg, t->term[i], strlen(t->term[i]),
		    &q->post) == -1) {
			ix->warning = "the index's segments are not as "
			    "expected; searching through FTS5";
			rk_seg_release(ix->seg);
			ix->seg_ok = 0;
			q->post.n = 0;
			return 1;
		}
		/* one segment's list is in order unless damaged */
		rk_postings_order(&q->post, start, nseg > 1);
		q->end[i] = q->post.n;
	}
	q->nterms = t->n;
	rc = rank(ix, q, nrows, avgdl);
	rk_seg_release(ix->seg);
	return rc;
}

static int
add_term(void *arg, const char *surface, size_t slen, const char *term,
    size_t tlen, size_t start, size_t end)
{
	struct qterms *t = arg;
	size_t i;

	(void)start, (void)end;
	/* a repeated word counts once (bench/retrieval/RESULTS) */
	for (i = 0; i < t->n; i++)
		if (strlen(t->term[i]) == tlen &&
		    memcmp(t->term[i], term, tlen) == 0)
			return 0;
	if (t->n == MAX_TERMS)
		return 0;
	t->surface[t->n] = rk_xstrndup(surface, slen);
	t->term[t->n] = rk_xstrndup(term, tlen);
	t->n++;
	return 0;
}

static void
qterms_free(struct qterms *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->surface[i]);
		free(t->term[i]);
	}
}

/* the distinct terms of a query (up to 256) into t: how many */
static size_t
query_terms(struct rk_index *ix, const char *query, struct qterms *t)
{
	rk_analyze(&ix->an, query, strlen(query), add_term, t);
	return t->n;
}

/*
 * The MATCH expression for a query's terms: each a quoted string of our
 * own token, joined by OR.  Nothing of the user's text reaches the FTS5
 * query parser but our tokens.
 */
static char *
match_expr(const struct qterms *t)
{
	size_t len = 1, i;
	char *e, *p;

	for (i = 0; i < t->n; i++)
		len += 2 * strlen(t->surface[i]) + 6;
	p = e = rk_xmalloc(len);
	for (i = 0; i < t->n; i++) {
		if (i > 0)
			p = stpcpy(p, " OR ");
		*p++ = '"';
		for (const char *s = t->surface[i]; *s; s++) {
			if (*s == '"')
				*p++ = '"';
			*p++ = *s;
		}
		*p++ = '"';
	}
	*p = '\0';
	return e;
}

int
rk_index_match(struct rk_index *ix, const char *query, char **expr)
{
	char *surface[MAX_TERMS], *term[MAX_TERMS];
	struct qterms t = { surface, term, 0 };

	*expr = query_terms(ix, query, &t) > 0 ? match_expr(&t) : NULL;
	qterms_free(&t);
	return *expr ? 0 : -1;
}

/* the same ranking through FTS5's query API: rk_topk() over a MATCH */
static int
api_topk(struct rk_index *ix, struct query *q, const struct qterms *t)
{
	char *expr = match_expr(t);
	sqlite3_stmt *st;
	int rc = 0;

	if ((st = stmt(ix, S_SEARCH)) == NULL) {
		free(expr);
		return -1;
	}
	sqlite3_bind_pointer(st, 1, q, "rk_query", NULL);
	sqlite3_bind_text(st, 2, expr, -1, SQLITE_STATIC);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
	case SQLITE_DONE:
		break;
	default:
		/* rk_topk() said what failed */
		rc = q->rc == -1 ? -1 : fail(ix, "search");
	}
	sqlite3_reset(st);
	if (q->rc == -1)
		rc = -1;
	free(expr);
	return rc;
}

/*
 * The best k chunks for a query (per_doc: the best chunk of each of the
 * best k documents), best first, in *hits (free it).
 */
int
rk_index_search(struct rk_index *ix, const char *query,
    const struct rk_index_params *p, size_t k, int per_doc,
    struct rk_hit **hits, size_t *nhits)
{
	char *surface[MAX_TERMS], *term[MAX_TERMS];
	struct qterms t = { surface, term, 0 };
	struct query q;
	int rc = 0, direct;

	*hits = NULL;
	*nhits = 0;
	if (k == 0 || query_terms(ix, query, &t) == 0)
		return 0;
	memset(&q, 0, sizeof(q));
	q.p = p ? p : &ix->p;
	q.ix = ix;
	q.k = k;
	q.per_doc = per_doc;
	/*
	 * Uncommitted changes of this connection may still be in FTS5's
	 * memory, not in its segments: only FTS5 sees them.
	 */
	direct = !ix->writing && !ix->fts5_only;
	/* one snapshot for the lengths and the postings (at least) */
	if (run(ix, S_SAVE, "search") == -1) {
		qterms_free(&t);
		return -1;
	}
	if (load(ix) == -1 || (direct && (rc = direct_topk(ix, &q, &t)) == -1))
		rc = -1;
	else if (!direct || rc == 1)
		rc = api_topk(ix, &q, &t);
	close_lens(ix);
	if (run(ix, S_RELEASE, "search") == -1)
		rc = -1;
	if (ix->loaded && ix->tab == NULL)	/* the next query keeps */
		alloc_arrays(ix, ix->cap, ix->dcap, 1);
	free(q.post.v);
	if (rc == 0) {
		*hits = q.hits;
		*nhits = q.nhits;
	} else
		free(q.hits);
	qterms_free(&t);
	return rc;
}

/* the document name, chunk number and text (unless NULL) of a hit */
int
rk_index_hit(struct rk_index *ix, int64_t rowid, char **doc, long *chunk,
    char **text)
{
	sqlite3_stmt *st = stmt(ix, text ? S_HIT : S_NAME);
	const char *name, *body = NULL;
	int rc = -1, step;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, rowid);
	/* ranked in this snapshot: a hit without its rows is damage */
	if ((step = sqlite3_step(st)) == SQLITE_DONE)
		damaged(ix, "chunk %lld or its document or text is missing",
		    (long long)rowid);
	else if (step != SQLITE_ROW)
		fail(ix, "hit");
	else if ((name = (const char *)sqlite3_column_text(st, 0)) == NULL ||
	    (text != NULL && (body = (const char *)sqlite3_column_text(st,
	    2)) == NULL))
		damaged(ix, "chunk %lld has no %s", (long long)rowid,
		    name == NULL ? "document name" : "text");
	else {
		*doc = rk_xstrdup(name);
		*chunk = sqlite3_column_int64(st, 1);
		if (text != NULL)
			*text = rk_xstrdup(body);
		rc = 0;
	}
	sqlite3_reset(st);
	return rc;
}
