/*
 * rk-analyze-tokens: where the prompt tokens of a run go.  The run is made
 * in-process with the offline model, so later steps carry realistic earlier
 * outputs; each request is counted exactly with the BPE tokenizer and split
 * into ReasonKit's own text (system prompt and template), the question, and
 * what the template carried in (earlier outputs, context).
 */
#include <err.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "core/rk.h"
#include "token/token.h"
#include "think/think.h"
#include "llm/llm.h"

static const struct rk_bpe *bpe;
static int jflag;

struct split {
	long	total, own, question, carried;
};

static const struct rk_optdef opts[] = {
	{ 'e', NULL, required_argument, "encoding",
	    "the token encoding; default cl100k_base" },
	{ 'j', NULL, no_argument, NULL,
	    "JSON: one object a step, one for the run" },
	{ 'm', NULL, required_argument, "model", "the encoding of model" },
	{ 'p', NULL, required_argument, "profile",
	    "the profile to run; default balanced" },
	{ 't', NULL, required_argument, "protocol",
	    "one protocol instead of a profile" },
	RK_OPTS_PERF,
	RK_OPTS_HELP,
	RK_OPTS_END
};

static struct rk_cli cli = { .defs = opts, .usage =
	"usage: rk-analyze-tokens [-j] [--performance-mode] "
	"[-e encoding | -m model]\n"
	"                         [-p profile | -t protocol] question ...\n" };

static long
count(const char *s)
{
	return s ? (long)rk_bpe_count(bpe, s, strlen(s), 0) : 0;
}

/* Only the template's own text: every variable empty but the counts. */
static const char *
own_text(void *arg, const char *name)
{
	const struct rk_step *s = arg;
	static char num[16];

	if (s && (strcmp(name, "min_items") == 0 ||
	    strcmp(name, "max_items") == 0)) {
		snprintf(num, sizeof(num), "%ld", name[1] == 'i' ?
		    s->min_items : s->max_items);
		return num;
	}
	return "";
}

static long
own_tokens(const struct rk_protocol *p, const struct rk_step *s, int perf)
{
	char *sys = p->system ? tmpl_render(p->system, own_text, NULL) : NULL;
	char *user = tmpl_render(perf && s->compact ? s->compact : s->prompt,
	    own_text, (void *)s);
	long n = count(sys) + count(user);

	free(sys);
	free(user);
	return n;
}

struct uses {
	const char	*input;		/* the protocol's input name */
	int		 question, input_used;
};

static int
note_var(void *arg, const char *name)
{
	struct uses *u = arg;

	u->question |= strcmp(name, "question") == 0;
	u->input_used |= strcmp(name, "input") == 0 ||
	    strcmp(name, u->input) == 0;
	return 1;
}

/* Does this step's prompt carry the question itself? */
static int
asks_question(struct rk_runner *run, const struct rk_protocol *p,
    const struct rk_step *s, long link)
{
	const struct tnode *t = run->perf && s->compact ? s->compact :
	    s->prompt;
	struct uses u = { p->input, 0, 0 };
	const char *bad;
	int line, col, from_question;

	tmpl_check(t, note_var, &u, &bad, &line, &col);
	if (p->system != NULL)
		tmpl_check(p->system, note_var, &u, &bad, &line, &col);
	if (run->profile != NULL) {
		struct rk_profile *f = rk_catalog_profile(run->catalog,
		    run->profile, NULL);

		from_question = f != NULL && link < (long)f->nchain &&
		    strcmp(f->chain[link].input, "question") == 0;
	} else
		from_question = link == 0;
	return u.question || (u.input_used && from_question);
}

static struct split
analyze(struct rk_runner *run, const json_t *rec, const json_t *req)
{
	const char *q = rk_get_string(rec, "query");
	struct split sp = { 0, 0, 0, 0 };
	const struct rk_protocol *p;
	const struct rk_step *s;
	const json_t *m;
	size_t i;
	struct rk_error e;

	json_array_foreach(json_object_get(req, "messages"), i, m)
		sp.total += count(rk_get_string(m, "content"));
	p = rk_catalog_protocol(run->catalog, rk_get_string(req, "protocol"),
	    &e);
	if (p == NULL)
		errx(e.code, "%s", e.msg);
	s = rk_protocol_step(p, rk_get_string(req, "step"));
	sp.own = own_tokens(p, s, run->perf);
	sp.question = asks_question(run, p, s, json_integer_value(
	    json_object_get(req, "link"))) ? count(q) : 0;
	/*
	 * Counted apart, the texts can come to more than the message: BPE
	 * merges tokens across their joins.  The parts must add up to the
	 * total, so the tokens saved at the joins come off the question.
	 */
	sp.carried = sp.total - sp.own - sp.question;
	if (sp.carried < 0) {
		sp.question += sp.carried;
		sp.carried = 0;
	}
	if (sp.question < 0) {
		sp.own += sp.question;
		sp.question = 0;
	}
	return sp;
}

static void
print_row(const char *what, const struct split *sp)
{
	double pct = sp->total ? 100.0 * sp->own / sp->total : 0;

	if (jflag) {
		json_t *j = json_pack("{s:s, s:I, s:I, s:I, s:I, s:f}", "what",
		    what, "total", (json_int_t)sp->total, "reasonkit",
		    (json_int_t)sp->own, "question", (json_int_t)sp->question,
		    "carried", (json_int_t)sp->carried, "overhead",
		    rk_round(pct, 1));

		json_dumpf(j, stdout, JSON_COMPACT | JSON_REAL_PRECISION(15));
		putchar('\n');
		json_decref(j);
		return;
	}
	printf("%-36s %7ld %9ld %8ld %7ld %8.1f%%\n", what, sp->total,
	    sp->own, sp->question, sp->carried, pct);
}

/* A minimal step: enough for the next prompt to carry this one's output. */
static void
append_step(json_t *rec, const json_t *req, const char *text)
{
	enum out_kind k = OUT_TEXT;
	int found;
	double conf = rk_reply_confidence(text, &found);

	rk_out_kind_parse(rk_get_string(req, "output") ?
	    rk_get_string(req, "output") : "text", &k);
	json_array_append_new(rk_steps(rec), json_pack("{s:O, s:O, s:O, s:o, "
	    "s:o}", "protocol", json_object_get(req, "protocol"), "step",
	    json_object_get(req, "step"), "link", json_object_get(req, "link"),
	    "output", rk_reply_parse(text, k), "confidence", found ?
	    json_real(conf) : json_null()));
	json_object_del(rec, "request");
}

/*
 * The token-efficiency targets: ReasonKit's share of the prompt tokens
 * under 10 % for simple questions and under 20 % for complex ones (medium
 * ones are held to the simple target).
 */
static void
print_target(long qn, const struct split *sum)
{
	double pct = sum->total ? 100.0 * sum->own / sum->total : 0;
	double target = qn > 100 ? 20 : 10;

	printf("target: overhead under %.0f%% for a %s question: %s "
	    "(%.1f%%)\n", target, qn > 100 ? "complex" : "simple or medium",
	    pct < target ? "met" : "not met", pct);
}

static const char *
query_class(long n)
{
	return n < 20 ? "simple" : n <= 100 ? "medium" : "complex";
}

static int
run_question(struct rk_runner *run, const char *q)
{
	struct split sum = { 0, 0, 0, 0 };
	json_t *rec = rk_record_new(q), *req;
	struct rk_error e;
	long qn = count(q);
	int rc = 0;

	if (!jflag) {
		printf("question: %ld tokens (%s), encoding %s\n", qn,
		    query_class(qn), rk_bpe_name(bpe));
		printf("%-36s %7s %9s %8s %7s %9s\n", "step", "total",
		    "reasonkit", "question", "carried", "overhead");
	}
	for (;;) {
		struct rk_call c;
		struct split sp;
		char what[160];

		if ((rc = rk_runner_next(run, rec, &e)) != 0) {
			warnx("%s", e.msg);
			break;
		}
		if ((req = json_object_get(rec, "request")) == NULL)
			break;
		sp = analyze(run, rec, req);
		snprintf(what, sizeof(what), "%s.%s", rk_get_string(req,
		    "protocol"), rk_get_string(req, "step"));
		print_row(what, &sp);
		sum.total += sp.total;
		sum.own += sp.own;
		sum.question += sp.question;
		sum.carried += sp.carried;
		memset(&c, 0, sizeof(c));
		c.rec = rec;
		c.req = req;
		if (rk_mock_provider.call(&c) == -1)
			errx(RK_EXIT_PROVIDER, "%s", c.errmsg);
		append_step(rec, req, c.text);
		rk_call_clear(&c);
	}
	print_row(run->profile ? run->profile : run->protocol, &sum);
	if (!jflag)
		print_target(qn, &sum);
	json_decref(rec);
	return rc;
}

int
main(int argc, char *argv[])
{
	struct rk_runner run = { 0 };
	const char *enc = "cl100k_base";
	struct rk_error e;
	char *q;
	int ch, act, rc;

	if (rk_init(argv[0], &e) != 0)
		errx(e.code, "%s", e.msg);
	while ((ch = rk_getopt(&cli, argc, argv)) != -1)
		switch (ch) {
		case 'e': case 'm': enc = optarg; break;
		case 'j': jflag = 1; break;
		case 't': run.protocol = optarg; break;
		default:
			if ((act = rk_opt(&cli, ch, optarg)) != RK_OPT_NEXT)
				return rk_opt_done(&cli, act);
		}
	run.perf = cli.perf;
	run.profile = cli.profile;
	argc -= optind;
	argv += optind;
	if (argc == 0 || (run.profile && run.protocol))
		return rk_opt_done(&cli, RK_OPT_USAGE);
	if (run.profile == NULL && run.protocol == NULL)
		run.profile = "balanced";
	if ((bpe = rk_bpe_get(enc)) == NULL)
		errx(RK_EXIT_USAGE, "%s", rk_bpe_error());
	if (rk_runner_init(&run, &e) != 0)
		errx(e.code, "%s", e.msg);
	run.catalog = rk_catalog_new();
	if ((run.profile && rk_catalog_profile(run.catalog, run.profile,
	    &e) == NULL) || (run.protocol && rk_catalog_protocol(run.catalog,
	    run.protocol, &e) == NULL))
		errx(e.code, "%s", e.msg);
	q = rk_join_args(argc, argv);
	if (!rk_utf8_valid(q, strlen(q)))
		errx(RK_EXIT_INPUT, "question: invalid UTF-8");
	rc = run_question(&run, q);
	rk_catalog_free(run.catalog);
	free(q);
	rk_exit_status(rc);
	return rk_finish();
}
