/*
 * rk-tokens: count tokens as OpenAI's tiktoken does (cl100k_base,
 * o200k_base), print their ids, or turn ids back into text.  One count per
 * input line; a line that is a record gets a "tokens" field instead.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rk.h"
#include "llm/llm.h"
#include "token/token.h"

static int aflag, dflag, iflag, sflag;
static int estimate;	/* a model without a public tokenizer */
static const struct rk_bpe *bpe;
static struct rk_bpe_ids ids;

enum { O_ALL = RK_OPT_OWN, O_SPECIAL, O_COMPILE, O_DECODE, O_IDS };

static const struct rk_optdef opts[] = {
	{ 'e', "encoding", required_argument, "encoding",
	    "the token encoding; default cl100k_base" },
	{ 'm', "model", required_argument, "model", "the encoding of model" },
	{ O_ALL, "all", no_argument, NULL, "all input as one text" },
	{ O_SPECIAL, "allow-special", no_argument, NULL,
	    "special tokens in the text are special" },
	{ O_COMPILE, "compile", no_argument, NULL,
	    "turn a .tiktoken rank file into a table" },
	{ O_DECODE, "decode", no_argument, NULL, "token ids to text" },
	{ O_IDS, "ids", no_argument, NULL, "print the token ids, not counts" },
	RK_OPTS_HELP,
	RK_OPTS_END
};

static struct rk_cli cli = { .defs = opts, .usage =
	"usage: rk-tokens [--all] [--allow-special] [--decode] [--ids]\n"
	"                 [-e encoding | -m model] [file ...]\n"
	"       rk-tokens --compile ranks.tiktoken table\n" };

static void
put_ids(const uint32_t *v, size_t n, char sep)
{
	char buf[16], *p;
	size_t i;

	for (i = 0; i < n; i++) {
		uint32_t x = v[i];

		p = buf + sizeof(buf);
		do
			*--p = '0' + x % 10;
		while ((x /= 10) != 0);
		if (i > 0)
			putchar_unlocked(sep);
		fwrite(p, 1, buf + sizeof(buf) - p, stdout);
	}
	putchar_unlocked('\n');
}

/* the tokens of s[0..len), their ids appended to v unless it is NULL */
static size_t
tokens(const char *s, size_t len, struct rk_bpe_ids *v)
{
	size_t n = rk_bpe_encode(bpe, s, len, sflag, v);

	if (n == RK_BPE_FAILED)
		errx(RK_EXIT_INPUT, "%s", rk_bpe_error());
	return n;
}

/* a plain line of text */
static void
text_line(const char *s, size_t len)
{
	if (iflag) {
		ids.n = 0;
		tokens(s, len, &ids);
		put_ids(ids.v, ids.n, ' ');
	} else
		printf("%zu%s\n", tokens(s, len, NULL),
		    estimate ? " estimate" : "");
}

/* a line that starts with '{': a record, or an error record */
static void
record_line(struct rk_reader *r)
{
	json_t *rec = rk_reader_record(r), *q, *tok;

	q = json_object_get(rec, "query");
	if (!rk_has_error(rec) && json_is_string(q)) {
		const char *t = json_string_value(q);
		size_t n = json_string_length(q);

		tok = json_object();
		json_object_set_new(tok, "encoding",
		    json_string(rk_bpe_name(bpe)));
		if (iflag) {
			json_t *a = json_array();

			ids.n = 0;
			tokens(t, n, &ids);
			for (size_t i = 0; i < ids.n; i++)
				json_array_append_new(a,
				    json_integer(ids.v[i]));
			json_object_set_new(tok, "query",
			    json_integer(ids.n));
			json_object_set_new(tok, "ids", a);
		} else
			json_object_set_new(tok, "query",
			    json_integer(tokens(t, n, NULL)));
		if (estimate)
			json_object_set_new(tok, "estimate", json_true());
		json_object_set_new(rec, "tokens", tok);
	}
	if (rk_write(stdout, rec) == -1)
		err(RK_EXIT_IO, "stdout");
	json_decref(rec);
}

/*
 * Ids separated by blanks or commas, with or without [ ]: the output of
 * --ids and a JSON array both read back.  Returns -1 on a bad one.
 */
static int
parse_ids(struct rk_reader *r, const char *s)
{
	const char *p = s;
	size_t len, n0 = ids.n;

	for (;;) {
		unsigned long v;
		char *end;

		p += strspn(p, " \t\r,[]");
		if (*p == '\0')
			return 0;
		errno = 0;
		v = *p >= '0' && *p <= '9' ? strtoul(p, &end, 10) : 0;
		if (*p < '0' || *p > '9' || errno || v > UINT32_MAX ||
		    rk_bpe_token(bpe, v, &len) == NULL) {
			len = strcspn(p, " \t\r,[]");
			rk_reader_warn(r, "%.*s: not a token id of %s",
			    (int)(len > 40 ? 40 : len), p, rk_bpe_name(bpe));
			ids.n = n0;	/* none of a bad line */
			return -1;
		}
		if (ids.n == ids.cap) {
			ids.cap = ids.cap ? ids.cap * 2 : 256;
			ids.v = rk_xrealloc(ids.v, ids.cap * sizeof(*ids.v));
		}
		ids.v[ids.n++] = v;
		p = end;
	}
}

/* the ids were checked as they were read */
static void
put_text(void)
{
	size_t len;
	char *text = rk_bpe_decode(bpe, ids.v, ids.n, &len);

	if (text == NULL)
		errx(RK_EXIT_INTERNAL, "%s", rk_bpe_error());
	else
		fwrite(text, 1, len, stdout);
	free(text);
}

static void
run(struct rk_reader *r)
{
	struct rk_error e;
	const char *line;
	size_t len, ws;
	int rc;

	while ((rc = rk_read_line(r, &line, &len, &e)) != -1) {
		ws = strspn(line, " \t");
		if (!dflag && ws < len && line[ws] == '{') {
			record_line(r);
			continue;
		}
		if (rc != 0)
			rk_reader_warn(r, "%s", e.msg);	/* and skipped */
		else if (dflag) {
			if (!aflag)
				ids.n = 0;
			if (parse_ids(r, line) == 0 && !aflag) {
				put_text();
				putchar_unlocked('\n');
			}
		} else
			text_line(line, len);
		if (ferror(stdout))
			break;
	}
}

/* -a: the whole input is one text */
static void
slurp(FILE *fp, const char *name, char **buf, size_t *len, size_t *cap)
{
	size_t n;

	for (;;) {
		if (*cap - *len < 65536) {
			*cap = *cap * 2 + 65536;
			*buf = rk_xrealloc(*buf, *cap);
		}
		n = fread(*buf + *len, 1, *cap - *len, fp);
		*len += n;
		if (*len > rk_limits.document)
			errx(RK_EXIT_INPUT, "%s: input over the limit of %zu "
			    "bytes (RK_MAX_DOCUMENT)", name,
			    rk_limits.document);
		if (n == 0)
			break;
	}
	if (ferror(fp))
		err(RK_EXIT_IO, "%s", name);
}

static void
cannot_open(const char *name)
{
	warn("%s", name);
	rk_exit_status(RK_EXIT_IO);
}

/* one input, NULL for stdin: its lines, or with -a its whole text */
static void
read_file(const char *name, char **all, size_t *alllen, size_t *allcap)
{
	struct rk_reader *r;
	FILE *fp;

	if (aflag && !dflag) {
		/* the whole input, one text */
		if ((fp = name ? fopen(name, "r") : stdin) == NULL) {
			cannot_open(name);
			return;
		}
		slurp(fp, name ? name : RK_STDIN, all, alllen, allcap);
		if (name != NULL)
			fclose(fp);
		return;
	}
	if ((r = rk_reader_open(name)) == NULL) {
		cannot_open(name);
		return;
	}
	rk_reader_text_limit(r, rk_limits.document, "RK_MAX_DOCUMENT");
	run(r);
	rk_exit_status(rk_reader_status(r));
	rk_reader_free(r);
}

/*
 * The encoding of a model: its own, or for a model of the price table
 * whose tokenizer is not public (Anthropic's, Google's), cl100k_base as
 * an estimate.
 */
static const char *
model_encoding(const char *model)
{
	struct rk_prices prices;
	char msg[256];
	int known;

	if (rk_bpe_encoding_for(model) != NULL)
		return model;
	if (rk_prices_load(&prices, msg, sizeof(msg)) == -1)
		errx(RK_EXIT_CONFIG, "%s", msg);
	known = rk_price_find(&prices, model) != NULL;
	rk_prices_free(&prices);
	if (!known)
		errx(RK_EXIT_USAGE, "%s: unknown model", model);
	if (dflag || iflag)
		errx(RK_EXIT_USAGE, "%s: no public tokenizer, so no ids; "
		    "counts are estimates", model);
	estimate = 1;
	return "cl100k_base";
}

/* The table of -e encoding or -m model, once the options agree. */
static void
open_table(const char *enc, const char *model)
{
	if (enc != NULL && model != NULL)
		errx(RK_EXIT_USAGE, "-e and -m are exclusive");
	if (dflag && iflag)
		errx(RK_EXIT_USAGE, "-d and -i are exclusive");
	if (enc != NULL && (rk_bpe_encoding_for(enc) == NULL ||
	    strcmp(rk_bpe_encoding_for(enc), enc) != 0))
		errx(RK_EXIT_USAGE, "%s: unknown encoding (cl100k_base, "
		    "o200k_base)", enc);
	if ((bpe = rk_bpe_get(enc ? enc : model ? model_encoding(model) :
	    "cl100k_base")) == NULL)
		errx(RK_EXIT_IO, "%s", rk_bpe_error());
}

int
main(int argc, char *argv[])
{
	const char *enc = NULL, *model = NULL;
	struct rk_error e;
	char *all = NULL;
	size_t alllen = 0, allcap = 0;
	int c, i, act, compile = 0;

	if (rk_init(argv[0], &e) != 0)
		errx(e.code, "%s", e.msg);
	while ((c = rk_getopt(&cli, argc, argv)) != -1)
		switch (c) {
		case O_ALL: aflag = 1; break;
		case O_COMPILE: compile = 1; break;
		case O_DECODE: dflag = 1; break;
		case 'e': enc = optarg; break;
		case O_IDS: iflag = 1; break;
		case 'm': model = optarg; break;
		case O_SPECIAL: sflag = RK_BPE_SPECIAL; break;
		default:
			if ((act = rk_opt(&cli, c, optarg)) != RK_OPT_NEXT)
				return rk_opt_done(&cli, act);
		}
	argc -= optind;
	argv += optind;

	/* the build turns a .tiktoken rank file into a table */
	if (compile) {
		if (argc != 2)
			return rk_opt_done(&cli, RK_OPT_USAGE);
		if (rk_bpe_compile(argv[0], argv[1]) == -1)
			errx(RK_EXIT_IO, "%s", rk_bpe_error());
		return rk_finish();
	}
	open_table(enc, model);
	if (argc == 0) {
		static char *stdin_only[] = { "-", NULL };

		argv = stdin_only;
		argc = 1;
	}
	for (i = 0; i < argc; i++)
		read_file(strcmp(argv[i], "-") == 0 ? NULL : argv[i], &all,
		    &alllen, &allcap);
	if (aflag && dflag)
		put_text();
	else if (aflag && alllen > 0)
		text_line(all, alllen);
	free(all);
	free(ids.v);
	return rk_finish();
}
