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
	struct rk_client c;	/* what rk-llm takes too */
	const char	*api, *field, *batch, *dimensions;
	int		 lines;
};

/* v, if set, a whole number from min to max, into *n */
static void
set_count(const char *what, const char *v, long min, long max, long *n)
{
	if (v != NULL && (rk_parse_uint(v, max, n) == -1 || *n < min))
		errx(RK_EXIT_USAGE, "%s: not a number from %ld to %ld: '%s'",
		    what, min, max, v);
}

enum { O_API = RK_CL_OWN, O_BATCH, O_DIMS, O_FIELD, O_LINES };

static const struct rk_optdef opts[] = {
	{ 'm', NULL, required_argument, "model",
	    "the embedding model" },
	{ 'P', NULL, required_argument, "requests",
	    "requests in flight; default 4" },
	{ O_API, "api", required_argument, "name",
	    "the wire format: openai or ollama" },
	RK_CL_OPT_BASE,
	{ O_BATCH, "batch", required_argument, "n",
	    "texts in a request; default 32" },
	RK_CL_OPT_CACHE,
	RK_CL_OPT_TTL,
	RK_CL_OPT_CONNECT,
	{ O_DIMS, "dimensions", required_argument, "n",
	    "the vectors' length, asked for and checked" },
	{ O_FIELD, "field", required_argument, "name",
	    "the record's member to embed; default text or query" },
	RK_CL_OPT_IDLE,
	{ O_LINES, "lines", no_argument, NULL,
	    "every line a text, none a record" },
	{ RK_CL_MOCK, "mock", no_argument, NULL,
	    "use the offline model, a hashed bag of words" },
	RK_CL_OPT_NOCACHE,
	{ RK_CL_PROVIDER, "provider", required_argument, "name",
	    "openai, ollama, another preset or mock" },
	RK_CL_OPT_RETRIES,
	RK_CL_OPT_RETRYTIME,
	RK_CL_OPT_TIMEOUT,
	RK_OPTS_HELP,
	RK_OPTS_END
};

static const struct rk_client_env env = {
	"RK_EMBED_PROVIDER", "RK_EMBED_BASE_URL", "RK_EMBED_MODEL"
};

static struct rk_cli cli = { .defs = opts, .usage =
	"usage: rk-embed [-m model] [-P requests] [--api name] "
	"[--base-url url]\n"
	"                [--batch n] [--cache file] [--cache-ttl time]\n"
	"                [--connect-timeout time] [--dimensions n] "
	"[--field name]\n"
	"                [--idle-timeout time] [--lines] [--mock] "
	"[--no-cache]\n"
	"                [--provider name] [--retries n] [--retry-time time]\n"
	"                [--timeout time]\n" };

/* one of rk-embed's options or the client's: 1, 0 if not one, -1 if wrong */
static int
option(void *settings, int ch, const char *arg)
{
	struct settings *st = settings;

	switch (ch) {
	case O_API: st->api = arg; break;
	case O_BATCH: st->batch = arg; break;
	case O_DIMS: st->dimensions = arg; break;
	case O_FIELD: st->field = arg; break;
	case O_LINES: st->lines = 1; break;
	default:
		return rk_client_option(&st->c, ch, arg, &cli.err);
	}
	return 1;
}

/* the numbers given as text, checked into E: bad ones are usage errors */
static void
check_numbers(struct settings *st, struct rk_embedder *E)
{
	struct rk_error e;

	if (rk_client_check(&st->c, &e) != 0)
		errx(e.code, "%s", e.msg);
	st->c.o.say = rk_say_stderr;
	E->o = st->c.o;
	E->batch = 32;
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
	if (st->c.provider == NULL) {
		snprintf(err, size, "no embedding provider configured: set "
		    "RK_EMBED_PROVIDER or RK_PROVIDER, or use --mock for the "
		    "offline model (see rk-embed(1))");
		return -1;
	}
	if (rk_embed_setup(E, st->c.provider, st->c.base_url, st->c.model,
	    st->api, err, size) == -1)
		return -1;
	if (E->api != RK_EMBED_HASH)
		E->cache = rk_client_cache(&st->c);
	return 0;
}

/* the filter, set up from st: main's exit status */
static int
embed(struct settings *st)
{
	struct rk_embedder E;
	char errbuf[512];

	memset(&E, 0, sizeof(E));
	check_numbers(st, &E);
	if (setup(&E, st, errbuf, sizeof(errbuf)) == -1) {
		rk_embed_free(&E);
		errx(RK_EXIT_CONFIG, "%s", errbuf);
	}
	rk_exit_status(rk_embed_filter(&E, st->field, st->lines));
	rk_cache_close(E.cache);
	rk_embed_free(&E);
	return rk_finish();
}

int
main(int argc, char *argv[])
{
	struct settings st;
	struct rk_error e;
	int status;

	memset(&st, 0, sizeof(st));
	if (rk_client_init(&st.c, argv[0], &env, &e) != 0)
		errx(e.code, "%s", e.msg);
	st.api = rk_getenv("RK_EMBED_API");
	if ((status = rk_getopt_all(&cli, argc, argv, option, &st)) != -1)
		return status;
	return embed(&st);
}
