/*
 * rk-compare: one question, one plain call (the raw protocol) against
 * profiles, side by side: the answer, its confidence, the tokens, the cost
 * and the time each took.  The contenders run at once through one
 * pipeline of the ordinary filters, as rk-bench runs its questions.
 */
#include <err.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/rk.h"
#include "llm/llm.h"
#include "think/think.h"

static struct {
	const char	*profiles, *format;
	int		 mock;
} opt = { .profiles = "balanced", .format = "text" };

static struct rk_contenders who;
static struct rk_prices prices;
static json_t *rows;		/* one object per contender */

enum { O_MOCK = RK_OPT_OWN };

static const struct rk_optdef opts[] = {
	{ 'f', NULL, required_argument, "format",
	    "output format: text (default) or json" },
	{ 'p', NULL, required_argument, "profile,...",
	    "profiles or protocols, comma-separated; balanced" },
	{ O_MOCK, "mock", no_argument, NULL, "use the built-in offline model" },
	RK_OPTS_HELP,
	RK_OPTS_END
};

static const char *const formats[] = { "text", "json", NULL };

static struct rk_cli cli = { .defs = opts, .formats = formats, .usage =
	"usage: rk-compare [-f text | json] [-p profile,...] [--mock] "
	"question ...\n" };

/* A contender's row: what rk-bench counts for a question, and more. */
static int
finished(void *arg, size_t t, const json_t *rec, const json_t *samples,
    double ms, struct rk_error *e)
{
	struct rk_result r = { 0 };
	const char *answer = rk_get_string(rec, "answer");
	int failed = rk_has_error(rec) || answer == NULL;

	(void)arg, (void)e;
	rk_bench_usage(samples, &prices, &r);
	json_array_set_new(rows, t, json_pack("{s:s, s:s, s:s?, s:o, s:I, "
	    "s:I, s:f, s:f, s:b}", "contender", who.name[t], "kind",
	    who.kind[t], "answer", failed ? NULL : answer, "confidence",
	    failed ? json_null() : json_real(rk_get_number(json_object_get(
	    rec, "result"), "confidence", 0)), "tokens_in", (json_int_t)r.in,
	    "tokens_out", (json_int_t)r.out, "cost", rk_round(r.cost, 9),
	    "ms", ms, "failed", failed));
	if (failed)
		rk_exit_status(RK_EXIT_FAILED);
	return 0;
}

static void
print_text(void)
{
	const json_t *row;
	size_t i;

	printf("%-12s %10s %8s %8s %10s %10s  %s\n", "contender",
	    "confidence", "in", "out", "cost $", "ms", "answer");
	json_array_foreach(rows, i, row) {
		const json_t *c = json_object_get(row, "confidence");
		char conf[16];

		if (json_is_number(c))
			snprintf(conf, sizeof(conf), "%.3f",
			    json_number_value(c));
		else
			strlcpy(conf, "-", sizeof(conf));
		printf("%-12s %10s %8lld %8lld %10.6f %10.1f  %s\n",
		    rk_get_string(row, "contender"), conf,
		    (long long)json_integer_value(json_object_get(row,
		    "tokens_in")), (long long)json_integer_value(
		    json_object_get(row, "tokens_out")), rk_get_number(row,
		    "cost", 0), rk_get_number(row, "ms", 0),
		    json_is_true(json_object_get(row, "failed")) ? "(failed)" :
		    rk_get_string(row, "answer"));
	}
}

static void
print_json(void)
{
	const json_t *row;
	size_t i;

	json_array_foreach(rows, i, row) {
		json_dumpf(row, stdout, JSON_COMPACT | JSON_REAL_PRECISION(6));
		putchar('\n');
	}
}

/* The question: the words, joined by spaces. */
static char *
question(int argc, char *argv[])
{
	char *q = rk_xstrdup(argv[0]), *t;

	for (int i = 1; i < argc; i++) {
		rk_asprintf(&t, "%s %s", q, argv[i]);
		free(q);
		q = t;
	}
	return q;
}

static void
compare(const char *q)
{
	struct rk_vote_opts vote;
	struct rk_run_task *tasks;
	struct rk_runs runs;
	struct rk_error e;
	char *list;
	int rc;

	rk_asprintf(&list, "raw,%s", opt.profiles);
	if (rk_runs_profiles(&who, list, &e) != 0)
		errx(e.code, "%s", e.msg);
	free(list);
	if (rk_prices_load(&prices, e.msg, sizeof(e.msg)) == -1)
		errx(RK_EXIT_CONFIG, "%s", e.msg);
	rk_vote_defaults(&vote);
	vote.samples = 1;
	tasks = rk_xmalloc(who.n * sizeof(*tasks));
	memset(tasks, 0, who.n * sizeof(*tasks));
	rows = json_array();
	for (size_t i = 0; i < who.n; i++) {
		tasks[i] = (struct rk_run_task){ .question = q, .profile =
		    who.name[i], .kind = who.kind[i] };
		json_array_append_new(rows, json_null());
	}
	runs = (struct rk_runs){ .tasks = tasks, .ntasks = who.n, .jobs =
	    (long)who.n, .vote = &vote, .mock = opt.mock, .finished =
	    finished };
	if ((rc = rk_runs_run(&runs, who.steps, &e)) == RK_EXIT_FAILED)
		rk_exit_status(rc);
	else if (rc != 0)
		errx(rc, "%s", e.msg);
	free(tasks);
}

static void
options(int argc, char *argv[])
{
	int ch, act;

	while ((ch = rk_getopt(&cli, argc, argv)) != -1)
		if (ch == O_MOCK)
			opt.mock = 1;
		else if ((act = rk_opt(&cli, ch, optarg)) != RK_OPT_NEXT)
			exit(rk_opt_done(&cli, act));
	opt.format = formats[cli.format];
	if (cli.profile != NULL)
		opt.profiles = cli.profile;
	if (argc - optind < 1)
		exit(rk_opt_done(&cli, RK_OPT_USAGE));
}

int
main(int argc, char *argv[])
{
	struct rk_error e;
	char *q;

	if (rk_init(argv[0], &e) != 0)
		errx(e.code, "%s", e.msg);
	options(argc, argv);
	if (!opt.mock && rk_getenv("RK_PROVIDER") == NULL)
		errx(RK_EXIT_CONFIG, "no model provider configured: set "
		    "RK_PROVIDER (see rk-llm(1)), or use --mock for the "
		    "built-in offline model");
	q = question(argc - optind, argv + optind);
	compare(q);
	if (strcmp(opt.format, "json") == 0)
		print_json();
	else
		print_text();
	json_decref(rows);
	rk_runs_profiles_free(&who);
	free(q);
	return rk_finish();
}
