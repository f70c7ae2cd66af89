/*
 * rk-embed's filter: lines in, vectors out, in input order.  A record (a
 * JSON object line) gets an "embedding" member for one of its strings; a
 * plain text line becomes {"text": line, "embedding": [...]}.  The input
 * is read a window at a time (what has arrived), and each window's texts
 * go to rk_embed_run() together, so that its requests can be batched and
 * run at once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/rk.h"
#include "llm/llm.h"

struct item {
	json_t			*rec;	/* what is written */
	int			 embed;	/* it has a text to embed, in e */
	struct rk_embedding	 e;
};

struct filter {
	struct rk_embedder	*E;
	const char		*field;	/* NULL: text, else query */
	int			 lines;	/* every line is a text */
	struct rk_reader	*r;
	struct item		*v;
	size_t			 n, cap;
	char			*said;	/* the last failure said */
	int			 status;
};

static void
keep_status(struct filter *F, int status)
{
	if (status > F->status)
		F->status = status;
}

/* The text a record's member gives, or NULL with the record failed. */
static const char *
record_text(struct filter *F, json_t *rec)
{
	const char *t = F->field ? rk_get_string(rec, F->field) :
	    rk_get_string(rec, "text") ? rk_get_string(rec, "text") :
	    rk_get_string(rec, "query");

	if (t == NULL) {
		char *msg;

		rk_asprintf(&msg, "no string member %s%s%s to embed "
		    "(--field)", F->field ? "'" : "", F->field ? F->field :
		    "text or query", F->field ? "'" : "");
		rk_say(&F->E->o, RK_EXIT_INPUT, "%s: %s", rk_get_string(rec,
		    "id"), msg);
		rk_record_error(rec, RK_EXIT_INPUT, "no-text", msg);
		keep_status(F, RK_EXIT_INPUT);
		free(msg);
	}
	return t;
}

/*
 * The next line, as rk_read_raw() gives it; with --lines, a blank line
 * too (it is a text, so that each line in has its line out), and obj
 * for any line that can be a text as it is.
 */
static const char *
next_line(struct filter *F, size_t *len, int *obj)
{
	struct rk_error e;
	const char *line;
	int rc;

	if (!F->lines)
		return rk_read_raw(F->r, len, obj);
	if ((rc = rk_read_line(F->r, &line, len, &e)) == -1)
		return NULL;
	*obj = rc == 0 && rk_utf8_valid(line, *len);
	return line;
}

/* The next line as an item: 0, or -1 at the end of the input. */
static int
read_item(struct filter *F, struct item *it)
{
	const char *line;
	size_t len;
	int obj;
	json_t *rec;

	if ((line = next_line(F, &len, &obj)) == NULL)
		return -1;
	memset(it, 0, sizeof(*it));
	/* with --lines, a line that looks like a record is a text too */
	if (F->lines && obj && memchr(line, '\0', len) == NULL)
		rec = rk_record_new(line);
	else
		rec = rk_reader_record(F->r);
	if (rk_has_error(rec) || (obj && !F->lines)) {
		it->rec = rec;
		it->e.text = rk_has_error(rec) ? NULL : record_text(F, rec);
	} else {
		it->rec = json_pack("{s:O}", "text", json_object_get(rec,
		    "query"));
		it->e.text = rk_get_string(it->rec, "text");
		json_decref(rec);
	}
	it->embed = it->e.text != NULL;
	return 0;
}

/*
 * A window of items read, no more than are there without waiting (but
 * one): how many, 0 at the end.
 */
static size_t
read_window(struct filter *F)
{
	F->n = 0;
	while (F->n < F->cap && (F->n == 0 || rk_reader_ready(F->r)) &&
	    read_item(F, &F->v[F->n]) == 0)
		F->n++;
	return F->n;
}

/* A failure in the item, said once for the texts it shares. */
static void
item_fail(struct filter *F, struct item *it)
{
	if (F->said == NULL || strcmp(F->said, it->e.msg) != 0) {
		rk_say(&F->E->o, it->e.status, "%s", it->e.msg);
		free(F->said);
		F->said = rk_xstrdup(it->e.msg);
	}
	rk_record_error(it->rec, it->e.status, it->e.code, it->e.msg);
	keep_status(F, it->e.status);
}

/* One item written, with its vector if it has one: 0, or -1. */
static int
write_item(struct filter *F, struct item *it, struct rk_sbuf *b)
{
	if (!it->embed || it->e.v == NULL)
		return rk_write(stdout, it->rec) == -1 ? -1 : 0;
	b->len = 0;
	rk_embed_text(it->e.v, F->E->dim, b);
	return rk_write_member(stdout, it->rec, "embedding", b->s, b->len) ==
	    -1 ? -1 : 0;
}

/* The window's texts embedded, the items written: 0, or -1. */
static int
run_window(struct filter *F)
{
	struct rk_embedding *es = rk_xmalloc(F->n * sizeof(*es));
	struct rk_sbuf b = { NULL, 0, 0 };
	size_t k = 0;
	int rc = 0;

	for (size_t i = 0; i < F->n; i++)
		if (F->v[i].embed)
			es[k++] = F->v[i].e;
	rk_embed_run(F->E, es, k);
	k = 0;
	for (size_t i = 0; i < F->n; i++) {
		struct item *it = &F->v[i];

		if (it->embed) {
			it->e = es[k++];
			if (it->e.v == NULL)
				item_fail(F, it);
		}
		if (rc == 0 && write_item(F, it, &b) == -1)
			rc = -1;
		rk_embedding_clear(&it->e);
		json_decref(it->rec);
	}
	rk_sbuf_free(&b);
	free(es);
	return rc;
}

/*
 * Standard input's lines embedded to standard output, field naming the
 * records' member (NULL: "text", or "query" where there is none), or with
 * lines every line a text: the highest exit status the input and the
 * failures call for.
 */
int
rk_embed_filter(struct rk_embedder *E, const char *field, int lines)
{
	struct filter F = { E, field, lines, rk_reader_fd(0, NULL), NULL, 0, 0,
	    NULL, 0 };

	F.cap = (size_t)(E->batch * E->o.parallel * 4);
	if (F.cap < 64)
		F.cap = 64;
	else if (F.cap > 16384)
		F.cap = 16384;
	F.v = rk_xmalloc(F.cap * sizeof(*F.v));
	while (read_window(&F) > 0)
		if (run_window(&F) == -1) {
			rk_say(&E->o, RK_EXIT_IO, "stdout: %s",
			    strerror(errno));
			keep_status(&F, RK_EXIT_IO);
			break;
		}
	keep_status(&F, rk_reader_status(F.r));
	rk_reader_free(F.r);
	free(F.v);
	free(F.said);
	return F.status;
}
