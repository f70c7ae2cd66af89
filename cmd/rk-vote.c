/*
 * rk-vote: self-consistency.  With --sample it makes samples of each question
 * (copies of its record, each at its own temperature); otherwise it reads
 * finished samples, groups them by question and writes each group's vote,
 * or with --next how many more samples each group needs; with --more,
 * for each question read, the further samples its vote needs, given the
 * samples made so far.  rk think -n runs rounds of rk-vote --more |
 * rk-prompt | rk-llm ... | rk-trace, then rk-vote --questions.
 */
#include <err.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/rk.h"
#include "think/think.h"

static struct rk_vote_opts vo;
static int text, next, n_given, voted;

enum { O_GROUP = RK_OPT_OWN, O_METHOD, O_MORE, O_NEXT, O_QUESTIONS,
    O_SAMPLE, O_SPREAD, O_THRESHOLD };

static const struct rk_optdef opts[] = {
	{ 'f', NULL, required_argument, "format",
	    "output format: json (default) or text" },
	{ 'n', NULL, required_argument, "samples",
	    "samples a question, 1 to 1000; default 5" },
	{ O_GROUP, "group", required_argument, "group",
	    "with --sample or --more: the group the samples join" },
	{ O_METHOD, "method", required_argument, "method",
	    "majority, confidence, cisc or unanimous" },
	{ O_MORE, "more", required_argument, "samples",
	    "the further samples each question needs, given these" },
	{ O_NEXT, "next", no_argument, NULL,
	    "say how many more samples each group needs" },
	{ O_QUESTIONS, "questions", required_argument, "questions",
	    "vote on these questions' samples, in their order" },
	{ O_SAMPLE, "sample", required_argument, "first:count",
	    "make samples first to first+count-1" },
	{ O_SPREAD, "spread", required_argument, "spread",
	    "how far the samples' temperatures reach, 0 to 2" },
	{ O_THRESHOLD, "threshold", required_argument, "threshold",
	    "the leading share that ends sampling early" },
	RK_OPTS_HELP,
	RK_OPTS_END
};

static const char *const formats[] = { "json", "text", NULL };

static struct rk_cli cli = { .defs = opts, .formats = formats, .posix = 1,
    .usage =
	"usage: rk-vote [-f text | json] [-n samples] [--method method]\n"
	"               [--questions questions] [--threshold threshold] "
	"[file]\n"
	"       rk-vote --next [-n samples] [--method method] "
	"[--threshold threshold]\n"
	"               [file]\n"
	"       rk-vote --sample first:count [-n samples] [--group group]\n"
	"               [--spread spread] [question ...]\n"
	"       rk-vote --more samples [-n samples] [--group group] "
	"[--method method]\n"
	"               [--spread spread] [--threshold threshold] [file]\n" };

/* ---- making samples ---------------------------------------------------- */

static long first, count;
static const char *group;
static json_t *made;		/* --more: the samples made so far */

/* The group of a question's samples: --group, its batch item, or its id. */
static const char *
group_of(const json_t *rec, char *buf, size_t size)
{
	const json_t *item = json_object_get(rec, "item");

	if (group != NULL)
		return group;
	if (json_is_string(item))
		return json_string_value(item);
	if (json_is_integer(item)) {
		snprintf(buf, size, "%" JSON_INTEGER_FORMAT,
		    json_integer_value(item));
		return buf;
	}
	return rk_get_string(rec, "id");
}

static void
spawn(json_t *rec)
{
	char buf[32];
	const char *g = group_of(rec, buf, sizeof(buf));

	for (long i = first; i < first + count && !rk_has_error(rec); i++) {
		json_t *s = rk_sample_new(rec, g, i, &vo);

		if (rk_write(stdout, s) == -1)
			err(RK_EXIT_IO, "stdout");
		json_decref(s);
	}
	if (rk_has_error(rec) && rk_write(stdout, rec) == -1)
		err(RK_EXIT_IO, "stdout");
}

/*
 * --more: the samples a question still needs, numbered on from those made.
 * A question that failed before sampling becomes one failed sample.
 */
static void
resample(json_t *rec)
{
	char buf[32];
	const char *g = group_of(rec, buf, sizeof(buf));
	const json_t *have = json_object_get(made, g);
	json_t *none = json_array();

	first = (long)json_array_size(have);
	count = rk_vote_more(have ? have : none, &vo);
	json_decref(none);
	if (rk_has_error(rec) && first == 0) {
		json_t *s = rk_sample_new(rec, g, 0, &vo);

		if (rk_write(stdout, s) == -1)
			err(RK_EXIT_IO, "stdout");
		json_decref(s);
	} else if (count > 0 && !rk_has_error(rec))
		spawn(rec);
	json_decref(rec);
}

static void
parse_range(const char *s)
{
	char *end;

	first = strtol(s, &end, 10);
	if (end == s || *end != ':' || first < 0 ||
	    rk_parse_uint(end + 1, 1000, &count) == -1 || count < 1)
		errx(RK_EXIT_USAGE, "--sample: not first:count such as 0:3: "
		    "'%s'", s);
}

/* ---- voting ------------------------------------------------------------ */

static void
print_text(const json_t *v)
{
	const json_t *vote = json_object_get(v, "vote"), *r;
	const char *a = rk_get_string(v, "answer");
	const char *c = rk_get_string(v, "conclusion");
	long n = (long)json_integer_value(json_object_get(vote, "samples"));
	size_t i;

	printf("Answer: %s\n", a ? a : "(none: the samples do not agree)");
	printf("Vote: %lld of %ld samples (agreement %.2f, %s), confidence "
	    "%.2f", json_integer_value(json_object_get(vote, "votes")), n,
	    rk_get_number(vote, "agreement", 0), rk_get_string(vote,
	    "method"), rk_get_number(vote, "confidence", 0));
	if (json_is_true(json_object_get(vote, "early_stopped")))
		printf("; stopped early, %ld not sent", vo.samples - n);
	printf("\n");
	json_array_foreach(json_object_get(vote, "runs"), i, r)
		printf("  %-26s  t=%-5.2f  %.2f  %s\n", rk_get_string(r, "id"),
		    rk_get_number(r, "temperature", 0),
		    rk_get_number(r, "confidence", 0),
		    rk_get_string(r, "answer") ? rk_get_string(r, "answer") :
		    "-");
	if (c != NULL && *c != '\0')
		printf("\n%s\n", c);
}

static void
decide(const char *g, const json_t *samples)
{
	json_t *v;

	/* without -n, as many as the samples were made for */
	if (!n_given && json_integer_value(json_object_get(json_object_get(
	    json_array_get(samples, 0), "sample"), "of")) > 0)
		vo.samples = (long)json_integer_value(json_object_get(
		    json_object_get(json_array_get(samples, 0), "sample"),
		    "of"));
	if (next) {
		printf("%s\t%ld\n", g, rk_vote_more(samples, &vo));
		return;
	}
	v = rk_vote(samples, &vo);
	if (rk_has_error(v)) {
		warnx("%s: %s", g, rk_get_string(json_object_get(v, "error"),
		    "message"));
		rk_exit_status(RK_EXIT_FAILED);
	}
	if (text && voted++ > 0)
		printf("\n");	/* votes apart */
	if (text)
		print_text(v);
	else if (rk_write(stdout, v) == -1)
		err(RK_EXIT_IO, "stdout");
	json_decref(v);
}

/* Add a sample to its group, noting a new group in order (if any). */
static void
add_sample(json_t *groups, json_t *order, json_t *rec)
{
	const char *id = rk_sample_group(rec);
	json_t *g;

	if (id == NULL)
		id = "";
	if ((g = json_object_get(groups, id)) == NULL) {
		json_object_set_new(groups, id, g = json_array());
		if (order != NULL)
			json_array_append_new(order, json_string(id));
	}
	json_array_append_new(g, rec);
}

/* The records of a file, read by fn; any bad line is an error. */
static void
read_file(const char *path, const char *what, void (*fn)(json_t *, void *),
    void *arg)
{
	struct rk_reader *r;
	json_t *rec;
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL)
		err(RK_EXIT_IO, "%s", path);
	r = rk_reader_new(fp, path);
	while ((rec = rk_read(r)) != NULL)
		fn(rec, arg);
	if (rk_reader_bad(r) > 0)
		errx(RK_EXIT_INPUT, "%s: not a file of %s", path, what);
	rk_reader_free(r);
	fclose(fp);
}

static const char *questions;	/* --questions: vote on these */

struct order {
	json_t	*groups, *order, *taken;
};

static void
take(struct order *o, const char *id)
{
	if (id == NULL || json_object_get(o->groups, id) == NULL ||
	    json_object_get(o->taken, id) != NULL)
		return;
	json_object_set_new(o->taken, id, json_true());
	json_array_append_new(o->order, json_string(id));
}

static void
take_question(json_t *rec, void *arg)
{
	char buf[32];

	take(arg, group_of(rec, buf, sizeof(buf)));
	json_decref(rec);
}

/* --questions: the groups of its questions, in their order */
static json_t *
question_order(json_t *groups)
{
	struct order o = { groups, json_array(), json_object() };

	read_file(questions, "questions", take_question, &o);
	json_decref(o.taken);
	return o.order;
}

/* Vote on each group of samples, in the order the questions came. */
static void
vote_all(struct rk_reader *r)
{
	json_t *groups = json_object(), *order = json_array(), *rec, *g;
	size_t i;

	while ((rec = rk_read(r)) != NULL)
		add_sample(groups, order, rec);
	if (questions != NULL) {
		g = question_order(groups);
		json_decref(order);
		order = g;
	}
	json_array_foreach(order, i, g)
		decide(json_string_value(g), json_object_get(groups,
		    json_string_value(g)));
	json_decref(groups);
	json_decref(order);
}

/* --more: a sample made, into its group; other records are left out. */
static void
add_made(json_t *rec, void *arg)
{
	(void)arg;
	if (json_object_get(rec, "sample") != NULL)
		add_sample(made, NULL, rec);
	else
		json_decref(rec);
}

static void
options(int argc, char *argv[])
{
	int ch, act;

	while ((ch = rk_getopt(&cli, argc, argv)) != -1)
		switch (ch) {
		case O_GROUP: group = optarg; break;
		case O_METHOD:
			if (rk_vote_method_parse(optarg, &vo.method) == -1)
				errx(RK_EXIT_USAGE, "--method: majority, "
				    "confidence, cisc or unanimous, not '%s'",
				    optarg);
			break;
		case 'n':
			if (rk_parse_uint(optarg, 1000, &vo.samples) == -1 ||
			    vo.samples < 1)
				errx(RK_EXIT_USAGE, "-n: not a number from "
				    "1 to 1000: '%s'", optarg);
			n_given = 1;
			break;
		case O_MORE:
			made = json_object();
			read_file(optarg, "samples", add_made, NULL);
			break;
		case O_QUESTIONS: questions = optarg; break;
		case O_SAMPLE: parse_range(optarg); break;
		case O_THRESHOLD:
			if (rk_parse_double(optarg, &vo.threshold) == -1 ||
			    vo.threshold <= 0 || vo.threshold > 1)
				errx(RK_EXIT_USAGE, "--threshold: not a share "
				    "above 0 up to 1: '%s'", optarg);
			break;
		case O_NEXT: next = 1; break;
		case O_SPREAD:
			if (rk_parse_double(optarg, &vo.spread) == -1 ||
			    vo.spread < 0 || vo.spread > 2)
				errx(RK_EXIT_USAGE, "--spread: not a number "
				    "from 0 to 2: '%s'", optarg);
			break;
		default:
			if ((act = rk_opt(&cli, ch, optarg)) != RK_OPT_NEXT)
				exit(rk_opt_done(&cli, act));
		}
	text = cli.format == 1;
}

int
main(int argc, char *argv[])
{
	struct rk_reader *r;
	struct rk_error e;
	json_t *rec;

	if (rk_init(argv[0], &e) != 0)
		errx(e.code, "%s", e.msg);
	rk_vote_defaults(&vo);
	options(argc, argv);
	argc -= optind;
	argv += optind;
	if (count > 0 && argc > 0) {
		char *q = rk_join_args(argc, argv);

		if (!rk_utf8_valid(q, strlen(q)))
			errx(RK_EXIT_INPUT, "question: invalid UTF-8");
		rec = rk_record_new(q);
		spawn(rec);
		json_decref(rec);
		free(q);
		return rk_finish();
	}
	if (argc > 1)
		return rk_opt_done(&cli, RK_OPT_USAGE);
	if (argc == 1 && strcmp(argv[0], "-") != 0 &&
	    freopen(argv[0], "r", stdin) == NULL)
		err(RK_EXIT_IO, "%s", argv[0]);
	r = rk_reader_fd(STDIN_FILENO, argc ? argv[0] : "stdin");
	if (made != NULL)
		while ((rec = rk_read(r)) != NULL)
			resample(rec);
	else if (count > 0)
		while ((rec = rk_read(r)) != NULL) {
			spawn(rec);
			json_decref(rec);
		}
	else
		vote_all(r);
	rk_reader_free(r);
	json_decref(made);
	return rk_finish();
}
