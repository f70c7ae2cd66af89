/*
 * The trace store: one SQLite database, one row per run (keyed by the
 * record's id), holding the whole record as JSON plus index columns derived
 * from it.  The database is in WAL mode so readers never block the writer;
 * every record is written in its own BEGIN IMMEDIATE transaction, so
 * concurrent writers queue on the busy timeout instead of failing, and a
 * record is on disk before the caller passes it on.
 *
 * The schema is versioned with PRAGMA user_version.  Opening a database
 * runs the migrations from its version to RK_STORE_SCHEMA inside one
 * BEGIN IMMEDIATE transaction that re-reads the version first, so any
 * number of processes may open a new database at the same moment
 * (rk_db_migrate()).
 */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/rk.h"
#include "store/store.h"

#define BUSY_MS	10000	/* how long a writer waits for the lock */

struct rk_store {
	struct rk_db	 d;
	sqlite3		*db;	/* d.h; NULL: absent, opened as empty */
	char		*path;
	sqlite3_stmt	*begin, *commit, *rollback, *deltext, *insert,
			*addtext;
	struct rk_error	 e;	/* what the last call that failed says */
};

/*
 * What search finds a run by: the question and every string the steps and
 * the result hold, but for the names of protocols, steps, models and types.
 * search_text() makes it for each run stored; this is the same in SQL, for
 * the runs a migration finds.
 */
#define SEARCH_TEXT_SQL \
	"(SELECT group_concat(value, ' ') FROM json_tree(record)" \
	" WHERE type = 'text' AND (fullkey = '$.query'" \
	" OR fullkey LIKE '$.steps[%' OR fullkey LIKE '$.result.%')" \
	" AND key NOT IN ('protocol', 'step', 'model', 'type'))"

/*
 * Migration i takes the schema from version i to i + 1.  Never edit one
 * that has shipped; append a new one and bump RK_STORE_SCHEMA.
 */
static const char *const migrations[RK_STORE_SCHEMA] = {
	"CREATE TABLE runs ("
	" id TEXT PRIMARY KEY NOT NULL,"
	" created TEXT NOT NULL,"
	" stored TEXT NOT NULL,"
	" query TEXT,"
	" profile TEXT,"
	" protocols TEXT NOT NULL DEFAULT '',"
	" status TEXT NOT NULL"
	"  CHECK (status IN ('completed', 'failed', 'incomplete')),"
	" confidence REAL,"
	" pass INTEGER,"
	" min_confidence REAL,"
	" tokens_in INTEGER NOT NULL DEFAULT 0,"
	" tokens_out INTEGER NOT NULL DEFAULT 0,"
	" estimated INTEGER NOT NULL DEFAULT 0,"
	" llm_ms REAL NOT NULL DEFAULT 0,"
	" other_ms REAL NOT NULL DEFAULT 0,"
	" steps INTEGER NOT NULL DEFAULT 0,"
	" record TEXT NOT NULL);"
	"CREATE INDEX runs_created ON runs (created);"
	"CREATE INDEX runs_profile ON runs (profile, created);"
	"CREATE INDEX runs_status ON runs (status, created);",

	/* 2: batches, and the text of every run for search */
	"ALTER TABLE runs ADD COLUMN batch TEXT;"
	"ALTER TABLE runs ADD COLUMN item TEXT;"
	"UPDATE runs SET batch = json_extract(record, '$.batch'),"
	" item = CAST(json_extract(record, '$.item') AS TEXT)"
	" WHERE json_valid(record)"
	" AND json_type(record, '$.batch') = 'text';"
	"CREATE INDEX runs_batch ON runs (batch, item) WHERE batch NOT NULL;"
	"CREATE VIRTUAL TABLE runs_text USING fts5 (text);"
	"CREATE TRIGGER runs_text_rm AFTER DELETE ON runs BEGIN"
	" DELETE FROM runs_text WHERE rowid = old.rowid; END;"
	"INSERT INTO runs_text (rowid, text) SELECT rowid, " SEARCH_TEXT_SQL
	" FROM runs WHERE json_valid(record);",
};

#define COLUMNS "id, created, query, profile, protocols, status, " \
	"confidence, pass, min_confidence, tokens_in, tokens_out, " \
	"estimated, llm_ms, other_ms, steps, record, batch, item"

/* --- summary of a record ------------------------------------------- */

static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/* the creation time in a ULID, or -1 if id is not one */
static long long
ulid_ms(const char *id)
{
	long long ms = 0;
	const char *p;
	int i;

	if (id == NULL || strlen(id) != 26 || id[0] > '7')
		return -1;
	for (i = 0; i < 26; i++) {
		int c = id[i] >= 'a' && id[i] <= 'z' ? id[i] - 'a' + 'A' :
		    id[i];

		if (c == '\0' || (p = strchr(crockford, c)) == NULL)
			return -1;
		if (i < 10)
			ms = ms << 5 | (p - crockford);
	}
	return ms;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
rk_format_time(long long ms, char out[25])
{
	struct tm tm;
	time_t t;

	if (ms < 0)
		ms = 0;
	if (ms > 253402300799999LL)	/* 9999-12-31T23:59:59.999Z */
		ms = 253402300799999LL;
	t = ms / 1000;
	gmtime_r(&t, &tm);
	strftime(out, 20, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + 19, 6, ".%03dZ", (int)(ms % 1000));
}

int
rk_status_valid(const char *s)
{
	return strcmp(s, "completed") == 0 || strcmp(s, "failed") == 0 ||
	    strcmp(s, "incomplete") == 0;
}

/*
 * Append item to the list of distinct items in *list (sep between them)
 * unless it is empty, holds sep, or is already there.
 */
void
rk_list_add(char **list, size_t *len, const char *sep, const char *item)
{
	size_t n = strlen(item), ns = strlen(sep), at = 0;

	if (n == 0 || strstr(item, sep) != NULL)
		return;
	while (at < *len) {
		const char *next = strstr(*list + at, sep);
		size_t w = next ? (size_t)(next - *list - at) : *len - at;

		if (w == n && memcmp(*list + at, item, n) == 0)
			return;
		at += w + ns;
	}
	*list = rk_xrealloc(*list, *len + ns + n + 1);
	if (*len > 0) {
		memcpy(*list + *len, sep, ns);
		*len += ns;
	}
	memcpy(*list + *len, item, n + 1);
	*len += n;
}

/* add a token count to a sum, both kept within 0..1e15 */
static void
add_count(long long *sum, const json_t *obj, const char *key)
{
	double v = rk_get_number(obj, key, 0);

	if (v > 0)
		*sum = v + *sum < 1e15 ? (long long)v + *sum : 1000000000000000;
}

/*
 * The status rule: failed if the record carries an error, completed if it
 * has a result, incomplete otherwise.  The confidence is the result's, or
 * else the mean of the steps' confidences.
 */
void
rk_run_summary(const json_t *rec, struct rk_run *run)
{
	const json_t *steps, *step, *result, *v;
	const char *key, *proto;
	long long ms;
	double sum = 0;
	size_t i, nconf = 0, nusage = 0, nest = 0, len = 0;
	char *list = NULL;

	memset(run, 0, sizeof(*run));
	run->id = rk_get_string(rec, "id");
	if ((ms = ulid_ms(run->id)) < 0)
		ms = now_ms();
	rk_format_time(ms, run->created);
	run->query = rk_get_string(rec, "query");
	if ((run->profile = rk_get_string(rec, "profile")) == NULL)
		run->profile = rk_get_string(rec, "protocol");
	if ((proto = rk_get_string(rec, "protocol")) != NULL)
		rk_list_add(&list, &len, " ", proto);

	steps = json_object_get(rec, "steps");
	json_array_foreach(steps, i, step) {
		const json_t *usage = json_object_get(step, "usage");
		const json_t *t = json_object_get(step, "ms");

		run->steps++;
		if ((proto = rk_get_string(step, "protocol")) != NULL)
			rk_list_add(&list, &len, " ", proto);
		if (json_is_number(v = json_object_get(step, "confidence"))) {
			sum += json_number_value(v);
			nconf++;
		}
		if (json_is_object(usage)) {
			nusage++;
			add_count(&run->tokens_in, usage, "in");
			add_count(&run->tokens_out, usage, "out");
			if (json_is_true(json_object_get(usage, "estimated")))
				nest++;
		}
		json_object_foreach((json_t *)t, key, v) {
			if (!json_is_number(v))
				continue;
			if (strcmp(key, "llm") == 0)
				run->llm_ms += json_number_value(v);
			else
				run->other_ms += json_number_value(v);
		}
	}
	run->estimated = nest == 0 ? 0 : nest < nusage ? 1 : 2;
	run->own = list;
	run->protocols = list != NULL ? list : "";

	result = json_object_get(rec, "result");
	run->confidence = NAN;
	run->min_confidence = NAN;
	run->pass = -1;
	if (json_is_object(result)) {
		run->confidence = rk_get_number(result, "confidence", NAN);
		run->min_confidence = rk_get_number(result, "min_confidence",
		    NAN);
		v = json_object_get(result, "pass");
		if (json_is_boolean(v))
			run->pass = json_is_true(v);
	}
	if (isnan(run->confidence) && nconf > 0)
		run->confidence = sum / nconf;
	run->status = rk_has_error(rec) ? "failed" :
	    json_is_object(result) ? "completed" : "incomplete";
}

void
rk_run_clear(struct rk_run *run)
{
	free(run->own);
	run->own = NULL;
}

/* --- dates ----------------------------------------------------------- */

/* n digits at *s, advancing it; -1 if they are not there */
static int
digits(const char **s, int n)
{
	int v = 0;

	while (n-- > 0) {
		if (**s < '0' || **s > '9')
			return -1;
		v = v * 10 + *(*s)++ - '0';
	}
	return v;
}

/*
 * YYYY-MM-DD, YYYY-MM-DD[T ]HH:MM[:SS[.fff]][Z|+HH:MM|-HH:MM] (UTC when
 * no zone is given), or a time ago: 45s, 15m, 12h, 30d, 2w.
 */
int
rk_parse_date(const char *s, char out[25])
{
	static const struct { char c; long long ms; } unit[] = {
		{ 's', 1000LL }, { 'm', 60000LL }, { 'h', 3600000LL },
		{ 'd', 86400000LL }, { 'w', 604800000LL },
	};
	struct tm tm, check;
	long long ms = 0, frac = 0, scale = 100;
	long ago;
	const char *p = s;
	char *end;
	time_t t;
	int off = 0, sign;

	if (*s >= '0' && *s <= '9' && strlen(s) < 12 &&
	    strspn(s, "0123456789") == strlen(s) - 1) {
		errno = 0;
		ago = strtol(s, &end, 10);
		for (size_t i = 0; i < sizeof(unit) / sizeof(*unit); i++)
			if (errno == 0 && *end == unit[i].c &&
			    ago <= 100000 * 86400000LL / unit[i].ms) {
				rk_format_time(now_ms() - ago * unit[i].ms,
				    out);
				return 0;
			}
		return -1;
	}
	memset(&tm, 0, sizeof(tm));
	if ((tm.tm_year = digits(&p, 4)) < 0 || *p++ != '-' ||
	    (tm.tm_mon = digits(&p, 2)) < 0 || *p++ != '-' ||
	    (tm.tm_mday = digits(&p, 2)) < 0)
		return -1;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if ((tm.tm_hour = digits(&p, 2)) < 0 || *p++ != ':' ||
		    (tm.tm_min = digits(&p, 2)) < 0)
			return -1;
		if (*p == ':') {
			p++;
			if ((tm.tm_sec = digits(&p, 2)) < 0)
				return -1;
			if (*p == '.' || *p == ',') {
				if (*++p < '0' || *p > '9')
					return -1;
				for (; *p >= '0' && *p <= '9'; p++, scale /= 10)
					frac += (*p - '0') * scale;
			}
		}
		if (*p == 'Z' || *p == 'z')
			p++;
		else if (*p == '+' || *p == '-') {
			int h, m;

			sign = *p++ == '-' ? -1 : 1;
			if ((h = digits(&p, 2)) < 0 || h > 23)
				return -1;
			if (*p == ':')
				p++;
			if ((m = digits(&p, 2)) < 0 || m > 59)
				return -1;
			off = sign * (h * 60 + m) * 60;
		}
	}
	if (*p != '\0' || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 59)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	check = tm;
	t = timegm(&tm);
	/* timegm() normalises 2026-02-30 into March: reject that */
	if (tm.tm_mday != check.tm_mday || tm.tm_mon != check.tm_mon)
		return -1;
	ms = ((long long)t - off) * 1000 + frac;
	rk_format_time(ms, out);
	return 0;
}

/* --- opening and migrating ------------------------------------------- */

/* -1, the failure of what, as SQLite tells it, in st->e */
static int
store_fail(struct rk_store *st, const char *what)
{
	rk_error_set(&st->e, RK_EXIT_IO, "%s: %s: %s", st->path, what,
	    st->db ? sqlite3_errmsg(st->db) : "out of memory");
	return -1;
}

const char *
rk_store_error(const struct rk_store *st)
{
	return st->e.msg;
}

/*
 * synchronous=NORMAL in WAL mode: a committed record survives the crash or
 * kill of any process; a power loss or OS crash may lose the last commits
 * but never corrupts the database.  RK_TRACE_SYNC=full syncs the WAL on
 * every commit as well.
 */
static const char *
sync_pragma(void)
{
	const char *v = rk_getenv("RK_TRACE_SYNC");

	if (v == NULL || strcmp(v, "normal") == 0)
		return "PRAGMA synchronous = NORMAL";
	if (strcmp(v, "full") == 0)
		return "PRAGMA synchronous = FULL";
	if (strcmp(v, "off") == 0)
		return "PRAGMA synchronous = OFF";
	return NULL;
}

/*
 * Whether stored text is a record as rk_write() writes it: a JSON object
 * on one line.  Not so in a damaged database (a flipped byte).
 */
int
rk_store_record_ok(const char *json, size_t len)
{
	size_t i = 0;

	while (i < len && (json[i] == ' ' || json[i] == '\t'))
		i++;	/* a line kept byte for byte may start so */
	return i < len && json[i] == '{' && memchr(json, '\n', len) == NULL &&
	    rk_json_valid(json, len);
}

/* the same in SQL, rk_record_ok(record), for merge */
static void
record_ok_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char *json = (const char *)sqlite3_value_text(argv[0]);

	(void)argc;
	sqlite3_result_int(ctx, json != NULL && rk_store_record_ok(json,
	    (size_t)sqlite3_value_bytes(argv[0])));
}

struct rk_store *
rk_store_open(const char *path, int create, struct rk_error *e)
{
	struct rk_store *st = rk_xmalloc(sizeof(*st));
	const char *sync = sync_pragma();
	struct stat sb;

	memset(st, 0, sizeof(*st));
	if (sync == NULL) {
		rk_error_set(e, RK_EXIT_USAGE, "RK_TRACE_SYNC: not normal, "
		    "full or off: '%s'", rk_getenv("RK_TRACE_SYNC"));
		free(st);
		return NULL;
	}
	st->path = rk_xstrdup(path);
	if (!create && strcmp(path, ":memory:") != 0 && stat(path, &sb) == -1 &&
	    errno == ENOENT)
		return st;
	if (rk_db_open(&st->d, path, create ? RK_DB_CREATE : 0, BUSY_MS,
	    e) != 0) {
		rk_store_close(st, NULL);
		return NULL;
	}
	st->db = st->d.h;
	if (sqlite3_create_function(st->db, "rk_record_ok", 1, SQLITE_UTF8 |
	    SQLITE_DETERMINISTIC, NULL, record_ok_fn, NULL, NULL) !=
	    SQLITE_OK) {
		rk_db_fail(&st->d, e, RK_EXIT_INTERNAL, "rk_record_ok");
		rk_store_close(st, NULL);
		return NULL;
	}
	if (rk_db_exec(&st->d, sync, e) != 0 ||
	    rk_db_migrate(&st->d, migrations, RK_STORE_SCHEMA, e) != 0) {
		rk_store_close(st, NULL);
		return NULL;
	}
	return st;
}

int
rk_store_close(struct rk_store *st, struct rk_error *e)
{
	int rc = 0;

	if (st == NULL)
		return 0;
	sqlite3_finalize(st->begin);
	sqlite3_finalize(st->commit);
	sqlite3_finalize(st->rollback);
	sqlite3_finalize(st->deltext);
	sqlite3_finalize(st->insert);
	sqlite3_finalize(st->addtext);
	if (st->d.path != NULL)
		rc = rk_db_close(&st->d, e);
	free(st->path);
	free(st);
	return rc;
}

/* --- writing --------------------------------------------------------- */

static void
bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v != NULL)
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}

static void
bind_real(sqlite3_stmt *s, int i, double v)
{
	if (isnan(v))
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_double(s, i, v);
}

/* the batch and the item of a run of a batch: strings, or a whole number */
static void
bind_batch(sqlite3_stmt *s, int i, const json_t *rec, char item[32])
{
	const json_t *v = json_object_get(rec, "item");

	bind_text(s, i, rk_get_string(rec, "batch"));
	if (json_is_string(v))
		sqlite3_bind_text(s, i + 1, json_string_value(v), -1,
		    SQLITE_STATIC);
	else if (json_is_integer(v)) {
		snprintf(item, 32, "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		sqlite3_bind_text(s, i + 1, item, -1, SQLITE_STATIC);
	} else
		sqlite3_bind_null(s, i + 1);
}

static void
bind_run(sqlite3_stmt *s, const struct rk_run *run, const char *json,
    size_t len)
{
	bind_text(s, 1, run->id);
	bind_text(s, 2, run->created);
	bind_text(s, 3, run->query);
	bind_text(s, 4, run->profile);
	bind_text(s, 5, run->protocols);
	bind_text(s, 6, run->status);
	bind_real(s, 7, run->confidence);
	if (run->pass < 0)
		sqlite3_bind_null(s, 8);
	else
		sqlite3_bind_int(s, 8, run->pass);
	bind_real(s, 9, run->min_confidence);
	sqlite3_bind_int64(s, 10, run->tokens_in);
	sqlite3_bind_int64(s, 11, run->tokens_out);
	sqlite3_bind_int(s, 12, run->estimated);
	sqlite3_bind_double(s, 13, run->llm_ms);
	sqlite3_bind_double(s, 14, run->other_ms);
	sqlite3_bind_int64(s, 15, run->steps);
	sqlite3_bind_text(s, 16, json, len, SQLITE_STATIC);
}

static int
prepare_put(struct rk_store *st, struct rk_error *e)
{
	struct rk_db *d = &st->d;

	return rk_db_prepare(d, &st->begin, "BEGIN IMMEDIATE", e) ||
	    rk_db_prepare(d, &st->commit, "COMMIT", e) ||
	    rk_db_prepare(d, &st->rollback, "ROLLBACK", e) ||
	    rk_db_prepare(d, &st->deltext, "DELETE FROM runs_text WHERE rowid"
	    " = (SELECT rowid FROM runs WHERE id = ?)", e) ||
	    rk_db_prepare(d, &st->insert, "INSERT OR REPLACE INTO runs ("
	    COLUMNS ", stored) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
	    " ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)", e) ||
	    rk_db_prepare(d, &st->addtext, "INSERT INTO runs_text (rowid,"
	    " text) VALUES (last_insert_rowid(), ?)", e);
}

/* append the strings of v to the text, as SEARCH_TEXT_SQL picks them */
static void
add_strings(char **text, size_t *len, const json_t *v, const char *key)
{
	static const char *const skip[] = { "protocol", "step", "model",
	    "type" };
	const json_t *item;
	size_t i, n;

	if (json_is_string(v)) {
		for (i = 0; key != NULL && i < sizeof(skip) / sizeof(*skip);
		    i++)
			if (strcmp(key, skip[i]) == 0)
				return;
		n = json_string_length(v);
		*text = rk_xrealloc(*text, *len + n + 2);
		if (*len > 0)
			(*text)[(*len)++] = ' ';
		memcpy(*text + *len, json_string_value(v), n);
		*len += n;
		(*text)[*len] = '\0';
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, item)
			add_strings(text, len, item, NULL);
	} else if (json_is_object(v)) {
		json_object_foreach((json_t *)v, key, item)
			add_strings(text, len, item, key);
	}
}

/* the text search finds a run by, in a new string */
static char *
search_text(const json_t *rec)
{
	const json_t *result = json_object_get(rec, "result");
	char *text = rk_xstrdup("");
	size_t len = 0;

	add_strings(&text, &len, json_object_get(rec, "query"), NULL);
	add_strings(&text, &len, json_object_get(rec, "steps"), NULL);
	if (json_is_object(result))
		add_strings(&text, &len, result, NULL);
	return text;
}

/*
 * The run replaces a stored run of the same id, and its search text the
 * text of that run.
 */
int
rk_store_put(struct rk_store *st, const json_t *rec, const char *json,
    size_t len)
{
	struct rk_run run;
	char stored[25], item[32];
	int rc = -1;

	if (st->db == NULL)
		return -1;
	if (prepare_put(st, &st->e) != 0)
		return -1;
	rk_run_summary(rec, &run);
	if (run.id == NULL) {
		rk_error_set(&st->e, RK_EXIT_INPUT, "%s: record without an "
		    "id not stored", st->path);
		goto out;
	}
	rk_format_time(now_ms(), stored);
	bind_run(st->insert, &run, json, len);
	bind_batch(st->insert, 17, rec, item);
	bind_text(st->insert, 19, stored);
	bind_text(st->deltext, 1, run.id);
	sqlite3_bind_text(st->addtext, 1, search_text(rec), -1, free);
	if (rk_db_done(&st->d, st->begin, &st->e) != 0) {
		rk_error_set(&st->e, RK_EXIT_IO, "%s: %s: cannot lock to "
		    "store: %s", st->path, run.id, sqlite3_errmsg(st->db));
		goto out;
	}
	if (rk_db_done(&st->d, st->deltext, &st->e) != 0 ||
	    rk_db_done(&st->d, st->insert, &st->e) != 0 ||
	    rk_db_done(&st->d, st->addtext, &st->e) != 0 ||
	    rk_db_done(&st->d, st->commit, &st->e) != 0) {
		rk_error_set(&st->e, RK_EXIT_IO, "%s: %s: cannot store: %s",
		    st->path, run.id, sqlite3_errmsg(st->db));
		rk_db_done(&st->d, st->rollback, NULL);
		goto out;
	}
	rc = 0;
out:
	sqlite3_clear_bindings(st->insert);
	sqlite3_clear_bindings(st->addtext);
	rk_run_clear(&run);
	return rc;
}

/* --- reading --------------------------------------------------------- */

static const char *
col_text(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

static double
col_real(sqlite3_stmt *s, int i)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL ? NAN :
	    sqlite3_column_double(s, i);
}

/* step s, calling fn with each row; -1 on error, else 0 */
static int
each_row(struct rk_store *st, sqlite3_stmt *s, rk_run_fn *fn, void *arg)
{
	struct rk_run run;
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&run, 0, sizeof(run));
		run.id = col_text(s, 0);
		strlcpy(run.created, col_text(s, 1) ? col_text(s, 1) : "",
		    sizeof(run.created));
		run.query = col_text(s, 2);
		run.profile = col_text(s, 3);
		run.protocols = col_text(s, 4);
		run.status = col_text(s, 5);
		run.confidence = col_real(s, 6);
		run.pass = sqlite3_column_type(s, 7) == SQLITE_NULL ? -1 :
		    sqlite3_column_int(s, 7) != 0;
		run.min_confidence = col_real(s, 8);
		run.tokens_in = sqlite3_column_int64(s, 9);
		run.tokens_out = sqlite3_column_int64(s, 10);
		run.estimated = sqlite3_column_int(s, 11);
		run.llm_ms = sqlite3_column_double(s, 12);
		run.other_ms = sqlite3_column_double(s, 13);
		run.steps = sqlite3_column_int64(s, 14);
		run.batch = col_text(s, 16);
		run.item = col_text(s, 17);
		if (fn(&run, col_text(s, 15), sqlite3_column_bytes(s, 15),
		    arg) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(st, "cannot read");
	return 0;
}

/* words as an FTS5 query: each one a string, so that all must be there */
static char *
fts_query(const char *words)
{
	char *q = rk_xmalloc(strlen(words) * 3 + 1), *o = q;
	const char *p = words;

	while (*p != '\0') {
		p += strspn(p, " \t\n");
		if (*p == '\0')
			break;
		if (o > q)
			*o++ = ' ';
		*o++ = '"';
		for (; *p != '\0' && strchr(" \t\n", *p) == NULL; p++) {
			if (*p == '"')
				*o++ = '"';
			*o++ = *p;
		}
		*o++ = '"';
	}
	*o = '\0';
	return q;
}

int
rk_store_each(struct rk_store *st, const struct rk_filter *f,
    int oldest_first, rk_run_fn *fn, void *arg)
{
	sqlite3_stmt *s;
	char *sql, *match = NULL;
	int rc, n = 0;

	if (st->db == NULL)
		return 0;
	rk_asprintf(&sql, "SELECT * FROM (SELECT " COLUMNS " FROM runs"
	    " WHERE 1%s%s%s%s%s%s%s ORDER BY created DESC, id DESC LIMIT ?)"
	    " ORDER BY created %s, id %s",
	    f->protocol ? " AND instr(' ' || protocols || ' ',"
	    " ' ' || ? || ' ') > 0" : "",
	    f->profile ? " AND profile = ?" : "",
	    f->status ? " AND status = ?" : "",
	    f->batch ? " AND batch = ?" : "",
	    f->match ? " AND rowid IN (SELECT rowid FROM runs_text"
	    " WHERE runs_text MATCH ?)" : "",
	    f->since[0] ? " AND created >= ?" : "",
	    f->until[0] ? " AND created < ?" : "",
	    oldest_first ? "ASC" : "DESC", oldest_first ? "ASC" : "DESC");
	rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
	free(sql);
	if (rc != SQLITE_OK)
		return store_fail(st, "cannot query");
	if (f->protocol)
		sqlite3_bind_text(s, ++n, f->protocol, -1, SQLITE_STATIC);
	if (f->profile)
		sqlite3_bind_text(s, ++n, f->profile, -1, SQLITE_STATIC);
	if (f->status)
		sqlite3_bind_text(s, ++n, f->status, -1, SQLITE_STATIC);
	if (f->batch)
		sqlite3_bind_text(s, ++n, f->batch, -1, SQLITE_STATIC);
	if (f->match)
		sqlite3_bind_text(s, ++n, match = fts_query(f->match), -1,
		    free);
	if (f->since[0])
		sqlite3_bind_text(s, ++n, f->since, -1, SQLITE_STATIC);
	if (f->until[0])
		sqlite3_bind_text(s, ++n, f->until, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, ++n, f->limit > 0 ? f->limit : -1);
	rc = each_row(st, s, fn, arg);
	sqlite3_finalize(s);
	return rc;
}

/* sql prepared, its one parameter arg1; NULL after store_fail(what) */
static sqlite3_stmt *
prepare1(struct rk_store *st, const char *sql, const char *arg1,
    const char *what)
{
	sqlite3_stmt *s;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		store_fail(st, what);
		return NULL;
	}
	sqlite3_bind_text(s, 1, arg1, -1, SQLITE_STATIC);
	return s;
}

/* call fn for each row of sql, whose one parameter is arg1 */
static int
each_of(struct rk_store *st, const char *sql, const char *arg1,
    rk_run_fn *fn, void *arg)
{
	sqlite3_stmt *s;
	int rc;

	if (st->db == NULL)
		return 0;
	if ((s = prepare1(st, sql, arg1, "cannot query")) == NULL)
		return -1;
	rc = each_row(st, s, fn, arg);
	sqlite3_finalize(s);
	return rc;
}

int
rk_store_get(struct rk_store *st, const char *id, rk_run_fn *fn, void *arg)
{
	return each_of(st, "SELECT " COLUMNS " FROM runs WHERE id = ?", id,
	    fn, arg);
}

/* ids whose first characters are pattern (a GLOB), up to three */
static int
match_ids(struct rk_store *st, const char *pattern, char *ids[3])
{
	sqlite3_stmt *s;
	int n = 0, rc;

	if ((s = prepare1(st, "SELECT id FROM runs WHERE id GLOB ?"
	    " ORDER BY id LIMIT 3", pattern, "cannot query")) == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		ids[n++] = rk_xstrdup(col_text(s, 0));
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		while (n > 0)
			free(ids[--n]);
		return store_fail(st, "cannot query");
	}
	return n;
}

/* prefix as a GLOB pattern matching ids that start with it */
static char *
prefix_glob(const char *prefix, int upper)
{
	char *g = rk_xmalloc(strlen(prefix) * 3 + 2), *q = g;
	const char *p;

	for (p = prefix; *p != '\0'; p++) {
		char c = upper && *p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p;

		if (c == '*' || c == '?' || c == '[') {
			*q++ = '[';
			*q++ = c;
			*q++ = ']';
		} else
			*q++ = c;
	}
	*q++ = '*';
	*q = '\0';
	return g;
}

char *
rk_store_find(struct rk_store *st, const char *prefix, int *ambiguous)
{
	char *ids[3], *glob, *id = NULL;
	int n = 0, i;

	*ambiguous = 0;
	if (*prefix == '\0') {
		rk_error_set(&st->e, RK_EXIT_USAGE, "empty run id");
		return NULL;
	}
	if (st->db == NULL) {
		rk_error_set(&st->e, RK_EXIT_USAGE, "%s: no such run", prefix);
		return NULL;
	}
	/* an exact id wins over the ids it is a prefix of */
	for (i = 0; i < 2 && n == 0; i++) {
		glob = prefix_glob(prefix, i);
		n = match_ids(st, glob, ids);
		free(glob);
	}
	if (n < 0)
		return NULL;
	for (i = 0; i < n && id == NULL; i++)
		if (strcmp(ids[i], prefix) == 0)
			id = rk_xstrdup(ids[i]);
	if (id == NULL && n == 1)
		id = rk_xstrdup(ids[0]);
	else if (id == NULL && n == 0)
		rk_error_set(&st->e, RK_EXIT_USAGE, "%s: no such run", prefix);
	else if (id == NULL) {
		*ambiguous = 1;
		rk_error_set(&st->e, RK_EXIT_USAGE, "%s: ambiguous run id "
		    "prefix: %s, %s%s", prefix, ids[0], ids[1],
		    n > 2 ? " and more" : "");
	}
	for (i = 0; i < n; i++)
		free(ids[i]);
	return id;
}

static long
delete_where(struct rk_store *st, const char *sql, const char *arg)
{
	sqlite3_stmt *s;
	int rc;

	if (st->db == NULL)
		return 0;
	if ((s = prepare1(st, sql, arg, "cannot delete")) == NULL)
		return -1;
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return store_fail(st, "cannot delete");
	return sqlite3_changes(st->db);
}

int
rk_store_rm(struct rk_store *st, const char *id)
{
	return delete_where(st, "DELETE FROM runs WHERE id = ?", id) < 0 ?
	    -1 : 0;
}

long
rk_store_prune(struct rk_store *st, const char *before)
{
	return delete_where(st, "DELETE FROM runs WHERE created < ?", before);
}

/* --- merging and batches ------------------------------------------- */

/* *n: the rows of sql, each id passed to fn unless it is NULL */
static int
merge_count(struct rk_store *st, const char *sql, long *n, rk_merge_fn *fn,
    int damaged, const char *path, void *arg)
{
	sqlite3_stmt *s;
	int rc;

	*n = 0;
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		(*n)++;
		if (fn != NULL)
			fn(path, col_text(s, 0), damaged, arg);
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* 0, -1 after an SQLite error, -2 with the reason in st->e */
static int
merge_attached(struct rk_store *st, const char *path, struct rk_merge *m,
    rk_merge_fn *fn, void *arg)
{
	long long version;
	char *sql;
	int rc;

	if (rk_db_int(&st->d, "PRAGMA src.user_version", &version, &st->e) !=
	    0)
		return -1;
	if (version != RK_STORE_SCHEMA) {
		rk_error_set(&st->e, RK_EXIT_IO, "%s: schema version %lld, "
		    "not %d: not merged", path, version, RK_STORE_SCHEMA);
		return -2;
	}
	if (merge_count(st, "SELECT s.id FROM src.runs s"
	    " WHERE NOT rk_record_ok(s.record) ORDER BY s.id", &m->damaged,
	    fn, 1, path, arg) == -1 ||
	    merge_count(st, "SELECT s.id FROM src.runs s JOIN main.runs m"
	    " USING (id) WHERE s.record IS NOT m.record"
	    " AND rk_record_ok(s.record) ORDER BY s.id",
	    &m->conflicts, fn, 0, path, arg) == -1 ||
	    merge_count(st, "SELECT s.id FROM src.runs s JOIN main.runs m"
	    " USING (id) WHERE s.record IS m.record", &m->present, NULL, 0,
	    path, arg) == -1 ||
	    sqlite3_exec(st->db, "INSERT INTO main.runs (" COLUMNS ", stored)"
	    " SELECT " COLUMNS ", stored FROM src.runs s WHERE NOT EXISTS"
	    " (SELECT 1 FROM main.runs m WHERE m.id = s.id)"
	    " AND rk_record_ok(s.record)"
	    " ORDER BY created, id", NULL, NULL, NULL) != SQLITE_OK)
		return -1;
	m->added = sqlite3_changes(st->db);
	/* the search text of the new rows, the rowids past all others */
	rk_asprintf(&sql, "INSERT INTO main.runs_text (rowid, text)"
	    " SELECT m.rowid, t.text FROM main.runs m JOIN src.runs s"
	    " USING (id) JOIN src.runs_text t ON t.rowid = s.rowid"
	    " WHERE m.rowid > (SELECT max(rowid) FROM main.runs) - %ld",
	    m->added);
	rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);
	free(sql);
	return rc == SQLITE_OK ? 0 : -1;
}

int
rk_store_merge(struct rk_store *st, const char *path, struct rk_merge *m,
    rk_merge_fn *fn, void *arg)
{
	sqlite3_stmt *s = NULL;
	struct stat sb;
	int rc = -1;

	memset(m, 0, sizeof(*m));
	/* ATTACH would create a missing file */
	if (stat(path, &sb) == -1) {
		rk_error_set(&st->e, RK_EXIT_IO, "%s: %s", path,
		    strerror(errno));
		return -1;
	}
	if ((s = prepare1(st, "ATTACH ? AS src", path, "cannot merge")) ==
	    NULL)
		return -1;
	if (rk_db_done(&st->d, s, &st->e) != 0) {
		rk_error_set(&st->e, RK_EXIT_IO, "%s: cannot open: %s", path,
		    sqlite3_errmsg(st->db));
		sqlite3_finalize(s);
		return -1;
	}
	sqlite3_finalize(s);
	if (rk_db_exec(&st->d, "BEGIN IMMEDIATE", &st->e) != 0)
		rc = -1;	/* st->e says why */
	else if ((rc = merge_attached(st, path, m, fn, arg)) == -1)
		rk_error_set(&st->e, RK_EXIT_IO, "%s: cannot merge: %s", path,
		    sqlite3_errmsg(st->db));
	else if (rc == 0 && rk_db_exec(&st->d, "COMMIT", &st->e) != 0)
		rc = -1;
	if (rc != 0)
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_exec(st->db, "DETACH src", NULL, NULL, NULL);
	return rc == 0 ? 0 : -1;
}

int
rk_store_done(struct rk_store *st, const char *batch, rk_run_fn *fn,
    void *arg)
{
	return each_of(st, "SELECT DISTINCT NULL, '', query, NULL, NULL,"
	    " NULL, NULL, NULL, NULL, 0, 0, 0, 0, 0, 0, NULL, batch, item"
	    " FROM runs WHERE batch = ? AND status = 'completed'"
	    " ORDER BY item, query", batch, fn, arg);
}
