/* rk-search: index documents and answer BM25 queries */
#include <sys/stat.h>

#include <dirent.h>
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/rk.h"
#include "search/search.h"

#ifndef BATCH_DOCS
#define BATCH_DOCS	1000		/* documents per transaction */
#endif
#define BATCH_BYTES	(32u << 20)	/* or bytes of text */

static struct rk_index *ix;
static struct rk_index_params params;
static const char *index_path;
static const char *tag = "rk-search";
static size_t budget = 8192;
static long kflag = 10;
static int dflag, Lflag, rflag, trec;

/* ingest progress */
static size_t ndocs, nchunks, nbytes, batch_docs, batch_bytes;
static double last_progress;
static int progress;

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: rk-search -i index [-a analyzer] [-c size] [-o overlap] "
	    "[-p params]\n"
	    "                 add file|dir ...\n"
	    "       rk-search -i index rm doc ...\n"
	    "       rk-search -i index stats | optimize\n"
	    "       rk-search -i index [-dLr] [-b bytes] [-f format] [-k n] "
	    "[-p params]\n"
	    "                 [-t tag] [query] [words ...]\n");
	if (fp == stderr)
		exit(RK_EXIT_USAGE);
	exit(rk_finish());
}

/* "k1=0.9,b=0.4" */
static void
parse_params(char *spec, struct rk_index_params *p)
{
	char *w, *v;
	double d;

	while ((w = strsep(&spec, ",")) != NULL) {
		if ((v = strchr(w, '=')) == NULL)
			errx(RK_EXIT_USAGE, "-p: not key=value: '%s'", w);
		*v++ = '\0';
		if (rk_parse_double(v, &d) == -1 || d < 0)
			errx(RK_EXIT_USAGE, "-p: %s: not a number >= 0: '%s'",
			    w, v);
		if (strcmp(w, "k1") == 0)
			p->k1 = d;
		else if (strcmp(w, "b") == 0) {
			if (d > 1)
				errx(RK_EXIT_USAGE, "-p: b: not 0..1: '%s'", v);
			p->b = d;
		} else
			errx(RK_EXIT_USAGE, "-p: unknown parameter '%s'", w);
	}
}

static void
show_progress(int done)
{
	double now = rk_now_ms();

	if (!progress || (!done && now - last_progress < 500))
		return;
	last_progress = now;
	fprintf(stderr, "\rrk-search: %zu documents, %zu chunks, %.1f MB%s",
	    ndocs, nchunks, nbytes / 1048576.0, done ? "\n" : "");
}

static void
index_doc(const char *name, const char *text, size_t len)
{
	size_t n;

	if (rk_index_add(ix, name, text, len, &params, &n) == -1)
		errx(RK_EXIT_IO, "%s: %s", index_path, rk_index_error(ix));
	ndocs++;
	nchunks += n;
	nbytes += len;
	batch_docs++;
	batch_bytes += len;
	if (batch_docs >= BATCH_DOCS || batch_bytes >= BATCH_BYTES) {
		if (rk_index_commit(ix) == -1 || rk_index_begin(ix) == -1)
			errx(RK_EXIT_IO, "%s: %s", index_path,
			    rk_index_error(ix));
		batch_docs = batch_bytes = 0;
	}
	show_progress(0);
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
too_big(const char *name, size_t size)
{
	char a[32], b[32];

	warnx("%s: document of %s is over the limit of %s (RK_MAX_DOCUMENT)",
	    name, human(size, a, sizeof(a)), human(rk_limits.document, b,
	    sizeof(b)));
	rk_exit_status(RK_EXIT_INPUT);
}

/*
 * One JSON line: a BEIR document ({"_id","title","text"}) or an rk record
 * ({"id","query"} or "text").  The document is named by _id, else id.
 */
static void
index_json(const char *file, size_t lineno, const char *line, size_t len)
{
	json_error_t je;
	json_t *o, *idv;
	const char *title, *text;
	char *name, *body = NULL;

	if ((o = json_loadb(line, len, 0, &je)) == NULL ||
	    !json_is_object(o)) {
		warnx("%s:%zu: %s", file, lineno, o ? "not a JSON object" :
		    je.text);
		rk_exit_status(RK_EXIT_INPUT);
		json_decref(o);
		return;
	}
	if ((idv = json_object_get(o, "_id")) == NULL)
		idv = json_object_get(o, "id");
	if (json_is_string(idv))
		name = rk_xstrdup(json_string_value(idv));
	else if (json_is_integer(idv))
		rk_asprintf(&name, "%lld", (long long)json_integer_value(idv));
	else
		rk_asprintf(&name, "%s:%zu", file, lineno);
	title = rk_get_string(o, "title");
	if ((text = rk_get_string(o, "text")) == NULL)
		text = rk_get_string(o, "query");
	if (text == NULL && title == NULL) {
		warnx("%s:%zu: no text, title or query", file, lineno);
		rk_exit_status(RK_EXIT_INPUT);
	} else {
		if (title != NULL && *title != '\0' && text != NULL)
			rk_asprintf(&body, "%s\n\n%s", title, text);
		else
			body = rk_xstrdup(text ? text : title);
		index_doc(name, body, strlen(body));
	}
	free(body);
	free(name);
	json_decref(o);
}

static void
add_jsonl(const char *file, FILE *fp)
{
	size_t cap = 0, n, lineno = 0, total;
	char *buf = NULL;
	int c;

	for (;;) {
		n = total = 0;
		while ((c = getc_unlocked(fp)) != EOF && c != '\n') {
			if (total++ >= rk_limits.document)
				continue;
			if (n + 2 > cap) {
				cap = cap ? cap * 2 : 65536;
				buf = rk_xrealloc(buf, cap);
			}
			buf[n++] = c;
		}
		if (c == EOF && total == 0)
			break;
		lineno++;
		if (total > rk_limits.document) {
			char *where;

			rk_asprintf(&where, "%s:%zu", file, lineno);
			too_big(where, total);
			free(where);
			continue;
		}
		if (n > 0 && buf[n - 1] == '\r')
			n--;
		if (strspn(buf, " \t") == n)
			continue;
		buf[n] = '\0';
		index_json(file, lineno, buf, n);
	}
	if (ferror(fp)) {
		warn("%s", file);
		rk_exit_status(RK_EXIT_IO);
	}
	free(buf);
}

/* index text unless it is binary or not UTF-8; buf has room for a NUL */
static void
check_text(const char *file, char *buf, size_t n, int in_dir)
{
	if (memchr(buf, '\0', n) != NULL) {
		warnx("%s: binary file, skipped", file);
		if (!in_dir)
			rk_exit_status(RK_EXIT_INPUT);
	} else if (!rk_utf8_valid(buf, n)) {
		warnx("%s: invalid UTF-8, skipped", file);
		rk_exit_status(RK_EXIT_INPUT);
	} else {
		buf[n] = '\0';
		index_doc(file, buf, n);
	}
}

static void
add_text(const char *file, FILE *fp, size_t size, int in_dir)
{
	char *buf = rk_xmalloc(size + 1);
	size_t n = fread(buf, 1, size, fp);

	if (ferror(fp)) {
		warn("%s", file);
		rk_exit_status(RK_EXIT_IO);
	} else
		check_text(file, buf, n, in_dir);
	free(buf);
}

/* "-": JSON lines if the input starts with '{', else one text named "-" */
static void
add_stdin(void)
{
	size_t cap = 65536, n = 0, r;
	char *buf;
	int c;

	while ((c = getchar()) == ' ' || c == '\t' || c == '\n' || c == '\r')
		;
	if (c == EOF)
		return;
	ungetc(c, stdin);
	if (c == '{') {
		add_jsonl("-", stdin);
		return;
	}
	buf = rk_xmalloc(cap + 1);
	for (;;) {
		if (n == cap) {
			if (cap > rk_limits.document) {
				char rest[65536];

				/* over the limit: only count the rest */
				while ((r = fread(rest, 1, sizeof(rest),
				    stdin)) > 0)
					n += r;
				break;
			}
			cap *= 2;
			buf = rk_xrealloc(buf, cap + 1);
		}
		if ((r = fread(buf + n, 1, cap - n, stdin)) == 0)
			break;
		n += r;
	}
	if (ferror(stdin)) {
		warn("stdin");
		rk_exit_status(RK_EXIT_IO);
	} else if (n > rk_limits.document)
		too_big("-", n);
	else
		check_text("-", buf, n, 0);
	free(buf);
}

static int
has_suffix(const char *s, const char *sfx)
{
	size_t n = strlen(s), m = strlen(sfx);

	return n > m && strcmp(s + n - m, sfx) == 0;
}

static void add_path(const char *, int);

/* the index and its WAL files, never indexed themselves */
static struct stat own[3];
static int nown;

static void
own_files(void)
{
	const char *sfx[] = { "", "-wal", "-shm" };
	char *p;

	for (int i = 0; i < 3; i++) {
		rk_asprintf(&p, "%s%s", index_path, sfx[i]);
		if (stat(p, &own[nown]) == 0)
			nown++;
		free(p);
	}
}

static int
is_own(const struct stat *sb)
{
	for (int i = 0; i < nown; i++)
		if (own[i].st_dev == sb->st_dev && own[i].st_ino == sb->st_ino)
			return 1;
	return 0;
}

static void
add_dir(const char *dir)
{
	struct dirent **ents;
	int n;

	if ((n = scandir(dir, &ents, NULL, alphasort)) == -1) {
		warn("%s", dir);
		rk_exit_status(RK_EXIT_IO);
		return;
	}
	for (int i = 0; i < n; i++) {
		char *path;

		if (ents[i]->d_name[0] != '.') {
			rk_asprintf(&path, "%s%s%s", dir,
			    has_suffix(dir, "/") ? "" : "/", ents[i]->d_name);
			add_path(path, 1);
			free(path);
		}
		free(ents[i]);
	}
	free(ents);
}

/* in_dir: found by walking a directory; binary files are then skipped */
static void
add_path(const char *path, int in_dir)
{
	struct stat sb;
	FILE *fp;
	int json;

	while (strncmp(path, "./", 2) == 0 && path[2] != '\0')
		path += 2;
	if (stat(path, &sb) == -1) {
		warn("%s", path);
		rk_exit_status(RK_EXIT_IO);
		return;
	}
	if (S_ISDIR(sb.st_mode)) {
		add_dir(path);
		return;
	}
	if (!S_ISREG(sb.st_mode)) {
		warnx("%s: not a regular file, skipped", path);
		return;
	}
	if (is_own(&sb))
		return;
	json = has_suffix(path, ".jsonl") || has_suffix(path, ".ndjson") ||
	    has_suffix(path, ".json");
	if (!json && (size_t)sb.st_size > rk_limits.document) {
		too_big(path, sb.st_size);
		return;
	}
	if ((fp = fopen(path, "r")) == NULL) {
		warn("%s", path);
		rk_exit_status(RK_EXIT_IO);
		return;
	}
	if (json)
		add_jsonl(path, fp);
	else
		add_text(path, fp, sb.st_size, in_dir);
	fclose(fp);
}

static void
cmd_add(int argc, char **argv)
{
	progress = isatty(STDERR_FILENO);
	own_files();
	if (rk_index_begin(ix) == -1)
		errx(RK_EXIT_IO, "%s: %s", index_path, rk_index_error(ix));
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], "-") == 0)
			add_stdin();
		else
			add_path(argv[i], 0);
	if (rk_index_commit(ix) == -1 || rk_index_pack(ix) == -1)
		errx(RK_EXIT_IO, "%s: %s", index_path, rk_index_error(ix));
	show_progress(1);
}

static void
cmd_rm(int argc, char **argv)
{
	if (rk_index_begin(ix) == -1)
		errx(RK_EXIT_IO, "%s: %s", index_path, rk_index_error(ix));
	for (int i = 0; i < argc; i++)
		switch (rk_index_rm(ix, argv[i])) {
		case -1:
			errx(RK_EXIT_IO, "%s: %s", index_path,
			    rk_index_error(ix));
		case 0:
			warnx("%s: no such document", argv[i]);
			rk_exit_status(RK_EXIT_INPUT);
		}
	if (rk_index_commit(ix) == -1 || rk_index_pack(ix) == -1)
		errx(RK_EXIT_IO, "%s: %s", index_path, rk_index_error(ix));
}

static void
search(const char *query, struct rk_hit **hits, size_t *n)
{
	if (rk_index_search(ix, query, &params, kflag, dflag || trec, hits,
	    n) == -1)
		errx(RK_EXIT_IO, "%s: %s", index_path, rk_index_error(ix));
}

/* {"doc","chunk","score","text"} for a hit, with its rank when rank > 0 */
static json_t *
hit_json(const struct rk_hit *h, size_t rank)
{
	char *doc, *text;
	long chunk;
	json_t *o;

	if (rk_index_hit(ix, h->rowid, &doc, &chunk, &text) == -1)
		errx(RK_EXIT_IO, "%s: %s", index_path, rk_index_error(ix));
	o = json_pack("{s:s, s:i, s:f}", "doc", doc, "chunk", (json_int_t)chunk,
	    "score", rk_round(h->score, 4));
	if (rank > 0)
		json_object_set_new(o, "rank", json_integer(rank));
	json_object_set_new(o, "text", json_string(text));
	free(doc);
	free(text);
	return o;
}

static void
print_hits(const char *qid, const char *query)
{
	struct rk_hit *hits;
	size_t n;

	search(query, &hits, &n);
	for (size_t i = 0; i < n; i++) {
		if (trec) {
			char *doc;
			long chunk;

			if (rk_index_hit(ix, hits[i].rowid, &doc, &chunk,
			    NULL) == -1)
				errx(RK_EXIT_IO, "%s: %s", index_path,
				    rk_index_error(ix));
			printf("%s Q0 %s %zu %.4f %s\n", qid ? qid : "1", doc,
			    i + 1, hits[i].score, tag);
			free(doc);
		} else {
			json_t *o = hit_json(&hits[i], i + 1);

			if (qid != NULL) {
				json_t *wrap = json_pack("{s:s}", "qid", qid);

				json_object_update(wrap, o);
				json_decref(o);
				o = wrap;
			}
			if (rk_write(stdout, o) == -1)
				err(RK_EXIT_IO, "stdout");
			json_decref(o);
		}
	}
	free(hits);
}

/* attach the best hits that fit the budget to a record as context */
static void
attach(json_t *rec)
{
	const char *query = rk_get_string(rec, "query");
	json_t *ctx, *lists;
	struct rk_hit *hits;
	size_t n, used = 0;

	if (!rk_has_error(rec) && query != NULL) {
		ctx = json_array();
		search(query, &hits, &n);
		for (size_t i = 0; i < n; i++) {
			json_t *o = hit_json(&hits[i], 0);
			size_t len = json_string_length(json_object_get(o,
			    "text"));

			if (used + len > budget) {
				json_decref(o);
				break;
			}
			used += len;
			json_array_append_new(ctx, o);
		}
		free(hits);
		if (Lflag) {
			if (!json_is_array(lists = json_object_get(rec,
			    "lists"))) {
				lists = json_array();
				json_object_set_new(rec, "lists", lists);
			}
			json_array_append_new(lists, ctx);
		} else
			json_object_set_new(rec, "context", ctx);
	}
	if (rk_write(stdout, rec) == -1)
		err(RK_EXIT_IO, "stdout");
}

static void
record_mode(void)
{
	struct rk_reader *r = rk_reader_new(stdin, "stdin");
	json_t *rec;

	while ((rec = rk_read(r)) != NULL) {
		attach(rec);
		json_decref(rec);
	}
	rk_exit_status(rk_reader_status(r));
	rk_reader_free(r);
}

/* text mode: one query per line, "ID<TAB>query" names it */
static void
line_mode(void)
{
	char *line = NULL, *tab, qid[32];
	size_t cap = 0, nq = 0;
	ssize_t n;
	int warned = 0;

	while ((n = getline(&line, &cap, stdin)) != -1) {
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (n > 0 && line[n - 1] == '\r')
			line[--n] = '\0';
		if (strspn(line, " \t") == (size_t)n)
			continue;
		nq++;
		if ((size_t)n > rk_limits.record) {
			warnx("stdin:%zu: query over the record limit of %zu "
			    "bytes (RK_MAX_RECORD)", nq, rk_limits.record);
			rk_exit_status(RK_EXIT_INPUT);
			continue;
		}
		if (!rk_utf8_valid(line, n)) {
			warnx("stdin:%zu: invalid UTF-8", nq);
			rk_exit_status(RK_EXIT_INPUT);
			continue;
		}
		if (!warned && line[strspn(line, " \t")] == '{') {
			warnx("stdin:%zu: a JSON line is read as a query; -r "
			    "reads records", nq);
			warned = 1;
		}
		if ((tab = strchr(line, '\t')) != NULL) {
			*tab = '\0';
			print_hits(line, tab + 1);
		} else {
			snprintf(qid, sizeof(qid), "%zu", nq);
			print_hits(qid, line);
		}
	}
	if (ferror(stdin))
		err(RK_EXIT_IO, "stdin");
	free(line);
}

static void
cmd_query(int argc, char **argv)
{
	char *query = NULL;
	size_t len = 0;

	if (argc == 0 || (argc == 1 && strcmp(argv[0], "-") == 0)) {
		if (rflag)
			record_mode();
		else
			line_mode();
		return;
	}
	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	query = rk_xmalloc(len + 1);
	query[0] = '\0';
	for (int i = 0; i < argc; i++) {
		if (i > 0)
			strcat(query, " ");
		strcat(query, argv[i]);
	}
	if (rflag) {
		json_t *rec = rk_record_new(query);

		attach(rec);
		json_decref(rec);
	} else
		print_hits(NULL, query);
	free(query);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct rk_analyzer an, *anp = NULL;
	char *pflag = NULL;
	const char *cmd;
	int c, create, setp = 0;

	rk_init(argv[0]);
	params.chunk = params.overlap = (size_t)-1;
	while ((c = getopt_long(argc, argv, "a:b:c:df:hi:k:Lo:p:rt:V",
	    longopts, NULL)) != -1)
		switch (c) {
		case 'a':
			if (rk_analyzer_parse(optarg, &an) == -1)
				errx(RK_EXIT_USAGE, "-a: not stem, stop, "
				    "stem,stop or none: '%s'", optarg);
			anp = &an;
			break;
		case 'b':
			if (rk_parse_size(optarg, &budget) == -1)
				errx(RK_EXIT_USAGE, "-b: not a size: '%s'",
				    optarg);
			break;
		case 'c':
			if (strcmp(optarg, "0") == 0)
				params.chunk = 0;
			else if (rk_parse_size(optarg, &params.chunk) == -1 ||
			    params.chunk < 16)
				errx(RK_EXIT_USAGE, "-c: not 0 or a size of "
				    "16 bytes or more: '%s'", optarg);
			setp = 1;
			break;
		case 'd':
			dflag = 1;
			break;
		case 'f':
			trec = rk_parse_hits_format(optarg);
			break;
		case 'h':
			usage(stdout);
			break;
		case 'i':
			index_path = optarg;
			break;
		case 'k':
			if (rk_parse_uint(optarg, 100000, &kflag) == -1 ||
			    kflag < 1)
				errx(RK_EXIT_USAGE, "-k: not 1..100000: '%s'",
				    optarg);
			break;
		case 'L':
			Lflag = rflag = 1;
			break;
		case 'o':
			if (strcmp(optarg, "0") == 0)
				params.overlap = 0;
			else if (rk_parse_size(optarg, &params.overlap) == -1)
				errx(RK_EXIT_USAGE, "-o: not a size: '%s'",
				    optarg);
			setp = 1;
			break;
		case 'p': {
			/* checked now, applied over the index's defaults later */
			struct rk_index_params scratch;
			char *copy = rk_xstrdup(optarg);

			parse_params(copy, &scratch);
			free(copy);
			pflag = optarg;
			break;
		}
		case 'r':
			rflag = 1;
			break;
		case 't':
			tag = rk_parse_run_tag(optarg);
			break;
		case 'V':
			rk_version();
			break;
		default:
			usage(stderr);
		}
	argc -= optind;
	argv += optind;
	if (index_path == NULL && (index_path = rk_getenv("RK_INDEX")) == NULL)
		errx(RK_EXIT_USAGE, "no index: give -i INDEX or set RK_INDEX");
	cmd = argc > 0 ? argv[0] : "";
	create = strcmp(cmd, "add") == 0;
	if (create && argc < 2)
		usage(stderr);
	ix = rk_index_open(index_path, create, create ? anp : NULL);
	if (ix == NULL)
		err(RK_EXIT_INTERNAL, "rk_index_open");
	if (*rk_index_error(ix) != '\0')
		errx(RK_EXIT_IO, "%s: %s", index_path, rk_index_error(ix));
	if (anp != NULL && !create)
		warnx("-a only applies when adding; ignored");
	{
		struct rk_index_params stored;

		rk_index_params(ix, &stored);
		if (params.chunk == (size_t)-1)
			params.chunk = stored.chunk;
		if (params.overlap == (size_t)-1)
			params.overlap = stored.overlap;
		params.k1 = stored.k1;
		params.b = stored.b;
		if (pflag != NULL)
			parse_params(pflag, &params);
		if (params.chunk > 0 && params.overlap >= params.chunk)
			errx(RK_EXIT_USAGE, "-o: overlap %zu is not below the "
			    "chunk size %zu", params.overlap, params.chunk);
		/* settings given when adding become the index's defaults */
		if (create && (setp || pflag != NULL) &&
		    rk_index_set_params(ix, &params) == -1)
			errx(RK_EXIT_IO, "%s: %s", index_path,
			    rk_index_error(ix));
	}
	if (create)
		cmd_add(argc - 1, argv + 1);
	else if (strcmp(cmd, "rm") == 0) {
		if (argc < 2)
			usage(stderr);
		cmd_rm(argc - 1, argv + 1);
	} else if (strcmp(cmd, "stats") == 0) {
		char *s;

		if (argc != 1)
			usage(stderr);
		if ((s = rk_index_stats(ix)) != NULL)
			puts(s);
		else
			errx(RK_EXIT_IO, "%s: %s", index_path,
			    rk_index_error(ix));
		free(s);
	} else if (strcmp(cmd, "optimize") == 0) {
		if (argc != 1)
			usage(stderr);
		if (rk_index_begin(ix) == -1 || rk_index_optimize(ix) == -1 ||
		    rk_index_commit(ix) == -1)
			errx(RK_EXIT_IO, "%s: %s", index_path,
			    rk_index_error(ix));
	} else if (strcmp(cmd, "query") == 0)
		cmd_query(argc - 1, argv + 1);
	else
		cmd_query(argc, argv);
	rk_index_close(ix);
	return rk_finish();
}
