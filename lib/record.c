/*
 * NDJSON records: one JSON object per line.  A plain text line starts a new
 * record.  Input that cannot be a record (bad JSON, bad UTF-8, a line over
 * the record limit) becomes an error record in its place, so no line is
 * ever dropped without a trace.
 */
#include <err.h>
#include <stdlib.h>
#include <string.h>

#include "rk.h"

struct rk_reader {
	FILE	*fp;
	char	*name;
	char	*buf;
	size_t	 cap;
	size_t	 lineno;
	size_t	 bad;
};

struct rk_reader *
rk_reader_new(FILE *fp, const char *name)
{
	struct rk_reader *r = rk_xmalloc(sizeof(*r));

	r->fp = fp;
	r->name = rk_xstrdup(name);
	r->cap = 4096;
	r->buf = rk_xmalloc(r->cap);
	r->lineno = 0;
	r->bad = 0;
	return r;
}

void
rk_reader_free(struct rk_reader *r)
{
	if (r == NULL)
		return;
	free(r->name);
	free(r->buf);
	free(r);
}

size_t
rk_reader_bad(const struct rk_reader *r)
{
	return r->bad;
}

/*
 * Read one line into r->buf, at most rk_limits.record bytes; the rest of an
 * over-long line is consumed and counted.  Returns the length, or -1 at
 * EOF; *total gets the full length of the line.
 */
static long
read_line(struct rk_reader *r, size_t *total)
{
	size_t n = 0, max = rk_limits.record;
	int c;

	*total = 0;
	while ((c = getc_unlocked(r->fp)) != EOF && c != '\n') {
		if (n < max) {
			if (n + 1 >= r->cap) {
				r->cap = r->cap * 2 > max + 1 ? max + 1 :
				    r->cap * 2;
				r->buf = rk_xrealloc(r->buf, r->cap);
			}
			r->buf[n++] = c;
		}
		(*total)++;
	}
	if (ferror(r->fp))
		err(RK_EXIT_IO, "%s", r->name);
	if (c == EOF && *total == 0)
		return -1;
	if (n > 0 && r->buf[n - 1] == '\r')
		n--;
	r->buf[n] = '\0';
	return n;
}

static json_t *
bad_line(struct rk_reader *r, const char *code, const char *msg)
{
	json_t *rec = rk_record_new(NULL);

	warnx("%s:%zu: %s", r->name, r->lineno, msg);
	rk_set_error(rec, rk_progname, code, "%s:%zu: %s", r->name, r->lineno,
	    msg);
	r->bad++;
	rk_exit_status(RK_EXIT_INPUT);
	return rec;
}

static json_t *
parse_object(struct rk_reader *r, size_t len)
{
	json_error_t je;
	json_t *rec;
	char msg[256];

	rec = json_loadb(r->buf, len, JSON_REJECT_DUPLICATES, &je);
	if (rec == NULL) {
		snprintf(msg, sizeof(msg), "column %d: %s", je.column,
		    je.text);
		return bad_line(r, "bad-json", msg);
	}
	if (!json_is_object(rec)) {
		json_decref(rec);
		return bad_line(r, "bad-json", "not a JSON object");
	}
	/* records made by hand or by jq may lack the envelope */
	if (json_object_get(rec, "rk") == NULL)
		json_object_set_new(rec, "rk", json_integer(RK_RECORD_VERSION));
	if (!json_is_string(json_object_get(rec, "id"))) {
		char id[27];

		rk_ulid(id);
		json_object_set_new(rec, "id", json_string(id));
	}
	return rec;
}

json_t *
rk_read(struct rk_reader *r)
{
	size_t total;
	long len;
	char msg[128];

	for (;;) {
		if ((len = read_line(r, &total)) < 0)
			return NULL;
		r->lineno++;
		if (total > rk_limits.record) {
			snprintf(msg, sizeof(msg), "line of %zu bytes is over "
			    "the record limit of %zu (RK_MAX_RECORD)", total,
			    rk_limits.record);
			return bad_line(r, "too-long", msg);
		}
		if (strspn(r->buf, " \t") == (size_t)len)
			continue;	/* blank lines separate nothing */
		if (!rk_utf8_valid(r->buf, len))
			return bad_line(r, "bad-utf8", "invalid UTF-8");
		if (r->buf[strspn(r->buf, " \t")] == '{')
			return parse_object(r, len);
		return rk_record_new(r->buf);
	}
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
};

static int
append(const char *s, size_t n, void *arg)
{
	struct outbuf *b = arg;

	if (b->len + n + 1 > rk_limits.record)
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

/*
 * Write one record as one line.  A record that has grown over the record
 * limit is replaced by an error record that keeps its id and query.
 */
int
rk_write(FILE *fp, json_t *rec)
{
	static struct outbuf b;
	const int flags = JSON_COMPACT | JSON_REAL_PRECISION(15);

	b.len = 0;
	if (json_dump_callback(rec, append, &b, flags) == -1) {
		json_t *small = json_object();
		const char *keep[] = { "rk", "id", "query", "profile",
		    "protocol" };

		for (size_t i = 0; i < sizeof(keep) / sizeof(*keep); i++) {
			json_t *v = json_object_get(rec, keep[i]);

			if (v != NULL && (!json_is_string(v) ||
			    json_string_length(v) < 4096))
				json_object_set(small, keep[i], v);
		}
		rk_set_error(small, rk_progname, "too-long", "record is over "
		    "the record limit of %zu bytes (RK_MAX_RECORD)",
		    rk_limits.record);
		warnx("%s: record over the limit of %zu bytes",
		    rk_get_string(rec, "id"), rk_limits.record);
		rk_exit_status(RK_EXIT_INPUT);
		b.len = 0;
		if (json_dump_callback(small, append, &b, flags) == -1)
			errx(RK_EXIT_INTERNAL, "cannot serialize a record");
		json_decref(small);
	}
	b.p[b.len++] = '\n';
	if (fwrite(b.p, 1, b.len, fp) != b.len || fflush(fp) == EOF)
		return -1;
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

int
rk_has_error(const json_t *rec)
{
	const json_t *e = json_object_get(rec, "error");

	return e != NULL && !json_is_null(e);
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
