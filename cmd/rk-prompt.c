/*
 * rk-prompt: give each record the request for its next step.  Where a
 * record stands is read from its own steps, so the same command can sit at
 * every position of a pipeline: rk-prompt | rk-llm | rk-prompt | rk-llm ...
 */
#include <err.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "rk.h"
#include "protocol.h"

static struct rk_runner run;

static void
usage(FILE *fp, int status)
{
	fprintf(fp, "usage: rk-prompt [-P] -p profile [question ...]\n"
	    "       rk-prompt [-P] protocol [question ...]\n"
	    "       rk-prompt [-P] < records\n");
	exit(status);
}

static void
emit(json_t *rec)
{
	rk_runner_next(&run, rec);
	if (rk_write(stdout, rec) == -1)
		err(RK_EXIT_IO, "stdout");
	json_decref(rec);
}

static char *
join_args(int argc, char *argv[])
{
	size_t len = 0;
	char *q;

	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	q = rk_xmalloc(len + 1);
	q[0] = '\0';
	for (int i = 0; i < argc; i++) {
		if (i)
			strlcat(q, " ", len + 1);
		strlcat(q, argv[i], len + 1);
	}
	return q;
}

/* Fail early on a name that cannot work, before reading any input. */
static void
check_names(void)
{
	char *e;

	if ((run.profile && rk_catalog_profile(run.catalog, run.profile, &e) ==
	    NULL) || (run.protocol && rk_catalog_protocol(run.catalog,
	    run.protocol, &e) == NULL))
		errx(RK_EXIT_CONFIG, "%s", e);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "performance-mode", no_argument, NULL, 'P' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct rk_reader *r;
	json_t *rec;
	int ch;

	rk_init(argv[0]);
	while ((ch = getopt_long(argc, argv, "+hPp:V", longopts, NULL)) != -1)
		switch (ch) {
		case 'h': usage(stdout, RK_EXIT_OK); break;
		case 'P': run.perf = 1; break;
		case 'p': run.profile = optarg; break;
		case 'V': rk_version(); break;
		default: usage(stderr, RK_EXIT_USAGE);
		}
	argc -= optind;
	argv += optind;
	if (run.profile == NULL && argc > 0)
		run.protocol = argv[0], argc--, argv++;
	run.load_ms = rk_now_ms();
	rk_runner_init(&run);
	run.catalog = rk_catalog_new();
	run.catalog->lazy = 1;	/* rk-parse checks whole profiles */
	check_names();
	run.load_ms = rk_now_ms() - run.load_ms;
	if (argc > 0) {
		char *q = join_args(argc, argv);

		if (!rk_utf8_valid(q, strlen(q)))
			errx(RK_EXIT_INPUT, "question: invalid UTF-8");
		emit(rk_record_new(q));
		free(q);
	} else {
		r = rk_reader_new(stdin, "stdin");
		while ((rec = rk_read(r)) != NULL)
			emit(rec);
		rk_reader_free(r);
	}
	rk_catalog_free(run.catalog);
	return rk_finish();
}
