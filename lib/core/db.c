/*
 * db.c: the one way the suite opens and uses an SQLite database.
 *
 * Files are created 0600 before SQLite opens them (SQLite gives the -wal
 * and -shm files the mode of the database), whatever the umask and the
 * directory: they hold prompts and replies.  Every database is in WAL mode
 * with synchronous=NORMAL, waits for other writers on a busy timeout, and
 * reports errors as "path: what: SQLite's message".
 *
 * A search index is the exception (RK_DB_ROLLBACK): written now and then,
 * read by many processes that each run alone.  The first connection to a
 * WAL file resets the -shm file and rebuilds the WAL index in it, which
 * took a fifth of a one-query process; with a rollback journal a reader
 * takes a lock and reads.  Its writers commit with synchronous=FULL.
 *
 * The WAL is checkpointed and truncated from the WAL hook once a commit
 * leaves it past RK_DB_WAL_FRAMES.  SQLite's own automatic checkpoint does
 * not keep it short when every process writes a little and exits: the
 * first process to open the database rebuilds the WAL index by reading the
 * whole WAL, forgets what had been checkpointed, and so the WAL is never
 * restarted and each open reads and copies all of it again.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/rk.h"

const char *const rk_db_side_files[] = { "-journal", "-wal", "-shm", NULL };

int
rk_db_fail(struct rk_db *db, struct rk_error *e, int code,
    const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return rk_error_set(e, code, "%s: %s: %s", db->path, what,
	    db->h != NULL ? sqlite3_errmsg(db->h) : "out of memory");
}

/*
 * Create path 0600 if it does not exist, before SQLite opens it; an
 * existing file is left as it is.  0, or -1 with errno set.
 */
int
rk_db_private(const char *path)
{
	int fd;

	if (strcmp(path, ":memory:") == 0 || *path == '\0')
		return 0;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) == -1)
		return -1;
	close(fd);
	return 0;
}

/*
 * Checkpoint and truncate the WAL without waiting for anyone.  A reader
 * or writer in the way makes it a partial checkpoint.
 */
static void
truncate_wal(struct rk_db *db, const char *name)
{
	sqlite3_busy_timeout(db->h, 0);
	if (sqlite3_wal_checkpoint_v2(db->h, name, SQLITE_CHECKPOINT_TRUNCATE,
	    NULL, NULL) == SQLITE_OK)
		db->wal_frames = 0;
	sqlite3_busy_timeout(db->h, db->busy_ms);
}

/* after each commit: past the bound; a later commit tries again */
static int
wal_hook(void *arg, sqlite3 *h, const char *name, int frames)
{
	struct rk_db *db = arg;

	(void)h;
	db->wal_frames = frames;
	if (frames >= db->wal_limit)
		truncate_wal(db, name);
	return SQLITE_OK;
}

/*
 * Run sql, retrying while the database is busy or locked: changing the
 * journal mode of a new file takes a lock the busy handler does not wait
 * for.  what says what failed, else the start of sql.
 */
static int
exec_retry(struct rk_db *db, const char *sql, const char *what,
    struct rk_error *e)
{
	double start = rk_now_ms();
	int rc;

	for (;;) {
		rc = sqlite3_exec(db->h, sql, NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			return 0;
		if (((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) !=
		    SQLITE_LOCKED) || rk_now_ms() - start > db->busy_ms)
			return what != NULL ?
			    rk_db_fail(db, e, RK_EXIT_IO, "%s", what) :
			    rk_db_fail(db, e, RK_EXIT_IO, "%.40s", sql);
		usleep(1000 + arc4random_uniform(4000));
	}
}

/*
 * A rollback journal.  A file in WAL mode (made by an older version)
 * changes only when no other process has it open, and one we may not
 * write never; until then it is used as it is, without waiting.
 */
static int
leave_wal(struct rk_db *db, struct rk_error *e)
{
	int rc;

	if (sqlite3_db_readonly(db->h, "main") == 1)
		return 0;
	sqlite3_busy_timeout(db->h, 0);
	rc = sqlite3_exec(db->h, "PRAGMA journal_mode = DELETE", NULL, NULL,
	    NULL);
	sqlite3_busy_timeout(db->h, db->busy_ms);
	if (rc == SQLITE_OK || (rc & 0xff) == SQLITE_BUSY ||
	    (rc & 0xff) == SQLITE_LOCKED)
		return 0;
	return rk_db_fail(db, e, RK_EXIT_IO, "cannot open");
}

/*
 * A rollback journal is safe from power loss only when synchronous=FULL.
 * A big transaction keeps its pages in memory instead of spilling them
 * into the file, which would lock readers out until the commit.  Neither
 * matters to a reader (RK_DB_LATER: only a file in WAL mode is changed
 * at the open).
 */
int
rk_db_rollback(struct rk_db *db, struct rk_error *e)
{
	if (leave_wal(db, e) != 0 || exec_retry(db,
	    "PRAGMA synchronous = FULL", "cannot open", e) != 0 ||
	    exec_retry(db, "PRAGMA cache_spill = OFF", "cannot open", e) != 0)
		return RK_EXIT_IO;
	return 0;
}

/*
 * Before SQLite initializes itself (it refuses later): no page cache
 * set up ahead, 20 slots of 4 KB each of them a page fault, when a
 * mapped file needs none and a short-lived tool a few; no count of the
 * memory it uses, which nothing reads and which took a mutex at every
 * allocation (Debian's SQLite has no lookaside: every one is a malloc).
 */
static void
configure(void)
{
	sqlite3_config(SQLITE_CONFIG_PAGECACHE, NULL, 0, 0);
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int
rk_db_open(struct rk_db *db, const char *path, int flags, int busy_ms,
    struct rk_error *e)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	int oflags = SQLITE_OPEN_NOMUTEX;

	pthread_once(&once, configure);
	memset(db, 0, sizeof(*db));
	db->path = rk_xstrdup(path);
	db->busy_ms = busy_ms;
	db->wal_limit = RK_DB_WAL_FRAMES;
	if (flags & RK_DB_READONLY)
		oflags |= SQLITE_OPEN_READONLY;
	else
		oflags |= SQLITE_OPEN_READWRITE;
	if ((flags & RK_DB_CREATE) && rk_db_private(path) == -1)
		return rk_error_set(e, RK_EXIT_IO, "%s: cannot open: %s", path,
		    strerror(errno));
	if (sqlite3_open_v2(path, &db->h, oflags, NULL) != SQLITE_OK) {
		/* the system's reason, not "unable to open database file" */
		if (db->h != NULL && sqlite3_system_errno(db->h) != 0)
			return rk_error_set(e, RK_EXIT_IO, "%s: cannot open: "
			    "%s", path, strerror(sqlite3_system_errno(db->h)));
		return rk_db_fail(db, e, RK_EXIT_IO, "cannot open");
	}
	sqlite3_extended_result_codes(db->h, 1);
	sqlite3_busy_timeout(db->h, busy_ms);
	/* the WAL hook checkpoints; there is nothing left to do at close */
	sqlite3_db_config(db->h, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1,
	    (int *)NULL);
	sqlite3_wal_hook(db->h, wal_hook, db);
	if (flags & RK_DB_READONLY)
		return 0;
	if (flags & RK_DB_ROLLBACK)
		return flags & RK_DB_LATER ? leave_wal(db, e) :
		    rk_db_rollback(db, e);
	if (exec_retry(db, "PRAGMA journal_mode = WAL", "cannot open",
	    e) != 0 || exec_retry(db, "PRAGMA synchronous = NORMAL",
	    "cannot open", e) != 0)
		return RK_EXIT_IO;
	return 0;
}

int
rk_db_close(struct rk_db *db, struct rk_error *e)
{
	int rc = 0;

	if (db->h != NULL && sqlite3_close(db->h) != SQLITE_OK)
		rc = rk_db_fail(db, e, RK_EXIT_IO, "cannot close");
	db->h = NULL;
	free(db->path);
	db->path = NULL;
	return rc;
}

int
rk_db_exec(struct rk_db *db, const char *sql, struct rk_error *e)
{
	return exec_retry(db, sql, NULL, e);
}

int
rk_db_prepare(struct rk_db *db, sqlite3_stmt **s, const char *sql,
    struct rk_error *e)
{
	if (*s != NULL)
		return 0;
	if (sqlite3_prepare_v3(db->h, sql, -1, SQLITE_PREPARE_PERSISTENT, s,
	    NULL) != SQLITE_OK)
		return rk_db_fail(db, e, RK_EXIT_IO, "cannot prepare");
	return 0;
}

int
rk_db_done(struct rk_db *db, sqlite3_stmt *s, struct rk_error *e)
{
	int rc = sqlite3_step(s);

	/* the message belongs to the step, not to the reset */
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		rk_db_fail(db, e, RK_EXIT_IO, "%.40s", sqlite3_sql(s));
	sqlite3_reset(s);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : RK_EXIT_IO;
}

int
rk_db_int(struct rk_db *db, const char *sql, long long *v,
    struct rk_error *e)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(db->h, sql, -1, &s, NULL) != SQLITE_OK)
		return rk_db_fail(db, e, RK_EXIT_IO, "%.40s", sql);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		*v = sqlite3_column_int64(s, 0);
	else
		rk_db_fail(db, e, RK_EXIT_IO, "%.40s", sql);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : RK_EXIT_IO;
}

/*
 * Bring the schema from its PRAGMA user_version to n, running steps[i] to
 * go from version i to i + 1, all in one BEGIN IMMEDIATE transaction that
 * reads the version again once it holds the lock: any number of processes
 * may open a new database at once.  A newer schema is refused.
 */
int
rk_db_migrate(struct rk_db *db, const char *const *steps, int n,
    struct rk_error *e)
{
	long long version;
	char sql[64];
	int i;

	if (rk_db_int(db, "PRAGMA user_version", &version, e) != 0)
		return rk_db_fail(db, e, RK_EXIT_IO,
		    "cannot read the schema version");
	if (version == n)
		return 0;
	if (version > n || version < 0)
		return rk_error_set(e, RK_EXIT_IO, "%s: schema version %lld "
		    "is newer than this %s knows (%d)", db->path, version,
		    rk_progname, n);
	if (exec_retry(db, "BEGIN IMMEDIATE", "cannot lock to migrate", e) !=
	    0)
		return RK_EXIT_IO;
	if (rk_db_int(db, "PRAGMA user_version", &version, e) != 0)
		goto fail;
	for (i = version; i < n; i++)
		if (sqlite3_exec(db->h, steps[i], NULL, NULL, NULL) !=
		    SQLITE_OK) {
			rk_db_fail(db, e, RK_EXIT_IO, "cannot migrate the "
			    "schema to version %d", i + 1);
			goto fail;
		}
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", n);
	if (rk_db_exec(db, sql, e) != 0 || rk_db_exec(db, "COMMIT", e) != 0)
		goto fail;
	return 0;
fail:
	sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
	return RK_EXIT_IO;
}
