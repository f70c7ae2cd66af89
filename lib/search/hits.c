/*
 * A query's hits as a caller shows them: each with its document's name,
 * the chunk's number and, if asked, its text, all read inside one read
 * transaction, so that another process's add, rm or optimize between
 * the ranking and the reading cannot take a hit's row away.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rk.h"
#include "search/search.h"

void
rk_results_free(struct rk_result *v, size_t n)
{
	for (size_t i = 0; i < n && v != NULL; i++) {
		free(v[i].doc);
		free(v[i].text);
	}
	free(v);
}

/*
 * The names, chunk numbers and (with_text) texts of n ranked hits, in
 * *out (rk_results_free() it): 0, or -1 (rk_index_error()).  Call it in
 * the read transaction that ranked them.
 */
int
rk_results_read(struct rk_index *ix, const struct rk_hit *hits, size_t n,
    int with_text, struct rk_result **out)
{
	struct rk_result *v = rk_xmalloc((n ? n : 1) * sizeof(*v));

	memset(v, 0, (n ? n : 1) * sizeof(*v));
	*out = NULL;
	for (size_t i = 0; i < n; i++) {
		v[i].score = hits[i].score;
		if (rk_index_hit(ix, hits[i].rowid, &v[i].doc, &v[i].chunk,
		    with_text ? &v[i].text : NULL) == -1) {
			rk_results_free(v, n);
			return -1;
		}
	}
	*out = v;
	return 0;
}

/*
 * The best k hits for query (per_doc: a document's best chunk), best
 * first, in *out (rk_results_free() it): 0, or -1 (rk_index_error()).
 */
int
rk_index_query(struct rk_index *ix, const char *query,
    const struct rk_index_params *p, size_t k, int per_doc, int with_text,
    struct rk_result **out, size_t *n)
{
	struct rk_hit *hits = NULL;
	int rc;

	*out = NULL;
	*n = 0;
	if (rk_index_begin_read(ix) == -1)
		return -1;
	rc = rk_index_search(ix, query, p, k, per_doc, &hits, n);
	if (rc == 0)
		rc = rk_results_read(ix, hits, *n, with_text, out);
	if (rk_index_end_read(ix) == -1)
		rc = -1;
	free(hits);
	if (rc == -1) {
		rk_results_free(*out, *n);
		*out = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

/*
 * What of a hit JSON cannot hold, as an error message says it, or NULL:
 * an older rk-search's add let in names that are not UTF-8, and a
 * hand-made or damaged index may hold such a text.
 */
static const char *
unwritable(const struct rk_result *h)
{
	if (!rk_utf8_valid(h->doc, strlen(h->doc)))
		return "document name";
	if (h->text != NULL && !rk_utf8_valid(h->text, strlen(h->text)))
		return "text";
	return NULL;
}

/* a hit's score, rounded; null if JSON has no number for it */
static json_t *
score_json(double score)
{
	return isfinite(score) ? json_real(rk_round(score, 4)) : json_null();
}

/*
 * {"doc","chunk","score","rank","text"}: rank only if > 0, text only if
 * read; NULL if unwritable().
 */
json_t *
rk_result_json(const struct rk_result *h, size_t rank)
{
	json_t *o;

	if (unwritable(h) != NULL)
		return NULL;
	o = json_pack("{s:s, s:I, s:o}", "doc", h->doc, "chunk",
	    (json_int_t)h->chunk, "score", score_json(h->score));
	if (rank > 0)
		json_object_set_new(o, "rank", json_integer(rank));
	if (h->text != NULL)
		json_object_set_new(o, "text", json_string(h->text));
	return o;
}

/*
 * The first hits whose texts fit in budget bytes, as an array; NULL if
 * one of them is unwritable().
 */
json_t *
rk_results_context(const struct rk_result *v, size_t n, size_t budget)
{
	json_t *ctx = json_array(), *o;
	size_t used = 0;

	for (size_t i = 0; i < n && used + strlen(v[i].text) <= budget; i++) {
		used += strlen(v[i].text);
		if ((o = rk_result_json(&v[i], 0)) == NULL) {
			json_decref(ctx);
			return NULL;
		}
		json_array_append_new(ctx, o);
	}
	return ctx;
}

int
rk_results_attach(json_t *rec, const struct rk_result *v, size_t n,
    size_t budget, int as_list)
{
	json_t *ctx = rk_results_context(v, n, budget), *lists;
	size_t i;

	if (ctx == NULL) {
		for (i = 0; unwritable(&v[i]) == NULL; i++)
			;
		rk_set_error(rec, rk_progname, "bad-utf8", "a hit's %s not "
		    "UTF-8", unwritable(&v[i]));
		return -1;
	}
	if (!as_list)
		json_object_set_new(rec, "context", ctx);
	else if (json_is_array(lists = json_object_get(rec, "lists")))
		json_array_append_new(lists, ctx);
	else
		json_object_set_new(rec, "lists", json_pack("[o]", ctx));
	return 0;
}

#define SNIPPET	160		/* bytes of text shown to people */

/* rank, document, chunk, score, and a snippet with the terms marked */
static int
print_for_people(FILE *fp, const struct rk_hits_out *o, const char *query,
    const struct rk_result *h, size_t rank)
{
	char *snip = rk_snippet(o->an, query, h->text, SNIPPET,
	    o->plain ? "*" : "\033[1m", o->plain ? "*" : "\033[0m");
	int rc;

	rc = fprintf(fp, "%zu. %s", rank, h->doc) < 0 || (h->chunk > 0 &&
	    fprintf(fp, " #%ld", h->chunk) < 0) ||
	    fprintf(fp, "  %.4f\n   %s\n", h->score, snip) < 0 ? -1 : 0;
	free(snip);
	return rc;
}

/* s[0..n) at p as jansson writes a JSON string: 6 n + 2 bytes at most */
static char *
put_string(char *p, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";

	*p++ = '"';
	for (const char *end = s + n; s < end; s++) {
		size_t plain = rk_json_plain(s, end - s);
		unsigned char c;
		char e;

		memcpy(p, s, plain);
		p += plain;
		if ((s += plain) == end)
			break;
		c = *s;
		e = c == '"' || c == '\\' ? c : c == '\b' ? 'b' :
		    c == '\f' ? 'f' : c == '\n' ? 'n' : c == '\r' ? 'r' :
		    c == '\t' ? 't' : 0;

		if (e != 0) {
			*p++ = '\\';
			*p++ = e;
		} else {
			memcpy(p, "\\u00", 4);
			p[4] = hex[c >> 4];
			p[5] = hex[c & 15];
			p += 6;
		}
	}
	*p++ = '"';
	return p;
}

/*
 * A hit as print_json() writes it, without building it in jansson, which
 * took a fifth of a one-query process's instructions: 1, or 0 to leave
 * the hit to print_json() (a string not UTF-8, a score JSON has no
 * number for, a line over the record limit), or -1 if fp failed.
 */
static int
print_json_fast(FILE *fp, const char *qid, const struct rk_result *h,
    size_t rank)
{
	size_t dl = strlen(h->doc), tl, ql = qid ? strlen(qid) : 0, cap;
	json_t *score;
	char *b, *p;
	int rc = 0;

	if (h->text == NULL)
		return 0;
	tl = strlen(h->text);
	/* over the limit unescaped already: print_json() says so */
	if (dl + tl + ql >= rk_limits.record)
		return 0;
	if (!rk_utf8_valid(h->doc, dl) || !rk_utf8_valid(h->text, tl) ||
	    (qid != NULL && !rk_utf8_valid(qid, ql)) ||
	    (score = json_real(rk_round(h->score, 4))) == NULL)
		return 0;
	cap = 6 * (dl + tl + ql) + 160;
	p = b = rk_xmalloc(cap);
	if (qid != NULL) {
		p = stpcpy(p, "{\"qid\":");
		p = put_string(p, qid, ql);
		p = stpcpy(p, ",\"doc\":");
	} else
		p = stpcpy(p, "{\"doc\":");
	p = put_string(p, h->doc, dl);
	p += snprintf(p, 64, ",\"chunk\":%ld,\"score\":", h->chunk);
	p += json_dumpb(score, p, 48, JSON_ENCODE_ANY |
	    JSON_REAL_PRECISION(15));
	p += snprintf(p, 48, ",\"rank\":%zu,\"text\":", rank);
	p = put_string(p, h->text, tl);
	*p++ = '}';
	json_decref(score);
	if ((size_t)(p - b) < rk_limits.record)
		rc = rk_write_line(fp, b, p - b) == -1 ? -1 : 1;
	free(b);
	return rc;
}

static int
print_json(FILE *fp, const char *qid, const struct rk_result *h,
    size_t rank)
{
	json_t *o, *wrap;
	int rc;

	if ((rc = print_json_fast(fp, qid, h, rank)) != 0)
		return rc == 1 ? 0 : -1;
	if ((o = rk_result_json(h, rank)) == NULL) {
		/* its line says so, and the exit status as for one too long */
		const char *what = unwritable(h);

		o = json_object();
		if (strcmp(what, "text") == 0)
			json_object_set_new(o, "doc", json_string(h->doc));
		json_object_set_new(o, "chunk", json_integer(h->chunk));
		json_object_set_new(o, "score", score_json(h->score));
		json_object_set_new(o, "rank", json_integer(rank));
		rk_set_error(o, rk_progname, "bad-utf8", "%s not UTF-8", what);
		rk_note_written(RK_EXIT_INPUT);
	}
	if (qid != NULL) {
		wrap = json_pack("{s:s}", "qid", qid);
		json_object_update(wrap, o);
		json_decref(o);
		o = wrap;
	}
	rc = rk_write(fp, o);
	json_decref(o);
	return rc == -1 ? -1 : 0;
}

/* a query's hits in the format o asks for: 0, or -1 if fp failed */
int
rk_results_print(FILE *fp, const struct rk_hits_out *o, const char *qid,
    const char *query, const struct rk_result *v, size_t n)
{
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++)
		switch (o->format) {
		case RK_HITS_TREC:
			if ((rc = rk_trec_print(fp, qid ? qid : "1",
			    v[i].doc, i + 1, 4, v[i].score, o->tag)) == 1)
				return 0;
			break;
		case RK_HITS_TERM:
			rc = print_for_people(fp, o, query, &v[i], i + 1);
			break;
		default:
			rc = print_json(fp, qid, &v[i], i + 1);
		}
	return rc;
}

/*
 * The next query of text lines from r: "ID<TAB>query", or a query named
 * by its number among the lines that are not blank (*nq counts them).
 * *qid gets ID, NUL, query (free it); *query points into it.  -1 at the
 * end, 1 if the line looks like a record, else 0.  Lines the reader
 * refuses (over the record limit, not UTF-8) are reported by it and
 * skipped.
 */
int
rk_query_next(struct rk_reader *r, size_t *nq, char **qid, char **query)
{
	const char *line, *tab;
	size_t len, idlen;
	int obj;

	while ((line = rk_read_raw(r, &len, &obj)) != NULL) {
		++*nq;
		if (!obj) {
			json_t *rec = rk_reader_record(r);
			int bad = rk_has_error(rec);

			json_decref(rec);
			if (bad)
				continue;
		}
		*qid = rk_xmalloc(len + 32);
		if ((tab = strchr(line, '\t')) != NULL) {
			idlen = tab - line;
			memcpy(*qid, line, len + 1);
		} else {
			idlen = snprintf(*qid, 32, "%zu", *nq);
			memcpy(*qid + idlen + 1, line, len + 1);
		}
		(*qid)[idlen] = '\0';
		*query = *qid + idlen + 1;
		return obj;
	}
	return -1;
}
