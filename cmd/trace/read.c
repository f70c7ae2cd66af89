/*
 * read.c: the rk-trace commands that read the store and tidy it: ls, last,
 * search, export, show and rm.
 */
#include <err.h>
#include <stdlib.h>
#include <string.h>

#include "core/rk.h"
#include "think/think.h"
#include "store/store.h"
#include "trace/trace.h"

/* --- ls, last, search and export ------------------------------------- */

static int
ls_row(const struct rk_run *run, const char *json, size_t len, void *arg)
{
	long *n = arg;
	json_t *o;

	if (!text_output()) {
		o = rk_run_json(run);
		if (run->batch != NULL && json_object_set_new(o, "batch",
		    json_string(run->batch)) == 0 && run->item != NULL)
			json_object_set_new(o, "item", json_string(run->item));
		if (rk_write(stdout, o) == -1)
			err(RK_EXIT_IO, "stdout");
		json_decref(o);
		return 0;
	}
	if ((*n)++ == 0)
		rk_report_header(stdout, &style);
	rk_report_row(stdout, run, &style);
	return 0;
}

static int
export_row(const struct rk_run *run, const char *json, size_t len,
    void *arg)
{
	if (!rk_store_record_ok(json, len)) {
		warnx("%s: the stored record is damaged: not exported",
		    run->id);
		rk_exit_status(RK_EXIT_IO);
		return 0;
	}
	if (fwrite(json, 1, len, stdout) != len || putchar('\n') == EOF)
		err(RK_EXIT_IO, "stdout");
	return 0;
}

static int
show_run(const struct rk_run *run, const char *json, size_t len, void *arg)
{
	long *n = arg;
	json_error_t je;
	json_t *rec;

	if (!text_output())
		return export_row(run, json, len, arg);
	if ((rec = json_loadb(json, len, 0, &je)) == NULL) {
		warnx("%s: stored record is not JSON: %s", run->id, je.text);
		rk_exit_status(RK_EXIT_IO);
		return 0;
	}
	if ((*n)++ > 0)
		putchar('\n');
	rk_report(stdout, rec, &style);
	json_decref(rec);
	return 0;
}

/* ls, export, last (the newest run, shown) and search (words matched) */
static int
cmd_list(int argc, char *argv[], rk_run_fn *fn, int oldest_first)
{
	struct rk_store *st;
	struct args a;
	char *words = NULL;
	long n = 0;

	if (fn != export_row && fflag == FMT_AUTO)
		fflag = FMT_TEXT;
	parse_args(argc, argv, fn == export_row ? "dnpstBSU" :
	    fn == show_run ? "dfpstBSU" : "dfnpstBSU", &a);
	if (fn == show_run)
		a.f.limit = 1;
	if (strcmp(argv[0], "search") == 0) {
		if (a.argc == 0)
			errx(RK_EXIT_USAGE, "search: no words");
		words = rk_join_args(a.argc, a.argv);
		a.f.match = words;
	} else if (a.argc > 0) {
		warnx("%s: unexpected argument '%s'", argv[0], a.argv[0]);
		usage();
	}
	if ((st = open_store(STORE_READ)) == NULL)
		return rk_finish();
	if (rk_store_each(st, &a.f, oldest_first, fn, &n) == -1)
		store_failed(st, RK_EXIT_IO);
	close_store(st);
	free(words);
	return rk_finish();
}

int
cmd_ls(int argc, char *argv[])
{
	return cmd_list(argc, argv, ls_row, 0);
}

int
cmd_search(int argc, char *argv[])
{
	return cmd_list(argc, argv, ls_row, 0);
}

int
cmd_last(int argc, char *argv[])
{
	return cmd_list(argc, argv, show_run, 0);
}

int
cmd_export(int argc, char *argv[])
{
	return cmd_list(argc, argv, export_row, 1);
}

/* --- show and rm ----------------------------------------------------- */

/* show and rm: one run per unique id prefix */
static int
cmd_ids(int argc, char *argv[], int rm)
{
	struct rk_store *st;
	struct args a;
	char *id;
	long n = 0;
	int i, ambiguous;

	if (!rm && fflag == FMT_AUTO)
		fflag = FMT_TEXT;
	parse_args(argc, argv, rm ? "d" : "df", &a);
	if (a.argc == 0)
		usage();
	if ((st = open_store(STORE_READ)) == NULL)
		return rk_finish();
	for (i = 0; i < a.argc; i++) {
		if ((id = rk_store_find(st, a.argv[i], &ambiguous)) == NULL) {
			store_failed(st, RK_EXIT_USAGE);
			continue;
		}
		if ((rm ? rk_store_rm(st, id) :
		    rk_store_get(st, id, show_run, &n)) == -1)
			store_failed(st, RK_EXIT_IO);
		free(id);
	}
	close_store(st);
	return rk_finish();
}

int
cmd_show(int argc, char *argv[])
{
	return cmd_ids(argc, argv, 0);
}

int
cmd_rm(int argc, char *argv[])
{
	return cmd_ids(argc, argv, 1);
}

/* --- store, import, merge, done and prune ---------------------------- */
