/*
 * tidy.c: rk-trace merge, done and prune: folding stores together, the
 * runs of a batch that are done, and removing old runs
 */
#include <err.h>
#include <stdlib.h>
#include <string.h>

#include "core/rk.h"
#include "think/think.h"
#include "store/store.h"
#include "trace/trace.h"

static void
merge_left_out(const char *src, const char *id, int damaged, void *arg)
{
	if (damaged)
		warnx("%s: %s: the stored record is damaged: not merged", src,
		    id);
	else
		warnx("%s: %s: conflicts with the stored run, which is kept",
		    src, id);
}

static void
merge_report(const char *src, const struct rk_merge *m)
{
	json_t *o;

	if (text_output()) {
		printf("%s: %ld added, %ld already there, %ld in conflict",
		    src, m->added, m->present, m->conflicts);
		if (m->damaged > 0)
			printf(", %ld damaged", m->damaged);
		putchar('\n');
		return;
	}
	o = json_pack("{s:s,s:I,s:I,s:I,s:I}", "db", src, "added",
	    (json_int_t)m->added, "present", (json_int_t)m->present,
	    "conflicts", (json_int_t)m->conflicts, "damaged",
	    (json_int_t)m->damaged);
	if (o == NULL || rk_write(stdout, o) == -1)
		err(RK_EXIT_IO, "stdout");
	json_decref(o);
}

int
cmd_merge(int argc, char *argv[])
{
	struct rk_merge m;
	struct rk_store *st;
	struct args a;
	int i;

	if (fflag == FMT_AUTO)
		fflag = FMT_TEXT;
	parse_args(argc, argv, "df", &a);
	if (a.argc == 0)
		usage();
	if ((st = open_store(STORE_CREATE)) == NULL)
		return rk_finish();
	for (i = 0; i < a.argc; i++) {
		if (rk_store_merge(st, a.argv[i], &m, merge_left_out,
		    NULL) == -1) {
			store_failed(st, RK_EXIT_IO);
			continue;
		}
		if (m.conflicts > 0)
			rk_exit_status(RK_EXIT_FAILED);
		if (m.damaged > 0)
			rk_exit_status(RK_EXIT_IO);
		merge_report(a.argv[i], &m);
	}
	close_store(st);
	return rk_finish();
}

static int
done_row(const struct rk_run *run, const char *json, size_t len, void *arg)
{
	json_t *o = json_pack("{s:s?,s:s?,s:s?}", "batch", run->batch,
	    "item", run->item, "query", run->query);

	if (o == NULL || rk_write(stdout, o) == -1)
		err(RK_EXIT_IO, "stdout");
	json_decref(o);
	return 0;
}

int
cmd_done(int argc, char *argv[])
{
	struct rk_store *st;
	struct args a;

	parse_args(argc, argv, "dB", &a);
	if (a.f.batch == NULL || a.argc > 0) {
		warnx("done: needs --batch id and nothing else");
		usage();
	}
	if ((st = open_store(STORE_EMPTY_IF_MISSING)) == NULL)
		return rk_finish();
	if (rk_store_done(st, a.f.batch, done_row, NULL) == -1)
		store_failed(st, RK_EXIT_IO);
	close_store(st);
	return rk_finish();
}

int
cmd_prune(int argc, char *argv[])
{
	struct rk_store *st;
	struct args a;
	long n;

	if (fflag == FMT_AUTO)
		fflag = FMT_TEXT;
	parse_args(argc, argv, "dfO", &a);
	if (a.argc > 0 || a.before[0] == '\0') {
		warnx("prune: needs --before date and nothing else");
		usage();
	}
	if ((st = open_store(STORE_READ)) == NULL)
		return rk_finish();
	if ((n = rk_store_prune(st, a.before)) < 0)
		store_failed(st, RK_EXIT_IO);
	else if (text_output())
		printf("removed %ld run%s\n", n, n == 1 ? "" : "s");
	else
		printf("{\"removed\":%ld}\n", n);
	close_store(st);
	return rk_finish();
}
