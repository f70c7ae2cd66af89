/*
 * rk-bench: how well profiles answer a dataset of questions.  One pipeline
 * of the ordinary filters (rk-prompt | rk-llm | rk-prompt ...) serves the
 * whole run: questions go in as records naming their profile, up to -P at
 * a time, samples of a self-consistency vote added as the vote needs them,
 * and each finished question is scored and stored so that a rerun resumes.
 */
#include <err.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/rk.h"
#include "llm/llm.h"
#include "think/think.h"

static struct {
	const char	*profiles, *db, *format, *score_cmd;
	long		 jobs, sample;
	unsigned long long seed;
	int		 fresh, mock, scored;
	enum rk_bench_score score;
	struct rk_vote_opts vote;
} opt = { .profiles = "balanced", .format = "text", .jobs = 4 };

enum { O_FRESH = RK_OPT_OWN, O_MOCK, O_SCORE, O_SCORECMD, O_SEED, O_SUBSET };

static const struct rk_optdef opts[] = {
	{ 'd', NULL, required_argument, "db", "the results database" },
	{ 'f', NULL, required_argument, "format",
	    "output format: text, json or csv" },
	{ 'n', NULL, required_argument, "samples",
	    "samples a question, voted on; default 1" },
	{ 'P', NULL, required_argument, "jobs",
	    "questions in flight; default 4" },
	{ 'p', NULL, required_argument, "profile,...",
	    "profiles or protocols, comma-separated; balanced" },
	{ O_FRESH, "fresh", no_argument, NULL,
	    "ask again, ignoring stored results" },
	{ O_MOCK, "mock", no_argument, NULL, "use the built-in offline model" },
	{ O_SCORE, "score", required_argument, "mode",
	    "auto, numeric, choice or exact" },
	{ O_SCORECMD, "score-cmd", required_argument, "command",
	    "score with command instead" },
	{ O_SEED, "seed", required_argument, "seed",
	    "the seed of --subset; default 0" },
	{ O_SUBSET, "subset", required_argument, "count",
	    "only count questions, drawn with --seed" },
	RK_OPTS_HELP,
	RK_OPTS_END
};

static const char *const formats[] = { "text", "json", "csv", NULL };

static struct rk_cli cli = { .defs = opts, .formats = formats, .usage =
	"usage: rk-bench [-f text | json | csv] [-d db] [-n samples] "
	"[-P jobs]\n"
	"                [-p profile,...] [--fresh] [--mock]\n"
	"                [--score mode | --score-cmd command] [--seed seed]\n"
	"                [--subset count] dataset\n" };

static struct rk_bench_set set;
static char *dataset, *model;
static struct rk_contenders who;
static struct rk_runs runs;
static struct rk_result *results;	/* [profile][question] */
static struct rk_results store;
static struct rk_prices prices;
static int progress;

/* ---- finishing a question ---------------------------------------------- */

/* The answer of a finished question, scored unless --score-cmd will. */
static int
score(struct rk_result *r, const struct rk_bench_item *it, const json_t *rec,
    struct rk_error *e)
{
	r->answer = rk_bench_answer(rec, it);
	r->failed = rk_has_error(rec) || r->answer == NULL;
	r->correct = r->failed ? 0 : opt.score_cmd != NULL ? -1 :
	    rk_bench_correct(opt.score, r->answer, it);
	r->run = rk_get_string(rec, "id");
	if (rk_results_put(&store, r) == -1)
		return rk_error_set(e, RK_EXIT_IO, "%s: cannot store a result",
		    opt.db);
	r->run = NULL;
	return 0;
}

static int
finished(void *arg, size_t t, const json_t *rec, const json_t *samples,
    double ms, struct rk_error *e)
{
	struct rk_result *r = &results[t];

	(void)arg;
	r->ms = ms;
	r->agreement = rk_get_number(json_object_get(rec, "vote"), "agreement",
	    0);
	rk_bench_usage(samples, &prices, r);
	if (progress)
		fprintf(stderr, "\r%zu/%zu", runs.done, runs.ntasks);
	return score(r, &set.v[t % set.n], rec, e);
}

/* ---- setting up -------------------------------------------------------- */

/* One task per profile and question; those stored before are done. */
static void
make_tasks(void)
{
	size_t n = who.n * set.n;
	struct rk_run_task *tasks = rk_xmalloc((n ? n : 1) * sizeof(*tasks));

	results = rk_xmalloc((n ? n : 1) * sizeof(*results));
	memset(tasks, 0, n * sizeof(*tasks));
	memset(results, 0, n * sizeof(*results));
	for (size_t i = 0; i < n; i++) {
		struct rk_result *r = &results[i];

		tasks[i].question = set.v[i % set.n].question;
		tasks[i].profile = who.name[i / set.n];
		tasks[i].kind = who.kind[i / set.n];
		*r = (struct rk_result){ .dataset = dataset, .qid =
		    set.v[i % set.n].id, .profile = tasks[i].profile, .model =
		    model, .samples = opt.vote.samples };
		if (opt.fresh && i % set.n == 0 &&
		    rk_results_forget(&store, r) == -1)
			errx(RK_EXIT_IO, "%s: cannot clear results", opt.db);
		if ((tasks[i].skip = rk_results_get(&store, r)) == -1)
			errx(RK_EXIT_IO, "%s: cannot read results", opt.db);
	}
	runs = (struct rk_runs){ .tasks = tasks, .ntasks = n, .jobs =
	    opt.jobs, .vote = &opt.vote, .mock = opt.mock, .finished =
	    finished };
}

static void
setup(const char *path)
{
	struct rk_error e;
	char *db = NULL, real[PATH_MAX];

	if (rk_runs_profiles(&who, opt.profiles, &e) != 0)
		errx(e.code, "%s", e.msg);
	if (rk_bench_load(&set, path, &e) != 0)
		errx(e.code, "%s", e.msg);
	if (opt.sample > 0)
		rk_bench_sample(&set, (size_t)opt.sample, opt.seed);
	dataset = rk_xstrdup(realpath(path, real) ? real : path);
	if (opt.mock)
		model = rk_xstrdup("mock-1");
	else
		rk_asprintf(&model, "%s/%s", rk_getenv("RK_PROVIDER") ?
		    rk_getenv("RK_PROVIDER") : "", rk_getenv("RK_MODEL") ?
		    rk_getenv("RK_MODEL") : "default");
	if (opt.db == NULL)
		opt.db = db = rk_xdg_path("DATA", "bench.db");
	if (db != NULL)
		*strrchr(db, '/') = '\0', rk_mkdirs(db), db[strlen(db)] = '/';
	if (rk_results_open(&store, opt.db, &e) != 0)
		errx(e.code, "%s", e.msg);
	if (rk_prices_load(&prices, e.msg, sizeof(e.msg)) == -1)
		errx(RK_EXIT_CONFIG, "%s", e.msg);
	make_tasks();
}

static void
run(void)
{
	struct rk_error e;
	int rc = rk_runs_run(&runs, who.steps, &e);

	if (rc == RK_EXIT_FAILED)
		rk_exit_status(rc);	/* a stage failed: report what's done */
	else if (rc != 0)
		errx(rc, "%s", e.msg);
	if (progress)
		fprintf(stderr, "\r\033[K");
}

/* Store the verdicts that differ from those stored. */
static int
store_changed(const int *was, size_t n, struct rk_error *e)
{
	struct rk_result *changed = rk_xmalloc((n ? n : 1) * sizeof(*changed));
	size_t k = 0;
	int rc = 0;

	for (size_t i = 0; i < n; i++)
		if (results[i].correct != was[i])
			changed[k++] = results[i];
	if (k > 0 && rk_results_rescored(&store, changed, k) == -1)
		rc = rk_error_set(e, RK_EXIT_IO, "%s: cannot store the scores",
		    opt.db);
	free(changed);
	return rc;
}

/*
 * Score the answers, those stored before too: a rerun with another
 * --score or --score-cmd scores again what it has, sending nothing.
 */
static void
rescore(void)
{
	size_t n = who.n * set.n, k = 0;
	const char **answers = rk_xmalloc((n ? n : 1) * sizeof(*answers));
	const char **golds = rk_xmalloc((n ? n : 1) * sizeof(*golds));
	size_t *at = rk_xmalloc((n ? n : 1) * sizeof(*at));
	int *verdicts = rk_xmalloc((n ? n : 1) * sizeof(*verdicts));
	int *was = rk_xmalloc((n ? n : 1) * sizeof(*was)), rc;
	struct rk_error e;

	for (size_t i = 0; i < n; i++) {
		struct rk_result *r = &results[i];
		const struct rk_bench_item *it = &set.v[i % set.n];

		was[i] = r->correct;
		if (r->failed || r->answer == NULL)
			r->correct = 0;
		else if (opt.score_cmd == NULL)
			r->correct = rk_bench_correct(opt.score, r->answer, it);
		else
			answers[k] = r->answer, golds[k] = it->gold,
			    at[k++] = i;
	}
	rc = k > 0 ? rk_scorer_run(opt.score_cmd, answers, golds, k, verdicts,
	    &e) : 0;
	for (size_t j = 0; j < k && rc == 0; j++)
		results[at[j]].correct = verdicts[j];
	if (rc == 0)
		rc = store_changed(was, n, &e);
	free(answers);
	free(golds);
	free(at);
	free(verdicts);
	free(was);
	if (rc != 0)
		errx(e.code, "%s", e.msg);
}

static void
report(void)
{
	struct rk_bench_stats st;
	int fmt = strcmp(opt.format, "json") == 0 ? 1 :
	    strcmp(opt.format, "csv") == 0 ? 2 : 0;

	rk_bench_print(stdout, fmt, NULL, NULL, 0);
	for (size_t i = 0; i < who.n; i++) {
		rk_bench_stats(results + i * set.n, set.n, &st);
		rk_bench_print(stdout, fmt, who.name[i], &st,
		    opt.vote.samples > 1);
	}
}

static void
options(int argc, char *argv[])
{
	long v;
	int ch, act;

	while ((ch = rk_getopt(&cli, argc, argv)) != -1)
		switch (ch) {
		case 'd': opt.db = optarg; break;
		case 'n':
			if (rk_parse_uint(optarg, 100, &opt.vote.samples) ==
			    -1 || opt.vote.samples < 1)
				errx(RK_EXIT_USAGE, "-n: not a number of "
				    "samples from 1 to 100: '%s'", optarg);
			break;
		case 'P':
			if (rk_parse_uint(optarg, 1024, &opt.jobs) == -1 ||
			    opt.jobs < 1)
				errx(RK_EXIT_USAGE, "-P: not a number from "
				    "1 to 1024: '%s'", optarg);
			break;
		case O_SUBSET:
			if (rk_parse_uint(optarg, LONG_MAX, &opt.sample) ==
			    -1 || opt.sample < 1)
				errx(RK_EXIT_USAGE, "--subset: not a number of "
				    "questions: '%s'", optarg);
			break;
		case O_FRESH: opt.fresh = 1; break;
		case O_MOCK: opt.mock = 1; break;
		case O_SCORE:
			if (rk_bench_score_parse(optarg, &opt.score) == -1)
				errx(RK_EXIT_USAGE, "--score: auto, numeric, "
				    "choice or exact, not '%s'", optarg);
			opt.scored = 1;
			break;
		case O_SCORECMD: opt.score_cmd = optarg; break;
		case O_SEED:
			if (rk_parse_uint(optarg, LONG_MAX, &v) == -1)
				errx(RK_EXIT_USAGE,
				    "--seed: not a number: '%s'", optarg);
			opt.seed = (unsigned long long)v;
			break;
		default:
			if ((act = rk_opt(&cli, ch, optarg)) != RK_OPT_NEXT)
				exit(rk_opt_done(&cli, act));
		}
	opt.format = formats[cli.format];
	if (cli.profile != NULL)
		opt.profiles = cli.profile;
	if (opt.scored && opt.score_cmd != NULL)
		errx(RK_EXIT_USAGE,
		    "--score and --score-cmd exclude each other");
}

int
main(int argc, char *argv[])
{
	struct rk_error e;

	if (rk_init(argv[0], &e) != 0)
		errx(e.code, "%s", e.msg);
	rk_vote_defaults(&opt.vote);
	opt.vote.samples = 1;
	options(argc, argv);
	if (argc - optind != 1)
		return rk_opt_done(&cli, RK_OPT_USAGE);
	if (!opt.mock && rk_getenv("RK_PROVIDER") == NULL)
		errx(RK_EXIT_CONFIG, "no model provider configured: set "
		    "RK_PROVIDER (see rk-llm(1)), or use --mock for the "
		    "built-in offline model");
	progress = isatty(STDERR_FILENO);
	setup(argv[optind]);
	run();
	rescore();
	report();
	for (size_t i = 0; i < who.n * set.n; i++)
		free(results[i].answer);
	rk_bench_free(&set);
	rk_results_close(&store);
	return rk_finish();
}
