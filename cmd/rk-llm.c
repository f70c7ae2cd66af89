/*
 * rk-llm: fulfil each record's pending request against a model provider,
 * parse the reply into the step's structured output and append the step.
 */
#include <err.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "rk.h"
#include "protocol.h"
#include "provider.h"

static const struct rk_provider *provider;

static void
usage(FILE *fp, int status)
{
	fprintf(fp, "usage: rk-llm [--mock] [--provider name]\n");
	exit(status);
}

static const struct rk_provider *
find_provider(const char *name)
{
	if (strcmp(name, "mock") == 0)
		return &rk_mock_provider;
	errx(RK_EXIT_CONFIG, "unknown provider '%s' (known: mock)", name);
}

static json_t *
make_step(const json_t *req, struct rk_call *c, double ms_llm)
{
	double t0 = rk_now_ms();
	const char *kind = rk_get_string(req, "output");
	enum out_kind k = OUT_TEXT;
	json_t *step, *conf;
	int found;
	double v;

	if (kind != NULL)
		rk_out_kind_parse(kind, &k);
	v = rk_reply_confidence(c->text, &found);
	conf = found ? json_real(v) : json_null();
	step = json_pack("{s:O, s:s, s:O, s:o, s:o, s:s, s:s, "
	    "s:{s:I, s:I, s:b}, s:b}",
	    "protocol", json_object_get(req, "protocol"),
	    "step", rk_get_string(req, "step") ? rk_get_string(req, "step") : "",
	    "link", json_object_get(req, "link"),
	    "output", rk_reply_parse(c->text, k),
	    "confidence", conf,
	    "text", c->text, "model", c->model ? c->model : provider->name,
	    "usage", "in", (json_int_t)c->in, "out", (json_int_t)c->out,
	    "estimated", c->estimated, "cached", c->cached);
	if (json_is_number(json_object_get(req, "min_confidence")))
		json_object_set(step, "min_confidence",
		    json_object_get(req, "min_confidence"));
	if (c->truncated)
		json_object_set_new(step, "truncated", json_true());
	json_object_set_new(step, "ms", json_pack("{s:f, s:f, s:f, s:f}",
	    "load", rk_get_number(json_object_get(req, "ms"), "load", 0),
	    "prompt", rk_get_number(json_object_get(req, "ms"), "render", 0),
	    "llm", rk_round(ms_llm, 3),
	    "parse", rk_round(rk_now_ms() - t0, 3)));
	return step;
}

/*
 * A failed request stays in the record beside the error, so that the
 * failed records can be retried by removing the error and running again.
 */
static void
process(json_t *rec)
{
	json_t *req = json_object_get(rec, "request");
	struct rk_call c;
	double t0;

	if (rk_has_error(rec) || !json_is_object(req))
		return;
	memset(&c, 0, sizeof(c));
	c.rec = rec;
	c.req = req;
	t0 = rk_now_ms();
	if (provider->call(&c) == -1) {
		warnx("%s: %s", rk_get_string(rec, "id"), c.errmsg);
		rk_set_error(rec, rk_progname, c.errcode, "%s", c.errmsg);
		rk_exit_status(RK_EXIT_PROVIDER);
	} else {
		json_array_append_new(rk_steps(rec), make_step(req, &c,
		    rk_now_ms() - t0));
		json_object_del(rec, "request");
	}
	rk_call_clear(&c);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "mock", no_argument, NULL, 'M' },
		{ "provider", required_argument, NULL, 'p' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char *name = rk_getenv("RK_PROVIDER");
	struct rk_reader *r;
	json_t *rec;
	int ch;

	rk_init(argv[0]);
	while ((ch = getopt_long(argc, argv, "hV", longopts, NULL)) != -1)
		switch (ch) {
		case 'h': usage(stdout, RK_EXIT_OK); break;
		case 'M': name = "mock"; break;
		case 'p': name = optarg; break;
		case 'V': rk_version(); break;
		default: usage(stderr, RK_EXIT_USAGE);
		}
	if (optind != argc)
		usage(stderr, RK_EXIT_USAGE);
	if (name == NULL)
		errx(RK_EXIT_CONFIG, "no model provider configured: set "
		    "RK_PROVIDER, or use --mock for the built-in offline model "
		    "(see rk-llm(1))");
	provider = find_provider(name);
	r = rk_reader_new(stdin, "stdin");
	while ((rec = rk_read(r)) != NULL) {
		process(rec);
		if (rk_write(stdout, rec) == -1)
			err(RK_EXIT_IO, "stdout");
		json_decref(rec);
	}
	rk_reader_free(r);
	return rk_finish();
}
