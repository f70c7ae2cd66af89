/*
 * rk-bench: how well profiles answer a dataset of questions.  One pipeline
 * of the ordinary filters (rk-prompt | rk-llm | rk-prompt ...) serves the
 * whole run: questions go in as records naming their profile, up to -P at
 * a time, samples of a self-consistency vote added as the vote needs them,
 * and each finished question is scored and stored so that a rerun resumes.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/rk.h"
#include "llm/llm.h"
#include "think/think.h"

static struct {
	const char	*profiles, *db, *format, *score_cmd;
	long		 jobs, sample;
	unsigned long long seed;
	int		 fresh, mock;
	enum rk_bench_score score;
	struct rk_vote_opts vote;
} opt = { .profiles = "balanced", .format = "text", .jobs = 4 };

static void
usage(FILE *fp, int status)
{
	fprintf(fp, "usage: rk-bench [-f text | json | csv] [-d db] "
	    "[-n samples] [-P jobs]\n"
	    "                [-p profile,...] [-s count] [--fresh] [--mock]\n"
	    "                [--score mode | --score-cmd command] "
	    "[--seed seed] dataset\n");
	exit(status);
}

/* ---- the questions of a run: one per question and profile -------------- */

struct task {
	const struct rk_bench_item *item;
	const char	*profile;
	const char	*kind;		/* "profile" or "protocol" */
	json_t		*rec;		/* the question's record */
	json_t		*samples;	/* finished sample records */
	long		 sent;
	int		 stored;	/* done in an earlier run */
	double		 t0;
};

static struct rk_bench_set set;
static char *dataset, *model;
static char **profiles;
static size_t nprofiles;
static struct task *tasks;
static struct rk_result *results;	/* [profile][question] */
static size_t ntasks, next_task, done, inflight;
static json_t *by_group;		/* sample group -> task index */
static struct rk_results store;
static struct rk_scorer scorer;
static struct rk_prices prices;
static int progress;

/* ---- the pipeline ------------------------------------------------------ */

static struct rk_chain chain = { -1, -1, NULL, 0 };
static struct rk_sbuf outq, inq;

/* rk-prompt, then rk-llm | rk-prompt for each step */
static void
pipeline(long steps)
{
	char jobs[24], *prompt[] = { "rk-prompt", NULL };
	char *llm[] = { "rk-llm", "-P", jobs, opt.mock ? "--mock" : NULL,
	    NULL };
	char ***argvs = rk_xmalloc((size_t)(2 * steps + 1) * sizeof(*argvs));
	struct rk_error e;

	/* -P is the user's own limit, over the default one */
	snprintf(jobs, sizeof(jobs), "%ld", opt.jobs * opt.vote.samples);
	if (opt.jobs * opt.vote.samples > rk_limits.concurrency)
		setenv("RK_MAX_CONCURRENCY", jobs, 1);
	argvs[0] = prompt;
	for (long i = 0; i < steps; i++)
		argvs[2 * i + 1] = llm, argvs[2 * i + 2] = prompt;
	if (rk_chain_start(&chain, argvs, (size_t)(2 * steps + 1), &e) != 0)
		errx(e.code, "%s", e.msg);
	free(argvs);
	fcntl(chain.in, F_SETFL, O_NONBLOCK);
}

static void
send_record(const json_t *rec)
{
	char *s = json_dumps(rec, JSON_COMPACT);

	rk_sbuf_add(&outq, s, strlen(s));
	rk_sbuf_add(&outq, "\n", 1);
	free(s);
}

static void
send_samples(size_t t, long n)
{
	struct task *k = &tasks[t];

	for (long i = 0; i < n && opt.vote.samples == 1; i++)
		send_record(k->rec);
	for (long i = 0; i < n && opt.vote.samples > 1; i++) {
		json_t *s = rk_sample_new(k->rec, rk_get_string(k->rec, "id"),
		    k->sent + i, &opt.vote);

		send_record(s);
		json_decref(s);
	}
	k->sent += n;
}

/* ---- finishing a question ---------------------------------------------- */

static void
score(struct task *k, struct rk_result *r, const json_t *rec)
{
	struct rk_error e;
	char *answer = rk_bench_answer(rec, k->item);

	r->failed = rk_has_error(rec) || answer == NULL;
	r->answer = answer;
	if (r->failed)
		r->correct = 0;
	else if (opt.score_cmd == NULL)
		r->correct = rk_bench_correct(opt.score, answer, k->item);
	else if (rk_scorer_score(&scorer, answer, k->item->gold, &r->correct,
	    &e) != 0)
		errx(e.code, "%s", e.msg);
	r->run = rk_get_string(rec, "id");
	if (rk_results_put(&store, r) == -1)
		errx(RK_EXIT_IO, "%s: cannot store a result", opt.db);
	r->answer = r->run = NULL;
	free(answer);
}

static void
finish(size_t t)
{
	struct task *k = &tasks[t];
	struct rk_result *r = &results[t];
	json_t *rec = opt.vote.samples > 1 ? rk_vote(k->samples, &opt.vote) :
	    json_incref(json_array_get(k->samples, 0));

	r->ms = rk_round(rk_now_ms() - k->t0, 3);
	r->agreement = rk_get_number(json_object_get(rec, "vote"), "agreement",
	    0);
	rk_bench_usage(k->samples, &prices, r);
	score(k, r, rec);
	json_decref(rec);
	json_decref(k->samples);
	json_decref(k->rec);
	k->samples = k->rec = NULL;
	inflight--;
	done++;
	if (progress)
		fprintf(stderr, "\r%zu/%zu", done, ntasks);
}

static void
received(const char *line, size_t len)
{
	json_t *rec = json_loadb(line, len, 0, NULL);
	json_t *ix = json_object_get(by_group, rk_sample_group(rec) ?
	    rk_sample_group(rec) : "");
	size_t t = (size_t)json_integer_value(ix);
	long more;

	if (rec == NULL || ix == NULL)
		errx(RK_EXIT_INTERNAL, "the pipeline wrote a record that is not "
		    "one of ours");
	json_array_append_new(tasks[t].samples, rec);
	if ((long)json_array_size(tasks[t].samples) < tasks[t].sent)
		return;
	more = opt.vote.samples > 1 ? rk_vote_more(tasks[t].samples,
	    &opt.vote) : 0;
	if (more > 0)
		send_samples(t, more);
	else
		finish(t);
}

/* ---- the loop ---------------------------------------------------------- */

static void
start_tasks(void)
{
	while (inflight < (size_t)opt.jobs && next_task < ntasks) {
		size_t t = next_task++;
		struct task *k = &tasks[t];

		if (k->stored) {
			done++;
			continue;
		}
		k->rec = rk_record_new(k->item->question);
		json_object_set_new(k->rec, k->kind, json_string(k->profile));
		json_object_set_new(by_group, rk_get_string(k->rec, "id"),
		    json_integer((json_int_t)t));
		k->samples = json_array();
		k->t0 = rk_now_ms();
		inflight++;
		send_samples(t, opt.vote.samples > 1 ? rk_vote_more(k->samples,
		    &opt.vote) : 1);
	}
}

static void
read_records(void)
{
	char buf[65536];
	ssize_t n = read(chain.out, buf, sizeof(buf));
	size_t start = 0;

	if (n == 0)
		errx(RK_EXIT_INTERNAL, "the pipeline ended early");
	if (n < 0) {
		if (errno != EINTR && errno != EAGAIN)
			err(RK_EXIT_IO, "pipeline");
		return;
	}
	rk_sbuf_add(&inq, buf, (size_t)n);
	for (size_t i = 0; i < inq.len; i++)
		if (inq.s[i] == '\n') {
			received(inq.s + start, i - start);
			start = i + 1;
		}
	memmove(inq.s, inq.s + start, inq.len - start);
	inq.len -= start;
}

static void
write_records(void)
{
	ssize_t n = write(chain.in, outq.s, outq.len);

	if (n < 0 && errno != EAGAIN && errno != EINTR)
		err(RK_EXIT_IO, "pipeline");
	if (n > 0) {
		memmove(outq.s, outq.s + n, outq.len - (size_t)n);
		outq.len -= (size_t)n;
	}
}

static void
run(void)
{
	struct pollfd p[2];

	start_tasks();
	while (done < ntasks) {
		p[0] = (struct pollfd){ chain.out, POLLIN, 0 };
		p[1] = (struct pollfd){ chain.in, outq.len ? POLLOUT : 0, 0 };
		if (poll(p, 2, -1) == -1 && errno != EINTR)
			err(RK_EXIT_IO, "poll");
		if (p[1].revents & (POLLOUT | POLLERR))
			write_records();
		if (p[0].revents & (POLLIN | POLLHUP))
			read_records();
		start_tasks();
	}
	if (chain.npids > 0 && rk_chain_wait(&chain) != 0)
		rk_exit_status(RK_EXIT_FAILED);
	if (progress)
		fprintf(stderr, "\r\033[K");
}

/* ---- setting up -------------------------------------------------------- */

/* The profiles (or protocols) to run, checked; the pipeline's length. */
static long
load_profiles(const char **kinds[])
{
	struct rk_catalog *c = rk_catalog_new();
	char *list = rk_xstrdup(opt.profiles), *save = NULL, *e;
	long most = 0, n;

	for (char *w = strtok_r(list, ",", &save); w != NULL;
	    w = strtok_r(NULL, ",", &save)) {
		struct rk_profile *f;

		if ((n = rk_catalog_steps(c, w, 0, &e)) < 0)
			errx(RK_EXIT_CONFIG, "%s", e);
		most = n > most ? n : most;
		profiles = rk_xrealloc(profiles, (nprofiles + 1) *
		    sizeof(*profiles));
		*kinds = rk_xrealloc(*kinds, (nprofiles + 1) * sizeof(**kinds));
		(*kinds)[nprofiles] = (f = rk_catalog_profile(c, w, &e)) ?
		    "profile" : "protocol";
		free(e);
		profiles[nprofiles++] = rk_xstrdup(w);
	}
	free(list);
	rk_catalog_free(c);
	if (nprofiles == 0)
		errx(RK_EXIT_USAGE, "-p: no profile");
	return most;
}

/* One task per profile and question; those stored before are done. */
static size_t
make_tasks(const char *kinds[])
{
	size_t todo = 0;

	ntasks = nprofiles * set.n;
	tasks = rk_xmalloc((ntasks ? ntasks : 1) * sizeof(*tasks));
	results = rk_xmalloc((ntasks ? ntasks : 1) * sizeof(*results));
	memset(tasks, 0, ntasks * sizeof(*tasks));
	memset(results, 0, ntasks * sizeof(*results));
	for (size_t i = 0; i < ntasks; i++) {
		struct rk_result *r = &results[i];

		tasks[i].item = &set.v[i % set.n];
		tasks[i].profile = profiles[i / set.n];
		tasks[i].kind = kinds[i / set.n];
		*r = (struct rk_result){ .dataset = dataset, .qid =
		    tasks[i].item->id, .profile = tasks[i].profile, .model =
		    model, .samples = opt.vote.samples };
		if (opt.fresh && i % set.n == 0 &&
		    rk_results_forget(&store, r) == -1)
			errx(RK_EXIT_IO, "%s: cannot clear results", opt.db);
		if ((tasks[i].stored = rk_results_get(&store, r)) == -1)
			errx(RK_EXIT_IO, "%s: cannot read results", opt.db);
		todo += !tasks[i].stored;
	}
	return todo;
}

static void
setup(const char *path)
{
	const char **kinds = NULL;
	struct rk_error e;
	size_t todo;
	char *db = NULL, real[PATH_MAX];
	long steps = load_profiles(&kinds);

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
	if (opt.score_cmd && rk_scorer_open(&scorer, opt.score_cmd, &e) != 0)
		errx(e.code, "%s", e.msg);
	todo = make_tasks(kinds);
	free(kinds);
	by_group = json_object();
	signal(SIGPIPE, SIG_IGN);
	if (todo > 0)
		pipeline(steps);
}

static void
report(void)
{
	struct rk_bench_stats st;
	int fmt = strcmp(opt.format, "json") == 0 ? 1 :
	    strcmp(opt.format, "csv") == 0 ? 2 : 0;

	rk_bench_print(stdout, fmt, NULL, NULL, 0);
	for (size_t i = 0; i < nprofiles; i++) {
		rk_bench_stats(results + i * set.n, set.n, &st);
		rk_bench_print(stdout, fmt, profiles[i], &st,
		    opt.vote.samples > 1);
	}
}

static void
options(int argc, char *argv[])
{
	enum { O_FRESH = 256, O_MOCK, O_SCORE, O_SCORECMD, O_SEED };
	static const struct option longopts[] = {
		{ "fresh", no_argument, NULL, O_FRESH },
		{ "help", no_argument, NULL, 'h' },
		{ "mock", no_argument, NULL, O_MOCK },
		{ "score", required_argument, NULL, O_SCORE },
		{ "score-cmd", required_argument, NULL, O_SCORECMD },
		{ "seed", required_argument, NULL, O_SEED },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	long v;
	int ch;

	while ((ch = getopt_long(argc, argv, "d:f:hn:P:p:s:V", longopts,
	    NULL)) != -1)
		switch (ch) {
		case 'd': opt.db = optarg; break;
		case 'f': opt.format = optarg; break;
		case 'h': usage(stdout, RK_EXIT_OK); break;
		case 'n':
			if (rk_parse_uint(optarg, 100, &opt.vote.samples) ==
			    -1 || opt.vote.samples < 1)
				errx(RK_EXIT_USAGE, "-n: not a number of samples "
				    "from 1 to 100: '%s'", optarg);
			break;
		case 'P':
			if (rk_parse_uint(optarg, 1024, &opt.jobs) == -1 ||
			    opt.jobs < 1)
				errx(RK_EXIT_USAGE, "-P: not a number from 1 to "
				    "1024: '%s'", optarg);
			break;
		case 'p': opt.profiles = optarg; break;
		case 's':
			if (rk_parse_uint(optarg, LONG_MAX, &opt.sample) == -1 ||
			    opt.sample < 1)
				errx(RK_EXIT_USAGE, "-s: not a number of "
				    "questions: '%s'", optarg);
			break;
		case 'V': rk_version(); break;
		case O_FRESH: opt.fresh = 1; break;
		case O_MOCK: opt.mock = 1; break;
		case O_SCORE:
			if (rk_bench_score_parse(optarg, &opt.score) == -1)
				errx(RK_EXIT_USAGE, "--score: auto, numeric, "
				    "choice or exact, not '%s'", optarg);
			break;
		case O_SCORECMD: opt.score_cmd = optarg; break;
		case O_SEED:
			if (rk_parse_uint(optarg, LONG_MAX, &v) == -1)
				errx(RK_EXIT_USAGE, "--seed: not a number: '%s'",
				    optarg);
			opt.seed = (unsigned long long)v;
			break;
		default: usage(stderr, RK_EXIT_USAGE);
		}
	if (strcmp(opt.format, "text") != 0 && strcmp(opt.format, "json") != 0
	    && strcmp(opt.format, "csv") != 0)
		errx(RK_EXIT_USAGE, "-f: text, json or csv, not '%s'",
		    opt.format);
}

int
main(int argc, char *argv[])
{
	rk_init(argv[0]);
	rk_vote_defaults(&opt.vote);
	opt.vote.samples = 1;
	options(argc, argv);
	if (argc - optind != 1)
		usage(stderr, RK_EXIT_USAGE);
	if (!opt.mock && rk_getenv("RK_PROVIDER") == NULL)
		errx(RK_EXIT_CONFIG, "no model provider configured: set "
		    "RK_PROVIDER (see rk-llm(1)), or use --mock for the "
		    "built-in offline model");
	progress = isatty(STDERR_FILENO);
	setup(argv[optind]);
	run();
	report();
	rk_scorer_close(&scorer);
	rk_results_close(&store);
	return rk_finish();
}
