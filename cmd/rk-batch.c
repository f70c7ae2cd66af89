/*
 * rk-batch: the two ends of a batch pipeline.  Without --tally it turns a
 * file of questions (text lines or JSON objects) into records tagged with
 * the batch and each question's item, leaving out those a done list names;
 * with --tally it passes records on, counting them, with a progress line on
 * a terminal and a summary at the end.  rk think -b composes it; see rk(1).
 */
#include <err.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/rk.h"
#include "llm/llm.h"
#include "think/think.h"

static const char *batch;
static const char *input;	/* NULL for standard input */

enum { O_DONE = RK_OPT_OWN, O_TALLY };

static const struct rk_optdef opts[] = {
	{ 'b', NULL, required_argument, "batch", "the batch" },
	{ 'n', NULL, required_argument, "total",
	    "with --tally: how many records are coming" },
	{ O_DONE, "done", required_argument, "done",
	    "leave out the questions this done list names" },
	{ O_TALLY, "tally", no_argument, NULL,
	    "count the records rather than make them" },
	RK_OPTS_HELP,
	RK_OPTS_END
};

static struct rk_cli cli = { .defs = opts, .usage =
	"usage: rk-batch [-b batch] [--done done] [file]\n"
	"       rk-batch --tally [-b batch] [-n total]\n" };

/* The done list of rk-trace done --batch: {"item":..,"query":..} lines. */
static void
load_done(const char *path, struct rk_hset *done)
{
	struct rk_reader *r;
	FILE *fp;
	json_t *o;
	char buf[32];

	if ((fp = fopen(path, "r")) == NULL)
		err(RK_EXIT_IO, "%s", path);
	r = rk_reader_new(fp, path);
	while ((o = rk_read(r)) != NULL) {
		const json_t *item = json_object_get(o, "item");

		if (json_is_string(item) || json_is_integer(item))
			rk_hset_add(done, rk_hash2(rk_batch_item_text(item, buf,
			    sizeof(buf)),
			    rk_get_string(o, "query")));
		json_decref(o);
	}
	if (rk_reader_bad(r) > 0)
		errx(RK_EXIT_INPUT, "%s: not a done list", path);
	rk_reader_free(r);
	fclose(fp);
}

static void
emit(json_t *rec)
{
	if (rk_write(stdout, rec) == -1)
		err(RK_EXIT_IO, "stdout");
	json_decref(rec);
}

/* An error record for the question at lineno, reported and passed on. */
static void
reject(const char *query, json_t *item, size_t lineno, const char *code,
    const char *what)
{
	json_t *rec = rk_batch_tag(rk_record_new(query), batch, item);
	const char *name = strcmp(input, "-") == 0 ? RK_STDIN : input;

	warnx("%s:%zu: %s", name, lineno, what);
	rk_set_error(rec, rk_progname, code, "%s:%zu: %s", name, lineno,
	    what);
	rk_exit_status(RK_EXIT_INPUT);
	emit(rec);
}

struct feed {
	struct rk_reader	*r;
	struct rk_hset		 done, seen;
	size_t			 skipped;
	int			 jsonl;		/* -1 until the first line */
};

/*
 * The question of one line as a record, or NULL when the line is an error
 * (sent on).  *item is set either way, a new reference.  Whether the
 * questions are JSON objects or text is up to the first line.
 */
static json_t *
line_record(struct feed *f, const char *line, size_t len, json_t **item)
{
	size_t lineno = rk_reader_lineno(f->r);
	const char *code;
	struct rk_error e;
	json_t *rec;

	if (f->jsonl == -1)
		f->jsonl = line[strspn(line, " \t")] == '{';
	if (!rk_utf8_valid(line, len) || len >= rk_limits.record ||
	    memchr(line, '\0', len) != NULL) {
		*item = json_integer(lineno);
		emit(rk_batch_tag(rk_reader_record(f->r), batch, *item));
		return NULL;	/* the reader's error record, sent on */
	}
	if (rk_batch_question(batch, f->jsonl, line, len, lineno, &rec, item,
	    &code, &e) != 0)
		reject(NULL, *item, lineno, code, e.msg);
	return rec;
}

/* Blank lines from..to are questions left empty: errors, each. */
static void
blank_lines(size_t from, size_t to)
{
	json_t *item;

	for (; from <= to; from++) {
		reject(NULL, item = json_integer(from), from, "empty",
		    "an empty line");
		json_decref(item);
	}
}

/*
 * Has an earlier question this item?  Text lines are numbered, so only
 * the ids of JSON lines are kept, and memory stays flat for text.
 */
static int
seen_before(struct feed *f, const char *item)
{
	return f->jsonl == 1 && rk_hset_add(&f->seen, rk_hash2(item, NULL));
}

static void
feed(struct feed *f)
{
	size_t len, last = 0;
	const char *line, *item;
	char buf[32];
	json_t *rec, *id;
	int obj;

	while ((line = rk_read_raw(f->r, &len, &obj)) != NULL) {
		blank_lines(last + 1, rk_reader_lineno(f->r) - 1);
		last = rk_reader_lineno(f->r);
		if ((rec = line_record(f, line, len, &id)) == NULL)
			;
		else if (rk_has_error(rec)) {
			emit(rec);
			rec = NULL;
		}
		else if (seen_before(f, item =
		    rk_batch_item_text(id, buf, sizeof(buf))))
			reject(rk_get_string(rec, "query"), id, last,
			    "duplicate-id", "an id that an earlier "
			    "question has");
		else if (rk_hset_has(&f->done, rk_hash2(item,
		    rk_get_string(rec, "query"))))
			f->skipped++;
		else {
			emit(rec);
			rec = NULL;
		}
		json_decref(rec);
		json_decref(id);
	}
	blank_lines(last + 1, rk_reader_lineno(f->r));
}

/* --- --tally: counting the records at the end of the pipeline --------- */

struct tally {
	size_t		 total, seen, completed, failed;
	double		 start, drawn, tokens, usd;
	struct rk_prices prices;
	int		 tty;
};

/* "0:42", "1:02:03" */
static void
clock_text(double s, char *buf, size_t size)
{
	long t = s > 0 && s < 1e8 ? (long)(s + 0.5) : 0;

	if (t >= 3600)
		snprintf(buf, size, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60,
		    t % 60);
	else
		snprintf(buf, size, "%ld:%02ld", t / 60, t % 60);
}

static void
progress(struct tally *t, double now)
{
	double secs = (now - t->start) / 1000, rate = t->seen / secs;
	char eta[32];

	t->drawn = now;
	clock_text(t->total > t->seen && rate > 0 ?
	    (t->total - t->seen) / rate : 0, eta, sizeof(eta));
	fprintf(stderr, "\r\033[K%s: %zu/%zu done, %zu failed, %.1f/s, "
	    "ETA %s, %.0f tokens, $%.4f", batch ? batch : "batch",
	    t->seen, t->total, t->failed, rate, eta, t->tokens, t->usd);
}

static void
count(struct tally *t, const json_t *rec)
{
	static const struct rk_budget tokens = { RK_BUDGET_TOKENS, 0 };
	static const struct rk_budget usd = { RK_BUDGET_USD, 0 };

	t->seen++;
	if (rk_has_error(rec))
		t->failed++;
	else if (json_object_get(rec, "result") != NULL)
		t->completed++;
	t->tokens += rk_budget_spent(&tokens, rec, &t->prices);
	t->usd += rk_budget_spent(&usd, rec, &t->prices);
}

/*
 * A record as it came when it is one, else the error record that takes
 * its place; the exit status follows the one rule for records written.
 */
static void
pass_on(struct rk_reader *r, const char *line, size_t len, json_t *rec)
{
	if (!rk_reader_verbatim(r)) {
		if (rk_write(stdout, rec) == -1)
			err(RK_EXIT_IO, "stdout");
		return;
	}
	if (fwrite(line, 1, len, stdout) != len || putchar('\n') == EOF)
		err(RK_EXIT_IO, "stdout");
	rk_note_written(rk_has_error(rec) ? RK_EXIT_FAILED : 0);
}

static void
summary(struct tally *t)
{
	double secs = (rk_now_ms() - t->start) / 1000;
	size_t other = t->seen - t->completed - t->failed;
	char took[32];

	if (t->tty)
		fputs("\r\033[K", stderr);
	clock_text(secs, took, sizeof(took));
	fprintf(stderr, "%s: %s%s%s%zu question%s: %zu completed, %zu failed",
	    rk_progname, batch ? "batch " : "", batch ? batch : "",
	    batch ? ": " : "", t->seen, t->seen == 1 ? "" : "s", t->completed,
	    t->failed);
	if (other > 0)
		fprintf(stderr, ", %zu incomplete", other);
	fprintf(stderr, "; %s, %.1f/s, %.0f tokens, $%.4f\n", took,
	    secs > 0 ? t->seen / secs : 0, t->tokens, t->usd);
}

static void
tally(struct tally *t)
{
	struct rk_reader *r = rk_reader_fd(STDIN_FILENO, RK_STDIN);
	const char *line;
	size_t len;
	int obj;
	char msg[256];

	if (rk_prices_load(&t->prices, msg, sizeof(msg)) == -1)
		errx(RK_EXIT_CONFIG, "%s", msg);
	t->tty = isatty(STDERR_FILENO);
	t->start = rk_now_ms();
	while ((line = rk_read_raw(r, &len, &obj)) != NULL) {
		json_t *rec = rk_reader_record(r);

		count(t, rec);
		pass_on(r, line, len, rec);
		json_decref(rec);
		if (t->tty && rk_now_ms() - t->drawn >= 200) {
			fflush(stdout);
			progress(t, rk_now_ms());
		}
	}
	summary(t);
	rk_exit_status(rk_reader_status(r));
	rk_prices_free(&t->prices);
	rk_reader_free(r);
}

static void
run_feed(const char *done)
{
	struct feed f = { NULL, { NULL, 0, 0 }, { NULL, 0, 0 }, 0, -1 };
	FILE *fp = stdin;

	if (done != NULL)
		load_done(done, &f.done);
	if (input == NULL)
		input = RK_STDIN;
	else if ((fp = fopen(input, "r")) == NULL)
		err(RK_EXIT_IO, "%s", input);
	f.r = rk_reader_new(fp, input);
	feed(&f);
	if (f.skipped > 0)
		warnx("%s%s%zu questions done before, not asked again",
		    batch ? batch : "", batch ? ": " : "", f.skipped);
	rk_exit_status(rk_reader_status(f.r));
	rk_reader_free(f.r);
	rk_hset_free(&f.done);
	rk_hset_free(&f.seen);
}

int
main(int argc, char *argv[])
{
	struct tally t = { 0 };
	struct rk_error e;
	const char *done = NULL;
	long n = 0;
	int c, act, tflag = 0;

	if (rk_init(argv[0], &e) != 0)
		errx(e.code, "%s", e.msg);
	while ((c = rk_getopt(&cli, argc, argv)) != -1)
		switch (c) {
		case 'b':
			batch = optarg;
			break;
		case 'n':
			if (rk_parse_uint(optarg, 1L << 40, &n) == -1)
				errx(RK_EXIT_USAGE, "-n: not a count: '%s'",
				    optarg);
			break;
		case O_DONE:
			done = optarg;
			break;
		case O_TALLY:
			tflag = 1;
			break;
		default:
			if ((act = rk_opt(&cli, c, optarg)) != RK_OPT_NEXT)
				return rk_opt_done(&cli, act);
		}
	argc -= optind, argv += optind;
	if (argc > 1 || (tflag && (argc > 0 || done != NULL)))
		return rk_opt_done(&cli, RK_OPT_USAGE);
	if (argc == 1 && strcmp(argv[0], "-") != 0)
		input = argv[0];
	if (tflag) {
		t.total = n;
		tally(&t);
	} else
		run_feed(done);
	return rk_finish();
}
