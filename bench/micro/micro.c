/*
 * In-process costs of the think path, against the budgets in
 * ARCHITECTURE.md: protocol parse + validate, prompt render, reply parse.
 * Each figure is the median over repeated batches, in microseconds.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rk.h"
#include "think/think.h"

#define BATCHES	15

typedef void (*bench_fn)(void *);

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median_us(bench_fn fn, void *arg, int iters)
{
	double t[BATCHES];

	for (int b = 0; b < BATCHES; b++) {
		double t0 = rk_now_ms();

		for (int i = 0; i < iters; i++)
			fn(arg);
		t[b] = (rk_now_ms() - t0) * 1000 / iters;
	}
	qsort(t, BATCHES, sizeof(*t), cmp_double);
	return t[BATCHES / 2];
}

static void
load_protocol(void *arg)
{
	struct rk_catalog *c = rk_catalog_new();
	char *e;

	if (rk_catalog_protocol(c, arg, &e) == NULL)
		errx(1, "%s", e);
	rk_catalog_free(c);
}

static void
load_profile(void *arg)
{
	struct rk_catalog *c = rk_catalog_new();
	char *e;

	c->lazy = 1;
	if (rk_catalog_profile(c, arg, &e) == NULL ||
	    rk_catalog_protocol(c, "gigathink", &e) == NULL)
		errx(1, "%s", e);
	rk_catalog_free(c);
}

static const char *
lookup(void *arg, const char *name)
{
	(void)arg;
	if (strcmp(name, "min_items") == 0)
		return "5";
	if (strcmp(name, "max_items") == 0)
		return "10";
	if (strcmp(name, "context") == 0)
		return "";
	return "Should a ten-person team split its monolith into "
	    "microservices, given two years of runway?";
}

static void
render(void *arg)
{
	free(tmpl_render(arg, lookup, NULL));
}

static const char reply[] =
    "Here are the dimensions:\n"
    "1. Cost: running many services costs more in operations\n"
    "2. **Team size**: ten people cannot own twenty services\n"
    "   and still ship features\n"
    "3. Risk: a distributed system fails in new ways\n"
    "- Speed: independent deploys help only with clear boundaries\n"
    "5. Hiring: the skills are scarce\n"
    "\n"
    "Confidence: 85%\n";

static void
parse_reply(void *arg)
{
	int found;

	(void)arg;
	json_decref(rk_reply_parse(reply, OUT_LIST));
	(void)rk_reply_confidence(reply, &found);
}

int
main(void)
{
	struct rk_catalog *c;
	struct rk_protocol *p;
	char *e;

	rk_init("micro", NULL);
	c = rk_catalog_new();
	if ((p = rk_catalog_protocol(c, "gigathink", &e)) == NULL)
		errx(1, "%s", e);
	printf("%-40s %9s %9s\n", "what", "us", "budget");
	printf("%-40s %9.2f %9s\n", "parse+validate one protocol (gigathink)",
	    median_us(load_protocol, "gigathink", 200), "100");
	setenv("RK_NO_YAML_CACHE", "1", 1);
	printf("%-40s %9.2f %9s\n", "  the same, without the YAML cache",
	    median_us(load_protocol, "gigathink", 200), "100");
	unsetenv("RK_NO_YAML_CACHE");
	printf("%-40s %9.2f %9s\n", "load profile balanced + one protocol",
	    median_us(load_profile, "balanced", 200), "-");
	printf("%-40s %9.2f %9s\n", "render one prompt",
	    median_us(render, p->steps[0].prompt, 20000), "100");
	printf("%-40s %9.2f %9s\n", "parse one reply (list + confidence)",
	    median_us(parse_reply, NULL, 20000), "500");
	rk_catalog_free(c);
	return 0;
}
