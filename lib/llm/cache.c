/*
 * The response cache.  One table, key -> (time stored, reply JSON); an
 * entry older than the TTL is a miss, and expired entries are deleted now
 * and then by whoever writes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sha2.h>
#include <sqlite3.h>

#include "core/rk.h"
#include "llm/llm.h"

struct rk_cache {
	sqlite3		*db;
	sqlite3_stmt	*get, *put;
	double		 ttl;
	long		 puts;
};

_Static_assert(RK_CACHE_KEY == SHA256_DIGEST_STRING_LENGTH,
    "a cache key is a SHA-256 in hex");

void
rk_cache_key(const json_t *canon, char out[RK_CACHE_KEY])
{
	char *s = json_dumps(canon, JSON_COMPACT | JSON_SORT_KEYS |
	    JSON_ENSURE_ASCII);

	SHA256Data((const uint8_t *)s, strlen(s), out);
	free(s);
}

/*
 * WAL and the table.  Switching a new file to WAL takes a lock that the
 * busy handler does not wait for, so when several processes create the
 * cache at once, the losers try again for a while.
 */
static int
setup(sqlite3 *db)
{
	int rc = SQLITE_BUSY;

	for (int i = 0; i < 200 && (rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
	    i++) {
		struct timespec ts = { 0, 10 * 1000000L };

		if (i > 0)
			nanosleep(&ts, NULL);
		rc = sqlite3_exec(db, "PRAGMA journal_mode=WAL;"
		    "PRAGMA synchronous=NORMAL;"
		    "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY "
		    "KEY, stored REAL NOT NULL, reply TEXT NOT NULL);", NULL,
		    NULL, NULL);
	}
	return rc;
}

struct rk_cache *
rk_cache_open(const char *path, double ttl, char *err, size_t errsize)
{
	struct rk_cache *c = rk_xmalloc(sizeof(*c));
	char *dir = rk_xstrdup(path), *slash;

	memset(c, 0, sizeof(*c));
	c->ttl = ttl;
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		rk_mkdirs(dir);
	}
	free(dir);
	if (rk_db_private(path) == -1) {
		snprintf(err, errsize, "%s: %s", path, strerror(errno));
		rk_cache_close(c);
		return NULL;
	}
	if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_busy_timeout(c->db, 10000);
	if (setup(c->db) != SQLITE_OK ||
	    sqlite3_prepare_v2(c->db, "SELECT stored, reply FROM responses "
	    "WHERE key = ?", -1, &c->get, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(c->db, "INSERT OR REPLACE INTO responses "
	    "VALUES (?, ?, ?)", -1, &c->put, NULL) != SQLITE_OK)
		goto fail;
	return c;
fail:
	snprintf(err, errsize, "%s: %s", path, c->db ? sqlite3_errmsg(c->db) :
	    "cannot open");
	rk_cache_close(c);
	return NULL;
}

void
rk_cache_close(struct rk_cache *c)
{
	if (c == NULL)
		return;
	sqlite3_finalize(c->get);
	sqlite3_finalize(c->put);
	sqlite3_close(c->db);
	free(c);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

json_t *
rk_cache_get(struct rk_cache *c, const char *key)
{
	json_t *v = NULL;

	sqlite3_bind_text(c->get, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(c->get) == SQLITE_ROW &&
	    now_s() - sqlite3_column_double(c->get, 0) < c->ttl)
		v = json_loads((const char *)sqlite3_column_text(c->get, 1), 0,
		    NULL);
	sqlite3_reset(c->get);
	sqlite3_clear_bindings(c->get);
	return v;
}

int
rk_cache_put(struct rk_cache *c, const char *key, const json_t *val)
{
	char *s = json_dumps(val, JSON_COMPACT);
	int rc;

	sqlite3_bind_text(c->put, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_double(c->put, 2, now_s());
	sqlite3_bind_text(c->put, 3, s, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(c->put) == SQLITE_DONE ? 0 : -1;
	sqlite3_reset(c->put);
	sqlite3_clear_bindings(c->put);
	free(s);
	if (rc == 0 && c->puts++ % 64 == 0) {
		sqlite3_stmt *st;

		if (sqlite3_prepare_v2(c->db, "DELETE FROM responses WHERE "
		    "stored < ?", -1, &st, NULL) == SQLITE_OK) {
			sqlite3_bind_double(st, 1, now_s() - c->ttl);
			sqlite3_step(st);
			sqlite3_finalize(st);
		}
	}
	return rc;
}
