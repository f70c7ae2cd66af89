/*
 * NDJSON records: one JSON object per line.  A plain text line starts a new
 * record.  Input that cannot be a record (bad JSON, bad UTF-8, a line over
 * the record limit) becomes an error record in its place, so no line is
 * ever dropped without a trace.
 */
#include <sys/uio.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/rk.h"

struct rk_reader {
	FILE	*fp;
	int	 fd;
	int	 own_fd;	/* closed when the reader is freed */
	char	 in[65536];
	size_t	 ipos, ilen;
	char	*name;
	char	*buf;
	size_t	 cap;
	size_t	 lineno;
	size_t	 bad;
	int	 status;	/* RK_EXIT_IO once a read failed */
	size_t	 max;		/* the longest line kept */
	const char *maxvar;	/* the variable that sets it */
	size_t	 len, total;	/* of the last line: as kept, as it came */
	int	 verbatim;	/* the last record is that line, unchanged */
	int	 cut;		/* the last line was over the limit */
	int	 utf8;		/* the last line is valid UTF-8, -1 unknown */
};

struct rk_reader *
rk_reader_new(FILE *fp, const char *name)
{
	struct rk_reader *r = rk_xmalloc(sizeof(*r));

	r->fp = fp;
	r->fd = -1;
	r->own_fd = 0;
	r->ipos = r->ilen = 0;
	r->name = rk_xstrdup(name ? name : RK_STDIN);
	r->status = 0;
	r->max = rk_limits.record;
	r->maxvar = "RK_MAX_RECORD";
	r->cap = 4096;
	r->buf = rk_xmalloc(r->cap);
	r->lineno = 0;
	r->bad = 0;
	return r;
}

int
rk_reader_verbatim(const struct rk_reader *r)
{
	return r->verbatim;
}

/*
 * A reader that owns descriptor fd: blocks of read(2) scanned with memchr,
 * several times faster than stdio a byte at a time.  Nothing else may read
 * from fd, through stdio or otherwise.
 */
struct rk_reader *
rk_reader_fd(int fd, const char *name)
{
	struct rk_reader *r = rk_reader_new(NULL, name);

	r->fd = fd;
	return r;
}

/*
 * A reader of the file at path ("-" or NULL: standard input), closed when
 * the reader is freed; NULL with errno set if it cannot be opened.
 */
struct rk_reader *
rk_reader_open(const char *path)
{
	struct rk_reader *r;
	int fd;

	if (path == NULL || strcmp(path, "-") == 0)
		return rk_reader_fd(STDIN_FILENO, NULL);
	if ((fd = open(path, O_RDONLY)) == -1)
		return NULL;
	r = rk_reader_fd(fd, path);
	r->own_fd = 1;
	return r;
}

void
rk_reader_free(struct rk_reader *r)
{
	if (r == NULL)
		return;
	if (r->own_fd)
		close(r->fd);
	free(r->name);
	free(r->buf);
	free(r);
}

size_t
rk_reader_bad(const struct rk_reader *r)
{
	return r->bad;
}

/* What main should make of the input read: RK_EXIT_IO, _INPUT or 0. */
int
rk_reader_status(const struct rk_reader *r)
{
	return r->status ? r->status : r->bad ? RK_EXIT_INPUT : 0;
}

/*
 * Text lines (those not starting with '{', which stay within the record
 * limit) may be up to max bytes, a limit set by the variable named var.
 */
void
rk_reader_text_limit(struct rk_reader *r, size_t max, const char *var)
{
	r->max = max;
	r->maxvar = var;
}

/* Lines read so far, the blank ones that rk_read_raw() skips among them. */
size_t
rk_reader_lineno(const struct rk_reader *r)
{
	return r->lineno;
}

/*
 * Whether the next read can begin without waiting: input is buffered, or
 * the descriptor has some (or its end) ready; 0 for a stdio reader.  A
 * filter that gathers lines into batches stops where it would wait, so
 * that a writer waiting for the answer to its last line gets it.
 */
int
rk_reader_ready(const struct rk_reader *r)
{
	struct pollfd p = { r->fd, POLLIN, 0 };

	if (r->ipos < r->ilen)
		return 1;
	return r->fd >= 0 && poll(&p, 1, 0) > 0;
}

/* Refill the input buffer; 0 at the end of input or after an error. */
static size_t
refill(struct rk_reader *r)
{
	ssize_t n;

	r->ipos = 0;
	if (r->fd < 0) {
		/* through stdio, and no further than a newline: the caller
		 * may share the stream */
		int c = 0;

		for (n = 0; n < (ssize_t)sizeof(r->in) && c != '\n' &&
		    (c = getc_unlocked(r->fp)) != EOF; n++)
			r->in[n] = c;
		if (ferror(r->fp))
			n = -1;
	} else
		while ((n = read(r->fd, r->in, sizeof(r->in))) == -1 &&
		    errno == EINTR)
			;
	if (n == -1) {
		/* said here, as a bad line is; the input ends */
		warn("%s", r->name);
		r->status = RK_EXIT_IO;
		n = 0;
	}
	return r->ilen = n;
}

/*
 * The limit for a line that begins (after *blank blanks) with the chunk
 * p[0..n): a record's if it starts with '{', the reader's otherwise.
 */
static size_t
line_max(const struct rk_reader *r, const char *p, size_t n, size_t *blank)
{
	size_t b = 0;

	while (b < n && (p[b] == ' ' || p[b] == '\t'))
		b++;
	*blank += b;
	return b < n && p[b] == '{' ? rk_limits.record : r->max;
}

/*
 * Read one line into r->buf, at most rk_limits.record bytes; the rest of an
 * over-long line is consumed and counted.  Returns the length, or -1 at
 * EOF; *total gets the full length of the line.  The input is read with
 * read(2) in blocks and scanned with memchr: a byte at a time through
 * stdio cost more than the rest of a filter's work.
 */
static long
read_line(struct rk_reader *r, size_t *total)
{
	size_t n = 0, max = r->max, blank = 0;
	int seen = 0;

	*total = 0;
	r->cut = 0;
	for (;;) {
		const char *p, *nl;
		size_t chunk, keep;

		if (r->ipos == r->ilen && refill(r) == 0)
			break;
		seen = 1;
		p = r->in + r->ipos;
		nl = memchr(p, '\n', r->ilen - r->ipos);
		chunk = nl ? (size_t)(nl - p) : r->ilen - r->ipos;
		if (blank == n && max > rk_limits.record)
			max = line_max(r, p, chunk, &blank);
		keep = n + chunk > max ? max - n : chunk;
		r->cut |= keep < chunk;
		if (n + keep + 1 > r->cap) {
			while (n + keep + 1 > r->cap)
				r->cap *= 2;
			if (r->cap > r->max + 1)
				r->cap = r->max + 1;
			r->buf = rk_xrealloc(r->buf, r->cap);
		}
		memcpy(r->buf + n, p, keep);
		n += keep;
		*total += chunk;
		r->ipos += chunk + (nl != NULL);
		if (nl != NULL)
			break;
	}
	if (!seen)
		return -1;
	if (n > 0 && r->buf[n - 1] == '\r')
		n--;
	r->buf[n] = '\0';
	return n;
}

/* The last line read is bad: said as "name:line: msg" and counted. */
void
rk_reader_warn(struct rk_reader *r, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	rk_vasprintf(&msg, fmt, ap);
	va_end(ap);
	warnx("%s:%zu: %s", r->name, r->lineno, msg);
	free(msg);
	r->bad++;
}

/* The one way a bad line becomes a record: an error record in its place. */
static json_t *
bad_line(struct rk_reader *r, const char *code, const char *msg)
{
	json_t *rec = rk_record_new(NULL);

	rk_reader_warn(r, "%s", msg);
	rk_set_error(rec, rk_progname, code, "%s:%zu: %s", r->name, r->lineno,
	    msg);
	return rec;
}

/*
 * One line that is a JSON object -> a record, its envelope added if it
 * lacks one (records made by hand or by jq).  NULL with msg set if it is
 * not a JSON object; *verbatim says whether the record is the line as is.
 */
json_t *
rk_record_parse(const char *s, size_t len, int *verbatim, char *msg,
    size_t msgsize)
{
	json_error_t je;
	json_t *rec;
	char id[27];

	/* jansson skips a NUL byte after a number or a literal */
	if (memchr(s, '\0', len) != NULL) {
		snprintf(msg, msgsize, "column %zu: NUL byte",
		    (size_t)((const char *)memchr(s, '\0', len) - s) + 1);
		return NULL;
	}
	/* valid text is built without jansson's lexer; the rest gets its
	 * message from jansson */
	rec = rk_json_valid(s, len) ? rk_json_build(s, len) : NULL;
	if (rec == NULL &&
	    (rec = json_loadb(s, len, JSON_REJECT_DUPLICATES, &je)) == NULL) {
		snprintf(msg, msgsize, "column %d: %s", je.column, je.text);
		return NULL;
	}
	if (!json_is_object(rec)) {
		json_decref(rec);
		snprintf(msg, msgsize, "not a JSON object");
		return NULL;
	}
	*verbatim = json_object_get(rec, "rk") != NULL &&
	    json_is_string(json_object_get(rec, "id"));
	if (json_object_get(rec, "rk") == NULL)
		json_object_set_new(rec, "rk", json_integer(RK_RECORD_VERSION));
	if (!json_is_string(json_object_get(rec, "id"))) {
		rk_ulid(id);
		json_object_set_new(rec, "id", json_string(id));
	}
	return rec;
}

static json_t *
parse_object(struct rk_reader *r, size_t len)
{
	char msg[256];
	json_t *rec = rk_record_parse(r->buf, len, &r->verbatim, msg,
	    sizeof(msg));

	return rec ? rec : bad_line(r, "bad-json", msg);
}

/*
 * The next line that is not blank, as it came (without its newline), valid
 * until the next read; NULL at the end.  *is_object says whether it looks
 * like a record that can be taken as it is: a JSON object within the limit,
 * valid UTF-8.  Anything else goes through rk_reader_record().
 */
const char *
rk_read_raw(struct rk_reader *r, size_t *len, int *is_object)
{
	long n;

	for (;;) {
		if ((n = read_line(r, &r->total)) < 0)
			return NULL;
		r->lineno++;
		r->len = n;
		if (r->cut || strspn(r->buf, " \t") != (size_t)n)
			break;
	}
	*len = n;
	r->utf8 = rk_utf8_valid(r->buf, n);	/* once, for both uses */
	*is_object = !r->cut && r->buf[strspn(r->buf, " \t")] == '{' &&
	    r->utf8;
	return r->buf;
}

static void
too_long(const struct rk_reader *r, char *msg, size_t size)
{
	int record = r->buf[strspn(r->buf, " \t")] == '{' ||
	    r->max == rk_limits.record;

	snprintf(msg, size, "line of %zu bytes is over the %slimit of %zu "
	    "(%s)", r->total, record ? "record " : "", record ?
	    rk_limits.record : r->max, record ? "RK_MAX_RECORD" : r->maxvar);
}

/*
 * The next line, blank or not, without its newline, NUL-terminated and
 * valid until the next read.  Returns 0, or RK_EXIT_INPUT for a line over
 * the limit (*line then holds what was kept of it, e says why: tell it
 * with rk_reader_warn), or -1 at the end of input (or after a read error:
 * see rk_reader_status).
 */
int
rk_read_line(struct rk_reader *r, const char **line, size_t *len,
    struct rk_error *e)
{
	long n;
	char msg[160];

	if ((n = read_line(r, &r->total)) < 0)
		return -1;
	r->lineno++;
	*len = r->len = n;
	*line = r->buf;
	r->utf8 = -1;
	if (!r->cut)
		return 0;
	too_long(r, msg, sizeof(msg));
	return rk_error_set(e, RK_EXIT_INPUT, "%s", msg);
}

/* The record for the line rk_read_raw() or rk_read_line() returned. */
json_t *
rk_reader_record(struct rk_reader *r)
{
	char msg[160];

	r->verbatim = 0;
	if (r->cut) {
		too_long(r, msg, sizeof(msg));
		return bad_line(r, "too-long", msg);
	}
	if (r->utf8 == -1)
		r->utf8 = rk_utf8_valid(r->buf, r->len);
	if (!r->utf8)
		return bad_line(r, "bad-utf8", "invalid UTF-8");
	if (r->buf[strspn(r->buf, " \t")] == '{')
		return parse_object(r, r->len);
	/* a question is a C string: it would end at the NUL */
	if (memchr(r->buf, '\0', r->len) != NULL)
		return bad_line(r, "bad-utf8", "a NUL byte in a text line");
	return rk_record_new(r->buf);
}

/*
 * The simplest filter: each record of standard input through fn, then
 * written.  Returns what rk_reader_status() says, or -1 if a write failed
 * (errno says why; nothing more is read).
 */
int
rk_filter_stdin(void (*fn)(json_t *rec, void *arg), void *arg)
{
	struct rk_reader *r = rk_reader_fd(STDIN_FILENO, NULL);
	json_t *rec;
	int rc = 0;

	while (rc == 0 && (rec = rk_read(r)) != NULL) {
		fn(rec, arg);
		if (rk_write(stdout, rec) == -1)
			rc = -1;
		json_decref(rec);
	}
	if (rc == 0)
		rc = rk_reader_status(r);
	rk_reader_free(r);
	return rc;
}

json_t *
rk_read(struct rk_reader *r)
{
	size_t len;
	int obj;

	if (rk_read_raw(r, &len, &obj) == NULL)
		return NULL;
	return rk_reader_record(r);
}

json_t *
rk_record_new(const char *query)
{
	json_t *rec = json_object();
	char id[27];

	rk_ulid(id);
	json_object_set_new(rec, "rk", json_integer(RK_RECORD_VERSION));
	json_object_set_new(rec, "id", json_string(id));
	if (query != NULL)
		json_object_set_new(rec, "query", json_string(query));
	return rec;
}

struct outbuf {
	char	*p;
	size_t	 len, cap;
	int	 unlimited;	/* the error record that replaces one */
};

static int
append(const char *s, size_t n, void *arg)
{
	struct outbuf *b = arg;

	if (b->len + n + 1 > rk_limits.record && !b->unlimited)
		return -1;
	if (b->len + n + 1 > b->cap) {
		while (b->len + n + 1 > b->cap)
			b->cap = b->cap ? b->cap * 2 : 8192;
		b->p = rk_xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	return 0;
}

/* the highest status the records written call for (see rk_finish) */
static atomic_int written_status;

void
rk_note_written(int status)
{
	int seen = atomic_load(&written_status);

	while (status > seen && !atomic_compare_exchange_weak(&written_status,
	    &seen, status))
		;
}

/*
 * One rule for every filter: a record written that carries an error makes
 * the tool exit 1, one that had to be replaced for its size 3.
 */
int
rk_written_status(void)
{
	return atomic_load(&written_status);
}

/* member key (a name that needs no escapes) with JSON text raw, last */
static int
append_member(struct outbuf *b, const char *key, const char *raw,
    size_t len)
{
	b->len--;		/* the object's closing brace */
	return (b->len > 1 && append(",", 1, b) == -1) ||
	    append("\"", 1, b) == -1 || append(key, strlen(key), b) == -1 ||
	    append("\":", 2, b) == -1 || append(raw, len, b) == -1 ||
	    append("}", 1, b) == -1 ? -1 : 0;
}

/*
 * Write one record as one line.  A record that has grown over the record
 * limit is replaced by an error record that keeps its id and query, said
 * on standard error as the reader says a bad line, and RK_EXIT_INPUT says
 * so; -1 if it could not be written, 0 otherwise.
 */
int
rk_write(FILE *fp, json_t *rec)
{
	return rk_write_member(fp, rec, NULL, NULL, 0);
}

/*
 * rk_write(), the record given member key (in place of any it has), whose
 * value is the JSON text raw[0..len), written as it is: for values too
 * large to go through a json_t, such as long arrays of numbers.
 */
int
rk_write_member(FILE *fp, json_t *rec, const char *key, const char *raw,
    size_t len)
{
	static struct outbuf b;
	const int flags = JSON_COMPACT | JSON_REAL_PRECISION(15);
	int rc = 0;

	if (key != NULL)
		json_object_del(rec, key);
	b.len = 0;
	if (json_dump_callback(rec, append, &b, flags) == -1 ||
	    (key != NULL && append_member(&b, key, raw, len) == -1)) {
		json_t *small = json_object();
		/* a hit's qid and rank: which query's hit it was */
		const char *keep[] = { "rk", "id", "qid", "query", "profile",
		    "protocol", "rank" };
		/* six such strings and the error must fit the limit */
		size_t keep_max = rk_limits.record / 8 < 4096 ?
		    rk_limits.record / 8 : 4096;

		for (size_t i = 0; i < sizeof(keep) / sizeof(*keep); i++) {
			json_t *v = json_object_get(rec, keep[i]);

			if (v != NULL && (!json_is_string(v) ||
			    json_string_length(v) < keep_max))
				json_object_set(small, keep[i], v);
		}
		rk_set_error(small, rk_progname, "too-long", "record is over "
		    "the record limit of %zu bytes (RK_MAX_RECORD)",
		    rk_limits.record);
		if (rk_get_string(rec, "id") != NULL)
			warnx("%s: record over the limit of %zu bytes",
			    rk_get_string(rec, "id"), rk_limits.record);
		else	/* rk-embed's plain line, a hit */
			warnx("a record over the limit of %zu bytes",
			    rk_limits.record);
		/* out even if a tiny limit leaves no room for it */
		b.len = 0;
		b.unlimited = 1;
		json_dump_callback(small, append, &b, flags);
		b.unlimited = 0;
		json_decref(small);
		rc = RK_EXIT_INPUT;
	}
	if (rk_write_line(fp, b.p, b.len) == -1)
		return -1;
	rk_note_written(rc ? rc : rk_has_error(rec) ? RK_EXIT_FAILED : 0);
	return rc;
}

/*
 * s and a newline in one write(2) where fp has a descriptor, so that the
 * lines of several processes writing to one file (xargs -P ... >out) never
 * interleave; through stdio where it has none (a memory stream).
 */
int
rk_write_line(FILE *fp, const char *s, size_t len)
{
	struct iovec iov[2] = { { (void *)s, len }, { "\n", 1 } };
	struct iovec *v = iov;
	int fd = fileno(fp);
	ssize_t n;

	if (fflush(fp) == EOF)
		return -1;
	if (fd == -1)
		return fwrite(s, 1, len, fp) != len || putc('\n', fp) == EOF ||
		    fflush(fp) == EOF ? -1 : 0;
	while (v < iov + 2) {
		if ((n = writev(fd, v, (int)(iov + 2 - v))) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (; v < iov + 2 && (size_t)n >= v->iov_len; v++)
			n -= (ssize_t)v->iov_len;
		if (v < iov + 2) {
			v->iov_base = (char *)v->iov_base + n;
			v->iov_len -= (size_t)n;
		}
	}
	return 0;
}

void
rk_set_error(json_t *rec, const char *stage, const char *code,
    const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	rk_vasprintf(&msg, fmt, ap);
	va_end(ap);
	json_object_set_new(rec, "error", json_pack("{s:s, s:s, s:s}",
	    "stage", stage, "code", code, "message", msg));
	free(msg);
}

/*
 * A record fails: its error, with the exit status the failure gives, so
 * that rk-trace can end a pipeline with the status of the stage that
 * failed first.  Library code may call this; it writes nothing else.
 */
void
rk_record_error(json_t *rec, int status, const char *code, const char *msg)
{
	rk_set_error(rec, rk_progname, code, "%s", msg);
	json_object_set_new(json_object_get(rec, "error"), "status",
	    json_integer(status));
}

int
rk_has_error(const json_t *rec)
{
	const json_t *e = json_object_get(rec, "error");

	return e != NULL && !json_is_null(e);
}

/* The exit status a record's error calls for: its stage's, or 1. */
int
rk_error_status(const json_t *rec)
{
	json_int_t s = json_integer_value(json_object_get(json_object_get(rec,
	    "error"), "status"));

	return s > RK_EXIT_FAILED && s <= RK_EXIT_INTERNAL ? (int)s :
	    RK_EXIT_FAILED;
}

const char *
rk_get_string(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

double
rk_get_number(const json_t *obj, const char *key, double dflt)
{
	const json_t *v = json_object_get(obj, key);

	return json_is_number(v) ? json_number_value(v) : dflt;
}

json_t *
rk_steps(json_t *rec)
{
	json_t *steps = json_object_get(rec, "steps");

	if (!json_is_array(steps)) {
		steps = json_array();
		json_object_set_new(rec, "steps", steps);
	}
	return steps;
}
