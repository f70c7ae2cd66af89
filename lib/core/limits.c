/* resource limits: the seed's defaults, each overridable from RK_MAX_* */
#include <stdlib.h>

#include "core/rk.h"

struct rk_limits rk_limits = {
	.record = 10u << 20,
	.response = 1u << 20,
	.document = 50u << 20,
	.concurrency = 10,
};

static int
load_size(const char *var, size_t *dst, struct rk_error *e)
{
	const char *v = rk_getenv(var);

	if (v != NULL && rk_parse_size(v, dst) == -1)
		return rk_error_set(e, RK_EXIT_USAGE, "%s: not a size: '%s'",
		    var, v);
	return 0;
}

/* The limits from the environment; a bad one is RK_EXIT_USAGE. */
int
rk_limits_load(struct rk_error *e)
{
	const char *v;
	int rc;

	if ((rc = load_size("RK_MAX_RECORD", &rk_limits.record, e)) != 0 ||
	    (rc = load_size("RK_MAX_RESPONSE", &rk_limits.response, e)) != 0 ||
	    (rc = load_size("RK_MAX_DOCUMENT", &rk_limits.document, e)) != 0)
		return rc;
	if ((v = rk_getenv("RK_MAX_CONCURRENCY")) != NULL &&
	    (rk_parse_uint(v, 1024, &rk_limits.concurrency) == -1 ||
	    rk_limits.concurrency < 1))
		return rk_error_set(e, RK_EXIT_USAGE,
		    "RK_MAX_CONCURRENCY: not 1..1024: '%s'", v);
	return 0;
}
