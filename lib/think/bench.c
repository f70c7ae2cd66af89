/*
 * Benchmarks of profiles (rk-bench(1)): datasets of questions with known
 * answers, scoring, the results table that lets a run resume, and the
 * statistics of a profile's results.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/rk.h"
#include "llm/llm.h"
#include "think/think.h"

/* ---- datasets ---------------------------------------------------------- */

/* "A) first\nB) second" after the question; the gold a letter. */
static char *
with_choices(const char *q, const json_t *choices)
{
	char *s = rk_xstrdup(q), *t;
	const json_t *c;
	size_t i;

	json_array_foreach(choices, i, c) {
		rk_asprintf(&t, "%s\n%c) %s", s, (int)('A' + i % 26),
		    json_is_string(c) ? json_string_value(c) : "");
		free(s);
		s = t;
	}
	return s;
}

/* GSM8K's answer is the working, then "#### 18": the gold is 18. */
static char *
gold_of(const json_t *answer)
{
	const char *s = json_string_value(answer);

	if (json_is_number(answer)) {
		char *t;

		rk_asprintf(&t, "%.15g", json_number_value(answer));
		return t;
	}
	if (s == NULL)
		return NULL;
	if (strstr(s, "####") != NULL)
		return rk_answer_extract(s, 1);
	return rk_xstrdup(s);
}

static int
add_item(struct rk_bench_set *set, const char *line, size_t lineno,
    const char *path, struct rk_error *e)
{
	json_t *o = json_loads(line, 0, NULL), *id, *ch;
	struct rk_bench_item *it;
	const char *q;
	char *gold;

	if (!json_is_object(o)) {
		json_decref(o);
		return rk_error_set(e, RK_EXIT_INPUT,
		    "%s:%zu: not a JSON object", path, lineno);
	}
	q = rk_get_string(o, "question");
	gold = gold_of(json_object_get(o, "answer"));
	if (q == NULL || *q == '\0' || gold == NULL) {
		json_decref(o);
		free(gold);
		return rk_error_set(e, RK_EXIT_INPUT, "%s:%zu: no %s", path,
		    lineno, q == NULL || *q == '\0' ? "question" : "answer");
	}
	set->v = rk_xrealloc(set->v, (set->n + 1) * sizeof(*set->v));
	it = &set->v[set->n++];
	id = json_object_get(o, "id");
	if (json_is_string(id))
		it->id = rk_xstrdup(json_string_value(id));
	else if (json_is_integer(id))
		rk_asprintf(&it->id, "%lld", (long long)json_integer_value(id));
	else
		rk_asprintf(&it->id, "%zu", lineno);	/* GSM8K has none */
	ch = json_object_get(o, "choices");
	it->choice = json_is_array(ch) && json_array_size(ch) > 0;
	it->question = it->choice ? with_choices(q, ch) : rk_xstrdup(q);
	it->gold = gold;
	json_decref(o);
	return 0;
}

int
rk_bench_load(struct rk_bench_set *set, const char *path, struct rk_error *e)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char *line = NULL;
	size_t size = 0, lineno = 0;
	int rc = 0;

	memset(set, 0, sizeof(*set));
	if (fp == NULL)
		return rk_error_set(e, RK_EXIT_IO, "%s: %s", path,
		    strerror(errno));
	while (rc == 0 && getline(&line, &size, fp) != -1)
		if (++lineno, strspn(line, " \t\r\n") != strlen(line))
			rc = add_item(set, line, lineno, path, e);
	free(line);
	if (fp != stdin)
		fclose(fp);
	if (rc == 0 && set->n == 0)
		rc = rk_error_set(e, RK_EXIT_INPUT, "%s: no questions", path);
	return rc;
}

void
rk_bench_free(struct rk_bench_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		free(set->v[i].id);
		free(set->v[i].question);
		free(set->v[i].gold);
	}
	free(set->v);
	memset(set, 0, sizeof(*set));
}

static uint64_t
splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int
by_position(const void *a, const void *b)
{
	const struct rk_bench_item *x = a, *y = b;

	return (x->pos > y->pos) - (x->pos < y->pos);
}

/* Keep n questions drawn with the seed, in the dataset's order. */
void
rk_bench_sample(struct rk_bench_set *set, size_t n, uint64_t seed)
{
	struct rk_bench_item t;

	if (n >= set->n)
		return;
	for (size_t i = 0; i < set->n; i++)
		set->v[i].pos = i;
	for (size_t i = 0; i < n; i++) {
		size_t j = i + (size_t)(splitmix(&seed) % (set->n - i));

		t = set->v[i], set->v[i] = set->v[j], set->v[j] = t;
	}
	for (size_t i = n; i < set->n; i++) {
		free(set->v[i].id);
		free(set->v[i].question);
		free(set->v[i].gold);
	}
	set->n = n;
	qsort(set->v, n, sizeof(*set->v), by_position);
}

/* ---- scoring ----------------------------------------------------------- */

static const char *score_names[] = { "auto", "numeric", "choice", "exact" };

int
rk_bench_score_parse(const char *s, enum rk_bench_score *m)
{
	for (size_t i = 0; i < sizeof(score_names) / sizeof(*score_names); i++)
		if (strcmp(s, score_names[i]) == 0) {
			*m = (enum rk_bench_score)i;
			return 0;
		}
	return -1;
}

static int
is_number(const char *s)
{
	char *end;

	if (s == NULL || *s == '\0')
		return 0;
	(void)strtod(s, &end);
	return *end == '\0';
}

/*
 * The answer to score, from a run's text: for a numeric gold the stated
 * answer or else the last number; otherwise the record's answer.
 */
char *
rk_bench_answer(const json_t *rec, const struct rk_bench_item *it)
{
	const json_t *steps = json_object_get(rec, "steps");
	const char *a = rk_get_string(rec, "answer");
	const char *text = rk_get_string(json_array_get(steps,
	    json_array_size(steps) - 1), "text");
	char *g = rk_answer_normalize(it->gold), *got = NULL;
	int numeric = !it->choice && is_number(g);

	free(g);
	if (numeric && a != NULL && !is_number(a) && text != NULL)
		got = rk_answer_extract(text, 1);
	return got ? got : a ? rk_xstrdup(a) : NULL;
}

/* 1 if the answer is right under the mode, else 0. */
int
rk_bench_correct(enum rk_bench_score m, const char *answer,
    const struct rk_bench_item *it)
{
	char *a, *g;
	int ok;

	if (answer == NULL)
		return 0;
	a = rk_answer_normalize(answer);
	g = rk_answer_normalize(it->gold);
	if (m == RK_SCORE_NUMERIC || (m == RK_SCORE_AUTO && !it->choice &&
	    is_number(g)))
		ok = is_number(a) && is_number(g) && strtod(a, NULL) ==
		    strtod(g, NULL);
	else if (m == RK_SCORE_CHOICE || (m == RK_SCORE_AUTO && it->choice))
		ok = strlen(a) == 1 && strlen(g) == 1 &&
		    toupper((unsigned char)*a) == toupper((unsigned char)*g);
	else
		ok = strcmp(a, g) == 0;
	free(a);
	free(g);
	return ok;
}

/* Write the {"answer", "gold"} lines; a scorer that stops reading is
 * told by its exit status or its output, not here. */
static void
feed_scorer(FILE *to, const char *const *answers, const char *const *golds,
    size_t n)
{
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_pack("{s:s?, s:s}", "answer", answers[i],
		    "gold", golds[i]);

		if (json_dumpf(o, to, JSON_COMPACT) == -1 ||
		    fputc('\n', to) == EOF)
			i = n;
		json_decref(o);
	}
	fclose(to);
}

static int
scorer_status(const char *cmd, int st, struct rk_error *e)
{
	if (WIFSIGNALED(st))
		return rk_error_set(e, RK_EXIT_CONFIG, "--score-cmd: '%s': "
		    "killed by signal %d", cmd, WTERMSIG(st));
	if (WEXITSTATUS(st) == 127)
		return rk_error_set(e, RK_EXIT_CONFIG, "--score-cmd: '%s': "
		    "not found (exit 127)", cmd);
	if (WEXITSTATUS(st) != 0)
		return rk_error_set(e, RK_EXIT_CONFIG, "--score-cmd: '%s': "
		    "exit %d", cmd, WEXITSTATUS(st));
	return 0;
}

/* The scorer's output: one 1 or 0 a line, as many lines as answers. */
static int
read_verdicts(FILE *fp, const char *cmd, size_t n, int *verdicts,
    struct rk_error *e)
{
	char *line = NULL;
	size_t i = 0, cap = 0;
	ssize_t len;
	int rc = 0;

	rewind(fp);
	while (rc == 0 && (len = getline(&line, &cap, fp)) != -1) {
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (i == n)
			rc = rk_error_set(e, RK_EXIT_INPUT, "--score-cmd: "
			    "'%s': more lines than the %zu answers", cmd, n);
		/* the length too: "1" then a NUL byte and more is not 1 */
		else if (len != 1 || (line[0] != '1' && line[0] != '0'))
			rc = rk_error_set(e, RK_EXIT_INPUT, "--score-cmd: "
			    "'%s': line %zu is not 1 or 0: '%.20s'", cmd, i + 1,
			    line);
		else
			verdicts[i++] = line[0] == '1';
	}
	free(line);
	if (rc == 0 && i < n)
		rc = rk_error_set(e, RK_EXIT_INPUT, "--score-cmd: '%s': "
		    "a verdict for %zu of the %zu answers", cmd, i, n);
	return rc;
}

/*
 * A user's scorer (--score-cmd): a command that reads {"answer", "gold"}
 * lines and writes 1 or 0 for each, run once for all the answers.  Its
 * output goes to a file, not a pipe, so that a command that writes only
 * when it ends (a buffered standard output) cannot stall the one that
 * feeds it.  A failure is an error: it exits non-zero, is not found, or
 * writes a line that is not 1 or 0, or too few or too many lines.
 */
int
rk_scorer_run(const char *cmd, const char *const *answers,
    const char *const *golds, size_t n, int *verdicts, struct rk_error *e)
{
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	FILE *out = tmpfile();
	int in[2], st = 0, rc;
	pid_t pid = -1;

	if (out == NULL || pipe(in) == -1 || (pid = fork()) == -1) {
		rc = rk_error_set(e, RK_EXIT_IO, "--score-cmd: %s",
		    strerror(errno));
		goto done;
	}
	if (pid == 0) {
		dup2(in[0], STDIN_FILENO);
		dup2(fileno(out), STDOUT_FILENO);
		close(in[0]), close(in[1]);
		/* ignored here, not in the scorer */
		signal(SIGPIPE, SIG_DFL);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	feed_scorer(fdopen(in[1], "w"), answers, golds, n);
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
	if ((rc = scorer_status(cmd, st, e)) == 0)
		rc = read_verdicts(out, cmd, n, verdicts, e);
done:
	if (out != NULL)
		fclose(out);
	signal(SIGPIPE, old);
	return rc;
}

/* ---- the results table ------------------------------------------------- */

static const char *const schema[] = {
    "CREATE TABLE IF NOT EXISTS bench (dataset TEXT, qid TEXT, "
    "profile TEXT, model TEXT, samples INTEGER, answer TEXT, "
    "correct INTEGER, failed INTEGER, agreement REAL, tokens_in INTEGER, "
    "tokens_out INTEGER, cost REAL, ms REAL, run TEXT, "
    "PRIMARY KEY (dataset, qid, profile, model, samples))"
};

int
rk_results_open(struct rk_results *r, const char *path, struct rk_error *e)
{
	int rc;

	memset(r, 0, sizeof(*r));
	if ((rc = rk_db_open(&r->db, path, RK_DB_CREATE, 10000, e)) == 0)
		rc = rk_db_migrate(&r->db, schema, 1, e);
	if (rc != 0)
		rk_db_close(&r->db, NULL);
	return rc;
}

void
rk_results_close(struct rk_results *r)
{
	sqlite3_finalize(r->get);
	sqlite3_finalize(r->put);
	sqlite3_finalize(r->rescore);
	rk_db_close(&r->db, NULL);
	memset(r, 0, sizeof(*r));
}

/* The statement sql, prepared once into *s, with k's key bound; or NULL. */
static sqlite3_stmt *
keyed(struct rk_results *r, sqlite3_stmt **s, const char *sql,
    const struct rk_result *k)
{
	if (rk_db_prepare(&r->db, s, sql, NULL) != 0)
		return NULL;
	sqlite3_bind_text(*s, 1, k->dataset, -1, SQLITE_STATIC);
	sqlite3_bind_text(*s, 2, k->qid, -1, SQLITE_STATIC);
	sqlite3_bind_text(*s, 3, k->profile, -1, SQLITE_STATIC);
	sqlite3_bind_text(*s, 4, k->model, -1, SQLITE_STATIC);
	sqlite3_bind_int64(*s, 5, k->samples);
	return *s;
}

/*
 * 1 and the result in r if the question was done, 0 if not, -1 error.
 * The answer stored is the caller's to free.
 */
int
rk_results_get(struct rk_results *r, struct rk_result *k)
{
	sqlite3_stmt *st = keyed(r, &r->get, "SELECT correct, failed, "
	    "agreement, tokens_in, tokens_out, cost, ms, answer FROM bench "
	    "WHERE dataset = ?1 AND qid = ?2 AND profile = ?3 AND model = ?4 "
	    "AND samples = ?5", k);
	int rc;

	if (st == NULL)
		return -1;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		k->correct = sqlite3_column_int(st, 0);
		k->failed = sqlite3_column_int(st, 1);
		k->agreement = sqlite3_column_double(st, 2);
		k->in = sqlite3_column_int64(st, 3);
		k->out = sqlite3_column_int64(st, 4);
		k->cost = sqlite3_column_double(st, 5);
		k->ms = sqlite3_column_double(st, 6);
		k->answer = sqlite3_column_text(st, 7) == NULL ? NULL :
		    rk_xstrdup((const char *)sqlite3_column_text(st, 7));
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int
rk_results_put(struct rk_results *r, const struct rk_result *k)
{
	sqlite3_stmt *st = keyed(r, &r->put, "INSERT OR REPLACE INTO bench "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
	    "?14)", k);

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 6, k->answer, -1, SQLITE_STATIC);
	if (k->correct < 0)
		sqlite3_bind_null(st, 7);
	else
		sqlite3_bind_int(st, 7, k->correct);
	sqlite3_bind_int(st, 8, k->failed);
	sqlite3_bind_double(st, 9, k->agreement);
	sqlite3_bind_int64(st, 10, k->in);
	sqlite3_bind_int64(st, 11, k->out);
	sqlite3_bind_double(st, 12, k->cost);
	sqlite3_bind_double(st, 13, k->ms);
	sqlite3_bind_text(st, 14, k->run, -1, SQLITE_STATIC);
	return rk_db_done(&r->db, st, NULL) == 0 ? 0 : -1;
}

/* Store the verdicts of a new scoring of n results, in one transaction. */
int
rk_results_rescored(struct rk_results *r, const struct rk_result *v,
    size_t n)
{
	int rc = rk_db_exec(&r->db, "BEGIN", NULL) == 0 ? 0 : -1;

	for (size_t i = 0; i < n && rc == 0; i++) {
		sqlite3_stmt *st = keyed(r, &r->rescore, "UPDATE bench SET "
		    "correct = ?6 WHERE dataset = ?1 AND qid = ?2 AND "
		    "profile = ?3 AND model = ?4 AND samples = ?5", &v[i]);

		if (st != NULL)
			sqlite3_bind_int(st, 6, v[i].correct);
		rc = st != NULL && rk_db_done(&r->db, st, NULL) == 0 ? 0 : -1;
	}
	if (rk_db_exec(&r->db, rc == 0 ? "COMMIT" : "ROLLBACK", NULL) != 0)
		rc = -1;
	return rc;
}

/* Forget a dataset's results for a profile and model (--fresh). */
int
rk_results_forget(struct rk_results *r, const struct rk_result *k)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (keyed(r, &st, "DELETE FROM bench WHERE dataset = ?1 AND "
	    "?2 IS NOT NULL AND profile = ?3 AND model = ?4 AND "
	    "samples = ?5", k) == NULL)
		return -1;
	rc = rk_db_done(&r->db, st, NULL);
	sqlite3_finalize(st);
	return rc == 0 ? 0 : -1;
}

/* What the samples of a question spent: tokens, and dollars at prices. */
void
rk_bench_usage(const json_t *samples, const struct rk_prices *prices,
    struct rk_result *r)
{
	const json_t *rec, *s;
	size_t i, j;
	int known;

	json_array_foreach(samples, i, rec)
		json_array_foreach(json_object_get(rec, "steps"), j, s) {
			long in = (long)json_integer_value(json_object_get(
			    json_object_get(s, "usage"), "in"));
			long out = (long)json_integer_value(json_object_get(
			    json_object_get(s, "usage"), "out"));

			r->in += in;
			r->out += out;
			if (!json_is_true(json_object_get(s, "cached")))
				r->cost += rk_price_cost(prices,
				    rk_get_string(s, "model"), in, out, &known);
		}
}

/* ---- statistics -------------------------------------------------------- */

/* The nearest-rank percentile p (0..100) of v[n], sorted in place. */
static double
percentile(double *v, size_t n, double p)
{
	size_t k;

	if (n == 0)
		return 0;
	rk_sort_doubles(v, n);
	k = (size_t)ceil(p / 100 * (double)n);
	return v[k > 0 ? k - 1 : 0];
}

void
rk_bench_stats(const struct rk_result *r, size_t n, struct rk_bench_stats *s)
{
	double *ms = rk_xmalloc((n ? n : 1) * sizeof(*ms));
	double z = 1.959964, p, den, mid, half;

	memset(s, 0, sizeof(*s));
	s->questions = (long)n;
	for (size_t i = 0; i < n; i++) {
		s->correct += r[i].correct;
		s->failed += r[i].failed;
		s->agreement += r[i].agreement / (double)n;
		s->in += (double)r[i].in / (double)n;
		s->out += (double)r[i].out / (double)n;
		s->cost += r[i].cost;
		ms[i] = r[i].ms;
	}
	if (n > 0) {
		/* Wilson's score interval: sound at 0 %, 100 % and small n */
		p = (double)s->correct / (double)n;
		den = 1 + z * z / (double)n;
		mid = (p + z * z / (2 * (double)n)) / den;
		half = z * sqrt(p * (1 - p) / (double)n + z * z /
		    (4 * (double)n * (double)n)) / den;
		s->accuracy = p;
		s->lo = mid - half < 0 ? 0 : mid - half;
		s->hi = mid + half > 1 ? 1 : mid + half;
	}
	s->p50 = percentile(ms, n, 50);
	s->p95 = percentile(ms, n, 95);
	free(ms);
}

/*
 * One profile's row of the report, as a table (fmt 0), a JSON object (1)
 * or CSV (2); with no profile, the header (none for JSON).
 */
void
rk_bench_print(FILE *fp, int fmt, const char *profile,
    const struct rk_bench_stats *st, int voted)
{
	static const char *rows[] = {
	    "%-12s %9ld %8.3f  %.3f-%.3f %9s %8.1f %8.1f %10.6f %8.1f %8.1f "
	    "%6ld\n",
	    "{\"profile\":\"%s\",\"questions\":%ld,\"accuracy\":%.4f,"
	    "\"ci95\":[%.4f,%.4f],\"agreement\":%s,\"tokens_in\":%.1f,"
	    "\"tokens_out\":%.1f,\"cost\":%.10g,\"p50_ms\":%.3f,"
	    "\"p95_ms\":%.3f,\"failed\":%ld}\n",
	    "%s,%ld,%.4f,%.4f,%.4f,%s,%.1f,%.1f,%.10g,%.3f,%.3f,%ld\n" };
	char agr[16];

	if (profile == NULL && fmt == 0)
		fprintf(fp, "%-12s %9s %8s  %-11s %9s %8s %8s %10s %8s %8s "
		    "%6s\n", "profile", "questions", "accuracy", "95% CI",
		    "agreement", "in/q", "out/q", "cost $", "p50 ms", "p95 ms",
		    "failed");
	else if (profile == NULL && fmt == 2)
		fprintf(fp, "profile,questions,accuracy,ci95_lo,ci95_hi,"
		    "agreement,tokens_in,tokens_out,cost,p50_ms,p95_ms,"
		    "failed\n");
	if (profile == NULL)
		return;
	if (voted)
		snprintf(agr, sizeof(agr), "%.3f", st->agreement);
	else
		strlcpy(agr, fmt == 1 ? "null" : fmt == 2 ? "" : "-",
		    sizeof(agr));
	fprintf(fp, rows[fmt], profile, st->questions, st->accuracy, st->lo,
	    st->hi, agr, st->in, st->out, st->cost, st->p50, st->p95,
	    st->failed);
}
