/*
 * rk-llm: fulfil each record's pending request against a model provider,
 * parse the reply into the step's structured output and append the step.
 * The work is in lib/llm (run.c: the offline model; sched.c: HTTP); this
 * is the command line.
 */
#include <err.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/rk.h"
#include "llm/llm.h"

/* what the command line and the environment ask for */
struct settings {
	const char	*provider, *base_url, *model, *cache_path;
	const char	*budget, *parallel, *retries, *rps;
	double		 ttl_ms;
	int		 no_cache, progress;
	struct rk_llm_opts o;
};

enum { O_BASE = RK_OPT_OWN, O_BUDGET, O_CACHE, O_TTL, O_CONNECT, O_IDLE,
    O_MOCK, O_NOCACHE, O_NOSTREAM, O_PROGRESS, O_PROVIDER, O_RETRIES,
    O_RETRYTIME, O_RPS, O_STREAM, O_TIMEOUT };

static const struct rk_optdef opts[] = {
	{ 'm', NULL, required_argument, "model", "the model" },
	{ 'P', NULL, required_argument, "jobs",
	    "requests in flight; default 4" },
	{ 'u', NULL, no_argument, NULL,
	    "unordered output: each record as soon as it is done" },
	{ O_BASE, "base-url", required_argument, "url",
	    "the provider's API endpoint" },
	{ O_BUDGET, "budget", required_argument, "limit",
	    "stop at a limit: 30s, 5m, 2000t or $0.50" },
	{ O_CACHE, "cache", required_argument, "file", "the response cache" },
	{ O_TTL, "cache-ttl", required_argument, "time",
	    "how long a cached response serves; default 24h" },
	{ O_CONNECT, "connect-timeout", required_argument, "time",
	    "to connect; default 10s" },
	{ O_IDLE, "idle-timeout", required_argument, "time",
	    "with nothing received; default 60s" },
	{ O_MOCK, "mock", no_argument, NULL, "use the built-in offline model" },
	{ O_NOCACHE, "no-cache", no_argument, NULL,
	    "neither read nor write the cache" },
	{ O_NOSTREAM, "no-stream", no_argument, NULL, "ask for whole replies" },
	{ O_PROGRESS, "progress", optional_argument, "steps",
	    "the step waited for, on a terminal" },
	{ O_PROVIDER, "provider", required_argument, "name",
	    "openai, anthropic or mock" },
	{ O_RETRIES, "retries", required_argument, "n",
	    "retries of a failed request; default 4" },
	{ O_RETRYTIME, "retry-time", required_argument, "time",
	    "the most time spent retrying; default 2m" },
	{ O_RPS, "rps", required_argument, "rate",
	    "at most rate requests a second" },
	{ O_STREAM, "stream", no_argument, NULL,
	    "stream replies, echoed on a terminal" },
	{ O_TIMEOUT, "timeout", required_argument, "time",
	    "for a whole request; default 10m" },
	RK_OPTS_HELP,
	RK_OPTS_END
};

static struct rk_cli cli = { .defs = opts, .usage =
	"usage: rk-llm [-u] [-m model] [-P jobs] [--base-url url] "
	"[--budget limit]\n"
	"              [--cache file] [--cache-ttl time] "
	"[--connect-timeout time]\n"
	"              [--idle-timeout time] [--mock] [--no-cache] "
	"[--no-stream]\n"
	"              [--progress[=steps]] [--provider name] [--retries n] "
	"[--retry-time time]\n"
	"              [--rps rate] [--stream] [--timeout time]\n" };

/* "1.5" (seconds), "250ms", "30s", "5m", "1h", "1d" -> milliseconds */
static int
parse_duration(const char *s, double *ms)
{
	char num[64];
	size_t n = strlen(s);
	double mul = 1000, v;

	if (n == 0 || n >= sizeof(num))
		return -1;
	strlcpy(num, s, sizeof(num));
	if (n > 2 && strcmp(s + n - 2, "ms") == 0) {
		mul = 1;
		num[n - 2] = '\0';
	} else
		switch (s[n - 1]) {
		case 's': mul = 1000; num[n - 1] = '\0'; break;
		case 'm': mul = 60000; num[n - 1] = '\0'; break;
		case 'h': mul = 3600000; num[n - 1] = '\0'; break;
		case 'd': mul = 86400000; num[n - 1] = '\0'; break;
		default: break;
		}
	if (rk_parse_double(num, &v) == -1 || v < 0 || v > 1e9)
		return -1;
	*ms = v * mul;
	return 0;
}

/* --progress, with the most steps a run can have if given */
static void
set_progress(struct settings *st, const char *arg)
{
	st->progress = 1;
	if (arg != NULL && rk_parse_uint(arg, 1000, &st->o.steps) == -1)
		errx(RK_EXIT_USAGE, "--progress: not a number of steps: '%s'",
		    arg);
}

static void
set_duration(const char *what, const char *v, double *ms)
{
	if (v != NULL && parse_duration(v, ms) == -1)
		errx(RK_EXIT_USAGE, "%s: not a time such as 30, 2.5s, 500ms or "
		    "5m: '%s'", what, v);
}

static void
set_count(const char *what, const char *v, long max, long *n)
{
	if (v != NULL && rk_parse_uint(v, max, n) == -1)
		errx(RK_EXIT_USAGE, "%s: not a number from 0 to %ld: '%s'",
		    what, max, v);
}

static int
env_bool(const char *name)
{
	const char *v = rk_getenv(name);

	if (v == NULL || strcmp(v, "0") == 0 || strcmp(v, "no") == 0)
		return 0;
	if (strcmp(v, "1") == 0 || strcmp(v, "yes") == 0)
		return 1;
	errx(RK_EXIT_USAGE, "%s: not 0 or 1: '%s'", name, v);
}

static void
read_env(struct settings *st)
{
	st->provider = rk_getenv("RK_PROVIDER");
	st->base_url = rk_getenv("RK_BASE_URL");
	st->model = rk_getenv("RK_MODEL");
	st->cache_path = rk_getenv("RK_CACHE_DB");
	st->budget = rk_getenv("RK_BUDGET");
	st->parallel = rk_getenv("RK_PARALLEL");
	st->retries = rk_getenv("RK_RETRIES");
	st->rps = rk_getenv("RK_RPS");
	st->o.stream = env_bool("RK_STREAM");
	st->o.unordered = env_bool("RK_UNORDERED");
	st->no_cache = env_bool("RK_NO_CACHE");
	set_duration("RK_CONNECT_TIMEOUT", rk_getenv("RK_CONNECT_TIMEOUT"),
	    &st->o.connect_ms);
	set_duration("RK_IDLE_TIMEOUT", rk_getenv("RK_IDLE_TIMEOUT"),
	    &st->o.idle_ms);
	set_duration("RK_TIMEOUT", rk_getenv("RK_TIMEOUT"), &st->o.total_ms);
	set_duration("RK_RETRY_TIME", rk_getenv("RK_RETRY_TIME"),
	    &st->o.retry_ms);
	set_duration("RK_CACHE_TTL", rk_getenv("RK_CACHE_TTL"), &st->ttl_ms);
}

/* one of rk-llm's own options; 0 if ch is not one */
static int
option(struct settings *st, int ch, const char *arg)
{
	switch (ch) {
	case 'm': st->model = arg; break;
	case 'P': st->parallel = arg; break;
	case 'u': st->o.unordered = 1; break;
	case O_BASE: st->base_url = arg; break;
	case O_BUDGET: st->budget = arg; break;
	case O_CACHE: st->cache_path = arg; break;
	case O_TTL: set_duration("--cache-ttl", arg, &st->ttl_ms); break;
	case O_CONNECT:
		set_duration("--connect-timeout", arg, &st->o.connect_ms);
		break;
	case O_IDLE: set_duration("--idle-timeout", arg, &st->o.idle_ms); break;
	case O_MOCK: st->provider = "mock"; break;
	case O_NOCACHE: st->no_cache = 1; break;
	case O_NOSTREAM: st->o.stream = 0; break;
	case O_PROGRESS: set_progress(st, arg); break;
	case O_PROVIDER: st->provider = arg; break;
	case O_RETRIES: st->retries = arg; break;
	case O_RETRYTIME:
		set_duration("--retry-time", arg, &st->o.retry_ms);
		break;
	case O_RPS: st->rps = arg; break;
	case O_STREAM: st->o.stream = 1; break;
	case O_TIMEOUT: set_duration("--timeout", arg, &st->o.total_ms); break;
	default: return 0;
	}
	return 1;
}

static void
parse_args(struct settings *st, int argc, char *argv[])
{
	int ch, act;

	while ((ch = rk_getopt(&cli, argc, argv)) != -1)
		if (!option(st, ch, optarg) &&
		    (act = rk_opt(&cli, ch, optarg)) != RK_OPT_NEXT)
			exit(rk_opt_done(&cli, act));
	if (optind != argc)
		exit(rk_opt_done(&cli, RK_OPT_USAGE));
}

/* the numbers given as text, checked: bad ones are usage errors */
static void
check_numbers(struct settings *st)
{
	set_count("-P", st->parallel, rk_limits.concurrency, &st->o.parallel);
	if (st->o.parallel < 1)
		errx(RK_EXIT_USAGE, "-P: not a number from 1 to %ld: '%s'",
		    rk_limits.concurrency, st->parallel);
	set_count("--retries", st->retries, 100, &st->o.retries);
	if (st->rps != NULL && (rk_parse_double(st->rps, &st->o.rps) == -1 ||
	    st->o.rps <= 0 || st->o.rps > 1e6))
		errx(RK_EXIT_USAGE, "--rps: not a positive number: '%s'",
		    st->rps);
	if (st->budget != NULL &&
	    rk_budget_parse(st->budget, &st->o.budget) == -1)
		errx(RK_EXIT_USAGE, "--budget: not a limit such as 30s, 5m, "
		    "2000t or $0.50: '%s'", st->budget);
}

/*
 * The provider, prices and cache: 0, or RK_EXIT_CONFIG with the reason in
 * err (never a key).
 */
static int
setup(struct rk_llm *L, const struct settings *st, char *err, size_t size)
{
	int mock = st->provider != NULL && strcmp(st->provider, "mock") == 0;
	char *path;

	if (st->provider == NULL) {
		snprintf(err, size, "no model provider configured: set "
		    "RK_PROVIDER, or use --mock for the built-in offline model "
		    "(see rk-llm(1))");
		return RK_EXIT_CONFIG;
	}
	/* prices and context windows; the offline model needs neither */
	if ((L->o.budget.kind == RK_BUDGET_USD || !mock) &&
	    rk_prices_load(&L->prices, err, size) == -1)
		return RK_EXIT_CONFIG;
	if (mock) {
		L->provider = &rk_mock_provider;
		return 0;
	}
	if (rk_endpoint_setup(&L->ep, st->provider, st->base_url, st->model,
	    err, size) == -1)
		return RK_EXIT_CONFIG;
	if (L->o.budget.kind == RK_BUDGET_USD &&
	    rk_price_find(&L->prices, L->ep.model) == NULL) {
		snprintf(err, size, "no price for model '%s' in prices.tsv: "
		    "add a line to $XDG_CONFIG_HOME/reasonkit/prices.tsv, or "
		    "use a token or time budget", L->ep.model);
		return RK_EXIT_CONFIG;
	}
	if (st->no_cache)
		return 0;
	path = st->cache_path ? rk_xstrdup(st->cache_path) :
	    rk_xdg_path("CACHE", "responses.db");
	if ((L->cache = rk_cache_open(path, st->ttl_ms / 1000, err, size)) ==
	    NULL)
		warnx("cache: %s; going on without it", err);
	free(path);
	return 0;
}

/* what the run reports as it goes; its status comes back from the run */
static void
say(int code, const char *msg)
{
	(void)code;
	warnx("%s", msg);
}

int
main(int argc, char *argv[])
{
	struct settings st = { .ttl_ms = 86400000, .o = { .parallel = 4,
	    .retries = 4, .connect_ms = 10000, .idle_ms = 60000,
	    .total_ms = 600000, .retry_ms = 120000 } };
	struct rk_llm L;
	struct rk_error e;
	char errbuf[512];
	int status;

	if (rk_init(argv[0], &e) != 0)
		errx(e.code, "%s", e.msg);
	read_env(&st);
	parse_args(&st, argc, argv);
	check_numbers(&st);
	memset(&L, 0, sizeof(L));
	L.o = st.o;
	L.o.say = say;
	L.o.echo = st.o.stream && isatty(STDERR_FILENO);
	L.o.progress = st.progress && isatty(STDERR_FILENO);
	if ((status = setup(&L, &st, errbuf, sizeof(errbuf))) != 0) {
		/* the records still come out, each with the error */
		warnx("%s", errbuf);
		status = rk_llm_run_failed(&L, STDIN_FILENO, stdout, status,
		    "bad-config", errbuf);
	} else if (L.provider != NULL)
		status = rk_llm_run_mock(&L, STDIN_FILENO, stdout);
	else
		status = rk_llm_run_http(&L, STDIN_FILENO, stdout);
	rk_exit_status(status);
	rk_cache_close(L.cache);
	rk_endpoint_free(&L.ep);
	rk_prices_free(&L.prices);
	return rk_finish();
}
