/*
 * rk-prompt: give each record the request for its next step.  Where a
 * record stands is read from its own steps, so the same command can sit at
 * every position of a pipeline: rk-prompt | rk-llm | rk-prompt | rk-llm ...
 */
#include <err.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/rk.h"
#include "think/think.h"

static struct rk_runner run;

static const struct rk_optdef opts[] = {
	{ 'p', NULL, required_argument, "profile",
	    "the profile to run, instead of a protocol" },
	RK_OPTS_PERF,
	RK_OPTS_HELP,
	RK_OPTS_END
};

static struct rk_cli cli = { .defs = opts, .posix = 1, .usage =
	"usage: rk-prompt [--performance-mode] -p profile [question ...]\n"
	"       rk-prompt [--performance-mode] protocol [question ...]\n"
	"       rk-prompt [--performance-mode]\n" };

/* What the runner reads of earlier steps; the rest is copied through. */
static const char *step_keys[] = { "protocol", "step", "link", "output",
    "confidence", NULL };

/*
 * A well-formed record is taken lightly: its steps' raw replies, usage and
 * timings are neither parsed nor written again, only copied.  Returns -1
 * when the record must be taken in full.
 */
/* The runner reports a record that cannot go on; we say so. */
static void
next(json_t *rec)
{
	struct rk_error e;

	if (rk_runner_next(&run, rec, &e) != 0) {
		warnx("%s: %s", rk_get_string(rec, "id"), e.msg);
		rk_exit_status(e.code);
	}
}

static int
light(const char *line, size_t len)
{
	struct rk_light l;
	const json_t *req, *e;
	int pass;

	if (rk_light_open(&l, line, len, step_keys) == -1)
		return -1;
	req = json_object_get(l.rec, "request");
	e = json_object_get(l.rec, "error");
	pass = (req != NULL && !json_is_null(req)) ||
	    (e != NULL && !json_is_null(e));
	if (!pass)
		next(l.rec);
	return rk_light_finish(stdout, &l, pass);
}

static void
emit(json_t *rec)
{
	next(rec);
	if (rk_write(stdout, rec) == -1)
		err(RK_EXIT_IO, "stdout");
	json_decref(rec);
}

static void
each_record(void)
{
	struct rk_reader *r = rk_reader_fd(STDIN_FILENO, NULL);
	const char *line;
	size_t len;
	int obj, rc;

	while ((line = rk_read_raw(r, &len, &obj)) != NULL) {
		if (obj && (rc = light(line, len)) != -1) {
			if (rc == RK_EXIT_IO)
				err(RK_EXIT_IO, "stdout");
			continue;
		}
		emit(rk_reader_record(r));
	}
	rk_exit_status(rk_reader_status(r));
	rk_reader_free(r);
}

/*
 * A name or setting that cannot work fails before any model call: said
 * once, and each record read becomes an error record (those that carry one
 * already pass as they are), so that no question is lost in a pipeline.
 */
static void
fail_record(json_t *rec, void *arg)
{
	const struct rk_error *e = arg;

	if (!rk_has_error(rec))
		rk_record_error(rec, e->code, "bad-config", e->msg);
}

static void
fail_each_record(const struct rk_error *e)
{
	int rc;

	warnx("%s", e->msg);
	rk_exit_status(e->code);
	if ((rc = rk_filter_stdin(fail_record, (void *)e)) == -1)
		err(RK_EXIT_IO, "stdout");
	rk_exit_status(rc);
}

static int
check_names(struct rk_error *e)
{
	if ((run.profile && rk_catalog_profile(run.catalog, run.profile, e) ==
	    NULL) || (run.protocol && rk_catalog_protocol(run.catalog,
	    run.protocol, e) == NULL))
		return e->code;
	return 0;
}

int
main(int argc, char *argv[])
{
	struct rk_error e;
	int ch, act;

	if (rk_init(argv[0], &e) != 0)
		errx(e.code, "%s", e.msg);
	while ((ch = rk_getopt(&cli, argc, argv)) != -1)
		if ((act = rk_opt(&cli, ch, optarg)) != RK_OPT_NEXT)
			return rk_opt_done(&cli, act);
	run.perf = cli.perf;
	run.profile = cli.profile;
	argc -= optind;
	argv += optind;
	if (run.profile == NULL && argc > 0)
		run.protocol = argv[0], argc--, argv++;
	run.load_ms = rk_now_ms();
	run.catalog = rk_catalog_new();
	run.catalog->lazy = 1;	/* rk-parse checks whole profiles */
	if (rk_runner_init(&run, &e) != 0 || check_names(&e) != 0) {
		if (argc > 0 || e.code == RK_EXIT_USAGE)
			errx(e.code, "%s", e.msg);
		fail_each_record(&e);
		rk_catalog_free(run.catalog);
		return rk_finish();
	}
	run.load_ms = rk_now_ms() - run.load_ms;
	if (argc > 0) {
		char *q = rk_join_args(argc, argv);

		if (!rk_utf8_valid(q, strlen(q)))
			errx(RK_EXIT_INPUT, "question: invalid UTF-8");
		emit(rk_record_new(q));
		free(q);
	} else
		each_record();
	rk_catalog_free(run.catalog);
	return rk_finish();
}
