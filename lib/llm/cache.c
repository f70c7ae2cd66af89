/*
 * The response cache.  One table, key -> (time stored, reply JSON); an
 * entry older than the TTL is a miss, and expired entries are deleted now
 * and then by whoever writes.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sha2.h>
#include <sqlite3.h>

#include "core/rk.h"
#include "llm/llm.h"

struct rk_cache {
	struct rk_db	 db;
	sqlite3_stmt	*get, *put, *expire;
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

/* by PRAGMA user_version; the file, WAL and busy timeout are db.c's */
static const char *const schema[] = {
	"CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, "
	"stored REAL NOT NULL, reply TEXT NOT NULL)"
};

struct rk_cache *
rk_cache_open(const char *path, double ttl, char *err, size_t errsize)
{
	struct rk_cache *c = rk_xmalloc(sizeof(*c));
	char *dir = rk_xstrdup(path), *slash;
	struct rk_error e;

	memset(c, 0, sizeof(*c));
	c->ttl = ttl;
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		rk_mkdirs(dir);
	}
	free(dir);
	if (rk_db_open(&c->db, path, RK_DB_CREATE, 10000, &e) != 0 ||
	    rk_db_migrate(&c->db, schema, 1, &e) != 0 ||
	    rk_db_prepare(&c->db, &c->get, "SELECT stored, reply FROM "
	    "responses WHERE key = ?", &e) != 0 ||
	    rk_db_prepare(&c->db, &c->put, "INSERT OR REPLACE INTO responses "
	    "VALUES (?, ?, ?)", &e) != 0) {
		strlcpy(err, e.msg, errsize);
		rk_cache_close(c);
		return NULL;
	}
	return c;
}

void
rk_cache_close(struct rk_cache *c)
{
	if (c == NULL)
		return;
	sqlite3_finalize(c->get);
	sqlite3_finalize(c->put);
	sqlite3_finalize(c->expire);
	rk_db_close(&c->db, NULL);
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

/*
 * The bytes stored under key by rk_cache_put_blob(), malloc'd, with their
 * length in *len; NULL if there are none (or a reply is stored there).
 */
void *
rk_cache_get_blob(struct rk_cache *c, const char *key, size_t *len)
{
	void *v = NULL;

	sqlite3_bind_text(c->get, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(c->get) == SQLITE_ROW &&
	    now_s() - sqlite3_column_double(c->get, 0) < c->ttl &&
	    sqlite3_column_type(c->get, 1) == SQLITE_BLOB &&
	    (*len = (size_t)sqlite3_column_bytes(c->get, 1)) > 0) {
		v = rk_xmalloc(*len);
		memcpy(v, sqlite3_column_blob(c->get, 1), *len);
	}
	sqlite3_reset(c->get);
	sqlite3_clear_bindings(c->get);
	return v;
}

/* the row is bound but for its reply: store it, expire now and then */
static int
put(struct rk_cache *c, const char *key)
{
	int rc;

	sqlite3_bind_text(c->put, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_double(c->put, 2, now_s());
	rc = rk_db_done(&c->db, c->put, NULL) == 0 ? 0 : -1;
	sqlite3_clear_bindings(c->put);
	if (rc == 0 && c->puts++ % 64 == 0 && rk_db_prepare(&c->db,
	    &c->expire, "DELETE FROM responses WHERE stored < ?", NULL) == 0) {
		sqlite3_bind_double(c->expire, 1, now_s() - c->ttl);
		rk_db_done(&c->db, c->expire, NULL);
	}
	return rc;
}

int
rk_cache_put(struct rk_cache *c, const char *key, const json_t *val)
{
	char *s = json_dumps(val, JSON_COMPACT);
	int rc;

	sqlite3_bind_text(c->put, 3, s, -1, SQLITE_TRANSIENT);
	rc = put(c, key);
	free(s);
	return rc;
}

int
rk_cache_put_blob(struct rk_cache *c, const char *key, const void *p,
    size_t len)
{
	sqlite3_bind_blob(c->put, 3, p, (int)len, SQLITE_TRANSIENT);
	return put(c, key);
}
