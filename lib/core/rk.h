/*
 * librk: what the rk-* filters share.  One header, grouped by the file that
 * implements each part.  Functions that return json_t * return a new
 * reference unless they say "borrowed".
 */
#ifndef RK_H
#define RK_H

#include <getopt.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

/*
 * Exit statuses, the same for every tool (and listed in every man page).
 * When several apply, a tool exits with the highest.
 */
enum {
	RK_EXIT_OK = 0,		/* all records done, none carries an error */
	RK_EXIT_FAILED = 1,	/* a record carries an error (stored/passed) */
	RK_EXIT_USAGE = 2,	/* bad command line */
	RK_EXIT_INPUT = 3,	/* malformed input: JSON, UTF-8, over a limit */
	RK_EXIT_CONFIG = 4,	/* bad protocol/profile/provider config */
	RK_EXIT_IO = 5,		/* cannot read, write or store */
	RK_EXIT_PROVIDER = 6,	/* the model provider failed a request */
	RK_EXIT_INTERNAL = 7	/* out of memory or a bug */
};

/*
 * The error convention.  Library code reports and never exits: a function
 * that can fail returns 0 or one of the RK_EXIT_* codes above (or NULL or
 * -1 where its comment says so) and, when its caller passes a struct
 * rk_error, writes the code and a message there.  Callers branch on the
 * code, never on the wording of the message.  Only main() and the code in
 * cmd/ decide the exit status, through rk_exit_status(), which keeps the
 * highest and may be called from any thread.  The one exception is running
 * out of memory: the rk_x* allocators exit with RK_EXIT_INTERNAL.  Nor
 * does library code write to standard error, but where saying so is its
 * documented job: the record reader and writer name a bad line or a
 * replaced record (and count it); what a long run reports as it goes
 * (rk-llm's retries, say) is handed to a function of its caller.
 */
struct rk_error {
	int	code;		/* RK_EXIT_*, 0 for none */
	char	msg[512];	/* "subject: what is wrong", no final newline */
};

int	 rk_error_set(struct rk_error *, int code, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));	/* returns code */

#define RK_RECORD_VERSION 1

/* util.c */

extern const char *rk_progname;

int	 rk_init(const char *progname, struct rk_error *);
void	 rk_exit_status(int status);	/* remember the highest */
int	 rk_finish(void);		/* check stdout, return the status */
void	 rk_version(void);		/* prints it */
void	*rk_xmalloc(size_t);
void	*rk_xrealloc(void *, size_t);
char	*rk_xstrdup(const char *);
char	*rk_xstrndup(const char *, size_t);
void	*rk_xcalloc(size_t, size_t);
int	 rk_asprintf(char **, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	 rk_vasprintf(char **, const char *, va_list)
	    __attribute__((format(printf, 2, 0)));
double	 rk_now_ms(void);		/* monotonic milliseconds */
double	 rk_round(double, int digits);
void	 rk_sort_doubles(double *, size_t);	/* ascending, with qsort */
void	 rk_ulid(char out[27]);		/* sortable unique id */
int	 rk_parse_size(const char *, size_t *);
int	 rk_parse_uint(const char *, long max, long *);
int	 rk_parse_double(const char *, double *);
/* "1.5" (seconds), "250ms", "30s", "5m", "1h", "1d" -> milliseconds */
int	 rk_parse_duration(const char *, double *ms);
const char *rk_getenv(const char *);	/* NULL when unset or empty */
const char *rk_getenv_or(const char *, const char *fallback);
int	 rk_utf8_valid(const char *, size_t);
size_t	 rk_utf8_prefix(const char *, size_t);
size_t	 rk_json_plain(const char *, size_t);
size_t	 rk_utf8_char(const char *, size_t);
int	 rk_mkdirs(const char *dir);	/* mkdir -p, 0700 for new dirs */
char	*rk_xdg_path(const char *kind, const char *file);
char	*rk_exe_dir(void);
char	*rk_join_args(int argc, char *argv[]);

/*
 * opt.c: the command line.  A tool's options are a table, ended by
 * RK_OPTS_END, from which rk_getopt() parses and rk_help() prints; main
 * hands rk_opt() the options that are not its own, and rk_opt_done() any
 * action other than RK_OPT_NEXT, returning with its status.
 */

enum {
	RK_OPT_PERF = 256,	/* --performance-mode */
	RK_OPT_TAG,		/* --tag: the TREC run tag */
	RK_OPT_BYDOC,		/* --by-doc: one hit a document */
	RK_OPT_BYTES,		/* --context-bytes: most hit text a record */
	RK_OPT_OWN = 300	/* a tool's own long options from here */
};

enum { RK_OPT_NEXT, RK_OPT_HELP, RK_OPT_VERSION, RK_OPT_USAGE };

#define RK_OPT_MAX	48	/* long options a tool may have */

struct rk_optdef {
	int	 ch;		/* the letter, or an RK_OPT_* above 255 */
	const char *name;	/* the long option, or NULL */
	int	 has_arg;	/* no_, required_ or optional_argument */
	const char *arg;	/* the argument's name in the help */
	const char *help;	/* one line */
};

#define RK_OPTS_END	{ 0, NULL, 0, NULL, NULL }
#define RK_OPTS_PERF	{ RK_OPT_PERF, "performance-mode", no_argument, NULL, \
			    "compact prompts, no optional steps" }
#define RK_OPTS_HELP \
	{ 'h', "help", no_argument, NULL, "print this help and exit" }, \
	{ 'V', "version", no_argument, NULL, "print the version and exit" }

struct rk_cli {
	const char *usage;	/* "usage: ...\n", the SYNOPSIS */
	const struct rk_optdef *defs;
	int	 posix;		/* the options end at the first operand */
	const char *const *formats;	/* what -f takes, NULL-ended */
	/* the shared options, as rk_opt() found them */
	int	 perf;		/* --performance-mode */
	const char *profile;	/* -p profile */
	int	 records;	/* -r: records in and out */
	int	 format;	/* -f: an index in formats */
	int	 format_set;	/* -f given */
	const char *tag;	/* --tag */
	long	 hits;		/* -k n */
	long	 hits_max;	/* the most -k takes */
	int	 by_doc;	/* --by-doc */
	size_t	 context_bytes;	/* --context-bytes */
	struct rk_error err;	/* why RK_OPT_USAGE, when code is set */
	/* made from defs by the first rk_getopt() */
	int	 built;
	char	 shortopts[3 * 62 + 2];	/* '+', each letter, "::" */
	struct option longopts[RK_OPT_MAX + 1];
};

int	 rk_getopt(struct rk_cli *, int argc, char *argv[]);
int	 rk_opt(struct rk_cli *, int ch, const char *arg);
int	 rk_opt_done(struct rk_cli *, int action);
int	 rk_getopt_all(struct rk_cli *, int argc, char *argv[],
	    int (*own)(void *, int, const char *), void *);
void	 rk_help(FILE *, const struct rk_cli *);

/* chain.c: a pipeline of processes fed and read by its caller */

#include <sys/types.h>

struct rk_chain {
	int	 in, out;	/* to the first stage, from the last */
	pid_t	*pids;
	size_t	 npids;
};

int	 rk_chain_start(struct rk_chain *, char **const argvs[], size_t n,
	    struct rk_error *);
int	 rk_chain_wait(struct rk_chain *);

/* hset.c: a set of 64-bit hashes (never 0), open addressing */

struct rk_hset {
	uint64_t	*v;
	size_t		 n, cap;
};

uint64_t rk_hash2(const char *, const char *);	/* FNV-1a of a, NUL, b */
int	 rk_hset_add(struct rk_hset *, uint64_t);	/* 1 if there already */
int	 rk_hset_has(const struct rk_hset *, uint64_t);
void	 rk_hset_free(struct rk_hset *);

/* limits.c: every bound on outside data, each configurable */

struct rk_limits {
	size_t	record;		/* one NDJSON line / stored trace */
	size_t	response;	/* one model reply */
	size_t	document;	/* one document to index */
	long	concurrency;	/* requests in flight */
};

extern struct rk_limits rk_limits;

int	 rk_limits_load(struct rk_error *);

/* record.c: NDJSON records */

struct rk_reader;

#define RK_STDIN	"stdin"		/* standard input's name in messages */

/*
 * A reader never holds more of a line than its limit (the record limit
 * unless rk_reader_text_limit() raised it for lines not starting with
 * '{'): the rest of a longer line is read and dropped, and the line comes
 * back as an error.  A name of NULL is RK_STDIN.  After the last read,
 * rk_reader_status() says what main should make of the input: RK_EXIT_IO
 * if a read failed (said on stderr; the input then ends), RK_EXIT_INPUT
 * if some line became an error record, or 0.
 */
struct rk_reader *rk_reader_new(FILE *, const char *name);
struct rk_reader *rk_reader_fd(int fd, const char *name);
struct rk_reader *rk_reader_open(const char *path);
void	 rk_reader_text_limit(struct rk_reader *, size_t max, const char *var);
void	 rk_reader_free(struct rk_reader *);
int	 rk_reader_status(const struct rk_reader *);
int	 rk_reader_ready(const struct rk_reader *);	/* read won't wait */
json_t	*rk_read(struct rk_reader *);
int	 rk_filter_stdin(void (*)(json_t *, void *), void *);
const char *rk_read_raw(struct rk_reader *, size_t *len, int *is_object);
int	 rk_read_line(struct rk_reader *, const char **line, size_t *len,
	    struct rk_error *);
json_t	*rk_reader_record(struct rk_reader *);
void	 rk_reader_warn(struct rk_reader *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	 rk_reader_verbatim(const struct rk_reader *);
size_t	 rk_reader_bad(const struct rk_reader *);
size_t	 rk_reader_lineno(const struct rk_reader *);
json_t	*rk_record_new(const char *query);
json_t	*rk_record_parse(const char *, size_t, int *verbatim, char *msg,
	    size_t msgsize);
int	 rk_write(FILE *, json_t *rec);
int	 rk_write_member(FILE *, json_t *rec, const char *key,
	    const char *raw, size_t len);
void	 rk_note_written(int status);	/* a record not written by rk_write */
int	 rk_written_status(void);
int	 rk_write_line(FILE *, const char *, size_t);	/* + \n, one write */
void	 rk_set_error(json_t *rec, const char *stage, const char *code,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void	 rk_record_error(json_t *rec, int status, const char *code,
	    const char *msg);
int	 rk_has_error(const json_t *rec);
int	 rk_error_status(const json_t *rec);
const char *rk_get_string(const json_t *obj, const char *key);
double	 rk_get_number(const json_t *obj, const char *key, double dflt);
json_t	*rk_steps(json_t *rec);		/* borrowed, created if absent */

/*
 * JSON text validated as strictly as jansson parses it (jvalid.c), and
 * records handled "lightly": only the members a stage needs are parsed,
 * the rest of the line is copied through as it came (light.c).
 */

struct rk_jspan {
	const char	*key;		/* a member's, between the quotes, still
					   escaped; NULL for an element */
	size_t		 keylen;
	size_t		 start;		/* the member's first byte (its key) */
	size_t		 vstart, vend;	/* its value: [vstart, vend) */
	size_t		 depth;		/* 1 in the top value, 2 below, ... */
};

/* Spans noted by rk_json_scan(): set v (an array of cap), depth. */
struct rk_jspans {
	struct rk_jspan	*v;		/* in the order their values begin */
	size_t		 n, cap;
	size_t		 depth;		/* noted down to this depth */
	struct rk_jspan	*own;		/* the caller's array */
};

int	 rk_json_valid(const char *, size_t);
int	 rk_json_scan(const char *, size_t, struct rk_jspans *);
json_t	*rk_json_build(const char *, size_t);
void	 rk_jspans_free(struct rk_jspans *);

#define RK_LIGHT_MEMBERS 128	/* members of a record taken lightly */

struct rk_light {
	const char	*line;
	size_t		 len;
	struct rk_jspan	 m[RK_LIGHT_MEMBERS];
	size_t		 n;
	json_t		*rec;		/* the parsed members */
	json_t		*before;	/* their values as they came */
	json_t		*more_steps;	/* to append to "steps", or NULL */
};

int	 rk_light_open(struct rk_light *, const char *line, size_t len,
	    const char **step_keys);
int	 rk_light_write(FILE *, struct rk_light *);
int	 rk_light_finish(FILE *, struct rk_light *, int pass);
void	 rk_light_close(struct rk_light *);

/*
 * db.c: SQLite databases opened and used one way (see db.c): files created
 * 0600 with their -wal and -shm, WAL with synchronous=NORMAL (or a
 * rollback journal with synchronous=FULL: see RK_DB_ROLLBACK), a busy
 * timeout, the WAL truncated once a commit leaves it past RK_DB_WAL_FRAMES,
 * errors as "path: what: SQLite's message".  Functions that return int
 * return 0 or an RK_EXIT_* code with the error in *e (e may be NULL).
 */

typedef struct sqlite3 sqlite3;
typedef struct sqlite3_stmt sqlite3_stmt;

#define RK_DB_WAL_FRAMES 256	/* about 1 MB of WAL */

enum {
	RK_DB_CREATE = 1,	/* create the file, 0600, if it is missing */
	RK_DB_READONLY = 2,	/* and no pragmas */
	RK_DB_ROLLBACK = 4,	/* a rollback journal: written rarely, read
				   by many processes that each run alone */
	RK_DB_LATER = 8		/* with RK_DB_ROLLBACK: its writers' pragmas
				   wait for rk_db_rollback() */
};

/* the WAL hook holds its address: it must not move while it is open */
struct rk_db {
	sqlite3		*h;
	char		*path;
	int		 busy_ms;
	int		 wal_limit;	/* checkpoint past this many frames */
	int		 wal_frames;	/* in the WAL after the last commit */
};

/* the files SQLite keeps beside a database: its name and these; NULL */
extern const char *const rk_db_side_files[];

int	 rk_db_open(struct rk_db *, const char *path, int flags, int busy_ms,
	    struct rk_error *);
int	 rk_db_rollback(struct rk_db *, struct rk_error *);
int	 rk_db_close(struct rk_db *, struct rk_error *);
int	 rk_db_exec(struct rk_db *, const char *sql, struct rk_error *);
int	 rk_db_prepare(struct rk_db *, sqlite3_stmt **, const char *sql,
	    struct rk_error *);		/* persistent; kept if *s is set */
int	 rk_db_done(struct rk_db *, sqlite3_stmt *, struct rk_error *);
int	 rk_db_int(struct rk_db *, const char *sql, long long *,
	    struct rk_error *);		/* first column of the first row */
int	 rk_db_migrate(struct rk_db *, const char *const *steps, int n,
	    struct rk_error *);
int	 rk_db_fail(struct rk_db *, struct rk_error *, int code,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int	 rk_db_private(const char *path);	/* create it 0600: 0 or -1 */

#endif
