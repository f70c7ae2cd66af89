/*
 * Budgets for rk-llm: wall time waiting for the model, tokens, or dollars,
 * per record (a record is one reasoning run, and rk think runs one rk-llm
 * per step, so what a record has spent is what its steps record), plus the
 * price table that turns tokens into dollars.
 */
#ifndef RK_BUDGET_H
#define RK_BUDGET_H

#include <jansson.h>

enum rk_budget_kind { RK_BUDGET_NONE, RK_BUDGET_MS, RK_BUDGET_TOKENS,
    RK_BUDGET_USD };

struct rk_budget {
	enum rk_budget_kind kind;
	double		 limit;	/* ms, tokens or USD */
};

struct rk_price {
	char	*pattern;	/* fnmatch(3) pattern of model names */
	double	 in, out;	/* USD per token */
	long	 window;	/* context window in tokens, 0 if unknown */
};

struct rk_prices {
	struct rk_price	*v;
	size_t		 n;
};

/* "30s", "5m", "1h", "2000t", "$0.50" (or "0.50$"): 0 or -1 */
int	 rk_budget_parse(const char *, struct rk_budget *);
/* what the record's steps have spent (cached steps cost nothing) */
double	 rk_budget_spent(const struct rk_budget *, const json_t *rec,
	    const struct rk_prices *);
/* the built-in table, then the user's, which wins; -1 + err on a bad line */
int	 rk_prices_load(struct rk_prices *, char *err, size_t errsize);
void	 rk_prices_free(struct rk_prices *);
const struct rk_price *rk_price_find(const struct rk_prices *,
	    const char *model);
double	 rk_price_cost(const struct rk_prices *, const char *model, long in,
	    long out, int *known);

#endif
