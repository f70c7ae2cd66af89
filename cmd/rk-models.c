/*
 * rk-models: the models a provider offers (GET /models of its API, in the
 * OpenAI or the Anthropic shape), each with its context window and prices
 * from the price table; with --prices, the price table alone.
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rk.h"
#include "llm/llm.h"

static struct rk_prices prices;
static int json_out;

enum { O_BASE = RK_OPT_OWN, O_PRICES, O_PROVIDER };

static const struct rk_optdef opts[] = {
	{ 'f', "format", required_argument, "format",
	    "output format: text or json" },
	{ O_BASE, "base-url", required_argument, "url",
	    "the provider's API endpoint" },
	{ O_PRICES, "prices", no_argument, NULL,
	    "the price table, without asking a provider" },
	{ O_PROVIDER, "provider", required_argument, "name",
	    "openai, anthropic or mock" },
	RK_OPTS_HELP,
	RK_OPTS_END
};

static const char *const formats[] = { "text", "json", NULL };

static struct rk_cli cli = { .defs = opts, .formats = formats, .usage =
	"usage: rk-models [-f text | json] [--provider name] [--base-url url]\n"
	"       rk-models --prices [-f text | json]\n" };

/* one model: its name, window and prices as the table knows them */
static void
put_model(const char *id)
{
	const struct rk_price *p = rk_price_find(&prices, id);
	json_t *o;

	if (json_out) {
		o = json_pack("{s:s}", "model", id);
		if (p != NULL) {
			json_object_set_new(o, "window", p->window > 0 ?
			    json_integer(p->window) : json_null());
			json_object_set_new(o, "in", json_real(rk_round(
			    p->in * 1e6, 4)));
			json_object_set_new(o, "out", json_real(rk_round(
			    p->out * 1e6, 4)));
		}
		if (rk_write(stdout, o) == -1)
			err(RK_EXIT_IO, "stdout");
		json_decref(o);
	} else if (p == NULL)
		printf("%-32s %9s %9s %9s\n", id, "-", "-", "-");
	else if (p->window > 0)
		printf("%-32s %9ld %9.2f %9.2f\n", id, p->window, p->in * 1e6,
		    p->out * 1e6);
	else
		printf("%-32s %9s %9.2f %9.2f\n", id, "-", p->in * 1e6,
		    p->out * 1e6);
}

static void
header(void)
{
	if (!json_out)
		printf("%-32s %9s %9s %9s\n", "MODEL", "CONTEXT", "IN $/M",
		    "OUT $/M");
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* the ids of {"data":[{"id":...}, ...]}, sorted */
static void
put_list(const char *body, size_t len)
{
	json_t *doc = json_loadb(body, len, 0, NULL), *m;
	const json_t *data = json_object_get(doc, "data");
	const char **ids;
	size_t i, n = 0;

	if (!json_is_array(data))
		errx(RK_EXIT_PROVIDER, "the provider's model list is not "
		    "{\"data\":[...]}");
	ids = rk_xmalloc((json_array_size(data) + 1) * sizeof(*ids));
	json_array_foreach(data, i, m)
		if (rk_get_string(m, "id") != NULL)
			ids[n++] = rk_get_string(m, "id");
	qsort(ids, n, sizeof(*ids), by_name);
	header();
	for (i = 0; i < n; i++)
		put_model(ids[i]);
	free(ids);
	json_decref(doc);
}

/* GET url with the endpoint's headers; the body of a 2xx reply */
static struct rk_xfer *
get(const struct rk_endpoint *ep, const char *url)
{
	struct rk_http_opts o = { 10000, 30000, 1, rk_limits.response,
	    rk_getenv("RK_CA_FILE") };
	struct rk_http *h;
	struct rk_xfer *x = rk_xmalloc(sizeof(*x)), *done;
	char msg[256];

	/* first: it loads libcurl, which the headers need */
	if ((h = rk_http_new(&o, msg, sizeof(msg))) == NULL)
		errx(RK_EXIT_PROVIDER, "%s", msg);
	memset(x, 0, sizeof(*x));
	x->url = rk_xstrdup(url);
	x->headers = ep->dialect->headers(ep->key);
	x->total_ms = 60000;
	if (rk_http_start(h, x) == -1)
		errx(RK_EXIT_PROVIDER, "cannot start a transfer");
	while ((done = rk_http_done(h)) == NULL)
		rk_http_run(h, 100, -1);
	rk_http_free(h);
	if (x->result != RK_X_OK)
		errx(RK_EXIT_PROVIDER, "%s: %s", ep->base_url, x->errbuf[0] ?
		    x->errbuf : "no answer");
	if (x->status < 200 || x->status > 299)
		errx(RK_EXIT_PROVIDER, "%s: HTTP %ld", url, x->status);
	return x;
}

static void
list_provider(const char *provider, const char *base_url)
{
	struct rk_endpoint ep;
	struct rk_xfer *x;
	char msg[512], *url;

	if (provider == NULL)
		errx(RK_EXIT_CONFIG, "no model provider configured: set "
		    "RK_PROVIDER (see rk-llm(1)), or --prices for the price "
		    "table");
	if (strcmp(provider, "mock") == 0) {
		header();
		put_model("mock-1");
		return;
	}
	/* listing needs no model: any name satisfies the set-up */
	if (rk_endpoint_setup(&ep, provider, base_url, "-", msg,
	    sizeof(msg)) == -1)
		errx(RK_EXIT_CONFIG, "%s", msg);
	/* Anthropic pages its list, 20 by default and 1000 at most */
	rk_asprintf(&url, "%s/models%s", ep.base_url,
	    ep.dialect == &rk_dialect_anthropic ? "?limit=1000" : "");
	x = get(&ep, url);
	put_list(x->resp.s, x->resp.len);
	rk_xfer_free(x);
	free(url);
	rk_endpoint_free(&ep);
}

/* the price table itself, pattern by pattern */
static void
list_table(void)
{
	header();
	for (size_t i = 0; i < prices.n; i++)
		put_model(prices.v[i].pattern);
}

int
main(int argc, char *argv[])
{
	const char *provider = rk_getenv("RK_PROVIDER");
	const char *base_url = rk_getenv("RK_BASE_URL");
	struct rk_error e;
	char msg[256];
	int ch, act, pflag = 0;

	if (rk_init(argv[0], &e) != 0)
		errx(e.code, "%s", e.msg);
	while ((ch = rk_getopt(&cli, argc, argv)) != -1)
		switch (ch) {
		case O_BASE: base_url = optarg; break;
		case O_PRICES: pflag = 1; break;
		case O_PROVIDER: provider = optarg; break;
		default:
			if ((act = rk_opt(&cli, ch, optarg)) != RK_OPT_NEXT)
				return rk_opt_done(&cli, act);
		}
	json_out = cli.format == 1;
	if (optind < argc)
		return rk_opt_done(&cli, RK_OPT_USAGE);
	if (rk_prices_load(&prices, msg, sizeof(msg)) == -1)
		errx(RK_EXIT_CONFIG, "%s", msg);
	if (pflag)
		list_table();
	else
		list_provider(provider, base_url);
	rk_prices_free(&prices);
	return rk_finish();
}
