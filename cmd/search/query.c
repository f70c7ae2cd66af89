/* rk-search's queries: BM25, vector or hybrid, over lines or records */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/rk.h"
#include "search/search.h"
#include "search/cmd.h"

/* the index's warning after a query, if it has one */
static void
say_warning(void)
{
	const char *w = rk_index_warning(ix);

	if (w != NULL)
		warnx("%s", w);
}

/* only blanks: no query (its vector would find any chunk) */
static int
blank(const char *query)
{
	return query[strspn(query, " \t\r\n")] == '\0';
}

/* a query's hits by BM25, by vector or fused: 0 or an RK_EXIT_* code */
static int
results(const char *query, int per_doc, int with_text, struct rk_result **v,
    size_t *n, struct rk_error *e)
{
	*v = NULL;
	*n = 0;
	if (blank(query))
		return 0;
	if (vq_ranked()) {
		if (vq_results(ix, query, &params, cli.hits, per_doc,
		    with_text, v, n, e) != 0)
			return e->code;
	} else if (rk_index_query(ix, query, &params, cli.hits, per_doc,
	    with_text, v, n) == -1)
		return rk_error_set(e, RK_EXIT_IO, "%s", rk_index_error(ix));
	say_warning();
	return 0;
}

static void
print_hits(const char *qid, const char *query)
{
	struct rk_hits_out out = { format, cli.tag, rk_index_analyzer(ix),
	    rk_getenv("NO_COLOR") != NULL };
	struct rk_result *v;
	struct rk_error e;
	size_t n;

	if (results(query, cli.by_doc || format == RK_HITS_TREC, format !=
	    RK_HITS_TREC, &v, &n, &e) != 0)
		errx(e.code, "%s", e.msg);
	if (rk_results_print(stdout, &out, qid, query, v, n) == -1)
		err(RK_EXIT_IO, "stdout");
	rk_results_free(v, n);
}

/* a record's error on stderr too, once for a run of the same message */
static void
say_once(const char *msg)
{
	static char last[sizeof(((struct rk_error *)0)->msg)];

	if (strcmp(msg, last) != 0) {
		warnx("%s", msg);
		strlcpy(last, msg, sizeof(last));
	}
}

/* attach the best hits that fit the budget to a record as context */
static void
attach(json_t *rec)
{
	const char *query = rk_get_string(rec, "query");
	struct rk_result *v;
	struct rk_error e = { RK_EXIT_IO, "" };
	size_t n;

	strlcpy(e.msg, ix_err, sizeof(e.msg));
	if (rk_has_error(rec) || query == NULL)
		;
	else if (ix == NULL || results(query, cli.by_doc, 1, &v, &n, &e) !=
	    0) {
		if (ix != NULL)		/* open_index() said why it is not */
			say_once(e.msg);
		rk_set_error(rec, rk_progname, "index", "%s", e.msg);
		rk_exit_status(e.code);
	} else {
		if (rk_results_attach(rec, v, n, cli.context_bytes,
		    Lflag) == -1)
			rk_exit_status(RK_EXIT_INPUT);
		rk_results_free(v, n);
	}
	if (rk_write(stdout, rec) == -1)
		err(RK_EXIT_IO, "stdout");
}

static void
record_mode(void)
{
	struct rk_reader *r = rk_reader_new(stdin, "stdin");
	json_t *rec, *all = json_array();
	char **q = NULL;
	size_t i, n = 0;

	/* vectors for all queries first, from one run of rk-embed */
	while ((rec = rk_read(r)) != NULL)
		if (!vq_ranked()) {
			attach(rec);
			json_decref(rec);
		} else {
			q = rk_xrealloc(q, (n + 1) * sizeof(*q));
			if (ix != NULL && !rk_has_error(rec) &&
			    rk_get_string(rec, "query") != NULL &&
			    !blank(rk_get_string(rec, "query")))
				q[n++] = (char *)rk_get_string(rec, "query");
			json_array_append_new(all, rec);
		}
	if (n > 0)
		vq_prepare(ix, q, n);
	json_array_foreach(all, i, rec)
		attach(rec);
	json_decref(all);
	free(q);
	rk_exit_status(rk_reader_status(r));
	rk_reader_free(r);
}

/* text mode: one query per line, "ID<TAB>query" names it */
static void
line_mode(void)
{
	struct rk_reader *r = rk_reader_new(stdin, "stdin");
	char *qid, *query, **id = NULL, **q = NULL;
	size_t nq = 0, n = 0;
	int rc, warned = 0;

	while ((rc = rk_query_next(r, &nq, &qid, &query)) != -1) {
		if (rc == 1 && !warned++)
			warnx("stdin:%zu: a JSON line is read as a query; -r "
			    "reads records", nq);
		if (!vq_ranked()) {
			print_hits(qid, query);
			free(qid);
			continue;
		}
		/* vectors for all queries first, from one run of rk-embed */
		id = rk_xrealloc(id, (n + 1) * sizeof(*id));
		q = rk_xrealloc(q, (n + 1) * sizeof(*q));
		id[n] = qid;
		q[n++] = query;
	}
	vq_prepare(ix, q, n);
	for (size_t i = 0; i < n; i++) {
		print_hits(id[i], q[i]);
		free(id[i]);
	}
	free(id);
	free(q);
	rk_exit_status(rk_reader_status(r));
	rk_reader_free(r);
}

void
cmd_query(int argc, char **argv)
{
	char *query;

	if (argc == 0 || (argc == 1 && strcmp(argv[0], "-") == 0)) {
		if (rflag)
			record_mode();
		else
			line_mode();
		return;
	}
	query = rk_join_args(argc, argv);
	/* as a line on stdin: no record holds it, no embedder takes it */
	if (!rk_utf8_valid(query, strlen(query)))
		errx(RK_EXIT_INPUT, "query: invalid UTF-8");
	if (rflag) {
		json_t *rec = rk_record_new(query);

		attach(rec);
		json_decref(rec);
	} else if (!blank(query))
		print_hits(NULL, query);
	free(query);
}
