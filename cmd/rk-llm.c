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
	struct rk_client c;	/* what rk-embed takes too */
	const char	*budget, *rps;
	int		 progress;
};

enum { O_BUDGET = RK_CL_OWN, O_NOSTREAM, O_PROGRESS, O_RPS, O_STREAM };

static const struct rk_optdef opts[] = {
	{ 'm', NULL, required_argument, "model", "the model" },
	{ 'P', NULL, required_argument, "jobs",
	    "requests in flight; default 4" },
	{ 'u', NULL, no_argument, NULL,
	    "unordered output: each record as soon as it is done" },
	RK_CL_OPT_BASE,
	{ O_BUDGET, "budget", required_argument, "limit",
	    "stop at a limit: 30s, 5m, 2000t or $0.50" },
	RK_CL_OPT_CACHE,
	RK_CL_OPT_TTL,
	RK_CL_OPT_CONNECT,
	RK_CL_OPT_IDLE,
	{ RK_CL_MOCK, "mock", no_argument, NULL,
	    "use the built-in offline model" },
	RK_CL_OPT_NOCACHE,
	{ O_NOSTREAM, "no-stream", no_argument, NULL, "ask for whole replies" },
	{ O_PROGRESS, "progress", optional_argument, "steps",
	    "the step waited for, on a terminal" },
	{ RK_CL_PROVIDER, "provider", required_argument, "name",
	    "openai, anthropic or mock" },
	RK_CL_OPT_RETRIES,
	RK_CL_OPT_RETRYTIME,
	{ O_RPS, "rps", required_argument, "rate",
	    "at most rate requests a second" },
	{ O_STREAM, "stream", no_argument, NULL,
	    "stream replies, echoed on a terminal" },
	RK_CL_OPT_TIMEOUT,
	RK_OPTS_HELP,
	RK_OPTS_END
};

static const struct rk_client_env env = {
	"RK_PROVIDER", "RK_BASE_URL", "RK_MODEL"
};

static struct rk_cli cli = { .defs = opts, .usage =
	"usage: rk-llm [-u] [-m model] [-P jobs] [--base-url url] "
	"[--budget limit]\n"
	"              [--cache file] [--cache-ttl time] "
	"[--connect-timeout time]\n"
	"              [--idle-timeout time] [--mock] [--no-cache] "
	"[--no-stream]\n"
	"              [--progress[=steps]] [--provider name] [--retries n]\n"
	"              [--retry-time time] [--rps rate] [--stream] "
	"[--timeout time]\n" };

/* --progress, with the most steps a run can have if given */
static void
set_progress(struct settings *st, const char *arg)
{
	st->progress = 1;
	if (arg != NULL && rk_parse_uint(arg, 1000, &st->c.o.steps) == -1)
		errx(RK_EXIT_USAGE, "--progress: not a number of steps: '%s'",
		    arg);
}

static int
env_bool(const char *name)
{
	struct rk_error e;
	int v = rk_env_flag(name, &e);

	if (v == -1)
		errx(e.code, "%s", e.msg);
	return v;
}

/* rk-llm's own variables */
static void
read_env(struct settings *st)
{
	st->budget = rk_getenv("RK_BUDGET");
	st->rps = rk_getenv("RK_RPS");
	st->c.o.stream = env_bool("RK_STREAM");
	st->c.o.unordered = env_bool("RK_UNORDERED");
}

/* one of rk-llm's options or the client's: 1, 0 if not one, -1 if wrong */
static int
option(void *settings, int ch, const char *arg)
{
	struct settings *st = settings;

	switch (ch) {
	case 'u': st->c.o.unordered = 1; break;
	case O_BUDGET: st->budget = arg; break;
	case O_NOSTREAM: st->c.o.stream = 0; break;
	case O_PROGRESS: set_progress(st, arg); break;
	case O_RPS: st->rps = arg; break;
	case O_STREAM: st->c.o.stream = 1; break;
	default:
		return rk_client_option(&st->c, ch, arg, &cli.err);
	}
	return 1;
}

/* the numbers given as text, checked: bad ones are usage errors */
static void
check_numbers(struct settings *st)
{
	struct rk_error e;

	if (rk_client_check(&st->c, &e) != 0)
		errx(e.code, "%s", e.msg);
	if (st->rps != NULL && (rk_parse_double(st->rps, &st->c.o.rps) == -1 ||
	    st->c.o.rps <= 0 || st->c.o.rps > 1e6))
		errx(RK_EXIT_USAGE, "--rps: not a positive number: '%s'",
		    st->rps);
	if (st->budget != NULL &&
	    rk_budget_parse(st->budget, &st->c.o.budget) == -1)
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
	int mock = st->c.provider != NULL && strcmp(st->c.provider, "mock") ==
	    0;

	if (st->c.provider == NULL) {
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
	if (rk_endpoint_setup(&L->ep, st->c.provider, st->c.base_url,
	    st->c.model, err, size) == -1)
		return RK_EXIT_CONFIG;
	if (L->o.budget.kind == RK_BUDGET_USD &&
	    rk_price_find(&L->prices, L->ep.model) == NULL) {
		snprintf(err, size, "no price for model '%s' in prices.tsv: "
		    "add a line to $XDG_CONFIG_HOME/reasonkit/prices.tsv, or "
		    "use a token or time budget", L->ep.model);
		return RK_EXIT_CONFIG;
	}
	L->cache = rk_client_cache(&st->c);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct settings st;
	struct rk_llm L;
	struct rk_error e;
	char errbuf[512];
	int status;

	memset(&st, 0, sizeof(st));
	if (rk_client_init(&st.c, argv[0], &env, &e) != 0)
		errx(e.code, "%s", e.msg);
	read_env(&st);
	if ((status = rk_getopt_all(&cli, argc, argv, option, &st)) != -1)
		return status;
	check_numbers(&st);
	memset(&L, 0, sizeof(L));
	st.c.o.say = rk_say_stderr;
	L.o = st.c.o;
	L.o.echo = st.c.o.stream && isatty(STDERR_FILENO);
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
