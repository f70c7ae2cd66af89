/*
 * rk-embed: lines or records in, vectors out.  The work is in lib/llm
 * (embed.c: the providers, batches and cache; embed_filter.c: the lines);
 * this is the command line.
 */
#include <err.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/rk.h"
#include "llm/llm.h"

#define REPLY_PER_TEXT	131072	/* bytes of reply a text may take */

/* what the command line and the environment ask for */
struct settings {
	const char	*provider, *base_url, *model, *api, *field;
	const char	*cache_path, *parallel, *retries, *batch, *dimensions;
	double		 ttl_ms;
	int		 no_cache, lines;
	struct rk_llm_opts o;
};

static void
usage(FILE *fp, int status)
{
	fprintf(fp, "usage: rk-embed [-m model] [-P requests] [--api name] "
	    "[--base-url url] [--batch n]\n"
	    "                [--cache file] [--cache-ttl time] "
	    "[--connect-timeout time]\n"
	    "                [--dimensions n] [--field name] "
	    "[--idle-timeout time] [--lines]\n"
	    "                [--mock] [--no-cache] [--provider name] "
	    "[--retries n] [--retry-time time]\n"
	    "                [--timeout time]\n");
	exit(status);
}

static void
set_duration(const char *what, const char *v, double *ms)
{
	struct rk_error e;

	if (rk_duration_arg(what, v, ms, &e) != 0)
		errx(e.code, "%s", e.msg);
}

/* v, if set, a whole number from min to max, into *n */
static void
set_count(const char *what, const char *v, long min, long max, long *n)
{
	if (v != NULL && (rk_parse_uint(v, max, n) == -1 || *n < min))
		errx(RK_EXIT_USAGE, "%s: not a number from %ld to %ld: '%s'",
		    what, min, max, v);
}

/* the first of two variables that is set */
static const char *
getenv2(const char *name, const char *fallback)
{
	const char *v = rk_getenv(name);

	return v != NULL ? v : rk_getenv(fallback);
}

static void
read_env(struct settings *st)
{
	struct rk_error e;

	st->provider = getenv2("RK_EMBED_PROVIDER", "RK_PROVIDER");
	st->base_url = getenv2("RK_EMBED_BASE_URL", "RK_BASE_URL");
	st->model = rk_getenv("RK_EMBED_MODEL");
	st->api = rk_getenv("RK_EMBED_API");
	st->cache_path = rk_getenv("RK_CACHE_DB");
	st->parallel = rk_getenv("RK_PARALLEL");
	st->retries = rk_getenv("RK_RETRIES");
	if ((st->no_cache = rk_env_flag("RK_NO_CACHE", &e)) == -1 ||
	    rk_llm_env_times(&st->o, &st->ttl_ms, &e) != 0)
		errx(e.code, "%s", e.msg);
}

enum { O_API = 256, O_BASE, O_BATCH, O_CACHE, O_TTL, O_CONNECT, O_DIMS,
    O_FIELD, O_IDLE, O_LINES, O_MOCK, O_NOCACHE, O_PROVIDER, O_RETRIES,
    O_RETRYTIME, O_TIMEOUT };

static void
option(struct settings *st, int ch, const char *arg)
{
	switch (ch) {
	case 'h': usage(stdout, RK_EXIT_OK); break;
	case 'm': st->model = arg; break;
	case 'P': st->parallel = arg; break;
	case 'V': rk_version(); break;
	case O_API: st->api = arg; break;
	case O_BASE: st->base_url = arg; break;
	case O_BATCH: st->batch = arg; break;
	case O_CACHE: st->cache_path = arg; break;
	case O_TTL: set_duration("--cache-ttl", arg, &st->ttl_ms); break;
	case O_CONNECT:
		set_duration("--connect-timeout", arg, &st->o.connect_ms);
		break;
	case O_DIMS: st->dimensions = arg; break;
	case O_FIELD: st->field = arg; break;
	case O_IDLE: set_duration("--idle-timeout", arg, &st->o.idle_ms); break;
	case O_LINES: st->lines = 1; break;
	case O_MOCK: st->provider = "mock"; break;
	case O_NOCACHE: st->no_cache = 1; break;
	case O_PROVIDER: st->provider = arg; break;
	case O_RETRIES: st->retries = arg; break;
	case O_RETRYTIME:
		set_duration("--retry-time", arg, &st->o.retry_ms);
		break;
	case O_TIMEOUT: set_duration("--timeout", arg, &st->o.total_ms); break;
	default: usage(stderr, RK_EXIT_USAGE);
	}
}

static void
parse_args(struct settings *st, int argc, char *argv[])
{
	static const struct option longopts[] = {
		RK_LONGOPTS,
		{ "api", required_argument, NULL, O_API },
		{ "base-url", required_argument, NULL, O_BASE },
		{ "batch", required_argument, NULL, O_BATCH },
		{ "cache", required_argument, NULL, O_CACHE },
		{ "cache-ttl", required_argument, NULL, O_TTL },
		{ "connect-timeout", required_argument, NULL, O_CONNECT },
		{ "dimensions", required_argument, NULL, O_DIMS },
		{ "field", required_argument, NULL, O_FIELD },
		{ "idle-timeout", required_argument, NULL, O_IDLE },
		{ "lines", no_argument, NULL, O_LINES },
		{ "mock", no_argument, NULL, O_MOCK },
		{ "no-cache", no_argument, NULL, O_NOCACHE },
		{ "provider", required_argument, NULL, O_PROVIDER },
		{ "retries", required_argument, NULL, O_RETRIES },
		{ "retry-time", required_argument, NULL, O_RETRYTIME },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "hm:P:V", longopts, NULL)) != -1)
		option(st, ch, optarg);
	if (optind != argc)
		usage(stderr, RK_EXIT_USAGE);
}

/* the numbers given as text, checked into E: bad ones are usage errors */
static void
check_numbers(const struct settings *st, struct rk_embedder *E)
{
	E->o = st->o;
	E->batch = 32;
	set_count("-P", st->parallel, 1, rk_limits.concurrency,
	    &E->o.parallel);
	set_count("--retries", st->retries, 0, 100, &E->o.retries);
	set_count("--batch", st->batch, 1, 4096, &E->batch);
	set_count("--dimensions", st->dimensions, 1, 65536, &E->dimensions);
	if (st->field != NULL && *st->field == '\0')
		errx(RK_EXIT_USAGE, "--field: an empty name");
	/* a reply holds a batch of vectors: 128K a text, or the limit */
	if (rk_limits.response < (size_t)E->batch * REPLY_PER_TEXT)
		rk_limits.response = (size_t)E->batch * REPLY_PER_TEXT;
}

/* The provider and the cache: 0, or -1 with the reason in err. */
static int
setup(struct rk_embedder *E, const struct settings *st, char *err,
    size_t size)
{
	if (st->provider == NULL) {
		snprintf(err, size, "no embedding provider configured: set "
		    "RK_EMBED_PROVIDER or RK_PROVIDER, or use --mock for the "
		    "offline model (see rk-embed(1))");
		return -1;
	}
	if (rk_embed_setup(E, st->provider, st->base_url, st->model, st->api,
	    err, size) == -1)
		return -1;
	if (st->no_cache || E->api == RK_EMBED_HASH)
		return 0;
	if ((E->cache = rk_cache_open_user(st->cache_path, st->ttl_ms, err,
	    size)) == NULL)
		warnx("cache: %s; going on without it", err);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct settings st = { .ttl_ms = RK_CACHE_TTL_MS };
	struct rk_embedder E;
	char errbuf[512];

	rk_init(argv[0]);
	st.o = rk_llm_defaults;
	read_env(&st);
	parse_args(&st, argc, argv);
	memset(&E, 0, sizeof(E));
	check_numbers(&st, &E);
	if (setup(&E, &st, errbuf, sizeof(errbuf)) == -1) {
		rk_embed_free(&E);
		errx(RK_EXIT_CONFIG, "%s", errbuf);
	}
	rk_exit_status(rk_embed_filter(&E, st.field, st.lines));
	rk_cache_close(E.cache);
	rk_embed_free(&E);
	return rk_finish();
}
