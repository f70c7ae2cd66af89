/*
 * Budgets and prices.  data/prices.tsv (installed beside the protocols)
 * is versioned with the code; $XDG_CONFIG_HOME/reasonkit/prices.tsv adds
 * or overrides lines.  Format: model pattern, USD per million input
 * tokens, USD per million output tokens, and optionally the model's
 * context window in tokens, tab-separated; # comments.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rk.h"
#include "llm/llm.h"

int
rk_budget_parse(const char *s, struct rk_budget *b)
{
	size_t n = strlen(s);
	char num[64];
	double v, mul = 1;

	b->kind = RK_BUDGET_NONE;
	if (n == 0 || n >= sizeof(num))
		return -1;
	if (s[0] == '$' || s[n - 1] == '$') {
		b->kind = RK_BUDGET_USD;
		strlcpy(num, s[0] == '$' ? s + 1 : s, sizeof(num));
		if (s[0] != '$')
			num[n - 1] = '\0';
	} else {
		strlcpy(num, s, sizeof(num));
		num[n - 1] = '\0';
		switch (s[n - 1]) {
		case 't': b->kind = RK_BUDGET_TOKENS; break;
		case 's': b->kind = RK_BUDGET_MS; mul = 1000; break;
		case 'm': b->kind = RK_BUDGET_MS; mul = 60000; break;
		case 'h': b->kind = RK_BUDGET_MS; mul = 3600000; break;
		default: return -1;
		}
	}
	if (rk_parse_double(num, &v) == -1 || !(v > 0) || v > 1e12) {
		b->kind = RK_BUDGET_NONE;
		return -1;
	}
	b->limit = v * mul;
	return 0;
}

const struct rk_price *
rk_price_find(const struct rk_prices *p, const char *model)
{
	if (model == NULL)
		return NULL;
	/* later lines (the user's) win over earlier ones */
	for (size_t i = p->n; i-- > 0;)
		if (fnmatch(p->v[i].pattern, model, 0) == 0)
			return &p->v[i];
	return NULL;
}

double
rk_price_cost(const struct rk_prices *p, const char *model, long in,
    long out, int *known)
{
	const struct rk_price *pr = rk_price_find(p, model);

	if (known != NULL)
		*known = pr != NULL;
	return pr ? pr->in * (double)in + pr->out * (double)out : 0;
}

double
rk_budget_spent(const struct rk_budget *b, const json_t *rec,
    const struct rk_prices *p)
{
	const json_t *s, *u;
	double sum = 0;
	size_t i;

	json_array_foreach(json_object_get(rec, "steps"), i, s) {
		if (json_is_true(json_object_get(s, "cached")))
			continue;
		u = json_object_get(s, "usage");
		switch (b->kind) {
		case RK_BUDGET_MS:
			sum += rk_get_number(json_object_get(s, "ms"), "llm",
			    0);
			break;
		case RK_BUDGET_TOKENS:
			sum += rk_get_number(u, "in", 0) +
			    rk_get_number(u, "out", 0);
			break;
		case RK_BUDGET_USD:
			sum += rk_price_cost(p, rk_get_string(s, "model"),
			    (long)rk_get_number(u, "in", 0),
			    (long)rk_get_number(u, "out", 0), NULL);
			break;
		default:
			break;
		}
	}
	return sum;
}

static int
load(struct rk_prices *p, const char *path, int must, char *err,
    size_t errsize)
{
	FILE *fp = fopen(path, "r");
	char line[512];
	size_t lineno = 0;

	if (fp == NULL) {
		if (!must)
			return 0;
		snprintf(err, errsize, "%s: cannot read the price table", path);
		return -1;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		char *pat, *a, *b, *w, *save = NULL;
		double in, out;
		long window = 0;

		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || line[strspn(line, " \t")] == '\0')
			continue;
		pat = strtok_r(line, "\t", &save);
		a = strtok_r(NULL, "\t", &save);
		b = strtok_r(NULL, "\t", &save);
		w = strtok_r(NULL, "\t", &save);
		if (pat == NULL || a == NULL || b == NULL ||
		    rk_parse_double(a, &in) == -1 ||
		    rk_parse_double(b, &out) == -1 || in < 0 || out < 0 ||
		    (w != NULL && rk_parse_uint(w, 100000000, &window) == -1)) {
			snprintf(err, errsize, "%s:%zu: expected 'model<TAB>"
			    "input USD/Mtok<TAB>output USD/Mtok"
			    "[<TAB>context window tokens]'", path, lineno);
			fclose(fp);
			return -1;
		}
		p->v = rk_xrealloc(p->v, (p->n + 1) * sizeof(*p->v));
		p->v[p->n].pattern = rk_xstrdup(pat);
		p->v[p->n].in = in / 1e6;
		p->v[p->n].out = out / 1e6;
		p->v[p->n].window = window;
		p->n++;
	}
	fclose(fp);
	return 0;
}

int
rk_prices_load(struct rk_prices *p, char *err, size_t errsize)
{
	const char *env = rk_getenv("RK_PRICES");
	char *exe, *path;
	int rc;

	memset(p, 0, sizeof(*p));
	if (env != NULL)
		rc = load(p, env, 1, err, errsize);
	else if ((exe = rk_exe_dir()) != NULL) {
		rk_asprintf(&path, "%s/../share/reasonkit/prices.tsv", exe);
		rc = load(p, path, 0, err, errsize);
		free(path);
		free(exe);
	} else
		rc = 0;
	if (rc == -1)
		return -1;
	path = rk_xdg_path("CONFIG", "prices.tsv");
	rc = load(p, path, 0, err, errsize);
	free(path);
	return rc;
}

void
rk_prices_free(struct rk_prices *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i].pattern);
	free(p->v);
	memset(p, 0, sizeof(*p));
}
