/*
 * What rk-llm and rk-embed share on their command lines: the options and
 * variables of the provider, the transfers and the cache, their defaults,
 * and the cache they name.
 */
#include <err.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/rk.h"
#include "llm/llm.h"

const struct rk_llm_opts rk_llm_defaults = { .parallel = 4, .retries = 4,
    .connect_ms = 10000, .idle_ms = 60000, .total_ms = 600000,
    .retry_ms = 120000 };

/* v, if set, a time into *ms: 0, or RK_EXIT_USAGE with e set */
int
rk_duration_arg(const char *what, const char *v, double *ms,
    struct rk_error *e)
{
	if (v != NULL && rk_parse_duration(v, ms) == -1)
		return rk_error_set(e, RK_EXIT_USAGE, "%s: not a time such as "
		    "30, 2.5s, 500ms or 5m: '%s'", what, v);
	return 0;
}

/* variable name as a flag: 0 (unset, 0, no) or 1 (1, yes), or -1 + e */
int
rk_env_flag(const char *name, struct rk_error *e)
{
	const char *v = rk_getenv(name);

	if (v == NULL || strcmp(v, "0") == 0 || strcmp(v, "no") == 0)
		return 0;
	if (strcmp(v, "1") == 0 || strcmp(v, "yes") == 0)
		return 1;
	rk_error_set(e, RK_EXIT_USAGE, "%s: not 0 or 1: '%s'", name, v);
	return -1;
}

/*
 * The timeouts and the cache's TTL from RK_CONNECT_TIMEOUT,
 * RK_IDLE_TIMEOUT, RK_TIMEOUT, RK_RETRY_TIME and RK_CACHE_TTL: 0, or
 * RK_EXIT_USAGE with e set.
 */
int
rk_llm_env_times(struct rk_llm_opts *o, double *ttl_ms, struct rk_error *e)
{
	const struct {
		const char	*name;
		double		*ms;
	} v[] = { { "RK_CONNECT_TIMEOUT", &o->connect_ms },
	    { "RK_IDLE_TIMEOUT", &o->idle_ms }, { "RK_TIMEOUT", &o->total_ms },
	    { "RK_RETRY_TIME", &o->retry_ms }, { "RK_CACHE_TTL", ttl_ms } };

	for (size_t i = 0; i < sizeof(v) / sizeof(*v); i++)
		if (rk_duration_arg(v[i].name, rk_getenv(v[i].name), v[i].ms,
		    e) != 0)
			return RK_EXIT_USAGE;
	return 0;
}

/*
 * The cache at path, or by default $XDG_CACHE_HOME/reasonkit/responses.db,
 * serving replies for ttl_ms: NULL with the reason in err.
 */
struct rk_cache *
rk_cache_open_user(const char *path, double ttl_ms, char *err,
    size_t errsize)
{
	char *p = path ? rk_xstrdup(path) : rk_xdg_path("CACHE",
	    "responses.db");
	struct rk_cache *c = rk_cache_open(p, ttl_ms / 1000, err, errsize);

	free(p);
	return c;
}

/*
 * The start of a client tool's main: rk_init(argv0), the shared settings'
 * defaults, then RK_CACHE_DB, RK_PARALLEL, RK_RETRIES, RK_NO_CACHE, the
 * times, and the provider, base URL and model from the variables named
 * in env (RK_PROVIDER, RK_BASE_URL, RK_MODEL for rk-llm).  Other names
 * for the provider and base URL fall back to RK_PROVIDER and RK_BASE_URL;
 * the model does not, being of another kind.  0, or an exit status with e
 * set.
 */
int
rk_client_init(struct rk_client *c, const char *argv0,
    const struct rk_client_env *env, struct rk_error *e)
{
	memset(c, 0, sizeof(*c));
	if (rk_init(argv0, e) != 0)
		return e->code;
	c->o = rk_llm_defaults;
	c->ttl_ms = RK_CACHE_TTL_MS;
	c->provider = rk_getenv_or(env->provider, "RK_PROVIDER");
	c->base_url = rk_getenv_or(env->base_url, "RK_BASE_URL");
	c->model = rk_getenv(env->model);
	c->cache_path = rk_getenv("RK_CACHE_DB");
	c->parallel = rk_getenv("RK_PARALLEL");
	c->parallel_by = "RK_PARALLEL";
	c->retries = rk_getenv("RK_RETRIES");
	c->retries_by = "RK_RETRIES";
	if ((c->no_cache = rk_env_flag("RK_NO_CACHE", e)) == -1)
		return RK_EXIT_USAGE;
	return rk_llm_env_times(&c->o, &c->ttl_ms, e);
}

/*
 * Option ch (with arg) if it is a shared one (-m, -P, RK_CL_*): 1, or 0 if
 * it is not, or -1 with e set if its argument is bad.
 */
int
rk_client_option(struct rk_client *c, int ch, const char *arg,
    struct rk_error *e)
{
	double *ms = NULL;
	const char *what = NULL;

	switch (ch) {
	case 'm': c->model = arg; what = "-m"; break;
	case 'P': c->parallel = arg; c->parallel_by = "-P"; return 1;
	case RK_CL_BASE: c->base_url = arg; return 1;
	case RK_CL_CACHE: c->cache_path = arg; what = "--cache"; break;
	case RK_CL_MOCK: c->provider = "mock"; return 1;
	case RK_CL_NOCACHE: c->no_cache = 1; return 1;
	case RK_CL_PROVIDER: c->provider = arg; return 1;
	case RK_CL_RETRIES:
		c->retries = arg;
		c->retries_by = "--retries";
		return 1;
	case RK_CL_TTL: what = "--cache-ttl"; ms = &c->ttl_ms; break;
	case RK_CL_CONNECT:
		what = "--connect-timeout";
		ms = &c->o.connect_ms;
		break;
	case RK_CL_IDLE: what = "--idle-timeout"; ms = &c->o.idle_ms; break;
	case RK_CL_RETRYTIME:
		what = "--retry-time";
		ms = &c->o.retry_ms;
		break;
	case RK_CL_TIMEOUT: what = "--timeout"; ms = &c->o.total_ms; break;
	default: return 0;
	}
	if (ms == NULL && *arg == '\0') {
		rk_error_set(e, RK_EXIT_USAGE, "%s: an empty name", what);
		return -1;
	}
	return ms == NULL || rk_duration_arg(what, arg, ms, e) == 0 ? 1 : -1;
}

void
rk_say(const struct rk_llm_opts *o, int code, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (o->say == NULL)
		return;
	va_start(ap, fmt);
	rk_vasprintf(&msg, fmt, ap);
	va_end(ap);
	o->say(code, msg);
	free(msg);
}

/* the say callback of a tool that only shows what the run reports */
void
rk_say_stderr(int code, const char *msg)
{
	(void)code;
	warnx("%s", msg);
}

/* -P and --retries, as given, into c->o: 0, or RK_EXIT_USAGE with e set */
int
rk_client_check(struct rk_client *c, struct rk_error *e)
{
	if (c->parallel != NULL && (rk_parse_uint(c->parallel,
	    rk_limits.concurrency, &c->o.parallel) == -1 || c->o.parallel < 1))
		return rk_error_set(e, RK_EXIT_USAGE, "%s: not a number from 1 "
		    "to %ld: '%s'", c->parallel_by, rk_limits.concurrency,
		    c->parallel);
	if (c->retries != NULL && rk_parse_uint(c->retries, 100,
	    &c->o.retries) == -1)
		return rk_error_set(e, RK_EXIT_USAGE, "%s: not a number from 0 "
		    "to 100: '%s'", c->retries_by, c->retries);
	return 0;
}

/* The cache the settings name, if any: NULL, said to c->o.say, if none. */
struct rk_cache *
rk_client_cache(const struct rk_client *c)
{
	struct rk_cache *cache;
	char err[512];

	if (c->no_cache)
		return NULL;
	if ((cache = rk_cache_open_user(c->cache_path, c->ttl_ms, err,
	    sizeof(err))) == NULL)
		rk_say(&c->o, 0, "cache: %s; going on without it", err);
	return cache;
}
