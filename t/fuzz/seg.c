/*
 * The FTS5 segment reader on tables made from the input: records
 *	'd' id(8, little-endian) len(2) bytes	a row of fts_data
 *	'i' segid(2) len(1) term pgno(8)	a row of fts_idx
 *	't' len(1) term				a term to look up
 * in any order, until one does not fit.  fts_config says version 4.
 * RK_FUZZ_SEED=index.db writes such an input from a real index (its
 * tables and the terms of RK_FUZZ_TERMS) to standard output and exits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rk.h"
#include "search/search.h"
#include "fuzz.h"

static sqlite3 *db;
static sqlite3_stmt *put_data, *put_idx;

static void
exec(const char *sql)
{
	FUZZ_CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK,
	    "%s: %s", sql, sqlite3_errmsg(db));
}

static void
put(const void *p, size_t n)
{
	fwrite(p, 1, n, stdout);
}

/* the seed: every row of the index's fts_data and fts_idx, some terms */
static void
seed(const char *path, const char *terms)
{
	sqlite3 *ix;
	sqlite3_stmt *st;
	char *copy, *t, *p;

	FUZZ_CHECK(sqlite3_open_v2(path, &ix, SQLITE_OPEN_READONLY, NULL) ==
	    SQLITE_OK, "%s", path);
	sqlite3_prepare_v2(ix, "SELECT id, block FROM fts_data", -1, &st,
	    NULL);
	while (sqlite3_step(st) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		uint16_t n = sqlite3_column_bytes(st, 1);

		put("d", 1), put(&id, 8), put(&n, 2);
		put(sqlite3_column_blob(st, 1), n);
	}
	sqlite3_finalize(st);
	sqlite3_prepare_v2(ix, "SELECT segid, term, pgno FROM fts_idx", -1,
	    &st, NULL);
	while (sqlite3_step(st) == SQLITE_ROW) {
		uint16_t seg = sqlite3_column_int(st, 0);
		uint8_t n = sqlite3_column_bytes(st, 1);
		int64_t pg = sqlite3_column_int64(st, 2);

		put("i", 1), put(&seg, 2), put(&n, 1);
		put(sqlite3_column_blob(st, 1), n), put(&pg, 8);
	}
	sqlite3_finalize(st);
	sqlite3_close(ix);
	p = copy = rk_xstrdup(terms ? terms : "");
	while ((t = strsep(&p, " ")) != NULL) {
		uint8_t n = strlen(t);

		if (n > 0)
			put("t", 1), put(&n, 1), put(t, n);
	}
	free(copy);
	exit(0);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	rk_init("fuzz-seg", NULL);
	if (rk_getenv("RK_FUZZ_SEED") != NULL)
		seed(rk_getenv("RK_FUZZ_SEED"), rk_getenv("RK_FUZZ_TERMS"));
	FUZZ_CHECK(sqlite3_open(":memory:", &db) == SQLITE_OK, "sqlite");
	exec("CREATE TABLE fts_data(id INTEGER PRIMARY KEY, block BLOB);"
	    "CREATE TABLE fts_idx(segid, term, pgno, PRIMARY KEY(segid, term))"
	    " WITHOUT ROWID;"
	    "CREATE TABLE fts_config(k PRIMARY KEY, v) WITHOUT ROWID;"
	    "INSERT INTO fts_config VALUES('version', 4)");
	sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO fts_data VALUES(?, ?)",
	    -1, &put_data, NULL);
	sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO fts_idx VALUES(?, ?, ?)",
	    -1, &put_idx, NULL);
	return 0;
}

struct in {
	const uint8_t	*p, *end;
};

/* n bytes of the input, or NULL if fewer are left */
static const uint8_t *
take(struct in *in, size_t n)
{
	const uint8_t *p = in->p;

	if ((size_t)(in->end - in->p) < n)
		return NULL;
	in->p += n;
	return p;
}

static void
insert(sqlite3_stmt *st)
{
	sqlite3_step(st);
	sqlite3_reset(st);
}

/* the tables from the input; the terms to look up in terms[] */
static size_t
load(struct in *in, const uint8_t **terms, size_t *tlen, size_t max)
{
	const uint8_t *tag, *a, *b, *c;
	size_t nterms = 0;
	uint16_t n16;
	int64_t v;

	while ((tag = take(in, 1)) != NULL) {
		if (*tag == 'd' && (a = take(in, 10)) != NULL &&
		    (b = take(in, (memcpy(&n16, a + 8, 2), n16))) != NULL) {
			memcpy(&v, a, 8);
			sqlite3_bind_int64(put_data, 1, v);
			sqlite3_bind_blob(put_data, 2, b, n16, SQLITE_STATIC);
			insert(put_data);
		} else if (*tag == 'i' && (a = take(in, 3)) != NULL &&
		    (b = take(in, a[2])) != NULL &&
		    (c = take(in, 8)) != NULL) {
			memcpy(&n16, a, 2);
			memcpy(&v, c, 8);
			sqlite3_bind_int(put_idx, 1, n16);
			sqlite3_bind_blob(put_idx, 2, b, a[2], SQLITE_STATIC);
			sqlite3_bind_int64(put_idx, 3, v);
			insert(put_idx);
		} else if (*tag == 't' && (a = take(in, 1)) != NULL &&
		    (b = take(in, *a)) != NULL && nterms < max) {
			terms[nterms] = b;
			tlen[nterms++] = *a;
		} else
			break;
	}
	return nterms;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, data + size };
	const uint8_t *terms[16];
	size_t tlen[16], nterms;
	struct rk_postings out = { NULL, 0, 0 };
	struct rk_seg *s;

	exec("BEGIN; DELETE FROM fts_data; DELETE FROM fts_idx");
	nterms = load(&in, terms, tlen, 16);
	s = rk_seg_open(db);
	FUZZ_CHECK(s != NULL, "rk_seg_open");
	if (rk_seg_refresh(s) == 0) {
		int64_t rows, tokens;
		size_t nseg;

		rk_seg_stats(s, &rows, &tokens, &nseg);
		for (size_t i = 0; i < nterms; i++) {
			out.n = 0;
			if (rk_seg_term(s, (const char *)terms[i], tlen[i],
			    &out) == 0)
				FUZZ_CHECK(out.n <= out.cap, "postings");
		}
	}
	rk_seg_close(s);
	free(out.v);
	exec("COMMIT");
	return 0;
}
