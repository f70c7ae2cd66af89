/* resource limits: the seed's defaults, each overridable from RK_MAX_* */
#include <err.h>
#include <stdlib.h>

#include "core/rk.h"

struct rk_limits rk_limits = {
	.record = 10u << 20,
	.response = 1u << 20,
	.document = 50u << 20,
	.concurrency = 10,
};

static void
load_size(const char *var, size_t *dst)
{
	const char *v = rk_getenv(var);

	if (v != NULL && rk_parse_size(v, dst) == -1)
		errx(RK_EXIT_USAGE, "%s: not a size: '%s'", var, v);
}

void
rk_limits_load(void)
{
	const char *v;

	load_size("RK_MAX_RECORD", &rk_limits.record);
	load_size("RK_MAX_RESPONSE", &rk_limits.response);
	load_size("RK_MAX_DOCUMENT", &rk_limits.document);
	if ((v = rk_getenv("RK_MAX_CONCURRENCY")) != NULL &&
	    (rk_parse_uint(v, 1024, &rk_limits.concurrency) == -1 ||
	    rk_limits.concurrency < 1))
		errx(RK_EXIT_USAGE, "RK_MAX_CONCURRENCY: not 1..1024: '%s'", v);
}
