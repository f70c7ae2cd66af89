/*
 * What rk-llm and rk-embed share on their command lines: the defaults of
 * the transfer settings, the variables that change them, and the cache
 * they name.
 */
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
