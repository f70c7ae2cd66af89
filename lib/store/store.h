/*
 * store.c: runs kept in SQLite, and the summary of a run that both the
 * store's index columns and the text report are made from.  Functions that
 * return an int return 0 on success and -1 on failure, unless they say
 * otherwise; rk_store_error() then says what failed ("path: what: why"),
 * and nothing is written to standard error.
 */
#ifndef RK_STORE_H
#define RK_STORE_H

#include <jansson.h>

#define RK_STORE_SCHEMA 2	/* PRAGMA user_version this code writes */

/*
 * What the index columns hold, derived from a record (borrowed strings
 * point into the record or the database row and live as long as it).
 */
struct rk_run {
	const char	*id;
	char		 created[25];	/* 2026-11-28T18:57:01.123Z */
	const char	*query;
	const char	*profile;	/* or else the single protocol */
	const char	*protocols;	/* that ran, space-separated */
	const char	*status;	/* completed, failed, incomplete */
	double		 confidence;	/* NAN when there is none */
	int		 pass;		/* 1, 0, -1 without a result */
	double		 min_confidence;	/* NAN when unknown */
	long long	 tokens_in, tokens_out;
	int		 estimated;	/* 0 no, 1 some, 2 all steps */
	double		 llm_ms, other_ms;
	long		 steps;
	const char	*batch;		/* NULL outside a batch */
	const char	*item;		/* the question's id in its batch */
	char		*own;		/* rk_run_clear() frees it */
};

struct rk_filter {
	const char	*protocol;	/* a protocol the run ran */
	const char	*profile;
	const char	*status;
	const char	*batch;
	const char	*match;		/* words the run's text holds */
	char		 since[25];	/* "" or created >= since */
	char		 until[25];	/* "" or created < until */
	long		 limit;		/* 0 all, else the newest */
};

struct rk_store;

/* summary of a record; free with rk_run_clear() */
void	 rk_run_summary(const json_t *rec, struct rk_run *);
void	 rk_run_clear(struct rk_run *);
int	 rk_status_valid(const char *);
void	 rk_list_add(char **list, size_t *len, const char *sep,
	    const char *item);

/* DATE, ISO-8601 time or 30d/12h/15m/45s/2w ago, to the created format */
int	 rk_parse_date(const char *, char out[25]);
void	 rk_format_time(long long ms, char out[25]);

/*
 * Open (create when create is set) the store at path, migrating its schema.
 * A store that does not exist and is not to be created opens as empty.
 * NULL with the error in *e when it cannot be opened.
 */
struct rk_store *rk_store_open(const char *path, int create,
	    struct rk_error *);
int	 rk_store_close(struct rk_store *, struct rk_error *);
const char *rk_store_error(const struct rk_store *);	/* the last failure */

/* store one record whose serialized form is json (len bytes) */
int	 rk_store_put(struct rk_store *, const json_t *rec, const char *json,
	    size_t len);

/*
 * Call fn for each run matching the filter, newest first or oldest first;
 * row is the summary, json the stored record.  Stops early if fn returns
 * non-zero.
 */
typedef int rk_run_fn(const struct rk_run *row, const char *json, size_t len,
    void *arg);
int	 rk_store_each(struct rk_store *st, const struct rk_filter *f,
	    int oldest_first, rk_run_fn *fn, void *arg);

/*
 * The id of the one run whose id is or starts with prefix, in a new string;
 * NULL when none or several match (*ambiguous is set then), or the store
 * fails.
 */
char	*rk_store_find(struct rk_store *, const char *prefix,
	    int *ambiguous);
int	 rk_store_get(struct rk_store *, const char *id, rk_run_fn *,
	    void *);
int	 rk_store_rm(struct rk_store *, const char *id);
long	 rk_store_prune(struct rk_store *, const char *before);

/*
 * Fold the runs of the store at path into st, in one transaction: runs st
 * lacks are added as they are, runs st holds with the same record are
 * counted as present, runs st holds with another record are conflicts,
 * each passed to fn (damaged 0) and left as st has them; damaged records
 * (see rk_store_record_ok) are passed to fn (damaged 1) and left out.  A
 * store of another schema version is refused.
 */
struct rk_merge {
	long	added, present, conflicts;
	long	damaged;	/* not JSON objects on one line: left out */
};
/* stored text is a record as rk_write() wrote it: one line, a JSON object */
int	 rk_store_record_ok(const char *json, size_t len);
typedef void rk_merge_fn(const char *path, const char *id, int damaged,
    void *arg);
int	 rk_store_merge(struct rk_store *st, const char *path,
	    struct rk_merge *, rk_merge_fn *fn, void *arg);

/*
 * Call fn for each distinct (item, query) of the batch that has a completed
 * run: what a batch that is run again need not ask again.
 */
int	 rk_store_done(struct rk_store *, const char *batch, rk_run_fn *fn,
	    void *arg);

#endif
