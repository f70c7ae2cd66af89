/*
 * Ingestion: documents from files, directory trees and standard input
 * into an index.  A file is a text document unless its name ends in
 * .jsonl or .ndjson, or in .json and its first line is a JSON object:
 * then each line is a document (a BEIR document {"_id","title","text"}
 * or an rk record {"id","query"} or "text").  What a directory walk
 * finds that is not text is skipped and counted; the same given by name
 * is an error.  Nothing here prints: skips and errors go to the caller's
 * note function.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/rk.h"
#include "search/search.h"

#ifndef BATCH_DOCS
#define BATCH_DOCS	1000		/* documents per transaction */
#endif
#define BATCH_BYTES	(32u << 20)	/* or bytes of text */

/* a directory on the path being walked: no loop through symlinks */
struct walk {
	const struct walk *up;
	dev_t	 dev;
	ino_t	 ino;
};

struct rk_ingest {
	struct rk_index *ix;
	struct rk_ingest_opts o;
	struct rk_ingest_stats st;
	struct stat index;	/* the index's file, to be skipped */
	int	 have_index;
	size_t	 batch_docs, batch_bytes;
	int	 failed;	/* the index failed: stop */
};

static const char *const skip_names[RK_SKIP_N] = {
	[RK_SKIP_BINARY] = "binary",
	[RK_SKIP_UTF8] = "invalid UTF-8",
	[RK_SKIP_SPECIAL] = "not a regular file",
	[RK_SKIP_SIZE] = "over RK_MAX_DOCUMENT",
};

const char *
rk_skip_name(enum rk_skip why)
{
	return skip_names[why];
}

static void
note(struct rk_ingest *g, int code, const char *subject, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

/* a failure: code is an RK_EXIT_* status */
static void
note(struct rk_ingest *g, int code, const char *subject, const char *fmt,
    ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	rk_vasprintf(&msg, fmt, ap);
	va_end(ap);
	g->st.failed++;
	if (code > g->st.status)
		g->st.status = code;
	if (g->o.note != NULL)
		g->o.note(g->o.arg, code, -1, subject, msg);
	free(msg);
}

static void
skip(struct rk_ingest *g, enum rk_skip why, const char *subject)
{
	g->st.skipped[why]++;
	if (g->o.note != NULL)
		g->o.note(g->o.arg, 0, why, subject, skip_names[why]);
}

struct rk_ingest *
rk_ingest_new(struct rk_index *ix, const char *index_path,
    const struct rk_ingest_opts *o)
{
	struct rk_ingest *g = rk_xmalloc(sizeof(*g));

	memset(g, 0, sizeof(*g));
	g->ix = ix;
	g->o = *o;
	g->have_index = stat(index_path, &g->index) == 0;
	if (rk_index_begin(ix) == -1) {
		free(g);
		return NULL;
	}
	return g;
}

/* commit and pack: 0, or -1 (rk_index_error()) */
int
rk_ingest_finish(struct rk_ingest *g, struct rk_ingest_stats *st)
{
	int rc = g->failed || rk_index_commit(g->ix) == -1 ||
	    rk_index_pack(g->ix) == -1 ? -1 : 0;

	*st = g->st;
	free(g);
	return rc;
}

static void
index_doc(struct rk_ingest *g, const char *name, const char *text,
    size_t len)
{
	size_t n;

	if (g->failed)
		return;
	/* a path, not JSON: no hit of it could be written as JSON */
	if (!rk_utf8_valid(name, strlen(name))) {
		note(g, RK_EXIT_INPUT, name, "name not UTF-8, skipped");
		return;
	}
	if (rk_index_add(g->ix, name, text, len, g->o.p, &n) == -1) {
		g->failed = 1;
		return;
	}
	g->st.docs++;
	g->st.chunks += n;
	g->st.bytes += len;
	g->batch_docs++;
	g->batch_bytes += len;
	if (g->batch_docs >= BATCH_DOCS || g->batch_bytes >= BATCH_BYTES) {
		if (rk_index_commit(g->ix) == -1 ||
		    rk_index_begin(g->ix) == -1)
			g->failed = 1;
		g->batch_docs = g->batch_bytes = 0;
	}
	if (g->o.progress != NULL)
		g->o.progress(g->o.arg, &g->st);
}

/* "60.0 MB" from 1 MB up, else "2048 bytes" */
static const char *
human(size_t n, char *buf, size_t size)
{
	if (n >= 1048576)
		snprintf(buf, size, "%.1f MB", n / 1048576.0);
	else
		snprintf(buf, size, "%zu bytes", n);
	return buf;
}

static void
too_big(struct rk_ingest *g, const char *name, size_t size)
{
	char a[32], b[32];

	note(g, RK_EXIT_INPUT, name, "document of %s is over the limit of %s "
	    "(RK_MAX_DOCUMENT)", human(size, a, sizeof(a)),
	    human(rk_limits.document, b, sizeof(b)));
}

/* a document from a JSON object: named by _id, else id, else where */
static void
index_object(struct rk_ingest *g, const char *where, json_t *o)
{
	json_t *idv;
	const char *title, *text;
	char *name, *body;

	if ((idv = json_object_get(o, "_id")) == NULL)
		idv = json_object_get(o, "id");
	title = rk_get_string(o, "title");
	if ((text = rk_get_string(o, "text")) == NULL)
		text = rk_get_string(o, "query");
	if (text == NULL && title == NULL) {
		note(g, RK_EXIT_INPUT, where, "no text, title or query");
		return;
	}
	if (json_is_string(idv))
		name = rk_xstrdup(json_string_value(idv));
	else if (json_is_integer(idv))
		rk_asprintf(&name, "%lld", (long long)json_integer_value(idv));
	else
		name = rk_xstrdup(where);
	if (title != NULL && *title != '\0' && text != NULL)
		rk_asprintf(&body, "%s\n\n%s", title, text);
	else
		body = rk_xstrdup(text ? text : title);
	index_doc(g, name, body, strlen(body));
	free(body);
	free(name);
}

/* one line of JSON lines, as the record reader gave it */
static void
index_line(struct rk_ingest *g, struct rk_reader *r, const char *file,
    size_t lineno, const char *line, size_t len, int is_object)
{
	json_error_t je;
	json_t *o;
	char *where;

	rk_asprintf(&where, "%s:%zu", file, lineno);
	if (!is_object) {
		/* the reader reports lines over its limit or not UTF-8 */
		o = rk_reader_record(r);
		if (rk_has_error(o)) {
			g->st.failed++;
			if (g->st.status < RK_EXIT_INPUT)
				g->st.status = RK_EXIT_INPUT;
		} else
			note(g, RK_EXIT_INPUT, where, "not a JSON object");
		json_decref(o);
	} else if (len > rk_limits.document)
		too_big(g, where, len);
	else if ((o = json_loadb(line, len, JSON_REJECT_DUPLICATES,
	    &je)) == NULL)
		note(g, RK_EXIT_INPUT, where, "column %d: %s", je.column,
		    je.text);
	else {
		index_object(g, where, o);
		json_decref(o);
	}
	free(where);
}

/* JSON lines from r, the first of them already read if line is set */
static void
add_jsonl(struct rk_ingest *g, struct rk_reader *r, const char *file,
    const char *line, size_t len, int is_object)
{
	size_t lineno = 0;

	if (line == NULL)
		line = rk_read_raw(r, &len, &is_object);
	for (; line != NULL && !g->failed;
	    line = rk_read_raw(r, &len, &is_object))
		index_line(g, r, file, ++lineno, line, len, is_object);
}

/* a text document of n bytes in buf (room for a NUL after them) */
static void
add_text(struct rk_ingest *g, const char *name, char *buf, size_t n,
    int in_dir)
{
	if (memchr(buf, '\0', n) != NULL) {
		if (in_dir)
			skip(g, RK_SKIP_BINARY, name);
		else
			note(g, RK_EXIT_INPUT, name, "binary file, skipped");
	} else if (!rk_utf8_valid(buf, n)) {
		if (in_dir)
			skip(g, RK_SKIP_UTF8, name);
		else
			note(g, RK_EXIT_INPUT, name, "invalid UTF-8, skipped");
	} else {
		buf[n] = '\0';
		index_doc(g, name, buf, n);
	}
}

static void
read_text(struct rk_ingest *g, const char *path, FILE *fp, size_t size,
    int in_dir)
{
	char *buf = rk_xmalloc(size + 1);
	size_t n = fread(buf, 1, size, fp);

	if (ferror(fp))
		note(g, RK_EXIT_IO, path, "%s", strerror(errno));
	else
		add_text(g, path, buf, n, in_dir);
	free(buf);
}

/*
 * Standard input: JSON lines if it starts with '{', else one text named
 * "-", read no further than the document limit.
 */
static void
add_stdin(struct rk_ingest *g)
{
	size_t cap = 65536, n = 0, r;
	struct rk_reader *rd;
	char *buf;
	int c;

	while ((c = getchar()) == ' ' || c == '\t' || c == '\n' || c == '\r')
		;
	if (c == EOF)
		return;
	ungetc(c, stdin);
	if (c == '{') {
		rd = rk_reader_new(stdin, "-");
		add_jsonl(g, rd, "-", NULL, 0, 0);
		rk_reader_free(rd);
		return;
	}
	buf = rk_xmalloc(cap + 1);
	while ((r = fread(buf + n, 1, cap - n, stdin)) > 0) {
		n += r;
		if (n > rk_limits.document)
			break;
		if (n == cap)
			buf = rk_xrealloc(buf, (cap *= 2) + 1);
	}
	if (ferror(stdin))
		note(g, RK_EXIT_IO, "-", "%s", strerror(errno));
	else if (n > rk_limits.document) {
		/* count the rest, keep nothing of it */
		while ((r = fread(buf, 1, cap, stdin)) > 0)
			n += r;
		too_big(g, "-", n);
	} else
		add_text(g, "-", buf, n, 0);
	free(buf);
}

static int
has_suffix(const char *s, const char *sfx)
{
	size_t n = strlen(s), m = strlen(sfx);

	return n > m && strcmp(s + n - m, sfx) == 0;
}

/*
 * A .json file: JSON lines if its first line is a JSON object, else (a
 * pretty-printed file, an array) a text document.
 */
static void
add_json(struct rk_ingest *g, const char *path, FILE *fp, size_t size,
    int in_dir)
{
	struct rk_reader *r = rk_reader_new(fp, path);
	json_t *o = NULL;
	const char *line;
	size_t len;
	int obj;

	if ((line = rk_read_raw(r, &len, &obj)) != NULL && obj &&
	    (o = json_loadb(line, len, 0, NULL)) != NULL)
		add_jsonl(g, r, path, line, len, obj);
	else if (size > rk_limits.document)
		too_big(g, path, size);
	else {
		rewind(fp);
		read_text(g, path, fp, size, in_dir);
	}
	json_decref(o);
	rk_reader_free(r);
}

static void add_path(struct rk_ingest *, const char *, const struct walk *);

static void
add_dir(struct rk_ingest *g, const char *dir, const struct stat *sb,
    const struct walk *up)
{
	struct walk here = { up, sb->st_dev, sb->st_ino };
	struct dirent **ents;
	int n;

	for (const struct walk *w = up; w != NULL; w = w->up)
		if (w->dev == sb->st_dev && w->ino == sb->st_ino) {
			skip(g, RK_SKIP_SPECIAL, dir);	/* a loop */
			return;
		}
	if ((n = scandir(dir, &ents, NULL, alphasort)) == -1) {
		note(g, RK_EXIT_IO, dir, "%s", strerror(errno));
		return;
	}
	for (int i = 0; i < n; i++) {
		char *path;

		if (ents[i]->d_name[0] != '.' && !g->failed) {
			rk_asprintf(&path, "%s%s%s", dir,
			    has_suffix(dir, "/") ? "" : "/", ents[i]->d_name);
			add_path(g, path, &here);
			free(path);
		}
		free(ents[i]);
	}
	free(ents);
}

static void
add_file(struct rk_ingest *g, const char *path, const struct stat *sb,
    int in_dir)
{
	size_t size = sb->st_size;
	FILE *fp;
	int jsonl, json;

	jsonl = has_suffix(path, ".jsonl") || has_suffix(path, ".ndjson");
	json = has_suffix(path, ".json");
	if (!jsonl && !json && size > rk_limits.document) {
		if (in_dir)
			skip(g, RK_SKIP_SIZE, path);
		else
			too_big(g, path, size);
		return;
	}
	if ((fp = fopen(path, "r")) == NULL) {
		note(g, RK_EXIT_IO, path, "%s", strerror(errno));
		return;
	}
	if (jsonl) {
		struct rk_reader *r = rk_reader_new(fp, path);

		add_jsonl(g, r, path, NULL, 0, 0);
		rk_reader_free(r);
	} else if (json)
		add_json(g, path, fp, size, in_dir);
	else
		read_text(g, path, fp, size, in_dir);
	fclose(fp);
}

static int
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/*
 * The index, or a file SQLite keeps beside it: its name with a suffix.
 * Found by name, not remembered at the start: the -journal is a new file
 * at each commit.
 */
static int
is_own(const struct rk_ingest *g, const char *path, const struct stat *sb)
{
	size_t len = strlen(path);

	if (!g->have_index)
		return 0;
	if (same_file(&g->index, sb))
		return 1;
	for (const char *const *sfx = rk_db_side_files; *sfx != NULL; sfx++) {
		struct stat ix;
		char *base;
		int own;

		if (!has_suffix(path, *sfx))
			continue;
		base = rk_xstrndup(path, len - strlen(*sfx));
		own = stat(base, &ix) == 0 && same_file(&g->index, &ix);
		free(base);
		if (own)
			return 1;
	}
	return 0;
}

/* up: the directories walked to reach path, NULL if given by name */
static void
add_path(struct rk_ingest *g, const char *path, const struct walk *up)
{
	struct stat sb;

	while (strncmp(path, "./", 2) == 0 && path[2] != '\0')
		path += 2;
	if (stat(path, &sb) == -1)
		note(g, RK_EXIT_IO, path, "%s", strerror(errno));
	else if (S_ISDIR(sb.st_mode))
		add_dir(g, path, &sb, up);
	else if (!S_ISREG(sb.st_mode))
		skip(g, RK_SKIP_SPECIAL, path);
	else if (!is_own(g, path, &sb))
		add_file(g, path, &sb, up != NULL);
}

/* a file or directory tree, or "-" for standard input: 0, or -1 */
int
rk_ingest_add(struct rk_ingest *g, const char *path)
{
	if (strcmp(path, "-") == 0)
		add_stdin(g);
	else
		add_path(g, path, NULL);
	return g->failed ? -1 : 0;
}

/* "3107 documents indexed (...); 812 skipped: 790 binary, ...": free it */
char *
rk_ingest_summary(const struct rk_ingest_stats *st)
{
	size_t skipped = 0;
	char *s, *t;

	rk_asprintf(&s, "%zu document%s indexed (%zu chunk%s, %.1f MB)",
	    st->docs, st->docs == 1 ? "" : "s", st->chunks,
	    st->chunks == 1 ? "" : "s", st->bytes / 1048576.0);
	for (int i = 0; i < RK_SKIP_N; i++)
		skipped += st->skipped[i];
	for (int i = 0, n = 0; i < RK_SKIP_N; i++) {
		if (st->skipped[i] == 0)
			continue;
		if (n++ == 0)
			rk_asprintf(&t, "%s; %zu skipped: ", s, skipped);
		else
			rk_asprintf(&t, "%s, ", s);
		free(s);
		rk_asprintf(&s, "%s%zu %s", t, st->skipped[i], skip_names[i]);
		free(t);
	}
	if (st->failed > 0) {
		rk_asprintf(&t, "%s; %zu failed", s, st->failed);
		free(s);
		s = t;
	}
	return s;
}
