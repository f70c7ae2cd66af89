/*
 * rk-attach: put files, and an earlier run, into each record's context as
 * passages, ahead of what retrieval found.  The prompt packs them by tokens
 * like retrieved passages (RK_CONTEXT_TOKENS); the names are the sources.
 */
#include <sys/stat.h>

#include <err.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/rk.h"
#include "search/search.h"

#define CHUNK	2000		/* bytes a passage, as rk-search indexes */

static json_t *passages;	/* what every record gets, in order */
static char *parent_id;

enum { O_PARENT = RK_OPT_OWN };

static const struct rk_optdef opts[] = {
	{ O_PARENT, "parent", required_argument, "record",
	    "continue a run: its question, answer, conclusion" },
	RK_OPTS_HELP,
	RK_OPTS_END
};

static struct rk_cli cli = { .defs = opts, .usage =
	"usage: rk-attach [--parent record] [file ...]\n" };

struct chunker {
	const char	*name, *text;
	json_int_t	 n;
};

static void
add_chunk(void *arg, size_t start, size_t end)
{
	struct chunker *c = arg;

	json_array_append_new(passages, json_pack("{s:s, s:I, s:s%}", "doc",
	    c->name, "chunk", c->n++, "text", c->text + start, end - start));
}

/*
 * The whole of a regular file, NUL-terminated, or exit.  Opened without
 * blocking: a FIFO is refused, not waited on for a writer forever (a
 * regular file's reads ignore O_NONBLOCK).
 */
static char *
slurp(const char *path, size_t *len)
{
	struct stat sb;
	FILE *fp;
	char *buf;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NONBLOCK)) == -1 ||
	    fstat(fd, &sb) == -1)
		err(RK_EXIT_IO, "%s", path);
	if (!S_ISREG(sb.st_mode))
		errx(RK_EXIT_INPUT, "%s: not a regular file", path);
	if ((size_t)sb.st_size > rk_limits.document)
		errx(RK_EXIT_INPUT, "%s: over the document limit (%zu bytes)",
		    path, rk_limits.document);
	if ((fp = fdopen(fd, "r")) == NULL)
		err(RK_EXIT_IO, "%s", path);
	buf = rk_xmalloc((size_t)sb.st_size + 1);
	*len = fread(buf, 1, (size_t)sb.st_size, fp);
	if (ferror(fp))
		err(RK_EXIT_IO, "%s", path);
	fclose(fp);
	buf[*len] = '\0';
	return buf;
}

static void
attach_file(const char *path)
{
	struct chunker c = { path, NULL, 0 };
	size_t len;
	char *text;

	/* the name is the passage's source, a JSON string */
	if (!rk_utf8_valid(path, strlen(path)))
		errx(RK_EXIT_INPUT, "%s: name not UTF-8", path);
	text = slurp(path, &len);
	if (memchr(text, '\0', len) != NULL)
		errx(RK_EXIT_INPUT, "%s: a binary file, not text", path);
	if (!rk_utf8_valid(text, len))
		errx(RK_EXIT_INPUT, "%s: not UTF-8 text", path);
	c.text = text;
	if (rk_chunk(text, len, CHUNK, 0, add_chunk, &c) == 0)
		warnx("%s: empty, nothing attached", path);
	free(text);
}

/* "Question: ...", "Answer: ...", "Conclusion: ..." of a run, as one text */
static char *
run_text(const json_t *rec)
{
	static const char *const keys[][2] = { { "query", "Question" },
	    { "answer", "Answer" }, { "conclusion", "Conclusion" } };
	char *text = rk_xstrdup(""), *t;
	const char *v;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if ((v = rk_get_string(rec, keys[i][0])) == NULL)
			continue;
		rk_asprintf(&t, "%s%s%s: %s", text, *text ? "\n" : "",
		    keys[i][1], v);
		free(text);
		text = t;
	}
	return text;
}

/*
 * The run a follow-up continues: its question, answer and conclusion
 * first, then the runs it continued in turn, newest first.
 */
static void
attach_parent(const char *path)
{
	struct rk_reader *r;
	const json_t *ctx, *p;
	const char *doc;
	json_t *rec;
	char *text, *name;
	FILE *fp;
	size_t i, len;
	int obj;

	if ((fp = fopen(path, "r")) == NULL)
		err(RK_EXIT_IO, "%s", path);
	r = rk_reader_new(fp, path);
	if (rk_read_raw(r, &len, &obj) == NULL)
		errx(RK_EXIT_INPUT, "%s: no record", path);
	rec = rk_reader_record(r);
	if (!obj || rk_reader_bad(r) > 0 || rk_get_string(rec, "id") == NULL ||
	    rk_get_string(rec, "query") == NULL)
		errx(RK_EXIT_INPUT, "%s: not the record of a run", path);
	parent_id = rk_xstrdup(rk_get_string(rec, "id"));
	rk_asprintf(&name, "run %s", parent_id);
	text = run_text(rec);
	json_array_append_new(passages, json_pack("{s:s, s:s}", "doc", name,
	    "text", text));
	free(name);
	free(text);
	ctx = json_object_get(rec, "context");
	json_array_foreach(ctx, i, p)
		if ((doc = rk_get_string(p, "doc")) != NULL &&
		    strncmp(doc, "run ", 4) == 0)
			json_array_append(passages, (json_t *)p);
	json_decref(rec);
	rk_reader_free(r);
	fclose(fp);
}

/* the passages ahead of the record's own context; the parent's id */
static void
emit(json_t *rec)
{
	json_t *ctx = json_copy(passages), *own;

	if (!rk_has_error(rec)) {
		own = json_object_get(rec, "context");
		if (json_is_array(own))
			json_array_extend(ctx, own);
		if (json_array_size(ctx) > 0)
			json_object_set(rec, "context", ctx);
		if (parent_id != NULL)
			json_object_set_new(rec, "parent",
			    json_string(parent_id));
	}
	json_decref(ctx);
	if (rk_write(stdout, rec) == -1)
		err(RK_EXIT_IO, "stdout");
	json_decref(rec);
}

int
main(int argc, char *argv[])
{
	const char *parent = NULL;
	struct rk_reader *r;
	struct rk_error e;
	json_t *rec;
	int ch, act;

	if (rk_init(argv[0], &e) != 0)
		errx(e.code, "%s", e.msg);
	while ((ch = rk_getopt(&cli, argc, argv)) != -1)
		if (ch == O_PARENT)
			parent = optarg;
		else if ((act = rk_opt(&cli, ch, optarg)) != RK_OPT_NEXT)
			return rk_opt_done(&cli, act);
	passages = json_array();
	if (parent != NULL)
		attach_parent(parent);
	for (int i = optind; i < argc; i++)
		attach_file(argv[i]);
	r = rk_reader_fd(STDIN_FILENO, "stdin");
	while ((rec = rk_read(r)) != NULL)
		emit(rec);
	rk_reader_free(r);
	json_decref(passages);
	free(parent_id);
	return rk_finish();
}
